//! The quantization error of one linear layer, Y = X·W (the bias is left out), shared by the
//! outliers, SmoothQuant and rotation chapters.
//!
//! Layout: X is T×C_in (one row per token), W is C_in×C_out (column j holds output j's
//! weights), so Y = X·W + b is T×C_out. All matrices are row-major `f32`.
//!
//! # Reference semantics
//! Those of the SmoothQuant authors' `smoothquant/fake_quant.py` (mit-han-lab/smoothquant),
//! which the SmoothQuant, QuaRot and SpinQuant evaluations of "W8A8" share:
//! * symmetric absmax quantization, q_max = 2^(bits−1) − 1 (127 for 8 bits, 7 for 4 bits);
//! * a scale is s = max(absmax, 1e−5) / q_max (`scales.clamp_(min=1e-5).div_(q_max)`), with the
//!   absmax taken per token (row of X), per tensor, per *input* channel of X (column; the
//!   outliers chapter's comparison only: one scale per input channel cannot be factored out of
//!   the sum over that channel, so no integer GEMM can use it), or per *output* channel of W
//!   (column j of W, torch's row j of `weight`);
//! * fake quantization x ↦ round(x / s)·s with a division (not a multiplication by 1/s) and
//!   round half to even (`torch.round`). fake_quant.py does not clamp the codes: with an absmax
//!   scale |x / s| ≤ q_max(1 + 2⁻²³) < q_max + ½, so the rounded code already lies in
//!   [−q_max, q_max]. Here the codes are clamped to that range anyway (so they fit an `i8`),
//!   which changes nothing.
//!
//! The layer error is ‖Q(X′)·Q(W′) − X·W‖_F / ‖X·W‖_F, where X′, W′ are the tensors after an
//! equivalence transform (SmoothQuant's X·diag(s)⁻¹ and diag(s)·W, a rotation's X·R and Rᵀ·W,
//! or none) and X·W is the untransformed float product computed once in f64 ([`LayerCase`]).
//!
//! # How it is computed
//! When both sides have integer codes with one scale per row of X′ (or per tensor) and one per
//! column of W′ (or per tensor), Q(X′)·Q(W′) = s_t·s_j·Σ_c q_tc·q_cj exactly: the integer sums
//! come from the kernels' int8 GEMM (i32 accumulators, exact; SIMD128 in the browser) and the
//! scaling and the error are done in f64, so the result equals the f64 product of the
//! fake-quantized tensors up to the f32 rounding of each q·s (≈ 1e−7 relative). Per-channel
//! activation scales, or a side left in float, go through the kernels' f32 GEMM instead.

use ndarray::ArrayView2;

use super::error::{at, QuantError, Result};
use super::round::round_half_even;
use quantlab_kernels::scalar::clamp_code;
use quantlab_kernels::{self as kernels, PackedF32, PackedI8};

/// Smallest absmax a scale is computed from (fake_quant.py's `clamp(min=1e-5)`).
pub const SCALE_FLOOR: f32 = 1e-5;

/// How the activations X′ are quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActGranularity {
    /// One scale per token (row of X′): `quantize_activation_per_token_absmax`.
    PerToken,
    /// One scale for all of X′: `quantize_activation_per_tensor_absmax`.
    PerTensor,
    /// One scale per input channel (column of X′). Not GEMM-friendly (see the module docs);
    /// shown only to compare with the other two.
    PerChannel,
    /// Not quantized (weight-only quantization).
    Float,
}

impl ActGranularity {
    /// `token`, `tensor`, `channel` or `float`.
    pub fn name(self) -> &'static str {
        match self {
            ActGranularity::PerToken => "token",
            ActGranularity::PerTensor => "tensor",
            ActGranularity::PerChannel => "channel",
            ActGranularity::Float => "float",
        }
    }

    /// Inverse of [`name`](Self::name) (also accepts `per-token`, `per_token`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        match s
            .trim()
            .trim_start_matches("per-")
            .trim_start_matches("per_")
        {
            "token" => Some(ActGranularity::PerToken),
            "tensor" => Some(ActGranularity::PerTensor),
            "channel" => Some(ActGranularity::PerChannel),
            "float" | "none" => Some(ActGranularity::Float),
            _ => None,
        }
    }

    fn axis(self) -> Option<ScaleAxis> {
        match self {
            ActGranularity::PerToken => Some(ScaleAxis::Rows),
            ActGranularity::PerTensor => Some(ScaleAxis::Tensor),
            ActGranularity::PerChannel => Some(ScaleAxis::Cols),
            ActGranularity::Float => None,
        }
    }
}

