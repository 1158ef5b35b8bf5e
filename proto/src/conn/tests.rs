//! The connection's time-driven rules, by phase (as smoltcp tests TCP by
//! state): each test makes a connection at `now` = 0, moves `now` by hand,
//! fires the wheel entries the connection asked for, and checks what the
//! rule says. No socket and no clock.

use super::*;
use crate::http::request::{parse, Parse};
use crate::limits::{Limits, MAX_HEADERS};

const T: Timeouts = Timeouts { header: 10_000, keepalive: 60_000, linger: 2_000 };

/// A connection and the driver's side of it: its wheel entries and counts.
struct Harness {
    conn: Connection<()>,
    /// Wheel entries the connection asked for, in the order it asked.
    entries: Vec<u64>,
    open: Open,
}

impl Harness {
    fn accepted_at(now: u64) -> Harness {
        let mut open = Open::default();
        let (conn, at) = Connection::new((), 0, now, &T, &mut open);
        Harness { conn, entries: vec![at], open }
    }

    fn arm(&mut self, at: u64) {
        if let Some(at) = self.conn.arm(at) {
            self.entries.push(at);
        }
    }

    /// Fires every entry due by `now` in time order, as the driver's wheel
    /// would, and says what the due deadline means (None: nothing was due).
    /// After a `Due` the deadline is cleared, so entries due with it are
    /// stale; they are fired all the same, and must say so.
    fn advance(&mut self, now: u64, draining: bool) -> Option<Expired> {
        let mut due: Vec<u64> = self.entries.iter().copied().filter(|&at| at <= now).collect();
        due.sort_unstable();
        self.entries.retain(|&at| at > now);
        let mut expired = None;
        for at in due {
            match self.conn.on_timer(at, now) {
                Timer::Stale => {}
                Timer::Rearm(later) => self.entries.push(later),
                Timer::Due => {
                    assert_eq!(expired, None, "one deadline, one Due");
                    expired = Some(self.conn.expired(draining));
                }
            }
        }
        expired
    }

    fn pending(&mut self, in_body: bool) {
        let mut pending = Box::<Pending>::default();
        let bytes: &[u8] =
            if in_body { b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\nab" } else { b"GET / HT" };
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let parsed = parse(bytes, &mut pending.progress, &Limits::default(), &mut headers);
        assert!(matches!(parsed, Ok(Parse::Partial { .. })), "{parsed:?}");
        assert_eq!(pending.progress.in_body(), in_body);
        pending.buf.extend_from_slice(bytes);
        self.conn.pending = Some(pending);
    }

    fn queue(&mut self, bytes: &[u8]) {
        let mut pool = QueuePool::default();
        self.conn.queue(&mut pool).push_bytes(bytes);
    }
}

#[test]
fn an_idle_connection_costs_its_slab_entry_and_nothing_else() {
    // An idle connection's two buffers are `None`: a pointer's worth each,
    // and no heap at all; the whole of it is the 48 bytes asserted in mod.rs.
    assert_eq!(std::mem::size_of::<Option<Box<Pending>>>(), 8);
    assert_eq!(std::mem::size_of::<Option<Box<OutQueue>>>(), 8);
    assert_eq!(std::mem::size_of::<Connection<u32>>(), 48);
}

mod http {
    use super::*;

    #[test]
    fn a_fresh_connection_that_sends_no_head_gets_408_at_the_header_timeout() {
        let mut h = Harness::accepted_at(1_000);
        assert_eq!(h.open, Open { http: 1, sse: 0, ws: 0 });
        assert_eq!(h.advance(10_999, false), None);
        // SPEC §5: from the moment the client connects, not a second later.
        assert_eq!(h.advance(11_000, false), Some(Expired::RequestTimeout));
    }

    #[test]
    fn a_trickled_head_is_not_extended_by_its_bytes() {
        // SPEC §5 (slowloris): a head's deadline runs from its first byte.
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        h.pending(false);
        let first = h.conn.http_deadline(h.conn.pending.as_deref(), true, 5_000, &T);
        assert_eq!(first, Some(15_000));
        h.arm(first.unwrap_or_default());
        // More bytes of the same head at 9 s set no new deadline.
        assert_eq!(h.conn.http_deadline(h.conn.pending.as_deref(), false, 9_000, &T), None);
        assert_eq!(h.advance(14_999, false), None);
        assert_eq!(h.advance(15_000, false), Some(Expired::RequestTimeout));
    }

    #[test]
    fn an_idle_keep_alive_connection_closes_quietly() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        let idle = h.conn.http_deadline(None, true, 2_000, &T);
        assert_eq!(idle, Some(62_000));
        h.arm(62_000);
        // The head's entry (10 s) fires first and finds the deadline moved.
        assert_eq!(h.advance(10_000, false), None);
        assert_eq!(h.entries, vec![62_000]);
        assert_eq!(h.advance(61_999, false), None);
        assert_eq!(h.advance(62_000, false), Some(Expired::Idle));
    }

