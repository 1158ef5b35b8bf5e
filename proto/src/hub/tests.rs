//! The hub's tests: publish, history and replay, the subscriber sets.

use super::*;

fn key(index: u32) -> ConnKey {
    ConnKey { index, gen: 1 }
}

/// Limits with `history` per topic and no other cap in the way.
pub(super) fn limits(history: usize) -> Limits {
    Limits { history, history_bytes: usize::MAX, max_topics: usize::MAX }
}

fn hub(history: usize) -> Hub {
    Hub::new(limits(history))
}

fn publish(hub: &mut Hub, topic: &str, data: &[u8]) -> Rc<Message> {
    hub.publish(topic, None, data, false).expect("room for the topic").msg
}

fn subscribe(hub: &mut Hub, topic: &str, k: ConnKey, kind: Kind) -> bool {
    hub.subscribe(topic, k, kind).expect("room for the topic")
}

impl Hub {
    /// One kind of the topic's members, in the set's order.
    fn members_of(&self, topic: &str, kind: Kind) -> &[ConnKey] {
        self.topic(topic).map_or(&[], |t| t.subscribers.of(kind))
    }

    /// Members of every kind, every topic (a multi-topic one once per topic).
    fn subscriptions(&self) -> usize {
        self.counts.iter().sum()
    }
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
    let mut hub = hub(10);
    assert_eq!(hub.last_id("a"), 0);
    let ids: Vec<u64> = ["a", "b", "a", "a", "b"].iter().map(|t| publish(&mut hub, t, b"x").id).collect();
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
        let mut hub = hub(10);
        assert_eq!(hub.publish("t", None, b"nobody", false).unwrap().reached(), 0);
        subscribe(&mut hub, "t", key(1), kind);
        subscribe(&mut hub, "t", key(2), kind);
        subscribe(&mut hub, "other", key(3), kind);
        let d = hub.publish("t", None, b"two", false).unwrap();
        let (mine, theirs) = match kind {
            Kind::Sse => (d.sse, d.ws),
            _ => (d.ws, d.sse),
        };
        assert_eq!((sorted(mine), theirs), (vec![key(1), key(2)], &[][..]), "{kind:?}");
        hub.unsubscribe(key(1));
        assert_eq!(hub.publish("t", None, b"one", false).unwrap().reached(), 1, "{kind:?}");
        hub.check();
    }
}

#[test]
fn every_kind_of_one_topic_comes_apart() {
    let mut hub = hub(10);
    subscribe(&mut hub, "t", key(1), Kind::Sse);
    subscribe(&mut hub, "t", key(2), Kind::Ws);
    subscribe(&mut hub, "t", key(3), Kind::Ws);
    subscribe(&mut hub, "t", key(4), Kind::Poll);
    hub.subscribe_multi(&["u", "t"], key(5), Kind::MultiSse, vec![0, 0]).unwrap();
    hub.subscribe_multi(&["t", "u"], key(6), Kind::MultiWs, vec![0, 0]).unwrap();
    let d = hub.publish("t", None, b"x", false).unwrap();
    assert_eq!((d.sse, sorted(d.ws)), (&[key(1)][..], vec![key(2), key(3)]));
    assert_eq!((d.multi_ws, &d.polls[..]), (&[key(6)][..], &[key(4)][..]));
    let heads: Vec<(ConnKey, &str)> =
        d.multi_sse.iter().map(|(k, h)| (*k, std::str::from_utf8(h).unwrap())).collect();
    assert_eq!(heads, [(key(5), "id: u:0,t:1\nevent: t\n")]);
    assert_eq!(d.reached(), 6);
    // The long-poll was answered and has left; the rest stay.
    assert_eq!(hub.subscription(key(4)), None);
    assert_eq!((hub.subscriptions_of(Kind::Poll), hub.subscriptions_of(Kind::MultiSse)), (0, 2));
    assert_eq!(hub.subscription(key(1)), Some((&Rc::from("t"), Kind::Sse)));
    hub.check();
}

