//! The command line: flags, their environment twins, and `--help`. Sans-IO:
//! it gets the arguments and an environment lookup, and returns what to do.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, MAX_WS_BUFFERED_MESSAGES};
use crate::ws::frame::MAX_HEADER;

/// What the command line asks for.
#[derive(Debug)]
pub enum Cli {
    Run { config: Box<Config>, log_level: Option<log::LevelFilter> },
    Help,
    Version,
}

struct Flag {
    name: &'static str,
    env: &'static str,
    value: &'static str,
    help: &'static str,
}

const FLAGS: &[Flag] = &[
    Flag {
        name: "--listen",
        env: "PUSHWIRE_LISTEN",
        value: "ADDR",
        help: "address to serve on [default: 127.0.0.1:8080]",
    },
    Flag { name: "--www", env: "PUSHWIRE_WWW", value: "DIR", help: "static files root [default: www]" },
    Flag {
        name: "--log-level",
        env: "PUSHWIRE_LOG_LEVEL",
        value: "LEVEL",
        help: "off|error|warn|info|debug|trace [default: RUST_LOG, else info]",
    },
    Flag {
        name: "--max-conns",
        env: "PUSHWIRE_MAX_CONNS",
        value: "N",
        help: "open connections at most; then new clients wait [default: 0 = no limit]",
    },
    Flag {
        name: "--max-body",
        env: "PUSHWIRE_MAX_BODY",
        value: "SIZE",
        help: "largest request body, e.g. 1MiB, 64KiB, 1000 [default: 1MiB]",
    },
    Flag {
        name: "--header-timeout",
        env: "PUSHWIRE_HEADER_TIMEOUT",
        value: "DURATION",
        help: "time to send a request head, else 408, e.g. 10s, 500ms [default: 10s]",
    },
    Flag {
        name: "--keepalive-timeout",
        env: "PUSHWIRE_KEEPALIVE_TIMEOUT",
        value: "DURATION",
        help: "idle time before a keep-alive connection closes [default: 60s]",
    },
    Flag {
        name: "--history",
        env: "PUSHWIRE_HISTORY",
        value: "N",
        help: "events kept per topic for Last-Event-ID replay [default: 1000]",
    },
    Flag {
        name: "--history-bytes",
        env: "PUSHWIRE_HISTORY_BYTES",
        value: "SIZE",
        help: "history of all topics together; the oldest events go first [default: 256MiB]",
    },
    Flag {
        name: "--max-topics",
        env: "PUSHWIRE_MAX_TOPICS",
        value: "N",
        help: "topics at once; a publish or subscribe that would make one more gets 503 \
               [default: 100000]",
    },
    Flag {
        name: "--heartbeat",
        env: "PUSHWIRE_HEARTBEAT",
        value: "DURATION",
        help: "SSE heartbeat comment interval [default: 15s]",
    },
    Flag {
        name: "--max-queue",
        env: "PUSHWIRE_MAX_QUEUE",
        value: "SIZE",
        help: "bytes queued for a stream before it is closed as too slow [default: 1MiB]",
    },
    Flag {
        name: "--publish-token",
        env: "PUSHWIRE_PUBLISH_TOKEN",
        value: "TOKEN",
        help: "require Authorization: Bearer TOKEN to publish [default: none]",
    },
    Flag {
        name: "--max-message",
        env: "PUSHWIRE_MAX_MESSAGE",
        value: "SIZE",
        help: "largest WebSocket message; larger ones close with 1009 [default: 16MiB]",
    },
    Flag {
        name: "--max-ws-buffered",
        env: "PUSHWIRE_MAX_WS_BUFFERED",
        value: "SIZE",
        help: "WebSocket input held at once, all sockets together; a socket that would pass it \
               closes with 1009 [default: 4 x --max-message]",
    },
    Flag {
        name: "--message-timeout",
        env: "PUSHWIRE_MESSAGE_TIMEOUT",
        value: "DURATION",
        help: "time a WebSocket message may take from its first byte to its last, else close 1008 \
               [default: 60s]",
    },
    Flag {
        name: "--allowed-origins",
        env: "PUSHWIRE_ALLOWED_ORIGINS",
        value: "LIST",
        help: "comma-separated Origins allowed to open a WebSocket, others get 403 [default: any]",
    },
    Flag {
        name: "--drain-secs",
        env: "PUSHWIRE_DRAIN_SECS",
        value: "DURATION",
        help: "on SIGINT/SIGTERM, time allowed to finish in-flight responses [default: 5]",
    },
];

