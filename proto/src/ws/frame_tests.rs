use super::*;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn header(fin: bool, opcode: OpCode, len: u64) -> FrameHeader {
    FrameHeader { fin, rsv: 0, opcode, mask: Some(MASK), len }
}

/// Decodes `bytes` whole, then every proper prefix: those must all say
/// "not yet" (nothing consumed until the header is complete).
fn decode_split(bytes: &[u8]) -> (FrameHeader, usize) {
    let (h, used) = decode_header(bytes).unwrap().unwrap();
    for cut in 0..used {
        assert_eq!(decode_header(&bytes[..cut]), Ok(None), "prefix of {cut} bytes");
    }
    // Whatever follows the header does not change it.
    for extra in [&b""[..], b"\x00", b"\xff\xff\xff"] {
        let longer = [&bytes[..used], extra].concat();
        assert_eq!(decode_header(&longer), Ok(Some((h, used))));
    }
    (h, used)
}

fn encoded(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

// RFC 6455 §5.7 examples, byte for byte.

#[test]
fn rfc_single_frame_unmasked_text_is_our_encoding() {
    // "A single-frame unmasked text message 0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f"
    let want = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(encoded(|out| encode(OpCode::Text, b"Hello", out)), want);
}

#[test]
fn rfc_single_frame_masked_text_decodes() {
    // "A single-frame masked text message 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58"
    let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(decode_split(&frame), (header(true, OpCode::Text, 5), 6));
}

#[test]
fn rfc_fragmented_unmasked_text_is_our_encoding() {
    // "0x01 0x03 0x48 0x65 0x6c (contains "Hel")" and "0x80 0x02 0x6c 0x6f (contains "lo")"
    let first = encoded(|out| {
        encode_header(false, OpCode::Text, 3, out);
        out.extend_from_slice(b"Hel");
    });
    assert_eq!(first, [0x01, 0x03, 0x48, 0x65, 0x6c]);
    let second = encoded(|out| {
        encode_header(true, OpCode::Continuation, 2, out);
        out.extend_from_slice(b"lo");
    });
    assert_eq!(second, [0x80, 0x02, 0x6c, 0x6f]);
}

#[test]
fn rfc_fragmented_masked_headers_decode() {
    assert_eq!(decode_split(&[0x01, 0x83, 0x37, 0xfa, 0x21, 0x3d]), (header(false, OpCode::Text, 3), 6));
    assert_eq!(
        decode_split(&[0x80, 0x82, 0x37, 0xfa, 0x21, 0x3d]),
        (header(true, OpCode::Continuation, 2), 6)
    );
}

#[test]
fn rfc_unmasked_ping_is_our_encoding() {
    // "Unmasked Ping request 0x89 0x05 0x48 0x65 0x6c 0x6c 0x6f"
    assert_eq!(
        encoded(|out| encode(OpCode::Ping, b"Hello", out)),
        [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
}

#[test]
fn rfc_masked_pong_decodes() {
    // "masked Ping response 0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58"
    let frame = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(decode_split(&frame), (header(true, OpCode::Pong, 5), 6));
}

#[test]
fn rfc_256_bytes_binary_16_bit_length() {
    // "256 bytes binary message in a single unmasked frame 0x82 0x7E 0x0100 [256 bytes of binary data]"
    let payload = [0xa5; 256];
    let frame = encoded(|out| encode(OpCode::Binary, &payload, out));
    assert_eq!(frame[..4], [0x82, 0x7e, 0x01, 0x00]);
    assert_eq!(frame[4..], payload);
    let masked = [0x82, 0xfe, 0x01, 0x00, 0x37, 0xfa, 0x21, 0x3d];
    assert_eq!(decode_split(&masked), (header(true, OpCode::Binary, 256), 8));
}

#[test]
fn rfc_64k_binary_64_bit_length() {
    // "64KiB binary message in a single unmasked frame 0x82 0x7F 0x0000000000010000 [65536 bytes of binary data]"
    let payload = vec![0x5a; 65536];
    let frame = encoded(|out| encode(OpCode::Binary, &payload, out));
    assert_eq!(frame[..10], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(frame.len(), 10 + 65536);
    let masked = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xfa, 0x21, 0x3d];
    assert_eq!(decode_split(&masked), (header(true, OpCode::Binary, 65536), 14));
}

#[test]
fn length_encoding_boundaries() {
    // (length, header bytes after the first): the fewest bytes each time.
    let cases: &[(usize, &[u8])] = &[
        (0, &[0]),
        (125, &[125]),
        (126, &[126, 0, 126]),
        (65535, &[126, 0xff, 0xff]),
        (65536, &[127, 0, 0, 0, 0, 0, 1, 0, 0]),
    ];
    for &(len, want) in cases {
        let out = encoded(|out| encode_header(true, OpCode::Binary, len, out));
        assert_eq!(out[0], 0x82);
        assert_eq!(&out[1..], want, "{len}");
        // The same bytes with the mask bit and a key decode to that length.
        let mut client = out.clone();
        client[1] |= 0x80;
        client.extend_from_slice(&MASK);
        assert_eq!(decode_split(&client).0.len, len as u64);
    }
}

#[test]
fn largest_legal_length_decodes() {
    let frame = [0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4];
    assert_eq!(decode_split(&frame).0.len, i64::MAX as u64);
}

/// Every header-level error from the shortest bytes that show it; the same
/// error when the rest of a header follows.
#[test]
fn every_header_error_from_minimal_bytes() {
    let cases: &[(&[u8], WsError)] = &[
        (&[0xc1], WsError::ReservedBits), // RSV1
        (&[0xa1], WsError::ReservedBits), // RSV2
        (&[0x91], WsError::ReservedBits), // RSV3
        (&[0xf2], WsError::ReservedBits),
        (&[0x83], WsError::UnknownOpcode(3)),
        (&[0x87], WsError::UnknownOpcode(7)),
        (&[0x8b], WsError::UnknownOpcode(0xb)),
        (&[0x8f], WsError::UnknownOpcode(0xf)),
        (&[0x03], WsError::UnknownOpcode(3)),
        (&[0x08], WsError::FragmentedControl),
        (&[0x09], WsError::FragmentedControl),
        (&[0x0a], WsError::FragmentedControl),
        (&[0x81, 0x05], WsError::UnmaskedFrame),
        (&[0x88, 0x00], WsError::UnmaskedFrame),
        (&[0x89, 0xfe], WsError::ControlTooLong),
        (&[0x88, 0xff], WsError::ControlTooLong),
        (&[0x82, 0xfe, 0x00, 0x7d], WsError::NonMinimalLength),
        (&[0x82, 0xfe, 0x00, 0x00], WsError::NonMinimalLength),
        (&[0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff], WsError::NonMinimalLength),
        (&[0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x7d], WsError::NonMinimalLength),
        (&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0], WsError::LengthHighBit),
        (&[0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], WsError::LengthHighBit),
    ];
    for &(bytes, want) in cases {
        assert_eq!(decode_header(bytes), Err(want), "{bytes:02x?}");
        assert_eq!(want.close_code(), 1002);
        // One byte fewer is not enough to tell.
        assert_eq!(decode_header(&bytes[..bytes.len() - 1]), Ok(None), "{bytes:02x?} shortened");
        let padded = [bytes, &[0x80; 14][..]].concat();
        assert_eq!(decode_header(&padded), Err(want), "{bytes:02x?} padded");
    }
}

#[test]
fn errors_are_reported_in_byte_order() {
    // RSV and an unknown opcode together: the RSV rule comes first.
    assert_eq!(decode_header(&[0xc3, 0x00]), Err(WsError::ReservedBits));
    // A fragmented control frame that is also unmasked: byte 0 decides first.
    assert_eq!(decode_header(&[0x09, 0x00]), Err(WsError::FragmentedControl));
    // Unmasked and over-long control: the mask bit comes first.
    assert_eq!(decode_header(&[0x89, 0x7e]), Err(WsError::UnmaskedFrame));
}

#[test]
fn opcode_round_trip_and_control_flag() {
    for bits in 0..=0xffu8 {
        match OpCode::try_from(bits) {
            Ok(op) => {
                assert_eq!(op.bits(), bits);
                assert_eq!(op.is_control(), bits >= 8);
            }
            Err(e) => {
                assert_eq!(e, WsError::UnknownOpcode(bits));
                assert!(!matches!(bits, 0..=2 | 8..=10));
            }
        }
    }
}

#[test]
fn close_frame_encoding() {
    assert_eq!(encoded(|out| encode_close(1000, "", out)), [0x88, 0x02, 0x03, 0xe8]);
    assert_eq!(encoded(|out| encode_close(1001, "bye", out)), [0x88, 0x05, 0x03, 0xe9, b'b', b'y', b'e']);
}

#[test]
fn close_reason_is_cut_at_a_char_boundary() {
    // 61 two-byte characters (122 bytes) fit beside the code; a 62nd does not,
    // and the cut must not split it.
    let reason = "é".repeat(70);
    let out = encoded(|out| encode_close(1000, &reason, out));
    assert_eq!(out[1] as usize, out.len() - 2);
    assert!(out.len() - 2 <= MAX_CONTROL_PAYLOAD);
    assert_eq!(std::str::from_utf8(&out[4..]).unwrap(), "é".repeat(61));
    // 123 ASCII bytes fit exactly; 124 are cut to 123.
    let ascii = "x".repeat(124);
    let out = encoded(|out| encode_close(1000, &ascii, out));
    assert_eq!(out.len(), 2 + 125);
    // A four-byte character straddling the limit is dropped whole.
    let straddle = "x".repeat(121) + "🎉";
    let out = encoded(|out| encode_close(1000, &straddle, out));
    assert_eq!(&out[4..], "x".repeat(121).as_bytes());
}

/// What `decode_length` answers: the length and where the header goes on.
type Decoded = Result<Option<(u64, usize)>, LengthError>;

#[test]
fn payload_lengths_section_5_2_one_line_each() {
    let cases: &[(&[u8], Decoded)] = &[
        (&[0x81, 0x05], Ok(Some((5, 2)))),
        (&[0x81, 0x7d], Ok(Some((125, 2)))),
        (&[0x82, 0x7e, 0x00], Ok(None)),
        (&[0x82, 0x7e, 0x01, 0x00], Ok(Some((256, 4)))),
        (&[0x82, 0x7e, 0x00, 0x7d], Err(LengthError::NonMinimal)),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0], Ok(None)),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0], Ok(Some((65536, 10)))),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff], Err(LengthError::NonMinimal)),
        (&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], Err(LengthError::HighBit)),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode_length(bytes, bytes[1] & 0x7f), *want, "{bytes:02x?}");
    }
}

