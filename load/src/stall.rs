//! `stall`: does one large fan-out stall everybody else? `--subs`
//! subscribers of /topics/bench, and `--probes` keep-alive connections
//! asking `GET /plaintext` at a steady pace; then `--publishes` messages of
//! `--size` bytes (by default 1 MiB to 2,000 SSE streams, the case of issue
//! 9), each published once the one before has reached every subscriber.
//! `--topics a,b` makes them multi-topic streams (`/topics/a,b`), published
//! to through `a`. The server's peak VmRSS and RssAnon are sampled meanwhile.
//!
//! The probes are paced, and each answer's latency counts from the time its
//! request was due, not from when it could be sent: a probe that waits 2 s
//! for one answer would otherwise send nothing during the stall and report
//! one slow request among thousands of fast ones (coordinated omission, the
//! mistake wrk2 corrects). Paced, the requests the stall held back count too.

use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::fleet::{Fleet, Totals};
use crate::payload;
use crate::report::{arr, int, num, obj, s, Value};
use crate::run::{self, RssPeak, Span, Ticker};
use crate::worker::unix_ns;

/// How long one fan-out may take before the run gives up on it.
const FANOUT_LIMIT: Duration = Duration::from_secs(60);

/// Probe latency before the first publish: what `/plaintext` costs when
/// nothing else happens, for comparison.
const QUIET: Duration = Duration::from_secs(1);

pub fn run(opts: &Options, args: &[String]) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    let mut subs = Fleet::spawn(opts.conns, opts.procs, args)?;
    subs.open_all("subscribers", |fleet| {
        let p = fleet.progress();
        ticker.show(|| format!("stall: {}/{} subscribers", p.connected, opts.conns));
    })?;
    let open = subs.progress().connected;
    if open < opts.conns as u64 {
        return Err(format!("{} of {} subscribers failed to open", opts.conns as u64 - open, opts.conns));
    }
    let mut probes = Fleet::spawn_on(opts.probes, Some(1), &probe_args(opts), opts.probe_cpu)?;
    probes.open_all("probes", |_| {})?;
    if probes.progress().failed > 0 {
        return Err("a /plaintext probe failed to open".into());
    }
    subs.send("go");
    subs.send("measure");
    probes.send("go");
    probes.send("measure");
    let quiet_end = Instant::now() + QUIET;
    while Instant::now() < quiet_end {
        pump(&mut subs, &mut probes)?;
    }
    let quiet = probes.stop()?;

    // The same probes again, measuring only while the fan-outs run.
    let mut probes = Fleet::spawn_on(opts.probes, Some(1), &probe_args(opts), opts.probe_cpu)?;
    probes.open_all("probes", |_| {})?;
    probes.send("go");
    probes.send("measure");
    let cpu = |subs: &Fleet, probes: &Fleet| {
        let mut all = subs.cpu_ns();
        all.extend(probes.cpu_ns().into_iter().skip(1));
        all
    };
    let span = Span::start(opts, cpu(&subs, &probes));
    let mut peak = RssPeak::start(opts);
    let mut completions = Vec::with_capacity(opts.publishes);
    let mut refusal = None;
    for seq in 0..opts.publishes as u64 {
        let mut body = Vec::with_capacity(opts.size);
        payload::write(seq, unix_ns(), opts.size, &mut body);
        let at = Instant::now();
        let status = run::post_once(opts, &body)?;
        if !(200..300).contains(&status) {
            refusal = Some(format!("POST answered {status}"));
            break;
        }
        // Done when every open subscriber expects the next one.
        loop {
            pump(&mut subs, &mut probes)?;
            peak.sample();
            let p = subs.progress();
            if p.min_next > seq || p.closed > 0 {
                break;
            }
            if at.elapsed() > FANOUT_LIMIT {
                return Err(format!("message {seq} had not reached every subscriber after {FANOUT_LIMIT:?}"));
            }
            ticker.show(|| format!("stall: message {seq} to {open} subscribers"));
        }
        completions.push(at.elapsed());
        if subs.progress().closed > 0 {
            break;
        }
    }
    peak.sample();
    let window = span.end(opts, cpu(&subs, &probes));
    let procs = (subs.len() + probes.len()) as u64;
    let during = probes.stop()?;
    let totals = subs.stop()?;
    ticker.done();

    let published = completions.len() as u64;
    let missing = missing(&totals, published);
    let ms = |d: &Duration| num(d.as_secs_f64() * 1000.0);
    let mut report = run::head(opts);
    report.extend([
        ("load_procs", int(procs)),
        ("proto", s(opts.proto.name())),
        ("path", s(&opts.sub_path())),
        ("publish_path", s(&opts.pub_path())),
        ("subscribers", int(open)),
        ("size", int(opts.size as u64)),
        ("publishes", int(opts.publishes as u64)),
        ("published", int(published)),
        ("probes", int(opts.probes as u64)),
        ("probe_cpu", opts.probe_cpu.map_or(Value::Null, |c| int(c as u64))),
        ("probe_every_ms", num(opts.probe_every.unwrap_or_default().as_secs_f64() * 1000.0)),
        ("fanout_ms", arr(completions.iter().map(ms).collect())),
        ("fanout_max_ms", ms(&completions.iter().max().copied().unwrap_or_default())),
        ("plaintext_quiet", run::latency(&quiet.hist)),
        ("plaintext_during_fanout", run::latency(&during.hist)),
        ("deliveries", int(totals.msgs)),
        ("delivery_latency", run::latency(&totals.hist)),
        ("lost", int(missing)),
        ("out_of_order_or_duplicate", int(totals.dups)),
        ("closed_by_server", int(totals.closed)),
        ("window", window.report(totals.msgs)),
    ]);
    report.extend(peak.report());
    report.extend([(
        "errors",
        arr(totals
            .notes
            .iter()
            .chain(&quiet.notes)
            .chain(&during.notes)
            .chain(refusal.iter())
            .map(|n| s(n))
            .collect()),
    )]);
    let report = obj(report);
    if !opts.quiet {
        println!(
            "stall {} {} {}: {open} subscribers, {} B × {published} to {}, {} probes every {:?}",
            opts.name,
            opts.proto.name(),
            opts.sub_path(),
            opts.size,
            opts.pub_path(),
            opts.probes,
            opts.probe_every.unwrap_or_default()
        );
        println!("  {}", peak.describe());
        let each: Vec<String> =
            completions.iter().map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0)).collect();
        println!("  fan-out completion {}", each.join(", "));
        println!("  /plaintext during the fan-outs {}", run::latency_line(&during.hist));
        println!("  /plaintext before them          {}", run::latency_line(&quiet.hist));
        println!(
            "  lost {missing}, out of order or duplicate {}, closed by the server {}",
            totals.dups, totals.closed
        );
        println!("  {}", window.describe());
    }
    let chart = run::during_and_before_chart(
        format!(
            "/plaintext latency during {published} fan-outs of {} B to {open} {} subscribers",
            opts.size,
            opts.proto.name().to_uppercase()
        ),
        &opts.name,
        &during.hist,
        &quiet.hist,
    );
    run::write_outputs(opts, &report, Some(chart))?;
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let errors = totals.errors + quiet.errors + during.errors;
    if missing > 0 || totals.dups > 0 || totals.closed > 0 || errors > 0 {
        return Err(format!(
            "{missing} deliveries lost, {} out of order, {} subscribers closed, {errors} errors",
            totals.dups, totals.closed
        ));
    }
    Ok(())
}

