//! `quantlab quantize --format …` end to end: the JSON contract (`format`, `bits_per_value`,
//! the error metrics), the dequantized `--out` tensor checked against each format's grid with
//! tables written out here (not the engine's), and the exit-2 rules.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quantlab_engine::synth::{llm_like, LlmLike};
use quantlab_engine::{read_npy, write_npy_f32, NpyLimits};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quantlab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json_of(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// 24 × 70 activations with outlier channels (70: a ragged last block for MX and NVFP4).
fn setup(tag: &str) -> (PathBuf, PathBuf, Vec<f32>) {
    let dir = std::env::temp_dir().join(format!("quantlab-fmt-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (shape, data, _) = llm_like(
        &LlmLike {
            tokens: 24,
            channels: 70,
            outlier_channels: 2,
            outlier_scale: 40.0,
        },
        17,
    )
    .expect("synthetic data");
    let x = dir.join("x.npy");
    std::fs::write(&x, write_npy_f32(&shape, &data).expect("npy")).expect("write");
    (dir, x, data)
}

/// The non-negative values of E2M1 (OCP MX v1.0, table 5).
const E2M1: [f32; 8] = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0];

/// The non-negative finite values of OCP E4M3 from its definition: subnormals m/8 · 2^−6,
/// normals (1 + m/8) · 2^(e−7), without S.1111.111 (NaN).
fn e4m3_values() -> Vec<f32> {
    let mut v: Vec<f32> = (0..8).map(|m| m as f32 / 8.0 * 2f32.powi(-6)).collect();
    for e in 1..16 {
        for m in 0..8 {
            if e == 15 && m == 7 {
                continue;
            }
            v.push((1.0 + m as f32 / 8.0) * 2f32.powi(e - 7));
        }
    }
    v
}

/// Whether q is a grid value (within the rounding of dequantizing q·s in f32 and dividing back).
fn on_grid(q: f32, grid: &[f32]) -> bool {
    let q = f64::from(q.abs());
    grid.iter()
        .any(|&g| (q - f64::from(g)).abs() <= 1e-6 * f64::from(g).max(1e-30))
}

#[test]
fn every_format_prints_its_json_and_writes_values_on_its_grid() {
    let (dir, x, data) = setup("grid");
    let n = data.len() as f64;
    let e4m3 = e4m3_values();
    for format in [
        "int", "fp16", "bf16", "e4m3", "e5m2", "e2m1", "mxfp8", "mxfp4", "nvfp4",
    ] {
        let out = dir.join(format!("{format}.npy"));
        let j = json_of(&run(&[
            "quantize",
            "--input",
            s(&x),
            "--format",
            format,
            "--out",
            s(&out),
        ]));
        assert_eq!(j["format"], format);
        for k in ["bits_per_value", "mse", "sqnr_db", "max_abs_err", "rel_err"] {
            assert!(j[k].is_number(), "{format}: {k} = {}", j[k]);
        }
        let y =
            read_npy(&std::fs::read(&out).expect("--out"), &NpyLimits::default()).expect("a .npy");
        assert_eq!(y.shape, [24, 70]);
        // The printed metrics are those of the written tensor.
        let sse: f64 = data
            .iter()
            .zip(&y.data)
            .map(|(a, b)| (f64::from(*b) - f64::from(*a)).powi(2))
            .sum();
        let mse = j["mse"].as_f64().expect("mse");
        assert!(
            (sse / n - mse).abs() <= 1e-12 * (1.0 + mse),
            "{format}: {mse} vs {}",
            sse / n
        );
        let bpv = j["bits_per_value"].as_f64().expect("bpv");
        let scale = |i: usize| j["scale"][i].as_f64().expect("a scale") as f32;
        match format {
            "int" => assert_eq!(bpv, 8.0 + 32.0 / n),
            "fp16" | "bf16" => assert_eq!(bpv, 16.0),
            "e4m3" => {
                assert_eq!(bpv, 8.0 + 32.0 / n);
                assert!(y.data.iter().all(|q| on_grid(q / scale(0), &e4m3)));
            }
            "e2m1" => assert!(y.data.iter().all(|q| on_grid(q / scale(0), &E2M1))),
            "mxfp4" | "mxfp8" | "nvfp4" => {
                let block = j["block_size"].as_u64().expect("block_size") as usize;
                let per_row = 70usize.div_ceil(block);
                assert_eq!(j["param_shape"], serde_json::json!([24, per_row]));
                let (elem_bits, grid) = match format {
                    "mxfp8" => (8.0, &e4m3),
                    _ => (4.0, &E2M1.to_vec()),
                };
                let tensor = j["tensor_scale"].as_f64().map(|t| t as f32);
                let extra = if tensor.is_some() { 32.0 } else { 0.0 };
                assert_eq!(bpv, elem_bits + (8.0 * (24 * per_row) as f64 + extra) / n);
                for (i, q) in y.data.iter().enumerate() {
                    let (r, c) = (i / 70, i % 70);
                    let mut f = scale(r * per_row + c / block);
                    if let Some(t) = tensor {
                        f *= t;
                    }
                    if format != "nvfp4" {
                        // An E8M0 scale is a power of two.
                        assert_eq!(f.to_bits() & 0x007f_ffff, 0, "{format}: scale {f}");
                    }
                    assert!(
                        f == 0.0 || on_grid(q / f, grid),
                        "{format} [{r},{c}]: {q} / {f}"
                    );
                }
            }
            _ => {}
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn options_that_do_not_apply_and_unknown_formats_exit_2() {
    let (dir, x, _) = setup("exit");
    for (args, needle) in [
        (vec!["--format", "fp32"], "unknown format 'fp32'"),
        (
            vec!["--format", "mxfp4", "--bits", "4"],
            "--bits does not apply to --format mxfp4",
        ),
        (
            vec!["--format", "nvfp4", "--scheme", "sym", "--calib", "mse"],
            "--scheme, --calib do not apply",
        ),
        (
            vec!["--format", "fp16", "--granularity", "token"],
            "--granularity does not apply",
        ),
        (
            vec!["--format", "mxfp8", "--rounding", "away"],
            "--rounding does not apply",
        ),
        (
            vec!["--format", "e4m3", "--unsigned"],
            "--unsigned does not apply",
        ),
        (
            vec!["--format", "e2m1", "--granularity", "group:8"],
            "does not divide",
        ),
    ] {
        let mut all = vec!["quantize", "--input", s(&x)];
        all.extend(args.iter());
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    // Scaled FP8/FP4 take a granularity: one scale per row here.
    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&x),
        "--format",
        "e4m3",
        "--granularity",
        "token",
    ]));
    assert_eq!(j["scale"].as_array().map(Vec::len), Some(24));
    assert_eq!(j["granularity"], "token");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nonfinite_values_follow_skip_nonfinite() {
    let dir = std::env::temp_dir().join(format!("quantlab-fmt-{}-nan", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let nan = dir.join("nan.npy");
    let v = [1.0, f32::NAN, 2.0, 3.0, f32::INFINITY, -0.5];
    std::fs::write(&nan, write_npy_f32(&[2, 3], &v).expect("npy")).expect("write");
    let o = run(&["quantize", "--input", s(&nan), "--format", "mxfp4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("row 0, column 1"));
    let j = json_of(&run(&[
        "quantize",
        "--input",
        s(&nan),
        "--format",
        "mxfp4",
        "--skip-nonfinite",
    ]));
    assert_eq!((j["n"].as_u64(), j["skipped"].as_u64()), (Some(4), Some(2)));
    std::fs::remove_dir_all(&dir).ok();
}
