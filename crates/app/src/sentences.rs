//! The model chapter without the page: the reader's sentences, what each control stands for in
//! the engine's [`ModelQuant`], the methods the comparison table runs, and the measures that
//! compare a quantized model's sentence embeddings with the full-precision ones.
//!
//! Everything here is plain data over the engine, so the numbers the page shows are tested
//! natively against what `quantlab embed` prints for the same settings
//! (`tests/fixtures/model_page.json`).

use quantlab_engine::kernels::ActGranularity;
use quantlab_engine::model::compare::{cosine, rank_changes, ranking, similarity_matrix};
use quantlab_engine::model::{ActMode, ModelQuant, WeightScales, WordPiece};
use quantlab_engine::{BlockFormat, Calibrator, Element, Format};

use crate::controls::{ModelActChoice, ModelBitsChoice, ModelControls, ModelRotChoice};
use crate::i18n::Msg;

pub mod texts;
pub use texts::{DEFAULT_TEXT, MAX_TEXT_BYTES, OWN_DEFAULT};

/// At most this many sentences (lines) are compared; later lines are left out with a notice.
pub const MAX_SENTENCES: usize = 8;
/// The calibration set of SmoothQuant's scales and of static activation ranges: everyday
/// sentences fixed in advance, never the reader's (a real deployment calibrates once, on data it
/// will not see again). `quantlab embed --calib-file` reads the same file.
pub const CALIBRATION_TEXT: &str = include_str!("sentences/calibration.txt");

/// The reader's text as sentences: one per non-blank line, at most [`MAX_SENTENCES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sentences {
    pub lines: Vec<String>,
    /// Non-blank lines after the first [`MAX_SENTENCES`], left out.
    pub left_out: usize,
}

impl Sentences {
    pub fn of(text: &str) -> Sentences {
        let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        Sentences {
            lines: all
                .iter()
                .take(MAX_SENTENCES)
                .map(|l| l.trim().to_string())
                .collect(),
            left_out: all.len().saturating_sub(MAX_SENTENCES),
        }
    }
}

/// How many calibration sentences there are.
pub fn calibration_len() -> usize {
    CALIBRATION_TEXT
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// The calibration sentences as token ids (every line of [`CALIBRATION_TEXT`]).
pub fn calibration_ids(tokenizer: &WordPiece) -> Vec<Vec<u32>> {
    CALIBRATION_TEXT
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|s| tokenizer.encode(s.trim()).ids)
        .collect()
}

/// The calibrator of static activation ranges (min-max: the calibrators that clip, percentile
/// and entropy, cut off MiniLM's outlier channels and lose the model; the chapter on
/// calibration shows why).
pub const STATIC_CALIBRATOR: Calibrator = Calibrator::MinMax;

impl ModelControls {
    /// The engine's settings for these controls.
    pub fn quant(&self) -> ModelQuant {
        let base = match self.bits {
            ModelBitsChoice::Ort => ModelQuant::onnx_quantize_dynamic(),
            b => {
                let (w, a) = b.bits();
                ModelQuant {
                    act: match self.act {
                        ModelActChoice::Token => ActMode::Dynamic(ActGranularity::PerToken),
                        ModelActChoice::Tensor => ActMode::Dynamic(ActGranularity::PerTensor),
                        ModelActChoice::Static => ActMode::Static(STATIC_CALIBRATOR),
                        ModelActChoice::Float => ActMode::Float,
                    },
                    weights: b
                        .weight_format()
                        .map_or(WeightScales::PerChannel, WeightScales::Format),
                    ..ModelQuant::new(w, a)
                }
            }
        };
        ModelQuant {
            smooth_alpha: self.alpha.map(|a| a as f32),
            hadamard: self.rot == ModelRotChoice::Hadamard,
            drop_outliers: usize::from(self.drop),
            ..base
        }
    }

    /// The weight sets one click away: the other integer bit width (W8 ↔ W4) and the other
    /// rotation, each with everything else as now. The chapter builds them in idle time, so
    /// that the click finds its int8 weights kept (activation changes re-use them anyway).
    pub fn weight_sets_one_click_away(&self) -> Vec<ModelQuant> {
        let bits = match self.bits.bits().0 {
            8 => ModelBitsChoice::W4A8,
            _ => ModelBitsChoice::W8A8,
        };
        let rot = match self.rot {
            ModelRotChoice::None => ModelRotChoice::Hadamard,
            ModelRotChoice::Hadamard => ModelRotChoice::None,
        };
        [
            ModelControls {
                bits,
                ..self.clone()
            },
            ModelControls {
                rot,
                ..self.clone()
            },
        ]
        .iter()
        .map(ModelControls::quant)
        .collect()
    }
}

/// The rows of the methods table, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// The full-precision model itself (cosine 1 by definition; its speed is the reference).
    Full,
    /// onnxruntime's `quantize_dynamic` as transformers.js ships `model_quantized.onnx`.
    Ort,
    W8A8Tensor,
    W8A8Token,
    /// W8A8 per tensor after SmoothQuant with the best α of [`SMOOTH_SWEEP`] on these sentences.
    W8A8Smooth,
    W8A8Hadamard,
    W4A8,
    W4A4,
    W4A4Hadamard,
    /// W8A8 per token with the [`DROP_K`] largest channels of every linear's input set to 0.
    W8A8Drop,
    /// Float-format weights (simulated in f32) with int8 per-token activations.
    Fp8A8,
    Mxfp4A8,
    Nvfp4A8,
    /// MXFP4 weights with float activations (weights-only, as gpt-oss ships MXFP4).
    Mxfp4Only,
}

/// The α values the table's SmoothQuant row tries.
pub const SMOOTH_SWEEP: [f32; 7] = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
/// How many outlier channels the table's ablation row removes.
pub const DROP_K: usize = 2;

