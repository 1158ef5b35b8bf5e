//! WebSockets in the driver: the switch from HTTP after the `101`, bytes in
//! through the sans-IO `ws::Receiver`, control frames answered here (ping →
//! pong, close → close), messages handed to the app, and the Close frame
//! that ends a socket for each reason it can end.
//!
//! A socket with no partial frame and no fragmented message holds no buffer:
//! the Receiver is kept (boxed in `Pending`) only while it has something to
//! finish.

use super::Server;
use crate::app::{Context, End, Message};
use crate::conn::{Pending, Phase};
use crate::ws::{self, close, session, Incoming, OpCode, Receiver, Step, WsError};

impl Server {
    /// Sends the `101` and makes the connection a WebSocket. Bytes already
    /// read past the upgrade request are frames (RFC 6455 §4.2.2: "the
    /// server ... can begin sending and receiving data"); the caller hands
    /// them to [`Server::ws_input`].
    pub(super) fn start_websocket(&mut self, index: usize, accept: &str, first: &[u8]) {
        self.send(index, &ws::handshake::response(accept), 1, true, false);
        let Some(conn) = self.conns.get_mut(index) else { return };
        conn.set_phase(Phase::Ws { awaiting_pong: false }, &mut self.stats.open);
        // Liveness is the heartbeat's ping and pong, not a deadline.
        conn.disarm();
        if !first.is_empty() {
            if let Some(out) = self.queue(index) {
                out.push_bytes(first);
            }
        }
    }

    /// Frames from the client: as many whole frames as `data` (after what
    /// was kept from before) holds; an incomplete one is kept for next time.
    ///
    /// RFC 6455 §10.4: what a socket keeps (its partial frame here, its
    /// fragmented message in the `Receiver`) counts against
    /// `--max-ws-buffered`, shared by every socket; each growth is checked
    /// before it is allocated, and a socket that would pass the budget is
    /// closed with 1009 ([`WsError::BufferFull`]), freeing what it held. The
    /// partial frame kept takes from the next read only what completes it
    /// ([`ws::frame_remaining`]), so it is one frame at most, and the frames
    /// after it are read in place from `data`.
    pub(super) fn ws_input(&mut self, index: usize, data: &mut [u8]) {
        let (max_message, now) = (self.config.max_message, self.now);
        let timeout = self.config.message_timeout.as_millis() as u64;
        let Some(conn) = self.conns.get_mut(index) else { return };
        let (mut receiver, mut kept) = match conn.pending.take() {
            Some(pending) => {
                let pending = *pending;
                (pending.ws.unwrap_or_else(|| Receiver::new(max_message, timeout)), pending.buf)
            }
            None => (Receiver::new(max_message, timeout), Vec::new()),
        };
        // What this socket has counted in `ws_buffered` (all it held when its
        // pending input was stored), kept exact after every change below, so
        // that `ws_buffered` is always the truth, also for another socket
        // read while this one's message is with the app.
        let mut counted = kept.capacity() + receiver.buffered();
        let mut from = 0;
        // First finish the frame kept from before, taking only its bytes.
        while !kept.is_empty() && self.is_ws(index) {
            let rest = data.len() - from;
            let need = usize::try_from(ws::frame_remaining(&kept)).unwrap_or(usize::MAX);
            // 0 with a frame still short cannot happen; if it did, taking the
            // rest (as if it were all one frame) still makes progress.
            let take = if need == 0 { rest } else { need.min(rest) };
            if take > 0 {
                let end = kept.len().saturating_add(need.max(take));
                if !session::grow_within(&mut kept, take, end, self.ws_room()) {
                    return self.ws_fail(index, WsError::BufferFull, counted);
                }
                self.ws_count(&mut counted, kept.capacity() + receiver.buffered());
                kept.extend_from_slice(&data[from..from + take]);
                from += take;
            }
            let used = match receiver.read(&mut kept, now, self.ws_room()) {
                Ok(Step::NeedMore) if from < data.len() => continue,
                Ok(Step::NeedMore) => break,
                Ok(Step::Fragment { used }) => used,
                Ok(Step::Event { event, used }) => {
                    self.ws_event(index, event);
                    used
                }
                Err(e) => return self.ws_fail(index, e, counted),
            };
            kept.drain(..used);
            if kept.is_empty() {
                kept = Vec::new();
            }
            self.ws_count(&mut counted, kept.capacity() + receiver.buffered());
        }
        // Then the frames that follow, in place in the loop's read buffer.
        let mut used = from;
        while kept.is_empty() && self.is_ws(index) {
            // (A message delivered from fragments is counted once the app
            // has it back: the event borrows the Receiver. Its growth was
            // checked against the room before it was made.)
            match receiver.read(&mut data[used..], now, self.ws_room()) {
                Ok(Step::NeedMore) => break,
                Ok(Step::Fragment { used: n }) => used += n,
                Ok(Step::Event { event, used: n }) => {
                    used += n;
                    self.ws_event(index, event);
                }
                Err(e) => return self.ws_fail(index, e, counted),
            }
            self.ws_count(&mut counted, receiver.buffered());
        }
        self.ws_count(&mut counted, kept.capacity() + receiver.buffered());
        if !self.is_ws(index) {
            // Closed while its message was with the app: nothing is kept.
            return self.ws_count(&mut counted, 0);
        }
        let left = &data[used.min(data.len())..];
        if kept.is_empty() && !left.is_empty() {
            // A partial frame: kept, if the budget has room for it.
            if left.len() > self.ws_room() {
                return self.ws_fail(index, WsError::BufferFull, counted);
            }
            kept = left.to_vec();
            self.ws_count(&mut counted, kept.capacity() + receiver.buffered());
        }
        let draining = self.draining;
        let Some(conn) = self.conns.get_mut(index) else { return };
        if kept.is_empty() && receiver.is_idle() {
            // Nothing unfinished: nothing held, nothing timed. (While
            // draining, the deadline is the drain's: left alone.)
            if !draining {
                conn.disarm();
            }
            drop(receiver);
            return self.ws_count(&mut counted, 0);
        }
        let deadline = receiver.deadline();
        conn.pending =
            Some(Box::new(Pending { buf: kept, progress: Default::default(), ws: Some(receiver) }));
        // The message's deadline: later reads of it set the same one (its
        // start does not move), and `arm` then writes one integer.
        if let (Some(deadline), false) = (deadline, draining) {
            self.arm(index, deadline);
        }
    }

