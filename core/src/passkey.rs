//! A stored passkey (a [public key credential source](https://www.w3.org/TR/webauthn-3/#public-key-credential-source))
//! and its JSON storage record, format version 1 (docs/design.md, "Stored passkey record"):
//!
//! ```json
//! {"v":1,"credentialId":"<b64url>","rpId":"example.com","rpName":"Example","userHandle":"<b64url>",
//!  "userName":"alice","userDisplayName":"Alice","alg":-7,"privateKey":"<b64url PKCS#8 DER>",
//!  "created":1700000000000,"lastUsed":null,"signCount":0}
//! ```
//!
//! Unknown members are ignored on read (so a newer minor writer does not break an older reader);
//! a different `v` is refused with [`PasskeyError::UnsupportedVersion`].

use crate::b64url;
use crate::cose::ES256;
use crate::crypto::{CryptoError, PrivateKey};
use crate::json::{self, FirstError, JsonError, Value};
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// The record format version this code writes and reads.
pub const RECORD_VERSION: u32 = 1;

/// Why a stored record cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasskeyError {
    /// The record's `v` is not one this code understands.
    #[error("unsupported passkey record version {0}")]
    UnsupportedVersion(u32),
    /// The record's `alg` is not ES256 (-7).
    #[error("unsupported passkey algorithm {0}")]
    UnsupportedAlgorithm(i64),
    /// A binary member is not base64url.
    #[error("the record member {0} is not base64url")]
    InvalidBase64(&'static str),
    /// The credential id is empty or longer than 1023 bytes.
    #[error("the credential id has an invalid length ({0} bytes)")]
    InvalidCredentialId(usize),
    /// The user handle is empty or longer than 64 bytes.
    #[error("the user handle has an invalid length ({0} bytes)")]
    InvalidUserHandle(usize),
    /// The private key does not load.
    #[error(transparent)]
    PrivateKey(#[from] CryptoError),
}

/// Largest credential id WebAuthn allows
/// ([credential ID](https://www.w3.org/TR/webauthn-3/#credential-id): at most 1023 bytes).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;
/// Largest [user handle](https://www.w3.org/TR/webauthn-3/#user-handle): 64 bytes.
pub const MAX_USER_HANDLE_LEN: usize = 64;

/// A passkey held by this authenticator. `Debug` omits the private key.
#[derive(Clone)]
pub struct Passkey {
    /// The [credential ID](https://www.w3.org/TR/webauthn-3/#credential-id) (16 random bytes for
    /// passkeys created here; imported ones may differ).
    pub credential_id: Vec<u8>,
    /// The [RP ID](https://www.w3.org/TR/webauthn-3/#rp-id) the credential is scoped to.
    pub rp_id: String,
    /// The RP's human-palatable name at creation.
    pub rp_name: String,
    /// The [user handle](https://www.w3.org/TR/webauthn-3/#user-handle) (`user.id`), 1–64 bytes.
    pub user_handle: Vec<u8>,
    /// `user.name` at creation.
    pub user_name: String,
    /// `user.displayName` at creation.
    pub user_display_name: String,
    /// The user's own name for this passkey (set in the manager), if any.
    pub label: Option<String>,
    /// The credential private key.
    pub private_key: PrivateKey,
    /// COSE algorithm, always [`ES256`].
    pub alg: i64,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// Last successful assertion, ms since the epoch.
    pub last_used_ms: Option<u64>,
    /// The [signature counter](https://www.w3.org/TR/webauthn-3/#signature-counter); always 0 here.
    pub sign_count: u32,
}

impl std::fmt::Debug for Passkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkey")
            .field("credential_id", &b64url::encode(&self.credential_id))
            .field("rp_id", &self.rp_id)
            .field("rp_name", &self.rp_name)
            .field("user_handle", &b64url::encode(&self.user_handle))
            .field("user_name", &self.user_name)
            .field("user_display_name", &self.user_display_name)
            .field("label", &self.label)
            .field("private_key", &self.private_key)
            .field("alg", &self.alg)
            .field("created_ms", &self.created_ms)
            .field("last_used_ms", &self.last_used_ms)
            .field("sign_count", &self.sign_count)
            .finish()
    }
}

