#if defined(__GNUC__) && !defined(__clang__)
/* the passes below vectorise (selects need no-trapping-math, which changes no
 * value; unroll-and-jam would fuse two taps into one scalar loop); no fused
 * multiply-adds, as stb has none */
#pragma GCC optimize ("O3", "fp-contract=off", "no-trapping-math", "no-loop-unroll-and-jam")
#endif
#include "ts-resize.h"
#include "ts-error.h"
#include "ts-simd.h"

#include <math.h>
#include <stb_image_resize.h>
#include <string.h>

static const char *const policy_names[] = { "native", "fit", "square", "pad" };

gboolean
ts_resize_policy_parse (const char *text, TsResizePolicy *policy, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (policy_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, policy_names[i]) == 0)
      {
        *policy = (TsResizePolicy) i;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown resize policy '%s' (use native, fit, square or pad)", text ? text : "");
  return FALSE;
}

const char *
ts_resize_policy_name (TsResizePolicy policy)
{
  return (guint) policy < G_N_ELEMENTS (policy_names) ? policy_names[policy] : "unknown";
}

static int
round_to_patches (double v, int patch)
{
  int n = (int) floor (v / patch + 0.5);
  return MAX (1, n) * patch;
}

gboolean
ts_resize_target_size (const TsResize *resize, int width, int height, int patch,
                       int *out_width, int *out_height, GError **error)
{
  int s;

  if (patch < 1 || width < 1 || height < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "invalid size %d x %d at patch %d",
                   width, height, patch);
      return FALSE;
    }
  if (resize->policy != TS_RESIZE_NATIVE && (resize->size < patch || resize->size > 65536))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "resize size %d must be between the patch size %d and 65536", resize->size, patch);
      return FALSE;
    }
  s = (resize->size / patch) * patch;
  switch (resize->policy)
    {
    case TS_RESIZE_NATIVE:
      *out_width = MAX (1, width / patch) * patch;
      *out_height = MAX (1, height / patch) * patch;
      return TRUE;
    case TS_RESIZE_FIT:
      if (width >= height)
        *out_width = s, *out_height = MIN (s, round_to_patches ((double) height * s / width, patch));
      else
        *out_height = s, *out_width = MIN (s, round_to_patches ((double) width * s / height, patch));
      return TRUE;
    case TS_RESIZE_SQUARE:
    case TS_RESIZE_PAD:
      *out_width = *out_height = s;
      return TRUE;
    default:
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown resize policy %d",
                   resize->policy);
      return FALSE;
    }
}

