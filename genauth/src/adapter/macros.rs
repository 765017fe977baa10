//! The two mechanical macros every adapter expands, so that the extractor types and their rejection
//! catalog are the same, with the same docs, in each (axum-core's `__define_rejection!` style). They
//! define no behaviour: statuses, bodies and responses come from [`ExtractError`](super::ExtractError),
//! and each adapter implements its framework's traits for the types. An adapter that expands them
//! depends on this crate with an exact version (`=x.y.z`).

/// Defines a web adapter's extractor types `Claims<T>`, `SharedClaims`, `AuthUser`, `AccessToken` and `LoginState`
/// (newtypes over the core types, with `Deref`/`DerefMut`): the same types, docs and names in every
/// adapter, which then implements its framework's extractor trait for them with the `extract_*`
/// functions of [`adapter`](crate::adapter). Not for applications.
#[doc(hidden)]
#[macro_export]
macro_rules! __extractor_types {
    () => {
        /// The bearer token's verified claims ([`genauth::Claims<T>`]), with the extra claims
        /// deserialized as `T` (default: a JSON map). Needs [`BearerAuthLayer`](crate::BearerAuthLayer)
        /// on the route.
        ///
        /// Rejection: [`ClaimsRejection`](crate::rejection::ClaimsRejection). `Option<Claims<T>>` is
        /// `None` for an anonymous request in optional mode.
        #[derive(Clone, Debug)]
        pub struct Claims<T = $crate::ExtraClaims>(pub $crate::Claims<T>);
        $crate::__extractor_types!(@deref Claims<T>, $crate::Claims<T>);

        /// The bearer token's verified claims as the validator verified (and cached) them: a
        /// shared [`genauth::Claims`] (`Arc`), so that a handler reads them without a copy per
        /// request. The extra claims are the JSON map; for a typed `T`, use [`Claims<T>`]. Needs
        /// [`BearerAuthLayer`](crate::BearerAuthLayer) on the route.
        ///
        /// Rejection: [`ClaimsRejection`](crate::rejection::ClaimsRejection). `Option<SharedClaims>`
        /// is `None` for an anonymous request in optional mode.
        #[derive(Clone, Debug)]
        pub struct SharedClaims(pub ::std::sync::Arc<$crate::Claims>);
        impl ::core::ops::Deref for SharedClaims {
            type Target = $crate::Claims;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        /// The signed-in user ([`genauth::session::AuthUser`]: `sub`, claims such as `name` and
        /// `email`, the protocol). Needs [`SessionLayer`](crate::SessionLayer) (or the login-required
        /// one) on the route.
        ///
        /// Rejection: [`AuthUserRejection`](crate::rejection::AuthUserRejection) (401 when not signed
        /// in; put the route behind [`WebAuth::require_login`](crate::WebAuth::require_login) to
        /// redirect browsers instead).
        #[derive(Clone, Debug)]
        pub struct AuthUser(pub $crate::session::AuthUser);
        $crate::__extractor_types!(@deref AuthUser, $crate::session::AuthUser);

        /// The access token: the request's bearer token under
        /// [`BearerAuthLayer`](crate::BearerAuthLayer), else the signed-in session's (to call APIs on
        /// the user's behalf). `Debug` is redacted.
        ///
        /// Rejection: [`AccessTokenRejection`](crate::rejection::AccessTokenRejection).
        #[derive(Clone, Debug)]
        pub struct AccessToken(pub $crate::AccessToken);
        $crate::__extractor_types!(@deref AccessToken, $crate::AccessToken);

        /// The signed-in session's tokens and their verified claims
        /// ([`genauth::token::LoginState`]). Needs [`SessionLayer`](crate::SessionLayer). `Debug`
        /// redacts the tokens.
        ///
        /// Rejection: [`LoginStateRejection`](crate::rejection::LoginStateRejection) (also when the
        /// session holds no tokens, as after a CAS sign-in).
        #[derive(Clone, Debug)]
        pub struct LoginState(pub $crate::token::LoginState);
        $crate::__extractor_types!(@deref LoginState, $crate::token::LoginState);
    };
    (@deref $name:ident $(<$t:ident>)?, $target:ty) => {
        impl$(<$t>)? ::core::ops::Deref for $name$(<$t>)? {
            type Target = $target;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
        impl$(<$t>)? ::core::ops::DerefMut for $name$(<$t>)? {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    };
}

/// Defines a web adapter's extractor rejection types, in axum-core's style: one type per failure
/// ([`ExtractError`](crate::adapter::ExtractError) gives its status and body) and one enum per extractor composing them, with
/// `status()` (`$status`: the framework's `StatusCode` type), `body_text()`, `reply()`, `kind()`,
/// `Display`, `Error`, and the conversions from [`ExtractError`](crate::adapter::ExtractError). `$respond` is a macro of the
/// adapter implementing its framework's response trait for one of these types from its `status()`
/// and `reply()`. The same catalog in every adapter. Not for applications.
#[doc(hidden)]
#[macro_export]
macro_rules! __extractor_rejections {
    ($status:ty, $respond:ident) => {
        $crate::__extractor_rejections!(@unit $status, $respond, MissingBearerLayer,
            "The route has no [`BearerAuthLayer`](crate::BearerAuthLayer): `Claims` cannot be extracted. 500.");
        $crate::__extractor_rejections!(@unit $status, $respond, MissingSessionLayer,
            "The route has no [`SessionLayer`](crate::SessionLayer). 500.");
        $crate::__extractor_rejections!(@unit $status, $respond, MissingAuthLayer,
            "The route has neither a [`SessionLayer`](crate::SessionLayer) nor a [`BearerAuthLayer`](crate::BearerAuthLayer). 500.");
        $crate::__extractor_rejections!(@unit $status, $respond, NotSignedIn,
            "No session: the user is not signed in. 401.");
        $crate::__extractor_rejections!(@unit $status, $respond, NoAccessToken,
            "Neither a bearer token nor a session holding an access token. 401.");
        $crate::__extractor_rejections!(@unit $status, $respond, NoLoginState,
            "The user is signed in but the session holds no tokens (CAS sign-in). 401.");

        /// The request has no bearer token (the layer is in optional mode). 401 with a bare
        /// `WWW-Authenticate: Bearer realm="…"` challenge (RFC 6750 §3.1) and the layer's JSON body.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct MissingBearerToken {
            /// The layer's realm.
            pub realm: String,
        }

        impl MissingBearerToken {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::adapter::ExtractError {
                $crate::adapter::ExtractError::MissingBearerToken { realm: self.realm.clone() }
            }

            fn from_kind(kind: &$crate::adapter::ExtractError) -> Option<Self> {
                match kind {
                    $crate::adapter::ExtractError::MissingBearerToken { realm } => {
                        Some(Self { realm: realm.clone() })
                    }
                    _ => None,
                }
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, MissingBearerToken);
        impl ::std::error::Error for MissingBearerToken {}

        /// The token is valid but its claims do not deserialize into the handler's claims type (a
        /// required claim is missing or has another type). 401 `invalid_token` (RFC 6750 §3.1), as
        /// the layer answers.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct InvalidClaims {
            /// What serde reported (claim names and types).
            pub reason: String,
            /// The layer's realm.
            pub realm: String,
        }

        impl InvalidClaims {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::adapter::ExtractError {
                $crate::adapter::ExtractError::InvalidClaims {
                    reason: self.reason.clone(),
                    realm: self.realm.clone(),
                }
            }

            fn from_kind(kind: &$crate::adapter::ExtractError) -> Option<Self> {
                match kind {
                    $crate::adapter::ExtractError::InvalidClaims { reason, realm } => Some(Self {
                        reason: reason.clone(),
                        realm: realm.clone(),
                    }),
                    _ => None,
                }
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, InvalidClaims);
        impl ::std::error::Error for InvalidClaims {}

        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`Claims`](crate::Claims).",
            ClaimsRejection {
                "No bearer token (optional mode)." MissingBearerToken,
                "The claims do not fit the type." InvalidClaims,
                "No bearer layer on the route." MissingBearerLayer,
            } else MissingBearerLayer);
        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`AuthUser`](crate::AuthUser).",
            AuthUserRejection {
                "No session." NotSignedIn,
                "No session layer on the route." MissingSessionLayer,
            } else MissingSessionLayer);
        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`AccessToken`](crate::AccessToken).",
            AccessTokenRejection {
                "Neither a bearer token nor a session with tokens." NoAccessToken,
                "Neither layer on the route." MissingAuthLayer,
            } else MissingAuthLayer);
        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`LoginState`](crate::LoginState).",
            LoginStateRejection {
                "No session." NotSignedIn,
                "A session without tokens." NoLoginState,
                "No session layer on the route." MissingSessionLayer,
            } else MissingSessionLayer);
    };
    (@unit $status:ty, $respond:ident, $name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name;

        impl $name {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::adapter::ExtractError {
                $crate::adapter::ExtractError::$name
            }

            fn from_kind(kind: &$crate::adapter::ExtractError) -> Option<Self> {
                matches!(kind, $crate::adapter::ExtractError::$name).then_some(Self)
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, $name);
        impl ::std::error::Error for $name {}
    };
    (@composite $status:ty, $respond:ident, $doc:literal,
        $name:ident { $($vdoc:literal $variant:ident),+ $(,)? } else $fallback:ident) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $(#[doc = $vdoc] $variant($variant),)+
        }

        impl $name {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::adapter::ExtractError {
                match self {
                    $(Self::$variant(inner) => inner.kind(),)+
                }
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, $name);

        impl ::std::error::Error for $name {
            fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    $(Self::$variant(inner) => Some(inner),)+
                }
            }
        }

        $(
            impl From<$variant> for $name {
                fn from(inner: $variant) -> Self {
                    Self::$variant(inner)
                }
            }
        )+

        /// The extractor's failures only ever are its variants; anything else would be a bug,
        /// answered as a missing layer (500).
        impl From<$crate::adapter::ExtractError> for $name {
            fn from(kind: $crate::adapter::ExtractError) -> Self {
                $(if let Some(inner) = $variant::from_kind(&kind) {
                    return Self::$variant(inner);
                })+
                Self::$fallback($fallback)
            }
        }
    };
    (@common $status:ty, $respond:ident, $name:ident) => {
        impl $name {
            /// The response status.
            pub fn status(&self) -> $status {
                <$status>::from_u16(self.kind().status_code())
                    .unwrap_or(<$status>::INTERNAL_SERVER_ERROR)
            }

            /// The response body.
            pub fn body_text(&self) -> String {
                self.kind().body_text()
            }

            /// The response, framework-neutral.
            pub fn reply(&self) -> $crate::web::Reply {
                self.kind().reply()
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.kind(), f)
            }
        }

        $respond!($name);
    };
}
