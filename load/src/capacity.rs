//! `capacity`: hold N idle subscribers, weigh them in the server's memory,
//! then check that one broadcast still reaches every one.

use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::fleet::Fleet;
use crate::procfs;
use crate::report::{arr, int, num, obj, s, Value};
use crate::run::{self, Span, Ticker};
use crate::svg::{Chart, Series, XScale};

/// Time for the server to finish what the last handshakes started before
/// its memory is read.
const SETTLE: Duration = Duration::from_secs(1);

/// Connections opened and closed before the baseline is read.
const WARMUP_CONNS: usize = 100;

pub fn run(opts: &Options, args: &[String]) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    // A warm-up round first, so that the baseline already holds what the
    // first connection of a kind costs once and for all (the program's code
    // for handshakes paged in, buffers and tables a server builds lazily):
    // what is left for the measured connections is what each one costs.
    warm_up(opts, args)?;
    let rss_before = run::server_rss(opts);
    let anon_before = run::server_anon(opts);
    let kernel_before = procfs::kernel().ok();
    let mut fleet = Fleet::spawn(opts.conns, opts.procs, args)?;
    let span = Span::start(opts, fleet.cpu_ns());
    // Every handshake may wait for a SYN retransmit (1 s, then 3 s...) when
    // the accept backlog overflows; a connection per ms is slow enough for any server.
    let mut curve = vec![(0.0, rss_before.unwrap_or(0) as f64)];
    // A point of the memory curve every 2 % of the connections, however
    // fast they open.
    let step = (opts.conns as u64 / 50).max(1);
    fleet.open_all("connections", |fleet| {
        let p = fleet.progress();
        let last = curve.last().map_or(0.0, |&(c, _)| c) as u64;
        if p.connected >= last + step {
            if let Some(rss) = run::server_rss(opts) {
                curve.push((p.connected as f64, rss as f64));
            }
        }
        ticker.show(|| {
            let rss = run::server_rss(opts)
                .map_or(String::new(), |r| format!(" · server RSS {:.1} MiB", r as f64 / 1048576.0));
            format!(
                "capacity: {}/{} {} connections open, {} failed{rss}",
                p.connected,
                opts.conns,
                opts.proto.name(),
                p.failed
            )
        });
    })?;
    let connect_window = span.end(opts, fleet.cpu_ns());
    std::thread::sleep(SETTLE);
    fleet.pump(Duration::ZERO)?;
    let p = fleet.progress();
    let rss_after = run::server_rss(opts);
    let anon_after = run::server_anon(opts);
    let kernel_after = procfs::kernel().ok();
    if let Some(rss) = rss_after {
        curve.push((p.connected as f64, rss as f64));
    }
    ticker.say(&format!(
        "capacity: {} connections open, {} failed, in {:.1} s",
        p.connected,
        p.failed,
        connect_window.wall.as_secs_f64()
    ));

    // One broadcast must reach every open connection.
    // Timed from before the POST: a server may deliver before or after it
    // answers, and the answer must not decide what is counted. The workers
    // report every 10 ms, which is the resolution of the figure.
    let before = fleet.progress().reached;
    let sent_at = Instant::now();
    let status = run::post_once(opts, b"capacity broadcast")?;
    let wait = Duration::from_secs(10).max(Duration::from_micros(opts.conns as u64 * 100));
    while sent_at.elapsed() < wait {
        fleet.pump(Duration::from_millis(2))?;
        let q = fleet.progress();
        if q.reached - before >= q.connected - q.closed {
            break;
        }
    }
    let reach_time = sent_at.elapsed();
    let hold_until = Instant::now() + opts.hold;
    while Instant::now() < hold_until {
        fleet.pump(Duration::from_millis(200))?;
        let q = fleet.progress();
        ticker.show(|| {
            format!("capacity: holding {} connections ({} closed)", q.connected - q.closed, q.closed)
        });
    }
    let procs = fleet.len() as u64;
    let mut totals = fleet.stop()?;
    ticker.done();
    // Connections that had a message before the broadcast are not its doing.
    totals.reached = totals.reached.saturating_sub(before);

    let open = totals.connected - totals.closed;
    let per_conn = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if totals.connected > 0 => num((b as f64 - a as f64) / totals.connected as f64),
        _ => Value::Null,
    };
    let kernel =
        |f: fn(&procfs::Kernel) -> u64| per_conn(kernel_before.as_ref().map(f), kernel_after.as_ref().map(f));
    let mut report = run::head(opts);
    report.extend([
        ("load_procs", int(procs)),
        ("proto", s(opts.proto.name())),
        ("conns", int(opts.conns as u64)),
        ("connected", int(totals.connected)),
        ("failed", int(totals.failed)),
        ("closed_by_server", int(totals.closed)),
        ("server_rss_before", rss_before.map_or(Value::Null, int)),
        ("server_rss_after", rss_after.map_or(Value::Null, int)),
        ("server_rss_per_conn", per_conn(rss_before, rss_after)),
        ("server_anon_before", anon_before.map_or(Value::Null, int)),
        ("server_anon_after", anon_after.map_or(Value::Null, int)),
        ("server_anon_per_conn", per_conn(anon_before, anon_after)),
        ("warmup_conns", int(WARMUP_CONNS.min(opts.conns) as u64)),
        ("kernel_tcp_mem_per_conn", kernel(|k| k.tcp_mem_bytes)),
        ("kernel_slab_per_conn", kernel(|k| k.slab_bytes)),
        ("kernel_note", s("machine-wide deltas: both ends of every loopback connection, and whatever else the machine did")),
        ("broadcast_status", int(u64::from(status))),
        ("broadcast_reached", int(totals.reached)),
        ("broadcast_open", int(open)),
        ("broadcast_ms", num(reach_time.as_secs_f64() * 1000.0)),
        ("connect", connect_window.report(totals.connected)),
        ("memory_curve", arr(curve.iter().map(|&(c, r)| arr(vec![num(c), num(r)])).collect())),
        ("errors", arr(totals.notes.iter().map(|n| s(n)).collect())),
    ]);
    let report = obj(report);
    if !opts.quiet {
        let line = |k: &str| crate::report::path_num(&report, k).map_or("n/a".into(), |n| format!("{n:.0}"));
        println!(
            "capacity {} {}: {} connected, {} failed",
            opts.name,
            opts.proto.name(),
            totals.connected,
            totals.failed
        );
        println!(
            "  server RSS per connection: {} B (before {} B, after {} B)",
            line("server_rss_per_conn"),
            line("server_rss_before"),
            line("server_rss_after")
        );
        println!(
            "  kernel, per connection (both ends, machine-wide): TCP buffers {} B, slab {} B",
            line("kernel_tcp_mem_per_conn"),
            line("kernel_slab_per_conn")
        );
        println!(
            "  broadcast (HTTP {status}) reached {} of {open} open connections in {:.1} ms",
            totals.reached,
            reach_time.as_secs_f64() * 1000.0
        );
        println!("  {}", connect_window.describe());
    }
    let chart = Chart {
        title: format!("Server memory against idle {} connections", opts.proto.name().to_uppercase()),
        x_label: "connections".into(),
        y_label: "server RSS (MiB)".into(),
        x_scale: XScale::Linear,
        series: vec![Series {
            name: opts.name.clone(),
            points: curve.iter().map(|&(c, r)| (c, r / 1048576.0)).collect(),
        }],
    };
    run::write_outputs(opts, &report, Some(chart))?;
    if totals.reached < open || totals.failed > 0 {
        return Err(format!(
            "{} connections failed, and the broadcast reached {} of {open}",
            totals.failed, totals.reached
        ));
    }
    Ok(())
}

/// Opens and closes a few connections of the measured kind.
fn warm_up(opts: &Options, args: &[String]) -> Result<(), String> {
    let n = WARMUP_CONNS.min(opts.conns);
    let mut args = args.to_vec();
    args.extend(["--conns".to_string(), n.to_string(), "--procs".to_string(), "1".to_string()]);
    let mut fleet = Fleet::spawn(n, Some(1), &args)?;
    fleet.open_all("warm-up connections", |_| {})?;
    fleet.stop()?;
    // Let the server see the closes.
    std::thread::sleep(Duration::from_millis(300));
    Ok(())
}
