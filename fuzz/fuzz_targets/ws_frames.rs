//! The WebSocket receiver, fed the way the driver feeds it.
//!
//! Input layout (every byte string is a valid input):
//!
//! ```text
//! byte 0        bits 0-4: number of chunk lengths that follow (0-31)
//!               bit 5:    after those chunks, deliver the rest one byte at a time
//!                         (otherwise: the rest arrives as one last chunk)
//!               bit 6:    a small max_message, from the next byte: 4 * a (0-1020);
//!                         otherwise 1 MiB
//!               bit 7:    the stream is built from frame records (below), so that
//!                         most frames are masked and well-formed and the fuzzer
//!                         spends its time on fragmentation, control frames and
//!                         UTF-8; otherwise the rest is the stream as sent
//! [1 byte]      if bit 6: a
//! 2 bytes each  chunk lengths, u16 little-endian (0 = an empty read, skipped)
//! rest          the stream, or records: [first header byte][n][n payload bytes],
//!               each sent as a client frame masked with a key made from n
//! ```
//!
//! The stream is read twice: in the chunks above (append, call `read` until
//! `NeedMore`, drop `used` bytes after each step, keep the rest) and in one
//! chunk. How the bytes were split across reads must not change a single
//! event or error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_proto::ws::frame::MAX_CONTROL_PAYLOAD;
use pushwire_proto::ws::{encode_header, unmask, valid_code, Incoming, OpCode, Receiver, Step, WsError};

/// What a step produced, detached from the buffer it borrowed.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Fragment,
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    Error(WsError),
    /// Waiting for more bytes, with this many received and not yet used.
    Pending(usize),
}

#[derive(Debug, PartialEq, Eq)]
struct Run {
    seen: Vec<(Seen, usize)>,
    end: End,
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let count = usize::from(flags & 0x1f);
    let byte_by_byte = flags & 0x20 != 0;
    let max_message = if flags & 0x40 != 0 {
        let Some((&a, tail)) = rest.split_first() else { return };
        rest = tail;
        4 * usize::from(a)
    } else {
        1 << 20
    };
    let mut lengths = Vec::with_capacity(count);
    for _ in 0..count {
        let Some((&pair, tail)) = rest.split_first_chunk::<2>() else { return };
        rest = tail;
        lengths.push(usize::from(u16::from_le_bytes(pair)));
    }
    let built;
    let stream = if flags & 0x80 != 0 {
        built = from_records(rest);
        &built[..]
    } else {
        rest
    };

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

    let split = run(stream, &ends, max_message);
    let whole = run(stream, &[stream.len()], max_message);
    if split != whole {
        let shown: Vec<usize> = ends.iter().copied().take(40).collect();
        panic!(
            "reading depends on how the bytes were split\n\
             in {} chunks (ending at {shown:?}{}): {split:?}\n\
             in one go: {whole:?}",
            ends.len(),
            if ends.len() > shown.len() { ", ..." } else { "" },
        );
    }
});

/// Client frames from `[b0][n][payload]` records; a short last record is cut.
fn from_records(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some((&[b0, n], tail)) = rest.split_first_chunk::<2>() {
        let take = usize::from(n).min(tail.len());
        let (payload, tail) = tail.split_at(take);
        rest = tail;
        let mask = [n, n ^ 0x5a, n.wrapping_add(0x33), 0xa5];
        let start = out.len();
        // The length as a server would encode it, then the client's mask bit
        // and key; b0 (FIN, RSV, opcode) exactly as given, valid or not.
        encode_header(true, OpCode::Binary, payload.len(), &mut out);
        out[start] = b0;
        out[start + 1] |= 0x80;
        out.extend_from_slice(&mask);
        let body = out.len();
        out.extend_from_slice(payload);
        unmask(&mut out[body..], mask, 0);
    }
    out
}

/// Feeds `stream` in chunks ending at `ends` (ascending), exactly as the
/// driver does, checking every answer on the way.
fn run(stream: &[u8], ends: &[usize], max_message: usize) -> Run {
    let mut rx = Receiver::new(max_message, u64::MAX);
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = Vec::new();
    let mut start = 0;
    for &end in ends {
        if end <= start {
            continue;
        }
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        loop {
            // Nothing may change while "not yet" (compared when cheap).
            let before = (buf.len() <= 4096).then(|| buf.clone());
            let available = buf.len();
            let step = match rx.read(&mut buf, 0, usize::MAX) {
                Err(e) => {
                    assert!(matches!(e.close_code(), 1002 | 1007 | 1009), "{e:?}");
                    assert!(e.reason().len() <= 123);
                    return Run { seen, end: End::Error(e) };
                }
                Ok(step) => detach(step, available, max_message),
            };
            let Some((s, used)) = step else {
                if let Some(before) = before {
                    assert_eq!(buf, before, "NeedMore changed the buffer");
                }
                break;
            };
            buf.drain(..used);
            seen.push((s, used));
        }
    }
    Run { seen, end: End::Pending(buf.len()) }
}

/// One step's answer, owned and checked: `None` for NeedMore.
fn detach(step: Step<'_>, available: usize, max_message: usize) -> Option<(Seen, usize)> {
    let (seen, used) = match step {
        Step::NeedMore => return None,
        Step::Fragment { used } => (Seen::Fragment, used),
        Step::Event { event, used } => {
            let seen = match event {
                Incoming::Text(s) => {
                    assert!(s.len() <= max_message, "text of {} over {max_message}", s.len());
                    Seen::Text(s.to_owned())
                }
                Incoming::Binary(b) => {
                    assert!(b.len() <= max_message, "binary of {} over {max_message}", b.len());
                    Seen::Binary(b.to_vec())
                }
                Incoming::Ping(b) => {
                    assert!(b.len() <= MAX_CONTROL_PAYLOAD);
                    Seen::Ping(b.to_vec())
                }
                Incoming::Pong(b) => {
                    assert!(b.len() <= MAX_CONTROL_PAYLOAD);
                    Seen::Pong(b.to_vec())
                }
                Incoming::Close(close) => {
                    if let Some((code, reason)) = close {
                        assert!(valid_code(code), "close code {code} accepted");
                        assert!(reason.len() <= MAX_CONTROL_PAYLOAD - 2);
                    }
                    Seen::Close(close.map(|(code, reason)| (code, reason.to_owned())))
                }
            };
            (seen, used)
        }
    };
    // A frame is at least a 2-byte header and a 4-byte key.
    assert!(used >= 6 && used <= available, "used {used} of {available} bytes");
    Some((seen, used))
}
