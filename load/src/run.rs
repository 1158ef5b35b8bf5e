//! What every scenario shares: progress lines, the server's /proc figures,
//! the load generator's own CPU, and the head of every report.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::procfs;
use crate::report::{int, num, obj, s, Value};

/// Prints a progress line about once a second on stderr (rewritten in place
/// on a terminal), so a long run is never silent.
pub struct Ticker {
    quiet: bool,
    tty: bool,
    last: Option<Instant>,
    dirty: bool,
}

impl Ticker {
    pub fn new(opts: &Options) -> Ticker {
        Ticker { quiet: opts.quiet, tty: std::io::stderr().is_terminal(), last: None, dirty: false }
    }

    /// Shows `text` unless a line went out less than a second ago.
    pub fn show(&mut self, text: impl FnOnce() -> String) {
        if self.quiet || self.last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        self.last = Some(Instant::now());
        self.print(&text());
    }

    /// Shows `text` now: a phase change.
    pub fn say(&mut self, text: &str) {
        if !self.quiet {
            self.print(text);
            self.done();
        }
    }

    fn print(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r\x1b[K{text}") } else { writeln!(err, "{text}") };
        self.dirty = self.tty;
    }

    /// Ends a rewritten line before something else is printed.
    pub fn done(&mut self) {
        if self.dirty {
            eprintln!();
            self.dirty = false;
        }
    }
}

/// The server's CPU time (its process and children), when a PID was given.
pub fn server_cpu(opts: &Options) -> Option<u64> {
    opts.server_pid.and_then(|pid| procfs::tree_cpu_ns(pid).ok())
}

pub fn server_rss(opts: &Options) -> Option<u64> {
    opts.server_pid.and_then(|pid| procfs::tree_rss_bytes(pid).ok())
}

pub fn server_anon(opts: &Options) -> Option<u64> {
    opts.server_pid.and_then(|pid| procfs::tree_anon_bytes(pid).ok())
}

/// The server's highest VmRSS and RssAnon seen while a scenario samples
/// them (every few ms at most: reading /proc/PID/status costs ~20 µs), and
/// what they were at the start.
#[derive(Clone, Copy, Debug)]
pub struct RssPeak {
    pid: Option<u32>,
    pub rss_start: Option<u64>,
    pub anon_start: Option<u64>,
    pub rss: u64,
    pub anon: u64,
    last: Option<Instant>,
}

impl RssPeak {
    const EVERY: Duration = Duration::from_millis(5);

    pub fn start(opts: &Options) -> RssPeak {
        let pid = opts.server_pid;
        let rss_start = pid.and_then(|p| procfs::rss_bytes(p).ok());
        let anon_start = pid.and_then(|p| procfs::anon_bytes(p).ok());
        RssPeak {
            pid,
            rss_start,
            anon_start,
            rss: rss_start.unwrap_or(0),
            anon: anon_start.unwrap_or(0),
            last: Some(Instant::now()),
        }
    }

    pub fn sample(&mut self) {
        let Some(pid) = self.pid else { return };
        if self.last.is_some_and(|t| t.elapsed() < Self::EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        self.rss = self.rss.max(procfs::rss_bytes(pid).unwrap_or(0));
        self.anon = self.anon.max(procfs::anon_bytes(pid).unwrap_or(0));
    }

    /// Report members: start and peak of both, and the kernel's own high
    /// water mark (VmHWM, over the server's whole life).
    pub fn report(&self) -> Vec<(&'static str, Value)> {
        let opt = |v: Option<u64>| v.map_or(Value::Null, int);
        let peak = |v: u64| self.pid.map_or(Value::Null, |_| int(v));
        vec![
            ("server_rss_start", opt(self.rss_start)),
            ("server_rss_peak", peak(self.rss)),
            ("server_anon_start", opt(self.anon_start)),
            ("server_anon_peak", peak(self.anon)),
            ("server_hwm", opt(self.pid.and_then(|p| procfs::hwm_bytes(p).ok()))),
        ]
    }

    /// "RSS 12.0 → peak 1040.2 MiB (RssAnon 3.1 → 1031.0 MiB)"
    pub fn describe(&self) -> String {
        let mib = |v: u64| v as f64 / 1048576.0;
        match (self.rss_start, self.anon_start) {
            (Some(r), Some(a)) => format!(
                "server VmRSS {:.1} MiB → peak {:.1} MiB (RssAnon {:.1} → {:.1} MiB)",
                mib(r),
                mib(self.rss),
                mib(a),
                mib(self.anon)
            ),
            _ => "server RSS not read (no --server-pid)".into(),
        }
    }
}

/// A CPU interval: readings at the start and the end of a measured window.
#[derive(Clone, Debug)]
pub struct Span {
    pub server: Option<u64>,
    /// CPU time of each load-generator process (see `Fleet::cpu_ns`).
    pub load: Vec<u64>,
    pub at: Instant,
}

impl Span {
    pub fn start(opts: &Options, load: Vec<u64>) -> Span {
        Span { server: server_cpu(opts), load, at: Instant::now() }
    }

