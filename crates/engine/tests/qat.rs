//! The QAT chapter's engine: the digits data and split, fake quantization with the STE and
//! learned step sizes (LSQ), gradient checks by finite differences, FP32 training, PTQ vs QAT,
//! determinism (bit-identical, also between native and wasm32) and the chunked live API.
//! Runs natively and on wasm32 (Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::sync::Arc;

use quantlab_engine::qat::*;
use quantlab_engine::{fake_quantize, NonFinitePolicy, QParams, QuantError, Scheme};

const DIGITS: &[u8] = include_bytes!("../../../assets/data/digits/digits.bin");

fn digits() -> Arc<Split> {
    Arc::new(Split::digits_from_bin(DIGITS).unwrap())
}

// ---------------------------------------------------------------- data

#[test]
fn digits_file_and_split() {
    let d = Digits::from_bin(DIGITS).unwrap();
    assert_eq!(d.len(), 1797);
    assert_eq!(
        d.class_counts(),
        [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
    assert_eq!(d.to_bin(), DIGITS);
    // The first image of the file is a 0 (scikit-learn's digits.images[0]).
    assert_eq!(d.label(0), Some(0));
    assert_eq!(
        d.image(0).unwrap()[..16],
        [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    );
    assert_eq!(d.image(1797), None);
    assert_eq!(d.image(usize::MAX), None);

    let s = d.split().unwrap();
    assert_eq!((s.train.len(), s.test.len()), (1442, 355));
    // Stratified: every fifth image of each class (positions 4, 9, … in the class) is a test image.
    let mut per_class = [0usize; 10];
    for &y in s.test.y() {
        per_class[y as usize] += 1;
    }
    assert_eq!(per_class, [35, 36, 35, 36, 36, 36, 36, 35, 34, 36]);
    let mask = d.test_mask();
    for c in 0..10u8 {
        let rows: Vec<usize> = (0..d.len()).filter(|&i| d.label(i) == Some(c)).collect();
        for (k, &i) in rows.iter().enumerate() {
            assert_eq!(mask[i], k % 5 == 4);
        }
    }
    // Disjoint, complete, file order kept, pixels ÷ 16.
    let mut all: Vec<u32> = s
        .train
        .source_rows()
        .iter()
        .chain(s.test.source_rows())
        .copied()
        .collect();
    assert!(s.train.source_rows().windows(2).all(|w| w[0] < w[1]));
    all.sort();
    assert_eq!(all, (0..1797).collect::<Vec<u32>>());
    let r = s.test.source_rows()[3] as usize;
    let want: Vec<f32> = d
        .image(r)
        .unwrap()
        .iter()
        .map(|&p| p as f32 / 16.0)
        .collect();
    assert_eq!(s.test.sample(3).unwrap(), &want[..]);
    assert!(s.train.x().iter().all(|&v| (0.0..=1.0).contains(&v)));
}

#[test]
fn bad_digits_files_are_errors() {
    let bad = |b: &[u8]| matches!(Digits::from_bin(b), Err(QuantError::BadDataFile { .. }));
    assert!(bad(&[]));
    assert!(bad(&DIGITS[..10]));
    assert!(bad(&DIGITS[..DIGITS.len() - 1]));
    let mut b = DIGITS.to_vec();
    b[0] = b'X';
    assert!(bad(&b));
    let mut b = DIGITS.to_vec();
    b[16 + 5] = 17; // a pixel above 16
    assert!(bad(&b));
    let mut b = DIGITS.to_vec();
    let last = b.len() - 1;
    b[last] = 10; // a label above 9
    assert!(bad(&b));
    let mut b = DIGITS.to_vec();
    b[8..12].copy_from_slice(&u32::MAX.to_le_bytes()); // hostile image count
    assert!(bad(&b));
    let mut b = DIGITS.to_vec();
    b[12..16].copy_from_slice(&63u32.to_le_bytes());
    assert!(bad(&b));
    // CSV.
    let line: String = (0..64).map(|i| format!("{},", i % 17)).collect::<String>() + "3";
    let d = Digits::from_csv(&format!("{line}\n\n{line}\n")).unwrap();
    assert_eq!((d.len(), d.label(1)), (2, Some(3)));
    assert!(Digits::from_csv("1,2,3")
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::BadDataFile { .. })));
    assert!(Digits::from_csv(&line.replace(",3", ",x"))
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::BadDataFile { .. })));
    assert!(Digits::from_csv("")
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
    assert!(Dataset::new(vec![0.0; 3], vec![0, 1], 2, 10)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(Dataset::new(vec![0.0; 4], vec![0, 10], 2, 10)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(Dataset::new(vec![f32::NAN, 0.0], vec![0], 2, 10)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::NonFinite { .. })));
}

// ---------------------------------------------------------------- fake quantization

