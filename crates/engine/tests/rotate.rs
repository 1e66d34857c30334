//! Rotations: the FWHT against the dense Sylvester matrix, the Hadamard constructions against
//! dense Kronecker products, orthogonality, X·R·Rᵀ·W = X·W, the Householder QR, and the learned
//! rotation lowering its loss. Runs natively and on wasm32.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use quantlab_engine::linear::{ActGranularity, LayerCase, LayerQuant};
use quantlab_engine::rotate::hadamard::{fwht, sylvester, Hadamard, HADAMARD12};
use quantlab_engine::rotate::learn::LearnConfig;
use quantlab_engine::rotate::orthogonal::{householder_qr, orthogonality_error, random_orthogonal};
use quantlab_engine::rotate::{rotation_report, Learner, Rotated, Rotation, STANDARD_CONFIGS};
use quantlab_engine::synth::Pcg32;

fn kron(a: &[f64], an: usize, b: &[f64], bn: usize) -> Vec<f64> {
    let n = an * bn;
    let mut out = vec![0f64; n * n];
    for i in 0..an {
        for j in 0..an {
            for k in 0..bn {
                for l in 0..bn {
                    out[(i * bn + k) * n + j * bn + l] = a[i * an + j] * b[k * bn + l];
                }
            }
        }
    }
    out
}

fn h12_t() -> Vec<f64> {
    let mut t = vec![0f64; 144];
    for i in 0..12 {
        for j in 0..12 {
            t[j * 12 + i] = f64::from(HADAMARD12[i][j]);
        }
    }
    t
}

fn eye(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect()
}

fn max_diff(a: &[f32], b: &[f64], scale: f64) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y * scale).abs())
        .fold(0.0, f64::max)
}

fn randn(n: usize, seed: u64, scale: f64) -> Vec<f32> {
    let mut rng = Pcg32::new(seed);
    (0..n).map(|_| (rng.normal() * scale) as f32).collect()
}

#[test]
fn h12_is_a_hadamard_matrix() {
    for (i, a) in HADAMARD12.iter().enumerate() {
        for (j, b) in HADAMARD12.iter().enumerate() {
            let dot: i32 = a
                .iter()
                .zip(b)
                .map(|(&p, &q)| i32::from(p) * i32::from(q))
                .sum();
            assert_eq!(dot, if i == j { 12 } else { 0 });
        }
    }
}

