//! Every format on one tensor: the playground's table and its error-against-bits chart.
//!
//! The integer contenders use the same rule as the float ones — the scale puts the largest |x|
//! of the group on the grid's largest value (symmetric, narrow, min-max) — so the comparison is
//! between grids, not between calibrators. INT4 is per group of 32 along the last axis, the
//! integer peer of MXFP4's blocks of 32.

use ndarray::ArrayView2;

use super::{int_bits_per_value, quantize_format, BlockFormat, Element, Format};
use crate::calibrate::Calibrator;
use crate::error::Result;
use crate::granularity::{quantize_granular, Granularity};
use crate::metrics::RoundTripMetrics;
use crate::quantize::NonFinitePolicy;
use crate::scheme::Scheme;

/// One row of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contender {
    Int8,
    Int4Group32,
    Fp8E4m3,
    Fp8E5m2,
    Mxfp8,
    Fp4E2m1,
    Mxfp4,
    Nvfp4,
    Bf16,
    Fp16,
}

impl Contender {
    pub const ALL: [Contender; 10] = [
        Contender::Int8,
        Contender::Int4Group32,
        Contender::Fp8E4m3,
        Contender::Fp8E5m2,
        Contender::Mxfp8,
        Contender::Fp4E2m1,
        Contender::Mxfp4,
        Contender::Nvfp4,
        Contender::Bf16,
        Contender::Fp16,
    ];

    /// The name on the page (the same in both languages).
    pub const fn label(self) -> &'static str {
        match self {
            Contender::Int8 => "INT8",
            Contender::Int4Group32 => "INT4 g32",
            Contender::Fp8E4m3 => "FP8 E4M3",
            Contender::Fp8E5m2 => "FP8 E5M2",
            Contender::Mxfp8 => "MXFP8",
            Contender::Fp4E2m1 => "FP4 E2M1",
            Contender::Mxfp4 => "MXFP4",
            Contender::Nvfp4 => "NVFP4",
            Contender::Bf16 => "BF16",
            Contender::Fp16 => "FP16",
        }
    }

    /// A stable name for tests and links: the CLI's format slug, or `int8` / `int4-g32`.
    pub const fn slug(self) -> &'static str {
        match self {
            Contender::Int8 => "int8",
            Contender::Int4Group32 => "int4-g32",
            _ => match self.format() {
                Some(f) => f.slug(),
                None => "",
            },
        }
    }

    /// Whether the grid is an integer one (drawn apart in the chart).
    pub const fn is_int(self) -> bool {
        matches!(self, Contender::Int8 | Contender::Int4Group32)
    }

    /// The float format, for the float contenders.
    pub const fn format(self) -> Option<Format> {
        Some(match self {
            Contender::Int8 | Contender::Int4Group32 => return None,
            Contender::Fp8E4m3 => Format::Scaled(Element::E4m3),
            Contender::Fp8E5m2 => Format::Scaled(Element::E5m2),
            Contender::Fp4E2m1 => Format::Scaled(Element::E2m1),
            Contender::Mxfp8 => Format::Block(BlockFormat::Mxfp8),
            Contender::Mxfp4 => Format::Block(BlockFormat::Mxfp4),
            Contender::Nvfp4 => Format::Block(BlockFormat::Nvfp4),
            Contender::Bf16 => Format::Cast(Element::Bf16),
            Contender::Fp16 => Format::Cast(Element::Fp16),
        })
    }

    /// The round trip of `x` (NaN/Inf skipped) in this format: its metrics and bits per value.
    pub fn run(self, x: ArrayView2<'_, f32>) -> Result<(RoundTripMetrics, f64)> {
        let policy = NonFinitePolicy::Skip;
        let int = |bits: u8, g: Granularity| -> Result<(RoundTripMetrics, f64)> {
            let scheme = Scheme::new(bits, true, true, true)?;
            let r = quantize_granular(x, &scheme, g, &Calibrator::MinMax, policy)?;
            let n = r.overall.n + r.overall.skipped;
            Ok((r.overall, int_bits_per_value(bits, r.groups.len(), n)))
        };
        match (self, self.format()) {
            (Contender::Int8, _) => int(8, Granularity::PerTensor),
            (Contender::Int4Group32, _) => int(4, Granularity::PerGroup { axis: 1, size: 32 }),
            (_, Some(f)) => {
                let r = quantize_format(x, f, Granularity::PerTensor, policy)?;
                Ok((r.overall, r.bits_per_value))
            }
            (_, None) => int(8, Granularity::PerTensor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn every_contender_runs_and_more_bits_cost_less_error() {
        // A heavy-tailed 4×64 tensor (one outlier channel).
        let x = Array2::from_shape_fn((4, 64), |(r, c)| {
            let v = ((r * 64 + c) as f32 * 0.37).sin();
            if c == 5 {
                v * 40.0
            } else {
                v
            }
        });
        let all: Vec<(RoundTripMetrics, f64)> = Contender::ALL
            .iter()
            .map(|c| c.run(x.view()).unwrap())
            .collect();
        let mse = |c: Contender| {
            all[Contender::ALL.iter().position(|&d| d == c).unwrap()]
                .0
                .mse
        };
        assert!(mse(Contender::Fp16) < mse(Contender::Bf16));
        assert!(mse(Contender::Bf16) < mse(Contender::Fp8E4m3));
        assert!(mse(Contender::Mxfp4) < mse(Contender::Fp4E2m1));
        assert_eq!(all[1].1, 4.0 + 32.0 * 8.0 / 256.0);
        for c in Contender::ALL {
            assert!(!c.slug().is_empty());
        }
    }
}
