//! SPEC §3.8, new-order alerts for sellers, over real sockets: sellers are
//! tungstenite clients (a client we did not write), orders are raw HTTP
//! requests (and curl, once). The pushes are compared byte for byte.

mod common;

use common::ws::{close, close_half_drop_half, connect, next_text, Ws};
use common::*;

fn seller(server: &Server) -> Ws {
    connect(server, "/sell/webSocket")
}

/// `POST /sell/orders` with `body` as JSON.
fn order(server: &Server, body: &[u8]) -> Reply {
    post_as(server, "/sell/orders", body, "application/json")
}

/// The `orderId` of a 201 body, checking the body is exactly the order JSON
/// with `rest` (`"buyerName":…,"amount":…`) after the id.
fn created(reply: &Reply, rest: &str) -> String {
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("content-type").as_deref(), Some("application/json"));
    let body = reply.text();
    let id = body
        .strip_prefix("{\"orderId\":\"")
        .and_then(|s| s.split_once('"'))
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| panic!("no orderId first in {body}"));
    // The documented format: Unix milliseconds, a dash, a sequence number.
    let (ms, seq) = id.split_once('-').unwrap_or_else(|| panic!("{id}"));
    assert!(ms.parse::<u64>().is_ok_and(|ms| ms > 1_600_000_000_000), "{id}");
    assert!(seq.parse::<u64>().is_ok_and(|n| n >= 1), "{id}");
    assert_eq!(body, format!("{{\"orderId\":\"{id}\",{rest}}}"));
    id
}

fn push(id: &str, rest: &str) -> String {
    format!("{{\"type\":\"new-order\",\"orderId\":\"{id}\",{rest}}}")
}

