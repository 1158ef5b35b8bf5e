//! The app's own rules: routing to owners, timers to their setters, HEAD
//! without side effects, and the helpers' edge cases.

use super::*;
use httparse::Header;

/// For scenario tests: what the app passes a scenario for a request that
/// asks to upgrade, a handshake (RFC 6455 §1.3's) that passed the check.
pub(crate) fn accepted() -> ws::Accepted {
    let headers = [
        Header { name: "Host", value: b"server.example.com" },
        Header { name: "Upgrade", value: b"websocket" },
        Header { name: "Connection", value: b"Upgrade" },
        Header { name: "Sec-WebSocket-Key", value: b"dGhlIHNhbXBsZSBub25jZQ==" },
        Header { name: "Sec-WebSocket-Version", value: b"13" },
    ];
    let req = Request {
        method: Method::Get,
        method_token: "GET",
        path: "/chat",
        query: "",
        minor: 1,
        headers: &headers,
        body: Default::default(),
        keep_alive: true,
    };
    ws::handshake::check(&req, |_| true).expect("RFC 6455 §1.3's handshake passes")
}

#[test]
fn timeout_param_clamps_before_converting() {
    let (default, cap) = (Duration::from_secs(60), Duration::from_secs(3600));
    let cases: &[(&str, Result<Duration, ()>)] = &[
        ("", Ok(default)),
        ("timeout=", Ok(default)),
        ("timeout=0.5", Ok(Duration::from_millis(500))),
        ("timeout=1e30", Ok(cap)),
        ("timeout=1e300", Ok(cap)),
        ("timeout=0", Err(())),
        ("timeout=-1", Err(())),
        ("timeout=inf", Err(())),
        ("timeout=NaN", Err(())),
        ("timeout=soon", Err(())),
    ];
    for (q, want) in cases {
        assert_eq!(timeout_param(q, default, cap).map_err(|_| ()), *want, "{q}");
    }
}

const UPGRADE: [Header<'static>; 5] = [
    Header { name: "Host", value: b"t" },
    Header { name: "Upgrade", value: b"websocket" },
    Header { name: "Connection", value: b"Upgrade" },
    Header { name: "Sec-WebSocket-Key", value: b"dGhlIHNhbXBsZSBub25jZQ==" },
    Header { name: "Sec-WebSocket-Version", value: b"13" },
];

fn key(index: u32) -> ConnKey {
    ConnKey { index, gen: 7 }
}

fn request<'a>(method: Method, target: &'a str, headers: &'a [Header<'a>]) -> Request<'a> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Request {
        method,
        method_token: if method == Method::Head { "HEAD" } else { "GET" },
        path,
        query,
        minor: 1,
        headers,
        body: Default::default(),
        keep_alive: true,
    }
}

