//! The incremental request parser, fed the way the driver feeds it.
//!
//! Input layout (every byte string is a valid input):
//!
//! ```text
//! byte 0        bits 0-4: number of chunk lengths that follow (0-31)
//!               bit 5:    after those chunks, deliver the rest one byte at a time
//!                         (otherwise: the rest arrives as one last chunk)
//!               bit 6:    small limits, from the next two bytes
//! [2 bytes]     if bit 6: max_head = 16 + 16 * a (16-4096), max_body = 8 * b (0-2040)
//! 2 bytes each  chunk lengths, u16 little-endian (0 = an empty read, skipped)
//! rest          the byte stream the client sent
//! ```
//!
//! The stream is parsed twice: in the chunks above (accumulate, call `parse`
//! after each chunk with the same `Progress`; on `Complete` drop `used` bytes
//! and start a fresh `Progress`; on an error stop) and as one single chunk.
//! A parser whose answer depends on how the bytes were split across reads is
//! broken, so the two runs must agree on every request and on how they end.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_proto::http::request::{parse, Parse, Progress, Request};
use pushwire_proto::http::HttpError;
use pushwire_proto::limits::{Limits, MAX_HEADERS};

/// What a request was, detached from the buffer it borrowed.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    method_token: String,
    path: String,
    query: String,
    minor: u8,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    keep_alive: bool,
    used: usize,
}

/// How a run stopped once the stream was exhausted (or refused).
#[derive(Debug, PartialEq, Eq)]
enum End {
    Error(HttpError),
    /// Waiting for more bytes, with this many received and not yet used.
    Partial {
        pending: usize,
    },
}

#[derive(Debug, PartialEq, Eq)]
struct Run {
    requests: Vec<Parsed>,
    end: End,
}

enum Step {
    Complete(Parsed),
    Partial { send_continue: bool },
    Error(HttpError),
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let count = usize::from(flags & 0x1f);
    let byte_by_byte = flags & 0x20 != 0;
    let limits = if flags & 0x40 != 0 {
        let Some((&[a, b], tail)) = rest.split_first_chunk::<2>() else { return };
        rest = tail;
        Limits { max_head: 16 + 16 * usize::from(a), max_body: 8 * usize::from(b) }
    } else {
        Limits::default()
    };
    let mut lengths = Vec::with_capacity(count);
    for _ in 0..count {
        let Some((&pair, tail)) = rest.split_first_chunk::<2>() else { return };
        rest = tail;
        lengths.push(usize::from(u16::from_le_bytes(pair)));
    }
    let stream = rest;

    // The chunk boundaries, as end offsets into the stream.
    let mut ends = Vec::new();
    let mut at = 0;
    for len in lengths {
        at = (at + len).min(stream.len());
        ends.push(at);
    }
    if byte_by_byte {
        ends.extend(at + 1..=stream.len());
    }
    ends.push(stream.len());

    let incremental = run(stream, &ends, &limits);
    let whole = run(stream, &[stream.len()], &limits);
    if incremental != whole {
        let shown: Vec<usize> = ends.iter().copied().take(40).collect();
        panic!(
            "parsing depends on how the bytes were split\n\
             in {} chunks (ending at {shown:?}{}): {incremental:?}\n\
             in one go: {whole:?}",
            ends.len(),
            if ends.len() > shown.len() { ", ..." } else { "" },
        );
    }
});

/// Feeds `stream` to the parser in chunks ending at `ends` (ascending),
/// exactly as the driver does, checking every answer on the way.
fn run(stream: &[u8], ends: &[usize], limits: &Limits) -> Run {
    let mut buf: Vec<u8> = Vec::new();
    let mut progress = Progress::default();
    let mut requests = Vec::new();
    let mut continues = 0;
    let mut start = 0;
    for &end in ends {
        if end <= start {
            continue;
        }
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        loop {
            match step(&buf, &mut progress, limits) {
                Step::Error(e) => return Run { requests, end: End::Error(e) },
                Step::Partial { send_continue } => {
                    continues += usize::from(send_continue);
                    assert!(continues <= 1, "100 Continue asked for more than once for one request");
                    break;
                }
                Step::Complete(parsed) => {
                    // The request must read the same from exactly its own bytes:
                    // what follows it cannot change it.
                    match step(&buf[..parsed.used], &mut Progress::default(), limits) {
                        Step::Complete(alone) => {
                            assert_eq!(alone, parsed, "request changes with what follows it")
                        }
                        Step::Partial { .. } => {
                            panic!("request incomplete without what follows it: {parsed:?}")
                        }
                        Step::Error(e) => {
                            panic!("request refused ({e:?}) without what follows it: {parsed:?}")
                        }
                    }
                    buf.drain(..parsed.used);
                    requests.push(parsed);
                    progress = Progress::default();
                    continues = 0;
                }
            }
        }
    }
    Run { requests, end: End::Partial { pending: buf.len() } }
}

/// One call to `parse`, its answer detached from `buf` and checked.
fn step(buf: &[u8], progress: &mut Progress, limits: &Limits) -> Step {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match parse(buf, progress, limits, &mut storage) {
        Err(e) => Step::Error(e),
        Ok(Parse::Partial { send_continue }) => Step::Partial { send_continue },
        Ok(Parse::Complete(req, used)) => {
            check(&req, used, buf.len(), limits);
            Step::Complete(Parsed {
                method_token: req.method_token.to_owned(),
                path: req.path.to_owned(),
                query: req.query.to_owned(),
                minor: req.minor,
                headers: req.headers.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect(),
                body: req.body.to_vec(),
                keep_alive: req.keep_alive,
                used,
            })
        }
    }
}

/// What every complete request must satisfy on its own.
fn check(req: &Request<'_>, used: usize, available: usize, limits: &Limits) {
    assert!(used > 0, "a request of 0 bytes");
    assert!(used <= available, "used {used} of {available} bytes");
    assert!(
        req.body.len() <= limits.max_body,
        "body of {} bytes over max_body {}",
        req.body.len(),
        limits.max_body
    );
    assert!(req.path.starts_with('/') || req.path == "*", "path {:?}", req.path);
    if req.path == "*" {
        assert_eq!(req.method_token, "OPTIONS", "asterisk-form is for OPTIONS only");
    }
    assert!(req.minor <= 1, "HTTP/1.{}", req.minor);
    let has = |name: &str| req.headers.iter().any(|h| h.name.eq_ignore_ascii_case(name));
    assert!(
        !(has("content-length") && has("transfer-encoding")),
        "request with both Content-Length and Transfer-Encoding accepted (smuggling)"
    );
    // The body was framed: without either header there is none.
    if !has("content-length") && !has("transfer-encoding") {
        assert!(req.body.is_empty(), "body without Content-Length or Transfer-Encoding");
    }
}
