//! CAS ticket validation (CAS Protocol 3.0 §2.4 `/validate`, §2.5 `/serviceValidate`), GenAuth as the
//! CAS server at `{app_host}/cas-idp/{app_id}` (or any CAS server via the configured base URL).
//!
//! CAS 1.0 answers plain text (`yes\n<user>\n` / `no\n\n`); CAS 2.0 answers XML by default
//! (namespace `http://www.yale.edu/tp/cas`) or JSON with `format=JSON`.

use crate::{Client, Error, ExtraClaims, http};
use quick_xml::events::Event;
use serde_json::Value;

/// The response format asked of `serviceValidate`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CasFormat {
    /// XML, the CAS default.
    #[default]
    Xml,
    /// JSON (`format=JSON`).
    Json,
}

/// The result of CAS 1.0 ticket validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasV1Validation {
    /// Whether the server accepted the ticket (`yes`).
    pub valid: bool,
    /// The user name on success.
    pub user: Option<String>,
}

/// A successful CAS 2.0 authentication: the user and their attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct CasAuthentication {
    /// `cas:user`: the user name.
    pub user: String,
    /// `cas:attributes` (GenAuth: `sub`, `email`, `nickname`, `authenticationDate`, `address`, ...):
    /// text values as strings, repeated elements as arrays, nested elements as objects.
    pub attributes: ExtraClaims,
}

/// Deepest XML nesting accepted: CAS responses are four levels deep; this bounds the work hostile input
/// can cause.
const MAX_DEPTH: usize = 16;

impl Client {
    /// Validates a service ticket with CAS 1.0 (`GET {cas}/validate?service=&ticket=`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a CAS base URL; [`Error::InvalidResponse`] when the body is neither
    /// `yes\n<user>\n` nor `no\n...`; transport and status errors.
    pub async fn validate_cas_ticket_v1(
        &self,
        service: &str,
        ticket: &str,
    ) -> Result<CasV1Validation, Error> {
        const ENDPOINT: &str = "cas_validate";
        let url = self.cas_endpoint("validate")?;
        let request = self
            .http_client()
            .get(url)
            .query(&[("service", service), ("ticket", ticket)]);
        let body = http::send(ENDPOINT, request).await?.success(ENDPOINT)?;
        parse_v1(body.text(ENDPOINT)?)
    }

    /// Validates a service ticket with CAS 2.0 in XML (`GET {cas}/serviceValidate?service=&ticket=`).
    /// `service` must be exactly the one the ticket was issued for (the login's callback URL).
    ///
    /// # Errors
    /// [`Error::Cas`] when the server rejects the ticket (`authenticationFailure`, e.g. `INVALID_TICKET`);
    /// [`Error::InvalidResponse`] for a body that is not a CAS service response; [`Error::Unsupported`]
    /// without a CAS base URL; transport and status errors.
    pub async fn validate_cas_ticket_v2(
        &self,
        service: &str,
        ticket: &str,
    ) -> Result<CasAuthentication, Error> {
        self.validate_cas_ticket_v2_format(service, ticket, CasFormat::Xml)
            .await
    }

    /// As [`Client::validate_cas_ticket_v2`], asking for `format` (`JSON` is GenAuth's JS SDK default).
    ///
    /// # Errors
    /// As [`Client::validate_cas_ticket_v2`].
    pub async fn validate_cas_ticket_v2_format(
        &self,
        service: &str,
        ticket: &str,
        format: CasFormat,
    ) -> Result<CasAuthentication, Error> {
        const ENDPOINT: &str = "cas_service_validate";
        let url = self.cas_endpoint("serviceValidate")?;
        let mut query = vec![("service", service), ("ticket", ticket)];
        if format == CasFormat::Json {
            query.push(("format", "JSON"));
        }
        let request = self.http_client().get(url).query(&query);
        let body = http::send(ENDPOINT, request).await?.success(ENDPOINT)?;
        let text = body.text(ENDPOINT)?;
        // Servers may ignore `format`; decide by content.
        if text.trim_start().starts_with('{') {
            parse_v2_json(text)
        } else {
            parse_v2_xml(text)
        }
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidResponse {
        endpoint: "cas",
        reason: reason.into(),
    }
}

/// `yes\n<user>\n` or `no\n\n` (CAS Protocol 3.0 §2.4.2).
fn parse_v1(text: &str) -> Result<CasV1Validation, Error> {
    let mut lines = text.lines();
    match lines.next().map(str::trim) {
        Some("yes") => {
            let user = lines
                .next()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| invalid("CAS 1.0 `yes` without a user name"))?;
            Ok(CasV1Validation {
                valid: true,
                user: Some(user.to_owned()),
            })
        }
        Some("no") => Ok(CasV1Validation {
            valid: false,
            user: None,
        }),
        _ => Err(invalid("not a CAS 1.0 response (expected `yes` or `no`)")),
    }
}

