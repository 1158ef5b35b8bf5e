//! SPEC §3.5, WebSocket echo and mass messaging (page: `www/wstest.html`):
//! the "hello world" of WebSocket in the tutorials this project grew from. A
//! page opens a socket, gets a greeting, sees each of its messages come back
//! tagged with its session id, and anyone can push one text to every open
//! session with a plain HTTP POST.
//!
//! Routes (texts exact, from SPEC):
//! - `GET /ws/asset` (WebSocket): "on open sends the bare text `连接成功`;
//!   each text message M is answered `Echo Message content:{M} (From
//!   Server,Session ID={sid})`. The online count is logged on open and close"
//!   (`log::info!`, with the connection key and the sid).
//! - `POST /ws/asset/broadcast` body M: "every open `/ws/asset` session gets
//!   `{M} (From Server,Session ID={sid})` with its own sid. `200
//!   {"sent":N}`" (`application/json`; N sessions were sent the text). The
//!   body must be UTF-8, as a text frame must be (RFC 6455 §5.6), else `400`.
//!   An empty body is a message like any other.
//!
//! Session ids: a counter kept by this scenario, in decimal, from 1, one per
//! accepted socket and never reused while the server runs (a `u64` does not
//! wrap). Spring on Tomcat numbers its `WsSession`s the same way, from one
//! process-wide counter; a counter rather than a random id keeps the texts
//! short and easy to tell apart on the page. The sid is not the connection
//! key: keys reuse slab slots, sids never repeat.
//!
//! Binary messages are ignored (logged at debug level; the socket stays
//! open). The tutorial's endpoint has only a text handler; RFC 6455 §7.4.1
//! gives such an endpoint close code 1003 ("an endpoint that understands only
//! text data MAY send this if it receives a binary message"), but a scenario
//! can only close with 1000 ([`Action::End`]), and a "normal closure" would
//! tell the client nothing was wrong. Echoing binary with the text framing
//! around it would make a message that is neither.
//!
//! Not done here: the broadcast is not authenticated (as in the tutorial);
//! nothing is kept for sessions that open later; sessions on other
//! `--workers` are not reached (each worker has its own registry).

use std::collections::HashMap;

