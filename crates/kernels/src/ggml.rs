//! llama.cpp's (ggml's) tensor storage types, read as they lie in a GGUF file: whole rows
//! decoded to f32, and a fused decode-and-dot for one activation row (the GEMV of token-by-token
//! generation, which never materialises the f32 weights).
//!
//! Block layouts (ggml's `block_q4_0`, `block_q4_1`, `block_q8_0`; little-endian):
//! * `Q4_0`: f16 d, 16 bytes of nibbles; value j (j < 16) = (low nibble of byte j − 8)·d,
//!   value j + 16 = (high nibble of byte j − 8)·d. 18 bytes per 32 values.
//! * `Q4_1`: f16 d, f16 m, 16 bytes of nibbles; value = nibble·d + m. 20 bytes per 32.
//! * `Q8_0`: f16 d, 32 signed bytes; value = q·d. 34 bytes per 32.
//! * `F16`, `BF16`, `F32`: plain values.
//!
//! Decoding follows ggml's `dequantize_row_*` (and the `gguf` Python package's `dequantize`):
//! d and m widened from f16 exactly, then `q·d + m` as a multiply and an add in f32 (no fused
//! multiply-add), so a decoded row is bit-identical to theirs. The fused dot regroups the sum
//! per block (d·Σq·x + m·Σx), so it differs from decode-then-dot by float rounding only.

use crate::error::{KernelError, Result};

/// Values per quantization block of the block formats.
pub const QK: usize = 32;

/// A tensor storage type of ggml that the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockType {
    F32,
    F16,
    BF16,
    Q8_0,
    Q4_0,
    Q4_1,
}

impl BlockType {
    pub const ALL: [BlockType; 6] = [
        Self::F32,
        Self::F16,
        Self::BF16,
        Self::Q8_0,
        Self::Q4_0,
        Self::Q4_1,
    ];

    /// ggml's `ggml_type` number, as a GGUF tensor header stores it.
    pub fn ggml_id(self) -> u32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q8_0 => 8,
            Self::BF16 => 30,
        }
    }

    pub fn from_ggml_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.ggml_id() == id)
    }

    /// ggml's name (`Q4_1`, `F16`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::BF16 => "BF16",
            Self::Q8_0 => "Q8_0",
            Self::Q4_0 => "Q4_0",
            Self::Q4_1 => "Q4_1",
        }
    }

    /// Values per block (1 for the plain types).
    pub fn block_values(self) -> usize {
        match self {
            Self::F32 | Self::F16 | Self::BF16 => 1,
            Self::Q8_0 | Self::Q4_0 | Self::Q4_1 => QK,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::Q8_0 => 34,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
        }
    }

    /// Bits per stored value, scales included (Q4_1: 5, Q8_0: 8.5).
    pub fn bits_per_value(self) -> f64 {
        (self.block_bytes() * 8) as f64 / self.block_values() as f64
    }

    /// Bytes of `values` consecutive values; `None` if `values` is not a whole number of
    /// blocks or the size overflows.
    pub fn bytes_for(self, values: usize) -> Option<usize> {
        if !values.is_multiple_of(self.block_values()) {
            return None;
        }
        (values / self.block_values()).checked_mul(self.block_bytes())
    }
}

