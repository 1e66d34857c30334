//! all-MiniLM-L6-v2, the sentence-embedding model the later chapters run whole: its tokenizer
//! ([`tokenize`]), the float encoder ([`bert`]), the same encoder with every linear on the int8
//! kernels ([`quant`]), and what compares them ([`compare`]).

pub mod bert;
pub mod compare;
pub mod quant;
pub mod tokenize;

pub use bert::{Bert, Dense, Float, LinearId, LinearKind, Linears, Pass, Tensor, HIDDEN, LAYERS};
pub use quant::{ActMode, Calibration, ModelQuant, QuantBuilder, QuantizedBert, WeightScales};
pub use tokenize::{Encoding, WordPiece, MAX_SEQ_LEN};
