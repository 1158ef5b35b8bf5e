//! Command line: the scenario, its knobs, and a `--help` that says what each
//! figure means.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

pub const HELP: &str = "\
pushwire-load: drive a server that speaks the bench protocol and measure it

usage: pushwire-load SCENARIO [options]
       pushwire-load plot --svg FILE REPORT.json...

scenarios:
  capacity   hold --conns idle WebSocket or SSE subscribers of /topics/bench;
             server RSS per connection (/proc/PID/status), kernel socket memory
             (/proc/net/sockstat, /proc/meminfo) apart; then one broadcast must
             reach every connection
  echo       --conns WebSockets on /ws/echo, each with --inflight messages out;
             messages/s, latency percentiles, every byte compared
  fanout     --subs subscribers of /topics/bench, POST /topics/bench at --rate
             (0: as fast as the server accepts); deliveries/s, loss, order,
             end-to-end latency percentiles
  plaintext  --conns keep-alive connections, GET /plaintext one at a time;
             requests/s, latency percentiles
  stall      does a large fan-out stall other clients? --subs subscribers of
             /topics/bench (SSE unless --proto), --probes keep-alive connections
             asking GET /plaintext every --probe-every ms; then --publishes
             messages of --size (default 1 MiB), each once the one before has
             reached every subscriber. /plaintext latency percentiles during
             the fan-outs, each fan-out's completion time, loss and order;
             the server's peak RSS during them
  teardown   how long do many subscribers take to leave? --subs subscribers of
             --topics (SSE unless --proto), --probes paced /plaintext
             connections; then every subscriber's process exits at once
             (its sockets close together): the time until /stats counts them
             gone, and /plaintext latency meanwhile
  flood      history with a ceiling? --publishes POSTs of --size bytes on one
             keep-alive connection, round robin over --spread topics
             (flood-0 ..); the server's VmRSS and RssAnon before and after,
             and /stats topics and limits.history_bytes after
  bytes      bytes on the wire per update: polling, long-polling, SSE, WebSocket
  plot       draw several reports (JSON) in one SVG: capacity reports as server
             memory against connections, the others as latency distributions

options:
  --target HOST:PORT   the server (default 127.0.0.1:8080)
  --server-pid PID     the server's process: its CPU time and RSS (with its child
                       processes) are read from /proc; without it the server
                       figures are left out
  --name NAME          the server's name in reports and plots (default: target)
  --proto ws|sse       capacity and fanout: subscriber protocol (default ws)
  --topics A,B,...     the topics subscribers subscribe to, one stream each
                       (/topics/A,B: a multi-topic stream); publishes go to the
                       first (default bench). Several topics need --proto sse
                       where messages are checked (capacity, fanout, stall):
                       multi-topic WebSocket frames are JSON
  --conns N            capacity (10000), echo (100), plaintext (64)
  --subs N             fanout (1000), stall (2000), teardown (16000) subscribers
  --inflight N         echo: messages in flight per connection (1)
  --size BYTES         message size, at least 34 (64; stall: 1048576)
  --duration SECS      measured time for echo, fanout, plaintext (10)
  --warmup SECS        unmeasured time before it (2)
  --rate N             fanout publishes per second; 0 = as fast as accepted (0)
  --pipeline N         fanout: publish requests in flight at --rate 0 (16)
  --window N           fanout at --rate 0: publishes not yet delivered to every
                       subscriber, at most (256); keeps a slower load generator
                       from turning into loss
  --publishes N        stall: messages to publish, one fan-out at a time (3);
                       flood: POSTs (1500)
  --spread N           flood: topics the publishes go to, round robin (1)
  --body text|lf       flood: the payload (text, default) or --size line feeds
                       (the body SSE encodes at 7x its size)
  --probes N           stall: /plaintext connections measuring meanwhile (4)
  --probe-every MS     plaintext and stall: each connection sends its next
                       request this long after the last one was due (stall: 5),
                       and latency counts from when it was due, so a stall also
                       counts for the requests it held back (wrk2's correction
                       for coordinated omission); without it (plaintext), the
                       next request goes as soon as the answer is in
  --probe-cpu N        stall, teardown: run the /plaintext probes on core N
                       (taskset), e.g. the server's, so that the load's own
                       work (thousands of sockets closing in one exit) cannot
                       delay them; they then take a little of that core
  --updates N          bytes: updates to publish (20)
  --interval MS        bytes: time between updates; polling polls 4x as often (500)
  --procs N            worker processes (default: one per 15000 connections;
                       a process may hold at most 20000 open files here)
  --addrs N            spread connections over 127.0.0.1 .. 127.0.0.N; the server
                       must listen on 0.0.0.0 (default 1)
  --hold SECS          capacity: keep the connections open this long (0)
  --json FILE          write the report as JSON
  --svg FILE           write a plot: memory against connections (capacity),
                       latency distribution (echo, fanout, plaintext)
  -q, --quiet          no progress lines
  -h, --help           this text

