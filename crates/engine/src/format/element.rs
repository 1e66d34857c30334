//! Element formats: the floating-point grids a value is rounded to.
//!
//! A float grid with `e` exponent bits, `m` mantissa bits and bias `b` holds, for each binade
//! [2^k, 2^(k+1)), 2^m evenly spaced values, and below the smallest normal 2^(1−b) the
//! subnormals, spaced like the lowest binade. So its step grows with the magnitude: dense near
//! zero, sparse far out — where an integer grid has one step everywhere.
//!
//! | format | e | m | bias | max | special codes |
//! |---|---|---|---|---|---|
//! | FP16 (IEEE half) | 5 | 10 | 15 | 65504 | ±Inf, NaN |
//! | BF16 | 8 | 7 | 127 | ≈ 3.39e38 | ±Inf, NaN |
//! | FP8 E4M3 (OCP "fn") | 4 | 3 | 7 | 448 | NaN = S.1111.111 only, no Inf |
//! | FP8 E5M2 (OCP) | 5 | 2 | 15 | 57344 | ±Inf, NaN |
//! | FP4 E2M1 (OCP MX) | 2 | 1 | 1 | 6 | none |
//!
//! Semantics (those of the OCP 8-bit float spec and the OCP Microscaling v1.0 spec, with
//! `ml_dtypes`' decoding as the independent reference in the tests): conversion from f32 rounds
//! to nearest, ties to even, keeps subnormals, and for FP8/FP4 **saturates** finite values beyond
//! ±max to ±max (the MX spec's and NVIDIA's conversion mode; no NaN/Inf from finite input).
//! FP16 and BF16 are plain IEEE casts: beyond the largest value they round to ±Inf, as a
//! `torch.float16` cast does. NaN stays NaN; the tensor-level functions decide what NaN/Inf
//! input means (rejected, or passed through on request).

/// One element format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Element {
    Fp16,
    Bf16,
    E4m3,
    E5m2,
    E2m1,
}

impl Element {
    pub const ALL: [Element; 5] = [
        Element::Fp16,
        Element::Bf16,
        Element::E4m3,
        Element::E5m2,
        Element::E2m1,
    ];

    /// Exponent bits.
    pub const fn exponent_bits(self) -> u32 {
        match self {
            Element::Fp16 | Element::E5m2 => 5,
            Element::Bf16 => 8,
            Element::E4m3 => 4,
            Element::E2m1 => 2,
        }
    }

    /// Mantissa (fraction) bits.
    pub const fn mantissa_bits(self) -> u32 {
        match self {
            Element::Fp16 => 10,
            Element::Bf16 => 7,
            Element::E4m3 => 3,
            Element::E5m2 => 2,
            Element::E2m1 => 1,
        }
    }

    /// Bits per value: sign + exponent + mantissa.
    pub const fn bits(self) -> u32 {
        1 + self.exponent_bits() + self.mantissa_bits()
    }

    pub const fn bias(self) -> i32 {
        (1 << (self.exponent_bits() - 1)) - 1
    }

    /// The exponent of the smallest normal value, 1 − bias.
    pub const fn min_exponent(self) -> i32 {
        1 - self.bias()
    }

    /// The exponent of the largest binade that holds finite values (`emax` in the MX spec:
    /// 8 for E4M3, 2 for E2M1).
    pub const fn max_exponent(self) -> i32 {
        match self {
            // No Inf: the all-ones exponent holds numbers (E4M3 keeps only S.1111.111 for NaN).
            Element::E4m3 | Element::E2m1 => (1 << self.exponent_bits()) - 1 - self.bias(),
            _ => (1 << self.exponent_bits()) - 2 - self.bias(),
        }
    }

    /// The largest finite value.
    pub fn max(self) -> f32 {
        let m = self.mantissa_bits() as i32;
        // E4M3 gives up its top mantissa code for NaN: 1.110₂ · 2^8 = 448.
        let top_fraction = match self {
            Element::E4m3 => (1 << m) - 2,
            _ => (1 << m) - 1,
        };
        let significand = 1.0 + top_fraction as f64 / (1u32 << m) as f64;
        (significand * 2f64.powi(self.max_exponent())) as f32
    }

