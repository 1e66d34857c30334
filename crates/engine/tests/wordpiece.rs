//! The tokenizer against Hugging Face `tokenizers` 0.21.1 on the shipped tokenizer.json
//! (`tests/fixtures/wordpiece.json`, 365 strings), with the vocabulary the README's set-up
//! unpacks into `.tools/minilm/`.
#![cfg(not(target_arch = "wasm32"))]

use quantlab_engine::model::{WordPiece, MAX_SEQ_LEN};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn vocab() -> WordPiece {
    let path = format!("{ROOT}/.tools/minilm/vocab.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run scripts/setup.sh, which unpacks the model)"));
    WordPiece::from_vocab_txt(&text).unwrap()
}

#[test]
fn equals_hugging_face_tokenizers_on_every_fixture() {
    let wp = vocab();
    assert_eq!(wp.len(), 30_522);
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/tests/fixtures/wordpiece.json")).unwrap(),
    )
    .unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 300);
    let mut wrong = Vec::new();
    for c in cases {
        let text = c["text"].as_str().unwrap();
        let ids: Vec<u32> = c["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let e = wp.encode_all(text);
        if e.ids != ids {
            let want: Vec<&str> = c["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            wrong.push(format!(
                "{text:?}\n   want {want:?}\n   got  {:?}",
                e.tokens
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_seminar_examples() {
    let wp = vocab();
    let t = |s: &str| wp.encode(s).tokens;
    assert_eq!(
        t("안녕하세요").get(1..4),
        Some(&["ᄋ".to_string(), "##ᅡ".into(), "##ᆫ".into()][..])
    );
    assert_eq!(
        t("양자화는 괜찮은 걸까?"),
        ["[CLS]", "[UNK]", "[UNK]", "[UNK]", "?", "[SEP]"]
    );
    assert_eq!(t(""), ["[CLS]", "[SEP]"]);
    assert_eq!(t(" \t\n "), ["[CLS]", "[SEP]"]);
}

#[test]
fn long_text_is_cut_to_the_models_length_with_a_count() {
    let wp = vocab();
    let text = "word ".repeat(2000);
    let e = wp.encode(&text);
    assert_eq!(e.ids.len(), MAX_SEQ_LEN);
    assert_eq!(e.truncated, 2002 - MAX_SEQ_LEN);
    assert_eq!(
        (
            e.tokens.first().map(String::as_str),
            e.tokens.last().map(String::as_str)
        ),
        (Some("[CLS]"), Some("[SEP]"))
    );
    let short = wp.encode("a short one");
    assert_eq!(short.truncated, 0);
    // 10,000 characters of one word: one [UNK], not a hang or a panic.
    assert_eq!(
        wp.encode(&"x".repeat(10_000)).tokens,
        ["[CLS]", "[UNK]", "[SEP]"]
    );
}

#[test]
fn a_vocabulary_without_the_special_tokens_is_an_error() {
    let e = WordPiece::from_vocab_txt("a\nb\n").unwrap_err();
    assert!(e.to_string().contains("[UNK]"), "{e}");
}
