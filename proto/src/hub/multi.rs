//! Several topics on one stream. SPEC §2: "`GET /topics/{a},{b},…` — one
//! stream (SSE or WebSocket) for several topics at once — browsers allow only
//! 6 HTTP/1.1 connections per origin. Events carry their topic (`event:
//! {topic}` unless named …); on SSE each event's id is the position in every
//! topic (`a:5,b:7`), so one `Last-Event-ID` resumes them all."
//!
//! The stream keeps one position per topic (the id of the last message of
//! that topic it sent). Each event's `id:` lists them all, so whatever the
//! interleaving of topics, the browser's last event id says exactly what it
//! has. These bytes differ per stream, so they are made per stream; but only
//! the `id:` (and the `event:` of an unnamed message) are new: the rest is
//! copied from the message's shared single-topic encoding, not re-encoded.
//!
//! What app/topics.rs does with a `GET /topics/a,b` SSE request:
//! 1. `topics = parse_topic_list("a,b")`, else `400`.
//! 2. `positions = parse_positions(last_event_id, &topics)` when the client
//!    sent one; when it sent none (or one that does not parse: refusing it
//!    would stop the browser's `EventSource` for good), start live at
//!    `hub.last_id(topic)` for each.
//! 3. A [`Cursor`](super::Cursor) at `positions` replays topic by topic as
//!    the client reads: [`encode_reset_multi`] for a gap, [`encode_multi_head`]
//!    for each message. Topic by topic is safe: every event carries every
//!    position, so a stream cut mid-replay resumes each topic where it
//!    stopped.
//! 4. Live once caught up: on each publish to topic `i`, `positions[i] =
//!    msg.id`, then [`encode_multi_head`] and the shared tail.

use crate::http::response::push_u64;
use crate::sse::{clean_field, parse_id};

use super::{valid_topic, Message};

/// Topics on one stream. Each costs a subscription, and every event's `id:`
/// (which the browser sends back as `Last-Event-ID`) names them all: at 16
/// topics of the longest name (64) with 20-digit positions, the id is
/// 16 × (64 + 1 + 20) + 15 = 1375 bytes, and the request path
/// `/topics/` + 16 × 65 is about 1 KiB, both well inside the 8 KiB request
/// head (SPEC §5: "request line + headers > 8 KiB → 431") with room for the
/// browser's own headers. A page with more topics opens a second stream.
pub const MAX_TOPICS: usize = 16;

/// Splits `a,b,c` into topic names. `None` (answer `400`) when any name is
/// invalid ([`valid_topic`]; so also an empty list or an empty name), a name
/// appears twice, or there are more than [`MAX_TOPICS`]. One name is a list
/// of one.
pub fn parse_topic_list(list: &str) -> Option<Vec<&str>> {
    // Counted before anything is allocated for them.
    if list.split(',').nth(MAX_TOPICS).is_some() {
        return None;
    }
    let mut topics = Vec::with_capacity(MAX_TOPICS.min(list.len() / 2 + 1));
    for name in list.split(',') {
        if !valid_topic(name) || topics.contains(&name) {
            return None;
        }
        topics.push(name);
    }
    Some(topics)
}

/// The stream's position in each of `topics` (same order) from its
/// `Last-Event-ID`: `a:5,b:7`, in any order. A topic the id does not mention
/// is at 0 (a page that added a topic replays its history); a name the
/// stream does not carry is ignored (a page that dropped one). A plain
/// integer is accepted for a single-topic stream (its ids are plain).
///
/// `None` when malformed: empty, an entry that is not `name:digits` with a
/// valid name, a number over `u64`, a topic of the stream named twice, or a
/// plain integer for several topics. Positions are the client's word: one
/// newer than the topic's newest is a gap, which the cursor reports (step 3
/// of the module doc).
pub fn parse_positions(last_event_id: &str, topics: &[&str]) -> Option<Vec<u64>> {
    if let [_] = topics {
        if let Some(n) = parse_id(last_event_id) {
            return Some(vec![n]);
        }
    }
    let mut positions: Vec<Option<u64>> = vec![None; topics.len()];
    for entry in last_event_id.split(',') {
        let (name, position) = entry.split_once(':')?;
        let position = parse_id(position)?;
        if !valid_topic(name) {
            return None;
        }
        if let Some(i) = topics.iter().position(|t| *t == name) {
            if positions[i].replace(position).is_some() {
                return None;
            }
        }
    }
    Some(positions.into_iter().map(|p| p.unwrap_or(0)).collect())
}

