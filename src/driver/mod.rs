//! The mio driver: owns the sockets, the clock, the slab and the buffers, and
//! carries bytes between them and the sans-IO protocol code. It contains no
//! protocol rule of its own.
//!
//! One single-threaded loop (mio's contract, taken literally): sockets are
//! edge-triggered, so every read and accept is drained to `WouldBlock`;
//! spurious events are harmless (an operation that would block just stops);
//! interest is derived from each connection's state and re-registered only
//! when it changes; other threads reach the loop through [`Handle`].
//!
//! ```text
//! poll ─► accept ─► Conn (slab) ─► read into the loop-wide buffer ─► serve
//!   ▲                                                       │
//!   └─ timeout = wheel.next_deadline()   flush (writev) ◄───┘
//!      (0 while output waits for budget)  ≤ WRITE_BUDGET a pass
//! ```
//!
//! A pass writes at most [`WRITE_BUDGET`] bytes (short queues excepted, see
//! [`crate::config::SMALL_WRITE`]); connections it did not reach carry over,
//! first in line, to the next pass, so a large fan-out goes out in slices
//! with other sockets' events served between them.

mod accept;
mod clock;
mod conn;
mod inbox;
mod serve;
mod socket;
mod stream;
mod websocket;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

pub use inbox::{Command, Handle};

use crate::app::{Action, App, Context, TimerToken};
use crate::config::{Config, READ_BUFFER, WRITE_BUDGET};
use crate::conn::{QueuePool, Table, Timeouts};
use crate::files::Files;
use crate::http::date::DateCache;
use crate::key::ConnKey;
use crate::stats::Stats;
use crate::timer::Wheel;
use clock::Clock;

const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);

/// What a wheel entry that is not a connection's deadline is for.
#[derive(Clone, Copy, Debug)]
enum Timer {
    AcceptRetry,
    DrainDeadline,
    /// The sweep that sends every stream its heartbeat comment.
    Heartbeat,
    /// A timer the app asked for.
    App(TimerToken),
}

/// Why accepting is paused, if it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Paused {
    MaxConns,
    /// EMFILE/ENFILE or another resource error from accept.
    OutOfResources,
}

pub struct Server {
    poll: Poll,
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    paused: Option<Paused>,
    /// The connections, by slab index, and their deadlines.
    conns: Table<TcpStream>,
    read_buf: Box<[u8]>,
    pool: QueuePool,
    /// Actions from the app waiting to be carried out.
    actions: Vec<Action>,
    /// Connections with output queued from outside their own event, to be
    /// flushed once at the end of the loop pass, and those the pass's write
    /// budget did not reach (at the front: they go first next pass).
    dirty: VecDeque<usize>,
    /// Bytes this loop pass may still write ([`WRITE_BUDGET`] per pass).
    budget: usize,
    wheel: Wheel<Timer>,
    expired: Vec<(u64, Timer)>,
    clock: Clock,
    now: u64,
    unix_ms: u64,
    date: DateCache,
    /// The connection timeouts of `config`, in ms, as the rules take them.
    timeouts: Timeouts,
    inbox: Receiver<Command>,
    handle: Handle,
    /// Set once a shutdown was asked for.
    draining: bool,
    /// `perform` is running (it is not re-entrant; see there).
    performing: bool,
    app: App,
    files: Files,
    stats: Stats,
    config: Config,
}

