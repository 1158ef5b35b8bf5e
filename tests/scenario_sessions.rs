//! SPEC §3.6, sessions by id, over real sockets with tungstenite (a client we
//! did not write): the greeting and the echo, ids that are not positive
//! integers refused with `400` before the upgrade, replacement (the old
//! socket closed with 1000, the new one working), sending to an id, `404`
//! for an id nobody holds, the broadcast count, and no leaks.

mod common;

use common::ws::{close, close_half_drop_half, handshake, next_data, Ws};
use common::*;
use tungstenite::Message;

/// SPEC §3.6: "on open sends `-连接已建立-`".
const GREETING: &str = "-连接已建立-";

/// Opens `/socket/{id}` and reads its greeting.
fn open(server: &Server, id: &str) -> Ws {
    let mut ws = handshake(server, &format!("/socket/{id}")).expect("101");
    assert_eq!(next_data(&mut ws), Message::text(GREETING));
    ws
}

/// Reads until the server's Close frame; its code.
fn close_code(ws: &mut Ws) -> u16 {
    match next_data(ws) {
        Message::Close(Some(frame)) => u16::from(frame.code),
        other => panic!("expected a Close frame, got {other:?}"),
    }
}

#[test]
fn greets_then_echoes_text_as_text_and_binary_as_binary() {
    let server = Server::start(&[]);
    let mut ws = handshake(&server, "/socket/1").expect("101");
    assert_eq!(next_data(&mut ws), Message::text("-连接已建立-"));
    let messages = [
        Message::text("hello"),
        Message::text("你好, 世界 🎉"),
        Message::text(""),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::binary(vec![7u8; 70_000]),
    ];
    for m in messages {
        ws.send(m.clone()).unwrap();
        assert_eq!(next_data(&mut ws), m, "echoed unchanged");
    }
}

