//! `flood`: does history have a ceiling? `--publishes` POSTs of `--size`
//! bytes on one keep-alive connection, one after another, round robin over
//! `--spread` topics (`flood-0`, `flood-1`, …), nobody subscribed: every
//! message is only kept. Issue 9's cases: 1,500 × 1 MiB to one topic,
//! 200 × 1 MiB of line feeds (`--body lf`), 50,000 topics one small
//! message each (`--spread 50000`).
//!
//! The server's VmRSS and RssAnon (`/proc/PID/status`) are read before the
//! first publish and after the last answer, and `/stats` after: `topics`,
//! and `limits.history_bytes` and `limits.max_topics` where the server
//! reports them. A publish the server refuses (`503` past `--max-topics`)
//! is counted, not an error: refusing is what a ceiling does.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::payload;
use crate::report::{int, num, obj, path_num, s, Value};
use crate::run::{self, Ticker};
use crate::worker::unix_ns;
use pushwire_proto::http::client as http;
use pushwire_proto::http::client::BodyReader;

/// The longest a single answer may take.
const ANSWER_LIMIT: Duration = Duration::from_secs(30);

pub fn run(opts: &Options) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    let rss_before = run::server_rss(opts);
    let anon_before = run::server_anon(opts);
    let stats_before = run::stats(opts).ok();
    let mut conn = None::<TcpStream>;
    let (mut accepted, mut refused) = (0u64, 0u64);
    let mut first_refusal = None::<String>;
    let mut body = Vec::with_capacity(opts.size);
    let mut req = Vec::with_capacity(opts.size + 256);
    let start = Instant::now();
    for seq in 0..opts.publishes as u64 {
        body.clear();
        if opts.lf_body {
            body.resize(opts.size, b'\n');
        } else {
            payload::write(seq, unix_ns(), opts.size, &mut body);
        }
        req.clear();
        let topic = format!("/topics/flood-{}", seq % opts.spread as u64);
        http::request("POST", &opts.host, &topic, &[("Content-Type", "text/plain")], &body, &mut req);
        let stream = match conn.as_mut() {
            Some(stream) => stream,
            None => conn.insert(connect(opts)?),
        };
        let (status, answer, keep_alive) = exchange(stream, &req)?;
        if !keep_alive {
            conn = None;
        }
        if (200..300).contains(&status) {
            accepted += 1;
        } else {
            refused += 1;
            first_refusal.get_or_insert_with(|| {
                format!("POST {topic} answered {status}: {}", String::from_utf8_lossy(&answer))
            });
        }
        ticker.show(|| format!("flood: {}/{} publishes", seq + 1, opts.publishes));
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(conn);
    let rss_after = run::server_rss(opts);
    let anon_after = run::server_anon(opts);
    let stats = run::stats(opts)?;
    ticker.done();

    let opt = |v: Option<u64>| v.map_or(Value::Null, int);
    let delta = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => num(b as f64 - a as f64),
        _ => Value::Null,
    };
    let stat = |v: &Value, p: &str| path_num(v, p).map_or(Value::Null, num);
    let anon_per = match (anon_before, anon_after) {
        (Some(a), Some(b)) if accepted > 0 => num((b as f64 - a as f64) / accepted as f64),
        _ => Value::Null,
    };
    let mut report = run::head(opts);
    report.extend([
        ("size", int(opts.size as u64)),
        ("body", s(if opts.lf_body { "lf" } else { "text" })),
        ("publishes", int(opts.publishes as u64)),
        ("spread", int(opts.spread as u64)),
        ("accepted", int(accepted)),
        ("refused", int(refused)),
        ("first_refusal", first_refusal.as_deref().map_or(Value::Null, s)),
        ("seconds", num(seconds)),
        ("server_rss_before", opt(rss_before)),
        ("server_rss_after", opt(rss_after)),
        ("server_rss_delta", delta(rss_before, rss_after)),
        ("server_anon_before", opt(anon_before)),
        ("server_anon_after", opt(anon_after)),
        ("server_anon_delta", delta(anon_before, anon_after)),
        ("server_anon_delta_per_accepted", anon_per),
        ("topics_before", stats_before.as_ref().map_or(Value::Null, |v| stat(v, "topics"))),
        ("topics_after", stat(&stats, "topics")),
        ("history_bytes_used", stat(&stats, "limits.history_bytes.used")),
        ("history_bytes_cap", stat(&stats, "limits.history_bytes.cap")),
        ("max_topics_cap", stat(&stats, "limits.max_topics.cap")),
        ("errors", Value::Array(Vec::new())),
    ]);
    let report = obj(report);
    if !opts.quiet {
        let mib = |v: Option<u64>| v.map_or("?".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0));
        println!(
            "flood {}: {} × {} B ({}) over {} topic(s) in {seconds:.1} s: {accepted} accepted, {refused} refused",
            opts.name,
            opts.publishes,
            opts.size,
            if opts.lf_body { "line feeds" } else { "text" },
            opts.spread
        );
        println!("  server VmRSS {} → {}", mib(rss_before), mib(rss_after));
        println!("  server RssAnon {} → {}", mib(anon_before), mib(anon_after));
        let used = path_num(&stats, "limits.history_bytes.used");
        let cap = path_num(&stats, "limits.history_bytes.cap");
        println!(
            "  /stats topics {}, history_bytes used {} of {}",
            path_num(&stats, "topics").map_or("?".into(), |t| t.to_string()),
            mib(used.map(|u| u as u64)),
            mib(cap.map(|c| c as u64))
        );
        if let Some(why) = &first_refusal {
            println!("  first refusal: {why}");
        }
    }
    run::write_outputs(opts, &report, None)
}

fn connect(opts: &Options) -> Result<TcpStream, String> {
    let stream =
        TcpStream::connect(opts.target).map_err(|e| format!("flood: connect {}: {e}", opts.target))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(ANSWER_LIMIT)).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Writes one request and reads its answer: status, body, and whether the
/// connection may carry the next request.
fn exchange(stream: &mut TcpStream, req: &[u8]) -> Result<(u16, Vec<u8>, bool), String> {
    stream.write_all(req).map_err(|e| format!("flood: write: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut reader = None::<(BodyReader, u16, bool)>;
    let mut answer = Vec::new();
    loop {
        if reader.is_none() {
            if let Some(head) = http::parse_head(&buf, false).map_err(|e| format!("flood: {e}"))? {
                buf.drain(..head.len);
                // RFC 9110 §15.2: interim answers come before the real one.
                if !head.is_interim() {
                    reader = Some((BodyReader::new(head.body), head.status, head.keep_alive));
                }
                continue;
            }
        }
        if let Some((body, status, keep_alive)) = reader.as_mut() {
            let (n, complete) = body.feed(&buf, &mut answer).map_err(|e| format!("flood: {e}"))?;
            buf.drain(..n);
            if complete {
                return Ok((*status, answer, *keep_alive));
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err("flood: the server closed the connection before answering".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("flood: read: {e}")),
        }
    }
}
