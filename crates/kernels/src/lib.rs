//! Matrix kernels: int8 × int8 → int32 GEMM, f32 GEMM and a quantized linear layer, each as a
//! portable scalar version and a WebAssembly SIMD128 version with the same signature.
//!
//! The app calls the functions at this level ([`gemm_i8`], [`gemm_f32`], [`QLinear`]); they pick
//! the SIMD128 kernels when the crate is compiled for `wasm32` with `+simd128` (the project's
//! `.cargo/config.toml` does that) and the scalar twins otherwise (native CLI and tests).
//! [`KERNEL_NAME`] / [`simd_available`] say which one was compiled in. Both twins are public
//! ([`scalar`], `simd128`) so the tests can check them against each other: on integers they are
//! bit-identical, and the f32 kernels also, because both sum over k in the same order.
//!
//! Layout conventions (all row-major):
//! * A is M×K (activations, one row per token), B is K×N (weights: column j is output j),
//!   C = A·B is M×N.
//! * B is packed once ([`PackedI8::pack`], [`PackedF32::pack`]) into panels of [`NR`] = 8
//!   columns; the int8 panels interleave pairs of k so that one 8-byte load, widened to i16,
//!   feeds an `i32x4.dot_i16x8_s` for 4 columns × 2 k (see `simd128.rs` for the why).
//!
//! Exactness: int8 products are at most 128·128 = 2^14, so an i32 accumulator is exact for
//! K ≤ [`MAX_K`] = 131 071 (2^31 / 2^14, minus one); larger K is refused, not wrapped.
//!
//! No function here panics on bad input: shapes and lengths are checked up front and every
//! problem is a [`KernelError`].

pub mod error;
pub mod ggml;
pub mod qlinear;
#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    feature = "relaxed"
))]
pub mod relaxed;
pub mod round;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

mod pack;
mod probe;

pub use pack::{prefer_relaxed_w8, set_prefer_relaxed_w8, Layout, PackedF32, PackedI8};
pub use probe::W8Probe;
pub use qlinear::{
    activation_scales, q_max, simulate_linear, ActGranularity, ActScales, QLinear, QuantizedActs,
    SimulatedLinear, MAX_K_UINT8, SCALE_FLOOR,
};

pub use error::{KernelError, Result};
pub use round::round_half_even;

#[cfg(target_arch = "x86_64")]
pub mod x86;

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
use scalar as active;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd128 as active;
#[cfg(target_arch = "x86_64")]
use x86 as active;

/// Kernels for the quad layouts ([`Layout::Quads`], [`Layout::Offset64`]): relaxed SIMD where
/// the build has it, else the scalar twin (a quad packing made explicitly with
/// [`PackedI8::pack_with`]).
#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    feature = "relaxed"
))]
use relaxed as quads;
#[cfg(not(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    feature = "relaxed"
)))]
use scalar as quads;

/// Columns per packed weight panel (two `v128` of i32 or f32 accumulators per row).
pub const NR: usize = 8;

/// Row stride of activation codes for a GEMM over K inputs: K rounded up to a multiple of 4,
/// the padding zero (every layout's k-group, 2 or 4, divides it).
pub const fn act_stride(k: usize) -> usize {
    k.div_ceil(4) * 4
}

/// Whether this build has the relaxed-SIMD kernels (the page loads it only where the engine
/// validates and computes relaxed SIMD's dot product).
pub const fn relaxed_available() -> bool {
    cfg!(all(
        target_arch = "wasm32",
        target_feature = "simd128",
        feature = "relaxed"
    ))
}

/// Whether 8-bit weights run on the unsigned relaxed kernel here (relaxed build, and the
/// engine's dot reads its second operand as an unsigned byte, as x86 AVX-VNNI's `vpdpbusd`
/// does; see `relaxed::unsigned_dot`). Always false in other builds.
pub fn unsigned_dot() -> bool {
    #[cfg(all(
        target_arch = "wasm32",
        target_feature = "simd128",
        feature = "relaxed"
    ))]
    {
        relaxed::unsigned_dot()
    }
    #[cfg(not(all(
        target_arch = "wasm32",
        target_feature = "simd128",
        feature = "relaxed"
    )))]
    {
        false
    }
}

/// Keeps 8-bit weights off the unsigned relaxed kernel (`false`) or lets the probe decide
/// (`true`, the default): tests and benchmarks compare the kernels with it.
pub fn set_unsigned_allowed(on: bool) {
    #[cfg(all(
        target_arch = "wasm32",
        target_feature = "simd128",
        feature = "relaxed"
    ))]
    relaxed::set_unsigned_allowed(on);
    #[cfg(not(all(
        target_arch = "wasm32",
        target_feature = "simd128",
        feature = "relaxed"
    )))]
    let _ = on;
}

