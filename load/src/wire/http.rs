//! The client side of HTTP/1.1 (RFC 9112), sans-IO: a response head in →
//! [`Head`]; body bytes in → body data out (`body.rs`); a
//! request in → bytes appended to the caller's buffer ([`request`]).
//!
//! Implements: the status line and fields through httparse (at most
//! [`MAX_FIELDS`] fields, a head of at most [`MAX_HEAD`] bytes), body framing
//! (§6.3), chunked decoding with extensions and trailers skipped (§7.1),
//! persistence (§9.3), and the two fields the load generator acts on:
//! `Sec-WebSocket-Accept` and a `text/event-stream` `Content-Type`.
//!
//! Does not implement: CONNECT tunnels (§6.3 item 2; we never send CONNECT),
//! transfer codings other than chunked (a body with one ends at close, as
//! §6.3 says, and is handed over still encoded), trailer values (read and
//! dropped), bare-LF line ends inside chunked framing (see `body.rs`).

use std::fmt;

use pushwire_proto::http::response::push_u64;

/// The header array httparse fills; a response with more fields is refused.
pub const MAX_FIELDS: usize = 32;

/// The longest response head accepted. The caller re-parses the head as it
/// grows, so without a cap a server that never ends its head costs quadratic
/// time and unbounded memory; our server's heads are a few hundred bytes.
pub const MAX_HEAD: usize = 16 * 1024;

/// The longest chunk-size line (size, extensions, CRLF) or trailer field
/// line. §7.1.1: a recipient "ought to limit the total length of chunk
/// extensions received"; a line that never ends is an error, not a wait.
pub const MAX_LINE: usize = 4096;

/// What was wrong with a response, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub(super) fn error(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body at all: HEAD, 1xx, 204, 304.
    None,
    /// Exactly this many bytes (Content-Length).
    Length(u64),
    /// Chunked transfer coding (§7.1).
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the head including the final CRLF CRLF.
    pub len: usize,
    pub body: Body,
    /// The `Sec-WebSocket-Accept` value, if present.
    pub accept: Option<String>,
    /// The `Content-Type` media type is `text/event-stream`.
    pub event_stream: bool,
    /// The connection may carry another request after this response (§9.3).
    pub keep_alive: bool,
    /// `Upgrade` names `websocket` and `Connection` names `upgrade`: what
    /// RFC 6455 §4.1 wants of a 101 besides the accept value.
    pub upgrade_websocket: bool,
}

