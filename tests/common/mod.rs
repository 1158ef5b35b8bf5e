//! Shared test harness: start the real `pushwire` binary on a free loopback
//! port, talk to it over real sockets, stop it by its PID. The clients live
//! beside it, one job a file: `http` (requests and their answers), `stats`
//! (reading and waiting on `/stats`), `stream` (an event-stream reader), `ws`
//! (a WebSocket client).
//!
//! Cargo builds each tests/*.rs as a crate of its own with `mod common;`, and
//! no one of them uses every helper: what one file leaves unused would be a
//! dead-code warning in that crate alone.
#![allow(dead_code)]

pub mod http;
pub mod stats;
pub mod stream;
pub mod ws;

// The helpers nearly every test uses, so `use common::*` brings them (a
// crate that uses none of one file's would warn of the import).
#[allow(unused_imports)]
pub use http::*;
#[allow(unused_imports)]
pub use stats::*;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub struct Server {
    pub addr: SocketAddr,
    child: Child,
    log: Arc<Mutex<String>>,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::start_with(args, &[], None)
    }

    /// `nofile`: run the server with this RLIMIT_NOFILE (through the shell's
    /// `ulimit`, so the test needs no unsafe code).
    pub fn start_with(args: &[&str], env: &[(&str, &str)], nofile: Option<u32>) -> Server {
        let bin = env!("CARGO_BIN_EXE_pushwire");
        let www = repo().join("www");
        let mut all = vec!["--listen", "127.0.0.1:0", "--www", www.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(format!("ulimit -n {n} && exec \"$0\" \"$@\"")).arg(bin).args(&all);
                c
            }
            None => {
                let mut c = Command::new(bin);
                c.args(&all);
                c
            }
        };
        cmd.env_remove("RUST_LOG").envs(env.iter().copied());
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn pushwire");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('/').to_string());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(addr) => addr.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                panic!("pushwire did not start: {}", log.lock().unwrap());
            }
        };
        Server { addr, child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Polls the log every 20 ms until `ok` holds of it (it arrives through
    /// a pipe, a line at a time); the log then, or `None` after `within`.
    pub fn log_until(&self, within: Duration, ok: impl Fn(&str) -> bool) -> Option<String> {
        let until = Instant::now() + within;
        loop {
            let log = self.log();
            if ok(&log) {
                return Some(log);
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a signal to this server's process (and no other).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill").arg(format!("-{name}")).arg(self.pid().to_string()).status().unwrap();
        assert!(ok.success());
    }

    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The server's resident memory (`VmRSS` of proc(5)), in KiB.
    pub fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").parse().unwrap()))
            .unwrap()
    }

    /// CPU time (user + system) the server has used, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the parenthesised command name; utime and stime are
        // fields 14 and 15 of proc(5), i.e. 12th and 13th after ")".
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
