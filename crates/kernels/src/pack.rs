//! Weight packing: B (K×N, row-major) is rearranged once into panels of [`NR`] columns so the
//! kernels read it strictly sequentially, one panel at a time.

use super::{check_k, check_len, checked_len, KG, NR};
use crate::error::Result;

/// Int8 weights packed for [`gemm_i8`](super::gemm_i8).
///
/// Layout: `ceil(N/8)` panels; a panel holds `ceil(K/KG)` k-groups of `KG·8` bytes, and group
/// `q` of panel `p` is column 8p's KG values `B[KG·q..KG·q+KG][8p]`, then column 8p+1's, …,
/// column 8p+7's. [`KG`] is 2 in the SIMD128 build: `i32x4.dot_i16x8_s` multiplies lane pairs and
/// adds them, so with A's two values `(A[r][2q], A[r][2q+1])` splatted to all lanes, one dot
/// gives 4 columns' partial sums over two k. It is 4 in the relaxed-SIMD build:
/// `i32x4.relaxed_dot_i8x16_i7x16_add_s` sums four byte products per lane, so 16 bytes are 4
/// columns × 4 k. Missing columns (N not a multiple of 8) and the missing k of the last group
/// are zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedI8 {
    pub(crate) k: usize,
    pub(crate) n: usize,
    /// ceil(K/KG), the k-groups of a panel.
    pub(crate) kp: usize,
    /// ceil(N/NR)
    pub(crate) panels: usize,
    pub(crate) data: Vec<i8>,
    /// Some weight is −128, whose negation does not fit in int8 (the relaxed kernels take the
    /// scalar path then; symmetric quantization never produces it).
    pub(crate) has_min: bool,
}

impl PackedI8 {
    /// Packs B (K×N, row-major int8). Fails if `b.len() != k·n` or K > [`MAX_K`](super::MAX_K).
    pub fn pack(b: &[i8], k: usize, n: usize) -> Result<Self> {
        check_len("B (K×N, row-major)", checked_len("B (K×N)", k, n)?, b.len())?;
        check_k(k)?;
        let kp = k.div_ceil(KG);
        let panels = n.div_ceil(NR);
        let mut data = vec![0i8; checked_len("packed B", panels * kp, KG * NR)?];
        if n > 0 {
            for (i, row) in b.chunks_exact(n).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    if let Some(d) = data.get_mut(packed_index(kp, i, j)) {
                        *d = v;
                    }
                }
            }
        }
        Ok(Self {
            k,
            n,
            kp,
            panels,
            data,
            has_min: b.contains(&i8::MIN),
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

    /// Bytes held by the packed copy (padding included).
    pub fn packed_bytes(&self) -> usize {
        self.data.len()
    }

    /// B[i][j], read back from the packed layout (`None` outside K×N).
    pub fn get(&self, i: usize, j: usize) -> Option<i8> {
        if i >= self.k || j >= self.n {
            return None;
        }
        self.data.get(packed_index(self.kp, i, j)).copied()
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

    /// Bytes of one panel (ceil(K/KG) k-groups × KG·8).
    pub(crate) fn panel_len(&self) -> usize {
        self.kp * KG * NR
    }
}

/// Where B[i][j] sits in a packing with `kp` k-groups per panel.
#[inline]
pub(crate) fn packed_index(kp: usize, i: usize, j: usize) -> usize {
    (j / NR) * kp * KG * NR + (i / KG) * KG * NR + (j % NR) * KG + i % KG
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
                    *m = m.max(v.abs());
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
