//! The figures `/stats`, `/stats/stream` and `/metrics` report: plain
//! counters the driver increments, and their rendering as JSON and in the
//! Prometheus text format. No I/O and no clock: uptime is passed in.

use std::fmt::Write;

use crate::conn::Open;

/// Counters of one worker loop.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Open connections, by what they speak now (a parked long-poll counts
    /// as HTTP); kept by the connections themselves as their phase changes.
    pub open: Open,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Times accepting paused for `--max-conns` or a lack of descriptors.
    pub accept_pauses: u64,
    /// Requests answered.
    pub requests: u64,
    /// Events queued to streams (each delivery to each subscriber).
    pub messages_out: u64,
    /// Streams closed because their queue passed `--max-queue`.
    pub drops: u64,
    /// Bytes read from and written to sockets.
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// WebSocket input held now, every socket together: partial frames and
    /// fragmented messages, by capacity (`--max-ws-buffered` bounds it).
    pub ws_buffered: u64,
}

/// Figures the hub holds, passed in by the app.
#[derive(Clone, Debug, Default)]
pub struct HubFigures {
    pub topics: usize,
    pub subscriptions: usize,
    /// Messages published since start.
    pub published: u64,
    /// Every cap that bounds what peers can make the server hold (SPEC §5).
    pub limits: Vec<Limit>,
}

/// One cap as `/stats` shows it: `"limits":{"NAME":{"cap":N,"used":M}}`, and
/// in `/metrics` `pushwire_limit{name="NAME"}` and `pushwire_limit_used`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The flag's name with `_` for `-` (`max_queue` for `--max-queue`), or
    /// the constant's in `config.rs` for a cap without a flag; a cap on
    /// time adds `_ms` (`message_timeout_ms`), its cap in milliseconds.
    pub name: &'static str,
    /// The cap; 0 where the flag says "no limit".
    pub cap: u64,
    /// What is held against it now, for a cap shared by all connections
    /// (a per-connection cap has no one figure).
    pub used: Option<u64>,
}

impl Stats {
    pub fn connections(&self) -> u64 {
        self.open.total()
    }

