//! `quantlab smooth`, `sweep`, `rotate` and `outliers` end to end on the shipped L5_fc1 layer
//! (native only), and their argument parsing.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::{Command, Output};

use quantlab_cli::args::{parse_args, Command as Cmd, Parsed, RotationArg};
use quantlab_engine::linear::ActGranularity;
use quantlab_engine::rotate::Rotation;
use serde_json::Value;

fn data(f: &str) -> String {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("assets/data/minilm")
        .join(f)
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quantlab"))
        .args(args)
        .output()
        .unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn fails(args: &[&str], msg: &str) {
    let o = run(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(msg), "{args:?}: {err}");
}

fn fixture(name: &str) -> Value {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn close(got: &Value, want: f64, tol: f64) {
    let g = got.as_f64().unwrap();
    assert!((g - want).abs() <= tol * want.abs(), "got {g}, want {want}");
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn smooth_prints_the_documented_json() {
    let (x, w) = (data("L5_fc1_X.npy"), data("L5_fc1_W_f16.npy"));
    let j = json_of(&["smooth", "--x", &x, "--w", &w, "--alpha", "0.5"]);
    let f = fixture("smooth_layers.json");
    let sm = &f["layers"]["L5_fc1"]["smooth"];
    let want = sm["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["w_bits"] == 8 && e["a_bits"] == 8 && e["act"] == "token" && e["alpha"] == 0.5)
        .unwrap();
    close(&j["rel_err"], want["rel_err"].as_f64().unwrap(), 2e-4);
    close(
        &j["baseline_rel_err"],
        sm["baselines"][0]["rel_err"].as_f64().unwrap(),
        2e-4,
    );
    assert_eq!(j["alpha"], 0.5);
    assert_eq!(j["smooth_scales"].as_array().unwrap().len(), 384);
    assert!(j["fp_identity_rel_err"].as_f64().unwrap() < 1e-5);
    for k in [
        "x_rel_err",
        "w_rel_err",
        "fp_identity_max_rel",
        "fp_plain_rel_err",
        "baseline_x_rel_err",
    ] {
        assert!(j[k].as_f64().unwrap() >= 0.0, "{k}");
    }
    assert_eq!(
        (
            j["w_bits"].as_u64(),
            j["a_bits"].as_u64(),
            j["act"].as_str()
        ),
        (Some(8), Some(8), Some("token"))
    );
    assert_eq!(j["shape_x"], serde_json::json!([126, 384]));
}

#[test]
fn sweep_finds_the_best_alpha() {
    let (x, w) = (data("L5_fc1_X.npy"), data("L5_fc1_W_f16.npy"));
    let j = json_of(&["sweep", "--x", &x, "--w", &w, "--act", "tensor"]);
    let pts = j["points"].as_array().unwrap();
    assert_eq!(pts.len(), 21);
    assert_eq!(pts[0]["alpha"], 0.0);
    assert_eq!(pts[9]["alpha"].as_f64().unwrap(), 0.45);
    assert_eq!(pts[20]["alpha"], 1.0);
    // The observation on L5_fc1: per-tensor best α ≈ 0.7.
    assert_eq!(j["best_alpha"].as_f64().unwrap(), 0.7);
    let best = pts
        .iter()
        .map(|p| p["rel_err"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(j["best_rel_err"].as_f64().unwrap(), best);
    assert!(best < j["baseline_rel_err"].as_f64().unwrap());
    let j = json_of(&[
        "sweep",
        "--x",
        &x,
        "--w",
        &w,
        "--alphas",
        "0.45:0.55:0.05",
        "--w-bits",
        "4",
        "--a-bits",
        "4",
    ]);
    assert_eq!(j["points"].as_array().unwrap().len(), 3);
    assert_eq!(j["best_alpha"].as_f64().unwrap(), 0.5);
}

#[test]
fn rotate_prints_the_documented_json() {
    let (x, w) = (data("L5_fc1_X.npy"), data("L5_fc1_W_f16.npy"));
    let j = json_of(&[
        "rotate",
        "--x",
        &x,
        "--w",
        &w,
        "--rotation",
        "hadamard",
        "--w-bits",
        "4",
        "--a-bits",
        "4",
    ]);
    let f = fixture("rotate_layers.json");
    let had = &f["layers"]["L5_fc1"][1];
    assert_eq!(had["rotation"], "hadamard");
    close(
        &j["rel_err"],
        had["errors"][2]["rel_err"].as_f64().unwrap(),
        2e-4,
    );
    close(
        &j["kurtosis_after"],
        had["kurtosis_after"].as_f64().unwrap(),
        1e-5,
    );
    close(
        &j["max_over_median_channel_after"],
        had["max_over_median_after"].as_f64().unwrap(),
        1e-5,
    );
    close(
        &j["kurtosis_before"],
        had["kurtosis_before"].as_f64().unwrap(),
        1e-9,
    );
    for k in [
        "baseline_rel_err",
        "max_over_median_channel_before",
        "token_kurtosis_before",
        "token_kurtosis_after",
    ] {
        assert!(j[k].as_f64().unwrap() > 0.0, "{k}");
    }
    assert!(j["fp_identity_rel_err"].as_f64().unwrap() < 1e-5);
    assert!(j.get("loss_curve").is_none());

    let j = json_of(&[
        "rotate",
        "--x",
        &x,
        "--w",
        &w,
        "--rotation",
        "learned:2",
        "--w-bits",
        "4",
        "--a-bits",
        "4",
    ]);
    let curve = j["loss_curve"].as_array().unwrap();
    assert_eq!(curve.len(), 3);
    // The curve starts at the Hadamard start's loss = its rel_err².
    let had_err = had["errors"][2]["rel_err"].as_f64().unwrap();
    close(&curve[0], had_err * had_err, 1e-3);
    assert_eq!(j["rotation"], "learned:2");
    assert_eq!(j["init"], "hadamard");
    // The reported R is the run's lowest-loss one: rel_err² is the curve's minimum, at best_step.
    let losses: Vec<f64> = curve.iter().map(|v| v.as_f64().unwrap()).collect();
    let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
    let rel = j["rel_err"].as_f64().unwrap();
    assert!(
        (rel * rel - best).abs() < 1e-3 * best,
        "{rel}² vs {best} ({losses:?})"
    );
    let step = j["best_step"].as_u64().unwrap() as usize;
    assert!((losses[step] - best).abs() <= 1e-9 * best);
}

#[test]
fn outliers_prints_the_documented_json() {
    let (x, w) = (data("L0_fc2_X.npy"), data("L0_fc2_W_f16.npy"));
    let j = json_of(&["outliers", "--x", &x, "--w", &w, "--top", "4"]);
    assert_eq!(j["top_channels"][0]["channel"], 856);
    assert_eq!(j["absmax_at"], serde_json::json!([0, 856]));
    assert_eq!(j["granularity"].as_array().unwrap().len(), 6);
    assert_eq!(j["ablation"].as_array().unwrap().len(), 4);
    // Zeroing the single [CLS] outlier channel changes Y by ~96 % (the data README's 0.955).
    let z = j["ablation"][0]["y_rel_change"].as_f64().unwrap();
    assert!(z > 0.9 && z < 1.0, "{z}");
    let j = json_of(&["outliers", "--x", &x, "--bits", "8"]);
    assert_eq!(j["granularity"].as_array().unwrap().len(), 3);
    assert!(j.get("ablation").is_none());
}

#[test]
fn errors_go_to_stderr_with_exit_code_2() {
    let (x5, w5, x0) = (
        data("L5_fc1_X.npy"),
        data("L5_fc1_W_f16.npy"),
        data("L0_fc2_X.npy"),
    );
    fails(
        &["smooth", "--x", &x0, "--w", &w5, "--alpha", "0.5"],
        "one row per column of X",
    );
    fails(
        &["smooth", "--x", &x5, "--w", &w5, "--alpha", "1.5"],
        "--alpha",
    );
    fails(&["smooth", "--x", &x5, "--w", &w5], "--alpha");
    fails(&["smooth", "--x", &x5, "--alpha", "0.5"], "--w");
    fails(
        &["sweep", "--x", &x5, "--w", &w5, "--alphas", "1:0:0.1"],
        "START",
    );
    fails(
        &["sweep", "--x", &x5, "--w", &w5, "--act", "channel"],
        "--act",
    );
    fails(
        &["rotate", "--x", &x5, "--w", &w5, "--rotation", "spin"],
        "--rotation",
    );
    fails(
        &[
            "rotate",
            "--x",
            &x5,
            "--w",
            &w5,
            "--rotation",
            "hadamard-block:100",
        ],
        "power of two",
    );
    fails(
        &[
            "rotate",
            "--x",
            &x0,
            "--w",
            &data("L0_fc2_W_f16.npy"),
            "--rotation",
            "hadamard-block:1024",
        ],
        "divides",
    );
    fails(
        &[
            "rotate",
            "--x",
            &x5,
            "--w",
            "/nonexistent.npy",
            "--rotation",
            "none",
        ],
        "/nonexistent.npy",
    );
    fails(
        &["outliers", "--x", &x5, "--w", &data("L0_fc2_W_f16.npy")],
        "one row per column",
    );
}

#[test]
fn help_mentions_the_new_commands() {
    let o = run(&["--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for c in ["smooth", "sweep", "rotate", "outliers"] {
        assert!(text.contains(c), "{c}");
        let h = run(&[c, "--help"]);
        assert!(h.status.success());
        assert!(
            String::from_utf8_lossy(&h.stdout).starts_with(&format!("quantlab {c}:")),
            "{c}"
        );
    }
}

#[test]
fn parsing_defaults_and_options() {
    let Parsed::Run(Cmd::Smooth(s)) = parse_args(&args("smooth --x a --w b --alpha 0.3")).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (s.alpha, s.layer.w_bits, s.layer.a_bits, s.layer.act),
        (0.3, 8, 8, ActGranularity::PerToken)
    );
    let Parsed::Run(Cmd::Sweep(s)) =
        parse_args(&args("sweep --x a --w b --act tensor --w-bits 4")).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (s.alphas, s.layer.w_bits, s.layer.act),
        ((0.0, 1.0, 0.05), 4, ActGranularity::PerTensor)
    );
    let Parsed::Run(Cmd::Rotate(r)) = parse_args(&args(
        "rotate --x a --w b --rotation learned:50 --lr 1 --init none --block 384",
    ))
    .unwrap() else {
        panic!()
    };
    assert_eq!(r.rotation, RotationArg::Learned { steps: 50 });
    assert_eq!(
        (r.lr, r.init.clone(), r.block),
        (1.0, Rotation::Identity, 384)
    );
    let Parsed::Run(Cmd::Rotate(r)) =
        parse_args(&args("rotate --x a --w b --rotation random:7")).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.rotation, RotationArg::Fixed(Rotation::Random(7)));
    for bad in [
        "smooth --x a --w b --alpha nan",
        "smooth --x a --w b --alpha 0.5 --w-bits 9",
        "sweep --x a --w b --alphas 0:1",
        "sweep --x a --w b --alphas 0:1:0",
        "sweep --x a --w b --alphas 0:1:0.00001",
        "rotate --x a --w b",
        "rotate --x a --w b --rotation learned:0",
        "rotate --x a --w b --rotation none --momentum 1",
        "rotate --x a --w b --rotation none --block 1",
        "rotate --x a --w b --rotation none --lr -1",
        "outliers --x a --bits 9",
        "outliers --w b",
    ] {
        assert!(parse_args(&args(bad)).is_err(), "{bad}");
    }
}
