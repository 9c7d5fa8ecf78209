#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::PrivateKey;
use crate::rng::TestRng;
// Tests build and inspect storage snapshots with serde_json (an independent JSON implementation);
// the vault reads and writes `crate::json`. These convert through the JSON text.
use serde_json::{Map, Value};

/// A serde value as the vault's JSON value.
fn core(v: &Value) -> json::Value {
    json::parse(&v.to_string()).unwrap()
}

/// A vault JSON value as a serde value.
fn sj(v: &json::Value) -> Value {
    serde_json::from_str(&v.to_json_string()).unwrap()
}

/// [`Vault::load`] of a serde snapshot.
fn load(storage: &Map<String, Value>) -> Vault {
    let json::Value::Object(o) = core(&Value::Object(storage.clone())) else {
        panic!("an object");
    };
    Vault::load(&o)
}

/// Fast parameters for tests (the default-parameter path has its own test).
const FAST: Argon2Params = Argon2Params {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};
const NOW: u64 = 1_700_000_000_000;

/// Unlocking followed by the whole background verification: what the tests written for the eager
/// unlock expect to see (every entry opened, every problem reported, one commit).
trait UnlockAll {
    fn finish(
        &mut self,
        r: Result<(Commit, Vec<Passkey>), VaultError>,
        now: u64,
    ) -> Result<(Commit, Vec<Passkey>), VaultError>;
    fn unlock_all_pin(
        &mut self,
        pin: &Pin,
        now: u64,
        rng: &mut TestRng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError>;
    fn unlock_all_session(
        &mut self,
        key: &str,
        now: u64,
        rng: &mut TestRng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError>;
    fn unlock_all_os(
        &mut self,
        key_id: &str,
        kek: &Kek,
        now: u64,
        rng: &mut TestRng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError>;
}

impl UnlockAll for Vault {
    fn finish(
        &mut self,
        r: Result<(Commit, Vec<Passkey>), VaultError>,
        now: u64,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let (mut commit, mut passkeys) = r?;
        let (more, found) = self.verify_step(usize::MAX, now)?;
        commit.merge(more);
        passkeys.extend(found);
        assert_eq!(self.unverified(), 0);
        Ok((commit, passkeys))
    }
    fn unlock_all_pin(
        &mut self,
        pin: &Pin,
        now: u64,
        rng: &mut TestRng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let r = self.unlock_with_pin(pin, now, rng);
        self.finish(r, now)
    }
    fn unlock_all_session(
        &mut self,
        key: &str,
        now: u64,
        rng: &mut TestRng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let r = self.unlock_with_session_key(key, now, rng);
        self.finish(r, now)
    }
    fn unlock_all_os(
        &mut self,
        key_id: &str,
        kek: &Kek,
        now: u64,
        rng: &mut TestRng,
    ) -> Result<(Commit, Vec<Passkey>), VaultError> {
        let r = self.unlock_with_os_key(key_id, kek, now, rng);
        self.finish(r, now)
    }
}

fn pin(s: &str) -> Pin {
    Pin::new(s.to_owned())
}

fn passkey(rng: &mut TestRng, n: u8, rp_id: &str, user: &str) -> Passkey {
    Passkey {
        credential_id: vec![n; 16],
        rp_id: rp_id.into(),
        rp_name: "RP".into(),
        user_handle: vec![n],
        user_name: user.into(),
        user_display_name: user.to_uppercase(),
        label: None,
        private_key: PrivateKey::from_random_bytes(rng).unwrap(),
        alg: -7,
        created_ms: NOW,
        last_used_ms: None,
        sign_count: 0,
    }
}

/// Applies a commit to a storage snapshot the way the service worker does.
fn apply(storage: &mut Map<String, Value>, commit: &Commit) {
    for (k, v) in &commit.set {
        storage.insert(k.clone(), sj(v));
    }
    for k in commit.remove.iter().chain(&commit.cleanup) {
        storage.remove(k);
    }
}

/// A storage snapshot with a vault (PIN "1234") holding `alice@a.example` and `bob@b.example`.
fn two_passkey_storage(rng: &mut TestRng) -> Map<String, Value> {
    let mut storage = Map::new();
    let mut vault = load(&storage);
    let (commit, none) = vault.create(&pin("1234"), FAST, NOW, rng).unwrap();
    assert!(none.is_empty());
    apply(&mut storage, &commit);
    let a = passkey(rng, 1, "a.example", "alice");
    let b = passkey(rng, 2, "b.example", "bob");
    let commit = vault
        .commit_writes(vec![StoreWrite::put(&a), StoreWrite::put(&b)], NOW, rng)
        .unwrap();
    apply(&mut storage, &commit);
    storage
}

fn names(passkeys: &[Passkey]) -> Vec<String> {
    let mut v: Vec<String> = passkeys.iter().map(|p| p.user_name.clone()).collect();
    v.sort();
    v
}

fn entry_keys(storage: &Map<String, Value>) -> Vec<String> {
    storage
        .keys()
        .filter(|k| k.starts_with(ENTRY_PREFIX))
        .cloned()
        .collect()
}

#[test]
fn create_lock_unlock_round_trip_through_storage() {
    let mut rng = TestRng::new(1);
    let storage = two_passkey_storage(&mut rng);
    assert!(storage.contains_key(HEADER_KEY));
    assert_eq!(storage[HEADER_KEY], storage[HEADER_BACKUP_KEY]);
    assert_eq!(entry_keys(&storage).len(), 2);

    let mut vault = load(&storage);
    assert_eq!(vault.state(), VaultState::Locked);
    assert_eq!(vault.header_state(), HeaderState::Ok);
    assert_eq!(
        vault
            .unlock_all_pin(&pin("4321"), NOW, &mut rng)
            .unwrap_err(),
        VaultError::WrongPin
    );
    let (commit, passkeys) = vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(
        commit,
        Commit::default(),
        "a clean vault needs no writes to open"
    );
    assert_eq!(names(&passkeys), ["alice", "bob"]);
    assert_eq!(vault.state(), VaultState::Unlocked);
    assert!(vault.damaged().is_empty());

    // The session key reopens it without the PIN; another key does not.
    let session = vault.session_key().unwrap();
    vault.lock();
    assert_eq!(vault.state(), VaultState::Locked);
    assert_eq!(vault.session_key().unwrap_err(), VaultError::Locked);
    let (_, again) = vault.unlock_all_session(&session, NOW, &mut rng).unwrap();
    assert_eq!(names(&again), ["alice", "bob"]);
    vault.lock();
    let other = VaultKey::generate(&mut rng).unwrap().to_session_string();
    assert_eq!(
        vault
            .unlock_all_session(&other, NOW, &mut rng)
            .unwrap_err()
            .name(),
        "WrongPin"
    );
}

#[test]
fn nothing_secret_or_identifying_is_written_in_plaintext() {
    let mut rng = TestRng::new(2);
    let storage = two_passkey_storage(&mut rng);
    let text = serde_json::to_string(&storage).unwrap();
    for needle in [
        "alice",
        "a.example",
        "privateKey",
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg",
        "credentialId",
    ] {
        assert!(!text.contains(needle), "{needle} leaked into storage");
    }
    let (_, all) = load(&storage)
        .unlock_all_pin(&pin("1234"), NOW, &mut rng)
        .unwrap();
    for p in &all {
        let id = b64url::encode(&p.credential_id);
        assert!(!text.contains(&id), "a credential id leaked into storage");
    }
    let mut tags = Vec::new();
    for key in entry_keys(&storage) {
        let obj = storage[&key].as_object().unwrap();
        let mut members: Vec<&str> = obj.keys().map(String::as_str).collect();
        members.sort_unstable();
        assert_eq!(members, ["cred", "ct", "id", "nonce", "rp", "v"]);
        // The lookup tags are keyed hashes: 16 bytes, nothing of the rpId or credential id readable.
        let tag = obj["rp"].as_str().unwrap();
        assert_eq!(b64url::decode(tag).unwrap().len(), 16);
        let cred = obj["cred"].as_str().unwrap();
        assert_eq!(b64url::decode(cred).unwrap().len(), 16);
        tags.push(tag.to_owned());
        tags.push(cred.to_owned());
    }
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), 4, "two sites, two credentials, four tags");
}

#[test]
fn one_damaged_entry_is_reported_and_skipped() {
    let mut rng = TestRng::new(3);
    let mut storage = two_passkey_storage(&mut rng);
    let victim = entry_keys(&storage)[0].clone();
    let ct = storage[&victim]["ct"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') { "B" } else { "A" }.to_owned() + &ct[1..];
    storage[&victim]["ct"] = Value::String(flipped);
    let before = storage.clone();

    let mut vault = load(&storage);
    let (commit, passkeys) = vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(passkeys.len(), 1, "the other passkey still loads");
    assert_eq!(vault.damaged().len(), 1);
    assert_eq!(vault.damaged()[0].key, victim);
    assert!(
        vault.damaged()[0].reason.contains("tampered"),
        "{:?}",
        vault.damaged()
    );
    // The damaged entry is left exactly as it was.
    apply(&mut storage, &commit);
    assert_eq!(storage, before);
}

#[test]
fn truncated_swapped_and_future_entries_are_damaged_not_fatal() {
    let mut rng = TestRng::new(4);
    let mut storage = two_passkey_storage(&mut rng);
    let keys = entry_keys(&storage);
    let (k0, k1) = (keys[0].clone(), keys[1].clone());
    // Truncated ciphertext.
    let ct = storage[&k0]["ct"].as_str().unwrap().to_owned();
    storage[&k0]["ct"] = Value::String(ct[..ct.len() / 2].to_owned());
    // An entry copied under another id (AAD binds the id).
    let mut moved = storage[&k1].clone();
    moved["id"] = Value::String("AAAAAAAAAAAAAAAAAAAAAA".into());
    storage.insert(format!("{ENTRY_PREFIX}AAAAAAAAAAAAAAAAAAAAAA"), moved);
    // A future entry version and a non-object.
    storage.insert(
        format!("{ENTRY_PREFIX}future"),
        serde_json::json!({"v": 2, "id": "future"}),
    );
    storage.insert(format!("{ENTRY_PREFIX}junk"), Value::String("junk".into()));

    let mut vault = load(&storage);
    let (_, passkeys) = vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(names(&passkeys).len(), 1);
    let damaged: Vec<&str> = vault.damaged().iter().map(|d| d.key.as_str()).collect();
    assert_eq!(damaged.len(), 4, "{damaged:?}");
    assert!(vault
        .damaged()
        .iter()
        .any(|d| d.reason.contains("unsupported vault format version 2")));
}

#[test]
fn a_damaged_entry_is_restored_from_its_kept_previous_version() {
    let mut rng = TestRng::new(5);
    let mut storage = Map::new();
    let mut vault = load(&storage);
    apply(
        &mut storage,
        &vault.create(&pin("1234"), FAST, NOW, &mut rng).unwrap().0,
    );
    let mut a = passkey(&mut rng, 1, "a.example", "alice");
    apply(
        &mut storage,
        &vault
            .commit_writes(vec![StoreWrite::put(&a)], NOW, &mut rng)
            .unwrap(),
    );
    // Rename: the write carries the old version under vault:p: in the same set.
    a.label = Some("work".into());
    let commit = vault
        .commit_writes(vec![StoreWrite::put(&a)], NOW, &mut rng)
        .unwrap();
    let entry = entry_keys(&storage)[0].clone();
    let prev = entry.replace(ENTRY_PREFIX, PREV_PREFIX);
    assert!(commit.set.contains_key(&prev) && commit.set.contains_key(&entry));
    assert_eq!(commit.cleanup, vec![prev.clone()]);

    // A crash after the set but before the clean-up, and the new version got damaged.
    for (k, v) in &commit.set {
        storage.insert(k.clone(), sj(v));
    }
    storage[&entry]["nonce"] = Value::String("AAAAAAAAAAAAAAAA".into());
    let mut reopened = load(&storage);
    let (commit, passkeys) = reopened
        .unlock_all_pin(&pin("1234"), NOW, &mut rng)
        .unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].label, None, "the previous version is back");
    assert!(reopened.damaged().is_empty());
    assert_eq!(reopened.recovered().len(), 1);
    assert_eq!(reopened.recovered()[0].user_name.as_deref(), Some("alice"));
    assert_eq!(sj(&commit.set[&entry]), storage[&prev]);
    apply(&mut storage, &commit);
    assert!(!storage.contains_key(&prev));

