//! `plot`: several reports in one SVG, so servers measured in the same run
//! are seen side by side: capacity reports as memory against connections,
//! the others as latency distributions.

use crate::cli::Options;
use crate::report::{path, Value};
use crate::svg::{Chart, Series, XScale};

pub fn run(opts: &Options) -> Result<(), String> {
    let mut series = Vec::new();
    let mut kind = None;
    let mut title = String::new();
    for input in &opts.inputs {
        let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
        let report: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", input.display()))?;
        let scenario =
            string(&report, "scenario").ok_or(format!("{}: not a pushwire-load report", input.display()))?;
        let name = string(&report, "server").unwrap_or_else(|| input.display().to_string());
        let (this_kind, points, scale) = if scenario == "capacity" {
            let proto = string(&report, "proto").unwrap_or_default();
            title = format!("Server memory against idle {} connections", proto.to_uppercase());
            ("memory", pairs(&report, "memory_curve", 1.0 / 1048576.0), XScale::Linear)
        } else if path(&report, "latency.distribution").is_some() {
            title = format!("{scenario} latency distribution");
            ("latency", pairs(&report, "latency.distribution", 1.0 / 1000.0), XScale::Percentile)
        } else {
            return Err(format!("{}: a {scenario} report has nothing to plot", input.display()));
        };
        if kind.is_some_and(|(k, _)| k != this_kind) {
            return Err("plot draws reports of one kind at a time: capacity, or latency".into());
        }
        kind = Some((this_kind, scale));
        series.push(Series { name, points });
    }
    let Some((kind, x_scale)) = kind else { return Err("nothing to plot".into()) };
    let (x_label, y_label) = match kind {
        "memory" => ("connections", "server RSS (MiB)"),
        _ => ("percentile", "latency (ms)"),
    };
    let chart = Chart { title, x_label: x_label.into(), y_label: y_label.into(), x_scale, series };
    let Some(out) = &opts.svg else { return Err("plot needs --svg FILE".into()) };
    std::fs::write(out, chart.render()).map_err(|e| format!("{}: {e}", out.display()))
}

fn string(report: &Value, name: &str) -> Option<String> {
    match report.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// `[[x, y], ...]` at `at`, y scaled by `scale`.
fn pairs(report: &Value, at: &str, scale: f64) -> Vec<(f64, f64)> {
    let Some(Value::Array(items)) = path(report, at) else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Array(xy) => match xy.as_slice() {
                [x, y] => Some((x.as_f64()?, y.as_f64()? * scale)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
