//! Property tests: SmoothQuant and every rotation are identities in float, X′·W′ = X·W, on
//! random layers with outlier channels, zero channels and every α — within the f32 rounding
//! bound of the product, not a tolerance tuned to pass. Native only (proptest); the rotations'
//! fixed cases run on wasm32 too (tests/rotate.rs).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use quantlab_engine::linear::{ActGranularity, LayerCase, LayerQuant};
use quantlab_engine::rotate::learn::LearnConfig;
use quantlab_engine::rotate::orthogonal::orthogonality_error;
use quantlab_engine::rotate::{Learner, Rotated, Rotation};
use quantlab_engine::smooth::SmoothCase;
use quantlab_engine::synth::Pcg32;

/// A T×C activation matrix whose channels have scales spread over `spread` decades (the
/// outlier channels of a transformer), some channels all zero, and a C×N weight.
fn layer(
    t: usize,
    c: usize,
    n: usize,
    seed: u64,
    spread: f64,
    zero_every: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Pcg32::new(seed);
    let col_scale: Vec<f64> = (0..c)
        .map(|j| {
            if zero_every > 0 && j % zero_every == zero_every - 1 {
                0.0
            } else {
                10f64.powf(spread * rng.next_f64())
            }
        })
        .collect();
    let x = (0..t * c)
        .map(|i| (rng.normal() * col_scale[i % c]) as f32)
        .collect();
    let w = (0..c * n).map(|_| (rng.normal() * 0.1) as f32).collect();
    (x, w)
}

/// max over outputs of Σ_c |x_tc|·|w_cj|: the scale of the rounding error of X′·W′ entry by
/// entry, whatever cancellation makes (X·W)_tj itself small.
fn abs_product_max(x: &[f32], t: usize, c: usize, w: &[f32], n: usize) -> f64 {
    let mut m = 0f64;
    for r in 0..t {
        for j in 0..n {
            let s: f64 = (0..c)
                .map(|k| f64::from(x[r * c + k].abs()) * f64::from(w[k * n + j].abs()))
                .sum();
            m = m.max(s);
        }
    }
    m
}

fn frob(v: &[f32]) -> f64 {
    v.iter()
        .map(|&a| f64::from(a) * f64::from(a))
        .sum::<f64>()
        .sqrt()
}

/// Unit roundoff of f32.
const U: f64 = 1.0 / 16_777_216.0;

