#include "ts-attention.h"
#include "ts-error.h"
#include "ts-simd.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static const char *mode_names[] = { "query", "global", "distinct", "received" };

gboolean
ts_attention_mode_parse (const char *text, TsAttentionMode *mode, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (mode_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, mode_names[i]) == 0)
      {
        *mode = (TsAttentionMode) i;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown attention view '%s' (choose query, global, distinct or received)", text ? text : "");
  return FALSE;
}

const char *
ts_attention_mode_name (TsAttentionMode mode)
{
  return (guint) mode < G_N_ELEMENTS (mode_names) ? mode_names[mode] : "unknown";
}

/* The largest of @n >= 1 finite floats (vectorised). */
TS_CLONES static float
row_max (const float *restrict row, int n)
{
  return ts_max_lanes (row, n);
}

TS_CLONES static void
divide_by (float *restrict v, int m, double sum)
{
  for (int i = 0; i < m; i++)
    v[i] = (float) (v[i] / sum);
}

/* ---- expf over a row's live logits ---- */

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

/* TRUE when the AVX-512 kernels below run: the CPU has AVX-512F and the
 * environment does not set TS_ATTENTION_NO_AVX512 (the test suite runs once
 * without them). */
static gboolean
wide_kernels (void)
{
  static gsize wide = 0;

  if (g_once_init_enter (&wide))
    g_once_init_leave (&wide,
                       __builtin_cpu_supports ("avx512f") && g_getenv ("TS_ATTENTION_NO_AVX512") == NULL ? 2 : 1);
  return wide == 2;
}

/* glibc's expf (sysdeps/ieee754/flt-32/e_expf.c) as its FMA build runs it
 * (__expf_fma: 2^(k/32) from a table times a cubic in double, fused
 * multiply-adds where that build has them, one rounding to float), 8
 * logits at a time, for logits in [-104, 0]: below log(2^-150) it gives 0,
 * below log(2^-149) glibc's may-underflow value, as expf does. Used only
 * when it gives expf's bits on this machine (exp_vector_ok). */
