//! Command line (clap, derived): the scenario, its knobs, and a `--help`
//! that says what each figure means.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, ValueEnum};

/// What `--help` says after the options.
const AFTER_HELP: &str = "\
The load generator reports its own CPU use: a figure measured while it was
saturated (\"load: saturated\") measures the load generator, not the server.
Pin the server and the load to different cores (taskset) for steady figures.";

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Scenario {
    /// hold --conns idle WebSocket or SSE subscribers of /topics/bench; server
    /// RSS per connection (/proc/PID/status), kernel socket memory
    /// (/proc/net/sockstat, /proc/meminfo) apart; then one broadcast must
    /// reach every connection
    Capacity,
    /// --conns WebSockets on /ws/echo, each with --inflight messages out;
    /// messages/s, latency percentiles, every byte compared
    Echo,
    /// --subs subscribers of /topics/bench, POST /topics/bench at --rate (0:
    /// as fast as the server accepts); deliveries/s, loss, order, end-to-end
    /// latency percentiles
    Fanout,
    /// --conns keep-alive connections, GET /plaintext one at a time;
    /// requests/s, latency percentiles
    Plaintext,
    /// does a large fan-out stall other clients? --subs subscribers of
    /// /topics/bench (SSE unless --proto), --probes keep-alive connections
    /// asking GET /plaintext every --probe-every ms; then --publishes messages
    /// of --size (default 1 MiB), each once the one before has reached every
    /// subscriber. /plaintext latency percentiles during the fan-outs, each
    /// fan-out's completion time, loss and order; the server's peak RSS
    /// during them
    Stall,
    /// how long do many subscribers take to leave? --subs subscribers of
    /// --topics (SSE unless --proto), --probes paced /plaintext connections;
    /// then every subscriber's process exits at once (its sockets close
    /// together): the time until /stats counts them gone, and /plaintext
    /// latency meanwhile
    Teardown,
    /// history with a ceiling? --publishes POSTs of --size bytes on one
    /// keep-alive connection, round robin over --spread topics (flood-0 ..);
    /// the server's VmRSS and RssAnon before and after, and /stats topics and
    /// limits.history_bytes after
    Flood,
    /// bytes on the wire per update: polling, long-polling, SSE, WebSocket
    Bytes,
    /// draw several reports (JSON) in one SVG: capacity reports as server
    /// memory against connections, the others as latency distributions
    Plot,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Capacity => "capacity",
            Scenario::Echo => "echo",
            Scenario::Fanout => "fanout",
            Scenario::Plaintext => "plaintext",
            Scenario::Stall => "stall",
            Scenario::Teardown => "teardown",
            Scenario::Flood => "flood",
            Scenario::Bytes => "bytes",
            Scenario::Plot => "plot",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Proto {
    Ws,
    Sse,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Ws => "ws",
            Proto::Sse => "sse",
        }
    }
}

/// flood's bodies.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum BodyKind {
    /// the payload
    Text,
    /// --size line feeds (the body SSE encodes at 7x its size)
    Lf,
}

