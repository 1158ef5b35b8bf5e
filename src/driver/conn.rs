//! One client connection as the loop holds it: the socket, what phase of the
//! protocol it is in, and the few fields each phase needs. Sized to the byte,
//! because 10,000 idle clients cost 10,000 of these and nothing else.

use mio::net::TcpStream;
use mio::Interest;

use super::buffer::OutQueue;
use crate::http::Progress;
use crate::ws::Receiver;

/// What a connection is doing, in the words of the protocol.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Reading requests and writing responses (RFC 9112).
    Http,
    /// A request the app holds open (long-poll); requests pipelined behind
    /// it wait, unread, until it is answered.
    Parked { keep_alive: bool, minor: u8 },
    /// An event stream (WHATWG HTML §9.2): the app sends, the client only
    /// reads. `idle_ms`: end the stream after this long without an event
    /// (0 = never).
    Sse { idle_ms: Millis },
    /// A WebSocket (RFC 6455) after the 101; `awaiting_pong`: the last
    /// heartbeat ping is unanswered. Once our Close frame is queued the
    /// connection is `Closing`: nothing is sent after a Close (§5.5.1).
    Ws { awaiting_pong: bool },
    /// The last response is queued: write it, then half-close and read
    /// (discarding) until the client closes or the linger deadline passes
    /// (RFC 9112 §9.6: close "in stages" so the answer is not lost to a reset).
    Closing,
}

/// The unfinished request of a connection: its bytes so far and where the
/// parser stopped. Allocated only while a request is incomplete.
#[derive(Default)]
pub struct Pending {
    pub buf: Vec<u8>,
    pub progress: Progress,
    /// A WebSocket's receiving state while a frame or a fragmented message
    /// is incomplete (RFC 6455 §5.4).
    pub ws: Option<Receiver>,
}

/// A duration in ms kept as bytes, so that [`Phase`] has an alignment of
/// one and packs into [`Conn`] next to the one-byte fields.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Millis([u8; 4]);

impl Millis {
    pub fn new(ms: u32) -> Millis {
        Millis(ms.to_ne_bytes())
    }

    pub fn get(self) -> u32 {
        u32::from_ne_bytes(self.0)
    }
}

/// Yes/no facts of a connection, a bit each.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Flags(u8);

macro_rules! flags {
    ($($(#[$doc:meta])* $bit:literal $get:ident $set:ident;)*) => {
        impl Conn {
            $(
                $(#[$doc])*
                pub fn $get(&self) -> bool {
                    self.flags.0 & (1 << $bit) != 0
                }

                pub fn $set(&mut self, on: bool) {
                    if on {
                        self.flags.0 |= 1 << $bit;
                    } else {
                        self.flags.0 &= !(1 << $bit);
                    }
                }
            )*
        }
    };
}

flags! {
    /// The peer closed its side (read returned 0).
    0 read_closed set_read_closed;
    /// We shut our side down (Closing, after the last byte left).
    1 write_shut set_write_shut;
    /// Reading stopped because too much output is queued.
    2 read_paused set_read_paused;
    /// At least one request was answered (a fresh connection that never
    /// completes a head is a slow client; an idle one is merely idle).
    3 served set_served;
    /// The socket failed; close at the next chance.
    4 broken set_broken;
    /// Output was queued outside this connection's own event and awaits the
    /// end-of-pass flush (it is on the loop's dirty list).
    5 dirty set_dirty;
    /// The app has been told this stream or parked request ended.
    6 ended set_ended;
    /// The app has more for this stream than it queued (a replay fed from
    /// history): ask it again as the queue drains.
    7 pulling set_pulling;
}

pub struct Conn {
    pub stream: TcpStream,
    pub gen: u32,
    pub phase: Phase,
    /// The interest registered with the poll (None before registration).
    pub registered: Option<Interest>,
    /// The eight yes/no facts of the connection (see [`Flags`]), one byte.
    flags: Flags,
    pub pending: Option<Box<Pending>>,
    pub out: Option<Box<OutQueue>>,
    /// When the phase's deadline passes (ms on the loop clock; 0 = none).
    /// Moved forward freely: the wheel is touched only when it must fire
    /// earlier than the entry it already holds.
    pub deadline: u64,
    /// The deadline of this connection's live entry in the wheel (0 = none).
    pub queued: u64,
}

/// The memory budget. SPEC §6 targets under 100 bytes of process memory per
/// idle connection and the slab entry is most of that, so the struct gets 48
/// (hence the one-byte flags and a `Phase` of alignment one). Debug builds
/// get 16 more: mio's `IoSource` carries a selector id there only, to catch
/// a socket registered with two polls, and it moves the socket's alignment.
const BUDGET: usize = if cfg!(debug_assertions) { 64 } else { 48 };
const _: () = assert!(std::mem::size_of::<Conn>() <= BUDGET);

impl Conn {
    pub fn new(stream: TcpStream, gen: u32) -> Conn {
        Conn {
            stream,
            gen,
            phase: Phase::Http,
            registered: None,
            flags: Flags(0),
            pending: None,
            out: None,
            deadline: 0,
            queued: 0,
        }
    }

    pub fn queued_bytes(&self) -> usize {
        self.out.as_ref().map_or(0, |q| q.len())
    }

    /// Derived from state, as rustls' mio example does: read unless the peer
    /// closed or output is backed up; write only while output waits.
    pub fn interest(&self) -> Option<Interest> {
        let read = !self.read_closed() && !self.read_paused();
        let write = self.queued_bytes() > 0 && !self.write_shut();
        match (read, write) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_costs_its_slab_entry_and_nothing_else() {
        // An idle connection's two buffers are `None`: a pointer's worth
        // each, and no heap at all.
        assert_eq!(std::mem::size_of::<Option<Box<Pending>>>(), 8);
        assert_eq!(std::mem::size_of::<Option<Box<OutQueue>>>(), 8);
    }
}
