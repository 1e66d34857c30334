//! The Leptos app (client-side rendering). Only compiled for wasm32.
//!
//! Layout: `state` holds the app-wide state (the URL-backed [`ViewState`] and a few UI flags),
//! `shell` the frame around the chapters (header, contents, notices, prev/next, presenter mode),
//! `widgets` the small kit every chapter uses, and `chapters` one file per chapter.

pub mod chapters;
pub mod data;
pub mod dom;
pub mod fetch;
pub mod job;
pub mod kernels;
pub mod llm;
pub mod minilm;
pub mod perf;
pub mod shell;
pub mod state;
pub mod tour;
pub mod widgets;

use std::sync::Arc;

/// A shared, immutable result with pointer equality, so a `Memo` holding a large value (a tensor,
/// a round trip's histograms) notifies on recomputation without comparing the contents.
#[derive(Debug)]
pub struct Shared<T>(pub Arc<T>);

impl<T> Shared<T> {
    pub fn new(v: T) -> Self {
        Shared(Arc::new(v))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

use quantlab_app::i18n::{Lang, Msg};

/// Entry point called from `main`.
pub fn start() {
    install_panic_banner();
    dom::remove_boot_message();
    leptos::mount::mount_to_body(shell::App);
    // Once the first view is painted: which int8 kernel takes 8-bit weights on this machine
    // (relaxed build only, ~50 ms).
    leptos::prelude::set_timeout(
        kernels::choose_w8_kernel,
        std::time::Duration::from_millis(400),
    );
}

/// A panic should never happen, but if one does the page must say so instead of silently dying:
/// log it as usual, then show a banner built from plain DOM (the Leptos runtime may be unusable
/// after the trap that follows).
fn install_panic_banner() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let lang = dom::document_lang().unwrap_or(Lang::En);
        dom::show_error_banner(
            Msg::CrashTitle.text(lang),
            Msg::CrashBody.text(lang),
            Msg::Reload.text(lang),
            &info.to_string(),
        );
    }));
}

/// Deliberately panics so the end-to-end test can check the banner. Reachable only from the
/// browser console / test harness (`window.quantlabDebugPanic()`), never from the UI.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = quantlabDebugPanic)]
pub fn debug_panic() {
    #[allow(clippy::panic)]
    {
        panic!("quantlab debug panic (requested from the console)");
    }
}
