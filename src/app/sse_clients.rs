//! SPEC §3.3, the SSE client registry: a browser opens an event stream under
//! a client id of its choosing, and other requests push to it by that id,
//! to every client, or close it (page: `www/sse-clients.html`).
//!
//! Routes (texts exact, from SPEC):
//! - `GET /sse/sseConection?clientId={id}` (the tutorial's spelling) and its
//!   alias `GET /sse/connect?clientId={id}`: an SSE stream registered under
//!   the id; "timeout 600 s"; "a new stream with the same id replaces the old
//!   one" (the old one is ended cleanly). `&timeout=SECS` (fractional, > 0,
//!   at most 600) shortens the idle timeout, for tests.
//! - `GET /sse/testSse?clientId={id}`: the same stream, and "at once starts a
//!   push of `data: SSE 测试数据` every second".
//! - `GET /sse/sendMsg?clientId={id}`: starts that push on the client's
//!   stream; `200 {"clientId":…,"tokens":N}`; unknown client `404` JSON.
//! - `GET /sse/sendMsgToAll`: starts it on every client; `200 {"count":N}`.
//! - `GET /sse/closeConn/{clientId}`: ends the stream; `200` body `连接已关闭`;
//!   unknown client `404` JSON.
//! - Missing or blank (whitespace-only) `clientId`: `400`, body
//!   `客户端id不能为空`.
//! - HEAD on any of them answers as GET would and changes nothing.
//!
//! A push is a token stream, as a chat assistant's answer is: the first
//! token at once, then one a second, [`PUSH_TOKENS`] in all, then the stream
//! stays open and idle (so the 600 s idle timeout can still end a forgotten
//! one). A push on a client that already has one restarts its count on the
//! running rhythm, so the rate never doubles. A push dies with its stream.
//!
//! Not done here: ids are not authenticated (anyone may push to or close any
//! client, as in the tutorial); no `Last-Event-ID` replay (the tokens carry
//! no ids); a browser whose stream was closed by `closeConn` reconnects by
//! itself unless the page calls `EventSource.close()` (the page does).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use std::time::Duration;

use super::{Action, Context, End, Head, Out, Reply, Scenario};
use crate::http::request::Request;
use crate::http::response::{Body, Response};
use crate::http::route::{query, Methods, Params};
use crate::json;
use crate::key::ConnKey;
use crate::sse;
use crate::ws::Accepted;

/// SPEC §3.3: "timeout 600 s"; also the most `?timeout=` may ask for.
const TIMEOUT: Duration = Duration::from_secs(600);
/// SPEC §3.3: "a push of `data: SSE 测试数据` every second".
const PUSH_EVERY_MS: u64 = 1000;
/// Tokens in one push: long enough to watch it flow (and to test the rate),
/// short enough that a forgotten page falls idle and times out.
pub const PUSH_TOKENS: u32 = 10;
/// The token's text, from SPEC §3.3.
const TOKEN: &str = "SSE 测试数据";
const BLANK_ID: &[u8] = "客户端id不能为空".as_bytes();
const CLOSED: &[u8] = "连接已关闭".as_bytes();

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `/sse/sseConection` and `/sse/connect`: a stream.
    Connect,
    /// `/sse/testSse`: a stream with a push started at once.
    TestSse,
    /// `/sse/sendMsg`: a push to one client.
    SendMsg,
    /// `/sse/sendMsgToAll`: a push to every client.
    SendAll,
    /// `/sse/closeConn/{clientId}`: end one client's stream.
    Close,
}

/// One registered stream.
struct Client {
    id: Rc<str>,
    push: Option<Push>,
}

/// A running push: its timer token, when that timer is due, and the tokens
/// still to send.
struct Push {
    timer: u64,
    due: u64,
    left: u32,
}

pub struct SseClients {
    /// Client id → its current stream. A replaced stream is no longer here
    /// but stays in `streams` until its `on_end`.
    by_id: HashMap<Rc<str>, ConnKey>,
    /// Every stream of ours that has not ended yet.
    streams: HashMap<ConnKey, Client>,
    /// Push timer → the stream it feeds. Timers cannot be cancelled, so an
    /// ended push is removed here and its timer, when it fires, finds nothing.
    timers: HashMap<u64, ConnKey>,
    next_timer: u64,
    /// `data: SSE 测试数据`, encoded once and shared by every push.
    token: Rc<[u8]>,
}

