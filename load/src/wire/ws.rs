//! The client side of WebSocket (RFC 6455), sans-IO: the opening handshake
//! request and the accept value to check (§4.1, §4.2.2), masked client
//! frames out (§5.1-§5.3), whole server frames in (§5.2), Close bodies
//! (§5.5.1).
//!
//! [`decode`] checks what a single frame shows; rules across frames
//! (continuations, message size, UTF-8 of text) are the caller's.
//!
//! Does not implement: extensions (none is offered, so the RSV bits must be
//! 0), subprotocols, sending fragmented messages.

// Until the rest of pushwire-load uses every accessor.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pushwire_proto::ws::frame::{self, encode_header, MAX_CONTROL_PAYLOAD};
use pushwire_proto::ws::mask::unmask;

pub use pushwire_proto::ws::frame::OpCode;

/// A rule a server frame broke; each fails the connection (§7.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// §5.1: "A client MUST close a connection if it detects a masked frame."
    Masked,
    /// §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated".
    ReservedBits,
    /// §5.2: "If an unknown opcode is received, the receiving endpoint MUST
    /// _Fail the WebSocket Connection_."
    UnknownOpcode(u8),
    /// §5.5: control frames "MUST NOT be fragmented".
    FragmentedControl,
    /// §5.5: control frames "MUST have a payload length of 125 bytes or less".
    ControlTooLong,
    /// §5.2: "the minimal number of bytes MUST be used to encode the length".
    NonMinimalLength,
    /// §5.2: the 64-bit length's "most significant bit MUST be 0".
    LengthHighBit,
    /// The payload is longer than the caller's limit.
    TooLong(u64),
}

impl Error {
    /// The status code of the Close frame that answers it (§7.4.1): 1009
    /// "message that is too big for it to process", else 1002 "protocol error".
    pub fn close_code(&self) -> u16 {
        match self {
            Error::TooLong(_) => 1009,
            _ => 1002,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Masked => f.write_str("masked frame from the server"),
            Error::ReservedBits => f.write_str("reserved bits set with no extension negotiated"),
            Error::UnknownOpcode(bits) => write!(f, "unknown opcode {bits:#x}"),
            Error::FragmentedControl => f.write_str("fragmented control frame"),
            Error::ControlTooLong => f.write_str("control frame payload longer than 125 bytes"),
            Error::NonMinimalLength => f.write_str("payload length not minimally encoded"),
            Error::LengthHighBit => f.write_str("64-bit payload length with the high bit set"),
            Error::TooLong(len) => write!(f, "frame payload of {len} bytes exceeds the limit"),
        }
    }
}

impl std::error::Error for Error {}