#[test]
fn frame_remaining_takes_a_partial_frame_to_its_end_and_no_further() {
    // A masked 5-byte text frame, a 256-byte binary frame (16-bit length)
    // and a 65536-byte one (64-bit length), each cut at every header byte.
    let short = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let cases: &[(&[u8], u64)] = &[
        (&[], 2),
        (&short[..1], 1),
        (&short[..2], 4),
        (&short[..5], 1),
        (&short[..6], 5),
        (&short[..9], 2),
        (&short, 0),
        (&[0x82, 0xfe], 6),
        (&[0x82, 0xfe, 0x01, 0x00], 4),
        (&[0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4], 256),
        (&[0x82, 0xff, 0, 0, 0], 9),
        (&[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4, 9], 65535),
        // A broken header needs nothing more: decode_header reports it.
        (&[0x81, 0x05], 0),
        (&[0xc1], 0),
    ];
    for (bytes, want) in cases {
        assert_eq!(frame_remaining(bytes), *want, "{bytes:02x?}");
    }
    // Appending what it asks for, byte by byte, always ends on the frame's end.
    let mut buf = Vec::new();
    let frame = [&[0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4][..], &[0u8; 256]].concat();
    while frame_remaining(&buf) > 0 {
        buf.push(frame[buf.len()]);
    }
    assert_eq!(buf.len(), frame.len());
}

