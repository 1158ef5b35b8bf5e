//! The client side of HTTP/1.1, sans-IO: response heads and bodies.
//! WebSocket frames and the SSE event stream are pushwire-proto's.

pub mod body;
pub mod http;
