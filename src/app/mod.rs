//! The application: what each route answers, and what happens on streams.
//!
//! The driver's side is [`App`]: [`App::handle`] turns a request into a
//! [`Reply`] plus [`Action`]s for other connections (a publish reaches every
//! subscriber this way); the streams, sockets and parked requests that
//! replies start come back as events: [`App::on_message`],
//! [`App::on_timeout`], [`App::on_writable`], and [`App::on_end`] exactly
//! once each, so no registry can leak an entry and no online count can
//! drift; timers as [`App::on_timer`]. Handlers never see a socket or a
//! clock: the time and the figures come in the [`Context`].
//!
//! Every route has one owner ([`Owner`]): a demo scenario of SPEC §3 (a
//! [`Scenario`], whose routes are an enum of its own), or a built-in family:
//! the hub API of SPEC §2 (`topics.rs`), the server's figures (`status.rs`:
//! /plaintext, /stats, /stats/stream, /metrics), `/ws/echo`. What holds by
//! construction:
//! - a connection's events go only to the owner whose reply started its
//!   stream (`owner.rs`, one byte per connection), and a timer fires only
//!   in the owner that set it ([`TimerToken`]: the owner and its own id, made
//!   by [`Out::timer`]);
//! - a WebSocket opens only with a handshake that passed the checks:
//!   [`Reply::Upgrade`] holds a [`ws::Accepted`], which only
//!   `ws::handshake::check` makes (called by [`Settings::accept_websocket`]);
//! - HEAD is answered here (`head.rs`) from what each route says a GET would
//!   get, and runs nothing that acts.
//!
//! Files: `scenario.rs` (the [`Scenario`] trait, [`Head`], [`Out`], and the
//! machinery of the scenario list), `owner.rs`, `head.rs`, `topics.rs`,
//! `status.rs`, `rng.rs`, and one file per demo scenario. Adding a scenario
//! is its file and one line in the list below.

mod head;
mod owner;
mod rng;
mod scenario;
mod status;
mod topics;

pub use owner::{Owner, TimerToken};
pub use rng::Rng;
pub use scenario::{Head, Out, Scenario};

use std::rc::Rc;
use std::time::Duration;

use crate::config::Config;
use crate::http::request::{Method, Request};
use crate::http::response::Response;
use crate::http::route::{self, Found, Methods, Params, Router};
use crate::http::{site, HttpError};
use crate::hub::{self, Hub, Kind};
use crate::key::ConnKey;
use crate::stats::{HubFigures, Limit, Stats};
use crate::ws;
use owner::Owners;

// Every scenario of SPEC §3, one line each (`Id => module::Type`): this
// declares the modules, `ScenarioId` and the dispatch (see `scenario.rs`).
scenario::scenarios! {
    OrderPay => orderpay::OrderPay,
    FirstSteps => first_steps::FirstSteps,
    SseClients => sse_clients::SseClients,
    Reconnect => reconnect::Reconnect,
    Asset => asset::Asset,
    Sessions => sessions::Sessions,
    Chat => chat::Chat,
    Orders => orders::Orders,
}

/// What the driver should do to answer a request.
#[derive(Debug)]
pub enum Reply {
    Respond(Response),
    /// Serve this file (relative to the `www` root); the driver reads it and
    /// builds the response with [`site::file_response`].
    File(String),
    /// Make this connection an event stream: send the stream head and
    /// `first`, then whatever [`Action::Send`] brings. A stream with an idle
    /// timeout ends when no event was sent for that long (heartbeat comments
    /// do not count); the app hears of it through [`App::on_timeout`].
    Stream {
        first: Vec<u8>,
        idle: Option<Duration>,
    },
    /// Accept a WebSocket (RFC 6455 §4.2.2): the driver sends the `101` with
    /// the handshake's `Sec-WebSocket-Accept` value, then `first` (frames),
    /// and from then on hands the app each message through
    /// [`App::on_message`]. Only a handshake that passed the checks is an
    /// [`ws::Accepted`], so only such a request can be upgraded.
    Upgrade {
        accept: ws::Accepted,
        first: Vec<u8>,
    },
    /// Hold the request open (long-poll) until an [`Action::Respond`] answers
    /// it, or `timeout` passes and [`App::on_timeout`] does. Later pipelined
    /// requests on the connection wait behind it.
    Park {
        timeout: Duration,
    },
}

