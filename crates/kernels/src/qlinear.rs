//! A quantized linear layer, Y = X·W (+ b), run on int8 codes with i32 accumulators, and the
//! simulated (fake-quant) computation it must equal.
//!
//! Semantics (those of the SmoothQuant authors' `fake_quant.py`, reused by that chapter):
//! * symmetric, q_max = 2^(bits−1) − 1 (127 for 8 bits), codes in [−q_max, q_max], bits 2..=8;
//! * activations per token: s_t = max(max_c |X_tc|, 1e−5) / q_max; per tensor: one
//!   s = max(max |X|, 1e−5) / q_max; or scales given by the caller (static quantization);
//! * weights per output column: s_j = max(max_i |W_ij|, 1e−5) / q_max;
//! * q = clamp(round_half_even(x / s), −q_max, q_max) (a division, not a reciprocal multiply);
//! * Y_tj = s_t · s_j · Σ_i q_ti q_ij (+ b_j).
//!
//! [`QLinear`] computes the sum exactly in i32 and rounds three times in f32 (the i32 → f32
//! conversion, s_t·s_j and their product; a bias adds a fourth), so its outputs are within
//! about 2·10⁻⁷ relative of the exact value. [`simulate_linear`] is the oracle: fake-quantized X and
//! W in f64 (q·s is exact in f64), an f64 matmul, and the exact integer sums next to it.

use super::pack::Layout;
use super::pack::PackedI8;
use super::{act_stride, check_k, check_len, checked_len, NR};
use crate::error::{KernelError, Result};
use crate::round::round_half_even;

/// Smallest max |x| a scale is computed from (fake_quant.py's `clamp(min=1e-5)`), so an
/// all-zero row gets a tiny positive scale instead of a division by zero.
pub const SCALE_FLOOR: f32 = 1e-5;

/// Largest K for uint8 activations (|q − z| ≤ 255) times int8 weights: K · 255 · 128 < 2^31.
pub const MAX_K_UINT8: usize = 65_793;

/// How activation scales are chosen at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActGranularity {
    /// One scale per row (token) of X.
    PerToken,
    /// One scale for the whole of X.
    PerTensor,
}

/// Dynamic scales (computed from X on every call) or static ones given by the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActScales<'a> {
    Dynamic(ActGranularity),
    /// One scale (per tensor) or one per row of X (per token); each finite and > 0.
    Static(&'a [f32]),
}

/// A bias has one finite value per output column.
fn check_bias(bias: Option<&[f32]>, n: usize) -> Result<()> {
    if let Some(b) = bias {
        check_len("bias (one per output column)", n, b.len())?;
        if b.iter().any(|v| !v.is_finite()) {
            return Err(super::non_finite_error(b, n));
        }
    }
    Ok(())
}

/// q_max = 2^(bits−1) − 1 for bits 2..=8.
pub fn q_max(bits: u8) -> Result<i32> {
    if (2..=8).contains(&bits) {
        Ok((1 << (bits - 1)) - 1)
    } else {
        Err(KernelError::InvalidBits { bits })
    }
}

/// The per-row scales for X (M×K) with the module's semantics.
pub fn activation_scales(
    x: &[f32],
    m: usize,
    k: usize,
    act: ActScales<'_>,
    bits: u8,
) -> Result<Vec<f32>> {
    let qm = q_max(bits)? as f32;
    let mut absmax = vec![0f32; m];
    super::row_absmax(x, m, k, &mut absmax)?;
    let scales = match act {
        ActScales::Dynamic(ActGranularity::PerToken) => {
            absmax.iter().map(|&a| a.max(SCALE_FLOOR) / qm).collect()
        }
        ActScales::Dynamic(ActGranularity::PerTensor) => {
            let t = absmax.iter().fold(0f32, |acc, &a| acc.max(a));
            vec![t.max(SCALE_FLOOR) / qm; m]
        }
        ActScales::Static(&[s]) => vec![s; m],
        ActScales::Static(s) => {
            check_len("activation scales (1 per tensor or 1 per row)", m, s.len())?;
            s.to_vec()
        }
    };
    if let Some(&s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(KernelError::InvalidScale { scale: s });
    }
    Ok(scales)
}

