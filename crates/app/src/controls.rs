//! Every chapter's controls, declared once.
//!
//! A chapter's controls are a plain struct of typed fields ([`SmoothControls`] has
//! `alpha: f64`, `bits: LayerBits`, …). Enumerated options are enums declared with
//! [`choice!`](crate::choice): one stable URL slug and one label per option. Number ranges are
//! named constants ([`ALPHA`], [`BITS`]) that both the URL codec and the sliders use.
//!
//! From that one declaration come: the defaults, the URL codec ([`ControlSet`]: the text of a
//! field, setting it from a link with validation, the field list in link order), the option
//! lists the UI shows ([`Choice::ALL`]), the tour's validation of its prepared states and the
//! monkey test's vocabulary (`tests/e2e/vocabulary.json`, checked by a test of this crate).
//! Chapters read and write the fields directly (`c.smooth.alpha`); no code outside the codec
//! names a control by a string.

use std::fmt;

use quantlab_engine::linear::{ActGranularity, LayerQuant};
use quantlab_engine::outliers::Ablation;
use quantlab_engine::rotate::Rotation;
use quantlab_engine::{Calibrator, Format, Granularity, QuantError, Rounding, Scheme};

use crate::chapters::Chapter;
use crate::i18n::{Lang, Msg};

/// What an option shows: a fixed text ("W8A8", "α") or a translated message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Text(&'static str),
    Msg(Msg),
}

impl Label {
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            Label::Text(t) => t,
            Label::Msg(m) => m.text(lang),
        }
    }
}

impl From<&'static str> for Label {
    fn from(t: &'static str) -> Self {
        Label::Text(t)
    }
}

impl From<Msg> for Label {
    fn from(m: Msg) -> Self {
        Label::Msg(m)
    }
}

/// An enumerated control: a fixed list of options, each with a stable URL slug and a label.
pub trait Choice: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// Every option, in the order the UI lists them.
    const ALL: &'static [Self];
    /// The slugs of [`Choice::ALL`], in the same order.
    const SLUGS: &'static [&'static str];
    /// The value in a link (`bits=w4a4`); never change one, links depend on it.
    fn slug(self) -> &'static str;
    fn label(self) -> Label;
    fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.slug() == slug)
    }
}

/// A slug that is not one of a [`Choice`]'s options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownOption {
    pub given: String,
    pub allowed: &'static [&'static str],
}

impl fmt::Display for UnknownOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not one of {}",
            self.given,
            self.allowed.join(", ")
        )
    }
}

impl std::error::Error for UnknownOption {}

/// Declares an enum of options with its slugs and labels, and implements [`Choice`],
/// `Display` (the slug) and `FromStr` for it:
///
/// ```
/// quantlab_app::choice! {
///     /// How the range is found.
///     pub enum Side { Left = "left" => "L", Right = "right" => "R" }
/// }
/// use quantlab_app::controls::Choice;
/// assert_eq!("right".parse::<Side>(), Ok(Side::Right));
/// assert_eq!(Side::ALL.len(), 2);
/// ```
#[macro_export]
macro_rules! choice {
    ($(#[$m:meta])* $vis:vis enum $name:ident {
        $($(#[$vm:meta])* $variant:ident = $slug:literal => $label:expr),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vm])* $variant),+ }

        impl $crate::controls::Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const SLUGS: &'static [&'static str] = &[$($slug),+];
            fn slug(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }
            fn label(self) -> $crate::controls::Label {
                match self { $($name::$variant => $crate::controls::Label::from($label)),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::controls::Choice::slug(*self))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::controls::UnknownOption;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$name as $crate::controls::Choice>::from_slug(s).ok_or_else(|| {
                    $crate::controls::UnknownOption {
                        given: s.to_string(),
                        allowed: <$name as $crate::controls::Choice>::SLUGS,
                    }
                })
            }
        }
    };
}

/// The allowed values of an integer control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    pub min: i64,
    pub max: i64,
}

/// The allowed values of a number control, and the step its slider moves by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatRange {
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

impl FloatRange {
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && v >= self.min && v <= self.max
    }

    /// `v` rounded to as many decimals as the step has, so a dragged value makes a short link.
    pub fn snap(&self, v: f64) -> f64 {
        let decimals = (-self.step.log10()).ceil().max(0.0) as usize;
        format!("{v:.decimals$}").parse().unwrap_or(v)
    }
}

/// What kind of value a field holds, for validation, the tour's checks and the monkey's
/// vocabulary.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Int(IntRange),
    Float(FloatRange),
    /// A number that may be left unset ("auto": the chapter derives it, e.g. from the data).
    OptFloat(FloatRange),
    Flag,
    Choice(&'static [&'static str]),
    /// Free text of at most this many bytes once percent-encoded in a link (the model
    /// chapter's sentences).
    Text(usize),
}

/// One control as the URL sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldSpec {
    pub key: &'static str,
    pub kind: Kind,
}

/// The URL side of a controls struct: its fields' text by key. Only the codec
/// ([`crate::urlstate`]) and the tour's checks use it; chapters use the typed fields.
pub trait ControlSet {
    /// Every field, in the order a link writes them (groups flattened in place).
    fn fields(&self) -> Vec<FieldSpec>;
    /// The canonical text of a field, `None` if this set has no such key.
    fn text(&self, key: &str) -> Option<String>;
    /// The canonical text of a field's default.
    fn default_text(&self, key: &str) -> Option<String>;
    /// Sets a field from a link's text; `false` (and nothing changes) if the value is not
    /// allowed or the key unknown.
    fn set_text(&mut self, key: &str, raw: &str) -> bool;
    /// Puts numbers written by code back inside their ranges (a NaN becomes the default), so
    /// every link this state writes reads back as the same state.
    fn clamp(&mut self);
}

