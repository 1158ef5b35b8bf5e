//! One topic's subscriber set: O(1) insert, O(1) remove, and the members as
//! one contiguous slice, which is what a publish hands to the driver.
//!
//! A `Vec<ConnKey>` alone makes removal O(n) (find, then shift); a `HashSet`
//! alone gives no slice and iterates slower. So the keys live densely in a
//! `Vec`, and a map remembers each key's index in it: removal is a
//! `swap_remove` plus one fix-up of the key that moved into the hole. The
//! order of the slice is therefore not the order of subscription, and nothing
//! may rely on it.

use std::collections::HashMap;

use crate::key::ConnKey;

#[derive(Debug, Default)]
pub(super) struct Subscribers {
    /// The members, densely: what `publish` returns.
    keys: Vec<ConnKey>,
    /// Each member's index in `keys`. Keys are chosen by the server (slab
    /// index and generation), not by a peer, so no peer can aim collisions at
    /// the hasher; the default one is kept anyway, as subscribing is not the
    /// hot path (publishing is, and it never touches this map).
    index: HashMap<ConnKey, usize>,
}

impl Subscribers {
    /// Adds `key`; false if it was already there (subscribing twice is
    /// harmless and delivers each message once).
    pub(super) fn insert(&mut self, key: ConnKey) -> bool {
        if self.index.contains_key(&key) {
            return false;
        }
        self.index.insert(key, self.keys.len());
        self.keys.push(key);
        true
    }

    /// Removes `key`; false if it was not there.
    pub(super) fn remove(&mut self, key: ConnKey) -> bool {
        let Some(i) = self.index.remove(&key) else {
            return false;
        };
        self.keys.swap_remove(i);
        // The former last key now sits at `i` (unless `key` was the last).
        if let Some(&moved) = self.keys.get(i) {
            self.index.insert(moved, i);
        }
        self.shrink();
        true
    }

    pub(super) fn as_slice(&self) -> &[ConnKey] {
        &self.keys
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// A topic that once had 100,000 subscribers and now has ten should not
    /// keep 100,000 slots. Halving the capacity when it is four times the
    /// length keeps removal amortised O(1) (a shrink is paid for by the
    /// removals since the last one) and never shrinks back and forth.
    fn shrink(&mut self) {
        let len = self.keys.len();
        if len < self.keys.capacity() / 4 {
            self.keys.shrink_to(len * 2);
            self.index.shrink_to(len * 2);
        }
    }

    #[cfg(test)]
    fn check(&self) {
        assert_eq!(self.keys.len(), self.index.len());
        for (i, key) in self.keys.iter().enumerate() {
            assert_eq!(self.index.get(key), Some(&i), "{key} at {i}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: index / 7 }
    }

    #[test]
    fn insert_is_idempotent() {
        let mut s = Subscribers::default();
        assert!(s.insert(key(1)));
        assert!(!s.insert(key(1)));
        assert_eq!(s.as_slice(), &[key(1)]);
    }

    #[test]
    fn remove_of_an_absent_key_is_a_no_op() {
        let mut s = Subscribers::default();
        s.insert(key(1));
        assert!(!s.remove(key(2)));
        assert!(!s.remove(ConnKey { index: 1, gen: 99 }), "same index, other generation");
        assert_eq!(s.as_slice(), &[key(1)]);
    }

    #[test]
    fn remove_first_middle_and_last() {
        for gone in 0..3 {
            let mut s = Subscribers::default();
            for i in 0..3 {
                s.insert(key(i));
            }
            assert!(s.remove(key(gone)));
            s.check();
            let mut left: Vec<u32> = s.as_slice().iter().map(|k| k.index).collect();
            left.sort_unstable();
            assert_eq!(left, (0..3).filter(|&i| i != gone).collect::<Vec<_>>());
        }
    }

    /// Marsaglia's xorshift64: a reproducible sequence without a crate.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn swap_remove_agrees_with_a_hash_set_under_random_operations() {
        let mut rng = 0x9E37_79B9_7F4A_7C15;
        let mut s = Subscribers::default();
        let mut model = HashSet::new();
        for step in 0..20_000 {
            // Few distinct keys, so inserts and removes often hit members;
            // a bias towards inserting in the first half, removing in the second,
            // so the set grows large and then shrinks through `shrink`.
            let r = xorshift(&mut rng);
            let k = key((r >> 8) as u32 % 600);
            let insert = (r & 0xff) < if step < 10_000 { 170 } else { 90 };
            if insert {
                assert_eq!(s.insert(k), model.insert(k), "step {step}");
            } else {
                assert_eq!(s.remove(k), model.remove(&k), "step {step}");
            }
            assert_eq!(s.as_slice().len(), model.len());
            if step % 97 == 0 {
                s.check();
                assert_eq!(s.as_slice().iter().copied().collect::<HashSet<_>>(), model);
            }
        }
        s.check();
        for k in model.drain() {
            assert!(s.remove(k));
        }
        assert!(s.is_empty());
        assert_eq!((s.keys.capacity(), s.index.capacity()), (0, 0), "shrunk as it emptied");
        s.check();
    }
}
