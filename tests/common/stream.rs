//! An event-stream subscription read off a raw socket, for tests that check
//! the exact bytes (SPEC §4) or read at their own pace.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{closed_within, write_all, Server};

pub struct EventStream {
    pub socket: TcpStream,
    pub buf: Vec<u8>,
    pub head: String,
    /// When the request was sent (for tests of when events come).
    pub opened: Instant,
}

/// `GET path` with `Accept: text/event-stream` and `extra` header lines
/// (each ending in CRLF).
fn request(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n{extra}\r\n").into_bytes()
}

/// Sends a subscription's request and returns at once, the answer unread
/// (for readers that parse the bytes themselves).
pub fn subscribe(server: &Server, path: &str) -> TcpStream {
    let mut socket = server.connect();
    write_all(&mut socket, &request(path, ""));
    socket
}

impl EventStream {
    /// `GET path` with `Accept: text/event-stream` and `extra` header lines
    /// (each ending in CRLF); returns once the response head is in.
    pub fn open(server: &Server, path: &str, extra: &str) -> EventStream {
        let mut socket = server.connect();
        let opened = Instant::now();
        write_all(&mut socket, &request(path, extra));
        let mut s = EventStream { socket, buf: Vec::new(), head: String::new(), opened };
        let end = s.until(after(b"\r\n\r\n"), Duration::from_secs(5)).expect("a stream head");
        s.head = String::from_utf8(s.buf.drain(..end).collect()).unwrap();
        s
    }

    /// `open` with no extra header, checking the answer is a `200` event
    /// stream.
    pub fn open_ok(server: &Server, path: &str) -> EventStream {
        let s = EventStream::open(server, path, "");
        assert!(s.head.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {}", s.head);
        assert!(s.head.contains("\r\nContent-Type: text/event-stream; charset=utf-8\r\n"), "{}", s.head);
        s
    }

    /// The head SPEC §4 gives every stream: `200`, the type, and the two
    /// lines that keep caches and proxies from holding events back.
    pub fn assert_spec_head(&self) {
        assert!(self.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", self.head);
        for line in [
            "Content-Type: text/event-stream; charset=utf-8",
            "Cache-Control: no-cache",
            "X-Accel-Buffering: no",
        ] {
            assert!(self.head.contains(&format!("\r\n{line}\r\n")), "{line} missing: {}", self.head);
        }
    }

    /// Reads until `find` finds an end in the buffer; that end. `None` on
    /// timeout or end of stream.
    pub fn until(&mut self, find: impl Fn(&[u8]) -> Option<usize>, within: Duration) -> Option<usize> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = find(&self.buf) {
                return Some(end);
            }
            if !self.fill(deadline) {
                return None;
            }
        }
    }

    /// Reads more into the buffer; false at end of stream, on an error or
    /// past the deadline.
    fn fill(&mut self, deadline: Instant) -> bool {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
        self.socket.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
        let mut chunk = [0u8; 65536];
        match self.socket.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Exactly the next `n` bytes, as text (fewer if the stream ends or
    /// `within` passes first).
    pub fn take(&mut self, n: usize, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while self.buf.len() < n && self.fill(deadline) {}
        let n = n.min(self.buf.len());
        String::from_utf8(self.buf.drain(..n).collect()).unwrap()
    }

    /// Everything until the server closes; `None` if it does not within
    /// `within`.
    pub fn rest_until_eof(&mut self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            self.socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            let mut chunk = [0u8; 65536];
            match self.socket.read(&mut chunk) {
                Ok(0) => return Some(String::from_utf8(std::mem::take(&mut self.buf)).unwrap()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Some(String::from_utf8(std::mem::take(&mut self.buf)).unwrap())
                }
                Err(_) if Instant::now() >= deadline => return None,
                Err(_) => {}
            }
        }
    }

    /// Whether the server closed the stream (EOF) within `within`.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        closed_within(&mut self.socket, within)
    }

    /// The next unit: an event with its blank line, or a comment line.
    pub fn next_block(&mut self, within: Duration) -> Option<String> {
        let end = self.until(sse_unit, within)?;
        Some(String::from_utf8(self.buf.drain(..end).collect()).expect("UTF-8"))
    }

    /// The next event, skipping comment lines (heartbeats).
    pub fn next_event_within(&mut self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let end = self.until(sse_unit, left)?;
            let unit = String::from_utf8(self.buf.drain(..end).collect()).expect("UTF-8");
            if !unit.starts_with(':') {
                return Some(unit);
            }
        }
    }

    pub fn next_event(&mut self) -> String {
        self.next_event_within(Duration::from_secs(10)).expect("an event")
    }

    /// Every event that arrives within `window`.
    pub fn events_for(&mut self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next_event_within(left) {
                Some(e) => got.push(e),
                None => break,
            }
        }
        got
    }
}

/// For a reader's `until`: the end of the first `pattern` in the buffer.
pub fn after(pattern: &'static [u8]) -> impl Fn(&[u8]) -> Option<usize> {
    move |buf| buf.windows(pattern.len()).position(|w| w == pattern).map(|i| i + pattern.len())
}

/// The end of the next thing on an event stream: a comment line (SPEC §4: a
/// heartbeat is `: heartbeat\n`, with no blank line after it) at its LF, an
/// event at the blank line that ends its block. A block never starts with a
/// comment here: the server writes comments only between events.
pub fn sse_unit(buf: &[u8]) -> Option<usize> {
    match buf.first()? {
        b':' => after(b"\n")(buf),
        _ => after(b"\n\n")(buf),
    }
}
