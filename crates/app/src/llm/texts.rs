//! What the language-model chapter reads before the reader types anything, and how much a link
//! may carry. A leaf: the controls' defaults come from here.

/// The prompt greedy decoding continues first (the issue's own check of the model).
pub const DEFAULT_PROMPT: &str = "The capital of France is";

/// Short prompts to pick from: facts the model knows, and openings that show its fluency.
pub const PROMPTS: [&str; 5] = [
    DEFAULT_PROMPT,
    "The largest planet in our solar system is",
    "To make a good cup of tea, you",
    "Once upon a time, in a small village,",
    "def fibonacci(n):",
];

/// Everyday English of our own (235 tokens), also the engine tests' fixture paragraph.
pub const DEFAULT_TEXT: &str = include_str!("default.txt");

/// Longest prompt a link carries (bytes of UTF-8).
pub const MAX_PROMPT_BYTES: usize = 400;

/// Longest paragraph a link carries (bytes of UTF-8; the whole link stays under the 8 kB
/// request lines web servers accept).
pub const MAX_TEXT_BYTES: usize = 6_000;

/// Most tokens one forward pass reads on the page (as `quantlab llm`); longer text is cut.
pub const MAX_TOKENS: usize = 2048;

/// Tokens each greedy continuation writes at most.
pub const MAX_NEW: usize = 32;
