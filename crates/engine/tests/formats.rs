//! Float formats against `tests/fixtures/formats.json`, written by
//! `tests/fixtures/gen_formats.py` with `ml_dtypes` (the element casts, all codes of
//! E4M3/E5M2/E2M1) and a NumPy transcription of the OCP MX v1.0 and NVFP4 recipes (tensors with
//! an outlier channel, all-zero blocks, ragged last blocks, subnormal scales). Every value must
//! match bit for bit: each step is one correctly rounded f32 operation on both sides.
//! Runs natively and on wasm32 (the fixture is compiled in).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use ndarray::Array2;
use quantlab_engine::format::block::mx_scale;
use quantlab_engine::{
    quantize_format, BlockFormat, Element, Format, Granularity, NonFinitePolicy, QuantError,
};
use serde_json::Value;

const FIXTURE: &str = include_str!("../../../tests/fixtures/formats.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("formats.json parses")
}

/// A JSON number, "inf"/"-inf", or null (NaN).
fn num(v: &Value) -> f32 {
    match v {
        Value::Null => f32::NAN,
        Value::String(s) if s == "inf" => f32::INFINITY,
        Value::String(s) if s == "-inf" => f32::NEG_INFINITY,
        v => v.as_f64().expect("a number") as f32,
    }
}

fn nums(v: &Value) -> Vec<f32> {
    v.as_array().expect("an array").iter().map(num).collect()
}

fn element(name: &str) -> Element {
    match name {
        "fp16" => Element::Fp16,
        "bf16" => Element::Bf16,
        "e4m3" => Element::E4m3,
        "e5m2" => Element::E5m2,
        "e2m1" => Element::E2m1,
        _ => panic!("unknown element {name}"),
    }
}

/// Equal as f32 bit patterns (so −0 ≠ +0), NaN equal to NaN.
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn every_code_decodes_to_the_ocp_value() {
    let f = fixture();
    for name in ["e4m3", "e5m2", "e2m1"] {
        let e = element(name);
        let want = nums(&f["codes"][name]);
        assert_eq!(want.len(), 1 << e.bits());
        for (code, &w) in want.iter().enumerate() {
            let got = e.decode(code as u32);
            assert!(same(got, w), "{name} code {code:#04x}: {got} vs {w}");
            if w.is_finite() {
                assert_eq!(e.encode(w), code as u32, "{name} {w}");
            }
        }
    }
}

#[test]
fn casts_round_half_to_even_and_saturate_like_ml_dtypes() {
    let f = fixture();
    for (name, case) in f["casts"].as_object().expect("casts") {
        let e = element(name);
        let (x, q) = (nums(&case["x"]), nums(&case["q"]));
        assert_eq!(x.len(), q.len());
        for (&x, &q) in x.iter().zip(&q) {
            let got = e.cast(x).0;
            assert!(
                same(got, q),
                "{name}: cast({x:e}) = {got:e}, ml_dtypes {q:e}"
            );
        }
    }
}

fn tensor(t: &Value) -> Array2<f32> {
    let (r, c) = (
        t["rows"].as_u64().expect("rows") as usize,
        t["cols"].as_u64().expect("cols") as usize,
    );
    Array2::from_shape_vec((r, c), nums(&t["x"])).expect("shape")
}

fn check(name: &str, what: &str, got: &Array2<f32>, want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{name} {what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(same(g, w), "{name} {what} [{i}]: {g:e} vs {w:e}");
    }
}

#[test]
fn scaled_fp8_and_fp4_match_numpy_per_tensor_row_and_column() {
    let f = fixture();
    for t in f["tensors"].as_array().expect("tensors") {
        let name = t["name"].as_str().expect("name");
        let x = tensor(t);
        for (key, want) in t["scaled"].as_object().expect("scaled") {
            let (fmt, gran) = key.split_once('_').expect("fmt_gran");
            let g = match gran {
                "tensor" => Granularity::PerTensor,
                "row" => Granularity::PerToken,
                "col" => Granularity::PerChannel { axis: 1 },
                _ => panic!("{gran}"),
            };
            let r = quantize_format(
                x.view(),
                Format::Scaled(element(fmt)),
                g,
                NonFinitePolicy::Reject,
            )
            .expect("quantizes");
            check(name, key, &r.dequantized, &nums(want));
        }
    }
}

