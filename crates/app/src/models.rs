//! Model sizes for the "Why quantize?" chapter, computed from each architecture's configuration
//! (not typed-in totals), and the storage a quantized copy needs including its scales.

use crate::controls::ModelChoice;

/// A weight matrix (rows × cols) and how many times the architecture has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub rows: u64,
    pub cols: u64,
    pub count: u64,
    /// Part of a linear layer (quantized to INTb); embeddings and norms are listed separately.
    pub linear: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub name: &'static str,
    pub matrices: Vec<Matrix>,
    /// Biases, LayerNorm/RMSNorm weights and other vectors (kept in FP16 when quantizing).
    pub vectors: u64,
}

impl Model {
    /// The architecture a [`ModelChoice`] names.
    pub fn of(choice: ModelChoice) -> Self {
        match choice {
            ModelChoice::MiniLm => Model::minilm(),
            ModelChoice::Llama7b => Model::llama7b(),
        }
    }

    /// sentence-transformers/all-MiniLM-L6-v2 (the BertModel in the shipped checkpoint, pooler
    /// included): vocab 30522, hidden 384, 6 layers, FFN 1536, 512 positions, 2 token types.
    pub fn minilm() -> Self {
        let (v, h, l, f, p, t) = (30_522, 384, 6, 1536, 512, 2);
        Model {
            name: "all-MiniLM-L6-v2",
            matrices: vec![
                Matrix {
                    rows: v,
                    cols: h,
                    count: 1,
                    linear: false,
                },
                Matrix {
                    rows: p,
                    cols: h,
                    count: 1,
                    linear: false,
                },
                Matrix {
                    rows: t,
                    cols: h,
                    count: 1,
                    linear: false,
                },
                Matrix {
                    rows: h,
                    cols: h,
                    count: 4 * l,
                    linear: true,
                }, // Q, K, V, O
                Matrix {
                    rows: h,
                    cols: f,
                    count: l,
                    linear: true,
                },
                Matrix {
                    rows: f,
                    cols: h,
                    count: l,
                    linear: true,
                },
                Matrix {
                    rows: h,
                    cols: h,
                    count: 1,
                    linear: true,
                }, // pooler
            ],
            // embedding LN (2h); per layer: 4 attention biases + LN (2h) + FFN biases (f + h) + LN (2h); pooler bias
            vectors: 2 * h + l * (4 * h + 2 * h + f + h + 2 * h) + h,
        }
    }

    /// A LLaMA-2-7B-shaped decoder: vocab 32000, hidden 4096, 32 layers, MLP 11008 (gate, up,
    /// down), untied LM head, RMSNorm weights only.
    pub fn llama7b() -> Self {
        let (v, h, l, f) = (32_000, 4096, 32, 11_008);
        Model {
            name: "LLaMA-2 7B",
            matrices: vec![
                Matrix {
                    rows: v,
                    cols: h,
                    count: 1,
                    linear: false,
                },
                Matrix {
                    rows: h,
                    cols: h,
                    count: 4 * l,
                    linear: true,
                },
                Matrix {
                    rows: h,
                    cols: f,
                    count: 2 * l,
                    linear: true,
                },
                Matrix {
                    rows: f,
                    cols: h,
                    count: l,
                    linear: true,
                },
                Matrix {
                    rows: h,
                    cols: v,
                    count: 1,
                    linear: true,
                }, // LM head
            ],
            vectors: l * 2 * h + h,
        }
    }

    pub fn params(&self) -> u64 {
        self.matrices
            .iter()
            .map(|m| m.rows * m.cols * m.count)
            .sum::<u64>()
            + self.vectors
    }

    pub fn linear_params(&self) -> u64 {
        self.matrices
            .iter()
            .filter(|m| m.linear)
            .map(|m| m.rows * m.cols * m.count)
            .sum()
    }
}

/// How a quantized linear layer stores its scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleGranularity {
    /// One (scale, zero-point) pair of two FP16 numbers per layer.
    PerTensor,
    /// One pair per output channel.
    PerChannel,
    /// One pair per group of G weights along the input dimension.
    PerGroup(u64),
    /// OCP Microscaling: one 8-bit E8M0 scale per block of 32 weights along the input
    /// dimension (MXFP8 with 8-bit elements, MXFP4 with 4-bit ones).
    Mx,
    /// NVFP4: one 8-bit E4M3 scale per block of 16 weights, and one FP32 scale per layer.
    Nvfp4,
}