/// `{"serviceResponse": {"authenticationSuccess": {...}}}` or a failure, with or without the
/// `serviceResponse` wrapper (GenAuth's JS SDK types omit it).
fn parse_v2_json(text: &str) -> Result<CasAuthentication, Error> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("CAS JSON does not parse: {e}")))?;
    let response = value.get("serviceResponse").unwrap_or(&value);
    if let Some(success) = response.get("authenticationSuccess") {
        let user = success
            .get("user")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("authenticationSuccess without a `user`"))?;
        let attributes = match success.get("attributes") {
            Some(Value::Object(map)) => map.clone(),
            _ => ExtraClaims::new(),
        };
        return Ok(CasAuthentication {
            user: user.to_owned(),
            attributes,
        });
    }
    let failure = response
        .get("authenticationFailure")
        .ok_or_else(|| invalid("neither authenticationSuccess nor authenticationFailure"))?;
    let field = |name| {
        failure
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Err(Error::Cas {
        code: field("code"),
        description: field("description"),
    })
}

/// A parsed XML element: local name, `code` attribute (the only one CAS uses), text, children.
#[derive(Default, Debug)]
struct Element {
    name: String,
    code: Option<String>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text as a string, children as an object (repeated names become arrays).
    fn to_value(&self) -> Value {
        if self.children.is_empty() {
            return Value::String(self.text.clone());
        }
        let mut map = ExtraClaims::new();
        for child in &self.children {
            insert_repeated(&mut map, &child.name, child.to_value());
        }
        Value::Object(map)
    }
}

fn insert_repeated(map: &mut ExtraClaims, name: &str, value: Value) {
    match map.get_mut(name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            map.insert(name.to_owned(), value);
        }
    }
}

/// Parses XML into an [`Element`] tree with namespace prefixes dropped. quick-xml expands no external
/// entities (no XXE), and depth is bounded by [`MAX_DEPTH`].
fn parse_xml(text: &str) -> Result<Element, Error> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = vec![Element::default()];
    let local = |name: &str| name.to_owned();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| invalid(format!("CAS XML does not parse: {e}")))?;
        match event {
            Event::Start(_) | Event::Empty(_) if stack.len() > MAX_DEPTH => {
                return Err(invalid("CAS XML nested too deeply"));
            }
            Event::Start(start) => {
                stack.push(element(&start, local(start.local_name().as_ref())));
            }
            Event::Empty(start) => {
                let el = element(&start, local(start.local_name().as_ref()));
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| invalid("unbalanced CAS XML"))?;
                let parent = stack
                    .last_mut()
                    .ok_or_else(|| invalid("unbalanced CAS XML"))?;
                parent.children.push(el);
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            // `&amp;`, `&#38;`: predefined and character references only; any other entity is refused.
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| invalid(format!("CAS XML: unknown entity `{name}`")))?
                            .to_owned()
                    }
                };
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&resolved);
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(root), true) => Ok(root),
        _ => Err(invalid("unbalanced CAS XML")),
    }
}

fn element(start: &quick_xml::events::BytesStart<'_>, name: String) -> Element {
    let code = start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "code")
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        });
    Element {
        name,
        code,
        ..Element::default()
    }
}

