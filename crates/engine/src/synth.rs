//! Seeded synthetic data. All of it is **synthetic** (made up from formulas), never real
//! model data; the real MiniLM tensors come in through `npy`.
//!
//! The generator is PCG32 (M. O'Neill, "PCG: A Family of Simple Fast Space-Efficient
//! Statistically Good Algorithms for Random Number Generation", 2014; the `pcg32` XSH-RR
//! 64/32 variant with the reference increment), so the same seed gives the same numbers on
//! every platform, natively and in wasm. Normal samples use the Box–Muller transform (both
//! outputs used), Laplace samples the inverse CDF.

use super::error::{QuantError, Result};

/// Most values one call may generate (same as the default `.npy` element cap).
pub const MAX_SAMPLES: usize = 1 << 24;

/// PCG32 (XSH-RR 64/32).
#[derive(Debug, Clone)]
pub struct Pcg32 {
    state: u64,
    inc: u64,
    spare_normal: Option<f64>,
}

impl Pcg32 {
    const MULT: u64 = 6_364_136_223_846_793_005;

    /// Seeded like the reference `pcg32_srandom(seed, 0xda3e39cb94b95bdb)` (the default stream).
    pub fn new(seed: u64) -> Self {
        let mut r = Pcg32 {
            state: 0,
            inc: (0xda3e_39cb_94b9_5bdbu64 << 1) | 1,
            spare_normal: None,
        };
        r.next_u32();
        r.state = r.state.wrapping_add(seed);
        r.next_u32();
        r
    }

    /// Next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MULT).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        let hi = u64::from(self.next_u32()) >> 5; // 27 bits
        let lo = u64::from(self.next_u32()) >> 6; // 26 bits
        ((hi << 26) | lo) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal N(0, 1) by Box–Muller.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 − u is in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare_normal = Some(r * t.sin());
        r * t.cos()
    }

    /// Laplace(0, 1) by the inverse CDF: −sign(u)·ln(1 − 2|u|), u uniform in (−½, ½).
    pub fn laplace(&mut self) -> f64 {
        let u = self.next_f64() - 0.5;
        let a = (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE);
        -u.signum() * a.ln()
    }
}

/// A distribution to sample from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// N(mean, std²).
    Gaussian { mean: f32, std: f32 },
    /// Laplace with location and scale b (std = b·√2): heavier tails than a Gaussian.
    Laplace { loc: f32, scale: f32 },
    /// Uniform on [lo, hi).
    Uniform { lo: f32, hi: f32 },
    /// max(0, N(mean, std²)): what comes out of a ReLU, with a spike of exact zeros.
    Relu { mean: f32, std: f32 },
}

fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        return Err(QuantError::Empty {
            what: "sample request",
        });
    }
    if n > MAX_SAMPLES {
        return Err(QuantError::TooLarge {
            what: "sample request",
            got: n as u128,
            limit: MAX_SAMPLES as u128,
        });
    }
    Ok(())
}

fn positive(name: &'static str, v: f32) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(QuantError::InvalidParameter {
            name,
            value: v.to_string(),
            allowed: "it must be a finite number above 0",
        })
    }
}

fn finite(name: &'static str, v: f32) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(QuantError::InvalidParameter {
            name,
            value: v.to_string(),
            allowed: "it must be a finite number",
        })
    }
}

/// `n` samples of `dist` from `seed` (deterministic).
pub fn generate(dist: &Distribution, n: usize, seed: u64) -> Result<Vec<f32>> {
    check_n(n)?;
    let mut r = Pcg32::new(seed);
    match *dist {
        Distribution::Gaussian { mean, std } | Distribution::Relu { mean, std } => {
            finite("mean", mean)?;
            positive("standard deviation", std)?;
            let relu = matches!(dist, Distribution::Relu { .. });
            Ok((0..n)
                .map(|_| {
                    let v = (f64::from(mean) + f64::from(std) * r.normal()) as f32;
                    if relu {
                        v.max(0.0)
                    } else {
                        v
                    }
                })
                .collect())
        }
        Distribution::Laplace { loc, scale } => {
            finite("location", loc)?;
            positive("scale", scale)?;
            Ok((0..n)
                .map(|_| (f64::from(loc) + f64::from(scale) * r.laplace()) as f32)
                .collect())
        }
        Distribution::Uniform { lo, hi } => {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(QuantError::InvalidRange {
                    alpha: lo,
                    beta: hi,
                });
            }
            let (l, h) = (f64::from(lo), f64::from(hi));
            Ok((0..n)
                .map(|_| ((l + (h - l) * r.next_f64()) as f32).min(hi))
                .collect())
        }
    }
}

/// Settings of the synthetic "LLM-like" activation matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmLike {
    /// Tokens (rows).
    pub tokens: usize,
    /// Hidden channels (columns).
    pub channels: usize,
    /// How many channels carry massive outliers.
    pub outlier_channels: usize,
    /// How much larger (in std) the outlier channels are, e.g. 50.
    pub outlier_scale: f32,
}

impl Default for LlmLike {
    /// 128 tokens × 512 channels (65,536 values), 4 outlier channels at 50×.
    fn default() -> Self {
        LlmLike {
            tokens: 128,
            channels: 512,
            outlier_channels: 4,
            outlier_scale: 50.0,
        }
    }
}

