//! The vault's stored JSON forms, format version 1 (core/README.md, "Vault format"):
//! the header (`vault:header`), one encrypted entry per passkey (`vault:e:<entryId>`) and the
//! plaintext an entry decrypts to. Unknown members are ignored on read; unknown unlock-method types
//! are kept verbatim so a newer writer's methods (e.g. the native host's OS-held key) survive.

use super::keys::{Argon2Params, Kek, Pin, VaultKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use super::VaultError;
use crate::b64url;
use crate::passkey::PasskeyRecord;
use crate::rng::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The header's `format` member.
pub const FORMAT_NAME: &str = "latchkey-vault";
/// The header and entry format version this code writes and reads.
pub const VAULT_VERSION: u32 = 1;
/// Length of vault ids and entry ids (random bytes, base64url in storage).
pub const ID_LEN: usize = 16;
/// Length of a PIN method's Argon2 salt.
pub const SALT_LEN: usize = 16;

/// The `vault:header` value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultHeader {
    /// Always `"latchkey-vault"`.
    pub format: String,
    /// Format version, `1`.
    pub v: u32,
    /// Random id of this vault (base64url of 16 bytes); bound into every AAD.
    pub vault_id: String,
    /// Creation time, ms since the epoch.
    pub created: u64,
    /// Proves a vault key belongs to this vault without touching an entry: AES-GCM of the empty
    /// message under the vault key.
    pub key_check: Sealed,
    /// The ways to obtain the vault key.
    pub unlock: Vec<UnlockMethod>,
}

/// A nonce and ciphertext (with tag), base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// 12-byte AES-GCM nonce.
    pub nonce: String,
    /// Ciphertext followed by the 16-byte tag.
    pub ct: String,
}

/// One way to unwrap the vault key.
#[derive(Debug, Clone, PartialEq)]
pub enum UnlockMethod {
    /// A PIN or passphrase through Argon2id.
    Pin(PinMethod),
    /// A key-encryption key held by the operating system and released by the native host only
    /// after an OS verification (Windows Hello, polkit + Secret Service).
    Os(OsMethod),
    /// A method this version does not know (kept as written).
    Other(Value),
}

/// `{"type":"pin","kdf":{...},"wrappedKey":{"nonce","ct"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinMethod {
    /// `"pin"`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The key derivation.
    pub kdf: KdfSpec,
    /// The vault key wrapped with the derived key.
    pub wrapped_key: Sealed,
}

/// `{"type":"os","keyId":"<id>","wrappedKey":{"nonce","ct"}}`: the vault key wrapped with a
/// 32-byte key the native host releases for `keyId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OsMethod {
    /// `"os"`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The host's name for the key (1–128 characters of `A–Z a–z 0–9 _ -`).
    pub key_id: String,
    /// The vault key wrapped with the OS-held key.
    pub wrapped_key: Sealed,
}

/// Checks an OS key id: 1–128 characters of `A–Z a–z 0–9 _ -`.
///
/// # Errors
/// [`VaultError::Invalid`].
pub fn check_key_id(key_id: &str) -> Result<(), VaultError> {
    let ok = !key_id.is_empty()
        && key_id.len() <= 128
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(VaultError::Invalid(
            "an OS key id is 1–128 characters of A–Z a–z 0–9 _ -".into(),
        ))
    }
}

fn os_wrap_aad(vault_id: &str, key_id: &str) -> Vec<u8> {
    format!("latchkey-vault/v{VAULT_VERSION}/wrap/{vault_id}/os/{key_id}").into_bytes()
}

/// Argon2id parameters and salt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfSpec {
    /// `"argon2id"`.
    pub alg: String,
    /// Argon2 version, `19` (0x13).
    pub version: u32,
    /// Memory in KiB.
    #[serde(rename = "memoryKiB")]
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Salt, base64url of 16 bytes.
    pub salt: String,
}

impl Serialize for UnlockMethod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Pin(m) => m.serialize(s),
            Self::Os(m) => m.serialize(s),
            Self::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for UnlockMethod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match value.get("type").and_then(Value::as_str) {
            Some("pin") => serde_json::from_value(value)
                .map(Self::Pin)
                .map_err(serde::de::Error::custom),
            Some("os") => serde_json::from_value(value)
                .map(Self::Os)
                .map_err(serde::de::Error::custom),
            _ => Ok(Self::Other(value)),
        }
    }
}

