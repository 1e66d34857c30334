//! Block-scaled formats: one shared scale per block of consecutive values along the last axis
//! (each row of a 2-D tensor is split into blocks; the last block of a row is shorter when the
//! row length is not a multiple of the block size).
//!
//! * **MXFP8 / MXFP4** (OCP Microscaling Formats v1.0, §5.3 and §6.3): blocks of 32, one E8M0
//!   scale X = 2^(floor(log2(amax)) − emax_elem) per block, emax_elem = 8 for E4M3 and 2 for
//!   E2M1, the exponent clamped to [−127, 127]; X = 1 for an all-zero block; elements
//!   cast(x / X), saturating. floor(log2) is read from the f32 bits, never from a rounded log.
//! * **NVFP4** (NVIDIA's Blackwell format, as in TensorRT-Model-Optimizer's `NVFP4QTensor`):
//!   blocks of 16 E2M1 values; a per-tensor f32 scale s_t = amax_tensor / (448 · 6); per block an
//!   E4M3 scale s_b = cast_e4m3(amax_block / (6 · s_t)); elements cast_e2m1(x / (s_b · s_t)),
//!   0 where s_b · s_t is 0; dequantized q · (s_b · s_t). Every step is an f32 operation in
//!   that order (the product s_b · s_t once per block), which the NumPy transcription repeats.

use ndarray::ArrayView2;

use super::element::{binade, pow2, Element};
use super::scaled::{lane_absmax, Lane};
use super::{finish, reshape, round_lane, Format, FormatResult};
use crate::error::Result;
use crate::metrics::ErrorAccumulator;

/// A block-scaled format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockFormat {
    Mxfp8,
    Mxfp4,
    Nvfp4,
}

impl BlockFormat {
    pub const fn slug(self) -> &'static str {
        match self {
            BlockFormat::Mxfp8 => "mxfp8",
            BlockFormat::Mxfp4 => "mxfp4",
            BlockFormat::Nvfp4 => "nvfp4",
        }
    }

    pub const fn element(self) -> Element {
        match self {
            BlockFormat::Mxfp8 => Element::E4m3,
            BlockFormat::Mxfp4 | BlockFormat::Nvfp4 => Element::E2m1,
        }
    }

    /// Values per shared scale.
    pub const fn block_size(self) -> usize {
        match self {
            BlockFormat::Mxfp8 | BlockFormat::Mxfp4 => 32,
            BlockFormat::Nvfp4 => 16,
        }
    }

    /// Bits per value for a tensor of `n` values in `blocks` blocks: the elements, 8 bits per
    /// block scale (E8M0 or E4M3), and NVFP4's 32-bit tensor scale.
    pub fn bits_per_value(self, blocks: usize, n: usize) -> f64 {
        let n = n.max(1) as f64;
        let tensor = if self == BlockFormat::Nvfp4 {
            32.0
        } else {
            0.0
        };
        f64::from(self.element().bits()) + (8.0 * blocks as f64 + tensor) / n
    }
}

/// The MX shared scale of a block with largest magnitude `amax`: 2^e with
/// e = clamp(floor(log2(amax)) − emax_elem, −127, 127), or 1 for an all-zero block.
pub fn mx_scale(amax: f32, element: Element) -> f32 {
    if amax == 0.0 || !amax.is_finite() {
        return 1.0;
    }
    pow2((binade(amax) - element.max_exponent()).clamp(-127, 127))
}

/// Fake-quantizes a 2-D tensor in a block format (see the module docs).
pub fn block_quantize(x: ArrayView2<'_, f32>, format: BlockFormat) -> Result<FormatResult> {
    let (rows, cols) = x.dim();
    let size = format.block_size();
    let per_row = cols.div_ceil(size);
    let flat: Vec<f32> = x.iter().copied().collect();
    let mut out = flat.clone();
    let element = format.element();
    let mut acc = ErrorAccumulator::default();
    // NVFP4's second level: one f32 scale for the whole tensor.
    let tensor_scale = (format == BlockFormat::Nvfp4).then(|| {
        let amax = lane_absmax(
            &flat,
            Lane {
                start: 0,
                stride: 1,
                len: flat.len(),
            },
        );
        amax / (448.0 * 6.0)
    });
    let mut scales = Vec::with_capacity(rows * per_row);
    for r in 0..rows {
        for b in 0..per_row {
            let start = b * size;
            let lane = Lane {
                start: r * cols + start,
                stride: 1,
                len: size.min(cols - start),
            };
            let amax = lane_absmax(&flat, lane);
            // The block's scale as stored, and the factor its elements are divided by.
            let (stored, factor) = match tensor_scale {
                None => {
                    let s = mx_scale(amax, element);
                    (s, s)
                }
                Some(st) => {
                    let t = 6.0 * st;
                    let sb = if t == 0.0 || amax == 0.0 {
                        0.0
                    } else {
                        Element::E4m3.cast(amax / t).0
                    };
                    (sb, sb * st)
                }
            };
            round_lane(&flat, &mut out, lane, factor, element, &mut acc);
            scales.push(stored);
        }
    }
    let n = flat.len();
    let dequantized = reshape(rows, cols, out)?;
    Ok(FormatResult {
        format: Format::Block(format),
        granularity: crate::granularity::Granularity::PerTensor,
        bits_per_value: format.bits_per_value(scales.len(), n),
        scales,
        param_shape: vec![rows, per_row],
        tensor_scale,
        overall: finish(&acc),
        dequantized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn mx_scales_follow_the_spec() {
        // amax 6 in E2M1: floor(log2 6) = 2, emax 2 → X = 1; amax 7.9 also → 1, and 7.9
        // saturates to 6.
        assert_eq!(mx_scale(6.0, Element::E2m1), 1.0);
        assert_eq!(mx_scale(7.9, Element::E2m1), 1.0);
        assert_eq!(mx_scale(8.0, Element::E2m1), 2.0);
        assert_eq!(mx_scale(448.0, Element::E4m3), 1.0);
        assert_eq!(mx_scale(0.0, Element::E4m3), 1.0);
        assert_eq!(mx_scale(f32::from_bits(1), Element::E2m1), pow2(-127));
        assert_eq!(mx_scale(f32::MAX, Element::E2m1), pow2(125));
    }

    #[test]
    fn ragged_rows_have_a_short_last_block() {
        let x = Array2::from_shape_fn((2, 40), |(r, c)| (r * 40 + c) as f32 - 30.0);
        let r = block_quantize(x.view(), BlockFormat::Mxfp4).unwrap();
        assert_eq!(r.param_shape, [2, 2]);
        assert_eq!(r.scales.len(), 4);
        assert_eq!(r.bits_per_value, 4.0 + 8.0 * 4.0 / 80.0);
        let nv = block_quantize(x.view(), BlockFormat::Nvfp4).unwrap();
        assert_eq!(nv.param_shape, [2, 3]);
        assert_eq!(nv.tensor_scale, Some(49.0 / 2688.0));
    }

    #[test]
    fn an_all_zero_tensor_stays_zero() {
        let x = Array2::<f32>::zeros((3, 20));
        for f in [BlockFormat::Mxfp8, BlockFormat::Mxfp4, BlockFormat::Nvfp4] {
            let r = block_quantize(x.view(), f).unwrap();
            assert!(r.dequantized.iter().all(|v| *v == 0.0));
            assert_eq!(r.overall.mse, 0.0);
        }
    }
}
