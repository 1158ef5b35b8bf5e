//! Reading one HTTP/1.1 request (RFC 9112) out of a byte buffer.
//!
//! Incremental and sans-IO: [`parse`] is called with everything received so
//! far for the current request and answers "not yet" ([`Parse::Partial`]),
//! a complete [`Request`] with the number of bytes it used (what follows is
//! the next pipelined request), or an [`HttpError`] that knows its status.
//! Between calls the caller keeps only the bytes and a small [`Progress`],
//! so re-reading a growing request costs O(new bytes), never O(all bytes).
//!
//! Implements: request line and headers through httparse, capped at
//! `max_head` (431); Host rules (§3.2); origin-, absolute- and asterisk-form
//! targets (§3.2); body length by Content-Length or chunked (§6.3), with
//! Transfer-Encoding + Content-Length refused (request smuggling); chunked
//! decoding with chunk extensions and trailers (§7.1); `max_body` (413);
//! `Expect: 100-continue` (RFC 9110 §10.1.1); persistence (§9.3).
//!
//! Does not implement: authority-form (CONNECT), transfer codings other than
//! chunked (501), obsolete line folding (httparse refuses it: 400), HTTP/2.

use std::borrow::Cow;

use httparse::Header;

use super::chunked::{ChunkError, Dechunk};
use super::error::HttpError;
use crate::limits::Limits;

/// RFC 9110 §9: the methods the router can name; anything else is `Other`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Other,
}

impl Method {
    fn parse(token: &str) -> Method {
        // RFC 9110 §9.1: "The method token is case-sensitive".
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }
}

/// How the body of a request is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Framing {
    Length(usize),
    Chunked,
}

/// What is kept between calls while a request is incomplete.
#[derive(Default, Debug)]
pub struct Progress {
    stage: Stage,
}

#[derive(Default, Debug)]
enum Stage {
    /// Looking for the empty line that ends the head; bytes before `scanned`
    /// are known not to contain it.
    #[default]
    Head,
    HeadScanned(usize),
    /// The head (`head_len` bytes) is valid; the body is still arriving.
    Body {
        head_len: usize,
        framing: Framing,
        continue_sent: bool,
        dechunk: ChunkedBody,
    },
}

impl Progress {
    /// Whether the head is in and the body is still arriving (a slow body is
    /// timed differently from a slow head).
    pub fn in_body(&self) -> bool {
        matches!(self.stage, Stage::Body { .. })
    }
}

/// The answer to "is a whole request here yet?".
#[derive(Debug)]
pub enum Parse<'b> {
    /// A whole request, and how many bytes of the buffer it took.
    Complete(Request<'b>, usize),
    /// More bytes are needed. `send_continue` is true exactly once, when the
    /// head asked for `100-continue` and the body has not started (RFC 9110
    /// §10.1.1: the client may be waiting for it before it sends the body).
    Partial { send_continue: bool },
}

/// A parsed request borrowing from the receive buffer.
#[derive(Debug)]
pub struct Request<'b> {
    pub method: Method,
    pub method_token: &'b str,
    /// The path of the request-target, still percent-encoded.
    pub path: &'b str,
    /// What follows `?` in the request-target, still percent-encoded.
    pub query: &'b str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: &'b [Header<'b>],
    pub body: Cow<'b, [u8]>,
    /// RFC 9112 §9.3: whether the connection persists after the response.
    pub keep_alive: bool,
}

impl<'b> Request<'b> {
    /// The first value of a header field (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
    }
}

/// Reads a request from `buf`, the bytes received since the previous request
/// ended. `progress` must be the same value across calls for one request and
/// a fresh one (default) for the next; `storage` receives the header fields.
pub fn parse<'b>(
    buf: &'b [u8],
    progress: &mut Progress,
    limits: &Limits,
    storage: &'b mut [Header<'b>],
) -> Result<Parse<'b>, HttpError> {
    let Stage::Body { head_len, framing, continue_sent, dechunk } = &mut progress.stage else {
        return parse_head(buf, progress, limits, storage);
    };
    let head_len = *head_len;
    let (body, used) = match *framing {
        Framing::Length(n) => {
            if buf.len() - head_len < n {
                return Ok(Parse::Partial { send_continue: false });
            }
            (Cow::Borrowed(&buf[head_len..head_len + n]), head_len + n)
        }
        Framing::Chunked => match dechunk.feed(&buf[head_len..], limits)? {
            Some(raw_len) => (Cow::Owned(std::mem::take(&mut dechunk.body)), head_len + raw_len),
            None => {
                let send_continue = !*continue_sent && buf.len() == head_len;
                *continue_sent |= send_continue;
                return Ok(Parse::Partial { send_continue });
            }
        },
    };
    // The head was valid when it arrived; it is parsed again now rather than
    // holding borrowed header fields across calls.
    let head = Head::parse(&buf[..head_len], storage, limits)?;
    Ok(Parse::Complete(head.into_request(body), used))
}

