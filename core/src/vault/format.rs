//! The vault's stored JSON forms, format version 1 (core/README.md, "Vault format"):
//! the header (`vault:header`), one encrypted entry per passkey (`vault:e:<entryId>`) and the
//! plaintext an entry decrypts to. Unknown members are ignored on read (except in an entry's
//! envelope, which is exactly `v, id, nonce, ct, rp`); unknown unlock-method types are kept
//! verbatim so a newer writer's methods (e.g. the native host's OS-held key) survive.
//!
//! Every form converts itself by hand to and from [`crate::json`] (`to_json` / `from_json`), with
//! the member rules serde's derives had: members written in declaration order, optional members
//! may be absent or `null`, integers must fit their Rust type.

use super::keys::{Argon2Params, Kek, Pin, VaultKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use super::VaultError;
use crate::b64url;
use crate::json::{self, FirstError, JsonError, Object, Quoted, Value};
use crate::passkey::{int_u64, optional, repeated, required, string, wrong, PasskeyRecord};
use crate::rng::Rng;

/// The header's `format` member.
pub const FORMAT_NAME: &str = "latchkey-vault";
/// The header and entry format version this code writes and reads.
pub const VAULT_VERSION: u32 = 1;
/// Length of vault ids and entry ids (random bytes, base64url in storage).
pub const ID_LEN: usize = 16;
/// Length of a PIN method's Argon2 salt.
pub const SALT_LEN: usize = 16;

/// The `vault:header` value.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct PinMethod {
    /// `"pin"`.
    pub type_: String,
    /// The key derivation.
    pub kdf: KdfSpec,
    /// The vault key wrapped with the derived key.
    pub wrapped_key: Sealed,
}

/// `{"type":"os","keyId":"<id>","wrappedKey":{"nonce","ct"}}`: the vault key wrapped with a
/// 32-byte key the native host releases for `keyId`.
#[derive(Debug, Clone, PartialEq)]
pub struct OsMethod {
    /// `"os"`.
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KdfSpec {
    /// `"argon2id"`.
    pub alg: String,
    /// Argon2 version, `19` (0x13).
    pub version: u32,
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Salt, base64url of 16 bytes.
    pub salt: String,
}

impl Sealed {
    /// `{"nonce","ct"}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(2)
            .with("nonce", self.nonce.as_str())
            .with("ct", self.ct.as_str())
            .into()
    }

    /// Reads `{"nonce","ct"}` (other members ignored).
    ///
    /// # Errors
    /// [`JsonError`] naming the member.
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        let mut e = FirstError::default();
        let sealed = Self {
            nonce: e.take(o.req_str("nonce")).to_owned(),
            ct: e.take(o.req_str("ct")).to_owned(),
        };
        e.finish(sealed)
    }
}

/// An error reading the value at `path`: `path` when it is about the value itself, else the
/// member path below `path`.
fn at(path: &str, e: JsonError) -> JsonError {
    match e {
        JsonError::WrongType { member, expected } if member == "value" => JsonError::WrongType {
            member: path.to_owned(),
            expected,
        },
        e => e.within(path),
    }
}

/// The required member `key` of `o`, read by `read`; its errors name the member path below `key`.
fn nested<T>(
    o: &Object,
    key: &str,
    read: fn(&Value) -> Result<T, JsonError>,
) -> Result<T, JsonError> {
    o.req(key).and_then(|v| read(v).map_err(|e| at(key, e)))
}

impl KdfSpec {
    /// `{"alg","version","memoryKiB","iterations","parallelism","salt"}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(6)
            .with("alg", self.alg.as_str())
            .with("version", self.version)
            .with("memoryKiB", self.memory_kib)
            .with("iterations", self.iterations)
            .with("parallelism", self.parallelism)
            .with("salt", self.salt.as_str())
            .into()
    }

    /// Reads the KDF member (other members ignored; the values are checked by
    /// [`PinMethod::unwrap`], not here).
    ///
    /// # Errors
    /// [`JsonError`] naming the member.
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        let mut e = FirstError::default();
        let kdf = Self {
            alg: e.take(o.req_str("alg")).to_owned(),
            version: e.take(o.req_u32("version")),
            memory_kib: e.take(o.req_u32("memoryKiB")),
            iterations: e.take(o.req_u32("iterations")),
            parallelism: e.take(o.req_u32("parallelism")),
            salt: e.take(o.req_str("salt")).to_owned(),
        };
        e.finish(kdf)
    }
}

