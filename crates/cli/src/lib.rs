//! The `quantlab` command line as a library, so the argument parser is unit-tested and fuzzed
//! without spawning the binary (`src/main.rs` only runs what it returns).

pub mod args;
