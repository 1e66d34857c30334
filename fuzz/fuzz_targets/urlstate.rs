//! `urlstate::ViewState::parse_query` on arbitrary text: never a panic, every notice renders in
//! both languages, and the canonical link is a fixed point:
//! parse(to_query(parse(x))) has the same state as parse(x), with no notices.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quantlab_app::i18n::Lang;
use quantlab_app::urlstate::{ViewState, MAX_NOTICES};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (state, notices) = ViewState::parse_query(&text);
    assert!(notices.len() <= MAX_NOTICES);
    for n in &notices {
        for lang in [Lang::En, Lang::Ko] {
            let m = n.message(lang);
            assert!(!m.is_empty());
            // User text is clipped before it is shown.
            assert!(m.chars().count() < 1000, "{} chars", m.chars().count());
        }
    }
    let q = state.to_query();
    let (again, notices2) = ViewState::parse_query(&q);
    assert_eq!(again, state, "round trip of {q:?}");
    assert!(notices2.is_empty(), "{q:?} gives {notices2:?}");
    assert_eq!(again.to_query(), q);
});
