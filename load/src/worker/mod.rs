//! One worker process: a mio loop that holds this process's share of the
//! connections and plays the scenario's client part on each of them. The
//! coordinator steers it through stdin (`go`, `measure`, `stop`) and reads
//! its progress and results from stdout, one line each (see [`Line`]).
//!
//! Several processes, because one may hold at most 20,000 open files here.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod traffic;

use crossbeam_channel::{Receiver, TryRecvError};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::cli::{Options, Proto, Scenario};
use crate::hist::Hist;
use crate::procfs;
use pushwire_proto::http::chunked::Dechunk;
use pushwire_proto::http::client as http;
use pushwire_proto::http::client::BodyReader;
use pushwire_proto::sse;
use pushwire_proto::ws::client;

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
    /// Fragments of a WebSocket message (plaintext: the response body).
    frag: Vec<u8>,
    /// A fragmented WebSocket message is open (its first frame had no FIN).
    in_message: bool,
    /// Next sequence number: to send (echo), or expected (subscribers).
    next: u64,
    /// Echo: next sequence number whose echo is due. Plaintext: the time
    /// (unix ns) the request in flight was sent, or was due when paced.
    due: u64,
    /// Paced plaintext (`--probe-every`): when the next request is due
    /// (unix ns), while it waits for that time; 0 otherwise.
    send_at: u64,
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
    /// Paced plaintext: ns between one request's due time and the next's.
    pace: Option<u64>,
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
    let pace = opts.probe_every.filter(|_| role == Role::Plaintext).map(|d| d.as_nanos() as u64);
    let mut w = Worker {
        opts,
        role,
        pace,
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
            let mut timeout = next_tick.saturating_duration_since(std::time::Instant::now());
            if let Some(at) = self.next_send() {
                timeout = timeout.min(Duration::from_nanos(at.saturating_sub(unix_ns())));
            }
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
            self.send_due();
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
                in_message: false,
                next: 0,
                due: 0,
                send_at: 0,
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

    /// Paced plaintext: the earliest time a connection waits to send at.
    fn next_send(&self) -> Option<u64> {
        self.pace?;
        self.clients.iter().map(|c| c.send_at).filter(|&at| at != 0).min()
    }

    /// Paced plaintext: sends every request whose time has come.
    fn send_due(&mut self) {
        if self.pace.is_none() || !self.running {
            return;
        }
        let now = unix_ns();
        for i in 0..self.clients.len() {
            let at = self.clients[i].send_at;
            if at != 0 && at <= now && self.clients[i].stage == Stage::Open {
                self.clients[i].send_at = 0;
                self.send_plaintext_at(i, at);
                self.flush(i);
            }
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
        let path = self.opts.sub_path();
        let client = &mut self.clients[i];
        client.stage = Stage::Handshake;
        match self.role {
            Role::WsSubscriber => {
                client::handshake_request(&host, &path, &client::key(index as u64), &mut client.out)
            }
            Role::Echo => {
                client::handshake_request(&host, "/ws/echo", &client::key(index as u64), &mut client.out)
            }
            Role::SseSubscriber => {
                http::request("GET", &host, &path, &[("Accept", "text/event-stream")], b"", &mut client.out)
            }
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
}
