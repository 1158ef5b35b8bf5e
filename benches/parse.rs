//! Micro-benchmarks of request parsing (`pushwire::http::request::parse`).
//!
//! Each case parses one whole request from a buffer, the way the driver does
//! after a read: a fresh `Progress`, a fresh header table, `Limits::default()`.
//! Throughput is in bytes of request, so cases of different sizes compare.
//!
//! Run: `cargo bench --bench parse` (about a minute; results in
//! `target/criterion/`, summarised in `docs/BENCHMARKS.md`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use pushwire::config::{Limits, MAX_HEADERS};
use pushwire::http::request::{parse, Parse, Progress};

/// The request wrk sends for `wrk http://127.0.0.1:PORT/plaintext`.
const PLAINTEXT: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:18181\r\n\r\n";

/// A typical browser navigation: 12 header fields, about 500 bytes.
const BROWSER: &[u8] = b"GET /topics/news?since=1024&limit=50 HTTP/1.1\r\n\
Host: push.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-GB,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://push.example.com/\r\n\
Connection: keep-alive\r\n\
Cookie: session=5f2b7c1e9a; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Cache-Control: max-age=0\r\n\
\r\n";

/// Bytes fed per call in the incremental case.
const STEP: usize = 16;

fn post_with_length() -> Vec<u8> {
    let body = vec![b'x'; 1024];
    let mut req = format!(
        "POST /topics/bench HTTP/1.1\r\nHost: 127.0.0.1:18181\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    req
}

fn post_chunked() -> Vec<u8> {
    let mut req = b"POST /topics/bench HTTP/1.1\r\nHost: 127.0.0.1:18181\r\n\
Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for size in [100usize, 300, 500, 124] {
        req.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        req.extend(std::iter::repeat_n(b'y', size));
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

/// Parses `buf` in one call; returns the bytes used and the body length so
/// that nothing the parser produced can be optimised away.
fn parse_whole(buf: &[u8], limits: &Limits) -> (usize, usize) {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match parse(buf, &mut Progress::default(), limits, &mut storage) {
        Ok(Parse::Complete(req, used)) => (used, black_box(req.headers.len()) + req.body.len()),
        other => panic!("expected a complete request, got {other:?}"),
    }
}

/// Feeds `buf` `STEP` bytes at a time with one `Progress`, as the driver does
/// when a request trickles in over several reads.
fn parse_incremental(buf: &[u8], limits: &Limits) -> (usize, usize) {
    let mut progress = Progress::default();
    let mut have = 0;
    loop {
        have = (have + STEP).min(buf.len());
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match parse(&buf[..have], &mut progress, limits, &mut storage) {
            Ok(Parse::Complete(req, used)) => {
                return (used, black_box(req.headers.len()) + req.body.len());
            }
            Ok(Parse::Partial { .. }) if have < buf.len() => {}
            other => panic!("expected progress at {have} bytes, got {other:?}"),
        }
    }
}

fn case(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    buf: &[u8],
    f: fn(&[u8], &Limits) -> (usize, usize),
) {
    let limits = Limits::default();
    // Check once, outside the timing, that the whole buffer is one request.
    assert_eq!(f(buf, &limits).0, buf.len(), "{name}: request must use the whole buffer");
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.bench_function(name, |b| b.iter(|| f(black_box(buf), black_box(&limits))));
}

fn request_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let post = post_with_length();
    let chunked = post_chunked();
    case(&mut group, "plaintext_get", PLAINTEXT, parse_whole);
    case(&mut group, "browser_get", BROWSER, parse_whole);
    case(&mut group, "post_1KiB_content_length", &post, parse_whole);
    case(&mut group, "post_chunked_4_chunks", &chunked, parse_whole);
    case(&mut group, "browser_get_16B_increments", BROWSER, parse_incremental);
    group.finish();
}

criterion_group!(benches, request_parse);
criterion_main!(benches);
