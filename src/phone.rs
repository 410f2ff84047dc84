//! Caller ids: hidden-caller detection, E.164 normalisation with the restaurant's country, and
//! the masking that keeps full numbers out of the logs.

use std::fmt;

use phonenumber::Mode;
use phonenumber::country::Id;

/// A valid phone number in E.164 form, e.g. `+33612345678`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number read back from the database, where only normalised numbers are written.
    pub fn from_stored(number: &str) -> E164 {
        E164(number.to_string())
    }

    /// The national significant digits (`612345678` for `+33612345678`): what is left of the
    /// number in any written format, national or international.
    pub fn national_digits(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|n| n.national().to_string())
            .unwrap_or_else(|_| self.0.trim_start_matches('+').to_string())
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who called, as the pipeline needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A withheld caller id, kept as received.
    Hidden(String),
    Number(E164),
}

impl Caller {
    /// Classifies a caller id: hidden, or normalised with the restaurant's country.
    pub fn parse(raw: &str, country: &str) -> Result<Caller, PhoneError> {
        if is_hidden(raw) {
            Ok(Caller::Hidden(raw.to_string()))
        } else {
            normalise(raw, country).map(Caller::Number)
        }
    }

    /// What identifies the caller for idempotency: the E.164 number, or the hidden id as received.
    pub fn key(&self) -> &str {
        match self {
            Caller::Hidden(raw) => raw,
            Caller::Number(n) => n.as_str(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("unknown country code {0:?}")]
    UnknownCountry(String),
    #[error("{0:?} is not a phone number")]
    Unparseable(String),
    #[error("{0:?} is not a valid phone number for {1}")]
    Invalid(String, String),
}

const HIDDEN_WORDS: [&str; 9] = [
    "anonymous",
    "private",
    "restricted",
    "unknown",
    "unavailable",
    "withheld",
    "blocked",
    "hidden",
    "anonymous@anonymous.invalid",
];

/// Numbers carriers send in place of a withheld caller id.
const HIDDEN_CARRIER_ENCODINGS: [&str; 5] = [
    "+266696687",
    "+7378742833",
    "+86282452253",
    "+2562533",
    "+8656696",
];

/// Whether a caller id means "the caller withheld their number".
pub fn is_hidden(raw: &str) -> bool {
    let text = raw.trim().to_ascii_lowercase();
    let word = text.strip_prefix("sip:").unwrap_or(&text);
    if HIDDEN_WORDS.contains(&word) || HIDDEN_CARRIER_ENCODINGS.contains(&text.as_str()) {
        return true;
    }
    let digits = text.strip_prefix('+').unwrap_or(&text);
    !digits.is_empty() && digits.chars().all(|c| c == '0')
}

/// Whether `country` is an ISO 3166-1 alpha-2 code the phone metadata knows.
pub fn is_known_country(country: &str) -> bool {
    country.parse::<Id>().is_ok()
}

/// Normalises a number to E.164, reading national formats with the restaurant's country.
/// The number must be valid for its region.
pub fn normalise(raw: &str, country: &str) -> Result<E164, PhoneError> {
    let region: Id = country
        .parse()
        .map_err(|_| PhoneError::UnknownCountry(country.to_string()))?;
    let trimmed = raw.trim();
    // `00` is the international prefix nearly everywhere (not in North America, whose own
    // prefix is 011); read it as `+` so that `0033…` works for every restaurant.
    let text = match trimmed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => trimmed.to_string(),
    };
    let number = phonenumber::parse(Some(region), &text)
        .map_err(|_| PhoneError::Unparseable(raw.to_string()))?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid(raw.to_string(), country.to_string()));
    }
    Ok(E164(number.format().mode(Mode::E164).to_string()))
}

/// A stored E.164 number as the restaurant writes numbers: the national format of its own
/// country (`06 12 34 56 78` in France), the international one for a foreign number.
pub fn display(e164: &str, country: &str) -> String {
    let Ok(number) = phonenumber::parse(None, e164) else {
        return e164.to_string();
    };
    let home = country.parse::<Id>().ok();
    let mode = if home.is_some() && number.country().id() == home {
        Mode::National
    } else {
        Mode::International
    };
    number.format().mode(mode).to_string()
}

/// Loads the phone metadata now, so that the first report does not pay for it.
pub fn warm_up() {
    let _ = normalise("+33612345678", "FR");
}

/// A number as the logs may show it: the first 6 characters, the rest hidden.
pub fn mask(number: &str) -> String {
    let shown: String = number.chars().take(6).collect();
    if number.chars().count() > 6 {
        format!("{shown}***")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_national_and_international_formats_are_one_number() {
        for raw in [
            "06 12 34 56 78",
            "0612345678",
            "+33 6 12 34 56 78",
            "0033612345678",
            "+33612345678",
        ] {
            assert_eq!(
                normalise(raw, "FR").map(|n| n.0),
                Ok("+33612345678".into()),
                "{raw}"
            );
        }
    }

    #[test]
    fn withheld_caller_ids_are_hidden() {
        for raw in [
            " Anonymous ",
            "PRIVATE",
            "sip:anonymous@anonymous.invalid",
            "0000",
            "+000",
            "+266696687",
            "withheld",
        ] {
            assert!(is_hidden(raw), "{raw}");
        }
        assert!(!is_hidden("+33612345678"));
        assert!(!is_hidden("+"));
    }

    #[test]
    fn national_digits_drop_the_country_code() {
        let number = normalise("06 12 34 56 78", "FR").expect("valid");
        assert_eq!(number.national_digits(), "612345678");
    }

    #[test]
    fn masking_keeps_six_characters() {
        assert_eq!(mask("+33612345678"), "+33612***");
        assert_eq!(mask("+3361"), "+3361");
    }
}