/// Appends the opening handshake (§4.1): "The method of the request MUST be
/// GET, and the HTTP version MUST be at least 1.1", with `Host`, `Upgrade:
/// websocket`, `Connection: Upgrade`, the key and "|Sec-WebSocket-Version|.
/// The value of this header field MUST be 13."
pub fn handshake_request(host: &str, path: &str, key: &str, out: &mut Vec<u8>) {
    for part in [
        "GET ",
        path,
        " HTTP/1.1\r\nHost: ",
        host,
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
        key,
        "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
}

/// A `Sec-WebSocket-Key` derived from `seed`. §4.1: "The value of this
/// header field MUST be a nonce consisting of a randomly selected 16-byte
/// value that has been base64-encoded". The caller brings the randomness
/// (the core reads no entropy source); splitmix64 spreads it over 16 bytes,
/// and since its output is a bijection of its state, different seeds give
/// different keys.
pub fn key(seed: u64) -> String {
    let mut state = seed;
    let mut nonce = [0u8; 16];
    for half in nonce.chunks_exact_mut(8) {
        half.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    STANDARD.encode(nonce)
}

/// Vigna's splitmix64: one step of a Weyl sequence, then a mixing function.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `Sec-WebSocket-Accept` value the server must answer for `key`
/// (§4.2.2 item 5.4, computed as §1.3 says).
pub fn expected_accept(key: &str) -> String {
    pushwire_proto::ws::handshake::accept_key(key.as_bytes())
}

/// Appends one whole client frame, FIN set. §5.1: "a client MUST mask all
/// frames that it sends to the server"; §5.2: the length in the fewest bytes
/// (the library's server-side header, with the MASK bit added); §5.3: the
/// key, then the payload XORed with it.
pub fn encode(opcode: OpCode, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    debug_assert!(!opcode.is_control() || payload.len() <= MAX_CONTROL_PAYLOAD);
    let start = out.len();
    encode_header(true, opcode, payload.len(), out);
    // The server-side header leaves MASK 0; the byte after FIN/opcode holds it.
    out[start + 1] |= 0x80;
    out.extend_from_slice(&mask);
    let body = out.len();
    out.extend_from_slice(payload);
    unmask(&mut out[body..], mask, 0);
}

/// One decoded server frame; the payload borrows the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub fin: bool,
    pub opcode: OpCode,
    pub payload: &'a [u8],
}

/// Decodes the whole server frame at the front of `buf`: `Ok(None)` until
/// header and payload have arrived, then the frame and the bytes it used. A
/// broken rule is reported as soon as the bytes that show it are there, and
/// a length over `max` before its payload is awaited, so a bad header
/// never makes the caller buffer.
pub fn decode(buf: &[u8], max: u64) -> Result<Option<(Frame<'_>, usize)>, Error> {
    let Some(&b0) = buf.first() else { return Ok(None) };
    let fin = b0 & 0x80 != 0;
    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
    // meanings for non-zero values." We offer none.
    if b0 & 0x70 != 0 {
        return Err(Error::ReservedBits);
    }
    let bits = b0 & 0x0f;
    let opcode = OpCode::try_from(bits).map_err(|_| Error::UnknownOpcode(bits))?;
    // §5.5: "All control frames MUST have a payload length of 125 bytes or
    // less and MUST NOT be fragmented."
    if opcode.is_control() && !fin {
        return Err(Error::FragmentedControl);
    }

    let Some(&b1) = buf.get(1) else { return Ok(None) };
    // §5.1: "A server MUST NOT mask any frames that it sends to the client.
    // A client MUST close a connection if it detects a masked frame."
    if b1 & 0x80 != 0 {
        return Err(Error::Masked);
    }
    let len7 = b1 & 0x7f;
    if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
        return Err(Error::ControlTooLong);
    }
    // §5.2's length rules, shared with the server's decoder.
    let Some((len, at)) = frame::decode_length(buf, len7).map_err(|e| match e {
        frame::LengthError::NonMinimal => Error::NonMinimalLength,
        frame::LengthError::HighBit => Error::LengthHighBit,
    })?
    else {
        return Ok(None);
    };
    if len > max {
        return Err(Error::TooLong(len));
    }
    let end = usize::try_from(len).ok().and_then(|len| len.checked_add(at)).ok_or(Error::TooLong(len))?;
    let Some(payload) = buf.get(at..end) else { return Ok(None) };
    Ok(Some((Frame { fin, opcode, payload }, end)))
}

