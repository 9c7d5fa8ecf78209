//! The encrypted passkey vault: format (see [`format`], documented in core/README.md), keys
//! ([`keys`]) and [`Vault`], the state machine the service worker drives: load what storage holds,
//! create, unlock (PIN or session key), lock, and turn the core's journal ([`StoreWrite`]) into
//! encrypted, crash-safe storage writes ([`Commit`]).
//!
//! Storage keys (docs/design.md, "The vault"): `vault:header`, `vault:header:backup`,
//! `vault:e:<entryId>` (one passkey), `vault:p:<entryId>` (its previous version, kept until the new
//! one is confirmed), and the issue-2 plaintext `cred:<id>` records, which are migrated in.
//!
//! Nothing here deletes data it cannot read: a damaged entry is reported and left in storage, a
//! damaged header is restored from the backup only after the backup unlocks.

pub mod format;
pub mod keys;

use crate::b64url;
use crate::json::{self, JsonError, Object, Value};
use crate::keyset::KeySet;
use crate::passkey::{Passkey, PasskeyRecord};
use crate::rng::Rng;
use crate::store::StoreWrite;
use format::{random_id, EncryptedEntry, EntryPayload, VaultHeader};
use keys::{Argon2Params, Kek, Pin, RpTagKey, VaultKey};
use std::collections::BTreeMap;
use thiserror::Error;

/// Storage key of the header.
pub const HEADER_KEY: &str = "vault:header";
/// Storage key of the last header confirmed to open.
pub const HEADER_BACKUP_KEY: &str = "vault:header:backup";
/// Prefix of entry keys.
pub const ENTRY_PREFIX: &str = "vault:e:";
/// Prefix of previous-version keys.
pub const PREV_PREFIX: &str = "vault:p:";
/// Prefix of the issue-2 plaintext records (migrated into the vault, then removed).
pub const LEGACY_PREFIX: &str = "cred:";
/// Deleted passkeys stay restorable this long (ms), then the next unlock purges them.
pub const TRASH_RETENTION_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Longest label (characters).
pub const MAX_LABEL_CHARS: usize = 100;
/// The most credential ids [`Vault::open_credentials`] looks up by their tags (one HMAC each);
/// a longer `allowCredentials` opens the rpId's entries as [`Vault::open_rp`] does.
pub const MAX_NAMED_CREDENTIALS: usize = 64;

/// What went wrong with the vault. [`VaultError::name`] is the error name the extension sees.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VaultError {
    /// No vault has been created.
    #[error("no vault has been set up yet")]
    NoVault,
    /// A vault (or data of one) already exists.
    #[error("a vault already exists")]
    VaultExists,
    /// The vault is locked.
    #[error("the vault is locked")]
    Locked,
    /// The PIN does not unwrap the vault key.
    #[error("wrong PIN")]
    WrongPin,
    /// A new PIN breaks the rules.
    #[error("{0}")]
    WeakPin(String),
    /// A session key that is not this vault's key.
    #[error("the session key does not open this vault")]
    WrongKey,
    /// The header has no PIN method.
    #[error("the vault has no PIN unlock method")]
    NoPinMethod,
    /// The header is unreadable and no usable backup exists.
    #[error("the vault header is damaged: {0}")]
    HeaderDamaged(String),
    /// A header that does not parse or has out-of-range members.
    #[error("invalid vault header: {0}")]
    BadHeader(String),
    /// A format version this code does not read.
    #[error("unsupported vault format version {0}")]
    UnsupportedVersion(u64),
    /// An entry that does not authenticate or does not parse.
    #[error("the entry is damaged or was tampered with: {0}")]
    Tampered(String),
    /// No passkey with that id (or not in the state the operation needs).
    #[error("no such passkey")]
    NotFound,
    /// A label or other input out of range.
    #[error("{0}")]
    Invalid(String),
    /// The random source failed.
    #[error("random source: {0}")]
    Rng(String),
    /// A cryptographic primitive failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

impl VaultError {
    /// The name the extension sees (docs/design.md, "The wasm API").
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::NoVault => "NoVault",
            Self::VaultExists => "VaultExists",
            Self::Locked => "Locked",
            Self::WrongPin | Self::WrongKey => "WrongPin",
            Self::WeakPin(_) => "WeakPin",
            Self::HeaderDamaged(_)
            | Self::BadHeader(_)
            | Self::UnsupportedVersion(_)
            | Self::NoPinMethod => "HeaderDamaged",
            Self::NotFound => "NotFound",
            Self::Invalid(_) => "TypeError",
            Self::Tampered(_) | Self::Rng(_) | Self::Crypto(_) => "UnknownError",
        }
    }
}

/// Milliseconds to wait before the next PIN attempt after `failures` wrong ones in a row:
/// none for the first 3, then 1 s doubling up to 5 minutes.
#[must_use]
pub fn unlock_delay_ms(failures: u32) -> u64 {
    if failures <= 3 {
        return 0;
    }
    let exp = (failures - 4).min(20);
    (1000u64 << exp).min(300_000)
}

/// Storage changes for one vault operation. The caller applies `set` in ONE `storage.local.set`
/// call (atomic in both browsers), then `remove`, and only then reports success; `cleanup` keys
/// may be removed afterwards (losing that is harmless: the next unlock repeats it).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Commit {
    /// Keys to write (sorted by key, as the extension has always received them). The values are
    /// boxed so this map shares the B-tree code of the vault's other string-keyed maps, which
    /// hold boxes too (about 4 KB less wasm, issue 6).
    pub set: BTreeMap<String, Box<Value>>,
    /// Keys to remove after the write.
    pub remove: Vec<String>,
    /// Keys to remove once the write is confirmed.
    pub cleanup: Vec<String>,
}

impl Commit {
    /// Appends `other`: its writes come after (and win over) this commit's.
    pub fn merge(&mut self, other: Commit) {
        self.set.extend(other.set);
        self.remove.extend(other.remove);
        self.cleanup.extend(other.cleanup);
    }

    /// True when there is nothing to store.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty() && self.cleanup.is_empty()
    }

    /// `{"set":{key: value…},"remove":[…],"cleanup":[…]}` for the service worker.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut set = Object::with_capacity(self.set.len());
        for (key, value) in &self.set {
            // BTreeMap keys are distinct: no duplicate check needed.
            set.push(key.as_str(), Value::clone(value));
        }
        let strings = |v: &[String]| Value::Array(v.iter().map(Value::from).collect());
        Object::with_capacity(3)
            .with("set", set)
            .with("remove", strings(&self.remove))
            .with("cleanup", strings(&self.cleanup))
            .into()
    }
}

