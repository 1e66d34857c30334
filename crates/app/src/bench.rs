//! How the in-browser benchmark turns clock readings into numbers it can stand behind.
//!
//! Browsers coarsen `performance.now()` on pages without cross-origin isolation (Chromium to
//! 0.1 ms, Firefox to 1 ms under resistFingerprinting): a GEMV of 0.13 ms reads as one or two
//! ticks, and its GOPS jumps by 2×. So the benchmark times *batches* of back-to-back runs, each
//! lasting at least [`MIN_SAMPLE_MS`] (≥ 50 ticks of a 0.1 ms clock), takes [`SAMPLES`] such
//! batches, and reports the median with the spread of the samples.

/// Shortest timed batch (ms).
pub const MIN_SAMPLE_MS: f64 = 5.0;
/// Timed batches per case (after the warm-up).
pub const SAMPLES: usize = 7;
/// Runs in one batch at most (a 1 µs case would otherwise make a 5,000-run batch).
pub const MAX_RUNS_PER_SAMPLE: usize = 2000;
/// Warm-up: runs until this much time has passed (V8 runs a function in its baseline compiler
/// until it is hot), and at least two runs.
pub const WARM_UP_MS: f64 = 15.0;

/// Runs per batch so that a batch lasts at least [`MIN_SAMPLE_MS`] and at least ten ticks of
/// the timer, from the fastest warm-up run (a slower first estimate only makes batches longer).
pub fn runs_per_sample(fastest_run_ms: f64, timer_resolution_ms: f64) -> usize {
    let target = MIN_SAMPLE_MS.max(10.0 * timer_resolution_ms);
    if !(fastest_run_ms.is_finite() && fastest_run_ms > 0.0) {
        // Faster than one tick: as many runs as allowed.
        return MAX_RUNS_PER_SAMPLE;
    }
    ((target / fastest_run_ms).ceil() as usize).clamp(1, MAX_RUNS_PER_SAMPLE)
}

/// The smallest step between distinct clock readings (ms), from a run of readings; `None` when
/// the clock never moved.
pub fn timer_resolution(readings: &[f64]) -> Option<f64> {
    readings
        .windows(2)
        .filter_map(|w| match w {
            [a, b] if b > a => Some(b - a),
            _ => None,
        })
        .min_by(f64::total_cmp)
}

/// Median and range of per-run times (ms) over the samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// From per-run times; `None` without a finite positive one.
    pub fn of(per_run_ms: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = per_run_ms
            .iter()
            .copied()
            .filter(|t| t.is_finite() && *t > 0.0)
            .collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let upper = *v.get(n / 2)?;
        let median = match n % 2 {
            1 => upper,
            _ => 0.5 * (v.get(n / 2 - 1).copied()? + upper),
        };
        Some(Spread {
            median,
            min: *v.first()?,
            max: *v.last()?,
        })
    }

    /// Giga-operations per second (2·M·K·N per run) at the median, and at the slowest and the
    /// fastest sample (in that order: lowest GOPS first).
    pub fn gops(&self, ops_per_run: f64) -> (f64, f64, f64) {
        let g = |ms: f64| ops_per_run / (ms * 1e6);
        (g(self.median), g(self.max), g(self.min))
    }

    /// Half the range relative to the median, e.g. 0.04 for ±4 %.
    pub fn relative_half_range(&self) -> f64 {
        0.5 * (self.max - self.min) / self.median
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_last_at_least_five_ms_and_ten_ticks() {
        assert_eq!(runs_per_sample(0.13, 0.1), 39); // the 1×2048×2048 GEMV
        assert_eq!(runs_per_sample(2.0, 0.1), 3);
        assert_eq!(runs_per_sample(9.0, 0.1), 1);
        assert_eq!(runs_per_sample(0.3, 1.0), 34); // a 1 ms clock: 10 ms batches
        assert_eq!(runs_per_sample(0.0, 0.1), MAX_RUNS_PER_SAMPLE);
        assert_eq!(runs_per_sample(f64::NAN, 0.1), MAX_RUNS_PER_SAMPLE);
        assert_eq!(runs_per_sample(1e-6, 0.005), MAX_RUNS_PER_SAMPLE);
    }

    #[test]
    fn resolution_is_the_smallest_step() {
        assert_eq!(
            timer_resolution(&[1.0, 1.0, 1.1, 1.1, 1.3]),
            Some(0.10000000000000009)
        );
        assert_eq!(timer_resolution(&[2.0, 2.0]), None);
        assert_eq!(timer_resolution(&[]), None);
    }

    #[test]
    fn spread_is_median_and_range() {
        let s = Spread::of(&[3.0, 1.0, 2.0, f64::NAN, 0.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of(&[1.0, 2.0, 4.0, 8.0]).unwrap().median, 3.0);
        assert!(Spread::of(&[]).is_none());
        let (med, low, high) = s.gops(2e6);
        assert_eq!((med, low, high), (1.0, 2.0 / 3.0, 2.0));
        assert_eq!(s.relative_half_range(), 0.5);
    }
}
