//! SPEC §3.1 (payment result push) over real sockets: the exact bytes of
//! `/orderpay` and `/payback`, replacement, the idle timeout, the answers'
//! statuses and bodies, and no stream left behind in `/stats`.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::stream::EventStream;
use common::*;

const OPENING: &str = "retry: 1000\ndata: Connection succeeded\n\n";
const PAID: &str = "data: User payment succeeded\n\nevent: finish\nid: 6666\ndata: ha-ha\n\n";

/// Opens a payment stream and checks its first bytes, exactly.
fn pay(server: &Server, path: &str) -> EventStream {
    let mut s = EventStream::open_ok(server, path);
    assert_eq!(s.take(OPENING.len(), Duration::from_secs(5)), OPENING);
    s
}

fn assert_json(r: &Reply, status: u16, body: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.text(), body);
}

#[test]
fn orderpay_opens_with_retry_and_connection_succeeded() {
    let server = Server::start(&[]);
    let mut s = EventStream::open_ok(&server, "/orderpay?payid=1001");
    s.assert_spec_head();
    assert_eq!(s.take(OPENING.len(), Duration::from_secs(5)), OPENING);
    // Nothing else until something happens (no heartbeat yet at 15 s).
    assert_eq!(s.take(1, Duration::from_millis(300)), "");
    assert_eq!(stat(&server, "sse"), 1);
}

