//! Output waiting for a socket: a queue of owned and shared chunks, flushed
//! with one vectored write per call.
//!
//! Small writes are coalesced into the owned chunk at the back, so a burst
//! of pipelined responses leaves in one `writev`; large shared bodies (a
//! cached file) are queued by reference and never copied. A connection holds
//! a queue only while it has something unsent; empty queues go back to a
//! pool, so an idle connection holds no buffer and a busy loop allocates none.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::rc::Rc;

/// Shared bodies shorter than this are copied into the owned tail: a queue
/// entry (32 bytes) would weigh more than they do. Longer ones are queued by
/// reference, so every subscriber's writev reads the same cache-hot bytes; a
/// copy per subscriber touched a buffer of its own each time (at 1,000 SSE
/// subscribers and 84-byte events that cost ~600 ns of server CPU per
/// delivery, by reference ~420 ns, kernel included). The price: a queue
/// entry per event, which the slow-consumer cap (it counts payload bytes)
/// does not see: at most 32 bytes per 64, so a full queue holds up to
/// 1.5× `--max-queue`; and a backlog drains 64 events per writev.
const COPY_BELOW: usize = 64;

/// The owned tail stops growing here and a new chunk starts, so a huge
/// burst does not turn into one ever-reallocating vector.
const OWNED_CHUNK: usize = 64 * 1024;

/// The smallest new owned chunk. A small event copied into an empty queue
/// gets this much, not the 1 KiB an encoder's tail gets: a broadcast to
/// 10,000 subscribers with nothing queued starts 10,000 of these at once.
const MIN_TAIL: usize = 128;

/// Slices per writev; Linux allows 1024 (IOV_MAX), 64 covers any burst.
const MAX_SLICES: usize = 64;

/// Queues kept for reuse; beyond this, drained queues are freed.
const POOL: usize = 1024;

/// A pooled queue keeps room for this many chunks (one writev's worth), so
/// that a pass's fan-out to a stream reuses it without allocating; a queue
/// that held more (a backlog of events, a replay) gives the rest back before
/// it is pooled. Without the trim a pooled queue kept the room of the
/// longest list it ever held, up to `--max-queue` / 64 B chunks (16,384 of
/// 32 bytes, 512 KiB, at 1 MiB), and the 1,024 pooled queues collected those
/// high-water marks one burst at a time (512 MiB at worst). Trimmed, the
/// pool holds at most 1,024 × (64 × 32 B + the box), 2.1 MiB.
const POOLED_CHUNKS: usize = MAX_SLICES;

#[derive(Debug)]
enum Chunk {
    Owned(Vec<u8>),
    /// Shared bytes from an offset on: a multi-topic stream's share of an
    /// event is the message's encoding after its `id:` line.
    Shared(Rc<[u8]>, u32),
}

/// A queue entry: the offset beside the `Rc` makes it 32 bytes, not 24 (a
/// shared chunk is at least [`COPY_BELOW`] bytes, so entries stay at most
/// half of what a full queue holds).
const _: () = assert!(size_of::<Chunk>() <= 32);

impl Chunk {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) => v,
            Chunk::Shared(b, from) => b.get(*from as usize..).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default)]
pub struct OutQueue {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    offset: usize,
    /// Unsent bytes in all.
    len: usize,
}

impl OutQueue {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The owned chunk at the back, for encoders to append to. Call
    /// [`OutQueue::commit`] with the number of bytes appended.
    pub fn tail(&mut self) -> &mut Vec<u8> {
        self.tail_for(1024)
    }

    /// [`OutQueue::tail`], starting a new chunk with room for `hint` bytes
    /// (at least [`MIN_TAIL`]) when there is none to append to.
    fn tail_for(&mut self, hint: usize) -> &mut Vec<u8> {
        let reuse = matches!(self.chunks.back(), Some(Chunk::Owned(v)) if v.len() < OWNED_CHUNK);
        if !reuse {
            self.chunks.push_back(Chunk::Owned(Vec::with_capacity(hint.max(MIN_TAIL))));
        }
        match self.chunks.back_mut() {
            Some(Chunk::Owned(v)) => v,
            // Just ensured the back is an owned chunk.
            _ => unreachable!("the back chunk is owned"),
        }
    }

