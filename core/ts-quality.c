#if defined(__GNUC__) && !defined(__clang__)
/* the SSIM filters vectorise at O3 (GCC 12 -O2 only does the very cheap cases);
 * the clamps of round_row are selects only without trapping math, which
 * changes no value */
#pragma GCC optimize ("O3", "no-trapping-math")
#endif
#include "ts-quality.h"
#include "ts-attention.h"
#include "ts-error.h"
#include "ts-simd.h"
#include "ts-resize.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Copies the p x p patch at @r of @src (floats, RGB) into @dst. */
static void
read_patch (const TsImage *src, TsRect r, float *dst)
{
  for (int y = 0; y < r.h; y++)
    {
      const guint8 *s = src->data + ((gsize) (r.y + y) * src->width + r.x) * 3;
      for (int i = 0; i < r.w * 3; i++)
        dst[y * r.w * 3 + i] = s[i];
    }
}


/* CLAMP (lrintf (v), 0, 255) without a libm call: clamping first changes
 * nothing (the bounds are integers) and adding then subtracting 1.5 x 2^23
 * rounds a float in [0, 255] to the nearest integer, ties to even, as lrintf
 * does in the default rounding mode. NaN becomes 0. */
TS_CLONES static void
round_row (const float *restrict src, int n, guint8 *restrict d)
{
  for (int i = 0; i < n; i++)
    {
      float v = src[i] > 0.0f ? src[i] : 0.0f;
      v = v < 255.0f ? v : 255.0f;
      d[i] = (guint8) (int) ((v + 12582912.0f) - 12582912.0f);
    }
}

static void
write_patch (TsImage *dst, TsRect r, const guint8 *src)
{
  for (int y = 0; y < r.h; y++)
    memcpy (dst->data + ((gsize) (r.y + y) * dst->width + r.x) * 3, src + (gsize) y * r.w * 3, (gsize) r.w * 3);
}

/* Each region resampled to P x P and back, in place: the pixels of cropping
 * it, ts_image_resample to P x P and back (one resampler: a few region sizes).
 * A run of regions of one size side by side (a row of pooling cells) is
 * resampled as one strip of tiles, each tile's bytes as alone. */
static gboolean
paint_regions (const TsImage *image, const TsGrid *grid, const TsAssignment *a, TsImage *out)
{
  g_autoptr (TsResampler) rs = ts_resampler_new ();
  int p = grid->patch;
  g_autofree guint8 *small = g_new (guint8, (gsize) grid->cols * p * p * 3);
  gsize stride = (gsize) image->width * 3;

  for (int g = 0, g1; g < a->n_out; g = g1)
    {
      TsRect r = a->regions[g];
      gsize at = (gsize) r.y * stride + (gsize) r.x * 3, sp;
      int n;
      for (g1 = g + 1; g1 < a->n_out; g1++)
        {
          TsRect q = a->regions[g1];
          if (q.y != r.y || q.w != r.w || q.h != r.h || q.x != a->regions[g1 - 1].x + r.w)
            break;
        }
      if (r.w == p && r.h == p)
        continue; /* out is a copy of image: the patches are already there */
      n = g1 - g; /* at most grid->cols: a region is at least a patch wide */
      sp = (gsize) n * p * 3;
      if (!ts_resampler_apply_tiles (rs, n, image->data + at, r.w, r.h, stride, small, p, p, sp) ||
          !ts_resampler_apply_tiles (rs, n, small, p, p, sp, out->data + at, r.w, r.h, stride))
        return FALSE;
    }
  return TRUE;
}

static gboolean
paint_downsample (const TsImage *image, const TsGrid *grid, const TsAssignment *a, TsImage *out)
{
  int W = grid->cols * grid->patch, H = grid->rows * grid->patch;
  g_autoptr (TsResampler) rs = ts_resampler_new ();
  g_autofree guint8 *small = g_new (guint8, (gsize) a->down_width * a->down_height * 3);
  gsize stride = (gsize) image->width * 3;

  return ts_resampler_apply (rs, image->data, W, H, stride, small, a->down_width, a->down_height,
                             (gsize) a->down_width * 3) &&
         ts_resampler_apply (rs, small, a->down_width, a->down_height, (gsize) a->down_width * 3, out->data, W, H,
                             stride);
}

