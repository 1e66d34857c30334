//! Rotations (QuaRot / SpinQuant): an orthogonal R with X′ = X·R and W′ = Rᵀ·W, so that
//! X′·W′ = X·W·(R·Rᵀ) = X·W ("변동성 이전 전후 동일") while a rotated activation spreads an
//! outlier channel over all channels and becomes easier to quantize.
//!
//! After the rotation the quantization and the error are exactly those of
//! [`crate::linear`] (absmax per token or per tensor for X′, per output channel for W′,
//! round half to even, error ‖Q(X′)·Q(W′) − X·W‖_F / ‖X·W‖_F against the unrotated f64 X·W).
//!
//! * [`hadamard`]: block-diagonal and full (QuaRot's 12·2^k) Hadamard rotations by FWHT;
//! * [`orthogonal`]: seeded Haar-random rotations (Householder QR), dense application;
//! * [`learn`]: SpinQuant-style learned rotation by Cayley SGD on the orthogonal group.

pub mod hadamard;
pub mod learn;
pub mod orthogonal;
pub mod toy;

use super::error::{QuantError, Result};
use super::linear::{ActGranularity, FloatDeviation, LayerCase, LayerQuant};
use super::outliers::{column_absmax, kurtosis_all, token_kurtosis_mean, ChannelProfile};

pub use hadamard::Hadamard;
pub use learn::{LearnConfig, Learner};

/// Which rotation.
#[derive(Clone, Debug, PartialEq)]
pub enum Rotation {
    /// R = I (the baseline).
    Identity,
    /// Block-diagonal Walsh–Hadamard with blocks of this many channels (a power of two).
    HadamardBlock(usize),
    /// The full QuaRot Hadamard (C = 2^k or 12·2^k).
    Hadamard,
    /// Haar-random orthogonal from this seed.
    Random(u64),
    /// A given orthogonal matrix (C×C row-major), e.g. a learned one; `name` is for display.
    Dense { name: String, r: Vec<f32> },
}

impl Rotation {
    /// `none | identity | hadamard | hadamard-block:B | random:SEED` (the CLI's syntax; learned
    /// rotations are made by [`Learner`]).
    pub fn parse(s: &str) -> Result<Rotation> {
        let bad = || QuantError::InvalidParameter {
            name: "rotation",
            value: s.chars().take(60).collect(),
            allowed:
                "none, hadamard, hadamard-block:B (B a power of two), random:SEED or learned:STEPS",
        };
        let (kind, arg) = s.split_once(':').map_or((s, None), |(k, a)| (k, Some(a)));
        match (kind.trim(), arg) {
            ("none" | "identity", None) => Ok(Rotation::Identity),
            ("hadamard", None) => Ok(Rotation::Hadamard),
            ("hadamard-block", Some(b)) => b
                .trim()
                .parse()
                .map(Rotation::HadamardBlock)
                .map_err(|_| bad()),
            ("hadamard-block", None) => Ok(Rotation::HadamardBlock(128)),
            ("random", Some(seed)) => seed.trim().parse().map(Rotation::Random).map_err(|_| bad()),
            ("random", None) => Ok(Rotation::Random(0)),
            _ => Err(bad()),
        }
    }

    /// The Hadamard rotation a layer of `c` channels has: QuaRot's full one where it exists
    /// (C = 2^k or 12·2^k), else the block Hadamard with the largest power-of-two block that
    /// divides C (SmolLM2's 576 = 9·64 gets blocks of 64). A learned rotation starts here.
    pub fn hadamard_for(c: usize) -> Rotation {
        if Hadamard::full(c).is_ok() {
            Rotation::Hadamard
        } else {
            Rotation::HadamardBlock(1 << c.trailing_zeros().min(usize::BITS - 1))
        }
    }

    /// The spec string (`hadamard-block:128`, `random:0`, …).
    pub fn name(&self) -> String {
        match self {
            Rotation::Identity => "none".into(),
            Rotation::HadamardBlock(b) => format!("hadamard-block:{b}"),
            Rotation::Hadamard => "hadamard".into(),
            Rotation::Random(s) => format!("random:{s}"),
            Rotation::Dense { name, .. } => name.clone(),
        }
    }

    /// The dense R (C×C row-major).
    pub fn matrix(&self, c: usize) -> Result<Vec<f32>> {
        match self {
            Rotation::Identity => {
                let mut r = vec![0f32; c * c];
                for i in 0..c {
                    if let Some(v) = r.get_mut(i * c + i) {
                        *v = 1.0;
                    }
                }
                Ok(r)
            }
            Rotation::HadamardBlock(b) => Ok(Hadamard::block(c, *b)?.matrix()),
            Rotation::Hadamard => Ok(Hadamard::full(c)?.matrix()),
            Rotation::Random(seed) => orthogonal::random_orthogonal(c, *seed),
            Rotation::Dense { r, .. } => {
                super::linear::check_len("rotation R (C×C, row-major)", c * c, r.len())?;
                Ok(r.clone())
            }
        }
    }

    /// X′ = X·R (X is t×c) and W′ = Rᵀ·W (W is c×n), computed in f64 and rounded to f32 once
    /// (as QuaRot/SpinQuant rotate weights in float64); Hadamard rotations by FWHT.
    pub fn apply(
        &self,
        x: &[f32],
        t: usize,
        c: usize,
        w: &[f32],
        n: usize,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((self.rotate_x(x, t, c)?, self.rotate_w(w, c, n)?))
    }