// The client's side (Role::Client): unmasked frames in, masked frames out.

/// Decodes the server frame `bytes` whole as a client, checks every proper
/// prefix says "not yet", and that bytes after the frame are left alone.
fn from_server_split(bytes: &[u8]) -> (bool, OpCode, Vec<u8>) {
    for cut in 0..bytes.len() {
        assert_eq!(decode_from_server(&bytes[..cut], u64::MAX), Ok(None), "cut {cut}");
    }
    let more = [bytes, &[0x81, 0x00]].concat();
    let Ok(Some((frame, used))) = decode_from_server(&more, u64::MAX) else { panic!("{bytes:x?}") };
    assert_eq!(used, bytes.len());
    (frame.fin, frame.opcode, frame.payload.to_vec())
}

#[test]
fn client_reads_the_rfc_unmasked_frames() {
    let hello = b"Hello".to_vec();
    #[rustfmt::skip]
    let cases: &[(&[u8], bool, OpCode, &[u8])] = &[
        // §5.7: "A single-frame unmasked text message"
        (&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], true, OpCode::Text, &hello),
        // "A fragmented unmasked text message"
        (&[0x01, 0x03, 0x48, 0x65, 0x6c], false, OpCode::Text, b"Hel"),
        (&[0x80, 0x02, 0x6c, 0x6f], true, OpCode::Continuation, b"lo"),
        // "Unmasked Ping request"
        (&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], true, OpCode::Ping, &hello),
        (&[0x8a, 0x00], true, OpCode::Pong, b""),
        (&[0x88, 0x02, 0x03, 0xe8], true, OpCode::Close, &[0x03, 0xe8]),
    ];
    for &(bytes, fin, opcode, payload) in cases {
        assert_eq!(from_server_split(bytes), (fin, opcode, payload.to_vec()), "{bytes:x?}");
        let header = FrameHeader { fin, rsv: 0, opcode, mask: None, len: payload.len() as u64 };
        assert_eq!(decode_header_as(Role::Client, bytes), Ok(Some((header, 2))));
    }
}

