use super::*;
use crate::ws::frame::encode_header;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const MAX: usize = 1 << 20;
/// Room for any fragment, and a message timeout no test reaches (tests of
/// the budget and the clock give their own).
const ROOM: usize = usize::MAX;
const TIMEOUT: u64 = 60_000;

const FIN_TEXT: u8 = 0x81;
const FIN_BINARY: u8 = 0x82;
const TEXT: u8 = 0x01;
const BINARY: u8 = 0x02;
const CONT: u8 = 0x00;
const FIN_CONT: u8 = 0x80;
const CLOSE: u8 = 0x88;
const PING: u8 = 0x89;
const PONG: u8 = 0x8a;

/// A client frame: first byte `b0`, masked with MASK, shortest length.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_header(b0 & 0x80 != 0, OpCode::Text, payload.len(), &mut out);
    out[0] = b0;
    out[1] |= 0x80;
    out.extend_from_slice(&MASK);
    let start = out.len();
    out.extend_from_slice(payload);
    unmask(&mut out[start..], MASK, 0);
    out
}

fn frames(list: &[(u8, &[u8])]) -> Vec<u8> {
    list.iter().flat_map(|&(b0, payload)| frame(b0, payload)).collect()
}

/// What a step produced, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Bytes received and not yet used.
    Pending(usize),
}

#[derive(Debug, PartialEq, Eq)]
struct Run {
    seen: Vec<(Seen, usize)>,
    end: End,
}

fn own(step: Step<'_>) -> Option<(Seen, usize)> {
    Some(match step {
        Step::NeedMore => return None,
        Step::Fragment { used } => (Seen::Fragment, used),
        Step::Event { event, used } => {
            let seen = match event {
                Incoming::Text(s) => Seen::Text(s.to_owned()),
                Incoming::Binary(b) => Seen::Binary(b.to_vec()),
                Incoming::Ping(b) => Seen::Ping(b.to_vec()),
                Incoming::Pong(b) => Seen::Pong(b.to_vec()),
                Incoming::Close(c) => Seen::Close(c.map(|(code, reason)| (code, reason.to_owned()))),
            };
            (seen, used)
        }
    })
}

/// Feeds `stream` as a server does: the reads end at `ends`; after each,
/// step until NeedMore, dropping used bytes, keeping the rest.
fn run(max: usize, stream: &[u8], ends: &[usize]) -> Run {
    let mut rx = Receiver::new(max, TIMEOUT);
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    let mut start = 0;
    for &end in ends.iter().chain([stream.len()].iter()) {
        if end <= start {
            continue;
        }
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        loop {
            let before = if buf.len() <= 4096 { Some(buf.clone()) } else { None };
            let step = match rx.read(&mut buf, 0, ROOM) {
                Err(e) => return Run { seen, end: End::Error(e) },
                Ok(step) => own(step),
            };
            match step {
                None => {
                    if let Some(before) = before {
                        assert_eq!(buf, before, "NeedMore changed the buffer");
                    }
                    break;
                }
                Some((s, used)) => {
                    assert!(used > 0 && used <= buf.len());
                    buf.drain(..used);
                    seen.push((s, used));
                }
            }
        }
    }
    Run { seen, end: End::Pending(buf.len()) }
}

/// The same run whole, byte by byte, and cut in two at every offset.
fn check_splits(max: usize, stream: &[u8]) -> Run {
    let whole = run(max, stream, &[]);
    let every: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(run(max, stream, &every), whole, "byte by byte");
    for cut in 0..=stream.len() {
        assert_eq!(run(max, stream, &[cut]), whole, "cut at {cut}");
    }
    whole
}

fn events(run: &Run) -> Vec<Seen> {
    run.seen.iter().map(|(s, _)| s.clone()).collect()
}

fn text(s: &str) -> Seen {
    Seen::Text(s.into())
}

// RFC 6455 §5.7 examples, each split at every byte.

#[test]
fn rfc_masked_text_hello() {
    let stream = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let r = check_splits(MAX, &stream);
    assert_eq!(r, Run { seen: vec![(text("Hello"), 11)], end: End::Pending(0) });
}

#[test]
fn rfc_fragmented_hel_lo() {
    let stream = frames(&[(TEXT, b"Hel"), (FIN_CONT, b"lo")]);
    let r = check_splits(MAX, &stream);
    assert_eq!(r.seen, vec![(Seen::Fragment, 9), (text("Hello"), 8)]);
}

