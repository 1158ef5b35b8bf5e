//! SPEC §2 (/plaintext, /stats), §4 (HTTP/1.1) and §5 (limits) over real
//! loopback sockets against the real binary; curl where a real client
//! exercises the rule, raw bytes where the rule is about exact bytes.

mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn plaintext_is_hello_world() {
    let server = Server::start(&[]);
    let (head, body) = curl(&[&server.url("/plaintext")]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Type: text/plain\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 13\r\n"), "{head}");
    assert!(head.contains("\r\nDate: "), "RFC 9110 §6.6.1 wants a Date: {head}");
    assert_eq!(body, b"Hello, World!");
}

#[test]
fn stats_counts_connections_requests_and_bytes() {
    let server = Server::start(&[]);
    let mut bytes_out = 0;
    for _ in 0..3 {
        let r = get(&server, "/plaintext");
        assert_eq!(r.status, 200);
        bytes_out += r.head.len() + r.body.len();
    }
    let reply = get(&server, "/stats");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type").as_deref(), Some("application/json"));
    let json = reply.text();
    // Three plaintext requests of 36 bytes and this one of 32; the answer
    // to this one is not sent yet when the figures are taken.
    for want in [
        "\"connections\":{\"total\":1,\"http\":1,\"sse\":0,\"ws\":0}".to_string(),
        "\"accepted\":4,".into(),
        "\"requests\":4,".into(),
        "\"workers\":1,".into(),
        "\"bytes_in\":140,".into(),
        format!("\"bytes_out\":{bytes_out},"),
        // Every cap, and what a shared one holds now (this connection).
        "\"limits\":{\"max_conns\":{\"cap\":0,\"used\":1},\"max_head\":{\"cap\":8192},".into(),
        "\"max_body\":{\"cap\":1048576},\"max_queue\":{\"cap\":1048576},".into(),
    ] {
        assert!(json.contains(&want), "{want} not in {json}");
    }
    assert!(json.starts_with("{\"uptime_secs\":"), "{json}");
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    let mut buf = Vec::new();
    for _ in 0..50 {
        write_all(&mut s, b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = read_reply(&mut s, &mut buf, false).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
        assert_eq!(r.header("connection"), None);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    // Three different answers, sent in one write, with a body in the middle.
    write_all(
        &mut s,
        b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n\
          POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
          HEAD /index.html HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /nope/ HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let mut buf = Vec::new();
    let statuses: Vec<u16> = [false, false, true, false, false]
        .iter()
        .map(|&head| read_reply(&mut s, &mut buf, head).unwrap().status)
        .collect();
    assert_eq!(statuses, [200, 405, 200, 404, 200]);
    assert!(closed_within(&mut s, Duration::from_secs(2)), "Connection: close is honoured");
}

#[test]
fn pipelined_burst_of_a_thousand_byte_by_byte_and_at_once() {
    let server = Server::start(&[]);
    let one = b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
    let burst: Vec<u8> = one.iter().copied().cycle().take(one.len() * 1000).collect();
    let mut s = server.connect();
    let writer = {
        let mut w = s.try_clone().unwrap();
        let burst = burst.clone();
        thread::spawn(move || w.write_all(&burst).unwrap())
    };
    let mut buf = Vec::new();
    for i in 0..1000 {
        let r = read_reply(&mut s, &mut buf, false).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]), "response {i}");
    }
    writer.join().unwrap();
    // The same requests a byte at a time: partial heads are kept, not lost.
    let mut s = server.connect();
    s.set_nodelay(true).unwrap();
    for &b in &burst[..one.len() * 3] {
        s.write_all(&[b]).unwrap();
    }
    for _ in 0..3 {
        assert_eq!(read_reply(&mut s, &mut buf, false).unwrap().status, 200);
    }
}

#[test]
fn head_has_get_headers_and_no_body() {
    let server = Server::start(&[]);
    let get = exchange(&server, b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = head(&server, "/index.html");
    assert_eq!((get.status, head.status), (200, 200));
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some(get.body.len().to_string()));
    assert_eq!(head.header("content-type"), get.header("content-type"));
    // curl -I agrees, and finds nothing after the head.
    let (h, printed) = curl(&["-I", &server.url("/plaintext")]);
    assert!(h.contains("Content-Length: 13"), "{h}");
    assert_eq!(printed, h.as_bytes(), "curl -I printed the head and nothing after it");
}

#[test]
fn static_files_by_extension_with_index_and_redirect() {
    let server = Server::start(&[]);
    let root = get(&server, "/");
    let index = get(&server, "/index.html");
    assert_eq!((root.status, index.status), (200, 200));
    assert_eq!(root.body, index.body);
    assert_eq!(root.body, std::fs::read(repo().join("www/index.html")).unwrap());
    assert_eq!(root.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert!(root.header("last-modified").unwrap().ends_with(" GMT"));
    assert_eq!(get(&server, "/no-such-file.html").status, 404);
    assert_eq!(get(&server, "/.gitignore").status, 404, "dot-files are never served");
}

#[test]
fn the_pages_shared_stylesheet_is_served_as_css() {
    // Every page in www/ links /style.css: a wrong type and browsers ignore it.
    let server = Server::start(&[]);
    let css = get(&server, "/style.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type").as_deref(), Some("text/css; charset=utf-8"));
    assert_eq!(css.body, std::fs::read(repo().join("www/style.css")).unwrap());
}

#[test]
fn static_file_types_and_directory_redirect_from_a_temporary_root() {
    let root = std::env::temp_dir().join(format!("pushwire-www-{}", std::process::id()));
    std::fs::create_dir_all(root.join("sub")).unwrap();
    for (name, bytes) in [
        ("a.css", &b"body{}"[..]),
        ("b.js", b"1"),
        ("c.svg", b"<svg/>"),
        ("d.bin", b"\0\x01"),
        ("sub/index.html", b"<p>sub</p>"),
    ] {
        std::fs::write(root.join(name), bytes).unwrap();
    }
    let server = Server::start(&["--www", root.to_str().unwrap()]);
    for (path, ty) in [
        ("/a.css", "text/css; charset=utf-8"),
        ("/b.js", "text/javascript; charset=utf-8"),
        ("/c.svg", "image/svg+xml"),
        ("/d.bin", "application/octet-stream"),
        ("/sub/", "text/html; charset=utf-8"),
    ] {
        let r = get(&server, path);
        assert_eq!((r.status, r.header("content-type").as_deref()), (200, Some(ty)), "{path}");
    }
    let r = get(&server, "/sub");
    assert_eq!((r.status, r.header("location").as_deref()), (301, Some("/sub/")));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn if_modified_since_gives_304() {
    let server = Server::start(&[]);
    let first = get(&server, "/index.html");
    let stamp = first.header("last-modified").unwrap();
    let again = exchange(
        &server,
        format!("GET /index.html HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {stamp}\r\n\r\n").as_bytes(),
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("content-length"), None);
    assert_eq!(again.header("last-modified").as_deref(), Some(stamp.as_str()));
    // An older date, or garbage, gets the file.
    let old = exchange(
        &server,
        b"GET /index.html HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    );
    assert_eq!(old.status, 200);
    // curl -z sends If-Modified-Since from a date, as a browser would.
    let (head, body) = curl(&["-z", &stamp, &server.url("/index.html")]);
    assert!(head.starts_with("HTTP/1.1 304"), "{head}");
    assert!(body.is_empty());
}

#[test]
fn traversal_never_leaves_the_root() {
    let server = Server::start(&[]);
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E%2FCargo.toml",
        "/.%2e/Cargo.toml",
        "/..%2f..%2fetc%2fpasswd",
        "/x/../../Cargo.toml",
        "/index.html%00",
    ] {
        let r = exchange(&server, format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        assert_eq!(r.status, 400, "{path}");
        assert!(!r.text().contains("[package]"), "{path} leaked a file");
    }
    // curl --path-as-is sends the dots unnormalised.
    let (head, _) = curl(&["--path-as-is", &server.url("/../../../../etc/passwd")]);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
}

#[test]
fn symlinks_out_of_the_root_are_not_followed() {
    let root = std::env::temp_dir().join(format!("pushwire-links-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("inside.txt"), b"inside").unwrap();
    let _ = std::fs::remove_file(root.join("out.txt"));
    let _ = std::fs::remove_file(root.join("in.txt"));
    std::os::unix::fs::symlink(repo().join("Cargo.toml"), root.join("out.txt")).unwrap();
    std::os::unix::fs::symlink(root.join("inside.txt"), root.join("in.txt")).unwrap();
    let server = Server::start(&["--www", root.to_str().unwrap()]);
    let out = get(&server, "/out.txt");
    assert_eq!(out.status, 404);
    assert!(!out.text().contains("[package]"));
    assert_eq!(get(&server, "/in.txt").text(), "inside", "links inside the root are fine");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn method_not_allowed_says_what_is() {
    let server = Server::start(&[]);
    let r = exchange(&server, b"DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD, OPTIONS"));
    let (head, _) = curl(&["-X", "PUT", "--data", "x", &server.url("/index.html")]);
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    assert!(head.contains("Allow: GET, HEAD, OPTIONS"), "{head}");
    let r = exchange(&server, b"OPTIONS /stats HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.header("allow").as_deref()), (204, Some("GET, HEAD, OPTIONS")));
}

#[test]
fn head_over_8_kib_is_431_and_closes() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    let mut req = b"GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    req.resize(9000, b'a');
    req.extend_from_slice(b"\r\n\r\n");
    write_all(&mut s, &req);
    let r = read_reply(&mut s, &mut Vec::new(), false).unwrap();
    assert_eq!(r.status, 431);
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    // Just under the limit is fine.
    let mut req = b"GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    req.resize(8192 - 4, b'a');
    req.extend_from_slice(b"\r\n\r\n");
    assert_eq!(exchange(&server, &req).status, 200);
}

#[test]
fn body_over_max_body_is_413_and_closes() {
    let server = Server::start(&["--max-body", "1KiB"]);
    // Declared too large: refused from the head, before the body is read.
    let mut s = server.connect();
    write_all(&mut s, b"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n");
    let r = read_reply(&mut s, &mut Vec::new(), false).unwrap();
    assert_eq!(r.status, 413);
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    // Chunked, and only too large once the chunks add up.
    let mut s = server.connect();
    let mut req = b"POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        req.extend_from_slice(b"200\r\n");
        req.extend_from_slice(&[b'x'; 512]);
        req.extend_from_slice(b"\r\n");
    }
    write_all(&mut s, &req);
    assert_eq!(read_reply(&mut s, &mut Vec::new(), false).unwrap().status, 413);
    // At the limit exactly: read, and answered (405: /plaintext takes no POST).
    let mut req = b"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n".to_vec();
    req.extend_from_slice(&[b'x'; 1024]);
    assert_eq!(exchange(&server, &req).status, 405);
    // curl with a default 1 MiB server: 100-continue, then 413 for 2 MiB.
    let big = Server::start(&[]);
    let file = std::env::temp_dir().join(format!("pushwire-2mib-{}", std::process::id()));
    std::fs::write(&file, vec![b'x'; 2 << 20]).unwrap();
    let (head, _) = curl(&["--data-binary", &format!("@{}", file.display()), &big.url("/plaintext")]);
    std::fs::remove_file(&file).unwrap();
    assert!(head.contains("HTTP/1.1 413"), "{head}");
}

#[test]
fn malformed_requests_are_400_and_close() {
    let server = Server::start(&[]);
    let cases: &[(&[u8], u16)] = &[
        (b"GET /plaintext HTTP/1.1\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"G E T /plaintext HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost t\r\n\r\n", 400),
        (b"GET plaintext HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        (b"GET /plaintext HTTP/3.0\r\nHost: t\r\n\r\n", 505),
        (b"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        (b"POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ];
    for (req, status) in cases {
        let mut s = server.connect();
        write_all(&mut s, req);
        let r = read_reply(&mut s, &mut Vec::new(), false).unwrap();
        assert_eq!(r.status, *status, "{}", String::from_utf8_lossy(req));
        assert_eq!(r.header("connection").as_deref(), Some("close"));
        assert!(closed_within(&mut s, Duration::from_secs(5)), "{}", String::from_utf8_lossy(req));
    }
}

#[test]
fn transfer_encoding_with_content_length_is_400_no_smuggling() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    // The classic CL.TE smuggle: if either framing were believed, the bytes
    // after the first request would become a second, hidden request.
    write_all(
        &mut s,
        b"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n\
          0\r\n\r\nGET /stats HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let mut buf = Vec::new();
    let r = read_reply(&mut s, &mut buf, false).unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Transfer-Encoding and Content-Length"), "{}", r.text());
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    assert!(buf.is_empty(), "nothing answered the smuggled request");
}

#[test]
fn chunked_request_bodies_are_read_and_framing_kept() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    // Two chunks with an extension and a trailer, then a pipelined GET: the
    // GET is only answered correctly if the chunked body was consumed exactly.
    write_all(
        &mut s,
        b"POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n\
          GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let mut buf = Vec::new();
    assert_eq!(read_reply(&mut s, &mut buf, false).unwrap().status, 405);
    let r = read_reply(&mut s, &mut buf, false).unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "Hello, World!"));
    // curl sends chunked when told to.
    let (head, _) =
        curl(&["-H", "Transfer-Encoding: chunked", "--data-binary", "abc", &server.url("/plaintext")]);
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
}

#[test]
fn expect_100_continue_gets_an_interim_answer() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    write_all(
        &mut s,
        b"POST /plaintext HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    );
    let mut buf = Vec::new();
    let interim = read_reply(&mut s, &mut buf, true).unwrap();
    assert_eq!(interim.status, 100);
    write_all(&mut s, b"abc");
    assert_eq!(read_reply(&mut s, &mut buf, false).unwrap().status, 405);
}

#[test]
fn http_1_0_closes_unless_asked_to_keep_alive() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    write_all(&mut s, b"GET /plaintext HTTP/1.0\r\n\r\n");
    let r = read_reply(&mut s, &mut Vec::new(), false).unwrap();
    assert_eq!((r.status, r.header("connection").as_deref()), (200, Some("close")));
    assert!(r.head.starts_with("HTTP/1.1 200"), "RFC 9110 §2.5: we send our own version");
    assert!(closed_within(&mut s, Duration::from_secs(2)));
    let mut s = server.connect();
    let mut buf = Vec::new();
    for _ in 0..2 {
        write_all(&mut s, b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = read_reply(&mut s, &mut buf, false).unwrap();
        assert_eq!(r.header("connection").as_deref(), Some("keep-alive"));
    }
}

#[test]
fn slow_head_gets_408_while_other_clients_are_served() {
    let server = Server::start(&["--header-timeout", "400ms"]);
    let started = Instant::now();
    // A slowloris: a head that never completes, trickled to look alive.
    let mut slow = server.connect();
    write_all(&mut slow, b"GET /plaintext HTTP/1.1\r\n");
    let mut silent = server.connect();
    let mut answered = 0;
    let mut buf = Vec::new();
    let mut s = server.connect();
    while started.elapsed() < Duration::from_millis(300) {
        let _ = slow.write_all(b"X");
        write_all(&mut s, b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(read_reply(&mut s, &mut buf, false).unwrap().status, 200);
        answered += 1;
        // The slowloris's pace (a byte every 20 ms), not a wait for time:
        // trickling must not extend its head deadline.
        thread::sleep(Duration::from_millis(20));
    }
    assert!(answered > 5);
    // Trickling did not extend the deadline: 408, then close.
    let mut got = Vec::new();
    let r = read_reply(&mut slow, &mut got, false).expect("a 408");
    assert_eq!(r.status, 408);
    assert!(started.elapsed() < Duration::from_secs(5), "the deadline is not extended by trickled bytes");
    assert!(closed_within(&mut slow, Duration::from_secs(5)));
    // A client that connects and sends nothing gets the same.
    assert_eq!(read_reply(&mut silent, &mut Vec::new(), false).unwrap().status, 408);
    // The busy client is still fine after all that.
    write_all(&mut s, b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(read_reply(&mut s, &mut buf, false).unwrap().status, 200);
}

#[test]
fn idle_keep_alive_connection_is_closed_quietly() {
    let server = Server::start(&["--keepalive-timeout", "300ms"]);
    let mut s = server.connect();
    write_all(&mut s, b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut buf = Vec::new();
    assert_eq!(read_reply(&mut s, &mut buf, false).unwrap().status, 200);
    let idle = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    assert!(idle.elapsed() >= Duration::from_millis(250), "closed early: {:?}", idle.elapsed());
    assert!(buf.is_empty(), "an idle close sends nothing (no 408)");
}

#[test]
fn a_client_that_does_not_read_is_not_read_either() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    // 200,000 pipelined requests whose 26 MB of answers the client does not
    // read: unbounded, the server would hold them all in memory; with its
    // output cap it stops reading instead and holds about 1 MiB.
    let one = b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
    let count = 200_000;
    let flood: Vec<u8> = one.iter().copied().cycle().take(one.len() * count).collect();
    let mut writer = s.try_clone().unwrap();
    let w = thread::spawn(move || writer.write_all(&flood).is_ok());
    // The client's behaviour, not a wait for a timeout: it floods without
    // reading for 1.5 s, time an unbounded server would spend reading all
    // 200,000 requests; the memory is measured at the end of it. (The cap
    // itself: proto/src/conn/http_tests.rs,
    // reading_pauses_while_unread_answers_pass_the_cap_and_nothing_is_lost.)
    thread::sleep(Duration::from_millis(1500));
    let rss_kb = server.rss_kb();
    assert!(rss_kb < 16 * 1024, "server RSS {rss_kb} kB: output for a non-reading client was not bounded");
    // Others are still served meanwhile.
    assert_eq!(get(&server, "/plaintext").status, 200);
    // And nothing was lost: reading now yields every answer, in order.
    let mut buf = Vec::new();
    for i in 0..count {
        let r = read_reply(&mut s, &mut buf, false).unwrap_or_else(|| panic!("answer {i} missing"));
        assert_eq!(r.status, 200, "answer {i}");
    }
    assert!(w.join().unwrap());
}

#[test]
fn absolute_form_target_is_accepted() {
    let server = Server::start(&[]);
    let r = exchange(&server, b"GET http://example.com/plaintext HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!((r.status, r.text().as_str()), (200, "Hello, World!"));
}

#[test]
fn a_client_that_stops_reading_is_dropped_after_the_timeout() {
    let server = Server::start(&["--keepalive-timeout", "500ms"]);
    let requests = stat(&server, "requests");
    let mut s = server.connect();
    // Answers far beyond what socket buffers hold, then a malformed request:
    // the server must give up on the client rather than hold it forever.
    let one = b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n";
    let mut flood: Vec<u8> = one.iter().copied().cycle().take(one.len() * 2000).collect();
    flood.extend_from_slice(b"BROKEN\r\n\r\n");
    s.write_all(&flood).unwrap();
    // Wait until the server is answering the client that does not read. (The
    // rule, with time moved by hand: proto/src/conn/tests.rs,
    // a_client_that_stops_reading_is_closed_when_writes_stop_moving.)
    stat_grows(&server, "requests", requests, 1);
    assert_eq!(stat(&server, "http"), 2, "the stuck client and the /stats client");
    // The client that stopped reading is dropped: the /stats client is left.
    stat_becomes(&server, "http", 1);
}

#[test]
fn a_client_pipelining_steadily_never_gets_408() {
    // Every write ends in the middle of a request: the head deadline must
    // start at each new request, not stay with the first partial one.
    let server = Server::start(&["--header-timeout", "500ms"]);
    let mut s = server.connect();
    let one = b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";
    let stream: Vec<u8> = one.iter().copied().cycle().take(one.len() * 400).collect();
    let mut reader = s.try_clone().unwrap();
    let counter = thread::spawn(move || {
        let mut buf = Vec::new();
        (0..400)
            .map(|_| read_reply(&mut reader, &mut buf, false).map_or(0, |r| r.status))
            .collect::<Vec<u16>>()
    });
    // 400 requests over about 2 s (four header timeouts), each write ending
    // 20 bytes into the next request, so no read ever ends on a boundary.
    s.write_all(&stream[..20]).unwrap();
    for at in (20..stream.len()).step_by(one.len()) {
        s.write_all(&stream[at..(at + one.len()).min(stream.len())]).unwrap();
        // The client's pace (a request every 5 ms), not a wait for time.
        thread::sleep(Duration::from_millis(5));
    }
    let statuses = counter.join().unwrap();
    assert!(statuses.iter().all(|&s| s == 200), "{:?}", statuses.iter().find(|&&s| s != 200));
}