/// The text of `--help`.
pub fn help() -> String {
    let mut out = String::from(
        "pushwire: a server-push server (HTTP/1.1, Server-Sent Events and WebSocket)\n\n\
         Usage: pushwire [FLAGS]\n\n\
         Every flag can also be set by the environment variable shown; the flag wins.\n\n\
         Flags:\n",
    );
    for f in FLAGS {
        out.push_str(&format!("  {} {:<9} {}\n  {:<21} env {}\n", f.name, f.value, f.help, "", f.env));
    }
    out.push_str(
        "  -h, --help            print this help\n  -V, --version         print the version\n\n\
         Signals: SIGINT or SIGTERM stops accepting, finishes in-flight responses\n\
         (at most --drain-secs), and exits 0; a second signal exits at once.\n",
    );
    out
}

/// Parses `args` (without the program name); `env` looks up a variable.
pub fn parse<I, E>(args: I, env: E) -> Result<Cli, String>
where
    I: IntoIterator<Item = String>,
    E: Fn(&str) -> Option<String>,
{
    let mut given: Vec<(&'static str, String)> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Cli::Help),
            "-V" | "--version" => return Ok(Cli::Version),
            _ => {}
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let flag = FLAGS
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| format!("unknown argument {arg:?} (see --help)"))?;
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{} needs a value: {} {}", flag.name, flag.name, flag.value))?,
        };
        given.push((flag.name, value));
    }
    let value = |name: &str| -> Option<(String, String)> {
        let flag = FLAGS.iter().find(|f| f.name == name)?;
        if let Some((_, v)) = given.iter().rev().find(|(n, _)| *n == name) {
            return Some((v.clone(), flag.name.to_string()));
        }
        env(flag.env).map(|v| (v, flag.env.to_string()))
    };

    let mut config = Config::default();
    let mut log_level = None;
    if let Some((v, from)) = value("--listen") {
        config.listen = v
            .parse::<SocketAddr>()
            .map_err(|_| format!("{from}: {v:?} is not an address like 127.0.0.1:8080 or [::1]:8080"))?;
    }
    if let Some((v, _)) = value("--www") {
        config.www = PathBuf::from(v);
    }
    if let Some((v, from)) = value("--log-level") {
        log_level = Some(
            v.parse::<log::LevelFilter>()
                .map_err(|_| format!("{from}: {v:?} is not one of off, error, warn, info, debug, trace"))?,
        );
    }
    if let Some((v, from)) = value("--max-conns") {
        config.max_conns = v.parse().map_err(|_| format!("{from}: {v:?} is not a whole number"))?;
    }
    if let Some((v, from)) = value("--max-body") {
        config.limits.max_body = parse_size(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, from)) = value("--header-timeout") {
        config.header_timeout = parse_duration(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, from)) = value("--keepalive-timeout") {
        config.keepalive_timeout = parse_duration(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, from)) = value("--history") {
        config.history = v.parse().map_err(|_| format!("{from}: {v:?} is not a whole number"))?;
    }
    if let Some((v, from)) = value("--history-bytes") {
        config.history_bytes = parse_size(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, from)) = value("--max-topics") {
        config.max_topics = match v.parse() {
            Ok(0) | Err(_) => return Err(format!("{from}: {v:?} is not a whole number above 0")),
            Ok(n) => n,
        };
    }
    if let Some((v, from)) = value("--heartbeat") {
        config.heartbeat = parse_duration(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, from)) = value("--max-queue") {
        config.max_queue = parse_size(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, from)) = value("--publish-token") {
        if v.is_empty() || v.contains(char::is_whitespace) {
            return Err(format!("{from}: a token cannot be empty or contain spaces"));
        }
        config.publish_token = Some(v);
    }
    if let Some((v, from)) = value("--max-message") {
        config.max_message = parse_size(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    match value("--max-ws-buffered") {
        Some((v, from)) => config.max_ws_buffered = parse_size(&v).map_err(|e| format!("{from}: {e}"))?,
        None => config.max_ws_buffered = config.max_message.saturating_mul(MAX_WS_BUFFERED_MESSAGES),
    }
    // A message arriving as fragments can be held twice for a moment (its
    // last frame and the message it grows, each with up to a header): below
    // this, a lone message within --max-message could be refused.
    let least = config.max_message.saturating_mul(2).saturating_add(2 * MAX_HEADER);
    if config.max_ws_buffered < least {
        return Err(format!(
            "--max-ws-buffered ({} bytes) must be at least twice --max-message plus {} bytes ({least}): \
             a message may briefly be held twice (its last frame and the message so far)",
            config.max_ws_buffered,
            2 * MAX_HEADER
        ));
    }
    if let Some((v, from)) = value("--message-timeout") {
        config.message_timeout = parse_duration(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    if let Some((v, _)) = value("--allowed-origins") {
        config.allowed_origins = v
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
    }
    if let Some((v, from)) = value("--drain-secs") {
        config.drain = parse_duration(&v).map_err(|e| format!("{from}: {e}"))?;
    }
    for (d, name) in [
        (config.header_timeout, "--header-timeout"),
        (config.keepalive_timeout, "--keepalive-timeout"),
        (config.heartbeat, "--heartbeat"),
        (config.message_timeout, "--message-timeout"),
    ] {
        if d.is_zero() {
            return Err(format!("{name} must be more than zero"));
        }
    }
    Ok(Cli::Run { config: Box::new(config), log_level })
}

/// `1048576`, `64KiB`, `64K`, `1MiB`, `1M` (binary units).
pub fn parse_size(v: &str) -> Result<usize, String> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let n: usize = digits.parse().map_err(|_| format!("{v:?} is not a size like 1MiB or 65536"))?;
    let scale: usize = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        _ => return Err(format!("{v:?}: unknown unit {unit:?} (use B, KiB, MiB, GiB)")),
    };
    n.checked_mul(scale).ok_or_else(|| format!("{v:?} is too large"))
}

/// `10` or `10s` (seconds, fractions allowed), `500ms`.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let (number, millis) = match v.strip_suffix("ms") {
        Some(n) => (n, true),
        None => (v.strip_suffix('s').unwrap_or(v), false),
    };
    let n: f64 = number.parse().map_err(|_| format!("{v:?} is not a duration like 10s or 500ms"))?;
    if !(0.0..=1e9).contains(&n) {
        return Err(format!("{v:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(if millis { n / 1000.0 } else { n }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match parse(args.iter().map(|s| s.to_string()), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })? {
            Cli::Run { config, .. } => Ok(*config),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_those_of_the_spec() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.limits.max_body, 1 << 20);
        assert_eq!(c.limits.max_head, 8192);
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert_eq!(c.keepalive_timeout, Duration::from_secs(60));
        assert_eq!(c.max_conns, 0);
    }

    #[test]
    fn flags_env_twins_and_precedence() {
        let c =
            run(&["--listen", "0.0.0.0:9000", "--max-body=64KiB", "--header-timeout", "250ms"], &[]).unwrap();
        assert_eq!(
            (c.listen.port(), c.limits.max_body, c.header_timeout),
            (9000, 65536, Duration::from_millis(250))
        );
        let c = run(
            &[],
            &[("PUSHWIRE_LISTEN", "[::1]:81"), ("PUSHWIRE_MAX_CONNS", "7"), ("PUSHWIRE_WWW", "/srv")],
        )
        .unwrap();
        assert_eq!(
            (c.listen.to_string().as_str(), c.max_conns, c.www.to_str()),
            ("[::1]:81", 7, Some("/srv"))
        );
        let c = run(&["--max-conns", "3"], &[("PUSHWIRE_MAX_CONNS", "7")]).unwrap();
        assert_eq!(c.max_conns, 3);
    }

    #[test]
    fn every_flag_is_in_help_with_its_env_twin() {
        let text = help();
        for f in FLAGS {
            assert!(text.contains(f.name) && text.contains(f.env), "{}", f.name);
        }
    }

    #[test]
    fn errors_name_the_flag_and_the_value() {
        let cases: &[(&[&str], &str)] = &[
            (&["--listen", "localhost"], "--listen: \"localhost\" is not an address"),
            (&["--max-body", "1 parsec"], "--max-body: \"1 parsec\""),
            (&["--max-conns", "-1"], "--max-conns: \"-1\" is not a whole number"),
            (&["--header-timeout", "soon"], "--header-timeout: \"soon\" is not a duration"),
            (&["--header-timeout", "0"], "--header-timeout must be more than zero"),
            (&["--log-level", "loud"], "--log-level: \"loud\""),
            (&["--bogus"], "unknown argument \"--bogus\""),
            (&["--www"], "--www needs a value"),
        ];
        for (args, want) in cases {
            let err = run(args, &[]).unwrap_err();
            assert!(err.starts_with(want), "{args:?}: {err}");
        }
        let err = run(&[], &[("PUSHWIRE_MAX_BODY", "big")]).unwrap_err();
        assert!(err.starts_with("PUSHWIRE_MAX_BODY: "), "{err}");
    }

    #[test]
    fn history_bytes_and_max_topics() {
        let c = run(&[], &[]).unwrap();
        assert_eq!((c.history_bytes, c.max_topics), (256 << 20, 100_000));
        let c = run(&["--history-bytes", "1GiB"], &[("PUSHWIRE_MAX_TOPICS", "7")]).unwrap();
        assert_eq!((c.history_bytes, c.max_topics), (1 << 30, 7));
        let c = run(&["--history-bytes", "0"], &[]).unwrap();
        assert_eq!(c.history_bytes, 0, "0 keeps no history at all");
        let err = run(&["--max-topics", "0"], &[]).unwrap_err();
        assert_eq!(err, "--max-topics: \"0\" is not a whole number above 0");
        assert!(run(&["--history-bytes", "lots"], &[]).unwrap_err().starts_with("--history-bytes: "));
    }

    #[test]
    fn websocket_input_budget_and_message_timeout() {
        let c = run(&[], &[]).unwrap();
        assert_eq!((c.max_ws_buffered, c.message_timeout), (64 << 20, Duration::from_secs(60)));
        // The budget follows --max-message unless it is given itself.
        let c = run(&["--max-message", "1MiB"], &[]).unwrap();
        assert_eq!(c.max_ws_buffered, 4 << 20);
        let c = run(
            &["--max-message", "1MiB", "--max-ws-buffered", "3MiB"],
            &[("PUSHWIRE_MESSAGE_TIMEOUT", "250ms")],
        )
        .unwrap();
        assert_eq!((c.max_ws_buffered, c.message_timeout), (3 << 20, Duration::from_millis(250)));
        let c = run(&[], &[("PUSHWIRE_MAX_WS_BUFFERED", "40MiB")]).unwrap();
        assert_eq!(c.max_ws_buffered, 40 << 20);
        // Room for one message of --max-message held twice, or it could
        // never arrive; no zero timeout.
        let err = run(&["--max-ws-buffered", "16MiB"], &[]).unwrap_err();
        assert!(
            err.starts_with("--max-ws-buffered (16777216 bytes) must be at least twice --max-message"),
            "{err}"
        );
        assert!(run(&["--max-message", "1KiB", "--max-ws-buffered", "2076"], &[]).is_ok());
        assert!(run(&["--max-message", "1KiB", "--max-ws-buffered", "2075"], &[]).is_err());
        let err = run(&["--message-timeout", "0"], &[]).unwrap_err();
        assert_eq!(err, "--message-timeout must be more than zero");
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("99999999999999999999G").is_err());
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("NaN").is_err());
    }
}
