//! SPEC §3.4, reconnection without loss: streams that time out every 15 s on
//! purpose, so the browser's EventSource reconnects often and resumes with
//! `Last-Event-ID`, and no broadcast is lost or seen twice (page:
//! `www/sse-reconnect.html`).
//!
//! Routes (texts exact, from SPEC):
//! - `GET /foo/sse`: an SSE stream, "timeout 15 s"; "each stream gets a
//!   random positive integer key". A `Last-Event-ID` header (or
//!   `?lastEventId=`) replays "every broadcast after that id ... in order,
//!   none twice". `?timeout=SECS` (fractional, > 0, at most 15) shortens the
//!   idle timeout, for tests and for the page's quick-reconnect mode.
//! - `GET /foo/sseSend`: broadcasts to every `/foo/sse` stream
//!   `data: 来自客户端【{key}】的信息:测试SSE{yyyy-MM-dd HH:mm:ss}` with
//!   `id: {seq}` (1, 2, 3, …); body `发送成功!`. `{key}` is the receiving
//!   stream's own key, so each stream's bytes are its own (encoded per
//!   stream, not shared as a hub publish is).
//! - `GET`/`POST /foo/closeWindow`: the page's unload beacon
//!   (`navigator.sendBeacon` POSTs); logged, `200`.
//! - HEAD answers as GET would and changes nothing (no stream, no broadcast).
//!
//! The time is the broadcast's, kept with its seq, so a replay shows when it
//! was sent, not when it was replayed. It is UTC: local time needs the time
//! zone database (a file to read and TZif to parse) or libc's `localtime_r`
//! (unsafe FFI), and this core reads no files and has no unsafe code.
//!
//! The last [`KEPT`] broadcasts are kept for replay. A `Last-Event-ID` older
//! than that gets `event: reset` with `data: {oldest seq kept}` first, as the
//! hub does (SPEC §2), then what is kept; an id that is not a number, or one
//! we never issued (a previous server run's), replays nothing.
//!
//! Not done here: the key does not survive a reconnect (each stream is a new
//! one, as SPEC says); history is not shared between `--workers`.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write;
use std::rc::Rc;
use std::time::Duration;

use super::{Action, Context, End, Head, Out, Reply, Rng, Scenario};
use crate::http::date;
use crate::http::request::Request;
use crate::http::response::{Body, Response};
use crate::http::route::{Methods, Params};
use crate::hub;
use crate::key::ConnKey;
use crate::sse;
use crate::ws::Accepted;