/// Quantized activations: the codes (kept as i16, the kernels' operand type) and one scale per
/// row (a per-tensor scale is repeated).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedActs {
    m: usize,
    k: usize,
    lda: usize,
    bits: u8,
    scales: Vec<f32>,
    codes16: Vec<i16>,
}

impl QuantizedActs {
    /// Quantizes X (M×K, row-major) with `act` scales to `bits` bits.
    pub fn quantize(x: &[f32], m: usize, k: usize, act: ActScales<'_>, bits: u8) -> Result<Self> {
        check_len("X (M×K, row-major)", checked_len("X (M×K)", m, k)?, x.len())?;
        let qm = q_max(bits)?;
        let scales = activation_scales(x, m, k, act, bits)?;
        let lda = act_stride(k);
        let mut codes16 = vec![0i16; checked_len("codes (M×K)", m, lda)?];
        super::quantize_rows_i16(x, m, k, &scales, qm, &mut codes16, lda)?;
        Ok(Self {
            m,
            k,
            lda,
            bits,
            scales,
            codes16,
        })
    }

    /// ONNX `DynamicQuantizeLinear`, what onnxruntime's `quantize_dynamic` puts before every
    /// MatMulInteger: uint8 with one scale and zero point for all of X (M×K),
    /// s = (max(0, max x) − min(0, min x))/255, z = clamp(round(−min(0, min x)/s), 0, 255),
    /// q = clamp(round(x/s) + z, 0, 255), rounding half to even, all in f32 as onnxruntime's
    /// kernel computes it. The codes are kept as q − z (in [−255, 255]), so the GEMM gives
    /// MatMulInteger's Σ (q − z)·w exactly; an all-zero X gets s = 1.
    pub fn quantize_uint8_dynamic(x: &[f32], m: usize, k: usize) -> Result<(Self, i32)> {
        check_len("X (M×K, row-major)", checked_len("X (M×K)", m, k)?, x.len())?;
        if k > MAX_K_UINT8 {
            return Err(KernelError::TooLarge {
                what: "inner dimension K for uint8 activations (int32 accumulators could overflow)",
                got: k as u128,
                limit: MAX_K_UINT8 as u128,
            });
        }
        let (mut lo, mut hi) = (0f32, 0f32);
        for &v in x {
            if !v.is_finite() {
                return Err(super::non_finite_error(x, k.max(1)));
            }
            lo = if v < lo { v } else { lo };
            hi = if v > hi { v } else { hi };
        }
        let s = (hi - lo) / 255.0;
        let s = if s > 0.0 { s } else { 1.0 };
        let zp = round_half_even(-lo / s).clamp(0.0, 255.0) as i32;
        let lda = act_stride(k);
        let mut codes16 = vec![0i16; checked_len("codes (M×K)", m, lda)?];
        if k > 0 {
            let zf = zp as f32;
            for (dst, src) in codes16.chunks_exact_mut(lda).zip(x.chunks_exact(k)) {
                for (d, &v) in dst.iter_mut().zip(src) {
                    let q = (round_half_even(v / s) + zf).clamp(0.0, 255.0);
                    *d = (q as i32 - zp) as i16;
                }
            }
        }
        let acts = Self {
            m,
            k,
            lda,
            bits: 8,
            scales: vec![s; m],
            codes16,
        };
        Ok((acts, zp))
    }

