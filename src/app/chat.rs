//! SPEC §3.7, the chat room (page: `www/websocket.html`): one room, everyone
//! in it hears everything, and the server announces who comes and goes with
//! the number online. It shows fan-out of one encoded frame to many sockets
//! and a registry that the driver's exactly-once `on_end` keeps exact.
//!
//! - `GET /websocket?nickname={n}` (WebSocket). "blank nickname: `400` with
//!   body containing `昵称不能为空`", answered before the upgrade: missing,
//!   empty or whitespace-only (after percent-decoding) are all blank.
//!   - "on open everyone in the room, the newcomer included, gets
//!     `{n} joined (online: {count})` (count includes the newcomer)";
//!   - "each message M goes to everyone as `{n}: {M}`", the sender included;
//!   - "on close `{n} left (online: {count})`" to those still in the room,
//!     `count` being who is left. Every way a socket ends (the client closes,
//!     the socket fails, a slow consumer is dropped, the server shuts down)
//!     says it.
//!
//! The nickname is the query value percent-decoded as a form value (`%E5%B0%8F`
//! and `+` for a space), with surrounding whitespace trimmed; its length is
//! bounded by the request-head cap (8 KiB, `431` past it). Nicknames may
//! repeat: two tabs of one person, or two people called Li, are two members,
//! each counted and each announced. The server keeps no names beyond the
//! open sockets, so telling two "Li" apart is up to them (as in the tutorial
//! this scenario comes from).
//!
//! Does not: keep history (a newcomer sees only what is said after it
//! joins), have several rooms, authenticate anyone or reserve names, or
//! carry binary messages (a binary message is ignored: the room speaks
//! text). Lines are plain text, so a nickname or message that itself looks
//! like `x joined (online: 9)` cannot be told from an announcement. A socket
//! refused by a draining server (SPEC §1, `503`) was already announced when
//! the refusal comes, so its `joined` is followed at once by its `left`.

use std::collections::HashMap;
use std::rc::Rc;

