//! A connection's HTTP input and answers, byte vectors in: which requests
//! reach the app and in what order, what is kept, which deadline is left,
//! and the bytes and phase each answer leaves. Time is moved by hand.

use super::*;
use crate::conn::{End, Expired, Timer};
use crate::http::request::Method;
use std::time::Duration;

const T: Timeouts = Timeouts { header: 10_000, keepalive: 60_000, linger: 2_000 };
const DATE: &[u8] = b"Fri, 04 Dec 2026 20:00:00 GMT";

/// The app's side: answers every request with the path as text, or with
/// what `answer` says for a path, and records what it was handed.
struct App {
    conn: Option<Connection<()>>,
    pool: QueuePool,
    open: Open,
    now: u64,
    seen: Vec<String>,
    draining: bool,
    not_started: Vec<End>,
    /// Every wheel entry the connection asked for, as the driver inserts them.
    entries: Vec<u64>,
}

impl App {
    fn new() -> App {
        let mut open = Open::default();
        let (conn, _) = Connection::new((), 0, 0, &T, &mut open);
        App {
            conn: Some(conn),
            pool: QueuePool::default(),
            open,
            now: 0,
            seen: Vec::new(),
            draining: false,
            not_started: Vec::new(),
            entries: Vec::new(),
        }
    }

    fn read(&mut self, bytes: &[u8]) -> Read {
        let now = self.now;
        let read = input(self, bytes, &Limits::default(), now, &T);
        if let Read::Deadline(Some(at)) = read {
            self.entries.push(at);
        }
        read
    }

    fn conn(&mut self) -> &mut Connection<()> {
        self.conn.as_mut().expect("the connection is open")
    }

    /// What is queued, as text, taken off the queue.
    fn written(&mut self) -> String {
        let mut wire = Vec::new();
        if let Some(out) = self.conn().out.as_mut() {
            let _ = out.write_to(&mut wire, usize::MAX);
        }
        self.conn().out = None;
        String::from_utf8_lossy(&wire).into_owned()
    }
}

impl Upper<()> for App {
    fn conn(&mut self) -> Option<&mut Connection<()>> {
        self.conn.as_mut()
    }

    fn request(&mut self, req: &Request<'_>) {
        self.seen.push(format!("{} {}", req.method_token, req.path));
        let answer = match req.path {
            "/events" => {
                Answer::Stream { first: b"data: first\n\n".to_vec(), idle: Some(Duration::from_secs(5)) }
            }
            "/forever" => Answer::Stream { first: Vec::new(), idle: None },
            "/poll" => Answer::Park { timeout: Duration::from_secs(30) },
            "/ws" => Answer::Upgrade {
                switching: Response::new(101, "text/plain", Body::Empty),
                first: Vec::new(),
            },
            path => Answer::Respond(Response::text(200, path)),
        };
        let asked = Asked { minor: req.minor, keep_alive: req.keep_alive, head: req.method == Method::Head };
        let (draining, now) = (self.draining, self.now);
        let App { conn, pool, open, .. } = self;
        let Some(conn) = conn.as_mut() else { return };
        let (answered, at) = conn.answer(answer, asked, draining, DATE, pool, open, now, &T);
        self.entries.extend(at);
        if let Answered::NotStarted(why) = answered {
            self.not_started.push(why);
        }
    }

    fn refuse(&mut self, e: HttpError) {
        self.seen.push(format!("refused {}", e.status()));
        let now = self.now;
        let App { conn, pool, open, .. } = self;
        if let Some(conn) = conn.as_mut() {
            let at = conn.refuse(&Response::error(e), DATE, pool, open, now, &T);
            self.entries.extend(at);
        }
    }

    fn send_continue(&mut self) {
        let App { conn, pool, .. } = self;
        if let Some(conn) = conn.as_mut() {
            conn.send_continue(pool);
        }
    }
}

mod requests {
    use super::*;