    /// Appends `bytes`, coalescing with the owned tail.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.tail_for(bytes.len()).extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Records `n` bytes appended through [`OutQueue::tail`].
    pub fn commit(&mut self, n: usize) {
        self.len += n;
    }

    /// Queues shared bytes by reference (copied if small).
    pub fn push_shared(&mut self, bytes: Rc<[u8]>) {
        self.push_shared_from(bytes, 0);
    }

    /// Queues `bytes[from..]` by reference (copied if small). `from` past
    /// the end queues nothing.
    pub fn push_shared_from(&mut self, bytes: Rc<[u8]>, from: usize) {
        let len = bytes.len().saturating_sub(from);
        match u32::try_from(from) {
            _ if len == 0 => {}
            Ok(start) if len >= COPY_BELOW => {
                self.len += len;
                self.chunks.push_back(Chunk::Shared(bytes, start));
            }
            _ => self.push_bytes(&bytes[from..]),
        }
    }

    /// One vectored write of what is queued, at most `max` bytes of it (the
    /// loop's write budget); returns the bytes written.
    pub fn write_to(&mut self, w: &mut impl Write, max: usize) -> io::Result<usize> {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        let mut left = max;
        for (i, chunk) in self.chunks.iter().take(MAX_SLICES).enumerate() {
            if left == 0 {
                break;
            }
            let bytes = chunk.bytes();
            let bytes = if i == 0 { &bytes[self.offset..] } else { bytes };
            let bytes = &bytes[..bytes.len().min(left)];
            left -= bytes.len();
            slices[i] = IoSlice::new(bytes);
            count += 1;
        }
        let written = w.write_vectored(&slices[..count])?;
        self.consume(written);
        Ok(written)
    }

    fn consume(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            let Some(front) = self.chunks.front() else { break };
            let left = front.bytes().len() - self.offset;
            if n < left {
                self.offset += n;
                return;
            }
            n -= left;
            self.offset = 0;
            // Written chunks go, the last one too: a drained queue holds no
            // buffer, so the pool of 1,024 queues holds only their chunk
            // lists (see `POOLED_CHUNKS`), not up to 64 KiB of tail each.
            // The next response's 1 KiB tail comes from malloc's per-thread
            // cache.
            self.chunks.pop_front();
        }
    }

    /// Gives back the room of an empty queue beyond what a pooled one keeps
    /// ([`POOLED_CHUNKS`]).
    fn trim(&mut self) {
        if self.chunks.capacity() > POOLED_CHUNKS {
            self.chunks.shrink_to(POOLED_CHUNKS);
        }
    }
}

/// Drained queues waiting to be lent to the next connection with output.
#[derive(Default)]
pub struct QueuePool {
    // Boxed on purpose: a connection holds `Option<Box<OutQueue>>` (8 bytes)
    // and the box moves between pool and connection without reallocating.
    #[allow(clippy::vec_box)]
    free: Vec<Box<OutQueue>>,
}

impl QueuePool {
    pub fn take(&mut self) -> Box<OutQueue> {
        self.free.pop().unwrap_or_default()
    }

