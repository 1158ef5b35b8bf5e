//! `fanout`: N subscribers of one topic, one publisher; how many deliveries
//! per second the server makes, whether any is lost or out of order, and how
//! long a message takes from the POST to each subscriber.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::fleet::Fleet;
use crate::publisher::{self, Shared};
use crate::report::{arr, int, num, obj, s};
use crate::run::{self, Span, Ticker};
use crate::svg::{Chart, XScale};

/// How long subscribers get to receive what was published before the end.
const DRAIN: Duration = Duration::from_secs(10);

pub fn run(opts: &Options, args: &[String]) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    let mut fleet = Fleet::spawn(opts.conns, opts.procs, args)?;
    fleet.open_all("subscribers", |fleet| {
        let p = fleet.progress();
        ticker.show(|| format!("fanout: {}/{} subscribers", p.connected, opts.conns));
    })?;
    let subs = fleet.progress().connected;
    if subs < opts.conns as u64 {
        return Err(format!("{} of {} subscribers failed to open", opts.conns as u64 - subs, opts.conns));
    }
    fleet.send("go");
    let shared = Arc::new(Shared::default());
    let publisher = {
        let (opts, shared) = (opts.clone(), Arc::clone(&shared));
        std::thread::spawn(move || publisher::run(&opts, &shared))
    };
    let started = Instant::now();
    let mut measuring: Option<Span> = None;
    let mut last = (Instant::now(), 0u64);
    loop {
        fleet.pump(Duration::from_millis(2))?;
        let p = fleet.progress();
        shared.min_next.store(p.min_next, Ordering::Relaxed);
        if publisher.is_finished() {
            break;
        }
        let elapsed = started.elapsed();
        if measuring.is_none() && elapsed >= opts.warmup {
            fleet.send("measure");
            measuring = Some(Span::start(opts, fleet.cpu_ns()));
        }
        if elapsed >= opts.warmup + opts.duration {
            shared.stop.store(true, Ordering::Relaxed);
        }
        ticker.show(|| {
            let rate = (p.msgs.saturating_sub(last.1)) as f64 / last.0.elapsed().as_secs_f64();
            last = (Instant::now(), p.msgs);
            format!(
                "fanout: {} published, {:.0} deliveries/s, {} subscribers closed",
                shared.accepted.load(Ordering::Relaxed),
                rate,
                p.closed
            )
        });
    }
    let outcome = publisher.join().map_err(|_| "publisher thread panicked")??;
    // Wait until every open subscriber has every message, or DRAIN passes.
    let drain_start = Instant::now();
    while drain_start.elapsed() < DRAIN {
        let p = fleet.progress();
        if p.min_next >= outcome.accepted_end {
            break;
        }
        fleet.pump(Duration::from_millis(2))?;
    }
    let span = measuring.unwrap_or_else(|| Span::start(opts, fleet.cpu_ns()));
    let window = span.end(opts, fleet.cpu_ns());
    let procs = fleet.len() as u64;
    let totals = fleet.stop()?;
    ticker.done();

    // Every open subscriber must have every accepted message: what is
    // missing at the end, plus the gaps on the way, less the gaps that were
    // publishes the server refused (reported apart).
    let expected = outcome.accepted_end.saturating_mul(totals.open);
    let missing = (expected.saturating_sub(totals.next_sum) + totals.gaps)
        .saturating_sub(outcome.refused_below_end.saturating_mul(totals.open));
    let rate = totals.msgs as f64 / window.wall.as_secs_f64();
    let mut report = run::head(opts);
    report.extend([
        ("load_procs", int(procs)),
        ("proto", s(opts.proto.name())),
        ("subscribers", int(subs)),
        ("size", int(opts.size as u64)),
        ("rate", if opts.rate > 0.0 { num(opts.rate) } else { s("as fast as accepted") }),
        ("pipeline", int(opts.pipeline as u64)),
        ("window_publishes", int(opts.window)),
        ("published", int(outcome.published)),
        ("refused", int(shared.refused.load(Ordering::Relaxed))),
        ("deliveries", int(totals.msgs)),
        ("deliveries_per_second", num(rate)),
        ("lost", int(missing)),
        ("out_of_order_or_duplicate", int(totals.dups)),
        ("closed_by_server", int(totals.closed)),
        ("latency", run::latency(&totals.hist)),
        ("window", window.report(totals.msgs)),
        ("errors", arr(totals.notes.iter().chain(outcome.first_refusal.iter()).map(|n| s(n)).collect())),
    ]);
    let report = obj(report);
    if !opts.quiet {
        let pace =
            if opts.rate > 0.0 { format!("{} publishes/s", opts.rate) } else { "as fast as accepted".into() };
        println!(
            "fanout {} {}: {subs} subscribers, {} B, {pace}: {} published, {:.0} deliveries/s",
            opts.name,
            opts.proto.name(),
            opts.size,
            outcome.published,
            rate
        );
        println!(
            "  lost {missing}, out of order or duplicate {}, closed by the server {}",
            totals.dups, totals.closed
        );
        println!("  latency {}", run::latency_line(&totals.hist));
        if let Some(ns) = window.server_ns_per(totals.msgs) {
            println!("  server CPU {ns:.0} ns per delivery");
        }
        println!("  {}", window.describe());
    }
    let chart = Chart {
        title: format!(
            "fan-out latency, publish to {} subscriber ({subs} subscribers)",
            opts.proto.name().to_uppercase()
        ),
        x_label: "percentile".into(),
        y_label: "latency (ms)".into(),
        x_scale: XScale::Percentile,
        series: vec![run::distribution_series(&opts.name, &totals.hist)],
    };
    run::write_outputs(opts, &report, Some(chart))?;
    if let Some(refusal) = outcome.first_refusal {
        return Err(refusal);
    }
    if missing > 0 || totals.dups > 0 || totals.closed > 0 {
        return Err(format!(
            "{missing} deliveries lost, {} out of order, {} subscribers closed",
            totals.dups, totals.closed
        ));
    }
    Ok(())
}