/// How the weights W′ are quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeightGranularity {
    /// One scale per output channel (column j of W′): `quantize_weight_per_channel_absmax`.
    PerOutputChannel,
    /// One scale for all of W′: `quantize_weight_per_tensor_absmax`.
    PerTensor,
    /// Not quantized (activation-only quantization).
    Float,
}

impl WeightGranularity {
    /// `channel`, `tensor` or `float`.
    pub fn name(self) -> &'static str {
        match self {
            WeightGranularity::PerOutputChannel => "channel",
            WeightGranularity::PerTensor => "tensor",
            WeightGranularity::Float => "float",
        }
    }

    fn axis(self) -> Option<ScaleAxis> {
        match self {
            WeightGranularity::PerOutputChannel => Some(ScaleAxis::Cols),
            WeightGranularity::PerTensor => Some(ScaleAxis::Tensor),
            WeightGranularity::Float => None,
        }
    }
}

/// Bits and granularities of one quantized linear layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayerQuant {
    /// Weight bits, 2..=8 (ignored for [`WeightGranularity::Float`]).
    pub w_bits: u8,
    /// Activation bits, 2..=8 (ignored for [`ActGranularity::Float`]).
    pub a_bits: u8,
    pub act: ActGranularity,
    pub weights: WeightGranularity,
}

impl Default for LayerQuant {
    /// W8A8, per-token activations, per-output-channel weights (SmoothQuant's O3 setting).
    fn default() -> Self {
        LayerQuant::new(8, 8, ActGranularity::PerToken)
    }
}

impl LayerQuant {
    /// `w_bits`/`a_bits` with per-output-channel weights and the given activation scales.
    pub const fn new(w_bits: u8, a_bits: u8, act: ActGranularity) -> Self {
        LayerQuant {
            w_bits,
            a_bits,
            act,
            weights: WeightGranularity::PerOutputChannel,
        }
    }

    /// The same with other weight scales.
    pub const fn with_weights(self, weights: WeightGranularity) -> Self {
        LayerQuant { weights, ..self }
    }

    /// e.g. "W8A8 per-token".
    pub fn label(&self) -> String {
        let w = match self.weights {
            WeightGranularity::Float => "W16".to_string(),
            _ => format!("W{}", self.w_bits),
        };
        let a = match self.act {
            ActGranularity::Float => "A16".to_string(),
            _ => format!("A{}", self.a_bits),
        };
        let mut s = format!("{w}{a} per-{}", self.act.name());
        if self.weights == WeightGranularity::PerTensor {
            s.push_str(", per-tensor W");
        }
        s
    }

    fn check(&self) -> Result<()> {
        if self.weights != WeightGranularity::Float {
            q_max(self.w_bits)?;
        }
        if self.act != ActGranularity::Float {
            q_max(self.a_bits)?;
        }
        Ok(())
    }
}

/// q_max = 2^(bits−1) − 1 for bits 2..=8.
pub fn q_max(bits: u8) -> Result<i32> {
    if (2..=8).contains(&bits) {
        Ok((1 << (bits - 1)) - 1)
    } else {
        Err(QuantError::InvalidBits { bits })
    }
}

/// Which values share a scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScaleAxis {
    /// One scale for the whole matrix.
    Tensor,
    /// One scale per row.
    Rows,
    /// One scale per column.
    Cols,
}

/// A matrix quantized with symmetric absmax scales (the module's semantics).
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    pub rows: usize,
    pub cols: usize,
    /// rows×cols row-major codes in [−q_max, q_max].
    pub codes: Vec<i8>,
    pub axis: ScaleAxis,
    /// One scale (Tensor), one per row (Rows) or one per column (Cols).
    pub scales: Vec<f32>,
    /// ‖x̂ − x‖_F / ‖x‖_F with x̂ = code·scale rounded to f32 (0 for an all-zero matrix).
    pub rel_err: f64,
}

impl Quantized {
    /// The scale of element (r, c).
    pub fn scale_at(&self, r: usize, c: usize) -> f32 {
        let i = match self.axis {
            ScaleAxis::Tensor => 0,
            ScaleAxis::Rows => r,
            ScaleAxis::Cols => c,
        };
        self.scales.get(i).copied().unwrap_or(f32::NAN)
    }

