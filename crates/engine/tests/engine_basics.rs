//! Engine behaviour on small hand-made inputs: the seminar's example, ties, every kind of bad
//! input, granularities and synthetic data. Runs natively and on wasm32.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use ndarray::Array2;
use quantlab_engine::synth::{generate, llm_like, Distribution, LlmLike};
use quantlab_engine::*;

const R: NonFinitePolicy = NonFinitePolicy::Reject;

#[test]
fn seminar_worked_example() {
    // s = (192.344 − (−1.577)) / 254 = 0.763 with int8 narrow [−127, 127].
    let sch = Scheme::seminar_int8();
    assert_eq!((sch.qmin(), sch.qmax()), (-127, 127));
    let p = QParams::from_range_seminar(-1.577, 192.344, &sch).unwrap();
    assert_eq!(format!("{:.3}", p.scale), "0.763");
    assert_eq!(p.scale, (192.344f32 + 1.577) / 254.0);
    // Through the calibrator with a manual range, the same numbers.
    let x = [-1.577f32, 0.0, 50.0, 192.344];
    let c = calibrate(
        &x,
        &sch,
        &Calibrator::Manual {
            alpha: -1.577,
            beta: 192.344,
        },
    )
    .unwrap();
    assert_eq!((c.alpha, c.beta), (-1.577, 192.344));
    assert_eq!(c.params, p);
    // Min-max on this data gives the same range.
    let c = calibrate(&x, &sch, &Calibrator::MinMax).unwrap();
    assert_eq!(c.params, p);
    assert_eq!(c.metrics.clipped, 0);
    assert!(c.metrics.max_abs_err <= f64::from(p.scale) / 2.0 + 1e-6);
}

#[test]
fn ties_round_to_even_by_default() {
    let sch = Scheme::new(8, true, true, true).unwrap();
    let p = QParams::new(0.25, 0, &sch).unwrap();
    let x = [0.125f32, 0.375, 0.625, -0.125, -0.375, 31.875];
    assert_eq!(quantize(&x, &p, &sch).unwrap(), vec![0, 2, 2, 0, -2, 127]);
    let away = sch.with_rounding(Rounding::HalfAway);
    assert_eq!(quantize(&x, &p, &away).unwrap(), vec![1, 2, 3, -1, -2, 127]);
}

#[test]
fn roundtrip_identities() {
    let x = generate(
        &Distribution::Laplace {
            loc: 0.2,
            scale: 1.0,
        },
        5000,
        3,
    )
    .unwrap();
    for sch in [
        Scheme::seminar_int8(),
        Scheme::new(4, false, false, false).unwrap(),
        Scheme::new(3, true, true, false).unwrap(),
    ] {
        let c = calibrate(&x, &sch, &Calibrator::Percentile { p: 99.0 }).unwrap();
        let (y, m) = fake_quantize(&x, &c.params, &sch, R).unwrap();
        let q = quantize(&x, &c.params, &sch).unwrap();
        assert!(q.iter().all(|&v| v >= sch.qmin() && v <= sch.qmax()));
        assert_eq!(dequantize(&q, &c.params, &sch).unwrap(), y);
        let (y2, _) = fake_quantize(&y, &c.params, &sch, R).unwrap();
        assert_eq!(y2, y, "fake-quant must be idempotent");
        assert_eq!(m, c.metrics);
        assert_eq!(m.rounding_mse + m.clipping_mse, m.mse);
        assert!(m.clipped > 0 && m.clipping_mse > 0.0);
        let mut buf = vec![0.0; x.len()];
        assert_eq!(
            fake_quantize_into(&x, &c.params, &sch, R, &mut buf).unwrap(),
            m
        );
        assert_eq!(round_trip_metrics(&x, &c.params, &sch, R).unwrap(), m);
        // 0.0 is exactly representable.
        assert_eq!(
            fake_quantize(&[0.0], &c.params, &sch, R).unwrap().0,
            vec![0.0]
        );
    }
}

