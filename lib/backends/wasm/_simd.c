// SIMD kernels for training on the wasm backend, compiled to lib/backends/wasm/_simd_binary.ts by
// tools/build_simd.sh (see lib/backends/wasm/_simd.ts for how they are used).
//
// The module imports the wasm backend's own memory and works on its tensors in place, so it must
// not touch any memory of its own: no static data, no stack (small local arrays only where the
// compiler keeps them in registers), no C library. The build checks the compiled module for that.
// Pointers are byte offsets into that memory; all data is float32, NHWC. The convolution and
// pooling kernels take channel counts in multiples of 4; the row and batch-normalisation kernels
// take any.
#include <wasm_simd128.h>

typedef float f32;
typedef v128_t vec;

#define INLINE static inline __attribute__((always_inline))

INLINE vec load(const f32 *p) { return wasm_v128_load(p); }
INLINE void store(f32 *p, vec v) { wasm_v128_store(p, v); }
INLINE vec splat(f32 x) { return wasm_f32x4_splat(x); }
INLINE vec mac(vec acc, vec a, vec b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

// acc[0..3] += v, in double precision.
INLINE void accumulate(double *acc, vec v) {
  wasm_v128_store(acc, wasm_f64x2_add(wasm_v128_load(acc), wasm_f64x2_promote_low_f32x4(v)));
  const vec high = wasm_i32x4_shuffle(v, v, 2, 3, 0, 1);
  wasm_v128_store(acc + 2,
                  wasm_f64x2_add(wasm_v128_load(acc + 2), wasm_f64x2_promote_low_f32x4(high)));
}

// Copies x [n, h, w, c] into xp [n, hp, wp, c] at row `top` and column `left`, zeros around it.
// Rows and columns of x that fall outside xp are left out.
void pad_nhwc(const f32 *x, f32 *xp, int n, int h, int w, int c, int hp, int wp, int top,
              int left) {
  __builtin_memset(xp, 0, (unsigned long)n * hp * wp * c * sizeof(f32));
  const int rows = h < hp - top ? h : hp - top;
  const int cols = w < wp - left ? w : wp - left;
  for (int b = 0; b < n; b++)
    for (int r = 0; r < rows; r++)
      __builtin_memcpy(xp + (((long)b * hp + r + top) * wp + left) * c,
                       x + ((long)b * h + r) * w * c, (unsigned long)cols * c * sizeof(f32));
}

// Adds, over one row of output pixels, dy[q, o..o+3] ⊗ (window row of pixel q, lanes
// 4c..4c+4·nv) into the accumulators acc[o + j][lanes] (rows of `lanes` values).
INLINE void filter_grad_row(const f32 *xrow, int xstep, const f32 *dyrow, int co, int ow,
                            f32 *acc, int lanes, int nv) {
  vec a[4][3];
  for (int j = 0; j < 4; j++)
    for (int k = 0; k < nv; k++) a[j][k] = load(acc + (long)j * lanes + 4 * k);
  for (int q = 0; q < ow; q++) {
    const f32 *x = xrow + (long)q * xstep;
    const f32 *d = dyrow + (long)q * co;
    vec xv[3];
    for (int k = 0; k < nv; k++) xv[k] = load(x + 4 * k);
    for (int j = 0; j < 4; j++) {
      const vec s = splat(d[j]);
      for (int k = 0; k < nv; k++) a[j][k] = mac(a[j][k], s, xv[k]);
    }
  }
  for (int j = 0; j < 4; j++)
    for (int k = 0; k < nv; k++) store(acc + (long)j * lanes + 4 * k, a[j][k]);
}

// dw[a,b,i,o] = Σ_{n,p,q} xp[n, p·sh+a, q·sw+b, i] · dy[n,p,q,o], with xp padded so that every
// window lies inside it. The window row of a pixel (kw·ci values) is taken in vectors of 4
// lanes, so `lanes` is kw·ci rounded up to a multiple of 4 and xp must have lanes - kw·ci
// readable floats after its end (their products land in lanes that are dropped). acc: scratch of
// kh·co·lanes.
void conv_filter_grad(const f32 *xp, const f32 *dy, f32 *dw, f32 *acc, int n, int hp, int wp,
                      int ci, int oh, int ow, int co, int kh, int kw, int sh, int sw) {
  const int taps = kw * ci;
  const int lanes = (taps + 3) & ~3;
  const int xstep = sw * ci;
  const long xrow_step = (long)wp * ci;
  __builtin_memset(acc, 0, (unsigned long)kh * co * lanes * sizeof(f32));
  for (int b = 0; b < n; b++)
    for (int p = 0; p < oh; p++) {
      const f32 *dyrow = dy + ((long)b * oh + p) * ow * co;
      for (int r = 0; r < kh; r++) {
        const f32 *xrow = xp + ((long)b * hp + (long)p * sh + r) * xrow_step;
        for (int o = 0; o < co; o += 4) {
          f32 *ar = acc + ((long)r * co + o) * lanes;
          int c = 0;
          for (; c + 12 <= lanes; c += 12)
            filter_grad_row(xrow + c, xstep, dyrow + o, co, ow, ar + c, lanes, 3);
          if (lanes - c == 8) filter_grad_row(xrow + c, xstep, dyrow + o, co, ow, ar + c, lanes, 2);
          if (lanes - c == 4) filter_grad_row(xrow + c, xstep, dyrow + o, co, ow, ar + c, lanes, 1);
        }
      }
    }
  for (int r = 0; r < kh; r++)
    for (int t = 0; t < taps; t++)
      for (int o = 0; o < co; o++)
        dw[((long)r * taps + t) * co + o] = acc[((long)r * co + o) * lanes + t];
}

// Max pooling's gradient: each window's dy goes to the first position (row by row) where x equals
// the window's maximum y, which is found 4 channels at a time; windows are clipped to the input,
// as TF.js pools. Windows whose maximum is -Infinity get nothing, as on the cpu backend. Returns
// the number of (window, channel) pairs left unresolved (a NaN maximum, or no equal value), for
// which the caller has to fall back to a full search.
int max_pool_grad(const f32 *x, const f32 *y, const f32 *dy, f32 *dx, int n, int h, int w, int c,
                  int oh, int ow, int kh, int kw, int sh, int sw, int top, int left) {
  // Where windows do not overlap, each position gets at most one window's share: stored, not
  // added. Where they tile the input exactly (stride = size, every position in a window), every
  // position is visited and written once, so dx needs no clearing first.
  const int overlap = kh > sh || kw > sw;
  const int tiles = kh == sh && kw == sw && oh * sh - top >= h && ow * sw - left >= w;
  if (!tiles) __builtin_memset(dx, 0, (unsigned long)n * h * w * c * sizeof(f32));
  const vec minus_inf = wasm_f32x4_splat(-__builtin_inff());
  vec unresolved = wasm_i32x4_splat(0);
  for (int b = 0; b < n; b++)
    for (int p = 0; p < oh; p++) {
      int r0 = p * sh - top, r1 = r0 + kh;
      if (r0 < 0) r0 = 0;
      if (r1 > h) r1 = h;
      for (int q = 0; q < ow; q++) {
        int c0 = q * sw - left, c1 = c0 + kw;
        if (c0 < 0) c0 = 0;
        if (c1 > w) c1 = w;
        const long at = (((long)b * oh + p) * ow + q) * c;
        for (int k = 0; k < c; k += 4) {
          const vec m = load(y + at + k);
          const vec g = load(dy + at + k);
          // lanes still looking: the maximum is above -Infinity (false for NaN)
          vec open = wasm_f32x4_gt(m, minus_inf);
          const vec nan = wasm_f32x4_ne(m, m);
          for (int r = r0; r < r1 && (tiles || wasm_v128_any_true(open)); r++) {
            const long row = (((long)b * h + r) * w) * c + k;
            for (int s = c0; s < c1; s++) {
              const vec hit = wasm_v128_and(wasm_f32x4_eq(load(x + row + (long)s * c), m), open);
              f32 *d = dx + row + (long)s * c;
              const vec share = wasm_v128_and(g, hit);
              store(d, overlap ? wasm_f32x4_add(load(d), share) : share);
              open = wasm_v128_andnot(open, hit);
            }
          }
          unresolved = wasm_i32x4_sub(unresolved, wasm_v128_or(open, nan));
        }
      }
    }
  return wasm_i32x4_extract_lane(unresolved, 0) + wasm_i32x4_extract_lane(unresolved, 1) +
         wasm_i32x4_extract_lane(unresolved, 2) + wasm_i32x4_extract_lane(unresolved, 3);
}

// out[c] = scale · Σ_r x[r, c] for x [rows, cols], summed in double precision row by row (vectors
// of 4 columns, then one column at a time). acc: scratch of cols doubles.
void sum_rows(const f32 *x, f32 *out, int rows, int cols, double scale, double *acc) {
  const int c4 = cols & ~3;
  for (int c = 0; c < cols; c++) acc[c] = 0;
  for (int r = 0; r < rows; r++) {
    const f32 *row = x + (long)r * cols;
    for (int c = 0; c < c4; c += 4) accumulate(acc + c, load(row + c));
    for (int c = c4; c < cols; c++) acc[c] += row[c];
  }
  for (int c = 0; c < cols; c++) out[c] = (f32)(acc[c] * scale);
}

// out[r, c] = x[r, c] + v[c] for x [rows, cols].
void add_rows(const f32 *x, const f32 *v, f32 *out, int rows, int cols) {
  const int c4 = cols & ~3;
  for (int r = 0; r < rows; r++) {
    const f32 *row = x + (long)r * cols;
    f32 *o = out + (long)r * cols;
    for (int c = 0; c < c4; c += 4) store(o + c, wasm_f32x4_add(load(row + c), load(v + c)));
    for (int c = c4; c < cols; c++) o[c] = row[c] + v[c];
  }
}

// Batch normalisation in training mode over x [rows, c] (the channels last), for any c: vectors
// of 4 channels, then one channel at a time. Sums are taken in double precision, row by row, and
// the statistics rounded as TF.js's moments rounds them on this backend: mean = Σx / rows, then
// variance = Σ (x - mean)² / rows with x - mean and its square in float32.

// mean[k] and var[k] of x [rows, c]; acc: scratch of c doubles.
void bn_stats(const f32 *x, f32 *mean, f32 *var, int rows, int c, double *acc) {
  const double scale = 1.0 / rows;
  const int c4 = c & ~3;
  sum_rows(x, mean, rows, c, scale, acc);
  for (int k = 0; k < c; k++) acc[k] = 0;
  for (int r = 0; r < rows; r++) {
    const f32 *row = x + (long)r * c;
    for (int k = 0; k < c4; k += 4) {
      const vec dev = wasm_f32x4_sub(load(row + k), load(mean + k));
      accumulate(acc + k, wasm_f32x4_mul(dev, dev));
    }
    for (int k = c4; k < c; k++) {
      const f32 dev = row[k] - mean[k];
      acc[k] += dev * dev;
    }
  }
  for (int k = 0; k < c; k++) var[k] = (f32)(acc[k] * scale);
}

// y = (x - mean) · factor + offset, factor = scale / sqrt(var + epsilon); factor: scratch of c.
void bn_normalize(const f32 *x, const f32 *mean, const f32 *var, const f32 *scale,
                  const f32 *offset, f32 *y, int rows, int c, f32 epsilon, f32 *factor) {
  const int c4 = c & ~3;
  for (int k = 0; k < c; k++) factor[k] = scale[k] / __builtin_sqrtf(var[k] + epsilon);
  for (int r = 0; r < rows; r++) {
    const f32 *row = x + (long)r * c;
    f32 *out = y + (long)r * c;
    for (int k = 0; k < c4; k += 4)
      store(out + k, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(load(row + k), load(mean + k)),
                                                   load(factor + k)),
                                    load(offset + k)));
    for (int k = c4; k < c; k++) out[k] = (row[k] - mean[k]) * factor[k] + offset[k];
  }
}

