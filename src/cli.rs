//! The command line: flags, their environment twins, and `--help`, declared
//! once as the fields of [`Flags`] (clap derives the parser and the help
//! from them, so a misspelt flag is a compile error, not a silent `None`).
//!
//! Sans-IO: [`parse`] gets the arguments and an environment lookup, and
//! returns what to do. clap would read the twins from the process
//! environment itself; here they come from the lookup, so tests give their
//! own environment and never touch the real one.
//!
//! The value syntax is the product's own, parsed here: sizes ([`parse_size`],
//! `1MiB`, `64KiB`, `1000`) and durations ([`parse_duration`], `10s`, `1.5`,
//! `500ms`).

use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::config::{Config, MAX_WS_BUFFERED_MESSAGES};
use crate::ws::frame::MAX_HEADER;

/// What the command line asks for.
#[derive(Debug)]
pub enum Cli {
    Run { config: Box<Config>, log_level: Option<log::LevelFilter> },
    Help,
    Version,
}

const ABOUT: &str = "pushwire: a server-push server (HTTP/1.1, Server-Sent Events and WebSocket)\n\n\
    Every flag can also be set by the environment variable shown; the flag wins.";

const AFTER_HELP: &str =
    "SIZE: bytes, or with a binary unit: B, KiB (K), MiB (M), GiB (G); e.g. 1MiB, 64KiB, 1000.\n\
    DURATION: seconds (10, 1.5, 10s) or milliseconds (500ms).\n\n\
    Signals: SIGINT or SIGTERM stops accepting, finishes in-flight responses\n\
    (at most --drain-secs), and exits 0; a second signal exits at once.";

/// The flags. Each default is parsed by the flag's own parser, and a unit
/// test holds them equal to [`Config::default`].
#[derive(Parser, Debug)]
#[command(
    name = "pushwire",
    version,
    about = ABOUT,
    after_help = AFTER_HELP,
    args_override_self = true,
    allow_negative_numbers = true,
    next_line_help = true
)]
struct Flags {
    /// Address to serve on ([::1]:8080 for IPv6; port 0 picks a free one)
    #[arg(long, env = "PUSHWIRE_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080",
          value_parser = parse_addr)]
    listen: SocketAddr,

    /// Static files root
    #[arg(long, env = "PUSHWIRE_WWW", value_name = "DIR", default_value = "www")]
    www: PathBuf,

    /// Log level [default: RUST_LOG, else info]
    #[arg(long, env = "PUSHWIRE_LOG_LEVEL", value_name = "LEVEL", ignore_case = true)]
    log_level: Option<Level>,

    /// Open connections at most; then new clients wait (0: no limit)
    #[arg(long, env = "PUSHWIRE_MAX_CONNS", value_name = "N", default_value = "0", value_parser = parse_count)]
    max_conns: usize,

    /// Largest request body; larger ones get 413
    #[arg(long, env = "PUSHWIRE_MAX_BODY", value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    max_body: usize,

    /// Time to send a request head, else 408
    #[arg(long, env = "PUSHWIRE_HEADER_TIMEOUT", value_name = "DURATION", default_value = "10s",
          value_parser = parse_timeout)]
    header_timeout: Duration,

    /// Idle time before a keep-alive connection closes
    #[arg(long, env = "PUSHWIRE_KEEPALIVE_TIMEOUT", value_name = "DURATION", default_value = "60s",
          value_parser = parse_timeout)]
    keepalive_timeout: Duration,

    /// Events kept per topic for Last-Event-ID replay
    #[arg(long, env = "PUSHWIRE_HISTORY", value_name = "N", default_value = "1000", value_parser = parse_count)]
    history: usize,

    /// History of all topics together; the oldest events go first
    #[arg(long, env = "PUSHWIRE_HISTORY_BYTES", value_name = "SIZE", default_value = "256MiB",
          value_parser = parse_size)]
    history_bytes: usize,

    /// Topics at once; a publish or subscribe that would make one more gets 503
    #[arg(long, env = "PUSHWIRE_MAX_TOPICS", value_name = "N", default_value = "100000",
          value_parser = parse_above_zero)]
    max_topics: usize,

    /// SSE heartbeat comment and WebSocket ping interval
    #[arg(long, env = "PUSHWIRE_HEARTBEAT", value_name = "DURATION", default_value = "15s",
          value_parser = parse_timeout)]
    heartbeat: Duration,

    /// Bytes queued for a stream before it is closed as too slow
    #[arg(long, env = "PUSHWIRE_MAX_QUEUE", value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    max_queue: usize,

    /// Require Authorization: Bearer TOKEN to publish [default: none]
    #[arg(long, env = "PUSHWIRE_PUBLISH_TOKEN", value_name = "TOKEN", value_parser = parse_token)]
    publish_token: Option<String>,

    /// Largest WebSocket message; larger ones close with 1009
    #[arg(long, env = "PUSHWIRE_MAX_MESSAGE", value_name = "SIZE", default_value = "16MiB",
          value_parser = parse_size)]
    max_message: usize,

    /// WebSocket input held at once, all sockets together; a socket that would pass it closes
    /// with 1009 [default: 4 x --max-message]
    #[arg(long, env = "PUSHWIRE_MAX_WS_BUFFERED", value_name = "SIZE", value_parser = parse_size)]
    max_ws_buffered: Option<usize>,

    /// Time a WebSocket message may take from its first byte to its last, else close 1008
    #[arg(long, env = "PUSHWIRE_MESSAGE_TIMEOUT", value_name = "DURATION", default_value = "60s",
          value_parser = parse_timeout)]
    message_timeout: Duration,

    /// Comma-separated Origins allowed to open a WebSocket, others get 403 [default: any]
    #[arg(long, env = "PUSHWIRE_ALLOWED_ORIGINS", value_name = "LIST")]
    allowed_origins: Option<String>,

    /// On SIGINT/SIGTERM, time allowed to finish in-flight responses and to spread stream closes
    /// over
    #[arg(long, env = "PUSHWIRE_DRAIN_SECS", value_name = "DURATION", default_value = "5s",
          value_parser = parse_duration)]
    drain_secs: Duration,
}

