//! all-MiniLM-L6-v2, the sentence-embedding model the later chapters run whole: its tokenizer
//! first ([`tokenize`]); the forward pass follows.

pub mod tokenize;

pub use tokenize::{Encoding, WordPiece, MAX_SEQ_LEN};
