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
//! `topics.rs` (the hub API of SPEC §2: subscribe, publish, long-poll).

mod status;
mod topics;

use std::rc::Rc;
use std::time::Duration;

use crate::config::Config;
use crate::http::request::{Method, Request};
use crate::http::response::Response;
use crate::http::route::{Found, Methods, Router};
use crate::http::{site, HttpError};
use crate::hub::Hub;
use crate::key::ConnKey;
use crate::stats::{HubFigures, Stats};

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
    /// Hold the request open (long-poll) until an [`Action::Respond`] answers
    /// it, or `timeout` passes and [`App::on_timeout`] does. Later pipelined
    /// requests on the connection wait behind it.
    Park {
        timeout: Duration,
    },
}

/// Work for connections other than (or after) the one being answered.
#[derive(Debug)]
pub enum Action {
    /// Queue these bytes on an event stream (shared: a refcount, not a copy).
    Send { to: ConnKey, bytes: Rc<[u8]> },
    /// End an event stream once what is queued has been written.
    End { to: ConnKey },
    /// Answer a parked request.
    Respond { to: ConnKey, response: Response },
    /// Call [`App::on_timer`] with `token` at `at` (ms on the loop clock).
    Timer { at: u64, token: u64 },
}

/// Why a stream or parked request ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    /// The app ended it ([`Action::End`] or [`Action::Respond`]).
    Done,
    /// Its idle timeout passed.
    Timeout,
    /// Its queue passed `--max-queue` (SPEC §5: a slow consumer).
    TooSlow,
    /// The client closed, or the socket failed.
    Gone,
    /// The server is shutting down.
    Shutdown,
}

/// What a handler may read besides the request.
pub struct Context<'a> {
    /// The connection the request or event belongs to.
    pub key: ConnKey,
    /// Milliseconds on the loop clock (for timers and uptime).
    pub now: u64,
    pub stats: &'a Stats,
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Plaintext,
    Stats,
    StatsStream,
    Metrics,
    Topic,
    Poll,
    Static,
}

/// The settings handlers need, copied once from [`Config`].
#[derive(Clone, Debug)]
pub struct Settings {
    pub publish_token: Option<String>,
    pub max_body: usize,
}

pub struct App {
    router: Router<Route>,
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
            .add(Methods::GET, "/{*path}", Route::Static);
        App {
            router,
            settings: Settings {
                publish_token: config.publish_token.clone(),
                max_body: config.limits.max_body,
            },
            hub: Hub::new(config.history),
            status: status::Status::default(),
            topics: topics::Topics::default(),
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
            Route::Plaintext => Reply::Respond(status::plaintext()),
            Route::Stats => Reply::Respond(status::stats(cx, self.figures())),
            Route::Metrics => Reply::Respond(status::metrics(cx, self.figures())),
            Route::StatsStream => self.status.subscribe(cx, self.figures(), out),
            Route::Topic => {
                let name = params.get("name").unwrap_or_default();
                self.topics.topic(req, &name, cx, &mut self.hub, &self.settings, out)
            }
            Route::Poll => {
                let name = params.get("name").unwrap_or_default();
                self.topics.poll(req, &name, cx, &self.hub)
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
        self.topics.on_timeout(cx, out);
    }

    /// A stream or parked request is over; forget everything about `cx.key`.
    pub fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Vec<Action>) {
        log::debug!("conn={} stream ended: {why:?}", cx.key);
        self.status.forget(cx.key);
        self.topics.forget(cx.key, &mut self.hub);
    }

    /// A timer set with [`Action::Timer`] fired.
    pub fn on_timer(&mut self, token: u64, cx: &Context<'_>, out: &mut Vec<Action>) {
        if token == status::TICK {
            let figures = self.figures();
            self.status.tick(cx, figures, out);
        }
    }

    fn figures(&self) -> HubFigures {
        HubFigures {
            topics: self.hub.topics(),
            subscriptions: self.hub.subscriptions(),
            published: self.topics.published,
        }
    }
}
