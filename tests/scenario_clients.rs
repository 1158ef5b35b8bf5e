//! SPEC §3.3, the SSE client registry, over real sockets: every route, its
//! exact texts and statuses, replacement, the 1-per-second push (its rate,
//! its end, and that its stream's end reaches the registry), and no leaks
//! in `/stats`. The push's timing rules, with time moved by hand, are the
//! unit tests in src/app/sse_clients.rs.

mod common;

use std::time::{Duration, Instant};

use common::stream::EventStream;
use common::*;

const TOKEN: &str = "data: SSE 测试数据\n\n";
const BLANK: &str = "客户端id不能为空";
/// Tokens in one push (src/app/sse_clients.rs `PUSH_TOKENS`).
const PUSH_TOKENS: usize = 10;

#[test]
fn both_connect_paths_open_a_registered_stream() {
    let server = Server::start(&[]);
    let mut a = EventStream::open_ok(&server, "/sse/sseConection?clientId=a");
    let mut b = EventStream::open_ok(&server, "/sse/connect?clientId=b");
    a.assert_spec_head();
    assert_eq!(stat(&server, "sse"), 2);
    // Nothing is sent until a push starts.
    assert_eq!(a.next_event_within(Duration::from_millis(300)), None);
    for (id, s) in [("a", &mut a), ("b", &mut b)] {
        let r = get(&server, &format!("/sse/sendMsg?clientId={id}"));
        assert_eq!(r.status, 200, "{id}");
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
        assert_eq!(r.text(), format!("{{\"clientId\":\"{id}\",\"tokens\":{PUSH_TOKENS}}}"));
        assert_eq!(s.next_event_within(Duration::from_secs(2)).as_deref(), Some(TOKEN), "{id}");
    }
}

#[test]
fn missing_or_blank_client_id_is_400() {
    let server = Server::start(&[]);
    let paths = [
        "/sse/sseConection",
        "/sse/sseConection?clientId=",
        "/sse/connect?clientId=%20",
        "/sse/connect?clientId=+%09+",
        "/sse/testSse",
        "/sse/testSse?clientId=",
        "/sse/sendMsg",
        "/sse/sendMsg?clientId=%20%20",
        "/sse/closeConn",
        "/sse/closeConn/",
        "/sse/closeConn/%20",
    ];
    for path in paths {
        let r = get(&server, path);
        assert_eq!(r.status, 400, "{path}");
        assert!(r.text().contains(BLANK), "{path}: {}", r.text());
    }
    assert_eq!(stat(&server, "sse"), 0);
}

#[test]
fn test_sse_pushes_a_token_at_once_then_one_a_second() {
    let server = Server::start(&[]);
    let t = Instant::now();
    let mut s = EventStream::open_ok(&server, "/sse/testSse?clientId=t1");
    assert_eq!(
        s.next_event_within(Duration::from_millis(500)).as_deref(),
        Some(TOKEN),
        "the first token at once"
    );
    let mut at = vec![t.elapsed()];
    for _ in 0..3 {
        assert_eq!(s.next_event_within(Duration::from_secs(2)).as_deref(), Some(TOKEN));
        at.push(t.elapsed());
    }
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (Duration::from_millis(800)..Duration::from_millis(1300)).contains(&gap),
            "tokens {gap:?} apart: {at:?}"
        );
    }
    // testSse registered the id like sseConection does.
    assert_eq!(get(&server, "/sse/sendMsg?clientId=t1").status, 200);
}

