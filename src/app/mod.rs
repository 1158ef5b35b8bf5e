//! The application: what each route answers. Handlers get a parsed request
//! and the figures they may report, and return a [`Reply`]; they never see a
//! socket or a clock (the driver does the I/O a reply asks for).
//!
//! Routes now: `/plaintext` (the benchmark baseline), `/stats`, and every
//! other GET/HEAD path as a file from the `www` root.

use crate::http::request::{Method, Request};
use crate::http::response::{Body, Response};
use crate::http::route::{Found, Methods, Router};
use crate::http::{site, HttpError};
use crate::stats::Stats;

/// What the driver should do to answer a request.
#[derive(Debug)]
pub enum Reply {
    Respond(Response),
    /// Serve this file (relative to the `www` root); the driver reads it and
    /// builds the response with [`site::file_response`].
    File(String),
}

/// What a handler may read besides the request.
pub struct Context<'a> {
    pub stats: &'a Stats,
    pub uptime_ms: u64,
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Plaintext,
    Stats,
    Static,
}

pub struct App {
    router: Router<Route>,
}

impl Default for App {
    fn default() -> Self {
        let mut router = Router::default();
        router
            .add(Methods::GET, "/plaintext", Route::Plaintext)
            .add(Methods::GET, "/stats", Route::Stats)
            .add(Methods::GET, "/{*path}", Route::Static);
        App { router }
    }
}

impl App {
    pub fn handle(&mut self, req: &Request<'_>, cx: &Context<'_>) -> Reply {
        let route = match self.router.find(req.method, req.path) {
            Found::Route(route, _) => *route,
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
            // The TechEmpower-style baseline: the smallest useful response.
            Route::Plaintext => {
                Reply::Respond(Response::new(200, "text/plain", Body::Static(b"Hello, World!")))
            }
            Route::Stats => Reply::Respond(
                Response::json(200, cx.stats.to_json(cx.uptime_ms)).header("Cache-Control", "no-store"),
            ),
            Route::Static => match site::file_for(req.path) {
                Ok(Some(rel)) => Reply::File(rel),
                Ok(None) => Reply::Respond(Response::text(404, "no such file")),
                Err(e @ HttpError::BadPath) => Reply::Respond(Response::text(e.status(), e.reason())),
                Err(e) => Reply::Respond(Response::error(e)),
            },
        }
    }
}
