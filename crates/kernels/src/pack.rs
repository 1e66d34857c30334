//! Weight packing: B (K×N, row-major) is rearranged once into panels of [`NR`] columns so the
//! kernels read it strictly sequentially, one panel at a time.

use super::{check_k, check_len, checked_len, NR};
use crate::error::{KernelError, Result};

/// How an int8 packing groups k, and which kernel reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// k in pairs: SIMD128's `i32x4.dot_i16x8_s` (weights widened to i16 by the load), or the
    /// scalar twin. Every build has it.
    Pairs,
    /// k in quads for relaxed SIMD's 8-bit dot product, weights as stored: the activation's
    /// sign moves onto them (`relaxed.rs`). Any int8 weight but −128.
    Quads,
    /// k in quads, each weight stored plus 64 so that it is the dot product's 7-bit operand and
    /// the activation the signed one: no sign to move, 64·Σa subtracted per row at the end.
    /// Weights within ±63 (up to 7 bits: W4, W2…).
    Offset64,
}

impl Layout {
    /// k values per group.
    pub const fn kg(self) -> usize {
        match self {
            Layout::Pairs => 2,
            Layout::Quads | Layout::Offset64 => 4,
        }
    }

    /// What is added to a weight when it is stored.
    pub(crate) const fn offset(self) -> i8 {
        match self {
            Layout::Offset64 => 64,
            _ => 0,
        }
    }

    /// Whether weights with this largest |w| (and −128 or not) can be stored this way.
    pub fn fits(self, max_abs: u8, has_min: bool) -> bool {
        match self {
            Layout::Pairs => true,
            Layout::Quads => !has_min,
            Layout::Offset64 => max_abs <= 63,
        }
    }

    /// The layout this build packs weights in: in the relaxed-SIMD build [`Layout::Offset64`]
    /// for weights of up to 7 bits, [`Layout::Quads`] for 8-bit ones where the relaxed dot
    /// product was measured faster than SIMD128's ([`prefer_relaxed_w8`]), else
    /// [`Layout::Pairs`].
    pub fn preferred(max_abs: u8, has_min: bool) -> Layout {
        if !super::relaxed_available() {
            Layout::Pairs
        } else if Layout::Offset64.fits(max_abs, has_min) {
            Layout::Offset64
        } else if prefer_relaxed_w8() && Layout::Quads.fits(max_abs, has_min) {
            Layout::Quads
        } else {
            Layout::Pairs
        }
    }
}

static RELAXED_W8: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether 8-bit weights are packed for relaxed SIMD ([`Layout::Quads`]). Off until the page
/// has timed both dot products on the reader's machine: on x86 without AVX-VNNI V8 lowers the
/// relaxed dot to three instructions, and with the sign select the tile runs slower than
/// SIMD128's, so the choice is measured, not assumed.
pub fn prefer_relaxed_w8() -> bool {
    RELAXED_W8.load(core::sync::atomic::Ordering::Relaxed)
}