impl PinMethod {
    /// `{"type","kdf","wrappedKey"}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(3)
            .with("type", self.type_.as_str())
            .with("kdf", self.kdf.to_json())
            .with("wrappedKey", self.wrapped_key.to_json())
            .into()
    }

    /// Reads a PIN method (other members ignored).
    ///
    /// # Errors
    /// [`JsonError`] naming the member.
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        let mut e = FirstError::default();
        let method = Self {
            type_: e.take(o.req_str("type")).to_owned(),
            kdf: e.take(nested(o, "kdf", KdfSpec::from_json)),
            wrapped_key: e.take(nested(o, "wrappedKey", Sealed::from_json)),
        };
        e.finish(method)
    }
}

impl OsMethod {
    /// `{"type","keyId","wrappedKey"}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(3)
            .with("type", self.type_.as_str())
            .with("keyId", self.key_id.as_str())
            .with("wrappedKey", self.wrapped_key.to_json())
            .into()
    }

    /// Reads an OS method (other members ignored).
    ///
    /// # Errors
    /// [`JsonError`] naming the member.
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        let mut e = FirstError::default();
        let method = Self {
            type_: e.take(o.req_str("type")).to_owned(),
            key_id: e.take(o.req_str("keyId")).to_owned(),
            wrapped_key: e.take(nested(o, "wrappedKey", Sealed::from_json)),
        };
        e.finish(method)
    }
}

impl UnlockMethod {
    /// The method as stored (an unknown one exactly as read).
    #[must_use]
    pub fn to_json(&self) -> Value {
        match self {
            Self::Pin(m) => m.to_json(),
            Self::Os(m) => m.to_json(),
            Self::Other(v) => v.clone(),
        }
    }

    /// `"type":"pin"` and `"type":"os"` must be well-formed methods; anything else (another type,
    /// no type, not an object) is kept as [`UnlockMethod::Other`].
    ///
    /// # Errors
    /// [`JsonError`] for a malformed PIN or OS method.
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        match value.get("type").and_then(Value::as_str) {
            Some("pin") => PinMethod::from_json(value).map(Self::Pin),
            Some("os") => OsMethod::from_json(value).map(Self::Os),
            _ => Ok(Self::Other(value.clone())),
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
        let header = Self::from_json(value).map_err(|e| VaultError::BadHeader(e.to_string()))?;
        let id = decode(&header.vault_id, "the vault id")?;
        if id.len() != ID_LEN {
            return Err(VaultError::BadHeader(
                "the vault id has the wrong size".into(),
            ));
        }
        Ok(header)
    }

    /// Reads the members of a header (other members ignored), without [`VaultHeader::from_value`]'s
    /// checks of `format`, `v` and the vault id.
    ///
    /// # Errors
    /// [`JsonError`] naming the member (`unlock[1].kdf.salt`).
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        // `unlock` first, then the others in order; the first problem is the one named.
        let mut e = FirstError::default();
        let unlock = e.take(o.req_array("unlock").and_then(|methods| {
            methods
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    UnlockMethod::from_json(m).map_err(|e| at(&format!("unlock[{i}]"), e))
                })
                .collect()
        }));
        let header = Self {
            format: e.take(o.req_str("format")).to_owned(),
            v: e.take(o.req_u32("v")),
            vault_id: e.take(o.req_str("vaultId")).to_owned(),
            created: e.take(o.req_u64("created")),
            key_check: e.take(nested(o, "keyCheck", Sealed::from_json)),
            unlock,
        };
        e.finish(header)
    }

    /// The header as stored: `{"format","v","vaultId","created","keyCheck","unlock"}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(6)
            .with("format", self.format.as_str())
            .with("v", self.v)
            .with("vaultId", self.vault_id.as_str())
            .with("created", self.created)
            .with("keyCheck", self.key_check.to_json())
            .with(
                "unlock",
                Value::Array(self.unlock.iter().map(UnlockMethod::to_json).collect()),
            )
            .into()
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

/// The `vault:e:<entryId>` value: `{"v":1,"id","nonce","ct","rp","cred"}` (`rp` since the lazy
/// unlock, `cred` since the cold-start round of issue 6; entries written before them have none and
/// keep opening).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub rp: Option<String>,
    /// The lookup tag of the passkey's credential id ([`super::keys::RpTagKey::credential_tag`],
    /// under the vault's credential tag key): a get that names its credentials decrypts only the
    /// entries carrying their tags. It only routes, as `rp` does.
    pub cred: Option<String>,
}

