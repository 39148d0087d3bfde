/* ts-vit-kernels.h: the element-wise parts of the ViT forward (LayerNorm,
 * bias and activation, layer-scale residual, softmax) in vector code.
 * Private to ts-vit.c, which includes it once per vector width: before each
 * inclusion it defines VN (floats per vector), K(name) (the name with the
 * width's suffix) and KATTR (the function attribute, e.g. a target).
 *
 * The vectors are the GCC/Clang vector extension; loads and stores go
 * through memcpy (no alignment assumed); tails are padded into a local
 * vector. Results differ between widths only in the order of sums. */

typedef float K (vf) __attribute__ ((vector_size (VN * sizeof (float))));
typedef gint32 K (vi) __attribute__ ((vector_size (VN * sizeof (gint32))));

#define Vf K (vf)
#define Vi K (vi)
#define vload K (vload)
#define vstore K (vstore)
#define vload_tail K (vload_tail)
#define vstore_tail K (vstore_tail)
#define vselect K (vselect)
#define vsum K (vsum)
#define vmax_lanes K (vmax_lanes)
#define vexp K (vexp)
#define vgelu K (vgelu)
#define vact K (vact)
#define layer_norm K (layer_norm)
#define bias_act K (bias_act)
#define add_scaled K (add_scaled)
#define softmax_row K (softmax_row)

static inline KATTR Vf
vload (const float *p)
{
  Vf v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline KATTR void
vstore (float *p, Vf v)
{
  memcpy (p, &v, sizeof v);
}

/* The first @k of @n (< VN) values at @p, the other lanes @fill. */
static inline KATTR Vf
vload_tail (const float *p, int k, float fill)
{
  float t[VN];
  for (int i = 0; i < VN; i++)
    t[i] = i < k ? p[i] : fill;
  return vload (t);
}

static inline KATTR void
vstore_tail (float *p, int k, Vf v)
{
  float t[VN];
  vstore (t, v);
  memcpy (p, t, (gsize) k * sizeof (float));
}

static inline KATTR Vf
vselect (Vi mask, Vf a, Vf b)
{
  return (Vf) ((mask & (Vi) a) | (~mask & (Vi) b));
}

static inline KATTR float
vsum (Vf v)
{
  float s = 0;
  for (int i = 0; i < VN; i++)
    s += v[i];
  return s;
}

static inline KATTR float
vmax_lanes (Vf v)
{
  float m = v[0];
  for (int i = 1; i < VN; i++)
    m = MAX (m, v[i]);
  return m;
}

/* exp(x) within 2 ulp (Cephes expf: x = n ln2 + r, |r| <= ln2 / 2, degree-6
 * polynomial, 2^n through the exponent bits). Below -87.3 it gives ~1e-38
 * instead of 0, above 88.37 the value at 88.37. */
static inline KATTR Vf
vexp (Vf x)
{
  const float big = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  Vf n, r, p;
  Vi e;

  x = vselect (x < -87.33654f, x - x - 87.33654f, x);
  x = vselect (x > 88.37626f, x - x + 88.37626f, x);
  n = (x * 1.44269504088896341f + big) - big;
  r = x - n * 0.693359375f + n * 2.12194440e-4f;
  p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  e = (__builtin_convertvector (n, Vi) + 127) << 23;
  return p * (Vf) e;
}

/* GELU (erf form) 0.5 x (1 + erf (x / sqrt 2)), erf as the rational
 * function of Eigen and XLA (odd degree 13 over even degree 8, argument
 * clamped to [-4, 4] where erf is +-1 in float): absolute error of erf
 * about 1e-7 like PyTorch's vectorised erf, so GELU is within 1e-7 |x|. */
static inline KATTR Vf
vgelu (Vf x)
{
  Vf z = x * 0.70710678118654752f, z2, p, q;

  z = vselect (z > 4.0f, z - z + 4.0f, z);
  z = vselect (z < -4.0f, z - z - 4.0f, z);
  z2 = z * z;
  p = z2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = z2 * p - 2.10102402082508e-06f;
  p = z2 * p - 5.69250639462346e-05f;
  p = z2 * p - 7.34990630326855e-04f;
  p = z2 * p - 2.95459980854025e-03f;
  p = z2 * p - 1.60960333262415e-02f;
  q = z2 * -1.45660718464996e-05f - 2.13374055278905e-04f;
  q = z2 * q - 1.68282697438203e-03f;
  q = z2 * q - 7.37332916720468e-03f;
  q = z2 * q - 1.42647390514189e-02f;
  return 0.5f * x * (1.0f + z * p / q);
}

/* x * sigmoid (k (x)): quick GELU (k = 1.702 x) and the tanh GELU, whose
 * 0.5 (1 + tanh u) is sigmoid (2u). */
static inline KATTR Vf
vact (Vf x, TsVitAct act)
{
  switch (act)
    {
    case TS_VIT_ACT_QUICK_GELU:
      return x / (1.0f + vexp (-1.702f * x));
    case TS_VIT_ACT_GELU_TANH:
      return x / (1.0f + vexp (-1.5957691216f * (x + 0.044715f * x * x * x)));
    case TS_VIT_ACT_GELU:
    case TS_VIT_ACT_DEFAULT:
    default:
      return vgelu (x);
    }
}

static KATTR void
layer_norm (const float *x, int n, int d, const float *w, const float *b, float eps, float *out)
{
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      float *o = out + (gsize) i * d;
      Vf acc = { 0 };
      float mean, var, inv;
      int j;
      for (j = 0; j + VN <= d; j += VN)
        acc += vload (r + j);
      if (j < d)
        acc += vload_tail (r + j, d - j, 0.0f);
      mean = vsum (acc) / d;
      acc = (Vf) { 0 };
      for (j = 0; j + VN <= d; j += VN)
        {
          Vf c = vload (r + j) - mean;
          acc += c * c;
        }
      if (j < d)
        {
          Vf c = vload_tail (r + j, d - j, mean) - mean;
          acc += c * c;
        }
      var = vsum (acc) / d;
      inv = (float) (1.0 / sqrt ((double) var + eps));
      for (j = 0; j + VN <= d; j += VN)
        vstore (o + j, (vload (r + j) - mean) * inv * vload (w + j) + vload (b + j));
      for (; j < d; j++)
        o[j] = (r[j] - mean) * inv * w[j] + b[j];
    }
}

