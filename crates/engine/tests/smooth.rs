//! Layer error, outliers and SmoothQuant on small synthetic inputs, checked against
//! hand-written references (plain loops, f64). Runs natively and on wasm32.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use ndarray::Array2;
use quantlab_engine::linear::{
    layer_error, quantize_symmetric, ActGranularity, LayerCase, LayerQuant, ScaleAxis,
    WeightGranularity,
};
use quantlab_engine::outliers::{
    ablate, ablate_top_k, column_absmax, granularity_table, median, outlier_stats, row_absmax,
    weight_profiles, Ablation, ChannelProfile,
};
use quantlab_engine::smooth::{alpha_grid, smooth_scales, SmoothCase};
use quantlab_engine::synth::Pcg32;
use quantlab_engine::QuantError;

/// A small layer with one systematic outlier channel (2) and one [CLS]-like spike (row 0).
fn layer(t: usize, c: usize, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Pcg32::new(seed);
    let mut x: Vec<f32> = (0..t * c).map(|_| rng.normal() as f32).collect();
    for r in 0..t {
        x[r * c + 2] = x[r * c + 2] * 3.0 - 9.0;
    }
    x[1] = 40.0;
    let w: Vec<f32> = (0..c * n).map(|_| (rng.normal() * 0.1) as f32).collect();
    (x, w)
}

/// fake_quant.py by hand: s = max(absmax, 1e-5)/q_max per group, round(x/s)*s.
fn fq(x: &[f32], rows: usize, cols: usize, bits: u8, per: &str) -> Vec<f32> {
    let qm = ((1 << (bits - 1)) - 1) as f32;
    let mut out = vec![0f32; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            let m = match per {
                "row" => (0..cols)
                    .map(|j| x[r * cols + j].abs())
                    .fold(0f32, f32::max),
                "col" => (0..rows)
                    .map(|i| x[i * cols + c].abs())
                    .fold(0f32, f32::max),
                _ => x.iter().map(|v| v.abs()).fold(0f32, f32::max),
            };
            let s = m.max(1e-5) / qm;
            out[r * cols + c] = (x[r * cols + c] / s).round_ties_even() * s;
        }
    }
    out
}

fn rel_err_ref(xh: &[f32], wh: &[f32], x: &[f32], w: &[f32], t: usize, k: usize, n: usize) -> f64 {
    let (mut e2, mut y2) = (0f64, 0f64);
    for i in 0..t {
        for j in 0..n {
            let (mut a, mut b) = (0f64, 0f64);
            for c in 0..k {
                a += f64::from(xh[i * k + c]) * f64::from(wh[c * n + j]);
                b += f64::from(x[i * k + c]) * f64::from(w[c * n + j]);
            }
            e2 += (a - b) * (a - b);
            y2 += b * b;
        }
    }
    (e2 / y2).sqrt()
}

#[test]
fn layer_error_matches_a_hand_written_fake_quant() {
    let (t, c, n) = (9, 16, 11);
    let (x, w) = layer(t, c, n, 1);
    let case = LayerCase::from_vecs(x.clone(), t, c, w.clone(), n).unwrap();
    for (wb, ab) in [(8, 8), (4, 8), (4, 4), (2, 3)] {
        for (act, per) in [
            (ActGranularity::PerToken, "row"),
            (ActGranularity::PerTensor, "all"),
            (ActGranularity::PerChannel, "col"),
        ] {
            for (wg, wper) in [
                (WeightGranularity::PerOutputChannel, "col"),
                (WeightGranularity::PerTensor, "all"),
            ] {
                let cfg = LayerQuant {
                    w_bits: wb,
                    a_bits: ab,
                    act,
                    weights: wg,
                };
                let e = case.error(&cfg).unwrap();
                let want = rel_err_ref(
                    &fq(&x, t, c, ab, per),
                    &fq(&w, c, n, wb, wper),
                    &x,
                    &w,
                    t,
                    c,
                    n,
                );
                assert!(
                    (e.rel_err - want).abs() <= 1e-6 * want,
                    "{cfg:?}: {} vs {want}",
                    e.rel_err
                );
            }
        }
        // Float sides.
        let cfg = LayerQuant::new(wb, ab, ActGranularity::Float);
        let want = rel_err_ref(&x, &fq(&w, c, n, wb, "col"), &x, &w, t, c, n);
        assert!((case.error(&cfg).unwrap().rel_err - want).abs() <= 1e-5 * want);
        let cfg = LayerQuant::new(wb, ab, ActGranularity::PerToken)
            .with_weights(WeightGranularity::Float);
        let want = rel_err_ref(&fq(&x, t, c, ab, "row"), &w, &x, &w, t, c, n);
        assert!((case.error(&cfg).unwrap().rel_err - want).abs() <= 1e-5 * want);
    }
    let both_float =
        LayerQuant::new(8, 8, ActGranularity::Float).with_weights(WeightGranularity::Float);
    assert!(case.error(&both_float).unwrap().rel_err < 1e-6);
    // layer_error is the one-off version.
    let xa = Array2::from_shape_vec((t, c), x).unwrap();
    let wa = Array2::from_shape_vec((c, n), w).unwrap();
    let cfg = LayerQuant::default();
    assert_eq!(
        layer_error(xa.view(), wa.view(), &cfg).unwrap(),
        case.error(&cfg).unwrap()
    );
}

