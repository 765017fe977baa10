//! [`RequestHead`]: a request as the core reads it, the input twin of [`Reply`](super::Reply).

use super::RequestCookies;
use std::fmt;

/// The head of an HTTP request — method, target (path and query) and headers — in framework-neutral
/// terms, with its cookies parsed once ([`RequestCookies`]). Every core function that answers a
/// request reads it from here: an adapter converts its framework's request once and parses nothing
/// itself.
///
/// Header names are compared ASCII case-insensitively; values are kept as raw bytes (they need not
/// be UTF-8), and [`header`](Self::header) returns only values that are. `Debug` shows the method,
/// the path without its query (which may carry a code, `state` or a ticket) and the header names,
/// never a value.
#[derive(Clone, Default)]
pub struct RequestHead {
    method: String,
    target: String,
    /// Every header's name (lowercase) and value, back to back: one allocation for all of them.
    bytes: Vec<u8>,
    /// Per header, in the order received (a name may repeat): where its name starts, where its
    /// value starts, where its value ends, in `bytes`.
    spans: Vec<[usize; 3]>,
    cookies: RequestCookies,
}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query = if self.target.contains('?') {
            "?[redacted]"
        } else {
            ""
        };
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("target", &format_args!("{:?}{query}", self.path()))
            .field(
                "headers",
                &self
                    .headers()
                    .map(|(name, _)| String::from_utf8_lossy(name))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RequestHead {
    /// A request head from its method (`GET`, `POST`, …), its target as the client sent it (path and
    /// query, e.g. `/callback?code=…&state=…`; a nested router's adapter passes the original, full
    /// path) and every header as `(name, raw value)`. The `Cookie` headers are parsed here.
    pub fn new<'a>(
        method: &str,
        target: &str,
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Self {
        let mut head = Self {
            method: method.to_owned(),
            target: target.to_owned(),
            ..Self::default()
        };
        for (name, value) in headers {
            head.push(name, value);
        }
        head.cookies = RequestCookies::from_headers(head.header_values("cookie"));
        head
    }

    fn push(&mut self, name: &str, value: &[u8]) {
        let start = self.bytes.len();
        self.bytes
            .extend(name.bytes().map(|b| b.to_ascii_lowercase()));
        let value_start = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.spans.push([start, value_start, self.bytes.len()]);
    }

    /// Every header as `(lowercase name, raw value)`, in order.
    fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.spans.iter().filter_map(|&[name, value, end]| {
            Some((self.bytes.get(name..value)?, self.bytes.get(value..end)?))
        })
    }

    /// A `GET` of `target` without headers.
    pub fn get(target: &str) -> Self {
        Self::new("GET", target, [])
    }

    /// This head with one more header (a `Cookie` header adds to [`cookies`](Self::cookies)).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.push(name, value.as_ref());
        if name.eq_ignore_ascii_case("cookie") {
            self.cookies = RequestCookies::from_headers(self.header_values("cookie"));
        }
        self
    }

    /// The method, as sent (`GET`, `POST`, …).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Path and query, as sent.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path: the target up to `?`.
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    /// The query string without `?` (still percent-encoded); empty when there is none.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }

    /// Every value of the header `name`, as raw bytes, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
    }

    /// The first value of the header `name`, when it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.first(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Whether the request carries the header `name`.
    pub fn has_header(&self, name: &str) -> bool {
        self.first(name).is_some()
    }

    fn first(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
    }

    /// The request's cookies.
    pub fn cookies(&self) -> &RequestCookies {
        &self.cookies
    }
}
