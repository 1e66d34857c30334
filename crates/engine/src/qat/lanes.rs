//! The trainer's inner loops (axpy, dot, element-wise add, the Adam and SGD updates) on 4-lane
//! f32 vectors:
//! WebAssembly SIMD128 in the browser, SSE2 on x86-64, plain arrays elsewhere.
//!
//! Why by hand: the app is built with `opt-level = "z"`, at which LLVM does no auto-vectorisation,
//! and these loops are 70 % of a training step. Every lane does exactly what the scalar loop
//! does — one multiply, then one add, no fused multiply-add, sums in a fixed order — so results
//! are bit-identical on every target (checked against the scalar formulas in the tests below).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod v {
    use core::arch::wasm32::*;
    #[derive(Clone, Copy)]
    pub struct V(v128);
    #[inline(always)]
    pub fn load(s: &[f32; 4]) -> V {
        // SAFETY: `s` is 16 readable bytes; wasm loads need no alignment.
        V(unsafe { v128_load(s.as_ptr() as *const v128) })
    }
    #[inline(always)]
    pub fn store(d: &mut [f32; 4], x: V) {
        // SAFETY: `d` is 16 writable bytes; wasm stores need no alignment.
        unsafe { v128_store(d.as_mut_ptr() as *mut v128, x.0) }
    }
    #[inline(always)]
    pub fn splat(a: f32) -> V {
        V(f32x4_splat(a))
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        V(f32x4_add(a.0, b.0))
    }
    #[inline(always)]
    pub fn mul(a: V, b: V) -> V {
        V(f32x4_mul(a.0, b.0))
    }
    #[inline(always)]
    pub fn sub(a: V, b: V) -> V {
        V(f32x4_sub(a.0, b.0))
    }
    #[inline(always)]
    pub fn div(a: V, b: V) -> V {
        V(f32x4_div(a.0, b.0))
    }
    #[inline(always)]
    pub fn sqrt(a: V) -> V {
        V(f32x4_sqrt(a.0))
    }
    #[inline(always)]
    pub fn lanes(x: V) -> [f32; 4] {
        [
            f32x4_extract_lane::<0>(x.0),
            f32x4_extract_lane::<1>(x.0),
            f32x4_extract_lane::<2>(x.0),
            f32x4_extract_lane::<3>(x.0),
        ]
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod v {
    use core::arch::x86_64::*;
    #[derive(Clone, Copy)]
    pub struct V(__m128);
    #[inline(always)]
    pub fn load(s: &[f32; 4]) -> V {
        // SAFETY: SSE2 is enabled (cfg); `s` is 16 readable bytes; loadu needs no alignment.
        V(unsafe { _mm_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    pub fn store(d: &mut [f32; 4], x: V) {
        // SAFETY: as above, 16 writable bytes.
        unsafe { _mm_storeu_ps(d.as_mut_ptr(), x.0) }
    }
    #[inline(always)]
    pub fn splat(a: f32) -> V {
        // SAFETY: SSE2 is enabled.
        V(unsafe { _mm_set1_ps(a) })
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        // SAFETY: SSE2 is enabled.
        V(unsafe { _mm_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    pub fn mul(a: V, b: V) -> V {
        // SAFETY: SSE2 is enabled.
        V(unsafe { _mm_mul_ps(a.0, b.0) })
    }
    #[inline(always)]
    pub fn sub(a: V, b: V) -> V {
        // SAFETY: SSE2 is enabled.
        V(unsafe { _mm_sub_ps(a.0, b.0) })
    }
    #[inline(always)]
    pub fn div(a: V, b: V) -> V {
        // SAFETY: SSE2 is enabled.
        V(unsafe { _mm_div_ps(a.0, b.0) })
    }
    #[inline(always)]
    pub fn sqrt(a: V) -> V {
        // SAFETY: SSE2 is enabled.
        V(unsafe { _mm_sqrt_ps(a.0) })
    }
    #[inline(always)]
    pub fn lanes(x: V) -> [f32; 4] {
        let mut o = [0.0f32; 4];
        store(&mut o, x);
        o
    }
}

#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    all(target_arch = "x86_64", target_feature = "sse2")
)))]
mod v {
    #[derive(Clone, Copy)]
    pub struct V([f32; 4]);
    #[inline(always)]
    pub fn load(s: &[f32; 4]) -> V {
        V(*s)
    }
    #[inline(always)]
    pub fn store(d: &mut [f32; 4], x: V) {
        *d = x.0;
    }
    #[inline(always)]
    pub fn splat(a: f32) -> V {
        V([a; 4])
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        let [a0, a1, a2, a3] = a.0;
        let [b0, b1, b2, b3] = b.0;
        V([a0 + b0, a1 + b1, a2 + b2, a3 + b3])
    }
    #[inline(always)]
    pub fn mul(a: V, b: V) -> V {
        let [a0, a1, a2, a3] = a.0;
        let [b0, b1, b2, b3] = b.0;
        V([a0 * b0, a1 * b1, a2 * b2, a3 * b3])
    }
    #[inline(always)]
    pub fn sub(a: V, b: V) -> V {
        let [a0, a1, a2, a3] = a.0;
        let [b0, b1, b2, b3] = b.0;
        V([a0 - b0, a1 - b1, a2 - b2, a3 - b3])
    }
    #[inline(always)]
    pub fn div(a: V, b: V) -> V {
        let [a0, a1, a2, a3] = a.0;
        let [b0, b1, b2, b3] = b.0;
        V([a0 / b0, a1 / b1, a2 / b2, a3 / b3])
    }
    #[inline(always)]
    pub fn sqrt(a: V) -> V {
        let [a0, a1, a2, a3] = a.0;
        V([a0.sqrt(), a1.sqrt(), a2.sqrt(), a3.sqrt()])
    }
    #[inline(always)]
    pub fn lanes(x: V) -> [f32; 4] {
        x.0
    }
}

use v::*;

#[inline(always)]
fn arr(s: &[f32]) -> Option<&[f32; 4]> {
    s.try_into().ok()
}

#[inline(always)]
fn at4(s: &[f32], k: usize) -> Option<&[f32; 4]> {
    s.get(k..k.checked_add(4)?)?.try_into().ok()
}

#[inline(always)]
fn arr_mut(s: &mut [f32]) -> Option<&mut [f32; 4]> {
    s.try_into().ok()
}

/// y[k] += a·x[k] over the common length (one rounding for the product, one for the sum).
#[inline]
pub(crate) fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    let av = splat(a);
    let mut k = 0;
    while k + 4 <= n {
        if let (Some(yy), Some(xx)) = (y.get_mut(k..k + 4), x.get(k..k + 4)) {
            if let (Some(yy), Some(xx)) = (arr_mut(yy), arr(xx)) {
                let r = add(load(yy), mul(av, load(xx)));
                store(yy, r);
            }
        }
        k += 4;
    }
    while k < n {
        if let (Some(yy), Some(&xx)) = (y.get_mut(k), x.get(k)) {
            *yy += a * xx;
        }
        k += 1;
    }
}

/// y[k] += x[k] over the common length.
#[inline]
pub(crate) fn add_assign(y: &mut [f32], x: &[f32]) {
    let n = y.len().min(x.len());
    let mut k = 0;
    while k + 4 <= n {
        if let (Some(yy), Some(xx)) = (y.get_mut(k..k + 4), x.get(k..k + 4)) {
            if let (Some(yy), Some(xx)) = (arr_mut(yy), arr(xx)) {
                let r = add(load(yy), load(xx));
                store(yy, r);
            }
        }
        k += 4;
    }
    while k < n {
        if let (Some(yy), Some(&xx)) = (y.get_mut(k), x.get(k)) {
            *yy += xx;
        }
        k += 1;
    }
}

/// Σ a[k]·b[k] over the common length with 8 running sums: sum j (0..8) takes the products
/// k ≡ j (mod 8) of the full blocks of 8; they are combined as
/// ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)), then the leftover products are added in
/// order.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut lo = splat(0.0);
    let mut hi = splat(0.0);
    let mut k = 0;
    while k + 8 <= n {
        if let (Some(xl), Some(xh), Some(yl), Some(yh)) =
            (at4(a, k), at4(a, k + 4), at4(b, k), at4(b, k + 4))
        {
            lo = add(lo, mul(load(xl), load(yl)));
            hi = add(hi, mul(load(xh), load(yh)));
        }
        k += 8;
    }
    let [l0, l1, l2, l3] = lanes(add(lo, hi));
    let mut s = (l0 + l1) + (l2 + l3);
    while k < n {
        if let (Some(&p), Some(&q)) = (a.get(k), b.get(k)) {
            s += p * q;
        }
        k += 1;
    }
    s
}

/// y[k] = x[k] over the common length.
#[inline]
pub(crate) fn copy(y: &mut [f32], x: &[f32]) {
    let n = y.len().min(x.len());
    if let (Some(y), Some(x)) = (y.get_mut(..n), x.get(..n)) {
        y.copy_from_slice(x);
    }
}

/// Constants of one Adam update (see `optim`).
#[derive(Clone, Copy)]
pub(crate) struct AdamK {
    pub gscale: f32,
    pub wd: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub c1: f32,
    pub c2: f32,
    pub bc1: f32,
    pub bc2: f32,
    pub lr: f32,
    pub eps: f32,
}

/// One Adam step on every element, exactly as the scalar `adam_one`.
pub(crate) fn adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: AdamK) {
    let n = p.len().min(g.len()).min(m.len()).min(v.len());
    let (gs, wd, b1, b2, c1, c2) = (
        splat(k.gscale),
        splat(k.wd),
        splat(k.beta1),
        splat(k.beta2),
        splat(k.c1),
        splat(k.c2),
    );
    let (bc1, bc2, lr, eps) = (splat(k.bc1), splat(k.bc2), splat(k.lr), splat(k.eps));
    let mut i = 0;
    while i + 4 <= n {
        let r = i..i + 4;
        if let (Some(pp), Some(gg), Some(mm), Some(vv)) = (
            p.get_mut(r.clone()).and_then(arr_mut),
            g.get(r.clone()).and_then(arr),
            m.get_mut(r.clone()).and_then(arr_mut),
            v.get_mut(r).and_then(arr_mut),
        ) {
            let pv = load(pp);
            let gv = add(mul(load(gg), gs), mul(wd, pv));
            let mv = add(mul(b1, load(mm)), mul(c1, gv));
            let vv2 = add(mul(b2, load(vv)), mul(mul(c2, gv), gv));
            let mh = div(mv, bc1);
            let vh = div(vv2, bc2);
            let np = sub(pv, div(mul(lr, mh), add(sqrt(vh), eps)));
            store(mm, mv);
            store(vv, vv2);
            store(pp, np);
        }
        i += 4;
    }
    while i < n {
        if let (Some(pp), Some(&gg), Some(mm), Some(vv)) =
            (p.get_mut(i), g.get(i), m.get_mut(i), v.get_mut(i))
        {
            adam_one(pp, gg, mm, vv, &k);
        }
        i += 1;
    }
}

