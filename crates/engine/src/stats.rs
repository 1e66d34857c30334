//! Statistics of a tensor: histograms, summary moments, kurtosis and per-channel ranges.
//!
//! Definitions follow NumPy: `np.histogram` binning (equal-width bins, the last bin closed),
//! `np.std` with ddof = 0, and Pearson's (non-excess) kurtosis E[(x − μ)⁴]/σ⁴ (a Gaussian has
//! 3, `scipy.stats.kurtosis(x, fisher=False)`), the convention of the MiniLM data notes.

use ndarray::{ArrayView2, Axis};

use super::error::{QuantError, Result};
use super::quantize::NonFinitePolicy;

/// Upper bound on the number of histogram bins (protects against absurd allocations).
pub const MAX_BINS: usize = 1 << 20;

/// An equal-width histogram over [lo, hi].
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f32,
    /// Right edge of the last bin.
    pub hi: f32,
    /// Counts per bin: bin k covers [edge k, edge k+1), the last bin also includes `hi`.
    pub counts: Vec<u32>,
    /// Finite values (and −Inf) below `lo`.
    pub underflow: u32,
    /// Finite values (and +Inf) above `hi`.
    pub overflow: u32,
    /// NaN values (skipped).
    pub nan: u32,
}

impl Histogram {
    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.counts.len()
    }

    /// Bin width (hi − lo)/bins.
    pub fn bin_width(&self) -> f64 {
        (f64::from(self.hi) - f64::from(self.lo)) / self.counts.len().max(1) as f64
    }

    /// Edge k (0..=bins), computed as `np.linspace(lo, hi, bins + 1)` does.
    pub fn edge(&self, k: usize) -> f64 {
        edge(f64::from(self.lo), f64::from(self.hi), self.counts.len(), k)
    }

    /// All bins + 1 edges.
    pub fn edges(&self) -> Vec<f64> {
        (0..=self.counts.len()).map(|k| self.edge(k)).collect()
    }

    /// Values counted inside [lo, hi].
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Counts on a log scale for plotting: log10(1 + count), so empty bins stay at 0.
    pub fn log_counts(&self) -> Vec<f32> {
        self.counts
            .iter()
            .map(|&c| (1.0 + f64::from(c)).log10() as f32)
            .collect()
    }
}

#[inline(always)]
fn edge(lo: f64, hi: f64, bins: usize, k: usize) -> f64 {
    Binner::new(lo, hi, bins).edge(k)
}

/// Equal-width binning exactly as `np.histogram` does it for f64 data: a first guess from
/// (x − lo)/(hi − lo)·bins, then a one-step correction against the `np.linspace` edges
/// k·step + lo (the last edge is `hi` itself).
#[derive(Debug, Clone, Copy)]
pub struct Binner {
    lo: f64,
    hi: f64,
    step: f64,
    bins: usize,
    // bins / (hi − lo): NumPy divides by (hi − lo) and multiplies by bins; multiplying by the
    // quotient can differ in the last bit, which only moves the first guess, and the edge
    // correction below then lands on the same bin.
    norm: f64,
}

impl Binner {
    /// `bins` ≥ 1 and lo < hi are the caller's job.
    pub fn new(lo: f64, hi: f64, bins: usize) -> Self {
        let denom = hi - lo;
        Binner {
            lo,
            hi,
            step: denom / bins as f64,
            bins,
            norm: bins as f64 / denom,
        }
    }

    #[inline(always)]
    pub fn edge(&self, k: usize) -> f64 {
        if k >= self.bins {
            self.hi
        } else {
            k as f64 * self.step + self.lo
        }
    }

    /// Bin of a value already known to be in [lo, hi].
    #[inline(always)]
    pub fn index(&self, xd: f64) -> usize {
        let f = (xd - self.lo) * self.norm;
        let last = self.bins.saturating_sub(1);
        let mut idx = (f as usize).min(last);
        if idx > 0 && xd < self.edge(idx) {
            idx -= 1;
        }
        if idx != last && xd >= self.edge(idx + 1) {
            idx += 1;
        }
        idx
    }
}

