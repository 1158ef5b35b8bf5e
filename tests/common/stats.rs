//! `/stats` as the tests read it.

use super::{get, Server};

/// A figure from `/stats` (`"key":N`), read with a plain GET.
pub fn stat(server: &Server, key: &str) -> u64 {
    let json = get(server, "/stats").text();
    let at = json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {json}")) + key.len() + 3;
    json[at..].split([',', '}']).next().unwrap().parse().unwrap()
}