#[inline(always)]
pub(crate) fn adam_one(p: &mut f32, g: f32, m: &mut f32, v: &mut f32, k: &AdamK) {
    let gg = g * k.gscale + k.wd * *p;
    *m = k.beta1 * *m + k.c1 * gg;
    *v = k.beta2 * *v + k.c2 * gg * gg;
    let mh = *m / k.bc1;
    let vh = *v / k.bc2;
    *p -= k.lr * mh / (vh.sqrt() + k.eps);
}

/// One SGD-with-momentum step on every element, exactly as the scalar `sgd_one`.
pub(crate) fn sgd(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    gscale: f32,
    wd: f32,
    momentum: f32,
    lr: f32,
) {
    let n = p.len().min(g.len()).min(m.len());
    let (gs, wdv, mu, lrv) = (splat(gscale), splat(wd), splat(momentum), splat(lr));
    let mut i = 0;
    while i + 4 <= n {
        let r = i..i + 4;
        if let (Some(pp), Some(gg), Some(mm)) = (
            p.get_mut(r.clone()).and_then(arr_mut),
            g.get(r.clone()).and_then(arr),
            m.get_mut(r).and_then(arr_mut),
        ) {
            let pv = load(pp);
            let gv = add(mul(load(gg), gs), mul(wdv, pv));
            let mv = add(mul(mu, load(mm)), gv);
            store(mm, mv);
            store(pp, sub(pv, mul(lrv, mv)));
        }
        i += 4;
    }
    while i < n {
        if let (Some(pp), Some(&gg), Some(mm)) = (p.get_mut(i), g.get(i), m.get_mut(i)) {
            sgd_one(pp, gg, mm, gscale, wd, momentum, lr);
        }
        i += 1;
    }
}