#[test]
fn fake_quant_matches_the_engine_bitwise() {
    let mut r = quantlab_engine::synth::Pcg32::new(3);
    for bits in 2..=8u8 {
        for (kind, scheme) in [
            (
                QuantKind::Weights,
                Scheme::new(bits, true, true, true).unwrap(),
            ),
            (
                QuantKind::Activations,
                Scheme::new(bits, false, false, false).unwrap(),
            ),
        ] {
            let s = 0.0371f32 * bits as f32;
            let x: Vec<f32> = (0..2000).map(|_| (r.normal() * 2.0) as f32).collect();
            let q = Quantizer::new("t", kind, bits, vec![s], 2000).unwrap();
            let mut mine = Vec::new();
            q.apply(&x, 1, &mut mine);
            let p = QParams::new(s, 0, &scheme).unwrap();
            let (eng, _) = fake_quantize(&x, &p, &scheme, NonFinitePolicy::Reject).unwrap();
            let diff = mine
                .iter()
                .zip(&eng)
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert_eq!(
                diff, None,
                "{kind:?} {bits} bits: first difference at {diff:?}"
            );
            assert_eq!((q.qmin(), q.qmax()), (scheme.qmin(), scheme.qmax()));
        }
    }
}

#[test]
fn ste_and_lsq_derivatives_per_value() {
    // 3-bit weights: grid [−3, 3], s = 0.5 → [α, β] = [−1.5, 1.5].
    let (qmin, qmax) = (-3.0, 3.0);
    let v = fake_quant_ste(0.6, 0.5, qmin, qmax); // v = 1.2 → q = 1
    assert_eq!((v.value, v.pass), (0.5, 1.0));
    assert!((v.d_step - (1.0 - 1.2)).abs() < 1e-6);
    // Saturated values: no gradient to the input, their gradient goes to the bound they hit.
    let hi = fake_quant_ste(2.0, 0.5, qmin, qmax);
    assert_eq!((hi.value, hi.pass, hi.d_step), (1.5, 0.0, 3.0));
    let lo = fake_quant_ste(-7.0, 0.5, qmin, qmax);
    assert_eq!((lo.value, lo.pass, lo.d_step), (-1.5, 0.0, -3.0));
    // Exactly on β counts as inside (gradient 1 on the closed range [α, β]).
    assert_eq!(fake_quant_ste(1.5, 0.5, qmin, qmax).pass, 1.0);
    // Unsigned activation grid at 2 bits: [0, 3]; ReLU zeros stay exact zeros.
    let z = fake_quant_ste(0.0, 0.25, 0.0, 3.0);
    assert_eq!((z.value, z.pass, z.d_step), (0.0, 1.0, 0.0));

    // LSQ's gradient scale.
    let q = Quantizer::new("W", QuantKind::Weights, 4, vec![0.1; 8], 64).unwrap();
    assert!((q.lsq_grad_scale() - 1.0 / (64.0f32 * 7.0).sqrt()).abs() < 1e-7);
    assert_eq!(q.ranges()[0], (-7.0f32 * 0.1, 7.0f32 * 0.1));
    assert!(Quantizer::new("W", QuantKind::Weights, 4, vec![0.0], 1)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidScale { .. })));
    assert!(Quantizer::new("W", QuantKind::Weights, 9, vec![0.1], 1)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidBits { .. })));
    assert!(Quantizer::new("W", QuantKind::Weights, 4, vec![], 1)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
}

#[test]
fn ste_curves() {
    let c = round_ste_curve(-2.0, 2.0, 81).unwrap();
    assert_eq!(c.len(), 81);
    assert_eq!((c[0].x, c[80].x), (-2.0, 2.0));
    for p in &c {
        assert_eq!(p.forward, p.x.round_ties_even());
        assert_eq!((p.surrogate, p.true_grad, p.ste_grad), (p.x, 0.0, 1.0));
    }
    // 2-bit activations, s = 0.5: x̂ ∈ {0, 0.5, 1, 1.5}, the STE passes gradient on [0, 1.5] only.
    let c = fake_quant_ste_curve(QuantKind::Activations, 2, 0.5, -1.0, 3.0, 41).unwrap();
    for p in &c {
        assert!([0.0, 0.5, 1.0, 1.5].contains(&p.forward));
        let inside = (0.0..=1.5).contains(&p.x);
        assert_eq!(p.ste_grad, if inside { 1.0 } else { 0.0 }, "x = {}", p.x);
        assert_eq!(p.surrogate, p.x.clamp(0.0, 1.5));
    }
    assert!(round_ste_curve(1.0, 1.0, 10)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidRange { .. })));
    assert!(round_ste_curve(0.0, 1.0, 1)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(
        fake_quant_ste_curve(QuantKind::Weights, 4, -1.0, 0.0, 1.0, 10)
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidScale { .. }))
    );
}

// ---------------------------------------------------------------- gradient checks
//
// The analytic gradients (the engine, f32) are compared with central finite differences of an
// independent f64 re-implementation of the network written below. With quantization, the
// function differentiated is LSQ's *surrogate*: each fake-quantized value is
//     x̃ = s·clamp(x/s, qmin, qmax) + s·r,   r = round(v₀) − v₀ (v₀ clipped to the grid) frozen
// at the base point, which is exactly what "STE for round, true derivative for the clip" means.
// Kinks are avoided, not smoothed: the test picks the first seed whose base point has every
// quantized value at least 0.02 (in units of its step) away from the clip bounds and at least
// 0.02 away from a rounding tie (so f32 and f64 agree on round), and every pre-ReLU value at
// least 1e-3 away from 0; exact zeros (pixels, inactive ReLUs) stay exact under perturbation.
// The perturbation (1e-5) moves any v by far less than those margins. The test also checks that
// the chosen point really has values clipped at α and at β and values inside.

