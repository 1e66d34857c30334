//! The chapters, in the seminar's order, with their stable URL slugs, titles and leads. Their
//! controls are declared in [`crate::controls`].

use crate::i18n::Msg;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chapter {
    #[default]
    Why,
    Function,
    Error,
    Calibration,
    Qat,
    Outliers,
    SmoothQuant,
    Rotation,
    Model,
    /// A language model (SmolLM2-135M): the seminar's methods on perplexity and on the words
    /// it writes.
    Llm,
    Summary,
    Playground,
}

impl Chapter {
    /// The seminar's order: why → f_q → error → calibration → QAT → outliers → SmoothQuant →
    /// SpinQuant → the whole model (the seminar's "괜찮은 걸까?" asked of what
    /// it outputs) → a language model (the seminar's own subject, measured in perplexity) →
    /// summary, then the playground for the reader's own tensors.
    pub const ALL: [Chapter; 12] = [
        Chapter::Why,
        Chapter::Function,
        Chapter::Error,
        Chapter::Calibration,
        Chapter::Qat,
        Chapter::Outliers,
        Chapter::SmoothQuant,
        Chapter::Rotation,
        Chapter::Model,
        Chapter::Llm,
        Chapter::Summary,
        Chapter::Playground,
    ];

    /// Stable identifier used in URLs and `data-testid`s; never change one, links depend on it.
    pub fn slug(self) -> &'static str {
        match self {
            Chapter::Why => "why",
            Chapter::Function => "function",
            Chapter::Error => "error",
            Chapter::Calibration => "calibration",
            Chapter::Qat => "qat",
            Chapter::Outliers => "outliers",
            Chapter::SmoothQuant => "smoothquant",
            Chapter::Rotation => "rotation",
            Chapter::Model => "model",
            Chapter::Llm => "llm",
            Chapter::Summary => "summary",
            Chapter::Playground => "playground",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Chapter> {
        Chapter::ALL.into_iter().find(|c| c.slug() == slug)
    }

    /// Zero-based position in [`Chapter::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn prev(self) -> Option<Chapter> {
        self.index()
            .checked_sub(1)
            .and_then(|i| Chapter::ALL.get(i).copied())
    }

    pub fn next(self) -> Option<Chapter> {
        Chapter::ALL.get(self.index() + 1).copied()
    }

    pub fn title(self) -> Msg {
        match self {
            Chapter::Why => Msg::TitleWhy,
            Chapter::Function => Msg::TitleFunction,
            Chapter::Error => Msg::TitleError,
            Chapter::Calibration => Msg::TitleCalibration,
            Chapter::Qat => Msg::TitleQat,
            Chapter::Outliers => Msg::TitleOutliers,
            Chapter::SmoothQuant => Msg::TitleSmoothQuant,
            Chapter::Rotation => Msg::TitleRotation,
            Chapter::Model => Msg::TitleModel,
            Chapter::Llm => Msg::TitleLlm,
            Chapter::Summary => Msg::TitleSummary,
            Chapter::Playground => Msg::TitlePlayground,
        }
    }

    pub fn lead(self) -> Msg {
        match self {
            Chapter::Why => Msg::LeadWhy,
            Chapter::Function => Msg::LeadFunction,
            Chapter::Error => Msg::LeadError,
            Chapter::Calibration => Msg::LeadCalibration,
            Chapter::Qat => Msg::LeadQat,
            Chapter::Outliers => Msg::LeadOutliers,
            Chapter::SmoothQuant => Msg::LeadSmoothQuant,
            Chapter::Rotation => Msg::LeadRotation,
            Chapter::Model => Msg::LeadModel,
            Chapter::Llm => Msg::LeadLlm,
            Chapter::Summary => Msg::LeadSummary,
            Chapter::Playground => Msg::LeadPlayground,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_round_trip() {
        for (i, c) in Chapter::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(Chapter::from_slug(c.slug()), Some(*c));
            assert!(c.slug().bytes().all(|b| b.is_ascii_lowercase()));
        }
        assert_eq!(Chapter::from_slug("nope"), None);
    }

    #[test]
    fn prev_next_walk_the_whole_list() {
        assert_eq!(Chapter::Why.prev(), None);
        assert_eq!(Chapter::Playground.next(), None);
        let mut c = Chapter::Why;
        let mut n = 1;
        while let Some(next) = c.next() {
            assert_eq!(next.prev(), Some(c));
            c = next;
            n += 1;
        }
        assert_eq!(n, Chapter::ALL.len());
    }
}
