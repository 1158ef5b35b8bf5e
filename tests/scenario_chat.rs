//! SPEC §3.7, the chat room, over real sockets: tungstenite (a client we did
//! not write) for the room, raw requests where the rule is an HTTP answer
//! before the upgrade. Every text is SPEC's, byte for byte.

mod common;

use common::ws::{close, connect, next_text, Ws};
use common::*;
use tungstenite::Message;

fn join(server: &Server, query: &str) -> Ws {
    connect(server, &format!("/websocket{query}"))
}

fn say(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).expect("send");
}

/// Each socket's next message is `want`.
fn all_get(sockets: &mut [&mut Ws], want: &str) {
    for (i, ws) in sockets.iter_mut().enumerate() {
        assert_eq!(next_text(ws), want, "socket {i}");
    }
}

fn upgrade_request(target: &str) -> String {
    format!(
        "GET {target} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

#[test]
fn three_join_talk_and_leave_with_exact_lines_and_counts() {
    let server = Server::start(&[]);
    let mut ann = join(&server, "?nickname=Ann");
    assert_eq!(next_text(&mut ann), "Ann joined (online: 1)");

    let mut bob = join(&server, "?nickname=Bob");
    all_get(&mut [&mut bob, &mut ann], "Bob joined (online: 2)");

    // Percent-decoded from the query: 小明.
    let mut ming = join(&server, "?nickname=%E5%B0%8F%E6%98%8E");
    all_get(&mut [&mut ming, &mut ann, &mut bob], "小明 joined (online: 3)");

    // Everyone, the sender included, in the order sent.
    say(&mut bob, "hello, 世界 ✓");
    say(&mut bob, "line one\nline two");
    for ws in [&mut ann, &mut bob, &mut ming] {
        assert_eq!(next_text(ws), "Bob: hello, 世界 ✓");
        assert_eq!(next_text(ws), "Bob: line one\nline two");
    }
    say(&mut ming, "");
    all_get(&mut [&mut ann, &mut bob, &mut ming], "小明: ");
    say(&mut ann, "{\"not\":\"json to us\"}");
    all_get(&mut [&mut ann, &mut bob, &mut ming], "Ann: {\"not\":\"json to us\"}");
    assert_eq!(stat(&server, "ws"), 3);

    // The count after leaving, to those still in the room.
    close(ming);
    all_get(&mut [&mut ann, &mut bob], "小明 left (online: 2)");
    close(ann);
    all_get(&mut [&mut bob], "Ann left (online: 1)");

    // The room keeps working, and counts from what is left.
    let mut cy = join(&server, "?nickname=Cy");
    all_get(&mut [&mut cy, &mut bob], "Cy joined (online: 2)");
    close(bob);
    all_get(&mut [&mut cy], "Bob left (online: 1)");
    close(cy);
    stat_becomes(&server, "ws", 0);
}

#[test]
fn blank_or_missing_nickname_is_400_before_the_upgrade() {
    let server = Server::start(&[]);
    for target in [
        "/websocket",
        "/websocket?",
        "/websocket?nickname",
        "/websocket?nickname=",
        "/websocket?nickname=+",
        "/websocket?nickname=%20%09",
        "/websocket?nick=Ann",
    ] {
        for request in [upgrade_request(target), format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n")] {
            let reply = exchange(&server, request.as_bytes());
            assert_eq!(reply.status, 400, "{target}");
            assert!(reply.text().contains("昵称不能为空"), "{target}: {:?}", reply.text());
            assert_eq!(reply.header("upgrade"), None);
        }
    }
    // tungstenite sees the refusal as an HTTP error, not a socket.
    let stream = server.connect();
    match tungstenite::client(format!("ws://{}/websocket?nickname=", server.addr), stream) {
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            assert_eq!(response.status().as_u16(), 400);
            let body = response.body().as_deref().unwrap_or_default();
            assert!(String::from_utf8_lossy(body).contains("昵称不能为空"));
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    assert_eq!(stat(&server, "ws"), 0);
    // Nobody joined: the first real member is alone.
    let mut ann = join(&server, "?nickname=Ann");
    assert_eq!(next_text(&mut ann), "Ann joined (online: 1)");
}

#[test]
fn nicknames_may_repeat_and_are_trimmed() {
    let server = Server::start(&[]);
    let mut first = join(&server, "?nickname=Li");
    assert_eq!(next_text(&mut first), "Li joined (online: 1)");
    let mut second = join(&server, "?nickname=%20Li+");
    all_get(&mut [&mut second, &mut first], "Li joined (online: 2)");
    say(&mut second, "which Li?");
    all_get(&mut [&mut first, &mut second], "Li: which Li?");
    close(first);
    all_get(&mut [&mut second], "Li left (online: 1)");
    // `+` is a space in a query value, and inner spaces stay.
    let mut third = join(&server, "?nickname=Li+Wei");
    all_get(&mut [&mut third, &mut second], "Li Wei joined (online: 2)");
}

#[test]
fn a_request_that_does_not_upgrade_joins_nobody() {
    let server = Server::start(&[]);
    let mut ann = join(&server, "?nickname=Ann");
    assert_eq!(next_text(&mut ann), "Ann joined (online: 1)");
    // A plain GET is refused by the handshake rules; HEAD too.
    let plain = get(&server, "/websocket?nickname=Ghost");
    assert_eq!(plain.status, 400);
    let head = head(&server, "/websocket?nickname=Ghost");
    assert_ne!(head.status, 101);
    // A bad handshake (version 8) is refused before the scenario sees it.
    let v8 = upgrade_request("/websocket?nickname=Ghost").replace("Version: 13", "Version: 8");
    assert_eq!(exchange(&server, v8.as_bytes()).status, 426);
    // Had any of them joined, Ann would have heard of it before Bob.
    let mut bob = join(&server, "?nickname=Bob");
    all_get(&mut [&mut ann, &mut bob], "Bob joined (online: 2)");
}

#[test]
fn a_dropped_connection_is_announced_and_binary_is_ignored() {
    let server = Server::start(&[]);
    let mut ann = join(&server, "?nickname=Ann");
    assert_eq!(next_text(&mut ann), "Ann joined (online: 1)");
    let mut bob = join(&server, "?nickname=Bob");
    all_get(&mut [&mut bob, &mut ann], "Bob joined (online: 2)");

    // The room speaks text: a binary message reaches nobody.
    bob.send(Message::binary(vec![0u8, 1, 2])).unwrap();
    say(&mut bob, "after the binary");
    all_get(&mut [&mut ann, &mut bob], "Bob: after the binary");

    // No Close frame: the TCP connection just goes away.
    drop(bob);
    all_get(&mut [&mut ann], "Bob left (online: 1)");
    close(ann);
    stat_becomes(&server, "ws", 0);
}

#[test]
fn many_members_and_no_leak() {
    let server = Server::start(&[]);
    let mut room: Vec<Ws> = Vec::new();
    for i in 1..=12 {
        let mut ws = join(&server, &format!("?nickname=u{i}"));
        let line = format!("u{i} joined (online: {i})");
        assert_eq!(next_text(&mut ws), line);
        for other in room.iter_mut() {
            assert_eq!(next_text(other), line);
        }
        room.push(ws);
    }
    say(&mut room[5], "to all twelve");
    for ws in room.iter_mut() {
        assert_eq!(next_text(ws), "u6: to all twelve");
    }
    while let Some(ws) = room.pop() {
        let n = room.len();
        close(ws);
        for other in room.iter_mut() {
            assert_eq!(next_text(other), format!("u{} left (online: {n})", n + 1));
        }
    }
    stat_becomes(&server, "ws", 0);
}