/// IEEE binary16 → f32, exact (subnormals, infinities and NaN kept).
#[inline]
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        // Subnormal: man · 2^-24, exact in f32.
        (0, _) => {
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        (31, 0) => sign | 0x7f80_0000,
        (31, _) => sign | 0x7fc0_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 → f32 (the upper half of an f32), exact.
#[inline]
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

#[inline]
fn u16_at(b: &[u8], i: usize) -> u16 {
    match (b.get(i), b.get(i + 1)) {
        (Some(&lo), Some(&hi)) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    }
}

fn check_row(ty: BlockType, bytes: &[u8], values: usize) -> Result<()> {
    let need = ty.bytes_for(values).ok_or(KernelError::InvalidParameter {
        name: "row length",
        value: values.to_string(),
        allowed: "a whole number of 32-value blocks",
    })?;
    if bytes.len() != need {
        return Err(KernelError::LengthMismatch {
            what: "bytes of one stored row",
            expected: need,
            got: bytes.len(),
        });
    }
    Ok(())
}

/// Decodes one stored row (`bytes`, exactly the row's bytes) into `out` (its values).
pub fn decode_row(ty: BlockType, bytes: &[u8], out: &mut [f32]) -> Result<()> {
    check_row(ty, bytes, out.len())?;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if matches!(ty, BlockType::Q8_0 | BlockType::Q4_0 | BlockType::Q4_1) {
        decode_blocks_simd128(ty, bytes, out);
        return Ok(());
    }
    decode_row_scalar(ty, bytes, out);
    Ok(())
}

/// SIMD128 twin of [`decode_row_scalar`] for the block types (lengths checked by the caller):
/// the same multiply and add per value, four at a time.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn decode_blocks_simd128(ty: BlockType, bytes: &[u8], out: &mut [f32]) {
    use core::arch::wasm32::*;
    let bb = ty.block_bytes();
    let blocks = (bytes.len() / bb).min(out.len() / QK);
    // SAFETY: loads stay inside block b of `bytes` (16-byte loads from offset 2 or 4 end at
    // 18/34 ≤ bb), stores inside out[32b..32b+32].
    unsafe {
        for b in 0..blocks {
            let blk = bytes.as_ptr().add(b * bb);
            let op = out.as_mut_ptr().add(b * QK);
            let d = f32x4_splat(f16_to_f32(u16::from_le_bytes([*blk, *blk.add(1)])));
            let m = if ty == BlockType::Q4_1 {
                Some(f32x4_splat(f16_to_f32(u16::from_le_bytes([
                    *blk.add(2),
                    *blk.add(3),
                ]))))
            } else {
                None
            };
            let widen = |w: v128| {
                [
                    f32x4_convert_i32x4(i32x4_extend_low_i16x8(w)),
                    f32x4_convert_i32x4(i32x4_extend_high_i16x8(w)),
                ]
            };
            let halves: [v128; 4] = if ty == BlockType::Q8_0 {
                let v0 = v128_load(blk.add(2).cast());
                let v1 = v128_load(blk.add(18).cast());
                [
                    i16x8_extend_low_i8x16(v0),
                    i16x8_extend_high_i8x16(v0),
                    i16x8_extend_low_i8x16(v1),
                    i16x8_extend_high_i8x16(v1),
                ]
            } else {
                let head = if ty == BlockType::Q4_1 { 4 } else { 2 };
                let qs = v128_load(blk.add(head).cast());
                let lo = v128_and(qs, u8x16_splat(0x0f));
                let hi = u8x16_shr(qs, 4);
                let off = i16x8_splat(if ty == BlockType::Q4_0 { 8 } else { 0 });
                [
                    i16x8_sub(u16x8_extend_low_u8x16(lo), off),
                    i16x8_sub(u16x8_extend_high_u8x16(lo), off),
                    i16x8_sub(u16x8_extend_low_u8x16(hi), off),
                    i16x8_sub(u16x8_extend_high_u8x16(hi), off),
                ]
            };
            for (h, w) in halves.into_iter().enumerate() {
                for (i, q) in widen(w).into_iter().enumerate() {
                    let mut v = f32x4_mul(q, d);
                    if let Some(m) = m {
                        v = f32x4_add(v, m);
                    }
                    v128_store(op.add(8 * h + 4 * i).cast(), v);
                }
            }
        }
    }
}

/// Scalar twin of the row decoding (lengths checked by the caller).
pub fn decode_row_scalar(ty: BlockType, bytes: &[u8], out: &mut [f32]) {
    match ty {
        BlockType::F32 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = f32::from_bits(u32::from(u16_at(c, 0)) | u32::from(u16_at(c, 2)) << 16);
            }
        }
        BlockType::F16 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f16_to_f32(u16_at(c, 0));
            }
        }
        BlockType::BF16 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = bf16_to_f32(u16_at(c, 0));
            }
        }
        BlockType::Q8_0 => {
            for (o, blk) in out.chunks_exact_mut(QK).zip(bytes.chunks_exact(34)) {
                let d = f16_to_f32(u16_at(blk, 0));
                for (v, &q) in o.iter_mut().zip(blk.iter().skip(2)) {
                    *v = f32::from(q as i8) * d;
                }
            }
        }
        BlockType::Q4_0 => {
            for (o, blk) in out.chunks_exact_mut(QK).zip(bytes.chunks_exact(18)) {
                let d = f16_to_f32(u16_at(blk, 0));
                let (lo, hi) = o.split_at_mut(QK / 2);
                for ((a, b), &q) in lo.iter_mut().zip(hi.iter_mut()).zip(blk.iter().skip(2)) {
                    *a = f32::from((q & 0x0f) as i8 - 8) * d;
                    *b = f32::from((q >> 4) as i8 - 8) * d;
                }
            }
        }
        BlockType::Q4_1 => {
            for (o, blk) in out.chunks_exact_mut(QK).zip(bytes.chunks_exact(20)) {
                let d = f16_to_f32(u16_at(blk, 0));
                let m = f16_to_f32(u16_at(blk, 2));
                let (lo, hi) = o.split_at_mut(QK / 2);
                for ((a, b), &q) in lo.iter_mut().zip(hi.iter_mut()).zip(blk.iter().skip(4)) {
                    *a = f32::from(q & 0x0f) * d + m;
                    *b = f32::from(q >> 4) * d + m;
                }
            }
        }
    }
}