/// Shortest text that parses back to the same f64 (Rust's `Display` guarantees the round trip).
pub fn format_float(v: f64) -> String {
    if v == 0.0 {
        "0".into() // no "-0" in links
    } else {
        format!("{v}")
    }
}

/// Parsing and printing of each kind of field (used by [`controls!`]).
#[doc(hidden)]
pub mod codec {
    use super::{format_float, Choice, FloatRange, IntRange};

    pub fn int<T: TryFrom<i64>>(raw: &str, r: IntRange) -> Option<T> {
        let v: i64 = raw.trim().parse().ok()?;
        (r.min..=r.max).contains(&v).then_some(())?;
        T::try_from(v).ok()
    }

    pub fn int_text<T: Into<i64> + Copy>(v: &T) -> String {
        (*v).into().to_string()
    }

    pub fn clamp_int<T: Into<i64> + TryFrom<i64> + Copy>(v: &mut T, r: IntRange, default: T) {
        let x: i64 = (*v).into();
        *v = T::try_from(x.clamp(r.min, r.max)).unwrap_or(default);
    }

    pub fn float(raw: &str, r: FloatRange) -> Option<f64> {
        let v: f64 = raw.trim().parse().ok()?;
        r.contains(v).then_some(v)
    }

    pub fn float_text(v: &f64) -> String {
        format_float(*v)
    }

    pub fn clamp_float(v: &mut f64, r: FloatRange, default: f64) {
        *v = if v.is_finite() {
            v.clamp(r.min, r.max)
        } else {
            default
        };
    }

    pub fn opt_float(raw: &str, r: FloatRange) -> Option<Option<f64>> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "auto" {
            return Some(None);
        }
        float(raw, r).map(Some)
    }

    pub fn opt_float_text(v: &Option<f64>) -> String {
        v.map(format_float).unwrap_or_default()
    }

    pub fn clamp_opt_float(v: &mut Option<f64>, r: FloatRange) {
        if let Some(x) = v {
            if x.is_finite() {
                *x = x.clamp(r.min, r.max);
            } else {
                *v = None;
            }
        }
    }

    pub fn flag(raw: &str) -> Option<bool> {
        match raw.trim() {
            "1" | "true" | "on" => Some(true),
            "0" | "false" | "off" => Some(false),
            _ => None,
        }
    }

    pub fn flag_text(v: &bool) -> String {
        if *v { "1" } else { "0" }.to_string()
    }

    /// Text as written, cut to what fits in `max` bytes of a link (the link codec reports a
    /// cut).
    pub fn text(raw: &str, max: usize) -> Option<String> {
        Some(fit_text(raw, max))
    }

    pub fn text_text(v: &str) -> String {
        v.to_string()
    }

    pub fn clamp_text(v: &mut String, max: usize) {
        if crate::percent::encoded_len(v) > max {
            *v = fit_text(v, max);
        }
    }

    /// The longest prefix of `s` whose percent-encoding takes at most `max` bytes.
    pub fn fit_text(s: &str, max: usize) -> String {
        let mut used = 0;
        s.chars()
            .take_while(|&c| {
                used += crate::percent::encoded_char_len(c);
                used <= max
            })
            .collect()
    }

    pub fn choice<T: Choice>(raw: &str) -> Option<T> {
        T::from_slug(raw.trim())
    }

    pub fn choice_text<T: Choice>(v: &T) -> String {
        v.slug().to_string()
    }
}