/// The head stage: find the end of the head, validate it, and either finish
/// the request at once (no body, or the whole body is here) or remember what
/// the body stage needs.
fn parse_head<'b>(
    buf: &'b [u8],
    progress: &mut Progress,
    limits: &Limits,
    storage: &'b mut [Header<'b>],
) -> Result<Parse<'b>, HttpError> {
    let scanned = match progress.stage {
        Stage::HeadScanned(n) => n,
        _ => 0,
    };
    let Some(end) = find_head_end(buf, scanned, limits.max_head)? else {
        progress.stage = Stage::HeadScanned(buf.len().saturating_sub(3));
        return Ok(Parse::Partial { send_continue: false });
    };
    let head = Head::parse(&buf[..end], storage, limits)?;
    let mut dechunk = ChunkedBody::new(limits);
    let framing = match head.framing {
        None => return Ok(Parse::Complete(head.into_request(Cow::Borrowed(&[])), end)),
        Some(Framing::Length(n)) if buf.len() - end >= n => {
            let body = Cow::Borrowed(&buf[end..end + n]);
            return Ok(Parse::Complete(head.into_request(body), end + n));
        }
        Some(Framing::Chunked) => {
            if let Some(raw_len) = dechunk.feed(&buf[end..], limits)? {
                let body = Cow::Owned(std::mem::take(&mut dechunk.body));
                return Ok(Parse::Complete(head.into_request(body), end + raw_len));
            }
            Framing::Chunked
        }
        Some(framing) => framing,
    };
    let send_continue = head.expect_continue && buf.len() == end;
    progress.stage = Stage::Body { head_len: end, framing, continue_sent: send_continue, dechunk };
    Ok(Parse::Partial { send_continue })
}

/// Finds the end of the head: the byte after the empty line. Looks only at
/// bytes from `scanned` on, so a head that arrives a byte at a time costs
/// O(n) in all, not O(n²).
fn find_head_end(buf: &[u8], scanned: usize, max_head: usize) -> Result<Option<usize>, HttpError> {
    // RFC 9112 §2.2: a server "SHOULD ignore at least one empty line (CRLF)
    // received prior to the request-line"; such leading lines are not the end.
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
    let from = scanned.max(start);
    let limit = buf.len().min(max_head);
    // RFC 9112 §2.2: "a recipient MAY recognize a single LF as a line
    // terminator and ignore any preceding CR", as httparse does.
    let mut i = from;
    while i < limit {
        if buf[i] == b'\n' {
            match buf.get(i + 1..) {
                Some([b'\n', ..]) => return head_end(i + 2, max_head),
                Some([b'\r', b'\n', ..]) => return head_end(i + 3, max_head),
                _ => {}
            }
        }
        i += 1;
    }
    if buf.len() >= max_head {
        return Err(HttpError::HeadTooLarge);
    }
    Ok(None)
}

fn head_end(end: usize, max_head: usize) -> Result<Option<usize>, HttpError> {
    if end > max_head {
        return Err(HttpError::HeadTooLarge);
    }
    Ok(Some(end))
}

/// A validated request head.
struct Head<'b> {
    method: Method,
    method_token: &'b str,
    path: &'b str,
    query: &'b str,
    minor: u8,
    headers: &'b [Header<'b>],
    framing: Option<Framing>,
    keep_alive: bool,
    expect_continue: bool,
}

