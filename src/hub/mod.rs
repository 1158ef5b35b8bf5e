//! The hub (SPEC §2): topics, who subscribes to each, and a bounded history
//! of what was published, sans-IO.
//!
//! ```text
//!   POST /topics/t ──► Hub::publish ──► Message { id, sse: Rc<[u8]> }   encoded once
//!                          │                 │
//!                          │                 └──► history ring of t (Rc clone)
//!                          └──► Members { sse: &[ConnKey], ws: &[ConnKey] } of t
//!                                  │ the driver queues an Rc clone of `sse` per
//!                                  │ stream, and of one frame per socket
//! ```
//!
//! SPEC §6: "a published message is encoded once per protocol and the same
//! bytes (`Rc`/`Arc`) go to every subscriber". A publish allocates the
//! message and its encoding, once; it allocates nothing per subscriber, and
//! hands back the subscriber sets as slices to walk.
//!
//! - **Subscribers** of one topic, SSE streams and WebSockets alike, are in
//!   the hub's sets (hub/subscribers.rs): a dense slice per kind
//!   per topic, and one hub-wide table slot per subscriber, 12 bytes, that
//!   says where it is, so [`Hub::unsubscribe`] needs only the key and is
//!   O(1). A connection follows at most one topic this way.
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
//! Not here: the WebSocket frame (app/topics.rs makes it once per publish),
//! multi-topic subscribers (app/topics.rs keeps them; they are rare and get
//! bytes made per stream), delivery to other workers (SPEC §7), history in
//! Redis, and a cap
//! on the number of topics a publisher can create (each costs a map entry
//! and its history; publishing is meant to sit behind `--publish-token`).
//! Callers check topic names with [`valid_topic`]; the hub does not re-check.

mod encode;
mod history;
pub mod multi;
mod subscribers;

use std::collections::HashMap;
use std::rc::Rc;

use slab::Slab;

use crate::key::ConnKey;
use crate::key_map::ConnMap;

pub use encode::{encode_reset, text_of};
pub use history::Replay;
pub use multi::{encode_multi, encode_reset_multi, parse_positions, parse_topic_list, MAX_TOPICS};
pub use subscribers::Kind;

use encode::encode_sse;
use history::History;
use subscribers::{Member, Sets};

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
    subscribers: Sets,
    history: History,
}

impl Topic {
    /// What the `topics` figure (SPEC §2, `/stats`) has always counted: a
    /// topic with event-stream subscribers or a history. WebSocket
    /// subscribers did not make a topic of the hub before they joined the
    /// hub's sets, so they are not counted (nor are multi-topic streams).
    fn listed(&self) -> bool {
        !self.subscribers.of(Kind::Sse).is_empty() || self.history.last_id() > 0
    }
}

/// The single-topic subscribers of a topic at one moment, each kind apart
/// (they get different bytes), in no particular order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Members<'a> {
    /// Event streams: each gets `Message::sse`.
    pub sse: &'a [ConnKey],
    /// WebSockets: each gets the message as one frame.
    pub ws: &'a [ConnKey],
}