#[test]
fn a_multi_topic_streams_id_carries_every_position() {
    let mut hub = hub(10);
    hub.subscribe_multi(&["a", "b"], key(1), Kind::MultiSse, vec![4, 0]).unwrap();
    let head = |d: &Delivery<'_>| String::from_utf8(d.multi_sse[0].1.clone()).unwrap();
    assert_eq!(head(&hub.publish("b", Some("n"), b"x", false).unwrap()), "id: a:4,b:1\n");
    assert_eq!(head(&hub.publish("a", None, b"x", false).unwrap()), "id: a:1,b:1\nevent: a\n");
    hub.check();
}

#[test]
fn subscribe_again_to_the_same_topic_as_the_same_kind_is_a_no_op() {
    for kind in [Kind::Sse, Kind::Ws, Kind::Poll] {
        let mut hub = hub(10);
        assert!(subscribe(&mut hub, "t", key(1), kind));
        assert!(!subscribe(&mut hub, "t", key(1), kind));
        assert_eq!(hub.members_of("t", kind).len(), 1);
        assert_eq!((hub.subscriptions(), hub.subscriptions_of(kind)), (1, 1));
        hub.check();
    }
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "while in")]
fn a_connection_follows_one_topic() {
    let mut hub = hub(10);
    subscribe(&mut hub, "a", key(1), Kind::Ws);
    subscribe(&mut hub, "b", key(1), Kind::Ws);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "never unsubscribed")]
fn a_reused_index_must_have_been_unsubscribed() {
    let mut hub = hub(10);
    subscribe(&mut hub, "a", ConnKey { index: 1, gen: 1 }, Kind::Sse);
    subscribe(&mut hub, "a", ConnKey { index: 1, gen: 2 }, Kind::Sse);
}

/// Release builds survive the two bugs above with the sets intact.
#[test]
#[cfg(not(debug_assertions))]
fn without_debug_assertions_a_second_topic_moves_and_a_stale_entry_leaves() {
    let mut hub = hub(10);
    for i in 0..3 {
        subscribe(&mut hub, "a", key(i), Kind::Ws);
    }
    assert!(subscribe(&mut hub, "b", key(0), Kind::Sse));
    assert_eq!((hub.members_of("a", Kind::Ws).len(), hub.members_of("b", Kind::Sse)), (2, &[key(0)][..]));
    hub.check();
    let reused = ConnKey { index: 1, gen: 9 };
    assert!(subscribe(&mut hub, "a", reused, Kind::Ws));
    assert_eq!(sorted(hub.members_of("a", Kind::Ws)), [reused, key(2)]);
    hub.check();
}

#[test]
fn unsubscribe_of_an_absent_key_is_a_no_op() {
    let mut hub = hub(10);
    assert!(!hub.unsubscribe(key(1)));
    subscribe(&mut hub, "t", key(1), Kind::Sse);
    assert!(!hub.unsubscribe(key(2)));
    assert!(!hub.unsubscribe(ConnKey { index: 1, gen: 2 }), "same index, later generation");
    assert!(!hub.unsubscribe(ConnKey { index: 1, gen: 0 }), "same index, earlier generation");
    assert_eq!(hub.members_of("t", Kind::Sse), [key(1)]);
    assert_eq!((hub.topics(), hub.subscriptions()), (1, 1));
    hub.check();
}

#[test]
fn a_stale_generation_names_nobody() {
    let mut hub = hub(10);
    let (old, new) = (ConnKey { index: 4, gen: 1 }, ConnKey { index: 4, gen: 2 });
    subscribe(&mut hub, "t", old, Kind::Ws);
    assert!(hub.unsubscribe(old));
    subscribe(&mut hub, "u", new, Kind::Sse);
    assert_eq!(hub.subscription(old), None);
    assert!(!hub.unsubscribe(old));
    assert_eq!(hub.subscription(new), Some((&Rc::from("u"), Kind::Sse)));
    assert_eq!(hub.members_of("u", Kind::Sse), [new]);
    hub.check();
}

