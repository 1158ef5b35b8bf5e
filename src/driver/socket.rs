//! Moving bytes for one connection: drain reads into the loop-wide buffer,
//! flush its queue with vectored writes, then settle what follows from its
//! state (half-close, close, new interest).

use std::io::{self, Read};
use std::net::Shutdown;

use mio::event::Event;

use super::conn::{interest, registered, set_registered, Phase};
use super::Server;
use crate::app::End;
use crate::config::SMALL_WRITE;
use crate::conn::ws::Budget;
use crate::conn::{Expired, Rest};

/// How a flush ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Flushed {
    /// Nothing is left queued (or the socket broke and will be closed).
    Done,
    /// The socket takes no more for now (`WouldBlock`); a writable edge will
    /// say when it does.
    Full,
    /// The pass's write budget ran out first: the connection is on the dirty
    /// list and goes on in a later pass. Says nothing about the client.
    Deferred,
}

impl Server {
    /// A readiness event. Spurious ones are fine: reads and writes that
    /// would block simply stop.
    pub(super) fn on_ready(&mut self, index: usize, event: &Event) {
        if !self.conns.contains(index) {
            return;
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            // epoll(7), "Questions and answers" 9: for a stream socket, "if
            // you call read(2) by asking to read a certain amount of data and
            // read(2) returns a lower number of bytes, you can be sure of
            // having exhausted the read I/O space for the file descriptor".
            // So a short read ends the drain and saves the read that would
            // only say EAGAIN (a third of the syscalls of a small request),
            // unless the peer's FIN came in the same event: data and FIN
            // arrive as one edge, and the read that returns 0 would get no
            // edge of its own. This is epoll's promise, so Linux only: mio's
            // portable contract is to read until `WouldBlock`, and its
            // Windows backend re-arms readiness only then. (TCP urgent data
            // also stops a read short with bytes left and no new edge; a
            // client that sends it stalls only its own connection.)
            let short_read_ends = cfg!(target_os = "linux") && !event.is_read_closed() && !event.is_error();
            self.read_some(index, short_read_ends);
        }
        self.settle(index);
    }

    /// Reads until `WouldBlock` (mio's edge-triggered contract), handing
    /// each read to the protocol before the next overwrites the buffer.
    pub(super) fn read(&mut self, index: usize) {
        self.read_some(index, false);
    }

    /// [`Server::read`], stopping after a short read when `short_read_ends`.
    fn read_some(&mut self, index: usize, short_read_ends: bool) {
        let mut buf = std::mem::take(&mut self.read_buf);
        while let Some(conn) = self.conns.get_mut(index) {
            if conn.read_closed() || conn.read_paused() || conn.broken() {
                break;
            }
            match conn.socket.read(&mut buf) {
                Ok(0) => conn.set_read_closed(true),
                Ok(n) => {
                    self.stats.bytes_in += n as u64;
                    match conn.phase() {
                        Phase::Http => self.http_input(index, &buf[..n]),
                        Phase::Ws { .. } => self.ws_input(index, &mut buf[..n]),
                        Phase::Parked { .. } => conn.hold_pipelined(&buf[..n], self.config.limits.max_head),
                        // Nothing is read from these (see `Phase`): discarded.
                        Phase::Sse { .. } | Phase::Closing => {}
                    }
                    if short_read_ends && n < buf.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("conn={index}/{} read: {e}", conn.gen);
                    conn.set_broken(true);
                }
            }
        }
        self.read_buf = buf;
    }

    /// Writes queued output until done, `WouldBlock`, or the end of the
    /// pass's write budget.
    pub(super) fn flush(&mut self, index: usize) -> Flushed {
        self.write_out(index, true)
    }

    /// [`Server::flush`]; `budgeted: false` writes whatever the budget says
    /// (and still counts against it). A queue of at most [`SMALL_WRITE`]
    /// bytes is written whole either way.
    pub(super) fn write_out(&mut self, index: usize, budgeted: bool) -> Flushed {
        let Some(conn) = self.conns.get_mut(index) else { return Flushed::Done };
        let mut broken = conn.broken();
        let Some(out) = conn.out.as_mut() else { return Flushed::Done };
        let unlimited = !budgeted || out.len() <= SMALL_WRITE;
        let mut wrote = false;
        let mut how = Flushed::Done;
        while !out.is_empty() && !broken {
            let max = if unlimited { usize::MAX } else { self.budget };
            if max == 0 {
                how = Flushed::Deferred;
                break;
            }
            match out.write_to(&mut conn.socket, max) {
                Ok(0) => broken = true,
                Ok(n) => {
                    self.stats.bytes_out += n as u64;
                    self.budget = self.budget.saturating_sub(n);
                    wrote = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    how = Flushed::Full;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("conn={index}/{} write: {e}", conn.gen);
                    broken = true;
                }
            }
        }
        let empty = out.is_empty();
        conn.set_broken(broken);
        if empty {
            if let Some(out) = conn.out.take() {
                self.pool.put(out);
            }
        }
        let at = if wrote { conn.wrote(self.now, &self.timeouts) } else { None };
        if let Some(at) = at {
            self.conns.schedule(index, at);
        }
        // Edge-triggered: a socket that still has room raises no event, so
        // the rest waits on the dirty list for the next pass.
        if how == Flushed::Deferred {
            self.mark_dirty(index);
        }
        how
    }