/* Patches of every original token as an n_in x (3 P^2) float matrix. */
static float *
all_patches (const TsImage *image, const TsGrid *grid)
{
  int pd = 3 * grid->patch * grid->patch;
  float *m = g_new (float, (gsize) grid->tokens * pd);

  for (int t = 0; t < grid->tokens; t++)
    read_patch (image, ts_grid_patch_rect (grid, t), m + (gsize) t * pd);
  return m;
}

/* t[0..n) += bytes, as floats (a patch row added to its group's sum). */
TS_CLONES static void
add_bytes (float *restrict t, const guint8 *restrict s, int n)
{
  for (int i = 0; i < n; i++)
    t[i] += (float) s[i];
}

TS_CLONES static void
scale_floats (float *restrict t, int n, float f)
{
  for (int i = 0; i < n; i++)
    t[i] *= f;
}

/* The mean patch of every group of more than one patch (@slot[g] its row in
 * @tokens, -1 for the others), straight from the image: the sums in patch
 * order and the scaling by 1 / count that an saxpy per patch and an sscal
 * per group gave (the same floats), without a float copy of every patch. */
static void
group_means (const TsImage *image, const TsGrid *grid, const TsAssignment *a, const int *count, const int *slot,
             float *tokens)
{
  int pd = 3 * grid->patch * grid->patch;

  for (int i = 0; i < a->n_in; i++)
    {
      int g = a->groups[i];
      TsRect r;
      if (g < 0 || slot[g] < 0)
        continue;
      r = ts_grid_patch_rect (grid, i);
      for (int y = 0; y < r.h; y++)
        add_bytes (tokens + (gsize) slot[g] * pd + (gsize) y * r.w * 3,
                   image->data + ((gsize) (r.y + y) * image->width + r.x) * 3, r.w * 3);
    }
  for (int g = 0; g < a->n_out; g++)
    if (slot[g] >= 0)
      scale_floats (tokens + (gsize) slot[g] * pd, pd, 1.0f / count[g]);
}

#define MIX_BLOCK 256 /* output tokens per product block */

/* Paints the mix-weighted or mean patch of every token over its patches. A
 * group of one patch keeps it as it is (its mean is its bytes as floats,
 * which round back to them): @out, a copy of @image, has it already. */
static void
paint_tokens (const TsImage *image, const TsGrid *grid, const TsAssignment *a, TsImage *out)
{
  int pd = 3 * grid->patch * grid->patch, n = 0;
  gboolean mix = a->recon == TS_RECON_MIX && a->mix != NULL;
  g_autofree int *count = g_new0 (int, a->n_out);
  g_autofree int *slot = g_new (int, a->n_out);
  g_autofree float *tokens = NULL;
  g_autofree guint8 *pixels = NULL;

  for (int i = 0; i < a->n_in; i++)
    if (a->groups[i] >= 0)
      count[a->groups[i]]++;
  for (int g = 0; g < a->n_out; g++)
    slot[g] = mix ? g : count[g] > 1 ? n : -1, n += slot[g] >= 0;
  tokens = g_new0 (float, (gsize) MAX (n, 1) * pd);
  if (mix)
    {
      /* mix x patches over the weights that count (ts_attention_product), in blocks of tokens */
      g_autofree float *patches = all_patches (image, grid);
      int bs = MIN (a->n_out, MIX_BLOCK);
      g_autoptr (TsAttentionProduct) product = ts_attention_product_new (bs, a->n_in);
      for (int q0 = 0; q0 < a->n_out; q0 += bs)
        ts_attention_product (product, a->mix + (gsize) q0 * a->n_in, MIN (bs, a->n_out - q0), a->n_in, patches, pd,
                              tokens + (gsize) q0 * pd);
    }
  else
    group_means (image, grid, a, count, slot, tokens);
  /* every token rounded once, in one pass, then copied to its patches */
  pixels = g_new (guint8, (gsize) MAX (n, 1) * pd);
  round_row (tokens, n * pd, pixels);
  for (int i = 0; i < a->n_in; i++)
    if (a->groups[i] >= 0 && slot[a->groups[i]] >= 0)
      write_patch (out, ts_grid_patch_rect (grid, i), pixels + (gsize) slot[a->groups[i]] * pd);
}

