//! Framework-neutral HTTP: what an adapter hands the core ([`RequestHead`], with the request's
//! cookies parsed once into [`RequestCookies`]) and what the core hands back ([`Reply`], or a
//! [`Redirect`] with the cookies to set). A leaf: nothing here knows sessions, logins or tokens, so
//! every module above can use it, and an adapter needs exactly two conversions — its framework's
//! request head into a [`RequestHead`], a [`Reply`] into its framework's response.
//!
//! ```
//! use genauth::web::{Reply, RequestHead};
//!
//! let head = RequestHead::new(
//!     "GET",
//!     "/login?return_to=%2Forders",
//!     [("cookie", b"genauth_login=abc; theme=dark".as_slice()), ("accept", b"text/html")],
//! );
//! assert_eq!(head.query(), "return_to=%2Forders");
//! assert_eq!(head.cookies().get("theme"), Some("dark"));
//! assert_eq!(head.header("accept"), Some("text/html"));
//!
//! let reply = Reply::redirect("/orders");
//! assert_eq!((reply.status, reply.header_value("location")), (302, Some("/orders")));
//! ```

mod cookies;
mod reply;
mod request;

pub use cookies::RequestCookies;
pub(crate) use reply::CookieNames;
pub use reply::{Redirect, Reply, SESSION_CACHE_CONTROL};
pub use request::RequestHead;

#[cfg(test)]
mod tests;
