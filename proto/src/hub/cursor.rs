//! A replay as a cursor into history (SPEC §5: "a replay (Last-Event-ID)
//! larger than `--max-queue` → streamed as the client reads, never more than
//! `--max-queue` queued at once: every event still in history arrives, in
//! order, none twice").
//!
//! A stream that resumes holds a [`Cursor`]: for each of its topics, the last
//! id the client has. The caller asks [`Cursor::peek`] what comes next, queues
//! it if it fits the room left in the stream's queue, and then
//! [`Cursor::advance`]s; when the socket drains it asks again. Nothing is
//! copied out of history ahead of the socket, so a client 12 MiB behind costs
//! a cursor, not 12 MiB.
//!
//! While a cursor runs, its stream is not among the topic's live
//! subscribers: what is published meanwhile goes to history, and the cursor
//! reaches it there. At [`Next::CaughtUp`] the caller makes the stream a live
//! subscriber at once (the loop is single-threaded: nothing is published in
//! between), so the replay and the live events meet with no gap and no
//! event twice.
//!
//! Gaps (SPEC §2) are found as the cursor moves, not only at the start:
//! - the client's next id is older than the oldest kept (history moved past
//!   it, before the replay or during a slow one): [`Next::Reset`] with the
//!   oldest id kept, and the cursor continues from there;
//! - the client's id is newer than the topic's newest ("its history was
//!   lost, e.g. by a restart"): the same reset, then everything kept.
//!
//! Topics are looked up by name at each step, so a topic forgotten and made
//! again while the cursor waits is seen as it is now: its ids start above
//! every id given before (hub/mod.rs), so the client's id is older than its
//! oldest, a gap.

use std::rc::Rc;

use super::{Hub, Message};

/// How far a resuming stream is in each of its topics.
#[derive(Debug)]
pub struct Cursor {
    /// `(topic, the last id the client has)`, in the stream's topic order.
    at: Vec<(Rc<str>, u64)>,
}

/// What a stream gets next.
#[derive(Clone, Debug)]
pub enum Next {
    /// Events of topic `topic` (an index into the cursor's topics) after the
    /// client's id are gone; `oldest` is the first the client can still get
    /// (the oldest kept, or the next id when nothing is kept).
    Reset { topic: usize, oldest: u64 },
    /// The next event the client lacks, of topic `topic`.
    Message { topic: usize, msg: Rc<Message> },
    /// Every topic is at its newest id: go live.
    CaughtUp,
}

impl Cursor {
    /// A cursor at `after[i]` in `topics[i]`.
    pub fn new(topics: &[&str], after: &[u64]) -> Cursor {
        debug_assert_eq!(topics.len(), after.len());
        Cursor { at: topics.iter().zip(after).map(|(&t, &a)| (Rc::from(t), a)).collect() }
    }

    /// The topics, in the order given to [`Cursor::new`].
    pub fn topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.at.iter().map(|(t, _)| &**t)
    }

    /// The last id the client has in each topic, in the same order.
    pub fn positions(&self) -> impl Iterator<Item = u64> + '_ {
        self.at.iter().map(|&(_, after)| after)
    }

    /// Whether some topic has a gap (a [`Next::Reset`] will come): a
    /// WebSocket cannot be told in-band, so it is closed before anything is
    /// sent (SPEC §2), whichever of its topics has the gap.
    pub fn gap(&self, hub: &Hub) -> bool {
        self.at.iter().any(|(name, after)| {
            let (first, last) = bounds(hub, name);
            *after > last || after.saturating_add(1) < first
        })
    }

    /// What comes next: the first topic (in order) that has something for
    /// the client. Several topics are replayed topic by topic; every
    /// multi-topic event carries every position, so a stream cut anywhere
    /// resumes each topic where it stopped.
    pub fn peek(&self, hub: &Hub) -> Next {
        for (i, (name, after)) in self.at.iter().enumerate() {
            let (first, last) = bounds(hub, name);
            // SPEC §2: newer than the newest id, or older than the oldest
            // kept: the client lost events it can never get.
            if *after > last || after.saturating_add(1) < first {
                return Next::Reset { topic: i, oldest: first };
            }
            if *after < last {
                let Some(msg) = hub.topic(name).and_then(|t| t.history.get(after + 1)) else {
                    // first <= after + 1 <= last: kept. Unreachable unless
                    // the ring broke its contiguity; a reset is the honest
                    // answer then.
                    return Next::Reset { topic: i, oldest: first };
                };
                return Next::Message { topic: i, msg: Rc::clone(msg) };
            }
        }
        Next::CaughtUp
    }

    /// Records that `next` (from [`Cursor::peek`]) was sent.
    pub fn advance(&mut self, next: &Next) {
        match *next {
            Next::Reset { topic, oldest } => self.at[topic].1 = oldest - 1,
            Next::Message { topic, ref msg } => self.at[topic].1 = msg.id,
            Next::CaughtUp => {}
        }
    }
}

