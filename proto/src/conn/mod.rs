//! One client connection, sans-IO: what phase of the protocol it is in, its
//! deadline, its unfinished input and its queued output, and the rules that
//! follow from them (which deadline runs in which phase, what a passed
//! deadline means, when a connection half-closes, lingers or is done).
//!
//! The driver owns the socket and the clock. It hands a [`Connection`] the
//! time, asks [`Connection::on_timer`] whether a wheel entry still counts,
//! [`Connection::expired`] what a passed deadline means, and
//! [`Connection::rest`] what to do once input and output are handled; the
//! answers are plain values, so every rule here is tested by moving `now` by
//! hand (see `tests.rs`, grouped by phase).
//!
//! ```text
//!            accept
//!              │  head deadline (--header-timeout, from the first byte)
//!              ▼
//!   ┌────────► Http ──── Park ───► Parked ──── answer ──┐
//!   │          │  │                  (poll timeout)     │
//!   └─ answer ─┘  ├── 200 stream ──► Sse ─┐ (idle timeout, heartbeat)
//!                 ├── 101 ─────────► Ws ──┤ (message timeout, ping/pong)
//!                 └── last answer ─► Closing ◄─ end ─┘
//!                                     │  write, half-close, linger
//!                                     ▼
//!                                   closed
//! ```
//!
//! Memory: 10,000 idle clients cost 10,000 of these and nothing else, so the
//! struct is sized to the byte (the driver's `Conn` is one, with its socket
//! as `S`), and an idle connection holds no buffer.

pub mod http;
mod output;
pub mod stream;
mod table;
#[cfg(test)]
mod tests;
pub mod ws;

pub use output::{OutQueue, QueuePool};
pub use table::{Drain, Table};

use crate::http::Progress;
use crate::ws::Receiver;

/// What a connection is doing, in the words of the protocol.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Reading requests and writing responses (RFC 9112).
    Http,
    /// A request the app holds open (long-poll); requests pipelined behind
    /// it wait, unread, until it is answered.
    Parked { keep_alive: bool, minor: u8 },
    /// An event stream (WHATWG HTML §9.2): the app sends, the client only
    /// reads. `idle_ms`: end the stream after this long without an event
    /// (0 = never).
    Sse { idle_ms: Millis },
    /// A WebSocket (RFC 6455) after the 101; `awaiting_pong`: the last
    /// heartbeat ping is unanswered. Once our Close frame is queued the
    /// connection is `Closing`: nothing is sent after a Close (§5.5.1).
    Ws { awaiting_pong: bool },
    /// The last response is queued: write it, then half-close and read
    /// (discarding) until the client closes or the linger deadline passes
    /// (RFC 9112 §9.6: close "in stages" so the answer is not lost to a reset).
    Closing,
}

/// Why a stream, socket or parked request ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    /// The app ended it (or answered the parked request).
    Done,
    /// Its idle timeout passed.
    Timeout,
    /// Its queue passed `--max-queue` (SPEC §5: a slow consumer).
    TooSlow,
    /// The client closed, or the socket failed.
    Gone,
    /// The server is shutting down.
    Shutdown,
}

/// What `/stats` counts a connection as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Requests and answers, a parked long-poll, a connection closing.
    Http,
    Sse,
    Ws,
}

impl Phase {
    pub fn kind(self) -> Kind {
        match self {
            Phase::Sse { .. } => Kind::Sse,
            Phase::Ws { .. } => Kind::Ws,
            Phase::Http | Phase::Parked { .. } | Phase::Closing => Kind::Http,
        }
    }

    /// A stream, a socket or a parked request: the app holds it, and hears
    /// once when it ends.
    pub fn is_held(self) -> bool {
        matches!(self, Phase::Sse { .. } | Phase::Ws { .. } | Phase::Parked { .. })
    }
}

/// Open connections by [`Kind`]: kept right by [`Connection::set_phase`],
/// the one place a phase changes, and by [`Connection::new`] and
/// [`Connection::retire`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Open {
    pub http: u64,
    pub sse: u64,
    pub ws: u64,
}

impl Open {
    fn of(&mut self, kind: Kind) -> &mut u64 {
        match kind {
            Kind::Http => &mut self.http,
            Kind::Sse => &mut self.sse,
            Kind::Ws => &mut self.ws,
        }
    }

    pub fn total(&self) -> u64 {
        self.http + self.sse + self.ws
    }
}

