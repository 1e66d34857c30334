//! The guided tour: ~30 steps that follow the seminar's order, each one a chapter, a prepared
//! state of its controls (a query string, applied through the same URL state as a link), the
//! controls to highlight, and words in English and Korean (narration, an optional
//! "predict, then see" question with its answer, and presenter notes).
//!
//! The content lives in three plain-text files a lecturer can edit without touching code:
//! `tour/steps.txt` (structure: `id | chapter | query | focus`), `tour/en.txt` and `tour/ko.txt`
//! (words, keyed by `[id]`). They are compiled in with `include_str!` and parsed once per
//! language. Parsing is pure and never panics: a malformed file gives a [`TourError`] with the
//! file and line, and [`steps`] then returns an empty slice so the UI can say "tour unavailable".
//! The tests at the bottom keep the shipped files valid (every query valid for its chapter,
//! every highlighted testid present on the page, both languages complete, numbers checked).

use std::fmt;
use std::sync::OnceLock;

use crate::chapters::Chapter;
use crate::i18n::Lang;
use crate::urlstate::{percent_decode, ViewState, GLOBAL_KEYS, MAX_QUERY_LEN};

/// The tour's structure, one step per line.
pub const STEPS_TXT: &str = include_str!("tour/steps.txt");
/// The English words.
pub const EN_TXT: &str = include_str!("tour/en.txt");
/// The Korean words.
pub const KO_TXT: &str = include_str!("tour/ko.txt");

/// Longest step id and testid accepted (they are identifiers, not prose).
const MAX_ID_LEN: usize = 64;

/// One step of the tour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Stable identifier (`worked-example`), usable in links.
    pub id: String,
    pub chapter: Chapter,
    /// The chapter's controls, as a query string without `ch=` (empty = the defaults).
    pub query: String,
    /// `data-testid`s to highlight, in order of importance.
    pub focus: Vec<String>,
    pub title: String,
    /// 2–4 sentences shown with the step.
    pub narration: String,
    /// A question the reader answers before revealing [`Step::reveal`].
    pub predict: Option<String>,
    /// The answer to [`Step::predict`] (present exactly when `predict` is).
    pub reveal: Option<String>,
    /// The presenter's speaking notes.
    pub notes: String,
}

/// The full query string the UI applies for a step: `ch=<slug>` plus the step's controls.
/// (Language, theme and presenter mode are the reader's and are not part of a step.)
pub fn step_query(step: &Step) -> String {
    if step.query.is_empty() {
        format!("ch={}", step.chapter.slug())
    } else {
        format!("ch={}&{}", step.chapter.slug(), step.query)
    }
}

/// The words file of a language.
pub fn words_txt(lang: Lang) -> &'static str {
    match lang {
        Lang::En => EN_TXT,
        Lang::Ko => KO_TXT,
    }
}

/// The tour in `lang`, parsed once and cached; an empty slice if the shipped files do not parse
/// (impossible while the tests pass; the UI then shows "tour unavailable").
pub fn steps(lang: Lang) -> &'static [Step] {
    load(lang).unwrap_or(&[])
}

/// Like [`steps`], but with the reason when the tour is unavailable.
pub fn load(lang: Lang) -> Result<&'static [Step], &'static TourError> {
    static EN: OnceLock<Result<Vec<Step>, TourError>> = OnceLock::new();
    static KO: OnceLock<Result<Vec<Step>, TourError>> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    };
    cell.get_or_init(|| parse(STEPS_TXT, words_txt(lang), lang))
        .as_ref()
        .map(Vec::as_slice)
}

/// Position of the step `id` in the tour (the same in every language).
pub fn position(lang: Lang, id: &str) -> Option<usize> {
    steps(lang).iter().position(|s| s.id == id)
}

/// Which file an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TourFile {
    Steps,
    Words(Lang),
}

impl TourFile {
    pub fn name(self) -> &'static str {
        match self {
            TourFile::Steps => "steps.txt",
            TourFile::Words(Lang::En) => "en.txt",
            TourFile::Words(Lang::Ko) => "ko.txt",
        }
    }
}

/// What is wrong (see [`TourError`] for where).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TourErrorKind {
    /// steps.txt: a line without exactly four `|`-separated fields.
    BadStepLine {
        fields: usize,
    },
    /// An id that is not lowercase letters, digits and '-'.
    BadId {
        id: String,
    },
    /// The same id twice in one file.
    DuplicateId {
        id: String,
        first_line: usize,
    },
    UnknownChapter {
        slug: String,
    },
    /// The query is not valid for the step's chapter (unknown key, value out of range, …).
    BadQuery {
        query: String,
        problems: Vec<String>,
    },
    /// A step without any testid to highlight.
    NoFocus,
    /// A testid that is not lowercase letters, digits and '-'.
    BadFocus {
        testid: String,
    },
    /// steps.txt has no steps.
    NoSteps,
    /// Words file: a line before the first `[id]`.
    TextOutsideStep,
    /// Words file: a line that is neither `[id]` nor `key: value`.
    BadWordsLine,
    UnknownKey {
        key: String,
    },
    DuplicateKey {
        key: String,
    },
    EmptyValue {
        key: String,
    },
    /// A step's words lack `title`, `narration` or `notes` (line = its `[id]`).
    MissingKey {
        id: String,
        key: &'static str,
    },
    PredictWithoutReveal {
        id: String,
    },
    RevealWithoutPredict {
        id: String,
    },
    /// Words for an id that steps.txt does not have.
    NotInSteps {
        id: String,
    },
    /// A step of steps.txt without words in this language (line = its steps.txt line).
    MissingWords {
        id: String,
        lang: Lang,
    },
}

/// A problem in the tour's files, with the file and the 1-based line (0 = the whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TourError {
    pub file: TourFile,
    pub line: usize,
    pub kind: TourErrorKind,
}