    /// Brings a connection to rest after anything happened to it: flush,
    /// resume a paused reader, half-close or close, and re-register interest
    /// only if it changed.
    pub(super) fn settle(&mut self, index: usize) {
        loop {
            self.flush(index);
            let Some(conn) = self.conns.get_mut(index) else { return };
            // Output drained below the cap: take up the requests that were
            // left waiting, then read what arrived meanwhile (edge-triggered:
            // no new event would announce it).
            if conn.resume_reading() {
                self.http_input(index, &[]);
                self.read(index);
                continue;
            }
            // A replay fed from history: more once the queue has room, within
            // the pass's write budget (a small queue is written whole, so
            // without this a fast reader could take all history in one pass).
            let pulling = conn.pulling();
            if pulling && self.budget > 0 && self.pull(index) {
                continue;
            }
            if pulling && self.budget == 0 && self.wants_pull(index) {
                // Next pass (flush_dirty holds it until then).
                self.mark_dirty(index);
            }
            break;
        }
        let Some(conn) = self.conns.get_mut(index) else { return };
        match conn.rest(self.draining) {
            Rest::Wait => {}
            Rest::Close(why) => return self.close(index, why),
            Rest::ShutWrite => {
                let _ = conn.socket.shutdown(Shutdown::Write);
                match conn.write_shut_at(self.now, &self.timeouts) {
                    Ok(Some(at)) => self.conns.schedule(index, at),
                    Ok(None) => {}
                    Err(Rest::Close(why)) => return self.close(index, why),
                    Err(_) => {}
                }
            }
        }
        self.reregister(index);
    }

    fn reregister(&mut self, index: usize) {
        let Some(conn) = self.conns.get_mut(index) else { return };
        let (want, had) = (interest(conn), registered(conn));
        if want == had {
            return;
        }
        let registry = self.poll.registry();
        let token = mio::Token(index);
        let result = match (had, want) {
            (_, None) => registry.deregister(&mut conn.socket),
            (None, Some(interest)) => registry.register(&mut conn.socket, token, interest),
            (Some(_), Some(interest)) => registry.reregister(&mut conn.socket, token, interest),
        };
        set_registered(conn, want);
        if let Err(e) = result {
            log::warn!("conn={index}/{} register: {e}", conn.gen);
            self.close(index, "register failed");
        }
    }

    /// The connection's deadline passed.
    pub(super) fn on_deadline(&mut self, index: usize) {
        let Some(conn) = self.conns.get_mut(index) else { return };
        match conn.expired(self.draining) {
            Expired::StoppedReading => self.close(index, "client stopped reading"),
            Expired::RequestTimeout => {
                log::debug!("conn={index}/{} request timed out", conn.gen);
                self.refuse(index, crate::conn::http::timed_out());
                self.settle(index);
            }
            Expired::Idle => self.close(index, "idle"),
            Expired::Drain => self.end_stream(index, End::Shutdown),
            Expired::Message => self.ws_deadline(index),
            Expired::Stream => self.stream_deadline(index),
            Expired::Linger => self.close(index, "linger over"),
        }
    }

    /// Removes a connection; its socket closes when dropped.
    pub(super) fn close(&mut self, index: usize, why: &str) {
        if !self.conns.contains(index) {
            return;
        }
        self.notify_end(index, End::Gone);
        let Some(conn) = self.conns.remove(index) else { return };
        let mut conn = conn;
        if registered(&conn).is_some() {
            let _ = self.poll.registry().deregister(&mut conn.socket);
        }
        if let Some(mut out) = conn.out.take() {
            if out.is_empty() {
                self.pool.put(out);
            } else {
                log::debug!("conn={index}/{} closed with {} bytes unsent", conn.gen, out.len());
                *out = Default::default();
            }
        }
        let mut budget = Budget { held: &mut self.stats.ws_buffered, max: self.config.max_ws_buffered };
        conn.retire(&mut self.stats.open, &mut budget);
        log::debug!("conn={index}/{} closed: {why}", conn.gen);
        self.resume_accept();
    }
}
