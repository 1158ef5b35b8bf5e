//! Every connection of a loop: a slab of [`Connection`]s, each named from
//! outside by a [`ConnKey`] (its slab index and a generation, so a key of a
//! closed connection never reaches the one that took its slot), and their
//! deadlines in a timer wheel of their own.
//!
//! Deadlines are cancelled lazily: a connection moves its deadline by
//! writing one integer, and asks for a wheel entry only when no entry would
//! fire by then (see [`Connection::arm`]); an entry that fires for a
//! connection that is gone, or that holds another entry, is dropped, and one
//! whose deadline moved later is re-armed. A wheel entry is a deadline and a
//! key, 16 bytes.

use std::ops::{Index, IndexMut};

use slab::Slab;

use super::stream::Spread;
use super::{Connection, Open, Phase, Timeouts, Timer};
use crate::key::ConnKey;
use crate::timer::Wheel;

pub struct Table<S> {
    slab: Slab<Connection<S>>,
    /// Every connection ever made gets the next generation.
    next_gen: u32,
    deadlines: Wheel<ConnKey>,
    /// Entries the last [`Table::advance`] took from the wheel, and how many
    /// of them [`Table::next_due`] has looked at.
    expired: Vec<(u64, ConnKey)>,
    seen: usize,
}

impl<S> Default for Table<S> {
    fn default() -> Self {
        Table { slab: Slab::new(), next_gen: 0, deadlines: Wheel::new(0), expired: Vec::new(), seen: 0 }
    }
}

impl<S> Table<S> {
    /// The slab index the next [`Table::insert`] will use (a poll needs it
    /// as the socket's token before the connection exists).
    pub fn vacant_index(&self) -> usize {
        self.slab.vacant_key()
    }

    /// A connection just accepted, at [`Table::vacant_index`], with its head
    /// deadline in the wheel (see [`Connection::new`]).
    pub fn insert(&mut self, socket: S, now: u64, t: &Timeouts, open: &mut Open) -> ConnKey {
        let gen = self.next_gen;
        self.next_gen = self.next_gen.wrapping_add(1);
        let (conn, at) = Connection::new(socket, gen, now, t, open);
        let key = ConnKey { index: self.slab.insert(conn) as u32, gen };
        self.deadlines.insert(at, key);
        key
    }

    /// Removes a connection (its wheel entries go stale).
    pub fn remove(&mut self, index: usize) -> Option<Connection<S>> {
        self.slab.try_remove(index)
    }

    pub fn get(&self, index: usize) -> Option<&Connection<S>> {
        self.slab.get(index)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Connection<S>> {
        self.slab.get_mut(index)
    }

    pub fn contains(&self, index: usize) -> bool {
        self.slab.contains(index)
    }

    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Connection<S>)> {
        self.slab.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Connection<S>)> {
        self.slab.iter_mut()
    }

    /// The key of the connection at `index`.
    pub fn key(&self, index: usize) -> Option<ConnKey> {
        self.slab.get(index).map(|c| ConnKey { index: index as u32, gen: c.gen })
    }

    /// The connection a key names, if it is still that connection.
    pub fn index_of(&self, key: ConnKey) -> Option<usize> {
        let index = key.index as usize;
        (self.slab.get(index)?.gen == key.gen).then_some(index)
    }

    /// Inserts the wheel entry a connection asked for (a time one of its
    /// methods returned).
    pub fn schedule(&mut self, index: usize, at: u64) {
        if let Some(key) = self.key(index) {
            self.deadlines.insert(at, key);
        }
    }