#[test]
fn removal_from_the_middle_moves_the_last_and_fixes_its_position() {
    for kind in Kind::ALL {
        // (removed, the slice after it: the last one took the hole)
        let cases: &[(u32, &[u32])] = &[(0, &[4, 1, 2, 3]), (2, &[0, 1, 4, 3]), (4, &[0, 1, 2, 3])];
        for &(gone, left) in cases {
            let mut hub = hub(10);
            for i in 0..5 {
                match kind.multi() {
                    true => hub.subscribe_multi(&["x", "t"], key(i), kind, vec![0, 0]).unwrap(),
                    false => assert!(subscribe(&mut hub, "t", key(i), kind)),
                }
            }
            assert!(hub.unsubscribe(key(gone)));
            let want: Vec<ConnKey> = left.iter().map(|&i| key(i)).collect();
            assert_eq!(hub.members_of("t", kind), want, "{kind:?} remove {gone}");
            hub.check();
            // The moved member's new position is right: removing it
            // takes it, and nobody else.
            assert!(hub.unsubscribe(key(4)) != (gone == 4), "{kind:?} remove {gone}");
            assert!(!hub.members_of("t", kind).contains(&key(4)));
            assert_eq!(hub.members_of("t", kind).len(), 4 - usize::from(gone != 4));
            hub.check();
        }
    }
}

#[test]
fn a_topic_with_no_subscriber_and_no_history_is_forgotten() {
    for kind in Kind::ALL {
        let mut hub = hub(10);
        for i in 1..=2 {
            match kind.multi() {
                true => hub.subscribe_multi(&["t", "u"], key(i), kind, vec![0, 0]).unwrap(),
                false => assert!(subscribe(&mut hub, "t", key(i), kind)),
            }
        }
        hub.unsubscribe(key(1));
        hub.unsubscribe(key(2));
        assert_eq!((hub.topics(), hub.subscriptions()), (0, 0), "{kind:?}");
        assert!(hub.topics.is_empty() && hub.by_name.is_empty(), "{kind:?}");
        hub.check();
    }
    // With history 0 a publish keeps nothing: nobody listening, it goes at
    // once (SPEC §5), and the next one made starts above its ids.
    let mut hub = hub(0);
    assert_eq!((publish(&mut hub, "t", b"x").id, publish(&mut hub, "t", b"y").id), (1, 2));
    assert_eq!(hub.topics(), 0);
    assert_eq!(publish(&mut hub, "other", b"z").id, 3, "ids never repeat within a run");
    subscribe(&mut hub, "t", key(1), Kind::Sse);
    assert_eq!(
        (publish(&mut hub, "t", b"x").id, publish(&mut hub, "t", b"y").id),
        (4, 5),
        "kept by its subscriber"
    );
    hub.check();
}

#[test]
fn a_topic_with_history_is_kept_with_its_ids() {
    for kind in [Kind::Sse, Kind::Ws, Kind::Poll] {
        let mut hub = hub(10);
        subscribe(&mut hub, "t", key(1), kind);
        publish(&mut hub, "t", b"x");
        hub.unsubscribe(key(1));
        assert_eq!((hub.topics(), hub.last_id("t")), (1, 1), "{kind:?}");
        assert_eq!(publish(&mut hub, "t", b"y").id, 2, "{kind:?}");
    }
}

