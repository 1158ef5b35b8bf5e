//! The figures `/stats` reports: plain counters the driver increments, and
//! their rendering as JSON. No I/O and no clock: uptime is passed in.

use std::fmt::Write;

/// Counters of one worker loop.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Open connections, by what they speak now.
    pub http: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections refused or left waiting because of `--max-conns` or a
    /// lack of file descriptors (counted once per pause).
    pub accept_pauses: u64,
    /// Requests answered.
    pub requests: u64,
    /// Bytes read from and written to sockets.
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Stats {
    pub fn connections(&self) -> u64 {
        self.http
    }

    /// `{"uptime_secs":…,"workers":1,"connections":{…},…}`.
    pub fn to_json(&self, uptime_ms: u64) -> String {
        let mut out = String::with_capacity(256);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{{\"uptime_secs\":{}.{:03},\"workers\":1,\
             \"connections\":{{\"total\":{},\"http\":{}}},\
             \"accepted\":{},\"accept_pauses\":{},\"requests\":{},\
             \"bytes_in\":{},\"bytes_out\":{}}}",
            uptime_ms / 1000,
            uptime_ms % 1000,
            self.connections(),
            self.http,
            self.accepted,
            self.accept_pauses,
            self.requests,
            self.bytes_in,
            self.bytes_out,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let s = Stats { http: 2, accepted: 5, accept_pauses: 1, requests: 9, bytes_in: 100, bytes_out: 200 };
        assert_eq!(
            s.to_json(12_345),
            "{\"uptime_secs\":12.345,\"workers\":1,\"connections\":{\"total\":2,\"http\":2},\
             \"accepted\":5,\"accept_pauses\":1,\"requests\":9,\"bytes_in\":100,\"bytes_out\":200}"
        );
    }
}
