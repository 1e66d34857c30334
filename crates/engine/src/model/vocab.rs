//! A language model's tokenizer, whichever of llama.cpp's two kinds its GGUF names:
//! byte-level BPE (`gpt2`: SmolLM2, [`super::bpe`]) or SentencePiece (`llama`: Llama 2,
//! TinyLlama, [`super::spm`]). The model and the pages only see this.

use std::collections::HashMap;

use super::bpe::{Bpe, BpeEncoding};
use super::spm::Spm;
use crate::error::{QuantError, Result};

/// A token's type, as `tokenizer.ggml.token_type` stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

impl TokenType {
    pub fn from_gguf(v: i64) -> Self {
        match v {
            2 => Self::Unknown,
            3 => Self::Control,
            4 => Self::UserDefined,
            5 => Self::Unused,
            6 => Self::Byte,
            _ => Self::Normal,
        }
    }
}

/// A GGUF vocabulary as llama.cpp's `llama_vocab::load` keeps it, whichever the tokenizer: a
/// token string is read as a C string (cut at its first NUL), an empty one becomes
/// `[EMPTY_<id>]`, of duplicated strings the last id wins, and a missing type is normal.
#[derive(Clone, Debug)]
pub struct Vocab {
    tokens: Vec<String>,
    types: Vec<TokenType>,
    ids: HashMap<String, u32>,
}

impl Vocab {
    /// From `tokenizer.ggml.tokens` and `…token_type` (empty: all normal).
    pub fn new(mut tokens: Vec<String>, types: &[i64]) -> Result<Self> {
        let bad = |reason: &str| QuantError::BadModel {
            part: "the tokenizer".into(),
            reason: reason.into(),
        };
        if tokens.is_empty() {
            return Err(bad("its vocabulary is empty"));
        }
        if tokens.len() > u32::MAX as usize {
            return Err(bad("its vocabulary is too large"));
        }
        let mut ids = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter_mut().enumerate() {
            if let Some(nul) = t.find('\0') {
                t.truncate(nul);
            }
            if t.is_empty() {
                *t = format!("[EMPTY_{i}]");
            }
            ids.insert(t.clone(), i as u32);
        }
        let types = (0..tokens.len())
            .map(|i| {
                types
                    .get(i)
                    .map_or(TokenType::Normal, |&t| TokenType::from_gguf(t))
            })
            .collect();
        Ok(Vocab { tokens, types, ids })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The vocabulary string of `id` (`ĠParis` in GPT-2's printable form, `▁Paris`, `<0x0A>`).
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        self.types.get(id as usize).copied()
    }

    /// The id of a vocabulary string.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The strings of `ids`.
    pub fn tokens_of(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&i| self.token(i).unwrap_or_default().to_string())
            .collect()
    }
}

#[derive(Clone, Debug)]
pub enum LmTokenizer {
    Bpe(Bpe),
    Spm(Spm),
}

impl LmTokenizer {
    /// The vocabulary both kinds share.
    pub fn vocab(&self) -> &Vocab {
        match self {
            Self::Bpe(t) => t.vocab(),
            Self::Spm(t) => t.vocab(),
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab().len()
    }

    /// The vocabulary string of `id`.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.vocab().token(id)
    }

    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        self.vocab().token_type(id)
    }

    pub fn id(&self, token: &str) -> Option<u32> {
        self.vocab().id(token)
    }

    /// The bytes `id` stands for (llama.cpp's `token_to_piece`).
    pub fn piece(&self, id: u32, special: bool) -> Vec<u8> {
        match self {
            Self::Bpe(t) => t.piece(id, special),
            Self::Spm(t) => t.piece(id, special),
        }
    }

    /// The text of `ids`.
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Self::Bpe(t) => t.decode(ids),
            Self::Spm(t) => t.decode(ids),
        }
    }

    /// The text of generated `ids` that continue a prompt (SentencePiece's [`Self::decode`]
    /// would take the first piece's space off).
    pub fn continuation(&self, ids: &[u32]) -> String {
        match self {
            Self::Bpe(t) => t.decode(ids),
            Self::Spm(t) => t.continuation(ids),
        }
    }

    /// Token ids of plain text, with the beginning-of-text token the vocabulary adds.
    pub fn encode(&self, text: &str) -> BpeEncoding {
        match self {
            Self::Bpe(t) => t.encode(text),
            Self::Spm(t) => t.encode(text),
        }
    }
}
