//! Streams and sockets by phase: heartbeats and the pong timeout moved by
//! hand, the slow-consumer cap, replays' pulls, the end told once, and the
//! drain's spread.

use super::*;
use crate::conn::{Millis, Open, Timeouts};

const T: Timeouts = Timeouts { header: 10_000, keepalive: 60_000, linger: 2_000 };

fn connection(phase: Phase) -> (Connection<()>, Open) {
    let mut open = Open::default();
    let (mut conn, _) = Connection::new((), 0, 0, &T, &mut open);
    conn.set_phase(phase, &mut open);
    conn.reset_timer();
    (conn, open)
}

fn sse(idle_ms: u32) -> (Connection<()>, Open) {
    connection(Phase::Sse { idle_ms: Millis::new(idle_ms) })
}

fn ws() -> (Connection<()>, Open) {
    connection(Phase::Ws { awaiting_pong: false })
}

fn wire(conn: &mut Connection<()>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(q) = conn.out.as_mut() {
        let _ = q.write_to(&mut out, usize::MAX);
    }
    conn.out = None;
    out
}

mod heartbeat {
    use super::*;

    #[test]
    fn an_event_stream_gets_a_comment_line_and_no_blank_line() {
        let (mut conn, _) = sse(0);
        let mut pool = QueuePool::default();
        assert_eq!(conn.heartbeat(&Beats::new(), &mut pool), Beat::Queued);
        assert_eq!(wire(&mut conn), b": heartbeat\n");
    }

    #[test]
    fn a_heartbeat_is_not_an_event_and_does_not_keep_an_idle_stream_open() {
        // The demos' idle timeouts count events (SPEC §3: "when no data has
        // been sent"); a comment every --heartbeat must not hold them off.
        let (mut conn, _) = sse(5_000);
        assert_eq!(conn.arm(5_000), Some(5_000));
        let (beats, mut pool) = (Beats::new(), QueuePool::default());
        for now in [1_000, 2_000, 3_000, 4_000] {
            assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Queued);
            assert_eq!(conn.wrote(now, &T), None, "writing the beat moves nothing");
            assert_eq!(conn.deadline(), 5_000, "at {now}");
        }
        assert_eq!(conn.on_timer(5_000, 5_000), crate::conn::Timer::Due);
        assert_eq!(conn.expired(false), crate::conn::Expired::Stream);
    }

    #[test]
    fn a_socket_gets_a_ping_then_is_silent_if_no_pong_came_by_the_next_beat() {
        let (mut conn, _) = ws();
        let (beats, mut pool) = (Beats::new(), QueuePool::default());
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Queued);
        assert_eq!(wire(&mut conn), [0x89, 0x00]);
        // 15 s later, no pong, nothing queued: gone.
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Silent);
        assert_eq!(conn.pong_overdue(), End::Gone);
    }

    #[test]
    fn a_pong_in_time_keeps_the_socket() {
        let (mut conn, _) = ws();
        let (beats, mut pool) = (Beats::new(), QueuePool::default());
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Queued);
        conn.set_awaiting_pong(false);
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Queued);
    }

    #[test]
    fn no_pong_behind_queued_output_is_a_slow_reader() {
        let (mut conn, _) = ws();
        let (beats, mut pool) = (Beats::new(), QueuePool::default());
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Queued);
        // The ping never left: it waits behind what the client does not read.
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Silent);
        assert_eq!(conn.pong_overdue(), End::TooSlow);
    }

    #[test]
    fn a_silent_socket_s_end_is_decided_when_its_turn_comes() {
        // Two silent sockets: closing the first (a chat member leaving)
        // queues "A left" on the second, which then had output waiting
        // behind its ping: too slow, not gone.
        let (beats, mut pool) = (Beats::new(), QueuePool::default());
        let (mut a, _) = ws();
        let (mut b, _) = ws();
        for conn in [&mut a, &mut b] {
            assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::Queued);
            wire(conn);
        }
        assert_eq!(a.heartbeat(&beats, &mut pool), Beat::Silent);
        assert_eq!(b.heartbeat(&beats, &mut pool), Beat::Silent);
        assert_eq!(a.pong_overdue(), End::Gone);
        b.queue(&mut pool).push_bytes(b"\x81\x06A left");
        assert_eq!(b.pong_overdue(), End::TooSlow);
    }

    #[test]
    fn a_timed_out_stream_ends_and_an_unanswered_poll_is_answered() {
        assert_eq!(sse(5_000).0.timed_out(), TimedOut::EndStream);
        assert_eq!(
            connection(Phase::Parked { keep_alive: true, minor: 1 }).0.timed_out(),
            TimedOut::Unanswered
        );
        // The app answered or ended it when it heard of the timeout.
        assert_eq!(connection(Phase::Http).0.timed_out(), TimedOut::Nothing);
        assert_eq!(connection(Phase::Closing).0.timed_out(), TimedOut::Nothing);
    }

    #[test]
    fn an_ended_stream_and_an_http_connection_get_nothing() {
        let (mut conn, _) = sse(0);
        conn.set_ended(true);
        let (beats, mut pool) = (Beats::new(), QueuePool::default());
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::None);
        let (mut conn, _) = connection(Phase::Http);
        assert_eq!(conn.heartbeat(&beats, &mut pool), Beat::None);
        assert!(conn.out.is_none());
    }
}