impl Method {
    pub const ALL: [Method; 14] = [
        Method::Full,
        Method::Ort,
        Method::W8A8Tensor,
        Method::W8A8Token,
        Method::W8A8Smooth,
        Method::W8A8Hadamard,
        Method::W4A8,
        Method::W4A4,
        Method::W4A4Hadamard,
        Method::W8A8Drop,
        Method::Fp8A8,
        Method::Mxfp4A8,
        Method::Nvfp4A8,
        Method::Mxfp4Only,
    ];

    pub fn label(self) -> Msg {
        match self {
            Method::Full => Msg::MethodFull,
            Method::Ort => Msg::MethodOrt,
            Method::W8A8Tensor => Msg::MethodW8A8Tensor,
            Method::W8A8Token => Msg::MethodW8A8Token,
            Method::W8A8Smooth => Msg::MethodW8A8Smooth,
            Method::W8A8Hadamard => Msg::MethodW8A8Hadamard,
            Method::W4A8 => Msg::MethodW4A8,
            Method::W4A4 => Msg::MethodW4A4,
            Method::W4A4Hadamard => Msg::MethodW4A4Hadamard,
            Method::W8A8Drop => Msg::MethodW8A8Drop,
            Method::Fp8A8 => Msg::MethodFp8A8,
            Method::Mxfp4A8 => Msg::MethodMxfp4A8,
            Method::Nvfp4A8 => Msg::MethodNvfp4A8,
            Method::Mxfp4Only => Msg::MethodMxfp4Only,
        }
    }

    /// The quantized model of this row; `None` for full precision. The SmoothQuant row takes
    /// its α from the sweep.
    pub fn config(self, smooth_alpha: f32) -> Option<ModelQuant> {
        let per = |w, a, g| ModelQuant {
            act: ActMode::Dynamic(g),
            ..ModelQuant::new(w, a)
        };
        let token = |w, a| per(w, a, ActGranularity::PerToken);
        let format = |f, base: ModelQuant| ModelQuant {
            weights: WeightScales::Format(f),
            ..base
        };
        Some(match self {
            Method::Full => return None,
            Method::Ort => ModelQuant::onnx_quantize_dynamic(),
            Method::W8A8Tensor => per(8, 8, ActGranularity::PerTensor),
            Method::W8A8Token => token(8, 8),
            Method::W8A8Smooth => ModelQuant {
                smooth_alpha: Some(smooth_alpha),
                ..per(8, 8, ActGranularity::PerTensor)
            },
            Method::W8A8Hadamard => ModelQuant {
                hadamard: true,
                ..token(8, 8)
            },
            Method::W4A8 => token(4, 8),
            Method::W4A4 => token(4, 4),
            Method::W4A4Hadamard => ModelQuant {
                hadamard: true,
                ..token(4, 4)
            },
            Method::W8A8Drop => ModelQuant {
                drop_outliers: DROP_K,
                ..token(8, 8)
            },
            Method::Fp8A8 => format(Format::Scaled(Element::E4m3), token(8, 8)),
            Method::Mxfp4A8 => format(Format::Block(BlockFormat::Mxfp4), token(8, 8)),
            Method::Nvfp4A8 => format(Format::Block(BlockFormat::Nvfp4), token(8, 8)),
            Method::Mxfp4Only => format(
                Format::Block(BlockFormat::Mxfp4),
                ModelQuant {
                    act: ActMode::Float,
                    ..token(8, 8)
                },
            ),
        })
    }
}

/// How a quantized model's sentence embeddings compare with the full-precision ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// cos(full precision, quantized) per sentence.
    pub cosines: Vec<f64>,
    pub mean_cos: f64,
    pub min_cos: f64,
    /// S_ij = cos(e_i, e_j) of each model.
    pub sim_full: Vec<Vec<f64>>,
    pub sim_quant: Vec<Vec<f64>>,
    /// Over every sentence as the query: how many places of its ranking of the others hold a
    /// different sentence than in full precision, summed, and how many places there are.
    pub rank_changes: usize,
    pub rank_places: usize,
    /// Queries whose nearest other sentence is not the one full precision finds.
    pub top1_changes: usize,
}

impl Outcome {
    pub fn new(full: &[Vec<f32>], quant: &[Vec<f32>]) -> Outcome {
        let cosines: Vec<f64> = full.iter().zip(quant).map(|(a, b)| cosine(a, b)).collect();
        let n = cosines.len();
        let mean_cos = if n == 0 {
            f64::NAN
        } else {
            cosines.iter().sum::<f64>() / n as f64
        };
        let min_cos = cosines.iter().copied().fold(f64::INFINITY, f64::min);
        let (sim_full, sim_quant) = (similarity_matrix(full), similarity_matrix(quant));
        let pairs: Vec<(Vec<usize>, Vec<usize>)> = (0..n)
            .map(|q| (ranking(&sim_full, q), ranking(&sim_quant, q)))
            .collect();
        let rank_changes = pairs.iter().map(|(f, q)| rank_changes(f, q)).sum();
        let top1_changes = pairs.iter().filter(|(f, q)| f.first() != q.first()).count();
        Outcome {
            cosines,
            mean_cos,
            min_cos: if n == 0 { f64::NAN } else { min_cos },
            sim_full,
            sim_quant,
            rank_changes,
            rank_places: n * n.saturating_sub(1),
            top1_changes,
        }
    }

    /// The others ranked for `query` in full precision and quantized (most similar first).
    pub fn rankings(&self, query: usize) -> (Vec<usize>, Vec<usize>) {
        (
            ranking(&self.sim_full, query),
            ranking(&self.sim_quant, query),
        )
    }
}
