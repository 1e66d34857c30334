//! Native micro-benchmark of the engine's per-frame work (prints timings, asserts nothing).
//!
//!     cargo run --release --example engine_bench
//!
//! Budgets from the issue (in the browser, wasm): fake-quantize + metrics + 256-bin
//! histogram of 65,536 values ≤ 2 ms; entropy calibration of 65,536 values ≤ 10 ms.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::time::Instant;

    use quantlab_engine::calibrate::entropy;
    use quantlab_engine::synth::{generate, llm_like, Distribution, LlmLike};
    use quantlab_engine::*;

    fn time<T>(name: &str, reps: u32, mut f: impl FnMut() -> T) {
        let _ = f(); // warm-up
        let mut best = f64::INFINITY;
        let mut total = 0.0;
        for _ in 0..reps {
            let t = Instant::now();
            std::hint::black_box(f());
            let dt = t.elapsed().as_secs_f64() * 1e3;
            best = best.min(dt);
            total += dt;
        }
        println!(
            "{name:<58} best {best:8.3} ms   mean {:8.3} ms",
            total / f64::from(reps)
        );
    }

    let n = 65_536;
    let x = generate(
        &Distribution::Laplace {
            loc: 0.0,
            scale: 1.0,
        },
        n,
        1,
    )
    .unwrap();
    let sch = Scheme::seminar_int8();
    let p = QParams::from_range(-8.0, 8.0, &sch).unwrap();
    let mut out = vec![0.0f32; n];
    println!("65,536 Laplace values, int8 narrow asymmetric");
    time("fake_quantize_into + metrics", 200, || {
        fake_quantize_into(&x, &p, &sch, NonFinitePolicy::Reject, &mut out)
    });
    time("histogram 256 bins", 200, || histogram(&x, 256, -8.0, 8.0));
    time(
        "fake-quant + metrics + 256-bin histogram (the frame)",
        200,
        || {
            let m = fake_quantize_into(&x, &p, &sch, NonFinitePolicy::Reject, &mut out);
            let h = histogram(&out, 256, -8.0, 8.0);
            (m, h)
        },
    );
    let away = sch.with_rounding(Rounding::HalfAway);
    time("fake_quantize_into + metrics, round half away", 200, || {
        fake_quantize_into(&x, &p, &away, NonFinitePolicy::Reject, &mut out)
    });
    let sym = Scheme {
        symmetric: true,
        ..sch
    };
    time(
        "entropy search only (histogram + 1921 KL candidates)",
        50,
        || entropy::search(&x, -20.0, 20.0, &sym),
    );
    time("calibrate(Entropy) incl. min/max and metrics", 50, || {
        calibrate(&x, &sym, &Calibrator::Entropy)
    });
    time("calibrate(MinMax)", 100, || {
        calibrate(&x, &sym, &Calibrator::MinMax)
    });
    time("calibrate(Percentile 99.99)", 50, || {
        calibrate(&x, &sym, &Calibrator::Percentile { p: 99.99 })
    });
    time("calibrate(Mse) (100 candidates)", 10, || {
        calibrate(&x, &sym, &Calibrator::Mse)
    });
    let (shape, d, _) = llm_like(&LlmLike::default(), 3).unwrap();
    let m = ndarray::ArrayView2::from_shape((shape[0], shape[1]), &d).unwrap();
    time("per-channel minmax, 128 x 512 LLM-like", 50, || {
        quantize_granular(
            m,
            &sch,
            Granularity::PerChannel { axis: 1 },
            &Calibrator::MinMax,
            NonFinitePolicy::Reject,
        )
    });
    time("per-group 128 mse, 128 x 512 LLM-like", 5, || {
        quantize_granular(
            m,
            &sch,
            Granularity::PerGroup { axis: 1, size: 128 },
            &Calibrator::Mse,
            NonFinitePolicy::Reject,
        )
    });
    let bytes = write_npy_f32(&shape, &d).unwrap();
    time("read_npy 65,536 f32", 100, || {
        read_npy(&bytes, &NpyLimits::default())
    });
}

#[cfg(target_arch = "wasm32")]
fn main() {}
