//! Post-training quantization of the MLP: fixed ranges from the trained float weights and from
//! calibration data, no training. The same ranges are QAT's starting point.
//!
//! * Weights: symmetric min-max, s = max|W|/Q with Q = 2^(b−1) − 1 (the engine's
//!   [`QParams::from_observed`] on a signed symmetric narrow grid), per output channel (each
//!   column of W) or per tensor.
//! * Activations (input pixels, post-ReLU hidden units): per tensor, unsigned [0, β] with
//!   z = 0, β from the engine's [`calibrate`] on the activations of the first
//!   `samples` training images (min-max: β = max; percentile p: β = P_p of the values, NumPy's
//!   linear method), s = β/(2^b − 1). As in PyTorch's observers, the hidden activations are
//!   recorded on the float network.

use super::digits::Split;
use super::fake_quant::{scheme, QuantKind, QuantSpec, Quantizer, QuantizerSet, WeightGranularity};
use super::mlp::{Eval, Mlp};
use crate::calibrate::{calibrate, Calibrator};
use crate::error::{QuantError, Result};
use crate::scale::QParams;

/// How the activation ranges are calibrated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActCalibration {
    /// β = the largest value seen.
    MinMax,
    /// β = the p-th percentile (50 < p ≤ 100) of the values seen.
    Percentile { p: f64 },
}

impl ActCalibration {
    fn calibrator(&self) -> Calibrator {
        match *self {
            ActCalibration::MinMax => Calibrator::MinMax,
            ActCalibration::Percentile { p } => Calibrator::Percentile { p },
        }
    }
}

/// PTQ calibration settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PtqConfig {
    pub calibration: ActCalibration,
    /// Number of training images used for calibration (the first ones of the training split).
    pub samples: usize,
}

impl Default for PtqConfig {
    /// Percentile 99.99 on 256 training images.
    fn default() -> Self {
        PtqConfig {
            calibration: ActCalibration::Percentile { p: 99.99 },
            samples: 256,
        }
    }
}

impl PtqConfig {
    pub fn validate(&self) -> Result<()> {
        if self.samples == 0 {
            return Err(QuantError::InvalidParameter {
                name: "calibration samples",
                value: "0".into(),
                allowed: "at least 1 image",
            });
        }
        self.calibration.calibrator().validate()
    }
}

fn weight_quantizer(
    name: &'static str,
    w: &[f32],
    rows: usize,
    cols: usize,
    bits: u8,
    gran: WeightGranularity,
) -> Result<Quantizer> {
    let sch = scheme(QuantKind::Weights, bits)?;
    let range_of = |it: &mut dyn Iterator<Item = f32>| {
        it.fold((0.0f32, 0.0f32), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    match gran {
        WeightGranularity::PerTensor => {
            let (lo, hi) = range_of(&mut w.iter().copied());
            let p = QParams::from_observed(lo, hi, &sch)?;
            Quantizer::new(name, QuantKind::Weights, bits, vec![p.scale], rows * cols)
        }
        WeightGranularity::PerChannel => {
            let mut steps = Vec::with_capacity(cols);
            for j in 0..cols {
                let (lo, hi) = range_of(&mut w.iter().skip(j).step_by(cols.max(1)).copied());
                steps.push(QParams::from_observed(lo, hi, &sch)?.scale);
            }
            Quantizer::new(name, QuantKind::Weights, bits, steps, rows)
        }
    }
}

fn act_quantizer(
    name: &'static str,
    values: &[f32],
    per_sample: usize,
    bits: u8,
    cal: &ActCalibration,
) -> Result<Quantizer> {
    let sch = scheme(QuantKind::Activations, bits)?;
    let c = calibrate(values, &sch, &cal.calibrator())?;
    Quantizer::new(
        name,
        QuantKind::Activations,
        bits,
        vec![c.params.scale],
        per_sample,
    )
}

/// The PTQ quantizers of `model` for `spec`, calibrated on `calib_x` (row-major, a multiple of
/// the model's inputs; the whole slice is used).
pub fn calibrate_quantizers(
    model: &Mlp,
    spec: &QuantSpec,
    calib_x: &[f32],
    cfg: &PtqConfig,
) -> Result<QuantizerSet> {
    let input = input_quantizer(model.inputs(), spec, calib_x, cfg)?;
    calibrate_with_input(model, spec, calib_x, cfg, input)
}

fn check_calib(inputs: usize, spec: &QuantSpec, calib_x: &[f32], cfg: &PtqConfig) -> Result<usize> {
    spec.validate()?;
    cfg.validate()?;
    let n = calib_x.len() / inputs.max(1);
    if n == 0 || calib_x.len() != n * inputs {
        return Err(QuantError::LengthMismatch {
            what: "calibration features (a whole number of images)",
            expected: n.max(1) * inputs,
            got: calib_x.len(),
        });
    }
    crate::quantize::check_finite(calib_x)?;
    Ok(n)
}

/// The input quantizer alone (None if the spec keeps the input in float). It depends only on
/// the data, so the trainer computes it once.
pub(crate) fn input_quantizer(
    inputs: usize,
    spec: &QuantSpec,
    calib_x: &[f32],
    cfg: &PtqConfig,
) -> Result<Option<Quantizer>> {
    check_calib(inputs, spec, calib_x, cfg)?;
    if spec.quantize_input {
        Ok(Some(act_quantizer(
            "input",
            calib_x,
            inputs,
            spec.bits_a,
            &cfg.calibration,
        )?))
    } else {
        Ok(None)
    }
}

/// The weight and hidden quantizers, with a given input quantizer.
pub(crate) fn calibrate_with_input(
    model: &Mlp,
    spec: &QuantSpec,
    calib_x: &[f32],
    cfg: &PtqConfig,
    input: Option<Quantizer>,
) -> Result<QuantizerSet> {
    let (i, h, c) = (model.inputs(), model.hidden(), model.classes());
    let n = check_calib(i, spec, calib_x, cfg)?;
    let w1 = weight_quantizer("W1", model.w1(), i, h, spec.bits_w, spec.weight_granularity)?;
    let w2 = weight_quantizer("W2", model.w2(), h, c, spec.bits_w, spec.weight_granularity)?;
    let hidden_acts = model.hidden_activations(calib_x, n)?;
    let hidden = act_quantizer("hidden", &hidden_acts, h, spec.bits_a, &cfg.calibration)?;
    let set = QuantizerSet {
        input,
        w1,
        hidden,
        w2,
    };
    model.check_quantizers(&set)?;
    Ok(set)
}

/// PTQ of `model` at `spec`: calibrate on the first `cfg.samples` training images, evaluate on
/// the test split.
pub fn ptq_evaluate(model: &Mlp, data: &Split, spec: &QuantSpec, cfg: &PtqConfig) -> Result<Eval> {
    let (cx, _) = data.train.head(cfg.samples);
    let q = calibrate_quantizers(model, spec, cx, cfg)?;
    model.evaluate(data.test.x(), data.test.y(), Some(&q))
}

/// Test accuracy (0..=1) of `model` quantized after training to W`bits_w`A`bits_a`
/// (per-channel weights, quantized input) with calibration `calib`.
pub fn ptq_accuracy(
    model: &Mlp,
    data: &Split,
    bits_w: u8,
    bits_a: u8,
    calib: &PtqConfig,
) -> Result<f32> {
    Ok(ptq_evaluate(model, data, &QuantSpec::new(bits_w, bits_a), calib)?.accuracy)
}