/// Bytes of a copy of `model` whose linear weights are stored in `bits` bits with the scales of
/// `gran` — a (scale, zero-point) pair of 4 bytes (two FP16 numbers, the common GPTQ/AWQ
/// layout) per group for integer grids, 1 byte per block for MX and NVFP4 (plus NVFP4's 4-byte
/// tensor scale) — and everything else (embeddings, biases, norms) in FP16. `bits` = 32 or 16
/// means a plain float copy of everything.
pub fn model_bytes(model: &Model, bits: u32, gran: ScaleGranularity) -> u64 {
    match bits {
        32 => model.params() * 4,
        16 => model.params() * 2,
        b => {
            let mut bytes = 0u64;
            for m in &model.matrices {
                let n = m.rows * m.cols * m.count;
                if !m.linear {
                    bytes += n * 2;
                    continue;
                }
                bytes += (n * u64::from(b)).div_ceil(8) + scale_bytes(m, gran);
            }
            bytes + model.vectors * 2
        }
    }
}

fn scale_bytes(m: &Matrix, gran: ScaleGranularity) -> u64 {
    let per_input = |g: u64| m.rows.div_ceil(g.max(1)) * m.cols * m.count;
    match gran {
        ScaleGranularity::PerTensor => m.count * 4,
        ScaleGranularity::PerChannel => m.cols * m.count * 4,
        ScaleGranularity::PerGroup(g) => per_input(g) * 4,
        ScaleGranularity::Mx => per_input(32),
        ScaleGranularity::Nvfp4 => per_input(16) + m.count * 4,
    }
}

/// The scale storage of a granularity, in bits per linear weight.
pub fn overhead_bits_per_weight(model: &Model, gran: ScaleGranularity) -> f64 {
    let bytes: u64 = model
        .matrices
        .iter()
        .filter(|m| m.linear)
        .map(|m| scale_bytes(m, gran))
        .sum();
    bytes as f64 * 8.0 / model.linear_params().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minilm_matches_its_checkpoint() {
        // model.safetensors is 90,868,376 bytes of f32 (README of shared/data): 22,713,216
        // parameters × 4 = 90,852,864 bytes plus a 15,512-byte safetensors header.
        assert_eq!(Model::minilm().params(), 22_713_216);
    }

    #[test]
    fn llama_7b_has_its_published_size() {
        // LLaMA-2-7B: 6,738,415,616 parameters.
        assert_eq!(Model::llama7b().params(), 6_738_415_616);
    }

    #[test]
    fn sizes_shrink_with_bits_and_overheads_are_sane() {
        let m = Model::llama7b();
        let fp32 = model_bytes(&m, 32, ScaleGranularity::PerChannel);
        let int8 = model_bytes(&m, 8, ScaleGranularity::PerChannel);
        let int4 = model_bytes(&m, 4, ScaleGranularity::PerGroup(128));
        assert!(fp32 > 3 * int8 && int8 > int4);
        let g128 = overhead_bits_per_weight(&m, ScaleGranularity::PerGroup(128));
        assert!(
            (g128 - 0.25).abs() < 1e-3,
            "4 bytes per 128 weights = 0.25 bit/weight, got {g128}"
        );
        assert!(overhead_bits_per_weight(&m, ScaleGranularity::PerTensor) < 1e-5);
        // MXFP4 is 4.25 bits per weight, NVFP4 4.5 (and a tensor scale per layer).
        let mx = overhead_bits_per_weight(&m, ScaleGranularity::Mx);
        assert!((mx - 0.25).abs() < 1e-3, "{mx}");
        let nv = overhead_bits_per_weight(&m, ScaleGranularity::Nvfp4);
        assert!(nv > 0.5 && nv < 0.5001, "{nv}");
        // One byte per 32 weights costs what 4 bytes per 128 do: MXFP4 is INT4 g128's size.
        assert_eq!(model_bytes(&m, 4, ScaleGranularity::Mx), int4);
    }
}
