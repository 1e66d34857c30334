//! The URL-state parser on arbitrary and hostile text (the stable, bounded twin of the
//! `urlstate` cargo-fuzz target in fuzz/): `ViewState::parse_query` never panics, every notice
//! renders in both languages and stays short, and the canonical link is a fixed point:
//! parse(to_query(parse(x))) has the same state as parse(x) and no notices.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use quantlab_app::chapters::Chapter;
use quantlab_app::controls::{fields, Controls, Kind};
use quantlab_app::i18n::Lang;
use quantlab_app::urlstate::{
    percent_decode, percent_encode, Notice, ViewState, GLOBAL_KEYS, MAX_NOTICES, MAX_QUERY_LEN,
};

/// Checks everything the fuzz target checks; returns the parsed state.
pub fn check_query(q: &str) -> ViewState {
    let (state, notices) = ViewState::parse_query(q);
    assert!(notices.len() <= MAX_NOTICES, "{} notices", notices.len());
    for n in &notices {
        for lang in [Lang::En, Lang::Ko] {
            let m = n.message(lang);
            assert!(!m.is_empty(), "{n:?}");
            assert!(
                m.chars().count() < 1000,
                "{n:?}: {} chars",
                m.chars().count()
            );
        }
    }
    let canon = state.to_query();
    assert!(canon.len() <= MAX_QUERY_LEN, "{canon}");
    let (again, notices2) = ViewState::parse_query(&canon);
    assert_eq!(again, state, "round trip of {q:?} via {canon:?}");
    assert!(notices2.is_empty(), "{canon:?} gives {notices2:?}");
    assert_eq!(again.to_query(), canon);
    state
}

/// Keys a link may hold: globals, every chapter's controls, and junk.
fn key() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = GLOBAL_KEYS.iter().map(|s| s.to_string()).collect();
    for c in Chapter::ALL {
        for f in fields(c) {
            known.push(f.key.to_string());
        }
    }
    known.sort();
    known.dedup();
    prop_oneof![4 => prop::sample::select(known), 1 => "[a-z%+=&]{0,6}", 1 => ".{0,4}"]
}

/// Values: chapter slugs, every option of every choice, numbers at and beyond the limits, junk.
fn value() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = Chapter::ALL.iter().map(|c| c.slug().to_string()).collect();
    for s in [
        "en", "ko", "auto", "light", "dark", "1", "0", "true", "false", "on", "off", "auto", "",
    ] {
        known.push(s.into());
    }
    for c in Chapter::ALL {
        let defaults = Controls::default();
        for f in fields(c) {
            known.extend(defaults.of(c).text(f.key));
            match f.kind {
                Kind::Choice(options) => known.extend(options.iter().map(|o| o.to_string())),
                Kind::Int(r) => {
                    known.extend([r.min - 1, r.min, r.max, r.max + 1].map(|v| v.to_string()))
                }
                Kind::Float(r) | Kind::OptFloat(r) => {
                    known.extend([r.min, r.max].map(|v| v.to_string()))
                }
                Kind::Flag => {}
                Kind::Text(max) => {
                    known.extend(["a".repeat(max), "b".repeat(max + 1), "x\ny".into()])
                }
            }
        }
    }
    prop_oneof![
        4 => prop::sample::select(known),
        2 => any::<i64>().prop_map(|v| v.to_string()),
        2 => any::<f64>().prop_map(|v| v.to_string()),
        1 => prop::sample::select(vec!["NaN", "inf", "-inf", "1e308", "-0", "1e-320", " 3 ", "+4", "0x10", "1_000", "９"]).prop_map(String::from),
        1 => ".{0,12}",
    ]
}

fn encode_some(s: String, encode: bool) -> String {
    if encode {
        percent_encode(&s)
    } else {
        s
    }
}

fn query() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((key(), value(), any::<bool>(), any::<bool>()), 0..16),
        any::<bool>(),
    )
        .prop_map(|(pairs, lead)| {
            let body = pairs
                .into_iter()
                .map(|(k, v, ek, ev)| format!("{}={}", encode_some(k, ek), encode_some(v, ev)))
                .collect::<Vec<_>>()
                .join("&");
            if lead {
                format!("?{body}")
            } else {
                body
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_text_never_panics_and_round_trips(q in ".{0,300}") {
        check_query(&q);
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text(b in prop::collection::vec(any::<u8>(), 0..300)) {
        check_query(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn structured_links_round_trip(q in query()) {
        check_query(&q);
    }

    #[test]
    fn canonical_links_are_fixed_points(q in query()) {
        // A canonical link, once parsed, is kept exactly.
        let canon = check_query(&q).to_query();
        prop_assert_eq!(ViewState::parse_query(&canon).0.to_query(), canon);
    }

    #[test]
    fn percent_decoding_never_panics_and_inverts_encoding(s in ".{0,64}", junk in "[%0-9a-fA-FzZ+]{0,16}") {
        prop_assert_eq!(percent_decode(&percent_encode(&s)), Some(s));
        let _ = percent_decode(&junk);
    }

    #[test]
    fn overlong_links_are_cut_with_a_notice(fill in "[a-z=&%가-힣0-9]{1,8}", reps in 500usize..3000) {
        let q = format!("ch=function&x={}", fill.repeat(reps));
        let (_, n) = ViewState::parse_query(&q);
        if q.len() > MAX_QUERY_LEN {
            let first_is_too_long = matches!(n.first(), Some(Notice::TooLong { .. }));
            prop_assert!(first_is_too_long, "{:?}", n.first());
        }
        check_query(&q);
    }
}

#[test]
fn hostile_links() {
    let long_value = "9".repeat(10_000);
    let many_pairs = "bits=3&".repeat(2000);
    let many_keys: String = (0..3000).map(|i| format!("k{i}=1&")).collect();
    for q in [
        String::new(),
        "?".into(),
        "&&&&".into(),
        "=".into(),
        "%".into(),
        "%%%%".into(),
        "%C3".into(),
        "%00=%00".into(),
        "ch".into(),
        "ch=".into(),
        "ch=function&ch=error&ch=nope".into(),
        format!("ch=function&alpha={long_value}"),
        format!("ch=function&{many_pairs}"),
        many_keys,
        format!("ch={}", "가".repeat(5000)),
        "ch=function&alpha=NaN&beta=inf&bits=-9223372036854775808&seed=18446744073709551616".into(),
        "ch=function&alpha=1e9&beta=-1e9&logy=maybe&scheme=SYM&round= even ".into(),
        "ch=playground&gran=group&group=7&calib=kl&pct=100".into(),
        "lang=ko&lang=fr&theme=dark&theme=&present=1&present=2".into(),
        "ch=%F0%9F%98%80&%FF=%FE".into(),
        "\u{0}\u{feff}ch=why\u{202e}".into(),
    ] {
        check_query(&q);
    }
}
