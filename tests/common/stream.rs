//! An event-stream subscription read off a raw socket, for tests that check
//! the exact bytes (SPEC §4) or read at their own pace.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{write_all, Server};

pub struct EventStream {
    pub socket: TcpStream,
    pub buf: Vec<u8>,
    pub head: String,
}

impl EventStream {
    /// `GET path` with `Accept: text/event-stream` and `extra` header lines
    /// (each ending in CRLF); returns once the response head is in.
    pub fn open(server: &Server, path: &str, extra: &str) -> EventStream {
        let mut socket = server.connect();
        write_all(
            &mut socket,
            format!("GET {path} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n{extra}\r\n").as_bytes(),
        );
        let mut s = EventStream { socket, buf: Vec::new(), head: String::new() };
        let end = s.until(after(b"\r\n\r\n"), Duration::from_secs(5)).expect("a stream head");
        s.head = String::from_utf8(s.buf.drain(..end).collect()).unwrap();
        s
    }

    /// Reads until `find` finds an end in the buffer; that end. `None` on
    /// timeout or end of stream.
    pub fn until(&mut self, find: impl Fn(&[u8]) -> Option<usize>, within: Duration) -> Option<usize> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = find(&self.buf) {
                return Some(end);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.socket.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            let mut chunk = [0u8; 65536];
            match self.socket.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
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
}

/// `POST /topics/{topic}` with `body` over a raw socket (a body of any size:
/// curl takes its `--data-binary` as one argument, which Linux caps at
/// 128 KiB). Returns the status line.
pub fn post(server: &Server, topic: &str, body: &[u8]) -> String {
    let mut s = server.connect();
    let head = format!(
        "POST /topics/{topic} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    write_all(&mut s, head.as_bytes());
    write_all(&mut s, body);
    let mut reply = String::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.read_to_string(&mut reply);
    reply.lines().next().unwrap_or_default().to_string()
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