#[test]
fn fwht_equals_the_dense_sylvester_matrix() {
    for n in [1usize, 2, 4, 8, 32, 128, 256] {
        let s = sylvester(n);
        let v = randn(n, n as u64, 1.0);
        let mut f = v.clone();
        fwht(&mut f).unwrap();
        for i in 0..n {
            let want: f64 = (0..n)
                .map(|j| f64::from(v[j]) * f64::from(s[j * n + i]))
                .sum();
            assert!(
                (f64::from(f[i]) - want).abs() < 1e-4 * (n as f64).sqrt(),
                "n={n} i={i}"
            );
        }
    }
    for n in [0usize, 3, 12, 384] {
        assert!(fwht(&mut vec![1.0; n])
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    }
}

#[test]
fn hadamard_constructions_equal_dense_kronecker_products() {
    // C = 12·2^k: R = kron(H12ᵀ, S_m)/√C (QuaRot's matmul_hadU(I)).
    for m in [1usize, 2, 8, 32] {
        let c = 12 * m;
        let dense = kron(
            &h12_t(),
            12,
            &sylvester(m)
                .iter()
                .map(|&v| f64::from(v))
                .collect::<Vec<_>>(),
            m,
        );
        let r = Hadamard::full(c).unwrap().matrix();
        assert!(
            max_diff(&r, &dense, 1.0 / (c as f64).sqrt()) < 1e-6,
            "C={c}"
        );
        assert!(orthogonality_error(&r, c).unwrap() < 1e-5);
    }
    // Powers of two: S_C/√C.
    for c in [2usize, 16, 256] {
        let r = Hadamard::full(c).unwrap().matrix();
        let s: Vec<f64> = sylvester(c).iter().map(|&v| f64::from(v)).collect();
        assert!(max_diff(&r, &s, 1.0 / (c as f64).sqrt()) < 1e-6);
    }
    // Blocks: kron(I, S_b)/√b.
    for (c, b) in [(384usize, 128usize), (48, 16), (64, 64)] {
        let r = Hadamard::block(c, b).unwrap().matrix();
        let s: Vec<f64> = sylvester(b).iter().map(|&v| f64::from(v)).collect();
        let dense = kron(&eye(c / b), c / b, &s, b);
        assert!(max_diff(&r, &dense, 1.0 / (b as f64).sqrt()) < 1e-6);
        assert!(orthogonality_error(&r, c).unwrap() < 1e-5);
    }
    // C = 1536 = 12·128: a few rows of X·R against the entry formula
    // R[i][j] = H12[j / m][i / m]·S[i % m][j % m]/√C.
    let (c, m) = (1536usize, 128usize);
    let h = Hadamard::full(c).unwrap();
    let x = randn(3 * c, 7, 1.0);
    let mut xr = x.clone();
    h.rotate_rows(&mut xr, 3).unwrap();
    for row in 0..3 {
        for j in [0usize, 1, 127, 128, 700, 1535] {
            let want: f64 = (0..c)
                .map(|i| {
                    let hv = f64::from(HADAMARD12[j / m][i / m]);
                    let sv = if ((i % m) & (j % m)).count_ones() % 2 == 0 {
                        1.0
                    } else {
                        -1.0
                    };
                    f64::from(x[row * c + i]) * hv * sv
                })
                .sum::<f64>()
                / (c as f64).sqrt();
            assert!(
                (f64::from(xr[row * c + j]) - want).abs() < 1e-4,
                "row {row} col {j}"
            );
        }
    }
    for bad in [0usize, 100, 24 * 3, 12 * 5] {
        assert!(
            Hadamard::full(bad)
                .as_ref()
                .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })),
            "{bad}"
        );
    }
    assert!(Hadamard::block(384, 100)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(Hadamard::block(384, 256)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(Hadamard::full(384)
        .unwrap()
        .rotate_rows(&mut [0.0; 10], 1)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
}

#[test]
fn weights_get_r_transpose() {
    for (rot, c) in [
        (Rotation::Hadamard, 24usize),
        (Rotation::Hadamard, 32),
        (Rotation::HadamardBlock(8), 24),
        (Rotation::Random(5), 20),
    ] {
        let n = 7;
        let r = rot.matrix(c).unwrap();
        let w = randn(c * n, 11, 1.0);
        let x = randn(3 * c, 12, 1.0);
        let (x2, w2) = rot.apply(&x, 3, c, &w, n).unwrap();
        for i in 0..c {
            for j in 0..n {
                let want: f64 = (0..c)
                    .map(|k| f64::from(r[k * c + i]) * f64::from(w[k * n + j]))
                    .sum();
                assert!((f64::from(w2[i * n + j]) - want).abs() < 1e-5, "{rot:?}");
            }
        }
        for t in 0..3 {
            for j in 0..c {
                let want: f64 = (0..c)
                    .map(|k| f64::from(x[t * c + k]) * f64::from(r[k * c + j]))
                    .sum();
                assert!((f64::from(x2[t * c + j]) - want).abs() < 1e-5, "{rot:?}");
            }
        }
    }
}

#[test]
fn rotations_keep_the_product_and_tame_the_outliers() {
    let (t, c, n) = (32, 96, 40);
    let mut x = randn(t * c, 21, 1.0);
    for r in 0..t {
        x[r * c + 7] = x[r * c + 7] * 2.0 + 15.0;
    }
    let w = randn(c * n, 22, 0.1);
    let case = LayerCase::from_vecs(x, t, c, w, n).unwrap();
    for rot in [
        Rotation::Identity,
        Rotation::Hadamard,
        Rotation::HadamardBlock(32),
        Rotation::Random(3),
    ] {
        let rotated = Rotated::new(&case, &rot).unwrap();
        let id = rotated.float_deviation(&case).unwrap();
        assert!(
            id.rel_frobenius < 1e-5 && id.max_rel < 1e-5,
            "{rot:?} {id:?}"
        );
        let rep = rotation_report(&case, &rotated, &STANDARD_CONFIGS).unwrap();
        assert_eq!(rep.errors.len(), 6);
        assert_eq!(rep.rotation, rot.name());
        if rot != Rotation::Identity {
            assert!(rep.after.kurtosis < rep.before.kurtosis);
            assert!(rep.after.profile.max_over_median < rep.before.profile.max_over_median);
            for e in &rep.errors {
                assert!(e.rel_err < e.baseline_rel_err, "{rot:?} {:?}", e.cfg);
            }
        } else {
            assert_eq!(rep.after, rep.before);
        }
    }
}

#[test]
fn householder_qr_and_haar_rotations() {
    let n = 24;
    let mut rng = Pcg32::new(9);
    let g: Vec<f64> = (0..n * n).map(|_| rng.normal()).collect();
    let (q, d) = householder_qr(&g, n).unwrap();
    // Qᵀ·G is upper triangular with diag(R) on its diagonal.
    for i in 0..n {
        for j in 0..n {
            let v: f64 = (0..n).map(|k| q[k * n + i] * g[k * n + j]).sum();
            if i > j {
                assert!(v.abs() < 1e-12);
            } else if i == j {
                assert!((v - d[i]).abs() < 1e-12);
            }
        }
    }
    let r = random_orthogonal(n, 9).unwrap();
    assert!(orthogonality_error(&r, n).unwrap() < 1e-5);
    // The sign correction: column j of R is column j of Q times sign(diag R_jj).
    for j in 0..n {
        let sgn = if d[j] < 0.0 { -1.0 } else { 1.0 };
        for i in 0..n {
            assert_eq!(r[i * n + j], (q[i * n + j] * sgn) as f32);
        }
    }
    assert_eq!(random_orthogonal(n, 9).unwrap(), r);
    assert_ne!(random_orthogonal(n, 10).unwrap(), r);
    assert!(random_orthogonal(0, 1)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
}

#[test]
fn rotation_specs() {
    for (s, r) in [
        ("none", Rotation::Identity),
        ("hadamard", Rotation::Hadamard),
        ("hadamard-block:64", Rotation::HadamardBlock(64)),
        ("random:42", Rotation::Random(42)),
    ] {
        assert_eq!(Rotation::parse(s).unwrap(), r);
        assert_eq!(r.name(), s);
    }
    for bad in [
        "",
        "hadamard:3",
        "random:x",
        "hadamard-block:",
        "learned:10",
        "spin",
    ] {
        assert!(
            Rotation::parse(bad)
                .as_ref()
                .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })),
            "{bad}"
        );
    }
    let dense = Rotation::Dense {
        name: "mine".into(),
        r: vec![1.0, 0.0, 0.0, 1.0],
    };
    assert_eq!(dense.matrix(2).unwrap(), vec![1.0, 0.0, 0.0, 1.0]);
    assert!(dense
        .matrix(3)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
}

#[test]
fn learned_rotation_lowers_its_loss() {
    let (t, c, n) = (24, 32, 48);
    let mut x = randn(t * c, 31, 1.0);
    for r in 0..t {
        x[r * c + 3] = x[r * c + 3] * 3.0 + 20.0;
    }
    let w = randn(c * n, 32, 0.2);
    let case = LayerCase::from_vecs(x, t, c, w, n).unwrap();
    let quant = LayerQuant::new(4, 4, ActGranularity::PerToken);
    // From the identity (outlier channel 3 intact) the loss must drop a lot. From a random
    // rotation it is already low and the STE steps only jitter around it on a layer this small,
    // so that run only checks the bookkeeping.
    for (block, grad_cols, init, lr, factor) in [
        (c, 0, Rotation::Identity, 20.0, Some(0.8)),
        (8, 16, Rotation::Identity, 20.0, Some(0.8)),
        (16, 0, Rotation::Random(1), 0.2, None),
    ] {
        let cfg = LearnConfig {
            quant,
            lr,
            momentum: 0.5,
            block,
            grad_cols,
            seed: 4,
            refresh_every: 8,
        };
        let mut l = Learner::new(&case, &init, cfg).unwrap();
        let start = l.loss().unwrap();
        let losses = l.step(25).unwrap();
        assert_eq!(losses.len(), 25);
        assert!((losses[0] - start).abs() <= 1e-6 * start);
        let end = l.loss().unwrap();
        if let Some(f) = factor {
            assert!(
                end < f * start,
                "block {block}: {start} → {end} ({losses:?})"
            );
        }
        // The result is the best R of the run (never worse than its start, the end or any
        // step), and its loss is the layer's rel_err² measured on that rotation.
        let (_, best, _) = l.best().unwrap();
        assert!(best <= start && best <= end && losses.iter().all(|&v| best <= v));
        let full = l.error(&case, &quant).unwrap().rel_err;
        assert!((full * full - f64::from(best)).abs() < 1e-3 * f64::from(best));
        assert!(l.orthogonality_error().unwrap() < 1e-4);
        assert_eq!(l.steps(), 25);
        assert_eq!(l.losses().len(), 25);
    }
    // Settings are validated.
    let mut l = Learner::new(&case, &Rotation::Hadamard, LearnConfig::default()).unwrap();
    assert!(
        l.set_lr(0.0)
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. }))
            && l.set_momentum(1.0)
                .as_ref()
                .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. }))
    );
    assert!(l.set_lr(0.05).is_ok() && l.set_momentum(0.0).is_ok());
    assert_eq!(l.config().lr, 0.05);
    let bad = LearnConfig {
        block: 1,
        ..LearnConfig::default()
    };
    assert!(Learner::new(&case, &Rotation::Hadamard, bad)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    let bad = LearnConfig {
        quant: LayerQuant::new(4, 4, ActGranularity::PerChannel),
        ..LearnConfig::default()
    };
    assert!(Learner::new(&case, &Rotation::Hadamard, bad)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(
        Learner::new(&case, &Rotation::HadamardBlock(7), LearnConfig::default())
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. }))
    );
}