/// `cas:serviceResponse/cas:authenticationSuccess` (user + attributes) or `cas:authenticationFailure`.
fn parse_v2_xml(text: &str) -> Result<CasAuthentication, Error> {
    let root = parse_xml(text)?;
    let response = root
        .child("serviceResponse")
        .ok_or_else(|| invalid("no cas:serviceResponse element"))?;
    if let Some(success) = response.child("authenticationSuccess") {
        let user = success
            .child("user")
            .map(|u| u.text.trim().to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| invalid("authenticationSuccess without a cas:user"))?;
        let mut attributes = ExtraClaims::new();
        if let Some(attrs) = success.child("attributes") {
            for attr in &attrs.children {
                insert_repeated(&mut attributes, &attr.name, attr.to_value());
            }
        }
        return Ok(CasAuthentication { user, attributes });
    }
    let failure = response
        .child("authenticationFailure")
        .ok_or_else(|| invalid("neither authenticationSuccess nor authenticationFailure"))?;
    Err(Error::Cas {
        code: failure.code.clone().unwrap_or_default(),
        description: failure.text.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_text() {
        assert_eq!(
            parse_v1("yes\nalice\n").unwrap(),
            CasV1Validation {
                valid: true,
                user: Some("alice".into())
            }
        );
        assert!(!parse_v1("no\n\n").unwrap().valid);
        assert!(parse_v1("yes\n\n").is_err());
        assert!(parse_v1("{\"valid\":true}").is_err());
        assert!(parse_v1("").is_err());
    }

    const SUCCESS: &str = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
      <cas:authenticationSuccess>
        <cas:user>alice</cas:user>
        <cas:attributes>
          <cas:authenticationDate>2024-01-01T00:00:00Z</cas:authenticationDate>
          <cas:longTermAuthenticationRequestTokenUsed>false</cas:longTermAuthenticationRequestTokenUsed>
          <cas:sub>u1</cas:sub>
          <cas:email>a&amp;b&#64;example.com</cas:email>
          <cas:role>admin</cas:role><cas:role>dev</cas:role>
          <cas:address><cas:country>CN</cas:country></cas:address>
          <cas:picture/>
        </cas:attributes>
      </cas:authenticationSuccess>
    </cas:serviceResponse>"#;

    #[test]
    fn v2_xml_success() {
        let auth = parse_v2_xml(SUCCESS).unwrap();
        assert_eq!(auth.user, "alice");
        assert_eq!(auth.attributes["sub"], "u1");
        assert_eq!(auth.attributes["email"], "a&b@example.com");
        assert_eq!(auth.attributes["role"], serde_json::json!(["admin", "dev"]));
        assert_eq!(auth.attributes["address"]["country"], "CN");
        assert_eq!(auth.attributes["picture"], "");
    }

    #[test]
    fn v2_xml_failure() {
        let xml = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
            <cas:authenticationFailure code="INVALID_TICKET">Ticket ST-1 not recognized</cas:authenticationFailure>
        </cas:serviceResponse>"#;
        match parse_v2_xml(xml) {
            Err(Error::Cas { code, description }) => {
                assert_eq!(code, "INVALID_TICKET");
                assert_eq!(description, "Ticket ST-1 not recognized");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn v2_xml_hostile_input() {
        for bad in [
            "",
            "not xml",
            "<cas:serviceResponse>",
            "<a></b>",
            "<other/>",
            "<cas:serviceResponse><cas:authenticationSuccess></cas:authenticationSuccess></cas:serviceResponse>",
        ] {
            assert!(parse_v2_xml(bad).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(
            parse_v2_xml(&deep),
            Err(Error::InvalidResponse { .. })
        ));
        let xxe = r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><cas:serviceResponse><cas:authenticationSuccess><cas:user>&x;</cas:user></cas:authenticationSuccess></cas:serviceResponse>"#;
        assert!(parse_v2_xml(xxe).is_err());
    }

    #[test]
    fn v2_json_both_failure_shapes() {
        let ok = r#"{"serviceResponse":{"authenticationSuccess":{"user":"bob","attributes":{"sub":"u2","address":{}}}}}"#;
        let auth = parse_v2_json(ok).unwrap();
        assert_eq!(auth.user, "bob");
        assert_eq!(auth.attributes["sub"], "u2");
        for fail in [
            r#"{"serviceResponse":{"authenticationFailure":{"code":"INVALID_TICKET","description":"bad"}}}"#,
            r#"{"authenticationFailure":{"code":"INVALID_TICKET","description":"bad"}}"#,
        ] {
            assert!(
                matches!(parse_v2_json(fail), Err(Error::Cas { code, .. }) if code == "INVALID_TICKET")
            );
        }
        assert!(parse_v2_json("{}").is_err());
        assert!(parse_v2_json("[").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 256,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Any answer of a CAS server, XML, JSON or CAS 1.0 text: a result or a typed error, never a
        /// panic; a well-formed success round-trips its user.
        #[test]
        fn cas_answers_never_panic(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), user in "[a-z0-9]{1,20}") {
            let text = String::from_utf8_lossy(&raw);
            let _ = parse_v1(&text);
            let _ = parse_v2_json(&text);
            let _ = parse_v2_xml(&text);
            let wrapped = format!("<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>{text}</cas:serviceResponse>");
            let _ = parse_v2_xml(&wrapped);
            let ok = format!("<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'><cas:authenticationSuccess><cas:user>{user}</cas:user></cas:authenticationSuccess></cas:serviceResponse>");
            proptest::prop_assert_eq!(parse_v2_xml(&ok).ok().map(|a| a.user), Some(user));
        }
    }
}
