//! Streams and parked requests in the driver: starting them, carrying out
//! the app's actions, the end-of-pass flush, heartbeats, and telling the app
//! when one ends.
//!
//! A publish to N subscribers becomes N `Action::Send`s holding the same
//! `Rc<[u8]>`: each subscriber's queue gets a refcount, not a copy, and is
//! marked dirty; every dirty connection is flushed once at the end of the
//! loop pass, so a burst of publishes leaves in one writev per subscriber.
//! Carrying out the Sends is cheap; the writes are the cost, so a pass
//! writes at most `WRITE_BUDGET` bytes and the dirty connections it did not
//! reach are flushed first in the next pass (see [`Server::flush_dirty`]).

use std::collections::VecDeque;
use std::rc::Rc;

use super::socket::Flushed;
use super::{Server, Timer};
use crate::app::{Action, Context, End};
use crate::config::{DEFERRED_QUEUE_FACTOR, SMALL_WRITE};
use crate::conn::http;
use crate::conn::stream::{Beat, Beats, TimedOut};
use crate::conn::Phase;
use crate::http::response::Response;
use crate::key::ConnKey;

impl Server {
    /// Carries out queued actions, including any that carrying them out
    /// produces (an ended stream's app hook may act again).
    ///
    /// Not re-entrant: an action whose handling produces more actions (an
    /// answered long-poll runs the requests pipelined behind it, which may
    /// publish and wake another long-poll...) leaves them for this loop, so a
    /// chain of any length costs no stack.
    pub(super) fn perform(&mut self) {
        if self.performing {
            return;
        }
        self.performing = true;
        loop {
            let mut batch = std::mem::take(&mut self.actions);
            if batch.is_empty() {
                self.actions = batch;
                self.performing = false;
                return;
            }
            for action in batch.drain(..) {
                match action {
                    Action::Send { to, bytes } => self.deliver(to, &[], bytes, 0),
                    Action::SendTail { to, head, shared, from } => self.deliver(to, &head, shared, from),
                    Action::End { to } => {
                        if let Some(index) = self.conns.index_of(to) {
                            self.end_stream(index, End::Done);
                        }
                    }
                    Action::Close { to, code, reason } => {
                        if let Some(index) = self.conns.index_of(to) {
                            match self.conns[index].phase() {
                                Phase::Ws { .. } => self.ws_close(index, Some((code, reason)), End::Done),
                                _ => self.end_stream(index, End::Done),
                            }
                        }
                    }
                    Action::Respond { to, response } => self.answer_parked(to, &response),
                    Action::Timer { at, token } => self.wheel.insert(at, Timer::App(token)),
                    Action::Pull { to } => {
                        if let Some(index) = self.conns.index_of(to) {
                            let conn = &mut self.conns[index];
                            if conn.is_live_stream() {
                                conn.set_pulling(true);
                                self.mark_dirty(index);
                            }
                        }
                    }
                }
            }
            // Keep the larger allocation for the next round.
            if self.actions.is_empty() {
                self.actions = batch;
            }
        }
    }

    /// Queues one event or frame on a stream, within the slow-consumer cap:
    /// `head` (copied), then `bytes[from..]` (by reference).
    fn deliver(&mut self, to: ConnKey, head: &[u8], bytes: Rc<[u8]>, from: usize) {
        let Some(index) = self.conns.index_of(to) else { return };
        if !self.conns[index].is_live_stream() {
            return;
        }
        // SPEC §5: a client that does not read gets a bounded queue; past
        // it, the stream is closed (the client catches up from history when
        // it reconnects with Last-Event-ID).
        if !self.room_for(index, head.len() + bytes.len().saturating_sub(from)) {
            return;
        }
        let conn = &mut self.conns[index];
        let (queued, at) = conn.push_event(head, bytes, from, &mut self.pool, self.now, self.draining);
        if queued {
            self.stats.messages_out += 1;
            self.mark_dirty(index);
        }
        if let Some(at) = at {
            self.insert_deadline(index, at);
        }
    }