#[test]
fn a_learned_rotation_never_ends_worse_than_its_start() {
    // A learning rate far too large makes the steps overshoot: the loss ends above the Hadamard
    // start, and the result must still be at least as good as plain Hadamard.
    let (t, c, n) = (32, 64, 48);
    let mut x = randn(t * c, 7, 1.0);
    for r in 0..t {
        x[r * c + 5] = x[r * c + 5] * 4.0 + 30.0;
    }
    let w = randn(c * n, 8, 0.2);
    let case = LayerCase::from_vecs(x, t, c, w, n).unwrap();
    let quant = LayerQuant::new(8, 8, ActGranularity::PerTensor);
    let cfg = LearnConfig {
        quant,
        lr: 2.0,
        momentum: 0.9,
        block: c,
        ..LearnConfig::default()
    };
    let mut l = Learner::new(&case, &Rotation::Hadamard, cfg).unwrap();
    let start = l.loss().unwrap();
    l.step(30).unwrap();
    let (end, (_, best, step)) = (l.loss().unwrap(), l.best().unwrap());
    assert!(
        end > start,
        "this run must overshoot to test the guard ({start} → {end})"
    );
    assert!(best <= start, "best {best} > start {start}");
    assert!(best <= end);
    let hadamard = Rotated::new(&case, &Rotation::Hadamard)
        .unwrap()
        .error(&case, &quant)
        .unwrap();
    let learned = l.error(&case, &quant).unwrap();
    assert!(
        learned.rel_err <= hadamard.rel_err * (1.0 + 1e-6),
        "{} > {}",
        learned.rel_err,
        hadamard.rel_err
    );
    assert!(step <= l.steps());
}

