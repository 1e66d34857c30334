//! Activation outliers: where they are, how big, whether they matter, and what they do to
//! per-tensor, per-token and per-channel activation quantization.
//!
//! Definitions follow the data set's README (`assets/data/minilm`, from `extract.py`):
//! * per-channel absmax m_c = max_t |X_tc| (channel c = column of X, an input channel of W);
//! * median = `np.median` of the m_c (mean of the two middle values for an even count);
//! * max/median = max_c m_c / median_c m_c; "> 6× median" counts channels with m_c > 6·median;
//! * kurtosis = Pearson, non-excess E[(x − μ)⁴]/σ⁴ (Gaussian = 3), over all entries of X
//!   ([`crate::stats::kurtosis`]) or per token (over the channels of one row) averaged
//!   over the tokens.

use super::error::{QuantError, Result};
use super::linear::{
    check_finite, check_len, checked_len, ratio, ActGranularity, LayerCase, LayerQuant,
    WeightGranularity,
};
use super::quantize::NonFinitePolicy;
use super::stats;

/// max |x| of every column of a row-major rows×cols matrix (SmoothQuant's `act_scales` when
/// the rows are tokens).
pub fn column_absmax(x: &[f32], rows: usize, cols: usize) -> Result<Vec<f32>> {
    check_len(
        "matrix (rows×cols, row-major)",
        checked_len(rows, cols)?,
        x.len(),
    )?;
    let mut m = vec![0f32; cols];
    if cols > 0 {
        for row in x.chunks_exact(cols) {
            m.iter_mut()
                .zip(row)
                .for_each(|(a, &v)| *a = a.max(v.abs()));
        }
    }
    Ok(m)
}

/// max |x| of every row of a row-major rows×cols matrix (for W: one value per input channel).
pub fn row_absmax(x: &[f32], rows: usize, cols: usize) -> Result<Vec<f32>> {
    check_len(
        "matrix (rows×cols, row-major)",
        checked_len(rows, cols)?,
        x.len(),
    )?;
    if cols == 0 {
        return Ok(vec![0.0; rows]);
    }
    Ok(x.chunks_exact(cols)
        .map(|r| r.iter().fold(0f32, |a, &v| a.max(v.abs())))
        .collect())
}

/// `np.median` of the finite values (NaN if there are none).
pub fn median(v: &[f32]) -> f32 {
    let mut s: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f32::total_cmp);
    let k = s.len() / 2;
    match (
        s.len() % 2,
        s.get(k),
        k.checked_sub(1).and_then(|j| s.get(j)),
    ) {
        (1, Some(&m), _) => m,
        (_, Some(&hi), Some(&lo)) => ((f64::from(lo) + f64::from(hi)) / 2.0) as f32,
        _ => f32::NAN,
    }
}

/// A per-channel absmax profile and its summary numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelProfile {
    /// m_c, one per channel.
    pub absmax: Vec<f32>,
    pub median: f32,
    pub max: f32,
    /// The channel holding `max` (the first one on ties).
    pub argmax: usize,
    /// max / median (∞ if the median is 0).
    pub max_over_median: f64,
    /// Channels with m_c > 6·median.
    pub over_6x_median: usize,
}

impl ChannelProfile {
    /// Summarises a profile (values must be finite and ≥ 0, as absmax values are).
    pub fn new(absmax: Vec<f32>) -> Self {
        let median = median(&absmax);
        let (argmax, max) =
            absmax
                .iter()
                .copied()
                .enumerate()
                .fold(
                    (0, 0f32),
                    |(bi, bv), (i, v)| if v > bv { (i, v) } else { (bi, bv) },
                );
        let six = 6.0 * f64::from(median);
        let over_6x_median = absmax.iter().filter(|&&v| f64::from(v) > six).count();
        ChannelProfile {
            max_over_median: ratio(f64::from(max), f64::from(median)),
            absmax,
            median,
            max,
            argmax,
            over_6x_median,
        }
    }

    /// The k channels with the largest absmax, largest first (ties: lower index first).
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        stats::top_k(&self.absmax, k)
    }
}

