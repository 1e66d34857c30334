//! `quantlab_cli::args::parse_args` (every subcommand's parser) on arbitrary argument lists: the
//! input is split at NUL bytes into arguments. Never a panic; errors carry a message, and no
//! message echoes an unbounded amount of the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quantlab_cli::args::{parse_args, Parsed};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let args: Vec<String> = text.split('\0').map(str::to_string).collect();
    match parse_args(&args) {
        Ok(Parsed::Help(text)) => assert!(!text.is_empty()),
        Ok(_) => {}
        Err(e) => {
            assert!(!e.message.is_empty());
            assert!(
                e.message.chars().count() < 2000,
                "{} chars",
                e.message.chars().count()
            );
        }
    }
});
