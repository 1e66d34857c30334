//! Error metrics of a quantize → dequantize round trip.
//!
//! With e_i = x̂_i − x_i over the N values that took part (NaN/Inf skipped on request):
//!
//! * `mse` = Σe²/N, `rmse` = √mse, `max_abs_err` = max|e|;
//! * `sqnr_db` = 10·log10(Σx² / Σe²) (signal-to-quantization-noise ratio; +∞ when the round
//!   trip is exact);
//! * `rel_err` = ‖x − x̂‖_F / ‖x‖_F (relative Frobenius error);
//! * `clipped_fraction` = (number of clipped values)/N, where a value is clipped iff
//!   round(x/s) + z fell outside [qmin, qmax] *before* the clamp;
//! * `rounding_mse` = Σ_{not clipped} e²/N and `clipping_mse` = Σ_{clipped} e²/N. Both are
//!   divided by all N (not by the size of their own part), and `mse` is defined as their sum,
//!   so `rounding_mse + clipping_mse == mse` holds exactly.
//!
//! Sums are accumulated in f64 (each e is exact in f64 as the difference of two f32s).

/// Metrics of one round trip (see the module docs for the definitions).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RoundTripMetrics {
    /// Number of values measured.
    pub n: usize,
    /// Number of NaN/Inf values skipped (0 unless skipping was asked for).
    pub skipped: usize,
    pub mse: f64,
    pub rmse: f64,
    pub sqnr_db: f64,
    pub max_abs_err: f64,
    pub rel_err: f64,
    /// Number of clipped values.
    pub clipped: usize,
    pub clipped_fraction: f64,
    pub rounding_mse: f64,
    pub clipping_mse: f64,
    /// Mean of x², the signal power in the SQNR.
    pub signal_power: f64,
}

/// Running sums behind [`RoundTripMetrics`]; mergeable so per-group sums give overall metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorAccumulator {
    pub n: u64,
    pub skipped: u64,
    pub clipped: u64,
    pub sse_rounding: f64,
    pub sse_clipping: f64,
    pub sum_x2: f64,
    pub max_abs: f64,
}

impl ErrorAccumulator {
    /// Adds one value x, its round trip x̂, and whether it was clipped.
    #[inline(always)]
    pub fn add(&mut self, x: f32, xhat: f32, clipped: bool) {
        let xd = f64::from(x);
        let e = f64::from(xhat) - xd;
        let e2 = e * e;
        self.n += 1;
        self.clipped += u64::from(clipped);
        // Branch-free split: adding an exact 0.0 leaves a sum unchanged, so this is
        // bit-identical to an if/else but does not mispredict when clipping is common.
        let ec = if clipped { e2 } else { 0.0 };
        self.sse_clipping += ec;
        self.sse_rounding += e2 - ec;
        self.sum_x2 += xd * xd;
        let a = e.abs();
        self.max_abs = if a > self.max_abs { a } else { self.max_abs };
    }

    /// Adds the sums of another accumulator (e.g. another channel).
    pub fn merge(&mut self, o: &ErrorAccumulator) {
        self.n += o.n;
        self.skipped += o.skipped;
        self.clipped += o.clipped;
        self.sse_rounding += o.sse_rounding;
        self.sse_clipping += o.sse_clipping;
        self.sum_x2 += o.sum_x2;
        self.max_abs = self.max_abs.max(o.max_abs);
    }

    /// The metrics. With N = 0 every mean is 0 (callers report an error before that).
    pub fn finish(&self) -> RoundTripMetrics {
        let n = self.n as f64;
        let (rounding_mse, clipping_mse, signal_power) = if self.n == 0 {
            (0.0, 0.0, 0.0)
        } else {
            (
                self.sse_rounding / n,
                self.sse_clipping / n,
                self.sum_x2 / n,
            )
        };
        let mse = rounding_mse + clipping_mse;
        let sse = self.sse_rounding + self.sse_clipping;
        let sqnr_db = if sse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (self.sum_x2 / sse).log10()
        };
        let rel_err = if sse == 0.0 {
            0.0
        } else if self.sum_x2 == 0.0 {
            f64::INFINITY
        } else {
            (sse / self.sum_x2).sqrt()
        };
        RoundTripMetrics {
            n: self.n as usize,
            skipped: self.skipped as usize,
            mse,
            rmse: mse.sqrt(),
            sqnr_db,
            max_abs_err: self.max_abs,
            rel_err,
            clipped: self.clipped as usize,
            clipped_fraction: if self.n == 0 {
                0.0
            } else {
                self.clipped as f64 / n
            },
            rounding_mse,
            clipping_mse,
            signal_power,
        }
    }
}
