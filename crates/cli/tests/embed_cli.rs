//! `quantlab embed` and `quantlab ship-model` end to end, on the model the README's set-up
//! installs (.tools/minilm). The JSON fields are a contract for scripts outside the project.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{fails, json_of, run};
use serde_json::Value;

#[test]
fn embed_prints_the_contract_json() {
    let j = json_of(&run(&["embed", "hello world", "A man is eating food."]));
    assert_eq!(j["model"], "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(j["quant"], "fp32");
    let s = j["sentences"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0]["text"], "hello world");
    let tokens: Vec<&str> = s[0]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["[CLS]", "hello", "world", "[SEP]"]);
    let e: Vec<f64> = s[0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(e.len(), 384);
    for (got, want) in e
        .iter()
        .zip([-0.034478, 0.03102, 0.00673, 0.02611, -0.039362])
    {
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    }
}

#[test]
fn embed_quantized_reports_its_settings_and_closeness() {
    let j = json_of(&run(&[
        "embed",
        "--quant",
        "w8a8",
        "--act",
        "tensor",
        "--rotate",
        "hadamard",
        "--smooth",
        "0.5",
        "--drop-outliers",
        "1",
        "The new movie is awesome.",
        "The new movie is so great.",
    ]));
    assert_eq!(j["quant"], "w8a8");
    let st = &j["settings"];
    assert_eq!(
        (st["w_bits"].as_u64(), st["a_bits"].as_u64()),
        (Some(8), Some(8))
    );
    assert_eq!(st["act"], "per-tensor");
    assert_eq!(st["rotate"], "hadamard");
    for s in j["sentences"].as_array().unwrap() {
        let c = s["cosine_to_full_precision"].as_f64().unwrap();
        assert!(c > 0.5 && c <= 1.0 + 1e-9, "{c}");
    }
    let ort = json_of(&run(&[
        "embed",
        "--quant",
        "ort-int8",
        "A man is eating food.",
    ]));
    assert_eq!(ort["quant"], "ort-int8");
    assert_eq!(ort["settings"]["act"], "per-tensor asymmetric uint8");
    let w4 = json_of(&run(&["embed", "--quant", "w4a4", "A man is eating food."]));
    let w8 = json_of(&run(&["embed", "--quant", "w8a8", "A man is eating food."]));
    let c = |j: &Value| {
        j["sentences"][0]["cosine_to_full_precision"]
            .as_f64()
            .unwrap()
    };
    assert!(
        c(&w8) > 0.99 && c(&w4) < c(&w8),
        "w8a8 {} w4a4 {}",
        c(&w8),
        c(&w4)
    );
}

#[test]
fn embed_truncates_long_text_with_a_note() {
    let long = "word ".repeat(400);
    let o = run(&["embed", &long, "?!...", ""]);
    let j = json_of(&o);
    assert_eq!(j["sentences"][0]["tokens"].as_array().unwrap().len(), 256);
    assert_eq!(j["sentences"][0]["truncated"], 400 - 254);
    assert!(String::from_utf8_lossy(&o.stderr).contains("longer than the model's 256 tokens"));
    assert_eq!(j["sentences"][2]["tokens"].as_array().unwrap().len(), 2);
}

#[test]
fn embed_bad_input_exits_2_with_one_line() {
    fails(&["embed"], "TEXT");
    fails(&["embed", "--quant", "w9a9", "x"], "w9a9");
    fails(&["embed", "--frobnicate", "x"], "--frobnicate");
    fails(
        &["embed", "--smooth", "2", "--quant", "w8a8", "x"],
        "between 0 and 1",
    );
    fails(&["embed", "--smooth", "0.5", "x"], "--quant w8a8");
    fails(
        &["embed", "--quant", "w8a8", "--drop-outliers", "999", "x"],
        "outlier channels",
    );
    fails(
        &["embed", "--quant", "w8a8", "--group", "7", "x"],
        "group size",
    );
    fails(
        &["embed", "--model", "/nonexistent/model.safetensors", "x"],
        "cannot open",
    );
    let dir = std::env::temp_dir().join(format!("quantlab-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("model.safetensors");
    std::fs::write(&bad, b"\x08\0\0\0\0\0\0\0{}      ").unwrap();
    fails(&["embed", "--model", bad.to_str().unwrap(), "x"], "SHA-256");
}

#[test]
fn ship_model_writes_the_known_file() {
    let dir = std::env::temp_dir().join(format!("quantlab-ship-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(quantlab_weights_name());
    let j = json_of(&run(&["ship-model", "--out", out.to_str().unwrap()]));
    assert!(j["bytes"].as_u64().unwrap() <= 35_000_000);
    let e = json_of(&run(&[
        "embed",
        "--model",
        out.to_str().unwrap(),
        "hello world",
    ]));
    assert_eq!(e["weights"], "fp16 weights, int8 word embeddings");
    assert_eq!(e["sha256"], j["sha256"]);
    fails(
        &[
            "ship-model",
            "--source",
            out.to_str().unwrap(),
            "--out",
            "/tmp/x",
        ],
        "SHA-256",
    );
}

fn quantlab_weights_name() -> &'static str {
    "minilm-l6-v2.q8f16.safetensors"
}