impl Default for SseClients {
    fn default() -> Self {
        let mut token = Vec::new();
        sse::encode(&sse::Event { data: TOKEN, ..Default::default() }, &mut token);
        SseClients {
            by_id: HashMap::new(),
            streams: HashMap::new(),
            timers: HashMap::new(),
            next_timer: 1,
            token: token.into(),
        }
    }
}

impl Scenario for SseClients {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![
            (Methods::GET, "/sse/sseConection", Route::Connect),
            (Methods::GET, "/sse/connect", Route::Connect),
            (Methods::GET, "/sse/testSse", Route::TestSse),
            (Methods::GET, "/sse/sendMsg", Route::SendMsg),
            (Methods::GET, "/sse/sendMsgToAll", Route::SendAll),
            (Methods::GET, "/sse/closeConn/{clientId}", Route::Close),
            // No id at all in the path: the blank-id answer, not a 404.
            (Methods::GET, "/sse/closeConn", Route::Close),
            (Methods::GET, "/sse/closeConn/", Route::Close),
        ]
    }

    fn handle(
        &mut self,
        route: Route,
        req: &Request<'_>,
        params: &Params<'_>,
        _upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        if route == Route::SendAll {
            return Reply::Respond(self.send_to_all(cx, out));
        }
        let id = match client_id(route, req, params) {
            Ok(id) => id,
            Err(refusal) => return Reply::Respond(refusal),
        };
        match route {
            Route::Connect | Route::TestSse => self.connect(req, &id, route == Route::TestSse, cx, out),
            Route::SendMsg => Reply::Respond(self.send_msg(&id, cx, out)),
            Route::SendAll | Route::Close => Reply::Respond(self.close(&id, out)),
        }
    }

    /// As GET would answer, without the side effect (a page prefetcher or
    /// link checker must not start pushes or close streams).
    fn head(&self, route: Route, req: &Request<'_>, params: &Params<'_>, _cx: &Context<'_>) -> Head {
        if route == Route::SendAll {
            return Head::Respond(count(self.by_id.len()));
        }
        let id = match client_id(route, req, params) {
            Ok(id) => id,
            Err(refusal) => return Head::Respond(refusal),
        };
        match route {
            Route::Connect | Route::TestSse => match stream_timeout(req) {
                Ok(_) => Head::Stream,
                Err(refusal) => Head::Respond(refusal),
            },
            _ if !self.by_id.contains_key(&*id) => Head::Respond(unknown(&id)),
            Route::SendMsg => Head::Respond(push_started(&id)),
            Route::SendAll | Route::Close => Head::Respond(closed()),
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Out<'_>) {
        let Some(client) = self.streams.remove(&cx.key) else { return };
        if let Some(push) = client.push {
            self.timers.remove(&push.timer);
        }
        // A replaced stream ends after its successor registered: leave that.
        if self.by_id.get(&client.id) == Some(&cx.key) {
            self.by_id.remove(&client.id);
        }
        log::info!("conn={} sse client {:?} left ({why:?}); online: {}", cx.key, client.id, self.by_id.len());
    }

    fn on_timer(&mut self, token: u64, cx: &Context<'_>, out: &mut Out<'_>) {
        let Some(&key) = self.timers.get(&token) else { return };
        let client = self.streams.get_mut(&key);
        let Some(push) = client.and_then(|c| c.push.as_mut()).filter(|p| p.timer == token) else {
            self.timers.remove(&token);
            return;
        };
        out.push(Action::Send { to: key, bytes: self.token.clone() });
        push.left = push.left.saturating_sub(1);
        if push.left > 0 {
            // From when it was due, not when it fired: late wheel ticks do
            // not add up to a slower rate.
            push.due = (push.due + PUSH_EVERY_MS).max(cx.now);
            out.timer(push.due, token);
            return;
        }
        self.timers.remove(&token);
        if let Some(client) = self.streams.get_mut(&key) {
            client.push = None;
        }
    }
}

impl SseClients {
    fn connect(&mut self, req: &Request<'_>, id: &str, push: bool, cx: &Context<'_>, out: &mut Out<'_>) -> Reply {
        let idle = match stream_timeout(req) {
            Ok(d) => d,
            Err(refusal) => return Reply::Respond(refusal),
        };
        let id: Rc<str> = id.into();
        if let Some(old) = self.by_id.insert(id.clone(), cx.key) {
            // SPEC §3.3: "a new stream with the same id replaces the old one";
            // its on_end comes later and finds the id taken by this stream.
            out.push(Action::End { to: old });
            log::info!("conn={} sse client {id:?} replaces conn={old}", cx.key);
        }
        self.streams.insert(cx.key, Client { id: id.clone(), push: None });
        log::info!("conn={} sse client {id:?} connected; online: {}", cx.key, self.by_id.len());
        let mut first = Vec::new();
        if push {
            // "opens the stream and at once starts a push": the first token
            // goes out with the stream head.
            first.extend_from_slice(&self.token);
            self.start_push(cx.key, PUSH_TOKENS - 1, cx, out);
        }
        Reply::Stream { first, idle: Some(idle) }
    }