/// A secret string (the base64url PKCS#8 private key inside a record): zeroized on drop,
/// redacted in `Debug`, serialized as a plain JSON string.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `value`.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret text.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(..)")
    }
}

/// The stored JSON form of a [`Passkey`], format version 1. Member order is the order written
/// ([`PasskeyRecord::write_json`]); [`PasskeyRecord::from_json`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasskeyRecord {
    /// Format version, `1`.
    pub v: u32,
    /// Credential id, base64url.
    pub credential_id: String,
    /// RP ID.
    pub rp_id: String,
    /// RP name.
    pub rp_name: String,
    /// User handle, base64url.
    pub user_handle: String,
    /// User name.
    pub user_name: String,
    /// User display name.
    pub user_display_name: String,
    /// The user's own name for the passkey; absent when unset (added in place: format 1 readers
    /// ignore unknown members).
    pub label: Option<String>,
    /// COSE algorithm (-7).
    pub alg: i64,
    /// Private key: base64url of PKCS#8 DER (stored only inside an encrypted vault entry).
    pub private_key: SecretString,
    /// Creation time, ms since the epoch.
    pub created: u64,
    /// Last use, ms since the epoch, or `null`.
    pub last_used: Option<u64>,
    /// Signature counter.
    pub sign_count: u32,
}

/// Starts member `key` of an object being written (`first`: no comma before it).
fn member(out: &mut String, first: bool, key: &str) {
    if !first {
        out.push(',');
    }
    json::write_string(out, key);
    out.push(':');
}

