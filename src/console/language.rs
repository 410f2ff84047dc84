//! The console's languages (SPEC §9, Language): French and English, the words of each kept in a
//! Project Fluent file (`i18n/en.ftl`, `i18n/fr.ftl`) and nowhere in code. The server
//! formats what it answers (pages, statuses, reasons, errors, the CSV's words); the page gets the
//! same messages, compiled to a small JSON form its script formats with the browser's `Intl`.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use serde_json::{Map, Value, json};

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 tag: `<html lang>`, `Content-Language`, the user's setting.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// `fr`, `FR`, `fr-CA`, `en-GB`…: the language, whatever its region.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The best supported match of an `Accept-Language` header (RFC 9110 §12.5.4): the highest
    /// `q` among the languages spoken here, the first of equals; `q=0` is a refusal, and a `q`
    /// that is not a number from 0 to 1 makes its entry ignored.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for entry in header.split(',').take(MOST_LANGUAGE_RANGES) {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .map(|q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                })
                .next()
                .unwrap_or(Some(1.0));
            match q {
                Some(q) if q > 0.0 && best.is_none_or(|(_, b)| q > b) => best = Some((lang, q)),
                _ => {}
            }
        }
        best.map(|(lang, _)| lang)
    }

    pub fn words(self) -> &'static Words {
        &WORDS[self as usize]
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Language ranges of an `Accept-Language` header looked at; browsers send a handful.
const MOST_LANGUAGE_RANGES: usize = 32;

const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("i18n/en.ftl")),
    (Lang::Fr, include_str!("i18n/fr.ftl")),
];

static WORDS: LazyLock<[Words; 2]> = LazyLock::new(|| Lang::ALL.map(Words::load));

/// One language's messages.
pub struct Words {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
    /// The messages as the page's script reads them (`client_messages`).
    client: String,
}

/// An argument of a message.
pub type Arg<'a> = (&'a str, FluentValue<'a>);

