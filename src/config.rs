//! Settings: what `main.rs` builds from flags and environment ([`Config`]),
//! and the caps that belong to the driver (its buffers, its write budget,
//! its file cache). The protocol's caps and timeouts are
//! `pushwire_proto::limits`, re-exported here so that a flag's default and
//! its reason are found in one place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use pushwire_proto::limits::*;

/// The one loop-wide read buffer. 64 KiB drains a full socket receive queue
/// in a few reads; idle connections hold no buffer at all.
pub const READ_BUFFER: usize = 64 * 1024;

/// Static files are read whole and shared (`Rc<[u8]>`) between responses;
/// files above this are refused with 500 rather than read into memory.
pub const MAX_STATIC_FILE: u64 = 64 * 1024 * 1024;

/// Files up to this size stay cached (keyed by path, revalidated by mtime
/// and length on every request); larger ones are read per request.
pub const MAX_CACHED_FILE: u64 = 1024 * 1024;

/// Bytes of socket writes one loop pass may make before the connections
/// still waiting to be flushed carry over to the next pass, which polls
/// without waiting: other sockets' events (a `/plaintext` request) are served
/// between slices of a large fan-out instead of after all of it (issue 9:
/// one 1 MiB publish to 2,000 SSE streams was ~2 GiB of writes in one pass,
/// and `/plaintext` waited 1–3 s). A fan-out's cost is those writes: `perf`
/// puts 88 % of the server's CPU in `writev`, mostly the copy into socket
/// buffers, at about 0.3 ns per byte here, so 4 MiB is a slice of ~1.5 ms:
/// far inside the 50 ms a `/plaintext` p99 may take, while the pass's fixed
/// cost (an `epoll_wait`, a few µs) stays well under 1 % of it.
pub const WRITE_BUDGET: usize = 4 * 1024 * 1024;

/// A queue this short is written whole even when the pass's budget is
/// spent (and counts against it): one `writev` of a response, a heartbeat
/// or a chat message costs microseconds, while holding it back would make
/// it wait behind every slice of a fan-out, the stall the budget is there
/// to prevent. 16 KiB covers a response head with a small body.
pub const SMALL_WRITE: usize = 16 * 1024;

/// SPEC §5's slow consumer is a client that does not read: its queue is
/// over `--max-queue` and its socket takes no more. When the write budget
/// kept the server from offering the queue to the socket at all, the client
/// cannot be judged, so the queue may grow to this many times `--max-queue`
/// while it waits for its slice; past that (a publisher outrunning the
/// writes), it is written at once, budget or not, and judged by the socket.
pub const DEFERRED_QUEUE_FACTOR: usize = 2;

/// How long accepting stays paused after EMFILE/ENFILE when no connection
/// closes to free a descriptor (a file read may have been what used it).
pub const ACCEPT_RETRY: Duration = Duration::from_secs(1);

/// Everything `pushwire` is told at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub www: PathBuf,
    /// 0 means no limit beyond the process's file descriptors.
    pub max_conns: usize,
    pub limits: Limits,
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub drain: Duration,
    pub heartbeat: Duration,
    pub history: usize,
    pub history_bytes: usize,
    pub max_topics: usize,
    pub max_queue: usize,
    /// When set, publishing needs `Authorization: Bearer TOKEN`.
    pub publish_token: Option<String>,
    pub max_message: usize,
    /// All WebSocket input held at once, every socket together (bytes).
    pub max_ws_buffered: usize,
    pub message_timeout: Duration,
    /// SPEC §4: WebSocket handshakes from another Origin get 403. Empty:
    /// every origin (and none) is allowed.
    pub allowed_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            www: PathBuf::from("www"),
            max_conns: 0,
            limits: Limits::default(),
            header_timeout: HEADER_TIMEOUT,
            keepalive_timeout: KEEPALIVE_TIMEOUT,
            drain: DRAIN,
            heartbeat: HEARTBEAT,
            history: HISTORY,
            history_bytes: HISTORY_BYTES,
            max_topics: MAX_TOPICS,
            max_queue: MAX_QUEUE,
            publish_token: None,
            max_message: MAX_MESSAGE,
            max_ws_buffered: MAX_WS_BUFFERED,
            message_timeout: MESSAGE_TIMEOUT,
            allowed_origins: Vec::new(),
        }
    }
}