#[test]
fn ids_that_are_not_positive_integers_are_400_before_the_upgrade() {
    let server = Server::start(&[]);
    for id in ["abc", "0", "00", "-1", "+1", "1.5", "1e3", "%201", "18446744073709551616", "%E4%B8%80"] {
        let path = format!("/socket/{id}");
        assert_eq!(handshake(&server, &path).err(), Some(400), "{path} with an upgrade");
        assert_eq!(get(&server, &path).status, 400, "{path} without one");
        assert_eq!(post_text(&server, &format!("{path}/send"), b"x").status, 400, "{path}/send");
    }
    let r = get(&server, "/socket/abc");
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain; charset=utf-8"));
    assert!(r.text().contains("positive integer"), "{}", r.text());
    // The largest id and leading zeros are fine.
    let mut max = open(&server, "18446744073709551615");
    let _seven = open(&server, "007");
    assert_eq!(stat(&server, "ws"), 2);
    let r = post_text(&server, "/socket/18446744073709551615/send", b"max");
    assert_eq!(r.text(), r#"{"id":18446744073709551615,"sent":true}"#);
    assert_eq!(next_data(&mut max), Message::text("max"));
    assert_eq!(post_text(&server, "/socket/7/send", b"7").text(), r#"{"id":7,"sent":true}"#);
}

#[test]
fn a_new_session_with_the_same_id_replaces_the_old_one_closed_with_1000() {
    let server = Server::start(&[]);
    let mut old = open(&server, "7");
    let mut new = open(&server, "7");
    assert_eq!(close_code(&mut old), 1000, "the old socket is closed normally");
    // The old socket is gone for good; the new one echoes and receives.
    stat_becomes(&server, "ws", 1);
    new.send(Message::text("I am the new one")).unwrap();
    assert_eq!(next_data(&mut new), Message::text("I am the new one"));
    let r = post_text(&server, "/socket/7/send", "给新的".as_bytes());
    assert_eq!((r.status, r.text()), (200, r#"{"id":7,"sent":true}"#.to_string()));
    assert_eq!(next_data(&mut new), Message::text("给新的"));
    assert_eq!(post_text(&server, "/socket/broadcast", b"all").text(), r#"{"sent":1}"#);
    assert_eq!(next_data(&mut new), Message::text("all"));
    // "007" is the same id: it replaces the holder of 7 in turn.
    let mut third = open(&server, "007");
    assert_eq!(close_code(&mut new), 1000);
    third.send(Message::text("third")).unwrap();
    assert_eq!(next_data(&mut third), Message::text("third"));
}

#[test]
fn a_plain_get_does_not_take_the_id() {
    let server = Server::start(&[]);
    let mut ws = open(&server, "5");
    assert_eq!(get(&server, "/socket/5").status, 400);
    assert_eq!(head(&server, "/socket/5").status, 400);
    assert_eq!(post_text(&server, "/socket/5/send", b"still mine").status, 200);
    assert_eq!(next_data(&mut ws), Message::text("still mine"));
}

#[test]
fn send_to_an_id_delivers_and_an_unknown_id_is_404() {
    let server = Server::start(&[]);
    let mut one = open(&server, "1");
    let mut two = open(&server, "2");
    let r = post_text(&server, "/socket/2/send", "只给 2 号".as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.text(), r#"{"id":2,"sent":true}"#);
    assert_eq!(next_data(&mut two), Message::text("只给 2 号"));
    // Session 1 got nothing: the next thing it reads is its own echo.
    one.send(Message::text("mine")).unwrap();
    assert_eq!(next_data(&mut one), Message::text("mine"));

    let r = post_text(&server, "/socket/3/send", b"nobody");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.text(), r#"{"id":3,"sent":false,"error":"no open session with this id"}"#);

    // Not UTF-8: refused, nothing sent.
    assert_eq!(post_text(&server, "/socket/2/send", &[0xc3, 0x28]).status, 400);
    // After the session closes, its id is unknown again.
    close(two);
    stat_becomes(&server, "ws", 1);
    assert_eq!(post_text(&server, "/socket/2/send", b"late").status, 404);
}

#[test]
fn broadcast_reaches_every_session_and_counts_them() {
    let server = Server::start(&[]);
    let mut sockets: Vec<Ws> = ["1", "2", "30"].iter().map(|id| open(&server, id)).collect();
    let r = post_text(&server, "/socket/broadcast", "大家好 <all>".as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.text(), r#"{"sent":3}"#);
    for ws in &mut sockets {
        assert_eq!(next_data(ws), Message::text("大家好 <all>"));
    }
    assert_eq!(post_text(&server, "/socket/broadcast", &[0xff]).status, 400);
    // GET /socket/broadcast is a socket route with a bad id.
    assert_eq!(get(&server, "/socket/broadcast").status, 400);
    for ws in &mut sockets {
        ws.send(Message::text("after")).unwrap();
        assert_eq!(next_data(ws), Message::text("after"), "the 400 sent nothing");
    }
}

#[test]
fn no_leaks_after_sockets_close() {
    let server = Server::start(&[]);
    for round in 0..3 {
        let sockets: Vec<Ws> = (1..=5).map(|id| open(&server, &id.to_string())).collect();
        // A replaced one too: its end must not remove the new registration.
        let replacing = open(&server, "5");
        assert_eq!(post_text(&server, "/socket/broadcast", b"x").text(), r#"{"sent":5}"#, "round {round}");
        close_half_drop_half(sockets);
        stat_becomes(&server, "ws", 1);
        assert_eq!(post_text(&server, "/socket/5/send", b"y").status, 200, "round {round}");
        drop(replacing);
        stat_becomes(&server, "ws", 0);
        assert_eq!(post_text(&server, "/socket/broadcast", b"x").text(), r#"{"sent":0}"#, "round {round}");
        for id in 1..=5 {
            assert_eq!(post_text(&server, &format!("/socket/{id}/send"), b"z").status, 404, "round {round}");
        }
    }
}