/// The flags as typed; [`parse`] turns them into [`Options`], with the
/// defaults that depend on the scenario.
#[derive(Parser, Debug)]
#[command(
    name = "pushwire-load",
    version,
    about = "pushwire-load: drive a server that speaks the bench protocol and measure it",
    override_usage = "pushwire-load SCENARIO [options]\n       pushwire-load plot --svg FILE REPORT.json...",
    after_help = AFTER_HELP,
    after_long_help = AFTER_HELP,
    max_term_width = 100,
    // A flag given twice takes its last value: the coordinator hands its
    // workers the user's arguments with its own appended.
    args_override_self = true
)]
struct Cli {
    /// what to measure
    #[arg(value_enum, value_name = "SCENARIO")]
    scenario: Scenario,
    /// plot: the reports (JSON) to draw
    #[arg(value_name = "REPORT.json")]
    inputs: Vec<PathBuf>,
    /// the server
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    target: String,
    /// the server's process: its CPU time and RSS (with its child processes)
    /// are read from /proc; without it the server figures are left out
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// the server's name in reports and plots [default: the target]
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// capacity and fanout: subscriber protocol [default: ws; stall and
    /// teardown: sse]
    #[arg(long, value_enum, value_name = "ws|sse")]
    proto: Option<Proto>,
    /// the topics subscribers subscribe to, one stream each (/topics/A,B: a
    /// multi-topic stream); publishes go to the first. Several topics need
    /// --proto sse where messages are checked (capacity, fanout, stall):
    /// multi-topic WebSocket frames are JSON
    #[arg(long, value_name = "A,B,...", default_value = "bench", value_parser = topic_list)]
    topics: Topics,
    /// connections: capacity (10000), echo (100), plaintext (64)
    #[arg(long, value_name = "N", value_parser = positive)]
    conns: Option<usize>,
    /// subscribers: fanout (1000), stall (2000), teardown (16000)
    #[arg(long, value_name = "N", value_parser = positive)]
    subs: Option<usize>,
    /// echo: messages in flight per connection
    #[arg(long, value_name = "N", default_value = "1", value_parser = positive)]
    inflight: usize,
    /// message size, at least 34 (64; stall and flood: 1048576)
    #[arg(long, value_name = "BYTES")]
    size: Option<usize>,
    /// measured time for echo, fanout, plaintext (a number, `s` optional)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    duration: Duration,
    /// unmeasured time before it
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = seconds)]
    warmup: Duration,
    /// fanout publishes per second; 0 = as fast as accepted
    #[arg(long, value_name = "N", default_value = "0", value_parser = rate, allow_negative_numbers = true)]
    rate: f64,
    /// fanout: publish requests in flight at --rate 0
    #[arg(long, value_name = "N", default_value = "16", value_parser = positive)]
    pipeline: usize,
    /// fanout at --rate 0: publishes not yet delivered to every subscriber, at
    /// most; keeps a slower load generator from turning into loss
    #[arg(long, value_name = "N", default_value = "256", value_parser = positive)]
    window: usize,
    /// stall: messages to publish, one fan-out at a time (3); flood: POSTs
    /// (1500)
    #[arg(long, value_name = "N", value_parser = positive)]
    publishes: Option<usize>,
    /// flood: topics the publishes go to, round robin
    #[arg(long, value_name = "N", default_value = "1", value_parser = positive)]
    spread: usize,
    /// flood: the payload, or --size line feeds (the body SSE encodes at 7x
    /// its size)
    #[arg(long, value_enum, value_name = "text|lf", default_value = "text")]
    body: BodyKind,
    /// stall: /plaintext connections measuring meanwhile
    #[arg(long, value_name = "N", default_value = "4", value_parser = positive)]
    probes: usize,
    /// plaintext and stall: each connection sends its next request this long
    /// after the last one was due (stall: 5), and latency counts from when it
    /// was due, so a stall also counts for the requests it held back (wrk2's
    /// correction for coordinated omission); without it (plaintext), the next
    /// request goes as soon as the answer is in
    #[arg(long, value_name = "MS", value_parser = milliseconds)]
    probe_every: Option<Duration>,
    /// stall, teardown: run the /plaintext probes on core N (taskset), e.g.
    /// the server's, so that the load's own work (thousands of sockets closing
    /// in one exit) cannot delay them; they then take a little of that core
    #[arg(long, value_name = "N")]
    probe_cpu: Option<usize>,
    /// bytes: updates to publish
    #[arg(long, value_name = "N", default_value = "20", value_parser = positive)]
    updates: usize,
    /// bytes: time between updates; polling polls 4x as often
    #[arg(long, value_name = "MS", default_value = "500", value_parser = positive)]
    interval: usize,
    /// worker processes [default: one per 15000 connections; a process may
    /// hold at most 20000 open files here]
    #[arg(long, value_name = "N", value_parser = positive)]
    procs: Option<usize>,
    /// spread connections over 127.0.0.1 .. 127.0.0.N; the server must listen
    /// on 0.0.0.0
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u8).range(1..=254))]
    addrs: u8,
    /// capacity: keep the connections open this long
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = seconds)]
    hold: Duration,
    /// write the report as JSON
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// write a plot: memory against connections (capacity), latency
    /// distribution (echo, fanout, plaintext)
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// no progress lines
    #[arg(short, long)]
    quiet: bool,
}

/// A list of topic names (a type of its own, so that clap takes the whole
/// list as one value rather than one value per flag).
#[derive(Clone, Debug)]
struct Topics(Vec<String>);

#[derive(Clone, Debug)]
pub struct Options {
    pub scenario: Scenario,
    pub target: SocketAddr,
    /// The host as the user wrote it, for `Host:` headers.
    pub host: String,
    pub server_pid: Option<u32>,
    pub name: String,
    pub proto: Proto,
    /// Subscribers' topics (one stream for all of them); publishes go to
    /// the first.
    pub topics: Vec<String>,
    pub conns: usize,
    pub inflight: usize,
    pub size: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub rate: f64,
    pub pipeline: usize,
    pub window: u64,
    pub updates: usize,
    pub interval: Duration,
    /// stall: messages published, one fan-out after another.
    pub publishes: usize,
    /// stall: /plaintext connections measuring while the fan-outs run.
    pub probes: usize,
    /// stall, teardown: the core the probes are pinned to.
    pub probe_cpu: Option<usize>,
    /// flood: topics the publishes go to, round robin.
    pub spread: usize,
    /// flood: bodies of line feeds instead of the payload.
    pub lf_body: bool,
    /// plaintext: the pace of each connection's requests (see `--probe-every`).
    pub probe_every: Option<Duration>,
    pub procs: Option<usize>,
    pub addrs: u8,
    pub hold: Duration,
    pub json: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    pub quiet: bool,
    /// `plot`: the reports to draw.
    pub inputs: Vec<PathBuf>,
}

