//! A sorted set of keys that shares the wasm's one copy of the B-tree code.
//!
//! `BTreeSet<K>` is a `BTreeMap<K, ()>`: a value type of its own, so the standard library's node
//! code (insert, split, merge, steal, remove) was linked a second time just for the sets (wasm
//! size, issue 6). [`KeySet`] is a `BTreeMap<K, Box<()>>`: its values are one pointer like every
//! other map's in the wasm (docs/design.md "Collections and sorting in the wasm"), so wasm-opt
//! keeps one copy. `Box<()>` never allocates. Same order, same O(log n) operations.

use std::borrow::Borrow;
use std::collections::BTreeMap;

/// A set of keys in key order (the operations of `BTreeSet` that Latchkey uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet<K: Ord>(BTreeMap<K, Box<()>>);

impl<K: Ord> Default for KeySet<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord> KeySet<K> {
    /// An empty set.
    #[must_use]
    pub const fn new() -> Self {
        Self(BTreeMap::new())
    }

    /// Adds `key`; `true` if it was not there yet.
    pub fn insert(&mut self, key: K) -> bool {
        self.0.insert(key, Box::new(())).is_none()
    }

    /// Removes `key`; `true` if it was there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.remove(key).is_some()
    }

    /// Removes and returns the smallest key.
    pub fn pop_first(&mut self) -> Option<K> {
        self.0.pop_first().map(|(k, _)| k)
    }

    /// Number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The keys in order.
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }
}

impl<K: Ord> IntoIterator for KeySet<K> {
    type Item = K;
    type IntoIter = std::collections::btree_map::IntoKeys<K, Box<()>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_keys()
    }
}

impl<K: Ord> Extend<K> for KeySet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, keys: I) {
        for key in keys {
            self.insert(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn behaves_like_btreeset() {
        let mut ours: KeySet<Vec<u8>> = KeySet::new();
        let mut theirs: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut state = 0x9e37_79b9_u32;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let key = vec![(state % 97) as u8, (state >> 8) as u8 % 3];
            match state % 4 {
                0 | 1 => assert_eq!(ours.insert(key.clone()), theirs.insert(key)),
                2 => assert_eq!(ours.remove(&key[..]), theirs.remove(&key[..])),
                _ => assert_eq!(ours.pop_first(), theirs.pop_first()),
            }
            assert_eq!(ours.len(), theirs.len());
            assert_eq!(ours.is_empty(), theirs.is_empty());
        }
        assert!(ours.iter().eq(theirs.iter()));
        ours.extend([vec![200], vec![0]]);
        theirs.extend([vec![200], vec![0]]);
        assert!(ours.clone().into_iter().eq(theirs.into_iter()));
        ours.clear();
        assert!(ours.is_empty() && ours == KeySet::default());
    }
}
