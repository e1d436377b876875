//! A structural index of one JSON line: where its unescaped quotes are,
//! and where its brackets `{ } [ ]` are outside strings. This is the first stage
//! of simdjson (Langdale and Lemire, "Parsing Gigabytes of JSON per
//! Second", 2019), simplified for lines of a few hundred bytes.
//!
//! The line is classified 64 bytes at a time into bit masks (with AVX2 or
//! SSE2 on x86-64, one byte at a time elsewhere); a prefix XOR of the quote mask
//! tells which bytes are inside strings, so that a `,` or `}` inside a
//! string is not taken for structure. The JSON parser then walks only the
//! set bits ([`Cursor`]) instead of every byte: skipping a string or a
//! nested object costs a few bit operations whatever its length.
//!
//! The index only says where structure *may* be. It does not check the
//! line: the walk in [`super::jsonl`] checks everything it steps over and
//! hands any line it is not sure of to the byte-by-byte parser, which has
//! the final say (and the error messages).
//!
//! The other vector helpers of the log readers live here too, so that the
//! `unsafe` of `std::arch` is in one file: [`url_plain`] (whether a host or
//! path needs cutting) and [`pair_mask`] (the step of
//! `super::find_either`, the short-field search of every text format).

/// Lines up to this many bytes are indexed; a longer line is left to the
/// byte-by-byte parser (it is rare, and the index lives on the stack).
pub const MAX_LEN: usize = WORDS * 64;
const WORDS: usize = 32;

/// The structural bits of one line. One is kept per worker and rebuilt
/// for each line (only the words the line needs are written).
#[derive(Debug, Default)]
pub struct Index {
    /// Bit `i % 64` of word `i / 64` is set when byte `i` is an unescaped
    /// `"`, or a bracket outside a string. (`:` and `,` are left out: the
    /// walk checks them at the one place each must be, and the fewer
    /// positions, the faster the walk.)
    events: [u64; WORDS],
    /// How many words of `events` the last line filled.
    words: usize,
    /// Whether the line has a `\` anywhere: when it has none (the common
    /// case), no string in it needs unescaping.
    pub has_backslash: bool,
}

/// The masks of one 64-byte block: quotes, backslashes, and brackets
/// (wherever they are).
struct Block {
    quote: u64,
    backslash: u64,
    structural: u64,
}

impl Index {
    /// Indexes `b`, replacing what the index held; `false` when `b` is
    /// longer than [`MAX_LEN`], ends inside a string or has a `\` outside
    /// one.
    pub fn build(&mut self, b: &[u8]) -> bool {
        if b.len() > MAX_LEN {
            return false;
        }
        self.words = b.len().div_ceil(64);
        self.has_backslash = false;
        // Whether the first byte of the next block is escaped by a `\`
        // ending this one, and whether the next block starts in a string
        // (all ones) or not (zero).
        let mut escape_carry = 0u64;
        let mut in_string = 0u64;
        for (word, chunk) in self.events.iter_mut().zip(b.chunks(64)) {
            let block = match <&[u8; 64]>::try_from(chunk) {
                Ok(full) => classify(full),
                Err(_) => {
                    let mut padded = [b' '; 64];
                    // INVARIANT: `chunks(64)` makes no chunk longer than 64.
                    #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                    padded[..chunk.len()].copy_from_slice(chunk);
                    classify(&padded)
                }
            };
            let escaped = if block.backslash == 0 && escape_carry == 0 {
                0
            } else {
                self.has_backslash |= block.backslash != 0;
                escaped_bits(block.backslash, &mut escape_carry)
            };
            let quote = block.quote & !escaped;
            // Bytes from an opening quote (included) to its closing quote
            // (excluded).
            let inside = prefix_xor(quote) ^ in_string;
            in_string = ((inside as i64) >> 63) as u64;
            // A `\` escapes only inside a string; one outside is not JSON,
            // and the masks above would have read it as an escape.
            if block.backslash & !inside != 0 {
                return false;
            }
            *word = quote | (block.structural & !inside);
        }
        in_string == 0
    }
}