/// The header's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderState {
    /// The header reads.
    Ok,
    /// It was damaged and has been restored from the backup.
    Recovered,
    /// It is damaged; the backup will be tried at unlock.
    Damaged,
    /// Entries exist but no readable header or backup.
    Missing,
    /// Written by a newer Latchkey (left untouched).
    Unsupported,
}

impl HeaderState {
    /// The name the extension sees: `ok`, `recovered`, `damaged`, `missing`, `unsupported`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Recovered => "recovered",
            Self::Damaged => "damaged",
            Self::Missing => "missing",
            Self::Unsupported => "unsupported",
        }
    }
}

/// An entry that could not be used, by storage key (and by name when a readable copy says it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryIssue {
    /// The storage key.
    pub key: String,
    /// What is wrong (or what was done).
    pub reason: String,
    /// The passkey's site, when known.
    pub rp_id: Option<String>,
    /// The passkey's user name, when known.
    pub user_name: Option<String>,
}

impl EntryIssue {
    /// `{"key","reason"}`, with `"rpId"` and `"userName"` when known.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Object::with_capacity(4)
            .with("key", self.key.as_str())
            .with("reason", self.reason.as_str())
            .with_some("rpId", self.rp_id.as_deref())
            .with_some("userName", self.user_name.as_deref())
            .into()
    }
}

/// A deleted passkey's public details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedInfo {
    /// The record without its key material concerns (the private key is dropped by the caller).
    pub credential_id: String,
    /// RP ID.
    pub rp_id: String,
    /// RP name.
    pub rp_name: String,
    /// User name.
    pub user_name: String,
    /// User display name.
    pub user_display_name: String,
    /// Label.
    pub label: Option<String>,
    /// Created (ms).
    pub created: u64,
    /// Last used (ms).
    pub last_used: Option<u64>,
    /// Deleted (ms).
    pub deleted_at: u64,
}

impl DeletedInfo {
    fn of(record: &PasskeyRecord, deleted_at: u64) -> Self {
        Self {
            credential_id: record.credential_id.clone(),
            rp_id: record.rp_id.clone(),
            rp_name: record.rp_name.clone(),
            user_name: record.user_name.clone(),
            user_display_name: record.user_display_name.clone(),
            label: record.label.clone(),
            created: record.created,
            last_used: record.last_used,
            deleted_at,
        }
    }
}

/// One stored copy of an entry: its envelope, or why that does not parse.
type Stored = Result<EncryptedEntry, VaultError>;

/// Envelopes (by entry id) that become current once the commit that writes them is handed out.
type Rewritten = Vec<(String, EncryptedEntry)>;

/// What storage holds for one entry id (envelopes parsed at load; nothing decrypted).
#[derive(Debug, Default, Clone)]
struct Slot {
    current: Option<Stored>,
    prev: Option<Stored>,
}

/// State that exists only while unlocked.
struct Opened {
    key: VaultKey,
    vault_id: String,
    /// The key of the entries' rpId lookup tags.
    tags: RpTagKey,
    /// The key of the entries' credential id lookup tags.
    creds: RpTagKey,
    /// Entry ids not opened yet (the unlock left them to a request for their site or to the
    /// background verification); empty once everything is verified.
    unopened: KeySet<String>,
    /// Lookup tags already requested ([`Vault::open_rp`]): none of their entries is left unopened.
    requested: Vec<String>,
    /// Storage changes found by opening entries lazily (repairs, tag rewrites, trash purges), not
    /// handed out yet: they ride in front of the next commit ([`Vault::commit_writes`],
    /// [`Vault::verify_step`], [`Vault::purge`]). Losing them is harmless: a later unlock repeats them.
    pending: Commit,
    /// Slot contents that become current once `pending` is handed out.
    pending_slots: Rewritten,
    /// Credential id → entry id, for live and deleted passkeys. A B-tree of boxes, not a hash
    /// map of strings: every B-tree map the wasm links then holds one pointer per value, so its
    /// node code is linked once, not once per value size (with the store's boxed RP index, about
    /// 9.8 KB less wasm than a `HashMap<Vec<u8>, String>` here, issue 6).
    #[allow(
        clippy::box_collection,
        reason = "one B-tree copy in the wasm: every B-tree value is a pointer"
    )]
    entry_of: BTreeMap<Vec<u8>, Box<String>>,
    /// Entry id → its current (readable) encrypted form. A B-tree of boxes, not a hash map: it
    /// shares the one B-tree copy (see `entry_of`) instead of linking another hash map type
    /// (about 3.3 KB less wasm, issue 6).
    sealed: BTreeMap<String, Box<EncryptedEntry>>,
    /// Entry id → details of deleted passkeys. Boxed, like the values of `Vault::slots` and
    /// [`Commit::set`]: maps from a string to a box share one copy of the B-tree code in the wasm
    /// (about 8 KB less for this map and `slots` than one copy per value type, issue 6).
    deleted: BTreeMap<String, Box<DeletedInfo>>,
    damaged: Vec<EntryIssue>,
    recovered: Vec<EntryIssue>,
}

/// The vault as loaded from storage; unlocked or not.
pub struct Vault {
    header: Option<VaultHeader>,
    header_state: HeaderState,
    header_problem: Option<String>,
    backup: Option<VaultHeader>,
    /// Entry id → its stored copies. Boxed for the wasm's size (see `Opened::deleted`).
    slots: BTreeMap<String, Box<Slot>>,
    legacy: Vec<(String, Value)>,
    opened: Option<Opened>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("header_state", &self.header_state)
            .field("entries", &self.slots.len())
            .field("unlocked", &self.opened.is_some())
            .finish_non_exhaustive()
    }
}

/// The vault's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultState {
    /// No vault yet.
    None,
    /// A vault exists and is locked.
    Locked,
    /// Unlocked.
    Unlocked,
}

impl VaultState {
    /// The name the extension sees: `none`, `locked`, `unlocked`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Locked => "locked",
            Self::Unlocked => "unlocked",
        }
    }
}