/// Parses the arguments after the program's name. `Err` is clap's: it
/// prints itself (help and version on stdout with status 0, mistakes on
/// stderr with status 2) through [`clap::Error::exit`].
pub fn parse(args: &[String]) -> Result<Options, clap::Error> {
    let program = std::iter::once("pushwire-load".to_string());
    let cli = Cli::try_parse_from(program.chain(args.iter().cloned()))?;
    let invalid = |msg: String| Cli::command().error(ErrorKind::ValueValidation, msg);
    options(cli).map_err(invalid)
}

/// The options for the scenario: its defaults, and the rules across flags.
fn options(cli: Cli) -> Result<Options, String> {
    let scenario = cli.scenario;
    let mut o = Options {
        scenario,
        target: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
        host: String::new(),
        server_pid: cli.server_pid,
        name: cli.name.unwrap_or_default(),
        proto: Proto::Ws,
        topics: cli.topics.0,
        conns: 0,
        inflight: cli.inflight,
        size: 64,
        duration: cli.duration,
        warmup: cli.warmup,
        rate: cli.rate,
        pipeline: cli.pipeline,
        window: cli.window as u64,
        updates: cli.updates,
        interval: Duration::from_millis(cli.interval as u64),
        publishes: 3,
        probes: cli.probes,
        probe_cpu: cli.probe_cpu,
        spread: cli.spread,
        lf_body: cli.body == BodyKind::Lf,
        probe_every: None,
        procs: cli.procs,
        addrs: cli.addrs,
        hold: cli.hold,
        json: cli.json,
        svg: cli.svg,
        quiet: cli.quiet,
        inputs: cli.inputs,
    };
    if scenario == Scenario::Plot {
        if o.inputs.is_empty() || o.svg.is_none() {
            return Err("plot needs --svg FILE and at least one report".into());
        }
        return Ok(o);
    }
    if let Some(input) = o.inputs.first() {
        return Err(format!("unexpected argument '{}': only plot reads reports", input.display()));
    }
    // A stall is the case by default: 1 MiB to 2,000 SSE streams.
    let stall = scenario == Scenario::Stall;
    let sse_default = stall || scenario == Scenario::Teardown;
    o.proto = cli.proto.unwrap_or(if sse_default { Proto::Sse } else { Proto::Ws });
    // A flood is the case by default: 1,500 × 1 MiB to one topic.
    let large = stall || scenario == Scenario::Flood;
    o.size = cli.size.unwrap_or(if large { 1 << 20 } else { 64 });
    o.publishes = cli.publishes.unwrap_or(if scenario == Scenario::Flood { 1500 } else { 3 });
    let checks_messages = matches!(scenario, Scenario::Capacity | Scenario::Fanout | Scenario::Stall);
    if checks_messages && o.proto == Proto::Ws && o.topics.len() > 1 {
        return Err("several --topics need --proto sse here: multi-topic WebSocket frames are JSON".into());
    }
    o.probe_every = cli.probe_every.or(stall.then_some(Duration::from_millis(5)));
    let (conns, subs) = (cli.conns, cli.subs);
    o.conns = match scenario {
        Scenario::Fanout => subs.or(conns).unwrap_or(1000),
        Scenario::Stall => subs.or(conns).unwrap_or(2000),
        Scenario::Teardown => subs.or(conns).unwrap_or(16_000),
        Scenario::Flood => 1,
        Scenario::Capacity => conns.unwrap_or(10_000),
        Scenario::Echo => conns.unwrap_or(100),
        Scenario::Plaintext => conns.unwrap_or(64),
        Scenario::Bytes | Scenario::Plot => 1,
    };
    if o.size < crate::payload::MIN_SIZE && !o.lf_body {
        return Err(format!(
            "--size must be at least {} bytes (a sequence number and a time)",
            crate::payload::MIN_SIZE
        ));
    }
    o.target = resolve(&cli.target)?;
    o.host = cli.target.clone();
    if o.name.is_empty() {
        o.name = cli.target;
    }
    if o.addrs > 1 && !o.target.ip().is_loopback() && !o.target.ip().is_unspecified() {
        return Err("--addrs spreads over 127.0.0.x: the target must be a loopback address".into());
    }
    Ok(o)
}

