//! The hub's HTTP face (SPEC §2): subscribe to a topic as an event stream,
//! publish to it, or long-poll it.
//!
//! - `GET /topics/{name}` with `Accept: text/event-stream`: an SSE stream of
//!   the topic; `Last-Event-ID` (header, or `?lastEventId=`) replays what was
//!   missed, with `event: reset` first when the gap is older than history.
//! - `POST /topics/{name}[?event=NAME]`: publish the body; `202
//!   {"id":SEQ,"subscribers":N}`; `--publish-token` requires `Authorization:
//!   Bearer TOKEN`.
//! - `GET /poll/{name}?since=SEQ&timeout=S`: the events after SEQ as JSON,
//!   at once if there are any, else when the next arrives, else `[]` after S
//!   seconds (at most 30).
//!
//! - `GET /topics/{a},{b},…`: one stream for several topics; each event says
//!   its topic (`event: {topic}` unless named) and carries every position
//!   (`id: a:5,b:7`), so one `Last-Event-ID` resumes them all (hub/multi.rs).
//!
//! - `GET /topics/{name}` with `Upgrade: websocket`: a WebSocket subscriber;
//!   each message is one text frame (binary if published as binary), framed
//!   once and shared; what the client sends is published to the topic unless
//!   `--publish-token` is set. On `/topics/{a},{b}` each frame is JSON
//!   `{"topic":…,"id":…,"data":…}` (binary data base64), and what the client
//!   sends is ignored: it names no single topic.

use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use std::time::Duration;

use super::{head, last_event_id, Action, Context, Head, Reply, Settings};
use crate::http::request::{Method, Request};
use crate::http::response::Response;
use crate::http::route::query;
use crate::hub::{self, Cursor, Hub, Kind, Message, Next, TooManyTopics};
use crate::json;
use crate::key::ConnKey;
use crate::sse;
use crate::ws;

/// SPEC §2: a long-poll waits "up to S seconds (max 30)".
const MAX_POLL: Duration = Duration::from_secs(30);

/// A stream or socket resuming from history (hub/cursor.rs): fed as its
/// queue drains, and made a live subscriber once caught up.
struct Resuming {
    cursor: Cursor,
    /// A WebSocket (frames; a gap closes it with 1012) or an event stream
    /// (events; a gap is `event: reset`).
    ws: bool,
    /// Named several topics: multi-topic events and frames.
    multi: bool,
}

/// What the hub does not keep of its subscribers: every subscriber and
/// long-poll is a member of the hub's sets (O(1) in and out); here are only
/// the streams still replaying history and what each long-poll waits after.
#[derive(Default)]
pub struct Topics {
    /// Streams and sockets replaying history, not yet live.
    resuming: HashMap<ConnKey, Resuming>,
    /// Parked long-polls: the id each waits after.
    polls: HashMap<ConnKey, (Rc<str>, u64)>,
    /// Messages published since start.
    pub published: u64,
}

fn bad_topic() -> Response {
    Response::text(400, "a topic name is 1 to 64 of A-Z a-z 0-9 _ . -")
}

/// The topics `/topics/{name}` names: one, or a comma-separated list.
fn topic_names(name: &str) -> Result<Vec<&str>, Response> {
    if !name.contains(',') {
        return if hub::valid_topic(name) { Ok(vec![name]) } else { Err(bad_topic()) };
    }
    hub::parse_topic_list(name).ok_or_else(|| {
        Response::text(
            400,
            "a topic list is up to 16 distinct names of 1 to 64 of A-Z a-z 0-9 _ . -, comma-separated",
        )
    })
}

/// SPEC §5: "`503` with a JSON error naming the limit".
fn too_many_topics(e: TooManyTopics) -> Response {
    let body = format!(
        "{{\"error\":\"too many topics: --max-topics {} reached; a topic with no subscriber and no \
         history left is forgotten\",\"limit\":\"max_topics\",\"max\":{}}}",
        e.max, e.max
    );
    Response::json(503, body).header("Retry-After", "5")
}

