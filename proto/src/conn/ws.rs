//! A connection's WebSocket: the input of one read, frame by frame, within
//! the budget all sockets share; what each control frame is answered with;
//! the Close frame each way of ending gets; and the switch to `Closing`.
//!
//! A socket with no partial frame and no fragmented message holds no
//! buffer: the `Receiver` is kept (boxed in `Pending`) only while it has
//! something to finish.

use super::{Connection, End, Pending, Phase, QueuePool, Timeouts};
use crate::ws::{self, close, session, Incoming, OpCode, Receiver, Step, WsError};

/// RFC 6455 §10.4: "Implementations that have implementation- and/or
/// platform-specific limitations regarding the frame size or total message
/// size after reassembly from multiple frames MUST protect themselves
/// against exceeding those limits." `--max-message` does it per socket;
/// this does it for every socket together (`--max-ws-buffered`): what all
/// of them hold of partial frames and fragmented messages, by capacity.
pub struct Budget<'a> {
    /// What every socket holds now (the figure `/stats` shows).
    pub held: &'a mut u64,
    pub max: usize,
}

impl Budget<'_> {
    /// How many more bytes of input the loop may hold now.
    pub fn room(&self) -> usize {
        self.max.saturating_sub(usize::try_from(*self.held).unwrap_or(usize::MAX))
    }

    /// One socket stops holding `bytes`. Never below zero; if it had to go
    /// there, the books are wrong (a debug build says so).
    pub fn release(&mut self, bytes: usize) {
        debug_assert!(
            bytes as u64 <= *self.held,
            "releasing {bytes} of {} bytes of WebSocket input",
            self.held
        );
        *self.held = self.held.saturating_sub(bytes as u64);
    }
}

/// What a WebSocket's pending input holds against the budget: its partial
/// frame and its fragmented message, by capacity (what the allocator gave,
/// not what is filled).
pub fn held(pending: &Pending) -> usize {
    pending.buf.capacity() + pending.ws.as_ref().map_or(0, Receiver::buffered)
}

/// Who a socket's input is for: the budget it is held against, and the
/// handler of each whole message and control frame.
pub trait Upper {
    /// The loop-wide input budget (`--max-ws-buffered`), as it is now.
    fn budget(&mut self) -> Budget<'_>;
    /// A whole message or control frame arrived (see [`answer`]). `false`:
    /// the socket is no longer open (it was closed while the frame was
    /// handled), so nothing more of its input is read.
    fn incoming(&mut self, event: Incoming<'_>) -> bool;
}

/// How [`Input::run`] ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ran {
    /// Every whole frame of the read was handled: [`Input::finish`].
    Read,
    /// The socket closed while a frame was handled: [`Input::abandon`].
    Closed,
}

/// The input of one read of a socket: [`Input::begin`], [`Input::run`],
/// then [`Input::finish`] (or [`Input::abandon`]).
///
/// The partial frame kept from before takes from the read only what
/// completes it ([`ws::frame_remaining`]), so it is one frame at most, and
/// the frames after it are read in place from the read buffer, unmasked
/// there, and handed out borrowed. Each growth of what is kept is checked
/// against the budget before it is allocated; a socket that would pass it
/// fails with [`WsError::BufferFull`], freeing what it held.
#[must_use = "an Input must be finished or abandoned, or what it counted stays in the budget"]
pub struct Input {
    receiver: Receiver,
    /// The partial frame kept from before, being completed.
    kept: Vec<u8>,
    /// What this socket has counted in the budget, kept exact after every
    /// step, so that the budget is the truth also while a message is with
    /// the app (another socket may be read meanwhile).
    counted: usize,
    /// Bytes of the read used so far.
    used: usize,
}

impl Input {
    /// Takes over the socket's pending input (what it kept from before).
    pub fn begin<S>(conn: &mut Connection<S>, max_message: usize, message_timeout: u64) -> Input {
        let (receiver, kept) = match conn.pending.take() {
            Some(pending) => {
                let pending = *pending;
                (pending.ws.unwrap_or_else(|| Receiver::new(max_message, message_timeout)), pending.buf)
            }
            None => (Receiver::new(max_message, message_timeout), Vec::new()),
        };
        let counted = kept.capacity() + receiver.buffered();
        Input { receiver, kept, counted, used: 0 }
    }

    /// This socket now holds `held` bytes of input.
    fn count(counted: &mut usize, budget: &mut Budget<'_>, held: usize) {
        budget.release(*counted);
        *budget.held += held as u64;
        *counted = held;
    }

