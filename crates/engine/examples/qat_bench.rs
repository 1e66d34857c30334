//! Native timings and accuracies of the QAT chapter's engine (no assertions).
//!
//! `cargo run --release --example qat_bench` (add `-- --help` for the knobs).
//!
//! Prints: the time of one FP32 epoch and one QAT epoch over the training split (median of
//! several), the FP32 test accuracy, PTQ (min-max and percentile activations) and QAT test
//! accuracies at W2A2, W3A3, W4A4 and W8A8 for the default configuration and seed.

use std::time::Instant;

use quantlab_engine::qat::{
    final_comparison, ptq_evaluate, ActCalibration, Optimizer, PtqConfig, QuantSpec, Split,
    TrainConfig, Trainer,
};

const DIGITS: &[u8] = include_bytes!("../../../assets/data/digits/digits.bin");

/// On-CPU time of this thread in ms (Linux `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`), so that
/// other processes on a shared machine inflate the numbers less than wall-clock time does.
#[cfg(target_os = "linux")]
fn cpu_ms() -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid pointer to a timespec-layout struct (64-bit Linux).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    (rc == 0).then(|| t.sec as f64 * 1e3 + t.nsec as f64 / 1e6)
}

#[cfg(not(target_os = "linux"))]
fn cpu_ms() -> Option<f64> {
    None
}

