//! `quantlab llm tokenize | ppl | generate | capture` end to end, on the GGUF the README's
//! set-up installs (.tools/smollm2). The subcommands, flags and JSON fields are a contract for
//! scripts outside the project.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{fails, json_of, run};
use serde_json::Value;

const TEXT: &str =
    "The bus was late again this morning, so I walked to work and bought a coffee on the way.";

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn tokenize_prints_ids_and_tokens() {
    let j = json_of(&run(&["llm", "tokenize", "The capital of France is 12"]));
    assert_eq!(ids(&j["ids"]), [504, 3575, 282, 4649, 314, 216, 33, 34]);
    let tokens: Vec<&str> = j["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tokens,
        ["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis", "Ġ", "1", "2"]
    );
    let empty = json_of(&run(&["llm", "tokenize", ""]));
    assert!(empty["ids"].as_array().unwrap().is_empty());
}

#[test]
fn ppl_prints_the_contract_json() {
    let fp = json_of(&run(&["llm", "ppl", TEXT]));
    for k in [
        "model",
        "quant",
        "settings",
        "tokens",
        "ids",
        "nll",
        "ppl",
        "kl_to_full_precision",
        "top1_agreement",
    ] {
        assert!(!fp[k].is_null(), "{k} missing");
    }
    assert_eq!(fp["quant"], "fp");
    let n = fp["tokens"].as_u64().unwrap();
    assert_eq!(ids(&fp["ids"]).len() as u64, n);
    let ppl = fp["ppl"].as_f64().unwrap();
    assert!((fp["nll"].as_f64().unwrap().exp() - ppl).abs() < 1e-9 * ppl);
    assert!(ppl > 3.0 && ppl < 200.0, "{ppl}");
    assert_eq!(fp["kl_to_full_precision"].as_f64().unwrap(), 0.0);
    assert_eq!(fp["top1_agreement"].as_f64().unwrap(), 1.0);
    assert!(fp["reference"]
        .as_str()
        .unwrap()
        .contains("Q4_1 weights decoded exactly"));

    let w8 = json_of(&run(&["llm", "ppl", "--quant", "w8a8", TEXT]));
    assert_eq!(w8["quant"], "w8a8");
    assert_eq!(w8["full_precision_ppl"].as_f64().unwrap(), ppl);
    let kl = w8["kl_to_full_precision"].as_f64().unwrap();
    assert!(kl > 0.0 && kl < 0.2, "{kl}");
    let t = w8["top1_agreement"].as_f64().unwrap();
    assert!(t > 0.7 && t <= 1.0, "{t}");
    assert_eq!(w8["settings"]["act"], "per-token");

    // From a file: per tensor and smoothed, rotated and grouped, a float format and ablated
    // (each flag is checked against NumPy in crates/weights/tests/smollm2.rs).
    let dir = std::env::temp_dir().join(format!("quantlab-llm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("text.txt");
    std::fs::write(&file, TEXT).unwrap();
    let f = file.to_str().unwrap();
    for args in [
        &["--quant", "w8a8", "--act", "tensor", "--smooth", "0.5"][..],
        &["--quant", "w4a4", "--rotate", "hadamard", "--group", "128"],
        &[
            "--quant",
            "w8a16",
            "--weight-format",
            "nvfp4",
            "--drop-outliers",
            "2",
        ],
    ] {
        let mut a = vec!["llm", "ppl", "--text-file", f];
        a.extend_from_slice(args);
        let j = json_of(&run(&a));
        assert_eq!(j["tokens"], fp["tokens"], "{args:?}");
        assert!(j["ppl"].as_f64().unwrap().is_finite(), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn generate_prints_the_contract_json() {
    let j = json_of(&run(&[
        "llm",
        "generate",
        "--max-new",
        "8",
        "The capital of France is",
    ]));
    assert_eq!(ids(&j["prompt_ids"]), [504, 3575, 282, 4649, 314]);
    let all = ids(&j["ids"]);
    assert_eq!(&all[..5], [504, 3575, 282, 4649, 314]);
    assert_eq!(all.len(), 13);
    assert_eq!(j["new_text"], " Paris.\n\nThe answer is:");
    assert_eq!(
        j["text"],
        "The capital of France is Paris.\n\nThe answer is:"
    );
    assert_eq!(j["stopped"], "max-new");
    let q = json_of(&run(&[
        "llm",
        "generate",
        "--quant",
        "w4a4",
        "--max-new",
        "4",
        "Hello",
    ]));
    assert_eq!(ids(&q["new_ids"]).len(), 4);
}

#[test]
fn capture_finds_the_massive_activation() {
    let dir = std::env::temp_dir().join(format!("quantlab-llm-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("x.npy");
    let j = json_of(&run(&[
        "llm",
        "capture",
        "--layer",
        "11",
        "--point",
        "residual",
        "--out",
        out.to_str().unwrap(),
        TEXT,
    ]));
    let n = j["ids"].as_array().unwrap().len() as u64;
    assert_eq!(j["shape"][0].as_u64(), Some(n));
    assert_eq!(j["shape"][1].as_u64(), Some(576));
    assert_eq!(
        (j["token"].as_u64(), j["channel"].as_u64()),
        (Some(0), Some(507))
    );
    assert!(j["max_abs"].as_f64().unwrap() > 10_000.0);
    // The .npy holds the same tensor: read it back with the stats subcommand.
    let s = json_of(&run(&["stats", "--input", out.to_str().unwrap()]));
    assert_eq!(s["shape"][0].as_u64(), Some(n));
    let d = json_of(&run(&[
        "llm", "capture", "--layer", "11", "--point", "down", TEXT,
    ]));
    assert_eq!(d["shape"][1].as_u64(), Some(1536));
    assert_eq!(d["token"].as_u64(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_massive_activation_intervention() {
    // Sun et al.: zero the starting token's massive activation and the model breaks; give it
    // its usual value (the mean over other texts) and it does not notice.
    let zero = json_of(&run(&["llm", "ppl", "--massive", "zero", TEXT]));
    let m = &zero["massive"];
    assert_eq!(
        (
            m["layer"].as_u64(),
            m["token"].as_u64(),
            m["channel"].as_u64()
        ),
        (Some(2), Some(0), Some(507))
    );
    assert_eq!(m["set_to"].as_f64(), Some(0.0));
    let fp = zero["full_precision_ppl"].as_f64().unwrap();
    assert!(zero["ppl"].as_f64().unwrap() > 2.0 * fp);
    let mean = json_of(&run(&["llm", "ppl", "--massive", "mean", TEXT]));
    assert!(mean["massive"]["set_to"].as_f64().unwrap() > 300.0);
    assert!((mean["ppl"].as_f64().unwrap() / fp - 1.0).abs() < 0.05);
    fails(
        &["llm", "ppl", "--massive", "zero", "--quant", "w8a8", TEXT],
        "drop --quant",
    );
    fails(
        &[
            "llm",
            "ppl",
            "--massive",
            "zero",
            "--massive-layer",
            "40",
            TEXT,
        ],
        "not a layer",
    );
}

#[test]
fn bad_input_exits_2_with_one_line() {
    fails(&["llm", "ppl", ""], "at least 2");
    fails(&["llm", "ppl", "x"], "at least 2");
    fails(&["llm", "ppl", "--quant", "w9a9", TEXT], "w9a9");
    fails(&["llm", "ppl", "--act", "tensor", TEXT], "add --quant");
    fails(
        &["llm", "ppl", "--quant", "w8a16", "--act", "tensor", TEXT],
        "--act does not apply",
    );
    fails(
        &["llm", "ppl", "--quant", "w8a8", "--group", "7", TEXT],
        "group",
    );
    fails(
        &[
            "llm",
            "ppl",
            "--quant",
            "w8a8",
            "--drop-outliers",
            "576",
            TEXT,
        ],
        "outlier",
    );
    fails(
        &["llm", "ppl", "--quant", "w8a8", "--smooth", "1.5", TEXT],
        "alpha",
    );
    fails(
        &["llm", "ppl", "--text-file", "/nonexistent/t.txt"],
        "cannot open",
    );
    fails(
        &["llm", "ppl", "--model", "/nonexistent/m.gguf", TEXT],
        "cannot open",
    );
    fails(&["llm", "ppl", "--model", "Cargo.toml", TEXT], "not a GGUF");
    fails(&["llm", "generate", ""], "empty");
    fails(
        &[
            "llm", "capture", "--layer", "30", "--point", "residual", TEXT,
        ],
        "layer",
    );
    fails(
        &["llm", "capture", "--layer", "1", "--point", "q", TEXT],
        "q",
    );
    fails(&["llm", "frobnicate"], "frobnicate");
}
