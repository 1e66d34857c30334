//! The `quantlab` command line, parsed by hand into a [`Command`].
//!
//! [`parse_args`] is a pure function (no I/O, no panics) so it can be unit-tested and fuzzed;
//! the binary in `src/bin/quantlab.rs` only runs what it returns. To add a subcommand: add a
//! `Command` variant, a `parse_<name>` function built on [`Opts`], a line in [`HELP`] and a
//! help text in [`help_text`].

use std::fmt;

use quantlab_engine::calibrate::{Calibrator, DEFAULT_MOMENTUM};
use quantlab_engine::granularity::Granularity;
use quantlab_engine::round::Rounding;

/// The main help text (`quantlab --help`).
pub const HELP: &str = "\
quantlab: quantize .npy tensors the way the quantlab explainer does, from the command line.

USAGE:
    quantlab <COMMAND> [OPTIONS]
    quantlab <COMMAND> --help

COMMANDS:
    quantize   Calibrate a range, quantize, dequantize, and print scale, zero-point and errors
    stats      Print shape, min/max/mean/std, kurtosis and the channels with the largest |x|
    outliers   Outlier channels of X, whether they matter for X·W, and per-tensor/token/channel
               activation quantization
    smooth     SmoothQuant one layer (X, W) at one migration strength alpha
    sweep      SmoothQuant error of one layer over a range of alpha, and the best alpha
    rotate     Rotate one layer (Hadamard, random, learned) and measure the quantization error
    help       Print this help, or `quantlab help <COMMAND>` for one command

Input files are NumPy .npy (versions 1.0/2.0/3.0; float32/64/16, int8/16/32/64, uint8; 1-D or
2-D; C or Fortran order). Results are printed as one JSON object on stdout. Errors go to
stderr and the exit code is 2.
";

/// `quantlab quantize --help`.
pub const QUANTIZE_HELP: &str = "\
quantlab quantize: calibrate, quantize and measure the round-trip error of a tensor.

USAGE:
    quantlab quantize --input X.npy [OPTIONS]

OPTIONS:
    --input PATH          The .npy tensor (1-D, or 2-D as tokens x channels). Required.
    --bits B              Bit width, 2..8 [default: 8]
    --scheme sym|asym     Symmetric (z fixed, s = max|x| / ((qmax-qmin)/2)) or asymmetric
                          (s = (beta-alpha)/(qmax-qmin), z fitted) [default: asym]
    --range narrow|full   narrow: 2^B-1 levels, int8 = [-127, 127] so s = (beta-alpha)/254 as in
                          the seminar; full: 2^B levels, int8 = [-128, 127] [default: narrow]
    --unsigned            Unsigned codes (uint8 = [0, 255], narrow [0, 254]) instead of signed
    --granularity G       tensor | channel:AXIS | token | group:SIZE[,AXIS] [default: tensor]
                            channel:1 = one scale per column (channel), channel:0 = per row;
                            token = one scale per row; group:SIZE = groups of SIZE consecutive
                            values along AXIS (default 1, the last axis); SIZE must divide it
    --calib C             How the range [alpha, beta] is found [default: minmax]
                            minmax           min and max of the data (PyTorch MinMaxObserver)
                            moving[:M[,B]]   moving average of per-batch min/max, momentum M
                                             [0.01], batches of B values [one row] (PyTorch
                                             MovingAverageMinMaxObserver)
                            percentile:P     P-th percentile of |x| (sym) or of each tail (asym)
                            mse              the shrunken min-max range with the least MSE
                            entropy          TensorRT KL-divergence threshold (2048 bins)
                            manual:A,B       the range [A, B] you give (A < B)
    --rounding even|away  Ties of round(x/s): half to even (like torch.round) or away from 0
                          [default: even]
    --skip-nonfinite      Ignore NaN/Inf values instead of stopping with an error
    --out PATH            Write the dequantized tensor (float32 .npy, same shape)

OUTPUT (JSON): scale, zero_point, alpha, beta (arrays with one entry per tensor/channel/token/
group, in row-major order of param_shape), mse, rmse, sqnr_db (null if the error is 0),
max_abs_err, rel_err, clipped_fraction, rounding_mse, clipping_mse (rounding_mse +
clipping_mse = mse), plus the scheme and the shape.
";

/// `quantlab stats --help`.
pub const STATS_HELP: &str = "\
quantlab stats: describe a tensor before quantizing it.

