//! Response bodies (RFC 9112 §6-§7), sans-IO: [`BodyReader`] for any
//! framing, [`Dechunk`] for the chunked transfer coding.

use super::http::{error, Body, Error, MAX_LINE};
/// Where [`Dechunk`] is in the grammar of RFC 9112 §7.1:
///
/// ```text
///   chunked-body   = *chunk last-chunk trailer-section CRLF
///   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///   chunk-size     = 1*HEXDIG
///   last-chunk     = 1*("0") [ chunk-ext ] CRLF
///   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
///   trailer-section = *( field-line CRLF )
/// ```
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
    /// In a trailer field line, skipped up to the CR.
    Trailer,
    /// The LF that ends a trailer field line.
    TrailerLf,
    /// The LF of the final CRLF.
    FinalLf,
    /// The body is over.
    Done,
}

/// An incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
/// It keeps a state and a counter, never the bytes.
///
/// Line ends must be CRLF: §2.2 lets a recipient accept a bare LF in the
/// start line and fields, but the chunked grammar says CRLF and a strict
/// client is how a load generator catches a server that gets it wrong.
#[derive(Debug, Clone)]
pub struct Dechunk {
    state: State,
    /// Bytes of the current size or trailer line so far, for [`MAX_LINE`].
    line: usize,
}

impl Default for Dechunk {
    fn default() -> Dechunk {
        Dechunk::new()
    }
}

