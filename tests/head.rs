//! HEAD over real sockets (RFC 9110 §9.3.2: "identical to GET except that
//! the server MUST NOT send content"): for a stream route, an upgrade
//! route, a long-poll and plain routes, the exact status and header fields
//! GET gets (Date aside), no body, the connection kept, and none of what the
//! GET would have done (no stream, no subscriber, no push, no announcement).

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use common::stream::EventStream;
use common::{curl, exchange, get, publish, read_reply, stat, write_all, Reply, Server};

/// The head's lines without the status line's trailing CRLF or `Date`.
fn fields(head: &str) -> Vec<String> {
    head.lines().filter(|l| !l.is_empty() && !l.starts_with("Date: ")).map(str::to_string).collect()
}

/// Sends `request` on `socket` and reads the answer to it.
fn ask(socket: &mut TcpStream, request: &str) -> Reply {
    write_all(socket, request.as_bytes());
    read_reply(socket, &mut Vec::new(), request.starts_with("HEAD ")).expect("an answer")
}

/// Nothing more arrives on `socket` within `within`.
fn silent(socket: &mut TcpStream, within: Duration) -> bool {
    socket.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    matches!(socket.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        || e.kind() == std::io::ErrorKind::TimedOut)
}

#[test]
fn a_stream_route_answers_head_with_the_stream_head_and_starts_nothing() {
    let server = Server::start(&[]);
    let mut page = EventStream::open(&server, "/orderpay?payid=7", "");
    assert!(page.next_event().contains("Connection succeeded"));
    let sse = stat(&server, "sse");
    // HEAD of the same payid: the stream's own head, and the page keeps its
    // stream (a GET would have replaced it).
    let mut s = server.connect();
    let head = ask(&mut s, "HEAD /orderpay?payid=7 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        fields(&head.head),
        [
            "HTTP/1.1 200 OK",
            "Server: pushwire",
            "Content-Type: text/event-stream; charset=utf-8",
            "Cache-Control: no-cache",
            "X-Accel-Buffering: no",
        ],
        "{}",
        head.head
    );
    assert_eq!(fields(&head.head), fields(&page.head), "the head GET got, Date aside");
    // No body followed, and the connection serves the next request.
    let next = ask(&mut s, "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((next.status, next.text().as_str()), (200, "Hello, World!"));
    assert_eq!(stat(&server, "sse"), sse, "HEAD opened no stream");
    let paid = get(&server, "/payback?payid=7");
    assert_eq!(paid.status, 200, "the page's stream is still the one registered");
    assert_eq!(page.next_event(), "data: User payment succeeded\n\n", "and it was not replaced");
    // A refusal GET would get, HEAD gets too.
    let bad = exchange(&server, b"HEAD /orderpay?payid=x HTTP/1.1\r\nHost: t\r\n\r\n");
    let bad_get = get(&server, "/orderpay?payid=x");
    assert_eq!(bad.status, 400);
    assert_eq!(fields(&bad.head), fields(&bad_get.head));
    assert!(bad.body.is_empty());
}

#[test]
fn a_topic_stream_head_registers_no_subscriber() {
    let server = Server::start(&[]);
    let accept = "Accept: text/event-stream\r\n";
    let head = exchange(&server, format!("HEAD /topics/news HTTP/1.1\r\nHost: t\r\n{accept}\r\n").as_bytes());
    let get = EventStream::open(&server, "/topics/other", "");
    assert_eq!(fields(&head.head), fields(&get.head));
    assert_eq!(stat(&server, "subscriptions"), 1, "only the GET subscribed");
    drop(get);
    // Without Accept: text/event-stream GET is 406, and so is HEAD.
    let refused = exchange(&server, b"HEAD /topics/news HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(fields(&refused.head), fields(&common::get(&server, "/topics/news").head));
    assert_eq!(refused.status, 406);
    // curl -I agrees, and returns at once: nothing follows the head.
    let (printed, body) = curl(&["-I", "-H", "Accept: text/event-stream", &server.url("/server/data")]);
    assert!(printed.starts_with("HTTP/1.1 200 OK\r\n"), "{printed}");
    assert!(printed.contains("\r\nContent-Type: text/event-stream; charset=utf-8\r\n"), "{printed}");
    assert!(!printed.contains("Content-Length"), "{printed}");
    assert_eq!(body, printed.as_bytes());
}

#[test]
fn an_upgrade_route_answers_head_as_the_handshake_answers_get() {
    let server = Server::start(&[]);
    let stream = server.connect();
    let url = format!("ws://{}/websocket?nickname=Ann", server.addr);
    let (mut ann, _) = tungstenite::client(url, stream).expect("handshake");
    let joined = ann.read().unwrap();
    assert_eq!(joined.to_text().unwrap(), "Ann joined (online: 1)");
    // No Upgrade: the refusal a plain GET gets, header for header.
    let head = exchange(&server, b"HEAD /websocket?nickname=Ghost HTTP/1.1\r\nHost: t\r\n\r\n");
    let plain = get(&server, "/websocket?nickname=Ghost");
    assert_eq!(head.status, 400);
    assert_eq!(fields(&head.head), fields(&plain.head));
    assert_eq!(
        head.header("content-length"),
        Some(plain.body.len().to_string()),
        "the length of the body GET got"
    );
    // A whole handshake, but HEAD: RFC 6455 §4.2.1 wants a GET.
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let head = exchange(
        &server,
        format!("HEAD /websocket?nickname=Ghost HTTP/1.1\r\nHost: t\r\n{upgrade}\r\n").as_bytes(),
    );
    assert_eq!(head.status, 400);
    assert_eq!(head.header("upgrade"), None);
    let reason = "400 Bad Request: a WebSocket handshake is an HTTP/1.1 GET request\n";
    assert_eq!(head.header("content-length"), Some(reason.len().to_string()));
    // A bad version: 426 with its Sec-WebSocket-Version, as GET gets.
    let v8 = upgrade.replace("Version: 13", "Version: 8");
    let head = exchange(&server, format!("HEAD /ws/echo HTTP/1.1\r\nHost: t\r\n{v8}\r\n").as_bytes());
    let v8_get = exchange(&server, format!("GET /ws/echo HTTP/1.1\r\nHost: t\r\n{v8}\r\n").as_bytes());
    assert_eq!(head.status, 426);
    assert_eq!(fields(&head.head), fields(&v8_get.head));
    // The room heard of nobody, and nobody is in it but Ann.
    assert_eq!(stat(&server, "ws"), 1);
    let stream = server.connect();
    let url = format!("ws://{}/websocket?nickname=Bob", server.addr);
    let (_bob, _) = tungstenite::client(url, stream).expect("handshake");
    assert_eq!(ann.read().unwrap().to_text().unwrap(), "Bob joined (online: 2)");
}

#[test]
fn a_long_poll_head_answers_at_once_as_timeout_0_and_waits_for_nothing() {
    let server = Server::start(&[]);
    let topics = stat(&server, "topics");
    let mut s = server.connect();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    // GET would wait up to 20 s; HEAD answers now, with `[]`'s head.
    let head = ask(&mut s, "HEAD /poll/quiet?since=0&timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n");
    let now = get(&server, "/poll/quiet?since=0&timeout=0");
    assert_eq!(now.text(), "[]");
    assert_eq!(
        fields(&head.head),
        [
            "HTTP/1.1 200 OK",
            "Server: pushwire",
            "Content-Type: application/json",
            "Content-Length: 2",
            "Cache-Control: no-store",
        ]
    );
    assert_eq!(fields(&head.head), fields(&now.head));
    assert_eq!(stat(&server, "topics"), topics, "no long-poll made the topic");
    // With events: the head of the answer GET gets at once.
    assert!(publish(&server, "quiet", b"hello").starts_with("HTTP/1.1 202"));
    let head = ask(&mut s, "HEAD /poll/quiet?since=0 HTTP/1.1\r\nHost: t\r\n\r\n");
    let events = get(&server, "/poll/quiet?since=0");
    assert_eq!(fields(&head.head), fields(&events.head));
    assert_eq!(head.header("content-length"), Some(events.body.len().to_string()));
    let bad = ask(&mut s, "HEAD /poll/quiet?since=x HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(bad.status, 400);
}

#[test]
fn plain_routes_answer_head_without_their_side_effects() {
    let server = Server::start(&[]);
    let plaintext = exchange(&server, b"HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        fields(&plaintext.head),
        ["HTTP/1.1 200 OK", "Server: pushwire", "Content-Type: text/plain", "Content-Length: 13"]
    );
    assert!(plaintext.body.is_empty());
    // /sse/sendMsg would start a push: HEAD answers the same and starts none.
    let mut client = EventStream::open(&server, "/sse/connect?clientId=a", "");
    let head = exchange(&server, b"HEAD /sse/sendMsg?clientId=a HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        fields(&head.head),
        ["HTTP/1.1 200 OK", "Server: pushwire", "Content-Type: application/json", "Content-Length: 28"]
    );
    assert!(silent(&mut client.socket, Duration::from_millis(1500)), "no token was pushed");
    let unknown = exchange(&server, b"HEAD /sse/sendMsg?clientId=zz HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(unknown.status, 404);
    // /sse/closeConn would end the stream: HEAD leaves it open.
    let close = exchange(&server, b"HEAD /sse/closeConn/a HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(close.status, 200);
    assert!(silent(&mut client.socket, Duration::from_millis(300)), "the stream is still open");
    // The GET does push, so the HEAD's answer was the GET's.
    let sent = get(&server, "/sse/sendMsg?clientId=a");
    assert_eq!(fields(&sent.head), fields(&head.head));
    assert_eq!(client.next_event(), "data: SSE 测试数据\n\n");
}