impl Topics {
    pub fn topic(
        &mut self,
        req: &Request<'_>,
        name: &str,
        cx: &Context<'_>,
        hub: &mut Hub,
        settings: &Settings,
        out: &mut Vec<Action>,
    ) -> Reply {
        if req.method == Method::Post && name.contains(',') {
            return Reply::Respond(Response::text(400, "publish to one topic at a time"));
        }
        let names = match topic_names(name) {
            Ok(names) => names,
            Err(refusal) => return Reply::Respond(refusal),
        };
        match req.method {
            Method::Post => self.publish(req, name, hub, settings, out),
            _ if ws::is_upgrade(req) => self.socket(req, &names, cx, hub, settings, out),
            _ => self.subscribe_stream(req, &names, cx, hub, settings.max_queue, out),
        }
    }

    /// HEAD of `/topics/{name}`: what [`Topics::topic`] would answer a GET,
    /// without subscribing (see `head.rs`).
    pub fn head(&self, req: &Request<'_>, name: &str, hub: &Hub, settings: &Settings) -> Head {
        let names = match topic_names(name) {
            Ok(names) => names,
            Err(refusal) => return Head::Respond(refusal),
        };
        if ws::is_upgrade(req) {
            // As `socket` checks: the handshake, then the room.
            if let Some(refusal) = head::handshake_as_get(settings, req) {
                return Head::Respond(refusal);
            }
        } else if let Some(refusal) = refuse_subscription(req) {
            return Head::Respond(refusal);
        }
        match hub.room_for(&names) {
            Err(e) => Head::Respond(too_many_topics(e)),
            Ok(()) if ws::is_upgrade(req) => Head::Upgrade,
            Ok(()) => Head::Stream,
        }
    }

    /// A WebSocket subscriber of one or several topics. SPEC §2:
    /// "`?lastEventId=SEQ` replays what came after SEQ first (as for SSE);
    /// where that cannot be done without a gap, the socket is closed with
    /// 1012 before anything is sent". A multi-topic socket takes the
    /// positions an SSE stream's ids carry (`a:5,b:7`).
    fn socket(
        &mut self,
        req: &Request<'_>,
        names: &[&str],
        cx: &Context<'_>,
        hub: &mut Hub,
        settings: &Settings,
        out: &mut Vec<Action>,
    ) -> Reply {
        let accept = match settings.accept_websocket(req) {
            Ok(accept) => accept,
            Err(refusal) => return Reply::Respond(refusal),
        };
        if let Err(e) = hub.room_for(names) {
            return Reply::Respond(too_many_topics(e));
        }
        let from = query(req.query, "lastEventId").and_then(|v| resume_from(&v, names));
        self.resume(cx.key, names, from, true, hub, settings.max_queue, out);
        Reply::Upgrade { accept, first: Vec::new() }
    }

    /// A message from a WebSocket subscriber: SPEC §2, "Messages the client
    /// sends are published to the topic unless a publish token is
    /// configured" (a socket cannot present one).
    pub fn on_message(
        &mut self,
        cx: &Context<'_>,
        msg: super::Message<'_>,
        hub: &mut Hub,
        settings: &Settings,
        out: &mut Vec<Action>,
    ) {
        if settings.publish_token.is_some() {
            return;
        }
        // Only a single-topic socket: a multi-topic one names no topic. One
        // still replaying history is not in the hub's sets yet.
        let topic: Rc<str> = match (hub.subscription(cx.key), self.resuming.get(&cx.key)) {
            (Some((topic, Kind::Ws)), _) => Rc::clone(topic),
            (None, Some(r)) if r.ws && !r.multi => Rc::from(topic_at(&r.cursor, 0)),
            _ => return,
        };
        let (data, binary) = match msg {
            super::Message::Text(t) => (t.as_bytes(), false),
            super::Message::Binary(b) => (b, true),
        };
        // What is published stays in history: the same cap as a POST body
        // (SPEC §5, --max-body), or a socket could fill history past it.
        if data.len() > settings.max_body {
            out.push(Action::Close {
                to: cx.key,
                code: ws::close::TOO_BIG,
                reason: "message too big to publish",
            });
            return;
        }
        // The topic exists (this socket follows it, or history holds it for
        // its replay); were it made again past --max-topics, the socket is
        // told to come back.
        if self.deliver(&topic, None, data, binary, hub, out).is_err() {
            out.push(Action::Close {
                to: cx.key,
                code: ws::close::TRY_AGAIN_LATER,
                reason: "too many topics",
            });
        }
    }

