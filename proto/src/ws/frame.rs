//! The frame header (RFC 6455 §5.2), decoded strictly from client bytes and
//! encoded for server frames.
//!
//! ```text
//!   0                   1                   2                   3
//!   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!  +-+-+-+-+-------+-+-------------+-------------------------------+
//!  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//!  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//!  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//!  | |1|2|3|       |K|             |                               |
//!  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//!  |     Extended payload length continued, if payload len == 127  |
//!  + - - - - - - - - - - - - - - - +-------------------------------+
//!  |                               |Masking-key, if MASK set to 1  |
//!  +-------------------------------+-------------------------------+
//! ```
//!
//! [`decode_header`] checks every rule that the header alone decides, in the
//! order of the bytes that decide them, and reports a violation as soon as
//! the bytes that show it have arrived. Rules that need the connection's
//! state (fragmentation, message size) are the [`Receiver`]'s.
//!
//! Both ends speak the same framing but mask in one direction only (§5.1,
//! §5.3), so the decoder is told which end it reads for ([`Role`], as
//! tungstenite's): the server ([`decode_header`], its hot path) refuses
//! unmasked frames, the client ([`decode_header_as`]`(Role::Client, ..)`)
//! refuses masked ones. A client's frames are encoded by [`encode_masked`],
//! with a masking key the caller brings: this crate reads no entropy source.
//!
//! [`Receiver`]: super::session::Receiver

use super::error::WsError;
use super::mask::unmask;

/// §5.5: "All control frames MUST have a payload length of 125 bytes or less
/// and MUST NOT be fragmented."
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The longest header: 2 bytes, an 8-byte length, a 4-byte masking key.
pub const MAX_HEADER: usize = 14;

/// §5.2 "Opcode: 4 bits". The reserved values are not representable: they
/// are refused when decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpCode {
    /// %x0 denotes a continuation frame
    Continuation,
    /// %x1 denotes a text frame
    Text,
    /// %x2 denotes a binary frame
    Binary,
    /// %x8 denotes a connection close
    Close,
    /// %x9 denotes a ping
    Ping,
    /// %xA denotes a pong
    Pong,
}

impl OpCode {
    /// §5.5: "Control frames are identified by opcodes where the most
    /// significant bit of the opcode is 1."
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xa,
        }
    }
}

impl TryFrom<u8> for OpCode {
    type Error = WsError;

    /// §5.2: "%x3-7 are reserved for further non-control frames", "%xB-F are
    /// reserved for further control frames"; "If an unknown opcode is
    /// received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    fn try_from(bits: u8) -> Result<OpCode, WsError> {
        Ok(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xa => OpCode::Pong,
            other => return Err(WsError::UnknownOpcode(other)),
        })
    }
}

/// Which end of the connection this is: it decides which way frames are
/// masked (§5.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// Reads masked frames, sends unmasked ones.
    Server,
    /// Reads unmasked frames, sends masked ones.
    Client,
}

/// One decoded frame header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FrameHeader {
    /// §5.2: "Indicates that this is the final fragment in a message."
    pub fin: bool,
    /// RSV1-3 as the low three bits (always 0 once decoded: no extensions).
    pub rsv: u8,
    pub opcode: OpCode,
    /// The masking key: always present in a frame a server decoded (client
    /// frames are masked), never in one a client decoded.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub len: u64,
}

/// Decodes the header of a client's frame at the front of `buf`, as the
/// server reads it: [`decode_header_as`] for [`Role::Server`].
#[inline]
pub fn decode_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, WsError> {
    decode_header_as(Role::Server, buf)
}

