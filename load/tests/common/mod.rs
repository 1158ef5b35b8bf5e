//! The pushwire server for pushwire-load's tests: built from this workspace,
//! started on a free loopback port, stopped by its PID when dropped.
//!
//! `CARGO_BIN_EXE_pushwire` exists only inside the `pushwire` package, so
//! the binary is found otherwise: `PUSHWIRE_BIN` when set (a script that has
//! built it), else `cargo build -p pushwire` into the target directory these
//! tests run from, once per test process (a no-op when it is up to date, as
//! it is under `cargo test --workspace`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

/// The workspace root: this package's parent.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("load/ is inside the workspace").to_path_buf()
}

/// The server binary, built once.
fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("PUSHWIRE_BIN") {
            return PathBuf::from(bin);
        }
        // This test runs as TARGET/PROFILE/deps/load-HASH.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("TARGET/PROFILE/deps");
        let target = profile_dir.parent().expect("TARGET/PROFILE");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.current_dir(workspace()).args(["build", "--quiet", "-p", "pushwire", "--bin", "pushwire"]);
        build.arg("--target-dir").arg(target);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build -p pushwire");
        assert!(status.success(), "cargo build -p pushwire failed");
        profile_dir.join("pushwire")
    })
}

pub struct Server {
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    /// Starts pushwire with `args` (after `--listen 127.0.0.1:0 --www www/`,
    /// so a later `--listen` wins) and waits for it to say where it listens.
    pub fn start(args: &[&str]) -> Server {
        let www = workspace().join("www");
        let mut child = Command::new(server_bin())
            .args(["--listen", "127.0.0.1:0", "--www", www.to_str().unwrap()])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pushwire");
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
        Server { addr, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
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

/// A figure from `/stats` (`"key":N`), read with a plain GET.
pub fn stat(server: &Server, key: &str) -> u64 {
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("a /stats answer");
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let at = body.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {body}")) + key.len() + 3;
    body[at..].split([',', '}']).next().unwrap().parse().unwrap()
}
