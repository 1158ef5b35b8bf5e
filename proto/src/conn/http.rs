//! A connection's HTTP/1.1: the requests in its input, each answered before
//! the next is read (so answers leave in request order, RFC 9112 §9.3.2);
//! what is not a whole request kept for the next read; and the answers
//! themselves, queued, with the switches they make (to an event stream, a
//! parked long-poll, a WebSocket, or the last answer's `Closing`).

use std::time::Duration;

use super::{Connection, Open, Pending, Phase, QueuePool, Timeouts};
use crate::http::request::{self, Parse, Progress, Request};
use crate::http::response::{Body, Response, CONTINUE};
use crate::http::HttpError;
use crate::limits::{Limits, MAX_HEADERS, MAX_HTTP_OUTPUT};
use crate::sse;

/// Who a connection's requests are for.
pub trait Upper<S> {
    /// The connection (None once it is gone).
    fn conn(&mut self) -> Option<&mut Connection<S>>;
    /// A whole request: answer it (queue the answer on the connection, or
    /// switch it to what the answer makes it).
    fn request(&mut self, req: &Request<'_>);
    /// The request is malformed or over a limit (RFC 9112 §2.2, SPEC §5):
    /// answer `e` and close.
    fn refuse(&mut self, e: HttpError);
    /// RFC 9110 §10.1.1: the client waits for `100 Continue` before it
    /// sends the body.
    fn send_continue(&mut self);
}

/// What one read of an HTTP connection leaves.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// A time for the driver's wheel, if one must be inserted.
    Deadline(Option<u64>),
    /// RFC 6455 §4.2.2: the bytes after the upgrade request are frames, to
    /// be read as the WebSocket's first input.
    Frames(Vec<u8>),
    /// Nothing (the connection is gone, a stream, or closing: nothing after
    /// a stream or a last answer is read).
    Nothing,
}

/// New bytes for a connection in the HTTP phase (empty when resuming after
/// output drained, or after a parked request was answered). Every whole
/// request is handed to `up`; what is not a whole request stays pending.
pub fn input<S>(up: &mut impl Upper<S>, data: &[u8], limits: &Limits, now: u64, t: &Timeouts) -> Read {
    let Some(conn) = up.conn() else { return Read::Nothing };
    let had_pending = conn.pending.is_some();
    let (pending, used) = match conn.pending.take() {
        Some(mut pending) => {
            pending.buf.extend_from_slice(data);
            let used = requests(up, &pending.buf, &mut pending.progress, limits);
            pending.buf.drain(..used);
            ((!pending.buf.is_empty()).then_some(pending), used)
        }
        None => {
            let mut progress = Progress::default();
            let used = requests(up, data, &mut progress, limits);
            let rest = (used < data.len())
                .then(|| Box::new(Pending { buf: data[used..].to_vec(), progress, ws: None }));
            (rest, used)
        }
    };
    // A request completed here, so what is pending is a new request: its
    // head deadline starts now.
    let new_request = !had_pending || used > 0;
    let Some(conn) = up.conn() else { return Read::Nothing };
    match conn.phase() {
        Phase::Http => {}
        // Requests pipelined behind a parked one wait for its answer.
        Phase::Parked { .. } => {
            conn.pending = pending;
            return Read::Nothing;
        }
        Phase::Ws { .. } => return pending.map_or(Read::Nothing, |p| Read::Frames(p.buf)),
        Phase::Sse { .. } | Phase::Closing => return Read::Nothing,
    }
    let deadline = conn.http_deadline(pending.as_deref(), new_request, now, t);
    conn.pending = pending;
    Read::Deadline(deadline.and_then(|at| conn.arm(at)))
}

/// Hands every whole request at the start of `buf` to `up`; returns the
/// bytes used. Stops early when the connection is no longer reading
/// requests, or when its unread answers reach [`MAX_HTTP_OUTPUT`] (reading
/// pauses until they drain, so a client that pipelines faster than it
/// reads costs bounded memory and loses nothing).
fn requests<S>(up: &mut impl Upper<S>, buf: &[u8], progress: &mut Progress, limits: &Limits) -> usize {
    let mut used = 0;
    while used < buf.len() {
        let Some(conn) = up.conn() else { break };
        if conn.phase() != Phase::Http {
            break;
        }
        if conn.queued_bytes() >= MAX_HTTP_OUTPUT {
            conn.set_read_paused(true);
            break;
        }
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match request::parse(&buf[used..], progress, limits, &mut storage) {
            Ok(Parse::Complete(req, n)) => {
                used += n;
                *progress = Progress::default();
                up.request(&req);
            }
            Ok(Parse::Partial { send_continue }) => {
                if send_continue {
                    up.send_continue();
                }
                break;
            }
            Err(e) => {
                up.refuse(e);
                used = buf.len();
            }
        }
    }
    used
}