impl Members<'_> {
    pub fn len(&self) -> usize {
        self.sse.len() + self.ws.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Each connection index costs one slot of `Hub::members`, a subscriber or
/// not: the generation and a `Member` in 12 bytes (no `Option` tag:
/// `Member` has a niche).
const _: () = assert!(ConnMap::<Member>::SLOT == 12);

/// Every topic of one worker's loop.
#[derive(Debug)]
pub struct Hub {
    /// The topics, where [`Member`]s point (by index, 4 bytes, where an
    /// `Rc<str>` would take 16).
    topics: Slab<Topic>,
    /// Each topic's index, keyed by the same `Rc<str>` every message of the
    /// topic points to; looked up by `&str` (`Rc<str>: Borrow<str>`).
    by_name: HashMap<Rc<str>, usize>,
    /// Every single-topic subscriber: its topic, kind and position. A
    /// connection is in at most one single-topic set, so one slot each.
    members: ConnMap<Member>,
    /// Members of each kind (`Kind as usize`).
    counts: [usize; 2],
    /// Topics that are [`Topic::listed`].
    listed: usize,
    /// Messages kept per topic (SPEC §1: `--history N`).
    history: usize,
}

impl Hub {
    /// `history`: messages kept per topic (SPEC `--history`; 0 keeps none,
    /// and ids still count).
    pub fn new(history: usize) -> Hub {
        Hub {
            topics: Slab::new(),
            by_name: HashMap::new(),
            members: ConnMap::new(),
            counts: [0; 2],
            listed: 0,
            history,
        }
    }

    /// Appends a message to `topic` (creating the topic), with the topic's
    /// next id, encoded once. Returns it and the topic's subscribers at this
    /// moment: the caller queues a clone of `msg.sse` to each of
    /// `members.sse`, and of one frame it makes to each of `members.ws`.
    pub fn publish(
        &mut self,
        topic: &str,
        event: Option<&str>,
        data: &[u8],
        binary: bool,
    ) -> (Rc<Message>, Members<'_>) {
        let cap = self.history;
        let index = self.topic_index(topic);
        let topic = &mut self.topics[index];
        let was_listed = topic.listed();
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
        self.listed += usize::from(!was_listed);
        let topic = &self.topics[index];
        (msg, Members { sse: topic.subscribers.of(Kind::Sse), ws: topic.subscribers.of(Kind::Ws) })
    }

    /// Makes `key` a `kind` subscriber of `topic` (creating the topic). O(1).
    /// A connection follows at most one topic this way: subscribing it again
    /// to the same topic as the same kind changes nothing (false);
    /// subscribing it elsewhere is a caller's bug (it first leaves the set
    /// it was in, and debug builds panic).
    pub fn subscribe(&mut self, topic: &str, key: ConnKey, kind: Kind) -> bool {
        if let Some(&m) = self.members.get(key) {
            if m.kind() == kind && *self.topics[m.topic()].name == *topic {
                return false;
            }
            debug_assert!(
                false,
                "conn={key} subscribes to {topic} while subscribed to {}",
                self.topics[m.topic()].name
            );
            self.unsubscribe(key);
        }
        let index = self.topic_index(topic);
        let t = &mut self.topics[index];
        let was_listed = t.listed();
        let position = t.subscribers.push(kind, key);
        self.listed += usize::from(t.listed() && !was_listed);
        self.counts[kind as usize] += 1;
        if let Some((stale, m)) = self.members.insert(key, Member::new(index, kind, position)) {
            // Its connection ended without an `unsubscribe`, and the slab
            // gave its index to `key`.
            debug_assert!(false, "conn={stale} was never unsubscribed");
            self.leave(m);
        }
        true
    }

    /// Removes `key` from the set it is in, if any. O(1): no topic name
    /// needed, no search. A topic left with no subscribers that was never
    /// published to is dropped.
    pub fn unsubscribe(&mut self, key: ConnKey) -> bool {
        match self.members.remove(key) {
            Some(m) => {
                self.leave(m);
                true
            }
            None => false,
        }
    }

    /// Takes a member, already out of `members`, out of its topic's slice.
    fn leave(&mut self, m: Member) {
        let index = m.topic();
        let topic = &mut self.topics[index];
        let was_listed = topic.listed();
        if let Some(moved) = topic.subscribers.swap_remove(m.kind(), m.position()) {
            match self.members.get_mut(moved) {
                Some(entry) => *entry = entry.moved_to(m.position()),
                None => debug_assert!(false, "conn={moved} in {} without a member entry", topic.name),
            }
        }
        self.counts[m.kind() as usize] -= 1;
        self.listed -= usize::from(was_listed && !topic.listed());
        if topic.subscribers.is_empty() && topic.history.last_id() == 0 {
            let topic = self.topics.remove(index);
            self.by_name.remove(&topic.name);
        }
    }

    /// The topic `key` subscribes to and as what, if it is a single-topic
    /// subscriber. O(1).
    pub fn subscription(&self, key: ConnKey) -> Option<(&Rc<str>, Kind)> {
        self.members.get(key).map(|m| (&self.topics[m.topic()].name, m.kind()))
    }

    /// The topic's single-topic subscribers.
    pub fn subscribers(&self, topic: &str) -> Members<'_> {
        self.by_name.get(topic).map_or_else(Members::default, |&index| {
            let sets = &self.topics[index].subscribers;
            Members { sse: sets.of(Kind::Sse), ws: sets.of(Kind::Ws) }
        })
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
        self.topic(topic).map_or_else(Replay::none, |t| t.history.replay(after))
    }

    /// The id of the topic's last message; 0 when nothing was published.
    pub fn last_id(&self, topic: &str) -> u64 {
        self.topic(topic).map_or(0, |t| t.history.last_id())
    }

    /// Topics with event-stream subscribers or a history: the figure
    /// `/stats` has always shown. Topics whose only subscribers are
    /// WebSockets or multi-topic streams are not counted.
    pub fn topics(&self) -> usize {
        self.listed
    }

    /// (topic, key) pairs across all topics, both kinds.
    pub fn subscriptions(&self) -> usize {
        self.members.len()
    }

    /// Subscribers of one kind across all topics.
    pub fn subscriptions_of(&self, kind: Kind) -> usize {
        self.counts[kind as usize]
    }

    fn topic(&self, name: &str) -> Option<&Topic> {
        self.by_name.get(name).map(|&index| &self.topics[index])
    }

    /// The topic's index, creating the topic.
    fn topic_index(&mut self, name: &str) -> usize {
        if let Some(&index) = self.by_name.get(name) {
            return index;
        }
        // Only a new topic allocates its name, shared by the map's key, the
        // topic and every message of it.
        let name: Rc<str> = Rc::from(name);
        let index = self.topics.insert(Topic {
            name: Rc::clone(&name),
            subscribers: Sets::default(),
            history: History::default(),
        });
        self.by_name.insert(name, index);
        index
    }

    /// Every invariant the O(1) operations rely on, checked the slow way.
    #[cfg(test)]
    fn check(&self) {
        assert_eq!(self.topics.len(), self.by_name.len());
        let mut members = 0;
        let mut counts = [0; 2];
        for (index, topic) in &self.topics {
            assert_eq!(self.by_name.get(&topic.name), Some(&index), "{}", topic.name);
            assert!(
                !topic.subscribers.is_empty() || topic.history.last_id() > 0,
                "{} kept empty",
                topic.name
            );
            for kind in [Kind::Sse, Kind::Ws] {
                for (position, &key) in topic.subscribers.of(kind).iter().enumerate() {
                    let want = Member::new(index, kind, position as u32);
                    assert_eq!(self.members.get(key), Some(&want), "{key} in {}", topic.name);
                    members += 1;
                    counts[kind as usize] += 1;
                }
            }
        }
        assert_eq!(self.members.len(), members, "a member entry outside every set");
        assert_eq!(self.counts, counts);
        assert_eq!(self.listed, self.topics.iter().filter(|(_, t)| t.listed()).count());
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

    fn sorted(keys: &[ConnKey]) -> Vec<ConnKey> {
        let mut keys = keys.to_vec();
        keys.sort_by_key(|k| (k.index, k.gen));
        keys
    }

    #[test]
    fn publish_returns_exactly_the_current_subscribers() {
        for kind in [Kind::Sse, Kind::Ws] {
            let mut hub = Hub::new(10);
            assert!(hub.publish("t", None, b"nobody", false).1.is_empty());
            hub.subscribe("t", key(1), kind);
            hub.subscribe("t", key(2), kind);
            hub.subscribe("other", key(3), kind);
            let subs = hub.publish("t", None, b"two", false).1;
            let (mine, theirs) = match kind {
                Kind::Sse => (subs.sse, subs.ws),
                Kind::Ws => (subs.ws, subs.sse),
            };
            assert_eq!((sorted(mine), theirs), (vec![key(1), key(2)], &[][..]), "{kind:?}");
            hub.unsubscribe(key(1));
            assert_eq!(hub.publish("t", None, b"one", false).1.len(), 1, "{kind:?}");
            hub.check();
        }
    }

    #[test]
    fn both_kinds_of_one_topic_come_apart() {
        let mut hub = Hub::new(10);
        hub.subscribe("t", key(1), Kind::Sse);
        hub.subscribe("t", key(2), Kind::Ws);
        hub.subscribe("t", key(3), Kind::Ws);
        let (_, subs) = hub.publish("t", None, b"x", false);
        assert_eq!((subs.sse, sorted(subs.ws)), (&[key(1)][..], vec![key(2), key(3)]));
        assert_eq!(subs.len(), 3);
        assert_eq!(
            (hub.subscriptions(), hub.subscriptions_of(Kind::Sse), hub.subscriptions_of(Kind::Ws)),
            (3, 1, 2)
        );
        assert_eq!(hub.subscription(key(1)), Some((&Rc::from("t"), Kind::Sse)));
        assert_eq!(hub.subscription(key(2)), Some((&Rc::from("t"), Kind::Ws)));
        hub.check();
    }

    #[test]
    fn subscribe_again_to_the_same_topic_as_the_same_kind_is_a_no_op() {
        for kind in [Kind::Sse, Kind::Ws] {
            let mut hub = Hub::new(10);
            assert!(hub.subscribe("t", key(1), kind));
            assert!(!hub.subscribe("t", key(1), kind));
            assert_eq!(hub.subscribers("t").len(), 1);
            assert_eq!((hub.subscriptions(), hub.subscriptions_of(kind)), (1, 1));
            hub.check();
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "while subscribed to")]
    fn a_connection_follows_one_topic() {
        let mut hub = Hub::new(10);
        hub.subscribe("a", key(1), Kind::Ws);
        hub.subscribe("b", key(1), Kind::Ws);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "never unsubscribed")]
    fn a_reused_index_must_have_been_unsubscribed() {
        let mut hub = Hub::new(10);
        hub.subscribe("a", ConnKey { index: 1, gen: 1 }, Kind::Sse);
        hub.subscribe("a", ConnKey { index: 1, gen: 2 }, Kind::Sse);
    }

    /// Release builds survive the two bugs above with the sets intact.
    #[test]
    #[cfg(not(debug_assertions))]
    fn without_debug_assertions_a_second_topic_moves_and_a_stale_entry_leaves() {
        let mut hub = Hub::new(10);
        for i in 0..3 {
            hub.subscribe("a", key(i), Kind::Ws);
        }
        assert!(hub.subscribe("b", key(0), Kind::Sse));
        assert_eq!((hub.subscribers("a").len(), hub.subscribers("b").sse), (2, &[key(0)][..]));
        hub.check();
        let reused = ConnKey { index: 1, gen: 9 };
        assert!(hub.subscribe("a", reused, Kind::Ws));
        assert_eq!(sorted(hub.subscribers("a").ws), [reused, key(2)]);
        hub.check();
    }

    #[test]
    fn unsubscribe_of_an_absent_key_is_a_no_op() {
        let mut hub = Hub::new(10);
        assert!(!hub.unsubscribe(key(1)));
        hub.subscribe("t", key(1), Kind::Sse);
        assert!(!hub.unsubscribe(key(2)));
        assert!(!hub.unsubscribe(ConnKey { index: 1, gen: 2 }), "same index, later generation");
        assert!(!hub.unsubscribe(ConnKey { index: 1, gen: 0 }), "same index, earlier generation");
        assert_eq!(hub.subscribers("t").sse, [key(1)]);
        assert_eq!((hub.topics(), hub.subscriptions()), (1, 1));
        hub.check();
    }

    #[test]
    fn a_stale_generation_names_nobody() {
        let mut hub = Hub::new(10);
        let (old, new) = (ConnKey { index: 4, gen: 1 }, ConnKey { index: 4, gen: 2 });
        hub.subscribe("t", old, Kind::Ws);
        assert!(hub.unsubscribe(old));
        hub.subscribe("u", new, Kind::Sse);
        assert_eq!(hub.subscription(old), None);
        assert!(!hub.unsubscribe(old));
        assert_eq!(hub.subscription(new), Some((&Rc::from("u"), Kind::Sse)));
        assert_eq!(hub.subscribers("u").sse, [new]);
        hub.check();
    }

    #[test]
    fn removal_from_the_middle_moves_the_last_and_fixes_its_position() {
        for kind in [Kind::Sse, Kind::Ws] {
            // (removed, the slice after it: the last one took the hole)
            let cases: &[(u32, &[u32])] = &[(0, &[4, 1, 2, 3]), (2, &[0, 1, 4, 3]), (4, &[0, 1, 2, 3])];
            for &(gone, left) in cases {
                let mut hub = Hub::new(10);
                for i in 0..5 {
                    hub.subscribe("t", key(i), kind);
                }
                assert!(hub.unsubscribe(key(gone)));
                let want: Vec<ConnKey> = left.iter().map(|&i| key(i)).collect();
                assert_eq!(hub.subscribers("t").len(), 4);
                let got = match kind {
                    Kind::Sse => hub.subscribers("t").sse,
                    Kind::Ws => hub.subscribers("t").ws,
                };
                assert_eq!(got, want, "{kind:?} remove {gone}");
                hub.check();
                // The moved member's new position is right: removing it
                // takes it, and nobody else.
                assert!(hub.unsubscribe(key(4)) != (gone == 4), "{kind:?} remove {gone}");
                assert!(
                    !hub.subscribers("t").sse.contains(&key(4)) && !hub.subscribers("t").ws.contains(&key(4))
                );
                assert_eq!(hub.subscribers("t").len(), 4 - usize::from(gone != 4));
                hub.check();
            }
        }
    }

    #[test]
    fn a_topic_never_published_goes_with_its_last_subscriber() {
        for kind in [Kind::Sse, Kind::Ws] {
            let mut hub = Hub::new(10);
            hub.subscribe("t", key(1), kind);
            hub.subscribe("t", key(2), kind);
            hub.unsubscribe(key(1));
            hub.unsubscribe(key(2));
            assert_eq!((hub.topics(), hub.subscriptions()), (0, 0), "{kind:?}");
            assert!(hub.subscribers("t").is_empty());
            assert!(hub.topics.is_empty() && hub.by_name.is_empty(), "{kind:?}");
            hub.check();
        }
    }

    #[test]
    fn the_topics_figure_counts_streams_and_history_not_sockets() {
        // As before WebSockets joined the hub: a topic counts once it has
        // event-stream subscribers or was published to.
        let mut hub = Hub::new(10);
        hub.subscribe("t", key(1), Kind::Ws);
        assert_eq!(hub.topics(), 0);
        hub.subscribe("t", key(2), Kind::Sse);
        assert_eq!(hub.topics(), 1);
        hub.unsubscribe(key(2));
        assert_eq!(hub.topics(), 0);
        hub.publish("t", None, b"x", false);
        assert_eq!(hub.topics(), 1);
        hub.unsubscribe(key(1));
        assert_eq!(hub.topics(), 1, "kept with its history");
        hub.check();
    }

    #[test]
    fn a_published_topic_is_kept_with_its_ids() {
        for history in [0, 10] {
            for kind in [Kind::Sse, Kind::Ws] {
                let mut hub = Hub::new(history);
                hub.subscribe("t", key(1), kind);
                hub.publish("t", None, b"x", false);
                hub.unsubscribe(key(1));
                assert_eq!((hub.topics(), hub.last_id("t")), (1, 1), "history {history} {kind:?}");
                assert_eq!(hub.publish("t", None, b"y", false).0.id, 2, "history {history} {kind:?}");
            }
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
        let kinds = [Kind::Sse, Kind::Ws];
        let mut hub = Hub::new(2);
        // Per (topic, kind), its members; and per connection index, the one
        // live key there and what it follows (the driver's guarantee: a key
        // is unsubscribed before its index is reused).
        let mut model: HashMap<(&str, Kind), HashSet<ConnKey>> = HashMap::new();
        let mut live: HashMap<u32, (ConnKey, &str, Kind)> = HashMap::new();
        let mut rng = 0x2545_F491_4F6C_DD1D;
        for step in 0..40_000 {
            let r = xorshift(&mut rng);
            let topic = names[(r % 4) as usize];
            let kind = kinds[((r >> 2) & 1) as usize];
            // Few indices, so operations often hit members, and the
            // generation changes so stale keys come up.
            let k = ConnKey { index: (r >> 8) as u32 % 300, gen: (r >> 40) as u32 % 2 };
            match (r >> 4) % 8 {
                0..=3 => {
                    // A connection that follows another topic (or a stale
                    // one at its index) leaves first, as the app ensures.
                    match live.get(&k.index).copied() {
                        Some((old, t, kd)) if old != k || t != topic || kd != kind => {
                            assert!(hub.unsubscribe(old), "step {step}");
                            model.get_mut(&(t, kd)).unwrap().remove(&old);
                            live.remove(&k.index);
                        }
                        _ => {}
                    }
                    let new = !live.contains_key(&k.index);
                    assert_eq!(hub.subscribe(topic, k, kind), new, "step {step}");
                    model.entry((topic, kind)).or_default().insert(k);
                    live.insert(k.index, (k, topic, kind));
                }
                4..=6 => {
                    let member = live.get(&k.index).filter(|(key, _, _)| *key == k).copied();
                    assert_eq!(hub.unsubscribe(k), member.is_some(), "step {step}");
                    if let Some((_, t, kd)) = member {
                        model.get_mut(&(t, kd)).unwrap().remove(&k);
                        live.remove(&k.index);
                    }
                }
                _ => {
                    let (msg, subs) = hub.publish(topic, None, b"", false);
                    for (kind, slice) in [(Kind::Sse, subs.sse), (Kind::Ws, subs.ws)] {
                        let got: HashSet<ConnKey> = slice.iter().copied().collect();
                        assert_eq!(got.len(), slice.len(), "no duplicates, step {step}");
                        assert_eq!(&got, model.entry((topic, kind)).or_default(), "step {step} {kind:?}");
                    }
                    assert_eq!(msg.id, hub.last_id(topic));
                }
            }
            let want = live.get(&k.index).filter(|(key, _, _)| *key == k).map(|&(_, t, kd)| (t, kd));
            assert_eq!(hub.subscription(k).map(|(t, kd)| (&**t, kd)), want, "step {step}");
            assert_eq!(hub.subscriptions(), live.len(), "step {step}");
            for kind in kinds {
                let n = live.values().filter(|(_, _, kd)| *kd == kind).count();
                assert_eq!(hub.subscriptions_of(kind), n, "step {step}");
            }
            if step % 101 == 0 {
                hub.check();
            }
        }
        hub.check();
        for name in names {
            for kind in kinds {
                let subs = hub.subscribers(name);
                let got: HashSet<ConnKey> = match kind {
                    Kind::Sse => subs.sse,
                    Kind::Ws => subs.ws,
                }
                .iter()
                .copied()
                .collect();
                assert_eq!(got, model.remove(&(name, kind)).unwrap_or_default(), "{name} {kind:?}");
            }
        }
        for (_, (k, _, _)) in live.drain() {
            assert!(hub.unsubscribe(k));
        }
        hub.check();
        assert_eq!((hub.subscriptions(), hub.members.len()), (0, 0));
        // Every topic was published to, so all are kept, with empty sets.
        assert_eq!((hub.topics(), hub.topics.len()), (4, 4));
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
        hub.subscribe("t", key(1), Kind::Sse);
        for _ in 0..5 {
            hub.publish("t", None, b"x", false);
        }
        let (msg, subs) = hub.publish("t", None, b"live", false);
        assert_eq!((msg.id, subs.sse, subs.ws), (6, &[key(1)][..], &[][..]));
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
