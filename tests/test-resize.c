/* Resize policies: output sizes worked by hand, pad centring and mean colour,
 * determinism, bad arguments. */
#include "ts-test-util.h"
#include <stb_image_resize.h>

#include <string.h>

typedef struct {
  const char *name;
  TsResizePolicy policy;
  int size, patch;
  int w, h;        /* input */
  int out_w, out_h; /* expected, worked by hand in the comment */
} SizeCase;

static const SizeCase size_cases[] = {
  /* native: floor to whole patches; a side under one patch is padded to one patch */
  { "native-exact", TS_RESIZE_NATIVE, 0, 14, 336, 336, 336, 336 },
  { "native-crop", TS_RESIZE_NATIVE, 0, 14, 100, 50, 98, 42 },            /* 7 x 3 patches */
  { "native-thin", TS_RESIZE_NATIVE, 0, 14, 10, 50, 14, 42 },             /* 10 < 14: one patch */
  { "native-p16", TS_RESIZE_NATIVE, 0, 16, 1920, 1080, 1920, 1072 },     /* 120 x 67 patches */
  /* fit S: longest side S (floored to patches), the other rounded to the nearest patch */
  { "fit-landscape", TS_RESIZE_FIT, 336, 14, 1000, 500, 336, 168 },      /* 500*336/1000 = 168 = 12 P */
  { "fit-portrait", TS_RESIZE_FIT, 336, 14, 500, 1000, 168, 336 },
  { "fit-4-3", TS_RESIZE_FIT, 336, 14, 1024, 768, 336, 252 },            /* 252 = 18 P */
  { "fit-round-down", TS_RESIZE_FIT, 1024, 16, 1000, 707, 1024, 720 },   /* 723.97 / 16 = 45.2 -> 45 */
  { "fit-round-up", TS_RESIZE_FIT, 336, 14, 1000, 530, 336, 182 },       /* 178.08 / 14 = 12.7 -> 13 */
  { "fit-sliver", TS_RESIZE_FIT, 336, 14, 1000, 10, 336, 14 },           /* 3.36 px -> at least 1 P */
  { "fit-size-floored", TS_RESIZE_FIT, 340, 14, 800, 800, 336, 336 },    /* 340 -> 24 P = 336 */
  { "fit-upscale", TS_RESIZE_FIT, 672, 14, 200, 100, 672, 336 },
  /* square S: stretch */
  { "square-336", TS_RESIZE_SQUARE, 336, 14, 1920, 1080, 336, 336 },
  { "square-floored", TS_RESIZE_SQUARE, 500, 14, 64, 64, 490, 490 },     /* 35 P */
  { "square-224-p16", TS_RESIZE_SQUARE, 224, 16, 300, 200, 224, 224 },
  /* pad S: square first, then S x S */
  { "pad-336", TS_RESIZE_PAD, 336, 14, 1024, 768, 336, 336 },
  { "pad-672", TS_RESIZE_PAD, 672, 14, 100, 300, 672, 672 },
};

static void
test_target_size (gconstpointer data)
{
  const SizeCase *c = data;
  TsResize r = { c->policy, c->size };
  int w = 0, h = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_resize_target_size (&r, c->w, c->h, c->patch, &w, &h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, c->out_w);
  g_assert_cmpint (h, ==, c->out_h);
  g_assert_cmpint (w % c->patch, ==, 0);
  g_assert_cmpint (h % c->patch, ==, 0);
}

static void
test_apply_matches_target (void)
{
  /* the resampled image has exactly the size the policy promises, for every case */
  for (guint i = 0; i < G_N_ELEMENTS (size_cases); i++)
    {
      const SizeCase *c = &size_cases[i];
      TsResize r = { c->policy, c->size };
      g_autoptr (TsImage) image = NULL;
      g_autoptr (TsImage) out = NULL;
      if ((gint64) c->w * c->h > 2000000)
        continue;
      image = ts_test_gradient (c->w, c->h);
      out = ts_resize_apply (image, &r, c->patch, NULL);
      g_assert_nonnull (out);
      g_assert_cmpint (out->width, ==, c->out_w);
      g_assert_cmpint (out->height, ==, c->out_h);
    }
}

static void
test_native_keeps_pixels (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (100, 50);
  TsResize r = { TS_RESIZE_NATIVE, 0 };
  g_autoptr (TsImage) out = ts_resize_apply (image, &r, 14, NULL);

  /* a crop, not a resample: every kept pixel is the original's */
  for (int y = 0; y < out->height; y++)
    g_assert_cmpmem (out->data + (gsize) y * out->width * 3, out->width * 3, image->data + (gsize) y * 100 * 3,
                     out->width * 3);
}