struct Net {
    i: usize,
    h: usize,
    c: usize,
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: Vec<f64>,
    /// Step sizes: input (1), W1 (h or 1), hidden (1), W2 (c or 1).
    s: [Vec<f64>; 4],
}

struct Grid {
    w: (f64, f64),
    a: (f64, f64),
}

/// Rounding residuals frozen at the base point, for x̃, W̃1, h̃, W̃2.
#[derive(Default, Clone)]
struct Frozen {
    r: [Vec<f64>; 4],
}

/// How close to a kink the values of one forward pass come.
#[derive(Default, Debug)]
struct Kinks {
    min_clip_gap: f64,
    min_tie_gap: f64,
    min_relu_gap: f64,
    clipped_lo: usize,
    clipped_hi: usize,
    inside: usize,
}

fn step_of(s: &[f64], col: usize) -> f64 {
    if s.len() == 1 {
        s[0]
    } else {
        s[col]
    }
}

/// One surrogate value; records the residual / kink distances when `record`.
fn sur(
    x: f64,
    s: f64,
    (qmin, qmax): (f64, f64),
    r: Option<f64>,
    out_r: &mut Vec<f64>,
    k: &mut Kinks,
) -> f64 {
    let v = x / s;
    let vc = v.clamp(qmin, qmax);
    let res = match r {
        Some(r) => r,
        None => {
            let res = vc.round_ties_even() - vc;
            out_r.push(res);
            if x != 0.0 {
                k.min_clip_gap = k.min_clip_gap.min((v - qmin).abs()).min((v - qmax).abs());
                if v > qmin && v < qmax {
                    k.min_tie_gap = k.min_tie_gap.min((v - v.floor() - 0.5).abs());
                    k.inside += 1;
                } else if v <= qmin {
                    k.clipped_lo += 1;
                } else {
                    k.clipped_hi += 1;
                }
            }
            res
        }
    };
    s * vc + s * res
}

/// Mean cross-entropy of the f64 network; `quant`: None = float, Some(frozen or not).
fn loss_ref(
    n: &Net,
    x: &[f64],
    y: &[u8],
    quant: Option<(&Grid, Option<&Frozen>)>,
    rec: &mut Frozen,
    k: &mut Kinks,
) -> f64 {
    let b = y.len();
    let q = |t: usize,
             val: f64,
             s: f64,
             g: (f64, f64),
             idx: usize,
             rec: &mut Frozen,
             k: &mut Kinks|
     -> f64 {
        match quant {
            None => val,
            Some((_, fr)) => {
                let r = fr.map(|f| f.r[t][idx]);
                sur(val, s, g, r, &mut rec.r[t], k)
            }
        }
    };
    let (gw, ga) = quant
        .map(|(g, _)| (g.w, g.a))
        .unwrap_or(((0.0, 0.0), (0.0, 0.0)));
    let w1t: Vec<f64> = (0..n.i * n.h)
        .map(|e| q(1, n.w1[e], step_of(&n.s[1], e % n.h), gw, e, rec, k))
        .collect();
    let w2t: Vec<f64> = (0..n.h * n.c)
        .map(|e| q(3, n.w2[e], step_of(&n.s[3], e % n.c), gw, e, rec, k))
        .collect();
    let mut total = 0.0;
    for r in 0..b {
        let xt: Vec<f64> = (0..n.i)
            .map(|i| q(0, x[r * n.i + i], n.s[0][0], ga, r * n.i + i, rec, k))
            .collect();
        let mut ht = vec![0.0; n.h];
        for j in 0..n.h {
            let mut z = n.b1[j];
            for i in 0..n.i {
                z += xt[i] * w1t[i * n.h + j];
            }
            k.min_relu_gap = k.min_relu_gap.min(z.abs());
            let hv = z.max(0.0);
            ht[j] = q(2, hv, n.s[2][0], ga, r * n.h + j, rec, k);
        }
        let mut logits = vec![0.0; n.c];
        for (o, l) in logits.iter_mut().enumerate() {
            *l = n.b2[o];
            for j in 0..n.h {
                *l += ht[j] * w2t[j * n.c + o];
            }
        }
        let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
        total += lse - logits[y[r] as usize];
    }
    total / b as f64
}

fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&a| a as f64).collect()
}