    pub fn to_json(&self, uptime_ms: u64, hub: &HubFigures) -> String {
        let mut out = String::with_capacity(320 + 48 * hub.limits.len());
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{{\"uptime_secs\":{}.{:03},\"workers\":1,\
             \"connections\":{{\"total\":{},\"http\":{},\"sse\":{},\"ws\":{}}},\
             \"accepted\":{},\"accept_pauses\":{},\"requests\":{},\
             \"topics\":{},\"subscriptions\":{},\
             \"messages_in\":{},\"messages_out\":{},\"drops\":{},\
             \"bytes_in\":{},\"bytes_out\":{},\"limits\":{{",
            uptime_ms / 1000,
            uptime_ms % 1000,
            self.connections(),
            self.open.http,
            self.open.sse,
            self.open.ws,
            self.accepted,
            self.accept_pauses,
            self.requests,
            hub.topics,
            hub.subscriptions,
            hub.published,
            self.messages_out,
            self.drops,
            self.bytes_in,
            self.bytes_out,
        );
        for (i, limit) in hub.limits.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            let _ = write!(out, "{comma}\"{}\":{{\"cap\":{}", limit.name, limit.cap);
            if let Some(used) = limit.used {
                let _ = write!(out, ",\"used\":{used}");
            }
            out.push('}');
        }
        out.push_str("}}");
        out
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self, uptime_ms: u64, hub: &HubFigures) -> String {
        let mut out = String::with_capacity(1200);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP pushwire_{name} {help}\n# TYPE pushwire_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "pushwire_{name}{labels} {value}");
            }
        };
        metric(
            "connections",
            "gauge",
            "Open connections by kind.",
            &[
                ("{kind=\"http\"}", self.open.http),
                ("{kind=\"sse\"}", self.open.sse),
                ("{kind=\"ws\"}", self.open.ws),
            ],
        );
        metric("accepted_total", "counter", "Connections accepted.", &[("", self.accepted)]);
        metric(
            "accept_pauses_total",
            "counter",
            "Times accepting paused (max-conns or no descriptors).",
            &[("", self.accept_pauses)],
        );
        metric("requests_total", "counter", "HTTP requests answered.", &[("", self.requests)]);
        metric("topics", "gauge", "Topics with subscribers or history.", &[("", hub.topics as u64)]);
        metric("subscriptions", "gauge", "Topic subscriptions.", &[("", hub.subscriptions as u64)]);
        metric(
            "messages_total",
            "counter",
            "Messages published (in) and delivered (out).",
            &[("{direction=\"in\"}", hub.published), ("{direction=\"out\"}", self.messages_out)],
        );
        metric("drops_total", "counter", "Streams closed as slow consumers.", &[("", self.drops)]);
        metric(
            "bytes_total",
            "counter",
            "Bytes read and written on sockets.",
            &[("{direction=\"in\"}", self.bytes_in), ("{direction=\"out\"}", self.bytes_out)],
        );
        let caps: Vec<(String, u64)> =
            hub.limits.iter().map(|l| (format!("{{name=\"{}\"}}", l.name), l.cap)).collect();
        let used: Vec<(String, u64)> = hub
            .limits
            .iter()
            .filter_map(|l| l.used.map(|u| (format!("{{name=\"{}\"}}", l.name), u)))
            .collect();
        fn pairs(v: &[(String, u64)]) -> Vec<(&str, u64)> {
            v.iter().map(|(l, n)| (l.as_str(), *n)).collect()
        }
        metric("limit", "gauge", "Caps on what peers can make the server hold (0: none).", &pairs(&caps));
        metric("limit_used", "gauge", "What is held against each shared cap now.", &pairs(&used));
        let _ = writeln!(
            out,
            "# HELP pushwire_uptime_seconds Seconds since start.\n# TYPE pushwire_uptime_seconds gauge\n\
             pushwire_uptime_seconds {}.{:03}",
            uptime_ms / 1000,
            uptime_ms % 1000
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stats {
        Stats {
            open: Open { http: 2, sse: 3, ws: 0 },
            accepted: 5,
            accept_pauses: 1,
            requests: 9,
            messages_out: 12,
            drops: 1,
            bytes_in: 100,
            bytes_out: 200,
            ws_buffered: 0,
        }
    }

    fn figures() -> HubFigures {
        HubFigures {
            topics: 2,
            subscriptions: 3,
            published: 4,
            limits: vec![
                Limit { name: "max_queue", cap: 1024, used: None },
                Limit { name: "history_bytes", cap: 4096, used: Some(17) },
            ],
        }
    }

    #[test]
    fn json_shape() {
        assert_eq!(
            sample().to_json(12_345, &figures()),
            "{\"uptime_secs\":12.345,\"workers\":1,\"connections\":{\"total\":5,\"http\":2,\"sse\":3,\"ws\":0},\
             \"accepted\":5,\"accept_pauses\":1,\"requests\":9,\"topics\":2,\"subscriptions\":3,\
             \"messages_in\":4,\"messages_out\":12,\"drops\":1,\"bytes_in\":100,\"bytes_out\":200,\
             \"limits\":{\"max_queue\":{\"cap\":1024},\"history_bytes\":{\"cap\":4096,\"used\":17}}}"
        );
        let none = HubFigures { limits: Vec::new(), ..figures() };
        assert!(sample().to_json(0, &none).ends_with(",\"limits\":{}}"));
    }

    #[test]
    fn prometheus_lines() {
        let text = sample().to_prometheus(1_500, &figures());
        for line in [
            "# TYPE pushwire_connections gauge",
            "pushwire_connections{kind=\"sse\"} 3",
            "pushwire_requests_total 9",
            "pushwire_messages_total{direction=\"out\"} 12",
            "pushwire_bytes_total{direction=\"in\"} 100",
            "pushwire_uptime_seconds 1.500",
            "pushwire_limit{name=\"max_queue\"} 1024",
            "pushwire_limit{name=\"history_bytes\"} 4096",
            "pushwire_limit_used{name=\"history_bytes\"} 17",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        // Every sample line is "name{labels} value" with a numeric value.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let value = l.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }
}
