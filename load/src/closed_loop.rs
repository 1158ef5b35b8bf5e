//! `echo` and `plaintext`: every connection keeps a fixed number of
//! messages (requests) in flight and sends the next as soon as one comes
//! back, so the rate is what the server and the load generator sustain.

use std::time::{Duration, Instant};

use crate::cli::{Options, Scenario};
use crate::fleet::Fleet;
use crate::report::{arr, int, num, obj, s};
use crate::run::{self, Span, Ticker};
use crate::svg::{Chart, XScale};

pub fn run(opts: &Options, args: &[String]) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    let what = if opts.scenario == Scenario::Echo { "echoes" } else { "requests" };
    let mut fleet = Fleet::spawn(opts.conns, opts.procs, args)?;
    fleet.open_all("connections", |_| {})?;
    let p = fleet.progress();
    if p.failed > 0 {
        return Err(format!("{} of {} connections failed to open", p.failed, opts.conns));
    }
    fleet.send("go");
    let warm_end = Instant::now() + opts.warmup;
    while Instant::now() < warm_end {
        fleet.pump(Duration::from_millis(50))?;
        ticker.show(|| format!("{}: warming up", opts.scenario.name()));
    }
    fleet.send("measure");
    let span = Span::start(opts, fleet.cpu_ns());
    let end = span.at + opts.duration;
    let mut last = (Instant::now(), 0u64);
    while Instant::now() < end {
        fleet.pump(Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())))?;
        let p = fleet.progress();
        if p.closed > 0 {
            return Err(format!("the server closed {} connections mid-run", p.closed));
        }
        ticker.show(|| {
            let rate = (p.msgs - last.1) as f64 / last.0.elapsed().as_secs_f64();
            last = (Instant::now(), p.msgs);
            format!(
                "{}: {:.0} {what}/s, {:.0} s left",
                opts.scenario.name(),
                rate,
                end.saturating_duration_since(Instant::now()).as_secs_f64()
            )
        });
    }
    let window = span.end(opts, fleet.cpu_ns());
    let procs = fleet.len() as u64;
    let totals = fleet.stop()?;
    ticker.done();

    let rate = totals.msgs as f64 / window.wall.as_secs_f64();
    let mut report = run::head(opts);
    report.extend([
        ("load_procs", int(procs)),
        ("conns", int(opts.conns as u64)),
        ("inflight", int(opts.inflight as u64)),
        ("size", int(opts.size as u64)),
        (if opts.scenario == Scenario::Echo { "echoes" } else { "requests" }, int(totals.msgs)),
        ("per_second", num(rate)),
        ("bytes_in", int(totals.bytes_in)),
        ("bytes_out", int(totals.bytes_out)),
        ("latency", run::latency(&totals.hist)),
        ("window", window.report(totals.msgs)),
        ("errors", arr(totals.notes.iter().map(|n| s(n)).collect())),
    ]);
    let report = obj(report);
    if !opts.quiet {
        println!(
            "{} {}: {} conns × {} in flight, {} B: {:.0} {what}/s",
            opts.scenario.name(),
            opts.name,
            opts.conns,
            opts.inflight,
            opts.size,
            rate
        );
        println!("  latency {}", run::latency_line(&totals.hist));
        if let Some(ns) = window.server_ns_per(totals.msgs) {
            println!(
                "  server CPU {ns:.0} ns per {}",
                if opts.scenario == Scenario::Echo { "echo" } else { "request" }
            );
        }
        println!("  {}", window.describe());
    }
    let chart = Chart {
        title: format!(
            "{} latency distribution ({} conns × {} in flight)",
            opts.scenario.name(),
            opts.conns,
            opts.inflight
        ),
        x_label: "percentile".into(),
        y_label: "latency (ms)".into(),
        x_scale: XScale::Percentile,
        series: vec![run::distribution_series(&opts.name, &totals.hist)],
    };
    run::write_outputs(opts, &report, Some(chart))?;
    if totals.errors > 0 {
        return Err(format!("{} errors: {}", totals.errors, totals.notes.join("; ")));
    }
    if totals.msgs == 0 {
        return Err(format!("no {what} came back"));
    }
    Ok(())
}