    /// x̂ = code·scale (f32), row-major.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.codes.len());
        if self.cols == 0 {
            return out;
        }
        for (r, row) in self.codes.chunks_exact(self.cols).enumerate() {
            match self.axis {
                ScaleAxis::Cols => out.extend(
                    row.iter()
                        .zip(&self.scales)
                        .map(|(&q, &s)| f32::from(q) * s),
                ),
                _ => {
                    let s = self.scale_at(r, 0);
                    out.extend(row.iter().map(|&q| f32::from(q) * s));
                }
            }
        }
        out
    }
}

/// Quantizes `x` (rows×cols, row-major, finite) with one absmax scale per `axis` to `bits` bits.
pub fn quantize_symmetric(
    x: &[f32],
    rows: usize,
    cols: usize,
    bits: u8,
    axis: ScaleAxis,
) -> Result<Quantized> {
    quantize_rows_scaled(x, rows, cols, None, bits, axis)
}

/// [`quantize_symmetric`] of diag(row_mul)·x without materialising it: element (r, c) is the
/// f32 product row_mul[r]·x[r][c], exactly what `x * s[:, None]` gives (SmoothQuant's W′).
pub(crate) fn quantize_rows_scaled(
    x: &[f32],
    rows: usize,
    cols: usize,
    row_mul: Option<&[f32]>,
    bits: u8,
    axis: ScaleAxis,
) -> Result<Quantized> {
    let qm = q_max(bits)? as f32;
    check_len(
        "matrix to quantize (rows×cols)",
        checked_len(rows, cols)?,
        x.len(),
    )?;
    if let Some(m) = row_mul {
        check_len("row multipliers (one per row)", rows, m.len())?;
    }
    let mul = |r: usize| row_mul.and_then(|m| m.get(r)).copied().unwrap_or(1.0);
    let nscales = match axis {
        ScaleAxis::Tensor => 1,
        ScaleAxis::Rows => rows,
        ScaleAxis::Cols => cols,
    };
    let mut absmax = vec![0f32; nscales];
    if cols > 0 {
        for (r, row) in x.chunks_exact(cols).enumerate() {
            let f = mul(r);
            if axis == ScaleAxis::Cols {
                kernels::absmax_per_col(row, f, &mut absmax);
            } else {
                let i = if axis == ScaleAxis::Rows { r } else { 0 };
                if let Some(m) = absmax.get_mut(i) {
                    let mut a = *m;
                    for &v in row {
                        a = a.max((f * v).abs());
                    }
                    *m = a;
                }
            }
        }
    }
    let scales: Vec<f32> = absmax.iter().map(|&m| m.max(SCALE_FLOOR) / qm).collect();
    let mut codes = vec![0i8; x.len()];
    // Plain loops with local accumulators (no closure): the app is built with opt-level "z",
    // which inlines little, and this loop runs over all of W on every slider move.
    let (mut err2, mut ref2) = (0f64, 0f64);
    if cols > 0 {
        for (r, (row, crow)) in x
            .chunks_exact(cols)
            .zip(codes.chunks_exact_mut(cols))
            .enumerate()
        {
            let f = mul(r);
            let (mut e_row, mut x_row) = (0f64, 0f64);
            if axis == ScaleAxis::Cols {
                (e_row, x_row) = kernels::quantize_row_per_col(row, f, &scales, qm, crow);
            } else {
                let i = if axis == ScaleAxis::Rows { r } else { 0 };
                let s = at(&scales, i, "scales (one per row or one per tensor)")?;
                for (&v0, c) in row.iter().zip(crow.iter_mut()) {
                    let v = f * v0;
                    let q = clamp_code(round_half_even(v / s), qm);
                    *c = q as i32 as i8;
                    let (xh, xv) = (f64::from(q * s), f64::from(v));
                    e_row += (xh - xv) * (xh - xv);
                    x_row += xv * xv;
                }
            }
            err2 += e_row;
            ref2 += x_row;
        }
    }
    Ok(Quantized {
        rows,
        cols,
        codes,
        axis,
        scales,
        rel_err: ratio(err2.sqrt(), ref2.sqrt()),
    })
}