/// The kernel 8-bit weights packed from now on run on: `"relaxed-u8s8"` (the unsigned dot,
/// `vpdpbusd`), `"relaxed-sign"`, or this build's [`KERNEL_NAME`] (SIMD128's widening dot).
pub fn w8_path() -> &'static str {
    if relaxed_available() && prefer_relaxed_w8() {
        if unsigned_dot() {
            "relaxed-u8s8"
        } else {
            "relaxed-sign"
        }
    } else {
        KERNEL_NAME
    }
}

/// This build's kernels and, in the relaxed build, where 8-bit weights run: what the page's
/// speed readouts name.
pub fn path_label() -> String {
    if relaxed_available() {
        format!("{KERNEL_NAME} (8-bit weights: {})", w8_path())
    } else {
        KERNEL_NAME.to_string()
    }
}

/// Largest inner dimension K for which int8 · int8 sums cannot overflow an i32:
/// |Σ| ≤ K · 2^14 < 2^31.
pub const MAX_K: usize = 131_071;

/// Which kernels this build runs: `"wasm-relaxed-simd"`, `"wasm-simd128"` or `"scalar"`.
#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    feature = "relaxed"
))]
pub const KERNEL_NAME: &str = "wasm-relaxed-simd";
/// Which kernels this build runs: `"wasm-relaxed-simd"`, `"wasm-simd128"` or `"scalar"`.
#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    not(feature = "relaxed")
))]
pub const KERNEL_NAME: &str = "wasm-simd128";
/// Which kernels this build runs: `"wasm-relaxed-simd"`, `"wasm-simd128"`, `"x86-64-sse2"`
/// (native builds on x86-64: the GEMMs on SSE2, the rest scalar) or `"scalar"`.
#[cfg(target_arch = "x86_64")]
pub const KERNEL_NAME: &str = "x86-64-sse2";
/// Which kernels this build runs: `"wasm-relaxed-simd"`, `"wasm-simd128"`, `"x86-64-sse2"` or
/// `"scalar"`.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub const KERNEL_NAME: &str = "scalar";

/// True when the SIMD128 kernels are compiled in (decided at build time: a wasm module either
/// contains v128 instructions or it does not, there is no runtime switch).
pub const fn simd_available() -> bool {
    cfg!(all(target_arch = "wasm32", target_feature = "simd128"))
}

/// C = A·B for int8 A (M×K, row-major) and packed int8 B (K×N); C is M×N i32, overwritten.
/// Exact (no saturation, no wrapping).
pub fn gemm_i8(a: &[i8], m: usize, k: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    match b.layout {
        Layout::Pairs => active::gemm_i8(a, m, k, b, c),
        Layout::Quads | Layout::Offset64 => quads::gemm_i8(a, m, k, b, c),
    }
}

/// The accumulators of a quantized GEMM over activation codes (see [`scalar::qgemm_i32`]), by
/// the packing's kernel.
pub(crate) fn qgemm_i32(
    a16: &[i16],
    m: usize,
    lda: usize,
    b: &PackedI8,
    c: &mut [i32],
) -> Result<()> {
    match b.layout {
        Layout::Pairs => active::qgemm_i32(a16, m, lda, b, c),
        Layout::Quads | Layout::Offset64 => quads::qgemm_i32(a16, m, lda, b, c),
    }
}

/// The quantized GEMM with its dequantization (see [`scalar::qgemm_f32`]), by the packing's
/// kernel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn qgemm_f32(
    a16: &[i16],
    m: usize,
    lda: usize,
    b: &PackedI8,
    row_scales: &[f32],
    col_scales: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<()> {
    match b.layout {
        Layout::Pairs => active::qgemm_f32(a16, m, lda, b, row_scales, col_scales, bias, out),
        Layout::Quads | Layout::Offset64 => {
            quads::qgemm_f32(a16, m, lda, b, row_scales, col_scales, bias, out)
        }
    }
}

/// C = A·B for f32 A (M×K, row-major) and packed f32 B (K×N); C is M×N, overwritten.
/// Each output is summed in k order with separate multiply and add (no FMA), so the scalar and
/// SIMD results are bit-identical.
pub fn gemm_f32(a: &[f32], m: usize, k: usize, b: &PackedF32, c: &mut [f32]) -> Result<()> {
    active::gemm_f32(a, m, k, b, c)
}

/// Symmetric quantization of each row of X (M×K) to codes with the row's scale:
/// q = clamp(round_half_even(x / s), −q_max, q_max) (a division, as PyTorch's fake_quant does),
/// written as i16 into `out` (M rows of `lda` values; `lda` ≥ K and even, padding left as is).
/// `scales` has one entry per row. The SIMD kernels consume these i16 codes directly.
pub fn quantize_rows_i16(
    x: &[f32],
    m: usize,
    k: usize,
    scales: &[f32],
    q_max: i32,
    out: &mut [i16],
    lda: usize,
) -> Result<()> {
    active::quantize_rows_i16(x, m, k, scales, q_max, out, lda)
}

