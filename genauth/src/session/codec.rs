//! [`SessionCodec`]: sealing values into cookies (AES-256-GCM; the cookie name, and the issuer and
//! client ID of a bound codec, as associated data; an expiry inside) under a key ring (seal with the
//! first key, open with any), and chunking sealed sessions across cookies past 4 KB.

use super::{Session, SessionError};
use crate::clock::now_secs;
use cookie::{Cookie, CookieJar, Key};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Longest cookie value written, in bytes: with name and attributes, a cookie stays under the
/// 4096 bytes browsers keep (RFC 6265 §6.1).
pub const CHUNK_SIZE: usize = 3800;

/// Most cookies one sealed session may span (`name`, `name.1`, … `name.7`): about 30 KB.
pub const MAX_CHUNKS: usize = 8;

/// Shortest accepted secret, in bytes (256 bits).
pub const MIN_KEY_LEN: usize = 32;

/// The wrapper sealed into every cookie: the value and its expiry (seconds since the epoch).
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: u64,
    v: T,
}

/// Seals and opens sessions and pending logins into cookie values (AES-256-GCM, cookie name bound
/// as associated data). `Debug` does not print the keys.
///
/// # Key rotation
/// A codec holds a key ring ([`with_keys`](Self::with_keys), [`from_key_list`](Self::from_key_list)):
/// values are sealed with the first key and opened with any of them. To rotate, put the new key
/// first and keep the old one after it for as long as its sessions may live (the session TTL); then
/// drop it.
///
/// # Binding
/// [`bound_to`](Self::bound_to) (which [`SessionManager::new`](super::SessionManager::new) applies)
/// adds the issuer and client ID to the associated data: two applications sharing a secret do not
/// accept each other's sessions.
#[derive(Clone)]
pub struct SessionCodec {
    /// Never empty: the first seals, every one opens.
    keys: Arc<[Key]>,
    /// Appended to the cookie name in the associated data ([`bound_to`](Self::bound_to)); empty
    /// when unbound.
    binding: Arc<str>,
}

impl fmt::Debug for SessionCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionCodec([redacted], keys: {})", self.keys.len())
    }
}

/// The encryption key derived from `secret` (HKDF-SHA256, RFC 5869).
fn derive_key(secret: &[u8]) -> Result<Key, SessionError> {
    if secret.len() < MIN_KEY_LEN {
        return Err(SessionError::KeyTooShort { len: secret.len() });
    }
    struct Len64;
    impl aws_lc_rs::hkdf::KeyType for Len64 {
        fn len(&self) -> usize {
            64
        }
    }
    let mut material = [0u8; 64];
    aws_lc_rs::hkdf::Salt::new(aws_lc_rs::hkdf::HKDF_SHA256, b"genauth session codec")
        .extract(secret)
        .expand(&[b"cookie aes-256-gcm v1"], Len64)
        .and_then(|okm| okm.fill(&mut material))
        .map_err(|_| SessionError::Key)?;
    Key::try_from(material.as_slice()).map_err(|_| SessionError::Key)
}

impl SessionCodec {
    /// A codec keyed by `secret`: at least [`MIN_KEY_LEN`] bytes of random data (e.g. 32 random
    /// bytes, or a 64-character hex string from `openssl rand -hex 32`). The encryption key is
    /// derived from it with HKDF-SHA256 (RFC 5869), so the same secret may serve other purposes.
    /// Keep it stable across restarts and instances: sessions sealed with another key do not open.
    ///
    /// # Errors
    /// [`SessionError::KeyTooShort`]; [`SessionError::Key`] if derivation fails.
    pub fn new(secret: &[u8]) -> Result<Self, SessionError> {
        derive_key(secret).map(Self::from_key)
    }