    #[test]
    fn a_body_may_take_as_long_as_it_keeps_moving() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        h.pending(true);
        assert_eq!(h.conn.http_deadline(h.conn.pending.as_deref(), true, 3_000, &T), Some(63_000));
        assert_eq!(h.conn.http_deadline(h.conn.pending.as_deref(), false, 50_000, &T), Some(110_000));
    }

    #[test]
    fn a_client_that_stops_reading_is_closed_when_writes_stop_moving() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        h.queue(b"HTTP/1.1 200 OK\r\n\r\n");
        // Each write that moves bytes moves the deadline on; the wheel's
        // entry stays where it was and is re-armed when it fires.
        assert_eq!(h.conn.wrote(1_000, &T), None);
        assert_eq!(h.conn.deadline(), 61_000);
        assert_eq!(h.advance(10_000, false), None, "re-armed for 61 s");
        assert_eq!(h.entries, vec![61_000]);
        assert_eq!(h.conn.wrote(30_000, &T), None);
        assert_eq!(h.advance(61_000, false), None, "re-armed for 90 s");
        assert_eq!(h.entries, vec![90_000]);
        assert_eq!(h.advance(90_000, false), Some(Expired::StoppedReading));
    }

    #[test]
    fn requests_waiting_behind_unread_answers_are_timed_by_writes_not_as_a_head() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        h.conn.set_read_paused(true);
        h.queue(&[b'x'; 1024]);
        h.pending(false);
        assert_eq!(h.conn.http_deadline(h.conn.pending.as_deref(), true, 1_000, &T), Some(61_000));
        h.arm(61_000);
        // Each write moves it on (the head's 10 s entry fires first and
        // finds it moved).
        assert_eq!(h.conn.wrote(2_000, &T), None);
        assert_eq!(h.conn.deadline(), 62_000);
        assert_eq!(h.advance(10_000, false), None);
        assert_eq!(h.advance(62_000, false), Some(Expired::StoppedReading));
    }

    #[test]
    fn while_draining_an_answered_connection_closes_and_one_inside_a_request_does_not() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        assert_eq!(h.conn.rest(true), Rest::Close("shutdown"));
        h.pending(false);
        assert_eq!(h.conn.rest(true), Rest::Wait);
        assert_eq!(h.conn.rest(false), Rest::Wait);
    }

    #[test]
    fn a_client_that_closed_is_closed_once_its_answers_are_out() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_read_closed(true);
        h.queue(b"answer");
        assert_eq!(h.conn.rest(false), Rest::Wait);
        h.conn.out = None;
        assert_eq!(h.conn.rest(false), Rest::Close("client closed"));
    }

    #[test]
    fn a_broken_socket_closes_in_any_phase() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_broken(true);
        assert_eq!(h.conn.rest(false), Rest::Close("socket error"));
        h.conn.set_phase(Phase::Ws { awaiting_pong: false }, &mut h.open);
        assert_eq!(h.conn.rest(false), Rest::Close("socket error"));
    }
}

mod parked {
    use super::*;

    #[test]
    fn a_long_poll_hears_its_timeout_and_pipelined_requests_set_no_deadline() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_phase(Phase::Parked { keep_alive: true, minor: 1 }, &mut h.open);
        assert_eq!(h.open, Open { http: 1, sse: 0, ws: 0 }, "a parked request counts as HTTP");
        h.arm(30_000);
        assert_eq!(h.advance(10_000, false), None, "the head's entry is earlier and stale");
        assert_eq!(h.advance(30_000, false), Some(Expired::Stream));
    }

    #[test]
    fn a_parked_request_whose_client_left_is_closed() {
        let mut h = Harness::accepted_at(0);
        h.conn.set_phase(Phase::Parked { keep_alive: true, minor: 1 }, &mut h.open);
        h.conn.set_read_closed(true);
        assert_eq!(h.conn.rest(false), Rest::Close("client went away"));
    }
}

mod sse {
    use super::*;

    fn stream(idle_ms: u32) -> Harness {
        let mut h = Harness::accepted_at(0);
        h.conn.set_phase(Phase::Sse { idle_ms: Millis::new(idle_ms) }, &mut h.open);
        h.conn.disarm();
        h
    }

    #[test]
    fn a_stream_is_counted_as_sse_and_the_head_deadline_no_longer_counts() {
        let mut h = stream(0);
        assert_eq!(h.open, Open { http: 0, sse: 1, ws: 0 });
        assert_eq!(h.advance(10_000, false), None);
        assert!(h.entries.is_empty());
    }

    #[test]
    fn each_event_moves_the_idle_timeout_and_silence_ends_the_stream() {
        // The demos' streams end after a time with no event (SPEC §3).
        let mut h = stream(5_000);
        h.arm(5_000);
        h.arm(9_000); // an event at 4 s
        assert_eq!(h.advance(5_000, false), None);
        assert!(h.entries.contains(&9_000), "re-armed for the event's deadline");
        assert_eq!(h.advance(9_000, false), Some(Expired::Stream));
    }

