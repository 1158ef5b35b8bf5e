//! WebSocket (RFC 6455), sans-IO, the server's side (and the client's, for
//! the load generator): request in → handshake answer out; bytes in →
//! messages and control frames out; messages in → frame bytes appended to
//! the caller's buffer. Nothing here touches a socket or a clock: pings,
//! pong deadlines and close grace periods are the driver's timers.
//!
//! Implemented:
//! - §4.2.1-§4.2.2, §4.4 opening handshake ([`handshake`]): GET over
//!   HTTP/1.1, `Upgrade`/`Connection` token lists, version 13 (else 426 with
//!   `Sec-WebSocket-Version: 13`), a key of 16 bytes (else 400), the `Origin`
//!   policy as a closure (else 403), the §1.3 accept key, the 101 answer.
//! - §5.2 base framing ([`frame`]): strict header decoding (RSV bits,
//!   reserved opcodes, minimal length encoding, 64-bit length MSB) and
//!   encoding of unmasked server frames.
//! - §5.1, §5.3 masking ([`mask`]): client frames must be masked; unmasking
//!   in place, in pieces.
//! - §5.4 fragmentation, §5.5 control frames (≤ 125 bytes, never
//!   fragmented, allowed between fragments), §5.5.1 close, §10.4 limits
//!   ([`session`]): the message size, a budget (`room`) for what a
//!   fragmented message may allocate, given by the caller at each read, and
//!   a deadline for a message from its first byte to its last, from the
//!   `now` the caller gives.
//! - the client's side, for the load generator: the §4.1 request, key and
//!   expected accept value ([`client`]); masked frames out
//!   ([`encode_masked`]) and unmasked ones in, a masked one refused
//!   ([`decode_header_as`] with [`Role::Client`], [`decode_from_server`]).
//! - §7.4 close status codes ([`close`]), including the IANA-registered
//!   1012-1014.
//! - §5.6, §8.1 UTF-8 validation that fails at the first bad byte, across
//!   fragments and within a frame still arriving ([`utf8`]).
//!
//! Every violation is a [`WsError`] variant that knows its close code (1002,
//! 1007, 1008 or 1009) and a reason that fits in a Close frame.
//!
//! Not implemented:
//! - extensions (§9), so no permessage-deflate (RFC 7692): RSV bits must be 0
//!   and `Sec-WebSocket-Extensions` is ignored;
//! - subprotocols (`Sec-WebSocket-Protocol` is ignored and none is selected);
//! - sending fragmented messages (every message we send is one frame);
//! - WebSocket over HTTP/2 (RFC 8441).

pub mod client;
pub mod close;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod session;
pub mod utf8;

pub use close::{parse_close, valid_code};
pub use error::WsError;
pub use frame::{
    decode_from_server, decode_header, decode_header_as, encode, encode_close, encode_header, encode_masked,
    frame_remaining, Frame, FrameHeader, OpCode, Role,
};
pub use handshake::{accept_key, is_upgrade, Accepted, Refusal};
pub use mask::unmask;
pub use session::{Incoming, Receiver, Step};
pub use utf8::Utf8Validator;
