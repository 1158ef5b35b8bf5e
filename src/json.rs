//! Just enough JSON writing for our responses: strings escaped per RFC 8259
//! §7, appended to the caller's buffer. (Numbers and literals are written
//! with `write!`; nothing here parses JSON.)

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

/// `s` as a JSON string.
pub fn string(s: &str) -> String {
    let mut out = String::new();
    push_str(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
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
            assert_eq!(super::string(input), *want);
        }
    }
}
