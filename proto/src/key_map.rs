//! A table from [`ConnKey`] to a value, one slot per connection index.
//!
//! A key's `index` is the driver's slab index: dense (the slab hands out the
//! lowest free one, reusing freed ones first) and bounded by the number of
//! connections open at once. So the table is an array indexed by it, and
//! each slot keeps the generation its value was stored under: a key whose
//! generation differs (the connection that used the index before, or after)
//! finds nothing.
//!
//! Why not a `HashMap<ConnKey, T>`: a lookup here is two bounds checks and
//! one compare, with no hashing and no probing; a slot is the value plus
//! four bytes, where a hash map pays the whole key, a control byte, and the
//! empty buckets its load factor keeps (7/8 full at best, 7/16 just after it
//! grows). The price: one slot per index up to the highest index used,
//! whether the connection there is in the table or not. That is bounded by
//! the peak number of connections, like the slab itself, so a table that
//! most connections are in (the hub's subscribers) is the right use, and one
//! that a handful of connections are in is not.
//!
//! The array is a `Vec` of pages of [`PAGE`] slots rather than one `Vec`:
//! a page never moves once allocated, so growing the table copies nothing
//! (one `Vec` copies itself at every doubling: 12 MB at a million
//! subscribers, in the middle of an accept burst) and leaves behind no freed
//! old copy that stays resident in the heap; pages (12 KiB for the hub's)
//! also fill the holes that other tables' doublings leave. Measured with
//! 10,000 idle WebSocket subscribers: 112 B of server RSS each, against
//! 121 B with one `Vec`.
//!
//! The table never shrinks (the slab does not either); it only grows to the
//! page of the highest index inserted. Give `T` a niche (a `NonZero` field,
//! an enum, a reference, an `Rc`) and a slot, `Option<(u32, T)>`, is the
//! size of `(u32, T)`: check it with [`ConnMap::SLOT`] where it matters.

use std::fmt;

use crate::key::ConnKey;

/// The generation and the value, or nothing.
type Slot<T> = Option<(u32, T)>;

pub struct ConnMap<T> {
    /// At `key.index`: the generation and the value, or nothing. Page
    /// `index / PAGE`, slot `index % PAGE`; every page is `PAGE` long.
    pages: Vec<Box<[Slot<T>]>>,
    /// Occupied slots, counted as they change (not by a scan).
    len: usize,
}

/// Slots per page: small enough that a table of a few hundred connections
/// is one small allocation, large enough that the page list stays short
/// (a thousand pages at a million connections). 256 and 4096 measured the
/// same as 1024.
pub const PAGE: usize = 1024;

fn split(key: ConnKey) -> (usize, usize) {
    let index = key.index as usize;
    (index / PAGE, index % PAGE)
}

impl<T> ConnMap<T> {
    /// Bytes each connection index costs, whether it holds a value or not.
    pub const SLOT: usize = size_of::<Slot<T>>();

    pub const fn new() -> ConnMap<T> {
        ConnMap { pages: Vec::new(), len: 0 }
    }

    fn slot(&self, key: ConnKey) -> Option<&Slot<T>> {
        let (page, at) = split(key);
        self.pages.get(page).map(|p| &p[at])
    }

