//! What every model of the family shares: a stack of layers whose four matrix products read
//! the same roles (the attention's input projections, its output projection, the FFN's up and
//! down projections), and a forward pass that hands each product to a [`Linears`], so the
//! float model, the int8 one ([`super::quant`]) and the recorders (capture, calibration,
//! residual traces) are one forward per architecture, not one per purpose.
//!
//! An architecture plugs in by implementing [`Family`]: its [`Shapes`], its float weights per
//! product (decoded on demand where they are stored compressed), its float forward with the
//! products hooked, and the rotation it uses on a product's input. Everything in
//! [`super::quant`] (quantized linear sets built in steps, SmoothQuant, Hadamard, the outlier
//! ablation, static calibration) then works on it unchanged.

use std::borrow::Cow;

use super::bert::{Dense, WordEmbeddings};
use crate::error::{QuantError, Result};
use crate::rotate::hadamard::Hadamard;

/// The four matrix products of a layer, by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinearKind {
    /// Q | K | V, reading the attention's input (one product: they share it).
    Qkv,
    /// The attention output projection, reading softmax(QKᵀ/√d)·V.
    Out,
    /// The FFN's first product: MiniLM's fc1, Llama's gate | up (one product, one input).
    Fc1,
    /// The FFN's down projection: MiniLM's fc2 (reading GELU(fc1)), Llama's down (reading
    /// SiLU(gate)·up).
    Fc2,
}

impl LinearKind {
    pub const ALL: [LinearKind; 4] = [Self::Qkv, Self::Out, Self::Fc1, Self::Fc2];

    /// MiniLM's name (`qkv`, `o`, `fc1`, `fc2`); [`Shapes::name`] gives an architecture's.
    pub fn name(self) -> &'static str {
        MINILM.name(self)
    }

    /// A kind from either family member's name (`fc1` and `gateup` are the same role).
    pub fn parse(s: &str) -> Option<Self> {
        [MINILM, LLAMA_NAMES]
            .iter()
            .find_map(|sh| Self::ALL.into_iter().find(|&k| sh.name(k) == s))
    }

    /// MiniLM's input width of this product.
    pub fn in_features(self) -> usize {
        MINILM.k(self)
    }

    /// MiniLM's output width of this product.
    pub fn out_features(self) -> usize {
        MINILM.n(self)
    }

    /// How many of MiniLM's torch linears this product is (Q, K, V are three).
    pub fn linears(self) -> usize {
        MINILM.parts(self)
    }
}

/// One product of a model: a layer and its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinearId {
    pub layer: usize,
    pub kind: LinearKind,
}

impl LinearId {
    /// Position in execution order (four per layer).
    pub fn index(self) -> usize {
        self.layer * 4 + self.kind as usize
    }

    /// MiniLM's 24 products in execution order.
    pub fn all() -> impl Iterator<Item = LinearId> {
        MINILM.ids()
    }

    /// `L3.fc1`, the naming of the layer chapters and of `extract.py` (MiniLM's names).
    pub fn label(self) -> String {
        MINILM.label(self)
    }
}

/// The sizes of one architecture's products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    pub layers: usize,
    /// (K inputs, N outputs) per kind, in [`LinearKind::ALL`] order.
    pub dims: [(usize, usize); 4],
    /// Torch linears per product (per-tensor weight scales give each its own).
    pub parts: [usize; 4],
    pub names: [&'static str; 4],
}

/// all-MiniLM-L6-v2.
pub const MINILM: Shapes = Shapes {
    layers: 6,
    dims: [(384, 1152), (384, 384), (384, 1536), (1536, 384)],
    parts: [3, 1, 1, 1],
    names: ["qkv", "o", "fc1", "fc2"],
};

/// The Llama names (the sizes come from each file's configuration).
const LLAMA_NAMES: Shapes = Shapes {
    layers: 0,
    dims: [(0, 0); 4],
    parts: [3, 1, 2, 1],
    names: ["qkv", "o", "gateup", "down"],
};

impl Shapes {
    /// A Llama-architecture model of these sizes: Q|K|V (hidden → (heads + 2·kv heads)·d),
    /// O, gate|up (hidden → 2·ffn), down.
    pub fn llama(layers: usize, hidden: usize, q_dim: usize, kv_dim: usize, ffn: usize) -> Self {
        Shapes {
            layers,
            dims: [
                (hidden, q_dim + 2 * kv_dim),
                (q_dim, hidden),
                (hidden, 2 * ffn),
                (ffn, hidden),
            ],
            ..LLAMA_NAMES
        }
    }

    pub fn k(&self, kind: LinearKind) -> usize {
        self.dims.get(kind as usize).map_or(0, |d| d.0)
    }