/* x[c] = act (x[c] + bias[c]) for c < n; bias may be NULL, act_on FALSE skips the activation. */
static KATTR void
bias_act (float *x, const float *bias, gsize n, gboolean act_on, TsVitAct act)
{
  gsize c;

  for (c = 0; c + VN <= n; c += VN)
    {
      Vf v = vload (x + c);
      if (bias != NULL)
        v += vload (bias + c);
      vstore (x + c, act_on ? vact (v, act) : v);
    }
  if (c < n)
    {
      int k = (int) (n - c);
      Vf v = vload_tail (x + c, k, 0.0f);
      if (bias != NULL)
        v += vload_tail (bias + c, k, 0.0f);
      vstore_tail (x + c, k, act_on ? vact (v, act) : v);
    }
}

/* x[c] += s[c] * a[c] for c < n */
static KATTR void
add_scaled (float *x, const float *s, const float *a, int n)
{
  int c;

  for (c = 0; c + VN <= n; c += VN)
    vstore (x + c, vload (x + c) + vload (s + c) * vload (a + c));
  for (; c < n; c++)
    x[c] += s[c] * a[c];
}

static KATTR void
softmax_row (float *row, int n)
{
  Vf acc = { 0 }, mv;
  float mx = row[0], inv;
  int j;

  for (j = 0; j + VN <= n; j += VN)
    mv = j == 0 ? vload (row) : vselect (vload (row + j) > mv, vload (row + j), mv);
  if (j > 0)
    mx = vmax_lanes (mv);
  for (; j < n; j++)
    mx = MAX (mx, row[j]);
  for (j = 0; j + VN <= n; j += VN)
    {
      Vf e = vexp (vload (row + j) - mx);
      vstore (row + j, e);
      acc += e;
    }
  if (j < n)
    {
      Vf e = vexp (vload_tail (row + j, n - j, mx) - mx);
      Vi lane;
      for (int i = 0; i < VN; i++)
        lane[i] = i;
      vstore_tail (row + j, n - j, e);
      acc += vselect (lane < n - j, e, e - e);
    }
  inv = 1.0f / vsum (acc);
  for (j = 0; j + VN <= n; j += VN)
    vstore (row + j, vload (row + j) * inv);
  for (; j < n; j++)
    row[j] *= inv;
}

#undef Vf
#undef Vi
#undef vload
#undef vstore
#undef vload_tail
#undef vstore_tail
#undef vselect
#undef vsum
#undef vmax_lanes
#undef vexp
#undef vgelu
#undef vact
#undef layer_norm
#undef bias_act
#undef add_scaled
#undef softmax_row