/// Σ of each block of 32 values of `x` (the m·Σx term of a Q4_1 dot), into `sums`.
pub fn block_sums(x: &[f32], sums: &mut Vec<f32>) {
    sums.clear();
    sums.extend(x.chunks(QK).map(|c| c.iter().sum::<f32>()));
}

/// row · x for one stored row, decoding as it goes. `x_block_sums` must be [`block_sums`] of
/// `x` (used by Q4_1 only; pass the same slice for every row of a matrix).
pub fn dot_row(ty: BlockType, bytes: &[u8], x: &[f32], x_block_sums: &[f32]) -> Result<f32> {
    check_row(ty, bytes, x.len())?;
    match ty {
        BlockType::F32 | BlockType::F16 | BlockType::BF16 => {
            let mut acc = 0f32;
            let mut tmp = [0f32; QK];
            let per = QK * ty.block_bytes();
            for (xc, bc) in x.chunks(QK).zip(bytes.chunks(per)) {
                let t = tmp.get_mut(..xc.len()).unwrap_or_default();
                decode_row_scalar(ty, bc, t);
                acc += dot(t, xc);
            }
            Ok(acc)
        }
        _ => {
            if ty == BlockType::Q4_1 && x_block_sums.len() != x.len() / QK {
                return Err(KernelError::LengthMismatch {
                    what: "block sums of x (one per 32 values)",
                    expected: x.len() / QK,
                    got: x_block_sums.len(),
                });
            }
            Ok(dot_blocks(ty, bytes, x, x_block_sums))
        }
    }
}

