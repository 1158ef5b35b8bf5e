//! Writing responses (RFC 9112 §4, RFC 9110 §15): the status line and header
//! fields are appended to the caller's buffer; a large body can stay a
//! shared reference (`Rc<[u8]>`) so a cached file is never copied per request.

use std::rc::Rc;

use super::error::HttpError;

/// A response body, by who owns the bytes.
#[derive(Clone, Debug)]
pub enum Body {
    Empty,
    Static(&'static [u8]),
    Owned(Vec<u8>),
    Shared(Rc<[u8]>),
}

impl Body {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Static(b) => b,
            Body::Owned(b) => b,
            Body::Shared(b) => b,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<&'static str>,
    /// Further header fields, in order. Names are ours, never a peer's.
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// Close the connection after this response whatever the request said.
    pub close: bool,
    /// The body follows the head for as long as the connection lasts (an
    /// event stream): no Content-Length (RFC 9112 §6.3: its length is what
    /// arrives "prior to the server closing the connection").
    pub stream: bool,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: Body) -> Response {
        Response {
            status,
            content_type: Some(content_type),
            headers: Vec::new(),
            body,
            close: false,
            stream: false,
        }
    }

    /// A plain-text answer: the status line's reason, then `detail`.
    pub fn text(status: u16, detail: &str) -> Response {
        let body = format!("{} {}: {}\n", status, reason(status), detail).into_bytes();
        Response::new(status, "text/plain; charset=utf-8", Body::Owned(body))
    }

    pub fn json(status: u16, body: String) -> Response {
        Response::new(status, "application/json", Body::Owned(body.into_bytes()))
    }

    /// The answer to a refused request. Every such refusal ends the
    /// connection: after a framing error the next request cannot be found.
    pub fn error(e: HttpError) -> Response {
        Response { close: true, ..Response::text(e.status(), e.reason()) }
    }

    /// Status without a body, e.g. 304 (RFC 9110 §15.4.5).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Body::Empty,
            close: false,
            stream: false,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// RFC 9110 §6.4.1: 1xx, 204 and 304 never carry content, so they also
    /// get no Content-Length.
    fn has_body(&self) -> bool {
        !(self.status < 200 || self.status == 204 || self.status == 304 || self.stream)
    }

    /// Appends the status line and header section. `date` is the current
    /// IMF-fixdate; `keep_alive` what the request and server agreed on;
    /// `minor` the request's HTTP/1.x minor version.
    pub fn encode_head(&self, date: &[u8], minor: u8, keep_alive: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(b"HTTP/1.1 ");
        push_u64(out, u64::from(self.status));
        out.push(b' ');
        out.extend_from_slice(reason(self.status).as_bytes());
        // RFC 9110 §6.6.1: "An origin server with a clock ... MUST generate a
        // Date header field" in 2xx, 3xx and 4xx responses.
        out.extend_from_slice(b"\r\nServer: pushwire\r\nDate: ");
        out.extend_from_slice(date);
        if let Some(ct) = self.content_type {
            out.extend_from_slice(b"\r\nContent-Type: ");
            out.extend_from_slice(ct.as_bytes());
        }
        if self.has_body() {
            out.extend_from_slice(b"\r\nContent-Length: ");
            push_u64(out, self.body.as_bytes().len() as u64);
        }
        // RFC 9112 §9.3: a server that will close says so; an HTTP/1.0 client
        // that asked to keep the connection is told it is kept.
        if !keep_alive || self.close {
            out.extend_from_slice(b"\r\nConnection: close");
        } else if minor == 0 {
            out.extend_from_slice(b"\r\nConnection: keep-alive");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b"\r\n\r\n");
    }
}

/// RFC 9110 §10.1.1: the interim answer to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The reason phrases of RFC 9110 §15 for the statuses pushwire sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        // RFC 9110 §15.5.7: a subscribe that accepts neither an event
        // stream nor a WebSocket.
        406 => "Not Acceptable",
        408 => "Request Timeout",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Decimal digits without the formatting machinery (this runs per response).
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn head(r: &Response, minor: u8, keep_alive: bool) -> String {
        let mut out = Vec::new();
        r.encode_head(DATE, minor, keep_alive, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_status_the_server_sends_has_its_rfc_9110_name() {
        // Each status some route, refusal or limit answers with (SPEC §2-§5).
        let sent = [
            100, 101, 200, 201, 202, 204, 301, 304, 400, 401, 403, 404, 405, 406, 408, 413, 417, 426, 431,
            500, 501, 503, 505,
        ];
        for status in sent {
            assert_ne!(reason(status), "Unknown", "{status}");
        }
        assert_eq!(reason(406), "Not Acceptable");
    }

    #[test]
    fn plaintext_head_byte_for_byte() {
        let r = Response::new(200, "text/plain", Body::Static(b"Hello, World!"));
        assert_eq!(
            head(&r, 1, true),
            "HTTP/1.1 200 OK\r\nServer: pushwire\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
        );
    }

    #[test]
    fn connection_close_and_http10_keep_alive() {
        let r = Response::new(200, "text/plain", Body::Empty);
        assert!(head(&r, 1, false).contains("\r\nConnection: close\r\n"));
        assert!(head(&r, 0, true).contains("\r\nConnection: keep-alive\r\n"));
        assert!(!head(&r, 1, true).contains("Connection:"));
        let error = Response::error(HttpError::BadChunk);
        assert!(head(&error, 1, true).contains("\r\nConnection: close\r\n"));
    }

    #[test]
    fn not_modified_has_no_content_length() {
        let r = Response::empty(304).header("Last-Modified", "x");
        let h = head(&r, 1, true);
        assert!(h.starts_with("HTTP/1.1 304 Not Modified\r\n"));
        assert!(!h.contains("Content-Length"));
        assert!(h.ends_with("\r\nLast-Modified: x\r\n\r\n"));
    }

    #[test]
    fn error_body_names_status_and_reason() {
        let r = Response::error(HttpError::HeadTooLarge);
        assert_eq!(r.status, 431);
        assert_eq!(
            r.body.as_bytes(),
            b"431 Request Header Fields Too Large: request line and headers exceed the size limit\n"
        );
    }

    #[test]
    fn decimal_digits() {
        for n in [0u64, 7, 10, 99, 100, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
