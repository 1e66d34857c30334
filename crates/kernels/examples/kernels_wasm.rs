//! The kernels as a plain wasm module for the Node benchmark harness (`benches/quantlab-peer.mjs`,
//! `make bench-peer`): `extern "C"` exports over raw pointers into the module's memory, no
//! wasm-bindgen glue, so `WebAssembly.instantiate(bytes, {})` is all a host needs.
//!
//!     cargo build --release --target wasm32-unknown-unknown --example kernels_wasm   (make bench-peer)
//!
//! Protocol: the host allocates buffers with `ql_alloc`, writes inputs, calls a kernel, reads
//! outputs, frees with `ql_free`. Weights are packed once into a handle (`ql_*_new`) that the
//! kernels take; handles are freed with the matching `ql_*_drop`. Kernels return 0 on success
//! and 1 on an error, whose message is then at `ql_error_ptr()` (`ql_error_len()` bytes of UTF-8).
//! On a native build this compiles to an ordinary shared library with the same functions.

use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

// The kernels crate has no dependency at all, so this module imports nothing from the host:
// `WebAssembly.instantiate(bytes, {})` loads it without wasm-bindgen's JS glue.
use quantlab_kernels::{
    gemm_f32, gemm_i8, ActGranularity, KernelError, PackedF32, PackedI8, QLinear, KERNEL_NAME,
};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn fail(e: impl std::fmt::Display) -> i32 {
    LAST_ERROR.with(|s| *s.borrow_mut() = e.to_string());
    1
}

fn status(r: Result<(), KernelError>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => fail(e),
    }
}

fn boxed<T>(r: Result<T, KernelError>) -> *mut T {
    match r {
        Ok(v) => Box::into_raw(Box::new(v)),
        Err(e) => {
            fail(e);
            std::ptr::null_mut()
        }
    }
}

/// A slice from the host, or an error for a null pointer with a non-zero length.
unsafe fn slice<'a, T>(p: *const T, len: usize) -> Result<&'a [T], KernelError> {
    if len == 0 {
        Ok(&[])
    } else if p.is_null() {
        Err(KernelError::Empty {
            what: "buffer (null pointer)",
        })
    } else {
        Ok(std::slice::from_raw_parts(p, len))
    }
}

unsafe fn slice_mut<'a, T>(p: *mut T, len: usize) -> Result<&'a mut [T], KernelError> {
    if len == 0 {
        Ok(&mut [])
    } else if p.is_null() {
        Err(KernelError::Empty {
            what: "buffer (null pointer)",
        })
    } else {
        Ok(std::slice::from_raw_parts_mut(p, len))
    }
}

fn len(a: usize, b: usize) -> Result<usize, KernelError> {
    a.checked_mul(b).ok_or(KernelError::TooLarge {
        what: "buffer",
        got: a as u128 * b as u128,
        limit: usize::MAX as u128,
    })
}