/// Wall-clock and on-CPU milliseconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let c0 = cpu_ms();
    let s = Instant::now();
    let r = f();
    let wall = s.elapsed().as_secs_f64() * 1e3;
    let cpu = match (c0, cpu_ms()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    (r, wall, cpu)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = TrainConfig::default();
    let mut bits: Vec<u8> = vec![2, 3, 4, 8];
    let mut timing_only = false;
    let mut show_ranges = false;
    let mut export: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => cfg.seed = val()?.parse()?,
            "--hidden" => cfg.hidden = val()?.parse()?,
            "--batch" => cfg.batch_size = val()?.parse()?,
            "--fp32-epochs" => cfg.fp32.epochs = val()?.parse()?,
            "--fp32-lr" => cfg.fp32.lr = val()?.parse()?,
            "--qat-epochs" => cfg.qat.phase.epochs = val()?.parse()?,
            "--qat-lr" => cfg.qat.phase.lr = val()?.parse()?,
            "--step-lr" => cfg.qat.step_lr_factor = val()?.parse()?,
            "--qat-sgd" => cfg.qat.phase.optimizer = Optimizer::sgd_momentum(),
            "--fp32-sgd" => cfg.fp32.optimizer = Optimizer::sgd_momentum(),
            "--wd" => cfg.qat.phase.weight_decay = val()?.parse()?,
            "--minmax" => cfg.ptq.calibration = ActCalibration::MinMax,
            "--pct" => cfg.ptq.calibration = ActCalibration::Percentile { p: val()?.parse()? },
            "--calib" => cfg.ptq.samples = val()?.parse()?,
            "--no-input-quant" => cfg.qat.spec.quantize_input = false,
            "--per-tensor" => {
                cfg.qat.spec.weight_granularity = quantlab_engine::qat::WeightGranularity::PerTensor
            }
            "--bits" => {
                bits = val()?
                    .split(',')
                    .map(|b| b.parse())
                    .collect::<Result<_, _>>()?
            }
            "--timing" => timing_only = true,
            "--ranges" => show_ranges = true,
            "--export" => export = Some(val()?),
            "--qat-bits" => {
                let b: u8 = val()?.parse()?;
                cfg.qat.spec.bits_w = b;
                cfg.qat.spec.bits_a = b;
            }
            _ => {
                println!("options: --export DIR --ranges --qat-bits B --seed N --hidden N --batch N --fp32-epochs N --fp32-lr X --qat-epochs N --qat-lr X --step-lr X --qat-sgd --fp32-sgd --wd X --minmax --pct P --calib N --no-input-quant --per-tensor --bits 2,3,4,8 --timing");
                return Ok(());
            }
        }
    }
    let data = std::sync::Arc::new(Split::digits_from_bin(DIGITS)?);
    println!(
        "digits: {} train / {} test; MLP 64-{}-10, batch {}, seed {}",
        data.train.len(),
        data.test.len(),
        cfg.hidden,
        cfg.batch_size,
        cfg.seed
    );

    // ---- timing: one epoch = batches_per_epoch units (the epoch-end evaluations excluded) ----
    let mut t = Trainer::new(cfg, data.clone())?;
    t.run_batches(1)?; // epoch-0 evaluation
    let bpe = t.progress().batches_per_epoch;
    let (mut fp32_ms, mut fp32_cpu, mut end_ms, mut end_cpu) = (vec![], vec![], vec![], vec![]);
    for _ in 0..cfg.fp32.epochs.min(10) {
        let (r, w, c) = timed(|| t.run_batches(bpe));
        r?;
        fp32_ms.push(w);
        fp32_cpu.push(c);
        let (r, w, c) = timed(|| t.run_batches(3)); // test evaluation, PTQ calibration, PTQ evaluation
        r?;
        end_ms.push(w);
        end_cpu.push(c);
    }
    let mut t = Trainer::new(cfg, data.clone())?;
    t.run_to_end()?; // (also gives the QAT trainer below the same float model)
    let fp32_model = t.fp32_model().cloned().ok_or("no float model")?;
    let mut q = Trainer::from_fp32(cfg, data.clone(), fp32_model.clone())?;
    q.run_batches(2)?; // start: calibration + epoch-0 evaluation
    let (mut qat_ms, mut qat_cpu) = (vec![], vec![]);
    for _ in 0..cfg.qat.phase.epochs.min(10) {
        let (r, w, c) = timed(|| q.run_batches(bpe));
        r?;
        qat_ms.push(w);
        qat_cpu.push(c);
        q.run_batches(1)?;
    }
    let mut units = vec![];
    let mut u = Trainer::new(cfg, data.clone())?;
    loop {
        let (p, _, c) = timed(|| u.run_batches(1));
        units.push(c);
        if p?.done {
            break;
        }
    }
    units.sort_by(|a, b| a.total_cmp(b));
    println!(
        "native timing, median wall / on-CPU ms: FP32 epoch {:.2} / {:.2}; QAT epoch (W{}A{}) {:.2} / {:.2}; epoch-end units (test eval + PTQ calibrate + PTQ eval) {:.2} / {:.2}",
        median(fp32_ms),
        median(fp32_cpu),
        cfg.qat.spec.bits_w,
        cfg.qat.spec.bits_a,
        median(qat_ms),
        median(qat_cpu),
        median(end_ms),
        median(end_cpu),
    );
    println!(
        "work units of a full run: {}; on-CPU ms per unit: median {:.3}, 99th percentile {:.3}, max {:.3}",
        units.len(),
        median(units.clone()),
        units.get(units.len() * 99 / 100).copied().unwrap_or(f64::NAN),
        units.last().copied().unwrap_or(f64::NAN)
    );
    if let Some(dir) = &export {
        // For an independent NumPy check (see the report): the float model, and the PTQ and
        // final QAT quantizers of the timing run (W`qat-bits`).
        use quantlab_engine::write_npy_f32;
        let m = &fp32_model;
        let put =
            |name: &str, shape: &[usize], v: &[f32]| -> Result<(), Box<dyn std::error::Error>> {
                std::fs::write(format!("{dir}/{name}.npy"), write_npy_f32(shape, v)?)?;
                Ok(())
            };
        std::fs::create_dir_all(dir)?;
        put("w1", &[m.inputs(), m.hidden()], m.w1())?;
        put("b1", &[m.hidden()], m.b1())?;
        put("w2", &[m.hidden(), m.classes()], m.w2())?;
        put("b2", &[m.classes()], m.b2())?;
        let qm = q.model();
        put("qat_w1", &[qm.inputs(), qm.hidden()], qm.w1())?;
        put("qat_b1", &[qm.hidden()], qm.b1())?;
        put("qat_w2", &[qm.hidden(), qm.classes()], qm.w2())?;
        put("qat_b2", &[qm.classes()], qm.b2())?;
        let qs = q.quantizers().ok_or("no quantizers")?;
        for z in qs.all() {
            put(
                &format!("qat_s_{}", z.name()),
                &[z.steps().len()],
                z.steps(),
            )?;
        }
        let e = |o: Option<quantlab_engine::qat::Eval>| o.map(|e| e.accuracy).unwrap_or(f32::NAN);
        std::fs::write(
            format!("{dir}/acc.txt"),
            format!(
                "bits {}\nfp32 {}\nptq {}\nqat {}\n",
                cfg.qat.spec.bits_w,
                e(q.fp32_reference()),
                e(q.ptq_reference()),
                q.evaluate()?.accuracy
            ),
        )?;
        println!("exported to {dir}");
    }
    if show_ranges {
        println!(
            "QAT history (W{}A{}): epoch, test acc, β input, β hidden, mean β W1, mean β W2",
            cfg.qat.spec.bits_w, cfg.qat.spec.bits_a
        );
        for r in t
            .history()
            .iter()
            .filter(|r| r.phase != quantlab_engine::qat::Phase::Fp32)
        {
            if let Some(g) = r.ranges {
                println!(
                    "  {:2}  {:6.2} %  {:8.4} {:8.4} {:8.4} {:8.4}",
                    r.epoch,
                    r.test.accuracy * 100.0,
                    g.input_beta.unwrap_or(f32::NAN),
                    g.hidden_beta,
                    g.w1_mean_beta,
                    g.w2_mean_beta
                );
            }
        }
    }
    if timing_only {
        return Ok(());
    }

    // ---- accuracies ----
    let fp32 = t.fp32_reference().ok_or("no FP32 reference")?;
    println!(
        "FP32 ({} epochs): test accuracy {:.2} % (loss {:.4})",
        cfg.fp32.epochs,
        fp32.accuracy * 100.0,
        fp32.loss
    );
    for (name, cal) in [
        ("min-max", ActCalibration::MinMax),
        ("p99.9", ActCalibration::Percentile { p: 99.9 }),
        ("p99.99", ActCalibration::Percentile { p: 99.99 }),
    ] {
        let pc = PtqConfig {
            calibration: cal,
            ..cfg.ptq
        };
        let mut line = format!("PTQ {name:8}:");
        for &b in &bits {
            let spec = QuantSpec {
                bits_w: b,
                bits_a: b,
                ..cfg.qat.spec
            };
            let e = ptq_evaluate(&fp32_model, &data, &spec, &pc)?;
            line += &format!("  W{b}A{b} {:6.2} %", e.accuracy * 100.0);
        }
        println!("{line}");
    }
    for b in [2u8, 3, 4, 8] {
        let mut line = format!("PTQ W{b}A*  :");
        for a in [2u8, 3, 4, 8] {
            let spec = QuantSpec {
                bits_w: b,
                bits_a: a,
                ..cfg.qat.spec
            };
            let e = ptq_evaluate(&fp32_model, &data, &spec, &cfg.ptq)?;
            line += &format!("  A{a} {:6.2} %", e.accuracy * 100.0);
        }
        println!("{line}");
    }
    let s = Instant::now();
    let rows = final_comparison(cfg, data.clone(), &bits)?;
    let total = s.elapsed().as_secs_f64();
    println!(
        "final_comparison ({} FP32 + {} QAT epochs per row, {:.2} s):",
        cfg.fp32.epochs, cfg.qat.phase.epochs, total
    );
    println!("  bits | FP32    | PTQ     | QAT");
    for r in rows {
        println!(
            "  W{}A{} | {:6.2} % | {:6.2} % | {:6.2} %",
            r.bits,
            r.bits,
            r.fp32_accuracy * 100.0,
            r.ptq_accuracy * 100.0,
            r.qat_accuracy * 100.0
        );
    }
    Ok(())
}