/* Fills dropped patches: grey, or a breadth-first copy from the nearest kept patch. */
static void
fill_dropped (const TsGrid *grid, const TsAssignment *a, TsDropFill fill, TsImage *out)
{
  int n = grid->tokens, p = grid->patch;
  g_autofree int *source = g_new (int, n);
  g_autofree int *queue = g_new (int, n);
  int head = 0, tail = 0;

  for (int i = 0; i < n; i++)
    {
      source[i] = a->groups[i] >= 0 ? i : -1;
      if (source[i] >= 0)
        queue[tail++] = i;
    }
  if (fill == TS_DROP_FILL_NEAREST && tail > 0)
    while (head < tail)
      {
        int t = queue[head++], r = t / grid->cols, c = t % grid->cols;
        int nb[4][2] = { { r - 1, c }, { r + 1, c }, { r, c - 1 }, { r, c + 1 } };
        for (int k = 0; k < 4; k++)
          {
            int rr = nb[k][0], cc = nb[k][1], u;
            if (rr < 0 || cc < 0 || rr >= grid->rows || cc >= grid->cols)
              continue;
            u = rr * grid->cols + cc;
            if (source[u] < 0)
              source[u] = source[t], queue[tail++] = u;
          }
      }
  for (int i = 0; i < n; i++)
    {
      TsRect r;
      if (a->groups[i] >= 0)
        continue;
      r = ts_grid_patch_rect (grid, i);
      for (int y = 0; y < p; y++)
        {
          guint8 *d = out->data + ((gsize) (r.y + y) * out->width + r.x) * 3;
          if (source[i] >= 0 && fill == TS_DROP_FILL_NEAREST)
            {
              TsRect s = ts_grid_patch_rect (grid, source[i]);
              memcpy (d, out->data + ((gsize) (s.y + y) * out->width + s.x) * 3, (gsize) p * 3);
            }
          else
            memset (d, 128, (gsize) p * 3);
        }
    }
}

TsImage *
ts_reconstruct (const TsImage *image, const TsGrid *grid, const TsAssignment *a, TsDropFill fill,
                GError **error)
{
  TsImage *out;
  gboolean painted = TRUE;

  if (image->width < grid->cols * grid->patch || image->height < grid->rows * grid->patch ||
      a->n_in != grid->tokens)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "the assignment (%d patches) does not belong to this %d x %d grid", a->n_in,
                   grid->rows, grid->cols);
      return NULL;
    }
  if (!ts_assignment_validate (a, grid, error))
    return NULL;
  if (a->recon == TS_RECON_DOWNSAMPLE && (a->down_width < 1 || a->down_height < 1))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "a downsample assignment needs its smaller size, not %d x %d", a->down_width,
                   a->down_height);
      return NULL;
    }
  out = ts_image_copy (image);
  if (out == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "cannot allocate a %d x %d image", image->width,
                   image->height);
      return NULL;
    }
  switch (a->recon)
    {
    case TS_RECON_REGION:
      if (a->regions != NULL)
        {
          painted = paint_regions (image, grid, a, out);
          break;
        }
      paint_tokens (image, grid, a, out);
      break;
    case TS_RECON_DOWNSAMPLE:
      painted = paint_downsample (image, grid, a, out);
      break;
    case TS_RECON_GROUP_MEAN:
    case TS_RECON_MIX:
    default:
      paint_tokens (image, grid, a, out);
      break;
    }
  if (!painted)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory to resample the regions of a %d x %d image",
                   image->width, image->height);
      ts_image_free (out);
      return NULL;
    }
  fill_dropped (grid, a, fill, out);
  return out;
}

double
ts_psnr (const TsImage *a, const TsImage *b)
{
  gsize n;
  double sse = 0;

  if (a->width != b->width || a->height != b->height)
    return NAN;
  n = (gsize) a->width * a->height * 3;
  for (gsize i = 0; i < n; i++)
    {
      double d = (double) a->data[i] - b->data[i];
      sse += d * d;
    }
  if (sse == 0)
    return INFINITY;
  return 10.0 * log10 (255.0 * 255.0 / (sse / n));
}