    fn slot_mut(&mut self, key: ConnKey) -> Option<&mut Slot<T>> {
        let (page, at) = split(key);
        self.pages.get_mut(page).map(|p| &mut p[at])
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, key: ConnKey) -> Option<&T> {
        match self.slot(key) {
            Some(Some((gen, value))) if *gen == key.gen => Some(value),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: ConnKey) -> Option<&mut T> {
        match self.slot_mut(key) {
            Some(Some((gen, value))) if *gen == key.gen => Some(value),
            _ => None,
        }
    }

    /// Stores `value` under `key`. Returns what the slot held before, with
    /// the key it was stored under: `key`'s previous value, or the entry of
    /// an earlier connection with the same index that nobody removed (the
    /// caller forgot it; the table no longer holds it either way).
    pub fn insert(&mut self, key: ConnKey, value: T) -> Option<(ConnKey, T)> {
        let (page, at) = split(key);
        while self.pages.len() <= page {
            self.pages.push((0..PAGE).map(|_| None).collect());
        }
        let old = self.pages[page][at].replace((key.gen, value));
        match old {
            Some((gen, value)) => Some((ConnKey { index: key.index, gen }, value)),
            None => {
                self.len += 1;
                None
            }
        }
    }

    /// Takes `key`'s value out; nothing when the slot is empty or holds
    /// another generation's.
    pub fn remove(&mut self, key: ConnKey) -> Option<T> {
        let slot = self.slot_mut(key)?;
        let value = match slot {
            Some((gen, _)) if *gen == key.gen => slot.take().map(|(_, value)| value),
            _ => None,
        };
        self.len -= usize::from(value.is_some());
        value
    }

    /// Every entry, by index.
    pub fn iter(&self) -> impl Iterator<Item = (ConnKey, &T)> {
        self.pages.iter().flat_map(|p| p.iter()).enumerate().filter_map(|(index, slot)| {
            slot.as_ref().map(|(gen, value)| (ConnKey { index: index as u32, gen: *gen }, value))
        })
    }
}

impl<T> Default for ConnMap<T> {
    fn default() -> ConnMap<T> {
        ConnMap::new()
    }
}

/// Entries only: the empty slots are the table's business.
impl<T: fmt::Debug> fmt::Debug for ConnMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().map(|(key, value)| (key.to_string(), value))).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::num::NonZeroU32;
    use std::rc::Rc;

    use super::*;

    fn key(index: u32, gen: u32) -> ConnKey {
        ConnKey { index, gen }
    }

    #[test]
    fn slot_sizes() {
        // The niche of the value carries the `None`: the slot is (u32, T).
        assert_eq!(ConnMap::<NonZeroU32>::SLOT, 8);
        assert_eq!(ConnMap::<(NonZeroU32, u32)>::SLOT, 12);
        assert_eq!(ConnMap::<Rc<str>>::SLOT, 24);
        // Without a niche the tag costs an aligned word.
        assert_eq!(ConnMap::<u32>::SLOT, 12);
    }

    /// One operation on the table and what it must answer.
    #[derive(Debug)]
    enum Op {
        Insert(ConnKey, u8, Option<(ConnKey, u8)>),
        Remove(ConnKey, Option<u8>),
        Get(ConnKey, Option<u8>),
    }

    #[test]
    fn operations_table() {
        use Op::*;
        // (name, operations in order, len after)
        let cases: &[(&str, &[Op], usize)] = &[
            ("empty", &[Get(key(0, 0), None), Remove(key(0, 0), None), Get(key(9, 0), None)], 0),
            ("insert then get", &[Insert(key(3, 7), 1, None), Get(key(3, 7), Some(1))], 1),
            ("below the highest index", &[Insert(key(5, 0), 1, None), Get(key(2, 0), None)], 1),
            ("beyond the highest index", &[Insert(key(2, 0), 1, None), Get(key(9, 0), None)], 1),
            (
                "insert again replaces and keeps len",
                &[
                    Insert(key(1, 1), 1, None),
                    Insert(key(1, 1), 2, Some((key(1, 1), 1))),
                    Get(key(1, 1), Some(2)),
                ],
                1,
            ),
            (
                "stale generation finds nothing",
                &[Insert(key(1, 2), 1, None), Get(key(1, 1), None), Get(key(1, 3), None)],
                1,
            ),
            (
                "stale generation removes nothing",
                &[Insert(key(1, 2), 1, None), Remove(key(1, 1), None), Get(key(1, 2), Some(1))],
                1,
            ),
            (
                "index reused: the new generation only",
                &[
                    Insert(key(4, 1), 1, None),
                    Remove(key(4, 1), Some(1)),
                    Insert(key(4, 2), 2, None),
                    Get(key(4, 1), None),
                    Get(key(4, 2), Some(2)),
                ],
                1,
            ),
            (
                "index reused without a remove: the old entry comes back",
                &[
                    Insert(key(4, 1), 1, None),
                    Insert(key(4, 2), 2, Some((key(4, 1), 1))),
                    Get(key(4, 1), None),
                ],
                1,
            ),
            (
                "remove twice",
                &[Insert(key(0, 0), 1, None), Remove(key(0, 0), Some(1)), Remove(key(0, 0), None)],
                0,
            ),
            (
                "both sides of a page boundary",
                &[
                    Insert(key(1023, 0), 1, None),
                    Insert(key(1024, 0), 2, None),
                    Get(key(1023, 0), Some(1)),
                    Get(key(1024, 0), Some(2)),
                    Get(key(1025, 0), None),
                    Get(key(2048, 0), None),
                ],
                2,
            ),
            (
                "a page skipped",
                &[Insert(key(5000, 1), 1, None), Get(key(5000, 1), Some(1)), Get(key(10, 1), None)],
                1,
            ),
            (
                "the index no connection has",
                &[Insert(key(3, 0), 1, None), Get(key(u32::MAX, 0), None), Remove(key(u32::MAX, 0), None)],
                1,
            ),
            (
                "generation u32::MAX",
                &[Insert(key(0, u32::MAX), 1, None), Get(key(0, u32::MAX), Some(1)), Get(key(0, 0), None)],
                1,
            ),
        ];
        for (name, ops, len) in cases {
            let mut map = ConnMap::new();
            for op in *ops {
                match *op {
                    Insert(k, v, want) => assert_eq!(map.insert(k, v), want, "{name}: {op:?}"),
                    Remove(k, want) => assert_eq!(map.remove(k), want, "{name}: {op:?}"),
                    Get(k, want) => {
                        assert_eq!(map.get(k).copied(), want, "{name}: {op:?}");
                        assert_eq!(map.get(k).is_some(), want.is_some(), "{name}: {op:?}");
                    }
                }
            }
            assert_eq!(map.len(), *len, "{name}");
            assert_eq!(map.iter().count(), *len, "{name}");
        }
    }

    #[test]
    fn get_mut_changes_only_the_live_generation() {
        let mut map = ConnMap::new();
        map.insert(key(2, 5), 10);
        assert!(map.get_mut(key(2, 4)).is_none());
        *map.get_mut(key(2, 5)).unwrap() += 1;
        assert_eq!(map.get(key(2, 5)), Some(&11));
    }

    #[test]
    fn iter_yields_keys_with_their_generations_by_index() {
        let mut map = ConnMap::new();
        for (index, gen) in [(3000, 2), (7, 1), (0, 3), (1024, 0), (4, 0)] {
            map.insert(key(index, gen), index * 10);
        }
        map.remove(key(0, 3));
        let got: Vec<(ConnKey, u32)> = map.iter().map(|(k, &v)| (k, v)).collect();
        assert_eq!(got, [(key(4, 0), 40), (key(7, 1), 70), (key(1024, 0), 10240), (key(3000, 2), 30000)]);
        assert_eq!(map.iter().map(|(_, &v)| v).collect::<Vec<_>>(), [40, 70, 10240, 30000]);
        assert_eq!(format!("{map:?}"), r#"{"4/0": 40, "7/1": 70, "1024/0": 10240, "3000/2": 30000}"#);
    }

    /// Marsaglia's xorshift64: a reproducible sequence without a crate.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn agrees_with_a_hash_map_of_one_generation_per_index() {
        let mut rng = 0x5851_F42D_4C95_7F2D;
        let mut map = ConnMap::new();
        // What the driver guarantees the table sees: one live key per index.
        let mut model: HashMap<u32, (u32, u64)> = HashMap::new();
        for step in 0..50_000u64 {
            let r = xorshift(&mut rng);
            // Indices over three pages, so page boundaries are crossed.
            let k = key((r >> 8) as u32 % 2500, (r >> 40) as u32 % 3);
            match r % 3 {
                0 => {
                    let old = model.insert(k.index, (k.gen, step)).map(|(gen, v)| (key(k.index, gen), v));
                    assert_eq!(map.insert(k, step), old, "step {step}");
                }
                1 => {
                    let want = match model.get(&k.index) {
                        Some(&(gen, v)) if gen == k.gen => model.remove(&k.index).map(|_| v),
                        _ => None,
                    };
                    assert_eq!(map.remove(k), want, "step {step}");
                }
                _ => {
                    let want = model.get(&k.index).filter(|(gen, _)| *gen == k.gen).map(|(_, v)| v);
                    assert_eq!(map.get(k), want, "step {step}");
                }
            }
            assert_eq!(map.len(), model.len(), "step {step}");
        }
        assert_eq!(map.iter().count(), model.len());
        for (k, &v) in map.iter() {
            assert_eq!(model.get(&k.index), Some(&(k.gen, v)));
        }
    }
}
