//! The model chapter's controls mean what `quantlab embed` means: for each link of
//! `tests/fixtures/model_page.json` (written by `tests/fixtures/gen_model_page.py` from the
//! CLI), the page's own mapping of its controls to the engine ([`ModelControls::quant`]), its
//! calibration sentences and its sentence splitting give the same cosines, natively. The
//! browser test checks that the page shows them.
#![cfg(not(target_arch = "wasm32"))]

use quantlab_app::sentences::{calibration_ids, Method, Outcome, Sentences, DEFAULT_TEXT};
use quantlab_app::urlstate::ViewState;
use quantlab_engine::model::{Float, QuantizedBert};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{ROOT}/{rel}"))
        .unwrap_or_else(|e| panic!("{rel}: {e} (run `make setup`, the README's set-up)"))
}

#[test]
fn every_fixture_link_gives_the_clis_cosines() {
    let fixture: Value = serde_json::from_slice(&read("tests/fixtures/model_page.json")).unwrap();
    let loaded =
        quantlab_weights::load(&read(".tools/models/minilm-l6-v2.q8f16.safetensors")).unwrap();
    let bert = &loaded.bert;
    let tok = quantlab_engine::model::WordPiece::from_vocab_txt(loaded.vocab.as_deref().unwrap())
        .unwrap();
    let sentences = Sentences::of(DEFAULT_TEXT);
    let expected: Vec<&str> = fixture["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sentences.lines, expected, "the page's default sentences");
    let ids: Vec<Vec<u32>> = sentences.lines.iter().map(|s| tok.encode(s).ids).collect();
    let fp: Vec<Vec<f32>> = ids
        .iter()
        .map(|s| bert.embed(s, &mut Float).unwrap())
        .collect();
    let calib = calibration_ids(&tok);
    assert_eq!(calib.len(), 16);
    let settings = fixture["settings"].as_array().unwrap();
    assert!(settings.len() >= 8);
    for s in settings {
        let query = s["query"].as_str().unwrap();
        let (view, notices) = ViewState::parse_query(&format!("ch=model&{query}"));
        assert!(notices.is_empty(), "{query}: {notices:?}");
        let cfg = view.controls.model.quant();
        assert_eq!(cfg.label(), s["label"].as_str().unwrap(), "{query}");
        let q = QuantizedBert::new(bert, cfg, &calib).unwrap();
        let quant: Vec<Vec<f32>> = ids.iter().map(|s| q.embed(bert, s).unwrap()).collect();
        let o = Outcome::new(&fp, &quant);
        for (i, (got, want)) in o
            .cosines
            .iter()
            .zip(s["cosines"].as_array().unwrap())
            .enumerate()
        {
            let want = want.as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{query} sentence {i}: {got} vs {want}"
            );
        }
        assert!((o.mean_cos - s["mean"].as_f64().unwrap()).abs() < 1e-9);
        assert!(o.min_cos <= o.mean_cos && o.mean_cos <= 1.0);
    }
    // The story the chapter tells, on its default sentences.
    let mean = |q: &str| {
        settings.iter().find(|s| s["query"] == q).unwrap()["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(
        mean("act=tensor") < mean("") - 0.01,
        "per-tensor below per-token"
    );
    assert!(
        mean("act=tensor&alpha=0.5") > mean("act=tensor"),
        "SmoothQuant rescues per-tensor"
    );
    assert!(mean("drop=2") < mean("") - 0.3, "the outliers matter");
    assert!(
        mean("bits=w4a4&rot=hadamard") > mean("bits=w4a4") + 0.1,
        "Hadamard mends W4A4"
    );
    assert!(
        mean("bits=ort") < mean(""),
        "the web's default int8 loses more than W8A8 per token"
    );
}

#[test]
fn outcome_measures_are_what_they_say() {
    // Three unit vectors: 0 and 1 close, 2 far. Quantized: 2 moves between them.
    let full = vec![vec![1.0, 0.0], vec![0.9, 0.1], vec![0.0, 1.0]];
    let quant = vec![vec![1.0, 0.0], vec![0.9, 0.1], vec![0.95, 0.05]];
    let o = Outcome::new(&full, &quant);
    assert_eq!(o.cosines.len(), 3);
    assert!((o.cosines[0] - 1.0).abs() < 1e-12);
    assert!(o.cosines[2] < 0.1);
    assert_eq!(o.rank_places, 6);
    // Query 0: full ranks [1, 2], quantized [2, 1] (2 is now nearest): both places change.
    let (f, q) = o.rankings(0);
    assert_eq!((f, q), (vec![1, 2], vec![2, 1]));
    assert!(o.top1_changes >= 1 && o.rank_changes >= 2);
    let same = Outcome::new(&full, &full);
    assert_eq!((same.rank_changes, same.top1_changes), (0, 0));
    assert_eq!(same.min_cos, same.mean_cos);
    let empty = Outcome::new(&[], &[]);
    assert!(empty.mean_cos.is_nan() && empty.cosines.is_empty());
}

#[test]
fn sentences_are_non_blank_lines_at_most_eight() {
    let s = Sentences::of("  a  \n\n \t\nb\nc\nd\ne\nf\ng\nh\ni\nj");
    assert_eq!(s.lines, ["a", "b", "c", "d", "e", "f", "g", "h"]);
    assert_eq!(s.left_out, 2);
    assert!(Sentences::of(" \n\t ").lines.is_empty());
    assert_eq!(Sentences::of(DEFAULT_TEXT).lines.len(), 7);
    // Every row of the methods table is a distinct setting (the SmoothQuant row by its α).
    let cfgs: Vec<_> = Method::ALL.iter().filter_map(|m| m.config(0.5)).collect();
    assert_eq!(cfgs.len(), Method::ALL.len() - 1);
    for (i, a) in cfgs.iter().enumerate() {
        assert!(cfgs[i + 1..].iter().all(|b| a != b), "{}", a.label());
    }
}

/// The numbers the tour's model steps state are the fixture's (which the test above ties to
/// the page's own settings): each 4-decimal cosine is the mean of one of the fixture's links,
/// and the paraphrase pairs' similarities are the full-precision ones.
#[test]
fn the_tours_model_numbers_are_measured_ones() {
    use quantlab_app::chapters::Chapter;
    use quantlab_app::i18n::Lang;
    use quantlab_app::tour::steps;
    let fixture: Value = serde_json::from_slice(&read("tests/fixtures/model_page.json")).unwrap();
    let means: Vec<String> = fixture["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{:.4}", s["mean"].as_f64().unwrap()))
        .collect();
    let loaded =
        quantlab_weights::load(&read(".tools/models/minilm-l6-v2.q8f16.safetensors")).unwrap();
    let tok = quantlab_engine::model::WordPiece::from_vocab_txt(loaded.vocab.as_deref().unwrap())
        .unwrap();
    let fp: Vec<Vec<f32>> = Sentences::of(DEFAULT_TEXT)
        .lines
        .iter()
        .map(|s| loaded.bert.embed(&tok.encode(s).ids, &mut Float).unwrap())
        .collect();
    let o = Outcome::new(&fp, &fp);
    let pairs = [
        format!("{:.2}", o.sim_full[0][1]),
        format!("{:.2}", o.sim_full[2][3]),
    ];
    for lang in Lang::ALL {
        let mut checked = 0;
        for step in steps(lang).iter().filter(|s| s.chapter == Chapter::Model) {
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
            for word in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                let word = word.trim_end_matches('.');
                if word.starts_with("0.") && word.len() == 6 {
                    assert!(
                        means.contains(&word.to_string()),
                        "{lang} {}: {word}",
                        step.id
                    );
                    checked += 1;
                } else if word.starts_with("0.") && word.len() == 4 && word != "0.5" {
                    assert!(
                        pairs.contains(&word.to_string()),
                        "{lang} {}: {word}",
                        step.id
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 10, "{lang}: only {checked} numbers checked");
    }
}

/// The sets built ahead are the ones a click on the bits or the rotation asks for, and each
/// differs from the current one in its weights (activation changes re-use weights anyway).
#[test]
fn the_weight_sets_one_click_away_are_what_those_clicks_ask_for() {
    use quantlab_app::controls::{ModelBitsChoice, ModelControls, ModelRotChoice};
    let now = ModelControls::default();
    let next = now.weight_sets_one_click_away();
    let click = |f: fn(&mut ModelControls)| {
        let mut c = now.clone();
        f(&mut c);
        c.quant()
    };
    assert_eq!(
        next,
        vec![
            click(|c| c.bits = ModelBitsChoice::W4A8),
            click(|c| c.rot = ModelRotChoice::Hadamard)
        ]
    );
    for q in &next {
        assert_ne!(
            (q.w_bits, q.hadamard),
            (now.quant().w_bits, now.quant().hadamard)
        );
    }
    // From W4A4 with Hadamard: back to 8-bit weights, and the rotation off.
    let mut w4 = now.clone();
    w4.bits = ModelBitsChoice::W4A4;
    w4.rot = ModelRotChoice::Hadamard;
    let next = w4.weight_sets_one_click_away();
    assert_eq!((next[0].w_bits, next[0].hadamard), (8, true));
    assert_eq!((next[1].w_bits, next[1].hadamard), (4, false));
}
