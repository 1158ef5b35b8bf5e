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

use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use std::time::Duration;

use super::{Action, Context, End, Reply, Scenario};
use crate::http::request::{Method, Request};
use crate::http::response::{Body, Response};
use crate::http::route::{query, Methods, Params};
use crate::json;
use crate::key::ConnKey;
use crate::sse;

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
/// Timer tokens are 48 bits (the app keeps the top bits for routing).
const TOKEN_MASK: u64 = (1 << 48) - 1;

const CONNECT: u8 = 0;
const TEST_SSE: u8 = 1;
const SEND_MSG: u8 = 2;
const SEND_ALL: u8 = 3;
const CLOSE: u8 = 4;

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
    fn routes(&self) -> Vec<(Methods, &'static str, u8)> {
        vec![
            (Methods::GET, "/sse/sseConection", CONNECT),
            (Methods::GET, "/sse/connect", CONNECT),
            (Methods::GET, "/sse/testSse", TEST_SSE),
            (Methods::GET, "/sse/sendMsg", SEND_MSG),
            (Methods::GET, "/sse/sendMsgToAll", SEND_ALL),
            (Methods::GET, "/sse/closeConn/{clientId}", CLOSE),
            // No id at all in the path: the blank-id answer, not a 404.
            (Methods::GET, "/sse/closeConn", CLOSE),
            (Methods::GET, "/sse/closeConn/", CLOSE),
        ]
    }

    fn handle(
        &mut self,
        route: u8,
        req: &Request<'_>,
        params: &Params<'_>,
        cx: &Context<'_>,
        out: &mut Vec<Action>,
    ) -> Reply {
        // HEAD answers as GET would, without the side effect (RFC 9110
        // §9.3.2: HEAD is GET without content; a page prefetcher or link
        // checker must not start pushes or close streams).
        let act = req.method != Method::Head;
        if route == SEND_ALL {
            return Reply::Respond(self.send_to_all(act, cx, out));
        }
        let id = match route {
            CLOSE => params.get("clientId"),
            _ => query(req.query, "clientId"),
        };
        // The id's length is bounded by the request-head cap (431 past it).
        let Some(id) = id.filter(|id| !id.trim().is_empty()) else {
            return Reply::Respond(Response::new(400, "text/plain; charset=utf-8", Body::Static(BLANK_ID)));
        };
        match route {
            CONNECT | TEST_SSE => self.connect(req, &id, route == TEST_SSE, cx, out),
            SEND_MSG => Reply::Respond(self.send_msg(&id, act, cx, out)),
            _ => Reply::Respond(self.close(&id, act, out)),
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Vec<Action>) {
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

    fn on_timer(&mut self, token: u64, cx: &Context<'_>, out: &mut Vec<Action>) {
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
            out.push(Action::Timer { at: push.due, token });
            return;
        }
        self.timers.remove(&token);
        if let Some(client) = self.streams.get_mut(&key) {
            client.push = None;
        }
    }
}

