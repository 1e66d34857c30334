//! Rotations of the three real MiniLM layers (X f32, W from the f16 files widened to f32)
//! against the independent NumPy values of `tests/fixtures/gen_smooth_rotate.py`
//! (`rotate_layers.json`), and one learned-rotation step against its NumPy re-implementation
//! (`rotate_learn_step.json`). NumPy rotates in f64 and rounds X·R and Rᵀ·W to f32; the engine
//! rotates in f32 (FWHT, or the f32 GEMM for dense R), so rotated values differ by a few ulps:
//! statistics agree within 1e−5, errors within 2e−4 relative. The float identity check is
//! rounding noise and is only required to be below 1e−5 (NumPy's f32 BLAS gives ~2e−7).
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use quantlab_engine::linear::{ActGranularity, LayerCase, LayerQuant};
use quantlab_engine::outliers::{column_absmax, kurtosis_all, token_kurtosis_mean, ChannelProfile};
use quantlab_engine::rotate::learn::LearnConfig;
use quantlab_engine::rotate::orthogonal::gaussian_matrix;
use quantlab_engine::rotate::{Learner, Rotated, Rotation};
use quantlab_engine::{read_npy, NpyLimits};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn json(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn case(layer: &str) -> LayerCase {
    let load = |f: String| {
        let bytes = std::fs::read(root().join("assets/data/minilm").join(f)).unwrap();
        read_npy(&bytes, &NpyLimits::default()).unwrap()
    };
    let x = load(format!("{layer}_X.npy"));
    let w = load(format!("{layer}_W_f16.npy"));
    LayerCase::new(x.view2().unwrap(), w.view2().unwrap()).unwrap()
}

fn close(got: f64, want: &Value, tol: f64, what: &str) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number"));
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-30),
        "{what}: got {got}, want {want}"
    );
}

fn run(layer: &str) {
    let f = json("rotate_layers.json");
    let case = case(layer);
    let (t, c) = (case.tokens(), case.in_channels());
    for item in f["layers"][layer].as_array().unwrap() {
        let name = item["rotation"].as_str().unwrap();
        let rot = Rotation::parse(name).unwrap();
        // The dense f64 rotation is slow in the test profile: check random:0 on one layer.
        if matches!(rot, Rotation::Random(_)) && layer != "L5_fc1" {
            continue;
        }
        if let Rotation::Random(seed) = rot {
            let g = gaussian_matrix(c, seed).unwrap();
            close(g[0], &item["g00"], 1e-15, "G[0][0]");
            close(g[1], &item["g01"], 1e-15, "G[0][1]");
            close(g[c * c - 1], &item["g_last"], 1e-15, "G[-1][-1]");
            let r = rot.matrix(c).unwrap();
            let probe = item["r_probe"].as_array().unwrap();
            for (k, (i, j)) in [(0, 0), (0, 1), (c - 1, c - 1), (17, 5)]
                .into_iter()
                .enumerate()
            {
                let want = probe[k].as_f64().unwrap();
                assert!(
                    (f64::from(r[i * c + j]) - want).abs() < 1e-6,
                    "{layer} R[{i}][{j}]"
                );
            }
        }
        let rotated = Rotated::new(&case, &rot).unwrap();
        let what = format!("{layer} {name}");
        close(
            kurtosis_all(case.x()).unwrap(),
            &item["kurtosis_before"],
            1e-9,
            &what,
        );
        close(
            kurtosis_all(&rotated.x).unwrap(),
            &item["kurtosis_after"],
            1e-5,
            &what,
        );
        close(
            token_kurtosis_mean(&rotated.x, t, c).unwrap(),
            &item["token_kurtosis_after"],
            1e-5,
            &what,
        );
        let before = ChannelProfile::new(column_absmax(case.x(), t, c).unwrap());
        let after = ChannelProfile::new(column_absmax(&rotated.x, t, c).unwrap());
        close(
            before.max_over_median,
            &item["max_over_median_before"],
            1e-6,
            &what,
        );
        close(
            after.max_over_median,
            &item["max_over_median_after"],
            1e-5,
            &what,
        );
        for (k, &ch) in [0, 99, 223, c - 1].iter().enumerate() {
            close(
                f64::from(after.absmax[ch]),
                &item["channel_absmax_probe"][k],
                1e-5,
                &what,
            );
        }
        for e in item["errors"].as_array().unwrap() {
            let cfg = LayerQuant::new(
                e["w_bits"].as_u64().unwrap() as u8,
                e["a_bits"].as_u64().unwrap() as u8,
                ActGranularity::parse(e["act"].as_str().unwrap()).unwrap(),
            );
            close(
                rotated.error(&case, &cfg).unwrap().rel_err,
                &e["rel_err"],
                2e-4,
                &format!("{what} {e}"),
            );
        }
        let fp = rotated.float_deviation(&case).unwrap();
        assert!(fp.rel_frobenius < 1e-5, "{what}: {fp:?}");
        assert!(item["fp_identity_rel_err_numpy_f32"].as_f64().unwrap() < 1e-5);
    }
}

#[test]
fn l5_fc1() {
    run("L5_fc1");
}

#[test]
fn l1_fc1() {
    run("L1_fc1");
}

#[test]
fn l0_fc2() {
    run("L0_fc2");
}

#[test]
fn one_learned_step_matches_numpy() {
    let f = json("rotate_learn_step.json");
    let u = |k: &str| f[k].as_u64().unwrap() as usize;
    let (t, c, n) = (u("t"), u("c"), u("n"));
    let vec_of = |k: &str| {
        f[k].as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect::<Vec<_>>()
    };
    let case = LayerCase::from_vecs(vec_of("x"), t, c, vec_of("w"), n).unwrap();
    let cfg = LearnConfig {
        quant: LayerQuant::new(
            u("w_bits") as u8,
            u("a_bits") as u8,
            ActGranularity::PerToken,
        ),
        lr: f["lr"].as_f64().unwrap() as f32,
        momentum: 0.0,
        block: c,
        grad_cols: 0,
        seed: 0,
        refresh_every: 0,
    };
    let mut l = Learner::new(&case, &Rotation::Hadamard, cfg).unwrap();
    let losses = l.step(1).unwrap();
    close(f64::from(losses[0]), &f["loss0"], 1e-5, "loss at the start");
    let r1 = f["r1"].as_array().unwrap();
    let worst = l
        .rotation()
        .iter()
        .zip(r1)
        .map(|(&g, w)| (f64::from(g) - w.as_f64().unwrap()).abs())
        .fold(0.0, f64::max);
    assert!(worst < 2e-5, "R after one step differs by {worst}");
    close(
        f64::from(l.loss().unwrap()),
        &f["loss1"],
        1e-4,
        "loss after one step",
    );
    assert!(f["loss1"].as_f64().unwrap() < f["loss0"].as_f64().unwrap());
}

#[test]
fn shipped_h12_equals_the_constant() {
    let text = std::fs::read_to_string(root().join("assets/data/hadamard12.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let rows = v["H12"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    for (row, want) in rows
        .iter()
        .zip(quantlab_engine::rotate::hadamard::HADAMARD12)
    {
        let got: Vec<i64> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert_eq!(got, want.iter().map(|&x| i64::from(x)).collect::<Vec<_>>());
    }
}
