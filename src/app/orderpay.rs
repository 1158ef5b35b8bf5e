//! SPEC §3.1, payment result push (page: `www/ssetest.html`): a checkout page
//! waits on an event stream; the payment system confirms on another
//! connection, and the result is pushed to the waiting page.
//!
//! - `GET /orderpay?payid={int}`: "SSE stream registered under payid. Sends
//!   at once `retry: 1000` and `data: Connection succeeded`." Wire bytes:
//!   `retry: 1000\ndata: Connection succeeded\n\n`, one block, as Spring's
//!   `SseEmitter.event().reconnectTime(1000).data(…)` writes it: a block of
//!   its own would be an empty first event to httpx-sse (SPEC §4). "A
//!   second stream for the same payid replaces the first (the first is
//!   closed)": the first gets `event: replaced` (see [`REPLACED_EVENT`]), then
//!   ends. "When no data has been sent for the timeout (default 60 s) the
//!   server sends `data: timeout!!` and closes."
//!   `&timeout=SECS` (fractional, > 0, capped at 3600) shortens or lengthens
//!   that timeout for tests and demos, e.g. `/orderpay?payid=7&timeout=0.5`.
//! - `GET /payback?payid={int}`: "Pushes `data: User payment succeeded`, then
//!   `event: finish` `id: 6666` `data: ha-ha`, then ends the stream.
//!   `200 {"payid":N,"delivered":true}`; no open stream: `404` JSON error;
//!   payid not an integer: `400`" (JSON too, like the route's other answers).
//!
//! payid is any `i64`, negatives included: SPEC says `{int}` and refuses
//! only what is "not an integer", and a payid is a name, not a quantity, so
//! no sign rule of ours belongs here. Missing, blank, fractional or out of
//! range: `400`. `/orderpay` answers `400` in plain text (an `EventSource`
//! never shows a body; curl users read it).
//!
//! Does not: keep results for a page that connects after `/payback` (no
//! stream, `404`: the payment system retries), authenticate the payment
//! system, or share payids between workers.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use super::{Action, Context, End, Head, Out, Reply, Scenario};
use crate::http::request::Request;
use crate::http::response::Response;
use crate::http::route::{query, Methods, Params};
use crate::key::ConnKey;
use crate::sse;
use crate::ws::Accepted;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /orderpay?payid=`: the page's stream.
    OrderPay,
    /// `GET /payback?payid=`: the payment system's confirmation.
    PayBack,
}

/// SPEC §3.1: "Sends at once `retry: 1000`": the browser waits 1 s before
/// reconnecting a dropped stream.
const RETRY_MS: u64 = 1000;
/// SPEC §3.1: "the timeout (default 60 s)".
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Cap on `&timeout=`: an hour is already longer than any checkout page
/// stays open, and the cap keeps `Duration` arithmetic far from overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

const CONNECTED: &str = "Connection succeeded";
const TIMED_OUT: &str = "timeout!!";
const SUCCEEDED: &str = "User payment succeeded";
/// SPEC §3.1, written by hand: `sse::encode` puts `id:` before `event:`, and
/// SPEC lists `event: finish` `id: 6666` `data: ha-ha` in that order. Order
/// within a block makes no difference to an `EventSource` (WHATWG HTML
/// §9.2.6 only buffers fields until the blank line), so these bytes are the
/// SPEC's order and mean the same as the encoder's.
const FINISH_EVENT: &[u8] = b"event: finish\nid: 6666\ndata: ha-ha\n\n";
/// Last words to a stream that a newer one for its payid replaced. Without
/// them its page could not tell this close from a network failure, its
/// `EventSource` would reconnect after `retry`, replace the newer stream, and
/// two tabs would take the payid from each other every second. `ssetest.html`
/// closes its `EventSource` on this event. Not a SPEC text.
const REPLACED_EVENT: &[u8] = b"event: replaced\ndata: another stream took over this payid\n\n";

/// The open payment streams, by payid and by connection. Both maps always
/// hold the same pairs: an entry leaves both at once.
#[derive(Default)]
pub struct OrderPay {
    streams: HashMap<i64, ConnKey>,
    payids: HashMap<ConnKey, i64>,
}

impl Scenario for OrderPay {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![(Methods::GET, "/orderpay", Route::OrderPay), (Methods::GET, "/payback", Route::PayBack)]
    }

    fn handle(
        &mut self,
        route: Route,
        req: &Request<'_>,
        _params: &Params<'_>,
        _upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        match route {
            Route::OrderPay => self.orderpay(req, cx, out),
            Route::PayBack => Reply::Respond(self.payback(req, out)),
        }
    }

    fn head(&self, route: Route, req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>) -> Head {
        match route {
            Route::OrderPay => match stream_params(req) {
                Ok(_) => Head::Stream,
                Err(refusal) => Head::Respond(refusal),
            },
            Route::PayBack => Head::Respond(self.payback_answer(req).0),
        }
    }

    fn on_timeout(&mut self, cx: &Context<'_>, out: &mut Out<'_>) {
        if self.payids.contains_key(&cx.key) {
            out.push(Action::Send { to: cx.key, bytes: event(TIMED_OUT).into() });
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, _why: End, _out: &mut Out<'_>) {
        self.forget(cx.key);
    }
}

impl OrderPay {
    fn orderpay(&mut self, req: &Request<'_>, cx: &Context<'_>, out: &mut Out<'_>) -> Reply {
        let (payid, idle) = match stream_params(req) {
            Ok(p) => p,
            Err(refusal) => return Reply::Respond(refusal),
        };
        if let Some(old) = self.streams.insert(payid, cx.key) {
            // The old key leaves the registry now, so its on_end (which
            // comes while the End below is carried out) finds nothing and
            // cannot remove the new registration.
            self.payids.remove(&old);
            out.push(Action::Send { to: old, bytes: Rc::from(REPLACED_EVENT) });
            out.push(Action::End { to: old });
            log::debug!("payid={payid} conn={old} replaced by conn={}", cx.key);
        }
        self.payids.insert(cx.key, payid);
        let mut first = Vec::with_capacity(48);
        sse::encode(&sse::Event { retry: Some(RETRY_MS), data: CONNECTED, ..Default::default() }, &mut first);
        Reply::Stream { first, idle: Some(idle) }
    }

    fn payback(&mut self, req: &Request<'_>, out: &mut Out<'_>) -> Response {
        let (response, found) = self.payback_answer(req);
        if let Some((payid, key)) = found {
            self.streams.remove(&payid);
            self.payids.remove(&key);
            out.push(Action::Send { to: key, bytes: event(SUCCEEDED).into() });
            out.push(Action::Send { to: key, bytes: Rc::from(FINISH_EVENT) });
            out.push(Action::End { to: key });
        }
        response
    }

    /// What `/payback` answers, and the stream it would finish, if any.
    fn payback_answer(&self, req: &Request<'_>) -> (Response, Option<(i64, ConnKey)>) {
        let payid = match payid(req) {
            Ok(id) => id,
            Err(why) => {
                let mut body = String::from(r#"{"payid":null,"delivered":false,"error":"#);
                crate::json::push_str(&mut body, why);
                body.push('}');
                return (Response::json(400, body), None);
            }
        };
        match self.streams.get(&payid) {
            None => (
                Response::json(
                    404,
                    format!(r#"{{"payid":{payid},"delivered":false,"error":"no open stream for this payid"}}"#),
                ),
                None,
            ),
            Some(&key) => {
                (Response::json(200, format!(r#"{{"payid":{payid},"delivered":true}}"#)), Some((payid, key)))
            }
        }
    }

    /// Forgets a stream that ended, if it is still the one registered for
    /// its payid (a replaced or paid stream was forgotten already).
    fn forget(&mut self, key: ConnKey) {
        if let Some(payid) = self.payids.remove(&key) {
            if self.streams.get(&payid) == Some(&key) {
                self.streams.remove(&payid);
            }
        }
    }
}

/// `/orderpay`'s payid and idle timeout, or its `400` (plain text).
fn stream_params(req: &Request<'_>) -> Result<(i64, Duration), Response> {
    let payid = payid(req).map_err(|why| Response::text(400, why))?;
    let idle = super::timeout_param(req.query, DEFAULT_TIMEOUT, MAX_TIMEOUT).map_err(|why| Response::text(400, why))?;
    Ok((payid, idle))
}

fn event(data: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    sse::encode(&sse::Event { data, ..Default::default() }, &mut out);
    out
}

/// The `payid` query parameter as an integer.
fn payid(req: &Request<'_>) -> Result<i64, &'static str> {
    match query(req.query, "payid") {
        None => Err("payid is required, e.g. ?payid=123"),
        Some(v) if v.trim().is_empty() => Err("payid is required, e.g. ?payid=123"),
        Some(v) => v.parse::<i64>().map_err(|_| "payid must be an integer (64-bit signed), e.g. ?payid=123"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Stats;

    use crate::app::Owner;
    use crate::http::request::Method;

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

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: 1 }
    }

    /// Runs a request as connection `index`; the reply and the actions.
    fn run(app: &mut OrderPay, route: Route, method: Method, q: &str, index: u32) -> (Reply, Vec<Action>) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        let mut out = Vec::new();
        let reply = app.handle(route, &req(method, q), &Params::default(), None, &cx, &mut owned(&mut out));
        (reply, out)
    }

    fn owned(out: &mut Vec<Action>) -> Out<'_> {
        Out::new(out, Owner::Scenario(crate::app::ScenarioId::OrderPay))
    }

    fn head(app: &OrderPay, route: Route, q: &str) -> Head {
        let stats = Stats::default();
        let cx = Context { key: key(9), now: 0, unix_ms: 0, stats: &stats };
        app.head(route, &req(Method::Head, q), &Params::default(), &cx)
    }

    fn end(app: &mut OrderPay, index: u32) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 0, stats: &stats };
        app.on_end(&cx, End::Gone, &mut owned(&mut Vec::new()));
    }

    fn status(reply: &Reply) -> u16 {
        match reply {
            Reply::Respond(r) => r.status,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn the_stream_opens_with_spec_bytes() {
        let mut app = OrderPay::default();
        let (reply, out) = run(&mut app, Route::OrderPay, Method::Get, "payid=-7", 1);
        let Reply::Stream { first, idle } = reply else { panic!("{reply:?}") };
        assert_eq!(first, b"retry: 1000\ndata: Connection succeeded\n\n");
        assert_eq!(idle, Some(DEFAULT_TIMEOUT));
        assert!(out.is_empty());
        assert_eq!(app.streams.get(&-7), Some(&key(1)));
    }

    #[test]
    fn a_replaced_streams_end_keeps_the_new_registration() {
        let mut app = OrderPay::default();
        run(&mut app, Route::OrderPay, Method::Get, "payid=5", 1);
        let (_, out) = run(&mut app, Route::OrderPay, Method::Get, "payid=5", 2);
        assert!(
            matches!(out.as_slice(), [Action::Send { to, .. }, Action::End { to: e }] if *to == key(1) && *e == key(1))
        );
        end(&mut app, 1);
        assert_eq!(app.streams.get(&5), Some(&key(2)));
        end(&mut app, 2);
        assert!(app.streams.is_empty() && app.payids.is_empty());
    }

    #[test]
    fn payback_sends_both_events_then_ends() {
        let mut app = OrderPay::default();
        run(&mut app, Route::OrderPay, Method::Get, "payid=9", 1);
        let (reply, out) = run(&mut app, Route::PayBack, Method::Get, "payid=9", 2);
        assert_eq!(status(&reply), 200);
        let sent: Vec<&[u8]> = out
            .iter()
            .filter_map(|a| match a {
                Action::Send { to, bytes } if *to == key(1) => Some(&bytes[..]),
                _ => None,
            })
            .collect();
        assert_eq!(sent, [&b"data: User payment succeeded\n\n"[..], FINISH_EVENT]);
        assert!(matches!(out.last(), Some(Action::End { to }) if *to == key(1)));
        assert!(app.streams.is_empty() && app.payids.is_empty());
        assert_eq!(status(&run(&mut app, Route::PayBack, Method::Get, "payid=9", 2).0), 404);
    }

    #[test]
    fn finish_block_means_what_the_encoder_would_send() {
        let mut encoded = Vec::new();
        sse::encode(
            &sse::Event { id: Some("6666"), event: Some("finish"), retry: None, data: "ha-ha" },
            &mut encoded,
        );
        let mut a: Vec<&[u8]> = encoded.split(|&b| b == b'\n').collect();
        let mut b: Vec<&[u8]> = FINISH_EVENT.split(|&b| b == b'\n').collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "the same lines, in another order");
    }

    #[test]
    fn head_answers_as_get_would() {
        let mut app = OrderPay::default();
        run(&mut app, Route::OrderPay, Method::Get, "payid=3", 1);
        assert!(matches!(head(&app, Route::OrderPay, "payid=3"), Head::Stream));
        assert!(matches!(head(&app, Route::OrderPay, "payid=x"), Head::Respond(r) if r.status == 400));
        assert!(matches!(head(&app, Route::PayBack, "payid=3"), Head::Respond(r) if r.status == 200));
        assert!(matches!(head(&app, Route::PayBack, "payid=4"), Head::Respond(r) if r.status == 404));
        assert!(matches!(head(&app, Route::PayBack, "payid="), Head::Respond(r) if r.status == 400));
        assert_eq!(app.streams.get(&3), Some(&key(1)));
    }

    #[test]
    fn bad_input_is_400() {
        let mut app = OrderPay::default();
        for q in ["", "payid=", "payid=abc", "payid=1.5", "payid=9223372036854775808", "payid=1&timeout=0"] {
            assert_eq!(status(&run(&mut app, Route::OrderPay, Method::Get, q, 1).0), 400, "{q}");
        }
        for q in ["payid=1&timeout=-1", "payid=1&timeout=x", "payid=1&timeout=inf", "payid=1&timeout=NaN"] {
            assert_eq!(status(&run(&mut app, Route::OrderPay, Method::Get, q, 1).0), 400, "{q}");
        }
        assert_eq!(status(&run(&mut app, Route::PayBack, Method::Get, "payid=x", 1).0), 400);
        assert!(app.streams.is_empty());
    }

    #[test]
    fn a_stream_that_times_out_is_told_so_then_forgotten() {
        // The connection times the idle stream (conn::stream_tests); the app
        // says what a timeout means: `data: timeout!!`, then the stream ends.
        let mut app = OrderPay::default();
        let (reply, _) = run(&mut app, Route::OrderPay, Method::Get, "payid=4&timeout=0.5", 1);
        assert!(matches!(reply, Reply::Stream { idle: Some(d), .. } if d == Duration::from_millis(500)));
        let stats = Stats::default();
        let mut out = Vec::new();
        let theirs = Context { key: key(9), now: 500, unix_ms: 0, stats: &stats };
        app.on_timeout(&theirs, &mut owned(&mut out));
        assert!(out.is_empty(), "a key it does not hold gets nothing: {out:?}");
        let ours = Context { key: key(1), now: 500, unix_ms: 0, stats: &stats };
        app.on_timeout(&ours, &mut owned(&mut out));
        let sent: Vec<&[u8]> = out
            .iter()
            .map(|a| match a {
                Action::Send { to, bytes } if *to == key(1) => &bytes[..],
                other => panic!("only the line to the stream: {other:?}"),
            })
            .collect();
        assert_eq!(sent, [&b"data: timeout!!\n\n"[..]]);
        app.on_end(&ours, End::Timeout, &mut owned(&mut Vec::new()));
        assert!(app.streams.is_empty() && app.payids.is_empty());
        assert_eq!(status(&run(&mut app, Route::PayBack, Method::Get, "payid=4", 2).0), 404);
    }

    #[test]
    fn timeout_parameter() {
        let cases: &[(&str, Duration)] = &[
            ("", DEFAULT_TIMEOUT),
            ("timeout=", DEFAULT_TIMEOUT),
            ("timeout=0.5", Duration::from_millis(500)),
            ("timeout=90", Duration::from_secs(90)),
            ("timeout=1e9", Duration::from_secs(3600)),
        ];
        for (q, want) in cases {
            assert_eq!(crate::app::timeout_param(q, DEFAULT_TIMEOUT, MAX_TIMEOUT), Ok(*want), "{q}");
        }
    }
}
