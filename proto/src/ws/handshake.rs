//! The server's side of the opening handshake (RFC 6455 §4.2.1 reading the
//! client's handshake, §4.2.2 answering it, §4.4 version negotiation).
//!
//! Not negotiated: subprotocols (`Sec-WebSocket-Protocol` is ignored; §4.2.2:
//! "if the server does not wish to agree to one of the suggested
//! subprotocols, it MUST NOT send back a |Sec-WebSocket-Protocol| header
//! field in its response") and extensions (`Sec-WebSocket-Extensions` is
//! ignored and none is named in the answer, so permessage-deflate and every
//! other extension stays off and the RSV bits must stay 0).
//!
//! The `Host` rule (§4.2.1 item 2) is the HTTP parser's: an HTTP/1.1 request
//! without exactly one `Host` never gets here (RFC 9112 §3.2, 400).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::http::{Method, Request, Response};

/// §1.3: the "Globally Unique Identifier (GUID, [RFC4122])" concatenated to
/// the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// §4.1: "The request MUST include a header field with the name
/// |Sec-WebSocket-Version|. The value of this header field MUST be 13."
pub const VERSION: &str = "13";

/// The `Sec-WebSocket-Accept` value for a key. §1.3: the server takes the
/// key "(as present in the header field, e.g., the base64-encoded \[RFC4648\]
/// version minus any leading and trailing whitespace) and concatenate this
/// with the Globally Unique Identifier \[...\] A SHA-1 hash (160 bits) \[FIPS.180-3\],
/// base64-encoded (see Section 4 of \[RFC4648\]), of this concatenation is then
/// returned in the server's handshake."
pub fn accept_key(key: &[u8]) -> String {
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    STANDARD.encode(digest)
}

/// Why a request for a WebSocket is refused, each with its HTTP answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refusal {
    /// §4.2.1 item 1: "An HTTP/1.1 or higher GET request". (400)
    NotGet,
    /// §4.2.1 items 3-4: no `Upgrade: websocket`, or no `upgrade` token in
    /// `Connection`. (400)
    NotUpgrade,
    /// §4.2.1 item 6: `Sec-WebSocket-Version` missing or not 13. (426)
    BadVersion,
    /// §4.2.1 item 5: `Sec-WebSocket-Key` missing, repeated, or not base64
    /// of 16 bytes. (400)
    BadKey,
    /// §4.2.2: the `Origin` is not one the server accepts. (403)
    OriginNotAllowed,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NotGet | Refusal::NotUpgrade | Refusal::BadKey => 400,
            Refusal::BadVersion => 426,
            Refusal::OriginNotAllowed => 403,
        }
    }

    /// The sentence the client reads in the response body.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NotGet => "a WebSocket handshake is an HTTP/1.1 GET request",
            Refusal::NotUpgrade => "a WebSocket handshake needs Upgrade: websocket and Connection: Upgrade",
            Refusal::BadVersion => "only WebSocket version 13 is supported",
            Refusal::BadKey => "Sec-WebSocket-Key must be one base64-encoded 16-byte value",
            Refusal::OriginNotAllowed => "this Origin may not open a WebSocket here",
        }
    }

    /// The HTTP answer. §4.2.1: a server that finds the handshake wrong "MUST
    /// stop processing the client's handshake and return an HTTP response
    /// with an appropriate error code (such as 400 Bad Request)".
    pub fn response(&self) -> Response {
        let response = Response::text(self.status(), self.reason());
        match self {
            // §4.2.2: "If this version does not match a version understood by
            // the server, the server MUST abort the WebSocket handshake
            // described in this section and instead send an appropriate HTTP
            // error code (such as 426 Upgrade Required) and a
            // |Sec-WebSocket-Version| header field indicating the version(s)
            // the server is capable of understanding." RFC 9110 §15.5.22: "The
            // server MUST send an Upgrade header field in a 426 response", and
            // §7.8: "A sender of Upgrade MUST also send an "Upgrade" connection
            // option in the Connection header field".
            Refusal::BadVersion => response
                .header("Sec-WebSocket-Version", VERSION)
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade"),
            _ => response,
        }
    }
}