fn issue(key: String, reason: String, record: Option<&PasskeyRecord>) -> EntryIssue {
    EntryIssue {
        key,
        reason,
        rp_id: record.map(|r| r.rp_id.clone()),
        user_name: record.map(|r| r.user_name.clone()),
    }
}

impl Vault {
    /// Reads the vault out of a `storage.local` snapshot. Never fails: problems are reported by
    /// [`Vault::header_state`] and, after unlocking, [`Vault::damaged`].
    /// A key repeated in the snapshot counts once, the last (as `JSON.parse` reads it).
    #[must_use]
    pub fn load(storage: &Object) -> Self {
        let mut slots: BTreeMap<String, Box<Slot>> = BTreeMap::new();
        let mut legacy = Vec::new();
        let mut main = None;
        let mut backup = None;
        for (key, value) in storage.iter() {
            if let Some(id) = key.strip_prefix(ENTRY_PREFIX) {
                slots.entry(id.to_owned()).or_default().current =
                    Some(EncryptedEntry::from_value(value, id));
            } else if let Some(id) = key.strip_prefix(PREV_PREFIX) {
                slots.entry(id.to_owned()).or_default().prev =
                    Some(EncryptedEntry::from_value(value, id));
            } else if key.starts_with(LEGACY_PREFIX) {
                legacy.push((key.clone(), value.clone()));
            } else if key == HEADER_KEY {
                main = Some(value);
            } else if key == HEADER_BACKUP_KEY {
                backup = Some(value);
            }
        }
        let main = main.map(VaultHeader::from_value);
        let backup = backup.and_then(|v| VaultHeader::from_value(v).ok());
        Self::from_parts(slots, legacy, main, backup)
    }

    /// The vault of an empty `storage.local` (state "none"): [`Vault::load`] of `{}`, without
    /// linking the snapshot walk into the caller (the wasm session's constructor; issue 6).
    #[must_use]
    pub fn empty() -> Self {
        Self::from_parts(BTreeMap::new(), Vec::new(), None, None)
    }

    /// [`Vault::load`] from the snapshot's JSON text (what the service worker hands over): the
    /// snapshot is only validated ([`json::parse_object_raw`]); each entry's small envelope is
    /// parsed from its own text, and no JSON tree of the whole storage is built.
    ///
    /// # Errors
    /// When the text is not a JSON object.
    pub fn load_json(storage_json: &str) -> Result<Self, JsonError> {
        let storage = json::parse_object_raw(storage_json)?;
        let mut slots: BTreeMap<String, Box<Slot>> = BTreeMap::new();
        let mut legacy = Vec::new();
        let mut main = None;
        let mut backup = None;
        for (key, raw) in storage {
            if let Some(id) = key.strip_prefix(ENTRY_PREFIX) {
                slots.entry(id.to_owned()).or_default().current =
                    Some(EncryptedEntry::from_json(raw, id));
            } else if let Some(id) = key.strip_prefix(PREV_PREFIX) {
                slots.entry(id.to_owned()).or_default().prev =
                    Some(EncryptedEntry::from_json(raw, id));
            } else if key.starts_with(LEGACY_PREFIX) {
                legacy.push((key, json::parse(raw)?));
            } else if key == HEADER_KEY {
                main = Some(raw);
            } else if key == HEADER_BACKUP_KEY {
                backup = Some(raw);
            }
        }
        let main = main.map(json::parse).transpose()?;
        let backup = backup.map(json::parse).transpose()?;
        let main = main.as_ref().map(VaultHeader::from_value);
        let backup = backup.and_then(|v| VaultHeader::from_value(&v).ok());
        Ok(Self::from_parts(slots, legacy, main, backup))
    }

    fn from_parts(
        slots: BTreeMap<String, Box<Slot>>,
        mut legacy: Vec<(String, Value)>,
        main: Option<Result<VaultHeader, VaultError>>,
        backup: Option<VaultHeader>,
    ) -> Self {
        // In key order, once per key (the last copy): migrations and reports come out alike
        // whichever way the snapshot was read.
        legacy.reverse();
        crate::sort::sort_by(&mut legacy, |a, b| a.0.cmp(&b.0)); // the shared sort (wasm size)
        legacy.dedup_by(|later, earlier| later.0 == earlier.0);
        let (header, header_state, header_problem) = match main {
            Some(Ok(h)) => (Some(h), HeaderState::Ok, None),
            Some(Err(VaultError::UnsupportedVersion(v))) => (
                None,
                HeaderState::Unsupported,
                Some(format!(
                    "the vault was written by a newer Latchkey (format {v})"
                )),
            ),
            Some(Err(e)) => match &backup {
                Some(b) => (Some(b.clone()), HeaderState::Damaged, Some(e.to_string())),
                None => (None, HeaderState::Missing, Some(e.to_string())),
            },
            None => match &backup {
                Some(b) => (
                    Some(b.clone()),
                    HeaderState::Damaged,
                    Some("the header is missing".to_owned()),
                ),
                None if slots.is_empty() => (None, HeaderState::Ok, None),
                None => (
                    None,
                    HeaderState::Missing,
                    Some("entries exist but the header is missing".to_owned()),
                ),
            },
        };
        Self {
            header,
            header_state,
            header_problem,
            backup,
            slots,
            legacy,
            opened: None,
        }
    }

    /// Locked, unlocked, or no vault at all.
    #[must_use]
    pub fn state(&self) -> VaultState {
        if self.opened.is_some() {
            VaultState::Unlocked
        } else if self.header.is_none()
            && self.header_state == HeaderState::Ok
            && self.slots.is_empty()
        {
            VaultState::None
        } else {
            VaultState::Locked
        }
    }

    /// The header's condition.
    #[must_use]
    pub fn header_state(&self) -> HeaderState {
        self.header_state
    }

    /// Why the header is not [`HeaderState::Ok`], if it is not.
    #[must_use]
    pub fn header_problem(&self) -> Option<&str> {
        self.header_problem.as_deref()
    }

    /// Entries that could not be used (known after unlocking).
    #[must_use]
    pub fn damaged(&self) -> &[EntryIssue] {
        self.opened.as_ref().map_or(&[], |o| &o.damaged)
    }

    /// Entries restored from their previous version at the last unlock.
    #[must_use]
    pub fn recovered(&self) -> &[EntryIssue] {
        self.opened.as_ref().map_or(&[], |o| &o.recovered)
    }