    /// Whether `len` more bytes may be queued for a stream or socket. Output
    /// is queued during a whole read pass and flushed at its end, so a client
    /// that reads may still have a full queue: before calling it slow, try to
    /// write what is queued. Past the cap, the stream is ended as too slow
    /// (WebSocket: close 1013) and counted.
    ///
    /// Only the socket can say a client does not read. When the pass's write
    /// budget kept the queue from the socket, the queue waits its turn, up
    /// to [`DEFERRED_QUEUE_FACTOR`] times the cap; past that it is written
    /// now, budget or not, and the socket decides.
    pub(super) fn room_for(&mut self, index: usize, len: usize) -> bool {
        let max_queue = self.config.max_queue;
        let over = |s: &Self, cap: usize| s.conns.get(index).is_some_and(|c| !c.has_room(len, cap));
        if !over(self, max_queue) {
            return true;
        }
        match self.flush(index) {
            _ if !over(self, max_queue) => return true,
            Flushed::Deferred if !over(self, max_queue.saturating_mul(DEFERRED_QUEUE_FACTOR)) => return true,
            Flushed::Deferred => {
                self.write_out(index, false);
                if !over(self, max_queue) {
                    return true;
                }
            }
            Flushed::Full | Flushed::Done => {}
        }
        let queued = self.conns.get(index).map_or(0, |c| c.queued_bytes());
        log::info!("conn={index} slow consumer: {queued} bytes queued; closing");
        self.stats.drops += 1;
        self.end_stream(index, End::TooSlow);
        false
    }

    /// Lets a pulling stream queue more, up to `--max-queue`, once its queue
    /// is at most half full (so a reader that keeps up always has the next
    /// batch queued behind the one in flight). Whether it queued anything.
    pub(super) fn pull(&mut self, index: usize) -> bool {
        if !self.wants_pull(index) {
            return false;
        }
        let Some(key) = self.conns.key(index) else { return false };
        let queued = self.conns[index].queued_bytes();
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        let more = self.app.on_writable(&cx, queued, &mut self.actions);
        if !more {
            self.conns[index].set_pulling(false);
        }
        self.perform();
        self.conns.get(index).is_some_and(|c| c.gen == key.gen && c.queued_bytes() > queued)
    }

    /// Whether [`Server::pull`] would ask the app for more now.
    pub(super) fn wants_pull(&self, index: usize) -> bool {
        self.conns.get(index).is_some_and(|c| c.wants_pull(self.config.max_queue, self.draining))
    }

    /// Flushes the connections that got output outside their own event,
    /// within the pass's write budget. Settling one can make others dirty (a
    /// resumed reader's pipelined publish), so this runs until the list
    /// stays empty or the budget is spent. Then what is left waits, in
    /// order, at the front of the list for the next pass: the connections
    /// not reached, then those cut off mid-queue (round robin, so a fan-out
    /// progresses on every subscriber and starves none). Short queues
    /// ([`SMALL_WRITE`]) are still written: they cost a syscall, not bytes.
    pub(super) fn flush_dirty(&mut self) {
        let mut batch = std::mem::take(&mut self.dirty);
        let mut held = VecDeque::new();
        loop {
            let Some(index) = batch.pop_front() else {
                if self.dirty.is_empty() {
                    break;
                }
                std::mem::swap(&mut batch, &mut self.dirty);
                continue;
            };
            // A stale entry: closed since (its key may be another's now).
            let Some(conn) = self.conns.get_mut(index) else { continue };
            if !conn.dirty() {
                continue;
            }
            // Spent: big queues wait, and so do replays that would queue more.
            if self.budget == 0 && (conn.queued_bytes() > SMALL_WRITE || conn.pulling()) {
                held.push_back(index);
                continue;
            }
            conn.set_dirty(false);
            self.settle(index);
        }
        // Keep the larger allocation when nothing is held over.
        self.dirty = if held.is_empty() { batch } else { held };
    }

    /// Puts a connection on the list for the end-of-pass flush, once.
    pub(super) fn mark_dirty(&mut self, index: usize) {
        if let Some(conn) = self.conns.get_mut(index) {
            if !conn.dirty() {
                conn.set_dirty(true);
                self.dirty.push_back(index);
            }
        }
    }

