//! The whole model as a plain wasm module for Node (`benches/quantlab-model-peer.mjs`,
//! `make bench-model-peer`): the engine, the model-file reader and the kernels, built with the
//! app's release profile and `+simd128` (the kernels the site runs; with `--features relaxed`
//! those of its relaxed-SIMD build), exported as `extern "C"`
//! functions over raw pointers, so `WebAssembly.instantiate(bytes, {})` loads it without
//! wasm-bindgen's glue.
//!
//! Protocol: `qm_alloc` a buffer, copy the model file into it, `qm_load` → a handle (0 on
//! error); `qm_forward(handle, ids, n, mode, out)` with `n` i32 token ids ([CLS] … [SEP]) and
//! `mode` 0 = fp32, 1 = W8A8 (per-token dynamic activations), 2 = onnxruntime's quantize_dynamic
//! recipe on our kernels, 3 = W4A8 (per-token), writes 384 f32 to `out` and returns
//! 0, or 1 with the message at `qm_error_ptr()` / `qm_error_len()`.

use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

use quantlab_engine::model::{Bert, Float, ModelQuant, QuantizedBert};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn fail(e: impl std::fmt::Display) -> i32 {
    LAST_ERROR.with(|s| *s.borrow_mut() = e.to_string());
    1
}

/// A loaded model: the float weights, the W8A8 one, and onnxruntime's recipe and W4A8 built on
/// first use (so the bench contract's fp32/w8a8 runs do not pay for them).
pub struct Model {
    bert: Bert,
    w8a8: QuantizedBert,
    ort_int8: Option<QuantizedBert>,
    w4a8: Option<QuantizedBert>,
}

#[no_mangle]
pub extern "C" fn qm_alloc(len: usize) -> *mut u8 {
    match Layout::from_size_align(len.max(1), 16) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// # Safety
/// `ptr` must come from `qm_alloc(len)`.
#[no_mangle]
pub unsafe extern "C" fn qm_free(ptr: *mut u8, len: usize) {
    if let Ok(layout) = Layout::from_size_align(len.max(1), 16) {
        if !ptr.is_null() {
            dealloc(ptr, layout);
        }
    }
}

/// # Safety
/// `bytes` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn qm_load(bytes: *const u8, len: usize) -> *mut Model {
    if bytes.is_null() {
        fail("null model buffer");
        return std::ptr::null_mut();
    }
    let data = std::slice::from_raw_parts(bytes, len);
    let made = quantlab_weights::load(data).and_then(|l| {
        let w8a8 = QuantizedBert::new(&l.bert, ModelQuant::new(8, 8), &[])?;
        Ok(Model {
            bert: l.bert,
            w8a8,
            ort_int8: None,
            w4a8: None,
        })
    });
    match made {
        Ok(m) => Box::into_raw(Box::new(m)),
        Err(e) => {
            fail(e);
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// `model` from `qm_load`, `ids` `n` readable i32, `out` 384 writable f32.
#[no_mangle]
pub unsafe extern "C" fn qm_forward(
    model: *mut Model,
    ids: *const i32,
    n: usize,
    mode: i32,
    out: *mut f32,
) -> i32 {
    let (Some(m), false, false) = (model.as_mut(), ids.is_null(), out.is_null()) else {
        return fail("null model, ids or output");
    };
    let ids: Vec<u32> = std::slice::from_raw_parts(ids, n)
        .iter()
        .map(|&i| i.max(0) as u32)
        .collect();
    let e = match mode {
        0 => m.bert.embed(&ids, &mut Float),
        1 => m.w8a8.embed(&m.bert, &ids),
        2 | 3 => {
            let (slot, recipe) = if mode == 2 {
                (&mut m.ort_int8, ModelQuant::onnx_quantize_dynamic())
            } else {
                (&mut m.w4a8, ModelQuant::new(4, 8))
            };
            if slot.is_none() {
                match QuantizedBert::new(&m.bert, recipe, &[]) {
                    Ok(q) => *slot = Some(q),
                    Err(e) => return fail(e),
                }
            }
            match slot {
                Some(q) => q.embed(&m.bert, &ids),
                None => return fail("the quantized model is not built"),
            }
        }
        _ => {
            return fail(format!(
                "mode {mode}: 0 is fp32, 1 is w8a8, 2 is ort-int8, 3 is w4a8"
            ))
        }
    };
    match e {
        Ok(e) => {
            std::slice::from_raw_parts_mut(out, e.len()).copy_from_slice(&e);
            0
        }
        Err(err) => fail(err),
    }
}

/// # Safety
/// `model` from `qm_load`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn qm_drop(model: *mut Model) {
    if !model.is_null() {
        drop(Box::from_raw(model));
    }
}

#[no_mangle]
pub extern "C" fn qm_error_ptr() -> *const u8 {
    LAST_ERROR.with(|s| s.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn qm_error_len() -> usize {
    LAST_ERROR.with(|s| s.borrow().len())
}

#[no_mangle]
pub extern "C" fn qm_kernel_name_ptr() -> *const u8 {
    quantlab_engine::kernels::KERNEL_NAME.as_ptr()
}

#[no_mangle]
pub extern "C" fn qm_kernel_name_len() -> usize {
    quantlab_engine::kernels::KERNEL_NAME.len()
}

/// Packs 8-bit weights of models loaded from then on for the relaxed dot product (`on` ≠ 0) or
/// for SIMD128's (the default, what the app's start-up timing picks on AVX2 machines).
/// One int8 GEMM of the start-up case with 8-bit weights packed for SIMD128's dot (`quads`
/// = 0) or the relaxed one (1): the bench page times both, as the app does, to choose.
#[no_mangle]
pub extern "C" fn qm_w8_probe(quads: i32) -> i32 {
    thread_local! {
        static PROBE: RefCell<Option<quantlab_engine::kernels::W8Probe>> =
            RefCell::new(quantlab_engine::kernels::W8Probe::new().ok());
    }
    PROBE.with(
        |p| match p.borrow_mut().as_mut().map(|p| p.run(quads != 0)) {
            Some(Ok(())) => 0,
            _ => 1,
        },
    )
}

#[no_mangle]
pub extern "C" fn qm_relaxed_available() -> i32 {
    i32::from(quantlab_engine::kernels::relaxed_available())
}

/// Where 8-bit weights run now (`quantlab_kernels::w8_path`), as UTF-8 at `qm_w8_path_ptr`.
#[no_mangle]
pub extern "C" fn qm_w8_path_ptr() -> *const u8 {
    quantlab_engine::kernels::w8_path().as_ptr()
}

#[no_mangle]
pub extern "C" fn qm_w8_path_len() -> usize {
    quantlab_engine::kernels::w8_path().len()
}

#[no_mangle]
pub extern "C" fn qm_set_prefer_relaxed_w8(on: i32) {
    quantlab_engine::kernels::set_prefer_relaxed_w8(on != 0);
}