USAGE:
    quantlab stats --input X.npy [OPTIONS]

OPTIONS:
    --input PATH        The .npy tensor. Required.
    --axis A            For 2-D tensors, the axis that indexes channels [default: 1, columns]
    --top K             How many channels to list by max|x| [default: 10]
    --bins N            Also print an N-bin histogram over [min, max]
    --skip-nonfinite    Ignore NaN/Inf values instead of stopping with an error

OUTPUT (JSON): shape, dtype, n, min, max, mean, std (population), kurtosis (Pearson, Gaussian
= 3; null for constant data), absmax, and top_channels (channel index, absmax, min, max).
";

/// `quantlab smooth --help`.
pub const SMOOTH_HELP: &str = concat!(
    "\
quantlab smooth: SmoothQuant (Xiao et al. 2023) on one linear layer Y = X·W.

USAGE:
    quantlab smooth --x X.npy --w W.npy --alpha A [OPTIONS]

Scales s_c = max(max|X[:,c]|^A / max(max|W[c,:]|, 1e-5)^(1-A), 1e-5) (the authors' smooth.py),
X' = X / s per column, W' = s·W per row, so X'·W' = X·W. Then both are fake-quantized as in their
fake_quant.py (symmetric absmax, q_max = 2^(B-1) - 1, round half to even; weights per output
channel) and the error is ||Q(X')·Q(W') - X·W||_F / ||X·W||_F (bias left out).

OPTIONS:
    --alpha A             Migration strength, 0..1 (0 is not 'no smoothing'). Required.
",
    "    --x PATH              Activations X, tokens x C_in (.npy). Required.
    --w PATH              Weights W, C_in x C_out, Y = X·W (.npy; float16 files are widened to
                          float32). Required.
    --w-bits B            Weight bits, 2..8 [default: 8]
    --a-bits B            Activation bits, 2..8 [default: 8]
    --act token|tensor    Activation scales per token (row of X) or per tensor [default: token]
",
    "
OUTPUT (JSON): alpha, rel_err, baseline_rel_err (no smoothing, same bits), x_rel_err,
w_rel_err, smooth_scales (one per input channel), fp_identity_rel_err and fp_identity_max_rel
((X/s)·(s·W) in float32 against X·W in float64: the identity is exact up to rounding),
fp_plain_rel_err (X·W itself in float32, for comparison), and the settings.
"
);

/// `quantlab sweep --help`.
pub const SWEEP_HELP: &str = concat!(
    "\
quantlab sweep: the SmoothQuant error of one layer for every alpha of a grid.

USAGE:
    quantlab sweep --x X.npy --w W.npy [OPTIONS]

OPTIONS:
    --alphas START:END:STEP   The grid, inclusive end, alpha_i = START + i·STEP (no drift)
                              [default: 0:1:0.05, 21 points]
",
    "    --x PATH              Activations X, tokens x C_in (.npy). Required.
    --w PATH              Weights W, C_in x C_out, Y = X·W (.npy; float16 files are widened to
                          float32). Required.
    --w-bits B            Weight bits, 2..8 [default: 8]
    --a-bits B            Activation bits, 2..8 [default: 8]
    --act token|tensor    Activation scales per token (row of X) or per tensor [default: token]
",
    "
OUTPUT (JSON): baseline_rel_err (no smoothing), points (a list of {alpha, rel_err}),
best_alpha and best_rel_err (the first smallest), and the settings.
"
);

/// `quantlab rotate --help`.
pub const ROTATE_HELP: &str = concat!(
    "\
quantlab rotate: rotate one layer (QuaRot / SpinQuant) and measure the quantization error.

USAGE:
    quantlab rotate --x X.npy --w W.npy --rotation R [OPTIONS]

X' = X·R and W' = R^T·W for an orthogonal R, so X'·W' = X·W; then the same fake quantization
and error as `quantlab smooth`.

OPTIONS:
    --rotation R          Required. One of:
                            none               R = I (the baseline)
                            hadamard           QuaRot's Hadamard: S_C/sqrt(C) for C = 2^k,
                                               kron(H12^T, S_{C/12})/sqrt(C) for C = 12·2^k
                            hadamard-block:B   block-diagonal Walsh-Hadamard, blocks of B
                                               channels (B a power of two dividing C)
                            random:SEED        Haar-random orthogonal (Householder QR of a
                                               seeded Gaussian matrix; slow for C = 1536)
                            learned:STEPS      SpinQuant-style Cayley SGD on the quantized
                                               output error of this layer, STEPS steps
",
    "    --x PATH              Activations X, tokens x C_in (.npy). Required.
    --w PATH              Weights W, C_in x C_out, Y = X·W (.npy; float16 files are widened to
                          float32). Required.
    --w-bits B            Weight bits, 2..8 [default: 8]
    --a-bits B            Activation bits, 2..8 [default: 8]
    --act token|tensor    Activation scales per token (row of X) or per tensor [default: token]
",
    "
    For learned:STEPS (the objective uses the bits and --act above):
    --init R              Starting rotation: none, hadamard, hadamard-block:B, random:SEED
                          [default: hadamard]
    --lr LR               Learning rate, relative to the starting loss [default: 0.2]
    --momentum M          Momentum in [0, 1) [default: 0.5]
    --block B             Channels per Cayley block, >= 2; >= C = full Cayley SGD [default: 32]
    --grad-cols N         Output columns sampled per gradient step, 0 = all [default: 256]
    --seed S              Seed of the column samples and block partitions [default: 0]

OUTPUT (JSON): rotation, rel_err, baseline_rel_err (R = I, same bits), x_rel_err, w_rel_err,
kurtosis_before/after (Pearson, all entries of X and X·R), token_kurtosis_before/after (per
token, averaged), max_over_median_channel_before/after (per-channel max|x|), fp_identity_rel_err
((X·R)·(R^T·W) in float32 vs X·W in float64), and for learned: loss_curve (the objective,
rel_err squared, after 0, 1, ..., STEPS steps) and the learning settings.
"
);

/// `quantlab outliers --help`.
pub const OUTLIERS_HELP: &str = "\
quantlab outliers: the activation outliers of X and what they do.

USAGE:
    quantlab outliers --x X.npy [--w W.npy] [OPTIONS]

OPTIONS:
    --x PATH          Activations X, tokens x channels (.npy). Required.
    --w PATH          Weights W (C_in x C_out) of the layer X feeds; enables the ablation and the
                      error of Y = X·W
    --top K           Channels to list by max|x|, and to ablate [default: 4]
    --bits LIST       Activation bit widths for the granularity table [default: 8,4]

OUTPUT (JSON): per-channel absmax summary (median, max/median, channels above 6x the median,
top channels), kurtosis (Pearson, all entries) and per-token kurtosis (mean); the granularity
table (per-tensor, per-token and per-channel activation quantization: error of X and, with --w,
of X·W with W kept in float); with --w also the weight absmax per input and output channel and
the ablation: ||Y_k - Y|| / ||Y|| after zeroing, or clipping to the median channel absmax, the
top 1 and top K channels.
";

/// A parse failure, with a message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
}