/// Sets [`prefer_relaxed_w8`] (for packings made from then on).
pub fn set_prefer_relaxed_w8(on: bool) {
    RELAXED_W8.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// Int8 weights packed for [`gemm_i8`](super::gemm_i8).
///
/// Layout: `ceil(N/8)` panels; a panel holds `ceil(K/kg)` k-groups of `kg·8` bytes, and group
/// `q` of panel `p` is column 8p's kg values `B[kg·q..kg·q+kg][8p]`, then column 8p+1's, …,
/// column 8p+7's, each plus the layout's offset. kg is 2 for [`Layout::Pairs`]:
/// `i32x4.dot_i16x8_s` multiplies lane pairs and adds them, so with A's two values
/// `(A[r][2q], A[r][2q+1])` splatted to all lanes, one dot gives 4 columns' partial sums over
/// two k. It is 4 for the relaxed layouts: `i32x4.relaxed_dot_i8x16_i7x16_add_s` sums four
/// byte products per lane, so 16 bytes are 4 columns × 4 k. Missing columns (N not a multiple
/// of 8) and the missing k of the last group hold the offset (a zero weight).
#[derive(Clone, Debug)]
pub struct PackedI8 {
    pub(crate) k: usize,
    pub(crate) n: usize,
    /// ceil(K/kg), the k-groups of a panel.
    pub(crate) kp: usize,
    /// ceil(N/NR)
    pub(crate) panels: usize,
    pub(crate) data: Vec<i8>,
    pub(crate) layout: Layout,
    /// Σ_k B[k][j] per packed column, made on first use by the unsigned relaxed kernel (a
    /// cache of `data`: not part of equality).
    col_sums: std::sync::OnceLock<Vec<i32>>,
}

impl PartialEq for PackedI8 {
    fn eq(&self, o: &Self) -> bool {
        (self.k, self.n, self.kp, self.panels, self.layout) == (o.k, o.n, o.kp, o.panels, o.layout)
            && self.data == o.data
    }
}

impl Eq for PackedI8 {}

impl PackedI8 {
    /// Packs B (K×N, row-major int8) in this build's [`Layout::preferred`] layout. Fails if
    /// `b.len() != k·n` or K > [`MAX_K`](super::MAX_K).
    pub fn pack(b: &[i8], k: usize, n: usize) -> Result<Self> {
        let (max_abs, has_min) = magnitude(b);
        Self::pack_with(b, k, n, Layout::preferred(max_abs, has_min))
    }

    /// Packs B in the given layout (an error if its weights do not fit it).
    pub fn pack_with(b: &[i8], k: usize, n: usize, layout: Layout) -> Result<Self> {
        check_len("B (K×N, row-major)", checked_len("B (K×N)", k, n)?, b.len())?;
        check_k(k)?;
        let (max_abs, has_min) = magnitude(b);
        if !layout.fits(max_abs, has_min) {
            return Err(crate::KernelError::InvalidParameter {
                name: "weight layout",
                value: format!("{layout:?} for weights up to {max_abs} in magnitude"),
                allowed: "Pairs for any int8, Quads without −128, Offset64 within ±63",
            });
        }
        let mut p = Self::zeroed(k, n, layout)?;
        if n > 0 {
            let off = layout.offset();
            for (i, row) in b.chunks_exact(n).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    if let Some(d) = p.data.get_mut(packed_index(layout, p.kp, i, j)) {
                        *d = v.wrapping_add(off);
                    }
                }
            }
        }
        Ok(p)
    }

    /// A packing of K×N zero weights (the padding, too, holds the layout's offset).
    pub(crate) fn zeroed(k: usize, n: usize, layout: Layout) -> Result<Self> {
        let kg = layout.kg();
        let kp = k.div_ceil(kg);
        let panels = n.div_ceil(NR);
        Ok(Self {
            k,
            n,
            kp,
            panels,
            data: vec![layout.offset(); checked_len("packed B", panels * kp, kg * NR)?],
            layout,
            col_sums: std::sync::OnceLock::new(),
        })
    }

    /// K (rows of B).
    pub fn k(&self) -> usize {
        self.k
    }

    /// N (columns of B = outputs).
    pub fn n(&self) -> usize {
        self.n
    }

    /// How the weights are laid out (and so which kernel runs them).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Bytes held by the packed copy (padding included).
    pub fn packed_bytes(&self) -> usize {
        self.data.len()
    }

    /// B[i][j], read back from the packed layout (`None` outside K×N).
    pub fn get(&self, i: usize, j: usize) -> Option<i8> {
        if i >= self.k || j >= self.n {
            return None;
        }
        self.data
            .get(packed_index(self.layout, self.kp, i, j))
            .map(|v| v.wrapping_sub(self.layout.offset()))
    }

    /// B back in its original K×N row-major form.
    pub fn to_row_major(&self) -> Vec<i8> {
        let mut out = Vec::with_capacity(self.k * self.n);
        for i in 0..self.k {
            for j in 0..self.n {
                out.push(self.get(i, j).unwrap_or(0));
            }
        }
        out
    }

    /// Each packed column's sum of weights Σ_k B[k][j] (panels·8 values, padding columns 0):
    /// the unsigned relaxed kernel subtracts its activations' offset times it. Made once, on
    /// first use, after the packing is filled.
    pub fn col_sums(&self) -> &[i32] {
        self.col_sums.get_or_init(|| {
            let mut sums = vec![0i32; self.panels * NR];
            let (plen, kg) = (self.panel_len(), self.layout.kg());
            if plen == 0 || kg == 0 {
                return sums;
            }
            let off = i32::from(self.layout.offset());
            for (panel, cols) in self.data.chunks_exact(plen).zip(sums.chunks_exact_mut(NR)) {
                for group in panel.chunks_exact(kg * NR) {
                    for (c, quad) in cols.iter_mut().zip(group.chunks_exact(kg)) {
                        *c += quad.iter().map(|&v| i32::from(v) - off).sum::<i32>();
                    }
                }
            }
            // The padding k of the last group holds the offset (a zero weight): nothing added.
            sums
        })
    }

    /// Bytes of one panel (ceil(K/kg) k-groups × kg·8).
    pub(crate) fn panel_len(&self) -> usize {
        self.kp * self.layout.kg() * NR
    }
}