static const guint64 exp2f_tab[32] = { /* __exp2f_data.tab: 2^(i/32) bits minus i << 47 */
  0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
  0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
  0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
  0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
  0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
  0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
  0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
  0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

static double
as_double (guint64 u)
{
  double d;

  memcpy (&d, &u, sizeof d);
  return d;
}

#pragma GCC diagnostic push /* GCC 12's intrinsics start from undefined vectors */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__ ((target ("avx512f"))) static void
expf_live_avx512 (float *v, int m)
{
  const __m512d inv_ln2_n = _mm512_set1_pd (as_double (0x40471547652b82feull));
  const __m512d shift = _mm512_set1_pd (0x1.8p52);
  const __m512d c0 = _mm512_set1_pd (as_double (0x3ebc6af84b912394ull));
  const __m512d c1 = _mm512_set1_pd (as_double (0x3f2ebfce50fac4f3ull));
  const __m512d c2 = _mm512_set1_pd (as_double (0x3f962e42ff0c52d6ull));
  const __m512d one = _mm512_set1_pd (1.0);
  const __m512d zero_below = _mm512_set1_pd (-0x1.9fe368p6f); /* log(2^-150) */
  const __m512d tiny_below = _mm512_set1_pd (-0x1.9d1d9ep6f); /* log(2^-149) */
  const __m512d tiny = _mm512_set1_pd (0x1.4p-75f * 0x1.4p-75f); /* __math_may_uflowf */
  const __m512i mask = _mm512_set1_epi64 (31);
  int i = 0;

  for (; i + 8 <= m; i += 8)
    {
      __m512d x = _mm512_cvtps_pd (_mm256_loadu_ps (v + i));
      __m512d kd = _mm512_fmadd_pd (inv_ln2_n, x, shift);
      __m512i ki = _mm512_castpd_si512 (kd);
      __m512d r, s, z, y;
      kd = _mm512_sub_pd (kd, shift);
      r = _mm512_fmsub_pd (inv_ln2_n, x, kd);
      s = _mm512_castsi512_pd (_mm512_add_epi64 (_mm512_i64gather_epi64 (_mm512_and_si512 (ki, mask), exp2f_tab, 8),
                                                 _mm512_slli_epi64 (ki, 47)));
      z = _mm512_fmadd_pd (r, c0, c1);
      y = _mm512_fmadd_pd (r, c2, one);
      y = _mm512_fmadd_pd (z, _mm512_mul_pd (r, r), y);
      y = _mm512_mul_pd (y, s);
      y = _mm512_mask_blend_pd (_mm512_cmp_pd_mask (x, tiny_below, _CMP_LT_OQ), y, tiny);
      y = _mm512_mask_blend_pd (_mm512_cmp_pd_mask (x, zero_below, _CMP_LT_OQ), y, _mm512_setzero_pd ());
      _mm256_storeu_ps (v + i, _mm512_cvtpd_ps (y));
    }
  for (; i < m; i++)
    v[i] = expf (v[i]);
}

/* softmax_inplace's gathering of the logits within 104 of @mx (scaled by
 * @scale) into @idx and @val (n each), and zeroing of @row, 16 at a time
 * (compressed in registers: Zen 4 compresses into memory slowly): the same
 * values in the same order. */
__attribute__ ((target ("avx512f"))) static int
live_avx512 (float *row, int n, float scale, float mx, int *idx, float *val)
{
  const __m512 s = _mm512_set1_ps (scale), top = _mm512_set1_ps (mx), floor = _mm512_set1_ps (-104.0f);
  const __m512i step = _mm512_set1_epi32 (16);
  __m512i at = _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int m = 0, j = 0;

  for (; j + 16 <= n; j += 16, at = _mm512_add_epi32 (at, step))
    {
      __m512 v = _mm512_sub_ps (_mm512_mul_ps (s, _mm512_loadu_ps (row + j)), top);
      __mmask16 live = _mm512_cmp_ps_mask (v, floor, _CMP_GE_OQ);
      _mm512_storeu_ps (row + j, _mm512_setzero_ps ());
      if (live == 0)
        continue;
      _mm512_storeu_ps (val + m, _mm512_maskz_compress_ps (live, v)); /* m + 16 <= j + 16 <= n */
      _mm512_storeu_si512 (idx + m, _mm512_maskz_compress_epi32 (live, at));
      m += __builtin_popcount (live);
    }
  for (; j < n; j++)
    {
      float v = scale * row[j] - mx;
      idx[m] = j;
      val[m] = v;
      m += v >= -104.0f;
      row[j] = 0.0f;
    }
  return m;
}

/* gather's weights of one row of @n that reach @t (and are positive) into
 * @idx and @w (n each, token order), 16 at a time; returns how many. */
__attribute__ ((target ("avx512f"))) static int
gather_row_avx512 (const float *row, int n, float t, int *idx, float *w)
{
  const __m512 low = _mm512_set1_ps (t), zero = _mm512_setzero_ps ();
  const __m512i step = _mm512_set1_epi32 (16);
  __m512i at = _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int m = 0, j = 0;

  for (; j + 16 <= n; j += 16, at = _mm512_add_epi32 (at, step))
    {
      __m512 x = _mm512_loadu_ps (row + j);
      __mmask16 keep = _mm512_cmp_ps_mask (x, low, _CMP_GE_OQ) & _mm512_cmp_ps_mask (x, zero, _CMP_GT_OQ);
      if (keep == 0)
        continue;
      _mm512_storeu_ps (w + m, _mm512_maskz_compress_ps (keep, x));
      _mm512_storeu_si512 (idx + m, _mm512_maskz_compress_epi32 (keep, at));
      m += __builtin_popcount (keep);
    }
  for (; j < n; j++)
    {
      idx[m] = j;
      w[m] = row[j];
      m += row[j] >= t && row[j] > 0;
    }
  return m;
}
#pragma GCC diagnostic pop

/* Whether expf_live_avx512 runs here and gives expf's bits: checked once on
 * logits spread over [-104, 0] and around each boundary of expf's ways. */
static gboolean
exp_vector_ok (void)
{
  static gsize done;
  static gboolean ok;

  if (g_once_init_enter (&done))
    {
      const float edges[] = { -0x1.9fe368p6f, -0x1.9d1d9ep6f, -88.0f, -104.0f, -0.0f, 0.0f };
      GArray *x = g_array_new (FALSE, FALSE, sizeof (float));
      guint32 lo = 0x80000000u, hi = 0xc2d00000u; /* -0.0 .. -104 as bits */
      ok = wide_kernels ();
      for (guint32 b = lo; b <= hi; b += (hi - lo) / 4093)
        {
          float f;
          memcpy (&f, &b, sizeof f);
          g_array_append_val (x, f);
        }
      for (guint e = 0; e < G_N_ELEMENTS (edges); e++)
        for (int k = -8; k <= 8; k++)
          {
            guint32 b;
            float f;
            memcpy (&b, &edges[e], sizeof b);
            b += k;
            memcpy (&f, &b, sizeof f);
            if (f >= -104.0f && f <= 0.0f)
              g_array_append_val (x, f);
          }
      if (ok)
        {
          g_autofree float *y = g_memdup2 (x->data, sizeof (float) * x->len);
          expf_live_avx512 (y, (int) x->len);
          for (guint i = 0; i < x->len && ok; i++)
            {
              float want = expf (g_array_index (x, float, i));
              ok = memcmp (&y[i], &want, sizeof want) == 0;
            }
        }
      g_array_unref (x);
      g_once_init_leave (&done, 1);
    }
  return ok;
}
#endif

/* v[i] = expf (v[i]) for @m logits in [-104, 0]. */
static void
expf_live (float *v, int m)
{
#if defined(__GNUC__) && defined(__x86_64__)
  if (exp_vector_ok ())
    {
      expf_live_avx512 (v, m);
      return;
    }
#endif
  for (int i = 0; i < m; i++)
    v[i] = expf (v[i]);
}

/* In-place softmax of one row; a row of equal logits becomes uniform. Logits
 * more than 104 below the maximum give exactly 0 (expf underflows there, via a
 * slow path); only the others are exponentiated, summed in order and divided,
 * gathered into @idx and @val (n each), which gives the same bits as doing so
 * over the whole row (adding or dividing a zero changes nothing); chunks of
 * 16 without one (@flags, n / 16) are zeroed whole. */
/* flags[c] = whether chunk c (16 logits, n / 16 whole chunks) has a logit
 * within 104 of @mx, tested as softmax_inplace tests it (vectorises). */
TS_CLONES static void
live_chunks (const float *restrict row, int n, float scale, float mx, guint8 *restrict flags)
{
  for (int c = 0; c < n / 16; c++)
    {
      int any = 0;
      for (int u = 0; u < 16; u++)
        any |= scale * row[c * 16 + u] - mx >= -104.0f;
      flags[c] = (guint8) any;
    }
}

/* The logits are @scale (positive and finite) times @row: scaled where they
 * are read, each rounded once as a scaled copy would be (the maximum of the
 * scaled logits is @scale times the maximum, since rounding is monotone). */
static void
softmax_inplace (float *row, int n, float scale, int *idx, float *val, guint8 *flags)
{
  float mx = scale * row_max (row, n);
  double sum = 0;
  int m = 0;

#if defined(__GNUC__) && defined(__x86_64__)
  if (wide_kernels ())
    m = live_avx512 (row, n, scale, mx, idx, val);
  else
#endif
  {
  live_chunks (row, n, scale, mx, flags);
  for (int j0 = 0; j0 < n; j0 += 16)
    {
      if (j0 + 16 <= n && !flags[j0 / 16]) /* a chunk of zeros */
        {
          memset (row + j0, 0, sizeof (float) * 16);
          continue;
        }
      for (int j = j0; j < MIN (j0 + 16, n); j++) /* branch-free: most of a sharp row is dropped */
        {
          float v = scale * row[j] - mx;
          idx[m] = j;
          val[m] = v;
          m += v >= -104.0f;
          row[j] = 0.0f;
        }
    }
  }
  expf_live (val, m);
  for (int i = 0; i < m; i++)
    sum += val[i];
  divide_by (val, m, sum);
  for (int i = 0; i < m; i++)
    row[idx[i]] = val[i];
}

TS_CLONES static void
scale_by (float *restrict v, gsize m, float scale)
{
  for (gsize i = 0; i < m; i++)
    v[i] *= scale;
}

void
ts_attention_softmax (float *rows, int m, int n, float scale)
{
  g_autofree int *idx = NULL;
  g_autofree float *val = NULL;
  g_autofree guint8 *flags = NULL;

  if (m <= 0 || n <= 0)
    return;
  if (!(scale > 0) || !isfinite (scale)) /* the scaled logits' order is not the logits' */
    {
      scale_by (rows, (gsize) m * n, scale);
      scale = 1.0f;
    }
  idx = g_new (int, n);
  val = g_new (float, n);
  flags = g_new (guint8, n / 16 + 1);
  for (int i = 0; i < m; i++)
    softmax_inplace (rows + (gsize) i * n, n, scale, idx, val, flags);
}

void
ts_attention_softmax_rows (const float *q, int m, const float *x, int n, int d, float scale, float *out)
{
  if (m <= 0 || n <= 0)
    return;
  if (m == 1)
    cblas_sgemv (CblasRowMajor, CblasNoTrans, n, d, scale, x, d, q, 1, 0.0f, out, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, scale, q, d, x, d, 0.0f, out, n);
  ts_attention_softmax (out, m, n, 1.0f);
}

/* ---- A X over the weights that count ---- */

#define SPARSE_FILL 4    /* sparse when at most 1 / SPARSE_FILL of a block's weights count */
#define TOKEN_CHUNK 256  /* tokens whose features stay in cache while every row takes its share */
#define WIDE 1024        /* features at least this wide are read in column blocks instead */
#define COLUMN_BLOCK 64  /* columns of those read for every row while in cache (n x 256 bytes) */
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 8 /* weights ahead whose rows add_columns asks the cache for */
#endif

struct _TsAttentionProduct {
  int rows, n; /* a block's most rows, the weights in a row */
  gsize cap;  /* kept weights a block may have (1 / SPARSE_FILL of it) */
  int *start; /* rows + 1: where each row's weights begin */
  int *at;    /* rows: each row's next weight while adding */
  int *sel;   /* rows: the rows a product takes */
  int *idx;   /* cap + n: token of each kept weight */
  float *w;   /* cap + n: the weights */
  guint8 *flags; /* n / 16: chunks of a row with a weight that counts */
};

TsAttentionProduct *
ts_attention_product_new (int rows, int n)
{
  TsAttentionProduct *p = g_new0 (TsAttentionProduct, 1);

  p->rows = MAX (rows, 0);
  p->n = MAX (n, 0);
  p->cap = (gsize) p->rows * p->n / SPARSE_FILL;
  p->start = g_try_new (int, p->rows + 1);
  p->at = g_try_new (int, p->rows + 1);
  p->sel = g_try_new (int, p->rows + 1);
  p->idx = g_try_new (int, p->cap + MAX (n, 0) + 1);
  p->w = g_try_new (float, p->cap + MAX (n, 0) + 1);
  p->flags = g_try_new (guint8, p->n / 16 + 1);
  if (p->start == NULL || p->at == NULL || p->sel == NULL || p->idx == NULL || p->w == NULL || p->flags == NULL || p->cap > G_MAXINT)
    g_clear_pointer (&p, ts_attention_product_free);
  return p;
}

void
ts_attention_product_free (TsAttentionProduct *p)
{
  if (p == NULL)
    return;
  g_free (p->start);
  g_free (p->at);
  g_free (p->sel);
  g_free (p->idx);
  g_free (p->w);
  g_free (p->flags);
  g_free (p);
}

/* The sum of a row of @n weights and whether none is negative (or NaN). */
TS_CLONES static gboolean
row_sum_nonnegative (const float *restrict row, int n, double *sum)
{
  float lane[16] = { 0 };
  int bad[16] = { 0 }, any = 0;
  double s = 0;
  int j = 0;

  for (; j + 16 <= n; j += 16)
    for (int u = 0; u < 16; u++)
      {
        lane[u] += row[j + u];
        bad[u] |= !(row[j + u] >= 0); /* negative or NaN */
      }
  for (; j < n; j++)
    {
      s += row[j];
      any |= !(row[j] >= 0);
    }
  for (int u = 0; u < 16; u++)
    {
      s += lane[u];
      any |= bad[u];
    }
  *sum = s;
  return !any && isfinite (s);
}

/* flags[c] = whether any of the 16 weights of chunk c of @row (n / 16 whole
 * chunks) reaches @t (vectorises: a compare and an or per chunk). */
TS_CLONES static void
chunk_flags (const float *restrict row, int n, float t, guint8 *restrict flags)
{
  for (int c = 0; c < n / 16; c++)
    {
      int any = 0;
      for (int u = 0; u < 16; u++)
        any |= row[c * 16 + u] >= t;
      flags[c] = (guint8) any;
    }
}

/* The weights of @A (m x n) of at least 2^-24 / n of their row's sum into
 * @p, per row in token order; FALSE when more than @cap of them count or a
 * weight is negative. Chunks of 16 without one are skipped whole. */
static gboolean
gather (TsAttentionProduct *p, const float *A, int m, int n, gsize cap)
{
  gsize kept = 0;

  for (int i = 0; i < m; i++)
    {
      const float *row = A + (gsize) i * n;
      double sum;
      float t;
      if (kept > cap || !row_sum_nonnegative (row, n, &sum))
        return FALSE;
      t = (float) (0x1p-24 * sum / n);
      p->start[i] = (int) kept;
#if defined(__GNUC__) && defined(__x86_64__)
      if (wide_kernels ())
        {
          kept += gather_row_avx512 (row, n, t, p->idx + kept, p->w + kept);
          continue;
        }
#endif
      chunk_flags (row, n, t, p->flags);
      for (int j0 = 0; j0 < n; j0 += 16)
        {
          if (j0 + 16 <= n && !p->flags[j0 / 16])
            continue;
          for (int j = j0; j < MIN (j0 + 16, n); j++) /* branch-free: kept or not is a coin toss */
            {
              p->idx[kept] = j;
              p->w[kept] = row[j];
              kept += row[j] >= t && row[j] > 0;
            }
        }
    }
  p->start[m] = (int) kept;
  return kept <= cap;
}

/* acc += w x over @d floats (16 lanes so that it vectorises). */
TS_CLONES static void
add_scaled (float *restrict acc, float w, const float *restrict x, int d)
{
  int k = 0;

  for (; k + 16 <= d; k += 16)
    for (int u = 0; u < 16; u++)
      acc[k + u] += w * x[k + u];
  for (; k < d; k++)
    acc[k] += w * x[k];
}

/* acc += w0 x0 + w1 x1 + w2 x2 + w3 x3, added one after the other (the sums
 * of four add_scaled), with one pass over acc. */
TS_CLONES static void
add_scaled4 (float *restrict acc, const float *restrict w, const float *restrict x0, const float *restrict x1,
             const float *restrict x2, const float *restrict x3, int d)
{
  int k = 0;

  for (; k + 16 <= d; k += 16)
    for (int u = 0; u < 16; u++)
      acc[k + u] = (((acc[k + u] + w[0] * x0[k + u]) + w[1] * x1[k + u]) + w[2] * x2[k + u]) + w[3] * x3[k + u];
  for (; k < d; k++)
    acc[k] = (((acc[k] + w[0] * x0[k]) + w[1] * x1[k]) + w[2] * x2[k]) + w[3] * x3[k];
}

/* acc += w[0] x[t[0]] + ... + w[7] x[t[7]] (rows @dx apart), added one after
 * the other (the sums of eight add_scaled), with one pass over acc. */
TS_CLONES static void
add_scaled8 (float *restrict acc, const float *restrict w, const float *restrict x, const int *restrict t, int dx)
{
  const float *x0 = x + (gsize) t[0] * dx, *x1 = x + (gsize) t[1] * dx, *x2 = x + (gsize) t[2] * dx,
              *x3 = x + (gsize) t[3] * dx, *x4 = x + (gsize) t[4] * dx, *x5 = x + (gsize) t[5] * dx,
              *x6 = x + (gsize) t[6] * dx, *x7 = x + (gsize) t[7] * dx;
  int k = 0;

  for (; k + 16 <= dx; k += 16)
    for (int u = 0; u < 16; u++)
      acc[k + u] = (((((((acc[k + u] + w[0] * x0[k + u]) + w[1] * x1[k + u]) + w[2] * x2[k + u]) + w[3] * x3[k + u])
                      + w[4] * x4[k + u])
                     + w[5] * x5[k + u])
                    + w[6] * x6[k + u])
                   + w[7] * x7[k + u];
  for (; k < dx; k++)
    acc[k] = (((((((acc[k] + w[0] * x0[k]) + w[1] * x1[k]) + w[2] * x2[k]) + w[3] * x3[k]) + w[4] * x4[k]) + w[5] * x5[k])
              + w[6] * x6[k])
             + w[7] * x7[k];
}

/* 16 floats as one value (GCC's vector extension): a block's sums stay in
 * registers, which a float array does not. */
typedef float Lanes16 __attribute__ ((vector_size (64)));

/* out[0..COLUMN_BLOCK) = the sum of wt[c] y[idx[c]][0..COLUMN_BLOCK) over c
 * < cnt (rows @dy apart), added in order. */
TS_CLONES static void
add_columns (float *restrict out, const int *restrict idx, const float *restrict wt, int cnt,
             const float *restrict y, gsize dy)
{
  Lanes16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };

  G_STATIC_ASSERT (COLUMN_BLOCK == 64);
  for (int c = 0; c < cnt; c++)
    {
      const float *r = y + idx[c] * dy;
      Lanes16 x0, x1, x2, x3;
      if (c + PREFETCH_AHEAD < cnt) /* the rows are scattered: fetched ahead, not waited for */
        {
          const char *f = (const char *) (y + idx[c + PREFETCH_AHEAD] * dy);
          __builtin_prefetch (f);
          __builtin_prefetch (f + 64);
          __builtin_prefetch (f + 128);
          __builtin_prefetch (f + 192);
        }
      memcpy (&x0, r, sizeof x0);
      memcpy (&x1, r + 16, sizeof x1);
      memcpy (&x2, r + 32, sizeof x2);
      memcpy (&x3, r + 48, sizeof x3);
      a0 += wt[c] * x0;
      a1 += wt[c] * x1;
      a2 += wt[c] * x2;
      a3 += wt[c] * x3;
    }
  memcpy (out, &a0, sizeof a0);
  memcpy (out + 16, &a1, sizeof a1);
  memcpy (out + 32, &a2, sizeof a2);
  memcpy (out + 48, &a3, sizeof a3);
}

