//! `pushwire`: command line → Config → logger → signals → the loop.

use std::process::ExitCode;
use std::thread;

use pushwire::cli::{self, Cli};
use pushwire::driver::{Command, Server};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() -> ExitCode {
    let (config, level) = match cli::parse(std::env::args_os().skip(1), |k| std::env::var_os(k)) {
        Ok(Cli::Run { config, log_level }) => (config, log_level),
        Ok(Cli::Help) => {
            print!("{}", cli::help());
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Version) => {
            println!("pushwire {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message: `error: …`, the usage line, a pointer to --help.
            let _ = e.print();
            return ExitCode::from(2);
        }
    };

    // RUST_LOG sets the level unless --log-level (or its twin) does.
    let mut logger = simple_logger::SimpleLogger::new().with_level(log::LevelFilter::Info).env();
    if let Some(level) = level {
        logger = logger.with_level(level);
    }
    if let Err(e) = logger.init() {
        eprintln!("pushwire: logger: {e}");
    }

    // Issue 9: publishing is open unless a token is set. On loopback only
    // this machine can reach it; beyond, anyone who can connect may publish.
    if !config.listen.ip().is_loopback() && config.publish_token.is_none() {
        log::warn!(
            "listening on {} without --publish-token: anyone who can reach it may publish to any topic",
            config.listen
        );
    }
    let server = match Server::bind(*config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("pushwire: {e}");
            return ExitCode::FAILURE;
        }
    };

    // The first SIGINT/SIGTERM asks the loop to drain; a second exits at once.
    let handle = server.handle();
    match Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            thread::spawn(move || {
                let mut seen = 0;
                for signal in signals.forever() {
                    seen += 1;
                    if seen > 1 {
                        eprintln!("pushwire: second signal {signal}: exiting now");
                        std::process::exit(1);
                    }
                    log::info!("signal {signal}: draining (send it again to exit at once)");
                    if handle.send(Command::Shutdown).is_err() {
                        return;
                    }
                }
            });
        }
        Err(e) => log::warn!("cannot install signal handlers: {e}"),
    }

    eprintln!("pushwire {} listening on http://{}/", env!("CARGO_PKG_VERSION"), server.local_addr());
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushwire: {e}");
            ExitCode::FAILURE
        }
    }
}
