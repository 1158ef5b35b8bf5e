//! `teardown`: how long do many subscribers take to leave, and does their
//! leaving stall everybody else? `--subs` subscribers of `--topics` (issue
//! 9's case: 16,000 SSE streams of 16 topics each, `/topics/t0,…,t15`), and
//! `--probes` keep-alive connections asking `GET /plaintext` at a steady
//! pace (as in `stall`: latency from when each request was due). Then every
//! subscriber process is stopped at once: each exits, and the kernel closes
//! all its sockets together. `/stats` is asked every 10 ms (a fresh
//! connection each time) until its event-stream and WebSocket connections
//! are back to what they were before the subscribers came.
//!
//! Figures: the time from the stop until the client processes were gone
//! (their sockets closed; seen between polls, so to within a poll), the
//! time until `/stats` counted them gone, and `/plaintext` latency from the
//! stop until 0.5 s after that. The server may count them gone before the
//! last client process has finished exiting: each closes its sockets one
//! by one in the kernel.

use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::fleet::Fleet;
use crate::report::{int, num, obj, path_num, s, Value};
use crate::run::{self, Span, Ticker};

/// How long the server may take to count the subscribers gone.
const GONE_LIMIT: Duration = Duration::from_secs(60);
/// How long /stats may take to count them all in, once they are open.
const IN_LIMIT: Duration = Duration::from_secs(10);
/// Probe latency before the teardown, and after it is over.
const QUIET: Duration = Duration::from_secs(1);
const TAIL: Duration = Duration::from_millis(500);
const STATS_EVERY: Duration = Duration::from_millis(10);

pub fn run(opts: &Options, args: &[String]) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    let streams = |v: &Value| {
        path_num(v, "connections.sse").unwrap_or(0.0) + path_num(v, "connections.ws").unwrap_or(0.0)
    };
    let before = streams(&run::stats(opts)?);
    let mut subs = Fleet::spawn(opts.conns, opts.procs, args)?;
    subs.open_all("subscribers", |fleet| {
        let p = fleet.progress();
        ticker.show(|| format!("teardown: {}/{} subscribers", p.connected, opts.conns));
    })?;
    let open = subs.progress().connected;
    if open < opts.conns as u64 {
        return Err(format!("{} of {} subscribers failed to open", opts.conns as u64 - open, opts.conns));
    }
    let probe_args = crate::stall::probe_args(opts);
    let quiet = {
        let mut probes = Fleet::spawn_on(opts.probes, Some(1), &probe_args, opts.probe_cpu)?;
        probes.open_all("probes", |_| {})?;
        probes.send("go");
        probes.send("measure");
        let end = Instant::now() + QUIET;
        while Instant::now() < end {
            subs.pump(Duration::from_millis(1))?;
            probes.pump(Duration::ZERO)?;
        }
        probes.stop()?
    };
    // Every subscriber counted in before they go.
    let in_by = Instant::now() + IN_LIMIT;
    let held = loop {
        subs.pump(Duration::from_millis(10))?;
        let now = streams(&run::stats(opts)?);
        if now >= before + open as f64 {
            break now;
        }
        if Instant::now() > in_by {
            return Err(format!("/stats counts {now} streams, not {} (before) + {open}", before));
        }
    };

    let mut probes = Fleet::spawn_on(opts.probes, Some(1), &probe_args, opts.probe_cpu)?;
    probes.open_all("probes", |_| {})?;
    probes.send("go");
    probes.send("measure");
    let span = Span::start(opts, probes.cpu_ns());
    ticker.say(&format!("teardown: {open} subscribers leave at once"));
    let procs = (subs.len() + probes.len()) as u64;
    let at = Instant::now();
    // Every worker stops, reports (read after, by `stop`) and exits.
    subs.send("stop");
    let mut closed = None;
    let mut polls = 0u64;
    let mut stats_max = Duration::ZERO;
    let gone = loop {
        probes.pump(STATS_EVERY)?;
        if closed.is_none() && subs.all_exited() {
            closed = Some(at.elapsed());
        }
        let asked = Instant::now();
        let now = streams(&run::stats(opts)?);
        stats_max = stats_max.max(asked.elapsed());
        polls += 1;
        if now <= before {
            break at.elapsed();
        }
        if at.elapsed() > GONE_LIMIT {
            return Err(format!("/stats still counted {now} streams {GONE_LIMIT:?} after the teardown"));
        }
        ticker.show(|| format!("teardown: {now} streams left"));
    };
    let totals = subs.stop()?;
    // `stop` waits for every worker's exit; if none had been seen yet, it is now.
    let closed = closed.unwrap_or_else(|| at.elapsed());
    let tail_end = Instant::now() + TAIL;
    while Instant::now() < tail_end {
        probes.pump(Duration::from_millis(5))?;
    }
    let window = span.end(opts, probes.cpu_ns());
    let during = probes.stop()?;
    ticker.done();

    let ms = |d: Duration| num(d.as_secs_f64() * 1000.0);
    let mut report = run::head(opts);
    report.extend([
        ("load_procs", int(procs)),
        ("proto", s(opts.proto.name())),
        ("path", s(&opts.sub_path())),
        ("topics_per_subscriber", int(opts.topics.len() as u64)),
        ("subscribers", int(open)),
        ("streams_before", num(before)),
        ("streams_held", num(held)),
        ("probes", int(opts.probes as u64)),
        ("probe_cpu", opts.probe_cpu.map_or(Value::Null, |c| int(c as u64))),
        ("probe_every_ms", num(opts.probe_every.unwrap_or_default().as_secs_f64() * 1000.0)),
        ("clients_closed_ms", ms(closed)),
        ("gone_ms", ms(gone)),
        ("stats_polls", int(polls)),
        ("stats_max_ms", ms(stats_max)),
        ("plaintext_quiet", run::latency(&quiet.hist)),
        ("plaintext_during_teardown", run::latency(&during.hist)),
        ("closed_by_server", int(totals.closed)),
        ("window", window.report(opts.conns as u64)),
        (
            "errors",
            Value::Array(
                totals.notes.iter().chain(&quiet.notes).chain(&during.notes).map(|n| s(n)).collect(),
            ),
        ),
    ]);
    let report = obj(report);
    if !opts.quiet {
        println!(
            "teardown {} {} {}: {open} subscribers leave at once",
            opts.name,
            opts.proto.name(),
            opts.sub_path()
        );
        println!(
            "  client processes gone after {:.0} ms; /stats counted the streams gone after {:.0} ms ({polls} polls, slowest {:.0} ms)",
            closed.as_secs_f64() * 1000.0,
            gone.as_secs_f64() * 1000.0,
            stats_max.as_secs_f64() * 1000.0
        );
        println!("  /plaintext during the teardown {}", run::latency_line(&during.hist));
        println!("  /plaintext before it           {}", run::latency_line(&quiet.hist));
    }
    let chart = run::during_and_before_chart(
        format!("/plaintext latency while {open} subscribers of {} leave", opts.sub_path()),
        &opts.name,
        &during.hist,
        &quiet.hist,
    );
    run::write_outputs(opts, &report, Some(chart))?;
    let errors = totals.errors + quiet.errors + during.errors;
    if totals.closed > 0 || errors > 0 {
        return Err(format!(
            "{} subscribers closed by the server before the teardown, {errors} errors",
            totals.closed
        ));
    }
    Ok(())
}