#[test]
fn client_reads_the_rfc_long_lengths() {
    // §5.7: "256 bytes binary message in a single unmasked frame: 0x82 0x7E
    // 0x0100 [256 bytes of binary data]"; "64KiB binary message in a single
    // unmasked frame: 0x82 0x7F 0x0000000000010000 [65536 bytes]"
    let data: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    let short = [&[0x82, 0x7e, 0x01, 0x00][..], &data[..256]].concat();
    assert_eq!(from_server_split(&short), (true, OpCode::Binary, data[..256].to_vec()));
    let long = [&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0][..], &data].concat();
    let whole = Frame { fin: true, opcode: OpCode::Binary, payload: &data };
    assert_eq!(decode_from_server(&long, u64::MAX), Ok(Some((whole, long.len()))));
    assert_eq!(decode_from_server(&long[..long.len() - 1], u64::MAX), Ok(None));
    assert_eq!(decode_from_server(&long[..10], u64::MAX), Ok(None));
}

#[test]
fn a_masked_frame_from_the_server_fails_the_client_and_an_unmasked_one_the_server() {
    // §5.7's masked "Hello": what a client sends, so what a server reads...
    let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(decode_header_as(Role::Server, &masked).unwrap().unwrap().0.mask, Some(MASK));
    // ... and what a client must refuse at the byte that shows the MASK bit.
    assert_eq!(decode_header_as(Role::Client, &masked[..1]), Ok(None));
    for end in 2..=masked.len() {
        assert_eq!(decode_header_as(Role::Client, &masked[..end]), Err(WsError::MaskedFrame), "end {end}");
        assert_eq!(decode_from_server(&masked[..end], u64::MAX), Err(WsError::MaskedFrame));
    }
    assert_eq!(WsError::MaskedFrame.close_code(), 1002);
    // The unmasked "Hello" the other way round.
    let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(decode_header_as(Role::Server, &unmasked), Err(WsError::UnmaskedFrame));
    assert_eq!(decode_header(&unmasked), Err(WsError::UnmaskedFrame));
}

