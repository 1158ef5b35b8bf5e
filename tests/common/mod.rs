//! Shared test harness: start the real `pushwire` binary on a free loopback
//! port, talk to it over real sockets, stop it by its PID.
#![allow(dead_code)]

pub mod stream;

use std::io::{BufRead, BufReader, Read, Write};
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

/// A response as read off the wire.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response; `head_only` for answers to HEAD. Content-Length
/// delimits the body (pushwire always sends it); `None` if the connection
/// closed before a response began.
pub fn read_reply(stream: &mut TcpStream, buf: &mut Vec<u8>, head_only: bool) -> Option<Reply> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 65536];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => {
                assert!(
                    buf.is_empty(),
                    "connection ended inside a response head: {:?}",
                    String::from_utf8_lossy(buf)
                );
                return None;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8(buf[..end].to_vec()).expect("head is ASCII");
    let status: u16 = head[9..12].parse().expect("status code");
    let mut reply = Reply { status, head, body: Vec::new() };
    let len = match reply.header("content-length") {
        Some(v) if !head_only => v.parse::<usize>().unwrap(),
        _ => 0,
    };
    while buf.len() < end + len {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).expect("body");
        assert!(n > 0, "connection ended inside a body");
        buf.extend_from_slice(&chunk[..n]);
    }
    reply.body = buf[end..end + len].to_vec();
    buf.drain(..end + len);
    Some(reply)
}

/// Writes `request` on a fresh connection and reads one response.
pub fn exchange(server: &Server, request: &[u8]) -> Reply {
    let mut s = server.connect();
    s.write_all(request).unwrap();
    let head_only = request.starts_with(b"HEAD ");
    read_reply(&mut s, &mut Vec::new(), head_only).expect("a response")
}

pub fn get(server: &Server, path: &str) -> Reply {
    exchange(server, format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
}

/// A figure from `/stats` (`"key":N`), read with a plain GET.
pub fn stat(server: &Server, key: &str) -> u64 {
    let json = get(server, "/stats").text();
    let at = json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {json}")) + key.len() + 3;
    json[at..].split([',', '}']).next().unwrap().parse().unwrap()
}

/// Whether the server closed the connection (EOF) within `within`.
pub fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Runs curl (a client we did not write) and returns (status line + headers, body).
pub fn curl(args: &[&str]) -> (String, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!(
        "pushwire-curl-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let headers = dir.join("headers");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-D"])
        .arg(&headers)
        .args(args)
        .output()
        .expect("curl is installed (scripts/test.sh installs it)");
    let head = std::fs::read_to_string(&headers).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (head, out.stdout)
}

pub fn write_all(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).unwrap();
}

/// For a reader's `until`: the end of the first `pattern` in the buffer.
pub fn after(pattern: &'static [u8]) -> impl Fn(&[u8]) -> Option<usize> {
    move |buf| buf.windows(pattern.len()).position(|w| w == pattern).map(|i| i + pattern.len())
}

/// The end of the next thing on an event stream: a comment line (SPEC §4: a
/// heartbeat is `: heartbeat\n`, with no blank line after it) at its LF, an
/// event at the blank line that ends its block. A block never starts with a
/// comment here: the server writes comments only between events.
pub fn sse_unit(buf: &[u8]) -> Option<usize> {
    match buf.first()? {
        b':' => after(b"\n")(buf),
        _ => after(b"\n\n")(buf),
    }
}