void
ts_image_mean_color (const TsImage *image, guint8 rgb[3])
{
  guint64 sum[3] = { 0, 0, 0 };
  gsize n = (gsize) image->width * image->height;

  for (gsize i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      sum[c] += image->data[i * 3 + c];
  for (int c = 0; c < 3; c++)
    rgb[c] = (guint8) ((sum[c] + n / 2) / n);
}

/* ---- stb_image_resize's uint8 RGB Catmull-Rom resampling, planned once ----
 * ts_image_resample used stbir_resize_uint8_generic (v0.97, linear colour
 * space, clamped edges, Catmull-Rom both ways), whose generic scalar path
 * recomputes its filters on every call: a reconstruction resamples hundreds
 * of small regions of a few sizes. Here the filters of one axis (in -> out)
 * are computed once, exactly as stb computes them, as a list of taps per
 * output (input index clamped at the edges, weight) in the order stb sums
 * them; a pass adds up whole rows tap by tap, so every output value is the
 * same float sum, rounded the same way, as stb's (no contraction into fused
 * multiply-adds: -std=c11 sets -ffp-contract=off, and so does the pragma at
 * the top). tests/test-resize.c compares the bytes with stb's. */

typedef struct {
  int n_out;
  int *start;  /* n_out + 1: the taps of output o are start[o] .. start[o + 1] - 1 */
  int *src;
  float *coef;
} AxisPlan;

struct _TsResampler {
  GHashTable *plans; /* (n_in << 32 | n_out) -> AxisPlan */
  GHashTable *tiled; /* "n_in n_out tiles" -> AxisPlan: a plan repeated side by side */
  float *buf[2];
  gsize size[2];
  float decode[256];
};

static float
catmullrom (float x)
{
  x = (float) fabs (x);
  if (x < 1.0f)
    return 1 - x * x * (2.5f - 1.5f * x);
  else if (x < 2.0f)
    return 2 - x * (4 + x * (0.5f * x - 2.5f));
  return 0.0f;
}

static void
axis_plan_free (gpointer data)
{
  AxisPlan *p = data;

  g_free (p->start);
  g_free (p->src);
  g_free (p->coef);
  g_free (p);
}

/* stb's filters for one axis (stbir__calculate_filters with the Catmull-Rom
 * kernel, support 2, no shift): contributors n0..n1 and a flat coefficient
 * array of 4 per contributor, written in stb's order (a fifth coefficient
 * spills into the next contributor's first, as in stb, which overwrites it). */
static AxisPlan *
axis_plan_new (int n_in, int n_out)
{
  float scale = (float) n_out / n_in / (1.0f - 0.0f);
  gboolean up = scale > 1;
  int width = 4; /* stbir__get_coefficient_width: ceil(support * 2) either way */
  int margin = up ? 2 : (int) ceil (2.0f * 2 / scale) / 2;
  int n_contrib = up ? n_out : n_in + 2 * margin;
  g_autofree int *c0 = g_new (int, n_contrib);
  g_autofree int *c1 = g_new (int, n_contrib);
  g_autofree float *coef = g_new0 (float, (gsize) n_contrib * width + width);
  AxisPlan *p = g_new0 (AxisPlan, 1);
  g_autofree int *lo = NULL;
  int taps = 0;

  if (up)
    {
      float radius = 2.0f * scale;
      for (int n = 0; n < n_contrib; n++)
        {
          float center = (float) n + 0.5f, *g = coef + (gsize) n * width, total = 0;
          float in_center = (center + 0.0f) / scale;
          int first = (int) floor ((center - radius + 0.0f) / scale + 0.5);
          int last = (int) floor ((center + radius + 0.0f) / scale - 0.5);
          c0[n] = first;
          c1[n] = last;
          for (int i = 0; i <= last - first; i++)
            {
              g[i] = catmullrom (in_center - ((float) (i + first) + 0.5f));
              if (i == 0 && !g[i])
                {
                  c0[n] = ++first;
                  i--;
                  continue;
                }
              total += g[i];
            }
          {
            float fs = 1 / total;
            for (int i = 0; i <= last - first; i++)
              g[i] *= fs;
          }
          for (int i = last - first; i >= 0; i--)
            {
              if (g[i])
                break;
              c1[n] = c0[n] + i - 1;
            }
        }
    }
  else
    {
      float radius = 2.0f / scale;
      for (int n = 0; n < n_contrib; n++)
        {
          float in_center = (float) (n - margin) + 0.5f, *g = coef + (gsize) n * width;
          float out_center = in_center * scale - 0.0f;
          int first = (int) floor ((in_center - radius) * scale - 0.0f + 0.5);
          int last = (int) floor ((in_center + radius) * scale - 0.0f - 0.5);
          c0[n] = first;
          c1[n] = last;
          for (int i = 0; i <= last - first; i++)
            g[i] = catmullrom (((float) (i + first) + 0.5f) - out_center) * scale;
          for (int i = last - first; i >= 0; i--)
            {
              if (g[i])
                break;
              c1[n] = c0[n] + i - 1;
            }
        }
      /* stbir__normalize_downsample_coefficients; its loops over j begin at
       * the first contributor not wholly left of i (those before it neither
       * cover nor stop any later i either), which changes no sum */
      for (int i = 0, j0 = 0; i < n_out; i++)
        {
          float total = 0, s;
          while (j0 < n_contrib && c1[j0] < i && c0[j0] <= i)
            j0++;
          for (int j = j0; j < n_contrib; j++)
            {
              if (i >= c0[j] && i <= c1[j])
                total += coef[(gsize) j * width + i - c0[j]];
              else if (i < c0[j])
                break;
            }
          s = 1 / total;
          for (int j = j0; j < n_contrib; j++)
            {
              if (i >= c0[j] && i <= c1[j])
                coef[(gsize) j * width + i - c0[j]] *= s;
              else if (i < c0[j])
                break;
            }
        }
      for (int j = 0; j < n_contrib; j++)
        {
          float *g = coef + (gsize) j * width;
          int skip = 0, range, max;
          while (g[skip] == 0)
            skip++;
          c0[j] += skip;
          while (c0[j] < 0)
            {
              c0[j]++;
              skip++;
            }
          range = c1[j] - c0[j] + 1;
          max = MIN (width, range);
          for (int i = 0; i < max; i++)
            {
              if (i + skip >= width)
                break;
              g[i] = g[i + skip];
            }
        }
      for (int j = 0; j < n_contrib; j++)
        c1[j] = MIN (c1[j], n_out - 1);
    }

  /* the taps of each output, in the order stb adds them up: the
   * contributors j that cover o, from the first not wholly left of o (as
   * above) to the last whose range may still reach o (no later one begins at
   * or before o: lo[j] is the least first output from j on) */
  p->n_out = n_out;
  p->start = g_new (int, n_out + 1);
  lo = g_new (int, n_contrib + 1);
  lo[n_contrib] = G_MAXINT;
  for (int j = n_contrib - 1; j >= 0; j--)
    lo[j] = MIN (c0[j], lo[j + 1]);
  for (int pass = 0; pass < 2; pass++)
    {
      int j0 = 0;
      taps = 0;
      for (int o = 0; o < n_out; o++)
        {
          if (pass == 1)
            p->start[o] = taps;
          if (up)
            for (int k = c0[o]; k <= c1[o]; k++, taps++)
              {
                if (pass == 1)
                  {
                    p->src[taps] = CLAMP (k, 0, n_in - 1);
                    p->coef[taps] = coef[(gsize) o * width + k - c0[o]];
                  }
              }
          else
            {
              while (j0 < n_contrib && c1[j0] < o)
                j0++;
              for (int j = j0; j < n_contrib && lo[j] <= o; j++)
                if (o >= c0[j] && o <= c1[j])
                  {
                    if (pass == 1)
                      {
                        p->src[taps] = CLAMP (j - margin, 0, n_in - 1);
                        p->coef[taps] = coef[(gsize) j * width + o - c0[j]];
                      }
                    taps++;
                  }
            }
        }
      if (pass == 0)
        {
          p->src = g_new (int, MAX (taps, 1));
          p->coef = g_new (float, MAX (taps, 1));
        }
    }
  p->start[n_out] = taps;
  return p;
}

static const AxisPlan *
resampler_plan (TsResampler *rs, int n_in, int n_out)
{
  gint64 key = (gint64) n_in << 32 | (guint32) n_out;
  AxisPlan *p = g_hash_table_lookup (rs->plans, &key);

  if (p == NULL)
    {
      p = axis_plan_new (n_in, n_out);
      g_hash_table_insert (rs->plans, g_memdup2 (&key, sizeof key), p);
    }
  return p;
}

/* The plan of @tiles inputs of @n_in side by side each to @n_out: every
 * tile's taps as its own plan's, moved to its place. */
static const AxisPlan *
resampler_plan_tiled (TsResampler *rs, int n_in, int n_out, int tiles)
{
  const AxisPlan *one = resampler_plan (rs, n_in, n_out);
  g_autofree char *key = NULL;
  AxisPlan *p;
  int taps = one->start[n_out];

  if (tiles == 1)
    return one;
  key = g_strdup_printf ("%d %d %d", n_in, n_out, tiles);
  p = g_hash_table_lookup (rs->tiled, key);
  if (p != NULL)
    return p;
  p = g_new0 (AxisPlan, 1);
  p->n_out = n_out * tiles;
  p->start = g_new (int, (gsize) p->n_out + 1);
  p->src = g_new (int, MAX ((gsize) taps * tiles, 1));
  p->coef = g_new (float, MAX ((gsize) taps * tiles, 1));
  for (int j = 0; j < tiles; j++)
    {
      for (int o = 0; o < n_out; o++)
        p->start[j * n_out + o] = j * taps + one->start[o];
      for (int t = 0; t < taps; t++)
        {
          p->src[(gsize) j * taps + t] = j * n_in + one->src[t];
          p->coef[(gsize) j * taps + t] = one->coef[t];
        }
    }
  p->start[p->n_out] = taps * tiles;
  g_hash_table_insert (rs->tiled, g_steal_pointer (&key), p);
  return p;
}

TsResampler *
ts_resampler_new (void)
{
  TsResampler *rs = g_new0 (TsResampler, 1);

  rs->plans = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, axis_plan_free);
  rs->tiled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, axis_plan_free);
  for (int v = 0; v < 256; v++)
    rs->decode[v] = (float) v / 255.0f;
  return rs;
}