    /// An event stream of one or several topics: from where its
    /// `Last-Event-ID` says (hub/multi.rs), or live.
    fn subscribe_stream(
        &mut self,
        req: &Request<'_>,
        names: &[&str],
        cx: &Context<'_>,
        hub: &mut Hub,
        max_queue: usize,
        out: &mut Vec<Action>,
    ) -> Reply {
        if let Some(refusal) = refuse_subscription(req) {
            return Reply::Respond(refusal);
        }
        if let Err(e) = hub.room_for(names) {
            return Reply::Respond(too_many_topics(e));
        }
        // An id that is not one of ours (garbage, or another server's form)
        // is ignored rather than refused: a refusal would make EventSource
        // stop reconnecting for good (WHATWG HTML §9.2.3).
        let from = last_event_id(req).and_then(|v| resume_from(&v, names));
        self.resume(cx.key, names, from, false, hub, max_queue, out);
        Reply::Stream { first: Vec::new(), idle: None }
    }

    /// Starts a subscriber at `from` (the client's last id in each topic;
    /// `None`: live from now): a cursor, fed at once as far as an empty
    /// queue takes, then as the socket drains ([`Action::Pull`]).
    #[allow(clippy::too_many_arguments)]
    fn resume(
        &mut self,
        key: ConnKey,
        names: &[&str],
        from: Option<Vec<u64>>,
        ws: bool,
        hub: &mut Hub,
        max_queue: usize,
        out: &mut Vec<Action>,
    ) {
        let after = from.unwrap_or_else(|| names.iter().map(|t| hub.last_id(t)).collect());
        let cursor = Cursor::new(names, &after);
        if ws && cursor.gap(hub) {
            // SPEC §2: "closed with 1012 before anything is sent", whichever
            // topic has the gap.
            out.push(Action::Close { to: key, code: ws::close::SERVICE_RESTART, reason: GAP });
            return;
        }
        self.resuming.insert(key, Resuming { cursor, ws, multi: names.len() > 1 });
        if self.feed(key, hub, max_queue, 0, out) {
            out.push(Action::Pull { to: key });
        }
    }

