//! Kernel tests: run natively (scalar kernels) and under Node with wasm-bindgen-test-runner
//! (`cargo test --target wasm32-unknown-unknown --test kernels`), where the SIMD128 kernels are
//! also checked against their scalar twins. Plain `#[test]` functions run on both targets
//! thanks to the alias below (without it they would be silently skipped on wasm32).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use quantlab_kernels::KernelError as QuantError;
use quantlab_kernels::{
    gemm_f32, gemm_i8, q_max, quantize_rows_i16, row_absmax, scalar, simulate_linear,
    ActGranularity, ActScales, PackedF32, PackedI8, QLinear, QuantizedActs, KERNEL_NAME, MAX_K, NR,
};

/// SplitMix64: a seeded generator, so failures reproduce on both targets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn i8(&mut self) -> i8 {
        self.next() as i8
    }
    fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.i8()).collect()
    }
    /// Uniform in [−1, 1).
    fn f32(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn f32s(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.f32() * scale).collect()
    }
}

fn naive_i8(a: &[i8], m: usize, k: usize, b: &[i8], n: usize) -> Vec<i32> {
    let mut c = vec![0i32; m * n];
    for r in 0..m {
        for j in 0..n {
            let s: i64 = (0..k)
                .map(|i| i64::from(a[r * k + i]) * i64::from(b[i * n + j]))
                .sum();
            c[r * n + j] = i32::try_from(s).expect("test sums fit i32");
        }
    }
    c
}

/// f32 reference with the kernels' summation order (k ascending, mul then add, no FMA).
fn naive_f32(a: &[f32], m: usize, k: usize, b: &[f32], n: usize) -> Vec<f32> {
    let mut c = vec![0f32; m * n];
    for r in 0..m {
        for j in 0..n {
            let mut s = 0f32;
            for i in 0..k {
                s += a[r * k + i] * b[i * n + j];
            }
            c[r * n + j] = s;
        }
    }
    c
}

const MS: [usize; 9] = [0, 1, 2, 3, 4, 5, 7, 9, 17];
const KS: [usize; 9] = [0, 1, 2, 3, 15, 16, 17, 33, 64];
const NS: [usize; 8] = [1, 7, 8, 9, 15, 16, 17, 31];

#[test]
fn kernel_name_matches_target() {
    let simd = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
    assert_eq!(quantlab_kernels::simd_available(), simd);
    let relaxed = simd && cfg!(feature = "relaxed");
    let name = match (simd, relaxed) {
        (true, true) => "wasm-relaxed-simd",
        (true, false) => "wasm-simd128",
        _ if cfg!(target_arch = "x86_64") => "x86-64-sse2",
        _ => "scalar",
    };
    assert_eq!(KERNEL_NAME, name);
}

#[test]
fn packing_round_trips_for_ragged_shapes() {
    let mut rng = Rng(1);
    for &k in &KS {
        for &n in &NS {
            let b = rng.i8s(k * n);
            let p = PackedI8::pack(&b, k, n).unwrap();
            assert_eq!((p.k(), p.n()), (k, n));
            assert_eq!(p.to_row_major(), b, "k={k} n={n}");
            let kg = p.layout().kg();
            assert_eq!(p.packed_bytes(), n.div_ceil(NR) * k.div_ceil(kg) * kg * NR);
            assert_eq!(p.get(k, 0), None);
            assert_eq!(p.get(0, n), None);
        }
    }
}

#[test]
fn gemm_i8_equals_naive_on_ragged_shapes() {
    let mut rng = Rng(2);
    for &m in &MS {
        for &k in &KS {
            for &n in &NS {
                let a = rng.i8s(m * k);
                let b = rng.i8s(k * n);
                let p = PackedI8::pack(&b, k, n).unwrap();
                let mut c = vec![7i32; m * n];
                gemm_i8(&a, m, k, &p, &mut c).unwrap();
                assert_eq!(c, naive_i8(&a, m, k, &b, n), "m={m} k={k} n={n}");
            }
        }
    }
}

#[test]
fn gemm_f32_equals_naive_bit_for_bit() {
    let mut rng = Rng(3);
    for &m in &MS {
        for &k in &KS {
            for &n in &NS {
                let a = rng.f32s(m * k, 3.0);
                let b = rng.f32s(k * n, 0.5);
                let p = PackedF32::pack(&b, k, n).unwrap();
                assert_eq!(p.to_row_major(), b, "k={k} n={n}");
                let mut c = vec![f32::NAN; m * n];
                gemm_f32(&a, m, k, &p, &mut c).unwrap();
                let want = naive_f32(&a, m, k, &b, n);
                let same = c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "m={m} k={k} n={n}: {c:?} vs {want:?}");
            }
        }
    }
}

#[test]
fn extreme_values_do_not_overflow() {
    // −128·−128 = 2^14 everywhere: K = 16384 gives 2^28 per output.
    for &(m, k, n) in &[(5, 16384, 9), (1, 16384, 17), (4, 16383, 8)] {
        let a = vec![-128i8; m * k];
        let b = vec![-128i8; k * n];
        let p = PackedI8::pack(&b, k, n).unwrap();
        let mut c = vec![0i32; m * n];
        gemm_i8(&a, m, k, &p, &mut c).unwrap();
        assert!(
            c.iter().all(|&v| i64::from(v) == k as i64 * 16384),
            "m={m} k={k} n={n}"
        );
        // Alternating −128 / 127 against −128: the most negative sums.
        let a2: Vec<i8> = (0..m * k)
            .map(|i| if i % 2 == 0 { 127 } else { -128 })
            .collect();
        gemm_i8(&a2, m, k, &p, &mut c).unwrap();
        assert_eq!(c, naive_i8(&a2, m, k, &b, n));
    }
    // The largest K that is accepted still sums exactly: 131071 · 2^14 = 2^31 − 2^14 < 2^31.
    let k = MAX_K;
    let p = PackedI8::pack(&vec![-128i8; k], k, 1).unwrap();
    let mut c = [0i32; 2];
    gemm_i8(&vec![-128i8; 2 * k], 2, k, &p, &mut c).unwrap();
    assert_eq!(c, [(k as i32) * 16384; 2]);
    // One more could overflow and is refused.
    let err = PackedI8::pack(&vec![0i8; k + 1], k + 1, 1).unwrap_err();
    assert!(matches!(err, QuantError::TooLarge { .. }), "{err}");
}

#[test]
fn gemm_shape_errors_are_errors() {
    let p = PackedI8::pack(&[1, 2, 3, 4, 5, 6], 2, 3).unwrap();
    let mut c = vec![0i32; 6];
    // Wrong K for the packed weights.
    assert!(matches!(
        gemm_i8(&[1, 2, 3, 4, 5, 6], 2, 3, &p, &mut c),
        Err(QuantError::ShapeMismatch { .. })
    ));
    // A too short / too long for M×K.
    assert!(matches!(
        gemm_i8(&[1, 2, 3], 2, 2, &p, &mut c),
        Err(QuantError::LengthMismatch { .. })
    ));
    assert!(matches!(
        gemm_i8(&[1; 5], 2, 2, &p, &mut c),
        Err(QuantError::LengthMismatch { .. })
    ));
    // C the wrong size.
    assert!(matches!(
        gemm_i8(&[1; 4], 2, 2, &p, &mut c[..5]),
        Err(QuantError::LengthMismatch { .. })
    ));
    // B length not K×N.
    assert!(matches!(
        PackedI8::pack(&[1; 5], 2, 3),
        Err(QuantError::LengthMismatch { .. })
    ));
    assert!(matches!(
        PackedF32::pack(&[1.0; 5], 2, 3),
        Err(QuantError::LengthMismatch { .. })
    ));
    // Overflowing M×K is an error, not a panic.
    assert!(gemm_i8(&[], usize::MAX, 2, &p, &mut c)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::TooLarge { .. })));
    let pf = PackedF32::pack(&[1.0; 6], 2, 3).unwrap();
    let mut cf = vec![0f32; 6];
    assert!(gemm_f32(&[1.0; 4], 2, 3, &pf, &mut cf)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::ShapeMismatch { .. })));
    assert!(gemm_f32(&[1.0; 4], 2, 2, &pf, &mut cf[..1])
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. })));
    // Messages say what is wrong.
    let msg = gemm_i8(&[1, 2, 3], 2, 2, &p, &mut c)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("expected 4") && msg.contains("got 3"), "{msg}");
}

#[test]
fn empty_dimensions_give_empty_or_zero_results() {
    let p = PackedI8::pack(&[], 0, 5).unwrap();
    let mut c = vec![9i32; 15];
    gemm_i8(&[], 3, 0, &p, &mut c).unwrap();
    assert!(c.iter().all(|&v| v == 0));
    let p = PackedI8::pack(&[], 4, 0).unwrap();
    gemm_i8(&[1; 8], 2, 4, &p, &mut []).unwrap();
    let pf = PackedF32::pack(&[], 0, 3).unwrap();
    let mut cf = vec![1f32; 6];
    gemm_f32(&[], 2, 0, &pf, &mut cf).unwrap();
    assert!(cf.iter().all(|&v| v == 0.0));
}