/// `--log-level`: log's levels, by name.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Level {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<Level> for log::LevelFilter {
    fn from(level: Level) -> Self {
        match level {
            Level::Off => log::LevelFilter::Off,
            Level::Error => log::LevelFilter::Error,
            Level::Warn => log::LevelFilter::Warn,
            Level::Info => log::LevelFilter::Info,
            Level::Debug => log::LevelFilter::Debug,
            Level::Trace => log::LevelFilter::Trace,
        }
    }
}

/// The flags as clap's command: each twin's name is shown, never its value
/// (a publish token is a secret).
fn command() -> clap::Command {
    Flags::command().mut_args(|arg| arg.hide_env_values(true))
}

/// The text of `--help`.
pub fn help() -> String {
    command().render_help().to_string()
}

/// Parses `args` (without the program name); `env` looks up a variable.
///
/// A twin counts only where its flag is not given, and a bad value in it is
/// reported by the variable's name.
pub fn parse<I, T, E>(args: I, env: E) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
    E: Fn(&str) -> Option<OsString>,
{
    let full = command();
    // The same flags without clap's own reading of the environment (done
    // when the command is built, from the process's environment).
    let mut bare = full.clone().mut_args(|arg| arg.env(None));
    let program = || std::iter::once(OsString::from("pushwire"));
    let given: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let on_command_line = match bare.try_get_matches_from_mut(program().chain(given.iter().cloned())) {
        Ok(matches) => matches,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => return Ok(Cli::Help),
        Err(e) if e.kind() == ErrorKind::DisplayVersion => return Ok(Cli::Version),
        Err(e) => return Err(e),
    };

    // Each twin whose flag is absent becomes that flag, ahead of the real
    // arguments (which would override it anyway).
    let mut from_env = Vec::new();
    for arg in full.get_arguments() {
        let (Some(name), Some(long)) = (arg.get_env().and_then(OsStr::to_str), arg.get_long()) else {
            continue;
        };
        if on_command_line.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
            continue;
        }
        let Some(value) = env(name) else { continue };
        let mut flag = OsString::from(format!("--{long}="));
        flag.push(&value);
        if let Err(e) = bare.try_get_matches_from_mut(program().chain([flag.clone()])) {
            return Err(env_error(&mut bare, name, long, &value, &e));
        }
        from_env.push(flag);
    }
    let matches = bare.try_get_matches_from_mut(program().chain(from_env).chain(given))?;
    let flags = Flags::from_arg_matches(&matches)?;
    flags.into_cli().map_err(|why| bare.error(ErrorKind::ValueValidation, why))
}

