//! pushwire-load end to end: every scenario against a real pushwire, at a
//! small scale, and the report it writes checked figure by figure. (Speed
//! is measured in docs/BENCHMARKS.md, never asserted here.)

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::Server;
use serde_json::Value;

fn load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pushwire-load")).args(args).output().expect("run pushwire-load")
}

/// Runs a scenario against `server` and returns its JSON report.
fn report(server: &Server, scenario: &str, extra: &[&str]) -> Value {
    let dir = std::env::temp_dir().join(format!("pushwire-load-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path: PathBuf = dir.join(format!("{scenario}-{}.json", extra.join("_").replace(['-', '/'], "")));
    let svg_path = json_path.with_extension("svg");
    let target = server.addr.to_string();
    let pid = server.pid().to_string();
    let mut args = vec![scenario, "--target", &target, "--server-pid", &pid, "--quiet"];
    args.extend_from_slice(&["--json", json_path.to_str().unwrap()]);
    // bytes and flood have tables, not curves: no plot.
    let plots = !matches!(scenario, "bytes" | "flood");
    if plots {
        args.extend_from_slice(&["--svg", svg_path.to_str().unwrap()]);
    }
    args.extend_from_slice(extra);
    let out = load(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{scenario} {extra:?} failed: {stderr}");
    if plots {
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"), "{svg}");
    }
    serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap()
}

fn num(v: &Value, name: &str) -> f64 {
    match v.get(name) {
        Some(Value::Number(n)) => n.as_f64().unwrap(),
        other => panic!("{name}: {other:?} in {v:?}"),
    }
}

fn text<'a>(v: &'a Value, name: &str) -> &'a str {
    match v.get(name) {
        Some(Value::String(s)) => s,
        other => panic!("{name}: {other:?}"),
    }
}

fn no_errors(v: &Value) {
    assert_eq!(v.get("errors"), Some(&Value::Array(Vec::new())), "{v:?}");
}

#[test]
fn capacity_holds_every_connection_and_the_broadcast_reaches_all() {
    let server = Server::start(&[]);
    for proto in ["ws", "sse"] {
        let r = report(&server, "capacity", &["--proto", proto, "--conns", "300"]);
        assert_eq!(text(&r, "scenario"), "capacity");
        assert_eq!(text(&r, "proto"), proto);
        assert_eq!(num(&r, "connected"), 300.0);
        assert_eq!(num(&r, "failed"), 0.0);
        assert_eq!(num(&r, "broadcast_status"), 202.0);
        assert_eq!(num(&r, "broadcast_reached"), 300.0);
        assert!(num(&r, "server_rss_after") > 0.0);
        no_errors(&r);
        // The curve starts before the first connection and ends at the last.
        let Some(Value::Array(curve)) = r.get("memory_curve") else { panic!("no curve") };
        assert_eq!(
            curve.first().and_then(|p| if let Value::Array(p) = p { p.first().cloned() } else { None }),
            Some(Value::from(0))
        );
        assert_eq!(
            curve.last().and_then(|p| if let Value::Array(p) = p { p.first().cloned() } else { None }),
            Some(Value::from(300))
        );
    }
}

#[test]
fn capacity_spreads_over_processes_and_loopback_addresses() {
    // --addrs needs a server on every 127.0.0.x: listen on all addresses.
    let server = Server::start(&["--listen", "0.0.0.0:0"]);
    let port = server.addr.port().to_string();
    let target = format!("127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("pushwire-load-spread-{}.json", std::process::id()));
    let out = load(&[
        "capacity",
        "--target",
        &target,
        "--conns",
        "200",
        "--procs",
        "3",
        "--addrs",
        "4",
        "-q",
        "--json",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&dir).unwrap()).unwrap();
    assert_eq!(num(&r, "load_procs"), 3.0);
    assert_eq!(num(&r, "connected"), 200.0);
    assert_eq!(num(&r, "broadcast_reached"), 200.0);
    // Without --server-pid there are no server figures, and the report says so.
    assert_eq!(r.get("server_rss_per_conn"), Some(&Value::Null));
    let _ = std::fs::remove_file(dir);
}

#[test]
fn echo_compares_every_byte_and_measures_latency() {
    let server = Server::start(&[]);
    let r = report(
        &server,
        "echo",
        &["--conns", "8", "--inflight", "4", "--size", "200", "--warmup", "0.2", "--duration", "1"],
    );
    assert!(num(&r, "echoes") > 0.0);
    assert_eq!(num(&r, "size"), 200.0);
    let latency = r.get("latency").unwrap();
    assert_eq!(num(latency, "count"), num(&r, "echoes"));
    assert!(num(latency, "p50_us") <= num(latency, "p99_us"));
    let window = r.get("window").unwrap();
    assert!(num(window, "server_ns_per_unit") > 0.0);
    no_errors(&r);
}

#[test]
fn plaintext_counts_answered_requests() {
    let server = Server::start(&[]);
    for pace in [&[][..], &["--probe-every", "2"]] {
        let mut args = vec!["--conns", "4", "--warmup", "0.2", "--duration", "1"];
        args.extend_from_slice(pace);
        let r = report(&server, "plaintext", &args);
        assert!(num(&r, "requests") > 0.0, "{pace:?}");
        assert_eq!(num(r.get("latency").unwrap(), "count"), num(&r, "requests"));
        no_errors(&r);
    }
}

#[test]
fn fanout_delivers_every_message_in_order() {
    let server = Server::start(&[]);
    for proto in ["ws", "sse"] {
        for rate in ["0", "200"] {
            let r = report(
                &server,
                "fanout",
                &["--proto", proto, "--subs", "40", "--rate", rate, "--warmup", "0.2", "--duration", "1"],
            );
            assert!(num(&r, "published") > 0.0, "{proto} {rate}");
            assert_eq!(num(&r, "subscribers"), 40.0);
            assert_eq!(num(&r, "lost"), 0.0, "{proto} {rate}");
            assert_eq!(num(&r, "out_of_order_or_duplicate"), 0.0);
            assert_eq!(num(&r, "closed_by_server"), 0.0);
            assert_eq!(num(&r, "refused"), 0.0);
            assert!(num(&r, "deliveries") > 0.0);
            no_errors(&r);
        }
    }
}

#[test]
fn stall_measures_plaintext_while_every_large_message_reaches_every_subscriber() {
    let server = Server::start(&[]);
    for proto in ["sse", "ws"] {
        let r = report(
            &server,
            "stall",
            &["--proto", proto, "--subs", "20", "--size", "65536", "--publishes", "3", "--probes", "2"],
        );
        assert_eq!(text(&r, "proto"), proto);
        assert_eq!((num(&r, "subscribers"), num(&r, "size")), (20.0, 65536.0));
        assert_eq!((num(&r, "publishes"), num(&r, "published")), (3.0, 3.0));
        assert_eq!(num(&r, "deliveries"), 60.0, "every message to every subscriber, counted once");
        assert_eq!(num(r.get("delivery_latency").unwrap(), "count"), 60.0);
        assert_eq!(num(&r, "lost"), 0.0);
        assert_eq!(num(&r, "out_of_order_or_duplicate"), 0.0);
        assert_eq!(num(&r, "closed_by_server"), 0.0);
        let Some(Value::Array(fanouts)) = r.get("fanout_ms") else { panic!("{r:?}") };
        assert_eq!(fanouts.len(), 3, "one completion time per message");
        assert!(fanouts.iter().all(|f| f.as_f64().is_some_and(|ms| ms > 0.0)));
        // A second of probing before the first publish: 2 probes every 5 ms.
        let quiet = r.get("plaintext_quiet").unwrap();
        assert!(num(quiet, "count") > 0.0);
        assert!(num(quiet, "p50_us") <= num(quiet, "p99_us"));
        let during = r.get("plaintext_during_fanout").unwrap();
        assert!(num(during, "p99_us") <= num(during, "max_us"));
        assert_eq!(num(&r, "probe_every_ms"), 5.0);
        no_errors(&r);
    }
}

#[test]
fn stall_subscribes_to_several_topics_and_samples_the_servers_peak_memory() {
    let server = Server::start(&[]);
    let r = report(
        &server,
        "stall",
        &["--topics", "a,b", "--subs", "10", "--size", "65536", "--publishes", "2", "--probes", "1"],
    );
    assert_eq!((text(&r, "path"), text(&r, "publish_path")), ("/topics/a,b", "/topics/a"));
    assert_eq!(num(&r, "deliveries"), 20.0, "every message to every multi-topic stream, once");
    assert_eq!((num(&r, "lost"), num(&r, "closed_by_server")), (0.0, 0.0));
    // The multi-topic streams were the server's: they are in its /stats.
    assert_eq!(common::stat(&server, "subscriptions"), 0, "all gone after the run");
    assert!(num(&r, "server_rss_peak") >= num(&r, "server_rss_start"));
    assert!(num(&r, "server_anon_peak") >= num(&r, "server_anon_start"));
    assert!(num(&r, "server_hwm") > 0.0);
    no_errors(&r);
}

#[test]
fn flood_reports_memory_and_the_history_ceiling() {
    let server = Server::start(&["--history-bytes", "1MiB", "--max-topics", "5"]);
    let r = report(&server, "flood", &["--publishes", "40", "--size", "65536"]);
    assert_eq!((num(&r, "accepted"), num(&r, "refused")), (40.0, 0.0));
    assert_eq!((num(&r, "spread"), num(&r, "topics_after")), (1.0, 1.0));
    assert_eq!(num(&r, "history_bytes_cap"), 1048576.0);
    // 2.5 MiB published, 1 MiB kept at most: the cap held.
    let used = num(&r, "history_bytes_used");
    assert!(used > 0.0 && used <= 1048576.0, "{used}");
    assert!(num(&r, "server_anon_after") > 0.0);
    assert_eq!(num(&r, "server_anon_delta"), num(&r, "server_anon_after") - num(&r, "server_anon_before"));
    no_errors(&r);

    // Past --max-topics the server refuses; the report counts it, with the answer.
    let r = report(&server, "flood", &["--publishes", "8", "--spread", "8", "--size", "64", "--body", "lf"]);
    assert_eq!(text(&r, "body"), "lf");
    assert_eq!(
        (num(&r, "accepted"), num(&r, "refused")),
        (5.0, 3.0),
        "flood-0 was there: it and 4 new ones make 5"
    );
    assert_eq!(num(&r, "topics_after"), 5.0);
    assert_eq!(num(&r, "max_topics_cap"), 5.0);
    assert!(text(&r, "first_refusal").contains("answered 503"), "{r:?}");
}

#[test]
fn teardown_waits_until_the_server_counts_every_subscriber_gone() {
    let server = Server::start(&[]);
    for proto in ["sse", "ws"] {
        let r = report(
            &server,
            "teardown",
            &["--proto", proto, "--subs", "30", "--topics", "t0,t1,t2", "--probes", "2", "--procs", "2"],
        );
        assert_eq!((text(&r, "proto"), text(&r, "path")), (proto, "/topics/t0,t1,t2"));
        assert_eq!((num(&r, "subscribers"), num(&r, "topics_per_subscriber")), (30.0, 3.0));
        assert_eq!((num(&r, "streams_before"), num(&r, "streams_held")), (0.0, 30.0));
        assert_eq!(num(&r, "load_procs"), 3.0, "two for the subscribers, one for the probes");
        assert!(num(&r, "stats_polls") >= 1.0);
        assert!(num(&r, "gone_ms") > 0.0 && num(&r, "clients_closed_ms") > 0.0);
        let during = r.get("plaintext_during_teardown").unwrap();
        assert!(num(during, "count") > 0.0);
        assert!(num(during, "p99_us") <= num(during, "max_us"));
        assert_eq!(num(&r, "closed_by_server"), 0.0);
        no_errors(&r);
        // Gone from the hub as well: no subscription left behind.
        assert_eq!(common::stat(&server, "subscriptions"), 0);
    }
}

#[test]
fn bytes_compares_the_four_methods_on_one_update_stream() {
    let server = Server::start(&[]);
    let r = report(&server, "bytes", &["--updates", "4", "--interval", "100"]);
    let Some(Value::Array(methods)) = r.get("methods") else { panic!("{r:?}") };
    let names: Vec<&str> = methods.iter().map(|m| text(m, "method")).collect();
    assert_eq!(names, ["polling", "long-polling", "sse", "websocket"]);
    for m in methods {
        assert_eq!(m.get("supported"), Some(&Value::Bool(true)), "{m:?}");
        assert_eq!(num(m, "updates_received"), 4.0, "{m:?}");
    }
    // Long-polling asks once per update (plus the last, unanswered ask);
    // the streams ask once.
    assert_eq!(num(&methods[2], "requests"), 1.0);
    assert_eq!(num(&methods[3], "requests"), 1.0);
    // A stream costs less per update than asking for it.
    assert!(
        num(&methods[2], "bytes_per_update_without_setup")
            < num(&methods[1], "bytes_per_update_without_setup")
    );
}

#[test]
fn plot_draws_reports_side_by_side() {
    let server = Server::start(&[]);
    let a =
        report(&server, "echo", &["--conns", "2", "--warmup", "0", "--duration", "0.5", "--name", "first"]);
    let b =
        report(&server, "echo", &["--conns", "2", "--warmup", "0", "--duration", "0.5", "--name", "second"]);
    let dir = std::env::temp_dir().join(format!("pushwire-load-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pa, pb, svg) = (dir.join("a.json"), dir.join("b.json"), dir.join("both.svg"));
    for (path, v) in [(&pa, &a), (&pb, &b)] {
        std::fs::write(path, serde_json::to_string(v).unwrap()).unwrap();
    }
    let out = load(&["plot", "--svg", svg.to_str().unwrap(), pa.to_str().unwrap(), pb.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 2);
    assert!(svg.contains(">first<") && svg.contains(">second<"), "{svg}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    for (args, says) in [
        (&["capacity", "--conns", "x"][..], "invalid value 'x' for '--conns <N>': 'x' is not a number"),
        (&["warp"], "invalid value 'warp' for '<SCENARIO>'"),
        (&["echo", "--target", "192.0.2.1:80"], "not a loopback address"),
    ] {
        let out = load(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Nothing listening: the run fails and says why.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let out = load(&["capacity", "--target", &free, "--conns", "3", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Connection refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = load(&["--help"]);
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage: pushwire-load SCENARIO [options]"), "{help}");
    assert!(help.contains("--probe-every <MS>"), "{help}");
}

#[test]
fn refused_publishes_are_reported_as_refused_not_as_lost() {
    // With a publish token, pushwire-load's POSTs get 401: nothing is
    // accepted, so nothing is due to any subscriber and nothing is lost.
    let server = Server::start(&["--publish-token", "secret"]);
    let dir = std::env::temp_dir().join(format!("pushwire-load-refused-{}.json", std::process::id()));
    let target = server.addr.to_string();
    let out = load(&[
        "fanout",
        "--target",
        &target,
        "--subs",
        "5",
        "--warmup",
        "0",
        "--duration",
        "0.5",
        "-q",
        "--json",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("POST answered 401"), "{stderr}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&dir).unwrap()).unwrap();
    assert!(num(&r, "refused") > 0.0);
    assert_eq!(num(&r, "refused"), num(&r, "published"));
    assert_eq!(num(&r, "lost"), 0.0);
    assert_eq!(num(&r, "deliveries"), 0.0);
    let _ = std::fs::remove_file(dir);
}

/// A scripted WebSocket server for one connection: answers the opening
/// handshake with `before_101` (interim answers) then a correct 101, sends
/// `frames`, and returns every byte the client sent after its request, up
/// to its close. What a real server would not do on purpose, to see how
/// pushwire-load answers it.
fn scripted_ws_server(
    before_101: &'static str,
    frames: &'static [u8],
) -> (String, std::thread::JoinHandle<Vec<u8>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "the client closed before its request ended");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a Sec-WebSocket-Key")
            .trim()
            .to_string();
        let accept = pushwire_proto::ws::accept_key(key.as_bytes());
        let answer = format!(
            "{before_101}HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        s.write_all(answer.as_bytes()).unwrap();
        s.write_all(frames).unwrap();
        let mut rest = buf[head_end..].to_vec();
        while let Ok(n) = s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        rest
    });
    (addr, handle)
}

/// The payloads of the Close frames in `bytes` (client frames: masked).
fn client_closes(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut closes = Vec::new();
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let (b0, b1) = (bytes[at], bytes[at + 1]);
        assert!(b1 & 0x80 != 0, "a client frame without a mask");
        let len = usize::from(b1 & 0x7f);
        assert!(len < 126, "only short frames are expected here");
        let mask = &bytes[at + 2..at + 6];
        let payload: Vec<u8> =
            bytes[at + 6..at + 6 + len].iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
        if b0 == 0x88 {
            closes.push(payload);
        }
        at += 6 + len;
    }
    closes
}

#[test]
fn a_close_from_the_server_is_answered_with_its_code() {
    // RFC 6455 §5.5.1: Close 1001 "going away" from the server; the client
    // must answer with a Close, and pushwire-load echoes the code.
    let (addr, server) = scripted_ws_server("", &[0x88, 0x02, 0x03, 0xe9]);
    let out = load(&["echo", "--target", &addr, "--conns", "1", "--warmup", "0", "--duration", "0.5", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = server.join().unwrap();
    assert_eq!(client_closes(&sent), [vec![0x03, 0xe9]]);
}

#[test]
fn an_interim_answer_is_skipped_and_a_stray_continuation_fails_with_1002() {
    // RFC 9110 §15.2: a 103 before the 101 is read and skipped (else the
    // handshake would fail and no frame would follow). RFC 6455 §5.4: a
    // continuation frame with no message open fails the connection: the
    // client sends Close 1002 (§7.4.1, protocol error).
    let (addr, server) = scripted_ws_server("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n", &[0x80, 0x00]);
    let out = load(&["echo", "--target", &addr, "--conns", "1", "--warmup", "0", "--duration", "0.5", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let sent = server.join().unwrap();
    assert_eq!(client_closes(&sent), [vec![0x03, 0xea]]);
}