void
ts_resampler_free (TsResampler *rs)
{
  if (rs == NULL)
    return;
  g_hash_table_unref (rs->plans);
  g_hash_table_unref (rs->tiled);
  g_free (rs->buf[0]);
  g_free (rs->buf[1]);
  g_free (rs);
}

static float *
resampler_buffer (TsResampler *rs, int i, gsize n)
{
  if (rs->size[i] < n)
    {
      g_free (rs->buf[i]);
      rs->buf[i] = g_try_new (float, n);
      rs->size[i] = rs->buf[i] ? n : 0;
    }
  return rs->buf[i];
}

/* out row o - o0 (o in o0 .. o1 - 1) = sum over the taps of o of in row src * coef, row by row in tap
 * order from 0 (stb's sums; a tap whose weight is 0 adds a zero, which
 * changes no sum). The first tap is added to 0.0f as it is written, as to
 * stb's zeroed row (a -0 product becomes +0 either way). */
TS_CLONES static void
filter_rows (const float *restrict in, const AxisPlan *p, int o0, int o1, gsize len, float *restrict out)
{
  for (int o = o0; o < o1; o++)
    {
      float *restrict d = out + (gsize) (o - o0) * len;
      int t = p->start[o];
      if (t == p->start[o + 1])
        {
          for (gsize i = 0; i < len; i++)
            d[i] = 0.0f;
          continue;
        }
      {
        const float *restrict s = in + (gsize) p->src[t] * len;
        const float c = p->coef[t];
        for (gsize i = 0; i < len; i++)
          d[i] = 0.0f + s[i] * c;
      }
      for (t++; t < p->start[o + 1]; t++)
        {
          const float *restrict s = in + (gsize) p->src[t] * len;
          const float c = p->coef[t];
          for (gsize i = 0; i < len; i++)
            d[i] += s[i] * c;
        }
    }
}

