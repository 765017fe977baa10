//! The `genauth` client's CAS calls against a real CAS server (`django-cas-server`, started on
//! loopback by `genauth_tests::cas`): CAS 1.0 `validate`, 2.0 `serviceValidate` with the 3.0
//! attributes, ticket replay and a wrong service refused.

use genauth::{Client, ClientConfig, Protocol};
use genauth_tests::cas::{EMAIL, TestCas, USER};

const SERVICE: &str = "http://127.0.0.1:9/callback";

fn client(cas: &TestCas) -> Client {
    let config = ClientConfig::builder("cas-app")
        .protocol(Protocol::Cas)
        // The config needs a provider host; the CAS base URL is what the CAS calls use.
        .app_host(&cas.origin)
        .cas_base_url(&cas.url)
        .client_secret("unused-by-cas")
        .redirect_uri(SERVICE)
        .build()
        .expect("CAS config");
    Client::new(config).expect("client")
}

/// A fresh service ticket for [`SERVICE`], through the server's login page.
async fn ticket(cas: &TestCas) -> String {
    let browser = cas.browser();
    let start = format!("{}/login?service={SERVICE}", cas.url);
    // The service (port 9) does not answer: stop at the redirect to it, carrying the ticket.
    let login = browser.follow(&start).await;
    let mut form = login
        .page
        .forms()
        .into_iter()
        .find(|f| f.field("lt").is_some())
        .expect("CAS login form");
    form.set("username", USER);
    form.set("password", genauth_tests::cas::PASSWORD);
    let fields: Vec<(&str, &str)> = form
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = browser.post_form(form.action.as_str(), &fields).await;
    let location = response.location().expect("a redirect to the service");
    assert_eq!(location.as_str().split('?').next(), Some(SERVICE));
    location
        .query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .expect("ticket")
}

#[tokio::test]
async fn cas1_validate_and_replay_refused() {
    let cas = TestCas::start().await;
    let client = client(&cas);
    let ticket = ticket(&cas).await;
    let first = client
        .validate_cas_ticket_v1(SERVICE, &ticket)
        .await
        .unwrap();
    assert!(first.valid);
    assert_eq!(first.user.as_deref(), Some(USER));
    // Single use (CAS Protocol 3.0 §3.1.1).
    let again = client
        .validate_cas_ticket_v1(SERVICE, &ticket)
        .await
        .unwrap();
    assert!(!again.valid && again.user.is_none());
}

#[tokio::test]
async fn cas2_service_validate_with_cas3_attributes() {
    let cas = TestCas::start().await;
    let client = client(&cas);
    let ticket = ticket(&cas).await;
    let auth = client
        .validate_cas_ticket_v2(SERVICE, &ticket)
        .await
        .unwrap();
    assert_eq!(auth.user, USER);
    assert_eq!(auth.attributes["email"], EMAIL);
    assert_eq!(
        auth.attributes["alias"],
        serde_json::json!(["demo1", "demo2"])
    );

    let replay = client
        .validate_cas_ticket_v2(SERVICE, &ticket)
        .await
        .unwrap_err();
    assert!(
        matches!(&replay, genauth::Error::Cas { code, .. } if code == "INVALID_TICKET"),
        "{replay:?}"
    );
    // A ticket is bound to its service (§2.5.1).
    let other = ticket_for_other_service(&cas, &client).await;
    assert!(
        matches!(&other, genauth::Error::Cas { code, .. } if code == "INVALID_SERVICE" || code == "INVALID_TICKET"),
        "{other:?}"
    );
}

async fn ticket_for_other_service(cas: &TestCas, client: &Client) -> genauth::Error {
    let ticket = ticket(cas).await;
    client
        .validate_cas_ticket_v2("http://127.0.0.1:9/elsewhere", &ticket)
        .await
        .unwrap_err()
}