/// What the app answers a request with.
#[derive(Debug)]
pub enum Answer {
    Respond(Response),
    /// Make the connection an event stream: its head, then `first`; ended
    /// after `idle` without an event (None: never).
    Stream {
        first: Vec<u8>,
        idle: Option<Duration>,
    },
    /// Hold the request open (long-poll) for at most `timeout`.
    Park {
        timeout: Duration,
    },
    /// RFC 6455 §4.2.2: the `101` (`switching`), then `first` (frames).
    Upgrade {
        switching: Response,
        first: Vec<u8>,
    },
}

/// What of a request its answer depends on.
#[derive(Clone, Copy, Debug)]
pub struct Asked {
    pub minor: u8,
    pub keep_alive: bool,
    /// RFC 9110 §9.3.2: a HEAD request.
    pub head: bool,
}

/// How an answer went.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Answered {
    /// Queued (or the connection switched to what it asked for).
    Done,
    /// A stream, long-poll or upgrade that cannot start: HEAD has no body
    /// to stream (answered with the head alone), and while draining,
    /// SPEC §1: "new upgrades get 503". The app registered the connection
    /// for it, so it must hear that it ended, and why.
    NotStarted(super::End),
}

impl<S> Connection<S> {
    /// Carries out the app's answer to a request. Returns how it went, and a
    /// time for the driver's wheel, if one must be inserted.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn answer(
        &mut self,
        answer: Answer,
        asked: Asked,
        draining: bool,
        date: &[u8],
        pool: &mut QueuePool,
        open: &mut Open,
        now: u64,
        t: &Timeouts,
    ) -> (Answered, Option<u64>) {
        let keep_alive = asked.keep_alive && !draining;
        let at = match answer {
            Answer::Respond(response) => {
                let keep_alive = keep_alive && !response.close;
                self.send(&response, date, asked.minor, keep_alive, asked.head, pool, open, now, t)
            }
            Answer::Stream { first, idle } if !asked.head && !draining => {
                // At least 1 ms: 0 means "never" to the phase.
                let idle_ms = idle.map_or(0, |d| d.as_millis().clamp(1, u128::from(u32::MAX)) as u32);
                self.start_stream(&first, idle_ms, date, pool, open, now, t)
            }
            Answer::Park { timeout } if !asked.head && !draining => {
                let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
                self.park(keep_alive, asked.minor, timeout_ms, now, open)
            }
            Answer::Upgrade { switching, first } if !draining => {
                self.upgrade(&switching, &first, date, pool, open, now, t);
                None
            }
            refused => {
                let response = match refused {
                    _ if draining => {
                        Response::text(503, "the server is shutting down").header("Retry-After", "5")
                    }
                    Answer::Park { .. } => stream_head(true),
                    _ => stream_head(false),
                };
                let at = self.send(&response, date, asked.minor, false, asked.head, pool, open, now, t);
                let why = if draining { super::End::Shutdown } else { super::End::Done };
                return (Answered::NotStarted(why), at);
            }
        };
        (Answered::Done, at)
    }

    /// Queues `response`. `head_only`: RFC 9110 §9.3.2, HEAD gets the head
    /// GET would, without its body. Without `keep_alive` this is the last
    /// answer: the connection is `Closing`, and the answer gets as long to
    /// leave as any other write. Returns a time for the driver's wheel, if
    /// one must be inserted.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn send(
        &mut self,
        response: &Response,
        date: &[u8],
        minor: u8,
        keep_alive: bool,
        head_only: bool,
        pool: &mut QueuePool,
        open: &mut Open,
        now: u64,
        t: &Timeouts,
    ) -> Option<u64> {
        let out = self.queue(pool);
        let tail = out.tail();
        let before = tail.len();
        response.encode_head(date, minor, keep_alive, tail);
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
        self.set_served(true);
        if keep_alive {
            return None;
        }
        self.set_phase(Phase::Closing, open);
        self.arm(now + t.keepalive)
    }

    /// Bytes read while a request is parked: requests pipelined behind it
    /// wait, unread, within the head cap (`max_head`); past it, reading
    /// stops until the parked one is answered.
    pub fn hold_pipelined(&mut self, data: &[u8], max_head: usize) {
        let pending = self.pending.get_or_insert_with(Default::default);
        pending.buf.extend_from_slice(data);
        let full = pending.buf.len() >= max_head;
        self.set_read_paused(full);
    }

    /// Between requests with every answer out: what a shutdown closes at
    /// once.
    pub fn is_idle(&self) -> bool {
        self.phase() == Phase::Http && self.pending.is_none() && self.queued_bytes() == 0
    }

    /// RFC 9110 §10.1.1: `100 Continue`, for a client that waits for it
    /// before sending its body.
    pub fn send_continue(&mut self, pool: &mut QueuePool) {
        self.queue(pool).push_bytes(CONTINUE);
    }

    /// Answers without a request to answer (a parse error or a timeout),
    /// and closes after it; what was pending is dropped.
    #[must_use]
    pub fn refuse(
        &mut self,
        response: &Response,
        date: &[u8],
        pool: &mut QueuePool,
        open: &mut Open,
        now: u64,
        t: &Timeouts,
    ) -> Option<u64> {
        let at = self.send(response, date, 1, false, false, pool, open, now, t);
        self.pending = None;
        at
    }

    /// WHATWG HTML §9.2: answers with the event-stream head and `first`,
    /// and the connection is an event stream, ended after `idle_ms` without
    /// an event (0: never). Requests pipelined behind it are dropped: an
    /// event stream is the last thing on its connection.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn start_stream(
        &mut self,
        first: &[u8],
        idle_ms: u32,
        date: &[u8],
        pool: &mut QueuePool,
        open: &mut Open,
        now: u64,
        t: &Timeouts,
    ) -> Option<u64> {
        let head = stream_head(false);
        // Kept alive: no deadline of its own (the stream's follows).
        let _ = self.send(&head, date, 1, true, true, pool, open, now, t);
        self.set_phase(Phase::Sse { idle_ms: super::Millis::new(idle_ms) }, open);
        self.pending = None;
        self.disarm();
        self.queue(pool).push_bytes(first);
        (idle_ms > 0).then(|| self.arm(now + u64::from(idle_ms))).flatten()
    }

    /// Holds the request open until it is answered or `timeout_ms` passes.
    #[must_use]
    pub fn park(
        &mut self,
        keep_alive: bool,
        minor: u8,
        timeout_ms: u64,
        now: u64,
        open: &mut Open,
    ) -> Option<u64> {
        self.set_phase(Phase::Parked { keep_alive, minor }, open);
        self.arm(now + timeout_ms)
    }

    /// A parked request is answered: back to HTTP (the answer goes out with
    /// [`Connection::send`]; the requests pipelined behind it are then read
    /// from `pending`). Whether the connection is kept after the answer
    /// (not while draining: SPEC §1 finishes in-flight answers, then closes)
    /// and the request's HTTP minor version, if it was parked.
    pub fn unpark(&mut self, draining: bool, open: &mut Open) -> Option<(bool, u8)> {
        let Phase::Parked { keep_alive, minor } = self.phase() else { return None };
        self.set_phase(Phase::Http, open);
        // The next parked request on this connection is told of its end too.
        self.set_ended(false);
        Some((keep_alive && !draining, minor))
    }

    /// Output drained below [`MAX_HTTP_OUTPUT`] on a connection whose reading
    /// paused for it: reading resumes (true), and the caller takes up the
    /// requests left waiting, then reads what arrived meanwhile.
    pub fn resume_reading(&mut self) -> bool {
        let resume =
            self.read_paused() && self.queued_bytes() < MAX_HTTP_OUTPUT && self.phase() == Phase::Http;
        if resume {
            self.set_read_paused(false);
        }
        resume
    }

    /// RFC 6455 §4.2.2: the `101` is queued, then `first` (frames), and the
    /// connection is a WebSocket. Its liveness is the heartbeat's ping and
    /// pong, not a deadline.
    #[allow(clippy::too_many_arguments)]
    pub fn upgrade(
        &mut self,
        switching: &Response,
        first: &[u8],
        date: &[u8],
        pool: &mut QueuePool,
        open: &mut Open,
        now: u64,
        t: &Timeouts,
    ) {
        // Kept alive: no deadline of its own (a socket has none).
        let _ = self.send(switching, date, 1, true, false, pool, open, now, t);
        self.set_phase(Phase::Ws { awaiting_pong: false }, open);
        self.disarm();
        if !first.is_empty() {
            self.queue(pool).push_bytes(first);
        }
    }

    /// An event stream ends: what is queued is written, then it closes as
    /// an answered connection does.
    #[must_use]
    pub fn end_stream(&mut self, open: &mut Open, now: u64, t: &Timeouts) -> Option<u64> {
        if !matches!(self.phase(), Phase::Sse { .. }) {
            return None;
        }
        self.set_phase(Phase::Closing, open);
        self.arm(now + t.keepalive)
    }
}

/// The head of an event stream (WHATWG HTML §9.2: `text/event-stream`, and
/// SPEC §4's no-cache and no-buffering fields), or of a long-poll's answer
/// (JSON of unknown length): what a stream starts with, and all a HEAD for
/// one gets (RFC 9110 §9.3.2: the fields GET would send, without a body).
pub fn stream_head(long_poll: bool) -> Response {
    if long_poll {
        return Response { stream: true, ..Response::new(200, "application/json", Body::Empty) };
    }
    let mut head = Response { stream: true, ..Response::new(200, sse::CONTENT_TYPE, Body::Empty) };
    for (name, value) in sse::STREAM_HEADERS {
        head = head.header(name, value);
    }
    head
}

/// The 408 a request gets when its head or body does not arrive in time.
pub fn timed_out() -> Response {
    Response::error(HttpError::HeaderTimeout)
}

/// The answer to a long-poll the app let time out unanswered.
pub fn unanswered() -> Response {
    Response::text(500, "the request timed out unanswered")
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
