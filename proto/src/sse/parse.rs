//! The client side of Server-Sent Events: the `text/event-stream` parser of
//! WHATWG HTML §9.2.6 ("Interpreting an event stream"), sans-IO: bytes in,
//! events out through a callback that borrows the parser's buffers.
//!
//! Implements the whole algorithm: one leading BOM stripped, CRLF/LF/CR line
//! ends (a CR ending one feed and an LF starting the next are one line end),
//! comments, `data`, `event`, `id` (ignored when it contains U+0000),
//! `retry` (ASCII digits only), dispatch on a blank line, UTF-8 decoding with
//! U+FFFD for invalid sequences.
//!
//! Does not implement the EventSource parts that are not parsing:
//! reconnection, the `Last-Event-ID` request header, origin checks. An event
//! left unfinished when the stream ends is never dispatched, as the spec says,
//! so there is no `finish`.
//!
//! Cost: whole lines are found with a slice search in the caller's bytes and
//! parsed in place; only a line cut by the end of a feed is copied. Buffers
//! are cleared, never freed, so a steady stream allocates nothing.

use std::borrow::Cow;

/// UTF-8 of U+FEFF. §9.2.6: "One leading U+FEFF BYTE ORDER MARK character
/// must be ignored if any are present."
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event; the strings borrow the parser until the callback
/// returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event type: "message" when the event had no (or an empty) `event`
    /// field.
    pub event: &'a str,
    pub data: &'a str,
    /// The last event ID set by an `id` field of this event, if any.
    pub id: Option<&'a str>,
}

/// The event-stream parser: a partial line and the event being built.
#[derive(Debug, Default)]
pub struct Parser {
    /// The bytes of a line cut by the end of the last feed.
    partial: Vec<u8>,
    /// The next line is the stream's first, where the BOM may be.
    started: bool,
    /// The last line ended with a CR, so an LF that comes next ends nothing.
    after_cr: bool,
    /// §9.2.6 "data buffer".
    data: String,
    /// §9.2.6 "event type buffer".
    event_type: String,
    /// §9.2.6 "last event ID buffer".
    last_event_id: String,
    /// An `id` field was processed since the last blank line.
    id_in_event: bool,
    comments: u64,
    retry: Option<u64>,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Comment lines seen (lines starting with ':').
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// The value of the last valid `retry` field, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The last event ID buffer: it survives dispatch, as the spec says.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Bytes held for an unfinished line and event. The spec sets no limit;
    /// a caller that bounds memory checks this after each feed and drops a
    /// stream that never ends its lines or events.
    pub fn buffered(&self) -> usize {
        self.partial.len() + self.data.len() + self.event_type.len()
    }