    pub fn m(&self) -> usize {
        self.m
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// One scale per row.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// The code of row `r`, column `c` (`None` outside M×K).
    pub fn code(&self, r: usize, c: usize) -> Option<i8> {
        if r >= self.m || c >= self.k {
            return None;
        }
        self.codes16.get(r * self.lda + c).map(|&v| v as i8)
    }

    /// The code of row `r`, column `c` as the GEMM reads it (uint8 activations: q − z).
    pub fn code16(&self, r: usize, c: usize) -> Option<i16> {
        if r >= self.m || c >= self.k {
            return None;
        }
        self.codes16.get(r * self.lda + c).copied()
    }

    /// All codes, M×K row-major.
    pub fn codes(&self) -> Vec<i8> {
        let mut out = Vec::with_capacity(self.m * self.k);
        if self.lda > 0 {
            for row in self.codes16.chunks_exact(self.lda) {
                out.extend(row.iter().take(self.k).map(|&v| v as i8));
            }
        }
        out
    }
}

/// A linear layer with int8 (2..=8-bit) weights, per-output-column scales and an optional bias.
#[derive(Clone, Debug, PartialEq)]
pub struct QLinear {
    k: usize,
    n: usize,
    w_bits: u8,
    packed: PackedI8,
    w_scales: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl QLinear {
    /// Quantizes W (K×N, row-major: column j holds output j's weights) per output column to
    /// `w_bits` bits and packs it.
    pub fn new(w: &[f32], k: usize, n: usize, bias: Option<&[f32]>, w_bits: u8) -> Result<Self> {
        let qm = q_max(w_bits)?;
        check_len("W (K×N, row-major)", checked_len("W (K×N)", k, n)?, w.len())?;
        if k == 0 || n == 0 {
            return Err(KernelError::Empty {
                what: "weight matrix W",
            });
        }
        if w.iter().any(|v| !v.is_finite()) {
            return Err(super::non_finite_error(w, n));
        }
        let qmf = qm as f32;
        let mut colmax = vec![0f32; n];
        for row in w.chunks_exact(n) {
            for (c, &v) in colmax.iter_mut().zip(row) {
                *c = c.max(v.abs());
            }
        }
        let w_scales: Vec<f32> = colmax.iter().map(|&a| a.max(SCALE_FLOOR) / qmf).collect();
        let mut codes = vec![0i8; w.len()];
        for (crow, wrow) in codes.chunks_exact_mut(n).zip(w.chunks_exact(n)) {
            for ((c, &v), &s) in crow.iter_mut().zip(wrow).zip(&w_scales) {
                *c = super::scalar::quantize_one(v, s, qmf) as i8;
            }
        }
        Self::from_codes(&codes, k, n, &w_scales, bias, w_bits)
    }

    /// The same layer as [`QLinear::new`] on W·diag… — that is, on W with row i multiplied by
    /// `row_scale[i]` (SmoothQuant's folding; `None`: 1) — read straight from W's f32 packing
    /// and written straight into the int8 one, in two passes over the panels. A model
    /// re-quantizes its 36 linears on every slider move; going through row-major copies,
    /// a separate code array and a scatter pack took most of that time. Bit-identical to
    /// `QLinear::new` on the scaled row-major W (same f32 product, same rounding; tested).
    pub fn from_packed_f32(
        w: &super::PackedF32,
        row_scale: Option<&[f32]>,
        bias: Option<&[f32]>,
        w_bits: u8,
    ) -> Result<Self> {
        Self::quantize_packed(w, row_scale, None, bias, w_bits)
    }

    /// As [`QLinear::from_packed_f32`] with the weight scales given (one per output column,
    /// each finite and > 0) instead of each column's max |w|: per-tensor recipes such as
    /// onnxruntime's. Codes are clamp(round_half_even(w / s), ±q_max), as everywhere.
    pub fn from_packed_f32_with_scales(
        w: &super::PackedF32,
        col_scales: &[f32],
        bias: Option<&[f32]>,
        w_bits: u8,
    ) -> Result<Self> {
        check_len(
            "weight scales (one per output column)",
            w.n,
            col_scales.len(),
        )?;
        if let Some(&s) = col_scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(KernelError::InvalidScale { scale: s });
        }
        Self::quantize_packed(w, None, Some(col_scales), bias, w_bits)
    }

