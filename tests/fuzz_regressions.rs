//! Every input the fuzzers (fuzz/, cargo-fuzz) ever failed on, replayed on the stable
//! toolchain with the same checks as the fuzz targets. The inputs live in
//! `fuzz/regressions/<target>/`, one file each; a new crash is added by copying its artifact
//! there (its name says what it found). The whole directory is replayed, and so is the seed
//! corpus in `fuzz/corpus/<target>/`.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use quantlab_app::datasets::{tensor_from_npy, UPLOAD_LIMITS};
use quantlab_app::i18n::Lang;
use quantlab_app::urlstate::{ViewState, MAX_NOTICES};
use quantlab_cli::args::{parse_args, Parsed};
use quantlab_engine::model::{lm, Float};
use quantlab_engine::{read_npy, NpyLimits};
use quantlab_weights::gguf::{parse, Limits};
use quantlab_weights::llm::load_gguf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["regressions", "corpus"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// The `npy` fuzz target's checks.
fn check_npy(data: &[u8]) {
    let small = NpyLimits {
        max_bytes: 1 << 16,
        max_elements: 1 << 12,
        max_header_len: 1 << 12,
    };
    for lim in [small, NpyLimits::default()] {
        if let Ok(a) = read_npy(data, &lim) {
            assert!(
                a.shape.len() == 1 || a.shape.len() == 2,
                "shape {:?}",
                a.shape
            );
            assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
            assert!(a.data.len() <= lim.max_elements);
            assert!(a.view2().is_ok());
        }
    }
}

/// The `tensor_from_npy` fuzz target's checks.
fn check_tensor(data: &[u8]) {
    match tensor_from_npy("fuzz.npy", data, &UPLOAD_LIMITS) {
        Ok(t) => {
            assert!(!t.data.is_empty());
            assert_eq!(t.data.len(), t.shape.iter().product::<usize>());
            let (r, c) = t.rows_cols();
            assert_eq!(r * c, t.data.len());
            if let Some((lo, hi)) = t.min_max() {
                assert!(lo <= hi && lo.is_finite() && hi.is_finite());
            }
        }
        Err(e) => assert!(!e.is_empty()),
    }
}

/// The `urlstate` fuzz target's checks.
fn check_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (state, notices) = ViewState::parse_query(&text);
    assert!(notices.len() <= MAX_NOTICES, "{} notices", notices.len());
    for n in &notices {
        for lang in [Lang::En, Lang::Ko] {
            let m = n.message(lang);
            assert!(!m.is_empty() && m.chars().count() < 1000);
        }
    }
    let q = state.to_query();
    let (again, notices2) = ViewState::parse_query(&q);
    assert_eq!(again, state, "round trip of {q:?}");
    assert!(notices2.is_empty(), "{q:?} gives {notices2:?}");
    assert_eq!(again.to_query(), q);
}

/// The `cli_args` fuzz target's checks (arguments are split at NUL bytes).
fn check_cli(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let args: Vec<String> = text.split('\0').map(str::to_string).collect();
    match parse_args(&args) {
        Ok(Parsed::Help(text)) => assert!(!text.is_empty()),
        Ok(_) => {}
        Err(e) => assert!(!e.message.is_empty() && e.message.chars().count() < 2000),
    }
}

/// The `gguf` fuzz target's checks.
fn check_gguf(data: &[u8]) {
    let small = Limits {
        max_kv: 64,
        max_tensors: 64,
        max_string: 4096,
        max_array: 4096,
        max_header: 1 << 16,
        max_dims: 4,
    };
    for lim in [small, Limits::default()] {
        if let Ok(g) = parse(data, &lim) {
            for t in &g.tensors {
                assert!(t.start + t.bytes <= data.len(), "{t:?}");
            }
        }
    }
    if let Ok(f) = load_gguf(data.to_vec()) {
        let ids = f.tokenizer.encode("fuzz 12, ab\n").ids;
        let _ = f.tokenizer.decode(&ids);
        if (2..=16).contains(&ids.len()) {
            if let Ok(h) = lm::final_hidden(&f.model, &ids, &mut Float) {
                if let Ok((_, r)) = lm::score_reference(&f.model, &ids, &h) {
                    let _ = lm::score(&f.model, &ids, &h, Some(&r));
                }
            }
        }
    }
}

fn replay(target: &str, check: fn(&[u8])) {
    let all = inputs(target);
    assert!(!all.is_empty(), "no inputs for {target}");
    for (path, bytes) in all {
        let r = std::panic::catch_unwind(|| check(&bytes));
        assert!(r.is_ok(), "{} fails again", path.display());
    }
}

#[test]
fn npy_inputs() {
    replay("npy", check_npy);
}

#[test]
fn tensor_from_npy_inputs() {
    replay("tensor_from_npy", check_tensor);
}

#[test]
fn urlstate_inputs() {
    replay("urlstate", check_url);
}

#[test]
fn cli_args_inputs() {
    replay("cli_args", check_cli);
}

#[test]
fn gguf_inputs() {
    replay("gguf", check_gguf);
    // The seeds are valid models: they must load, or the fuzzer starts from nothing.
    for (path, bytes) in inputs("gguf") {
        if path.to_string_lossy().contains("/corpus/") {
            assert!(load_gguf(bytes).is_ok(), "{}", path.display());
        }
    }
}

/// fuzz/regressions/urlstate/empty-chapter-map: `alpha=auto` (the default) used to leave an
/// empty per-chapter map behind, so the parsed view was not equal to the same view re-parsed
/// from its own link. Controls are typed fields now; the property still holds.
#[test]
fn a_control_set_to_its_default_leaves_the_default_view() {
    let (s, _) = ViewState::parse_query("ch=function&alpha=auto");
    let (d, _) = ViewState::parse_query("ch=function");
    assert_eq!(s, d);
    let mut v = d.clone();
    v.controls.function.scheme.bits = 4;
    assert_ne!(v, d);
    v.controls.function.scheme.bits = 8;
    assert_eq!(v, d);
    assert_eq!(v.to_query(), d.to_query());
}

/// fuzz/regressions/urlstate/thousand-unknown-keys: ~850 distinct unknown keys used to give
/// ~850 notices (as many lines on the page) and a quadratic sort (≈ 30 ms per parse natively);
/// now at most MAX_NOTICES, in link order.
#[test]
fn hostile_links_give_few_notices() {
    let q: String = (0..600).map(|i| format!("k{i}&")).collect();
    assert!(q.len() < quantlab_app::urlstate::MAX_QUERY_LEN);
    let (_, n) = ViewState::parse_query(&q);
    assert_eq!(n.len(), MAX_NOTICES);
    assert!(n[0].message(Lang::En).contains("k0"));
}
