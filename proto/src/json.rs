//! Just enough JSON (RFC 8259) for our routes: strings escaped per §7,
//! appended to the caller's buffer (the hot path: poll answers, multi-topic
//! frames). Numbers written as JavaScript writes them and a small strict
//! parser ([`parse`]) serve pushwire-load only, until it moves to a crate of
//! its own with serde_json; the server reads JSON bodies with serde_json.
//!
//! The parser implements the whole grammar of RFC 8259 §2-§7 and nothing
//! more: no comments, no trailing commas, no single quotes, no `NaN` or
//! `Infinity`, no leading zeros, no unescaped control characters, no byte
//! order mark (§8.1 allows ignoring one; we refuse it: our clients do not
//! send one), nothing after the value. Limits (§9 lets a parser set them):
//! nesting at most [`MAX_DEPTH`] levels; a number must fit an `f64`
//! (`1e400` is refused, `1e-400` becomes 0, as §6 allows). Object members
//! are kept in order, duplicates included (§4: names "SHOULD be unique"; the
//! caller decides); [`Value::get`] finds the first.
//!
//! Every error names its rule and the byte offset where the text broke it,
//! so a `400` can say exactly what is wrong with a body.

use std::fmt;

/// RFC 8259 §9: "An implementation may set limits on the maximum depth of
/// nesting." Deep enough for any real document, shallow enough that the
/// recursive descent below cannot exhaust the stack.
pub const MAX_DEPTH: usize = 128;

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