#[test]
fn quantization_follows_fake_quant_semantics() {
    // absmax 127 → s = 1: 2.5 → 2 and 3.5 → 4 (ties to even), −2.5 → −2, clamps at ±q_max.
    let x = [2.5f32, 3.5, -2.5, 127.0, 0.5, 1.5, -0.5, -127.0];
    let qa =
        QuantizedActs::quantize(&x, 1, 8, ActScales::Dynamic(ActGranularity::PerToken), 8).unwrap();
    assert_eq!(qa.scales(), &[1.0]);
    assert_eq!(qa.codes(), vec![2, 4, -2, 127, 0, 2, 0, -127]);
    // Static scale 0.5 → x/s = 5, 7, −5, 254 → clamped to 127.
    let qa = QuantizedActs::quantize(&x, 1, 8, ActScales::Static(&[0.5]), 8).unwrap();
    assert_eq!(qa.codes(), vec![5, 7, -5, 127, 1, 3, -1, -127]);
    // 4 bits: q_max = 7, s = 127/7.
    let qa =
        QuantizedActs::quantize(&x, 2, 4, ActScales::Dynamic(ActGranularity::PerToken), 4).unwrap();
    assert_eq!(qa.scales(), &[127.0 / 7.0, 127.0 / 7.0]);
    assert_eq!(qa.codes(), vec![0, 0, 0, 7, 0, 0, 0, -7]);
    // An all-zero row gets the 1e−5 floor, and codes 0.
    let qa = QuantizedActs::quantize(
        &[0.0; 6],
        2,
        3,
        ActScales::Dynamic(ActGranularity::PerToken),
        8,
    )
    .unwrap();
    assert_eq!(qa.scales(), &[1e-5 / 127.0; 2]);
    assert!(qa.codes().iter().all(|&c| c == 0));
    // Per tensor: one scale from the global max, repeated per row.
    let x = [1.0f32, -2.0, 0.5, 4.0];
    let qa = QuantizedActs::quantize(&x, 2, 2, ActScales::Dynamic(ActGranularity::PerTensor), 8)
        .unwrap();
    assert_eq!(qa.scales(), &[4.0 / 127.0; 2]);
    assert_eq!(
        (qa.code(1, 1), qa.code(2, 0), qa.code(0, 2)),
        (Some(127), None, None)
    );
    for bits in 2..=8u8 {
        assert_eq!(q_max(bits).unwrap(), (1 << (bits - 1)) - 1);
    }
}

#[test]
fn quantization_errors_are_errors() {
    let x = [1.0f32, f32::NAN, 2.0, f32::INFINITY];
    let e = QuantizedActs::quantize(&x, 2, 2, ActScales::Dynamic(ActGranularity::PerToken), 8)
        .unwrap_err();
    assert!(
        matches!(
            e,
            QuantError::NonFinite {
                count: 2,
                first_index: 1,
                first_row_col: Some((0, 1))
            }
        ),
        "{e}"
    );
    let x = [1.0f32; 4];
    for bits in [0u8, 1, 9, 16] {
        assert_eq!(
            QuantizedActs::quantize(&x, 2, 2, ActScales::Dynamic(ActGranularity::PerToken), bits)
                .unwrap_err(),
            QuantError::InvalidBits { bits }
        );
    }
    for bad in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            QuantizedActs::quantize(&x, 2, 2, ActScales::Static(&[bad]), 8),
            Err(QuantError::InvalidScale { .. })
        ));
    }
    assert!(matches!(
        QuantizedActs::quantize(&x, 2, 2, ActScales::Static(&[1.0, 1.0, 1.0]), 8),
        Err(QuantError::LengthMismatch { .. })
    ));
    assert!(
        QuantizedActs::quantize(&x, 2, 3, ActScales::Dynamic(ActGranularity::PerTensor), 8)
            .as_ref()
            .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. }))
    );
    // The low-level quantizer checks its stride and q_max too.
    let mut out = vec![0i16; 4];
    assert!(quantize_rows_i16(&x, 2, 2, &[1.0, 1.0], 127, &mut out, 1)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::InvalidParameter { .. })));
    assert!(quantize_rows_i16(&x, 2, 2, &[1.0, 1.0], 128, &mut out, 2)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::InvalidParameter { .. })));
    assert!(
        quantize_rows_i16(&x, 2, 2, &[1.0, 1.0], 127, &mut out[..3], 2)
            .as_ref()
            .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. }))
    );
    let mut mx = [0f32; 3];
    assert!(row_absmax(&x, 2, 2, &mut mx)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. })));
}

/// |y − y_ref| ≤ 1e−6 · max(|y_ref|, |s_t s_j acc|): "within 1e−6 relative", measured against the
/// un-biased product too, so a bias that cancels the product does not make the bound vacuous.
/// The f64 reference itself carries ~1e−16 of the terms' magnitude.
fn assert_close(y: &[f32], sim: &quantlab_kernels::SimulatedLinear, n: usize, ctx: &str) -> f64 {
    let mut worst = 0f64;
    for (i, (&yv, &rv)) in y.iter().zip(&sim.y).enumerate() {
        let (t, j) = (i / n, i % n);
        let prod = (sim.acc[i] as f64) * f64::from(sim.x_scales[t]) * f64::from(sim.w_scales[j]);
        let scale = rv.abs().max(prod.abs());
        let err = (f64::from(yv) - rv).abs();
        assert!(
            err <= 1e-6 * scale + 1e-12 * sim.magnitude[i],
            "{ctx}: y[{t}][{j}] = {yv} vs {rv} (acc {})",
            sim.acc[i]
        );
        if scale > 0.0 {
            worst = worst.max(err / scale);
        }
    }
    worst
}

#[allow(clippy::too_many_arguments)]
fn check_qlinear(
    rng: &mut Rng,
    m: usize,
    k: usize,
    n: usize,
    a_bits: u8,
    w_bits: u8,
    act: u8,
    bias: bool,
) {
    let x = rng.f32s(m * k, 4.0);
    let w = rng.f32s(k * n, 0.2);
    let b = bias.then(|| rng.f32s(n, 1.0));
    let statics: Vec<f32> = (0..m).map(|_| 0.01 + rng.f32().abs() * 0.05).collect();
    let act = match act {
        0 => ActScales::Dynamic(ActGranularity::PerToken),
        1 => ActScales::Dynamic(ActGranularity::PerTensor),
        2 => ActScales::Static(&statics[..1.min(m)]),
        _ => ActScales::Static(&statics),
    };
    if matches!(act, ActScales::Static(s) if s.is_empty()) {
        return;
    }
    let ctx = format!("m={m} k={k} n={n} a_bits={a_bits} w_bits={w_bits} act={act:?} bias={bias}");
    let layer = QLinear::new(&w, k, n, b.as_deref(), w_bits).unwrap();
    let sim = simulate_linear(&x, m, k, &w, n, b.as_deref(), act, a_bits, w_bits).unwrap();
    // Identical codes and scales.
    let w_codes: Vec<i32> = layer.weight_codes().into_iter().map(i32::from).collect();
    assert_eq!(w_codes, sim.w_codes, "{ctx}");
    assert_eq!(layer.weight_scales(), &sim.w_scales[..], "{ctx}");
    let qa = layer.quantize_input(&x, m, act, a_bits).unwrap();
    let x_codes: Vec<i32> = qa.codes().into_iter().map(i32::from).collect();
    assert_eq!(x_codes, sim.x_codes, "{ctx}");
    assert_eq!(qa.scales(), &sim.x_scales[..], "{ctx}");
    // Identical integer accumulators.
    let mut acc = vec![0i32; m * n];
    layer.accumulate(&qa, &mut acc).unwrap();
    let acc64: Vec<i64> = acc.iter().map(|&v| i64::from(v)).collect();
    assert_eq!(acc64, sim.acc, "{ctx}");
    // f32 outputs within 1e−6 relative of the fake-quant reference.
    let mut y = vec![f32::NAN; m * n];
    layer.forward_with(&x, m, act, a_bits, &mut y).unwrap();
    assert_close(&y, &sim, n, &ctx);
    let mut y2 = vec![0f32; m * n];
    layer.forward_quantized(&qa, &mut y2).unwrap();
    assert_eq!(y, y2, "{ctx}");
}

