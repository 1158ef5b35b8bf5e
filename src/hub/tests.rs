//! The hub's tests: publish, history and replay, the subscriber sets.

use super::*;

fn key(index: u32) -> ConnKey {
    ConnKey { index, gen: 1 }
}

#[test]
fn valid_topic_table() {
    let long = "a".repeat(64);
    let too_long = "a".repeat(65);
    let cases: &[(&str, bool)] = &[
        ("a", true),
        ("prices", true),
        ("A-z_0.9", true),
        (".", true),
        ("-", true),
        ("_", true),
        ("..", true),
        (&long, true),
        (&too_long, false),
        ("", false),
        ("a b", false),
        ("a/b", false),
        ("a,b", false),
        ("a:b", false),
        ("a%20", false),
        ("a\n", false),
        ("a\0", false),
        ("é", false),
        ("价格", false),
    ];
    for &(name, ok) in cases {
        assert_eq!(valid_topic(name), ok, "{name:?}");
    }
}

#[test]
fn ids_are_dense_per_topic_and_start_at_one() {
    let mut hub = Hub::new(10);
    assert_eq!(hub.last_id("a"), 0);
    let ids: Vec<u64> =
        ["a", "b", "a", "a", "b"].iter().map(|t| hub.publish(t, None, b"x", false).0.id).collect();
    assert_eq!(ids, [1, 1, 2, 3, 2]);
    assert_eq!((hub.last_id("a"), hub.last_id("b"), hub.last_id("c")), (3, 2, 0));
}

fn sorted(keys: &[ConnKey]) -> Vec<ConnKey> {
    let mut keys = keys.to_vec();
    keys.sort_by_key(|k| (k.index, k.gen));
    keys
}

#[test]
fn publish_returns_exactly_the_current_subscribers() {
    for kind in [Kind::Sse, Kind::Ws] {
        let mut hub = Hub::new(10);
        assert!(hub.publish("t", None, b"nobody", false).1.is_empty());
        hub.subscribe("t", key(1), kind);
        hub.subscribe("t", key(2), kind);
        hub.subscribe("other", key(3), kind);
        let subs = hub.publish("t", None, b"two", false).1;
        let (mine, theirs) = match kind {
            Kind::Sse => (subs.sse, subs.ws),
            Kind::Ws => (subs.ws, subs.sse),
        };
        assert_eq!((sorted(mine), theirs), (vec![key(1), key(2)], &[][..]), "{kind:?}");
        hub.unsubscribe(key(1));
        assert_eq!(hub.publish("t", None, b"one", false).1.len(), 1, "{kind:?}");
        hub.check();
    }
}

#[test]
fn both_kinds_of_one_topic_come_apart() {
    let mut hub = Hub::new(10);
    hub.subscribe("t", key(1), Kind::Sse);
    hub.subscribe("t", key(2), Kind::Ws);
    hub.subscribe("t", key(3), Kind::Ws);
    let (_, subs) = hub.publish("t", None, b"x", false);
    assert_eq!((subs.sse, sorted(subs.ws)), (&[key(1)][..], vec![key(2), key(3)]));
    assert_eq!(subs.len(), 3);
    assert_eq!(
        (hub.subscriptions(), hub.subscriptions_of(Kind::Sse), hub.subscriptions_of(Kind::Ws)),
        (3, 1, 2)
    );
    assert_eq!(hub.subscription(key(1)), Some((&Rc::from("t"), Kind::Sse)));
    assert_eq!(hub.subscription(key(2)), Some((&Rc::from("t"), Kind::Ws)));
    hub.check();
}

#[test]
fn subscribe_again_to_the_same_topic_as_the_same_kind_is_a_no_op() {
    for kind in [Kind::Sse, Kind::Ws] {
        let mut hub = Hub::new(10);
        assert!(hub.subscribe("t", key(1), kind));
        assert!(!hub.subscribe("t", key(1), kind));
        assert_eq!(hub.subscribers("t").len(), 1);
        assert_eq!((hub.subscriptions(), hub.subscriptions_of(kind)), (1, 1));
        hub.check();
    }
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "while subscribed to")]
fn a_connection_follows_one_topic() {
    let mut hub = Hub::new(10);
    hub.subscribe("a", key(1), Kind::Ws);
    hub.subscribe("b", key(1), Kind::Ws);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "never unsubscribed")]
