//! # genauth
//!
//! Sign users in with [GenAuth](https://www.genauth.ai) (formerly Authing) or any OpenID Provider,
//! and verify their tokens, from any Rust web framework.
//!
//! - [`Client`]: every call of the GenAuth SDKs' standard-protocol modules (OIDC, OAuth 2.0, SAML, CAS):
//!   authorization URLs with PKCE, code exchange, refresh, client credentials, userinfo, introspection,
//!   online validation, revocation, logout URLs, CAS ticket validation.
//! - Local verification of ID tokens and JWT access tokens against the provider's JWKS, with caches
//!   that keep the network off the per-request path.
//! - Framework-agnostic pieces the adapters (`genauth-axum`, `genauth-actix`) share: sealed cookie
//!   sessions, the login callback state machine, RFC 6750 bearer challenges.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

pub mod adapter;
pub mod authorize;
pub mod bearer;
pub mod cas;
pub mod claims;
mod client;
mod clock;
pub mod config;
pub mod dpop;
mod error;
mod http;
mod id_token;
pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod login;
pub mod logout;
pub mod logout_token;
pub mod pkce;
pub mod provider;
pub mod resource_metadata;
pub mod revocation;
pub mod session;
pub mod step_up;
pub mod telemetry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod token;
pub mod types;
pub mod userinfo;
pub mod validator;
pub mod web;

pub use claims::{Claims, ExtraClaims};
pub use client::Client;
pub use config::{ClientAuthMethod, ClientConfig, ClientConfigBuilder, ConfigError, Protocol};
/// The `cookie` crate, whose `Cookie` type [`session::SessionManager`] returns.
pub use cookie;
pub use error::{Error, ValidationError};
pub use jwks::{JwksCache, JwksOptions};
pub use jwt::{AccessTokenTyping, IdTokenChecks, JwtVerifier, JwtVerifierBuilder};
pub use provider::{ProviderMetadata, ProviderMetadataBuilder};
pub use types::{
    AccessToken, ClientId, ClientSecret, CodeVerifier, CsrfState, IdToken, Nonce, RefreshToken,
};
pub use validator::{IntrospectionValidator, JwksValidator, TokenValidator};

// The crates whose types appear in this crate's public API, so that users name the same versions.
/// The `async_trait` crate: implement [`TokenValidator`] with `#[genauth::async_trait::async_trait]`.
pub use async_trait;
/// The `jsonwebtoken` crate: the `Algorithm` and `jwk::JwkSet` of [`JwtVerifierBuilder`] and
/// [`ClientConfigBuilder::static_jwks`].
pub use jsonwebtoken;
/// The `reqwest` crate: the client [`ClientConfigBuilder::http_client`] takes, the source of
/// [`Error::Transport`].
pub use reqwest;