/// Declares a controls struct: one line per field, `name: Type = default; kind`, where kind is
/// `int(RANGE)`, `float(RANGE)`, `opt_float(RANGE)`, `flag`, `text(MAX_CHARS)` (a `String`),
/// `choice` (Type implements
/// [`Choice`]) or `group` (Type is another controls struct whose fields are flattened in place).
/// The field name is its URL key.
macro_rules! controls {
    ($(#[$m:meta])* pub struct $name:ident {
        $($(#[$fm:meta])* $field:ident : $ty:ty = $default:expr ; $kind:ident $(($range:expr))?),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name { $($(#[$fm])* pub $field: $ty),+ }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default),+ }
            }
        }

        impl $crate::controls::ControlSet for $name {
            // Built by one push per field: the macro has no single expression for a vec![].
            #[allow(clippy::vec_init_then_push)]
            fn fields(&self) -> Vec<$crate::controls::FieldSpec> {
                let mut out = Vec::new();
                $(controls!(@spec out, self, $field, $ty, $kind $(($range))?);)+
                out
            }
            fn text(&self, key: &str) -> Option<String> {
                $(controls!(@text self, key, $field, $kind);)+
                None
            }
            fn default_text(&self, key: &str) -> Option<String> {
                Self::default().text(key)
            }
            fn set_text(&mut self, key: &str, raw: &str) -> bool {
                $(controls!(@set self, key, raw, $field, $ty, $kind $(($range))?);)+
                false
            }
            fn clamp(&mut self) {
                let d = Self::default();
                let _ = &d;
                $(controls!(@clamp self, d, $field, $kind $(($range))?);)+
            }
        }
    };

    (@spec $out:ident, $s:ident, $f:ident, $ty:ty, group) => { $out.extend($s.$f.fields()) };
    (@spec $out:ident, $s:ident, $f:ident, $ty:ty, $kind:ident $(($range:expr))?) => {
        $out.push($crate::controls::FieldSpec {
            key: stringify!($f),
            kind: controls!(@kind $ty, $kind $(($range))?),
        })
    };
    (@kind $ty:ty, int($r:expr)) => { $crate::controls::Kind::Int($r) };
    (@kind $ty:ty, float($r:expr)) => { $crate::controls::Kind::Float($r) };
    (@kind $ty:ty, opt_float($r:expr)) => { $crate::controls::Kind::OptFloat($r) };
    (@kind $ty:ty, flag) => { $crate::controls::Kind::Flag };
    (@kind $ty:ty, text($r:expr)) => { $crate::controls::Kind::Text($r) };
    (@kind $ty:ty, choice) => {
        $crate::controls::Kind::Choice(<$ty as $crate::controls::Choice>::SLUGS)
    };

    (@text $s:ident, $key:ident, $f:ident, group) => {
        if let Some(t) = $s.$f.text($key) {
            return Some(t);
        }
    };
    (@text $s:ident, $key:ident, $f:ident, $kind:ident) => {
        if $key == stringify!($f) {
            return Some(controls!(@print $kind, &$s.$f));
        }
    };
    (@print int, $v:expr) => { $crate::controls::codec::int_text($v) };
    (@print float, $v:expr) => { $crate::controls::codec::float_text($v) };
    (@print opt_float, $v:expr) => { $crate::controls::codec::opt_float_text($v) };
    (@print flag, $v:expr) => { $crate::controls::codec::flag_text($v) };
    (@print text, $v:expr) => { $crate::controls::codec::text_text($v) };
    (@print choice, $v:expr) => { $crate::controls::codec::choice_text($v) };

    (@set $s:ident, $key:ident, $raw:ident, $f:ident, $ty:ty, group) => {
        if $s.$f.text($key).is_some() {
            return $s.$f.set_text($key, $raw);
        }
    };
    (@set $s:ident, $key:ident, $raw:ident, $f:ident, $ty:ty, $kind:ident $(($range:expr))?) => {
        if $key == stringify!($f) {
            let parsed: Option<$ty> = controls!(@parse $ty, $raw, $kind $(($range))?);
            return match parsed {
                Some(v) => {
                    $s.$f = v;
                    true
                }
                None => false,
            };
        }
    };
    (@parse $ty:ty, $raw:ident, int($r:expr)) => { $crate::controls::codec::int($raw, $r) };
    (@parse $ty:ty, $raw:ident, float($r:expr)) => { $crate::controls::codec::float($raw, $r) };
    (@parse $ty:ty, $raw:ident, opt_float($r:expr)) => {
        $crate::controls::codec::opt_float($raw, $r)
    };
    (@parse $ty:ty, $raw:ident, flag) => { $crate::controls::codec::flag($raw) };
    (@parse $ty:ty, $raw:ident, text($r:expr)) => { $crate::controls::codec::text($raw, $r) };
    (@parse $ty:ty, $raw:ident, choice) => { $crate::controls::codec::choice::<$ty>($raw) };

    (@clamp $s:ident, $d:ident, $f:ident, group) => { $s.$f.clamp() };
    (@clamp $s:ident, $d:ident, $f:ident, int($r:expr)) => {
        $crate::controls::codec::clamp_int(&mut $s.$f, $r, $d.$f)
    };
    (@clamp $s:ident, $d:ident, $f:ident, float($r:expr)) => {
        $crate::controls::codec::clamp_float(&mut $s.$f, $r, $d.$f)
    };
    (@clamp $s:ident, $d:ident, $f:ident, opt_float($r:expr)) => {
        $crate::controls::codec::clamp_opt_float(&mut $s.$f, $r)
    };
    (@clamp $s:ident, $d:ident, $f:ident, flag) => {};
    (@clamp $s:ident, $d:ident, $f:ident, text($r:expr)) => {
        $crate::controls::codec::clamp_text(&mut $s.$f, $r)
    };
    (@clamp $s:ident, $d:ident, $f:ident, choice) => {};
}

// ------------------------------------------------------------------------------ options

choice! {
    /// The model whose sizes "Why quantize?" counts.
    pub enum ModelChoice {
        MiniLm = "minilm" => "all-MiniLM-L6-v2 (22.7 M)",
        Llama7b = "llama7b" => "LLaMA-2 7B (6.74 B)",
    }
}

choice! {
    /// The tensor a first-half chapter quantizes (`data=`): a shipped MiniLM tensor, a seeded
    /// synthetic distribution, or the reader's upload.
    pub enum DataChoice {
        L5Fc1X = "l5fc1-x" => Msg::DataL5Fc1X,
        L1Fc1X = "l1fc1-x" => Msg::DataL1Fc1X,
        L0Fc2X = "l0fc2-x" => Msg::DataL0Fc2X,
        L5Fc1W = "l5fc1-w" => Msg::DataL5Fc1W,
        Gauss = "gauss" => Msg::DataGauss,
        Laplace = "laplace" => Msg::DataLaplace,
        Relu = "relu" => Msg::DataRelu,
        Llm = "llm" => Msg::DataLlm,
        Seminar = "seminar" => Msg::DataSeminar,
        /// An uploaded file (it cannot be restored from a link).
        Upload = "upload" => Msg::DataUploaded,
    }
}

choice! {
    /// Symmetric (z fixed) or asymmetric (z fitted) grid.
    pub enum Symmetry {
        Asym = "asym" => Msg::Asymmetric,
        Sym = "sym" => Msg::Symmetric,
    }
}

choice! {
    /// Narrow (2^b − 1 levels, the seminar's [−127, 127]) or full (2^b levels) grid.
    pub enum GridRange {
        Narrow = "narrow" => Msg::Narrow,
        Full = "full" => Msg::Full,
    }
}

choice! {
    /// Signed or unsigned integer codes.
    pub enum Signedness {
        Signed = "signed" => Msg::Signed,
        Unsigned = "unsigned" => Msg::Unsigned,
    }
}

choice! {
    /// How ties of round(x/s) break.
    pub enum RoundChoice {
        Even = "even" => Msg::HalfEven,
        Away = "away" => Msg::HalfAway,
    }
}

impl From<RoundChoice> for Rounding {
    fn from(r: RoundChoice) -> Self {
        match r {
            RoundChoice::Even => Rounding::HalfEven,
            RoundChoice::Away => Rounding::HalfAway,
        }
    }
}

choice! {
    /// The granularity the playground quantizes with.
    pub enum GranChoice {
        Tensor = "tensor" => Msg::PerTensor,
        Channel1 = "channel1" => Msg::PerColumn,
        Channel0 = "channel0" => Msg::PerRow,
        Token = "token" => Msg::PerToken,
        Group = "group" => Msg::PerGroup,
    }
}

choice! {
    /// The calibrator the playground uses.
    pub enum CalibChoice {
        MinMax = "minmax" => Msg::CalMinMax,
        Percentile = "percentile" => Msg::CalPercentile,
        Mse = "mse" => Msg::CalMse,
        Entropy = "entropy" => Msg::CalEntropy,
    }
}

choice! {
    /// The MiniLM linear layer the second-half chapters work on: one of the shipped layers of a
    /// fixed text, or any linear's input for the reader's own sentence ([`OwnControls`]).
    pub enum LayerChoice {
        L5Fc1 = "l5fc1" => Msg::LayerL5Fc1,
        L1Fc1 = "l1fc1" => Msg::LayerL1Fc1,
        L0Fc2 = "l0fc2" => Msg::LayerL0Fc2,
        Own = "own" => Msg::LayerOwn,
        /// The same for SmolLM2 (`layer=llm`): any of its 30 layers.
        Llm = "llm" => Msg::LayerLlm,
    }
}

choice! {
    /// Which linear's input of the reader's sentence a layer chapter shows.
    pub enum OwnLinear {
        Qkv = "qkv" => Msg::OwnQkv,
        O = "o" => Msg::OwnO,
        Fc1 = "fc1" => Msg::OwnFc1,
        Fc2 = "fc2" => Msg::OwnFc2,
    }
}

/// A layer of the reader's sentence: all-MiniLM-L6-v2 has 0–5 (a larger one is refused with a
/// message when MiniLM computes it), SmolLM2 0–29.
pub const OWN_LAYER: IntRange = IntRange { min: 0, max: 29 };
/// The encoder layers of all-MiniLM-L6-v2.
pub const MINILM_LAYERS: usize = 6;
/// Link bytes of the reader's sentence in a layer chapter (one sentence, not a page of them).
pub const OWN_TEXT_BYTES: usize = 1000;

controls! {
    /// "Activations of your sentence": the text, and which layer and linear's input to show.
    pub struct OwnControls {
        text: String = crate::sentences::texts::OWN_DEFAULT.to_string(); text(OWN_TEXT_BYTES),
        olayer: u8 = 5; int(OWN_LAYER),
        olin: OwnLinear = OwnLinear::Fc1; choice,
    }
}

choice! {
    /// What "remove the outlier channels" does to them.
    pub enum AblationChoice {
        Zero = "zero" => Msg::AblateZero,
        Clip = "clip" => Msg::AblateClip,
    }
}

impl From<AblationChoice> for Ablation {
    fn from(a: AblationChoice) -> Self {
        match a {
            AblationChoice::Zero => Ablation::Zero,
            AblationChoice::Clip => Ablation::ClipToMedian,
        }
    }
}

choice! {
    /// Weight and activation bits of a real layer's quantized output.
    pub enum LayerBits {
        W8A8 = "w8a8" => "W8A8",
        W4A8 = "w4a8" => "W4A8",
        W4A4 = "w4a4" => "W4A4",
    }
}

impl LayerBits {
    /// (weight bits, activation bits).
    pub fn bits(self) -> (u8, u8) {
        match self {
            LayerBits::W8A8 => (8, 8),
            LayerBits::W4A8 => (4, 8),
            LayerBits::W4A4 => (4, 4),
        }
    }
}

choice! {
    /// One activation scale per token or one for the whole tensor.
    pub enum ActScale {
        Token = "token" => Msg::PerToken,
        Tensor = "tensor" => Msg::PerTensor,
    }
}

impl From<ActScale> for ActGranularity {
    fn from(a: ActScale) -> Self {
        match a {
            ActScale::Token => ActGranularity::PerToken,
            ActScale::Tensor => ActGranularity::PerTensor,
        }
    }
}

choice! {
    /// The rotation applied to a real layer.
    pub enum RotationChoice {
        None = "none" => Msg::RotNone,
        Hadamard = "hadamard" => Msg::RotHadamard,
        Hadamard128 = "hadamard128" => Msg::RotHadamard128,
        /// SmolLM2's construction: 576 = 9 × 64 and 1536 = 24 × 64 have no full Hadamard here.
        Hadamard64 = "hadamard64" => Msg::RotHadamard64,
        Random = "random" => Msg::RotRandom,
        Learned = "learned" => Msg::RotLearned,
    }
}

impl RotationChoice {
    /// The engine's rotation for a layer with `channels` input channels; `None` for the learned
    /// one, which is trained rather than chosen.
    pub fn rotation(self, channels: usize) -> Option<Rotation> {
        match self {
            RotationChoice::None => Some(Rotation::Identity),
            RotationChoice::Hadamard => Some(Rotation::Hadamard),
            RotationChoice::Hadamard128 => Some(Rotation::HadamardBlock(128.min(channels))),
            RotationChoice::Hadamard64 => Some(Rotation::HadamardBlock(64.min(channels))),
            RotationChoice::Random => Some(Rotation::Random(0)),
            RotationChoice::Learned => None,
        }
    }
}

// ------------------------------------------------------------------------------ ranges

/// Bit widths of the integer grids.
pub const BITS: IntRange = IntRange { min: 2, max: 8 };
/// Seeds of the synthetic data and of training.
pub const SEED: IntRange = IntRange {
    min: 0,
    max: 999_999,
};
/// |α|, |β| beyond this are certainly typos; it also keeps every range finite in f32.
pub const RANGE_LIMIT: f64 = 1e9;
/// A clipping end α or β (function chapter; unset = the data's min/max).
pub const RANGE_END: FloatRange = FloatRange {
    min: -RANGE_LIMIT,
    max: RANGE_LIMIT,
    step: 0.001,
};
/// The clipping range as a fraction t of the data's min-max range (error chapter).
pub const CLIP: FloatRange = FloatRange {
    min: 0.02,
    max: 1.2,
    step: 0.01,
};
/// The percentile of the percentile calibrator.
pub const PERCENTILE: FloatRange = FloatRange {
    min: 99.0,
    max: 99.999,
    step: 0.001,
};
/// How many batches static quantization calibrates on.
pub const CALIB_BATCHES: IntRange = IntRange { min: 1, max: 16 };
/// How much the stream's scale drifts from the first batch to the last.
pub const DRIFT: FloatRange = FloatRange {
    min: 0.0,
    max: 1.0,
    step: 0.05,
};
/// Group size of per-group quantization (playground).
pub const GROUP: IntRange = IntRange { min: 8, max: 128 };
/// Epochs of FP32 training and of QAT fine-tuning.
pub const EPOCHS: IntRange = IntRange { min: 1, max: 100 };
pub const QAT_EPOCHS: IntRange = IntRange { min: 1, max: 50 };
/// How many outlier channels the ablation removes.
pub const OUTLIER_K: IntRange = IntRange { min: 0, max: 32 };
/// How many outlier channels the whole model's ablation removes from every linear's input.
pub const DROP_K: IntRange = IntRange { min: 0, max: 32 };
/// The search view's query sentence (0-based; at most 8 sentences).
pub const QUERY: IntRange = IntRange { min: 0, max: 7 };
/// SmoothQuant's migration strength α.
pub const ALPHA: FloatRange = FloatRange {
    min: 0.0,
    max: 1.0,
    step: 0.01,
};
/// The 2-D toy's rotation angle θ in degrees.
pub const THETA: FloatRange = FloatRange {
    min: 0.0,
    max: 90.0,
    step: 1.0,
};

// ------------------------------------------------------------------------------ structs

controls! {
    /// The data picker of the first-half chapters.
    pub struct DataControls {
        data: DataChoice = DataChoice::L5Fc1X; choice,
        seed: u32 = 1; int(SEED),
        /// Replace 0.1 % of a synthetic tensor with large outliers.
        outliers: bool = false; flag,
    }
}

controls! {
    /// Bits, grid and rounding: the scheme of the first-half chapters.
    pub struct SchemeControls {
        bits: u8 = 8; int(BITS),
        scheme: Symmetry = Symmetry::Asym; choice,
        range: GridRange = GridRange::Narrow; choice,
        int: Signedness = Signedness::Signed; choice,
        round: RoundChoice = RoundChoice::Even; choice,
    }
}

impl SchemeControls {
    /// The engine's scheme for these controls.
    pub fn scheme(&self) -> Result<Scheme, QuantError> {
        Scheme::new(
            self.bits,
            self.int == Signedness::Signed,
            self.scheme == Symmetry::Sym,
            self.range == GridRange::Narrow,
        )
        .map(|s| s.with_rounding(self.round.into()))
    }
}

controls! {
    /// A clipping range [α, β] the reader chose; unset ends are the data's min and max.
    pub struct RangeControls {
        alpha: Option<f64> = None; opt_float(RANGE_END),
        beta: Option<f64> = None; opt_float(RANGE_END),
    }
}

controls! {
    /// Chapter 1, "Why quantize?".
    pub struct WhyControls {
        model: ModelChoice = ModelChoice::MiniLm; choice,
    }
}

choice! {
    /// The number format of the function chapter (`fmt=`): today's integer grid, or a float
    /// grid (the slugs are the CLI's `--format` values).
    pub enum NumberFormat {
        Int = "int" => "INT",
        Fp16 = "fp16" => "FP16",
        Bf16 = "bf16" => "BF16",
        E4m3 = "e4m3" => "FP8 E4M3",
        E5m2 = "e5m2" => "FP8 E5M2",
        E2m1 = "e2m1" => "FP4 E2M1",
        Mxfp8 = "mxfp8" => "MXFP8",
        Mxfp4 = "mxfp4" => "MXFP4",
        Nvfp4 = "nvfp4" => "NVFP4",
    }
}

impl NumberFormat {
    /// The engine's format (the slugs are shared, so they cannot disagree).
    pub fn format(self) -> Format {
        Format::from_slug(Choice::slug(self)).unwrap_or(Format::Int)
    }
}

controls! {
    /// Chapter 2, "The quantization function".
    pub struct FunctionControls {
        data: DataControls = DataControls::default(); group,
        fmt: NumberFormat = NumberFormat::Int; choice,
        scheme: SchemeControls = SchemeControls::default(); group,
        range: RangeControls = RangeControls::default(); group,
        /// Histograms on a log scale.
        logy: bool = true; flag,
    }
}

controls! {
    /// Chapter 3, "Quantization error".
    pub struct ErrorControls {
        data: DataControls = DataControls::default(); group,
        scheme: SchemeControls = SchemeControls::default(); group,
        clip: f64 = 1.0; float(CLIP),
    }
}

choice! {
    /// How fast the calibration chapter's stream plays (batches per 0.6 s at 1×).
    pub enum StreamSpeed {
        Half = "0.5" => "0.5×",
        One = "1" => "1×",
        Two = "2" => "2×",
        Four = "4" => "4×",
    }
}

impl StreamSpeed {
    /// Milliseconds between two batches.
    pub fn interval_ms(self) -> u64 {
        match self {
            StreamSpeed::Half => 1200,
            StreamSpeed::One => 600,
            StreamSpeed::Two => 300,
            StreamSpeed::Four => 150,
        }
    }
}

controls! {
    /// Chapter 4, "Range calibration (PTQ)".
    pub struct CalibrationControls {
        data: DataControls = DataControls::default(); group,
        scheme: SchemeControls = SchemeControls::default(); group,
        pct: f64 = 99.99; float(PERCENTILE),
        /// Static quantization calibrates on the first `calib` batches of the stream.
        calib: u8 = 2; int(CALIB_BATCHES),
        drift: f64 = 0.3; float(DRIFT),
        /// Playback speed of the stream.
        speed: StreamSpeed = StreamSpeed::One; choice,
    }
}

controls! {
    /// Chapter 5, "Quantization-aware training".
    pub struct QatControls {
        seed: u32 = 42; int(SEED),
        wbits: u8 = 4; int(BITS),
        abits: u8 = 4; int(BITS),
        epochs: u8 = 30; int(EPOCHS),
        qepochs: u8 = 10; int(QAT_EPOCHS),
    }
}

controls! {
    /// Chapter 6, "Activation outliers".
    pub struct OutlierControls {
        layer: LayerChoice = LayerChoice::L5Fc1; choice,
        /// The reader's sentence, when `layer` is `own`.
        own: OwnControls = OwnControls::default(); group,
        k: u8 = 4; int(OUTLIER_K),
        ablate: AblationChoice = AblationChoice::Zero; choice,
        /// Channels sorted by their maximum instead of in index order.
        sorted: bool = false; flag,
    }
}

controls! {
    /// Chapter 7, "SmoothQuant".
    pub struct SmoothControls {
        layer: LayerChoice = LayerChoice::L5Fc1; choice,
        /// The reader's sentence, when `layer` is `own`.
        own: OwnControls = OwnControls::default(); group,
        alpha: f64 = 0.5; float(ALPHA),
        bits: LayerBits = LayerBits::W8A8; choice,
        act: ActScale = ActScale::Token; choice,
    }
}

controls! {
    /// Chapter 8, "Rotations (SpinQuant)".
    pub struct RotationControls {
        theta: f64 = 0.0; float(THETA),
        layer: LayerChoice = LayerChoice::L5Fc1; choice,
        /// The reader's sentence, when `layer` is `own`.
        own: OwnControls = OwnControls::default(); group,
        rot: RotationChoice = RotationChoice::Hadamard; choice,
        bits: LayerBits = LayerBits::W4A4; choice,
        act: ActScale = ActScale::Token; choice,
    }
}

choice! {
    /// The whole model's weight and activation bits, or the web's default int8 recipe
    /// (onnxruntime's `quantize_dynamic`, as transformers.js ships `model_quantized.onnx`).
    pub enum ModelBitsChoice {
        W8A8 = "w8a8" => "W8A8",
        W4A8 = "w4a8" => "W4A8",
        W4A4 = "w4a4" => "W4A4",
        Ort = "ort" => Msg::ModelOrt,
        Mxfp4 = "mxfp4" => "MXFP4",
        Nvfp4 = "nvfp4" => "NVFP4",
        Fp8 = "fp8" => "FP8 E4M3",
    }
}

impl ModelBitsChoice {
    /// The float number format of the weights, for the format choices.
    pub fn weight_format(self) -> Option<Format> {
        use quantlab_engine::{BlockFormat, Element};
        match self {
            ModelBitsChoice::Mxfp4 => Some(Format::Block(BlockFormat::Mxfp4)),
            ModelBitsChoice::Nvfp4 => Some(Format::Block(BlockFormat::Nvfp4)),
            ModelBitsChoice::Fp8 => Some(Format::Scaled(Element::E4m3)),
            _ => None,
        }
    }

    /// (weight bits, activation bits).
    pub fn bits(self) -> (u8, u8) {
        match self {
            ModelBitsChoice::W8A8 | ModelBitsChoice::Ort => (8, 8),
            // Float-format weights: the activation bits of their A8 setting.
            ModelBitsChoice::Mxfp4 | ModelBitsChoice::Nvfp4 | ModelBitsChoice::Fp8 => (8, 8),
            ModelBitsChoice::W4A8 => (4, 8),
            ModelBitsChoice::W4A4 => (4, 4),
        }
    }
}

choice! {
    /// How the whole model's activation scales are found.
    pub enum ModelActChoice {
        Token = "token" => Msg::PerToken,
        Tensor = "tensor" => Msg::PerTensor,
        Static = "static" => Msg::ModelActStatic,
        /// Activations not quantized: the weights alone (W8/W4 or a float format).
        Float = "float" => Msg::ModelActFloat,
    }
}

choice! {
    /// The rotation of every linear's input in the whole model.
    pub enum ModelRotChoice {
        None = "none" => Msg::RotNone,
        Hadamard = "hadamard" => Msg::RotHadamard,
    }
}

controls! {
    /// Chapter 9, "The whole model". Keys are a contract with links made outside the project.
    pub struct ModelControls {
        bits: ModelBitsChoice = ModelBitsChoice::W8A8; choice,
        act: ModelActChoice = ModelActChoice::Token; choice,
        /// SmoothQuant's α; unset: SmoothQuant off.
        alpha: Option<f64> = None; opt_float(ALPHA),
        rot: ModelRotChoice = ModelRotChoice::None; choice,
        /// The k largest channels of every linear's input set to 0 (0: off).
        drop: u8 = 0; int(DROP_K),
        /// Which sentence is the search view's query (0-based).
        query: u8 = 0; int(QUERY),
        /// The sentences, one per line.
        text: String = crate::sentences::texts::DEFAULT_TEXT.trim_end().to_string();
            text(crate::sentences::texts::MAX_TEXT_BYTES),
    }
}

choice! {
    /// The language model's weight and activation bits: integers on the int8 kernels, the
    /// weights alone (activations stay f32), or a float weight format with int8 activations.
    /// The values shared with the whole-model chapter's `bits` mean the same there.
    pub enum LlmBitsChoice {
        W8A8 = "w8a8" => "W8A8",
        W4A8 = "w4a8" => "W4A8",
        W4A4 = "w4a4" => "W4A4",
        W8A16 = "w8a16" => "W8A16",
        W4A16 = "w4a16" => "W4A16",
        Mxfp4 = "mxfp4" => "MXFP4",
        Nvfp4 = "nvfp4" => "NVFP4",
        Fp8 = "fp8" => "FP8 E4M3",
    }
}

choice! {
    /// How the language model's activation scales are found (its weights-only settings have
    /// none).
    pub enum LlmActChoice {
        Token = "token" => Msg::PerToken,
        Tensor = "tensor" => Msg::PerTensor,
        Static = "static" => Msg::ModelActStatic,
    }
}

controls! {
    /// The language-model chapter. `bits`, `act`, `alpha`, `rot` and `drop` are the whole-model
    /// chapter's keys with the same values; `prompt` and `text` are what the model reads. Keys
    /// are a contract with links made outside the project.
    pub struct LlmControls {
        bits: LlmBitsChoice = LlmBitsChoice::W8A8; choice,
        act: LlmActChoice = LlmActChoice::Token; choice,
        /// SmoothQuant's α; unset: SmoothQuant off.
        alpha: Option<f64> = None; opt_float(ALPHA),
        rot: ModelRotChoice = ModelRotChoice::None; choice,
        /// The k largest channels of every linear's input set to 0 (0: off).
        drop: u8 = 0; int(DROP_K),
        /// What greedy decoding continues.
        prompt: String = crate::llm::texts::DEFAULT_PROMPT.to_string();
            text(crate::llm::texts::MAX_PROMPT_BYTES),
        /// The paragraph whose perplexity is measured.
        text: String = crate::llm::texts::DEFAULT_TEXT.trim_end().to_string();
            text(crate::llm::texts::MAX_TEXT_BYTES),
    }
}

controls! {
    /// Chapter 10, "Summary".
    pub struct SummaryControls {
        layer: LayerChoice = LayerChoice::L5Fc1; choice,
        /// The reader's sentence, when `layer` is `own`.
        own: OwnControls = OwnControls::default(); group,
        bits: LayerBits = LayerBits::W8A8; choice,
    }
}

controls! {
    /// Chapter 11, the playground.
    pub struct PlaygroundControls {
        data: DataControls = DataControls::default(); group,
        scheme: SchemeControls = SchemeControls::default(); group,
        gran: GranChoice = GranChoice::Channel1; choice,
        group: u8 = 32; int(GROUP),
        calib: CalibChoice = CalibChoice::MinMax; choice,
        pct: f64 = 99.99; float(PERCENTILE),
    }
}

impl PlaygroundControls {
    /// The engine's granularity for these controls (groups run along the last axis).
    pub fn granularity(&self) -> Granularity {
        match self.gran {
            GranChoice::Tensor => Granularity::PerTensor,
            GranChoice::Channel1 => Granularity::PerChannel { axis: 1 },
            GranChoice::Channel0 => Granularity::PerChannel { axis: 0 },
            GranChoice::Token => Granularity::PerToken,
            GranChoice::Group => Granularity::PerGroup {
                axis: 1,
                size: usize::from(self.group),
            },
        }
    }

    /// The engine's calibrator for these controls.
    pub fn calibrator(&self) -> Calibrator {
        match self.calib {
            CalibChoice::MinMax => Calibrator::MinMax,
            CalibChoice::Percentile => Calibrator::Percentile { p: self.pct },
            CalibChoice::Mse => Calibrator::Mse,
            CalibChoice::Entropy => Calibrator::Entropy,
        }
    }
}

/// The engine's layer settings for a bits choice and an activation scale.
pub fn layer_quant(bits: LayerBits, act: ActScale) -> LayerQuant {
    let (w, a) = bits.bits();
    LayerQuant::new(w, a, act.into())
}

/// Declares [`Controls`], one field per chapter, with the lookups by chapter.
macro_rules! chapter_controls {
    ($($chapter:ident => $field:ident : $ty:ty),+ $(,)?) => {
        /// Every chapter's controls. Each chapter keeps its own while the reader moves between
        /// chapters; a link writes only the current chapter's non-default ones.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Controls {
            $(pub $field: $ty),+
        }

        impl Controls {
            /// The URL side of one chapter's controls.
            pub fn of(&self, chapter: Chapter) -> &dyn ControlSet {
                match chapter { $(Chapter::$chapter => &self.$field),+ }
            }

            pub fn of_mut(&mut self, chapter: Chapter) -> &mut dyn ControlSet {
                match chapter { $(Chapter::$chapter => &mut self.$field),+ }
            }

            /// Takes one chapter's controls from `other`.
            pub fn adopt(&mut self, chapter: Chapter, other: &Controls) {
                match chapter { $(Chapter::$chapter => self.$field = other.$field.clone()),+ }
            }

            /// One chapter back to its defaults.
            pub fn reset(&mut self, chapter: Chapter) {
                match chapter { $(Chapter::$chapter => self.$field = <$ty>::default()),+ }
            }

            /// Every number back inside its range (after code wrote the fields).
            pub fn clamp(&mut self) {
                $(self.$field.clamp();)+
            }
        }
    };
}

