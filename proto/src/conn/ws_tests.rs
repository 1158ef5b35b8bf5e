//! A connection's WebSocket input, byte vectors in: what reaches the app,
//! what is answered, what is kept and counted against the budget, and the
//! deadline of an unfinished message, with time moved by hand.

use super::*;
use crate::conn::{Open, Timeouts};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const T: Timeouts = Timeouts { header: 10_000, keepalive: 60_000, linger: 2_000 };
const MAX_MESSAGE: usize = 1 << 20;
const TIMEOUT: u64 = 60_000;

/// A client frame (RFC 6455 §5.2), masked with MASK, its first byte (FIN,
/// opcode) `b0`.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::ws::encode_masked(OpCode::Binary, payload, MASK, &mut out);
    out[0] = b0;
    out
}

/// The app's side: what it was handed, owned, and whether it closes the
/// socket after the n-th event.
struct App {
    held: u64,
    max: usize,
    seen: Vec<String>,
    close_after: usize,
}

impl App {
    fn new(max: usize) -> App {
        App { held: 0, max, seen: Vec::new(), close_after: usize::MAX }
    }
}

impl Upper for App {
    fn budget(&mut self) -> Budget<'_> {
        Budget { held: &mut self.held, max: self.max }
    }

    fn incoming(&mut self, event: Incoming<'_>) -> bool {
        let answer = answer(event);
        let closes = matches!(answer, Answer::Close(_));
        self.seen.push(match answer {
            Answer::Text(text) => format!("text {text}"),
            Answer::Binary(bytes) => format!("binary {}", bytes.len()),
            Answer::Pong(frame) => format!("pong {frame:02x?}"),
            Answer::Alive => "alive".into(),
            Answer::Close(code) => format!("close {code}"),
        });
        // As the driver does: a Close ends the socket, nothing after it is read.
        !closes && self.seen.len() < self.close_after
    }
}

fn socket() -> (Connection<()>, Open) {
    let mut open = Open::default();
    let (mut conn, _) = Connection::new((), 0, 0, &T, &mut open);
    conn.set_phase(Phase::Ws { awaiting_pong: false }, &mut open);
    // Upgraded, and the head's wheel entry has fired since.
    conn.reset_timer();
    (conn, open)
}

/// One read: run, then finish.
fn read(conn: &mut Connection<()>, app: &mut App, bytes: &[u8], now: u64) -> Result<Option<u64>, WsError> {
    let mut data = bytes.to_vec();
    let mut input = Input::begin(conn, MAX_MESSAGE, TIMEOUT);
    match input.run(&mut data, now, app) {
        Ok(Ran::Read) => {}
        Ok(Ran::Closed) => {
            input.abandon(&mut app.budget());
            return Ok(None);
        }
        Err(e) => {
            input.abandon(&mut app.budget());
            return Err(e);
        }
    }
    let (held, max) = (&mut app.held, app.max);
    input.finish(conn, &data, &mut Budget { held, max }, false)
}

#[test]
fn a_whole_frame_reaches_the_app_and_leaves_nothing_held() {
    // RFC 6455 §5.7: "A single-frame masked text message".
    let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    assert_eq!(read(&mut conn, &mut app, &bytes, 0), Ok(None));
    assert_eq!(app.seen, ["text Hello"]);
    assert!(conn.pending.is_none(), "an idle socket holds no buffer");
    assert_eq!(app.held, 0);
}

#[test]
fn a_ping_is_answered_with_a_pong_of_the_same_payload_and_a_pong_says_alive() {
    // §5.7: "Unmasked Ping request and masked Ping response": the server's
    // pong is unmasked, 0x8a 0x05 "Hello".
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    let mut bytes = frame(0x89, b"Hello");
    bytes.extend(frame(0x8a, b""));
    assert_eq!(read(&mut conn, &mut app, &bytes, 0), Ok(None));
    assert_eq!(app.seen, ["pong [8a, 05, 48, 65, 6c, 6c, 6f]", "alive"]);
}

#[test]
fn a_close_is_echoed_with_its_code_or_with_none() {
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    let mut bytes = frame(0x88, &[0x03, 0xe9]);
    bytes.extend(frame(0x81, b"after the close"));
    assert_eq!(read(&mut conn, &mut app, &bytes, 0), Ok(None));
    assert_eq!(app.seen, ["close 1001"], "nothing after a Close is read");
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    assert_eq!(read(&mut conn, &mut app, &frame(0x88, b""), 0), Ok(None));
    assert_eq!(app.seen, ["close 0"], "a Close with no status is echoed with none");
}

