//! The `quantlab` command line, parsed by hand into a [`Command`].
//!
//! [`parse_args`] is a pure function (no I/O, no panics) so it can be unit-tested and fuzzed;
//! the binary in `src/bin/quantlab.rs` only runs what it returns. To add a subcommand: add a
//! `Command` variant, a `parse_<name>` function built on [`Opts`], a line in [`HELP`] and a
//! help text in [`help_text`].

use std::fmt;

use super::calibrate::{Calibrator, DEFAULT_MOMENTUM};
use super::granularity::Granularity;
use super::round::Rounding;

/// The main help text (`quantlab --help`).
pub const HELP: &str = "\
quantlab: quantize .npy tensors the way the quantlab explainer does, from the command line.

USAGE:
    quantlab <COMMAND> [OPTIONS]
    quantlab <COMMAND> --help

COMMANDS:
    quantize   Calibrate a range, quantize, dequantize, and print scale, zero-point and errors
    stats      Print shape, min/max/mean/std, kurtosis and the channels with the largest |x|
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

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print help: the main text (`None`) or one command's.
    Help {
        topic: Option<String>,
    },
    Quantize(QuantizeArgs),
    Stats(StatsArgs),
}

/// The help text for a topic (`None` = main help); unknown topics get the main help.
pub fn help_text(topic: Option<&str>) -> &'static str {
    match topic {
        Some("quantize") => QUANTIZE_HELP,
        Some("stats") => STATS_HELP,
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
        other => Err(CliError::new(format!(
            "unknown command '{}'; the commands are: quantize, stats, help (try `quantlab --help`)",
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
            if b == 0 || b > crate::engine::stats::MAX_BINS {
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
