//! Test helpers shared by the model tests of this crate.
#![allow(dead_code)]

use quantlab_engine::kernels::{simulate_linear, ActScales};
use quantlab_engine::model::{FloatLinear, LinearId, Linears, QuantizedModel};
use quantlab_engine::rotate::hadamard::Hadamard;

/// Checks every linear's int8 accumulators against the fake-quant oracle on the same input
/// (the oracle quantizes the weights itself, from the float weights rotated by `rotation`),
/// then runs the quantized linear.
pub struct SameAccumulators<'a> {
    pub q: &'a QuantizedModel,
    pub act: ActScales<'static>,
    pub rotation: fn(usize) -> quantlab_engine::Result<Hadamard>,
    /// Checks the products of every `every`-th layer (1: all); the others just run.
    pub every: usize,
    pub checked: usize,
}

impl Linears for SameAccumulators<'_> {
    fn linear(
        &mut self,
        id: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> quantlab_engine::Result<()> {
        if id.layer % self.every.max(1) != 0 {
            return self.q.run_linear(id, x, m, out);
        }
        let xs = self.q.transformed_input(id, x, m)?;
        let [layer] = self.q.qlinears(id)? else {
            panic!("per-channel weights are one part");
        };
        let cfg = self.q.config();
        let qa = layer.quantize_input(&xs, m, self.act, cfg.a_bits)?;
        let mut acc = vec![0i32; m * layer.n()];
        layer.accumulate(&qa, &mut acc)?;
        let dense = float.weights()?;
        let mut w = dense.weight();
        if cfg.hadamard {
            (self.rotation)(dense.k())?.rotate_weights(&mut w, dense.n())?;
        }
        let sim = simulate_linear(
            &xs,
            m,
            dense.k(),
            &w,
            dense.n(),
            dense.bias_opt(),
            self.act,
            cfg.a_bits,
            cfg.w_bits,
        )?;
        assert!(
            acc.iter().zip(&sim.acc).all(|(&a, &b)| i64::from(a) == b),
            "{}: int8 accumulators differ from the fake-quant ones",
            self.q.shapes().label(id)
        );
        self.checked += 1;
        self.q.run_linear(id, x, m, out)
    }
}
