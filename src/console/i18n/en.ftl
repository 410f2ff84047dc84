# The console's words in English (SPEC §9, Language). Every id here is also in fr.ftl: a test
# fails when one language lacks a message the other has.

language-name = English
page-title = Missed calls · ringback
sign-out = Sign out
restaurant = Restaurant
language = Language

## Sign-in page

login-title = Sign in · ringback
login-tagline = Missed calls and the WhatsApp messages that followed them.
login-username = Username
login-password = Password
login-submit = Sign in

## Filters

filter-from = From
filter-to = To
filter-caller = Caller number
filter-caller-example = e.g. 06 12 34 56 78
filter-status = Status
filter-status-hint = — none ticked shows all
filter-apply = Apply filters
filter-reset = Reset
export-csv = Download CSV

## Statuses: the labels of the log, the filters and the CSV

status-SENT = Sent
status-SKIPPED_COOLDOWN = Cooldown
status-SKIPPED_SUPPRESSED = Suppressed
status-SKIPPED_NO_WHATSAPP = No WhatsApp
status-SKIPPED_NO_TEMPLATE = No template
status-SKIPPED_HIDDEN_NUMBER = Hidden number
status-SKIPPED_LOW_BALANCE = Low balance
status-SKIPPED_FEATURE_DISABLED = Feature disabled
status-SKIPPED_STALE = Stale
status-UNDELIVERABLE = Undeliverable
status-FAILED = Failed
status-DISPATCHING = In progress
status-SKIPPED_DUPLICATE = Duplicate

template-MISSED_CALL = Missed call
template-MISSED_CALL_WITH_RESERVATION = With reservation

delivery-sent = Sent
delivery-delivered = Delivered
delivery-read = Read
delivery-failed = Failed

## Indicators and chart

summary = Summary
period = { $from } – { $to }
indicator-missed_calls = Missed calls
indicator-missed_calls-hint = calls nobody picked up
indicator-messages_sent = Messages sent
indicator-messages_sent-hint = WhatsApp follow-ups
indicator-booking_conversions = Bookings
indicator-booking_conversions-hint = made from a message
indicator-conversion_rate = Conversion
indicator-conversion_rate-hint = bookings per message sent
chart-title = Last 30 days
chart-missed = Missed calls
chart-sent = Messages sent
chart-booked = Bookings
chart-label = Missed calls, messages sent and bookings per day over the last 30 days
chart-today = Today
day-summary = { $missed } missed · { $sent } sent · { $booked } booked
chart-total = Total: { $summary }

## The call log

log-title = Call log
column-date = Date & time
column-caller = Caller
column-customer = Customer
column-status = Status
column-template = Template
column-delivery = Delivery
column-clicked = Clicked
column-booked = Booked
log-empty = No missed calls match these filters.
page-newer = ← Newer calls
page-older = Older calls →
pager = Pages of the log
calls-count = { $n ->
    [one] { $n } call
   *[other] { $n } calls
}
page-number = page { $page }
caller-hidden = Hidden number
caller-forgotten = Forgotten caller
customer-new = New customer
customer-returning = Returning caller
clicks = { $n ->
    [one] { $n } click
   *[other] { $n } clicks
}
booked = Booked
booked-canceled = canceled

## A call opened

detail-open = Details
detail-close = Close
detail-title = What was sent
detail-nothing = No message was sent for this call.
detail-template = Template
detail-language = Language
detail-parameters = Parameters
detail-link = Booking link
detail-message-id = Message id
detail-sent-at = Sent
detail-delivered-at = Delivered
detail-read-at = Read
detail-clicks = Clicks on the link
detail-unknown = not known
detail-call-back = Call back

## Stopping messages to a customer

customer-stop = Stop messages
customer-resume = Resume messages
customer-stop-confirm = Stop WhatsApp messages to { $caller }? They can be resumed here.
stopped-by-operator = Messages stopped by the restaurant
stopped-by-reply = The guest answered STOP
stopped-by-131050 = The guest stopped the restaurant's marketing messages in WhatsApp
stopped-only-guest = Only the guest can undo this.
customer-stopped = Messages to { $caller } are stopped.
customer-resumed = Messages to { $caller } are resumed.

## Reasons: why a call ended as it did

