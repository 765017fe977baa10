//! The bearer flow with DPoP (RFC 9449): [`Credentials`] read from a request, then checked — the
//! proof (§4.3), the token and its key binding (§6.1), the resource's own requirements (RFC 8707
//! audience, scopes, RFC 9470 step-up) — and the answers with every challenge.

use super::{Authenticated, BearerAuthenticator, BearerError, challenge, check_scopes};
use crate::claims::Claims;
use crate::dpop::{DpopError, DpopMode, ProofTarget};
use crate::telemetry;
use crate::types::AccessToken;
use crate::validator::ValidationError;
use crate::web::Reply;
use std::fmt;
use std::sync::Arc;

impl BearerAuthenticator {
    /// The synchronous first step with DPoP: the credentials from the `Authorization` and `DPoP`
    /// header values and the request's method and URL, or `Ok(None)` for an anonymous request in
    /// optional mode. Without DPoP, as [`token_from_headers`](Self::token_from_headers).
    ///
    /// # Errors
    /// [`BearerError::MissingToken`], [`BearerError::InvalidRequest`],
    /// [`BearerError::DpopRequired`] (a `Bearer` token where DPoP is required), or
    /// [`BearerError::InvalidDpopProof`] (`DPoP` scheme without exactly one proof, unknown URL).
    pub fn credentials<'a, A, D>(
        &self,
        authorization: A,
        dpop_proofs: D,
        target: &ProofTarget<'_>,
    ) -> Result<Option<Credentials>, BearerError>
    where
        A: IntoIterator<Item = &'a [u8]>,
        D: IntoIterator<Item = &'a [u8]>,
    {
        let Some(verifier) = &self.dpop else {
            return Ok(self
                .token_from_headers(authorization)?
                .map(|token| Credentials { token, proof: None }));
        };
        let Some(value) = single_authorization(authorization)? else {
            return if self.optional {
                Ok(None)
            } else {
                Err(BearerError::MissingToken)
            };
        };
        let (scheme, token) = challenge::parse_scheme(value)?;
        let token = AccessToken::new(token);
        if scheme == challenge::Scheme::Bearer {
            if verifier.mode() == DpopMode::Required {
                return Err(BearerError::DpopRequired);
            }
            return Ok(Some(Credentials { token, proof: None }));
        }
        // RFC 9449 §4.3 step 1: exactly one `DPoP` header.
        let mut proofs = dpop_proofs.into_iter();
        let proof = match (proofs.next(), proofs.next()) {
            (None, _) => Err(DpopError::MissingProof),
            (Some(_), Some(_)) => Err(DpopError::SeveralProofs),
            (Some(proof), None) => std::str::from_utf8(proof)
                .map(|p| p.trim().to_owned())
                .map_err(|_| DpopError::Malformed("not text")),
        }
        .map_err(BearerError::InvalidDpopProof)?;
        let htu = verifier
            .expected_htu(target)
            .map_err(BearerError::InvalidDpopProof)?;
        Ok(Some(Credentials {
            token,
            proof: Some(PresentedProof {
                proof,
                htm: target.method.to_owned(),
                htu,
            }),
        }))
    }

    /// The asynchronous second step: the DPoP proof (RFC 9449 §4.3) when there is one, the token
    /// (with its key binding, §6.1), the resource audience (RFC 8707), the scopes and the step-up
    /// policy (RFC 9470), then the proof's `jti` recorded (§11.1).
    ///
    /// # Errors
    /// Any [`BearerError`] but [`MissingToken`](BearerError::MissingToken) and
    /// [`InvalidRequest`](BearerError::InvalidRequest).
    pub async fn validate_credentials(
        &self,
        credentials: Credentials,
    ) -> Result<Authenticated, BearerError> {
        let span = telemetry::validation_span();
        let result = telemetry::in_span(&span, self.check(&credentials)).await;
        match &result {
            Ok(claims) => telemetry::validated(&span, claims.iss.as_deref()),
            Err(error) => telemetry::validation_failed(&span, error.status_code()),
        }
        result.map(|claims| Authenticated {
            token: credentials.token,
            claims,
        })
    }

    /// The second step without waiting, when the answer is at hand
    /// ([`TokenValidator::validate_now`](crate::validator::TokenValidator::validate_now): a token
    /// the validator verified before, or one refused by its shape): what
    /// [`validate_credentials`](Self::validate_credentials) would answer, with the same checks
    /// after the token (audience, scopes, step-up) and the same telemetry. `Err` gives the
    /// credentials back when the answer needs the asynchronous step (a new token, a DPoP proof).
    ///
    /// # Errors
    /// The outer `Err` is not an error: call [`validate_credentials`](Self::validate_credentials)
    /// with the credentials it returns.
    pub fn try_validate_now(
        &self,
        credentials: Credentials,
    ) -> Result<Result<Authenticated, BearerError>, Credentials> {
        if credentials.proof.is_some() {
            return Err(credentials);
        }
        let span = telemetry::validation_span();
        let Some(answer) =
            span.in_scope(|| self.validator.validate_now(credentials.token.secret()))
        else {
            return Err(credentials);
        };
        let result = answer
            .map_err(BearerError::from_validation)
            .and_then(|claims| self.check_claims(&claims).map(|()| claims));
        match &result {
            Ok(claims) => telemetry::validated(&span, claims.iss.as_deref()),
            Err(error) => telemetry::validation_failed(&span, error.status_code()),
        }
        Ok(result.map(|claims| Authenticated {
            token: credentials.token,
            claims,
        }))
    }

    async fn check(&self, credentials: &Credentials) -> Result<Arc<Claims>, BearerError> {
        let token = credentials.token.secret();
        let (Some(presented), Some(verifier)) = (&credentials.proof, &self.dpop) else {
            let claims = self
                .validator
                .validate(token)
                .await
                .map_err(BearerError::from_validation)?;
            self.check_claims(&claims)?;
            return Ok(claims);
        };
        let invalid_proof = BearerError::InvalidDpopProof;
        // §4.3 steps 2-12 but the binding, before any token work.
        let checked = verifier
            .verify(&presented.proof, &presented.htm, &presented.htu, token)
            .map_err(invalid_proof)?;
        let claims = self
            .validator
            .validate_key_bound(token)
            .await
            .map_err(BearerError::from_validation)?;
        // §4.3 step 12, §6.1: the token is bound to the proof's key.
        checked
            .check_binding(confirmation_jkt(&claims))
            .map_err(invalid_proof)?;
        self.check_claims(&claims)?;
        // §11.1: only a proof that opened the resource is remembered; the first of concurrent
        // copies wins.
        checked.record(verifier).map_err(invalid_proof)?;
        Ok(claims)
    }

    /// What the resource itself requires of a valid token: its audience (RFC 8707), the scopes,
    /// the step-up policy (RFC 9470).
    fn check_claims(&self, claims: &Claims) -> Result<(), BearerError> {
        if let Some(resource) = &self.resource
            && !claims.aud.iter().any(|a| **a == **resource)
        {
            return Err(BearerError::InvalidToken(
                ValidationError::InvalidAudience {
                    expected: vec![resource.to_string()],
                },
            ));
        }
        check_scopes(claims, &self.required_scopes)?;
        if let Some(step_up) = &self.step_up {
            step_up.check(claims)?;
        }
        Ok(())
    }

    /// The answer to `error` under this policy: [`BearerError::reply`]'s status and body, with the
    /// challenges of RFC 6750 §3, RFC 9449 §7.1 (`DPoP algs="…"`, and `Bearer` too unless DPoP is
    /// required) and RFC 9728 §5.1 (`resource_metadata`). What both adapters send.
    pub fn error_reply(&self, error: &BearerError) -> Reply {
        // The description once, for the challenges and the body (as [`BearerError::reply`]).
        let description = error.description();
        let challenges = challenge::challenges(error, self, description.as_deref());
        let mut reply = error.reply_with(description.as_deref(), challenges);
        // RFC 9449 §9: a fresh nonce with every refused proof when nonces are required.
        if let (BearerError::InvalidDpopProof(_), Some(nonce)) =
            (error, self.dpop.as_ref().and_then(|d| d.fresh_nonce()))
        {
            reply = reply.header("dpop-nonce", nonce);
        }
        error.with_retry_after(reply)
    }

    /// Both steps with DPoP ([`credentials`](Self::credentials), then
    /// [`validate_credentials`](Self::validate_credentials)): `Ok(None)` for an anonymous request
    /// in optional mode, the verified token and claims otherwise.
    ///
    /// # Errors
    /// Any [`BearerError`].
    pub async fn authenticate_request<'a, A, D>(
        &self,
        authorization: A,
        dpop_proofs: D,
        target: &ProofTarget<'_>,
    ) -> Result<Option<Authenticated>, BearerError>
    where
        A: IntoIterator<Item = &'a [u8]>,
        D: IntoIterator<Item = &'a [u8]>,
    {
        match self.credentials(authorization, dpop_proofs, target)? {
            Some(credentials) => self.validate_credentials(credentials).await.map(Some),
            None => Ok(None),
        }
    }
}

