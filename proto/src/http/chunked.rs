//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally and
//! sans-IO, for both ends: the server's request parser (`request.rs`) and
//! the client's response bodies (`client.rs`) feed the same [`Dechunk`].
//!
//! ```text
//!   chunked-body   = *chunk last-chunk trailer-section CRLF
//!   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//!   chunk-size     = 1*HEXDIG
//!   last-chunk     = 1*("0") [ chunk-ext ] CRLF
//!   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//!   trailer-section = *( field-line CRLF )
//! ```
//!
//! Implements: sizes of any number of hex digits up to 64 bits, extensions
//! skipped (§7.1.1), trailer fields read and dropped (§7.1.2; each must
//! have a colon), a cap on the decoded body (checked when a size line
//! announces a chunk, before its data arrives) and on the trailer section.
//!
//! Strict on line ends: every line must end in CRLF. §2.2 lets a recipient
//! accept a bare LF in the start line and fields, but chunked framing is
//! where request smuggling lives, and a strict client is how a load
//! generator catches a server that gets it wrong.
//!
//! Cost: it keeps a state and a few counters, never the bytes: chunk data
//! is appended to the caller's buffer and everything else is skipped, so
//! memory does not depend on how the input was split.

use std::fmt;

/// The longest chunk-size line (size, extensions, CRLF) or trailer field
/// line. §7.1.1: a recipient "ought to limit the total length of chunk
/// extensions received"; a line that never ends is an error, not a wait.
pub const MAX_LINE: usize = 4096;

/// A rule of §7.1 the bytes broke, or a cap they passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// `chunk-size = 1*HEXDIG`: no hex digit where a size starts (the byte).
    ExpectedSize(u8),
    /// §7.1: "Recipients MUST anticipate potentially large hexadecimal
    /// numerals and prevent parsing errors due to integer conversion
    /// overflows": a size past 64 bits.
    SizeOverflow,
    /// After `chunk-size`, neither whitespace, `;` nor CR (the byte).
    AfterSize(u8),
    /// A line that does not end in CRLF: what was expected, where, and the
    /// byte found instead.
    LineEnd { expected: &'static str, ending: &'static str, found: u8 },
    /// A size or trailer line longer than [`MAX_LINE`].
    LineTooLong,
    /// `field-line = field-name ":" OWS field-value OWS`: a trailer line
    /// without a colon.
    TrailerField,
    /// The chunks announce more than the caller's body limit.
    BodyTooLarge,
    /// The trailer section is longer than the caller's limit.
    TrailersTooLarge,
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::ExpectedSize(b) => write!(f, "expected a hex chunk size, found byte {b:#04x}"),
            ChunkError::SizeOverflow => f.write_str("chunk size overflows 64 bits"),
            ChunkError::AfterSize(b) => write!(f, "unexpected byte {b:#04x} after the chunk size"),
            ChunkError::LineEnd { expected, ending, found } => {
                write!(f, "expected {expected} ending the {ending}, found byte {found:#04x}")
            }
            ChunkError::LineTooLong => write!(f, "chunk size or trailer line longer than {MAX_LINE} bytes"),
            ChunkError::TrailerField => f.write_str("a trailer field line without a colon"),
            ChunkError::BodyTooLarge => f.write_str("chunked body longer than the limit"),
            ChunkError::TrailersTooLarge => f.write_str("trailer section longer than the limit"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// Where [`Dechunk`] is in the grammar above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In `chunk-size`; `digits` is false until the first HEXDIG.
    Size { size: u64, digits: bool },
    /// After `chunk-size`: whitespace, then `;` or CR.
    AfterSize { size: u64 },
    /// In `chunk-ext`, skipped up to the CR.
    Ext { size: u64 },
    /// The LF that ends the size line.
    SizeLf { size: u64 },
    /// In `chunk-data`, `left` bytes to go.
    Data { left: u64 },
    /// The CR after `chunk-data`.
    DataCr,
    /// The LF after `chunk-data`.
    DataLf,
    /// At the start of a trailer field line or of the final CRLF.
    TrailerStart,
    /// In a trailer field line, skipped up to the CR; `colon`: seen one.
    Trailer { colon: bool },
    /// The LF that ends a trailer field line.
    TrailerLf,
    /// The LF of the final CRLF.
    FinalLf,
    /// The body is over.
    Done,
}

/// An incremental decoder of the chunked transfer coding: feed it bytes as
/// they come, in pieces of any size; it appends the chunk data to the
/// caller's buffer and says how many bytes it used.
#[derive(Debug, Clone)]
pub struct Dechunk {
    state: State,
    /// Bytes of the current size or trailer line so far, for [`MAX_LINE`].
    line: usize,
    /// Chunk data announced so far, against `max_body`.
    body: u64,
    max_body: u64,
    /// Trailer section bytes so far, against `max_trailers`.
    trailers: usize,
    max_trailers: usize,
}

