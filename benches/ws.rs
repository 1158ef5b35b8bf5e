//! Micro-benchmarks of the WebSocket codec without sockets: a client frame
//! decoded and unmasked by the Receiver, a server frame encoded, and UTF-8
//! validation (incremental, as text frames are checked).
//!
//! cargo bench --bench ws

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pushwire::ws::{encode, OpCode, Receiver, Step, Utf8Validator};

/// A masked client frame, as a browser sends it.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_decode_unmask");
    for (name, opcode, size) in
        [("text_64B", 1u8, 64usize), ("binary_64KiB", 2, 65536), ("text_64KiB", 1, 65536)]
    {
        let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let frame = client_frame(opcode, &payload);
        group.throughput(Throughput::Bytes(size as u64));
        let mut receiver = Receiver::new(16 << 20, 60_000);
        group.bench_function(name, |b| {
            // Unmasking is in place, so each iteration gets a fresh copy.
            b.iter_batched_ref(
                || frame.clone(),
                |buf| match receiver.read(buf, 0, usize::MAX) {
                    Ok(Step::Event { used, .. }) => black_box(used),
                    other => panic!("{other:?}"),
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn encode_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_encode");
    for (name, size) in [("text_64B", 64usize), ("text_64KiB", 65536)] {
        let payload = vec![b'x'; size];
        let mut out = Vec::with_capacity(size + 14);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                encode(OpCode::Text, black_box(&payload), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_utf8");
    let ascii = "The quick brown fox jumps over the lazy dog. ".repeat(1456).into_bytes();
    let mixed = "白菜价格行情:4.20元 SSE 测试数据 ✓ café ".repeat(1200).into_bytes();
    for (name, text) in [("ascii_64KiB", &ascii), ("cjk_mixed_64KiB", &mixed)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut v = Utf8Validator::default();
                // In 4 KiB pieces, as bytes come off a socket.
                for piece in text.chunks(4096) {
                    v.feed(black_box(piece)).expect("valid");
                }
                black_box(v.is_complete())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = decode, encode_frames, utf8
}
criterion_main!(benches);