impl Dechunk {
    pub fn new() -> Dechunk {
        Dechunk { state: State::Size { size: 0, digits: false }, line: 0 }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes as much of `input` as it can, appending chunk data to `out`;
    /// returns the bytes consumed: all of `input`, unless the body ends
    /// inside it, when the bytes after the final CRLF are left to the caller.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, Error> {
        let mut at = 0;
        while let Some(&byte) = input.get(at) {
            match self.state {
                State::Size { size, digits } => {
                    if let Some(digit) = hex(byte) {
                        // §7.1: "Recipients MUST anticipate potentially large
                        // hexadecimal numerals and prevent parsing errors due
                        // to integer conversion overflows".
                        let size = size
                            .checked_mul(16)
                            .map(|s| s | u64::from(digit))
                            .ok_or_else(|| error("chunk size overflows 64 bits"))?;
                        self.state = State::Size { size, digits: true };
                        self.line_byte(1)?;
                        at += 1;
                    } else if !digits {
                        // chunk-size = 1*HEXDIG
                        return Err(error(format!("expected a hex chunk size, found byte {byte:#04x}")));
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
                        _ => return Err(error(format!("unexpected byte {byte:#04x} after the chunk size"))),
                    };
                    self.line_byte(1)?;
                    at += 1;
                }
                State::Ext { size } => {
                    // §7.1.1: "A recipient MUST ignore unrecognized chunk
                    // extensions." Skip to the line end with a slice search.
                    let rest = input.get(at..).unwrap_or_default();
                    match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                        Some(i) => {
                            self.line_byte(i + 1)?;
                            if rest.get(i) == Some(&b'\n') {
                                return Err(error("bare LF in a chunk size line"));
                            }
                            self.state = State::SizeLf { size };
                            at += i + 1;
                        }
                        None => {
                            self.line_byte(rest.len())?;
                            at = input.len();
                        }
                    }
                }
                State::SizeLf { size } => {
                    expect(byte, b'\n', "chunk size line")?;
                    self.line = 0;
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
                    self.state = if byte == b'\r' { State::FinalLf } else { State::Trailer };
                    if byte == b'\r' {
                        at += 1;
                    }
                }
                State::Trailer => {
                    let rest = input.get(at..).unwrap_or_default();
                    match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                        Some(i) => {
                            self.line_byte(i + 1)?;
                            if rest.get(i) == Some(&b'\n') {
                                return Err(error("bare LF in a trailer field line"));
                            }
                            self.state = State::TrailerLf;
                            at += i + 1;
                        }
                        None => {
                            self.line_byte(rest.len())?;
                            at = input.len();
                        }
                    }
                }
                State::TrailerLf => {
                    expect(byte, b'\n', "trailer field line")?;
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
    fn line_byte(&mut self, n: usize) -> Result<(), Error> {
        self.line += n;
        if self.line > MAX_LINE {
            return Err(error(format!("chunk size or trailer line longer than {MAX_LINE} bytes")));
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

fn expect(byte: u8, want: u8, after: &str) -> Result<(), Error> {
    if byte == want {
        Ok(())
    } else {
        let want = if want == b'\r' { "CR" } else { "LF" };
        Err(error(format!("expected {want} ending the {after}, found byte {byte:#04x}")))
    }
}

/// Reads one response body of any framing.
#[derive(Debug, Clone)]
pub struct BodyReader {
    framing: Framing,
}

#[derive(Debug, Clone)]
enum Framing {
    Done,
    Length { left: u64 },
    Chunked(Dechunk),
    UntilClose,
}

impl BodyReader {
    pub fn new(body: Body) -> BodyReader {
        let framing = match body {
            Body::None | Body::Length(0) => Framing::Done,
            Body::Length(left) => Framing::Length { left },
            Body::Chunked => Framing::Chunked(Dechunk::new()),
            Body::UntilClose => Framing::UntilClose,
        };
        BodyReader { framing }
    }

    /// Appends body data to `out`; returns (bytes consumed, body complete).
    /// Bytes after the end of the body are not consumed. An until-close body
    /// never completes: the caller ends it at EOF.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), Error> {
        match &mut self.framing {
            Framing::Done => Ok((0, true)),
            Framing::Length { left } => {
                let take = usize::try_from(*left).map_or(input.len(), |left| left.min(input.len()));
                out.extend_from_slice(input.get(..take).unwrap_or_default());
                *left -= take as u64;
                let done = *left == 0;
                if done {
                    self.framing = Framing::Done;
                }
                Ok((take, done))
            }
            Framing::Chunked(dechunk) => {
                let used = dechunk.feed(input, out)?;
                Ok((used, dechunk.is_done()))
            }
            Framing::UntilClose => {
                out.extend_from_slice(input);
                Ok((input.len(), false))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic example: "Wikipedia in\r\n\r\nchunks." in five chunks.
    const CHUNKED: &[u8] = b"4\r\nWiki\r\n5;name=value\r\npedia\r\nE \t; a=\"b;c\"\r\n in\r\n\r\nchunks.\r\n\
        0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n";
    const DECODED: &[u8] = b"Wikipedia in\r\n\r\nchunks.";

    #[test]
    fn dechunk_whole_then_stops_before_pipelined_bytes() {
        let mut input = CHUNKED.to_vec();
        input.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let (mut d, mut out) = (Dechunk::new(), Vec::new());
        assert_eq!(d.feed(&input, &mut out), Ok(CHUNKED.len()));
        assert!(d.is_done());
        assert_eq!(out, DECODED);
        assert_eq!(d.feed(b"more", &mut out), Ok(0));
    }

    #[test]
    fn dechunk_split_at_every_byte_pair_and_one_byte_at_a_time() {
        for cut in 0..=CHUNKED.len() {
            let (mut d, mut out) = (Dechunk::new(), Vec::new());
            assert_eq!(d.feed(&CHUNKED[..cut], &mut out), Ok(cut), "cut {cut}");
            assert_eq!(d.is_done(), cut == CHUNKED.len());
            assert_eq!(d.feed(&CHUNKED[cut..], &mut out), Ok(CHUNKED.len() - cut), "cut {cut}");
            assert!(d.is_done());
            assert_eq!(out, DECODED, "cut {cut}");
        }
        let (mut d, mut out) = (Dechunk::new(), Vec::new());
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
            let (mut d, mut out) = (Dechunk::new(), Vec::new());
            assert_eq!(d.feed(input, &mut out), Ok(input.len()), "{input:?}");
            assert!(d.is_done(), "{input:?}");
            assert_eq!(out, want, "{input:?}");
        }
        // The largest size parses; the body then just has a long way to go.
        let (mut d, mut out) = (Dechunk::new(), Vec::new());
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
        let (mut d, mut out) = (Dechunk::new(), Vec::new());
        assert_eq!((d.feed(&ok, &mut out), d.is_done()), (Ok(ok.len()), true));

        let long_trailer = [&b"0\r\nX: "[..], &[b'y'; MAX_LINE], b"\r\n\r\n"].concat();
        #[rustfmt::skip]
        let cases: &[(&[u8], &str)] = &[
            (b"\r\n", "expected a hex chunk size, found byte 0x0d"),
            (b";ext\r\n", "expected a hex chunk size, found byte 0x3b"),
            (b"g\r\n", "expected a hex chunk size, found byte 0x67"),
            (b" 1\r\n", "expected a hex chunk size, found byte 0x20"),
            (b"-1\r\n", "expected a hex chunk size, found byte 0x2d"),
            (b"10000000000000000\r\n", "chunk size overflows 64 bits"),
            (b"1x\r\n", "unexpected byte 0x78 after the chunk size"),
            (b"1\n", "unexpected byte 0x0a after the chunk size"),
            (b"1;a\n", "bare LF in a chunk size line"),
            (b"1\r\r", "expected LF ending the chunk size line, found byte 0x0d"),
            (b"1\r\nxy", "expected CR ending the chunk data, found byte 0x79"),
            (b"1\r\nx\n", "expected CR ending the chunk data, found byte 0x0a"),
            (b"1\r\nx\rx", "expected LF ending the chunk data, found byte 0x78"),
            (b"0\r\n\n", "bare LF in a trailer field line"),
            (b"0\r\nA: b\n", "bare LF in a trailer field line"),
            (b"0\r\nA: b\rc", "expected LF ending the trailer field line, found byte 0x63"),
            (b"0\r\n\rx", "expected LF ending the chunked body, found byte 0x78"),
            (&too_long_ext, "chunk size or trailer line longer than 4096 bytes"),
            (&long_trailer, "chunk size or trailer line longer than 4096 bytes"),
        ];
        for &(input, message) in cases {
            let want = Err(Error(message.into()));
            let (mut d, mut out) = (Dechunk::new(), Vec::new());
            assert_eq!(d.feed(input, &mut out), want, "{input:?}");
            // In two pieces: the error surfaces in whichever piece holds the
            // byte that shows it, and the first piece alone is fine.
            for cut in 0..input.len() {
                let (mut d, mut out) = (Dechunk::new(), Vec::new());
                let first = d.feed(&input[..cut], &mut out);
                let got = first.and_then(|_| d.feed(&input[cut..], &mut out));
                assert_eq!(got, want, "{input:?} cut {cut}");
            }
        }
    }

    #[test]
    fn body_reader_by_framing() {
        let mut out = Vec::new();
        for body in [Body::None, Body::Length(0)] {
            assert_eq!(BodyReader::new(body).feed(b"next", &mut out), Ok((0, true)), "{body:?}");
        }
        assert!(out.is_empty());

        let input = b"helloHTTP/1.1";
        for cut in 0..=input.len() {
            let (mut r, mut out) = (BodyReader::new(Body::Length(5)), Vec::new());
            let (a, done_a) = r.feed(&input[..cut], &mut out).unwrap();
            assert_eq!((a, done_a), (cut.min(5), cut >= 5), "cut {cut}");
            let (b, done_b) = r.feed(&input[a..], &mut out).unwrap();
            assert_eq!((a + b, done_b, out.as_slice()), (5, true, &b"hello"[..]), "cut {cut}");
            assert_eq!(r.feed(b"x", &mut out), Ok((0, true)));
        }

        let (mut r, mut out) = (BodyReader::new(Body::Chunked), Vec::new());
        assert_eq!(r.feed(&CHUNKED[..10], &mut out), Ok((10, false)));
        let mut rest = CHUNKED[10..].to_vec();
        rest.extend_from_slice(b"tail");
        assert_eq!(r.feed(&rest, &mut out), Ok((CHUNKED.len() - 10, true)));
        assert_eq!(out, DECODED);
        assert_eq!(
            BodyReader::new(Body::Chunked).feed(b"z\r\n", &mut out),
            Err(Error("expected a hex chunk size, found byte 0x7a".into()))
        );

        let (mut r, mut out) = (BodyReader::new(Body::UntilClose), Vec::new());
        assert_eq!(r.feed(b"abc", &mut out), Ok((3, false)));
        assert_eq!(r.feed(b"", &mut out), Ok((0, false)));
        assert_eq!(r.feed(b"def", &mut out), Ok((3, false)));
        assert_eq!(out, b"abcdef");
    }
}
