//! SentencePiece's BPE as llama.cpp runs it on a GGUF vocabulary (`tokenizer.ggml.model` =
//! `llama`): the tokenizer of Llama 2, TinyLlama and their kin.
//!
//! llama.cpp's `llm_tokenizer_spm` (after its original 074bea2e), step by step:
//! 1. A space is put in front of the text when `tokenizer.ggml.add_space_prefix` holds (the
//!    default), then every ' ' becomes U+2581 `▁`. There is no pre-tokenizer: the whole text is
//!    one word. The empty text gives no pieces.
//! 2. Each character is a symbol. Every adjacent pair whose concatenation is a vocabulary token
//!    is queued with that token's score; the highest score merges first, ties going to the
//!    leftmost pair; entries made stale by an earlier merge are skipped.
//! 3. Each final symbol is its token, or — for a character the vocabulary lacks — one byte
//!    token `<0xXX>` per UTF-8 byte (byte fallback), else the unknown token.
//! 4. `<s>` goes first when `tokenizer.ggml.add_bos_token` holds (the default for this kind).
//!
//! llama.cpp also keeps a "reverse merge" map to re-split a final symbol that is not a token;
//! every merged symbol is a token by construction (a pair is only queued when its text is one),
//! so only single characters can miss, and those take the byte fallback here as there. User-
//! defined tokens are not split out of the text first (neither does [`super::bpe`]); no
//! Llama-family vocabulary in use has them.
//!
//! Scores are compared with `f32::total_cmp`, so a NaN score in a hostile file orders
//! deterministically instead of breaking the heap (llama.cpp's comparison is undefined there).
//!
//! Tested against llama.cpp itself (llama-cpp-python) on 400+ strings and every id's piece
//! (`crates/weights/tests/spm.rs`, fixtures by `tests/fixtures/gen_spm_llamacpp.py`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::bpe::BpeEncoding;
use super::vocab::{TokenType, Vocab};
use crate::error::{QuantError, Result};

/// How a SentencePiece vocabulary is used (the GGUF's switches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpmOptions {
    /// `tokenizer.ggml.add_space_prefix` (default true).
    pub add_space_prefix: bool,
    /// `tokenizer.ggml.add_bos_token` (default true).
    pub add_bos: bool,
    /// `tokenizer.ggml.bos_token_id` (default 1).
    pub bos: u32,
    /// `tokenizer.ggml.unknown_token_id` (default 0).
    pub unk: u32,
}

impl Default for SpmOptions {
    fn default() -> Self {
        SpmOptions {
            add_space_prefix: true,
            add_bos: true,
            bos: 1,
            unk: 0,
        }
    }
}

/// The tokenizer.
#[derive(Clone, Debug)]
pub struct Spm {
    vocab: Vocab,
    scores: Vec<f32>,
    /// The `<0xXX>` token of each byte (else the byte as a one-character token).
    byte_ids: Vec<Option<u32>>,
    opts: SpmOptions,
}

/// A queued pair: the left symbol, the merged length in bytes, the token's score.
#[derive(Clone, Copy, Debug)]
struct Bigram {
    score: f32,
    left: usize,
    size: usize,
}

