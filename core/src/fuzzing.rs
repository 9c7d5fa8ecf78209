//! Fuzz entry points, one per cargo-fuzz target in `fuzz/fuzz_targets/` (nightly, see
//! fuzz/README.md). Each takes the fuzzer's bytes, drives only the crate's public API, and checks
//! properties with `assert!`: a failed property is a panic, which the fuzzer reports as a crash.
//! The stable test suite replays every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` through the same functions (tests at the end of this file).
//!
//! Not part of the API: nothing in the extension calls this module (the wasm build strips it).

use crate::authenticator::{self, flags, AttestedCredentialData};
use crate::b64url;
use crate::cbor::Value as Cbor;
use crate::client::{CallerContext, Consent, Latchkey};
use crate::clock::FixedClock;
use crate::crypto::PrivateKey;
use crate::error::ErrorName;
#[cfg(feature = "host")]
use crate::host::{self, RequestKind, ResponseFrame};
use crate::json::{self, Object as JObject, Value as JValue};
use crate::options::{parse_creation_options, parse_request_options};
use crate::passkey::Passkey;
use crate::rng::TestRng;
use crate::store::{CredentialStore, MemoryStore, StoreWrite};
use crate::vault::format::{EncryptedEntry, EntryPayload, KdfSpec, UnlockMethod, VaultHeader};
use crate::vault::keys::{Argon2Params, Pin, VaultKey};
use crate::vault::{Commit, Vault, VaultError, ENTRY_PREFIX, HEADER_KEY, PREV_PREFIX};
use p256::elliptic_curve::sec1::ToSec1Point;
#[cfg(feature = "host")]
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Reads structured choices from the fuzzer's bytes; past the end every read is zero.
#[derive(Debug)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Over `data`.
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// True when every byte has been read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A number below `n` (`n` > 0), from one or two bytes.
    pub fn below(&mut self, n: usize) -> usize {
        let raw = if n > 256 {
            usize::from(u16::from_be_bytes([self.byte(), self.byte()]))
        } else {
            usize::from(self.byte())
        };
        raw % n.max(1)
    }

    /// Up to `n` raw bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A `u64` biased to every CBOR argument size (0–23, 1, 2, 4 and 8 bytes).
    pub fn u64(&mut self) -> u64 {
        let mut be = |n: usize| {
            let mut v = 0u64;
            for _ in 0..n {
                v = (v << 8) | u64::from(self.byte());
            }
            v
        };
        match be(1) % 5 {
            0 => be(1) % 24,
            1 => be(1),
            2 => be(2),
            3 => be(4),
            _ => be(8),
        }
    }

    /// Exactly `len` bytes: what is left of the input, then a repeated filler.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = self.take(len).to_vec();
        let fill = out.last().copied().unwrap_or(0x5a);
        out.resize(len, fill);
        out
    }

    /// A length in `0..max`, biased to short.
    pub fn size(&mut self, max: usize) -> usize {
        if self.byte() < 200 {
            self.below(40.min(max))
        } else {
            self.below(max)
        }
    }
}

// -------------------------------------------------------------------------------------------------
// options: the page-controlled options JSON through parsing and the client steps.

const T0: u64 = 1_700_000_000_000;

/// A store with two passkeys of `example.com` (credential ids 16 × 0x01 and 16 × 0x02, user
/// handles `dXNlci0x` and `Ag`) and one of `other.example` (16 × 0x03).
fn client_store() -> &'static MemoryStore {
    static STORE: OnceLock<MemoryStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut store = MemoryStore::new();
        for (n, rp_id, user) in [
            (1u8, "example.com", b"user-1".to_vec()),
            (2, "example.com", vec![2]),
            (3, "other.example", vec![3]),
        ] {
            let Ok(private_key) = PrivateKey::from_scalar_bytes(&[n; 32]) else {
                continue;
            };
            let _ = store.put(Passkey {
                credential_id: vec![n; 16],
                rp_id: rp_id.into(),
                rp_name: "RP".into(),
                user_handle: user,
                user_name: format!("user{n}"),
                user_display_name: format!("User {n}"),
                label: None,
                private_key,
                alg: crate::cose::ES256,
                created_ms: T0 + u64::from(n),
                last_used_ms: None,
                sign_count: 0,
            });
        }
        store
    })
}

fn caller(selector: usize) -> CallerContext {
    let (origin, top) = match selector % 4 {
        0 => ("https://example.com", None),
        1 => ("https://login.example.com", Some("https://shop.example")),
        2 => ("http://localhost:8080", None),
        _ => ("https://other.example", Some("https://other.example")),
    };
    CallerContext {
        origin: origin.into(),
        top_origin: top.map(Into::into),
    }
}

const YES: Consent = Consent {
    user_present: true,
    user_verified: true,
};
const NO: Consent = Consent {
    user_present: false,
    user_verified: false,
};

/// `options` target: arbitrary text as `publicKey` options for `create()` and `get()`. Parsing
/// fails only with `TypeError` and what parses re-serialises to the same options; the client
/// steps fail only with the documented error names, `inspect_*` agrees with `create`/`get`, and
/// nothing is stored without consent.
pub fn options(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = caller(text.len());
    match parse_creation_options(text) {
        Err(e) => assert_eq!(e.name, ErrorName::TypeError, "{e:?}"),
        Ok(opts) => {
            let again = parse_creation_options(&opts.to_json().to_json_string());
            assert!(
                matches!(&again, Ok(o) if *o == opts),
                "creation options do not round-trip: {opts:?} vs {again:?}"
            );
            create_steps(&ctx, &opts);
        }
    }
    match parse_request_options(text) {
        Err(e) => assert_eq!(e.name, ErrorName::TypeError, "{e:?}"),
        Ok(opts) => {
            let again = parse_request_options(&opts.to_json().to_json_string());
            assert!(
                matches!(&again, Ok(o) if *o == opts),
                "request options do not round-trip: {opts:?} vs {again:?}"
            );
            get_steps(&ctx, &opts);
        }
    }
}

fn client() -> Latchkey<MemoryStore, TestRng, FixedClock> {
    Latchkey::new(client_store().clone(), TestRng::new(7), FixedClock::new(T0))
}