    /// The smallest positive (subnormal) value, 2^(1 − bias − m).
    pub fn min_subnormal(self) -> f32 {
        pow2(self.min_exponent() - self.mantissa_bits() as i32)
    }

    /// Whether finite values beyond ±max saturate (FP8/FP4) instead of becoming ±Inf.
    pub const fn saturates(self) -> bool {
        matches!(self, Element::E4m3 | Element::E5m2 | Element::E2m1)
    }

    /// The slug used in links and on the command line.
    pub const fn slug(self) -> &'static str {
        match self {
            Element::Fp16 => "fp16",
            Element::Bf16 => "bf16",
            Element::E4m3 => "e4m3",
            Element::E5m2 => "e5m2",
            Element::E2m1 => "e2m1",
        }
    }

    /// The distance between the two grid values around |x| (the rounding step at that
    /// magnitude): 2^(k − m) in binade k, the subnormal spacing below the smallest normal.
    pub fn step_at(self, x: f32) -> f32 {
        let k = binade(x.abs()).max(self.min_exponent());
        pow2(k - self.mantissa_bits() as i32)
    }

    /// Rounds `x` to this format (see the module docs) and returns the value as f32; the
    /// second value says whether a finite `x` was beyond ±max (saturated, or Inf for FP16/BF16).
    pub fn cast(self, x: f32) -> (f32, bool) {
        if !x.is_finite() {
            return (x, false);
        }
        let a = x.abs();
        if a == 0.0 {
            return (x, false);
        }
        let step = self.step_at(a);
        // a/step < 2^(m+1) ≤ 2^11: exact, and its rounding is exact in f32. A power-of-two step
        // keeps the division and the product exact (no double rounding).
        let q = (a / step).round_ties_even() * step;
        let max = self.max();
        let (q, over) = if q > max {
            if self.saturates() {
                (max, true)
            } else {
                (f32::INFINITY, true)
            }
        } else {
            (q, false)
        };
        (q.copysign(x), over)
    }

    /// The bit pattern (`bits()` wide) of the grid value `v` (a result of [`Element::cast`]);
    /// NaN gives the format's canonical NaN.
    pub fn encode(self, v: f32) -> u32 {
        let (e, m) = (self.exponent_bits(), self.mantissa_bits());
        let sign = u32::from(v.is_sign_negative()) << (e + m);
        let a = v.abs();
        if a.is_nan() {
            return match self {
                Element::E2m1 => 0, // no NaN in FP4; never produced by cast
                _ => (1 << (e + m)) - 1,
            };
        }
        if a.is_infinite() {
            return sign | (((1 << e) - 1) << m);
        }
        if a == 0.0 {
            return sign;
        }
        let k = binade(a);
        if k < self.min_exponent() {
            let frac = (a / self.min_subnormal()).round_ties_even() as u32;
            return sign | frac.min((1 << m) - 1);
        }
        let biased = (k + self.bias()) as u32;
        let frac = ((a / pow2(k) - 1.0) * (1u32 << m) as f32).round_ties_even() as u32;
        sign | (biased << m) | frac.min((1 << m) - 1)
    }

    /// The value of a bit pattern (`code < 2^bits()`): sign, exponent, mantissa as the format
    /// defines them, NaN and ±Inf included.
    pub fn decode(self, code: u32) -> f32 {
        let (e, m) = (self.exponent_bits(), self.mantissa_bits());
        let sign = if code >> (e + m) & 1 == 1 { -1.0 } else { 1.0 };
        let exp = (code >> m) & ((1 << e) - 1);
        let frac = code & ((1 << m) - 1);
        let all_ones = exp == (1 << e) - 1;
        let special = match self {
            Element::E4m3 => all_ones && frac == (1 << m) - 1,
            Element::E2m1 => false,
            _ => all_ones,
        };
        if special {
            return if self != Element::E4m3 && frac == 0 {
                sign * f32::INFINITY
            } else {
                f32::NAN
            };
        }
        let frac = frac as f32 / (1u32 << m) as f32;
        let v = if exp == 0 {
            frac * pow2(self.min_exponent())
        } else {
            (1.0 + frac) * pow2(exp as i32 - self.bias())
        };
        sign * v
    }

    /// Every finite non-negative value of the format, ascending (for FP16/BF16 only those up
    /// to `limit`, which keeps BF16's 32,000 values out of a chart that shows a small range).
    pub fn positive_values(self, limit: f32) -> Vec<f32> {
        let half = 1u32 << (self.bits() - 1);
        (0..half)
            .map(|c| self.decode(c))
            .filter(|v| v.is_finite() && *v <= limit)
            .collect()
    }
}

