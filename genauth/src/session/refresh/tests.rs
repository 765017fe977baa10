//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! A shared refresh result goes only to the session it belongs to.

use super::super::tests::{as_request, login_state, manager_at, mount_rotating_refresh, user};
use super::*;
use crate::web::{RequestCookies, RequestHead};
use std::time::SystemTime;
use wiremock::MockServer;

fn due_session() -> Session {
    let mut tokens = login_state(0);
    tokens.id_token = None;
    tokens.expires_at = Some(SystemTime::now());
    Session::with_tokens(user(), tokens)
}

fn request_of(manager: &SessionManager, session: &Session) -> RequestHead {
    as_request(&manager.store(session, &RequestCookies::default()).unwrap())
}

#[tokio::test]
async fn another_session_with_the_same_refresh_token_does_not_get_the_result() {
    let server = MockServer::start().await;
    let manager = manager_at(&server);
    // The provider rotates refresh tokens: the first use of rt-secret works, a second is refused.
    mount_rotating_refresh(&server, Duration::ZERO).await;
    let (first, second) = (due_session(), due_session());
    assert_ne!(first.id(), second.id());
    assert!(
        first.id().is_some_and(|id| id.len() >= 22),
        "128 random bits"
    );
    let first_request = request_of(&manager, &first);
    let refreshed = manager.load(&first_request).await.session.unwrap();
    assert_eq!(refreshed.access_token().unwrap().secret(), "at-2");
    assert_eq!(
        refreshed.id(),
        first.id(),
        "a refresh keeps the session's ID"
    );
    assert_eq!(refreshed.created_at_secs(), first.created_at_secs());
    // Requests of the same session share the result (one provider call so far)…
    let again = manager.load(&first_request).await.session.unwrap();
    assert_eq!(again.refresh_token().unwrap().secret(), "rt-2");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    // …another session holding the same refresh token does not: it asks the provider itself.
    let other = manager.load(&request_of(&manager, &second)).await;
    assert!(
        other.session.is_none(),
        "the provider refused the reused token"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