/// Checks every analytic gradient against the f64 finite difference; returns how many.
fn check_gradients(seed: u64, quantized: bool) -> Option<usize> {
    let (i, h, c, b) = (6usize, 5usize, 3usize, 4usize);
    let (bw, ba) = (3u8, 3u8);
    let model = Mlp::new(i, h, c, seed).unwrap();
    let mut r = quantlab_engine::synth::Pcg32::new(seed ^ 0xabcd);
    // Pixels in [0, 1) with some exact zeros, like the digits.
    let x: Vec<f32> = (0..b * i)
        .map(|_| {
            let u = r.next_f64();
            if u < 0.25 {
                0.0
            } else {
                r.next_f64() as f32
            }
        })
        .collect();
    let y: Vec<u8> = (0..b).map(|k| (k % c) as u8).collect();
    // Step sizes chosen so that a fair share of the values clip: β at ~75 % of each max.
    let colmax = |w: &[f32], cols: usize, j: usize| {
        w.iter()
            .skip(j)
            .step_by(cols)
            .fold(0.0f32, |m, v| m.max(v.abs()))
    };
    let qw = 3.0f32; // 2^(3−1) − 1
    let qa = 7.0f32; // 2^3 − 1
    let s_w1: Vec<f32> = (0..h)
        .map(|j| 0.75 * colmax(model.w1(), h, j) / qw)
        .collect();
    let s_w2: Vec<f32> = (0..c)
        .map(|j| 0.75 * colmax(model.w2(), c, j) / qw)
        .collect();
    let hmax = model
        .hidden_activations(&x, b)
        .unwrap()
        .iter()
        .fold(0.0f32, |m, &v| m.max(v));
    if hmax <= 0.0 {
        return None;
    }
    let quant = QuantizerSet {
        input: Some(
            Quantizer::new("input", QuantKind::Activations, ba, vec![0.8 / qa], i).unwrap(),
        ),
        w1: Quantizer::new("W1", QuantKind::Weights, bw, s_w1.clone(), i).unwrap(),
        hidden: Quantizer::new(
            "hidden",
            QuantKind::Activations,
            ba,
            vec![0.75 * hmax / qa],
            h,
        )
        .unwrap(),
        w2: Quantizer::new("W2", QuantKind::Weights, bw, s_w2.clone(), h).unwrap(),
    };
    let q = if quantized { Some(&quant) } else { None };
    let (loss, g) = gradients(&model, q, &x, &y).unwrap();

    let net = Net {
        i,
        h,
        c,
        w1: to64(model.w1()),
        b1: to64(model.b1()),
        w2: to64(model.w2()),
        b2: to64(model.b2()),
        s: [
            to64(quant.input.as_ref().unwrap().steps()),
            to64(&s_w1),
            to64(quant.hidden.steps()),
            to64(&s_w2),
        ],
    };
    let grid = Grid {
        w: (-3.0, 3.0),
        a: (0.0, 7.0),
    };
    let x64 = to64(&x);
    let mut frozen = Frozen::default();
    let mut k = Kinks {
        min_clip_gap: f64::INFINITY,
        min_tie_gap: f64::INFINITY,
        min_relu_gap: f64::INFINITY,
        ..Default::default()
    };
    let base = loss_ref(
        &net,
        &x64,
        &y,
        quantized.then_some((&grid, None)),
        &mut frozen,
        &mut k,
    );
    if k.min_relu_gap < 1e-3 || (quantized && (k.min_clip_gap < 0.02 || k.min_tie_gap < 0.02)) {
        return None; // too close to a kink: try another seed
    }
    if quantized && (k.clipped_lo == 0 || k.clipped_hi == 0 || k.inside == 0) {
        return None; // this point would not exercise both clip bounds
    }
    assert!(
        (base - loss as f64).abs() < 1e-5 * base.abs().max(1.0),
        "loss {base} vs {loss}"
    );

    let eps = 1e-5;
    let mut checked = 0;
    let mut cmp = |what: String, analytic: f32, perturb: &dyn Fn(&mut Net, f64)| {
        let mut plus = Net {
            s: net.s.clone(),
            w1: net.w1.clone(),
            b1: net.b1.clone(),
            w2: net.w2.clone(),
            b2: net.b2.clone(),
            ..net
        };
        perturb(&mut plus, eps);
        let mut minus = Net {
            s: net.s.clone(),
            w1: net.w1.clone(),
            b1: net.b1.clone(),
            w2: net.w2.clone(),
            b2: net.b2.clone(),
            ..net
        };
        perturb(&mut minus, -eps);
        let fr = quantized.then_some((&grid, Some(&frozen)));
        let mut sink = Frozen::default();
        let mut kk = Kinks::default();
        let lp = loss_ref(&plus, &x64, &y, fr, &mut sink, &mut kk);
        let lm = loss_ref(&minus, &x64, &y, fr, &mut sink, &mut kk);
        let numeric = (lp - lm) / (2.0 * eps);
        let a = analytic as f64;
        assert!(
            (a - numeric).abs() <= 2e-4 * numeric.abs().max(a.abs()) + 2e-6,
            "seed {seed}, quantized {quantized}: d/d{what}: analytic {a:e} vs numeric {numeric:e}"
        );
        checked += 1;
    };
    for e in 0..i * h {
        cmp(format!("W1[{e}]"), g.w1[e], &|n, d| n.w1[e] += d);
    }
    for e in 0..h {
        cmp(format!("b1[{e}]"), g.b1[e], &|n, d| n.b1[e] += d);
    }
    for e in 0..h * c {
        cmp(format!("W2[{e}]"), g.w2[e], &|n, d| n.w2[e] += d);
    }
    for e in 0..c {
        cmp(format!("b2[{e}]"), g.b2[e], &|n, d| n.b2[e] += d);
    }
    if quantized {
        cmp("s_input".into(), g.s_input[0], &|n, d| n.s[0][0] += d);
        for j in 0..h {
            cmp(format!("s_W1[{j}]"), g.s_w1[j], &|n, d| n.s[1][j] += d);
        }
        cmp("s_hidden".into(), g.s_hidden[0], &|n, d| n.s[2][0] += d);
        for j in 0..c {
            cmp(format!("s_W2[{j}]"), g.s_w2[j], &|n, d| n.s[3][j] += d);
        }
    } else {
        assert!(g.s_input.is_empty() && g.s_w1.is_empty());
    }
    Some(checked)
}

