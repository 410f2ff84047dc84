//! Any caller id, for any restaurant country: classification, normalisation and masking never
//! panic, and a normalised number is E.164 and normalises to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringback::phone::{Caller, is_hidden, mask, normalise};

const COUNTRIES: [&str; 6] = ["FR", "US", "GB", "DE", "BR", "ZZ"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let country = COUNTRIES[pick as usize % COUNTRIES.len()];
    let raw = String::from_utf8_lossy(rest);
    let _ = is_hidden(&raw);
    let _ = mask(&raw);
    if let Ok(Caller::Number(number)) = Caller::parse(&raw, country) {
        assert!(number.as_str().starts_with('+'));
        let again = normalise(number.as_str(), country).expect("an E.164 number stays valid");
        assert_eq!(again, number);
    }
});