    /// When the earliest wheel entry fires.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.next_deadline()
    }

    /// Takes every entry due by `now` from the wheel; [`Table::next_due`]
    /// then says, one at a time, whose deadline passed.
    pub fn advance(&mut self, now: u64) {
        self.expired.clear();
        self.seen = 0;
        self.deadlines.advance(now, &mut self.expired);
    }

    /// The next connection whose deadline has passed (see
    /// [`Connection::expired`] for what it means), in the wheel's order.
    /// Each entry is judged when its turn comes, so what handling one
    /// connection's deadline does to another's (an event that moves its idle
    /// deadline) counts.
    pub fn next_due(&mut self, now: u64) -> Option<usize> {
        while let Some(&(at, key)) = self.expired.get(self.seen) {
            self.seen += 1;
            let Some(index) = self.index_of(key) else { continue };
            match self.slab[index].on_timer(at, now) {
                Timer::Stale => {}
                Timer::Rearm(later) => self.deadlines.insert(later, key),
                Timer::Due => return Some(index),
            }
        }
        None
    }
}

/// SPEC §1's shutdown as it applies to the connections: "stop accepting,
/// finish in-flight responses, then exit". What the driver carries out, in
/// this order: close the idle, answer the parked, then [`Table::spread`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drain {
    /// Between requests with every answer out: closed now.
    pub idle: Vec<usize>,
    /// Parked long-polls: answered now (with their timeout's answer and
    /// `Connection: close`) rather than cut at the drain deadline.
    pub parked: Vec<usize>,
    /// When whatever is still open is closed.
    pub deadline: u64,
}

impl<S> Table<S> {
    /// The drain beginning at `now`, over `window` ms.
    pub fn drain(&self, now: u64, window: u64) -> Drain {
        let mut plan = Drain { deadline: now + window, ..Drain::default() };
        for (index, conn) in self.slab.iter() {
            match conn.phase() {
                _ if conn.is_idle() => plan.idle.push(index),
                Phase::Parked { .. } => plan.parked.push(index),
                _ => {}
            }
        }
        plan
    }

    /// SPEC §1: every stream and socket gets its `retry:` (SSE) and its
    /// close time, spread evenly over `window` (see [`Spread`]; `seed`
    /// spreads the reconnects). Returns them: their output waits to be
    /// flushed.
    pub fn spread(&mut self, now: u64, window: u64, seed: u64, pool: &mut super::QueuePool) -> Vec<usize> {
        let streams: Vec<usize> = self
            .slab
            .iter()
            .filter(|(_, c)| matches!(c.phase(), Phase::Sse { .. } | Phase::Ws { .. }))
            .map(|(i, _)| i)
            .collect();
        let mut spread = Spread::new(seed, window, streams.len(), now);
        for (i, &index) in streams.iter().enumerate() {
            let (retry, close_at) = spread.next(i);
            if let Some(at) = self.slab[index].drain(retry, close_at, pool) {
                self.schedule(index, at);
            }
        }
        streams
    }
}

impl<S> Index<usize> for Table<S> {
    type Output = Connection<S>;

    fn index(&self, index: usize) -> &Connection<S> {
        &self.slab[index]
    }
}

