//! Number formats beyond integer grids: FP16/BF16 casts, scaled FP8/FP4, OCP Microscaling
//! (MXFP8, MXFP4) and NVFP4, as fake quantization (quantize → dequantize in f32).
//!
//! * [`element`]: the float grids themselves (rounding, saturation, bit patterns).
//! * [`scaled`]: FP8/FP4 with one f32 scale per tensor, row, column or group,
//!   s = absmax / max_elem.
//! * [`block`]: the block-scaled formats, one shared scale per block of 32 (MX, a power of
//!   two) or 16 (NVFP4, an E4M3 number times a per-tensor f32 scale) along the last axis.
//!
//! Nothing here runs on an int8 kernel: a float format is simulated by rounding every value to
//! its grid and computing in f32, which is what the page says.
//!
//! Bits per value count everything stored: the elements, plus 32 bits per f32 scale (scaled
//! FP8/FP4, NVFP4's tensor scale), 8 per E8M0 (MX) or E4M3 (NVFP4) block scale, and for
//! integer grids 32 bits per (scale, zero-point) pair, as the "Why quantize?" chapter counts.

pub mod block;
pub mod compare;
pub mod element;
pub mod scaled;

use ndarray::{Array2, ArrayView2};

pub use block::{block_quantize, BlockFormat};
pub use element::Element;
pub use scaled::scaled_quantize;

use crate::error::{QuantError, Result};
use crate::granularity::Granularity;
use crate::metrics::{ErrorAccumulator, RoundTripMetrics};
use crate::quantize::NonFinitePolicy;
use crate::stats::check_finite_2d;

/// A number format a tensor can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Today's integer grids (`Scheme`, `quantize_granular`).
    Int,
    /// A plain cast: FP16 or BF16, no scale.
    Cast(Element),
    /// FP8/FP4 elements with one f32 scale per granularity group.
    Scaled(Element),
    /// MXFP8, MXFP4 or NVFP4.
    Block(BlockFormat),
}

impl Format {
    /// Every format, in the order the command line lists them.
    pub const ALL: [Format; 9] = [
        Format::Int,
        Format::Cast(Element::Fp16),
        Format::Cast(Element::Bf16),
        Format::Scaled(Element::E4m3),
        Format::Scaled(Element::E5m2),
        Format::Scaled(Element::E2m1),
        Format::Block(BlockFormat::Mxfp8),
        Format::Block(BlockFormat::Mxfp4),
        Format::Block(BlockFormat::Nvfp4),
    ];

    /// `int|fp16|bf16|e4m3|e5m2|e2m1|mxfp8|mxfp4|nvfp4`: the CLI's `--format` values and the
    /// JSON's `format` field.
    pub const fn slug(self) -> &'static str {
        match self {
            Format::Int => "int",
            Format::Cast(e) | Format::Scaled(e) => e.slug(),
            Format::Block(b) => b.slug(),
        }
    }

    pub fn from_slug(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.slug() == s)
    }

    /// The grid each value is rounded to (none for integers).
    pub const fn element(self) -> Option<Element> {
        match self {
            Format::Int => None,
            Format::Cast(e) | Format::Scaled(e) => Some(e),
            Format::Block(b) => Some(b.element()),
        }
    }

    /// Whether a granularity (tensor, token, channel, group) applies: integer grids and the
    /// per-tensor-scaled FP8/FP4 formats; MX and NVFP4 have their fixed blocks, FP16/BF16 no scale.
    pub const fn takes_granularity(self) -> bool {
        matches!(self, Format::Int | Format::Scaled(_))
    }
}

/// A tensor in a float format, dequantized back to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatResult {
    pub format: Format,
    /// The groups of scaled FP8/FP4 (per tensor for the other formats).
    pub granularity: Granularity,
    /// The scales, row-major over `param_shape` (empty for FP16/BF16): f32 scales for scaled
    /// FP8/FP4, the block scales 2^e for MX, the E4M3 block scales for NVFP4.
    pub scales: Vec<f32>,
    pub param_shape: Vec<usize>,
    /// NVFP4's per-tensor f32 scale.
    pub tensor_scale: Option<f32>,
    /// Bits per value, scales included (see the module docs).
    pub bits_per_value: f64,
    /// Error metrics; `clipped` counts values saturated at ±max (or cast to ±Inf).
    pub overall: RoundTripMetrics,
    pub dequantized: Array2<f32>,
}