    fn quantize_packed(
        w: &super::PackedF32,
        row_scale: Option<&[f32]>,
        col_scales: Option<&[f32]>,
        bias: Option<&[f32]>,
        w_bits: u8,
    ) -> Result<Self> {
        let qm = q_max(w_bits)?;
        let (k, n) = (w.k, w.n);
        if k == 0 || n == 0 {
            return Err(KernelError::Empty {
                what: "weight matrix W",
            });
        }
        check_k(k)?;
        if let Some(rs) = row_scale {
            check_len("row scales (one per input row of W)", k, rs.len())?;
        }
        let scale_of = |i: usize| row_scale.and_then(|rs| rs.get(i)).copied().unwrap_or(1.0);
        let panel_len = w.panel_len();
        let mut colmax = vec![0f32; w.panels * NR];
        let mut finite = true;
        for (panel, maxes) in w
            .data
            .chunks_exact(panel_len)
            .zip(colmax.chunks_exact_mut(NR))
        {
            for (i, row) in panel.chunks_exact(NR).enumerate() {
                let rs = scale_of(i);
                for (m, &v) in maxes.iter_mut().zip(row) {
                    let x = (v * rs).abs();
                    finite &= x.is_finite();
                    // A comparison, not f32::max: wasm's f32.max propagates NaN, so `max` is
                    // a call to fmaxf per weight; a NaN is caught by `finite` anyway.
                    *m = if x > *m { x } else { *m };
                }
            }
        }
        if !finite {
            let mut rm = w.to_row_major();
            for (i, row) in rm.chunks_exact_mut(n).enumerate() {
                let rs = scale_of(i);
                row.iter_mut().for_each(|v| *v *= rs);
            }
            return Err(super::non_finite_error(&rm, n));
        }
        let qmf = qm as f32;
        let w_scales: Vec<f32> = match col_scales {
            Some(given) => given.to_vec(),
            None => colmax
                .iter()
                .take(n)
                .map(|&a| a.max(SCALE_FLOOR) / qmf)
                .collect(),
        };
        // Padding columns (N not a multiple of NR) keep code 0; their scale is never read.
        let pad_scales: Vec<f32> = (0..w.panels * NR)
            .map(|j| w_scales.get(j).copied().unwrap_or(1.0))
            .collect();
        // Codes are clamped to ±q_max, so never −128; up to 7 bits they fit the offset layout.
        let layout = Layout::preferred(qm.clamp(0, 127) as u8, false);
        let mut packed = PackedI8::zeroed(k, n, layout)?;
        let (kg, off) = (layout.kg(), layout.offset());
        for ((panel, out), scales) in w
            .data
            .chunks_exact(panel_len)
            .zip(packed.data.chunks_exact_mut(packed.kp * kg * NR))
            .zip(pad_scales.chunks_exact(NR))
        {
            // Row i of the panel goes to k-group i/kg: byte kg·c + i%kg of the group. The
            // eight codes are made first, by the SIMD kernel (this is most of the time a page
            // spends re-quantizing a model), then placed.
            for (i, row) in panel.chunks_exact(NR).enumerate() {
                let mut codes = [0i8; NR];
                super::quantize_per_col(row, scale_of(i), scales, qmf, &mut codes);
                codes.iter_mut().for_each(|c| *c = c.wrapping_add(off));
                let Some(group) = out.get_mut((i / kg) * kg * NR..(i / kg + 1) * kg * NR) else {
                    continue;
                };
                for (dst, &c) in group.iter_mut().skip(i % kg).step_by(kg).zip(&codes) {
                    *dst = c;
                }
            }
        }
        check_bias(bias, n)?;
        Ok(Self {
            k,
            n,
            w_bits,
            packed,
            w_scales,
            bias: bias.map(<[f32]>::to_vec),
        })
    }