fn a_reused_index_must_have_been_unsubscribed() {
    let mut hub = Hub::new(10);
    hub.subscribe("a", ConnKey { index: 1, gen: 1 }, Kind::Sse);
    hub.subscribe("a", ConnKey { index: 1, gen: 2 }, Kind::Sse);
}

/// Release builds survive the two bugs above with the sets intact.
#[test]
#[cfg(not(debug_assertions))]
fn without_debug_assertions_a_second_topic_moves_and_a_stale_entry_leaves() {
    let mut hub = Hub::new(10);
    for i in 0..3 {
        hub.subscribe("a", key(i), Kind::Ws);
    }
    assert!(hub.subscribe("b", key(0), Kind::Sse));
    assert_eq!((hub.subscribers("a").len(), hub.subscribers("b").sse), (2, &[key(0)][..]));
    hub.check();
    let reused = ConnKey { index: 1, gen: 9 };
    assert!(hub.subscribe("a", reused, Kind::Ws));
    assert_eq!(sorted(hub.subscribers("a").ws), [reused, key(2)]);
    hub.check();
}

#[test]
fn unsubscribe_of_an_absent_key_is_a_no_op() {
    let mut hub = Hub::new(10);
    assert!(!hub.unsubscribe(key(1)));
    hub.subscribe("t", key(1), Kind::Sse);
    assert!(!hub.unsubscribe(key(2)));
    assert!(!hub.unsubscribe(ConnKey { index: 1, gen: 2 }), "same index, later generation");
    assert!(!hub.unsubscribe(ConnKey { index: 1, gen: 0 }), "same index, earlier generation");
    assert_eq!(hub.subscribers("t").sse, [key(1)]);
    assert_eq!((hub.topics(), hub.subscriptions()), (1, 1));
    hub.check();
}

#[test]
fn a_stale_generation_names_nobody() {
    let mut hub = Hub::new(10);
    let (old, new) = (ConnKey { index: 4, gen: 1 }, ConnKey { index: 4, gen: 2 });
    hub.subscribe("t", old, Kind::Ws);
    assert!(hub.unsubscribe(old));
    hub.subscribe("u", new, Kind::Sse);
    assert_eq!(hub.subscription(old), None);
    assert!(!hub.unsubscribe(old));
    assert_eq!(hub.subscription(new), Some((&Rc::from("u"), Kind::Sse)));
    assert_eq!(hub.subscribers("u").sse, [new]);
    hub.check();
}

#[test]
fn removal_from_the_middle_moves_the_last_and_fixes_its_position() {
    for kind in [Kind::Sse, Kind::Ws] {
        // (removed, the slice after it: the last one took the hole)
        let cases: &[(u32, &[u32])] = &[(0, &[4, 1, 2, 3]), (2, &[0, 1, 4, 3]), (4, &[0, 1, 2, 3])];
        for &(gone, left) in cases {
            let mut hub = Hub::new(10);
            for i in 0..5 {
                hub.subscribe("t", key(i), kind);
            }
            assert!(hub.unsubscribe(key(gone)));
            let want: Vec<ConnKey> = left.iter().map(|&i| key(i)).collect();
            assert_eq!(hub.subscribers("t").len(), 4);
            let got = match kind {
                Kind::Sse => hub.subscribers("t").sse,
                Kind::Ws => hub.subscribers("t").ws,
            };
            assert_eq!(got, want, "{kind:?} remove {gone}");
            hub.check();
            // The moved member's new position is right: removing it
            // takes it, and nobody else.
            assert!(hub.unsubscribe(key(4)) != (gone == 4), "{kind:?} remove {gone}");
            assert!(
                !hub.subscribers("t").sse.contains(&key(4)) && !hub.subscribers("t").ws.contains(&key(4))
            );
            assert_eq!(hub.subscribers("t").len(), 4 - usize::from(gone != 4));
            hub.check();
        }
    }
}

#[test]
fn a_topic_never_published_goes_with_its_last_subscriber() {
    for kind in [Kind::Sse, Kind::Ws] {
        let mut hub = Hub::new(10);
        hub.subscribe("t", key(1), kind);
        hub.subscribe("t", key(2), kind);
        hub.unsubscribe(key(1));
        hub.unsubscribe(key(2));
        assert_eq!((hub.topics(), hub.subscriptions()), (0, 0), "{kind:?}");
        assert!(hub.subscribers("t").is_empty());
        assert!(hub.topics.is_empty() && hub.by_name.is_empty(), "{kind:?}");
        hub.check();
    }
}