/// The error of one quantized layer (see the module docs for the definitions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerError {
    /// ‖Q(X′)·Q(W′) − X·W‖_F / ‖X·W‖_F.
    pub rel_err: f64,
    /// ‖Q(X′) − X′‖_F / ‖X′‖_F (0 when activations stay in float).
    pub x_rel_err: f64,
    /// ‖Q(W′) − W′‖_F / ‖W′‖_F (0 when weights stay in float).
    pub w_rel_err: f64,
    /// ‖Q(X′)·Q(W′) − X·W‖_F.
    pub abs_err: f64,
    /// ‖X·W‖_F.
    pub ref_norm: f64,
}

/// How far a float (f32) computation of X′·W′ is from the exact X·W: the equivalence
/// transforms are identities in exact arithmetic, so this is pure f32 rounding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatDeviation {
    /// ‖X′·W′ − X·W‖_F / ‖X·W‖_F.
    pub rel_frobenius: f64,
    /// max_tj |(X′·W′)_tj − (X·W)_tj| / max_tj |(X·W)_tj| (normalised by the largest output,
    /// not entry by entry, because some outputs are close to 0).
    pub max_rel: f64,
    /// max_tj |(X′·W′)_tj − (X·W)_tj|.
    pub max_abs: f64,
}

/// A layer's X and W with the float reference Y = X·W (computed once, in f64 from the f32
/// inputs: every product is exact in f64) cached for the many error evaluations a slider or a
/// sweep makes.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerCase {
    t: usize,
    cin: usize,
    cout: usize,
    x: Vec<f32>,
    w: Vec<f32>,
    y: Vec<f64>,
    y_norm: f64,
    y_absmax: f64,
}

impl LayerCase {
    /// X (T×C_in) and W (C_in×C_out); both must be finite and non-empty.
    pub fn new(x: ArrayView2<'_, f32>, w: ArrayView2<'_, f32>) -> Result<Self> {
        let (t, cin) = x.dim();
        let (win, cout) = w.dim();
        if cin != win {
            return Err(shape_err(t, cin, win, cout));
        }
        Self::from_vecs(
            x.iter().copied().collect(),
            t,
            cin,
            w.iter().copied().collect(),
            cout,
        )
    }

    /// Like [`new`](Self::new) from row-major vectors: `x` is t×cin, `w` is cin×cout.
    pub fn from_vecs(x: Vec<f32>, t: usize, cin: usize, w: Vec<f32>, cout: usize) -> Result<Self> {
        if t == 0 || cin == 0 {
            return Err(QuantError::Empty {
                what: "activation matrix X",
            });
        }
        if cout == 0 {
            return Err(QuantError::Empty {
                what: "weight matrix W",
            });
        }
        check_len("X (T×C_in, row-major)", checked_len(t, cin)?, x.len())?;
        check_len(
            "W (C_in×C_out, row-major)",
            checked_len(cin, cout)?,
            w.len(),
        )?;
        check_finite(&x, cin)?;
        check_finite(&w, cout)?;
        if cin > kernels::MAX_K {
            return Err(QuantError::TooLarge {
                what: "number of input channels",
                got: cin as u128,
                limit: kernels::MAX_K as u128,
            });
        }
        let y = matmul_f64(&x, t, cin, &w, cout);
        let y_norm = y.iter().map(|v| v * v).sum::<f64>().sqrt();
        let y_absmax = y.iter().fold(0f64, |a, v| a.max(v.abs()));
        Ok(LayerCase {
            t,
            cin,
            cout,
            x,
            w,
            y,
            y_norm,
            y_absmax,
        })
    }

    /// T, the number of tokens (rows of X).
    pub fn tokens(&self) -> usize {
        self.t
    }

    /// C_in (columns of X, rows of W).
    pub fn in_channels(&self) -> usize {
        self.cin
    }

    /// C_out (columns of W).
    pub fn out_channels(&self) -> usize {
        self.cout
    }

    /// X, T×C_in row-major.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    /// W, C_in×C_out row-major.
    pub fn w(&self) -> &[f32] {
        &self.w
    }

    /// Y = X·W in f64, T×C_out row-major.
    pub fn reference(&self) -> &[f64] {
        &self.y
    }

    /// ‖X·W‖_F.
    pub fn reference_norm(&self) -> f64 {
        self.y_norm
    }

    /// The error of quantizing X and W as they are (no transform).
    pub fn error(&self, cfg: &LayerQuant) -> Result<LayerError> {
        self.error_with(&self.x, &self.w, cfg)
    }

