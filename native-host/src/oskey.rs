//! The OS-held vault wrapping key. A store keeps (or can recompute) 32+ bytes of input key
//! material that it hands out only after an OS verification; the host derives the key the vault
//! uses from it with [HKDF-SHA256](https://www.rfc-editor.org/rfc/rfc5869):
//! `HKDF(salt = "latchkey/os-key/v1", ikm, info = keyId || 0x00 || challenge)` ([`derive_key`]).
//!
//! Stores:
//! * Windows: [`KeyCredentialStore`] over a Windows Hello `KeyCredentialManager` key
//!   (`crate::windows::keycred`). The key is an RSA-2048 key in the Microsoft Passport KSP that
//!   signs only after a Hello gesture; the input material is its RSASSA-PKCS1-v1_5/SHA-256
//!   signature of a fixed message, which is deterministic. DPAPI was not chosen: `CryptUnprotectData`
//!   succeeds for any process of the logged-in user without any Hello prompt, so it does not gate
//!   on Hello at all.
//! * Linux: [`GatedKeyStore`] over [`SecretToolBackend`]: 32 random bytes in the Secret Service
//!   (`secret-tool`, D-Bus), released only after a polkit verification.
//! * Test build: [`GatedKeyStore`] over `FileBackend` (a key file in a temp dir) and the test verifier.

use crate::cancel::CancelToken;
use crate::verifier::{find_on_path, UserVerifier, VerifyError};
use hkdf::Hkdf;
use latchkey_core::host::{Availability, KeyId, VerificationMethod, OS_KEY_BYTES};
use sha2::Sha256;
use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// HKDF salt (domain separation, version 1).
pub const HKDF_SALT: &[u8] = b"latchkey/os-key/v1";

/// Why a key was not created or released.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OsKeyError {
    /// Not implemented on this OS.
    #[error("an OS-held key is not supported on this OS")]
    Unsupported,
    /// Supported, but not now.
    #[error("the OS key store is unavailable: {0}")]
    Unavailable(String),
    /// The user declined or failed verification.
    #[error("user verification was declined: {0}")]
    Denied(String),
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
    /// No key of that id.
    #[error("no OS-held key with that id")]
    KeyNotFound,
    /// A key of that id exists and `replace` was not set.
    #[error("an OS-held key with that id exists")]
    KeyExists,
    /// An OS error.
    #[error("OS key store error: {0}")]
    Failed(String),
}

impl From<VerifyError> for OsKeyError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Denied(m) => Self::Denied(m),
            VerifyError::Unavailable(m) => Self::Unavailable(m),
            VerifyError::Unsupported => Self::Unsupported,
            VerifyError::Cancelled => Self::Cancelled,
            VerifyError::Failed(m) => Self::Failed(m),
        }
    }
}

/// Input key material from a store. Private, zeroized on drop, never printed.
#[derive(Clone)]
pub struct KeyMaterial(Zeroizing<Vec<u8>>);

impl KeyMaterial {
    /// Wraps bytes (taken over, so the caller keeps no copy).
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// 32 bytes from the OS random source.
    ///
    /// # Errors
    /// [`OsKeyError::Failed`] if the random source fails.
    pub fn random() -> Result<Self, OsKeyError> {
        let mut v = Zeroizing::new(vec![0u8; OS_KEY_BYTES]);
        getrandom::fill(&mut v).map_err(|e| OsKeyError::Failed(format!("random source: {e}")))?;
        Ok(Self(v))
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(..)")
    }
}

/// The derived 32-byte wrapping key. Private, zeroized on drop, never printed.
pub struct OsKey(Zeroizing<[u8; OS_KEY_BYTES]>);

impl OsKey {
    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; OS_KEY_BYTES] {
        &self.0
    }
}

impl fmt::Debug for OsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OsKey(..)")
    }
}

