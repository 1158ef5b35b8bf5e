//! pushwire: a server-push server on one single-threaded mio loop.
//!
//! ```text
//!   main.rs ── cli ──► Config ──► driver::Server::bind(config)?.run()
//!
//!   driver/   sockets, clock, slab, buffers, timers   (the only I/O)
//!      │  bytes, now                ▲ bytes, deadlines
//!      ▼                            │
//!   http/     request parsing, responses, routing, static-site rules
//!   app/      what each route answers
//!   timer.rs  hierarchical timer wheel     stats.rs  the figures /stats shows
//! ```
//!
//! Everything outside `driver/` and `main.rs` is sans-IO: it never touches a
//! socket, a file or a clock, so it is tested with byte vectors and explicit
//! time.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod config;
pub mod driver;
pub mod stats;

// The protocols live in pushwire-proto, which Cargo keeps free of I/O; the
// server names them as its own modules.
pub use pushwire_proto::{conn, http, hub, json, key, key_map, sse, timer, ws};
