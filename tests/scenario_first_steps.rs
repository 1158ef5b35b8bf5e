//! SPEC §3.2 (first SSE steps) over real sockets: `/server/info` sends its
//! one line and stays open; `/server/data` sends a price 1 s after each
//! stream connects and every second after, in the SPEC's exact format, and
//! stops (no timer left running) when the client goes away.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::stream::EventStream;
use common::*;

/// The price in fen if `block` is exactly one SPEC price event, i.e. its
/// data line matches `^data: 白菜价格行情:(10\.00|\d\.\d{2})元$`.
fn price(block: &str) -> Option<u32> {
    let line = block.strip_suffix("\n\n")?;
    let p = line.strip_prefix("data: 白菜价格行情:")?.strip_suffix('元')?;
    let b = p.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b {
        b"10.00" => Some(1000),
        [w, b'.', c1, c2] if digits(&[*w, *c1, *c2]) => {
            Some(u32::from(w - b'0') * 100 + u32::from(c1 - b'0') * 10 + u32::from(c2 - b'0'))
        }
        _ => None,
    }
}

#[test]
fn the_price_check_itself() {
    let cases: &[(&str, Option<u32>)] = &[
        ("data: 白菜价格行情:0.00元\n\n", Some(0)),
        ("data: 白菜价格行情:4.07元\n\n", Some(407)),
        ("data: 白菜价格行情:10.00元\n\n", Some(1000)),
        ("data: 白菜价格行情:10.01元\n\n", None),
        ("data: 白菜价格行情:11.00元\n\n", None),
        ("data: 白菜价格行情:4.7元\n\n", None),
        ("data: 白菜价格行情:04.70元\n\n", None),
        ("data: 白菜价格行情:4.700元\n\n", None),
        ("data: 白菜价格行情:4,70元\n\n", None),
        ("data: 白菜价格行情:4.70\n\n", None),
        ("data:白菜价格行情:4.70元\n\n", None),
        ("id: 1\ndata: 白菜价格行情:4.70元\n\n", None),
    ];
    for (block, want) in cases {
        assert_eq!(price(block), *want, "{block:?}");
    }
}

#[test]
fn info_sends_its_line_then_stays_open() {
    let server = Server::start(&["--heartbeat", "400ms"]);
    let mut s = EventStream::open(&server, "/server/info", "");
    assert!(s.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", s.head);
    assert!(s.head.contains("\r\nContent-Type: text/event-stream; charset=utf-8\r\n"), "{}", s.head);
    assert_eq!(s.next_block(Duration::from_secs(2)).as_deref(), Some("data: [aaa, bbb, ccc]\n\n"));
    // Past 1.5 s: only heartbeats, no event, no close.
    let until = Instant::now() + Duration::from_millis(1600);
    let mut beats = 0;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match s.next_block(left) {
            Some(block) => {
                assert_eq!(block, ": heartbeat\n");
                beats += 1;
            }
            None => break,
        }
    }
    assert!(beats >= 2, "heartbeats keep it alive: {beats}");
    assert_eq!(stat(&server, "sse"), 1, "still open");
}

#[test]
fn info_has_no_timeout_even_without_heartbeats() {
    // No heartbeat in the test's time, and a short keep-alive timeout: an
    // HTTP idle rule must not end a stream that has "no timeout".
    let server = Server::start(&["--heartbeat", "3600s", "--keepalive-timeout", "500ms"]);
    let mut s = EventStream::open(&server, "/server/info", "");
    assert_eq!(s.next_event_within(Duration::from_secs(2)).as_deref(), Some("data: [aaa, bbb, ccc]\n\n"));
    assert_eq!(s.next_block(Duration::from_millis(1600)), None, "nothing more, and no close");
    assert_eq!(stat(&server, "sse"), 1);
    drop(s);
    stat_becomes(&server, "sse", 0);
}