impl CliError {
    fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

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

/// `quantlab quantize` options.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeArgs {
    pub input: String,
    pub bits: u8,
    pub symmetric: bool,
    pub narrow: bool,
    pub signed: bool,
    pub granularity: Granularity,
    pub calib: CalibSpec,
    pub rounding: Rounding,
    pub skip_nonfinite: bool,
    pub out: Option<String>,
}

/// `quantlab stats` options.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsArgs {
    pub input: String,
    pub axis: usize,
    pub top: usize,
    pub bins: Option<usize>,
    pub skip_nonfinite: bool,
}

/// One linear layer and its quantization (`smooth`, `sweep`, `rotate`).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerArgs {
    pub x: String,
    pub w: String,
    pub w_bits: u8,
    pub a_bits: u8,
    pub act: quantlab_engine::linear::ActGranularity,
}

/// `quantlab smooth` options.
#[derive(Debug, Clone, PartialEq)]
pub struct SmoothArgs {
    pub layer: LayerArgs,
    pub alpha: f32,
}

/// `quantlab sweep` options.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepArgs {
    pub layer: LayerArgs,
    /// (start, end, step)
    pub alphas: (f64, f64, f64),
}

/// What `--rotation` asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum RotationArg {
    Fixed(quantlab_engine::rotate::Rotation),
    Learned { steps: usize },
}

/// `quantlab rotate` options.
#[derive(Debug, Clone, PartialEq)]
pub struct RotateArgs {
    pub layer: LayerArgs,
    pub rotation: RotationArg,
    pub init: quantlab_engine::rotate::Rotation,
    pub lr: f32,
    pub momentum: f32,
    pub block: usize,
    pub grad_cols: usize,
    pub seed: u64,
}