    pub fn n(&self, kind: LinearKind) -> usize {
        self.dims.get(kind as usize).map_or(0, |d| d.1)
    }

    pub fn parts(&self, kind: LinearKind) -> usize {
        self.parts.get(kind as usize).copied().unwrap_or(1)
    }

    pub fn name(&self, kind: LinearKind) -> &'static str {
        self.names.get(kind as usize).copied().unwrap_or("?")
    }

    /// Products in all.
    pub fn count(&self) -> usize {
        4 * self.layers
    }

    /// Every product in execution order.
    pub fn ids(&self) -> impl Iterator<Item = LinearId> {
        (0..self.layers).flat_map(|layer| LinearKind::ALL.map(|kind| LinearId { layer, kind }))
    }

    /// `L11.down`.
    pub fn label(&self, id: LinearId) -> String {
        format!("L{}.{}", id.layer, self.name(id.kind))
    }

    /// The smallest input width of any product (the outlier ablation's upper bound).
    pub fn min_k(&self) -> usize {
        self.dims.iter().map(|d| d.0).min().unwrap_or(0)
    }

    /// An error for a product outside this model.
    pub fn check(&self, id: LinearId) -> Result<()> {
        if id.layer < self.layers {
            Ok(())
        } else {
            Err(QuantError::InvalidParameter {
                name: "layer",
                value: id.layer.to_string(),
                allowed: "one of the model's layers (0 to layers − 1)",
            })
        }
    }
}

/// A product's float weights as the model stores them.
pub trait FloatLinear {
    fn k(&self) -> usize;
    fn n(&self) -> usize;
    /// `out` (M × N) = X (M × K)·W (+ b).
    fn forward(&self, x: &[f32], m: usize, out: &mut [f32]) -> Result<()>;
    /// W as an f32 layer (K × N packed, with the bias): borrowed where the model keeps it so,
    /// decoded where it stores it compressed.
    fn weights(&self) -> Result<Cow<'_, Dense>>;
}

impl FloatLinear for Dense {
    fn k(&self) -> usize {
        Dense::k(self)
    }

    fn n(&self) -> usize {
        Dense::n(self)
    }

    fn forward(&self, x: &[f32], m: usize, out: &mut [f32]) -> Result<()> {
        Dense::forward(self, x, m, out)
    }

    fn weights(&self) -> Result<Cow<'_, Dense>> {
        Ok(Cow::Borrowed(self))
    }
}

/// What the forward pass calls for each product, so one forward serves the float model, the
/// quantized ones and the recorders.
pub trait Linears {
    /// `out` (M × N) = the product `id` applied to `x` (M × K); `float` is the model's own.
    fn linear(
        &mut self,
        id: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()>;

    /// Called with the hidden state (T × hidden) after each layer: MiniLM's output LayerNorm,
    /// Llama's residual stream.
    fn after_layer(&mut self, _layer: usize, _hidden: &[f32]) -> Result<()> {
        Ok(())
    }

    /// May change the residual stream after a layer, before [`Linears::after_layer`] sees it
    /// (the massive-activation intervention). Llama calls it; MiniLM has no use for it.
    fn edit_residual(&mut self, _layer: usize, _hidden: &mut [f32], _start: usize) -> Result<()> {
        Ok(())
    }

    /// Word and position tables to use instead of the model's (MiniLM's uint8 recipe).
    fn embeddings(&self) -> Option<(&WordEmbeddings, &[f32])> {
        None
    }
}

/// The float model's own products.
#[derive(Clone, Copy, Debug, Default)]
pub struct Float;

impl Linears for Float {
    fn linear(
        &mut self,
        _: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()> {
        float.forward(x, m, out)
    }
}

/// An architecture of the family, as the quantizer needs it.
pub trait Family {
    fn shapes(&self) -> Shapes;

    /// Product `id`'s float weights (K × N, packed, with its bias if it has one).
    fn float_weights(&self, id: LinearId) -> Result<Cow<'_, Dense>>;

    /// One float forward over `ids` (one sequence) with every product through `lin`.
    fn run_float(&self, ids: &[u32], lin: &mut dyn Linears) -> Result<()>;

    /// The Hadamard rotation of a product's input of `k` channels.
    fn hadamard(&self, k: usize) -> Result<Hadamard>;

    /// onnxruntime's uint8 word and position tables (MiniLM's web recipe only).
    fn uint8_embeddings(&self) -> Result<std::sync::Arc<(WordEmbeddings, Vec<f32>)>> {
        Err(QuantError::InvalidParameter {
            name: "uint8 embeddings",
            value: "requested".into(),
            allowed: "only with all-MiniLM-L6-v2 (onnxruntime's quantize_dynamic recipe)",
        })
    }
}