/// max_c |X_rc| of each row of X (M×K) into `out` (length M). Fails on NaN/±Inf, naming the
/// first one, because a scale computed from it would be meaningless.
pub fn row_absmax(x: &[f32], m: usize, k: usize, out: &mut [f32]) -> Result<()> {
    active::row_absmax(x, m, k, out)
}

/// One row (×`mul`) quantized with one scale per column, codes only: q = clamp(
/// round_half_even(mul·x / s), −q_max, q_max) (NaN → 0) — the weight codes of every
/// per-output-channel layer, most of the time a page spends re-quantizing a model.
pub fn quantize_per_col(row: &[f32], mul: f32, scales: &[f32], q_max: f32, codes: &mut [i8]) {
    active::quantize_per_col(row, mul, scales, q_max, codes)
}

/// One row (×`mul`) quantized with one scale per column: q = clamp(round_half_even(mul·x / s),
/// −q_max, q_max) into `codes` (NaN → 0), returning (Σ (q·s − mul·x)², Σ (mul·x)²) in f64
/// summed left to right — identical bits from both twins. This is W′ = diag(s)·W quantized per
/// output channel, the inner loop of every SmoothQuant α.
pub fn quantize_row_per_col(
    row: &[f32],
    mul: f32,
    scales: &[f32],
    q_max: f32,
    codes: &mut [i8],
) -> (f64, f64) {
    active::quantize_row_per_col(row, mul, scales, q_max, codes)
}

/// absmax[j] ← max(absmax[j], |mul·row[j]|) over the common length, NaN ignored (the column
/// maxima behind per-output-channel weight scales).
pub fn absmax_per_col(row: &[f32], mul: f32, absmax: &mut [f32]) {
    active::absmax_per_col(row, mul, absmax)
}

/// y_r ← y_r + v_r·b (r = 0..4) in f64 for an f32 row b: the step of the f64 reference product
/// X·W that every layer chapter computes once per layer.
pub fn axpy4_f64_f32(y: [&mut [f64]; 4], v: [f64; 4], b: &[f32]) {
    active::axpy4_f64_f32(y, v, b)
}

/// dst ← dst + src over the common length (the Hadamard transforms' block mixing).
pub fn add_assign_f64(dst: &mut [f64], src: &[f64]) {
    active::add_assign_f64(dst, src)
}

/// dst ← dst − src over the common length.
pub fn sub_assign_f64(dst: &mut [f64], src: &[f64]) {
    active::sub_assign_f64(dst, src)
}

/// (lo, hi) ← (lo + hi, lo − hi) over the common length: one butterfly pass of the
/// Walsh–Hadamard transform on whole rows.
pub fn butterfly_f64(lo: &mut [f64], hi: &mut [f64]) {
    active::butterfly_f64(lo, hi)
}

// ---------------------------------------------------------------------------------------------
// Checks shared by both twins, so they fail identically.

pub fn checked_len(what: &'static str, rows: usize, cols: usize) -> Result<usize> {
    rows.checked_mul(cols).ok_or(KernelError::TooLarge {
        what,
        got: rows as u128 * cols as u128,
        limit: usize::MAX as u128,
    })
}

