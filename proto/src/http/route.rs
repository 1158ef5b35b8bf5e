//! Routing: a request's method and path to the handler that answers it.
//!
//! Patterns are literal segments, `{name}` (one segment) and a final
//! `{*name}` (the rest of the path). Parameters are handed out still
//! percent-encoded and decoded on request, so a `%2F` inside a segment stays
//! inside it. Routes are tried in order, so a catch-all goes last. When the
//! path matches but the method does not, the answer is 405 with the methods
//! that would have matched (RFC 9110 §15.5.6: the server "MUST generate an
//! Allow header field").

use std::borrow::Cow;

use super::request::Method;

/// A set of methods.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Methods(u8);

impl Methods {
    pub const GET: Methods = Methods(1);
    pub const POST: Methods = Methods(1 << 2);
    pub const PUT: Methods = Methods(1 << 3);
    pub const DELETE: Methods = Methods(1 << 4);
    pub const PATCH: Methods = Methods(1 << 5);
    const HEAD: Methods = Methods(1 << 1);
    const OPTIONS: Methods = Methods(1 << 6);

    pub const fn or(self, other: Methods) -> Methods {
        Methods(self.0 | other.0)
    }

    /// RFC 9110 §9.3.2: HEAD is GET without content, so a route that
    /// answers GET answers HEAD; RFC 9110 §9.3.7: every resource answers
    /// OPTIONS with what it allows.
    pub fn allows(self, method: Method) -> bool {
        let bit = match method {
            Method::Get => Methods::GET,
            Method::Head => Methods::GET,
            Method::Post => Methods::POST,
            Method::Put => Methods::PUT,
            Method::Delete => Methods::DELETE,
            Method::Patch => Methods::PATCH,
            Method::Options | Method::Other => return false,
        };
        self.0 & bit.0 != 0
    }

    /// The value of an Allow header field.
    pub fn allow_header(self) -> String {
        let mut all = self;
        if all.0 & Methods::GET.0 != 0 {
            all = all.or(Methods::HEAD);
        }
        all = all.or(Methods::OPTIONS);
        let names = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
        let list: Vec<&str> =
            names.iter().enumerate().filter(|(i, _)| all.0 & (1 << i) != 0).map(|(_, n)| *n).collect();
        list.join(", ")
    }
}

#[derive(Debug)]
enum Segment {
    Literal(&'static str),
    Param(&'static str),
    Rest(&'static str),
}

#[derive(Debug)]
struct Route<T> {
    methods: Methods,
    segments: Vec<Segment>,
    value: T,
}

/// Path parameters of a match, borrowed from the request path.
#[derive(Debug, Default, PartialEq)]
pub struct Params<'p> {
    pairs: Vec<(&'static str, &'p str)>,
}

impl<'p> Params<'p> {
    /// The raw (still percent-encoded) value.
    pub fn raw(&self, name: &str) -> Option<&'p str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The percent-decoded value; invalid UTF-8 becomes U+FFFD.
    pub fn get(&self, name: &str) -> Option<Cow<'p, str>> {
        self.raw(name).map(|v| lossy(percent_decode(v, false)))
    }
}

#[derive(Debug, PartialEq)]
pub enum Found<'r, 'p, T> {
    Route(&'r T, Params<'p>),
    /// The path exists but not for this method; the methods it has.
    MethodNotAllowed(Methods),
    /// OPTIONS on a path that exists: the methods it has.
    Options(Methods),
    NotFound,
}

pub struct Router<T> {
    routes: Vec<Route<T>>,
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Router { routes: Vec::new() }
    }
}