/* stb's encoding, (int) ((double) (saturate (v) * 255) + 0.5): for u =
 * saturate (v) * 255 in [0, 255] that is u rounded half up. Adding and
 * subtracting 1.5 x 2^23 rounds to nearest, ties to even; a tie rounded down
 * (u - r == 0.5, exact) takes one more. Branch-free, so it vectorises; NaN
 * becomes 0, as stb's cast gives. */
TS_CLONES static void
encode_row (const float *restrict v, int n, guint8 *restrict d)
{
  for (int i = 0; i < n; i++)
    {
      float s = v[i] > 0.0f ? v[i] : 0.0f;
      float u = (s < 1.0f ? s : 1.0f) * 255.0f;
      float r = (u + 12582912.0f) - 12582912.0f;
      int k = (int) r;
      k += u - r == 0.5f;
      d[i] = (guint8) k;
    }
}

gboolean
ts_resampler_apply_tiles (TsResampler *rs, int tiles, const guint8 *src, int tile_w, int src_h, gsize src_stride,
                          guint8 *dst, int dtile_w, int dst_h, gsize dst_stride)
{
  int src_w, dst_w;
  const AxisPlan *px, *py;
  gsize col, row, n0, n1;
  float *t, *ht, *h, *o;

  if (tiles < 1 || tile_w < 1 || src_h < 1 || dtile_w < 1 || dst_h < 1 || tile_w > G_MAXINT / tiles ||
      dtile_w > G_MAXINT / tiles)
    return FALSE;
  src_w = tile_w * tiles;
  dst_w = dtile_w * tiles;
  col = (gsize) src_h * 3;
  row = (gsize) dst_w * 3;
  n0 = MAX ((gsize) src_w, (gsize) dst_w) * col;
  n1 = MAX ((gsize) src_h, (gsize) dst_h) * row;
  if (src_w == dst_w && src_h == dst_h)
    {
      for (int y = 0; y < src_h; y++)
        memcpy (dst + y * dst_stride, src + y * src_stride, (gsize) src_w * 3);
      return TRUE;
    }
  if (n0 + n1 > TS_RESAMPLER_MAX_FLOATS || (t = resampler_buffer (rs, 0, n0)) == NULL ||
      (ht = resampler_buffer (rs, 1, n1)) == NULL)
    {
      /* stb itself streams rows through a ring buffer: the same bytes in O(width) memory */
      for (int j = 0; j < tiles; j++)
        if (!stbir_resize_uint8_generic (src + (gsize) j * tile_w * 3, tile_w, src_h, (int) src_stride,
                                         dst + (gsize) j * dtile_w * 3, dtile_w, dst_h, (int) dst_stride, 3,
                                         STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
                                         STBIR_COLORSPACE_LINEAR, NULL))
          return FALSE;
      return TRUE;
    }
  px = resampler_plan_tiled (rs, tile_w, dtile_w, tiles);
  py = resampler_plan (rs, src_h, dst_h);
  /* decoded columns: t[x][y * 3 + c], so that the horizontal pass adds whole
   * rows; in bands of 16 rows, so that each column is written 48 floats at a time */
  for (int y0 = 0; y0 < src_h; y0 += 16)
    {
      int y1 = MIN (y0 + 16, src_h);
      for (int x = 0; x < src_w; x++)
        {
          float *d = t + (gsize) x * col;
          for (int y = y0; y < y1; y++)
            for (int c = 0; c < 3; c++)
              d[y * 3 + c] = rs->decode[src[y * src_stride + x * 3 + c]];
        }
    }
  filter_rows (t, px, 0, px->n_out, col, ht);
  /* back to rows, h[y][x * 3 + c], in bands of 16 columns */
  h = t;
  for (int x0 = 0; x0 < dst_w; x0 += 16)
    {
      int x1 = MIN (x0 + 16, dst_w);
      for (int y = 0; y < src_h; y++)
        {
          float *d = h + (gsize) y * row;
          for (int x = x0; x < x1; x++)
            for (int c = 0; c < 3; c++)
              d[x * 3 + c] = ht[(gsize) x * col + y * 3 + c];
        }
    }
  /* output rows filtered and encoded a few at a time, while they are in cache */
  o = ht;
  for (int y0 = 0, n = (int) MAX (1, 8192 / row); y0 < dst_h; y0 += n)
    {
      int y1 = MIN (dst_h, y0 + n);
      filter_rows (h, py, y0, y1, row, o);
      for (int y = y0; y < y1; y++)
        encode_row (o + (gsize) (y - y0) * row, (int) row, dst + y * dst_stride);
    }
  return TRUE;
}