    // With an intact new version the kept copy is simply cleaned up.
    let mut storage2 = Map::new();
    let mut v2 = load(&storage2);
    apply(
        &mut storage2,
        &v2.create(&pin("1234"), FAST, NOW, &mut rng).unwrap().0,
    );
    apply(
        &mut storage2,
        &v2.commit_writes(vec![StoreWrite::put(&a)], NOW, &mut rng)
            .unwrap(),
    );
    let c = v2
        .commit_writes(vec![StoreWrite::put(&a)], NOW, &mut rng)
        .unwrap();
    for (k, v) in &c.set {
        storage2.insert(k.clone(), sj(v));
    }
    let mut v3 = load(&storage2);
    let (commit, passkeys) = v3.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(passkeys[0].label.as_deref(), Some("work"));
    assert_eq!(commit.cleanup.len(), 1);
    assert!(commit.set.is_empty());
}

/// A vault without a usable header: unlock says why (HeaderDamaged) and no new vault may replace it.
fn assert_unopenable_and_kept(vault: &mut Vault, rng: &mut TestRng) {
    let err = vault.unlock_all_pin(&pin("1234"), NOW, rng).unwrap_err();
    assert_eq!(err.name(), "HeaderDamaged", "{err:?}");
    assert_eq!(
        vault.create(&pin("5678"), FAST, NOW, rng).unwrap_err(),
        VaultError::VaultExists
    );
}