impl<T> Router<T> {
    /// Adds a route. Patterns are written by us, not peers: a malformed one
    /// is a programming error caught by the first test that builds the app.
    pub fn add(&mut self, methods: Methods, pattern: &'static str, value: T) -> &mut Self {
        assert!(pattern.starts_with('/'), "route pattern must start with '/': {pattern}");
        let parts: Vec<&'static str> = pattern[1..].split('/').collect();
        let segments = parts
            .iter()
            .enumerate()
            .map(|(i, part)| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => match name.strip_prefix('*') {
                    Some(rest) => {
                        assert!(i + 1 == parts.len(), "{{*{rest}}} must be last in {pattern}");
                        Segment::Rest(rest)
                    }
                    None => Segment::Param(name),
                },
                None => Segment::Literal(part),
            })
            .collect();
        self.routes.push(Route { methods, segments, value });
        self
    }

    /// `path` is the raw path of the request-target (starts with `/`).
    ///
    /// A catch-all (`{*name}`) answers only paths no specific route knows:
    /// `GET` on a POST-only route is 405, not a file lookup.
    pub fn find<'r, 'p>(&'r self, method: Method, path: &'p str) -> Found<'r, 'p, T> {
        let mut allowed = Methods::default();
        for route in &self.routes {
            let Some(params) = matches(&route.segments, path) else { continue };
            let catch_all = matches!(route.segments.last(), Some(Segment::Rest(_)));
            if catch_all && allowed != Methods::default() {
                break;
            }
            if method != Method::Options && route.methods.allows(method) {
                return Found::Route(&route.value, params);
            }
            allowed = allowed.or(route.methods);
        }
        match (allowed == Methods::default(), method) {
            (true, _) => Found::NotFound,
            (false, Method::Options) => Found::Options(allowed),
            (false, _) => Found::MethodNotAllowed(allowed),
        }
    }
}

fn matches<'p>(segments: &[Segment], path: &'p str) -> Option<Params<'p>> {
    let mut rest = path.strip_prefix('/')?;
    let mut params = Params::default();
    for (i, segment) in segments.iter().enumerate() {
        if let Segment::Rest(name) = segment {
            params.pairs.push((name, rest));
            return Some(params);
        }
        let (part, tail) = match rest.split_once('/') {
            Some((part, tail)) => (part, Some(tail)),
            None => (rest, None),
        };
        match segment {
            Segment::Literal(lit) if *lit == part => {}
            Segment::Param(name) if !part.is_empty() => params.pairs.push((name, part)),
            _ => return None,
        }
        match tail {
            Some(tail) => rest = tail,
            None => return (i + 1 == segments.len()).then_some(params),
        }
    }
    None
}

/// Decodes `%XX` escapes (RFC 3986 §2.1); with `plus_as_space`, `+` is a
/// space as in `application/x-www-form-urlencoded` query strings. A `%` not
/// followed by two hex digits is kept as it is (browsers send it that way).
pub fn percent_decode(s: &str, plus_as_space: bool) -> Cow<'_, [u8]> {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || (plus_as_space && b == b'+')) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) if plus_as_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

fn lossy(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
    }
}

