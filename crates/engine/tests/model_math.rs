//! The model's branch-free erf and exp against libm's and f64's.
#![cfg(not(target_arch = "wasm32"))]

use quantlab_engine::model::bert::{erf, exp_nonpositive, gelu};

#[test]
fn erf_is_within_4e_7_of_libm() {
    let mut worst = 0f32;
    for i in -600_000..=600_000 {
        let x = i as f32 * 1e-5;
        worst = worst.max((erf(x) - libm::erff(x)).abs());
    }
    assert!(worst < 4e-7, "max |erf − erff| = {worst}");
    for x in [0.0f32, -0.0, 1e-30, 7.0, 40.0, f32::MAX, -f32::MAX] {
        assert!((erf(x) - libm::erff(x)).abs() < 4e-7, "{x}");
    }
    assert_eq!(erf(f32::INFINITY), 1.0);
    assert_eq!(erf(f32::NEG_INFINITY), -1.0);
    assert!(erf(f32::NAN).is_nan());
}

#[test]
fn gelu_is_within_1e_6_absolute_and_relative() {
    for i in -80_000..=80_000 {
        let x = i as f32 * 1e-4;
        let exact = 0.5 * f64::from(x) * (1.0 + libm::erf(f64::from(x) / 2f64.sqrt()));
        let got = f64::from(gelu(x));
        assert!(
            (got - exact).abs() <= 1e-6 * exact.abs().max(1.0),
            "{x}: {got} vs {exact}"
        );
    }
}

#[test]
fn exp_of_nonpositive_values_is_within_2_ulp() {
    for i in 0..=870_000 {
        let x = -(i as f32) * 1e-4;
        let exact = f64::from(x).exp();
        let got = f64::from(exp_nonpositive(x));
        assert!(
            (got - exact).abs() <= 2.5e-7 * exact,
            "{x}: {got} vs {exact}"
        );
    }
    assert_eq!(exp_nonpositive(0.0), 1.0);
    assert!(exp_nonpositive(-200.0) < 2e-38);
    assert!(exp_nonpositive(f32::NEG_INFINITY) < 2e-38);
}
