//! HEAD, answered by the app itself (RFC 9110 §9.3.2: "The HEAD method is
//! identical to GET except that the server MUST NOT send content in the
//! response ... The server SHOULD send the same header fields in response to
//! a HEAD request as it would have sent if the request method had been
//! GET").
//!
//! No handler that acts is run for HEAD. Each route says what a GET would
//! get, without doing it:
//! - a scenario route, through [`super::Scenario::head`] (`&self`, no
//!   actions: it cannot change anything), as a [`Head`];
//! - an event stream (a [`Head::Stream`], `/stats/stream`, an SSE
//!   subscription to `/topics/…`): the stream's own head, `200` with the
//!   event-stream header fields and no `Content-Length` (the driver sends
//!   the same head when it starts a stream), once the route's own refusals
//!   (a bad parameter, `406`, `503`) are ruled out;
//! - a WebSocket route (a [`Head::Upgrade`], `/ws/echo`, `/topics/…` with
//!   `Upgrade`): the answer the handshake check gives a GET with the same
//!   header fields (`400` without `Upgrade: websocket`, `426`, `403`, …);
//!   where that GET would switch protocols, HEAD cannot, and gets the
//!   check's `400` for a method other than GET;
//! - a long-poll (`/poll/…`): what the GET would answer with `timeout=0`
//!   (SPEC §2: the events after `since` at once, else `[]`), since a HEAD
//!   is not held open;
//! - a plain route: its response, made by a function that has no side
//!   effects (`/plaintext`, `/stats`, `/metrics`; files are looked up by
//!   the driver, which leaves out the body).
//!
//! So a HEAD never registers a subscriber, opens a stream, starts a timer or
//! pushes anything.

use std::borrow::Cow;

use super::{static_file, status, App, Head, Params, Reply, Route, Settings};
use crate::http::request::{Method, Request};
use crate::http::response::{Body, Response};
use crate::sse;
use crate::ws;

impl App {
    /// The answer to a HEAD of `route`: a response or a file, never a
    /// stream.
    pub(super) fn head(
        &self,
        route: Route,
        req: &Request<'_>,
        params: &Params<'_>,
        cx: &super::Context<'_>,
    ) -> Reply {
        let response = match route {
            Route::Scenario(route) => self.answer(self.scenarios.head(route, req, params, cx), req),
            Route::Plaintext => status::plaintext(),
            Route::Stats => status::stats(cx, &self.figures(cx.stats)),
            Route::Metrics => status::metrics(cx, &self.figures(cx.stats)),
            Route::StatsStream => stream_head(),
            Route::Topic => {
                let name = params.get("name").unwrap_or_default();
                self.answer(self.topics.head(req, &name, &self.hub, &self.settings), req)
            }
            Route::Poll => {
                let name = params.get("name").unwrap_or_default();
                self.topics.poll_head(req, &name, &self.hub)
            }
            Route::Echo => self.answer(Head::Upgrade, req),
            Route::Static => return static_file(req),
        };
        Reply::Respond(response)
    }

    fn answer(&self, head: Head, req: &Request<'_>) -> Response {
        match head {
            Head::Respond(response) => response,
            Head::Stream => stream_head(),
            Head::Upgrade => {
                handshake_as_get(&self.settings, req).unwrap_or_else(|| ws::Refusal::NotGet.response())
            }
        }
    }
}

/// The head of an event stream, as the driver sends it when a stream
/// starts: `200`, the WHATWG content type, SPEC §4's `Cache-Control:
/// no-cache` and `X-Accel-Buffering: no`, and no `Content-Length`.
pub(super) fn stream_head() -> Response {
    let mut head = Response { stream: true, ..Response::new(200, sse::CONTENT_TYPE, Body::Empty) };
    for (name, value) in sse::STREAM_HEADERS {
        head = head.header(name, value);
    }
    head
}

/// What the handshake check would answer a GET with `req`'s target and
/// header fields: its refusal, or `None` when it would pass.
pub(super) fn handshake_as_get(settings: &Settings, req: &Request<'_>) -> Option<Response> {
    let get = Request {
        method: Method::Get,
        method_token: "GET",
        path: req.path,
        query: req.query,
        minor: req.minor,
        headers: req.headers,
        body: Cow::Borrowed(&[]),
        keep_alive: req.keep_alive,
    };
    settings.accept_websocket(&get).err()
}
