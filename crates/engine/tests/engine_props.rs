//! Property tests of the quantizer's invariants (native only: proptest).
#![cfg(not(target_arch = "wasm32"))]

use ndarray::Array2;
use proptest::prelude::*;
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

// Ranges from tiny to large, possibly not containing 0.
fn range() -> impl Strategy<Value = (f32, f32)> {
    (-1.0e4f32..1.0e4, 1.0e-3f32..1.0e4)
        .prop_map(|(a, w)| (a, a + w))
        .prop_filter("a < b", |(a, b)| a < b)
}

fn params(sch: &Scheme, (a, b): (f32, f32)) -> QParams {
    QParams::from_range(a, b, sch).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn error_at_most_half_a_step_inside_the_range(sch in scheme(), r in range(), t in prop::collection::vec(0.0f32..=1.0, 1..64)) {
        let p = params(&sch, r);
        let (lo, hi) = p.effective_range(&sch);
        let x: Vec<f32> = t.iter().map(|&t| lo + (hi - lo) * t).filter(|v| *v >= lo && *v <= hi).collect();
        prop_assume!(!x.is_empty());
        let (y, m) = fake_quantize(&x, &p, &sch, R).unwrap();
        let s = f64::from(p.scale);
        for (&a, &b) in x.iter().zip(&y) {
            let err = (f64::from(b) - f64::from(a)).abs();
            // f32 rounding of x/s and s·(q − z) adds a few ulps on top of s/2.
            let slack = 4.0 * f64::from(f32::EPSILON) * (f64::from(a.abs()) + s * 256.0);
            prop_assert!(err <= s / 2.0 + slack, "x={a} y={b} s={s} err={err}");
        }
        prop_assert_eq!(m.clipped, 0);
        prop_assert_eq!(m.clipping_mse, 0.0);
    }

    #[test]
    fn fake_quant_identities(sch in scheme(), r in range(), x in prop::collection::vec(-2.0e4f32..2.0e4, 1..128)) {
        let p = params(&sch, r);
        let (y, m) = fake_quantize(&x, &p, &sch, R).unwrap();
        let q = quantize(&x, &p, &sch).unwrap();
        prop_assert!(q.iter().all(|&c| c >= sch.qmin() && c <= sch.qmax()));
        prop_assert_eq!(&dequantize(&q, &p, &sch).unwrap(), &y);
        let (y2, m2) = fake_quantize(&y, &p, &sch, R).unwrap();
        prop_assert_eq!(&y2, &y);
        prop_assert_eq!(m2.clipped, 0);
        prop_assert_eq!(m.rounding_mse + m.clipping_mse, m.mse);
        prop_assert!(m.mse >= 0.0 && m.clipped_fraction >= 0.0 && m.clipped_fraction <= 1.0);
        // Clipping happens exactly outside the effective range (the grid's ends).
        let (lo, hi) = p.effective_range(&sch);
        for (i, &v) in x.iter().enumerate() {
            let j = journey(v, &p, &sch).unwrap();
            prop_assert_eq!(j.q, q[i]);
            prop_assert_eq!(j.dequantized, y[i]);
            if j.clipped { prop_assert!(v < lo || v > hi); }
        }
    }

    #[test]
    fn zero_is_exactly_representable(sch in scheme(), a in -1.0e4f32..1.0e4, b in -1.0e4f32..1.0e4) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let p = QParams::from_observed(a, b, &sch).unwrap();
        prop_assert_eq!(fake_quantize(&[0.0], &p, &sch, R).unwrap().0[0], 0.0);
        prop_assert!(p.zero_point >= sch.qmin() && p.zero_point <= sch.qmax());
    }

    #[test]
    fn ties_go_to_even(k in -120i32..120, e in -6i32..6) {
        let sch = Scheme::new(8, true, true, false).unwrap();
        let s = 2f32.powi(e);
        let p = QParams::new(s, 0, &sch).unwrap();
        let x = (k as f32 + 0.5) * s;
        let q = quantize(&[x], &p, &sch).unwrap()[0];
        let even = if k % 2 == 0 { k } else { k + 1 };
        prop_assert_eq!(q, even);
        let away = quantize(&[x], &p, &sch.with_rounding(Rounding::HalfAway)).unwrap()[0];
        prop_assert_eq!(away, if k >= 0 { k + 1 } else { k });
    }

    #[test]
    fn calibrators_never_panic(
        sch in scheme(),
        x in prop::collection::vec(prop_oneof![4 => -1.0e6f32..1.0e6, 1 => any::<f32>(), 1 => Just(0.0f32)], 0..300),
        which in 0usize..7, p in 0.0f64..120.0, skip in any::<bool>(),
    ) {
        let cal = match which {
            0 => Calibrator::MinMax,
            1 => Calibrator::MovingAverage { momentum: (p / 120.0) as f32, batch_size: (p as usize) % 7 },
            2 => Calibrator::Percentile { p },
            3 => Calibrator::Mse,
            4 => Calibrator::Entropy,
            5 => Calibrator::Manual { alpha: -(p as f32), beta: p as f32 - 3.0 },
            _ => Calibrator::Percentile { p: 99.9 },
        };
        let policy = if skip { NonFinitePolicy::Skip } else { R };
        if let Ok(c) = calibrate_with(&x, &sch, &cal, policy) {
            prop_assert!(c.params.scale > 0.0 && c.params.scale.is_finite());
            // A percentile range can collapse to [0, 0] on spiky data (scale = eps, as in PyTorch).
            prop_assert!(c.alpha <= 0.0 && c.beta >= 0.0 && c.alpha <= c.beta);
            prop_assert!(c.metrics.mse.is_finite());
            prop_assert_eq!(c.metrics.n + c.metrics.skipped, x.len());
        }
        let _ = histogram(&x, 1 + (p as usize), -1.0, 1.0);
        let _ = summarize(&x, policy);
    }

    #[test]
    fn granular_never_panics(
        rows in 0usize..6, cols in 0usize..9, seed in any::<u64>(), g in 0usize..5, axis in 0usize..3, kind in 0usize..4,
        nan in any::<bool>(), which in 0usize..4,
    ) {
        let n = rows * cols;
        let mut data = if n == 0 { Vec::new() } else {
            synth::generate(&synth::Distribution::Gaussian { mean: 0.0, std: 1.0 }, n, seed).unwrap()
        };
        if nan && n > 1 { data[n / 2] = f32::NAN; }
        let x = Array2::from_shape_vec((rows, cols), data).unwrap();
        let gran = match kind {
            0 => Granularity::PerTensor,
            1 => Granularity::PerChannel { axis },
            2 => Granularity::PerToken,
            _ => Granularity::PerGroup { axis, size: g },
        };
        let cal = [Calibrator::MinMax, Calibrator::Mse, Calibrator::Entropy, Calibrator::Percentile { p: 99.0 }][which];
        for policy in [R, NonFinitePolicy::Skip] {
            if let Ok(r) = quantize_granular(x.view(), &Scheme::seminar_int8(), gran, &cal, policy) {
                prop_assert_eq!(r.groups.len(), r.param_shape.iter().product::<usize>());
                prop_assert_eq!(r.dequantized.dim(), (rows, cols));
            }
        }
    }

    #[test]
    fn histogram_accounts_for_every_value(x in prop::collection::vec(any::<f32>(), 0..200), bins in 1usize..300, lo in -10.0f32..0.0, w in 0.001f32..10.0) {
        let h = histogram(&x, bins, lo, lo + w).unwrap();
        prop_assert_eq!(h.total() + u64::from(h.underflow) + u64::from(h.overflow) + u64::from(h.nan), x.len() as u64);
        prop_assert_eq!(h.counts.len(), bins);
    }
}