#[test]
fn payback_pushes_success_then_finish_then_ends_the_stream() {
    let server = Server::start(&[]);
    let mut s = pay(&server, "/orderpay?payid=42");
    let r = get(&server, "/payback?payid=42");
    assert_json(&r, 200, r#"{"payid":42,"delivered":true}"#);
    // The two events, in this order, byte for byte, then EOF.
    assert_eq!(s.rest_until_eof(Duration::from_secs(3)).as_deref(), Some(PAID));
    stat_becomes(&server, "sse", 0);
    // Paid once: the stream is gone, so a second confirmation finds nothing.
    let r = get(&server, "/payback?payid=42");
    assert_json(&r, 404, r#"{"payid":42,"delivered":false,"error":"no open stream for this payid"}"#);
}

#[test]
fn a_second_stream_replaces_the_first() {
    let server = Server::start(&[]);
    let mut first = pay(&server, "/orderpay?payid=7");
    let mut other = pay(&server, "/orderpay?payid=8");
    let mut second = pay(&server, "/orderpay?payid=7");
    // The first is told why, then closed (so its page does not reconnect
    // and take the payid back).
    assert_eq!(
        first.rest_until_eof(Duration::from_secs(3)).as_deref(),
        Some("event: replaced\ndata: another stream took over this payid\n\n")
    );
    stat_becomes(&server, "sse", 2);
    // The first one's end did not unregister the second.
    assert_json(&get(&server, "/payback?payid=7"), 200, r#"{"payid":7,"delivered":true}"#);
    assert_eq!(second.rest_until_eof(Duration::from_secs(3)).as_deref(), Some(PAID));
    // Another payid was not touched.
    assert_eq!(other.take(1, Duration::from_millis(200)), "");
    assert_json(&get(&server, "/payback?payid=8"), 200, r#"{"payid":8,"delivered":true}"#);
    assert_eq!(other.rest_until_eof(Duration::from_secs(3)).as_deref(), Some(PAID));
    stat_becomes(&server, "sse", 0);
}

#[test]
fn timeout_sends_timeout_line_then_closes() {
    let server = Server::start(&[]);
    let t = Instant::now();
    let mut s = pay(&server, "/orderpay?payid=5&timeout=0.5");
    let rest = s.rest_until_eof(Duration::from_secs(3));
    let waited = t.elapsed();
    assert_eq!(rest.as_deref(), Some("data: timeout!!\n\n"));
    assert!(waited >= Duration::from_millis(450), "timed out early: {waited:?}");
    assert!(waited < Duration::from_millis(2000), "timed out late: {waited:?}");
    stat_becomes(&server, "sse", 0);
    assert_eq!(get(&server, "/payback?payid=5").status, 404, "a timed-out stream is forgotten");
}

#[test]
fn heartbeats_do_not_postpone_the_timeout() {
    // SPEC §3.1: "no data has been sent": a heartbeat comment is not data.
    let server = Server::start(&["--heartbeat", "200ms"]);
    let t = Instant::now();
    let mut s = pay(&server, "/orderpay?payid=13&timeout=1");
    let rest = s.rest_until_eof(Duration::from_secs(4)).expect("closed");
    let waited = t.elapsed();
    assert!(rest.starts_with(": heartbeat\n: heartbeat\n"), "heartbeats flowed meanwhile: {rest:?}");
    assert_eq!(rest.replace(": heartbeat\n", ""), "data: timeout!!\n\n");
    assert!((Duration::from_millis(950)..Duration::from_millis(2500)).contains(&waited), "{waited:?}");
}

#[test]
fn the_default_timeout_is_not_a_short_one() {
    let server = Server::start(&[]);
    let mut s = pay(&server, "/orderpay?payid=6");
    assert_eq!(s.take(1, Duration::from_millis(1500)), "", "nothing, and no close, after 1.5 s");
    assert_json(&get(&server, "/payback?payid=6"), 200, r#"{"payid":6,"delivered":true}"#);
    assert_eq!(s.rest_until_eof(Duration::from_secs(3)).as_deref(), Some(PAID));
}

#[test]
fn payid_is_any_64_bit_integer() {
    let server = Server::start(&[]);
    for (id, shown) in
        [("-3", "-3"), ("0", "0"), ("9223372036854775807", "9223372036854775807"), ("007", "7")]
    {
        let mut s = pay(&server, &format!("/orderpay?payid={id}"));
        let r = get(&server, &format!("/payback?payid={shown}"));
        assert_json(&r, 200, &format!(r#"{{"payid":{shown},"delivered":true}}"#));
        assert_eq!(s.rest_until_eof(Duration::from_secs(3)).as_deref(), Some(PAID), "{id}");
    }
}

#[test]
fn bad_payids_and_timeouts_are_400() {
    let server = Server::start(&[]);
    for path in [
        "/orderpay",
        "/orderpay?payid=",
        "/orderpay?payid=abc",
        "/orderpay?payid=1.5",
        "/orderpay?payid=9223372036854775808",
        "/orderpay?payid=1&timeout=0",
        "/orderpay?payid=1&timeout=-2",
        "/orderpay?payid=1&timeout=soon",
    ] {
        let r = get(&server, path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert_eq!(r.header("content-type").as_deref(), Some("text/plain; charset=utf-8"), "{path}");
        let text = r.text();
        assert!(text.contains("payid") || text.contains("timeout"), "{path}: unclear message {text:?}");
    }
    for path in ["/payback", "/payback?payid=x", "/payback?payid=2.0"] {
        let r = get(&server, path);
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
        assert!(r.text().starts_with(r#"{"payid":null,"delivered":false,"error":"payid "#), "{}", r.text());
    }
    assert_json(
        &get(&server, "/payback?payid=77"),
        404,
        r#"{"payid":77,"delivered":false,"error":"no open stream for this payid"}"#,
    );
    assert_eq!(stat(&server, "sse"), 0);
}

#[test]
fn a_page_that_goes_away_is_forgotten() {
    let server = Server::start(&[]);
    let s = pay(&server, "/orderpay?payid=11");
    drop(s);
    stat_becomes(&server, "sse", 0);
    assert_eq!(get(&server, "/payback?payid=11").status, 404);
}

#[test]
fn head_does_not_disturb_a_waiting_stream() {
    let server = Server::start(&[]);
    let mut s = pay(&server, "/orderpay?payid=12");
    let r = head(&server, "/orderpay?payid=12");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("text/event-stream; charset=utf-8"));
    let r = head(&server, "/payback?payid=12");
    assert_eq!(r.status, 200);
    assert_eq!(s.take(1, Duration::from_millis(200)), "", "the stream was neither paid nor replaced");
    assert_json(&get(&server, "/payback?payid=12"), 200, r#"{"payid":12,"delivered":true}"#);
    assert_eq!(s.rest_until_eof(Duration::from_secs(3)).as_deref(), Some(PAID));
}

#[test]
fn curl_sees_the_whole_payment() {
    // A client we did not write: curl reads the stream to its end.
    let server = Server::start(&[]);
    let url = server.url("/orderpay?payid=31");
    let reader = thread::spawn(move || curl(&["-N", &url]));
    wait_for(SETTLE, "curl's stream never opened", || stat(&server, "sse"), |n| n != 0);
    assert_json(&get(&server, "/payback?payid=31"), 200, r#"{"payid":31,"delivered":true}"#);
    let (head, body) = reader.join().unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(String::from_utf8(body).unwrap(), format!("{OPENING}{PAID}"));
}