impl Options {
    /// The subscribers' path: `/topics/bench`, or `/topics/a,b` for several.
    pub fn sub_path(&self) -> String {
        format!("/topics/{}", self.topics.join(","))
    }

    /// Where publishes go: the first of the subscribers' topics.
    pub fn pub_path(&self) -> String {
        format!("/topics/{}", self.topics[0])
    }

    /// The i-th destination: 127.0.0.(1 + i mod --addrs) when spreading,
    /// else the target itself. Each address is a fresh space of 4-tuples, so
    /// ~28,000 ephemeral ports per address stop being the ceiling.
    pub fn destination(&self, i: usize) -> SocketAddr {
        if self.addrs <= 1 {
            return self.target;
        }
        let last = 1 + (i % usize::from(self.addrs)) as u8;
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), self.target.port())
    }
}

/// `a,b,c`: topic names as the bench protocol allows them
/// (`[A-Za-z0-9_.-]{1,64}`), at most 16 (pushwire's multi-topic limit).
fn topic_list(v: &str) -> Result<Topics, String> {
    let names: Vec<String> = v.split(',').map(String::from).collect();
    let good = |n: &String| {
        (1..=64).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    };
    if names.len() > 16 || !names.iter().all(good) {
        return Err(format!("'{v}' is not 1 to 16 topic names ([A-Za-z0-9_.-]{{1,64}}) split by commas"));
    }
    Ok(Topics(names))
}

fn resolve(target: &str) -> Result<SocketAddr, String> {
    let mut addrs = target.to_socket_addrs().map_err(|e| format!("--target '{target}': {e}"))?;
    let addr = addrs.next().ok_or(format!("--target '{target}' resolves to nothing"))?;
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        // Load goes to loopback only: this tool is for measuring a server on
        // this machine, not for pointing at someone else's.
        return Err(format!("--target {addr} is not a loopback address"));
    }
    Ok(addr)
}

fn positive(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{v}' is not a number")),
    }
}

/// A number of seconds, `s` optional: `10`, `2.5s`.
fn seconds(v: &str) -> Result<Duration, String> {
    let s = v.strip_suffix('s').unwrap_or(v);
    s.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e6)
        .map(Duration::from_secs_f64)
        .ok_or(format!("'{v}' is not a number of seconds"))
}

/// A number of milliseconds above 0, fractions allowed: `0.5`.
fn milliseconds(v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|ms| ms.is_finite() && *ms > 0.0 && *ms < 1e6)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .ok_or(format!("'{v}' is not a number of ms above 0"))
}

