//! The hub (SPEC §2): topics, who subscribes to each, and a bounded history
//! of what was published, sans-IO.
//!
//! ```text
//!   POST /topics/t ──► Hub::publish ──► Message { id, sse: Rc<[u8]> }   encoded once
//!                          │                 │
//!                          │                 └──► history ring of t (Rc clone)
//!                          └──► Delivery { sse, ws, multi_ws: &[ConnKey], multi_sse, polls }
//!                                  │ the driver queues an Rc clone of `sse` per
//!                                  │ stream, of one frame per socket, and a small
//!                                  │ `id:` head + the shared tail per multi-topic stream
//! ```
//!
//! SPEC §6: "a published message is encoded once per protocol and the same
//! bytes (`Rc`/`Arc`) go to every subscriber". A publish allocates the
//! message and its encoding, once; per single-topic subscriber it allocates
//! nothing (the sets are slices to walk), and per multi-topic stream only
//! that stream's `id:` line.
//!
//! - **Subscribers**, every kind ([`Kind`]), are in the topic's sets
//!   (hub/subscribers.rs): a dense slice per kind per topic, and for each
//!   member a [`Member`] saying where it is, so [`Hub::unsubscribe`] needs
//!   only the key and is O(1): one hub-wide 12-byte slot for a single-topic
//!   subscriber or long-poll, one entry per topic (at most [`MAX_TOPICS`])
//!   for a multi-topic one.
//! - **Ids** are dense per topic: 1, 2, 3, … (SPEC §2: "each message is an
//!   event with `id: <seq>`"). So `Last-Event-ID: n` is a position, and the
//!   message after it is found by arithmetic (`history.rs`). Ids live in
//!   memory: they restart at 1 with the server, so a client whose id is
//!   beyond the last one has a gap (SPEC §2). Within a run they never repeat:
//!   a topic made again after it was forgotten starts above the last id of
//!   every topic forgotten before it, so an old id is a gap there too.
//! - **Replays** are cursors into history ([`Cursor`], hub/cursor.rs), fed as
//!   the client reads, so a replay of any length holds at most `--max-queue`.
//! - **Reset.** When messages the client never got were already dropped from
//!   history, or its id is newer than the newest, [`Next::Reset`] says so,
//!   and [`encode_reset`] tells the client before the replay goes on.
//! - **Memory has a ceiling** (SPEC §5). Each kept message is stored once
//!   (hub/message.rs) and costs [`Message::cost`]; all topics' history
//!   together stays within `--history-bytes`, the oldest message across all
//!   topics evicted first (found in O(log topics): each topic with history
//!   has one entry, its oldest message's publish order, in a `BTreeSet`).
//!   At most `--max-topics` topics exist; a publish or subscribe that would
//!   make one more gets [`TooManyTopics`]. A topic with no subscriber of any
//!   kind and no history left is forgotten.
//! - **Binary messages on SSE.** An event stream is text (WHATWG HTML
//!   §9.2.5: "Streams must be decoded using the UTF-8 decode algorithm") and
//!   SPEC §2 makes binary special only for WebSocket ("one text frame (binary
//!   if published as binary)"). On SSE a binary message's data is its bytes in
//!   standard, padded base64 (RFC 4648 §4), on one `data:` line, with `event:`
//!   unchanged: a page that subscribes to a binary topic decodes with `atob`.
//!   Text messages are UTF-8 (the publish API answers `400` otherwise), but
//!   [`Hub::publish`] takes bytes, so an invalid sequence would become U+FFFD,
//!   never a panic.
//! - **Event names.** An empty name is no name: WHATWG §9.2.6 dispatches an
//!   event whose type is empty as `message` anyway, and on a multi-topic
//!   stream an unnamed event carries its topic instead.
//! - **Several topics on one stream** (SPEC §2, `GET /topics/a,b`): see
//!   [`multi`].
//!
//! Not here: the WebSocket frames (app/topics.rs makes each once per
//! publish), the long-poll's JSON answer, delivery to other workers (SPEC
//! §7), and history in Redis. Callers check topic names with
//! [`valid_topic`]; the hub does not re-check.

mod cursor;
mod encode;
mod history;
mod message;
pub mod multi;
mod subscribers;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use slab::Slab;

use crate::key::ConnKey;
use crate::key_map::ConnMap;

