//! The loop's write budget (`config::WRITE_BUDGET`, 4 MiB a pass) over real
//! sockets: a fan-out larger than a pass goes out in slices, and what a
//! slice leaves for the next pass arrives whole and in order; the server
//! deferring a write never makes a reader a slow consumer; a client that
//! does not read still is one (SPEC §5). How long other clients wait
//! meanwhile is measured by `pushwire-load stall` (docs/BENCHMARKS.md), not
//! here.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::stream::{sse_unit, subscribe};
use common::*;

/// Message `k` of a test: its number, then a letter that changes with it.
fn message(k: usize, len: usize) -> Vec<u8> {
    let mut m = format!("{k:06} ").into_bytes();
    m.resize(len, b'a' + (k % 26) as u8);
    m
}

/// Reads a subscription until `count` events came, and checks each is
/// event `1..=count` with the bytes of `message(k, len)`: nothing lost,
/// nothing twice, no byte out of place. `progress`: events so far.
fn read_events(mut s: TcpStream, count: usize, len: usize, progress: &AtomicUsize) -> Result<(), String> {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    let mut at = None;
    let mut got = 0;
    while got < count {
        let n = s.read(&mut chunk).map_err(|e| format!("after {got} events: {e}"))?;
        if n == 0 {
            return Err(format!("closed after {got} events"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut used = 0;
        if at.is_none() {
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            at = Some(end + 4);
            used = end + 4;
        }
        // SPEC §4: a heartbeat is a comment line with no blank line after it.
        while let Some(end) = sse_unit(&buf[used..]) {
            let block = &buf[used..used + end.saturating_sub(2)];
            used += end;
            if block.starts_with(b":") {
                continue;
            }
            got += 1;
            let mut want = format!("id: {got}\ndata: ").into_bytes();
            want.extend_from_slice(&message(got, len));
            if block != want {
                return Err(format!(
                    "event {got} is not message {got}: {:?}",
                    String::from_utf8_lossy(&block[..40])
                ));
            }
            progress.store(got, Ordering::Relaxed);
        }
        buf.drain(..used);
    }
    Ok(())
}

/// POSTs to /topics/{topic} on one keep-alive connection, all written at
/// once (pipelined), then reads the answers.
fn publish_pipelined(server: &Server, topic: &str, bodies: &[Vec<u8>]) {
    let mut s = server.connect();
    let mut req = Vec::new();
    for body in bodies {
        req.extend_from_slice(
            format!("POST /topics/{topic} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len())
                .as_bytes(),
        );
        req.extend_from_slice(body);
    }
    s.write_all(&req).unwrap();
    let mut buf = Vec::new();
    for _ in bodies {
        let reply = read_reply(&mut s, &mut buf, false).expect("an answer to every publish");
        assert_eq!(reply.status, 202, "{}", reply.text());
    }
}

/// One reader thread per stream; each one's count of events so far.
type Readers = Vec<(thread::JoinHandle<Result<(), String>>, Arc<AtomicUsize>)>;

fn spawn_readers(streams: Vec<TcpStream>, count: usize, len: usize) -> Readers {
    streams
        .into_iter()
        .map(|s| {
            let progress = Arc::new(AtomicUsize::new(0));
            let p = Arc::clone(&progress);
            (thread::spawn(move || read_events(s, count, len, &p)), progress)
        })
        .collect()
}

fn join_readers(readers: Readers) {
    for (i, (reader, _)) in readers.into_iter().enumerate() {
        reader.join().unwrap().unwrap_or_else(|e| panic!("subscriber {i}: {e}"));
    }
}

/// Waits until every reader has at least `n` events (so a publisher keeps
/// readers within a bounded backlog, whatever the machine's speed).
fn wait_readers(readers: &Readers, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while readers.iter().any(|(_, p)| p.load(Ordering::Relaxed) < n) {
        assert!(Instant::now() < deadline, "readers stalled before event {n}");
        thread::sleep(Duration::from_millis(1));
    }
}

fn wait_for_streams(server: &Server, n: u64) {
    wait_for(
        Duration::from_secs(10),
        &format!("streams open, of {n}"),
        || stat(server, "sse"),
        |got| got >= n,
    );
}

#[test]
fn a_fanout_many_passes_long_reaches_every_subscriber_whole_and_in_order() {
    // 50 streams × 8 messages of 1,000,000 bytes: 400 MB, a hundred passes'
    // budget, so nearly every write is cut off by the budget and carried
    // over, some more than once. A queue cap of 16 MiB takes the slow
    // consumer out of the picture: this is about carry-over losing nothing.
    let server = Server::start(&["--max-queue", "16MiB"]);
    let (subs, msgs, len) = (50, 8, 1_000_000);
    let streams: Vec<TcpStream> = (0..subs).map(|_| subscribe(&server, "/topics/big")).collect();
    wait_for_streams(&server, subs as u64);
    let readers = spawn_readers(streams, msgs, len);
    for k in 1..=msgs {
        publish_pipelined(&server, "big", &[message(k, len)]);
    }
    join_readers(readers);
    assert_eq!(stat(&server, "drops"), 0);
}

#[test]
fn a_write_the_budget_deferred_does_not_make_a_reader_a_slow_consumer() {
    // Two 48 KiB publishes in one pass to 200 readers, --max-queue 64 KiB:
    // each second event finds a queue over the cap. The first ~85 are
    // flushed inline until the budget (4 MiB) is spent; the rest could not
    // be offered to their sockets at all, so their clients cannot be judged
    // and must keep their stream (SPEC §5 drops clients that do not read).
    let server = Server::start(&["--max-queue", "64KiB"]);
    let (subs, len) = (200, 48 * 1024);
    let streams: Vec<TcpStream> = (0..subs).map(|_| subscribe(&server, "/topics/pair")).collect();
    wait_for_streams(&server, subs as u64);
    let readers = spawn_readers(streams, 2, len);
    publish_pipelined(&server, "pair", &[message(1, len), message(2, len)]);
    join_readers(readers);
    assert_eq!(stat(&server, "drops"), 0, "no reader was dropped");
}

#[test]
fn a_client_that_does_not_read_is_still_dropped_while_a_fanout_is_sliced() {
    // 100 readers and one client that never reads; each 64 KiB publish is
    // 6.4 MB of writes, more than a pass's budget. The non-reader's socket
    // fills, then its queue passes --max-queue: dropped, once, while every
    // reader gets every event.
    let server = Server::start(&["--max-queue", "256KiB"]);
    let (subs, msgs, len) = (100, 100, 64 * 1024);
    let streams: Vec<TcpStream> = (0..subs).map(|_| subscribe(&server, "/topics/mixed")).collect();
    let mut idle = subscribe(&server, "/topics/mixed");
    wait_for_streams(&server, subs as u64 + 1);
    let readers = spawn_readers(streams, msgs, len);
    for k in 1..=msgs {
        // Readers stay within two events of the publisher (128 KiB, half
        // the cap): only the client that does not read falls behind.
        wait_readers(&readers, k.saturating_sub(2));
        publish_pipelined(&server, "mixed", &[message(k, len)]);
    }
    join_readers(readers);
    assert_eq!(stat(&server, "drops"), 1, "the client that does not read was dropped, once");
    // What was queued before the drop may still come; then the end.
    assert!(closed_within(&mut idle, Duration::from_secs(10)), "the server closed the non-reader's stream");
}