/// Shapes where the full Hadamard exists (2^k and 12·2^k), plus odd ones for the others.
fn channels() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1usize, 2, 3, 4, 7, 8, 12, 16, 24, 31, 32, 48, 64])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// (X·diag(s)⁻¹)·(diag(s)·W) = X·W for every α in [0, 1]: each factor is rounded once
    /// (≤ u relative) and the f32 product adds ≤ C·u per term, so
    /// |X′W′ − XW| ≤ (C + 4)·u·Σ|x||w| entry by entry.
    #[test]
    fn smoothquant_keeps_the_product(
        t in 1usize..24, c in channels(), n in 1usize..20, seed in any::<u64>(),
        spread in 0.0f64..4.0, zero_every in 0usize..5, alpha in 0.0f32..=1.0,
    ) {
        let (x, w) = layer(t, c, n, seed, spread, zero_every);
        let bound = (c as f64 + 4.0) * U * abs_product_max(&x, t, c, &w, n);
        let case = SmoothCase::new(LayerCase::from_vecs(x, t, c, w, n).unwrap()).unwrap();
        let s = case.scales(alpha).unwrap();
        prop_assert!(s.iter().all(|v| v.is_finite() && *v >= 1e-5), "{s:?}");
        let dev = case.identity_check(alpha).unwrap();
        prop_assert!(dev.max_abs <= bound, "α {alpha}: {dev:?} > {bound}");
        // The smoothed maxima predicted without touching X, W are those of X′, W′.
        let (x2, w2) = case.apply(&s).unwrap();
        let (pa, pw) = case.smoothed_profiles(&s).unwrap();
        for k in 0..c {
            let xa = (0..t).map(|r| x2[r * c + k].abs()).fold(0f32, f32::max);
            let wa = (0..n).map(|j| w2[k * n + j].abs()).fold(0f32, f32::max);
            prop_assert!((xa - pa[k]).abs() <= 2.0 * f32::EPSILON * xa.max(pa[k]));
            prop_assert!((wa - pw[k]).abs() <= 2.0 * f32::EPSILON * wa.max(pw[k]));
        }
    }

    /// (X·R)·(Rᵀ·W) = X·W for the identity, the full and block Hadamard rotations and
    /// Haar-random ones: R is orthogonal in f64 and X′, W′ are rounded once, so
    /// ‖X′W′ − XW‖_F ≤ (C + 4)·u·‖X‖_F·‖W‖_F.
    #[test]
    fn every_rotation_keeps_the_product(
        t in 1usize..24, c in channels(), n in 1usize..20, seed in any::<u64>(),
        spread in 0.0f64..4.0, zero_every in 0usize..5, rot_seed in any::<u64>(),
    ) {
        let (x, w) = layer(t, c, n, seed, spread, zero_every);
        let bound = (c as f64 + 4.0) * U * frob(&x) * frob(&w);
        let case = LayerCase::from_vecs(x, t, c, w, n).unwrap();
        let mut rotations = vec![Rotation::Identity, Rotation::Random(rot_seed)];
        if Rotation::Hadamard.matrix(c).is_ok() {
            rotations.push(Rotation::Hadamard);
        }
        for b in [2usize, 4, 8, 16] {
            if c % b == 0 {
                rotations.push(Rotation::HadamardBlock(b));
            }
        }
        for rot in rotations {
            let r = rot.matrix(c).unwrap();
            prop_assert!(orthogonality_error(&r, c).unwrap() < 1e-5, "{rot:?}");
            let rotated = Rotated::new(&case, &rot).unwrap();
            let dev = rotated.float_deviation(&case).unwrap();
            // ‖E‖_F ≥ max |E_tj|, and rel_frobenius·‖XW‖_F is ‖E‖_F.
            prop_assert!(dev.max_abs <= bound, "{rot:?}: {dev:?} > {bound}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// The learned rotation stays orthogonal (Cayley steps) and so keeps X·W, to the f32
    /// rounding of R itself: ‖E‖_F ≤ ((C + 4)·u + ‖RᵀR − I‖)·‖X‖_F·‖W‖_F.
    #[test]
    fn learned_rotation_keeps_the_product(
        t in 2usize..16, c in prop::sample::select(vec![4usize, 8, 12, 16, 32]), n in 2usize..12,
        seed in any::<u64>(), spread in 0.0f64..3.0, steps in 1usize..30, hadamard_start in any::<bool>(),
    ) {
        let (x, w) = layer(t, c, n, seed, spread, 0);
        let norms = frob(&x) * frob(&w);
        let case = LayerCase::from_vecs(x, t, c, w, n).unwrap();
        let init = if hadamard_start { Rotation::Hadamard } else { Rotation::Identity };
        let cfg = LearnConfig {
            quant: LayerQuant::new(4, 4, ActGranularity::PerToken),
            block: 4,
            seed,
            ..LearnConfig::default()
        };
        let mut learner = Learner::new(&case, &init, cfg).unwrap();
        learner.step(steps).unwrap();
        let orth = learner.orthogonality_error().unwrap();
        prop_assert!(orth < 1e-4, "‖RᵀR − I‖ = {orth}");
        let rotated = learner.rotated(&case).unwrap();
        let dev = rotated.float_deviation(&case).unwrap();
        let bound = ((c as f64 + 4.0) * U + 2.0 * orth) * norms;
        prop_assert!(dev.max_abs <= bound, "{dev:?} > {bound}");
    }
}
