//! Memory with a ceiling (SPEC §5): `--history-bytes` over all topics,
//! `--max-topics` with `503`, topics forgotten when nothing is left, and the
//! warning when publishing is open beyond loopback.

mod common;

use std::net::TcpStream;

use common::stream::EventStream;
use common::*;

const KIB: usize = 1024;

fn status_of(server: &Server, request: &str) -> (u16, String) {
    let reply = exchange(server, request.as_bytes());
    (reply.status, reply.text())
}

#[test]
fn a_topic_past_max_topics_is_503_with_a_json_error() {
    let server = Server::start(&["--max-topics", "2"]);
    assert_eq!(publish(&server, "a", b"x"), "HTTP/1.1 202 Accepted");
    assert_eq!(publish(&server, "b", b"x"), "HTTP/1.1 202 Accepted");
    let refused = [
        "POST /topics/c HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx",
        "GET /topics/c HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
        "GET /topics/a,c HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
        "GET /poll/c HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /topics/c HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ];
    for request in refused {
        let reply = exchange(&server, request.as_bytes());
        assert_eq!(reply.status, 503, "{request}");
        assert_eq!(reply.header("content-type").as_deref(), Some("application/json"), "{request}");
        let body = reply.text();
        assert!(body.contains("\"limit\":\"max_topics\",\"max\":2"), "{request}: {body}");
        assert!(body.contains("--max-topics 2"), "{body}");
    }
    // Topics that exist still take everything.
    assert_eq!(publish(&server, "a", b"y"), "HTTP/1.1 202 Accepted");
    let mut s = EventStream::open(&server, "/topics/a,b", "Last-Event-ID: a:1,b:1\r\n");
    assert!(s.head.starts_with("HTTP/1.1 200"), "{}", s.head);
    assert_eq!(s.next_event(), "id: a:2,b:1\nevent: a\ndata: y\n\n");
    assert_eq!(limit(&server, "max_topics"), (2, Some(2)));
}

#[test]
fn a_topic_with_no_subscriber_and_no_history_is_forgotten_and_frees_its_place() {
    let server = Server::start(&["--max-topics", "1", "--history", "0"]);
    // Nothing kept, nobody listening: the topic goes at once, and the next
    // topic made starts above its ids (they never repeat within a run).
    assert_eq!((publish_id(&server, "a"), publish_id(&server, "a")), (1, 2));
    assert_eq!(publish(&server, "b", b"x"), "HTTP/1.1 202 Accepted");
    // A subscriber holds its topic, and the place.
    let s = EventStream::open(&server, "/topics/a", "");
    assert_eq!(status_of(&server, "POST /topics/b HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx").0, 503);
    assert_eq!((publish_id(&server, "a"), publish_id(&server, "a")), (4, 5), "ids go on while it is held");
    drop(s);
    let held = || limit(&server, "max_topics").1.expect("max_topics has a used figure");
    wait_for(SETTLE, "the stream's end frees the topic", held, |n| n == 0);
    assert_eq!(publish(&server, "b", b"x"), "HTTP/1.1 202 Accepted");
}

fn publish_id(server: &Server, topic: &str) -> u64 {
    let reply = exchange(
        server,
        format!("POST /topics/{topic} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx").as_bytes(),
    );
    assert_eq!(reply.status, 202, "{}", reply.text());
    let body = reply.text();
    body.split("\"id\":")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("an id")
}

#[test]
fn a_client_of_a_forgotten_topic_gets_a_reset_not_a_silent_gap() {
    // The client has t:3; t's history is evicted by other topics, t is
    // forgotten, and published to again. Its ids continue above 5, so the
    // client's 3 is older than anything kept: a reset, never events 1..
    // of a new life taken for the ones it missed.
    let server = Server::start(&["--history-bytes", "100KiB"]);
    let body = vec![b'f'; 16 * KIB];
    for _ in 0..5 {
        publish(&server, "t", &body);
    }
    for _ in 0..6 {
        publish(&server, "other", &body);
    }
    publish(&server, "t", b"new life");
    let mut s = EventStream::open(&server, "/topics/t", "Last-Event-ID: 3\r\n");
    let reset = s.next_event();
    let oldest: u64 =
        reset.strip_prefix("event: reset\ndata: ").and_then(|r| r.trim().parse().ok()).expect(&reset);
    assert!(oldest > 5, "{reset}");
    assert_eq!(s.next_event(), format!("id: {oldest}\ndata: new life\n\n"));
}

#[test]
fn history_bytes_evicts_the_oldest_across_topics() {
    let server = Server::start(&["--history-bytes", "100KiB"]);
    let body = vec![b'h'; 16 * KIB];
    for topic in ["a", "a", "b", "a", "b", "a", "b", "a"] {
        assert_eq!(publish(&server, topic, &body), "HTTP/1.1 202 Accepted");
    }
    // 8 × (16 KiB + about 160 B) is past 100 KiB: the two oldest (a:1, a:2)
    // went, across topics, not the newest of either.
    let (cap, used) = limit(&server, "history_bytes");
    assert_eq!(cap, 100 * 1024);
    assert!(used.is_some_and(|u| u <= cap && u > 5 * 16 * 1024), "{used:?}");
    let mut s = EventStream::open(&server, "/topics/a", "Last-Event-ID: 0\r\n");
    assert_eq!(s.next_event(), "event: reset\ndata: 3\n\n");
    for id in 3..=5 {
        let event = s.next_event();
        assert!(event.starts_with(&format!("id: {id}\ndata: hhh")), "{:.20}", event);
    }
    let mut s = EventStream::open(&server, "/topics/b", "Last-Event-ID: 0\r\n");
    for id in 1..=3 {
        assert!(s.next_event().starts_with(&format!("id: {id}\ndata: hhh")));
    }
}

#[test]
fn a_flood_of_line_feeds_is_counted_as_encoded() {
    // Each LF becomes `data: \n` (SPEC §4): 7 bytes kept for 1 sent. The
    // ceiling counts what is kept, so the flood stays under it.
    let server = Server::start(&["--history-bytes", "1MiB"]);
    let lfs = vec![b'\n'; 64 * KIB];
    for _ in 0..10 {
        assert_eq!(publish(&server, "lf", &lfs), "HTTP/1.1 202 Accepted");
    }
    let (cap, used) = limit(&server, "history_bytes");
    let used = used.unwrap();
    assert!(used <= cap, "{used} > {cap}");
    // Two of 64 KiB × 7 fit in 1 MiB, three do not.
    let one = 7 * 64 * KIB as u64;
    assert!((2 * one..3 * one).contains(&used), "{used}");
}

fn log_after_start(args: &[&str]) -> String {
    let server = Server::start(args);
    // The warning comes before the "listening" line the harness waits for.
    let _ = TcpStream::connect(server.addr);
    server.log()
}

#[test]
fn publishing_open_beyond_loopback_is_a_warning() {
    let warning = "without --publish-token: anyone who can reach it may publish";
    assert!(!log_after_start(&[]).contains(warning), "loopback: no warning");
    let all = log_after_start(&["--listen", "0.0.0.0:0"]);
    assert!(all.contains("WARN") && all.contains(warning), "{all}");
    assert!(!log_after_start(&["--listen", "0.0.0.0:0", "--publish-token", "s3cret"]).contains(warning));
}
