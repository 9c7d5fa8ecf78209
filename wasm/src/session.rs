//! The JSON-in/JSON-out session behind the wasm API, kept free of wasm-bindgen so it is tested
//! natively. Contract: docs/design.md, "The wasm API". It pairs the core client (over an in-memory
//! store of decrypted passkeys) with the vault ([`Vault`]) that owns the encrypted storage form:
//! every change comes back as a storage commit the service worker applies before answering.

use latchkey_core::b64url;
use latchkey_core::client::{request_rp_id, CallerContext, Consent, Latchkey as Core};
use latchkey_core::clock::Clock;
use latchkey_core::error::{error_json, WebAuthnError};
use latchkey_core::json::{self, JsonError, Object, Value};
use latchkey_core::keyset::KeySet;
use latchkey_core::options::{parse_creation_options, parse_request_options, RequestOptions};
use latchkey_core::passkey::Passkey;
use latchkey_core::rng::Rng;
use latchkey_core::sort;
use latchkey_core::store::{CredentialStore, MemoryStore, StoreWrite};
use latchkey_core::vault::keys::{Argon2Params, Kek, Pin};
use latchkey_core::vault::{
    unlock_delay_ms, Commit, Vault, VaultError, VaultState, MAX_LABEL_CHARS,
};

/// The credential ids a get's `allowCredentials` names (`public-key` descriptors only, as the core
/// reads them); none when it names none or an id is not base64url (then the rpId's entries are
/// opened and the core call answers as before).
fn named(options: &RequestOptions) -> Vec<Vec<u8>> {
    options
        .allow_credentials
        .iter()
        .filter(|d| d.type_ == "public-key")
        .map(|d| b64url::decode(&d.id))
        .collect::<Result<_, _>>()
        .unwrap_or_default()
}

/// The members of an object the service worker built: each of `known` at most once (a repeated
/// one is an error, as serde's derive had it), and, when `only_known`, nothing else.
fn members<'a>(
    value: &'a Value,
    known: &[&str],
    only_known: bool,
) -> Result<&'a Object, JsonError> {
    let o = value.expect_object("value")?;
    let mut seen: Vec<&str> = Vec::with_capacity(known.len());
    for key in o.keys() {
        if !known.contains(&key.as_str()) {
            if only_known {
                return Err(JsonError::WrongType {
                    member: key.clone(),
                    expected: "absent (not a known member)",
                });
            }
        } else if seen.contains(&key.as_str()) {
            return Err(JsonError::WrongType {
                member: key.clone(),
                expected: "given only once",
            });
        } else {
            seen.push(key);
        }
    }
    Ok(o)
}

/// Which passkey the user picked on get, and what the user did.
#[derive(Debug)]
struct Selection {
    credential_id: Option<String>,
    user_present: bool,
    user_verified: bool,
}

impl Selection {
    /// `{credentialId?, userPresent?, userVerified?}`: `credentialId` may be absent or `null`, the
    /// flags absent (`false`); unknown members are ignored.
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let o = members(
            value,
            &["credentialId", "userPresent", "userVerified"],
            false,
        )?;
        Ok(Self {
            credential_id: o.opt_str("credentialId")?.map(str::to_owned),
            user_present: o.default_false("userPresent")?,
            user_verified: o.default_false("userVerified")?,
        })
    }
}

/// Argon2id parameters a caller may pass to `createVault` (benchmarks, tests); `null` = defaults.
#[derive(Debug)]
struct KdfChoice {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfChoice {
    /// `null`, or exactly `{memoryKiB, iterations, parallelism}` (integers from 0 to 2³²−1).
    fn from_json(value: &Value) -> Result<Option<Self>, JsonError> {
        if value.is_null() {
            return Ok(None);
        }
        let o = members(value, &["memoryKiB", "iterations", "parallelism"], true)?;
        Ok(Some(Self {
            memory_kib: o.req_u32("memoryKiB")?,
            iterations: o.req_u32("iterations")?,
            parallelism: o.req_u32("parallelism")?,
        }))
    }
}

#[derive(Debug)]
struct PasskeySummary<'a> {
    credential_id: String,
    rp_id: &'a str,
    rp_name: &'a str,
    user_name: &'a str,
    user_display_name: &'a str,
    label: Option<&'a str>,
    created: u64,
    last_used: Option<u64>,
    deleted_at: Option<u64>,
}

impl PasskeySummary<'_> {
    /// `{credentialId, rpId, rpName, userName, userDisplayName, label, created, lastUsed,
    /// deletedAt}` (`label`, `lastUsed`, `deletedAt` may be `null`).
    fn to_json(&self) -> Value {
        Object::with_capacity(9)
            .with("credentialId", self.credential_id.as_str())
            .with("rpId", self.rp_id)
            .with("rpName", self.rp_name)
            .with("userName", self.user_name)
            .with("userDisplayName", self.user_display_name)
            .with("label", self.label)
            .with("created", self.created)
            .with("lastUsed", self.last_used)
            .with("deletedAt", self.deleted_at)
            .into()
    }
}

/// An error for the envelope: a WebAuthn error (page-facing name) or a vault error.
#[derive(Debug)]
struct Fail {
    name: &'static str,
    message: String,
}

impl Fail {
    /// `{"name","message"}`: the JSON form of [`WebAuthnError::to_json`], for vault errors too.
    fn to_json(&self) -> Value {
        Value::Object(error_json(self.name, &self.message))
    }
}

impl From<WebAuthnError> for Fail {
    fn from(e: WebAuthnError) -> Self {
        Self {
            name: e.name.as_str(),
            message: e.message,
        }
    }
}

impl From<VaultError> for Fail {
    fn from(e: VaultError) -> Self {
        Self {
            name: e.name(),
            message: e.to_string(),
        }
    }
}

/// The authenticator session: the core client over the unlocked vault's passkeys.
#[derive(Debug)]
pub struct Session<R: Rng, C: Clock> {
    core: Core<MemoryStore, R, C>,
    vault: Vault,
    /// Credential ids whose record in memory is ahead of storage in metadata only (a get's
    /// `lastUsed`; `signCount` stays 0, so nothing a relying party checks is deferred). They are
    /// sealed by [`Session::flush_metadata`], or ride along in the next real commit.
    metadata_pending: KeySet<Vec<u8>>,
}

impl<R: Rng, C: Clock> Session<R, C> {
    /// A session with no storage loaded yet (state "none" until [`Session::load`]).
    pub fn new(rng: R, clock: C) -> Self {
        Self {
            core: Core::new(MemoryStore::new(), rng, clock),
            vault: Vault::empty(),
            metadata_pending: KeySet::new(),
        }
    }

    fn now(&self) -> u64 {
        self.core.clock().now_ms()
    }

    /// Reads the vault from a `storage.local` snapshot (a JSON object). Locks the session.
    pub fn load(&mut self, storage_json: &str) -> String {
        let result = Vault::load_json(storage_json)
            .map_err(|e| Fail {
                name: "UnknownError",
                message: format!("the storage snapshot is not a JSON object: {e}"),
            })
            .map(|vault| {
                self.vault = vault;
                // Storage is the truth again: unwritten metadata is dropped, never written over it.
                self.forget();
                self.status_value()
            });
        envelope(result)
    }