#[test]
fn journey_steps() {
    let sch = Scheme::seminar_int8();
    let p = QParams::from_range_seminar(-1.577, 192.344, &sch).unwrap();
    let j = journey(10.0, &p, &sch).unwrap();
    assert_eq!(j.x_over_s, 10.0 / p.scale);
    assert_eq!(j.rounded, j.x_over_s.round_ties_even());
    assert_eq!(j.shifted, j.rounded + p.zero_point as f32);
    assert_eq!(j.q, j.shifted as i32);
    assert_eq!(j.dequantized, (j.q - p.zero_point) as f32 * p.scale);
    assert_eq!(j.error, j.dequantized - 10.0);
    assert!(journey(f32::NAN, &p, &sch)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::NonFinite { .. })));
}

#[test]
fn bad_input_gives_typed_errors_with_readable_messages() {
    let sch = Scheme::seminar_int8();
    let p = QParams::new(0.1, 0, &sch).unwrap();
    let msg = |e: QuantError| e.to_string();

    let e = calibrate(&[], &sch, &Calibrator::MinMax).unwrap_err();
    assert_eq!(e, QuantError::Empty { what: "tensor" });
    assert!(msg(e).contains("empty"));

    let mut x = vec![1.0f32; 20];
    x[17] = f32::NAN;
    x[18] = f32::INFINITY;
    x[19] = f32::NAN;
    let e = calibrate(&x, &sch, &Calibrator::MinMax).unwrap_err();
    assert_eq!(msg(e), "the data contains 3 NaN/Inf values; the first is at index 17. Remove them, or ask to skip them");
    x[0] = 2.0;
    let c = calibrate_with(&x, &sch, &Calibrator::MinMax, NonFinitePolicy::Skip).unwrap();
    assert_eq!((c.metrics.n, c.metrics.skipped), (17, 3));

    let e = QParams::from_range(2.0, 1.0, &sch).unwrap_err();
    assert_eq!(msg(e), "α (2) must be smaller than β (1)");
    assert!(calibrate(
        &[1.0, 2.0],
        &sch,
        &Calibrator::Manual {
            alpha: 2.0,
            beta: 1.0
        }
    )
    .as_ref()
    .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidRange { .. })));

    let e = calibrate(&[3.5; 10], &sch, &Calibrator::MinMax).unwrap_err();
    assert_eq!(
        e,
        QuantError::ConstantData {
            value: 3.5,
            count: 10
        }
    );
    assert!(msg(e).contains("all 10 values are equal to 3.5"));

    for bits in [0u8, 1, 9, 16] {
        let e = Scheme::new(bits, true, true, true).unwrap_err();
        assert_eq!(e, QuantError::InvalidBits { bits });
        let bad = Scheme { bits, ..sch };
        assert!(calibrate(&[1.0, 2.0], &bad, &Calibrator::MinMax)
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidBits { .. })));
        assert!(fake_quantize(&[1.0], &p, &bad, R)
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidBits { .. })));
    }
    assert!(msg(QuantError::InvalidBits { bits: 9 }).contains("from 2 to 8"));

    let mut out = vec![0.0; 3];
    let e = fake_quantize_into(&[1.0, 2.0], &p, &sch, R, &mut out).unwrap_err();
    assert!(matches!(
        e,
        QuantError::LengthMismatch {
            expected: 2,
            got: 3,
            ..
        }
    ));

    let m = Array2::<f32>::zeros((4, 6));
    let e = quantize_granular(
        m.view(),
        &sch,
        Granularity::PerGroup { axis: 1, size: 4 },
        &Calibrator::MinMax,
        R,
    )
    .unwrap_err();
    assert_eq!(
        e,
        QuantError::GroupSizeMismatch {
            len: 6,
            group: 4,
            axis: 1
        }
    );
    assert!(msg(e).contains("does not divide the 6 values"));
    assert!(quantize_granular(
        m.view(),
        &sch,
        Granularity::PerGroup { axis: 1, size: 0 },
        &Calibrator::MinMax,
        R
    )
    .as_ref()
    .is_err_and(|e| matches!(e, quantlab_engine::QuantError::GroupSizeMismatch { .. })));
    let e = quantize_granular(
        m.view(),
        &sch,
        Granularity::PerChannel { axis: 2 },
        &Calibrator::MinMax,
        R,
    )
    .unwrap_err();
    assert_eq!(e, QuantError::InvalidAxis { axis: 2, ndim: 2 });

    let mut m2 = Array2::<f32>::ones((3, 4));
    m2[[2, 1]] = f32::NEG_INFINITY;
    let e = quantize_granular(
        m2.view(),
        &sch,
        Granularity::PerToken,
        &Calibrator::MinMax,
        R,
    )
    .unwrap_err();
    assert_eq!(msg(e), "the data contains 1 NaN/Inf value; the first is at index 9 (row 2, column 1). Remove them, or ask to skip them");

    for bad in [
        Calibrator::Percentile { p: 50.0 },
        Calibrator::Percentile { p: 100.5 },
        Calibrator::Percentile { p: f64::NAN },
        Calibrator::MovingAverage {
            momentum: 0.0,
            batch_size: 4,
        },
        Calibrator::MovingAverage {
            momentum: 0.5,
            batch_size: 0,
        },
        Calibrator::Manual {
            alpha: f32::NAN,
            beta: 1.0,
        },
    ] {
        assert!(
            calibrate(&[1.0, 2.0], &sch, &bad)
                .as_ref()
                .is_err_and(|e| matches!(
                    e,
                    quantlab_engine::QuantError::InvalidParameter { .. }
                        | quantlab_engine::QuantError::InvalidRange { .. }
                )),
            "{bad:?}"
        );
    }
    assert!(matches!(
        QParams::new(0.0, 0, &sch),
        Err(QuantError::InvalidScale { .. })
    ));
    assert!(matches!(
        QParams::new(f32::NAN, 0, &sch),
        Err(QuantError::InvalidScale { .. })
    ));
    assert!(matches!(
        dequantize(&[0, 300], &p, &sch),
        Err(QuantError::CodeOutOfRange {
            code: 300,
            index: 1,
            ..
        })
    ));
    assert!(histogram(&[1.0], 10, f32::NAN, 1.0)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidRange { .. })));
}