#[test]
fn qlinear_equals_fake_quant_reference() {
    let mut rng = Rng(4);
    for &(m, k, n) in &[
        (1, 1, 1),
        (1, 64, 24),
        (5, 64, 24),
        (3, 17, 9),
        (4, 33, 16),
        (9, 7, 31),
        (2, 128, 8),
    ] {
        for a_bits in [2u8, 4, 8] {
            for w_bits in [3u8, 8] {
                for act in 0..4 {
                    check_qlinear(&mut rng, m, k, n, a_bits, w_bits, act, act % 2 == 0);
                }
            }
        }
    }
    // Every bit width once, both granularities.
    for bits in 2..=8u8 {
        check_qlinear(&mut rng, 6, 40, 13, bits, 10 - bits.min(8), 0, true);
        check_qlinear(&mut rng, 6, 40, 13, bits, bits, 1, false);
    }
}

#[test]
fn qlinear_without_bias_is_within_1e6_relative() {
    let mut rng = Rng(5);
    let (m, k, n) = (7, 300, 21);
    let x = rng.f32s(m * k, 2.0);
    let w = rng.f32s(k * n, 1.0);
    let layer = QLinear::new(&w, k, n, None, 8).unwrap();
    let act = ActScales::Dynamic(ActGranularity::PerToken);
    let sim = simulate_linear(&x, m, k, &w, n, None, act, 8, 8).unwrap();
    let mut y = vec![0f32; m * n];
    layer
        .forward(&x, m, ActGranularity::PerToken, 8, &mut y)
        .unwrap();
    for (i, (&yv, &rv)) in y.iter().zip(&sim.y).enumerate() {
        if sim.acc[i] == 0 {
            assert_eq!(yv, 0.0);
        } else {
            assert!(
                (f64::from(yv) - rv).abs() <= 1e-6 * rv.abs(),
                "{i}: {yv} vs {rv}"
            );
        }
    }
}

#[test]
fn qlinear_errors_are_errors() {
    let w = [0.5f32; 6];
    assert!(matches!(
        QLinear::new(&w, 2, 2, None, 8),
        Err(QuantError::LengthMismatch { .. })
    ));
    assert!(matches!(
        QLinear::new(&w, 2, 3, None, 1),
        Err(QuantError::InvalidBits { bits: 1 })
    ));
    assert!(matches!(
        QLinear::new(&[], 0, 3, None, 8),
        Err(QuantError::Empty { .. })
    ));
    assert!(matches!(
        QLinear::new(&w, 2, 3, Some(&[1.0; 2]), 8),
        Err(QuantError::LengthMismatch { .. })
    ));
    assert!(matches!(
        QLinear::new(&[0.5, f32::NAN, 0.1, 0.2], 2, 2, None, 8),
        Err(QuantError::NonFinite { .. })
    ));
    assert!(matches!(
        QLinear::from_codes(&[1, 2, 3, 8], 2, 2, &[0.1, 0.1], None, 4),
        Err(QuantError::CodeOutOfRange {
            code: 8,
            index: 3,
            ..
        })
    ));
    assert!(matches!(
        QLinear::from_codes(&[1; 4], 2, 2, &[0.1, 0.0], None, 8),
        Err(QuantError::InvalidScale { .. })
    ));
    let layer = QLinear::new(&w, 2, 3, Some(&[0.0, 1.0, 2.0]), 8).unwrap();
    let mut y = vec![0f32; 6];
    assert!(layer
        .forward(&[1.0; 3], 2, ActGranularity::PerToken, 8, &mut y)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. })));
    assert!(layer
        .forward(&[1.0; 4], 2, ActGranularity::PerToken, 8, &mut y[..5])
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. })));
    assert!(layer
        .forward(&[1.0; 4], 2, ActGranularity::PerToken, 9, &mut y)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::InvalidBits { .. })));
    assert!(layer
        .forward(
            &[1.0, f32::INFINITY, 0.0, 0.0],
            2,
            ActGranularity::PerTensor,
            8,
            &mut y
        )
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::NonFinite { .. })));
    let other = QuantizedActs::quantize(
        &[1.0; 6],
        2,
        3,
        ActScales::Dynamic(ActGranularity::PerToken),
        8,
    )
    .unwrap();
    assert!(matches!(
        layer.forward_quantized(&other, &mut y),
        Err(QuantError::ShapeMismatch { .. })
    ));
    assert!(layer
        .accumulate(&other, &mut [0; 6])
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::ShapeMismatch { .. })));
    // Everything fine: also the bias, the weight-only path and the accessors.
    layer
        .forward(
            &[1.0, -1.0, 0.5, 0.25],
            2,
            ActGranularity::PerToken,
            8,
            &mut y,
        )
        .unwrap();
    assert_eq!(
        (layer.k(), layer.n(), layer.w_bits(), layer.bias()),
        (2, 3, 8, Some(&[0.0, 1.0, 2.0][..]))
    );
    // Weights of 127 have the scale 1 exactly, so the weight-only path is exact here.
    let layer = QLinear::new(&[127.0; 6], 2, 3, Some(&[0.0, 1.0, 2.0]), 8).unwrap();
    let mut yw = vec![0f32; 6];
    layer
        .forward_weight_only(&[1.0, -1.0, 0.5, 0.25], 2, &mut yw)
        .unwrap();
    assert_eq!(yw, [0.0, 1.0, 2.0, 95.25, 96.25, 97.25]);
}

#[test]
fn low_level_qgemm_checks_codes_and_lengths() {
    let p = PackedI8::pack(&[1, 2, 3, 4, 5, 6], 3, 2).unwrap(); // K = 3 → lda 4
    let a16 = vec![1i16, 2, 3, 0, -128, 127, 5, 0];
    let mut c = vec![0i32; 4];
    scalar::qgemm_i32(&a16, 2, 4, &p, &mut c).unwrap();
    assert_eq!(
        c,
        naive_i8(&[1, 2, 3, -128, 127, 5], 2, 3, &[1, 2, 3, 4, 5, 6], 2)
    );
    // uint8 codes minus their zero point reach ±255: still exact.
    let mut wide = a16.clone();
    wide[5] = 255;
    wide[0] = -255;
    scalar::qgemm_i32(&wide, 2, 4, &p, &mut c).unwrap();
    let c_wide = c.clone();
    let want: Vec<i32> = {
        let a = [-255i32, 2, 3, -128, 255, 5];
        let b = [1i32, 2, 3, 4, 5, 6];
        (0..2)
            .flat_map(|r| (0..2).map(move |j| (0..3).map(|i| a[r * 3 + i] * b[i * 2 + j]).sum()))
            .collect()
    };
    assert_eq!(c_wide, want);
    let mut bad = a16.clone();
    bad[5] = 256;
    assert!(matches!(
        scalar::qgemm_i32(&bad, 2, 4, &p, &mut c),
        Err(QuantError::CodeOutOfRange {
            code: 256,
            index: 5,
            ..
        })
    ));
    assert!(scalar::qgemm_i32(&a16, 2, 3, &p, &mut c)
        .as_ref()
        .is_err_and(|e| matches!(e, QuantError::InvalidParameter { .. })));
    let mut y = vec![0f32; 4];
    assert!(
        scalar::qgemm_f32(&a16, 2, 4, &p, &[1.0], &[1.0, 1.0], None, &mut y)
            .as_ref()
            .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. }))
    );
    assert!(
        scalar::qgemm_f32(&a16, 2, 4, &p, &[1.0; 2], &[1.0, 1.0], Some(&[0.0]), &mut y)
            .as_ref()
            .is_err_and(|e| matches!(e, QuantError::LengthMismatch { .. }))
    );
}