/// Pearson kurtosis of every row (over its columns), averaged over the rows that are not
/// constant. NaN if every row is constant.
pub fn token_kurtosis_mean(x: &[f32], rows: usize, cols: usize) -> Result<f64> {
    check_len("X (T×C, row-major)", checked_len(rows, cols)?, x.len())?;
    let (mut sum, mut n) = (0f64, 0usize);
    if cols > 0 {
        for row in x.chunks_exact(cols) {
            match stats::kurtosis(row, NonFinitePolicy::Reject) {
                Ok(k) => {
                    sum += k;
                    n += 1;
                }
                Err(QuantError::ConstantData { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(if n > 0 { sum / n as f64 } else { f64::NAN })
}

/// Pearson kurtosis over all entries (NaN for constant data).
pub fn kurtosis_all(x: &[f32]) -> Result<f64> {
    match stats::kurtosis(x, NonFinitePolicy::Reject) {
        Ok(k) => Ok(k),
        Err(QuantError::ConstantData { .. }) => Ok(f64::NAN),
        Err(e) => Err(e),
    }
}

/// The outlier picture of an activation matrix X (T×C).
#[derive(Clone, Debug, PartialEq)]
pub struct OutlierStats {
    pub tokens: usize,
    pub channels: usize,
    /// Per-channel absmax m_c and its summary.
    pub profile: ChannelProfile,
    /// max |X| and where it is (row, column).
    pub absmax: f32,
    pub absmax_at: (usize, usize),
    /// Pearson kurtosis over all entries (Gaussian = 3).
    pub kurtosis: f64,
    /// Pearson kurtosis per token, averaged over the tokens.
    pub token_kurtosis_mean: f64,
    /// The `top_k` channels by absmax, largest first.
    pub top: Vec<(usize, f32)>,
}

/// Outlier statistics of X (T×C, row-major, finite).
pub fn outlier_stats(
    x: &[f32],
    tokens: usize,
    channels: usize,
    top_k: usize,
) -> Result<OutlierStats> {
    check_len(
        "X (T×C, row-major)",
        checked_len(tokens, channels)?,
        x.len(),
    )?;
    if x.is_empty() {
        return Err(QuantError::Empty {
            what: "activation matrix X",
        });
    }
    check_finite(x, channels)?;
    let profile = ChannelProfile::new(column_absmax(x, tokens, channels)?);
    let (i, absmax) = x
        .iter()
        .map(|v| v.abs())
        .enumerate()
        .fold(
            (0, 0f32),
            |(bi, bv), (i, v)| if v > bv { (i, v) } else { (bi, bv) },
        );
    Ok(OutlierStats {
        tokens,
        channels,
        absmax,
        absmax_at: (i / channels.max(1), i % channels.max(1)),
        kurtosis: kurtosis_all(x)?,
        token_kurtosis_mean: token_kurtosis_mean(x, tokens, channels)?,
        top: profile.top(top_k),
        profile,
    })
}

/// The weight side of the picture: W (C_in×C_out) absmax per input channel (row, what
/// SmoothQuant's weight scales use) and per output channel (column, what per-channel weight
/// quantization uses).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightProfiles {
    pub per_input_channel: ChannelProfile,
    pub per_output_channel: ChannelProfile,
}

/// Absmax profiles of W (C_in×C_out, row-major).
pub fn weight_profiles(w: &[f32], cin: usize, cout: usize) -> Result<WeightProfiles> {
    Ok(WeightProfiles {
        per_input_channel: ChannelProfile::new(row_absmax(w, cin, cout)?),
        per_output_channel: ChannelProfile::new(column_absmax(w, cin, cout)?),
    })
}

/// What to do to the chosen input channels of X in the "are outliers important?" experiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ablation {
    /// Set the channels to 0 (LLM.int8()'s "remove the outlier features").
    Zero,
    /// Clip the channels to ±(median channel absmax): make them look like a typical channel.
    ClipToMedian,
    /// Clip the channels to ±limit (limit ≥ 0).
    Clip(f32),
}

/// The result of an ablation.
#[derive(Clone, Debug, PartialEq)]
pub struct AblationResult {
    pub channels: Vec<usize>,
    /// ‖Y_k − Y‖_F / ‖Y‖_F with Y = X·W and Y_k = X_k·W (X with the channels ablated).
    pub rel_change: f64,
    /// ‖X_k − X‖_F / ‖X‖_F: how much of X was touched.
    pub x_rel_change: f64,
}

/// Ablates the given input channels of X and measures the change of Y = X·W. Only the touched
/// channels contribute: Y_k − Y = (X_k − X)[:, S]·W[S, :], computed in f64.
pub fn ablate(case: &LayerCase, channels: &[usize], how: Ablation) -> Result<AblationResult> {
    let (t, c, n) = (case.tokens(), case.in_channels(), case.out_channels());
    if let Some(&bad) = channels.iter().find(|&&ch| ch >= c) {
        return Err(QuantError::InvalidParameter {
            name: "channel",
            value: bad.to_string(),
            allowed: "an input channel index below C_in",
        });
    }
    let mut chans = channels.to_vec();
    chans.sort_unstable();
    chans.dedup();
    let x = case.x();
    let w = case.w();
    let limit = match how {
        Ablation::Zero => 0.0,
        Ablation::ClipToMedian => median(&column_absmax(x, t, c)?),
        Ablation::Clip(l) if l.is_finite() && l >= 0.0 => l,
        Ablation::Clip(l) => {
            return Err(QuantError::InvalidParameter {
                name: "clip limit",
                value: l.to_string(),
                allowed: "a finite number ≥ 0",
            })
        }
    };
    let mut dy = vec![0f64; t * n];
    let (mut dx2, mut x2) = (0f64, 0f64);
    for (row, dyrow) in x.chunks_exact(c).zip(dy.chunks_exact_mut(n)) {
        x2 += row
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>();
        for &ch in &chans {
            let Some(&v) = row.get(ch) else { continue };
            let new = match how {
                Ablation::Zero => 0.0,
                _ => v.clamp(-limit, limit),
            };
            let d = f64::from(new) - f64::from(v);
            if d == 0.0 {
                continue;
            }
            dx2 += d * d;
            if let Some(wrow) = w.get(ch * n..(ch + 1) * n) {
                dyrow
                    .iter_mut()
                    .zip(wrow)
                    .for_each(|(o, &wv)| *o += d * f64::from(wv));
            }
        }
    }
    let dyn2: f64 = dy.iter().map(|v| v * v).sum();
    Ok(AblationResult {
        channels: chans,
        rel_change: ratio(dyn2.sqrt(), case.reference_norm()),
        x_rel_change: ratio(dx2.sqrt(), x2.sqrt()),
    })
}

/// [`ablate`] on the k input channels with the largest absmax.
pub fn ablate_top_k(case: &LayerCase, k: usize, how: Ablation) -> Result<AblationResult> {
    let prof = column_absmax(case.x(), case.tokens(), case.in_channels())?;
    let chans: Vec<usize> = stats::top_k(&prof, k).into_iter().map(|(i, _)| i).collect();
    ablate(case, &chans, how)
}

/// One row of the granularity table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GranularityRow {
    pub act: ActGranularity,
    pub a_bits: u8,
    /// ‖Q(X) − X‖_F / ‖X‖_F.
    pub x_rel_err: f64,
    /// ‖Q(X)·Ŵ − X·W‖_F / ‖X·W‖_F, Ŵ = W in float or quantized as asked.
    pub y_rel_err: f64,
}

/// Per-tensor vs per-token vs per-channel activation quantization at each of `a_bits`: the
/// error of X and of Y. `weights`/`w_bits` choose what happens to W (`WeightGranularity::Float`
/// isolates the activations' share, the default of the outliers chapter).
pub fn granularity_table(
    case: &LayerCase,
    a_bits: &[u8],
    weights: WeightGranularity,
    w_bits: u8,
) -> Result<Vec<GranularityRow>> {
    let mut out = Vec::with_capacity(a_bits.len() * 3);
    for &bits in a_bits {
        for act in [
            ActGranularity::PerTensor,
            ActGranularity::PerToken,
            ActGranularity::PerChannel,
        ] {
            let cfg = LayerQuant {
                w_bits,
                a_bits: bits,
                act,
                weights,
            };
            let e = case.error(&cfg)?;
            out.push(GranularityRow {
                act,
                a_bits: bits,
                x_rel_err: e.x_rel_err,
                y_rel_err: e.rel_err,
            });
        }
    }
    Ok(out)
}