/* add_columns for the last @w < COLUMN_BLOCK columns. */
static void
add_columns_tail (float *restrict out, const int *restrict idx, const float *restrict wt, int cnt,
                  const float *restrict y, gsize dy, int w)
{
  for (int u = 0; u < w; u++)
    out[u] = 0.0f;
  for (int c = 0; c < cnt; c++)
    for (int u = 0; u < w; u++)
      out[u] += wt[c] * y[idx[c] * dy + u];
}

/* out = A x for the weights gathered in @p, on the rows @sel[0..m) (NULL:
 * rows 0 to m - 1; the others' rows of @out untouched): a wide @x (a Gram
 * matrix) in blocks of COLUMN_BLOCK columns, each read for every row while
 * in cache; a narrow one in chunks of tokens whose rows stay in cache while
 * every row of A takes its share. Every output sums its row's weights in
 * token order. */
static void
product_gathered (TsAttentionProduct *p, const int *sel, int m, int n, const float *x, int dx, float *out)
{
  if (dx >= WIDE)
    {
      for (int j0 = 0; j0 < dx; j0 += COLUMN_BLOCK)
        for (int r = 0; r < m; r++)
          {
            int i = sel ? sel[r] : r, s = p->start[i], cnt = p->start[i + 1] - s;
            if (j0 + COLUMN_BLOCK <= dx)
              add_columns (out + (gsize) i * dx + j0, p->idx + s, p->w + s, cnt, x + j0, dx);
            else
              add_columns_tail (out + (gsize) i * dx + j0, p->idx + s, p->w + s, cnt, x + j0, dx, dx - j0);
          }
      return;
    }
  for (int r = 0; r < m; r++)
    {
      int i = sel ? sel[r] : r;
      memset (out + (gsize) i * dx, 0, sizeof (float) * dx);
      p->at[i] = p->start[i];
    }
  for (int j1 = TOKEN_CHUNK; j1 - TOKEN_CHUNK < n; j1 += TOKEN_CHUNK)
    for (int r = 0; r < m; r++)
      {
        int i = sel ? sel[r] : r;
        float *acc = out + (gsize) i * dx;
        const int *t = p->idx;
        int c = p->at[i], end = p->start[i + 1];
        for (; c + 8 <= end && t[c + 7] < j1; c += 8) /* tokens ascend within a row */
          add_scaled8 (acc, p->w + c, x, t + c, dx);
        for (; c + 4 <= end && t[c + 3] < j1; c += 4)
          add_scaled4 (acc, p->w + c, x + (gsize) t[c] * dx, x + (gsize) t[c + 1] * dx, x + (gsize) t[c + 2] * dx,
                       x + (gsize) t[c + 3] * dx, dx);
        for (; c < end && t[c] < j1; c++)
          add_scaled (acc, p->w[c], x + (gsize) t[c] * dx, dx);
        p->at[i] = c;
      }
}

