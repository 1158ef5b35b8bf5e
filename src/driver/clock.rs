//! The one place that reads the clocks. Everything else gets time as an
//! argument: milliseconds since the loop started (monotonic) for deadlines,
//! and Unix seconds (wall clock) for Date headers.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock { start: Instant::now() }
    }

    /// Monotonic milliseconds since the loop started.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Wall-clock milliseconds since the Unix epoch (0 if the clock is before it).
    pub fn unix_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
}