#[test]
fn rfc_masked_ping_and_pong() {
    let pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(events(&check_splits(MAX, &pong)), vec![Seen::Pong(b"Hello".to_vec())]);
    let ping = frame(PING, b"Hello");
    assert_eq!(events(&check_splits(MAX, &ping)), vec![Seen::Ping(b"Hello".to_vec())]);
}

#[test]
fn rfc_256_bytes_16_bit_length() {
    let payload: Vec<u8> = (0..=255).collect();
    let stream = frame(FIN_BINARY, &payload);
    assert_eq!(stream[..4], [0x82, 0xfe, 0x01, 0x00]);
    assert_eq!(check_splits(MAX, &stream).seen, vec![(Seen::Binary(payload), 8 + 256)]);
}

#[test]
fn rfc_64k_64_bit_length() {
    let payload: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    let stream = frame(FIN_BINARY, &payload);
    assert_eq!(stream[..10], [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0]);
    let whole = run(MAX, &stream, &[]);
    assert_eq!(whole.seen, vec![(Seen::Binary(payload), 14 + 65536)]);
    // Every offset in the header, a spread of offsets in the payload, and
    // byte by byte.
    for cut in (0..=20).chain((21..stream.len()).step_by(997)) {
        assert_eq!(run(MAX, &stream, &[cut]), whole, "cut at {cut}");
    }
    let every: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(run(MAX, &stream, &every), whole);
}

#[test]
fn single_frame_payload_is_borrowed_from_the_buffer() {
    let mut buf = frame(FIN_BINARY, b"zero copy");
    let range = buf.as_ptr_range();
    let mut rx = Receiver::new(MAX, TIMEOUT);
    let Ok(Step::Event { event: Incoming::Binary(payload), used }) = rx.read(&mut buf, 0, ROOM) else {
        panic!()
    };
    assert!(range.contains(&payload.as_ptr()));
    assert_eq!((payload, used), (&b"zero copy"[..], 15));
}

#[test]
fn several_frames_in_one_read() {
    let stream = frames(&[(FIN_TEXT, b"a"), (PING, b""), (FIN_BINARY, b"\x00\xff"), (CLOSE, b"\x03\xe8")]);
    let r = check_splits(MAX, &stream);
    assert_eq!(
        events(&r),
        vec![
            text("a"),
            Seen::Ping(vec![]),
            Seen::Binary(vec![0, 0xff]),
            Seen::Close(Some((1000, String::new())))
        ]
    );
    assert_eq!(r.end, End::Pending(0));
}

#[test]
fn trailing_partial_frame_is_left_pending() {
    let mut stream = frame(FIN_TEXT, b"done");
    stream.extend_from_slice(&frame(FIN_TEXT, b"not yet")[..5]);
    assert_eq!(check_splits(MAX, &stream), Run { seen: vec![(text("done"), 10)], end: End::Pending(5) });
}

// §5.4/§5.5: control frames between fragments.

#[test]
fn ping_between_fragments() {
    let stream = frames(&[(TEXT, b"Hel"), (PING, b"x"), (CONT, b""), (PONG, b"y"), (FIN_CONT, b"lo")]);
    assert_eq!(
        events(&check_splits(MAX, &stream)),
        vec![
            Seen::Fragment,
            Seen::Ping(b"x".to_vec()),
            Seen::Fragment,
            Seen::Pong(b"y".to_vec()),
            text("Hello")
        ]
    );
}

#[test]
fn close_between_fragments() {
    let stream = frames(&[(BINARY, b"ab"), (CLOSE, b"\x03\xe9going")]);
    assert_eq!(
        events(&check_splits(MAX, &stream)),
        vec![Seen::Fragment, Seen::Close(Some((1001, "going".into())))]
    );
}

#[test]
fn messages_after_a_fragmented_one() {
    let stream = frames(&[
        (BINARY, b"1"),
        (CONT, b"2"),
        (FIN_CONT, b"3"),
        (FIN_TEXT, b"next"),
        (TEXT, b"a"),
        (FIN_CONT, b"b"),
    ]);
    assert_eq!(
        events(&check_splits(MAX, &stream)),
        vec![
            Seen::Fragment,
            Seen::Fragment,
            Seen::Binary(b"123".to_vec()),
            text("next"),
            Seen::Fragment,
            text("ab")
        ]
    );
}

#[test]
fn empty_frames_and_empty_messages() {
    let stream = frames(&[(FIN_TEXT, b""), (TEXT, b""), (FIN_CONT, b""), (CLOSE, b"")]);
    assert_eq!(
        events(&check_splits(MAX, &stream)),
        vec![text(""), Seen::Fragment, text(""), Seen::Close(None)]
    );
}