/// `HKDF-SHA256(salt = "latchkey/os-key/v1", ikm, info = keyId || 0x00 || challenge)`.
///
/// # Errors
/// [`OsKeyError::Failed`] for input material shorter than 32 bytes (HKDF itself cannot fail here).
pub fn derive_key(
    ikm: &KeyMaterial,
    key_id: &KeyId,
    challenge: &[u8],
) -> Result<OsKey, OsKeyError> {
    if ikm.bytes().len() < OS_KEY_BYTES {
        return Err(OsKeyError::Failed("key material is too short".to_owned()));
    }
    let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), ikm.bytes());
    let mut info = Vec::with_capacity(key_id.as_str().len() + 1 + challenge.len());
    info.extend_from_slice(key_id.as_str().as_bytes());
    info.push(0);
    info.extend_from_slice(challenge);
    let mut out = Zeroizing::new([0u8; OS_KEY_BYTES]);
    hk.expand(&info, out.as_mut())
        .map_err(|_| OsKeyError::Failed("HKDF output length".to_owned()))?;
    Ok(OsKey(out))
}

/// A place that holds key material behind an OS verification.
pub trait OsKeyStore: Send + Sync {
    /// Whether create/release can work here.
    fn availability(&self) -> Availability;

    /// Creates the material for `key_id` (after a verification) and returns it.
    ///
    /// # Errors
    /// [`OsKeyError`].
    fn create(
        &self,
        key_id: &KeyId,
        replace: bool,
        parent_window: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError>;

    /// Returns the material for `key_id` after a verification.
    ///
    /// # Errors
    /// [`OsKeyError`].
    fn release(
        &self,
        key_id: &KeyId,
        parent_window: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError>;
}

/// No store on this OS (macOS: Keychain access with a LocalAuthentication gate is not built).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeyStore;

impl OsKeyStore for NoKeyStore {
    fn availability(&self) -> Availability {
        if cfg!(target_os = "macos") {
            Availability::Unavailable
        } else {
            Availability::Unsupported
        }
    }
    fn create(
        &self,
        _: &KeyId,
        _: bool,
        _: Option<u64>,
        _: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError> {
        Err(OsKeyError::Unsupported)
    }
    fn release(
        &self,
        _: &KeyId,
        _: Option<u64>,
        _: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError> {
        Err(OsKeyError::Unsupported)
    }
}

/// Plain storage of key material by id; the gate is the [`GatedKeyStore`]'s verifier.
pub trait SecretBackend: Send + Sync {
    /// Whether the storage is reachable.
    fn availability(&self) -> Availability;
    /// The material of `key_id`, if stored.
    ///
    /// # Errors
    /// [`OsKeyError`].
    fn lookup(&self, key_id: &KeyId) -> Result<Option<KeyMaterial>, OsKeyError>;
    /// Stores (or replaces) the material of `key_id`.
    ///
    /// # Errors
    /// [`OsKeyError`].
    fn store(&self, key_id: &KeyId, material: &KeyMaterial) -> Result<(), OsKeyError>;
}

/// Verification first, then the backend.
pub struct GatedKeyStore<B> {
    verifier: Arc<dyn UserVerifier>,
    backend: B,
}

impl<B> fmt::Debug for GatedKeyStore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GatedKeyStore")
    }
}

impl<B: SecretBackend> GatedKeyStore<B> {
    /// A store that asks `verifier` before every create and release.
    pub fn new(verifier: Arc<dyn UserVerifier>, backend: B) -> Self {
        Self { verifier, backend }
    }
}

impl<B: SecretBackend> OsKeyStore for GatedKeyStore<B> {
    fn availability(&self) -> Availability {
        crate::weakest(self.verifier.availability(), self.backend.availability())
    }

    fn create(
        &self,
        key_id: &KeyId,
        replace: bool,
        parent: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError> {
        if !replace && self.backend.lookup(key_id)?.is_some() {
            return Err(OsKeyError::KeyExists);
        }
        let method = self.verifier.verify(
            "Turn on unlocking Latchkey with this device",
            parent,
            cancel,
        )?;
        let material = KeyMaterial::random()?;
        self.backend.store(key_id, &material)?;
        Ok((material, method))
    }

    fn release(
        &self,
        key_id: &KeyId,
        parent: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError> {
        let method = self.verifier.verify("Unlock Latchkey", parent, cancel)?;
        if cancel.is_cancelled() {
            return Err(OsKeyError::Cancelled);
        }
        let material = self
            .backend
            .lookup(key_id)?
            .ok_or(OsKeyError::KeyNotFound)?;
        Ok((material, method))
    }
}

fn to_b64(m: &KeyMaterial) -> Zeroizing<String> {
    Zeroizing::new(latchkey_core::b64url::encode(m.bytes()))
}

fn from_b64(mut text: String) -> Result<KeyMaterial, OsKeyError> {
    let r = latchkey_core::b64url::decode(text.trim());
    text.zeroize();
    match r {
        Ok(v) if v.len() >= OS_KEY_BYTES => Ok(KeyMaterial::new(v)),
        Ok(mut v) => {
            v.zeroize();
            Err(OsKeyError::Failed(
                "stored key material is damaged".to_owned(),
            ))
        }
        Err(_) => Err(OsKeyError::Failed(
            "stored key material is damaged".to_owned(),
        )),
    }
}

/// Key files `<dir>/<keyId>.key` (base64url), mode 0600. Used by the test build (dir from
/// `LATCHKEY_TEST_KEY_DIR`, else `<temp>/latchkey-host-test-keys`) and by unit tests.
#[derive(Debug, Clone)]
pub struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    /// Files under `dir`.
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The test build's directory.
    #[must_use]
    pub fn from_env() -> Self {
        let dir = std::env::var_os("LATCHKEY_TEST_KEY_DIR").map_or_else(
            || std::env::temp_dir().join("latchkey-host-test-keys"),
            PathBuf::from,
        );
        Self { dir }
    }

    fn path(&self, key_id: &KeyId) -> PathBuf {
        // KeyId is [A-Za-z0-9_-]{1,64}: no separators, no "..".
        self.dir.join(format!("{}.key", key_id.as_str()))
    }
}

impl SecretBackend for FileBackend {
    fn availability(&self) -> Availability {
        Availability::Available
    }

    fn lookup(&self, key_id: &KeyId) -> Result<Option<KeyMaterial>, OsKeyError> {
        match std::fs::read_to_string(self.path(key_id)) {
            Ok(t) => from_b64(t).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(OsKeyError::Failed(e.to_string())),
        }
    }

    fn store(&self, key_id: &KeyId, material: &KeyMaterial) -> Result<(), OsKeyError> {
        let fail = |e: std::io::Error| OsKeyError::Failed(e.to_string());
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(self.path(key_id)).map_err(fail)?;
        f.write_all(to_b64(material).as_bytes()).map_err(fail)
    }
}

/// The Secret Service through `secret-tool` (libsecret-tools), attributes
/// `application=app.latchkey.host key-id=<keyId>`. Needs a D-Bus session bus and a running
/// Secret Service (GNOME Keyring, KWallet ≥ 5.97, KeePassXC…).
#[derive(Debug, Clone)]
pub struct SecretToolBackend {
    tool: Option<PathBuf>,
}

impl SecretToolBackend {
    /// `secret-tool` from `PATH`.
    #[must_use]
    pub fn system() -> Self {
        Self {
            tool: find_on_path("secret-tool"),
        }
    }

    /// An explicit tool path (tests).
    #[must_use]
    pub fn with_tool(tool: Option<PathBuf>) -> Self {
        Self { tool }
    }

    fn run(
        &self,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<(i32, Zeroizing<Vec<u8>>), OsKeyError> {
        let tool = self
            .tool
            .as_ref()
            .ok_or_else(|| OsKeyError::Unavailable("secret-tool is not installed".to_owned()))?;
        let mut child = Command::new(tool)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| OsKeyError::Unavailable(format!("cannot start secret-tool: {e}")))?;
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(data)
                .map_err(|e| OsKeyError::Failed(e.to_string()))?;
        }
        let mut out = Zeroizing::new(Vec::new());
        if let Some(mut so) = child.stdout.take() {
            so.read_to_end(&mut out)
                .map_err(|e| OsKeyError::Failed(e.to_string()))?;
        }
        let status = child
            .wait()
            .map_err(|e| OsKeyError::Failed(e.to_string()))?;
        Ok((status.code().unwrap_or(-1), out))
    }
}

impl SecretBackend for SecretToolBackend {
    fn availability(&self) -> Availability {
        if self.tool.is_some() && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
            Availability::Available
        } else {
            Availability::Unavailable
        }
    }

    fn lookup(&self, key_id: &KeyId) -> Result<Option<KeyMaterial>, OsKeyError> {
        let (code, out) = self.run(
            &[
                "lookup",
                "application",
                crate::install::HOST_NAME,
                "key-id",
                key_id.as_str(),
            ],
            None,
        )?;
        match code {
            0 if !out.is_empty() => {
                let text = String::from_utf8(out.to_vec())
                    .map_err(|_| OsKeyError::Failed("stored key material is damaged".to_owned()))?;
                from_b64(text).map(Some)
            }
            0 | 1 => Ok(None),
            c => Err(OsKeyError::Unavailable(format!(
                "secret-tool lookup exited with {c}"
            ))),
        }
    }

    fn store(&self, key_id: &KeyId, material: &KeyMaterial) -> Result<(), OsKeyError> {
        let label = format!("Latchkey vault key ({})", key_id.as_str());
        let secret = to_b64(material);
        let (code, _) = self.run(
            &[
                "store",
                "--label",
                &label,
                "application",
                crate::install::HOST_NAME,
                "key-id",
                key_id.as_str(),
            ],
            Some(secret.as_bytes()),
        )?;
        if code == 0 {
            Ok(())
        } else {
            Err(OsKeyError::Unavailable(format!(
                "secret-tool store exited with {code}"
            )))
        }
    }
}

/// The Windows Hello key operations [`KeyCredentialStore`] needs (real: `crate::windows::keycred`;
/// tests: a fake).
pub trait KeyCredentialApi: Send + Sync {
    /// `KeyCredentialManager::IsSupportedAsync`.
    fn availability(&self) -> Availability;
    /// `RequestCreateAsync(name, FailIfExists | ReplaceExisting)` (shows Hello).
    ///
    /// # Errors
    /// [`OsKeyError`] (`KeyExists` for an existing key without `replace`).
    fn create(&self, name: &str, replace: bool, cancel: &CancelToken) -> Result<(), OsKeyError>;
    /// `OpenAsync(name)` then `RequestSignAsync(data)` (shows Hello); the signature.
    ///
    /// # Errors
    /// [`OsKeyError`] (`KeyNotFound` when there is no such key).
    fn sign(
        &self,
        name: &str,
        data: &[u8],
        cancel: &CancelToken,
    ) -> Result<KeyMaterial, OsKeyError>;
}

/// The Windows store: material = the Hello key's deterministic signature over
/// `"latchkey/os-key/v1/sign/" || keyId`.
#[derive(Debug)]
pub struct KeyCredentialStore<A> {
    api: A,
}

impl<A: KeyCredentialApi> KeyCredentialStore<A> {
    /// A store over `api`.
    pub const fn new(api: A) -> Self {
        Self { api }
    }

