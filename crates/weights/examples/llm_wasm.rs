//! The language model as a plain wasm module for the browser benchmark against llama.cpp in
//! WebAssembly (`benches/llm-bench-chromium.mjs`, `make bench-llm-peer`): the engine, the GGUF
//! reader and the kernels with the app's release profile and `+simd128` (with `--features
//! relaxed`, those of its relaxed-SIMD build), exported as `extern "C"` functions over raw
//! pointers, loaded with `WebAssembly.instantiate(bytes, {})`.
//!
//! Protocol: `ql_alloc(len)` a buffer, copy the .gguf into it, `ql_load(ptr, len)` → a handle
//! (0 on error; the buffer becomes the model's storage, not copied). Modes: 0 full precision
//! (the shipped weights decoded on use), 1 W8A8, 2 W4A8 (per-token activations; built on first
//! use, or by `ql_prepare`). `ql_prefill(h, mode, ids, n)` runs a prompt into a fresh KV cache
//! and returns the greedy next token; `ql_step(h, mode, id)` feeds one token and returns the
//! next; `ql_nll(h, mode, ids, n)` scores a text in one pass (mean NLL, NaN on error).
//! Errors: `ql_error_ptr()` / `ql_error_len()`.

use std::cell::RefCell;

use quantlab_engine::kernels::{set_prefer_relaxed_w8, W8Probe};
use quantlab_engine::model::llama::KvCache;
use quantlab_engine::model::lm;
use quantlab_engine::model::{Float, Linears, ModelQuant, QuantizedModel};
use quantlab_weights::llm::{load_gguf, LlmFile};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn fail(e: impl std::fmt::Display) {
    LAST_ERROR.with(|s| *s.borrow_mut() = e.to_string());
}

/// A loaded model, its quantized copies (made on first use) and the generation's cache.
pub struct Model {
    file: LlmFile,
    w8a8: Option<QuantizedModel>,
    w4a8: Option<QuantizedModel>,
    cache: KvCache,
}

impl Model {
    /// Builds mode's quantized copy if it is not there yet.
    fn quant(&mut self, mode: i32) -> Result<Option<&QuantizedModel>, String> {
        let bits = match mode {
            0 => return Ok(None),
            1 => 8,
            2 => 4,
            m => return Err(format!("unknown mode {m}")),
        };
        let slot = if bits == 8 {
            &mut self.w8a8
        } else {
            &mut self.w4a8
        };
        if slot.is_none() {
            let q = QuantizedModel::new(&self.file.model, ModelQuant::new(bits, 8), &[])
                .map_err(|e| e.to_string())?;
            *slot = Some(q);
        }
        Ok(slot.as_ref())
    }
}

/// A buffer of `len` bytes that [`ql_load`] can take over as a `Vec<u8>`.
#[no_mangle]
pub extern "C" fn ql_alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// # Safety
/// `ptr` must come from `ql_alloc(len)` and not have been given to `ql_load`.
#[no_mangle]
pub unsafe extern "C" fn ql_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        drop(Vec::from_raw_parts(ptr, 0, len));
    }
}

/// # Safety
/// `ptr` must come from `ql_alloc(len)` with all `len` bytes written; it is taken over.
#[no_mangle]
pub unsafe extern "C" fn ql_load(ptr: *mut u8, len: usize) -> *mut Model {
    if ptr.is_null() {
        fail("null model buffer");
        return std::ptr::null_mut();
    }
    let bytes = Vec::from_raw_parts(ptr, len, len);
    match load_gguf(bytes) {
        Ok(file) => Box::into_raw(Box::new(Model {
            file,
            w8a8: None,
            w4a8: None,
            cache: KvCache::new(),
        })),
        Err(e) => {
            fail(e);
            std::ptr::null_mut()
        }
    }
}

/// Builds mode's quantized copy now (so its cost is not in the first timed call); 0 or 1.
///
/// # Safety
/// `m` must come from `ql_load`.
#[no_mangle]
pub unsafe extern "C" fn ql_prepare(m: *mut Model, mode: i32) -> i32 {
    match (*m).quant(mode) {
        Ok(_) => 0,
        Err(e) => {
            fail(e);
            1
        }
    }
}

/// Drops mode's quantized copy and builds it again: what a page pays on a control change that
/// re-quantizes the weights (the bench times it).
///
/// # Safety
/// `m` must come from `ql_load`.
#[no_mangle]
pub unsafe extern "C" fn ql_requantize(m: *mut Model, mode: i32) -> i32 {
    match mode {
        1 => (*m).w8a8 = None,
        2 => (*m).w4a8 = None,
        _ => {}
    }
    ql_prepare(m, mode)
}

/// Token ids of UTF-8 `text` into `out` (at most `cap`); their count, or −1.
///
/// # Safety
/// `m` from `ql_load`; `text` readable for `len` bytes; `out` writable for `cap` i32.
#[no_mangle]
pub unsafe extern "C" fn ql_tokenize(
    m: *mut Model,
    text: *const u8,
    len: usize,
    out: *mut i32,
    cap: usize,
) -> i32 {
    let Ok(text) = std::str::from_utf8(std::slice::from_raw_parts(text, len)) else {
        fail("the text is not UTF-8");
        return -1;
    };
    let ids = (*m).file.tokenizer.encode(text).ids;
    let out = std::slice::from_raw_parts_mut(out, cap);
    for (o, &i) in out.iter_mut().zip(&ids) {
        *o = i as i32;
    }
    ids.len().min(cap) as i32
}