/// Where B[i][j] sits in a packing of `layout` with `kp` k-groups per panel.
#[inline]
pub(crate) fn packed_index(layout: Layout, kp: usize, i: usize, j: usize) -> usize {
    let kg = layout.kg();
    (j / NR) * kp * kg * NR + (i / kg) * kg * NR + (j % NR) * kg + i % kg
}

/// F32 weights packed for [`gemm_f32`](super::gemm_f32): `ceil(N/8)` panels, each K rows of 8
/// consecutive columns (two `v128` per k), missing columns zero.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedF32 {
    pub(crate) k: usize,
    pub(crate) n: usize,
    pub(crate) panels: usize,
    pub(crate) data: Vec<f32>,
}

impl PackedF32 {
    /// Packs B (K×N, row-major f32). Fails if `b.len() != k·n`.
    pub fn pack(b: &[f32], k: usize, n: usize) -> Result<Self> {
        check_len("B (K×N, row-major)", checked_len("B (K×N)", k, n)?, b.len())?;
        let panels = n.div_ceil(NR);
        let mut data = vec![0f32; checked_len("packed B", panels * k, NR)?];
        if n > 0 {
            for (i, row) in b.chunks_exact(n).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    let idx = (j / NR) * k * NR + i * NR + j % NR;
                    if let Some(d) = data.get_mut(idx) {
                        *d = v;
                    }
                }
            }
        }
        Ok(Self { k, n, panels, data })
    }

    /// B (K×N) packed from its N columns, column j (output j's K weights) written by
    /// `column(j, buf)`: a matrix stored one output per row (torch's and GGUF's layout) packs
    /// without a transposed copy of itself.
    pub fn from_columns<E: From<KernelError>>(
        k: usize,
        n: usize,
        mut column: impl FnMut(usize, &mut [f32]) -> core::result::Result<(), E>,
    ) -> core::result::Result<Self, E> {
        let panels = n.div_ceil(NR);
        let mut data = vec![0f32; checked_len("packed B", panels * k, NR)?];
        let mut buf = vec![0f32; k];
        for j in 0..n {
            column(j, &mut buf)?;
            let (p, c) = (j / NR, j % NR);
            if let Some(panel) = data.get_mut(p * k * NR..(p + 1) * k * NR) {
                for (dst, &v) in panel.iter_mut().skip(c).step_by(NR).zip(&buf) {
                    *dst = v;
                }
            }
        }
        Ok(Self { k, n, panels, data })
    }

    /// K (rows of B).
    pub fn k(&self) -> usize {
        self.k
    }

    /// N (columns of B).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Bytes held by the packed copy (padding included).
    pub fn packed_bytes(&self) -> usize {
        self.data.len() * 4
    }

    /// B back in its original K×N row-major form (models keep only the packed copy, and
    /// quantize or rotate from this one).
    pub fn to_row_major(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.k * self.n];
        if self.n > 0 {
            for (i, row) in out.chunks_exact_mut(self.n).enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    let idx = (j / NR) * self.k * NR + i * NR + j % NR;
                    *v = self.data.get(idx).copied().unwrap_or(0.0);
                }
            }
        }
        out
    }

    pub(crate) fn panel_len(&self) -> usize {
        self.k * NR
    }

    /// A copy with `f` applied to blocks of up to `panels_per_block` panels at a time, each
    /// handed over as a K × width row-major matrix (width = NR · panels in the block; padding
    /// columns are zero) together with its width. Per-column transforms of the weights (a
    /// rotation of their input side) run on the packing directly, on blocks wide enough for
    /// long vector loops and small enough to stay in cache.
    pub fn map_column_blocks<E>(
        &self,
        panels_per_block: usize,
        mut f: impl FnMut(&mut [f32], usize) -> core::result::Result<(), E>,
    ) -> core::result::Result<PackedF32, E> {
        let mut out = self.clone();
        let len = self.panel_len().max(1);
        let per = panels_per_block.max(1);
        let mut buf = Vec::new();
        for block in out.data.chunks_mut(len * per) {
            let panels = block.len() / len;
            let width = panels * NR;
            buf.clear();
            buf.resize(self.k * width, 0f32);
            for (p, panel) in block.chunks_exact(len).enumerate() {
                for (i, row) in panel.chunks_exact(NR).enumerate() {
                    if let Some(dst) = buf.get_mut(i * width + p * NR..i * width + (p + 1) * NR) {
                        dst.copy_from_slice(row);
                    }
                }
            }
            f(&mut buf, width)?;
            for (p, panel) in block.chunks_exact_mut(len).enumerate() {
                for (i, row) in panel.chunks_exact_mut(NR).enumerate() {
                    if let Some(src) = buf.get(i * width + p * NR..i * width + (p + 1) * NR) {
                        row.copy_from_slice(src);
                    }
                }
            }
        }
        Ok(out)
    }

    /// max_i |B[i][j]| for every column j.
    pub fn col_absmax(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.panels * NR];
        for (panel, maxes) in self
            .data
            .chunks_exact(self.panel_len().max(1))
            .zip(out.chunks_exact_mut(NR))
        {
            for row in panel.chunks_exact(NR) {
                for (m, v) in maxes.iter_mut().zip(row) {
                    // Not f32::max (a call to fmaxf in wasm); NaN does not occur here.
                    let a = v.abs();
                    *m = if a > *m { a } else { *m };
                }
            }
        }
        out.truncate(self.n);
        out
    }

    /// max_j |B[i][j]| for every row i (SmoothQuant's weight maxima per input channel), read
    /// from the packing (padding columns are zero and change nothing).
    pub fn row_absmax(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.k];
        for panel in self.data.chunks_exact(self.panel_len().max(1)) {
            for (m, row) in out.iter_mut().zip(panel.chunks_exact(NR)) {
                *m = row.iter().fold(*m, |a, v| a.max(v.abs()));
            }
        }
        out
    }
}

/// The largest |w| and whether −128 occurs: what decides which layouts can hold the weights.
fn magnitude(b: &[i8]) -> (u8, bool) {
    let max_abs = b.iter().fold(0u8, |m, v| m.max(v.unsigned_abs()));
    (max_abs, max_abs == 128)
}
