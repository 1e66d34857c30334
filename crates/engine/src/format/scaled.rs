//! Scaled FP8/FP4: one f32 scale per group, s = absmax / max_elem, so the group's largest value
//! lands on the format's largest; q = cast(x / s) computed in f32, dequantized q · s.
//!
//! This is the per-tensor "scaled FP8" of NVIDIA's Transformer Engine and of PyTorch's
//! `torch._scaled_mm` recipes (amax / 448 for E4M3), with the engine's granularities: per tensor,
//! per token (row), per channel along an axis, per group of G along an axis — the same groups,
//! in the same parameter order, as [`quantize_granular`](crate::quantize_granular).
//!
//! Where a group is all zero, s = 1 (the OCP MX convention for an all-zero block). Where
//! absmax / max underflows f32 (absmax below ~1e−42), s is the smallest positive f32, so no
//! value is divided by zero.

use ndarray::ArrayView2;

use super::element::Element;
use super::{finish, reshape, round_lane, Format, FormatResult};
use crate::error::{QuantError, Result};
use crate::granularity::Granularity;
use crate::metrics::ErrorAccumulator;

/// A strided run of a row-major (rows, cols) buffer: `len` values from `start`, `stride` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lane {
    pub start: usize,
    pub stride: usize,
    pub len: usize,
}

impl Lane {
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..self.len).map(move |i| self.start + i * self.stride)
    }
}

/// The groups of a granularity as lanes, in the documented parameter order, and the
/// parameter grid's shape.
pub(crate) fn lanes(
    rows: usize,
    cols: usize,
    granularity: Granularity,
) -> Result<(Vec<usize>, Vec<Lane>)> {
    let row = |r: usize| Lane {
        start: r * cols,
        stride: 1,
        len: cols,
    };
    let col = |c: usize| Lane {
        start: c,
        stride: cols,
        len: rows,
    };
    Ok(match granularity {
        Granularity::PerTensor => (
            vec![1],
            vec![Lane {
                start: 0,
                stride: 1,
                len: rows * cols,
            }],
        ),
        Granularity::PerToken | Granularity::PerChannel { axis: 0 } => {
            (vec![rows], (0..rows).map(row).collect())
        }
        Granularity::PerChannel { axis: 1 } => (vec![cols], (0..cols).map(col).collect()),
        Granularity::PerChannel { axis } => return Err(QuantError::InvalidAxis { axis, ndim: 2 }),
        Granularity::PerGroup { axis, .. } if axis > 1 => {
            return Err(QuantError::InvalidAxis { axis, ndim: 2 })
        }
        Granularity::PerGroup { axis, size } => {
            let len = if axis == 0 { rows } else { cols };
            if size == 0 || !len.is_multiple_of(size) {
                return Err(QuantError::GroupSizeMismatch {
                    len,
                    group: size,
                    axis,
                });
            }
            if axis == 1 {
                let per_row = cols / size;
                let lanes = (0..rows * per_row)
                    .map(|i| Lane {
                        start: (i / per_row) * cols + (i % per_row) * size,
                        stride: 1,
                        len: size,
                    })
                    .collect();
                (vec![rows, per_row], lanes)
            } else {
                let per_col = rows / size;
                let lanes = (0..per_col * cols)
                    .map(|i| Lane {
                        start: (i / cols) * size * cols + i % cols,
                        stride: cols,
                        len: size,
                    })
                    .collect();
                (vec![per_col, cols], lanes)
            }
        }
    })
}

/// The largest |x| of the finite values of a lane (0 if none).
pub(crate) fn lane_absmax(x: &[f32], lane: Lane) -> f32 {
    lane.indices()
        .filter_map(|i| x.get(i))
        .filter(|v| v.is_finite())
        .fold(0f32, |m, v| m.max(v.abs()))
}

/// Scaled FP8/FP4 fake quantization (see the module docs). NaN/Inf (if the caller let them
/// through) pass through unchanged and are counted as skipped.
pub fn scaled_quantize(
    x: ArrayView2<'_, f32>,
    element: Element,
    granularity: Granularity,
) -> Result<FormatResult> {
    let (rows, cols) = x.dim();
    let (param_shape, lanes) = lanes(rows, cols, granularity)?;
    let flat: Vec<f32> = x.iter().copied().collect();
    let mut out = flat.clone();
    let mut acc = ErrorAccumulator::default();
    let max = element.max();
    let mut scales = Vec::with_capacity(lanes.len());
    for lane in lanes {
        let absmax = lane_absmax(&flat, lane);
        let s = if absmax == 0.0 {
            1.0
        } else {
            (absmax / max).max(f32::from_bits(1))
        };
        round_lane(&flat, &mut out, lane, s, element, &mut acc);
        scales.push(s);
    }
    let n = flat.len();
    let dequantized = reshape(rows, cols, out)?;
    Ok(FormatResult {
        format: Format::Scaled(element),
        granularity,
        bits_per_value: f64::from(element.bits()) + 32.0 * scales.len() as f64 / n as f64,
        scales,
        param_shape,
        tensor_scale: None,
        overall: finish(&acc),
        dequantized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_largest_value_lands_on_max() {
        let x = array![[1.0f32, -2.0, 0.5], [0.0, 0.0, 0.0]];
        let r = scaled_quantize(x.view(), Element::E2m1, Granularity::PerToken).unwrap();
        assert_eq!(r.scales, [2.0 / 6.0, 1.0]);
        assert_eq!(r.dequantized[[0, 1]], -2.0);
        assert_eq!(r.dequantized.row(1).to_vec(), [0.0, 0.0, 0.0]);
        assert_eq!(r.param_shape, [2]);
    }

    #[test]
    fn lanes_follow_quantize_granular_order() {
        let (shape, l) = lanes(4, 6, Granularity::PerGroup { axis: 0, size: 2 }).unwrap();
        assert_eq!(shape, [2, 6]);
        // (g, c) row-major: the second group of column 0 comes after all of g = 0.
        assert_eq!(l[6].indices().collect::<Vec<_>>(), [12, 18]);
        let (shape, l) = lanes(2, 6, Granularity::PerGroup { axis: 1, size: 3 }).unwrap();
        assert_eq!(shape, [2, 2]);
        assert_eq!(l[3].indices().collect::<Vec<_>>(), [9, 10, 11]);
        assert!(lanes(2, 6, Granularity::PerGroup { axis: 1, size: 4 }).is_err());
    }
}
