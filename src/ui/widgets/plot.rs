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

fn css_color(c: RGBColor, opacity: f64) -> String {
    format!("rgba({},{},{},{opacity})", c.0, c.1, c.2)
}

/// Histogram bars `(lo, hi, height)`. Drawn straight on the canvas when it can be: one fill
/// style and one `fillRect` per bar, where plotters would re-send the style for every bar; with
/// hundreds of bars redrawn on every slider move that difference is most of the chart's cost.
pub fn histogram_bars(
    chart: &mut Chart2d,
    t: &ChartTheme,
    bins: &[(f64, f64, f64)],
    color: RGBColor,
    opacity: f64,
) -> Result<(), String> {
    let Some(ctx) = t.ctx.as_ref() else {
        chart
            .draw_series(bins.iter().filter(|b| b.2 > 0.0).map(|&(lo, hi, h)| {
                Rectangle::new([(lo, 0.0), (hi, h)], color.mix(opacity).filled())
            }))
            .map_err(de)?;
        return Ok(());
    };
    let (px, py) = chart.plotting_area().get_pixel_range();
    let clamp_x = |x: i32| x.clamp(px.start, px.end);
    let clamp_y = |y: i32| y.clamp(py.start, py.end);
    ctx.set_fill_style_str(&css_color(color, opacity));
    for &(lo, hi, h) in bins.iter().filter(|b| b.2 > 0.0) {
        let (x0, y0) = chart.backend_coord(&(lo, h));
        let (x1, y1) = chart.backend_coord(&(hi, 0.0));
        let (x0, x1, y0, y1) = (clamp_x(x0), clamp_x(x1), clamp_y(y0), clamp_y(y1));
        if x1 > x0 && y1 > y0 {
            ctx.fill_rect(
                f64::from(x0),
                f64::from(y0),
                f64::from(x1 - x0),
                f64::from(y1 - y0),
            );
        }
    }
    Ok(())
}

/// Tick labels of a log10 axis: "1e-3" at whole decades, nothing in between.
pub fn decade_tick(y: &f64) -> String {
    if (y - y.round()).abs() < 0.05 {
        format!("1e{}", y.round() as i32)
    } else {
        String::new()
    }
}

/// Many thin vertical lines (a grid) as one canvas path with a single stroke.
pub fn vlines(
    chart: &mut Chart2d,
    t: &ChartTheme,
    xs: impl Iterator<Item = f64>,
    color: RGBColor,
    opacity: f64,
) -> Result<(), String> {
    let y = chart.y_range();
    let x = chart.x_range();
    let Some(ctx) = t.ctx.as_ref() else {
        let style = color.mix(opacity).stroke_width(t.px(1.0));
        chart
            .draw_series(
                xs.filter(|v| *v >= x.start && *v <= x.end)
                    .map(|v| PathElement::new(vec![(v, y.start), (v, y.end)], style)),
            )
            .map_err(de)?;
        return Ok(());
    };
    ctx.begin_path();
    for v in xs.filter(|v| *v >= x.start && *v <= x.end) {
        let (x0, y0) = chart.backend_coord(&(v, y.end));
        let (_, y1) = chart.backend_coord(&(v, y.start));
        // Half-pixel offset: a 1-px line on a pixel centre stays crisp.
        let xc = f64::from(x0) + 0.5;
        ctx.move_to(xc, f64::from(y0));
        ctx.line_to(xc, f64::from(y1));
    }
    ctx.set_stroke_style_str(&css_color(color, opacity));
    ctx.set_line_width(f64::from(t.px(1.0)));
    ctx.stroke();
    Ok(())
}

/// A step outline over histogram bins (for overlaying a second distribution on filled bars).
pub fn histogram_outline(
    chart: &mut Chart2d,
    t: &ChartTheme,
    bins: &[(f64, f64, f64)],
    color: RGBColor,
) -> Result<(), String> {
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
    chart
        .draw_series(LineSeries::new(pts, color.stroke_width(t.px(1.5))))
        .map_err(de)?;
    Ok(())
}

/// A vertical marker across the plot with a label at the top.
pub fn vline(
    chart: &mut Chart2d,
    t: &ChartTheme,
    x: f64,
    color: RGBColor,
    label: &str,
    dashed: bool,
) -> Result<(), String> {
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
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, y.start), (x, y.end)],
                style,
            )))
            .map_err(de)?;
    }
    if !label.is_empty() {
        let font = ("system-ui, sans-serif", 12.0 * t.dpr)
            .into_font()
            .color(&color);
        chart
            .draw_series(std::iter::once(Text::new(
                label.to_string(),
                (x, y.end),
                font,
            )))
            .map_err(de)?;
    }
    Ok(())
}