fn next_token(m: &mut Model, mode: i32, ids: &[u32], fresh: bool) -> Result<u32, String> {
    if fresh {
        m.cache = KvCache::new();
    }
    m.quant(mode)?;
    let q = match mode {
        1 => m.w8a8.as_ref(),
        2 => m.w4a8.as_ref(),
        _ => None,
    };
    let (model, cache) = (&m.file.model, &mut m.cache);
    match q {
        None => run(model, ids, cache, &mut Float),
        Some(q) => run(model, ids, cache, &mut q.runner()),
    }
}

fn run(
    model: &quantlab_engine::model::llama::Llama,
    ids: &[u32],
    cache: &mut KvCache,
    lin: &mut dyn Linears,
) -> Result<u32, String> {
    let mut h = model
        .forward(ids, Some(cache), lin)
        .map_err(|e| e.to_string())?;
    let width = model.config().hidden;
    let last = h.len().saturating_sub(width);
    let row = h.get_mut(last..).unwrap_or_default();
    model.final_norm(row);
    let logits = model.logits_row(row).map_err(|e| e.to_string())?;
    Ok(lm::argmax(&logits))
}

/// Runs a prompt into a fresh cache; the greedy next token, or −1.
///
/// # Safety
/// `m` from `ql_load`; `ids` readable for `n` i32.
#[no_mangle]
pub unsafe extern "C" fn ql_prefill(m: *mut Model, mode: i32, ids: *const i32, n: usize) -> i32 {
    let ids: Vec<u32> = std::slice::from_raw_parts(ids, n)
        .iter()
        .map(|&i| i as u32)
        .collect();
    match next_token(&mut *m, mode, &ids, true) {
        Ok(t) => t as i32,
        Err(e) => {
            fail(e);
            -1
        }
    }
}

/// Feeds one token after the cached ones; the greedy next token, or −1.
///
/// # Safety
/// `m` from `ql_load`.
#[no_mangle]
pub unsafe extern "C" fn ql_step(m: *mut Model, mode: i32, id: i32) -> i32 {
    match next_token(&mut *m, mode, &[id as u32], false) {
        Ok(t) => t as i32,
        Err(e) => {
            fail(e);
            -1
        }
    }
}

/// Mean negative log-likelihood of a text in one pass (what a perplexity costs); NaN on error.
///
/// # Safety
/// `m` from `ql_load`; `ids` readable for `n` i32.
#[no_mangle]
pub unsafe extern "C" fn ql_nll(m: *mut Model, mode: i32, ids: *const i32, n: usize) -> f64 {
    let ids: Vec<u32> = std::slice::from_raw_parts(ids, n)
        .iter()
        .map(|&i| i as u32)
        .collect();
    let m = &mut *m;
    if let Err(e) = m.quant(mode) {
        fail(e);
        return f64::NAN;
    }
    let model = &m.file.model;
    let hidden = match mode {
        1 => m.w8a8.as_ref(),
        2 => m.w4a8.as_ref(),
        _ => None,
    }
    .map_or_else(
        || lm::final_hidden(model, &ids, &mut Float),
        |q| lm::final_hidden(model, &ids, &mut q.runner()),
    );
    match hidden.and_then(|h| lm::score(model, &ids, &h, None)) {
        Ok(s) => s.nll,
        Err(e) => {
            fail(e);
            f64::NAN
        }
    }
}

/// One 64×384×384 int8 GEMM with 8-bit weights packed for SIMD128's dot (`quads` = 0) or the
/// relaxed one (1): the page times both, as the app does at start-up, to choose.
#[no_mangle]
pub extern "C" fn ql_w8_probe(quads: i32) -> i32 {
    thread_local! {
        static PROBE: std::cell::RefCell<Option<W8Probe>> =
            std::cell::RefCell::new(W8Probe::new().ok());
    }
    PROBE.with(
        |p| match p.borrow_mut().as_mut().map(|p| p.run(quads != 0)) {
            Some(Ok(())) => 0,
            _ => 1,
        },
    )
}

/// 8-bit weights packed for the relaxed dot from now on (1) or not (0).
#[no_mangle]
pub extern "C" fn ql_prefer_relaxed_w8(on: i32) {
    set_prefer_relaxed_w8(on != 0);
}

/// Where 8-bit weights run now (`quantlab_kernels::w8_path`), as UTF-8 at `ql_w8_path_ptr`.
#[no_mangle]
pub extern "C" fn ql_w8_path_ptr() -> *const u8 {
    quantlab_engine::kernels::w8_path().as_ptr()
}

#[no_mangle]
pub extern "C" fn ql_w8_path_len() -> usize {
    quantlab_engine::kernels::w8_path().len()
}

#[no_mangle]
pub extern "C" fn ql_relaxed_available() -> i32 {
    i32::from(quantlab_engine::kernels::relaxed_available())
}

#[no_mangle]
pub extern "C" fn ql_error_ptr() -> *const u8 {
    LAST_ERROR.with(|s| s.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn ql_error_len() -> usize {
    LAST_ERROR.with(|s| s.borrow().len())
}