// ---------------------------------------------------------------------------------------------
// SIMD128 against the scalar twins (only where the SIMD kernels exist).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod twins {
    use super::*;
    use quantlab_kernels::simd128;
    // The int8 GEMMs of this build: relaxed SIMD's where compiled in, SIMD128's otherwise.
    #[cfg(feature = "relaxed")]
    use quantlab_kernels::relaxed as int8simd;
    #[cfg(not(feature = "relaxed"))]
    use quantlab_kernels::simd128 as int8simd;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn bits_eq(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn per_column_quantization_equals_scalar_bit_for_bit() {
        let mut rng = Rng(77);
        for case in 0..200 {
            let n = rng.below(40);
            let mut row = rng.f32s(n, 10.0);
            let scales: Vec<f32> = (0..n).map(|_| 1e-3 + rng.f32().abs() * 0.1).collect();
            // Ties, zeros of both signs, values far outside the range, NaN and ±Inf.
            for (i, v) in row.iter_mut().enumerate() {
                match (case + i) % 11 {
                    0 => *v = 2.5 * scales[i],
                    1 => *v = -0.0,
                    2 => *v = 1e30,
                    3 if case % 3 == 0 => *v = f32::NAN,
                    4 if case % 5 == 0 => *v = f32::NEG_INFINITY,
                    _ => {}
                }
            }
            let mul = if case % 4 == 0 {
                1.0
            } else {
                0.5 + rng.f32().abs() * 3.0
            };
            let q_max = [1.0f32, 7.0, 127.0][case % 3];
            let (mut c1, mut c2) = (vec![9i8; n], vec![-9i8; n]);
            let (e1, x1) = scalar::quantize_row_per_col(&row, mul, &scales, q_max, &mut c1);
            let (e2, x2) = simd128::quantize_row_per_col(&row, mul, &scales, q_max, &mut c2);
            assert_eq!(c1, c2, "case {case}: codes");
            let (mut c3, mut c4) = (vec![5i8; n], vec![-5i8; n]);
            scalar::quantize_per_col(&row, mul, &scales, q_max, &mut c3);
            simd128::quantize_per_col(&row, mul, &scales, q_max, &mut c4);
            assert_eq!(c1, c3, "case {case}: codes only, scalar");
            assert_eq!(c1, c4, "case {case}: codes only, SIMD128");
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(
                same(e1, e2) && same(x1, x2),
                "case {case}: sums {e1} {e2} {x1} {x2}"
            );
            let start: Vec<f32> = (0..n)
                .map(|i| {
                    if i % 3 == 0 {
                        0.0
                    } else {
                        rng.f32().abs() * 20.0
                    }
                })
                .collect();
            let (mut m1, mut m2) = (start.clone(), start);
            scalar::absmax_per_col(&row, mul, &mut m1);
            simd128::absmax_per_col(&row, mul, &mut m2);
            assert!(
                m1.iter().zip(&m2).all(|(a, b)| a.to_bits() == b.to_bits()),
                "case {case}: absmax {m1:?} {m2:?}"
            );
        }
    }

    #[test]
    fn f64_axpy_rows_equal_scalar_bit_for_bit() {
        let mut rng = Rng(91);
        for n in 0..37 {
            let b = rng.f32s(n, 50.0);
            let v = [
                f64::from(rng.f32()),
                -3.25,
                1e-3 * f64::from(rng.f32()),
                0.0,
            ];
            let start: Vec<Vec<f64>> = (0..4)
                .map(|_| (0..n).map(|_| f64::from(rng.f32()) * 7.0).collect())
                .collect();
            let (mut a, mut c) = (start.clone(), start);
            {
                let [a0, a1, a2, a3] = &mut a[..] else {
                    unreachable!()
                };
                scalar::axpy4_f64_f32([a0, a1, a2, a3], v, &b);
            }
            {
                let [c0, c1, c2, c3] = &mut c[..] else {
                    unreachable!()
                };
                simd128::axpy4_f64_f32([c0, c1, c2, c3], v, &b);
            }
            let bits =
                |m: &Vec<Vec<f64>>| m.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&c), "n {n}");
        }
    }

    #[test]
    fn f64_vector_steps_equal_scalar_bit_for_bit() {
        let mut rng = Rng(64);
        for len in 0..40 {
            let mut a: Vec<f64> = (0..len).map(|_| f64::from(rng.f32()) * 1e3).collect();
            let b: Vec<f64> = (0..len + rng.below(3))
                .map(|_| f64::from(rng.f32()))
                .collect();
            a.extend([f64::INFINITY, -0.0, f64::NAN].iter().take(len % 4));
            // Bit for bit, except that a NaN's payload is not specified by wasm.
            let same = |x: &[f64], y: &[f64]| {
                x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
            };
            let (mut s1, mut s2) = (a.clone(), a.clone());
            scalar::add_assign_f64(&mut s1, &b);
            simd128::add_assign_f64(&mut s2, &b);
            assert!(same(&s1, &s2), "add, len {len}");
            let (mut s1, mut s2) = (a.clone(), a.clone());
            scalar::sub_assign_f64(&mut s1, &b);
            simd128::sub_assign_f64(&mut s2, &b);
            assert!(same(&s1, &s2), "sub, len {len}");
            let (mut l1, mut h1) = (a.clone(), b.clone());
            let (mut l2, mut h2) = (a.clone(), b.clone());
            scalar::butterfly_f64(&mut l1, &mut h1);
            simd128::butterfly_f64(&mut l2, &mut h2);
            assert!(same(&l1, &l2) && same(&h1, &h2), "butterfly, len {len}");
        }
    }

    #[test]
    fn simd_equals_scalar_on_random_shapes() {
        let mut rng = Rng(10);
        for case in 0..300 {
            let m = rng.below(13);
            let k = rng.below(70);
            let n = 1 + rng.below(40);
            let a = rng.i8s(m * k);
            let b = rng.i8s(k * n);
            let p = PackedI8::pack(&b, k, n).unwrap();
            let (mut c1, mut c2) = (vec![1i32; m * n], vec![2i32; m * n]);
            scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
            int8simd::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "case {case}: m={m} k={k} n={n}");

            let af = rng.f32s(m * k, 2.0);
            let bf = rng.f32s(k * n, 2.0);
            let pf = PackedF32::pack(&bf, k, n).unwrap();
            let (mut f1, mut f2) = (vec![1f32; m * n], vec![2f32; m * n]);
            scalar::gemm_f32(&af, m, k, &pf, &mut f1).unwrap();
            simd128::gemm_f32(&af, m, k, &pf, &mut f2).unwrap();
            assert!(bits_eq(&f1, &f2), "case {case}: f32 m={m} k={k} n={n}");

            // Quantization, row maxima, accumulators and the dequantizing GEMM.
            let lda = quantlab_kernels::act_stride(k);
            let scales: Vec<f32> = (0..m).map(|_| 0.001 + rng.f32().abs() * 0.03).collect();
            let q = 1 + rng.below(127) as i32;
            let (mut q1, mut q2) = (vec![0i16; m * lda], vec![0i16; m * lda]);
            scalar::quantize_rows_i16(&af, m, k, &scales, q, &mut q1, lda).unwrap();
            simd128::quantize_rows_i16(&af, m, k, &scales, q, &mut q2, lda).unwrap();
            assert_eq!(q1, q2, "case {case}: quantize");
            let (mut r1, mut r2) = (vec![0f32; m], vec![0f32; m]);
            scalar::row_absmax(&af, m, k, &mut r1).unwrap();
            simd128::row_absmax(&af, m, k, &mut r2).unwrap();
            assert!(bits_eq(&r1, &r2), "case {case}: absmax");
            scalar::qgemm_i32(&q1, m, lda, &p, &mut c1).unwrap();
            int8simd::qgemm_i32(&q1, m, lda, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "case {case}: qgemm_i32");
            let cs: Vec<f32> = (0..n).map(|_| rng.f32().abs() * 0.01 + 1e-4).collect();
            let bias = rng.f32s(n, 1.0);
            for bias in [None, Some(&bias[..])] {
                scalar::qgemm_f32(&q1, m, lda, &p, &scales, &cs, bias, &mut f1).unwrap();
                int8simd::qgemm_f32(&q1, m, lda, &p, &scales, &cs, bias, &mut f2).unwrap();
                assert!(
                    bits_eq(&f1, &f2),
                    "case {case}: qgemm_f32 bias={}",
                    bias.is_some()
                );
            }
        }
    }

    #[test]
    fn simd_equals_scalar_on_large_and_extreme_inputs() {
        let mut rng = Rng(11);
        // Sizes that cross the L2 panel blocking and the M = 1 two-panel path.
        for &(m, k, n) in &[
            (1, 4096, 72),
            (1, 333, 8),
            (1, 1000, 9),
            (6, 1500, 200),
            (13, 768, 97),
        ] {
            let a = rng.i8s(m * k);
            let b = rng.i8s(k * n);
            let p = PackedI8::pack(&b, k, n).unwrap();
            let (mut c1, mut c2) = (vec![0i32; m * n], vec![0i32; m * n]);
            scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
            int8simd::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "m={m} k={k} n={n}");
            assert_eq!(c2, naive_i8(&a, m, k, &b, n));
        }
        // Saturating extremes.
        for &(m, k, n) in &[(3, 16384, 10), (1, 16384, 16)] {
            let a = vec![-128i8; m * k];
            let b: Vec<i8> = (0..k * n)
                .map(|i| if i % 3 == 0 { 127 } else { -128 })
                .collect();
            let p = PackedI8::pack(&b, k, n).unwrap();
            let (mut c1, mut c2) = (vec![0i32; m * n], vec![0i32; m * n]);
            scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
            int8simd::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
            assert_eq!(c1, c2);
            assert_eq!(c2, naive_i8(&a, m, k, &b, n));
        }
        // Non-finite values and ties quantize the same way in both.
        let x = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.5,
            1.5,
            2.5,
            -0.5,
            -1e30,
            1e-30,
            -0.0,
            300.0,
        ];
        let (mut q1, mut q2) = (vec![0i16; 12], vec![0i16; 12]);
        scalar::quantize_rows_i16(&x, 1, 11, &[1.0], 127, &mut q1, 12).unwrap();
        simd128::quantize_rows_i16(&x, 1, 11, &[1.0], 127, &mut q2, 12).unwrap();
        assert_eq!(q1, q2);
        assert_eq!(q1, [0, 127, -127, 0, 2, 2, 0, -127, 0, 0, 127, 0]);
        let (mut r1, mut r2) = ([0f32; 1], [0f32; 1]);
        assert!(scalar::row_absmax(&x, 1, 11, &mut r1)
            .as_ref()
            .is_err_and(|e| matches!(e, QuantError::NonFinite { .. })));
        assert!(simd128::row_absmax(&x, 1, 11, &mut r2)
            .as_ref()
            .is_err_and(|e| matches!(e, QuantError::NonFinite { .. })));
    }
}