impl Reply {
    /// Whether the connection becomes the app's (a stream, a socket, a
    /// parked request): its owner hears of it until its `on_end`.
    fn starts_stream(&self) -> bool {
        matches!(self, Reply::Stream { .. } | Reply::Upgrade { .. } | Reply::Park { .. })
    }
}

/// Work for connections other than (or after) the one being answered.
#[derive(Debug)]
pub enum Action {
    /// Queue these bytes on an event stream or WebSocket (already framed;
    /// shared: a refcount, not a copy).
    Send { to: ConnKey, bytes: Rc<[u8]> },
    /// Queue `head` (a few bytes of this stream's own, copied), then
    /// `shared[from..]` by reference: a multi-topic event is its own `id:`
    /// line and the message's shared encoding after its `id:` line.
    SendTail { to: ConnKey, head: Vec<u8>, shared: Rc<[u8]>, from: usize },
    /// End an event stream once what is queued has been written (a
    /// WebSocket with Close 1000).
    End { to: ConnKey },
    /// Close a WebSocket with this code and reason (RFC 6455 §7.4.1) once
    /// what is queued has been written; on an event stream, the same as End.
    Close { to: ConnKey, code: u16, reason: &'static str },
    /// Answer a parked request.
    Respond { to: ConnKey, response: Response },
    /// Call [`App::on_timer`] with `token` at `at` (ms on the loop clock).
    /// Made by [`Out::timer`], which names the owner in the token.
    Timer { at: u64, token: TimerToken },
    /// This stream has more to send than fits its queue now: call
    /// [`App::on_writable`] whenever its queue has room, until it says done.
    Pull { to: ConnKey },
}

/// Why a stream or parked request ended (the connection's own words).
pub use crate::conn::End;

/// A whole message a WebSocket client sent (RFC 6455 §6.2).
#[derive(Clone, Copy, Debug)]
pub enum Message<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// What a handler may read besides the request.
pub struct Context<'a> {
    /// The connection the request or event belongs to.
    pub key: ConnKey,
    /// Milliseconds on the loop clock (for timers and uptime).
    pub now: u64,
    /// Wall-clock milliseconds since the Unix epoch (for texts that show
    /// the time of day; never for deadlines).
    pub unix_ms: u64,
    pub stats: &'a Stats,
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Scenario(ScenarioRoute),
    Plaintext,
    Stats,
    StatsStream,
    Metrics,
    Topic,
    Poll,
    Echo,
    Static,
}

/// The settings handlers need, copied once from [`Config`].
#[derive(Clone, Debug)]
pub struct Settings {
    pub publish_token: Option<String>,
    /// `--allowed-origins`; empty allows every origin.
    pub allowed_origins: Vec<String>,
    pub max_body: usize,
    /// SPEC §5 `--max-queue`: also bounds what a replay queues at once.
    pub max_queue: usize,
    pub max_message: usize,
    pub max_ws_buffered: usize,
    pub message_timeout: std::time::Duration,
    pub max_conns: usize,
}

pub struct App {
    router: Router<Route>,
    scenarios: Scenarios,
    /// Who started each stream, socket and parked request.
    owners: Owners,
    settings: Settings,
    hub: Hub,
    status: status::Status,
    topics: topics::Topics,
}

