//! Quantization-aware training, live: a small MLP trained in pure Rust on the real UCI
//! handwritten digits, quantized after training (PTQ) and fine-tuned with fake quantization
//! (QAT), as in the seminar: "추론 전, fake quantization 도입 및 미세조정 수행 — ① PTQ와 달리
//! 적합한 α, β를 weight과 함께 직접 학습, ② 모델이 quantization error에 적응" (Jacob et al. 2018).
//!
//! * [`digits`]: the data set (`assets/data/digits/digits.bin`) and the fixed stratified split.
//! * [`mlp`]: the network 64 → hidden → 10 (ReLU, softmax cross-entropy), forward and backward.
//! * [`fake_quant`]: fake quantizers with learned step sizes (LSQ, Esser et al. 2020) and the
//!   straight-through estimator; the STE chart data ([`round_ste_curve`], [`fake_quant_ste_curve`]).
//! * [`ptq`]: post-training quantization (min-max weights, min-max/percentile activations).
//! * [`optim`]: SGD with momentum and Adam, constant or cosine learning rate.
//! * [`train`]: the live [`Trainer`] (bounded work per call), its history and references.
//! * [`compare`]: the resumable PTQ-vs-QAT table ([`Comparison`], [`final_comparison`]).
//! * [`math`]: exp/ln/cos from basic IEEE operations, for native = wasm bit-identical runs.
//!
//! Typical use from the UI:
//! ```
//! use quantlab_engine::qat::{Split, TrainConfig, Trainer};
//! # let bytes = include_bytes!("../../../../assets/data/digits/digits.bin");
//! let data = Split::digits_from_bin(bytes)?;            // bytes fetched from assets/data/digits/
//! let mut cfg = TrainConfig::default();
//! cfg.fp32.epochs = 1;                                   // (kept short for the doctest)
//! cfg.qat.phase.epochs = 1;
//! let mut t = Trainer::new(cfg, data)?;
//! loop {
//!     let p = t.run_batches(4)?;                         // or t.run_for(8.0, &mut || perf.now())
//!     if p.done { break; }
//! }
//! let (fp32, ptq, qat) = (t.fp32_reference(), t.ptq_reference(), t.evaluate()?);
//! # let _ = (fp32, ptq, qat);
//! # Ok::<(), quantlab_engine::QuantError>(())
//! ```

pub mod compare;
pub mod digits;
pub mod fake_quant;
mod lanes;
pub mod math;
pub mod mlp;
pub mod optim;
pub mod ptq;
pub mod train;

pub use compare::{final_comparison, Comparison, ComparisonProgress, ComparisonRow};
pub use digits::{Dataset, Digits, Split};
pub use fake_quant::{
    fake_quant_ste, fake_quant_ste_curve, round_ste_curve, QuantKind, QuantSpec, Quantizer,
    QuantizerSet, StePoint, SteValue, WeightGranularity,
};
pub use mlp::{gradients, Eval, Grads, Layer, Mlp};
pub use optim::{LrSchedule, Optimizer};
pub use ptq::{calibrate_quantizers, ptq_accuracy, ptq_evaluate, ActCalibration, PtqConfig};
pub use train::{
    EpochRecord, Phase, PhaseConfig, Progress, QatConfig, RangeSnapshot, TrainConfig, Trainer,
};
