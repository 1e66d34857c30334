//! BERT's uncased tokenizer exactly as Hugging Face `tokenizers` runs all-MiniLM-L6-v2's
//! `tokenizer.json`: special tokens matched in the raw text first (its added tokens are not
//! normalized), then `BertNormalizer` (clean text, space around CJK ideographs, strip accents
//! after NFD, lower-case char by char), `BertPreTokenizer` (split on white space, isolate each
//! punctuation character), `WordPiece` (greedy longest match, `##` continuations, `[UNK]` for a
//! word over 100 characters or one with no piece) and `[CLS] … [SEP]`.
//!
//! Tested against `tokenizers` 0.21.1 on 365 strings (`tests/fixtures/wordpiece.json`, made by
//! `tests/fixtures/gen_wordpiece.py`). Why not the `tokenizers` crate itself: it brings regex
//! engines, rayon and serde into the wasm for what is a hundred lines here; the Unicode tables
//! come from the same crates it uses (`unicode-normalization`, `unicode_categories`).

use std::collections::HashMap;

use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

use crate::error::{QuantError, Result};

/// The model's `max_seq_length` (sentence-transformers' config), [CLS] and [SEP] included.
pub const MAX_SEQ_LEN: usize = 256;
/// Longer words become one `[UNK]` (WordPiece's `max_input_chars_per_word`).
const MAX_WORD_CHARS: usize = 100;
const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// The vocabulary and the ids of the tokens the tokenizer itself inserts.
#[derive(Debug, Clone)]
pub struct WordPiece {
    ids: HashMap<String, u32>,
    tokens: Vec<String>,
    unk: u32,
    cls: u32,
    sep: u32,
}

/// One text as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// `[CLS]`, the pieces, `[SEP]`.
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// How many pieces were cut to fit [`MAX_SEQ_LEN`] (0: none).
    pub truncated: usize,
}

impl WordPiece {
    /// From `vocab.txt`: one token per line, its id the line number.
    pub fn from_vocab_txt(text: &str) -> Result<Self> {
        let tokens: Vec<String> = text
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect();
        let mut ids = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            // BERT's vocab.txt has no duplicates; if one appeared, the first line would win.
            ids.entry(t.clone()).or_insert(i as u32);
        }
        let id = |t: &'static str| {
            ids.get(t).copied().ok_or(QuantError::InvalidParameter {
                name: "vocab.txt",
                value: format!("{} lines without {t}", tokens.len()),
                allowed: "a BERT vocabulary with [UNK], [CLS] and [SEP]",
            })
        };
        let (unk, cls, sep) = (id("[UNK]")?, id("[CLS]")?, id("[SEP]")?);
        Ok(WordPiece {
            ids,
            tokens,
            unk,
            cls,
            sep,
        })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token of an id (`None` past the vocabulary).
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// `[CLS]` + the pieces of `text` + `[SEP]`, with no length limit.
    pub fn encode_all(&self, text: &str) -> Encoding {
        let mut ids = vec![self.cls];
        for segment in split_special(text) {
            match segment {
                Segment::Special(t) => ids.extend(self.ids.get(t).copied()),
                Segment::Text(t) => {
                    for word in pre_tokenize(&normalize(t)) {
                        self.word_pieces(&word, &mut ids);
                    }
                }
            }
        }
        ids.push(self.sep);
        let tokens = ids
            .iter()
            .map(|&i| self.token(i).unwrap_or("[UNK]").to_string())
            .collect();
        Encoding {
            ids,
            tokens,
            truncated: 0,
        }
    }

    /// [`encode_all`](Self::encode_all) cut to [`MAX_SEQ_LEN`] tokens (the last ones dropped,
    /// `[SEP]` kept), as sentence-transformers truncates; `truncated` says how many were cut.
    pub fn encode(&self, text: &str) -> Encoding {
        let mut e = self.encode_all(text);
        if e.ids.len() > MAX_SEQ_LEN {
            e.truncated = e.ids.len() - MAX_SEQ_LEN;
            e.ids.truncate(MAX_SEQ_LEN - 1);
            e.tokens.truncate(MAX_SEQ_LEN - 1);
            e.ids.push(self.sep);
            e.tokens.push("[SEP]".to_string());
        }
        e
    }

    /// Greedy longest-match-first WordPiece of one pre-tokenized word.
    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut candidate = String::new();
        while start < word.len() {
            let rest = word.get(start..).unwrap_or_default();
            // Ends of `rest` on char boundaries, longest first.
            let ends: Vec<usize> = rest
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain(std::iter::once(rest.len()))
                .collect();
            let mut found = None;
            for &end in ends.iter().rev() {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(rest.get(..end).unwrap_or_default());
                if let Some(&id) = self.ids.get(candidate.as_str()) {
                    found = Some((id, end));
                    break;
                }
            }
            match found {
                Some((id, len)) => {
                    pieces.push(id);
                    start += len;
                }
                None => {
                    out.push(self.unk);
                    return;
                }
            }
        }
        out.extend(pieces);
    }
}

enum Segment<'a> {
    Special(&'a str),
    Text(&'a str),
}

/// The text split around the special tokens written in it (`a[SEP]b` → `a`, `[SEP]`, `b`):
/// `tokenizers` matches its added tokens in the raw text, anywhere, before normalizing.
fn split_special(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while let Some(rest) = text.get(i..) {
        let Some(off) = rest.find('[') else { break };
        let at = i + off;
        let tail = text.get(at..).unwrap_or_default();
        match SPECIAL.iter().find(|s| tail.starts_with(*s)) {
            Some(s) => {
                if at > from {
                    out.push(Segment::Text(text.get(from..at).unwrap_or_default()));
                }
                out.push(Segment::Special(s));
                from = at + s.len();
                i = from;
            }
            None => i = at + 1,
        }
    }
    if from < text.len() {
        out.push(Segment::Text(text.get(from..).unwrap_or_default()));
    }
    out
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// The CJK Unified Ideograph blocks BERT pads with spaces (not Hangul, kana or CJK punctuation).
fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B920..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_punctuation()
}

/// `BertNormalizer` with clean_text, handle_chinese_chars, strip_accents and lowercase on.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_chinese(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(if is_whitespace(c) { ' ' } else { c });
        }
    }
    cleaned
        .nfd()
        .filter(|c| !c.is_mark_nonspacing())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `BertPreTokenizer`: words split at white space, every punctuation character on its own.
fn pre_tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() || is_punctuation(c) {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if is_punctuation(c) {
                words.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