#[test]
fn history_bytes_evicts_the_oldest_across_topics() {
    let cost = |data: &[u8]| Message::new("x".into(), 1, None, data, false, 0).cost();
    // Room for exactly three 100-byte messages (ids 1-9 encode alike).
    let one = cost(&[b'x'; 100]);
    let mut hub = Hub::new(Limits { history: 10, history_bytes: 3 * one, max_topics: 100 });
    for topic in ["a", "b", "a", "c"] {
        publish(&mut hub, topic, &[b'x'; 100]);
        hub.check();
    }
    // a:1 was the oldest of all: gone; b has its one, a its second, c its one.
    assert_eq!(hub.kept_bytes(), 3 * one);
    assert_eq!(hub.evicted(), 1);
    assert_eq!(hub.replay("a", 0).reset, Some(2));
    assert_eq!(hub.replay("b", 0).messages.len(), 1);
    // b had no subscriber: once its history is gone, b is forgotten; made
    // again, it starts above its old ids (an old Last-Event-ID is a gap).
    publish(&mut hub, "c", &[b'x'; 100]);
    assert_eq!((hub.exists("b"), hub.last_id("b")), (false, 1));
    assert_eq!(hub.topics(), 2);
    // A topic with a subscriber keeps its ids when its history goes.
    subscribe(&mut hub, "a", key(1), Kind::Sse);
    for _ in 0..3 {
        publish(&mut hub, "c", &[b'x'; 100]);
    }
    assert_eq!((hub.last_id("a"), hub.replay("a", 0).messages.len()), (2, 0));
    assert_eq!(publish(&mut hub, "a", b"on").id, 3);
    hub.check();
}

#[test]
fn a_flood_stays_under_the_ceiling() {
    // The floods at a small scale: big bodies to one topic, bodies
    // of line feeds (each becomes `data: \n`, 7 bytes for 1), many topics.
    let cap = 1 << 20;
    let mut hub = Hub::new(Limits { history: 1000, history_bytes: cap, max_topics: 100_000 });
    for _ in 0..200 {
        publish(&mut hub, "big", &[b'x'; 64 * 1024]);
        assert!(hub.kept_bytes() <= cap);
    }
    for _ in 0..50 {
        publish(&mut hub, "lf", &[b'\n'; 16 * 1024]);
        assert!(hub.kept_bytes() <= cap);
    }
    for i in 0..20_000 {
        publish(&mut hub, &format!("t{i}"), b"x");
        assert!(hub.kept_bytes() <= cap);
    }
    hub.check();
    // Only topics that still have history exist: about cap / cost (ids of
    // topics made later have more digits).
    let small = Message::new("t".into(), 1, None, b"x", false, 0).cost();
    let large = Message::new("t".into(), 99_999, None, b"x", false, 0).cost();
    assert!((cap / large..=cap / small).contains(&hub.topics()), "{}", hub.topics());
}