static void
test_native_pads_with_mean (void)
{
  /* 10 x 28: the top half red 0, the bottom half red 255; green 100 and blue 200 everywhere */
  g_autoptr (TsImage) image = ts_test_solid (10, 28, 0, 100, 200);
  TsResize r = { TS_RESIZE_NATIVE, 0 };
  g_autoptr (TsImage) out = NULL;

  for (int y = 14; y < 28; y++)
    for (int x = 0; x < 10; x++)
      image->data[(y * 10 + x) * 3] = 255;
  /* red: (140 * 255 + 140) / 280 = 128 (127.5 rounded half up); green 100, blue 200 */
  out = ts_resize_apply (image, &r, 14, NULL);
  g_assert_cmpint (out->width, ==, 14);
  g_assert_cmpint (out->height, ==, 28);
  for (int y = 0; y < 28; y++)
    for (int x = 10; x < 14; x++)
      {
        const guint8 *p = out->data + (y * 14 + x) * 3;
        g_assert_cmpint (p[0], ==, 128);
        g_assert_cmpint (p[1], ==, 100);
        g_assert_cmpint (p[2], ==, 200);
      }
}

typedef struct {
  const char *name;
  int w, h;
  int off_x, off_y; /* where the image lands in the square: (side - w) / 2, (side - h) / 2 */
} PadCase;

static const PadCase pad_cases[] = {
  { "wide-even", 6, 2, 0, 2 },
  { "wide-odd", 6, 3, 0, 1 }, /* 3 rows of padding: 1 above, 2 below, as LLaVA's expand2square */
  { "tall", 2, 6, 2, 0 },
  { "square", 6, 6, 0, 0 },
};

static void
test_pad_centring (gconstpointer data)
{
  const PadCase *c = data;
  g_autoptr (TsImage) image = ts_test_gradient (c->w, c->h);
  TsResize r = { TS_RESIZE_PAD, 6 }; /* S = side: no resampling, the padding is visible as is */
  g_autoptr (TsImage) out = ts_resize_apply (image, &r, 2, NULL);
  guint8 mean[3];

  ts_image_mean_color (image, mean);
  g_assert_cmpint (out->width, ==, 6);
  g_assert_cmpint (out->height, ==, 6);
  for (int y = 0; y < 6; y++)
    for (int x = 0; x < 6; x++)
      {
        int sx = x - c->off_x, sy = y - c->off_y;
        const guint8 *o = out->data + (y * 6 + x) * 3;
        if (sx >= 0 && sy >= 0 && sx < c->w && sy < c->h)
          g_assert_cmpmem (o, 3, image->data + (sy * c->w + sx) * 3, 3);
        else
          g_assert_cmpmem (o, 3, mean, 3);
      }
}

static void
test_mean_color (void)
{
  /* three pixels: red 1, 2, 2 -> 5/3 = 1.67 -> 2; green 0, 0, 1 -> 0.33 -> 0; blue 255 x 3 */
  g_autoptr (TsImage) image = ts_image_new (3, 1);
  const guint8 px[9] = { 1, 0, 255, 2, 0, 255, 2, 1, 255 };
  guint8 mean[3];

  memcpy (image->data, px, 9);
  ts_image_mean_color (image, mean);
  g_assert_cmpint (mean[0], ==, 2);
  g_assert_cmpint (mean[1], ==, 0);
  g_assert_cmpint (mean[2], ==, 255);
}

static void
test_solid_stays_solid (void)
{
  /* the filter's weights sum to one: a flat colour survives shrinking and enlarging exactly */
  static const int sizes[][2] = { { 17, 11 }, { 140, 90 }, { 1, 1 }, { 50, 3 } };
  g_autoptr (TsImage) image = ts_test_solid (50, 30, 37, 200, 90);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (TsImage) out = ts_image_resample (image, sizes[i][0], sizes[i][1]);
      g_assert_nonnull (out);
      for (int p = 0; p < out->width * out->height; p++)
        {
          g_assert_cmpint (out->data[p * 3], ==, 37);
          g_assert_cmpint (out->data[p * 3 + 1], ==, 200);
          g_assert_cmpint (out->data[p * 3 + 2], ==, 90);
        }
    }
}

