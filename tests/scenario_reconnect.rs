//! SPEC §3.4, reconnection without loss, over real sockets: the broadcast's
//! exact text and ids, per-stream keys, `Last-Event-ID` replay (exactly the
//! missed ones, in order, with their original time), `event: reset` past
//! history, the timeout, and the unload beacon. The browser's own
//! reconnection loop is tested with the npm `eventsource` client in
//! tests/browser/sse-reconnect.test.mjs.

mod common;

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;

/// Broadcasts kept for replay (src/app/reconnect.rs `KEPT`).
const KEPT: u64 = 1000;

use common::stream::EventStream as Stream;

/// One broadcast as a stream received it.
#[derive(Debug, PartialEq)]
struct Received {
    seq: u64,
    key: u64,
    time: String,
}

/// Checks a block is exactly `id: {seq}\ndata: 来自客户端【{key}】的信息:测试SSE{yyyy-MM-dd HH:mm:ss}\n\n`
/// and takes it apart.
fn parse(block: &str) -> Received {
    let rest = block.strip_prefix("id: ").unwrap_or_else(|| panic!("no id first: {block:?}"));
    let (seq, rest) = rest.split_once('\n').unwrap();
    let seq: u64 = seq.parse().unwrap_or_else(|_| panic!("id not a number: {block:?}"));
    let rest = rest.strip_prefix("data: 来自客户端【").unwrap_or_else(|| panic!("data: {block:?}"));
    let (key, rest) = rest.split_once("】的信息:测试SSE").unwrap_or_else(|| panic!("text: {block:?}"));
    assert!(!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()), "key {key:?}");
    let key: u64 = key.parse().unwrap();
    assert!(key > 0, "the key is a positive integer");
    let time = rest.strip_suffix("\n\n").unwrap_or_else(|| panic!("one data line: {block:?}"));
    assert_datetime_shape(time);
    Received { seq, key, time: time.to_string() }
}

/// `yyyy-MM-dd HH:mm:ss`, checked character by character.
fn assert_datetime_shape(t: &str) {
    let b = t.as_bytes();
    assert_eq!(b.len(), 19, "{t:?}");
    for (i, &c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(c, b'-', "{t:?}"),
            10 => assert_eq!(c, b' ', "{t:?}"),
            13 | 16 => assert_eq!(c, b':', "{t:?}"),
            _ => assert!(c.is_ascii_digit(), "{t:?}"),
        }
    }
    let n = |r: std::ops::Range<usize>| t[r].parse::<u64>().unwrap();
    assert!((1..=12).contains(&n(5..7)) && (1..=31).contains(&n(8..10)), "{t:?}");
    assert!(n(11..13) < 24 && n(14..16) < 60 && n(17..19) < 60, "{t:?}");
}

/// Seconds since the epoch of a `yyyy-MM-dd HH:mm:ss` read as UTC (days
/// from civil, Hinnant), to compare with the test's own clock.
fn unix_secs(t: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)) as u64
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn send(server: &Server) {
    let r = get(server, "/foo/sseSend");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "发送成功!".as_bytes());
}

/// `n` broadcasts, pipelined on one connection.
fn send_many(server: &Server, n: usize) {
    let mut s = server.connect();
    write_all(&mut s, "GET /foo/sseSend HTTP/1.1\r\nHost: t\r\n\r\n".repeat(n).as_bytes());
    let mut buf = Vec::new();
    for _ in 0..n {
        let r = read_reply(&mut s, &mut buf, false).expect("a reply");
        assert_eq!((r.status, r.body.as_slice()), (200, "发送成功!".as_bytes()));
    }
}

#[test]
fn datetime_helper_reads_known_values() {
    assert_eq!(unix_secs("1970-01-01 00:00:00"), 0);
    assert_eq!(unix_secs("1994-11-06 08:49:37"), 784_111_777);
    assert_eq!(unix_secs("2000-02-29 00:00:00"), 951_782_400);
}

#[test]
fn the_stream_opens_quietly_with_the_spec_head() {
    let server = Server::start(&[]);
    let mut s = Stream::open(&server, "/foo/sse", "");
    s.assert_spec_head();
    assert_eq!(s.next_event_within(Duration::from_millis(300)), None, "nothing before a broadcast");
    assert_eq!(stat(&server, "sse"), 1);
}

#[test]
fn sse_send_broadcasts_the_spec_text_with_dense_ids_and_each_streams_key() {
    let server = Server::start(&[]);
    let mut a = Stream::open(&server, "/foo/sse", "");
    let mut b = Stream::open(&server, "/foo/sse", "");
    let before = now_secs();
    send(&server);
    send(&server);
    let after = now_secs();
    let raw = a.next_event();
    let a1 = parse(&raw);
    assert_eq!(raw, format!("id: 1\ndata: 来自客户端【{}】的信息:测试SSE{}\n\n", a1.key, a1.time));
    let a2 = parse(&a.next_event());
    let b1 = parse(&b.next_event());
    let b2 = parse(&b.next_event());
    assert_eq!((a1.seq, a2.seq, b1.seq, b2.seq), (1, 2, 1, 2));
    assert_eq!(a1.key, a2.key, "a stream keeps its key");
    assert_eq!(b1.key, b2.key);
    assert_ne!(a1.key, b1.key, "each stream has its own key");
    assert_eq!(a1.time, b1.time, "one broadcast, one time");
    // The time is now, in UTC.
    for r in [&a1, &a2] {
        let t = unix_secs(&r.time);
        assert!(before <= t && t <= after, "{} is not between {before} and {after}", r.time);
    }
}

