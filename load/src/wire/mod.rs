//! The client side of the wire, sans-IO: HTTP/1.1 responses, WebSocket
//! client frames, the SSE event stream.

pub mod body;
pub mod http;
pub mod ws;
