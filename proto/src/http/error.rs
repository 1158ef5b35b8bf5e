//! Every way a request can be refused, one variant per violated rule, each
//! knowing its status code and the sentence the client reads.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HttpError {
    /// Request line + headers over `--max-head` (SPEC §5).
    HeadTooLarge,
    /// More header lines than the parser has room for.
    TooManyHeaders,
    /// httparse refused the request line or a header line.
    Malformed(&'static str),
    /// RFC 9112 §3.2: HTTP/1.1 without Host, or more than one Host.
    BadHost,
    /// RFC 9112 §3.2: a request-target in none of the four forms.
    BadTarget,
    /// RFC 9112 §6.3: Content-Length that is not one non-negative integer.
    BadContentLength,
    /// RFC 9112 §6.1/§6.3: Transfer-Encoding together with Content-Length.
    LengthAndChunked,
    /// RFC 9112 §6.3: chunked is not the final transfer coding (or appears twice).
    ChunkedNotFinal,
    /// RFC 9112 §6.1: a transfer coding we do not implement.
    UnknownCoding,
    /// RFC 9112 §7.1: a chunked body that breaks the grammar.
    BadChunk,
    /// Body over `--max-body` (SPEC §5).
    BodyTooLarge,
    /// RFC 9110 §10.1.1: an expectation other than 100-continue.
    BadExpect,
    /// httparse only speaks HTTP/1.0 and HTTP/1.1.
    Version,
    /// SPEC §5: the head did not arrive within the header deadline.
    HeaderTimeout,
    /// The request path decodes to something outside the site (`..`, NUL).
    BadPath,
}

impl HttpError {
    pub fn status(self) -> u16 {
        use HttpError::*;
        match self {
            HeadTooLarge | TooManyHeaders => 431,
            BodyTooLarge => 413,
            HeaderTimeout => 408,
            UnknownCoding => 501,
            BadExpect => 417,
            Version => 505,
            Malformed(_) | BadHost | BadTarget | BadContentLength | LengthAndChunked | ChunkedNotFinal
            | BadChunk | BadPath => 400,
        }
    }

    /// The sentence sent as the response body.
    pub fn reason(self) -> &'static str {
        use HttpError::*;
        match self {
            HeadTooLarge => "request line and headers exceed the size limit",
            TooManyHeaders => "too many header fields",
            Malformed(what) => what,
            BadHost => "HTTP/1.1 requests need exactly one Host header",
            BadTarget => "the request-target is not an absolute path",
            BadContentLength => "Content-Length is not a single non-negative integer",
            LengthAndChunked => "Transfer-Encoding and Content-Length together are not allowed",
            ChunkedNotFinal => "chunked must be the final transfer coding, applied once",
            UnknownCoding => "only the chunked transfer coding is implemented",
            BadChunk => "the chunked body is malformed",
            BodyTooLarge => "the request body exceeds the size limit",
            BadExpect => "only the 100-continue expectation is supported",
            Version => "only HTTP/1.0 and HTTP/1.1 are supported",
            HeaderTimeout => "the request head did not arrive in time",
            BadPath => "the path leaves the site root or contains a forbidden byte",
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status(), self.reason())
    }
}

impl std::error::Error for HttpError {}

/// httparse's errors name the token that broke; all of them are a 400 except
/// the two with their own status.
impl From<httparse::Error> for HttpError {
    fn from(e: httparse::Error) -> Self {
        use httparse::Error as E;
        match e {
            E::TooManyHeaders => HttpError::TooManyHeaders,
            E::Version => HttpError::Version,
            E::HeaderName => HttpError::Malformed("invalid header name"),
            E::HeaderValue => HttpError::Malformed("invalid header value"),
            E::NewLine => HttpError::Malformed("malformed line: bad line ending or extra tokens"),
            E::Status | E::Token => HttpError::Malformed("invalid request line"),
        }
    }
}
