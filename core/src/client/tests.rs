#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::authenticator::rp_id_hash;
use crate::clock::FixedClock;
use crate::error::ErrorName;
use crate::options::{parse_creation_options, parse_request_options};
use crate::rng::TestRng;
use crate::store::MemoryStore;
use crate::test_hex::to_hex as hex;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{json, Value};

const T0: u64 = 1_700_000_000_000;
const YES: Consent = Consent {
    user_present: true,
    user_verified: true,
};
const PRESENT: Consent = Consent {
    user_present: true,
    user_verified: false,
};
const NO: Consent = Consent {
    user_present: false,
    user_verified: false,
};

type Client = Latchkey<MemoryStore, TestRng, FixedClock>;

fn client() -> Client {
    Latchkey::new(MemoryStore::new(), TestRng::new(42), FixedClock::new(T0))
}

fn ctx(origin: &str) -> CallerContext {
    CallerContext {
        origin: origin.into(),
        top_origin: None,
    }
}

fn creation_json() -> Value {
    json!({
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
        "extensions": {"credProps": true},
    })
}

fn creation_with(f: impl FnOnce(&mut Value)) -> CreationOptions {
    let mut v = creation_json();
    f(&mut v);
    parse_creation_options(&v.to_string()).unwrap()
}

fn creation() -> CreationOptions {
    creation_with(|_| {})
}

fn request(v: Value) -> RequestOptions {
    parse_request_options(&v.to_string()).unwrap()
}

/// Our JSON text as serde_json reads it (the reference reader).
fn as_serde(o: &Object) -> Value {
    serde_json::from_str(&o.to_json_string()).unwrap()
}

fn d(s: &str) -> Vec<u8> {
    b64url::decode(s).unwrap()
}

fn create_ok(
    c: &mut Client,
    origin: &str,
    opts: &CreationOptions,
) -> (RegistrationResponseJSON, Vec<StoreWrite>) {
    c.create(&ctx(origin), opts, YES).unwrap()
}

/// Independently decoded attested credential data.
struct Attested {
    rp_id_hash: Vec<u8>,
    flags: u8,
    sign_count: u32,
    aaguid: Vec<u8>,
    credential_id: Vec<u8>,
    x: Vec<u8>,
    y: Vec<u8>,
}

/// Decodes an attestation object with ciborium and walks the authenticator data by hand.
fn decode_attestation(object: &[u8]) -> Attested {
    let value: ciborium::Value = ciborium::from_reader(object).unwrap();
    let map = value.as_map().unwrap();
    let keys: Vec<&str> = map.iter().map(|(k, _)| k.as_text().unwrap()).collect();
    assert_eq!(keys, ["fmt", "attStmt", "authData"], "canonical order");
    assert_eq!(map[0].1.as_text(), Some("none"));
    assert!(map[1].1.as_map().unwrap().is_empty());
    let auth_data = map[2].1.as_bytes().unwrap().clone();

    let rp_id_hash = auth_data[..32].to_vec();
    let flags = auth_data[32];
    let sign_count = u32::from_be_bytes(auth_data[33..37].try_into().unwrap());
    let aaguid = auth_data[37..53].to_vec();
    let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    let credential_id = auth_data[55..55 + len].to_vec();
    let cose_bytes = &auth_data[55 + len..];
    let cose: ciborium::Value = ciborium::from_reader(cose_bytes).unwrap();
    // The COSE key is the last thing (no extensions) and re-encodes to the same length.
    let mut reencoded = Vec::new();
    ciborium::into_writer(&cose, &mut reencoded).unwrap();
    assert_eq!(
        reencoded.len(),
        cose_bytes.len(),
        "nothing after the COSE key"
    );
    let cose = cose.as_map().unwrap();
    let int = |v: &ciborium::Value| i128::from(v.as_integer().unwrap());
    let labels: Vec<i128> = cose.iter().map(|(k, _)| int(k)).collect();
    assert_eq!(labels, [1, 3, -1, -2, -3], "canonical COSE key order");
    assert_eq!(int(&cose[0].1), 2, "kty EC2");
    assert_eq!(int(&cose[1].1), -7, "alg ES256");
    assert_eq!(int(&cose[2].1), 1, "crv P-256");
    let x = cose[3].1.as_bytes().unwrap().clone();
    let y = cose[4].1.as_bytes().unwrap().clone();
    assert_eq!((x.len(), y.len()), (32, 32));
    Attested {
        rp_id_hash,
        flags,
        sign_count,
        aaguid,
        credential_id,
        x,
        y,
    }
}

fn verifying_key(a: &Attested) -> VerifyingKey {
    let mut point = vec![4u8];
    point.extend_from_slice(&a.x);
    point.extend_from_slice(&a.y);
    VerifyingKey::from_sec1_bytes(&point).unwrap()
}