    /// Deleted passkeys still restorable.
    #[must_use]
    pub fn deleted(&self) -> Vec<&DeletedInfo> {
        self.opened
            .as_ref()
            .map(|o| o.deleted.values().map(AsRef::as_ref).collect())
            .unwrap_or_default()
    }

    /// Creates a new vault protected by `pin`, imports any plaintext `cred:` records, and leaves
    /// it unlocked. Returns the storage commit and the passkeys to serve.
    ///
    /// # Errors
    /// [`VaultError::VaultExists`] when storage already holds a vault (or parts of one);
    /// [`VaultError::WeakPin`]; random-source or KDF failures.
    pub fn create(
        &mut self,
        pin: &Pin,
        params: Argon2Params,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        if self.state() != VaultState::None || self.backup.is_some() {
            return Err(VaultError::VaultExists);
        }
        pin.check_strength()?;
        params.check()?;
        let key = VaultKey::generate(rng)?;
        let header = VaultHeader::new(&key, pin, params, now_ms, rng)?;
        self.opened = Some(Opened::new(key, header.vault_id.clone()));
        let mut commit = self.replace_header(header);
        self.header_state = HeaderState::Ok;
        let mut passkeys = Vec::new();
        commit.merge(self.migrate_legacy(&mut passkeys, rng)?);
        Ok((commit, passkeys))
    }

    /// Unlocks with a PIN (the backup header is tried when the main one fails).
    ///
    /// # Errors
    /// [`VaultError::NoVault`], [`VaultError::WrongPin`], [`VaultError::HeaderDamaged`].
    pub fn unlock_with_pin(
        &mut self,
        pin: &Pin,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let Some(header) = self.header.clone() else {
            return Err(self.no_header_error());
        };
        let mut commit = Commit::default();
        let key = match header.unlock_with_pin(pin) {
            Ok(key) => key,
            Err(e) => {
                let backup = self.backup.as_ref().filter(|b| **b != header).cloned();
                let Some(backup) = backup else {
                    return Err(e);
                };
                let key = backup.unlock_with_pin(pin).map_err(|_| e)?;
                commit
                    .set
                    .insert(HEADER_KEY.into(), Box::new(backup.to_json()));
                self.header = Some(backup);
                self.header_state = HeaderState::Recovered;
                self.header_problem = Some("the header did not open; the backup did".into());
                key
            }
        };
        self.unlock_opened(commit, key, now_ms, rng)
    }

    /// The end of every unlock, once `key` opened the header: a damaged header's backup (what
    /// `self.header` then holds) becomes the header again (in `commit`), and the entries open
    /// ([`Vault::open_with`]). One copy for every unlock method (wasm size, issue 6).
    #[inline(never)]
    fn unlock_opened(
        &mut self,
        mut commit: Commit,
        key: VaultKey,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        if let (HeaderState::Damaged, Some(header)) = (self.header_state, &self.header) {
            commit
                .set
                .insert(HEADER_KEY.into(), Box::new(header.to_json()));
            self.header_state = HeaderState::Recovered;
        }
        let (more, passkeys) = self.open_with(key, now_ms, rng)?;
        commit.merge(more);
        Ok((commit, passkeys))
    }

    /// Unlocks with the session form of the vault key (after a worker restart).
    ///
    /// # Errors
    /// [`VaultError::WrongPin`] (a key of another vault), [`VaultError::NoVault`],
    /// [`VaultError::HeaderDamaged`].
    pub fn unlock_with_session_key(
        &mut self,
        session_key: &str,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let Some(header) = &self.header else {
            return Err(self.no_header_error());
        };
        let key = VaultKey::from_session_string(session_key)?;
        if !header.key_matches(&key) {
            return Err(VaultError::WrongKey);
        }
        self.unlock_opened(Commit::default(), key, now_ms, rng)
    }

    fn no_header_error(&self) -> VaultError {
        match self.header_state {
            HeaderState::Ok if self.slots.is_empty() => VaultError::NoVault,
            _ => VaultError::HeaderDamaged(
                self.header_problem
                    .clone()
                    .unwrap_or_else(|| "no readable header".into()),
            ),
        }
    }

    /// The session form of the vault key (for `storage.session`), while unlocked.
    ///
    /// # Errors
    /// [`VaultError::Locked`].
    pub fn session_key(&self) -> Result<String, VaultError> {
        self.opened
            .as_ref()
            .map(|o| o.key.to_session_string())
            .ok_or(VaultError::Locked)
    }

    /// True when `session_key` is the session form of the key this unlocked vault uses.
    #[must_use]
    pub fn is_session_key(&self, session_key: &str) -> bool {
        match (&self.opened, VaultKey::from_session_string(session_key)) {
            (Some(o), Ok(k)) => o.key.same_as(&k),
            _ => false,
        }
    }