impl App {
    pub fn new(config: &Config) -> App {
        let mut router = Router::default();
        router
            .add(Methods::GET, "/plaintext", Route::Plaintext)
            .add(Methods::GET, "/stats", Route::Stats)
            .add(Methods::GET, "/stats/stream", Route::StatsStream)
            .add(Methods::GET, "/metrics", Route::Metrics)
            .add(Methods::GET.or(Methods::POST), "/topics/{name}", Route::Topic)
            .add(Methods::GET, "/poll/{name}", Route::Poll)
            .add(Methods::GET, "/ws/echo", Route::Echo);
        let scenarios = Scenarios::default();
        for (methods, pattern, route) in scenarios.routes() {
            router.add(methods, pattern, Route::Scenario(route));
        }
        router.add(Methods::GET, "/{*path}", Route::Static);
        App {
            router,
            scenarios,
            owners: Owners::default(),
            settings: Settings {
                publish_token: config.publish_token.clone(),
                allowed_origins: config.allowed_origins.clone(),
                max_body: config.limits.max_body,
                max_queue: config.max_queue,
                max_message: config.max_message,
                max_ws_buffered: config.max_ws_buffered,
                message_timeout: config.message_timeout,
                max_conns: config.max_conns,
            },
            hub: Hub::new(hub::Limits {
                history: config.history,
                history_bytes: config.history_bytes,
                max_topics: config.max_topics,
            }),
            status: status::Status::default(),
            topics: topics::Topics::default(),
        }
    }

    /// Answers a request. HEAD is answered here, from what each route says a
    /// GET would get (`head.rs`), and never reaches a handler that acts:
    /// its answer is always a plain response (or a file).
    pub fn handle(&mut self, req: &Request<'_>, cx: &Context<'_>, out: &mut Vec<Action>) -> Reply {
        let (route, params) = match self.router.find(req.method, req.path) {
            Found::Route(route, params) => (*route, params),
            Found::MethodNotAllowed(allowed) => {
                let detail = format!("{} is not allowed here", req.method_token);
                return Reply::Respond(Response::text(405, &detail).header("Allow", allowed.allow_header()));
            }
            Found::Options(allowed) => {
                return Reply::Respond(Response::empty(204).header("Allow", allowed.allow_header()))
            }
            Found::NotFound if req.method == Method::Options => {
                // RFC 9110 §9.3.7: OPTIONS * asks about the server as a whole.
                return Reply::Respond(Response::empty(204).header("Allow", "GET, HEAD, POST, OPTIONS"));
            }
            Found::NotFound => return Reply::Respond(Response::text(404, "no such route")),
        };
        let (owner, reply) = match route {
            _ if req.method == Method::Head => return self.head(route, req, &params, cx),
            Route::Static => return static_file(req),
            Route::Scenario(route) => {
                // The handshake is checked here for every scenario (RFC 6455
                // §4.2.1, --allowed-origins): a scenario gets only one that
                // passed, and a refusal never reaches it.
                let upgrade = match ws::is_upgrade(req).then(|| self.settings.accept_websocket(req)) {
                    Some(Err(refusal)) => return Reply::Respond(refusal),
                    Some(Ok(accepted)) => Some(accepted),
                    None => None,
                };
                let owner = Owner::Scenario(route.scenario());
                (owner, self.scenarios.handle(route, req, &params, upgrade, cx, &mut Out::new(out, owner)))
            }
            Route::Plaintext => return Reply::Respond(status::plaintext()),
            Route::Stats => return Reply::Respond(status::stats(cx, &self.figures(cx.stats))),
            Route::Metrics => return Reply::Respond(status::metrics(cx, &self.figures(cx.stats))),
            Route::StatsStream => {
                let figures = self.figures(cx.stats);
                (Owner::Status, self.status.subscribe(cx, &figures, &mut Out::new(out, Owner::Status)))
            }
            Route::Topic => {
                let name = params.get("name").unwrap_or_default();
                (Owner::Topics, self.topics.topic(req, &name, cx, &mut self.hub, &self.settings, out))
            }
            Route::Poll => {
                let name = params.get("name").unwrap_or_default();
                (Owner::Topics, self.topics.poll(req, &name, cx, &mut self.hub))
            }
            Route::Echo => match self.settings.accept_websocket(req) {
                Ok(accept) => (Owner::Echo, Reply::Upgrade { accept, first: Vec::new() }),
                Err(refusal) => return Reply::Respond(refusal),
            },
        };
        if reply.starts_stream() {
            self.owners.set(cx.key, owner);
        }
        reply
    }