#[test]
fn a_damaged_header_is_recovered_from_the_backup() {
    let mut rng = TestRng::new(6);
    let mut storage = two_passkey_storage(&mut rng);
    storage.insert(
        HEADER_KEY.into(),
        serde_json::json!({"format": "latchkey-vault", "v": 1}),
    );
    let mut vault = load(&storage);
    assert_eq!(vault.header_state(), HeaderState::Damaged);
    assert_eq!(vault.state(), VaultState::Locked);
    let (commit, passkeys) = vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(passkeys.len(), 2);
    assert_eq!(vault.header_state(), HeaderState::Recovered);
    assert_eq!(sj(&commit.set[HEADER_KEY]), storage[HEADER_BACKUP_KEY]);

    // A header whose wrapped key was altered: the PIN fails on it and the backup opens.
    let mut storage = two_passkey_storage(&mut rng);
    let wrapped = storage[HEADER_KEY]["unlock"][0]["wrappedKey"]["ct"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if wrapped.ends_with('A') { "B" } else { "A" };
    storage[HEADER_KEY]["unlock"][0]["wrappedKey"]["ct"] =
        Value::String(wrapped[..wrapped.len() - 1].to_owned() + flipped);
    let mut vault = load(&storage);
    assert_eq!(vault.header_state(), HeaderState::Ok);
    let (commit, _) = vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(vault.header_state(), HeaderState::Recovered);
    assert_eq!(sj(&commit.set[HEADER_KEY]), storage[HEADER_BACKUP_KEY]);

    // No header, no backup, but entries: nothing is touched, unlock says why, create refuses.
    let mut storage = two_passkey_storage(&mut rng);
    storage.remove(HEADER_KEY);
    storage.remove(HEADER_BACKUP_KEY);
    let mut vault = load(&storage);
    assert_eq!(vault.header_state(), HeaderState::Missing);
    assert_eq!(vault.state(), VaultState::Locked);
    assert_unopenable_and_kept(&mut vault, &mut rng);
}

#[test]
fn a_newer_format_is_left_alone() {
    let mut rng = TestRng::new(7);
    let mut storage = two_passkey_storage(&mut rng);
    storage[HEADER_KEY]["v"] = Value::from(2);
    let mut vault = load(&storage);
    assert_eq!(vault.header_state(), HeaderState::Unsupported);
    assert!(vault.header_problem().unwrap().contains("newer"));
    assert_unopenable_and_kept(&mut vault, &mut rng);
    assert!(
        VaultHeader::from_value(&core(&serde_json::json!({"format": "other", "v": 1}))).is_err()
    );
}

#[test]
fn change_pin_rewraps_only_the_key() {
    let mut rng = TestRng::new(8);
    let mut storage = two_passkey_storage(&mut rng);
    let mut vault = load(&storage);
    vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(
        vault
            .change_pin(&pin("0000"), &pin("5678"), FAST, &mut rng)
            .unwrap_err(),
        VaultError::WrongPin
    );
    assert!(matches!(
        vault.change_pin(&pin("1234"), &pin("56"), FAST, &mut rng),
        Err(VaultError::WeakPin(_))
    ));
    let commit = vault
        .change_pin(&pin("1234"), &pin("5678"), FAST, &mut rng)
        .unwrap();
    assert_eq!(commit.set.keys().collect::<Vec<_>>(), [HEADER_KEY]);
    let entries_before: Vec<Value> = entry_keys(&storage)
        .iter()
        .map(|k| storage[k].clone())
        .collect();
    apply(&mut storage, &commit);
    assert!(vault.verify_pin(&pin("5678")).is_ok());
    assert_eq!(
        vault.verify_pin(&pin("1234")).unwrap_err(),
        VaultError::WrongPin
    );

    let mut reopened = load(&storage);
    // The backup still holds the old PIN's header until the caller confirms the new one, so the
    // old PIN opens through it (and restores the old header): the crash window is safe both ways.
    assert!(reopened.unlock_all_pin(&pin("5678"), NOW, &mut rng).is_ok());
    storage.insert(HEADER_BACKUP_KEY.into(), sj(&vault.header_value().unwrap()));
    let mut reopened = load(&storage);
    assert_eq!(
        reopened
            .unlock_all_pin(&pin("1234"), NOW, &mut rng)
            .unwrap_err(),
        VaultError::WrongPin
    );
    let (_, passkeys) = reopened
        .unlock_all_pin(&pin("5678"), NOW, &mut rng)
        .unwrap();
    assert_eq!(passkeys.len(), 2);
    let entries_after: Vec<Value> = entry_keys(&storage)
        .iter()
        .map(|k| storage[k].clone())
        .collect();
    assert_eq!(entries_before, entries_after);
}

#[test]
fn delete_is_soft_then_restore_or_purge() {
    let mut rng = TestRng::new(9);
    let mut storage = Map::new();
    let mut vault = load(&storage);
    apply(
        &mut storage,
        &vault.create(&pin("1234"), FAST, NOW, &mut rng).unwrap().0,
    );
    let a = passkey(&mut rng, 1, "a.example", "alice");
    let b = passkey(&mut rng, 2, "a.example", "bob");
    apply(
        &mut storage,
        &vault
            .commit_writes(
                vec![StoreWrite::put(&a), StoreWrite::put(&b)],
                NOW,
                &mut rng,
            )
            .unwrap(),
    );
    let commit = vault
        .commit_writes(
            vec![StoreWrite::delete(&a.credential_id)],
            NOW + 5,
            &mut rng,
        )
        .unwrap();
    assert!(
        commit.set.keys().any(|k| k.starts_with(PREV_PREFIX)),
        "kept until confirmed"
    );
    apply(&mut storage, &commit);
    assert_eq!(entry_keys(&storage).len(), 2, "a delete keeps the entry");
    assert_eq!(vault.deleted().len(), 1);
    assert_eq!(vault.deleted()[0].deleted_at, NOW + 5);

    // Reopened: the deleted one is not served but is listed.
    let mut reopened = load(&storage);
    let (_, passkeys) = reopened
        .unlock_all_pin(&pin("1234"), NOW + 10, &mut rng)
        .unwrap();
    assert_eq!(names(&passkeys), ["bob"]);
    assert_eq!(reopened.deleted()[0].user_name, "alice");

    // Restore brings it back.
    let (commit, restored) = reopened.restore(&a.credential_id, &mut rng).unwrap();
    assert_eq!(restored.user_name, "alice");
    apply(&mut storage, &commit);
    assert!(reopened.deleted().is_empty());
    assert_eq!(
        reopened.restore(&a.credential_id, &mut rng).unwrap_err(),
        VaultError::NotFound
    );
    assert_eq!(
        reopened.purge(&a.credential_id).unwrap_err(),
        VaultError::NotFound,
        "only deleted ones"
    );

    // Purge removes it for good.
    apply(
        &mut storage,
        &reopened
            .commit_writes(
                vec![StoreWrite::delete(&a.credential_id)],
                NOW + 20,
                &mut rng,
            )
            .unwrap(),
    );
    let commit = reopened.purge(&a.credential_id).unwrap();
    apply(&mut storage, &commit);
    assert_eq!(entry_keys(&storage).len(), 1);

    // After 30 days the trash empties itself at unlock.
    apply(
        &mut storage,
        &reopened
            .commit_writes(vec![StoreWrite::delete(&b.credential_id)], NOW, &mut rng)
            .unwrap(),
    );
    let mut later = load(&storage);
    let (commit, passkeys) = later
        .unlock_all_pin(&pin("1234"), NOW + TRASH_RETENTION_MS + 1, &mut rng)
        .unwrap();
    assert!(passkeys.is_empty());
    assert_eq!(commit.remove.len(), 2);
    apply(&mut storage, &commit);
    assert!(entry_keys(&storage).is_empty());
}

#[test]
fn plaintext_records_from_issue_2_are_migrated_in() {
    let mut rng = TestRng::new(10);
    let a = passkey(&mut rng, 1, "a.example", "alice");
    let mut storage = Map::new();
    storage.insert(
        format!("cred:{}", b64url::encode(&a.credential_id)),
        serde_json::from_str(&a.to_record().to_json_string()).unwrap(),
    );
    storage.insert("cred:broken".into(), serde_json::json!({"v": 1}));
    let mut vault = load(&storage);
    assert_eq!(vault.state(), VaultState::None);
    let (commit, passkeys) = vault.create(&pin("1234"), FAST, NOW, &mut rng).unwrap();
    assert_eq!(names(&passkeys), ["alice"]);
    assert_eq!(
        commit.remove,
        vec![format!("cred:{}", b64url::encode(&a.credential_id))]
    );
    assert_eq!(
        vault.damaged().len(),
        1,
        "the broken record is reported and kept"
    );
    apply(&mut storage, &commit);
    assert!(storage.contains_key("cred:broken"));
    let mut reopened = load(&storage);
    let (_, passkeys) = reopened
        .unlock_all_pin(&pin("1234"), NOW, &mut rng)
        .unwrap();
    assert_eq!(names(&passkeys), ["alice"]);
}

#[test]
fn create_refuses_weak_pins_and_existing_vaults() {
    let mut rng = TestRng::new(11);
    let mut vault = load(&Map::new());
    assert_eq!(
        vault
            .unlock_all_pin(&pin("1234"), NOW, &mut rng)
            .unwrap_err(),
        VaultError::NoVault
    );
    assert_eq!(
        vault
            .create(&pin("123"), FAST, NOW, &mut rng)
            .unwrap_err()
            .name(),
        "WeakPin"
    );
    vault.create(&pin("1234"), FAST, NOW, &mut rng).unwrap();
    assert_eq!(
        vault.create(&pin("1234"), FAST, NOW, &mut rng).unwrap_err(),
        VaultError::VaultExists
    );
}

#[test]
fn writes_need_an_unlocked_vault() {
    let mut rng = TestRng::new(12);
    let storage = two_passkey_storage(&mut rng);
    let mut vault = load(&storage);
    let a = passkey(&mut rng, 9, "a.example", "zed");
    assert_eq!(
        vault
            .commit_writes(vec![StoreWrite::put(&a)], NOW, &mut rng)
            .unwrap_err(),
        VaultError::Locked
    );
    assert_eq!(
        vault.verify_pin(&pin("1234")).unwrap_err(),
        VaultError::Locked
    );
}

#[test]
fn unlock_delays_grow_and_cap() {
    let delays: Vec<u64> = (0..=14).map(unlock_delay_ms).collect();
    assert_eq!(&delays[..4], &[0, 0, 0, 0]);
    assert_eq!(&delays[4..8], &[1000, 2000, 4000, 8000]);
    assert!(delays.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(unlock_delay_ms(12), 256_000);
    assert_eq!(unlock_delay_ms(13), 300_000);
    assert_eq!(unlock_delay_ms(u32::MAX), 300_000);
}

#[test]
fn debug_prints_no_secrets() {
    let mut rng = TestRng::new(13);
    let storage = two_passkey_storage(&mut rng);
    let mut vault = load(&storage);
    vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let text = format!("{vault:?}");
    assert!(!text.contains("alice") && !text.contains(&vault.session_key().unwrap()));
}

/// A vault written once (PIN "1234", Argon2id m=64 KiB t=1) and frozen: it must keep opening,
/// with the same passkey, forever.
const FROZEN_V1_STORAGE: &str = include_str!("testdata/vault-v1-fast.json");
/// The same at RFC 9106's second recommended parameters (64 MiB, t=3; the default before t=6).
const FROZEN_V1_DEFAULT: &str = include_str!("testdata/vault-v1-default.json");

fn check_frozen(json: &str) {
    let mut storage: Map<String, Value> = serde_json::from_str(json).unwrap();
    let mut vault = load(&storage);
    // Written before lookup tags: opened at unlock (no verification needed) and tagged.
    let (commit, passkeys) = vault
        .unlock_with_pin(&pin("1234"), NOW, &mut TestRng::new(0))
        .unwrap();
    assert_eq!(vault.unverified(), 0);
    assert_eq!(passkeys.len(), 1);
    let keys = entry_keys(&storage);
    assert_eq!(commit.set.keys().collect::<Vec<_>>(), [&keys[0]]);
    assert!(commit.remove.is_empty() && commit.cleanup.is_empty());
    // The migration adds the tags and nothing else: the ciphertext is the one stored.
    let mut migrated = sj(&commit.set[&keys[0]]);
    let tag = migrated.as_object_mut().unwrap().remove("rp").unwrap();
    let cred = migrated.as_object_mut().unwrap().remove("cred").unwrap();
    assert_eq!(migrated, storage[&keys[0]]);
    assert_eq!(b64url::decode(tag.as_str().unwrap()).unwrap().len(), 16);
    assert_eq!(b64url::decode(cred.as_str().unwrap()).unwrap().len(), 16);
    apply(&mut storage, &commit);
    // Migrated: the next unlock opens nothing until example.com asks.
    let mut again = load(&storage);
    let (commit, none) = again
        .unlock_with_pin(&pin("1234"), NOW, &mut TestRng::new(0))
        .unwrap();
    assert_eq!(commit, Commit::default());
    assert!(none.is_empty());
    assert_eq!(again.unverified(), 1);
    assert!(again.open_rp("example.org", NOW).unwrap().is_empty());
    let found = again.open_rp("example.com", NOW).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].credential_id, passkeys[0].credential_id);
    assert_eq!(again.unverified(), 0);
    assert_eq!(again.take_pending().unwrap(), Commit::default());
    let p = &passkeys[0];
    assert_eq!(p.rp_id, "example.com");
    assert_eq!(p.user_name, "alice");
    assert_eq!(p.label.as_deref(), Some("frozen"));
    assert_eq!(
        crate::test_hex::to_hex(&p.private_key.public_key_sec1_uncompressed()[..9]),
        FROZEN_PUBLIC_KEY_PREFIX
    );
}