impl fmt::Display for TourError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.name(), self.line)?;
        match &self.kind {
            TourErrorKind::BadStepLine { fields } => write!(
                f,
                "expected `id | chapter | query | focus` (4 fields separated by |), found {fields}"
            ),
            TourErrorKind::BadId { id } => {
                write!(
                    f,
                    "step id `{id}` must be lowercase letters, digits and '-'"
                )
            }
            TourErrorKind::DuplicateId { id, first_line } => {
                write!(f, "step id `{id}` already used on line {first_line}")
            }
            TourErrorKind::UnknownChapter { slug } => write!(f, "unknown chapter `{slug}`"),
            TourErrorKind::BadQuery { query, problems } => {
                write!(
                    f,
                    "query `{query}` is not valid here: {}",
                    problems.join("; ")
                )
            }
            TourErrorKind::NoFocus => write!(f, "no testid to highlight (4th field is empty)"),
            TourErrorKind::BadFocus { testid } => {
                write!(
                    f,
                    "testid `{testid}` must be lowercase letters, digits and '-'"
                )
            }
            TourErrorKind::NoSteps => write!(f, "no steps"),
            TourErrorKind::TextOutsideStep => write!(f, "text before the first [id] line"),
            TourErrorKind::BadWordsLine => write!(f, "expected `[id]` or `key: value`"),
            TourErrorKind::UnknownKey { key } => write!(
                f,
                "unknown key `{key}` (allowed: title, narration, predict, reveal, notes)"
            ),
            TourErrorKind::DuplicateKey { key } => write!(f, "`{key}` given twice for this step"),
            TourErrorKind::EmptyValue { key } => write!(f, "`{key}` is empty"),
            TourErrorKind::MissingKey { id, key } => write!(f, "step `{id}` has no `{key}`"),
            TourErrorKind::PredictWithoutReveal { id } => {
                write!(f, "step `{id}` has a `predict` but no `reveal`")
            }
            TourErrorKind::RevealWithoutPredict { id } => {
                write!(f, "step `{id}` has a `reveal` but no `predict`")
            }
            TourErrorKind::NotInSteps { id } => write!(f, "`[{id}]` is not a step of steps.txt"),
            TourErrorKind::MissingWords { id, lang } => {
                write!(
                    f,
                    "step `{id}` has no text in {}",
                    TourFile::Words(*lang).name()
                )
            }
        }
    }
}

impl std::error::Error for TourError {}

