//! Replays that finish (SPEC §2 and §5): a `Last-Event-ID`, `?lastEventId=`
//! or multi-topic position is a cursor into history, fed as the client
//! reads, never more than `--max-queue` queued at once. Every event still in
//! history arrives, in order, none twice, and live events follow; a reset
//! only where history really moved past the client.

mod common;

use std::time::Duration;

use common::stream::EventStream;
use common::ws::{connect, next_data};
use common::*;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

const KIB: usize = 1024;

/// `id: {id}\ndata: {data}\n\n` → (id, data length).
fn id_and_len(event: &str) -> (u64, usize) {
    let rest = event.strip_prefix("id: ").unwrap_or_else(|| panic!("not an event: {:.80}", event));
    let (id, rest) = rest.split_once('\n').unwrap();
    let data = rest.strip_prefix("data: ").and_then(|d| d.strip_suffix("\n\n")).expect("one data line");
    (id.parse().unwrap(), data.len())
}

#[test]
fn a_replay_larger_than_the_queue_arrives_whole() {
    // The issue's case: 24 × 512 KiB behind (12 MiB, within --history),
    // through the default 1 MiB --max-queue. Before, this got
    // `event: reset` and only the newest events that fit the queue.
    let server = Server::start(&[]);
    let body = vec![b'x'; 512 * KIB];
    for _ in 0..24 {
        assert_eq!(publish(&server, "big", &body), "HTTP/1.1 202 Accepted");
    }
    let mut s = EventStream::open(&server, "/topics/big", "Last-Event-ID: 0\r\n");
    for want in 1..=24 {
        assert_eq!(id_and_len(&s.next_event()), (want, 512 * KIB), "in order, none missing");
    }
    // Then live, seamlessly.
    assert_eq!(publish(&server, "big", b"live"), "HTTP/1.1 202 Accepted");
    assert_eq!(s.next_event(), "id: 25\ndata: live\n\n");
    assert_eq!(stat(&server, "drops"), 0, "a reader that keeps up is no slow consumer");
}

#[test]
fn a_multi_topic_replay_larger_than_the_queue_arrives_whole() {
    let server = Server::start(&["--max-queue", "64KiB"]);
    let body = vec![b'y'; 16 * KIB];
    for _ in 0..12 {
        publish(&server, "a", &body);
        publish(&server, "b", &body);
    }
    let mut s = EventStream::open(&server, "/topics/a,b", "Last-Event-ID: a:2,b:0\r\n");
    // Topic by topic; each event carries every position.
    for id in 3..=12 {
        let event = s.next_event();
        assert!(event.starts_with(&format!("id: a:{id},b:0\nevent: a\ndata: y")), "{:.60}", event);
    }
    for id in 1..=12 {
        let event = s.next_event();
        assert!(event.starts_with(&format!("id: a:12,b:{id}\nevent: b\ndata: y")), "{:.60}", event);
    }
    publish(&server, "a", b"live");
    assert_eq!(s.next_event(), "id: a:13,b:12\nevent: a\ndata: live\n\n");
}

#[test]
fn history_that_moves_past_a_slow_replay_resets_then_goes_on() {
    // A client that reads nothing while 20 MiB wait for it: the server
    // queues at most --max-queue (the kernel buffers hold some more), and
    // 20 more events meanwhile push the rest out of --history 20.
    let server = Server::start(&["--history", "20", "--max-body", "2MiB"]);
    let body = vec![b'z'; 1024 * KIB];
    for _ in 0..20 {
        publish(&server, "slow", &body);
    }
    let mut s = EventStream::open(&server, "/topics/slow", "Last-Event-ID: 0\r\n");
    // The replay has begun: its first event is queued (or in flight).
    common::stats::wait_for(
        SETTLE,
        "events queued to the replay",
        || stat(&server, "messages_out"),
        |n| n >= 1,
    );
    for _ in 0..20 {
        publish(&server, "slow", &body);
    }
    // What was queued or in flight, in order from 1; then the reset; then
    // everything kept, 21..=40.
    let mut next = 1;
    let reset = loop {
        let event = s.next_event();
        if event.starts_with("event: reset") {
            break event;
        }
        assert_eq!(id_and_len(&event), (next, 1024 * KIB));
        next += 1;
    };
    assert!((2..=20).contains(&next), "some came before the history moved: {next}");
    assert_eq!(reset, "event: reset\ndata: 21\n\n");
    for want in 21..=40 {
        assert_eq!(id_and_len(&s.next_event()).0, want);
    }
    assert_eq!(stat(&server, "drops"), 0);
}