#[inline(always)]
pub(crate) fn sgd_one(
    p: &mut f32,
    g: f32,
    m: &mut f32,
    gscale: f32,
    wd: f32,
    momentum: f32,
    lr: f32,
) {
    let gg = g * gscale + wd * *p;
    *m = momentum * *m + gg;
    *p -= lr * *m;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Pcg32;

    fn rand(n: usize, r: &mut Pcg32) -> Vec<f32> {
        (0..n).map(|_| (r.next_f64() * 2.0 - 1.0) as f32).collect()
    }

    #[test]
    fn match_scalar_formulas_bitwise() {
        let mut r = Pcg32::new(7);
        for n in [0usize, 1, 3, 4, 7, 8, 9, 10, 15, 16, 17, 63, 64, 65] {
            let x = rand(n, &mut r);
            let y0 = rand(n, &mut r);
            let a = 0.37f32;
            let mut y = y0.clone();
            axpy(&mut y, a, &x);
            for k in 0..n {
                assert_eq!(y[k].to_bits(), (y0[k] + a * x[k]).to_bits());
            }
            let mut y = y0.clone();
            add_assign(&mut y, &x);
            for k in 0..n {
                assert_eq!(y[k].to_bits(), (y0[k] + x[k]).to_bits());
            }
            let mut s = [0.0f32; 8];
            let n8 = n / 8 * 8;
            for k in 0..n8 {
                s[k % 8] += x[k] * y0[k];
            }
            let mut want = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
            for k in n8..n {
                want += x[k] * y0[k];
            }
            assert_eq!(dot(&x, &y0).to_bits(), want.to_bits(), "n = {n}");
            let k = AdamK {
                gscale: 0.3,
                wd: 1e-4,
                beta1: 0.9,
                beta2: 0.999,
                c1: 0.1,
                c2: 0.001,
                bc1: 0.19,
                bc2: 0.002,
                lr: 1e-3,
                eps: 1e-8,
            };
            let g = rand(n, &mut r);
            let (mut p1, mut m1, mut v1) = (
                y0.clone(),
                x.clone(),
                x.iter().map(|a| a * a).collect::<Vec<_>>(),
            );
            let (mut p2, mut m2, mut v2) = (p1.clone(), m1.clone(), v1.clone());
            adam(&mut p1, &g, &mut m1, &mut v1, k);
            for i in 0..n {
                adam_one(&mut p2[i], g[i], &mut m2[i], &mut v2[i], &k);
            }
            assert_eq!(
                p1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                p2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(
                m1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                m2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(
                v1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                v2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            let (mut p1, mut m1) = (y0.clone(), x.clone());
            let (mut p2, mut m2) = (p1.clone(), m1.clone());
            sgd(&mut p1, &g, &mut m1, 0.5, 1e-4, 0.9, 0.01);
            for i in 0..n {
                sgd_one(&mut p2[i], g[i], &mut m2[i], 0.5, 1e-4, 0.9, 0.01);
            }
            assert_eq!(
                p1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                p2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(
                m1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                m2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