/// Splits a Close frame's payload into (status code, reason). §5.5.1: "If
/// there is a body, the first two bytes of the body MUST be a 2-byte
/// unsigned integer (in network byte order) representing a status code";
/// an empty body means no code (§7.1.5: "considered to be 1005"). A 1-byte
/// body breaks that rule: it reads as no code, with the byte as the reason,
/// so the caller can tell it from an empty body.
pub fn close_body(payload: &[u8]) -> (Option<u16>, &[u8]) {
    match payload.split_first_chunk::<2>() {
        Some((code, reason)) => (Some(u16::from_be_bytes(*code)), reason),
        None => (None, payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `bytes` whole, checks every proper prefix says "not yet", and
    /// that bytes after the frame are left alone.
    fn decode_split(bytes: &[u8]) -> (bool, OpCode, Vec<u8>) {
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut], u64::MAX), Ok(None), "cut {cut}");
        }
        let mut more = bytes.to_vec();
        more.extend_from_slice(&[0x81, 0x00]);
        let Ok(Some((frame, used))) = decode(&more, u64::MAX) else { panic!("{bytes:x?}") };
        assert_eq!(used, bytes.len());
        (frame.fin, frame.opcode, frame.payload.to_vec())
    }

    #[test]
    fn rfc6455_5_7_unmasked_frames_decode() {
        let hello = b"Hello".to_vec();
        #[rustfmt::skip]
        let cases: &[(&[u8], bool, OpCode, &[u8])] = &[
            // "A single-frame unmasked text message"
            (&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], true, OpCode::Text, &hello),
            // "A fragmented unmasked text message"
            (&[0x01, 0x03, 0x48, 0x65, 0x6c], false, OpCode::Text, b"Hel"),
            (&[0x80, 0x02, 0x6c, 0x6f], true, OpCode::Continuation, b"lo"),
            // "Unmasked Ping request"
            (&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], true, OpCode::Ping, &hello),
            (&[0x8a, 0x00], true, OpCode::Pong, b""),
            (&[0x88, 0x02, 0x03, 0xe8], true, OpCode::Close, &[0x03, 0xe8]),
        ];
        for &(bytes, fin, opcode, payload) in cases {
            assert_eq!(decode_split(bytes), (fin, opcode, payload.to_vec()), "{bytes:x?}");
        }
    }

    #[test]
    fn rfc6455_5_7_long_lengths() {
        // "256 bytes binary message in a single unmasked frame: 0x82 0x7E
        // 0x0100 [256 bytes of binary data]"; "64KiB binary message in a
        // single unmasked frame: 0x82 0x7F 0x0000000000010000 [65536 bytes]"
        let data: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
        let short = [&[0x82, 0x7e, 0x01, 0x00][..], &data[..256]].concat();
        assert_eq!(decode_split(&short), (true, OpCode::Binary, data[..256].to_vec()));
        let long = [&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0][..], &data].concat();
        assert_eq!(
            decode(&long, u64::MAX),
            Ok(Some((Frame { fin: true, opcode: OpCode::Binary, payload: &data }, long.len())))
        );
        assert_eq!(decode(&long[..long.len() - 1], u64::MAX), Ok(None));
        assert_eq!(decode(&long[..10], u64::MAX), Ok(None));

        // Our encoder writes the same headers, with the MASK bit and key.
        let mut out = Vec::new();
        encode(OpCode::Binary, &data[..256], [0; 4], &mut out);
        assert_eq!(out[..8], [0x82, 0xfe, 0x01, 0x00, 0, 0, 0, 0]);
        assert_eq!(out[8..], data[..256]);
        out.clear();
        encode(OpCode::Binary, &data, [0; 4], &mut out);
        assert_eq!(out[..14], [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(out.len(), 14 + 65536);
    }

    #[test]
    fn rfc6455_5_7_masked_frames_encode_byte_for_byte() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        // "A single-frame masked text message"
        let mut out = vec![0xaa];
        encode(OpCode::Text, b"Hello", mask, &mut out);
        assert_eq!(out, [0xaa, 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        // "Masked Pong response"
        out.clear();
        encode(OpCode::Pong, b"Hello", mask, &mut out);
        assert_eq!(out, [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[test]
    fn encode_uses_minimal_lengths_and_masks_the_payload() {
        let mask = [1, 2, 3, 4];
        #[rustfmt::skip]
        let cases: &[(usize, &[u8])] = &[
            (0, &[0x82, 0x80]),
            (125, &[0x82, 0xfd]),
            (126, &[0x82, 0xfe, 0x00, 0x7e]),
            (65535, &[0x82, 0xfe, 0xff, 0xff]),
            (65536, &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0]),
        ];
        for &(len, header) in cases {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = Vec::new();
            encode(OpCode::Binary, &payload, mask, &mut out);
            assert_eq!(&out[..header.len()], header, "len {len}");
            assert_eq!(out[header.len()..header.len() + 4], mask, "len {len}");
            let mut body = out[header.len() + 4..].to_vec();
            unmask(&mut body, mask, 0);
            assert_eq!(body, payload, "len {len}");
        }
        let mut out = Vec::new();
        encode(OpCode::Close, &[0x03, 0xe8], [0; 4], &mut out);
        assert_eq!(out, [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
    }

    #[test]
    fn header_rules_fail_at_the_byte_that_breaks_them() {
        #[rustfmt::skip]
        let cases: &[(&[u8], Error)] = &[
            // §5.7's masked "Hello", as a server must never send it.
            (&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], Error::Masked),
            (&[0xc1], Error::ReservedBits),
            (&[0xa1], Error::ReservedBits),
            (&[0x91], Error::ReservedBits),
            (&[0xf1], Error::ReservedBits),
            (&[0x83], Error::UnknownOpcode(0x3)),
            (&[0x87], Error::UnknownOpcode(0x7)),
            (&[0x8b], Error::UnknownOpcode(0xb)),
            (&[0x0f], Error::UnknownOpcode(0xf)),
            (&[0x08], Error::FragmentedControl),
            (&[0x09], Error::FragmentedControl),
            (&[0x0a], Error::FragmentedControl),
            (&[0x89, 0x7e], Error::ControlTooLong),
            (&[0x88, 0x7f], Error::ControlTooLong),
            (&[0x82, 0x7e, 0x00, 0x7d], Error::NonMinimalLength),
            (&[0x82, 0x7e, 0x00, 0x00], Error::NonMinimalLength),
            (&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff], Error::NonMinimalLength),
            (&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x05], Error::NonMinimalLength),
            (&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], Error::LengthHighBit),
            (&[0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Error::LengthHighBit),
        ];
        for (bytes, error) in cases {
            let decides = match error {
                Error::Masked | Error::ControlTooLong => 2,
                Error::NonMinimalLength | Error::LengthHighBit => bytes.len(),
                _ => 1,
            };
            for cut in 0..decides {
                assert_eq!(decode(&bytes[..cut], u64::MAX), Ok(None), "{bytes:x?} cut {cut}");
            }
            for end in decides..=bytes.len() {
                assert_eq!(decode(&bytes[..end], u64::MAX), Err(error.clone()), "{bytes:x?} end {end}");
            }
        }
    }

    #[test]
    fn max_bounds_the_payload_before_it_arrives() {
        assert_eq!(decode(&[0x81, 0x05], 4), Err(Error::TooLong(5)));
        assert_eq!(decode(&[0x81, 0x05], 5), Ok(None));
        assert_eq!(decode(&[0x82, 0x7e, 0x01, 0x00], 255), Err(Error::TooLong(256)));
        let huge = [0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode(&huge, 1 << 20), Err(Error::TooLong(i64::MAX as u64)));
        assert_eq!(decode(&huge, u64::MAX), Ok(None));
        assert_eq!(
            decode(b"\x81\x05Hello", 5),
            Ok(Some((Frame { fin: true, opcode: OpCode::Text, payload: b"Hello" }, 7)))
        );
    }

    #[test]
    fn handshake_request_byte_for_byte() {
        let mut out = Vec::new();
        handshake_request("server.example.com", "/chat", "dGhlIHNhbXBsZSBub25jZQ==", &mut out);
        let want = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
                    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                    Sec-WebSocket-Version: 13\r\n\r\n";
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn rfc6455_1_3_accept_key() {
        assert_eq!(expected_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn keys_are_base64_of_16_bytes_deterministic_and_distinct() {
        // splitmix64 seeded with 0 starts 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4.
        let first = [0xe220a8397b1dcdafu64.to_le_bytes(), 0x6e789e6aa1b965f4u64.to_le_bytes()].concat();
        assert_eq!(key(0), STANDARD.encode(first));
        let mut seen = std::collections::HashSet::new();
        for seed in (0..1000u64).chain([u64::MAX, 1 << 63]) {
            let k = key(seed);
            assert_eq!(k, key(seed));
            assert_eq!((k.len(), STANDARD.decode(&k).map(|b| b.len())), (24, Ok(16)), "{k}");
            assert!(seen.insert(k), "seed {seed}");
        }
    }

    #[test]
    fn close_bodies() {
        #[rustfmt::skip]
        let cases: &[(&[u8], Option<u16>, &[u8])] = &[
            (b"", None, b""),
            (&[0x03], None, &[0x03]),
            (&[0x03, 0xe8], Some(1000), b""),
            (b"\x03\xe9going away", Some(1001), b"going away"),
            (&[0xff, 0xff, 0x00], Some(65535), &[0x00]),
        ];
        for &(payload, code, reason) in cases {
            assert_eq!(close_body(payload), (code, reason), "{payload:x?}");
        }
    }

    #[test]
    fn errors_display_and_close_codes() {
        #[rustfmt::skip]
        let cases: &[(Error, &str, u16)] = &[
            (Error::Masked, "masked frame from the server", 1002),
            (Error::ReservedBits, "reserved bits set with no extension negotiated", 1002),
            (Error::UnknownOpcode(0xb), "unknown opcode 0xb", 1002),
            (Error::FragmentedControl, "fragmented control frame", 1002),
            (Error::ControlTooLong, "control frame payload longer than 125 bytes", 1002),
            (Error::NonMinimalLength, "payload length not minimally encoded", 1002),
            (Error::LengthHighBit, "64-bit payload length with the high bit set", 1002),
            (Error::TooLong(70000), "frame payload of 70000 bytes exceeds the limit", 1009),
        ];
        for (error, text, code) in cases {
            assert_eq!((error.to_string().as_str(), error.close_code()), (*text, *code));
        }
    }
}