    fn status_value(&self) -> Value {
        let issues = |list: &[latchkey_core::vault::EntryIssue]| {
            Value::Array(list.iter().map(|i| i.to_json()).collect())
        };
        Object::with_capacity(9)
            .with("state", self.vault.state().as_str())
            .with("headerState", self.vault.header_state().as_str())
            .with("headerProblem", self.vault.header_problem())
            .with("count", self.count())
            .with("unverified", self.vault.unverified())
            .with("damaged", issues(self.vault.damaged()))
            .with("recovered", issues(self.vault.recovered()))
            .with("deleted", self.vault.deleted().len())
            .with(
                "unlockMethods",
                self.vault.unlock_methods().into_iter().collect::<Value>(),
            )
            .into()
    }

    /// `{state, headerState, headerProblem, count, unverified, damaged, recovered, deleted,
    /// unlockMethods}`.
    pub fn status(&self) -> String {
        envelope(Ok(self.status_value()))
    }

    /// The vault's state (`none`, `locked`, `unlocked`), as [`Session::status`] gives it in
    /// `state`, without building the rest of the status.
    pub fn state(&self) -> &'static str {
        self.vault.state().as_str()
    }

    /// Number of passkeys (unlocked only): the live ones opened so far plus the entries not
    /// verified yet, so exact once `unverified` is 0 and never below the real number before.
    pub fn count(&self) -> usize {
        self.core.store.len() + self.vault.unverified()
    }

    fn serve(&mut self, passkeys: Vec<Passkey>) {
        self.core.store = MemoryStore::new();
        self.take_in(passkeys);
    }

    /// Adds opened passkeys to the served ones, each under its own (decrypted) rpId.
    fn take_in(&mut self, passkeys: Vec<Passkey>) {
        for p in passkeys {
            // Records were validated when decrypted; a put can only refuse a bad id length.
            let _ = self.core.store.put(p);
        }
    }

    /// Opens the passkeys the request from `ctx` for `requested` (an RP ID, or none) may use:
    /// the rpId's entries, or with `named` credential ids (a get's `allowCredentials`) only the
    /// entries tagged with theirs or untagged ([`Vault::open_credentials`]). When the origin or RP
    /// ID is refused nothing is opened: the core call gives the error.
    fn open_for(
        &mut self,
        ctx: &CallerContext,
        requested: Option<&str>,
        named: &[Vec<u8>],
    ) -> Result<(), Fail> {
        let Ok(rp_id) = request_rp_id(ctx, requested) else {
            return Ok(());
        };
        let now = self.now();
        let passkeys = self.vault.open_credentials(&rp_id, named, now)?;
        self.take_in(passkeys);
        Ok(())
    }

    /// Opens every entry not opened yet (before listing or changing passkeys by id).
    fn open_all(&mut self) -> Result<(), Fail> {
        let now = self.now();
        let passkeys = self.vault.finish_verification(now)?;
        self.take_in(passkeys);
        Ok(())
    }

    /// One slice of the background verification after an unlock: opens up to `max_entries`
    /// entries not opened yet. `{commit, unverified}`; done when `unverified` is 0.
    pub fn verify_step(&mut self, max_entries: u32) -> String {
        envelope((|| {
            self.require_unlocked()?;
            let now = self.now();
            let max = usize::try_from(max_entries).unwrap_or(usize::MAX).max(1);
            let (commit, passkeys) = self.vault.verify_step(max, now)?;
            self.take_in(passkeys);
            Ok(Object::new()
                .with("commit", commit.to_json())
                .with("unverified", self.vault.unverified())
                .into())
        })())
    }

    fn unlocked_result(&mut self, commit: Commit, passkeys: Vec<Passkey>) -> Result<Value, Fail> {
        self.serve(passkeys);
        let session_key = self.vault.session_key()?;
        Ok(commit_and_key(&commit, session_key))
    }

    pub fn create_vault(&mut self, pin: &str, kdf_json: &str) -> String {
        envelope((|| {
            let choice = json::parse(kdf_json).and_then(|v| KdfChoice::from_json(&v));
            let params = match choice {
                Ok(None) => Argon2Params::DEFAULT,
                Ok(Some(k)) => Argon2Params {
                    memory_kib: k.memory_kib,
                    iterations: k.iterations,
                    parallelism: k.parallelism,
                },
                Err(e) => return Err(VaultError::Invalid(format!("KDF parameters: {e}")).into()),
            };
            let now = self.now();
            let (commit, passkeys) =
                self.vault
                    .create(&Pin::new(pin.to_owned()), params, now, self.core.rng_mut())?;
            self.unlocked_result(commit, passkeys)
        })())
    }

    pub fn unlock_with_pin(&mut self, pin: &str) -> String {
        envelope((|| {
            let pin = Pin::new(pin.to_owned());
            if self.vault.state() == VaultState::Unlocked {
                self.vault.verify_pin(&pin)?;
                return self.still_unlocked();
            }
            let now = self.now();
            let (commit, passkeys) = self.vault.unlock_with_pin(&pin, now, self.core.rng_mut())?;
            self.unlocked_result(commit, passkeys)
        })())
    }

    pub fn unlock_with_session_key(&mut self, key: &str) -> String {
        envelope((|| {
            if self.vault.state() == VaultState::Unlocked {
                if self.vault.is_session_key(key) {
                    return Ok(commit_only(&Commit::default()));
                }
                return Err(VaultError::WrongKey.into());
            }
            let now = self.now();
            let (commit, passkeys) =
                self.vault
                    .unlock_with_session_key(key, now, self.core.rng_mut())?;
            self.serve(passkeys);
            Ok(commit_only(&commit))
        })())
    }

    /// Unlocks with the OS-held key the native host released (base64url of 32 bytes).
    pub fn unlock_with_os_key(&mut self, key_id: &str, kek_b64url: &str) -> String {
        envelope((|| {
            let kek = Kek::from_b64url(kek_b64url)?;
            if self.vault.state() == VaultState::Unlocked {
                // Already open: the released key still has to open this vault.
                self.vault.verify_os_key(key_id, &kek)?;
                return self.still_unlocked();
            }
            let now = self.now();
            let (commit, passkeys) =
                self.vault
                    .unlock_with_os_key(key_id, &kek, now, self.core.rng_mut())?;
            self.unlocked_result(commit, passkeys)
        })())
    }

    /// Adds the OS unlock method (vault unlocked): the vault key wrapped with the OS-held key.
    pub fn add_os_unlock(&mut self, key_id: &str, kek_b64url: &str) -> String {
        envelope((|| {
            let kek = Kek::from_b64url(kek_b64url)?;
            let commit = self
                .vault
                .add_os_unlock(key_id, &kek, self.core.rng_mut())?;
            Ok(commit_only(&commit))
        })())
    }

    /// Removes the OS unlock method for `key_id`.
    pub fn remove_os_unlock(&mut self, key_id: &str) -> String {
        envelope((|| {
            let commit = self.vault.remove_os_unlock(key_id)?;
            Ok(commit_only(&commit))
        })())
    }

    pub fn verify_pin(&self, pin: &str) -> String {
        envelope(
            self.vault
                .verify_pin(&Pin::new(pin.to_owned()))
                .map(|()| Value::Bool(true))
                .map_err(Fail::from),
        )
    }

    pub fn change_pin(&mut self, old_pin: &str, new_pin: &str) -> String {
        envelope((|| {
            let commit = self.vault.change_pin(
                &Pin::new(old_pin.to_owned()),
                &Pin::new(new_pin.to_owned()),
                Argon2Params::DEFAULT,
                self.core.rng_mut(),
            )?;
            Ok(commit_only(&commit))
        })())
    }

    /// Locks: the vault key and every decrypted passkey are dropped (and zeroized).
    pub fn lock(&mut self) -> String {
        self.vault.lock();
        self.forget();
        envelope(Ok(Value::Bool(true)))
    }

    /// Drops every decrypted passkey, the precomputed nonces and keys, and the pending metadata
    /// (load and lock; one copy: wasm size, issue 6).
    #[inline(never)]
    fn forget(&mut self) {
        self.core.store = MemoryStore::new();
        self.core.clear_precomputed();
        self.metadata_pending.clear();
    }

    /// `{commit (empty), sessionKey}`: an unlock's answer when the vault already was unlocked.
    fn still_unlocked(&self) -> Result<Value, Fail> {
        let session_key = self.vault.session_key()?;
        Ok(commit_and_key(&Commit::default(), session_key))
    }

    fn require_unlocked(&self) -> Result<(), Fail> {
        if self.vault.state() == VaultState::Unlocked {
            Ok(())
        } else {
            Err(VaultError::Locked.into())
        }
    }

    /// Encrypts the core's journal; on failure the session locks (memory may be ahead of storage).
    /// Pending metadata (see [`Session::flush_metadata`]) rides along in the same commit: an entry
    /// sealed now carries its newest record, so a metadata write can never land after (and undo) a
    /// later real change of the same entry.
    fn commit(&mut self, mut writes: Vec<StoreWrite>) -> Result<Commit, Fail> {
        // Pending ids this commit writes anyway are dropped from the set (rather than collecting
        // the written ids into a second set, which links a sort and the B-tree bulk build: wasm size).
        let mut pending = std::mem::take(&mut self.metadata_pending);
        for id in writes.iter().filter_map(write_id) {
            pending.remove(&id);
        }
        for id in pending {
            if let Some(passkey) = self.core.store.get(&id) {
                writes.push(StoreWrite::put(passkey));
            }
        }
        let now = self.now();
        match self.vault.commit_writes(writes, now, self.core.rng_mut()) {
            Ok(commit) => Ok(commit),
            Err(e) => {
                self.vault.lock();
                // (Pending metadata was taken above: forgetting it changes nothing.)
                self.forget();
                Err(e.into())
            }
        }
    }

    /// One commit for every passkey whose metadata (`lastUsed`) changed since it was last stored
    /// (an empty commit when none did, or while locked). `get` defers its write to this, so many
    /// sign-ins cost one `storage.local.set`; losing it (a crash before the flush) loses only
    /// `lastUsed` times.
    pub fn flush_metadata(&mut self) -> String {
        envelope((|| {
            if self.metadata_pending.is_empty() || self.vault.state() != VaultState::Unlocked {
                self.metadata_pending.clear();
                return Ok(commit_only(&Commit::default()));
            }
            let commit = self.commit(Vec::new())?;
            Ok(commit_only(&commit))
        })())
    }

    /// How many passkeys have metadata waiting for [`Session::flush_metadata`].
    pub fn metadata_pending(&self) -> usize {
        self.metadata_pending.len()
    }

    /// Does the scalar multiplications of the next `get` and `create` now (see
    /// [`Core::precompute`]); the worker calls it after answering. Returns how many nonces and keys
    /// it made: 0 when all were ready, while locked (what it made is dropped at lock), or when the
    /// random source failed (the request that needs one then reports that itself).
    pub fn precompute(&mut self) -> u32 {
        if self.require_unlocked().is_err() {
            return 0;
        }
        self.core
            .precompute()
            .map_or(0, |made| u32::try_from(made).unwrap_or(u32::MAX))
    }

    /// How many nonces and keys [`Session::precompute`] has ready.
    pub fn precomputed(&self) -> usize {
        self.core.precomputed_len()
    }

    pub fn inspect_create(&mut self, ctx: &str, options: &str) -> String {
        envelope((|| {
            self.require_unlocked()?;
            let ctx = parse_ctx(ctx)?;
            let options = parse_creation_options(options)?;
            self.open_for(&ctx, options.rp.id.as_deref(), &[])?;
            Ok(self.core.inspect_create(&ctx, &options)?.to_json().into())
        })())
    }

    pub fn create(&mut self, ctx: &str, options: &str, consent: &str) -> String {
        envelope((|| {
            self.require_unlocked()?;
            let ctx = parse_ctx(ctx)?;
            let options = parse_creation_options(options)?;
            let consent = parse_consent(consent)?;
            self.open_for(&ctx, options.rp.id.as_deref(), &[])?;
            let (response, writes) = self.core.create(&ctx, &options, consent)?;
            let commit = self.commit(writes)?;
            Ok(Object::new()
                .with("response", response.to_json())
                .with("commit", commit.to_json())
                .into())
        })())
    }

    pub fn inspect_get(&mut self, ctx: &str, options: &str) -> String {
        envelope((|| {
            self.require_unlocked()?;
            let ctx = parse_ctx(ctx)?;
            let options = parse_request_options(options)?;
            self.open_for(&ctx, options.rp_id.as_deref(), &named(&options))?;
            Ok(self.core.inspect_get(&ctx, &options)?.to_json().into())
        })())
    }

    pub fn get(&mut self, ctx: &str, options: &str, selection: &str) -> String {
        envelope((|| {
            self.require_unlocked()?;
            let ctx = parse_ctx(ctx)?;
            let options = parse_request_options(options)?;
            let selection = parse_selection(selection)?;
            self.open_for(&ctx, options.rp_id.as_deref(), &named(&options))?;
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
            // A get changes metadata only (lastUsed): its write waits for flush_metadata, which
            // seals the record from the store then (so the core does not build it now).
            let (response, credential_id) =
                self.core
                    .get_deferred(&ctx, &options, selected.as_deref(), consent)?;
            self.metadata_pending.insert(credential_id);
            Ok(Object::new()
                .with("response", response.to_json())
                .with("metadataPending", self.metadata_pending.len())
                .into())
        })())
    }

    /// Live passkeys and the ones in "Recently deleted" (with `deletedAt`). Finishes the
    /// verification first (its storage changes ride with the next commit).
    pub fn list(&mut self) -> String {
        if let Err(e) = self.require_unlocked().and_then(|()| self.open_all()) {
            return envelope(Err(e));
        }
        let live = self.core.store.all();
        let deleted = self.vault.deleted();
        let mut all: Vec<PasskeySummary<'_>> = Vec::with_capacity(live.len() + deleted.len());
        for p in live {
            all.push(PasskeySummary {
                credential_id: b64url::encode(&p.credential_id),
                rp_id: &p.rp_id,
                rp_name: &p.rp_name,
                user_name: &p.user_name,
                user_display_name: &p.user_display_name,
                label: p.label.as_deref(),
                created: p.created_ms,
                last_used: p.last_used_ms,
                deleted_at: None,
            });
        }
        for d in deleted {
            all.push(PasskeySummary {
                credential_id: d.credential_id.clone(),
                rp_id: &d.rp_id,
                rp_name: &d.rp_name,
                user_name: &d.user_name,
                user_display_name: &d.user_display_name,
                label: d.label.as_deref(),
                created: d.created,
                last_used: d.last_used,
                deleted_at: Some(d.deleted_at),
            });
        }
        // The shared sort (latchkey_core::sort): one small sort in the wasm.
        sort::sort_by(&mut all, |a, b| {
            a.rp_id.cmp(b.rp_id).then(a.user_name.cmp(b.user_name))
        });
        envelope(Ok(Value::Array(
            all.iter().map(PasskeySummary::to_json).collect(),
        )))
    }

    /// What every change by credential id starts with: the vault unlocked, the id decoded, every
    /// entry opened (one copy for rename, remove, restore and purge: wasm size, issue 6).
    #[inline(never)]
    fn by_id(&mut self, credential_id: &str) -> Result<Vec<u8>, Fail> {
        self.require_unlocked()?;
        let id = b64url::decode(credential_id)
            .map_err(|_| VaultError::Invalid("the credential id is not base64url".into()))?;
        self.open_all()?;
        Ok(id)
    }

    /// Sets (or, with `""`, clears) a passkey's label.
    pub fn rename(&mut self, credential_id: &str, label: &str) -> String {
        envelope((|| {
            let id = self.by_id(credential_id)?;
            let label = label.trim();
            if label.chars().count() > MAX_LABEL_CHARS {
                return Err(VaultError::Invalid(format!(
                    "a label may have at most {MAX_LABEL_CHARS} characters"
                ))
                .into());
            }
            let mut passkey = self
                .core
                .store
                .get(&id)
                .cloned()
                .ok_or(VaultError::NotFound)?;
            passkey.label = (!label.is_empty()).then(|| label.to_owned());
            let write = StoreWrite::put(&passkey);
            self.core
                .store
                .put(passkey)
                .map_err(|e| VaultError::Invalid(e.to_string()))?;
            let commit = self.commit(vec![write])?;
            Ok(commit_only(&commit))
        })())
    }

    /// Moves a passkey to "Recently deleted".
    pub fn remove(&mut self, credential_id: &str) -> String {
        envelope((|| {
            let id = self.by_id(credential_id)?;
            let removed = self
                .core
                .store
                .remove(&id)
                .map_err(|e| VaultError::Invalid(e.to_string()))?;
            if removed.is_none() {
                return Err(VaultError::NotFound.into());
            }
            let commit = self.commit(vec![StoreWrite::delete(&id)])?;
            Ok(commit_only(&commit))
        })())
    }

    /// Brings a deleted passkey back.
    pub fn restore(&mut self, credential_id: &str) -> String {
        envelope((|| {
            let id = self.by_id(credential_id)?;
            let (commit, passkey) = self.vault.restore(&id, self.core.rng_mut())?;
            self.core
                .store
                .put(passkey)
                .map_err(|e| VaultError::Invalid(e.to_string()))?;
            Ok(commit_only(&commit))
        })())
    }

    /// Deletes a passkey in "Recently deleted" for good.
    pub fn purge(&mut self, credential_id: &str) -> String {
        envelope((|| {
            let id = self.by_id(credential_id)?;
            let commit = self.vault.purge(&id)?;
            Ok(commit_only(&commit))
        })())
    }
}