impl PartialEq for Bigram {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Bigram {}
impl PartialOrd for Bigram {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Bigram {
    /// The max-heap's top is the highest score, then the leftmost pair.
    fn cmp(&self, o: &Self) -> Ordering {
        self.score
            .total_cmp(&o.score)
            .then_with(|| o.left.cmp(&self.left))
    }
}

impl Spm {
    /// From the GGUF's `tokenizer.ggml.tokens`, `…scores` and `…token_type` (empty: all
    /// normal, scores 0).
    pub fn new(
        tokens: Vec<String>,
        scores: &[f32],
        types: &[i64],
        opts: SpmOptions,
    ) -> Result<Self> {
        let bad = |reason: String| QuantError::BadModel {
            part: "the tokenizer".into(),
            reason,
        };
        let vocab = Vocab::new(tokens, types)?;
        for (what, id) in [("beginning-of-text", opts.bos), ("unknown", opts.unk)] {
            if id as usize >= vocab.len() {
                return Err(bad(format!(
                    "its {what} token id {id} is outside its {} tokens",
                    vocab.len()
                )));
            }
        }
        let byte_ids = (0..=255u8)
            .map(|b| {
                vocab.id(&format!("<0x{b:02X}>")).or_else(|| {
                    char::from_u32(u32::from(b))
                        .filter(|_| b.is_ascii())
                        .and_then(|c| vocab.id(c.encode_utf8(&mut [0u8; 4])))
                })
            })
            .collect();
        let scores = (0..vocab.len())
            .map(|i| scores.get(i).copied().unwrap_or(0.0))
            .collect();
        Ok(Spm {
            vocab,
            scores,
            byte_ids,
            opts,
        })
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The bytes `id` stands for, as llama.cpp's `token_to_piece` (lstrip 0): `▁` back to
    /// ' ', a byte token its byte; control and unknown tokens give their text with `special`,
    /// nothing without; unused tokens nothing.
    pub fn piece(&self, id: u32, special: bool) -> Vec<u8> {
        let Some(t) = self.vocab.token(id) else {
            return Vec::new();
        };
        match self.vocab.token_type(id) {
            Some(TokenType::Control | TokenType::Unknown) if !special => Vec::new(),
            Some(TokenType::Control | TokenType::Unknown | TokenType::UserDefined) => {
                t.as_bytes().to_vec()
            }
            Some(TokenType::Normal) => t.replace('\u{2581}', " ").into_bytes(),
            Some(TokenType::Byte) => t
                .strip_prefix("<0x")
                .and_then(|h| h.strip_suffix('>'))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .map_or_else(Vec::new, |b| vec![b]),
            Some(TokenType::Unused) | None => Vec::new(),
        }
    }

    /// The text of `ids` as llama.cpp's `llama_detokenize` (remove_special, no unparsing):
    /// a leading `<s>` is dropped; without one, the space `add_space_prefix` put in front of
    /// the first piece is taken off again (with one, llama.cpp keeps it, and so does this).
    /// Control tokens give nothing; bytes that are not UTF-8 are shown as U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let (ids, strip) = match ids.split_first() {
            Some((&b, rest)) if self.opts.add_bos && b == self.opts.bos => (rest, false),
            _ => (ids, self.opts.add_space_prefix),
        };
        let mut bytes = Vec::new();
        for (k, &i) in ids.iter().enumerate() {
            let p = self.piece(i, false);
            let skip = usize::from(k == 0 && strip && p.first() == Some(&b' '));
            bytes.extend_from_slice(p.get(skip..).unwrap_or_default());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The text of `ids` that continue a text: every piece as it is.
    pub fn continuation(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&i| self.piece(i, false)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Token ids of plain text (`<s>` first when the vocabulary adds it).
    pub fn encode(&self, text: &str) -> BpeEncoding {
        let mut ids = Vec::new();
        if self.opts.add_bos {
            ids.push(self.opts.bos);
        }
        if !text.is_empty() {
            let mut s = String::with_capacity(text.len() + 4);
            if self.opts.add_space_prefix {
                s.push(' ');
            }
            s.push_str(text);
            self.merge(&s.replace(' ', "\u{2581}"), &mut ids);
        }
        let tokens = self.vocab.tokens_of(&ids);
        BpeEncoding { ids, tokens }
    }

    fn score(&self, text: &str) -> Option<f32> {
        let id = self.vocab.id(text)?;
        self.scores.get(id as usize).copied()
    }

    /// Steps 2 and 3 on the escaped text.
    fn merge(&self, text: &str, out: &mut Vec<u32>) {
        // Symbols are byte ranges of `text`; a merged-away symbol has len 0.
        let start: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let mut len: Vec<usize> = text.chars().map(char::len_utf8).collect();
        let n = start.len();
        let mut prev: Vec<Option<usize>> = (0..n).map(|i| i.checked_sub(1)).collect();
        let mut next: Vec<Option<usize>> = (0..n).map(|i| (i + 1 < n).then_some(i + 1)).collect();
        let span = |from: usize, bytes: usize| text.get(from..from + bytes).unwrap_or_default();
        let mut heap = BinaryHeap::new();
        let try_pair = |heap: &mut BinaryHeap<Bigram>, l: usize, r: usize, len: &[usize]| {
            let (Some(&from), Some(&ll), Some(&rl)) = (start.get(l), len.get(l), len.get(r)) else {
                return;
            };
            if let Some(score) = self.score(span(from, ll + rl)) {
                heap.push(Bigram {
                    score,
                    left: l,
                    size: ll + rl,
                });
            }
        };
        for i in 1..n {
            try_pair(&mut heap, i - 1, i, &len);
        }
        while let Some(b) = heap.pop() {
            let l = b.left;
            let Some(r) = next.get(l).copied().flatten() else {
                continue;
            };
            let (ll, rl) = (
                len.get(l).copied().unwrap_or(0),
                len.get(r).copied().unwrap_or(0),
            );
            if ll == 0 || rl == 0 || ll + rl != b.size {
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
            if let Some(v) = rn.and_then(|rn| prev.get_mut(rn)) {
                *v = Some(l);
            }
            if let Some(p) = prev.get(l).copied().flatten() {
                try_pair(&mut heap, p, l, &len);
            }
            if let Some(rn) = rn {
                try_pair(&mut heap, l, rn, &len);
            }
        }
        let mut i = Some(0).filter(|_| n > 0);
        while let Some(k) = i {
            let sym = span(
                start.get(k).copied().unwrap_or(0),
                len.get(k).copied().unwrap_or(0),
            );
            match self.vocab.id(sym) {
                Some(id) => out.push(id),
                None => out.extend(sym.bytes().map(|b| {
                    self.byte_ids
                        .get(usize::from(b))
                        .copied()
                        .flatten()
                        .unwrap_or(self.opts.unk)
                })),
            }
            i = next.get(k).copied().flatten();
        }
    }
}
