//! The quantization engine: pure Rust on ndarray, no web dependency.