fn create_steps(ctx: &CallerContext, opts: &crate::options::CreationOptions) {
    use ErrorName::{
        InvalidStateError, NotAllowedError, NotSupportedError, SecurityError, TypeError,
    };
    let mut c = client();
    let inspection = c.inspect_create(ctx, opts);
    let refused = c.create(ctx, opts, NO);
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.name == NotAllowedError
                || inspection.as_ref().is_err_and(|i| i.name == e.name)),
        "create without consent: {refused:?}"
    );
    assert_eq!(
        c.store.len(),
        client_store().len(),
        "stored without consent"
    );
    let created = c.create(ctx, opts, YES);
    match (&inspection, &created) {
        (Err(i), Err(e)) => {
            assert!(
                matches!(
                    i.name,
                    TypeError | NotAllowedError | SecurityError | NotSupportedError
                ),
                "inspect_create: {i:?}"
            );
            assert_eq!(i.name, e.name, "inspect_create and create disagree");
        }
        (Ok(i), Err(e)) => assert!(
            i.excluded && e.name == InvalidStateError,
            "inspect_create accepted what create refused: {i:?} {e:?}"
        ),
        (Err(i), Ok(_)) => panic_like(&format!("create accepted what inspect refused: {i:?}")),
        (Ok(i), Ok((response, writes))) => {
            assert!(!i.excluded, "an excluded credential was created again");
            let user_handle = b64url::decode(&opts.user.id).unwrap_or_default();
            assert_eq!(i.user_handle, b64url::encode(&user_handle));
            assert!((1..=64).contains(&user_handle.len()));
            assert!(matches!(
                writes.first(),
                Some(StoreWrite::Put(r)) if r.credential_id == response.id && r.rp_id == i.rp_id
            ));
            // Replacing deletes exactly the same account's passkeys, never another RP's.
            for w in &writes[1..] {
                let StoreWrite::Delete(id) = w else {
                    panic_like("a second put");
                    continue;
                };
                let old = client_store().get(id);
                assert!(
                    old.is_some_and(|p| p.rp_id == i.rp_id && p.user_handle == user_handle),
                    "create deleted another account's passkey"
                );
            }
            assert_eq!(i.replaces, writes.len() > 1);
        }
    }
}

fn get_steps(ctx: &CallerContext, opts: &crate::options::RequestOptions) {
    use ErrorName::{NotAllowedError, SecurityError, TypeError};
    let mut c = client();
    let inspection = c.inspect_get(ctx, opts);
    let got = c.get(ctx, opts, None, YES);
    match &inspection {
        Err(i) => {
            assert!(
                matches!(i.name, TypeError | NotAllowedError | SecurityError),
                "inspect_get: {i:?}"
            );
            assert!(
                got.as_ref().is_err_and(|e| e.name == i.name),
                "inspect_get and get disagree: {i:?} {got:?}"
            );
        }
        Ok(i) => {
            for candidate in &i.candidates {
                let id = b64url::decode(&candidate.credential_id).unwrap_or_default();
                assert!(
                    client_store().get(&id).is_some_and(|p| p.rp_id == i.rp_id),
                    "a candidate of another RP ID"
                );
            }
            match (&got, i.candidates.len()) {
                (Ok((response, _)), 1) => {
                    assert_eq!(response.id, i.candidates[0].credential_id);
                    check_assertion(ctx, &i.rp_id, response);
                }
                (Err(e), n) => assert!(
                    e.name == NotAllowedError && n != 1,
                    "get failed with one candidate: {e:?}"
                ),
                (Ok(_), _) => panic_like("get picked a passkey without a selection"),
            }
            let refused = c.get(ctx, opts, None, NO);
            assert!(refused.is_err_and(|e| e.name == NotAllowedError));
        }
    }
}

/// The assertion verifies with the passkey's public key, for the right RP ID and origin.
fn check_assertion(
    ctx: &CallerContext,
    rp_id: &str,
    response: &crate::responses::AuthenticationResponseJSON,
) {
    use p256::ecdsa::signature::Verifier;
    let decode = |s: &str| b64url::decode(s).unwrap_or_default();
    let auth_data = decode(&response.response.authenticator_data);
    let client_data = decode(&response.response.client_data_json);
    assert_eq!(auth_data.get(..32), Some(&Sha256::digest(rp_id)[..]));
    let parsed = crate::json::parse_bytes(&client_data)
        .and_then(|v| crate::client_data::CollectedClientData::from_json(&v));
    let origin = crate::origin::Origin::parse(&ctx.origin).map(|o| o.serialize());
    assert!(
        matches!(&parsed, Ok(c) if c.type_ == crate::client_data::ClientDataType::Get
            && Ok(&c.origin) == origin.as_ref()
            && c.to_json().as_bytes() == client_data.as_slice()),
        "client data: {parsed:?}"
    );
    let Some(passkey) = client_store().get(&decode(&response.id)) else {
        panic_like("signed with an unknown passkey");
        return;
    };
    let mut message = auth_data.clone();
    message.extend_from_slice(&Sha256::digest(&client_data));
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(
        &passkey.private_key.public_key_sec1_uncompressed(),
    );
    let signature = p256::ecdsa::Signature::from_der(&decode(&response.response.signature));
    assert!(
        matches!((key, signature), (Ok(k), Ok(s)) if k.verify(&message, &s).is_ok()),
        "the assertion signature does not verify"
    );
}

/// A property failure outside an `assert!` expression.
#[track_caller]
fn panic_like(message: &str) {
    assert!(message.is_empty(), "{message}");
}

// -------------------------------------------------------------------------------------------------
// cbor_cose: the encoder against an independent decoder.

/// An independent CBOR decoder (ciborium, in the fuzz crate and in this module's tests): decodes
/// exactly one item (trailing bytes are an error) into [`Cbor`] with maps in wire order, and
/// returns it with its own re-encoding of the decoded item.
pub type Decoder<'a> = &'a dyn Fn(&[u8]) -> Result<(Cbor, Vec<u8>), String>;