/// Decodes the header at the front of `buf`, as `role` reads it: the header
/// and its length in bytes, `Ok(None)` when more bytes are needed (nothing
/// is consumed until it succeeds), or the first rule the bytes break.
/// Inlined, so that the server's call, whose role is a constant, keeps no
/// branch on it.
#[inline]
pub fn decode_header_as(role: Role, buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, WsError> {
    let Some(&b0) = buf.first() else { return Ok(None) };
    let fin = b0 & 0x80 != 0;
    let rsv = (b0 >> 4) & 0x7;
    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
    // meanings for non-zero values. If a nonzero value is received and none of
    // the negotiated extensions defines the meaning of such a nonzero value,
    // the receiving endpoint MUST _Fail the WebSocket Connection_." We
    // negotiate none.
    if rsv != 0 {
        return Err(WsError::ReservedBits);
    }
    let opcode = OpCode::try_from(b0 & 0x0f)?;
    // §5.5: control frames "MUST NOT be fragmented".
    if opcode.is_control() && !fin {
        return Err(WsError::FragmentedControl);
    }

    let Some(&b1) = buf.get(1) else { return Ok(None) };
    let masked = b1 & 0x80 != 0;
    match role {
        // §5.1: "The server MUST close the connection upon receiving a frame
        // that is not masked. In this case, a server MAY send a Close frame
        // with a status code of 1002 (protocol error)".
        Role::Server if !masked => return Err(WsError::UnmaskedFrame),
        // §5.1: "A server MUST NOT mask any frames that it sends to the
        // client. A client MUST close a connection if it detects a masked
        // frame. In this case, it MAY use the status code 1002 (protocol
        // error)".
        Role::Client if masked => return Err(WsError::MaskedFrame),
        Role::Server | Role::Client => {}
    }
    let len7 = b1 & 0x7f;
    // §5.5: "All control frames MUST have a payload length of 125 bytes or
    // less". A 7-bit length of 126 or 127 announces a longer one.
    if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
        return Err(WsError::ControlTooLong);
    }
    let Some((len, at)) = decode_length(buf, len7).map_err(|e| match e {
        LengthError::NonMinimal => WsError::NonMinimalLength,
        LengthError::HighBit => WsError::LengthHighBit,
    })?
    else {
        return Ok(None);
    };
    if role == Role::Client {
        return Ok(Some((FrameHeader { fin, rsv, opcode, mask: None, len }, at)));
    }
    // §5.3: "The masking key is a 32-bit value chosen at random by the client."
    let Some(&mask) = buf.get(at..).and_then(<[u8]>::first_chunk::<4>) else { return Ok(None) };
    Ok(Some((FrameHeader { fin, rsv, opcode, mask: Some(mask), len }, at + 4)))
}

/// How many more bytes the frame at the front of `buf` needs to be whole:
/// the rest of its header, as far as the bytes so far tell (the 7-bit length
/// says whether 2 or 8 length bytes follow; §5.2), else the rest of its
/// payload. 0 when it is whole, and when its header breaks a rule
/// ([`decode_header`] says which). A caller that keeps a partial frame takes
/// only this much of the next read into it, so what it keeps is never more
/// than one frame.
pub fn frame_remaining(buf: &[u8]) -> u64 {
    let have = buf.len() as u64;
    match decode_header(buf) {
        Err(_) => 0,
        Ok(Some((header, header_len))) => (header_len as u64).saturating_add(header.len).saturating_sub(have),
        Ok(None) => {
            // Incomplete, so the MASK bit (if here) is set: a 4-byte key follows.
            let header: u64 = match buf.get(1).map(|b1| b1 & 0x7f) {
                None => 2,
                Some(126) => 2 + 2 + 4,
                Some(127) => 2 + 8 + 4,
                Some(_) => 2 + 4,
            };
            header.saturating_sub(have)
        }
    }
}

/// One whole frame as a client reads it; the payload borrows the caller's
/// buffer (a server's frames are not masked, so there is nothing to undo).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Frame<'a> {
    pub fin: bool,
    pub opcode: OpCode,
    pub payload: &'a [u8],
}

/// Decodes the whole server frame at the front of `buf`, as a client reads
/// it: `Ok(None)` until its header and payload have arrived, then the frame
/// and the bytes it used. Every rule the header breaks is reported as soon
/// as its bytes are here ([`decode_header_as`]), and a payload longer than
/// `max` ([`WsError::MessageTooLarge`], §10.4) before it is awaited, so a
/// bad header never makes the caller buffer. Rules across frames
/// (fragmentation, UTF-8 of a text message) are the caller's.
pub fn decode_from_server(buf: &[u8], max: u64) -> Result<Option<(Frame<'_>, usize)>, WsError> {
    let Some((header, at)) = decode_header_as(Role::Client, buf)? else { return Ok(None) };
    if header.len > max {
        return Err(WsError::MessageTooLarge);
    }
    let end = usize::try_from(header.len).ok().and_then(|len| len.checked_add(at));
    let Some(end) = end else { return Err(WsError::MessageTooLarge) };
    let Some(payload) = buf.get(at..end) else { return Ok(None) };
    Ok(Some((Frame { fin: header.fin, opcode: header.opcode, payload }, end)))
}