    /// Feeds bytes of the stream (after any transfer decoding), calling
    /// `on_event` for each event dispatched.
    pub fn feed(&mut self, bytes: &[u8], mut on_event: impl FnMut(Event<'_>)) {
        let mut rest = bytes;
        // §9.2.6: "end-of-line = ( cr lf / cr / lf )": an LF right after a
        // CR belongs to it, even when a feed boundary falls between them.
        if self.after_cr {
            if let Some((&first, tail)) = rest.split_first() {
                self.after_cr = false;
                if first == b'\n' {
                    rest = tail;
                }
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
            let (line, tail) = rest.split_at(end);
            rest = match tail {
                [b'\r', b'\n', after @ ..] => after,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, after @ ..] => after,
                [] => &[],
            };
            if self.partial.is_empty() {
                self.line(line, &mut on_event);
            } else {
                // Taken out and put back, so its capacity is kept.
                let mut joined = std::mem::take(&mut self.partial);
                joined.extend_from_slice(line);
                self.line(&joined, &mut on_event);
                joined.clear();
                self.partial = joined;
            }
        }
        self.partial.extend_from_slice(rest);
    }

    /// Processes one line, without its end. Field names and the separators
    /// are ASCII, which UTF-8 never uses inside a multi-byte sequence, so
    /// the line is split as bytes and only values are decoded.
    fn line(&mut self, mut line: &[u8], on_event: &mut impl FnMut(Event<'_>)) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        // "If the line is empty (a blank line): Dispatch the event".
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        // "If the line starts with a U+003A COLON character (:): Ignore the
        // line."
        if line.first() == Some(&b':') {
            self.comments += 1;
            return;
        }
        // "If the line contains a U+003A COLON character (:): Collect the
        // characters on the line before the first U+003A COLON character (:),
        // and let field be that string. Collect the characters on the line
        // after the first U+003A COLON character (:), and let value be that
        // string. If value starts with a U+0020 SPACE character, remove it
        // from value." Otherwise: "using the whole line as the field name,
        // and the empty string as the field value."
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let (field, value) = line.split_at(colon);
                let value = value.get(1..).unwrap_or_default();
                (field, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            // "Append the field value to the data buffer, then append a
            // single U+000A LINE FEED (LF) character to the data buffer."
            b"data" => {
                self.data.push_str(&decode(value));
                self.data.push('\n');
            }
            // "Set the event type buffer to the field value."
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&decode(value));
            }
            // "If the field value does not contain U+0000 NULL, then set the
            // last event ID buffer to the field value. Otherwise, ignore the
            // field." (UTF-8 encodes U+0000 as the byte 0 and nothing else.)
            b"id" if !value.contains(&0) => {
                self.last_event_id.clear();
                self.last_event_id.push_str(&decode(value));
                self.id_in_event = true;
            }
            // "If the field value consists of only ASCII digits, then
            // interpret the field value as an integer in base ten, and set the
            // event stream's reconnection time to that integer. Otherwise,
            // ignore the field." An empty value has no integer to set; one
            // past u64 saturates, the nearest we can hold.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms =
                    value.iter().fold(0u64, |n, &d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')));
                self.retry = Some(ms);
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
    }

    /// §9.2.6 "dispatch the event".
    fn dispatch(&mut self, on_event: &mut impl FnMut(Event<'_>)) {
        let id_in_event = std::mem::take(&mut self.id_in_event);
        // "If the data buffer is an empty string, set the data buffer and the
        // event type buffer to the empty string and return."
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        // "If the data buffer's last character is a U+000A LINE FEED (LF)
        // character, then remove the last character from the data buffer."
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        // "Initialize event's type attribute to "message" ... If the event
        // type buffer has a value other than the empty string, change the type
        // of the newly created event to equal the value of the event type
        // buffer."
        let event = if self.event_type.is_empty() { "message" } else { &self.event_type };
        let id = id_in_event.then_some(self.last_event_id.as_str());
        on_event(Event { event, data: &self.data, id });
        // "Set the data buffer and the event type buffer to the empty string."
        self.data.clear();
        self.event_type.clear();
    }
}

/// "UTF-8 decode": invalid sequences become U+FFFD. Borrows when the bytes
/// are valid, which is every time for a well-behaved server.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owned [`Event`]: (type, data, id).
    type Owned = (String, String, Option<String>);

    fn collect(parser: &mut Parser, bytes: &[u8], events: &mut Vec<Owned>) {
        parser.feed(bytes, |e| events.push((e.event.into(), e.data.into(), e.id.map(Into::into))));
    }

    /// Parses `stream` whole, then split in two at every byte, then one byte
    /// at a time; every way must give the same events and state.
    fn parse(stream: &[u8]) -> (Vec<Owned>, Parser) {
        let mut whole = Parser::new();
        let mut want = Vec::new();
        collect(&mut whole, stream, &mut want);
        let state = |p: &Parser| (p.comments(), p.retry(), p.last_event_id().to_owned(), p.buffered());
        for cut in 0..=stream.len() {
            let (mut p, mut got) = (Parser::new(), Vec::new());
            collect(&mut p, &stream[..cut], &mut got);
            collect(&mut p, &stream[cut..], &mut got);
            assert_eq!(got, want, "{stream:?} cut {cut}");
            assert_eq!(state(&p), state(&whole), "{stream:?} cut {cut}");
        }
        let (mut p, mut got) = (Parser::new(), Vec::new());
        for byte in stream {
            collect(&mut p, std::slice::from_ref(byte), &mut got);
            collect(&mut p, b"", &mut got);
        }
        assert_eq!(got, want, "{stream:?} byte by byte");
        assert_eq!(state(&p), state(&whole), "{stream:?} byte by byte");
        (want, whole)
    }

    fn events(stream: &str) -> Vec<Owned> {
        parse(stream.as_bytes()).0
    }

    fn ev(event: &str, data: &str, id: Option<&str>) -> Owned {
        (event.into(), data.into(), id.map(Into::into))
    }

    fn msg(data: &str) -> Owned {
        ev("message", data, None)
    }

    #[test]
    fn whatwg_examples() {
        // §9.2.5: "data: YHOO / data: +2 / data: 10" is one message.
        assert_eq!(events("data: YHOO\ndata: +2\ndata: 10\n\n"), [msg("YHOO\n+2\n10")]);
        // "The first block has just a comment, and will fire nothing. The
        // second block has two fields with names "data" and "id"
        // respectively; an event will be fired for this block, with the data
        // "first event", and will then set the last event ID to "1" [...]
        // The third block fires an event with data "second event", and also
        // has an "id" field, this time with no value, which resets the last
        // event ID to the empty string [...] The last block just fires an
        // event with the data " third event" (with a single leading space
        // character)."
        let stream =
            ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
        let (got, parser) = parse(stream.as_bytes());
        assert_eq!(
            got,
            [
                ev("message", "first event", Some("1")),
                ev("message", "second event", Some("")),
                msg(" third event")
            ]
        );
        assert_eq!((parser.comments(), parser.last_event_id()), (1, ""));
        // "The first block fires events with the data set to the empty
        // string, as would the last block if it was followed by a blank
        // line. The middle block fires an event with the data set to a single
        // newline character. The last block is discarded because it is not
        // followed by a blank line."
        assert_eq!(events("data\n\ndata\ndata\n\ndata:"), [msg(""), msg("\n")]);
        // "The following stream fires two identical events".
        assert_eq!(events("data:test\n\ndata: test\n\n"), [msg("test"), msg("test")]);
    }

    #[test]
    fn line_ends_crlf_lf_cr_mixed() {
        let want = [msg("a\nb"), msg("c")];
        for stream in [
            "data: a\ndata: b\n\ndata: c\n\n",
            "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
            "data: a\rdata: b\r\rdata: c\r\r",
            "data: a\rdata: b\r\n\ndata: c\n\r",
        ] {
            assert_eq!(events(stream), want, "{stream:?}");
        }
        // "\n\r" is two line ends, "\r\n" one: CR LF LF is a blank line.
        assert_eq!(events("data: x\r\n"), []);
        assert_eq!(events("data: x\r\n\n"), [msg("x")]);
        assert_eq!(events("data: x\n\r"), [msg("x")]);
    }

    #[test]
    fn cr_at_the_end_of_a_feed_then_lf_is_one_line_end() {
        let (mut p, mut got) = (Parser::new(), Vec::new());
        collect(&mut p, b"data: a\r", &mut got);
        collect(&mut p, b"", &mut got);
        collect(&mut p, b"\ndata: b\r", &mut got);
        assert_eq!(got, []);
        collect(&mut p, b"\n", &mut got);
        assert_eq!(got, []);
        collect(&mut p, b"\r", &mut got);
        assert_eq!(got, [msg("a\nb")]);
        // The CR that dispatched is followed by a non-LF: nothing skipped.
        collect(&mut p, b"data: c\n\n", &mut got);
        assert_eq!(got, [msg("a\nb"), msg("c")]);
    }

    #[test]
    fn fields() {
        type Want = &'static [(&'static str, &'static str, Option<&'static str>)];
        #[rustfmt::skip]
        let cases: &[(&str, Want)] = &[
            ("data:x\n\n", &[("message", "x", None)]),
            ("data:  x \n\n", &[("message", " x ", None)]),
            ("data\n\n", &[("message", "", None)]),
            ("data:\n\n", &[("message", "", None)]),
            ("data: a:b: c\n\n", &[("message", "a:b: c", None)]),
            ("Data: x\n\n", &[]),
            ("data : x\n\n", &[]),
            (" data: x\n\n", &[]),
            ("event: ping\ndata: x\n\n", &[("ping", "x", None)]),
            ("data: x\nevent: a\nevent: b\n\n", &[("b", "x", None)]),
            ("event:\ndata: x\n\n", &[("message", "x", None)]),
            ("event\ndata: x\n\n", &[("message", "x", None)]),
            ("event: a\n\ndata: x\n\n", &[("message", "x", None)]),
            ("event: a\ndata: x\n\ndata: y\n\n", &[("a", "x", None), ("message", "y", None)]),
            ("id: 7\ndata: x\n\ndata: y\n\n", &[("message", "x", Some("7")), ("message", "y", None)]),
            ("id: 7\n\ndata: y\n\n", &[("message", "y", None)]),
            ("id: 1\nid: 2\ndata: x\n\n", &[("message", "x", Some("2"))]),
            ("id: 1\nid: 2\0\ndata: x\n\n", &[("message", "x", Some("1"))]),
            ("id: \0\ndata: x\n\n", &[("message", "x", None)]),
            ("foo: bar\ndata: x\nretry\n\n", &[("message", "x", None)]),
            (": comment\n:\ndata: x\n\n", &[("message", "x", None)]),
            ("data: x\n: not a blank line\n\n", &[("message", "x", None)]),
        ];
        for &(stream, want) in cases {
            let want: Vec<Owned> = want.iter().map(|&(e, d, i)| ev(e, d, i)).collect();
            assert_eq!(events(stream), want, "{stream:?}");
        }
    }