pub use cursor::{Cursor, Next};
pub use encode::encode_reset;
pub use history::Replay;
pub use message::{Message, KEPT_OVERHEAD};
pub use multi::{encode_multi_head, encode_reset_multi, parse_positions, parse_topic_list, MAX_TOPICS};
pub use subscribers::Kind;

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

/// The hub's caps (SPEC §1, §5).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `--history N`: messages kept per topic (0 keeps none; ids still count).
    pub history: usize,
    /// `--history-bytes`: [`Message::cost`] of all kept messages together.
    pub history_bytes: usize,
    /// `--max-topics`: topics at once.
    pub max_topics: usize,
}

/// A publish or subscribe that would make topic `max + 1` (SPEC §5: `503`
/// with a JSON error naming the limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyTopics {
    pub max: usize,
}

#[derive(Debug)]
struct Topic {
    name: Rc<str>,
    subscribers: Sets,
    history: History,
}

/// A multi-topic subscriber: where it is in each topic's set and, for an
/// event stream, the id it has in each (its `id: a:5,b:7`), same order.
#[derive(Debug)]
struct MultiSub {
    members: Vec<Member>,
    positions: Vec<u64>,
}

/// Who gets one published message, each kind apart (they get different
/// bytes), in no particular order.
#[derive(Debug)]
pub struct Delivery<'a> {
    pub msg: Rc<Message>,
    /// Single-topic event streams: each gets `msg.sse`.
    pub sse: &'a [ConnKey],
    /// Single-topic WebSockets: each gets the message as one frame.
    pub ws: &'a [ConnKey],
    /// Multi-topic WebSockets: each gets one JSON frame.
    pub multi_ws: &'a [ConnKey],
    /// Multi-topic event streams, each with its own `id:` (and `event:`)
    /// lines, which go before the shared tail `msg.sse[msg.after_id()..]`.
    pub multi_sse: Vec<(ConnKey, Vec<u8>)>,
    /// Long-polls that waited on the topic: answer them now; they are no
    /// longer in the hub.
    pub polls: Vec<ConnKey>,
}

impl Delivery<'_> {
    /// Subscribers reached, every kind.
    pub fn reached(&self) -> usize {
        self.sse.len() + self.ws.len() + self.multi_ws.len() + self.multi_sse.len() + self.polls.len()
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
    /// Every single-topic subscriber and long-poll: its topic, kind and
    /// position. One slot each: a connection is in at most one.
    members: ConnMap<Member>,
    /// Multi-topic subscribers (rare: a page's one stream for its topics).
    multi: HashMap<ConnKey, MultiSub>,
    /// Members of each kind (`Kind as usize`; a multi-topic subscriber
    /// counts once per topic).
    counts: [usize; Kind::ALL.len()],
    limits: Limits,
    /// [`Message::cost`] of every kept message.
    kept_bytes: usize,
    /// `(seq of its oldest kept message, topic index)` for each topic with
    /// history: the first entry is the oldest message of all.
    oldest: BTreeSet<(u64, usize)>,
    /// The next publish's place in the order across topics.
    next_seq: u64,
    /// Messages evicted by `--history-bytes` since start.
    evicted: u64,
    /// The highest last id of any topic forgotten so far: a topic made
    /// (again) starts above it, so ids never repeat within a run.
    forgotten: u64,
}

impl Hub {
    pub fn new(limits: Limits) -> Hub {
        Hub {
            topics: Slab::new(),
            by_name: HashMap::new(),
            members: ConnMap::new(),
            multi: HashMap::new(),
            counts: [0; Kind::ALL.len()],
            limits,
            kept_bytes: 0,
            oldest: BTreeSet::new(),
            next_seq: 0,
            evicted: 0,
            forgotten: 0,
        }
    }