    /// X′ = X·R alone (the online half: at inference the activations are rotated every call,
    /// the weights once).
    pub fn rotate_x(&self, x: &[f32], t: usize, c: usize) -> Result<Vec<f32>> {
        if let Some(h) = self.hadamard(c)? {
            let mut x2 = x.to_vec();
            h.rotate_rows(&mut x2, t)?;
            return Ok(x2);
        }
        match self {
            Rotation::Identity => Ok(x.to_vec()),
            _ => orthogonal::rotate_rows_dense(x, t, &self.matrix_f64(c)?, c),
        }
    }

    /// W′ = Rᵀ·W alone.
    pub fn rotate_w(&self, w: &[f32], c: usize, n: usize) -> Result<Vec<f32>> {
        if let Some(h) = self.hadamard(c)? {
            let mut w2 = w.to_vec();
            h.rotate_weights(&mut w2, n)?;
            return Ok(w2);
        }
        match self {
            Rotation::Identity => Ok(w.to_vec()),
            _ => orthogonal::rotate_weights_dense(&self.matrix_f64(c)?, c, w, n),
        }
    }

    fn hadamard(&self, c: usize) -> Result<Option<Hadamard>> {
        Ok(match self {
            Rotation::HadamardBlock(b) => Some(Hadamard::block(c, *b)?),
            Rotation::Hadamard => Some(Hadamard::full(c)?),
            _ => None,
        })
    }

    /// R in f64: for a random rotation the f64 Q itself, not its f32 rounding.
    fn matrix_f64(&self, c: usize) -> Result<Vec<f64>> {
        match self {
            Rotation::Random(seed) => orthogonal::random_orthogonal_f64(c, *seed),
            _ => Ok(self.matrix(c)?.iter().map(|&v| f64::from(v)).collect()),
        }
    }
}

/// A layer's rotated tensors X′ = X·R, W′ = Rᵀ·W (measure them with
/// [`LayerCase::error_with`] or [`Rotated::error`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Rotated {
    pub rotation: String,
    /// X′, T×C_in row-major.
    pub x: Vec<f32>,
    /// W′, C_in×C_out row-major.
    pub w: Vec<f32>,
}

impl Rotated {
    /// Rotates the layer's X and W.
    pub fn new(case: &LayerCase, rotation: &Rotation) -> Result<Self> {
        let (x, w) = rotation.apply(
            case.x(),
            case.tokens(),
            case.in_channels(),
            case.w(),
            case.out_channels(),
        )?;
        Ok(Rotated {
            rotation: rotation.name(),
            x,
            w,
        })
    }

    /// The quantized layer's error after the rotation.
    pub fn error(&self, case: &LayerCase, cfg: &LayerQuant) -> Result<super::linear::LayerError> {
        case.error_with(&self.x, &self.w, cfg)
    }

    /// X′·W′ in f32 against the f64 X·W.
    pub fn float_deviation(&self, case: &LayerCase) -> Result<FloatDeviation> {
        case.float_deviation(&self.x, &self.w)
    }
}

/// Outlier summary of an activation matrix (before or after a rotation).
#[derive(Clone, Debug, PartialEq)]
pub struct ActSummary {
    /// Per-channel max |x| and max/median.
    pub profile: ChannelProfile,
    /// Pearson kurtosis over all entries (Gaussian = 3).
    pub kurtosis: f64,
    /// Pearson kurtosis per token, averaged.
    pub token_kurtosis_mean: f64,
}

impl ActSummary {
    pub fn of(x: &[f32], t: usize, c: usize) -> Result<Self> {
        Ok(ActSummary {
            profile: ChannelProfile::new(column_absmax(x, t, c)?),
            kurtosis: kurtosis_all(x)?,
            token_kurtosis_mean: token_kurtosis_mean(x, t, c)?,
        })
    }
}

/// The error of one setting with and without the rotation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorRow {
    pub cfg: LayerQuant,
    pub rel_err: f64,
    pub baseline_rel_err: f64,
}

/// What a rotation does to one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct RotationReport {
    pub rotation: String,
    pub before: ActSummary,
    pub after: ActSummary,
    pub errors: Vec<ErrorRow>,
    /// X′·W′ in f32 vs X·W in f64.
    pub fp_identity: FloatDeviation,
}

/// W8A8, W4A8 and W4A4, each with per-token and per-tensor activations (per-output-channel
/// weights).
pub const STANDARD_CONFIGS: [LayerQuant; 6] = [
    LayerQuant::new(8, 8, ActGranularity::PerToken),
    LayerQuant::new(8, 8, ActGranularity::PerTensor),
    LayerQuant::new(4, 8, ActGranularity::PerToken),
    LayerQuant::new(4, 8, ActGranularity::PerTensor),
    LayerQuant::new(4, 4, ActGranularity::PerToken),
    LayerQuant::new(4, 4, ActGranularity::PerTensor),
];

/// Statistics and errors of a rotated layer for each of `cfgs` (e.g. [`STANDARD_CONFIGS`]).
pub fn rotation_report(
    case: &LayerCase,
    rotated: &Rotated,
    cfgs: &[LayerQuant],
) -> Result<RotationReport> {
    let (t, c) = (case.tokens(), case.in_channels());
    let mut errors = Vec::with_capacity(cfgs.len());
    for cfg in cfgs {
        errors.push(ErrorRow {
            cfg: *cfg,
            rel_err: rotated.error(case, cfg)?.rel_err,
            baseline_rel_err: case.error(cfg)?.rel_err,
        });
    }
    Ok(RotationReport {
        rotation: rotated.rotation.clone(),
        before: ActSummary::of(case.x(), t, c)?,
        after: ActSummary::of(&rotated.x, t, c)?,
        errors,
        fp_identity: rotated.float_deviation(case)?,
    })
}
