//! Every subcommand's argument parser on arbitrary argument lists (the stable, bounded twin of
//! the `cli_args` cargo-fuzz target in fuzz/): `parse_args` never panics, errors carry a short
//! message, and accepted values respect the documented ranges.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use quantlab_cli::args::{parse_args, Command, Parsed};
use quantlab_engine::Granularity;

/// Words the parsers know, and values at and beyond their limits.
fn word() -> impl Strategy<Value = String> {
    let known: Vec<&str> = vec![
        "quantize",
        "stats",
        "outliers",
        "smooth",
        "sweep",
        "rotate",
        "help",
        "-h",
        "--help",
        "--input",
        "--bits",
        "--scheme",
        "--range",
        "--unsigned",
        "--signed",
        "--granularity",
        "--calib",
        "--rounding",
        "--skip-nonfinite",
        "--out",
        "--axis",
        "--top",
        "--bins",
        "--x",
        "--w",
        "--w-bits",
        "--a-bits",
        "--act",
        "--alpha",
        "--alphas",
        "--rotation",
        "--init",
        "--lr",
        "--momentum",
        "--block",
        "--grad-cols",
        "--seed",
        "x.npy",
        "sym",
        "asym",
        "narrow",
        "full",
        "even",
        "away",
        "token",
        "tensor",
        "channel",
        "channel:0",
        "channel:1",
        "channel:2",
        "group:0",
        "group:64",
        "group:64,0",
        "group:7,5",
        "group:,",
        "group:99999999999999999999",
        "minmax",
        "mse",
        "entropy",
        "kl",
        "moving",
        "moving:0.01",
        "moving:0,0",
        "moving:1,18446744073709551615",
        "percentile:99.9",
        "percentile:50",
        "percentile:NaN",
        "manual:-1,1",
        "manual:1,-1",
        "manual:inf,1",
        "manual:",
        "0:1:0.05",
        "0:1:0",
        "1:0:0.1",
        "0:1:1e-300",
        "NaN:1:0.1",
        "0:1",
        "none",
        "hadamard",
        "hadamard-block:0",
        "hadamard-block:3",
        "random:1",
        "random:",
        "learned",
        "learned:0",
        "learned:100000",
        "learned:100001",
        "0",
        "1",
        "2",
        "8",
        "9",
        "-1",
        "255",
        "256",
        "1e9",
        "inf",
        "-inf",
        "NaN",
        "0.5",
        "1.5",
        "",
        "=",
        "--",
        "--bits=4",
        "--bits=",
        "--unsigned=1",
        "8,4",
        "--format",
        "mxfp4",
        "nvfp4",
        "e4m3",
        "fp16",
        "int",
        "8,,4",
        "1,2,3,4,5,6,7,8,9",
    ];
    prop_oneof![6 => prop::sample::select(known).prop_map(String::from), 1 => ".{0,16}", 1 => "--[a-z-]{0,12}(=.{0,6})?"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_args_never_panics(args in prop::collection::vec(word(), 0..12)) {
        match parse_args(&args) {
            Ok(Parsed::Help(text)) => prop_assert!(text.contains("quantlab")),
            Ok(Parsed::Run(Command::Quantize(q))) => {
                prop_assert!((2..=8).contains(&q.bits()));
                let _ = q.check_format();
                match q.granularity() {
                    Granularity::PerChannel { axis } => prop_assert!(axis <= 1),
                    Granularity::PerGroup { axis, size } => prop_assert!(axis <= 1 && size >= 1),
                    _ => {}
                }
            }
            Ok(Parsed::Run(Command::Sweep(s))) => {
                let (a, b, st) = s.alphas;
                prop_assert!((0.0..=1.0).contains(&a) && (0.0..=1.0).contains(&b) && a <= b && st > 0.0);
                prop_assert!((b - a) / st <= 10_000.0);
            }
            Ok(Parsed::Run(Command::Smooth(s))) => prop_assert!((0.0..=1.0).contains(&s.alpha)),
            Ok(Parsed::Run(Command::Outliers(o))) => prop_assert!(o.bits.iter().all(|b| (2..=8).contains(b))),
            Ok(_) => {}
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                prop_assert!(e.message.chars().count() < 2000, "{} chars", e.message.chars().count());
            }
        }
    }

    #[test]
    fn arbitrary_text_arguments(args in prop::collection::vec(".{0,40}", 0..6), cmd in prop::sample::select(vec!["quantize", "stats", "outliers", "smooth", "sweep", "rotate"])) {
        let mut all = vec![cmd.to_string()];
        all.extend(args);
        if let Err(e) = parse_args(&all) {
            prop_assert!(!e.message.is_empty());
        }
    }
}

#[test]
fn hostile_arguments() {
    let long = "x".repeat(100_000);
    for args in [
        vec!["quantize".to_string(), format!("--{long}")],
        vec![
            "quantize".into(),
            "--input".into(),
            long.clone(),
            "--bits".into(),
            long.clone(),
        ],
        vec![long.clone()],
        vec![
            "sweep".into(),
            "--x".into(),
            "a".into(),
            "--w".into(),
            "b".into(),
            "--alphas".into(),
            "0:1:1e-300".into(),
        ],
        vec![
            "rotate".into(),
            "--x".into(),
            "a".into(),
            "--w".into(),
            "b".into(),
            "--rotation".into(),
            format!("learned:{long}"),
        ],
        vec![
            "outliers".into(),
            "--x".into(),
            "a".into(),
            "--bits".into(),
            ",".repeat(10_000),
        ],
        vec!["\u{0}".into(), "\u{feff}".into()],
    ] {
        if let Err(e) = parse_args(&args) {
            assert!(
                e.message.chars().count() < 2000,
                "{}",
                e.message.chars().count()
            );
        }
    }
}