/// A polyline.
pub fn line(
    chart: &mut Chart2d,
    t: &ChartTheme,
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    width_css: f64,
) -> Result<(), String> {
    chart
        .draw_series(LineSeries::new(pts, color.stroke_width(t.px(width_css))))
        .map_err(de)?;
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
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.32, 0.0), (x + 0.32, v)],
                t.color(i).filled(),
            )))
            .map_err(de)?;
        let font = t.text(12.0).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Bottom,
        ));
        chart
            .draw_series(std::iter::once(Text::new(value_fmt(v), (x, v), font)))
            .map_err(de)?;
    }
    Ok(())
}

/// Viridis-like colour for v in [0, 1]: linear between five anchors of matplotlib's viridis
/// (perceptually uniform, readable in grey scale and for colour-blind readers).
pub fn viridis(v: f64) -> [u8; 3] {
    const A: [[f64; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    } * 4.0;
    let i = (v.floor() as usize).min(3);
    let f = v - i as f64;
    let (Some(a), Some(b)) = (A.get(i), A.get(i + 1)) else {
        return [0; 3];
    }; // i ≤ 3: always Some
    let mut rgb = [0u8; 3];
    for ((c, &x), &y) in rgb.iter_mut().zip(a).zip(b) {
        *c = (x + (y - x) * f).round() as u8;
    }
    rgb
}

/// A heat map of `values` (row-major, `cols` per row, the first row drawn at the top, already
/// scaled to [0, 1]) filling the chart's plot area, one cell per value: the pixels are written
/// into an ImageData and drawn scaled with smoothing off, so 126 × 1536 cells cost one draw call
/// instead of 190k rectangles.
pub fn heatmap(
    chart: &mut Chart2d,
    t: &ChartTheme,
    cols: usize,
    values: impl Iterator<Item = f64>,
) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let Some(ctx) = t.ctx.as_ref() else {
        return Err("no canvas context".into());
    };
    let mut px = Vec::new();
    for v in values {
        let [r, g, b] = viridis(v);
        px.extend_from_slice(&[r, g, b, 255]);
    }
    let rows = px.len() / 4 / cols.max(1);
    if rows == 0 || cols == 0 || px.len() != rows * cols * 4 {
        return Err(format!(
            "a heat map of {} values does not fill rows of {cols}",
            px.len() / 4
        ));
    }
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let off: web_sys::HtmlCanvasElement = doc
        .create_element("canvas")
        .map_err(de)?
        .dyn_into()
        .map_err(|_| "canvas")?;
    off.set_width(cols as u32);
    off.set_height(rows as u32);
    let octx: web_sys::CanvasRenderingContext2d = off
        .get_context("2d")
        .map_err(de)?
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|_| "2d")?;
    let img = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&px),
        cols as u32,
        rows as u32,
    )
    .map_err(de)?;
    octx.put_image_data(&img, 0.0, 0.0).map_err(de)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    ctx.set_image_smoothing_enabled(false);
    ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
        &off,
        f64::from(xr.start),
        f64::from(yr.start),
        f64::from(xr.end - xr.start),
        f64::from(yr.end - yr.start),
    )
    .map_err(de)?;
    Ok(())
}

/// Many dots as one canvas path (filled or outlined), instead of one plotters element each.
pub fn scatter(
    chart: &mut Chart2d,
    t: &ChartTheme,
    pts: &[(f64, f64)],
    color: RGBColor,
    opacity: f64,
    radius_css: f64,
    filled: bool,
) -> Result<(), String> {
    let Some(ctx) = t.ctx.as_ref() else {
        let r = t.px(radius_css) as i32;
        chart
            .draw_series(pts.iter().map(|&p| {
                Circle::new(
                    p,
                    r,
                    if filled {
                        color.mix(opacity).filled()
                    } else {
                        color.mix(opacity).stroke_width(t.px(1.5))
                    },
                )
            }))
            .map_err(de)?;
        return Ok(());
    };
    let (x, y) = (chart.x_range(), chart.y_range());
    let r = radius_css * t.dpr;
    ctx.begin_path();
    for &(px, py) in pts
        .iter()
        .filter(|p| p.0 >= x.start && p.0 <= x.end && p.1 >= y.start && p.1 <= y.end)
    {
        let (cx, cy) = chart.backend_coord(&(px, py));
        ctx.move_to(f64::from(cx) + r, f64::from(cy));
        let _ = ctx.arc(f64::from(cx), f64::from(cy), r, 0.0, std::f64::consts::TAU);
    }
    if filled {
        ctx.set_fill_style_str(&css_color(color, opacity));
        ctx.fill();
    } else {
        ctx.set_stroke_style_str(&css_color(color, opacity));
        ctx.set_line_width(1.5 * t.dpr);
        ctx.stroke();
    }
    Ok(())
}
