//! One topic's history: the last `cap` messages in a ring, with dense ids.
//!
//! Ids are 1, 2, 3, … with no gaps, and the ring always holds a contiguous
//! run ending at the last id. So the message after id `n` is found by
//! subtraction (`index = n + 1 - first_kept`), never by a search: O(1) to find
//! where a replay starts, O(k) to walk the k messages after it.

use std::collections::vec_deque::{self, VecDeque};
use std::rc::Rc;

use super::Message;

#[derive(Debug, Default)]
pub(super) struct History {
    /// Messages `first_kept()..=last_id`, oldest first; at most `cap` long.
    ring: VecDeque<Rc<Message>>,
    /// The id of the last message published, kept or not; 0 before the first.
    last_id: u64,
}

/// What a reconnecting client is owed: SPEC §2, "`Last-Event-ID` ... replays
/// the missed events from history; when the gap is older than history, an
/// `event: reset` (data: the oldest id still kept) tells the client it lost
/// messages before the replay starts."
#[derive(Clone, Debug)]
pub struct Replay<'a> {
    /// `Some(oldest)` when messages after the client's id were already
    /// dropped: send [`encode_reset`](super::encode_reset)`(oldest)` before
    /// the messages. `oldest` is the first id the client can still get: the
    /// oldest message kept or, when nothing is kept (`--history 0`), the id
    /// the next publish will take.
    pub reset: Option<u64>,
    /// The kept messages after the client's id, oldest first.
    pub messages: vec_deque::Iter<'a, Rc<Message>>,
}

impl Replay<'_> {
    /// Nothing to send: the client is up to date (or names no topic we know).
    pub fn none() -> Self {
        Replay { reset: None, messages: vec_deque::Iter::default() }
    }
}

impl History {
    /// A history whose first message will get id `last_id + 1`: a topic
    /// made again after being forgotten continues above every id the hub
    /// gave before, so no client's old id can name one of its new events.
    pub(super) fn after(last_id: u64) -> History {
        History { ring: VecDeque::new(), last_id }
    }

    /// The id the next message gets.
    pub(super) fn next_id(&self) -> u64 {
        self.last_id + 1
    }

    pub(super) fn last_id(&self) -> u64 {
        self.last_id
    }

    /// The oldest id still kept; `last_id + 1` when nothing is kept.
    pub(super) fn first_kept(&self) -> u64 {
        // The ring holds the last `len` ids, so `len <= last_id`.
        self.last_id + 1 - self.ring.len() as u64
    }

    /// Records the message that took [`next_id`](Self::next_id), dropping
    /// the oldest kept one if that makes more than `cap` (returned, so the
    /// hub can count its bytes out). With `cap == 0` only the id counter
    /// moves.
    pub(super) fn push(&mut self, msg: &Rc<Message>, cap: usize) -> Option<Rc<Message>> {
        debug_assert_eq!(msg.id, self.next_id(), "ids are dense");
        self.last_id = msg.id;
        if cap == 0 {
            return None;
        }
        let dropped = if self.ring.len() >= cap { self.ring.pop_front() } else { None };
        self.ring.push_back(Rc::clone(msg));
        dropped
    }

    /// Drops the oldest kept message (`--history-bytes` eviction). The ring
    /// stays a contiguous run ending at the last id, so `first_kept` moves up.
    pub(super) fn pop_front(&mut self) -> Option<Rc<Message>> {
        let dropped = self.ring.pop_front();
        // A ring that held thousands and now holds a few gives memory back.
        if self.ring.len() < self.ring.capacity() / 4 {
            self.ring.shrink_to(self.ring.len() * 2);
        }
        dropped
    }

