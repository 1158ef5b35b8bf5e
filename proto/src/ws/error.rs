//! Every way a peer can break RFC 6455 after the handshake, or pass one of
//! our limits (§10.4): one variant per violated rule or limit, each knowing
//! the close code it is answered with (§7.4.1) and a reason short enough for
//! a Close frame.
//!
//! RFC 6455 §7.1.7: when it must _Fail the WebSocket Connection_, "the
//! endpoint SHOULD send a Close frame with an appropriate status code
//! (Section 7.4) before proceeding to _Close the WebSocket Connection_": the
//! driver sends `encode_close(e.close_code(), e.reason(), ..)` and closes.

use std::fmt;

use super::close::{INVALID_PAYLOAD, POLICY_VIOLATION, PROTOCOL_ERROR, TOO_BIG};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WsError {
    /// §5.2: RSV1-3 set, and no extension was negotiated.
    ReservedBits,
    /// §5.2: opcode %x3-7 or %xB-F.
    UnknownOpcode(u8),
    /// §5.1: a client frame without the MASK bit.
    UnmaskedFrame,
    /// §5.1, on the client's side: a server frame with the MASK bit.
    MaskedFrame,
    /// §5.5: a control frame with a payload over 125 bytes.
    ControlTooLong,
    /// §5.5: a control frame without FIN.
    FragmentedControl,
    /// §5.2: a payload length not in its shortest encoding.
    NonMinimalLength,
    /// §5.2: a 64-bit payload length with its most significant bit set.
    LengthHighBit,
    /// §5.4: a continuation frame with no message in progress.
    UnexpectedContinuation,
    /// §5.4: a new Text or Binary frame while a fragmented message is in progress.
    ExpectedContinuation,
    /// §8.1: a text message or close reason that is not UTF-8.
    InvalidUtf8,
    /// §10.4: a message over the configured `--max-message`.
    MessageTooLarge,
    /// §10.4: holding more of this message would take the input held by all
    /// sockets together past `--max-ws-buffered`. 1009 (§7.4.1: "a message
    /// that is too big for it to process"): the message is too big for what
    /// the server can hold now. Not 1013, which SPEC §5 gives a client that
    /// reads too slowly, and not 1008: the peer broke no rule of ours.
    BufferFull,
    /// A message (or a frame) not finished within `--message-timeout` of its
    /// first byte. 1008 (§7.4.1: "a message that violates its policy", "when
    /// there is no other more suitable status code"): the message is not too
    /// big, it is too slow, and 1008 is the code for a policy of ours.
    MessageTimeout,
    /// §7.4: a Close frame carrying a status code no endpoint may send.
    BadCloseCode(u16),
    /// §5.5.1: a Close body of one byte (a status code takes two).
    CloseTooShort,
}

impl WsError {
    /// The status code of the Close frame that answers this error (§7.4.1).
    pub fn close_code(&self) -> u16 {
        use WsError::*;
        match self {
            InvalidUtf8 => INVALID_PAYLOAD,
            MessageTooLarge | BufferFull => TOO_BIG,
            MessageTimeout => POLICY_VIOLATION,
            ReservedBits
            | UnknownOpcode(_)
            | UnmaskedFrame
            | MaskedFrame
            | ControlTooLong
            | FragmentedControl
            | NonMinimalLength
            | LengthHighBit
            | UnexpectedContinuation
            | ExpectedContinuation
            | BadCloseCode(_)
            | CloseTooShort => PROTOCOL_ERROR,
        }
    }

    /// The reason sent in the Close frame: ASCII, and at most 123 bytes so
    /// that it fits beside the status code in a control frame (§5.5).
    pub fn reason(&self) -> &'static str {
        use WsError::*;
        match self {
            ReservedBits => "reserved bits set without a negotiated extension",
            UnknownOpcode(_) => "unknown opcode",
            UnmaskedFrame => "client frames must be masked",
            MaskedFrame => "server frames must not be masked",
            ControlTooLong => "control frame payload over 125 bytes",
            FragmentedControl => "control frames must not be fragmented",
            NonMinimalLength => "payload length not minimally encoded",
            LengthHighBit => "64-bit payload length with the high bit set",
            UnexpectedContinuation => "continuation frame without a message in progress",
            ExpectedContinuation => "new message before the fragmented one ended",
            InvalidUtf8 => "invalid UTF-8 in text message or close reason",
            MessageTooLarge => "message exceeds the size limit",
            BufferFull => "server holds too much unfinished input now; try again later",
            MessageTimeout => "message not finished in time",
            BadCloseCode(_) => "invalid close status code",
            CloseTooShort => "close payload of one byte",
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.close_code(), self.reason())?;
        match self {
            WsError::UnknownOpcode(op) => write!(f, " ({op:#x})"),
            WsError::BadCloseCode(code) => write!(f, " ({code})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for WsError {}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [WsError; 16] = [
        WsError::ReservedBits,
        WsError::UnknownOpcode(3),
        WsError::UnmaskedFrame,
        WsError::MaskedFrame,
        WsError::ControlTooLong,
        WsError::FragmentedControl,
        WsError::NonMinimalLength,
        WsError::LengthHighBit,
        WsError::UnexpectedContinuation,
        WsError::ExpectedContinuation,
        WsError::InvalidUtf8,
        WsError::MessageTooLarge,
        WsError::BufferFull,
        WsError::MessageTimeout,
        WsError::BadCloseCode(1005),
        WsError::CloseTooShort,
    ];

    #[test]
    fn reasons_fit_a_close_frame() {
        for e in ALL {
            assert!(e.reason().len() <= 123, "{e:?}");
            assert!(e.reason().is_ascii(), "{e:?}");
        }
    }

    #[test]
    fn close_codes_by_kind() {
        for e in ALL {
            let want = match e {
                WsError::InvalidUtf8 => 1007,
                WsError::MessageTooLarge | WsError::BufferFull => 1009,
                WsError::MessageTimeout => 1008,
                _ => 1002,
            };
            assert_eq!(e.close_code(), want, "{e:?}");
        }
    }

    #[test]
    fn display_names_code_reason_and_value() {
        assert_eq!(WsError::UnknownOpcode(0xb).to_string(), "1002 unknown opcode (0xb)");
        assert_eq!(WsError::BadCloseCode(999).to_string(), "1002 invalid close status code (999)");
    }
}