/// Histogram of `x` with `bins` equal-width bins over [lo, hi]; NaN skipped and counted, values
/// outside the range counted as under/overflow. Follows `np.histogram(x.astype(float64), bins,
/// range=(lo, hi))` bin for bin.
pub fn histogram(x: &[f32], bins: usize, lo: f32, hi: f32) -> Result<Histogram> {
    if bins == 0 || bins > MAX_BINS {
        return Err(QuantError::InvalidParameter {
            name: "bins",
            value: bins.to_string(),
            allowed: "the number of bins must be between 1 and 1048576",
        });
    }
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(QuantError::InvalidRange {
            alpha: lo,
            beta: hi,
        });
    }
    if x.len() > u32::MAX as usize {
        return Err(QuantError::TooLarge {
            what: "tensor for a histogram",
            got: x.len() as u128,
            limit: u128::from(u32::MAX),
        });
    }
    let (l, h) = (f64::from(lo), f64::from(hi));
    let binner = Binner::new(l, h, bins);
    let mut counts = vec![0u32; bins];
    let (mut under, mut over, mut nan) = (0u32, 0u32, 0u32);
    for &v in x {
        let xd = f64::from(v);
        if xd.is_nan() {
            nan += 1;
        } else if xd < l {
            under += 1;
        } else if xd > h {
            over += 1;
        } else if let Some(c) = counts.get_mut(binner.index(xd)) {
            *c += 1;
        }
    }
    Ok(Histogram {
        lo,
        hi,
        counts,
        underflow: under,
        overflow: over,
        nan,
    })
}

/// Summary statistics of the finite values of a tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Finite values used.
    pub n: usize,
    /// NaN/Inf values skipped.
    pub nonfinite: usize,
    pub min: f32,
    pub max: f32,
    /// max |x|.
    pub absmax: f32,
    pub mean: f64,
    /// Population standard deviation (ddof = 0, like `np.std`).
    pub std: f64,
    /// Pearson kurtosis E[(x − μ)⁴]/σ⁴ (Gaussian = 3); `None` for constant data (σ = 0).
    pub kurtosis: Option<f64>,
}

/// Min, max, mean, std and kurtosis in two passes (f64 sums).
pub fn summarize(x: &[f32], policy: NonFinitePolicy) -> Result<Summary> {
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    let mut n = 0usize;
    let mut bad = 0usize;
    let mut first_bad = None;
    let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
    let mut sum = 0.0f64;
    for (i, &v) in x.iter().enumerate() {
        if !v.is_finite() {
            bad += 1;
            first_bad.get_or_insert(i);
            continue;
        }
        n += 1;
        min = min.min(v);
        max = max.max(v);
        sum += f64::from(v);
    }
    if let (Some(first_index), NonFinitePolicy::Reject) = (first_bad, policy) {
        return Err(QuantError::NonFinite {
            count: bad,
            first_index,
            first_row_col: None,
        });
    }
    if n == 0 {
        return Err(QuantError::AllNonFinite { count: bad });
    }
    let mean = sum / n as f64;
    let (mut m2, mut m4) = (0.0f64, 0.0f64);
    for &v in x.iter().filter(|v| v.is_finite()) {
        let d = f64::from(v) - mean;
        let d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    let var = m2 / n as f64;
    let kurtosis = if var > 0.0 {
        Some((m4 / n as f64) / (var * var))
    } else {
        None
    };
    Ok(Summary {
        n,
        nonfinite: bad,
        min,
        max,
        absmax: min.abs().max(max.abs()),
        mean,
        std: var.sqrt(),
        kurtosis,
    })
}

/// Pearson kurtosis E[(x − μ)⁴]/σ⁴ of the finite values (Gaussian = 3, Laplace = 6).
/// Constant data has no kurtosis (σ = 0) and gives `ConstantData`.
pub fn kurtosis(x: &[f32], policy: NonFinitePolicy) -> Result<f64> {
    let s = summarize(x, policy)?;
    s.kurtosis.ok_or(QuantError::ConstantData {
        value: s.min,
        count: s.n,
    })
}

/// Range of one channel (finite values only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelStats {
    pub min: f32,
    pub max: f32,
    /// max |x| over the channel.
    pub absmax: f32,
    /// Finite values in the channel.
    pub n: usize,
}

