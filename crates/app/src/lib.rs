//! quantlab's app model: what the web app shows and keeps in a link, with no web dependency, so
//! all of it is tested natively.
//!
//! * [`chapters`]: the chapters in the seminar's order, their slugs and their controls.
//! * [`urlstate`]: the view a link reproduces ([`urlstate::ViewState`]) and its query-string codec.
//! * [`i18n`]: every visible string in English and Korean.
//! * [`tour`]: the guided tour (its steps are plain-text files under `src/tour/`).
//! * [`datasets`]: the tensors a reader can pick (shipped MiniLM layers, synthetic, uploads).
//! * [`models`]: model sizes for "Why quantize?", counted from the architectures.
//! * [`sentences`]: the whole-model chapter's sentences, settings, methods and measures.
//! * [`llm`]: the language-model chapter's texts, settings and methods.
//! * [`bench`]: how the in-browser benchmark times runs (batches, median, spread).

pub mod bench;
pub mod chapters;
pub mod controls;
pub mod datasets;
pub mod i18n;
pub mod llm;
pub mod models;
pub mod percent;
pub mod sentences;
pub mod tour;
pub mod urlstate;

use i18n::Lang;
use urlstate::{Notice, ViewState};

/// Opens a link: the view its query string describes, and what in it could not be used as
/// written. The one entry point for the page and the checks: [`ViewState::parse_query`] plus
/// what only the tour knows (how many steps it has).
pub fn open_link(query: &str) -> (ViewState, Vec<Notice>) {
    let (mut state, mut notices) = ViewState::parse_query(query);
    if let Some(step) = state.tour {
        let n = tour::steps(Lang::En).len();
        if step >= n {
            state.tour = None;
            let given = (step + 1).to_string();
            let default = format!("1…{n}");
            notices.push(Notice::BadValue {
                key: "tour".into(),
                given,
                default,
            });
            notices.truncate(urlstate::MAX_NOTICES);
        }
    }
    (state, notices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_steps_beyond_the_tour_fall_back_with_a_notice() {
        let n = tour::steps(Lang::En).len();
        let (s, notices) = open_link(&format!("?ch=error&tour={n}"));
        assert_eq!((s.tour, notices.len()), (Some(n - 1), 0));
        let (s, notices) = open_link(&format!("?ch=error&tour={}", n + 1));
        assert_eq!(s.tour, None);
        assert!(matches!(notices.as_slice(), [Notice::BadValue { key, .. }] if key == "tour"));
    }
}
