//! `bytes`: what one update costs on the wire with each way of pushing it.
//! Four clients watch topic `bench` at once, one per method, while the
//! coordinator publishes `--updates` messages every `--interval`; each
//! client counts every byte it sends and receives (TCP payload: IP and TCP
//! headers, 40-52 bytes per segment, come on top).
//!
//! | method       | request pattern                                              |
//! | ------------ | ------------------------------------------------------------ |
//! | polling      | `GET /poll/bench?since=N&timeout=0` every interval / 4        |
//! | long-polling | `GET /poll/bench?since=N&timeout=30`, again on each answer    |
//! | sse          | one `GET /topics/bench` (`text/event-stream`)                 |
//! | websocket    | one upgrade on `/topics/bench`                               |
//!
//! `/poll` is pushwire's own; a server without it shows "not supported".

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::payload;
use crate::report::{arr, int, num, obj, s, Value};
use crate::run::{self, Ticker};
use pushwire_proto::http::chunked::Dechunk;
use pushwire_proto::http::client::BodyReader;
use pushwire_proto::http::client::{self as http, Body};
use pushwire_proto::sse;
use pushwire_proto::ws::{self, client, OpCode};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    Polling,
    LongPolling,
    Sse,
    WebSocket,
}

const METHODS: [Method; 4] = [Method::Polling, Method::LongPolling, Method::Sse, Method::WebSocket];

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Polling => "polling",
            Method::LongPolling => "long-polling",
            Method::Sse => "sse",
            Method::WebSocket => "websocket",
        }
    }
}

/// What one client counted.
#[derive(Default, Debug)]
struct Tally {
    /// The opening request and its answer's head (SSE, WebSocket), or the
    /// first poll: paid once, not per update.
    setup_up: u64,
    setup_down: u64,
    up: u64,
    down: u64,
    requests: u64,
    updates: u64,
    unsupported: Option<String>,
}

/// A counting connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    up: u64,
    down: u64,
}

impl Conn {
    fn open(opts: &Options) -> Result<Conn, String> {
        let stream = TcpStream::connect(opts.target).map_err(|e| format!("connect {}: {e}", opts.target))?;
        stream.set_read_timeout(Some(Duration::from_millis(20))).map_err(|e| e.to_string())?;
        Ok(Conn { stream, buf: Vec::new(), up: 0, down: 0 })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.up += bytes.len() as u64;
        self.stream.write_all(bytes).map_err(|e| format!("write: {e}"))
    }

    /// Reads what is there within the read timeout; false at EOF.
    fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 16 << 10];
        match self.stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.down += n as u64;
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(true)
            }
            Err(e) => Err(format!("read: {e}")),
        }
    }

    /// Reads one whole response: (status, body).
    fn response(&mut self, stop: &AtomicBool) -> Result<(u16, Vec<u8>), String> {
        loop {
            if let Some(head) = http::parse_head(&self.buf, false).map_err(|e| e.to_string())? {
                // RFC 9110 §15.2: interim answers come before the real one.
                if head.is_interim() {
                    self.buf.drain(..head.len);
                    continue;
                }
                let mut reader = BodyReader::new(head.body);
                let mut body = Vec::new();
                let mut at = head.len;
                loop {
                    let (n, done) = reader.feed(&self.buf[at..], &mut body).map_err(|e| e.to_string())?;
                    at += n;
                    if done {
                        self.buf.drain(..at);
                        return Ok((head.status, body));
                    }
                    if !self.fill()? || stop.load(Ordering::Relaxed) {
                        return Err("the answer did not end".into());
                    }
                }
            }
            if !self.fill()? {
                return Err("the server closed the connection".into());
            }
            if stop.load(Ordering::Relaxed) {
                return Err("stopped while waiting for an answer".into());
            }
        }
    }
}