#[test]
fn the_topics_figure_counts_streams_and_history_not_sockets() {
    // As before WebSockets joined the hub: a topic counts once it has
    // event-stream subscribers or was published to.
    let mut hub = Hub::new(10);
    hub.subscribe("t", key(1), Kind::Ws);
    assert_eq!(hub.topics(), 0);
    hub.subscribe("t", key(2), Kind::Sse);
    assert_eq!(hub.topics(), 1);
    hub.unsubscribe(key(2));
    assert_eq!(hub.topics(), 0);
    hub.publish("t", None, b"x", false);
    assert_eq!(hub.topics(), 1);
    hub.unsubscribe(key(1));
    assert_eq!(hub.topics(), 1, "kept with its history");
    hub.check();
}

#[test]
fn a_published_topic_is_kept_with_its_ids() {
    for history in [0, 10] {
        for kind in [Kind::Sse, Kind::Ws] {
            let mut hub = Hub::new(history);
            hub.subscribe("t", key(1), kind);
            hub.publish("t", None, b"x", false);
            hub.unsubscribe(key(1));
            assert_eq!((hub.topics(), hub.last_id("t")), (1, 1), "history {history} {kind:?}");
            assert_eq!(hub.publish("t", None, b"y", false).0.id, 2, "history {history} {kind:?}");
        }
    }
}

/// Marsaglia's xorshift64: a reproducible sequence without a crate.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn subscriber_sets_agree_with_a_hash_set_model_under_random_operations() {
    use std::collections::{HashMap, HashSet};
    let names = ["a", "b", "c", "d"];
    let kinds = [Kind::Sse, Kind::Ws];
    let mut hub = Hub::new(2);
    // Per (topic, kind), its members; and per connection index, the one
    // live key there and what it follows (the driver's guarantee: a key
    // is unsubscribed before its index is reused).
    let mut model: HashMap<(&str, Kind), HashSet<ConnKey>> = HashMap::new();
    let mut live: HashMap<u32, (ConnKey, &str, Kind)> = HashMap::new();
    let mut rng = 0x2545_F491_4F6C_DD1D;
    for step in 0..40_000 {
        let r = xorshift(&mut rng);
        let topic = names[(r % 4) as usize];
        let kind = kinds[((r >> 2) & 1) as usize];
        // Few indices, so operations often hit members, and the
        // generation changes so stale keys come up.
        let k = ConnKey { index: (r >> 8) as u32 % 300, gen: (r >> 40) as u32 % 2 };
        match (r >> 4) % 8 {
            0..=3 => {
                // A connection that follows another topic (or a stale
                // one at its index) leaves first, as the app ensures.
                match live.get(&k.index).copied() {
                    Some((old, t, kd)) if old != k || t != topic || kd != kind => {
                        assert!(hub.unsubscribe(old), "step {step}");
                        model.get_mut(&(t, kd)).unwrap().remove(&old);
                        live.remove(&k.index);
                    }
                    _ => {}
                }
                let new = !live.contains_key(&k.index);
                assert_eq!(hub.subscribe(topic, k, kind), new, "step {step}");
                model.entry((topic, kind)).or_default().insert(k);
                live.insert(k.index, (k, topic, kind));
            }
            4..=6 => {
                let member = live.get(&k.index).filter(|(key, _, _)| *key == k).copied();
                assert_eq!(hub.unsubscribe(k), member.is_some(), "step {step}");
                if let Some((_, t, kd)) = member {
                    model.get_mut(&(t, kd)).unwrap().remove(&k);
                    live.remove(&k.index);
                }
            }
            _ => {
                let (msg, subs) = hub.publish(topic, None, b"", false);
                for (kind, slice) in [(Kind::Sse, subs.sse), (Kind::Ws, subs.ws)] {
                    let got: HashSet<ConnKey> = slice.iter().copied().collect();
                    assert_eq!(got.len(), slice.len(), "no duplicates, step {step}");
                    assert_eq!(&got, model.entry((topic, kind)).or_default(), "step {step} {kind:?}");
                }
                assert_eq!(msg.id, hub.last_id(topic));
            }
        }
        let want = live.get(&k.index).filter(|(key, _, _)| *key == k).map(|&(_, t, kd)| (t, kd));
        assert_eq!(hub.subscription(k).map(|(t, kd)| (&**t, kd)), want, "step {step}");
        assert_eq!(hub.subscriptions(), live.len(), "step {step}");
        for kind in kinds {
            let n = live.values().filter(|(_, _, kd)| *kd == kind).count();
            assert_eq!(hub.subscriptions_of(kind), n, "step {step}");
        }
        if step % 101 == 0 {
            hub.check();
        }
    }
    hub.check();
    for name in names {
        for kind in kinds {
            let subs = hub.subscribers(name);
            let got: HashSet<ConnKey> = match kind {
                Kind::Sse => subs.sse,
                Kind::Ws => subs.ws,
            }
            .iter()
            .copied()
            .collect();
            assert_eq!(got, model.remove(&(name, kind)).unwrap_or_default(), "{name} {kind:?}");
        }
    }
    for (_, (k, _, _)) in live.drain() {
        assert!(hub.unsubscribe(k));
    }
    hub.check();
    assert_eq!((hub.subscriptions(), hub.members.len()), (0, 0));
    // Every topic was published to, so all are kept, with empty sets.
    assert_eq!((hub.topics(), hub.topics.len()), (4, 4));
}