/// What can be wrong with an encoded payload length.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LengthError {
    /// A longer form than the length needs.
    NonMinimal,
    /// The most significant bit of the 64-bit form is set.
    HighBit,
}

/// Decodes the payload length of the header at the front of `buf`, whose
/// 7-bit length field is `len7`: the length and where the header goes on
/// after it, `Ok(None)` while its bytes have not all arrived. Shared by both
/// ends: the rules are the same for a client's frames and a server's.
pub fn decode_length(buf: &[u8], len7: u8) -> Result<Option<(u64, usize)>, LengthError> {
    // §5.2: "If 126, the following 2 bytes interpreted as a 16-bit unsigned
    // integer are the payload length. If 127, the following 8 bytes
    // interpreted as a 64-bit unsigned integer (the most significant bit MUST
    // be 0) are the payload length. [...] the minimal number of bytes MUST be
    // used to encode the length, for example, the length of a 124-byte-long
    // string can't be encoded as the sequence 126, 0, 124."
    Ok(Some(match len7 {
        126 => {
            let Some(&bytes) = buf.get(2..).and_then(<[u8]>::first_chunk::<2>) else { return Ok(None) };
            let len = u16::from_be_bytes(bytes);
            if len < 126 {
                return Err(LengthError::NonMinimal);
            }
            (u64::from(len), 4)
        }
        127 => {
            let Some(&bytes) = buf.get(2..).and_then(<[u8]>::first_chunk::<8>) else { return Ok(None) };
            let len = u64::from_be_bytes(bytes);
            if len >> 63 != 0 {
                return Err(LengthError::HighBit);
            }
            if len <= u64::from(u16::MAX) {
                return Err(LengthError::NonMinimal);
            }
            (len, 10)
        }
        short => (u64::from(short), 2),
    }))
}

/// Appends a server frame header (a client's, once [`encode_masked`] has
/// set its MASK bit). §5.1: "A server MUST NOT mask any frames
/// that it sends to the client." The length uses the fewest bytes (§5.2).
pub fn encode_header(fin: bool, opcode: OpCode, len: usize, out: &mut Vec<u8>) {
    out.push(u8::from(fin) << 7 | opcode.bits());
    if len <= MAX_CONTROL_PAYLOAD {
        out.push(len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Appends a whole unfragmented client frame, masked. §5.1: "a client MUST
/// mask all frames that it sends to the server"; §5.2: "Mask: 1 bit. Defines
/// whether the "Payload data" is masked. If set to 1, a masking key is
/// present in masking-key"; §5.3: the key, then the payload XORed with it.
/// §5.3: "The masking key is a 32-bit value chosen at random by the client
/// [...] The unpredictability of the masking key is essential": the caller
/// draws it (this crate reads no entropy source).
pub fn encode_masked(opcode: OpCode, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    debug_assert!(!opcode.is_control() || payload.len() <= MAX_CONTROL_PAYLOAD);
    let start = out.len();
    encode_header(true, opcode, payload.len(), out);
    // The MASK bit is the high bit of the byte after FIN and the opcode.
    if let Some(b1) = out.get_mut(start + 1) {
        *b1 |= 0x80;
    }
    out.extend_from_slice(&mask);
    let body = out.len();
    out.extend_from_slice(payload);
    unmask(&mut out[body..], mask, 0);
}

/// Appends a whole unfragmented server frame. A control frame's payload
/// must be at most 125 bytes (§5.5): the caller's own data, or a ping's
/// payload echoed in a pong, which the decoder already bounded.
pub fn encode(opcode: OpCode, payload: &[u8], out: &mut Vec<u8>) {
    debug_assert!(!opcode.is_control() || payload.len() <= MAX_CONTROL_PAYLOAD);
    encode_header(true, opcode, payload.len(), out);
    out.extend_from_slice(payload);
}

/// Appends a Close frame with a status code and as much of `reason` as fits:
/// §5.5.1 "the first two bytes of the body MUST be a 2-byte unsigned
/// integer (in network byte order) representing a status code", and the
/// whole body is at most 125 bytes (§5.5). The reason is cut at a character
/// boundary so that it stays UTF-8.
pub fn encode_close(code: u16, reason: &str, out: &mut Vec<u8>) {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = reason.get(..end).unwrap_or_default();
    encode_header(true, OpCode::Close, 2 + reason.len(), out);
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(reason.as_bytes());
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