/// The rotation of packed weights (what the whole model re-quantizes from) is the row-major
/// rotation bit for bit, with and without SmoothQuant's row scaling, for every plan (powers of
/// two, 12·2^k, blocks) and a column count that leaves a padded panel.
#[test]
fn packed_weights_rotate_exactly_as_row_major_ones() {
    use quantlab_engine::kernels::PackedF32;
    for c in [16usize, 24, 48, 384] {
        for n in [5usize, 8, 13, 300] {
            let w = randn(c * n, c as u64 + n as u64, 1.0);
            let s: Vec<f32> = randn(c, 3, 1.0).iter().map(|v| 0.1 + v.abs()).collect();
            let h = Hadamard::full(c).unwrap();
            for scale in [None, Some(s.as_slice())] {
                let mut rm: Vec<f32> = match scale {
                    None => w.clone(),
                    Some(s) => w
                        .chunks_exact(n)
                        .zip(s)
                        .flat_map(|(r, &si)| r.iter().map(move |v| v * si))
                        .collect(),
                };
                h.rotate_weights(&mut rm, n).unwrap();
                let packed = PackedF32::pack(&w, c, n).unwrap();
                let got = h.rotate_packed_weights(&packed, scale).unwrap();
                assert_eq!(
                    got.to_row_major(),
                    rm,
                    "c={c} n={n} scaled={}",
                    scale.is_some()
                );
            }
        }
    }
    let h = Hadamard::full(16).unwrap();
    let wrong = PackedF32::pack(&[0.0; 8 * 3], 8, 3).unwrap();
    assert!(h.rotate_packed_weights(&wrong, None).is_err());
}

