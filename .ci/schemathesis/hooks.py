"""Schemathesis hooks for ringback's partner API.

A request the OpenAPI document admits must be accepted, except for the refusals no schema can
state, each named here with why. Everything else of `positive_data_acceptance` holds as it is.
"""

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

# (field, what its message says): refusals that depend on something a schema cannot know.
REFUSALS_NO_SCHEMA_CAN_STATE = [
    # Whether a number is a valid phone number depends on the restaurant's country and on
    # numbering plans no pattern can hold.
    ("caller_phone_number", "not a valid phone number"),
    ("phone_number", "not a valid phone number"),
    ("customer.phone_number", "not a valid phone number"),
    # "Not more than max_future_skew_seconds after now": the document cannot say when now is.
    ("occurred_at", "in the future"),
    # An opaque cursor is one the API gave; a string of the same form may not be.
    ("cursor", "not one this API gave"),
    # Rules on what is already stored: an id used earlier for another caller, a customer to
    # create for a reservation that has none yet.
    ("external_call_id", "already used"),
    ("customer.phone_number", "required when the reservation has no customer yet"),
]


def _named_refusal(response):
    if response.status_code != 422:
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    field = (error.get("details") or {}).get("field")
    message = error.get("message") or ""
    for name, says in REFUSALS_NO_SCHEMA_CAN_STATE:
        if field == name and says in message:
            return name
    return None


@schemathesis.check
def positive_data_acceptance_but_named_refusals(ctx, response, case):
    """Valid data is accepted, but for the refusals a schema cannot state (named above)."""
    if _named_refusal(response) is not None:
        return None
    return positive_data_acceptance(ctx, response, case)
