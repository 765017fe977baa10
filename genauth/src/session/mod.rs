//! Browser sessions, framework-agnostic: the signed-in [`Session`] and its [`AuthUser`], the
//! sealed-cookie [`SessionCodec`], the [`CookieSettings`] of every cookie genauth writes, and
//! [`SessionManager`], which opens, refreshes, stores and ends sessions in terms of a
//! [`RequestHead`](crate::web::RequestHead) in and `Set-Cookie` cookies out. Sign-in
//! ([`SessionManager::begin_login`], [`SessionManager::complete_login`]) is the
//! [`login`](crate::login) module's part of the manager.
//!
//! | file | concept |
//! | --- | --- |
//! | `model.rs` | [`AuthUser`], [`Session`], [`refresh`] |
//! | `codec.rs` | [`SessionCodec`]: sealing, key ring, binding, chunking past 4 KB |
//! | `settings.rs` | [`CookieSettings`]: names, attributes, lifetimes |
//! | `manager.rs`, `refresh.rs` | [`SessionManager`]: open, refresh (single flight), store, clear |
//! | `logout.rs` | [`SessionManager::logout`], logout CSRF ([`is_cross_site_logout`]) |
//! | `backchannel.rs` | [`SessionManager::backchannel_logout`] (OIDC Back-Channel Logout) |
//! | `frontchannel.rs` | [`SessionManager::frontchannel_logout`], [`SessionManager::end_provider_session`] (OIDC `sid`) |
//! | `revocation.rs` | [`Revocations`]: ended sessions (logout, sign-out everywhere), in memory |
//! | `store.rs`, `store/` | [`SessionStore`] (server-side sessions by ID), [`MemoryStore`], `RedisStore` (feature `redis`) |
//! | `stored.rs` | the manager with a store: sealed ID cookie, load, save, refresh one instance at a time |
//!
//! # Sealing
//! A [`SessionCodec`] encrypts with AES-256-GCM (the `cookie` crate's private jar) under a key derived
//! with HKDF-SHA256 from a secret of at least 32 bytes. The cookie name is the AEAD associated data: a
//! value sealed for one cookie does not open under another name, so the login-transaction cookie
//! cannot be replayed as a session. A [`SessionManager`]'s codec also binds the issuer and client
//! ID ([`SessionCodec::bound_to`]): another application sharing the secret cannot replay its
//! sessions here. A codec holds a key ring ([`SessionCodec::with_keys`]): it seals with the first
//! key and opens with any, so keys rotate without signing anyone out. Each sealed value carries its
//! own expiry. A value that does not
//! open (tampered, truncated, another key, expired) reads as "no session" with a logged warning, never
//! as an error or a panic.
//!
//! # Chunking
//! Browsers keep at most about 4096 bytes per cookie. A sealed session longer than
//! [`CHUNK_SIZE`] bytes is split into `name`, `name.1`, `name.2`, … (at most [`MAX_CHUNKS`]); the first
//! cookie then starts with the chunk count (`3.…`).
//!
//! ```
//! use genauth::session::{AuthUser, Session, SessionCodec};
//! use std::time::Duration;
//!
//! let codec = SessionCodec::new(&[7u8; 32])?;
//! let session = Session::new(AuthUser::new("user-1", genauth::Protocol::Oidc));
//! let cookies = codec.seal(&session, "app_session", Duration::from_secs(3600))?;
//! assert_eq!(cookies.len(), 1);
//! let (name, value) = &cookies[0];
//! let opened = codec
//!     .open(name, |n| (n == name.as_str()).then_some(value.as_str()))
//!     .ok_or("the session did not open")?;
//! assert_eq!(opened.user.sub, "user-1");
//! // A value sealed for one cookie name does not open under another.
//! assert!(codec.open("other", |_| Some(value.as_str())).is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backchannel;
mod codec;
mod error;
mod frontchannel;
mod logout;
mod manager;
mod model;
mod refresh;
mod revocation;
mod settings;
mod store;
mod stored;

pub use codec::{CHUNK_SIZE, MAX_CHUNKS, MIN_KEY_LEN, SessionCodec, chunk_names};
pub use error::SessionError;
pub use logout::is_cross_site_logout;
pub use manager::{
    DEFAULT_ABSOLUTE_LIFETIME, DEFAULT_REFRESH_RETRY_DELAY, DEFAULT_REFRESH_SKEW, LoadedSession,
    SessionManager,
};
pub use model::{AuthUser, Session, refresh};
pub use revocation::{DEFAULT_REVOCATION_CAPACITY, Revocations};
pub use settings::{CookieSettings, DEFAULT_LOGIN_TTL, DEFAULT_SESSION_TTL};
pub use store::{
    DEFAULT_MEMORY_STORE_CAPACITY, MemoryStore, RefreshLock, RevocationStore, SessionStore,
    StoreError,
};
#[cfg(feature = "redis")]
pub use store::{
    DEFAULT_REDIS_CONNECT_TIMEOUT, DEFAULT_REDIS_RESPONSE_TIMEOUT, RedisStore, RedisStoreOptions,
};

/// Moved to [`crate::web`]; the old paths keep working.
pub use crate::web::{Redirect, Reply, RequestCookies};

#[cfg(test)]
pub(crate) mod tests;