    /// The error of quantizing a transformed pair X′ (T×C_in), W′ (C_in×C_out), measured
    /// against the cached X·W. X′·W′ must equal X·W in exact arithmetic for this to mean
    /// anything (SmoothQuant scaling, an orthogonal rotation).
    pub fn error_with(&self, x2: &[f32], w2: &[f32], cfg: &LayerQuant) -> Result<LayerError> {
        self.error_impl(x2, w2, None, cfg)
    }

    /// The error with W′ = diag(row_mul)·W (SmoothQuant), without materialising W′ when it is
    /// quantized.
    pub(crate) fn error_row_scaled(
        &self,
        x2: &[f32],
        row_mul: &[f32],
        cfg: &LayerQuant,
    ) -> Result<LayerError> {
        self.error_impl(x2, &self.w, Some(row_mul), cfg)
    }

    fn error_impl(
        &self,
        x2: &[f32],
        w2: &[f32],
        row_mul: Option<&[f32]>,
        cfg: &LayerQuant,
    ) -> Result<LayerError> {
        cfg.check()?;
        check_len("X′ (T×C_in, row-major)", self.t * self.cin, x2.len())?;
        check_len("W′ (C_in×C_out, row-major)", self.cin * self.cout, w2.len())?;
        let qa = match cfg.act.axis() {
            Some(axis) => Some(quantize_symmetric(x2, self.t, self.cin, cfg.a_bits, axis)?),
            None => None,
        };
        let (qw, wf) = match (cfg.weights.axis(), row_mul) {
            (Some(axis), _) => (
                Some(quantize_rows_scaled(
                    w2, self.cin, self.cout, row_mul, cfg.w_bits, axis,
                )?),
                None,
            ),
            (None, None) => (None, None),
            (None, Some(m)) => {
                check_len("row multipliers (one per input channel)", self.cin, m.len())?;
                let mut v = w2.to_vec();
                for (row, &f) in v.chunks_exact_mut(self.cout).zip(m) {
                    row.iter_mut().for_each(|x| *x *= f);
                }
                (None, Some(v))
            }
        };
        let a = match &qa {
            Some(q) => Operand::Quantized(q),
            None => Operand::Float(x2),
        };
        let b = match (&qw, &wf) {
            (Some(q), _) => Operand::Quantized(q),
            (None, Some(v)) => Operand::Float(v),
            (None, None) => Operand::Float(w2),
        };
        let mut e2 = 0f64;
        let y = &self.y;
        let n = self.cout;
        product_rows(a, b, self.t, self.cin, n, |r, row| {
            if let Some(yrow) = y.get(r * n..(r + 1) * n) {
                for (&v, &yv) in row.iter().zip(yrow) {
                    e2 += (v - yv) * (v - yv);
                }
            }
        })?;
        let abs_err = e2.sqrt();
        Ok(LayerError {
            rel_err: ratio(abs_err, self.y_norm),
            x_rel_err: qa.as_ref().map_or(0.0, |q| q.rel_err),
            w_rel_err: qw.as_ref().map_or(0.0, |q| q.rel_err),
            abs_err,
            ref_norm: self.y_norm,
        })
    }

    /// The f32 product X′·W′ (the kernels' f32 GEMM) against the f64 reference X·W.
    pub fn float_deviation(&self, x2: &[f32], w2: &[f32]) -> Result<FloatDeviation> {
        check_len("X′ (T×C_in, row-major)", self.t * self.cin, x2.len())?;
        check_len("W′ (C_in×C_out, row-major)", self.cin * self.cout, w2.len())?;
        let p = gemm_f32(x2, self.t, self.cin, w2, self.cout)?;
        let (mut e2, mut emax) = (0f64, 0f64);
        for (&v, &y) in p.iter().zip(&self.y) {
            let d = f64::from(v) - y;
            e2 += d * d;
            emax = emax.max(d.abs());
        }
        Ok(FloatDeviation {
            rel_frobenius: ratio(e2.sqrt(), self.y_norm),
            max_rel: ratio(emax, self.y_absmax),
            max_abs: emax,
        })
    }
}

/// One side of a quantized product: codes with their scales, or float values.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    Quantized(&'a Quantized),
    Float(&'a [f32]),
}