// ---------------------------------------------------------------------------------------------
// Relaxed SIMD against the scalar twins (the relaxed build only: `cargo test --target
// wasm32-unknown-unknown -p quantlab-kernels --features relaxed` under Node ≥ 22 or in
// Chromium; Node 20's flagged implementation doubles every dot, see the first test).

#[cfg(all(target_arch = "wasm32", feature = "relaxed"))]
mod relaxed_twins {
    use super::*;
    use quantlab_kernels::{relaxed, Layout};
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Int8 weights within ±`max`.
    fn weights(rng: &mut Rng, n: usize, max: i8) -> Vec<i8> {
        (0..n).map(|_| rng.i8().clamp(-max, max)).collect()
    }

    #[target_feature(enable = "relaxed-simd")]
    unsafe fn dot(a: core::arch::wasm32::v128, b: core::arch::wasm32::v128) -> [i32; 4] {
        use core::arch::wasm32::*;
        let r = i32x4_relaxed_dot_i8x16_i7x16_add(a, b, i32x4_splat(1));
        [
            i32x4_extract_lane::<0>(r),
            i32x4_extract_lane::<1>(r),
            i32x4_extract_lane::<2>(r),
            i32x4_extract_lane::<3>(r),
        ]
    }

    /// The engine's dot product is the exact sum (plus c) where the 7-bit operand is in
    /// [0, 127]. Node 20's V8 11.3 behind --experimental-wasm-relaxed-simd returns twice the
    /// sums (measured: 12, 20, −28, 20 for the first three lanes' 6, 10, −14), which is why the
    /// page checks one dot before choosing the relaxed build, and these tests run in Chromium and
    /// Node ≥ 22.
    #[test]
    fn the_engines_relaxed_dot_is_the_exact_sum() {
        use core::arch::wasm32::i8x16;
        let a = i8x16(3, 0, 0, 0, 5, 0, 0, 0, -7, 0, 0, 0, -128, 127, -1, 1);
        let b = i8x16(2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 127, 127, 0, 127);
        // SAFETY: the test module is built with relaxed SIMD and runs where it validates.
        let got = unsafe { dot(a, b) };
        // Last lane: −128·127 + 127·127 − 1·0 + 1·127 = 0, plus the addend 1.
        assert_eq!(got, [7, 11, -13, 1]);
        assert_eq!(KERNEL_NAME, "wasm-relaxed-simd");
        assert!(quantlab_kernels::relaxed_available());
    }

    /// Whether the engine's dot reads its second operand as unsigned (x86 AVX-VNNI): then
    /// 8-bit weights take the unsigned kernel, which the tests below run against the scalar
    /// twin beside the sign kernel (switched off with `set_unsigned_allowed`).
    #[test]
    fn the_unsigned_probe_agrees_with_a_dot_of_255s() {
        use core::arch::wasm32::{i8x16_splat, u8x16_splat};
        // SAFETY: the test module is built with relaxed SIMD and runs where it validates.
        let got = unsafe { dot(i8x16_splat(127), u8x16_splat(255)) };
        let unsigned = got == [129_540 + 1, 129_540 + 1, 129_540 + 1, 129_540 + 1];
        assert_eq!(
            quantlab_kernels::unsigned_dot(),
            unsigned,
            "dot of 127·255: {got:?}"
        );
        quantlab_kernels::set_unsigned_allowed(false);
        assert!(!quantlab_kernels::unsigned_dot());
        quantlab_kernels::set_unsigned_allowed(true);
        assert_eq!(quantlab_kernels::unsigned_dot(), unsigned);
        wasm_bindgen_test::console_log!(
            "the relaxed dot reads its second operand as unsigned: {unsigned}"
        );
    }

    #[test]
    fn both_relaxed_layouts_equal_scalar_on_ragged_shapes() {
        for unsigned in [true, false] {
            quantlab_kernels::set_unsigned_allowed(unsigned);
            ragged_shapes();
        }
        quantlab_kernels::set_unsigned_allowed(true);
    }