/// An envelope's members as read (a repeated member counts once, the last).
#[derive(Default)]
struct EnvelopeMembers {
    v: Option<Value>,
    id: Option<Value>,
    nonce: Option<Value>,
    ct: Option<Value>,
    rp: Option<Value>,
    cred: Option<Value>,
    /// The first member that is none of those.
    unknown: Option<String>,
}

impl EnvelopeMembers {
    fn take(&mut self, key: &str, value: Value) {
        let slot = match key {
            "v" => &mut self.v,
            "id" => &mut self.id,
            "nonce" => &mut self.nonce,
            "ct" => &mut self.ct,
            "rp" => &mut self.rp,
            "cred" => &mut self.cred,
            _ => {
                if self.unknown.is_none() {
                    self.unknown = Some(key.to_owned());
                }
                return;
            }
        };
        *slot = Some(value);
    }

    /// The checks of format 1, in their order: `v` must be 1 (missing or not a non-negative
    /// integer: not an entry; another number: [`VaultError::UnsupportedVersion`]); then the
    /// envelope is exactly `v`, `id`, `nonce`, `ct` (strings) and optional `rp` and `cred`
    /// (strings, absent or `null`); then `id` must be the storage key's.
    fn finish(self, expected_id: &str) -> Result<EncryptedEntry, VaultError> {
        match self.v.as_ref().and_then(Value::as_u64) {
            Some(v) if v == u64::from(VAULT_VERSION) => {}
            Some(v) => return Err(VaultError::UnsupportedVersion(v)),
            None => return Err(VaultError::Tampered("not a vault entry".into())),
        }
        let damaged = |e: JsonError| VaultError::Tampered(format!("not a vault entry: {e}"));
        if let Some(member) = self.unknown {
            return Err(damaged(wrong(
                &member,
                "absent (an envelope has only v, id, nonce, ct, rp, cred)",
            )));
        }
        let mut e = FirstError::default();
        let entry = EncryptedEntry {
            v: VAULT_VERSION,
            id: e.take(string(self.id, "id")),
            nonce: e.take(string(self.nonce, "nonce")),
            ct: e.take(string(self.ct, "ct")),
            rp: e.take(
                optional(self.rp)
                    .map(|rp| string(Some(rp), "rp"))
                    .transpose(),
            ),
            cred: e.take(
                optional(self.cred)
                    .map(|cred| string(Some(cred), "cred"))
                    .transpose(),
            ),
        };
        let entry = e.finish(entry).map_err(damaged)?;
        if entry.id != expected_id {
            return Err(VaultError::Tampered(
                "the entry id does not match its storage key".into(),
            ));
        }
        Ok(entry)
    }
}

