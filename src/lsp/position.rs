//! Byte offsets (what the AST's spans are) to LSP positions and back.
//!
//! An LSP position is a line and a column counted in the negotiated
//! encoding's code units: UTF-16 by default (a `—` is one unit, a `😀`
//! two), UTF-8 bytes when the client offers `utf-8` in
//! `general.positionEncodings` (then the column is the byte distance from
//! the line's start). Rule files quote contracts, so their lines are often
//! not ASCII: every conversion goes through here. A position past a line's
//! end is that line's end; a line past the file's end is the file's end;
//! an offset inside a character is that character's start.

use lsp_types::Position;

/// The column unit agreed with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// Where each line of a text starts.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The position of byte `offset` of `text`.
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts.get(line).copied().unwrap_or(0);
        let before = text.get(start..offset).unwrap_or("");
        let character = match enc {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.chars().map(char::len_utf16).sum(),
        };
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(character).unwrap_or(u32::MAX),
        }
    }

    /// The byte offset of `pos` in `text`.
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&n| n - 1);
        let line = text.get(start..end).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let want = pos.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= want {
                return start + i;
            }
            units += match enc {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
        }
        start + line.len()
    }

    /// The range of a byte span.
    pub fn range(
        &self,
        text: &str,
        span: &std::ops::Range<usize>,
        enc: Encoding,
    ) -> lsp_types::Range {
        lsp_types::Range {
            start: self.position(text, span.start, enc),
            end: self.position(text, span.end.max(span.start), enc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf8_columns_on_a_line_with_an_em_dash_and_an_emoji() {
        let text = "a\ncite x \"— 😀 z\"\n";
        let idx = LineIndex::new(text);
        let z = text.find('z').unwrap_or(0);
        // `cite x "` is 8 units; `—` 1 UTF-16 unit (3 bytes); space; `😀`
        // 2 units (4 bytes); space: 13 UTF-16 units, 17 bytes.
        assert_eq!(idx.position(text, z, Encoding::Utf16), Position::new(1, 13));
        assert_eq!(idx.position(text, z, Encoding::Utf8), Position::new(1, 17));
        assert_eq!(idx.offset(text, Position::new(1, 13), Encoding::Utf16), z);
        assert_eq!(idx.offset(text, Position::new(1, 17), Encoding::Utf8), z);
        // Past the line's end: the line's end; past the file: its end.
        assert_eq!(idx.offset(text, Position::new(0, 99), Encoding::Utf16), 1);
        assert_eq!(
            idx.offset(text, Position::new(9, 0), Encoding::Utf16),
            text.len()
        );
        // Inside a character: its start.
        let dash = text.find('—').unwrap_or(0);
        assert_eq!(
            idx.position(text, dash + 1, Encoding::Utf16),
            Position::new(1, 8)
        );
    }
}
