//! The 2-D toy of the rotation chapter: a cloud of two-channel activation vectors whose first
//! channel carries the outliers, rotated by θ and quantized with one symmetric scale for the
//! whole tensor (s = max|x|/q_max, round half to even) — the smallest picture of why rotating
//! helps: the outlier channel sets s, and rotation spreads its magnitude over both channels.

use super::super::error::{QuantError, Result};
use super::super::linear::q_max;
use super::super::round::round_half_even;
use super::super::synth::Pcg32;

/// `n` seeded 2-D points: both channels N(0, 1), except that 1 % of the vectors carry a ±10–14
/// outlier on channel 0 — the pattern of real activations, in two dimensions. (With these
/// numbers the error falls steadily from 0° to its minimum at 45°; with fewer bits the small
/// values all round to 0 and the picture is dominated by that instead.)
pub fn toy_points(n: usize, seed: u64) -> Vec<(f32, f32)> {
    let mut r = Pcg32::new(seed);
    (0..n)
        .map(|i| {
            let a = r.normal();
            let b = r.normal();
            if i % 100 == 50 {
                let sign = if r.next_u32() & 1 == 0 { 1.0 } else { -1.0 };
                ((sign * (10.0 + 4.0 * r.next_f64())) as f32, b as f32)
            } else {
                (a as f32, b as f32)
            }
        })
        .collect()
}

/// What the toy chart shows for one angle.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyResult {
    /// The points after rotation by θ (what the quantizer sees).
    pub rotated: Vec<(f32, f32)>,
    /// Their quantized values s·q (in the rotated frame).
    pub quantized: Vec<(f32, f32)>,
    pub scale: f32,
    pub q_max: i32,
    /// max |x| of each channel after rotation.
    pub channel_absmax: (f32, f32),
    /// ‖R⁻¹Q(Rv) − v‖² summed / ‖v‖² summed (rotation does not change norms, so this is also
    /// the error in the rotated frame).
    pub rel_mse: f64,
}

/// Rotates by `theta_deg` and quantizes with one per-tensor symmetric scale at `bits`.
pub fn toy_quantize(points: &[(f32, f32)], theta_deg: f64, bits: u8) -> Result<ToyResult> {
    if points.is_empty() {
        return Err(QuantError::Empty {
            what: "point cloud",
        });
    }
    if !theta_deg.is_finite() {
        return Err(QuantError::InvalidParameter {
            name: "angle",
            value: theta_deg.to_string(),
            allowed: "a finite angle in degrees",
        });
    }
    let qm = q_max(bits)?;
    let (sin, cos) = theta_deg.to_radians().sin_cos();
    let rotated: Vec<(f32, f32)> = points
        .iter()
        .map(|&(a, b)| {
            let (a, b) = (f64::from(a), f64::from(b));
            ((cos * a - sin * b) as f32, (sin * a + cos * b) as f32)
        })
        .collect();
    let absmax = rotated.iter().fold((0f32, 0f32), |m, p| {
        (m.0.max(p.0.abs()), m.1.max(p.1.abs()))
    });
    let scale = absmax.0.max(absmax.1).max(1e-5) / qm as f32;
    let q = |v: f32| round_half_even(v / scale).clamp(-(qm as f32), qm as f32) * scale;
    let quantized: Vec<(f32, f32)> = rotated.iter().map(|&(a, b)| (q(a), q(b))).collect();
    let (mut err, mut norm) = (0f64, 0f64);
    for (p, r) in quantized.iter().zip(&rotated) {
        let (d0, d1) = (f64::from(p.0 - r.0), f64::from(p.1 - r.1));
        err += d0 * d0 + d1 * d1;
        norm += f64::from(r.0) * f64::from(r.0) + f64::from(r.1) * f64::from(r.1);
    }
    Ok(ToyResult {
        rotated,
        quantized,
        scale,
        q_max: qm,
        channel_absmax: absmax,
        rel_mse: err / norm.max(1e-30),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotating_the_outlier_channel_lowers_the_error() {
        let pts = toy_points(400, 3);
        for seed in [3, 7, 11] {
            let pts = toy_points(400, seed);
            let e: Vec<f64> = (0..=18)
                .map(|k| toy_quantize(&pts, f64::from(k * 5), 4).unwrap().rel_mse)
                .collect();
            let best = (0..e.len()).min_by(|&a, &b| e[a].total_cmp(&e[b])).unwrap() * 5;
            assert!(
                (30..=60).contains(&best),
                "seed {seed}: best angle {best}° should be near 45°: {e:?}"
            );
            assert!(
                e[0] > 1.4 * e[best / 5],
                "seed {seed}: rotating must clearly help: {e:?}"
            );
        }
        let r = toy_quantize(&pts, 30.0, 3).unwrap();
        // Rotation keeps lengths.
        for (a, b) in pts.iter().zip(&r.rotated) {
            let (n0, n1) = (a.0 * a.0 + a.1 * a.1, b.0 * b.0 + b.1 * b.1);
            assert!((n0 - n1).abs() <= 1e-4 * n0.max(1.0));
        }
        assert!(toy_quantize(&[], 0.0, 3).is_err_and(|e| matches!(e, QuantError::Empty { .. })));
        assert!(toy_quantize(&pts, f64::NAN, 3)
            .is_err_and(|e| matches!(e, QuantError::InvalidParameter { .. })));
        assert!(
            toy_quantize(&pts, 0.0, 1).is_err_and(|e| matches!(e, QuantError::InvalidBits { .. }))
        );
    }
}