static void
test_deterministic (void)
{
  g_autoptr (TsImage) image = ts_test_noisy_gradient (301, 207, 3, 30);
  TsResize policies[] = { { TS_RESIZE_FIT, 336 }, { TS_RESIZE_SQUARE, 224 }, { TS_RESIZE_PAD, 336 } };

  for (guint i = 0; i < G_N_ELEMENTS (policies); i++)
    {
      g_autoptr (TsImage) a = ts_resize_apply (image, &policies[i], 14, NULL);
      g_autoptr (TsImage) b = ts_resize_apply (image, &policies[i], 14, NULL);
      g_assert_true (ts_image_equal (a, b));
    }
}

static void
test_downscale_averages (void)
{
  /* one-pixel black and white stripes shrunk 4x turns mid grey: the filter antialiases */
  g_autoptr (TsImage) image = ts_image_new (64, 64);
  g_autoptr (TsImage) out = NULL;

  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++)
      memset (image->data + (y * 64 + x) * 3, (x & 1) ? 255 : 0, 3);
  out = ts_image_resample (image, 16, 16);
  for (int y = 2; y < 14; y++)
    for (int x = 2; x < 14; x++)
      g_assert_cmpint (ABS (out->data[(y * 16 + x) * 3] - 128), <=, 3);
}

