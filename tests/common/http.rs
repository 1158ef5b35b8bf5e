//! HTTP/1.1 on a raw socket: one request, its answer as read off the wire;
//! and curl, a client we did not write.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::Duration;

use super::Server;

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

/// `HEAD path`: the answer's head (no body follows one).
pub fn head(server: &Server, path: &str) -> Reply {
    exchange(server, format!("HEAD {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
}

/// `POST path` with `body` as `content_type`.
pub fn post_as(server: &Server, path: &str, body: &[u8], content_type: &str) -> Reply {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    exchange(server, &req)
}

/// `POST path` with `body` said to be UTF-8 text (whether it is or not).
pub fn post_text(server: &Server, path: &str, body: &[u8]) -> Reply {
    post_as(server, path, body, "text/plain; charset=utf-8")
}

/// `POST /topics/{topic}` with `body` over a raw socket (a body of any size:
/// curl takes its `--data-binary` as one argument, which Linux caps at
/// 128 KiB). Returns the status line.
pub fn publish(server: &Server, topic: &str, body: &[u8]) -> String {
    let mut s = server.connect();
    let head = format!(
        "POST /topics/{topic} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    write_all(&mut s, head.as_bytes());
    write_all(&mut s, body);
    let mut reply = String::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.read_to_string(&mut reply);
    reply.lines().next().unwrap_or_default().to_string()
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
