//! One published message, kept once: its single-topic SSE encoding is the
//! only copy of the body in the common case, and every other form (the data
//! for a WebSocket frame, the text for the long-poll's JSON, the tail a
//! multi-topic stream shares) is a slice of it or derived from it.
//!
//! Why derivable: the SSE encoding of data is its lines, each after
//! `data: `, so the data comes back by joining the lines with LF, and a
//! binary body is one base64 line (RFC 4648 §4) that decodes back. What
//! cannot come back: CR and CRLF line ends (WHATWG HTML §9.2.6 splits at all
//! three, and a client joins with LF), and bytes that were not UTF-8 (they
//! became U+FFFD). A text body with either keeps its raw bytes too; the
//! publish API refuses non-UTF-8 text, so in practice that is text with CR.

use std::borrow::Cow;
use std::rc::Rc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::http::response::push_u64;
use crate::sse;

/// One published message, shared (`Rc`) by the topic's history and every
/// subscriber's output queue.
#[derive(Debug)]
pub struct Message {
    /// The same allocation as the hub's key for the topic.
    pub topic: Rc<str>,
    /// Dense per topic: 1, 2, 3, …
    pub id: u64,
    /// The publisher's event name (SPEC §2: `?event=NAME`); never empty.
    pub event: Option<Box<str>>,
    /// Published as `application/octet-stream`.
    pub binary: bool,
    /// The event for a single-topic SSE stream, encoded once at publish:
    /// `id: {id}\n[event: {event}\n]data: …\n\n` (binary data in base64).
    pub sse: Rc<[u8]>,
    /// Where the first `data: ` line starts in `sse`.
    data_at: u32,
    /// The body as published, only where `sse` cannot give it back (text
    /// with CR, or not UTF-8).
    raw: Option<Rc<[u8]>>,
    /// Publish order across all topics: `--history-bytes` evicts the
    /// lowest first.
    pub(super) seq: u64,
}

/// What a kept message costs besides its bytes: the `Message` and its `Rc`
/// header, the `sse` buffer's `Rc` header, and its slot in the topic's ring.
/// `--history-bytes` counts this too, so a flood of empty messages is
/// bounded as well as a flood of large ones.
pub const KEPT_OVERHEAD: usize = size_of::<Message>() + 16 + 16 + size_of::<Rc<Message>>();

/// History can hold a million messages (a thousand topics at the default
/// 1000); each costs this plus its bytes.
const _: () = assert!(size_of::<Message>() <= 96);

impl Message {
    /// Encodes a message once. `seq`: its place in the hub's publish order.
    pub(super) fn new(
        topic: Rc<str>,
        id: u64,
        event: Option<&str>,
        data: &[u8],
        binary: bool,
        seq: u64,
    ) -> Message {
        let text: Cow<'_, str> =
            if binary { BASE64.encode(data).into() } else { String::from_utf8_lossy(data) };
        let lossy = matches!(text, Cow::Owned(_)) && !binary;
        let mut out = Vec::with_capacity(text.len() + 32);
        out.extend_from_slice(b"id: ");
        push_u64(&mut out, id);
        out.push(b'\n');
        if let Some(name) = event {
            sse::field(b"event", name, &mut out);
        }
        let data_at = out.len();
        sse::encode(&sse::Event { data: &text, ..Default::default() }, &mut out);
        let raw = (lossy || (!binary && data.contains(&b'\r'))).then(|| Rc::from(data));
        Message {
            topic,
            id,
            event: event.map(Box::from),
            binary,
            sse: Rc::from(out),
            // An event name is at most a request line long (8 KiB).
            data_at: u32::try_from(data_at).unwrap_or(u32::MAX),
            raw,
            seq,
        }
    }

    /// Where the bytes a multi-topic stream shares start: everything after
    /// the `id:` line, i.e. the named `event:` (if any) and the data lines.
    pub fn after_id(&self) -> usize {
        self.sse.iter().position(|&b| b == b'\n').map_or(0, |end| end + 1)
    }

    /// The data as text: text as published, binary as base64 (as SSE and
    /// the long-poll's JSON carry it). Borrowed when the data is one line.
    pub fn text(&self) -> Cow<'_, str> {
        if let Some(raw) = &self.raw {
            return String::from_utf8_lossy(raw);
        }
        // `sse` was encoded from a `&str` with ASCII framing around it.
        let lines = String::from_utf8_lossy(self.data_lines());
        match lines {
            Cow::Borrowed(lines) => join_lines(lines),
            Cow::Owned(lines) => Cow::Owned(join_lines(&lines).into_owned()),
        }
    }

    /// The body as published: what a WebSocket frame carries.
    pub fn data(&self) -> Cow<'_, [u8]> {
        if let Some(raw) = &self.raw {
            return Cow::Borrowed(raw);
        }
        match self.text() {
            // One base64 line of our own encoding: it decodes.
            text if self.binary => Cow::Owned(BASE64.decode(text.as_bytes()).unwrap_or_default()),
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        }
    }

    /// Bytes held for this message while it is kept (see [`KEPT_OVERHEAD`]).
    pub fn cost(&self) -> usize {
        KEPT_OVERHEAD
            + self.sse.len()
            + self.raw.as_ref().map_or(0, |r| r.len() + 16)
            + self.event.as_ref().map_or(0, |e| e.len())
    }

    /// `data: a\ndata: b\n` (without the blank line that ends the event).
    fn data_lines(&self) -> &[u8] {
        let start = (self.data_at as usize).min(self.sse.len());
        let end = self.sse.len().saturating_sub(1).max(start);
        &self.sse[start..end]
    }
}