#[test]
fn data_ticks_one_second_after_connect_then_every_second() {
    let server = Server::start(&[]);
    let mut s = EventStream::open(&server, "/server/data", "");
    assert!(s.head.contains("\r\nContent-Type: text/event-stream; charset=utf-8\r\n"), "{}", s.head);
    let mut at = Vec::new();
    let mut prices = Vec::new();
    for _ in 0..4 {
        let block = s.next_event_within(Duration::from_secs(3)).expect("a price");
        at.push(s.opened.elapsed());
        prices.push(price(&block).unwrap_or_else(|| panic!("not a SPEC price event: {block:?}")));
    }
    assert!(at[0] >= Duration::from_millis(950), "first price too early: {:?}", at[0]);
    assert!(at[0] <= Duration::from_millis(1500), "first price too late: {:?}", at[0]);
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (Duration::from_millis(700)..=Duration::from_millis(1300)).contains(&gap),
            "gap {gap:?} in {at:?}"
        );
    }
    // On the 1 s grid from the connect: no drift after four ticks.
    assert!(at[3] >= Duration::from_millis(3950) && at[3] <= Duration::from_millis(4500), "{at:?}");
    assert!(prices.windows(2).any(|w| w[0] != w[1]), "the price never changed: {prices:?}");
}

#[test]
fn each_stream_keeps_its_own_cadence() {
    let server = Server::start(&[]);
    let mut a = EventStream::open(&server, "/server/data", "");
    // The clients' pace, the point of the test: b connects half a second
    // after a. (Each stream's own grid, with time moved by hand:
    // each_stream_ticks_on_its_own_grid in src/app/first_steps.rs.)
    thread::sleep(Duration::from_millis(500));
    let mut b = EventStream::open(&server, "/server/data", "");
    // A shared ticker would hand b its first price with a's, ~0.5 s in.
    let first_b = b.next_event_within(Duration::from_secs(3)).expect("a price");
    let waited = b.opened.elapsed();
    assert!(price(&first_b).is_some(), "{first_b:?}");
    assert!(waited >= Duration::from_millis(950), "b's first price came {waited:?} after it connected");
    assert!(price(&a.next_event_within(Duration::from_secs(3)).unwrap()).is_some());
}

#[test]
fn data_stops_when_the_client_goes_away() {
    let server = Server::start(&[]);
    let mut s = EventStream::open(&server, "/server/data", "");
    assert!(price(&s.next_event_within(Duration::from_secs(3)).unwrap()).is_some());
    drop(s);
    stat_becomes(&server, "sse", 0);
    // Nothing reaches a stream that is gone, and the server ticks on for the
    // next one: one price, counted once. (A leaked ticker would not show
    // over a socket: the driver drops sends to a dead key before counting
    // them. The ticker's removal at the stream's end, with time moved by
    // hand, is ticks_one_second_after_connect_then_every_second_until_the_end
    // in src/app/first_steps.rs.)
    let before = stat(&server, "messages_out");
    let mut again = EventStream::open(&server, "/server/data", "");
    assert!(price(&again.next_event_within(Duration::from_secs(3)).unwrap()).is_some());
    assert_eq!(stat(&server, "messages_out"), before + 1);
}

#[test]
fn head_starts_no_ticker() {
    let server = Server::start(&[]);
    for path in ["/server/data", "/server/info"] {
        let r = head(&server, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type").as_deref(), Some("text/event-stream; charset=utf-8"));
    }
    // Nothing was started or sent. (That HEAD sets no timer, with time moved
    // by hand: the end of ticks_one_second_after_connect_then_every_second_until_the_end
    // in src/app/first_steps.rs; that the connection hears the stream did
    // not start: head_gets_a_stream_s_head_alone_and_the_app_hears_it_did_not_start
    // in proto/src/conn/http_tests.rs.)
    assert_eq!(stat(&server, "messages_out"), 0);
    assert_eq!(stat(&server, "sse"), 0);
}
