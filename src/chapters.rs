//! The chapters, in the seminar's order, with their stable URL slugs and the controls each one
//! keeps in the URL.

use crate::datasets;
use crate::i18n::Msg;
use crate::urlstate::{ParamKind, ParamSpec};

const fn int(key: &'static str, min: i64, max: i64, default: i64) -> ParamSpec {
    ParamSpec { key, kind: ParamKind::Int { min, max, default } }
}
const fn choice(key: &'static str, options: &'static [&'static str], default: &'static str) -> ParamSpec {
    ParamSpec { key, kind: ParamKind::Choice { options, default } }
}
const fn flag(key: &'static str, default: bool) -> ParamSpec {
    ParamSpec { key, kind: ParamKind::Flag { default } }
}
const fn opt_float(key: &'static str, min: f64, max: f64) -> ParamSpec {
    ParamSpec { key, kind: ParamKind::OptFloat { min, max } }
}

/// Bits, grid and rounding: the scheme controls shared by the first-half chapters.
pub const BITS: ParamSpec = int("bits", 2, 8, 8);
pub const SCHEME: ParamSpec = choice("scheme", &["asym", "sym"], "asym");
pub const RANGE: ParamSpec = choice("range", &["narrow", "full"], "narrow");
pub const INT: ParamSpec = choice("int", &["signed", "unsigned"], "signed");
pub const ROUND: ParamSpec = choice("round", &["even", "away"], "even");
/// |α|, |β| beyond this are certainly typos; it also keeps every range finite in f32.
pub const RANGE_LIMIT: f64 = 1e9;

const fn float(key: &'static str, min: f64, max: f64, default: f64) -> ParamSpec {
    ParamSpec { key, kind: ParamKind::Float { min, max, default } }
}

const WHY_PARAMS: [ParamSpec; 1] = [choice("model", &["minilm", "llama7b"], "minilm")];

const ERROR_PARAMS: [ParamSpec; 9] = [
    datasets::PARAMS[0],
    datasets::PARAMS[1],
    datasets::PARAMS[2],
    BITS,
    SCHEME,
    RANGE,
    INT,
    ROUND,
    // The clipping range as a fraction t of the data's min-max range.
    float("clip", 0.02, 1.2, 1.0),
];

const CALIBRATION_PARAMS: [ParamSpec; 11] = [
    datasets::PARAMS[0],
    datasets::PARAMS[1],
    datasets::PARAMS[2],
    BITS,
    SCHEME,
    RANGE,
    INT,
    ROUND,
    float("pct", 99.0, 99.999, 99.99),
    // Static quantization calibrates on the first `calib` batches of the stream.
    int("calib", 1, 16, 2),
    float("drift", 0.0, 1.0, 0.3),
];

const PLAYGROUND_PARAMS: [ParamSpec; 12] = [
    datasets::PARAMS[0],
    datasets::PARAMS[1],
    datasets::PARAMS[2],
    BITS,
    SCHEME,
    RANGE,
    INT,
    ROUND,
    choice("gran", &["tensor", "channel1", "channel0", "token", "group"], "channel1"),
    int("group", 8, 128, 32),
    choice("calib", &["minmax", "percentile", "mse", "entropy"], "minmax"),
    float("pct", 99.0, 99.999, 99.99),
];

const QAT_PARAMS: [ParamSpec; 5] = [
    int("seed", 0, 999_999, 42),
    int("wbits", 2, 8, 4),
    int("abits", 2, 8, 4),
    int("epochs", 1, 100, 30),
    int("qepochs", 1, 50, 10),
];

/// The real MiniLM layer the second-half chapters work on.
pub const LAYER: ParamSpec = choice("layer", &datasets::LAYER_IDS, "l5fc1");

const OUTLIER_PARAMS: [ParamSpec; 4] = [LAYER, int("k", 0, 32, 4), choice("ablate", &["zero", "clip"], "zero"), flag("sorted", false)];

/// Weight/activation bits of a real layer's quantized output.
pub const LAYER_BITS: [&str; 3] = ["w8a8", "w4a8", "w4a4"];
pub const ACT: ParamSpec = choice("act", &["token", "tensor"], "token");

const SMOOTH_PARAMS: [ParamSpec; 4] = [LAYER, float("alpha", 0.0, 1.0, 0.5), choice("bits", &LAYER_BITS, "w8a8"), ACT];

const ROTATION_PARAMS: [ParamSpec; 5] = [
    float("theta", 0.0, 90.0, 0.0),
    LAYER,
    choice("rot", &["none", "hadamard", "hadamard128", "random", "learned"], "hadamard"),
    choice("bits", &LAYER_BITS, "w4a4"),
    ACT,
];

const SUMMARY_PARAMS: [ParamSpec; 2] = [LAYER, choice("bits", &LAYER_BITS, "w8a8")];

const FUNCTION_PARAMS: [ParamSpec; 11] = [
    datasets::PARAMS[0],
    datasets::PARAMS[1],
    datasets::PARAMS[2],
    BITS,
    SCHEME,
    RANGE,
    INT,
    ROUND,
    opt_float("alpha", -RANGE_LIMIT, RANGE_LIMIT),
    opt_float("beta", -RANGE_LIMIT, RANGE_LIMIT),
    flag("logy", true),
];

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
    Summary,
    Playground,
}

impl Chapter {
    /// The seminar's order: why → f_q → error → calibration → QAT → outliers → SmoothQuant →
    /// SpinQuant → summary, then the playground for the reader's own tensors.
    pub const ALL: [Chapter; 10] = [
        Chapter::Why,
        Chapter::Function,
        Chapter::Error,
        Chapter::Calibration,
        Chapter::Qat,
        Chapter::Outliers,
        Chapter::SmoothQuant,
        Chapter::Rotation,
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
        self.index().checked_sub(1).and_then(|i| Chapter::ALL.get(i).copied())
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
            Chapter::Summary => Msg::LeadSummary,
            Chapter::Playground => Msg::LeadPlayground,
        }
    }

    /// The controls this chapter keeps in the URL; the URL parser accepts nothing else for it.
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            Chapter::Why => &WHY_PARAMS,
            Chapter::Function => &FUNCTION_PARAMS,
            Chapter::Error => &ERROR_PARAMS,
            Chapter::Calibration => &CALIBRATION_PARAMS,
            Chapter::Qat => &QAT_PARAMS,
            Chapter::Outliers => &OUTLIER_PARAMS,
            Chapter::SmoothQuant => &SMOOTH_PARAMS,
            Chapter::Rotation => &ROTATION_PARAMS,
            Chapter::Summary => &SUMMARY_PARAMS,
            Chapter::Playground => &PLAYGROUND_PARAMS,
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
