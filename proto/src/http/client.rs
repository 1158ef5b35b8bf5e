//! The client side of HTTP/1.1 (RFC 9112), sans-IO: a response head in →
//! [`Head`]; body bytes in → body data out ([`BodyReader`], with the
//! server's [`Dechunk`]); a request in → bytes appended to the caller's
//! buffer ([`request`]).
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
//! dropped), bare-LF line ends inside chunked framing (see [`chunked`]).
//!
//! [`chunked`]: super::chunked

use std::fmt;

use super::chunked::{ChunkError, Dechunk};
use super::response::push_u64;

/// The header array httparse fills; a response with more fields is refused.
pub const MAX_FIELDS: usize = 32;

/// The longest response head accepted. The caller re-parses the head as it
/// grows, so without a cap a server that never ends its head costs quadratic
/// time and unbounded memory; our server's heads are a few hundred bytes.
pub const MAX_HEAD: usize = 16 * 1024;

/// A rule of RFC 9112 a response broke, or a cap it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A head longer than [`MAX_HEAD`].
    HeadTooLarge,
    /// More than [`MAX_FIELDS`] header fields.
    TooManyFields,
    /// What httparse refused: the status line or a field line.
    Malformed(httparse::Error),
    /// §6.3 item 5: "If a message is received without Transfer-Encoding and
    /// with an invalid Content-Length header field, then the message framing
    /// is invalid"; RFC 9110 §8.6: `Content-Length = 1*DIGIT`.
    BadContentLength,
    /// §6.3 item 5: a list of Content-Length values that are not all the same.
    ContentLengthsDiffer,
    /// A chunked body that broke §7.1.
    Chunked(ChunkError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::HeadTooLarge => write!(f, "response head longer than {MAX_HEAD} bytes"),
            Error::TooManyFields => write!(f, "more than {MAX_FIELDS} header fields in the response"),
            Error::Malformed(e) => write!(f, "malformed response head: {e}"),
            Error::BadContentLength => f.write_str("invalid Content-Length"),
            Error::ContentLengthsDiffer => f.write_str("Content-Length values differ"),
            Error::Chunked(e) => write!(f, "chunked body: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ChunkError> for Error {
    fn from(e: ChunkError) -> Error {
        Error::Chunked(e)
    }
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
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(Error::HeadTooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyFields),
        Err(e) => return Err(Error::Malformed(e)),
    };
    if len > MAX_HEAD {
        return Err(Error::HeadTooLarge);
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
        let n = decimal(item).ok_or(Error::BadContentLength)?;
        if length.is_some_and(|m| m != n) {
            return Err(Error::ContentLengthsDiffer);
        }
        *length = Some(n);
    }
    if any {
        Ok(())
    } else {
        Err(Error::BadContentLength)
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

/// Reads one response body of any framing (§6.3).
#[derive(Debug, Clone)]
pub struct BodyReader {
    framing: Framing,
}

#[derive(Debug, Clone)]
enum Framing {
    Done,
    Length { left: u64 },
    Chunked(Dechunk),
    UntilClose,
}

impl BodyReader {
    /// A reader for a body framed as `body`. A chunked body has no cap
    /// here: the caller counts what it keeps of the data.
    pub fn new(body: Body) -> BodyReader {
        let framing = match body {
            Body::None | Body::Length(0) => Framing::Done,
            Body::Length(left) => Framing::Length { left },
            Body::Chunked => Framing::Chunked(Dechunk::new(u64::MAX, usize::MAX)),
            Body::UntilClose => Framing::UntilClose,
        };
        BodyReader { framing }
    }

    /// Appends body data to `out`; returns (bytes consumed, body complete).
    /// Bytes after the end of the body are not consumed. An until-close body
    /// never completes: the caller ends it at EOF.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), Error> {
        match &mut self.framing {
            Framing::Done => Ok((0, true)),
            Framing::Length { left } => {
                let take = usize::try_from(*left).map_or(input.len(), |left| left.min(input.len()));
                out.extend_from_slice(input.get(..take).unwrap_or_default());
                *left -= take as u64;
                let done = *left == 0;
                if done {
                    self.framing = Framing::Done;
                }
                Ok((take, done))
            }
            Framing::Chunked(dechunk) => {
                let used = dechunk.feed(input, out)?;
                Ok((used, dechunk.is_done()))
            }
            Framing::UntilClose => {
                out.extend_from_slice(input);
                Ok((input.len(), false))
            }
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