/// The associated data of the key check.
fn key_check_aad(vault_id: &str) -> Vec<u8> {
    format!("latchkey-vault/v{VAULT_VERSION}/key-check/{vault_id}").into_bytes()
}

/// The associated data of a PIN-wrapped vault key: every KDF parameter is bound, so a changed
/// header cannot weaken the derivation without the unwrap failing.
fn pin_wrap_aad(vault_id: &str, kdf: &KdfSpec) -> Vec<u8> {
    format!(
        "latchkey-vault/v{VAULT_VERSION}/wrap/{vault_id}/pin/{}/{}/{}/{}/{}/{}",
        kdf.alg, kdf.version, kdf.memory_kib, kdf.iterations, kdf.parallelism, kdf.salt
    )
    .into_bytes()
}

/// The associated data of an entry: format version, vault id and entry id.
pub fn entry_aad(vault_id: &str, entry_id: &str) -> Vec<u8> {
    format!("latchkey-vault/v{VAULT_VERSION}/entry/{vault_id}/{entry_id}").into_bytes()
}

pub(crate) fn random_id(rng: &mut impl Rng) -> Result<String, VaultError> {
    let mut id = [0u8; ID_LEN];
    rng.fill_bytes(&mut id)
        .map_err(|e| VaultError::Rng(e.to_string()))?;
    Ok(b64url::encode(&id))
}

fn sealed(nonce: &[u8], ct: &[u8]) -> Sealed {
    Sealed {
        nonce: b64url::encode(nonce),
        ct: b64url::encode(ct),
    }
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, VaultError> {
    b64url::decode(text).map_err(|_| VaultError::BadHeader(format!("{what} is not base64url")))
}

impl KdfSpec {
    fn params(&self) -> Result<Argon2Params, VaultError> {
        if self.alg != "argon2id" || self.version != 0x13 {
            return Err(VaultError::BadHeader(format!(
                "unsupported KDF {} version {}",
                self.alg, self.version
            )));
        }
        let params = Argon2Params {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
        };
        params.check()?;
        Ok(params)
    }
}

impl PinMethod {
    /// Wraps `key` under `pin` with fresh salt and nonce.
    ///
    /// # Errors
    /// [`VaultError`] when the random source or the KDF fails.
    pub fn new(
        vault_id: &str,
        key: &VaultKey,
        pin: &Pin,
        params: Argon2Params,
        rng: &mut impl Rng,
    ) -> Result<Self, VaultError> {
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt)
            .map_err(|e| VaultError::Rng(e.to_string()))?;
        let kdf = KdfSpec {
            alg: "argon2id".into(),
            version: 0x13,
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
            salt: b64url::encode(&salt),
        };
        let kek: Kek = params.derive(pin, &salt)?;
        let (nonce, ct) = kek.wrap(rng, key, &pin_wrap_aad(vault_id, &kdf))?;
        Ok(Self {
            type_: "pin".into(),
            kdf,
            wrapped_key: sealed(&nonce, &ct),
        })
    }

    /// Unwraps the vault key with `pin`.
    ///
    /// # Errors
    /// [`VaultError::WrongPin`] (or a header error for malformed members).
    pub fn unwrap(&self, vault_id: &str, pin: &Pin) -> Result<VaultKey, VaultError> {
        let params = self.kdf.params()?;
        let salt = decode(&self.kdf.salt, "the salt")?;
        let nonce = decode(&self.wrapped_key.nonce, "the wrapped key's nonce")?;
        let ct = decode(&self.wrapped_key.ct, "the wrapped key")?;
        // Argon2 itself refuses salts under 8 bytes; format 1 salts are 16 (fuzz/regressions/vault).
        if salt.len() != SALT_LEN {
            return Err(VaultError::BadHeader("the salt has the wrong size".into()));
        }
        if nonce.len() != NONCE_LEN || ct.len() != KEY_LEN + TAG_LEN {
            return Err(VaultError::BadHeader(
                "the wrapped key has the wrong size".into(),
            ));
        }
        let kek = params.derive(pin, &salt)?;
        kek.unwrap_key(&nonce, &ct, &pin_wrap_aad(vault_id, &self.kdf))
    }
}

