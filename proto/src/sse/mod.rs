//! The `text/event-stream` wire format (WHATWG HTML §9.2.6, "Interpreting an
//! event stream"; §9.2.7, "Authoring notes"), sans-IO: every function appends
//! to the caller's buffer, so an event published to many subscribers is
//! encoded once and the same bytes are shared.
//!
//! Implements: `data:` (one line per line of the payload, split at CRLF, CR
//! and LF as the parser does), `id:`, `event:`, `retry:`, `:` comments, and
//! the stream's response head (SPEC §4). Field values that could break the
//! framing are made safe here, never trusted: see [`clean_field`].
//!
//! The client side, the parser of §9.2.6, is [`parse`] (the load generator
//! reads every stream with it).

pub mod parse;

pub use parse::Parser;

/// One event as the publisher gave it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Event<'a> {
    pub id: Option<&'a str>,
    pub event: Option<&'a str>,
    /// A reconnection time sent with the event, in its block (SPEC §4:
    /// "`retry:` goes in the same block as the event it comes with").
    pub retry: Option<u64>,
    pub data: &'a str,
}

/// Appends one event, ended by the blank line that dispatches it.
///
/// §9.2.6: "If the line is empty (a blank line) Dispatch the event"; lines
/// end at "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a
/// single U+000A LINE FEED (LF) character ..., or a single U+000D CARRIAGE
/// RETURN (CR) character", so each of those in the data starts a new `data:`
/// line, and the client joins them back with LF. Empty data still sends one
/// `data:` line: "If the data buffer is an empty string, set the data buffer
/// and the event type buffer to the empty string and return" — an event with
/// no data line at all would never reach the page.
pub fn encode(event: &Event<'_>, out: &mut Vec<u8>) {
    if let Some(id) = event.id {
        field(b"id", id, out);
    }
    if let Some(name) = event.event {
        field(b"event", name, out);
    }
    if let Some(ms) = event.retry {
        retry(ms, out);
    }
    for line in lines(event.data) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// `retry: MS\n`, one field line and no blank line after it. §9.2.6: "If
/// the field value consists of only ASCII digits, then interpret the field
/// value as an integer in base ten, and set the event stream's reconnection
/// time to that integer": the field takes effect as its line is read, not at
/// dispatch. So it needs no blank line of its own, and must not have one:
/// browsers ignore a blank line that ends a block with no `data:`, but
/// httpx-sse (and the MCP Python SDK on it) dispatches an empty event there
/// once an `id:` has been seen (SPEC §4). Alone it rides with whatever event
/// comes next, or with none if the stream ends first; with an event, put it
/// in the event's block ([`Event::retry`]).
pub fn retry(ms: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"retry: ");
    crate::http::response::push_u64(out, ms);
    out.push(b'\n');
}

