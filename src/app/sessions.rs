//! SPEC §3.6, sessions by id (page: `www/socket.html`): each WebSocket is
//! registered under an id the client chooses in the path, so a backend can
//! push to one user by id, or to everyone, with a plain HTTP POST.
//!
//! Routes (texts exact, from SPEC):
//! - `GET /socket/{id}` (WebSocket; "id a positive integer, else `400`
//!   before the upgrade"): "on open sends `-连接已建立-`; echoes each
//!   message" (text as text, binary as binary, unchanged). "A new session
//!   with the same id replaces the old one (closed with 1000)."
//! - `POST /socket/{id}/send` body M: "M to that session" as one text frame;
//!   `200 {"id":N,"sent":true}`; no open session with that id: "`404`"
//!   `{"id":N,"sent":false,"error":"no open session with this id"}`.
//! - `POST /socket/broadcast` body M: "M to every `/socket/*` session" as one
//!   text frame, encoded once and shared; `200 {"sent":N}`.
//!
//! An id is ASCII digits only (no sign, no spaces), not zero, at most
//! `u64::MAX`; leading zeros are allowed and name the same id (`007` is 7),
//! as a Java `Long` path parameter would read them. Anything else is `400`
//! (plain text), on every route. A body sent as a text frame must be UTF-8
//! (RFC 6455 §5.6: a client fails the connection on a text frame that is
//! not), else `400`. An empty body is a message like any other.
//!
//! A replaced socket stays in the registry by connection until its
//! `on_end`, which finds its id taken by the newer socket and leaves that
//! registration alone. A plain `GET /socket/{id}` without an upgrade (or a
//! HEAD) registers nothing and so replaces nothing; the app answers it `400`.
//!
//! Not done here: ids are not authenticated (anyone may take over or push to
//! any id, as in the tutorial); a replaced page is not told why it was
//! closed (a scenario closes only with 1000 and no reason); nothing is kept
//! for an id that connects later; sessions on other `--workers` are not
//! reached.

use std::collections::HashMap;
use std::rc::Rc;

