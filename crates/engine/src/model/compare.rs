//! What the model outputs, full precision against quantized: cosine per sentence, similarity
//! matrices, retrieval ranks, and where along the 6 layers the error enters.

use super::bert::LAYERS;
use super::family::{FloatLinear, LinearId, Linears};
use crate::error::Result;

/// cos(a, b) in f64 (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa.sqrt() * bb.sqrt())
    }
}

/// S_ij = cos(e_i, e_j).
pub fn similarity_matrix(embeddings: &[Vec<f32>]) -> Vec<Vec<f64>> {
    embeddings
        .iter()
        .map(|a| embeddings.iter().map(|b| cosine(a, b)).collect())
        .collect()
}

/// The other sentences ranked by similarity to `query`, most similar first (ties: lower index).
pub fn ranking(similarity: &[Vec<f64>], query: usize) -> Vec<usize> {
    let Some(row) = similarity.get(query) else {
        return Vec::new();
    };
    let mut order: Vec<usize> = (0..row.len()).filter(|&i| i != query).collect();
    let at = |i: usize| row.get(i).copied().unwrap_or(f64::NEG_INFINITY);
    order.sort_by(|&a, &b| at(b).total_cmp(&at(a)).then(a.cmp(&b)));
    order
}

/// How many places of a ranking hold a different sentence than in the reference ranking.
pub fn rank_changes(reference: &[usize], other: &[usize]) -> usize {
    reference.iter().zip(other).filter(|(a, b)| a != b).count()
}

/// Wraps a [`Linears`] and keeps the hidden state after every layer.
pub struct Traced<L> {
    pub inner: L,
    pub hidden: Vec<Vec<f32>>,
}

impl<L> Traced<L> {
    pub fn new(inner: L) -> Self {
        Traced {
            inner,
            hidden: Vec::with_capacity(LAYERS),
        }
    }
}

impl<L: Linears> Linears for Traced<L> {
    fn linear(
        &mut self,
        id: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()> {
        self.inner.linear(id, float, x, m, out)
    }

    fn after_layer(&mut self, layer: usize, hidden: &[f32]) -> Result<()> {
        self.hidden.push(hidden.to_vec());
        self.inner.after_layer(layer, hidden)
    }

    fn edit_residual(&mut self, layer: usize, hidden: &mut [f32], start: usize) -> Result<()> {
        self.inner.edit_residual(layer, hidden, start)
    }
}

/// Records the input of one linear (T × K) while the wrapped [`Linears`] runs: what the
/// outlier, SmoothQuant and rotation chapters show for the reader's own sentence.
pub struct Capture<L> {
    pub inner: L,
    pub target: LinearId,
    pub input: Option<Vec<f32>>,
}

impl<L: Linears> Linears for Capture<L> {
    fn linear(
        &mut self,
        id: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()> {
        if id == self.target {
            self.input = Some(x.to_vec());
        }
        self.inner.linear(id, float, x, m, out)
    }

    fn after_layer(&mut self, layer: usize, hidden: &[f32]) -> Result<()> {
        self.inner.after_layer(layer, hidden)
    }

    fn edit_residual(&mut self, layer: usize, hidden: &mut [f32], start: usize) -> Result<()> {
        self.inner.edit_residual(layer, hidden, start)
    }
}

/// The input of linear `id` (T × K, row-major) when the float model (of any architecture of
/// the family) reads `ids`.
pub fn capture_input(
    model: &dyn super::family::Family,
    ids: &[u32],
    id: LinearId,
) -> Result<Vec<f32>> {
    let mut cap = Capture {
        inner: super::Float,
        target: id,
        input: None,
    };
    model.run_float(ids, &mut cap)?;
    cap.input.ok_or(crate::QuantError::InvalidParameter {
        name: "linear",
        value: id.label(),
        allowed: "a layer of the model, qkv/o/fc1/fc2",
    })
}

/// ‖h_q − h‖ / ‖h‖ after each layer.
pub fn layer_errors(reference: &[Vec<f32>], other: &[Vec<f32>]) -> Vec<f64> {
    reference
        .iter()
        .zip(other)
        .map(|(r, o)| relative_error(r, o))
        .collect()
}

/// ‖other − reference‖ / ‖reference‖ in f64 (0 for an all-zero reference).
pub fn relative_error(reference: &[f32], other: &[f32]) -> f64 {
    let (mut d, mut n) = (0f64, 0f64);
    for (&a, &b) in reference.iter().zip(other) {
        d += (f64::from(a) - f64::from(b)).powi(2);
        n += f64::from(a).powi(2);
    }
    if n == 0.0 {
        0.0
    } else {
        (d / n).sqrt()
    }
}