    /// Queues what a resuming subscriber lacks, as much as fits its queue
    /// (`queued` of `max_queue` used; any one piece when it is empty), and
    /// makes it live once it has everything and its queue is at most half
    /// full, so the first live events find room (a full queue would make a
    /// reader that keeps up a slow consumer). Whether it still has more to
    /// get, or is yet to go live.
    pub fn feed(
        &mut self,
        key: ConnKey,
        hub: &mut Hub,
        max_queue: usize,
        queued: usize,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(r) = self.resuming.get_mut(&key) else { return false };
        let room = max_queue.saturating_sub(queued);
        let empty = queued == 0;
        let mut used = 0;
        loop {
            let next = r.cursor.peek(hub);
            let action = match &next {
                Next::CaughtUp => break,
                Next::Reset { .. } if r.ws => {
                    // SPEC §2: a socket cannot be told of a gap in-band.
                    out.push(Action::Close { to: key, code: ws::close::SERVICE_RESTART, reason: GAP });
                    self.resuming.remove(&key);
                    return false;
                }
                Next::Reset { topic, oldest } => {
                    let mut bytes = Vec::with_capacity(32);
                    match r.multi {
                        true => hub::encode_reset_multi(topic_at(&r.cursor, *topic), *oldest, &mut bytes),
                        false => hub::encode_reset(*oldest, &mut bytes),
                    }
                    Action::Send { to: key, bytes: bytes.into() }
                }
                Next::Message { msg, .. } if !r.multi && !r.ws => {
                    Action::Send { to: key, bytes: msg.sse.clone() }
                }
                Next::Message { msg, .. } if !r.multi => {
                    Action::Send { to: key, bytes: socket_frame(msg, &msg.data()) }
                }
                Next::Message { msg, .. } if r.ws => Action::Send { to: key, bytes: multi_socket_frame(msg) },
                Next::Message { topic, msg } => {
                    let mut positions: Vec<u64> = r.cursor.positions().collect();
                    positions[*topic] = msg.id;
                    let mut head = Vec::with_capacity(64);
                    hub::encode_multi_head(msg, r.cursor.topics().zip(positions), &mut head);
                    Action::SendTail { to: key, head, shared: msg.sse.clone(), from: msg.after_id() }
                }
            };
            let len = match &action {
                Action::Send { bytes, .. } => bytes.len(),
                Action::SendTail { head, shared, from, .. } => head.len() + shared.len() - from,
                _ => 0,
            };
            // SPEC §5: never more than --max-queue queued at once; an empty
            // queue takes any one piece, as a live queue takes any event.
            if !(empty && used == 0) && used + len > room {
                return true;
            }
            used += len;
            out.push(action);
            r.cursor.advance(&next);
        }
        if queued + used > max_queue / 2 {
            return true;
        }
        // Caught up: live from here (nothing was published since `peek`).
        let Some(r) = self.resuming.remove(&key) else { return false };
        let names: Vec<&str> = r.cursor.topics().collect();
        let joined = match (r.ws, r.multi) {
            (false, false) => hub.subscribe(names[0], key, Kind::Sse).map(drop),
            (true, false) => hub.subscribe(names[0], key, Kind::Ws).map(drop),
            (ws, true) => {
                let kind = if ws { Kind::MultiWs } else { Kind::MultiSse };
                hub.subscribe_multi(&names, key, kind, r.cursor.positions().collect())
            }
        };
        if let Err(e) = joined {
            // The topics were there, or there was room, when the stream
            // started; a replay later, others took the room. It cannot go
            // live: a WebSocket is told to come back (1013), a stream ends
            // and its EventSource reconnects from where it is.
            log::info!("conn={key} cannot go live: --max-topics {} reached", e.max);
            out.push(Action::Close { to: key, code: ws::close::TRY_AGAIN_LATER, reason: "too many topics" });
        }
        false
    }

