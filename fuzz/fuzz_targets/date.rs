//! HTTP-date (pushwire-proto's wrapper around httpdate): arbitrary bytes never
//! panic it; what `parse` accepts, `format` writes back to the same second;
//! every second from 1970 to the end of 9999 survives format then parse, and
//! later ones clamp to the last second of 9999 (httpdate itself would panic).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_proto::http::date;

/// 10000-01-01T00:00:00Z: the first second a four-digit year cannot show.
const YEAR_10000: u64 = 253_402_300_800;

fn format(t: u64) -> Vec<u8> {
    let mut out = Vec::new();
    date::format(t, &mut out);
    assert_eq!(out.len(), 29, "{t} formats to {:?}", String::from_utf8_lossy(&out));
    out
}

fn round_trip(t: u64) {
    let text = format(t);
    assert_eq!(date::parse(&text), Some(t), "{t} formats to {:?}", String::from_utf8_lossy(&text));
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes as a field value.
    if let Some(t) = date::parse(data) {
        assert!(t < YEAR_10000, "{:?} parsed to {t}", String::from_utf8_lossy(data));
        let text = format(t);
        assert_eq!(
            date::parse(&text),
            Some(t),
            "{:?} parsed to {t}, which formats to {:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&text)
        );
    }

    // The first 8 bytes as a time.
    if let Some((&raw, _)) = data.split_first_chunk::<8>() {
        let t = u64::from_le_bytes(raw);
        if t < YEAR_10000 {
            round_trip(t);
        } else {
            // Clamped to the last second of 9999.
            assert_eq!(format(t), format(YEAR_10000 - 1), "{t}");
            round_trip(t % YEAR_10000);
        }
    }
});