/// [`dot_row`] over many rows of one matrix: `rows` holds whole rows of `x.len()` values back to
/// back, one result per row into `out`. The lengths are checked once, not per row (a GEMV over
/// the 49,152 rows of an output head spent 5 % of its time re-checking them).
pub fn dot_rows(
    ty: BlockType,
    rows: &[u8],
    x: &[f32],
    x_block_sums: &[f32],
    out: &mut [f32],
) -> Result<()> {
    let row_bytes = ty.bytes_for(x.len()).ok_or(KernelError::InvalidParameter {
        name: "row length",
        value: x.len().to_string(),
        allowed: "a whole number of 32-value blocks",
    })?;
    if row_bytes == 0 || rows.len() != row_bytes * out.len() {
        return Err(KernelError::LengthMismatch {
            what: "bytes of the stored rows",
            expected: row_bytes * out.len(),
            got: rows.len(),
        });
    }
    match ty {
        BlockType::F32 | BlockType::F16 | BlockType::BF16 => {
            for (o, r) in out.iter_mut().zip(rows.chunks_exact(row_bytes)) {
                *o = dot_row(ty, r, x, x_block_sums)?;
            }
        }
        _ => {
            if ty == BlockType::Q4_1 && x_block_sums.len() != x.len() / QK {
                return Err(KernelError::LengthMismatch {
                    what: "block sums of x (one per 32 values)",
                    expected: x.len() / QK,
                    got: x_block_sums.len(),
                });
            }
            for (o, r) in out.iter_mut().zip(rows.chunks_exact(row_bytes)) {
                *o = dot_blocks(ty, r, x, x_block_sums);
            }
        }
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
use crate::x86::dot_blocks;
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
use dot_blocks_scalar as dot_blocks;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use dot_blocks_simd128 as dot_blocks;

/// The 32 values of one block as the dot kernels read them: element 4g + j is group g, lane j.
#[inline(always)]
fn block_value(ty: BlockType, blk: &[u8], e: usize) -> f32 {
    match ty {
        BlockType::Q8_0 => f32::from(blk.get(2 + e).copied().unwrap_or(0) as i8),
        BlockType::Q4_0 | BlockType::Q4_1 => {
            let head = if ty == BlockType::Q4_1 { 4 } else { 2 };
            let q = blk.get(head + e % 16).copied().unwrap_or(0);
            let nib = if e < 16 { q & 0x0f } else { q >> 4 };
            if ty == BlockType::Q4_0 {
                f32::from(nib as i8 - 8)
            } else {
                f32::from(nib)
            }
        }
        _ => 0.0,
    }
}

/// Scalar twin of the block dot (Q8_0, Q4_0, Q4_1; lengths checked by the caller), summing in
/// the SIMD twin's order: four lanes, lane j collecting elements 4g + j of a block in group
/// order, times the block's d, added to the lane's total; Q4_1's m·Σx in block order beside
/// them; then (l0 + l1) + (l2 + l3) + that.
pub fn dot_blocks_scalar(ty: BlockType, bytes: &[u8], x: &[f32], x_block_sums: &[f32]) -> f32 {
    let bb = ty.block_bytes();
    let mut acc = [0f32; 4];
    let mut macc = 0f32;
    for (b, (blk, xc)) in bytes.chunks_exact(bb).zip(x.chunks_exact(QK)).enumerate() {
        let d = f16_to_f32(u16_at(blk, 0));
        let mut v = [0f32; QK];
        for (e, ve) in v.iter_mut().enumerate() {
            *ve = block_value(ty, blk, e);
        }
        let mut s = [0f32; 4];
        for (vg, xg) in v.chunks_exact(4).zip(xc.chunks_exact(4)) {
            for ((sj, &a), &b) in s.iter_mut().zip(vg).zip(xg) {
                *sj += a * b;
            }
        }
        for (a, sj) in acc.iter_mut().zip(s) {
            *a += sj * d;
        }
        if ty == BlockType::Q4_1 {
            let m = f16_to_f32(u16_at(blk, 2));
            macc += m * x_block_sums.get(b).copied().unwrap_or(0.0);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + macc
}

/// SIMD128 twin of [`dot_blocks_scalar`]: the same sums in the same order, four lanes wide.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn dot_blocks_simd128(ty: BlockType, bytes: &[u8], x: &[f32], x_block_sums: &[f32]) -> f32 {
    use core::arch::wasm32::*;
    let bb = ty.block_bytes();
    let blocks = (bytes.len() / bb).min(x.len() / QK);
    // SAFETY: every load below stays inside block `b` of `bytes` (bb bytes from b·bb; the
    // 16-byte loads start at 2 or 4 and end at 18/34 ≤ bb) and inside x[32b..32b+32].
    unsafe {
        let mut acc = f32x4_splat(0.0);
        let mut macc = 0f32;
        for b in 0..blocks {
            let blk = bytes.as_ptr().add(b * bb);
            let xp = x.as_ptr().add(b * QK);
            let d = f16_to_f32(u16::from_le_bytes([*blk, *blk.add(1)]));
            let groups: [v128; 8] = match ty {
                BlockType::Q8_0 => {
                    let v0 = v128_load(blk.add(2).cast());
                    let v1 = v128_load(blk.add(18).cast());
                    let f = |w: v128| {
                        [
                            f32x4_convert_i32x4(i32x4_extend_low_i16x8(w)),
                            f32x4_convert_i32x4(i32x4_extend_high_i16x8(w)),
                        ]
                    };
                    let [a, b2] = f(i16x8_extend_low_i8x16(v0));
                    let [c, e] = f(i16x8_extend_high_i8x16(v0));
                    let [g, h] = f(i16x8_extend_low_i8x16(v1));
                    let [k, l] = f(i16x8_extend_high_i8x16(v1));
                    [a, b2, c, e, g, h, k, l]
                }
                _ => {
                    let head = if ty == BlockType::Q4_1 { 4 } else { 2 };
                    let qs = v128_load(blk.add(head).cast());
                    let lo = v128_and(qs, u8x16_splat(0x0f));
                    let hi = u8x16_shr(qs, 4);
                    let off = if ty == BlockType::Q4_0 { 8 } else { 0 };
                    let f = |w: v128| {
                        let w = i16x8_sub(w, i16x8_splat(off));
                        [
                            f32x4_convert_i32x4(i32x4_extend_low_i16x8(w)),
                            f32x4_convert_i32x4(i32x4_extend_high_i16x8(w)),
                        ]
                    };
                    let [a, b2] = f(u16x8_extend_low_u8x16(lo));
                    let [c, e] = f(u16x8_extend_high_u8x16(lo));
                    let [g, h] = f(u16x8_extend_low_u8x16(hi));
                    let [k, l] = f(u16x8_extend_high_u8x16(hi));
                    [a, b2, c, e, g, h, k, l]
                }
            };
            let mut s = f32x4_splat(0.0);
            for (g, q) in groups.into_iter().enumerate() {
                s = f32x4_add(s, f32x4_mul(q, v128_load(xp.add(4 * g).cast())));
            }
            acc = f32x4_add(acc, f32x4_mul(s, f32x4_splat(d)));
            if ty == BlockType::Q4_1 {
                let m = f16_to_f32(u16::from_le_bytes([*blk.add(2), *blk.add(3)]));
                macc += m * x_block_sums.get(b).copied().unwrap_or(0.0);
            }
        }
        let l = |i| match i {
            0 => f32x4_extract_lane::<0>(acc),
            1 => f32x4_extract_lane::<1>(acc),
            2 => f32x4_extract_lane::<2>(acc),
            _ => f32x4_extract_lane::<3>(acc),
        };
        (l(0) + l(1)) + (l(2) + l(3)) + macc
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