    /// A layer from already-quantized weights: codes (K×N, row-major, within ±q_max of
    /// `w_bits`) and one scale per output column.
    pub fn from_codes(
        codes: &[i8],
        k: usize,
        n: usize,
        w_scales: &[f32],
        bias: Option<&[f32]>,
        w_bits: u8,
    ) -> Result<Self> {
        let qm = q_max(w_bits)?;
        check_len(
            "weight codes (K×N, row-major)",
            checked_len("W (K×N)", k, n)?,
            codes.len(),
        )?;
        if k == 0 || n == 0 {
            return Err(KernelError::Empty {
                what: "weight matrix W",
            });
        }
        check_k(k)?;
        check_len("weight scales (one per output column)", n, w_scales.len())?;
        if let Some((index, &code)) = codes
            .iter()
            .enumerate()
            .find(|(_, &c)| i32::from(c).abs() > qm)
        {
            return Err(KernelError::CodeOutOfRange {
                code: code.into(),
                index,
                qmin: -qm,
                qmax: qm,
            });
        }
        if let Some(&s) = w_scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(KernelError::InvalidScale { scale: s });
        }
        check_bias(bias, n)?;
        Ok(Self {
            k,
            n,
            w_bits,
            packed: PackedI8::pack(codes, k, n)?,
            w_scales: w_scales.to_vec(),
            bias: bias.map(<[f32]>::to_vec),
        })
    }

    /// Inputs per row (K).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Outputs per row (N).
    pub fn n(&self) -> usize {
        self.n
    }

    pub fn w_bits(&self) -> u8 {
        self.w_bits
    }

    /// s_j, one per output column.
    pub fn weight_scales(&self) -> &[f32] {
        &self.w_scales
    }

    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_deref()
    }

    /// The weight codes, K×N row-major.
    pub fn weight_codes(&self) -> Vec<i8> {
        self.packed.to_row_major()
    }

    /// The packed weights (e.g. for [`super::gemm_i8`]).
    pub fn packed(&self) -> &PackedI8 {
        &self.packed
    }

    /// The same layer with its weights packed in `layout`, read by that layout's kernel (an
    /// error if the codes do not fit it). The "Why quantize" benchmark times one layer on both
    /// kernels this way.
    pub fn repacked(&self, layout: Layout) -> Result<Self> {
        Ok(Self {
            k: self.k,
            n: self.n,
            w_bits: self.w_bits,
            packed: PackedI8::pack_with(&self.packed.to_row_major(), self.k, self.n, layout)?,
            w_scales: self.w_scales.clone(),
            bias: self.bias.clone(),
        })
    }

    /// Y = dequant(quant(X) · W_q) + b with dynamic activation scales; `out` is M×N.
    pub fn forward(
        &self,
        x: &[f32],
        m: usize,
        act: ActGranularity,
        a_bits: u8,
        out: &mut [f32],
    ) -> Result<()> {
        self.forward_with(x, m, ActScales::Dynamic(act), a_bits, out)
    }

    /// Like [`forward`](Self::forward), with dynamic or static activation scales.
    pub fn forward_with(
        &self,
        x: &[f32],
        m: usize,
        act: ActScales<'_>,
        a_bits: u8,
        out: &mut [f32],
    ) -> Result<()> {
        check_len(
            "output Y (M×N)",
            checked_len("Y (M×N)", m, self.n)?,
            out.len(),
        )?;
        let qa = self.quantize_input(x, m, act, a_bits)?;
        self.forward_quantized(&qa, out)
    }

    /// Step 1 of `forward`: quantize X (M×K). Exposed so the codes and scales can be shown.
    pub fn quantize_input(
        &self,
        x: &[f32],
        m: usize,
        act: ActScales<'_>,
        a_bits: u8,
    ) -> Result<QuantizedActs> {
        check_len(
            "X (M×K, row-major)",
            checked_len("X (M×K)", m, self.k)?,
            x.len(),
        )?;
        QuantizedActs::quantize(x, m, self.k, act, a_bits)
    }

    /// Step 2 alone: the exact i32 accumulators Σ_i q_ti q_ij (M×N).
    pub fn accumulate(&self, qa: &QuantizedActs, acc: &mut [i32]) -> Result<()> {
        self.check_acts(qa)?;
        super::qgemm_i32(&qa.codes16, qa.m, qa.lda, &self.packed, acc)
    }

    /// Steps 2 and 3: GEMM and dequantization (s_t · s_j, + b) into `out` (M×N).
    pub fn forward_quantized(&self, qa: &QuantizedActs, out: &mut [f32]) -> Result<()> {
        self.check_acts(qa)?;
        super::qgemm_f32(
            &qa.codes16,
            qa.m,
            qa.lda,
            &self.packed,
            &qa.scales,
            &self.w_scales,
            self.bias.as_deref(),
            out,
        )
    }

    /// The same result computed in plain f32 from the dequantized weights (x · ŵ, no activation
    /// quantization): what the layer would give with float activations.
    pub fn forward_weight_only(&self, x: &[f32], m: usize, out: &mut [f32]) -> Result<()> {
        check_len(
            "X (M×K, row-major)",
            checked_len("X (M×K)", m, self.k)?,
            x.len(),
        )?;
        check_len(
            "output Y (M×N)",
            checked_len("Y (M×N)", m, self.n)?,
            out.len(),
        )?;
        let codes = self.weight_codes();
        let mut w = vec![0f32; codes.len()];
        for (wrow, crow) in w.chunks_exact_mut(self.n).zip(codes.chunks_exact(self.n)) {
            for ((d, &c), &s) in wrow.iter_mut().zip(crow).zip(&self.w_scales) {
                *d = f32::from(c) * s;
            }
        }
        let packed = super::PackedF32::pack(&w, self.k, self.n)?;
        super::gemm_f32(x, m, self.k, &packed, out)?;
        if let Some(b) = &self.bias {
            for row in out.chunks_exact_mut(self.n) {
                row.iter_mut().zip(b).for_each(|(y, &bj)| *y += bj);
            }
        }
        Ok(())
    }

    fn check_acts(&self, qa: &QuantizedActs) -> Result<()> {
        if qa.k != self.k {
            return Err(KernelError::ShapeMismatch {
                expected: format!("activations with K = {} columns", self.k),
                got: format!("K = {}", qa.k),
            });
        }
        Ok(())
    }
}