impl Dechunk {
    /// A decoder that refuses bodies over `max_body` decoded bytes and
    /// trailer sections over `max_trailers` bytes.
    pub fn new(max_body: u64, max_trailers: usize) -> Dechunk {
        Dechunk {
            state: State::Size { size: 0, digits: false },
            line: 0,
            body: 0,
            max_body,
            trailers: 0,
            max_trailers,
        }
    }

    /// The final CRLF has been read: the body is whole.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes as much of `input` as it can, appending chunk data to `out`;
    /// returns the bytes consumed: all of `input`, unless the body ends
    /// inside it, when the bytes after the final CRLF are left to the caller.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ChunkError> {
        let mut at = 0;
        while let Some(&byte) = input.get(at) {
            match self.state {
                State::Size { size, digits } => {
                    if let Some(digit) = hex(byte) {
                        let size = size
                            .checked_mul(16)
                            .map(|s| s | u64::from(digit))
                            .ok_or(ChunkError::SizeOverflow)?;
                        self.state = State::Size { size, digits: true };
                        self.line_bytes(1)?;
                        at += 1;
                    } else if !digits {
                        return Err(ChunkError::ExpectedSize(byte));
                    } else {
                        self.state = State::AfterSize { size };
                    }
                }
                State::AfterSize { size } => {
                    self.state = match byte {
                        // BWS before ";". Trailing whitespace with no
                        // extension is tolerated: it does not change the size.
                        b' ' | b'\t' => State::AfterSize { size },
                        b';' => State::Ext { size },
                        b'\r' => State::SizeLf { size },
                        _ => return Err(ChunkError::AfterSize(byte)),
                    };
                    self.line_bytes(1)?;
                    at += 1;
                }
                State::Ext { size } => {
                    // §7.1.1: "A recipient MUST ignore unrecognized chunk
                    // extensions." Skip to the line end with a slice search.
                    let rest = input.get(at..).unwrap_or_default();
                    match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                        Some(i) => {
                            self.line_bytes(i + 1)?;
                            if rest.get(i) == Some(&b'\n') {
                                return Err(line_end("CR", "chunk size line", b'\n'));
                            }
                            self.state = State::SizeLf { size };
                            at += i + 1;
                        }
                        None => {
                            self.line_bytes(rest.len())?;
                            at = input.len();
                        }
                    }
                }
                State::SizeLf { size } => {
                    expect(byte, b'\n', "chunk size line")?;
                    self.line = 0;
                    // The limit is checked here, before the data arrives.
                    self.body = self.body.saturating_add(size);
                    if self.body > self.max_body {
                        return Err(ChunkError::BodyTooLarge);
                    }
                    self.state = if size == 0 { State::TrailerStart } else { State::Data { left: size } };
                    at += 1;
                }
                State::Data { left } => {
                    let rest = input.get(at..).unwrap_or_default();
                    let take = usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                    out.extend_from_slice(rest.get(..take).unwrap_or_default());
                    let left = left - take as u64;
                    self.state = if left == 0 { State::DataCr } else { State::Data { left } };
                    at += take;
                }
                State::DataCr => {
                    expect(byte, b'\r', "chunk data")?;
                    self.state = State::DataLf;
                    at += 1;
                }
                State::DataLf => {
                    expect(byte, b'\n', "chunk data")?;
                    self.state = State::Size { size: 0, digits: false };
                    at += 1;
                }
                State::TrailerStart => {
                    if byte == b'\r' {
                        self.state = State::FinalLf;
                        at += 1;
                    } else {
                        self.state = State::Trailer { colon: false };
                    }
                }
                State::Trailer { colon } => {
                    // §7.1.2: trailer fields may be discarded; we read past
                    // them, bounded per line and in all.
                    let rest = input.get(at..).unwrap_or_default();
                    match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                        Some(i) => {
                            self.line_bytes(i + 1)?;
                            self.trailer_bytes(i + 1)?;
                            if rest.get(i) == Some(&b'\n') {
                                return Err(line_end("CR", "trailer field line", b'\n'));
                            }
                            if !colon && !rest.get(..i).unwrap_or_default().contains(&b':') {
                                return Err(ChunkError::TrailerField);
                            }
                            self.state = State::TrailerLf;
                            at += i + 1;
                        }
                        None => {
                            self.line_bytes(rest.len())?;
                            self.trailer_bytes(rest.len())?;
                            self.state = State::Trailer { colon: colon || rest.contains(&b':') };
                            at = input.len();
                        }
                    }
                }
                State::TrailerLf => {
                    expect(byte, b'\n', "trailer field line")?;
                    self.trailer_bytes(1)?;
                    self.line = 0;
                    self.state = State::TrailerStart;
                    at += 1;
                }
                State::FinalLf => {
                    expect(byte, b'\n', "chunked body")?;
                    self.state = State::Done;
                    return Ok(at + 1);
                }
                State::Done => return Ok(at),
            }
        }
        Ok(at)
    }

    /// Counts `n` more bytes of the current line against [`MAX_LINE`].
    fn line_bytes(&mut self, n: usize) -> Result<(), ChunkError> {
        self.line += n;
        if self.line > MAX_LINE {
            return Err(ChunkError::LineTooLong);
        }
        Ok(())
    }

    /// Counts `n` more bytes of the trailer section against its cap.
    fn trailer_bytes(&mut self, n: usize) -> Result<(), ChunkError> {
        self.trailers += n;
        if self.trailers > self.max_trailers {
            return Err(ChunkError::TrailersTooLarge);
        }
        Ok(())
    }
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

