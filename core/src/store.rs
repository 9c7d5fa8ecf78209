//! Where passkeys live: the [`CredentialStore`] trait (the authenticator's
//! [credential storage](https://www.w3.org/TR/webauthn-3/#public-key-credential-source)), an
//! in-memory implementation indexed by RP ID, and [`StoreWrite`], the journal entries the caller
//! persists (`storage.local` in the extension, docs/design.md).

use crate::keyset::KeySet;
use crate::passkey::{Passkey, PasskeyRecord, MAX_CREDENTIAL_ID_LEN};
use std::collections::BTreeMap;
use thiserror::Error;

/// A store refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The credential id is empty or longer than 1023 bytes.
    #[error("invalid credential id length ({0} bytes)")]
    InvalidCredentialId(usize),
    /// The backing storage failed (for stores other than [`MemoryStore`]).
    #[error("storage failed: {0}")]
    Backend(String),
}

/// Passkey storage, keyed by credential id.
pub trait CredentialStore {
    /// The passkey with this credential id.
    fn get(&self, id: &[u8]) -> Option<&Passkey>;
    /// All passkeys scoped to `rp_id` (exact match), in a stable order.
    fn find_by_rp_id(&self, rp_id: &str) -> Vec<&Passkey>;
    /// Inserts `p`, replacing any passkey with the same credential id.
    ///
    /// # Errors
    /// [`StoreError`] if the passkey cannot be stored.
    fn put(&mut self, p: Passkey) -> Result<(), StoreError>;
    /// Removes and returns the passkey with this credential id (`None` if absent).
    ///
    /// # Errors
    /// [`StoreError`] if the backing storage fails.
    fn remove(&mut self, id: &[u8]) -> Result<Option<Passkey>, StoreError>;
    /// Every passkey, in a stable order.
    fn all(&self) -> Vec<&Passkey>;
}

/// An in-memory store: a map by credential id plus an index by RP ID, so a lookup costs
/// O(log n + k) for k passkeys of that RP.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// A B-tree of boxes rather than a hash map: with every other map in the wasm a B-tree of
    /// pointers, no hash map code is linked at all (about 5.6 KB less wasm, issue 6); a lookup
    /// stays O(log n).
    by_id: BTreeMap<Vec<u8>, Box<Passkey>>,
    /// Boxed [`KeySet`]s: every B-tree map in the wasm holds one pointer per value, so the B-tree
    /// node code is linked once (wasm size, issue 6; see `vault::Opened::entry_of`).
    by_rp_id: BTreeMap<String, Box<KeySet<Vec<u8>>>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of passkeys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there are no passkeys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn unindex(&mut self, p: &Passkey) {
        if let Some(ids) = self.by_rp_id.get_mut(&p.rp_id) {
            ids.remove(&p.credential_id);
            if ids.is_empty() {
                self.by_rp_id.remove(&p.rp_id);
            }
        }
    }
}

impl CredentialStore for MemoryStore {
    fn get(&self, id: &[u8]) -> Option<&Passkey> {
        self.by_id.get(id).map(AsRef::as_ref)
    }

    fn find_by_rp_id(&self, rp_id: &str) -> Vec<&Passkey> {
        self.by_rp_id
            .get(rp_id)
            .map(|ids| ids.iter().filter_map(|id| self.get(id)).collect())
            .unwrap_or_default()
    }

    fn put(&mut self, p: Passkey) -> Result<(), StoreError> {
        if p.credential_id.is_empty() || p.credential_id.len() > MAX_CREDENTIAL_ID_LEN {
            return Err(StoreError::InvalidCredentialId(p.credential_id.len()));
        }
        if let Some(old) = self.by_id.remove(&p.credential_id) {
            self.unindex(&old);
        }
        self.by_rp_id
            .entry(p.rp_id.clone())
            .or_default()
            .insert(p.credential_id.clone());
        self.by_id.insert(p.credential_id.clone(), Box::new(p));
        Ok(())
    }

    fn remove(&mut self, id: &[u8]) -> Result<Option<Passkey>, StoreError> {
        let removed = self.by_id.remove(id).map(|p| *p);
        if let Some(p) = &removed {
            self.unindex(p);
        }
        Ok(removed)
    }

    fn all(&self) -> Vec<&Passkey> {
        self.by_rp_id
            .values()
            .flat_map(|ids| ids.iter())
            .filter_map(|id| self.get(id))
            .collect()
    }
}