    /// The window's length and CPU use.
    pub fn end(&self, opts: &Options, load: Vec<u64>) -> Window {
        let wall = self.at.elapsed();
        let server = match (self.server, server_cpu(opts)) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let deltas: Vec<u64> = load.iter().zip(&self.load).map(|(b, a)| b.saturating_sub(*a)).collect();
        let wall_ns = wall.as_nanos().max(1) as f64;
        let busiest = deltas.iter().map(|&d| d as f64 / wall_ns).fold(0.0, f64::max);
        Window { wall, server_ns: server, load_ns: deltas.iter().sum(), load_busiest: busiest }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub wall: Duration,
    pub server_ns: Option<u64>,
    pub load_ns: u64,
    /// The busiest load-generator process's share of one core: each is one
    /// thread, so one at 100 % is a bottleneck whatever the others do.
    pub load_busiest: f64,
}

impl Window {
    /// Fraction of the cores the load generator may use that it did use.
    pub fn load_share(&self) -> f64 {
        self.load_ns as f64 / self.wall.as_nanos().max(1) as f64 / procfs::allowed_cpus() as f64
    }

    /// A load generator above 90 % of its cores, or with one process above
    /// 90 % of a core, was the bottleneck: the rate it measured is its own,
    /// and only the server's CPU per unit still describes the server.
    pub fn saturated(&self) -> bool {
        self.load_share() >= 0.9 || self.load_busiest >= 0.9
    }

    /// Server CPU per unit of work, in ns.
    pub fn server_ns_per(&self, units: u64) -> Option<f64> {
        self.server_ns.filter(|_| units > 0).map(|ns| ns as f64 / units as f64)
    }

    pub fn report(&self, units: u64) -> Value {
        let mut members = vec![
            ("seconds", num(self.wall.as_secs_f64())),
            ("load_cpu_ns", int(self.load_ns)),
            ("load_cpu_share", num(self.load_share())),
            ("load_cpus", int(procfs::allowed_cpus() as u64)),
            ("load_busiest_process_share", num(self.load_busiest)),
            ("load_saturated", Value::Bool(self.saturated())),
        ];
        if let Some(ns) = self.server_ns {
            members.push(("server_cpu_ns", int(ns)));
            members.push(("server_cpu_share", num(ns as f64 / self.wall.as_nanos().max(1) as f64)));
        }
        if let Some(per) = self.server_ns_per(units) {
            members.push(("server_ns_per_unit", num(per)));
        }
        obj(members)
    }