fn gen_cbor(input: &mut Input<'_>, depth: u32) -> Cbor {
    let kinds = if depth >= 4 { 4 } else { 6 };
    match input.below(kinds) {
        0 => Cbor::Unsigned(input.u64()),
        1 => Cbor::Negative(input.u64()),
        2 => {
            let len = input.size(300);
            Cbor::Bytes(input.bytes(len))
        }
        3 => {
            let len = input.size(300);
            Cbor::Text(String::from_utf8_lossy(&input.bytes(len)).into_owned())
        }
        4 => {
            let n = input.size(30);
            Cbor::Array((0..n).map(|_| gen_cbor(input, depth + 1)).collect())
        }
        _ => {
            let n = input.size(30);
            let mut entries: Vec<(Cbor, Cbor)> = Vec::new();
            for _ in 0..n {
                let key = gen_cbor(input, depth + 2);
                let value = gen_cbor(input, depth + 1);
                // Duplicate keys are the caller's bug (cbor.rs), so the generator avoids them.
                if !entries.iter().any(|(k, _)| *k == key) {
                    entries.push((key, value));
                }
            }
            Cbor::Map(entries)
        }
    }
}

/// CTAP2 canonical order of two encoded keys, written from the CTAP 2.1 text.
fn ctap2_before(a: &[u8], b: &[u8]) -> bool {
    let (ma, mb) = (a.first().map(|x| x >> 5), b.first().map(|x| x >> 5));
    if ma != mb {
        return ma < mb;
    }
    if a.len() != b.len() {
        return a.len() < b.len();
    }
    a < b
}

/// Every map of `v` has strictly CTAP2-ordered keys.
fn assert_canonical_maps(v: &Cbor) {
    match v {
        Cbor::Array(items) => items.iter().for_each(assert_canonical_maps),
        Cbor::Map(entries) => {
            for pair in entries.windows(2) {
                assert!(
                    ctap2_before(&pair[0].0.to_vec(), &pair[1].0.to_vec()),
                    "map keys out of CTAP2 canonical order: {:?} before {:?}",
                    pair[0].0,
                    pair[1].0
                );
            }
            for (k, val) in entries {
                assert_canonical_maps(k);
                assert_canonical_maps(val);
            }
        }
        _ => {}
    }
}

/// Equal trees, map entries compared as sets.
fn same_tree(a: &Cbor, b: &Cbor) -> bool {
    match (a, b) {
        (Cbor::Array(x), Cbor::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_tree(p, q))
        }
        (Cbor::Map(x), Cbor::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| same_tree(k, k2))
                        .is_some_and(|(_, v2)| same_tree(v, v2))
                })
        }
        _ => a == b,
    }
}

/// Encodes `value`, decodes it independently and checks canonical form and content.
fn check_encoding(value: &Cbor, decode: Decoder<'_>) -> Cbor {
    let encoded = value.to_vec();
    let decoded = decode(&encoded);
    let Ok((tree, reencoded)) = decoded else {
        panic_like(&format!("the encoding does not decode: {decoded:?}"));
        return Cbor::Unsigned(0);
    };
    // The independent encoder writes shortest-form heads and keeps map order: same bytes.
    assert_eq!(reencoded, encoded, "not in shortest form");
    assert_canonical_maps(&tree);
    assert!(same_tree(value, &tree), "decodes to another tree");
    tree
}

fn map_entries(v: &Cbor) -> &[(Cbor, Cbor)] {
    match v {
        Cbor::Map(entries) => entries,
        _ => &[],
    }
}

/// `cbor_cose` target: a generated [`Cbor`] tree, a P-256 key's COSE form and the `none`
/// attestation object for generated authenticator data, each encoded by this crate and decoded by
/// `decode`: well-formed, shortest form, CTAP2 canonical map order, the same content, and the COSE
/// key is `{1: 2, 3: -7, -1: 1, -2: x, -3: y}` for the key's actual public point.
pub fn cbor_cose(data: &[u8], decode: Decoder<'_>) {
    let mut input = Input::new(data);
    let tree = gen_cbor(&mut input, 0);
    check_encoding(&tree, decode);

    let scalar = input.bytes(32);
    let Ok(key) = PrivateKey::from_scalar_bytes(&scalar) else {
        // Only zero and scalars ≥ n are refused.
        assert!(
            p256::SecretKey::from_slice(&scalar).is_err(),
            "a valid scalar refused"
        );
        return;
    };
    let cose = key.cose_key();
    let decoded = check_encoding(&cose.to_cbor_value(), decode);
    let point = p256::SecretKey::from_slice(&scalar)
        .map(|k| k.public_key().to_sec1_point(false).as_bytes().to_vec())
        .unwrap_or_default();
    let expected = [
        (Cbor::Unsigned(1), Cbor::Unsigned(2)),
        (Cbor::Unsigned(3), Cbor::Negative(6)),
        (Cbor::Negative(0), Cbor::Unsigned(1)),
        (
            Cbor::Negative(1),
            Cbor::Bytes(point.get(1..33).unwrap_or_default().to_vec()),
        ),
        (
            Cbor::Negative(2),
            Cbor::Bytes(point.get(33..).unwrap_or_default().to_vec()),
        ),
    ];
    assert_eq!(map_entries(&decoded), expected, "COSE key");
    assert_eq!(cose.to_cbor().len(), 77);

    // Authenticator data with attested credential data, and its attestation object.
    let rp_len = input.size(300);
    let rp_id = String::from_utf8_lossy(&input.bytes(rp_len)).into_owned();
    let id_len = if input.byte() < 16 {
        1000 + input.below(40)
    } else {
        input.size(1100)
    };
    let credential_id = input.bytes(id_len);
    let flag_byte = input.byte();
    let sign_count = u32::from_be_bytes([input.byte(), input.byte(), input.byte(), input.byte()]);
    let mut aaguid = [0u8; 16];
    aaguid.copy_from_slice(&input.bytes(16));
    let attested = AttestedCredentialData {
        aaguid,
        credential_id: &credential_id,
        public_key: &cose,
    };
    let built = authenticator::authenticator_data(&rp_id, flag_byte, sign_count, Some(&attested));
    let valid_id = (1..=1023).contains(&credential_id.len());
    let Ok(auth_data) = built else {
        assert!(!valid_id, "a valid credential id refused: {built:?}");
        return;
    };
    assert!(valid_id, "an invalid credential id accepted");
    assert_eq!(auth_data[..32], Sha256::digest(rp_id.as_bytes())[..]);
    assert_eq!(auth_data[32], flag_byte | flags::AT);
    assert_eq!(auth_data[33..37], sign_count.to_be_bytes());
    assert_eq!(auth_data[37..53], aaguid);
    let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    assert_eq!(len, credential_id.len());
    assert_eq!(auth_data.get(55..55 + len), Some(credential_id.as_slice()));
    let key_part = decode(auth_data.get(55 + len..).unwrap_or_default());
    assert!(
        matches!(&key_part, Ok((k, _)) if map_entries(k) == expected),
        "the credential public key is not the whole rest: {key_part:?}"
    );

    let object = authenticator::attestation_object_none(&auth_data);
    let decoded = check_encoding(
        &Cbor::Map(vec![
            (Cbor::text("fmt"), Cbor::text("none")),
            (Cbor::text("attStmt"), Cbor::Map(vec![])),
            (Cbor::text("authData"), Cbor::bytes(auth_data.clone())),
        ]),
        decode,
    );
    assert_eq!(decode(&object).map(|d| d.0), Ok(decoded.clone()));
    let keys: Vec<&Cbor> = map_entries(&decoded).iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            &Cbor::text("fmt"),
            &Cbor::text("attStmt"),
            &Cbor::text("authData")
        ]
    );

    // Without attested credential data: 37 bytes and AT clear.
    let plain = authenticator::authenticator_data(&rp_id, flag_byte, sign_count, None);
    assert!(matches!(&plain, Ok(d) if d.len() == 37 && d[32] == flag_byte & !flags::AT));
}

