//! Native command-line front end to the engine (arrives with the engine).
fn main() {}
