//! Client-to-server masking (RFC 6455 §5.3).
//!
//! §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR
//! of octet i of the original data ("original-octet-i") with octet at index
//! i modulo 4 of the masking key ("masking-key-octet-j"):
//!
//! ```text
//!   j                   = i MOD 4
//!   transformed-octet-i = original-octet-i XOR masking-key-octet-j
//! ```
//!
//! The same operation masks and unmasks. Eight bytes are XORed at a time
//! with the key repeated twice in a `u64` (the compiler vectorises the loop);
//! no `unsafe`, no alignment games.

/// Unmasks (or masks) `data` in place. `offset` is the position of `data[0]`
/// within the frame's payload, so a payload can be unmasked in pieces.
pub fn unmask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    // The key as seen from data[0]: rotated by offset MOD 4.
    let key = mask_at(mask, offset);
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        if let Some(word) = chunk.first_chunk_mut::<8>() {
            *word = (u64::from_ne_bytes(*word) ^ wide).to_ne_bytes();
        }
    }
    // Every chunk was a multiple of 4 bytes long, so the tail starts at key[0].
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// The masking key rotated so that its first byte applies to payload octet
/// `offset`.
fn mask_at(mask: [u8; 4], offset: usize) -> [u8; 4] {
    let mut key = mask;
    key.rotate_left(offset % 4);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §5.3 read literally, one octet at a time.
    fn reference(data: &mut [u8], mask: [u8; 4], offset: usize) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte ^= mask[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_the_reference_for_lengths_and_offsets() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let original: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=70 {
            for offset in 0..12 {
                let mut fast = original[..len].to_vec();
                let mut slow = fast.clone();
                unmask(&mut fast, mask, offset);
                reference(&mut slow, mask, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
        let mut fast = original.clone();
        let mut slow = original.clone();
        unmask(&mut fast, mask, 1);
        reference(&mut slow, mask, 1);
        assert_eq!(fast, slow);
    }

    #[test]
    fn rfc_example_hello() {
        // §5.7: "0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58" contains "Hello".
        let mut data = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&data, b"Hello");
    }

    #[test]
    fn unmasking_in_pieces_equals_unmasking_whole() {
        let mask = [1, 2, 3, 4];
        let original: Vec<u8> = (0..100u8).collect();
        let mut whole = original.clone();
        unmask(&mut whole, mask, 0);
        for cut in 0..=original.len() {
            let mut pieces = original.clone();
            let (a, b) = pieces.split_at_mut(cut);
            unmask(a, mask, 0);
            unmask(b, mask, cut);
            assert_eq!(pieces, whole, "cut {cut}");
        }
    }

    #[test]
    fn masking_twice_restores() {
        let mut data = b"round trip through the mask".to_vec();
        unmask(&mut data, [9, 8, 7, 6], 3);
        unmask(&mut data, [9, 8, 7, 6], 3);
        assert_eq!(data, b"round trip through the mask");
    }
}