chapter_controls! {
    Why => why: WhyControls,
    Function => function: FunctionControls,
    Error => error: ErrorControls,
    Calibration => calibration: CalibrationControls,
    Qat => qat: QatControls,
    Outliers => outliers: OutlierControls,
    SmoothQuant => smooth: SmoothControls,
    Rotation => rotation: RotationControls,
    Model => model: ModelControls,
    Llm => llm: LlmControls,
    Summary => summary: SummaryControls,
    Playground => playground: PlaygroundControls,
}

/// The controls a chapter keeps in a link, in link order.
pub fn fields(chapter: Chapter) -> Vec<FieldSpec> {
    Controls::default().of(chapter).fields()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats_are_the_engines() {
        for &f in NumberFormat::ALL {
            assert_eq!(f.format().slug(), f.slug());
        }
        assert_eq!(NumberFormat::ALL.len(), Format::ALL.len());
    }

    #[test]
    fn every_chapter_round_trips_its_defaults_and_knows_its_keys() {
        for c in Chapter::ALL {
            let mut controls = Controls::default();
            let set = controls.of_mut(c);
            let fields = set.fields();
            assert!(!fields.is_empty(), "{c:?}");
            let mut keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), fields.len(), "{c:?}: a key twice");
            for f in &fields {
                let text = set.text(f.key).unwrap();
                assert_eq!(set.default_text(f.key), Some(text.clone()));
                assert!(
                    set.set_text(f.key, &text),
                    "{c:?}.{}: default {text:?} rejected",
                    f.key
                );
            }
            assert_eq!(set.text("no-such-key"), None);
            assert!(!set.set_text("no-such-key", "1"));
        }
    }

    #[test]
    fn values_are_validated_by_kind() {
        let mut s = SmoothControls::default();
        assert!(s.set_text("alpha", "0.25") && s.alpha == 0.25);
        for bad in ["1.5", "-0.1", "NaN", "inf", "x", ""] {
            assert!(!s.set_text("alpha", bad), "{bad}");
        }
        assert_eq!(s.alpha, 0.25);
        assert!(s.set_text("bits", "w4a4") && s.bits == LayerBits::W4A4);
        assert!(!s.set_text("bits", "w2a2"));
        let mut f = FunctionControls::default();
        assert!(
            f.set_text("bits", "3") && f.scheme.bits == 3,
            "group fields by their own key"
        );
        assert!(!f.set_text("bits", "9"));
        assert!(f.set_text("alpha", "-1.577") && f.range.alpha == Some(-1.577));
        assert!(f.set_text("alpha", "auto") && f.range.alpha.is_none());
        assert!(f.set_text("logy", "off") && !f.logy);
        assert!(!f.set_text("logy", "maybe"));
    }

    #[test]
    fn snap_rounds_to_the_step() {
        assert_eq!(ALPHA.snap(0.30000000000000004), 0.3);
        assert_eq!(PERCENTILE.snap(99.99012), 99.99);
        assert_eq!(THETA.snap(44.6), 45.0);
        assert!(ALPHA.snap(f64::NAN).is_nan());
    }

    #[test]
    fn clamp_puts_code_written_numbers_back_in_range() {
        let mut c = Controls::default();
        c.smooth.alpha = 7.0;
        c.rotation.theta = f64::NAN;
        c.qat.wbits = 1;
        c.function.range.alpha = Some(f64::INFINITY);
        c.clamp();
        assert_eq!(c.smooth.alpha, 1.0);
        assert_eq!(c.rotation.theta, 0.0);
        assert_eq!(c.qat.wbits, 2);
        assert_eq!(c.function.range.alpha, None);
    }

    #[test]
    fn choices_have_unique_slugs_and_parse_back() {
        fn check<T: Choice + std::str::FromStr<Err = UnknownOption>>() {
            assert_eq!(T::ALL.len(), T::SLUGS.len());
            for (o, s) in T::ALL.iter().zip(T::SLUGS) {
                assert_eq!(o.slug(), *s);
                assert_eq!(s.parse::<T>().ok(), Some(*o));
                assert!(!o.label().text(Lang::Ko).is_empty());
            }
            let err = "nope".parse::<T>().unwrap_err();
            assert!(err.to_string().contains(T::SLUGS[0]));
        }
        check::<ModelChoice>();
        check::<DataChoice>();
        check::<Symmetry>();
        check::<GridRange>();
        check::<Signedness>();
        check::<RoundChoice>();
        check::<GranChoice>();
        check::<CalibChoice>();
        check::<LayerChoice>();
        check::<OwnLinear>();
        check::<AblationChoice>();
        check::<StreamSpeed>();
        check::<LayerBits>();
        check::<ActScale>();
        check::<RotationChoice>();
        check::<ModelBitsChoice>();
        check::<ModelActChoice>();
        check::<ModelRotChoice>();
        check::<LlmBitsChoice>();
        check::<LlmActChoice>();
    }

    #[test]
    fn scheme_controls_build_the_engine_scheme() {
        let mut s = SchemeControls::default();
        let seminar = s.scheme().unwrap();
        assert_eq!((seminar.qmin(), seminar.qmax()), (-127, 127));
        s.bits = 4;
        s.scheme = Symmetry::Sym;
        s.range = GridRange::Full;
        assert_eq!(s.scheme().unwrap().qmin(), -8);
        assert_eq!(
            layer_quant(LayerBits::W4A8, ActScale::Tensor),
            LayerQuant::new(4, 8, ActGranularity::PerTensor)
        );
    }
}