/// SmolLM2's 576 channels have no full Hadamard: a learned rotation there starts from the block
/// Hadamard of 64 and must still improve on it, with a massive channel like the LLM's.
#[test]
fn a_learned_rotation_starts_from_the_hadamard_the_layer_has() {
    assert_eq!(Rotation::hadamard_for(64), Rotation::Hadamard);
    assert_eq!(Rotation::hadamard_for(384), Rotation::Hadamard);
    assert_eq!(Rotation::hadamard_for(1536), Rotation::Hadamard);
    assert_eq!(Rotation::hadamard_for(576), Rotation::HadamardBlock(64));
    assert_eq!(Rotation::hadamard_for(960), Rotation::HadamardBlock(64));
    assert!(Learner::new(
        &LayerCase::from_vecs(vec![1.0; 576], 1, 576, vec![0.5; 576], 1).unwrap(),
        &Rotation::Hadamard,
        LearnConfig::default()
    )
    .is_err());
    let (t, c, n) = (16, 576, 48);
    let mut x = randn(t * c, 11, 1.0);
    x[406] = 2_000.0; // token 0, channel 406: one massive activation
    for r in 1..t {
        x[r * c + 406] *= 10.0;
    }
    let w = randn(c * n, 12, 0.05);
    let case = LayerCase::from_vecs(x, t, c, w, n).unwrap();
    let quant = LayerQuant::new(4, 4, ActGranularity::PerToken);
    let init = Rotation::hadamard_for(c);
    let cfg = LearnConfig {
        quant,
        lr: 0.03,
        ..LearnConfig::default()
    };
    let mut l = Learner::new(&case, &init, cfg).unwrap();
    assert_eq!(l.init_name(), "hadamard-block:64");
    let start = l.loss().unwrap();
    let losses = l.step(20).unwrap();
    let (_, best, _) = l.best().unwrap();
    assert!(best < 0.9 * start, "{start} → {best} {losses:?}");
    assert!(l.orthogonality_error().unwrap() < 1e-4);
}