fn line_end(expected: &'static str, ending: &'static str, found: u8) -> ChunkError {
    ChunkError::LineEnd { expected, ending, found }
}

fn expect(byte: u8, want: u8, ending: &'static str) -> Result<(), ChunkError> {
    if byte == want {
        Ok(())
    } else {
        Err(line_end(if want == b'\r' { "CR" } else { "LF" }, ending, byte))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbounded() -> Dechunk {
        Dechunk::new(u64::MAX, usize::MAX)
    }

    /// The classic example: "Wikipedia in\r\n\r\nchunks." in five chunks.
    const CHUNKED: &[u8] = b"4\r\nWiki\r\n5;name=value\r\npedia\r\nE \t; a=\"b;c\"\r\n in\r\n\r\nchunks.\r\n\
        0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n";
    const DECODED: &[u8] = b"Wikipedia in\r\n\r\nchunks.";

    #[test]
    fn dechunk_whole_then_stops_before_pipelined_bytes() {
        let mut input = CHUNKED.to_vec();
        input.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let (mut d, mut out) = (unbounded(), Vec::new());
        assert_eq!(d.feed(&input, &mut out), Ok(CHUNKED.len()));
        assert!(d.is_done());
        assert_eq!(out, DECODED);
        assert_eq!(d.feed(b"more", &mut out), Ok(0));
    }

    #[test]
    fn dechunk_split_at_every_byte_pair_and_one_byte_at_a_time() {
        for cut in 0..=CHUNKED.len() {
            let (mut d, mut out) = (unbounded(), Vec::new());
            assert_eq!(d.feed(&CHUNKED[..cut], &mut out), Ok(cut), "cut {cut}");
            assert_eq!(d.is_done(), cut == CHUNKED.len());
            assert_eq!(d.feed(&CHUNKED[cut..], &mut out), Ok(CHUNKED.len() - cut), "cut {cut}");
            assert!(d.is_done());
            assert_eq!(out, DECODED, "cut {cut}");
        }
        let (mut d, mut out) = (unbounded(), Vec::new());
        for (i, byte) in CHUNKED.iter().enumerate() {
            assert!(!d.is_done(), "done early at {i}");
            assert_eq!(d.feed(std::slice::from_ref(byte), &mut out), Ok(1));
        }
        assert!(d.is_done());
        assert_eq!(out, DECODED);
    }

    #[test]
    fn dechunk_sizes() {
        #[rustfmt::skip]
        let cases: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"000\r\n\r\n", b""),
            (b"0;last\r\n\r\n", b""),
            (b"a\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"00000000000000000000001\r\nx\r\n0\r\n\r\n", b"x"),
            (b"1 \r\nx\r\n0\r\n\r\n", b"x"),
        ];
        for &(input, want) in cases {
            let (mut d, mut out) = (unbounded(), Vec::new());
            assert_eq!(d.feed(input, &mut out), Ok(input.len()), "{input:?}");
            assert!(d.is_done(), "{input:?}");
            assert_eq!(out, want, "{input:?}");
        }
        // The largest size parses; the body then just has a long way to go.
        let (mut d, mut out) = (unbounded(), Vec::new());
        assert_eq!(d.feed(b"ffffffffffffffff\r\nab", &mut out), Ok(20));
        assert_eq!((out.as_slice(), d.is_done()), (&b"ab"[..], false));
    }

    #[test]
    fn dechunk_errors_whole_and_in_pieces() {
        let long_ext = [&b"1;"[..], &[b'x'; MAX_LINE - 3], b"\r\n"].concat();
        let too_long_ext = [&b"1;"[..], &[b'x'; MAX_LINE - 2], b"\r\n"].concat();
        assert_eq!(long_ext.len(), MAX_LINE + 1);
        let mut ok = long_ext.clone();
        ok.extend_from_slice(b"x\r\n0\r\n\r\n");
        let (mut d, mut out) = (unbounded(), Vec::new());
        assert_eq!((d.feed(&ok, &mut out), d.is_done()), (Ok(ok.len()), true));

        let long_trailer = [&b"0\r\nX: "[..], &[b'y'; MAX_LINE], b"\r\n\r\n"].concat();
        let end = |expected, ending, found| ChunkError::LineEnd { expected, ending, found };
        #[rustfmt::skip]
        let cases: &[(&[u8], ChunkError)] = &[
            (b"\r\n", ChunkError::ExpectedSize(b'\r')),
            (b";ext\r\n", ChunkError::ExpectedSize(b';')),
            (b"g\r\n", ChunkError::ExpectedSize(b'g')),
            (b" 1\r\n", ChunkError::ExpectedSize(b' ')),
            (b"-1\r\n", ChunkError::ExpectedSize(b'-')),
            (b"10000000000000000\r\n", ChunkError::SizeOverflow),
            (b"1x\r\n", ChunkError::AfterSize(b'x')),
            (b"1\n", ChunkError::AfterSize(b'\n')),
            (b"1;a\n", end("CR", "chunk size line", b'\n')),
            (b"1\r\r", end("LF", "chunk size line", b'\r')),
            (b"1\r\nxy", end("CR", "chunk data", b'y')),
            (b"1\r\nx\n", end("CR", "chunk data", b'\n')),
            (b"1\r\nx\rx", end("LF", "chunk data", b'x')),
            (b"0\r\n\n", end("CR", "trailer field line", b'\n')),
            (b"0\r\nA: b\n", end("CR", "trailer field line", b'\n')),
            (b"0\r\nA: b\rc", end("LF", "trailer field line", b'c')),
            (b"0\r\nno colon\r\n", ChunkError::TrailerField),
            (b"0\r\n\rx", end("LF", "chunked body", b'x')),
            (&too_long_ext, ChunkError::LineTooLong),
            (&long_trailer, ChunkError::LineTooLong),
        ];
        for &(input, error) in cases {
            let want = Err(error);
            let (mut d, mut out) = (unbounded(), Vec::new());
            assert_eq!(d.feed(input, &mut out), want, "{input:?}");
            // In two pieces: the error surfaces in whichever piece holds the
            // byte that shows it, and the first piece alone is fine.
            for cut in 0..input.len() {
                let (mut d, mut out) = (unbounded(), Vec::new());
                let first = d.feed(&input[..cut], &mut out);
                let got = first.and_then(|_| d.feed(&input[cut..], &mut out));
                assert_eq!(got, want, "{input:?} cut {cut}");
            }
        }
    }

    #[test]
    fn limits_are_checked_when_announced() {
        // The size line alone is enough to refuse a chunk past the body cap.
        let (mut d, mut out) = (Dechunk::new(9, usize::MAX), Vec::new());
        assert_eq!(d.feed(b"5\r\nhello\r\n", &mut out), Ok(10));
        assert_eq!(d.feed(b"5\r\n", &mut out), Err(ChunkError::BodyTooLarge));
        assert_eq!(out, b"hello");
        let (mut d, mut out) = (Dechunk::new(10, usize::MAX), Vec::new());
        assert_eq!(d.feed(b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", &mut out), Ok(25));
        assert!(d.is_done());
        // The trailer section: "A: b\r\n" is 6 bytes.
        let body = b"0\r\nA: b\r\nC: d\r\n\r\n";
        let mut d = Dechunk::new(0, 12);
        assert_eq!((d.feed(body, &mut out), d.is_done()), (Ok(body.len()), true));
        let mut d = Dechunk::new(0, 11);
        assert_eq!(d.feed(body, &mut out), Err(ChunkError::TrailersTooLarge));
        for cut in 0..body.len() {
            let mut d = Dechunk::new(0, 11);
            let got = d.feed(&body[..cut], &mut out).and_then(|_| d.feed(&body[cut..], &mut out));
            assert_eq!(got, Err(ChunkError::TrailersTooLarge), "cut {cut}");
        }
    }

    #[test]
    fn errors_display() {
        let line_end = ChunkError::LineEnd { expected: "LF", ending: "chunk data", found: b'x' };
        assert_eq!(line_end.to_string(), "expected LF ending the chunk data, found byte 0x78");
        assert_eq!(ChunkError::ExpectedSize(b';').to_string(), "expected a hex chunk size, found byte 0x3b");
        assert_eq!(ChunkError::LineTooLong.to_string(), "chunk size or trailer line longer than 4096 bytes");
    }
}