/// Which bytes of a block are escaped (preceded by an odd run of `\`),
/// carrying an escape across the block's end.
fn escaped_bits(backslash: u64, carry: &mut u64) -> u64 {
    let mut escaped = *carry;
    *carry = 0;
    let mut rest = backslash;
    while rest != 0 {
        let i = rest.trailing_zeros();
        rest &= rest - 1;
        if escaped & (1 << i) != 0 {
            continue; // an escaped `\` escapes nothing
        }
        if i == 63 {
            *carry = 1;
        } else {
            escaped |= 1 << (i + 1);
        }
    }
    escaped
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `x`.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(target_arch = "x86_64")]
fn classify(block: &[u8; 64]) -> Block {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above; std caches the
        // answer), and `classify_avx2` reads nothing but `block`.
        #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
        unsafe {
            classify_avx2(block)
        }
    } else {
        // SAFETY: SSE2 is part of the x86-64 baseline: every x86-64 CPU
        // has it, and `classify_sse2` reads nothing but `block`.
        #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
        unsafe {
            classify_sse2(block)
        }
    }
}

/// [`classify_sse2`] 32 bytes at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn classify_avx2(block: &[u8; 64]) -> Block {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let bits = |m: __m256i| u64::from(_mm256_movemask_epi8(m) as u32);
    let (quote, backslash, open, close) = (
        _mm256_set1_epi8(b'"' as i8),
        _mm256_set1_epi8(b'\\' as i8),
        _mm256_set1_epi8(b'{' as i8),
        _mm256_set1_epi8(b'}' as i8),
    );
    let lower = _mm256_set1_epi8(0x20);
    let mut out = Block {
        quote: 0,
        backslash: 0,
        structural: 0,
    };
    for k in 0..2 {
        let at = 32 * k;
        // SAFETY: `at + 32 <= 64`: the 32 bytes read are `block`'s
        // (an unaligned load, which `loadu` allows).
        #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(at).cast::<__m256i>()) };
        // `[` and `]` are `{` and `}` with bit 0x20 cleared.
        let folded = _mm256_or_si256(v, lower);
        let structural = _mm256_or_si256(
            _mm256_cmpeq_epi8(folded, open),
            _mm256_cmpeq_epi8(folded, close),
        );
        out.quote |= bits(_mm256_cmpeq_epi8(v, quote)) << at;
        out.backslash |= bits(_mm256_cmpeq_epi8(v, backslash)) << at;
        out.structural |= bits(structural) << at;
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn classify_sse2(block: &[u8; 64]) -> Block {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let bits = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16);
    let (quote, backslash, open, close) = (
        _mm_set1_epi8(b'"' as i8),
        _mm_set1_epi8(b'\\' as i8),
        _mm_set1_epi8(b'{' as i8),
        _mm_set1_epi8(b'}' as i8),
    );
    let lower = _mm_set1_epi8(0x20);
    let mut out = Block {
        quote: 0,
        backslash: 0,
        structural: 0,
    };
    for k in 0..4 {
        // SAFETY: `16 * k + 16 <= 64`: the 16 bytes read are `block`'s
        // (an unaligned load, which `loadu` allows).
        #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
        let v = unsafe { _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>()) };
        // `[` and `]` are `{` and `}` with bit 0x20 cleared.
        let folded = _mm_or_si128(v, lower);
        let structural = _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close));
        out.quote |= bits(_mm_cmpeq_epi8(v, quote)) << (16 * k);
        out.backslash |= bits(_mm_cmpeq_epi8(v, backslash)) << (16 * k);
        out.structural |= bits(structural) << (16 * k);
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
fn classify(block: &[u8; 64]) -> Block {
    classify_bytes(block)
}

