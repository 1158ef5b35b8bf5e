//! Every cap and timeout the protocol enforces, each a named constant with
//! the reason for its value, and [`Limits`], what request parsing reads.
//! The server's `Config` (flags, environment) starts from these defaults.

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

/// What the protocol code needs to know about limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_head: usize,
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head: MAX_HEAD, max_body: MAX_BODY }
    }
}
