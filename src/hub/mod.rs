//! The hub (SPEC §2): topics, who subscribes to each, and a bounded history
//! of what was published, sans-IO.
//!
//! ```text
//!   POST /topics/t ──► Hub::publish ──► Message { id, sse: Rc<[u8]> }   encoded once
//!                          │                 │
//!                          │                 └──► history ring of t (Rc clone)
//!                          └──► &[ConnKey] of t ──► driver queues an Rc clone
//!                                                   of `sse` per subscriber
//! ```
//!
//! SPEC §6: "a published message is encoded once per protocol and the same
//! bytes (`Rc`/`Arc`) go to every subscriber". A publish allocates the
//! message and its encoding, once; it allocates nothing per subscriber, and
//! hands back the subscriber set as a slice to walk.
//!
//! - **Ids** are dense per topic: 1, 2, 3, … (SPEC §2: "each message is an
//!   event with `id: <seq>`"). So `Last-Event-ID: n` is a position, and the
//!   message after it is found by arithmetic (`history.rs`). Ids live in memory:
//!   they restart at 1 with the server, and a client whose id is beyond the
//!   last one (from a previous run) gets no replay and no reset.
//! - **Reset.** When messages the client never got were already dropped from
//!   history, [`Replay::reset`] says so, and [`encode_reset`] tells the
//!   client before the replay starts.
//! - **Binary messages on SSE.** An event stream is text (WHATWG HTML
//!   §9.2.5: "Streams must be decoded using the UTF-8 decode algorithm") and
//!   SPEC §2 makes binary special only for WebSocket ("one text frame (binary
//!   if published as binary)"). On SSE a binary message's data is its bytes in standard,
//!   padded base64 (RFC 4648 §4), on one `data:` line, with `event:`
//!   unchanged: a page that subscribes to a binary topic decodes with `atob`.
//!   Text messages are UTF-8 (the publish API answers `400` otherwise), but
//!   [`Hub::publish`] takes bytes, so an invalid sequence would become U+FFFD,
//!   never a panic.
//! - **Event names.** An empty name is no name: WHATWG §9.2.6 dispatches an
//!   event whose type is empty as `message` anyway, and on a multi-topic
//!   stream an unnamed event carries its topic instead.
//! - **Topics** are made by their first publish or subscribe. One nobody ever
//!   published to goes with its last subscriber. One that was published to is
//!   kept: SPEC §5, "publish to a topic nobody listens to → `202`, kept in
//!   history", and its id counter is what clients' `Last-Event-ID`s count
//!   from (dropping it would restart ids at 1 under them).
//! - **Several topics on one stream** (SPEC §2, `GET /topics/a,b`): see
//!   [`multi`].
//!
//! Not here: the WebSocket encoding (a `ws` field beside `sse` when `ws/`
//! lands), delivery to other workers (SPEC §7), history in Redis, and a cap
//! on the number of topics a publisher can create (each costs a map entry
//! and its history; publishing is meant to sit behind `--publish-token`).
//! Callers check topic names with [`valid_topic`]; the hub does not re-check.

mod encode;
mod history;
pub mod multi;
mod subscribers;

use std::collections::HashMap;
use std::rc::Rc;

use crate::key::ConnKey;

pub use encode::{encode_reset, text_of};
pub use history::Replay;
pub use multi::{encode_multi, encode_reset_multi, parse_positions, parse_topic_list, MAX_TOPICS};

use encode::encode_sse;
use history::History;
use subscribers::Subscribers;

/// SPEC §2: "Topic names: `[A-Za-z0-9_.-]{1,64}`; anything else `400`."
pub const MAX_TOPIC_NAME: usize = 64;

