//! What genauth reports about itself: `tracing` spans and audit events, and, with the `metrics`
//! feature, counters and a histogram through the [`metrics`](https://docs.rs/metrics) facade (install
//! any recorder: Prometheus, OTLP, …). No token, secret, cookie value, code or `state` is ever
//! recorded.
//!
//! ## Spans
//!
//! | span | level | fields |
//! | --- | --- | --- |
//! | `provider_call` | `debug` | `endpoint` (`token_endpoint`, `jwks_uri`, …), `status`, `elapsed_ms` |
//! | `bearer_validation` | `debug` | `outcome` (as the `genauth_validations_total` label), `cache` (`hit` or `miss`), `kid`, `iss` |
//! | `login_callback` | `debug` | `protocol`, `outcome` (`signed_in` or `failed`), `sub` |
//!
//! ## Audit events
//!
//! `info` events with the target [`AUDIT_TARGET`] (`genauth::audit`), so that
//! `RUST_LOG=genauth::audit=info` keeps only them: `signed in` and `signed out` (fields `sub`,
//! `protocol`), `session refresh rejected; signing the user out` (`sub`, `protocol`, `error`).
//!
//! ## Metrics (feature `metrics`)
//!
//! | name | kind | labels |
//! | --- | --- | --- |
//! | `genauth_validations_total` | counter | `outcome`: `valid`, `invalid_token`, `insufficient_scope`, `provider_unavailable` |
//! | `genauth_token_cache_total` | counter | `cache`: `verified_token` ([`JwksValidator`](crate::JwksValidator)), `introspection` ([`IntrospectionValidator`](crate::IntrospectionValidator)); `result`: `hit`, `miss` |
//! | `genauth_jwks_downloads_total` | counter | `outcome`: `ok`, `error` |
//! | `genauth_session_refreshes_total` | counter | `outcome`: `refreshed`, `rejected` (the user is signed out), `unavailable` (the old tokens are kept) |
//! | `genauth_provider_call_duration_seconds` | histogram | `endpoint`; `status`: `2xx`, `3xx`, `4xx`, `5xx`, `error` (no response) |
//!
//! Validations are counted by [`BearerAuthenticator`](crate::bearer::BearerAuthenticator) (whatever
//! the validator); cache lookups only when the cache is on. Without the feature no metric code is
//! compiled in.

use crate::config::Protocol;
use std::fmt;
use std::time::Duration;
use tracing::field::Empty;
use tracing::{Instrument as _, Span};

/// The target of the audit events (sign-in, sign-out, refresh failure).
pub const AUDIT_TARGET: &str = "genauth::audit";

/// Counter of bearer validations, by `outcome`.
pub const VALIDATIONS: &str = "genauth_validations_total";
/// Counter of lookups in the validators' token caches, by `cache` and `result`.
pub const TOKEN_CACHE: &str = "genauth_token_cache_total";
/// Counter of JWKS downloads, by `outcome`.
pub const JWKS_DOWNLOADS: &str = "genauth_jwks_downloads_total";
/// Counter of session refreshes, by `outcome`.
pub const SESSION_REFRESHES: &str = "genauth_session_refreshes_total";
/// Histogram of provider call durations in seconds, by `endpoint` and `status` class.
pub const PROVIDER_CALL_DURATION: &str = "genauth_provider_call_duration_seconds";

/// How a bearer validation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Validation {
    Valid,
    InvalidToken,
    InsufficientScope,
    ProviderUnavailable,
}

impl Validation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::ProviderUnavailable => "provider_unavailable",
        }
    }
}

/// Which validator cache was looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cache {
    VerifiedToken,
    Introspection,
}

/// How a session refresh ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    Refreshed,
    Rejected,
    Unavailable,
}

// Counters on the per-request path take literal labels: the `metrics` macros then build the key
// from static parts, with no allocation.

/// Counts a successful bearer validation; marks its span with the outcome and the token's `iss`.
pub(crate) fn validated(span: &Span, iss: Option<&str>) {
    validation(span, Validation::Valid);
    if let Some(iss) = iss {
        span.record("iss", iss);
    }
}

/// Counts a failed bearer validation by the status of its answer (403: insufficient scope, 503:
/// provider unavailable, else invalid token); marks its span with the outcome.
pub(crate) fn validation_failed(span: &Span, status: u16) {
    validation(
        span,
        match status {
            403 => Validation::InsufficientScope,
            503 => Validation::ProviderUnavailable,
            _ => Validation::InvalidToken,
        },
    );
}

fn validation(span: &Span, outcome: Validation) {
    #[cfg(feature = "metrics")]
    {
        let counter = match outcome {
            Validation::Valid => metrics::counter!(VALIDATIONS, "outcome" => "valid"),
            Validation::InvalidToken => {
                metrics::counter!(VALIDATIONS, "outcome" => "invalid_token")
            }
            Validation::InsufficientScope => {
                metrics::counter!(VALIDATIONS, "outcome" => "insufficient_scope")
            }
            Validation::ProviderUnavailable => {
                metrics::counter!(VALIDATIONS, "outcome" => "provider_unavailable")
            }
        };
        counter.increment(1);
    }
    span.record("outcome", outcome.as_str());
}

