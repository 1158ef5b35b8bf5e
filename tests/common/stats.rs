//! `/stats` as the tests read it, and waiting for a figure to settle: the
//! server notices a socket's end when its loop next reads the socket, not at
//! the instant a test drops it.

use std::thread;
use std::time::{Duration, Instant};

use super::{get, Server};

/// How long a figure may take to settle before the test fails.
pub const SETTLE: Duration = Duration::from_secs(5);

/// A figure from `/stats` (`"key":N`), read with a plain GET.
pub fn stat(server: &Server, key: &str) -> u64 {
    let json = get(server, "/stats").text();
    let at = json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {json}")) + key.len() + 3;
    json[at..].split([',', '}']).next().unwrap().parse().unwrap()
}

/// A cap of `/stats` `"limits"` (`"name":{"cap":N,"used":M}`): its cap, and
/// what is held against it now (only shared caps have a `used`).
pub fn limit(server: &Server, name: &str) -> (u64, Option<u64>) {
    let json = get(server, "/stats").text();
    let key = format!("\"{name}\":{{\"cap\":");
    let at = json.find(&key).unwrap_or_else(|| panic!("{name} in {json}")) + key.len();
    let entry = &json[at..at + json[at..].find('}').unwrap()];
    let (cap, used) = match entry.split_once(",\"used\":") {
        Some((cap, used)) => (cap, Some(used.parse().unwrap())),
        None => (entry, None),
    };
    (cap.parse().unwrap(), used)
}

/// Reads `figure` every 20 ms until `ok` holds of it; that reading. Fails
/// after `within`, saying `what` and the last reading.
pub fn wait_for(
    within: Duration,
    what: &str,
    mut figure: impl FnMut() -> u64,
    ok: impl Fn(u64) -> bool,
) -> u64 {
    let deadline = Instant::now() + within;
    loop {
        let got = figure();
        if ok(got) {
            return got;
        }
        assert!(Instant::now() < deadline, "{what}: {got} after {within:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to `SETTLE`) for `/stats` `key` to read `want`.
pub fn stat_becomes(server: &Server, key: &str, want: u64) {
    wait_for(SETTLE, &format!("/stats {key} (want {want})"), || stat(server, key), |got| got == want);
}

/// The bytes of one [`stat`] reading's request (`GET /stats`, as [`get`]
/// writes it): every reading adds them to `bytes_in`, and one to `requests`.
const STATS_REQUEST: u64 = b"GET /stats HTTP/1.1\r\nHost: t\r\n\r\n".len() as u64;

/// Waits (up to `SETTLE`) until `/stats key` (`requests` or `bytes_in`) has
/// grown by at least `n` since `since`, a reading of it, not counting what
/// the readings themselves add: so a test waits for the server to have
/// read, or handled, what a client sent (a request parked, a partial head
/// held) rather than sleeping. Each reading counts itself (the figure is
/// taken while its request is answered). Only for a moment when no other
/// client is sending.
pub fn stat_grows(server: &Server, key: &str, since: u64, n: u64) {
    let per_reading = match key {
        "requests" => 1,
        "bytes_in" => STATS_REQUEST,
        _ => panic!("stat_grows knows what a reading adds to requests and bytes_in only, not {key}"),
    };
    let mut readings = 0;
    wait_for(
        SETTLE,
        &format!("/stats {key} to grow by {n} besides its readings"),
        || {
            readings += 1;
            stat(server, key).saturating_sub(since + readings * per_reading)
        },
        |grown| grown >= n,
    );
}