impl Words {
    fn load(lang: Lang) -> Words {
        let source = SOURCES[lang as usize].1;
        // The files are compiled in and a unit test parses them: an error here is a build that
        // never passed its tests, and the messages that did parse are still served.
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
        let tag = lang
            .code()
            .parse()
            .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
        let mut bundle = FluentBundle::new_concurrent(vec![tag]);
        // Plain text: no Unicode isolation marks around values (they would end up in the CSV).
        bundle.set_use_isolating(false);
        let _ = bundle.add_resource(resource);
        Words {
            lang,
            bundle,
            client: compile(source),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message `id` without arguments; the id itself if the message is missing (a test
    /// makes sure none is).
    pub fn get(&self, id: &str) -> String {
        self.format(id, &[])
    }

    /// The message `id` with `args`.
    pub fn format(&self, id: &str, args: &[Arg<'_>]) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = vec![];
        self.bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// Every message, as a JSON object the page's script formats (`app.js`, `t()`): a pattern is
    /// a string, or a list of strings, `{"v": name}` (a variable), `{"m": id}` (another message)
    /// and `{"s": name, "k": {key: pattern}, "d": default key}` (a choice, by plural category).
    pub fn client_messages(&self) -> &str {
        &self.client
    }
}

/// The messages of an FTL source in the page's JSON form; `<` is escaped so that the JSON can
/// sit inside the page's `<script type="application/json">`.
fn compile(source: &str) -> String {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    let mut messages = Map::new();
    for entry in &resource.body {
        if let ast::Entry::Message(message) = entry
            && let Some(value) = &message.value
        {
            messages.insert(message.id.name.to_string(), pattern(value));
        }
    }
    Value::Object(messages).to_string().replace('<', "\\u003c")
}

fn pattern(p: &ast::Pattern<&str>) -> Value {
    let parts: Vec<Value> = p
        .elements
        .iter()
        .map(|element| match element {
            ast::PatternElement::TextElement { value } => json!(value),
            ast::PatternElement::Placeable { expression } => expression_json(expression),
        })
        .collect();
    match parts.as_slice() {
        [Value::String(_)] => parts.into_iter().next().unwrap_or_default(),
        _ => Value::Array(parts),
    }
}

fn expression_json(e: &ast::Expression<&str>) -> Value {
    match e {
        ast::Expression::Inline(inline) => inline_json(inline),
        ast::Expression::Select { selector, variants } => {
            let name = match selector {
                ast::InlineExpression::VariableReference { id } => id.name,
                _ => "",
            };
            let mut keys = Map::new();
            let mut default = String::new();
            for v in variants {
                let key = match &v.key {
                    ast::VariantKey::Identifier { name } => name.to_string(),
                    ast::VariantKey::NumberLiteral { value } => value.to_string(),
                };
                if v.default {
                    default = key.clone();
                }
                keys.insert(key, pattern(&v.value));
            }
            json!({"s": name, "k": keys, "d": default})
        }
    }
}

fn inline_json(e: &ast::InlineExpression<&str>) -> Value {
    match e {
        ast::InlineExpression::StringLiteral { value } => json!(value),
        ast::InlineExpression::NumberLiteral { value } => json!(value),
        ast::InlineExpression::VariableReference { id } => json!({"v": id.name}),
        ast::InlineExpression::MessageReference { id, .. } => json!({"m": id.name}),
        ast::InlineExpression::Placeable { expression } => expression_json(expression),
        // Functions and terms are not used by the console's files.
        _ => json!(""),
    }
}

/// The ids of the messages of an FTL source (attributes are not used).
#[cfg(test)]
fn ids(source: &str) -> Vec<String> {
    let resource = fluent_syntax::parser::parse(source).expect("the file parses without error");
    resource
        .body
        .iter()
        .filter_map(|e| match e {
            ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_message_is_in_both_languages() {
        let en: BTreeSet<_> = ids(SOURCES[0].1).into_iter().collect();
        let fr: BTreeSet<_> = ids(SOURCES[1].1).into_iter().collect();
        let missing_in_fr: Vec<_> = en.difference(&fr).collect();
        let missing_in_en: Vec<_> = fr.difference(&en).collect();
        assert!(
            missing_in_fr.is_empty() && missing_in_en.is_empty(),
            "missing in fr.ftl: {missing_in_fr:?}; missing in en.ftl: {missing_in_en:?}"
        );
    }

    /// Every message the code, the pages and the script ask for exists: `get("id")` and
    /// `format("id"` in Rust, `{{ id }}` in the pages, `t("id"` in the script.
    #[test]
    fn every_message_the_console_uses_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src/console/");
        let mut used = BTreeSet::new();
        let patterns = [
            (
                r#"\b(?:words|words\(\))\.(?:get|format)\(\s*"([a-z0-9_\-A-Z]+)""#,
                "rs",
            ),
            (r#"\{\{\s*([a-zA-Z0-9_\-]+)\s*\}\}"#, "html"),
            (r#"\bt\(\s*"([a-zA-Z0-9_\-]+)""#, "js"),
        ];
        let mut files = vec![];
        for dir in [root.to_string(), format!("{root}assets/")] {
            for entry in std::fs::read_dir(&dir).expect("console dir") {
                files.push(entry.expect("entry").path());
            }
        }
        for path in files {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            for (pattern, kind) in patterns {
                if kind != ext {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read");
                let re = regex::Regex::new(pattern).expect("regex");
                for c in re.captures_iter(&text) {
                    used.insert(c[1].to_string());
                }
            }
        }
        used.remove("lang");
        assert!(used.len() > 60, "the scan found too few ids: {used:?}");
        for lang in Lang::ALL {
            let missing: Vec<_> = used.iter().filter(|id| !lang.words().has(id)).collect();
            assert!(missing.is_empty(), "{lang}: no message {missing:?}");
        }
    }

    #[test]
    fn the_best_accepted_language_by_quality_wins_and_a_refused_one_never() {
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(
            Lang::from_accept_language("de-DE, en;q=0.5, fr;q=0.7"),
            Some(Lang::Fr)
        );
        assert_eq!(
            Lang::from_accept_language("en-GB;q=0.3, fr-CA;q=0.2"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=0, en;q=0.1"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de, es"), None);
        assert_eq!(Lang::from_accept_language(""), None);
        assert_eq!(
            Lang::from_accept_language("fr;q=NaN, en;q=0.2"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("fr;q=inf, en;q=-1"), None);
        assert_eq!(Lang::from_accept_language("*, fr;q=0.5"), Some(Lang::Fr));
        let many = vec!["de;q=NaN"; 500].join(",") + ",fr";
        assert_eq!(
            Lang::from_accept_language(&many),
            None,
            "only the first ranges are read"
        );
    }

    /// Every status, template, delivery state and failure code the console can show has its
    /// words in both languages (their ids are made from codes, which the scan below cannot see).
    #[test]
    fn every_code_the_console_puts_in_words_has_a_message() {
        use crate::domain::DeliveryState;
        use crate::domain::Outcome;
        use crate::domain::TemplateType;
        let mut ids: Vec<String> = Outcome::ALL
            .iter()
            .map(|o| format!("status-{}", o.as_str()))
            .collect();
        ids.extend(
            TemplateType::ALL
                .iter()
                .map(|t| format!("template-{}", t.as_str())),
        );
        ids.extend(
            DeliveryState::ALL
                .iter()
                .map(|d| format!("delivery-{}", d.as_str())),
        );
        ids.extend(
            crate::console::words::KNOWN_FAILURES
                .iter()
                .map(|c| format!("failure-{c}")),
        );
        ids.extend(
            ["missing", "unreadable", "malformed", "wrong"].map(|k| format!("reason-key-file-{k}")),
        );
        ids.extend(["reply", "131050", "operator"].map(|w| format!("stopped-by-{w}")));
        for lang in Lang::ALL {
            let missing: Vec<_> = ids.iter().filter(|id| !lang.words().has(id)).collect();
            assert!(missing.is_empty(), "{lang}: no message {missing:?}");
        }
    }

    #[test]
    fn plurals_follow_each_language() {
        let count = |lang: Lang, n: i64| lang.words().format("calls-count", &[("n", n.into())]);
        assert_eq!(count(Lang::En, 1), "1 call");
        assert_eq!(count(Lang::En, 0), "0 calls");
        assert_eq!(count(Lang::Fr, 0), "0 appel");
        assert_eq!(count(Lang::Fr, 2), "2 appels");
    }
}