/// `quantlab outliers` options.
#[derive(Debug, Clone, PartialEq)]
pub struct OutliersArgs {
    pub x: String,
    pub w: Option<String>,
    pub top: usize,
    pub bits: Vec<u8>,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print help: the main text (`None`) or one command's.
    Help {
        topic: Option<String>,
    },
    Quantize(QuantizeArgs),
    Stats(StatsArgs),
    Smooth(SmoothArgs),
    Sweep(SweepArgs),
    Rotate(RotateArgs),
    Outliers(OutliersArgs),
}

/// The help text for a topic (`None` = main help); unknown topics get the main help.
pub fn help_text(topic: Option<&str>) -> &'static str {
    match topic {
        Some("quantize") => QUANTIZE_HELP,
        Some("stats") => STATS_HELP,
        Some("smooth") => SMOOTH_HELP,
        Some("sweep") => SWEEP_HELP,
        Some("rotate") => ROTATE_HELP,
        Some("outliers") => OUTLIERS_HELP,
        _ => HELP,
    }
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Command, CliError> {
    let Some((first, rest)) = args.split_first() else {
        return Ok(Command::Help { topic: None });
    };
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help {
            topic: rest.first().cloned(),
        }),
        "quantize" => wants_help(rest, "quantize").map_or_else(|| parse_quantize(rest), Ok),
        "stats" => wants_help(rest, "stats").map_or_else(|| parse_stats(rest), Ok),
        "smooth" => wants_help(rest, "smooth").map_or_else(|| parse_smooth(rest), Ok),
        "sweep" => wants_help(rest, "sweep").map_or_else(|| parse_sweep(rest), Ok),
        "rotate" => wants_help(rest, "rotate").map_or_else(|| parse_rotate(rest), Ok),
        "outliers" => wants_help(rest, "outliers").map_or_else(|| parse_outliers(rest), Ok),
        other => Err(CliError::new(format!(
            "unknown command '{}'; the commands are: quantize, stats, outliers, smooth, sweep, rotate, help (try `quantlab --help`)",
            clip(other)
        ))),
    }
}

fn wants_help(rest: &[String], topic: &str) -> Option<Command> {
    rest.iter()
        .any(|a| a == "--help" || a == "-h")
        .then(|| Command::Help {
            topic: Some(topic.to_string()),
        })
}

// Keeps error messages short when fed garbage.
fn clip(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        t.push('…');
    }
    t
}

