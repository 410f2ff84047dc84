//! Booking links (SPEC §9): the token each claimed dispatch gets, the link a message carries, and
//! the booking page a click is sent on to, with the tracking query that names the token.

use url::Url;

use crate::secret::{random_alphanumeric, time_stamp};

/// 8 characters of time, then 24 random alphanumeric ones (about 143 random bits): URL-safe,
/// unguessable, never reused. The time first makes each new token land at the end of the token
/// index, as ids do, instead of on a random page that every report's commit would rewrite.
pub fn new_link_token() -> String {
    format!("{}{}", time_stamp(), random_alphanumeric(24))
}

/// Is `s` shaped like a link token? Anything else is not looked up.
pub fn is_link_token(s: &str) -> bool {
    (22..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The link a message carries: through this box when it has a public address, so the click is
/// counted; else straight to the booking page, with the token in its query for a booking system
/// that passes it back as `ref`. Without a booking page there is nowhere to send a guest: empty.
pub fn booking_link(public_url: &str, booking_url: Option<&str>, token: &str) -> String {
    let Some(booking_url) = booking_url else {
        return String::new();
    };
    let public_url = public_url.trim_end_matches('/');
    if public_url.is_empty() {
        tracked_booking_url(booking_url, token)
    } else {
        format!("{public_url}/r/{token}")
    }
}

/// The restaurant's booking page with `utm_source=whatsapp&utm_medium=missed_call&
/// utm_campaign=ringback&rb_ref={token}` added to its query; its own parameters and fragment are
/// kept. A booking URL that does not parse is returned as it is: the guest still gets there.
pub fn tracked_booking_url(booking_url: &str, token: &str) -> String {
    let Ok(mut url) = Url::parse(booking_url) else {
        return booking_url.to_string();
    };
    url.query_pairs_mut()
        .append_pair("utm_source", "whatsapp")
        .append_pair("utm_medium", "missed_call")
        .append_pair("utm_campaign", "ringback")
        .append_pair("rb_ref", token);
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracking_query_keeps_the_booking_pages_own_parameters_and_fragment() {
        let url = tracked_booking_url("https://book.example/chez?lang=fr&x=a%20b#top", "TOKEN");
        assert_eq!(
            url,
            "https://book.example/chez?lang=fr&x=a%20b&utm_source=whatsapp&utm_medium=missed_call\
             &utm_campaign=ringback&rb_ref=TOKEN#top"
        );
    }

    #[test]
    fn with_a_public_url_the_link_goes_through_the_box() {
        let link = booking_link("https://rb.example/", Some("https://book.example"), "T");
        assert_eq!(link, "https://rb.example/r/T");
    }

    #[test]
    fn without_a_booking_page_there_is_no_link_even_with_a_public_url() {
        assert_eq!(booking_link("https://rb.example", None, "T"), "");
    }

    #[test]
    fn tokens_are_long_url_safe_and_distinct() {
        let (a, b) = (new_link_token(), new_link_token());
        assert!(is_link_token(&a) && a.len() == 32 && a != b);
    }
}
