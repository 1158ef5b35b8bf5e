//! A connection that carries pushed data (an event stream or a WebSocket):
//! events queued within the slow-consumer cap, heartbeats and the pong
//! they wait for, replays fed as the queue drains, the app told once that
//! it ended, and the spread-out close of a drain.

use std::rc::Rc;

use super::{Connection, End, Phase, QueuePool};
use crate::{sse, ws};

/// The bytes every connection's heartbeat shares, encoded once a sweep.
pub struct Beats {
    /// SPEC §4: a `: heartbeat` comment line, with no blank line after it
    /// (WHATWG HTML §9.2.6: a comment dispatches nothing).
    pub comment: Rc<[u8]>,
    /// RFC 6455 §5.5.2: "A Ping frame MAY be sent after the connection is
    /// established"; an empty one.
    pub ping: Rc<[u8]>,
}

impl Beats {
    pub fn new() -> Beats {
        let mut comment = Vec::new();
        sse::comment("heartbeat", &mut comment);
        let mut ping = Vec::new();
        ws::encode(ws::OpCode::Ping, &[], &mut ping);
        Beats { comment: comment.into(), ping: ping.into() }
    }
}

impl Default for Beats {
    fn default() -> Self {
        Beats::new()
    }
}

/// What a heartbeat sweep did to a connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Beat {
    /// Nothing: not a stream, or one that already ended.
    None,
    /// The comment or ping is queued.
    Queued,
    /// SPEC §4 ("idle pings and a pong timeout"): the last ping is still
    /// unanswered a whole beat later; see [`Connection::pong_overdue`] for
    /// how it ends, asked when its turn to close comes (closing another
    /// silent socket first may queue output on this one).
    Silent,
}

impl<S> Connection<S> {
    /// A stream or socket the app still feeds.
    pub fn is_live_stream(&self) -> bool {
        matches!(self.phase(), Phase::Sse { .. } | Phase::Ws { .. }) && !self.ended()
    }

    /// The app is to hear, once, that this stream, socket or parked
    /// request ended: true the first time only, and only for those.
    pub fn take_end(&mut self) -> bool {
        if self.ended() || !self.phase().is_held() {
            return false;
        }
        self.set_ended(true);
        true
    }

    /// SPEC §5: whether `len` more bytes fit under the slow-consumer cap.
    /// An empty queue takes any event, however large: one big message must
    /// not drop a reader that keeps up.
    pub fn has_room(&self, len: usize, cap: usize) -> bool {
        let queued = self.queued_bytes();
        queued == 0 || queued + len <= cap
    }

    /// Queues one event or frame on a live stream: `head` (copied), then
    /// `bytes[from..]` (by reference). The caller has checked the room.
    /// "No data sent for the timeout" ends an idle stream, and an event is
    /// data, so its idle deadline moves (while draining, the deadline is
    /// its spread-out close, and stays). Returns whether it was queued and
    /// a time for the driver's wheel, if one must be inserted.
    #[must_use]
    pub fn push_event(
        &mut self,
        head: &[u8],
        bytes: Rc<[u8]>,
        from: usize,
        pool: &mut QueuePool,
        now: u64,
        draining: bool,
    ) -> (bool, Option<u64>) {
        let idle_ms = match self.phase() {
            Phase::Sse { idle_ms } => idle_ms.get(),
            Phase::Ws { .. } => 0,
            _ => return (false, None),
        };
        if self.ended() {
            return (false, None);
        }
        let out = self.queue(pool);
        if !head.is_empty() {
            out.push_bytes(head);
        }
        out.push_shared_from(bytes, from);
        let at = (idle_ms > 0 && !draining).then(|| self.arm(now + u64::from(idle_ms))).flatten();
        (true, at)
    }

    /// The heartbeat sweep reaches this connection.
    pub fn heartbeat(&mut self, beats: &Beats, pool: &mut QueuePool) -> Beat {
        let bytes = match self.phase() {
            Phase::Sse { .. } if !self.ended() => &beats.comment,
            Phase::Ws { awaiting_pong: true } => return Beat::Silent,
            Phase::Ws { awaiting_pong: false } => {
                self.set_awaiting_pong(true);
                &beats.ping
            }
            _ => return Beat::None,
        };
        self.queue(pool).push_shared(bytes.clone());
        Beat::Queued
    }

    /// How a socket whose pong is overdue ends. With output still queued,
    /// the ping may be stuck behind it: a client too slow to read
    /// (`TooSlow`, close 1013, counted as a drop); with nothing queued it
    /// had every chance: `Gone`, closed without a word.
    pub fn pong_overdue(&self) -> End {
        if self.queued_bytes() > 0 {
            End::TooSlow
        } else {
            End::Gone
        }
    }

    /// What a stream's idle timeout or a parked request's poll timeout
    /// leaves to do once the app has heard of it ([`Expired::Stream`]).
    ///
    /// [`Expired::Stream`]: super::Expired::Stream
    pub fn timed_out(&self) -> TimedOut {
        match self.phase() {
            Phase::Sse { .. } => TimedOut::EndStream,
            // The app should have answered; a parked request must not hang.
            Phase::Parked { .. } => TimedOut::Unanswered,
            _ => TimedOut::Nothing,
        }
    }

    /// A replay fed from history asks for more once its queue is at most
    /// half full, so that a reader that keeps up always has the next batch
    /// queued behind the one in flight; never while draining.
    pub fn wants_pull(&self, max_queue: usize, draining: bool) -> bool {
        self.pulling() && !self.ended() && !draining && self.queued_bytes() <= max_queue / 2
    }

    /// SPEC §1: this stream's turn in a drain. An event stream gets the
    /// `retry:` that spreads its reconnect (a WebSocket gets its Close 1001
    /// when the deadline comes); the deadline becomes `close_at`, even if it
    /// is later than the one the wheel holds. Returns the wheel's entry.
    #[must_use]
    pub fn drain(&mut self, retry_ms: u64, close_at: u64, pool: &mut QueuePool) -> Option<u64> {
        if matches!(self.phase(), Phase::Sse { .. }) {
            let mut bytes = Vec::with_capacity(16);
            sse::retry(retry_ms, &mut bytes);
            self.queue(pool).push_bytes(&bytes);
        }
        self.reset_timer();
        self.arm(close_at)
    }
}

/// What follows a stream's or a parked request's timeout.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimedOut {
    /// The stream ends, with `End::Timeout` (a WebSocket: Close 1000).
    EndStream,
    /// The app did not answer the long-poll: it gets
    /// [`super::http::unanswered`] (500), then the requests behind it are read.
    Unanswered,
    /// The app already ended or answered it.
    Nothing,
}

/// SPEC §1: on shutdown, "send every SSE client `retry:` with a random
/// jitter and close, ... spread the closes over --drain-secs so clients do
/// not reconnect all at once". Stream `i` of `count` closes at its even
/// share of the window, and its client reconnects at a random moment after
/// the window: `(retry_ms, close_at)`.
pub struct Spread {
    seed: u64,
    window: u64,
    count: u64,
    now: u64,
}

impl Spread {
    /// `seed` only spreads (it need not be secret); `window` in ms.
    pub fn new(seed: u64, window: u64, count: usize, now: u64) -> Spread {
        Spread { seed: seed | 1, window, count: count.max(1) as u64, now }
    }

    /// The `i`-th stream's reconnect delay and close time.
    pub fn next(&mut self, i: usize) -> (u64, u64) {
        // xorshift64: jitter needs to be spread, not secret.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let retry = 1000 + self.seed % (self.window + 1000);
        (retry, self.now + self.window * i as u64 / self.count)
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
