//! The view lives in the URL's query string so that a copied link reopens the exact view:
//! `?ch=function&lang=ko&bits=4`. Parsing never fails: anything unknown, malformed or out of
//! range falls back to its default and yields a [`Notice`] the page shows, never a blank page.
//!
//! Only values that differ from their defaults are written, which keeps links short; the defaults
//! are part of this file and change only deliberately.

use crate::chapters::Chapter;
use crate::controls::{Controls, Kind};
use crate::i18n::{Lang, Msg};

pub use crate::controls::format_float;
pub use crate::percent::{encoded_char_len, encoded_len, percent_decode, percent_encode};

/// Longest query string we read. Most links are a few hundred bytes; the model chapter's
/// sentences make the longest (at most [`crate::sentences::MAX_TEXT_BYTES`] of text, under the
/// 8 kB request lines web servers accept). This bounds the work a pasted junk URL can cause.
pub const MAX_QUERY_LEN: usize = 8192;

/// Most notices one link produces (the first ones in link order are kept). A hostile 4 kB link
/// of 1,000 unknown keys must not flood the page with 1,000 lines (found by fuzzing).
pub const MAX_NOTICES: usize = 10;

/// Keys the shell owns; a chapter's own keys must not reuse them.
pub const GLOBAL_KEYS: [&str; 7] = ["ch", "lang", "theme", "present", "tour", "notes", "kernels"];

/// The largest `tour=N` read from a link; whether the tour has that many steps is checked by
/// [`crate::open_link`], which knows the tour.
pub const MAX_TOUR_STEP: usize = 999;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn code(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn from_code(s: &str) -> Option<Theme> {
        [Theme::Auto, Theme::Light, Theme::Dark]
            .into_iter()
            .find(|t| t.code() == s)
    }

    /// The toggle cycles system → light → dark → system.
    pub fn cycle(self) -> Theme {
        match self {
            Theme::Auto => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Auto,
        }
    }
}

/// Which build of the engine the page loads. `kernels=simd128` keeps the SIMD128 build where
/// the relaxed-SIMD one would run, to compare the two paths in one browser. The choice is made
/// before the app starts (assets/kernels.js reads the same key); the app keeps it in its links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KernelChoice {
    /// Relaxed SIMD where the browser's engine computes its 8-bit dot product, else SIMD128.
    #[default]
    Auto,
    Simd128,
}

impl KernelChoice {
    pub fn code(self) -> &'static str {
        match self {
            KernelChoice::Auto => "auto",
            KernelChoice::Simd128 => "simd128",
        }
    }

    pub fn from_code(s: &str) -> Option<KernelChoice> {
        [KernelChoice::Auto, KernelChoice::Simd128]
            .into_iter()
            .find(|k| k.code() == s)
    }
}

/// Something in a link that was not used as written. Shown as a small, dismissible note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    UnknownChapter {
        given: String,
    },
    UnknownParam {
        key: String,
    },
    BadValue {
        key: String,
        given: String,
        default: String,
    },
    TooLong {
        len: usize,
    },
    BadEncoding,
    /// A text control longer than a link may carry; what fits in `limit` bytes was kept.
    TextCut {
        key: String,
        bytes: usize,
        limit: usize,
    },
}

impl Notice {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Notice::UnknownChapter { given } => Msg::NoticeUnknownChapter.fill(
                lang,
                &[&clip(given, 40), Chapter::default().title().text(lang)],
            ),
            Notice::UnknownParam { key } => Msg::NoticeUnknownParam.fill(lang, &[&clip(key, 40)]),
            Notice::BadValue {
                key,
                given,
                default,
            } => Msg::NoticeBadValue.fill(lang, &[&clip(key, 40), &clip(given, 40), default]),
            Notice::TooLong { len } => {
                Msg::NoticeTooLong.fill(lang, &[&len.to_string(), &MAX_QUERY_LEN.to_string()])
            }
            Notice::BadEncoding => Msg::NoticeBadEncoding.text(lang).to_string(),
            Notice::TextCut { key, bytes, limit } => Msg::NoticeTextCut.fill(
                lang,
                &[&clip(key, 40), &bytes.to_string(), &limit.to_string()],
            ),
        }
    }
}

/// Shortens user-supplied text before it is shown, so a 10 kB parameter cannot flood the page.
fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

/// Everything a link reproduces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewState {
    pub chapter: Chapter,
    pub lang: Lang,
    pub theme: Theme,
    pub presenter: bool,
    /// The guided tour's current step (0-based; `tour=1` in a link is the first step).
    pub tour: Option<usize>,
    /// This window shows the presenter notes of the tour (`notes=1`), following the main window.
    pub notes: bool,
    pub kernels: KernelChoice,
    /// Every chapter's controls; a link carries only the current chapter's non-default ones.
    pub controls: Controls,
}

