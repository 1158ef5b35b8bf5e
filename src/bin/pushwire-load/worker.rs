//! One worker process: a mio loop that holds this process's share of the
//! connections and plays the scenario's client part on each of them. The
//! coordinator steers it through stdin (`go`, `measure`, `stop`) and reads
//! its progress and results from stdout, one line each (see [`Line`]).
//!
//! Several processes, because one may hold at most 20,000 open files here.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, TryRecvError};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::cli::{Options, Proto, Scenario};
use crate::hist::Hist;
use crate::payload;
use crate::procfs;
use crate::wire::body::{BodyReader, Dechunk};
use crate::wire::http::{self, Body};
use crate::wire::sse;
use crate::wire::ws::{self, OpCode};

const WAKER: Token = Token(usize::MAX);
/// Connections still in their handshake, at most: more would only overflow
/// the server's accept backlog, and a dropped SYN costs a 1 s retransmit.
const MAX_PENDING: usize = 256;
/// Largest message accepted from the server.
const MAX_MESSAGE: u64 = 16 << 20;
/// How often progress goes to the coordinator; fan-out's publisher paces on it.
const TICK: Duration = Duration::from_millis(10);

/// Where a connection is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    /// TCP connect in progress.
    Connecting,
    /// Request written, waiting for the response head (101, or 200 for SSE).
    Handshake,
    /// Carrying the scenario's traffic.
    Open,
    /// Ended: by the server, by an error, or never connected.
    Closed,
}

/// What every connection speaks once open.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    WsSubscriber,
    SseSubscriber,
    Echo,
    Plaintext,
}

struct Client {
    stream: TcpStream,
    stage: Stage,
    /// Received bytes not yet consumed (a partial frame, line or response).
    buf: Vec<u8>,
    /// Bytes not yet written.
    out: Vec<u8>,
    /// SSE: de-chunked bytes waiting for the event parser.
    dechunk: Option<Dechunk>,
    sse: Option<Box<sse::Parser>>,
    /// Plaintext: the response being read.
    body: Option<(BodyReader, u16)>,
    /// Fragments of a WebSocket message.
    frag: Vec<u8>,
    /// Next sequence number: to send (echo), or expected (subscribers).
    next: u64,
    /// Echo: next sequence number whose echo is due. Plaintext: send time.
    due: u64,
    /// Messages this connection received, ever.
    msgs: u64,
}

/// Counters of one measuring window (reset by `measure`).
#[derive(Default)]
struct Counters {
    msgs: u64,
    bytes_in: u64,
    bytes_out: u64,
    sent: u64,
}

struct Worker {
    opts: Options,
    role: Role,
    poll: Poll,
    clients: Vec<Client>,
    first: usize,
    count: usize,
    started: usize,
    pending: usize,
    connected: usize,
    failed: usize,
    closed: usize,
    /// Connections that received at least one message.
    reached: usize,
    errors: u64,
    /// Subscribers: sequence numbers skipped, and ones that came again or
    /// late, over the whole run (not reset by `measure`).
    gaps: u64,
    dups: u64,
    notes: Vec<String>,
    running: bool,
    measuring: bool,
    c: Counters,
    hist: Hist,
    scratch: Vec<u8>,
    sse_scratch: Vec<u8>,
    plain_scratch: Vec<u8>,
    msg_scratch: Vec<u8>,
    now: u64,
    out: io::BufWriter<io::Stdout>,
}