/// Â·B̂ (m×n, f64) for Â m×k and B̂ k×n, each quantized or float.
///
/// Codes with row/tensor scales on the left and column/tensor scales on the right go through
/// the kernels' int8 GEMM: s_t·s_j·Σ q·q with exact integer sums, scaled in f64. Otherwise
/// (per-column scales on the left, i.e. per-input-channel activations, or a float side) the
/// left side's column scales are folded into the rows of the right side and the product is the
/// kernels' f32 GEMM, with the remaining row and column scales applied in f64.
pub fn quantized_matmul(
    a: Operand<'_>,
    b: Operand<'_>,
    m: usize,
    k: usize,
    n: usize,
) -> Result<Vec<f64>> {
    let mut out = vec![0f64; checked_len(m, n)?];
    product_rows(a, b, m, k, n, |r, row| {
        if let Some(dst) = out.get_mut(r * n..(r + 1) * n) {
            dst.copy_from_slice(row);
        }
    })?;
    Ok(out)
}

/// [`quantized_matmul`] handing each finished row (index, n values) to `sink` instead of
/// storing the whole product.
fn product_rows(
    a: Operand<'_>,
    b: Operand<'_>,
    m: usize,
    k: usize,
    n: usize,
    mut sink: impl FnMut(usize, &[f64]),
) -> Result<()> {
    let (mk, kn) = (checked_len(m, k)?, checked_len(k, n)?);
    match a {
        Operand::Quantized(q) => {
            check_len("left operand (m×k)", mk, q.codes.len())?;
            check_len("left operand (rows)", m, q.rows)?;
        }
        Operand::Float(v) => check_len("left operand (m×k)", mk, v.len())?,
    }
    match b {
        Operand::Quantized(q) => {
            check_len("right operand (k×n)", kn, q.codes.len())?;
            check_len("right operand (rows)", k, q.rows)?;
        }
        Operand::Float(v) => check_len("right operand (k×n)", kn, v.len())?,
    }
    if n == 0 {
        return Ok(());
    }
    // Per-row and per-column factors applied after the GEMM, in f64.
    let row_factors = |q: Option<&Quantized>| -> Vec<f64> {
        match q {
            Some(q) if q.axis != ScaleAxis::Cols => {
                (0..m).map(|r| f64::from(q.scale_at(r, 0))).collect()
            }
            _ => vec![1.0; m],
        }
    };
    let col_factors = |q: Option<&Quantized>| -> Vec<f64> {
        match q {
            Some(q) if q.axis != ScaleAxis::Rows => {
                (0..n).map(|j| f64::from(q.scale_at(0, j))).collect()
            }
            _ => vec![1.0; n],
        }
    };
    let mut row = vec![0f64; n];
    if let (Operand::Quantized(qa), Operand::Quantized(qb)) = (a, b) {
        if qa.axis != ScaleAxis::Cols && qb.axis != ScaleAxis::Rows {
            let acc = gemm_i8(&qa.codes, m, k, &qb.codes, n)?;
            let (rs, cs) = (row_factors(Some(qa)), col_factors(Some(qb)));
            for (r, (arow, &f)) in acc.chunks_exact(n).zip(&rs).enumerate() {
                for ((o, &s), &c) in row.iter_mut().zip(arow).zip(&cs) {
                    *o = f64::from(s) * f * c;
                }
                sink(r, &row);
            }
            return Ok(());
        }
    }
    let (a_eff, row_s, fold): (Vec<f32>, Option<&Quantized>, Option<&[f32]>) = match a {
        Operand::Float(x) => (x.to_vec(), None, None),
        Operand::Quantized(q) => {
            let v = q.codes.iter().map(|&c| f32::from(c)).collect();
            match q.axis {
                ScaleAxis::Cols => (v, None, Some(q.scales.as_slice())),
                _ => (v, Some(q), None),
            }
        }
    };
    let (mut b_eff, col_s): (Vec<f32>, Option<&Quantized>) = match b {
        Operand::Float(w) => (w.to_vec(), None),
        Operand::Quantized(q) => match q.axis {
            ScaleAxis::Rows => (q.dequantize(), None),
            _ => (q.codes.iter().map(|&c| f32::from(c)).collect(), Some(q)),
        },
    };
    if let Some(f) = fold {
        for (brow, &s) in b_eff.chunks_exact_mut(n).zip(f) {
            brow.iter_mut().for_each(|v| *v *= s);
        }
    }
    let p = gemm_f32(&a_eff, m, k, &b_eff, n)?;
    let (rs, cs) = (row_factors(row_s), col_factors(col_s));
    for (r, (prow, &f)) in p.chunks_exact(n).zip(&rs).enumerate() {
        for ((o, &v), &c) in row.iter_mut().zip(prow).zip(&cs) {
            *o = f64::from(v) * f * c;
        }
        sink(r, &row);
    }
    Ok(())
}