    fn send_msg(&mut self, id: &str, cx: &Context<'_>, out: &mut Out<'_>) -> Response {
        let Some(&key) = self.by_id.get(id) else { return unknown(id) };
        self.push(key, cx, out);
        push_started(id)
    }

    fn send_to_all(&mut self, cx: &Context<'_>, out: &mut Out<'_>) -> Response {
        let keys: Vec<ConnKey> = self.by_id.values().copied().collect();
        for &key in &keys {
            self.push(key, cx, out);
        }
        count(keys.len())
    }

    fn close(&mut self, id: &str, out: &mut Out<'_>) -> Response {
        let Some(&key) = self.by_id.get(id) else { return unknown(id) };
        // Registries are cleaned in on_end, which this End brings about.
        out.push(Action::End { to: key });
        closed()
    }

    /// Starts a push on a stream: a token at once, then one a second. A
    /// stream already pushing only gets its count restarted, on its rhythm.
    fn push(&mut self, key: ConnKey, cx: &Context<'_>, out: &mut Out<'_>) {
        match self.streams.get_mut(&key).and_then(|c| c.push.as_mut()) {
            Some(running) => running.left = PUSH_TOKENS,
            None => {
                out.push(Action::Send { to: key, bytes: self.token.clone() });
                self.start_push(key, PUSH_TOKENS - 1, cx, out);
            }
        }
    }

    /// Arms the timer of a push that has `left` tokens still to send.
    fn start_push(&mut self, key: ConnKey, left: u32, cx: &Context<'_>, out: &mut Out<'_>) {
        let Some(client) = self.streams.get_mut(&key) else { return };
        let timer = self.next_timer;
        self.next_timer = self.next_timer.wrapping_add(1).max(1);
        let due = cx.now + PUSH_EVERY_MS;
        client.push = Some(Push { timer, due, left });
        self.timers.insert(timer, key);
        out.timer(due, timer);
    }
}

/// The client id a route names (in the path for `closeConn`, else in the
/// query), or the blank-id `400`. Its length is bounded by the request-head
/// cap (431 past it).
fn client_id<'p>(route: Route, req: &Request<'p>, params: &Params<'p>) -> Result<Cow<'p, str>, Response> {
    let id = match route {
        Route::Close => params.get("clientId"),
        _ => query(req.query, "clientId"),
    };
    id.filter(|id| !id.trim().is_empty())
        .ok_or_else(|| Response::new(400, "text/plain; charset=utf-8", Body::Static(BLANK_ID)))
}

/// A stream's idle timeout (`?timeout=`, at most SPEC's 600 s), or its `400`.
fn stream_timeout(req: &Request<'_>) -> Result<Duration, Response> {
    super::timeout_param(req.query, TIMEOUT, TIMEOUT).map_err(|why| Response::text(400, why))
}

fn push_started(id: &str) -> Response {
    let mut body = String::from("{\"clientId\":");
    json::push_str(&mut body, id);
    let _ = write!(body, ",\"tokens\":{PUSH_TOKENS}}}");
    Response::json(200, body)
}

fn count(n: usize) -> Response {
    Response::json(200, format!("{{\"count\":{n}}}"))
}

fn closed() -> Response {
    Response::new(200, "text/plain; charset=utf-8", Body::Static(CLOSED))
}