    #[test]
    fn while_draining_the_deadline_is_the_streams_turn_to_close() {
        let mut h = stream(5_000);
        h.arm(5_000);
        // Drain: a close time spread over the window, later than the idle
        // deadline's entry, so the old entry is forgotten first.
        h.conn.reset_timer();
        h.arm(7_500);
        assert_eq!(h.advance(5_000, true), None, "the idle entry is stale");
        assert_eq!(h.advance(7_500, true), Some(Expired::Drain));
    }

    #[test]
    fn end_of_file_from_a_stream_client_means_it_went_away() {
        let mut h = stream(0);
        h.conn.set_read_closed(true);
        assert_eq!(h.conn.rest(false), Rest::Close("client went away"));
    }

    #[test]
    fn writes_to_a_stream_do_not_move_its_deadline() {
        let mut h = stream(5_000);
        h.queue(b"data: x\n\n");
        assert_eq!(h.conn.wrote(1_000, &T), None);
        assert_eq!(h.conn.deadline(), 0);
    }
}

mod ws {
    use super::*;

    fn socket() -> Harness {
        let mut h = Harness::accepted_at(0);
        h.conn.set_phase(Phase::Ws { awaiting_pong: false }, &mut h.open);
        h.conn.disarm();
        h
    }

    #[test]
    fn a_socket_has_no_deadline_until_a_message_is_unfinished() {
        let mut h = socket();
        assert_eq!(h.open, Open { http: 0, sse: 0, ws: 1 });
        assert_eq!(h.advance(100_000, false), None);
        h.arm(160_000);
        assert_eq!(h.advance(160_000, false), Some(Expired::Message));
    }

    #[test]
    fn the_heartbeat_state_is_the_phases() {
        let mut h = socket();
        assert!(!h.conn.awaiting_pong());
        h.conn.set_awaiting_pong(true);
        assert_eq!(h.conn.phase(), Phase::Ws { awaiting_pong: true });
        h.conn.set_awaiting_pong(false);
        assert!(!h.conn.awaiting_pong());
        // Only a WebSocket has one.
        h.conn.set_phase(Phase::Closing, &mut h.open);
        h.conn.set_awaiting_pong(true);
        assert_eq!(h.conn.phase(), Phase::Closing);
    }

    #[test]
    fn while_draining_a_sockets_deadline_is_its_close_1001() {
        let mut h = socket();
        h.arm(3_000);
        assert_eq!(h.advance(3_000, true), Some(Expired::Drain));
    }
}

mod closing {
    use super::*;

    fn answered() -> Harness {
        let mut h = Harness::accepted_at(0);
        h.conn.set_served(true);
        h.conn.set_phase(Phase::Closing, &mut h.open);
        h
    }

    #[test]
    fn the_last_answer_is_written_then_the_write_side_shuts_and_the_connection_lingers() {
        let mut h = answered();
        h.queue(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        assert_eq!(h.conn.rest(false), Rest::Wait, "the answer is still queued");
        h.conn.out = None;
        assert_eq!(h.conn.rest(false), Rest::ShutWrite);
        // RFC 9112 §9.6: read (discarding) for the linger time, then close.
        assert_eq!(h.conn.write_shut_at(5_000, &T), Ok(Some(7_000)));
        h.entries.push(7_000);
        assert_eq!(h.conn.rest(false), Rest::Wait);
        assert!(!h.conn.wants_write());
        assert!(h.conn.wants_read(), "it reads, discarding, until the client closes");
        assert_eq!(h.advance(6_999, false), None);
        assert_eq!(h.advance(7_000, false), Some(Expired::Linger));
    }

    #[test]
    fn a_client_that_closes_first_ends_the_linger() {
        let mut h = answered();
        assert_eq!(h.conn.rest(false), Rest::ShutWrite);
        assert_eq!(h.conn.write_shut_at(1_000, &T), Ok(Some(3_000)));
        h.conn.set_read_closed(true);
        assert_eq!(h.conn.rest(false), Rest::Close("answered"));
    }

    #[test]
    fn a_client_gone_before_the_half_close_is_closed_at_once() {
        let mut h = answered();
        h.conn.set_read_closed(true);
        assert_eq!(h.conn.write_shut_at(1_000, &T), Err(Rest::Close("answered")));
    }

    #[test]
    fn a_stream_that_ends_counts_as_http_again_and_retiring_uncounts_it() {
        let mut open = Open::default();
        let (mut conn, _) = Connection::new((), 7, 0, &T, &mut open);
        conn.set_phase(Phase::Sse { idle_ms: Millis::new(0) }, &mut open);
        conn.set_phase(Phase::Closing, &mut open);
        assert_eq!(open, Open { http: 1, sse: 0, ws: 0 });
        let mut held = 0;
        conn.retire(&mut open, &mut crate::conn::ws::Budget { held: &mut held, max: 0 });
        assert_eq!(open, Open::default());
    }
}
