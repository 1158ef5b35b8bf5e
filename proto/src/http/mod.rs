//! HTTP/1.1 (RFC 9110, RFC 9112), sans-IO: bytes in, requests out;
//! responses in, bytes out. And the client's side, for the load generator
//! ([`client`]): requests out, response heads and bodies in, with the same
//! chunked decoder ([`chunked`]) as the server's request parser.

pub mod chunked;
pub mod client;
pub mod date;
pub mod error;
pub mod mime;
pub mod request;
pub mod response;
pub mod route;
pub mod site;

pub use error::HttpError;
pub use request::{Method, Parse, Progress, Request};
pub use response::{Body, Response};