impl PasskeyRecord {
    /// Appends the record's JSON text to `out`: `v, credentialId, rpId, rpName, userHandle,
    /// userName, userDisplayName, [label], alg, privateKey, created, lastUsed, signCount` (the
    /// order format 1 has always been written in; `label` only when set, `lastUsed` as a number or
    /// `null`). The private key is written straight into `out`, never into a [`Value`], so the
    /// only copy is the caller's buffer (a `Zeroizing` one in [`PasskeyRecord::to_json_string`]
    /// and for vault entries).
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        member(out, true, "v");
        Value::from(self.v).write_to(out);
        member(out, false, "credentialId");
        json::write_string(out, &self.credential_id);
        member(out, false, "rpId");
        json::write_string(out, &self.rp_id);
        member(out, false, "rpName");
        json::write_string(out, &self.rp_name);
        member(out, false, "userHandle");
        json::write_string(out, &self.user_handle);
        member(out, false, "userName");
        json::write_string(out, &self.user_name);
        member(out, false, "userDisplayName");
        json::write_string(out, &self.user_display_name);
        if let Some(label) = &self.label {
            member(out, false, "label");
            json::write_string(out, label);
        }
        member(out, false, "alg");
        Value::from(self.alg).write_to(out);
        member(out, false, "privateKey");
        json::write_string(out, self.private_key.expose());
        member(out, false, "created");
        Value::from(self.created).write_to(out);
        member(out, false, "lastUsed");
        Value::from(self.last_used).write_to(out);
        member(out, false, "signCount");
        Value::from(self.sign_count).write_to(out);
        out.push('}');
    }

    /// Room for the record's JSON text (so writing it does not reallocate and leave copies of
    /// the private key behind).
    pub(crate) fn json_capacity(&self) -> usize {
        // Member names, punctuation and numbers take well under 256 bytes; strings may double
        // when escaped (only control characters grow more, and they cannot be in base64url).
        256 + 2
            * (self.credential_id.len()
                + self.rp_id.len()
                + self.rp_name.len()
                + self.user_handle.len()
                + self.user_name.len()
                + self.user_display_name.len()
                + self.label.as_ref().map_or(0, String::len))
            + self.private_key.expose().len()
    }

    /// The record's JSON text ([`PasskeyRecord::write_json`]), zeroized on drop.
    #[must_use]
    pub fn to_json_string(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(self.json_capacity()));
        self.write_json(&mut out);
        out
    }

    /// Reads a record. Takes the value so every string (the private key above all) is moved out
    /// of it, not copied. As format 1 has always been read: unknown members are ignored; `label`
    /// and `lastUsed` may be absent or `null`; every other member is required with its type (`v`
    /// and `signCount` integers from 0 to 2³²−1, `created` from 0 to 2⁶⁴−1, `alg` a 64-bit
    /// integer). A repeated member counts once, the last (see
    /// [`PasskeyRecord::from_json_once`]). `v` and `alg` are checked by [`Passkey::from_record`].
    ///
    /// # Errors
    /// [`JsonError::Missing`] / [`JsonError::WrongType`] naming the member.
    pub fn from_json(value: Value) -> Result<Self, JsonError> {
        Self::read(value, false)
    }

    /// [`PasskeyRecord::from_json`], except that a member given twice is an error (what serde's
    /// derive did for records read straight from text: inside vault entries).
    ///
    /// # Errors
    /// As [`PasskeyRecord::from_json`].
    pub fn from_json_once(value: Value) -> Result<Self, JsonError> {
        Self::read(value, true)
    }

    fn read(value: Value, once: bool) -> Result<Self, JsonError> {
        const NAMES: [&str; 13] = [
            "v",
            "credentialId",
            "rpId",
            "rpName",
            "userHandle",
            "userName",
            "userDisplayName",
            "label",
            "alg",
            "privateKey",
            "created",
            "lastUsed",
            "signCount",
        ];
        let Value::Object(o) = value else {
            return Err(not_an_object());
        };
        let mut m: [Option<Value>; 13] = Default::default();
        for (key, value) in o {
            let Some(i) = NAMES.iter().position(|n| *n == key) else {
                continue;
            };
            if once && m[i].is_some() {
                return Err(repeated(key));
            }
            m[i] = Some(value);
        }
        let [v, credential_id, rp_id, rp_name, user_handle, user_name, user_display_name, label, alg, private_key, created, last_used, sign_count] =
            m;
        // Built whole, the first error kept ([`FirstError`]): one drop path (wasm size).
        let mut e = FirstError::default();
        let record = Self {
            private_key: SecretString(e.take(string(private_key, "privateKey"))),
            v: e.take(int_u32(v, "v")),
            credential_id: e.take(string(credential_id, "credentialId")),
            rp_id: e.take(string(rp_id, "rpId")),
            rp_name: e.take(string(rp_name, "rpName")),
            user_handle: e.take(string(user_handle, "userHandle")),
            user_name: e.take(string(user_name, "userName")),
            user_display_name: e.take(string(user_display_name, "userDisplayName")),
            label: e.take(
                optional(label)
                    .map(|l| string(Some(l), "label"))
                    .transpose(),
            ),
            alg: e.take(
                required(alg, "alg")
                    .and_then(|a| a.as_i64().ok_or_else(|| wrong("alg", "an integer"))),
            ),
            created: e.take(int_u64(created, "created")),
            last_used: e.take(
                optional(last_used)
                    .map(|l| int_u64(Some(l), "lastUsed"))
                    .transpose(),
            ),
            sign_count: e.take(int_u32(sign_count, "signCount")),
        };
        e.finish(record)
    }
}

// Typed members taken out of a parsed object (owned, so strings are moved, not copied).

pub(crate) use crate::json::wrong_type as wrong;

pub(crate) fn not_an_object() -> JsonError {
    wrong("value", "an object")
}

/// A member given twice where the form allows it once.
pub(crate) fn repeated(member: String) -> JsonError {
    JsonError::WrongType {
        member,
        expected: "given only once",
    }
}

pub(crate) fn required(value: Option<Value>, member: &str) -> Result<Value, JsonError> {
    value.ok_or_else(|| JsonError::Missing {
        member: member.to_owned(),
    })
}

/// Absent or `null` is `None`.
pub(crate) fn optional(value: Option<Value>) -> Option<Value> {
    value.filter(|v| !v.is_null())
}

pub(crate) fn string(value: Option<Value>, member: &str) -> Result<String, JsonError> {
    match required(value, member)? {
        Value::String(s) => Ok(s),
        _ => Err(wrong(member, "a string")),
    }
}

pub(crate) fn int_u64(value: Option<Value>, member: &str) -> Result<u64, JsonError> {
    required(value, member)?
        .as_u64()
        .ok_or_else(|| wrong(member, "a non-negative integer"))
}