// -------------------------------------------------------------------------------------------------
// keys: PKCS#8 import and base64url.

/// `keys` target: base64url decoding is canonical (what decodes re-encodes to the same text) and
/// encoding round-trips; PKCS#8 import of arbitrary bytes never panics and what loads re-exports
/// to a document that loads to the same key; a one-byte change to a canonical PKCS#8 document
/// never loads as a different key.
pub fn keys(data: &[u8]) {
    let rest = data;
    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(bytes) = b64url::decode(text) {
            assert_eq!(
                b64url::encode(&bytes),
                text,
                "non-canonical base64url accepted"
            );
        }
    }
    assert_eq!(b64url::decode(&b64url::encode(rest)).as_deref(), Ok(rest));

    check_pkcs8_import(rest);
    // One byte of the canonical document of a key drawn from the input, changed.
    let mut scalar = [0x11u8; 32];
    for (s, b) in scalar.iter_mut().zip(rest.iter().rev()) {
        *s = *b;
    }
    let Ok(key) = PrivateKey::from_scalar_bytes(&scalar) else {
        return;
    };
    let mut der = key.to_pkcs8_der().to_vec();
    assert_eq!(der.len(), crate::crypto::PKCS8_LEN);
    if let (Some(&pos), Some(&xor)) = (rest.first(), rest.get(1)) {
        let i = usize::from(pos) % der.len();
        der[i] ^= if xor == 0 { 1 } else { xor };
        if let Ok(other) = PrivateKey::from_pkcs8_der(&der) {
            assert_eq!(
                other.public_key_sec1_uncompressed(),
                key.public_key_sec1_uncompressed(),
                "a changed PKCS#8 document loaded as another key (byte {i})"
            );
        }
    }
}

fn check_pkcs8_import(der: &[u8]) {
    if let Ok(key) = PrivateKey::from_pkcs8_der(der) {
        let again = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der());
        assert!(
            again.is_ok_and(
                |k| k.public_key_sec1_uncompressed() == key.public_key_sec1_uncompressed()
            ),
            "an imported key does not re-import"
        );
    }
}

// -------------------------------------------------------------------------------------------------
// host_messages: the native host protocol.

/// `host_messages` target: [`host::parse_request`] on arbitrary bytes, and (first byte = request
/// kind) [`host::parse_result`] and [`ResponseFrame`] on the rest. What is accepted re-serialises
/// and re-parses to the same value; a refusal is a typed error whose answer frame serialises.
/// (Built with the `host` feature: the native host protocol is not part of the wasm.)
#[cfg(feature = "host")]
pub fn host_messages(data: &[u8]) {
    match host::parse_request(data) {
        Ok(frame) => {
            let bytes = host::encode_request(&frame).unwrap_or_default();
            let again = host::parse_request(&bytes);
            assert_eq!(again.as_ref(), Ok(&frame), "a request does not round-trip");
        }
        Err(failure) => {
            let answer = serde_json::to_value(failure.to_response()).unwrap_or(Value::Null);
            assert!(answer["error"]["code"].is_string(), "{answer}");
            if let Some(id) = failure.id {
                let v: Value = serde_json::from_slice(data).unwrap_or(Value::Null);
                assert_eq!(
                    v["id"].as_u64(),
                    Some(u64::from(id)),
                    "an id that was not sent"
                );
            }
        }
    }
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let kind = RequestKind::ALL[usize::from(kind) % RequestKind::ALL.len()];
    if let Ok(body) = host::parse_result(kind, value.clone()) {
        let again = serde_json::to_value(&body).map(|v| host::parse_result(kind, v).ok());
        assert!(
            matches!(&again, Ok(Some(b)) if *b == body),
            "a {kind:?} result does not round-trip: {body:?} vs {again:?}"
        );
    }
    if let Value::Object(map) = &value {
        let _ = host::response_id(map);
    }
    if let Ok(frame) = serde_json::from_value::<ResponseFrame>(value) {
        let again = serde_json::to_value(&frame).map(serde_json::from_value::<ResponseFrame>);
        assert!(
            matches!(&again, Ok(Ok(f)) if *f == frame),
            "an answer frame does not round-trip: {frame:?} vs {again:?}"
        );
    }
}

// -------------------------------------------------------------------------------------------------
// vault: header and entry decoding and the whole load/unlock path.