/// The simulated (fake-quant) layer: everything the real one computes, from first principles.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulatedLinear {
    /// Activation codes, M×K row-major.
    pub x_codes: Vec<i32>,
    /// One scale per row of X.
    pub x_scales: Vec<f32>,
    /// Weight codes, K×N row-major.
    pub w_codes: Vec<i32>,
    /// One scale per output column.
    pub w_scales: Vec<f32>,
    /// Σ_i q_ti q_ij in i64, M×N.
    pub acc: Vec<i64>,
    /// Σ_i x̂_ti ŵ_ij (+ b_j) in f64 with x̂ = q·s, M×N.
    pub y: Vec<f64>,
    /// s_t s_j Σ_i |q_ti q_ij| + |b_j|: the size of the terms behind y (for error bounds).
    pub magnitude: Vec<f64>,
}

/// Fake-quant reference of [`QLinear`]: quantize and dequantize X and W with the module's
/// semantics, then multiply in f64. Independent code (plain loops, std rounding) on purpose.
#[allow(clippy::too_many_arguments)]
pub fn simulate_linear(
    x: &[f32],
    m: usize,
    k: usize,
    w: &[f32],
    n: usize,
    bias: Option<&[f32]>,
    act: ActScales<'_>,
    a_bits: u8,
    w_bits: u8,
) -> Result<SimulatedLinear> {
    let (qa, qw) = (q_max(a_bits)? as f32, q_max(w_bits)? as f32);
    check_len("X (M×K, row-major)", checked_len("X (M×K)", m, k)?, x.len())?;
    check_len("W (K×N, row-major)", checked_len("W (K×N)", k, n)?, w.len())?;
    if let Some(b) = bias {
        check_len("bias (one per output column)", n, b.len())?;
    }
    for (v, cols) in [(x, k), (w, n)] {
        if v.iter().any(|e| !e.is_finite()) {
            return Err(super::non_finite_error(v, cols));
        }
    }
    if k == 0 || n == 0 {
        return Err(KernelError::Empty {
            what: "weight matrix W",
        });
    }
    let absmax = |v: &[f32]| v.iter().fold(0f32, |a, e| a.max(e.abs()));
    let x_scales: Vec<f32> = match act {
        ActScales::Dynamic(ActGranularity::PerToken) => x
            .chunks_exact(k)
            .map(|row| absmax(row).max(SCALE_FLOOR) / qa)
            .collect(),
        ActScales::Dynamic(ActGranularity::PerTensor) => vec![absmax(x).max(SCALE_FLOOR) / qa; m],
        ActScales::Static(&[s]) => vec![s; m],
        ActScales::Static(s) => {
            check_len("activation scales (1 per tensor or 1 per row)", m, s.len())?;
            s.to_vec()
        }
    };
    if let Some(&s) = x_scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(KernelError::InvalidScale { scale: s });
    }
    let mut w_scales = vec![0f32; n];
    for row in w.chunks_exact(n) {
        for (s, &v) in w_scales.iter_mut().zip(row) {
            *s = s.max(v.abs());
        }
    }
    for s in &mut w_scales {
        *s = s.max(SCALE_FLOOR) / qw;
    }
    let code = |v: f32, s: f32, q: f32| (v / s).round_ties_even().clamp(-q, q) as i32;
    let mut x_codes = Vec::with_capacity(x.len());
    for (row, &s) in x.chunks_exact(k).zip(&x_scales) {
        x_codes.extend(row.iter().map(|&v| code(v, s, qa)));
    }
    let mut w_codes = Vec::with_capacity(w.len());
    for row in w.chunks_exact(n) {
        w_codes.extend(row.iter().zip(&w_scales).map(|(&v, &s)| code(v, s, qw)));
    }
    // Fake-quantized values: an f32 scale times a code below 2^7 is exact in f64.
    let w_hat: Vec<f64> = w_codes
        .chunks_exact(n)
        .flat_map(|row| {
            row.iter()
                .zip(&w_scales)
                .map(|(&q, &s)| f64::from(q) * f64::from(s))
        })
        .collect();
    let mut acc = vec![0i64; m * n];
    let mut y = vec![0f64; m * n];
    let mut magnitude = vec![0f64; m * n];
    for (t, (xq_row, &st)) in x_codes.chunks_exact(k).zip(&x_scales).enumerate() {
        let range = t * n..(t + 1) * n;
        let (Some(acc_row), Some(y_row), Some(mag_row)) = (
            acc.get_mut(range.clone()),
            y.get_mut(range.clone()),
            magnitude.get_mut(range),
        ) else {
            continue;
        };
        for ((&q, wq_row), wh_row) in xq_row
            .iter()
            .zip(w_codes.chunks_exact(n))
            .zip(w_hat.chunks_exact(n))
        {
            let xh = f64::from(q) * f64::from(st);
            for ((((a, yv), mg), &wq), (&wh, &sj)) in acc_row
                .iter_mut()
                .zip(y_row.iter_mut())
                .zip(mag_row.iter_mut())
                .zip(wq_row)
                .zip(wh_row.iter().zip(&w_scales))
            {
                *a += i64::from(q) * i64::from(wq);
                *yv += xh * wh;
                *mg += f64::from(q.abs() * wq.abs()) * f64::from(st) * f64::from(sj);
            }
        }
        if let Some(b) = bias {
            for ((yv, mg), &bj) in y_row.iter_mut().zip(mag_row.iter_mut()).zip(b) {
                *yv += f64::from(bj);
                *mg += f64::from(bj.abs());
            }
        }
    }
    Ok(SimulatedLinear {
        x_codes,
        x_scales,
        w_codes,
        w_scales,
        acc,
        y,
        magnitude,
    })
}
