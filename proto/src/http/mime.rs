//! Content-Type (RFC 9110 §8.3) for the static file server, chosen by file
//! extension.
//!
//! Not implemented, by design: content sniffing (the extension alone decides),
//! charset detection (text files are served as UTF-8), compound extensions
//! (`a.tar.gz` is looked up as `gz`), and stripping query strings or
//! fragments: callers pass the decoded path only, with `/` separators.

/// Sent when the extension is unknown; browsers download rather than render it.
const OCTET_STREAM: &str = "application/octet-stream";

/// Extension (matched case-insensitively) to Content-Type.
///
/// Text types say `charset=utf-8` because that is what we serve, and without
/// it browsers fall back to a locale-dependent legacy encoding for HTML and
/// plain text. Types whose format defines its own encoding get no parameter.
const TYPES: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    // RFC 9239 makes text/javascript the one type for scripts and modules.
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("txt", "text/plain; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    // RFC 7763 makes charset a required parameter of text/markdown.
    ("md", "text/markdown; charset=utf-8"),
    // JSON is UTF-8 by definition and the type has no charset parameter
    // (RFC 8259 §8.1, §11). Source maps are JSON.
    ("json", "application/json"),
    ("map", "application/json"),
    ("webmanifest", "application/manifest+json"),
    // XML declares its own encoding (UTF-8 when it doesn't); a charset
    // parameter would override that declaration (RFC 7303 §3), so none.
    ("xml", "application/xml"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    // Not the IANA-registered image/vnd.microsoft.icon: image/x-icon is the
    // name browsers themselves use (the WHATWG MIME Sniffing signature table
    // maps ICO files to it) and every browser accepts it for favicons.
    ("ico", "image/x-icon"),
    // WebAssembly.instantiateStreaming() rejects responses of any other type.
    ("wasm", "application/wasm"),
    // RFC 8081 font/* types.
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("ogg", "audio/ogg"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("pdf", "application/pdf"),
];

/// The Content-Type for a file path's extension (case-insensitive),
/// "application/octet-stream" when unknown.
///
/// The extension is what follows the last `.` of the last `/`-separated
/// segment. A name whose only dot is its first byte (`.bashrc`) or that has
/// no dot (`Makefile`) has none, and a trailing dot gives an empty one; both
/// are unknown.
#[must_use]
pub fn for_path(path: &str) -> &'static str {
    let name = path.rsplit_once('/').map_or(path, |(_, name)| name);
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext,
        _ => return OCTET_STREAM,
    };
    TYPES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(ext))
        .map_or(OCTET_STREAM, |&(_, content_type)| content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup() {
        let cases: &[(&str, &str)] = &[
            ("index.html", "text/html; charset=utf-8"),
            ("/www/index.htm", "text/html; charset=utf-8"),
            ("/css/site.css", "text/css; charset=utf-8"),
            ("/app.js", "text/javascript; charset=utf-8"),
            ("/app.mjs", "text/javascript; charset=utf-8"),
            ("/data.json", "application/json"),
            ("/app.js.map", "application/json"),
            ("/notes.txt", "text/plain; charset=utf-8"),
            ("/feed.xml", "application/xml"),
            ("/logo.svg", "image/svg+xml"),
            ("/a.png", "image/png"),
            ("/a.jpg", "image/jpeg"),
            ("/a.jpeg", "image/jpeg"),
            ("/a.gif", "image/gif"),
            ("/a.webp", "image/webp"),
            ("/a.avif", "image/avif"),
            ("/favicon.ico", "image/x-icon"),
            ("/m.wasm", "application/wasm"),
            ("/f.woff", "font/woff"),
            ("/f.woff2", "font/woff2"),
            ("/f.ttf", "font/ttf"),
            ("/f.otf", "font/otf"),
            ("/s.mp3", "audio/mpeg"),
            ("/s.wav", "audio/wav"),
            ("/s.ogg", "audio/ogg"),
            ("/v.mp4", "video/mp4"),
            ("/v.webm", "video/webm"),
            ("/doc.pdf", "application/pdf"),
            ("/t.csv", "text/csv; charset=utf-8"),
            ("/README.md", "text/markdown; charset=utf-8"),
            ("/site.webmanifest", "application/manifest+json"),
            ("/INDEX.HTML", "text/html; charset=utf-8"), // upper case
            ("/Photo.JpEg", "image/jpeg"),               // mixed case
            ("/x.WASM", "application/wasm"),             // upper case
            ("/archive.tar.gz", OCTET_STREAM),           // last extension only
            ("/page.html.bak", OCTET_STREAM),            // last extension only
            ("/a.b/c", OCTET_STREAM),                    // dot only in a directory
            ("/a.html/", OCTET_STREAM),                  // empty last segment
            ("/a.b/c.css", "text/css; charset=utf-8"),   // dots in both
            ("/Makefile", OCTET_STREAM),                 // no extension
            ("/.bashrc", OCTET_STREAM),                  // leading dot only
            ("/.html", OCTET_STREAM),                    // hidden file, not an extension
            ("/.well-known/x.json", "application/json"), // hidden directory
            ("/..js", "text/javascript; charset=utf-8"), // stem is "."
            ("/file.", OCTET_STREAM),                    // trailing dot
            ("/file.html.", OCTET_STREAM),               // trailing dot
            ("/file.unknown", OCTET_STREAM),             // unknown extension
            ("/file.htmlx", OCTET_STREAM),               // no prefix match
            ("/file.ht", OCTET_STREAM),                  // no prefix match
            ("/file.js?v=1", OCTET_STREAM),              // query strings are the caller's job
            ("/café.html", "text/html; charset=utf-8"),  // non-ASCII stem
            ("/file.ｈｔｍｌ", OCTET_STREAM),            // full-width letters
            ("index.html", "text/html; charset=utf-8"),  // no directory
            ("", OCTET_STREAM),                          // empty
            ("/", OCTET_STREAM),                         // root
            (".", OCTET_STREAM),                         // dot
            ("..", OCTET_STREAM),                        // dot dot
        ];
        for &(path, want) in cases {
            assert_eq!(for_path(path), want, "{path:?}");
        }
    }

    #[test]
    fn table_is_well_formed() {
        for (i, &(ext, content_type)) in TYPES.iter().enumerate() {
            assert!(!ext.is_empty() && !ext.contains('.'), "{ext}");
            assert_eq!(ext, ext.to_ascii_lowercase(), "{ext}");
            assert!(TYPES[..i].iter().all(|&(e, _)| e != ext), "duplicate {ext}");
            // Every text/* type carries the charset; nothing else does.
            assert_eq!(
                content_type.starts_with("text/"),
                content_type.ends_with("; charset=utf-8"),
                "{content_type}"
            );
        }
    }
}