// §5.6/§8.1: UTF-8.

#[test]
fn utf8_sequence_split_across_fragments() {
    // κ = CE BA, 🎉 = F0 9F 8E 89: each cut between fragments.
    let stream = frames(&[(TEXT, b"\xce"), (CONT, b"\xba\xf0\x9f"), (CONT, b"\x8e"), (FIN_CONT, b"\x89")]);
    assert_eq!(events(&check_splits(MAX, &stream)).last(), Some(&text("κ🎉")));
}

#[test]
fn invalid_fragment_fails_before_the_message_ends() {
    // Autobahn 6.4.1/6.4.2: the second fragment makes it invalid; no third
    // fragment is needed to know.
    let kosme = "\u{3ba}\u{1f79}\u{3c3}\u{3bc}\u{3b5}".as_bytes();
    let stream = frames(&[(TEXT, kosme), (CONT, b"\xf4\x90\x80\x80")]);
    let r = check_splits(MAX, &stream);
    assert_eq!(r, Run { seen: vec![(Seen::Fragment, 6 + 11)], end: End::Error(WsError::InvalidUtf8) });
}

#[test]
fn invalid_text_fails_when_its_bad_byte_arrives() {
    // Autobahn 6.4.3/6.4.4: one frame, sent in pieces. The header and "ab"
    // are no reason to fail; the byte F5 is, before the frame is complete.
    let stream = frame(FIN_TEXT, b"ab\xf5cdefgh");
    let mut rx = Receiver::new(MAX, TIMEOUT);
    let mut buf = stream[..8].to_vec();
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::NeedMore));
    assert!(!rx.is_idle(), "a partly checked text frame is state worth keeping");
    let mut buf = stream[..9].to_vec();
    assert_eq!(rx.read(&mut buf, 0, ROOM), Err(WsError::InvalidUtf8));
    // The same inside a continuation frame.
    let stream = frames(&[(TEXT, b"ok"), (FIN_CONT, b"x\xed\xa0\x80yz")]);
    let first = frame(TEXT, b"ok").len();
    let mut rx = Receiver::new(MAX, TIMEOUT);
    let mut buf = stream.clone();
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::Fragment { used: first }));
    let mut rest = stream[first..first + 6 + 2].to_vec();
    assert_eq!(rx.read(&mut rest, 0, ROOM), Ok(Step::NeedMore));
    let mut rest = stream[first..first + 6 + 3].to_vec();
    assert_eq!(rx.read(&mut rest, 0, ROOM), Err(WsError::InvalidUtf8));
}

#[test]
fn text_must_end_on_a_complete_sequence() {
    assert_eq!(run(MAX, &frame(FIN_TEXT, b"a\xce"), &[]).end, End::Error(WsError::InvalidUtf8));
    let stream = frames(&[(TEXT, b"a"), (FIN_CONT, b"\xe2\x82")]);
    assert_eq!(check_splits(MAX, &stream).end, End::Error(WsError::InvalidUtf8));
}

#[test]
fn binary_is_not_utf8_checked() {
    let stream = frames(&[(FIN_BINARY, b"\xff"), (BINARY, b"\xc0"), (FIN_CONT, b"\x80")]);
    assert_eq!(
        events(&check_splits(MAX, &stream)),
        vec![Seen::Binary(vec![0xff]), Seen::Fragment, Seen::Binary(vec![0xc0, 0x80])]
    );
}

// Every WsError from a minimal byte vector, with its close code.

#[test]
fn every_error_from_minimal_bytes() {
    let cases: Vec<(Vec<u8>, WsError, u16)> = vec![
        (vec![0xc1], WsError::ReservedBits, 1002),
        (vec![0x83], WsError::UnknownOpcode(3), 1002),
        (vec![0x8b], WsError::UnknownOpcode(0xb), 1002),
        (vec![0x81, 0x00], WsError::UnmaskedFrame, 1002),
        (vec![0x89, 0xfe], WsError::ControlTooLong, 1002),
        (vec![0x09], WsError::FragmentedControl, 1002),
        (vec![0x82, 0xfe, 0x00, 0x05], WsError::NonMinimalLength, 1002),
        (vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0], WsError::LengthHighBit, 1002),
        (frame(FIN_CONT, b""), WsError::UnexpectedContinuation, 1002),
        (frames(&[(TEXT, b""), (FIN_TEXT, b"")]), WsError::ExpectedContinuation, 1002),
        (frames(&[(BINARY, b""), (BINARY, b"")]), WsError::ExpectedContinuation, 1002),
        (frame(FIN_TEXT, b"\xff"), WsError::InvalidUtf8, 1007),
        (frame(CLOSE, b"\x03\xe8\xff"), WsError::InvalidUtf8, 1007),
        (frame(FIN_BINARY, &[0; 11]), WsError::MessageTooLarge, 1009),
        (frame(CLOSE, b"\x03\xed"), WsError::BadCloseCode(1005), 1002),
        (frame(CLOSE, b"\x03"), WsError::CloseTooShort, 1002),
    ];
    for (bytes, want, code) in cases {
        let r = check_splits(10, &bytes);
        assert_eq!(r.end, End::Error(want), "{bytes:02x?}");
        assert_eq!(want.close_code(), code, "{want:?}");
    }
}

