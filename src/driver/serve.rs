//! HTTP glue: bytes of a connection → requests (http::request) → the app's
//! replies → bytes in its queue. Responses leave in request order because
//! each is queued before the next request is read (RFC 9112 §9.3.2).

use super::files::Lookup;
use super::Server;
use crate::app::{Context, End, Reply};
use crate::config::{MAX_HEADERS, MAX_HTTP_OUTPUT};
use crate::conn::OutQueue;
use crate::conn::{Pending, Phase};
use crate::http::request::{self, Method, Parse, Progress, Request};
use crate::http::response::{Body, Response, CONTINUE};
use crate::http::site;
use crate::sse;

impl Server {
    /// New bytes for a connection in the HTTP phase (empty when resuming
    /// after output drained). Whatever is not a whole request stays pending.
    pub(super) fn http_input(&mut self, index: usize, data: &[u8]) {
        let Some(conn) = self.conns.get_mut(index) else { return };
        let had_pending = conn.pending.is_some();
        let (pending, used) = match conn.pending.take() {
            Some(mut pending) => {
                pending.buf.extend_from_slice(data);
                let used = self.requests(index, &pending.buf, &mut pending.progress);
                pending.buf.drain(..used);
                ((!pending.buf.is_empty()).then_some(pending), used)
            }
            None => {
                let mut progress = Progress::default();
                let used = self.requests(index, data, &mut progress);
                let rest = (used < data.len())
                    .then(|| Box::new(Pending { buf: data[used..].to_vec(), progress, ws: None }));
                (rest, used)
            }
        };
        // A request completed here, so what is pending is a new request: its
        // head deadline starts now.
        let new_request = !had_pending || used > 0;
        let Some(conn) = self.conns.get_mut(index) else { return };
        match conn.phase() {
            Phase::Http => {}
            // Requests pipelined behind a parked one wait for its answer.
            Phase::Parked { .. } => return conn.pending = pending,
            // RFC 6455 §4.2.2: what follows the upgrade request is frames.
            Phase::Ws { .. } => {
                if let Some(pending) = pending {
                    let mut tail = pending.buf;
                    self.ws_input(index, &mut tail);
                }
                return;
            }
            // Nothing after a stream or a last answer is read.
            Phase::Sse { .. } | Phase::Closing => return,
        }
        let deadline = conn.http_deadline(pending.as_deref(), new_request, self.now, &self.timeouts);
        conn.pending = pending;
        if let Some(deadline) = deadline {
            self.arm(index, deadline);
        }
    }

    /// Answers every whole request at the start of `buf`; returns the bytes
    /// used. Stops early when the connection is closing or its queue is full.
    fn requests(&mut self, index: usize, buf: &[u8], progress: &mut Progress) -> usize {
        let mut used = 0;
        while used < buf.len() {
            let Some(conn) = self.conns.get_mut(index) else { break };
            if conn.phase() != Phase::Http {
                break;
            }
            if conn.queued_bytes() >= MAX_HTTP_OUTPUT {
                conn.set_read_paused(true);
                break;
            }
            let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match request::parse(&buf[used..], progress, &self.config.limits, &mut storage) {
                Ok(Parse::Complete(req, n)) => {
                    used += n;
                    *progress = Progress::default();
                    self.respond(index, &req);
                }
                Ok(Parse::Partial { send_continue }) => {
                    if send_continue {
                        if let Some(out) = self.queue(index) {
                            out.push_bytes(CONTINUE);
                        }
                    }
                    break;
                }
                Err(e) => {
                    log::debug!("conn={index} refused: {e}");
                    self.refuse(index, Response::error(e));
                    used = buf.len();
                }
            }
        }
        used
    }