/// `(oldest id kept, last id)` of a topic; for one that does not exist, the
/// empty history a new one would start with.
fn bounds(hub: &Hub, name: &str) -> (u64, u64) {
    match hub.topic(name) {
        Some(t) => (t.history.first_kept(), t.history.last_id()),
        None => (hub.last_id(name) + 1, hub.last_id(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a cursor to the end, as a stream that reads everything would:
    /// `r{topic}:{oldest}` for a reset, `{topic}{id}` for an event.
    fn drain(hub: &Hub, cursor: &mut Cursor) -> Vec<String> {
        let mut got = Vec::new();
        let names: Vec<String> = cursor.topics().map(String::from).collect();
        loop {
            let next = cursor.peek(hub);
            match &next {
                Next::Reset { topic, oldest } => got.push(format!("r{}:{oldest}", names[*topic])),
                Next::Message { topic, msg } => got.push(format!("{}{}", names[*topic], msg.id)),
                Next::CaughtUp => return got,
            }
            cursor.advance(&next);
            assert!(got.len() < 10_000, "the cursor does not end");
        }
    }

    /// A topic with `count` messages, and a subscriber that keeps it (and
    /// its ids) even when nothing is kept.
    fn hub_with(history: usize, topic: &str, count: u64) -> Hub {
        let mut hub = Hub::new(crate::hub::tests::limits(history));
        hub.subscribe(topic, crate::key::ConnKey { index: 99, gen: 0 }, crate::hub::Kind::Ws).unwrap();
        for _ in 0..count {
            hub.publish(topic, None, b"x", false).unwrap();
        }
        hub
    }

    #[test]
    fn single_topic_table() {
        /// (history, published, the client's last id, what it gets)
        type Case = (usize, u64, u64, &'static [&'static str]);
        let cases: &[Case] = &[
            (5, 3, 0, &["t1", "t2", "t3"]),
            (5, 3, 1, &["t2", "t3"]),
            (5, 3, 3, &[]),
            // Newer than the newest (a previous run's id): a gap, then all kept.
            (5, 3, 4, &["rt:1", "t1", "t2", "t3"]),
            (5, 3, u64::MAX, &["rt:1", "t1", "t2", "t3"]),
            (3, 10, 9, &["t10"]),
            (3, 10, 10, &[]),
            (3, 10, 12, &["rt:8", "t8", "t9", "t10"]),
            // Older than the oldest kept.
            (3, 10, 0, &["rt:8", "t8", "t9", "t10"]),
            (3, 10, 6, &["rt:8", "t8", "t9", "t10"]),
            (3, 10, 7, &["t8", "t9", "t10"]),
            // Nothing kept: the gap, and nothing to replay.
            (0, 4, 2, &["rt:5"]),
            (0, 4, 4, &[]),
            (0, 4, 9, &["rt:5"]),
            // A topic never published to.
            (5, 0, 0, &[]),
            (5, 0, 5, &["rt:1"]),
        ];
        for &(history, published, after, want) in cases {
            let hub = hub_with(history, "t", published);
            let mut cursor = Cursor::new(&["t"], &[after]);
            assert_eq!(drain(&hub, &mut cursor), want, "{:?}", (history, published, after));
            assert_eq!(cursor.positions().collect::<Vec<_>>(), [hub.last_id("t")]);
        }
    }

    #[test]
    fn several_topics_in_order_then_caught_up() {
        let mut hub = Hub::new(crate::hub::tests::limits(3));
        for t in ["a", "b", "a", "a", "a", "b"] {
            hub.publish(t, None, b"x", false).unwrap();
        }
        // a: 1..4 with 2..4 kept; b: 1, 2.
        let mut cursor = Cursor::new(&["a", "b", "c"], &[1, 0, 7]);
        assert_eq!(drain(&hub, &mut cursor), ["a2", "a3", "a4", "b1", "b2", "rc:1"]);
        assert_eq!(cursor.positions().collect::<Vec<_>>(), [4, 2, 0]);
    }

    #[test]
    fn what_is_published_meanwhile_is_reached_in_history() {
        let mut hub = hub_with(100, "t", 3);
        let mut cursor = Cursor::new(&["t"], &[0]);
        let next = cursor.peek(&hub);
        cursor.advance(&next);
        hub.publish("t", None, b"x", false).unwrap();
        assert_eq!(drain(&hub, &mut cursor), ["t2", "t3", "t4"]);
    }

    #[test]
    fn a_history_that_moves_past_a_slow_replay_resets_and_goes_on() {
        let mut hub = hub_with(3, "t", 3);
        let mut cursor = Cursor::new(&["t"], &[0]);
        let next = cursor.peek(&hub);
        assert!(matches!(&next, Next::Message { msg, .. } if msg.id == 1));
        cursor.advance(&next);
        // Meanwhile 4, 5, 6 push 1..3 out: the client has 1 and needs 2.
        for _ in 0..3 {
            hub.publish("t", None, b"x", false).unwrap();
        }
        assert_eq!(drain(&hub, &mut cursor), ["rt:4", "t4", "t5", "t6"]);
    }

    #[test]
    fn a_forgotten_topic_made_again_is_a_gap_not_a_repeat() {
        // The review's case: the client has t:3; t's history is evicted, t
        // is forgotten, then t is published to again.
        let one = crate::hub::Message::new("t".into(), 1, None, b"x", false, 0).cost();
        let limits = crate::hub::Limits { history: 10, history_bytes: 5 * one, max_topics: 10 };
        let mut hub = Hub::new(limits);
        for _ in 0..5 {
            hub.publish("t", None, b"x", false).unwrap();
        }
        for _ in 0..5 {
            hub.publish("u", None, b"x", false).unwrap();
        }
        assert!(!hub.exists("t"), "t was forgotten");
        let mut waiting = Cursor::new(&["t"], &[3]);
        assert!(waiting.gap(&hub));
        for _ in 0..5 {
            hub.publish("t", None, b"x", false).unwrap();
        }
        assert_eq!(hub.last_id("t"), 10, "ids go on above 5");
        // What history kept of 6..=10 (ten-digit ids cost a byte more), after
        // the reset that says 4 and 5 are lost.
        let oldest = hub.topic("t").unwrap().history.first_kept();
        let mut want = vec![format!("rt:{oldest}")];
        want.extend((oldest..=10).map(|id| format!("t{id}")));
        assert!(oldest > 5);
        assert_eq!(drain(&hub, &mut waiting), want);
        // A client that starts live at a topic that does not exist yet has
        // no gap.
        let fresh = Cursor::new(&["v"], &[hub.last_id("v")]);
        assert!(!fresh.gap(&hub) && matches!(fresh.peek(&hub), Next::CaughtUp));
    }

    #[test]
    fn gap_sees_every_topic() {
        let hub = hub_with(2, "t", 5);
        let cases: &[(&[u64], bool)] = &[(&[3, 0], false), (&[2, 0], true), (&[3, 9], true), (&[6, 0], true)];
        for &(after, want) in cases {
            assert_eq!(Cursor::new(&["t", "u"], after).gap(&hub), want, "{after:?}");
        }
    }

    #[test]
    fn peek_does_not_move() {
        let hub = hub_with(5, "t", 2);
        let cursor = Cursor::new(&["t"], &[0]);
        for _ in 0..2 {
            assert!(matches!(cursor.peek(&hub), Next::Message { topic: 0, ref msg } if msg.id == 1));
        }
    }
}