#[test]
fn a_frame_split_across_reads_is_kept_counted_and_timed_until_it_is_whole() {
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    let bytes = frame(0x81, b"split in two");
    // Half a frame at 1 s: kept, counted, and due by the message timeout.
    assert_eq!(read(&mut conn, &mut app, &bytes[..7], 1_000), Ok(Some(61_000)));
    assert!(app.seen.is_empty());
    let kept = conn.pending.as_deref().map(held).unwrap_or_default();
    assert!(kept >= 7);
    assert_eq!(app.held, kept as u64);
    // More bytes of the same frame do not move its deadline.
    assert_eq!(read(&mut conn, &mut app, &bytes[7..10], 30_000), Ok(None));
    assert_eq!(conn.deadline(), 61_000);
    assert_eq!(read(&mut conn, &mut app, &bytes[10..], 40_000), Ok(None));
    assert_eq!(app.seen, ["text split in two"]);
    assert_eq!(app.held, 0);
    assert!(conn.pending.is_none());
}

#[test]
fn a_kept_frame_is_completed_from_the_next_read_and_the_frames_after_it_are_read_in_place() {
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    let one = frame(0x81, b"one");
    assert!(read(&mut conn, &mut app, &one[..3], 0).is_ok());
    let mut rest = one[3..].to_vec();
    rest.extend(frame(0x81, b"two"));
    rest.extend(frame(0x89, b"p"));
    rest.extend(&frame(0x82, &[1, 2, 3])[..2]);
    assert_eq!(
        read(&mut conn, &mut app, &rest, 1_000),
        Ok(None),
        "the message's entry (60 s) is in the wheel"
    );
    assert_eq!(app.seen, ["text one", "text two", "pong [8a, 01, 70]"]);
    // The partial binary frame at the end is kept, counted, and timed from
    // its own first byte.
    assert_eq!(conn.pending.as_deref().map(|p| p.buf.len()), Some(2));
    assert_eq!(app.held, conn.pending.as_deref().map_or(0, held) as u64);
    assert_eq!(conn.deadline(), 61_000);
}

#[test]
fn a_fragmented_message_is_held_and_counted_until_its_last_fragment() {
    let (mut conn, _) = socket();
    let mut app = App::new(1 << 16);
    // RFC 6455 §5.4: a text message in two fragments, a ping between them.
    assert_eq!(read(&mut conn, &mut app, &frame(0x01, b"Hel"), 0), Ok(Some(60_000)));
    assert!(app.held >= 3, "the first fragment is held: {}", app.held);
    let mut rest = frame(0x89, b"");
    rest.extend(frame(0x80, b"lo"));
    assert_eq!(read(&mut conn, &mut app, &rest, 20_000), Ok(None));
    assert_eq!(app.seen, ["pong [8a, 00]", "text Hello"]);
    assert_eq!(app.held, 0, "given back once the app had the message");
    assert!(conn.pending.is_none());
}

#[test]
fn completing_a_kept_frame_past_the_shared_budget_fails_with_1009() {
    let (mut conn, _) = socket();
    let mut app = App::new(64);
    let big = frame(0x82, &[9; 200]);
    // The header and a little payload fit the budget...
    assert!(read(&mut conn, &mut app, &big[..10], 0).is_ok());
    // ...the frame it announces does not: refused before it is allocated.
    assert_eq!(read(&mut conn, &mut app, &big[10..], 1), Err(WsError::BufferFull));
    assert!(conn.pending.is_none());
    assert_eq!(app.held, 0, "what it held is freed");
}

#[test]
fn a_socket_deadline_that_is_not_its_message_s_re_arms_for_the_message() {
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    assert_eq!(read(&mut conn, &mut app, &frame(0x81, b"slow")[..3], 0), Ok(Some(60_000)));
    // Another deadline came first (a drain's turn, say, that was then moved).
    conn.reset_timer();
    assert_eq!(conn.arm(1_000), Some(1_000));
    assert_eq!(conn.on_timer(1_000, 1_000), crate::conn::Timer::Due);
    assert_eq!(conn.ws_timeout(1_000), Ok(Some(60_000)));
}