#[test]
fn an_order_is_201_and_pushed_to_every_seller_byte_exact() {
    let server = Server::start(&[]);
    let mut a = seller(&server);
    let mut b = seller(&server);
    stat_becomes(&server, "ws", 2);

    let rest = r#""buyerName":"Alice","amount":12.5"#;
    let first = created(&order(&server, br#"{"buyerName":"Alice","amount":12.5}"#), rest);
    for ws in [&mut a, &mut b] {
        assert_eq!(next_text(ws), push(&first, rest));
    }

    // Escaped text, other member order, extra fields ignored; 30.0 is
    // written as JavaScript writes it.
    let body = "{ \"amount\" : 30.0, \"note\": [1, {\"x\": null}], \"buyerName\": \"李 \\\"Q\\\" 🦀\\n\" }";
    let rest = "\"buyerName\":\"李 \\\"Q\\\" 🦀\\n\",\"amount\":30";
    let second = created(&order(&server, body.as_bytes()), rest);
    assert_ne!(first, second, "orderId is unique");
    for ws in [&mut a, &mut b] {
        assert_eq!(next_text(ws), push(&second, rest));
    }

    // A seller that left gets nothing, and the others still do.
    close(a);
    stat_becomes(&server, "ws", 1);
    let rest = r#""buyerName":"Zed","amount":0.1"#;
    let third = created(&order(&server, br#"{"buyerName":"Zed","amount":1e-1}"#), rest);
    assert_eq!(next_text(&mut b), push(&third, rest));
    close(b);
    stat_becomes(&server, "ws", 0);
}

#[test]
fn get_lists_the_orders_so_far() {
    let server = Server::start(&[]);
    let empty = get(&server, "/sell/orders");
    assert_eq!((empty.status, empty.text().as_str()), (200, "[]"));
    assert_eq!(empty.header("content-type").as_deref(), Some("application/json"));

    let one = order(&server, br#"{"buyerName":"Ann","amount":12.5}"#);
    let two = order(&server, br#"{"buyerName":"Bo","amount":0}"#);
    created(&one, r#""buyerName":"Ann","amount":12.5"#);
    created(&two, r#""buyerName":"Bo","amount":0"#);
    let list = get(&server, "/sell/orders");
    assert_eq!(list.status, 200);
    assert_eq!(list.text(), format!("[{},{}]", one.text(), two.text()), "oldest first");

    // HEAD answers as GET would, without a body.
    let head = head(&server, "/sell/orders");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(list.body.len().to_string()));
}

#[test]
fn bad_orders_are_400_with_a_clear_message_and_push_nothing() {
    let server = Server::start(&[]);
    let mut ws = seller(&server);
    stat_becomes(&server, "ws", 1);
    let cases: &[(&[u8], &str)] = &[
        (b"", "the body is empty"),
        (b"hello", "invalid JSON: expected value at line 1 column 1"),
        (b"nothing", "invalid JSON: expected ident at line 1 column 2"),
        (
            br#"{"buyerName":"A","amount":12.5"#,
            "invalid JSON: EOF while parsing an object at line 1 column 30",
        ),
        (br#"{"buyerName":"A","amount":12.5,}"#, "invalid JSON: trailing comma"),
        (br#"{"buyerName":"A","amount":NaN}"#, "invalid JSON: expected value"),
        (br#"{"buyerName":"A","amount":1e999}"#, "invalid JSON: number out of range"),
        (br#"{"buyerName":"A","amount":12.5} x"#, "invalid JSON: trailing characters"),
        (b"\xff\xfe", "the body is not UTF-8"),
        (b"[1,2]", "invalid type: sequence, expected a JSON object such as"),
        (br#"{"amount":12.5}"#, "missing field \\\"buyerName\\\""),
        (br#"{"buyerName":"A"}"#, "missing field \\\"amount\\\""),
        (br#"{"buyerName":"","amount":1}"#, "\\\"buyerName\\\" must not be blank"),
        (br#"{"buyerName":42,"amount":1}"#, "\\\"buyerName\\\" must be a string, not a number"),
        (br#"{"buyerName":"A","amount":"12.5"}"#, "\\\"amount\\\" must be a number, not a string"),
        (br#"{"buyerName":"A","amount":null}"#, "\\\"amount\\\" must be a number, not null"),
        (br#"{"buyerName":"A","amount":-1}"#, "\\\"amount\\\" must not be negative"),
        (br#"{"buyerName":"A","amount":1,"amount":2}"#, "\\\"amount\\\" appears more than once"),
    ];
    for (body, want) in cases {
        let reply = order(&server, body);
        let what = String::from_utf8_lossy(body);
        assert_eq!(reply.status, 400, "{what}");
        assert_eq!(reply.header("content-type").as_deref(), Some("application/json"), "{what}");
        let text = reply.text();
        assert!(text.starts_with("{\"error\":\"") && text.contains(want), "{what}: {text}");
    }
    // Nothing was created or pushed: the seller's next message is the next
    // good order, and the list holds it alone.
    let rest = r#""buyerName":"Good","amount":1"#;
    let id = created(&order(&server, br#"{"buyerName":"Good","amount":1}"#), rest);
    assert_eq!(next_text(&mut ws), push(&id, rest));
    let list = get(&server, "/sell/orders").text();
    assert_eq!(list, format!("[{{\"orderId\":\"{id}\",{rest}}}]"));
}

#[test]
fn curl_posts_without_a_json_content_type_are_accepted() {
    let server = Server::start(&[]);
    let (head, body) = curl(&["-d", r#"{"buyerName":"curl","amount":2.25}"#, &server.url("/sell/orders")]);
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    let body = String::from_utf8(body).unwrap();
    assert!(body.ends_with(r#","buyerName":"curl","amount":2.25}"#), "{body}");
}

#[test]
fn the_seller_socket_needs_an_upgrade_and_leaves_no_trace() {
    let server = Server::start(&[]);
    assert_eq!(get(&server, "/sell/webSocket").status, 400);
    let head = head(&server, "/sell/webSocket");
    assert_ne!(head.status, 101);
    let wrong = exchange(&server, b"DELETE /sell/orders HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow").as_deref(), Some("GET, HEAD, POST, OPTIONS"));

    let sellers: Vec<Ws> = (0..5).map(|_| seller(&server)).collect();
    stat_becomes(&server, "ws", 5);
    close_half_drop_half(sellers);
    stat_becomes(&server, "ws", 0);
    // Pushing to nobody is fine.
    created(&order(&server, br#"{"buyerName":"Late","amount":3}"#), r#""buyerName":"Late","amount":3"#);
}
