//! Property tests the engine's other suites (engine_props.rs, kernels.rs) do not cover:
//! per-channel / per-token / per-group quantization equals calibrating and fake-quantizing each
//! group on its own, in the documented parameter order; every group's range contains 0; the
//! histogram puts every finite value in exactly one bin (checked against a naive edge scan);
//! and the hostile .npy payloads of the reliability issue (NaN/Inf-only, subnormals, ±f32::MAX)
//! go through calibration and quantization without panicking or producing non-finite params.
//! Native only (proptest).
#![cfg(not(target_arch = "wasm32"))]

use ndarray::Array2;
use proptest::prelude::*;
use quantlab_engine::QuantError;
use quantlab_engine::*;

const R: NonFinitePolicy = NonFinitePolicy::Reject;

fn scheme() -> impl Strategy<Value = Scheme> {
    (
        2u8..=8,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(b, s, y, n, away)| {
            Scheme::new(b, s, y, n).unwrap().with_rounding(if away {
                Rounding::HalfAway
            } else {
                Rounding::HalfEven
            })
        })
}

/// The values of each group, in the documented parameter order (granularity.rs module docs),
/// with their flat row-major positions.
fn groups_of(x: &Array2<f32>, g: Granularity) -> Vec<Vec<(usize, f32)>> {
    let (rows, cols) = x.dim();
    let at = |r: usize, c: usize| (r * cols + c, x[[r, c]]);
    match g {
        Granularity::PerTensor => vec![(0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .map(|(r, c)| at(r, c))
            .collect()],
        Granularity::PerChannel { axis: 1 } => (0..cols)
            .map(|c| (0..rows).map(|r| at(r, c)).collect())
            .collect(),
        Granularity::PerChannel { .. } | Granularity::PerToken => (0..rows)
            .map(|r| (0..cols).map(|c| at(r, c)).collect())
            .collect(),
        Granularity::PerGroup { axis: 1, size } => (0..rows)
            .flat_map(|r| (0..cols / size).map(move |g| (r, g)))
            .map(|(r, g)| (g * size..(g + 1) * size).map(|c| at(r, c)).collect())
            .collect(),
        Granularity::PerGroup { size, .. } => (0..rows / size)
            .flat_map(|g| (0..cols).map(move |c| (g, c)))
            .map(|(g, c)| (g * size..(g + 1) * size).map(|r| at(r, c)).collect())
            .collect(),
    }
}

fn tensor() -> impl Strategy<Value = Array2<f32>> {
    (
        1usize..9,
        1usize..13,
        any::<u64>(),
        prop_oneof![Just(1.0f32), Just(1e-3), Just(300.0)],
        0usize..4,
    )
        .prop_map(|(rows, cols, seed, scale, kind)| {
            let n = rows * cols;
            let mut v = synth::generate(
                &synth::Distribution::Laplace {
                    loc: 0.0,
                    scale: 1.0,
                },
                n,
                seed,
            )
            .unwrap();
            for (i, x) in v.iter_mut().enumerate() {
                *x *= scale;
                match kind {
                    1 => *x = x.abs(),              // all ≥ 0 (ReLU-like): the range is extended to 0
                    2 if i % 3 == 0 => *x = 0.0,    // dead values
                    3 if i % cols == 0 => *x = 5.0, // a constant channel
                    _ => {}
                }
            }
            Array2::from_shape_vec((rows, cols), v).unwrap()
        })
}

fn granularity(rows: usize, cols: usize) -> impl Strategy<Value = Granularity> {
    let divisors = |n: usize| (1..=n).filter(|d| n.is_multiple_of(*d)).collect::<Vec<_>>();
    prop_oneof![
        Just(Granularity::PerTensor),
        Just(Granularity::PerChannel { axis: 0 }),
        Just(Granularity::PerChannel { axis: 1 }),
        Just(Granularity::PerToken),
        prop::sample::select(divisors(cols))
            .prop_map(|size| Granularity::PerGroup { axis: 1, size }),
        prop::sample::select(divisors(rows))
            .prop_map(|size| Granularity::PerGroup { axis: 0, size }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Each group is calibrated and fake-quantized on its own values only, and the results are
    /// reported in the documented order.
    #[test]
    fn granular_equals_group_by_group(
        (x, g) in tensor().prop_flat_map(|x| { let (r, c) = x.dim(); (Just(x), granularity(r, c)) }),
        sch in scheme(),
        which in 0usize..4,
    ) {
        let cal = [Calibrator::MinMax, Calibrator::Mse, Calibrator::Percentile { p: 99.0 }, Calibrator::Entropy][which];
        let res = quantize_granular(x.view(), &sch, g, &cal, R);
        // A constant tensor is an error per tensor only (PyTorch's eps range per group).
        let res = match res {
            Err(QuantError::ConstantData { .. }) if g == Granularity::PerTensor => return Ok(()),
            r => r.unwrap(),
        };
        let groups = groups_of(&x, g);
        prop_assert_eq!(res.groups.len(), groups.len());
        prop_assert_eq!(res.param_shape.iter().product::<usize>(), groups.len());
        let flat: Vec<f32> = res.dequantized.iter().copied().collect();
        let (mut n, mut sse) = (0usize, 0.0f64);
        for (gr, vals) in res.groups.iter().zip(&groups) {
            let v: Vec<f32> = vals.iter().map(|p| p.1).collect();
            // Every group's range contains 0 (PyTorch's rule: the grid must represent 0 exactly).
            prop_assert!(gr.alpha <= 0.0 && gr.beta >= 0.0 && gr.alpha <= gr.beta, "{:?}", gr);
            prop_assert!(gr.params.scale > 0.0 && gr.params.scale.is_finite());
            if let Ok(c) = calibrate_with(&v, &sch, &cal, R) {
                prop_assert_eq!(c.params, gr.params, "group {:?}", v);
            }
            let (y, m) = fake_quantize(&v, &gr.params, &sch, R).unwrap();
            for ((pos, _), want) in vals.iter().zip(&y) {
                prop_assert_eq!(flat[*pos].to_bits(), want.to_bits());
            }
            if cal == Calibrator::MinMax {
                // Min-max covers the group's data up to one step: the rounded zero-point (asym)
                // or PyTorch's symmetric grid on full/unsigned ranges (top = β − s/2) can leave
                // the extreme just outside the grid, never further.
                let s = f64::from(gr.params.scale);
                let amax = v.iter().fold(0.0f64, |a, x| a.max(f64::from(x.abs())));
                prop_assert!(m.max_abs_err <= s * (1.0 + 1e-5) + 1e-6 * amax, "err {} > s {}", m.max_abs_err, s);
            }
            n += m.n;
            sse += m.mse * m.n as f64;
        }
        prop_assert_eq!(n, x.len());
        prop_assert_eq!(res.overall.n, x.len());
        let want = sse / n as f64;
        prop_assert!((res.overall.mse - want).abs() <= 1e-9 * want.max(1e-30), "{} vs {}", res.overall.mse, want);
    }

    /// A group size that does not divide its axis, or an axis beyond 1, is an error, not a panic.
    #[test]
    fn bad_groups_are_errors(rows in 1usize..7, cols in 1usize..7, size in 0usize..9, axis in 0usize..4) {
        let x = Array2::from_shape_fn((rows, cols), |(r, c)| (r * cols + c) as f32 - 3.0);
        let len = [rows, cols].get(axis).copied();
        let g = Granularity::PerGroup { axis, size };
        let r = quantize_granular(x.view(), &Scheme::seminar_int8(), g, &Calibrator::MinMax, R);
        match len {
            Some(l) if size > 0 && l % size == 0 => prop_assert!(r.is_ok()),
            _ => {
                let named = r.as_ref().is_err_and(|e| {
                    matches!(e, QuantError::GroupSizeMismatch { .. } | QuantError::InvalidAxis { .. })
                });
                prop_assert!(named, "{:?}", r.err());
            }
        }
    }

    /// Every finite value in [lo, hi] is counted in exactly the bin a naive scan of the
    /// `np.linspace` edges gives (the last bin closed); the rest are under/overflow or NaN.
    #[test]
    fn histogram_counts_every_finite_value_once(
        x in prop::collection::vec(prop_oneof![
            6 => -12.0f32..12.0,
            1 => any::<f32>(),
            1 => prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, f32::MIN_POSITIVE, 1e-45, f32::MAX, f32::MIN]),
        ], 0..300),
        bins in 1usize..200,
        lo in -10.0f32..5.0,
        w in prop_oneof![0.001f32..20.0, Just(1e-6f32)],
        snap in any::<bool>(),
    ) {
        let hi = lo + w;
        prop_assume!(lo < hi);
        let h = histogram(&x, bins, lo, hi).unwrap();
        // Optionally put values exactly on the edges, where off-by-one errors live.
        let mut x = x;
        if snap {
            for (i, v) in x.iter_mut().enumerate() {
                if i % 2 == 0 {
                    *v = h.edge(i % (bins + 1)) as f32;
                }
            }
        }
        let h = histogram(&x, bins, lo, hi).unwrap();
        let mut want = vec![0u32; bins];
        let (mut under, mut over, mut nan) = (0u32, 0u32, 0u32);
        for &v in &x {
            let d = f64::from(v);
            if d.is_nan() {
                nan += 1;
            } else if d < f64::from(lo) {
                under += 1;
            } else if d > f64::from(hi) {
                over += 1;
            } else {
                let k = (0..bins).find(|&k| d >= h.edge(k) && (d < h.edge(k + 1) || k == bins - 1)).unwrap();
                want[k] += 1;
            }
        }
        prop_assert_eq!(&h.counts, &want);
        prop_assert_eq!((h.underflow, h.overflow, h.nan), (under, over, nan));
        prop_assert_eq!(h.total() + u64::from(under + over + nan), x.len() as u64);
    }

    /// Calibration on hostile values (what a lying .npy can carry): never a panic, and when it
    /// succeeds the scale is finite and positive and the range contains 0.
    #[test]
    fn calibration_on_extreme_values(
        x in prop::collection::vec(prop::sample::select(vec![
            f32::MAX, f32::MIN, f32::MIN_POSITIVE, -f32::MIN_POSITIVE, 1e-45, -1e-45, 1e-40, 0.0, -0.0, 1.0, -3.0, 1e38, -1e38,
            f32::NAN, f32::INFINITY, f32::NEG_INFINITY,
        ]), 1..64),
        sch in scheme(),
        which in 0usize..6,
        skip in any::<bool>(),
    ) {
        let cal = [Calibrator::MinMax, Calibrator::Mse, Calibrator::Entropy, Calibrator::Percentile { p: 99.9 },
            Calibrator::MovingAverage { momentum: 0.5, batch_size: 3 }, Calibrator::Manual { alpha: -1.0, beta: 1.0 }][which];
        let policy = if skip { NonFinitePolicy::Skip } else { R };
        if let Ok(c) = calibrate_with(&x, &sch, &cal, policy) {
            prop_assert!(c.params.scale > 0.0 && c.params.scale.is_finite(), "{:?}", c.params);
            prop_assert!(c.alpha <= 0.0 && c.beta >= 0.0);
            let (y, _) = fake_quantize(&x, &c.params, &sch, NonFinitePolicy::Skip).unwrap();
            for (a, b) in x.iter().zip(&y) {
                if a.is_finite() {
                    prop_assert!(b.is_finite(), "{a} → {b} with {:?}", c.params);
                }
            }
        }
        let _ = summarize(&x, policy);
        let _ = kurtosis(&x, policy);
        if let Ok(a) = Array2::from_shape_vec((1, x.len()), x.clone()) {
            let _ = quantize_granular(a.view(), &sch, Granularity::PerChannel { axis: 1 }, &cal, policy);
        }
    }
}

/// One all-NaN/Inf channel with NaN/Inf skipped used to fail the whole per-channel (and
/// per-group) quantization ("all 2 values are NaN or Inf") while per-tensor and per-token
/// worked: an uploaded tensor with one dead-and-NaN column broke the playground.
#[test]
fn an_all_nan_channel_is_passed_through_when_skipping() {
    let n = f32::NAN;
    let x = ndarray::arr2(&[[n, 1.0, 2.0], [f32::INFINITY, -1.0, 3.0]]);
    let sch = Scheme::seminar_int8();
    for g in [
        Granularity::PerTensor,
        Granularity::PerChannel { axis: 1 },
        Granularity::PerChannel { axis: 0 },
        Granularity::PerToken,
        Granularity::PerGroup { axis: 0, size: 2 },
        Granularity::PerGroup { axis: 0, size: 1 },
    ] {
        for cal in [
            Calibrator::MinMax,
            Calibrator::Mse,
            Calibrator::Entropy,
            Calibrator::Percentile { p: 99.0 },
        ] {
            let r = quantize_granular(x.view(), &sch, g, &cal, NonFinitePolicy::Skip)
                .unwrap_or_else(|e| panic!("{g:?} {cal:?}: {e}"));
            assert!(
                r.dequantized[[0, 0]].is_nan() && r.dequantized[[1, 0]] == f32::INFINITY,
                "{g:?}"
            );
            assert_eq!((r.overall.n, r.overall.skipped), (4, 2), "{g:?}");
            assert!(r
                .groups
                .iter()
                .all(|gr| gr.params.scale > 0.0 && gr.params.scale.is_finite()));
            // Rejecting is still the default answer to NaN/Inf.
            assert!(quantize_granular(x.view(), &sch, g, &cal, R)
                .as_ref()
                .is_err_and(|e| matches!(e, QuantError::NonFinite { .. })));
        }
    }
    // Nothing finite at all: the same error at every granularity.
    let y = ndarray::arr2(&[[n, f32::INFINITY, n]]);
    for g in [
        Granularity::PerTensor,
        Granularity::PerChannel { axis: 1 },
        Granularity::PerToken,
    ] {
        let e = quantize_granular(
            y.view(),
            &sch,
            g,
            &Calibrator::MinMax,
            NonFinitePolicy::Skip,
        )
        .unwrap_err();
        assert!(
            matches!(e, QuantError::AllNonFinite { count: 3 }),
            "{g:?}: {e:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With NaN/Inf skipped, any granularity succeeds exactly when some value is finite, keeps
    /// every NaN/Inf where it was, and accounts for every value once.
    #[test]
    fn skipping_nonfinite_works_at_every_granularity(
        (x, g) in tensor().prop_flat_map(|x| { let (r, c) = x.dim(); (Just(x), granularity(r, c)) }),
        holes in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY])), 0..40),
        whole_col in any::<bool>(),
    ) {
        let mut x = x;
        let (rows, cols) = x.dim();
        for (i, v) in &holes {
            let k = i.index(rows * cols);
            x[[k / cols, k % cols]] = *v;
        }
        if whole_col {
            for r in 0..rows { x[[r, 0]] = f32::NAN; }
        }
        let finite = x.iter().filter(|v| v.is_finite()).count();
        let r = quantize_granular(x.view(), &Scheme::seminar_int8(), g, &Calibrator::MinMax, NonFinitePolicy::Skip);
        match r {
            Err(QuantError::ConstantData { .. }) if g == Granularity::PerTensor => {}
            Err(e) => prop_assert!(finite == 0 && matches!(e, QuantError::AllNonFinite { .. }), "{:?} with {} finite", e, finite),
            Ok(res) => {
                prop_assert!(finite > 0);
                prop_assert_eq!(res.overall.n, finite);
                prop_assert_eq!(res.overall.skipped, x.len() - finite);
                for (a, b) in x.iter().zip(res.dequantized.iter()) {
                    if a.is_finite() { prop_assert!(b.is_finite()); } else { prop_assert_eq!(a.to_bits(), b.to_bits()); }
                }
            }
        }
    }
}