use super::{Action, Context, End, Head, Message, Out, Reply, Scenario};
use crate::http::request::Request;
use crate::http::response::{Body, Response};
use crate::http::route::{query, Methods, Params};
use crate::key::ConnKey;
use crate::ws::{self, Accepted};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /websocket?nickname=`: a member's socket.
    Room,
}

/// SPEC §3.7: "blank nickname: `400` with body containing `昵称不能为空`"
/// ("the nickname must not be empty"); the English half is for curl users.
const BLANK: &str = "昵称不能为空 (nickname must not be blank: /websocket?nickname=NAME)\n";

/// Who is in the room: one entry per open socket, whatever its nickname.
#[derive(Default)]
pub struct Chat {
    members: HashMap<ConnKey, Rc<str>>,
}

impl Scenario for Chat {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![(Methods::GET, "/websocket", Route::Room)]
    }

    fn handle(
        &mut self,
        _route: Route,
        req: &Request<'_>,
        _params: &Params<'_>,
        upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        let Some(nickname) = nickname(req.query) else { return Reply::Respond(blank()) };
        // Only a real upgrade joins the room: a GET without one is refused
        // by the handshake rules, and must not have announced anybody.
        let Some(accept) = upgrade else { return Reply::Respond(ws::Refusal::NotUpgrade.response()) };
        let nickname: Rc<str> = nickname.into();
        self.members.insert(cx.key, nickname.clone());
        let count = self.members.len();
        log::info!("conn={} chat: {nickname:?} joined; online: {count}", cx.key);
        let line = text_frame(&format!("{nickname} joined (online: {count})"));
        // The newcomer's copy goes out right after its 101; a Send to it now
        // would find a connection that is not a WebSocket yet.
        self.send_to_all(&line, Some(cx.key), out);
        Reply::Upgrade { accept, first: line.to_vec() }
    }

    fn head(&self, _route: Route, req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>) -> Head {
        match nickname(req.query) {
            None => Head::Respond(blank()),
            Some(_) => Head::Upgrade,
        }
    }

    fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Out<'_>) {
        let Some(nickname) = self.members.get(&cx.key) else { return };
        match msg {
            Message::Text(text) => {
                let line = text_frame(&format!("{nickname}: {text}"));
                self.send_to_all(&line, None, out);
            }
            Message::Binary(bytes) => {
                log::debug!("conn={} chat: ignored a binary message of {} bytes", cx.key, bytes.len());
            }
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, out: &mut Out<'_>) {
        let Some(nickname) = self.members.remove(&cx.key) else { return };
        let count = self.members.len();
        log::info!("conn={} chat: {nickname:?} left ({why:?}); online: {count}", cx.key);
        if count > 0 {
            let line = text_frame(&format!("{nickname} left (online: {count})"));
            self.send_to_all(&line, None, out);
        }
    }
}

impl Chat {
    /// One frame, shared by every member (but `except`).
    fn send_to_all(&self, frame: &Rc<[u8]>, except: Option<ConnKey>, out: &mut Vec<Action>) {
        for &to in self.members.keys().filter(|&&k| Some(k) != except) {
            out.push(Action::Send { to, bytes: frame.clone() });
        }
    }
}

fn blank() -> Response {
    Response::new(400, "text/plain; charset=utf-8", Body::Static(BLANK.as_bytes()))
}

/// The `nickname` query parameter, decoded and trimmed; `None` when blank.
fn nickname(q: &str) -> Option<String> {
    let value = query(q, "nickname")?;
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn text_frame(text: &str) -> Rc<[u8]> {
    let mut frame = Vec::with_capacity(text.len() + ws::frame::MAX_HEADER);
    ws::encode(ws::OpCode::Text, text.as_bytes(), &mut frame);
    frame.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::http::request::Method;
    use crate::stats::Stats;

    const OWNER: Owner = Owner::Scenario(ScenarioId::Chat);
    use httparse::Header;

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: 1 }
    }

    const UPGRADE: &[Header<'static>] = &[Header { name: "Upgrade", value: b"websocket" }];

    fn req<'a>(method: Method, query: &'a str, headers: &'a [Header<'a>]) -> Request<'a> {
        Request {
            method,
            method_token: "GET",
            path: "/websocket",
            query,
            minor: 1,
            headers,
            body: Default::default(),
            keep_alive: true,
        }
    }

    fn cx(stats: &Stats, index: u32) -> Context<'_> {
        Context { key: key(index), now: 0, unix_ms: 0, stats }
    }

    /// Joins as connection `index`; the reply and the frames others got.
    fn join(chat: &mut Chat, q: &str, index: u32) -> (Reply, Vec<(u32, Vec<u8>)>) {
        let stats = Stats::default();
        let mut out = Vec::new();
        let r = req(Method::Get, q, UPGRADE);
        let upgrade = ws::is_upgrade(&r).then(crate::app::tests::accepted);
        let reply =
            chat.handle(Route::Room, &r, &Params::default(), upgrade, &cx(&stats, index), &mut Out::new(&mut out, OWNER));
        (reply, sent(out))
    }

    fn sent(out: Vec<Action>) -> Vec<(u32, Vec<u8>)> {
        let mut sent: Vec<(u32, Vec<u8>)> = out
            .into_iter()
            .map(|a| match a {
                Action::Send { to, bytes } => (to.index, bytes.to_vec()),
                other => panic!("{other:?}"),
            })
            .collect();
        sent.sort();
        sent
    }

    fn frame(text: &str) -> Vec<u8> {
        text_frame(text).to_vec()
    }

    #[test]
    fn joining_announces_to_everyone_with_the_count() {
        let mut chat = Chat::default();
        let (reply, others) = join(&mut chat, "nickname=Ann", 1);
        let Reply::Upgrade { first, .. } = reply else { panic!("{reply:?}") };
        assert_eq!(first, frame("Ann joined (online: 1)"));
        assert!(others.is_empty());
        let (reply, others) = join(&mut chat, "nickname=%E5%B0%8F%E6%98%8E", 2);
        let Reply::Upgrade { first, .. } = reply else { panic!("{reply:?}") };
        assert_eq!(first, frame("小明 joined (online: 2)"));
        assert_eq!(others, vec![(1, frame("小明 joined (online: 2)"))]);
        let (_, others) = join(&mut chat, "nickname=+Ann+Lee+", 3);
        let line = frame("Ann Lee joined (online: 3)");
        assert_eq!(others, vec![(1, line.clone()), (2, line)]);
    }

    #[test]
    fn messages_reach_everyone_and_leaving_tells_the_rest() {
        let stats = Stats::default();
        let mut chat = Chat::default();
        join(&mut chat, "nickname=a", 1);
        join(&mut chat, "nickname=a", 2);
        join(&mut chat, "nickname=b", 3);
        let mut out = Vec::new();
        chat.on_message(&cx(&stats, 2), Message::Text("hi\nthere"), &mut Out::new(&mut out, OWNER));
        let line = frame("a: hi\nthere");
        assert_eq!(sent(out), vec![(1, line.clone()), (2, line.clone()), (3, line)]);
        let mut out = Vec::new();
        chat.on_message(&cx(&stats, 3), Message::Binary(b"\x00"), &mut Out::new(&mut out, OWNER));
        assert!(out.is_empty());
        chat.on_end(&cx(&stats, 1), End::Gone, &mut Out::new(&mut out, OWNER));
        let line = frame("a left (online: 2)");
        assert_eq!(sent(out), vec![(2, line.clone()), (3, line)]);
        let mut out = Vec::new();
        chat.on_end(&cx(&stats, 1), End::Gone, &mut Out::new(&mut out, OWNER));
        assert!(out.is_empty(), "a second end of the same key says nothing");
        chat.on_end(&cx(&stats, 3), End::TooSlow, &mut Out::new(&mut out, OWNER));
        assert_eq!(sent(out), vec![(2, frame("b left (online: 1)"))]);
        let mut out = Vec::new();
        chat.on_end(&cx(&stats, 2), End::Shutdown, &mut Out::new(&mut out, OWNER));
        assert!(out.is_empty() && chat.members.is_empty());
    }

    #[test]
    fn blank_nicknames_are_refused_before_the_upgrade() {
        let mut chat = Chat::default();
        for q in ["", "nickname", "nickname=", "nickname=+", "nickname=%20%09", "name=x", "nick=x"] {
            let (reply, others) = join(&mut chat, q, 1);
            let Reply::Respond(r) = reply else { panic!("{q}: {reply:?}") };
            assert_eq!(r.status, 400, "{q}");
            assert!(std::str::from_utf8(r.body.as_bytes()).is_ok_and(|b| b.contains("昵称不能为空")));
            assert!(others.is_empty());
        }
        assert!(chat.members.is_empty());
    }

    #[test]
    fn no_upgrade_joins_nobody_and_head_is_told_of_a_socket() {
        let stats = Stats::default();
        let mut chat = Chat::default();
        join(&mut chat, "nickname=a", 1);
        let mut out = Vec::new();
        let r = req(Method::Get, "nickname=b", &[]);
        let reply = chat.handle(Route::Room, &r, &Params::default(), None, &cx(&stats, 2), &mut Out::new(&mut out, OWNER));
        assert!(matches!(reply, Reply::Respond(r) if r.status == 400));
        assert!(out.is_empty());
        let head = |q| chat.head(Route::Room, &req(Method::Head, q, UPGRADE), &Params::default(), &cx(&stats, 2));
        assert!(matches!(head("nickname=b"), Head::Upgrade));
        assert!(matches!(head("nickname="), Head::Respond(r) if r.status == 400));
        assert_eq!(chat.members.len(), 1);
    }
}
