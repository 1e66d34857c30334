//! `tests/e2e/vocabulary.json`: every chapter's link keys and their allowed values, generated
//! from the control declarations, so the browser tests (the monkey's valid links, the shell's
//! chapter list) never carry a second, drifting copy. Regenerate with
//! `UPDATE_VOCABULARY=1 cargo test -p quantlab-app --test vocabulary`.
#![cfg(not(target_arch = "wasm32"))]

use quantlab_app::chapters::Chapter;
use quantlab_app::controls::{fields, Kind};
use quantlab_app::urlstate::ViewState;
use serde_json::{json, Value};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/e2e/vocabulary.json"
);

/// Texts the monkey types into a link's text control: short, several lines, Korean, symbols.
const TEXT_SAMPLES: [&str; 4] = [
    "hello world",
    "The cat sat on the mat.\nA dog lay on the rug.",
    "양자화는 괜찮은 걸까?",
    "<b>not html</b> & 100% ✓",
];

fn vocabulary() -> Value {
    let chapters: Vec<Value> = Chapter::ALL
        .into_iter()
        .map(|c| {
            let controls: Vec<Value> = fields(c)
                .into_iter()
                .map(|f| match f.kind {
                    Kind::Int(r) => json!({ "key": f.key, "kind": "int", "min": r.min, "max": r.max }),
                    Kind::Float(r) => {
                        json!({ "key": f.key, "kind": "float", "min": r.min, "max": r.max, "step": r.step })
                    }
                    Kind::OptFloat(r) => json!({
                        "key": f.key, "kind": "float", "optional": true,
                        "min": r.min, "max": r.max, "step": r.step,
                    }),
                    Kind::Flag => json!({ "key": f.key, "kind": "flag", "options": ["0", "1"] }),
                    Kind::Choice(slugs) => json!({ "key": f.key, "kind": "choice", "options": slugs }),
                    Kind::Text(max) => json!({
                        "key": f.key, "kind": "text", "max_bytes": max, "options": TEXT_SAMPLES,
                    }),
                })
                .collect();
            json!({ "slug": c.slug(), "controls": controls })
        })
        .collect();
    json!({
        "generated_by": "cargo test -p quantlab-app --test vocabulary (UPDATE_VOCABULARY=1 rewrites it)",
        "chapters": chapters,
    })
}

#[test]
fn the_browser_tests_vocabulary_matches_the_controls() {
    let text = serde_json::to_string_pretty(&vocabulary()).unwrap() + "\n";
    if std::env::var_os("UPDATE_VOCABULARY").is_some() {
        std::fs::write(PATH, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        on_disk == text,
        "tests/e2e/vocabulary.json is out of date: run \
         UPDATE_VOCABULARY=1 cargo test -p quantlab-app --test vocabulary"
    );
}

/// Every value the vocabulary offers is one a link may carry: it reads back without a notice.
#[test]
fn every_listed_option_opens_without_a_notice() {
    for c in Chapter::ALL {
        for f in fields(c) {
            let values: Vec<String> = match f.kind {
                Kind::Int(r) => vec![r.min.to_string(), r.max.to_string()],
                Kind::Float(r) | Kind::OptFloat(r) => vec![r.min.to_string(), r.max.to_string()],
                Kind::Flag => vec!["0".into(), "1".into()],
                Kind::Choice(slugs) => slugs.iter().map(|s| s.to_string()).collect(),
                Kind::Text(_) => TEXT_SAMPLES
                    .iter()
                    .map(|s| quantlab_app::urlstate::percent_encode(s))
                    .collect(),
            };
            for v in values {
                // The upload cannot come from a link; its notice is the point.
                if v == "upload" {
                    continue;
                }
                let q = format!("ch={}&{}={}", c.slug(), f.key, v);
                let (_, notices) = ViewState::parse_query(&q);
                assert!(notices.is_empty(), "{q}: {notices:?}");
            }
        }
    }
}