/// The first bytes of the frozen passkey's public key (the WebAuthn §16 test key).
const FROZEN_PUBLIC_KEY_PREFIX: &str = "04afefa16f97ca9b2d";

#[test]
fn frozen_v1_vault_keeps_opening() {
    check_frozen(FROZEN_V1_STORAGE);
}

/// A vault with a PIN and an OS method (key id `frozen-os-key`, OS-held key 32 × 0x42).
const FROZEN_V1_OS: &str = include_str!("testdata/vault-v1-os.json");

#[test]
fn frozen_v1_vault_with_an_os_method_keeps_opening_both_ways() {
    check_frozen(FROZEN_V1_OS);
    let storage: Map<String, Value> = serde_json::from_str(FROZEN_V1_OS).unwrap();
    let mut vault = load(&storage);
    let kek = Kek::from_bytes(&[0x42; 32]).unwrap();
    let (_, passkeys) = vault
        .unlock_all_os("frozen-os-key", &kek, NOW, &mut TestRng::new(0))
        .unwrap();
    assert_eq!(passkeys[0].user_name, "alice");
}

/// The same vault written with the entry's lookup tag (`rp`, since the lazy unlock): it opens on
/// example.com's first request, not at unlock.
const FROZEN_V1_TAGGED: &str = include_str!("testdata/vault-v1-tagged.json");