#[test]
fn continuation_after_a_finished_message_is_unexpected() {
    let stream = frames(&[(TEXT, b"a"), (FIN_CONT, b"b"), (FIN_CONT, b"c")]);
    assert_eq!(check_splits(MAX, &stream).end, End::Error(WsError::UnexpectedContinuation));
}

// §10.4: the size limit, checked on the header, before the payload arrives.

#[test]
fn max_message_single_frame_boundary() {
    let max = 300;
    let exact = frame(FIN_BINARY, &[7; 300]);
    assert_eq!(run(max, &exact, &[]).seen, vec![(Seen::Binary(vec![7; 300]), 8 + 300)]);
    let over = frame(FIN_BINARY, &[7; 301]);
    // The header alone (8 bytes) is enough to refuse it.
    assert_eq!(run(max, &over[..8], &[]).end, End::Error(WsError::MessageTooLarge));
    assert_eq!(check_splits(max, &over).end, End::Error(WsError::MessageTooLarge));
    assert_eq!(WsError::MessageTooLarge.close_code(), 1009);
}

#[test]
fn max_message_fragmented_boundary() {
    let max = 300;
    let exact = frames(&[(TEXT, &[b'a'; 100]), (PING, b"p"), (CONT, &[b'b'; 150]), (FIN_CONT, &[b'c'; 50])]);
    let r = check_splits(max, &exact);
    let want = "a".repeat(100) + &"b".repeat(150) + &"c".repeat(50);
    assert_eq!(events(&r).last(), Some(&text(&want)));
    let over = frames(&[(TEXT, &[b'a'; 100]), (PING, b"p"), (CONT, &[b'b'; 150]), (FIN_CONT, &[b'c'; 51])]);
    let r = check_splits(max, &over);
    assert_eq!(r.end, End::Error(WsError::MessageTooLarge));
    assert_eq!(events(&r), vec![Seen::Fragment, Seen::Ping(b"p".to_vec()), Seen::Fragment]);
    // Refused on the last fragment's header, with none of its payload here.
    let header_end = over.len() - 51;
    assert_eq!(run(max, &over[..header_end], &[]).end, End::Error(WsError::MessageTooLarge));
}

#[test]
fn huge_announced_length_is_refused_without_waiting() {
    let header = [0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4];
    assert_eq!(run(MAX, &header, &[]).end, End::Error(WsError::MessageTooLarge));
    let mut rx = Receiver::new(usize::MAX, TIMEOUT);
    let mut buf = header.to_vec();
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::NeedMore));
}

#[test]
fn fragment_buffer_never_grows_past_max_message() {
    let max = 1000;
    let mut rx = Receiver::new(max, TIMEOUT);
    let mut buf = frame(BINARY, &[1; 100]);
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::Fragment { used: 106 }));
    for _ in 0..8 {
        let mut buf = frame(CONT, &[1; 100]);
        assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::Fragment { used: 106 }));
        let State::Fragmented(msg) = &rx.state else { panic!() };
        assert!(msg.data.capacity() <= max, "capacity {}", msg.data.capacity());
    }
    let mut buf = frame(FIN_CONT, &[1; 100]);
    let Ok(Step::Event { event: Incoming::Binary(data), .. }) = rx.read(&mut buf, 0, ROOM) else { panic!() };
    assert_eq!(data.len(), 1000);
}

// Idle or not.

