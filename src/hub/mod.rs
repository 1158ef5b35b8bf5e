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
//!   they restart at 1 with the server, so a client whose id is beyond the
//!   last one (from a previous run) has a gap (SPEC §2).
//! - **Replays** are cursors into history ([`Cursor`], hub/cursor.rs), fed as
//!   the client reads, so a replay of any length holds at most `--max-queue`.
//! - **Reset.** When messages the client never got were already dropped from
//!   history, or its id is newer than the newest, [`Next::Reset`] says so,
//!   and [`encode_reset`] tells the client before the replay goes on.
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

mod cursor;
mod encode;
mod history;
pub mod multi;
mod subscribers;

use std::collections::HashMap;
use std::rc::Rc;

use slab::Slab;

use crate::key::ConnKey;
use crate::key_map::ConnMap;

pub use cursor::{Cursor, Next};
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
    #[cfg(test)]
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
    /// published to: nothing, no reset (the long-poll's view; streams resume
    /// through a [`Cursor`], which calls that a gap).
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
    #[cfg(test)]
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
mod tests;