impl VaultHeader {
    /// A new header for `key` with one PIN method.
    ///
    /// # Errors
    /// [`VaultError`] when the random source or the KDF fails.
    pub fn new(
        key: &VaultKey,
        pin: &Pin,
        params: Argon2Params,
        created: u64,
        rng: &mut impl Rng,
    ) -> Result<Self, VaultError> {
        let vault_id = random_id(rng)?;
        let (nonce, ct) = key.seal(rng, b"", &key_check_aad(&vault_id))?;
        let pin_method = PinMethod::new(&vault_id, key, pin, params, rng)?;
        Ok(Self {
            format: FORMAT_NAME.into(),
            v: VAULT_VERSION,
            vault_id,
            created,
            key_check: sealed(&nonce, &ct),
            unlock: vec![UnlockMethod::Pin(pin_method)],
        })
    }

    /// Parses and checks a stored header.
    ///
    /// # Errors
    /// [`VaultError::UnsupportedVersion`] for another format version, [`VaultError::BadHeader`]
    /// when it is not a Latchkey vault header.
    pub fn from_value(value: &Value) -> Result<Self, VaultError> {
        if value.get("format").and_then(Value::as_str) != Some(FORMAT_NAME) {
            return Err(VaultError::BadHeader("not a Latchkey vault header".into()));
        }
        match value.get("v").and_then(Value::as_u64) {
            Some(v) if v == u64::from(VAULT_VERSION) => {}
            Some(v) => return Err(VaultError::UnsupportedVersion(v)),
            None => return Err(VaultError::BadHeader("the version is missing".into())),
        }
        let header: Self = serde_json::from_value(value.clone())
            .map_err(|e| VaultError::BadHeader(e.to_string()))?;
        let id = decode(&header.vault_id, "the vault id")?;
        if id.len() != ID_LEN {
            return Err(VaultError::BadHeader(
                "the vault id has the wrong size".into(),
            ));
        }
        Ok(header)
    }

    /// The header as stored.
    #[must_use]
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// True when `key` is this vault's key.
    #[must_use]
    pub fn key_matches(&self, key: &VaultKey) -> bool {
        let (Ok(nonce), Ok(ct)) = (
            b64url::decode(&self.key_check.nonce),
            b64url::decode(&self.key_check.ct),
        ) else {
            return false;
        };
        key.open(&nonce, &ct, &key_check_aad(&self.vault_id))
            .is_ok_and(|pt| pt.is_empty())
    }

    /// Unwraps the vault key with the first PIN method that accepts `pin`.
    ///
    /// # Errors
    /// [`VaultError::WrongPin`] when none does; [`VaultError::NoPinMethod`] when there is none.
    pub fn unlock_with_pin(&self, pin: &Pin) -> Result<VaultKey, VaultError> {
        let mut result = Err(VaultError::NoPinMethod);
        for method in &self.unlock {
            if let UnlockMethod::Pin(m) = method {
                result = m.unwrap(&self.vault_id, pin);
                if let Ok(key) = &result {
                    if self.key_matches(key) {
                        return result;
                    }
                    result = Err(VaultError::BadHeader(
                        "the PIN method unwraps a key of another vault".into(),
                    ));
                }
            }
        }
        result
    }

    /// A copy whose PIN methods are replaced by one for `new_pin` (other methods are kept).
    ///
    /// # Errors
    /// [`VaultError`] when the random source or the KDF fails.
    pub fn with_new_pin(
        &self,
        key: &VaultKey,
        new_pin: &Pin,
        params: Argon2Params,
        rng: &mut impl Rng,
    ) -> Result<Self, VaultError> {
        let mut header = self.clone();
        header.unlock.retain(|m| !matches!(m, UnlockMethod::Pin(_)));
        header.unlock.insert(
            0,
            UnlockMethod::Pin(PinMethod::new(&self.vault_id, key, new_pin, params, rng)?),
        );
        Ok(header)
    }

    /// A copy with an OS method for `key_id` (replacing one with the same id).
    ///
    /// # Errors
    /// [`VaultError::Invalid`] for a bad key id; random-source failures.
    pub fn with_os_method(
        &self,
        key: &VaultKey,
        key_id: &str,
        kek: &Kek,
        rng: &mut impl Rng,
    ) -> Result<Self, VaultError> {
        check_key_id(key_id)?;
        let (nonce, ct) = kek.wrap(rng, key, &os_wrap_aad(&self.vault_id, key_id))?;
        let mut header = self.without_os_method(key_id);
        header.unlock.push(UnlockMethod::Os(OsMethod {
            type_: "os".into(),
            key_id: key_id.to_owned(),
            wrapped_key: sealed(&nonce, &ct),
        }));
        Ok(header)
    }

