//! The `quantlab` binary end to end (native only): JSON on stdout, errors on stderr with
//! exit code 2.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quantlab_engine::synth::{llm_like, LlmLike};
use quantlab_engine::{read_npy, write_npy_f32, NpyLimits};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quantlab"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn json_of(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A fresh temp dir with a small synthetic 32 × 64 activation matrix.
fn setup(tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("quantlab-cli-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (shape, data, _) = llm_like(
        &LlmLike {
            tokens: 32,
            channels: 64,
            outlier_channels: 2,
            outlier_scale: 30.0,
        },
        9,
    )
    .unwrap();
    let x = dir.join("x.npy");
    std::fs::write(&x, write_npy_f32(&shape, &data).unwrap()).unwrap();
    (dir, x)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn quantize_prints_the_documented_json() {
    let (dir, x) = setup("q");
    let out = dir.join("y.npy");
    let j = json_of(&run(&["quantize", "--input", s(&x), "--out", s(&out)]));
    for k in ["scale", "zero_point", "alpha", "beta"] {
        assert_eq!(j[k].as_array().unwrap().len(), 1, "{k}");
    }
    for k in [
        "mse",
        "sqnr_db",
        "max_abs_err",
        "rel_err",
        "clipped_fraction",
        "rounding_mse",
        "clipping_mse",
    ] {
        assert!(j[k].is_number(), "{k}");
    }
    assert_eq!(j["scheme"]["qmin"], -127);
    let mse = j["mse"].as_f64().unwrap();
    let parts = j["rounding_mse"].as_f64().unwrap() + j["clipping_mse"].as_f64().unwrap();
    assert!((mse - parts).abs() <= 1e-15 * mse);
    let y = read_npy(&std::fs::read(&out).unwrap(), &NpyLimits::default()).unwrap();
    assert_eq!(y.shape, vec![32, 64]);

    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&x),
        "--granularity",
        "channel:1",
        "--scheme",
        "sym",
        "--calib",
        "percentile:99.9",
    ]));
    assert_eq!(j["scale"].as_array().unwrap().len(), 64);
    assert!(j["zero_point"].as_array().unwrap().iter().all(|z| z == 0));
    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&x),
        "--granularity",
        "group:16",
        "--bits",
        "4",
        "--calib",
        "mse",
    ]));
    assert_eq!(j["scale"].as_array().unwrap().len(), 32 * 4);
    assert_eq!(j["param_shape"], serde_json::json!([32, 4]));
    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&x),
        "--granularity",
        "token",
        "--calib",
        "entropy",
        "--unsigned",
        "--range",
        "full",
    ]));
    assert_eq!(j["alpha"].as_array().unwrap().len(), 32);
    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&x),
        "--calib",
        "manual:-1.577,192.344",
        "--rounding",
        "away",
    ]));
    assert_eq!(format!("{:.3}", j["scale"][0].as_f64().unwrap()), "0.763");
    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&x),
        "--calib",
        "moving:0.1",
    ]));
    assert!(j["beta"][0].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stats_prints_moments_and_top_channels() {
    let (dir, x) = setup("s");
    let j = json_of(&run(&["stats", "--input", s(&x), "--bins", "16"]));
    assert_eq!(j["shape"], serde_json::json!([32, 64]));
    assert_eq!(j["top_channels"].as_array().unwrap().len(), 10);
    assert!(j["kurtosis"].as_f64().unwrap() > 1.0);
    assert_eq!(j["histogram"]["counts"].as_array().unwrap().len(), 16);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn errors_go_to_stderr_with_exit_code_2() {
    let (dir, x) = setup("e");
    let bad_npy = dir.join("bad.npy");
    std::fs::write(&bad_npy, b"not numpy at all").unwrap();
    let constant = dir.join("c.npy");
    std::fs::write(&constant, write_npy_f32(&[4], &[2.0; 4]).unwrap()).unwrap();
    let nan = dir.join("nan.npy");
    std::fs::write(
        &nan,
        write_npy_f32(&[2, 2], &[1.0, f32::NAN, 2.0, 3.0]).unwrap(),
    )
    .unwrap();
    for (args, needle) in [
        (vec!["frobnicate"], "unrecognized subcommand"),
        (vec!["quantize"], "--input <PATH>"),
        (
            vec!["quantize", "--input", "/nonexistent/x.npy"],
            "cannot open",
        ),
        (vec!["quantize", "--input", s(&bad_npy)], "not a .npy file"),
        (
            vec!["quantize", "--input", s(&x), "--bits", "9"],
            "choose 2 to 8",
        ),
        (
            vec!["quantize", "--input", s(&x), "--granularity", "group:7"],
            "does not divide",
        ),
        (
            vec!["quantize", "--input", s(&x), "--calib", "manual:3,1"],
            "must be smaller than",
        ),
        (
            vec!["quantize", "--input", s(&constant)],
            "all 4 values are equal to 2",
        ),
        (
            vec![
                "quantize",
                "--input",
                s(&constant),
                "--granularity",
                "token",
            ],
            "needs a 2-D tensor",
        ),
        (vec!["quantize", "--input", s(&nan)], "row 0, column 1"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let j = json_of(&run(&["quantize", "--input", s(&nan), "--skip-nonfinite"]));
    assert_eq!((j["n"].as_u64(), j["skipped"].as_u64()), (Some(3), Some(1)));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn help_documents_everything() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let h = String::from_utf8_lossy(&o.stdout);
    assert!(h.contains("quantize") && h.contains("stats"));
    let o = run(&["quantize", "--help"]);
    let h = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "--input",
        "--format",
        "mxfp4",
        "bits_per_value",
        "--bits",
        "--scheme",
        "--range",
        "--granularity",
        "--calib",
        "--rounding",
        "--out",
        "percentile:P",
        "entropy",
        "manual:A,B",
    ] {
        assert!(h.contains(opt), "{opt}");
    }
    assert!(run(&["help", "stats"]).status.success());
}

/// The real MiniLM activation, once the lead has copied it into assets/ (skipped otherwise).
#[test]
fn minilm_from_assets_if_present() {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("assets/data/minilm/L5_fc1_X.npy");
    if !p.exists() {
        return;
    }
    let j = json_of(&run(&["quantize", "--input", s(&p), "--calib", "entropy"]));
    assert_eq!(j["shape"], serde_json::json!([126, 384]));
    assert!(j["sqnr_db"].as_f64().unwrap() > 20.0);
    let j = json_of(&run(&["stats", "--input", s(&p)]));
    assert_eq!(j["top_channels"][0]["channel"], 99);
}