    #[test]
    fn pipelined_requests_are_answered_in_order_and_a_partial_one_is_kept() {
        let mut app = App::new();
        app.now = 3_000;
        let read = app.read(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\nGET /c HT");
        assert_eq!(app.seen, ["GET /a", "GET /b"]);
        // The third began after a request completed: a new head deadline,
        // 10 s from its first byte (the accept's was 10 s from 0).
        assert_eq!(read, Read::Deadline(None), "the accept's 10 s entry fires first and re-arms");
        assert_eq!(app.conn().deadline(), 13_000);
        assert_eq!(app.conn().pending.as_ref().map(|p| p.buf.len()), Some(9));
        let out = app.written();
        let a = out.find("/a").unwrap_or(usize::MAX);
        let b = out.find("/b").unwrap_or(0);
        assert!(a < b, "answers leave in request order (RFC 9112 §9.3.2): {out}");
        app.read(b"TP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(app.seen, ["GET /a", "GET /b", "GET /c"]);
        assert!(app.conn().pending.is_none(), "nothing is held between requests");
    }

    #[test]
    fn a_served_connection_s_next_head_gets_its_own_deadline_from_its_first_byte() {
        let mut app = App::new();
        app.read(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
        app.written();
        app.now = 20_000;
        // The 10 s entry fired at 10 s and found the idle deadline (60 s).
        assert_eq!(app.conn().on_timer(10_000, 10_000), Timer::Rearm(60_000));
        // Earlier than the wheel's 60 s entry: a new one is inserted.
        assert_eq!(app.read(b"GET /b HTTP/1.1\r\n"), Read::Deadline(Some(30_000)));
        assert_eq!(app.conn().deadline(), 30_000, "SPEC §5: 10 s from the head's first byte");
        app.now = 25_000;
        app.read(b"Host: t\r\n");
        assert_eq!(app.conn().deadline(), 30_000, "a trickle does not extend it");
        assert_eq!(app.conn().expired(false), Expired::RequestTimeout);
    }

    #[test]
    fn a_bad_request_is_refused_with_its_status_and_the_connection_closes_after_it() {
        let mut app = App::new();
        app.read(b"GET /a HTTP/1.1\r\n\r\n");
        assert_eq!(app.seen, ["refused 400"], "RFC 9112 §3.2: a request without Host");
        assert_eq!(app.conn().phase(), Phase::Closing);
        assert!(app.conn().pending.is_none());
        let out = app.written();
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert!(out.contains("\r\nConnection: close\r\n"), "{out}");
    }

    #[test]
    fn expect_100_continue_is_answered_before_the_body() {
        let mut app = App::new();
        app.read(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
        assert_eq!(app.written(), "HTTP/1.1 100 Continue\r\n\r\n");
        assert!(app.seen.is_empty());
        app.read(b"ok");
        assert_eq!(app.seen, ["POST /up"]);
    }

    #[test]
    fn reading_pauses_while_unread_answers_pass_the_cap_and_nothing_is_lost() {
        let mut app = App::new();
        let mut big = Vec::new();
        big.resize(MAX_HTTP_OUTPUT, b'x');
        app.conn().queue(&mut QueuePool::default()).push_bytes(&big);
        app.read(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!(app.seen.is_empty());
        assert!(app.conn().read_paused());
        assert!(!app.conn().wants_read());
        assert_eq!(app.conn().pending.as_ref().map(|p| p.buf.len()), Some(28));
        app.conn().out = None;
        app.conn().set_read_paused(false);
        app.read(b"");
        assert_eq!(app.seen, ["GET /a"]);
    }
}

mod answers {
    use super::*;

    #[test]
    fn a_stream_is_its_head_then_its_first_event_and_nothing_after_it_is_read() {
        let mut app = App::new();
        let read = app.read(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(read, Read::Nothing);
        assert_eq!(app.seen, ["GET /events"], "an event stream is the last thing on its connection");
        assert_eq!(app.conn().phase(), Phase::Sse { idle_ms: crate::conn::Millis::new(5_000) });
        assert_eq!(app.open, Open { http: 0, sse: 1, ws: 0 });
        assert_eq!(app.conn().deadline(), 5_000);
        assert_eq!(app.entries, [5_000], "earlier than the head's 10 s entry: inserted");
        let out = app.written();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("\r\nContent-Type: text/event-stream"), "{out}");
        assert!(out.ends_with("\r\n\r\ndata: first\n\n"), "{out}");
    }

    #[test]
    fn head_gets_a_stream_s_head_alone_and_the_app_hears_it_did_not_start() {
        let mut app = App::new();
        app.read(b"HEAD /events HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(app.not_started, [End::Done]);
        assert_eq!(app.conn().phase(), Phase::Closing);
        let out = app.written();
        assert!(out.contains("Content-Type: text/event-stream"), "{out}");
        assert!(out.contains("\r\nCache-Control: no-cache\r\n"), "the fields GET gets: {out}");
        assert!(out.ends_with("\r\n\r\n"), "no body: {out}");
    }

    #[test]
    fn a_long_poll_parks_and_requests_behind_it_wait_until_it_is_answered() {
        let mut app = App::new();
        app.read(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(app.seen, ["GET /poll"]);
        assert_eq!(app.conn().phase(), Phase::Parked { keep_alive: true, minor: 1 });
        assert_eq!(app.conn().deadline(), 30_000);
        assert_eq!(app.written(), "", "nothing is answered yet");
        assert!(app.conn().take_end(), "the app hears once that the poll ended");
        // The answer: back to HTTP, then the waiting request is read.
        let App { conn, open, .. } = &mut app;
        let conn = conn.as_mut().expect("open");
        assert_eq!(conn.unpark(false, open), Some((true, 1)));
        assert_eq!(*open, Open { http: 1, sse: 0, ws: 0 });
        app.read(b"");
        assert_eq!(app.seen, ["GET /poll", "GET /next"]);
        assert_eq!(app.written(), "HTTP/1.1 200 OK\r\nServer: pushwire\r\nDate: Fri, 04 Dec 2026 20:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\n200 OK: /next\n");
    }

    #[test]
    fn a_second_long_poll_on_the_same_connection_is_told_of_its_end_too() {
        let mut app = App::new();
        app.read(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!(app.conn().take_end());
        let App { conn, open, .. } = &mut app;
        assert!(conn.as_mut().and_then(|c| c.unpark(false, open)).is_some());
        app.read(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(app.conn().phase(), Phase::Parked { keep_alive: true, minor: 1 });
        assert!(app.conn().take_end(), "without unpark's reset, the second end is never told");
    }

    #[test]
    fn an_answer_while_draining_closes_the_connection() {
        let mut app = App::new();
        app.read(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
        let App { conn, open, .. } = &mut app;
        assert_eq!(conn.as_mut().and_then(|c| c.unpark(true, open)), Some((false, 1)));
    }

    #[test]
    fn requests_behind_a_parked_one_are_held_up_to_the_head_cap() {
        let mut app = App::new();
        app.read(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
        app.conn().hold_pipelined(b"GET /a HTTP/1.1\r\n", 64);
        assert!(!app.conn().read_paused());
        app.conn().hold_pipelined(&[b'x'; 47], 64);
        assert!(app.conn().read_paused(), "64 bytes held: reading stops until the poll is answered");
        assert!(!app.conn().is_idle());
    }

    #[test]
    fn a_stream_without_an_idle_timeout_keeps_no_deadline() {
        let mut app = App::new();
        assert_eq!(app.read(b"GET /forever HTTP/1.1\r\nHost: t\r\n\r\n"), Read::Nothing);
        assert_eq!(app.conn().deadline(), 0);
        // The accept's head entry fires and finds nothing to do.
        assert_eq!(app.conn().on_timer(10_000, 10_000), Timer::Stale);
        assert!(app.entries.is_empty());
    }

    #[test]
    fn a_408_gets_a_deadline_of_its_own_to_leave_by() {
        let mut app = App::new();
        assert_eq!(app.conn().on_timer(10_000, 10_000), Timer::Due);
        assert_eq!(app.conn().expired(false), Expired::RequestTimeout);
        app.now = 10_000;
        app.refuse(HttpError::HeaderTimeout);
        // The Due cleared the wheel's entry: the Closing deadline must be
        // inserted, or a client that neither reads nor closes stays forever.
        assert_eq!(app.entries, [70_000]);
        assert_eq!(app.conn().phase(), Phase::Closing);
        assert!(app.written().starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    }

    #[test]
    fn an_upgrade_makes_a_websocket_and_the_bytes_after_it_are_frames() {
        let mut app = App::new();
        let read = app.read(b"GET /ws HTTP/1.1\r\nHost: t\r\n\r\n\x81\x80");
        assert_eq!(read, Read::Frames(b"\x81\x80".to_vec()));
        assert_eq!(app.conn().phase(), Phase::Ws { awaiting_pong: false });
        assert_eq!(app.open, Open { http: 0, sse: 0, ws: 1 });
        assert_eq!(app.conn().deadline(), 0, "liveness is the heartbeat's, not a deadline");
    }

    #[test]
    fn while_draining_streams_polls_and_upgrades_get_503_and_answers_close() {
        for path in ["/events", "/poll", "/ws"] {
            let mut app = App::new();
            app.draining = true;
            app.read(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
            assert_eq!(app.not_started, [End::Shutdown], "{path}");
            let out = app.written();
            assert!(out.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{path}: {out}");
            assert!(out.contains("\r\nRetry-After: 5\r\n"), "{path}: {out}");
        }
        let mut app = App::new();
        app.draining = true;
        app.read(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(app.conn().phase(), Phase::Closing, "SPEC §1: finish in-flight responses, then close");
        assert!(app.written().contains("\r\nConnection: close\r\n"));
    }

    #[test]
    fn an_http_1_0_client_gets_its_answer_and_the_close() {
        let mut app = App::new();
        app.read(b"GET /old HTTP/1.0\r\n\r\n");
        assert_eq!(app.conn().phase(), Phase::Closing);
        assert!(app.written().starts_with("HTTP/1.1 200 OK\r\n"));
    }
}
