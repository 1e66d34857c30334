//! Chart kinds shared by the chapters, on top of plotters: labelled cartesian axes, histogram
//! bars, vertical markers, line series and categorical bars. Every function takes the
//! [`ChartTheme`] so sizes follow devicePixelRatio and colours follow the theme.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use super::chart::{de, Area, ChartTheme};

pub type Chart2d<'a> = ChartContext<'a, CanvasBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axis ranges must be finite and non-empty for plotters; widen degenerate ones.
pub fn sane_range(r: Range<f64>) -> Range<f64> {
    let (mut a, mut b) = (r.start, r.end);
    if !a.is_finite() || !b.is_finite() {
        return 0.0..1.0;
    }
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    if b - a < 1e-12 {
        let pad = if a.abs() > 1e-9 { a.abs() * 0.05 } else { 0.5 };
        return (a - pad)..(b + pad);
    }
    a..b
}

/// Compact tick labels: 0.00123 → "1.23e-3", 1234567 → "1.23e6", otherwise up to 3 decimals.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    // Float noise at the axis origin (e.g. 6.9e-18 between −0.04 and 0.04) reads as 0.
    if a < 1e-12 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        s.replace("e0", "").replace(".00e", "e")
    } else {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// Labelled axes with a light grid.
pub fn cartesian<'a>(
    area: &'a Area,
    t: &ChartTheme,
    x_label: &str,
    y_label: &str,
    x: Range<f64>,
    y: Range<f64>,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<Chart2d<'a>, String> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(t.px(10.0))
        .margin_right(t.px(16.0))
        .margin_left(t.px(6.0))
        .margin_bottom(t.px(4.0))
        .x_label_area_size(t.px(38.0))
        .y_label_area_size(t.px(58.0))
        .build_cartesian_2d(sane_range(x), sane_range(y))
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(7)
        .y_labels(5)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(y_fmt)
        .label_style(t.muted_text(11.0))
        .axis_desc_style(t.text(12.0))
        .axis_style(t.muted.stroke_width(t.px(1.0)))
        .bold_line_style(t.grid.stroke_width(t.px(1.0)))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(de)?;
    Ok(chart)
}

/// Histogram bars `(lo, hi, height)`.
pub fn histogram_bars(chart: &mut Chart2d, bins: &[(f64, f64, f64)], color: RGBColor, opacity: f64) -> Result<(), String> {
    chart
        .draw_series(bins.iter().filter(|b| b.2 > 0.0).map(|&(lo, hi, h)| {
            Rectangle::new([(lo, 0.0), (hi, h)], color.mix(opacity).filled())
        }))
        .map_err(de)?;
    Ok(())
}

/// A step outline over histogram bins (for overlaying a second distribution on filled bars).
pub fn histogram_outline(chart: &mut Chart2d, t: &ChartTheme, bins: &[(f64, f64, f64)], color: RGBColor) -> Result<(), String> {
    let mut pts = Vec::with_capacity(bins.len() * 2 + 2);
    if let Some(first) = bins.first() {
        pts.push((first.0, 0.0));
    }
    for &(lo, hi, h) in bins {
        pts.push((lo, h));
        pts.push((hi, h));
    }
    if let Some(last) = bins.last() {
        pts.push((last.1, 0.0));
    }
    chart.draw_series(LineSeries::new(pts, color.stroke_width(t.px(1.5)))).map_err(de)?;
    Ok(())
}

/// A vertical marker across the plot with a label at the top.
pub fn vline(chart: &mut Chart2d, t: &ChartTheme, x: f64, color: RGBColor, label: &str, dashed: bool) -> Result<(), String> {
    let y = chart.y_range();
    let style = color.stroke_width(t.px(if dashed { 1.0 } else { 2.0 }));
    if dashed {
        let n = 24;
        let step = (y.end - y.start) / n as f64;
        chart
            .draw_series((0..n).step_by(2).map(|i| {
                let y0 = y.start + step * i as f64;
                PathElement::new(vec![(x, y0), (x, y0 + step)], style)
            }))
            .map_err(de)?;
    } else {
        chart.draw_series(std::iter::once(PathElement::new(vec![(x, y.start), (x, y.end)], style))).map_err(de)?;
    }
    if !label.is_empty() {
        let font = ("system-ui, sans-serif", 12.0 * t.dpr).into_font().color(&color);
        chart
            .draw_series(std::iter::once(Text::new(label.to_string(), (x, y.end), font)))
            .map_err(de)?;
    }
    Ok(())
}

/// A polyline.
pub fn line(chart: &mut Chart2d, t: &ChartTheme, pts: Vec<(f64, f64)>, color: RGBColor, width_css: f64) -> Result<(), String> {
    chart.draw_series(LineSeries::new(pts, color.stroke_width(t.px(width_css)))).map_err(de)?;
    Ok(())
}

/// Categorical bars with the value printed above each bar.
pub fn bar_chart(
    area: &Area,
    t: &ChartTheme,
    labels: &[String],
    values: &[f64],
    y_label: &str,
    value_fmt: &dyn Fn(f64) -> String,
) -> Result<(), String> {
    let n = labels.len().max(1) as f64;
    let top = values.iter().cloned().fold(0.0f64, f64::max) * 1.18;
    let label_of = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(t.px(14.0))
        .margin_right(t.px(16.0))
        .margin_left(t.px(6.0))
        .x_label_area_size(t.px(30.0))
        .y_label_area_size(t.px(58.0))
        .build_cartesian_2d(-0.6..(n - 0.4), 0.0..sane_range(0.0..top).end)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(labels.len().max(1))
        .x_label_formatter(&label_of)
        .y_desc(y_label)
        .y_labels(5)
        .y_label_formatter(&|v| tick(*v))
        .label_style(t.muted_text(11.0))
        .axis_desc_style(t.text(12.0))
        .axis_style(t.muted.stroke_width(t.px(1.0)))
        .bold_line_style(t.grid.stroke_width(t.px(1.0)))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(de)?;
    for (i, &v) in values.iter().enumerate() {
        let x = i as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new([(x - 0.32, 0.0), (x + 0.32, v)], t.color(i).filled())))
            .map_err(de)?;
        let font = t.text(12.0).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Bottom,
        ));
        chart.draw_series(std::iter::once(Text::new(value_fmt(v), (x, v), font))).map_err(de)?;
    }
    Ok(())
}