#[test]
fn replay_after_zero_middle_last_and_beyond() {
    let mut hub = Hub::new(10);
    for data in ["1", "2", "3", "4"] {
        hub.publish("t", None, data.as_bytes(), false);
    }
    let cases: &[(u64, &[u64])] = &[(0, &[1, 2, 3, 4]), (2, &[3, 4]), (4, &[]), (5, &[]), (u64::MAX, &[])];
    for &(after, want) in cases {
        let r = hub.replay("t", after);
        assert_eq!(r.reset, None, "after {after}");
        assert_eq!(r.messages.map(|m| m.id).collect::<Vec<_>>(), want, "after {after}");
    }
    let r = hub.replay("unknown", 0);
    assert_eq!((r.reset, r.messages.len()), (None, 0));
}

#[test]
fn reset_exactly_when_the_gap_is_older_than_history() {
    let mut hub = Hub::new(3);
    for _ in 0..10 {
        hub.publish("t", None, b"x", false);
    }
    // (after, reset, ids): 8, 9, 10 are kept.
    let cases: &[(u64, Option<u64>, &[u64])] = &[
        (0, Some(8), &[8, 9, 10]),
        (2, Some(8), &[8, 9, 10]),
        (6, Some(8), &[8, 9, 10]), // needs 7: gone
        (7, None, &[8, 9, 10]),    // needs 8: kept
        (9, None, &[10]),
        (10, None, &[]),
        (11, None, &[]),
    ];
    for &(after, reset, want) in cases {
        let r = hub.replay("t", after);
        assert_eq!(r.reset, reset, "after {after}");
        assert_eq!(r.messages.map(|m| m.id).collect::<Vec<_>>(), want, "after {after}");
    }
}

#[test]
fn history_zero_keeps_nothing_and_still_counts() {
    let mut hub = Hub::new(0);
    hub.subscribe("t", key(1), Kind::Sse);
    for _ in 0..5 {
        hub.publish("t", None, b"x", false);
    }
    let (msg, subs) = hub.publish("t", None, b"live", false);
    assert_eq!((msg.id, subs.sse, subs.ws), (6, &[key(1)][..], &[][..]));
    assert_eq!(Rc::strong_count(&msg), 1, "not kept");
    let r = hub.replay("t", 3);
    assert_eq!((r.reset, r.messages.len()), (Some(7), 0));
    let r = hub.replay("t", 6);
    assert_eq!((r.reset, r.messages.len()), (None, 0));
}

#[test]
fn history_and_the_returned_message_share_one_encoding() {
    let mut hub = Hub::new(5);
    let (msg, _) = hub.publish("t", Some("e"), b"x", false);
    let kept = hub.replay("t", 0).messages.next().cloned().unwrap();
    assert!(Rc::ptr_eq(&msg, &kept));
    assert_eq!(Rc::strong_count(&msg.sse), 1, "one encoding, inside the one message");
    assert_eq!(&*msg.topic, "t");
}