    /// "load 87% of 1 cpu (saturated)" for the summary.
    pub fn describe(&self) -> String {
        let cpus = procfs::allowed_cpus();
        let sat = if self.saturated() {
            " — SATURATED: the rate is the load generator's, not the server's"
        } else {
            ""
        };
        format!(
            "load generator {:.0}% of {cpus} cpu{}{sat}",
            self.load_share() * 100.0,
            if cpus == 1 { "" } else { "s" }
        )
    }
}

/// The head of every report: what ran, against what, where, when.
pub fn head(opts: &Options) -> Vec<(&'static str, Value)> {
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    vec![
        ("tool", s(concat!("pushwire-load ", env!("CARGO_PKG_VERSION")))),
        ("scenario", s(opts.scenario.name())),
        ("server", s(&opts.name)),
        ("target", s(&opts.target.to_string())),
        ("server_pid", opts.server_pid.map_or(Value::Null, |p| int(u64::from(p)))),
        ("unix_time", int(unix)),
        ("load_cpus", int(procfs::allowed_cpus() as u64)),
    ]
}

/// Latency percentiles in µs, from a histogram in ns.
pub fn latency(h: &crate::hist::Hist) -> Value {
    let us = |ns: u64| num(ns as f64 / 1000.0);
    obj(vec![
        ("count", int(h.count())),
        ("min_us", us(h.min())),
        ("p50_us", us(h.percentile(50.0))),
        ("p90_us", us(h.percentile(90.0))),
        ("p99_us", us(h.percentile(99.0))),
        ("p999_us", us(h.percentile(99.9))),
        ("max_us", us(h.max())),
        ("mean_us", num(h.mean() / 1000.0)),
        (
            "distribution",
            crate::report::arr(
                h.distribution()
                    .into_iter()
                    .map(|(p, ns)| crate::report::arr(vec![num(p), num(ns as f64 / 1000.0)]))
                    .collect(),
            ),
        ),
    ])
}

/// A latency distribution as a plot series: (percentile, ms).
pub fn distribution_series(name: &str, h: &crate::hist::Hist) -> crate::svg::Series {
    crate::svg::Series {
        name: name.to_string(),
        points: h.distribution().into_iter().map(|(p, ns)| (p, ns as f64 / 1e6)).collect(),
    }
}

/// "p50 0.21 ms · p99 1.53 ms · max 4.0 ms"
/// The probes' latency distribution during the event under test beside the
/// one before it (the `stall` and `teardown` plots).
pub fn during_and_before_chart(
    title: String,
    name: &str,
    during: &crate::hist::Hist,
    before: &crate::hist::Hist,
) -> crate::svg::Chart {
    crate::svg::Chart {
        title,
        x_label: "percentile".into(),
        y_label: "latency (ms)".into(),
        x_scale: crate::svg::XScale::Percentile,
        series: vec![
            distribution_series(name, during),
            distribution_series(&format!("{name} (before)"), before),
        ],
    }
}

pub fn latency_line(h: &crate::hist::Hist) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
    format!(
        "p50 {:.3} ms · p99 {:.3} ms · p99.9 {:.3} ms · max {:.3} ms",
        ms(h.percentile(50.0)),
        ms(h.percentile(99.0)),
        ms(h.percentile(99.9)),
        ms(h.max())
    )
}

/// Writes the report and the plot the user asked for.
pub fn write_outputs(opts: &Options, report: &Value, chart: Option<crate::svg::Chart>) -> Result<(), String> {
    if let Some(path) = &opts.json {
        std::fs::write(path, crate::report::to_pretty(report))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let (Some(path), Some(chart)) = (&opts.svg, chart) {
        std::fs::write(path, chart.render()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// One message of the capacity broadcast or the fan-out, POSTed to
/// the first of `--topics` (/topics/bench) on a fresh connection; the status code.
pub fn post_once(opts: &Options, body: &[u8]) -> Result<u16, String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(opts.target)
        .map_err(|e| format!("POST: connect {}: {e}", opts.target))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut req = Vec::new();
    pushwire_proto::http::client::request(
        "POST",
        &opts.host,
        &opts.pub_path(),
        &[("Content-Type", "text/plain")],
        body,
        &mut req,
    );
    stream.write_all(&req).map_err(|e| format!("POST: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head) =
            pushwire_proto::http::client::parse_head(&buf, false).map_err(|e| format!("POST answer: {e}"))?
        {
            // RFC 9110 §15.2: interim answers come before the real one.
            if head.is_interim() {
                buf.drain(..head.len);
                continue;
            }
            return Ok(head.status);
        }
        let n = stream.read(&mut chunk).map_err(|e| format!("POST answer: {e}"))?;
        if n == 0 {
            return Err("POST: the server closed without answering".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `GET path` on a fresh connection that the server closes after its
/// answer (`Connection: close`): the status and the body.
pub fn get_once(opts: &Options, path: &str) -> Result<(u16, Vec<u8>), String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(opts.target)
        .map_err(|e| format!("GET {path}: connect {}: {e}", opts.target))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut req = Vec::new();
    pushwire_proto::http::client::request("GET", &opts.host, path, &[("Connection", "close")], b"", &mut req);
    stream.write_all(&req).map_err(|e| format!("GET {path}: {e}"))?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).map_err(|e| format!("GET {path}: {e}"))?;
    let head = pushwire_proto::http::client::parse_head(&buf, false)
        .map_err(|e| format!("GET {path} answer: {e}"))?
        .ok_or(format!("GET {path}: the server closed before a whole answer head"))?;
    Ok((head.status, buf[head.len..].to_vec()))
}

/// The server's `/stats`, parsed.
pub fn stats(opts: &Options) -> Result<Value, String> {
    let (status, body) = get_once(opts, "/stats")?;
    if status != 200 {
        return Err(format!("GET /stats answered {status}"));
    }
    let text = String::from_utf8(body).map_err(|_| "GET /stats: not UTF-8".to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("GET /stats: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(load_ns: u64, busiest: f64) -> Window {
        Window { wall: Duration::from_secs(1), server_ns: Some(500_000_000), load_ns, load_busiest: busiest }
    }

    #[test]
    fn one_busy_process_is_a_bottleneck_however_many_cores_there_are() {
        let cpus = procfs::allowed_cpus() as u64;
        assert!(!window(100_000_000, 0.1).saturated());
        assert!(window(950_000_000, 0.95).saturated(), "one process at 95 % of its core");
        assert!(window(cpus * 950_000_000, 0.5).saturated(), "all cores at 95 %");
        assert_eq!(window(0, 0.0).server_ns_per(1000), Some(500_000.0));
        assert_eq!(window(0, 0.0).server_ns_per(0), None);
    }
}
