//! Receiving on one connection: frames in, messages and control frames out
//! (RFC 6455 §5.4 fragmentation, §5.5 control frames, §5.5.1 close, §5.6
//! and §8.1 UTF-8, §10.4 size limits). Sans-IO: the driver appends what the
//! socket gave to its buffer and calls [`Receiver::read`] until it says
//! [`Step::NeedMore`], dropping `used` bytes from the front after each step.
//!
//! Memory: a whole single-frame message is handed out borrowed from the
//! driver's buffer (unmasked in place, no copy). Only a fragmented message
//! is copied, into a buffer the `Receiver` owns, checked against
//! `max_message` before it grows and never grown past it, and against the
//! `room` the caller gives each [`Receiver::read`]: the loop's budget for
//! the input all its sockets hold (`--max-ws-buffered`), as a flow-control
//! window is given to a QUIC connection. Past it: [`WsError::BufferFull`].
//!
//! Time is an input too: each read gets `now`, and the `Receiver` keeps when
//! the unfinished message (or frame) began, so that it can say when that
//! message is out of time ([`Receiver::deadline`]) and, once it is, fail it
//! ([`Receiver::handle_timeout`], [`WsError::MessageTimeout`]). It reads
//! no clock.

use super::close::parse_close;
use super::error::WsError;
use super::frame::{decode_header, FrameHeader, OpCode};
use super::mask::unmask;
use super::utf8::Utf8Validator;