double *
ts_image_luma (const TsImage *image)
{
  gsize n = (gsize) image->width * image->height;
  double *y = g_new (double, n);

  for (gsize i = 0; i < n; i++)
    {
      const guint8 *p = image->data + i * 3;
      y[i] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    }
  return y;
}

/* scipy.ndimage 'reflect' (half-sample symmetric) index into 0..n-1. */
static int
reflect (int i, int n)
{
  int period = 2 * n;

  i %= period;
  if (i < 0)
    i += period;
  return i < n ? i : period - 1 - i;
}

#define SSIM_RADIUS 5 /* int(3.5 * 1.5 + 0.5) */
#define SSIM_TAPS (2 * SSIM_RADIUS + 1)
#define SSIM_RING 16    /* >= SSIM_TAPS rows of horizontally filtered planes */

/* Horizontal 11-tap Gaussian of the five SSIM planes (x, y, x^2, y^2, xy) of
 * one image row, reflect-padded; @pad holds 5 rows of w + 10 values. The
 * kernel is symmetric, so pairs of taps share a multiply. */
TS_CLONES static void
ssim_row (const double *x, const double *y, int w, const double *k, double *pad, double *out)
{
  int pw = w + 2 * SSIM_RADIUS;
  double *px = pad, *py = pad + pw, *pxx = pad + 2 * pw, *pyy = pad + 3 * pw, *pxy = pad + 4 * pw;

  for (int i = 0; i < pw; i++)
    {
      int j = reflect (i - SSIM_RADIUS, w);
      double a = x[j], b = y[j];
      px[i] = a, py[i] = b, pxx[i] = a * a, pyy[i] = b * b, pxy[i] = a * b;
    }
  for (int p = 0; p < 5; p++)
    {
      const double *src = pad + (gsize) p * pw + SSIM_RADIUS;
      double *dst = out + (gsize) p * w;
      for (int i = 0; i < w; i++)
        {
          double acc = k[SSIM_RADIUS] * src[i];
          for (int t = 1; t <= SSIM_RADIUS; t++)
            acc += k[SSIM_RADIUS + t] * (src[i - t] + src[i + t]);
          dst[i] = acc;
        }
    }
}

/* acc += k[t] * rows[t] over the 11 vertical taps, five planes at once. */
TS_CLONES static void
ssim_vertical (const double *const *rows, const double *k, gsize n, double *restrict acc)
{
  memset (acc, 0, sizeof (double) * n);
  for (int t = 0; t < SSIM_TAPS; t++)
    {
      const double *restrict row = rows[t];
      const double kt = k[t];
      for (gsize i = 0; i < n; i++)
        acc[i] += kt * row[i];
    }
}

/* The SSIM of every pixel of one filtered row (branch-free, so it vectorises). */
TS_CLONES static void
ssim_combine (const double *restrict acc, int w, double *restrict s)
{
  const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
  const double *m0 = acc, *m1 = acc + w, *m2 = acc + 2 * w, *m3 = acc + 3 * w, *m4 = acc + 4 * w;

  for (int i = 0; i < w; i++)
    {
      double ux = m0[i], uy = m1[i];
      double vx = m2[i] - ux * ux, vy = m3[i] - uy * uy, vxy = m4[i] - ux * uy;
      s[i] = ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
    }
}

/* Streams the image once: a ring of horizontally filtered rows feeds the
 * vertical filter, so memory is O(w) whatever the height (a 4096^2 image
 * needs no image-sized temporaries). Equal to skimage's separable
 * gaussian_filter up to rounding (about 1e-13). */