/// A handshake that passed [`check`]: the proof a server needs before it
/// answers `101` (§4.2.2), and the `Sec-WebSocket-Accept` value it answers
/// with. Only [`check`] makes one (the field is private), and it is not
/// `Clone`: one checked request, one upgrade.
#[derive(PartialEq, Eq, Debug)]
pub struct Accepted {
    accept: String,
}

impl Accepted {
    /// The `Sec-WebSocket-Accept` value, for [`response`].
    pub fn value(&self) -> &str {
        &self.accept
    }
}

/// Whether the request asks for a WebSocket at all (`Upgrade: websocket`),
/// so the router can send it to [`check`] rather than serve it as HTTP.
pub fn is_upgrade(req: &Request<'_>) -> bool {
    has_token(req, "upgrade", b"websocket")
}

/// Checks a client's opening handshake (§4.2.1, in the order it lists the
/// rules, except that the version comes before the key: a client speaking
/// another version may not send a key the way version 13 does, and the 426
/// tells it which version to use, §4.4). Returns the [`Accepted`] handshake
/// (its `Sec-WebSocket-Accept` value is for [`response`]). `origin_allowed`
/// is asked about the `Origin` header when there is one.
pub fn check(req: &Request<'_>, origin_allowed: impl Fn(&[u8]) -> bool) -> Result<Accepted, Refusal> {
    // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
    if req.method != Method::Get || req.minor != 1 {
        return Err(Refusal::NotGet);
    }
    // §4.2.1 item 3: "An |Upgrade| header field containing the value
    // "websocket", treated as an ASCII case-insensitive value."
    // Item 4: "A |Connection| header field that includes the token
    // "Upgrade", treated as an ASCII case-insensitive value." Both are lists
    // (RFC 9110 §7.6.1, §7.8), possibly over several field lines.
    if !has_token(req, "upgrade", b"websocket") || !has_token(req, "connection", b"upgrade") {
        return Err(Refusal::NotUpgrade);
    }
    // §4.2.1 item 6: "A |Sec-WebSocket-Version| header field, with a value
    // of 13."
    if req.header("sec-websocket-version").map(<[u8]>::trim_ascii) != Some(VERSION.as_bytes()) {
        return Err(Refusal::BadVersion);
    }
    // §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded
    // (see Section 4 of [RFC4648]) value that, when decoded, is 16 bytes in
    // length." §11.3.1: "The |Sec-WebSocket-Key| header field MUST NOT
    // appear more than once in an HTTP request."
    let mut keys = req.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"));
    let (Some(key), None) = (keys.next(), keys.next()) else { return Err(Refusal::BadKey) };
    let key = key.value.trim_ascii();
    if !is_nonce(key) {
        return Err(Refusal::BadKey);
    }
    // §4.2.2: "If the server does not wish to accept this connection, it MUST
    // return an appropriate HTTP error code (e.g., a 403 Forbidden)". §4.2.1
    // item 7: the Origin is "Optional"; "A connection attempt lacking this
    // header field SHOULD NOT be interpreted as coming from a browser
    // client", and is not refused for it.
    if let Some(origin) = req.header("origin") {
        if !origin_allowed(origin.trim_ascii()) {
            return Err(Refusal::OriginNotAllowed);
        }
    }
    Ok(Accepted { accept: accept_key(key) })
}

/// The `101 Switching Protocols` answer (§4.2.2 item 5): "A Status-Line with
/// a 101 response code", "An |Upgrade| header field with value "websocket"",
/// "A |Connection| header field with value "Upgrade"", "A
/// |Sec-WebSocket-Accept| header field". A 1xx response has no
/// Content-Length (`Response::encode_head`); encode it with `keep_alive`
/// true, so that no `Connection: close` joins it. The bytes after the
/// request (the "tail") are already frames.
pub fn response(accept: &str) -> Response {
    Response::empty(101)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept)
}

/// Base64 (RFC 4648 §4, padded) of exactly 16 bytes: 24 characters ending
/// in `==`, checked before anything is decoded.
fn is_nonce(key: &[u8]) -> bool {
    let mut nonce = [0u8; 18];
    key.len() == 24 && STANDARD.decode_slice(key, &mut nonce) == Ok(16)
}

/// Whether any `name` field line lists `token` (ASCII case-insensitive).
fn has_token(req: &Request<'_>, name: &str, token: &[u8]) -> bool {
    req.headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|&b| b == b','))
        .any(|item| item.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
