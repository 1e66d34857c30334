//! The models the later chapters run whole, as one family ([`family`]): each architecture is
//! a module that implements [`family::Family`], and everything that quantizes, transforms,
//! calibrates, captures or measures a model is written once for all of them.
//!
//! * all-MiniLM-L6-v2, the sentence encoder: WordPiece ([`tokenize`]), the float encoder
//!   ([`bert`]), cosine metrics ([`compare`]).
//! * SmolLM2-135M and other Llama-architecture decoders from a GGUF file: byte-level BPE
//!   ([`bpe`]) or SentencePiece ([`spm`]) behind one [`vocab::LmTokenizer`], weights as the
//!   file stores them ([`blocks`]), the float decoder with its KV cache ([`llama`]),
//!   perplexity, KL, greedy text and massive activations ([`lm`]).
//! * Shared: the products' roles and the [`family::Linears`] hook ([`family`]), attention
//!   ([`attention`]), every product on the int8 kernels or in a float format ([`quant`]).

pub mod attention;
pub mod bert;
pub mod blocks;
pub mod bpe;
pub mod compare;
pub mod family;
pub mod llama;
pub mod lm;
pub mod quant;
pub mod spm;
pub mod tokenize;
pub mod vocab;

pub use bert::{Bert, Dense, Pass, Tensor, HIDDEN, LAYERS};
pub use family::{Family, Float, FloatLinear, LinearId, LinearKind, Linears, Shapes, MINILM};
pub use quant::{
    ActMode, Calibration, ModelQuant, QuantBuilder, QuantizedBert, QuantizedModel, WeightScales,
};
pub use tokenize::{Encoding, WordPiece, MAX_SEQ_LEN};