/// 2^k as f32 for k in −149..=127 (subnormal powers included).
pub(crate) fn pow2(k: i32) -> f32 {
    if k >= -126 {
        f32::from_bits(((k + 127).clamp(1, 254) as u32) << 23)
    } else {
        f32::from_bits(1u32 << (k + 149).clamp(0, 22))
    }
}

/// floor(log2(a)) of a finite a > 0, exactly, from its bits (subnormals included).
pub(crate) fn binade(a: f32) -> i32 {
    let bits = a.to_bits() & 0x7fff_ffff;
    let exp = (bits >> 23) as i32;
    if exp == 0 {
        // Subnormal: the leading one of the fraction.
        let frac = bits & 0x007f_ffff;
        -127 - (frac.leading_zeros() as i32 - 9)
    } else {
        exp - 127
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formats_as_the_specs_state_them() {
        assert_eq!(Element::E4m3.max(), 448.0);
        assert_eq!(Element::E5m2.max(), 57344.0);
        assert_eq!(Element::E2m1.max(), 6.0);
        assert_eq!(Element::Fp16.max(), 65504.0);
        assert_eq!(Element::Bf16.max(), f32::from_bits(0x7f7f_0000));
        assert_eq!(Element::E4m3.min_subnormal(), 2f32.powi(-9));
        assert_eq!(Element::E5m2.min_subnormal(), 2f32.powi(-16));
        assert_eq!(Element::E2m1.min_subnormal(), 0.5);
        assert_eq!(Element::E4m3.max_exponent(), 8);
        assert_eq!(Element::E2m1.max_exponent(), 2);
        let e2m1: Vec<f32> = (0..8).map(|c| Element::E2m1.decode(c)).collect();
        assert_eq!(e2m1, [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]);
    }

    #[test]
    fn ties_go_to_even_and_overflow_saturates() {
        let c = |f: Element, x: f32| f.cast(x).0;
        assert_eq!(c(Element::E2m1, 0.25), 0.0);
        assert_eq!(c(Element::E2m1, 0.75), 1.0);
        assert_eq!(c(Element::E2m1, 2.5), 2.0);
        assert_eq!(c(Element::E2m1, 5.0), 4.0);
        assert_eq!(Element::E2m1.cast(7.0), (6.0, true));
        assert_eq!(c(Element::E2m1, -1e6), -6.0);
        assert_eq!(Element::E4m3.cast(1e6), (448.0, true));
        assert_eq!(c(Element::E4m3, 464.0), 448.0);
        assert_eq!(c(Element::Fp16, 65519.0), 65504.0);
        assert_eq!(c(Element::Fp16, 65520.0), f32::INFINITY);
        assert_eq!(c(Element::Bf16, f32::MAX), f32::INFINITY);
        assert!(c(Element::E4m3, f32::NAN).is_nan());
        assert_eq!(c(Element::E4m3, -0.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn every_code_round_trips() {
        for f in Element::ALL {
            for code in 0..1u32 << f.bits().min(16) {
                let v = f.decode(code);
                if v.is_nan() {
                    continue;
                }
                assert_eq!(f.cast(v).0.to_bits(), v.to_bits(), "{f:?} {code:#x}");
                assert_eq!(f.encode(v), code, "{f:?} {v}");
            }
        }
    }

    #[test]
    fn binade_and_pow2_are_exact_for_subnormals() {
        assert_eq!(binade(f32::from_bits(1)), -149);
        assert_eq!(binade(f32::MIN_POSITIVE), -126);
        assert_eq!(binade(3.0), 1);
        assert_eq!(pow2(-149), f32::from_bits(1));
        assert_eq!(pow2(-127), f32::from_bits(1 << 22));
        assert_eq!(pow2(127), 2f32.powi(127));
    }
}