fn unknown(id: &str) -> Response {
    let mut body = String::from("{\"error\":\"no client with this id is connected\",\"clientId\":");
    json::push_str(&mut body, id);
    body.push('}');
    Response::json(404, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::http::request::Method;
    use crate::stats::Stats;

    const OWNER: Owner = Owner::Scenario(ScenarioId::SseClients);

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: 1 }
    }

    fn req(method: Method, query: &str) -> Request<'_> {
        Request {
            method,
            method_token: "GET",
            path: "/",
            query,
            minor: 1,
            headers: &[],
            body: Default::default(),
            keep_alive: true,
        }
    }

    /// Runs a GET as connection `index` at `now`.
    fn run(app: &mut SseClients, route: Route, q: &str, index: u32, now: u64) -> (Reply, Vec<Action>) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now, unix_ms: 0, stats: &stats };
        let mut out = Vec::new();
        let reply =
            app.handle(route, &req(Method::Get, q), &Params::default(), None, &cx, &mut Out::new(&mut out, OWNER));
        (reply, out)
    }

    fn head(app: &SseClients, route: Route, q: &str) -> Head {
        let stats = Stats::default();
        let cx = Context { key: key(9), now: 0, unix_ms: 0, stats: &stats };
        app.head(route, &req(Method::Head, q), &Params::default(), &cx)
    }

    fn end(app: &mut SseClients, index: u32) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        app.on_end(&cx, End::Gone, &mut Out::new(&mut Vec::new(), OWNER));
    }

    /// Fires every timer in `out` due by `until`, in order, as the driver
    /// would; returns how many tokens each stream got, by index.
    fn advance(app: &mut SseClients, mut out: Vec<Action>, until: u64) -> (HashMap<u32, u32>, Vec<Action>) {
        let stats = Stats::default();
        let mut got = HashMap::new();
        let mut later = Vec::new();
        loop {
            let mut timers = Vec::new();
            for action in out.drain(..) {
                match action {
                    Action::Send { to, .. } => *got.entry(to.index).or_insert(0) += 1,
                    Action::Timer { at, token } if at <= until => {
                        assert_eq!(token.owner(), OWNER);
                        timers.push((at, token.id()))
                    }
                    other => later.push(other),
                }
            }
            timers.sort();
            if timers.is_empty() {
                return (got, later);
            }
            for (at, token) in timers {
                let cx =
                    Context { key: ConnKey { index: u32::MAX, gen: 0 }, now: at, unix_ms: 0, stats: &stats };
                app.on_timer(token, &cx, &mut Out::new(&mut out, OWNER));
            }
        }
    }

    fn status(reply: &Reply) -> u16 {
        match reply {
            Reply::Respond(r) => r.status,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn timeout_parameter() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("", Some(TIMEOUT)),
            ("timeout=", Some(TIMEOUT)),
            ("timeout=2", Some(Duration::from_secs(2))),
            ("timeout=0.25", Some(Duration::from_millis(250))),
            ("timeout=100000", Some(TIMEOUT)),
            ("timeout=1e300", Some(TIMEOUT)),
            ("timeout=0", None),
            ("timeout=-1", None),
            ("timeout=NaN", None),
            ("timeout=inf", None),
            ("timeout=x", None),
        ];
        for (q, want) in cases {
            assert_eq!(crate::app::timeout_param(q, TIMEOUT, TIMEOUT).ok(), *want, "{q}");
        }
    }

    #[test]
    fn streams_end_after_600_s_without_an_event_or_their_timeout() {
        // The connection times the idle stream (conn::stream_tests: each
        // event moves the deadline, a heartbeat does not); the app gives the
        // time each stream gets.
        let idle = |reply: Reply| match reply {
            Reply::Stream { idle, .. } => idle,
            other => panic!("not a stream: {other:?}"),
        };
        let mut app = SseClients::default();
        for (i, route) in [Route::Connect, Route::TestSse].into_iter().enumerate() {
            let i = i as u32 * 3;
            assert_eq!(idle(run(&mut app, route, "clientId=a", i + 1, 0).0), Some(TIMEOUT));
            let asked = run(&mut app, route, "clientId=b&timeout=0.5", i + 2, 0).0;
            assert_eq!(idle(asked), Some(Duration::from_millis(500)));
            let capped = run(&mut app, route, "clientId=c&timeout=9999", i + 3, 0).0;
            assert_eq!(idle(capped), Some(TIMEOUT));
        }
    }

    #[test]
    fn blank_ids_are_refused() {
        let mut app = SseClients::default();
        for q in ["", "clientId", "clientId=", "clientId=+", "clientId=%20%09", "x=1"] {
            for route in [Route::Connect, Route::TestSse, Route::SendMsg] {
                let (reply, out) = run(&mut app, route, q, 1, 0);
                assert_eq!(status(&reply), 400, "{q}");
                assert!(out.is_empty());
            }
        }
        assert!(app.streams.is_empty() && app.by_id.is_empty());
    }

    #[test]
    fn a_replaced_streams_end_keeps_the_new_registration() {
        let mut app = SseClients::default();
        run(&mut app, Route::Connect, "clientId=a", 1, 0);
        let (_, out) = run(&mut app, Route::Connect, "clientId=a", 2, 0);
        assert!(matches!(out.as_slice(), [Action::End { to }] if *to == key(1)));
        end(&mut app, 1);
        assert_eq!(app.by_id.get("a"), Some(&key(2)));
        end(&mut app, 2);
        assert!(app.by_id.is_empty() && app.streams.is_empty() && app.timers.is_empty());
    }

    #[test]
    fn test_sse_pushes_one_token_a_second_then_stops() {
        let mut app = SseClients::default();
        let (reply, out) = run(&mut app, Route::TestSse, "clientId=a", 1, 0);
        let Reply::Stream { first, .. } = reply else { panic!("{reply:?}") };
        assert_eq!(first, "data: SSE 测试数据\n\n".as_bytes(), "the first token at once");
        let (got, rest) = advance(&mut app, out, 999);
        assert_eq!(got.get(&1), None, "none before a second has passed");
        let (got, _) = advance(&mut app, rest, 100_000);
        assert_eq!(got[&1], PUSH_TOKENS - 1);
        assert!(app.timers.is_empty() && app.streams[&key(1)].push.is_none());
    }

    #[test]
    fn a_second_start_does_not_double_the_rate() {
        let mut app = SseClients::default();
        let (_, first) = run(&mut app, Route::Connect, "clientId=a", 1, 0);
        assert!(first.is_empty());
        let (reply, out) = run(&mut app, Route::SendMsg, "clientId=a", 2, 0);
        assert_eq!(status(&reply), 200);
        let (got, _) = advance(&mut app, out, 3_500);
        assert_eq!(got[&1], 4, "at 0, 1, 2 and 3 s");
        // Started again at 3.5 s: no token at once, the count starts over.
        let (_, again) = run(&mut app, Route::SendMsg, "clientId=a", 2, 3_500);
        assert!(again.is_empty());
        assert_eq!(app.timers.len(), 1);
        assert_eq!(app.streams[&key(1)].push.as_ref().map(|p| p.left), Some(PUSH_TOKENS));
    }

    #[test]
    fn a_push_dies_with_its_stream() {
        let mut app = SseClients::default();
        let (_, out) = run(&mut app, Route::TestSse, "clientId=a", 1, 0);
        end(&mut app, 1);
        let (got, _) = advance(&mut app, out, 100_000);
        assert!(got.is_empty(), "{got:?}");
        assert!(app.timers.is_empty() && app.streams.is_empty() && app.by_id.is_empty());
    }

    #[test]
    fn send_to_all_and_close() {
        let mut app = SseClients::default();
        run(&mut app, Route::Connect, "clientId=a", 1, 0);
        run(&mut app, Route::Connect, "clientId=b", 2, 0);
        let (reply, out) = run(&mut app, Route::SendAll, "", 3, 0);
        let Reply::Respond(r) = reply else { panic!() };
        assert_eq!(r.body.as_bytes(), b"{\"count\":2}");
        let (got, _) = advance(&mut app, out, 0);
        assert_eq!((got[&1], got[&2]), (1, 1));
        assert_eq!(status(&run(&mut app, Route::SendMsg, "clientId=zz", 3, 0).0), 404);
        let mut out = Vec::new();
        let closed = app.close("a", &mut Out::new(&mut out, OWNER));
        assert_eq!((closed.status, closed.body.as_bytes()), (200, "连接已关闭".as_bytes()));
        assert!(matches!(out.as_slice(), [Action::End { to }] if *to == key(1)));
        assert_eq!(app.close("nobody", &mut Out::new(&mut Vec::new(), OWNER)).status, 404);
    }

    #[test]
    fn head_answers_as_get_would() {
        let mut app = SseClients::default();
        run(&mut app, Route::Connect, "clientId=a", 1, 0);
        let status = |h: Head| match h {
            Head::Respond(r) => r.status,
            Head::Stream => 0,
            Head::Upgrade => 101,
        };
        assert_eq!(status(head(&app, Route::Connect, "clientId=a")), 0, "a stream");
        assert_eq!(status(head(&app, Route::TestSse, "clientId=b&timeout=x")), 400);
        assert_eq!(status(head(&app, Route::SendMsg, "clientId=a")), 200);
        assert_eq!(status(head(&app, Route::SendMsg, "clientId=zz")), 404);
        assert_eq!(status(head(&app, Route::SendMsg, "clientId=")), 400);
        let Head::Respond(all) = head(&app, Route::SendAll, "") else { panic!() };
        assert_eq!(all.body.as_bytes(), b"{\"count\":1}");
        assert_eq!(app.by_id.get("a"), Some(&key(1)));
        assert!(app.streams.len() == 1 && app.timers.is_empty());
    }
}
