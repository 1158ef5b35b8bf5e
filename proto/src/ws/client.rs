//! The client's side of the opening handshake (RFC 6455 §4.1): the request,
//! its key, and the accept value to expect. The frames a client sends and
//! reads are [`frame`](super::frame)'s, with [`Role::Client`](super::Role).
//!
//! Not implemented: checking the 101 answer's fields (the caller's HTTP
//! client reads the head; [`expected_accept`] is what its
//! `Sec-WebSocket-Accept` must be), subprotocols, extensions.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::handshake::{accept_key, VERSION};

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
        "\r\nSec-WebSocket-Version: ",
        VERSION,
        "\r\n\r\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
}

/// A `Sec-WebSocket-Key` derived from `seed`. §4.1: "The value of this
/// header field MUST be a nonce consisting of a randomly selected 16-byte
/// value that has been base64-encoded". The caller brings the randomness
/// (this crate reads no entropy source); splitmix64 spreads it over 16
/// bytes, and since its output is a bijection of its state, different seeds
/// give different keys.
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
/// (§4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or
/// the |Sec-WebSocket-Accept| contains a value other than the base64-encoded
/// SHA-1 of the concatenation of the |Sec-WebSocket-Key| (as a string, not
/// base64-decoded) with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/// [...] the client MUST _Fail the WebSocket Connection_").
pub fn expected_accept(key: &str) -> String {
    accept_key(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_request_byte_for_byte() {
        // §1.2's example request, with its key, less Origin and subprotocols.
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
}
