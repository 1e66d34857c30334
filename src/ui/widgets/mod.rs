//! The widget kit every chapter shares.

pub mod chart;
pub mod formula;
pub mod plot;
pub mod range_handles;
pub mod slider;

pub use chart::{Chart, ChartTheme};
pub use formula::Formula;
pub use slider::{Segmented, Slider};
