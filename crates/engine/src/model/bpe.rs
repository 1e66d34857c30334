//! GPT-2 byte-level BPE as llama.cpp runs it on a GGUF vocabulary (`tokenizer.ggml.model` =
//! `gpt2`): what SmolLM2 and most small Llama-architecture models use.
//!
//! 1. **Pre-tokenizer** (`tokenizer.ggml.pre`), llama.cpp's `unicode_regex_split` with the
//!    expressions of that name: `smollm` first cuts every number codepoint (`\p{N}`) into a
//!    piece of its own, then applies GPT-2's split
//!    `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` to every
//!    piece as llama.cpp's hand-written matcher (`unicode_regex_split_custom_gpt2`) does it:
//!    the lookahead sees only the piece, a run of spaces before a word leaves its last space to
//!    the word, the contractions are lower-case ASCII only. `gpt2` is the same without the
//!    digit step.
//! 2. Each piece's bytes become GPT-2's printable characters (byte 0x20 → `Ġ`, …), one
//!    symbol per byte.
//! 3. **Merges**: the adjacent pair with the lowest rank in `tokenizer.ggml.merges` merges
//!    first, the leftmost among equal ranks, until no pair has a rank (llama.cpp's
//!    `llm_tokenizer_bpe_session`). A final symbol missing from the vocabulary falls back to
//!    one token per byte.
//!
//! Text is always plain text: `<|im_start|>` written in a prompt is tokenized as the characters
//! it is made of, as llama.cpp does with `parse_special = false` (all of SmolLM2's special
//! tokens are control tokens). No BOS is added (SmolLM2's `add_bos_token` is false).
//!
//! Character classes come from the Unicode general categories of `unicode-properties`
//! (Unicode 16); `\s` is llama.cpp's list of whitespace codepoints. The tokenizer is checked
//! against llama.cpp's own output on 300+ strings (`tests/fixtures/smollm2_llamacpp.json`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::error::{QuantError, Result};

/// How text is cut into pieces before the merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2's split.
    Gpt2,
    /// Every number codepoint alone, then GPT-2's split (llama.cpp's `smollm`, also its
    /// `starcoder`, `refact`, `command-r`, `codeshell`, `exaone` and `minerva`).
    Smollm,
}

impl PreTokenizer {
    /// From `tokenizer.ggml.pre`.
    pub fn from_gguf(name: &str) -> Option<Self> {
        match name {
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone"
            | "minerva" => Some(Self::Smollm),
            "gpt2" | "gpt-2" | "mpt" | "olmo" | "jais" | "default" => Some(Self::Gpt2),
            _ => None,
        }
    }
}

pub use super::vocab::TokenType;
use super::vocab::Vocab;

/// The tokenizer.
#[derive(Clone, Debug)]
pub struct Bpe {
    vocab: Vocab,
    /// "left right" → rank.
    ranks: HashMap<String, u32>,
    pre: PreTokenizer,
}

/// Token ids and their vocabulary strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BpeEncoding {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
}

/// GPT-2's byte → printable character table (`bytes_to_unicode`): printable Latin-1 bytes
/// stand for themselves, the 68 others (0x00–0x20, 0x7F–0xA0, 0xAD) take U+0100… in byte order.
fn byte_char(b: u8) -> char {
    let v = u32::from(b);
    let mapped = match b {
        0x00..=0x20 => 256 + v,
        0x7F..=0xA0 => 289 + (v - 0x7F),
        0xAD => 323,
        _ => v,
    };
    char::from_u32(mapped).unwrap_or('?')
}

/// Inverse of [`byte_char`].
fn char_byte(c: char) -> Option<u8> {
    let v = c as u32;
    let b = match v {
        0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => v,
        256..=288 => v - 256,
        289..=322 => v - 289 + 0x7F,
        323 => 0xAD,
        _ => return None,
    };
    u8::try_from(b).ok()
}