impl ViewState {
    /// Takes the chapter and that chapter's controls from `other` (a tour step's prepared state),
    /// keeping this view's language, theme, presenter mode and tour position.
    pub fn adopt_chapter_state(&mut self, other: &ViewState) {
        self.chapter = other.chapter;
        self.controls.adopt(other.chapter, &other.controls);
    }

    /// Reads a query string (with or without the leading `?`).
    pub fn parse_query(query: &str) -> (ViewState, Vec<Notice>) {
        let mut notices = Vec::new();
        let mut query = query.strip_prefix('?').unwrap_or(query);
        if query.len() > MAX_QUERY_LEN {
            notices.push(Notice::TooLong { len: query.len() });
            let mut cut = MAX_QUERY_LEN;
            while !query.is_char_boundary(cut) {
                cut -= 1; // cut > 0 here: index 0 is always a char boundary
            }
            query = &query[..cut];
        }

        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut bad_encoding = false;
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            match (percent_decode(k), percent_decode(v)) {
                (Some(k), Some(v)) => pairs.push((k, v)),
                _ => bad_encoding = true,
            }
        }
        if bad_encoding {
            notices.push(Notice::BadEncoding);
        }

        let mut state = ViewState::default();
        // The chapter decides which other keys are valid, so read it first.
        if let Some((_, v)) = pairs.iter().rev().find(|(k, _)| k == "ch") {
            match Chapter::from_slug(v.trim()) {
                Some(c) => state.chapter = c,
                None => notices.push(Notice::UnknownChapter { given: v.clone() }),
            }
        }
        // A set, not a list: a 4 kB link can hold 2,000 keys, and a list made this quadratic.
        let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        // Later duplicates win, as in URLSearchParams.get's common use; iterate from the end.
        for (k, v) in pairs.iter().rev() {
            if !seen.insert(k.as_str()) {
                continue;
            }
            let bad = |default: &str| Notice::BadValue {
                key: k.clone(),
                given: v.clone(),
                default: default.into(),
            };
            match k.as_str() {
                "ch" => {}
                "lang" => match Lang::from_code(v.trim()) {
                    Some(l) => state.lang = l,
                    None => notices.push(bad(Lang::default().code())),
                },
                "theme" => match Theme::from_code(v.trim()) {
                    Some(t) => state.theme = t,
                    None => notices.push(bad(Theme::default().code())),
                },
                "present" => match v.trim() {
                    "1" | "true" => state.presenter = true,
                    "0" | "false" => state.presenter = false,
                    _ => notices.push(bad("0")),
                },
                "notes" => match v.trim() {
                    "1" | "true" => state.notes = true,
                    "0" | "false" => state.notes = false,
                    _ => notices.push(bad("0")),
                },
                "kernels" => match KernelChoice::from_code(v.trim()) {
                    Some(k) => state.kernels = k,
                    None => notices.push(bad(KernelChoice::default().code())),
                },
                "tour" => match v.trim().parse::<usize>() {
                    Ok(k) if (1..=MAX_TOUR_STEP).contains(&k) => state.tour = Some(k - 1),
                    _ => notices.push(bad(&format!("1…{MAX_TOUR_STEP}"))),
                },
                key => {
                    let set = state.controls.of_mut(state.chapter);
                    let text_limit = set.fields().iter().find_map(|f| match f.kind {
                        Kind::Text(limit) if f.key == key => Some(limit),
                        _ => None,
                    });
                    match set.default_text(key) {
                        Some(default) => {
                            if !set.set_text(key, v) {
                                notices.push(bad(&default));
                            } else if let Some(limit) = text_limit {
                                let bytes = encoded_len(v);
                                if bytes > limit {
                                    notices.push(Notice::TextCut {
                                        key: key.to_string(),
                                        bytes,
                                        limit,
                                    });
                                }
                            }
                        }
                        None => notices.push(Notice::UnknownParam {
                            key: key.to_string(),
                        }),
                    }
                }
            }
        }
        // Report in the order the link wrote them (first position of each key, looked up once:
        // `sort_by_key` with a linear search per comparison was O(n² log n) on hostile links).
        let mut first_at: std::collections::BTreeMap<&str, usize> =
            std::collections::BTreeMap::new();
        for (i, (k, _)) in pairs.iter().enumerate() {
            first_at.entry(k.as_str()).or_insert(i);
        }
        notices.sort_by_cached_key(|n| match n {
            Notice::TooLong { .. } => (0, usize::MAX),
            Notice::BadEncoding => (1, usize::MAX),
            Notice::UnknownChapter { .. } => (2, usize::MAX),
            Notice::UnknownParam { key }
            | Notice::BadValue { key, .. }
            | Notice::TextCut { key, .. } => {
                (3, first_at.get(key.as_str()).copied().unwrap_or(usize::MAX))
            }
        });
        notices.truncate(MAX_NOTICES);
        (state, notices)
    }

    /// The query string (with leading `?`) that reopens this view. Only the current chapter's
    /// non-default controls are written.
    pub fn to_query(&self) -> String {
        let mut out = format!("?ch={}", self.chapter.slug());
        if self.lang != Lang::default() {
            out.push_str("&lang=");
            out.push_str(self.lang.code());
        }
        if self.theme != Theme::default() {
            out.push_str("&theme=");
            out.push_str(self.theme.code());
        }
        if self.presenter {
            out.push_str("&present=1");
        }
        if let Some(t) = self.tour {
            out.push_str(&format!("&tour={}", t + 1));
        }
        if self.notes {
            out.push_str("&notes=1");
        }
        if self.kernels != KernelChoice::default() {
            out.push_str("&kernels=");
            out.push_str(self.kernels.code());
        }
        // In declaration order, so the same view always gives the same link.
        let set = self.controls.of(self.chapter);
        for field in set.fields() {
            let (Some(v), Some(d)) = (set.text(field.key), set.default_text(field.key)) else {
                continue;
            };
            if v != d {
                out.push('&');
                out.push_str(field.key);
                out.push('=');
                out.push_str(&percent_encode(&v));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_is_the_default_view() {
        let (s, n) = ViewState::parse_query("");
        assert_eq!(s, ViewState::default());
        assert!(n.is_empty());
        assert_eq!(s.to_query(), "?ch=why");
    }

    #[test]
    fn globals_round_trip() {
        let q = "?ch=smoothquant&lang=ko&theme=dark&present=1";
        let (s, n) = ViewState::parse_query(q);
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(s.chapter, Chapter::SmoothQuant);
        assert_eq!(s.lang, Lang::Ko);
        assert_eq!(s.theme, Theme::Dark);
        assert!(s.presenter);
        assert_eq!(s.to_query(), q);
    }

    #[test]
    fn tour_and_notes_round_trip() {
        let (s, n) = ViewState::parse_query("?ch=error&tour=12&notes=1");
        assert!(n.is_empty(), "{n:?}");
        assert_eq!((s.tour, s.notes), (Some(11), true));
        assert_eq!(s.to_query(), "?ch=error&tour=12&notes=1");
        for bad in ["tour=0", "tour=1000", "tour=x", "notes=2"] {
            let (s, n) = ViewState::parse_query(bad);
            assert_eq!((s.tour, s.notes), (None, false), "{bad}");
            assert_eq!(n.len(), 1, "{bad}: {n:?}");
        }
    }

    #[test]
    fn kernel_choice_round_trips() {
        let (s, n) = ViewState::parse_query("?ch=model&kernels=simd128");
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(s.kernels, KernelChoice::Simd128);
        assert_eq!(s.to_query(), "?ch=model&kernels=simd128");
        let (s, n) = ViewState::parse_query("?kernels=auto");
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(s.to_query(), "?ch=why");
        let (s, n) = ViewState::parse_query("?kernels=avx512");
        assert_eq!((s.kernels, n.len()), (KernelChoice::Auto, 1));
    }

    #[test]
    fn junk_falls_back_with_notices() {
        let (s, n) = ViewState::parse_query("ch=nope&lang=fr&theme=%C3&zzz=1&present=maybe");
        assert_eq!(s.chapter, Chapter::Why);
        assert_eq!(s.lang, Lang::En);
        assert!(!s.presenter);
        assert!(n.contains(&Notice::UnknownChapter {
            given: "nope".into()
        }));
        assert!(n.contains(&Notice::BadEncoding));
        assert!(n.contains(&Notice::UnknownParam { key: "zzz".into() }));
        assert!(n
            .iter()
            .any(|x| matches!(x, Notice::BadValue { key, .. } if key == "lang")));
        for x in &n {
            assert!(!x.message(Lang::Ko).is_empty());
        }
    }

    #[test]
    fn long_queries_are_cut_on_a_char_boundary() {
        let q = format!("ch=why&x={}", "가".repeat(5000));
        let (_, n) = ViewState::parse_query(&q);
        assert!(matches!(n.first(), Some(Notice::TooLong { .. })));
    }

    #[test]
    fn percent_coding_round_trips() {
        for s in ["a b", "α=β&γ", "100%", "-1.577,192.344"] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        // As URLSearchParams: a malformed escape stays, '+' is a space, %2B is a plus.
        assert_eq!(percent_decode("%").as_deref(), Some("%"));
        assert_eq!(percent_decode("%ZZ+a%2Bb").as_deref(), Some("%ZZ a+b"));
        assert_eq!(percent_decode("%C3"), None); // truncated UTF-8
    }

    #[test]
    fn float_formatting_round_trips() {
        for v in [0.0, -0.0, 1.5, -1.577, 192.344, 1e-7, 0.1 + 0.2] {
            let t = format_float(v);
            assert_eq!(t.parse::<f64>().unwrap(), if v == 0.0 { 0.0 } else { v });
        }
    }

    #[test]
    fn chapter_keys_do_not_shadow_globals() {
        for c in Chapter::ALL {
            for f in crate::controls::fields(c) {
                assert!(!GLOBAL_KEYS.contains(&f.key), "{c:?} reuses {}", f.key);
            }
        }
    }

    #[test]
    fn controls_round_trip_through_the_link() {
        let mut s = ViewState {
            chapter: Chapter::SmoothQuant,
            ..ViewState::default()
        };
        s.controls.smooth.alpha = 0.35;
        s.controls.smooth.bits = crate::controls::LayerBits::W4A4;
        s.controls.rotation.theta = 30.0; // another chapter's: kept, but not in this link
        assert_eq!(s.to_query(), "?ch=smoothquant&alpha=0.35&bits=w4a4");
        let (back, n) = ViewState::parse_query(&s.to_query());
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(back.controls.smooth, s.controls.smooth);
        let (f, n) =
            ViewState::parse_query("ch=function&alpha=-1.577&beta=192.344&bits=4&data=seminar");
        assert!(n.is_empty(), "{n:?}");
        let r = &f.controls.function.range;
        assert_eq!((r.alpha, r.beta), (Some(-1.577), Some(192.344)));
        assert_eq!(
            f.to_query(),
            "?ch=function&data=seminar&bits=4&alpha=-1.577&beta=192.344"
        );
    }

    #[test]
    fn the_model_chapters_sentences_and_settings_travel_in_the_link() {
        use crate::controls::ModelBitsChoice;
        use crate::sentences::MAX_TEXT_BYTES;
        let mut s = ViewState {
            chapter: Chapter::Model,
            ..ViewState::default()
        };
        s.controls.model.text = "Hello world.\n양자화 100% & <b>more</b>".into();
        s.controls.model.alpha = Some(0.5);
        s.controls.model.bits = ModelBitsChoice::Ort;
        s.controls.model.drop = 4;
        let q = s.to_query();
        assert!(
            q.contains("bits=ort") && q.contains("alpha=0.5") && q.contains("drop=4"),
            "{q}"
        );
        assert!(q.contains("text=Hello+world.%0A"), "{q}");
        let (back, n) = ViewState::parse_query(&q);
        assert!(n.is_empty(), "{n:?}");
        assert_eq!(back.controls.model, s.controls.model);
        // SmoothQuant is off when the link has no alpha; the default text is not written.
        let (d, n) = ViewState::parse_query("ch=model");
        assert!(n.is_empty());
        assert_eq!(d.controls.model.alpha, None);
        assert_eq!(d.to_query(), "?ch=model");
        // Too long for a link: what fits in MAX_TEXT_BYTES, and a notice that says so.
        let long = "a".repeat(MAX_TEXT_BYTES + 5);
        let (cut, n) = ViewState::parse_query(&format!("ch=model&text={long}"));
        assert_eq!(cut.controls.model.text.len(), MAX_TEXT_BYTES);
        assert!(
            matches!(n.as_slice(), [Notice::TextCut { limit, bytes, .. }]
                if *limit == MAX_TEXT_BYTES && *bytes == MAX_TEXT_BYTES + 5),
            "{n:?}"
        );
        // Hangul takes 9 bytes a syllable: a cut never splits one, and the link stays in bounds.
        let hangul = "가".repeat(MAX_TEXT_BYTES / 9 + 20);
        let (cut, _) =
            ViewState::parse_query(&format!("ch=model&text={}", percent_encode(&hangul)));
        assert!(encoded_len(&cut.controls.model.text) <= MAX_TEXT_BYTES);
        assert!(cut.to_query().len() <= MAX_QUERY_LEN);
        assert_eq!(percent_encode("a b+가").len(), encoded_len("a b+가"));
        assert!(n[0].message(Lang::Ko).contains(&MAX_TEXT_BYTES.to_string()));
    }
}
