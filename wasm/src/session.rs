//! The JSON-in/JSON-out session behind the wasm API, kept free of wasm-bindgen so it is tested
//! natively. Contract: docs/design.md, "The wasm API".

use latchkey_core::b64url;
use latchkey_core::client::{CallerContext, Consent, Latchkey as Core};
use latchkey_core::clock::Clock;
use latchkey_core::error::WebAuthnError;
use latchkey_core::options::{parse_creation_options, parse_request_options};
use latchkey_core::passkey::{Passkey, PasskeyRecord};
use latchkey_core::rng::Rng;
use latchkey_core::store::{CredentialStore, MemoryStore, StoreWrite};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A record that could not be loaded, reported by key so the UI can name it.
#[derive(Debug, Clone, Serialize)]
pub struct LoadError {
    pub key: String,
    pub message: String,
}

/// Which passkey the user picked on get, and what the user did.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selection {
    #[serde(default)]
    credential_id: Option<String>,
    #[serde(default)]
    user_present: bool,
    #[serde(default)]
    user_verified: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PasskeySummary<'a> {
    credential_id: String,
    rp_id: &'a str,
    user_name: &'a str,
    user_display_name: &'a str,
    created: u64,
    last_used: Option<u64>,
}

/// The authenticator session: the core client over an in-memory store loaded from records.
#[derive(Debug)]
pub struct Session<R: Rng, C: Clock> {
    core: Core<MemoryStore, R, C>,
    load_errors: Vec<LoadError>,
}

impl<R: Rng, C: Clock> Session<R, C> {
    /// Opens a session from a JSON array of records, skipping (and remembering) the ones that fail.
    pub fn open(records_json: &str, rng: R, clock: C) -> Self {
        let mut store = MemoryStore::default();
        let mut load_errors = Vec::new();
        match serde_json::from_str::<Vec<Value>>(records_json) {
            Ok(values) => {
                for value in values {
                    let key = value
                        .get("credentialId")
                        .and_then(Value::as_str)
                        .map_or_else(|| "cred:?".to_owned(), |id| format!("cred:{id}"));
                    let loaded = serde_json::from_value::<PasskeyRecord>(value)
                        .map_err(|e| e.to_string())
                        .and_then(|record| Passkey::from_record(record).map_err(|e| e.to_string()))
                        .and_then(|passkey| store.put(passkey).map_err(|e| e.to_string()));
                    if let Err(message) = loaded {
                        load_errors.push(LoadError { key, message });
                    }
                }
            }
            Err(e) => load_errors.push(LoadError {
                key: "*".to_owned(),
                message: format!("the stored records are not a JSON array: {e}"),
            }),
        }
        Self {
            core: Core::new(store, rng, clock),
            load_errors,
        }
    }

    pub fn load_errors_json(&self) -> String {
        serde_json::to_string(&self.load_errors).unwrap_or_else(|_| "[]".to_owned())
    }

    pub fn count(&self) -> usize {
        self.core.store.all().len()
    }

    pub fn inspect_create(&self, ctx: &str, options: &str) -> String {
        envelope((|| {
            let ctx = parse_ctx(ctx)?;
            let options = parse_creation_options(options)?;
            self.core.inspect_create(&ctx, &options)
        })())
    }

    pub fn create(&mut self, ctx: &str, options: &str, consent: &str) -> String {
        envelope((|| {
            let ctx = parse_ctx(ctx)?;
            let options = parse_creation_options(options)?;
            let consent: Consent = parse_internal(consent, "consent")?;
            let (response, writes) = self.core.create(&ctx, &options, consent)?;
            Ok(json!({ "response": response, "writes": writes }))
        })())
    }

    pub fn inspect_get(&self, ctx: &str, options: &str) -> String {
        envelope((|| {
            let ctx = parse_ctx(ctx)?;
            let options = parse_request_options(options)?;
            self.core.inspect_get(&ctx, &options)
        })())
    }

    pub fn get(&mut self, ctx: &str, options: &str, selection: &str) -> String {
        envelope((|| {
            let ctx = parse_ctx(ctx)?;
            let options = parse_request_options(options)?;
            let selection: Selection = parse_internal(selection, "selection")?;
            let selected = selection
                .credential_id
                .as_deref()
                .map(b64url::decode)
                .transpose()
                .map_err(|_| {
                    WebAuthnError::not_allowed("the selected credential id is not base64url")
                })?;
            let consent = Consent {
                user_present: selection.user_present,
                user_verified: selection.user_verified,
            };
            let (response, writes) = self
                .core
                .get(&ctx, &options, selected.as_deref(), consent)?;
            Ok(json!({ "response": response, "writes": writes }))
        })())
    }

    pub fn list(&self) -> String {
        let mut all: Vec<PasskeySummary<'_>> = self
            .core
            .store
            .all()
            .into_iter()
            .map(|p| PasskeySummary {
                credential_id: b64url::encode(&p.credential_id),
                rp_id: &p.rp_id,
                user_name: &p.user_name,
                user_display_name: &p.user_display_name,
                created: p.created_ms,
                last_used: p.last_used_ms,
            })
            .collect();
        all.sort_by(|a, b| a.rp_id.cmp(b.rp_id).then(a.user_name.cmp(b.user_name)));
        envelope(Ok(all))
    }

