//! The fan-out publisher: POST /topics/bench (the first of `--topics`) on one keep-alive connection,
//! pipelined, at a fixed rate or as fast as the server accepts and the
//! subscribers keep up. Blocking I/O on its own thread: one socket needs
//! no event loop.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::payload;
use crate::worker::unix_ns;
use pushwire_proto::http::client as http;
use pushwire_proto::http::client::BodyReader;

/// Shared between the publisher thread and the coordinator.
#[derive(Default)]
pub struct Shared {
    pub stop: AtomicBool,
    /// Lowest sequence number still due on any open subscriber.
    pub min_next: AtomicU64,
    /// Publishes accepted (2xx), and refused.
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
}

pub struct Outcome {
    /// Publishes sent, answered or not.
    pub published: u64,
    /// One past the last sequence number the server accepted: what every
    /// subscriber must have received by the end.
    pub accepted_end: u64,
    /// Sequence numbers the server refused (not 2xx) below `accepted_end`:
    /// subscribers see them as gaps that are not the server's losses.
    pub refused_below_end: u64,
    pub first_refusal: Option<String>,
}

pub fn run(opts: &Options, shared: &Arc<Shared>) -> Result<Outcome, String> {
    let mut stream =
        TcpStream::connect(opts.target).map_err(|e| format!("publisher: connect {}: {e}", opts.target))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_millis(1))).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let path = opts.pub_path();
    let mut seq = 0u64;
    let mut answered = 0u64;
    let mut out = Vec::new();
    let mut msg = Vec::new();
    let mut inbuf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut body = None::<(BodyReader, u16)>;
    let mut sink = Vec::new();
    let mut first_refusal = None;
    let mut accepted_end = 0;
    let mut refused = Vec::new();
    let mut last_answer = Instant::now();
    loop {
        let stopping = shared.stop.load(Ordering::Relaxed);
        if stopping && answered == seq {
            let refused_below_end = refused.iter().filter(|&&s| s < accepted_end).count() as u64;
            return Ok(Outcome { published: seq, accepted_end, refused_below_end, first_refusal });
        }
        // Queue what may go now.
        out.clear();
        while !stopping && seq - answered < opts.pipeline as u64 && may_send(opts, shared, seq, start) {
            msg.clear();
            payload::write(seq, unix_ns(), opts.size, &mut msg);
            http::request("POST", &opts.host, &path, &[("Content-Type", "text/plain")], &msg, &mut out);
            seq += 1;
        }
        if !out.is_empty() {
            stream.write_all(&out).map_err(|e| format!("publisher: write: {e}"))?;
        }
        if seq == answered {
            // Nothing in flight: wait for the rate or the window to open.
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(format!("publisher: the server closed the connection after {answered} answers"))
            }
            Ok(n) => inbuf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if last_answer.elapsed() > Duration::from_secs(10) {
                    return Err(format!(
                        "publisher: no answer for 10 s ({} publishes in flight)",
                        seq - answered
                    ));
                }
                continue;
            }
            Err(e) => return Err(format!("publisher: read: {e}")),
        }
        // Take in every complete answer.
        let mut used = 0;
        loop {
            if body.is_none() {
                match http::parse_head(&inbuf[used..], false).map_err(|e| format!("publisher: {e}"))? {
                    // RFC 9110 §15.2: skip interim answers (100, 103...).
                    Some(head) if head.is_interim() => {
                        used += head.len;
                        continue;
                    }
                    Some(head) => {
                        used += head.len;
                        body = Some((BodyReader::new(head.body), head.status));
                    }
                    None => break,
                }
            }
            let Some((reader, status)) = body.as_mut() else { break };
            sink.clear();
            let (n, complete) =
                reader.feed(&inbuf[used..], &mut sink).map_err(|e| format!("publisher: {e}"))?;
            used += n;
            if !complete {
                break;
            }
            let status = *status;
            body = None;
            if answered == seq {
                return Err(format!("publisher: an answer ({status}) to no request"));
            }
            // Answers come in request order (RFC 9112 §9.3.2), so this one is
            // for sequence number `answered`.
            let this = answered;
            answered += 1;
            last_answer = Instant::now();
            if (200..300).contains(&status) {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                accepted_end = this + 1;
            } else {
                shared.refused.fetch_add(1, Ordering::Relaxed);
                refused.push(this);
                first_refusal.get_or_insert_with(|| {
                    format!("POST answered {status}: {}", String::from_utf8_lossy(&sink))
                });
            }
        }
        inbuf.drain(..used);
    }
}

fn may_send(opts: &Options, shared: &Shared, seq: u64, start: Instant) -> bool {
    if opts.rate > 0.0 {
        return start.elapsed().as_secs_f64() * opts.rate >= seq as f64;
    }
    let min_next = shared.min_next.load(Ordering::Relaxed);
    min_next == u64::MAX || seq < min_next + opts.window
}