    /// A WebSocket's deadline passed: it is that of an unfinished message
    /// (`--message-timeout`), else it was moved or is stale. RFC 6455
    /// §7.1.7: _Fail the WebSocket Connection_, with 1008.
    pub(super) fn ws_deadline(&mut self, index: usize) {
        let now = self.now;
        let Some(conn) = self.conns.get(index) else { return };
        let Some(receiver) = conn.pending.as_ref().and_then(|p| p.ws.as_ref()) else { return };
        match (receiver.handle_timeout(now), receiver.deadline()) {
            // Its input is in its `pending`: ws_close frees it.
            (Err(e), _) => self.ws_fail(index, e, 0),
            (Ok(()), Some(later)) => self.arm(index, later),
            (Ok(()), None) => {}
        }
    }

    /// RFC 6455 §7.1.7: "Fail the WebSocket Connection": a Close with the
    /// code the violated rule or limit names, then the close. `counted`:
    /// what the socket's input held (not stored in its `pending`), freed.
    fn ws_fail(&mut self, index: usize, e: WsError, counted: usize) {
        match e {
            // Our limits, not the peer's mistakes: worth an operator's eye.
            WsError::BufferFull => log::info!(
                "conn={index} websocket: {e} (it held {counted} B; all sockets {} B; --max-ws-buffered {} B)",
                self.stats.ws_buffered,
                self.config.max_ws_buffered
            ),
            WsError::MessageTimeout => {
                log::info!(
                    "conn={index} websocket: {e} (--message-timeout {:?})",
                    self.config.message_timeout
                )
            }
            _ => log::debug!("conn={index} websocket: {e}"),
        }
        self.stats.ws_buffered = release(self.stats.ws_buffered, counted);
        self.ws_close(index, Some((e.close_code(), e.reason())), End::Gone);
    }

    fn is_ws(&self, index: usize) -> bool {
        self.conns.get(index).is_some_and(|c| matches!(c.phase(), Phase::Ws { .. }))
    }

    /// How many more bytes of WebSocket input the loop may hold now
    /// (`--max-ws-buffered` less what every socket holds).
    fn ws_room(&self) -> usize {
        let held = usize::try_from(self.stats.ws_buffered).unwrap_or(usize::MAX);
        self.config.max_ws_buffered.saturating_sub(held)
    }

