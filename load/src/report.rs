//! The run report as JSON (serde_json's `Value`, members in the order they
//! were built): built with short helpers, written pretty enough to diff and
//! read, and read back (by path) when comparing runs.

pub use serde_json::Value;

/// Pretty JSON (2-space indent, one member per line; arrays of numbers on
/// one line), newline at end. serde_json's own pretty printer puts every
/// number of a time series on a line of its own; this layout is the one the
/// reports in docs/bench/results/ have always had.
pub fn to_pretty(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out.push('\n');
    out
}

/// A string as serde_json writes it, quoted and escaped.
fn push_str(out: &mut String, text: &str) {
    // Serializing a str cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

fn indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n("  ", depth));
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(text) => push_str(out, text),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        // A series of numbers (a time series, percentile points) stays on
        // one line, so a report is not thousands of lines tall; a null in
        // it is a number JSON cannot carry (NaN, an infinity).
        Value::Array(items) if items.iter().all(|i| matches!(i, Value::Number(_) | Value::Null)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, depth);
            }
            out.push(']');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                indent(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        }
        Value::Object(members) if members.is_empty() => out.push_str("{}"),
        Value::Object(members) => {
            out.push_str("{\n");
            for (i, (name, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                indent(out, depth + 1);
                push_str(out, name);
                out.push_str(": ");
                write_value(out, value, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push('}');
        }
    }
}

/// `obj(vec![("a", num(1)), ("b", s("x"))])`.
pub fn obj(members: Vec<(&str, Value)>) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Any number that converts to `f64` without loss (u32, i32, f32, f64);
/// counters that are u64 go through [`int`]. A whole number is written
/// without a fraction (`2`, not `2.0`), as JavaScript would; NaN and the
/// infinities, which JSON cannot carry, are null.
pub fn num(n: impl Into<f64>) -> Value {
    let n: f64 = n.into();
    // 2^53: every integer up to it is an f64 exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A u64 as a JSON number, exactly.
pub fn int(n: u64) -> Value {
    Value::from(n)
}

pub fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

pub fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

/// The value at a dotted path ("server.rss_per_conn") of a parsed report.
/// A segment that is a decimal index selects an array element
/// ("runs.0.p99"); an object member of that name is tried first.
pub fn path<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(v, |v, seg| match v {
        Value::Object(_) => v.get(seg),
        Value::Array(items) => items.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The number at a dotted path, if there is one there.
pub fn path_num(v: &Value, dotted: &str) -> Option<f64> {
    match path(v, dotted)? {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> serde_json::Result<Value> {
        serde_json::from_str(text)
    }

    fn sample() -> Value {
        obj(vec![
            ("scenario", s("fanout \"ws\"\n\\")),
            ("ok", Value::Bool(true)),
            ("missing", Value::Null),
            ("clients", int(10_000)),
            ("rate", num(1234.5)),
            ("small", num(1.5e-7f64)),
            ("neg", num(-3)),
            ("p", arr(vec![num(0.0), num(90), num(99.9)])),
            ("empty_list", arr(vec![])),
            ("empty_obj", obj(vec![])),
            (
                "server",
                obj(vec![
                    ("rss_per_conn", num(2150.25)),
                    ("tree", obj(vec![("pids", arr(vec![int(1), int(2)]))])),
                ]),
            ),
            ("runs", arr(vec![obj(vec![("p99", int(870))]), s("é ☃"), arr(vec![s("x")])])),
        ])
    }

    #[test]
    fn exact_layout() {
        let v = obj(vec![
            ("a", int(1)),
            ("b", arr(vec![num(1.5), num(2)])),
            ("c", obj(vec![("d", s("x")), ("e", arr(vec![]))])),
            ("f", arr(vec![obj(vec![]), Value::Null])),
        ]);
        let want = r#"{
  "a": 1,
  "b": [1.5, 2],
  "c": {
    "d": "x",
    "e": []
  },
  "f": [
    {},
    null
  ]
}
"#;
        assert_eq!(to_pretty(&v), want);
        assert_eq!(to_pretty(&num(3)), "3\n");
        assert_eq!(to_pretty(&obj(vec![])), "{}\n");
    }

    #[test]
    fn round_trip() {
        let v = sample();
        let text = to_pretty(&v);
        assert_eq!(parse(&text).expect("own output parses"), v);
        // Members keep the order they were built in.
        let Value::Object(members) = &v else { panic!("an object") };
        assert_eq!(members.keys().next().map(String::as_str), Some("scenario"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn non_finite_numbers_become_null() {
        let v = obj(vec![("nan", num(f64::NAN)), ("xs", arr(vec![num(1), num(f64::INFINITY)]))]);
        let text = to_pretty(&v);
        assert_eq!(text, "{\n  \"nan\": null,\n  \"xs\": [1, null]\n}\n");
        let want = obj(vec![("nan", Value::Null), ("xs", arr(vec![num(1), Value::Null]))]);
        assert_eq!(parse(&text).expect("parses"), want);
    }

    #[test]
    fn big_integers() {
        assert_eq!(to_pretty(&int(9_007_199_254_740_993)), "9007199254740993\n");
        assert_eq!(to_pretty(&int(u64::MAX)), "18446744073709551615\n");
        assert_eq!(to_pretty(&num(2.0)), "2\n");
        assert_eq!(to_pretty(&num(-0.0)), "0\n");
        assert_eq!(to_pretty(&num(1e300)), "1e+300\n");
        assert_eq!(to_pretty(&int(60_000_000_000)), "60000000000\n");
    }

    #[test]
    fn dotted_paths() {
        let v = parse(&to_pretty(&sample())).expect("parses");
        assert_eq!(path(&v, "server.rss_per_conn"), Some(&num(2150.25)));
        assert_eq!(path_num(&v, "server.rss_per_conn"), Some(2150.25));
        assert_eq!(path_num(&v, "clients"), Some(10_000.0));
        assert_eq!(path_num(&v, "server.tree.pids.1"), Some(2.0));
        assert_eq!(path_num(&v, "runs.0.p99"), Some(870.0));
        assert_eq!(path(&v, "runs.1"), Some(&s("é ☃")));
        assert_eq!(path_num(&v, "runs.1"), None);
        assert_eq!(path(&v, "server"), v.get("server"));
        for missing in ["nope", "server.nope", "server.rss_per_conn.x", "runs.9", "runs.x", "", "server."] {
            assert_eq!(path(&v, missing), None, "{missing}");
        }
    }
}
