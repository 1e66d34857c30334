//! A chart: a `<canvas>` drawn with plotters, sized to its container, crisp on HiDPI screens
//! (the backing store is CSS size × devicePixelRatio and every font and stroke is scaled by the
//! same factor), redrawn when its data, the theme or its width change, and downloadable as PNG.

use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;

use crate::ui::dom;
use crate::ui::state::use_app;
use quantlab_app::i18n::Msg;

pub type Area = DrawingArea<CanvasBackend, Shift>;

/// Colours and sizes a drawing function needs. Sizes are in device pixels already scaled.
#[derive(Clone, Debug)]
pub struct ChartTheme {
    pub dpr: f64,
    /// The raw 2-D context, for the few shapes drawn in bulk without plotters (see `plot`).
    pub ctx: Option<web_sys::CanvasRenderingContext2d>,
    pub dark: bool,
    pub bg: RGBColor,
    pub fg: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    /// Categorical series colours (colour-blind-safe order, Okabe–Ito based).
    pub series: [RGBColor; 6],
}

impl ChartTheme {
    pub fn new(dark: bool, dpr: f64) -> Self {
        if dark {
            ChartTheme {
                dpr,
                ctx: None,
                dark,
                bg: RGBColor(0x16, 0x1a, 0x22),
                fg: RGBColor(0xe6, 0xe9, 0xef),
                muted: RGBColor(0x9a, 0xa3, 0xb2),
                grid: RGBColor(0x2c, 0x33, 0x40),
                series: [
                    RGBColor(0x5a, 0xb4, 0xff),
                    RGBColor(0xff, 0xa6, 0x3d),
                    RGBColor(0x4c, 0xd6, 0xa0),
                    RGBColor(0xff, 0x6b, 0x8b),
                    RGBColor(0xc7, 0x9b, 0xff),
                    RGBColor(0xf0, 0xe4, 0x42),
                ],
            }
        } else {
            ChartTheme {
                dpr,
                ctx: None,
                dark,
                bg: RGBColor(0xff, 0xff, 0xff),
                fg: RGBColor(0x1d, 0x23, 0x2e),
                muted: RGBColor(0x5d, 0x67, 0x78),
                grid: RGBColor(0xe6, 0xe9, 0xef),
                series: [
                    RGBColor(0x00, 0x72, 0xb2),
                    RGBColor(0xe6, 0x7e, 0x00),
                    RGBColor(0x00, 0x9e, 0x73),
                    RGBColor(0xcc, 0x33, 0x55),
                    RGBColor(0x7b, 0x4f, 0xc8),
                    RGBColor(0xb8, 0x9b, 0x00),
                ],
            }
        }
    }

    /// A length in CSS pixels, in device pixels.
    pub fn px(&self, css: f64) -> u32 {
        (css * self.dpr).round().max(1.0) as u32
    }

    pub fn color(&self, i: usize) -> RGBColor {
        // `series` is a non-empty fixed array, so `% len` is in bounds; `get` keeps clippy's
        // indexing audit (scripts/panic-audit.sh) quiet without an exception.
        self.series
            .get(i % self.series.len())
            .copied()
            .unwrap_or(self.fg)
    }

    pub fn text(&self, css_size: f64) -> TextStyle<'static> {
        ("system-ui, sans-serif", css_size * self.dpr)
            .into_font()
            .color(&self.fg)
    }

    pub fn muted_text(&self, css_size: f64) -> TextStyle<'static> {
        ("system-ui, sans-serif", css_size * self.dpr)
            .into_font()
            .color(&self.muted)
    }
}

/// Where the plot area of a chart is, in CSS pixels inside the canvas, and which values its x
/// axis spans: lets HTML overlays (draggable handles, the inspector) line up with the drawing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct XMap {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub v0: f64,
    pub v1: f64,
}

impl XMap {
    /// From a plotters chart's pixel range (device pixels) and its x value range.
    pub fn from_pixels(
        x_px: std::ops::Range<i32>,
        y_px: std::ops::Range<i32>,
        v: std::ops::Range<f64>,
        dpr: f64,
    ) -> Self {
        XMap {
            left: f64::from(x_px.start) / dpr,
            right: f64::from(x_px.end) / dpr,
            top: f64::from(y_px.start) / dpr,
            bottom: f64::from(y_px.end) / dpr,
            v0: v.start,
            v1: v.end,
        }
    }

