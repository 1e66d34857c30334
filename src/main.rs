//! The web entry point Trunk builds.
fn main() {
    #[cfg(target_arch = "wasm32")]
    quantlab_web::ui::start();
}
