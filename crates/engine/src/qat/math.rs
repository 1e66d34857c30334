//! exp, ln and cos(πt) built from IEEE-754 basic operations only (+, −, ×, ÷, exact
//! rounding), so the trainer gives **bit-identical** results natively and in wasm32.
//!
//! `f64::exp`, `ln` and `cos` call the platform's libm (glibc natively, Rust's musl port in
//! wasm), and two libms may differ in the last bit; one differing bit in a softmax changes a
//! whole training run. These versions are accurate to a few ulp of f64, which is far below the
//! f32 precision the network works in.

// ln 2 = LN2_HI + LN2_LO, fdlibm's split: LN2_HI keeps the upper 32 bits of the significand
// (6.93147180369123816490e-01), LN2_LO the rest (1.90821492927058770002e-10).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const INV_LN2: f64 = std::f64::consts::LOG2_E;

/// 2^k for −1022 ≤ k ≤ 1023 (a normal f64, built from its bits).
fn pow2(k: i64) -> f64 {
    let k = k.clamp(-1022, 1023);
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// e^x (relative error ≲ 1e-15). NaN stays NaN; underflows to 0 below −745, +∞ above 709.78.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.78 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    // x = k·ln2 + r with |r| ≤ ln2/2; k·LN2_HI is exact for |k| < 2^20.
    let k = (x * INV_LN2).round_ties_even();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor series to r^13: the remainder is below 0.35^14/14! ≈ 5e-18.
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for d in [
        479_001_600.0, // 12!
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / d;
    }
    let k = k as i64;
    if k < -1020 {
        // Subnormal result: scale in two steps so neither factor underflows.
        p * pow2(k + 1000) * pow2(-1000)
    } else {
        p * pow2(k)
    }
}

/// ln x for x > 0 (relative error ≲ 1e-15); −∞ for 0, NaN for x < 0 or NaN, +∞ for +∞.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    // Normalise subnormals first.
    let (x, e0) = if x < f64::MIN_POSITIVE {
        (x * pow2(54), -54i64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023 + e0;
    // m in [1, 2), then moved to [√½, √2).
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2·atanh(f), f = (m − 1)/(m + 1), |f| ≤ 0.1716: the series to f^23 is exact to 1e-19.
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    let mut s = 1.0 / 23.0;
    let mut d = 21.0;
    while d > 0.0 {
        s = s * f2 + 1.0 / d;
        d -= 2.0;
    }
    let lnm = 2.0 * f * s;
    let ef = e as f64;
    ef * LN2_HI + (ef * LN2_LO + lnm)
}

/// cos(π·t) for t in [0, 1] (t is clamped to it); absolute error ≲ 1e-16. Used by the cosine
/// learning-rate schedule.
pub fn cos_pi(t: f64) -> f64 {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    // cos(π t) = −cos(π(1 − t)): fold to u = π t ∈ [0, π/2].
    let (t, sign) = if t > 0.5 { (1.0 - t, -1.0) } else { (t, 1.0) };
    let u = std::f64::consts::PI * t;
    let u2 = u * u;
    // Taylor to u^24: (π/2)^26/26! ≈ 2e-22.
    let mut c = 0.0f64;
    let mut k = 24.0f64;
    // Horner on Σ (−1)^n u^(2n)/(2n)!: c ← 1 − u²/((k−1)k)·c from the top.
    while k > 0.0 {
        c = 1.0 - u2 / ((k - 1.0) * k) * c;
        k -= 2.0;
    }
    sign * c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn matches_std_closely() {
        let mut x = -740.0;
        while x < 700.0 {
            assert!(rel(exp(x), x.exp()) < 4e-15, "exp {x}");
            x += 0.377;
        }
        for &x in &[0.0, -0.0, 1e-300, -1e-300, 1.0, -1.0, 0.5, -0.3466, 0.3466] {
            assert!(rel(exp(x), x.exp()) < 4e-15, "exp {x}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(800.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
        // A subnormal result.
        assert!(rel(exp(-744.0), (-744.0f64).exp()) < 1e-3);

        let mut y = 1e-300;
        while y < 1e300 {
            assert!(
                (ln(y) - y.ln()).abs() <= 4e-16 * y.ln().abs().max(1.0),
                "ln {y}"
            );
            y *= 1.37;
        }
        for &y in &[
            1.0,
            2.0,
            10.0,
            0.5,
            std::f64::consts::SQRT_2,
            5e-324,
            f64::MAX,
        ] {
            assert!(
                (ln(y) - y.ln()).abs() <= 4e-16 * y.ln().abs().max(1.0),
                "ln {y}"
            );
        }
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());

        for i in 0..=1000 {
            let t = i as f64 / 1000.0;
            assert!(
                (cos_pi(t) - (std::f64::consts::PI * t).cos()).abs() < 1e-15,
                "cos {t}"
            );
        }
        assert_eq!(cos_pi(0.0), 1.0);
        assert_eq!(cos_pi(1.0), -1.0);
    }
}