int
ts_attention_product_rows (TsAttentionProduct *p, const float *A, int m, int n, const float *x, int dx, int most,
                           float *out, int *left)
{
  int nl = 0, nr = 0;

  if (m <= 0 || n <= 0 || dx <= 0)
    return 0;
  if (p == NULL || m > p->rows || n != p->n || !gather (p, A, m, n, p->cap))
    return -1;
  for (int i = 0; i < m; i++)
    if (p->start[i + 1] - p->start[i] > most)
      left[nl++] = i;
    else
      p->sel[nr++] = i;
  product_gathered (p, p->sel, nr, n, x, dx, out);
  return nl;
}

void
ts_attention_product (TsAttentionProduct *p, const float *A, int m, int n, const float *x, int dx, float *out)
{
  if (m <= 0 || n <= 0 || dx <= 0)
    return;
  if (p == NULL || m > p->rows || n != p->n || !gather (p, A, m, n, p->cap))
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dx, n, 1.0f, A, n, x, dx, 0.0f, out, dx);
      return;
    }
  product_gathered (p, NULL, m, n, x, dx, out);
}

static gboolean
check_features (const TsFeatures *x, double tau, GError **error)
{
  if (x == NULL || x->n < 1 || x->d < 1 || x->data == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "attention needs at least one token feature");
      return FALSE;
    }
  if (!(tau > 0) || !isfinite (tau))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "the attention temperature tau must be a positive number, not %g", tau);
      return FALSE;
    }
  return TRUE;
}

