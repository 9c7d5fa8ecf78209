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
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use zeroize::Zeroize;

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
#[derive(Clone, PartialEq, Eq)]
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

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// The stored JSON form of a [`Passkey`], format version 1. Member order is the order written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
        let record: PasskeyRecord = serde_json::from_str(FROZEN_V1).unwrap();
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
        assert_eq!(
            serde_json::to_string(&passkey.to_record()).unwrap(),
            FROZEN_V1
        );
    }

    #[test]
    fn last_used_is_written_as_a_number_or_null() {
        let record: PasskeyRecord = serde_json::from_str(FROZEN_V1).unwrap();
        let mut passkey = Passkey::from_record(record).unwrap();
        passkey.last_used_ms = Some(1_700_000_000_123);
        let json = serde_json::to_string(&passkey.to_record()).unwrap();
        assert!(
            json.contains(r#""lastUsed":1700000000123,"signCount":0}"#),
            "{json}"
        );
    }

    #[test]
    fn unknown_members_are_ignored() {
        let json = FROZEN_V1.replace(r#""v":1,"#, r#""v":1,"future":{"x":[1,2]},"#);
        let record: PasskeyRecord = serde_json::from_str(&json).unwrap();
        assert!(Passkey::from_record(record).is_ok());
    }

    fn record_with(f: impl FnOnce(&mut PasskeyRecord)) -> Result<Passkey, PasskeyError> {
        let mut record: PasskeyRecord = serde_json::from_str(FROZEN_V1).unwrap();
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
        assert!(serde_json::from_str::<PasskeyRecord>(r#"{"v":1,"credentialId":"AAAA"}"#).is_err());
    }

    #[test]
    fn debug_prints_no_key_material() {
        let record: PasskeyRecord = serde_json::from_str(FROZEN_V1).unwrap();
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