    /// Checks a PIN re-entered for user verification while unlocked.
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::WrongPin`].
    pub fn verify_pin(&self, pin: &Pin) -> Result<(), VaultError> {
        let opened = self.opened.as_ref().ok_or(VaultError::Locked)?;
        let header = self.header.as_ref().ok_or(VaultError::Locked)?;
        let key = header.unlock_with_pin(pin)?;
        if header.key_matches(&key) && key.same_as(&opened.key) {
            Ok(())
        } else {
            Err(VaultError::WrongPin)
        }
    }

    /// Adds (or replaces) the unlock method that wraps the vault key with an OS-held key
    /// (`kek`, released by the native host for `key_id`). The commit writes the header and its
    /// backup in one atomic set.
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::Invalid`] for a bad key id.
    pub fn add_os_unlock(
        &mut self,
        key_id: &str,
        kek: &Kek,
        rng: &mut impl Rng,
    ) -> Result<Commit, VaultError> {
        let (Some(opened), Some(header)) = (&self.opened, &self.header) else {
            return Err(VaultError::Locked);
        };
        let new_header = header.with_os_method(&opened.key, key_id, kek, rng)?;
        Ok(self.replace_header(new_header))
    }

    /// Removes the OS unlock method for `key_id` (the PIN always stays).
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::NotFound`].
    pub fn remove_os_unlock(&mut self, key_id: &str) -> Result<Commit, VaultError> {
        if self.opened.is_none() {
            return Err(VaultError::Locked);
        }
        let header = self.header.as_ref().ok_or(VaultError::Locked)?;
        if !header.os_key_ids().contains(&key_id) {
            return Err(VaultError::NotFound);
        }
        let new_header = header.without_os_method(key_id);
        Ok(self.replace_header(new_header))
    }

    fn replace_header(&mut self, header: VaultHeader) -> Commit {
        let mut commit = Commit::default();
        commit
            .set
            .insert(HEADER_KEY.into(), Box::new(header.to_json()));
        commit
            .set
            .insert(HEADER_BACKUP_KEY.into(), Box::new(header.to_json()));
        self.backup = Some(header.clone());
        self.header = Some(header);
        commit
    }

    /// The unlock methods: `"pin"` and `"os:<keyId>"` entries.
    #[must_use]
    pub fn unlock_methods(&self) -> Vec<String> {
        let Some(header) = &self.header else {
            return Vec::new();
        };
        let mut methods = Vec::new();
        if header.has_pin_method() {
            methods.push("pin".to_owned());
        }
        methods.extend(header.os_key_ids().into_iter().map(|id| format!("os:{id}")));
        methods
    }

    /// Unlocks with an OS-held key the native host released after an OS verification.
    ///
    /// # Errors
    /// [`VaultError::NotFound`] (no such method), [`VaultError::WrongKey`],
    /// [`VaultError::NoVault`], [`VaultError::HeaderDamaged`].
    pub fn unlock_with_os_key(
        &mut self,
        key_id: &str,
        kek: &Kek,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let Some(header) = &self.header else {
            return Err(self.no_header_error());
        };
        let key = header.unlock_with_os_key(key_id, kek)?;
        self.unlock_opened(Commit::default(), key, now_ms, rng)
    }

    /// Checks an OS-held key against the unlocked vault.
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::NotFound`], [`VaultError::WrongKey`].
    pub fn verify_os_key(&self, key_id: &str, kek: &Kek) -> Result<(), VaultError> {
        let opened = self.opened.as_ref().ok_or(VaultError::Locked)?;
        let header = self.header.as_ref().ok_or(VaultError::Locked)?;
        let key = header.unlock_with_os_key(key_id, kek)?;
        if key.same_as(&opened.key) {
            Ok(())
        } else {
            Err(VaultError::WrongKey)
        }
    }

    /// Re-wraps the vault key under a new PIN (entries are untouched). The commit writes
    /// `vault:header`; the caller copies it to `vault:header:backup` once that write resolved.
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::WrongPin`], [`VaultError::WeakPin`].
    pub fn change_pin(
        &mut self,
        old_pin: &Pin,
        new_pin: &Pin,
        params: Argon2Params,
        rng: &mut impl Rng,
    ) -> Result<Commit, VaultError> {
        self.verify_pin(old_pin)?;
        new_pin.check_strength()?;
        params.check()?;
        let (Some(opened), Some(header)) = (&self.opened, &self.header) else {
            return Err(VaultError::Locked);
        };
        let new_header = header.with_new_pin(&opened.key, new_pin, params, rng)?;
        let mut commit = Commit::default();
        commit
            .set
            .insert(HEADER_KEY.into(), Box::new(new_header.to_json()));
        self.header = Some(new_header);
        Ok(commit)
    }

    /// Locks: drops (and zeroizes) the key and everything decrypted.
    pub fn lock(&mut self) {
        self.opened = None;
    }

    /// Unlocks with `key` (already checked against the header): indexes the entries by their
    /// rpId lookup tag without decrypting them. Entries without a usable tag (written before tags
    /// existed, or whose envelope does not parse) are opened now, and tagged in the returned
    /// commit (the ciphertext is unchanged, so the old and the new envelope both open). With
    /// plaintext `cred:` records still to migrate, everything is opened first (a record already
    /// in the vault must be recognised).
    fn open_with(
        &mut self,
        key: VaultKey,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let Some(header) = &self.header else {
            return Err(self.no_header_error());
        };
        let mut opened = Opened::new(key, header.vault_id.clone());
        let mut commit = Commit::default();
        let mut passkeys = Vec::new();
        let mut rewritten = Vec::new();
        let eager = !self.legacy.is_empty();
        for (id, slot) in &self.slots {
            if let (false, Some(Ok(EncryptedEntry { rp: Some(_), .. }))) = (eager, &slot.current) {
                opened.unopened.insert(id.clone());
                continue;
            }
            if let Some(entry) = opened.open_slot(id, slot, now_ms, &mut commit, &mut passkeys) {
                rewritten.push((id.clone(), entry));
            }
        }
        self.set_current(rewritten);
        self.opened = Some(opened);
        commit.merge(self.migrate_legacy(&mut passkeys, rng)?);
        Ok((commit, passkeys))
    }

    fn set_current(&mut self, entries: Vec<(String, EncryptedEntry)>) {
        for (id, entry) in entries {
            self.slots.entry(id).or_default().current = Some(Ok(entry));
        }
    }

    /// Opens the not yet opened entries that may be passkeys for `rp_id` (those carrying its
    /// lookup tag), once, and returns the live ones among them. The rules of unlocking apply
    /// (kept previous versions, duplicates, damaged entries, trash purge); storage changes they
    /// call for ride in front of the next commit. A returned passkey may belong to another site
    /// when its tag was tampered with: callers index it by its own (decrypted) rpId, so it is
    /// never served for `rp_id`.
    ///
    /// # Errors
    /// [`VaultError::Locked`].
    pub fn open_rp(&mut self, rp_id: &str, now_ms: u64) -> Result<Vec<Passkey>, VaultError> {
        self.open_tagged(rp_id, &[], now_ms)
    }

    /// [`Vault::open_rp`] (`credential_ids` empty) or [`Vault::open_credentials`]: one scan of
    /// the envelopes (no index to keep); it runs only until the background verification has
    /// opened everything, a fraction of a second after the unlock.
    fn open_tagged(
        &mut self,
        rp_id: &str,
        credential_ids: &[Vec<u8>],
        now_ms: u64,
    ) -> Result<Vec<Passkey>, VaultError> {
        let opened = self.opened.as_mut().ok_or(VaultError::Locked)?;
        let named = !credential_ids.is_empty();
        if opened.unopened.is_empty()
            || (named
                && credential_ids
                    .iter()
                    .all(|c| opened.entry_of.contains_key(c)))
        {
            return Ok(Vec::new());
        }
        let tag = opened.tags.tag(rp_id);
        if opened.requested.contains(&tag) {
            return Ok(Vec::new());
        }
        let wanted: Vec<String> = credential_ids
            .iter()
            .map(|c| opened.creds.credential_tag(c))
            .collect();
        let mut commit = Commit::default();
        let mut passkeys = Vec::new();
        for (id, slot) in &self.slots {
            let Some(Ok(e)) = &slot.current else { continue };
            // Named credentials: their tags, or none (written before credential tags).
            let wanted_here = !named || e.cred.as_ref().is_none_or(|c| wanted.contains(c));
            if e.rp.as_deref() != Some(tag.as_str()) || !wanted_here || !opened.unopened.remove(id)
            {
                continue;
            }
            if let Some(entry) = opened.open_slot(id, slot, now_ms, &mut commit, &mut passkeys) {
                opened.pending_slots.push((id.clone(), entry));
            }
        }
        // Named: the rpId's other entries may still be closed.
        if !named {
            opened.requested.push(tag);
        }
        opened.pending.merge(commit);
        Ok(passkeys)
    }

    /// Opens the not yet opened entries that may hold one of `credential_ids` for `rp_id` (a get
    /// whose `allowCredentials` names them): those carrying `rp_id`'s lookup tag and either one of
    /// those credentials' lookup tags or none (written before credential tags). Returns the live
    /// passkeys among them, as [`Vault::open_rp`] does (same rules; the rpId's other entries stay
    /// for a request that needs them all or for the background verification). A tampered tag can
    /// only hide an entry until the verification reaches it or open another one (served only for
    /// its own decrypted rpId and credential id). With no ids, or more than
    /// [`MAX_NAMED_CREDENTIALS`], it is [`Vault::open_rp`].
    ///
    /// # Errors
    /// [`VaultError::Locked`].
    pub fn open_credentials(
        &mut self,
        rp_id: &str,
        credential_ids: &[Vec<u8>],
        now_ms: u64,
    ) -> Result<Vec<Passkey>, VaultError> {
        let ids = if credential_ids.len() > MAX_NAMED_CREDENTIALS {
            &[]
        } else {
            credential_ids
        };
        self.open_tagged(rp_id, ids, now_ms)
    }

    /// One slice of the background verification: opens up to `max_entries` entries not opened
    /// yet (in entry id order) under the rules of unlocking. Returns the storage changes (with any
    /// pending from lazy opening) and the live passkeys found. [`Vault::unverified`] says what is
    /// left.
    ///
    /// # Errors
    /// [`VaultError::Locked`].
    pub fn verify_step(
        &mut self,
        max_entries: usize,
        now_ms: u64,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let mut commit = self.take_pending()?;
        let (passkeys, rewritten) = self.open_unopened(max_entries, now_ms, &mut commit)?;
        self.set_current(rewritten);
        Ok((commit, passkeys))
    }

    /// Opens up to `max_entries` unopened entries; storage changes go to `commit`, and the
    /// envelopes that become current once it is stored are returned.
    fn open_unopened(
        &mut self,
        max_entries: usize,
        now_ms: u64,
        commit: &mut Commit,
    ) -> Result<(Vec<Passkey>, Rewritten), VaultError> {
        let opened = self.opened.as_mut().ok_or(VaultError::Locked)?;
        let mut passkeys = Vec::new();
        let mut rewritten = Vec::new();
        for _ in 0..max_entries {
            let Some(id) = opened.unopened.pop_first() else {
                break;
            };
            let Some(slot) = self.slots.get(&id) else {
                continue;
            };
            if let Some(entry) = opened.open_slot(&id, slot, now_ms, commit, &mut passkeys) {
                rewritten.push((id, entry));
            }
        }
        Ok((passkeys, rewritten))
    }

    /// Finishes the verification at once (before listing or changing passkeys by credential id):
    /// returns the live passkeys not opened before; the storage changes wait, like those of
    /// [`Vault::open_rp`], for the next commit (and the slots change only when it is handed out:
    /// until it is stored, storage still holds what the slots say).
    ///
    /// # Errors
    /// [`VaultError::Locked`].
    pub fn finish_verification(&mut self, now_ms: u64) -> Result<Vec<Passkey>, VaultError> {
        if self.unverified() == 0 {
            return Ok(Vec::new());
        }
        let mut commit = Commit::default();
        let (passkeys, rewritten) = self.open_unopened(usize::MAX, now_ms, &mut commit)?;
        let opened = self.opened.as_mut().ok_or(VaultError::Locked)?;
        opened.pending.merge(commit);
        opened.pending_slots.extend(rewritten);
        Ok(passkeys)
    }

    /// Entries not opened yet (0 when locked or fully verified).
    #[must_use]
    pub fn unverified(&self) -> usize {
        self.opened.as_ref().map_or(0, |o| o.unopened.len())
    }

    /// Hands out the storage changes lazy opening found (see [`Vault::open_rp`]).
    ///
    /// # Errors
    /// [`VaultError::Locked`].
    pub fn take_pending(&mut self) -> Result<Commit, VaultError> {
        let opened = self.opened.as_mut().ok_or(VaultError::Locked)?;
        let commit = std::mem::take(&mut opened.pending);
        let slots = std::mem::take(&mut opened.pending_slots);
        self.set_current(slots);
        Ok(commit)
    }

    /// Imports plaintext `cred:` records (issue 2's format) into the unlocked vault and removes
    /// them after the encrypted copies are written. Records already in the vault are just removed.
    fn migrate_legacy(
        &mut self,
        passkeys: &mut Vec<Passkey>,
        rng: &mut impl Rng,
    ) -> Result<Commit, VaultError> {
        let mut commit = Commit::default();
        let legacy = std::mem::take(&mut self.legacy);
        let mut writes = Vec::new();
        let mut migrated = Vec::new();
        for (key, value) in legacy {
            let record = PasskeyRecord::from_json(value.clone())
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    Passkey::from_record(r.clone())
                        .map(|p| (r, p))
                        .map_err(|e| e.to_string())
                });
            match record {
                Ok((record, passkey)) => {
                    let known = self
                        .opened
                        .as_ref()
                        .is_some_and(|o| o.entry_of.contains_key(&passkey.credential_id));
                    if !known {
                        writes.push(StoreWrite::Put(Box::new(record)));
                        passkeys.push(passkey);
                    }
                    migrated.push(key);
                }
                Err(reason) => {
                    if let Some(o) = self.opened.as_mut() {
                        o.damaged.push(issue(
                            key.clone(),
                            format!("old plaintext record: {reason}"),
                            None,
                        ));
                    }
                    self.legacy.push((key, value));
                }
            }
        }
        commit.merge(self.commit_writes(writes, 0, rng)?);
        commit.remove.extend(migrated);
        Ok(commit)
    }

    /// Turns the core's journal into encrypted storage writes. A put of a known credential
    /// rewrites its entry and keeps the previous version under `vault:p:` in the same write;
    /// a delete is a soft delete (the entry is rewritten with `deletedAt`).
    ///
    /// # Errors
    /// [`VaultError::Locked`]; random-source failures (then nothing in memory changed).
    pub fn commit_writes(
        &mut self,
        writes: Vec<StoreWrite>,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<Commit, VaultError> {
        let opened = self.opened.as_ref().ok_or(VaultError::Locked)?;
        // Seal everything first, then change state: a failure leaves memory as it was.
        let mut planned: Vec<(String, Vec<u8>, EncryptedEntry, Option<DeletedInfo>)> = Vec::new();
        for write in writes {
            match write {
                StoreWrite::Put(record) => {
                    let cred = b64url::decode(&record.credential_id)
                        .map_err(|_| VaultError::Invalid("credential id".into()))?;
                    let id = match opened.entry_of.get(&cred) {
                        Some(id) => String::clone(id),
                        None => match planned.iter().find(|p| p.1 == cred) {
                            Some(p) => p.0.clone(),
                            None => random_id(rng)?,
                        },
                    };
                    let payload = EntryPayload::passkey(*record, None);
                    let mut entry =
                        EncryptedEntry::seal(&opened.key, &opened.vault_id, &id, &payload, rng)?;
                    entry.rp = Some(opened.tags.tag(&payload.record.rp_id));
                    entry.cred = Some(opened.creds.credential_tag(&cred));
                    planned.push((id, cred, entry, None));
                }
                StoreWrite::Delete(cred) => {
                    let Some(id) = opened.entry_of.get(&cred).map(|id| String::clone(id)) else {
                        continue;
                    };
                    let Some(current) = opened.sealed.get(&id) else {
                        continue;
                    };
                    let mut payload = current.open(&opened.key, &opened.vault_id)?;
                    payload.deleted_at = Some(now_ms);
                    let info = DeletedInfo::of(&payload.record, now_ms);
                    let mut entry =
                        EncryptedEntry::seal(&opened.key, &opened.vault_id, &id, &payload, rng)?;
                    entry.rp = Some(opened.tags.tag(&payload.record.rp_id));
                    entry.cred = Some(opened.creds.credential_tag(&cred));
                    planned.push((id, cred, entry, Some(info)));
                }
            }
        }
        // Changes lazy opening found go first: this commit's own writes come after them.
        let mut commit = self.take_pending()?;
        let opened = self.opened.as_mut().ok_or(VaultError::Locked)?;
        let mut written: Vec<String> = Vec::new();
        for (id, cred, entry, deleted) in planned {
            let entry_key = key_of(ENTRY_PREFIX, &id);
            let prev_key = key_of(PREV_PREFIX, &id);
            if let Some(old) = opened.sealed.get(&id) {
                // The previous version rides in the same atomic write; it is dropped once confirmed.
                if !written.contains(&entry_key) {
                    commit.set.insert(prev_key.clone(), Box::new(old.to_json()));
                    commit.cleanup.push(prev_key);
                }
            }
            commit
                .set
                .insert(entry_key.clone(), Box::new(entry.to_json()));
            written.push(entry_key);
            match deleted {
                Some(info) => {
                    opened.deleted.insert(id.clone(), Box::new(info));
                }
                None => {
                    opened.deleted.remove(&id);
                }
            }
            let slot = self.slots.entry(id.clone()).or_default();
            slot.current = Some(Ok(entry.clone()));
            opened.entry_of.insert(cred, Box::new(id.clone()));
            opened.sealed.insert(id, Box::new(entry));
        }
        // A prev that is set and later cleaned up in this same commit must not be both.
        commit.cleanup.dedup();
        Ok(commit)
    }

    /// Restores a deleted passkey. Returns the commit and the passkey to serve again.
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::NotFound`] (unknown or not deleted).
    pub fn restore(
        &mut self,
        credential_id: &[u8],
        rng: &mut impl Rng,
    ) -> Result<(Commit, Passkey), VaultError> {
        let opened = self.opened.as_ref().ok_or(VaultError::Locked)?;
        let id = opened
            .entry_of
            .get(credential_id)
            .map(|id| id.as_str())
            .filter(|id| opened.deleted.contains_key(*id))
            .ok_or(VaultError::NotFound)?;
        let current = opened.sealed.get(id).ok_or(VaultError::NotFound)?;
        let payload = current.open(&opened.key, &opened.vault_id)?;
        let passkey = Passkey::from_record(payload.record.clone())
            .map_err(|e| VaultError::Tampered(e.to_string()))?;
        let commit = self.commit_writes(vec![StoreWrite::Put(Box::new(payload.record))], 0, rng)?;
        Ok((commit, passkey))
    }

    /// Deletes a passkey that is already in "Recently deleted" for good.
    ///
    /// # Errors
    /// [`VaultError::Locked`], [`VaultError::NotFound`] (unknown or not deleted).
    pub fn purge(&mut self, credential_id: &[u8]) -> Result<Commit, VaultError> {
        let opened = self.opened.as_ref().ok_or(VaultError::Locked)?;
        let id = opened
            .entry_of
            .get(credential_id)
            .map(|id| id.as_str())
            .filter(|id| opened.deleted.contains_key(*id))
            .map(str::to_owned)
            .ok_or(VaultError::NotFound)?;
        let mut commit = self.take_pending()?;
        let opened = self.opened.as_mut().ok_or(VaultError::Locked)?;
        opened.deleted.remove(&id);
        opened.sealed.remove(&id);
        opened.entry_of.remove(credential_id);
        self.slots.remove(&id);
        commit
            .remove
            .extend([key_of(ENTRY_PREFIX, &id), key_of(PREV_PREFIX, &id)]);
        Ok(commit)
    }

    /// The header as it should be in `vault:header:backup` once the last header write resolved.
    #[must_use]
    pub fn header_value(&self) -> Option<Value> {
        self.header.as_ref().map(VaultHeader::to_json)
    }
}