#[test]
fn a_last_event_id_newer_than_the_newest_is_a_gap() {
    // SPEC §2: "A Last-Event-ID newer than the topic's newest id (its
    // history was lost, e.g. by a restart) is a gap too: event: reset."
    let server = Server::start(&[]);
    for i in 1..=3 {
        publish(&server, "t", format!("m{i}").as_bytes());
    }
    let mut s = EventStream::open(&server, "/topics/t", "Last-Event-ID: 10\r\n");
    assert_eq!(s.next_event(), "event: reset\ndata: 1\n\n");
    for i in 1..=3 {
        assert_eq!(s.next_event(), format!("id: {i}\ndata: m{i}\n\n"));
    }
    let mut s = EventStream::open(&server, "/topics/t,u", "Last-Event-ID: t:3,u:5\r\n");
    assert_eq!(s.next_event(), "event: reset\ndata: u:1\n\n");
    publish(&server, "u", b"first u");
    assert_eq!(s.next_event(), "id: t:3,u:1\nevent: u\ndata: first u\n\n");
    // A topic nobody ever published to.
    let mut s = EventStream::open(&server, "/topics/never", "Last-Event-ID: 4\r\n");
    assert_eq!(s.next_event(), "event: reset\ndata: 1\n\n");
    // Up to date is no gap.
    let mut s = EventStream::open(&server, "/topics/t", "Last-Event-ID: 3\r\n");
    assert!(s.next_event_within(Duration::from_millis(300)).is_none());
}

#[test]
fn a_socket_replays_after_last_event_id_then_goes_live() {
    let server = Server::start(&[]);
    for i in 1..=3 {
        publish(&server, "t", format!("m{i}").as_bytes());
    }
    let mut ws = connect(&server, "/topics/t?lastEventId=1");
    assert_eq!(next_data(&mut ws), Message::text("m2"));
    assert_eq!(next_data(&mut ws), Message::text("m3"));
    publish(&server, "t", b"m4");
    assert_eq!(next_data(&mut ws), Message::text("m4"));
    // Several topics: the positions an SSE id carries.
    publish(&server, "u", b"u1");
    let mut ws = connect(&server, "/topics/t,u?lastEventId=t:3,u:0");
    assert_eq!(next_data(&mut ws), Message::text(r#"{"topic":"t","id":4,"data":"m4"}"#));
    assert_eq!(next_data(&mut ws), Message::text(r#"{"topic":"u","id":1,"data":"u1"}"#));
}

#[test]
fn what_a_socket_sends_while_it_replays_is_published() {
    // SPEC §2: a topic socket's messages are published; one still reading
    // its replay (30 MiB behind, a 16 KiB queue) is no exception.
    let server = Server::start(&["--max-queue", "16KiB"]);
    let body = vec![b'r'; 1024 * KIB];
    for _ in 0..30 {
        publish(&server, "t", &body);
    }
    let mut ws = connect(&server, "/topics/t?lastEventId=0");
    ws.send(Message::text("from the replaying socket")).unwrap();
    let mut poll = EventStream::open(&server, "/poll/t?since=30&timeout=5", "");
    let end = poll.until(common::stream::after(b"]"), Duration::from_secs(10)).expect("an answer");
    let answer = String::from_utf8_lossy(&poll.buf[..end]).to_string();
    assert!(answer.contains(r#""id":31,"event":null,"data":"from the replaying socket""#), "{answer}");
    assert!(poll.head.starts_with("HTTP/1.1 200"), "{}", poll.head);
    drop(ws);
}

#[test]
fn a_socket_whose_replay_has_a_gap_is_closed_1012_before_anything() {
    // SPEC §2: "where that cannot be done without a gap, the socket is
    // closed with 1012 before anything is sent".
    let server = Server::start(&["--history", "2"]);
    for i in 1..=5 {
        publish(&server, "t", format!("m{i}").as_bytes());
    }
    for path in [
        "/topics/t?lastEventId=1",
        "/topics/t?lastEventId=9",
        "/topics/t,u?lastEventId=t:1",
        // A gap in the second topic: still nothing of the first is sent.
        "/topics/t,u?lastEventId=t:3,u:9",
    ] {
        let mut ws = connect(&server, path);
        match ws.read().expect("a close") {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Restart, "{path}"),
            other => panic!("{path}: {other:?} before the close"),
        }
    }
    // History still has 4 and 5: no gap.
    let mut ws = connect(&server, "/topics/t?lastEventId=3");
    assert_eq!(next_data(&mut ws), Message::text("m4"));
}