/// One-off [`LayerCase::error`]: builds the case (the f64 reference product) and measures.
/// Use a [`LayerCase`] when measuring the same layer more than once.
pub fn layer_error(
    x: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    cfg: &LayerQuant,
) -> Result<LayerError> {
    LayerCase::new(x, w)?.error(cfg)
}

// ---------------------------------------------------------------------------------------------
// Small shared helpers (used by outliers, smooth and rotate).

/// a / b, with 0/0 = 0 and x/0 = ∞.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else if a == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

pub(crate) fn checked_len(rows: usize, cols: usize) -> Result<usize> {
    Ok(kernels::checked_len("matrix", rows, cols)?)
}

pub(crate) use quantlab_kernels::check_len;

fn shape_err(t: usize, cin: usize, win: usize, cout: usize) -> QuantError {
    QuantError::ShapeMismatch {
        expected: format!("W with {cin} rows, one per input channel (X is {t}×{cin}, Y = X·W)"),
        got: format!("W of {win}×{cout}"),
    }
}

/// Rejects NaN/Inf in a row-major matrix with `cols` columns.
pub(crate) fn check_finite(v: &[f32], cols: usize) -> Result<()> {
    if v.iter().all(|x| x.is_finite()) {
        return Ok(());
    }
    let count = v.iter().filter(|x| !x.is_finite()).count();
    let first = v.iter().position(|x| !x.is_finite()).unwrap_or(0);
    Err(QuantError::NonFinite {
        count,
        first_index: first,
        first_row_col: (cols > 0).then(|| (first / cols, first % cols)),
    })
}