pub(crate) fn int_u32(value: Option<Value>, member: &str) -> Result<u32, JsonError> {
    required(value, member)?
        .as_u64()
        .and_then(|u| u32::try_from(u).ok())
        .ok_or_else(|| wrong(member, "an integer from 0 to 4294967295"))
}

impl Passkey {
    /// The storage record (version 1).
    #[must_use]
    pub fn to_record(&self) -> PasskeyRecord {
        PasskeyRecord {
            v: RECORD_VERSION,
            credential_id: b64url::encode(&self.credential_id),
            rp_id: self.rp_id.clone(),
            rp_name: self.rp_name.clone(),
            user_handle: b64url::encode(&self.user_handle),
            user_name: self.user_name.clone(),
            user_display_name: self.user_display_name.clone(),
            label: self.label.clone(),
            alg: self.alg,
            private_key: SecretString(b64url::encode(&self.private_key.to_pkcs8_der())),
            created: self.created_ms,
            last_used: self.last_used_ms,
            sign_count: self.sign_count,
        }
    }

    /// Loads a passkey from its record.
    ///
    /// # Errors
    /// [`PasskeyError`] for an unknown version or algorithm, bad base64url, out-of-range ids, or a
    /// private key that does not load.
    pub fn from_record(record: PasskeyRecord) -> Result<Self, PasskeyError> {
        Self::from_record_with(record, PrivateKey::from_pkcs8_der)
    }

    /// [`Passkey::from_record`] for a record read out of an authenticated vault entry: the
    /// private key's public half is derived on first use instead of now
    /// ([`PrivateKey::from_trusted_pkcs8_der`]), so unlocking a large vault stays fast.
    ///
    /// # Errors
    /// As [`Passkey::from_record`].
    pub fn from_vault_record(record: PasskeyRecord) -> Result<Self, PasskeyError> {
        Self::from_record_with(record, PrivateKey::from_trusted_pkcs8_der)
    }