gboolean
ts_attention_rows (const TsFeatures *x, int r0, int nb, double tau, float *out, GError **error)
{
  if (!check_features (x, tau, error))
    return FALSE;
  if (r0 < 0 || nb < 1 || r0 + nb > x->n || out == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "attention rows %d..%d are outside 0..%d", r0,
                   r0 + nb - 1, x->n - 1);
      return FALSE;
    }
  ts_attention_softmax_rows (x->data + (gsize) r0 * x->d, nb, x->data, x->n, x->d, (float) (1.0 / tau), out);
  return TRUE;
}

/* Mean of the rows (double accumulation) into @m (d floats). */
static void
mean_row (const TsFeatures *x, float *m)
{
  g_autofree double *acc = g_new0 (double, x->d);

  for (int i = 0; i < x->n; i++)
    {
      const float *r = x->data + (gsize) i * x->d;
      for (int j = 0; j < x->d; j++)
        acc[j] += r[j];
    }
  for (int j = 0; j < x->d; j++)
    m[j] = (float) (acc[j] / x->n);
}

/* Column mean of A, blockwise over query rows. */
static gboolean
received (const TsFeatures *x, double tau, float *out, GCancellable *cancellable, GError **error)
{
  int n = x->n;
  int bs = CLAMP ((1 << 22) / n, 16, 4096);
  g_autofree double *acc = g_new0 (double, n);
  g_autofree float *block = g_try_new (float, (gsize) MIN (bs, n) * n);

  if (block == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for a %d x %d attention block", bs, n);
      return FALSE;
    }
  for (int r0 = 0; r0 < n; r0 += bs)
    {
      int nb = MIN (bs, n - r0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      ts_attention_softmax_rows (x->data + (gsize) r0 * x->d, nb, x->data, n, x->d, (float) (1.0 / tau), block);
      for (int i = 0; i < nb; i++)
        {
          const float *row = block + (gsize) i * n;
          for (int j = 0; j < n; j++)
            acc[j] += row[j];
        }
    }
  for (int j = 0; j < n; j++)
    out[j] = (float) (acc[j] / n);
  return TRUE;
}

gboolean
ts_attention_map (const TsFeatures *x, TsAttentionMode mode, int query, double tau, float *out,
                  GCancellable *cancellable, GError **error)
{
  g_autofree float *m = NULL;

  if (!check_features (x, tau, error))
    return FALSE;
  if (out == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "no output array for the attention map");
      return FALSE;
    }
  switch (mode)
    {
    case TS_ATTENTION_QUERY:
      if (query < 0 || query >= x->n)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "query patch %d is outside 0..%d", query,
                       x->n - 1);
          return FALSE;
        }
      return ts_attention_rows (x, query, 1, tau, out, error);
    case TS_ATTENTION_GLOBAL:
      {
        double norm;
        m = g_new (float, x->d);
        mean_row (x, m);
        norm = cblas_snrm2 (x->d, m, 1);
        if (norm > 0)
          cblas_sscal (x->d, (float) (1.0 / norm), m, 1);
        ts_attention_softmax_rows (m, 1, x->data, x->n, x->d, (float) (1.0 / tau), out);
        return TRUE;
      }
    case TS_ATTENTION_DISTINCT:
      m = g_new (float, x->d);
      mean_row (x, m);
      cblas_sgemv (CblasRowMajor, CblasNoTrans, x->n, x->d, -1.0f, x->data, x->d, m, 1, 0.0f, out, 1);
      for (int i = 0; i < x->n; i++)
        out[i] += 1.0f;
      return TRUE;
    case TS_ATTENTION_RECEIVED:
      return received (x, tau, out, cancellable, error);
    default:
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown attention view %d", (int) mode);
      return FALSE;
    }
}

