//! SPEC §3.5, WebSocket echo and mass messaging, over real sockets with
//! tungstenite (a client we did not write): the greeting, the echo text with
//! its session id, the broadcast to several sessions each with its own sid
//! and `{"sent":N}`, refusals, the online count in the log, and no leaks.

mod common;

use std::time::Duration;

use common::ws::{close, close_half_drop_half, connect, next_data, next_text, Ws};
use common::*;
use tungstenite::Message;

/// SPEC §3.5: "on open sends the bare text `连接成功`".
const GREETING: &str = "连接成功";

fn open(server: &Server) -> Ws {
    connect(server, "/ws/asset")
}

/// Opens a session and reads its greeting.
fn open_greeted(server: &Server) -> Ws {
    let mut ws = open(server);
    assert_eq!(next_data(&mut ws), Message::text(GREETING));
    ws
}

/// Sends `m` and checks the echo's exact form; the session id it names.
fn echo_sid(ws: &mut Ws, m: &str) -> String {
    ws.send(Message::text(m)).unwrap();
    let got = next_text(ws);
    let sid = got
        .strip_prefix(&format!("Echo Message content:{m} (From Server,Session ID="))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not the SPEC echo of {m:?}: {got:?}"));
    assert!(!sid.is_empty() && sid.bytes().all(|b| b.is_ascii_digit()), "sid {sid:?} is a counter");
    sid.to_string()
}

fn broadcast(server: &Server, body: &str) -> Reply {
    post_text(server, "/ws/asset/broadcast", body.as_bytes())
}

#[test]
fn greets_then_echoes_each_text_with_the_session_id() {
    let server = Server::start(&[]);
    let mut ws = open(&server);
    // The greeting is the bare text: no prefix, no sid.
    assert_eq!(next_data(&mut ws), Message::text("连接成功"));
    let sid = echo_sid(&mut ws, "hello");
    assert_eq!(echo_sid(&mut ws, "你好, 世界 🎉"), sid, "one session, one sid");
    assert_eq!(echo_sid(&mut ws, ""), sid, "an empty message is echoed too");
    assert_eq!(echo_sid(&mut ws, "a (From Server,Session ID=x)"), sid);
    // A text with every byte a JSON or HTML page might trip on.
    assert_eq!(echo_sid(&mut ws, "<b>\"quotes\"</b>\n\\tab\t"), sid);
    // A second session gets a different sid.
    let mut other = open_greeted(&server);
    assert_ne!(echo_sid(&mut other, "hello"), sid);
}

#[test]
fn binary_messages_are_ignored_and_the_socket_stays_open() {
    let server = Server::start(&[]);
    let mut ws = open_greeted(&server);
    ws.send(Message::binary(vec![0u8, 1, 2, 255])).unwrap();
    // The next message to arrive is the echo of the text sent after it.
    echo_sid(&mut ws, "after binary");
    assert_eq!(stat(&server, "ws"), 1);
}

#[test]
fn broadcast_reaches_every_session_with_its_own_sid() {
    let server = Server::start(&[]);
    let mut sockets: Vec<(Ws, String)> = (0..3)
        .map(|i| {
            let mut ws = open_greeted(&server);
            let sid = echo_sid(&mut ws, &format!("I am {i}"));
            (ws, sid)
        })
        .collect();
    let mut sids: Vec<&String> = sockets.iter().map(|(_, sid)| sid).collect();
    sids.sort();
    sids.dedup();
    assert_eq!(sids.len(), 3, "three sessions, three sids");

    let r = broadcast(&server, "系统通知: 10 点维护");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.text(), r#"{"sent":3}"#);
    for (ws, sid) in &mut sockets {
        assert_eq!(next_text(ws), format!("系统通知: 10 点维护 (From Server,Session ID={sid})"));
    }
    // Each session still echoes afterwards, and got the broadcast only once.
    for (ws, sid) in &mut sockets {
        assert_eq!(&echo_sid(ws, "still here"), sid);
    }

    // One session leaves: the next broadcast counts and reaches the others.
    let (gone, _) = sockets.remove(0);
    close(gone);
    stat_becomes(&server, "ws", 2);
    assert_eq!(broadcast(&server, "second").text(), r#"{"sent":2}"#);
    for (ws, sid) in &mut sockets {
        assert_eq!(next_text(ws), format!("second (From Server,Session ID={sid})"));
    }
}

#[test]
fn broadcast_refuses_what_is_not_utf8_and_answers_only_post() {
    let server = Server::start(&[]);
    let mut ws = open_greeted(&server);
    let r = post_text(&server, "/ws/asset/broadcast", &[0x66, 0xff, 0xfe]);
    assert_eq!(r.status, 400, "{}", r.text());
    let put = exchange(&server, b"PUT /ws/asset/broadcast HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx");
    assert_eq!(put.status, 405);
    assert!(put.header("allow").is_some_and(|a| a.contains("POST")), "{}", put.head);
    // Nothing was sent: the next message is the echo of this one.
    echo_sid(&mut ws, "nothing came before me");
    // With no session open, the count is 0.
    close(ws);
    stat_becomes(&server, "ws", 0);
    assert_eq!(broadcast(&server, "anyone?").text(), r#"{"sent":0}"#);
}

#[test]
fn a_plain_get_is_400_and_registers_nothing() {
    let server = Server::start(&[]);
    assert_eq!(get(&server, "/ws/asset").status, 400);
    let head = head(&server, "/ws/asset");
    assert_eq!(head.status, 400);
    // A bad handshake is refused by the app before the scenario sees it.
    let r = exchange(
        &server,
        b"GET /ws/asset HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    );
    assert_eq!(r.status, 426);
    assert_eq!(broadcast(&server, "x").text(), r#"{"sent":0}"#);
}

#[test]
fn the_online_count_is_logged_on_open_and_close() {
    let server = Server::start(&[]);
    let mut a = open_greeted(&server);
    let a_sid = echo_sid(&mut a, "a");
    let b = open_greeted(&server);
    close(a);
    stat_becomes(&server, "ws", 1);
    drop(b); // the client just goes away: no close handshake
    stat_becomes(&server, "ws", 0);
    // The log arrives through a pipe: wait for the fourth line.
    let log = server
        .log_until(Duration::from_secs(5), |log| log.matches("online: ").count() >= 4)
        .unwrap_or_else(|| server.log());
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("ws/asset")).collect();
    let online: Vec<&str> = lines.iter().filter_map(|l| l.split("online: ").nth(1)).collect();
    assert_eq!(online, ["1", "2", "1", "0"], "{lines:#?}");
    assert!(lines[0].contains(&format!("sid={a_sid} opened")), "{lines:#?}");
}

#[test]
fn no_leaks_after_sockets_close() {
    let server = Server::start(&[]);
    for round in 0..3 {
        let sockets: Vec<Ws> = (0..5).map(|_| open_greeted(&server)).collect();
        assert_eq!(broadcast(&server, "ping").text(), r#"{"sent":5}"#, "round {round}");
        close_half_drop_half(sockets);
        stat_becomes(&server, "ws", 0);
        assert_eq!(broadcast(&server, "anyone?").text(), r#"{"sent":0}"#, "round {round}");
    }
}