/// Options of one subcommand: `--key value`, `--key=value` and `--flag`, each at most once.
pub struct Opts {
    command: &'static str,
    values: Vec<(&'static str, String)>,
    flags: Vec<&'static str>,
}

impl Opts {
    /// Splits `args` given the option names that take a value and the flag names.
    pub fn parse(
        command: &'static str,
        args: &[String],
        valued: &[&'static str],
        flags: &[&'static str],
    ) -> Result<Self, CliError> {
        let mut o = Opts {
            command,
            values: Vec::new(),
            flags: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            if let Some(&key) = valued.iter().find(|k| **k == name) {
                let v = match inline {
                    Some(v) => v,
                    None => it.next().cloned().ok_or_else(|| {
                        CliError::new(format!(
                            "{key} needs a value (see `quantlab {command} --help`)"
                        ))
                    })?,
                };
                if o.values.iter().any(|(k, _)| *k == key) {
                    return Err(CliError::new(format!("{key} is given twice")));
                }
                o.values.push((key, v));
            } else if let Some(&key) = flags.iter().find(|k| **k == name) {
                if inline.is_some() {
                    return Err(CliError::new(format!("{key} takes no value")));
                }
                if o.flags.contains(&key) {
                    return Err(CliError::new(format!("{key} is given twice")));
                }
                o.flags.push(key);
            } else {
                let mut known: Vec<&str> = valued.iter().chain(flags).copied().collect();
                known.sort_unstable();
                return Err(CliError::new(format!(
                    "unknown option '{}' for `quantlab {command}`; the options are: {}",
                    clip(a),
                    known.join(", ")
                )));
            }
        }
        Ok(o)
    }

    /// The value of an option, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a flag was given.
    pub fn flag(&self, key: &str) -> bool {
        self.flags.contains(&key)
    }

    /// A required option.
    pub fn required(&self, key: &str) -> Result<&str, CliError> {
        self.get(key).ok_or_else(|| {
            CliError::new(format!(
                "`quantlab {}` needs {key} (see `quantlab {} --help`)",
                self.command, self.command
            ))
        })
    }
}

fn number<T: std::str::FromStr>(key: &str, v: &str, what: &str) -> Result<T, CliError> {
    v.trim()
        .parse::<T>()
        .map_err(|_| CliError::new(format!("{key} expects {what}, got '{}'", clip(v))))
}

fn finite_f32(key: &str, v: &str) -> Result<f32, CliError> {
    let x: f32 = number(key, v, "a number")?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(CliError::new(format!(
            "{key} expects a finite number, got '{}'",
            clip(v)
        )))
    }
}

fn parse_quantize(args: &[String]) -> Result<Command, CliError> {
    let o = Opts::parse(
        "quantize",
        args,
        &[
            "--input",
            "--bits",
            "--scheme",
            "--range",
            "--granularity",
            "--calib",
            "--rounding",
            "--out",
        ],
        &["--unsigned", "--signed", "--skip-nonfinite"],
    )?;
    let input = o.required("--input")?.to_string();
    let bits = match o.get("--bits") {
        None => 8,
        Some(v) => {
            let b: u8 = number("--bits", v, "an integer from 2 to 8")?;
            if !(2..=8).contains(&b) {
                return Err(CliError::new(format!(
                    "--bits {b} is not supported: choose 2 to 8"
                )));
            }
            b
        }
    };
    let symmetric = match o.get("--scheme").unwrap_or("asym") {
        "sym" | "symmetric" => true,
        "asym" | "asymmetric" | "affine" => false,
        v => {
            return Err(CliError::new(format!(
                "--scheme expects sym or asym, got '{}'",
                clip(v)
            )))
        }
    };
    let narrow = match o.get("--range").unwrap_or("narrow") {
        "narrow" => true,
        "full" => false,
        v => {
            return Err(CliError::new(format!(
                "--range expects narrow or full, got '{}'",
                clip(v)
            )))
        }
    };
    if o.flag("--unsigned") && o.flag("--signed") {
        return Err(CliError::new(
            "--signed and --unsigned cannot both be given",
        ));
    }
    let rounding = match o.get("--rounding").unwrap_or("even") {
        "even" | "half-even" => Rounding::HalfEven,
        "away" | "half-away" => Rounding::HalfAway,
        v => {
            return Err(CliError::new(format!(
                "--rounding expects even or away, got '{}'",
                clip(v)
            )))
        }
    };
    Ok(Command::Quantize(QuantizeArgs {
        input,
        bits,
        symmetric,
        narrow,
        signed: !o.flag("--unsigned"),
        granularity: parse_granularity(o.get("--granularity").unwrap_or("tensor"))?,
        calib: parse_calib(o.get("--calib").unwrap_or("minmax"))?,
        rounding,
        skip_nonfinite: o.flag("--skip-nonfinite"),
        out: o.get("--out").map(str::to_string),
    }))
}

/// `tensor | channel:AXIS | token | group:SIZE[,AXIS]`.
pub fn parse_granularity(v: &str) -> Result<Granularity, CliError> {
    let axis = |s: &str| -> Result<usize, CliError> {
        let a: usize = number("--granularity", s, "an axis 0 or 1")?;
        if a > 1 {
            return Err(CliError::new(format!(
                "--granularity: axis {a} does not exist (tensors have axes 0 and 1)"
            )));
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
            let size: usize = number("--granularity", size, "a group size such as group:128")?;
            if size == 0 {
                return Err(CliError::new(
                    "--granularity: the group size must be at least 1",
                ));
            }
            Ok(Granularity::PerGroup {
                axis: ax.map(axis).transpose()?.unwrap_or(1),
                size,
            })
        }
        _ => Err(CliError::new(format!(
            "--granularity expects tensor, channel:AXIS, token or group:SIZE, got '{}'",
            clip(v)
        ))),
    }
}

/// `minmax | moving[:M[,B]] | percentile:P | mse | entropy | manual:A,B`.
pub fn parse_calib(v: &str) -> Result<CalibSpec, CliError> {
    let (kind, arg) = v.split_once(':').map_or((v, None), |(k, a)| (k, Some(a)));
    match (kind, arg) {
        ("minmax", None) => Ok(CalibSpec::MinMax),
        ("mse", None) => Ok(CalibSpec::Mse),
        ("entropy" | "kl", None) => Ok(CalibSpec::Entropy),
        ("moving", None) => Ok(CalibSpec::MovingAverage { momentum: DEFAULT_MOMENTUM, batch: None }),
        ("moving", Some(a)) => {
            let (m, b) = a.split_once(',').map_or((a, None), |(m, b)| (m, Some(b)));
            let momentum = finite_f32("--calib moving", m)?;
            if !(momentum > 0.0 && momentum <= 1.0) {
                return Err(CliError::new(format!("--calib moving: the momentum must be in (0, 1], got {momentum}")));
            }
            let batch = match b {
                None => None,
                Some(b) => {
                    let n: usize = number("--calib moving", b, "a batch size (values per batch)")?;
                    if n == 0 {
                        return Err(CliError::new("--calib moving: the batch size must be at least 1"));
                    }
                    Some(n)
                }
            };
            Ok(CalibSpec::MovingAverage { momentum, batch })
        }
        ("percentile", Some(p)) => {
            let p: f64 = number("--calib percentile", p, "a percentile such as percentile:99.9")?;
            if !(p > 50.0 && p <= 100.0) {
                return Err(CliError::new(format!("--calib percentile: P must be above 50 and at most 100, got {p}")));
            }
            Ok(CalibSpec::Percentile { p })
        }
        ("manual", Some(r)) => {
            let Some((a, b)) = r.split_once(',') else {
                return Err(CliError::new("--calib manual expects two numbers: manual:ALPHA,BETA"));
            };
            let (alpha, beta) = (finite_f32("--calib manual", a)?, finite_f32("--calib manual", b)?);
            if alpha >= beta {
                return Err(CliError::new(format!("--calib manual: α ({alpha}) must be smaller than β ({beta})")));
            }
            Ok(CalibSpec::Manual { alpha, beta })
        }
        _ => Err(CliError::new(format!(
            "--calib expects minmax, moving[:M[,B]], percentile:P, mse, entropy or manual:ALPHA,BETA, got '{}'",
            clip(v)
        ))),
    }
}

fn parse_stats(args: &[String]) -> Result<Command, CliError> {
    let o = Opts::parse(
        "stats",
        args,
        &["--input", "--axis", "--top", "--bins"],
        &["--skip-nonfinite"],
    )?;
    let axis: usize = o
        .get("--axis")
        .map_or(Ok(1), |v| number("--axis", v, "0 or 1"))?;
    if axis > 1 {
        return Err(CliError::new(format!(
            "--axis {axis} does not exist (tensors have axes 0 and 1)"
        )));
    }
    let bins = match o.get("--bins") {
        None => None,
        Some(v) => {
            let b: usize = number("--bins", v, "a number of bins from 1 to 1048576")?;
            if b == 0 || b > quantlab_engine::stats::MAX_BINS {
                return Err(CliError::new("--bins must be from 1 to 1048576"));
            }
            Some(b)
        }
    };
    Ok(Command::Stats(StatsArgs {
        input: o.required("--input")?.to_string(),
        axis,
        top: o
            .get("--top")
            .map_or(Ok(10), |v| number("--top", v, "a count"))?,
        bins,
        skip_nonfinite: o.flag("--skip-nonfinite"),
    }))
}

// ---- smooth / sweep / rotate / outliers ----

const LAYER_VALUED: [&str; 5] = ["--x", "--w", "--w-bits", "--a-bits", "--act"];

fn layer_opts(
    command: &'static str,
    args: &[String],
    extra: &[&'static str],
) -> Result<Opts, CliError> {
    let valued: Vec<&'static str> = LAYER_VALUED.iter().chain(extra).copied().collect();
    Opts::parse(command, args, &valued, &[])
}

fn bits_opt(o: &Opts, key: &str) -> Result<u8, CliError> {
    match o.get(key) {
        None => Ok(8),
        Some(v) => {
            let b: u8 = number(key, v, "an integer from 2 to 8")?;
            if (2..=8).contains(&b) {
                Ok(b)
            } else {
                Err(CliError::new(format!(
                    "{key} {b} is not supported: choose 2 to 8"
                )))
            }
        }
    }
}

fn layer_args(o: &Opts) -> Result<LayerArgs, CliError> {
    use quantlab_engine::linear::ActGranularity;
    let act = match o.get("--act").unwrap_or("token") {
        "token" | "per-token" => ActGranularity::PerToken,
        "tensor" | "per-tensor" => ActGranularity::PerTensor,
        v => {
            return Err(CliError::new(format!(
                "--act expects token or tensor, got '{}'",
                clip(v)
            )))
        }
    };
    Ok(LayerArgs {
        x: o.required("--x")?.to_string(),
        w: o.required("--w")?.to_string(),
        w_bits: bits_opt(o, "--w-bits")?,
        a_bits: bits_opt(o, "--a-bits")?,
        act,
    })
}

fn alpha_value(key: &str, v: &str) -> Result<f32, CliError> {
    let a = finite_f32(key, v)?;
    if (0.0..=1.0).contains(&a) {
        Ok(a)
    } else {
        Err(CliError::new(format!("{key} must be from 0 to 1, got {a}")))
    }
}

fn parse_smooth(args: &[String]) -> Result<Command, CliError> {
    let o = layer_opts("smooth", args, &["--alpha"])?;
    Ok(Command::Smooth(SmoothArgs {
        layer: layer_args(&o)?,
        alpha: alpha_value("--alpha", o.required("--alpha")?)?,
    }))
}

/// `START:END:STEP` with 0 ≤ START ≤ END ≤ 1 and STEP > 0 (kept in f64: the grid is
/// START + i·STEP rounded to f32 once).
pub fn parse_alpha_range(v: &str) -> Result<(f64, f64, f64), CliError> {
    let parts: Vec<&str> = v.split(':').collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(CliError::new(format!(
            "--alphas expects START:END:STEP such as 0:1:0.05, got '{}'",
            clip(v)
        )));
    };
    let num = |key: &str, s: &str| -> Result<f64, CliError> {
        let x: f64 = number(key, s, "a number")?;
        if x.is_finite() {
            Ok(x)
        } else {
            Err(CliError::new(format!(
                "{key} expects a finite number, got '{}'",
                clip(s)
            )))
        }
    };
    let (start, end, step) = (
        num("--alphas START", a)?,
        num("--alphas END", b)?,
        num("--alphas STEP", c)?,
    );
    for (k, x) in [("START", start), ("END", end)] {
        if !(0.0..=1.0).contains(&x) {
            return Err(CliError::new(format!(
                "--alphas {k} must be from 0 to 1, got {x}"
            )));
        }
    }
    if start > end {
        return Err(CliError::new(format!(
            "--alphas: START ({start}) is above END ({end})"
        )));
    }
    if step <= 0.0 {
        return Err(CliError::new(format!(
            "--alphas: STEP must be above 0, got {step}"
        )));
    }
    if (end - start) / step > 10_000.0 {
        return Err(CliError::new("--alphas: at most 10001 points"));
    }
    Ok((start, end, step))
}

fn parse_sweep(args: &[String]) -> Result<Command, CliError> {
    let o = layer_opts("sweep", args, &["--alphas"])?;
    Ok(Command::Sweep(SweepArgs {
        layer: layer_args(&o)?,
        alphas: parse_alpha_range(o.get("--alphas").unwrap_or("0:1:0.05"))?,
    }))
}

fn rotation_value(key: &str, v: &str) -> Result<quantlab_engine::rotate::Rotation, CliError> {
    quantlab_engine::rotate::Rotation::parse(v).map_err(|_| {
        CliError::new(format!(
            "{key} expects none, hadamard, hadamard-block:B, random:SEED or learned:STEPS, got '{}'",
            clip(v)
        ))
    })
}

fn parse_rotate(args: &[String]) -> Result<Command, CliError> {
    use quantlab_engine::rotate::learn::LearnConfig;
    let o = layer_opts(
        "rotate",
        args,
        &[
            "--rotation",
            "--init",
            "--lr",
            "--momentum",
            "--block",
            "--grad-cols",
            "--seed",
        ],
    )?;
    let spec = o.required("--rotation")?;
    let rotation = match spec.split_once(':') {
        Some(("learned", n)) => {
            let steps: usize = number(
                "--rotation learned",
                n,
                "a number of steps such as learned:100",
            )?;
            if steps == 0 || steps > 100_000 {
                return Err(CliError::new(
                    "--rotation learned:STEPS needs 1 to 100000 steps",
                ));
            }
            RotationArg::Learned { steps }
        }
        _ if spec == "learned" => RotationArg::Learned { steps: 100 },
        _ => RotationArg::Fixed(rotation_value("--rotation", spec)?),
    };
    let d = LearnConfig::default();
    let lr = o.get("--lr").map_or(Ok(d.lr), |v| finite_f32("--lr", v))?;
    if lr <= 0.0 {
        return Err(CliError::new(format!("--lr must be above 0, got {lr}")));
    }
    let momentum = o
        .get("--momentum")
        .map_or(Ok(d.momentum), |v| finite_f32("--momentum", v))?;
    if !(0.0..1.0).contains(&momentum) {
        return Err(CliError::new(format!(
            "--momentum must be in [0, 1), got {momentum}"
        )));
    }
    let block: usize = o.get("--block").map_or(Ok(d.block), |v| {
        number("--block", v, "a block size (channels)")
    })?;
    if block < 2 {
        return Err(CliError::new("--block must be at least 2"));
    }
    Ok(Command::Rotate(RotateArgs {
        layer: layer_args(&o)?,
        rotation,
        init: rotation_value("--init", o.get("--init").unwrap_or("hadamard"))?,
        lr,
        momentum,
        block,
        grad_cols: o
            .get("--grad-cols")
            .map_or(Ok(d.grad_cols), |v| number("--grad-cols", v, "a count"))?,
        seed: o
            .get("--seed")
            .map_or(Ok(0), |v| number("--seed", v, "a non-negative integer"))?,
    }))
}

fn parse_outliers(args: &[String]) -> Result<Command, CliError> {
    let o = Opts::parse("outliers", args, &["--x", "--w", "--top", "--bits"], &[])?;
    let mut bits = Vec::new();
    for b in o.get("--bits").unwrap_or("8,4").split(',') {
        let v: u8 = number("--bits", b, "a list of bit widths such as 8,4")?;
        if !(2..=8).contains(&v) {
            return Err(CliError::new(format!(
                "--bits {v} is not supported: choose 2 to 8"
            )));
        }
        bits.push(v);
    }
    Ok(Command::Outliers(OutliersArgs {
        x: o.required("--x")?.to_string(),
        w: o.get("--w").map(str::to_string),
        top: o
            .get("--top")
            .map_or(Ok(4), |v| number("--top", v, "a count"))?,
        bits,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn quantize_defaults_and_options() {
        let Command::Quantize(q) = parse_args(&args("quantize --input x.npy")).unwrap() else {
            panic!()
        };
        assert_eq!(
            (q.bits, q.symmetric, q.narrow, q.signed),
            (8, false, true, true)
        );
        assert_eq!(q.granularity, Granularity::PerTensor);
        assert_eq!(q.calib, CalibSpec::MinMax);
        let Command::Quantize(q) = parse_args(&args(
            "quantize --input=x.npy --bits 4 --scheme sym --range full --granularity group:64,0 --calib manual:-1.5,2 --rounding away --out y.npy --unsigned",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (q.bits, q.symmetric, q.narrow, q.signed),
            (4, true, false, false)
        );
        assert_eq!(q.granularity, Granularity::PerGroup { axis: 0, size: 64 });
        assert_eq!(
            q.calib,
            CalibSpec::Manual {
                alpha: -1.5,
                beta: 2.0
            }
        );
        assert_eq!(q.rounding, Rounding::HalfAway);
        assert_eq!(q.out.as_deref(), Some("y.npy"));
    }

    #[test]
    fn errors_and_help() {
        assert_eq!(parse_args(&[]).unwrap(), Command::Help { topic: None });
        assert_eq!(
            parse_args(&args("quantize --help")).unwrap(),
            Command::Help {
                topic: Some("quantize".into())
            }
        );
        for bad in [
            "quantize",
            "quantize --input",
            "quantize --input a --bits 9",
            "quantize --input a --bits x",
            "quantize --input a --scheme foo",
            "quantize --input a --calib manual:2,1",
            "quantize --input a --calib percentile:20",
            "quantize --input a --granularity group:0",
            "quantize --input a --granularity channel:2",
            "quantize --input a --input b",
            "quantize --input a --frobnicate",
            "frobnicate",
            "stats --input a --axis 3",
        ] {
            let e = parse_args(&args(bad));
            assert!(e.is_err(), "{bad}");
            assert!(!e.unwrap_err().message.is_empty());
        }
    }
}