/// SPEC §2: "Topic names: `[A-Za-z0-9_.-]{1,64}`; anything else `400`."
/// (`.` and `..` match too; they are names here, never paths.)
pub fn valid_topic(name: &str) -> bool {
    (1..=MAX_TOPIC_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// One published message, shared (`Rc`) by the topic's history and every
/// subscriber's output queue.
#[derive(Debug)]
pub struct Message {
    /// The same allocation as the hub's key for the topic.
    pub topic: Rc<str>,
    /// Dense per topic: 1, 2, 3, …
    pub id: u64,
    /// The publisher's event name (SPEC §2: `?event=NAME`); never empty.
    pub event: Option<Box<str>>,
    /// The body as published.
    pub data: Rc<[u8]>,
    /// Published as `application/octet-stream`.
    pub binary: bool,
    /// The event for a single-topic SSE stream, encoded once at publish:
    /// `id: {id}\n[event: {event}\n]data: …\n\n` (binary data in base64).
    pub sse: Rc<[u8]>,
}

/// History can hold a million messages (a thousand topics at the default
/// 1000): each costs this plus its two byte buffers and an `Rc` header.
const _: () = assert!(size_of::<Message>() <= 80);

#[derive(Debug)]
struct Topic {
    name: Rc<str>,
    subscribers: Subscribers,
    history: History,
}

/// Every topic of one worker's loop.
#[derive(Debug)]
pub struct Hub {
    /// Keyed by the same `Rc<str>` every message of the topic points to;
    /// looked up by `&str` (`Rc<str>: Borrow<str>`).
    topics: HashMap<Rc<str>, Topic>,
    /// Messages kept per topic (SPEC §1: `--history N`).
    history: usize,
    /// (topic, key) pairs across all topics.
    subscriptions: usize,
}

impl Hub {
    /// `history`: messages kept per topic (SPEC `--history`; 0 keeps none,
    /// and ids still count).
    pub fn new(history: usize) -> Hub {
        Hub { topics: HashMap::new(), history, subscriptions: 0 }
    }

    /// Appends a message to `topic` (creating the topic), with the topic's
    /// next id, encoded once. Returns it and the topic's subscribers at this
    /// moment: the driver queues a clone of `msg.sse` to each.
    pub fn publish(
        &mut self,
        topic: &str,
        event: Option<&str>,
        data: &[u8],
        binary: bool,
    ) -> (Rc<Message>, &[ConnKey]) {
        let cap = self.history;
        let topic = self.topic_mut(topic);
        let id = topic.history.next_id();
        let event = event.filter(|name| !name.is_empty());
        let mut sse = Vec::new();
        encode_sse(id, event, data, binary, &mut sse);
        let msg = Rc::new(Message {
            topic: Rc::clone(&topic.name),
            id,
            event: event.map(Box::from),
            data: Rc::from(data),
            binary,
            sse: Rc::from(sse),
        });
        topic.history.push(&msg, cap);
        (msg, topic.subscribers.as_slice())
    }

    /// Adds `key` to `topic`'s subscribers (creating the topic). O(1);
    /// subscribing twice is the same as once.
    pub fn subscribe(&mut self, topic: &str, key: ConnKey) {
        if self.topic_mut(topic).subscribers.insert(key) {
            self.subscriptions += 1;
        }
    }

    /// Removes `key` from `topic`'s subscribers, if it is one. O(1). A topic
    /// left with no subscribers that was never published to is dropped.
    pub fn unsubscribe(&mut self, topic: &str, key: ConnKey) {
        let Some(t) = self.topics.get_mut(topic) else {
            return;
        };
        if t.subscribers.remove(key) {
            self.subscriptions -= 1;
        }
        if t.subscribers.is_empty() && t.history.last_id() == 0 {
            self.topics.remove(topic);
        }
    }

    /// The topic's subscribers, in no particular order.
    pub fn subscribers(&self, topic: &str) -> &[ConnKey] {
        self.topics.get(topic).map_or(&[], |t| t.subscribers.as_slice())
    }

    /// What a client whose last id in `topic` is `after` missed: the kept
    /// messages after it, in order, and `reset: Some(oldest kept)` when some
    /// it needs were already dropped ([`Replay`]). O(1) to find the start,
    /// O(k) to walk k messages. `after` beyond the last id, or a topic never
    /// published to: nothing, no reset.
    ///
    /// After sending the replay, the stream is at [`last_id`](Self::last_id)
    /// in this topic, whatever `after` was (the loop is single-threaded, so
    /// nothing is published in between).
    pub fn replay(&self, topic: &str, after: u64) -> Replay<'_> {
        self.topics.get(topic).map_or_else(Replay::none, |t| t.history.replay(after))
    }

    /// The id of the topic's last message; 0 when nothing was published.
    pub fn last_id(&self, topic: &str) -> u64 {
        self.topics.get(topic).map_or(0, |t| t.history.last_id())
    }

    pub fn topics(&self) -> usize {
        self.topics.len()
    }

    /// (topic, key) pairs across all topics.
    pub fn subscriptions(&self) -> usize {
        self.subscriptions
    }

    fn topic_mut(&mut self, name: &str) -> &mut Topic {
        // The key's `Rc` is reused when the topic exists, so only a new
        // topic allocates its name.
        let name = match self.topics.get_key_value(name) {
            Some((existing, _)) => Rc::clone(existing),
            None => Rc::from(name),
        };
        self.topics.entry(Rc::clone(&name)).or_insert_with(|| Topic {
            name,
            subscribers: Subscribers::default(),
            history: History::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: 1 }
    }

    #[test]
    fn valid_topic_table() {
        let long = "a".repeat(64);
        let too_long = "a".repeat(65);
        let cases: &[(&str, bool)] = &[
            ("a", true),
            ("prices", true),
            ("A-z_0.9", true),
            (".", true),
            ("-", true),
            ("_", true),
            ("..", true),
            (&long, true),
            (&too_long, false),
            ("", false),
            ("a b", false),
            ("a/b", false),
            ("a,b", false),
            ("a:b", false),
            ("a%20", false),
            ("a\n", false),
            ("a\0", false),
            ("é", false),
            ("价格", false),
        ];
        for &(name, ok) in cases {
            assert_eq!(valid_topic(name), ok, "{name:?}");
        }
    }

    #[test]
    fn ids_are_dense_per_topic_and_start_at_one() {
        let mut hub = Hub::new(10);
        assert_eq!(hub.last_id("a"), 0);
        let ids: Vec<u64> =
            ["a", "b", "a", "a", "b"].iter().map(|t| hub.publish(t, None, b"x", false).0.id).collect();
        assert_eq!(ids, [1, 1, 2, 3, 2]);
        assert_eq!((hub.last_id("a"), hub.last_id("b"), hub.last_id("c")), (3, 2, 0));
    }

    #[test]
    fn publish_returns_exactly_the_current_subscribers() {
        let mut hub = Hub::new(10);
        assert!(hub.publish("t", None, b"nobody", false).1.is_empty());
        hub.subscribe("t", key(1));
        hub.subscribe("t", key(2));
        hub.subscribe("other", key(3));
        let mut got = hub.publish("t", None, b"two", false).1.to_vec();
        got.sort_by_key(|k| k.index);
        assert_eq!(got, [key(1), key(2)]);
        hub.unsubscribe("t", key(1));
        assert_eq!(hub.publish("t", None, b"one", false).1, [key(2)]);
    }

    #[test]
    fn subscribe_is_idempotent() {
        let mut hub = Hub::new(10);
        hub.subscribe("t", key(1));
        hub.subscribe("t", key(1));
        assert_eq!(hub.subscribers("t"), [key(1)]);
        assert_eq!((hub.topics(), hub.subscriptions()), (1, 1));
    }

    #[test]
    fn unsubscribe_of_an_absent_key_is_a_no_op() {
        let mut hub = Hub::new(10);
        hub.unsubscribe("nowhere", key(1));
        hub.subscribe("t", key(1));
        hub.unsubscribe("t", key(2));
        hub.unsubscribe("t", ConnKey { index: 1, gen: 2 });
        assert_eq!(hub.subscribers("t"), [key(1)]);
        assert_eq!((hub.topics(), hub.subscriptions()), (1, 1));
    }

    #[test]
    fn a_topic_never_published_goes_with_its_last_subscriber() {
        let mut hub = Hub::new(10);
        hub.subscribe("t", key(1));
        hub.subscribe("t", key(2));
        hub.unsubscribe("t", key(1));
        assert_eq!(hub.topics(), 1);
        hub.unsubscribe("t", key(2));
        assert_eq!((hub.topics(), hub.subscriptions()), (0, 0));
        assert!(hub.subscribers("t").is_empty());
    }

    #[test]
    fn a_published_topic_is_kept_with_its_ids() {
        for history in [0, 10] {
            let mut hub = Hub::new(history);
            hub.subscribe("t", key(1));
            hub.publish("t", None, b"x", false);
            hub.unsubscribe("t", key(1));
            assert_eq!((hub.topics(), hub.last_id("t")), (1, 1), "history {history}");
            assert_eq!(hub.publish("t", None, b"y", false).0.id, 2, "history {history}");
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
    fn subscriber_sets_agree_with_a_hash_set_model_under_random_operations() {
        use std::collections::{HashMap, HashSet};
        let names = ["a", "b", "c", "d"];
        let mut hub = Hub::new(2);
        let mut model: HashMap<&str, HashSet<ConnKey>> = HashMap::new();
        let mut rng = 0x2545_F491_4F6C_DD1D;
        for step in 0..20_000 {
            let r = xorshift(&mut rng);
            let topic = names[(r % 4) as usize];
            let k = ConnKey { index: (r >> 8) as u32 % 300, gen: (r >> 40) as u32 % 2 };
            match (r >> 4) % 8 {
                0..=3 => {
                    hub.subscribe(topic, k);
                    model.entry(topic).or_default().insert(k);
                }
                4..=6 => {
                    hub.unsubscribe(topic, k);
                    model.entry(topic).or_default().remove(&k);
                }
                _ => {
                    let (msg, subs) = hub.publish(topic, None, b"", false);
                    let subs: HashSet<ConnKey> = subs.iter().copied().collect();
                    assert_eq!(subs.len(), hub.subscribers(topic).len(), "no duplicates, step {step}");
                    assert_eq!(&subs, model.entry(topic).or_default(), "step {step}");
                    assert_eq!(msg.id, hub.last_id(topic));
                }
            }
            let total: usize = model.values().map(HashSet::len).sum();
            assert_eq!(hub.subscriptions(), total, "step {step}");
        }
        for name in names {
            let got: HashSet<ConnKey> = hub.subscribers(name).iter().copied().collect();
            assert_eq!(got, model.remove(name).unwrap_or_default(), "{name}");
        }
    }

    #[test]
    fn replay_after_zero_middle_last_and_beyond() {
        let mut hub = Hub::new(10);
        for data in ["1", "2", "3", "4"] {
            hub.publish("t", None, data.as_bytes(), false);
        }
        let cases: &[(u64, &[u64])] =
            &[(0, &[1, 2, 3, 4]), (2, &[3, 4]), (4, &[]), (5, &[]), (u64::MAX, &[])];
        for &(after, want) in cases {
            let r = hub.replay("t", after);
            assert_eq!(r.reset, None, "after {after}");
            assert_eq!(r.messages.map(|m| m.id).collect::<Vec<_>>(), want, "after {after}");
        }
        let r = hub.replay("unknown", 0);
        assert_eq!((r.reset, r.messages.len()), (None, 0));
    }

    #[test]
    fn reset_exactly_when_the_gap_is_older_than_history() {
        let mut hub = Hub::new(3);
        for _ in 0..10 {
            hub.publish("t", None, b"x", false);
        }
        // (after, reset, ids): 8, 9, 10 are kept.
        let cases: &[(u64, Option<u64>, &[u64])] = &[
            (0, Some(8), &[8, 9, 10]),
            (2, Some(8), &[8, 9, 10]),
            (6, Some(8), &[8, 9, 10]), // needs 7: gone
            (7, None, &[8, 9, 10]),    // needs 8: kept
            (9, None, &[10]),
            (10, None, &[]),
            (11, None, &[]),
        ];
        for &(after, reset, want) in cases {
            let r = hub.replay("t", after);
            assert_eq!(r.reset, reset, "after {after}");
            assert_eq!(r.messages.map(|m| m.id).collect::<Vec<_>>(), want, "after {after}");
        }
    }

    #[test]
    fn history_zero_keeps_nothing_and_still_counts() {
        let mut hub = Hub::new(0);
        hub.subscribe("t", key(1));
        for _ in 0..5 {
            hub.publish("t", None, b"x", false);
        }
        let (msg, subs) = hub.publish("t", None, b"live", false);
        assert_eq!((msg.id, subs), (6, &[key(1)][..]));
        assert_eq!(Rc::strong_count(&msg), 1, "not kept");
        let r = hub.replay("t", 3);
        assert_eq!((r.reset, r.messages.len()), (Some(7), 0));
        let r = hub.replay("t", 6);
        assert_eq!((r.reset, r.messages.len()), (None, 0));
    }

    #[test]
    fn history_and_the_returned_message_share_one_encoding() {
        let mut hub = Hub::new(5);
        let (msg, _) = hub.publish("t", Some("e"), b"x", false);
        let kept = hub.replay("t", 0).messages.next().cloned().unwrap();
        assert!(Rc::ptr_eq(&msg, &kept));
        assert_eq!(Rc::strong_count(&msg.sse), 1, "one encoding, inside the one message");
        assert_eq!(&*msg.topic, "t");
    }
}