/// One entry of the storage journal the core hands back with each change; the vault
/// (`crate::vault::Vault::commit_writes`) turns it into encrypted storage writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreWrite {
    /// Insert or replace this passkey (its record, private key included).
    Put(Box<PasskeyRecord>),
    /// Delete the passkey with this credential id.
    Delete(Vec<u8>),
}

impl StoreWrite {
    /// Write (insert or replace) this passkey.
    #[must_use]
    pub fn put(passkey: &Passkey) -> Self {
        Self::Put(Box::new(passkey.to_record()))
    }

    /// Delete the passkey with this credential id.
    #[must_use]
    pub fn delete(credential_id: &[u8]) -> Self {
        Self::Delete(credential_id.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::crypto::PrivateKey;
    use crate::rng::TestRng;

    fn passkey(key: &PrivateKey, id: u32, rp_id: &str) -> Passkey {
        Passkey {
            credential_id: id.to_be_bytes().to_vec(),
            rp_id: rp_id.into(),
            rp_name: "RP".into(),
            user_handle: vec![1],
            user_name: format!("user{id}"),
            user_display_name: "User".into(),
            label: None,
            private_key: key.clone(),
            alg: -7,
            created_ms: 0,
            last_used_ms: None,
            sign_count: 0,
        }
    }

    #[test]
    fn put_get_find_remove() {
        let key = PrivateKey::from_random_bytes(&mut TestRng::new(1)).unwrap();
        let mut store = MemoryStore::new();
        store.put(passkey(&key, 1, "a.example")).unwrap();
        store.put(passkey(&key, 2, "a.example")).unwrap();
        store.put(passkey(&key, 3, "b.example")).unwrap();
        assert_eq!(store.len(), 3);
        assert_eq!(store.get(&2u32.to_be_bytes()).unwrap().user_name, "user2");
        assert_eq!(store.find_by_rp_id("a.example").len(), 2);
        assert_eq!(
            store.find_by_rp_id("example").len(),
            0,
            "exact RP ID match only"
        );
        // Replacing by id moves it between RP IDs.
        store.put(passkey(&key, 2, "b.example")).unwrap();
        assert_eq!(store.find_by_rp_id("a.example").len(), 1);
        assert_eq!(store.find_by_rp_id("b.example").len(), 2);
        assert_eq!(store.len(), 3);
        let removed = store.remove(&1u32.to_be_bytes()).unwrap().unwrap();
        assert_eq!(removed.user_name, "user1");
        assert!(store.find_by_rp_id("a.example").is_empty());
        assert!(store.remove(&1u32.to_be_bytes()).unwrap().is_none());
        assert_eq!(store.all().len(), 2);
    }

    #[test]
    fn rejects_bad_credential_ids() {
        let key = PrivateKey::from_random_bytes(&mut TestRng::new(1)).unwrap();
        let mut store = MemoryStore::new();
        let mut p = passkey(&key, 1, "a.example");
        p.credential_id = vec![];
        assert_eq!(
            store.put(p.clone()).unwrap_err(),
            StoreError::InvalidCredentialId(0)
        );
        p.credential_id = vec![0; 1024];
        assert_eq!(
            store.put(p).unwrap_err(),
            StoreError::InvalidCredentialId(1024)
        );
        assert!(store.is_empty());
    }

    #[test]
    fn ten_thousand_passkeys_stay_fast() {
        let key = PrivateKey::from_random_bytes(&mut TestRng::new(1)).unwrap();
        let mut store = MemoryStore::new();
        for i in 0..10_000u32 {
            store
                .put(passkey(&key, i, &format!("rp{}.example", i % 1000)))
                .unwrap();
        }
        let start = std::time::Instant::now();
        for i in 0..10_000u32 {
            assert_eq!(
                store
                    .find_by_rp_id(&format!("rp{}.example", i % 1000))
                    .len(),
                10
            );
        }
        // 10,000 indexed lookups; a linear scan would be 10^8 comparisons.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn writes_carry_the_record_or_the_id() {
        let key = PrivateKey::from_random_bytes(&mut TestRng::new(1)).unwrap();
        let p = passkey(&key, 1, "a.example");
        match StoreWrite::put(&p) {
            StoreWrite::Put(r) => assert_eq!(
                (r.credential_id.as_str(), r.rp_id.as_str()),
                ("AAAAAQ", "a.example")
            ),
            StoreWrite::Delete(_) => panic!("put made a delete"),
        }
        assert_eq!(
            StoreWrite::delete(&p.credential_id),
            StoreWrite::Delete(vec![0, 0, 0, 1])
        );
    }
}