/// What a frame completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A whole text message, UTF-8 checked.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong
    /// frame in response, unless it already received a Close frame"; §5.5.3:
    /// with "identical "Application data"" (this payload).
    Ping(&'a [u8]),
    /// §5.5.3: a Pong, solicited or not ("A response to an unsolicited Pong
    /// frame is not expected").
    Pong(&'a [u8]),
    /// §5.5.1: the peer's Close, with its status code and reason if it sent
    /// one. "If an endpoint receives a Close frame and did not previously send
    /// a Close frame, the endpoint MUST send a Close frame in response. (When
    /// sending a Close frame in response, the endpoint typically echos the
    /// status code it received.)" The driver stops reading after it.
    Close(Option<(u16, &'a str)>),
}

/// The answer to one [`Receiver::read`].
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// The next frame is not all here: no byte was used. Call again with the
    /// same bytes and more appended.
    NeedMore,
    /// The first `used` bytes were a data frame that does not end its
    /// message: nothing to deliver yet.
    Fragment { used: usize },
    /// The first `used` bytes were a frame that completed `event`.
    Event { event: Incoming<'a>, used: usize },
}

/// The receiving half of one WebSocket connection.
#[derive(Debug)]
pub struct Receiver {
    max_message: usize,
    /// How long (ms) a message may take from its first byte to its last.
    message_timeout: u64,
    /// When (ms, the caller's clock) the first byte of what is unfinished
    /// arrived: a data message from its first frame to its last, or a frame
    /// between messages (a control frame, or a message's first frame) until
    /// it is whole. Control frames between fragments leave it alone (§5.4
    /// lets them in; they do not move the message on). `None`: nothing
    /// unfinished.
    started: Option<u64>,
    state: State,
    /// The fragmented message that the previous call completed, kept only so
    /// that the event can borrow it; freed by the next call.
    delivered: Vec<u8>,
    /// Fail-fast progress through the text payload of a frame that has not
    /// all arrived (see [`Receiver::check_arrived_text`]).
    peek: Peek,
}

/// §5.4, as seen by the receiver.
#[derive(Debug)]
enum State {
    /// Between messages: the next data frame must start one (Text or Binary).
    Idle,
    /// A fragmented message has begun: the next data frame must continue it.
    Fragmented(Message),
}

#[derive(Debug)]
struct Message {
    text: bool,
    data: Vec<u8>,
    /// The UTF-8 state at the end of `data` (text messages only).
    utf8: Utf8Validator,
}

/// How much of the pending frame's text payload has been checked, and the
/// validator's state there. `checked == 0`: nothing yet.
#[derive(Default, Debug)]
struct Peek {
    checked: usize,
    utf8: Utf8Validator,
}

impl Receiver {
    /// A receiver that refuses messages over `max_message` bytes (§10.4:
    /// "Implementations that have implementation- and/or platform-specific
    /// limitations regarding the frame size or total message size after
    /// reassembly from multiple frames MUST protect themselves against
    /// exceeding those limits.")
    ///
    /// A message must also be whole within `message_timeout` ms of its first
    /// byte (see [`Receiver::deadline`]).
    pub fn new(max_message: usize, message_timeout: u64) -> Receiver {
        Receiver {
            max_message,
            message_timeout,
            started: None,
            state: State::Idle,
            delivered: Vec::new(),
            peek: Peek::default(),
        }
    }

    /// Reads one whole frame from the front of `buf`, unmasking its payload
    /// in place, and says what it completed and how many bytes it used
    /// ([`Step`]). A violation is an error that knows its close code; after
    /// one, the connection is failed and the `Receiver` is not used again.
    ///
    /// `now` is when these bytes arrived (ms; only differences matter).
    /// `room` is how many more bytes the `Receiver` may allocate to keep a
    /// fragmented message; a fragment that needs more is
    /// [`WsError::BufferFull`], refused before anything is allocated. A
    /// single-frame message needs no room: it is borrowed from `buf`.
    ///
    /// Contract: between a `NeedMore` and the next call, the front of `buf`
    /// holds the same bytes (more may follow). The `Receiver` remembers how
    /// far it has checked a partly arrived text frame; bytes changed under it
    /// can only move where an invalid text is noticed, never make one pass
    /// (every `Text` event is checked whole by `std::str::from_utf8`).
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8], now: u64, room: usize) -> Result<Step<'a>, WsError> {
        self.delivered = Vec::new();
        if !buf.is_empty() && self.started.is_none() {
            self.started = Some(now);
        }
        let Some((header, header_len)) = decode_header(buf)? else { return Ok(Step::NeedMore) };
        let Some(mask) = header.mask else { return Err(WsError::UnmaskedFrame) };
        // Everything the header decides is decided before waiting for the
        // payload: a peer cannot make us wait for (or buffer) 2^63 bytes.
        let text_from = self.admit(&header)?;
        let Some(end) = usize::try_from(header.len).ok().and_then(|len| header_len.checked_add(len)) else {
            return Err(WsError::MessageTooLarge);
        };
        if buf.len() < end {
            if let Some(start) = text_from {
                let arrived = buf.get(header_len..).unwrap_or_default();
                self.check_arrived_text(arrived, mask, start)?;
            }
            return Ok(Step::NeedMore);
        }
        let peek = std::mem::take(&mut self.peek);
        let Some(payload) = buf.get_mut(header_len..end) else { return Ok(Step::NeedMore) };
        unmask(payload, mask, 0);
        let payload: &'a [u8] = payload;
        let used = end;
        let event = match header.opcode {
            OpCode::Ping => Incoming::Ping(payload),
            OpCode::Pong => Incoming::Pong(payload),
            OpCode::Close => Incoming::Close(parse_close(payload)?),
            // §5.4: "An unfragmented message consists of a single frame with
            // the FIN bit set (Section 5.2) and an opcode other than 0."
            OpCode::Text if header.fin => {
                Incoming::Text(std::str::from_utf8(payload).map_err(|_| WsError::InvalidUtf8)?)
            }
            OpCode::Binary if header.fin => Incoming::Binary(payload),
            // §5.4: "A fragmented message consists of a single frame with the
            // FIN bit clear and an opcode other than 0, followed by zero or
            // more frames with the FIN bit clear and the opcode set to 0, and
            // terminated by a single frame with the FIN bit set and an opcode
            // of 0."
            OpCode::Text | OpCode::Binary => {
                let text = header.opcode == OpCode::Text;
                let utf8 = match text_from {
                    Some(start) => resume_text(peek, start, payload)?,
                    None => Utf8Validator::default(),
                };
                // §10.4: checked before the copy is made.
                if payload.len() > room {
                    return Err(WsError::BufferFull);
                }
                self.state = State::Fragmented(Message { text, data: payload.to_vec(), utf8 });
                return Ok(Step::Fragment { used });
            }
            OpCode::Continuation => return self.continuation(header.fin, payload, peek, used, room),
        };
        // A whole message, or a control frame: between messages, nothing is
        // unfinished now; between fragments, the message's clock runs on.
        if matches!(self.state, State::Idle) {
            self.started = None;
        }
        Ok(Step::Event { event, used })
    }

    /// Whether the `Receiver` holds nothing worth keeping: no fragmented
    /// message in progress and no partly checked text frame. The driver may
    /// drop it then (and keep none for an idle connection) and start a new
    /// one for the next frame.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.peek.checked == 0 && self.started.is_none()
    }

    /// The bytes this `Receiver` holds (the fragmented message so far, by
    /// capacity), for the caller's budget.
    pub fn buffered(&self) -> usize {
        let message = match &self.state {
            State::Fragmented(msg) => msg.data.capacity(),
            State::Idle => 0,
        };
        message + self.delivered.capacity()
    }

    /// When the unfinished message (or frame) runs out of time: its first
    /// byte's `now` plus the message timeout. `None` while nothing is
    /// unfinished. Only the message's own end moves it: pings and pongs
    /// between its fragments do not (a peer could otherwise keep a message,
    /// and what it holds, open forever).
    pub fn deadline(&self) -> Option<u64> {
        self.started.map(|t| t.saturating_add(self.message_timeout))
    }

    /// Time has passed: at or past [`Receiver::deadline`] the unfinished
    /// message is [`WsError::MessageTimeout`], and the connection is failed.
    pub fn handle_timeout(&self, now: u64) -> Result<(), WsError> {
        match self.deadline() {
            Some(deadline) if now >= deadline => Err(WsError::MessageTimeout),
            _ => Ok(()),
        }
    }

    /// The checks a data frame's header alone decides, against the state of
    /// the connection. Returns the UTF-8 state its payload starts from when
    /// the payload is text.
    fn admit(&self, header: &FrameHeader) -> Result<Option<Utf8Validator>, WsError> {
        let max = u64::try_from(self.max_message).unwrap_or(u64::MAX);
        match (header.opcode, &self.state) {
            (OpCode::Continuation, State::Idle) => Err(WsError::UnexpectedContinuation),
            (OpCode::Continuation, State::Fragmented(msg)) => {
                let so_far = u64::try_from(msg.data.len()).unwrap_or(u64::MAX);
                if so_far.saturating_add(header.len) > max {
                    return Err(WsError::MessageTooLarge);
                }
                Ok(msg.text.then_some(msg.utf8))
            }
            // §5.4: "The fragments of one message MUST NOT be interleaved
            // between the fragments of another message unless an extension
            // has been negotiated that can interpret the interleaving."
            (OpCode::Text | OpCode::Binary, State::Fragmented(_)) => Err(WsError::ExpectedContinuation),
            (OpCode::Text | OpCode::Binary, State::Idle) => {
                if header.len > max {
                    return Err(WsError::MessageTooLarge);
                }
                Ok((header.opcode == OpCode::Text).then(Utf8Validator::default))
            }
            // §5.4: "Control frames (see Section 5.5) MAY be injected in the
            // middle of a fragmented message." They leave the state alone.
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => Ok(None),
        }
    }

    /// A continuation frame: append it to the message; deliver the message
    /// when FIN is set.
    fn continuation<'a>(
        &'a mut self,
        fin: bool,
        payload: &[u8],
        peek: Peek,
        used: usize,
        room: usize,
    ) -> Result<Step<'a>, WsError> {
        let State::Fragmented(msg) = &mut self.state else { return Err(WsError::UnexpectedContinuation) };
        if msg.text {
            msg.utf8 = resume_text(peek, msg.utf8, payload)?;
        }
        if !grow_within(&mut msg.data, payload.len(), self.max_message, room) {
            return Err(WsError::BufferFull);
        }
        msg.data.extend_from_slice(payload);
        if !fin {
            return Ok(Step::Fragment { used });
        }
        // §5.6: "the whole message MUST contain valid UTF-8": it may not end
        // inside a sequence.
        if msg.text && !msg.utf8.is_complete() {
            return Err(WsError::InvalidUtf8);
        }
        let text = msg.text;
        let State::Fragmented(msg) = std::mem::replace(&mut self.state, State::Idle) else {
            return Err(WsError::UnexpectedContinuation);
        };
        self.started = None;
        self.delivered = msg.data;
        let data = &self.delivered;
        let event = if text {
            // Already validated piece by piece; this pass only proves it to
            // the type system (no `unsafe` from_utf8_unchecked).
            Incoming::Text(std::str::from_utf8(data).map_err(|_| WsError::InvalidUtf8)?)
        } else {
            Incoming::Binary(data)
        };
        Ok(Step::Event { event, used })
    }

    /// §8.1 fail fast: checks the text bytes of a frame that has not all
    /// arrived, so that an invalid sequence fails the connection when its
    /// first bad byte arrives rather than when the frame ends (Autobahn
    /// 6.4.3-6.4.4). Unmasks into a scratch copy (the buffer is left as it
    /// was: nothing is used) and checks only what arrived since last time.
    fn check_arrived_text(
        &mut self,
        arrived: &[u8],
        mask: [u8; 4],
        start: Utf8Validator,
    ) -> Result<(), WsError> {
        if self.peek.checked == 0 || self.peek.checked > arrived.len() {
            self.peek = Peek { checked: 0, utf8: start };
        }
        let mut scratch = [0u8; 512];
        while let Some(rest) = arrived.get(self.peek.checked..).filter(|rest| !rest.is_empty()) {
            let n = rest.len().min(scratch.len());
            let (Some(piece), Some(from)) = (scratch.get_mut(..n), rest.get(..n)) else { break };
            piece.copy_from_slice(from);
            unmask(piece, mask, self.peek.checked);
            self.peek.utf8.feed(piece).map_err(|_| WsError::InvalidUtf8)?;
            self.peek.checked += n;
        }
        Ok(())
    }
}