use super::{Action, Context, End, Head, Message, Out, Reply, Scenario};
use crate::http::request::Request;
use crate::http::response::Response;
use crate::http::route::{Methods, Params};
use crate::key::ConnKey;
use crate::ws::{self, Accepted, OpCode};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /socket/{id}`: the session's WebSocket.
    Socket,
    /// `POST /socket/{id}/send`: a message to one session.
    Send,
    /// `POST /socket/broadcast`: a message to every session.
    Broadcast,
}

/// SPEC §3.6: "on open sends `-连接已建立-`".
const GREETING: &str = "-连接已建立-";

#[derive(Default)]
pub struct Sessions {
    /// Id → the socket registered under it now.
    by_id: HashMap<u64, ConnKey>,
    /// Every open socket of ours and its id, replaced ones included until
    /// their `on_end`.
    ids: HashMap<ConnKey, u64>,
}

impl Scenario for Sessions {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![
            (Methods::POST, "/socket/broadcast", Route::Broadcast),
            (Methods::GET, "/socket/{id}", Route::Socket),
            (Methods::POST, "/socket/{id}/send", Route::Send),
        ]
    }

    fn handle(
        &mut self,
        route: Route,
        req: &Request<'_>,
        params: &Params<'_>,
        upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        if route == Route::Broadcast {
            return Reply::Respond(self.broadcast(req, out));
        }
        let id = match session_id(params) {
            Ok(id) => id,
            Err(refusal) => return Reply::Respond(refusal),
        };
        match route {
            Route::Socket => self.open(id, upgrade, cx, out),
            Route::Send | Route::Broadcast => Reply::Respond(self.send(id, req, out)),
        }
    }

    fn head(&self, route: Route, _req: &Request<'_>, params: &Params<'_>, _cx: &Context<'_>) -> Head {
        match (route, session_id(params)) {
            (Route::Socket, Ok(_)) => Head::Upgrade,
            (Route::Socket, Err(refusal)) => Head::Respond(refusal),
            (Route::Send | Route::Broadcast, _) => Head::not_allowed(Methods::POST),
        }
    }

    fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Out<'_>) {
        if !self.ids.contains_key(&cx.key) {
            return;
        }
        // "echoes each message": the same opcode, the same payload.
        let (opcode, payload) = match msg {
            Message::Text(t) => (OpCode::Text, t.as_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
        };
        out.push(Action::Send { to: cx.key, bytes: frame(opcode, payload) });
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Out<'_>) {
        let Some(id) = self.ids.remove(&cx.key) else { return };
        // A replaced socket ends after its successor registered: leave that.
        if self.by_id.get(&id) == Some(&cx.key) {
            self.by_id.remove(&id);
        }
        log::info!("conn={} socket id={id} closed ({why:?}); open: {}", cx.key, self.by_id.len());
    }
}

impl Sessions {
    fn open(&mut self, id: u64, upgrade: Option<Accepted>, cx: &Context<'_>, out: &mut Vec<Action>) -> Reply {
        // A plain GET is refused by the handshake rules: it must not take
        // the id from the socket that holds it.
        let Some(accept) = upgrade else { return Reply::Respond(ws::Refusal::NotUpgrade.response()) };
        let mut first = Vec::with_capacity(GREETING.len() + 2);
        ws::encode(OpCode::Text, GREETING.as_bytes(), &mut first);
        if let Some(old) = self.by_id.insert(id, cx.key) {
            // SPEC §3.6: "A new session with the same id replaces the old one
            // (closed with 1000)"; Action::End closes a WebSocket with 1000.
            out.push(Action::End { to: old });
            log::info!("conn={} socket id={id} replaces conn={old}", cx.key);
        }
        self.ids.insert(cx.key, id);
        log::info!("conn={} socket id={id} opened; open: {}", cx.key, self.by_id.len());
        Reply::Upgrade { accept, first }
    }

    fn send(&mut self, id: u64, req: &Request<'_>, out: &mut Vec<Action>) -> Response {
        let Ok(m) = std::str::from_utf8(&req.body) else { return not_utf8() };
        let Some(&key) = self.by_id.get(&id) else {
            return Response::json(
                404,
                format!(r#"{{"id":{id},"sent":false,"error":"no open session with this id"}}"#),
            );
        };
        out.push(Action::Send { to: key, bytes: frame(OpCode::Text, m.as_bytes()) });
        Response::json(200, format!(r#"{{"id":{id},"sent":true}}"#))
    }

    fn broadcast(&mut self, req: &Request<'_>, out: &mut Vec<Action>) -> Response {
        let Ok(m) = std::str::from_utf8(&req.body) else { return not_utf8() };
        // One frame for everyone: each socket holds a refcount, not a copy.
        let bytes = frame(OpCode::Text, m.as_bytes());
        for &key in self.by_id.values() {
            out.push(Action::Send { to: key, bytes: bytes.clone() });
        }
        Response::json(200, format!(r#"{{"sent":{}}}"#, self.by_id.len()))
    }
}

/// A positive integer written in ASCII digits only (`str::parse` alone would
/// also take a leading `+`).
/// The `{id}` of the path, or SPEC §3.6's `400` ("before the upgrade").
fn session_id(params: &Params<'_>) -> Result<u64, Response> {
    params
        .get("id")
        .and_then(|v| parse_id(&v))
        .ok_or_else(|| Response::text(400, "the id must be a positive integer, e.g. /socket/7"))
}

fn parse_id(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok().filter(|&id| id > 0)
}

fn frame(opcode: OpCode, payload: &[u8]) -> Rc<[u8]> {
    let mut f = Vec::with_capacity(payload.len() + ws::frame::MAX_HEADER);
    ws::encode(opcode, payload, &mut f);
    f.into()
}

fn not_utf8() -> Response {
    Response::text(400, "the message must be UTF-8 text (it is sent as a WebSocket text frame)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::http::request::Method;
    use crate::stats::Stats;

    use httparse::Header;

    const OWNER: Owner = Owner::Scenario(ScenarioId::Sessions);

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

    fn cx(stats: &Stats, index: u32) -> Context<'_> {
        Context { key: key(index), now: 0, unix_ms: 0, stats }
    }

    /// Opens a socket for `id` as connection `index`.
    fn open(app: &mut Sessions, id: u64, index: u32) -> Vec<Action> {
        let stats = Stats::default();
        let mut out = Vec::new();
        let reply = app.open(id, Some(crate::app::tests::accepted()), &cx(&stats, index), &mut out);
        assert!(matches!(reply, Reply::Upgrade { .. }), "{reply:?}");
        out
    }

    fn end(app: &mut Sessions, index: u32) {
        let stats = Stats::default();
        app.on_end(&cx(&stats, index), End::Done, &mut Out::new(&mut Vec::new(), OWNER));
    }

    #[test]
    fn ids() {
        let cases: &[(&str, Option<u64>)] = &[
            ("1", Some(1)),
            ("42", Some(42)),
            ("007", Some(7)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("0", None),
            ("000", None),
            ("", None),
            ("+5", None),
            ("-5", None),
            (" 5", None),
            ("5 ", None),
            ("1.0", None),
            ("abc", None),
            ("٣", None),
        ];
        for (v, want) in cases {
            assert_eq!(parse_id(v), *want, "{v:?}");
        }
    }

    #[test]
    fn echoes_text_as_text_and_binary_as_binary() {
        let mut app = Sessions::default();
        open(&mut app, 3, 1);
        let stats = Stats::default();
        let mut out = Vec::new();
        app.on_message(&cx(&stats, 1), Message::Text("hé"), &mut Out::new(&mut out, OWNER));
        app.on_message(&cx(&stats, 1), Message::Binary(&[0, 255]), &mut Out::new(&mut out, OWNER));
        let got: Vec<&[u8]> = out
            .iter()
            .map(|a| match a {
                Action::Send { to, bytes } if *to == key(1) => &bytes[..],
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, [&[0x81, 3, b'h', 0xc3, 0xa9][..], &[0x82, 2, 0, 255][..]]);
    }

    #[test]
    fn a_replaced_sockets_end_keeps_the_new_registration() {
        let mut app = Sessions::default();
        assert!(open(&mut app, 5, 1).is_empty());
        let out = open(&mut app, 5, 2);
        assert!(matches!(out.as_slice(), [Action::End { to }] if *to == key(1)));
        end(&mut app, 1);
        assert_eq!(app.by_id.get(&5), Some(&key(2)));
        end(&mut app, 2);
        end(&mut app, 2);
        assert!(app.by_id.is_empty() && app.ids.is_empty());
    }

    #[test]
    fn a_plain_get_takes_no_id() {
        let mut app = Sessions::default();
        open(&mut app, 5, 1);
        let stats = Stats::default();
        let mut out = Vec::new();
        let reply = app.open(5, None, &cx(&stats, 2), &mut out);
        assert!(matches!(reply, Reply::Respond(r) if r.status == 400) && out.is_empty());
        assert_eq!(app.by_id.get(&5), Some(&key(1)));
        assert_eq!(app.ids.len(), 1);
    }

    #[test]
    fn send_and_broadcast() {
        let mut app = Sessions::default();
        open(&mut app, 1, 1);
        open(&mut app, 2, 2);
        let mut out = Vec::new();
        let r = app.send(2, &req(Method::Post, &[], b"hi"), &mut out);
        assert_eq!((r.status, r.body.as_bytes()), (200, &br#"{"id":2,"sent":true}"#[..]));
        assert!(
            matches!(out.as_slice(), [Action::Send { to, bytes }] if *to == key(2) && bytes[..] == *b"\x81\x02hi")
        );
        let r = app.send(9, &req(Method::Post, &[], b"hi"), &mut Vec::new());
        assert_eq!(r.status, 404);
        assert_eq!(app.send(1, &req(Method::Post, &[], b"\xc3"), &mut Vec::new()).status, 400);
        let mut out = Vec::new();
        let r = app.broadcast(&req(Method::Post, &[], b"all"), &mut out);
        assert_eq!((r.status, r.body.as_bytes()), (200, &br#"{"sent":2}"#[..]));
        let frames: Vec<&Rc<[u8]>> = out
            .iter()
            .filter_map(|a| match a {
                Action::Send { bytes, .. } => Some(bytes),
                _ => None,
            })
            .collect();
        assert_eq!(frames.len(), 2);
        assert!(Rc::ptr_eq(frames[0], frames[1]), "encoded once, shared");
    }
}