    fn recount(&mut self, upper: &mut impl Upper) {
        let held = self.kept.capacity() + self.receiver.buffered();
        Self::count(&mut self.counted, &mut upper.budget(), held);
    }

    /// Hands every whole message and control frame of `data` (the read) to
    /// `upper`, in order.
    pub fn run(&mut self, data: &mut [u8], now: u64, upper: &mut impl Upper) -> Result<Ran, WsError> {
        // First finish the frame kept from before, taking only its bytes.
        while !self.kept.is_empty() {
            let rest = data.len() - self.used;
            let need = usize::try_from(ws::frame_remaining(&self.kept)).unwrap_or(usize::MAX);
            // 0 with a frame still short cannot happen; if it did, taking the
            // rest (as if it were all one frame) still makes progress.
            let take = if need == 0 { rest } else { need.min(rest) };
            if take > 0 {
                let end = self.kept.len().saturating_add(need.max(take));
                if !session::grow_within(&mut self.kept, take, end, upper.budget().room()) {
                    return Err(WsError::BufferFull);
                }
                self.recount(upper);
                self.kept.extend_from_slice(&data[self.used..self.used + take]);
                self.used += take;
            }
            let room = upper.budget().room();
            let used = match self.receiver.read(&mut self.kept, now, room)? {
                Step::NeedMore if self.used < data.len() => continue,
                Step::NeedMore => return Ok(Ran::Read),
                Step::Fragment { used } => used,
                Step::Event { event, used } => {
                    if !upper.incoming(event) {
                        return Ok(Ran::Closed);
                    }
                    used
                }
            };
            self.kept.drain(..used);
            if self.kept.is_empty() {
                self.kept = Vec::new();
            }
            self.recount(upper);
        }
        // Then the frames that follow, in place in the read buffer. (A
        // message delivered from fragments is counted once the app has it
        // back: the event borrows the Receiver. Its growth was checked
        // against the room before it was made.)
        loop {
            let room = upper.budget().room();
            let start = self.used.min(data.len());
            match self.receiver.read(&mut data[start..], now, room)? {
                Step::NeedMore => return Ok(Ran::Read),
                Step::Fragment { used } => self.used += used,
                Step::Event { event, used } => {
                    self.used += used;
                    if !upper.incoming(event) {
                        return Ok(Ran::Closed);
                    }
                }
            }
            self.recount(upper);
        }
    }

    /// The socket ended while a frame was with the app, or failed (the
    /// driver sends the Close frame [`WsError::close_code`] names): what
    /// this input held is freed.
    pub fn abandon(mut self, budget: &mut Budget<'_>) {
        Self::count(&mut self.counted, budget, 0);
    }
}

impl Drop for Input {
    /// An Input dropped with bytes still counted would leave them in the
    /// budget for good: a debug build says so.
    fn drop(&mut self) {
        debug_assert!(
            self.counted == 0 || std::thread::panicking(),
            "a WebSocket Input dropped with {} bytes counted",
            self.counted
        );
    }
}

impl Input {
    /// The read is used up: a partial frame at its end is kept (if the
    /// budget has room for it), and the socket's deadline follows what is
    /// unfinished (`--message-timeout`). Returns a time for the driver's
    /// wheel, if one must be inserted. While draining, the deadline is the
    /// drain's, and left alone. On an error, what it held is freed.
    pub fn finish<S>(
        mut self,
        conn: &mut Connection<S>,
        data: &[u8],
        budget: &mut Budget<'_>,
        draining: bool,
    ) -> Result<Option<u64>, WsError> {
        let held = self.kept.capacity() + self.receiver.buffered();
        Self::count(&mut self.counted, budget, held);
        let left = &data[self.used.min(data.len())..];
        if self.kept.is_empty() && !left.is_empty() {
            if left.len() > budget.room() {
                self.abandon(budget);
                return Err(WsError::BufferFull);
            }
            self.kept = left.to_vec();
            let held = self.kept.capacity() + self.receiver.buffered();
            Self::count(&mut self.counted, budget, held);
        }
        if self.kept.is_empty() && self.receiver.is_idle() {
            // Nothing unfinished: nothing held, nothing timed.
            self.abandon(budget);
            if !draining {
                conn.disarm();
            }
            return Ok(None);
        }
        let deadline = self.receiver.deadline();
        // What it holds moves into its `Pending`, still counted: the
        // Pending answers for it now (see `held`).
        let receiver = std::mem::replace(&mut self.receiver, Receiver::new(0, 0));
        let buf = std::mem::take(&mut self.kept);
        self.counted = 0;
        conn.pending = Some(Box::new(Pending { buf, progress: Default::default(), ws: Some(receiver) }));
        // The message's deadline: later reads of it set the same one (its
        // start does not move), and `arm` then writes one integer.
        Ok(match (deadline, draining) {
            (Some(deadline), false) => conn.arm(deadline),
            _ => None,
        })
    }
}