/// A **synthetic** activation matrix (tokens × channels, row-major) shaped like the inputs of
/// LLM linear layers described in LLM.int8() and SmoothQuant: every channel is
/// N(0, σ_c²) with σ_c drawn between 0.5 and 1.5, and `outlier_channels` channels (chosen by
/// the seed) are `outlier_scale` times larger with a fixed sign bias, so a few columns hold
/// the extreme values on almost every token. Returns (shape, data) and the outlier channel
/// indices (sorted).
pub fn llm_like(cfg: &LlmLike, seed: u64) -> Result<(Vec<usize>, Vec<f32>, Vec<usize>)> {
    let n = cfg
        .tokens
        .checked_mul(cfg.channels)
        .ok_or(QuantError::TooLarge {
            what: "sample request",
            got: (cfg.tokens as u128) * (cfg.channels as u128),
            limit: MAX_SAMPLES as u128,
        })?;
    check_n(n)?;
    positive("outlier scale", cfg.outlier_scale)?;
    if cfg.outlier_channels > cfg.channels {
        return Err(QuantError::InvalidParameter {
            name: "outlier channels",
            value: cfg.outlier_channels.to_string(),
            allowed: "there cannot be more outlier channels than channels",
        });
    }
    let mut r = Pcg32::new(seed);
    let mut sigma: Vec<f64> = (0..cfg.channels).map(|_| 0.5 + r.next_f64()).collect();
    let mut bias = vec![0.0f64; cfg.channels];
    // Partial Fisher–Yates to pick distinct outlier channels.
    let mut idx: Vec<usize> = (0..cfg.channels).collect();
    for k in 0..cfg.outlier_channels {
        let span = (cfg.channels - k) as u64;
        let j = k + (u64::from(r.next_u32()) % span) as usize;
        idx.swap(k, j);
    }
    let mut outliers: Vec<usize> = idx.into_iter().take(cfg.outlier_channels).collect();
    outliers.sort_unstable();
    for &c in &outliers {
        if let (Some(s), Some(b)) = (sigma.get_mut(c), bias.get_mut(c)) {
            *s *= f64::from(cfg.outlier_scale) * 0.5;
            let sign = if r.next_u32() & 1 == 0 { 1.0 } else { -1.0 };
            *b = sign * *s * 1.5;
        }
    }
    let mut data = Vec::with_capacity(n);
    for _ in 0..cfg.tokens {
        for (s, b) in sigma.iter().zip(&bias) {
            data.push((b + s * r.normal()) as f32);
        }
    }
    Ok((vec![cfg.tokens, cfg.channels], data, outliers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg32_reference_vector() {
        // pcg32-demo (pcg-c-basic) with seed 42, stream 54 prints 0xa15c02b7 0x7b47f409 ...
        let mut r = Pcg32 {
            state: 0,
            inc: (54u64 << 1) | 1,
            spare_normal: None,
        };
        r.next_u32();
        r.state = r.state.wrapping_add(42);
        r.next_u32();
        assert_eq!(r.next_u32(), 0xa15c_02b7);
        assert_eq!(r.next_u32(), 0x7b47_f409);
        assert_eq!(r.next_u32(), 0xba1d_3330);
    }

    #[test]
    fn moments() {
        let x = generate(
            &Distribution::Gaussian {
                mean: 1.0,
                std: 2.0,
            },
            100_000,
            7,
        )
        .unwrap();
        let m = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
        let v = x.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / x.len() as f64;
        assert!(
            (m - 1.0).abs() < 0.03 && (v.sqrt() - 2.0).abs() < 0.03,
            "{m} {v}"
        );
        let l = generate(
            &Distribution::Laplace {
                loc: 0.0,
                scale: 1.0,
            },
            100_000,
            7,
        )
        .unwrap();
        let k = crate::stats::kurtosis(&l, crate::quantize::NonFinitePolicy::Reject).unwrap();
        assert!((k - 6.0).abs() < 0.6, "{k}");
        let u = generate(&Distribution::Uniform { lo: -1.0, hi: 1.0 }, 1000, 1).unwrap();
        assert!(u.iter().all(|&v| (-1.0..=1.0).contains(&v)));
        assert!(generate(
            &Distribution::Relu {
                mean: 0.0,
                std: 1.0
            },
            1000,
            1
        )
        .unwrap()
        .iter()
        .all(|&v| v >= 0.0));
        assert!(generate(
            &Distribution::Gaussian {
                mean: 0.0,
                std: 0.0
            },
            10,
            1
        )
        .is_err_and(|e| matches!(e, QuantError::InvalidParameter { .. })));
        assert!(generate(
            &Distribution::Gaussian {
                mean: 0.0,
                std: 1.0
            },
            0,
            1
        )
        .is_err_and(|e| matches!(e, QuantError::Empty { .. })));
        assert_eq!(
            generate(
                &Distribution::Gaussian {
                    mean: 0.0,
                    std: 1.0
                },
                5,
                3
            ),
            generate(
                &Distribution::Gaussian {
                    mean: 0.0,
                    std: 1.0
                },
                5,
                3
            )
        );
        let (shape, d, o) = llm_like(&LlmLike::default(), 1).unwrap();
        assert_eq!((shape, d.len(), o.len()), (vec![128, 512], 65_536, 4));
    }
}
