//! SPEC §3.2, first SSE steps (pages: `www/sse-demo1.html`,
//! `www/sse-demo2.html`): the smallest streams there are.
//!
//! - `GET /server/info`: "SSE; sends `data: [aaa, bbb, ccc]`, then stays open
//!   (no timeout; heartbeats keep it alive)". Nothing is kept per stream.
//! - `GET /server/data`: "a live price: 1 s after connecting, and every second
//!   after that, `data: 白菜价格行情:{p}元` with `p` a random price
//!   0.00–10.00 with two decimals" (a whole number of fen, 0 to 1000 both
//!   included, so `10.00` can come up). One timer per stream, armed at its
//!   connect time + 1 s and then + 1 s from the previous deadline (not from
//!   when it fired), so each stream keeps its own cadence without drift. A
//!   shared ticker would be one timer for all, but "1 s after connecting"
//!   would then hold only to within a second.
//!
//! Timer ids are serial numbers, not connection keys: a timer whose serial is
//! no longer registered belongs to a stream that ended and is dropped (the
//! wheel has no cancellation).
//!
//! Does not: share one price between streams (each gets its own draw), or
//! keep prices for a page that reconnects.

use std::collections::HashMap;
use std::rc::Rc;

use super::{Action, Context, End, Head, Out, Reply, Rng, Scenario};
use crate::http::request::Request;
use crate::http::route::{Methods, Params};
use crate::key::ConnKey;
use crate::sse;
use crate::ws::Accepted;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /server/info`: one line, then open.
    Info,
    /// `GET /server/data`: a price every second.
    Data,
}

/// SPEC §3.2: "1 s after connecting, and every second after that".
const EVERY_MS: u64 = 1000;

/// A `/server/data` stream's ticker.
struct Ticker {
    to: ConnKey,
    /// The deadline of its pending timer (ms, loop clock).
    at: u64,
}

#[derive(Default)]
pub struct FirstSteps {
    /// Seeded from the clock at the first price stream.
    rng: Option<Rng>,
    /// The last serial handed out.
    serial: u64,
    tickers: HashMap<u64, Ticker>,
    serials: HashMap<ConnKey, u64>,
}

impl Scenario for FirstSteps {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![(Methods::GET, "/server/info", Route::Info), (Methods::GET, "/server/data", Route::Data)]
    }

    fn handle(
        &mut self,
        route: Route,
        _req: &Request<'_>,
        _params: &Params<'_>,
        _upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        match route {
            Route::Info => {
                let mut first = Vec::with_capacity(24);
                sse::encode(
                    &sse::Event { id: None, event: None, retry: None, data: "[aaa, bbb, ccc]" },
                    &mut first,
                );
                Reply::Stream { first, idle: None }
            }
            Route::Data => {
                self.start_ticker(cx, out);
                Reply::Stream { first: Vec::new(), idle: None }
            }
        }
    }

    fn head(&self, _route: Route, _req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>) -> Head {
        // Both streams take no parameter: a GET always starts one.
        Head::Stream
    }

    fn on_timer(&mut self, token: u64, cx: &Context<'_>, out: &mut Out<'_>) {
        // A stream that ended took its ticker with it: the timer is stale.
        let Some(ticker) = self.tickers.get_mut(&token) else { return };
        let rng = self.rng.get_or_insert_with(|| Rng::new(cx.unix_ms));
        out.push(Action::Send { to: ticker.to, bytes: price_event(rng) });
        ticker.at += EVERY_MS;
        // After a stall (a suspended machine), skip the missed ticks rather
        // than send them in a burst.
        if ticker.at <= cx.now {
            ticker.at = cx.now + EVERY_MS;
        }
        out.timer(ticker.at, token);
    }

    fn on_end(&mut self, cx: &Context<'_>, _why: End, _out: &mut Out<'_>) {
        if let Some(serial) = self.serials.remove(&cx.key) {
            self.tickers.remove(&serial);
        }
    }
}

impl FirstSteps {
    fn start_ticker(&mut self, cx: &Context<'_>, out: &mut Out<'_>) {
        // Seeding from both clocks: two servers started in the same
        // millisecond still differ once their loops have run a while.
        self.rng.get_or_insert_with(|| Rng::new(cx.unix_ms ^ cx.now.rotate_left(32)));
        // 2^64 streams would wrap; skip 0 and any serial still in use.
        loop {
            self.serial = self.serial.wrapping_add(1);
            if self.serial != 0 && !self.tickers.contains_key(&self.serial) {
                break;
            }
        }
        let at = cx.now + EVERY_MS;
        self.tickers.insert(self.serial, Ticker { to: cx.key, at });
        self.serials.insert(cx.key, self.serial);
        out.timer(at, self.serial);
    }
}

/// `data: 白菜价格行情:{p}元`, p from 0.00 to 10.00.
fn price_event(rng: &mut Rng) -> Rc<[u8]> {
    let fen = rng.below(1001);
    let data = format!("白菜价格行情:{}.{:02}元", fen / 100, fen % 100);
    let mut out = Vec::with_capacity(data.len() + 8);
    sse::encode(&sse::Event { id: None, event: None, retry: None, data: &data }, &mut out);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::http::request::Method;
    use crate::stats::Stats;

    const OWNER: Owner = Owner::Scenario(ScenarioId::FirstSteps);

    fn cx(stats: &Stats, index: u32, now: u64) -> Context<'_> {
        Context { key: ConnKey { index, gen: 1 }, now, unix_ms: 1_700_000_000_000, stats }
    }

    fn req(method: Method) -> Request<'static> {
        Request {
            method,
            method_token: "GET",
            path: "/server/data",
            query: "",
            minor: 1,
            headers: &[],
            body: Default::default(),
            keep_alive: true,
        }
    }

    fn timers(out: &[Action]) -> Vec<(u64, u64)> {
        out.iter()
            .filter_map(|a| match a {
                Action::Timer { at, token } if token.owner() == OWNER => Some((*at, token.id())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn info_sends_the_spec_line_and_no_timeout() {
        let stats = Stats::default();
        let mut app = FirstSteps::default();
        let mut out = Vec::new();
        let reply =
            app.handle(Route::Info, &req(Method::Get), &Params::default(), None, &cx(&stats, 1, 0), &mut Out::new(&mut out, OWNER));
        let Reply::Stream { first, idle } = reply else { panic!() };
        assert_eq!(first, b"data: [aaa, bbb, ccc]\n\n");
        assert_eq!(idle, None);
        assert!(out.is_empty());
    }

    #[test]
    fn ticks_one_second_after_connect_then_every_second_until_the_end() {
        let stats = Stats::default();
        let mut app = FirstSteps::default();
        let mut out = Vec::new();
        app.handle(Route::Data, &req(Method::Get), &Params::default(), None, &cx(&stats, 1, 500), &mut Out::new(&mut out, OWNER));
        let [(at, token)] = timers(&out)[..] else { panic!("one timer") };
        assert_eq!(at, 1500);
        out.clear();
        // Fired a little late: the next deadline stays on the 1 s grid.
        app.on_timer(token, &cx(&stats, u32::MAX, 1507), &mut Out::new(&mut out, OWNER));
        assert_eq!(timers(&out), [(2500, token)]);
        assert!(matches!(&out[0], Action::Send { to, .. } if to.index == 1));
        out.clear();
        app.on_end(&cx(&stats, 1, 2000), End::Gone, &mut Out::new(&mut out, OWNER));
        app.on_timer(token, &cx(&stats, u32::MAX, 2500), &mut Out::new(&mut out, OWNER));
        assert!(out.is_empty(), "a stale timer sends nothing and re-arms nothing");
        assert!(app.tickers.is_empty() && app.serials.is_empty());
        // HEAD is told a stream, and starts no ticker (`head` takes `&self`).
        assert!(matches!(app.head(Route::Data, &req(Method::Head), &Params::default(), &cx(&stats, 2, 0)), Head::Stream));
    }

    #[test]
    fn each_stream_ticks_on_its_own_grid() {
        // a connects at 0 and b at 0.5 s: a shared ticker would give b its
        // first price with a's, half a second after b connected.
        let stats = Stats::default();
        let mut app = FirstSteps::default();
        let mut out = Vec::new();
        app.handle(Route::Data, &req(Method::Get), &Params::default(), None, &cx(&stats, 1, 0), &mut Out::new(&mut out, OWNER));
        app.handle(Route::Data, &req(Method::Get), &Params::default(), None, &cx(&stats, 2, 500), &mut Out::new(&mut out, OWNER));
        let [(a_at, a), (b_at, b)] = timers(&out)[..] else { panic!("a timer each: {out:?}") };
        assert_ne!(a, b);
        assert_eq!((a_at, b_at), (1_000, 1_500));
        // Fired in the order the wheel would, each sends to its own stream
        // and re-arms on its own grid.
        let mut fire = |token: u64, now: u64| {
            let mut out = Vec::new();
            app.on_timer(token, &cx(&stats, u32::MAX, now), &mut Out::new(&mut out, OWNER));
            let to = match &out[..] {
                [Action::Send { to, .. }, Action::Timer { .. }] => to.index,
                other => panic!("a price and the next timer: {other:?}"),
            };
            (to, timers(&out))
        };
        assert_eq!(fire(a, 1_000), (1, vec![(2_000, a)]));
        assert_eq!(fire(b, 1_500), (2, vec![(2_500, b)]));
        assert_eq!(fire(a, 2_000), (1, vec![(3_000, a)]));
        // A tick fired more than a period late skips what it missed rather
        // than send a burst.
        assert_eq!(fire(b, 4_700), (2, vec![(5_700, b)]));
    }

    #[test]
    fn prices_have_two_decimals_and_cover_the_range() {
        let mut rng = Rng::new(7);
        let (mut low, mut high) = (false, false);
        for _ in 0..20_000 {
            let bytes = price_event(&mut rng);
            let text = std::str::from_utf8(&bytes).unwrap();
            let p = text.strip_prefix("data: 白菜价格行情:").and_then(|t| t.strip_suffix("元\n\n")).unwrap();
            let (whole, cents) = p.split_once('.').unwrap();
            assert_eq!(cents.len(), 2, "{p}");
            let fen: u32 = whole.parse::<u32>().unwrap() * 100 + cents.parse::<u32>().unwrap();
            assert!(fen <= 1000, "{p}");
            low |= fen < 100;
            high |= fen == 1000;
        }
        assert!(low && high, "0.xx and 10.00 both occur");
    }
}