impl FormatResult {
    /// What element (row, col) of the (rows, cols) tensor was divided by before rounding: its
    /// group's scale, its block's scale (times NVFP4's tensor scale), or 1 for a plain cast.
    pub fn factor_at(&self, row: usize, col: usize) -> Option<f32> {
        let cols = self.dequantized.ncols();
        let at = |i: usize| self.scales.get(i).copied();
        match self.format {
            Format::Int => None,
            Format::Cast(_) => Some(1.0),
            Format::Scaled(_) => match self.granularity {
                Granularity::PerTensor => at(0),
                Granularity::PerToken | Granularity::PerChannel { axis: 0 } => at(row),
                Granularity::PerChannel { .. } => at(col),
                Granularity::PerGroup { axis: 0, size } => at((row / size.max(1)) * cols + col),
                Granularity::PerGroup { size, .. } => {
                    let per_row = cols / size.max(1);
                    at(row * per_row + col / size.max(1))
                }
            },
            Format::Block(b) => {
                let per_row = cols.div_ceil(b.block_size());
                let s = at(row * per_row + col / b.block_size())?;
                Some(self.tensor_scale.map_or(s, |t| s * t))
            }
        }
    }
}

/// One value's way through a float grid: divided by its scale, rounded to the grid (its sign,
/// exponent and mantissa fields), multiplied back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatJourney {
    pub x: f32,
    /// The scale x is divided by (1 for FP16/BF16).
    pub factor: f32,
    pub scaled: f32,
    /// The bit pattern and its fields (exponent as stored, with the bias).
    pub code: u32,
    pub sign: u32,
    pub exponent: u32,
    pub mantissa: u32,
    /// The grid value x/s was rounded to.
    pub grid_value: f32,
    /// The distance between neighbouring grid values at this magnitude, in units of x.
    pub step: f32,
    /// x/s lay beyond the grid's largest value.
    pub saturated: bool,
    pub dequantized: f32,
    pub error: f32,
}

/// The journey of `x` through `element` with scale `factor` (see [`FormatResult::factor_at`]).
/// A zero factor (an NVFP4 block whose scale rounded to 0) sends every value to 0.
pub fn float_journey(x: f32, factor: f32, element: Element) -> Result<FloatJourney> {
    if !x.is_finite() {
        return Err(QuantError::NonFinite {
            count: 1,
            first_index: 0,
            first_row_col: None,
        });
    }
    if !factor.is_finite() || factor < 0.0 {
        return Err(QuantError::InvalidScale { scale: factor });
    }
    let (scaled, (grid_value, saturated)) = if factor == 0.0 {
        (0.0, (0.0, false))
    } else {
        (x / factor, element.cast(x / factor))
    };
    let code = element.encode(grid_value);
    let m = element.mantissa_bits();
    let dequantized = grid_value * factor;
    Ok(FloatJourney {
        x,
        factor,
        scaled,
        code,
        sign: code >> (element.bits() - 1),
        exponent: (code >> m) & ((1 << element.exponent_bits()) - 1),
        mantissa: code & ((1 << m) - 1),
        grid_value,
        step: element.step_at(grid_value.abs().min(element.max())) * factor,
        saturated,
        dequantized,
        error: dequantized - x,
    })
}

/// Fake-quantizes a 2-D tensor (1-D data as one row) in a float format. `granularity` is used
/// by scaled FP8/FP4 only; passing anything but per-tensor to other formats is an error.
pub fn quantize_format(
    x: ArrayView2<'_, f32>,
    format: Format,
    granularity: Granularity,
    policy: NonFinitePolicy,
) -> Result<FormatResult> {
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    if policy == NonFinitePolicy::Reject {
        check_finite_2d(x)?;
    }
    if !format.takes_granularity() && granularity != Granularity::PerTensor {
        return Err(QuantError::InvalidParameter {
            name: "granularity",
            value: granularity.describe(),
            allowed: "per tensor only: FP16/BF16 have no scale, MX and NVFP4 their own blocks",
        });
    }
    let r = match format {
        Format::Int => {
            return Err(QuantError::InvalidParameter {
                name: "format",
                value: "int".into(),
                allowed: "a float format here (integer grids go through quantize_granular)",
            })
        }
        Format::Cast(e) => cast_tensor(x, e),
        Format::Scaled(e) => scaled_quantize(x, e, granularity)?,
        Format::Block(b) => block_quantize(x, b)?,
    };
    if r.overall.n == 0 {
        return Err(QuantError::AllNonFinite { count: x.len() });
    }
    Ok(r)
}