    #[test]
    fn state_after_streams() {
        #[rustfmt::skip]
        let cases: &[(&str, u64, Option<u64>, &str)] = &[
            ("", 0, None, ""),
            (": a\n: b\n:\n\n", 3, None, ""),
            ("retry: 3000\n", 0, Some(3000), ""),
            ("retry:3000\n", 0, Some(3000), ""),
            ("retry: 10\nretry: 20\n", 0, Some(20), ""),
            ("retry: 10\nretry: 2a\n", 0, Some(10), ""),
            ("retry: 10\nretry:\n", 0, Some(10), ""),
            ("retry: 10\nretry\n", 0, Some(10), ""),
            ("retry: -1\n", 0, None, ""),
            ("retry: 1.5\n", 0, None, ""),
            ("retry:  5\n", 0, None, ""),
            ("retry: 5 \n", 0, None, ""),
            ("retry: 007\n", 0, Some(7), ""),
            ("retry: 99999999999999999999999\n", 0, Some(u64::MAX), ""),
            ("id: 5\n", 0, None, "5"),
            ("id: 5\n\n", 0, None, "5"),
            ("id: 5\ndata: x\n\ndata: y\n\n", 0, None, "5"),
            ("id: 5\nid: a\0b\n", 0, None, "5"),
            ("id: 5\nid\n", 0, None, ""),
        ];
        for &(stream, comments, retry, id) in cases {
            let (_, p) = parse(stream.as_bytes());
            assert_eq!((p.comments(), p.retry(), p.last_event_id()), (comments, retry, id), "{stream:?}");
        }
    }