which-call = { $which ->
    [earlier] an earlier
   *[later] a later
}
reason-cooldown-today = message sent at { $time } for { which-call } call
reason-cooldown-day = message sent on { $day } at { $time } for { which-call } call
reason-cooldown = a message went to this number less than { $duration } before or after
reason-stale = reported { $late } after the call; calls older than { $limit } are not answered
reason-no-template = no approved, active “{ $template }” template
reason-key-file-missing = the WhatsApp access token cannot be decrypted: the key file { $file } is missing
reason-key-file-unreadable = the WhatsApp access token cannot be decrypted: the key file { $file } cannot be read
reason-key-file-malformed = the WhatsApp access token cannot be decrypted: the key file { $file } is not a ringback key
reason-key-file-wrong = the WhatsApp access token cannot be decrypted: the key file { $file } is not the key the access token was sealed with
reason-SKIPPED_FEATURE_DISABLED = missed-call messages are off for the restaurant
reason-SKIPPED_NO_WHATSAPP = the restaurant has no WhatsApp number connected
reason-SKIPPED_HIDDEN_NUMBER = the caller's number was hidden
reason-SKIPPED_SUPPRESSED = the customer asked for no WhatsApp messages
reason-SKIPPED_LOW_BALANCE = the WhatsApp balance was below the cost of a message
reason-DISPATCHING = the message is being sent
reason-failed = { $why }; { $next }
failure-131050 = the customer has stopped marketing messages from the restaurant
failure-131049 = WhatsApp held the message back: this customer got many marketing messages lately
failure-131026 = the number cannot receive this WhatsApp message
failure-132001 = the template does not exist at Meta in this language
failure-132000 = the template at Meta has a different number of parameters
failure-timeout = WhatsApp did not answer in time
failure-transport = WhatsApp could not be reached
failure-interrupted = the send was interrupted by a restart
failure-busy = too many messages were waiting for WhatsApp
failure-said = WhatsApp said: { $message } (code { $code })
failure-code = WhatsApp error { $code }
failure-other = the send failed
retry-partner = the PBX's retry sends it again
retry-today = ringback sends it again at { $time }
retry-day = ringback sends it again on { $day } at { $time }
retry-too-old = too old to send again
duration-minutes = { $m } min
duration-hours = { $h } h
duration-hours-minutes = { $h } h { $m } min
# A day in a reason: "Mon 7 Dec".
day-short = { $weekday ->
    [1] Mon
    [2] Tue
    [3] Wed
    [4] Thu
    [5] Fri
    [6] Sat
   *[7] Sun
} { $day } { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}

## Errors, by code (and field)

error-generic = Something went wrong. Please try again.
error-server-status = The server answered { $status }. Please try again.
error-no-restaurant = No restaurant is linked to this account yet.
error-UNAUTHORIZED = Please sign in again.
error-INVALID_CREDENTIALS = Wrong username or password.
error-RATE_LIMITED = Too many failed sign-ins. Try again in { $retry_after_seconds } s.
error-FORBIDDEN = This request must come from the console's own pages.
error-NOT_FOUND = Not found.
error-METHOD_NOT_ALLOWED = This action is not possible here.
error-MALFORMED_REQUEST = The request could not be read.
error-UNSUPPORTED_MEDIA_TYPE = The request could not be read.
error-PAYLOAD_TOO_LARGE = The request is too large.
error-REQUEST_TIMEOUT = The request took too long to arrive. Please try again.
error-URI_TOO_LONG = The address is too long.
error-SERVICE_BUSY = ringback is busy. Please try again in a moment.
error-STORAGE_UNAVAILABLE = The database cannot store anything right now. Please try again in a moment.
error-INTERNAL_ERROR = Something went wrong on the server. Please try again.
error-SUPPRESSION_NOT_OPERATOR = The guest stopped these messages themselves: only they can undo it.
error-VALIDATION_ERROR = Please check the filters.
error-VALIDATION_ERROR-restaurant = Please choose a restaurant.
error-VALIDATION_ERROR-from = “From” must be a date like 2026-05-10.
error-VALIDATION_ERROR-to = “To” must be a date like 2026-05-10, on or after “From”.
error-VALIDATION_ERROR-status = A status in the filter is not known.
error-VALIDATION_ERROR-caller = This is not a phone number.
error-VALIDATION_ERROR-limit = A page holds 1 to 200 calls.
error-VALIDATION_ERROR-cursor = This page no longer exists: start again from the first page.
error-VALIDATION_ERROR-days = The chart shows 1 to 366 days.
error-VALIDATION_ERROR-sep = The separator is “comma” or “semicolon”.
error-VALIDATION_ERROR-lang = The language is “en” or “fr”.
error-VALIDATION_ERROR-suppressed = Say whether messages are stopped (true) or not (false).