    fn respond(&mut self, index: usize, req: &Request<'_>) {
        self.stats.requests += 1;
        let Some(key) = self.key(index) else { return };
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        let reply = self.app.handle(req, &cx, &mut self.actions);
        let keep_alive = req.keep_alive && !self.draining;
        let head_only = req.method == Method::Head;
        match reply {
            Reply::Respond(response) => {
                self.send(index, &response, req.minor, keep_alive && !response.close, head_only)
            }
            Reply::File(rel) => {
                let response = self.file(req, &rel);
                self.send(index, &response, req.minor, keep_alive, head_only);
            }
            Reply::Stream { first, idle } if !head_only && !self.draining => {
                self.start_stream(index, &first, idle)
            }
            Reply::Park { timeout } if !head_only && !self.draining => {
                self.park(index, timeout, keep_alive, req.minor)
            }
            Reply::Upgrade { accept, first } if !self.draining => {
                self.start_websocket(index, &accept, &first)
            }
            Reply::Stream { .. } | Reply::Park { .. } | Reply::Upgrade { .. } => {
                // HEAD has no body to stream; while draining, SPEC §1: "new
                // upgrades get 503". The app registered the key: it ends now.
                let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
                let why = if self.draining { End::Shutdown } else { End::Done };
                self.app.on_end(&cx, why, &mut self.actions);
                let response = match reply {
                    _ if self.draining => {
                        Response::text(503, "the server is shutting down").header("Retry-After", "5")
                    }
                    Reply::Stream { .. } => {
                        Response { stream: true, ..Response::new(200, sse::CONTENT_TYPE, Body::Empty) }
                    }
                    // A long-poll's answer is JSON of unknown length.
                    _ => Response { stream: true, ..Response::new(200, "application/json", Body::Empty) },
                };
                self.send(index, &response, req.minor, false, head_only);
            }
        }
        self.perform();
    }

    fn file(&mut self, req: &Request<'_>, rel: &str) -> Response {
        match self.files.lookup(rel) {
            Lookup::File { body, modified } => site::file_response(req, rel, body, modified),
            // RFC 9110 §15.4.2: a directory asked for without its slash.
            Lookup::Directory => Response::text(301, "moved to the directory's page")
                .header("Location", format!("{}/", req.path)),
            Lookup::NotFound => Response::text(404, "no such file"),
            Lookup::TooLarge => Response::text(500, "the file is too large to serve"),
            Lookup::Failed(e) => {
                log::warn!("reading {rel}: {e}");
                Response::text(503, "the file cannot be read now").header("Retry-After", "1")
            }
        }
    }

    /// Answers without a request to answer (a parse error or a timeout), and
    /// closes after it.
    pub(super) fn refuse(&mut self, index: usize, response: Response) {
        self.send(index, &response, 1, false, false);
        if let Some(conn) = self.conns.get_mut(index) {
            conn.pending = None;
        }
    }

    pub(super) fn send(
        &mut self,
        index: usize,
        response: &Response,
        minor: u8,
        keep_alive: bool,
        head_only: bool,
    ) {
        let Server { conns, pool, date, .. } = self;
        let Some(conn) = conns.get_mut(index) else { return };
        let out = conn.out.get_or_insert_with(|| pool.take());
        let tail = out.tail();
        let before = tail.len();
        response.encode_head(date.get(), minor, keep_alive, tail);
        let head_len = tail.len() - before;
        out.commit(head_len);
        if !head_only {
            match &response.body {
                Body::Empty => {}
                Body::Static(bytes) => out.push_bytes(bytes),
                Body::Owned(bytes) => out.push_bytes(bytes),
                Body::Shared(bytes) => out.push_shared(bytes.clone()),
            }
        }
        conn.set_served(true);
        if !keep_alive {
            conn.set_phase(Phase::Closing, &mut self.stats.open);
            // The last answer gets as long to leave as any other write.
            let deadline = self.after(self.config.keepalive_timeout);
            self.arm(index, deadline);
        }
    }

    /// The connection's output queue, lent from the pool if it has none.
    pub(super) fn queue(&mut self, index: usize) -> Option<&mut OutQueue> {
        let conn = self.conns.get_mut(index)?;
        Some(conn.out.get_or_insert_with(|| self.pool.take()))
    }
}
