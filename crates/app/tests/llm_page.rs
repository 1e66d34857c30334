//! The language-model chapter against `quantlab llm` (tests/fixtures/llm_page.json, written by
//! tests/fixtures/gen_llm_page.py): each fixture link's controls map to the CLI's setting, and
//! every perplexity, layer, channel and value the tour states is one the fixture holds.

use quantlab_app::chapters::Chapter;
use quantlab_app::i18n::Lang;
use quantlab_app::tour::steps;
use quantlab_app::urlstate::ViewState;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/llm_page.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_fixture_link_is_the_clis_setting() {
    let f = fixture();
    for s in f["settings"].as_array().unwrap() {
        let query = format!("?ch=llm&{}", s["query"].as_str().unwrap());
        let (view, notices) = ViewState::parse_query(&query);
        assert!(notices.is_empty(), "{query}: {notices:?}");
        assert_eq!(view.chapter, Chapter::Llm);
        assert_eq!(
            view.controls.llm.quant().label(),
            s["label"].as_str().unwrap(),
            "{query}"
        );
    }
    let default = quantlab_app::llm::texts::DEFAULT_TEXT.trim_end();
    assert_eq!(
        f["text"].as_str().unwrap(),
        default,
        "the fixture's paragraph is the page's"
    );
}

/// `21820.406` → "21,820"; `42.57` → "42.6".
fn shown(v: f64) -> String {
    if v >= 1000.0 {
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.1}")
    }
}

#[test]
fn the_tours_numbers_are_the_clis() {
    let f = fixture();
    let mut allowed: Vec<String> = vec![shown(f["full_precision_ppl"].as_f64().unwrap())];
    for s in f["settings"].as_array().unwrap() {
        allowed.push(shown(s["ppl"].as_f64().unwrap()));
        allowed.push(format!("{:.0}", 100.0 * s["top1"].as_f64().unwrap()));
    }
    let massive = &f["residual"][11];
    assert_eq!(
        (massive["token"].as_u64(), massive["channel"].as_u64()),
        (Some(0), Some(507))
    );
    allowed.push(shown(massive["max_abs"].as_f64().unwrap()));
    // Counts and settings the steps name (layers, channels, bits, block sizes, α).
    let plain = [
        "0", "0.5", "1", "2", "3", "4", "7", "8", "11", "15", "16", "64", "98", "135", "210",
        "507", "576", "1,536", "0.74", "2024",
    ];
    for lang in Lang::ALL {
        let mut checked = 0;
        for step in steps(lang).iter().filter(|s| s.chapter == Chapter::Llm) {
            let text = [
                Some(&step.narration),
                step.predict.as_ref(),
                step.reveal.as_ref(),
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
            for word in text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')) {
                let word = word.trim_matches(|c| c == '.' || c == ',');
                if word.is_empty() || !word.starts_with(|c: char| c.is_ascii_digit()) {
                    continue;
                }
                if plain.contains(&word) {
                    continue;
                }
                assert!(
                    allowed.iter().any(|a| a == word),
                    "{lang} {}: {word} is not a number the CLI gives ({allowed:?})",
                    step.id
                );
                checked += 1;
            }
        }
        assert!(checked >= 12, "{lang}: only {checked} numbers checked");
    }
}
