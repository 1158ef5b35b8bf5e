//! JSON string escaping (RFC 8259 §7), appended to the caller's buffer: the
//! hot path's one JSON need (poll answers, multi-topic frames, the demos'
//! small JSON texts). Everything else JSON, reading bodies and writing
//! reports, is serde_json's, in the crates that need it.

/// Appends `s` as a JSON string, quotes included. RFC 8259 §7: "All Unicode
/// characters may be placed within the quotation marks, except for the
/// characters that MUST be escaped: quotation mark, reverse solidus, and the
/// control characters (U+0000 through U+001F)."
pub fn push_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, s);
        out
    }

    #[test]
    fn escapes_what_rfc_8259_requires() {
        let cases: &[(&str, &str)] = &[
            ("plain", r#""plain""#),
            ("a\"b", r#""a\"b""#),
            ("back\\slash", r#""back\\slash""#),
            ("line\nbreak\r\t", r#""line\nbreak\r\t""#),
            ("\u{0}\u{1f}", r#""\u0000\u001f""#),
            ("中文 ✓", "\"中文 ✓\""),
            ("</script>", "\"</script>\""),
        ];
        for (input, want) in cases {
            assert_eq!(string(input), *want);
        }
    }

    #[test]
    fn every_escape_reads_back_as_the_same_string() {
        // serde_json, a parser we did not write, reads back what we wrote,
        // for every character below U+0100 and a few beyond.
        let all: String =
            (0u32..0x100).chain([0x2028, 0x2029, 0xfeff, 0x1f600]).filter_map(char::from_u32).collect();
        let back: String = serde_json::from_str(&string(&all)).expect("valid JSON");
        assert_eq!(back, all);
    }
}