pub fn run(opts: &Options) -> Result<(), String> {
    let mut ticker = Ticker::new(opts);
    // The current position of the topic, for the pollers' first `since`:
    // pushwire answers a publish with its id.
    let since = start_id(opts)?;
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = METHODS
        .iter()
        .map(|&m| {
            let (opts, stop) = (opts.clone(), Arc::clone(&stop));
            std::thread::spawn(move || watch(m, &opts, since, &stop))
        })
        .collect();
    // Let the streams open before the first update.
    std::thread::sleep(Duration::from_millis(300));
    for n in 0..opts.updates {
        let mut msg = Vec::new();
        payload::write(n as u64, crate::worker::unix_ns(), opts.size, &mut msg);
        let status = run::post_once(opts, &msg)?;
        if !(200..300).contains(&status) {
            return Err(format!("POST /topics/bench answered {status}"));
        }
        ticker.show(|| format!("bytes: {} of {} updates published", n + 1, opts.updates));
        std::thread::sleep(opts.interval);
    }
    stop.store(true, Ordering::Relaxed);
    let tallies: Vec<(Method, Result<Tally, String>)> = METHODS
        .iter()
        .zip(clients)
        .map(|(&m, t)| (m, t.join().unwrap_or_else(|_| Err("client thread panicked".into()))))
        .collect();
    ticker.done();

    let updates = opts.updates as u64;
    let mut rows = Vec::new();
    if !opts.quiet {
        println!(
            "bytes {}: {} updates of {} B, one every {} ms (TCP payload bytes, both directions)",
            opts.name,
            updates,
            opts.size,
            opts.interval.as_millis()
        );
        println!(
            "  {:<13} {:>9} {:>14} {:>14} {:>9} {:>8}",
            "method", "setup B", "per update B", "(w/o setup)", "requests", "updates"
        );
    }
    let mut failure = None;
    for (m, tally) in &tallies {
        let row = match tally {
            Ok(t) if t.unsupported.is_some() => {
                let why = t.unsupported.clone().unwrap_or_default();
                if !opts.quiet {
                    println!("  {:<13} not supported: {why}", m.name());
                }
                obj(vec![("method", s(m.name())), ("supported", Value::Bool(false)), ("why", s(&why))])
            }
            Ok(t) => {
                let setup = t.setup_up + t.setup_down;
                let per = (t.up + t.down) as f64 / updates as f64;
                let steady = (t.up + t.down - setup) as f64 / updates as f64;
                if !opts.quiet {
                    println!(
                        "  {:<13} {:>9} {:>14.1} {:>14.1} {:>9} {:>8}",
                        m.name(),
                        setup,
                        per,
                        steady,
                        t.requests,
                        t.updates
                    );
                }
                if t.updates != updates {
                    failure.get_or_insert(format!(
                        "{} received {} of {updates} updates",
                        m.name(),
                        t.updates
                    ));
                }
                obj(vec![
                    ("method", s(m.name())),
                    ("supported", Value::Bool(true)),
                    ("setup_bytes_up", int(t.setup_up)),
                    ("setup_bytes_down", int(t.setup_down)),
                    ("bytes_up", int(t.up)),
                    ("bytes_down", int(t.down)),
                    ("bytes_per_update", num(per)),
                    ("bytes_per_update_without_setup", num(steady)),
                    ("requests", int(t.requests)),
                    ("updates_received", int(t.updates)),
                ])
            }
            Err(e) => {
                failure.get_or_insert(format!("{}: {e}", m.name()));
                obj(vec![("method", s(m.name())), ("error", s(e))])
            }
        };
        rows.push(row);
    }
    let mut report = run::head(opts);
    report.extend([
        ("updates", int(updates)),
        ("size", int(opts.size as u64)),
        ("interval_ms", int(opts.interval.as_millis() as u64)),
        ("poll_interval_ms", int((opts.interval / 4).as_millis() as u64)),
        (
            "counted",
            s("TCP payload bytes, client to server (up) and back (down); setup included in the totals"),
        ),
        ("methods", arr(rows)),
    ]);
    run::write_outputs(opts, &obj(report), None)?;
    failure.map_or(Ok(()), Err)
}

fn start_id(opts: &Options) -> Result<u64, String> {
    let mut conn = Conn::open(opts)?;
    let mut req = Vec::new();
    http::request(
        "POST",
        &opts.host,
        "/topics/bench",
        &[("Content-Type", "text/plain")],
        b"bytes: start",
        &mut req,
    );
    conn.send(&req)?;
    let (status, body) = conn.response(&AtomicBool::new(false))?;
    if !(200..300).contains(&status) {
        return Err(format!("POST /topics/bench answered {status}"));
    }
    let id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("id").and_then(Value::as_u64));
    Ok(id.unwrap_or(0))
}

fn watch(method: Method, opts: &Options, since: u64, stop: &AtomicBool) -> Result<Tally, String> {
    match method {
        Method::Polling | Method::LongPolling => poll(method, opts, since, stop),
        Method::Sse | Method::WebSocket => stream(method, opts, stop),
    }
}