    /// The oldest kept message.
    pub(super) fn front(&self) -> Option<&Rc<Message>> {
        self.ring.front()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The message with this id, if it is kept. O(1): ids are dense.
    pub(super) fn get(&self, id: u64) -> Option<&Rc<Message>> {
        let index = id.checked_sub(self.first_kept())?;
        self.ring.get(usize::try_from(index).ok()?)
    }

    /// Everything after `after` that is still kept. See [`Replay`].
    pub(super) fn replay(&self, after: u64) -> Replay<'_> {
        // Up to date, or an id we never issued (a client of a previous
        // server run, or garbage): nothing to replay, and a reset would be a
        // guess, so none.
        if after >= self.last_id {
            return Replay::none();
        }
        let first = self.first_kept();
        // The client needs `after + 1` next (no overflow: after < last_id).
        let wanted = after + 1;
        if wanted < first {
            return Replay { reset: Some(first), messages: self.ring.iter() };
        }
        // first <= wanted <= last_id, so the index is inside the ring; the
        // clamp only makes `range` unable to panic if that ever stopped holding.
        let start = usize::try_from(wanted - first).unwrap_or(usize::MAX).min(self.ring.len());
        Replay { reset: None, messages: self.ring.range(start..) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: u64) -> Rc<Message> {
        Rc::new(Message::new("t".into(), id, None, b"", false, id))
    }

    fn filled(cap: usize, count: u64) -> History {
        let mut h = History::default();
        for _ in 0..count {
            h.push(&message(h.next_id()), cap);
        }
        h
    }

    fn ids(r: &Replay<'_>) -> Vec<u64> {
        r.messages.clone().map(|m| m.id).collect()
    }

    #[test]
    fn ids_are_dense_and_start_at_one() {
        let h = filled(3, 0);
        assert_eq!((h.last_id(), h.next_id(), h.first_kept()), (0, 1, 1));
        let h = filled(3, 10);
        assert_eq!((h.last_id(), h.next_id(), h.first_kept()), (10, 11, 8));
        assert_eq!(h.ring.iter().map(|m| m.id).collect::<Vec<_>>(), [8, 9, 10]);
    }

    #[test]
    fn replay_table() {
        /// (cap, published, after, reset, ids replayed)
        type Case = (usize, u64, u64, Option<u64>, &'static [u64]);
        let cases: &[Case] = &[
            // Nothing published: nothing to replay, whatever the client says.
            (3, 0, 0, None, &[]),
            (3, 0, 5, None, &[]),
            // All of it still kept.
            (5, 3, 0, None, &[1, 2, 3]),
            (5, 3, 1, None, &[2, 3]),
            (5, 3, 3, None, &[]),
            (5, 3, 4, None, &[]),
            (5, 3, u64::MAX, None, &[]),
            // History 3, ten published: 8, 9, 10 kept.
            (3, 10, 0, Some(8), &[8, 9, 10]),
            (3, 10, 2, Some(8), &[8, 9, 10]),
            // Has up to 6, needs 7, which is gone.
            (3, 10, 6, Some(8), &[8, 9, 10]),
            // Has up to 7, needs 8, which is kept: no loss, no reset.
            (3, 10, 7, None, &[8, 9, 10]),
            (3, 10, 9, None, &[10]),
            (3, 10, 10, None, &[]),
            (3, 10, 11, None, &[]),
            // History 1.
            (1, 4, 2, Some(4), &[4]),
            (1, 4, 3, None, &[4]),
            // History 0: nothing kept, so a client behind learns it lost
            // everything up to the next id.
            (0, 4, 0, Some(5), &[]),
            (0, 4, 3, Some(5), &[]),
            (0, 4, 4, None, &[]),
        ];
        for &(cap, published, after, reset, want) in cases {
            let h = filled(cap, published);
            let r = h.replay(after);
            let case = (cap, published, after);
            assert_eq!(r.reset, reset, "{case:?}");
            assert_eq!(ids(&r), want, "{case:?}");
            assert_eq!(r.messages.len(), want.len(), "exact size, {case:?}");
        }
    }

    #[test]
    fn get_finds_kept_ids_only() {
        let h = filled(3, 10);
        let got: Vec<Option<u64>> = (0..=11).map(|id| h.get(id).map(|m| m.id)).collect();
        let mut want = vec![None; 8];
        want.extend([Some(8), Some(9), Some(10), None]);
        assert_eq!(got, want);
        assert!(filled(0, 5).get(5).is_none());
    }

    #[test]
    fn push_returns_what_the_cap_drops_and_pop_front_moves_the_start() {
        let mut h = filled(2, 2);
        assert!(h.push(&message(3), 2).is_some_and(|m| m.id == 1));
        assert_eq!(h.pop_front().map(|m| m.id), Some(2));
        assert_eq!((h.first_kept(), h.last_id(), h.front().map(|m| m.id)), (3, 3, Some(3)));
        assert_eq!(h.pop_front().map(|m| m.id), Some(3));
        assert!(h.is_empty());
        assert_eq!((h.first_kept(), h.next_id()), (4, 4), "ids go on when nothing is kept");
        assert!(h.replay(1).reset == Some(4));
    }

    #[test]
    fn history_zero_keeps_nothing_but_counts() {
        let h = filled(0, 1000);
        assert_eq!((h.last_id(), h.ring.len(), h.ring.capacity()), (1000, 0, 0));
    }

    #[test]
    fn the_ring_never_grows_past_its_cap() {
        let h = filled(1000, 5000);
        assert_eq!(h.ring.len(), 1000);
        assert!(h.ring.capacity() < 2048, "{}", h.ring.capacity());
    }
}