    #[test]
    fn one_leading_bom_is_stripped() {
        assert_eq!(parse(b"\xEF\xBB\xBFdata: x\n\n").0, [msg("x")]);
        assert_eq!(parse(b"\xEF\xBB\xBF\ndata: x\n\n").0, [msg("x")]);
        // Only one: a second BOM is part of the first field's name.
        assert_eq!(parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n").0, [msg("y")]);
        // Only at the start of the stream: later, a BOM line is a field named
        // U+FEFF, not a blank line.
        assert_eq!(parse(b"data: x\n\xEF\xBB\xBF\ndata: y\n\n").0, [msg("x\ny")]);
        assert_eq!(parse(b"data: \xEF\xBB\xBFx\n\n").0, [msg("\u{feff}x")]);
    }

    #[test]
    fn utf8_whole_split_and_invalid() {
        let (got, p) =
            parse("id: \u{e9}t\u{e9}\nevent: \u{1F600}\ndata: \u{65e5}\u{672c} \u{1F4A9}\n\n".as_bytes());
        assert_eq!(got, [ev("\u{1F600}", "\u{65e5}\u{672c} \u{1F4A9}", Some("\u{e9}t\u{e9}"))]);
        assert_eq!(p.last_event_id(), "\u{e9}t\u{e9}");
        #[rustfmt::skip]
        let cases: &[(&[u8], &str)] = &[
            (b"data: \xFF\n\n", "\u{FFFD}"),
            (b"data: a\xE2\x82\n\n", "a\u{FFFD}"),
            (b"data: \xE2\x82:x\n\n", "\u{FFFD}:x"),
            (b"data: \xC0\xAF\n\n", "\u{FFFD}\u{FFFD}"),
            (b"data: \xED\xA0\x80\n\n", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"data: \xF0\x9F\x98\r\n\n", "\u{FFFD}"),
        ];
        for &(stream, data) in cases {
            assert_eq!(parse(stream).0, [msg(data)], "{stream:?}");
        }
    }

    #[test]
    fn an_unfinished_event_waits_and_is_buffered() {
        let (mut p, mut got) = (Parser::new(), Vec::new());
        collect(&mut p, b"event: e\ndata: abc\ndata: de", &mut got);
        // "e", "abc\n" and the cut line "data: de".
        assert_eq!((got.len(), p.buffered()), (0, 1 + 4 + 8));
        collect(&mut p, b"f\n\n", &mut got);
        assert_eq!((got, p.buffered()), (vec![ev("e", "abc\ndef", None)], 0));
    }

    #[test]
    fn many_events_in_one_feed_reuse_the_buffers() {
        let stream: String = (0..1000).map(|i| format!("id: {i}\ndata: {i}\n\n")).collect();
        let (mut p, mut count) = (Parser::new(), 0);
        p.feed(stream.as_bytes(), |e| {
            assert_eq!((e.event, e.data, e.id), ("message", count.to_string().as_str(), Some(e.data)));
            count += 1;
        });
        assert_eq!((count, p.last_event_id(), p.buffered()), (1000, "999", 0));
    }
}