/// The credential id a journal entry writes (None for an undecodable id: the vault refuses it).
fn write_id(write: &StoreWrite) -> Option<Vec<u8>> {
    match write {
        StoreWrite::Put(record) => b64url::decode(&record.credential_id).ok(),
        StoreWrite::Delete(id) => Some(id.clone()),
    }
}

/// Milliseconds to wait before the next PIN attempt after `failures` wrong ones.
#[must_use]
pub fn delay_after_failures(failures: u32) -> u64 {
    unlock_delay_ms(failures)
}

fn parse_ctx(ctx: &str) -> Result<CallerContext, WebAuthnError> {
    let what = "caller context";
    CallerContext::from_json(&internal_json(ctx, what)?).map_err(|e| internal_error(what, &e))
}

fn parse_consent(consent: &str) -> Result<Consent, WebAuthnError> {
    let what = "consent";
    Consent::from_json(&internal_json(consent, what)?).map_err(|e| internal_error(what, &e))
}

fn parse_selection(selection: &str) -> Result<Selection, WebAuthnError> {
    let what = "selection";
    Selection::from_json(&internal_json(selection, what)?).map_err(|e| internal_error(what, &e))
}

/// Parses JSON that the service worker itself produced (caller context, consent, selection).
fn internal_json(text: &str, what: &str) -> Result<json::Value, WebAuthnError> {
    json::parse(text).map_err(|e| internal_error(what, &e))
}

