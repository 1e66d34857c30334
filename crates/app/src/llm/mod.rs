//! The language-model chapter's settings and methods, as the engine takes them.
//!
//! Its controls mean what the whole-model chapter's mean (`bits`, `act`, `alpha`, `rot`,
//! `drop`), with the weights-only settings the CLI's `--quant w8a16|w4a16` has. SmoothQuant's
//! scales and static ranges are calibrated on the scored paragraph itself, as
//! `quantlab llm ppl` does without `--calib-file` and as the NumPy facts were measured.

pub mod texts;

use quantlab_engine::kernels::ActGranularity;
use quantlab_engine::model::{ActMode, ModelQuant, WeightScales};
use quantlab_engine::{BlockFormat, Element, Format};

use crate::controls::{LlmActChoice, LlmBitsChoice, LlmControls, ModelRotChoice};
use crate::sentences::{Method, STATIC_CALIBRATOR};

impl LlmBitsChoice {
    /// (weight bits, activation bits; `None`: activations stay f32).
    pub fn bits(self) -> (u8, Option<u8>) {
        match self {
            LlmBitsChoice::W8A8 => (8, Some(8)),
            LlmBitsChoice::W4A8 => (4, Some(8)),
            LlmBitsChoice::W4A4 => (4, Some(4)),
            LlmBitsChoice::W8A16 => (8, None),
            LlmBitsChoice::W4A16 => (4, None),
            // Float-format weights with the int8 activations of their A8 setting.
            LlmBitsChoice::Mxfp4 | LlmBitsChoice::Nvfp4 | LlmBitsChoice::Fp8 => (8, Some(8)),
        }
    }

    pub fn weight_format(self) -> Option<Format> {
        match self {
            LlmBitsChoice::Mxfp4 => Some(Format::Block(BlockFormat::Mxfp4)),
            LlmBitsChoice::Nvfp4 => Some(Format::Block(BlockFormat::Nvfp4)),
            LlmBitsChoice::Fp8 => Some(Format::Scaled(Element::E4m3)),
            _ => None,
        }
    }

    /// Activations stay in float: the act control does not apply.
    pub fn weights_only(self) -> bool {
        self.bits().1.is_none()
    }
}

impl LlmControls {
    /// The engine's settings for these controls (the CLI's `--quant`, `--act`, `--smooth`,
    /// `--rotate`, `--drop-outliers`, `--weight-format` with the same values).
    pub fn quant(&self) -> ModelQuant {
        let (w, a) = self.bits.bits();
        let act = match (a, self.act) {
            (None, _) => ActMode::Float,
            (Some(_), LlmActChoice::Token) => ActMode::Dynamic(ActGranularity::PerToken),
            (Some(_), LlmActChoice::Tensor) => ActMode::Dynamic(ActGranularity::PerTensor),
            (Some(_), LlmActChoice::Static) => ActMode::Static(STATIC_CALIBRATOR),
        };
        ModelQuant {
            act,
            weights: self
                .bits
                .weight_format()
                .map_or(WeightScales::PerChannel, WeightScales::Format),
            smooth_alpha: self.alpha.map(|a| a as f32),
            hadamard: self.rot == ModelRotChoice::Hadamard,
            drop_outliers: usize::from(self.drop),
            ..ModelQuant::new(w, a.unwrap_or(8))
        }
    }
}

/// The α of the methods table's SmoothQuant row (the facts: per-tensor W8A8 after
/// SmoothQuant α = 0.5, scales from the same text).
pub const TABLE_ALPHA: f32 = 0.5;

/// The rows of the methods table: the whole-model chapter's integer methods (onnxruntime's
/// recipe is MiniLM's web export; the float weight formats keep an f32 copy of every linear,
/// 425 MB for SmolLM2, so the table leaves them to the bits control).
pub const METHODS: [Method; 9] = [
    Method::Full,
    Method::W8A8Token,
    Method::W8A8Tensor,
    Method::W8A8Smooth,
    Method::W8A8Hadamard,
    Method::W4A8,
    Method::W4A4,
    Method::W4A4Hadamard,
    Method::W8A8Drop,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_match_the_cli_names() {
        let mut c = LlmControls::default();
        assert_eq!(c.quant().label(), "W8A8 per-token");
        c.bits = LlmBitsChoice::W8A16;
        c.act = LlmActChoice::Tensor;
        assert_eq!(c.quant().act, ActMode::Float);
        c.bits = LlmBitsChoice::W4A4;
        c.rot = ModelRotChoice::Hadamard;
        assert!(c.quant().hadamard && c.quant().w_bits == 4 && c.quant().a_bits == 4);
        c.alpha = Some(0.5);
        c.drop = 2;
        let q = c.quant();
        assert_eq!((q.smooth_alpha, q.drop_outliers), (Some(0.5), 2));
        assert!(q.needs_calibration());
    }

    #[test]
    fn every_table_row_but_full_precision_is_quantized() {
        let quantized = METHODS
            .iter()
            .filter(|m| m.config(TABLE_ALPHA).is_some())
            .count();
        assert_eq!(quantized, METHODS.len() - 1);
        assert!(!METHODS.contains(&Method::Ort));
    }
}
