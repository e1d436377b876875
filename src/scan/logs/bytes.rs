//! Byte search for the text formats: the first of two bytes from a place
//! in a line, eight-byte word tests, ASCII capitals.
//!
//! Log fields, keys and values are mostly short, so these are written for
//! short inputs: a 16-byte vector compare with no set-up to speak of
//! (`find_either`) rather than `memchr`, whose set-up costs more than a
//! short field takes to scan. Each is checked against a byte-by-byte
//! search by a test.

use super::json_index;

/// The first byte at or after `from` in `b` equal to `x` or `y`. Log
/// fields, keys and values are mostly short, so this is written for
/// them: 16 bytes at a time with one SSE2 compare ([`json_index::pair_mask`]),
/// and the last few bytes by one more compare of the line's last 16 bytes
/// (shifted past the ones already seen), with no set-up to speak of. It
/// replaced four 8-byte [`word_has`] steps and then `memchr2`, whose vector
/// search costs more to set up than a short field takes to scan.
#[inline(always)]
pub(crate) fn find_either(b: &[u8], from: usize, x: u8, y: u8) -> Option<usize> {
    find_masked(b, from, |block| json_index::pair_mask(block, x, y))
}

/// The first byte at or after `from` in `b` flagged by `mask` (bit `i`
/// of `mask(block)` for `block[i]`), 16 bytes at a time: the search
/// behind [`find_either`].
#[inline(always)]
pub(super) fn find_masked(b: &[u8], from: usize, mask: impl Fn(&[u8; 16]) -> u32) -> Option<usize> {
    let mut at = from;
    while let Some(block) = b
        .get(at..at + 16)
        .and_then(|w| <&[u8; 16]>::try_from(w).ok())
    {
        let hit = mask(block);
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize);
        }
        at += 16;
    }
    if at >= b.len() {
        return None;
    }
    // Fewer than 16 bytes left: the last 16 bytes of `b`, when it has
    // them, else a zero-padded copy of what is left.
    let hit = match b.len().checked_sub(16) {
        Some(last) => <&[u8; 16]>::try_from(b.get(last..)?)
            .ok()
            .map_or(0, |block| mask(block) >> (at - last)),
        None => {
            let mut block = [0u8; 16];
            let tail = b.get(at..)?;
            block.get_mut(..tail.len())?.copy_from_slice(tail);
            mask(&block) & ((1u32 << tail.len()) - 1)
        }
    };
    (hit != 0).then(|| at + hit.trailing_zeros() as usize)
}

/// Whether `b` has an ASCII capital letter, eight bytes at a time (a
/// byte of 0x80 or more is never one).
pub fn has_ascii_upper(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |i: usize| {
        b.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let upper = |w: u64| {
        // With the high bits cleared no byte carries into the next: a
        // byte is at least `A` when adding 0x3f sets its high bit, and
        // at most `Z` when adding 0x25 does not.
        let low = w & !HIGH;
        low.wrapping_add(0x3f * ONES) & !low.wrapping_add(0x25 * ONES) & !w & HIGH != 0
    };
    if b.len() < 8 {
        return b.iter().any(u8::is_ascii_uppercase);
    }
    let mut i = 0;
    while let Some(w) = word(i) {
        if upper(w) {
            return true;
        }
        i += 8;
    }
    // The last eight bytes (some already seen) for the tail.
    word(b.len() - 8).is_some_and(upper)
}

/// The bytes of `word` equal to `c`, each flagged by its high bit: the
/// lowest flag is exact, higher ones may be false (a borrow can run on
/// from a match), so a caller either only asks whether there is one or
/// takes the lowest.
#[inline]
pub(crate) fn word_has(word: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_ascii_upper_agrees_with_the_byte_test() {
        for n in 0..20_000u32 {
            let text: Vec<u8> = (0..(n % 23))
                .map(|i| {
                    let x = n.wrapping_mul(2_654_435_761) ^ (i * 40_503);
                    [
                        b'@', b'A', b'Z', b'[', b'a', b'z', 0xc1, 0xda, 0x80, b'.', b'-', b'5',
                    ][(x >> 7) as usize % 12]
                })
                .collect();
            assert_eq!(
                has_ascii_upper(&text),
                text.iter().any(u8::is_ascii_uppercase),
                "{text:?}"
            );
        }
    }

    /// The vector search finds what a byte-by-byte search finds, from
    /// every start, in lines shorter than one vector, of a few vectors,
    /// and with the hit in the overlapping last block or not at all.
    #[test]
    fn find_either_agrees_with_a_byte_search() {
        let mut searches = 0;
        for len in 0..70usize {
            for seed in 0..12u32 {
                let line: Vec<u8> = (0..len)
                    .map(|i| {
                        let x = (seed.wrapping_mul(2_654_435_761) ^ (i as u32 * 40_503)) >> 5;
                        // Sparse hits, and none at all for seed 0.
                        match (seed, x % 23) {
                            (0, _) => b'a',
                            (_, 0) => b'"',
                            (_, 1) => b'\\',
                            _ => b'a' + (x % 7) as u8,
                        }
                    })
                    .collect();
                for from in 0..=len + 1 {
                    let naive = (from..len).find(|&i| matches!(line.get(i), Some(b'"' | b'\\')));
                    assert_eq!(
                        find_either(&line, from, b'"', b'\\'),
                        naive,
                        "{:?} from {from}",
                        String::from_utf8_lossy(&line)
                    );
                    searches += 1;
                }
            }
        }
        assert!(searches > 25_000);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_pair_mask_agrees_with_the_byte_one() {
        for seed in 0..5000u32 {
            let block: [u8; 16] = std::array::from_fn(|i| {
                let x = (seed.wrapping_mul(2_654_435_761) ^ (i as u32 * 40_503)) >> 7;
                b" \"a:\xff\x80"[(x % 6) as usize]
            });
            for (x, y) in [(b' ', b' '), (b'"', b'\\'), (b':', 0xff)] {
                assert_eq!(
                    json_index::pair_mask(&block, x, y),
                    json_index::pair_mask_bytes(&block, x, y)
                );
            }
        }
    }
}