/// A request's credentials ([`BearerAuthenticator::credentials`]): the access token and, for the
/// `DPoP` scheme, the proof with the request's method and URL. `Debug` never shows the token or
/// the proof.
pub struct Credentials {
    pub(super) token: AccessToken,
    pub(super) proof: Option<PresentedProof>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("dpop", &self.proof.is_some())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Whether the request used the `DPoP` scheme with a proof.
    pub fn is_dpop(&self) -> bool {
        self.proof.is_some()
    }
}

/// A DPoP proof as presented, with what it must match (RFC 9449 §4.3 steps 8-9).
pub(super) struct PresentedProof {
    proof: String,
    htm: String,
    htu: String,
}

/// The one `Authorization` value, if any (RFC 6750 §2.1: several are refused).
fn single_authorization<'a, I>(values: I) -> Result<Option<&'a [u8]>, BearerError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = values.into_iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(BearerError::InvalidRequest(
            "the request carries more than one Authorization header",
        )),
        (Some(value), None) => Ok(Some(value)),
    }
}

/// `cnf.jkt` (RFC 9449 §6.1, RFC 7800 §3.1) of verified claims.
pub(super) fn confirmation_jkt(claims: &Claims) -> Option<&str> {
    claims
        .extra
        .get("cnf")
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(serde_json::Value::as_str)
}
