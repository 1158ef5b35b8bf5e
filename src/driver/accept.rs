//! Accepting connections, and pausing when there is no room for more.
//!
//! SPEC §5: at `--max-conns`, or out of file descriptors, "existing clients
//! keep being served; new ones ... wait; accept resumes when room frees (never
//! a busy loop)". Pausing deregisters the listener, so the kernel keeps new
//! clients in the listen backlog and the loop gets no events for them; a
//! closing connection (or, for EMFILE, a retry timer, since a descriptor can
//! free up elsewhere) registers it again.

use std::io;

use mio::Interest;

use super::conn::set_registered;
use super::{Paused, Server, Timer, LISTENER};
use crate::config::ACCEPT_RETRY;

impl Server {
    pub(super) fn accept(&mut self) {
        loop {
            if self.config.max_conns > 0 && self.conns.len() >= self.config.max_conns {
                self.pause_accept(Paused::MaxConns, None);
                return;
            }
            let Some(listener) = &self.listener else { return };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // A client that reset before we accepted it: nothing to do.
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) =>
                {
                    continue
                }
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays in
                // the backlog; accepting again at once would fail the same way.
                Err(e) => {
                    self.pause_accept(Paused::OutOfResources, Some(e));
                    return;
                }
            };
            // Responses are written whole, so Nagle's algorithm only adds delay.
            if let Err(e) = stream.set_nodelay(true) {
                log::debug!("peer={peer} TCP_NODELAY: {e}");
            }
            let index = self.conns.vacant_index();
            let mut stream = stream;
            if let Err(e) = self.poll.registry().register(&mut stream, mio::Token(index), Interest::READABLE)
            {
                log::warn!("peer={peer} register: {e}");
                continue;
            }
            let key = self.conns.insert(stream, self.now, &self.timeouts, &mut self.stats.open);
            set_registered(&mut self.conns[index], Some(Interest::READABLE));
            self.stats.accepted += 1;
            log::debug!("conn={index}/{} peer={peer} accepted", key.gen);
        }
    }

    fn pause_accept(&mut self, why: Paused, error: Option<io::Error>) {
        if self.paused.is_some() {
            return;
        }
        let Some(listener) = &mut self.listener else { return };
        if let Err(e) = self.poll.registry().deregister(listener) {
            log::warn!("pausing accepts: deregister: {e}");
        }
        self.paused = Some(why);
        self.stats.accept_pauses += 1;
        match (why, error) {
            (Paused::MaxConns, _) => log::warn!(
                "--max-conns {} reached: new clients wait until a connection closes",
                self.config.max_conns
            ),
            (Paused::OutOfResources, e) => {
                log::warn!(
                    "accept failed ({}) with {} connections open: new clients wait until a connection closes",
                    e.map_or_else(|| "unknown error".into(), |e| e.to_string()),
                    self.conns.len()
                );
                let retry = self.after(ACCEPT_RETRY);
                self.wheel.insert(retry, Timer::AcceptRetry);
            }
        }
    }

    /// Called when a connection closes and by the retry timer.
    pub(super) fn resume_accept(&mut self) {
        if self.paused.is_none() || self.draining {
            return;
        }
        if self.paused == Some(Paused::MaxConns) && self.conns.len() >= self.config.max_conns {
            return;
        }
        let Some(listener) = &mut self.listener else { return };
        if let Err(e) = self.poll.registry().register(listener, LISTENER, Interest::READABLE) {
            log::warn!("resuming accepts: register: {e}");
            return;
        }
        self.paused = None;
        log::info!("accepting again ({} connections open)", self.conns.len());
        // Clients already waiting in the backlog raised no new edge.
        self.accept();
    }
}
