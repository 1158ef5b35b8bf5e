//! The subscribers of a topic: one contiguous slice per kind, which is what
//! a publish hands to the caller, and where each member sits in it, so that
//! removal is O(1).
//!
//! Each kind gets different bytes for the same message (an event, a frame,
//! a multi-topic event or frame, a long-poll's answer), so each has its own
//! `Vec<ConnKey>`: a publish walks the slices and never asks a subscriber
//! what it is.
//!
//! A `Vec` alone makes removal O(n) (find, then shift). So the hub keeps, per
//! member, a [`Member`] in one hub-wide [`ConnMap`](crate::key_map::ConnMap):
//! its topic, its kind and its position in that slice. Removal is a
//! `swap_remove` at the position plus one fix-up of the member that moved
//! into the hole ([`Sets::swap_remove`] says which). The order of a slice is
//! therefore not the order of subscription, and nothing may rely on it.

use std::num::NonZeroU32;

use crate::key::ConnKey;

/// What a subscriber receives a message as.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    /// An event stream of one topic: `Message::sse`, the event encoded once.
    Sse,
    /// A WebSocket of one topic: one frame (text, or binary if published as
    /// binary), framed once by the caller.
    Ws,
    /// An event stream of several topics: its own `id:` line, then the
    /// message's shared encoding (hub/multi.rs).
    MultiSse,
    /// A WebSocket of several topics: one JSON frame, made once.
    MultiWs,
    /// A parked long-poll (SPEC §2 `/poll`): answered, and gone, at the
    /// topic's next publish.
    Poll,
}

impl Kind {
    pub(super) const ALL: [Kind; 5] = [Kind::Sse, Kind::Ws, Kind::MultiSse, Kind::MultiWs, Kind::Poll];

    /// Whether a connection of this kind follows several topics (and so is
    /// in `Hub::multi`, not `Hub::members`).
    pub(super) fn multi(self) -> bool {
        matches!(self, Kind::MultiSse | Kind::MultiWs)
    }
}

/// Bits of [`Member::at`] that hold the kind.
const KIND_BITS: u32 = 3;

/// Where a member is: its topic, its kind and its position in that topic's
/// slice of that kind, in 8 bytes, so that a [`ConnMap`] slot, which adds
/// the generation, is 12 (asserted in hub/mod.rs): every subscriber costs
/// one slot.
///
/// [`ConnMap`]: crate::key_map::ConnMap
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Member {
    /// The topic's index in the hub's slab, plus one: the `NonZero` is the
    /// niche that stores the slot's `None`.
    topic: NonZeroU32,
    /// `position << 3 | kind`. A position is below the number of open
    /// connections, and Linux caps a process's descriptors (`fs.nr_open`,
    /// 2^20 by default) far below 2^29, so the shift loses nothing.
    at: u32,
}

impl Member {
    /// `topic`: the slab index. The hub has fewer than 2^32 - 1 topics:
    /// each costs well over 100 bytes, so the process would run out of
    /// memory first.
    pub(super) fn new(topic: usize, kind: Kind, position: u32) -> Member {
        let topic =
            u32::try_from(topic + 1).ok().and_then(NonZeroU32::new).expect("fewer than 2^32 - 1 topics");
        Member { topic, at: Member::pack(position, kind) }
    }

    pub(super) fn topic(self) -> usize {
        self.topic.get() as usize - 1
    }

    pub(super) fn kind(self) -> Kind {
        Kind::ALL[((self.at & ((1 << KIND_BITS) - 1)) as usize).min(Kind::ALL.len() - 1)]
    }

    pub(super) fn position(self) -> u32 {
        self.at >> KIND_BITS
    }

    /// The same member after a removal moved it to `position`.
    pub(super) fn moved_to(self, position: u32) -> Member {
        Member { topic: self.topic, at: Member::pack(position, self.kind()) }
    }

    fn pack(position: u32, kind: Kind) -> u32 {
        debug_assert!(position < 1 << (32 - KIND_BITS), "position {position}");
        position << KIND_BITS | kind as u32
    }
}

/// One topic's subscribers, densely, per kind.
#[derive(Debug, Default)]
pub(super) struct Sets {
    keys: [Vec<ConnKey>; Kind::ALL.len()],
}

impl Sets {
    pub(super) fn of(&self, kind: Kind) -> &[ConnKey] {
        &self.keys[kind as usize]
    }

    fn of_mut(&mut self, kind: Kind) -> &mut Vec<ConnKey> {
        &mut self.keys[kind as usize]
    }