pub fn unix_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// `pushwire-load __worker FIRST COUNT -- ARGS...`: holds connections
/// FIRST..FIRST+COUNT of the run described by ARGS.
pub fn main(first: usize, count: usize, opts: Options) -> io::Result<()> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let (tx, commands) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() || waker.wake().is_err() {
                break;
            }
        }
        // The coordinator is gone: stop.
        let _ = tx.send("stop".into());
        let _ = waker.wake();
    });
    let role = match (opts.scenario, opts.proto) {
        (Scenario::Echo, _) => Role::Echo,
        (Scenario::Plaintext, _) => Role::Plaintext,
        (_, Proto::Ws) => Role::WsSubscriber,
        (_, Proto::Sse) => Role::SseSubscriber,
    };
    let mut w = Worker {
        opts,
        role,
        poll,
        clients: Vec::with_capacity(count),
        first,
        count,
        started: 0,
        pending: 0,
        connected: 0,
        failed: 0,
        closed: 0,
        reached: 0,
        errors: 0,
        gaps: 0,
        dups: 0,
        notes: Vec::new(),
        running: false,
        measuring: false,
        c: Counters::default(),
        hist: Hist::new(),
        scratch: vec![0; 256 << 10],
        sse_scratch: Vec::new(),
        plain_scratch: Vec::new(),
        msg_scratch: Vec::new(),
        now: unix_ns(),
        out: io::BufWriter::new(io::stdout()),
    };
    w.run(&commands)
}