/// The first value of `name` in a query string (`a=1&b=x+y`), decoded.
pub fn query<'q>(query: &'q str, name: &str) -> Option<Cow<'q, str>> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (lossy(percent_decode(key, true)) == name).then(|| lossy(percent_decode(value, true)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router<&'static str> {
        let mut r = Router::default();
        r.add(Methods::GET, "/plaintext", "plaintext")
            .add(Methods::GET.or(Methods::POST), "/topics/{name}", "topic")
            .add(Methods::POST, "/socket/{id}/send", "send")
            .add(Methods::GET, "/sse/closeConn/{clientId}", "close")
            .add(Methods::GET, "/{*path}", "static");
        r
    }

    fn hit(method: Method, path: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
        match router().find(method, path) {
            Found::Route(v, p) => Some((*v, p.pairs.iter().map(|(n, v)| (*n, v.to_string())).collect())),
            _ => None,
        }
    }

    #[test]
    fn routes_one_line_each() {
        type Case = (Method, &'static str, &'static str, &'static [(&'static str, &'static str)]);
        let cases: &[Case] = &[
            (Method::Get, "/plaintext", "plaintext", &[]),
            (Method::Head, "/plaintext", "plaintext", &[]),
            (Method::Get, "/topics/news", "topic", &[("name", "news")]),
            (Method::Post, "/topics/a,b", "topic", &[("name", "a,b")]),
            (Method::Post, "/socket/42/send", "send", &[("id", "42")]),
            (Method::Get, "/sse/closeConn/%E5%AE%A2", "close", &[("clientId", "%E5%AE%A2")]),
            (Method::Get, "/", "static", &[("path", "")]),
            (Method::Get, "/plaintext/", "static", &[("path", "plaintext/")]),
            (Method::Get, "/topics/", "static", &[("path", "topics/")]),
            (Method::Get, "/topics/a/b", "static", &[("path", "topics/a/b")]),
            (Method::Get, "/sell/list.html", "static", &[("path", "sell/list.html")]),
        ];
        for (method, path, want, params) in cases {
            let (got, got_params) = hit(*method, path).unwrap_or_else(|| panic!("{path}: no route"));
            assert_eq!(got, *want, "{path}");
            let params: Vec<(&str, String)> = params.iter().map(|(n, v)| (*n, v.to_string())).collect();
            assert_eq!(got_params, params, "{path}");
        }
    }

    #[test]
    fn a_catch_all_does_not_answer_a_known_path() {
        let r = router();
        // /socket/{id}/send is POST only; GET must not fall to the files.
        assert_eq!(r.find(Method::Get, "/socket/1/send"), Found::MethodNotAllowed(Methods::POST));
        assert_eq!(r.find(Method::Put, "/socket/1/send"), Found::MethodNotAllowed(Methods::POST));
    }

    #[test]
    fn method_not_allowed_lists_what_is() {
        let r = router();
        assert_eq!(r.find(Method::Post, "/plaintext"), Found::MethodNotAllowed(Methods::GET));
        assert_eq!(
            r.find(Method::Delete, "/topics/x"),
            Found::MethodNotAllowed(Methods::GET.or(Methods::POST))
        );
        assert_eq!(Methods::GET.or(Methods::POST).allow_header(), "GET, HEAD, POST, OPTIONS");
        assert_eq!(Methods::POST.allow_header(), "POST, OPTIONS");
        assert_eq!(r.find(Method::Options, "/topics/x"), Found::Options(Methods::GET.or(Methods::POST)));
        assert_eq!(r.find(Method::Other, "/plaintext"), Found::MethodNotAllowed(Methods::GET));
    }

    #[test]
    fn not_found_without_catch_all() {
        let mut r = Router::default();
        r.add(Methods::GET, "/a/{b}", ());
        assert_eq!(r.find(Method::Get, "/a"), Found::NotFound);
        assert_eq!(r.find(Method::Get, "/a/"), Found::NotFound);
        assert_eq!(r.find(Method::Get, "/a/x/y"), Found::NotFound);
        assert_eq!(r.find(Method::Get, "*"), Found::NotFound);
    }

    #[test]
    fn params_decode_on_request() {
        let r = router();
        let Found::Route(_, p) = r.find(Method::Get, "/sse/closeConn/%E5%AE%A2a%2Fb+c") else { panic!() };
        assert_eq!(p.get("clientId").as_deref(), Some("客a/b+c"));
        assert_eq!(p.raw("clientId"), Some("%E5%AE%A2a%2Fb+c"));
    }

    #[test]
    fn query_strings() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("payid=12", "payid", Some("12")),
            ("a=1&payid=12&payid=13", "payid", Some("12")),
            ("nickname=J%C3%B6rg+M", "nickname", Some("Jörg M")),
            ("clientId=", "clientId", Some("")),
            ("clientId", "clientId", Some("")),
            ("x=1", "clientId", None),
            ("", "clientId", None),
            ("since=%zz", "since", Some("%zz")),
            ("bad=%FF", "bad", Some("\u{FFFD}")),
            ("a%3Db=c", "a=b", Some("c")),
        ];
        for (q, name, want) in cases {
            assert_eq!(query(q, name).as_deref(), *want, "{q} {name}");
        }
    }
}