use super::{Action, Context, End, Head, Message, Out, Reply, Scenario};
use crate::http::request::Request;
use crate::http::response::Response;
use crate::http::route::{Methods, Params};
use crate::key::ConnKey;
use crate::ws::{self, Accepted, OpCode};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /ws/asset`: a session's WebSocket.
    Socket,
    /// `POST /ws/asset/broadcast`: a message to every session.
    Broadcast,
}

/// SPEC §3.5: "on open sends the bare text `连接成功`".
const GREETING: &str = "连接成功";
/// SPEC §3.5: "`Echo Message content:{M} (From Server,Session ID={sid})`".
const ECHO_PREFIX: &str = "Echo Message content:";
/// SPEC §3.5, after M in both the echo and the broadcast.
const FROM_SERVER: &str = " (From Server,Session ID=";

#[derive(Default)]
pub struct Asset {
    /// Every open `/ws/asset` socket and its session id.
    sessions: HashMap<ConnKey, u64>,
    /// The last session id given out (the first socket gets 1).
    last_sid: u64,
}

impl Scenario for Asset {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![(Methods::GET, "/ws/asset", Route::Socket), (Methods::POST, "/ws/asset/broadcast", Route::Broadcast)]
    }

    fn handle(
        &mut self,
        route: Route,
        req: &Request<'_>,
        _params: &Params<'_>,
        upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        match route {
            Route::Socket => self.open(upgrade, cx),
            Route::Broadcast => Reply::Respond(self.broadcast(req, out)),
        }
    }

    fn head(&self, route: Route, _req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>) -> Head {
        match route {
            Route::Socket => Head::Upgrade,
            Route::Broadcast => Head::not_allowed(Methods::POST),
        }
    }

    fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Out<'_>) {
        let Some(&sid) = self.sessions.get(&cx.key) else { return };
        match msg {
            Message::Text(m) => {
                out.push(Action::Send { to: cx.key, bytes: text_frame(&[ECHO_PREFIX, m], sid).into() })
            }
            Message::Binary(b) => {
                log::debug!(
                    "conn={} ws/asset sid={sid}: ignored a binary message of {} bytes",
                    cx.key,
                    b.len()
                )
            }
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Out<'_>) {
        if let Some(sid) = self.sessions.remove(&cx.key) {
            log::info!(
                "conn={} ws/asset sid={sid} closed ({why:?}); online: {}",
                cx.key,
                self.sessions.len()
            );
        }
    }
}

impl Asset {
    fn open(&mut self, upgrade: Option<Accepted>, cx: &Context<'_>) -> Reply {
        // A plain GET is refused by the handshake rules: register nothing.
        let Some(accept) = upgrade else { return Reply::Respond(ws::Refusal::NotUpgrade.response()) };
        let mut first = Vec::with_capacity(GREETING.len() + 2);
        ws::encode(OpCode::Text, GREETING.as_bytes(), &mut first);
        self.last_sid += 1;
        let sid = self.last_sid;
        self.sessions.insert(cx.key, sid);
        log::info!("conn={} ws/asset sid={sid} opened; online: {}", cx.key, self.sessions.len());
        Reply::Upgrade { accept, first }
    }

    fn broadcast(&mut self, req: &Request<'_>, out: &mut Out<'_>) -> Response {
        let Ok(m) = std::str::from_utf8(&req.body) else {
            return Response::text(
                400,
                "the message must be UTF-8 text (it is sent as a WebSocket text frame)",
            );
        };
        // Each session's text names its own sid, so each gets its own frame.
        for (&key, &sid) in &self.sessions {
            out.push(Action::Send { to: key, bytes: text_frame(&[m], sid).into() });
        }
        Response::json(200, format!("{{\"sent\":{}}}", self.sessions.len()))
    }
}

/// A text frame of `parts`, then ` (From Server,Session ID={sid})`.
fn text_frame(parts: &[&str], sid: u64) -> Vec<u8> {
    let mut text =
        String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + FROM_SERVER.len() + 21);
    for part in parts {
        text.push_str(part);
    }
    text.push_str(FROM_SERVER);
    text.push_str(&sid.to_string());
    text.push(')');
    let mut frame = Vec::with_capacity(text.len() + ws::frame::MAX_HEADER);
    ws::encode(OpCode::Text, text.as_bytes(), &mut frame);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::http::request::Method;
    use crate::stats::Stats;

    const OWNER: Owner = Owner::Scenario(ScenarioId::Asset);
    use httparse::Header;

    const UPGRADE: &[Header<'static>] =
        &[Header { name: "Upgrade", value: b"websocket" }, Header { name: "Connection", value: b"Upgrade" }];

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: 1 }
    }

    fn req<'a>(method: Method, headers: &'a [Header<'a>], body: &'a [u8]) -> Request<'a> {
        Request {
            method,
            method_token: "GET",
            path: "/",
            query: "",
            minor: 1,
            headers,
            body: body.into(),
            keep_alive: true,
        }
    }

    /// Runs a request as the app would: with a checked handshake when it
    /// asks to upgrade.
    fn run(app: &mut Asset, route: Route, r: &Request<'_>, index: u32) -> (Reply, Vec<Action>) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        let mut out = Vec::new();
        let upgrade = ws::is_upgrade(r).then(crate::app::tests::accepted);
        let reply = app.handle(route, r, &Params::default(), upgrade, &cx, &mut Out::new(&mut out, OWNER));
        (reply, out)
    }

    fn message(app: &mut Asset, index: u32, msg: Message<'_>) -> Vec<Action> {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        let mut out = Vec::new();
        app.on_message(&cx, msg, &mut Out::new(&mut out, OWNER));
        out
    }

    fn end(app: &mut Asset, index: u32) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        app.on_end(&cx, End::Gone, &mut Out::new(&mut Vec::new(), OWNER));
    }

    fn frame(text: &str) -> Vec<u8> {
        let mut f = Vec::new();
        ws::encode(OpCode::Text, text.as_bytes(), &mut f);
        f
    }

    /// The frames sent, by connection index, in order.
    fn sent(out: &[Action]) -> Vec<(u32, Vec<u8>)> {
        out.iter()
            .map(|a| match a {
                Action::Send { to, bytes } => (to.index, bytes.to_vec()),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn greets_and_echoes_with_the_sid() {
        let mut app = Asset::default();
        let (reply, out) = run(&mut app, Route::Socket, &req(Method::Get, UPGRADE, b""), 1);
        let Reply::Upgrade { first, .. } = reply else { panic!("{reply:?}") };
        assert_eq!(first, frame("连接成功"));
        assert!(out.is_empty());
        let out = message(&mut app, 1, Message::Text("hi 你好"));
        assert_eq!(sent(&out), [(1, frame("Echo Message content:hi 你好 (From Server,Session ID=1)"))]);
        assert!(message(&mut app, 1, Message::Binary(b"\x00\x01")).is_empty(), "binary is ignored");
    }

    #[test]
    fn broadcast_gives_each_session_its_own_sid() {
        let mut app = Asset::default();
        for index in [1, 2] {
            run(&mut app, Route::Socket, &req(Method::Get, UPGRADE, b""), index);
        }
        let (reply, out) = run(&mut app, Route::Broadcast, &req(Method::Post, &[], "大家好".as_bytes()), 3);
        let Reply::Respond(r) = reply else { panic!("{reply:?}") };
        assert_eq!((r.status, r.body.as_bytes()), (200, &b"{\"sent\":2}"[..]));
        let mut got = sent(&out);
        got.sort();
        assert_eq!(
            got,
            [
                (1, frame("大家好 (From Server,Session ID=1)")),
                (2, frame("大家好 (From Server,Session ID=2)"))
            ]
        );
        let (reply, out) = run(&mut app, Route::Broadcast, &req(Method::Post, &[], b"\xff"), 3);
        let Reply::Respond(r) = reply else { panic!("{reply:?}") };
        assert_eq!((r.status, out.len()), (400, 0));
    }

    #[test]
    fn sids_are_never_reused_and_ends_leave_nothing() {
        let mut app = Asset::default();
        run(&mut app, Route::Socket, &req(Method::Get, UPGRADE, b""), 1);
        end(&mut app, 1);
        // The same slab slot again: a new session, a new sid.
        run(&mut app, Route::Socket, &req(Method::Get, UPGRADE, b""), 1);
        assert_eq!(app.sessions.get(&key(1)), Some(&2));
        end(&mut app, 1);
        end(&mut app, 1);
        assert!(app.sessions.is_empty());
    }

    #[test]
    fn a_plain_get_is_refused_and_registers_nothing() {
        let mut app = Asset::default();
        let (reply, out) = run(&mut app, Route::Socket, &req(Method::Get, &[], b""), 1);
        assert!(matches!(reply, Reply::Respond(r) if r.status == 400) && out.is_empty());
        assert!(app.sessions.is_empty() && app.last_sid == 0);
    }
}
