//! [`RequestCookies`]: the `Cookie` header, parsed once per request (RFC 6265 §5.4).

use std::fmt;

/// The cookies a request carries, parsed once from its `Cookie` headers (RFC 6265 §5.4). Only
/// SP and HTAB around names and values are trimmed (RFC 6265 §5.2 step 4), and pairs whose name is
/// not an RFC 6265 §4.1.1 token are skipped: a `\u{A0}__Host-genauth_session` set by a sibling
/// subdomain does not pose as `__Host-genauth_session`. `Debug` shows names only.
///
/// A name sent more than once reads as absent ([`get`](Self::get) is `None`): browsers order
/// same-named cookies by path, not by origin, so the genuine one (say, `__Host-` protected) cannot
/// be told from one another site planted (RFC 6265bis §8.6). A session or login cookie sent twice
/// is therefore no session and no login in progress.
#[derive(Clone, Default)]
pub struct RequestCookies {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for RequestCookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.pairs.iter().map(|(name, _)| name))
            .finish()
    }
}

/// SP and HTAB, the whitespace RFC 6265 §5.2 trims (not Unicode whitespace such as NBSP).
fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Whether `name` is an RFC 6265 §4.1.1 cookie name: an RFC 2616 token (visible ASCII but
/// separators).
fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

impl RequestCookies {
    /// Parses every `Cookie` header value (raw bytes; values that are not UTF-8 are skipped, as
    /// are pairs whose name is not a token).
    pub fn from_headers<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut pairs = Vec::new();
        for value in values {
            let Ok(text) = std::str::from_utf8(value) else {
                continue;
            };
            for pair in text.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let name = trim_wsp(name);
                if !is_cookie_name(name) {
                    continue;
                }
                let value = trim_wsp(value);
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                pairs.push((name.to_owned(), value.to_owned()));
            }
        }
        Self { pairs }
    }

    /// The value of the cookie called `name`; `None` when it was not sent, or sent more than once.
    pub fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some((_, value)), None) => Some(value.as_str()),
            (Some(_), Some(_)) => {
                tracing::warn!(cookie = name, "cookie sent more than once; ignoring it");
                None
            }
            _ => None,
        }
    }

    /// Whether a cookie called `name` was sent (once or more).
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }
}