#[test]
fn gradient_check_fp32() {
    let n = (0..200)
        .find_map(|seed| check_gradients(seed, false))
        .expect("no kink-free seed");
    assert_eq!(n, 6 * 5 + 5 + 5 * 3 + 3);
}

#[test]
fn gradient_check_fake_quant_ste_and_step_sizes() {
    let mut done = 0;
    for seed in 0..3000 {
        if let Some(n) = check_gradients(seed, true) {
            assert_eq!(n, 6 * 5 + 5 + 5 * 3 + 3 + 1 + 5 + 1 + 3);
            done += 1;
            if done == 3 {
                return; // three independent points checked
            }
        }
    }
    panic!("found only {done} kink-free points");
}

// ---------------------------------------------------------------- training

/// The default configuration (64 hidden units, seed 42) with fewer epochs.
fn quick_cfg() -> TrainConfig {
    let mut cfg = TrainConfig::default();
    cfg.fp32.epochs = 8;
    cfg.qat.phase.epochs = 3;
    cfg
}

#[test]
fn fp32_reaches_sensible_accuracy() {
    let mut cfg = quick_cfg();
    cfg.qat.phase.epochs = 0;
    let mut t = Trainer::new(cfg, digits()).unwrap();
    let p = t.run_to_end().unwrap();
    assert!(p.done);
    let acc = t.fp32_reference().unwrap().accuracy;
    assert!(acc >= 0.93, "FP32 test accuracy after 8 epochs: {acc}");
    let h = t.history();
    assert_eq!(h.len(), 8 + 1 + 1); // FP32 epochs 0..=8, then QAT epoch 0 (= PTQ)
    assert!(
        h[0].test.accuracy < 0.3,
        "random init should be near chance"
    );
    assert!(h[1..=8]
        .iter()
        .all(|r| r.phase == Phase::Fp32 && r.ptq.is_some() && r.train_loss.is_some()));
    assert_eq!(h[9].phase, Phase::Qat);
    assert_eq!(Some(h[9].test), t.ptq_reference());
    // Probabilities of one test image.
    let p = t
        .model()
        .predict_proba(t.data().test.sample(0).unwrap(), None)
        .unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn qat_beats_ptq_at_3_bits() {
    // The chapter's default configuration and seed (30 FP32 epochs, 10 QAT epochs), at W3A3.
    let mut cfg = TrainConfig::default();
    cfg.qat.spec = QuantSpec::new(3, 3);
    let data = digits();
    let mut t = Trainer::new(cfg, data.clone()).unwrap();
    t.run_to_end().unwrap();
    let fp32 = t.fp32_reference().unwrap().accuracy;
    let ptq = t.ptq_reference().unwrap().accuracy;
    let qat = t.evaluate().unwrap().accuracy;
    // The PTQ reference is an independent computation from the public PTQ function too.
    let ptq2 = ptq_accuracy(t.fp32_model().unwrap(), &data, 3, 3, &cfg.ptq).unwrap();
    assert_eq!(ptq, ptq2);
    eprintln!("W3A3: FP32 {fp32}, PTQ {ptq}, QAT {qat}");
    assert!(
        qat > ptq,
        "W3A3: QAT {qat} should beat PTQ {ptq} (FP32 {fp32})"
    );
    // At 2 bits PTQ collapses and QAT recovers most of it (by far more than test-set noise:
    // one test image is 0.28 points).
    let mut t2 = Trainer::from_fp32(
        TrainConfig {
            qat: QatConfig {
                spec: QuantSpec::new(2, 2),
                ..cfg.qat
            },
            ..cfg
        },
        data.clone(),
        t.fp32_model().unwrap().clone(),
    )
    .unwrap();
    t2.run_to_end().unwrap();
    let (ptq2b, qat2b) = (
        t2.ptq_reference().unwrap().accuracy,
        t2.evaluate().unwrap().accuracy,
    );
    eprintln!("W2A2: PTQ {ptq2b}, QAT {qat2b}");
    assert!(qat2b > ptq2b + 0.05, "W2A2: QAT {qat2b} vs PTQ {ptq2b}");
    // The learned ranges moved away from the PTQ calibration.
    let q = t.quantizers().unwrap();
    let ptq_q = calibrate_quantizers(
        t.fp32_model().unwrap(),
        &cfg.qat.spec,
        data.train.head(cfg.ptq.samples).0,
        &cfg.ptq,
    )
    .unwrap();
    assert_ne!(q.hidden.steps(), ptq_q.hidden.steps());
    assert_ne!(q.w1.steps(), ptq_q.w1.steps());
    assert_eq!(q.w1.steps().len(), 64);
    // The quantized weights take at most 2^3 − 1 = 7 values per channel.
    let wq = t.quantized_weights(Layer::Hidden).unwrap();
    for j in 0..64 {
        let mut vals: Vec<u32> = wq.iter().skip(j).step_by(64).map(|v| v.to_bits()).collect();
        vals.sort();
        vals.dedup();
        assert!(vals.len() <= 7, "channel {j}: {} levels", vals.len());
    }
}

#[test]
fn ptq_collapses_at_low_bits() {
    let mut cfg = quick_cfg();
    cfg.qat.phase.epochs = 0;
    let data = digits();
    let mut t = Trainer::new(cfg, data.clone()).unwrap();
    t.run_to_end().unwrap();
    let m = t.fp32_model().unwrap();
    let fp32 = t.fp32_reference().unwrap().accuracy;
    let a8 = ptq_accuracy(m, &data, 8, 8, &cfg.ptq).unwrap();
    let a2 = ptq_accuracy(m, &data, 2, 2, &cfg.ptq).unwrap();
    assert!((a8 - fp32).abs() <= 0.01, "W8A8 {a8} vs FP32 {fp32}");
    assert!(a2 < fp32 - 0.05, "W2A2 {a2} vs FP32 {fp32}");
    // Min-max and per-tensor variants run too.
    let mm = PtqConfig {
        calibration: ActCalibration::MinMax,
        ..cfg.ptq
    };
    let spec = QuantSpec {
        weight_granularity: WeightGranularity::PerTensor,
        quantize_input: false,
        ..QuantSpec::new(4, 8)
    };
    let e = ptq_evaluate(m, &data, &spec, &mm).unwrap();
    assert!(e.accuracy > 0.8);
}

/// FNV-1a over the bits of the weights, step sizes and curves.
fn fingerprint(t: &Trainer) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |v: u32| {
        for b in v.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    };
    let m = t.model();
    for v in m.w1().iter().chain(m.b1()).chain(m.w2()).chain(m.b2()) {
        eat(v.to_bits());
    }
    if let Some(q) = t.quantizers() {
        for z in q.all() {
            for s in z.steps() {
                eat(s.to_bits());
            }
        }
    }
    for r in t.history() {
        eat(r.test.loss.to_bits());
        eat(r.test.correct as u32);
        eat(r.train_loss.unwrap_or(0.0).to_bits());
    }
    h
}

