use super::*;

/// What a whole byte string is, as UTF-8.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Valid,
    /// Valid so far, but a sequence is left open at the end.
    Incomplete,
    /// The first byte that makes it invalid.
    BadAt(usize),
}
use Verdict::*;

/// The standard library's answer, turned into the position of the first bad
/// byte: `valid_up_to` is where the ill-formed sequence starts; when its lead
/// byte was a possible one, the bad byte is the one after the maximal valid
/// prefix (`error_len` bytes long), else the lead byte itself.
fn std_verdict(bytes: &[u8]) -> Verdict {
    match std::str::from_utf8(bytes) {
        Ok(_) => Valid,
        Err(e) => match e.error_len() {
            None => Incomplete,
            Some(n) => {
                let v = e.valid_up_to();
                let lead_ok = matches!(bytes[v], 0xc2..=0xf4);
                BadAt(if lead_ok { v + n } else { v })
            }
        },
    }
}

/// Feeds `bytes` in pieces ending at `cuts` (then the rest) and reports
/// what the validator says.
fn fed_verdict(bytes: &[u8], cuts: &[usize]) -> Verdict {
    let mut v = Utf8Validator::default();
    let mut start = 0;
    for &end in cuts.iter().chain([bytes.len()].iter()) {
        let end = end.clamp(start, bytes.len());
        if let Err(e) = v.feed(&bytes[start..end]) {
            return BadAt(start + e.at);
        }
        start = end;
    }
    if v.is_complete() {
        Valid
    } else {
        Incomplete
    }
}

/// Whole, byte by byte, and cut in two at every offset: always `want`.
fn check(bytes: &[u8], want: Verdict) {
    assert_eq!(fed_verdict(bytes, &[]), want, "whole {bytes:02x?}");
    let every: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(fed_verdict(bytes, &every), want, "byte by byte {bytes:02x?}");
    for cut in 0..=bytes.len() {
        assert_eq!(fed_verdict(bytes, &[cut]), want, "cut at {cut} {bytes:02x?}");
    }
    assert_eq!(std_verdict(bytes), want, "std disagrees on {bytes:02x?}");
}

/// Table 3-7, one row per line: the allowed range of each byte.
const TABLE_3_7: &[&[(u8, u8)]] = &[
    &[(0x00, 0x7f)],
    &[(0xc2, 0xdf), (0x80, 0xbf)],
    &[(0xe0, 0xe0), (0xa0, 0xbf), (0x80, 0xbf)],
    &[(0xe1, 0xec), (0x80, 0xbf), (0x80, 0xbf)],
    &[(0xed, 0xed), (0x80, 0x9f), (0x80, 0xbf)],
    &[(0xee, 0xef), (0x80, 0xbf), (0x80, 0xbf)],
    &[(0xf0, 0xf0), (0x90, 0xbf), (0x80, 0xbf), (0x80, 0xbf)],
    &[(0xf1, 0xf3), (0x80, 0xbf), (0x80, 0xbf), (0x80, 0xbf)],
    &[(0xf4, 0xf4), (0x80, 0x8f), (0x80, 0xbf), (0x80, 0xbf)],
];

#[test]
fn table_3_7_boundaries_inside_are_valid() {
    for row in TABLE_3_7 {
        // Every combination of each byte's low and high bound.
        for pick in 0..(1u32 << row.len()) {
            let seq: Vec<u8> = row
                .iter()
                .enumerate()
                .map(|(k, &(lo, hi))| if pick >> k & 1 == 0 { lo } else { hi })
                .collect();
            check(&seq, Valid);
            // Every proper prefix leaves a sequence open.
            for len in 1..seq.len() {
                check(&seq[..len], Incomplete);
            }
        }
    }
}

#[test]
fn table_3_7_boundaries_outside_fail_at_that_byte() {
    for row in TABLE_3_7 {
        // Each byte after the first just outside its range; the others at
        // their low bound.
        for (k, &(lo, hi)) in row.iter().enumerate().skip(1) {
            for bad in [lo.wrapping_sub(1), hi.wrapping_add(1)] {
                let mut seq: Vec<u8> = row.iter().map(|&(lo, _)| lo).collect();
                seq[k] = bad;
                check(&seq, BadAt(k));
            }
        }
    }
}

#[test]
fn impossible_lead_bytes_fail_at_once() {
    for lead in (0x80..=0xc1).chain(0xf5..=0xff) {
        check(&[lead], BadAt(0));
        check(&[b'a', lead, b'b'], BadAt(1));
    }
}