#[test]
fn idle_between_messages_only() {
    let mut rx = Receiver::new(MAX, TIMEOUT);
    assert!(rx.is_idle());
    let mut buf = frame(TEXT, b"a");
    rx.read(&mut buf, 0, ROOM).unwrap();
    assert!(!rx.is_idle());
    let mut buf = frame(PING, b"");
    rx.read(&mut buf, 0, ROOM).unwrap();
    assert!(!rx.is_idle(), "a control frame leaves the message in progress");
    let mut buf = frame(FIN_CONT, b"b");
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::Event { event: Incoming::Text("ab"), used: 7 }));
    assert!(rx.is_idle());
    let mut buf = frame(FIN_BINARY, b"partial");
    buf.truncate(9);
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::NeedMore));
    assert!(!rx.is_idle(), "a partial frame is timed from its first byte: its start is state");
}

// The input budget: `room` is what a fragmented message may still allocate.

/// One read of `bytes` (a fresh buffer) at `now` with `room`: what it gave.
fn step(rx: &mut Receiver, bytes: &[u8], now: u64, room: usize) -> Result<Option<Seen>, WsError> {
    let mut buf = bytes.to_vec();
    rx.read(&mut buf, now, room).map(|step| own(step).map(|(seen, _)| seen))
}

#[test]
fn a_single_frame_message_needs_no_room() {
    // Borrowed from the caller's buffer: nothing is allocated for it.
    let mut rx = Receiver::new(MAX, TIMEOUT);
    assert_eq!(step(&mut rx, &frame(FIN_BINARY, &[1; 500]), 0, 0), Ok(Some(Seen::Binary(vec![1; 500]))));
    assert_eq!(step(&mut rx, &frame(FIN_TEXT, b"hi"), 0, 0), Ok(Some(text("hi"))));
    assert_eq!(step(&mut rx, &frame(PING, b"p"), 0, 0), Ok(Some(Seen::Ping(b"p".to_vec()))));
    assert_eq!(rx.buffered(), 0);
    // An empty first fragment allocates nothing either.
    assert_eq!(step(&mut rx, &frame(TEXT, b""), 0, 0), Ok(Some(Seen::Fragment)));
}

#[test]
fn a_first_fragment_is_refused_before_it_is_copied() {
    let mut rx = Receiver::new(MAX, TIMEOUT);
    assert_eq!(step(&mut rx, &frame(BINARY, &[1; 100]), 0, 99), Err(WsError::BufferFull));
    assert_eq!(rx.buffered(), 0, "nothing was allocated");
    assert_eq!(WsError::BufferFull.close_code(), 1009);
    let mut rx = Receiver::new(MAX, TIMEOUT);
    assert_eq!(step(&mut rx, &frame(BINARY, &[1; 100]), 0, 100), Ok(Some(Seen::Fragment)));
    assert_eq!(rx.buffered(), 100);
}

#[test]
fn a_continuation_grows_within_the_room_or_not_at_all() {
    let mut rx = Receiver::new(MAX, TIMEOUT);
    assert_eq!(step(&mut rx, &frame(BINARY, &[1; 100]), 0, ROOM), Ok(Some(Seen::Fragment)));
    // 50 more bytes with room for 49: refused, the buffer as it was.
    assert_eq!(step(&mut rx, &frame(CONT, &[2; 50]), 0, 49), Err(WsError::BufferFull));
    assert_eq!(rx.buffered(), 100);
    // With room for exactly 50, no doubling past it.
    let mut rx = Receiver::new(MAX, TIMEOUT);
    step(&mut rx, &frame(BINARY, &[1; 100]), 0, ROOM).unwrap();
    assert_eq!(step(&mut rx, &frame(CONT, &[2; 50]), 0, 50), Ok(Some(Seen::Fragment)));
    assert_eq!(rx.buffered(), 150);
    // With room to spare, amortised doubling (within max_message).
    assert_eq!(step(&mut rx, &frame(CONT, &[3; 10]), 0, ROOM), Ok(Some(Seen::Fragment)));
    assert_eq!(rx.buffered(), 300);
    // Growth that fits the capacity already held needs no room at all.
    assert_eq!(step(&mut rx, &frame(CONT, &[4; 40]), 0, 0), Ok(Some(Seen::Fragment)));
    let Ok(Some(Seen::Binary(data))) = step(&mut rx, &frame(FIN_CONT, b""), 0, 0) else { panic!() };
    assert_eq!(data.len(), 200);
    // The message just delivered is held until the next read, then freed.
    assert_eq!(rx.buffered(), 300);
    assert_eq!(step(&mut rx, &[], 0, 0), Ok(None));
    assert_eq!(rx.buffered(), 0);
}