gboolean
ts_resampler_apply (TsResampler *rs, const guint8 *src, int src_w, int src_h, gsize src_stride, guint8 *dst,
                    int dst_w, int dst_h, gsize dst_stride)
{
  return ts_resampler_apply_tiles (rs, 1, src, src_w, src_h, src_stride, dst, dst_w, dst_h, dst_stride);
}

TsImage *
ts_image_resample (const TsImage *image, int width, int height)
{
  TsImage *out;
  TsResampler *rs;

  g_return_val_if_fail (image != NULL, NULL);
  if (width == image->width && height == image->height)
    return ts_image_copy (image);
  if (width < 1 || height < 1 || (out = ts_image_new (width, height)) == NULL)
    return NULL;
  rs = ts_resampler_new ();
  if (!ts_resampler_apply (rs, image->data, image->width, image->height, (gsize) image->width * 3, out->data, width,
                           height, (gsize) width * 3))
    g_clear_pointer (&out, ts_image_free);
  ts_resampler_free (rs);
  return out;
}

TsImage *
ts_resize_apply (const TsImage *image, const TsResize *resize, int patch, GError **error)
{
  int w, h;
  guint8 mean[3];
  TsImage *out;

  g_return_val_if_fail (image != NULL && resize != NULL, NULL);
  if (!ts_resize_target_size (resize, image->width, image->height, patch, &w, &h, error))
    return NULL;

  if (resize->policy == TS_RESIZE_NATIVE)
    {
      ts_image_mean_color (image, mean);
      out = ts_image_crop (image, 0, 0, w, h, mean);
    }
  else if (resize->policy == TS_RESIZE_PAD && image->width != image->height)
    {
      int side = MAX (image->width, image->height);
      g_autoptr (TsImage) square = NULL;
      ts_image_mean_color (image, mean);
      /* centred, as LLaVA's expand2square does */
      square = ts_image_crop (image, -(side - image->width) / 2, -(side - image->height) / 2, side,
                              side, mean);
      out = square ? ts_image_resample (square, w, h) : NULL;
    }
  else
    out = ts_image_resample (image, w, h);

  if (out == NULL)
    g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "cannot allocate a %d x %d image", w, h);
  return out;
}