#[test]
fn create_then_get_verifies_independently() {
    let mut c = client();
    let opts = creation();
    let (reg, writes) = create_ok(&mut c, "https://login.example.com", &opts);

    // Registration response shape.
    assert_eq!(reg.type_, "public-key");
    assert_eq!(reg.authenticator_attachment, "platform");
    assert_eq!(reg.id, reg.raw_id);
    assert_eq!(d(&reg.id).len(), 16);
    assert_eq!(reg.response.transports, ["internal"]);
    assert_eq!(reg.response.public_key_algorithm, -7);
    assert_eq!(
        as_serde(&reg.client_extension_results),
        json!({"credProps": {"rk": true}})
    );

    // clientDataJSON.
    let cdj = d(&reg.response.client_data_json);
    assert_eq!(
        String::from_utf8(cdj).unwrap(),
        r#"{"type":"webauthn.create","challenge":"AAECAwQFBgcICQoLDA0ODw","origin":"https://login.example.com","crossOrigin":false}"#
    );

    // Attestation object and authenticator data.
    let att = decode_attestation(&d(&reg.response.attestation_object));
    assert_eq!(att.rp_id_hash, rp_id_hash("example.com"));
    assert_eq!(
        att.flags,
        0x01 | 0x04 | 0x08 | 0x40,
        "UP UV BE AT; BS=0, ED=0"
    );
    assert_eq!(att.sign_count, 0);
    assert_eq!(hex(&att.aaguid), "4c6b4b792d4c617463686b6579000001");
    assert_eq!(att.credential_id, d(&reg.raw_id));
    let map: ciborium::Value =
        ciborium::from_reader(d(&reg.response.attestation_object).as_slice()).unwrap();
    assert_eq!(
        map.as_map().unwrap()[2].1.as_bytes().unwrap(),
        &d(&reg.response.authenticator_data),
        "authenticatorData equals authData"
    );
    // getPublicKey(): SPKI holding the same point.
    let spki = d(&reg.response.public_key);
    assert_eq!(spki.len(), 91);
    assert_eq!(&spki[27..59], att.x.as_slice());
    assert_eq!(&spki[59..], att.y.as_slice());

    // The journal holds the new record.
    assert_eq!(writes.len(), 1);
    assert_eq!(write_key(&writes[0]), format!("cred:{}", reg.id));
    let record = write_record(&writes[0]).unwrap();
    assert_eq!(
        (
            record.rp_id.as_str(),
            record.user_name.as_str(),
            record.created
        ),
        ("example.com", "alice", T0)
    );

    // Now sign in.
    c.clock().advance(5_000);
    let opts = request(
        json!({"challenge": "AQIDBA", "rpId": "example.com", "userVerification": "required"}),
    );
    let inspection = c
        .inspect_get(&ctx("https://login.example.com"), &opts)
        .unwrap();
    assert_eq!(inspection.candidates.len(), 1);
    assert_eq!(inspection.candidates[0].credential_id, reg.id);
    let (auth, writes) = c
        .get(&ctx("https://login.example.com"), &opts, None, YES)
        .unwrap();
    assert_eq!(auth.id, reg.id);
    assert_eq!(auth.raw_id, reg.id);
    assert_eq!(auth.type_, "public-key");
    assert_eq!(auth.authenticator_attachment, "platform");
    assert_eq!(auth.response.user_handle.as_deref(), Some("dXNlci0x"));
    let auth_data = d(&auth.response.authenticator_data);
    assert_eq!(auth_data.len(), 37);
    assert_eq!(auth_data[..32], rp_id_hash("example.com"));
    assert_eq!(auth_data[32], 0x01 | 0x04 | 0x08, "UP UV BE");
    assert_eq!(auth_data[33..], [0, 0, 0, 0]);
    let cdj = d(&auth.response.client_data_json);
    assert_eq!(
        std::str::from_utf8(&cdj).unwrap(),
        r#"{"type":"webauthn.get","challenge":"AQIDBA","origin":"https://login.example.com","crossOrigin":false}"#
    );
    // Verify the signature with the key from the attestation object.
    let mut message = auth_data.clone();
    message.extend_from_slice(&Sha256::digest(&cdj));
    let signature = Signature::from_der(&d(&auth.response.signature)).unwrap();
    verifying_key(&att).verify(&message, &signature).unwrap();
    // …and not over anything else.
    let mut wrong = auth_data;
    wrong.extend_from_slice(&Sha256::digest(b"other"));
    assert!(verifying_key(&att).verify(&wrong, &signature).is_err());

    // Last use is recorded and journaled.
    assert_eq!(writes.len(), 1);
    assert_eq!(write_key(&writes[0]), format!("cred:{}", reg.id));
    assert_eq!(
        write_record(&writes[0]).unwrap().last_used,
        Some(T0 + 5_000)
    );
    assert_eq!(
        c.store.get(&d(&reg.id)).unwrap().last_used_ms,
        Some(T0 + 5_000)
    );
}

#[test]
fn known_answer_with_a_fixed_seed() {
    let mut c = client();
    let (reg, _) = create_ok(&mut c, "https://login.example.com", &creation());
    // TestRng(42) fixes the key and id; a change here means the key or id derivation changed.
    assert_eq!(hex(&d(&reg.raw_id)), KAT_CREDENTIAL_ID);
    assert_eq!(hex(&d(&reg.response.public_key)[26..]), KAT_PUBLIC_KEY);
}