/// `: text\n`, a comment line and no blank line after it. §9.2.7: "Legacy
/// proxy servers are known to, in certain cases, drop HTTP connections after
/// a short timeout. To protect against such proxy servers, authors can
/// include a comment line (one starting with a ':' character) every 15
/// seconds or so." §9.2.6: "If the line starts with a U+003A COLON character
/// (:) Ignore the line", so the line alone keeps the connection busy; a blank
/// line after it would end an empty block, which clients that keep the last
/// id (httpx-sse) dispatch as an event the server never sent (SPEC §4).
/// Comments go only between events, so the line never lands inside a block.
/// Line breaks in `text` become spaces.
pub fn comment(text: &str, out: &mut Vec<u8>) {
    out.push(b':');
    if !text.is_empty() {
        out.push(b' ');
        out.extend(text.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    }
    out.push(b'\n');
}

/// An event id of ours (dense per topic, plain decimal) as a client sends it
/// back in `Last-Event-ID`: ASCII digits only, within `u64`. `str::parse`
/// would also take a leading `+`, so `+2` would name event 2 on one route
/// and be refused on another; one parser keeps every route the same.
pub fn parse_id(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The header fields of an event stream response (SPEC §4): the type with
/// its charset (§9.2.6: the stream "must be encoded as UTF-8"), no caching,
/// and no buffering by nginx-style proxies (`X-Accel-Buffering: no`).
pub const STREAM_HEADERS: [(&str, &str); 2] = [("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")];
pub const CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";

/// A field whose value must stay on one line. §9.2.6: "If the field value
/// contains U+0000 NULL, then ignore the field" applies to `id`; and any
/// CR or LF would end the field early and let the rest be read as another
/// field. Such characters are replaced by a space rather than refused, so a
/// publisher's typo cannot break a stream; the publish API refuses CR/LF in
/// event names up front (SPEC §2: "a name with CR or LF is 400").
pub(crate) fn field(name: &[u8], value: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend(clean_field(value).bytes());
    out.push(b'\n');
}

/// The value as it will be sent: CR, LF and NUL replaced by spaces.
pub fn clean_field(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\r', '\n', '\0']) {
        value.replace(['\r', '\n', '\0'], " ").into()
    } else {
        value.into()
    }
}

/// The payload's lines, split as §9.2.6 splits them: CRLF, lone CR, lone LF.
/// A trailing line break yields a final empty line, as it must: the client
/// removes only the one LF it adds itself after each `data:` line.
fn lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(i) => {
                let skip = if text[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[i + skip..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(id: Option<&str>, event: Option<&str>, data: &str) -> String {
        let mut out = Vec::new();
        encode(&Event { id, event, data, retry: None }, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// A reference parser written from §9.2.6, to check what a browser would
    /// make of our bytes: (id, event type, data) per dispatched event.
    fn parse(stream: &str) -> Vec<(String, String, String)> {
        let mut events = Vec::new();
        let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
        let normalised = stream.replace("\r\n", "\n").replace('\r', "\n");
        for line in normalised.split('\n') {
            if line.is_empty() {
                if !data.is_empty() {
                    data.pop();
                    let kind = if event.is_empty() { "message".to_string() } else { event.clone() };
                    events.push((id.clone(), kind, data.clone()));
                }
                data.clear();
                event.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (name, value) = match line.split_once(':') {
                Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match name {
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "event" => event = value.to_string(),
                "id" if !value.contains('\0') => id = value.to_string(),
                _ => {}
            }
        }
        events
    }

    #[test]
    fn whatwg_examples_byte_for_byte() {
        // §9.2.6's first example: "data: YHOO\ndata: +2\ndata: 10\n\n".
        assert_eq!(enc(None, None, "YHOO\n+2\n10"), "data: YHOO\ndata: +2\ndata: 10\n\n");
        // §9.2.6's id example: the id comes with the event it names.
        assert_eq!(enc(Some("1"), None, "second event"), "id: 1\ndata: second event\n\n");
        // §9.2.7's event-type example.
        assert_eq!(enc(None, Some("add"), "73857293"), "event: add\ndata: 73857293\n\n");
    }

    #[test]
    fn data_lines_split_at_crlf_cr_and_lf() {
        let cases: &[(&str, &str)] = &[
            ("", "data: \n\n"),
            ("a", "data: a\n\n"),
            ("a\nb", "data: a\ndata: b\n\n"),
            ("a\r\nb", "data: a\ndata: b\n\n"),
            ("a\rb", "data: a\ndata: b\n\n"),
            ("a\n", "data: a\ndata: \n\n"),
            ("\r", "data: \ndata: \n\n"),
            ("a\r\n\r\nb", "data: a\ndata: \ndata: b\n\n"),
            ("a\n\rb", "data: a\ndata: \ndata: b\n\n"),
            ("白菜价格行情:4.20元", "data: 白菜价格行情:4.20元\n\n"),
            (": not a comment", "data: : not a comment\n\n"),
        ];
        for (data, want) in cases {
            assert_eq!(enc(None, None, data), *want, "{data:?}");
        }
    }

    #[test]
    fn a_browser_reads_back_exactly_what_was_sent() {
        let cases = [
            "",
            "x",
            "two\nlines",
            "crlf\r\nlines",
            "cr\rline",
            "trailing\n",
            "\n\n",
            " lead",
            "中文\r\n测试",
        ];
        for data in cases {
            let events = parse(&enc(Some("7"), Some("news"), data));
            // The client cannot tell CR, CRLF and LF apart: all come back LF.
            let want = data.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(events, vec![("7".into(), "news".into(), want)], "{data:?}");
        }
    }

    #[test]
    fn ids_and_names_never_carry_a_line_break() {
        let wire = enc(Some("1\ndata: forged"), Some("x\r\nid: 99"), "real");
        assert_eq!(wire, "id: 1 data: forged\nevent: x  id: 99\ndata: real\n\n");
        assert_eq!(parse(&wire).len(), 1);
        assert_eq!(parse(&wire)[0].2, "real");
        assert_eq!(enc(Some("a\0b"), None, "d"), "id: a b\ndata: d\n\n");
    }

    #[test]
    fn ids_are_digits_only() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("7", Some(7)),
            ("007", Some(7)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("+2", None),
            ("-1", None),
            ("", None),
            (" 2", None),
            ("2 ", None),
            ("1e3", None),
            ("0x10", None),
            ("٣", None),
        ];
        for &(id, want) in cases {
            assert_eq!(parse_id(id), want, "{id:?}");
        }
    }

    #[test]
    fn retry_and_comments_are_lines_not_blocks() {
        let mut out = Vec::new();
        retry(1000, &mut out);
        comment("", &mut out);
        comment("keep-alive\nsneaky", &mut out);
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "retry: 1000\n:\n: keep-alive sneaky\n");
        assert!(!out.windows(2).any(|w| w == b"\n\n"), "no blank line: nothing to dispatch");
        assert!(parse(&String::from_utf8(out).unwrap()).is_empty(), "neither dispatches an event");
    }

    #[test]
    fn retry_rides_in_the_events_block() {
        let mut out = Vec::new();
        encode(&Event { retry: Some(1000), data: "Connection succeeded", ..Event::default() }, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "retry: 1000\ndata: Connection succeeded\n\n");
        let mut out = Vec::new();
        encode(&Event { id: Some("6"), event: Some("e"), retry: Some(5), data: "d" }, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "id: 6\nevent: e\nretry: 5\ndata: d\n\n");
    }
}