/// The portable classification, one byte at a time (also the reference
/// the vector ones are tested against).
#[cfg_attr(
    target_arch = "x86_64",
    allow(
        dead_code,
        reason = "x86-64 classifies with vectors; tests compare them to this"
    )
)]
fn classify_bytes(block: &[u8; 64]) -> Block {
    let mut out = Block {
        quote: 0,
        backslash: 0,
        structural: 0,
    };
    for (i, &c) in block.iter().enumerate() {
        out.quote |= u64::from(c == b'"') << i;
        out.backslash |= u64::from(c == b'\\') << i;
        out.structural |= u64::from(matches!(c, b'{' | b'}' | b'[' | b']')) << i;
    }
    out
}

/// Whether `b[from..to]` has none of the bytes that make a host or a
/// path more than its plain self: `(no ':' '?' '#', no '/')`. Read as two
/// 16-byte vectors from `from`, so `None` (the caller reads the value
/// itself) when the value is over 32 bytes, runs to within 32 bytes of
/// the end of `b`, or the CPU is not x86-64.
pub fn url_plain(b: &[u8], from: usize, to: usize) -> Option<(bool, bool)> {
    let n = to.checked_sub(from)?;
    let bytes = <&[u8; 32]>::try_from(b.get(from..from + 32)?).ok()?;
    if n > 32 {
        return None;
    }
    let (marks, slashes) = url_bytes(bytes)?;
    let keep = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
    Some((marks & keep == 0, slashes & keep == 0))
}

/// The `:`/`?`/`#` and `/` masks of 32 bytes.
#[cfg(target_arch = "x86_64")]
fn url_bytes(bytes: &[u8; 32]) -> Option<(u32, u32)> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, and the two unaligned
    // 16-byte loads read `bytes`' 32 bytes.
    #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
    let masks = unsafe {
        let eq = |v: __m128i, c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        let half = |at: usize| {
            let v = _mm_loadu_si128(bytes.as_ptr().add(at).cast::<__m128i>());
            let m = _mm_or_si128(_mm_or_si128(eq(v, b':'), eq(v, b'?')), eq(v, b'#'));
            (
                _mm_movemask_epi8(m) as u32 & 0xffff,
                _mm_movemask_epi8(eq(v, b'/')) as u32 & 0xffff,
            )
        };
        let (lo, hi) = (half(0), half(16));
        (lo.0 | hi.0 << 16, lo.1 | hi.1 << 16)
    };
    Some(masks)
}

#[cfg(not(target_arch = "x86_64"))]
fn url_bytes(_bytes: &[u8; 32]) -> Option<(u32, u32)> {
    None
}

/// The bytes of a 16-byte block equal to `x` or `y`, one bit each (bit
/// `i` for byte `i`): the vector step of `super::find_either`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn pair_mask(block: &[u8; 16], x: u8, y: u8) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, and the unaligned
    // 16-byte load reads `block`'s 16 bytes.
    #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let hit = _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(x as i8)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8(y as i8)),
        );
        _mm_movemask_epi8(hit) as u32 & 0xffff
    }
}

/// [`pair_mask`] without vectors: byte by byte.
#[cfg_attr(
    target_arch = "x86_64",
    allow(
        dead_code,
        reason = "x86-64 compares with vectors; tests compare them to this"
    )
)]
pub fn pair_mask_bytes(block: &[u8; 16], x: u8, y: u8) -> u32 {
    block
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c == x || c == y)
        .fold(0, |m, (i, _)| m | 1 << i)
}

#[cfg(not(target_arch = "x86_64"))]
pub use pair_mask_bytes as pair_mask;

/// What [`Cursor::next_event`] returns past the last position.
pub const END: usize = usize::MAX >> 1;

/// Walks an [`Index`]'s positions in order.
pub struct Cursor<'i> {
    events: &'i [u64],
    word: usize,
    /// `64 * word`: the position of bit 0 of `bits`.
    base: usize,
    bits: u64,
}

