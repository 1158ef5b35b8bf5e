//! The bytes of a message on an event stream: encoded once, at publish, and
//! shared by every subscriber (SPEC §6). The choices (binary as base64, no
//! `id:` on a reset) are explained in the module doc of [`hub`](super) and
//! beside each function.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::Message;
use crate::http::response::push_u64;
use crate::sse;

/// `id: {id}\n[event: {event}\n]data: …\n\n`: the id written directly (it is
/// digits), the rest by [`sse::encode`], which splits lines and cleans the
/// event name. [`encode_multi`](super::multi::encode_multi) relies on the first line being the id.
pub(super) fn encode_sse(id: u64, event: Option<&str>, data: &[u8], binary: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"id: ");
    push_u64(out, id);
    out.push(b'\n');
    sse::encode(&sse::Event { event, data: &as_text(data, binary), ..Default::default() }, out);
}

/// The message's data as text, as SSE carries it: binary data in base64,
/// text as is (invalid UTF-8, which the publish API refuses, as U+FFFD).
/// The other text carriers (the long-poll's JSON) use it too, so all agree.
pub fn text_of(msg: &Message) -> Cow<'_, str> {
    as_text(&msg.data, msg.binary)
}

fn as_text(data: &[u8], binary: bool) -> Cow<'_, str> {
    if binary {
        BASE64.encode(data).into()
    } else {
        String::from_utf8_lossy(data)
    }
}

/// `event: reset\ndata: {oldest}\n\n`: SPEC §2, "when the gap is older than
/// history, an `event: reset` (data: the oldest id still kept) tells the
/// client it lost messages before the replay starts".
///
/// No `id:` line, on purpose. WHATWG §9.2.6: on dispatch "set the last event
/// ID string of the event source to the value of the last event ID buffer.
/// The buffer does not get reset", so an event without `id:` leaves the
/// client's position where it was. The reset is not a message of the topic
/// and has no id of its own; giving it `oldest - 1` would mark as received
/// messages the client never saw, and if the stream broke before the replay
/// arrived, the reconnect would skip the reset and the loss would go unsaid.
pub fn encode_reset(oldest: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: reset\ndata: ");
    push_u64(out, oldest);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::super::Hub;
    use super::*;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn sse_bytes_byte_for_byte() {
        // (event, data, binary, the bytes of the 3rd message of the topic)
        let cases: &[(Option<&str>, &[u8], bool, &str)] = &[
            (None, b"hello", false, "id: 3\ndata: hello\n\n"),
            (Some("price"), b"4.20", false, "id: 3\nevent: price\ndata: 4.20\n\n"),
            (None, b"a\nb\r\nc\rd", false, "id: 3\ndata: a\ndata: b\ndata: c\ndata: d\n\n"),
            (None, b"", false, "id: 3\ndata: \n\n"),
            (Some(""), b"x", false, "id: 3\ndata: x\n\n"),
            (None, "白菜价格".as_bytes(), false, "id: 3\ndata: 白菜价格\n\n"),
            (None, b"a\xffb", false, "id: 3\ndata: a\u{fffd}b\n\n"),
            (None, b"\x00\xff\n\r", true, "id: 3\ndata: AP8KDQ==\n\n"),
            (Some("blob"), b"hi", true, "id: 3\nevent: blob\ndata: aGk=\n\n"),
            (None, b"", true, "id: 3\ndata: \n\n"),
        ];
        for &(event, data, binary, want) in cases {
            let mut hub = Hub::new(5);
            hub.publish("t", None, b"1", false);
            hub.publish("t", None, b"2", false);
            let (msg, _) = hub.publish("t", event, data, binary);
            assert_eq!(text(&msg.sse), want, "{event:?} {data:?} {binary}");
            assert_eq!((&*msg.data, msg.binary, msg.id), (data, binary, 3));
            assert_eq!(msg.event.as_deref(), event.filter(|e| !e.is_empty()));
        }
    }

    #[test]
    fn text_of_is_the_sse_data() {
        let mut hub = Hub::new(5);
        let cases: &[(&[u8], bool, &str)] = &[
            (b"plain", false, "plain"),
            ("价格".as_bytes(), false, "价格"),
            (b"a\xffb", false, "a\u{fffd}b"),
            (b"\x00\xff", true, "AP8="),
        ];
        for &(data, binary, want) in cases {
            let (msg, _) = hub.publish("t", None, data, binary);
            assert_eq!(text_of(&msg), want, "{data:?} {binary}");
        }
        assert!(
            matches!(text_of(&hub.publish("t", None, b"x", false).0), Cow::Borrowed(_)),
            "no copy for text"
        );
    }

    #[test]
    fn a_line_break_in_an_event_name_cannot_forge_a_field() {
        let mut hub = Hub::new(5);
        let (msg, _) = hub.publish("t", Some("x\nid: 99"), b"d", false);
        assert_eq!(text(&msg.sse), "id: 1\nevent: x id: 99\ndata: d\n\n");
    }

    #[test]
    fn reset_bytes() {
        let mut out = Vec::new();
        encode_reset(8, &mut out);
        encode_reset(0, &mut out);
        assert_eq!(text(&out), "event: reset\ndata: 8\n\nevent: reset\ndata: 0\n\n");
    }
}
