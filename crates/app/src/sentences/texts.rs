//! The whole-model chapter's and the layer chapters' default texts and how much of them a link
//! carries. A leaf: the controls' defaults come from here.

/// The most text a link carries, in bytes once percent-encoded (an English letter is one
/// byte, a space `+`, a Hangul syllable nine). Common web servers refuse request lines over
/// 8 kB (nginx's and Apache's defaults), so a link of the chapter stays below that; the box
/// holds no more than a link can carry, so every view is a link.
pub const MAX_TEXT_BYTES: usize = 7_000;

/// The sentences the chapter opens with: two paraphrase pairs, two unrelated sentences (one with
/// a number) and a long one.
pub const DEFAULT_TEXT: &str = include_str!("default.txt");

/// The sentence the layer chapters' "activations of your sentence" start from.
pub const OWN_DEFAULT: &str =
    "Quantization makes a neural network smaller and faster, but are the outliers important?";