impl<'b> Head<'b> {
    fn parse(head: &'b [u8], storage: &'b mut [Header<'b>], limits: &Limits) -> Result<Head<'b>, HttpError> {
        let mut req = httparse::Request::new(storage);
        let parsed = req.parse(head).map_err(|e| match e {
            // httparse reports any junk where the version should be as a
            // version error; only a well-formed `HTTP/x.y` earns 505.
            httparse::Error::Version if !names_a_version(head) => {
                HttpError::Malformed("invalid request line")
            }
            e => e.into(),
        })?;
        match parsed {
            httparse::Status::Complete(_) => {}
            // find_head_end saw an empty line, so this cannot happen for a
            // well-formed head; a head httparse still finds short is broken.
            httparse::Status::Partial => return Err(HttpError::Malformed("incomplete head")),
        }
        let method_token = req.method.unwrap_or_default();
        let target = req.path.unwrap_or_default();
        let minor = req.version.unwrap_or(1);
        let headers: &'b [Header<'b>] = req.headers;

        let mut hosts = 0;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut close = false;
        let mut keep_alive = false;
        let mut expect_continue = false;
        for h in headers {
            let name = h.name;
            if name.eq_ignore_ascii_case("host") {
                hosts += 1;
            } else if name.eq_ignore_ascii_case("content-length") {
                // RFC 9112 §6.3 (5): a list of identical values may be taken
                // as one; differing or invalid values are unrecoverable.
                for item in h.value.split(|&b| b == b',') {
                    let n = parse_length(trim(item))?;
                    if content_length.is_some_and(|m| m != n) {
                        return Err(HttpError::BadContentLength);
                    }
                    content_length = Some(n);
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                // RFC 9112 §6.3 (4): "If a Transfer-Encoding header field is
                // present in a request and the chunked transfer coding is not
                // the final encoding, ... the server MUST respond with the 400".
                for coding in h.value.split(|&b| b == b',').map(trim) {
                    if coding.is_empty() {
                        continue;
                    }
                    if chunked {
                        return Err(HttpError::ChunkedNotFinal);
                    }
                    if coding.eq_ignore_ascii_case(b"chunked") {
                        chunked = true;
                    } else {
                        // RFC 9112 §6.1: "A server that receives a request
                        // message with a transfer coding it does not
                        // understand SHOULD respond with 501".
                        return Err(HttpError::UnknownCoding);
                    }
                }
                if !chunked {
                    return Err(HttpError::ChunkedNotFinal);
                }
            } else if name.eq_ignore_ascii_case("connection") {
                for option in h.value.split(|&b| b == b',').map(trim) {
                    close |= option.eq_ignore_ascii_case(b"close");
                    keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case("expect") {
                // RFC 9110 §10.1.1: "A server that receives a 100-continue
                // expectation in an HTTP/1.0 request MUST ignore that
                // expectation"; other expectations get 417.
                if !trim(h.value).eq_ignore_ascii_case(b"100-continue") {
                    return Err(HttpError::BadExpect);
                }
                expect_continue = minor == 1;
            }
        }

        // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request)
        // status code to any HTTP/1.1 request message that lacks a Host header
        // field and to any request message that contains more than one Host".
        if hosts > 1 || (minor == 1 && hosts == 0) {
            return Err(HttpError::BadHost);
        }
        let framing = match (chunked, content_length) {
            // RFC 9112 §6.1: "A server MAY reject a request that contains both
            // Content-Length and Transfer-Encoding"; we do, as the only answer
            // that leaves no room for request smuggling.
            (true, Some(_)) => return Err(HttpError::LengthAndChunked),
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding
            // "MUST" be treated "as if the framing is faulty".
            (true, None) if minor == 0 => return Err(HttpError::ChunkedNotFinal),
            (true, None) => Some(Framing::Chunked),
            (false, Some(n)) if n > limits.max_body => return Err(HttpError::BodyTooLarge),
            (false, Some(0)) | (false, None) => None,
            (false, Some(n)) => Some(Framing::Length(n)),
        };

        let (path, query) = split_target(target)?;
        let method = Method::parse(method_token);
        if path == "*" && method != Method::Options {
            return Err(HttpError::BadTarget);
        }
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 persists
        // only with "keep-alive".
        let keep_alive = !close && (minor == 1 || keep_alive);
        Ok(Head {
            method,
            method_token,
            path,
            query,
            minor,
            headers,
            framing,
            keep_alive,
            expect_continue: expect_continue && framing.is_some(),
        })
    }

    fn into_request(self, body: Cow<'b, [u8]>) -> Request<'b> {
        Request {
            method: self.method,
            method_token: self.method_token,
            path: self.path,
            query: self.query,
            minor: self.minor,
            headers: self.headers,
            body,
            keep_alive: self.keep_alive,
        }
    }
}

/// Whether the request line ends in a well-formed HTTP-version
/// (RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`) after
/// exactly a method and a target.
fn names_a_version(head: &[u8]) -> bool {
    let start = head.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
    let line = head[start..].split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    matches!(parts.as_slice(), [_, _, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]]
        if major.is_ascii_digit() && minor.is_ascii_digit())
}

/// RFC 9112 §3.2: origin-form (`/path?query`), absolute-form
/// (`http://host/path?query`, which "a server MUST accept"), and asterisk-form
/// (`*`, OPTIONS only). Authority-form is for CONNECT, which we do not proxy.
fn split_target(target: &str) -> Result<(&str, &str), HttpError> {
    let origin = if target.starts_with('/') || target == "*" {
        target
    } else {
        let rest = ["http://", "https://"]
            .iter()
            .find_map(|scheme| {
                let head = target.get(..scheme.len())?;
                head.eq_ignore_ascii_case(scheme).then(|| &target[scheme.len()..])
            })
            .ok_or(HttpError::BadTarget)?;
        match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
            // RFC 9112 §3.2.1: an empty path becomes "/".
            _ => "/",
        }
    };
    Ok(match origin.split_once('?') {
        Some((path, query)) => (path, query),
        None => (origin, ""),
    })
}

/// RFC 9110 §8.6: `Content-Length = 1*DIGIT`. No sign, no spaces inside, and
/// an overflow is an error, not a wrap.
fn parse_length(v: &[u8]) -> Result<usize, HttpError> {
    if v.is_empty() || v.len() > 19 {
        return Err(HttpError::BadContentLength);
    }
    v.iter().try_fold(0usize, |n, &b| {
        if !b.is_ascii_digit() {
            return Err(HttpError::BadContentLength);
        }
        n.checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(b - b'0')))
            .ok_or(HttpError::BadContentLength)
    })
}

/// RFC 9110 §5.6.3: optional whitespace (SP / HTAB) around list items.
fn trim(v: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !is_ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &v[start..end]
}

/// The raw bytes of a chunked body, framing included, may be at most twice
/// the body limit plus 64 KiB. The decoded body is capped by `max_body`, but
/// the raw bytes are held until the request ends, and ignored chunk
/// extensions would otherwise let a peer make us hold thousands of times
/// `max_body` for a small body. Real clients' framing costs a few percent.
fn max_raw_chunked(max_body: usize) -> usize {
    max_body.saturating_mul(2).saturating_add(64 * 1024)
}

/// A chunked request body (RFC 9112 §7.1) as it arrives: the raw bytes
/// received so far (always from the start of the body) are fed to the
/// shared [`Dechunk`] from where it stopped, and the decoded body is kept
/// until the request is whole.
#[derive(Debug)]
struct ChunkedBody {
    /// Raw bytes consumed so far.
    read: usize,
    dechunk: Dechunk,
    body: Vec<u8>,
}

impl ChunkedBody {
    /// The decoded body is capped by `max_body` (413), the trailer section
    /// like a head (431).
    fn new(limits: &Limits) -> ChunkedBody {
        let max_body = u64::try_from(limits.max_body).unwrap_or(u64::MAX);
        ChunkedBody { read: 0, dechunk: Dechunk::new(max_body, limits.max_head), body: Vec::new() }
    }

    /// Decodes what it can; `Some(raw_len)` once the whole body is in.
    fn feed(&mut self, raw: &[u8], limits: &Limits) -> Result<Option<usize>, HttpError> {
        let fresh = raw.get(self.read..).unwrap_or_default();
        self.read += self.dechunk.feed(fresh, &mut self.body).map_err(|e| match e {
            ChunkError::BodyTooLarge => HttpError::BodyTooLarge,
            ChunkError::TrailersTooLarge => HttpError::HeadTooLarge,
            _ => HttpError::BadChunk,
        })?;
        if self.dechunk.is_done() {
            return Ok(Some(self.read));
        }
        // What is not decoded is skipped framing, so capping what was
        // consumed caps what the caller holds for this request.
        if self.read > max_raw_chunked(limits.max_body) {
            return Err(HttpError::BodyTooLarge);
        }
        Ok(None)
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
