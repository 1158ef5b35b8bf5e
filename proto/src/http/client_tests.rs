use super::*;

fn head(text: &str) -> Head {
    match parse_head(text.as_bytes(), false) {
        Ok(Some(head)) => head,
        other => panic!("{text:?}: {other:?}"),
    }
}

fn framing(fields: &str) -> Result<Option<Body>, Error> {
    let text = format!("HTTP/1.1 200 OK\r\n{fields}\r\n");
    parse_head(text.as_bytes(), false).map(|h| h.map(|h| h.body))
}

#[test]
fn head_is_partial_at_every_split_and_complete_with_its_length() {
    let text = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello";
    let len = text.len() - 7;
    for cut in 0..len {
        assert_eq!(parse_head(&text[..cut], false), Ok(None), "cut {cut}");
    }
    let want = Head {
        status: 101,
        len,
        body: Body::None,
        accept: Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()),
        event_stream: false,
        keep_alive: true,
        upgrade_websocket: true,
    };
    for end in len..=text.len() {
        assert_eq!(parse_head(&text[..end], false), Ok(Some(want.clone())), "end {end}");
    }
}

#[test]
fn body_framing_rfc9112_6_3() {
    use Body::*;
    #[rustfmt::skip]
    let cases: &[(&str, bool, Body)] = &[
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, Length(5)),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, Length(0)),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, None),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, None),
        ("HTTP/1.1 100 Continue\r\n\r\n", false, None),
        ("HTTP/1.1 101 Switching Protocols\r\nContent-Length: 9\r\n\r\n", false, None),
        ("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", false, None),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false, None),
        ("HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", false, Length(0)),
        ("HTTP/1.1 200 OK\r\n\r\n", false, UntilClose),
        ("HTTP/1.1 404 Not Found\r\nContent-Length: 18446744073709551615\r\n\r\n", false, Length(u64::MAX)),
    ];
    for &(text, head_request, body) in cases {
        let got = parse_head(text.as_bytes(), head_request).map(|h| h.map(|h| h.body));
        assert_eq!(got, Ok(Some(body)), "{text:?} head_request={head_request}");
    }
}

#[test]
fn transfer_encoding_final_coding_decides() {
    use Body::*;
    #[rustfmt::skip]
    let cases: &[(&str, Body)] = &[
        ("Transfer-Encoding: chunked\r\n", Chunked),
        ("Transfer-Encoding: CHUNKED\r\n", Chunked),
        ("Transfer-Encoding: gzip, chunked\r\n", Chunked),
        ("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", Chunked),
        ("Transfer-Encoding: chunked,\r\n", Chunked),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", Chunked),
        ("Content-Length: nonsense\r\nTransfer-Encoding: chunked\r\n", Chunked),
        ("Transfer-Encoding: chunked, gzip\r\n", UntilClose),
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", UntilClose),
        ("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", UntilClose),
        ("Transfer-Encoding: chunkedx\r\n", UntilClose),
    ];
    for &(fields, body) in cases {
        assert_eq!(framing(fields), Ok(Some(body)), "{fields:?}");
    }
}

#[test]
fn content_length_lists_and_errors() {
    for fields in [
        "Content-Length: 5, 5\r\n",
        "Content-Length: 5\r\nContent-Length: 5\r\n",
        "Content-Length: 5,,5,\r\n",
        "Content-Length:    5 \r\n",
        "Content-Length: 005\r\n",
    ] {
        assert_eq!(framing(fields), Ok(Some(Body::Length(5))), "{fields:?}");
    }
    for (fields, error) in [
        ("Content-Length: 5, 6\r\n", Error::ContentLengthsDiffer),
        ("Content-Length: 5\r\nContent-Length: 6\r\n", Error::ContentLengthsDiffer),
        ("Content-Length: \r\n", Error::BadContentLength),
        ("Content-Length: ,\r\n", Error::BadContentLength),
        ("Content-Length: -1\r\n", Error::BadContentLength),
        ("Content-Length: +5\r\n", Error::BadContentLength),
        ("Content-Length: 0x10\r\n", Error::BadContentLength),
        ("Content-Length: 5 5\r\n", Error::BadContentLength),
        ("Content-Length: 18446744073709551616\r\n", Error::BadContentLength),
    ] {
        assert_eq!(framing(fields), Err(error), "{fields:?}");
    }
}

#[test]
fn keep_alive_rfc9112_9_3() {
    #[rustfmt::skip]
    let cases: &[(&str, bool)] = &[
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n", true),
        ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", true),
        ("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n", false),
        ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", false),
    ];
    for &(text, keep_alive) in cases {
        assert_eq!(head(text).keep_alive, keep_alive, "{text:?}");
    }
}

#[test]
fn event_stream_media_type() {
    #[rustfmt::skip]
    let cases: &[(&str, bool)] = &[
        ("Content-Type: text/event-stream\r\n", true),
        ("Content-Type: Text/Event-Stream; charset=utf-8\r\n", true),
        ("Content-Type: text/event-stream ;charset=utf-8\r\n", true),
        ("Content-Type: text/plain\r\n", false),
        ("Content-Type: text/event-streams\r\n", false),
        ("Content-Type: text/event\r\n", false),
        ("", false),
    ];
    for &(fields, want) in cases {
        assert_eq!(head(&format!("HTTP/1.1 200 OK\r\n{fields}\r\n")).event_stream, want, "{fields:?}");
    }
}

#[test]
fn accept_value_is_taken_whole() {
    let h = head("HTTP/1.1 101 Switching Protocols\r\nsec-websocket-accept:   abc= \r\n\r\n");
    assert_eq!(h.accept.as_deref(), Some("abc="));
    assert_eq!(head("HTTP/1.1 200 OK\r\n\r\n").accept, None);
}