fn small_cfg(seed: u64) -> TrainConfig {
    let d = TrainConfig::default();
    TrainConfig {
        seed,
        hidden: 24,
        fp32: PhaseConfig {
            epochs: 2,
            ..d.fp32
        },
        qat: QatConfig {
            spec: QuantSpec::new(3, 4),
            phase: PhaseConfig {
                epochs: 1,
                ..d.qat.phase
            },
            ..d.qat
        },
        ..d
    }
}

#[test]
fn deterministic_and_chunk_independent() {
    let data = digits();
    let mut a = Trainer::new(small_cfg(7), data.clone()).unwrap();
    a.run_to_end().unwrap();
    // One unit at a time, and with a fake clock, give the very same bits.
    let mut b = Trainer::new(small_cfg(7), data.clone()).unwrap();
    while !b.run_batches(1).unwrap().done {}
    let mut c = Trainer::new(small_cfg(7), data.clone()).unwrap();
    let mut clock = 0.0;
    let mut tick = || {
        clock += 1.0;
        clock
    };
    let mut calls = 0;
    while !c.run_for(5.0, &mut tick).unwrap().done {
        calls += 1;
    }
    assert!(calls > 10);
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_eq!(fingerprint(&a), fingerprint(&c));
    assert_eq!(a.model(), b.model());
    let mut d = Trainer::new(small_cfg(8), data).unwrap();
    d.run_to_end().unwrap();
    assert_ne!(fingerprint(&a), fingerprint(&d));
}

/// The same fingerprint natively and in wasm32: the trainer uses only IEEE basic operations in a
/// fixed order (no FMA, no libm), so the two platforms must agree to the bit. The constant was
/// produced by the native build; `cargo test --target wasm32-unknown-unknown --test qat` checks it
/// in Node.
#[test]
fn bit_identical_across_platforms() {
    let mut t = Trainer::new(small_cfg(7), digits()).unwrap();
    t.run_to_end().unwrap();
    assert_eq!(
        fingerprint(&t),
        GOLDEN_FINGERPRINT,
        "got {:#018x}",
        fingerprint(&t)
    );
}

const GOLDEN_FINGERPRINT: u64 = 0x4f37_a8c1_ae88_5a4c;

