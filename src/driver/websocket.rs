//! WebSockets in the driver: the switch from HTTP after the `101`, bytes in
//! through the sans-IO `ws::Receiver`, control frames answered here (ping →
//! pong, close → close), messages handed to the app, and the Close frame
//! that ends a socket for each reason it can end.
//!
//! A socket with no partial frame and no fragmented message holds no buffer:
//! the Receiver is kept (boxed in `Pending`) only while it has something to
//! finish.

use super::conn::{Pending, Phase};
use super::Server;
use crate::app::{Context, End, Message};
use crate::ws::{self, close, Incoming, OpCode, Receiver, Step};

impl Server {
    /// Sends the `101` and makes the connection a WebSocket. Bytes already
    /// read past the upgrade request are frames (RFC 6455 §4.2.2: "the
    /// server ... can begin sending and receiving data"); the caller hands
    /// them to [`Server::ws_input`].
    pub(super) fn start_websocket(&mut self, index: usize, accept: &str, first: &[u8]) {
        self.send(index, &ws::handshake::response(accept), 1, true, false);
        let Some(conn) = self.conns.get_mut(index) else { return };
        conn.phase = Phase::Ws { awaiting_pong: false };
        // Liveness is the heartbeat's ping and pong, not a deadline.
        conn.deadline = 0;
        self.stats.http -= 1;
        self.stats.ws += 1;
        if !first.is_empty() {
            if let Some(out) = self.queue(index) {
                out.push_bytes(first);
            }
        }
    }

    /// Frames from the client: as many whole frames as `data` (after what
    /// was kept from before) holds; an incomplete one is kept for next time.
    pub(super) fn ws_input(&mut self, index: usize, data: &mut [u8]) {
        let max_message = self.config.max_message;
        let Some(conn) = self.conns.get_mut(index) else { return };
        let (mut receiver, mut kept) = match conn.pending.take() {
            Some(pending) => {
                let pending = *pending;
                (pending.ws.unwrap_or_else(|| Receiver::new(max_message)), pending.buf)
            }
            None => (Receiver::new(max_message), Vec::new()),
        };
        let from_kept = !kept.is_empty();
        if from_kept {
            kept.extend_from_slice(data);
        }
        let buf: &mut [u8] = if from_kept { &mut kept } else { data };
        let mut used = 0;
        while self.conns.get(index).is_some_and(|c| matches!(c.phase, Phase::Ws { .. })) {
            match receiver.read(&mut buf[used..]) {
                Ok(Step::NeedMore) => break,
                Ok(Step::Fragment { used: n }) => used += n,
                Ok(Step::Event { event, used: n }) => {
                    used += n;
                    self.ws_event(index, event);
                }
                // RFC 6455 §7.1.7: "Fail the WebSocket Connection": a Close
                // with the code the violated rule names, then the close.
                Err(e) => {
                    log::debug!("conn={index} websocket: {e}");
                    self.ws_close(index, Some((e.close_code(), e.reason())), End::Gone);
                    return;
                }
            }
        }
        let left = buf.len() - used;
        let Some(conn) = self.conns.get_mut(index) else { return };
        if !matches!(conn.phase, Phase::Ws { .. }) || (left == 0 && receiver.is_idle()) {
            return;
        }
        let buf = if from_kept {
            kept.drain(..used);
            kept
        } else {
            data[used..].to_vec()
        };
        conn.pending = Some(Box::new(Pending { buf, progress: Default::default(), ws: Some(receiver) }));
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
                    if let Phase::Ws { awaiting_pong, .. } = &mut conn.phase {
                        *awaiting_pong = false;
                    }
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
        if !matches!(self.conns.get(index).map(|c| c.phase), Some(Phase::Ws { .. })) {
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
        conn.phase = Phase::Closing;
        conn.pending = None;
        self.stats.ws -= 1;
        self.stats.http += 1;
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