/// The probes' own run: `plaintext`, paced, at the same server.
pub fn probe_args(opts: &Options) -> Vec<String> {
    let every = opts.probe_every.unwrap_or(Duration::from_millis(5)).as_secs_f64() * 1000.0;
    [
        "plaintext",
        "--target",
        &opts.host,
        "--conns",
        &opts.probes.to_string(),
        "--probe-every",
        &every.to_string(),
    ]
    .map(String::from)
    .into()
}

/// Takes in both fleets' progress lines.
fn pump(subs: &mut Fleet, probes: &mut Fleet) -> Result<(), String> {
    subs.pump(Duration::from_millis(1))?;
    probes.pump(Duration::ZERO)
}

/// Deliveries missing: every open subscriber must have every one of the
/// `published` messages, and a gap on the way is a loss too.
fn missing(totals: &Totals, published: u64) -> u64 {
    published.saturating_mul(totals.open).saturating_sub(totals.next_sum) + totals.gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_counts_what_never_came_and_the_gaps() {
        let t = |next_sum, open, gaps| Totals { next_sum, open, gaps, ..Totals::default() };
        assert_eq!(missing(&t(6, 2, 0), 3), 0, "two subscribers, three messages each");
        assert_eq!(missing(&t(5, 2, 0), 3), 1, "one is a message short");
        assert_eq!(missing(&t(6, 2, 1), 3), 1, "one skipped a message on the way");
        assert_eq!(missing(&t(0, 0, 0), 3), 0, "nobody open: nothing due");
    }

    #[test]
    fn probes_are_a_paced_plaintext_run() {
        let args: Vec<String> = ["stall", "--target", "127.0.0.1:9", "--probes", "3", "--probe-every", "2.5"]
            .map(String::from)
            .into();
        let opts = crate::cli::parse(&args).expect("parse");
        let probe = crate::cli::parse(&probe_args(&opts)).expect("probe");
        assert_eq!(probe.scenario, crate::cli::Scenario::Plaintext);
        assert_eq!((probe.conns, probe.target), (3, opts.target));
        assert_eq!(probe.probe_every, Some(Duration::from_micros(2500)));
    }
}