#[test]
fn a_message_not_whole_by_its_deadline_fails_with_1008() {
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    let bytes = frame(0x81, b"too slow");
    assert_eq!(read(&mut conn, &mut app, &bytes[..4], 0), Ok(Some(60_000)));
    assert_eq!(conn.ws_timeout(59_999), Ok(None));
    let e = conn.ws_timeout(60_000);
    assert_eq!(e, Err(WsError::MessageTimeout));
    assert_eq!(WsError::MessageTimeout.close_code(), close::POLICY_VIOLATION);
}

#[test]
fn input_past_the_shared_budget_fails_with_1009_and_frees_what_it_held() {
    let (mut conn, _) = socket();
    // Room for 16 bytes of input, every socket together.
    let mut app = App::new(16);
    let bytes = frame(0x82, &[7; 100]);
    assert_eq!(read(&mut conn, &mut app, &bytes[..40], 0), Err(WsError::BufferFull));
    assert_eq!(app.held, 0);
    assert_eq!(WsError::BufferFull.close_code(), close::TOO_BIG);
}

#[test]
fn nothing_after_the_frame_that_closed_the_socket_is_read() {
    let (mut conn, _) = socket();
    let mut app = App::new(1024);
    app.close_after = 1;
    let mut bytes = frame(0x81, b"one");
    bytes.extend(frame(0x81, b"two"));
    assert_eq!(read(&mut conn, &mut app, &bytes, 0), Ok(None));
    assert_eq!(app.seen, ["text one"]);
    assert_eq!(app.held, 0);
}

#[test]
fn a_close_on_a_socket_with_no_entry_in_the_wheel_inserts_one() {
    let (mut conn, mut open) = socket();
    let (mut pool, mut held) = (QueuePool::default(), 0);
    let at = conn.ws_close(None, &mut pool, &mut Budget { held: &mut held, max: 0 }, &mut open, 5_000, &T);
    assert_eq!(at, Some(65_000));
    assert!(conn.out.is_none(), "no frame: the peer is gone");
}

#[test]
fn each_way_of_ending_has_its_close_code() {
    // RFC 6455 §7.4.1; SPEC §5 (1013 for a slow consumer), §1 (1001 on shutdown).
    assert_eq!(close_code(End::Done), Some((1000, "")));
    assert_eq!(close_code(End::Timeout), Some((1000, "")));
    assert_eq!(close_code(End::Shutdown), Some((1001, "server shutting down")));
    assert_eq!(close_code(End::TooSlow), Some((1013, "too slow to read")));
    assert_eq!(close_code(End::Gone), None);
}

#[test]
fn closing_queues_the_close_frame_last_and_frees_the_input() {
    let (mut conn, mut open) = socket();
    let mut app = App::new(1024);
    let bytes = frame(0x81, b"unfinished");
    assert!(read(&mut conn, &mut app, &bytes[..5], 0).is_ok());
    assert!(app.held > 0);
    let mut pool = QueuePool::default();
    let (held, max) = (&mut app.held, app.max);
    let at = conn.ws_close(Some((1000, "")), &mut pool, &mut Budget { held, max }, &mut open, 5_000, &T);
    assert_eq!(at, None, "the message's entry (60 s) fires first");
    assert_eq!(conn.deadline(), 65_000, "the Close has as long to leave as any answer");
    assert_eq!(conn.phase(), Phase::Closing);
    assert_eq!(open, Open { http: 1, sse: 0, ws: 0 });
    assert_eq!(app.held, 0);
    assert!(conn.pending.is_none());
    let mut wire = Vec::new();
    let queued = conn.out.as_mut().map(|q| q.write_to(&mut wire, usize::MAX));
    assert!(matches!(queued, Some(Ok(4))));
    assert_eq!(wire, [0x88, 0x02, 0x03, 0xe8]);
    // Nothing is sent after a Close (§5.5.1): a second close does nothing.
    let (held, max) = (&mut app.held, app.max);
    assert_eq!(
        conn.ws_close(Some((1001, "")), &mut pool, &mut Budget { held, max }, &mut open, 6_000, &T),
        None
    );
    assert!(conn.out.as_ref().is_some_and(|q| q.is_empty()));
}