/// 16-byte aligned allocation of `bytes` (at least 1).
#[no_mangle]
pub extern "C" fn ql_alloc(bytes: usize) -> *mut u8 {
    match Layout::from_size_align(bytes.max(1), 16) {
        // SAFETY: the layout has a non-zero size.
        Ok(l) => unsafe { alloc(l) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// # Safety
/// `p` must come from `ql_alloc(bytes)` with the same `bytes`.
#[no_mangle]
pub unsafe extern "C" fn ql_free(p: *mut u8, bytes: usize) {
    if let (false, Ok(l)) = (p.is_null(), Layout::from_size_align(bytes.max(1), 16)) {
        dealloc(p, l);
    }
}

#[no_mangle]
pub extern "C" fn ql_error_ptr() -> *const u8 {
    LAST_ERROR.with(|s| s.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn ql_error_len() -> usize {
    LAST_ERROR.with(|s| s.borrow().len())
}

#[no_mangle]
pub extern "C" fn ql_kernel_name_ptr() -> *const u8 {
    KERNEL_NAME.as_ptr()
}

#[no_mangle]
pub extern "C" fn ql_kernel_name_len() -> usize {
    KERNEL_NAME.len()
}

// ---- layouts ----

/// Packs 8-bit weights for relaxed SIMD from now on (`on` ≠ 0) or for SIMD128 (see
/// `quantlab_kernels::prefer_relaxed_w8`); no effect in the SIMD128 build.
#[no_mangle]
pub extern "C" fn ql_set_prefer_relaxed_w8(on: i32) {
    quantlab_kernels::set_prefer_relaxed_w8(on != 0);
}

/// The layout of a packing: 0 pairs (SIMD128), 1 quads (relaxed, sign), 2 offset (relaxed,
/// weights of up to 7 bits); −1 for a null handle.
///
/// # Safety
/// `h` from `ql_i8_new`, not dropped, or null.
#[no_mangle]
pub unsafe extern "C" fn ql_i8_layout(h: *const PackedI8) -> i32 {
    match h.as_ref().map(PackedI8::layout) {
        Some(quantlab_kernels::Layout::Pairs) => 0,
        Some(quantlab_kernels::Layout::Quads) => 1,
        Some(quantlab_kernels::Layout::Offset64) => 2,
        None => -1,
    }
}

// ---- int8 × int8 → int32 ----

/// # Safety
/// `b` points at k·n int8 values (row-major K×N).
#[no_mangle]
pub unsafe extern "C" fn ql_i8_new(b: *const i8, k: usize, n: usize) -> *mut PackedI8 {
    boxed(
        len(k, n)
            .and_then(|l| slice(b, l))
            .and_then(|b| PackedI8::pack(b, k, n)),
    )
}

/// # Safety
/// `h` from `ql_i8_new`, not dropped; `a` holds m·k int8, `c` room for m·n int32.
#[no_mangle]
pub unsafe extern "C" fn ql_i8_gemm(
    h: *const PackedI8,
    a: *const i8,
    m: usize,
    k: usize,
    c: *mut i32,
) -> i32 {
    let Some(w) = h.as_ref() else {
        return fail("null weights handle");
    };
    status((|| {
        gemm_i8(
            slice(a, len(m, k)?)?,
            m,
            k,
            w,
            slice_mut(c, len(m, w.n())?)?,
        )
    })())
}

/// # Safety
/// `h` from `ql_i8_new` (or null).
#[no_mangle]
pub unsafe extern "C" fn ql_i8_drop(h: *mut PackedI8) {
    if !h.is_null() {
        drop(Box::from_raw(h));
    }
}

// ---- f32 ----

/// # Safety
/// `b` points at k·n f32 (row-major K×N).
#[no_mangle]
pub unsafe extern "C" fn ql_f32_new(b: *const f32, k: usize, n: usize) -> *mut PackedF32 {
    boxed(
        len(k, n)
            .and_then(|l| slice(b, l))
            .and_then(|b| PackedF32::pack(b, k, n)),
    )
}

/// # Safety
/// `h` from `ql_f32_new`; `a` holds m·k f32, `c` room for m·n f32.
#[no_mangle]
pub unsafe extern "C" fn ql_f32_gemm(
    h: *const PackedF32,
    a: *const f32,
    m: usize,
    k: usize,
    c: *mut f32,
) -> i32 {
    let Some(w) = h.as_ref() else {
        return fail("null weights handle");
    };
    status((|| {
        gemm_f32(
            slice(a, len(m, k)?)?,
            m,
            k,
            w,
            slice_mut(c, len(m, w.n())?)?,
        )
    })())
}

/// # Safety
/// `h` from `ql_f32_new` (or null).
#[no_mangle]
pub unsafe extern "C" fn ql_f32_drop(h: *mut PackedF32) {
    if !h.is_null() {
        drop(Box::from_raw(h));
    }
}

// ---- quantized linear layer ----

/// A layer from int8 weight codes (K×N) with one scale per output column (`scales`, n values)
/// and an optional bias (null or n values).
///
/// # Safety
/// Pointers as described, valid for the given sizes.
#[no_mangle]
pub unsafe extern "C" fn ql_qlinear_from_codes(
    codes: *const i8,
    k: usize,
    n: usize,
    scales: *const f32,
    bias: *const f32,
    w_bits: u8,
) -> *mut QLinear {
    boxed((|| {
        let bias = if bias.is_null() {
            None
        } else {
            Some(slice(bias, n)?)
        };
        QLinear::from_codes(
            slice(codes, len(k, n)?)?,
            k,
            n,
            slice(scales, n)?,
            bias,
            w_bits,
        )
    })())
}

/// A layer from f32 weights (K×N), quantized per output column to `w_bits`.
///
/// # Safety
/// Pointers as described, valid for the given sizes.
#[no_mangle]
pub unsafe extern "C" fn ql_qlinear_new(
    w: *const f32,
    k: usize,
    n: usize,
    bias: *const f32,
    w_bits: u8,
) -> *mut QLinear {
    boxed((|| {
        let bias = if bias.is_null() {
            None
        } else {
            Some(slice(bias, n)?)
        };
        QLinear::new(slice(w, len(k, n)?)?, k, n, bias, w_bits)
    })())
}

/// Y (m×n f32) = dequant(quant(X) · W): dynamic symmetric activation scales, per tensor
/// (`per_token` = 0) or per row (`per_token` = 1), `a_bits` bits.
///
/// # Safety
/// `h` from `ql_qlinear_*`; `x` holds m·k f32, `y` room for m·n f32.
#[no_mangle]
pub unsafe extern "C" fn ql_qlinear_forward(
    h: *const QLinear,
    x: *const f32,
    m: usize,
    per_token: i32,
    a_bits: u8,
    y: *mut f32,
) -> i32 {
    let Some(l) = h.as_ref() else {
        return fail("null layer handle");
    };
    let act = if per_token != 0 {
        ActGranularity::PerToken
    } else {
        ActGranularity::PerTensor
    };
    status((|| {
        l.forward(
            slice(x, len(m, l.k())?)?,
            m,
            act,
            a_bits,
            slice_mut(y, len(m, l.n())?)?,
        )
    })())
}

/// # Safety
/// `h` from `ql_qlinear_*` (or null).
#[no_mangle]
pub unsafe extern "C" fn ql_qlinear_drop(h: *mut QLinear) {
    if !h.is_null() {
        drop(Box::from_raw(h));
    }
}