#[test]
fn sending_with_nobody_listening_still_counts_and_is_kept() {
    let server = Server::start(&[]);
    // HEAD is GET without content, and without a broadcast.
    let r = head(&server, "/foo/sseSend");
    assert_eq!(r.status, 200);
    send(&server);
    send(&server);
    let mut s = Stream::open(&server, "/foo/sse", "");
    send(&server);
    assert_eq!(parse(&s.next_event()).seq, 3, "ids count every broadcast (and HEAD is none)");
    let mut late = Stream::open(&server, "/foo/sse", "Last-Event-ID: 0\r\n");
    let seqs: Vec<u64> = (0..3).map(|_| parse(&late.next_event()).seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[test]
fn last_event_id_replays_exactly_the_missed_ones_in_order_with_their_time() {
    let server = Server::start(&[]);
    let mut live = Stream::open(&server, "/foo/sse", "");
    let mut seen = Vec::new();
    for _ in 0..5 {
        send(&server);
        seen.push(parse(&live.next_event()));
    }
    // That a replay shows each broadcast's own time, not the replay's, is
    // the unit test a_replay_shows_each_broadcast_s_own_time in
    // src/app/reconnect.rs, with the clock moved by hand; here the replayed
    // times are the ones the live stream got.
    let mut back = Stream::open(&server, "/foo/sse", "Last-Event-ID: 2\r\n");
    let replayed: Vec<Received> = (0..3).map(|_| parse(&back.next_event())).collect();
    let key = replayed[0].key;
    assert_eq!(replayed.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert!(replayed.iter().all(|r| r.key == key), "a replay carries the new stream's key");
    for (r, original) in replayed.iter().zip(&seen[2..]) {
        assert_eq!(r.time, original.time, "the replay shows the original broadcast time");
    }
    assert_eq!(back.next_event_within(Duration::from_millis(300)), None, "nothing more, nothing twice");
    send(&server);
    let six = parse(&back.next_event());
    assert_eq!((six.seq, six.key), (6, key), "live events follow the replay");
    assert_eq!(parse(&live.next_event()).seq, 6);
    // The query twin, for a page that starts with a known id.
    let mut q = Stream::open(&server, "/foo/sse?lastEventId=4", "");
    assert_eq!(parse(&q.next_event()).seq, 5);
    assert_eq!(parse(&q.next_event()).seq, 6);
    // Up to date, from the future, or not an id at all: nothing replayed.
    for id in ["6", "99", "abc", ""] {
        let mut s = Stream::open(&server, "/foo/sse", &format!("Last-Event-ID: {id}\r\n"));
        assert_eq!(s.next_event_within(Duration::from_millis(200)), None, "Last-Event-ID {id:?}");
    }
}

#[test]
fn a_gap_older_than_history_starts_with_reset() {
    let server = Server::start(&[]);
    let total = KEPT + 5;
    send_many(&server, total as usize);
    let mut s = Stream::open(&server, "/foo/sse", "Last-Event-ID: 1\r\n");
    assert_eq!(s.next_event(), "event: reset\ndata: 6\n\n");
    for seq in 6..=total {
        assert_eq!(parse(&s.next_event()).seq, seq);
    }
    // Missing only what is still kept: no reset.
    let mut s = Stream::open(&server, "/foo/sse", "Last-Event-ID: 5\r\n");
    assert_eq!(parse(&s.next_event()).seq, 6);
}

#[test]
fn an_idle_stream_times_out_and_a_busy_one_does_not() {
    let server = Server::start(&[]);
    let t = Instant::now();
    let mut s = Stream::open(&server, "/foo/sse?timeout=0.5", "");
    assert!(closed_within(&mut s.socket, Duration::from_secs(3)), "no timeout");
    assert!(t.elapsed() >= Duration::from_millis(450), "closed too soon: {:?}", t.elapsed());
    stat_becomes(&server, "sse", 0);
    // A broadcast is data: it re-arms the idle timeout.
    let mut busy = Stream::open(&server, "/foo/sse?timeout=0.8", "");
    for _ in 0..4 {
        // The client's pace, the point of the test: a broadcast every 0.4 s,
        // 1.6 s in all, against a 0.8 s idle timeout. (The rule, with time
        // moved by hand: an_event_moves_the_idle_deadline_but_not_while_draining
        // in proto/src/conn/stream_tests.rs.)
        thread::sleep(Duration::from_millis(400));
        send(&server);
        parse(&busy.next_event());
    }
    assert_eq!(stat(&server, "sse"), 1, "a stream with a broadcast every 0.4 s timed out");
    // The default is 15 s: still open after a second of silence.
    let mut quiet = Stream::open(&server, "/foo/sse", "");
    assert!(!closed_within(&mut quiet.socket, Duration::from_secs(1)));
    for bad in ["0", "-2", "x"] {
        assert_eq!(get(&server, &format!("/foo/sse?timeout={bad}")).status, 400, "{bad}");
    }
}

#[test]
fn close_window_is_a_beacon_by_get_or_post() {
    let server = Server::start(&[]);
    let r = get(&server, "/foo/closeWindow");
    assert_eq!(r.status, 200);
    let r =
        exchange(&server, b"POST /foo/closeWindow?last=7 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 200);
    let logged =
        server.log_until(Duration::from_secs(2), |log| log.contains("closed its window (\"last=7\")"));
    assert!(logged.is_some(), "not logged: {}", server.log());
}