// The gradients of bn_normalize with the batch statistics' own (they depend on x): with
// inv = 1 / sqrt(var + epsilon) and x̂ = (x - mean) · inv,
//   doffset = Σ dy,  dscale = Σ dy · x̂,
//   dx = scale · inv · (dy - doffset / rows - x̂ · dscale / rows).
// acc: scratch of 2·c doubles; coef: scratch of 3·c floats.
void bn_grad(const f32 *dy, const f32 *x, const f32 *mean, const f32 *var, const f32 *scale,
             f32 *dx, f32 *dscale, f32 *doffset, int rows, int c, f32 epsilon, double *acc,
             f32 *coef) {
  const int c4 = c & ~3;
  double *sum_dy = acc, *sum_dy_dev = acc + c;
  for (int k = 0; k < 2 * c; k++) acc[k] = 0;
  // Σ dy and Σ dy · (x - mean), the product in float32
  for (int r = 0; r < rows; r++) {
    const f32 *g = dy + (long)r * c, *row = x + (long)r * c;
    for (int k = 0; k < c4; k += 4) {
      const vec gv = load(g + k);
      accumulate(sum_dy + k, gv);
      accumulate(sum_dy_dev + k, wasm_f32x4_mul(gv, wasm_f32x4_sub(load(row + k), load(mean + k))));
    }
    for (int k = c4; k < c; k++) {
      sum_dy[k] += g[k];
      sum_dy_dev[k] += g[k] * (row[k] - mean[k]);
    }
  }
  // dx = a · dy + b · (x - mean) + d per channel
  f32 *a = coef, *b = coef + c, *d = coef + 2 * c;
  for (int k = 0; k < c; k++) {
    const double inv = 1.0 / __builtin_sqrt((double)var[k] + epsilon);
    const double ds = sum_dy_dev[k] * inv;
    doffset[k] = (f32)sum_dy[k];
    dscale[k] = (f32)ds;
    a[k] = (f32)(scale[k] * inv);
    b[k] = (f32)(-scale[k] * inv * inv * ds / rows);
    d[k] = (f32)(-scale[k] * inv * sum_dy[k] / rows);
  }
  for (int r = 0; r < rows; r++) {
    const f32 *g = dy + (long)r * c, *row = x + (long)r * c;
    f32 *out = dx + (long)r * c;
    for (int k = 0; k < c4; k += 4) {
      const vec dev = wasm_f32x4_sub(load(row + k), load(mean + k));
      store(out + k, wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(load(a + k), load(g + k)),
                                                   wasm_f32x4_mul(load(b + k), dev)),
                                    load(d + k)));
    }
    for (int k = c4; k < c; k++) out[k] = a[k] * g[k] + b[k] * (row[k] - mean[k]) + d[k];
  }
}

