//! Histograms as the function chapter draws them, in its integer and float views alike: the
//! bin count, bar heights on a linear or log scale, and the count axis's labels.

use quantlab_engine::Histogram;

use crate::ui::widgets::plot::tick;

pub(super) const BINS: usize = 160;

/// A bar's height: the count, or 1 + log10(count) on the log scale (0 stays 0).
pub(super) fn height(c: u32, log: bool) -> f64 {
    match (log, c) {
        (false, c) => f64::from(c),
        (true, 0) => 0.0,
        (true, c) => 1.0 + f64::from(c).log10(),
    }
}

pub(super) fn bins_of(h: &Histogram, log: bool) -> Vec<(f64, f64, f64)> {
    h.counts
        .iter()
        .enumerate()
        .map(|(k, &c)| (h.edge(k), h.edge(k + 1), height(c, log)))
        .collect()
}

pub(super) fn count_fmt(log: bool) -> impl Fn(&f64) -> String {
    move |y: &f64| {
        if !log {
            return tick(*y);
        }
        if *y < 0.5 {
            return "0".into();
        }
        // Only whole decades get a label; plotters' ticks in between stay blank.
        let d = y - 1.0;
        if (d - d.round()).abs() > 0.05 || d < -0.05 {
            return String::new();
        }
        match d.round() as i32 {
            0 => "1".into(),
            1 => "10".into(),
            2 => "100".into(),
            3 => "1k".into(),
            4 => "10k".into(),
            5 => "100k".into(),
            k => format!("1e{k}"),
        }
    }
}