/// FP16/BF16: every value cast on its own.
fn cast_tensor(x: ArrayView2<'_, f32>, e: Element) -> FormatResult {
    let mut acc = ErrorAccumulator::default();
    let dequantized = x.mapv(|v| {
        let (q, over) = e.cast(v);
        record(&mut acc, v, q, over);
        q
    });
    FormatResult {
        format: Format::Cast(e),
        granularity: Granularity::PerTensor,
        scales: Vec::new(),
        param_shape: Vec::new(),
        tensor_scale: None,
        bits_per_value: f64::from(e.bits()),
        overall: finish(&acc),
        dequantized,
    }
}

/// Adds one value to the metrics, or counts it as skipped (NaN/Inf passed through).
#[inline]
pub(crate) fn record(acc: &mut ErrorAccumulator, x: f32, q: f32, over: bool) {
    if x.is_finite() {
        acc.add(x, q, over);
    } else {
        acc.skipped += 1;
    }
}

/// Rounds the values of `lane` of the row-major `flat` to `element`'s grid after dividing by
/// `factor` (0: every value becomes 0), writes x̂ into `out` and the errors into `acc`; NaN/Inf
/// (let through by the caller's policy) pass unchanged and count as skipped.
pub(crate) fn round_lane(
    flat: &[f32],
    out: &mut [f32],
    lane: scaled::Lane,
    factor: f32,
    element: Element,
    acc: &mut ErrorAccumulator,
) {
    for i in lane.indices() {
        if let (Some(&v), Some(o)) = (flat.get(i), out.get_mut(i)) {
            let (deq, over) = if !v.is_finite() {
                (v, false)
            } else if factor == 0.0 {
                (0.0, false)
            } else {
                let (q, over) = element.cast(v / factor);
                (q * factor, over)
            };
            record(acc, v, deq, over);
            *o = deq;
        }
    }
}

/// The flat result back in the tensor's shape.
pub(crate) fn reshape(rows: usize, cols: usize, out: Vec<f32>) -> Result<Array2<f32>> {
    Array2::from_shape_vec((rows, cols), out).map_err(|_| QuantError::ShapeMismatch {
        expected: format!("({rows}, {cols})"),
        got: "a different number of values".into(),
    })
}

pub(crate) fn finish(acc: &ErrorAccumulator) -> RoundTripMetrics {
    let mut m = acc.finish();
    m.skipped = acc.skipped as usize;
    m
}

/// Bits per value of an integer grid: `bits` per code plus 32 per (scale, zero-point) pair.
pub fn int_bits_per_value(bits: u8, groups: usize, n: usize) -> f64 {
    f64::from(bits) + 32.0 * groups as f64 / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journey_names_the_fields() {
        // 0.3 in E4M3 with scale 0.5: 0.6 = 1.0011001…₂ · 2^−1 rounds up to 1.010₂ · 2^−1.
        let j = float_journey(0.3, 0.5, Element::E4m3).unwrap();
        assert_eq!((j.sign, j.exponent, j.mantissa), (0, 6, 2));
        assert_eq!(j.grid_value, 0.625);
        assert_eq!(j.dequantized, 0.3125);
        assert_eq!(j.step, 0.0625 * 0.5);
        let big = float_journey(-1e6, 1.0, Element::E2m1).unwrap();
        assert!(big.saturated && big.grid_value == -6.0 && big.sign == 1);
        assert!(float_journey(f32::NAN, 1.0, Element::E2m1).is_err());
    }

    #[test]
    fn factors_follow_the_groups() {
        let x = ndarray::Array2::from_shape_fn((2, 40), |(r, c)| (r * 40 + c) as f32);
        let q = |f| {
            quantize_format(x.view(), f, Granularity::PerTensor, NonFinitePolicy::Reject).unwrap()
        };
        let mx = q(Format::Block(BlockFormat::Mxfp4));
        assert_eq!(mx.factor_at(1, 35), Some(mx.scales[3]));
        let nv = q(Format::Block(BlockFormat::Nvfp4));
        assert_eq!(
            nv.factor_at(0, 17),
            Some(nv.scales[1] * nv.tensor_scale.unwrap())
        );
        assert_eq!(q(Format::Cast(Element::Bf16)).factor_at(1, 1), Some(1.0));
        let tok = quantize_format(
            x.view(),
            Format::Scaled(Element::E4m3),
            Granularity::PerToken,
            NonFinitePolicy::Reject,
        )
        .unwrap();
        assert_eq!(tok.factor_at(1, 0), Some(79.0 / 448.0));
    }

    #[test]
    fn slugs_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_slug(f.slug()), Some(f));
        }
        assert_eq!(Format::from_slug("fp32"), None);
    }
}