    fn publish(
        &mut self,
        req: &Request<'_>,
        name: &str,
        hub: &mut Hub,
        settings: &Settings,
        out: &mut Vec<Action>,
    ) -> Reply {
        if let Some(token) = &settings.publish_token {
            let given = req.header("authorization").and_then(|v| v.strip_prefix(b"Bearer "));
            if given != Some(token.as_bytes()) {
                return Reply::Respond(
                    Response::text(401, "publishing needs Authorization: Bearer <token>")
                        .header("WWW-Authenticate", "Bearer"),
                );
            }
        }
        let event = query(req.query, "event");
        if event.as_deref().is_some_and(|e| e.contains(['\r', '\n'])) {
            return Reply::Respond(Response::text(400, "an event name cannot contain CR or LF"));
        }
        let event = event.filter(|e| !e.is_empty());
        let binary = req.header("content-type").is_some_and(|v| {
            v.split(|&b| b == b';')
                .next()
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"application/octet-stream"))
        });
        if !binary && std::str::from_utf8(&req.body).is_err() {
            return Reply::Respond(Response::text(
                400,
                "a text message must be UTF-8 (send Content-Type: application/octet-stream for binary)",
            ));
        }
        match self.deliver(name, event.as_deref(), &req.body, binary, hub, out) {
            Ok((id, reached)) => {
                Reply::Respond(Response::json(202, format!("{{\"id\":{id},\"subscribers\":{reached}}}")))
            }
            Err(e) => Reply::Respond(too_many_topics(e)),
        }
    }

    /// Publishes and hands the message to every kind of subscriber, each
    /// kind's bytes made once: `(id, subscribers reached)`.
    fn deliver(
        &mut self,
        name: &str,
        event: Option<&str>,
        data: &[u8],
        binary: bool,
        hub: &mut Hub,
        out: &mut Vec<Action>,
    ) -> Result<(u64, usize), TooManyTopics> {
        let d = hub.publish(name, event, data, binary)?;
        self.published += 1;
        let msg = &d.msg;
        out.extend(d.sse.iter().map(|&to| Action::Send { to, bytes: msg.sse.clone() }));
        if !d.ws.is_empty() {
            // From the bytes in hand: no base64 decode for a binary message.
            let frame = socket_frame(msg, data);
            out.extend(d.ws.iter().map(|&to| Action::Send { to, bytes: frame.clone() }));
        }
        if !d.multi_ws.is_empty() {
            let frame = multi_socket_frame(msg);
            out.extend(d.multi_ws.iter().map(|&to| Action::Send { to, bytes: frame.clone() }));
        }
        let from = msg.after_id();
        let reached = d.reached();
        let (id, multi_sse, polls) = (msg.id, d.multi_sse, d.polls);
        let shared = Rc::clone(&msg.sse);
        out.extend(multi_sse.into_iter().map(|(to, head)| Action::SendTail {
            to,
            head,
            shared: Rc::clone(&shared),
            from,
        }));
        for key in polls {
            if let Some((topic, since)) = self.polls.remove(&key) {
                out.push(Action::Respond { to: key, response: poll_answer(hub, &topic, since) });
            }
        }
        Ok((id, reached))
    }

    pub fn poll(&mut self, req: &Request<'_>, name: &str, cx: &Context<'_>, hub: &mut Hub) -> Reply {
        let (since, timeout) = match poll_params(req, name) {
            Ok(p) => p,
            Err(refusal) => return Reply::Respond(refusal),
        };
        if (hub.exists(name) && hub.last_id(name) > since) || timeout.is_zero() {
            return Reply::Respond(poll_answer(hub, name, since));
        }
        if let Err(e) = hub.subscribe(name, cx.key, Kind::Poll) {
            return Reply::Respond(too_many_topics(e));
        }
        self.polls.insert(cx.key, (name.into(), since));
        Reply::Park { timeout }
    }

    /// HEAD of `/poll/{name}`: what a GET with `timeout=0` answers (a HEAD
    /// is not held open), without waiting.
    pub fn poll_head(&self, req: &Request<'_>, name: &str, hub: &Hub) -> Response {
        match poll_params(req, name) {
            Ok((since, _)) => poll_answer(hub, name, since),
            Err(refusal) => refusal,
        }
    }

    /// A parked long-poll's time is up: `200 []` (SPEC §2).
    pub fn on_timeout(&mut self, cx: &Context<'_>, hub: &mut Hub, out: &mut Vec<Action>) {
        if self.polls.remove(&cx.key).is_some() {
            hub.unsubscribe(cx.key);
            out.push(Action::Respond { to: cx.key, response: Response::json(200, "[]".into()) });
        }
    }

    /// A stream, socket or long-poll is over. O(1) (O(topics) for a
    /// multi-topic one).
    pub fn forget(&mut self, key: ConnKey, hub: &mut Hub) {
        hub.unsubscribe(key);
        self.resuming.remove(&key);
        self.polls.remove(&key);
    }
}

/// The close reason of a socket whose `lastEventId` is past a gap.
const GAP: &str = "history no longer has what came after lastEventId";