/// The timeouts the rules need, in ms (the caller's clock).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// SPEC §5: a request head must be whole this long after its first byte.
    pub header: u64,
    /// SPEC §5: keep-alive idle; also the longest a body or a response may
    /// go without progress.
    pub keepalive: u64,
    /// RFC 9112 §9.6: how long a half-closed connection keeps reading.
    pub linger: u64,
}

/// The unfinished request of a connection: its bytes so far and where the
/// parser stopped. Allocated only while a request is incomplete.
#[derive(Default)]
pub struct Pending {
    pub buf: Vec<u8>,
    pub progress: Progress,
    /// A WebSocket's receiving state while a frame or a fragmented message
    /// is incomplete (RFC 6455 §5.4).
    pub ws: Option<Receiver>,
}

/// A duration in ms kept as bytes, so that [`Phase`] has an alignment of
/// one and packs into [`Connection`] next to the one-byte fields.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Millis([u8; 4]);

impl Millis {
    pub fn new(ms: u32) -> Millis {
        Millis(ms.to_ne_bytes())
    }

    pub fn get(self) -> u32 {
        u32::from_ne_bytes(self.0)
    }
}

/// Yes/no facts of a connection, a bit each.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Flags(u16);

macro_rules! flags {
    ($($(#[$doc:meta])* $bit:literal $get:ident $set:ident;)*) => {
        impl<S> Connection<S> {
            $(
                $(#[$doc])*
                pub fn $get(&self) -> bool {
                    self.flags.0 & (1 << $bit) != 0
                }

                pub fn $set(&mut self, on: bool) {
                    if on {
                        self.flags.0 |= 1 << $bit;
                    } else {
                        self.flags.0 &= !(1 << $bit);
                    }
                }
            )*
        }
    };
}

flags! {
    /// The peer closed its side (read returned 0).
    0 read_closed set_read_closed;
    /// We shut our side down (Closing, after the last byte left).
    1 write_shut set_write_shut;
    /// Reading stopped because too much output is queued.
    2 read_paused set_read_paused;
    /// At least one request was answered (a fresh connection that never
    /// completes a head is a slow client; an idle one is merely idle).
    3 served set_served;
    /// The socket failed; close at the next chance.
    4 broken set_broken;
    /// Output was queued outside this connection's own event and awaits the
    /// end-of-pass flush (it is on the loop's dirty list).
    5 dirty set_dirty;
    /// The app has been told this stream or parked request ended.
    6 ended set_ended;
    /// The app has more for this stream than it queued (a replay fed from
    /// history): ask it again as the queue drains.
    7 pulling set_pulling;
    /// The driver registered read interest with its poll.
    8 registered_read set_registered_read;
    /// The driver registered write interest with its poll.
    9 registered_write set_registered_write;
}

/// One connection. `S` is the driver's socket, carried so that one slab
/// entry is one connection; nothing here touches it.
pub struct Connection<S> {
    pub socket: S,
    /// Which connection of this slab index this is (see [`crate::key::ConnKey`]).
    pub gen: u32,
    phase: Phase,
    /// The yes/no facts of the connection (see [`Flags`]), two bytes.
    flags: Flags,
    pub pending: Option<Box<Pending>>,
    pub out: Option<Box<OutQueue>>,
    /// When the phase's deadline passes (ms; 0 = none). Moved forward
    /// freely: the wheel is touched only when it must fire earlier than the
    /// entry it already holds.
    deadline: u64,
    /// The deadline of this connection's live entry in the driver's wheel
    /// (0 = none); entries that do not match it are stale.
    queued: u64,
}

/// What a wheel entry of a connection is worth when it fires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Timer {
    /// Not this connection's live entry, or its deadline was cleared.
    Stale,
    /// The deadline moved later: insert an entry for this time.
    Rearm(u64),
    /// The deadline has passed: see [`Connection::expired`].
    Due,
}

/// What a passed deadline means, by phase.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expired {
    /// Answers wait and the client read none of them for the whole
    /// keep-alive timeout: nothing more can be said to it. Close.
    StoppedReading,
    /// SPEC §5: a head (or body) that did not arrive in time: answer 408
    /// and close.
    RequestTimeout,
    /// Idle between requests: close without a word.
    Idle,
    /// While draining, a stream's or socket's turn to be closed came.
    Drain,
    /// A WebSocket message was not finished in time (`--message-timeout`).
    Message,
    /// A stream's idle timeout or a parked request's poll timeout: the app
    /// hears of it.
    Stream,
    /// The half-closed connection lingered long enough. Close.
    Linger,
}

/// What a connection needs once its input and output are handled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rest {
    /// Nothing: wait for the socket or a deadline.
    Wait,
    /// Shut the socket's write side, then call [`Connection::write_shut_at`].
    ShutWrite,
    /// Remove the connection; the reason is for the log.
    Close(&'static str),
}

/// The memory budget. SPEC §6 targets under 100 bytes of process memory per
/// idle connection and the slab entry is most of that, so a connection with
/// a 4-byte socket gets 48 (hence the two bytes of flags and a `Phase` of
/// alignment one).
const BUDGET: usize = 48;
const _: () = assert!(std::mem::size_of::<Connection<u32>>() <= BUDGET);

impl<S> Connection<S> {
    /// A connection just accepted: HTTP, counted, and (SPEC §5) its head
    /// deadline counted from the moment the client connects. The driver
    /// inserts the returned wheel entry.
    #[must_use]
    pub fn new(socket: S, gen: u32, now: u64, t: &Timeouts, open: &mut Open) -> (Connection<S>, u64) {
        let mut conn = Connection {
            socket,
            gen,
            phase: Phase::Http,
            flags: Flags(0),
            pending: None,
            out: None,
            deadline: 0,
            queued: 0,
        };
        *open.of(Kind::Http) += 1;
        let at = now + t.header;
        conn.deadline = at;
        conn.queued = at;
        (conn, at)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The one place a phase changes; the counts follow.
    pub fn set_phase(&mut self, phase: Phase, open: &mut Open) {
        let (from, to) = (self.phase.kind(), phase.kind());
        if from != to {
            *open.of(from) -= 1;
            *open.of(to) += 1;
        }
        self.phase = phase;
    }

    /// The connection is removed: it stops being counted, and what its
    /// WebSocket input held leaves the budget.
    pub fn retire(&self, open: &mut Open, budget: &mut ws::Budget<'_>) {
        *open.of(self.phase.kind()) -= 1;
        if let (Phase::Ws { .. }, Some(pending)) = (self.phase, &self.pending) {
            budget.release(ws::held(pending));
        }
    }

    /// The phase's heartbeat state, for a WebSocket.
    pub fn awaiting_pong(&self) -> bool {
        matches!(self.phase, Phase::Ws { awaiting_pong: true })
    }

    /// RFC 6455 §5.5.2/§5.5.3: a heartbeat ping went out, or a pong came.
    pub fn set_awaiting_pong(&mut self, on: bool) {
        if let Phase::Ws { awaiting_pong } = &mut self.phase {
            *awaiting_pong = on;
        }
    }

    pub fn queued_bytes(&self) -> usize {
        self.out.as_ref().map_or(0, |q| q.len())
    }

    /// The connection's output queue, lent from `pool` if it has none.
    pub fn queue(&mut self, pool: &mut QueuePool) -> &mut OutQueue {
        self.out.get_or_insert_with(|| pool.take())
    }

    /// Read unless the peer closed or output is backed up.
    pub fn wants_read(&self) -> bool {
        !self.read_closed() && !self.read_paused()
    }

    /// Write only while output waits.
    pub fn wants_write(&self) -> bool {
        self.queued_bytes() > 0 && !self.write_shut()
    }

    /// The phase's deadline (ms; 0 = none).
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Sets the phase's deadline. O(1): it writes one integer, and returns a
    /// time for the driver's wheel only if no entry would fire by then.
    #[must_use]
    pub fn arm(&mut self, deadline: u64) -> Option<u64> {
        self.deadline = deadline;
        if self.queued == 0 || self.queued > deadline {
            self.queued = deadline;
            return Some(deadline);
        }
        None
    }

    /// No deadline (the wheel's entry, if any, becomes stale when it fires).
    pub fn disarm(&mut self) {
        self.deadline = 0;
    }

    /// Forgets the wheel's entry as well, so that the next [`arm`] inserts
    /// one even if it is later than the old entry (a drain's close times).
    ///
    /// [`arm`]: Connection::arm
    pub fn reset_timer(&mut self) {
        self.deadline = 0;
        self.queued = 0;
    }

    /// A wheel entry for `at` fired at `now`.
    pub fn on_timer(&mut self, at: u64, now: u64) -> Timer {
        if self.queued != at {
            return Timer::Stale;
        }
        self.queued = 0;
        match self.deadline {
            0 => Timer::Stale,
            later if later > now => {
                self.queued = later;
                Timer::Rearm(later)
            }
            _ => {
                self.deadline = 0;
                Timer::Due
            }
        }
    }

    /// What the deadline that just passed means (after [`Timer::Due`]).
    pub fn expired(&self, draining: bool) -> Expired {
        match self.phase {
            Phase::Http if self.queued_bytes() > 0 => Expired::StoppedReading,
            // SPEC §5: a head (or body) that does not arrive in time is 408;
            // a connection that was merely idle between requests just closes.
            Phase::Http if self.pending.is_some() || !self.served() => Expired::RequestTimeout,
            Phase::Http => Expired::Idle,
            // SPEC §1: while draining, a stream's deadline is its turn to close.
            Phase::Sse { .. } | Phase::Ws { .. } if draining => Expired::Drain,
            // RFC 6455: a message not finished in time (--message-timeout).
            Phase::Ws { .. } => Expired::Message,
            Phase::Sse { .. } | Phase::Parked { .. } => Expired::Stream,
            Phase::Closing => Expired::Linger,
        }
    }

    /// The deadline an HTTP connection's input leaves it with, after input
    /// that left `pending` unfinished (or nothing, `None`). `new_request`:
    /// what is pending began after a request completed here.
    pub fn http_deadline(
        &self,
        pending: Option<&Pending>,
        new_request: bool,
        now: u64,
        t: &Timeouts,
    ) -> Option<u64> {
        match pending {
            // Requests wait because the client does not read its answers:
            // that is timed by write progress (see `wrote`), not as a head.
            Some(_) if self.read_paused() => Some(now + t.keepalive),
            // A body may take as long as it keeps moving.
            Some(p) if p.progress.in_body() => Some(now + t.keepalive),
            // SPEC §5: the head's deadline runs from its first byte and is
            // never extended by a trickle of more bytes (slowloris).
            Some(_) if new_request && self.served() => Some(now + t.header),
            Some(_) => None,
            None => Some(now + t.keepalive),
        }
    }

    /// Bytes of this connection's output reached the socket at `now`: the
    /// deadline that moves with them, if any. An HTTP client that keeps
    /// reading, however slowly, is not idle. A request head keeps its own
    /// deadline; a stream's is its idle timeout (events, not bytes, move
    /// it) and a parked request's is its poll timeout.
    #[must_use]
    pub fn wrote(&mut self, now: u64, t: &Timeouts) -> Option<u64> {
        let http = matches!(self.phase, Phase::Http | Phase::Closing);
        if http && (self.pending.is_none() || self.read_paused()) && !self.write_shut() {
            return self.arm(now + t.keepalive);
        }
        None
    }

    /// What follows from the connection's state once input and output are
    /// handled.
    pub fn rest(&self, draining: bool) -> Rest {
        if self.broken() {
            return Rest::Close("socket error");
        }
        let drained = self.queued_bytes() == 0;
        match self.phase {
            Phase::Http if self.read_closed() && drained => Rest::Close("client closed"),
            // Draining: a connection whose answers are all out and that is
            // not inside a request has nothing left to finish.
            Phase::Http if draining && drained && self.pending.is_none() => Rest::Close("shutdown"),
            // WHATWG HTML §9.2: nothing comes from a stream's client, so
            // end-of-file means it went away: noticed now, not at the next
            // write, so the app's registries and counts stay true.
            Phase::Sse { .. } | Phase::Parked { .. } | Phase::Ws { .. } if self.read_closed() => {
                Rest::Close("client went away")
            }
            // RFC 9112 §9.6: half-close, then keep reading until the client
            // closes too, so unread request bytes do not make our close a
            // reset that destroys the answer in flight.
            Phase::Closing if drained && !self.write_shut() => Rest::ShutWrite,
            Phase::Closing if self.read_closed() && self.write_shut() => Rest::Close("answered"),
            _ => Rest::Wait,
        }
    }

    /// The write side was shut at `now`: linger, reading, until the client
    /// closes or the linger deadline (returned for the wheel, if one must
    /// be inserted) passes.
    pub fn write_shut_at(&mut self, now: u64, t: &Timeouts) -> Result<Option<u64>, Rest> {
        self.set_write_shut(true);
        if self.read_closed() {
            return Err(Rest::Close("answered"));
        }
        Ok(self.arm(now + t.linger))
    }
}