static void
test_policy_names (void)
{
  TsResizePolicy p;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_resize_policy_parse ("native", &p, NULL));
  g_assert_cmpint (p, ==, TS_RESIZE_NATIVE);
  g_assert_true (ts_resize_policy_parse ("FIT", &p, NULL));
  g_assert_cmpint (p, ==, TS_RESIZE_FIT);
  g_assert_true (ts_resize_policy_parse ("Square", &p, NULL));
  g_assert_cmpint (p, ==, TS_RESIZE_SQUARE);
  g_assert_true (ts_resize_policy_parse ("pad", &p, NULL));
  g_assert_cmpint (p, ==, TS_RESIZE_PAD);
  g_assert_cmpstr (ts_resize_policy_name (TS_RESIZE_PAD), ==, "pad");
  g_assert_cmpstr (ts_resize_policy_name ((TsResizePolicy) 42), ==, "unknown");
  g_assert_false (ts_resize_policy_parse ("stretch", &p, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "stretch"));
  g_clear_error (&error);
  g_assert_false (ts_resize_policy_parse (NULL, &p, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

typedef struct {
  const char *name;
  TsResizePolicy policy;
  int size, patch, w, h;
} BadCase;

static const BadCase bad_cases[] = {
  { "size-below-patch", TS_RESIZE_FIT, 10, 14, 100, 100 },
  { "size-zero", TS_RESIZE_SQUARE, 0, 14, 100, 100 },
  { "size-negative", TS_RESIZE_PAD, -336, 14, 100, 100 },
  { "size-huge", TS_RESIZE_SQUARE, 100000, 14, 100, 100 },
  { "patch-zero", TS_RESIZE_NATIVE, 0, 0, 100, 100 },
  { "width-zero", TS_RESIZE_FIT, 336, 14, 0, 100 },
  { "unknown-policy", (TsResizePolicy) 9, 336, 14, 100, 100 },
};

static void
test_bad_args (gconstpointer data)
{
  const BadCase *c = data;
  TsResize r = { c->policy, c->size };
  int w = -1, h = -1;
  g_autoptr (GError) error = NULL;

  g_assert_false (ts_resize_target_size (&r, c->w, c->h, c->patch, &w, &h, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  if (c->w > 0)
    {
      g_autoptr (TsImage) image = ts_test_solid (c->w, c->h, 1, 2, 3);
      g_autoptr (GError) error2 = NULL;
      g_autoptr (TsImage) out = ts_resize_apply (image, &r, c->patch, &error2);
      g_assert_null (out);
      g_assert_error (error2, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
}

/* stb's own resampling, as ts_image_resample called it before the planned filters. */
static TsImage *
stb_resample (const TsImage *image, int width, int height)
{
  TsImage *out = ts_image_new (width, height);

  g_assert_true (stbir_resize_uint8_generic (image->data, image->width, image->height, image->width * 3, out->data,
                                             width, height, width * 3, 3, STBIR_ALPHA_CHANNEL_NONE, 0,
                                             STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM, STBIR_COLORSPACE_LINEAR,
                                             NULL));
  return out;
}

static TsImage *
random_image (int width, int height, guint32 seed)
{
  TsImage *im = ts_image_new (width, height);
  guint32 s = seed;

  for (gsize i = 0; i < (gsize) width * height * 3; i++)
    {
      s = s * 1664525u + 1013904223u;
      im->data[i] = (guint8) (s >> 24);
    }
  return im;
}

/* The planned filters give stb's bytes exactly: every size pair from 1 to 40
 * pixels on each axis (shrinking, enlarging, mixed, equal), on random pixels
 * (every rounding case) and a smooth gradient; then the sizes a sweep uses
 * (regions to P x P and back, the downsample baseline) and extreme ratios. */
static void
test_resample_matches_stb (void)
{
  static const int big[][4] = { { 672, 672, 336, 336 }, { 336, 336, 672, 672 }, { 672, 672, 308, 308 },
                                { 308, 308, 672, 672 }, { 672, 672, 112, 112 }, { 112, 112, 672, 672 },
                                { 28, 28, 14, 14 }, { 14, 14, 28, 28 }, { 56, 56, 14, 14 }, { 14, 14, 112, 112 },
                                { 224, 224, 14, 14 }, { 14, 14, 224, 224 }, { 1000, 7, 3, 90 },
                                { 3, 90, 1000, 7 }, { 501, 333, 17, 499 }, { 640, 480, 672, 504 } };
  g_autoptr (TsResampler) rs = ts_resampler_new ();
  int checked = 0;

  for (int wi = 1; wi <= 40; wi++)
    for (int wo = 1; wo <= 40; wo++)
      {
        int hi = 1 + (wi * 7 + wo * 3) % 40, ho = 1 + (wi * 5 + wo * 11) % 40; /* every height pair over the run */
        g_autoptr (TsImage) im = random_image (wi, hi, (guint32) (wi * 41 + wo));
        g_autoptr (TsImage) want = stb_resample (im, wo, ho);
        g_autoptr (TsImage) got = ts_image_resample (im, wo, ho);
        g_autoptr (TsImage) flip = ts_image_resample (im, ho, wo);
        g_autoptr (TsImage) flip_want = stb_resample (im, ho, wo);
        if (wi == wo && hi == ho)
          continue; /* a copy, not stb */
        g_assert_true (ts_image_equal (got, want));
        g_assert_true (ts_image_equal (flip, flip_want));
        checked += 2;
      }
  for (guint i = 0; i < G_N_ELEMENTS (big); i++)
    for (int kind = 0; kind < 2; kind++)
      {
        g_autoptr (TsImage) im = kind ? random_image (big[i][0], big[i][1], i + 1)
                                      : ts_test_noisy_gradient (big[i][0], big[i][1], i + 1, 20);
        g_autoptr (TsImage) want = stb_resample (im, big[i][2], big[i][3]);
        g_autoptr (TsImage) got = NULL;
        got = ts_image_new (big[i][2], big[i][3]);
        /* through one resampler, its plans and buffers reused */
        g_assert_true (ts_resampler_apply (rs, im->data, im->width, im->height, (gsize) im->width * 3, got->data,
                                           got->width, got->height, (gsize) got->width * 3));
        g_assert_true (ts_image_equal (got, want));
        checked++;
      }
  g_assert_cmpint (checked, >, 3000);
  {
    /* work buffers above TS_RESAMPLER_MAX_FLOATS: stb streams it, the same bytes */
    g_autoptr (TsImage) im = ts_test_noisy_gradient (2400, 2400, 5, 20);
    g_autoptr (TsImage) want = stb_resample (im, 100, 90);
    g_autoptr (TsImage) got = ts_image_resample (im, 100, 90);
    g_assert_cmpuint ((gsize) 2400 * 2400 * 3, >, TS_RESAMPLER_MAX_FLOATS);
    g_assert_true (ts_image_equal (got, want));
  }
}

/* A sub-rectangle read in place, written into a larger image's rows. */
static void
test_resampler_strides (void)
{
  g_autoptr (TsImage) im = random_image (50, 40, 9);
  g_autoptr (TsImage) crop = ts_image_crop (im, 7, 5, 28, 21, (const guint8[3]){ 0, 0, 0 });
  g_autoptr (TsImage) want = stb_resample (crop, 14, 30);
  g_autoptr (TsImage) canvas = ts_image_new (60, 50);
  g_autoptr (TsResampler) rs = ts_resampler_new ();

  memset (canvas->data, 77, (gsize) 60 * 50 * 3);
  g_assert_true (ts_resampler_apply (rs, im->data + ((gsize) 5 * 50 + 7) * 3, 28, 21, (gsize) 50 * 3,
                                     canvas->data + ((gsize) 3 * 60 + 2) * 3, 14, 30, (gsize) 60 * 3));
  for (int y = 0; y < 50; y++)
    for (int x = 0; x < 60; x++)
      for (int c = 0; c < 3; c++)
        {
          guint8 v = canvas->data[((gsize) y * 60 + x) * 3 + c];
          if (x >= 2 && x < 16 && y >= 3 && y < 33)
            g_assert_cmpint (v, ==, want->data[((gsize) (y - 3) * 14 + x - 2) * 3 + c]);
          else
            g_assert_cmpint (v, ==, 77); /* nothing outside the target rectangle */
        }
  g_assert_false (ts_resampler_apply (rs, im->data, 0, 4, 0, canvas->data, 4, 4, 12));
}

/* A strip of tiles resampled at once: each tile's bytes are stb's for that
 * tile alone (its own clamped edges), shrinking, enlarging and mixed, one to
 * five tiles, plans reused between strips; nothing written outside. */
static void
test_resampler_tiles (void)
{
  static const int sizes[][4] = { { 28, 28, 14, 14 }, { 14, 14, 28, 28 }, { 42, 42, 14, 14 }, { 17, 9, 5, 23 },
                                  { 5, 23, 17, 9 }, { 1, 3, 3, 1 }, { 84, 84, 14, 14 }, { 14, 14, 84, 84 } };
  g_autoptr (TsResampler) rs = ts_resampler_new ();

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int tiles = 1; tiles <= 5; tiles++)
      {
        int tw = sizes[i][0], th = sizes[i][1], dw = sizes[i][2], dh = sizes[i][3];
        int W = tiles * MAX (tw, dw) + 3, H = MAX (th, dh) + 2;
        g_autoptr (TsImage) im = random_image (W, H, i * 7 + tiles);
        g_autoptr (TsImage) canvas = ts_image_new (W, H);
        memset (canvas->data, 77, (gsize) W * H * 3);
        /* the strip at (1, 1) of the image into (2, 1) of the canvas */
        g_assert_true (ts_resampler_apply_tiles (rs, tiles, im->data + ((gsize) W + 1) * 3, tw, th, (gsize) W * 3,
                                                 canvas->data + ((gsize) W + 2) * 3, dw, dh, (gsize) W * 3));
        for (int y = 0; y < H; y++)
          for (int x = 0; x < W; x++)
            {
              int j = (x - 2) / dw, in = x >= 2 && x < 2 + tiles * dw && y >= 1 && y < 1 + dh;
              g_autoptr (TsImage) tile = NULL;
              g_autoptr (TsImage) want = NULL;
              if (!in)
                {
                  for (int c = 0; c < 3; c++)
                    g_assert_cmpint (canvas->data[((gsize) y * W + x) * 3 + c], ==, 77);
                  continue;
                }
              if ((x - 2) % dw != 0 || y != 1)
                continue; /* each tile checked whole from its corner */
              tile = ts_image_crop (im, 1 + j * tw, 1, tw, th, (const guint8[3]){ 0, 0, 0 });
              want = stb_resample (tile, dw, dh);
              for (int v = 0; v < dh; v++)
                g_assert_cmpmem (canvas->data + ((gsize) (1 + v) * W + 2 + j * dw) * 3, dw * 3,
                                 want->data + (gsize) v * dw * 3, dw * 3);
            }
      }
  g_assert_false (ts_resampler_apply_tiles (rs, 0, NULL, 4, 4, 12, NULL, 4, 4, 12));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (size_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/resize/size/%s", size_cases[i].name);
      g_test_add_data_func (path, &size_cases[i], test_target_size);
    }
  g_test_add_func ("/resize/apply-matches-target", test_apply_matches_target);
  g_test_add_func ("/resize/native/keeps-pixels", test_native_keeps_pixels);
  g_test_add_func ("/resize/native/pads-with-mean", test_native_pads_with_mean);
  for (guint i = 0; i < G_N_ELEMENTS (pad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/resize/pad/%s", pad_cases[i].name);
      g_test_add_data_func (path, &pad_cases[i], test_pad_centring);
    }
  g_test_add_func ("/resize/mean-color", test_mean_color);
  g_test_add_func ("/resize/solid-stays-solid", test_solid_stays_solid);
  g_test_add_func ("/resize/deterministic", test_deterministic);
  g_test_add_func ("/resize/downscale-averages", test_downscale_averages);
  g_test_add_func ("/resize/resample-matches-stb", test_resample_matches_stb);
  g_test_add_func ("/resize/resampler-strides", test_resampler_strides);
  g_test_add_func ("/resize/resampler-tiles", test_resampler_tiles);
  g_test_add_func ("/resize/policy-names", test_policy_names);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/resize/bad/%s", bad_cases[i].name);
      g_test_add_data_func (path, &bad_cases[i], test_bad_args);
    }
  return g_test_run ();
}
