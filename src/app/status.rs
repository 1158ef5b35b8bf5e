//! The server's own routes: `/plaintext` (the benchmark baseline), `/stats`
//! (JSON), `/stats/stream` (the same as an SSE event every second, for the
//! dashboard) and `/metrics` (Prometheus text format).

use std::collections::HashSet;
use std::rc::Rc;

use super::{Action, Context, Out, Reply};
use crate::http::response::{Body, Response};
use crate::key::ConnKey;
use crate::sse;
use crate::stats::HubFigures;

/// The timer id of the once-a-second `/stats/stream` tick.
pub const TICK: u64 = 1;
const EVERY_MS: u64 = 1000;

pub fn plaintext() -> Response {
    Response::new(200, "text/plain", Body::Static(b"Hello, World!"))
}

pub fn stats(cx: &Context<'_>, hub: &HubFigures) -> Response {
    Response::json(200, cx.stats.to_json(cx.now, hub)).header("Cache-Control", "no-store")
}

pub fn metrics(cx: &Context<'_>, hub: &HubFigures) -> Response {
    let body = cx.stats.to_prometheus(cx.now, hub).into_bytes();
    Response::new(200, "text/plain; version=0.0.4; charset=utf-8", Body::Owned(body))
}

/// The `/stats/stream` subscribers; the tick runs only while there are any.
#[derive(Default)]
pub struct Status {
    watchers: HashSet<ConnKey>,
    ticking: bool,
}

impl Status {
    pub fn subscribe(&mut self, cx: &Context<'_>, hub: &HubFigures, out: &mut Out<'_>) -> Reply {
        self.watchers.insert(cx.key);
        if !self.ticking {
            self.ticking = true;
            out.timer(cx.now + EVERY_MS, TICK);
        }
        Reply::Stream { first: event(cx, hub), idle: None }
    }

    pub fn tick(&mut self, cx: &Context<'_>, hub: &HubFigures, out: &mut Out<'_>) {
        if self.watchers.is_empty() {
            self.ticking = false;
            return;
        }
        let bytes: Rc<[u8]> = event(cx, hub).into();
        out.extend(self.watchers.iter().map(|&to| Action::Send { to, bytes: bytes.clone() }));
        out.timer(cx.now + EVERY_MS, TICK);
    }

    pub fn forget(&mut self, key: ConnKey) {
        self.watchers.remove(&key);
    }
}

fn event(cx: &Context<'_>, hub: &HubFigures) -> Vec<u8> {
    let json = cx.stats.to_json(cx.now, hub);
    let mut out = Vec::with_capacity(json.len() + 16);
    sse::encode(&sse::Event { id: None, event: Some("stats"), retry: None, data: &json }, &mut out);
    out
}
