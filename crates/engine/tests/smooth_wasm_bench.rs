//! Timings of the chapters' per-frame engine work in WebAssembly (V8 via Node, SIMD128 as the
//! app ships), on the real L5_fc1 and L0_fc2 layers. Ignored by default and compiled only for
//! wasm32; run it with the app's release profile:
//!
//!     cargo test --release --target wasm32-unknown-unknown --test smooth_wasm_bench -- --include-ignored --nocapture
//!
//! It prints timings and asserts nothing about them (budgets in the browser: an α update on
//! L5_fc1 ≤ 50 ms, the 21-point sweep ≤ 300 ms, one learned-rotation step ≤ 30 ms).
#![cfg(target_arch = "wasm32")]

use quantlab_engine::linear::{LayerCase, LayerQuant};
use quantlab_engine::rotate::learn::LearnConfig;
use quantlab_engine::rotate::{Learner, Rotated, Rotation};
use quantlab_engine::smooth::{alpha_grid, SmoothCase};
use quantlab_engine::{read_npy, NpyLimits};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

fn now() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let f: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into()).unwrap().into();
    f.call0(&perf).unwrap().as_f64().unwrap()
}

fn time<T>(name: &str, reps: u32, mut f: impl FnMut() -> T) -> T {
    let mut out = f();
    let mut best = f64::INFINITY;
    let mut total = 0.0;
    for _ in 0..reps {
        let t = now();
        out = f();
        let dt = now() - t;
        best = best.min(dt);
        total += dt;
    }
    console_log!(
        "{name:<58} best {best:8.2} ms  mean {:8.2} ms",
        total / f64::from(reps)
    );
    out
}

fn layer(x: &[u8], w: &[u8]) -> LayerCase {
    let x = read_npy(x, &NpyLimits::default()).unwrap();
    let w = read_npy(w, &NpyLimits::default()).unwrap();
    LayerCase::new(x.view2().unwrap(), w.view2().unwrap()).unwrap()
}

#[wasm_bindgen_test]
#[ignore]
fn per_frame_work() {
    for (name, x, w) in [
        (
            "L5_fc1",
            &include_bytes!("../../../assets/data/minilm/L5_fc1_X.npy")[..],
            &include_bytes!("../../../assets/data/minilm/L5_fc1_W_f16.npy")[..],
        ),
        (
            "L0_fc2",
            &include_bytes!("../../../assets/data/minilm/L0_fc2_X.npy")[..],
            &include_bytes!("../../../assets/data/minilm/L0_fc2_W_f16.npy")[..],
        ),
    ] {
        console_log!("{name}");
        let case = time("LayerCase::new (f64 reference X·W)", 2, || layer(x, w));
        let sc = SmoothCase::new(case.clone()).unwrap();
        let cfg = LayerQuant::default();
        time("baseline error (quantize + int8 GEMM + error)", 5, || {
            sc.baseline(&cfg).unwrap()
        });
        time(
            "α update (smooth + quantize + int8 GEMM + error)",
            5,
            || sc.error_at(0.5, &cfg).unwrap(),
        );
        {
            use quantlab_engine::linear::{
                quantize_symmetric, quantized_matmul, Operand, ScaleAxis,
            };
            let (t, c, n) = (case.tokens(), case.in_channels(), case.out_channels());
            let (x2, w2) = sc.apply(&sc.scales(0.5).unwrap()).unwrap();
            time("  part: smooth_scales + X′, W′ materialised", 5, || {
                sc.apply(&sc.scales(0.5).unwrap()).unwrap()
            });
            time("  part: quantize W′ (per output channel)", 5, || {
                quantize_symmetric(&w2, c, n, 8, ScaleAxis::Cols).unwrap()
            });
            time("  part: quantize X′ (per token)", 5, || {
                quantize_symmetric(&x2, t, c, 8, ScaleAxis::Rows).unwrap()
            });
            let qa = quantize_symmetric(&x2, t, c, 8, ScaleAxis::Rows).unwrap();
            let qw = quantize_symmetric(&w2, c, n, 8, ScaleAxis::Cols).unwrap();
            time("  part: PackedI8::pack", 5, || {
                quantlab_kernels::PackedI8::pack(&qw.codes, c, n).unwrap()
            });
            time(
                "  part: quantized_matmul (pack + int8 GEMM + f64 scaling)",
                5,
                || {
                    quantized_matmul(Operand::Quantized(&qa), Operand::Quantized(&qw), t, c, n)
                        .unwrap()
                },
            );
        }
        let alphas = alpha_grid(0.0, 1.0, 0.05).unwrap();
        time("21-point α sweep + baseline", 2, || {
            sc.sweep(&alphas, &cfg).unwrap()
        });
        time("identity check (f32 GEMM)", 3, || {
            sc.identity_check(0.5).unwrap()
        });
        time("rotate hadamard (X and W by FWHT)", 3, || {
            Rotated::new(&case, &Rotation::Hadamard).unwrap()
        });
        let (t, c, n) = (case.tokens(), case.in_channels(), case.out_channels());
        time("  rotate hadamard X only (online, per call)", 10, || {
            Rotation::Hadamard.rotate_x(case.x(), t, c).unwrap()
        });
        time("  rotate hadamard W only (once per layer)", 5, || {
            Rotation::Hadamard.rotate_w(case.w(), c, n).unwrap()
        });
        if case.in_channels() <= 384 {
            time("rotate random:0 (QR + dense X·R, Rᵀ·W)", 1, || {
                Rotated::new(&case, &Rotation::Random(0)).unwrap()
            });
            for block in [32usize, 64] {
                let lc = LearnConfig {
                    block,
                    ..LearnConfig::default()
                };
                let mut l = Learner::new(&case, &Rotation::Hadamard, lc).unwrap();
                time(
                    &format!("learned-rotation step (block {block}, 256 gradient columns)"),
                    10,
                    || l.step(1).unwrap(),
                );
            }
        }
    }
}