fn rate(v: &str) -> Result<f64, String> {
    v.parse::<f64>().ok().filter(|r| r.is_finite() && *r >= 0.0).ok_or(format!("'{v}' is not a rate ≥ 0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_per_scenario() {
        assert_eq!(run(&["capacity"]).unwrap().conns, 10_000);
        assert_eq!(run(&["echo"]).unwrap().conns, 100);
        assert_eq!(run(&["fanout"]).unwrap().conns, 1000);
        assert_eq!(run(&["fanout", "--subs", "7"]).unwrap().conns, 7);
        assert_eq!(run(&["plaintext"]).unwrap().conns, 64);
        assert_eq!(run(&["plaintext"]).unwrap().probe_every, None);
        let o = run(&["stall"]).unwrap();
        assert_eq!((o.conns, o.proto, o.size, o.publishes, o.probes), (2000, Proto::Sse, 1 << 20, 3, 4));
        assert_eq!(o.probe_every, Some(Duration::from_millis(5)));
        let o = run(&["stall", "--proto", "ws", "--size", "4096", "--probe-every", "0.5"]).unwrap();
        assert_eq!((o.proto, o.size, o.probe_every), (Proto::Ws, 4096, Some(Duration::from_micros(500))));
        let o = run(&["stall", "--topics", "a,b"]).unwrap();
        assert_eq!((o.sub_path(), o.pub_path()), ("/topics/a,b".into(), "/topics/a".into()));
        assert_eq!(run(&["fanout"]).unwrap().sub_path(), "/topics/bench");
        let o = run(&["teardown", "--proto", "ws", "--topics", "t0,t1"]).unwrap();
        assert_eq!((o.conns, o.proto, o.topics.len()), (16_000, Proto::Ws, 2));
        let o = run(&["flood"]).unwrap();
        assert_eq!((o.publishes, o.size, o.spread, o.lf_body), (1500, 1 << 20, 1, false));
        let o = run(&["flood", "--publishes", "9", "--size", "1", "--body", "lf", "--spread", "9"]).unwrap();
        assert_eq!((o.publishes, o.size, o.spread, o.lf_body), (9, 1, 9, true));
        let o = run(&["echo", "--target=127.0.0.1:9", "--inflight", "16", "--duration", "2.5s"]).unwrap();
        assert_eq!((o.target.port(), o.inflight, o.duration), (9, 16, Duration::from_millis(2500)));
        assert_eq!(o.name, "127.0.0.1:9");
        assert_eq!(run(&["echo", "--conns", "5", "--conns", "7"]).unwrap().conns, 7);
        let o = run(&["plot", "--svg", "x.svg", "a.json", "b.json"]).unwrap();
        assert_eq!(o.inputs, [PathBuf::from("a.json"), PathBuf::from("b.json")]);
        let o =
            run(&["capacity", "-q", "--addrs", "254", "--hold=1.5", "--body", "lf", "--size", "1"]).unwrap();
        assert_eq!((o.quiet, o.addrs, o.hold, o.lf_body), (true, 254, Duration::from_millis(1500), true));
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        for (args, error) in [
            (&["nope"][..], "invalid value 'nope' for '<SCENARIO>'"),
            (&[], "required arguments were not provided"),
            (&["echo", "--conns", "0"], "'--conns <N>': must be at least 1"),
            (&["echo", "--conns", "x"], "'--conns <N>': 'x' is not a number"),
            (&["echo", "--conns"], "a value is required for '--conns <N>'"),
            (&["echo", "--size", "10"], "--size must be at least 34"),
            (&["echo", "--proto", "tcp"], "[possible values: ws, sse]"),
            (&["echo", "--target", "10.1.2.3:80"], "is not a loopback address"),
            (&["echo", "--bogus"], "unexpected argument '--bogus'"),
            (&["echo", "a.json"], "only plot reads reports"),
            (&["plot", "a.json"], "plot needs --svg"),
            (&["fanout", "--rate", "-1"], "'-1' is not a rate ≥ 0"),
            (&["stall", "--probe-every", "0"], "'0' is not a number of ms above 0"),
            (&["stall", "--publishes", "0"], "'--publishes <N>': must be at least 1"),
            (&["stall", "--proto", "ws", "--topics", "a,b"], "several --topics need --proto sse"),
            (&["stall", "--topics", "a,,b"], "'a,,b' is not 1 to 16 topic names"),
            (&["stall", "--topics", "a/b"], "'a/b' is not 1 to 16 topic names"),
            (&["capacity", "--addrs", "0"], "'--addrs <N>'"),
            (&["flood", "--body", "zeros"], "[possible values: text, lf]"),
            (&["flood", "--size", "10"], "--size must be at least 34"),
        ] {
            let got = run(args).err().unwrap_or_default();
            assert!(got.contains(error), "{args:?}: {got}");
        }
        for help in ["--help", "-h"] {
            let e = parse(&[help.to_string()]).err().map(|e| e.kind());
            assert_eq!(e, Some(ErrorKind::DisplayHelp), "{help}");
        }
    }

    #[test]
    fn help_names_every_scenario_and_flag() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Usage: pushwire-load SCENARIO [options]"), "{help}");
        for scenario in Scenario::value_variants() {
            assert!(help.contains(&format!("{}:", scenario.name())), "{scenario:?} in {help}");
        }
        for flag in [
            "--target",
            "--server-pid",
            "--name",
            "--proto",
            "--topics",
            "--conns",
            "--subs",
            "--inflight",
            "--size",
            "--duration",
            "--warmup",
            "--rate",
            "--pipeline",
            "--window",
            "--publishes",
            "--spread",
            "--body",
            "--probes",
            "--probe-every",
            "--probe-cpu",
            "--updates",
            "--interval",
            "--procs",
            "--addrs",
            "--hold",
            "--json",
            "--svg",
            "--quiet",
            "--help",
        ] {
            assert!(help.contains(flag), "{flag} in {help}");
        }
        assert!(help.contains("load: saturated"));
    }

    #[test]
    fn destinations_spread_over_loopback() {
        let o = run(&["capacity", "--target", "127.0.0.1:80", "--addrs", "3"]).unwrap();
        let got: Vec<String> = (0..4).map(|i| o.destination(i).to_string()).collect();
        assert_eq!(got, ["127.0.0.1:80", "127.0.0.2:80", "127.0.0.3:80", "127.0.0.1:80"]);
    }
}
