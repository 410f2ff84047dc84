//! What a WhatsApp reply asks for (SPEC §10): its whole text, trimmed, without case or accents,
//! is a STOP word or a START word — or it is a message for the restaurant, which ringback
//! ignores (it is not an inbox). "Stop" inside a sentence is not a STOP.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Stop,
    Start,
}

const STOP_WORDS: [&str; 7] = [
    "STOP",
    "STOP ALL",
    "ARRET",
    "ARRETER",
    "UNSUBSCRIBE",
    "DESABONNER",
    "DESINSCRIRE",
];
const START_WORDS: [&str; 2] = ["START", "REPRENDRE"];

/// `Some` when the whole text is a STOP or a START word. Runs of spaces count as one, and a
/// full stop or exclamation mark at the end is allowed ("Stop." from a phone's keyboard).
pub fn classify(text: &str) -> Option<Reply> {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect();
    let words: Vec<&str> = folded
        .trim()
        .trim_end_matches(['.', '!'])
        .split_whitespace()
        .collect();
    let text = words.join(" ");
    if STOP_WORDS.contains(&text.as_str()) {
        Some(Reply::Stop)
    } else if START_WORDS.contains(&text.as_str()) {
        Some(Reply::Start)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_stop_word_is_a_stop_in_any_case_and_with_or_without_accents() {
        for text in [
            "STOP",
            "stop",
            " Stop ",
            "stop all",
            "Stop  All",
            "ARRET",
            "Arrêt",
            "arrêter",
            "ARRÊTER",
            "unsubscribe",
            "Désabonner",
            "DÉSABONNER",
            "désinscrire",
            "Stop.",
            "STOP!",
        ] {
            assert_eq!(classify(text), Some(Reply::Stop), "{text:?}");
        }
    }

    #[test]
    fn start_and_reprendre_are_a_start() {
        for text in ["START", "start", " Reprendre ", "REPRENDRE"] {
            assert_eq!(classify(text), Some(Reply::Start), "{text:?}");
        }
    }

    #[test]
    fn a_stop_inside_a_sentence_or_any_other_message_is_not_a_stop() {
        for text in [
            "please stop calling me",
            "Stop by tomorrow?",
            "stopp",
            "STOP ALL NOW",
            "",
            "Merci, à demain",
            "🛑",
        ] {
            assert_eq!(classify(text), None, "{text:?}");
        }
    }
}