    fn ragged_shapes() {
        let mut rng = Rng(31);
        for case in 0..400 {
            let m = rng.below(14);
            let k = rng.below(90);
            let n = 1 + rng.below(45);
            let layout = if case % 2 == 0 {
                Layout::Quads
            } else {
                Layout::Offset64
            };
            let max = if layout == Layout::Quads { 127 } else { 63 };
            let b = weights(&mut rng, k * n, max);
            let p = PackedI8::pack_with(&b, k, n, layout).unwrap();
            assert_eq!(p.to_row_major(), b);
            let lda = quantlab_kernels::act_stride(k);
            // int8 codes, or (sign layout) uint8 minus a zero point, up to ±255: two planes.
            let wide = layout == Layout::Quads && case % 3 == 0;
            // ONNX's uint8 activations minus a zero point: codes in [−z, 255 − z], a span the
            // unsigned kernel takes with the row's own offset.
            let onnx = layout == Layout::Quads && case % 3 == 1;
            let mut a16 = vec![0i16; m * lda];
            for r in 0..m {
                let z = (rng.next() % 256) as i16;
                for c in 0..k {
                    let v = rng.next() as i16;
                    a16[r * lda + c] = if wide {
                        v % 256
                    } else if onnx {
                        (rng.next() % 256) as i16 - z
                    } else {
                        v % 128
                    };
                }
            }
            let (mut c1, mut c2) = (vec![1i32; m * n], vec![2i32; m * n]);
            scalar::qgemm_i32(&a16, m, lda, &p, &mut c1).unwrap();
            relaxed::qgemm_i32(&a16, m, lda, &p, &mut c2).unwrap();
            assert_eq!(
                c1, c2,
                "case {case}: {layout:?} m={m} k={k} n={n} wide={wide}"
            );
            let rs: Vec<f32> = (0..m).map(|_| 0.001 + rng.f32().abs() * 0.03).collect();
            let cs: Vec<f32> = (0..n).map(|_| rng.f32().abs() * 0.01 + 1e-4).collect();
            let bias = rng.f32s(n, 1.0);
            let (mut f1, mut f2) = (vec![1f32; m * n], vec![2f32; m * n]);
            for bias in [None, Some(&bias[..])] {
                scalar::qgemm_f32(&a16, m, lda, &p, &rs, &cs, bias, &mut f1).unwrap();
                relaxed::qgemm_f32(&a16, m, lda, &p, &rs, &cs, bias, &mut f2).unwrap();
                assert!(
                    f1.iter().zip(&f2).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "case {case}: qgemm_f32"
                );
            }
            // A general int8 A (−128 takes the second plane of the sign kernel).
            let a = rng.i8s(m * k);
            scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
            relaxed::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "case {case}: gemm_i8");
            assert_eq!(c2, naive_i8(&a, m, k, &b, n), "case {case}: naive");
        }
    }

    #[test]
    fn relaxed_extremes_and_large_shapes() {
        for unsigned in [true, false] {
            quantlab_kernels::set_unsigned_allowed(unsigned);
            extremes_and_large_shapes();
        }
        quantlab_kernels::set_unsigned_allowed(true);
    }

    fn extremes_and_large_shapes() {
        let mut rng = Rng(32);
        for layout in [Layout::Quads, Layout::Offset64] {
            let max = if layout == Layout::Quads { 127 } else { 63 };
            for &(m, k, n) in &[
                (1, 4096, 72),
                (1, 333, 8),
                (1, 1000, 41),
                (6, 1500, 200),
                (13, 768, 97),
            ] {
                let a = rng.i8s(m * k);
                let b = weights(&mut rng, k * n, max);
                let p = PackedI8::pack_with(&b, k, n, layout).unwrap();
                let (mut c1, mut c2) = (vec![0i32; m * n], vec![0i32; m * n]);
                scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
                relaxed::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
                assert_eq!(c1, c2, "{layout:?} m={m} k={k} n={n}");
            }
            // The largest products of both signs at every k.
            for &(m, k, n) in &[(3, 16384, 10), (1, 16384, 16), (5, 4097, 9)] {
                for a_val in [-128i8, -127, 127] {
                    let a = vec![a_val; m * k];
                    let b: Vec<i8> = (0..k * n)
                        .map(|i| if i % 3 == 0 { max } else { -max })
                        .collect();
                    let p = PackedI8::pack_with(&b, k, n, layout).unwrap();
                    let (mut c1, mut c2) = (vec![0i32; m * n], vec![0i32; m * n]);
                    scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
                    relaxed::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
                    assert_eq!(c1, c2, "{layout:?} a={a_val} m={m} k={k}");
                    assert_eq!(c2, naive_i8(&a, m, k, &b, n));
                }
            }
        }
        // The quantized layer end to end: W4 takes the offset layout, W8 the preferred one.
        for bits in [4u8, 8] {
            let w = rng.f32s(96 * 40, 1.0);
            let pf = PackedF32::pack(&w, 96, 40).unwrap();
            let layer = QLinear::from_packed_f32(&pf, None, None, bits).unwrap();
            if bits == 4 {
                assert_eq!(layer.packed().layout(), Layout::Offset64);
            }
            let x = rng.f32s(7 * 96, 3.0);
            let act = ActScales::Dynamic(ActGranularity::PerToken);
            let sim = simulate_linear(&x, 7, 96, &w, 40, None, act, 8, bits).unwrap();
            let qa = layer.quantize_input(&x, 7, act, 8).unwrap();
            let mut acc = vec![0i32; 7 * 40];
            layer.accumulate(&qa, &mut acc).unwrap();
            let acc64: Vec<i64> = acc.iter().map(|&v| i64::from(v)).collect();
            assert_eq!(
                acc64, sim.acc,
                "W{bits}: int8 accumulators = the fake-quant oracle's"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests (native only: proptest is a native dev-dependency).

#[cfg(not(target_arch = "wasm32"))]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn shape() -> impl Strategy<Value = (usize, usize, usize)> {
        (0usize..12, 0usize..48, 1usize..30)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn gemm_i8_is_exact((m, k, n) in shape(), seed in any::<u64>()) {
            let mut rng = Rng(seed);
            let a = rng.i8s(m * k);
            let b = rng.i8s(k * n);
            let p = PackedI8::pack(&b, k, n).unwrap();
            let mut c = vec![0i32; m * n];
            gemm_i8(&a, m, k, &p, &mut c).unwrap();
            prop_assert_eq!(c, naive_i8(&a, m, k, &b, n));
        }

        #[test]
        fn qlinear_matches_simulation(
            (m, k, n) in (1usize..8, 1usize..40, 1usize..20),
            a_bits in 2u8..=8, w_bits in 2u8..=8, act in 0u8..4, bias in any::<bool>(), seed in any::<u64>(),
        ) {
            check_qlinear(&mut Rng(seed), m, k, n, a_bits, w_bits, act, bias);
        }

        #[test]
        fn codes_stay_on_the_grid(xs in proptest::collection::vec(-1e6f32..1e6, 1..64), bits in 2u8..=8) {
            let k = xs.len();
            let qa = QuantizedActs::quantize(&xs, 1, k, ActScales::Dynamic(ActGranularity::PerToken), bits).unwrap();
            let qm = q_max(bits).unwrap();
            prop_assert!(qa.codes().iter().all(|&c| i32::from(c).abs() <= qm));
            // The largest |x| maps to ±q_max exactly.
            prop_assert!(qa.codes().iter().any(|&c| i32::from(c).abs() == qm) || xs.iter().all(|v| v.abs() < 1e-5));
        }
    }
}

/// ONNX DynamicQuantizeLinear written out from the operator's definition, in f64 where it can be.
fn onnx_dynamic_uint8(x: &[f32]) -> (f32, i32, Vec<i32>) {
    let lo = x.iter().fold(0f32, |a, &v| a.min(v));
    let hi = x.iter().fold(0f32, |a, &v| a.max(v));
    let s = (hi - lo) / 255.0;
    let zp = (-lo / s).round_ties_even().clamp(0.0, 255.0) as i32;
    let q = x
        .iter()
        .map(|&v| ((v / s).round_ties_even() + zp as f32).clamp(0.0, 255.0) as i32)
        .collect();
    (s, zp, q)
}

#[test]
fn uint8_dynamic_activations_follow_onnx_and_give_matmulinteger_sums() {
    let mut rng = Rng(77);
    for &(m, k, n) in &[(1, 5, 3), (7, 64, 24), (13, 384, 40)] {
        let mut x = rng.f32s(m * k, 3.0);
        x[0] = 7.5; // a skewed range: zero point far from 128
        let (s, zp, q) = onnx_dynamic_uint8(&x);
        let (qa, zp2) = QuantizedActs::quantize_uint8_dynamic(&x, m, k).unwrap();
        assert_eq!(zp2, zp);
        assert_eq!(qa.scales(), vec![s; m].as_slice());
        let shifted: Vec<i32> = q.iter().map(|&v| v - zp).collect();
        let codes: Vec<i32> = (0..m)
            .flat_map(|r| (0..k).map(move |c| (r, c)))
            .map(|(r, c)| qa.code16(r, c).map_or(i32::MIN, i32::from))
            .collect();
        assert_eq!(codes, shifted);
        let w = rng.f32s(k * n, 0.5);
        let layer = QLinear::new(&w, k, n, None, 8).unwrap();
        let mut acc = vec![0i32; m * n];
        layer.accumulate(&qa, &mut acc).unwrap();
        let wc = layer.weight_codes();
        for r in 0..m {
            for j in 0..n {
                let want: i32 = (0..k)
                    .map(|i| shifted[r * k + i] * i32::from(wc[i * n + j]))
                    .sum();
                assert_eq!(acc[r * n + j], want, "m={m} k={k} n={n}");
            }
        }
    }
    let (zero, zp) = QuantizedActs::quantize_uint8_dynamic(&[0.0; 6], 2, 3).unwrap();
    assert_eq!((zero.scales(), zp), (&[1.0f32, 1.0][..], 0));
    assert!(matches!(
        QuantizedActs::quantize_uint8_dynamic(&[1.0, f32::NAN], 1, 2),
        Err(QuantError::NonFinite { .. })
    ));
}

/// The fused path a model re-quantizes with equals the plain one, code for code and scale for
/// scale, with and without SmoothQuant's row scaling, on ragged shapes and extreme rows.
#[test]
fn qlinear_from_packed_f32_equals_qlinear_new() {
    let mut rng = Rng(77);
    for &k in KS.iter().filter(|&&k| k > 0) {
        for &n in &NS {
            for bits in [8u8, 4] {
                let mut w = rng.f32s(k * n, 2.0);
                if k > 2 {
                    w[n] *= 300.0; // an outlier row entry
                    w[..n].iter_mut().for_each(|v| *v = 0.0); // an all-zero row
                }
                let bias = rng.f32s(n, 1.0);
                let rs: Vec<f32> = (0..k).map(|_| 0.05 + rng.f32().abs() * 4.0).collect();
                let packed = PackedF32::pack(&w, k, n).unwrap();
                for scale in [None, Some(rs.as_slice())] {
                    let scaled: Vec<f32> = match scale {
                        None => w.clone(),
                        Some(s) => w
                            .chunks_exact(n)
                            .zip(s)
                            .flat_map(|(row, &si)| row.iter().map(move |v| v * si))
                            .collect(),
                    };
                    let want = QLinear::new(&scaled, k, n, Some(&bias), bits).unwrap();
                    let got = QLinear::from_packed_f32(&packed, scale, Some(&bias), bits).unwrap();
                    assert_eq!(
                        got,
                        want,
                        "k={k} n={n} bits={bits} scaled={}",
                        scale.is_some()
                    );
                }
                let row_max: Vec<f32> = w
                    .chunks_exact(n)
                    .map(|r| r.iter().fold(0f32, |m, v| m.max(v.abs())))
                    .collect();
                assert_eq!(packed.row_absmax(), row_max, "k={k} n={n}");
            }
        }
    }
    let p = PackedF32::pack(&[1.0, f32::NAN, 2.0, 3.0], 2, 2).unwrap();
    assert!(matches!(
        QLinear::from_packed_f32(&p, None, None, 8),
        Err(QuantError::NonFinite { .. })
    ));
    let p = PackedF32::pack(&[1.0, 2.0, 3.0, 4.0], 2, 2).unwrap();
    assert!(matches!(
        QLinear::from_packed_f32(&p, Some(&[1.0]), None, 8),
        Err(QuantError::LengthMismatch { .. })
    ));
    assert!(matches!(
        QLinear::from_packed_f32(&p, Some(&[1.0, f32::INFINITY]), None, 8),
        Err(QuantError::NonFinite { .. })
    ));
    assert!(QLinear::from_packed_f32(&p, None, None, 9).is_err());
    let empty = PackedF32::pack(&[], 0, 3).unwrap();
    assert!(matches!(
        QLinear::from_packed_f32(&empty, None, None, 8),
        Err(QuantError::Empty { .. })
    ));
}

/// Given per-column scales, the packed path quantizes exactly as `from_codes` on the codes
/// computed by hand; column maxima and column blocks read the packing right.
#[test]
fn packed_helpers_and_given_scales() {
    let mut rng = Rng(91);
    for &(k, n) in &[(1usize, 1usize), (3, 9), (17, 31), (64, 130)] {
        let w = rng.f32s(k * n, 3.0);
        let p = PackedF32::pack(&w, k, n).unwrap();
        let col_max: Vec<f32> = (0..n)
            .map(|j| (0..k).fold(0f32, |m, i| m.max(w[i * n + j].abs())))
            .collect();
        assert_eq!(p.col_absmax(), col_max);
        let scales: Vec<f32> = (0..n).map(|j| 0.01 + 0.003 * j as f32).collect();
        let codes: Vec<i8> = w
            .chunks_exact(n)
            .flat_map(|r| {
                r.iter().zip(&scales).map(|(&v, &s)| {
                    quantlab_kernels::round_half_even(v / s).clamp(-127.0, 127.0) as i8
                })
            })
            .collect();
        let want = QLinear::from_codes(&codes, k, n, &scales, None, 8).unwrap();
        assert_eq!(
            QLinear::from_packed_f32_with_scales(&p, &scales, None, 8).unwrap(),
            want
        );
        // Blocks of 2 panels: every column seen once, in row-major order, written back.
        let doubled = p
            .map_column_blocks(2, |block, width| {
                assert_eq!(block.len() % width, 0);
                block.iter_mut().for_each(|v| *v *= 2.0);
                Ok::<(), ()>(())
            })
            .unwrap();
        let twice: Vec<f32> = w.iter().map(|v| v * 2.0).collect();
        assert_eq!(doubled.to_row_major(), twice);
    }
    let p = PackedF32::pack(&[1.0, 2.0], 1, 2).unwrap();
    assert!(QLinear::from_packed_f32_with_scales(&p, &[1.0], None, 8).is_err());
    assert!(QLinear::from_packed_f32_with_scales(&p, &[1.0, 0.0], None, 8).is_err());
    assert!(p.map_column_blocks(1, |_, _| Err("stop")).is_err());
}

/// Every layout, read by the scalar twin (native and wasm): the same exact sums as the naive
/// product, the weights read back as written, and layouts refuse weights they cannot hold.
#[test]
fn every_layout_gives_the_naive_sums() {
    use quantlab_kernels::Layout;
    let mut rng = Rng(55);
    for layout in [Layout::Pairs, Layout::Quads, Layout::Offset64] {
        for case in 0..60 {
            let (m, k, n) = (rng.below(9), rng.below(40), 1 + rng.below(30));
            let max = if layout == Layout::Offset64 { 63 } else { 127 };
            let b: Vec<i8> = (0..k * n).map(|_| rng.i8().clamp(-max, max)).collect();
            let p = PackedI8::pack_with(&b, k, n, layout).unwrap();
            assert_eq!(p.layout(), layout);
            assert_eq!(p.to_row_major(), b, "{layout:?} case {case}");
            let a = rng.i8s(m * k);
            let mut c = vec![0i32; m * n];
            scalar::gemm_i8(&a, m, k, &p, &mut c).unwrap();
            assert_eq!(c, naive_i8(&a, m, k, &b, n), "{layout:?} case {case}");
            // Column sums (the unsigned kernel's correction), padding columns 0.
            let mut sums = vec![0i32; n.div_ceil(8) * 8];
            for (i, v) in b.iter().enumerate() {
                sums[i % n] += i32::from(*v);
            }
            assert_eq!(
                p.col_sums(),
                &sums[..],
                "{layout:?} case {case}: column sums"
            );
        }
    }
    assert!(PackedI8::pack_with(&[64], 1, 1, Layout::Offset64).is_err());
    assert!(PackedI8::pack_with(&[-128], 1, 1, Layout::Quads).is_err());
    assert!(PackedI8::pack_with(&[-128], 1, 1, Layout::Pairs).is_ok());
    // What this build packs by default.
    let w4 = PackedI8::pack(&[7, -7, 3], 3, 1).unwrap().layout();
    let w8 = PackedI8::pack(&[100, -127], 2, 1).unwrap().layout();
    if quantlab_kernels::relaxed_available() {
        assert_eq!(w4, Layout::Offset64);
        assert_eq!(
            w8,
            if quantlab_kernels::prefer_relaxed_w8() {
                Layout::Quads
            } else {
                Layout::Pairs
            }
        );
    } else {
        assert_eq!((w4, w8), (Layout::Pairs, Layout::Pairs));
    }
}

/// A layer repacked in another layout computes the same outputs bit for bit (its codes, scales
/// and bias are unchanged; only the kernel that reads them differs).
#[test]
fn a_repacked_layer_gives_the_same_outputs() {
    use quantlab_kernels::Layout;
    let mut rng = Rng(77);
    for w_bits in [4u8, 8] {
        let (m, k, n) = (5, 37, 19);
        let w: Vec<f32> = (0..k * n).map(|_| rng.f32() - 0.5).collect();
        let bias: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let x: Vec<f32> = (0..m * k).map(|_| 4.0 * rng.f32() - 2.0).collect();
        let layer = QLinear::new(&w, k, n, Some(&bias), w_bits).unwrap();
        let mut want = vec![0f32; m * n];
        layer
            .forward(&x, m, ActGranularity::PerToken, 8, &mut want)
            .unwrap();
        let layouts: &[Layout] = if w_bits == 4 {
            &[Layout::Pairs, Layout::Quads, Layout::Offset64]
        } else {
            &[Layout::Pairs, Layout::Quads]
        };
        for &layout in layouts {
            let other = layer.repacked(layout).unwrap();
            assert_eq!(other.packed().layout(), layout);
            assert_eq!(other.weight_codes(), layer.weight_codes());
            let mut got = vec![0f32; m * n];
            other
                .forward(&x, m, ActGranularity::PerToken, 8, &mut got)
                .unwrap();
            assert_eq!(got, want, "W{w_bits} {layout:?}");
        }
    }
    let w8 = QLinear::new(&[1.0, -1.0], 2, 1, None, 8).unwrap();
    assert!(w8.repacked(Layout::Offset64).is_err());
}

/// The native x86-64 twins of the GEMMs against the scalar ones, bit for bit.
#[cfg(target_arch = "x86_64")]
mod x86_twins {
    use super::*;
    use quantlab_kernels::{scalar, x86};

    fn bits_eq(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn x86_equals_scalar_on_random_shapes() {
        let mut rng = Rng(20);
        for case in 0..400 {
            let m = rng.below(13);
            let k = rng.below(70);
            let n = 1 + rng.below(40);
            let a = rng.i8s(m * k);
            let b = rng.i8s(k * n);
            let p = PackedI8::pack(&b, k, n).unwrap();
            let (mut c1, mut c2) = (vec![1i32; m * n], vec![2i32; m * n]);
            scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
            x86::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "case {case}: m={m} k={k} n={n}");
            let af = rng.f32s(m * k, 2.0);
            let bf = rng.f32s(k * n, 2.0);
            let pf = PackedF32::pack(&bf, k, n).unwrap();
            let (mut f1, mut f2) = (vec![1f32; m * n], vec![2f32; m * n]);
            scalar::gemm_f32(&af, m, k, &pf, &mut f1).unwrap();
            x86::gemm_f32(&af, m, k, &pf, &mut f2).unwrap();
            assert!(bits_eq(&f1, &f2), "case {case}: f32 m={m} k={k} n={n}");
            let lda = quantlab_kernels::act_stride(k);
            let scales: Vec<f32> = (0..m).map(|_| 0.001 + rng.f32().abs() * 0.03).collect();
            let mut q1 = vec![0i16; m * lda];
            scalar::quantize_rows_i16(&af, m, k, &scales, 127, &mut q1, lda).unwrap();
            scalar::qgemm_i32(&q1, m, lda, &p, &mut c1).unwrap();
            x86::qgemm_i32(&q1, m, lda, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "case {case}: qgemm_i32");
            let cs: Vec<f32> = (0..n).map(|_| rng.f32().abs() * 0.01 + 1e-4).collect();
            let bias = rng.f32s(n, 1.0);
            for bias in [None, Some(&bias[..])] {
                scalar::qgemm_f32(&q1, m, lda, &p, &scales, &cs, bias, &mut f1).unwrap();
                x86::qgemm_f32(&q1, m, lda, &p, &scales, &cs, bias, &mut f2).unwrap();
                assert!(bits_eq(&f1, &f2), "case {case}: qgemm_f32");
            }
        }
    }

    #[test]
    fn x86_equals_scalar_on_extreme_codes() {
        // −128 activations against −128 and 127 weights, the largest products, K odd.
        for &(m, k, n) in &[(1usize, 301usize, 9usize), (5, 1023, 17), (9, 64, 8)] {
            let a = vec![-128i8; m * k];
            let b: Vec<i8> = (0..k * n)
                .map(|i| if i % 3 == 0 { -128 } else { 127 })
                .collect();
            let p = PackedI8::pack(&b, k, n).unwrap();
            let (mut c1, mut c2) = (vec![0i32; m * n], vec![0i32; m * n]);
            scalar::gemm_i8(&a, m, k, &p, &mut c1).unwrap();
            x86::gemm_i8(&a, m, k, &p, &mut c2).unwrap();
            assert_eq!(c1, c2, "m={m} k={k} n={n}");
        }
    }
}

/// llama.cpp's block formats: decoding against values written out here, and the fused dot
/// against the decoded row (and, under wasm32, the SIMD128 dot against its scalar twin).
mod ggml_blocks {
    use super::*;
    use quantlab_kernels::ggml::{self, BlockType};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// IEEE binary16 from its definition, in f64.
    fn f16_ref(h: u16) -> f64 {
        let s = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        let e = i32::from((h >> 10) & 0x1f);
        let m = f64::from(h & 0x3ff);
        match e {
            0 => s * m / 1024.0 * 2f64.powi(-14),
            31 if m == 0.0 => s * f64::INFINITY,
            31 => f64::NAN,
            _ => s * (1.0 + m / 1024.0) * 2f64.powi(e - 15),
        }
    }

    #[test]
    fn every_f16_widens_exactly() {
        for h in 0..=u16::MAX {
            let (got, want) = (ggml::f16_to_f32(h), f16_ref(h));
            if want.is_nan() {
                assert!(got.is_nan(), "{h:#06x}");
            } else {
                assert_eq!(f64::from(got), want, "{h:#06x}");
                assert_eq!(got.is_sign_negative(), h & 0x8000 != 0, "{h:#06x}");
            }
        }
        assert_eq!(ggml::bf16_to_f32(0x3f80), 1.0);
        assert_eq!(ggml::bf16_to_f32(0xc0a0), -5.0);
    }

    /// One block of each type, with its values computed by hand.
    #[test]
    fn blocks_decode_to_their_values() {
        // Q4_1: d = 0.5 (0x3800), m = −2 (0xc000); byte j = (j low, 15 − j high).
        let mut q41 = vec![0x00, 0x38, 0x00, 0xc0];
        q41.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let mut out = vec![0f32; 32];
        ggml::decode_row(BlockType::Q4_1, &q41, &mut out).unwrap();
        for j in 0..16 {
            assert_eq!(out[j], j as f32 * 0.5 - 2.0);
            assert_eq!(out[16 + j], (15 - j) as f32 * 0.5 - 2.0);
        }
        // Q4_0: d = 2 (0x4000); value = (nibble − 8)·d.
        let mut q40 = vec![0x00, 0x40];
        q40.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        ggml::decode_row(BlockType::Q4_0, &q40, &mut out).unwrap();
        for j in 0..16 {
            assert_eq!(out[j], (j as f32 - 8.0) * 2.0);
            assert_eq!(out[16 + j], (7.0 - j as f32) * 2.0);
        }
        // Q8_0: d = 0.25 (0x3400); q = −128 … 127 in steps.
        let mut q80 = vec![0x00, 0x34];
        q80.extend((0..32).map(|j| (j * 8 - 128) as i8 as u8));
        ggml::decode_row(BlockType::Q8_0, &q80, &mut out).unwrap();
        for (j, v) in out.iter().enumerate() {
            assert_eq!(*v, (j as f32 * 8.0 - 128.0) * 0.25);
        }
        // F16 subnormal and infinity; a wrong length is an error, not a panic.
        let mut two = [0f32; 2];
        ggml::decode_row(BlockType::F16, &[0x01, 0x00, 0x00, 0x7c], &mut two).unwrap();
        assert_eq!(two, [2f32.powi(-24), f32::INFINITY]);
        assert!(ggml::decode_row(BlockType::Q4_1, &q41[..19], &mut out).is_err());
        assert!(ggml::decode_row(BlockType::Q8_0, &q80, &mut out[..31]).is_err());
    }

    fn random_row(rng: &mut Rng, ty: BlockType, blocks: usize) -> Vec<u8> {
        let mut row = Vec::new();
        for _ in 0..blocks {
            // Scales between 2^-8 and 2 with either sign (f16 bits built directly).
            let scale = |rng: &mut Rng| -> [u8; 2] {
                let e = 7 + rng.below(9) as u16;
                let bits = (e << 10) | (rng.next() as u16 & 0x3ff) | (rng.next() as u16 & 0x8000);
                bits.to_le_bytes()
            };
            match ty {
                BlockType::Q8_0 => {
                    row.extend(scale(rng));
                    row.extend((0..32).map(|_| rng.next() as u8));
                }
                BlockType::Q4_0 => {
                    row.extend(scale(rng));
                    row.extend((0..16).map(|_| rng.next() as u8));
                }
                _ => {
                    row.extend(scale(rng));
                    row.extend(scale(rng));
                    row.extend((0..16).map(|_| rng.next() as u8));
                }
            }
        }
        row
    }

    #[test]
    fn the_fused_dot_is_the_decoded_rows_dot() {
        let mut rng = Rng(30);
        for ty in [BlockType::Q8_0, BlockType::Q4_0, BlockType::Q4_1] {
            for blocks in [1usize, 2, 5, 18, 48] {
                let row = random_row(&mut rng, ty, blocks);
                let x = rng.f32s(32 * blocks, 3.0);
                let mut w = vec![0f32; 32 * blocks];
                ggml::decode_row(ty, &row, &mut w).unwrap();
                // The build's decoding (SIMD128 under wasm32) is its scalar twin's, bit for bit.
                let mut w2 = vec![0f32; 32 * blocks];
                ggml::decode_row_scalar(ty, &row, &mut w2);
                assert!(
                    w.iter().zip(&w2).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{ty:?}"
                );
                let exact: f64 = w
                    .iter()
                    .zip(&x)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                let size: f64 = w
                    .iter()
                    .zip(&x)
                    .map(|(&a, &b)| (f64::from(a) * f64::from(b)).abs())
                    .sum();
                let mut sums = Vec::new();
                ggml::block_sums(&x, &mut sums);
                let got = ggml::dot_row(ty, &row, &x, &sums).unwrap();
                // Two f32 orderings of the same sum: within (K + 4)·ulp of the magnitude.
                let bound = (32 * blocks + 4) as f64 * f64::from(f32::EPSILON) * size;
                assert!(
                    (f64::from(got) - exact).abs() <= bound,
                    "{ty:?} {blocks}: {got} vs {exact}"
                );
                assert_eq!(
                    got.to_bits(),
                    ggml::dot_blocks_scalar(ty, &row, &x, &sums).to_bits(),
                    "{ty:?}: dot_row must be the twin the build uses"
                );
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                assert_eq!(
                    ggml::dot_blocks_simd128(ty, &row, &x, &sums).to_bits(),
                    ggml::dot_blocks_scalar(ty, &row, &x, &sums).to_bits(),
                    "{ty:?} {blocks}: SIMD128 and scalar twins"
                );
            }
        }
        // Many rows at once: each row's dot_row, lengths checked once.
        for ty in [BlockType::Q8_0, BlockType::Q4_1, BlockType::F16] {
            let rows: Vec<Vec<u8>> = (0..5)
                .map(|_| match ty {
                    BlockType::F16 => (0..128)
                        .map(|i| if i % 2 == 1 { 0x3c } else { 0 })
                        .collect(),
                    _ => random_row(&mut rng, ty, 2),
                })
                .collect();
            let x = rng.f32s(64, 1.0);
            let mut sums = Vec::new();
            ggml::block_sums(&x, &mut sums);
            let mut out = vec![0f32; 5];
            ggml::dot_rows(ty, &rows.concat(), &x, &sums, &mut out).unwrap();
            for (o, r) in out.iter().zip(&rows) {
                assert_eq!(
                    o.to_bits(),
                    ggml::dot_row(ty, r, &x, &sums).unwrap().to_bits()
                );
            }
            assert!(ggml::dot_rows(ty, &rows.concat()[1..], &x, &sums, &mut out).is_err());
        }
        // Q4_1 needs one block sum per block.
        let row = random_row(&mut rng, BlockType::Q4_1, 2);
        assert!(ggml::dot_row(BlockType::Q4_1, &row, &[0.0; 64], &[0.0]).is_err());
    }
}
