//! SPEC §2, §4 and §5 for WebSocket over real sockets: tungstenite (a client
//! we did not write) for conversations, raw bytes where the rule is about
//! exact bytes (handshake refusals, invalid frames and their close codes).
//! Conformance as a whole is the Autobahn run in scripts/autobahn.sh.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::ws::{close, connect, next_data};
use common::*;
use tungstenite::Message;

/// A raw client: the §1.3 handshake, then frames written by hand.
fn raw(server: &Server, path: &str) -> TcpStream {
    let mut s = server.connect();
    write_all(
        &mut s,
        format!(
            "GET {path} HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    );
    let reply = read_reply(&mut s, &mut Vec::new(), true).expect("101");
    assert_eq!(reply.status, 101);
    s
}

/// A masked client frame (RFC 6455 §5.3), first byte as given.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// Reads server frames until a Close; its status code.
fn close_code(s: &mut TcpStream) -> u16 {
    let mut buf = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    loop {
        let mut at = 0;
        while buf.len() >= at + 2 {
            let (op, len) = (buf[at] & 0x0f, (buf[at + 1] & 0x7f) as usize);
            let (len, start) = match len {
                126 if buf.len() >= at + 4 => {
                    (u16::from_be_bytes([buf[at + 2], buf[at + 3]]) as usize, at + 4)
                }
                126 => break,
                127 if buf.len() >= at + 10 => {
                    (u64::from_be_bytes(buf[at + 2..at + 10].try_into().unwrap()) as usize, at + 10)
                }
                127 => break,
                n => (n, at + 2),
            };
            if buf.len() < start + len {
                break;
            }
            if op == 0x8 {
                assert!(len >= 2, "a close without a code");
                return u16::from_be_bytes([buf[start], buf[start + 1]]);
            }
            at = start + len;
        }
        let mut chunk = [0u8; 65536];
        let n = s.read(&mut chunk).expect("frames until a close");
        assert!(n > 0, "closed without a Close frame");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn handshake_answers_with_the_rfc_accept_key() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    write_all(
        &mut s,
        b"GET /ws/echo HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let r = read_reply(&mut s, &mut Vec::new(), true).unwrap();
    assert_eq!(r.status, 101);
    // RFC 6455 §1.3's own example.
    assert_eq!(r.header("sec-websocket-accept").as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_eq!(r.header("upgrade").as_deref(), Some("websocket"));
    assert_eq!(r.header("connection").as_deref(), Some("Upgrade"));
    assert_eq!(stat(&server, "ws"), 1);
}

#[test]
fn handshake_refusals_400_403_426() {
    let server = Server::start(&["--allowed-origins", "http://good.example"]);
    let base = "GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    let cases: &[(&str, u16)] = &[
        ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n", 426),
        ("Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n", 400),
        ("Sec-WebSocket-Version: 13\r\n", 400),
        (
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n",
            403,
        ),
        (
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://good.example\r\n",
            101,
        ),
    ];
    for (headers, status) in cases {
        let r = exchange(&server, format!("{base}{headers}\r\n").as_bytes());
        assert_eq!(r.status, *status, "{headers}");
        if *status == 426 {
            assert_eq!(r.header("sec-websocket-version").as_deref(), Some("13"));
        }
    }
}

#[test]
fn echo_returns_every_message_unchanged() {
    let server = Server::start(&[]);
    let mut ws = connect(&server, "/ws/echo");
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7) as u8).collect();
    let messages = [
        Message::text("hello"),
        Message::text("中文 ✓ emoji 🎉"),
        Message::text(""),
        Message::binary(vec![0u8, 255, 1, 2]),
        Message::binary(big),
    ];
    for m in messages {
        ws.send(m.clone()).unwrap();
        assert_eq!(next_data(&mut ws), m);
    }
    // Ping: the answer is a Pong with the same payload (RFC 6455 §5.5.2).
    ws.send(Message::Ping(b"are you there".to_vec().into())).unwrap();
    match ws.read().unwrap() {
        Message::Pong(p) => assert_eq!(&p[..], b"are you there"),
        other => panic!("{other:?}"),
    }
    close(ws);
    stat_becomes(&server, "ws", 0);
}

#[test]
fn a_fragmented_message_with_a_ping_between_comes_back_whole() {
    let server = Server::start(&[]);
    let mut s = raw(&server, "/ws/echo");
    let mut bytes = frame(0x01, b"Hel"); // text, not final
    bytes.extend(frame(0x89, b"p")); // ping between fragments (§5.5)
    bytes.extend(frame(0x80, b"lo")); // continuation, final
    write_all(&mut s, &bytes);
    let mut got = [0u8; 10];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.read_exact(&mut got).unwrap();
    // The pong first (it completed first), then "Hello" in one frame.
    assert_eq!(&got, &[0x8a, 0x01, b'p', 0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
}

#[test]
fn violations_close_with_their_codes() {
    let server = Server::start(&["--max-message", "1KiB"]);
    let cases: &[(Vec<u8>, u16, &str)] = &[
        (frame(0xC1, b"rsv1"), 1002, "a reserved bit"),
        (frame(0x83, b"x"), 1002, "a reserved opcode"),
        (vec![0x81, 0x02, b'h', b'i'], 1002, "an unmasked client frame"),
        (frame(0x80, b"x"), 1002, "a continuation with nothing to continue"),
        (
            frame(
                0x81,
                &[0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80],
            ),
            1007,
            "a surrogate in text",
        ),
        (frame(0x81, &vec![b'a'; 2000]), 1009, "a message over --max-message"),
        (frame(0x88, &[0x03, 0xed]), 1002, "close code 1005, which must not be sent"),
    ];
    for (bytes, code, what) in cases {
        let mut s = raw(&server, "/ws/echo");
        write_all(&mut s, bytes);
        assert_eq!(close_code(&mut s), *code, "{what}");
        assert!(
            closed_within(&mut s, Duration::from_secs(5)),
            "{what}: the server closes the TCP connection"
        );
    }
    // A valid close is echoed with its code (§5.5.1).
    let mut s = raw(&server, "/ws/echo");
    write_all(&mut s, &frame(0x88, &[0x0f, 0xa0, b'b', b'y', b'e']));
    assert_eq!(close_code(&mut s), 4000);
}

#[test]
fn topic_subscribers_get_frames_and_publish_by_sending() {
    let server = Server::start(&[]);
    let mut ws = connect(&server, "/topics/chat");
    let mut other = connect(&server, "/topics/chat");
    stat_becomes(&server, "subscriptions", 2);
    let r = post_as(&server, "/topics/chat", b"from http", "text/plain");
    assert_eq!(r.text(), r#"{"id":1,"subscribers":2}"#);
    assert_eq!(next_data(&mut ws), Message::text("from http"));
    assert_eq!(next_data(&mut other), Message::text("from http"));
    let r = post_as(&server, "/topics/chat", &[0, 1, 2], "application/octet-stream");
    assert_eq!(r.status, 202);
    assert_eq!(next_data(&mut ws), Message::binary(vec![0, 1, 2]), "binary is published as binary");
    assert_eq!(next_data(&mut other), Message::binary(vec![0, 1, 2]));
    // What a subscriber sends is published to the topic: everyone gets it,
    // and it is in the history like any message.
    ws.send(Message::text("from a socket")).unwrap();
    assert_eq!(next_data(&mut other), Message::text("from a socket"));
    assert_eq!(next_data(&mut ws), Message::text("from a socket"));
    let poll = get(&server, "/poll/chat?since=2&timeout=0");
    assert_eq!(poll.text(), r#"[{"id":3,"event":null,"data":"from a socket"}]"#);
}

#[test]
fn with_a_publish_token_socket_messages_are_not_published() {
    let server = Server::start(&["--publish-token", "t0k"]);
    let mut ws = connect(&server, "/topics/quiet");
    ws.send(Message::text("unauthorised")).unwrap();
    // Frames are handled in order: once the pong for a ping sent after it
    // is back, the message has been handled (and not published).
    ws.send(Message::Ping(b"after".to_vec().into())).unwrap();
    loop {
        match ws.read().expect("the pong") {
            Message::Pong(p) if &p[..] == b"after" => break,
            Message::Pong(_) | Message::Ping(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(get(&server, "/poll/quiet?since=0&timeout=0").text(), "[]");
}

#[test]
fn multi_topic_sockets_get_json_frames() {
    let server = Server::start(&[]);
    let mut ws = connect(&server, "/topics/a,b");
    stat_becomes(&server, "subscriptions", 2); // one for each topic
    post_as(&server, "/topics/b", b"b says \"hi\"", "text/plain");
    post_as(&server, "/topics/a", b"a", "text/plain");
    assert_eq!(next_data(&mut ws), Message::text(r#"{"topic":"b","id":1,"data":"b says \"hi\""}"#));
    assert_eq!(next_data(&mut ws), Message::text(r#"{"topic":"a","id":1,"data":"a"}"#));
}

#[test]
fn a_slow_socket_is_closed_with_1013_while_others_get_everything() {
    let server = Server::start(&["--max-queue", "64KiB"]);
    let mut fast = connect(&server, "/topics/t");
    let mut slow = raw(&server, "/topics/t");
    let chunk = vec![b'x'; 16 * 1024];
    let reader = thread::spawn(move || {
        for i in 0..300 {
            assert_eq!(next_data(&mut fast).len(), 16 * 1024, "message {i}");
        }
    });
    stat_becomes(&server, "subscriptions", 2);
    for _ in 0..300 {
        assert_eq!(post_as(&server, "/topics/t", &chunk, "text/plain").status, 202);
    }
    reader.join().unwrap();
    assert_eq!(stat(&server, "drops"), 1);
    // Reading at last, the slow client finds the Close 1013 after its data.
    assert_eq!(close_code(&mut slow), 1013);
}

#[test]
fn a_socket_that_never_answers_pings_is_closed() {
    let server = Server::start(&["--heartbeat", "200ms"]);
    // tungstenite answers pings as it reads: it reads throughout, and is
    // still open after many beats.
    let mut alive = connect(&server, "/ws/echo");
    let alive = thread::spawn(move || {
        alive.get_mut().set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(1500) {
            match alive.read() {
                Ok(Message::Ping(_)) | Err(tungstenite::Error::Io(_)) => {}
                other => panic!("{other:?}"),
            }
            let _ = alive.flush();
        }
        alive.send(Message::text("still here")).unwrap();
        alive.get_mut().set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        next_data(&mut alive)
    });
    // The silent one reads pings but never answers: closed within a few beats.
    let mut silent = raw(&server, "/ws/echo");
    let t = Instant::now();
    let mut sink = [0u8; 64];
    silent.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut pings = 0;
    loop {
        match silent.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => pings += sink[..n].windows(2).filter(|w| w == &[0x89, 0x00]).count(),
        }
    }
    assert!(pings >= 1, "no ping was sent");
    assert!(t.elapsed() < Duration::from_secs(2), "closed only after {:?}", t.elapsed());
    assert_eq!(alive.join().unwrap(), Message::text("still here"));
}

#[test]
fn shutdown_closes_sockets_with_1001_and_refuses_new_upgrades() {
    let mut server = Server::start(&["--drain-secs", "500ms"]);
    let mut s = raw(&server, "/ws/echo");
    server.signal("TERM");
    assert_eq!(close_code(&mut s), 1001);
    assert_eq!(server.wait_exit(Duration::from_secs(5)).and_then(|s| s.code()), Some(0));
}

#[test]
fn a_ping_flood_without_reading_is_closed_not_buffered() {
    // Pongs are output like any other: they count against --max-queue.
    let server = Server::start(&["--max-queue", "64KiB"]);
    let mut s = raw(&server, "/ws/echo");
    let ping = frame(0x89, &[b'p'; 125]);
    let flood: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 40_000).collect();
    let _ = s.write_all(&flood);
    stat_becomes(&server, "drops", 1); // the flooding socket is closed as too slow
    assert_eq!(stat(&server, "ws"), 0);
    let rss_kb = server.rss_kb();
    assert!(rss_kb < 32 * 1024, "server RSS {rss_kb} kB after a ping flood");
}

#[test]
fn a_reader_that_keeps_up_gets_large_echoes_back_to_back() {
    // Two 600 KiB messages in one burst: 1.2 MiB of echoes queued in one
    // read pass is over the 1 MiB cap until it is flushed; a client that is
    // reading must not be called slow for it.
    let server = Server::start(&[]);
    let mut ws = connect(&server, "/ws/echo");
    let big = vec![7u8; 600 * 1024];
    ws.write(Message::binary(big.clone())).unwrap();
    ws.write(Message::binary(big.clone())).unwrap();
    ws.flush().unwrap();
    for i in 0..2 {
        assert_eq!(next_data(&mut ws), Message::binary(big.clone()), "echo {i}");
    }
    assert_eq!(stat(&server, "drops"), 0);
}

#[test]
fn a_poll_answered_from_a_socket_message_keeps_its_pipelined_requests() {
    // The poll is answered while the loop is reading the WebSocket; the
    // poll's connection, paused behind 360 KB of pipelined requests (more
    // than it reads before pausing), must resume reading them, not take a
    // nested read for end-of-file.
    let server = Server::start(&[]);
    let mut sub = connect(&server, "/topics/T");
    let mut c = server.connect();
    let poll = b"GET /poll/T?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n";
    let mut req = poll.to_vec();
    for _ in 0..10_000 {
        req.extend_from_slice(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    let mut writer = c.try_clone().unwrap();
    let (max_head, _) = limit(&server, "max_head");
    let bytes_in = stat(&server, "bytes_in");
    let w = thread::spawn(move || writer.write_all(&req).is_ok());
    // The poll is parked and the server has read as much behind it as it
    // holds (the head cap), so its reading pauses.
    stat_grows(&server, "bytes_in", bytes_in, poll.len() as u64 + max_head);
    sub.send(Message::text("wake up")).unwrap();
    let mut buf = Vec::new();
    let poll = read_reply(&mut c, &mut buf, false).expect("the poll's answer");
    assert_eq!(poll.text(), r#"[{"id":1,"event":null,"data":"wake up"}]"#);
    for i in 0..10_000 {
        let r = read_reply(&mut c, &mut buf, false).unwrap_or_else(|| panic!("pipelined answer {i} lost"));
        assert_eq!(r.status, 200);
    }
    assert!(w.join().unwrap());
}

#[test]
fn a_socket_cannot_publish_more_than_max_body() {
    let server = Server::start(&["--max-body", "1KiB"]);
    let mut s = raw(&server, "/topics/big");
    write_all(&mut s, &frame(0x82, &[1u8; 2000]));
    assert_eq!(close_code(&mut s), 1009);
    assert_eq!(get(&server, "/poll/big?since=0&timeout=0").text(), "[]", "nothing was published");
}

#[test]
fn a_live_but_slow_reader_is_closed_as_too_slow_not_as_dead() {
    // A subscriber that reads nothing while more than the kernel's socket
    // buffers is queued for it: its ping waits behind the data, so the
    // missing pong means "too slow" (1013, a drop), not "gone".
    let server = Server::start(&["--heartbeat", "300ms", "--max-queue", "64MiB", "--max-body", "2MiB"]);
    let mut slow = raw(&server, "/topics/firehose");
    let mb = vec![b'x'; 1 << 20];
    for _ in 0..24 {
        assert_eq!(post_as(&server, "/topics/firehose", &mb, "text/plain").status, 202);
    }
    stat_becomes(&server, "ws", 0); // the stalled socket is closed
    assert_eq!(stat(&server, "drops"), 1, "closed as dead instead of as too slow");
    assert_eq!(close_code(&mut slow), 1013);
}

fn ws_buffered(server: &Server) -> u64 {
    limit(server, "max_ws_buffered").1.expect("max_ws_buffered has a used figure")
}

/// Polls `/stats` until `ok` holds of the bytes of WebSocket input held.
fn until_buffered(server: &Server, ok: impl Fn(u64) -> bool, what: &str) -> u64 {
    wait_for(SETTLE, &format!("{what}: bytes of WebSocket input held"), || ws_buffered(server), ok)
}

/// Reads one unfragmented binary frame of 126..65535 bytes from the server.
fn binary_frame(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = [0u8; 4];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[..2], [0x82, 126], "a binary frame with a 16-bit length");
    let mut payload = vec![0u8; u16::from_be_bytes([head[2], head[3]]) as usize];
    s.read_exact(&mut payload).unwrap();
    payload
}

#[test]
fn input_held_by_all_sockets_is_bounded_and_the_socket_that_would_pass_it_gets_1009() {
    // RFC 6455 §10.4 for the loop as a whole: 72 KiB of input held at once,
    // every socket together. (At least twice --max-message, checked at start.)
    let server = Server::start(&["--max-message", "32KiB", "--max-ws-buffered", "72KiB"]);
    assert_eq!(limit(&server, "max_ws_buffered"), (72 * 1024, Some(0)));
    // B: the first fragment of a message, held by the Receiver.
    let mut b = raw(&server, "/ws/echo");
    let first: Vec<u8> = (0..30_000u32).map(|i| i as u8).collect();
    write_all(&mut b, &frame(0x02, &first));
    until_buffered(&server, |n| n >= 30_000, "B's fragment is counted");
    // A: 30,000 bytes of a 32,000-byte frame, held by the driver.
    let mut a = raw(&server, "/ws/echo");
    let whole: Vec<u8> = (0..32_000u32).map(|i| (i * 7) as u8).collect();
    let a_frame = frame(0x82, &whole);
    write_all(&mut a, &a_frame[..8 + 30_000]);
    let both = until_buffered(&server, |n| n >= 60_008, "A's partial frame is counted");
    assert!(both <= 30_000 + 32_008, "held {both}: more than B's fragment and A's whole frame");
    // C: 20,000 bytes more would pass 72 KiB: C is closed with 1009, before
    // its frame is complete, and what it held is freed.
    let mut c = raw(&server, "/ws/echo");
    let c_frame = frame(0x82, &vec![1u8; 32_000]);
    write_all(&mut c, &c_frame[..8 + 20_000]);
    assert_eq!(close_code(&mut c), 1009);
    assert!(closed_within(&mut c, Duration::from_secs(5)), "C's TCP connection is closed");
    assert_eq!(ws_buffered(&server), both, "C's bytes were freed");
    // A and B were not touched: each finishes its message and gets it back.
    write_all(&mut a, &a_frame[8 + 30_000..]);
    assert_eq!(binary_frame(&mut a), whole);
    write_all(&mut b, &frame(0x80, b"the end"));
    assert_eq!(binary_frame(&mut b), [&first[..], b"the end"].concat());
    until_buffered(&server, |n| n == 0, "nothing unfinished, nothing held");
    // A socket that goes away holding a partial frame frees it too.
    let mut d = raw(&server, "/ws/echo");
    write_all(&mut d, &c_frame[..8 + 10_000]);
    until_buffered(&server, |n| n >= 10_008, "D's partial frame is counted");
    drop(d);
    until_buffered(&server, |n| n == 0, "D's bytes are freed when it goes");
    assert_eq!(stat(&server, "ws"), 2);
    write_all(&mut a, &frame(0x82, &whole));
    assert_eq!(binary_frame(&mut a), whole, "the server still serves A");
}

#[test]
fn a_message_not_finished_in_time_is_closed_with_1008_whatever_comes_between() {
    let server = Server::start(&["--message-timeout", "400ms"]);
    assert_eq!(limit(&server, "message_timeout_ms"), (400, None));
    // A healthy socket sends a message every 100 ms: each is timed from its
    // own first byte, so it stays open long past 400 ms.
    let mut healthy = connect(&server, "/ws/echo");
    let healthy = thread::spawn(move || {
        for i in 0..12 {
            healthy.send(Message::text(format!("message {i}"))).unwrap();
            assert_eq!(next_data(&mut healthy), Message::text(format!("message {i}")));
            // The client's pace, the point of the test: a message every
            // 100 ms, each timed from its own first byte.
            thread::sleep(Duration::from_millis(100));
        }
        healthy
    });
    // A fragmented message, then pings and pongs (RFC 6455 §5.4 lets them
    // in between fragments), one every 50 ms: they do not extend it.
    let t = Instant::now();
    let mut fragmented = raw(&server, "/ws/echo");
    write_all(&mut fragmented, &frame(0x01, b"Hel"));
    let mut writer = fragmented.try_clone().unwrap();
    let chatter = thread::spawn(move || {
        let t = Instant::now();
        for i in 0.. {
            let control = if i % 2 == 0 { frame(0x89, b"ping") } else { frame(0x8a, b"pong") };
            if writer.write_all(&control).is_err() || t.elapsed() > Duration::from_secs(3) {
                return i;
            }
            // The client's pace, the point of the test: a control frame
            // every 50 ms, none of which extends the message's deadline.
            thread::sleep(Duration::from_millis(50));
        }
        unreachable!()
    });
    // A single frame that stops half-way.
    let mut partial = raw(&server, "/ws/echo");
    write_all(&mut partial, &frame(0x81, b"0123456789")[..6 + 3]);
    assert_eq!(close_code(&mut fragmented), 1008);
    let elapsed = t.elapsed();
    assert!(elapsed >= Duration::from_millis(350), "closed after only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "closed only after {elapsed:?}: the pings extended it");
    assert!(closed_within(&mut fragmented, Duration::from_secs(5)));
    assert!(chatter.join().unwrap() >= 4, "pings and pongs came between the fragments");
    assert_eq!(close_code(&mut partial), 1008);
    assert!(closed_within(&mut partial, Duration::from_secs(5)));
    let mut healthy = healthy.join().unwrap();
    until_buffered(&server, |n| n == 0, "the timed-out sockets' input is freed");
    assert_eq!(stat(&server, "ws"), 1, "the healthy socket is still open");
    healthy.send(Message::text("still here")).unwrap();
    assert_eq!(next_data(&mut healthy), Message::text("still here"));
}