    /// SPEC §4: `: comment` heartbeats every `--heartbeat` on every stream,
    /// and pings on every socket, one sweep for all (no timer per
    /// connection).
    pub(super) fn heartbeat(&mut self) {
        let beats = Beats::new();
        let mut silent = Vec::new();
        for (index, conn) in self.conns.iter_mut() {
            match conn.heartbeat(&beats, &mut self.pool) {
                Beat::None => {}
                Beat::Queued if conn.dirty() => {}
                Beat::Queued => {
                    conn.set_dirty(true);
                    self.dirty.push_back(index);
                }
                Beat::Silent => silent.push(index),
            }
        }
        // Each one's end is decided when its turn comes: closing another
        // silent socket first may have queued output on it.
        for index in silent {
            let Some(why) = self.conns.get(index).map(|c| c.pong_overdue()) else { continue };
            if why == End::TooSlow {
                log::info!("conn={index} websocket: no pong and output still queued; closing as too slow");
                self.stats.drops += 1;
                self.end_stream(index, End::TooSlow);
            } else {
                log::debug!("conn={index} websocket: no pong since the last ping; closing");
                self.ws_close(index, None, End::Gone);
                self.close(index, "no pong");
            }
        }
        let next = self.after(self.config.heartbeat);
        self.wheel.insert(next, Timer::Heartbeat);
    }

    /// Ends a stream: the app hears why, what is queued is written, then the
    /// connection closes.
    pub(super) fn end_stream(&mut self, index: usize, why: End) {
        if matches!(self.conns.get(index).map(|c| c.phase()), Some(Phase::Ws { .. })) {
            return self.ws_close(index, crate::conn::ws::close_code(why), why);
        }
        self.notify_end(index, why);
        let Some(conn) = self.conns.get_mut(index) else { return };
        if let Some(at) = conn.end_stream(&mut self.stats.open, self.now, &self.timeouts) {
            self.insert_deadline(index, at);
        }
        self.mark_dirty(index);
    }

    /// Tells the app, once, that a stream or parked request is over.
    pub(super) fn notify_end(&mut self, index: usize, why: End) {
        let Some(key) = self.conns.key(index) else { return };
        if !self.conns[index].take_end() {
            return;
        }
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        self.app.on_end(&cx, why, &mut self.actions);
        self.perform();
    }

    /// A stream's idle timeout or a parked request's timeout passed.
    pub(super) fn stream_deadline(&mut self, index: usize) {
        let Some(key) = self.conns.key(index) else { return };
        let cx = Context { key, now: self.now, unix_ms: self.unix_ms, stats: &self.stats };
        self.app.on_timeout(&cx, &mut self.actions);
        self.perform();
        match self.conns.get(index).map(|c| c.timed_out()) {
            Some(TimedOut::EndStream) => self.end_stream(index, End::Timeout),
            Some(TimedOut::Unanswered) => self.answer_parked(key, &http::unanswered()),
            Some(TimedOut::Nothing) | None => {}
        }
    }

    /// Sends the answer to a parked request, then takes up any requests
    /// pipelined behind it.
    fn answer_parked(&mut self, to: ConnKey, response: &Response) {
        let Some(index) = self.conns.index_of(to) else { return };
        if !matches!(self.conns[index].phase(), Phase::Parked { .. }) {
            return;
        }
        self.notify_end(index, End::Done);
        let Some(conn) = self.conns.get_mut(index) else { return };
        let Some((keep_alive, minor)) = conn.unpark(self.draining, &mut self.stats.open) else { return };
        self.send(index, response, minor, keep_alive);
        // Requests that arrived meanwhile are waiting in `pending`. If reading
        // was paused, `settle` (at the end-of-pass flush) resumes it: this
        // may run inside another connection's read, which holds the
        // loop-wide buffer, so it must not read itself.
        self.http_input(index, &[]);
        self.mark_dirty(index);
    }

    /// Every stream's spread-out close and `retry:` (`conn::Table::spread`).
    pub(super) fn drain_streams(&mut self) {
        let window = self.config.drain.as_millis() as u64;
        let seed = self.now ^ u64::from(std::process::id()).rotate_left(32);
        for index in self.conns.spread(self.now, window, seed, &mut self.pool) {
            self.mark_dirty(index);
        }
    }
}