    /// A copy without the OS method for `key_id`.
    #[must_use]
    pub fn without_os_method(&self, key_id: &str) -> Self {
        let mut header = self.clone();
        header
            .unlock
            .retain(|m| !matches!(m, UnlockMethod::Os(o) if o.key_id == key_id));
        header
    }

    /// The key ids of the OS methods.
    #[must_use]
    pub fn os_key_ids(&self) -> Vec<&str> {
        self.unlock
            .iter()
            .filter_map(|m| match m {
                UnlockMethod::Os(o) => Some(o.key_id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// True when the header has a PIN method.
    #[must_use]
    pub fn has_pin_method(&self) -> bool {
        self.unlock
            .iter()
            .any(|m| matches!(m, UnlockMethod::Pin(_)))
    }

    /// Unwraps the vault key with the OS-held key for `key_id`.
    ///
    /// # Errors
    /// [`VaultError::NotFound`] when there is no such method, [`VaultError::WrongKey`] when the
    /// key does not unwrap it.
    pub fn unlock_with_os_key(&self, key_id: &str, kek: &Kek) -> Result<VaultKey, VaultError> {
        let method = self
            .unlock
            .iter()
            .find_map(|m| match m {
                UnlockMethod::Os(o) if o.key_id == key_id => Some(o),
                _ => None,
            })
            .ok_or(VaultError::NotFound)?;
        let nonce = decode(&method.wrapped_key.nonce, "the wrapped key's nonce")?;
        let ct = decode(&method.wrapped_key.ct, "the wrapped key")?;
        let key = kek
            .unwrap_key(&nonce, &ct, &os_wrap_aad(&self.vault_id, key_id))
            .map_err(|_| VaultError::WrongKey)?;
        if self.key_matches(&key) {
            Ok(key)
        } else {
            Err(VaultError::WrongKey)
        }
    }

    /// The Argon2 parameters of the first PIN method (defaults when there is none).
    #[must_use]
    pub fn pin_params(&self) -> Argon2Params {
        self.unlock
            .iter()
            .find_map(|m| match m {
                UnlockMethod::Pin(p) => p.kdf.params().ok(),
                UnlockMethod::Os(_) | UnlockMethod::Other(_) => None,
            })
            .unwrap_or(Argon2Params::DEFAULT)
    }
}

/// The `vault:e:<entryId>` value: `{"v":1,"id","nonce","ct","rp"}` (`rp` since the lazy unlock;
/// entries written before it have none and keep opening).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedEntry {
    /// Format version, `1`.
    pub v: u32,
    /// The entry id (also the storage key's suffix).
    pub id: String,
    /// 12-byte nonce, base64url.
    pub nonce: String,
    /// Ciphertext + tag, base64url.
    pub ct: String,
    /// The lookup tag of the passkey's rpId ([`super::keys::RpTagKey::tag`]): outside the
    /// ciphertext, so it only routes a request to the entries to decrypt; the decrypted record's
    /// rpId decides what the passkey is served for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp: Option<String>,
}

/// What an entry decrypts to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryPayload {
    /// `"passkey"` (the only kind of format version 1).
    pub kind: String,
    /// When the passkey was deleted (it is then in "Recently deleted"), ms since the epoch.
    #[serde(default)]
    pub deleted_at: Option<u64>,
    /// The passkey record (format version 1); its private key is a zeroizing `SecretString`.
    pub record: PasskeyRecord,
}

impl EncryptedEntry {
    /// Encrypts `payload` as entry `id` of vault `vault_id`.
    ///
    /// # Errors
    /// [`VaultError`] when the random source fails.
    pub fn seal(
        key: &VaultKey,
        vault_id: &str,
        id: &str,
        payload: &EntryPayload,
        rng: &mut impl Rng,
    ) -> Result<Self, VaultError> {
        let plaintext = zeroize::Zeroizing::new(
            serde_json::to_vec(payload).map_err(|e| VaultError::Crypto(e.to_string()))?,
        );
        let (nonce, ct) = key.seal(rng, &plaintext, &entry_aad(vault_id, id))?;
        Ok(Self {
            v: VAULT_VERSION,
            id: id.to_owned(),
            nonce: b64url::encode(&nonce),
            ct: b64url::encode(&ct),
            rp: None,
        })
    }

    /// Parses a stored entry from its JSON text (the fast path of [`Vault::load_json`]; the
    /// same checks and errors as [`EncryptedEntry::from_value`]).
    ///
    /// [`Vault::load_json`]: super::Vault::load_json
    ///
    /// # Errors
    /// [`VaultError::UnsupportedVersion`] or [`VaultError::Tampered`].
    pub fn from_json(text: &str, expected_id: &str) -> Result<Self, VaultError> {
        match serde_json::from_str::<Self>(text) {
            Ok(entry) if entry.v == VAULT_VERSION && entry.id == expected_id => Ok(entry),
            // Anything unusual takes the slow path, which names the problem.
            _ => {
                let value: Value = serde_json::from_str(text)
                    .map_err(|e| VaultError::Tampered(format!("not a vault entry: {e}")))?;
                Self::from_value(&value, expected_id)
            }
        }
    }

    /// Parses a stored entry and checks it belongs under `expected_id`.
    ///
    /// # Errors
    /// [`VaultError::UnsupportedVersion`] or [`VaultError::Tampered`].
    pub fn from_value(value: &Value, expected_id: &str) -> Result<Self, VaultError> {
        match value.get("v").and_then(Value::as_u64) {
            Some(v) if v == u64::from(VAULT_VERSION) => {}
            Some(v) => return Err(VaultError::UnsupportedVersion(v)),
            None => return Err(VaultError::Tampered("not a vault entry".into())),
        }
        let entry: Self = serde_json::from_value(value.clone())
            .map_err(|e| VaultError::Tampered(format!("not a vault entry: {e}")))?;
        if entry.id != expected_id {
            return Err(VaultError::Tampered(
                "the entry id does not match its storage key".into(),
            ));
        }
        Ok(entry)
    }

    /// Decrypts the entry.
    ///
    /// # Errors
    /// [`VaultError::Tampered`] when it does not authenticate or does not parse.
    pub fn open(&self, key: &VaultKey, vault_id: &str) -> Result<EntryPayload, VaultError> {
        let nonce = b64url::decode(&self.nonce)
            .map_err(|_| VaultError::Tampered("the nonce is not base64url".into()))?;
        let ct = b64url::decode(&self.ct)
            .map_err(|_| VaultError::Tampered("the ciphertext is not base64url".into()))?;
        let plaintext = key.open(&nonce, &ct, &entry_aad(vault_id, &self.id))?;
        let payload: EntryPayload = serde_json::from_slice(&plaintext).map_err(|e| {
            VaultError::Tampered(format!("the decrypted entry does not parse: {e}"))
        })?;
        if payload.kind != "passkey" {
            return Err(VaultError::Tampered(format!(
                "unknown entry kind {:?}",
                payload.kind
            )));
        }
        Ok(payload)
    }

    /// The entry as stored.
    #[must_use]
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl EntryPayload {
    /// A passkey entry (`deleted_at` set: in "Recently deleted").
    #[must_use]
    pub fn passkey(record: PasskeyRecord, deleted_at: Option<u64>) -> Self {
        Self {
            kind: "passkey".into(),
            deleted_at,
            record,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::rng::TestRng;

    /// Found by the `vault` fuzz target: a header whose salt decodes to fewer than 8 bytes made
    /// Argon2 fail, which surfaced as a `Crypto` error ("UnknownError") instead of a damaged header.
    #[test]
    fn a_salt_of_the_wrong_size_is_a_bad_header() {
        let mut rng = TestRng::new(5);
        let key = VaultKey::generate(&mut rng).unwrap();
        let pin = Pin::new("1234".into());
        let fast = Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let header = VaultHeader::new(&key, &pin, fast, 0, &mut rng).unwrap();
        assert!(header.unlock_with_pin(&pin).is_ok());
        for salt_len in [0, 6, 8, 15, 17, 32] {
            let mut h = header.clone();
            let UnlockMethod::Pin(m) = &mut h.unlock[0] else {
                panic!("a PIN method");
            };
            m.kdf.salt = b64url::encode(&vec![7u8; salt_len]);
            let err = h.unlock_with_pin(&pin).unwrap_err();
            assert!(
                matches!(err, VaultError::BadHeader(_)),
                "{salt_len}: {err:?}"
            );
            assert_eq!(err.name(), "HeaderDamaged");
        }
    }
}