/// A failure to read the service worker's own JSON is our bug, not the page's: `UnknownError`.
fn internal_error(what: &str, e: &json::JsonError) -> WebAuthnError {
    WebAuthnError::unknown(format!("invalid {what}: {e}"))
}

/// `{commit}`.
fn commit_only(commit: &Commit) -> Value {
    Object::new().with("commit", commit.to_json()).into()
}

/// `{commit, sessionKey}`.
fn commit_and_key(commit: &Commit, session_key: String) -> Value {
    Object::new()
        .with("commit", commit.to_json())
        .with("sessionKey", session_key)
        .into()
}

/// `{"ok": value}` or `{"error": {name, message}}`, every object's members in key order (what
/// the answers have always looked like: they were serde_json maps). The service worker stores
/// commit values as given and recognises its own writes by their JSON text (vault.js), so the
/// order stays the one it always was.
fn envelope(result: Result<Value, Fail>) -> String {
    let (key, value) = match result {
        Ok(ok) => ("ok", ok),
        Err(error) => ("error", error.to_json()),
    };
    Object::new().with(key, sort_keys(value)).to_json_string()
}

/// `value` with every object's members sorted by key, a repeated key kept once (the last).
fn sort_keys(mut value: Value) -> Value {
    sort_keys_in_place(&mut value);
    value
}