    /// A socket whose input had `counted` bytes counted now holds `held`.
    fn ws_count(&mut self, counted: &mut usize, held: usize) {
        self.stats.ws_buffered = release(self.stats.ws_buffered, *counted) + held as u64;
        *counted = held;
    }

    fn ws_event(&mut self, index: usize, event: Incoming<'_>) {
        match event {
            Incoming::Text(text) => self.ws_message(index, Message::Text(text)),
            Incoming::Binary(bytes) => self.ws_message(index, Message::Binary(bytes)),
            // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
            // Pong frame in response ... [with] identical Application data".
            // Pongs count against --max-queue like any output: a client
            // that sends pings and never reads must not grow our memory.
            Incoming::Ping(payload) => {
                let mut frame = Vec::with_capacity(payload.len() + 2);
                ws::encode(OpCode::Pong, payload, &mut frame);
                if self.room_for(index, frame.len()) {
                    self.ws_queue(index, &frame);
                }
            }
            Incoming::Pong(_) => {
                if let Some(conn) = self.conns.get_mut(index) {
                    conn.set_awaiting_pong(false);
                }
            }
            // §5.5.1: "the endpoint MUST send a Close frame in response ...
            // typically echo[ing] the status code it received"; §7.1.1: the
            // server then closes the TCP connection first.
            Incoming::Close(code) => {
                let echo = code.map(|(code, _)| (code, ""));
                self.ws_close(index, Some(echo.unwrap_or((0, ""))), End::Done);
            }
        }
    }

    fn ws_message(&mut self, index: usize, msg: Message<'_>) {
        let Some(key) = self.key(index) else { return };
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        self.app.on_message(&cx, msg, &mut self.actions);
        self.perform();
    }

    /// Queues a control frame and marks the connection for the end-of-pass
    /// flush.
    fn ws_queue(&mut self, index: usize, frame: &[u8]) {
        if let Some(out) = self.queue(index) {
            out.push_bytes(frame);
        }
        self.mark_dirty(index);
    }

    /// Ends a WebSocket: the app hears why, our Close frame goes out last
    /// (`code` 0 = a Close with no status, for a peer that sent none; `None`
    /// = no frame, the peer is gone), then the connection closes as any
    /// answered HTTP connection does (half-close, linger).
    pub(super) fn ws_close(&mut self, index: usize, frame: Option<(u16, &str)>, why: End) {
        if !matches!(self.conns.get(index).map(|c| c.phase()), Some(Phase::Ws { .. })) {
            return;
        }
        self.notify_end(index, why);
        if let Some((code, reason)) = frame {
            let mut bytes = Vec::with_capacity(4 + reason.len());
            match code {
                0 => ws::encode(OpCode::Close, &[], &mut bytes),
                code => ws::encode_close(code, reason, &mut bytes),
            }
            self.ws_queue(index, &bytes);
        }
        let deadline = self.after(self.config.keepalive_timeout);
        let Some(conn) = self.conns.get_mut(index) else { return };
        conn.set_phase(Phase::Closing, &mut self.stats.open);
        if let Some(pending) = conn.pending.take() {
            self.stats.ws_buffered = release(self.stats.ws_buffered, held(&pending));
        }
        self.arm(index, deadline);
        self.mark_dirty(index);
    }

    /// The Close code for each way the server ends a socket (RFC 6455 §7.4.1).
    pub(super) fn ws_close_code(why: End) -> Option<(u16, &'static str)> {
        match why {
            End::Done | End::Timeout => Some((close::NORMAL, "")),
            End::Shutdown => Some((close::GOING_AWAY, "server shutting down")),
            // SPEC §5: a WebSocket slow consumer is closed with 1013.
            End::TooSlow => Some((close::TRY_AGAIN_LATER, "too slow to read")),
            End::Gone => None,
        }
    }
}

/// What a WebSocket's pending input holds against `--max-ws-buffered`: its
/// partial frame and its fragmented message, by capacity (what the
/// allocator gave, not what is filled).
pub(super) fn held(pending: &Pending) -> usize {
    pending.buf.capacity() + pending.ws.as_ref().map_or(0, Receiver::buffered)
}

/// `total` less what one socket stops holding. It never goes below zero;
/// if it had to, the books are wrong (a debug build says so).
pub(super) fn release(total: u64, held: usize) -> u64 {
    debug_assert!(held as u64 <= total, "releasing {held} of {total} bytes of WebSocket input");
    total.saturating_sub(held as u64)
}