/// Cross-checked outside Rust (Node.js `crypto`): the scalar is
/// SHA-256("latchkey-test-rng" || 42u64 LE || 0u64 LE), the id the first 16 bytes of block 1.
const KAT_CREDENTIAL_ID: &str = "f4f4eb2b2585592bdb40dd72038755bf";
const KAT_PUBLIC_KEY: &str = "044b477d9ceafb2417b3da1926be394378cc666f9b1257c95697a814d186b5ab89\
                              89538f84b0f38d213fe99298f31a8b72c70c6122664f0a4f8fcef819e56e0c8f";

#[test]
fn uv_flag_only_with_real_verification_and_records_round_trip() {
    let mut c = client();
    let (reg, writes) = c
        .create(&ctx("https://example.com"), &creation(), PRESENT)
        .unwrap();
    let att = decode_attestation(&d(&reg.response.attestation_object));
    assert_eq!(att.flags, 0x01 | 0x08 | 0x40, "no UV without verification");

    // Reload from the journal, as the service worker does after a restart.
    let record = write_record(&writes[0]).cloned().unwrap();
    let json = record.to_json_string();
    let reloaded = Passkey::from_record(
        crate::passkey::PasskeyRecord::from_json(crate::json::parse(&json).unwrap()).unwrap(),
    )
    .unwrap();
    let mut store = MemoryStore::new();
    store.put(reloaded).unwrap();
    let mut c2 = Latchkey::new(store, TestRng::new(1), FixedClock::new(T0));
    let opts = request(json!({"challenge": "AQID"}));
    let (auth, _) = c2
        .get(
            &ctx("https://example.com"),
            &opts,
            Some(&d(&reg.id)),
            PRESENT,
        )
        .unwrap();
    let auth_data = d(&auth.response.authenticator_data);
    assert_eq!(auth_data[32], 0x01 | 0x08);
    let mut message = auth_data;
    message.extend_from_slice(&Sha256::digest(d(&auth.response.client_data_json)));
    verifying_key(&att)
        .verify(
            &message,
            &Signature::from_der(&d(&auth.response.signature)).unwrap(),
        )
        .unwrap();
}

#[test]
fn inspect_create_describes_the_request() {
    let mut c = client();
    let i = c
        .inspect_create(&ctx("https://login.example.com"), &creation())
        .unwrap();
    assert_eq!(
        i.to_json().to_json_string(),
        r#"{"rpId":"example.com","rpName":"Example","userName":"alice","userDisplayName":"Alice","userHandle":"dXNlci0x","excluded":false,"replaces":false,"userVerification":"preferred"}"#,
        "the text serde's derive wrote (field order)"
    );
    let (reg, _) = create_ok(&mut c, "https://login.example.com", &creation());
    let i = c
        .inspect_create(&ctx("https://login.example.com"), &creation())
        .unwrap();
    assert!(i.replaces);
    assert!(!i.excluded);
    let excluding =
        creation_with(|v| v["excludeCredentials"] = json!([{"type": "public-key", "id": reg.id}]));
    assert!(
        c.inspect_create(&ctx("https://login.example.com"), &excluding)
            .unwrap()
            .excluded
    );
    // rpId defaults to the host.
    let no_rp_id = creation_with(|v| v["rp"] = json!({"name": "Example"}));
    assert_eq!(
        c.inspect_create(&ctx("https://login.example.com:8443"), &no_rp_id)
            .unwrap()
            .rp_id,
        "login.example.com"
    );
}

#[test]
fn create_replaces_the_same_account_and_journals_the_delete() {
    let mut c = client();
    let (first, _) = create_ok(&mut c, "https://example.com", &creation());
    let (other_user, _) = create_ok(
        &mut c,
        "https://example.com",
        &creation_with(|v| v["user"]["id"] = json!("b3RoZXI")),
    );
    let (second, writes) = create_ok(&mut c, "https://example.com", &creation());
    assert_ne!(first.id, second.id);
    assert_eq!(writes.len(), 2);
    assert_eq!(write_key(&writes[0]), format!("cred:{}", second.id));
    assert!(write_record(&writes[0]).is_some());
    assert_eq!(write_key(&writes[1]), format!("cred:{}", first.id));
    assert!(write_record(&writes[1]).is_none());
    assert!(c.store.get(&d(&first.id)).is_none());
    assert!(
        c.store.get(&d(&other_user.id)).is_some(),
        "another user handle is kept"
    );
    assert_eq!(c.store.all().len(), 2);
}

#[test]
fn cred_props_only_when_requested() {
    let mut c = client();
    let opts = creation_with(|v| {
        v.as_object_mut().unwrap().remove("extensions");
    });
    let (reg, _) = create_ok(&mut c, "https://example.com", &opts);
    assert!(reg.client_extension_results.is_empty());
    let opts = creation_with(|v| v["extensions"] = json!({"credProps": false}));
    let (reg, _) = create_ok(&mut c, "https://example.com", &opts);
    assert!(reg.client_extension_results.is_empty());
    assert_eq!(reg.client_extension_results.to_json_string(), "{}");
}

