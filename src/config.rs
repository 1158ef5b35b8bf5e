//! Settings: every cap and timeout the server enforces, each a named constant
//! with the reason for its value, gathered into [`Config`] (what `main.rs`
//! builds from flags and environment) and [`Limits`] (what the protocol code
//! reads).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// SPEC §5: "request line + headers > 8 KiB → 431". Also the bound that keeps
/// re-scanning a growing head linear (httparse warns that re-parsing an
/// uncapped head is quadratic).
pub const MAX_HEAD: usize = 8 * 1024;

/// httparse needs the header array up front; 64 is more than any browser
/// sends (Chrome sends about 15) and an array of them is 2 KiB of stack.
pub const MAX_HEADERS: usize = 64;

/// SPEC §5: "body > --max-body (1 MiB) → 413".
pub const MAX_BODY: usize = 1024 * 1024;

/// SPEC §5: "headers not complete within 10 s (slowloris) → 408".
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// SPEC §5: "keep-alive idle 60 s → close". Also the longest a request body or
/// a response may go without progress.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// After an error answer we stop writing but keep reading (and discarding) for
/// this long, so the client's unread request bytes do not turn our close into
/// a TCP reset that destroys the answer before the client reads it (RFC 9112
/// §9.6, "tear-down": a server "SHOULD ... close ... in stages").
pub const LINGER: Duration = Duration::from_secs(2);

/// SPEC §1: on SIGINT/SIGTERM, closes are spread over `--drain-secs` (default 5).
pub const DRAIN: Duration = Duration::from_secs(5);

/// A client that pipelines requests faster than it reads answers stops being
/// read once this much output is queued for it; reading resumes when the
/// queue is flushed. Bounds memory per HTTP client without dropping anything.
pub const MAX_HTTP_OUTPUT: usize = 1024 * 1024;

/// The one loop-wide read buffer. 64 KiB drains a full socket receive queue
/// in a few reads; idle connections hold no buffer at all.
pub const READ_BUFFER: usize = 64 * 1024;

/// Static files are read whole and shared (`Rc<[u8]>`) between responses;
/// files above this are refused with 500 rather than read into memory.
pub const MAX_STATIC_FILE: u64 = 64 * 1024 * 1024;

/// Files up to this size stay cached (keyed by path, revalidated by mtime
/// and length on every request); larger ones are read per request.
pub const MAX_CACHED_FILE: u64 = 1024 * 1024;

/// SPEC §1: "--heartbeat SECS (SSE comments and WebSocket pings)", default
/// 15 s; WHATWG HTML §9.2.7 suggests a comment "every 15 seconds or so" to
/// keep proxies from dropping idle streams.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// SPEC §1: "--history N (events kept per topic)", default 1000: enough for a
/// browser that was away for a while to catch up by Last-Event-ID.
pub const HISTORY: usize = 1000;

/// SPEC §5: "history over `--history-bytes` (default 256 MiB, all topics
/// together) → the oldest events, across topics, are evicted first". Without
/// it, history is `--history` per topic times any number of topics: one
/// anonymous publisher filled this 24 GiB machine in about 90 s (issue 9:
/// 1,500 × 1 MiB to one topic took 2 GiB). 256 MiB is a thousand topics at
/// the default `--history` of 256-byte events, or 256 topics of 1 KiB ones,
/// on any machine a push server runs on. Counted per kept message as its
/// encoding plus `hub::KEPT_OVERHEAD` (~150 B), so empty events count too.
pub const HISTORY_BYTES: usize = 256 * 1024 * 1024;

/// SPEC §5: "a publish or subscribe that would create topic number
/// `--max-topics` + 1 (default 100,000) → `503`". Each topic costs its name,
/// its sets and a map entry (~250 B) even with no history: 100,000 is 25 MB,
/// and far more topics than any page set subscribes to. A topic with no
/// subscriber and no history left is forgotten, so the cap counts topics in
/// use, not every name ever published to.
pub const MAX_TOPICS: usize = 100_000;

/// SPEC §5: a stream's queue is bounded by `--max-queue` (1 MiB); past it the
/// client is a slow consumer and its stream is closed.
pub const MAX_QUEUE: usize = 1024 * 1024;

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

/// SPEC §5: "message > --max-message (16 MiB) → close 1009"; also the cap
/// on what one fragmented message may make us hold.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// RFC 6455 §10.4: "Implementations that have implementation- and/or
/// platform-specific limitations regarding the frame size or total message
/// size after reassembly from multiple frames MUST protect themselves against
/// exceeding those limits." `--max-message` does that per socket; this does
/// it for all of them together (`--max-ws-buffered`): every byte of
/// WebSocket input the loop holds (partial frames and fragmented messages,
/// by capacity). Without it, 40 sockets each holding an unfinished 16 MiB
/// frame cost 640 MiB (issue 9). A socket whose input would take the total
/// past it is closed with 1009 and what it held is freed.
///
/// Four messages of `--max-message`, and it follows that flag when only that
/// one is given: a message arriving as fragments can briefly be held twice
/// (its last frame, and the message it grows), so this lets two maximal
/// messages arrive at once in the worst case and four in the common one,
/// while half-sent frames can never hold more than this.
pub const MAX_WS_BUFFERED_MESSAGES: usize = 4;
/// The default `--max-ws-buffered`: 64 MiB, with the default `--max-message`.
pub const MAX_WS_BUFFERED: usize = MAX_WS_BUFFERED_MESSAGES * MAX_MESSAGE;

/// How long a WebSocket message (or a frame between messages) may take from
/// its first byte to its last (`--message-timeout`); past it, close 1008.
/// The budget above bounds memory, this bounds how long a peer may keep its
/// share of it: without it, a fragmented message with pings or pongs between
/// its fragments is held forever, and trickling bytes keep a frame open
/// (slowloris, as `HEADER_TIMEOUT` answers for a request head). 60 s, as
/// `KEEPALIVE_TIMEOUT` gives a request body: a message of 16 MiB then needs
/// about 2.2 Mbit/s, and a chat message arrives in milliseconds. Pings and
/// pongs between fragments do not extend it.
pub const MESSAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long accepting stays paused after EMFILE/ENFILE when no connection
/// closes to free a descriptor (a file read may have been what used it).
pub const ACCEPT_RETRY: Duration = Duration::from_secs(1);

/// What the protocol code needs to know about limits.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_head: usize,
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head: MAX_HEAD, max_body: MAX_BODY }
    }
}

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
