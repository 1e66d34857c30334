//! quantlab: an interactive explainer of neural-network quantization.
//!
//! `engine` is the pure-Rust quantization engine (no web dependency; compiled natively for
//! `cargo test` and the CLI, and to wasm32 for the browser). `chapters`, `i18n` and `urlstate`
//! are the UI's pure data (chapter list, translation table, URL state) so they too are tested
//! natively. `ui` is the Leptos app and only exists on wasm32.

pub mod engine;

#[cfg(target_arch = "wasm32")]
pub mod ui;

pub mod chapters;
pub mod datasets;
pub mod i18n;
pub mod models;
pub mod tour;
pub mod urlstate;

/// The seminar's formulas as MathML, converted from LaTeX by `build.rs`.
pub mod formulas {
    include!(concat!(env!("OUT_DIR"), "/formulas.rs"));
}
