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