// The ReLU's gradient as TF.js composes it on this backend, dy · step(x), in one pass: step(x) is
// 1 above 0, NaN for NaN and 0 elsewhere, so every product (-0 and NaN included) is the same.
void relu_grad(const f32 *dy, const f32 *x, f32 *out, int n) {
  const vec one = wasm_f32x4_splat(1), zero = wasm_f32x4_splat(0);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const vec v = load(x + i);
    const vec step = wasm_v128_or(wasm_v128_and(wasm_f32x4_gt(v, zero), one),
                                  wasm_v128_and(wasm_f32x4_ne(v, v), v));
    store(out + i, wasm_f32x4_mul(load(dy + i), step));
  }
  for (; i < n; i++) {
    const f32 v = x[i];
    out[i] = dy[i] * (v > 0 ? 1.0f : v != v ? v : 0.0f);
  }
}

// One step of Adam over n values, in float32: m1 = b1 m0 + r1 g, v1 = b2 v0 + r2 g², and
// w1 = w0 + step m1 / (sqrt(v1) root + epsilon), where step = -learning rate / (1 - beta1^t) and
// root = 1 / sqrt(1 - beta2^t) are the bias corrections taken out of the loop.
void adam_update(const f32 *w0, const f32 *m0, const f32 *v0, const f32 *g, f32 *w1, f32 *m1,
                 f32 *v1, int n, f32 b1, f32 b2, f32 r1, f32 r2, f32 step, f32 root,
                 f32 epsilon) {
  const vec B1 = splat(b1), B2 = splat(b2), R1 = splat(r1), R2 = splat(r2), S = splat(step),
            Q = splat(root), E = splat(epsilon);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const vec gi = load(g + i);
    const vec mi = wasm_f32x4_add(wasm_f32x4_mul(load(m0 + i), B1), wasm_f32x4_mul(gi, R1));
    const vec vi = wasm_f32x4_add(wasm_f32x4_mul(load(v0 + i), B2),
                                  wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), R2));
    store(m1 + i, mi);
    store(v1 + i, vi);
    const vec denominator = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vi), Q), E);
    store(w1 + i, wasm_f32x4_add(load(w0 + i), wasm_f32x4_div(wasm_f32x4_mul(S, mi), denominator)));
  }
  for (; i < n; i++) {
    const f32 gi = g[i];
    const f32 mi = m1[i] = m0[i] * b1 + gi * r1;
    const f32 vi = v1[i] = v0[i] * b2 + gi * gi * r2;
    w1[i] = w0[i] + step * mi / (__builtin_sqrtf(vi) * root + epsilon);
  }
}
