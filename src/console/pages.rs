//! The console's pages and their assets, embedded in the binary (no CDN, nothing fetched from
//! the internet: the box may have none).

use std::sync::LazyLock;

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::RustEmbed;

use super::language::{Lang, Words};
use super::session::ConsoleUser;

#[derive(RustEmbed)]
#[folder = "src/console/assets/"]
struct Assets;

/// Where the login page shows why a sign-in failed.
const MESSAGE_MARKER: &str = "<!--message-->";

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn asset_text(name: &str) -> String {
    Assets::get(name)
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .unwrap_or_default()
}

/// The pages in each language, made once: `(console, login)`.
static PAGES: LazyLock<[(String, String); 2]> = LazyLock::new(|| {
    let (index, login) = (asset_text("index.html"), asset_text("login.html"));
    Lang::ALL.map(|lang| {
        (
            render_page(&index, lang.words()),
            render_page(&login, lang.words()),
        )
    })
});

/// The login page in `lang`, with `message` (already HTML) where the page keeps it.
pub fn login_page(status: StatusCode, lang: Lang, message: Option<&str>) -> Response {
    let page = PAGES[lang as usize]
        .1
        .replace(MESSAGE_MARKER, message.unwrap_or(""));
    html(status, page)
}

/// `GET /console/login`: the form, or the console for someone already signed in.
pub async fn get_login(user: Option<ConsoleUser>, lang: Lang) -> Response {
    match user {
        Some(_) => Redirect::to("/console/").into_response(),
        None => login_page(StatusCode::OK, lang, None),
    }
}

/// `GET /console/`: the console for a signed-in user, else the login page.
pub async fn get_console(user: Option<ConsoleUser>, lang: Lang) -> Response {
    match user {
        Some(_) => html(StatusCode::OK, PAGES[lang as usize].0.clone()),
        None => Redirect::to("/console/login").into_response(),
    }
}

/// Any other path under `/console/`: the error envelope, with the console's headers.
pub async fn console_not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("no such console page".into())
}

/// `GET /console`: the same page at its canonical address.
pub async fn redirect_to_console() -> Redirect {
    Redirect::permanent("/console/")
}

/// `GET /console/assets/{file}`.
pub async fn get_asset(
    file: Result<Path<String>, PathRejection>,
    request_headers: HeaderMap,
) -> Response {
    let file = file.map(|Path(f)| f).unwrap_or_default();
    let Some(asset) = Assets::get(&file).filter(|_| !file.ends_with(".html")) else {
        return crate::error::ApiError::NotFound("no such file".into()).into_response();
    };
    let etag = format!("\"{}\"", hex(&asset.metadata.sha256_hash()[..8]));
    if request_headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = match file.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let mut response = asset.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Revalidated each time: an upgraded binary serves its new pages at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// A page's text with `{{ id }}` replaced by the message (HTML-escaped), `{{lang}}` by the
/// language's tag, and `<!--messages-->` by the messages the script reads.
pub fn render_page(template: &str, words: &Words) -> String {
    let mut out = String::with_capacity(template.len() + words.client_messages().len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let id = after[..end].trim();
        if id == "lang" {
            out.push_str(words.lang().code());
        } else {
            out.push_str(&escape_html(&words.get(id)));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out.replace(
        "<!--messages-->",
        &format!(
            "<script type=\"application/json\" id=\"messages\">{}</script>",
            words.client_messages()
        ),
    )
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_page_gets_its_words_escaped_and_the_script_s_messages_cannot_close_the_script() {
        let words = Lang::En.words();
        let page = render_page(
            "<html lang=\"{{lang}}\"><th>{{ column-date }}</th><!--messages-->",
            words,
        );
        assert!(page.starts_with("<html lang=\"en\"><th>Date &amp; time</th><script"));
        assert!(!words.client_messages().contains('<'));
        let parsed: Value = serde_json::from_str(words.client_messages()).expect("json");
        assert_eq!(parsed["column-date"], "Date & time");
        assert_eq!(parsed["clicks"][0]["s"], "n");
    }
}
