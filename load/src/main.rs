//! pushwire-load: a load generator for any server that speaks the bench
//! protocol (`/plaintext`, `/ws/echo`, `/topics/bench` over WebSocket and
//! SSE, `POST /topics/bench`): pushwire and the peers it is measured against.
//!
//! ```text
//!   coordinator (this process)                 worker processes (`__worker`)
//!   cli ─► scenario ─► Fleet ── stdin: go, measure, stop ──► mio loop, its share
//!              │         ▲ ◄── stdout: progress, results ──   of the connections
//!              │         └─ /proc: server CPU and RSS, load CPU
//!              └─► report (JSON), svg (plot)
//! ```
//!
//! The wire formats, from the client's side, are pushwire-proto's (HTTP
//! requests, response heads and bodies, WebSocket frames, the SSE event
//! stream): sans-IO and tested there with byte vectors.
#![forbid(unsafe_code)]

mod bytes;
mod capacity;
mod cli;
mod closed_loop;
mod fanout;
mod fleet;
mod flood;
mod hist;
mod payload;
mod plot;
mod procfs;
mod publisher;
mod report;
mod run;
mod stall;
mod svg;
mod teardown;
mod worker;

use std::process::ExitCode;

use cli::Scenario;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("__worker") {
        return worker_main(&args[1..]);
    }
    // Help and version go to stdout (status 0), mistakes to stderr (2).
    let opts = match cli::parse(&args) {
        Ok(opts) => opts,
        Err(e) => e.exit(),
    };
    let result = match opts.scenario {
        Scenario::Capacity => capacity::run(&opts, &args),
        Scenario::Echo | Scenario::Plaintext => closed_loop::run(&opts, &args),
        Scenario::Fanout => fanout::run(&opts, &args),
        Scenario::Stall => stall::run(&opts, &args),
        Scenario::Teardown => teardown::run(&opts, &args),
        Scenario::Flood => flood::run(&opts),
        Scenario::Bytes => bytes::run(&opts),
        Scenario::Plot => plot::run(&opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushwire-load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `__worker FIRST COUNT -- ARGS...`
fn worker_main(args: &[String]) -> ExitCode {
    let (Some(first), Some(count)) =
        (args.first().and_then(|a| a.parse().ok()), args.get(1).and_then(|a| a.parse().ok()))
    else {
        eprintln!("pushwire-load: __worker FIRST COUNT -- ARGS");
        return ExitCode::from(2);
    };
    let rest = args.get(3..).unwrap_or_default();
    let opts = match cli::parse(rest) {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("pushwire-load: worker: bad arguments: {e}");
            return ExitCode::from(2);
        }
    };
    match worker::main(first, count, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushwire-load: worker: {e}");
            ExitCode::FAILURE
        }
    }
}