#[test]
fn client_header_rules_fail_at_the_byte_that_breaks_them() {
    #[rustfmt::skip]
    let cases: &[(&[u8], WsError)] = &[
        (&[0xc1], WsError::ReservedBits),
        (&[0x91], WsError::ReservedBits),
        (&[0x83], WsError::UnknownOpcode(0x3)),
        (&[0x8b], WsError::UnknownOpcode(0xb)),
        (&[0x08], WsError::FragmentedControl),
        (&[0x09], WsError::FragmentedControl),
        (&[0x89, 0x7e], WsError::ControlTooLong),
        (&[0x88, 0x7f], WsError::ControlTooLong),
        (&[0x82, 0x7e, 0x00, 0x7d], WsError::NonMinimalLength),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff], WsError::NonMinimalLength),
        (&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], WsError::LengthHighBit),
    ];
    for &(bytes, error) in cases {
        let decides = match error {
            WsError::ControlTooLong => 2,
            WsError::NonMinimalLength | WsError::LengthHighBit => bytes.len(),
            _ => 1,
        };
        for cut in 0..decides {
            assert_eq!(decode_from_server(&bytes[..cut], u64::MAX), Ok(None), "{bytes:x?} cut {cut}");
        }
        for end in decides..=bytes.len() {
            assert_eq!(decode_from_server(&bytes[..end], u64::MAX), Err(error), "{bytes:x?} end {end}");
        }
    }
}

#[test]
fn max_bounds_the_payload_before_it_arrives() {
    assert_eq!(decode_from_server(&[0x81, 0x05], 4), Err(WsError::MessageTooLarge));
    assert_eq!(decode_from_server(&[0x81, 0x05], 5), Ok(None));
    assert_eq!(decode_from_server(&[0x82, 0x7e, 0x01, 0x00], 255), Err(WsError::MessageTooLarge));
    let huge = [0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(decode_from_server(&huge, 1 << 20), Err(WsError::MessageTooLarge));
    assert_eq!(decode_from_server(&huge, u64::MAX), Ok(None));
    let hello = Frame { fin: true, opcode: OpCode::Text, payload: b"Hello" };
    assert_eq!(decode_from_server(b"\x81\x05Hello", 5), Ok(Some((hello, 7))));
}

#[test]
fn rfc_masked_frames_are_our_client_encoding() {
    // §5.7: "A single-frame masked text message 0x81 0x85 0x37 0xfa 0x21 0x3d
    // 0x7f 0x9f 0x4d 0x51 0x58"; what was in the buffer stays.
    let mut out = vec![0xaa];
    encode_masked(OpCode::Text, b"Hello", MASK, &mut out);
    assert_eq!(out, [0xaa, 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    // "Masked Pong response": the same payload, opcode 0xA.
    let pong = encoded(|out| encode_masked(OpCode::Pong, b"Hello", MASK, out));
    assert_eq!(pong, [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    // And the server reads back what the client wrote.
    let (header, at) = decode_split(&pong);
    assert_eq!(header, FrameHeader { fin: true, rsv: 0, opcode: OpCode::Pong, mask: Some(MASK), len: 5 });
    let mut payload = pong[at..].to_vec();
    unmask(&mut payload, MASK, 0);
    assert_eq!(payload, b"Hello");
}

#[test]
fn client_encoding_uses_minimal_lengths_and_masks_the_payload() {
    let mask = [1, 2, 3, 4];
    #[rustfmt::skip]
    let cases: &[(usize, &[u8])] = &[
        (0, &[0x82, 0x80]),
        (125, &[0x82, 0xfd]),
        (126, &[0x82, 0xfe, 0x00, 0x7e]),
        (65535, &[0x82, 0xfe, 0xff, 0xff]),
        (65536, &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0]),
    ];
    for &(len, header) in cases {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let out = encoded(|out| encode_masked(OpCode::Binary, &payload, mask, out));
        assert_eq!(&out[..header.len()], header, "len {len}");
        assert_eq!(out[header.len()..header.len() + 4], mask, "len {len}");
        let mut body = out[header.len() + 4..].to_vec();
        unmask(&mut body, mask, 0);
        assert_eq!(body, payload, "len {len}");
    }
    let close = encoded(|out| encode_masked(OpCode::Close, &[0x03, 0xe8], [0; 4], out));
    assert_eq!(close, [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
}
