//! pushwire: a server-push server on one single-threaded mio loop.
//!
//! ```text
//!   main.rs ── cli ──► Config ──► driver::Server::bind(config)?.run()
//!
//!   driver/        sockets, clock, poll, the write budget   files.rs  the www root
//!      │  bytes, now                     ▲ bytes queued, next deadline
//!      ▼                                 │
//!   conn/          one connection's state machine: phase, deadlines,      ┐
//!                  requests in, frames in, answers and events out         │ pushwire-proto:
//!   http/ ws/ sse  the wire formats          hub/  topics and history     │ no mio, no std::net,
//!   timer.rs       the timer wheel           limits.rs  every cap         ┘ std::fs or clock
//!      │  requests, messages, ends           ▲ replies, actions
//!      ▼                                     │
//!   app/           what each route answers (sans-IO too)
//!   stats.rs       the figures /stats shows
//! ```
//!
//! Everything outside `driver/`, `files.rs` and `main.rs` is sans-IO: it
//! never touches a socket, a file or a clock, so it is tested with byte
//! vectors and explicit time. For the protocols Cargo holds it (pushwire-proto has no I/O
//! dependency, and its clippy.toml forbids std's sockets, files and clocks).

pub mod app;
pub mod cli;
pub mod config;
pub mod driver;
pub mod files;
pub mod stats;

// The protocols live in pushwire-proto, which Cargo keeps free of I/O; the
// server names them as its own modules.
pub use pushwire_proto::{conn, http, hub, json, key, key_map, sse, timer, ws};
