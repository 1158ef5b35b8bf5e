//! Request path to file under the www root: nothing may lead outside it.
//!
//! The input (when it is UTF-8) is a raw request path. `file_for` is checked
//! against its own rules, restated here from the decoded path, and
//! `percent_decode` and `query` are exercised on the same text.

#![no_main]

use std::fmt::Write;

use libfuzzer_sys::fuzz_target;
use pushwire_proto::http::route::{percent_decode, query};
use pushwire_proto::http::site::file_for;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let result = file_for(input);

    if let Ok(Some(rel)) = &result {
        assert!(!rel.is_empty(), "empty file name for {input:?}");
        assert!(!rel.starts_with('/'), "absolute file name {rel:?} for {input:?}");
        assert!(!rel.contains(['\0', '\\']), "NUL or backslash in {rel:?} for {input:?}");
        for segment in rel.split('/') {
            assert!(segment != ".." && segment != ".", "segment {segment:?} in {rel:?} for {input:?}");
            assert!(!segment.is_empty(), "empty segment in {rel:?} for {input:?}");
            assert!(!segment.starts_with('.'), "hidden file {rel:?} served for {input:?}");
        }
    }

    // What the path names once decoded, restated independently.
    let decoded = percent_decode(input, false);
    let segments: Vec<&[u8]> = decoded.split(|&b| b == b'/').collect();
    if segments.iter().any(|s| *s == b"..") {
        assert!(
            result.is_err(),
            "{input:?} climbs out of the root (decodes to {decoded:?}) yet gave {result:?}"
        );
    }
    if decoded.contains(&0) || decoded.contains(&b'\\') {
        assert!(result.is_err(), "{input:?} decodes to a NUL or backslash yet gave {result:?}");
    }
    match std::str::from_utf8(&decoded) {
        Err(_) => assert!(result.is_err(), "{input:?} decodes to non-UTF-8 yet gave {result:?}"),
        Ok(path) if result.is_ok() => {
            let kept: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
            let hidden = kept.iter().any(|s| s.starts_with('.'));
            let mut want = kept.join("/");
            if want.is_empty() || path.ends_with('/') {
                if !want.is_empty() {
                    want.push('/');
                }
                want.push_str("index.html");
            }
            let want = (!hidden).then_some(want);
            assert_eq!(result.as_ref().ok(), Some(&want), "{input:?}");
        }
        Ok(_) => {}
    }

    // percent_decode: never longer, untouched without escapes, and the
    // inverse of encoding every byte.
    assert!(decoded.len() <= input.len());
    if !input.contains('%') {
        assert_eq!(&*decoded, input.as_bytes());
    }
    let plus = percent_decode(input, true);
    assert!(plus.len() <= input.len());
    if !input.contains(['%', '+']) {
        assert_eq!(&*plus, input.as_bytes());
    }
    assert_eq!(&*percent_decode(&encode_all(input, true), true), input.as_bytes());
    assert_eq!(&*percent_decode(&encode_all(input, false), false), input.as_bytes());

    // query: the input as a query string, each of its own keys looked up.
    for pair in input.split('&').take(8) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        let name = String::from_utf8_lossy(&percent_decode(key, true)).into_owned();
        assert!(query(input, &name).is_some(), "key {name:?} of {input:?} not found");
    }
});

/// Every byte as `%XX`, in upper- or lower-case hex.
fn encode_all(input: &str, upper: bool) -> String {
    let mut out = String::with_capacity(3 * input.len());
    for b in input.bytes() {
        let _ = if upper { write!(out, "%{b:02X}") } else { write!(out, "%{b:02x}") };
    }
    out
}
