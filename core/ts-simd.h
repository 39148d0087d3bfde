/* ts-simd.h: vectorisation helpers for the hot loops of the core (internal).
 *
 * The build targets baseline x86-64; TS_CLONES on a function makes GCC/clang
 * also compile AVX2 and AVX-512 versions of it and pick one at load time
 * (ifunc). Results may differ between the versions only by float rounding
 * (fused multiply-adds), never within one machine. */
#pragma once

#include <glib.h>

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define TS_CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define TS_CLONES
#endif

/* a . b over @d floats with 16 partial sums, so that it vectorises inside a
 * TS_CLONES caller (a plain float reduction must stay sequential). */
static inline float
ts_dot_lanes (const float *restrict a, const float *restrict b, int d)
{
  float lane[16] = { 0 }, s = 0;
  int j = 0;

  for (; j + 16 <= d; j += 16)
    for (int u = 0; u < 16; u++)
      lane[u] += a[j + u] * b[j + u];
  for (; j < d; j++)
    s += a[j] * b[j];
  for (int u = 0; u < 16; u++)
    s += lane[u];
  return s;
}

/* The largest and the smallest of @n >= 1 finite floats in 16 lanes, so that
 * they vectorise inside a TS_CLONES caller (for finite values the extremes
 * do not depend on the order in which they are compared). */
static inline float
ts_max_lanes (const float *restrict x, int n)
{
  float lane[16], m = x[0];
  int j = 1;

  if (n >= 16)
    {
      for (int u = 0; u < 16; u++)
        lane[u] = x[u];
      for (j = 16; j + 16 <= n; j += 16)
        for (int u = 0; u < 16; u++)
          lane[u] = MAX (lane[u], x[j + u]);
      for (int u = 0; u < 16; u++)
        m = MAX (m, lane[u]);
    }
  for (; j < n; j++)
    m = MAX (m, x[j]);
  return m;
}

static inline float
ts_min_lanes (const float *restrict x, int n)
{
  float lane[16], m = x[0];
  int j = 1;

  if (n >= 16)
    {
      for (int u = 0; u < 16; u++)
        lane[u] = x[u];
      for (j = 16; j + 16 <= n; j += 16)
        for (int u = 0; u < 16; u++)
          lane[u] = x[j + u] < lane[u] ? x[j + u] : lane[u];
      for (int u = 0; u < 16; u++)
        m = lane[u] < m ? lane[u] : m;
    }
  for (; j < n; j++)
    m = x[j] < m ? x[j] : m;
  return m;
}