impl Bpe {
    /// From the GGUF's `tokenizer.ggml.tokens`, `…merges` (lines "left right") and
    /// `…token_type` (empty: all normal).
    pub fn new(
        tokens: Vec<String>,
        merges: &[String],
        types: &[i64],
        pre: PreTokenizer,
    ) -> Result<Self> {
        let vocab = Vocab::new(tokens, types)?;
        let mut ranks = HashMap::with_capacity(merges.len());
        for (r, m) in merges.iter().enumerate() {
            if !m.contains(' ') {
                return Err(QuantError::BadModel {
                    part: "the tokenizer".into(),
                    reason: format!("merge {r} (`{m}`) is not two symbols separated by a space"),
                });
            }
            ranks.entry(m.clone()).or_insert(r as u32);
        }
        Ok(Bpe { vocab, ranks, pre })
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The bytes `id` stands for: its characters mapped back to bytes (llama.cpp's
    /// `token_to_piece`). Control tokens give their text with `special`, nothing without.
    pub fn piece(&self, id: u32, special: bool) -> Vec<u8> {
        let Some(t) = self.vocab.token(id) else {
            return Vec::new();
        };
        match self.vocab.token_type(id) {
            Some(TokenType::Control) => {
                return if special {
                    t.as_bytes().to_vec()
                } else {
                    Vec::new()
                }
            }
            Some(TokenType::UserDefined) => return t.as_bytes().to_vec(),
            _ => {}
        }
        let mut out = Vec::with_capacity(t.len());
        for c in t.chars() {
            match char_byte(c) {
                Some(b) => out.push(b),
                None => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        out
    }

    /// The text of `ids` (control tokens left out; bytes that are not UTF-8 shown as U+FFFD).
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&i| self.piece(i, false)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Token ids of plain text.
    pub fn encode(&self, text: &str) -> BpeEncoding {
        let mut ids = Vec::new();
        for piece in pre_split(text, self.pre) {
            self.merge_word(piece, &mut ids);
        }
        let tokens = self.vocab.tokens_of(&ids);
        BpeEncoding { ids, tokens }
    }

    fn rank(&self, key: &mut String, left: &str, right: &str) -> Option<u32> {
        key.clear();
        key.push_str(left);
        key.push(' ');
        key.push_str(right);
        self.ranks.get(key.as_str()).copied()
    }

    /// The merges on one pre-tokenized piece, its ids appended to `out`.
    fn merge_word(&self, piece: &str, out: &mut Vec<u32>) {
        let word: String = piece.bytes().map(byte_char).collect();
        // Symbols: byte ranges of `word`, linked; a merged-away symbol has len 0.
        let mut start = Vec::new();
        let mut len = Vec::new();
        for (i, c) in word.char_indices() {
            start.push(i);
            len.push(c.len_utf8());
        }
        let n = start.len();
        let mut prev: Vec<Option<usize>> = (0..n).map(|i| i.checked_sub(1)).collect();
        let mut next: Vec<Option<usize>> = (0..n).map(|i| (i + 1 < n).then_some(i + 1)).collect();
        let text = |i: usize, start: &[usize], len: &[usize]| -> String {
            let s = start.get(i).copied().unwrap_or(0);
            word.get(s..s + len.get(i).copied().unwrap_or(0))
                .unwrap_or_default()
                .to_string()
        };
        let mut key = String::new();
        // (rank, left index) smallest first; the pair's text guards against stale entries.
        let mut heap: BinaryHeap<Reverse<(u32, usize, String)>> = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<Reverse<(u32, usize, String)>>,
                    key: &mut String,
                    l: usize,
                    r: usize,
                    start: &[usize],
                    len: &[usize]| {
            let (a, b) = (text(l, start, len), text(r, start, len));
            if let Some(rank) = self.rank(key, &a, &b) {
                heap.push(Reverse((rank, l, a + &b)));
            }
        };
        for i in 1..n {
            push(&mut heap, &mut key, i - 1, i, &start, &len);
        }
        while let Some(Reverse((_, l, joined))) = heap.pop() {
            let Some(r) = next.get(l).copied().flatten() else {
                continue;
            };
            let (ll, rl) = (
                len.get(l).copied().unwrap_or(0),
                len.get(r).copied().unwrap_or(0),
            );
            if ll == 0 || rl == 0 {
                continue;
            }
            if text(l, &start, &len) + &text(r, &start, &len) != joined {
                continue;
            }
            if let Some(v) = len.get_mut(l) {
                *v = ll + rl;
            }
            if let Some(v) = len.get_mut(r) {
                *v = 0;
            }
            let rn = next.get(r).copied().flatten();
            if let Some(v) = next.get_mut(l) {
                *v = rn;
            }
            if let Some(rn) = rn {
                if let Some(v) = prev.get_mut(rn) {
                    *v = Some(l);
                }
            }
            if let Some(p) = prev.get(l).copied().flatten() {
                push(&mut heap, &mut key, p, l, &start, &len);
            }
            if let Some(rn) = rn {
                push(&mut heap, &mut key, l, rn, &start, &len);
            }
        }
        for i in 0..n {
            if len.get(i).copied().unwrap_or(0) == 0 {
                continue;
            }
            let sym = text(i, &start, &len);
            match self.vocab.id(&sym) {
                Some(id) => out.push(id),
                None => {
                    // One token per byte's character, as llama.cpp falls back.
                    for c in sym.chars() {
                        let mut buf = [0u8; 4];
                        if let Some(id) = self.vocab.id(c.encode_utf8(&mut buf)) {
                            out.push(id);
                        }
                    }
                }
            }
        }
    }
}

/// llama.cpp's `\s`.
fn is_space(c: char) -> bool {
    matches!(c as u32,
        0x09..=0x0D | 0x20 | 0x85 | 0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F
        | 0x205F | 0x3000)
}

fn is_letter(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Letter
}

fn is_number(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Number
}

/// The pieces of `text` (slices of it) in order.
pub fn pre_split(text: &str, pre: PreTokenizer) -> Vec<&str> {
    let mut out = Vec::new();
    match pre {
        PreTokenizer::Gpt2 => gpt2_split(text, &mut out),
        PreTokenizer::Smollm => {
            let mut from = 0;
            for (i, c) in text.char_indices() {
                if is_number(c) {
                    if from < i {
                        gpt2_split(text.get(from..i).unwrap_or_default(), &mut out);
                    }
                    let end = i + c.len_utf8();
                    out.push(text.get(i..end).unwrap_or_default());
                    from = end;
                }
            }
            if from < text.len() {
                gpt2_split(text.get(from..).unwrap_or_default(), &mut out);
            }
        }
    }
    out
}

/// GPT-2's split of one piece, as llama.cpp's `unicode_regex_split_custom_gpt2`.
fn gpt2_split<'a>(piece: &'a str, out: &mut Vec<&'a str>) {
    let cps: Vec<(usize, char)> = piece.char_indices().collect();
    let n = cps.len();
    let at = |i: usize| cps.get(i).map(|&(_, c)| c);
    let byte = |i: usize| cps.get(i).map_or(piece.len(), |&(b, _)| b);
    let mut pos = 0;
    let mut prev_end = 0;
    let emit = |end: usize, prev_end: &mut usize, out: &mut Vec<&'a str>| {
        if *prev_end < end {
            out.push(piece.get(byte(*prev_end)..byte(end)).unwrap_or_default());
        }
        *prev_end = end;
    };
    let other = |c: Option<char>| c.is_some_and(|c| !(is_space(c) || is_letter(c) || is_number(c)));
    while pos < n {
        let c = at(pos);
        // 's 't 're 've 'm 'll 'd
        if c == Some('\'') && pos + 1 < n {
            let c1 = at(pos + 1);
            if matches!(c1, Some('s' | 't' | 'm' | 'd')) {
                pos += 2;
                emit(pos, &mut prev_end, out);
                continue;
            }
            if pos + 2 < n {
                let c2 = at(pos + 2);
                if matches!(
                    (c1, c2),
                    (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l'))
                ) {
                    pos += 3;
                    emit(pos, &mut prev_end, out);
                    continue;
                }
            }
        }
        let lead = if c == Some(' ') { at(pos + 1) } else { c };
        // ' ?\p{L}+'
        if lead.is_some_and(is_letter) {
            pos += usize::from(c == Some(' '));
            while at(pos).is_some_and(is_letter) {
                pos += 1;
            }
            emit(pos, &mut prev_end, out);
            continue;
        }
        // ' ?\p{N}+'
        if lead.is_some_and(is_number) {
            pos += usize::from(c == Some(' '));
            while at(pos).is_some_and(is_number) {
                pos += 1;
            }
            emit(pos, &mut prev_end, out);
            continue;
        }
        // ' ?[^\s\p{L}\p{N}]+'
        if other(lead) {
            pos += usize::from(c == Some(' '));
            while other(at(pos)) {
                pos += 1;
            }
            emit(pos, &mut prev_end, out);
            continue;
        }
        let mut spaces = 0;
        while at(pos + spaces).is_some_and(is_space) {
            spaces += 1;
        }
        // '\s+(?!\S)': a run followed by more text leaves its last space to what follows.
        if spaces > 1 && at(pos + spaces).is_some() {
            pos += spaces - 1;
            emit(pos, &mut prev_end, out);
            continue;
        }
        // '\s+'
        if spaces > 0 {
            pos += spaces;
            emit(pos, &mut prev_end, out);
            continue;
        }
        pos += 1;
        emit(pos, &mut prev_end, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(char_byte(byte_char(b)), Some(b));
        }
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
    }

    #[test]
    fn splits_like_llama_cpp() {
        let s = |t| pre_split(t, PreTokenizer::Smollm);
        assert_eq!(s("Hello world"), ["Hello", " world"]);
        assert_eq!(s("a  b"), ["a", " ", " b"]);
        assert_eq!(s("a  "), ["a", "  "]);
        assert_eq!(s("I'll 12x"), ["I", "'ll", " ", "1", "2", "x"]);
        assert_eq!(s("hi!!! ok"), ["hi", "!!!", " ok"]);
        assert_eq!(s(""), Vec::<&str>::new());
    }
}