impl Opened {
    fn new(key: VaultKey, vault_id: String) -> Self {
        Self {
            tags: key.rp_tag_key(&vault_id),
            creds: key.credential_tag_key(&vault_id),
            key,
            vault_id,
            unopened: KeySet::new(),
            requested: Vec::new(),
            pending: Commit::default(),
            pending_slots: Vec::new(),
            entry_of: BTreeMap::new(),
            sealed: BTreeMap::new(),
            deleted: BTreeMap::new(),
            damaged: Vec::new(),
            recovered: Vec::new(),
        }
    }

    /// Opens entry `id` and takes it in: the per-entry rules of unlocking, the same for eager,
    /// lazy and background opening. The current copy is used, else the kept previous version
    /// (which then becomes current); an entry that opens neither way, or that repeats a credential
    /// id already taken in, is reported and left in storage; a deleted passkey past its retention
    /// is purged. A taken-in entry whose lookup tag is missing or wrong gets the right one.
    /// Storage changes go to `commit`; the envelope that becomes current, if it changed, is
    /// returned for the slot.
    fn open_slot(
        &mut self,
        id: &str,
        slot: &Slot,
        now_ms: u64,
        commit: &mut Commit,
        passkeys: &mut Vec<Passkey>,
    ) -> Option<EncryptedEntry> {
        let entry_key = key_of(ENTRY_PREFIX, id);
        let prev_key = key_of(PREV_PREFIX, id);
        let read = |copy: &Option<Stored>| -> Result<(EncryptedEntry, EntryPayload), VaultError> {
            let entry = match copy {
                None => return Err(VaultError::Tampered("missing".into())),
                Some(Err(e)) => return Err(e.clone()),
                Some(Ok(entry)) => entry,
            };
            let payload = entry.open(&self.key, &self.vault_id)?;
            Ok((entry.clone(), payload))
        };
        // The kept previous version is cleaned up only once the current one is accepted
        // below: an entry that authenticates but is refused must not lose its last good copy.
        let mut cleanup_prev = None;
        let mut changed = false;
        let (mut entry, payload) = match read(&slot.current) {
            Ok(ok) => {
                if slot.prev.is_some() {
                    cleanup_prev = Some(prev_key);
                }
                ok
            }
            Err(current_err) => match read(&slot.prev) {
                Ok((entry, payload)) => {
                    changed = true;
                    commit.cleanup.push(prev_key);
                    self.recovered.push(issue(
                        entry_key.clone(),
                        format!(
                            "{}; restored from the kept previous version",
                            if slot.current.is_some() {
                                current_err.to_string()
                            } else {
                                "the entry was missing".to_owned()
                            }
                        ),
                        Some(&payload.record),
                    ));
                    (entry, payload)
                }
                Err(_) => {
                    let key = if slot.current.is_some() {
                        entry_key
                    } else {
                        prev_key
                    };
                    self.damaged.push(issue(key, current_err.to_string(), None));
                    return None;
                }
            },
        };
        if let Some(deleted_at) = payload.deleted_at {
            if now_ms.saturating_sub(deleted_at) > TRASH_RETENTION_MS {
                commit.remove.extend([entry_key, key_of(PREV_PREFIX, id)]);
                return None;
            }
        }
        let Ok(cred) = b64url::decode(&payload.record.credential_id) else {
            self.damaged.push(issue(
                entry_key,
                "the credential id is not base64url".into(),
                Some(&payload.record),
            ));
            return None;
        };
        if self.entry_of.contains_key(&cred) {
            self.damaged.push(issue(
                entry_key,
                "a second entry for a credential id already loaded (left in storage)".into(),
                Some(&payload.record),
            ));
            return None;
        }
        let tag = self.tags.tag(&payload.record.rp_id);
        match payload.deleted_at {
            Some(at) => {
                self.deleted.insert(
                    id.to_owned(),
                    Box::new(DeletedInfo::of(&payload.record, at)),
                );
            }
            None => {
                let record_for_issue = payload.record.clone();
                match Passkey::from_vault_record(payload.record) {
                    Ok(p) => passkeys.push(p),
                    Err(e) => {
                        self.damaged
                            .push(issue(entry_key, e.to_string(), Some(&record_for_issue)));
                        return None;
                    }
                }
            }
        }
        if entry.rp.as_deref() != Some(tag.as_str()) {
            if entry.rp.is_some() {
                // Only storage access can change a tag: it hid the entry from its own site.
                self.recovered.push(EntryIssue {
                    key: entry_key.clone(),
                    reason: "its site lookup tag was wrong; corrected".into(),
                    rp_id: None,
                    user_name: None,
                });
            }
            entry.rp = Some(tag);
            changed = true;
        }
        let cred_tag = self.creds.credential_tag(&cred);
        if entry.cred.as_deref() != Some(cred_tag.as_str()) {
            if entry.cred.is_some() {
                // As for `rp`: it hid the entry from gets that name its credential.
                self.recovered.push(EntryIssue {
                    key: entry_key.clone(),
                    reason: "its credential lookup tag was wrong; corrected".into(),
                    rp_id: None,
                    user_name: None,
                });
            }
            entry.cred = Some(cred_tag);
            changed = true;
        }
        if changed {
            commit.set.insert(entry_key, Box::new(entry.to_json()));
        }
        self.entry_of.insert(cred, Box::new(id.to_owned()));
        self.sealed.insert(id.to_owned(), Box::new(entry.clone()));
        commit.cleanup.extend(cleanup_prev);
        changed.then_some(entry)
    }
}

/// The storage key of entry `id` under `prefix` ([`ENTRY_PREFIX`] or [`PREV_PREFIX`]): one
/// concatenation rather than a `format!` at each use (wasm size, issue 6).
#[inline(never)]
fn key_of(prefix: &str, id: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + id.len());
    key.push_str(prefix);
    key.push_str(id);
    key
}

#[cfg(test)]
mod tests;