#[test]
fn empty_pub_key_cred_params_means_es256() {
    let mut c = client();
    let opts = creation_with(|v| v["pubKeyCredParams"] = json!([]));
    let (reg, _) = create_ok(&mut c, "https://example.com", &opts);
    assert_eq!(reg.response.public_key_algorithm, -7);
    // Unknown types are skipped, ES256 among others is chosen.
    let opts = creation_with(
        |v| v["pubKeyCredParams"] = json!([{"type": "password", "alg": -7}, {"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}]),
    );
    assert!(c.create(&ctx("https://example.com"), &opts, YES).is_ok());
}

fn assert_err<T: std::fmt::Debug>(result: Result<T, WebAuthnError>, name: ErrorName, why: &str) {
    match result {
        Ok(v) => panic!("{why}: expected {name}, got {v:?}"),
        Err(e) => assert_eq!(e.name, name, "{why}: {e}"),
    }
}

#[test]
fn type_errors() {
    let mut c = client();
    let o = "https://example.com";
    for (why, opts) in [
        (
            "user.id empty",
            creation_with(|v| v["user"]["id"] = json!("")),
        ),
        (
            "user.id 65 bytes",
            creation_with(|v| v["user"]["id"] = json!(b64url::encode(&[7; 65]))),
        ),
        (
            "user.id not base64url",
            creation_with(|v| v["user"]["id"] = json!("a+b/")),
        ),
        (
            "challenge not base64url",
            creation_with(|v| v["challenge"] = json!("AA==")),
        ),
        (
            "exclude id not base64url",
            creation_with(|v| v["excludeCredentials"] = json!([{"type": "public-key", "id": "!"}])),
        ),
    ] {
        assert_err(c.inspect_create(&ctx(o), &opts), ErrorName::TypeError, why);
        assert_err(c.create(&ctx(o), &opts, YES), ErrorName::TypeError, why);
    }
    // 64 bytes is the maximum and fine; 1 byte is the minimum.
    assert!(c
        .create(
            &ctx(o),
            &creation_with(|v| v["user"]["id"] = json!(b64url::encode(&[7; 64]))),
            YES
        )
        .is_ok());
    assert!(c
        .create(
            &ctx(o),
            &creation_with(|v| v["user"]["id"] = json!("AQ")),
            YES
        )
        .is_ok());
    // A missing challenge is caught while parsing.
    let mut v = creation_json();
    v.as_object_mut().unwrap().remove("challenge");
    assert_err(
        parse_creation_options(&v.to_string()),
        ErrorName::TypeError,
        "missing challenge (create)",
    );
    assert_err(
        parse_request_options(r#"{"rpId":"example.com"}"#),
        ErrorName::TypeError,
        "missing challenge (get)",
    );
    // get: bad challenge or allowCredentials id.
    let bad = request(json!({"challenge": "A"}));
    assert_err(
        c.get(&ctx(o), &bad, None, YES),
        ErrorName::TypeError,
        "get challenge",
    );
    let bad = request(
        json!({"challenge": "AQID", "allowCredentials": [{"type": "public-key", "id": "a b"}]}),
    );
    assert_err(
        c.inspect_get(&ctx(o), &bad),
        ErrorName::TypeError,
        "allowCredentials id",
    );
    assert!(c.store.all().len() == 2, "failed calls store nothing");
}

#[test]
fn not_supported_error_without_es256() {
    let mut c = client();
    for params in [
        json!([{"type": "public-key", "alg": -257}]),
        json!([{"type": "public-key", "alg": -8}]),
        json!([{"type": "other", "alg": -7}]),
    ] {
        let opts = creation_with(|v| v["pubKeyCredParams"] = params.clone());
        assert_err(
            c.inspect_create(&ctx("https://example.com"), &opts),
            ErrorName::NotSupportedError,
            "inspect",
        );
        assert_err(
            c.create(&ctx("https://example.com"), &opts, YES),
            ErrorName::NotSupportedError,
            &params.to_string(),
        );
    }
    assert!(c.store.all().is_empty());
}

#[test]
fn security_errors() {
    let mut c = client();
    let cases = [
        ("https://evil.test", creation(), "wrong rpId"),
        (
            "https://notexample.com",
            creation(),
            "suffix without a label boundary",
        ),
        ("http://example.com", creation(), "not a secure context"),
        (
            "https://example.com",
            creation_with(|v| v["rp"]["id"] = json!("com")),
            "public suffix",
        ),
        (
            "https://example.com",
            creation_with(|v| v["rp"]["id"] = json!("example.com:443")),
            "port in rpId",
        ),
        (
            "https://example.com",
            creation_with(|v| v["rp"]["id"] = json!("")),
            "empty rpId",
        ),
    ];
    for (origin, opts, why) in cases {
        assert_err(
            c.inspect_create(&ctx(origin), &opts),
            ErrorName::SecurityError,
            why,
        );
        assert_err(
            c.create(&ctx(origin), &opts, YES),
            ErrorName::SecurityError,
            why,
        );
    }
    let opts = request(json!({"challenge": "AQID", "rpId": "example.com"}));
    assert_err(
        c.get(&ctx("https://evil.test"), &opts, None, YES),
        ErrorName::SecurityError,
        "get wrong rpId",
    );
    assert_err(
        c.inspect_get(&ctx("http://example.com"), &opts),
        ErrorName::SecurityError,
        "get insecure",
    );
    assert!(c.store.all().is_empty());
}

#[test]
fn opaque_or_invalid_origins_are_not_allowed() {
    let mut c = client();
    for origin in ["null", "", "https://example.com/path"] {
        assert_err(
            c.create(&ctx(origin), &creation(), YES),
            ErrorName::NotAllowedError,
            origin,
        );
        assert_err(
            c.inspect_get(&ctx(origin), &request(json!({"challenge": "AQID"}))),
            ErrorName::NotAllowedError,
            origin,
        );
    }
    let bad_top = CallerContext {
        origin: "https://example.com".into(),
        top_origin: Some("null".into()),
    };
    assert_err(
        c.create(&bad_top, &creation(), YES),
        ErrorName::NotAllowedError,
        "opaque top origin",
    );
}

#[test]
fn invalid_state_error_for_excluded_credentials_only_after_consent() {
    let mut c = client();
    let (reg, _) = create_ok(&mut c, "https://example.com", &creation());
    let excluding = creation_with(|v| {
        v["user"]["id"] = json!("b3RoZXI");
        v["excludeCredentials"] =
            json!([{"type": "public-key", "id": "AAAA"}, {"type": "public-key", "id": reg.id}]);
    });
    assert_err(
        c.create(&ctx("https://example.com"), &excluding, YES),
        ErrorName::InvalidStateError,
        "excluded",
    );
    assert_err(
        c.create(&ctx("https://example.com"), &excluding, NO),
        ErrorName::NotAllowedError,
        "excluded, no consent",
    );
    // An id of another RP ID does not exclude.
    let elsewhere = creation_with(|v| {
        v["rp"]["id"] = json!("other.example");
        v["excludeCredentials"] = json!([{"type": "public-key", "id": reg.id}]);
    });
    assert!(c
        .create(&ctx("https://other.example"), &elsewhere, YES)
        .is_ok());
    // Descriptors of an unknown type are ignored.
    let unknown_type =
        creation_with(|v| v["excludeCredentials"] = json!([{"type": "foo", "id": reg.id}]));
    assert!(c
        .create(&ctx("https://example.com"), &unknown_type, YES)
        .is_ok());
}

#[test]
fn not_allowed_errors() {
    let mut c = client();
    let o = "https://example.com";
    assert_err(
        c.create(&ctx(o), &creation(), NO),
        ErrorName::NotAllowedError,
        "no consent",
    );
    let uv_required =
        creation_with(|v| v["authenticatorSelection"]["userVerification"] = json!("required"));
    assert_err(
        c.create(&ctx(o), &uv_required, PRESENT),
        ErrorName::NotAllowedError,
        "UV required",
    );
    let uv_only = Consent {
        user_present: false,
        user_verified: true,
    };
    assert_err(
        c.create(&ctx(o), &creation(), uv_only),
        ErrorName::NotAllowedError,
        "UV without UP",
    );
    assert!(c.store.all().is_empty(), "nothing stored");

    let get = request(json!({"challenge": "AQID"}));
    assert_err(
        c.get(&ctx(o), &get, None, YES),
        ErrorName::NotAllowedError,
        "no credentials",
    );
    assert!(
        c.inspect_get(&ctx(o), &get).unwrap().candidates.is_empty(),
        "inspect lists none without failing"
    );

    let (first, _) = create_ok(&mut c, o, &creation());
    let (second, _) = create_ok(
        &mut c,
        o,
        &creation_with(|v| v["user"]["id"] = json!("b3RoZXI")),
    );
    assert_err(
        c.get(&ctx(o), &get, None, YES),
        ErrorName::NotAllowedError,
        "several candidates, none selected",
    );
    assert_err(
        c.get(&ctx(o), &get, Some(b"unknown"), YES),
        ErrorName::NotAllowedError,
        "unknown selection",
    );
    assert_err(
        c.get(&ctx(o), &get, Some(&d(&first.id)), NO),
        ErrorName::NotAllowedError,
        "no consent",
    );
    let uv_required = request(json!({"challenge": "AQID", "userVerification": "required"}));
    assert_err(
        c.get(&ctx(o), &uv_required, Some(&d(&first.id)), PRESENT),
        ErrorName::NotAllowedError,
        "UV required",
    );
    // allowCredentials restricts the candidates.
    let only_second = request(
        json!({"challenge": "AQID", "allowCredentials": [{"type": "public-key", "id": second.id}]}),
    );
    assert_err(
        c.get(&ctx(o), &only_second, Some(&d(&first.id)), YES),
        ErrorName::NotAllowedError,
        "not allowed",
    );
    let (auth, _) = c.get(&ctx(o), &only_second, None, YES).unwrap();
    assert_eq!(auth.id, second.id, "the single allowed credential is used");
    let none_match = request(
        json!({"challenge": "AQID", "allowCredentials": [{"type": "public-key", "id": "AAAA"}]}),
    );
    assert_err(
        c.get(&ctx(o), &none_match, None, YES),
        ErrorName::NotAllowedError,
        "allow list matches nothing",
    );
    // Another RP ID's passkeys are invisible.
    let other = request(json!({"challenge": "AQID"}));
    assert_err(
        c.get(
            &ctx("https://other.example"),
            &other,
            Some(&d(&first.id)),
            YES,
        ),
        ErrorName::NotAllowedError,
        "other RP",
    );
    // Nothing was used.
    assert!(c
        .store
        .all()
        .iter()
        .all(|p| p.last_used_ms.is_none() || p.credential_id == d(&second.id)));
}

#[test]
fn cross_origin_calls_set_cross_origin_and_top_origin() {
    let mut c = client();
    let framed = CallerContext {
        origin: "https://example.com".into(),
        top_origin: Some("https://top.example".into()),
    };
    let (reg, _) = c.create(&framed, &creation(), YES).unwrap();
    let cdj = String::from_utf8(d(&reg.response.client_data_json)).unwrap();
    assert!(cdj.ends_with(r#","origin":"https://example.com","crossOrigin":true,"topOrigin":"https://top.example"}"#), "{cdj}");
    let opts = request(json!({"challenge": "AQID"}));
    let (auth, _) = c.get(&framed, &opts, None, YES).unwrap();
    let cdj = String::from_utf8(d(&auth.response.client_data_json)).unwrap();
    assert_eq!(
        cdj,
        r#"{"type":"webauthn.get","challenge":"AQID","origin":"https://example.com","crossOrigin":true,"topOrigin":"https://top.example"}"#
    );
    // A same-origin subframe is not cross-origin.
    let same = CallerContext {
        origin: "https://example.com".into(),
        top_origin: Some("https://example.com".into()),
    };
    let (auth, _) = c.get(&same, &opts, None, YES).unwrap();
    let cdj = String::from_utf8(d(&auth.response.client_data_json)).unwrap();
    assert!(cdj.ends_with(r#""crossOrigin":false}"#), "{cdj}");
}

#[test]
fn candidates_are_most_recent_first() {
    let mut c = client();
    let (a, _) = create_ok(
        &mut c,
        "https://example.com",
        &creation_with(|v| v["user"]["id"] = json!("YQ")),
    );
    c.clock().advance(10);
    let (b, _) = create_ok(
        &mut c,
        "https://example.com",
        &creation_with(|v| v["user"]["id"] = json!("Yg")),
    );
    let opts = request(json!({"challenge": "AQID"}));
    let ids = |c: &Client| -> Vec<String> {
        c.inspect_get(&ctx("https://example.com"), &opts)
            .unwrap()
            .candidates
            .into_iter()
            .map(|x| x.credential_id)
            .collect()
    };
    assert_eq!(ids(&c), [b.id.clone(), a.id.clone()]);
    c.clock().advance(10);
    c.get(&ctx("https://example.com"), &opts, Some(&d(&a.id)), PRESENT)
        .unwrap();
    assert_eq!(ids(&c), [a.id.clone(), b.id.clone()]);
    let inspection = c.inspect_get(&ctx("https://example.com"), &opts).unwrap();
    assert_eq!(
        inspection.candidates[0].to_json().to_json_string(),
        format!(
            r#"{{"credentialId":"{}","userName":"alice","userDisplayName":"Alice","label":null,"userHandle":"YQ","created":{T0},"lastUsed":{}}}"#,
            a.id,
            T0 + 20
        ),
        "the text serde's derive wrote (field order)"
    );
    assert_eq!(
        as_serde(&inspection.to_json()),
        json!({"rpId": "example.com", "userVerification": "preferred", "candidates": [
            as_serde(&inspection.candidates[0].to_json()),
            as_serde(&inspection.candidates[1].to_json()),
        ]})
    );
    assert_eq!(inspection.user_verification, "preferred");
    assert_eq!(inspection.rp_id, "example.com");
}

#[test]
fn rp_id_is_lowercased_for_hash_and_storage() {
    let mut c = client();
    let opts = creation_with(|v| v["rp"]["id"] = json!("Example.COM"));
    let (reg, writes) = create_ok(&mut c, "https://login.example.com", &opts);
    let att = decode_attestation(&d(&reg.response.attestation_object));
    assert_eq!(att.rp_id_hash, rp_id_hash("example.com"));
    assert_eq!(write_record(&writes[0]).unwrap().rp_id, "example.com");
}

#[test]
fn localhost_works_over_http() {
    let mut c = client();
    let opts = creation_with(|v| v["rp"]["id"] = json!("localhost"));
    let (reg, _) = create_ok(&mut c, "http://localhost:3000", &opts);
    let cdj = String::from_utf8(d(&reg.response.client_data_json)).unwrap();
    assert!(cdj.contains(r#""origin":"http://localhost:3000""#));
}

/// `cred:<id>` of a journal write (the key issue 2 stored it under).
fn write_key(w: &StoreWrite) -> String {
    match w {
        StoreWrite::Put(r) => format!("cred:{}", r.credential_id),
        StoreWrite::Delete(id) => format!("cred:{}", b64url::encode(id)),
    }
}

/// The record a journal write puts, if it is a put.
fn write_record(w: &StoreWrite) -> Option<&crate::passkey::PasskeyRecord> {
    match w {
        StoreWrite::Put(r) => Some(r),
        StoreWrite::Delete(_) => None,
    }
}

#[test]
fn challenge_longer_than_the_cap_is_a_type_error() {
    let mut c = client();
    let at_cap = b64url::encode(&vec![7u8; MAX_CHALLENGE_LEN]);
    let over = b64url::encode(&vec![7u8; MAX_CHALLENGE_LEN + 1]);
    let huge = "A".repeat(10 * 1024 * 1024);
    assert!(c
        .create(
            &ctx("https://example.com"),
            &creation_with(|v| v["challenge"] = json!(at_cap)),
            YES
        )
        .is_ok());
    for long in [&over, &huge] {
        assert_err(
            c.inspect_create(
                &ctx("https://example.com"),
                &creation_with(|v| v["challenge"] = json!(long)),
            ),
            ErrorName::TypeError,
            "create challenge over the cap",
        );
        assert_err(
            c.inspect_get(
                &ctx("https://example.com"),
                &request(json!({"challenge": long, "rpId": "example.com"})),
            ),
            ErrorName::TypeError,
            "get challenge over the cap",
        );
    }
}

#[test]
fn names_are_truncated_at_a_character_boundary() {
    assert_eq!(truncate_name("alice"), "alice");
    assert_eq!(truncate_name(&"x".repeat(MAX_NAME_LEN)).len(), MAX_NAME_LEN);
    assert_eq!(
        truncate_name(&"x".repeat(MAX_NAME_LEN + 1)).len(),
        MAX_NAME_LEN
    );
    // "é" is two bytes: 255 of them would straddle byte 256.
    let e = truncate_name(&"é".repeat(200));
    assert_eq!(e.len(), MAX_NAME_LEN);
    assert_eq!(e, "é".repeat(128));
    let odd = format!("x{}", "é".repeat(200));
    let t = truncate_name(&odd);
    assert_eq!(t.len(), MAX_NAME_LEN - 1);
    assert!(odd.starts_with(&t));

    let mut c = client();
    let big = "n".repeat(10 * 1024 * 1024);
    let opts = creation_with(|v| {
        v["rp"]["name"] = json!(big);
        v["user"]["name"] = json!(big);
        v["user"]["displayName"] = json!("é".repeat(1000));
    });
    let i = c
        .inspect_create(&ctx("https://example.com"), &opts)
        .unwrap();
    assert_eq!(i.rp_name.len(), MAX_NAME_LEN);
    assert_eq!(i.user_name.len(), MAX_NAME_LEN);
    assert_eq!(i.user_display_name, "é".repeat(128));
    create_ok(&mut c, "https://example.com", &opts);
    let stored = c.into_store();
    let p = stored.find_by_rp_id("example.com");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].rp_name.len(), MAX_NAME_LEN);
    assert_eq!(p[0].user_name.len(), MAX_NAME_LEN);
    assert_eq!(p[0].user_display_name, "é".repeat(128));
}

#[test]
fn caller_context_and_consent_json() {
    let read_ctx = |t: &str| CallerContext::from_json(&json::parse(t).unwrap());
    let top = read_ctx(r#"{"origin":"https://a.example","topOrigin":"https://b.example","x":1}"#)
        .unwrap();
    assert_eq!(top.top_origin.as_deref(), Some("https://b.example"));
    assert_eq!(
        CallerContext::from_json(&json::Value::Object(top.to_json())),
        Ok(top)
    );
    for same in [
        r#"{"origin":"https://a.example"}"#,
        r#"{"origin":"https://a.example","topOrigin":null}"#,
    ] {
        let c = read_ctx(same).unwrap();
        assert_eq!(c.top_origin, None, "{same}");
        assert_eq!(
            c.to_json().to_json_string(),
            r#"{"origin":"https://a.example","topOrigin":null}"#
        );
    }
    for bad in [
        r#"{"topOrigin":null}"#,
        r#"{"origin":null}"#,
        r#"{"origin":"https://a.example","topOrigin":1}"#,
        r#"["https://a.example",null]"#,
    ] {
        assert!(read_ctx(bad).is_err(), "{bad}");
    }

    let read = |t: &str| Consent::from_json(&json::parse(t).unwrap());
    assert_eq!(
        read(r#"{"userPresent":true,"userVerified":false,"more":0}"#),
        Ok(PRESENT)
    );
    assert_eq!(
        YES.to_json().to_json_string(),
        r#"{"userPresent":true,"userVerified":true}"#
    );
    assert_eq!(
        Consent::from_json(&json::Value::Object(NO.to_json())),
        Ok(NO)
    );
    for bad in [
        r#"{"userPresent":true}"#,
        r#"{"userPresent":true,"userVerified":null}"#,
        r#"{"userPresent":1,"userVerified":true}"#,
        "{}",
    ] {
        assert!(read(bad).is_err(), "{bad}");
    }
}

/// Signs in once with `c` and checks the assertion under the attested key; the signature.
fn signed_get(c: &mut Client, att: &Attested) -> Vec<u8> {
    let opts = request(json!({"challenge": "AQIDBA", "rpId": "example.com"}));
    let (auth, _) = c
        .get(&ctx("https://login.example.com"), &opts, None, YES)
        .unwrap();
    let mut message = d(&auth.response.authenticator_data);
    message.extend_from_slice(&Sha256::digest(d(&auth.response.client_data_json)));
    let signature = d(&auth.response.signature);
    verifying_key(att)
        .verify(&message, &Signature::from_der(&signature).unwrap())
        .unwrap();
    signature
}

#[test]
fn precomputed_nonces_and_keys_are_used_once_and_dropped_on_clear() {
    let mut c = client();
    assert_eq!(c.precomputed_len(), 0);
    assert_eq!(c.precompute().unwrap(), NONCE_POOL + 1);
    assert_eq!(c.precompute().unwrap(), 0, "nothing to do when full");
    assert_eq!(c.precomputed_len(), NONCE_POOL + 1);

    // create takes the key pair: a working credential, and the pool has no key left.
    let (reg, _) = create_ok(&mut c, "https://login.example.com", &creation());
    let att = decode_attestation(&d(&reg.response.attestation_object));
    assert_eq!(c.precomputed_len(), NONCE_POOL);
    // The key was drawn before the nonces' turn came: not the one a fresh client makes first.
    assert_ne!(hex(&d(&reg.response.public_key)[26..]), KAT_PUBLIC_KEY);

    // Each get takes one nonce; every signature verifies, and none repeats (same message).
    let mut seen = std::collections::HashSet::new();
    for left in (0..NONCE_POOL).rev() {
        assert!(seen.insert(signed_get(&mut c, &att)));
        assert_eq!(c.precomputed_len(), left);
    }
    // An empty pool: the get draws its own nonce.
    assert!(seen.insert(signed_get(&mut c, &att)));
    assert_eq!(c.precomputed_len(), 0);
    // Refilled after a get: only what was used is made again.
    assert_eq!(c.precompute().unwrap(), NONCE_POOL + 1);
    assert!(seen.insert(signed_get(&mut c, &att)));
    assert_eq!(c.precompute().unwrap(), 1);

    c.clear_precomputed();
    assert_eq!(c.precomputed_len(), 0);
    assert!(seen.insert(signed_get(&mut c, &att)));
}

#[test]
fn a_failed_request_does_not_spend_the_pool() {
    let mut c = client();
    create_ok(&mut c, "https://login.example.com", &creation());
    c.precompute().unwrap();
    let full = c.precomputed_len();
    let opts = request(json!({"challenge": "AQIDBA", "rpId": "example.com"}));
    assert!(c
        .get(&ctx("https://login.example.com"), &opts, None, NO)
        .is_err());
    assert!(c
        .create(&ctx("https://login.example.com"), &creation(), NO)
        .is_err());
    assert_eq!(c.precomputed_len(), full);
}

#[test]
fn get_deferred_records_the_use_and_names_the_passkey_instead_of_journaling_it() {
    let mut c = client();
    let (reg, _) = create_ok(&mut c, "https://login.example.com", &creation());
    c.clock().advance(7_000);
    let opts = request(json!({"challenge": "AQIDBA", "rpId": "example.com"}));
    let (auth, id) = c
        .get_deferred(&ctx("https://login.example.com"), &opts, None, YES)
        .unwrap();
    assert_eq!(id, d(&reg.raw_id));
    assert_eq!(auth.id, reg.id);
    assert_eq!(c.store.get(&id).unwrap().last_used_ms, Some(T0 + 7_000));
    // get's journal is the record the store now holds.
    c.clock().advance(1_000);
    let (_, writes) = c
        .get(&ctx("https://login.example.com"), &opts, None, YES)
        .unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        write_record(&writes[0]).unwrap(),
        write_record(&StoreWrite::put(c.store.get(&id).unwrap())).unwrap()
    );
    assert_eq!(
        write_record(&writes[0]).unwrap().last_used,
        Some(T0 + 8_000)
    );
    // Nothing changes on error.
    assert!(c
        .get_deferred(&ctx("https://login.example.com"), &opts, None, NO)
        .is_err());
    assert_eq!(c.store.get(&id).unwrap().last_used_ms, Some(T0 + 8_000));
}

#[test]
fn an_allow_list_findseach_listed_passkey_of_the_rp_once() {
    let mut c = client();
    let (mine, _) = create_ok(&mut c, "https://example.com", &creation());
    let (other_user, _) = create_ok(
        &mut c,
        "https://example.com",
        &creation_with(|v| v["user"]["id"] = json!("b3RoZXI")),
    );
    let (elsewhere, _) = create_ok(
        &mut c,
        "https://other.test",
        &creation_with(|v| v["rp"]["id"] = json!("other.test")),
    );
    let allow = |ids: &[&str]| {
        request(json!({
            "challenge": "AQID",
            "rpId": "example.com",
            "allowCredentials": ids.iter().map(|id| json!({"type": "public-key", "id": id})).collect::<Vec<_>>(),
        }))
    };
    let origin = ctx("https://example.com");
    let listed = |opts: &RequestOptions| -> Vec<String> {
        c.inspect_get(&origin, opts)
            .unwrap()
            .candidates
            .into_iter()
            .map(|x| x.credential_id)
            .collect()
    };
    // Repeats count once; another RP's passkey and unknown ids are not candidates.
    assert_eq!(
        listed(&allow(&[
            &mine.id,
            &elsewhere.id,
            &mine.id,
            "AAAA",
            &mine.id
        ])),
        vec![mine.id.clone()]
    );
    let both = listed(&allow(&[&other_user.id, &mine.id, &other_user.id]));
    assert_eq!(both.len(), 2);
    assert!(both.contains(&mine.id) && both.contains(&other_user.id));
    assert!(listed(&allow(&[&elsewhere.id])).is_empty());
}