    pub fn put(&mut self, mut queue: Box<OutQueue>) {
        debug_assert!(queue.is_empty());
        if self.free.len() < POOL {
            queue.trim();
            self.free.push(queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` bytes per call, like a full socket.
    struct Trickle {
        got: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            if self.limit == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.limit - n);
                self.got.extend_from_slice(&b[..take]);
                n += take;
            }
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn filled() -> (OutQueue, Vec<u8>) {
        let mut q = OutQueue::default();
        let big: Rc<[u8]> = (0..2000u32).map(|i| i as u8).collect::<Vec<u8>>().into();
        q.push_bytes(b"head one\r\n\r\n");
        q.push_shared(big.clone());
        q.push_bytes(b"head two\r\n\r\n");
        q.push_shared(Rc::from(&b"small"[..]));
        q.push_shared_from(big.clone(), 1000);
        q.push_shared_from(big.clone(), 1990);
        q.push_shared_from(big.clone(), 5000);
        let mut want = b"head one\r\n\r\n".to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"head two\r\n\r\nsmall");
        want.extend_from_slice(&big[1000..]);
        want.extend_from_slice(&big[1990..]);
        (q, want)
    }

    #[test]
    fn coalesces_small_and_shares_large() {
        let (q, want) = filled();
        assert_eq!(q.len(), want.len());
        // head one | big (shared) | head two + small (coalesced) | big from
        // 1000 (shared) | its last 10 bytes (copied)
        assert_eq!(q.chunks.len(), 5);
        assert!(matches!(q.chunks[3], Chunk::Shared(_, 1000)));
    }

    #[test]
    fn partial_writes_resume_exactly() {
        for limit in [1, 7, 100, 1999, 5000] {
            let (mut q, want) = filled();
            let mut w = Trickle { got: Vec::new(), limit, calls: 0 };
            while !q.is_empty() {
                q.write_to(&mut w, usize::MAX).unwrap();
            }
            assert_eq!(w.got, want, "limit {limit}");
            assert_eq!(q.len(), 0);
        }
    }

    #[test]
    fn a_budget_cuts_a_write_anywhere_and_the_rest_follows_in_order() {
        for max in [1, 12, 13, 500, 2011, 2012, 2024, 2029, 5000] {
            let (mut q, want) = filled();
            let mut w = Trickle { got: Vec::new(), limit: usize::MAX / 2, calls: 0 };
            let n = q.write_to(&mut w, max).unwrap();
            assert_eq!(n, max.min(want.len()), "max {max}");
            assert_eq!(w.got, want[..n], "max {max}");
            assert_eq!(q.len(), want.len() - n);
            while !q.is_empty() {
                q.write_to(&mut w, 7).unwrap();
            }
            assert_eq!(w.got, want, "max {max}");
        }
    }

    #[test]
    fn one_writev_for_a_burst() {
        let (mut q, want) = filled();
        let mut w = Trickle { got: Vec::new(), limit: usize::MAX / 2, calls: 0 };
        q.write_to(&mut w, usize::MAX).unwrap();
        assert_eq!((w.calls, w.got.len()), (1, want.len()));
    }

    #[test]
    fn would_block_keeps_everything() {
        let (mut q, want) = filled();
        let mut w = Trickle { got: Vec::new(), limit: 0, calls: 0 };
        assert_eq!(q.write_to(&mut w, usize::MAX).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert_eq!(q.len(), want.len());
    }

    #[test]
    fn a_drained_queue_holds_no_buffer() {
        let (mut q, _) = filled();
        let mut w = Trickle { got: Vec::new(), limit: usize::MAX / 2, calls: 0 };
        while !q.is_empty() {
            q.write_to(&mut w, usize::MAX).unwrap();
        }
        assert!(q.chunks.is_empty(), "{:?}", q.chunks);
        q.push_bytes(b"next");
        assert_eq!((q.len(), q.chunks.len()), (4, 1));
    }

    /// A backlog of 10,000 events (a replay, a slow reader that caught up)
    /// leaves a queue with room for 16,384 chunks (384 KiB). Pooled as it
    /// is, every one of the 1,024 pooled queues could come to hold that.
    #[test]
    fn a_queue_goes_back_to_the_pool_without_its_backlog_room() {
        let mut q = Box::<OutQueue>::default();
        let event: Rc<[u8]> = vec![b'e'; 100].into();
        for _ in 0..10_000 {
            q.push_shared(event.clone());
        }
        let mut w = Trickle { got: Vec::new(), limit: usize::MAX / 2, calls: 0 };
        while !q.is_empty() {
            q.write_to(&mut w, usize::MAX).unwrap();
        }
        assert!(q.chunks.capacity() >= 10_000, "the backlog's room, before the pool");
        let mut pool = QueuePool::default();
        pool.put(q);
        let q = pool.take();
        assert!(q.chunks.capacity() <= POOLED_CHUNKS, "pooled with room for {} chunks", q.chunks.capacity());
        // A pass's worth of events fits the room kept.
        let mut q = q;
        for _ in 0..POOLED_CHUNKS {
            q.push_shared(event.clone());
        }
        assert!(q.chunks.capacity() <= POOLED_CHUNKS);
    }
}