/// The fast frozen vector (PIN "1234", Argon2id m=64 KiB t=1).
const FROZEN_FAST: &str = include_str!("vault/testdata/vault-v1-fast.json");
/// The PIN of every base vault.
const PIN: &str = "1234";
/// "Now" for every unlock (no deleted passkey is old enough to be purged).
const NOW: u64 = T0;

/// A storage snapshot: keys in order (as the fuzzer's edits pick them), last copy of a key wins.
type Storage = BTreeMap<String, JValue>;

/// The snapshot as the vault reads it.
fn object(storage: &Storage) -> JObject {
    storage
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect()
}

/// A storage snapshot to mutate, with what an unlock must find in it.
struct Base {
    storage: Storage,
    /// The vault key's session form.
    session_key: String,
    /// Entry id → (credential id, deleted).
    entries: BTreeMap<String, (String, bool)>,
    /// The KDF of the PIN method.
    kdf: KdfSpec,
    /// The vault id.
    vault_id: String,
}

fn apply(storage: &mut Storage, commit: &Commit, cleanup: bool) {
    storage.extend(
        commit
            .set
            .iter()
            .map(|(k, v)| (k.clone(), JValue::clone(v))),
    );
    for k in &commit.remove {
        storage.remove(k);
    }
    if cleanup {
        for k in &commit.cleanup {
            storage.remove(k);
        }
    }
}

fn describe(storage: Storage) -> Option<Base> {
    let mut vault = Vault::load(&object(&storage));
    vault
        .unlock_with_pin(&Pin::new(PIN.into()), NOW, &mut TestRng::new(1))
        .ok()?;
    let session_key = vault.session_key().ok()?;
    let key = VaultKey::from_session_string(&session_key).ok()?;
    let header = VaultHeader::from_value(storage.get(HEADER_KEY)?).ok()?;
    let kdf = header.unlock.iter().find_map(|m| match m {
        UnlockMethod::Pin(p) => Some(p.kdf.clone()),
        _ => None,
    })?;
    let mut entries = BTreeMap::new();
    for (k, v) in &storage {
        if let Some(id) = k.strip_prefix(ENTRY_PREFIX) {
            let payload = EncryptedEntry::from_value(v, id)
                .ok()?
                .open(&key, &header.vault_id)
                .ok()?;
            entries.insert(
                id.to_owned(),
                (payload.record.credential_id, payload.deleted_at.is_some()),
            );
        }
    }
    Some(Base {
        storage,
        session_key,
        entries,
        kdf,
        vault_id: header.vault_id,
    })
}

/// The bases: the frozen fast vector, and a vault with three passkeys where one has a kept
/// previous version (a crash before cleanup) and one is deleted.
fn bases() -> &'static [Base] {
    static BASES: OnceLock<Vec<Base>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut out = Vec::new();
        if let Some(b) = snapshot(FROZEN_FAST.as_bytes()).and_then(describe) {
            out.push(b);
        }
        let mut rng = TestRng::new(2026);
        let mut storage = Storage::new();
        let mut vault = Vault::load(&object(&storage));
        let fast = Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let pin = Pin::new(PIN.into());
        let Ok((commit, _)) = vault.create(&pin, fast, NOW, &mut rng) else {
            return out;
        };
        apply(&mut storage, &commit, true);
        let mut passkeys = Vec::new();
        for n in 1..=3u8 {
            let Ok(private_key) = PrivateKey::from_scalar_bytes(&[n; 32]) else {
                return out;
            };
            passkeys.push(Passkey {
                credential_id: vec![n; 16],
                rp_id: "example.com".into(),
                rp_name: "Example".into(),
                user_handle: vec![n],
                user_name: format!("user{n}"),
                user_display_name: format!("User {n}"),
                label: None,
                private_key,
                alg: crate::cose::ES256,
                created_ms: NOW,
                last_used_ms: None,
                sign_count: 0,
            });
        }
        let writes = passkeys.iter().map(StoreWrite::put).collect();
        let Ok(commit) = vault.commit_writes(writes, NOW, &mut rng) else {
            return out;
        };
        apply(&mut storage, &commit, true);
        passkeys[1].label = Some("renamed".into());
        let Ok(commit) = vault.commit_writes(vec![StoreWrite::put(&passkeys[1])], NOW, &mut rng)
        else {
            return out;
        };
        apply(&mut storage, &commit, false);
        let Ok(commit) = vault.commit_writes(vec![StoreWrite::delete(&[3; 16])], NOW, &mut rng)
        else {
            return out;
        };
        apply(&mut storage, &commit, true);
        out.extend(describe(storage));
        out
    })
}

/// The base storage snapshots as JSON (seeds for the raw mode of the `vault` target).
#[must_use]
pub fn vault_base_snapshots() -> Vec<String> {
    bases()
        .iter()
        .map(|b| object(&b.storage).to_json_string())
        .collect()
}

/// A storage snapshot's text (`None` unless it is a JSON object).
fn snapshot(text: &[u8]) -> Option<Storage> {
    match json::parse_bytes(text).ok()? {
        JValue::Object(o) => Some(o.into_iter().collect()),
        _ => None,
    }
}