impl<S> IndexMut<usize> for Table<S> {
    fn index_mut(&mut self, index: usize) -> &mut Connection<S> {
        &mut self.slab[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::{Expired, Millis, QueuePool};

    const T: Timeouts = Timeouts { header: 10_000, keepalive: 60_000, linger: 2_000 };

    fn due(table: &mut Table<()>, now: u64) -> Vec<usize> {
        table.advance(now);
        std::iter::from_fn(|| table.next_due(now)).collect()
    }

    #[test]
    fn a_key_names_one_connection_and_never_the_next_in_its_slot() {
        let (mut table, mut open) = (Table::default(), Open::default());
        assert_eq!(table.vacant_index(), 0);
        let a = table.insert((), 0, &T, &mut open);
        assert_eq!((a.index, table.index_of(a)), (0, Some(0)));
        let gone = table.remove(0).expect("there");
        gone.retire(&mut open, &mut crate::conn::ws::Budget { held: &mut 0, max: 0 });
        let b = table.insert((), 0, &T, &mut open);
        assert_eq!(b.index, a.index, "the slot is reused");
        assert_eq!(table.index_of(a), None, "the old key names nothing");
        assert_eq!(table.index_of(b), Some(0));
        assert_eq!(open, Open { http: 1, sse: 0, ws: 0 });
    }

    #[test]
    fn a_gone_connection_s_entry_does_not_fire_for_the_one_in_its_slot() {
        let (mut table, mut open) = (Table::default(), Open::default());
        table.insert((), 0, &T, &mut open);
        table.remove(0);
        // The newcomer's head deadline is 5 s later than the old one's.
        table.insert((), 5_000, &T, &mut open);
        assert_eq!(due(&mut table, 10_000), Vec::<usize>::new());
        assert_eq!(due(&mut table, 15_000), [0]);
        assert_eq!(table[0].expired(false), Expired::RequestTimeout);
    }

    #[test]
    fn a_deadline_moved_later_re_arms_and_fires_then() {
        let (mut table, mut open) = (Table::default(), Open::default());
        table.insert((), 0, &T, &mut open);
        table[0].set_served(true);
        assert_eq!(table[0].arm(60_000), None, "the 10 s entry serves");
        assert_eq!(due(&mut table, 10_000), Vec::<usize>::new());
        // The wheel says when to look next (a slot's start, never later).
        assert!(table.next_deadline().is_some_and(|t| t > 10_000 && t <= 60_000));
        assert_eq!(due(&mut table, 60_000), [0]);
        assert_eq!(table[0].expired(false), Expired::Idle);
    }

    #[test]
    fn each_due_entry_is_judged_when_its_turn_comes() {
        let (mut table, mut open) = (Table::default(), Open::default());
        for _ in 0..2 {
            table.insert((), 0, &T, &mut open);
        }
        table.advance(10_000);
        let first = table.next_due(10_000).expect("one is due");
        // Handling it gives the other a later deadline (an event on a stream).
        let other = 1 - first;
        table[other].set_phase(Phase::Sse { idle_ms: Millis::new(5_000) }, &mut open);
        assert_eq!(table[other].arm(15_000), None);
        assert_eq!(table.next_due(10_000), None, "re-armed, not due");
        assert_eq!(due(&mut table, 15_000), [other]);
    }

    #[test]
    fn a_scheduled_entry_fires() {
        let (mut table, mut open) = (Table::default(), Open::default());
        table.insert((), 0, &T, &mut open);
        table[0].reset_timer();
        if let Some(at) = table[0].arm(3_000) {
            table.schedule(0, at);
        }
        assert!(table.next_deadline().is_some_and(|t| t <= 3_000));
        assert_eq!(due(&mut table, 3_000), [0]);
    }

    #[test]
    fn a_drain_closes_the_idle_answers_the_parked_and_spreads_the_streams() {
        let (mut table, mut open) = (Table::default(), Open::default());
        let mut pool = QueuePool::default();
        for _ in 0..6 {
            table.insert((), 0, &T, &mut open);
        }
        table[0].set_served(true);
        table[1].queue(&mut pool).push_bytes(b"an answer still going out");
        table[2].set_phase(Phase::Parked { keep_alive: true, minor: 1 }, &mut open);
        table[3].set_phase(Phase::Sse { idle_ms: Millis::new(0) }, &mut open);
        table[4].set_phase(Phase::Ws { awaiting_pong: false }, &mut open);
        table[5].set_phase(Phase::Closing, &mut open);
        let plan = table.drain(1_000, 5_000);
        assert_eq!(plan.idle, [0], "an answer still going out (1) finishes first");
        assert_eq!(plan.parked, [2]);
        assert_eq!(plan.deadline, 6_000);
        assert_eq!(table.spread(1_000, 5_000, 7, &mut pool), [3, 4]);
        // The SSE stream has its retry: line; each closes at its share.
        assert!(table[3].out.as_ref().is_some_and(|q| !q.is_empty()));
        assert!(table[4].out.is_none(), "a socket's Close 1001 comes at its turn");
        assert_eq!((table[3].deadline(), table[4].deadline()), (1_000, 3_500));
        // The first is due at once, the second at 3.5 s (moved by hand).
        assert_eq!(due(&mut table, 1_000), [3]);
        assert_eq!(table[3].expired(true), Expired::Drain);
        assert_eq!(due(&mut table, 3_500), [4]);
        assert_eq!(table[4].expired(true), Expired::Drain);
    }
}