impl Worker {
    fn run(&mut self, commands: &Receiver<String>) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut cpu_at_measure = procfs::self_cpu_ns().unwrap_or(0);
        let mut ready_sent = false;
        let mut next_tick = std::time::Instant::now();
        self.start_connects();
        loop {
            let timeout = next_tick.saturating_duration_since(std::time::Instant::now());
            match self.poll.poll(&mut events, Some(timeout)) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            for event in events.iter() {
                if event.token() == WAKER {
                    continue;
                }
                // epoll(7) Q&A 9: a short read has exhausted the socket, so
                // the read that would say EAGAIN can be skipped, unless the
                // FIN came in the same edge (see pushwire's driver/socket.rs).
                let short_read_ends = !event.is_read_closed() && !event.is_error();
                self.on_event(event.token().0, event.is_readable(), event.is_writable(), short_read_ends);
            }
            self.start_connects();
            loop {
                match commands.try_recv() {
                    Ok(cmd) => match cmd.as_str() {
                        "go" => self.go(),
                        "measure" => {
                            self.c = Counters::default();
                            self.hist = Hist::new();
                            self.measuring = true;
                            cpu_at_measure = procfs::self_cpu_ns().unwrap_or(0);
                        }
                        "stop" => {
                            let cpu = procfs::self_cpu_ns().unwrap_or(0).saturating_sub(cpu_at_measure);
                            return self.finish(cpu);
                        }
                        other => self.note(format!("unknown command '{other}'")),
                    },
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Ok(()),
                }
            }
            if std::time::Instant::now() >= next_tick {
                next_tick += TICK;
                let settled = self.started == self.count && self.pending == 0;
                if settled && !ready_sent {
                    ready_sent = true;
                    writeln!(self.out, "ready {} {}", self.connected, self.failed)?;
                }
                self.progress()?;
            }
        }
    }

    /// `p CONNECTED FAILED CLOSED REACHED MSGS MIN_NEXT ERRORS`
    fn progress(&mut self) -> io::Result<()> {
        let min_next =
            self.clients.iter().filter(|c| c.stage == Stage::Open).map(|c| c.next).min().unwrap_or(u64::MAX);
        writeln!(
            self.out,
            "p {} {} {} {} {} {} {}",
            self.connected, self.failed, self.closed, self.reached, self.c.msgs, min_next, self.errors
        )?;
        self.out.flush()
    }

    fn finish(&mut self, cpu_ns: u64) -> io::Result<()> {
        let c = &self.c;
        writeln!(
            self.out,
            "done msgs={} bytes_in={} bytes_out={} sent={} gaps={} dups={} errors={} connected={} failed={} closed={} reached={} cpu_ns={}",
            c.msgs, c.bytes_in, c.bytes_out, c.sent, self.gaps, self.dups, self.errors, self.connected, self.failed, self.closed, self.reached, cpu_ns
        )?;
        let lost = self.clients.iter().filter(|c| c.stage == Stage::Open).map(|c| c.next).collect::<Vec<_>>();
        let total_next: u64 = lost.iter().sum();
        writeln!(self.out, "next {} {}", total_next, lost.len())?;
        for note in &self.notes {
            writeln!(self.out, "note {note}")?;
        }
        writeln!(self.out, "hist {}", self.hist.to_line())?;
        writeln!(self.out, "end")?;
        self.out.flush()
    }

    fn note(&mut self, text: String) {
        self.errors += 1;
        if self.notes.len() < 5 {
            self.notes.push(text);
        }
    }

    fn start_connects(&mut self) {
        while self.started < self.count && self.pending < MAX_PENDING {
            let index = self.first + self.started;
            self.started += 1;
            let addr = self.opts.destination(index);
            let stream = match TcpStream::connect(addr) {
                Ok(s) => s,
                Err(e) => {
                    self.failed += 1;
                    self.note(format!("connect {addr}: {e}"));
                    continue;
                }
            };
            let token = Token(self.clients.len());
            let mut client = Client {
                stream,
                stage: Stage::Connecting,
                buf: Vec::new(),
                out: Vec::new(),
                dechunk: None,
                sse: None,
                body: None,
                frag: Vec::new(),
                next: 0,
                due: 0,
                msgs: 0,
            };
            if let Err(e) = self.poll.registry().register(
                &mut client.stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                self.failed += 1;
                self.note(format!("register: {e}"));
                continue;
            }
            self.pending += 1;
            self.clients.push(client);
        }
    }

    /// Starts traffic: echo and plaintext send their first messages.
    fn go(&mut self) {
        self.running = true;
        for i in 0..self.clients.len() {
            if self.clients[i].stage == Stage::Open {
                self.kick(i);
                self.flush(i);
            }
        }
    }

    fn kick(&mut self, i: usize) {
        match self.role {
            Role::Echo => {
                for _ in 0..self.opts.inflight {
                    self.send_echo(i);
                }
            }
            Role::Plaintext => self.send_plaintext(i),
            Role::WsSubscriber | Role::SseSubscriber => {}
        }
    }

    fn on_event(&mut self, i: usize, readable: bool, writable: bool, short_read_ends: bool) {
        let Some(client) = self.clients.get_mut(i) else { return };
        if client.stage == Stage::Closed {
            return;
        }
        if client.stage == Stage::Connecting {
            // Writable after a non-blocking connect: done, one way or the other.
            if let Ok(Some(e)) | Err(e) = client.stream.take_error() {
                return self.fail(i, format!("connect: {e}"));
            }
            match client.stream.peer_addr() {
                Ok(_) => self.on_connected(i),
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(e) => return self.fail(i, format!("connect: {e}")),
            }
        }
        if readable {
            self.read(i, short_read_ends);
        }
        if writable || !self.clients[i].out.is_empty() {
            self.flush(i);
        }
    }

    fn on_connected(&mut self, i: usize) {
        let index = self.first + i;
        let host = self.opts.host.clone();
        let client = &mut self.clients[i];
        client.stage = Stage::Handshake;
        match self.role {
            Role::WsSubscriber => {
                ws::handshake_request(&host, "/topics/bench", &ws::key(index as u64), &mut client.out)
            }
            Role::Echo => ws::handshake_request(&host, "/ws/echo", &ws::key(index as u64), &mut client.out),
            Role::SseSubscriber => http::request(
                "GET",
                &host,
                "/topics/bench",
                &[("Accept", "text/event-stream")],
                b"",
                &mut client.out,
            ),
            Role::Plaintext => {
                // Plain HTTP has no handshake: open at once.
                client.stage = Stage::Open;
                self.pending -= 1;
                self.connected += 1;
                if self.running {
                    self.kick(i);
                }
            }
        }
    }

    fn fail(&mut self, i: usize, why: String) {
        let client = &mut self.clients[i];
        match client.stage {
            Stage::Connecting | Stage::Handshake => {
                self.pending -= 1;
                self.failed += 1;
            }
            Stage::Open => self.closed += 1,
            Stage::Closed => return,
        }
        client.stage = Stage::Closed;
        let _ = self.poll.registry().deregister(&mut client.stream);
        let _ = client.stream.shutdown(std::net::Shutdown::Both);
        client.buf = Vec::new();
        client.out = Vec::new();
        self.note(format!("conn {}: {why}", self.first + i));
    }

    fn flush(&mut self, i: usize) {
        let client = &mut self.clients[i];
        while !client.out.is_empty() {
            match client.stream.write(&client.out) {
                Ok(0) => return self.fail(i, "write returned 0".into()),
                Ok(n) => {
                    if self.measuring {
                        self.c.bytes_out += n as u64;
                    }
                    client.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return self.fail(i, format!("write: {e}")),
            }
        }
    }

    fn read(&mut self, i: usize, short_read_ends: bool) {
        let mut scratch = std::mem::take(&mut self.scratch);
        loop {
            let client = &mut self.clients[i];
            if client.stage == Stage::Closed {
                break;
            }
            match client.stream.read(&mut scratch) {
                Ok(0) => {
                    self.fail(i, "closed by the server".into());
                    break;
                }
                Ok(n) => {
                    let short = short_read_ends && n < scratch.len();
                    self.now = unix_ns();
                    if self.measuring {
                        self.c.bytes_in += n as u64;
                    }
                    let client = &mut self.clients[i];
                    if client.buf.is_empty() {
                        let used = self.consume(i, &scratch[..n]);
                        if let Some(rest) = scratch.get(used..n) {
                            if self.clients[i].stage != Stage::Closed {
                                self.clients[i].buf.extend_from_slice(rest);
                            }
                        }
                    } else {
                        client.buf.extend_from_slice(&scratch[..n]);
                        let buf = std::mem::take(&mut self.clients[i].buf);
                        let used = self.consume(i, &buf);
                        let mut buf = buf;
                        buf.drain(..used.min(buf.len()));
                        if self.clients[i].stage != Stage::Closed {
                            if buf.is_empty() && buf.capacity() > 64 << 10 {
                                buf = Vec::new();
                            }
                            self.clients[i].buf = buf;
                        }
                    }
                    if short {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(i, format!("read: {e}"));
                    break;
                }
            }
        }
        self.scratch = scratch;
    }

    /// Handles the bytes `data` of connection `i`; returns how many it used.
    fn consume(&mut self, i: usize, data: &[u8]) -> usize {
        let mut used = 0;
        while used < data.len() {
            let rest = &data[used..];
            let n = match self.clients[i].stage {
                Stage::Handshake => self.handshake(i, rest),
                Stage::Open => match self.role {
                    Role::WsSubscriber | Role::Echo => self.ws_frames(i, rest),
                    Role::SseSubscriber => self.sse_bytes(i, rest),
                    Role::Plaintext => self.plaintext(i, rest),
                },
                Stage::Connecting | Stage::Closed => return data.len(),
            };
            match n {
                Some(0) | None => break,
                Some(n) => used += n,
            }
        }
        used
    }

    fn handshake(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let head = match http::parse_head(data, false) {
            Ok(Some(head)) => head,
            Ok(None) => return Some(0),
            Err(e) => {
                self.fail(i, format!("bad response head: {e}"));
                return None;
            }
        };
        let index = (self.first + i) as u64;
        let ok = match self.role {
            Role::WsSubscriber | Role::Echo => {
                head.status == 101
                    && head.accept.as_deref() == Some(ws::expected_accept(&ws::key(index)).as_str())
            }
            _ => head.status == 200 && head.event_stream,
        };
        if !ok {
            self.fail(
                i,
                format!(
                    "handshake answered {} (expected {})",
                    head.status,
                    if self.role == Role::SseSubscriber {
                        "200 text/event-stream"
                    } else {
                        "101 with the right accept"
                    }
                ),
            );
            return None;
        }
        let client = &mut self.clients[i];
        client.stage = Stage::Open;
        if self.role == Role::SseSubscriber {
            client.sse = Some(Box::new(sse::Parser::new()));
            if head.body == Body::Chunked {
                client.dechunk = Some(Dechunk::new());
            }
        }
        self.pending -= 1;
        self.connected += 1;
        if self.running {
            self.kick(i);
        }
        Some(head.len)
    }

    fn ws_frames(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let mut used = 0;
        loop {
            let (frame, n) = match ws::decode(&data[used..], MAX_MESSAGE) {
                Ok(Some(f)) => f,
                Ok(None) => return Some(used),
                Err(e) => {
                    // §7.1.7: to _Fail the WebSocket Connection_ a client
                    // sends the Close frame it can, then drops the TCP connection.
                    let client = &mut self.clients[i];
                    ws::encode(
                        OpCode::Close,
                        &e.close_code().to_be_bytes(),
                        mask_for(client.next),
                        &mut client.out,
                    );
                    self.flush(i);
                    self.fail(i, format!("bad frame: {e}"));
                    return None;
                }
            };
            used += n;
            match frame.opcode {
                OpCode::Text | OpCode::Binary if frame.fin => self.on_message(i, frame.payload),
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    let client = &mut self.clients[i];
                    client.frag.extend_from_slice(frame.payload);
                    if frame.fin {
                        let msg = std::mem::take(&mut client.frag);
                        self.on_message(i, &msg);
                    }
                }
                OpCode::Ping => {
                    // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an
                    // endpoint MUST send a Pong frame in response".
                    let client = &mut self.clients[i];
                    ws::encode(OpCode::Pong, frame.payload, mask_for(client.next), &mut client.out);
                }
                OpCode::Pong => {}
                OpCode::Close => {
                    let (code, _) = ws::close_body(frame.payload);
                    self.fail(
                        i,
                        format!(
                            "closed by the server with {}",
                            code.map_or("no code".into(), |c| c.to_string())
                        ),
                    );
                    return None;
                }
            }
            if self.clients[i].stage == Stage::Closed {
                return None;
            }
        }
    }

    fn sse_bytes(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let client = &mut self.clients[i];
        let mut parser = client.sse.take()?;
        let mut events = std::mem::take(&mut self.sse_scratch);
        events.clear();
        let used = match client.dechunk.as_mut() {
            Some(dechunk) => {
                let mut plain = std::mem::take(&mut self.plain_scratch);
                plain.clear();
                let fed = dechunk.feed(data, &mut plain);
                if fed.is_ok() {
                    parser.feed(&plain, |e| push_event(&mut events, e.data.as_bytes()));
                }
                self.plain_scratch = plain;
                match fed {
                    Ok(n) => n,
                    Err(e) => {
                        self.sse_scratch = events;
                        self.fail(i, format!("bad chunked body: {e}"));
                        return None;
                    }
                }
            }
            None => {
                parser.feed(data, |e| push_event(&mut events, e.data.as_bytes()));
                data.len()
            }
        };
        // The event-stream format sets no limit on a line or an event; ours
        // is the largest message we accept at all.
        if parser.buffered() as u64 > MAX_MESSAGE {
            self.sse_scratch = events;
            self.fail(i, format!("an event longer than {MAX_MESSAGE} bytes"));
            return None;
        }
        self.clients[i].sse = Some(parser);
        let mut at = 0;
        while let Some(len) = events.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes) {
            let start = at + 4;
            let end = start + len as usize;
            let Some(msg) = events.get(start..end) else { break };
            self.on_message(i, msg);
            at = end;
        }
        self.sse_scratch = events;
        Some(used)
    }

    fn plaintext(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let client = &mut self.clients[i];
        let mut used = 0;
        if client.body.is_none() {
            match http::parse_head(data, false) {
                Ok(Some(head)) => {
                    client.body = Some((BodyReader::new(head.body), head.status));
                    used = head.len;
                    client.frag.clear();
                }
                Ok(None) => return Some(0),
                Err(e) => {
                    self.fail(i, format!("bad response head: {e}"));
                    return None;
                }
            }
        }
        let client = &mut self.clients[i];
        let Some((reader, status)) = client.body.as_mut() else { return Some(used) };
        let status = *status;
        match reader.feed(&data[used..], &mut client.frag) {
            Ok((n, complete)) => {
                used += n;
                if complete {
                    client.body = None;
                    let body = std::mem::take(&mut client.frag);
                    if status != 200 || body != b"Hello, World!" {
                        self.note(format!(
                            "conn {}: /plaintext answered {status} {:?}",
                            self.first + i,
                            String::from_utf8_lossy(&body)
                        ));
                    }
                    self.clients[i].frag = body;
                    let sent = self.clients[i].due;
                    self.record(self.now.saturating_sub(sent));
                    if self.running {
                        self.send_plaintext(i);
                    }
                }
                Some(used)
            }
            Err(e) => {
                self.fail(i, format!("bad response body: {e}"));
                None
            }
        }
    }

    fn record(&mut self, latency: u64) {
        if self.measuring {
            self.c.msgs += 1;
            self.hist.record(latency);
        }
    }

    fn on_message(&mut self, i: usize, msg: &[u8]) {
        let client = &mut self.clients[i];
        client.msgs += 1;
        if client.msgs == 1 {
            self.reached += 1;
        }
        match self.role {
            Role::WsSubscriber | Role::SseSubscriber => {
                let Some((seq, sent)) = payload::read(msg) else {
                    // Not one of ours (the capacity broadcast is, too): counted
                    // as reached, nothing more.
                    return;
                };
                let client = &mut self.clients[i];
                if seq < client.next {
                    self.dups += 1;
                    return;
                }
                self.gaps += seq - client.next;
                client.next = seq + 1;
                self.record(self.now.saturating_sub(sent));
            }
            Role::Echo => {
                let client = &mut self.clients[i];
                let due = client.due;
                match payload::read(msg) {
                    Some((seq, sent)) if seq == due && payload::matches(msg, seq, sent, self.opts.size) => {
                        client.due += 1;
                        self.record(self.now.saturating_sub(sent));
                        if self.running {
                            self.send_echo(i);
                        }
                    }
                    _ => {
                        let shown = String::from_utf8_lossy(&msg[..msg.len().min(40)]).into_owned();
                        self.fail(i, format!("echo of message {due} came back wrong: {shown:?}"));
                    }
                }
            }
            Role::Plaintext => {}
        }
    }

    fn send_echo(&mut self, i: usize) {
        let client = &mut self.clients[i];
        let seq = client.next;
        client.next += 1;
        let msg = &mut self.msg_scratch;
        msg.clear();
        payload::write(seq, unix_ns(), self.opts.size, msg);
        ws::encode(OpCode::Text, msg, mask_for(seq), &mut client.out);
        if self.measuring {
            self.c.sent += 1;
        }
    }

    fn send_plaintext(&mut self, i: usize) {
        let host = &self.opts.host;
        let client = &mut self.clients[i];
        client.due = unix_ns();
        http::request("GET", host, "/plaintext", &[], b"", &mut client.out);
        if self.measuring {
            self.c.sent += 1;
        }
    }
}

/// Length-prefixed records, so the parser's callback can hand events out
/// without borrowing the connection.
fn push_event(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}

/// RFC 6455 §5.3: the masking key must be unpredictable to the *network*
/// (it defeats cache poisoning by intermediaries); on loopback any varying
/// key exercises the server's unmasking equally.
fn mask_for(seq: u64) -> [u8; 4] {
    ((seq as u32).wrapping_mul(0x9e37_79b9) | 1).to_be_bytes()
}