/// Min/max/absmax per index along `axis` (axis 1 of a tokens × channels matrix gives the
/// per-channel profile m_c = max_t |X[t, c]| used by SmoothQuant). NaN/Inf are skipped or
/// rejected per `policy`; a channel with no finite value has NaN statistics and n = 0.
pub fn channel_stats(
    x: ArrayView2<'_, f32>,
    axis: usize,
    policy: NonFinitePolicy,
) -> Result<Vec<ChannelStats>> {
    if axis > 1 {
        return Err(QuantError::InvalidAxis { axis, ndim: 2 });
    }
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    if policy == NonFinitePolicy::Reject {
        check_finite_2d(x)?;
    }
    Ok(x.axis_iter(Axis(axis))
        .map(|lane| {
            let (mut min, mut max, mut n) = (f32::INFINITY, f32::NEG_INFINITY, 0usize);
            for &v in lane.iter().filter(|v| v.is_finite()) {
                min = min.min(v);
                max = max.max(v);
                n += 1;
            }
            if n == 0 {
                ChannelStats {
                    min: f32::NAN,
                    max: f32::NAN,
                    absmax: f32::NAN,
                    n,
                }
            } else {
                ChannelStats {
                    min,
                    max,
                    absmax: min.abs().max(max.abs()),
                    n,
                }
            }
        })
        .collect())
}

/// Rejects NaN/Inf in a matrix with the count and the (row, column) of the first one.
pub fn check_finite_2d(x: ArrayView2<'_, f32>) -> Result<()> {
    let cols = x.ncols();
    let mut count = 0usize;
    let mut first = None;
    for ((r, c), v) in x.indexed_iter() {
        if !v.is_finite() {
            count += 1;
            first.get_or_insert((r, c));
        }
    }
    match first {
        None => Ok(()),
        Some((r, c)) => Err(QuantError::NonFinite {
            count,
            first_index: r.saturating_mul(cols).saturating_add(c),
            first_row_col: Some((r, c)),
        }),
    }
}

/// The k largest values with their indices, largest first (ties: lower index first; NaN
/// ignored). Used for "top channels by absmax".
pub fn top_k(values: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut v: Vec<(usize, f32)> = values
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, x)| !x.is_nan())
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hist_basics() {
        let h = histogram(&[0.0, 0.5, 1.0, 2.0, -1.0, f32::NAN, 0.25], 4, 0.0, 1.0).unwrap();
        assert_eq!(h.counts, vec![1, 1, 1, 1]);
        assert_eq!((h.underflow, h.overflow, h.nan), (1, 1, 1));
        assert!(histogram(&[1.0], 0, 0.0, 1.0)
            .is_err_and(|e| matches!(e, QuantError::InvalidParameter { .. })));
        assert!(histogram(&[1.0], 4, 1.0, 1.0)
            .is_err_and(|e| matches!(e, QuantError::InvalidRange { .. })));
        assert!(histogram(&[], 4, 0.0, 1.0).unwrap().total() == 0);
    }

    #[test]
    fn kurt() {
        let x = [1.0f32, -1.0, 1.0, -1.0];
        assert!((kurtosis(&x, NonFinitePolicy::Reject).unwrap() - 1.0).abs() < 1e-12);
        assert!(matches!(
            kurtosis(&[2.0, 2.0], NonFinitePolicy::Reject),
            Err(QuantError::ConstantData { .. })
        ));
        assert_eq!(
            top_k(&[1.0, 3.0, f32::NAN, 3.0, 2.0], 3),
            vec![(1, 3.0), (3, 3.0), (4, 2.0)]
        );
    }
}
