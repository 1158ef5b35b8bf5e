use super::*;
use crate::http::request::{parse, Parse, Progress};
use crate::limits::{Limits, MAX_HEADERS};

const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";
/// §1.3: "dGhlIHNhbXBsZSBub25jZQ==" is "the sample nonce" base64-encoded.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The §1.3 handshake, as browsers send it.
const GOOD: &[(&str, &str)] = &[
    ("Host", "server.example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Origin", "http://example.com"),
    ("Sec-WebSocket-Version", "13"),
];

fn raw(line: &str, headers: &[(&str, &str)]) -> String {
    let mut out = format!("{line}\r\n");
    for (name, value) in headers {
        out += &format!("{name}: {value}\r\n");
    }
    out + "\r\n"
}

/// GOOD with the field `name` given `value` (`None`: removed).
fn good_but(name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = GOOD
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    if let Some(value) = value {
        out.push((name.to_string(), value.to_string()));
    }
    out
}

fn owned(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

fn with_request<T>(raw: &str, f: impl FnOnce(&Request<'_>) -> T) -> T {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match parse(raw.as_bytes(), &mut Progress::default(), &Limits::default(), &mut storage) {
        Ok(Parse::Complete(req, _)) => f(&req),
        other => panic!("not a request: {other:?}"),
    }
}

fn example_origin(origin: &[u8]) -> bool {
    origin == b"http://example.com"
}

fn checked(raw: &str) -> Result<String, Refusal> {
    with_request(raw, |req| check(req, example_origin).map(|a| a.value().to_string()))
}

#[test]
fn rfc_accept_key_example() {
    assert_eq!(accept_key(KEY.as_bytes()), ACCEPT);
}

#[test]
fn rfc_handshake_is_accepted() {
    assert_eq!(checked(&raw("GET /chat HTTP/1.1", GOOD)), Ok(ACCEPT.to_string()));
}

#[test]
fn switching_protocols_head_byte_for_byte() {
    let mut out = Vec::new();
    response(ACCEPT).encode_head(DATE, 1, true, &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\nServer: pushwire\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
}

/// Each rule broken in turn, everything else as in GOOD.
#[test]
fn refusal_table() {
    let line = "GET /chat HTTP/1.1";
    let cases: &[(&str, &str, Option<&str>, Refusal)] = &[
        ("POST /chat HTTP/1.1", "Host", Some("server.example.com"), Refusal::NotGet),
        ("HEAD /chat HTTP/1.1", "Host", Some("server.example.com"), Refusal::NotGet),
        ("GET /chat HTTP/1.0", "Host", Some("server.example.com"), Refusal::NotGet),
        (line, "Upgrade", None, Refusal::NotUpgrade),
        (line, "Upgrade", Some("h2c"), Refusal::NotUpgrade),
        (line, "Upgrade", Some("websockets"), Refusal::NotUpgrade),
        (line, "Connection", None, Refusal::NotUpgrade),
        (line, "Connection", Some("keep-alive"), Refusal::NotUpgrade),
        (line, "Connection", Some("upgrades"), Refusal::NotUpgrade),
        (line, "Sec-WebSocket-Version", None, Refusal::BadVersion),
        (line, "Sec-WebSocket-Version", Some("8"), Refusal::BadVersion),
        (line, "Sec-WebSocket-Version", Some("13, 8"), Refusal::BadVersion),
        (line, "Sec-WebSocket-Version", Some("130"), Refusal::BadVersion),
        (line, "Sec-WebSocket-Key", None, Refusal::BadKey),
        (line, "Sec-WebSocket-Key", Some(""), Refusal::BadKey),
        (line, "Sec-WebSocket-Key", Some("not base64 at all!!!!!!!"), Refusal::BadKey),
        // 15 and 17 bytes decoded.
        (line, "Sec-WebSocket-Key", Some("AAAAAAAAAAAAAAAAAAAA"), Refusal::BadKey),
        (line, "Sec-WebSocket-Key", Some("AAAAAAAAAAAAAAAAAAAAAAA="), Refusal::BadKey),
        // 16 bytes, but unpadded or with non-zero trailing bits.
        (line, "Sec-WebSocket-Key", Some("dGhlIHNhbXBsZSBub25jZQ"), Refusal::BadKey),
        (line, "Sec-WebSocket-Key", Some("dGhlIHNhbXBsZSBub25jZR=="), Refusal::BadKey),
        (line, "Origin", Some("http://evil.example"), Refusal::OriginNotAllowed),
        (line, "Origin", Some("null"), Refusal::OriginNotAllowed),
    ];
    for &(line, name, value, want) in cases {
        let headers = good_but(name, value);
        let got = checked(&raw(line, &owned(&headers)));
        assert_eq!(got, Err(want), "{line} with {name}: {value:?}");
    }
}

#[test]
fn refusal_statuses_and_headers() {
    let statuses: Vec<u16> = [
        Refusal::NotGet,
        Refusal::NotUpgrade,
        Refusal::BadVersion,
        Refusal::BadKey,
        Refusal::OriginNotAllowed,
    ]
    .iter()
    .map(|r| r.response().status)
    .collect();
    assert_eq!(statuses, [400, 400, 426, 400, 403]);
    let upgrade_required = Refusal::BadVersion.response();
    let has =
        |name: &str, value: &str| upgrade_required.headers.iter().any(|(n, v)| *n == name && v == value);
    assert!(has("Sec-WebSocket-Version", "13"));
    assert!(has("Upgrade", "websocket"));
    assert!(has("Connection", "Upgrade"));
    assert!(Refusal::BadKey.response().headers.is_empty());
}

#[test]
fn key_may_not_appear_twice() {
    let mut headers = GOOD.to_vec();
    headers.push(("Sec-WebSocket-Key", KEY));
    assert_eq!(checked(&raw("GET / HTTP/1.1", &headers)), Err(Refusal::BadKey));
}

#[test]
fn connection_and_upgrade_lists() {
    let accepted: &[(&str, &str)] = &[
        ("Connection", "keep-alive, Upgrade"),
        ("Connection", "Upgrade,keep-alive"),
        ("Connection", "keep-alive ,  upgrade  "),
        ("Connection", "UPGRADE"),
        ("Upgrade", "WebSocket"),
        ("Upgrade", "h2c, websocket"),
        ("Upgrade", "WEBSOCKET , foo/2"),
    ];
    for &(name, value) in accepted {
        let headers = good_but(name, Some(value));
        assert_eq!(checked(&raw("GET / HTTP/1.1", &owned(&headers))), Ok(ACCEPT.into()), "{name}: {value}");
    }
}

#[test]
fn connection_token_on_a_second_field_line() {
    let base = good_but("Connection", Some("keep-alive"));
    let mut headers = owned(&base);
    headers.push(("Connection", "Upgrade"));
    assert_eq!(checked(&raw("GET / HTTP/1.1", &headers)), Ok(ACCEPT.into()));
}

#[test]
fn header_names_and_values_are_case_insensitive_where_the_rfc_says() {
    let headers = [
        ("host", "server.example.com"),
        ("UPGRADE", "WebSocket"),
        ("connection", "upgrade"),
        ("SEC-WEBSOCKET-KEY", KEY),
        ("sec-websocket-version", "13"),
    ];
    assert_eq!(checked(&raw("GET / HTTP/1.1", &headers)), Ok(ACCEPT.into()));
    // The key is base64: its case matters.
    let other = "DGhlIHNhbXBsZSBub25jZQ==";
    let headers = good_but("Sec-WebSocket-Key", Some(other));
    let got = checked(&raw("GET / HTTP/1.1", &owned(&headers)));
    assert_eq!(got, Ok(accept_key(other.as_bytes())));
    assert_ne!(got, Ok(ACCEPT.into()));
}

#[test]
fn absent_origin_is_allowed() {
    let headers = good_but("Origin", None);
    assert_eq!(checked(&raw("GET / HTTP/1.1", &owned(&headers))), Ok(ACCEPT.into()));
    // And the closure is not even asked.
    let got = with_request(&raw("GET / HTTP/1.1", &owned(&headers)), |req| {
        check(req, |_| panic!("asked")).map(|a| a.value().to_string())
    });
    assert_eq!(got, Ok(ACCEPT.into()));
}

#[test]
fn is_upgrade_looks_only_at_upgrade() {
    let cases: &[(&[(&str, &str)], bool)] = &[
        (GOOD, true),
        (&[("Host", "h"), ("Upgrade", "websocket")], true),
        (&[("Host", "h"), ("Upgrade", "h2c, WebSocket")], true),
        (&[("Host", "h"), ("Upgrade", "h2c")], false),
        (&[("Host", "h"), ("Connection", "Upgrade")], false),
        (&[("Host", "h")], false),
    ];
    for &(headers, want) in cases {
        let got = with_request(&raw("GET / HTTP/1.1", headers), is_upgrade);
        assert_eq!(got, want, "{headers:?}");
    }
}