/// `data: a\ndata: b\n` → `a\nb`.
fn join_lines(lines: &str) -> Cow<'_, str> {
    let mut parts = lines.split_terminator('\n').map(|l| l.strip_prefix("data: ").unwrap_or(l));
    let first = parts.next().unwrap_or_default();
    match parts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut joined = String::with_capacity(lines.len());
            joined.push_str(first);
            joined.push('\n');
            joined.push_str(second);
            for part in parts {
                joined.push('\n');
                joined.push_str(part);
            }
            Cow::Owned(joined)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(event: Option<&str>, data: &[u8], binary: bool) -> Message {
        Message::new("t".into(), 3, event, data, binary, 0)
    }

    #[test]
    fn sse_bytes_byte_for_byte() {
        // (event, data, binary, the bytes of message 3)
        let cases: &[(Option<&str>, &[u8], bool, &str)] = &[
            (None, b"hello", false, "id: 3\ndata: hello\n\n"),
            (Some("price"), b"4.20", false, "id: 3\nevent: price\ndata: 4.20\n\n"),
            (None, b"a\nb\r\nc\rd", false, "id: 3\ndata: a\ndata: b\ndata: c\ndata: d\n\n"),
            (None, b"", false, "id: 3\ndata: \n\n"),
            (None, "白菜价格".as_bytes(), false, "id: 3\ndata: 白菜价格\n\n"),
            (None, b"a\xffb", false, "id: 3\ndata: a\u{fffd}b\n\n"),
            (None, b"\x00\xff\n\r", true, "id: 3\ndata: AP8KDQ==\n\n"),
            (Some("blob"), b"hi", true, "id: 3\nevent: blob\ndata: aGk=\n\n"),
            (None, b"", true, "id: 3\ndata: \n\n"),
        ];
        for &(event, data, binary, want) in cases {
            let msg = message(event, data, binary);
            assert_eq!(std::str::from_utf8(&msg.sse).unwrap(), want, "{event:?} {data:?} {binary}");
        }
    }

    #[test]
    fn the_body_comes_back_exactly() {
        let cases: &[(&[u8], bool)] = &[
            (b"hello", false),
            (b"", false),
            (b"a\nb", false),
            (b"a\n", false),
            (b"\n\n", false),
            (b"data: inside\ndata: ", false),
            ("价格\n行情".as_bytes(), false),
            (b"crlf\r\nline", false),
            (b"cr\rline", false),
            (b"a\xffb", false),
            (b"\x00\xff\n\r", true),
            (b"", true),
            (&[7; 1000], true),
        ];
        for &(data, binary) in cases {
            let msg = message(Some("e"), data, binary);
            assert_eq!(&*msg.data(), data, "{data:?} {binary}");
        }
    }

    #[test]
    fn stored_once_unless_the_encoding_loses_something() {
        // (data, binary, raw bytes kept too)
        let cases: &[(&[u8], bool, bool)] = &[
            (b"one line", false, false),
            (b"two\nlines", false, false),
            (b"\x00\x01", true, false),
            (b"crlf\r\n", false, true),
            (b"not utf-8 \xff", false, true),
        ];
        for &(data, binary, raw) in cases {
            let msg = message(None, data, binary);
            assert_eq!(msg.raw.is_some(), raw, "{data:?}");
            let want = KEPT_OVERHEAD + msg.sse.len() + if raw { data.len() + 16 } else { 0 };
            assert_eq!(msg.cost(), want, "{data:?}");
        }
    }

    #[test]
    fn text_is_as_published_borrowed_where_it_can_be() {
        let cases: &[(&[u8], bool, &str, bool)] = &[
            (b"plain", false, "plain", true),
            ("价格".as_bytes(), false, "价格", true),
            (b"a\nb", false, "a\nb", false),
            (b"a\r\nb", false, "a\r\nb", true),
            (b"\x00\xff", true, "AP8=", true),
        ];
        for &(data, binary, want, borrowed) in cases {
            let msg = message(None, data, binary);
            let text = msg.text();
            assert_eq!(text, want, "{data:?}");
            assert_eq!(matches!(text, Cow::Borrowed(_)), borrowed, "{data:?}");
        }
        assert!(matches!(message(None, b"x", false).data(), Cow::Borrowed(_)), "no copy for one line");
    }

    #[test]
    fn after_id_is_the_shared_tail() {
        let msg = message(Some("e"), b"x", false);
        assert_eq!(&msg.sse[msg.after_id()..], b"event: e\ndata: x\n\n");
    }
}
