//! Native micro-benchmark of the outliers / SmoothQuant / rotation work on the shipped MiniLM
//! layers (prints timings and the numbers; asserts nothing).
//!
//!     cargo run --release --example smooth_bench            # the app's size-optimised profile
//!     cargo run --profile bench-wasm --example smooth_bench # opt-level 3
//!
//! Budgets (browser): an α update on L5_fc1 ≤ 50 ms, the 21-point sweep ≤ 300 ms, one
//! learned-rotation step (C = 384) ≤ 30 ms. Set SMOOTH_BENCH_QUICK=1 to skip the slow parts.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::time::Instant;

    use quantlab_engine::linear::{ActGranularity, LayerCase, LayerQuant};
    use quantlab_engine::rotate::{
        learn::LearnConfig, rotation_report, Learner, Rotated, Rotation, STANDARD_CONFIGS,
    };
    use quantlab_engine::smooth::{alpha_grid, SmoothCase};
    use quantlab_engine::{read_npy, NpyLimits};

    fn time<T>(name: &str, reps: u32, mut f: impl FnMut() -> T) -> T {
        let mut out = f(); // warm-up
        let mut best = f64::INFINITY;
        let mut total = 0.0;
        for _ in 0..reps {
            let t = Instant::now();
            out = std::hint::black_box(f());
            let dt = t.elapsed().as_secs_f64() * 1e3;
            best = best.min(dt);
            total += dt;
        }
        println!(
            "  {name:<62} best {best:9.3} ms   mean {:9.3} ms",
            total / f64::from(reps)
        );
        out
    }

    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("assets/data/minilm");
    let load = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).expect("read npy");
        read_npy(&bytes, &NpyLimits::default()).expect("parse npy")
    };
    let quick = std::env::var("SMOOTH_BENCH_QUICK").is_ok();
    // SMOOTH_BENCH_LAYERS=L5_fc1,L1_fc1 picks layers; SMOOTH_BENCH_LEARN_ONLY=1 skips to the learner.
    let layers =
        std::env::var("SMOOTH_BENCH_LAYERS").unwrap_or_else(|_| "L5_fc1,L1_fc1,L0_fc2".into());
    let learn_only = std::env::var("SMOOTH_BENCH_LEARN_ONLY").is_ok();
    for layer in layers.split(',') {
        let x = load(&format!("{layer}_X.npy"));
        let w = load(&format!("{layer}_W_f16.npy"));
        println!(
            "{layer}: X {:?}, W {:?} (f16 widened to f32)",
            x.shape, w.shape
        );
        let case = time("LayerCase::new (f64 reference X·W)", 3, || {
            LayerCase::new(x.view2().unwrap(), w.view2().unwrap()).unwrap()
        });
        let c = case.in_channels();
        if !learn_only {
            let sc = SmoothCase::new(case.clone()).unwrap();
            let cfg = LayerQuant::default();
            time("baseline error W8A8 per-token (no smoothing)", 10, || {
                sc.baseline(&cfg).unwrap()
            });
            time(
                "α update: smooth + quantize + int8 GEMM + error",
                10,
                || sc.error_at(0.5, &cfg).unwrap(),
            );
            let alphas = alpha_grid(0.0, 1.0, 0.05).unwrap();
            time("21-point α sweep (W8A8 per-token)", 3, || {
                sc.sweep(&alphas, &cfg).unwrap()
            });
            for (w_bits, a_bits) in [(8, 8), (4, 8), (4, 4)] {
                for act in [ActGranularity::PerToken, ActGranularity::PerTensor] {
                    let cfg = LayerQuant::new(w_bits, a_bits, act);
                    let s = sc.sweep(&alphas, &cfg).unwrap();
                    println!(
                        "    {:<22} baseline {:.5}  best α {:.2} → {:.5}  (α=0.5: {:.5})",
                        cfg.label(),
                        s.baseline.rel_err,
                        s.best_alpha,
                        s.best_rel_err,
                        s.points[10].error.rel_err
                    );
                }
            }
            let id = sc.identity_check(0.5).unwrap();
            let floor = sc.float_floor().unwrap();
            println!(
                "    identity α=0.5: rel {:.2e} max {:.2e}  (plain f32 X·W: rel {:.2e} max {:.2e})",
                id.rel_frobenius, id.max_rel, floor.rel_frobenius, floor.max_rel
            );
            let rots: Vec<Rotation> = {
                let mut v = vec![
                    Rotation::Identity,
                    Rotation::HadamardBlock(128),
                    Rotation::Hadamard,
                ];
                if !quick || c <= 384 {
                    v.push(Rotation::Random(0));
                }
                v
            };
            for rot in &rots {
                let rotated = time(&format!("rotate {}", rot.name()), 1, || {
                    Rotated::new(&case, rot).unwrap()
                });
                let rep = rotation_report(&case, &rotated, &STANDARD_CONFIGS).unwrap();
                let errs: Vec<String> = rep
                    .errors
                    .iter()
                    .map(|e| format!("{:.4}", e.rel_err))
                    .collect();
                println!(
                "    {:<18} kurt {:.1}→{:.1}  max/med {:.2}→{:.2}  fp {:.1e}  W8A8 t/T W4A8 t/T W4A4 t/T: {}",
                rep.rotation,
                rep.before.kurtosis,
                rep.after.kurtosis,
                rep.before.profile.max_over_median,
                rep.after.profile.max_over_median,
                rep.fp_identity.rel_frobenius,
                errs.join(" ")
            );
            }
        }
        if c <= 384 {
            for block in [32usize, 64, 384] {
                let lc = LearnConfig {
                    block,
                    ..LearnConfig::default()
                };
                let mut l = Learner::new(&case, &Rotation::Hadamard, lc).unwrap();
                time(
                    &format!(
                        "learned-rotation step (block {block}, {} gradient columns)",
                        lc.grad_cols
                    ),
                    5,
                    || l.step(1).unwrap(),
                );
            }
            if !quick {
                // LEARN_GRID="lr,momentum,block,cols;..." LEARN_STEPS=100
                let grid = std::env::var("LEARN_GRID").unwrap_or_else(|_| "0.2,0.5,32,256".into());
                let steps: usize = std::env::var("LEARN_STEPS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(100);
                for spec in grid.split(';') {
                    let v: Vec<f64> = spec.split(',').map(|x| x.trim().parse().unwrap()).collect();
                    let lc = LearnConfig {
                        lr: v[0] as f32,
                        momentum: v[1] as f32,
                        block: v[2] as usize,
                        grad_cols: v[3] as usize,
                        ..LearnConfig::default()
                    };
                    let init = Rotation::parse(
                        &std::env::var("LEARN_INIT").unwrap_or_else(|_| "hadamard".into()),
                    )
                    .unwrap();
                    let mut l = Learner::new(&case, &init, lc).unwrap();
                    let t0 = Instant::now();
                    let losses = l.step(steps).unwrap();
                    let dt = t0.elapsed().as_secs_f64() * 1e3;
                    let end = l.loss().unwrap();
                    let pick: Vec<String> = (0..=10)
                        .map(|i| format!("{:.4}", losses[(i * (steps - 1)) / 10]))
                        .collect();
                    println!(
                        "    learn lr {} β {} block {} cols {}: loss {} → {:.5} ({steps} steps, {dt:.0} ms); ‖RᵀR−I‖ {:.1e}",
                        lc.lr,
                        lc.momentum,
                        lc.block,
                        lc.grad_cols,
                        pick.join(" "),
                        end,
                        l.orthogonality_error().unwrap()
                    );
                }
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