impl Server {
    /// Binds the listener and prepares the loop; nothing is served until
    /// [`Server::run`].
    pub fn bind(config: Config) -> io::Result<Server> {
        let files = Files::new(&config.www)
            .map_err(|e| io::Error::new(e.kind(), format!("--www {}: {e}", config.www.display())))?;
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(config.listen)
            .map_err(|e| io::Error::new(e.kind(), format!("--listen {}: {e}", config.listen)))?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (handle, inbox) = Handle::new(waker);
        let clock = Clock::new();
        let mut wheel = Wheel::new(0);
        wheel.insert(config.heartbeat.as_millis() as u64, Timer::Heartbeat);
        log::info!(
            "serving {} (max {} connections)",
            files.root().display(),
            match config.max_conns {
                0 => "unlimited".to_string(),
                n => n.to_string(),
            }
        );
        Ok(Server {
            poll,
            local_addr: listener.local_addr()?,
            listener: Some(listener),
            paused: None,
            conns: Table::default(),
            read_buf: vec![0; READ_BUFFER].into_boxed_slice(),
            pool: QueuePool::default(),
            actions: Vec::new(),
            dirty: VecDeque::new(),
            budget: WRITE_BUDGET,
            wheel,
            expired: Vec::new(),
            date: DateCache::new(clock.unix_ms() / 1000),
            timeouts: Timeouts {
                header: config.header_timeout.as_millis() as u64,
                keepalive: config.keepalive_timeout.as_millis() as u64,
                linger: crate::config::LINGER.as_millis() as u64,
            },
            unix_ms: clock.unix_ms(),
            clock,
            now: 0,
            inbox,
            handle,
            draining: false,
            performing: false,
            app: App::new(&config),
            files,
            stats: Stats::default(),
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle other threads use to reach the loop.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Runs until a shutdown has drained every connection.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let next = match (self.wheel.next_deadline(), self.conns.next_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timeout = next.map(|at| Duration::from_millis(at.saturating_sub(self.now)));
            // Output the last pass's budget did not reach: look for events,
            // but do not wait for them.
            let timeout = if self.dirty.is_empty() { timeout } else { Some(Duration::ZERO) };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.budget = WRITE_BUDGET;
            self.tick();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => self.drain_inbox(),
                    Token(index) => self.on_ready(index, event),
                }
            }
            self.tick();
            self.fire_timers();
            self.flush_dirty();
            if self.draining && self.conns.is_empty() {
                log::info!("drained; exiting");
                return Ok(());
            }
        }
    }

    fn tick(&mut self) {
        self.now = self.clock.now_ms();
        self.unix_ms = self.clock.unix_ms();
        self.date.update(self.unix_ms / 1000);
    }

    fn drain_inbox(&mut self) {
        while let Ok(command) = self.inbox.try_recv() {
            match command {
                Command::Shutdown => self.shutdown(),
            }
        }
    }

    /// SPEC §1: stop accepting, finish in-flight responses, then exit. Idle
    /// connections close now; busy ones close after their current response,
    /// and whatever is left at the drain deadline is closed then.
    fn shutdown(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        if let Some(mut listener) = self.listener.take() {
            if self.paused.is_none() {
                let _ = self.poll.registry().deregister(&mut listener);
            }
        }
        let plan = self.conns.drain(self.now, self.config.drain.as_millis() as u64);
        log::info!(
            "shutting down: {} idle connections closed, {} finishing (at most {:?})",
            plan.idle.len(),
            self.conns.len() - plan.idle.len(),
            self.config.drain
        );
        for index in plan.idle {
            self.close(index, "shutdown");
        }
        for index in plan.parked {
            self.stream_deadline(index);
        }
        self.drain_streams();
        let deadline = plan.deadline;
        self.wheel.insert(deadline, Timer::DrainDeadline);
    }

    /// Connection deadlines fire first, then the other timers: within one
    /// pass the two wheels are not interleaved by deadline. Only a stalled
    /// loop could tell (an app timer due earlier then runs after a
    /// connection deadline due later), and nothing orders the two kinds.
    fn fire_timers(&mut self) {
        self.conns.advance(self.now);
        while let Some(index) = self.conns.next_due(self.now) {
            self.on_deadline(index);
        }
        self.wheel.advance(self.now, &mut self.expired);
        let mut expired = std::mem::take(&mut self.expired);
        for (_, timer) in expired.drain(..) {
            match timer {
                Timer::AcceptRetry => self.resume_accept(),
                Timer::Heartbeat => self.heartbeat(),
                Timer::App(token) => {
                    // App timers are not tied to a connection; the key names none.
                    let cx = Context {
                        key: ConnKey { index: u32::MAX, gen: 0 },
                        now: self.now,
                        unix_ms: self.unix_ms,
                        stats: &self.stats,
                    };
                    self.app.on_timer(token, &cx, &mut self.actions);
                    self.perform();
                }
                Timer::DrainDeadline => {
                    let left: Vec<usize> = self.conns.iter().map(|(i, _)| i).collect();
                    if !left.is_empty() {
                        log::warn!("drain deadline passed; closing {} connections", left.len());
                    }
                    for index in left {
                        self.close(index, "drain deadline");
                    }
                }
            }
        }
        self.expired = expired;
    }

    fn after(&self, d: Duration) -> u64 {
        self.now + d.as_millis() as u64
    }
}