#[test]
fn granularities() {
    let (shape, data, outliers) = llm_like(
        &LlmLike {
            tokens: 16,
            channels: 32,
            outlier_channels: 2,
            outlier_scale: 40.0,
        },
        5,
    )
    .unwrap();
    let x = Array2::from_shape_vec((shape[0], shape[1]), data).unwrap();
    let sch = Scheme::new(8, true, true, true).unwrap();
    let t = quantize_granular(
        x.view(),
        &sch,
        Granularity::PerTensor,
        &Calibrator::MinMax,
        R,
    )
    .unwrap();
    let c = quantize_granular(
        x.view(),
        &sch,
        Granularity::PerChannel { axis: 1 },
        &Calibrator::MinMax,
        R,
    )
    .unwrap();
    let k = quantize_granular(
        x.view(),
        &sch,
        Granularity::PerToken,
        &Calibrator::MinMax,
        R,
    )
    .unwrap();
    let g = quantize_granular(
        x.view(),
        &sch,
        Granularity::PerGroup { axis: 1, size: 8 },
        &Calibrator::MinMax,
        R,
    )
    .unwrap();
    let g0 = quantize_granular(
        x.view(),
        &sch,
        Granularity::PerGroup { axis: 0, size: 4 },
        &Calibrator::MinMax,
        R,
    )
    .unwrap();
    assert_eq!(
        (
            t.param_shape.clone(),
            c.param_shape.clone(),
            k.param_shape.clone()
        ),
        (vec![1], vec![32], vec![16])
    );
    assert_eq!(
        (g.param_shape.clone(), g0.param_shape.clone()),
        (vec![16, 4], vec![4, 32])
    );
    assert_eq!((g.groups.len(), g0.groups.len()), (64, 128));
    // Per-channel isolates the outlier channels: far less error than per-tensor.
    assert!(c.overall.mse < t.overall.mse / 10.0);
    let biggest = c
        .groups
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.params.scale.total_cmp(&b.1.params.scale))
        .unwrap()
        .0;
    assert!(outliers.contains(&biggest));
    // Per-channel group (g, c) of axis-0 groups covers rows 4g..4g+4 of column c.
    let col: Vec<f32> = x.column(3).iter().copied().take(8).skip(4).collect();
    let absmax = col.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    assert_eq!(g0.groups[32 + 3].beta, absmax);
    // Overall metrics add up the groups.
    let n: usize = g.groups.iter().map(|r| r.metrics.n).sum();
    assert_eq!(n, 16 * 32);
    let sse: f64 = g
        .groups
        .iter()
        .map(|r| r.metrics.mse * r.metrics.n as f64)
        .sum();
    assert!((sse / n as f64 - g.overall.mse).abs() < 1e-12);
    assert_eq!(t.dequantized.dim(), (16, 32));
    // A constant (dead) channel is fine per channel and reproduced exactly.
    let mut d = x.clone();
    d.column_mut(7).fill(0.0);
    let r = quantize_granular(
        d.view(),
        &sch,
        Granularity::PerChannel { axis: 1 },
        &Calibrator::Entropy,
        R,
    )
    .unwrap();
    assert!(r.dequantized.column(7).iter().all(|&v| v == 0.0));
}

