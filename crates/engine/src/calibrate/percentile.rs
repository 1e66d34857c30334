//! Percentile calibration: clip the rare extreme values.
//!
//! * symmetric schemes: t = P_p(|x|), range [−t, t];
//! * asymmetric schemes: [P_(100−p)(x), P_p(x)] (each tail separately).
//!
//! P follows NumPy's default `np.percentile(x, p)` (`method="linear"`, Hyndman & Fan type 7):
//! with the sorted values v_0 ≤ … ≤ v_(n−1), the virtual index is h = (n − 1)·(p/100) and the
//! result interpolates v_⌊h⌋ and v_⌊h⌋+1 with weight g = h − ⌊h⌋, using NumPy's `_lerp`
//! (a + (b − a)·g for g < 0.5, b − (b − a)·(1 − g) otherwise) in f64, then rounded to f32.
//! Order statistics are found with a selection (O(n)), not a full sort.

use crate::error::Result;
use crate::scheme::Scheme;

/// The raw range for percentile p (50 < p ≤ 100, validated by the caller).
pub fn range(x: &[f32], p: f64, scheme: &Scheme) -> Result<(f32, f32)> {
    if scheme.symmetric {
        let mut a: Vec<f32> = x.iter().map(|v| v.abs()).collect();
        let t = percentile_in_place(&mut a, p);
        Ok((-t, t))
    } else {
        let mut a = x.to_vec();
        let hi = percentile_in_place(&mut a, p);
        let lo = percentile_in_place(&mut a, 100.0 - p);
        Ok((lo, hi))
    }
}

/// `np.percentile(v.astype(float64), p)` rounded to f32; reorders `v`. NaN for empty input.
pub fn percentile_in_place(v: &mut [f32], p: f64) -> f32 {
    let n = v.len();
    if n == 0 {
        return f32::NAN;
    }
    let q = p / 100.0;
    let h = (n - 1) as f64 * q;
    let (prev, next) = if h >= (n - 1) as f64 {
        (n - 1, n - 1)
    } else if h < 0.0 {
        (0, 0)
    } else {
        let f = h.floor() as usize;
        (f.min(n - 1), (f + 1).min(n - 1))
    };
    let g = h - h.floor();
    let a = f64::from(select(v, prev));
    let b = if next == prev {
        a
    } else {
        f64::from(select(v, next))
    };
    let d = b - a;
    let r = if g >= 0.5 {
        b - d * (1.0 - g)
    } else {
        a + d * g
    };
    r as f32
}

// k-th smallest (0-based) by total order; k < v.len() is ensured by the caller.
fn select(v: &mut [f32], k: usize) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    let k = k.min(v.len() - 1);
    let (_, m, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_linear() {
        let mut v = vec![4.0f32, 1.0, 3.0, 2.0];
        assert_eq!(percentile_in_place(&mut v, 50.0), 2.5);
        assert_eq!(percentile_in_place(&mut v, 100.0), 4.0);
        assert_eq!(percentile_in_place(&mut v, 0.0), 1.0);
        let mut one = vec![7.0f32];
        assert_eq!(percentile_in_place(&mut one, 99.9), 7.0);
    }
}