/// Paths to the leaves of `v` (object members in key order, and array items).
fn leaves(v: &JValue, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        JValue::Object(m) => {
            // Key order (and the last of a repeated key), whatever order the members are in.
            let members: BTreeMap<&String, &JValue> = m.iter().collect();
            for (k, x) in members {
                path.push(k.clone());
                leaves(x, path, out);
                path.pop();
            }
        }
        JValue::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                leaves(x, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn at<'v>(v: &'v mut JValue, path: &[String]) -> Option<&'v mut JValue> {
    path.iter().try_fold(v, |v, p| match v {
        JValue::Object(m) => m.get_mut(p),
        JValue::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

const NUMBERS: [i64; 12] = [0, 1, 2, 7, 8, 19, 32, 63, 64, 65, 128, -1];

/// Applies one structured edit to `storage`.
fn edit(storage: &mut Storage, input: &mut Input<'_>) {
    let keys: Vec<String> = storage.keys().cloned().collect();
    if keys.is_empty() {
        return;
    }
    let key = keys[input.below(keys.len())].clone();
    let op = input.below(10);
    let mut paths = Vec::new();
    if let Some(v) = storage.get(&key) {
        leaves(v, &mut Vec::new(), &mut paths);
    }
    let path = if paths.is_empty() {
        Vec::new()
    } else {
        paths[input.below(paths.len())].clone()
    };
    match op {
        0 => {
            storage.remove(&key);
        }
        1 => {
            // Flip one bit of a base64url member's bytes (or of the text itself).
            if let Some(JValue::String(s)) = storage.get_mut(&key).and_then(|v| at(v, &path)) {
                let mut bytes = b64url::decode(s).unwrap_or_else(|_| s.clone().into_bytes());
                if !bytes.is_empty() {
                    let i = input.below(bytes.len() * 8);
                    bytes[i / 8] ^= 1 << (i % 8);
                }
                *s = b64url::encode(&bytes);
            }
        }
        2 => {
            // A number leaf (KDF parameters, versions, times) set to an edge value.
            if let Some(v) = storage.get_mut(&key).and_then(|v| at(v, &path)) {
                *v = JValue::from(NUMBERS[input.below(NUMBERS.len())]);
            }
        }
        3 => {
            // Another JSON type.
            if let Some(v) = storage.get_mut(&key).and_then(|v| at(v, &path)) {
                *v = match input.below(5) {
                    0 => JValue::Null,
                    1 => JValue::Bool(true),
                    2 => JValue::String(String::new()),
                    3 => JValue::Array(vec![]),
                    _ => JValue::Object(JObject::new()),
                };
            }
        }
        4 => {
            // Copy a value under another (maybe new) key.
            let targets = [
                format!("{ENTRY_PREFIX}{}", b64url::encode(&[input.byte(); 16])),
                format!(
                    "{PREV_PREFIX}{}",
                    key.rsplit(':').next().unwrap_or_default()
                ),
                format!(
                    "{ENTRY_PREFIX}{}",
                    key.rsplit(':').next().unwrap_or_default()
                ),
                HEADER_KEY.to_owned(),
                crate::vault::HEADER_BACKUP_KEY.to_owned(),
                "cred:AQID".to_owned(),
            ];
            let target = targets[input.below(targets.len())].clone();
            let other = keys[input.below(keys.len())].clone();
            if let Some(v) = storage.get(&other).cloned() {
                storage.insert(target, v);
            }
        }
        5 => {
            // Remove the member at the end of the path.
            if let Some((last, parent)) = path.split_last() {
                if let Some(JValue::Object(m)) = storage.get_mut(&key).and_then(|v| at(v, parent)) {
                    m.remove(last);
                }
            }
        }
        6 => {
            // Truncate a string.
            if let Some(JValue::String(s)) = storage.get_mut(&key).and_then(|v| at(v, &path)) {
                let keep = input.below(s.len() + 1);
                let cut = (0..=keep)
                    .rev()
                    .find(|&i| s.is_char_boundary(i))
                    .unwrap_or(0);
                s.truncate(cut);
            }
        }
        7 => {
            // An unknown member next to the leaf.
            if let Some((_, parent)) = path.split_last() {
                if let Some(JValue::Object(m)) = storage.get_mut(&key).and_then(|v| at(v, parent)) {
                    m.insert("x-unknown", u32::from(input.byte()));
                }
            }
        }
        8 => {
            // Swap two values.
            let other = keys[input.below(keys.len())].clone();
            if let (Some(a), Some(b)) = (storage.get(&key).cloned(), storage.get(&other).cloned()) {
                storage.insert(key, b);
                storage.insert(other, a);
            }
        }
        _ => {
            // A cheap KDF parameter change in the main and/or backup header.
            let field = ["memoryKiB", "iterations", "parallelism"][input.below(3)];
            let value = [8u64, 16, 32, 63, 65, 128, 1, 2, 3][input.below(9)];
            let which = input.below(3);
            for (i, k) in [HEADER_KEY, crate::vault::HEADER_BACKUP_KEY]
                .iter()
                .enumerate()
            {
                if which == 2 || which == i {
                    let path = ["unlock", "0", "kdf"].map(String::from);
                    if let Some(JValue::Object(kdf)) =
                        storage.get_mut(*k).and_then(|h| at(h, &path))
                    {
                        kdf.insert(field, value);
                    }
                }
            }
        }
    }
}

/// True when every PIN method of `header` derives cheaply (or is refused before deriving).
fn cheap_kdf(header: Option<&JValue>) -> bool {
    let Some(JValue::Array(methods)) = header.and_then(|h| h.get("unlock")) else {
        return true;
    };
    methods.iter().all(|m| {
        let kdf = m.get("kdf");
        let n = |k: &str| {
            kdf.and_then(|kdf| kdf.get(k))
                .and_then(JValue::as_u64)
                .unwrap_or(0)
        };
        n("memoryKiB")
            .saturating_mul(n("iterations"))
            .saturating_mul(n("parallelism"))
            <= 1024
            || n("memoryKiB") > u64::from(Argon2Params::MAX_MEMORY_KIB)
            || n("iterations") > u64::from(Argon2Params::MAX_ITERATIONS)
            || n("parallelism") > u64::from(Argon2Params::MAX_PARALLELISM)
    })
}

/// `vault` target. First byte: `% 4 == 0` means the rest is a storage snapshot as JSON text;
/// otherwise a base snapshot (the frozen fast vector or a three-passkey vault) gets up to 16
/// structured edits. Then: every header and entry value is decoded on its own (what parses
/// re-serialises to the same value), the vault is loaded and unlocked with the session key and
/// (when the KDF stays cheap) with the right or a wrong PIN. Properties: no panic; errors are
/// [`VaultError`]s; a wrong PIN never unlocks; an unlock never succeeds through a PIN method whose
/// KDF parameters differ from the ones the key was wrapped with; every entry is either loaded or
/// reported; entries whose stored values were not touched always load; and the unlock commit never
/// removes an entry or a header.
pub fn vault(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte();
    let bases = bases();
    let (storage, base) = if mode % 4 == 0 {
        let rest = input.take(usize::MAX);
        let Some(storage) = snapshot(rest) else {
            return;
        };
        (storage, None)
    } else {
        let Some(base) = bases.get(usize::from(mode >> 2) % bases.len().max(1)) else {
            return;
        };
        let mut storage = base.storage.clone();
        for _ in 0..input.below(16) + 1 {
            if input.is_empty() {
                break;
            }
            edit(&mut storage, &mut input);
        }
        (storage, Some(base))
    };

    decode_values(&storage);
    if let Some(base) = base {
        open_entries(&storage, base);
    }

    let session_keys: Vec<&str> = match base {
        Some(b) => vec![b.session_key.as_str()],
        None => bases.iter().map(|b| b.session_key.as_str()).collect(),
    };
    for key in session_keys {
        // The service worker's path: the snapshot's text, a lazy unlock, then the verification.
        let text = object(&storage).to_json_string();
        let loaded = Vault::load_json(&text);
        assert!(loaded.is_ok(), "a storage snapshot's text does not load");
        let Ok(mut vault) = loaded else {
            return;
        };
        let result = vault.unlock_with_session_key(key, NOW, &mut TestRng::new(3));
        let result = verify_all(&mut vault, result);
        check_unlock(&storage, base, &vault, result);
    }

    let headers = [
        storage.get(HEADER_KEY),
        storage.get(crate::vault::HEADER_BACKUP_KEY),
    ];
    if headers.iter().all(|h| cheap_kdf(*h)) {
        let right = input.byte() % 4 != 0;
        let pin = Pin::new(if right { PIN } else { "4321" }.into());
        let mut vault = Vault::load(&object(&storage));
        let result = vault.unlock_with_pin(&pin, NOW, &mut TestRng::new(4));
        let result = verify_all(&mut vault, result);
        if !right {
            assert!(result.is_err(), "a wrong PIN unlocked the vault");
        }
        if result.is_ok() {
            check_kdf_binding(&vault, &pin);
        }
        check_unlock(&storage, base, &vault, result);
    }
}

/// Headers and entries decoded on their own: typed errors, and what parses round-trips.
fn decode_values(storage: &Storage) {
    for (k, v) in storage {
        if k.starts_with(HEADER_KEY) {
            if let Ok(h) = VaultHeader::from_value(v) {
                assert_eq!(
                    VaultHeader::from_value(&h.to_json()).as_ref(),
                    Ok(&h),
                    "a header does not round-trip"
                );
            }
        } else if let Some(id) = k
            .strip_prefix(ENTRY_PREFIX)
            .or_else(|| k.strip_prefix(PREV_PREFIX))
        {
            match EncryptedEntry::from_value(v, id) {
                Ok(e) => {
                    assert_eq!(
                        EncryptedEntry::from_value(&e.to_json(), id).as_ref(),
                        Ok(&e)
                    );
                    assert_eq!(
                        EncryptedEntry::from_json(&v.to_json_string(), id).as_ref(),
                        Ok(&e),
                        "an entry reads the same from its text"
                    );
                }
                Err(e) => assert!(matches!(
                    e,
                    VaultError::Tampered(_) | VaultError::UnsupportedVersion(_)
                )),
            }
        }
    }
}

/// Entries opened directly with the base's key: what authenticates under an entry id is that
/// entry's passkey (its current or kept previous version), never another one; anything else is
/// `Tampered`.
fn open_entries(storage: &Storage, base: &Base) {
    let Ok(key) = VaultKey::from_session_string(&base.session_key) else {
        return;
    };
    for (k, v) in storage {
        let Some(id) = k
            .strip_prefix(ENTRY_PREFIX)
            .or_else(|| k.strip_prefix(PREV_PREFIX))
        else {
            continue;
        };
        let Ok(entry) = EncryptedEntry::from_value(v, id) else {
            continue;
        };
        match entry.open(&key, &base.vault_id) {
            Ok(payload) => {
                assert_eq!(
                    Some(&payload.record.credential_id),
                    base.entries.get(id).map(|e| &e.0),
                    "entry {id} opened to another passkey"
                );
                // What a payload decodes to, it writes back to the same record.
                let again = EntryPayload::from_json_bytes(payload.to_json_string().as_bytes());
                assert_eq!(
                    again.as_ref(),
                    Ok(&payload),
                    "a payload does not round-trip"
                );
            }
            Err(e) => assert!(matches!(e, VaultError::Tampered(_)), "opening {k}: {e:?}"),
        }
    }
}

/// No PIN method whose KDF differs from every base's unwraps the key.
fn check_kdf_binding(vault: &Vault, pin: &Pin) {
    let Some(header) = vault
        .header_value()
        .and_then(|v| VaultHeader::from_value(&v).ok())
    else {
        panic_like("unlocked without a readable header");
        return;
    };
    let known = |kdf: &KdfSpec| bases().iter().any(|b| b.kdf == *kdf);
    let mut used_known = false;
    for m in &header.unlock {
        if let UnlockMethod::Pin(p) = m {
            if known(&p.kdf) {
                used_known |= p.unwrap(&header.vault_id, pin).is_ok();
            } else {
                assert!(
                    p.unwrap(&header.vault_id, pin).is_err(),
                    "a PIN method with changed KDF parameters unwrapped the key: {:?}",
                    p.kdf
                );
            }
        }
    }
    assert!(
        used_known,
        "unlocked, but no PIN method with the original KDF unwraps"
    );
}

/// Completes an unlock the way the service worker does: a request for one site opens its
/// entries, then the background verification opens the rest, in small slices.
fn verify_all(
    vault: &mut Vault,
    result: Result<(Commit, Vec<Passkey>), VaultError>,
) -> Result<(Commit, Vec<Passkey>), VaultError> {
    let (mut commit, mut passkeys) = result?;
    passkeys.extend(vault.open_rp("example.com", NOW)?);
    while vault.unverified() > 0 {
        let (more, found) = vault.verify_step(3, NOW)?;
        commit.merge(more);
        passkeys.extend(found);
    }
    commit.merge(vault.take_pending()?);
    Ok((commit, passkeys))
}

fn check_unlock(
    storage: &Storage,
    base: Option<&Base>,
    vault: &Vault,
    result: Result<(Commit, Vec<Passkey>), VaultError>,
) {
    let (commit, passkeys) = match result {
        Err(e) => {
            // A damaged or foreign vault is refused as such, never as a failed primitive.
            assert!(
                !matches!(
                    e,
                    VaultError::Rng(_)
                        | VaultError::Crypto(_)
                        | VaultError::Tampered(_)
                        | VaultError::Invalid(_)
                        | VaultError::Locked
                        | VaultError::WeakPin(_)
                        | VaultError::VaultExists
                ),
                "unlock failed with {e:?}"
            );
            return;
        }
        Ok(ok) => ok,
    };
    for k in &commit.remove {
        assert!(
            !k.starts_with(ENTRY_PREFIX) && !k.starts_with("vault:header"),
            "unlock removes {k}"
        );
    }
    for k in &commit.cleanup {
        let id = k.strip_prefix(PREV_PREFIX);
        assert!(id.is_some(), "unlock cleans up {k}");
        let entry_key = format!("{ENTRY_PREFIX}{}", id.unwrap_or_default());
        let damaged = vault
            .damaged()
            .iter()
            .any(|d| d.key == entry_key || d.key == *k);
        assert!(
            !damaged,
            "the previous version of a damaged entry is cleaned up: {k}"
        );
    }
    // Every slot is accounted for: loaded, deleted, or reported.
    let slots: std::collections::BTreeSet<&str> = storage
        .keys()
        .filter_map(|k| {
            k.strip_prefix(ENTRY_PREFIX)
                .or_else(|| k.strip_prefix(PREV_PREFIX))
        })
        .collect();
    let legacy_ok = storage.keys().filter(|k| k.starts_with("cred:")).count();
    let reported = vault
        .damaged()
        .iter()
        .filter(|d| d.key.starts_with(ENTRY_PREFIX) || d.key.starts_with(PREV_PREFIX))
        .count();
    let accounted = passkeys.len() + vault.deleted().len() + reported;
    assert!(
        accounted >= slots.len() && accounted <= slots.len() + legacy_ok,
        "{} slots but {} passkeys, {} deleted, {} reported",
        slots.len(),
        passkeys.len(),
        vault.deleted().len(),
        reported
    );
    // Entries nobody touched always load.
    let Some(base) = base else {
        return;
    };
    for (id, (credential_id, deleted)) in &base.entries {
        let e = format!("{ENTRY_PREFIX}{id}");
        let p = format!("{PREV_PREFIX}{id}");
        if storage.get(&e) != base.storage.get(&e) || storage.get(&p) != base.storage.get(&p) {
            continue;
        }
        let found = if *deleted {
            vault
                .deleted()
                .iter()
                .any(|d| d.credential_id == *credential_id)
        } else {
            passkeys
                .iter()
                .any(|p| b64url::encode(&p.credential_id) == *credential_id)
        };
        assert!(found, "an untouched entry {id} did not load");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::cbor::Value as CborValue;

    include!("../../fuzz/src/ciborium_decoder.rs");

    /// The files of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`.
    fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz");
        let mut out = Vec::new();
        for dir in ["corpus", "regressions"] {
            let Ok(files) = std::fs::read_dir(format!("{root}/{dir}/{target}")) else {
                continue;
            };
            for f in files {
                let path = f.unwrap().path();
                if path.is_file() {
                    out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    fn replay(target: &str, min: usize, run: impl Fn(&[u8])) {
        let files = inputs(target);
        assert!(
            files.len() >= min,
            "{target}: only {} corpus files",
            files.len()
        );
        for (name, data) in files {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
            assert!(ok.is_ok(), "{target}: {name} fails");
        }
    }

    #[test]
    fn options_corpus_replays() {
        replay("options", 5, options);
    }

    #[test]
    fn cbor_cose_corpus_replays() {
        replay("cbor_cose", 5, |d| cbor_cose(d, &ciborium_decode));
    }

    #[test]
    fn keys_corpus_replays() {
        replay("keys", 3, keys);
    }

    #[cfg(feature = "host")]
    #[test]
    fn host_messages_corpus_replays() {
        replay("host_messages", 5, host_messages);
    }

    #[test]
    fn vault_corpus_replays() {
        assert_eq!(bases().len(), 2, "both base vaults build");
        replay("vault", 5, vault);
    }

    /// The `frames` corpus (native host framing) through the request parser; the whole serve
    /// loop replays it in native-host's tests.
    #[cfg(feature = "host")]
    #[test]
    fn frames_corpus_parses() {
        replay("frames", 3, |mut d| {
            while d.len() >= 4 {
                let len = u32::from_ne_bytes([d[0], d[1], d[2], d[3]]) as usize;
                let Some(body) = d.get(4..4 + len) else { break };
                host_messages(body);
                d = &d[4 + len..];
            }
        });
    }

    #[test]
    fn the_input_reader_pads_with_zeros() {
        let mut i = Input::new(&[7, 1, 2]);
        assert_eq!(i.byte(), 7);
        assert_eq!(i.bytes(4), [1, 2, 2, 2]);
        assert!(i.is_empty());
        assert_eq!((i.byte(), i.u64(), i.below(5)), (0, 0, 0));
    }

    /// The properties catch what they claim to: a non-canonical order and a tampered KDF.
    #[test]
    fn the_checks_fail_on_bad_encodings() {
        let unsorted = [0xa2, 0x02, 0x00, 0x01, 0x00];
        let (tree, _) = ciborium_decode(&unsorted).unwrap();
        assert!(std::panic::catch_unwind(|| assert_canonical_maps(&tree)).is_err());
        let long_form = [0x18, 0x05];
        let (tree, re) = ciborium_decode(&long_form).unwrap();
        assert_eq!(tree, Cbor::Unsigned(5));
        assert_ne!(re, long_form, "the shortest-form check can fail");
        assert!(ciborium_decode(&[0x01, 0x02]).is_err(), "trailing bytes");
    }
}