    /// A stream's idle timeout, or a parked request's timeout, passed. The
    /// app may send last words (or must answer the parked request); the
    /// driver then ends the stream and calls [`App::on_end`].
    pub fn on_timeout(&mut self, cx: &Context<'_>, out: &mut Vec<Action>) {
        match self.owners.get(cx.key) {
            Some(Owner::Topics) => self.topics.on_timeout(cx, &mut self.hub, out),
            Some(owner @ Owner::Scenario(id)) => {
                self.scenarios.get(id).on_timeout(cx, &mut Out::new(out, owner))
            }
            Some(Owner::Status | Owner::Echo) | None => {}
        }
    }

    /// A stream or parked request is over: its owner forgets `cx.key`.
    pub fn on_end(&mut self, cx: &Context<'_>, why: End, out: &mut Vec<Action>) {
        let owner = self.owners.take(cx.key);
        log::debug!("conn={} stream of {owner:?} ended: {why:?}", cx.key);
        match owner {
            Some(Owner::Topics) => self.topics.forget(cx.key, &mut self.hub),
            Some(Owner::Status) => self.status.forget(cx.key),
            Some(owner @ Owner::Scenario(id)) => {
                self.scenarios.get(id).on_end(cx, why, &mut Out::new(out, owner))
            }
            Some(Owner::Echo) | None => {}
        }
    }

    /// A WebSocket client sent a whole message.
    pub fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Vec<Action>) {
        match self.owners.get(cx.key) {
            // `/ws/echo`: "every text/binary message comes back unchanged".
            Some(Owner::Echo) => {
                let (opcode, payload) = match msg {
                    Message::Text(t) => (ws::OpCode::Text, t.as_bytes()),
                    Message::Binary(b) => (ws::OpCode::Binary, b),
                };
                let mut frame = Vec::with_capacity(payload.len() + ws::frame::MAX_HEADER);
                ws::encode(opcode, payload, &mut frame);
                out.push(Action::Send { to: cx.key, bytes: frame.into() });
            }
            Some(Owner::Topics) => self.topics.on_message(cx, msg, &mut self.hub, &self.settings, out),
            Some(owner @ Owner::Scenario(id)) => {
                self.scenarios.get(id).on_message(cx, msg, &mut Out::new(out, owner))
            }
            Some(Owner::Status) | None => {}
        }
    }

    /// A stream that asked for it ([`Action::Pull`]) has `queued` bytes in
    /// its queue, at most half of `--max-queue`. Returns whether it still
    /// wants to be asked.
    pub fn on_writable(&mut self, cx: &Context<'_>, queued: usize, out: &mut Vec<Action>) -> bool {
        match self.owners.get(cx.key) {
            Some(Owner::Topics) => {
                self.topics.feed(cx.key, &mut self.hub, self.settings.max_queue, queued, out)
            }
            Some(owner @ Owner::Scenario(id)) => {
                self.scenarios.get(id).on_writable(cx, queued, &mut Out::new(out, owner))
            }
            Some(Owner::Status | Owner::Echo) | None => false,
        }
    }

    /// A timer set with [`Action::Timer`] fired: its owner's, by its token.
    pub fn on_timer(&mut self, token: TimerToken, cx: &Context<'_>, out: &mut Vec<Action>) {
        match token.owner() {
            Owner::Status => {
                let figures = self.figures(cx.stats);
                self.status.tick(cx, &figures, &mut Out::new(out, Owner::Status));
            }
            owner @ Owner::Scenario(id) => {
                self.scenarios.get(id).on_timer(token.id(), cx, &mut Out::new(out, owner))
            }
            Owner::Topics | Owner::Echo => {}
        }
    }

    fn figures(&self, stats: &Stats) -> HubFigures {
        HubFigures {
            limits: self.limits(stats),
            topics: self.hub.topics(),
            subscriptions: [Kind::Sse, Kind::Ws, Kind::MultiSse, Kind::MultiWs]
                .into_iter()
                .map(|kind| self.hub.subscriptions_of(kind))
                .sum(),
            published: self.topics.published,
        }
    }
}

