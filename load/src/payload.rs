//! The bytes of a load message: a sequence number and a send time that the
//! receiver reads back, padded to the requested size with ASCII so that the
//! same bytes are a valid WebSocket text frame and a valid SSE `data:` line.
//!
//! ```text
//! 00000000000000a7 18812f0c3b2d4e00 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
//! └ seq (16 hex) ┘ └ unix ns (16 hex) ┘└ padding to --size ────────┘
//! ```

/// The shortest message that carries both numbers.
pub const MIN_SIZE: usize = 34;

/// Appends a message of `size` bytes (at least [`MIN_SIZE`]).
pub fn write(seq: u64, sent_ns: u64, size: usize, out: &mut Vec<u8>) {
    push_hex(seq, out);
    out.push(b' ');
    push_hex(sent_ns, out);
    out.push(b' ');
    // Padding varies with the sequence number so that a server that mixed
    // up two messages of equal length is caught by a byte compare.
    let fill = b'a' + (seq % 26) as u8;
    out.resize(out.len() + size.saturating_sub(MIN_SIZE), fill);
}

/// Reads (seq, sent_ns) back, or `None` when the bytes are not a message.
pub fn read(bytes: &[u8]) -> Option<(u64, u64)> {
    let seq = parse_hex(bytes.get(..16)?)?;
    let sent = parse_hex(bytes.get(17..33)?)?;
    (bytes.get(16) == Some(&b' ') && bytes.get(33) == Some(&b' ')).then_some((seq, sent))
}

/// Whether `bytes` are exactly the message `write(seq, sent_ns, size)`
/// would produce: the whole echo is checked, not only its header. No
/// allocation: this runs once per echo.
pub fn matches(bytes: &[u8], seq: u64, sent_ns: u64, size: usize) -> bool {
    let fill = b'a' + (seq % 26) as u8;
    bytes.len() == size.max(MIN_SIZE)
        && read(bytes) == Some((seq, sent_ns))
        && bytes[MIN_SIZE..].iter().all(|&b| b == fill)
        && is_hex(&bytes[..16])
        && is_hex(&bytes[17..33])
}

/// Lowercase only, as [`write`] makes them (`read` also takes uppercase).
fn is_hex(digits: &[u8]) -> bool {
    digits.iter().all(|d| matches!(d, b'0'..=b'9' | b'a'..=b'f'))
}

fn push_hex(n: u64, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(DIGITS[(n >> (shift * 4)) as usize & 0xf]);
    }
}

fn parse_hex(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &d| {
        let v = (d as char).to_digit(16)?;
        Some(n << 4 | u64::from(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fixed_and_readable() {
        let mut out = Vec::new();
        write(0xa7, 0x1881_2f0c_3b2d_4e00, 40, &mut out);
        assert_eq!(out, b"00000000000000a7 18812f0c3b2d4e00 llllll");
        assert_eq!(read(&out), Some((0xa7, 0x1881_2f0c_3b2d_4e00)));
        assert!(matches(&out, 0xa7, 0x1881_2f0c_3b2d_4e00, 40));
        assert!(!matches(&out, 0xa8, 0x1881_2f0c_3b2d_4e00, 40));
        assert!(!matches(&out[..39], 0xa7, 0x1881_2f0c_3b2d_4e00, 40));
        let mut wrong_fill = out.clone();
        wrong_fill[39] = b'm';
        assert!(!matches(&wrong_fill, 0xa7, 0x1881_2f0c_3b2d_4e00, 40));
        let upper = out.to_ascii_uppercase();
        assert!(!matches(&upper, 0xa7, 0x1881_2f0c_3b2d_4e00, 40));
    }

    #[test]
    fn short_sizes_still_carry_both_numbers() {
        let mut out = Vec::new();
        write(u64::MAX, 0, 8, &mut out);
        assert_eq!(out.len(), MIN_SIZE);
        assert_eq!(read(&out), Some((u64::MAX, 0)));
    }

    #[test]
    fn foreign_bytes_are_not_messages() {
        for bad in [
            &b""[..],
            b"Hello, World!",
            b"00000000000000a7-18812f0c3b2d4e00 ",
            b"0000000000000g00 0000000000000000 ",
        ] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
    }
}
