//! pushwire-proto: the protocols of pushwire, sans-IO. Nothing here touches
//! a socket, a file or a clock: bytes and `now` go in, bytes, events and the
//! next deadline come out, so every rule is tested with byte vectors and
//! time moved by hand.
//!
//! ```text
//!   http/     HTTP/1.1 requests, responses, routing, dates, static-site rules
//!   ws/       WebSocket (RFC 6455): handshake, frames, masking, UTF-8, receiving
//!   sse/      Server-Sent Events (WHATWG HTML §9.2): the encoder and the parser
//!   hub/      topics, subscribers and history: the publish/subscribe core
//!   conn/     one connection's state machine: its phase (RFC 9112, RFC 6455
//!             §7, WHATWG HTML §9.2), deadlines, input, answers and output queue
//!   timer.rs  a hierarchical timer wheel
//!   limits.rs every cap and timeout, named, with its reason
//!   json.rs   JSON string escaping for the hot path
//!   key.rs, key_map.rs  connection keys and a map keyed by them
//! ```
//!
//! The server (`pushwire`) drives these from a mio loop; the load generator
//! (`pushwire-load`) uses the same codecs from the client's side.

pub mod conn;
pub mod http;
pub mod hub;
pub mod json;
pub mod key;
pub mod key_map;
pub mod limits;
pub mod sse;
pub mod timer;
pub mod ws;
