//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! Logout and sign-out everywhere end every copy of a session's cookie; the absolute lifetime is
//! never extended; the list stays bounded.

use super::super::tests::{as_request, login_state, manager, user};
use super::super::{AuthUser, SessionError, SessionManager};
use super::*;
use crate::config::Protocol;
use crate::web::{RequestCookies, RequestHead};
use std::sync::Arc;
use std::time::Duration;

fn stored(manager: &SessionManager, session: &Session) -> RequestHead {
    as_request(&manager.store(session, &RequestCookies::default()).unwrap())
}

fn session_of(sub: &str) -> Session {
    Session::with_tokens(AuthUser::new(sub, Protocol::Oidc), login_state(0))
}

#[tokio::test]
async fn a_saved_cookie_reads_as_signed_out_after_logout() {
    let m = manager();
    let saved = stored(&m, &Session::with_tokens(user(), login_state(0)));
    let other = stored(&m, &Session::with_tokens(user(), login_state(0)));
    assert!(m.open(&saved).is_some());
    let out = m.logout(&saved, None).await;
    assert_eq!(out.set_cookies[0].name(), "genauth_session");
    assert!(m.open(&saved).is_none(), "the saved copy is signed out");
    assert!(m.clone().open(&saved).is_none(), "clones share the list");
    assert!(
        m.open(&other).is_some(),
        "another session of the user goes on"
    );
    assert_eq!(m.get_revocations().len(), 1);
}

#[test]
fn sign_out_everywhere_ends_the_users_sessions_started_until_now() {
    let m = manager();
    let (a, b, c) = (
        stored(&m, &session_of("u-1")),
        stored(&m, &session_of("u-1")),
        stored(&m, &session_of("u-2")),
    );
    m.sign_out_everywhere("u-1").unwrap();
    assert!(m.open(&a).is_none());
    assert!(m.open(&b).is_none());
    assert!(m.open(&c).is_some(), "another user");
    let mut later = session_of("u-1");
    later.created_at += 2;
    assert!(m.open(&stored(&m, &later)).is_some(), "a later sign-in");
}

#[test]
fn the_absolute_lifetime_bounds_the_cookie_and_the_session() {
    let m = manager().absolute_lifetime(Duration::from_secs(3600));
    assert_eq!(m.get_absolute_lifetime(), Duration::from_secs(3600));
    let mut old = session_of("u-1");
    old.created_at -= 3000;
    let cookies = m.store(&old, &RequestCookies::default()).unwrap();
    let max_age = cookies[0].max_age().unwrap().whole_seconds();
    assert!((598..=600).contains(&max_age), "{max_age}");
    assert!(m.open(&as_request(&cookies)).is_some());
    // Sealed for the session TTL (as a cookie written before the limit was lowered would be).
    let mut over = session_of("u-1");
    over.created_at -= 3601;
    let sealed = manager().store(&over, &RequestCookies::default()).unwrap();
    assert!(m.open(&as_request(&sealed)).is_none(), "over");
}

#[test]
fn ending_a_provider_session_ends_its_sessions() {
    let m = manager();
    let with_sid = |sid: &str| {
        let mut session = session_of("u-1");
        if let Some(claims) = session
            .tokens
            .as_mut()
            .and_then(|t| t.id_token_claims.as_mut())
        {
            claims.extra.insert("sid".into(), sid.into());
        }
        session
    };
    assert_eq!(with_sid("op-1").provider_sid(), Some("op-1"));
    let (a, b) = (stored(&m, &with_sid("op-1")), stored(&m, &with_sid("op-2")));
    let none = stored(&m, &session_of("u-1"));
    assert_eq!(session_of("u-1").provider_sid(), None);
    m.end_provider_session("op-1").unwrap();
    assert!(m.open(&a).is_none());
    assert!(m.open(&b).is_some());
    assert!(m.open(&none).is_some());
}

#[test]
fn the_list_is_bounded_and_prunes_expired_entries() {
    let list = Revocations::new(2);
    let now = now_secs();
    assert!(list.revoke_session("a", now + 60));
    assert!(list.revoke_subject("u", now, now + 60));
    assert!(
        list.revoke_session("a", now + 120),
        "an update takes no room"
    );
    assert!(!list.revoke_session("b", now + 60), "full");
    let past = Revocations::new(1);
    assert!(past.revoke_session("a", now - 1));
    assert!(
        past.revoke_session("b", now + 60),
        "the expired entry was pruned"
    );
    assert_eq!(past.len(), 1);
    assert_eq!(format!("{past:?}"), "Revocations { capacity: 1, len: 1 }");

    let m = manager().revocations(Arc::new(Revocations::new(0)));
    let error = m.end_session(&session_of("u-1")).unwrap_err();
    assert!(matches!(
        error,
        SessionError::RevocationsFull { capacity: 0 }
    ));
    assert_eq!(error.status_code(), 503);
    assert!(m.sign_out_everywhere("u-1").is_err());
}