/// `method target` as connection `index`: the reply and the actions.
fn run(
    app: &mut App,
    method: Method,
    target: &str,
    headers: &[Header<'_>],
    index: u32,
) -> (Reply, Vec<Action>) {
    let stats = Stats::default();
    let cx = Context { key: key(index), now: 1000, unix_ms: 0, stats: &stats };
    let mut out = Vec::new();
    let reply = app.handle(&request(method, target, headers), &cx, &mut out);
    (reply, out)
}

fn sent_to(out: &[Action]) -> Vec<u32> {
    out.iter()
        .filter_map(|a| match a {
            Action::Send { to, .. } => Some(to.index),
            _ => None,
        })
        .collect()
}

#[test]
fn events_reach_only_the_owner_of_the_stream() {
    let mut app = App::new(&Config::default());
    let stats = Stats::default();
    let cx = |index| Context { key: key(index), now: 1000, unix_ms: 0, stats: &stats };
    let (asset, _) = run(&mut app, Method::Get, "/ws/asset", &UPGRADE, 1);
    let (chat, _) = run(&mut app, Method::Get, "/websocket?nickname=Li", &UPGRADE, 2);
    let (echo, _) = run(&mut app, Method::Get, "/ws/echo", &UPGRADE, 3);
    assert!([asset, chat, echo].iter().all(|r| matches!(r, Reply::Upgrade { .. })));
    assert_eq!(app.owners.get(key(1)), Some(Owner::Scenario(ScenarioId::Asset)));
    assert_eq!(app.owners.get(key(2)), Some(Owner::Scenario(ScenarioId::Chat)));
    assert_eq!(app.owners.get(key(3)), Some(Owner::Echo));
    // Each message is answered by its socket's owner, and only by it.
    for (index, want) in [(1, "Echo Message content:hi (From Server,Session ID=1)"), (2, "Li: hi"), (3, "hi")]
    {
        let mut out = Vec::new();
        app.on_message(&cx(index), Message::Text("hi"), &mut out);
        let [Action::Send { to, bytes }] = &out[..] else { panic!("{out:?}") };
        assert_eq!((to.index, &bytes[2..]), (index, want.as_bytes()));
    }
    // A plain request's connection owns nothing: no event reaches anyone.
    let mut out = Vec::new();
    app.on_message(&cx(9), Message::Text("hi"), &mut out);
    app.on_end(&cx(9), End::Gone, &mut out);
    assert!(out.is_empty());
    // The end goes to the owner once, and the slot is empty after it.
    app.on_end(&cx(2), End::Gone, &mut out);
    app.on_end(&cx(2), End::Gone, &mut out);
    assert_eq!(app.owners.get(key(2)), None);
    assert_eq!(app.owners.len(), 2);
    let mut out = Vec::new();
    app.on_message(&cx(2), Message::Text("gone"), &mut out);
    assert!(out.is_empty());
}

#[test]
fn a_timer_fires_in_the_scenario_that_set_it() {
    let mut app = App::new(&Config::default());
    let stats = Stats::default();
    let (_, out) = run(&mut app, Method::Get, "/server/data", &[], 4);
    let [Action::Timer { at, token }] = out[..] else { panic!("{out:?}") };
    assert_eq!((at, token.owner()), (2000, Owner::Scenario(ScenarioId::FirstSteps)));
    let cx = Context { key: ConnKey { index: u32::MAX, gen: 0 }, now: at, unix_ms: 0, stats: &stats };
    let mut out = Vec::new();
    app.on_timer(token, &cx, &mut out);
    assert_eq!(sent_to(&out), [4], "the price went to the stream that asked");
    // The same id under another owner is another timer: FirstSteps' ticker
    // does not fire for it.
    let mut out = Vec::new();
    app.on_timer(TimerToken::new(Owner::Scenario(ScenarioId::SseClients), token.id()), &cx, &mut out);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn head_runs_nothing_that_acts() {
    let mut app = App::new(&Config::default());
    for (target, headers) in [
        ("/server/data", &[][..]),
        ("/orderpay?payid=1", &[][..]),
        ("/stats/stream", &[][..]),
        ("/poll/t?timeout=5", &[][..]),
        ("/ws/asset", &UPGRADE[..]),
        ("/websocket?nickname=Li", &UPGRADE[..]),
        ("/sse/sendMsgToAll", &[][..]),
        ("/foo/sseSend", &[][..]),
    ] {
        let (reply, out) = run(&mut app, Method::Head, target, headers, 5);
        assert!(matches!(reply, Reply::Respond(_)), "{target}: {reply:?}");
        assert!(out.is_empty(), "{target}: {out:?}");
    }
    assert_eq!(app.owners.len(), 0);
    assert_eq!(app.hub.topics(), 0, "no long-poll made a topic");
    // What GET would start, HEAD gets the head of.
    let (Reply::Respond(stream), _) = run(&mut app, Method::Head, "/server/info", &[], 5) else { panic!() };
    assert_eq!(
        (stream.status, stream.stream, stream.content_type),
        (200, true, Some(crate::sse::CONTENT_TYPE))
    );
    let (Reply::Respond(socket), _) = run(&mut app, Method::Head, "/ws/asset", &UPGRADE, 5) else { panic!() };
    assert_eq!(socket.body.as_bytes(), ws::Refusal::NotGet.response().body.as_bytes());
    let (Reply::Respond(plain), _) = run(&mut app, Method::Head, "/ws/asset", &[], 5) else { panic!() };
    assert_eq!(plain.body.as_bytes(), ws::Refusal::NotUpgrade.response().body.as_bytes(), "as a plain GET");
}
