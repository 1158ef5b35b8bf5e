//! The SSE event-stream parser (WHATWG HTML §9.2.6), fed as a client reads.
//!
//! Input layout (every byte string is a valid input):
//!
//! ```text
//! byte 0        bits 0-4: number of chunk lengths that follow (0-31)
//!               bit 5:    after those chunks, deliver the rest one byte at a time
//!                         (otherwise: the rest arrives as one last chunk)
//! 2 bytes each  chunk lengths, u16 little-endian (0 = an empty read)
//! rest          the stream
//! ```
//!
//! The stream is parsed twice, in the chunks above and in one feed: how the
//! bytes were split across reads must not change a single event, nor the
//! parser's state after them (comments, retry, last event ID, bytes held).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_proto::sse::Parser;

/// An event, owned: (type, data, id).
type Owned = (String, String, Option<String>);

#[derive(Debug, PartialEq, Eq)]
struct Run {
    events: Vec<Owned>,
    comments: u64,
    retry: Option<u64>,
    last_event_id: String,
    buffered: usize,
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let count = usize::from(flags & 0x1f);
    let byte_by_byte = flags & 0x20 != 0;
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

    let split = run(stream, &ends);
    let whole = run(stream, &[stream.len()]);
    assert_eq!(split, whole, "parsing depends on how the bytes were split (chunks ending at {ends:?})");
});

fn run(stream: &[u8], ends: &[usize]) -> Run {
    let mut parser = Parser::new();
    let mut events = Vec::new();
    let mut start = 0;
    for &end in ends {
        let end = end.max(start);
        parser.feed(&stream[start..end], |e| {
            // A line ends at CR or LF, so no field value holds one; data
            // lines are joined with LF only.
            assert!(!e.event.is_empty() && !e.event.contains(['\r', '\n']), "{e:?}");
            assert!(!e.data.contains('\r'), "{e:?}");
            assert!(e.id.is_none_or(|id| !id.contains(['\r', '\n', '\0'])), "{e:?}");
            events.push((e.event.to_owned(), e.data.to_owned(), e.id.map(str::to_owned)));
        });
        start = end;
        // What it holds comes from what it was given (U+FFFD may replace
        // one invalid byte with three).
        assert!(parser.buffered() <= 3 * start + 1, "{} bytes held after {start}", parser.buffered());
    }
    Run {
        events,
        comments: parser.comments(),
        retry: parser.retry(),
        last_event_id: parser.last_event_id().to_owned(),
        buffered: parser.buffered(),
    }
}