#[test]
fn a_push_is_ten_tokens_then_the_stream_stays_open() {
    let server = Server::start(&[]);
    let mut s = EventStream::open_ok(&server, "/sse/testSse?clientId=chat");
    let t = Instant::now();
    let got = s.events_for(Duration::from_millis(PUSH_TOKENS as u64 * 1000 + 1500));
    assert_eq!(got, vec![TOKEN.to_string(); PUSH_TOKENS]);
    assert!(t.elapsed() >= Duration::from_secs(PUSH_TOKENS as u64 - 1));
    assert_eq!(stat(&server, "sse"), 1, "the stream outlives its push");
    // A new push on the same stream.
    assert_eq!(get(&server, "/sse/sendMsg?clientId=chat").status, 200);
    assert_eq!(s.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
}

#[test]
fn send_msg_reaches_only_that_client_and_unknown_is_404() {
    let server = Server::start(&[]);
    let mut a = EventStream::open_ok(&server, "/sse/connect?clientId=%E5%AE%A2%E6%88%B7a");
    let mut b = EventStream::open_ok(&server, "/sse/connect?clientId=b");
    let r = get(&server, "/sse/sendMsg?clientId=%E5%AE%A2%E6%88%B7a");
    assert_eq!((r.status, r.text()), (200, format!("{{\"clientId\":\"客户a\",\"tokens\":{PUSH_TOKENS}}}")));
    assert_eq!(a.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
    assert_eq!(a.next_event_within(Duration::from_millis(1500)).as_deref(), Some(TOKEN));
    assert_eq!(b.next_event_within(Duration::from_millis(200)), None, "b got a's push");
    let r = get(&server, "/sse/sendMsg?clientId=nobody");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert!(r.text().starts_with("{\"error\":"), "{}", r.text());
    assert!(r.text().contains("\"clientId\":\"nobody\""), "{}", r.text());
}

#[test]
fn send_msg_to_all_starts_a_push_on_every_client_and_counts_them() {
    let server = Server::start(&[]);
    let r = get(&server, "/sse/sendMsgToAll");
    assert_eq!((r.status, r.text().as_str()), (200, "{\"count\":0}"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    let mut streams: Vec<EventStream> = ["x", "y", "z"]
        .iter()
        .map(|id| EventStream::open_ok(&server, &format!("/sse/connect?clientId={id}")))
        .collect();
    // A replaced stream is not a client of its own.
    let _dup = EventStream::open_ok(&server, "/sse/connect?clientId=z");
    let r = get(&server, "/sse/sendMsgToAll");
    assert_eq!((r.status, r.text().as_str()), (200, "{\"count\":3}"));
    for s in &mut streams[..2] {
        assert_eq!(s.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
        assert_eq!(s.next_event_within(Duration::from_millis(1500)).as_deref(), Some(TOKEN));
    }
}

#[test]
fn starting_a_push_again_does_not_double_the_rate() {
    let server = Server::start(&[]);
    let mut s = EventStream::open_ok(&server, "/sse/testSse?clientId=r");
    for _ in 0..3 {
        assert_eq!(get(&server, "/sse/sendMsg?clientId=r").status, 200);
        assert_eq!(get(&server, "/sse/sendMsgToAll").status, 200);
    }
    // One push at one token a second: the first at once, then ~3 in 3.3 s.
    let got = s.events_for(Duration::from_millis(3300));
    assert!((3..=5).contains(&got.len()), "{} tokens in 3.3 s", got.len());
}

#[test]
fn a_new_stream_with_the_same_id_replaces_the_old_one() {
    let server = Server::start(&[]);
    let mut old = EventStream::open_ok(&server, "/sse/sseConection?clientId=same");
    let mut new = EventStream::open_ok(&server, "/sse/connect?clientId=same");
    assert!(old.closed_within(Duration::from_secs(2)), "the replaced stream was not closed");
    stat_becomes(&server, "sse", 1);
    // The old stream's end did not unregister the new one.
    assert_eq!(get(&server, "/sse/sendMsg?clientId=same").status, 200);
    assert_eq!(new.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
    assert_eq!(get(&server, "/sse/sendMsgToAll").text(), "{\"count\":1}");
}

#[test]
fn close_conn_ends_the_stream_cleanly() {
    let server = Server::start(&[]);
    let mut s = EventStream::open_ok(&server, "/sse/testSse?clientId=%E5%AE%A2");
    assert_eq!(s.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
    let r = get(&server, "/sse/closeConn/%E5%AE%A2");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "连接已关闭".as_bytes());
    assert!(s.closed_within(Duration::from_secs(2)), "no EOF after closeConn");
    stat_becomes(&server, "sse", 0);
    let r = get(&server, "/sse/closeConn/%E5%AE%A2");
    assert_eq!(r.status, 404, "closed twice");
    assert_eq!(get(&server, "/sse/sendMsg?clientId=%E5%AE%A2").status, 404);
    assert_eq!(get(&server, "/sse/sendMsgToAll").text(), "{\"count\":0}");
}

#[test]
fn pushes_stop_when_the_stream_ends() {
    let server = Server::start(&[]);
    let mut s = EventStream::open_ok(&server, "/sse/testSse?clientId=gone");
    assert_eq!(s.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
    assert_eq!(s.next_event_within(Duration::from_millis(1500)).as_deref(), Some(TOKEN));
    drop(s);
    stat_becomes(&server, "sse", 0);
    // The stream's end reached the app: its registry forgot the client. That
    // the push dies with it is the unit test a_push_dies_with_its_stream in
    // src/app/sse_clients.rs, with time moved by hand (over a socket a leaked
    // push would not show: the driver drops sends to a dead key uncounted).
    assert_eq!(get(&server, "/sse/sendMsg?clientId=gone").status, 404, "the registry kept a dead client");
    assert_eq!(get(&server, "/sse/sendMsgToAll").text(), "{\"count\":0}");
}

#[test]
fn an_idle_stream_times_out_and_is_forgotten() {
    let server = Server::start(&[]);
    let t = Instant::now();
    let mut s = EventStream::open_ok(&server, "/sse/connect?clientId=idle&timeout=0.5");
    assert!(s.closed_within(Duration::from_secs(3)), "no timeout");
    assert!(t.elapsed() >= Duration::from_millis(450), "closed too soon: {:?}", t.elapsed());
    stat_becomes(&server, "sse", 0);
    assert_eq!(get(&server, "/sse/sendMsg?clientId=idle").status, 404);
    // Each token counts as data: a pushing stream does not time out.
    let mut busy = EventStream::open_ok(&server, "/sse/testSse?clientId=busy&timeout=1.5");
    assert_eq!(busy.events_for(Duration::from_millis(2300)).len(), 3);
    assert_eq!(stat(&server, "sse"), 1, "a stream with a token every second outlived its 1.5 s timeout");
    for bad in ["0", "-1", "abc", "NaN"] {
        assert_eq!(get(&server, &format!("/sse/connect?clientId=q&timeout={bad}")).status, 400, "{bad}");
    }
}

#[test]
fn head_does_not_replace_the_real_stream() {
    let server = Server::start(&[]);
    let mut s = EventStream::open_ok(&server, "/sse/connect?clientId=h");
    let r = head(&server, "/sse/connect?clientId=h");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("text/event-stream; charset=utf-8"));
    // Nor do HEADs of the routes that act: they answer, and do nothing.
    for path in
        ["/sse/sendMsg?clientId=h", "/sse/sendMsgToAll", "/sse/closeConn/h", "/sse/testSse?clientId=h"]
    {
        let r = head(&server, path);
        assert_eq!(r.status, 200, "HEAD {path}");
    }
    assert_eq!(s.next_event_within(Duration::from_millis(1200)), None, "a HEAD started a push");
    assert_eq!(get(&server, "/sse/sendMsg?clientId=h").status, 200);
    assert_eq!(s.next_event_within(Duration::from_secs(1)).as_deref(), Some(TOKEN));
}