/// A twin's bad value, named by the variable, with its parser's reason.
fn env_error(cmd: &mut clap::Command, name: &str, long: &str, value: &OsStr, e: &clap::Error) -> clap::Error {
    let why = match (std::error::Error::source(e), e.get(ContextKind::ValidValue)) {
        (Some(source), _) => format!(": {source}"),
        (None, Some(ContextValue::Strings(valid))) => format!(" [possible values: {}]", valid.join(", ")),
        _ => String::new(),
    };
    let value = value.to_string_lossy();
    cmd.error(
        ErrorKind::InvalidValue,
        format!("invalid value '{value}' for {name} (the twin of --{long}){why}"),
    )
}

impl Flags {
    /// The [`Config`] these flags describe, or why they describe none.
    fn into_cli(self) -> Result<Cli, String> {
        let mut config = Config {
            listen: self.listen,
            www: self.www,
            max_conns: self.max_conns,
            header_timeout: self.header_timeout,
            keepalive_timeout: self.keepalive_timeout,
            drain: self.drain_secs,
            heartbeat: self.heartbeat,
            history: self.history,
            history_bytes: self.history_bytes,
            max_topics: self.max_topics,
            max_queue: self.max_queue,
            publish_token: self.publish_token,
            max_message: self.max_message,
            max_ws_buffered: self
                .max_ws_buffered
                .unwrap_or(self.max_message.saturating_mul(MAX_WS_BUFFERED_MESSAGES)),
            message_timeout: self.message_timeout,
            ..Config::default()
        };
        config.limits.max_body = self.max_body;
        if let Some(list) = self.allowed_origins {
            config.allowed_origins = list
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect();
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
        Ok(Cli::Run { config: Box::new(config), log_level: self.log_level.map(Into::into) })
    }
}

fn parse_addr(v: &str) -> Result<SocketAddr, String> {
    v.parse().map_err(|_| "not an address like 127.0.0.1:8080 or [::1]:8080".to_string())
}

fn parse_count(v: &str) -> Result<usize, String> {
    v.parse().map_err(|_| "not a whole number".to_string())
}

fn parse_above_zero(v: &str) -> Result<usize, String> {
    match v.parse() {
        Ok(0) | Err(_) => Err("not a whole number above 0".to_string()),
        Ok(n) => Ok(n),
    }
}

/// A timeout or interval: a duration, and more than zero.
fn parse_timeout(v: &str) -> Result<Duration, String> {
    match parse_duration(v)? {
        d if d.is_zero() => Err("must be more than zero".to_string()),
        d => Ok(d),
    }
}

fn parse_token(v: &str) -> Result<String, String> {
    if v.is_empty() || v.contains(char::is_whitespace) {
        return Err("a token cannot be empty or contain spaces".to_string());
    }
    Ok(v.to_string())
}

/// `1048576`, `64KiB`, `64K`, `1MiB`, `1M` (binary units).
pub fn parse_size(v: &str) -> Result<usize, String> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let n: usize = digits.parse().map_err(|_| "not a size like 1MiB or 65536".to_string())?;
    let scale: usize = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        _ => return Err(format!("unknown unit {unit:?} (use B, KiB, MiB, GiB)")),
    };
    n.checked_mul(scale).ok_or_else(|| "too large".to_string())
}