    fn from_record_with(
        record: PasskeyRecord,
        parse_key: fn(&[u8]) -> Result<PrivateKey, CryptoError>,
    ) -> Result<Self, PasskeyError> {
        if record.v != RECORD_VERSION {
            return Err(PasskeyError::UnsupportedVersion(record.v));
        }
        if record.alg != ES256 {
            return Err(PasskeyError::UnsupportedAlgorithm(record.alg));
        }
        let credential_id = b64url::decode(&record.credential_id)
            .map_err(|_| PasskeyError::InvalidBase64("credentialId"))?;
        if credential_id.is_empty() || credential_id.len() > MAX_CREDENTIAL_ID_LEN {
            return Err(PasskeyError::InvalidCredentialId(credential_id.len()));
        }
        let user_handle = b64url::decode(&record.user_handle)
            .map_err(|_| PasskeyError::InvalidBase64("userHandle"))?;
        if user_handle.is_empty() || user_handle.len() > MAX_USER_HANDLE_LEN {
            return Err(PasskeyError::InvalidUserHandle(user_handle.len()));
        }
        let der = zeroize::Zeroizing::new(
            b64url::decode(record.private_key.expose())
                .map_err(|_| PasskeyError::InvalidBase64("privateKey"))?,
        );
        let private_key = parse_key(&der)?;
        Ok(Self {
            credential_id,
            rp_id: record.rp_id,
            rp_name: record.rp_name,
            user_handle,
            user_name: record.user_name,
            user_display_name: record.user_display_name,
            label: record.label,
            private_key,
            alg: record.alg,
            created_ms: record.created,
            last_used_ms: record.last_used,
            sign_count: record.sign_count,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A version-1 record written once and frozen: it must keep loading, and re-serialize to the
    /// same bytes, forever. (The key is the WebAuthn L3 §16 "none.ES256" test-vector key.)
    const FROZEN_V1: &str = r#"{"v":1,"credentialId":"AAECAwQFBgcICQoLDA0ODw","rpId":"example.com","rpName":"Example","userHandle":"dXNlci0x","userName":"alice","userDisplayName":"Alice","alg":-7,"privateKey":"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbmjnpYSEoyZPZrd_XW3FvDakcIW2FclyerM06MNpwu6hRANCAASv76Fvl8qbLSPrhsy2QJjSDbkIVgYusknDOptnLybfYZMKVrh6L8pmM0sDRYq_h5cXwSzGjtcykK8uJmR5a5Ig","created":1700000000000,"lastUsed":null,"signCount":0}"#;

    const SPEC_KEY_HEX: &str = "6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee";

    #[test]
    fn frozen_v1_record_still_loads_and_round_trips() {
        let record: PasskeyRecord = read(FROZEN_V1).unwrap();
        let passkey = Passkey::from_record(record).unwrap();
        assert_eq!(passkey.credential_id, (0u8..16).collect::<Vec<_>>());
        assert_eq!(passkey.rp_id, "example.com");
        assert_eq!(passkey.rp_name, "Example");
        assert_eq!(passkey.user_handle, b"user-1");
        assert_eq!(passkey.user_name, "alice");
        assert_eq!(passkey.user_display_name, "Alice");
        assert_eq!(passkey.alg, -7);
        assert_eq!(passkey.created_ms, 1_700_000_000_000);
        assert_eq!(passkey.last_used_ms, None);
        assert_eq!(passkey.sign_count, 0);
        let cose = passkey.private_key.cose_key();
        assert_eq!(cose.x[..4], [0xaf, 0xef, 0xa1, 0x6f]);
        assert_eq!(*passkey.to_record().to_json_string(), FROZEN_V1);
    }

    #[test]
    fn last_used_is_written_as_a_number_or_null() {
        let record: PasskeyRecord = read(FROZEN_V1).unwrap();
        let mut passkey = Passkey::from_record(record).unwrap();
        passkey.last_used_ms = Some(1_700_000_000_123);
        let json = passkey.to_record().to_json_string();
        assert!(
            json.contains(r#""lastUsed":1700000000123,"signCount":0}"#),
            "{}",
            *json
        );
    }

    #[test]
    fn unknown_members_are_ignored() {
        let json = FROZEN_V1.replace(r#""v":1,"#, r#""v":1,"future":{"x":[1,2]},"#);
        let record: PasskeyRecord = read(&json).unwrap();
        assert!(Passkey::from_record(record).is_ok());
    }

    fn read(text: &str) -> Result<PasskeyRecord, JsonError> {
        PasskeyRecord::from_json(json::parse(text).unwrap())
    }

    /// What serde's derive accepted, this accepts, and the other way round (checked against the
    /// rules it had: `label`/`lastUsed` optional, null = absent; every other member required and
    /// typed; integers in their Rust type's range).
    #[test]
    fn member_rules_are_those_of_format_1() {
        let base: serde_json::Value = serde_json::from_str(FROZEN_V1).unwrap();
        let with = |member: &str, v: Option<serde_json::Value>| {
            let mut o = base.as_object().unwrap().clone();
            match v {
                Some(v) => o.insert(member.into(), v),
                None => o.remove(member),
            };
            read(&serde_json::Value::Object(o).to_string())
        };
        use serde_json::json;
        // Optional members: absent or null.
        for m in ["label", "lastUsed"] {
            assert!(with(m, None).is_ok(), "{m} absent");
            assert!(with(m, Some(json!(null))).is_ok(), "{m} null");
        }
        assert_eq!(
            with("label", Some(json!("work"))).unwrap().label.as_deref(),
            Some("work")
        );
        assert!(with("label", Some(json!(5))).is_err());
        assert_eq!(with("lastUsed", Some(json!(7))).unwrap().last_used, Some(7));
        assert!(with("lastUsed", Some(json!(-1))).is_err());
        assert!(with("lastUsed", Some(json!(1.5))).is_err());
        // Required members: absent, null or of another type is an error naming it.
        for m in [
            "v",
            "credentialId",
            "rpId",
            "rpName",
            "userHandle",
            "userName",
            "userDisplayName",
            "alg",
            "privateKey",
            "created",
            "signCount",
        ] {
            assert_eq!(
                with(m, None).unwrap_err(),
                JsonError::Missing { member: m.into() }
            );
            for bad in [json!(null), json!([]), json!({}), json!(true)] {
                let err = with(m, Some(bad.clone())).unwrap_err();
                assert!(
                    matches!(&err, JsonError::WrongType { member, .. } if member == m),
                    "{m} = {bad}: {err:?}"
                );
            }
        }
        // Integer ranges: u32 for v / signCount, u64 for created, i64 for alg.
        assert!(with("v", Some(json!(4_294_967_296u64))).is_err());
        assert_eq!(
            with("v", Some(json!(4_294_967_295u64))).unwrap().v,
            u32::MAX
        );
        assert!(with("signCount", Some(json!(-1))).is_err());
        assert!(with("signCount", Some(json!(4_294_967_296u64))).is_err());
        assert!(with("created", Some(json!(-1))).is_err());
        assert!(with("created", Some(json!(1e3))).is_err());
        assert_eq!(
            with("created", Some(json!(u64::MAX))).unwrap().created,
            u64::MAX
        );
        assert!(with("alg", Some(json!(9_223_372_036_854_775_808u64))).is_err());
        assert_eq!(with("alg", Some(json!(i64::MIN))).unwrap().alg, i64::MIN);
        assert!(with("alg", Some(json!("-7"))).is_err());
        assert!(read("[]").is_err());
        // Strings with escapes round-trip.
        let odd = with("userDisplayName", Some(json!("A \"quoted\"\n\u{1} é ✓"))).unwrap();
        let again = read(&odd.to_json_string()).unwrap();
        assert_eq!(again, odd);
        let serde_view: serde_json::Value = serde_json::from_str(&odd.to_json_string()).unwrap();
        assert_eq!(serde_view["userDisplayName"], "A \"quoted\"\n\u{1} é ✓");
    }

    fn record_with(f: impl FnOnce(&mut PasskeyRecord)) -> Result<Passkey, PasskeyError> {
        let mut record: PasskeyRecord = read(FROZEN_V1).unwrap();
        f(&mut record);
        Passkey::from_record(record)
    }

    #[test]
    fn bad_records_are_typed_errors() {
        assert_eq!(
            record_with(|r| r.v = 2).unwrap_err(),
            PasskeyError::UnsupportedVersion(2)
        );
        assert_eq!(
            record_with(|r| r.v = 0).unwrap_err(),
            PasskeyError::UnsupportedVersion(0)
        );
        assert_eq!(
            record_with(|r| r.alg = -257).unwrap_err(),
            PasskeyError::UnsupportedAlgorithm(-257)
        );
        assert_eq!(
            record_with(|r| r.credential_id = "AA==".into()).unwrap_err(),
            PasskeyError::InvalidBase64("credentialId")
        );
        assert_eq!(
            record_with(|r| r.credential_id = String::new()).unwrap_err(),
            PasskeyError::InvalidCredentialId(0)
        );
        assert_eq!(
            record_with(|r| r.user_handle = b64url::encode(&[1; 65])).unwrap_err(),
            PasskeyError::InvalidUserHandle(65)
        );
        assert_eq!(
            record_with(|r| r.private_key = SecretString::new("not base64!".into())).unwrap_err(),
            PasskeyError::InvalidBase64("privateKey")
        );
        assert!(matches!(
            record_with(|r| r.private_key = SecretString::new("AAAA".into())).unwrap_err(),
            PasskeyError::PrivateKey(_)
        ));
        // Missing members fail at deserialization.
        assert!(read(r#"{"v":1,"credentialId":"AAAA"}"#).is_err());
    }

    #[test]
    fn debug_prints_no_key_material() {
        let record: PasskeyRecord = read(FROZEN_V1).unwrap();
        let pkcs8 = record.private_key.expose().to_owned();
        let record_debug = format!("{record:?}");
        let passkey = Passkey::from_record(record).unwrap();
        let debug = format!("{passkey:?} {passkey:#?}");
        for text in [&debug, &record_debug] {
            assert!(!text.contains(&pkcs8), "{text}");
            assert!(!text.contains(&pkcs8[40..60]), "{text}");
            assert!(!text.contains(SPEC_KEY_HEX), "{text}");
            assert!(!text.contains("bmjnpYSEoyZPZrd"), "{text}");
        }
        assert!(debug.contains("PrivateKey(..)"));
        assert!(debug.contains("example.com"));
    }
}