#[test]
fn quantized_codes_and_component_errors() {
    let x = [0.5f32, -1.0, 0.25, 3.0, 0.0, -3.0];
    let q = quantize_symmetric(&x, 2, 3, 8, ScaleAxis::Rows).unwrap();
    assert_eq!(q.codes, vec![64, -127, 32, 127, 0, -127]);
    assert_eq!(q.scales, vec![1.0 / 127.0, 3.0 / 127.0]);
    let z = quantize_symmetric(&[0.0; 4], 2, 2, 4, ScaleAxis::Tensor).unwrap();
    assert_eq!(
        (z.codes, z.rel_err, z.scales),
        (vec![0; 4], 0.0, vec![1e-5 / 7.0])
    );
    assert!(matches!(
        quantize_symmetric(&x, 2, 3, 9, ScaleAxis::Rows),
        Err(QuantError::InvalidBits { bits: 9 })
    ));
    assert!(quantize_symmetric(&x, 4, 3, 8, ScaleAxis::Rows)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    // x_rel_err and w_rel_err are the plain round-trip errors.
    let (t, c, n) = (5, 8, 6);
    let (xv, wv) = layer(t, c, n, 2);
    let case = LayerCase::from_vecs(xv.clone(), t, c, wv.clone(), n).unwrap();
    let e = case
        .error(&LayerQuant::new(4, 4, ActGranularity::PerToken))
        .unwrap();
    let xh = fq(&xv, t, c, 4, "row");
    let d: f64 = xv
        .iter()
        .zip(&xh)
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let nx: f64 = xv.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
    assert!((e.x_rel_err - d / nx).abs() < 1e-9);
    assert!(e.w_rel_err > 0.0 && e.rel_err > 0.0 && e.ref_norm > 0.0);
    assert!((e.abs_err / e.ref_norm - e.rel_err).abs() < 1e-15);
}

#[test]
fn bad_layers_are_errors() {
    let x = Array2::<f32>::ones((3, 4));
    let w = Array2::<f32>::ones((5, 2));
    assert!(matches!(
        layer_error(x.view(), w.view(), &LayerQuant::default()),
        Err(QuantError::ShapeMismatch { .. })
    ));
    let mut xn = Array2::<f32>::ones((3, 4));
    xn[[1, 2]] = f32::NAN;
    let w4 = Array2::<f32>::ones((4, 2));
    assert!(matches!(
        layer_error(xn.view(), w4.view(), &LayerQuant::default()),
        Err(QuantError::NonFinite {
            first_row_col: Some((1, 2)),
            ..
        })
    ));
    assert!(LayerCase::from_vecs(vec![], 0, 4, vec![1.0; 8], 2)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
    assert!(LayerCase::from_vecs(vec![1.0; 12], 3, 4, vec![1.0; 7], 2)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    let case = LayerCase::from_vecs(vec![1.0; 12], 3, 4, vec![1.0; 8], 2).unwrap();
    assert!(case
        .error(&LayerQuant::new(1, 8, ActGranularity::PerToken))
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidBits { .. })));
    assert!(case
        .error_with(&[1.0; 11], &[1.0; 8], &LayerQuant::default())
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
}

#[test]
fn smooth_scales_follow_smooth_py() {
    let act = [4.0f32, 0.0, 9.0, 1.0];
    let w = [1.0f32, 2.0, 0.0, 0.25];
    let s = smooth_scales(&act, &w, 0.5).unwrap();
    assert!((s[0] - 2.0).abs() < 1e-6);
    // act 0 → 0^α = 0 → clamped to 1e-5.
    assert_eq!(s[1], 1e-5);
    // w 0 → clamped to 1e-5 before the power: 3 / sqrt(1e-5).
    assert!((s[2] - (3.0 / 1e-5f64.sqrt()) as f32).abs() / s[2] < 1e-6);
    assert!((s[3] - 2.0).abs() < 1e-6);
    // α = 0 is not "no smoothing": s = 1 / max(w, 1e-5) (0^0 = 1).
    let s0 = smooth_scales(&act, &w, 0.0).unwrap();
    assert_eq!(s0, vec![1.0, 0.5, 100_000.0, 4.0]);
    // α = 1: s = act (clamped).
    assert_eq!(
        smooth_scales(&act, &w, 1.0).unwrap(),
        vec![4.0, 1e-5, 9.0, 1.0]
    );
    for bad in [-0.1f32, 1.5, f32::NAN] {
        assert!(smooth_scales(&act, &w, bad)
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    }
    assert!(smooth_scales(&act, &w[..3], 0.5)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(smooth_scales(&[-1.0], &[1.0], 0.5)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
}

#[test]
fn alpha_grid_has_no_drift() {
    let g = alpha_grid(0.0, 1.0, 0.05).unwrap();
    assert_eq!(g.len(), 21);
    for (i, &a) in g.iter().enumerate() {
        assert_eq!(a, (i as f64 * 0.05) as f32);
    }
    assert_eq!(*g.last().unwrap(), 1.0);
    assert_eq!(g[9], 0.45);
    assert_eq!(alpha_grid(0.0, 1.0, 0.3).unwrap(), vec![0.0, 0.3, 0.6, 0.9]);
    assert_eq!(alpha_grid(0.5, 0.5, 0.1).unwrap(), vec![0.5]);
    for (a, b, c) in [
        (0.5, 0.4, 0.1),
        (0.0, 1.0, 0.0),
        (0.0, 1.0, -0.1),
        (-0.5, 1.0, 0.1),
        (0.0, 1.0, 1e-6),
    ] {
        assert!(
            alpha_grid(a, b, c).as_ref().is_err_and(|e| matches!(
                e,
                quantlab_engine::QuantError::InvalidParameter { .. }
                    | quantlab_engine::QuantError::TooLarge { .. }
            )),
            "{a}:{b}:{c}"
        );
    }
}

#[test]
fn smoothing_is_an_identity_in_float_and_helps_the_outlier_layer() {
    let (t, c, n) = (24, 32, 20);
    let (x, w) = layer(t, c, n, 3);
    let sc = SmoothCase::new(LayerCase::from_vecs(x.clone(), t, c, w.clone(), n).unwrap()).unwrap();
    for alpha in [0.0, 0.3, 0.5, 0.8, 1.0] {
        let id = sc.identity_check(alpha).unwrap();
        assert!(
            id.rel_frobenius < 1e-5 && id.max_rel < 1e-5,
            "{alpha}: {id:?}"
        );
        // The smoothed error equals fake-quantizing X/s and s·W by hand.
        let s = sc.scales(alpha).unwrap();
        let x2: Vec<f32> = x.iter().enumerate().map(|(i, &v)| v / s[i % c]).collect();
        let w2: Vec<f32> = w.iter().enumerate().map(|(i, &v)| v * s[i / n]).collect();
        let (xa, wa) = sc.apply(&s).unwrap();
        assert_eq!((xa.clone(), wa.clone()), (x2.clone(), w2.clone()));
        let e = sc.error_at(alpha, &LayerQuant::default()).unwrap();
        let want = rel_err_ref(
            &fq(&x2, t, c, 8, "row"),
            &fq(&w2, c, n, 8, "col"),
            &x,
            &w,
            t,
            c,
            n,
        );
        assert!((e.rel_err - want).abs() <= 1e-6 * want);
        // Profiles after smoothing, without touching X.
        let (pa, pw) = sc.smoothed_profiles(&s).unwrap();
        assert_eq!(pa, column_absmax(&x2, t, c).unwrap());
        assert_eq!(pw, row_absmax(&w2, c, n).unwrap());
    }
    let cfg = LayerQuant::new(8, 8, ActGranularity::PerTensor);
    let sw = sc.sweep(&alpha_grid(0.0, 1.0, 0.1).unwrap(), &cfg).unwrap();
    assert_eq!(sw.points.len(), 11);
    assert_eq!(sw.baseline, sc.baseline(&cfg).unwrap());
    let min = sw
        .points
        .iter()
        .map(|p| p.error.rel_err)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(sw.best_rel_err, min);
    assert!(sw.best_rel_err < sw.baseline.rel_err);
    assert!(sc
        .sweep(&[], &cfg)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
    assert!(sc
        .error_with_scales(&[1.0; 3], &cfg)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(sc
        .error_with_scales(&vec![0.0; c], &cfg)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidScale { .. })));
    assert!(sc.float_floor().unwrap().rel_frobenius < 1e-5);
}

#[test]
fn outlier_statistics() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    assert!(median(&[]).is_nan());
    let p = ChannelProfile::new(vec![1.0, 8.0, 2.0, 2.0]);
    assert_eq!(
        (
            p.median,
            p.max,
            p.argmax,
            p.max_over_median,
            p.over_6x_median
        ),
        (2.0, 8.0, 1, 4.0, 0)
    );
    assert_eq!(p.top(2), vec![(1, 8.0), (2, 2.0)]);
    let (t, c, n) = (20, 12, 7);
    let (x, w) = layer(t, c, n, 4);
    let st = outlier_stats(&x, t, c, 3).unwrap();
    assert_eq!(st.absmax, 40.0);
    assert_eq!(st.absmax_at, (0, 1));
    assert_eq!(st.top[0].0, 1);
    assert_eq!(st.top[1].0, 2);
    assert!(st.kurtosis > 3.0 && st.token_kurtosis_mean > 1.0);
    assert!(outlier_stats(&x, t, c + 1, 3)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    let wp = weight_profiles(&w, c, n).unwrap();
    assert_eq!(wp.per_input_channel.absmax.len(), c);
    assert_eq!(wp.per_output_channel.absmax.len(), n);

    let case = LayerCase::from_vecs(x.clone(), t, c, w.clone(), n).unwrap();
    let all: Vec<usize> = (0..c).collect();
    assert!((ablate(&case, &all, Ablation::Zero).unwrap().rel_change - 1.0).abs() < 1e-12);
    assert_eq!(ablate(&case, &[], Ablation::Zero).unwrap().rel_change, 0.0);
    assert_eq!(
        ablate(&case, &[2], Ablation::Clip(1e9)).unwrap().rel_change,
        0.0
    );
    assert!(ablate(&case, &[c], Ablation::Zero)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(ablate(&case, &[0], Ablation::Clip(-1.0))
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    // Zeroing channel 2 by hand.
    let r = ablate(&case, &[2, 2], Ablation::Zero).unwrap();
    assert_eq!(r.channels, vec![2]);
    let (mut d2, mut y2) = (0f64, 0f64);
    for i in 0..t {
        for j in 0..n {
            let y: f64 = (0..c)
                .map(|k| f64::from(x[i * c + k]) * f64::from(w[k * n + j]))
                .sum();
            let dy = f64::from(x[i * c + 2]) * f64::from(w[2 * n + j]);
            d2 += dy * dy;
            y2 += y * y;
        }
    }
    assert!((r.rel_change - (d2 / y2).sqrt()).abs() < 1e-9);
    let top = ablate_top_k(&case, 2, Ablation::ClipToMedian).unwrap();
    assert_eq!(top.channels, vec![1, 2]);
    assert!(top.rel_change > 0.0 && top.x_rel_change > 0.0);

    let g = granularity_table(&case, &[8, 4], WeightGranularity::Float, 8).unwrap();
    assert_eq!(g.len(), 6);
    for row in &g {
        let cfg = LayerQuant::new(8, row.a_bits, row.act).with_weights(WeightGranularity::Float);
        assert_eq!(row.y_rel_err, case.error(&cfg).unwrap().rel_err);
    }
    // Per-tensor is the worst at either width on this layer (it has a 40.0 spike).
    assert!(g[0].x_rel_err > g[1].x_rel_err && g[0].x_rel_err > g[2].x_rel_err);
}