#[test]
fn frozen_v1_tagged_vault_opens_lazily() {
    let storage: Map<String, Value> = serde_json::from_str(FROZEN_V1_TAGGED).unwrap();
    let mut vault = Vault::load_json(FROZEN_V1_TAGGED).unwrap();
    let (commit, none) = vault
        .unlock_with_pin(&pin("1234"), NOW, &mut TestRng::new(0))
        .unwrap();
    assert_eq!(commit, Commit::default());
    assert!(none.is_empty());
    assert_eq!(vault.unverified(), 1);
    let key = &entry_keys(&storage)[0];
    assert_eq!(
        storage[key]["rp"],
        vault
            .opened
            .as_ref()
            .unwrap()
            .tags
            .tag("example.com")
            .as_str()
    );
    let found = vault.open_rp("example.com", NOW).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].user_name, "alice");
    assert_eq!(found[0].label.as_deref(), Some("frozen"));
    assert_eq!(
        crate::test_hex::to_hex(&found[0].private_key.public_key_sec1_uncompressed()[..9]),
        FROZEN_PUBLIC_KEY_PREFIX
    );
    // Written before credential tags: opening it adds `cred` and nothing else.
    let commit = vault.take_pending().unwrap();
    assert_eq!(commit.set.keys().collect::<Vec<_>>(), [key]);
    assert!(commit.remove.is_empty() && commit.cleanup.is_empty());
    let mut migrated = sj(&commit.set[key]);
    let cred = migrated.as_object_mut().unwrap().remove("cred").unwrap();
    assert_eq!(migrated, storage[key]);
    assert_eq!(
        cred.as_str().unwrap(),
        vault
            .opened
            .as_ref()
            .unwrap()
            .creds
            .credential_tag(&found[0].credential_id)
    );
}

/// The same vault with both lookup tags (`rp`, and `cred` since the cold-start round): a get
/// that names its credential opens it, one that names another opens nothing.
const FROZEN_V1_CRED: &str = include_str!("testdata/vault-v1-cred.json");

#[test]
fn frozen_v1_vault_with_credential_tags_opens_by_credential() {
    let storage: Map<String, Value> = serde_json::from_str(FROZEN_V1_CRED).unwrap();
    let mut vault = Vault::load_json(FROZEN_V1_CRED).unwrap();
    let (commit, none) = vault
        .unlock_with_pin(&pin("1234"), NOW, &mut TestRng::new(0))
        .unwrap();
    assert_eq!(commit, Commit::default());
    assert!(none.is_empty());
    let key = &entry_keys(&storage)[0];
    assert_eq!(storage[key]["cred"], "H_07spD7fyzzTN_Z9ZSFnw");
    let other = vec![vec![7u8; 16]];
    assert!(vault
        .open_credentials("example.com", &other, NOW)
        .unwrap()
        .is_empty());
    assert_eq!(
        vault.unverified(),
        1,
        "another credential's entry stays closed"
    );
    let id = b64url::decode("AAECAwQFBgcICQoLDA0ODw").unwrap();
    let found = vault.open_credentials("example.com", &[id], NOW).unwrap();
    assert_eq!(names(&found), ["alice"]);
    assert_eq!(found[0].label.as_deref(), Some("frozen"));
    assert_eq!(vault.unverified(), 0);
    assert_eq!(vault.take_pending().unwrap(), Commit::default());
}

#[test]
fn frozen_v1_vault_at_default_parameters_keeps_opening() {
    let storage: Map<String, Value> = serde_json::from_str(FROZEN_V1_DEFAULT).unwrap();
    let kdf = &storage[HEADER_KEY]["unlock"][0]["kdf"];
    assert_eq!(
        (kdf["memoryKiB"].as_u64(), kdf["iterations"].as_u64()),
        (Some(65536), Some(3))
    );
    check_frozen(FROZEN_V1_DEFAULT);
}