impl<'i> Cursor<'i> {
    pub fn new(ix: &'i Index) -> Cursor<'i> {
        // INVARIANT: `build` keeps `words` at most `MAX_LEN / 64`, the
        // length of `events`.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let events = &ix.events[..ix.words];
        Cursor {
            events,
            word: 0,
            base: 0,
            bits: events.first().copied().unwrap_or(0),
        }
    }

    /// The next position, or [`END`] past the last (a position past any
    /// line, so that reading the byte there finds nothing, and small
    /// enough to add to).
    #[inline]
    pub fn next_event(&mut self) -> usize {
        while self.bits == 0 {
            self.word += 1;
            self.base += 64;
            match self.events.get(self.word) {
                Some(&w) => self.bits = w,
                None => return END,
            }
        }
        let at = self.base + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(line: &str) -> Option<Vec<usize>> {
        let mut ix = Index::default();
        if !ix.build(line.as_bytes()) {
            return None;
        }
        let mut c = Cursor::new(&ix);
        let mut out = Vec::new();
        loop {
            let p = c.next_event();
            if p == END {
                break;
            }
            out.push(p);
        }
        Some(out)
    }

    /// The positions by a plain reading of JSON's string rules.
    fn reference(line: &str) -> Option<Vec<usize>> {
        let b = line.as_bytes();
        let (mut out, mut inside, mut i) = (Vec::new(), false, 0);
        while let Some(&c) = b.get(i) {
            if inside {
                match c {
                    b'\\' => i += 1,
                    b'"' => {
                        inside = false;
                        out.push(i);
                    }
                    _ => {}
                }
            } else if c == b'\\' {
                return None;
            } else if c == b'"' {
                inside = true;
                out.push(i);
            } else if matches!(c, b'{' | b'}' | b'[' | b']') {
                out.push(i);
            }
            i += 1;
        }
        (!inside).then_some(out)
    }

    #[test]
    fn agrees_with_a_plain_reading_across_block_edges() {
        let mut lines = vec![
            r#"{"a":"x,y}","b":[1,{"c":"\"}"}],"d":"\\"}"#.to_string(),
            r#"{"a":"unterminated}"#.to_string(),
            String::new(),
        ];
        // Escapes, quotes and structure at every offset around the
        // 64-byte edges, so that every carry is exercised.
        for pad in 0..140 {
            for tail in [
                r#""\\\"",:{}"#,
                r#"\"{"x":"a\\"}"#,
                r#""\\\\",["]"]"#,
                r#"\\"#,
            ] {
                lines.push(format!("{}{tail}{}", "a".repeat(pad), "b".repeat(pad % 7)));
            }
        }
        for line in &lines {
            assert_eq!(positions(line), reference(line), "{line}");
        }
        assert!(positions(&"x".repeat(MAX_LEN + 1)).is_none());
        assert!(positions(&"x".repeat(MAX_LEN)).is_some());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_and_portable_classification_agree() {
        let mut block = [0u8; 64];
        for seed in 0..2000u32 {
            for (i, b) in block.iter_mut().enumerate() {
                let x = (seed.wrapping_mul(2_654_435_761) ^ (i as u32).wrapping_mul(40503)) >> 7;
                let palette = b"\"\\{}[]:,a \x7b\xfb\xdb\xba";
                *b = palette.get((x % 15) as usize).copied().unwrap_or(b'a');
            }
            let b = classify_bytes(&block);
            #[allow(unsafe_code, reason = "a vector intrinsic: see the SAFETY comment")]
            // SAFETY: SSE2 is baseline on x86-64; AVX2 only where detected.
            let fast = unsafe {
                let mut fast = vec![classify_sse2(&block)];
                if std::arch::is_x86_feature_detected!("avx2") {
                    fast.push(classify_avx2(&block));
                }
                fast
            };
            for a in fast {
                assert_eq!(
                    (a.quote, a.backslash, a.structural),
                    (b.quote, b.backslash, b.structural)
                );
            }
        }
    }
}
