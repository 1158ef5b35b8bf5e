//! The application: what each route answers, and what happens on streams.
//!
//! Handlers get a parsed request and a [`Context`] (the connection's key, the
//! time, the figures), and return a [`Reply`] plus [`Action`]s for other
//! connections (a publish reaches every subscriber this way). They never see
//! a socket or a clock; the driver carries replies and actions out, and tells
//! the app exactly once when a stream or parked request ends ([`App::on_end`]),
//! so no registry can leak an entry and no online count can drift.
//!
//! Files: `status.rs` (/plaintext, /stats, /stats/stream, /metrics),
//! `topics.rs` (the hub API of SPEC §2: subscribe, publish, long-poll), and
//! one file per demo scenario of SPEC §3, each a [`Scenario`].

mod rng;
mod status;
mod topics;

pub use rng::Rng;

mod first_steps;
mod orderpay;
mod reconnect;
mod sse_clients;

mod asset;
mod chat;
mod orders;
mod sessions;

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
    /// this `Sec-WebSocket-Accept` value, then `first` (frames), and from
    /// then on hands the app each message through [`App::on_message`].
    Upgrade {
        accept: String,
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
    /// For a scenario: accept the WebSocket this request asks for (the app
    /// has checked the handshake and fills in the accept key), then send
    /// `first` (frames).
    pub fn websocket(first: Vec<u8>) -> Reply {
        Reply::Upgrade { accept: String::new(), first }
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
    Timer { at: u64, token: u64 },
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

/// A demo application of SPEC §3: its routes and how it reacts to requests,
/// stream ends, timeouts and its own timers. Each keeps its registries and
/// must forget a key in `on_end` (called for every stream or parked request
/// that ends, whoever owns it: ignore keys you do not know).
pub trait Scenario {
    /// `(methods, pattern, route id)`; ids are the scenario's own.
    fn routes(&self) -> Vec<(Methods, &'static str, u8)>;
    /// Answers a request. HEAD reaches here too (RFC 9110 §9.3.2: a GET
    /// route answers HEAD); a stream returned for HEAD is never started, so
    /// a handler with side effects (registering, starting timers) checks
    /// `req.method` first.
    fn handle(
        &mut self,
        route: u8,
        req: &Request<'_>,
        params: &Params<'_>,
        cx: &Context<'_>,
        out: &mut Vec<Action>,
    ) -> Reply;
    /// The idle timeout of a stream (or a parked request) passed; the stream
    /// ends right after, with `on_end(.., End::Timeout, ..)`.
    fn on_timeout(&mut self, _cx: &Context<'_>, _out: &mut Vec<Action>) {}
    fn on_end(&mut self, _cx: &Context<'_>, _why: End, _out: &mut Vec<Action>) {}
    /// A WebSocket client of `cx.key` sent a message (ignore keys you do not
    /// know).
    fn on_message(&mut self, _cx: &Context<'_>, _msg: Message<'_>, _out: &mut Vec<Action>) {}
    /// A timer this scenario set with `Action::Timer { token, .. }` fired
    /// (tokens are the scenario's own; the app keeps them apart).
    fn on_timer(&mut self, _token: u64, _cx: &Context<'_>, _out: &mut Vec<Action>) {}
}

/// App timers carry the scenario's index above this many bits.
const TOKEN_BITS: u32 = 48;

#[derive(Clone, Copy, Debug)]
enum Route {
    Scenario(usize, u8),
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
    scenarios: Vec<Box<dyn Scenario>>,
    settings: Settings,
    hub: Hub,
    status: status::Status,
    topics: topics::Topics,
    /// `/ws/echo` sockets.
    echoes: std::collections::HashSet<ConnKey>,
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
        let scenarios: Vec<Box<dyn Scenario>> = vec![
            Box::new(orderpay::OrderPay::default()),
            Box::new(first_steps::FirstSteps::default()),
            Box::new(sse_clients::SseClients::default()),
            Box::new(reconnect::Reconnect::default()),
            Box::new(asset::Asset::default()),
            Box::new(sessions::Sessions::default()),
            Box::new(chat::Chat::default()),
            Box::new(orders::Orders::default()),
        ];
        for (i, scenario) in scenarios.iter().enumerate() {
            for (methods, pattern, id) in scenario.routes() {
                router.add(methods, pattern, Route::Scenario(i, id));
            }
        }
        router.add(Methods::GET, "/{*path}", Route::Static);
        App {
            router,
            scenarios,
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
            echoes: Default::default(),
        }
    }

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
        match route {
            Route::Scenario(i, id) => {
                // The handshake is checked here for every scenario (RFC 6455
                // §4.2.1, --allowed-origins), so a scenario only says
                // `Reply::websocket(first)` and never sees a bad one.
                let accept = match ws::is_upgrade(req).then(|| self.settings.accept_websocket(req)) {
                    Some(Err(refusal)) => return refusal,
                    Some(Ok(accept)) => Some(accept),
                    None => None,
                };
                let first = out.len();
                let mut reply = self.scenarios[i].handle(id, req, &params, cx, out);
                tag_timers(i, &mut out[first..]);
                if let Reply::Upgrade { accept: key, .. } = &mut reply {
                    match accept {
                        Some(accept) => *key = accept,
                        // A WebSocket route asked without an upgrade: what the
                        // handler did assumed a socket, so none of it stands.
                        None => {
                            out.truncate(first);
                            self.on_end(cx, End::Done, out);
                            return Reply::Respond(ws::handshake::Refusal::NotUpgrade.response());
                        }
                    }
                }
                reply
            }
            Route::Plaintext => Reply::Respond(status::plaintext()),
            Route::Stats => Reply::Respond(status::stats(cx, &self.figures(cx.stats))),
            Route::Metrics => Reply::Respond(status::metrics(cx, &self.figures(cx.stats))),
            Route::StatsStream => self.status.subscribe(cx, &self.figures(cx.stats), out),
            Route::Topic => {
                let name = params.get("name").unwrap_or_default();
                self.topics.topic(req, &name, cx, &mut self.hub, &self.settings, out)
            }
            Route::Echo => match self.settings.accept_websocket(req) {
                Ok(accept) => {
                    if req.method != Method::Head {
                        self.echoes.insert(cx.key);
                    }
                    Reply::Upgrade { accept, first: Vec::new() }
                }
                Err(refusal) => refusal,
            },
            Route::Poll => {
                let name = params.get("name").unwrap_or_default();
                self.topics.poll(req, &name, cx, &mut self.hub)
            }
            Route::Static => match site::file_for(req.path) {
                Ok(Some(rel)) => Reply::File(rel),
                Ok(None) => Reply::Respond(Response::text(404, "no such file")),
                Err(e @ HttpError::BadPath) => Reply::Respond(Response::text(e.status(), e.reason())),
                Err(e) => Reply::Respond(Response::error(e)),
            },
        }
    }

    /// A stream's idle timeout, or a parked request's timeout, passed. The
    /// app may send last words (or must answer the parked request); the
    /// driver then ends the stream and calls [`App::on_end`].
    pub fn on_timeout(&mut self, cx: &Context<'_>, out: &mut Vec<Action>) {
        self.topics.on_timeout(cx, &mut self.hub, out);
        for (i, scenario) in self.scenarios.iter_mut().enumerate() {
            let first = out.len();
            scenario.on_timeout(cx, out);
            tag_timers(i, &mut out[first..]);
        }
    }

    /// A stream or parked request is over; forget everything about `cx.key`.
    pub fn on_end(&mut self, cx: &Context<'_>, why: End, out: &mut Vec<Action>) {
        log::debug!("conn={} stream ended: {why:?}", cx.key);
        self.status.forget(cx.key);
        self.echoes.remove(&cx.key);
        self.topics.forget(cx.key, &mut self.hub);
        for (i, scenario) in self.scenarios.iter_mut().enumerate() {
            let first = out.len();
            scenario.on_end(cx, why, out);
            tag_timers(i, &mut out[first..]);
        }
    }

    /// A WebSocket client sent a whole message.
    pub fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Vec<Action>) {
        if self.echoes.contains(&cx.key) {
            // `/ws/echo`: "every text/binary message comes back unchanged".
            let (opcode, payload) = match msg {
                Message::Text(t) => (ws::OpCode::Text, t.as_bytes()),
                Message::Binary(b) => (ws::OpCode::Binary, b),
            };
            let mut frame = Vec::with_capacity(payload.len() + ws::frame::MAX_HEADER);
            ws::encode(opcode, payload, &mut frame);
            out.push(Action::Send { to: cx.key, bytes: frame.into() });
            return;
        }
        self.topics.on_message(cx, msg, &mut self.hub, &self.settings, out);
        for (i, scenario) in self.scenarios.iter_mut().enumerate() {
            let first = out.len();
            scenario.on_message(cx, msg, out);
            tag_timers(i, &mut out[first..]);
        }
    }

    /// A stream that asked for it ([`Action::Pull`]) has `queued` bytes in
    /// its queue, at most half of `--max-queue`. Returns whether it still
    /// wants to be asked.
    pub fn on_writable(&mut self, cx: &Context<'_>, queued: usize, out: &mut Vec<Action>) -> bool {
        self.topics.feed(cx.key, &mut self.hub, self.settings.max_queue, queued, out)
    }

    /// A timer set with [`Action::Timer`] fired.
    pub fn on_timer(&mut self, token: u64, cx: &Context<'_>, out: &mut Vec<Action>) {
        match (token >> TOKEN_BITS) as usize {
            0 if token == status::TICK => {
                let figures = self.figures(cx.stats);
                self.status.tick(cx, &figures, out);
            }
            0 => {}
            n => {
                let i = n - 1;
                if let Some(scenario) = self.scenarios.get_mut(i) {
                    let first = out.len();
                    scenario.on_timer(token & ((1 << TOKEN_BITS) - 1), cx, out);
                    tag_timers(i, &mut out[first..]);
                }
            }
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

/// Marks the timers a scenario just asked for with its index, so their
/// tokens come back to it and to no one else.
fn tag_timers(scenario: usize, actions: &mut [Action]) {
    for action in actions {
        if let Action::Timer { token, .. } = action {
            *token = (*token & ((1 << TOKEN_BITS) - 1)) | ((scenario as u64 + 1) << TOKEN_BITS);
        }
    }
}

impl Settings {
    /// RFC 6455 §4.2.1 checks and SPEC §4's Origin rule, for a route that
    /// speaks WebSocket: the `Sec-WebSocket-Accept` value, or the refusal
    /// (`400`, `426` with `Sec-WebSocket-Version: 13`, `403`) as a reply.
    pub fn accept_websocket(&self, req: &Request<'_>) -> Result<String, Reply> {
        ws::handshake::check(req, |origin| {
            self.allowed_origins.is_empty()
                || self.allowed_origins.iter().any(|o| o.as_bytes().eq_ignore_ascii_case(origin))
        })
        .map(|accepted| accepted.value().to_string())
        .map_err(|refusal| Reply::Respond(refusal.response()))
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
mod tests {
    use super::*;

    #[test]
    fn timeout_param_clamps_before_converting() {
        let (default, cap) = (Duration::from_secs(60), Duration::from_secs(3600));
        let cases: &[(&str, Result<Duration, ()>)] = &[
            ("", Ok(default)),
            ("timeout=", Ok(default)),
            ("timeout=0.5", Ok(Duration::from_millis(500))),
            ("timeout=1e30", Ok(cap)),
            ("timeout=1e300", Ok(cap)),
            ("timeout=0", Err(())),
            ("timeout=-1", Err(())),
            ("timeout=inf", Err(())),
            ("timeout=NaN", Err(())),
            ("timeout=soon", Err(())),
        ];
        for (q, want) in cases {
            assert_eq!(timeout_param(q, default, cap).map_err(|_| ()), *want, "{q}");
        }
    }
}