    pub fn remove(&mut self, credential_id: &str) -> String {
        envelope((|| {
            let id = b64url::decode(credential_id)
                .map_err(|_| WebAuthnError::type_error("the credential id is not base64url"))?;
            let removed = self
                .core
                .store
                .remove(&id)
                .map_err(|e| WebAuthnError::unknown(e.to_string()))?;
            let writes = match removed {
                Some(p) => vec![StoreWrite::delete(&p.credential_id)],
                None => Vec::new(),
            };
            Ok(json!({ "writes": writes }))
        })())
    }
}

fn parse_ctx(ctx: &str) -> Result<CallerContext, WebAuthnError> {
    parse_internal(ctx, "caller context")
}

/// Parses JSON that the service worker itself produced; a failure is our bug, not the page's.
fn parse_internal<T: for<'de> Deserialize<'de>>(
    json: &str,
    what: &str,
) -> Result<T, WebAuthnError> {
    serde_json::from_str(json).map_err(|e| WebAuthnError::unknown(format!("invalid {what}: {e}")))
}

fn envelope<T: Serialize>(result: Result<T, WebAuthnError>) -> String {
    let value = match result {
        Ok(ok) => json!({ "ok": ok }),
        Err(error) => json!({ "error": error }),
    };
    serde_json::to_string(&value).unwrap_or_else(|_| {
        r#"{"error":{"name":"UnknownError","message":"could not serialize the result"}}"#.to_owned()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use latchkey_core::clock::FixedClock;
    use latchkey_core::rng::TestRng;

    const ORIGIN: &str = r#"{"origin":"https://login.example.com","topOrigin":null}"#;
    const YES: &str = r#"{"userPresent":true,"userVerified":true}"#;

    fn session(records: &str) -> Session<TestRng, FixedClock> {
        Session::open(records, TestRng::new(7), FixedClock::new(1_700_000_000_000))
    }

    fn creation(user_id: &str) -> String {
        json!({
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": user_id, "name": "alice", "displayName": "Alice"},
            "challenge": "AAECAwQFBgcICQoLDA0ODw",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        })
        .to_string()
    }

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn create_then_get_round_trips_through_records() {
        let mut s = session("[]");
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        let writes = created["ok"]["writes"].as_array().unwrap().clone();
        assert_eq!(writes.len(), 1);
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        assert_eq!(writes[0]["key"], format!("cred:{id}"));

        // Reopen from the written records, as the service worker does after a restart.
        let records = Value::Array(writes.iter().map(|w| w["value"].clone()).collect());
        let mut reopened = session(&records.to_string());
        assert_eq!(reopened.count(), 1);
        assert_eq!(reopened.load_errors_json(), "[]");
        let request = json!({"challenge": "AQID", "rpId": "example.com"}).to_string();
        let inspected = parse(&reopened.inspect_get(ORIGIN, &request));
        assert_eq!(
            inspected["ok"]["candidates"][0]["credentialId"],
            id.as_str()
        );
        let selection = json!({"credentialId": id, "userPresent": true, "userVerified": false});
        let got = parse(&reopened.get(ORIGIN, &request, &selection.to_string()));
        assert_eq!(got["ok"]["response"]["id"], id.as_str());
        assert_eq!(got["ok"]["response"]["response"]["userHandle"], "dXNlci0x");
    }

    #[test]
    fn errors_come_back_as_envelopes_with_dom_names() {
        let mut s = session("[]");
        let wrong_origin = r#"{"origin":"https://evil.test","topOrigin":null}"#;
        let out = parse(&s.create(wrong_origin, &creation("dXNlci0x"), YES));
        assert_eq!(out["error"]["name"], "SecurityError");
        let out = parse(&s.create(ORIGIN, &creation(""), YES));
        assert_eq!(out["error"]["name"], "TypeError");
        let out = parse(&s.create(ORIGIN, "not json", YES));
        assert_eq!(out["error"]["name"], "TypeError");
        assert_eq!(s.count(), 0, "failed calls store nothing");
    }

    #[test]
    fn a_damaged_record_is_reported_and_the_others_still_load() {
        let mut s = session("[]");
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        let good = created["ok"]["writes"][0]["value"].clone();
        let bad = json!({"v": 1, "credentialId": "AAAA", "privateKey": "not-a-key"});
        let reopened = session(&Value::Array(vec![bad, good]).to_string());
        assert_eq!(reopened.count(), 1);
        let errors = parse(&reopened.load_errors_json());
        assert_eq!(errors[0]["key"], "cred:AAAA");
    }

    #[test]
    fn remove_returns_a_delete_write() {
        let mut s = session("[]");
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        let removed = parse(&s.remove(&id));
        assert_eq!(removed["ok"]["writes"][0]["key"], format!("cred:{id}"));
        assert!(removed["ok"]["writes"][0]["value"].is_null());
        assert_eq!(s.count(), 0);
        assert_eq!(parse(&s.list())["ok"], json!([]));
    }
}