#[test]
fn mx_and_nvfp4_match_numpy_with_their_block_scales() {
    let f = fixture();
    for t in f["tensors"].as_array().expect("tensors") {
        let name = t["name"].as_str().expect("name");
        let x = tensor(t);
        for (key, b) in [
            ("mxfp8", BlockFormat::Mxfp8),
            ("mxfp4", BlockFormat::Mxfp4),
            ("nvfp4", BlockFormat::Nvfp4),
        ] {
            let r = quantize_format(
                x.view(),
                Format::Block(b),
                Granularity::PerTensor,
                NonFinitePolicy::Reject,
            )
            .expect("quantizes");
            check(name, key, &r.dequantized, &nums(&t[key]));
            if b == BlockFormat::Nvfp4 {
                assert!(same(
                    r.tensor_scale.expect("a tensor scale"),
                    num(&t["nvfp4_tensor_scale"])
                ));
                let want = nums(&t["nvfp4_block_scales"]);
                assert!(
                    r.scales.iter().zip(&want).all(|(a, b)| same(*a, *b)),
                    "{name}"
                );
            } else {
                let exps: Vec<i32> = t["mx_scales"][key]
                    .as_array()
                    .expect("exponents")
                    .iter()
                    .map(|e| e.as_i64().expect("int") as i32)
                    .collect();
                assert_eq!(r.scales.len(), exps.len(), "{name} {key}");
                for (&s, &e) in r.scales.iter().zip(&exps) {
                    let want = 2f64.powi(e) as f32;
                    assert!(same(s, want), "{name} {key}: scale {s:e} vs 2^{e}");
                }
            }
        }
    }
}

#[test]
fn bits_per_value_count_the_scales() {
    let x = Array2::from_shape_fn((4, 64), |(r, c)| (r as f32 - 1.5) * (c as f32 + 1.0));
    let bpv = |f: Format, g: Granularity| {
        quantize_format(x.view(), f, g, NonFinitePolicy::Reject)
            .expect("quantizes")
            .bits_per_value
    };
    let t = Granularity::PerTensor;
    assert_eq!(bpv(Format::Block(BlockFormat::Mxfp4), t), 4.25);
    assert_eq!(bpv(Format::Block(BlockFormat::Mxfp8), t), 8.25);
    assert_eq!(
        bpv(Format::Block(BlockFormat::Nvfp4), t),
        4.5 + 32.0 / 256.0
    );
    assert_eq!(bpv(Format::Scaled(Element::E4m3), t), 8.0 + 32.0 / 256.0);
    assert_eq!(
        bpv(Format::Scaled(Element::E2m1), Granularity::PerToken),
        4.5
    );
    assert_eq!(bpv(Format::Cast(Element::Bf16), t), 16.0);
}

#[test]
fn nonfinite_input_follows_the_policy() {
    let mut x = Array2::from_shape_fn((2, 40), |(r, c)| r as f32 + c as f32 * 0.1);
    x[[1, 3]] = f32::NAN;
    x[[0, 39]] = f32::INFINITY;
    let f = Format::Block(BlockFormat::Mxfp4);
    let rejected = quantize_format(x.view(), f, Granularity::PerTensor, NonFinitePolicy::Reject);
    assert!(matches!(
        rejected,
        Err(QuantError::NonFinite { count: 2, .. })
    ));
    let r =
        quantize_format(x.view(), f, Granularity::PerTensor, NonFinitePolicy::Skip).expect("skips");
    assert_eq!((r.overall.skipped, r.overall.n), (2, 78));
    assert!(r.dequantized[[1, 3]].is_nan());
    assert_eq!(r.dequantized[[0, 39]], f32::INFINITY);
    // The block's scale comes from its finite values only.
    assert_eq!(r.scales[1], mx_scale(3.8, Element::E2m1));
    let none = Array2::from_elem((1, 3), f32::NAN);
    assert!(matches!(
        quantize_format(
            none.view(),
            f,
            Granularity::PerTensor,
            NonFinitePolicy::Skip
        ),
        Err(QuantError::AllNonFinite { .. })
    ));
}

#[test]
fn granularity_is_refused_where_the_format_fixes_its_blocks() {
    let x = Array2::from_elem((2, 4), 1.0f32);
    for f in [
        Format::Cast(Element::Fp16),
        Format::Block(BlockFormat::Nvfp4),
    ] {
        assert!(
            quantize_format(x.view(), f, Granularity::PerToken, NonFinitePolicy::Reject).is_err()
        );
    }
}