double
ts_ssim_luma (const double *x, const double *y, int w, int h, double *map)
{
  g_autofree double *ring = g_new (double, (gsize) SSIM_RING * 5 * w);
  g_autofree double *pad = g_new (double, (gsize) 5 * (w + 2 * SSIM_RADIUS));
  g_autofree double *acc = g_new (double, (gsize) 5 * w);
  g_autofree double *srow = g_new (double, w);
  double k[SSIM_TAPS], ksum = 0, total = 0;
  int x0 = SSIM_RADIUS, y0 = SSIM_RADIUS, x1 = w - SSIM_RADIUS, y1 = h - SSIM_RADIUS;
  int filtered = 0; /* rows 0..filtered-1 have been filtered into the ring */
  gsize count = 0;

  for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; t++)
    ksum += k[t + SSIM_RADIUS] = exp (-0.5 * t * t / (1.5 * 1.5));
  for (int t = 0; t < SSIM_TAPS; t++)
    k[t] /= ksum;
  if (x1 <= x0 || y1 <= y0)
    x0 = y0 = 0, x1 = w, y1 = h;

  for (int j = 0; j < h; j++)
    {
      int last = MIN (h - 1, j + SSIM_RADIUS);
      const double *rows[SSIM_TAPS];
      for (; filtered <= last; filtered++)
        ssim_row (x + (gsize) filtered * w, y + (gsize) filtered * w, w, k, pad,
                  ring + (gsize) (filtered % SSIM_RING) * 5 * w);
      /* vertical taps: rows reflect(j + t), all within [j - 5, j + 5] clipped, so in the ring */
      for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; t++)
        rows[t + SSIM_RADIUS] = ring + (gsize) (reflect (j + t, h) % SSIM_RING) * 5 * w;
      ssim_vertical (rows, k, (gsize) 5 * w, acc);
      ssim_combine (acc, w, srow);
      if (map)
        memcpy (map + (gsize) j * w, srow, sizeof (double) * w);
      if (j >= y0 && j < y1)
        for (int i = x0; i < x1; i++)
          total += srow[i], count++;
    }
  return total / count;
}

double
ts_ssim (const TsImage *a, const TsImage *b)
{
  g_autofree double *x = NULL;
  g_autofree double *y = NULL;

  if (a->width != b->width || a->height != b->height)
    return NAN;
  x = ts_image_luma (a);
  y = ts_image_luma (b);
  return ts_ssim_luma (x, y, a->width, a->height, NULL);
}

/* ts_cosine with 8 partial sums per product (vectorises; the same value up to
 * double rounding), in parts: a . b and a . a are each summed in 8 lanes, the
 * tail first, then the lanes in order. A product's sum depends on its own
 * terms only, so a row's squared norm is the same double whether it is formed
 * alone or beside a dot product: each norm is formed once. */
TS_CLONES static double
dot_lanes (const float *restrict a, const float *restrict b, int d)
{
  double ab[8] = { 0 }, sab = 0;
  int j = 0;

  for (; j + 8 <= d; j += 8)
    for (int v = 0; v < 8; v++)
      ab[v] += (double) a[j + v] * b[j + v];
  for (; j < d; j++)
    sab += (double) a[j] * b[j];
  for (int v = 0; v < 8; v++)
    sab += ab[v];
  return sab;
}

static float
cosine_of (double sab, double saa, double sbb)
{
  if (saa <= 0 || sbb <= 0)
    return 0.0f;
  return (float) (sab / sqrt (saa * sbb));
}

double *
ts_feature_sq_norms (const TsFeatures *features)
{
  double *n = g_new (double, features->n);

  for (int i = 0; i < features->n; i++)
    {
      const float *x = features->data + (gsize) i * features->d;
      n[i] = dot_lanes (x, x, features->d);
    }
  return n;
}

double
ts_feature_retention_normed (const TsFeatures *features, const double *sq_norms, const TsAssignment *a)
{
  g_autofree double *token_sq = NULL;
  double sum = 0;

  if (a->d != features->d || a->n_in != features->n || a->features == NULL)
    return NAN;
  token_sq = g_new (double, a->n_out);
  for (int g = 0; g < a->n_out; g++)
    token_sq[g] = NAN; /* formed on first use (an empty token has none) */
  for (int i = 0; i < a->n_in; i++)
    {
      int g = a->groups[i];
      const float *t;
      if (g < 0)
        continue;
      t = a->features + (gsize) g * a->d;
      if (isnan (token_sq[g]))
        token_sq[g] = dot_lanes (t, t, a->d);
      sum += cosine_of (dot_lanes (features->data + (gsize) i * a->d, t, a->d), sq_norms[i], token_sq[g]);
    }
  return sum / a->n_in;
}

double
ts_feature_retention (const TsFeatures *features, const TsAssignment *a)
{
  g_autofree double *sq_norms = NULL;

  if (a->d != features->d || a->n_in != features->n || a->features == NULL)
    return NAN;
  sq_norms = ts_feature_sq_norms (features);
  return ts_feature_retention_normed (features, sq_norms, a);
}
