//! WebSockets in the driver: the switch from HTTP after the `101`, each
//! read handed to the connection's `conn::ws::Input`, what it yields carried
//! to the app or answered as `conn::ws::answer` says, and the close.

use super::Server;
use crate::app::{Context, End, Message};
use crate::conn::ws::{self, Answer, Budget, Input, Ran, Upper};
use crate::conn::Phase;
use crate::ws::{Incoming, WsError};

impl Server {
    /// Frames from the client: every whole one in `data` (after what was
    /// kept from before) goes to the app or is answered; an incomplete one
    /// is kept for next time.
    pub(super) fn ws_input(&mut self, index: usize, data: &mut [u8]) {
        let (max_message, timeout) =
            (self.config.max_message, self.config.message_timeout.as_millis() as u64);
        let Some(conn) = self.conns.get_mut(index) else { return };
        let mut input = Input::begin(conn, max_message, timeout);
        let ran = input.run(data, self.now, &mut Socket { server: self, index });
        let draining = self.draining;
        let Server { conns, stats, config, .. } = self;
        let mut budget = Budget { held: &mut stats.ws_buffered, max: config.max_ws_buffered };
        let result = match (ran, conns.get_mut(index)) {
            (Ok(Ran::Read), Some(conn)) => input.finish(conn, data, &mut budget, draining),
            (Err(e), _) => {
                input.abandon(&mut budget);
                Err(e)
            }
            _ => return input.abandon(&mut budget),
        };
        match result {
            Ok(Some(at)) => self.conns.schedule(index, at),
            Ok(None) => {}
            Err(e) => self.ws_fail(index, e),
        }
    }

    /// A WebSocket's deadline passed: its unfinished message's
    /// (`--message-timeout`), or one that moved.
    pub(super) fn ws_deadline(&mut self, index: usize) {
        let Some(conn) = self.conns.get_mut(index) else { return };
        match conn.ws_timeout(self.now) {
            Ok(Some(at)) => self.conns.schedule(index, at),
            Ok(None) => {}
            Err(e) => self.ws_fail(index, e),
        }
    }

    /// RFC 6455 §7.1.7: "Fail the WebSocket Connection": a Close with the
    /// code the violated rule or limit names, then the close.
    fn ws_fail(&mut self, index: usize, e: WsError) {
        match e {
            // Our limits, not the peer's mistakes: worth an operator's eye.
            WsError::BufferFull => log::info!(
                "conn={index} websocket: {e} (all sockets hold {} B; --max-ws-buffered {} B)",
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
        self.ws_close(index, Some((e.close_code(), e.reason())), End::Gone);
    }

    fn ws_event(&mut self, index: usize, event: Incoming<'_>) {
        match ws::answer(event) {
            Answer::Text(text) => self.ws_message(index, Message::Text(text)),
            Answer::Binary(bytes) => self.ws_message(index, Message::Binary(bytes)),
            Answer::Pong(frame) => {
                if self.room_for(index, frame.len()) {
                    if let Some(conn) = self.conns.get_mut(index) {
                        conn.queue(&mut self.pool).push_bytes(&frame);
                    }
                    self.mark_dirty(index);
                }
            }
            Answer::Alive => {
                if let Some(conn) = self.conns.get_mut(index) {
                    conn.set_awaiting_pong(false);
                }
            }
            Answer::Close(code) => self.ws_close(index, Some((code, "")), End::Done),
        }
    }

    fn ws_message(&mut self, index: usize, msg: Message<'_>) {
        let Some(key) = self.conns.key(index) else { return };
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        self.app.on_message(&cx, msg, &mut self.actions);
        self.perform();
    }

    /// Ends a WebSocket: the app hears why, then the connection queues our
    /// Close frame last (`None`: no frame, the peer is gone) and closes as
    /// any answered HTTP connection does.
    pub(super) fn ws_close(&mut self, index: usize, frame: Option<(u16, &str)>, why: End) {
        if !matches!(self.conns.get(index).map(|c| c.phase()), Some(Phase::Ws { .. })) {
            return;
        }
        self.notify_end(index, why);
        let Server { conns, pool, stats, config, now, timeouts, .. } = self;
        let Some(conn) = conns.get_mut(index) else { return };
        let mut budget = Budget { held: &mut stats.ws_buffered, max: config.max_ws_buffered };
        if let Some(at) = conn.ws_close(frame, pool, &mut budget, &mut stats.open, *now, timeouts) {
            conns.schedule(index, at);
        }
        self.mark_dirty(index);
    }
}

/// A socket's input as the driver takes it: messages to the app, control
/// frames answered, against the loop's budget.
struct Socket<'a> {
    server: &'a mut Server,
    index: usize,
}

impl Upper for Socket<'_> {
    fn budget(&mut self) -> Budget<'_> {
        Budget { held: &mut self.server.stats.ws_buffered, max: self.server.config.max_ws_buffered }
    }

    fn incoming(&mut self, event: Incoming<'_>) -> bool {
        self.server.ws_event(self.index, event);
        matches!(self.server.conns.get(self.index).map(|c| c.phase()), Some(Phase::Ws { .. }))
    }
}