/// `10` or `10s` (seconds, fractions allowed), `500ms`.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let (number, millis) = match v.strip_suffix("ms") {
        Some(n) => (n, true),
        None => (v.strip_suffix('s').unwrap_or(v), false),
    };
    let n: f64 = number.parse().map_err(|_| "not a duration like 10s or 500ms".to_string())?;
    if !(0.0..=1e9).contains(&n) {
        return Err("out of range".to_string());
    }
    Ok(Duration::from_secs_f64(if millis { n / 1000.0 } else { n }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Cli, clap::Error> {
        let env: Vec<(String, OsString)> = env.iter().map(|(k, v)| (k.to_string(), v.into())).collect();
        parse(args.iter().copied(), |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        match parse_with(args, env).map_err(|e| e.to_string())? {
            Cli::Run { config, .. } => Ok(*config),
            other => panic!("{other:?}"),
        }
    }

    fn level(args: &[&str], env: &[(&str, &str)]) -> Option<log::LevelFilter> {
        match parse_with(args, env) {
            Ok(Cli::Run { log_level, .. }) => log_level,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_those_of_config_and_the_spec() {
        let c = run(&[], &[]).unwrap();
        // Every field, as clap's defaults parsed, equals Config's.
        assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.limits.max_body, 1 << 20);
        assert_eq!(c.limits.max_head, 8192);
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert_eq!(c.keepalive_timeout, Duration::from_secs(60));
        assert_eq!(c.max_conns, 0);
        assert_eq!(level(&[], &[]), None, "RUST_LOG decides");
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
        // The flag wins over its twin, and the twin is not even read then.
        let c = run(&["--max-conns", "3"], &[("PUSHWIRE_MAX_CONNS", "7")]).unwrap();
        assert_eq!(c.max_conns, 3);
        let c = run(&["--max-conns=3"], &[("PUSHWIRE_MAX_CONNS", "lots")]).unwrap();
        assert_eq!(c.max_conns, 3);
        // The last of a repeated flag wins.
        let c = run(&["--max-conns", "3", "--max-conns", "4"], &[]).unwrap();
        assert_eq!(c.max_conns, 4);
        // A twin is used only for its own flag; unknown variables are ignored.
        let c =
            run(&["--max-body", "2KiB"], &[("PUSHWIRE_MAX_QUEUE", "3KiB"), ("PUSHWIRE_BOGUS", "1")]).unwrap();
        assert_eq!((c.limits.max_body, c.max_queue), (2048, 3072));
    }

    #[test]
    fn every_flag_has_a_twin() {
        for arg in command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if ["help", "version"].contains(&long) {
                continue;
            }
            let env = arg.get_env().and_then(OsStr::to_str).unwrap_or_else(|| panic!("--{long} has no twin"));
            assert_eq!(env, format!("PUSHWIRE_{}", long.to_uppercase().replace('-', "_")), "--{long}");
        }
    }

    #[test]
    fn help_shows_every_flag_its_twin_and_default() {
        // Words as shown, whatever the width --help wrapped them to.
        let text = help().split_whitespace().collect::<Vec<_>>().join(" ");
        for arg in command().get_arguments() {
            let long = arg.get_long().unwrap();
            assert!(text.contains(&format!("--{long}")), "--{long}");
            if let Some(env) = arg.get_env() {
                assert!(text.contains(&format!("[env: {}]", env.to_str().unwrap())), "--{long}: {env:?}");
            }
        }
        for default in ["[default: 127.0.0.1:8080]", "[default: 1MiB]", "[default: 4 x --max-message]"] {
            assert!(text.contains(default), "{default}");
        }
        assert!(text.contains("[possible values: off, error, warn, info, debug, trace]"));
        assert!(text.contains("Signals: SIGINT or SIGTERM"));
        assert!(matches!(parse_with(&["--help"], &[]), Ok(Cli::Help)));
        assert!(matches!(parse_with(&["-h", "--bogus"], &[]), Ok(Cli::Help)));
        assert!(matches!(parse_with(&["-V"], &[]), Ok(Cli::Version)));
    }

    #[test]
    fn errors_name_the_flag_and_the_value() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--listen", "localhost"],
                "invalid value 'localhost' for '--listen <ADDR>': not an address like 127.0.0.1:8080",
            ),
            (&["--max-body", "1 parsec"], "invalid value '1 parsec' for '--max-body <SIZE>': unknown unit"),
            (&["--max-conns", "-1"], "invalid value '-1' for '--max-conns <N>': not a whole number"),
            (
                &["--header-timeout", "soon"],
                "'--header-timeout <DURATION>': not a duration like 10s or 500ms",
            ),
            (&["--header-timeout", "0"], "invalid value '0' for '--header-timeout <DURATION>': must be more"),
            (&["--log-level", "loud"], "invalid value 'loud' for '--log-level <LEVEL>'"),
            (&["--publish-token", "a b"], "a token cannot be empty or contain spaces"),
            (&["--bogus"], "unexpected argument '--bogus' found"),
            (&["--max-bdoy", "1"], "tip: a similar argument exists: '--max-body'"),
            (&["--www"], "a value is required for '--www <DIR>' but none was supplied"),
            (&["stray"], "unexpected argument 'stray' found"),
        ];
        for (args, want) in cases {
            let err = run(args, &[]).unwrap_err();
            assert!(err.starts_with("error: ") && err.contains(want), "{args:?}: {err}");
        }
    }

    #[test]
    fn bad_twins_are_named_by_their_variable() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "PUSHWIRE_MAX_BODY",
                "big",
                "invalid value 'big' for PUSHWIRE_MAX_BODY (the twin of --max-body): not a size like 1MiB",
            ),
            (
                "PUSHWIRE_HEARTBEAT",
                "0",
                "for PUSHWIRE_HEARTBEAT (the twin of --heartbeat): must be more than zero",
            ),
            (
                "PUSHWIRE_LOG_LEVEL",
                "loud",
                "for PUSHWIRE_LOG_LEVEL (the twin of --log-level) [possible values: off, error, warn,",
            ),
            (
                "PUSHWIRE_MAX_TOPICS",
                "0",
                "PUSHWIRE_MAX_TOPICS (the twin of --max-topics): not a whole number above 0",
            ),
        ];
        for (name, value, want) in cases {
            let err = run(&[], &[(name, value)]).unwrap_err();
            assert!(err.starts_with("error: ") && err.contains(want), "{name}={value}: {err}");
        }
        // A twin that looks like a flag is still only a value.
        let err = run(&[], &[("PUSHWIRE_WWW", "--listen=0.0.0.0:1")]).map(|c| c.www);
        assert_eq!(err, Ok(PathBuf::from("--listen=0.0.0.0:1")));
    }

    #[test]
    fn log_level() {
        assert_eq!(level(&["--log-level", "debug"], &[]), Some(log::LevelFilter::Debug));
        assert_eq!(level(&["--log-level", "WARN"], &[]), Some(log::LevelFilter::Warn));
        assert_eq!(level(&[], &[("PUSHWIRE_LOG_LEVEL", "off")]), Some(log::LevelFilter::Off));
        assert_eq!(
            level(&["--log-level=trace"], &[("PUSHWIRE_LOG_LEVEL", "off")]),
            Some(log::LevelFilter::Trace)
        );
    }

    #[test]
    fn publish_token_and_allowed_origins() {
        let c =
            run(&["--publish-token", "s3cret", "--allowed-origins", "http://a.test/, https://b.test,,"], &[])
                .unwrap();
        assert_eq!(c.publish_token.as_deref(), Some("s3cret"));
        assert_eq!(c.allowed_origins, ["http://a.test", "https://b.test"]);
        let c = run(&[], &[("PUSHWIRE_PUBLISH_TOKEN", "t"), ("PUSHWIRE_DRAIN_SECS", "0")]).unwrap();
        assert_eq!(
            (c.publish_token.as_deref(), c.drain),
            (Some("t"), Duration::ZERO),
            "a zero drain closes at once"
        );
        assert!(run(&["--publish-token="], &[]).unwrap_err().contains("a token cannot be empty"));
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
        assert!(
            err.contains("invalid value '0' for '--max-topics <N>': not a whole number above 0"),
            "{err}"
        );
        assert!(run(&["--history-bytes", "lots"], &[]).unwrap_err().contains("'--history-bytes <SIZE>'"));
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
            err.starts_with("error: --max-ws-buffered (16777216 bytes) must be at least twice --max-message"),
            "{err}"
        );
        assert!(run(&["--max-message", "1KiB", "--max-ws-buffered", "2076"], &[]).is_ok());
        assert!(run(&["--max-message", "1KiB", "--max-ws-buffered", "2075"], &[]).is_err());
        let err = run(&["--message-timeout", "0"], &[]).unwrap_err();
        assert!(err.contains("'--message-timeout <DURATION>': must be more than zero"), "{err}");
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
