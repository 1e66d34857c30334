//! quantlab in the browser: the Leptos app (`ui`, wasm32 only) over the app model
//! (`quantlab-app`) and the engine (`quantlab-engine`). See the README's Architecture section.

#[cfg(target_arch = "wasm32")]
pub mod ui;

/// The seminar's formulas as MathML, converted from LaTeX by `build.rs`.
pub mod formulas {
    include!(concat!(env!("OUT_DIR"), "/formulas.rs"));
}