/// The UTF-8 state after a text frame's `payload`, starting from `start`
/// (or from where the fail-fast check of this frame stopped).
fn resume_text(peek: Peek, start: Utf8Validator, payload: &[u8]) -> Result<Utf8Validator, WsError> {
    let (mut utf8, from) = match peek.checked {
        n if n > 0 && n <= payload.len() => (peek.utf8, n),
        _ => (start, 0),
    };
    utf8.feed(payload.get(from..).unwrap_or_default()).map_err(|_| WsError::InvalidUtf8)?;
    Ok(utf8)
}

/// Makes room for `more` bytes without letting the capacity pass `max` or
/// grow by more than `room`: amortised doubling, but never the 2x overshoot
/// of `Vec`'s own growth. `false`, with nothing allocated, when the bytes do
/// not fit (the budget is checked before the allocation, never after).
/// Shared with the driver, which grows the partial frame it keeps this way.
pub fn grow_within(data: &mut Vec<u8>, more: usize, max: usize, room: usize) -> bool {
    let needed = data.len().saturating_add(more);
    let capacity = data.capacity();
    if needed <= capacity {
        return true;
    }
    let limit = max.min(capacity.saturating_add(room));
    if needed > limit {
        return false;
    }
    let target = needed.max(capacity.saturating_mul(2)).min(limit);
    data.reserve_exact(target - data.len());
    true
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