/// The client's last id in each of `names` from its `Last-Event-ID` or
/// `?lastEventId=`: digits for one topic, `a:5,b:7` for several
/// ([`hub::parse_positions`]). `None` when it is not one of ours.
fn resume_from(id: &str, names: &[&str]) -> Option<Vec<u64>> {
    match names {
        [_] => sse::parse_id(id).map(|n| vec![n]).or_else(|| hub::parse_positions(id, names)),
        _ => hub::parse_positions(id, names),
    }
}

fn topic_at(cursor: &Cursor, i: usize) -> &str {
    cursor.topics().nth(i).unwrap_or_default()
}

/// A message as one frame for a single-topic socket: text, or binary if it
/// was published as binary (SPEC §2). `data`: its body.
fn socket_frame(msg: &Message, data: &[u8]) -> Rc<[u8]> {
    let opcode = if msg.binary { ws::OpCode::Binary } else { ws::OpCode::Text };
    let mut frame = Vec::with_capacity(data.len() + ws::frame::MAX_HEADER);
    ws::encode(opcode, data, &mut frame);
    frame.into()
}

/// A message as a multi-topic socket gets it: a text frame of JSON
/// `{"topic":…,"id":…,"data":…}` (binary data in base64, as on SSE).
fn multi_socket_frame(msg: &Message) -> Rc<[u8]> {
    let text = msg.text();
    let mut json = String::with_capacity(text.len() + 64);
    json.push_str("{\"topic\":");
    json::push_str(&mut json, &msg.topic);
    let _ = write!(json, ",\"id\":{},\"data\":", msg.id);
    json::push_str(&mut json, &text);
    json.push('}');
    let mut frame = Vec::with_capacity(json.len() + ws::frame::MAX_HEADER);
    ws::encode(ws::OpCode::Text, json.as_bytes(), &mut frame);
    frame.into()
}

/// A long-poll's `since` and `timeout` (SPEC §2: "max 30"), or its refusal.
fn poll_params(req: &Request<'_>, name: &str) -> Result<(u64, Duration), Response> {
    if !hub::valid_topic(name) {
        return Err(bad_topic());
    }
    let since = match query(req.query, "since").filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => {
            sse::parse_id(&v).ok_or_else(|| Response::text(400, "since must be an event id (digits)"))?
        }
    };
    let timeout = match query(req.query, "timeout").filter(|v| !v.is_empty()) {
        None => MAX_POLL,
        Some(v) => match v.parse::<f64>() {
            // Clamp before converting: from_secs_f64 panics past u64 seconds.
            Ok(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s.min(MAX_POLL.as_secs_f64())),
            _ => return Err(Response::text(400, "timeout must be a number of seconds")),
        },
    };
    Ok((since, timeout))
}

/// Why a request on a topic cannot become an event stream, if it cannot.
fn refuse_subscription(req: &Request<'_>) -> Option<Response> {
    let wants_stream = req
        .header("accept")
        .is_some_and(|v| v.windows(17).any(|w| w.eq_ignore_ascii_case(b"text/event-stream")));
    (!wants_stream).then(|| {
        Response::text(
            406,
            "subscribe with Accept: text/event-stream (EventSource does) or Upgrade: websocket; POST publishes",
        )
    })
}

/// `[{"id":SEQ,"event":NAME or null,"data":"…"}]` for the messages after
/// `since` still in history; binary data is base64, as on SSE.
fn poll_answer(hub: &Hub, topic: &str, since: u64) -> Response {
    let mut body = String::from("[");
    for (i, msg) in hub.replay(topic, since).messages.enumerate() {
        if i > 0 {
            body.push(',');
        }
        let _ = write!(body, "{{\"id\":{},\"event\":", msg.id);
        match &msg.event {
            Some(e) => json::push_str(&mut body, e),
            None => body.push_str("null"),
        }
        body.push_str(",\"data\":");
        json::push_str(&mut body, &msg.text());
        body.push('}');
    }
    body.push(']');
    Response::json(200, body).header("Cache-Control", "no-store")
}

#[cfg(test)]
#[path = "topics_tests.rs"]
mod tests;