#[test]
fn progress_and_history_shape() {
    let cfg = small_cfg(1);
    let mut t = Trainer::new(cfg, digits()).unwrap();
    let p0 = t.progress();
    assert_eq!(
        (p0.phase, p0.epoch, p0.epochs, p0.batches_per_epoch, p0.done),
        (Phase::Fp32, 0, 2, 46, false)
    );
    assert!(t.quantizers().is_none() && t.quantized_weights(Layer::Output).is_none());
    let p = t.run_batches(2 + 10).unwrap(); // epoch-0 evaluation, input calibration, 10 batches
    assert_eq!((p.epoch, p.batch_in_epoch), (0, 10));
    assert!(p.fraction > 0.0 && p.fraction < 1.0);
    let p = t.run_to_end().unwrap();
    assert!(p.done && p.fraction == 1.0 && p.phase == Phase::Done);
    assert_eq!(t.run_batches(5).unwrap(), p);
    let h = t.history();
    let phases: Vec<(Phase, usize)> = h.iter().map(|r| (r.phase, r.epoch)).collect();
    assert_eq!(
        phases,
        [
            (Phase::Fp32, 0),
            (Phase::Fp32, 1),
            (Phase::Fp32, 2),
            (Phase::Qat, 0),
            (Phase::Qat, 1)
        ]
    );
    assert!(h[3].ranges.is_some() && h[4].ranges.is_some() && h[2].ranges.is_none());
    assert_eq!(h.last().unwrap().test, t.evaluate().unwrap());
    assert_eq!(t.fp32_reference(), Some(h[2].test));
    let q = t.quantizers().unwrap();
    assert_eq!(
        q.all().iter().map(|z| z.name()).collect::<Vec<_>>(),
        ["input", "W1", "hidden", "W2"]
    );
    for z in q.all() {
        for (a, b) in z.ranges() {
            assert!(a <= 0.0 && b > 0.0);
        }
    }
}

#[test]
fn from_fp32_and_comparison() {
    let data = digits();
    let mut cfg = small_cfg(3);
    cfg.qat.phase.epochs = 1;
    let mut c = Comparison::new(cfg, data.clone(), &[2, 8]).unwrap();
    let mut steps = 0;
    let mut last = 0.0;
    loop {
        let p = c.run_units(7).unwrap();
        assert!(p.fraction >= last);
        last = p.fraction;
        steps += 1;
        if p.done {
            break;
        }
    }
    assert!(steps > 5);
    let rows = c.rows().to_vec();
    assert_eq!(rows.iter().map(|r| r.bits).collect::<Vec<_>>(), [2, 8]);
    for r in &rows {
        assert!(r.fp32_accuracy > 0.5 && r.ptq_accuracy.is_finite() && r.qat_accuracy.is_finite());
    }
    assert!(rows[0].ptq_accuracy < rows[1].ptq_accuracy);
    // The same float model through from_fp32 gives the same rows; a row does not depend on the
    // rows before it.
    let m = c.fp32_model().unwrap().clone();
    let mut c2 = Comparison::from_fp32(cfg, data.clone(), m.clone(), &[8]).unwrap();
    assert_eq!(c2.run_to_end().unwrap(), &rows[1..]);
    let mut t = Trainer::from_fp32(
        TrainConfig {
            qat: QatConfig {
                spec: QuantSpec::new(2, 2),
                ..cfg.qat
            },
            ..cfg
        },
        data.clone(),
        m,
    )
    .unwrap();
    t.run_to_end().unwrap();
    assert_eq!(t.ptq_reference().unwrap().accuracy, rows[0].ptq_accuracy);
    assert_eq!(t.evaluate().unwrap().accuracy, rows[0].qat_accuracy);
    assert_eq!(final_comparison(cfg, data.clone(), &[2, 8]).unwrap(), rows);
    assert!(Comparison::new(cfg, data.clone(), &[])
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
    assert!(Comparison::new(cfg, data, &[1])
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidBits { .. })));
}