/// Counts a lookup in a validator's cache, and marks the validation span with `cache`.
pub(crate) fn cache_lookup(cache: Cache, hit: bool) {
    #[cfg(feature = "metrics")]
    {
        let counter = match (cache, hit) {
            (Cache::VerifiedToken, true) => {
                metrics::counter!(TOKEN_CACHE, "cache" => "verified_token", "result" => "hit")
            }
            (Cache::VerifiedToken, false) => {
                metrics::counter!(TOKEN_CACHE, "cache" => "verified_token", "result" => "miss")
            }
            (Cache::Introspection, true) => {
                metrics::counter!(TOKEN_CACHE, "cache" => "introspection", "result" => "hit")
            }
            (Cache::Introspection, false) => {
                metrics::counter!(TOKEN_CACHE, "cache" => "introspection", "result" => "miss")
            }
        };
        counter.increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = cache;
    in_current_span(|span| {
        span.record("cache", if hit { "hit" } else { "miss" });
    });
}

/// Counts a JWKS download.
pub(crate) fn jwks_download(ok: bool) {
    #[cfg(feature = "metrics")]
    if ok {
        metrics::counter!(JWKS_DOWNLOADS, "outcome" => "ok").increment(1);
    } else {
        metrics::counter!(JWKS_DOWNLOADS, "outcome" => "error").increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = ok;
}

/// Counts a session refresh.
pub(crate) fn refresh(outcome: Refresh) {
    #[cfg(feature = "metrics")]
    {
        let counter = match outcome {
            Refresh::Refreshed => metrics::counter!(SESSION_REFRESHES, "outcome" => "refreshed"),
            Refresh::Rejected => metrics::counter!(SESSION_REFRESHES, "outcome" => "rejected"),
            Refresh::Unavailable => {
                metrics::counter!(SESSION_REFRESHES, "outcome" => "unavailable")
            }
        };
        counter.increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}

/// Counts a refresh the provider rejected, and records the audit event: the user is signed out.
pub(crate) fn refresh_rejected(sub: &str, protocol: Protocol, error: &dyn fmt::Display) {
    refresh(Refresh::Rejected);
    tracing::info!(
        target: AUDIT_TARGET,
        sub,
        protocol = protocol.as_str(),
        %error,
        "session refresh rejected; signing the user out"
    );
}

/// The span of one provider call; [`provider_call_done`] fills it in.
pub(crate) fn provider_call_span(endpoint: &'static str) -> Span {
    tracing::debug_span!(
        "provider_call",
        endpoint,
        status = Empty,
        elapsed_ms = Empty
    )
}

/// Records a provider call's status (`None`: no response) and duration.
pub(crate) fn provider_call_done(
    span: &Span,
    endpoint: &'static str,
    status: Option<u16>,
    elapsed: Duration,
) {
    span.record("elapsed_ms", elapsed.as_millis() as u64);
    if let Some(status) = status {
        span.record("status", status);
    }
    #[cfg(feature = "metrics")]
    {
        let class = match status.map(|s| s / 100) {
            Some(2) => "2xx",
            Some(3) => "3xx",
            Some(4) => "4xx",
            Some(5) => "5xx",
            _ => "error",
        };
        // A network round trip: the label vector's allocation does not matter here.
        metrics::histogram!(PROVIDER_CALL_DURATION, "endpoint" => endpoint, "status" => class)
            .record(elapsed.as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = endpoint;
}

/// The span of one bearer validation; the validators fill in `cache` and `kid`, [`validated`] or
/// [`validation_failed`] the `outcome` and `iss`.
pub(crate) fn validation_span() -> Span {
    tracing::debug_span!(
        "bearer_validation",
        outcome = Empty,
        cache = Empty,
        kid = Empty,
        iss = Empty
    )
}

/// Marks the current span (the validation span, when there is one) with the token's `kid`.
pub(crate) fn token_kid(kid: Option<&str>) {
    if let Some(kid) = kid {
        in_current_span(|span| {
            span.record("kid", crate::error::excerpt(kid).as_str());
        });
    }
}

/// The span of one login callback; [`signed_in`] or [`callback_failed`] fills it in.
pub(crate) fn callback_span(protocol: Protocol) -> Span {
    tracing::debug_span!(
        "login_callback",
        protocol = protocol.as_str(),
        outcome = Empty,
        sub = Empty
    )
}

/// A callback signed the user in: marks its span, records the audit event.
pub(crate) fn signed_in(span: &Span, sub: &str, protocol: Protocol) {
    span.record("outcome", "signed_in");
    span.record("sub", sub);
    span.in_scope(|| audit("signed in", sub, protocol));
}

/// A callback failed: marks its span (the failure itself is logged by the caller).
pub(crate) fn callback_failed(span: &Span) {
    span.record("outcome", "failed");
}

/// The audit event of a sign-out.
pub(crate) fn signed_out(sub: &str, protocol: Protocol) {
    audit("signed out", sub, protocol);
}

fn audit(what: &'static str, sub: &str, protocol: Protocol) {
    tracing::info!(target: AUDIT_TARGET, sub, protocol = protocol.as_str(), "{what}");
}

/// Awaits `future` inside `span`; without wrapping it when the span is off (the usual case in
/// production: `Instrumented` costs a span enter and exit per poll and on drop).
pub(crate) async fn in_span<F: std::future::Future>(span: &Span, future: F) -> F::Output {
    if span.is_disabled() {
        future.await
    } else {
        future.instrument(span.clone()).await
    }
}

/// Runs `f` on the current span when `debug` spans may be on and there is one: with `RUST_LOG=info`
/// the per-request path does not even look the span up.
fn in_current_span(f: impl FnOnce(&Span)) {
    if tracing::level_enabled!(tracing::Level::DEBUG) {
        let span = Span::current();
        if !span.is_disabled() {
            f(&span);
        }
    }
}