#[test]
fn max_message_is_answered_before_the_room() {
    // A message over the limit is the peer's fault (MessageTooLarge), told
    // on its header, whatever room there is.
    let mut rx = Receiver::new(150, TIMEOUT);
    step(&mut rx, &frame(BINARY, &[1; 100]), 0, ROOM).unwrap();
    assert_eq!(step(&mut rx, &frame(CONT, &[2; 51]), 0, 0), Err(WsError::MessageTooLarge));
}

// The message clock: `now` in, the deadline out; no sleeping.

#[test]
fn a_message_is_timed_from_its_first_byte_to_its_last() {
    let mut rx = Receiver::new(MAX, 30_000);
    assert_eq!(rx.deadline(), None);
    let whole = frame(FIN_BINARY, &[9; 200]);
    assert_eq!(step(&mut rx, &whole[..3], 1_000, ROOM), Ok(None));
    assert_eq!(rx.deadline(), Some(31_000));
    // More bytes of the same frame do not move it.
    assert_eq!(step(&mut rx, &whole[..150], 20_000, ROOM), Ok(None));
    assert_eq!(rx.deadline(), Some(31_000));
    assert_eq!(rx.handle_timeout(30_999), Ok(()));
    assert_eq!(rx.handle_timeout(31_000), Err(WsError::MessageTimeout));
    assert_eq!(WsError::MessageTimeout.close_code(), 1008);
    // Whole in time: nothing is timed any more.
    assert_eq!(step(&mut rx, &whole, 30_999, ROOM), Ok(Some(Seen::Binary(vec![9; 200]))));
    assert_eq!(rx.deadline(), None);
    assert_eq!(rx.handle_timeout(u64::MAX), Ok(()));
    assert!(rx.is_idle());
}

#[test]
fn pings_and_pongs_between_fragments_do_not_extend_it() {
    let mut rx = Receiver::new(MAX, 30_000);
    assert_eq!(step(&mut rx, &frame(TEXT, b"Hel"), 0, ROOM), Ok(Some(Seen::Fragment)));
    assert_eq!(rx.deadline(), Some(30_000));
    for t in (1_000..30_000).step_by(1_000) {
        let control = if t % 2_000 == 0 { frame(PING, b"") } else { frame(PONG, b"") };
        assert!(matches!(step(&mut rx, &control, t, ROOM), Ok(Some(Seen::Ping(_) | Seen::Pong(_)))));
        assert_eq!(rx.deadline(), Some(30_000), "at {t}");
    }
    // Nor do more fragments: the message is what is timed.
    assert_eq!(step(&mut rx, &frame(CONT, b"l"), 29_000, ROOM), Ok(Some(Seen::Fragment)));
    assert_eq!(rx.deadline(), Some(30_000));
    assert_eq!(rx.handle_timeout(30_000), Err(WsError::MessageTimeout));
}

#[test]
fn a_control_frame_between_messages_is_timed_until_it_is_whole() {
    let mut rx = Receiver::new(MAX, 30_000);
    let ping = frame(PING, b"slow");
    assert_eq!(step(&mut rx, &ping[..4], 500, ROOM), Ok(None));
    assert_eq!(rx.deadline(), Some(30_500));
    assert_eq!(step(&mut rx, &ping, 600, ROOM), Ok(Some(Seen::Ping(b"slow".to_vec()))));
    assert_eq!(rx.deadline(), None);
}

#[test]
fn each_message_starts_its_own_clock() {
    // A busy peer whose reads always end inside the next message: each
    // message is timed from its own first byte, not from the first ever.
    let mut rx = Receiver::new(MAX, 30_000);
    let two = frames(&[(FIN_TEXT, b"one"), (FIN_TEXT, b"two")]);
    let mut buf = two[..two.len() - 1].to_vec();
    let Ok(Step::Event { used, .. }) = rx.read(&mut buf, 0, ROOM) else { panic!() };
    buf.drain(..used);
    assert_eq!(rx.deadline(), None);
    assert_eq!(rx.read(&mut buf, 0, ROOM), Ok(Step::NeedMore));
    assert_eq!(rx.deadline(), Some(30_000));
    let mut buf = two[used..].to_vec();
    assert_eq!(rx.read(&mut buf, 25_000, ROOM), Ok(Step::Event { event: Incoming::Text("two"), used: 9 }));
    assert_eq!(step(&mut rx, &frame(TEXT, b"th"), 40_000, ROOM), Ok(Some(Seen::Fragment)));
    assert_eq!(rx.deadline(), Some(70_000));
}