impl SseClients {
    fn connect(
        &mut self,
        req: &Request<'_>,
        id: &str,
        push: bool,
        cx: &Context<'_>,
        out: &mut Vec<Action>,
    ) -> Reply {
        let idle = match super::timeout_param(req.query, TIMEOUT, TIMEOUT) {
            Ok(d) => d,
            Err(why) => return Reply::Respond(Response::text(400, why)),
        };
        // HEAD gets the stream head and nothing else: it must not replace
        // (and so close) the client's real stream.
        if req.method == Method::Head {
            return Reply::Stream { first: Vec::new(), idle: Some(idle) };
        }
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

    fn send_msg(&mut self, id: &str, act: bool, cx: &Context<'_>, out: &mut Vec<Action>) -> Response {
        let Some(&key) = self.by_id.get(id) else { return unknown(id) };
        if act {
            self.push(key, cx, out);
        }
        let mut body = String::from("{\"clientId\":");
        json::push_str(&mut body, id);
        let _ = write!(body, ",\"tokens\":{PUSH_TOKENS}}}");
        Response::json(200, body)
    }

    fn send_to_all(&mut self, act: bool, cx: &Context<'_>, out: &mut Vec<Action>) -> Response {
        let keys: Vec<ConnKey> = self.by_id.values().copied().collect();
        for &key in keys.iter().filter(|_| act) {
            self.push(key, cx, out);
        }
        Response::json(200, format!("{{\"count\":{}}}", keys.len()))
    }

    fn close(&mut self, id: &str, act: bool, out: &mut Vec<Action>) -> Response {
        let Some(&key) = self.by_id.get(id) else { return unknown(id) };
        // Registries are cleaned in on_end, which this End brings about.
        if act {
            out.push(Action::End { to: key });
        }
        Response::new(200, "text/plain; charset=utf-8", Body::Static(CLOSED))
    }

    /// Starts a push on a stream: a token at once, then one a second. A
    /// stream already pushing only gets its count restarted, on its rhythm.
    fn push(&mut self, key: ConnKey, cx: &Context<'_>, out: &mut Vec<Action>) {
        match self.streams.get_mut(&key).and_then(|c| c.push.as_mut()) {
            Some(running) => running.left = PUSH_TOKENS,
            None => {
                out.push(Action::Send { to: key, bytes: self.token.clone() });
                self.start_push(key, PUSH_TOKENS - 1, cx, out);
            }
        }
    }

    /// Arms the timer of a push that has `left` tokens still to send.
    fn start_push(&mut self, key: ConnKey, left: u32, cx: &Context<'_>, out: &mut Vec<Action>) {
        let Some(client) = self.streams.get_mut(&key) else { return };
        let timer = self.next_timer;
        self.next_timer = (self.next_timer + 1) & TOKEN_MASK;
        if self.next_timer == 0 {
            self.next_timer = 1;
        }
        let due = cx.now + PUSH_EVERY_MS;
        client.push = Some(Push { timer, due, left });
        self.timers.insert(timer, key);
        out.push(Action::Timer { at: due, token: timer });
    }
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
    use crate::stats::Stats;

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
    fn run(app: &mut SseClients, route: u8, q: &str, index: u32, now: u64) -> (Reply, Vec<Action>) {
        run_as(app, Method::Get, route, q, index, now)
    }

    fn run_as(
        app: &mut SseClients,
        method: Method,
        route: u8,
        q: &str,
        index: u32,
        now: u64,
    ) -> (Reply, Vec<Action>) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now, unix_ms: 0, stats: &stats };
        let mut out = Vec::new();
        let reply = app.handle(route, &req(method, q), &Params::default(), &cx, &mut out);
        (reply, out)
    }

    fn end(app: &mut SseClients, index: u32) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        app.on_end(&cx, End::Gone, &mut Vec::new());
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
                    Action::Timer { at, token } if at <= until => timers.push((at, token)),
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
                app.on_timer(token, &cx, &mut out);
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
        for (i, route) in [CONNECT, TEST_SSE].into_iter().enumerate() {
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
            for route in [CONNECT, TEST_SSE, SEND_MSG] {
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
        run(&mut app, CONNECT, "clientId=a", 1, 0);
        let (_, out) = run(&mut app, CONNECT, "clientId=a", 2, 0);
        assert!(matches!(out.as_slice(), [Action::End { to }] if *to == key(1)));
        end(&mut app, 1);
        assert_eq!(app.by_id.get("a"), Some(&key(2)));
        end(&mut app, 2);
        assert!(app.by_id.is_empty() && app.streams.is_empty() && app.timers.is_empty());
    }

    #[test]
    fn test_sse_pushes_one_token_a_second_then_stops() {
        let mut app = SseClients::default();
        let (reply, out) = run(&mut app, TEST_SSE, "clientId=a", 1, 0);
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
        let (_, first) = run(&mut app, CONNECT, "clientId=a", 1, 0);
        assert!(first.is_empty());
        let (reply, out) = run(&mut app, SEND_MSG, "clientId=a", 2, 0);
        assert_eq!(status(&reply), 200);
        let (got, _) = advance(&mut app, out, 3_500);
        assert_eq!(got[&1], 4, "at 0, 1, 2 and 3 s");
        // Started again at 3.5 s: no token at once, the count starts over.
        let (_, again) = run(&mut app, SEND_MSG, "clientId=a", 2, 3_500);
        assert!(again.is_empty());
        assert_eq!(app.timers.len(), 1);
        assert_eq!(app.streams[&key(1)].push.as_ref().map(|p| p.left), Some(PUSH_TOKENS));
    }

    #[test]
    fn a_push_dies_with_its_stream() {
        let mut app = SseClients::default();
        let (_, out) = run(&mut app, TEST_SSE, "clientId=a", 1, 0);
        end(&mut app, 1);
        let (got, _) = advance(&mut app, out, 100_000);
        assert!(got.is_empty(), "{got:?}");
        assert!(app.timers.is_empty() && app.streams.is_empty() && app.by_id.is_empty());
    }

    #[test]
    fn send_to_all_and_close() {
        let mut app = SseClients::default();
        run(&mut app, CONNECT, "clientId=a", 1, 0);
        run(&mut app, CONNECT, "clientId=b", 2, 0);
        let (reply, out) = run(&mut app, SEND_ALL, "", 3, 0);
        let Reply::Respond(r) = reply else { panic!() };
        assert_eq!(r.body.as_bytes(), b"{\"count\":2}");
        let (got, _) = advance(&mut app, out, 0);
        assert_eq!((got[&1], got[&2]), (1, 1));
        assert_eq!(status(&run(&mut app, SEND_MSG, "clientId=zz", 3, 0).0), 404);
        let mut out = Vec::new();
        let closed = app.close("a", true, &mut out);
        assert_eq!((closed.status, closed.body.as_bytes()), (200, "连接已关闭".as_bytes()));
        assert!(matches!(out.as_slice(), [Action::End { to }] if *to == key(1)));
        assert_eq!(app.close("nobody", true, &mut Vec::new()).status, 404);
    }

    #[test]
    fn head_has_no_side_effects() {
        let mut app = SseClients::default();
        run(&mut app, CONNECT, "clientId=a", 1, 0);
        for route in [CONNECT, TEST_SSE, SEND_MSG, SEND_ALL] {
            let (_, out) = run_as(&mut app, Method::Head, route, "clientId=a", 2, 0);
            assert!(out.is_empty(), "route {route}: {out:?}");
        }
        assert_eq!(app.by_id.get("a"), Some(&key(1)));
        assert!(app.streams.len() == 1 && app.timers.is_empty());
        let (reply, _) = run_as(&mut app, Method::Head, SEND_MSG, "clientId=zz", 2, 0);
        assert_eq!(status(&reply), 404, "HEAD answers as GET would");
    }
}