    /// Takes every member of one kind out (the long-polls a publish answers).
    pub(super) fn take(&mut self, kind: Kind) -> Vec<ConnKey> {
        std::mem::take(self.of_mut(kind))
    }

    /// Appends `key` to the `kind` slice; its position there. (Below 2^29:
    /// see [`Member::at`].)
    pub(super) fn push(&mut self, kind: Kind, key: ConnKey) -> u32 {
        let keys = self.of_mut(kind);
        let position = keys.len() as u32;
        keys.push(key);
        position
    }

    /// Removes the member at `position` of the `kind` slice. Returns the
    /// member that moved into `position` (the former last one), whose
    /// [`Member`] must now say so; `None` when the removed one was last.
    pub(super) fn swap_remove(&mut self, kind: Kind, position: u32) -> Option<ConnKey> {
        let keys = self.of_mut(kind);
        let position = position as usize;
        keys.swap_remove(position);
        let moved = keys.get(position).copied();
        // A topic that once had 100,000 subscribers and now has ten should
        // not keep 100,000 slots. Halving the capacity when it is four times
        // the length keeps removal amortised O(1) (a shrink is paid for by
        // the removals since the last one) and never shrinks back and forth.
        let len = keys.len();
        if len < keys.capacity() / 4 {
            keys.shrink_to(len * 2);
        }
        moved
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.iter().all(Vec::is_empty)
    }

    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.keys.iter().map(Vec::capacity).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: index / 7 }
    }

    #[test]
    fn member_packs_topic_kind_and_position() {
        let cases: &[(usize, Kind, u32)] = &[
            (0, Kind::Sse, 0),
            (0, Kind::Ws, 0),
            (1, Kind::Ws, 1),
            (41, Kind::Sse, 12_345),
            (7, Kind::MultiSse, 3),
            (7, Kind::MultiWs, 4),
            (7, Kind::Poll, 5),
            (u32::MAX as usize - 1, Kind::Ws, (1 << 29) - 1),
            (u32::MAX as usize - 1, Kind::Poll, (1 << 29) - 1),
        ];
        for &(topic, kind, position) in cases {
            let m = Member::new(topic, kind, position);
            assert_eq!((m.topic(), m.kind(), m.position()), (topic, kind, position), "{m:?}");
            let moved = m.moved_to(7);
            assert_eq!((moved.topic(), moved.kind(), moved.position()), (topic, kind, 7), "{m:?}");
        }
    }

    #[test]
    fn kinds_are_apart() {
        let mut s = Sets::default();
        assert_eq!(s.push(Kind::Sse, key(1)), 0);
        assert_eq!(s.push(Kind::Ws, key(2)), 0);
        assert_eq!(s.push(Kind::Ws, key(3)), 1);
        assert_eq!((s.of(Kind::Sse), s.of(Kind::Ws)), (&[key(1)][..], &[key(2), key(3)][..]));
        assert_eq!(s.swap_remove(Kind::Sse, 0), None);
        assert!(!s.is_empty());
        assert_eq!(s.swap_remove(Kind::Ws, 0), Some(key(3)), "the last moved into the hole");
        assert_eq!(s.swap_remove(Kind::Ws, 0), None);
        assert!(s.is_empty());
    }

    #[test]
    fn swap_remove_first_middle_and_last() {
        // (removed position, the key that moved into it, what is left in order)
        let cases: &[(u32, Option<u32>, &[u32])] =
            &[(0, Some(2), &[2, 1]), (1, Some(2), &[0, 2]), (2, None, &[0, 1])];
        for &(gone, moved, left) in cases {
            let mut s = Sets::default();
            for i in 0..3 {
                assert_eq!(s.push(Kind::Ws, key(i)), i);
            }
            assert_eq!(s.swap_remove(Kind::Ws, gone), moved.map(key), "remove at {gone}");
            assert_eq!(s.of(Kind::Ws), left.iter().map(|&i| key(i)).collect::<Vec<_>>(), "remove at {gone}");
        }
    }

    #[test]
    fn capacity_shrinks_as_a_set_empties() {
        let mut s = Sets::default();
        for i in 0..1000 {
            s.push(Kind::Sse, key(i));
        }
        let full = s.capacity();
        for _ in 0..990 {
            s.swap_remove(Kind::Sse, 0);
        }
        assert!(s.capacity() <= 40, "{} of {full} kept for 10", s.capacity());
        for _ in 0..10 {
            s.swap_remove(Kind::Sse, 0);
        }
        assert_eq!(s.capacity(), 0);
    }
}