/// What a control frame or message from the client asks of the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// A whole message for the app (RFC 6455 §6.2), UTF-8 checked.
    Text(&'a str),
    Binary(&'a [u8]),
    /// §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong
    /// frame in response ... [with] identical Application data": this frame.
    /// It counts against `--max-queue` like any output: a client that sends
    /// pings and never reads must not grow our memory.
    Pong(Vec<u8>),
    /// §5.5.3: the heartbeat's pong came (or an unsolicited one: either
    /// says the peer is alive).
    Alive,
    /// §5.5.1: "the endpoint MUST send a Close frame in response ...
    /// typically echo[ing] the status code it received"; §7.1.1: the server
    /// then closes the TCP connection first. `0`: a Close with no status,
    /// for a peer that sent none.
    Close(u16),
}

/// What the server does with what the client sent.
pub fn answer(incoming: Incoming<'_>) -> Answer<'_> {
    match incoming {
        Incoming::Text(text) => Answer::Text(text),
        Incoming::Binary(bytes) => Answer::Binary(bytes),
        Incoming::Ping(payload) => {
            let mut frame = Vec::with_capacity(payload.len() + 2);
            ws::encode(OpCode::Pong, payload, &mut frame);
            Answer::Pong(frame)
        }
        Incoming::Pong(_) => Answer::Alive,
        Incoming::Close(code) => Answer::Close(code.map_or(0, |(code, _)| code)),
    }
}

/// The Close frame for each way the server ends a socket (RFC 6455
/// §7.4.1); `None`: no frame, the peer is gone.
pub fn close_code(why: End) -> Option<(u16, &'static str)> {
    match why {
        End::Done | End::Timeout => Some((close::NORMAL, "")),
        End::Shutdown => Some((close::GOING_AWAY, "server shutting down")),
        // SPEC §5: a WebSocket slow consumer is closed with 1013.
        End::TooSlow => Some((close::TRY_AGAIN_LATER, "too slow to read")),
        End::Gone => None,
    }
}

impl<S> Connection<S> {
    /// Ends a WebSocket: our Close frame (`code` 0 = a Close with no status;
    /// `None` = no frame, the peer is gone) goes out last, since §5.5.1
    /// sends nothing after a Close; then the connection closes as any
    /// answered HTTP connection does (half-close, linger). What its input
    /// held is freed. Returns a time for the driver's wheel, if one must be
    /// inserted; does nothing unless the connection is a WebSocket.
    #[must_use]
    pub fn ws_close(
        &mut self,
        frame: Option<(u16, &str)>,
        pool: &mut QueuePool,
        budget: &mut Budget<'_>,
        open: &mut super::Open,
        now: u64,
        t: &Timeouts,
    ) -> Option<u64> {
        if !matches!(self.phase(), Phase::Ws { .. }) {
            return None;
        }
        if let Some((code, reason)) = frame {
            let mut bytes = Vec::with_capacity(4 + reason.len());
            match code {
                0 => ws::encode(OpCode::Close, &[], &mut bytes),
                code => ws::encode_close(code, reason, &mut bytes),
            }
            self.queue(pool).push_bytes(&bytes);
        }
        self.set_phase(Phase::Closing, open);
        if let Some(pending) = self.pending.take() {
            budget.release(held(&pending));
        }
        self.arm(now + t.keepalive)
    }

    /// A WebSocket's deadline passed: that of an unfinished message
    /// (`--message-timeout`: RFC 6455 §7.1.7, fail the connection with
    /// 1008), else it moved (`Ok(Some(later))`) or is stale.
    pub fn ws_timeout(&mut self, now: u64) -> Result<Option<u64>, WsError> {
        let Some(receiver) = self.pending.as_ref().and_then(|p| p.ws.as_ref()) else { return Ok(None) };
        receiver.handle_timeout(now)?;
        Ok(receiver.deadline().and_then(|later| self.arm(later)))
    }
}

#[cfg(test)]
#[path = "ws_tests.rs"]
mod tests;