/// Y = A·B in f64 (A m×k, B k×n, row-major). Products of two f32 are exact in f64, so for f32
/// inputs only the f64 additions round. Four rows at a time share each row of B. Written out per
/// element type (not generic over `Into<f64>`): at the app's opt-level "z" the generic version
/// was 3× slower.
macro_rules! matmul_f64_impl {
    ($(#[$doc:meta])* $name:ident, $a:ty, $b:ty, $axpy4:path) => {
        $(#[$doc])*
        pub(crate) fn $name(a: &[$a], m: usize, k: usize, b: &[$b], n: usize) -> Vec<f64> {
            let mut y = vec![0f64; m * n];
            if n == 0 || k == 0 {
                return y;
            }
            for (ablock, yblock) in a.chunks(4 * k).zip(y.chunks_mut(4 * n)) {
                let rows = ablock.len() / k;
                if rows == 4 {
                    let (y01, y23) = yblock.split_at_mut(2 * n);
                    let (y0, y1) = y01.split_at_mut(n);
                    let (y2, y3) = y23.split_at_mut(n);
                    let (a01, a23) = ablock.split_at(2 * k);
                    let (a0, a1) = a01.split_at(k);
                    let (a2, a3) = a23.split_at(k);
                    for (kk, brow) in b.chunks_exact(n).enumerate() {
                        let (Some(&v0), Some(&v1), Some(&v2), Some(&v3)) =
                            (a0.get(kk), a1.get(kk), a2.get(kk), a3.get(kk))
                        else {
                            continue;
                        };
                        let v = [f64::from(v0), f64::from(v1), f64::from(v2), f64::from(v3)];
                        $axpy4(
                            [&mut *y0, &mut *y1, &mut *y2, &mut *y3],
                            v,
                            brow,
                        );
                    }
                } else {
                    for (arow, yrow) in ablock.chunks_exact(k).zip(yblock.chunks_exact_mut(n)) {
                        for (&av, brow) in arow.iter().zip(b.chunks_exact(n)) {
                            let av = f64::from(av);
                            for (o, &bv) in yrow.iter_mut().zip(brow) {
                                *o += av * f64::from(bv);
                            }
                        }
                    }
                }
            }
            y
        }
    };
}

matmul_f64_impl!(
    /// Y = A·B in f64 for f32 A and B.
    matmul_f64, f32, f32, kernels::axpy4_f64_f32
);
matmul_f64_impl!(
    /// Y = A·B in f64 for f32 A and f64 B (X times a float64 rotation).
    matmul_f64_32_64, f32, f64, axpy4_f64_f64
);
matmul_f64_impl!(
    /// Y = A·B in f64 for f64 A and f32 B (a float64 Rᵀ times W).
    matmul_f64_64_32, f64, f32, kernels::axpy4_f64_f32
);

/// [`kernels::axpy4_f64_f32`] for an f64 row (the float64 rotations; not a hot path).
fn axpy4_f64_f64(y: [&mut [f64]; 4], v: [f64; 4], b: &[f64]) {
    let [y0, y1, y2, y3] = y;
    let [v0, v1, v2, v3] = v;
    for ((((&bv, o0), o1), o2), o3) in b
        .iter()
        .zip(y0.iter_mut())
        .zip(y1.iter_mut())
        .zip(y2.iter_mut())
        .zip(y3.iter_mut())
    {
        *o0 += v0 * bv;
        *o1 += v1 * bv;
        *o2 += v2 * bv;
        *o3 += v3 * bv;
    }
}

/// C = A·B in f32 with the kernels' GEMM (A m×k, B k×n, row-major; B is packed here).
pub(crate) fn gemm_f32(a: &[f32], m: usize, k: usize, b: &[f32], n: usize) -> Result<Vec<f32>> {
    let packed = PackedF32::pack(b, k, n)?;
    let mut c = vec![0f32; checked_len(m, n)?];
    kernels::gemm_f32(a, m, k, &packed, &mut c)?;
    Ok(c)
}

/// C = A·B for int8 codes, exact i32 sums (the kernels' int8 GEMM).
pub(crate) fn gemm_i8(a: &[i8], m: usize, k: usize, b: &[i8], n: usize) -> Result<Vec<i32>> {
    let packed = PackedI8::pack(b, k, n)?;
    let mut c = vec![0i32; checked_len(m, n)?];
    kernels::gemm_i8(a, m, k, &packed, &mut c)?;
    Ok(c)
}

/// The transpose of a row-major rows×cols matrix (cols×rows), in cache-friendly tiles.
pub(crate) fn transpose<T: Copy + Default>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = vec![T::default(); rows * cols];
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    if let (Some(o), Some(&v)) = (out.get_mut(c * rows + r), a.get(r * cols + c)) {
                        *o = v;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_never_exceed_qmax() {
        let x = [1.0f32, -1.0, 0.5, 0.999_999_9, -3.0, 3.0];
        for bits in 2..=8 {
            let q = quantize_symmetric(&x, 2, 3, bits, ScaleAxis::Rows).unwrap();
            let qm = q_max(bits).unwrap();
            assert!(q.codes.iter().all(|&c| i32::from(c).abs() <= qm));
            assert_eq!(i32::from(q.codes[4]), -qm);
        }
    }

    #[test]
    fn exact_and_float_paths_agree() {
        let (t, k, n) = (5, 7, 9);
        let x: Vec<f32> = (0..t * k)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0)
            .collect();
        let w: Vec<f32> = (0..k * n)
            .map(|i| ((i * 53 % 31) as f32 - 15.0) / 7.0)
            .collect();
        let case = LayerCase::from_vecs(x, t, k, w, n).unwrap();
        let cfg = LayerQuant::new(4, 4, ActGranularity::PerToken);
        let e = case.error(&cfg).unwrap();
        // Same numbers through the float path: dequantize both sides, multiply in f64.
        let qa = quantize_symmetric(case.x(), t, k, 4, ScaleAxis::Rows)
            .unwrap()
            .dequantize();
        let qw = quantize_symmetric(case.w(), k, n, 4, ScaleAxis::Cols)
            .unwrap()
            .dequantize();
        let p = matmul_f64(&qa, t, k, &qw, n);
        let e2: f64 = p
            .iter()
            .zip(case.reference())
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        assert!((e.rel_err - e2.sqrt() / case.reference_norm()).abs() < 1e-6 * e.rel_err);
        let fl = case
            .error(&cfg.with_weights(WeightGranularity::Float))
            .unwrap();
        assert!(fl.rel_err > 0.0 && fl.w_rel_err == 0.0);
    }
}