/// Writes the frozen vectors (run once with `cargo test -p latchkey-core write_frozen -- --ignored`).
#[test]
#[ignore = "generates the frozen vectors; they must never change once committed"]
fn write_frozen_vectors() {
    let spec_key = crate::test_hex::from_hex(
        "6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee",
    );
    let rfc9106 = Argon2Params {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    // The first three predate the lookup tags: written without them, byte for byte as committed.
    for (params, file, os, tagged) in [
        (FAST, "vault-v1-fast.json", false, false),
        (rfc9106, "vault-v1-default.json", false, false),
        (FAST, "vault-v1-os.json", true, false),
        (FAST, "vault-v1-tagged.json", false, true),
    ] {
        let mut rng = TestRng::new(2024);
        let mut storage = Map::new();
        let mut vault = load(&storage);
        apply(
            &mut storage,
            &vault.create(&pin("1234"), params, NOW, &mut rng).unwrap().0,
        );
        let p = Passkey {
            credential_id: (0u8..16).collect(),
            rp_id: "example.com".into(),
            rp_name: "Example".into(),
            user_handle: b"user-1".to_vec(),
            user_name: "alice".into(),
            user_display_name: "Alice".into(),
            label: Some("frozen".into()),
            private_key: PrivateKey::from_scalar_bytes(&spec_key).unwrap(),
            alg: -7,
            created_ms: NOW,
            last_used_ms: None,
            sign_count: 0,
        };
        apply(
            &mut storage,
            &vault
                .commit_writes(vec![StoreWrite::put(&p)], NOW, &mut rng)
                .unwrap(),
        );
        if os {
            let kek = Kek::from_bytes(&[0x42; 32]).unwrap();
            apply(
                &mut storage,
                &vault
                    .add_os_unlock("frozen-os-key", &kek, &mut rng)
                    .unwrap(),
            );
        }
        if !tagged {
            for key in entry_keys(&storage) {
                storage[&key].as_object_mut().unwrap().remove("rp");
            }
        }
        let path = format!("{}/src/vault/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(path, serde_json::to_string_pretty(&storage).unwrap()).unwrap();
    }
}

#[test]
fn an_os_held_key_unlocks_alongside_the_pin() {
    let mut rng = TestRng::new(14);
    let mut storage = two_passkey_storage(&mut rng);
    let mut vault = load(&storage);
    let kek = Kek::from_bytes(&[7u8; 32]).unwrap();
    assert_eq!(
        vault.add_os_unlock("hello-1", &kek, &mut rng).unwrap_err(),
        VaultError::Locked
    );
    vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert!(vault.add_os_unlock("bad id!", &kek, &mut rng).is_err());
    let commit = vault.add_os_unlock("hello-1", &kek, &mut rng).unwrap();
    assert_eq!(commit.set[HEADER_KEY], commit.set[HEADER_BACKUP_KEY]);
    apply(&mut storage, &commit);
    assert_eq!(vault.unlock_methods(), ["pin", "os:hello-1"]);

    let mut reopened = load(&storage);
    let wrong = Kek::from_bytes(&[8u8; 32]).unwrap();
    assert_eq!(
        reopened
            .unlock_all_os("hello-1", &wrong, NOW, &mut rng)
            .unwrap_err(),
        VaultError::WrongKey
    );
    assert_eq!(
        reopened
            .unlock_all_os("other", &kek, NOW, &mut rng)
            .unwrap_err(),
        VaultError::NotFound
    );
    let (_, passkeys) = reopened
        .unlock_all_os("hello-1", &kek, NOW, &mut rng)
        .unwrap();
    assert_eq!(names(&passkeys), ["alice", "bob"]);
    // The PIN stays as recovery, and a PIN change keeps the OS method.
    assert!(reopened.verify_pin(&pin("1234")).is_ok());
    apply(
        &mut storage,
        &reopened
            .change_pin(&pin("1234"), &pin("5678"), FAST, &mut rng)
            .unwrap(),
    );
    assert_eq!(reopened.unlock_methods(), ["pin", "os:hello-1"]);
    let commit = reopened.remove_os_unlock("hello-1").unwrap();
    apply(&mut storage, &commit);
    assert_eq!(reopened.unlock_methods(), ["pin"]);
    assert_eq!(
        reopened.remove_os_unlock("hello-1").unwrap_err(),
        VaultError::NotFound
    );
    let mut again = load(&storage);
    assert_eq!(
        again
            .unlock_all_os("hello-1", &kek, NOW, &mut rng)
            .unwrap_err(),
        VaultError::NotFound
    );
}

#[test]
fn unknown_unlock_methods_survive_a_rewrite() {
    let mut rng = TestRng::new(15);
    let mut storage = two_passkey_storage(&mut rng);
    let future = serde_json::json!({"type": "future-thing", "blob": "xyz"});
    storage[HEADER_KEY]["unlock"]
        .as_array_mut()
        .unwrap()
        .push(future.clone());
    let mut vault = load(&storage);
    vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let commit = vault
        .change_pin(&pin("1234"), &pin("5678"), FAST, &mut rng)
        .unwrap();
    assert!(sj(&commit.set[HEADER_KEY])["unlock"]
        .as_array()
        .unwrap()
        .contains(&future));
}

#[test]
fn a_refused_entry_keeps_its_previous_version() {
    // An entry that authenticates but is refused (here: a second entry for a credential id already
    // loaded) must not have its kept previous version cleaned up at unlock.
    let mut rng = TestRng::new(11);
    let mut storage = Map::new();
    let mut vault = load(&storage);
    apply(
        &mut storage,
        &vault.create(&pin("1234"), FAST, NOW, &mut rng).unwrap().0,
    );
    let a = passkey(&mut rng, 1, "a.example", "alice");
    apply(
        &mut storage,
        &vault
            .commit_writes(vec![StoreWrite::put(&a)], NOW, &mut rng)
            .unwrap(),
    );
    let opened = vault.opened.as_ref().unwrap();
    // A duplicate of alice's passkey under an entry id that sorts after the real one, with a kept
    // previous version of its own.
    let dup_id = "~~~~~~~~~~~~~~~~~~~~~~";
    let payload = EntryPayload::passkey(a.to_record(), None);
    let seal = |rng: &mut TestRng| {
        EncryptedEntry::seal(&opened.key, &opened.vault_id, dup_id, &payload, rng).unwrap()
    };
    let (mut dup, mut prev) = (seal(&mut rng), seal(&mut rng));
    // Tagged, as everything written now is: both copies wait for the same lookup.
    dup.rp = Some(opened.tags.tag("a.example"));
    prev.rp = dup.rp.clone();
    storage.insert(format!("{ENTRY_PREFIX}{dup_id}"), sj(&dup.to_json()));
    storage.insert(format!("{PREV_PREFIX}{dup_id}"), sj(&prev.to_json()));

    let mut reopened = load(&storage);
    let (commit, passkeys) = reopened
        .unlock_all_pin(&pin("1234"), NOW, &mut rng)
        .unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(reopened.damaged().len(), 1, "the duplicate is reported");
    let prev_key = format!("{PREV_PREFIX}{dup_id}");
    assert!(
        !commit.cleanup.contains(&prev_key) && !commit.remove.contains(&prev_key),
        "the refused entry's previous version stays: {commit:?}"
    );
}

// ---- lazy unlock -------------------------------------------------------------------------------

/// The storage key of the entry whose lookup tag is `rp_id`'s (vault unlocked).
fn entry_for(storage: &Map<String, Value>, vault: &Vault, rp_id: &str) -> String {
    let tag = vault.opened.as_ref().unwrap().tags.tag(rp_id);
    entry_keys(storage)
        .into_iter()
        .find(|k| storage[k]["rp"] == tag.as_str())
        .unwrap()
}

/// Two passkeys; alice is relabelled "work", the worker dies after that set but before its
/// clean-up (`vault:p:` still holds the unlabelled version), and then the new version is damaged.
/// Returns the storage and alice's entry key.
fn relabelled_then_damaged_before_cleanup(rng: &mut TestRng) -> (Map<String, Value>, String) {
    let mut storage = two_passkey_storage(rng);
    let mut vault = load(&storage);
    let (_, all) = vault.unlock_all_pin(&pin("1234"), NOW, rng).unwrap();
    let mut a = all.into_iter().find(|p| p.user_name == "alice").unwrap();
    a.label = Some("work".into());
    let commit = vault
        .commit_writes(vec![StoreWrite::put(&a)], NOW, rng)
        .unwrap();
    for (k, v) in &commit.set {
        storage.insert(k.clone(), sj(v));
    }
    let entry = entry_for(&storage, &vault, "a.example");
    storage[&entry]["nonce"] = Value::String("AAAAAAAAAAAAAAAA".into());
    (storage, entry)
}

#[test]
fn unlock_is_lazy_and_an_rps_entries_open_on_its_first_request() {
    let mut rng = TestRng::new(20);
    let storage = two_passkey_storage(&mut rng);
    let text = serde_json::to_string(&storage).unwrap();
    let mut vault = Vault::load_json(&text).unwrap();
    let (commit, passkeys) = vault.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(commit, Commit::default());
    assert!(passkeys.is_empty(), "nothing decrypted at unlock");
    assert_eq!(vault.unverified(), 2);

    assert!(vault.open_rp("c.example", NOW).unwrap().is_empty());
    let a = vault.open_rp("a.example", NOW).unwrap();
    assert_eq!(names(&a), ["alice"]);
    assert_eq!(vault.unverified(), 1);
    assert!(
        vault.open_rp("a.example", NOW).unwrap().is_empty(),
        "opened once"
    );

    // The background verification opens the rest, slice by slice.
    let (commit, rest) = vault.verify_step(1, NOW).unwrap();
    assert_eq!(commit, Commit::default());
    assert_eq!(names(&rest), ["bob"]);
    assert_eq!(vault.unverified(), 0);
    assert!(vault.open_rp("b.example", NOW).unwrap().is_empty());
    let (commit, none) = vault.verify_step(100, NOW).unwrap();
    assert!(commit.is_empty() && none.is_empty());

    // Locking forgets what was opened; the next unlock is lazy again.
    vault.lock();
    assert_eq!(vault.unverified(), 0);
    vault.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(vault.unverified(), 2);
    assert_eq!(
        names(&vault.finish_verification(NOW).unwrap()),
        ["alice", "bob"]
    );
}

#[test]
fn load_json_reads_what_load_reads() {
    let mut rng = TestRng::new(21);
    let mut storage = two_passkey_storage(&mut rng);
    let victim = entry_keys(&storage)[0].clone();
    storage.insert(format!("{ENTRY_PREFIX}junk"), Value::String("junk".into()));
    storage.insert(
        format!("{ENTRY_PREFIX}future"),
        serde_json::json!({"v": 2, "id": "future"}),
    );
    storage[&victim]["extra"] = Value::Bool(true);
    let text = serde_json::to_string(&storage).unwrap();
    let mut a = load(&storage);
    let mut b = Vault::load_json(&text).unwrap();
    assert_eq!(format!("{:?}", a.slots), format!("{:?}", b.slots));
    let ra = a.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let rb = b.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(ra.0, rb.0);
    assert_eq!(names(&ra.1), names(&rb.1));
    assert_eq!(a.damaged(), b.damaged());
    assert_eq!(a.damaged().len(), 3, "{:?}", a.damaged());
    assert!(Vault::load_json("[]").is_err());
}

#[test]
fn a_damaged_entry_is_found_by_the_background_verification() {
    let mut rng = TestRng::new(22);
    let mut storage = two_passkey_storage(&mut rng);
    let mut probe = load(&storage);
    probe.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let victim = entry_for(&storage, &probe, "b.example");
    let ct = storage[&victim]["ct"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') { "B" } else { "A" }.to_owned() + &ct[1..];
    storage[&victim]["ct"] = Value::String(flipped);

    let mut vault = load(&storage);
    vault.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert!(vault.damaged().is_empty(), "not known before it is opened");
    assert_eq!(names(&vault.open_rp("a.example", NOW).unwrap()), ["alice"]);
    let (commit, found) = vault.verify_step(10, NOW).unwrap();
    assert!(found.is_empty());
    assert_eq!(vault.damaged().len(), 1);
    assert_eq!(vault.damaged()[0].key, victim);
    assert!(commit.is_empty(), "a damaged entry is left as it is");
}

#[test]
fn a_tampered_tag_hides_an_entry_but_never_serves_it_to_another_site() {
    let mut rng = TestRng::new(23);
    let mut storage = two_passkey_storage(&mut rng);
    let mut probe = load(&storage);
    probe.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let alice = entry_for(&storage, &probe, "a.example");
    let b_tag = probe.opened.as_ref().unwrap().tags.tag("b.example");
    storage[&alice]["rp"] = Value::String(b_tag);

    let mut vault = load(&storage);
    vault.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert!(
        vault.open_rp("a.example", NOW).unwrap().is_empty(),
        "hidden"
    );
    let opened = vault.open_rp("b.example", NOW).unwrap();
    // Alice's entry was decrypted for b.example's request, but it is a.example's passkey: it is
    // handed over under its own rpId (the store serves it for a.example only).
    let mut by_rp: Vec<(String, String)> = opened
        .iter()
        .map(|p| (p.rp_id.clone(), p.user_name.clone()))
        .collect();
    by_rp.sort();
    assert_eq!(
        by_rp,
        [
            ("a.example".to_owned(), "alice".to_owned()),
            ("b.example".to_owned(), "bob".to_owned())
        ]
    );
    assert_eq!(vault.recovered().len(), 1, "{:?}", vault.recovered());
    // The tag is corrected with the next commit; the ciphertext stays.
    let commit = vault.take_pending().unwrap();
    let fixed = &sj(&commit.set[&alice]);
    assert_eq!(fixed["ct"], storage[&alice]["ct"]);
    apply(&mut storage, &commit);
    let mut reopened = load(&storage);
    reopened
        .unlock_with_pin(&pin("1234"), NOW, &mut rng)
        .unwrap();
    assert_eq!(
        names(&reopened.open_rp("a.example", NOW).unwrap()),
        ["alice"]
    );
}

#[test]
fn a_lazily_opened_entry_is_restored_from_its_previous_version() {
    let mut rng = TestRng::new(24);
    let (mut storage, entry) = relabelled_then_damaged_before_cleanup(&mut rng);
    let prev = entry.replace(ENTRY_PREFIX, PREV_PREFIX);

    let mut reopened = load(&storage);
    reopened
        .unlock_with_pin(&pin("1234"), NOW, &mut rng)
        .unwrap();
    let found = reopened.open_rp("a.example", NOW).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].label, None, "the previous version is back");
    assert_eq!(reopened.recovered().len(), 1);
    // A change of that passkey before the repair was handed out: the repair goes first and the
    // change wins; the good copy is kept as the previous version in the same write.
    let mut renamed = found[0].clone();
    renamed.label = Some("home".into());
    let commit = reopened
        .commit_writes(vec![StoreWrite::put(&renamed)], NOW, &mut rng)
        .unwrap();
    assert_eq!(sj(&commit.set[&prev]), storage[&prev]);
    assert_ne!(sj(&commit.set[&entry]), storage[&prev]);
    apply(&mut storage, &commit);
    let mut third = load(&storage);
    let (_, all) = third.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let alice = all.iter().find(|p| p.user_name == "alice").unwrap();
    assert_eq!(alice.label.as_deref(), Some("home"));
    assert!(third.recovered().is_empty() && third.damaged().is_empty());
}

#[test]
fn the_background_verification_purges_expired_trash() {
    let mut rng = TestRng::new(25);
    let mut storage = two_passkey_storage(&mut rng);
    let mut vault = load(&storage);
    vault.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let bob = entry_for(&storage, &vault, "b.example");
    apply(
        &mut storage,
        &vault
            .commit_writes(vec![StoreWrite::Delete(vec![2; 16])], NOW, &mut rng)
            .unwrap(),
    );
    let later = NOW + TRASH_RETENTION_MS + 1;
    let mut reopened = load(&storage);
    reopened
        .unlock_with_pin(&pin("1234"), later, &mut rng)
        .unwrap();
    assert!(reopened.open_rp("b.example", later).unwrap().is_empty());
    assert!(reopened.deleted().is_empty());
    let (commit, rest) = reopened.verify_step(10, later).unwrap();
    assert_eq!(names(&rest), ["alice"]);
    assert!(commit.remove.contains(&bob), "{commit:?}");
    apply(&mut storage, &commit);
    assert_eq!(entry_keys(&storage).len(), 1);
}

#[test]
fn a_lazy_repair_dropped_by_a_lock_is_found_again_not_lost() {
    // A repair found by lazy opening (or by finishing the verification for a list) that is never
    // handed out because the vault locks first: the next unlock of the same loaded vault must
    // repair again, not clean up the only good copy.
    for finish in [false, true] {
        let mut rng = TestRng::new(26);
        let (mut storage, _) = relabelled_then_damaged_before_cleanup(&mut rng);

        let mut reopened = load(&storage);
        reopened
            .unlock_with_pin(&pin("1234"), NOW, &mut rng)
            .unwrap();
        let found = if finish {
            reopened.finish_verification(NOW).unwrap()
        } else {
            reopened.open_rp("a.example", NOW).unwrap()
        };
        assert!(found.iter().any(|p| p.user_name == "alice"));
        assert_eq!(reopened.recovered().len(), 1);
        reopened.lock();
        let (commit, all) = reopened
            .unlock_all_pin(&pin("1234"), NOW, &mut rng)
            .unwrap();
        assert!(all.iter().any(|p| p.user_name == "alice"), "{finish}");
        assert_eq!(reopened.recovered().len(), 1, "repaired again ({finish})");
        apply(&mut storage, &commit);
        let mut after = load(&storage);
        let (_, all) = after.unlock_all_pin(&pin("1234"), NOW, &mut rng).unwrap();
        assert!(all.iter().any(|p| p.user_name == "alice"), "{finish}");
        assert!(
            after.damaged().is_empty(),
            "{finish}: {:?}",
            after.damaged()
        );
    }
}

/// Three passkeys for a.example (alice, carol, dave) and bob for b.example, all tagged.
fn one_site_storage(rng: &mut TestRng) -> (Map<String, Value>, Vec<Passkey>) {
    let mut storage = Map::new();
    let mut vault = load(&storage);
    let (commit, _) = vault.create(&pin("1234"), FAST, NOW, rng).unwrap();
    apply(&mut storage, &commit);
    let all = vec![
        passkey(rng, 1, "a.example", "alice"),
        passkey(rng, 2, "b.example", "bob"),
        passkey(rng, 3, "a.example", "carol"),
        passkey(rng, 4, "a.example", "dave"),
    ];
    let commit = vault
        .commit_writes(all.iter().map(StoreWrite::put).collect(), NOW, rng)
        .unwrap();
    apply(&mut storage, &commit);
    (storage, all)
}

#[test]
fn a_get_that_names_its_credentials_opens_only_their_entries() {
    let mut rng = TestRng::new(40);
    let (storage, all) = one_site_storage(&mut rng);
    let (alice, bob, carol) = (&all[0], &all[1], &all[2]);
    let mut vault = load(&storage);
    vault.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    assert_eq!(vault.unverified(), 4);
    // Bob's credential named for a.example: his entry is not a.example's, nothing opens.
    let ids = |ps: &[&Passkey]| {
        ps.iter()
            .map(|p| p.credential_id.clone())
            .collect::<Vec<_>>()
    };
    assert!(vault
        .open_credentials("a.example", &ids(&[bob]), NOW)
        .unwrap()
        .is_empty());
    assert_eq!(vault.unverified(), 4);
    // Carol's: only her entry.
    let found = vault
        .open_credentials("a.example", &ids(&[carol]), NOW)
        .unwrap();
    assert_eq!(names(&found), ["carol"]);
    assert_eq!(vault.unverified(), 3);
    // Again: already open, nothing more.
    assert!(vault
        .open_credentials("a.example", &ids(&[carol]), NOW)
        .unwrap()
        .is_empty());
    // Alice and carol: alice's entry only.
    let found = vault
        .open_credentials("a.example", &ids(&[alice, carol]), NOW)
        .unwrap();
    assert_eq!(names(&found), ["alice"]);
    // A discoverable request still opens every entry of its site.
    assert_eq!(names(&vault.open_rp("a.example", NOW).unwrap()), ["dave"]);
    assert_eq!(vault.unverified(), 1);
    assert_eq!(vault.take_pending().unwrap(), Commit::default());
    // Past MAX_NAMED_CREDENTIALS ids: the site's entries, as open_rp.
    let mut again = load(&storage);
    again.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let many: Vec<Vec<u8>> = (0..=MAX_NAMED_CREDENTIALS)
        .map(|i| vec![u8::try_from(i % 256).unwrap(); 16])
        .collect();
    let found = again.open_credentials("a.example", &many, NOW).unwrap();
    assert_eq!(names(&found), ["alice", "carol", "dave"]);
}

#[test]
fn untagged_and_mistagged_credentials_open_or_hide_but_never_serve_another_site() {
    let mut rng = TestRng::new(41);
    let (mut storage, all) = one_site_storage(&mut rng);
    let (alice, bob, carol, dave) = (&all[0], &all[1], &all[2], &all[3]);
    let mut probe = load(&storage);
    probe.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let entry_of = |p: &Passkey| {
        let id = probe
            .opened
            .as_ref()
            .unwrap()
            .creds
            .credential_tag(&p.credential_id);
        entry_keys(&storage)
            .into_iter()
            .find(|k| storage[k]["cred"] == id.as_str())
            .unwrap()
    };
    let [alice_key, bob_key, carol_key, dave_key] = [alice, bob, carol, dave].map(entry_of);
    // Dave's entry predates credential tags; carol's carries alice's tag; bob's (b.example)
    // carries alice's rpId tag and credential tag.
    storage[&dave_key].as_object_mut().unwrap().remove("cred");
    let alice_tag = storage[&alice_key]["cred"].clone();
    storage[&carol_key]["cred"] = alice_tag.clone();
    storage[&bob_key]["cred"] = alice_tag;
    storage[&bob_key]["rp"] = storage[&alice_key]["rp"].clone();

    let mut vault = load(&storage);
    vault.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let opened = vault
        .open_credentials("a.example", std::slice::from_ref(&alice.credential_id), NOW)
        .unwrap();
    // Alice's, the untagged one (dave) and the two carrying her tags are decrypted; each is
    // handed over under its own rpId (bob's is served for b.example only).
    let mut by_rp: Vec<(String, String)> = opened
        .iter()
        .map(|p| (p.rp_id.clone(), p.user_name.clone()))
        .collect();
    by_rp.sort();
    assert_eq!(
        by_rp,
        [
            ("a.example".to_owned(), "alice".to_owned()),
            ("a.example".to_owned(), "carol".to_owned()),
            ("a.example".to_owned(), "dave".to_owned()),
            ("b.example".to_owned(), "bob".to_owned()),
        ]
    );
    // The wrong tags are corrected and reported, the missing one added; ciphertexts unchanged.
    let commit = vault.take_pending().unwrap();
    let mut keys: Vec<&String> = commit.set.keys().collect();
    keys.sort();
    let mut want = vec![&dave_key, &carol_key, &bob_key];
    want.sort();
    assert_eq!(keys, want);
    for k in want {
        assert_eq!(sj(&commit.set[k])["ct"], storage[k]["ct"]);
    }
    assert_eq!(vault.recovered().len(), 3, "{:?}", vault.recovered());

    // A wrong credential tag hides an entry from a get naming it, until the verification.
    let mut storage2 = storage.clone();
    storage2[&alice_key]["cred"] = storage2[&bob_key]["rp"].clone();
    let mut v2 = load(&storage2);
    v2.unlock_with_pin(&pin("1234"), NOW, &mut rng).unwrap();
    let found = v2
        .open_credentials("a.example", std::slice::from_ref(&alice.credential_id), NOW)
        .unwrap();
    assert!(!names(&found).contains(&"alice".to_owned()), "hidden");
    assert!(names(&v2.finish_verification(NOW).unwrap()).contains(&"alice".to_owned()));
}

#[test]
fn empty_is_the_load_of_an_empty_snapshot() {
    let empty = Vault::empty();
    let loaded = load(&Map::new());
    assert_eq!(format!("{empty:?}"), format!("{loaded:?}"));
    assert_eq!(empty.state(), VaultState::None);
    assert_eq!(empty.header_state(), loaded.header_state());
    assert_eq!(empty.header_problem(), None);
    assert!(empty.unlock_methods().is_empty());
    // And it takes a vault as the loaded one does.
    let mut v = Vault::empty();
    let (commit, passkeys) = v
        .create(&Pin::new("1234".into()), FAST, NOW, &mut TestRng::new(7))
        .unwrap();
    assert!(passkeys.is_empty());
    assert!(commit.set.contains_key(HEADER_KEY));
    assert_eq!(v.state(), VaultState::Unlocked);
}