/// Lines of a file with their 1-based numbers, trimmed, without blank lines and `#` comments.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// Checks a step's query against its chapter's declared controls.
fn check_query(chapter: Chapter, query: &str) -> Result<(), Vec<String>> {
    if query.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    if query.len() > MAX_QUERY_LEN / 2 {
        problems.push(format!("longer than {} bytes", MAX_QUERY_LEN / 2));
    }
    if query.chars().any(char::is_whitespace) {
        problems.push("contains whitespace".to_string());
    }
    let specs = crate::controls::fields(chapter);
    let mut seen: Vec<String> = Vec::new();
    for part in query.split('&') {
        let Some((k, v)) = part.split_once('=') else {
            problems.push(format!("`{part}` is not key=value"));
            continue;
        };
        let (Some(k), Some(_)) = (percent_decode(k), percent_decode(v)) else {
            problems.push(format!("`{part}` has a bad %-escape"));
            continue;
        };
        if k.is_empty() {
            problems.push(format!("`{part}` has no key"));
        } else if GLOBAL_KEYS.contains(&k.as_str()) {
            problems.push(format!(
                "`{k}` is the reader's setting, not a chapter control"
            ));
        } else if seen.contains(&k) {
            problems.push(format!("`{k}` given twice"));
        } else if !specs.iter().any(|s| s.key == k) {
            let keys: Vec<&str> = specs.iter().map(|s| s.key).collect();
            problems.push(format!(
                "`{k}` is not a control of this chapter ({})",
                keys.join(", ")
            ));
        }
        seen.push(k);
    }
    if problems.is_empty() {
        let (state, notices) = ViewState::parse_query(&format!("ch={}&{query}", chapter.slug()));
        problems.extend(notices.iter().map(|n| n.message(Lang::En)));
        if state.chapter != chapter {
            problems.push(format!("the link opens `{}`", state.chapter.slug()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// One line of steps.txt, before the words are attached.
struct Skeleton {
    line: usize,
    id: String,
    chapter: Chapter,
    query: String,
    focus: Vec<String>,
}

fn parse_steps(steps_txt: &str) -> Result<Vec<Skeleton>, TourError> {
    let err = |line, kind| TourError {
        file: TourFile::Steps,
        line,
        kind,
    };
    let mut out: Vec<Skeleton> = Vec::new();
    for (line, text) in content_lines(steps_txt) {
        let fields: Vec<&str> = text.split('|').map(str::trim).collect();
        let [id, slug, query, focus] = fields.as_slice() else {
            return Err(err(
                line,
                TourErrorKind::BadStepLine {
                    fields: fields.len(),
                },
            ));
        };
        if !is_ident(id) {
            return Err(err(line, TourErrorKind::BadId { id: id.to_string() }));
        }
        if let Some(first) = out.iter().find(|s| s.id == *id) {
            let kind = TourErrorKind::DuplicateId {
                id: id.to_string(),
                first_line: first.line,
            };
            return Err(err(line, kind));
        }
        let Some(chapter) = Chapter::from_slug(slug) else {
            return Err(err(
                line,
                TourErrorKind::UnknownChapter {
                    slug: slug.to_string(),
                },
            ));
        };
        if let Err(problems) = check_query(chapter, query) {
            return Err(err(
                line,
                TourErrorKind::BadQuery {
                    query: query.to_string(),
                    problems,
                },
            ));
        }
        if focus.is_empty() {
            return Err(err(line, TourErrorKind::NoFocus));
        }
        let focus: Vec<String> = focus.split(',').map(|t| t.trim().to_string()).collect();
        if let Some(bad) = focus.iter().find(|t| !is_ident(t)) {
            return Err(err(
                line,
                TourErrorKind::BadFocus {
                    testid: bad.clone(),
                },
            ));
        }
        out.push(Skeleton {
            line,
            id: id.to_string(),
            chapter,
            query: query.to_string(),
            focus,
        });
    }
    if out.is_empty() {
        return Err(err(0, TourErrorKind::NoSteps));
    }
    Ok(out)
}

const KEYS: [&str; 5] = ["title", "narration", "predict", "reveal", "notes"];

/// One `[id]` block of a words file.
#[derive(Default)]
struct Words {
    line: usize,
    id: String,
    /// Values in the order of [`KEYS`].
    values: [Option<String>; 5],
}

impl Words {
    fn take(&mut self, key: &str) -> Option<String> {
        let i = KEYS.iter().position(|k| *k == key)?;
        self.values.get_mut(i)?.take()
    }
}

fn parse_words(words_txt: &str, lang: Lang) -> Result<Vec<Words>, TourError> {
    let file = TourFile::Words(lang);
    let err = |line, kind| TourError { file, line, kind };
    let mut out: Vec<Words> = Vec::new();
    for (line, text) in content_lines(words_txt) {
        if let Some(rest) = text.strip_prefix('[') {
            let Some(id) = rest.strip_suffix(']').map(str::trim) else {
                return Err(err(line, TourErrorKind::BadWordsLine));
            };
            if !is_ident(id) {
                return Err(err(line, TourErrorKind::BadId { id: id.to_string() }));
            }
            if let Some(first) = out.iter().find(|w| w.id == id) {
                let kind = TourErrorKind::DuplicateId {
                    id: id.to_string(),
                    first_line: first.line,
                };
                return Err(err(line, kind));
            }
            out.push(Words {
                line,
                id: id.to_string(),
                ..Words::default()
            });
            continue;
        }
        let Some(block) = out.last_mut() else {
            return Err(err(line, TourErrorKind::TextOutsideStep));
        };
        let Some((key, value)) = text.split_once(':') else {
            return Err(err(line, TourErrorKind::BadWordsLine));
        };
        let (key, value) = (key.trim(), value.trim());
        let Some(slot) = KEYS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| block.values.get_mut(i))
        else {
            return Err(err(
                line,
                TourErrorKind::UnknownKey {
                    key: key.to_string(),
                },
            ));
        };
        if slot.is_some() {
            return Err(err(
                line,
                TourErrorKind::DuplicateKey {
                    key: key.to_string(),
                },
            ));
        }
        if value.is_empty() {
            return Err(err(
                line,
                TourErrorKind::EmptyValue {
                    key: key.to_string(),
                },
            ));
        }
        *slot = Some(value.to_string());
    }
    Ok(out)
}

/// Parses the tour from its structure and the words of one language. Pure; never panics.
pub fn parse(steps_txt: &str, words_txt: &str, lang: Lang) -> Result<Vec<Step>, TourError> {
    let skeletons = parse_steps(steps_txt)?;
    let mut words = parse_words(words_txt, lang)?;
    let werr = |line, kind| TourError {
        file: TourFile::Words(lang),
        line,
        kind,
    };
    if let Some(w) = words
        .iter()
        .find(|w| !skeletons.iter().any(|s| s.id == w.id))
    {
        return Err(werr(w.line, TourErrorKind::NotInSteps { id: w.id.clone() }));
    }
    let mut out = Vec::with_capacity(skeletons.len());
    for s in skeletons {
        let Some(w) = words.iter_mut().find(|w| w.id == s.id) else {
            let kind = TourErrorKind::MissingWords { id: s.id, lang };
            return Err(TourError {
                file: TourFile::Steps,
                line: s.line,
                kind,
            });
        };
        let (line, id) = (w.line, w.id.clone());
        let mut required = |key: &'static str| {
            w.take(key).ok_or_else(|| {
                werr(
                    line,
                    TourErrorKind::MissingKey {
                        id: id.clone(),
                        key,
                    },
                )
            })
        };
        let title = required("title")?;
        let narration = required("narration")?;
        let notes = required("notes")?;
        let (predict, reveal) = (w.take("predict"), w.take("reveal"));
        match (&predict, &reveal) {
            (Some(_), None) => return Err(werr(line, TourErrorKind::PredictWithoutReveal { id })),
            (None, Some(_)) => return Err(werr(line, TourErrorKind::RevealWithoutPredict { id })),
            _ => {}
        }
        out.push(Step {
            id: s.id,
            chapter: s.chapter,
            query: s.query,
            focus: s.focus,
            title,
            narration,
            predict,
            reveal,
            notes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---------------------------------------------------------------- helpers

    fn all(lang: Lang) -> &'static [Step] {
        match load(lang) {
            Ok(s) => s,
            Err(e) => panic!("the shipped tour does not parse: {e}"),
        }
    }

    fn has_hangul(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{AC00}'..='\u{D7A3}').contains(&c)
                || ('\u{1100}'..='\u{11FF}').contains(&c)
                || ('\u{3130}'..='\u{318F}').contains(&c)
        })
    }

    /// Sentences in a text: sentence-ending punctuation (. ? ! 。, also after Korean 다/요)
    /// followed by a space or the end, closing quotes and brackets allowed in between; decimals
    /// (0.763), ellipses and abbreviations (e.g., i.e., et al., vs.) do not end a sentence. A
    /// last sentence without a full stop still counts.
    fn sentences(text: &str) -> usize {
        const ABBREV: [&str; 6] = ["e.g", "i.e", "al", "vs", "cf", "approx"];
        let chars: Vec<char> = text.trim().chars().collect();
        let closer = |c: char| matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '」');
        let mut n = 0;
        let mut i = 0;
        let mut last_end = 0;
        while i < chars.len() {
            let c = chars[i];
            if !matches!(c, '.' | '?' | '!' | '。') {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j], '.' | '?' | '!') {
                j += 1;
            }
            while j < chars.len() && closer(chars[j]) {
                j += 1;
            }
            let ends = j >= chars.len() || chars[j].is_whitespace();
            let word: String = chars[..i]
                .iter()
                .rev()
                .take_while(|c| !c.is_whitespace() && **c != '(')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let abbrev = c == '.'
                && ABBREV.contains(&word.to_lowercase().trim_start_matches(['“', '"', '(']));
            if ends && !abbrev {
                n += 1;
                last_end = j;
            }
            i = j;
        }
        if chars
            .get(last_end..)
            .is_some_and(|rest| rest.iter().any(|c| c.is_alphanumeric()))
        {
            n += 1;
        }
        n
    }

    // ---------------------------------------------------------------- the shipped tour

    #[test]
    fn both_languages_parse_with_the_same_steps() {
        let (en, ko) = (all(Lang::En), all(Lang::Ko));
        assert!(
            // About three to four steps per chapter (twelve of them): a seminar hour, not a
            // manual.
            (20..=48).contains(&en.len()),
            "{} steps; the tour should have 20–48",
            en.len()
        );
        let ids = |s: &[Step]| s.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(en), ids(ko));
        for (e, k) in en.iter().zip(ko) {
            assert_eq!(
                (e.chapter, &e.query, &e.focus),
                (k.chapter, &k.query, &k.focus)
            );
            assert_eq!(
                e.predict.is_some(),
                k.predict.is_some(),
                "{}: predict in one language only",
                e.id
            );
        }
        // The words files list the steps in the tour's order, so they read side by side.
        for lang in Lang::ALL {
            let order: Vec<&str> = words_txt(lang)
                .lines()
                .filter_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']'))
                .collect();
            assert_eq!(
                order,
                ids(en),
                "{} is not in the order of steps.txt",
                TourFile::Words(lang).name()
            );
        }
        assert_eq!(steps(Lang::Ko).len(), ko.len());
        assert_eq!(
            position(Lang::En, "worked-example").map(|i| en[i].id.as_str()),
            Some("worked-example")
        );
        assert_eq!(position(Lang::En, "nope"), None);
    }

    #[test]
    fn chapters_follow_the_seminar() {
        let tour = all(Lang::En);
        for w in tour.windows(2) {
            assert!(
                w[0].chapter <= w[1].chapter,
                "`{}` ({}) comes after `{}` ({})",
                w[1].id,
                w[1].chapter.slug(),
                w[0].id,
                w[0].chapter.slug()
            );
        }
        // Every chapter of the seminar (all but the playground) has at least one step.
        for c in Chapter::ALL.iter().filter(|c| **c != Chapter::Playground) {
            assert!(
                tour.iter().any(|s| s.chapter == *c),
                "no step in {}",
                c.slug()
            );
        }
        assert_eq!(tour.first().map(|s| s.chapter), Some(Chapter::Why));
    }

    #[test]
    fn every_query_is_valid_for_its_chapter() {
        for step in all(Lang::En) {
            assert!(!step_query(step).contains("&&") && !step_query(step).ends_with('&'));
            let (state, notices) = ViewState::parse_query(&step_query(step));
            assert!(
                notices.is_empty(),
                "step `{}` ({}): {:?}",
                step.id,
                step_query(step),
                notices
            );
            assert_eq!(state.chapter, step.chapter);
            // Every control the step sets is one the link keeps (so the UI applies all of it).
            let set = state.controls.of(step.chapter);
            for part in step.query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = part.split_once('=').unwrap_or((part, ""));
                let mut one = crate::controls::Controls::default();
                assert!(
                    one.of_mut(step.chapter).set_text(k, v),
                    "step `{}`: {k}={v}",
                    step.id
                );
                assert_eq!(
                    set.text(k),
                    one.of(step.chapter).text(k),
                    "step `{}`: {k}",
                    step.id
                );
            }
        }
    }

    #[test]
    fn words_have_the_right_length_and_language() {
        for lang in Lang::ALL {
            let mut predicts = 0;
            for s in all(lang) {
                let n = sentences(&s.narration);
                assert!(
                    (2..=4).contains(&n),
                    "{lang} `{}`: narration has {n} sentences: {}",
                    s.id,
                    s.narration
                );
                let n = sentences(&s.notes);
                assert!(
                    (4..=8).contains(&n),
                    "{lang} `{}`: notes have {n} sentences: {}",
                    s.id,
                    s.notes
                );
                assert!(
                    s.title.chars().count() <= 60,
                    "{lang} `{}`: title too long",
                    s.id
                );
                if let (Some(p), Some(r)) = (&s.predict, &s.reveal) {
                    predicts += 1;
                    assert!(
                        p.contains('?'),
                        "{lang} `{}`: predict is not a question",
                        s.id
                    );
                    assert!(sentences(r) >= 1);
                }
                let texts = [
                    Some(&s.title),
                    Some(&s.narration),
                    Some(&s.notes),
                    s.predict.as_ref(),
                    s.reveal.as_ref(),
                ];
                for t in texts.into_iter().flatten() {
                    match lang {
                        Lang::Ko => assert!(has_hangul(t), "ko `{}` is not in Korean: {t}", s.id),
                        // English prose; the slides' Korean is only quoted in the presenter notes.
                        Lang::En => assert!(
                            std::ptr::eq(t, &s.notes) || !has_hangul(t),
                            "en `{}` has Hangul outside the notes: {t}",
                            s.id
                        ),
                    }
                }
            }
            assert!(
                predicts >= 6,
                "{lang}: only {predicts} predict-then-see steps"
            );
        }
    }

    #[test]
    fn sentence_counter_is_lenient_but_real() {
        assert_eq!(sentences("One. Two? Three!"), 3);
        assert_eq!(
            sentences("s ≈ 0.763 here (e.g. INT8). Et al. is fine: Jacob et al., 2018. Done"),
            3
        );
        assert_eq!(
            sentences("실수를 정수로 맵핑합니다. 괜찮은 걸까? “s를 줄여야 한다.” 끝"),
            4
        );
        assert_eq!(sentences("Wait... what?"), 2);
        assert_eq!(sentences(""), 0);
    }

    // ---------------------------------------------------------------- parse errors

    const S: &str = "# a comment\n\na | why | | sizes-chart\nb | function | bits=4&data=seminar | bits-select, codes-chart\n";
    const W: &str = "[a]\ntitle: A\nnarration: One. Two.\nnotes: N.\n\n# c\n[b]\ntitle: B\nnarration: x: y\npredict: p?\nreveal: r\nnotes: n\n";

    fn err(steps: &str, words: &str) -> TourError {
        match parse(steps, words, Lang::Ko) {
            Ok(_) => panic!("parsed:\n{steps}\n{words}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_small_tour_parses() {
        let t = parse(S, W, Lang::En).expect("valid");
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].focus, ["bits-select", "codes-chart"]);
        assert_eq!(t[1].narration, "x: y");
        assert_eq!(t[1].predict.as_deref(), Some("p?"));
        assert_eq!(step_query(&t[0]), "ch=why");
        assert_eq!(step_query(&t[1]), "ch=function&bits=4&data=seminar");
        let (v, n) = ViewState::parse_query(&step_query(&t[1]));
        assert!(n.is_empty());
        assert_eq!(v.controls.function.scheme.bits, 4);
    }

    #[test]
    fn malformed_steps_give_line_numbered_errors() {
        use TourErrorKind as K;
        let cases: &[(&str, usize, fn(&K) -> bool)] = &[
            ("a | why | sizes-chart\n", 1, |k| {
                matches!(k, K::BadStepLine { fields: 3 })
            }),
            ("\na | why | | x | y\n", 2, |k| {
                matches!(k, K::BadStepLine { fields: 5 })
            }),
            (
                "a | nope | | t\n",
                1,
                |k| matches!(k, K::UnknownChapter { slug } if slug == "nope"),
            ),
            ("a | why | | t\nb | function | bits=9 | t\n", 2, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | function | zzz=1 | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | function | lang=ko | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | function | bits=4&bits=5 | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | function | bits | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | function | data=%ZZ | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | function | bits= 4 | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            ("a | summary | theme=dark | t\n", 1, |k| {
                matches!(k, K::BadQuery { .. })
            }),
            (
                "a | why | | t\n#\na | why | | t\n",
                3,
                |k| matches!(k, K::DuplicateId { id, first_line: 1 } if id == "a"),
            ),
            ("Step_1 | why | | t\n", 1, |k| matches!(k, K::BadId { .. })),
            ("a | why | |\n", 1, |k| matches!(k, K::NoFocus)),
            ("a | why | | Sizes Chart\n", 1, |k| {
                matches!(k, K::BadFocus { .. })
            }),
            (
                "a | why | | t,,u\n",
                1,
                |k| matches!(k, K::BadFocus { testid } if testid.is_empty()),
            ),
            ("# nothing\n\n", 0, |k| matches!(k, K::NoSteps)),
        ];
        for (steps, line, want) in cases {
            let e = err(steps, W);
            assert_eq!(e.file, TourFile::Steps, "{steps}: {e}");
            assert_eq!(e.line, *line, "{steps}: {e}");
            assert!(want(&e.kind), "{steps}: {e}");
            assert!(e.to_string().starts_with(&format!("steps.txt:{line}: ")));
        }
    }

    #[test]
    fn malformed_words_give_line_numbered_errors() {
        use TourErrorKind as K;
        const A: &str = "[a]\ntitle: A\nnarration: n\nnotes: n\n";
        let b = "[b]\ntitle: B\nnarration: n\nnotes: n\n";
        let cases: Vec<(String, usize, fn(&K) -> bool)> = vec![
            (format!("title: x\n{A}{b}"), 1, |k| {
                matches!(k, K::TextOutsideStep)
            }),
            (
                format!("[a]\ntitel: A\n{b}"),
                2,
                |k| matches!(k, K::UnknownKey { key } if key == "titel"),
            ),
            (
                format!("[a]\ntitle: A\ntitle: B\n{b}"),
                3,
                |k| matches!(k, K::DuplicateKey { key } if key == "title"),
            ),
            (format!("[a]\ntitle:\n{b}"), 2, |k| {
                matches!(k, K::EmptyValue { .. })
            }),
            (format!("[a]\njust words\n{b}"), 2, |k| {
                matches!(k, K::BadWordsLine)
            }),
            (format!("[a\n{b}"), 1, |k| matches!(k, K::BadWordsLine)),
            (format!("[a]\ntitle: A\nnarration: n\n{b}"), 1, |k| {
                matches!(k, K::MissingKey { key: "notes", .. })
            }),
            (format!("{b}\n[a]\nnarration: n\nnotes: n\n"), 6, |k| {
                matches!(k, K::MissingKey { key: "title", .. })
            }),
            (
                format!("{A}{b}predict: p?\n"),
                5,
                |k| matches!(k, K::PredictWithoutReveal { id } if id == "b"),
            ),
            (
                format!("{A}reveal: r\n{b}"),
                1,
                |k| matches!(k, K::RevealWithoutPredict { id } if id == "a"),
            ),
            (
                format!("{A}{b}[c]\ntitle: C\n"),
                9,
                |k| matches!(k, K::NotInSteps { id } if id == "c"),
            ),
            (format!("{A}{A}{b}"), 5, |k| {
                matches!(k, K::DuplicateId { first_line: 1, .. })
            }),
            (format!("{A}[B]\n"), 5, |k| matches!(k, K::BadId { .. })),
        ];
        for (words, line, want) in &cases {
            let e = err(S, words);
            assert_eq!(e.file, TourFile::Words(Lang::Ko), "{words}: {e}");
            assert_eq!(e.line, *line, "{words}: {e}");
            assert!(want(&e.kind), "{words}: {e}");
            assert!(
                e.to_string().starts_with(&format!("ko.txt:{line}: ")),
                "{e}"
            );
        }
        // A step of steps.txt without words points at its line in steps.txt.
        let e = err(S, A);
        assert_eq!((e.file, e.line), (TourFile::Steps, 4));
        assert_eq!(
            e.kind,
            K::MissingWords {
                id: "b".into(),
                lang: Lang::Ko
            }
        );
        assert!(e.to_string().contains("ko.txt"));
    }

    #[test]
    fn parse_never_panics_on_mangled_files() {
        // xorshift64*: deterministic, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: usize| -> usize {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
        };
        const BITS: [&str; 24] = [
            "|",
            "&",
            "=",
            "[",
            "]",
            ":",
            "#",
            "\n",
            "%",
            "%ZZ",
            "%C3",
            "가",
            "ch=",
            "[a]",
            "title:",
            "predict: q",
            "reveal:",
            "\u{0}",
            "||||",
            "=&=&",
            "  ",
            "\r\n",
            "é",
            "bits=99",
        ];
        let mangle = |text: &str, next: &mut dyn FnMut(usize) -> usize| -> String {
            let mut c: Vec<char> = text.chars().collect();
            for _ in 0..1 + next(6) {
                let at = next(c.len() + 1);
                match next(5) {
                    0 => {
                        let end = (at + next(40)).min(c.len());
                        c.drain(at.min(end)..end);
                    }
                    1 => c
                        .splice(at..at, BITS[next(BITS.len())].chars())
                        .for_each(drop),
                    2 => c.truncate(at),
                    3 => {
                        let end = (at + next(80)).min(c.len());
                        let copy: Vec<char> = c[at.min(end)..end].to_vec();
                        let to = next(c.len() + 1);
                        c.splice(to..to, copy).for_each(drop);
                    }
                    _ => {
                        if let Some(x) = c.get_mut(at) {
                            *x = char::from_u32(next(0x3000) as u32).unwrap_or('?');
                        }
                    }
                }
            }
            c.into_iter().collect()
        };
        let mut ok = 0;
        for round in 0..600 {
            let (steps, words) = match round % 3 {
                0 => (mangle(STEPS_TXT, &mut next), EN_TXT.to_string()),
                1 => (STEPS_TXT.to_string(), mangle(KO_TXT, &mut next)),
                _ => (mangle(S, &mut next), mangle(W, &mut next)),
            };
            for lang in Lang::ALL {
                if let Ok(t) = parse(&steps, &words, lang) {
                    ok += 1;
                    assert!(t.iter().all(|s| !s.title.is_empty()
                        && !s.narration.is_empty()
                        && !s.focus.is_empty()));
                    assert!(t.iter().all(|s| s.predict.is_some() == s.reveal.is_some()));
                }
            }
        }
        // Pure garbage too.
        for _ in 0..200 {
            let g: String = (0..next(300)).map(|_| BITS[next(BITS.len())]).collect();
            let _ = parse(&g, &g, Lang::En);
        }
        assert!(
            ok > 0,
            "no mangled input survived; the mutations are too destructive to be useful"
        );
    }

    // ---------------------------------------------------------------- the numbers the text states

    /// `v` with a typographic minus, as the text writes numbers.
    fn num(v: f64, decimals: usize) -> String {
        format!("{v:.decimals$}").replace('-', "−")
    }

    /// Both languages state `s` somewhere.
    fn both_say(s: &str) {
        for lang in Lang::ALL {
            assert!(
                words_txt(lang).contains(s),
                "{} no longer states “{s}”",
                TourFile::Words(lang).name()
            );
        }
    }

    fn real(id: &str) -> crate::datasets::Tensor {
        use crate::controls::Choice;
        let r = crate::datasets::REAL
            .iter()
            .find(|r| r.choice.slug() == id)
            .expect("a shipped tensor");
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(r.path);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        crate::datasets::tensor_from_npy(id, &bytes, &crate::datasets::UPLOAD_LIMITS)
            .expect("valid .npy")
    }

    fn layer(x_id: &str, w_path: &str) -> quantlab_engine::linear::LayerCase {
        let x = real(x_id);
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(w_path);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let w = crate::datasets::tensor_from_npy("w", &bytes, &crate::datasets::UPLOAD_LIMITS)
            .expect("valid .npy");
        let ((t, c), (_, n)) = (x.rows_cols(), w.rows_cols());
        quantlab_engine::linear::LayerCase::from_vecs(x.data, t, c, w.data, n).expect("a layer")
    }

    /// The number-format steps' numbers: the function chapter with `fmt=e4m3` and the
    /// playground's table, recomputed with the engine.
    #[test]
    fn stated_numbers_match_the_engine_formats() {
        use crate::datasets::{synthesize, Synthetic};
        use quantlab_engine::format::compare::Contender;
        use quantlab_engine::{
            quantize_format, quantize_granular, Calibrator, Element, Format, Granularity,
            NonFinitePolicy, Scheme,
        };
        let l5 = real("l5fc1-x");
        let (r, c) = l5.rows_cols();
        let x = ndarray::ArrayView2::from_shape((r, c), &l5.data).expect("2-D");
        let skip = NonFinitePolicy::Skip;
        // The function chapter's default INT8 (asymmetric, narrow, min-max) against E4M3.
        let int8 = Scheme::new(8, true, false, true).expect("int8");
        let i = quantize_granular(x, &int8, Granularity::PerTensor, &Calibrator::MinMax, skip)
            .expect("int8")
            .overall;
        let e = quantize_format(
            x,
            Format::Scaled(Element::E4m3),
            Granularity::PerTensor,
            skip,
        )
        .expect("e4m3")
        .overall;
        assert_eq!(
            (format!("{:.1}", i.sqnr_db), format!("{:.1}", e.sqnr_db)),
            ("27.8".into(), "31.7".into())
        );
        let ratio = e.max_abs_err / i.max_abs_err;
        assert!((9.0..=11.0).contains(&ratio), "max error ratio {ratio}");
        assert_eq!(Element::E4m3.step_at(448.0), 32.0);
        for s in ["31.7 dB", "27.8 dB", "448"] {
            both_say(s);
        }
        // The playground's table: differences of SQNR as the verdict rounds them.
        let sqnr =
            |x: ndarray::ArrayView2<f32>, who: Contender| who.run(x).expect("runs").0.sqnr_db;
        let d = |a: f64, b: f64| format!("{:.1}", a - b);
        assert_eq!(
            d(sqnr(x, Contender::Fp8E4m3), sqnr(x, Contender::Int8)),
            "4.5"
        );
        assert_eq!(
            d(sqnr(x, Contender::Int4Group32), sqnr(x, Contender::Mxfp4)),
            "0.2"
        );
        assert_eq!(
            d(sqnr(x, Contender::Nvfp4), sqnr(x, Contender::Mxfp4)),
            "4.5"
        );
        let g = synthesize(Synthetic::Gaussian, 1, false)
            .expect("gauss")
            .data;
        let gx = ndarray::ArrayView2::from_shape((1, g.len()), &g).expect("1 row");
        assert_eq!(
            d(sqnr(gx, Contender::Int8), sqnr(gx, Contender::Fp8E4m3)),
            "8.7"
        );
        for s in ["4.5 dB", "0.2 dB", "8.7 dB"] {
            both_say(s);
        }
    }

    /// The function, error and calibration chapters' numbers, recomputed with the engine.
    #[test]
    fn stated_numbers_match_the_engine_first_half() {
        use crate::datasets::{stream_batches, synthesize, Synthetic};
        use quantlab_engine::{
            calibrate, round_trip_metrics, Calibrator, NonFinitePolicy, QParams, Scheme,
        };
        let int = |bits| Scheme::new(bits, true, false, true).expect("signed narrow asymmetric");
        let skip = NonFinitePolicy::Skip;

        // The worked example (the function chapter's rule: s = (β − α)/254 exactly).
        let x = synthesize(Synthetic::Seminar, 1, false)
            .expect("seminar data")
            .data;
        let (i8s, i3s) = (int(8), int(3));
        let p8 = QParams::from_range_seminar(-1.577, 192.344, &i8s).expect("s, z");
        assert_eq!(format!("{:.5}", p8.scale), "0.76347");
        assert_eq!(p8.zero_point, -125);
        assert_eq!(num(f64::from(-1.577f32 / p8.scale), 2), "−2.07");
        assert_eq!(format!("{:.2}", p8.scale / 2.0), "0.38");
        for s in ["0.76347", "193.921/254", "−125", "−2.07", "≈ 0.38"] {
            both_say(s);
        }
        let m8 = round_trip_metrics(&x, &p8, &i8s, skip).expect("metrics");
        assert_eq!(
            (
                m8.clipped_fraction,
                format!("{:.0}", m8.sqnr_db),
                format!("{:.3}", m8.mse)
            ),
            (0.0, "42".into(), "0.043".into())
        );
        both_say("42 dB");
        // One value's journey: x = 100.
        let q = (100.0 / p8.scale).round() as i32 + p8.zero_point;
        assert_eq!(
            (format!("{:.2}", 100.0 / p8.scale), q),
            ("130.98".to_string(), 6)
        );
        assert_eq!(
            format!("{:.3}", p8.scale * (q - p8.zero_point) as f32),
            "100.014"
        );
        both_say("100.014");
        // INT3: 7 codes, s ≈ 32.3 (42× coarser), errors up to ≈ 16, most values on the code of 0.
        let p3 = QParams::from_range_seminar(-1.577, 192.344, &i3s).expect("s, z");
        assert_eq!((i3s.qmin(), i3s.qmax()), (-3, 3));
        assert_eq!(
            (
                format!("{:.1}", p3.scale),
                format!("{:.0}", p3.scale / p8.scale),
                format!("{:.0}", p3.scale / 2.0)
            ),
            ("32.3".into(), "42".into(), "16".into())
        );
        let m3 = round_trip_metrics(&x, &p3, &i3s, skip).expect("metrics");
        assert_eq!(format!("{:.0}", m3.sqnr_db), "12");
        let on_zero = x
            .iter()
            .filter(|v| (**v / p3.scale).round() as i32 == 0)
            .count();
        assert!(
            on_zero * 2 > x.len(),
            "most values should land on the code of 0"
        );
        both_say("32.3");
        both_say("12 dB");
        // β = 100: s halves, 1.6 % clipped (some by > 90), MSE ≈ 51.
        let pb = QParams::from_range_seminar(-1.577, 100.0, &i8s).expect("s, z");
        let mb = round_trip_metrics(&x, &pb, &i8s, skip).expect("metrics");
        let got = (
            format!("{:.2}", pb.scale),
            format!("{:.1}", 100.0 * mb.clipped_fraction),
            format!("{:.0}", mb.mse),
        );
        assert_eq!(got, ("0.40".into(), "1.6".into(), "51".into()));
        assert!(mb.max_abs_err > 90.0);
        both_say("1.6 %");

        // The error chapter: t·[min, max] with PyTorch's rule, 90 points from 0.02 to 1.2.
        let curve = |x: &[f32], bits: u8| -> Vec<(f64, quantlab_engine::RoundTripMetrics)> {
            let (lo, hi) = x
                .iter()
                .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
            (0..90)
                .map(|i| {
                    let t = 0.02 + 1.18 * i as f64 / 89.0;
                    let p = QParams::from_observed(
                        (t * f64::from(lo)) as f32,
                        (t * f64::from(hi)) as f32,
                        &int(bits),
                    )
                    .expect("s, z");
                    (
                        t,
                        round_trip_metrics(x, &p, &int(bits), skip).expect("metrics"),
                    )
                })
                .collect()
        };
        let best = |c: &[(f64, quantlab_engine::RoundTripMetrics)]| {
            c.iter()
                .min_by(|a, b| a.1.mse.total_cmp(&b.1.mse))
                .map(|p| (p.0, p.1.mse))
                .expect("points")
        };
        let at = |c: &[(f64, quantlab_engine::RoundTripMetrics)], t: f64| {
            c.iter()
                .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
                .map(|p| p.1)
                .expect("points")
        };
        let at_t = |x: &[f32], t: f64| {
            let (lo, hi) = x
                .iter()
                .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
            let p = QParams::from_observed(
                (t * f64::from(lo)) as f32,
                (t * f64::from(hi)) as f32,
                &i8s,
            )
            .expect("s, z");
            round_trip_metrics(x, &p, &i8s, skip).expect("metrics")
        };
        let (m1, m05) = (at_t(&x, 1.0), at_t(&x, 0.5));
        assert_eq!(
            (
                format!("{:.3}", m1.rounding_mse),
                format!("{:.3}", m05.rounding_mse),
                format!("{:.0}", m05.clipping_mse)
            ),
            ("0.043".into(), "0.011".into(), "57".into())
        );
        assert!(m05.clipping_mse > 1000.0 * (m1.rounding_mse - m05.rounding_mse));
        let above = x.iter().filter(|v| **v > 127.0).count() as f64 / x.len() as f64;
        assert!(
            (0.005..0.015).contains(&above),
            "about 1 % above 127: {above}"
        );
        assert!(
            best(&curve(&x, 8)).0 > 0.9,
            "the seminar data's optimum is near t = 1"
        );
        both_say("57");
        let l1 = real("l1fc1-x").data;
        let c4 = curve(&l1, 4);
        let (t4, mse4) = best(&c4);
        assert_eq!(format!("{t4:.2}"), "0.22");
        assert!(
            at(&c4, 1.0).mse > 4.0 * mse4,
            "min–max is more than 4× the best"
        );
        let (lo, hi) = l1
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        assert_eq!(
            (format!("{hi:.1}"), format!("{:.1}", (hi - lo) / 14.0)),
            ("30.3".into(), "2.6".into())
        );
        assert_eq!(format!("{:.1}", best(&curve(&l1, 8)).0), "0.9");
        for s in ["t = 0.22", "30.3", "2.6", "t = 0.9"] {
            both_say(s);
        }

        // The calibration chapter: calibrators on layer 1 and layer 5 at INT8.
        let mse =
            |x: &[f32], c: Calibrator| calibrate(x, &i8s, &c).expect("calibration").metrics.mse;
        let got = (
            format!("{:.4}", mse(&l1, Calibrator::MinMax)),
            format!("{:.3}", mse(&l1, Calibrator::Percentile { p: 99.99 })),
            format!("{:.3}", mse(&l1, Calibrator::Percentile { p: 99.0 })),
        );
        assert_eq!(got, ("0.0017".into(), "0.011".into(), "0.046".into()));
        assert!(mse(&l1, Calibrator::Mse) < mse(&l1, Calibrator::MinMax));
        let l5 = real("l5fc1-x");
        for c in [Calibrator::Mse, Calibrator::Entropy] {
            assert!(mse(&l5.data, c) < mse(&l5.data, Calibrator::MinMax));
        }
        for s in ["0.0017", "0.011", "0.046"] {
            both_say(s);
        }
        // The stream: 16 batches of layer 5, an 8× outlier in batch 12 (index 11).
        let stream = |calib: usize, drift: f64| -> ((f32, f32), Vec<f64>, Vec<f64>) {
            let b = stream_batches(&l5.data, l5.rows_cols(), 16, drift, Some(11));
            let mm = |b: &[f32]| {
                b.iter()
                    .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)))
            };
            let range = b
                .iter()
                .take(calib)
                .map(|x| mm(x))
                .fold((f32::MAX, f32::MIN), |(l, h), (a, c)| (l.min(a), h.max(c)));
            let ps = QParams::from_observed(range.0, range.1, &i8s).expect("static");
            let st = b
                .iter()
                .map(|x| round_trip_metrics(x, &ps, &i8s, skip).expect("metrics").mse)
                .collect();
            let dy = b
                .iter()
                .map(|x| {
                    let (l, h) = mm(x);
                    round_trip_metrics(
                        x,
                        &QParams::from_observed(l, h, &i8s).expect("dynamic"),
                        &i8s,
                        skip,
                    )
                    .expect("metrics")
                    .mse
                })
                .collect();
            (range, st, dy)
        };
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (_, st, dy) = stream(2, 0.3);
        assert!(
            st[11] > 100.0 * st[10].max(st[12]),
            "static jumps by more than two orders of magnitude"
        );
        assert!(dy[11] / dy[10] < st[11] / st[10] && dy[11] > 5.0 * dy[10]);
        assert!(
            st[15] > 5.0 * st[0],
            "static's error creeps up with the drift"
        );
        let (range, st16, dy16) = stream(16, 0.8);
        assert_eq!(
            format!(
                "[{}, {}]",
                num(f64::from(range.0), 1),
                num(f64::from(range.1), 1)
            ),
            "[−17.7, 98.9]"
        );
        assert_eq!(
            format!("{:.0}", mean(&st16) / mean(&dy16) / 10.0),
            "1",
            "about ten times"
        );
        let (_, st11, _) = stream(11, 0.8);
        // 11 batches (all before the outlier): every ordinary batch does better, the outlier
        // batch is clipped hard again.
        assert!(
            (0..16).filter(|k| *k != 11).all(|k| st11[k] < st16[k]) && st11[11] > 10.0 * st16[11]
        );
        let (_, st0, dy0) = stream(2, 0.0);
        assert!((0..16).filter(|k| *k != 11).all(|k| st0[k] < 10.0 * dy0[k]));
        both_say("[−17.7, 98.9]");
    }

    /// The model sizes and the second half's numbers (real MiniLM layers), recomputed.
    #[test]
    fn stated_numbers_match_the_engine_second_half() {
        use crate::models::{model_bytes, Model, ScaleGranularity};
        use quantlab_engine::linear::{ActGranularity, LayerQuant, WeightGranularity};
        use quantlab_engine::outliers::{ablate_top_k, column_absmax, granularity_table, Ablation};
        use quantlab_engine::rotate::{Rotated, Rotation};
        use quantlab_engine::smooth::SmoothCase;

        let (mini, llama) = (Model::minilm(), Model::llama7b());
        let mb = |m: &Model, b, g| model_bytes(m, b, g) as f64 / 1e6;
        let (fp32, int8) = (
            mb(&mini, 32, ScaleGranularity::PerChannel),
            mb(&mini, 8, ScaleGranularity::PerChannel),
        );
        assert_eq!(
            (
                format!("{fp32:.1}"),
                format!("{int8:.1}"),
                format!("{:.1}", fp32 / int8)
            ),
            ("90.9".into(), "34.7".into(), "2.6".into())
        );
        assert!(
            mini.params() - mini.linear_params() > mini.params() / 2,
            "embeddings are more than half of MiniLM"
        );
        let gb = |b, g| model_bytes(&llama, b, g) as f64 / 1e9;
        let got = (
            format!("{:.1}", gb(32, ScaleGranularity::PerChannel)),
            format!("{:.1}", gb(8, ScaleGranularity::PerChannel)),
            format!("{:.1}", gb(4, ScaleGranularity::PerGroup(128))),
        );
        assert_eq!(got, ("27.0".into(), "6.9".into(), "3.8".into()));
        for s in [
            "90.9 MB",
            "34.7 MB",
            "27.0 GB",
            "6.9 GB",
            "3.8 GB",
            "22,713,216",
        ] {
            both_say(s);
        }

        // Where the outliers are.
        let l5 = layer("l5fc1-x", "assets/data/minilm/L5_fc1_W_f16.npy");
        let (lo, hi) = l5
            .x()
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        assert_eq!(
            format!("[{}, {}]", num(f64::from(lo), 1), num(f64::from(hi), 1)),
            "[−10.6, 12.4]"
        );
        let prof = column_absmax(l5.x(), l5.tokens(), l5.in_channels()).expect("profile");
        let mut order: Vec<usize> = (0..prof.len()).collect();
        order.sort_by(|a, b| prof[*b].total_cmp(&prof[*a]));
        let mut top4 = order[..4].to_vec();
        top4.sort_unstable();
        assert_eq!(top4, [99, 127, 223, 319]);
        both_say("[−10.6, 12.4]");
        let argmax = |x: &[f32], c: usize| {
            x.iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map(|(i, v)| (i / c, i % c, *v))
                .expect("values")
        };
        let l1x = real("l1fc1-x");
        let (row, col, v) = argmax(&l1x.data, l1x.rows_cols().1);
        assert_eq!(
            (row, col, format!("{v:.1}")),
            (0, 99, "30.3".into()),
            "[CLS] is row 0"
        );
        let l0 = layer("l0fc2-x", "assets/data/minilm/L0_fc2_W_f16.npy");
        let (row, col, v) = argmax(l0.x(), l0.in_channels());
        assert_eq!(
            (row, col, format!("{v:.1}"), l0.in_channels()),
            (0, 856, "24.2".into(), 1536)
        );
        both_say("24.2");
        both_say("856");

        // Are they important? One channel of layer 0; four of layer 5.
        let pct = |v: f64| format!("{:.0} %", 100.0 * v);
        let z = ablate_top_k(&l0, 1, Ablation::Zero).expect("ablation");
        let c = ablate_top_k(&l0, 1, Ablation::ClipToMedian).expect("ablation");
        assert_eq!(
            (pct(z.rel_change), pct(c.rel_change)),
            ("96 %".into(), "93 %".into())
        );
        assert!(
            (0.15..0.25).contains(&z.x_rel_change),
            "X changes by about a fifth: {}",
            z.x_rel_change
        );
        let z5 = ablate_top_k(&l5, 4, Ablation::Zero).expect("ablation");
        assert_eq!(
            (pct(z5.x_rel_change), pct(z5.rel_change)),
            ("61 %".into(), "39 %".into())
        );
        for s in ["96 %", "93 %", "61 %", "39 %"] {
            both_say(s);
        }

        // One scale for what? Layer 1 at A4 (W8 per channel, as the outliers chapter's table).
        let l1 = layer("l1fc1-x", "assets/data/minilm/L1_fc1_W_f16.npy");
        let rows =
            granularity_table(&l1, &[4], WeightGranularity::PerOutputChannel, 8).expect("table");
        let y = |a: ActGranularity| {
            rows.iter()
                .find(|r| r.act == a)
                .map(|r| r.y_rel_err)
                .expect("row")
        };
        assert!(y(ActGranularity::PerTensor) > 3.0 * y(ActGranularity::PerToken));
        assert!(y(ActGranularity::PerToken) > y(ActGranularity::PerChannel));

        // SmoothQuant on layer 5: best α near 0.5 per token (near 0.7 per tensor), error halved.
        let (w8a8, w4a4) = (
            LayerQuant::new(8, 8, ActGranularity::PerToken),
            LayerQuant::new(4, 4, ActGranularity::PerToken),
        );
        let w8a8t = LayerQuant::new(8, 8, ActGranularity::PerTensor);
        let sq = SmoothCase::new(l5.clone()).expect("smooth case");
        let err = |a: f32, cfg: &LayerQuant| sq.error_at(a, cfg).expect("smoothed").rel_err;
        let base = |cfg: &LayerQuant| sq.baseline(cfg).expect("baseline").rel_err;
        let best = |cfg: &LayerQuant| {
            (0..=10)
                .map(|i| i as f32 / 10.0)
                .min_by(|a, b| err(*a, cfg).total_cmp(&err(*b, cfg)))
                .expect("α")
        };
        assert!(err(0.5, &w8a8) < 0.5 * base(&w8a8));
        assert!(err(0.0, &w8a8) > err(0.5, &w8a8) && err(1.0, &w8a8) > err(0.5, &w8a8));
        assert!((0.4..=0.6).contains(&best(&w8a8)));
        assert!(base(&w4a4) > 10.0 * base(&w8a8) && err(0.5, &w4a4) < 0.5 * base(&w4a4));
        assert!(
            (1.5..2.5).contains(&(base(&w8a8t) / base(&w8a8))),
            "per-tensor roughly doubles the error"
        );
        assert!(best(&w8a8t) > best(&w8a8));

        // Rotations on layer 5 at W4A4 per token: Hadamard and random more than halve the error.
        let none = base(&w4a4);
        for r in [Rotation::Hadamard, Rotation::Random(0)] {
            let rot = Rotated::new(&l5, &r).expect("rotated");
            assert!(
                rot.error(&l5, &w4a4).expect("error").rel_err < 0.5 * none,
                "{r:?}"
            );
        }
        let rot = Rotated::new(&l5, &Rotation::Hadamard).expect("rotated");
        let ratio = |p: &[f32]| {
            let mut s = p.to_vec();
            s.sort_by(f32::total_cmp);
            s[s.len() - 1] / s[s.len() / 2]
        };
        let after = column_absmax(&rot.x, l5.tokens(), l5.in_channels()).expect("profile");
        assert!(
            ratio(&after) * 2.0 < ratio(&prof),
            "the rotated profile is much flatter"
        );
        // The toy's arithmetic: 1/√2 ≈ 0.71, 1/√384 ≈ 5 %.
        assert_eq!(
            (
                format!("{:.2}", 0.5f64.sqrt()),
                format!("{:.0}", 100.0 / 384f64.sqrt())
            ),
            ("0.71".into(), "5".into())
        );
    }
}
