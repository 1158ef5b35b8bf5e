//! The Close frame's body (RFC 6455 §5.5.1) and its status codes (§7.4).
//!
//! Which received codes are valid: the codes RFC 6455 §7.4.1 defines for use
//! in a Close frame (1000-1003, 1007-1011), the three IANA has registered
//! since (1012 Service Restart, 1013 Try Again Later, 1014 Bad Gateway: §7.4.2
//! reserves 1000-2999 for "extensions specified in a permanent and readily
//! available public specification", and the IANA registry is where they are
//! defined), and the application ranges 3000-4999. Everything else is
//! refused with 1002: 0-999 ("not used"), 1004 ("Reserved"), 1005, 1006 and
//! 1015 (each "MUST NOT be set as a status code in a Close control frame by
//! an endpoint"), unassigned 1016-2999, and 5000 and up (no range at all).
//!
//! This matches the Autobahn|Testsuite as it stands: case 7.7.x sends the
//! valid codes 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000,
//! 3999, 4000, 4999 and case 7.9.x the invalid 0, 999, 1004, 1005, 1006,
//! 1016, 1100, 2000, 2999. (Older releases also listed 1012-1015 as invalid;
//! 1012-1013 were dropped after testsuite issue #52 and 1014-1015 by PR #89.
//! A Docker image built before that fix fails case 7.9.6 (1014) here: its
//! list is out of date, not this rule.)

use super::error::WsError;

/// §7.4.1: "1000 indicates a normal closure, meaning that the purpose for
/// which the connection was established has been fulfilled."
pub const NORMAL: u16 = 1000;
/// §7.4.1: "1001 indicates that an endpoint is "going away", such as a server
/// going down" (SPEC §1: every WebSocket gets it when the server drains).
pub const GOING_AWAY: u16 = 1001;
/// §7.4.1: "1002 indicates that an endpoint is terminating the connection due
/// to a protocol error."
pub const PROTOCOL_ERROR: u16 = 1002;
/// §7.4.1: "1007 indicates that an endpoint is terminating the connection
/// because it has received data within a message that was not consistent
/// with the type of the message (e.g., non-UTF-8 \[RFC3629\] data within a text
/// message)."
pub const INVALID_PAYLOAD: u16 = 1007;
/// §7.4.1: "1008 indicates that an endpoint is terminating the connection
/// because it has received a message that violates its policy. This is a
/// generic status code that can be returned when there is no other more
/// suitable status code (e.g., 1003 or 1009)". Ours: a message not finished
/// within `--message-timeout` of its first byte.
pub const POLICY_VIOLATION: u16 = 1008;
/// §7.4.1: "1009 indicates that an endpoint is terminating the connection
/// because it has received a message that is too big for it to process."
pub const TOO_BIG: u16 = 1009;
/// §7.4.1: "1011 indicates that a server is terminating the connection
/// because it encountered an unexpected condition".
pub const INTERNAL_ERROR: u16 = 1011;
/// IANA "WebSocket Close Code Number Registry": 1012 Service Restart. SPEC §2
/// closes a socket with it when its `?lastEventId=` cannot be replayed
/// without a gap: the client is to resubscribe without it (a socket has no
/// in-band `event: reset`).
pub const SERVICE_RESTART: u16 = 1012;
/// IANA "WebSocket Close Code Number Registry": 1013 Try Again Later. SPEC §5
/// closes a slow consumer (its queue over `--max-queue`) with it.
pub const TRY_AGAIN_LATER: u16 = 1013;

/// Whether a peer may send `code` in a Close frame (see the module doc for
/// the list and why).
pub fn valid_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Reads a Close frame's (unmasked) payload: `None` for an empty body, else
/// the status code and the reason.
///
/// RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST
/// be a 2-byte unsigned integer (in network byte order) representing a status
/// code with value /code/ defined in Section 7.4. Following the 2-byte
/// integer, the body MAY contain UTF-8-encoded data with value /reason/".
pub fn parse_close(payload: &[u8]) -> Result<Option<(u16, &str)>, WsError> {
    let (code, reason) = match payload {
        [] => return Ok(None),
        [_] => return Err(WsError::CloseTooShort),
        [hi, lo, reason @ ..] => (u16::from_be_bytes([*hi, *lo]), reason),
    };
    if !valid_code(code) {
        return Err(WsError::BadCloseCode(code));
    }
    // §8.1: a byte stream to be interpreted as UTF-8 that is not "MUST _Fail
    // the WebSocket Connection_" (Autobahn 7.5.1 expects 1007 here).
    let reason = std::str::from_utf8(reason).map_err(|_| WsError::InvalidUtf8)?;
    Ok(Some((code, reason)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Autobahn 7.7.x: "Send close with valid close code".
    const AUTOBAHN_VALID: [u16; 13] =
        [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
    /// Autobahn 7.9.x: "Send close with invalid close code".
    const AUTOBAHN_INVALID: [u16; 9] = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

    #[test]
    fn autobahn_valid_codes() {
        for code in AUTOBAHN_VALID {
            assert!(valid_code(code), "{code}");
        }
    }

    #[test]
    fn autobahn_invalid_codes() {
        for code in AUTOBAHN_INVALID {
            assert!(!valid_code(code), "{code}");
        }
    }

    #[test]
    fn iana_registered_codes_are_valid_and_1015_is_not() {
        for (code, valid) in [(1012, true), (1013, true), (1014, true), (1015, false), (5000, false)] {
            assert_eq!(valid_code(code), valid, "{code}");
        }
    }

    #[test]
    fn every_code_against_the_ranges() {
        for code in 0..=u16::MAX {
            let want = (1000..=1003).contains(&code)
                || (1007..=1014).contains(&code)
                || (3000..=4999).contains(&code);
            assert_eq!(valid_code(code), want, "{code}");
        }
    }

    #[test]
    fn parse_close_table() {
        type Want = Result<Option<(u16, &'static str)>, WsError>;
        let cases: &[(&[u8], Want)] = &[
            (b"", Ok(None)),
            (b"\x03", Err(WsError::CloseTooShort)),
            (b"\x03\xe8", Ok(Some((1000, "")))),
            (b"\x03\xe8bye", Ok(Some((1000, "bye")))),
            (b"\x0f\xa0\xce\xba\xe1\xbd\xb9", Ok(Some((4000, "\u{3ba}\u{1f79}")))),
            (b"\x03\xe9", Ok(Some((1001, "")))),
            (b"\x03\xed", Err(WsError::BadCloseCode(1005))),
            (b"\x00\x00", Err(WsError::BadCloseCode(0))),
            (b"\x13\x88", Err(WsError::BadCloseCode(5000))),
            (b"\xff\xff", Err(WsError::BadCloseCode(65535))),
            (b"\x03\xe8\xff", Err(WsError::InvalidUtf8)),
            // Autobahn 7.5.1: a reason with an encoded surrogate (ED A0 80).
            (
                b"\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
                Err(WsError::InvalidUtf8),
            ),
            // A bad code is reported before a bad reason.
            (b"\x03\xed\xff", Err(WsError::BadCloseCode(1005))),
        ];
        for (payload, want) in cases {
            assert_eq!(&parse_close(payload), want, "{payload:?}");
        }
    }

    #[test]
    fn close_errors_answer_1002_or_1007() {
        assert_eq!(parse_close(b"\x03").unwrap_err().close_code(), 1002);
        assert_eq!(parse_close(b"\x03\xec").unwrap_err().close_code(), 1002);
        assert_eq!(parse_close(b"\x03\xe8\xc0\xaf").unwrap_err().close_code(), 1007);
    }
}