    /// Appends a message to `topic` (creating the topic), with the topic's
    /// next id, encoded once; evicts the oldest history of all topics past
    /// `--history-bytes`. Returns it and who gets it at this moment.
    pub fn publish(
        &mut self,
        topic: &str,
        event: Option<&str>,
        data: &[u8],
        binary: bool,
    ) -> Result<Delivery<'_>, TooManyTopics> {
        let index = self.topic_index(topic)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        let t = &mut self.topics[index];
        let event = event.filter(|name| !name.is_empty());
        let msg = Rc::new(Message::new(Rc::clone(&t.name), t.history.next_id(), event, data, binary, seq));
        let before = t.history.front().map(|m| m.seq);
        // A message that alone costs more than all history may hold is not
        // kept: keeping it would evict every other topic's history first.
        // Its topic's older messages go too: history is a run ending at the
        // last id, and a replay of them would end in a silent gap.
        let keep = if msg.cost() <= self.limits.history_bytes { self.limits.history } else { 0 };
        if keep == 0 && self.limits.history > 0 {
            self.evicted += 1;
            while let Some(dropped) = t.history.pop_front() {
                self.kept_bytes -= dropped.cost();
                self.evicted += 1;
            }
        }
        if let Some(dropped) = t.history.push(&msg, keep) {
            self.kept_bytes -= dropped.cost();
        }
        if keep > 0 {
            self.kept_bytes += msg.cost();
        }
        let after = t.history.front().map(|m| m.seq);
        let polls = t.subscribers.take(Kind::Poll);
        for &key in &polls {
            self.members.remove(key);
        }
        self.counts[Kind::Poll as usize] -= polls.len();
        self.reindex(index, before, after);
        self.evict(index);
        if self.forget_if_unused(index) {
            return Ok(Delivery { msg, sse: &[], ws: &[], multi_ws: &[], multi_sse: Vec::new(), polls });
        }
        // The multi-topic streams' own id lines: every position, this one
        // moved to the new id.
        let Hub { topics, multi, .. } = self;
        let t = &topics[index];
        let multi_sse = t
            .subscribers
            .of(Kind::MultiSse)
            .iter()
            .filter_map(|&key| {
                let sub = multi.get_mut(&key)?;
                let i = sub.members.iter().position(|m| m.topic() == index)?;
                sub.positions[i] = msg.id;
                let names = sub.members.iter().map(|m| &*topics[m.topic()].name);
                let mut head = Vec::with_capacity(16 + sub.members.len() * 24);
                encode_multi_head(&msg, names.zip(sub.positions.iter().copied()), &mut head);
                Some((key, head))
            })
            .collect();
        let sets = &t.subscribers;
        Ok(Delivery {
            sse: sets.of(Kind::Sse),
            ws: sets.of(Kind::Ws),
            multi_ws: sets.of(Kind::MultiWs),
            multi_sse,
            polls,
            msg,
        })
    }

    /// Whether topics could be made for every one of `names` that does not
    /// exist yet, within `--max-topics`.
    pub fn room_for(&self, names: &[&str]) -> Result<(), TooManyTopics> {
        let new = names.iter().filter(|name| !self.by_name.contains_key(**name)).count();
        match self.topics.len() + new <= self.limits.max_topics {
            true => Ok(()),
            false => Err(TooManyTopics { max: self.limits.max_topics }),
        }
    }

    /// Makes `key` a `kind` subscriber of `topic` (creating the topic), or a
    /// long-poll waiting on it (`Kind::Poll`). O(1). A connection is in at
    /// most one set this way: subscribing it again to the same topic as the
    /// same kind changes nothing (`Ok(false)`); subscribing it elsewhere is
    /// a caller's bug (it first leaves the set it was in, and debug builds
    /// panic). Multi-topic kinds go through [`Hub::subscribe_multi`].
    pub fn subscribe(&mut self, topic: &str, key: ConnKey, kind: Kind) -> Result<bool, TooManyTopics> {
        debug_assert!(!kind.multi(), "{kind:?} through subscribe_multi");
        if let Some(&m) = self.members.get(key) {
            if m.kind() == kind && *self.topics[m.topic()].name == *topic {
                return Ok(false);
            }
            debug_assert!(false, "conn={key} subscribes to {topic} while in {}", self.topics[m.topic()].name);
            self.unsubscribe(key);
        }
        let index = self.topic_index(topic)?;
        let position = self.topics[index].subscribers.push(kind, key);
        self.counts[kind as usize] += 1;
        if let Some((stale, m)) = self.members.insert(key, Member::new(index, kind, position)) {
            // Its connection ended without an `unsubscribe`, and the slab
            // gave its index to `key`.
            debug_assert!(false, "conn={stale} was never unsubscribed");
            self.leave(stale, m);
        }
        Ok(true)
    }

    /// Makes `key` a subscriber of several topics at once (`Kind::MultiSse`
    /// or `Kind::MultiWs`), at `positions` (the id it has in each, same
    /// order). All or nothing: `Err` before any topic is made.
    pub fn subscribe_multi(
        &mut self,
        names: &[&str],
        key: ConnKey,
        kind: Kind,
        positions: Vec<u64>,
    ) -> Result<(), TooManyTopics> {
        debug_assert!(kind.multi() && names.len() == positions.len());
        self.room_for(names)?;
        self.unsubscribe(key);
        let mut members = Vec::with_capacity(names.len());
        for name in names {
            let index = self.topic_index(name)?;
            let position = self.topics[index].subscribers.push(kind, key);
            members.push(Member::new(index, kind, position));
        }
        self.counts[kind as usize] += members.len();
        self.multi.insert(key, MultiSub { members, positions });
        Ok(())
    }

    /// Removes `key` from every set it is in, if any. O(1) (O(topics) for a
    /// multi-topic one): no topic name needed, no search. A topic left with
    /// no subscribers and no history is forgotten.
    pub fn unsubscribe(&mut self, key: ConnKey) -> bool {
        if let Some(m) = self.members.remove(key) {
            self.leave(key, m);
            return true;
        }
        match self.multi.remove(&key) {
            Some(sub) => {
                for m in sub.members {
                    self.leave(key, m);
                }
                true
            }
            None => false,
        }
    }

    /// Takes a member of `key`, already out of `members` or `multi`, out of
    /// its topic's slice, and fixes the one that moved into its place.
    fn leave(&mut self, key: ConnKey, m: Member) {
        let index = m.topic();
        let topic = &mut self.topics[index];
        if let Some(moved) = topic.subscribers.swap_remove(m.kind(), m.position()) {
            let entry = match m.kind().multi() {
                true => {
                    self.multi.get_mut(&moved).and_then(|s| s.members.iter_mut().find(|e| e.topic() == index))
                }
                false => self.members.get_mut(moved),
            };
            match entry {
                Some(entry) => *entry = entry.moved_to(m.position()),
                None => debug_assert!(false, "conn={moved} in {} without a member entry", topic.name),
            }
        }
        debug_assert!(moved_is_not(key, &self.topics[index].subscribers, m));
        self.counts[m.kind() as usize] -= 1;
        self.forget_if_unused(index);
    }

    /// The topic `key` follows alone and as what, if it is a single-topic
    /// subscriber (or a long-poll). O(1).
    pub fn subscription(&self, key: ConnKey) -> Option<(&Rc<str>, Kind)> {
        self.members.get(key).map(|m| (&self.topics[m.topic()].name, m.kind()))
    }

    /// What a client whose last id in `topic` is `after` missed, for the
    /// long-poll: the kept messages after it, in order, and `reset` when
    /// some it needs were already dropped ([`Replay`]). `after` beyond the
    /// last id, or a topic not known: nothing, no reset. (Streams resume
    /// through a [`Cursor`], which calls a newer id a gap.)
    pub fn replay(&self, topic: &str, after: u64) -> Replay<'_> {
        self.topic(topic).map_or_else(Replay::none, |t| t.history.replay(after))
    }

    /// The id of the topic's last message: where a subscriber that starts
    /// now is. For a topic that does not exist, the id the hub would start
    /// it after (0 in a fresh hub).
    pub fn last_id(&self, topic: &str) -> u64 {
        self.topic(topic).map_or(self.forgotten, |t| t.history.last_id())
    }

    /// Whether the topic exists (has a subscriber or history).
    pub fn exists(&self, topic: &str) -> bool {
        self.by_name.contains_key(topic)
    }

    /// Topics that exist now: with a subscriber of any kind, or history.
    pub fn topics(&self) -> usize {
        self.topics.len()
    }

    /// Members of one kind across all topics (a multi-topic subscriber
    /// counts once per topic).
    pub fn subscriptions_of(&self, kind: Kind) -> usize {
        self.counts[kind as usize]
    }

    /// [`Message::cost`] of every kept message, against `--history-bytes`.
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }

    /// Messages `--history-bytes` evicted since start.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn topic(&self, name: &str) -> Option<&Topic> {
        self.by_name.get(name).map(|&index| &self.topics[index])
    }

    /// The topic's index, creating the topic within `--max-topics`.
    fn topic_index(&mut self, name: &str) -> Result<usize, TooManyTopics> {
        if let Some(&index) = self.by_name.get(name) {
            return Ok(index);
        }
        if self.topics.len() >= self.limits.max_topics {
            return Err(TooManyTopics { max: self.limits.max_topics });
        }
        // Only a new topic allocates its name, shared by the map's key, the
        // topic and every message of it.
        let name: Rc<str> = Rc::from(name);
        let index = self.topics.insert(Topic {
            name: Rc::clone(&name),
            subscribers: Sets::default(),
            history: History::after(self.forgotten),
        });
        self.by_name.insert(name, index);
        Ok(index)
    }

    /// Moves topic `index`'s entry in `oldest` when its oldest kept message
    /// changed from `before` to `after`.
    fn reindex(&mut self, index: usize, before: Option<u64>, after: Option<u64>) {
        if before == after {
            return;
        }
        if let Some(seq) = before {
            self.oldest.remove(&(seq, index));
        }
        if let Some(seq) = after {
            self.oldest.insert((seq, index));
        }
    }

    /// SPEC §5: "history over `--history-bytes` … the oldest events, across
    /// topics, are evicted first". Topics left with nothing are forgotten,
    /// except `keep` (the one being published to; the caller decides).
    fn evict(&mut self, keep: usize) {
        while self.kept_bytes > self.limits.history_bytes {
            let Some(&(seq, index)) = self.oldest.first() else { break };
            let history = &mut self.topics[index].history;
            if let Some(dropped) = history.pop_front() {
                self.kept_bytes -= dropped.cost();
                self.evicted += 1;
            }
            let after = history.front().map(|m| m.seq);
            self.reindex(index, Some(seq), after);
            if index != keep {
                self.forget_if_unused(index);
            }
        }
    }

    /// SPEC §5: "a topic with no subscriber and no history left is
    /// forgotten". Its ids do not start again: the next topic made starts
    /// above its last, so a client's old `Last-Event-ID` is below anything
    /// kept, a gap the cursor reports (SPEC §2), never a silent one. Whether
    /// it was forgotten.
    fn forget_if_unused(&mut self, index: usize) -> bool {
        let t = &self.topics[index];
        if !t.subscribers.is_empty() || !t.history.is_empty() {
            return false;
        }
        let topic = self.topics.remove(index);
        self.forgotten = self.forgotten.max(topic.history.last_id());
        self.by_name.remove(&topic.name);
        true
    }

    /// Every invariant the O(1) operations rely on, checked the slow way.
    #[cfg(test)]
    fn check(&self) {
        assert_eq!(self.topics.len(), self.by_name.len());
        assert!(self.topics.len() <= self.limits.max_topics);
        let mut singles = 0;
        let mut counts = [0; Kind::ALL.len()];
        let mut kept = 0;
        for (index, topic) in &self.topics {
            assert_eq!(self.by_name.get(&topic.name), Some(&index), "{}", topic.name);
            assert!(!topic.subscribers.is_empty() || !topic.history.is_empty(), "{} kept empty", topic.name);
            for kind in Kind::ALL {
                for (position, &key) in topic.subscribers.of(kind).iter().enumerate() {
                    let want = Member::new(index, kind, position as u32);
                    if kind.multi() {
                        let sub = self.multi.get(&key).expect("a multi entry");
                        assert!(sub.members.contains(&want), "{key} in {}", topic.name);
                    } else {
                        assert_eq!(self.members.get(key), Some(&want), "{key} in {}", topic.name);
                        singles += 1;
                    }
                    counts[kind as usize] += 1;
                }
            }
            if let Some(front) = topic.history.front() {
                assert!(self.oldest.contains(&(front.seq, index)), "{} not in oldest", topic.name);
                assert_eq!(
                    front.id,
                    topic.history.first_kept(),
                    "{}: a run ending at the last id",
                    topic.name
                );
            }
            let mut id = topic.history.first_kept();
            while let Some(m) = topic.history.get(id) {
                kept += m.cost();
                id += 1;
            }
        }
        assert_eq!(self.members.len(), singles, "a member entry outside every set");
        assert_eq!(self.counts, counts);
        assert_eq!(self.kept_bytes, kept);
        assert!(self.kept_bytes <= self.limits.history_bytes || self.oldest.is_empty());
        assert_eq!(self.oldest.len(), self.topics.iter().filter(|(_, t)| !t.history.is_empty()).count());
    }
}

/// Debug check for [`Hub::leave`]: `key` is no longer where `m` was.
fn moved_is_not(key: ConnKey, sets: &Sets, m: Member) -> bool {
    sets.of(m.kind()).get(m.position() as usize) != Some(&key)
}