    /// A codec with a key ring: values are sealed with the first secret's key and opened with any
    /// (see [Key rotation](Self#key-rotation)). Each secret as for [`new`](Self::new).
    ///
    /// # Errors
    /// [`SessionError::NoKey`] for an empty list; [`SessionError::KeyTooShort`] (any secret too
    /// short); [`SessionError::Key`].
    pub fn with_keys<S: AsRef<[u8]>>(secrets: &[S]) -> Result<Self, SessionError> {
        let keys = secrets
            .iter()
            .map(|secret| derive_key(secret.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SessionError::NoKey);
        }
        Ok(Self {
            keys: keys.into(),
            binding: Arc::from(""),
        })
    }

    /// A codec from a comma-separated list of base64url secrets (padding optional, each decoding to
    /// at least [`MIN_KEY_LEN`] bytes), the first sealing: the format of the examples'
    /// `GENAUTH_SESSION_KEY`. `openssl rand -base64 32 | tr '+/' '-_'` makes one.
    ///
    /// # Errors
    /// [`SessionError::KeyEncoding`] (the 1-based position of the bad entry); then as
    /// [`with_keys`](Self::with_keys).
    pub fn from_key_list(list: &str) -> Result<Self, SessionError> {
        use base64::Engine as _;
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let secrets = list
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, entry)| {
                engine
                    .decode(entry)
                    .map_err(|_| SessionError::KeyEncoding { position: i + 1 })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::with_keys(&secrets)
    }

    /// A codec with a random key: sessions do not survive a restart and are not shared between
    /// instances. For development and tests.
    ///
    /// # Errors
    /// [`SessionError::Key`] if the OS random number generator fails.
    pub fn generate() -> Result<Self, SessionError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| SessionError::Key)?;
        Self::new(&secret)
    }

    /// A codec using this `cookie` key as it is (its encryption half).
    pub fn from_key(key: Key) -> Self {
        Self {
            keys: Arc::from([key]),
            binding: Arc::from(""),
        }
    }

    /// This codec with values bound to one application: `issuer` and `client_id` join the cookie
    /// name in the AEAD associated data, so a value sealed for another issuer or client ID (another
    /// application sharing the secret) does not open. [`SessionManager::new`](super::SessionManager::new)
    /// binds its codec to its client's issuer and client ID.
    pub fn bound_to(mut self, issuer: &str, client_id: &str) -> Self {
        // Length-prefixed, so that no two (issuer, client ID) pairs give the same bytes.
        self.binding = Arc::from(format!("\0{}\0{issuer}\0{client_id}", issuer.len()));
        self
    }

    /// The associated data of the cookie `name`: the name, then the binding.
    fn aad_name(&self, name: &str) -> String {
        format!("{name}{}", self.binding)
    }

    /// Seals any value for the cookie `name`, valid for `ttl`: one cookie value, no chunking.
    ///
    /// # Errors
    /// [`SessionError::Serialize`].
    pub fn seal_value<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<String, SessionError> {
        // A TTL past the end of time (say `Duration::MAX`) means: never expires.
        let exp = now_secs().saturating_add(ttl.as_secs());
        let plaintext = serde_json::to_string(&Envelope { exp, v: value })?;
        let key = self.keys.first().ok_or(SessionError::NoKey)?;
        // The private jar's associated data is the cookie's name.
        let aad = self.aad_name(name);
        let mut jar = CookieJar::new();
        jar.private_mut(key)
            .add(Cookie::new(aad.clone(), plaintext));
        jar.get(&aad)
            .map(|c| c.value().to_owned())
            .ok_or(SessionError::Key)
    }

    /// Opens a value sealed by [`seal_value`](Self::seal_value) for the cookie `name`, with any key of
    /// the ring. `None`, logged at debug, when it was tampered with, sealed for another name, binding
    /// or key, or has expired; `None` with a logged warning when it opens but does not parse.
    pub fn open_value<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Option<T> {
        let jar = CookieJar::new();
        let aad = self.aad_name(name);
        let Some(cookie) = self.keys.iter().find_map(|key| {
            jar.private(key)
                .decrypt(Cookie::new(aad.clone(), sealed.to_owned()))
        }) else {
            // `debug`: after a key change every old cookie lands here, once per request.
            tracing::debug!(
                cookie = name,
                "sealed cookie does not open (tampered, or another key); ignored"
            );
            return None;
        };
        let envelope: Envelope<T> = match serde_json::from_str(cookie.value()) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(cookie = name, error = %e, "sealed cookie has an unexpected shape; ignored");
                return None;
            }
        };
        if envelope.exp <= now_secs() {
            tracing::debug!(cookie = name, "sealed cookie expired; ignored");
            return None;
        }
        Some(envelope.v)
    }

    /// Seals a session for the cookie `name`, valid for `ttl`, as `(cookie name, value)` pairs:
    /// `name` alone, or `name`, `name.1`, … when longer than [`CHUNK_SIZE`].
    ///
    /// # Errors
    /// [`SessionError::TooLarge`] past [`MAX_CHUNKS`] chunks; [`SessionError::Serialize`].
    pub fn seal(
        &self,
        session: &Session,
        name: &str,
        ttl: Duration,
    ) -> Result<Vec<(String, String)>, SessionError> {
        let sealed = self.seal_value(name, session, ttl)?;
        chunk(name, &sealed)
    }

    /// Opens the session sealed into the cookie `name` (and its chunks), reading cookies through
    /// `lookup`. `None` when there is no such cookie, or when it does not open (see
    /// [`open_value`](Self::open_value)); never an error.
    pub fn open<'a>(
        &self,
        name: &str,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Option<Session> {
        let sealed = unchunk(name, lookup)?;
        self.open_value(name, &sealed)
    }
}