fn poll(method: Method, opts: &Options, mut since: u64, stop: &AtomicBool) -> Result<Tally, String> {
    let mut t = Tally::default();
    let mut conn = Conn::open(opts)?;
    let timeout = if method == Method::Polling { 0 } else { 30 };
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if method == Method::Polling {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next += opts.interval / 4;
        }
        let mut req = Vec::new();
        http::request(
            "GET",
            &opts.host,
            &format!("/poll/bench?since={since}&timeout={timeout}"),
            &[],
            b"",
            &mut req,
        );
        let (up, down) = (conn.up, conn.down);
        conn.send(&req)?;
        let (status, body) = match conn.response(stop) {
            Ok(answer) => answer,
            // Stopped while a long-poll waited: that request carried nothing.
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => return Err(e),
        };
        t.requests += 1;
        if status != 200 {
            t.unsupported = Some(format!("GET /poll/bench answered {status}"));
            return Ok(t);
        }
        if t.requests == 1 {
            (t.setup_up, t.setup_down) = (conn.up - up, conn.down - down);
        }
        let events: Value =
            serde_json::from_slice(&body).map_err(|e| format!("a poll answer is not JSON: {e}"))?;
        let Value::Array(events) = events else { return Err("a poll answer is not an array".into()) };
        for event in &events {
            if let Some(id) = event.get("id").and_then(Value::as_u64) {
                since = since.max(id);
            }
            if let Some(Value::String(data)) = event.get("data") {
                t.updates += u64::from(payload::read(data.as_bytes()).is_some());
            }
        }
    }
    (t.up, t.down) = (conn.up, conn.down);
    Ok(t)
}

fn stream(method: Method, opts: &Options, stop: &AtomicBool) -> Result<Tally, String> {
    let mut t = Tally::default();
    let mut conn = Conn::open(opts)?;
    let mut req = Vec::new();
    let key = client::key(0x6279_7465);
    match method {
        Method::WebSocket => client::handshake_request(&opts.host, "/topics/bench", &key, &mut req),
        _ => http::request(
            "GET",
            &opts.host,
            "/topics/bench",
            &[("Accept", "text/event-stream")],
            b"",
            &mut req,
        ),
    }
    conn.send(&req)?;
    t.requests = 1;
    let head = loop {
        match http::parse_head(&conn.buf, false).map_err(|e| e.to_string())? {
            // RFC 9110 §15.2: interim answers come before the real one.
            Some(head) if head.is_interim() => {
                conn.buf.drain(..head.len);
                continue;
            }
            Some(head) => break head,
            None => {}
        }
        if !conn.fill()? || stop.load(Ordering::Relaxed) {
            return Err("no answer to the opening request".into());
        }
    };
    let ok = match method {
        Method::WebSocket => {
            head.status == 101
                && head.upgrade_websocket
                && head.accept.as_deref() == Some(client::expected_accept(&key).as_str())
        }
        _ => head.status == 200 && head.event_stream,
    };
    if !ok {
        t.unsupported = Some(format!("the opening request answered {}", head.status));
        return Ok(t);
    }
    // Everything received up to the end of the head (interim ones included).
    let setup_down = conn.down - (conn.buf.len() - head.len) as u64;
    (t.setup_up, t.setup_down) = (conn.up, setup_down);
    conn.buf.drain(..head.len);
    let mut dechunk = (head.body == Body::Chunked).then(|| Dechunk::new(u64::MAX, usize::MAX));
    let mut parser = sse::Parser::new();
    let mut plain = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match method {
            Method::WebSocket => {
                let mut pong = Vec::new();
                let mut used = 0;
                while let Some((frame, n)) =
                    ws::decode_from_server(&conn.buf[used..], 1 << 20).map_err(|e| e.to_string())?
                {
                    used += n;
                    match frame.opcode {
                        OpCode::Text | OpCode::Binary => {
                            t.updates += u64::from(payload::read(frame.payload).is_some())
                        }
                        OpCode::Ping => {
                            ws::encode_masked(OpCode::Pong, frame.payload, [1, 2, 3, 4], &mut pong)
                        }
                        OpCode::Close => return Err("the server closed the WebSocket".into()),
                        _ => {}
                    }
                }
                conn.buf.drain(..used);
                if !pong.is_empty() {
                    conn.send(&pong)?;
                }
            }
            _ => {
                let bytes = std::mem::take(&mut conn.buf);
                let input = match dechunk.as_mut() {
                    Some(d) => {
                        plain.clear();
                        let used = d.feed(&bytes, &mut plain).map_err(|e| e.to_string())?;
                        conn.buf.extend_from_slice(&bytes[used..]);
                        &plain[..]
                    }
                    None => &bytes[..],
                };
                parser.feed(input, |e| t.updates += u64::from(payload::read(e.data.as_bytes()).is_some()));
            }
        }
        if !conn.fill()? {
            return Err("the server closed the stream".into());
        }
    }
    (t.up, t.down) = (conn.up, conn.down);
    Ok(t)
}
