//! The widget kit every chapter shares.

pub mod chart;
pub mod error_note;
pub mod formula;
pub mod plot;
pub mod range_handles;
pub mod slider;

pub use chart::{Chart, ChartTheme};
pub use error_note::{error_text, ErrorNote};
pub use formula::Formula;
pub use slider::{Segmented, Slider};