/// [`sort_keys`] in place (no copy of the members).
fn sort_keys_in_place(value: &mut Value) {
    match value {
        Value::Object(o) => {
            o.sort_by_key(); // the shared sort (wasm size)
            o.values_mut().for_each(sort_keys_in_place);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys_in_place),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use latchkey_core::clock::FixedClock;
    use latchkey_core::rng::TestRng;
    // The tests read the session's answers with serde_json (an independent JSON implementation).
    use serde_json::{json, Map, Value};

    const ORIGIN: &str = r#"{"origin":"https://login.example.com","topOrigin":null}"#;
    const YES: &str = r#"{"userPresent":true,"userVerified":true}"#;
    const FAST: &str = r#"{"memoryKiB":64,"iterations":1,"parallelism":1}"#;

    fn session() -> Session<TestRng, FixedClock> {
        Session::new(TestRng::new(7), FixedClock::new(1_700_000_000_000))
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

    /// Applies a commit's writes to a storage snapshot, as the service worker does.
    fn apply(storage: &mut Map<String, Value>, result: &Value) {
        let commit = &result["ok"]["commit"];
        for (k, v) in commit["set"].as_object().unwrap() {
            storage.insert(k.clone(), v.clone());
        }
        for k in commit["remove"]
            .as_array()
            .unwrap()
            .iter()
            .chain(commit["cleanup"].as_array().unwrap())
        {
            storage.remove(k.as_str().unwrap());
        }
    }

    /// A session with a fresh unlocked vault (PIN "1234"), and its storage.
    fn unlocked() -> (Session<TestRng, FixedClock>, Map<String, Value>) {
        let mut s = session();
        let mut storage = Map::new();
        assert_eq!(parse(&s.load("{}"))["ok"]["state"], "none");
        let created = parse(&s.create_vault("1234", FAST));
        assert!(created["ok"]["sessionKey"].is_string(), "{created}");
        apply(&mut storage, &created);
        (s, storage)
    }

    #[test]
    fn create_then_get_round_trips_through_the_vault() {
        let (mut s, mut storage) = unlocked();
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        apply(&mut storage, &created);
        let text = serde_json::to_string(&storage).unwrap();
        assert!(
            !text.contains("alice") && !text.contains("example.com"),
            "encrypted at rest"
        );

        // Reopen from storage, as the service worker does after a restart.
        let mut reopened = session();
        assert_eq!(parse(&reopened.load(&text))["ok"]["state"], "locked");
        let request = json!({"challenge": "AQID", "rpId": "example.com"}).to_string();
        assert_eq!(
            parse(&reopened.inspect_get(ORIGIN, &request))["error"]["name"],
            "Locked"
        );
        assert_eq!(
            parse(&reopened.unlock_with_pin("0000"))["error"]["name"],
            "WrongPin"
        );
        let unlocked = parse(&reopened.unlock_with_pin("1234"));
        assert!(unlocked["ok"]["sessionKey"].is_string());
        assert_eq!(reopened.count(), 1);
        let inspected = parse(&reopened.inspect_get(ORIGIN, &request));
        assert_eq!(
            inspected["ok"]["candidates"][0]["credentialId"],
            id.as_str()
        );
        let selection = json!({"credentialId": id, "userPresent": true, "userVerified": false});
        let got = parse(&reopened.get(ORIGIN, &request, &selection.to_string()));
        assert_eq!(got["ok"]["response"]["id"], id.as_str());
        assert_eq!(got["ok"]["response"]["response"]["userHandle"], "dXNlci0x");
        assert!(
            got["ok"].get("commit").is_none(),
            "a get's write is deferred"
        );
        assert_eq!(got["ok"]["metadataPending"], 1);
        let flushed = parse(&reopened.flush_metadata());
        assert_eq!(
            flushed["ok"]["commit"]["set"].as_object().unwrap().len(),
            2,
            "entry + kept previous version"
        );

        // The session key reopens it after a "worker restart" without the PIN.
        let key = unlocked["ok"]["sessionKey"].as_str().unwrap().to_owned();
        let mut restarted = session();
        restarted.load(&text);
        assert!(parse(&restarted.unlock_with_session_key(&key))["ok"].is_object());
        assert_eq!(restarted.count(), 1);
        assert_eq!(parse(&restarted.lock())["ok"], true);
        assert_eq!(restarted.count(), 0);
        assert_eq!(parse(&restarted.status())["ok"]["state"], "locked");
    }

    fn get_request() -> String {
        json!({"challenge": "AQID", "rpId": "example.com"}).to_string()
    }

    fn sign_in(s: &mut Session<TestRng, FixedClock>, id: &str) -> Value {
        let selection = json!({"credentialId": id, "userPresent": true, "userVerified": false});
        let got = parse(&s.get(ORIGIN, &get_request(), &selection.to_string()));
        assert!(got["ok"]["response"].is_object(), "{got}");
        got
    }

    /// The passkeys a fresh session reads back from `storage` (what survives a restart).
    fn reread(storage: &Map<String, Value>) -> Value {
        let mut s = session();
        s.load(&serde_json::to_string(storage).unwrap());
        assert!(parse(&s.unlock_with_pin("1234"))["ok"].is_object());
        parse(&s.list())["ok"].clone()
    }

    fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["credentialId"] == id)
            .unwrap()
    }

    fn entry_keys(commit: &Value) -> Vec<String> {
        let mut keys: Vec<String> = commit["set"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("vault:e:"))
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn gets_defer_last_used_into_one_flush() {
        let (mut s, mut storage) = unlocked();
        let mut ids = Vec::new();
        for user in ["dXNlci0x", "dXNlci0y", "dXNlci0z"] {
            let created = parse(&s.create(ORIGIN, &creation(user), YES));
            apply(&mut storage, &created);
            ids.push(created["ok"]["response"]["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(parse(&s.flush_metadata())["ok"]["commit"]["set"], json!({}));
        s.core.clock().advance(1000);
        for _ in 0..5 {
            sign_in(&mut s, &ids[0]);
        }
        s.core.clock().advance(1000);
        let got = sign_in(&mut s, &ids[1]);
        assert_eq!(got["ok"]["metadataPending"], 2);
        assert_eq!(s.metadata_pending(), 2);
        // Nothing was stored yet: a restart now only loses the lastUsed times.
        assert!(reread(&storage)
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["lastUsed"].is_null()));

        let flushed = parse(&s.flush_metadata());
        let commit = &flushed["ok"]["commit"];
        assert_eq!(
            entry_keys(commit).len(),
            2,
            "one entry per touched passkey: {commit}"
        );
        assert_eq!(
            commit["cleanup"].as_array().unwrap().len(),
            2,
            "their previous versions"
        );
        apply(&mut storage, &flushed);
        assert_eq!(s.metadata_pending(), 0);
        assert_eq!(parse(&s.flush_metadata())["ok"]["commit"]["set"], json!({}));
        let list = reread(&storage);
        assert_eq!(
            find(&list, &ids[0])["lastUsed"],
            json!(1_700_000_001_000u64)
        );
        assert_eq!(
            find(&list, &ids[1])["lastUsed"],
            json!(1_700_000_002_000u64)
        );
        assert_eq!(find(&list, &ids[2])["lastUsed"], Value::Null);
    }

    #[test]
    fn sign_count_stays_zero_so_deferring_last_used_defers_nothing_a_relying_party_checks() {
        let (mut s, mut storage) = unlocked();
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        apply(&mut storage, &created);
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        for _ in 0..3 {
            let got = sign_in(&mut s, &id);
            let auth_data = got["ok"]["response"]["response"]["authenticatorData"]
                .as_str()
                .unwrap();
            let bytes = b64url::decode(auth_data).unwrap();
            assert_eq!(bytes[33..37], [0, 0, 0, 0], "signCount");
        }
    }

    #[test]
    fn a_real_change_carries_pending_metadata_and_nothing_stale_follows_it() {
        let (mut s, mut storage) = unlocked();
        let first = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        apply(&mut storage, &first);
        let a = first["ok"]["response"]["id"].as_str().unwrap().to_owned();
        let second = parse(&s.create(ORIGIN, &creation("dXNlci0y"), YES));
        apply(&mut storage, &second);
        let b = second["ok"]["response"]["id"].as_str().unwrap().to_owned();

        // get A, then rename A: the rename's entry holds the new label AND lastUsed; no
        // metadata write is left that could put the label back.
        s.core.clock().advance(5000);
        sign_in(&mut s, &a);
        let renamed = parse(&s.rename(&a, "work"));
        assert_eq!(entry_keys(&renamed["ok"]["commit"]).len(), 1);
        apply(&mut storage, &renamed);
        assert_eq!(s.metadata_pending(), 0);
        assert_eq!(parse(&s.flush_metadata())["ok"]["commit"]["set"], json!({}));
        let list = reread(&storage);
        let a_entry = find(&list, &a);
        assert_eq!(a_entry["label"], "work");
        assert_eq!(a_entry["lastUsed"], json!(1_700_000_005_000u64));

        // get B, then delete B: the soft delete wins; a flush afterwards writes nothing.
        sign_in(&mut s, &b);
        apply(&mut storage, &parse(&s.remove(&b)));
        assert_eq!(parse(&s.flush_metadata())["ok"]["commit"]["set"], json!({}));
        let list = reread(&storage);
        let b_entry = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["credentialId"] == b.as_str())
            .unwrap();
        assert!(b_entry["deletedAt"].is_u64());

        // get A, then create C: C's commit also stores A's lastUsed (one atomic set).
        s.core.clock().advance(5000);
        sign_in(&mut s, &a);
        let third = parse(&s.create(ORIGIN, &creation("dXNlci0z"), YES));
        assert_eq!(entry_keys(&third["ok"]["commit"]).len(), 2);
        apply(&mut storage, &third);
        assert_eq!(s.metadata_pending(), 0);
        let list = reread(&storage);
        let a_entry = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["credentialId"] == a.as_str())
            .unwrap();
        assert_eq!(a_entry["lastUsed"], json!(1_700_000_010_000u64));
        assert_eq!(a_entry["label"], "work", "{list}");
        assert_eq!(list.as_array().unwrap().len(), 3, "no passkey lost");
    }

    #[test]
    fn precompute_only_while_unlocked_and_lock_or_load_drops_it() {
        let mut s = session();
        assert_eq!(s.precompute(), 0, "nothing loaded");
        let (mut s, mut storage) = unlocked();
        assert_eq!(s.precompute(), 3, "two nonces and a key pair");
        assert_eq!(s.precompute(), 0);
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        apply(&mut storage, &created);
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        assert_eq!(s.precomputed(), 2, "create took the key pair");
        assert!(sign_in(&mut s, &id)["ok"]["response"]["response"]["signature"].is_string());
        assert_eq!(s.precomputed(), 1, "the get took a nonce");
        assert_eq!(s.precompute(), 2);
        s.lock();
        assert_eq!(s.precomputed(), 0, "lock drops them");
        assert_eq!(s.precompute(), 0, "and makes none while locked");
        assert!(parse(&s.unlock_with_pin("1234"))["ok"].is_object());
        assert_eq!(s.precompute(), 3);
        s.load(&serde_json::to_string(&storage).unwrap());
        assert_eq!(s.precomputed(), 0, "load locks and drops them");
    }

    #[test]
    fn lock_and_load_drop_pending_metadata() {
        let (mut s, mut storage) = unlocked();
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        apply(&mut storage, &created);
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        sign_in(&mut s, &id);
        s.lock();
        assert_eq!(s.metadata_pending(), 0);
        assert_eq!(parse(&s.flush_metadata())["ok"]["commit"]["set"], json!({}));
        assert!(parse(&s.unlock_with_pin("1234"))["ok"].is_object());
        sign_in(&mut s, &id);
        // Storage changed behind the session's back (reset): the stale lastUsed is never written.
        assert_eq!(parse(&s.load("{}"))["ok"]["state"], "none");
        assert_eq!(parse(&s.flush_metadata())["ok"]["commit"]["set"], json!({}));
    }

    /// The answers are byte for byte what they were when serde_json built them (sorted keys).
    #[test]
    fn answers_keep_their_text() {
        let (mut s, _) = unlocked();
        assert_eq!(
            s.status(),
            r#"{"ok":{"count":0,"damaged":[],"deleted":0,"headerProblem":null,"headerState":"ok","recovered":[],"state":"unlocked","unlockMethods":["pin"],"unverified":0}}"#
        );
        assert_eq!(s.lock(), r#"{"ok":true}"#);
        assert_eq!(
            s.list(),
            r#"{"error":{"message":"the vault is locked","name":"Locked"}}"#
        );
        assert_eq!(
            s.unlock_with_session_key("AAAA"),
            r#"{"error":{"message":"the session key does not open this vault","name":"WrongPin"}}"#
        );
        assert!(parse(&s.unlock_with_pin("1234"))["ok"].is_object());
        let created = s.create(ORIGIN, &creation("dXNlci0x"), YES);
        let value = parse(&created);
        // serde_json's own writing of the same value: sorted keys everywhere.
        assert_eq!(created, serde_json::to_string(&value).unwrap());
        let commit = &value["ok"]["commit"];
        assert_eq!(
            commit.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["cleanup", "remove", "set"]
        );
        let list = s.list();
        assert_eq!(list, serde_json::to_string(&parse(&list)).unwrap());
        assert!(
            list.contains(r#""label":null,"lastUsed":null,"rpId":"example.com""#),
            "{list}"
        );
        let text = r#"{"b":{"y":1,"x":[{"d":1,"c":2}]},"a":1,"b":2}"#;
        assert_eq!(
            sort_keys(json::parse(text).unwrap()).to_json_string(),
            r#"{"a":1,"b":2}"#
        );
        let text = r#"{"b":{"y":1,"x":[{"d":1,"c":2.50}]},"a":null}"#;
        assert_eq!(
            sort_keys(json::parse(text).unwrap()).to_json_string(),
            r#"{"a":null,"b":{"x":[{"c":2.50,"d":1}],"y":1}}"#
        );
    }

    /// The internal inputs read as serde's derives read them.
    #[test]
    fn internal_inputs_keep_their_member_rules() {
        let kdf = |text: &str| json::parse(text).and_then(|v| KdfChoice::from_json(&v));
        assert!(kdf("null").unwrap().is_none());
        let k = kdf(FAST).unwrap().unwrap();
        assert_eq!((k.memory_kib, k.iterations, k.parallelism), (64, 1, 1));
        for bad in [
            r#"{"memoryKiB":64,"iterations":1}"#,
            r#"{"memoryKiB":64,"iterations":1,"parallelism":1,"x":0}"#,
            r#"{"memoryKiB":64,"iterations":1,"parallelism":null}"#,
            r#"{"memoryKiB":4294967296,"iterations":1,"parallelism":1}"#,
            r#"{"memoryKiB":-1,"iterations":1,"parallelism":1}"#,
            r#"{"memoryKiB":64,"iterations":1,"parallelism":1,"iterations":2}"#,
            "[]",
            "",
            "{",
        ] {
            assert!(kdf(bad).is_err(), "{bad}");
        }
        let sel = |text: &str| json::parse(text).and_then(|v| Selection::from_json(&v));
        let s = sel("{}").unwrap();
        assert_eq!(
            (s.credential_id, s.user_present, s.user_verified),
            (None, false, false)
        );
        let s = sel(r#"{"credentialId":null,"userPresent":true,"other":1}"#).unwrap();
        assert_eq!((s.credential_id, s.user_present), (None, true));
        assert_eq!(
            sel(r#"{"credentialId":"AQ"}"#)
                .unwrap()
                .credential_id
                .as_deref(),
            Some("AQ")
        );
        for bad in [
            r#"{"userPresent":null}"#,
            r#"{"userVerified":1}"#,
            r#"{"credentialId":5}"#,
            r#"{"userPresent":true,"userPresent":false}"#,
            "[]",
        ] {
            assert!(sel(bad).is_err(), "{bad}");
        }
        let ctx = |text: &str| json::parse(text).and_then(|v| CallerContext::from_json(&v));
        let c = ctx(ORIGIN).unwrap();
        assert_eq!(
            (c.origin.as_str(), c.top_origin),
            ("https://login.example.com", None)
        );
        let c = ctx(r#"{"origin":"https://a.test","topOrigin":"https://b.test","x":1}"#).unwrap();
        assert_eq!(c.top_origin.as_deref(), Some("https://b.test"));
        assert!(ctx(r#"{"origin":"https://a.test"}"#).is_ok());
        // A member given twice means its last value (JSON.parse; this JSON is the service worker's own).
        assert_eq!(ctx(r#"{"origin":"a","origin":"b"}"#).unwrap().origin, "b");
        for bad in [r#"{"topOrigin":null}"#, r#"{"origin":null}"#] {
            assert!(ctx(bad).is_err(), "{bad}");
        }
        let yes = |text: &str| json::parse(text).and_then(|v| Consent::from_json(&v));
        assert_eq!(
            yes(YES).unwrap(),
            Consent {
                user_present: true,
                user_verified: true
            }
        );
        for bad in [
            r#"{"userPresent":true}"#,
            r#"{"userPresent":true,"userVerified":null}"#,
        ] {
            assert!(yes(bad).is_err(), "{bad}");
        }
        // Through the API: an internal input that does not read is our bug (UnknownError).
        let (mut s, _) = unlocked();
        let out = parse(&s.create(ORIGIN, &creation("dXNlci0x"), r#"{"userPresent":true}"#));
        assert_eq!(out["error"]["name"], "UnknownError");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid consent: "),
            "{out}"
        );
    }

    #[test]
    fn errors_come_back_as_envelopes_with_dom_names() {
        let (mut s, _) = unlocked();
        let wrong_origin = r#"{"origin":"https://evil.test","topOrigin":null}"#;
        let out = parse(&s.create(wrong_origin, &creation("dXNlci0x"), YES));
        assert_eq!(out["error"]["name"], "SecurityError");
        let out = parse(&s.create(ORIGIN, &creation(""), YES));
        assert_eq!(out["error"]["name"], "TypeError");
        let out = parse(&s.create(ORIGIN, "not json", YES));
        assert_eq!(out["error"]["name"], "TypeError");
        assert_eq!(s.count(), 0, "failed calls store nothing");
        assert_eq!(parse(&s.load("[]"))["error"]["name"], "UnknownError");
        assert_eq!(
            parse(&s.create_vault("1234", "{\"bogus\":1}"))["error"]["name"],
            "TypeError"
        );
    }

    #[test]
    fn the_service_workers_own_json_is_checked_and_errors_keep_their_form() {
        let (mut s, _) = unlocked();
        let c = creation("dXNlci0x");
        // Consent needs both members; a bad caller context or consent is our bug: UnknownError.
        for (ctx, consent) in [
            (ORIGIN, r#"{"userPresent":true}"#),
            (ORIGIN, r#"{"userPresent":true,"userVerified":null}"#),
            (ORIGIN, "[true,true]"),
            ("{}", YES),
            (
                r#"{"origin":"https://login.example.com","topOrigin":5}"#,
                YES,
            ),
            ("not json", YES),
        ] {
            let out = parse(&s.create(ctx, &c, consent));
            assert_eq!(out["error"]["name"], "UnknownError", "{ctx} {consent}");
        }
        assert_eq!(s.count(), 0);
        let out = s.create(ORIGIN, &c, r#"{"userPresent":true}"#);
        assert_eq!(
            out,
            r#"{"error":{"message":"invalid consent: required member 'userVerified' is missing","name":"UnknownError"}}"#
        );
        // A top origin given as the origin itself, or absent, is same-origin.
        let same =
            r#"{"origin":"https://login.example.com","topOrigin":"https://login.example.com"}"#;
        let created = parse(&s.create(same, &c, YES));
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        let cdj = created["ok"]["response"]["response"]["clientDataJSON"]
            .as_str()
            .unwrap();
        let cdj = String::from_utf8(b64url::decode(cdj).unwrap()).unwrap();
        assert!(cdj.ends_with(r#""crossOrigin":false}"#), "{cdj}");

        // Selection members may be absent (false / none) but not mistyped.
        let get = json!({"challenge": "AQID", "rpId": "example.com"}).to_string();
        let origin_only = r#"{"origin":"https://login.example.com"}"#;
        let absent = parse(&s.get(origin_only, &get, "{}"));
        assert_eq!(absent["error"]["name"], "NotAllowedError", "no consent");
        for bad in [
            r#"{"userPresent":null}"#,
            r#"{"userPresent":true,"userVerified":1}"#,
            r#"{"credentialId":5,"userPresent":true}"#,
        ] {
            assert_eq!(
                parse(&s.get(ORIGIN, &get, bad))["error"]["name"],
                "UnknownError",
                "{bad}"
            );
        }
        let picked = format!(r#"{{"credentialId":"{id}","userPresent":true,"extra":[]}}"#);
        let got = parse(&s.get(ORIGIN, &get, &picked));
        assert_eq!(got["ok"]["response"]["id"], id.as_str());
        let not_b64 = parse(&s.get(ORIGIN, &get, r#"{"credentialId":"a b","userPresent":true}"#));
        assert_eq!(not_b64["error"]["name"], "NotAllowedError");
        // Page-facing option errors name the member.
        let out = parse(&s.create(
            ORIGIN,
            r#"{"rp":{"name":"X"},"user":{"id":"AQ","name":"a"}}"#,
            YES,
        ));
        assert_eq!(
            out["error"]["message"],
            "Failed to read the 'publicKey (create)' options: required member 'user.displayName' is missing"
        );
    }

    #[test]
    fn rename_remove_restore_purge() {
        let (mut s, mut storage) = unlocked();
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        let id = created["ok"]["response"]["id"].as_str().unwrap().to_owned();
        apply(&mut storage, &created);
        apply(&mut storage, &parse(&s.rename(&id, "  work  ")));
        assert_eq!(parse(&s.list())["ok"][0]["label"], "work");
        assert_eq!(
            parse(&s.rename(&id, &"x".repeat(101)))["error"]["name"],
            "TypeError"
        );
        assert_eq!(parse(&s.rename("AAAA", "x"))["error"]["name"], "NotFound");

        apply(&mut storage, &parse(&s.remove(&id)));
        assert_eq!(s.count(), 0);
        let list = parse(&s.list());
        assert!(list["ok"][0]["deletedAt"].is_u64());
        assert_eq!(parse(&s.status())["ok"]["deleted"], 1);
        assert_eq!(parse(&s.remove(&id))["error"]["name"], "NotFound");

        apply(&mut storage, &parse(&s.restore(&id)));
        assert_eq!(s.count(), 1);
        assert!(parse(&s.list())["ok"][0]["deletedAt"].is_null());

        apply(&mut storage, &parse(&s.remove(&id)));
        apply(&mut storage, &parse(&s.purge(&id)));
        assert_eq!(parse(&s.list())["ok"], json!([]));
        let keys: Vec<&String> = storage
            .keys()
            .filter(|k| k.starts_with("vault:e:"))
            .collect();
        assert!(keys.is_empty(), "{keys:?}");
    }

    #[test]
    fn change_pin_and_verify() {
        let (mut s, _) = unlocked();
        assert_eq!(parse(&s.verify_pin("1234"))["ok"], true);
        assert_eq!(parse(&s.verify_pin("9999"))["error"]["name"], "WrongPin");
        assert_eq!(
            parse(&s.change_pin("1234", "12"))["error"]["name"],
            "WeakPin"
        );
        let changed = parse(&s.change_pin("1234", "abcd"));
        assert!(changed["ok"]["commit"]["set"]["vault:header"].is_object());
        assert_eq!(parse(&s.verify_pin("abcd"))["ok"], true);
    }

    #[test]
    fn state_is_the_status_state() {
        let s = session();
        assert_eq!(s.state(), "none");
        assert_eq!(parse(&s.status())["ok"]["state"], s.state());
        let (mut s, _) = unlocked();
        assert_eq!(s.state(), "unlocked");
        assert_eq!(parse(&s.status())["ok"]["state"], s.state());
        parse(&s.lock());
        assert_eq!(s.state(), "locked");
        assert_eq!(parse(&s.status())["ok"]["state"], s.state());
    }

    #[test]
    fn a_damaged_entry_is_reported_in_status() {
        let (mut s, mut storage) = unlocked();
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES));
        apply(&mut storage, &created);
        let created = parse(&s.create(ORIGIN, &creation("dXNlci0y"), YES));
        apply(&mut storage, &created);
        let victim = storage
            .keys()
            .find(|k| k.starts_with("vault:e:"))
            .unwrap()
            .clone();
        storage[&victim]["ct"] = Value::String("AAAA".into());
        let mut reopened = session();
        reopened.load(&serde_json::to_string(&storage).unwrap());
        reopened.unlock_with_pin("1234");
        // Before the background verification: nothing known to be damaged, both counted.
        let status = parse(&reopened.status());
        assert_eq!(status["ok"]["count"], 2);
        assert_eq!(status["ok"]["unverified"], 2);
        assert_eq!(status["ok"]["damaged"], json!([]));
        let step = parse(&reopened.verify_step(1));
        assert_eq!(step["ok"]["unverified"], 1);
        let step = parse(&reopened.verify_step(1));
        assert_eq!(step["ok"]["unverified"], 0);
        let status = parse(&reopened.status());
        assert_eq!(status["ok"]["count"], 1);
        assert_eq!(status["ok"]["damaged"][0]["key"], victim.as_str());
    }

    #[test]
    fn a_request_opens_only_its_sites_passkeys_and_a_moved_tag_serves_nobody_else() {
        let (mut s, mut storage) = unlocked();
        let other = r#"{"origin":"https://other.test","topOrigin":null}"#;
        let other_creation = json!({
            "rp": {"id": "other.test", "name": "Other"},
            "user": {"id": "dXNlci0y", "name": "bob", "displayName": "Bob"},
            "challenge": "AAECAwQFBgcICQoLDA0ODw",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        })
        .to_string();
        apply(
            &mut storage,
            &parse(&s.create(ORIGIN, &creation("dXNlci0x"), YES)),
        );
        apply(&mut storage, &parse(&s.create(other, &other_creation, YES)));
        let text = serde_json::to_string(&storage).unwrap();
        let mut probe = session();
        probe.load(&text);
        probe.unlock_with_pin("1234");
        let request = |rp: &str| json!({"challenge": "AQID", "rpId": rp}).to_string();
        let found = parse(&probe.inspect_get(other, &request("other.test")));
        assert_eq!(found["ok"]["candidates"].as_array().unwrap().len(), 1);
        assert_eq!(
            probe.vault.unverified(),
            1,
            "only other.test's entry opened"
        );

        // Both entries get the same site's lookup tag (which site does not matter).
        let mut tampered = storage.clone();
        let keys: Vec<String> = tampered
            .keys()
            .filter(|k| k.starts_with("vault:e:"))
            .cloned()
            .collect();
        assert_eq!(keys.len(), 2);
        let tag = tampered[&keys[1]]["rp"].clone();
        tampered[&keys[0]]["rp"] = tag;
        let mut s2 = session();
        s2.load(&serde_json::to_string(&tampered).unwrap());
        s2.unlock_with_pin("1234");
        // Both entries now carry one site's tag: whichever site that is, each passkey is served
        // only for its own site, and the other site just sees nothing until the verification.
        for (origin, rp) in [(ORIGIN, "example.com"), (other, "other.test")] {
            let found = parse(&s2.inspect_get(origin, &request(rp)));
            let candidates = found["ok"]["candidates"].as_array().unwrap();
            assert!(candidates.len() <= 1, "{found}");
            for c in candidates {
                let user = c["userName"].as_str().unwrap();
                assert_eq!(user, if rp == "example.com" { "alice" } else { "bob" });
            }
        }
        parse(&s2.verify_step(100));
        for (origin, rp) in [(ORIGIN, "example.com"), (other, "other.test")] {
            let found = parse(&s2.inspect_get(origin, &request(rp)));
            assert_eq!(
                found["ok"]["candidates"].as_array().unwrap().len(),
                1,
                "{rp}"
            );
        }
        assert_eq!(
            parse(&s2.status())["ok"]["recovered"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn os_key_unlock_method() {
        let (mut s, mut storage) = unlocked();
        let kek = b64url::encode(&[9u8; 32]);
        let added = parse(&s.add_os_unlock("hello", &kek));
        apply(&mut storage, &added);
        assert_eq!(
            parse(&s.status())["ok"]["unlockMethods"],
            json!(["pin", "os:hello"])
        );
        assert!(parse(&s.unlock_with_os_key("hello", &kek))["ok"]["sessionKey"].is_string());
        let mut reopened = session();
        reopened.load(&serde_json::to_string(&storage).unwrap());
        let wrong = b64url::encode(&[1u8; 32]);
        assert_eq!(
            parse(&reopened.unlock_with_os_key("hello", &wrong))["error"]["name"],
            "WrongPin"
        );
        assert_eq!(
            parse(&reopened.unlock_with_os_key("hello", "short"))["error"]["name"],
            "WrongPin"
        );
        assert!(parse(&reopened.unlock_with_os_key("hello", &kek))["ok"]["sessionKey"].is_string());
        apply(&mut storage, &parse(&reopened.remove_os_unlock("hello")));
        assert_eq!(
            parse(&reopened.status())["ok"]["unlockMethods"],
            json!(["pin"])
        );
    }
}