impl Head {
    /// RFC 9110 §15.2: a 1xx other than 101 is interim, and "A client MUST
    /// be able to parse one or more 1xx responses received prior to a final
    /// response, even if the client does not expect one": skip it and read
    /// the next head.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// Parses the response head at the front of `buf`: `Ok(None)` while it is
/// incomplete. `head_request`: the request was HEAD, so there is no body.
pub fn parse_head(buf: &[u8], head_request: bool) -> Result<Option<Head>, Error> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        // Judged by length alone, so the answer does not depend on how the
        // bytes were split: a longer head fails whole or in pieces.
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(error(format!("response head longer than {MAX_HEAD} bytes")))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(error(format!("more than {MAX_FIELDS} header fields in the response")))
        }
        Err(e) => return Err(error(format!("malformed response head: {e}"))),
    };
    if len > MAX_HEAD {
        return Err(error(format!("response head longer than {MAX_HEAD} bytes")));
    }
    let status = response.code.unwrap_or_default();
    let http10 = response.version == Some(0);

    let mut content_length: Option<u64> = None;
    let mut bad_length: Option<Error> = None;
    let mut transfer_encoding = false;
    let mut chunked_last = false;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut accept = None;
    let mut event_stream = false;
    let mut upgrade = false;
    let mut connection_upgrade = false;
    for field in response.headers.iter() {
        let name = field.name;
        let value = field.value;
        if name.eq_ignore_ascii_case("content-length") {
            // Kept aside: an invalid length only matters without
            // Transfer-Encoding, which may come later in the head.
            if bad_length.is_none() {
                if let Err(e) = content_length_list(value, &mut content_length) {
                    bad_length = Some(e);
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // RFC 9110 §5.3: several fields of one name are one list, so the
            // final coding is the last element of the last non-empty field.
            transfer_encoding = true;
            if let Some(last) = list(value).last() {
                let coding = last.split(|&b| b == b';').next().map(trim).unwrap_or_default();
                chunked_last = coding.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for option in list(value) {
                close |= option.eq_ignore_ascii_case(b"close");
                keep_alive_token |= option.eq_ignore_ascii_case(b"keep-alive");
                connection_upgrade |= option.eq_ignore_ascii_case(b"upgrade");
            }
        } else if name.eq_ignore_ascii_case("upgrade") {
            // RFC 6455 §4.1: "If the response lacks an |Upgrade| header field
            // or the |Upgrade| header field contains a value that is not an
            // ASCII case-insensitive match for the value "websocket", the
            // client MUST _Fail the WebSocket Connection_."
            upgrade |= list(value).any(|p| p.eq_ignore_ascii_case(b"websocket"));
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            accept = Some(String::from_utf8_lossy(trim(value)).into_owned());
        } else if name.eq_ignore_ascii_case("content-type") {
            // RFC 9110 §8.3.1: "The type and subtype tokens are
            // case-insensitive"; parameters follow a ';'.
            let media = value.split(|&b| b == b';').next().map(trim).unwrap_or_default();
            event_stream = media.eq_ignore_ascii_case(b"text/event-stream");
        }
    }

    // RFC 9112 §6.3 item 1: "Any response to a HEAD request and any response
    // with a 1xx (Informational), 204 (No Content), or 304 (Not Modified)
    // status code is always terminated by the first empty line after the
    // header fields, regardless of the header fields present in the message".
    let body = if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        Body::None
    } else if transfer_encoding {
        // Item 3: "the Transfer-Encoding overrides the Content-Length."
        // Item 4: chunked final → decode it; "If a Transfer-Encoding header
        // field is present in a response and the chunked transfer coding is
        // not the final encoding, the message body length is determined by
        // reading the connection until it is closed by the server."
        if chunked_last {
            Body::Chunked
        } else {
            Body::UntilClose
        }
    } else if let Some(e) = bad_length {
        // Item 5: "If a message is received without Transfer-Encoding and
        // with an invalid Content-Length header field, then the message
        // framing is invalid and the recipient MUST treat it as an
        // unrecoverable error".
        return Err(e);
    } else if let Some(n) = content_length {
        Body::Length(n)
    } else {
        // Item 8: "the message body length is determined by the number of
        // octets received prior to the server closing the connection."
        Body::UntilClose
    };

    // §9.3: "If the "close" connection option is present, the connection
    // will not persist after the current response"; HTTP/1.1 persists by
    // default; HTTP/1.0 only with "keep-alive". §6.1: "A server or client
    // that receives an HTTP/1.0 message containing a Transfer-Encoding header
    // field MUST treat the message as if the framing is faulty, even if a
    // Content-Length is present, and close the connection after processing".
    let keep_alive = !close && (!http10 || (keep_alive_token && !transfer_encoding));
    let upgrade_websocket = upgrade && connection_upgrade;
    Ok(Some(Head { status, len, body, accept, event_stream, keep_alive, upgrade_websocket }))
}

/// Folds one Content-Length field value into `length`. RFC 9112 §6.3 item
/// 5: an invalid value is an error "unless the field value can be
/// successfully parsed as a comma-separated list [...], all values in the
/// list are valid, and all values in the list are the same"; RFC 9110 §8.6:
/// `Content-Length = 1*DIGIT`.
fn content_length_list(value: &[u8], length: &mut Option<u64>) -> Result<(), Error> {
    let mut any = false;
    for item in list(value) {
        any = true;
        let n = decimal(item)
            .ok_or_else(|| error(format!("invalid Content-Length {:?}", String::from_utf8_lossy(value))))?;
        if length.is_some_and(|m| m != n) {
            return Err(error("Content-Length values differ"));
        }
        *length = Some(n);
    }
    if any {
        Ok(())
    } else {
        Err(error("empty Content-Length"))
    }
}

/// `1*DIGIT` as a u64; None when empty, not all digits, or too large.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// The non-empty elements of a comma-separated list. RFC 9110 §5.6.1: "a
/// recipient MUST parse and ignore a reasonable number of empty list
/// elements".
fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim).filter(|item| !item.is_empty())
}