#[test]
fn websocket_upgrade_fields_rfc6455_4_1() {
    for (fields, want) in [
        ("Upgrade: websocket\r\nConnection: Upgrade\r\n", true),
        ("upgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n", true),
        ("Upgrade: websocket\r\n", false),
        ("Connection: Upgrade\r\n", false),
        ("Upgrade: h2c\r\nConnection: Upgrade\r\n", false),
    ] {
        let h = head(&format!("HTTP/1.1 101 Switching Protocols\r\n{fields}\r\n"));
        assert_eq!(h.upgrade_websocket, want, "{fields:?}");
    }
}

#[test]
fn interim_answers_rfc9110_15_2() {
    for (status, interim) in [(100, true), (103, true), (101, false), (200, false), (204, false)] {
        let h = head(&format!("HTTP/1.1 {status} X\r\n\r\n"));
        assert_eq!(h.is_interim(), interim, "{status}");
    }
}

#[test]
fn field_count_is_capped() {
    let fields = |n: usize| (0..n).map(|i| format!("X-{i}: y\r\n")).collect::<String>();
    assert_eq!(head(&format!("HTTP/1.1 200 OK\r\n{}\r\n", fields(MAX_FIELDS))).status, 200);
    assert_eq!(
        parse_head(format!("HTTP/1.1 200 OK\r\n{}\r\n", fields(MAX_FIELDS + 1)).as_bytes(), false),
        Err(Error::TooManyFields)
    );
}

#[test]
fn head_length_is_capped_whole_or_in_pieces() {
    let filler = "a".repeat(MAX_HEAD);
    let long = format!("HTTP/1.1 200 OK\r\nX: {filler}\r\n\r\n");
    let too_long = Err(Error::HeadTooLarge);
    assert_eq!(parse_head(long.as_bytes(), false), too_long);
    assert_eq!(parse_head(&long.as_bytes()[..MAX_HEAD], false), Ok(None));
    assert_eq!(parse_head(&long.as_bytes()[..MAX_HEAD + 1], false), too_long);
    let fits = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", &filler[..MAX_HEAD - 24]);
    assert_eq!(fits.len(), MAX_HEAD);
    assert_eq!(head(&fits).len, MAX_HEAD);
}

#[test]
fn malformed_heads_are_errors() {
    for text in [
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTQ/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
    ] {
        let got = parse_head(text.as_bytes(), false);
        assert!(matches!(got, Err(Error::Malformed(_))), "{text:?}: {got:?}");
    }
}

#[test]
fn requests_byte_for_byte() {
    type Fields = &'static [(&'static str, &'static str)];
    #[rustfmt::skip]
    let cases: &[(&str, Fields, &[u8], &[u8])] = &[
        ("GET", &[], b"", b"GET / HTTP/1.1\r\nHost: h:80\r\n\r\n"),
        ("HEAD", &[("Accept", "*/*")], b"", b"HEAD / HTTP/1.1\r\nHost: h:80\r\nAccept: */*\r\n\r\n"),
        ("POST", &[], b"", b"POST / HTTP/1.1\r\nHost: h:80\r\nContent-Length: 0\r\n\r\n"),
        ("PUT", &[("A", "1"), ("B", "2")], b"xy",
            b"PUT / HTTP/1.1\r\nHost: h:80\r\nA: 1\r\nB: 2\r\nContent-Length: 2\r\n\r\nxy"),
        ("DELETE", &[], b"{}", b"DELETE / HTTP/1.1\r\nHost: h:80\r\nContent-Length: 2\r\n\r\n{}"),
    ];
    for &(method, headers, body, want) in cases {
        let mut out = b"previous".to_vec();
        request(method, "h:80", "/", headers, body, &mut out);
        assert_eq!(&out[..8], b"previous");
        assert_eq!(String::from_utf8_lossy(&out[8..]), String::from_utf8_lossy(want), "{method}");
    }
    let mut out = Vec::new();
    request("POST", "example.com", "/publish?topic=a", &[], &[b'x'; 1234], &mut out);
    let head = b"POST /publish?topic=a HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1234\r\n\r\n";
    assert_eq!(out, [&head[..], &[b'x'; 1234]].concat());
}

#[test]
fn errors_display() {
    assert_eq!(Error::HeadTooLarge.to_string(), "response head longer than 16384 bytes");
    assert_eq!(Error::TooManyFields.to_string(), "more than 32 header fields in the response");
    assert_eq!(
        Error::Chunked(ChunkError::SizeOverflow).to_string(),
        "chunked body: chunk size overflows 64 bits"
    );
    let malformed = parse_head(b"HTTP/1.1 2000 OK\r\n\r\n", false).unwrap_err().to_string();
    assert!(malformed.starts_with("malformed response head: "), "{malformed}");
}

/// The classic example: "Wikipedia in\r\n\r\nchunks." in five chunks.
const CHUNKED: &[u8] = b"4\r\nWiki\r\n5;name=value\r\npedia\r\nE \t; a=\"b;c\"\r\n in\r\n\r\nchunks.\r\n\
    0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n";
const DECODED: &[u8] = b"Wikipedia in\r\n\r\nchunks.";

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
        Err(Error::Chunked(ChunkError::ExpectedSize(b'z')))
    );

    let (mut r, mut out) = (BodyReader::new(Body::UntilClose), Vec::new());
    assert_eq!(r.feed(b"abc", &mut out), Ok((3, false)));
    assert_eq!(r.feed(b"", &mut out), Ok((0, false)));
    assert_eq!(r.feed(b"def", &mut out), Ok((3, false)));
    assert_eq!(out, b"abcdef");
}
