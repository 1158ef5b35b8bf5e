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