pub fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(KernelError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

pub(crate) fn check_k(k: usize) -> Result<()> {
    if k > MAX_K {
        Err(KernelError::TooLarge {
            what: "inner dimension K (int32 accumulators could overflow)",
            got: k as u128,
            limit: MAX_K as u128,
        })
    } else {
        Ok(())
    }
}

pub(crate) fn check_inner(k_a: usize, k_b: usize, n_b: usize) -> Result<()> {
    if k_a == k_b {
        Ok(())
    } else {
        Err(KernelError::ShapeMismatch {
            expected: format!("A with K = {k_b} columns (B is {k_b}×{n_b})"),
            got: format!("K = {k_a}"),
        })
    }
}

/// Validates a GEMM call: A is m×k, B was packed as k×n, C is m×n. Returns n.
pub(crate) fn check_gemm(
    a_len: usize,
    m: usize,
    k: usize,
    b_k: usize,
    b_n: usize,
    c_len: usize,
) -> Result<usize> {
    check_inner(k, b_k, b_n)?;
    check_len("A (M×K, row-major)", checked_len("A (M×K)", m, k)?, a_len)?;
    check_len("C (M×N, row-major)", checked_len("C (M×N)", m, b_n)?, c_len)?;
    Ok(b_n)
}

pub(crate) fn check_quantize_rows(
    x_len: usize,
    m: usize,
    k: usize,
    scales: &[f32],
    q_max: i32,
    out_len: usize,
    lda: usize,
) -> Result<()> {
    check_len("X (M×K, row-major)", checked_len("X (M×K)", m, k)?, x_len)?;
    check_len("row scales (one per row)", m, scales.len())?;
    if lda < k || !lda.is_multiple_of(2) {
        return Err(KernelError::InvalidParameter {
            name: "lda (row stride of the codes)",
            value: lda.to_string(),
            allowed: "an even number at least K",
        });
    }
    check_len(
        "codes (M×lda)",
        checked_len("codes (M×lda)", m, lda)?,
        out_len,
    )?;
    if !(1..=127).contains(&q_max) {
        return Err(KernelError::InvalidParameter {
            name: "q_max",
            value: q_max.to_string(),
            allowed: "1 to 127 (2 to 8 bits)",
        });
    }
    if let Some(&s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(KernelError::InvalidScale { scale: s });
    }
    Ok(())
}

/// Validates the i16 activation codes of a quantized GEMM: stride, lengths and the code range
/// [−128, 127] (what keeps the i32 sums exact). Returns N.
pub(crate) fn check_qgemm(
    a16: &[i16],
    m: usize,
    lda: usize,
    b: &PackedI8,
    c_len: usize,
) -> Result<usize> {
    if lda != act_stride(b.k) {
        return Err(KernelError::InvalidParameter {
            name: "lda (row stride of the codes)",
            value: lda.to_string(),
            allowed: "4·ceil(K/4), the padded K of the packed weights",
        });
    }
    check_len(
        "activation codes (M×lda)",
        checked_len("codes (M×lda)", m, lda)?,
        a16.len(),
    )?;
    check_len(
        "output (M×N, row-major)",
        checked_len("output (M×N)", m, b.n)?,
        c_len,
    )?;
    // One branch-free pass (it vectorizes). Codes are int8 ([−128, 127]: v + 128 fits in 8
    // bits) or, for uint8 activations minus their zero point, in [−255, 255], which keeps i32
    // sums exact only up to MAX_K_UINT8.
    let (wide, bad) = a16.iter().fold((0u16, false), |(w, b), &v| {
        (
            w | ((v as u16).wrapping_add(128) & 0xff00),
            b | (v.unsigned_abs() > 255),
        )
    });
    if bad || (wide != 0 && b.k > qlinear::MAX_K_UINT8) {
        let limit = if bad { 255 } else { 127 };
        let (index, code) = a16
            .iter()
            .enumerate()
            .find(|(_, v)| !(-limit..=limit).contains(*v))
            .map_or((0, 0), |(i, &v)| (i, i32::from(v)));
        return Err(KernelError::CodeOutOfRange {
            code,
            index,
            qmin: -i32::from(limit),
            qmax: i32::from(limit),
        });
    }
    Ok(b.n)
}

/// Lengths of the dequantization parameters: one scale per row, one scale (and bias) per column.
pub(crate) fn check_dequant(
    m: usize,
    n: usize,
    row_scales: &[f32],
    col_scales: &[f32],
    bias: Option<&[f32]>,
) -> Result<()> {
    check_len("row scales (one per row of A)", m, row_scales.len())?;
    check_len("column scales (one per output column)", n, col_scales.len())?;
    if let Some(bias) = bias {
        check_len("bias (one per output column)", n, bias.len())?;
    }
    Ok(())
}

/// Column scales (or biases) padded with zeros to whole panels of [`NR`], so a SIMD store can
/// load 8 of them with two v128 loads without a bounds check.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn pad_to_panels(v: &[f32], panels: usize) -> Vec<f32> {
    let mut p = vec![0f32; panels * NR];
    p.iter_mut().zip(v).for_each(|(d, &s)| *d = s);
    p
}

/// The NonFinite error for the first NaN/Inf of an M×K matrix (only called once one is known
/// to exist, so the scan's cost does not matter).
pub(crate) fn non_finite_error(x: &[f32], k: usize) -> KernelError {
    let count = x.iter().filter(|v| !v.is_finite()).count();
    let first = x.iter().position(|v| !v.is_finite()).unwrap_or(0);
    let first_row_col = first.checked_div(k).map(|r| (r, first % k));
    KernelError::NonFinite {
        count,
        first_index: first,
        first_row_col,
    }
}

/// Widens int8 rows (M×K) to i16 rows of stride `lda` ≥ K (the padding columns are zero), the
/// operand layout of the int8 kernels. O(M·K), negligible next to the GEMM.
pub(crate) fn widen_rows(a: &[i8], m: usize, k: usize, lda: usize) -> Vec<i16> {
    let mut out = vec![0i16; m * lda];
    if k > 0 && lda > 0 {
        for (dst, src) in out.chunks_exact_mut(lda).zip(a.chunks_exact(k)) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = i16::from(s);
            }
        }
    }
    out
}
