//! The static site: files read from the `www` root, with a cache of small
//! files revalidated by modification time and size on every request (one
//! `stat`), and the response each lookup makes. The bytes are shared
//! (`Rc<[u8]>`) by every response that sends them. Besides the driver's
//! sockets and clock, the one place that does I/O; which path may be
//! served, and how, is `http::site`'s (sans-IO) rule.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{MAX_CACHED_FILE, MAX_STATIC_FILE};
use crate::http::request::Request;
use crate::http::response::Response;
use crate::http::site;

/// The cache stops growing past this many bytes in all.
const MAX_CACHE: u64 = 64 * 1024 * 1024;

pub enum Lookup {
    File {
        body: Rc<[u8]>,
        modified: u64,
    },
    /// A directory: the client should ask again with a trailing slash.
    Directory,
    /// Missing, unreadable, or (through a symbolic link) outside the root.
    NotFound,
    TooLarge,
    Failed(io::Error),
}

struct Cached {
    mtime: SystemTime,
    len: u64,
    body: Rc<[u8]>,
}

pub struct Files {
    root: PathBuf,
    cache: HashMap<String, Cached>,
    cached_bytes: u64,
}

impl Files {
    /// `root` must exist; it is resolved once, so links inside it are
    /// judged against where it really is.
    pub fn new(root: &Path) -> io::Result<Files> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Files { root, cache: HashMap::new(), cached_bytes: 0 })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `rel` comes from `site::file_for`: no `..`, no NUL, no leading `/`.
    /// The answer to `req` for the file `rel` (relative to the root, as the
    /// app's router resolved it).
    pub fn respond(&mut self, req: &Request<'_>, rel: &str) -> Response {
        match self.lookup(rel) {
            Lookup::File { body, modified } => site::file_response(req, rel, body, modified),
            // RFC 9110 §15.4.2: a directory asked for without its slash.
            Lookup::Directory => Response::text(301, "moved to the directory's page")
                .header("Location", format!("{}/", req.path)),
            Lookup::NotFound => Response::text(404, "no such file"),
            Lookup::TooLarge => Response::text(500, "the file is too large to serve"),
            Lookup::Failed(e) => {
                log::warn!("reading {rel}: {e}");
                Response::text(503, "the file cannot be read now").header("Retry-After", "1")
            }
        }
    }

    pub fn lookup(&mut self, rel: &str) -> Lookup {
        let path = self.root.join(rel);
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if is_missing(&e) => return Lookup::NotFound,
            Err(e) => return Lookup::Failed(e),
        };
        if meta.is_dir() {
            return Lookup::Directory;
        }
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
        let modified = mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some(hit) = self.cache.get(rel) {
            if hit.mtime == mtime && hit.len == meta.len() {
                return Lookup::File { body: hit.body.clone(), modified };
            }
        }
        // SPEC §4: "never a byte from outside the www root" — a symbolic
        // link may point anywhere, so resolve it and look where it lands.
        match fs::canonicalize(&path) {
            Ok(real) if real.starts_with(&self.root) => {}
            Ok(_) => return Lookup::NotFound,
            Err(e) if is_missing(&e) => return Lookup::NotFound,
            Err(e) => return Lookup::Failed(e),
        }
        if meta.len() > MAX_STATIC_FILE {
            return Lookup::TooLarge;
        }
        let body: Rc<[u8]> = match fs::read(&path) {
            Ok(bytes) => bytes.into(),
            Err(e) if is_missing(&e) => return Lookup::NotFound,
            Err(e) => return Lookup::Failed(e),
        };
        let len = body.len() as u64;
        if len <= MAX_CACHED_FILE {
            if let Some(old) = self.cache.remove(rel) {
                self.cached_bytes -= old.len;
            }
            if self.cached_bytes + len <= MAX_CACHE {
                self.cached_bytes += len;
                self.cache.insert(rel.to_owned(), Cached { mtime, len, body: body.clone() });
            }
        }
        Lookup::File { body, modified }
    }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::PermissionDenied
    )
}