impl App {
    /// SPEC §5's caps, as `/stats` lists them: each bounds what peers can
    /// make the server hold (per connection, or in all).
    fn limits(&self, stats: &Stats) -> Vec<Limit> {
        let s = &self.settings;
        let hub = self.hub.limits();
        let cap = |n: usize| n as u64;
        vec![
            Limit { name: "max_conns", cap: cap(s.max_conns), used: Some(stats.connections()) },
            Limit { name: "max_head", cap: cap(crate::config::MAX_HEAD), used: None },
            Limit { name: "max_body", cap: cap(s.max_body), used: None },
            Limit { name: "max_queue", cap: cap(s.max_queue), used: None },
            // Twice --max-queue while the write budget, not the client, holds a queue back.
            Limit {
                name: "max_queue_deferred",
                cap: cap(s.max_queue.saturating_mul(crate::config::DEFERRED_QUEUE_FACTOR)),
                used: None,
            },
            Limit { name: "write_budget", cap: cap(crate::config::WRITE_BUDGET), used: None },
            Limit { name: "max_message", cap: cap(s.max_message), used: None },
            Limit { name: "max_ws_buffered", cap: cap(s.max_ws_buffered), used: Some(stats.ws_buffered) },
            Limit { name: "message_timeout_ms", cap: s.message_timeout.as_millis() as u64, used: None },
            Limit { name: "history", cap: cap(hub.history), used: None },
            Limit {
                name: "history_bytes",
                cap: cap(hub.history_bytes),
                used: Some(cap(self.hub.kept_bytes())),
            },
            Limit { name: "max_topics", cap: cap(hub.max_topics), used: Some(cap(self.hub.topics())) },
            Limit { name: "topics_per_stream", cap: cap(hub::MAX_TOPICS), used: None },
        ]
    }
}

/// A file of the `www` root, for GET and HEAD alike (the driver looks it up
/// and leaves out the body for HEAD).
fn static_file(req: &Request<'_>) -> Reply {
    match site::file_for(req.path) {
        Ok(Some(rel)) => Reply::File(rel),
        Ok(None) => Reply::Respond(Response::text(404, "no such file")),
        Err(e @ HttpError::BadPath) => Reply::Respond(Response::text(e.status(), e.reason())),
        Err(e) => Reply::Respond(Response::error(e)),
    }
}

impl Settings {
    /// RFC 6455 §4.2.1 checks and SPEC §4's Origin rule, for a route that
    /// speaks WebSocket: the `Sec-WebSocket-Accept` value, or the refusal
    /// (`400`, `426` with `Sec-WebSocket-Version: 13`, `403`).
    pub fn accept_websocket(&self, req: &Request<'_>) -> Result<ws::Accepted, Response> {
        ws::handshake::check(req, |origin| {
            self.allowed_origins.is_empty()
                || self.allowed_origins.iter().any(|o| o.as_bytes().eq_ignore_ascii_case(origin))
        })
        .map_err(|refusal| refusal.response())
    }
}

/// WHATWG HTML §9.2.4: a reconnecting EventSource sends the last id it saw
/// as `Last-Event-ID`; `?lastEventId=` lets a new page resume too. Blank is
/// none.
pub(crate) fn last_event_id(req: &Request<'_>) -> Option<String> {
    req.header("last-event-id")
        .map(|v| String::from_utf8_lossy(v).trim().to_string())
        .or_else(|| route::query(req.query, "lastEventId").map(|v| v.into_owned()))
        .filter(|v| !v.is_empty())
}

/// `?timeout=SECS` on a demo stream, to shorten a SPEC timeout for tests and
/// demos: fractional seconds, more than 0, at most `cap`; absent or blank
/// gives `default`.
pub(crate) fn timeout_param(query: &str, default: Duration, cap: Duration) -> Result<Duration, &'static str> {
    match route::query(query, "timeout").filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<f64>() {
            // Clamp before converting: from_secs_f64 panics past u64 seconds.
            Ok(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(s.min(cap.as_secs_f64()))),
            _ => Err("timeout must be a number of seconds greater than 0"),
        },
    }
}

#[cfg(test)]
mod tests;
