//! The bodies the example routes answer with: the same for the axum and actix-web examples, so one
//! end-to-end script drives either.

use genauth::session::AuthUser;
use std::net::SocketAddr;

/// `GET /` of the web examples: the sign-in state as a small HTML page. Signed in, it contains
/// `Signed in as <name>` and links to `/profile` and `/logout`; signed out, `Not signed in` and a
/// link to `/login`.
pub fn home_page(user: Option<&AuthUser>) -> String {
    let body = match user {
        Some(user) => format!(
            "<p>Signed in as <b>{}</b> (sub <code>{}</code>).</p>\
             <p><a href=\"/profile\">Profile (claims as JSON)</a> · <a href=\"/logout\">Sign out</a></p>",
            escape(user.display_name().unwrap_or(&user.sub)),
            escape(&user.sub)
        ),
        None => "<p>Not signed in.</p><p><a href=\"/login\">Sign in</a> · \
                 <a href=\"/profile\">Profile (login required)</a></p>"
            .to_owned(),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>genauth example</title></head>\
         <body><h1>genauth example</h1>{body}</body></html>"
    )
}

/// `GET /public` of the API examples.
pub fn public_json() -> serde_json::Value {
    serde_json::json!({ "message": "This route is public: no token needed." })
}

/// The line every example prints to stdout once it accepts connections (scripts wait for it).
pub fn listening_line(addr: SocketAddr) -> String {
    format!("listening on http://{addr}")
}

/// Minimal HTML escaping for text from the provider (names are user-controlled).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_page_escapes_names() {
        let user = AuthUser::new("u1", genauth::Protocol::Oidc);
        let mut user = user;
        user.claims
            .insert("name".into(), "<script>x</script>".into());
        let page = home_page(Some(&user));
        assert!(page.contains("Signed in as <b>&lt;script&gt;x&lt;/script&gt;</b>"));
        assert!(home_page(None).contains("Not signed in"));
    }
}