    /// The credential's name in `KeyCredentialManager`.
    #[must_use]
    pub fn credential_name(key_id: &KeyId) -> String {
        format!("latchkey-{}", key_id.as_str())
    }

    /// The signed message.
    #[must_use]
    pub fn sign_message(key_id: &KeyId) -> Vec<u8> {
        let mut m = b"latchkey/os-key/v1/sign/".to_vec();
        m.extend_from_slice(key_id.as_str().as_bytes());
        m
    }
}

impl<A: KeyCredentialApi> OsKeyStore for KeyCredentialStore<A> {
    fn availability(&self) -> Availability {
        self.api.availability()
    }

    fn create(
        &self,
        key_id: &KeyId,
        replace: bool,
        _: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError> {
        let name = Self::credential_name(key_id);
        self.api.create(&name, replace, cancel)?;
        let sig = self.api.sign(&name, &Self::sign_message(key_id), cancel)?;
        Ok((sig, VerificationMethod::WindowsHello))
    }

    fn release(
        &self,
        key_id: &KeyId,
        _: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(KeyMaterial, VerificationMethod), OsKeyError> {
        let name = Self::credential_name(key_id);
        let sig = self.api.sign(&name, &Self::sign_message(key_id), cancel)?;
        Ok((sig, VerificationMethod::WindowsHello))
    }
}

/// Polls `done` until it yields, or `cancel` fires (then `on_cancel` runs once).
///
/// # Errors
/// [`OsKeyError::Cancelled`].
pub fn poll_until<T>(
    cancel: &CancelToken,
    mut done: impl FnMut() -> Option<T>,
    on_cancel: impl FnOnce(),
) -> Result<T, OsKeyError> {
    loop {
        if let Some(v) = done() {
            return Ok(v);
        }
        if cancel.wait(Duration::from_millis(20)) {
            on_cancel();
            return Err(OsKeyError::Cancelled);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    fn kid(s: &str) -> KeyId {
        KeyId::try_from(s.to_owned()).unwrap()
    }

    #[test]
    fn hkdf_known_answer_and_separation() {
        let ikm = KeyMaterial::new((0u8..32).collect());
        let a = derive_key(&ikm, &kid("vault-1"), b"").unwrap();
        let b = derive_key(&ikm, &kid("vault-1"), b"").unwrap();
        assert_eq!(a.as_bytes(), b.as_bytes());
        assert_ne!(
            a.as_bytes(),
            derive_key(&ikm, &kid("vault-2"), b"").unwrap().as_bytes()
        );
        assert_ne!(
            a.as_bytes(),
            derive_key(&ikm, &kid("vault-1"), b"x").unwrap().as_bytes()
        );
        // Cross-checked with Python: hmac/hashlib HKDF(salt=b"latchkey/os-key/v1", ikm=bytes(range(32)),
        // info=b"vault-1\x00", L=32).
        let hex: String = a.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, KAT_HEX);
        assert!(derive_key(&KeyMaterial::new(vec![1; 16]), &kid("a"), b"").is_err());
        assert_eq!(format!("{a:?} {ikm:?}"), "OsKey(..) KeyMaterial(..)");
    }

    const KAT_HEX: &str = include_str!("testdata/hkdf-kat.txt");

    #[derive(Default)]
    struct MemBackend(Mutex<HashMap<String, Vec<u8>>>);
    impl SecretBackend for MemBackend {
        fn availability(&self) -> Availability {
            Availability::Available
        }
        fn lookup(&self, k: &KeyId) -> Result<Option<KeyMaterial>, OsKeyError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get(k.as_str())
                .cloned()
                .map(KeyMaterial::new))
        }
        fn store(&self, k: &KeyId, m: &KeyMaterial) -> Result<(), OsKeyError> {
            self.0
                .lock()
                .unwrap()
                .insert(k.as_str().to_owned(), m.bytes().to_vec());
            Ok(())
        }
    }

    struct ScriptedVerifier(Mutex<Vec<Result<VerificationMethod, VerifyError>>>);
    impl UserVerifier for ScriptedVerifier {
        fn availability(&self) -> Availability {
            Availability::Available
        }
        fn verify(
            &self,
            _: &str,
            _: Option<u64>,
            _: &CancelToken,
        ) -> Result<VerificationMethod, VerifyError> {
            self.0.lock().unwrap().remove(0)
        }
    }

    #[test]
    fn gated_store_releases_only_after_verification() {
        let v = Arc::new(ScriptedVerifier(Mutex::new(vec![
            Ok(VerificationMethod::Polkit),
            Err(VerifyError::Denied("no".into())),
            Ok(VerificationMethod::Polkit),
            Err(VerifyError::Unavailable("no agent".into())),
        ])));
        let s = GatedKeyStore::new(v, MemBackend::default());
        let t = CancelToken::new();
        let (m1, _) = s.create(&kid("k"), false, None, &t).unwrap();
        assert_eq!(
            s.create(&kid("k"), false, None, &t).unwrap_err(),
            OsKeyError::KeyExists
        );
        assert!(matches!(
            s.release(&kid("k"), None, &t),
            Err(OsKeyError::Denied(_))
        ));
        let (m2, method) = s.release(&kid("k"), None, &t).unwrap();
        assert_eq!(method, VerificationMethod::Polkit);
        assert_eq!(m1.bytes(), m2.bytes());
        assert!(matches!(
            s.release(&kid("k"), None, &t),
            Err(OsKeyError::Unavailable(_))
        ));
    }

    #[test]
    fn file_backend_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let b = FileBackend::new(d.path().join("keys"));
        assert!(b.lookup(&kid("x")).unwrap().is_none());
        let m = KeyMaterial::random().unwrap();
        b.store(&kid("x"), &m).unwrap();
        assert_eq!(b.lookup(&kid("x")).unwrap().unwrap().bytes(), m.bytes());
        std::fs::write(d.path().join("keys/y.key"), "not base64!").unwrap();
        assert!(b.lookup(&kid("y")).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join("keys/x.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn secret_tool_backend_with_a_fake_tool() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let store = d.path().join("store");
        let tool = d.path().join("secret-tool");
        std::fs::write(
            &tool,
            format!(
                "#!/bin/sh\ncase \"$1\" in\n store) cat > {s}; echo \"$@\" > {s}.args ;;\n lookup) [ -f {s} ] || exit 1; cat {s} ;;\nesac\n",
                s = store.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let b = SecretToolBackend::with_tool(Some(tool));
        assert!(b.lookup(&kid("v1")).unwrap().is_none());
        let m = KeyMaterial::random().unwrap();
        b.store(&kid("v1"), &m).unwrap();
        assert_eq!(b.lookup(&kid("v1")).unwrap().unwrap().bytes(), m.bytes());
        let args = std::fs::read_to_string(d.path().join("store.args")).unwrap();
        assert_eq!(
            args.trim(),
            "store --label Latchkey vault key (v1) application app.latchkey.host key-id v1"
        );
        let none = SecretToolBackend::with_tool(None);
        assert_eq!(none.availability(), Availability::Unavailable);
        assert!(matches!(
            none.lookup(&kid("v1")),
            Err(OsKeyError::Unavailable(_))
        ));
    }

    /// A fake Hello key store: deterministic "signatures" (HMAC-like hash of name and data).
    #[derive(Default)]
    struct FakeHello {
        keys: Mutex<HashMap<String, u8>>,
        deny: Mutex<bool>,
        signed: Mutex<Vec<Vec<u8>>>,
    }
    impl KeyCredentialApi for FakeHello {
        fn availability(&self) -> Availability {
            Availability::Available
        }
        fn create(&self, name: &str, replace: bool, _: &CancelToken) -> Result<(), OsKeyError> {
            let mut k = self.keys.lock().unwrap();
            if k.contains_key(name) && !replace {
                return Err(OsKeyError::KeyExists);
            }
            let gen = k.get(name).map_or(1, |g| g + 1);
            k.insert(name.to_owned(), gen);
            Ok(())
        }
        fn sign(
            &self,
            name: &str,
            data: &[u8],
            _: &CancelToken,
        ) -> Result<KeyMaterial, OsKeyError> {
            if *self.deny.lock().unwrap() {
                return Err(OsKeyError::Denied("hello".into()));
            }
            let gen = *self
                .keys
                .lock()
                .unwrap()
                .get(name)
                .ok_or(OsKeyError::KeyNotFound)?;
            self.signed.lock().unwrap().push(data.to_vec());
            use sha2::Digest;
            let mut h = Sha256::new();
            h.update([gen]);
            h.update(name.as_bytes());
            h.update(data);
            let mut sig = h.finalize().to_vec();
            sig.extend_from_slice(&[0xAB; 224]); // RSA-2048 signatures are 256 bytes
            Ok(KeyMaterial::new(sig))
        }
    }

    #[test]
    fn key_credential_store_signs_a_fixed_message() {
        let s = KeyCredentialStore::new(FakeHello::default());
        let t = CancelToken::new();
        assert_eq!(
            s.release(&kid("v"), None, &t).unwrap_err(),
            OsKeyError::KeyNotFound
        );
        let (created, m) = s.create(&kid("v"), false, None, &t).unwrap();
        assert_eq!(m, VerificationMethod::WindowsHello);
        let (released, _) = s.release(&kid("v"), None, &t).unwrap();
        assert_eq!(created.bytes(), released.bytes());
        assert_eq!(
            s.create(&kid("v"), false, None, &t).unwrap_err(),
            OsKeyError::KeyExists
        );
        let (replaced, _) = s.create(&kid("v"), true, None, &t).unwrap();
        assert_ne!(replaced.bytes(), created.bytes());
        assert_eq!(
            s.api.signed.lock().unwrap()[0],
            b"latchkey/os-key/v1/sign/v"
        );
        *s.api.deny.lock().unwrap() = true;
        assert!(matches!(
            s.release(&kid("v"), None, &t),
            Err(OsKeyError::Denied(_))
        ));
        assert_eq!(
            KeyCredentialStore::<FakeHello>::credential_name(&kid("v")),
            "latchkey-v"
        );
    }
}