#[test]
fn second_byte_rules_from_the_brief() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"\xc0\x80", BadAt(0)),         // overlong NUL
        (b"\xc1\xbf", BadAt(0)),         // overlong U+007F
        (b"\xe0\x9f\xbf", BadAt(1)),     // overlong U+07FF
        (b"\xe0\xa0\x80", Valid),        // U+0800
        (b"\xed\x9f\xbf", Valid),        // U+D7FF
        (b"\xed\xa0\x80", BadAt(1)),     // U+D800, a surrogate
        (b"\xed\xbf\xbf", BadAt(1)),     // U+DFFF
        (b"\xf0\x8f\xbf\xbf", BadAt(1)), // overlong U+FFFF
        (b"\xf0\x90\x80\x80", Valid),    // U+10000
        (b"\xf4\x8f\xbf\xbf", Valid),    // U+10FFFF
        (b"\xf4\x90\x80\x80", BadAt(1)), // U+110000
        (b"\xf5\x80\x80\x80", BadAt(0)),
        (b"\xff", BadAt(0)),
    ];
    for &(bytes, want) in cases {
        check(bytes, want);
    }
}

/// The byte strings of Autobahn|Testsuite cases 6.x (case6_x_x.py), with the
/// position each must fail at.
#[test]
fn autobahn_6_x_sequences() {
    let cases: &[(&[u8], Verdict)] = &[
        // 6.2, 6.5, 6.6: "κόσμε" whole and cut short at every byte.
        (b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", Valid),
        (b"\xce\xba\xe1\xbd", Incomplete),
        // 6.3: "κόσμε" + U+D800 + "edited".
        (b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", BadAt(12)),
        // 6.7: first possible sequence of each length.
        (b"\x00", Valid),
        (b"\xc2\x80", Valid),
        (b"\xe0\xa0\x80", Valid),
        (b"\xf0\x90\x80\x80", Valid),
        // 6.8: five- and six-byte forms.
        (b"\xf8\x88\x80\x80\x80", BadAt(0)),
        (b"\xfc\x84\x80\x80\x80\x80", BadAt(0)),
        // 6.9: last possible sequence of each length.
        (b"\x7f", Valid),
        (b"\xdf\xbf", Valid),
        (b"\xef\xbf\xbf", Valid),
        (b"\xf4\x8f\xbf\xbf", Valid),
        // 6.10: last possible of the old longer forms.
        (b"\xf7\xbf\xbf\xbf", BadAt(0)),
        (b"\xfb\xbf\xbf\xbf\xbf", BadAt(0)),
        (b"\xfd\xbf\xbf\xbf\xbf\xbf", BadAt(0)),
        // 6.11: other boundaries.
        (b"\xed\x9f\xbf", Valid),
        (b"\xee\x80\x80", Valid),
        (b"\xef\xbf\xbd", Valid),
        (b"\xf4\x90\x80\x80", BadAt(1)),
        // 6.12: unexpected continuation bytes.
        (b"\x80", BadAt(0)),
        (b"\xbf", BadAt(0)),
        (b"\x80\xbf", BadAt(0)),
        (b"\x80\xbf\x80\xbf", BadAt(0)),
        // 6.13: lonely start bytes followed by a space.
        (b"\xc0\x20", BadAt(0)),
        (b"\xdf\x20", BadAt(1)),
        (b"\xe0\x20", BadAt(1)),
        (b"\xef\x20", BadAt(1)),
        (b"\xf0\x20", BadAt(1)),
        (b"\xf7\x20", BadAt(0)),
        (b"\xf8\x20", BadAt(0)),
        (b"\xfc\x20", BadAt(0)),
        // 6.14: sequences with the last continuation byte missing, in the
        // middle of a message (something follows) and at its end.
        (b"\xe0\x80", BadAt(1)),
        (b"\xf0\x80\x80", BadAt(1)),
        (b"\xdf", Incomplete),
        (b"\xef\xbf", Incomplete),
        (b"\xf4\x8f\xbf", Incomplete),
        (b"\xdfa", BadAt(1)),
        (b"\xef\xbfa", BadAt(2)),
        // 6.15: concatenated incomplete sequences.
        (b"\xc0\xe0\x80\xf0\x80\x80", BadAt(0)),
        // 6.16: impossible bytes.
        (b"\xfe", BadAt(0)),
        (b"\xff", BadAt(0)),
        (b"\xfe\xfe\xff\xff", BadAt(0)),
        // 6.17: overlong ASCII '/'.
        (b"\xc0\xaf", BadAt(0)),
        (b"\xe0\x80\xaf", BadAt(1)),
        (b"\xf0\x80\x80\xaf", BadAt(1)),
        (b"\xf8\x80\x80\x80\xaf", BadAt(0)),
        (b"\xfc\x80\x80\x80\x80\xaf", BadAt(0)),
        // 6.18: maximum overlong sequences.
        (b"\xc1\xbf", BadAt(0)),
        (b"\xe0\x9f\xbf", BadAt(1)),
        (b"\xf0\x8f\xbf\xbf", BadAt(1)),
        // 6.19: overlong NUL.
        (b"\xc0\x80", BadAt(0)),
        (b"\xe0\x80\x80", BadAt(1)),
        (b"\xf0\x80\x80\x80", BadAt(1)),
        // 6.20: single UTF-16 surrogates.
        (b"\xed\xa0\x80", BadAt(1)),
        (b"\xed\xad\xbf", BadAt(1)),
        (b"\xed\xae\x80", BadAt(1)),
        (b"\xed\xaf\xbf", BadAt(1)),
        (b"\xed\xb0\x80", BadAt(1)),
        (b"\xed\xbe\x80", BadAt(1)),
        (b"\xed\xbf\xbf", BadAt(1)),
        // 6.21: paired UTF-16 surrogates.
        (b"\xed\xa0\x80\xed\xb0\x80", BadAt(1)),
        (b"\xed\xaf\xbf\xed\xbf\xbf", BadAt(1)),
        // 6.22: noncharacters are valid UTF-8.
        (b"\xef\xbf\xbe", Valid),
        (b"\xef\xbf\xbf", Valid),
        (b"\xf0\x9f\xbf\xbe", Valid),
        (b"\xf4\x8f\xbf\xbe", Valid),
        // 6.23: U+FFFD and a text around it.
        (b"\xef\xbf\xbd", Valid),
        (b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", Valid),
    ];
    for &(bytes, want) in cases {
        check(bytes, want);
    }
}

/// Marsaglia's xorshift64: enough randomness for tests, no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Mostly well-formed text (so that errors land anywhere, not only at byte
/// 0), with random bytes mixed in.
fn random_bytes(rng: &mut XorShift) -> Vec<u8> {
    let tokens = rng.below(24);
    let mut out = Vec::new();
    for _ in 0..tokens {
        match rng.below(10) {
            0 => out.push(rng.next() as u8),
            1 => out.push(0x80 | (rng.next() as u8 & 0x3f)),
            2 => out.push([0xc0, 0xc1, 0xe0, 0xed, 0xf0, 0xf4, 0xf5][rng.below(7)]),
            _ => {
                let c = loop {
                    let limit = [0x80, 0x800, 0x10000, 0x110000][rng.below(4)];
                    if let Some(c) = char::from_u32(rng.below(limit) as u32) {
                        break c;
                    }
                };
                let mut buf = [0; 4];
                let encoded = c.encode_utf8(&mut buf).as_bytes();
                // Sometimes cut the character short.
                let keep = if rng.below(8) == 0 { rng.below(encoded.len()) } else { encoded.len() };
                out.extend_from_slice(&encoded[..keep]);
            }
        }
    }
    out
}

#[test]
fn agrees_with_std_on_random_input_in_random_pieces() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut seen = [0usize; 3];
    for _ in 0..50_000 {
        let bytes = random_bytes(&mut rng);
        let want = std_verdict(&bytes);
        seen[match want {
            Valid => 0,
            Incomplete => 1,
            BadAt(_) => 2,
        }] += 1;
        let mut cuts: Vec<usize> = (0..rng.below(5)).map(|_| rng.below(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        assert_eq!(fed_verdict(&bytes, &cuts), want, "{bytes:02x?} cut at {cuts:?}");
    }
    // The generator reaches all three outcomes often.
    assert!(seen.iter().all(|&n| n > 500), "{seen:?}");
}

#[test]
fn long_ascii_and_multibyte_runs() {
    let text = "ascii run ".repeat(100) + &"\u{3ba}\u{1f79}\u{3c3}\u{3bc}\u{3b5} \u{1f389}".repeat(100);
    check(text.as_bytes(), Valid);
    let mut bad = text.clone().into_bytes();
    bad[1500] = 0xff;
    assert_eq!(fed_verdict(&bad, &[700, 1499, 1501]), BadAt(1500));
}
