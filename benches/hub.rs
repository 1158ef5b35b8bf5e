//! Micro-benchmarks of the push path without sockets: SSE encoding, and one
//! publish to 10,000 subscribers (the hub's encode-once, plus the per-
//! subscriber work the app does: one shared-bytes action each).
//!
//! cargo bench --bench hub

use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pushwire::hub::{Hub, Kind, Limits};
use pushwire::key::ConnKey;
use pushwire::sse::{encode, Event};

fn sse_encoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_encode");
    let cases: [(&str, Event<'_>); 3] = [
        ("64B", Event { id: Some("12345"), event: None, retry: None, data: &"x".repeat(64) }),
        (
            "named_multiline",
            Event {
                id: Some("12345"),
                event: Some("price"),
                retry: None,
                data: "line one\nline two\r\nline three",
            },
        ),
        ("4KiB", Event { id: Some("12345"), event: None, retry: None, data: &"y".repeat(4096) }),
    ];
    for (name, event) in &cases {
        group.throughput(Throughput::Bytes(event.data.len() as u64));
        let mut out = Vec::with_capacity(8192);
        group.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                encode(black_box(event), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn publish_to_10k(c: &mut Criterion) {
    const SUBSCRIBERS: u32 = 10_000;
    let mut hub = Hub::new(Limits { history: 1000, history_bytes: 256 << 20, max_topics: 100_000 });
    for index in 0..SUBSCRIBERS {
        hub.subscribe("bench", ConnKey { index, gen: 0 }, Kind::Sse).expect("one topic");
    }
    let payload = vec![b'p'; 64];
    let mut group = c.benchmark_group("publish");
    group.throughput(Throughput::Elements(u64::from(SUBSCRIBERS)));
    // Per iteration: one publish, and one refcount clone per subscriber into
    // a reused action list, which is what the driver then queues.
    let mut actions: Vec<(ConnKey, Rc<[u8]>)> = Vec::with_capacity(SUBSCRIBERS as usize);
    group.bench_function("64B_to_10k_subscribers", |b| {
        b.iter_batched_ref(
            || (),
            |_| {
                actions.clear();
                let d = hub.publish("bench", None, black_box(&payload), false).expect("one topic");
                actions.extend(d.sse.iter().map(|&key| (key, d.msg.sse.clone())));
                black_box(actions.len())
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = sse_encoding, publish_to_10k
}
criterion_main!(benches);