/// Appends the lines of `msg` that are a multi-topic stream's own, given
/// its `(topic, position)` pairs counting this message: `id: a:5,b:7\n`,
/// and `event: {topic}\n` when the message has no name. The rest of the
/// event is the message's shared tail, `msg.sse[msg.after_id()..]`: queued
/// by reference, not copied (a 1 MiB publish to 2,000 multi-topic streams
/// is 2,000 small heads, not 2 GiB).
pub fn encode_multi_head<'a>(
    msg: &Message,
    positions: impl Iterator<Item = (&'a str, u64)>,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"id: ");
    for (i, (topic, position)) in positions.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(clean_field(topic).as_bytes());
        out.push(b':');
        push_u64(out, position);
    }
    out.push(b'\n');
    if msg.event.is_none() {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(clean_field(&msg.topic).as_bytes());
        out.push(b'\n');
    }
}

/// The reset of [`encode_reset`](super::encode_reset) on a multi-topic
/// stream, which must say which topic lost messages: `event: reset\ndata:
/// {topic}:{oldest}\n\n` (the same `name:id` form as the stream's ids). No
/// `id:` line, for the reason given there.
pub fn encode_reset_multi(topic: &str, oldest: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: reset\ndata: ");
    out.extend_from_slice(clean_field(topic).as_bytes());
    out.push(b':');
    push_u64(out, oldest);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::super::tests::limits;
    use super::super::Hub;
    use super::*;

    #[test]
    fn parse_topic_list_table() {
        let sixteen = (0..16).map(|i| format!("t{i}")).collect::<Vec<_>>().join(",");
        let seventeen = format!("{sixteen},t16");
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("a", Some(&["a"])),
            ("a,b", Some(&["a", "b"])),
            ("prices,news.eu,chat-1", Some(&["prices", "news.eu", "chat-1"])),
            ("b,a", Some(&["b", "a"])),
            ("", None),
            (",", None),
            ("a,", None),
            (",a", None),
            ("a,,b", None),
            ("a,a", None),
            ("a,b,a", None),
            ("a, b", None),
            ("a,b/c", None),
            ("a;b", None),
        ];
        for &(list, want) in cases {
            assert_eq!(parse_topic_list(list).as_deref(), want, "{list:?}");
        }
        assert_eq!(parse_topic_list(&sixteen).map(|t| t.len()), Some(16));
        assert_eq!(parse_topic_list(&seventeen), None);
        assert_eq!(parse_topic_list(&",".repeat(100_000)), None);
    }

    #[test]
    fn parse_positions_table() {
        let ab: &[&str] = &["a", "b"];
        let a: &[&str] = &["a"];
        /// (Last-Event-ID, the stream's topics, positions)
        type Case = (&'static str, &'static [&'static str], Option<&'static [u64]>);
        let cases: &[Case] = &[
            ("a:5,b:7", ab, Some(&[5, 7])),
            ("b:7,a:5", ab, Some(&[5, 7])),
            ("a:5", ab, Some(&[5, 0])),
            ("b:0", ab, Some(&[0, 0])),
            ("a:5,c:9", ab, Some(&[5, 0])),
            ("c:9", ab, Some(&[0, 0])),
            ("a:007", ab, Some(&[7, 0])),
            ("a:18446744073709551615", ab, Some(&[u64::MAX, 0])),
            ("12", a, Some(&[12])),
            ("0", a, Some(&[0])),
            ("a:12", a, Some(&[12])),
            ("12", ab, None),
            ("", ab, None),
            ("", a, None),
            ("a:", ab, None),
            (":5", ab, None),
            ("a5", ab, None),
            ("a:5,", ab, None),
            ("a:5,,b:7", ab, None),
            ("a:5,a:6", ab, None),
            ("a:+5", ab, None),
            ("+5", a, None),
            ("-1", a, None),
            ("a:-1", ab, None),
            ("a: 5", ab, None),
            ("a:5 ", ab, None),
            ("a:1:2", ab, None),
            ("a:18446744073709551616", ab, None),
            ("x/y:5", ab, None),
            ("a:5,b:7", &[], Some(&[])),
        ];
        for &(id, topics, want) in cases {
            assert_eq!(parse_positions(id, topics).as_deref(), want, "{id:?} {topics:?}");
        }
    }

    /// The head and the shared tail, as a stream receives them.
    fn encode_multi(msg: &Message, topics: &[&str], positions: &[u64]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_multi_head(msg, topics.iter().copied().zip(positions.iter().copied()), &mut out);
        out.extend_from_slice(&msg.sse[msg.after_id()..]);
        out
    }

    fn publish(hub: &mut Hub, topic: &str, event: Option<&str>, data: &[u8], binary: bool) -> Rc<Message> {
        hub.publish(topic, event, data, binary).expect("room").msg
    }

    #[test]
    fn encode_multi_bytes() {
        let mut hub = Hub::new(limits(10));
        for _ in 0..4 {
            publish(&mut hub, "a", None, b"old", false);
        }
        let plain = publish(&mut hub, "a", None, b"x\ny", false);
        let named = publish(&mut hub, "b", Some("price"), b"4.20", false);
        let binary = publish(&mut hub, "b", None, b"hi", true);
        let topics = ["a", "b"];
        let cases: &[(&Message, [u64; 2], &str)] = &[
            (&plain, [5, 0], "id: a:5,b:0\nevent: a\ndata: x\ndata: y\n\n"),
            (&named, [5, 1], "id: a:5,b:1\nevent: price\ndata: 4.20\n\n"),
            (&binary, [5, 2], "id: a:5,b:2\nevent: b\ndata: aGk=\n\n"),
        ];
        for (msg, positions, want) in cases {
            let out = encode_multi(msg, &topics, positions);
            assert_eq!(std::str::from_utf8(&out).unwrap(), *want);
        }
    }

    #[test]
    fn encode_multi_ids_parse_back_to_the_positions() {
        let mut hub = Hub::new(limits(10));
        let msg = publish(&mut hub, "news.eu", None, b"x", false);
        let topics = ["prices", "news.eu", "chat-1"];
        let positions = [u64::MAX, 1, 0];
        let out = encode_multi(&msg, &topics, &positions);
        let wire = std::str::from_utf8(&out).unwrap();
        let id = wire.lines().next().and_then(|l| l.strip_prefix("id: ")).unwrap();
        assert_eq!(parse_positions(id, &topics).as_deref(), Some(&positions[..]));
    }

    #[test]
    fn reset_multi_bytes() {
        let mut out = Vec::new();
        encode_reset_multi("b", 8, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), "event: reset\ndata: b:8\n\n");
    }

    #[test]
    fn max_topics_fit_in_a_request_head() {
        let longest = 64 + 1 + u64::MAX.to_string().len();
        let id = MAX_TOPICS * longest + (MAX_TOPICS - 1);
        assert_eq!(id, 1375);
        assert!("Last-Event-ID: ".len() + id + "GET /topics/ HTTP/1.1".len() + MAX_TOPICS * 65 < 4096);
        assert!(id < crate::limits::MAX_HEAD / 4);
    }
}
