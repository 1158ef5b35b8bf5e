//! Incremental UTF-8 validation that fails fast (RFC 6455 §8.1, §5.6).
//!
//! §5.6: "Note that a particular text frame might include a partial UTF-8
//! sequence; however, the whole message MUST contain valid UTF-8." §8.1:
//! "When an endpoint is to interpret a byte stream as UTF-8 but finds that
//! the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
//! _Fail the WebSocket Connection_." Autobahn cases 6.x ask for the failure
//! at the first byte that makes the stream invalid, even mid-message and
//! mid-frame ("fail fast"), so the validator keeps the state of an open
//! sequence between calls and rejects a byte as soon as no valid stream can
//! continue with it.
//!
//! The rule is the Unicode Standard's Table 3-7, "Well-Formed UTF-8 Byte
//! Sequences":
//!
//! ```text
//!   Code Points          First   Second  Third   Fourth
//!   U+0000..U+007F       00..7F
//!   U+0080..U+07FF       C2..DF  80..BF
//!   U+0800..U+0FFF       E0      A0..BF  80..BF
//!   U+1000..U+CFFF       E1..EC  80..BF  80..BF
//!   U+D000..U+D7FF       ED      80..9F  80..BF
//!   U+E000..U+FFFF       EE..EF  80..BF  80..BF
//!   U+10000..U+3FFFF     F0      90..BF  80..BF  80..BF
//!   U+40000..U+FFFFF     F1..F3  80..BF  80..BF  80..BF
//!   U+100000..U+10FFFF   F4      80..8F  80..BF  80..BF
//! ```
//!
//! The narrowed second-byte ranges are what reject overlong forms (E0, F0),
//! surrogates (ED) and code points over U+10FFFF (F4) at the second byte.
//!
//! Speed: between sequences, `std::str::from_utf8` checks the rest of the
//! input (it skips ASCII a word at a time); the byte-wise state machine only
//! runs for the sequence left open at the end of one call and finished at
//! the start of the next, and for the few bytes around an error.

/// Where validation failed: the index, in the bytes of that `feed` call, of
/// the first byte that no valid UTF-8 stream could contain at that point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InvalidByte {
    pub at: usize,
}

/// The state between two calls: how many continuation bytes the open
/// sequence still needs, and the range the next one must fall in.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Utf8Validator {
    need: u8,
    lo: u8,
    hi: u8,
}

impl Utf8Validator {
    /// Validates the next bytes of the stream. After an error the validator
    /// is spent: start a new one (`Utf8Validator::default()`) for new input.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), InvalidByte> {
        let mut i = 0;
        while let Some(&byte) = bytes.get(i) {
            if self.need == 0 {
                // At a boundary: let the standard library take the rest.
                let rest = bytes.get(i..).unwrap_or_default();
                match std::str::from_utf8(rest) {
                    Ok(_) => return Ok(()),
                    // Resume byte by byte at the first sequence it refused
                    // or found cut short.
                    Err(e) => i += e.valid_up_to(),
                }
                let Some(&lead) = bytes.get(i) else { return Ok(()) };
                self.start(lead).ok_or(InvalidByte { at: i })?;
            } else {
                self.next(byte).ok_or(InvalidByte { at: i })?;
            }
            i += 1;
        }
        Ok(())
    }

    /// Whether the bytes so far end on a sequence boundary (a text message
    /// must; RFC 6455 §5.6).
    pub fn is_complete(&self) -> bool {
        self.need == 0
    }

    /// A byte at a sequence boundary: the first column of Table 3-7.
    fn start(&mut self, lead: u8) -> Option<()> {
        let (need, lo, hi) = match lead {
            0x00..=0x7f => return Some(()),
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
            0xed => (2, 0x80, 0x9f),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            // 80..BF (a continuation with nothing to continue), C0..C1
            // (overlong two-byte forms), F5..FF (beyond U+10FFFF or never
            // UTF-8 at all).
            _ => return None,
        };
        *self = Utf8Validator { need, lo, hi };
        Some(())
    }

    /// A continuation byte: the later columns of Table 3-7.
    fn next(&mut self, byte: u8) -> Option<()> {
        if !(self.lo..=self.hi).contains(&byte) {
            return None;
        }
        *self = Utf8Validator { need: self.need - 1, lo: 0x80, hi: 0xbf };
        Some(())
    }
}

#[cfg(test)]
#[path = "utf8_tests.rs"]
mod tests;