The load generator reports its own CPU use: a figure measured while it was
saturated (\"load: saturated\") measures the load generator, not the server.
Pin the server and the load to different cores (taskset) for steady figures.
";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scenario {
    Capacity,
    Echo,
    Fanout,
    Plaintext,
    Stall,
    Teardown,
    Flood,
    Bytes,
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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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

/// What `parse` found: options to run, or a request for help.
pub enum Parsed {
    Run(Box<Options>),
    Help,
}

pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut it = args.iter();
    let first = it.next().ok_or("no scenario given (try --help)")?;
    let scenario = match first.as_str() {
        "-h" | "--help" => return Ok(Parsed::Help),
        "capacity" => Scenario::Capacity,
        "echo" => Scenario::Echo,
        "fanout" => Scenario::Fanout,
        "plaintext" => Scenario::Plaintext,
        "stall" => Scenario::Stall,
        "teardown" => Scenario::Teardown,
        "flood" => Scenario::Flood,
        "bytes" => Scenario::Bytes,
        "plot" => Scenario::Plot,
        other => {
            return Err(format!(
                "unknown scenario '{other}' (capacity, echo, fanout, plaintext, stall, teardown, flood, bytes, plot)"
            ))
        }
    };
    let mut target = "127.0.0.1:8080".to_string();
    let mut conns = None;
    let mut subs = None;
    let (mut proto, mut size, mut probe_every, mut publishes) = (None, None, None, None);
    let mut o = Options {
        scenario,
        target: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
        host: String::new(),
        server_pid: None,
        name: String::new(),
        proto: Proto::Ws,
        topics: vec!["bench".to_string()],
        conns: 0,
        inflight: 1,
        size: 64,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        rate: 0.0,
        pipeline: 16,
        window: 256,
        updates: 20,
        interval: Duration::from_millis(500),
        publishes: 3,
        probes: 4,
        probe_cpu: None,
        spread: 1,
        lf_body: false,
        probe_every: None,
        procs: None,
        addrs: 1,
        hold: Duration::ZERO,
        json: None,
        svg: None,
        quiet: false,
        inputs: Vec::new(),
    };
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{flag} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-q" | "--quiet" => o.quiet = true,
            "--target" => target = value()?,
            "--server-pid" => o.server_pid = Some(number(flag, &value()?)?),
            "--name" => o.name = value()?,
            "--proto" => {
                proto = Some(match value()?.as_str() {
                    "ws" => Proto::Ws,
                    "sse" => Proto::Sse,
                    other => return Err(format!("--proto is ws or sse, not '{other}'")),
                })
            }
            "--conns" => conns = Some(positive(flag, &value()?)?),
            "--subs" => subs = Some(positive(flag, &value()?)?),
            "--inflight" => o.inflight = positive(flag, &value()?)?,
            "--size" => size = Some(number(flag, &value()?)?),
            "--duration" => o.duration = seconds(flag, &value()?)?,
            "--warmup" => o.warmup = seconds(flag, &value()?)?,
            "--rate" => {
                let v = value()?;
                o.rate = v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r >= 0.0)
                    .ok_or(format!("--rate: '{v}' is not a rate ≥ 0"))?;
            }
            "--pipeline" => o.pipeline = positive(flag, &value()?)?,
            "--window" => o.window = positive(flag, &value()?)? as u64,
            "--publishes" => publishes = Some(positive(flag, &value()?)?),
            "--spread" => o.spread = positive(flag, &value()?)?,
            "--probe-cpu" => o.probe_cpu = Some(number(flag, &value()?)?),
            "--body" => {
                o.lf_body = match value()?.as_str() {
                    "text" => false,
                    "lf" => true,
                    other => return Err(format!("--body is text or lf, not '{other}'")),
                }
            }
            "--topics" => o.topics = topic_list(&value()?)?,
            "--probes" => o.probes = positive(flag, &value()?)?,
            "--probe-every" => {
                let v = value()?;
                let ms = v
                    .parse::<f64>()
                    .ok()
                    .filter(|ms| ms.is_finite() && *ms > 0.0 && *ms < 1e6)
                    .ok_or(format!("--probe-every: '{v}' is not a number of ms above 0"))?;
                probe_every = Some(Duration::from_secs_f64(ms / 1000.0));
            }
            "--updates" => o.updates = positive(flag, &value()?)?,
            "--interval" => o.interval = Duration::from_millis(positive(flag, &value()?)? as u64),
            "--procs" => o.procs = Some(positive(flag, &value()?)?),
            "--addrs" => {
                let v = value()?;
                o.addrs = v
                    .parse::<u8>()
                    .ok()
                    .filter(|n| *n >= 1 && *n <= 254)
                    .ok_or(format!("--addrs: '{v}' is not 1..254"))?;
            }
            "--hold" => o.hold = seconds(flag, &value()?)?,
            "--json" => o.json = Some(PathBuf::from(value()?)),
            "--svg" => o.svg = Some(PathBuf::from(value()?)),
            _ if scenario == Scenario::Plot && !arg.starts_with('-') => o.inputs.push(PathBuf::from(arg)),
            _ => return Err(format!("unknown option '{arg}' (try --help)")),
        }
    }
    if scenario == Scenario::Plot {
        if o.inputs.is_empty() || o.svg.is_none() {
            return Err("plot needs --svg FILE and at least one report".into());
        }
        return Ok(Parsed::Run(Box::new(o)));
    }
    // A stall is the case by default: 1 MiB to 2,000 SSE streams.
    let stall = scenario == Scenario::Stall;
    let sse_default = stall || scenario == Scenario::Teardown;
    o.proto = proto.unwrap_or(if sse_default { Proto::Sse } else { Proto::Ws });
    // A flood is the case by default: 1,500 × 1 MiB to one topic.
    let large = stall || scenario == Scenario::Flood;
    o.size = size.unwrap_or(if large { 1 << 20 } else { 64 });
    o.publishes = publishes.unwrap_or(if scenario == Scenario::Flood { 1500 } else { 3 });
    let checks_messages = matches!(scenario, Scenario::Capacity | Scenario::Fanout | Scenario::Stall);
    if checks_messages && o.proto == Proto::Ws && o.topics.len() > 1 {
        return Err("several --topics need --proto sse here: multi-topic WebSocket frames are JSON".into());
    }
    o.probe_every = probe_every.or(stall.then_some(Duration::from_millis(5)));
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
    o.target = resolve(&target)?;
    o.host = target.clone();
    if o.name.is_empty() {
        o.name = target;
    }
    if o.addrs > 1 && !o.target.ip().is_loopback() && !o.target.ip().is_unspecified() {
        return Err("--addrs spreads over 127.0.0.x: the target must be a loopback address".into());
    }
    Ok(Parsed::Run(Box::new(o)))
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
fn topic_list(v: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = v.split(',').map(String::from).collect();
    let good = |n: &String| {
        (1..=64).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    };
    if names.len() > 16 || !names.iter().all(good) {
        return Err(format!(
            "--topics: '{v}' is not 1 to 16 topic names ([A-Za-z0-9_.-]{{1,64}}) split by commas"
        ));
    }
    Ok(names)
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

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{flag}: '{v}' is not a number"))
}

