//! The `event: reset` that tells a resuming stream it lost messages. (A
//! message's own bytes are made once, in hub/message.rs.)

use crate::http::response::push_u64;

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
    use super::*;

    #[test]
    fn reset_bytes() {
        let mut out = Vec::new();
        encode_reset(8, &mut out);
        encode_reset(0, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), "event: reset\ndata: 8\n\nevent: reset\ndata: 0\n\n");
    }
}
