//! Topics' sans-IO rules: a replay's queue budget and when it goes live.

use super::*;
use crate::hub::Limits;

const KEY: ConnKey = ConnKey { index: 3, gen: 1 };

/// A hub with `count` events of `size` bytes on topic `t`.
fn hub(count: usize, size: usize) -> Hub {
    let mut hub = Hub::new(Limits { history: 1000, history_bytes: usize::MAX, max_topics: 100 });
    for _ in 0..count {
        hub.publish("t", None, &vec![b'x'; size], false).unwrap();
    }
    hub
}

/// Bytes of the Sends in `out`, and empties it.
fn sent(out: &mut Vec<Action>) -> Vec<usize> {
    out.drain(..)
        .map(|a| match a {
            Action::Send { bytes, .. } => bytes.len(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_replay_queues_what_fits_and_goes_live_only_at_half_a_queue_or_less() {
    let mut hub = hub(5, 90);
    let event = hub.replay("t", 0).messages.next().unwrap().sse.len();
    let max_queue = 3 * event;
    let mut topics = Topics::default();
    let mut out = Vec::new();
    topics.resume(KEY, &["t"], Some(vec![0]), false, &mut hub, max_queue, &mut out);
    // Three of five fit an empty queue; the stream pulls for the rest.
    assert!(matches!(out.pop(), Some(Action::Pull { to: KEY })));
    assert_eq!(sent(&mut out), [event; 3]);
    // With two events' worth queued, one more fits.
    assert!(topics.feed(KEY, &mut hub, max_queue, 2 * event, &mut out));
    assert_eq!(sent(&mut out), [event]);
    // The last one fits, but the queue would then be more than half
    // full: caught up, not live yet (the next live event needs room).
    assert!(topics.feed(KEY, &mut hub, max_queue, event, &mut out));
    assert_eq!(sent(&mut out), [event]);
    assert_eq!(hub.subscription(KEY), None);
    // Drained to half: live, with nothing more to send.
    assert!(!topics.feed(KEY, &mut hub, max_queue, event, &mut out));
    assert!(out.is_empty());
    assert_eq!(hub.subscription(KEY).map(|(t, k)| (&**t, k)), Some(("t", Kind::Sse)));
}

#[test]
fn an_empty_queue_takes_one_event_of_any_size() {
    let mut hub = hub(2, 4096);
    let mut topics = Topics::default();
    let mut out = Vec::new();
    topics.resume(KEY, &["t"], Some(vec![0]), false, &mut hub, 100, &mut out);
    assert!(matches!(out.pop(), Some(Action::Pull { to: KEY })));
    assert_eq!(sent(&mut out).len(), 1, "one, though over the queue");
    assert!(topics.feed(KEY, &mut hub, 100, 50, &mut out), "nothing fits a queue not empty");
    assert!(out.is_empty());
    assert!(topics.feed(KEY, &mut hub, 100, 0, &mut out));
    assert_eq!(sent(&mut out).len(), 1, "the next, once it is empty");
}

#[test]
fn a_poll_with_nothing_after_its_id_parks_for_its_timeout_then_gets_an_empty_answer() {
    // The connection times the parked request (conn::tests, parked); the app
    // says what its timeout means: SPEC §2, "else `200 []`".
    let mut hub = hub(2, 3);
    let mut topics = Topics::default();
    let stats = crate::stats::Stats::default();
    let cx = Context { key: KEY, now: 0, unix_ms: 0, stats: &stats };
    let req = Request {
        method: Method::Get,
        method_token: "GET",
        path: "/poll/t",
        query: "since=2&timeout=0.5",
        minor: 1,
        headers: &[],
        body: Default::default(),
        keep_alive: true,
    };
    let reply = topics.poll(&req, "t", &cx, &mut hub);
    assert!(matches!(reply, Reply::Park { timeout } if timeout == Duration::from_millis(500)), "{reply:?}");
    assert_eq!(hub.subscription(KEY).map(|(t, k)| (&**t, k)), Some(("t", Kind::Poll)));
    let cx = Context { now: 500, ..cx };
    let mut out = Vec::new();
    topics.on_timeout(&cx, &mut hub, &mut out);
    match &out[..] {
        [Action::Respond { to: KEY, response }] => {
            assert_eq!((response.status, response.body.as_bytes()), (200, &b"[]"[..]));
        }
        other => panic!("one empty answer: {other:?}"),
    }
    assert_eq!(hub.subscription(KEY), None, "the poll is no longer a subscriber");
    out.clear();
    topics.on_timeout(&cx, &mut hub, &mut out);
    assert!(out.is_empty(), "a poll answered once is not answered again");
}