/// What an entry decrypts to: `{"kind","deletedAt","record"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryPayload {
    /// `"passkey"` (the only kind of format version 1).
    pub kind: String,
    /// When the passkey was deleted (it is then in "Recently deleted"), ms since the epoch.
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
        let plaintext = payload.to_json_string();
        let (nonce, ct) = key.seal(rng, plaintext.as_bytes(), &entry_aad(vault_id, id))?;
        Ok(Self {
            v: VAULT_VERSION,
            id: id.to_owned(),
            nonce: b64url::encode(&nonce),
            ct: b64url::encode(&ct),
            rp: None,
            cred: None,
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
        let mut members = EnvelopeMembers::default();
        json::parse_object_with(text, &mut |key, value| {
            members.take(key, value);
            Ok(())
        })
        .map_err(|e| match e {
            // Not an object: as for a parsed value, no version to read.
            JsonError::WrongType { .. } => VaultError::Tampered("not a vault entry".into()),
            e => VaultError::Tampered(format!("not a vault entry: {e}")),
        })?;
        members.finish(expected_id)
    }

    /// Parses a stored entry and checks it belongs under `expected_id`.
    ///
    /// # Errors
    /// [`VaultError::UnsupportedVersion`] or [`VaultError::Tampered`].
    pub fn from_value(value: &Value, expected_id: &str) -> Result<Self, VaultError> {
        let mut members = EnvelopeMembers::default();
        if let Some(o) = value.as_object() {
            for (key, value) in o.iter() {
                members.take(key, value.clone());
            }
        }
        members.finish(expected_id)
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
        let payload = EntryPayload::from_json_bytes(&plaintext).map_err(|e| {
            VaultError::Tampered(format!("the decrypted entry does not parse: {e}"))
        })?;
        if payload.kind != "passkey" {
            return Err(VaultError::Tampered(format!(
                "unknown entry kind {}",
                Quoted(&payload.kind)
            )));
        }
        Ok(payload)
    }

    /// The entry as stored: `{"v","id","nonce","ct"}`, then `"rp"` and `"cred"` when it has
    /// those tags.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(6)
            .with("v", self.v)
            .with("id", self.id.as_str())
            .with("nonce", self.nonce.as_str())
            .with("ct", self.ct.as_str())
            .with_some("rp", self.rp.as_deref())
            .with_some("cred", self.cred.as_deref())
            .into()
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

    /// The plaintext of an entry, zeroized on drop: `{"kind","deletedAt","record"}` with
    /// `deletedAt` a number or `null` (what format 1 has always written, so older Latchkeys read it).
    #[must_use]
    pub fn to_json_string(&self) -> zeroize::Zeroizing<String> {
        let mut out = zeroize::Zeroizing::new(String::with_capacity(
            64 + self.kind.len() * 2 + self.record.json_capacity(),
        ));
        out.push_str("{\"kind\":");
        json::write_string(&mut out, &self.kind);
        out.push_str(",\"deletedAt\":");
        Value::from(self.deleted_at).write_to(&mut out);
        out.push_str(",\"record\":");
        self.record.write_json(&mut out);
        out.push('}');
        out
    }

    /// Reads a decrypted entry: `kind` (string) and `record` ([`PasskeyRecord::from_json`])
    /// required, `deletedAt` absent, `null` or 0 to 2⁶⁴−1; other members ignored. A member
    /// repeated in the payload or its record is an error (as format 1 has always been read).
    ///
    /// # Errors
    /// [`JsonError`] naming the member (`record.rpId`).
    pub fn from_json_bytes(plaintext: &[u8]) -> Result<Self, JsonError> {
        let text = std::str::from_utf8(plaintext).map_err(|e| JsonError::Syntax {
            offset: e.valid_up_to(),
            reason: "not UTF-8",
        })?;
        let (mut kind, mut deleted_at, mut record) = (None, None, None);
        json::parse_object_with(text, &mut |key, value| {
            let slot = match key {
                "kind" => &mut kind,
                "deletedAt" => &mut deleted_at,
                "record" => &mut record,
                _ => return Ok(()),
            };
            if slot.is_some() {
                return Err(repeated(key.to_owned()));
            }
            *slot = Some(value);
            Ok(())
        })?;
        // `record` first, then the others ([`FirstError`]: one drop path, wasm size).
        let mut e = FirstError::default();
        let record = e.take(required(record, "record").and_then(|record| match record {
            Value::Object(_) => {
                PasskeyRecord::from_json_once(record).map_err(|e| e.within("record"))
            }
            _ => Err(wrong("record", "an object")),
        }));
        let payload = Self {
            kind: e.take(string(kind, "kind")),
            deleted_at: e.take(
                optional(deleted_at)
                    .map(|d| int_u64(Some(d), "deletedAt"))
                    .transpose(),
            ),
            record,
        };
        e.finish(payload)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::rng::TestRng;
    use serde_json::json;

    /// A serde_json value (tests build inputs with serde's macro) as a `crate::json` value.
    fn jv(v: &serde_json::Value) -> Value {
        json::parse(&v.to_string()).unwrap()
    }

    /// Compares as serde values (member order aside).
    fn same(a: &Value, b: &serde_json::Value) {
        let a: serde_json::Value = serde_json::from_str(&a.to_json_string()).unwrap();
        assert_eq!(&a, b);
    }

    const FROZEN: [&str; 4] = [
        include_str!("testdata/vault-v1-fast.json"),
        include_str!("testdata/vault-v1-default.json"),
        include_str!("testdata/vault-v1-os.json"),
        include_str!("testdata/vault-v1-tagged.json"),
    ];

    /// Every header and envelope of the frozen vectors reads, and writes back to the same value;
    /// from the text and from a parsed value alike.
    #[test]
    fn frozen_headers_and_envelopes_read_and_write_back() {
        let mut envelopes = 0;
        for text in FROZEN {
            let storage: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).unwrap();
            for (key, value) in &storage {
                if key.starts_with("vault:header") {
                    let h = VaultHeader::from_value(&jv(value)).unwrap();
                    same(&h.to_json(), value);
                } else if let Some(id) = key.strip_prefix("vault:e:") {
                    let e = EncryptedEntry::from_value(&jv(value), id).unwrap();
                    same(&e.to_json(), value);
                    assert_eq!(EncryptedEntry::from_json(&value.to_string(), id), Ok(e));
                    envelopes += 1;
                }
            }
        }
        assert!(envelopes >= 4, "{envelopes}");
    }

    fn entry(v: &serde_json::Value) -> Result<EncryptedEntry, VaultError> {
        let from_text = EncryptedEntry::from_json(&v.to_string(), "ID");
        assert_eq!(EncryptedEntry::from_value(&jv(v), "ID"), from_text);
        from_text
    }

    #[test]
    fn an_envelope_is_strict() {
        let ok = json!({"v": 1, "id": "ID", "nonce": "n", "ct": "c"});
        let e = entry(&ok).unwrap();
        assert_eq!(e.rp, None);
        assert_eq!(
            e.to_json().to_json_string(),
            r#"{"v":1,"id":"ID","nonce":"n","ct":"c"}"#
        );
        let mut tagged = ok.clone();
        tagged["rp"] = json!("T");
        let e = entry(&tagged).unwrap();
        assert_eq!(e.rp.as_deref(), Some("T"));
        assert_eq!(
            e.to_json().to_json_string(),
            r#"{"v":1,"id":"ID","nonce":"n","ct":"c","rp":"T"}"#
        );
        tagged["cred"] = json!("C");
        let e = entry(&tagged).unwrap();
        assert_eq!(e.cred.as_deref(), Some("C"));
        assert_eq!(
            e.to_json().to_json_string(),
            r#"{"v":1,"id":"ID","nonce":"n","ct":"c","rp":"T","cred":"C"}"#
        );
        let tampered = |v: &serde_json::Value| {
            let err = entry(v).unwrap_err();
            assert!(matches!(err, VaultError::Tampered(_)), "{v}: {err:?}");
        };
        // rp: absent or null is no tag; anything but a string is damage.
        let mut v = ok.clone();
        v["rp"] = json!(null);
        assert_eq!(entry(&v).unwrap().rp, None);
        v["rp"] = json!(5);
        tampered(&v);
        // cred: the same rules.
        let mut v = ok.clone();
        v["cred"] = json!(null);
        assert_eq!(entry(&v).unwrap().cred, None);
        v["cred"] = json!(["C"]);
        tampered(&v);
        // Unknown members are refused (deny_unknown_fields).
        let mut v = ok.clone();
        v["extra"] = json!(true);
        tampered(&v);
        // Each required member: absent, null, or of another type.
        for m in ["id", "nonce", "ct"] {
            let mut v = ok.clone();
            v.as_object_mut().unwrap().remove(m);
            tampered(&v);
            for bad in [json!(null), json!(1), json!([]), json!({})] {
                v[m] = bad;
                tampered(&v);
            }
        }
        // v: missing / not a non-negative integer → not an entry; another version → unsupported.
        for bad in [json!(null), json!(-1), json!(1.5), json!("1")] {
            let mut v = ok.clone();
            v["v"] = bad;
            tampered(&v);
        }
        let mut v = ok.clone();
        v.as_object_mut().unwrap().remove("v");
        tampered(&v);
        v["v"] = json!(4_294_967_296u64);
        assert_eq!(
            entry(&v),
            Err(VaultError::UnsupportedVersion(4_294_967_296))
        );
        v["v"] = json!(2);
        assert_eq!(entry(&v), Err(VaultError::UnsupportedVersion(2)));
        // Not an object at all; an entry stored under another id.
        tampered(&json!("junk"));
        tampered(&json!([1]));
        assert!(matches!(
            EncryptedEntry::from_json(&ok.to_string(), "OTHER"),
            Err(VaultError::Tampered(_))
        ));
        // A repeated member counts once, the last (as the old reader's fallback did).
        let text = r#"{"v":1,"id":"X","nonce":"n","ct":"c","id":"ID"}"#;
        assert_eq!(EncryptedEntry::from_json(text, "ID").unwrap().id, "ID");
    }

    fn header() -> (VaultHeader, serde_json::Value) {
        let mut rng = TestRng::new(9);
        let key = VaultKey::generate(&mut rng).unwrap();
        let fast = Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let h = VaultHeader::new(&key, &Pin::new("1234".into()), fast, 5, &mut rng).unwrap();
        let v = serde_json::from_str(&h.to_json().to_json_string()).unwrap();
        (h, v)
    }

    #[test]
    fn a_header_is_written_in_field_order_and_read_by_the_member_rules() {
        let (h, v) = header();
        let text = h.to_json().to_json_string();
        assert!(
            text.starts_with(r#"{"format":"latchkey-vault","v":1,"vaultId":""#)
                && text.contains(r#","created":5,"keyCheck":{"nonce":""#)
                && text.contains(
                    r#""unlock":[{"type":"pin","kdf":{"alg":"argon2id","version":19,"memoryKiB":64,"iterations":1,"parallelism":1,"salt":""#
                )
                && text.contains(r#""},"wrappedKey":{"nonce":""#),
            "{text}"
        );
        let read = |v: &serde_json::Value| VaultHeader::from_value(&jv(v));
        assert_eq!(read(&v).unwrap(), h);
        // Unknown members are ignored, anywhere.
        let mut x = v.clone();
        x["later"] = json!({"a": 1});
        x["unlock"][0]["kdf"]["note"] = json!("x");
        x["keyCheck"]["extra"] = json!(null);
        assert_eq!(read(&x).unwrap(), h);
        // Missing, null and mistyped members are bad headers naming the member.
        let bad = |path: &[&str], value: Option<serde_json::Value>, says: &str| {
            let mut x = v.clone();
            let (last, parents) = path.split_last().unwrap();
            let mut at = &mut x;
            for p in parents {
                at = match p.parse::<usize>() {
                    Ok(i) => &mut at[i],
                    Err(_) => &mut at[*p],
                };
            }
            match value {
                Some(value) => at[*last] = value,
                None => {
                    at.as_object_mut().unwrap().remove(*last);
                }
            }
            match read(&x) {
                Err(VaultError::BadHeader(m)) => assert!(m.contains(says), "{path:?}: {m}"),
                other => panic!("{path:?}: {other:?}"),
            }
        };
        bad(&["vaultId"], None, "'vaultId' is missing");
        bad(&["created"], Some(json!(null)), "'created' must be");
        bad(&["created"], Some(json!(-5)), "'created' must be");
        bad(
            &["keyCheck"],
            Some(json!("x")),
            "'keyCheck' must be an object",
        );
        bad(&["keyCheck", "ct"], None, "'keyCheck.ct' is missing");
        bad(&["unlock"], Some(json!({})), "'unlock' must be an array");
        bad(&["unlock", "0", "kdf"], None, "'unlock[0].kdf' is missing");
        bad(
            &["unlock", "0", "kdf", "memoryKiB"],
            Some(json!(4_294_967_296u64)),
            "'unlock[0].kdf.memoryKiB' must be an integer from 0 to 4294967295",
        );
        bad(
            &["unlock", "0", "kdf", "iterations"],
            Some(json!(1.0)),
            "'unlock[0].kdf.iterations'",
        );
        bad(
            &["unlock", "0", "wrappedKey", "nonce"],
            Some(json!(7)),
            "'unlock[0].wrappedKey.nonce' must be a string",
        );
        // Not a header at all / another version.
        assert!(matches!(
            VaultHeader::from_value(&jv(&json!([1]))),
            Err(VaultError::BadHeader(_))
        ));
        let mut x = v.clone();
        x["v"] = json!(2);
        assert_eq!(read(&x), Err(VaultError::UnsupportedVersion(2)));
        x["v"] = json!("1");
        assert!(matches!(read(&x), Err(VaultError::BadHeader(_))));
    }

    #[test]
    fn unknown_unlock_methods_are_kept_as_written() {
        let (h, mut v) = header();
        let others = [
            json!({"type": "future", "z": [1.50, {"b": null, "a": "é\n"}], "a": 1.0e300}),
            json!({"no-type": true}),
            json!("just a string"),
            json!(42),
        ];
        for o in &others {
            v["unlock"].as_array_mut().unwrap().push(o.clone());
        }
        let read = VaultHeader::from_value(&jv(&v)).unwrap();
        assert_eq!(read.unlock.len(), 1 + others.len());
        assert_eq!(read.unlock[0], h.unlock[0]);
        same(&read.to_json(), &v);
        // A number's text survives unchanged (no float formatting on the way back).
        let text = r#"{"type":"future","n":1.50,"m":{"z":1,"a":2}}"#;
        let m = UnlockMethod::from_json(&json::parse(text).unwrap()).unwrap();
        assert!(matches!(m, UnlockMethod::Other(_)));
        assert_eq!(m.to_json().to_json_string(), text);
        // A known type must be well-formed.
        assert!(UnlockMethod::from_json(&jv(&json!({"type": "pin"}))).is_err());
        assert!(UnlockMethod::from_json(&jv(&json!({"type": "os", "keyId": "k"}))).is_err());
    }

    fn record_json() -> serde_json::Value {
        json!({"v":1,"credentialId":"AAECAwQFBgcICQoLDA0ODw","rpId":"example.com","rpName":"Example","userHandle":"dXNlci0x","userName":"alice","userDisplayName":"Alice","alg":-7,"privateKey":"AAAA","created":1700000000000_u64,"lastUsed":null,"signCount":0})
    }

    #[test]
    fn a_payload_is_written_as_format_1_always_was_and_read_by_its_rules() {
        let record = PasskeyRecord::from_json(jv(&record_json())).unwrap();
        let payload = EntryPayload::passkey(record.clone(), None);
        // The exact text older Latchkeys wrote (serde's field order, `deletedAt` as null).
        let record_text = r#"{"v":1,"credentialId":"AAECAwQFBgcICQoLDA0ODw","rpId":"example.com","rpName":"Example","userHandle":"dXNlci0x","userName":"alice","userDisplayName":"Alice","alg":-7,"privateKey":"AAAA","created":1700000000000,"lastUsed":null,"signCount":0}"#;
        assert_eq!(
            *payload.to_json_string(),
            format!(r#"{{"kind":"passkey","deletedAt":null,"record":{record_text}}}"#)
        );
        let deleted = EntryPayload::passkey(record.clone(), Some(9));
        assert!(deleted
            .to_json_string()
            .starts_with(r#"{"kind":"passkey","deletedAt":9,"record":{"#));
        let read = |v: &serde_json::Value| EntryPayload::from_json_bytes(v.to_string().as_bytes());
        let base = json!({"kind": "passkey", "deletedAt": 9, "record": record_json()});
        assert_eq!(read(&base).unwrap(), deleted);
        // deletedAt: absent or null is live; negative or mistyped is an error.
        let mut v = base.clone();
        v.as_object_mut().unwrap().remove("deletedAt");
        assert_eq!(read(&v).unwrap().deleted_at, None);
        v["deletedAt"] = json!(null);
        assert_eq!(read(&v).unwrap().deleted_at, None);
        for bad in [json!(-1), json!("9"), json!(1.5)] {
            v["deletedAt"] = bad;
            assert!(read(&v).is_err());
        }
        // kind and record are required; unknown members are ignored.
        let mut v = base.clone();
        v["future"] = json!([1]);
        v["record"]["future"] = json!({});
        assert_eq!(read(&v).unwrap(), deleted);
        for m in ["kind", "record"] {
            let mut v = base.clone();
            v.as_object_mut().unwrap().remove(m);
            assert_eq!(read(&v), Err(JsonError::Missing { member: m.into() }));
            v[m] = json!(null);
            assert!(read(&v).is_err());
        }
        let mut v = base.clone();
        v["record"].as_object_mut().unwrap().remove("rpId");
        assert_eq!(
            read(&v),
            Err(JsonError::Missing {
                member: "record.rpId".into()
            })
        );
        // A repeated member is refused (serde's derive did), in the payload and in its record;
        // a repeated unknown member is ignored like any unknown one.
        let text = format!(r#"{{"kind":"passkey","record":{record_text},"kind":"passkey"}}"#);
        assert!(EntryPayload::from_json_bytes(text.as_bytes()).is_err());
        let twice = record_text.replace(
            r#""rpId":"example.com","#,
            r#""rpId":"a","rpId":"example.com","#,
        );
        let text = format!(r#"{{"kind":"passkey","record":{twice}}}"#);
        assert!(EntryPayload::from_json_bytes(text.as_bytes()).is_err());
        let text = format!(r#"{{"kind":"passkey","x":1,"x":2,"record":{record_text}}}"#);
        assert!(EntryPayload::from_json_bytes(text.as_bytes()).is_ok());
        assert!(EntryPayload::from_json_bytes(b"[]").is_err());
        assert!(EntryPayload::from_json_bytes(b"\xff").is_err());
    }

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