mod events {
    use super::*;

    #[test]
    fn an_empty_queue_takes_any_event_and_a_full_one_does_not() {
        let (mut conn, _) = sse(0);
        assert!(conn.has_room(10 << 20, 1 << 20), "one big message must not drop a reader that keeps up");
        let mut pool = QueuePool::default();
        let big: Rc<[u8]> = vec![b'x'; 1 << 20].into();
        assert_eq!(
            conn.push_event(b"", big, 0, &mut pool, 0, false),
            (true, None),
            "no idle timeout: no deadline"
        );
        assert_eq!(conn.deadline(), 0);
        assert!(conn.has_room(0, 1 << 20));
        assert!(!conn.has_room(1, 1 << 20), "SPEC §5: past --max-queue");
    }

    #[test]
    fn an_event_moves_the_idle_deadline_but_not_while_draining() {
        let (mut conn, _) = sse(5_000);
        let mut pool = QueuePool::default();
        let event: Rc<[u8]> = b"data: x\n\n"[..].into();
        assert_eq!(
            conn.push_event(b"id: 1\n", event.clone(), 0, &mut pool, 1_000, false),
            (true, Some(6_000))
        );
        assert_eq!(conn.push_event(b"", event.clone(), 0, &mut pool, 2_000, false), (true, None));
        assert_eq!(conn.deadline(), 7_000);
        assert_eq!(conn.push_event(b"", event, 6, &mut pool, 3_000, true), (true, None));
        assert_eq!(conn.deadline(), 7_000, "the drain's close time stays");
        assert_eq!(wire(&mut conn), b"id: 1\ndata: x\n\ndata: x\n\nx\n\n");
    }

    #[test]
    fn nothing_is_queued_on_an_ended_stream_or_an_http_connection() {
        let mut pool = QueuePool::default();
        let event: Rc<[u8]> = b"data: x\n\n"[..].into();
        let (mut conn, _) = ws();
        conn.set_ended(true);
        assert_eq!(conn.push_event(b"", event.clone(), 0, &mut pool, 0, false), (false, None));
        let (mut conn, _) = connection(Phase::Closing);
        assert_eq!(conn.push_event(b"", event, 0, &mut pool, 0, false), (false, None));
        assert!(conn.out.is_none());
    }

    #[test]
    fn the_app_hears_of_an_end_once_and_only_for_what_it_holds() {
        let (mut conn, _) = sse(0);
        assert!(conn.take_end());
        assert!(!conn.take_end());
        let (mut conn, _) = connection(Phase::Parked { keep_alive: true, minor: 1 });
        assert!(conn.take_end());
        let (mut conn, _) = connection(Phase::Http);
        assert!(!conn.take_end());
    }

    #[test]
    fn a_replay_asks_for_more_at_half_a_queue_and_never_while_draining() {
        let (mut conn, _) = sse(0);
        let mut pool = QueuePool::default();
        assert!(!conn.wants_pull(1024, false), "not pulling");
        conn.set_pulling(true);
        assert!(conn.wants_pull(1024, false));
        conn.queue(&mut pool).push_bytes(&[b'x'; 513]);
        assert!(!conn.wants_pull(1024, false), "more than half full");
        conn.out = None;
        assert!(!conn.wants_pull(1024, true));
    }
}

mod drain {
    use super::*;

    #[test]
    fn closes_are_spread_evenly_and_reconnects_land_after_the_window() {
        let mut spread = Spread::new(42, 5_000, 4, 100_000);
        let plan: Vec<(u64, u64)> = (0..4).map(|i| spread.next(i)).collect();
        let closes: Vec<u64> = plan.iter().map(|p| p.1).collect();
        assert_eq!(closes, [100_000, 101_250, 102_500, 103_750]);
        for (retry, _) in &plan {
            assert!((1_000..7_000).contains(retry), "{retry}");
        }
        let retries: std::collections::HashSet<u64> = plan.iter().map(|p| p.0).collect();
        assert_eq!(retries.len(), 4, "jittered, not all at once: {plan:?}");
    }

    #[test]
    fn a_stream_gets_its_retry_line_and_its_close_time_even_if_later() {
        let (mut conn, _) = sse(1_000);
        assert_eq!(conn.arm(1_000), Some(1_000));
        let mut pool = QueuePool::default();
        assert_eq!(conn.drain(3_456, 4_000, &mut pool), Some(4_000));
        assert_eq!(wire(&mut conn), b"retry: 3456\n");
        assert_eq!(conn.on_timer(1_000, 1_000), crate::conn::Timer::Stale);
        let (mut conn, _) = ws();
        assert_eq!(conn.drain(3_456, 4_000, &mut pool), Some(4_000));
        assert!(conn.out.is_none(), "a socket's Close 1001 comes at its deadline");
    }
}