    pub fn is_ready(&self) -> bool {
        self.right > self.left && self.v1 > self.v0
    }

    pub fn px(&self, v: f64) -> f64 {
        if !self.is_ready() {
            return self.left;
        }
        self.left + (v - self.v0) / (self.v1 - self.v0) * (self.right - self.left)
    }

    pub fn value(&self, px: f64) -> f64 {
        if !self.is_ready() {
            return self.v0;
        }
        self.v0 + (px - self.left) / (self.right - self.left) * (self.v1 - self.v0)
    }
}

/// What a drawing function returns; an error is shown on the canvas instead of a blank box.
pub type DrawResult = Result<(), String>;

/// Turns any plotters error into the string shown on the canvas.
pub fn de<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// A chart card. `draw` runs inside an effect, so every signal it reads is tracked and the chart
/// redraws exactly when its inputs change.
#[component]
pub fn Chart(
    /// `data-testid` of the canvas and the PNG file name.
    id: &'static str,
    /// Accessible description and caption.
    #[prop(into)]
    caption: Signal<String>,
    /// Height / width.
    #[prop(default = 0.5)]
    aspect: f64,
    draw: impl Fn(&Area, &ChartTheme) -> DrawResult + 'static,
    /// HTML laid over the canvas (handles, hover layers), positioned against `.chart-wrap`.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let app = use_app();
    let canvas_ref = NodeRef::<html::Canvas>::new();
    let wrap_ref = NodeRef::<html::Div>::new();
    let width = RwSignal::new(0.0f64);
    let draw = Rc::new(draw);

    // Follow the container's width (layout changes, phone rotation, presenter mode).
    Effect::new(move |_| {
        let Some(wrap) = wrap_ref.get() else { return };
        width.set(wrap.client_width() as f64);
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(
            move |entries: js_sys::Array| {
                if let Some(entry) = entries.get(0).dyn_ref::<web_sys::ResizeObserverEntry>() {
                    let w = entry.content_rect().width();
                    if (w - width.get_untracked()).abs() >= 1.0 {
                        width.set(w);
                    }
                }
            },
        );
        if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
            obs.observe(&wrap);
            on_cleanup(move || obs.disconnect());
        }
        cb.forget(); // owned by the observer for the element's lifetime
    });

    Effect::new(move |_| {
        let css_w = width.get().floor();
        let dark = app.dark();
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        if css_w < 10.0 {
            return;
        }
        let dpr = dom::device_pixel_ratio();
        let css_h = (css_w * aspect).clamp(160.0, 560.0).floor();
        let (pw, ph) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
        if canvas.width() != pw || canvas.height() != ph {
            canvas.set_width(pw);
            canvas.set_height(ph);
        }
        let style = web_sys::HtmlElement::style(&canvas);
        let h = format!("{css_h}px");
        if style.get_property_value("height").ok().as_deref() != Some(h.as_str()) {
            let _ = style.set_property("height", &h);
        }
        let mut theme = ChartTheme::new(dark, dpr);
        theme.ctx = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into().ok());
        let Some(backend) = CanvasBackend::with_canvas_object(canvas) else {
            return;
        };
        let root = backend.into_drawing_area();
        let _ = root.fill(&theme.bg);
        let t0 = dom::now_ms();
        let drawn = draw(&root, &theme);
        crate::ui::perf::record_draw(id, dom::now_ms() - t0);
        if let Err(msg) = drawn {
            let _ = root.fill(&theme.bg);
            let _ = root.draw_text(
                &msg,
                &theme.muted_text(13.0),
                (theme.px(12.0) as i32, theme.px(20.0) as i32),
            );
        }
        let _ = root.present();
    });

    let download = move |_| {
        if let Some(c) = canvas_ref.get() {
            dom::download_canvas_png(&c, id);
        }
    };

    view! {
        <figure class="chart">
            <div class="chart-wrap" node_ref=wrap_ref>
                <canvas node_ref=canvas_ref data-testid=id role="img" aria-label=move || caption.get()></canvas>
                {children.map(|c| c())}
            </div>
            <figcaption>
                <span>{move || caption.get()}</span>
                <button type="button" class="tool small" data-testid=format!("{id}-png")
                    title=move || app.t(Msg::DownloadPngTitle) on:click=download>
                    "⤓ "{move || app.t(Msg::DownloadPng)}
                </button>
            </figcaption>
        </figure>
    }
}
