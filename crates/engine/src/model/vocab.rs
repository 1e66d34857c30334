//! A language model's tokenizer, whichever of llama.cpp's two kinds its GGUF names:
//! byte-level BPE (`gpt2`: SmolLM2, [`super::bpe`]) or SentencePiece (`llama`: Llama 2,
//! TinyLlama, [`super::spm`]). The model and the pages only see this.

use super::bpe::{Bpe, BpeEncoding, TokenType};
use super::spm::Spm;

#[derive(Clone, Debug)]
pub enum LmTokenizer {
    Bpe(Bpe),
    Spm(Spm),
}

impl LmTokenizer {
    /// `tokenizer.ggml.model` as the GGUF spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Bpe(_) => "gpt2",
            Self::Spm(_) => "llama",
        }
    }

    pub fn vocab_size(&self) -> usize {
        match self {
            Self::Bpe(t) => t.vocab_size(),
            Self::Spm(t) => t.vocab_size(),
        }
    }

    /// The vocabulary string of `id`.
    pub fn token(&self, id: u32) -> Option<&str> {
        match self {
            Self::Bpe(t) => t.token(id),
            Self::Spm(t) => t.token(id),
        }
    }

    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        match self {
            Self::Bpe(t) => t.token_type(id),
            Self::Spm(t) => t.token_type(id),
        }
    }

    pub fn id(&self, token: &str) -> Option<u32> {
        match self {
            Self::Bpe(t) => t.id(token),
            Self::Spm(t) => t.id(token),
        }
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
