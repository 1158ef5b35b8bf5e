//! The rules for serving files from the `www` root, without touching the
//! filesystem (the driver's `files.rs` does the reading): which relative file
//! a request path names, whether the client's copy is still fresh, and the
//! response headers.
//!
//! Never a byte from outside the root: the path is percent-decoded first and
//! then checked segment by segment, so `..`, `%2e%2e` and `%2f` tricks are
//! all seen as what they decode to. Symbolic links that lead outside the
//! root are the driver's check (it knows where links point).

use std::rc::Rc;

use super::date;
use super::error::HttpError;
use super::mime;
use super::request::Request;
use super::response::{Body, Response};
use super::route::percent_decode;

/// The file `raw_path` (a request path, still percent-encoded) names,
/// relative to the root: `Ok(None)` for a path that exists only to hide
/// something (a dot-file such as `.git/config`), answered 404 like a missing
/// file; `Err(BadPath)` for one that tries to leave the root.
pub fn file_for(raw_path: &str) -> Result<Option<String>, HttpError> {
    let decoded = percent_decode(raw_path, false);
    let path = std::str::from_utf8(&decoded).map_err(|_| HttpError::BadPath)?;
    let mut rel = String::with_capacity(path.len() + 10);
    let mut hidden = false;
    for segment in path.split('/') {
        match segment {
            "" | "." => continue,
            // RFC 3986 §3.3: ".." means the parent; here it can only mean
            // an attempt to climb out of the root.
            ".." => return Err(HttpError::BadPath),
            s if s.contains(['\0', '\\']) => return Err(HttpError::BadPath),
            s => hidden |= s.starts_with('.'),
        }
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str(segment);
    }
    if hidden {
        return Ok(None);
    }
    // A directory's page is its index.html.
    if rel.is_empty() || path.ends_with('/') {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
    }
    Ok(Some(rel))
}

/// RFC 9110 §13.1.3: whether the client's copy, dated by If-Modified-Since,
/// is still current. "A recipient MUST ignore If-Modified-Since if the request
/// contains an If-None-Match header field" and "if the field value is not a
/// valid HTTP-date"; we send no entity tags, so If-None-Match can never match.
pub fn is_fresh(req: &Request<'_>, modified: u64) -> bool {
    if req.header("if-none-match").is_some() {
        return false;
    }
    match req.header("if-modified-since").and_then(date::parse) {
        Some(since) => modified <= since,
        None => false,
    }
}

/// The answer for a file: 304 when the client's copy is fresh, else 200
/// with the bytes (shared, not copied). `Cache-Control: no-cache` makes
/// browsers revalidate every time, so an edited page shows at once.
pub fn file_response(req: &Request<'_>, rel: &str, body: Rc<[u8]>, modified: u64) -> Response {
    let mut last_modified = Vec::with_capacity(29);
    date::format(modified, &mut last_modified);
    let last_modified = String::from_utf8_lossy(&last_modified).into_owned();
    let response = if is_fresh(req, modified) {
        Response::empty(304)
    } else {
        Response::new(200, mime::for_path(rel), Body::Shared(body))
    };
    response.header("Last-Modified", last_modified).header("Cache-Control", "no-cache")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::{parse, Parse, Progress};
    use crate::limits::{Limits, MAX_HEADERS};

    #[test]
    fn paths_one_line_each() {
        let cases: &[(&str, Result<Option<&str>, HttpError>)] = &[
            ("/", Ok(Some("index.html"))),
            ("/index.html", Ok(Some("index.html"))),
            ("/sell/list.html", Ok(Some("sell/list.html"))),
            ("/sell/", Ok(Some("sell/index.html"))),
            ("//sell//./list.html", Ok(Some("sell/list.html"))),
            ("/a%20b.html", Ok(Some("a b.html"))),
            ("/%E4%B8%AD.html", Ok(Some("中.html"))),
            ("/..", Err(HttpError::BadPath)),
            ("/../etc/passwd", Err(HttpError::BadPath)),
            ("/sell/../../etc/passwd", Err(HttpError::BadPath)),
            ("/%2e%2e/etc/passwd", Err(HttpError::BadPath)),
            ("/%2E%2E%2Fetc%2Fpasswd", Err(HttpError::BadPath)),
            ("/.%2e/x", Err(HttpError::BadPath)),
            ("/a/%2e%2e%2f%2e%2e%2fetc", Err(HttpError::BadPath)),
            ("/..%5c..%5cwindows", Err(HttpError::BadPath)),
            ("/index.html%00.png", Err(HttpError::BadPath)),
            ("/%FF.html", Err(HttpError::BadPath)),
            ("/.git/config", Ok(None)),
            ("/a/.env", Ok(None)),
            ("/..foo", Ok(None)),
        ];
        for (path, want) in cases {
            assert_eq!(file_for(path).as_ref().map(|o| o.as_deref()), want.as_ref().map(|o| *o), "{path}");
        }
    }

    fn with_request(head: &[u8], check: impl FnOnce(&Request<'_>)) {
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match parse(head, &mut Progress::default(), &Limits::default(), &mut storage) {
            Ok(Parse::Complete(req, _)) => check(&req),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn freshness_by_if_modified_since() {
        let modified = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
        let cases: &[(&str, bool)] = &[
            ("", false),
            ("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", true),
            ("If-Modified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\n", true),
            ("If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", false),
            ("If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", true),
            ("If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", true),
            ("If-Modified-Since: yesterday\r\n", false),
            ("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-None-Match: \"x\"\r\n", false),
        ];
        for (header, fresh) in cases {
            let head = format!("GET / HTTP/1.1\r\nHost: h\r\n{header}\r\n");
            with_request(head.as_bytes(), |req| assert_eq!(is_fresh(req, modified), *fresh, "{header}"));
        }
    }

    #[test]
    fn file_response_200_and_304() {
        let body: Rc<[u8]> = Rc::from(&b"<h1>hi</h1>"[..]);
        with_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", |req| {
            let r = file_response(req, "index.html", body.clone(), 784111777);
            assert_eq!(r.status, 200);
            assert_eq!(r.content_type, Some("text/html; charset=utf-8"));
            assert_eq!(r.body.as_bytes(), b"<h1>hi</h1>");
            assert!(r.headers.contains(&("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT".into())));
        });
        with_request(
            b"GET / HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
            |req| {
                let r = file_response(req, "index.html", body.clone(), 784111777);
                assert_eq!(r.status, 304);
                assert!(r.body.as_bytes().is_empty());
            },
        );
    }
}