/// The names a session sealed for `name` may occupy: `name`, `name.1`, … `name.7`.
pub fn chunk_names(name: &str) -> impl Iterator<Item = String> + '_ {
    (0..MAX_CHUNKS).map(move |i| chunk_name(name, i))
}

fn chunk_name(name: &str, index: usize) -> String {
    if index == 0 {
        name.to_owned()
    } else {
        format!("{name}.{index}")
    }
}

/// Splits a sealed value (base64: ASCII, no `.`) into cookies; the first carries the count when
/// there are several.
fn chunk(name: &str, sealed: &str) -> Result<Vec<(String, String)>, SessionError> {
    if sealed.len() <= CHUNK_SIZE {
        return Ok(vec![(name.to_owned(), sealed.to_owned())]);
    }
    let pieces: Vec<&str> = sealed
        .as_bytes()
        .chunks(CHUNK_SIZE)
        .map(|piece| std::str::from_utf8(piece).unwrap_or_default())
        .collect();
    if pieces.len() > MAX_CHUNKS {
        return Err(SessionError::TooLarge {
            size: sealed.len(),
            limit: CHUNK_SIZE * MAX_CHUNKS,
        });
    }
    let count = pieces.len();
    Ok(pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let value = if i == 0 {
                format!("{count}.{piece}")
            } else {
                piece.to_owned()
            };
            (chunk_name(name, i), value)
        })
        .collect())
}

/// Reassembles a chunked value; `None` (logged) when a chunk is missing or the count is garbled.
fn unchunk<'a>(name: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let first = lookup(name)?;
    let Some((count, head)) = first.split_once('.') else {
        return Some(first.to_owned());
    };
    let count = match count.parse::<usize>() {
        Ok(n) if (2..=MAX_CHUNKS).contains(&n) => n,
        _ => {
            tracing::warn!(
                cookie = name,
                "session cookie has a garbled chunk count; ignored"
            );
            return None;
        }
    };
    let mut sealed = String::with_capacity(count * CHUNK_SIZE);
    sealed.push_str(head);
    for i in 1..count {
        let Some(piece) = lookup(&chunk_name(name, i)) else {
            tracing::warn!(
                cookie = name,
                chunk = i,
                "session cookie chunk missing; ignored"
            );
            return None;
        };
        sealed.push_str(piece);
    }
    Some(sealed)
}

#[cfg(test)]
mod tests;