fn positive(flag: &str, v: &str) -> Result<usize, String> {
    number::<usize>(flag, v)
        .and_then(|n| if n == 0 { Err(format!("{flag} must be at least 1")) } else { Ok(n) })
}

fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    let s = v.strip_suffix('s').unwrap_or(v);
    s.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e6)
        .map(Duration::from_secs_f64)
        .ok_or(format!("{flag}: '{v}' is not a number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args)? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => Err("help".into()),
        }
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
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        for (args, error) in [
            (&["nope"][..], "unknown scenario 'nope'"),
            (&["echo", "--conns", "0"], "--conns must be at least 1"),
            (&["echo", "--conns"], "--conns needs a value"),
            (&["echo", "--size", "10"], "--size must be at least 34"),
            (&["echo", "--proto", "tcp"], "--proto is ws or sse"),
            (&["echo", "--target", "10.1.2.3:80"], "is not a loopback address"),
            (&["echo", "--bogus"], "unknown option '--bogus'"),
            (&["plot", "a.json"], "plot needs --svg"),
            (&["fanout", "--rate", "-1"], "--rate: '-1'"),
            (&["stall", "--probe-every", "0"], "--probe-every: '0'"),
            (&["stall", "--publishes", "0"], "--publishes must be at least 1"),
            (&["stall", "--proto", "ws", "--topics", "a,b"], "several --topics need --proto sse"),
            (&["stall", "--topics", "a,,b"], "--topics: 'a,,b'"),
            (&["stall", "--topics", "a/b"], "--topics: 'a/b'"),
            (&["flood", "--body", "zeros"], "--body is text or lf"),
            (&["flood", "--size", "10"], "--size must be at least 34"),
        ] {
            let got = run(args).err().unwrap_or_default();
            assert!(got.contains(error), "{args:?}: {got}");
        }
        assert!(matches!(parse(&["--help".to_string()]), Ok(Parsed::Help)));
    }

    #[test]
    fn destinations_spread_over_loopback() {
        let o = run(&["capacity", "--target", "127.0.0.1:80", "--addrs", "3"]).unwrap();
        let got: Vec<String> = (0..4).map(|i| o.destination(i).to_string()).collect();
        assert_eq!(got, ["127.0.0.1:80", "127.0.0.2:80", "127.0.0.3:80", "127.0.0.1:80"]);
    }
}