#[test]
fn max_topics_refuses_a_new_topic_and_forgetting_makes_room() {
    let mut hub = Hub::new(Limits { history: 10, history_bytes: usize::MAX, max_topics: 2 });
    publish(&mut hub, "a", b"x");
    subscribe(&mut hub, "b", key(1), Kind::Ws);
    let full = TooManyTopics { max: 2 };
    assert_eq!(hub.publish("c", None, b"x", false).map(|d| d.msg.id).unwrap_err(), full);
    assert_eq!(hub.subscribe("c", key(2), Kind::Sse), Err(full));
    assert_eq!(hub.subscribe_multi(&["a", "c"], key(3), Kind::MultiSse, vec![0, 0]), Err(full));
    assert_eq!(hub.room_for(&["a", "b"]), Ok(()));
    assert_eq!(hub.room_for(&["a", "z"]), Err(full));
    // Existing topics still take publishes and subscribers.
    assert_eq!(publish(&mut hub, "b", b"y").id, 1);
    assert!(hub.subscribe_multi(&["a", "b"], key(3), Kind::MultiSse, vec![0, 0]).is_ok());
    assert_eq!(hub.topics(), 2);
    hub.check();
    // An unused topic goes, and a new one fits.
    let mut hub = Hub::new(Limits { history: 0, history_bytes: usize::MAX, max_topics: 1 });
    subscribe(&mut hub, "a", key(1), Kind::Sse);
    hub.unsubscribe(key(1));
    assert!(hub.subscribe("b", key(1), Kind::Sse).is_ok());
    hub.check();
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
    let mut hub = Hub::new(Limits { history: 2, history_bytes: 4 * KEPT_OVERHEAD + 100, max_topics: 100 });
    // Per (topic, kind), its members; and per connection index, the one
    // live key there and what it follows (the driver's guarantee: a key
    // is unsubscribed before its index is reused).
    let mut model: HashMap<(&str, Kind), HashSet<ConnKey>> = HashMap::new();
    let mut live: HashMap<u32, (ConnKey, Vec<&str>, Kind)> = HashMap::new();
    let mut rng = 0x2545_F491_4F6C_DD1D;
    fn leave<'a>(
        model: &mut HashMap<(&'a str, Kind), HashSet<ConnKey>>,
        k: ConnKey,
        topics: &[&'a str],
        kind: Kind,
    ) {
        for t in topics {
            model.get_mut(&(*t, kind)).unwrap().remove(&k);
        }
    }
    for step in 0..40_000 {
        let r = xorshift(&mut rng);
        let topic = names[(r % 4) as usize];
        let kind = Kind::ALL[((r >> 2) % 5) as usize];
        // Few indices, so operations often hit members, and the
        // generation changes so stale keys come up.
        let k = ConnKey { index: (r >> 8) as u32 % 300, gen: (r >> 40) as u32 % 2 };
        match (r >> 5) % 8 {
            0..=3 => {
                // A connection that follows something (or a stale one at
                // its index) leaves first, as the app ensures.
                if let Some((old, topics, kd)) = live.remove(&k.index) {
                    assert!(hub.unsubscribe(old), "step {step}");
                    leave(&mut model, old, &topics, kd);
                }
                let topics = match kind.multi() {
                    true => vec![topic, names[((r >> 12) % 4) as usize]],
                    false => vec![topic],
                };
                let topics = if topics.len() == 2 && topics[0] == topics[1] { vec![topic] } else { topics };
                match kind.multi() {
                    true => hub.subscribe_multi(&topics, k, kind, vec![0; topics.len()]).unwrap(),
                    false => assert!(subscribe(&mut hub, topic, k, kind), "step {step}"),
                }
                for t in &topics {
                    model.entry((*t, kind)).or_default().insert(k);
                }
                live.insert(k.index, (k, topics, kind));
            }
            4..=6 => {
                let member = live.get(&k.index).filter(|(key, _, _)| *key == k).cloned();
                assert_eq!(hub.unsubscribe(k), member.is_some(), "step {step}");
                if let Some((_, topics, kd)) = member {
                    leave(&mut model, k, &topics, kd);
                    live.remove(&k.index);
                }
            }
            _ => {
                let d = hub.publish(topic, None, b"", false).unwrap();
                let heads: Vec<ConnKey> = d.multi_sse.iter().map(|(k, _)| *k).collect();
                for (kind, slice) in [
                    (Kind::Sse, d.sse),
                    (Kind::Ws, d.ws),
                    (Kind::MultiWs, d.multi_ws),
                    (Kind::MultiSse, &heads[..]),
                    (Kind::Poll, &d.polls[..]),
                ] {
                    let got: HashSet<ConnKey> = slice.iter().copied().collect();
                    assert_eq!(got.len(), slice.len(), "no duplicates, step {step}");
                    assert_eq!(&got, model.entry((topic, kind)).or_default(), "step {step} {kind:?}");
                }
                let (id, polls) = (d.msg.id, d.polls.clone());
                assert!(id == hub.last_id(topic) || hub.last_id(topic) == 0, "step {step}");
                // Answered long-polls are gone from the hub.
                for p in polls {
                    model.get_mut(&(topic, Kind::Poll)).unwrap().remove(&p);
                    live.remove(&p.index);
                }
            }
        }
        let want =
            live.get(&k.index).filter(|(key, _, kd)| *key == k && !kd.multi()).map(|(_, t, kd)| (t[0], *kd));
        assert_eq!(hub.subscription(k).map(|(t, kd)| (&**t, kd)), want, "step {step}");
        let n: usize = live.values().map(|(_, t, _)| t.len()).sum();
        assert_eq!(hub.subscriptions(), n, "step {step}");
        if step % 101 == 0 {
            hub.check();
        }
    }
    hub.check();
    for name in names {
        for kind in Kind::ALL {
            let got: HashSet<ConnKey> = hub.members_of(name, kind).iter().copied().collect();
            assert_eq!(got, model.remove(&(name, kind)).unwrap_or_default(), "{name} {kind:?}");
        }
    }
    for (_, (k, _, _)) in live.drain() {
        assert!(hub.unsubscribe(k));
    }
    hub.check();
    assert_eq!((hub.subscriptions(), hub.members.len(), hub.multi.len()), (0, 0, 0));
}

#[test]
fn replay_after_zero_middle_last_and_beyond() {
    let mut hub = hub(10);
    for data in ["1", "2", "3", "4"] {
        publish(&mut hub, "t", data.as_bytes());
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
    let mut hub = hub(3);
    for _ in 0..10 {
        publish(&mut hub, "t", b"x");
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
    let mut hub = hub(0);
    subscribe(&mut hub, "t", key(1), Kind::Sse);
    for _ in 0..5 {
        publish(&mut hub, "t", b"x");
    }
    let d = hub.publish("t", None, b"live", false).unwrap();
    assert_eq!((d.msg.id, d.sse, d.ws), (6, &[key(1)][..], &[][..]));
    let msg = d.msg;
    assert_eq!(Rc::strong_count(&msg), 1, "not kept");
    assert_eq!(hub.kept_bytes(), 0);
    let r = hub.replay("t", 3);
    assert_eq!((r.reset, r.messages.len()), (Some(7), 0));
    let r = hub.replay("t", 6);
    assert_eq!((r.reset, r.messages.len()), (None, 0));
}

#[test]
fn history_and_the_returned_message_share_one_encoding() {
    let mut hub = hub(5);
    let msg = hub.publish("t", Some("e"), b"x", false).unwrap().msg;
    let kept = hub.replay("t", 0).messages.next().cloned().unwrap();
    assert!(Rc::ptr_eq(&msg, &kept));
    assert_eq!(Rc::strong_count(&msg.sse), 1, "one encoding, inside the one message");
    assert_eq!(&*msg.topic, "t");
    assert_eq!(hub.kept_bytes(), msg.cost());
}

#[test]
fn a_message_bigger_than_all_history_is_not_kept_and_evicts_no_other_topic() {
    let one = Message::new("x".into(), 1, None, b"small", false, 0).cost();
    let mut hub = Hub::new(Limits { history: 10, history_bytes: 3 * one, max_topics: 10 });
    publish(&mut hub, "a", b"small");
    publish(&mut hub, "b", b"small");
    let big = publish(&mut hub, "a", &[b'x'; 4096]);
    assert_eq!(big.id, 2, "it still takes its id");
    // a:1 goes with it (a replay of it would end in a silent gap before 3);
    // b's history is untouched.
    assert_eq!((hub.evicted(), hub.kept_bytes()), (2, one));
    // Nothing left of a and nobody listening: forgotten, its ids kept above.
    assert_eq!((hub.exists("a"), hub.last_id("a")), (false, 2));
    assert!(Cursor::new(&["a"], &[1]).gap(&hub), "a client at a:1 is told it lost a:2");
    assert_eq!(hub.replay("b", 0).messages.len(), 1);
    hub.check();
}