#[test]
fn bad_configs_and_divergence_are_errors() {
    let data = digits();
    let base = small_cfg(1);
    let bad = |cfg: TrainConfig| {
        Trainer::new(cfg, data.clone()).as_ref().is_err_and(|e| {
            matches!(
                e,
                quantlab_engine::QuantError::InvalidBits { .. }
                    | quantlab_engine::QuantError::InvalidParameter { .. }
            )
        })
    };
    assert!(bad(TrainConfig { hidden: 0, ..base }));
    assert!(bad(TrainConfig {
        hidden: 5000,
        ..base
    }));
    assert!(bad(TrainConfig {
        batch_size: 0,
        ..base
    }));
    assert!(bad(TrainConfig {
        qat: QatConfig {
            spec: QuantSpec::new(9, 4),
            ..base.qat
        },
        ..base
    }));
    assert!(bad(TrainConfig {
        qat: QatConfig {
            step_lr_factor: f32::NAN,
            ..base.qat
        },
        ..base
    }));
    assert!(bad(TrainConfig {
        fp32: PhaseConfig {
            lr: -1.0,
            ..base.fp32
        },
        ..base
    }));
    assert!(bad(TrainConfig {
        fp32: PhaseConfig {
            optimizer: Optimizer::Sgd { momentum: 1.0 },
            ..base.fp32
        },
        ..base
    }));
    assert!(bad(TrainConfig {
        ptq: PtqConfig {
            samples: 0,
            ..base.ptq
        },
        ..base
    }));
    assert!(bad(TrainConfig {
        ptq: PtqConfig {
            calibration: ActCalibration::Percentile { p: 30.0 },
            ..base.ptq
        },
        ..base
    }));
    // A learning rate far too high: the loss overflows, training stops with an error that stays.
    let mut cfg = base;
    cfg.fp32.optimizer = Optimizer::Sgd { momentum: 0.9 };
    cfg.fp32.lr = 1e30;
    let mut t = Trainer::new(cfg, data.clone()).unwrap();
    let e = t.run_to_end().unwrap_err();
    assert!(
        matches!(e, QuantError::TrainingDiverged { phase: "FP32", .. }),
        "{e}"
    );
    assert_eq!(t.run_batches(1).unwrap_err(), e);
    // Shape checks of the lower-level API.
    let m = Mlp::new(64, 8, 10, 1).unwrap();
    assert!(m
        .predict_proba(&[0.0; 63], None)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(gradients(&m, None, &[0.0; 64], &[10])
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::InvalidParameter { .. })));
    assert!(gradients(&m, None, &[0.0; 63], &[1])
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(m
        .evaluate(&[], &[], None)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::Empty { .. })));
    let wrong = QuantizerSet {
        input: None,
        w1: Quantizer::new("W1", QuantKind::Weights, 4, vec![0.1; 3], 64).unwrap(),
        hidden: Quantizer::new("hidden", QuantKind::Activations, 4, vec![0.1], 8).unwrap(),
        w2: Quantizer::new("W2", QuantKind::Weights, 4, vec![0.1], 80).unwrap(),
    };
    assert!(m
        .check_quantizers(&wrong)
        .as_ref()
        .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(Mlp::from_parts(
        2,
        2,
        2,
        vec![0.0; 4],
        vec![0.0; 2],
        vec![0.0; 4],
        vec![0.0; 1]
    )
    .as_ref()
    .is_err_and(|e| matches!(e, quantlab_engine::QuantError::LengthMismatch { .. })));
    assert!(
        Trainer::from_fp32(base, data, Mlp::new(10, 8, 10, 1).unwrap())
            .as_ref()
            .is_err_and(|e| matches!(e, quantlab_engine::QuantError::ShapeMismatch { .. }))
    );
}

/// Prints epoch timings (no assertion; ignored by default). In Node, with the shipped profile:
/// `cargo test --release --target wasm32-unknown-unknown --test qat -- --include-ignored timings`.
#[test]
#[ignore]
fn timings() {
    #[cfg(target_arch = "wasm32")]
    fn now() -> f64 {
        let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
        let f: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into()).unwrap().into();
        f.call0(&perf).unwrap().as_f64().unwrap()
    }
    #[cfg(not(target_arch = "wasm32"))]
    fn now() -> f64 {
        use std::sync::OnceLock;
        static T0: OnceLock<std::time::Instant> = OnceLock::new();
        T0.get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1e3
    }
    let cfg = TrainConfig::default();
    let mut t = Trainer::new(cfg, digits()).unwrap();
    t.run_batches(2).unwrap(); // epoch-0 evaluation, input calibration
    let bpe = t.progress().batches_per_epoch;
    let (mut fp32, mut ends, mut qat, mut unit_max) = (vec![], vec![], vec![], 0.0f64);
    for _ in 0..cfg.fp32.epochs {
        let s = now();
        t.run_batches(bpe).unwrap();
        fp32.push(now() - s);
        let mut e = [0.0; 3];
        for d in e.iter_mut() {
            let s = now();
            t.run_batches(1).unwrap();
            *d = now() - s;
            unit_max = unit_max.max(*d);
        }
        ends.push(e);
    }
    let s = now();
    t.run_batches(2).unwrap(); // QAT start: calibration, epoch-0 evaluation
    let start = now() - s;
    for _ in 0..cfg.qat.phase.epochs {
        let s = now();
        t.run_batches(bpe).unwrap();
        qat.push(now() - s);
        let s = now();
        t.run_batches(1).unwrap();
        unit_max = unit_max.max(now() - s);
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let col = |k: usize| ends.iter().map(|e| e[k]).collect::<Vec<f64>>();
    let msg = format!(
        "median ms: FP32 epoch {:.2}, QAT epoch {:.2}; epoch-end units: test eval {:.2}, PTQ calibration {:.2}, PTQ eval {:.2} (first epoch: {:.2?}); QAT start {:.2}; slowest non-batch unit {:.2}",
        med(fp32),
        med(qat),
        med(col(0)),
        med(col(1)),
        med(col(2)),
        ends[0],
        start,
        unit_max
    );
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{msg}");
    #[cfg(not(target_arch = "wasm32"))]
    println!("{msg}");
}
