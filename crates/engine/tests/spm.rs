//! SentencePiece as llama.cpp runs it (`model::spm`), against llama.cpp itself
//! (llama-cpp-python 0.3.36) on a vocabulary in Llama's layout
//! (`tests/fixtures/spm_llamacpp.json`, made by `tests/fixtures/gen_spm_llamacpp.py`): the ids
//! of 540 strings with llama.cpp's defaults (space prefix, `<s>`) and with both switched off,
//! the text `llama_detokenize` gives back, and the piece of every id.
#![cfg(not(target_arch = "wasm32"))]

use quantlab_engine::model::bpe::TokenType;
use quantlab_engine::model::spm::{Spm, SpmOptions};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn fixture() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/tests/fixtures/spm_llamacpp.json")).unwrap(),
    )
    .unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as u32)
        .collect()
}

fn vocab(f: &Value, opts: SpmOptions) -> Spm {
    let tokens: Vec<String> = f["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let scores: Vec<f32> = f["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap() as f32)
        .collect();
    let types: Vec<i64> = f["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    Spm::new(tokens, &scores, &types, opts).unwrap()
}

#[test]
fn the_tokenizer_is_llama_cpps_on_every_fixture_string() {
    let f = fixture();
    let cases = f["cases"].as_array().unwrap();
    assert!(cases.len() >= 500);
    let plain = SpmOptions {
        add_space_prefix: false,
        add_bos: false,
        ..SpmOptions::default()
    };
    for (name, opts) in [("default", SpmOptions::default()), ("plain", plain)] {
        let spm = vocab(&f, opts);
        let mut wrong = Vec::new();
        for c in cases {
            let text = c["text"].as_str().unwrap();
            let want = ids(&c[name]);
            let got = spm.encode(text).ids;
            if got != want {
                wrong.push(format!("{text:?}: {got:?} != llama.cpp {want:?}"));
            }
            let back = c[format!("{name}_text")].as_str().unwrap();
            if spm.decode(&want) != back {
                wrong.push(format!(
                    "{text:?} decoded {:?} != llama.cpp {back:?}",
                    spm.decode(&want)
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{name}: {} wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}

#[test]
fn every_piece_is_llama_cpps() {
    let f = fixture();
    let spm = vocab(&f, SpmOptions::default());
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let (pieces, special) = (
        f["pieces"].as_object().unwrap(),
        f["special"].as_object().unwrap(),
    );
    assert_eq!(spm.vocab().len(), f["tokens"].as_array().unwrap().len());
    for id in 0..spm.vocab().len() as u32 {
        let text = spm.vocab().token(id).unwrap();
        let want = pieces.get(&id.to_string()).map_or_else(
            || hex(text.replace('\u{2581}', " ").as_bytes()),
            |v| v.as_str().unwrap().to_string(),
        );
        assert_eq!(hex(&spm.piece(id, false)), want, "id {id} ({text:?})");
        let want_special = special
            .get(&id.to_string())
            .map_or(want, |v| v.as_str().unwrap().to_string());
        assert_eq!(
            hex(&spm.piece(id, true)),
            want_special,
            "id {id} ({text:?}), special"
        );
    }
    assert_eq!(spm.vocab().token_type(3), Some(TokenType::Byte));
    assert_eq!(spm.vocab().token_type(1), Some(TokenType::Control));
}

/// Hostile vocabularies and texts: a message or a result, never a panic.
#[test]
fn hostile_vocabularies_and_texts() {
    assert!(Spm::new(Vec::new(), &[], &[], SpmOptions::default()).is_err());
    let bos_outside = SpmOptions {
        bos: 9,
        ..SpmOptions::default()
    };
    assert!(Spm::new(vec!["<unk>".into(), "<s>".into()], &[], &[], bos_outside).is_err());
    // No byte tokens, NaN and infinite scores, missing scores and types: unknown characters
    // become <unk>, and every text still tokenizes.
    let tokens: Vec<String> = [
        "<unk>",
        "<s>",
        "</s>",
        "\u{2581}",
        "a",
        "b",
        "ab",
        "\u{2581}a",
        "ba",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let spm = Spm::new(
        tokens,
        &[0.0, 0.0, 0.0, -1.0, f32::NAN, -2.0, f32::INFINITY],
        &[2, 3, 3],
        SpmOptions::default(),
    )
    .unwrap();
    let e = spm.encode("ab ba c");
    assert_eq!(e.ids.first(), Some(&1));
    assert!(e.ids.contains(&0), "{:?}", e.ids);
    assert_eq!(spm.decode(&[7, 5]), "ab");
    for text in ["", " ", "\u{2581}", &"ab".repeat(5_000), "\0\u{10ffff}"] {
        let e = spm.encode(text);
        assert!(e.ids.iter().all(|&i| (i as usize) < spm.vocab().len()));
    }
    assert!(spm.piece(99, true).is_empty());
}
