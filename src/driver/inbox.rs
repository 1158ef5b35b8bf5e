//! How other threads hand work to the loop: a channel for the message and a
//! `mio::Waker` to interrupt `poll` (mio: one waker per `Poll`).

use std::io;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use mio::Waker;

/// Work another thread can ask of the loop.
#[derive(Debug)]
pub enum Command {
    /// Stop accepting, finish what is in flight, exit (SIGINT/SIGTERM).
    Shutdown,
}

/// A cloneable, `Send` handle to a running server.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Command>,
    waker: Arc<Waker>,
}

impl Handle {
    pub(super) fn new(waker: Arc<Waker>) -> (Handle, Receiver<Command>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (Handle { tx, waker }, rx)
    }

    /// Queues `cmd` and wakes the loop. Fails once the server has exited.
    pub fn send(&self, cmd: Command) -> io::Result<()> {
        self.tx.send(cmd).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the server has exited"))?;
        self.waker.wake()
    }
}