/// Strips optional whitespace (RFC 9110 §5.6.3: `OWS = *( SP / HTAB )`).
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// Appends a request: the request line, `Host`, each of `headers`, a
/// `Content-Length` when the method is POST or PUT or the body is not empty
/// (RFC 9110 §8.6: "A user agent SHOULD send Content-Length in a request when
/// the method defines a meaning for enclosed content"), the blank line, the
/// body.
pub fn request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    out: &mut Vec<u8>,
) {
    for part in [method, " ", path, " HTTP/1.1\r\nHost: ", host, "\r\n"] {
        out.extend_from_slice(part.as_bytes());
    }
    for (name, value) in headers {
        for part in [name, ": ", value, "\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
    }
    if method == "POST" || method == "PUT" || !body.is_empty() {
        out.extend_from_slice(b"Content-Length: ");
        push_u64(out, body.len() as u64);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        match parse_head(text.as_bytes(), false) {
            Ok(Some(head)) => head,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn framing(fields: &str) -> Result<Option<Body>, Error> {
        let text = format!("HTTP/1.1 200 OK\r\n{fields}\r\n");
        parse_head(text.as_bytes(), false).map(|h| h.map(|h| h.body))
    }

    #[test]
    fn head_is_partial_at_every_split_and_complete_with_its_length() {
        let text = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello";
        let len = text.len() - 7;
        for cut in 0..len {
            assert_eq!(parse_head(&text[..cut], false), Ok(None), "cut {cut}");
        }
        let want = Head {
            status: 101,
            len,
            body: Body::None,
            accept: Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()),
            event_stream: false,
            keep_alive: true,
            upgrade_websocket: true,
        };
        for end in len..=text.len() {
            assert_eq!(parse_head(&text[..end], false), Ok(Some(want.clone())), "end {end}");
        }
    }

    #[test]
    fn body_framing_rfc9112_6_3() {
        use Body::*;
        #[rustfmt::skip]
        let cases: &[(&str, bool, Body)] = &[
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, Length(5)),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, Length(0)),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, None),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, None),
            ("HTTP/1.1 100 Continue\r\n\r\n", false, None),
            ("HTTP/1.1 101 Switching Protocols\r\nContent-Length: 9\r\n\r\n", false, None),
            ("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", false, None),
            ("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false, None),
            ("HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", false, Length(0)),
            ("HTTP/1.1 200 OK\r\n\r\n", false, UntilClose),
            ("HTTP/1.1 404 Not Found\r\nContent-Length: 18446744073709551615\r\n\r\n", false, Length(u64::MAX)),
        ];
        for &(text, head_request, body) in cases {
            let got = parse_head(text.as_bytes(), head_request).map(|h| h.map(|h| h.body));
            assert_eq!(got, Ok(Some(body)), "{text:?} head_request={head_request}");
        }
    }

    #[test]
    fn transfer_encoding_final_coding_decides() {
        use Body::*;
        #[rustfmt::skip]
        let cases: &[(&str, Body)] = &[
            ("Transfer-Encoding: chunked\r\n", Chunked),
            ("Transfer-Encoding: CHUNKED\r\n", Chunked),
            ("Transfer-Encoding: gzip, chunked\r\n", Chunked),
            ("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", Chunked),
            ("Transfer-Encoding: chunked,\r\n", Chunked),
            ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", Chunked),
            ("Content-Length: nonsense\r\nTransfer-Encoding: chunked\r\n", Chunked),
            ("Transfer-Encoding: chunked, gzip\r\n", UntilClose),
            ("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", UntilClose),
            ("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", UntilClose),
            ("Transfer-Encoding: chunkedx\r\n", UntilClose),
        ];
        for &(fields, body) in cases {
            assert_eq!(framing(fields), Ok(Some(body)), "{fields:?}");
        }
    }

    #[test]
    fn content_length_lists_and_errors() {
        for fields in [
            "Content-Length: 5, 5\r\n",
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: 5,,5,\r\n",
            "Content-Length:    5 \r\n",
            "Content-Length: 005\r\n",
        ] {
            assert_eq!(framing(fields), Ok(Some(Body::Length(5))), "{fields:?}");
        }
        for (fields, message) in [
            ("Content-Length: 5, 6\r\n", "Content-Length values differ"),
            ("Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length values differ"),
            ("Content-Length: \r\n", "empty Content-Length"),
            ("Content-Length: ,\r\n", "empty Content-Length"),
            ("Content-Length: -1\r\n", "invalid Content-Length \"-1\""),
            ("Content-Length: +5\r\n", "invalid Content-Length \"+5\""),
            ("Content-Length: 0x10\r\n", "invalid Content-Length \"0x10\""),
            ("Content-Length: 5 5\r\n", "invalid Content-Length \"5 5\""),
            ("Content-Length: 18446744073709551616\r\n", "invalid Content-Length \"18446744073709551616\""),
        ] {
            assert_eq!(framing(fields), Err(Error(message.into())), "{fields:?}");
        }
    }

    #[test]
    fn keep_alive_rfc9112_9_3() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", false),
        ];
        for &(text, keep_alive) in cases {
            assert_eq!(head(text).keep_alive, keep_alive, "{text:?}");
        }
    }

    #[test]
    fn event_stream_media_type() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("Content-Type: text/event-stream\r\n", true),
            ("Content-Type: Text/Event-Stream; charset=utf-8\r\n", true),
            ("Content-Type: text/event-stream ;charset=utf-8\r\n", true),
            ("Content-Type: text/plain\r\n", false),
            ("Content-Type: text/event-streams\r\n", false),
            ("Content-Type: text/event\r\n", false),
            ("", false),
        ];
        for &(fields, want) in cases {
            assert_eq!(head(&format!("HTTP/1.1 200 OK\r\n{fields}\r\n")).event_stream, want, "{fields:?}");
        }
    }

    #[test]
    fn accept_value_is_taken_whole() {
        let h = head("HTTP/1.1 101 Switching Protocols\r\nsec-websocket-accept:   abc= \r\n\r\n");
        assert_eq!(h.accept.as_deref(), Some("abc="));
        assert_eq!(head("HTTP/1.1 200 OK\r\n\r\n").accept, None);
    }

    #[test]
    fn websocket_upgrade_fields_rfc6455_4_1() {
        for (fields, want) in [
            ("Upgrade: websocket\r\nConnection: Upgrade\r\n", true),
            ("upgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n", true),
            ("Upgrade: websocket\r\n", false),
            ("Connection: Upgrade\r\n", false),
            ("Upgrade: h2c\r\nConnection: Upgrade\r\n", false),
        ] {
            let h = head(&format!("HTTP/1.1 101 Switching Protocols\r\n{fields}\r\n"));
            assert_eq!(h.upgrade_websocket, want, "{fields:?}");
        }
    }

    #[test]
    fn interim_answers_rfc9110_15_2() {
        for (status, interim) in [(100, true), (103, true), (101, false), (200, false), (204, false)] {
            let h = head(&format!("HTTP/1.1 {status} X\r\n\r\n"));
            assert_eq!(h.is_interim(), interim, "{status}");
        }
    }

    #[test]
    fn field_count_is_capped() {
        let fields = |n: usize| (0..n).map(|i| format!("X-{i}: y\r\n")).collect::<String>();
        assert_eq!(head(&format!("HTTP/1.1 200 OK\r\n{}\r\n", fields(MAX_FIELDS))).status, 200);
        assert_eq!(
            parse_head(format!("HTTP/1.1 200 OK\r\n{}\r\n", fields(MAX_FIELDS + 1)).as_bytes(), false),
            Err(Error("more than 32 header fields in the response".into()))
        );
    }

    #[test]
    fn head_length_is_capped_whole_or_in_pieces() {
        let filler = "a".repeat(MAX_HEAD);
        let long = format!("HTTP/1.1 200 OK\r\nX: {filler}\r\n\r\n");
        let too_long = Err(Error(format!("response head longer than {MAX_HEAD} bytes")));
        assert_eq!(parse_head(long.as_bytes(), false), too_long);
        assert_eq!(parse_head(&long.as_bytes()[..MAX_HEAD], false), Ok(None));
        assert_eq!(parse_head(&long.as_bytes()[..MAX_HEAD + 1], false), too_long);
        let fits = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", &filler[..MAX_HEAD - 24]);
        assert_eq!(fits.len(), MAX_HEAD);
        assert_eq!(head(&fits).len, MAX_HEAD);
    }

    #[test]
    fn malformed_heads_are_errors() {
        for text in [
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n",
            "HTTQ/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        ] {
            let got = parse_head(text.as_bytes(), false);
            assert!(
                matches!(&got, Err(Error(m)) if m.starts_with("malformed response head: ")),
                "{text:?}: {got:?}"
            );
        }
    }

    #[test]
    fn requests_byte_for_byte() {
        type Fields = &'static [(&'static str, &'static str)];
        #[rustfmt::skip]
        let cases: &[(&str, Fields, &[u8], &[u8])] = &[
            ("GET", &[], b"", b"GET / HTTP/1.1\r\nHost: h:80\r\n\r\n"),
            ("HEAD", &[("Accept", "*/*")], b"", b"HEAD / HTTP/1.1\r\nHost: h:80\r\nAccept: */*\r\n\r\n"),
            ("POST", &[], b"", b"POST / HTTP/1.1\r\nHost: h:80\r\nContent-Length: 0\r\n\r\n"),
            ("PUT", &[("A", "1"), ("B", "2")], b"xy",
                b"PUT / HTTP/1.1\r\nHost: h:80\r\nA: 1\r\nB: 2\r\nContent-Length: 2\r\n\r\nxy"),
            ("DELETE", &[], b"{}", b"DELETE / HTTP/1.1\r\nHost: h:80\r\nContent-Length: 2\r\n\r\n{}"),
        ];
        for &(method, headers, body, want) in cases {
            let mut out = b"previous".to_vec();
            request(method, "h:80", "/", headers, body, &mut out);
            assert_eq!(&out[..8], b"previous");
            assert_eq!(String::from_utf8_lossy(&out[8..]), String::from_utf8_lossy(want), "{method}");
        }
        let mut out = Vec::new();
        request("POST", "example.com", "/publish?topic=a", &[], &[b'x'; 1234], &mut out);
        let head = b"POST /publish?topic=a HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1234\r\n\r\n";
        assert_eq!(out, [&head[..], &[b'x'; 1234]].concat());
    }

    #[test]
    fn error_displays_its_message() {
        assert_eq!(Error("chunk size overflows 64 bits".into()).to_string(), "chunk size overflows 64 bits");
    }
}
