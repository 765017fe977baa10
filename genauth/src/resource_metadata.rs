//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document an API serves at
//! `/.well-known/oauth-protected-resource` so that clients find its authorization servers, scopes
//! and token methods, and the URL its challenges point at (`resource_metadata`, §5.1).
//!
//! The resource identifier is also the audience the API requires of its tokens (RFC 8707;
//! [`BearerAuthenticator::protected_resource`](crate::bearer::BearerAuthenticator::protected_resource)).
//!
//! ```
//! use genauth::resource_metadata::ProtectedResourceMetadata;
//!
//! let metadata = ProtectedResourceMetadata::new("https://api.example.com/v1")?
//!     .authorization_server("https://example.genauth.ai/oidc")
//!     .scopes_supported(["read", "write"]);
//! // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
//! assert_eq!(metadata.well_known_path(), "/.well-known/oauth-protected-resource/v1");
//! assert_eq!(metadata.metadata_url(), "https://api.example.com/.well-known/oauth-protected-resource/v1");
//! assert_eq!(metadata.document()["resource"], "https://api.example.com/v1");
//! assert_eq!(metadata.document()["bearer_methods_supported"], serde_json::json!(["header"]));
//! # Ok::<(), genauth::ConfigError>(())
//! ```

use crate::config::ConfigError;
use crate::dpop::{DpopMode, DpopVerifier};
use crate::web::Reply;
use serde_json::{Value, json};

/// The well-known URI suffix of RFC 9728 §3.
pub const WELL_KNOWN_SUFFIX: &str = "/.well-known/oauth-protected-resource";

/// A protected resource's metadata (RFC 9728 §2). Plain setters; the resource identifier is
/// checked by [`new`](Self::new).
#[derive(Clone, Debug)]
#[must_use]
pub struct ProtectedResourceMetadata {
    /// The identifier exactly as configured: compared with `aud` as a string (RFC 7519 §4.1.3).
    id: String,
    resource: url::Url,
    authorization_servers: Vec<String>,
    scopes_supported: Vec<String>,
    dpop_algs: Option<Vec<String>>,
    dpop_required: bool,
    resource_name: Option<String>,
}

impl ProtectedResourceMetadata {
    /// Metadata for the resource identified by `resource` (RFC 9728 §1.2: an `https` URL — `http`
    /// is accepted for loopback development — without a fragment).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when `resource` is not such a URL.
    pub fn new(resource: &str) -> Result<Self, ConfigError> {
        let url = crate::config::parse_http_url("resource", resource)?;
        if url.fragment().is_some() {
            return Err(ConfigError::Invalid {
                field: "resource",
                reason: "a resource identifier has no fragment (RFC 9728 §1.2)".into(),
            });
        }
        if url.scheme() != "https" && !crate::config::is_loopback(&url) {
            return Err(ConfigError::Invalid {
                field: "resource",
                reason: "a resource identifier uses https (http only on loopback)".into(),
            });
        }
        Ok(Self {
            id: resource.to_owned(),
            resource: url,
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            dpop_algs: None,
            dpop_required: false,
            resource_name: None,
        })
    }

    /// Adds an issuer whose tokens this resource accepts (`authorization_servers`, §2).
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes used in requests for this resource (`scopes_supported`, §2).
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Advertises the DPoP settings of `verifier` (`dpop_signing_alg_values_supported`,
    /// `dpop_bound_access_tokens_required`, §2), unless its mode is off.
    pub fn dpop(mut self, verifier: &DpopVerifier) -> Self {
        if verifier.mode() != DpopMode::Off {
            self.dpop_algs = Some(verifier.algs().split(' ').map(str::to_owned).collect());
            self.dpop_required = verifier.mode() == DpopMode::Required;
        }
        self
    }

    /// A human-readable name (`resource_name`, §2).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The resource identifier exactly as configured (also the audience tokens must carry, compared
    /// as a string).
    pub fn resource(&self) -> &str {
        &self.id
    }

    /// The path the document is served at (§3.1): the well-known suffix, then the resource's path
    /// when it has one (`/.well-known/oauth-protected-resource/v1`).
    pub fn well_known_path(&self) -> String {
        let path = self.resource.path().trim_end_matches('/');
        format!("{WELL_KNOWN_SUFFIX}{path}")
    }

    /// The document's URL (§3.1), sent in challenges (`resource_metadata`, §5.1).
    pub fn metadata_url(&self) -> String {
        format!(
            "{}{}",
            self.resource.origin().ascii_serialization(),
            self.well_known_path()
        )
    }

    /// The JSON document (§2, §3.2). `bearer_methods_supported` is `["header"]`: the layers read
    /// tokens from `Authorization` only (RFC 6750 §2.1).
    pub fn document(&self) -> Value {
        let mut doc = json!({
            "resource": self.resource(),
            "bearer_methods_supported": ["header"],
        });
        let Some(map) = doc.as_object_mut() else {
            return doc;
        };
        if !self.authorization_servers.is_empty() {
            map.insert(
                "authorization_servers".into(),
                json!(self.authorization_servers),
            );
        }
        if !self.scopes_supported.is_empty() {
            map.insert("scopes_supported".into(), json!(self.scopes_supported));
        }
        if let Some(algs) = &self.dpop_algs {
            map.insert("dpop_signing_alg_values_supported".into(), json!(algs));
        }
        if self.dpop_required {
            map.insert(
                "dpop_bound_access_tokens_required".into(),
                Value::Bool(true),
            );
        }
        if let Some(name) = &self.resource_name {
            map.insert("resource_name".into(), json!(name));
        }
        doc
    }

    /// The answer to `GET` the well-known path (§3.2): 200, `application/json`.
    pub fn reply(&self) -> Reply {
        Reply::json(200, &self.document())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpop::DpopConfig;

    #[test]
    fn root_resource_and_dpop_fields() {
        let dpop = DpopConfig::new(DpopMode::Required)
            .algorithms([jsonwebtoken::Algorithm::ES256])
            .build()
            .unwrap();
        let m = ProtectedResourceMetadata::new("https://api.example.com/")
            .unwrap()
            .dpop(&dpop);
        assert_eq!(m.well_known_path(), WELL_KNOWN_SUFFIX);
        assert_eq!(m.resource(), "https://api.example.com/", "as configured");
        assert_eq!(
            ProtectedResourceMetadata::new("https://api.example.com")
                .unwrap()
                .resource(),
            "https://api.example.com"
        );
        let doc = m.document();
        assert_eq!(doc["dpop_signing_alg_values_supported"], json!(["ES256"]));
        assert_eq!(doc["dpop_bound_access_tokens_required"], true);
        assert!(doc.get("authorization_servers").is_none());
    }

    #[test]
    fn resource_identifiers_are_checked() {
        for bad in [
            "not a url",
            "https://api.example.com/#x",
            "http://api.example.com",
            "ftp://h",
        ] {
            assert!(ProtectedResourceMetadata::new(bad).is_err(), "{bad}");
        }
        assert!(ProtectedResourceMetadata::new("http://127.0.0.1:8080").is_ok());
    }
}