/// SPEC §3.4: "timeout 15 s (so browsers reconnect often)"; also the most
/// `?timeout=` may ask for.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Broadcasts kept for replay: the hub's default `--history` (1000), far
/// more than a browser can miss in one reconnect (15 s idle + its retry
/// delay) at any rate a person clicks "send"; 16 bytes each.
pub const KEPT: usize = 1000;
/// Stream keys are in `1..=KEY_MAX`: a positive 32-bit integer, as the
/// tutorial's Java `int` was, and exact in JavaScript.
const KEY_MAX: u64 = i32::MAX as u64;
const SENT: &[u8] = "发送成功!".as_bytes();

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /foo/sse`: a stream that times out every 15 s.
    Stream,
    /// `GET /foo/sseSend`: a broadcast.
    Send,
    /// `/foo/closeWindow`: the page's unload beacon.
    CloseWindow,
}

/// One broadcast as history keeps it: what every receiver's text is made of
/// besides its own key.
#[derive(Clone, Copy)]
struct Broadcast {
    seq: u64,
    unix_secs: u64,
}

#[derive(Default)]
pub struct Reconnect {
    /// Every open `/foo/sse` stream and its key.
    streams: HashMap<ConnKey, u64>,
    /// The last [`KEPT`] broadcasts, oldest first, seqs contiguous.
    history: VecDeque<Broadcast>,
    /// The seq of the last broadcast; 0 before the first.
    last_seq: u64,
    /// Seeded from the wall clock at the first stream, so keys differ
    /// between runs.
    rng: Option<Rng>,
}

impl Scenario for Reconnect {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![
            (Methods::GET, "/foo/sse", Route::Stream),
            (Methods::GET, "/foo/sseSend", Route::Send),
            (Methods::GET.or(Methods::POST), "/foo/closeWindow", Route::CloseWindow),
        ]
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
            Route::Stream => self.stream(req, cx),
            Route::Send => {
                self.broadcast(cx, out);
                Reply::Respond(sent())
            }
            Route::CloseWindow => {
                // Whatever the page says about itself, printable and short.
                let about: String = req.query.chars().take(200).collect();
                log::info!(
                    "conn={} page closed its window ({:?}); streams open: {}",
                    cx.key,
                    about,
                    self.streams.len()
                );
                Reply::Respond(ok())
            }
        }
    }

    /// As GET would answer, without broadcasting or logging a beacon (a link
    /// checker must not send messages).
    fn head(&self, route: Route, req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>) -> Head {
        match route {
            Route::Stream => match stream_timeout(req) {
                Ok(_) => Head::Stream,
                Err(refusal) => Head::Respond(refusal),
            },
            Route::Send => Head::Respond(sent()),
            Route::CloseWindow => Head::Respond(ok()),
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Out<'_>) {
        if let Some(key) = self.streams.remove(&cx.key) {
            log::debug!(
                "conn={} /foo/sse stream {key} ended ({why:?}); open: {}",
                cx.key,
                self.streams.len()
            );
        }
    }
}

impl Reconnect {
    fn stream(&mut self, req: &Request<'_>, cx: &Context<'_>) -> Reply {
        let idle = match stream_timeout(req) {
            Ok(d) => d,
            Err(refusal) => return Reply::Respond(refusal),
        };
        let rng = self.rng.get_or_insert_with(|| Rng::new(cx.unix_ms ^ cx.now.rotate_left(32)));
        let key = 1 + rng.below(KEY_MAX);
        // WHATWG HTML §9.2.4: a reconnecting EventSource sends the last id it
        // saw as `Last-Event-ID`. An id that is not ours is ignored, not
        // refused: a refusal would stop EventSource reconnecting for good.
        let last = super::last_event_id(req).as_deref().and_then(sse::parse_id);
        let mut first = Vec::new();
        if let Some(after) = last {
            self.replay(after, key, &mut first);
        }
        self.streams.insert(cx.key, key);
        log::debug!(
            "conn={} /foo/sse stream {key} (after id {last:?}); open: {}",
            cx.key,
            self.streams.len()
        );
        Reply::Stream { first, idle: Some(idle) }
    }

    /// Appends, for the stream `key`, every kept broadcast after `after`,
    /// with `event: reset` first when some were already dropped.
    fn replay(&self, after: u64, key: u64, out: &mut Vec<u8>) {
        // Up to date, or an id we never issued: nothing to replay.
        if after >= self.last_seq {
            return;
        }
        let oldest = self.history.front().map_or(self.last_seq + 1, |b| b.seq);
        if after + 1 < oldest {
            hub::encode_reset(oldest, out);
        }
        // Seqs are contiguous, so the start is found by subtraction.
        let skip = usize::try_from(after.saturating_sub(oldest - 1)).unwrap_or(usize::MAX);
        for b in self.history.iter().skip(skip) {
            encode(b, key, out);
        }
    }

    fn broadcast(&mut self, cx: &Context<'_>, out: &mut Out<'_>) {
        self.last_seq += 1;
        let b = Broadcast { seq: self.last_seq, unix_secs: cx.unix_ms / 1000 };
        if self.history.len() >= KEPT {
            self.history.pop_front();
        }
        self.history.push_back(b);
        for (&to, &key) in &self.streams {
            let mut bytes = Vec::with_capacity(96);
            encode(&b, key, &mut bytes);
            out.push(Action::Send { to, bytes: Rc::from(bytes) });
        }
        log::debug!("/foo/sseSend: broadcast {} to {} streams", b.seq, self.streams.len());
    }
}

/// `/foo/sse`'s idle timeout (`?timeout=`, at most SPEC's 15 s), or its `400`.
fn stream_timeout(req: &Request<'_>) -> Result<Duration, Response> {
    super::timeout_param(req.query, TIMEOUT, TIMEOUT).map_err(|why| Response::text(400, why))
}

fn sent() -> Response {
    Response::new(200, "text/plain; charset=utf-8", Body::Static(SENT))
}

fn ok() -> Response {
    Response::new(200, "text/plain; charset=utf-8", Body::Static(b"ok"))
}

/// `id: {seq}` and `data: 来自客户端【{key}】的信息:测试SSE{yyyy-MM-dd HH:mm:ss}`.
fn encode(b: &Broadcast, key: u64, out: &mut Vec<u8>) {
    let mut data = String::with_capacity(64);
    let _ = write!(data, "来自客户端【{key}】的信息:测试SSE");
    push_datetime(b.unix_secs, &mut data);
    let id = b.seq.to_string();
    sse::encode(&sse::Event { id: Some(&id), event: None, retry: None, data: &data }, out);
}

/// `yyyy-MM-dd HH:mm:ss` (UTC) for seconds since the Unix epoch.
fn push_datetime(unix_secs: u64, out: &mut String) {
    let (year, month, day) = date::civil_from_days(unix_secs / 86_400);
    let secs = unix_secs % 86_400;
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::http::request::Method;

    fn datetime(unix_secs: u64) -> String {
        let mut s = String::new();
        push_datetime(unix_secs, &mut s);
        s
    }

    #[test]
    fn datetime_known_values() {
        let cases: &[(u64, &str)] = &[
            (0, "1970-01-01 00:00:00"),
            (784_111_777, "1994-11-06 08:49:37"), // RFC 9110's example date
            (951_782_400, "2000-02-29 00:00:00"), // a 400-year leap day
            (1_709_251_199, "2024-02-29 23:59:59"),
            (4_107_542_400, "2100-03-01 00:00:00"), // 2100 is not leap
            (253_402_300_799, "9999-12-31 23:59:59"),
        ];
        for (secs, want) in cases {
            assert_eq!(datetime(*secs), *want, "{secs}");
        }
    }

    #[test]
    fn datetime_agrees_with_the_http_date_formatter() {
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        // Every ~day and a bit for 200 years, so each month and leap rule shows.
        let mut secs = 0;
        while secs < 6_400_000_000 {
            let mut imf = Vec::new();
            crate::http::date::format(secs, &mut imf);
            // "Sun, 06 Nov 1994 08:49:37 GMT"
            let imf = String::from_utf8(imf).unwrap();
            let month = MONTHS.iter().position(|m| *m == &imf[8..11]).unwrap() + 1;
            let want = format!("{}-{month:02}-{} {}", &imf[12..16], &imf[5..7], &imf[17..25]);
            assert_eq!(datetime(secs), want);
            secs += 90_061;
        }
    }

    fn with_history(count: u64) -> Reconnect {
        let mut r = Reconnect::default();
        for seq in 1..=count {
            if r.history.len() >= KEPT {
                r.history.pop_front();
            }
            r.history.push_back(Broadcast { seq, unix_secs: 0 });
            r.last_seq = seq;
        }
        r
    }

    fn replayed(r: &Reconnect, after: u64) -> Vec<String> {
        let mut out = Vec::new();
        r.replay(after, 7, &mut out);
        let text = String::from_utf8(out).unwrap();
        text.split_terminator("\n\n")
            .map(|block| block.lines().next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn replay_table() {
        let ids =
            |range: std::ops::RangeInclusive<u64>| range.map(|i| format!("id: {i}")).collect::<Vec<_>>();
        assert_eq!(replayed(&with_history(0), 0), Vec::<String>::new());
        assert_eq!(replayed(&with_history(5), 5), Vec::<String>::new());
        assert_eq!(replayed(&with_history(5), 99), Vec::<String>::new(), "an id never issued");
        assert_eq!(replayed(&with_history(5), 0), ids(1..=5));
        assert_eq!(replayed(&with_history(5), 3), ids(4..=5));
        let full = with_history(KEPT as u64 + 10);
        assert_eq!(replayed(&full, 10), ids(11..=KEPT as u64 + 10), "exactly what is kept: no reset");
        let mut want = vec!["event: reset".to_string()];
        want.extend(ids(11..=KEPT as u64 + 10));
        assert_eq!(replayed(&full, 9), want);
        assert_eq!(replayed(&full, 0), want);
    }

    fn req(method: Method, query: &str) -> Request<'_> {
        Request {
            method,
            method_token: "GET",
            path: "/foo/sse",
            query,
            minor: 1,
            headers: &[],
            body: Default::default(),
            keep_alive: true,
        }
    }

    /// Runs a request as connection `index` at `unix_ms` on the wall clock.
    fn run(
        r: &mut Reconnect,
        route: Route,
        method: Method,
        q: &str,
        index: u32,
        unix_ms: u64,
    ) -> (Reply, Vec<Action>) {
        let stats = crate::stats::Stats::default();
        let cx = Context { key: ConnKey { index, gen: 1 }, now: 0, unix_ms, stats: &stats };
        let mut out = Vec::new();
        let reply = r.handle(route, &req(method, q), &Params::default(), None, &cx, &mut Out::new(&mut out, Owner::Scenario(ScenarioId::Reconnect)));
        (reply, out)
    }

    #[test]
    fn streams_time_out_after_15_s_or_sooner_if_asked() {
        // SPEC §3.4: "timeout 15 s (so browsers reconnect often)". The
        // connection times the idle stream and each broadcast moves it
        // (conn::stream_tests); the app gives the time.
        let mut r = Reconnect::default();
        let idle = |reply: Reply| match reply {
            Reply::Stream { idle, .. } => idle,
            other => panic!("not a stream: {other:?}"),
        };
        assert_eq!(idle(run(&mut r, Route::Stream, Method::Get, "", 1, 0).0), Some(TIMEOUT));
        assert_eq!(
            idle(run(&mut r, Route::Stream, Method::Get, "timeout=0.5", 2, 0).0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            idle(run(&mut r, Route::Stream, Method::Get, "timeout=60", 3, 0).0),
            Some(TIMEOUT),
            "at most 15 s"
        );
        assert_eq!(r.streams.len(), 3);
        // (HEAD never reaches `handle`: the app answers it from `head`; see
        // app/tests.rs.)
        assert!(
            matches!(run(&mut r, Route::Stream, Method::Get, "timeout=0", 5, 0).0, Reply::Respond(resp) if resp.status == 400)
        );
    }

    #[test]
    fn a_replay_shows_each_broadcast_s_own_time() {
        // Broadcasts at 08:49:37 and 08:49:42 reach the live stream with
        // their time; a stream that resumes a minute later gets them again
        // with the same times, not the time of the replay.
        const AT: u64 = 784_111_777_000;
        let mut r = Reconnect::default();
        run(&mut r, Route::Stream, Method::Get, "", 1, AT - 1_000);
        let live = r.streams[&ConnKey { index: 1, gen: 1 }];
        let mut sent = Vec::new();
        for at in [AT, AT + 5_000] {
            let (_, out) = run(&mut r, Route::Send, Method::Get, "", 2, at);
            let [Action::Send { bytes, .. }] = &out[..] else { panic!("one send: {out:?}") };
            sent.push(String::from_utf8(bytes.to_vec()).unwrap());
        }
        let text = |seq: u64, key: u64, time: &str| {
            format!("id: {seq}\ndata: 来自客户端【{key}】的信息:测试SSE1994-11-06 {time}\n\n")
        };
        assert_eq!(sent, [text(1, live, "08:49:37"), text(2, live, "08:49:42")]);
        let (reply, _) = run(&mut r, Route::Stream, Method::Get, "lastEventId=0", 3, AT + 60_000);
        let Reply::Stream { first, .. } = reply else { panic!("{reply:?}") };
        let back = r.streams[&ConnKey { index: 3, gen: 1 }];
        assert_eq!(String::from_utf8(first).unwrap(), text(1, back, "08:49:37") + &text(2, back, "08:49:42"));
    }

    #[test]
    fn the_text_of_one_broadcast() {
        let mut out = Vec::new();
        encode(&Broadcast { seq: 3, unix_secs: 784_111_777 }, 42, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id: 3\ndata: 来自客户端【42】的信息:测试SSE1994-11-06 08:49:37\n\n"
        );
    }
}
