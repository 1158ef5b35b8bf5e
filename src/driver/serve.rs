//! HTTP glue: a connection's bytes go to `conn::http::input`, which hands
//! each whole request here; the app's reply becomes a `conn::http::Answer`
//! the connection carries out; files come from `crate::files`.

use super::Server;
use crate::app::{Context, Reply};
use crate::conn::http::{self, Answer, Answered, Asked, Read, Upper};
use crate::conn::Phase;
use crate::http::request::{Method, Request};
use crate::http::response::Response;
use crate::http::HttpError;
use crate::ws::handshake;

impl Server {
    /// New bytes for a connection in the HTTP phase (empty when resuming
    /// after output drained). Whatever is not a whole request stays pending.
    pub(super) fn http_input(&mut self, index: usize, data: &[u8]) {
        let (limits, now, timeouts) = (self.config.limits, self.now, self.timeouts);
        match http::input(&mut Requests { server: self, index }, data, &limits, now, &timeouts) {
            Read::Deadline(Some(at)) => self.insert_deadline(index, at),
            Read::Deadline(None) | Read::Nothing => {}
            Read::Frames(mut frames) => self.ws_input(index, &mut frames),
        }
    }

    fn respond(&mut self, index: usize, req: &Request<'_>) {
        self.stats.requests += 1;
        let Some(key) = self.conns.key(index) else { return };
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        let answer = match self.app.handle(req, &cx, &mut self.actions) {
            Reply::Respond(response) => Answer::Respond(response),
            Reply::File(rel) => Answer::Respond(self.files.respond(req, &rel)),
            Reply::Stream { first, idle } => Answer::Stream { first, idle },
            Reply::Park { timeout } => Answer::Park { timeout },
            Reply::Upgrade { accept, first } => {
                Answer::Upgrade { switching: handshake::response(accept.value()), first }
            }
        };
        let asked = Asked { minor: req.minor, keep_alive: req.keep_alive, head: req.method == Method::Head };
        let Server { conns, pool, stats, date, now, timeouts, draining, .. } = self;
        let Some(conn) = conns.get_mut(index) else { return };
        let (answered, at) =
            conn.answer(answer, asked, *draining, date.get(), pool, &mut stats.open, *now, timeouts);
        if let Some(at) = at {
            self.insert_deadline(index, at);
        }
        if let Answered::NotStarted(why) = answered {
            let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
            self.app.on_end(&cx, why, &mut self.actions);
        }
        self.perform();
    }

    /// Answers without a request to answer (a parse error or a timeout), and
    /// closes after it.
    pub(super) fn refuse(&mut self, index: usize, response: Response) {
        let Server { conns, pool, stats, date, now, timeouts, .. } = self;
        let Some(conn) = conns.get_mut(index) else { return };
        if let Some(at) = conn.refuse(&response, date.get(), pool, &mut stats.open, *now, timeouts) {
            self.insert_deadline(index, at);
        }
    }

    /// Queues a response on a connection (see `Connection::send`).
    pub(super) fn send(&mut self, index: usize, response: &Response, minor: u8, keep_alive: bool) {
        let Server { conns, pool, stats, date, now, timeouts, .. } = self;
        let Some(conn) = conns.get_mut(index) else { return };
        if let Some(at) =
            conn.send(response, date.get(), minor, keep_alive, false, pool, &mut stats.open, *now, timeouts)
        {
            self.insert_deadline(index, at);
        }
    }

    /// Inserts a wheel entry the connection asked for.
    pub(super) fn insert_deadline(&mut self, index: usize, at: u64) {
        self.conns.schedule(index, at);
    }
}

/// A connection's requests as the driver takes them: each to the app.
struct Requests<'a> {
    server: &'a mut Server,
    index: usize,
}

impl Upper<mio::net::TcpStream> for Requests<'_> {
    fn conn(&mut self) -> Option<&mut super::conn::Conn> {
        self.server.conns.get_mut(self.index)
    }

    fn request(&mut self, req: &Request<'_>) {
        self.server.respond(self.index, req);
    }

    fn refuse(&mut self, e: HttpError) {
        log::debug!("conn={} refused: {e}", self.index);
        self.server.refuse(self.index, Response::error(e));
    }

    fn send_continue(&mut self) {
        let Server { conns, pool, .. } = &mut *self.server;
        if let Some(conn) = conns.get_mut(self.index) {
            if conn.phase() == Phase::Http {
                conn.send_continue(pool);
            }
        }
    }
}