#[test]
fn calibrators_trade_clipping_for_rounding() {
    let x = generate(
        &Distribution::Laplace {
            loc: 0.0,
            scale: 1.0,
        },
        16_384,
        11,
    )
    .unwrap();
    let sch = Scheme::seminar_int8().with_rounding(Rounding::HalfEven);
    let sym = Scheme {
        symmetric: true,
        ..sch
    };
    let mm = calibrate(&x, &sym, &Calibrator::MinMax).unwrap();
    let mse = calibrate(&x, &sym, &Calibrator::Mse).unwrap();
    let ent = calibrate(&x, &sym, &Calibrator::Entropy).unwrap();
    let pct = calibrate(&x, &sym, &Calibrator::Percentile { p: 99.99 }).unwrap();
    assert_eq!(mm.metrics.clipped, 0);
    assert!(mse.metrics.mse <= mm.metrics.mse);
    assert!(mse.beta < mm.beta && ent.beta < mm.beta && pct.beta < mm.beta);
    assert_eq!(mse.search.len(), 100);
    assert_eq!(ent.search.len(), 2048 - 128 + 1);
    assert!(ent.metrics.clipped > 0);
    let mv = calibrate(
        &x,
        &sym,
        &Calibrator::MovingAverage {
            momentum: 0.01,
            batch_size: 512,
        },
    )
    .unwrap();
    assert!(mv.beta <= mm.beta);
}

#[test]
fn histogram_counts_everything() {
    let x = generate(
        &Distribution::Gaussian {
            mean: 0.0,
            std: 1.0,
        },
        10_000,
        1,
    )
    .unwrap();
    let mut y = x.clone();
    y.push(f32::NAN);
    let h = histogram(&y, 256, -2.0, 2.0).unwrap();
    assert_eq!(
        h.total() + u64::from(h.underflow + h.overflow + h.nan),
        y.len() as u64
    );
    assert_eq!(h.nan, 1);
    assert_eq!(h.edges().len(), 257);
    assert_eq!(h.edge(256), 2.0);
    assert_eq!(h.log_counts().len(), 256);
    let k = kurtosis(&x, R).unwrap();
    assert!((k - 3.0).abs() < 0.2);
}

#[test]
fn npy_roundtrip_in_memory() {
    let d: Vec<f32> = (0..12).map(|i| i as f32 / 3.0).collect();
    for shape in [vec![12], vec![3, 4], vec![12, 1]] {
        let b = write_npy_f32(&shape, &d).unwrap();
        assert_eq!(b.len() % 64, (d.len() * 4) % 64);
        let a = read_npy(&b, &NpyLimits::default()).unwrap();
        assert_eq!(
            (a.shape, a.data.clone(), a.dtype),
            (shape, d.clone(), NpyDtype::F32)
        );
    }
    let small = NpyLimits {
        max_elements: 10,
        ..NpyLimits::default()
    };
    let b = write_npy_f32(&[12], &d).unwrap();
    assert!(matches!(
        read_npy(&b, &small),
        Err(QuantError::TooLarge { .. })
    ));
    assert!(write_npy_f32(&[2, 2, 3], &d)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::NpyUnsupportedDims { .. })));
    assert!(write_npy_f32(&[5], &d)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::ShapeMismatch { .. })));
}