float *
ts_attention_importance (const TsScene *scene, char **source, GError **error)
{
  int n;
  g_autofree float *out = NULL;

  if (scene == NULL || scene->normalized == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "importance needs a scene with features");
      return NULL;
    }
  n = scene->grid.tokens;
  if (scene->importance != NULL)
    {
      for (int i = 0; i < n; i++)
        if (!isfinite (scene->importance[i]))
          {
            g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "the importance of token %d is not a finite number", i);
            return NULL;
          }
      if (source)
        *source = g_strdup (scene->importance_source ? scene->importance_source : "scene importance");
      return g_memdup2 (scene->importance, sizeof (float) * n);
    }
  out = g_new (float, n);
  if (!ts_attention_map (scene->normalized, TS_ATTENTION_DISTINCT, 0, TS_ATTENTION_DEFAULT_TAU, out, NULL, error))
    return NULL;
  /* softmax(distinct / tau): the same ranking, shaped like an attention distribution */
  for (int i = 0; i < n; i++)
    out[i] /= (float) TS_ATTENTION_DEFAULT_TAU;
  {
    float mx = out[0];
    double sum = 0;
    for (int i = 1; i < n; i++)
      mx = MAX (mx, out[i]);
    for (int i = 0; i < n; i++)
      sum += (out[i] = expf (out[i] - mx));
    for (int i = 0; i < n; i++)
      out[i] = (float) (out[i] / sum);
  }
  if (source)
    *source = g_strdup_printf ("feature attention softmax((1 - mean cos) / %g) (no model attention)",
                               TS_ATTENTION_DEFAULT_TAU);
  return g_steal_pointer (&out);
}
