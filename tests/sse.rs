//! SPEC §2 (the hub routes), §4 (SSE rules) and §5 (slow consumers) over
//! real sockets: exact bytes on the wire with a raw client, publishing with
//! curl. The browser's own EventSource behaviour (reconnect, Last-Event-ID)
//! is tested with the npm `eventsource` client in tests/browser.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

use common::stream::EventStream as Stream;

fn publish(server: &Server, path: &str, body: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["-X", "POST", "--data-binary", body];
    args.extend_from_slice(extra);
    let url = server.url(path);
    args.push(&url);
    let (head, body) = curl(&args);
    (head, String::from_utf8(body).unwrap())
}

#[test]
fn stream_head_is_spec_section_4() {
    let server = Server::start(&[]);
    let s = Stream::open(&server, "/topics/news", "");
    s.assert_spec_head();
    assert!(!s.head.contains("Content-Length"), "a stream has no length: {}", s.head);
}

#[test]
fn publish_reaches_every_subscriber_with_dense_ids() {
    let server = Server::start(&[]);
    let mut a = Stream::open(&server, "/topics/news", "");
    let mut b = Stream::open(&server, "/topics/news", "");
    let mut other = Stream::open(&server, "/topics/sport", "");
    let (head, body) = publish(&server, "/topics/news", "hello", &[]);
    assert!(head.starts_with("HTTP/1.1 202"), "{head}");
    assert_eq!(body, r#"{"id":1,"subscribers":2}"#);
    let (_, body) = publish(&server, "/topics/news?event=price", "line one\nline two", &[]);
    assert_eq!(body, r#"{"id":2,"subscribers":2}"#);
    for s in [&mut a, &mut b] {
        assert_eq!(s.next_event(), "id: 1\ndata: hello\n\n");
        assert_eq!(s.next_event(), "id: 2\nevent: price\ndata: line one\ndata: line two\n\n");
    }
    assert!(other.next_block(Duration::from_millis(300)).is_none(), "another topic got the event");
    assert_eq!(stat(&server, "messages_out"), 4);
}

#[test]
fn publish_to_nobody_is_kept_in_history() {
    let server = Server::start(&[]);
    let (head, body) = publish(&server, "/topics/quiet", "kept", &[]);
    assert!(head.starts_with("HTTP/1.1 202"));
    assert_eq!(body, r#"{"id":1,"subscribers":0}"#);
    let mut s = Stream::open(&server, "/topics/quiet", "Last-Event-ID: 0\r\n");
    assert_eq!(s.next_event(), "id: 1\ndata: kept\n\n");
}

#[test]
fn last_event_id_replays_the_missed_events_once_in_order() {
    let server = Server::start(&[]);
    for i in 1..=5 {
        publish(&server, "/topics/t", &format!("m{i}"), &[]);
    }
    let mut s = Stream::open(&server, "/topics/t", "Last-Event-ID: 3\r\n");
    assert_eq!(s.next_event(), "id: 4\ndata: m4\n\n");
    assert_eq!(s.next_event(), "id: 5\ndata: m5\n\n");
    publish(&server, "/topics/t", "m6", &[]);
    assert_eq!(s.next_event(), "id: 6\ndata: m6\n\n", "live events follow the replay, none twice");
    // The query twin, for a page that starts with a known id.
    let mut q = Stream::open(&server, "/topics/t?lastEventId=5", "");
    assert_eq!(q.next_event(), "id: 6\ndata: m6\n\n");
    // Up to date: nothing replayed.
    let mut none = Stream::open(&server, "/topics/t", "Last-Event-ID: 6\r\n");
    assert!(none.next_block(Duration::from_millis(300)).is_none());
}

#[test]
fn last_event_id_is_digits_only_on_every_stream() {
    // `+2` is not an id of ours: ignored (a live stream, no replay) on a
    // single-topic stream as on a multi-topic one, never taken as 2.
    let server = Server::start(&[]);
    for i in 1..=3 {
        publish(&server, "/topics/t", &format!("m{i}"), &[]);
    }
    for (path, id) in [("/topics/t", "+2"), ("/topics/t,u", "t:+2"), ("/topics/t", " 2x")] {
        let mut s = Stream::open(&server, path, &format!("Last-Event-ID: {id}\r\n"));
        assert!(s.next_block(Duration::from_millis(300)).is_none(), "{path} {id:?}: nothing replayed");
    }
    let mut s = Stream::open(&server, "/topics/t?lastEventId=%2B2", "");
    assert!(s.next_block(Duration::from_millis(300)).is_none(), "?lastEventId=+2: nothing replayed");
    let mut s = Stream::open(&server, "/topics/t", "Last-Event-ID: 2\r\n");
    assert_eq!(s.next_event(), "id: 3\ndata: m3\n\n");
}

#[test]
fn a_gap_older_than_history_starts_with_reset() {
    let server = Server::start(&["--history", "3"]);
    for i in 1..=10 {
        publish(&server, "/topics/t", &format!("m{i}"), &[]);
    }
    let mut s = Stream::open(&server, "/topics/t", "Last-Event-ID: 2\r\n");
    assert_eq!(s.next_event(), "event: reset\ndata: 8\n\n");
    for i in 8..=10 {
        assert_eq!(s.next_event(), format!("id: {i}\ndata: m{i}\n\n"));
    }
    // Missing only what history still has: no reset.
    let mut s = Stream::open(&server, "/topics/t", "Last-Event-ID: 7\r\n");
    assert_eq!(s.next_event(), "id: 8\ndata: m8\n\n");
}

#[test]
fn heartbeats_are_comments_every_heartbeat() {
    let server = Server::start(&["--heartbeat", "200ms"]);
    let mut s = Stream::open(&server, "/topics/hb", "");
    let t = Instant::now();
    for _ in 0..3 {
        assert_eq!(s.next_block(Duration::from_secs(2)).as_deref(), Some(": heartbeat\n"));
    }
    assert!(t.elapsed() >= Duration::from_millis(350), "three beats came too fast: {:?}", t.elapsed());
}

#[test]
fn a_client_that_goes_away_is_noticed_at_once() {
    let server = Server::start(&[]);
    let s = Stream::open(&server, "/topics/t", "");
    assert_eq!(stat(&server, "sse"), 1);
    drop(s);
    // At its end of file, within SETTLE: long before a heartbeat (15 s)
    // could find it gone. (The rule: end_of_file_from_a_stream_client_means_it_went_away
    // in proto/src/conn/tests.rs.)
    stat_becomes(&server, "sse", 0);
    assert_eq!(stat(&server, "subscriptions"), 0, "the subscription was not forgotten");
    let (_, body) = publish(&server, "/topics/t", "x", &[]);
    assert_eq!(body, r#"{"id":1,"subscribers":0}"#);
}

#[test]
fn a_slow_consumer_is_dropped_while_others_get_everything() {
    let server = Server::start(&["--max-queue", "64KiB"]);
    let mut fast = Stream::open(&server, "/topics/t", "");
    // Subscribed, then never reads: the kernel buffers fill, then its queue.
    let slow = Stream::open(&server, "/topics/t", "");
    let chunk = "x".repeat(16 * 1024);
    let reader = thread::spawn(move || {
        let mut got = 0;
        while got < 400 {
            let block = fast.next_block(Duration::from_secs(10)).expect("the fast client got every event");
            if block.starts_with("id: ") {
                got += 1;
                assert!(block.starts_with(&format!("id: {got}\n")), "out of order: {}", &block[..12]);
            }
        }
        got
    });
    for _ in 0..400 {
        let (head, _) = publish(&server, "/topics/t", &chunk, &[]);
        assert!(head.starts_with("HTTP/1.1 202"));
    }
    assert_eq!(reader.join().unwrap(), 400);
    assert_eq!(stat(&server, "drops"), 1, "the slow consumer was dropped, once");
    assert_eq!(stat(&server, "sse"), 0);
    drop(slow);
}

#[test]
fn publish_checks_its_input() {
    let server = Server::start(&[]);
    let cases: &[(&str, &[&str], &str)] = &[
        ("/topics/bad%20name", &[], "HTTP/1.1 400"),
        ("/topics/a%0Db", &[], "HTTP/1.1 400"),
        ("/topics/x", &["-H", "Content-Type: text/plain"], "HTTP/1.1 202"),
    ];
    for (path, extra, want) in cases {
        let (head, _) = publish(&server, path, "x", extra);
        assert!(head.starts_with(want), "{path}: {head}");
    }
    let long = format!("/topics/{}", "a".repeat(65));
    assert!(publish(&server, &long, "x", &[]).0.starts_with("HTTP/1.1 400"));
    let ok = format!("/topics/{}", "a".repeat(64));
    assert!(publish(&server, &ok, "x", &[]).0.starts_with("HTTP/1.1 202"));
    // An event name with a line break would forge fields: 400.
    assert!(publish(&server, "/topics/x?event=a%0Adata:%20forged", "x", &[]).0.starts_with("HTTP/1.1 400"));
    // Text must be UTF-8; binary may be anything.
    let r = exchange(&server, b"POST /topics/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n\xff\xfe");
    assert_eq!(r.status, 400);
    let mut s = Stream::open(&server, "/topics/bin", "");
    let r = exchange(
        &server,
        b"POST /topics/bin HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n\xff\x00\x01",
    );
    assert_eq!(r.status, 202);
    assert_eq!(s.next_event(), "id: 1\ndata: /wAB\n\n", "binary travels base64 on SSE");
    // GET without Accept: text/event-stream says how to subscribe.
    let r = get(&server, "/topics/x");
    assert_eq!(r.status, 406);
    assert!(r.text().starts_with("406 Not Acceptable: "), "{}", r.text());
    assert!(r.text().contains("text/event-stream"));
}

#[test]
fn publish_token_guards_publishing() {
    let server = Server::start(&["--publish-token", "s3cret"]);
    let (head, _) = publish(&server, "/topics/t", "x", &[]);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(head.contains("WWW-Authenticate: Bearer"), "{head}");
    let (head, _) = publish(&server, "/topics/t", "x", &["-H", "Authorization: Bearer wrong"]);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    let (head, body) = publish(&server, "/topics/t", "x", &["-H", "Authorization: Bearer s3cret"]);
    assert!(head.starts_with("HTTP/1.1 202"), "{head}");
    assert_eq!(body, r#"{"id":1,"subscribers":0}"#);
}

#[test]
fn long_poll_answers_at_once_with_backlog_and_waits_without() {
    let server = Server::start(&[]);
    publish(&server, "/topics/p?event=e", "one", &[]);
    publish(&server, "/topics/p", "two \"quoted\"", &[]);
    let r = get(&server, "/poll/p?since=0&timeout=5");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"[{"id":1,"event":"e","data":"one"},{"id":2,"event":null,"data":"two \"quoted\""}]"#
    );
    // Nothing after 2: it waits until the next publish.
    let requests = stat(&server, "requests");
    let waiter = {
        let addr = server.url("/poll/p?since=2&timeout=10");
        thread::spawn(move || {
            let out =
                std::process::Command::new("curl").args(["-s", "--max-time", "10", &addr]).output().unwrap();
            (Instant::now(), String::from_utf8(out.stdout).unwrap())
        })
    };
    stat_grows(&server, "requests", requests, 1); // the poll is parked
    let published = Instant::now();
    let (_, body) = publish(&server, "/topics/p", "three", &[]);
    assert_eq!(body, r#"{"id":3,"subscribers":1}"#, "the waiting poll counts as a subscriber");
    let (answered, body) = waiter.join().unwrap();
    assert_eq!(body, r#"[{"id":3,"event":null,"data":"three"}]"#);
    assert!(answered >= published, "answered before the publish");
    // Nothing at all: [] after the timeout, and the connection serves on.
    let mut s = server.connect();
    let t = Instant::now();
    write_all(&mut s, b"GET /poll/p?since=3&timeout=0.5 HTTP/1.1\r\nHost: t\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut buf = Vec::new();
    let r = read_reply(&mut s, &mut buf, false).unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "[]"));
    assert!(t.elapsed() >= Duration::from_millis(450), "{:?}", t.elapsed());
    let r = read_reply(&mut s, &mut buf, false).unwrap();
    assert_eq!(r.text(), "Hello, World!", "the request pipelined behind the poll is answered after it");
    assert_eq!(get(&server, "/poll/p?since=x").status, 400);
}

#[test]
fn stats_stream_sends_figures_every_second() {
    let server = Server::start(&[]);
    let mut s = Stream::open(&server, "/stats/stream", "");
    let first = s.next_event();
    assert!(first.starts_with("event: stats\ndata: {\"uptime_secs\":"), "{first}");
    let t = Instant::now();
    let second = s.next_event();
    assert!(second.contains("\"sse\":1"), "{second}");
    assert!(t.elapsed() >= Duration::from_millis(700), "{:?}", t.elapsed());
}

#[test]
fn metrics_are_prometheus_text() {
    let server = Server::start(&[]);
    publish(&server, "/topics/m", "x", &[]);
    let r = get(&server, "/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = r.text();
    assert!(text.contains("\npushwire_messages_total{direction=\"in\"} 1\n"), "{text}");
    assert!(text.contains("# TYPE pushwire_requests_total counter\n"), "{text}");
    assert!(text.contains("\npushwire_topics 1\n"), "{text}");
}

#[test]
fn sigterm_sends_streams_a_retry_and_closes_them() {
    let mut server = Server::start(&["--drain-secs", "500ms"]);
    let mut s = Stream::open(&server, "/topics/t", "");
    server.signal("TERM");
    let end =
        s.until(common::stream::after(b"\n"), Duration::from_secs(3)).expect("a retry before the close");
    let line = String::from_utf8(s.buf.drain(..end).collect()).unwrap();
    let ms: u64 = line
        .strip_prefix("retry: ")
        .and_then(|r| r.strip_suffix('\n'))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{line:?}"));
    assert!((1000..=2500).contains(&ms), "retry {ms} ms: jittered past the drain window");
    // SPEC §4: the retry line alone, no blank line after it, so a client
    // that keeps the last id has no empty block to dispatch as an event.
    assert!(
        s.until(common::stream::after(b"\n"), Duration::from_secs(3)).is_none(),
        "then the close: {:?}",
        s.buf
    );
    assert!(s.buf.is_empty(), "nothing after the retry line: {:?}", s.buf);
    assert_eq!(server.wait_exit(Duration::from_secs(5)).and_then(|s| s.code()), Some(0));
}

#[test]
fn one_stream_for_several_topics_resumes_all_from_one_id() {
    let server = Server::start(&[]);
    publish(&server, "/topics/a", "before", &[]);
    let mut s = Stream::open(&server, "/topics/a,b", "");
    let (_, body) = publish(&server, "/topics/b", "b one", &[]);
    assert_eq!(body, r#"{"id":1,"subscribers":1}"#);
    publish(&server, "/topics/a?event=named", "a two", &[]);
    // Positions start at the present (a:1, nothing replayed); each event
    // carries its topic as the event name unless it has one, and every
    // position in its id.
    assert_eq!(s.next_event(), "id: a:1,b:1\nevent: b\ndata: b one\n\n");
    assert_eq!(s.next_event(), "id: a:2,b:1\nevent: named\ndata: a two\n\n");
    drop(s);
    // Missed one of each while away: both replayed, topic by topic.
    publish(&server, "/topics/a", "a three", &[]);
    publish(&server, "/topics/b", "b two", &[]);
    let mut s = Stream::open(&server, "/topics/a,b", "Last-Event-ID: a:2,b:1\r\n");
    assert_eq!(s.next_event(), "id: a:3,b:1\nevent: a\ndata: a three\n\n");
    assert_eq!(s.next_event(), "id: a:3,b:2\nevent: b\ndata: b two\n\n");
    assert!(s.next_block(Duration::from_millis(300)).is_none(), "nothing twice");
    assert_eq!(stat(&server, "subscriptions"), 2);
    // Bad lists and publishing to a list are refused.
    for path in ["/topics/a,a", "/topics/a,", "/topics/a,b%20c"] {
        let r = exchange(
            &server,
            format!("GET {path} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n").as_bytes(),
        );
        assert_eq!(r.status, 400, "{path}");
    }
    assert!(publish(&server, "/topics/a,b", "x", &[]).0.starts_with("HTTP/1.1 400"));
}

#[test]
fn writes_do_not_move_stream_or_poll_deadlines() {
    // Heartbeats every 100 ms are writes; they must not end a topic stream
    // (no idle timeout) at the keep-alive timeout, which is for HTTP.
    let server = Server::start(&["--heartbeat", "100ms", "--keepalive-timeout", "300ms"]);
    let mut s = Stream::open(&server, "/topics/t", "");
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(1200) {
        assert_eq!(s.next_block(Duration::from_secs(2)).as_deref(), Some(": heartbeat\n"), "stream ended");
    }
    publish(&server, "/topics/t", "still here", &[]);
    assert_eq!(s.next_event(), "id: 1\ndata: still here\n\n");
    // A long-poll behind an answered request keeps its own timeout.
    let server = Server::start(&["--keepalive-timeout", "10s"]);
    let mut c = server.connect();
    let t = Instant::now();
    write_all(
        &mut c,
        b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\nGET /poll/q?timeout=0.3 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let mut buf = Vec::new();
    assert_eq!(read_reply(&mut c, &mut buf, false).unwrap().status, 200);
    assert_eq!(read_reply(&mut c, &mut buf, false).unwrap().text(), "[]");
    assert!(t.elapsed() < Duration::from_secs(3), "the poll waited {:?}, not its 0.3 s", t.elapsed());
}

#[test]
fn a_long_chain_of_long_polls_costs_no_stack() {
    // Each connection parks a poll on c{i} with a publish to c{i+1} pipelined
    // behind it: one publish to c0 answers the whole chain. Handled
    // recursively this overflowed the stack at about 2,500 links.
    let server = Server::start(&[]);
    let links = 3000;
    let requests = stat(&server, "requests");
    let mut conns: Vec<TcpStream> = (0..links)
        .map(|i| {
            let mut c = server.connect();
            let req = format!(
                "GET /poll/c{i}?timeout=30 HTTP/1.1\r\nHost: t\r\n\r\n\
                 POST /topics/c{} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx",
                i + 1
            );
            write_all(&mut c, req.as_bytes());
            c
        })
        .collect();
    // Every link's poll is parked, its publish behind it unread.
    stat_grows(&server, "requests", requests, links as u64);
    publish(&server, "/topics/c0", "go", &[]);
    for (i, c) in conns.iter_mut().enumerate() {
        let mut buf = Vec::new();
        let poll = read_reply(c, &mut buf, false).unwrap_or_else(|| panic!("link {i} unanswered"));
        assert_eq!(poll.status, 200, "link {i}");
        assert_eq!(read_reply(c, &mut buf, false).unwrap().status, 202, "link {i}'s publish");
    }
}

#[test]
fn subscribers_made_dirty_while_flushing_are_flushed_too() {
    let server = Server::start(&[]);
    let mut s = Stream::open(&server, "/topics/t2", "");
    // A parked poll with more than 1 MiB of answers and a publish behind it:
    // the publish runs while the loop is flushing, and must still reach S.
    let mut x = server.connect();
    let mut req = b"GET /poll/t1?timeout=0.5 HTTP/1.1\r\nHost: t\r\n\r\n".to_vec();
    for _ in 0..9000 {
        req.extend_from_slice(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    req.extend_from_slice(b"POST /topics/t2 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nm1");
    let reader = {
        let mut x2 = x.try_clone().unwrap();
        thread::spawn(move || {
            let mut buf = Vec::new();
            for _ in 0..9002 {
                read_reply(&mut x2, &mut buf, false).expect("every answer");
            }
        })
    };
    x.write_all(&req).unwrap();
    reader.join().unwrap();
    assert_eq!(s.next_event(), "id: 1\ndata: m1\n\n");
    publish(&server, "/topics/t2", "m2", &[]);
    assert_eq!(s.next_event(), "id: 2\ndata: m2\n\n");
}

#[test]
fn one_large_event_does_not_drop_a_reader_that_keeps_up() {
    let server = Server::start(&["--max-queue", "4KiB"]);
    let mut s = Stream::open(&server, "/topics/big", "");
    // 2,000 newlines become 2,001 `data:` lines: far over the queue cap.
    let (head, _) = publish(&server, "/topics/big", &"\n".repeat(2000), &[]);
    assert!(head.starts_with("HTTP/1.1 202"));
    let event = s.next_event();
    assert_eq!(event.matches("data: \n").count(), 2001);
    assert_eq!(stat(&server, "drops"), 0);
    assert_eq!(stat(&server, "sse"), 1);
}

#[test]
fn shutdown_answers_parked_polls() {
    let mut server = Server::start(&["--drain-secs", "3"]);
    let mut c = server.connect();
    let requests = stat(&server, "requests");
    write_all(&mut c, b"GET /poll/p?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n");
    stat_grows(&server, "requests", requests, 1); // the poll is parked
    let t = Instant::now();
    server.signal("TERM");
    let r = read_reply(&mut c, &mut Vec::new(), false).expect("the parked poll is answered");
    assert_eq!((r.status, r.text().as_str(), r.header("connection").as_deref()), (200, "[]", Some("close")));
    assert!(t.elapsed() < Duration::from_secs(2), "answered at the drain deadline, not at once");
    assert_eq!(server.wait_exit(Duration::from_secs(5)).and_then(|s| s.code()), Some(0));
}

#[test]
fn head_on_a_poll_that_would_wait_is_json() {
    let server = Server::start(&[]);
    let r = head(&server, "/poll/h?timeout=5");
    assert_eq!((r.status, r.header("content-type").as_deref()), (200, Some("application/json")));
}

#[test]
fn a_huge_poll_timeout_is_clamped_not_a_crash() {
    // Duration::from_secs_f64 panics past u64 seconds; with panic = "abort"
    // in release that would take the whole server down.
    let server = Server::start(&[]);
    publish(&server, "/topics/h", "x", &[]);
    for t in ["1e30", "1e300", "18446744073709551616"] {
        let r = get(&server, &format!("/poll/h?since=0&timeout={t}"));
        assert_eq!(r.status, 200, "timeout={t}");
    }
    assert_eq!(get(&server, "/plaintext").status, 200, "still serving");
}