/// Appends `n` as JavaScript's `JSON.stringify` writes it (ECMA-262
/// Number::toString): the shortest digits that read back as the same `f64`,
/// plain notation from 1e-6 up to 1e21 and exponent notation outside
/// (`12.5`, `30`, `0.1`, `1e+21`, `1.5e-7`); `-0` as `0`; NaN and the
/// infinities, which JSON cannot write (RFC 8259 §6), as `null`. So a
/// browser that sent `12.5` reads back `12.5`, byte for byte.
pub fn push_number(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
        return;
    }
    if n == 0.0 {
        out.push('0');
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` without a precision gives the shortest round-trip
    // digits: "1.25e1", "1e-7".
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    // ECMA-262: s × 10^(n−k) is the value, s having k digits.
    let point = exp.parse::<i32>().unwrap_or(0) + 1;
    if k <= point && point <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (point - k) as usize));
    } else if 0 < point && point <= 21 {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if point - 1 < 0 { '-' } else { '+' });
        let _ = std::fmt::Write::write_fmt(out, format_args!("{}", (point - 1).abs()));
    }
}

/// A JSON value (RFC 8259 §3).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// Members in the order written, duplicates included.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The first member called `name`, if this is an object.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages ("got a string").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Which rule of RFC 8259 the text broke.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorKind {
    /// The text ended inside a value (or was empty).
    UnexpectedEnd,
    /// §3: a value must be an object, array, number, string, `true`,
    /// `false` or `null` (so not `NaN`, `'x'`, `]` or a byte order mark).
    ExpectedValue,
    /// §3: "The literal names MUST be lowercase."
    InvalidLiteral,
    /// §4: "A name is a string."
    ExpectedName,
    /// §4: "A single colon comes after each name".
    ExpectedColon,
    /// §5: elements are separated by commas (no trailing comma).
    ExpectedCommaOrBracket,
    /// §4: members are separated by commas (no trailing comma).
    ExpectedCommaOrBrace,
    /// §6: "Leading zeros are not allowed."
    LeadingZero,
    /// §6: a minus, a decimal point or an exponent needs a digit after it.
    ExpectedDigit,
    /// §6 limit: the number does not fit an IEEE 754 double.
    NumberOutOfRange,
    /// §7: control characters U+0000-U+001F must be escaped.
    ControlCharacter,
    /// §7: the escapes are `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u`
    /// with four hexadecimal digits.
    InvalidEscape,
    /// §7: `\u` is followed by four hexadecimal digits.
    InvalidUnicodeEscape,
    /// §7, §8.2: a UTF-16 surrogate escape must be a high one followed by a
    /// low one (a lone one is no Unicode character).
    LoneSurrogate,
    /// §2: a JSON text is one value, with only whitespace around it.
    TrailingCharacters,
    /// Deeper than [`MAX_DEPTH`] (§9).
    TooDeep,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::UnexpectedEnd => "unexpected end of input",
            ErrorKind::ExpectedValue => {
                "expected a value (an object, array, string, number, true, false or null)"
            }
            ErrorKind::InvalidLiteral => "invalid literal (expected true, false or null, in lowercase)",
            ErrorKind::ExpectedName => "expected a member name (a string in double quotes)",
            ErrorKind::ExpectedColon => "expected ':' after a member name",
            ErrorKind::ExpectedCommaOrBracket => "expected ',' or ']' after an array element",
            ErrorKind::ExpectedCommaOrBrace => "expected ',' or '}' after an object member",
            ErrorKind::LeadingZero => "leading zeros are not allowed in a number",
            ErrorKind::ExpectedDigit => "expected a digit in a number",
            ErrorKind::NumberOutOfRange => "number too large to represent",
            ErrorKind::ControlCharacter => "unescaped control character in a string",
            ErrorKind::InvalidEscape => {
                r#"invalid escape in a string (valid: \" \\ \/ \b \f \n \r \t, and \u with four hex digits)"#
            }
            ErrorKind::InvalidUnicodeEscape => r"\u must be followed by four hexadecimal digits",
            ErrorKind::LoneSurrogate => r"a \u escape of a UTF-16 surrogate must be a high-low pair",
            ErrorKind::TrailingCharacters => "unexpected text after the JSON value",
            ErrorKind::TooDeep => "nested too deeply (at most 128 levels)",
        }
    }
}

/// A parse failure: the rule broken and the byte offset in the input where
/// it was found (the length of the input for [`ErrorKind::UnexpectedEnd`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct JsonError {
    pub kind: ErrorKind,
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.describe(), self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Parses one JSON text (RFC 8259 §2: `ws value ws`, nothing else).
pub fn parse(input: &str) -> Result<Value, JsonError> {
    let mut p = Parser { src: input, bytes: input.as_bytes(), pos: 0 };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.error(ErrorKind::TrailingCharacters));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, kind: ErrorKind) -> JsonError {
        let kind = if self.pos >= self.bytes.len() { ErrorKind::UnexpectedEnd } else { kind };
        JsonError { kind, offset: self.pos }
    }

    fn error_at(&self, kind: ErrorKind, offset: usize) -> JsonError {
        JsonError { kind, offset }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// §2: `ws = *( %x20 / %x09 / %x0A / %x0D )`.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// §3: `value = false / null / true / object / array / number / string`.
    /// `depth` is how many arrays and objects enclose it.
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => Err(self.error(ErrorKind::ExpectedValue)),
        }
    }

    fn literal(&mut self, name: &str, value: Value) -> Result<Value, JsonError> {
        let end = self.pos + name.len();
        match self.bytes.get(self.pos..end) {
            Some(b) if b == name.as_bytes() => {
                self.pos = end;
                Ok(value)
            }
            // A prefix of the name that runs into the end: the text is cut short.
            _ if name.as_bytes().starts_with(&self.bytes[self.pos..]) => {
                Err(self.error_at(ErrorKind::UnexpectedEnd, self.bytes.len()))
            }
            _ => Err(self.error(ErrorKind::InvalidLiteral)),
        }
    }

    /// Enters an array or object at `self.pos` (its opening bracket).
    fn enter(&self, depth: usize) -> Result<usize, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(ErrorKind::TooDeep));
        }
        Ok(depth + 1)
    }

    /// §4: `object = begin-object [ member *( value-separator member ) ]
    /// end-object`; `member = string name-separator value`.
    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        let inner = self.enter(depth)?;
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error(ErrorKind::ExpectedName));
            }
            let name = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error(ErrorKind::ExpectedColon));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(inner)?;
            members.push((name, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error(ErrorKind::ExpectedCommaOrBrace)),
            }
        }
    }

    /// §5: `array = begin-array [ value *( value-separator value ) ] end-array`.
    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        let inner = self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(inner)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error(ErrorKind::ExpectedCommaOrBracket)),
            }
        }
    }

    /// §6: `number = [ minus ] int [ frac ] [ exp ]`; `int = zero / ( digit1-9
    /// *DIGIT )`; `frac = decimal-point 1*DIGIT`; `exp = e [ minus / plus ]
    /// 1*DIGIT`.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error(ErrorKind::LeadingZero));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error(ErrorKind::ExpectedDigit)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
        }
        // The grammar above is a subset of what Rust's f64 parser takes, and
        // that parser rounds correctly; it only fails on input it never sees.
        match self.src[start..self.pos].parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Value::Number(n)),
            _ => Err(self.error_at(ErrorKind::NumberOutOfRange, start)),
        }
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Result<(), JsonError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error(ErrorKind::ExpectedDigit));
        }
        self.digits();
        Ok(())
    }

    /// §7: `string = quotation-mark *char quotation-mark`. `self.pos` is at
    /// the opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // A run of characters that need no work. It ends at an ASCII
            // byte or at the end, so the slice is on character boundaries.
            let run = self.pos;
            while matches!(self.peek(), Some(b) if b >= 0x20 && b != b'"' && b != b'\\') {
                self.pos += 1;
            }
            out.push_str(&self.src[run..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(_) => return Err(self.error(ErrorKind::ControlCharacter)),
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
            }
        }
    }

    /// One escape sequence, `self.pos` at its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos;
        let c = match self.bytes.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(),
            Some(_) => return Err(self.error(ErrorKind::InvalidEscape)),
            None => return Err(self.error_at(ErrorKind::UnexpectedEnd, self.bytes.len())),
        };
        self.pos += 2;
        Ok(c)
    }

    /// §7: "To escape an extended character that is not in the Basic
    /// Multilingual Plane, the character is represented as a 12-character
    /// sequence, encoding the UTF-16 surrogate pair".
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos;
        let first = self.hex4(at)?;
        self.pos = at + 6;
        let unit = match first {
            0xD800..=0xDBFF => {
                let next = self.pos;
                if self.bytes.get(next..next + 2) != Some(b"\\u") {
                    if next + 2 > self.bytes.len() && b"\\u".starts_with(&self.bytes[next..]) {
                        return Err(self.error_at(ErrorKind::UnexpectedEnd, self.bytes.len()));
                    }
                    return Err(self.error_at(ErrorKind::LoneSurrogate, at));
                }
                let low = self.hex4(next)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error_at(ErrorKind::LoneSurrogate, at));
                }
                self.pos = next + 6;
                0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error_at(ErrorKind::LoneSurrogate, at)),
            unit => unit,
        };
        char::from_u32(unit).ok_or(self.error_at(ErrorKind::LoneSurrogate, at))
    }

    /// The four hex digits of the `\u` escape whose backslash is at `at`.
    fn hex4(&self, at: usize) -> Result<u32, JsonError> {
        let mut unit = 0;
        for i in at + 2..at + 6 {
            let digit = match self.bytes.get(i) {
                Some(&b) => (b as char).to_digit(16),
                None => return Err(self.error_at(ErrorKind::UnexpectedEnd, self.bytes.len())),
            };
            match digit {
                Some(d) => unit = unit * 16 + d,
                None => return Err(self.error_at(ErrorKind::InvalidUnicodeEscape, at)),
            }
        }
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Value::{Array as A, Bool as B, Null as N, Number as Num, Object as O};

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }

    fn o(members: &[(&str, Value)]) -> Value {
        O(members.iter().map(|(n, v)| (n.to_string(), v.clone())).collect())
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
            assert_eq!(super::string(input), *want);
        }
    }

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        // Each `want` is what JSON.stringify(n) gives in a browser.
        let cases: &[(f64, &str)] = &[
            (12.5, "12.5"),
            (30.0, "30"),
            (0.0, "0"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-7.25, "-7.25"),
            (123456789.125, "123456789.125"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (0.000001, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ];
        for &(n, want) in cases {
            let mut out = String::new();
            push_number(&mut out, n);
            assert_eq!(out, want, "{n:?}");
            if n.is_finite() {
                assert_eq!(parse(&out), Ok(Num(if n == 0.0 { 0.0 } else { n })), "round trip of {out}");
            }
        }
    }

    #[test]
    fn rfc_8259_examples_parse() {
        // RFC 8259 §13, first example (the Image object).
        let image = r#"
            {
              "Image": {
                  "Width":  800,
                  "Height": 600,
                  "Title":  "View from 15th Floor",
                  "Thumbnail": {
                      "Url":    "http://www.example.com/image/481989943",
                      "Height": 125,
                      "Width":  100
                  },
                  "Animated" : false,
                  "IDs": [116, 943, 234, 38793]
                }
            }"#;
        let want = o(&[(
            "Image",
            o(&[
                ("Width", Num(800.0)),
                ("Height", Num(600.0)),
                ("Title", s("View from 15th Floor")),
                (
                    "Thumbnail",
                    o(&[
                        ("Url", s("http://www.example.com/image/481989943")),
                        ("Height", Num(125.0)),
                        ("Width", Num(100.0)),
                    ]),
                ),
                ("Animated", B(false)),
                ("IDs", A(vec![Num(116.0), Num(943.0), Num(234.0), Num(38793.0)])),
            ]),
        )]);
        assert_eq!(parse(image), Ok(want));

        // §13, second example (an array of two objects).
        let places = r#"
            [
              {
                 "precision": "zip",
                 "Latitude":  37.7668,
                 "Longitude": -122.3959,
                 "Address":   "",
                 "City":      "SAN FRANCISCO",
                 "State":     "CA",
                 "Zip":       "94107",
                 "Country":   "US"
              },
              {
                 "precision": "zip",
                 "Latitude":  37.371991,
                 "Longitude": -122.026020,
                 "Address":   "",
                 "City":      "SUNNYVALE",
                 "State":     "CA",
                 "Zip":       "94085",
                 "Country":   "US"
              }
            ]"#;
        let Ok(A(items)) = parse(places) else { panic!("{:?}", parse(places)) };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].get("Longitude"), Some(&Num(-122.3959)));
        assert_eq!(items[1].get("Latitude"), Some(&Num(37.371991)));
        assert_eq!(items[1].get("City"), Some(&s("SUNNYVALE")));
        assert_eq!(items[1].get("Address"), Some(&s("")));

        // §13: "Here are three small JSON texts containing only values".
        assert_eq!(parse("\"Hello world!\""), Ok(s("Hello world!")));
        assert_eq!(parse("42"), Ok(Num(42.0)));
        assert_eq!(parse("true"), Ok(B(true)));
    }

    #[test]
    fn valid_texts() {
        let cases: Vec<(&str, Value)> = vec![
            ("null", N),
            ("false", B(false)),
            (" \t\r\n[ ] \n", A(vec![])),
            ("{}", o(&[])),
            ("[1,[2,[3]]]", A(vec![Num(1.0), A(vec![Num(2.0), A(vec![Num(3.0)])])])),
            (r#"{"a":1,"a":2}"#, o(&[("a", Num(1.0)), ("a", Num(2.0))])),
            ("0", Num(0.0)),
            ("-0", Num(-0.0)),
            ("-0.5e-3", Num(-0.0005)),
            ("1E2", Num(100.0)),
            ("1e+2", Num(100.0)),
            ("12.50", Num(12.5)),
            ("1e-400", Num(0.0)),
            ("1.7976931348623157e308", Num(f64::MAX)),
            (r#""\"\\\/\b\f\n\r\t""#, s("\"\\/\u{8}\u{c}\n\r\t")),
            (r#""\u0041\u00e9\u4E2D""#, s("Aé中")),
            // §7: "G clef character (U+1D11E) may be represented as "\uD834\uDD1E"".
            (r#""\uD834\uDD1E""#, s("\u{1D11E}")),
            (r#""\ud83e\udd80 🦀""#, s("🦀 🦀")),
            ("\"中文 \u{7f}\"", s("中文 \u{7f}")),
            (r#""\u0000""#, s("\0")),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
        let deepest = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&deepest).is_ok());
    }

    #[test]
    fn every_error_kind_with_its_offset() {
        use ErrorKind::*;
        let cases: &[(&str, ErrorKind, usize)] = &[
            ("", UnexpectedEnd, 0),
            ("   ", UnexpectedEnd, 3),
            ("[1,", UnexpectedEnd, 3),
            (r#"{"a""#, UnexpectedEnd, 4),
            (r#""abc"#, UnexpectedEnd, 4),
            ("tru", UnexpectedEnd, 3),
            (r#""\"#, UnexpectedEnd, 2),
            (r#""\u12"#, UnexpectedEnd, 5),
            (r#""\ud834\"#, UnexpectedEnd, 8),
            ("-", UnexpectedEnd, 1),
            ("1.", UnexpectedEnd, 2),
            ("NaN", ExpectedValue, 0),
            ("Infinity", ExpectedValue, 0),
            ("-Infinity", ExpectedDigit, 1),
            ("'x'", ExpectedValue, 0),
            ("[1,]", ExpectedValue, 3),
            ("\u{feff}{}", ExpectedValue, 0),
            ("+1", ExpectedValue, 0),
            (".5", ExpectedValue, 0),
            ("True", ExpectedValue, 0),
            ("nul1", InvalidLiteral, 0),
            ("[truth]", InvalidLiteral, 1),
            ("{a:1}", ExpectedName, 1),
            (r#"{"a":1,}"#, ExpectedName, 7),
            (r#"{"a" 1}"#, ExpectedColon, 5),
            ("[1 2]", ExpectedCommaOrBracket, 3),
            (r#"{"a":1 "b":2}"#, ExpectedCommaOrBrace, 7),
            ("01", LeadingZero, 1),
            ("-012", LeadingZero, 2),
            ("1.e5", ExpectedDigit, 2),
            ("1e", UnexpectedEnd, 2),
            ("1e+x", ExpectedDigit, 3),
            ("-x", ExpectedDigit, 1),
            ("1e400", NumberOutOfRange, 0),
            ("[-1e309]", NumberOutOfRange, 1),
            ("\"a\tb\"", ControlCharacter, 2),
            ("\"a\nb\"", ControlCharacter, 2),
            (r#""\x""#, InvalidEscape, 1),
            (r#""\'""#, InvalidEscape, 1),
            (r#""\u12g4""#, InvalidUnicodeEscape, 1),
            (r#""\uDD1E""#, LoneSurrogate, 1),
            (r#""\uD834""#, LoneSurrogate, 1),
            (r#""\uD834x""#, LoneSurrogate, 1),
            (r#""\uD834\u0041""#, LoneSurrogate, 1),
            (r#""\uD834\uD834""#, LoneSurrogate, 1),
            ("{} {}", TrailingCharacters, 3),
            ("1 2", TrailingCharacters, 2),
            ("[]]", TrailingCharacters, 2),
            ("nullx", TrailingCharacters, 4),
            ("0x10", TrailingCharacters, 1),
            ("/* c */ 1", ExpectedValue, 0),
        ];
        for &(text, kind, offset) in cases {
            assert_eq!(parse(text), Err(JsonError { kind, offset }), "{text:?}");
        }
        let too_deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&too_deep), Err(JsonError { kind: TooDeep, offset: MAX_DEPTH }));
        let objects = r#"{"a":"#.repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&objects), Err(JsonError { kind: TooDeep, offset: 5 * MAX_DEPTH }));
    }

    #[test]
    fn errors_read_well() {
        let e = parse(r#"{"buyerName" "x"}"#).unwrap_err();
        assert_eq!(e.to_string(), "expected ':' after a member name at byte 13");
        let e = parse("[1,]").unwrap_err();
        assert!(e.to_string().ends_with("at byte 3"), "{e}");
    }

    #[test]
    fn a_cut_text_is_always_unexpected_end() {
        // Every proper prefix of a valid text fails where it ends.
        let text = r#"{"a":[1,-2.5e+3,true,null,"\u00e9\uD834\uDD1E x"],"b":{}}"#;
        for cut in 0..text.len() {
            if let Some(prefix) = text.get(..cut) {
                let want = JsonError { kind: ErrorKind::UnexpectedEnd, offset: cut };
                assert_eq!(parse(prefix), Err(want), "{prefix}");
            }
        }
        assert!(parse(text).is_ok());
    }

    #[test]
    fn get_finds_the_first_member() {
        let v = parse(r#"{"a":1,"b":"x","a":2}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Num(1.0)));
        assert_eq!(v.get("b").map(Value::kind), Some("a string"));
        assert_eq!(v.get("c"), None);
        assert_eq!(A(vec![]).get("a"), None);
    }
}
