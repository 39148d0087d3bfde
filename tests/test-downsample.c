/* Downsample baseline: token-grid shapes, tiling, centre assignment, features, quality. */
#include "ts-test-util.h"

#include <math.h>

typedef struct {
  int rows, cols, target, expect_rows, expect_cols;
} ShapeCase;

/* Worked by hand: the largest rows' x cols' <= target with cols' = rows' cols / rows rounded
 * down or up (or rows' = cols' rows / cols rounded down or up). 48 x 48 to 500: 22 x 22 = 484
 * (672 -> 308 px at P 14). 24 x 32 to 100: cols' 11 allows rows' 8.25 -> 9: 9 x 11 = 99
 * (9 x 12 = 108 is over). 3 x 5 to 14: cols' 4 allows rows' 2.4 -> 3: 3 x 4 = 12. */
static const ShapeCase shapes[] = {
  { 48, 48, 576, 24, 24 }, { 48, 48, 500, 22, 22 }, { 48, 48, 2304, 48, 48 }, { 48, 48, 1, 1, 1 },
  { 24, 32, 100, 9, 11 },  { 1, 100, 10, 1, 10 },   { 100, 1, 7, 7, 1 },      { 24, 24, 144, 12, 12 },
  { 3, 5, 14, 3, 4 },
};

static void
test_shape (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      const ShapeCase *c = &shapes[i];
      TsGrid g;
      int r, k;
      g_assert_true (ts_grid_init (&g, c->cols * 2, c->rows * 2, 2, NULL));
      ts_downsample_shape (&g, c->target, &r, &k);
      g_assert_cmpint (r, ==, c->expect_rows);
      g_assert_cmpint (k, ==, c->expect_cols);
    }
}

static TsScene *
scene_of (int w, int h, int patch, TsFeatureKind kind)
{
  g_autoptr (TsImage) base = ts_test_gradient (w, h);
  TsImage *img = ts_test_noisy (base, 9, 20);
  TsFeatures *f = NULL;
  TsGrid g;

  g_assert_true (ts_grid_init (&g, w, h, patch, NULL));
  if (kind == TS_FEATURES_DESCRIPTOR)
    f = ts_features_descriptor (img, &g, NULL);
  return ts_scene_new (img, patch, kind, f, NULL);
}

/* 1 x 5 patches of 2 px into 2 tokens: regions [0,5) and [5,10); centres 1, 3 | 5, 7, 9. */
static void
test_centres (void)
{
  g_autoptr (TsScene) scene = scene_of (10, 2, 2, TS_FEATURES_PIXEL);
  g_autoptr (TsAssignment) a = ts_downsample (scene, 1, 2, NULL);
  const int expect[] = { 0, 0, 1, 1, 1 };

  g_assert_nonnull (a);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (a->groups[i], ==, expect[i]);
  g_assert_cmpint (a->regions[0].x, ==, 0);
  g_assert_cmpint (a->regions[0].w, ==, 5);
  g_assert_cmpint (a->regions[1].x, ==, 5);
  g_assert_cmpint (a->regions[1].w, ==, 5);
  g_assert_cmpint (a->recon, ==, TS_RECON_DOWNSAMPLE);
  g_assert_cmpint (a->down_width, ==, 4);
  g_assert_cmpint (a->down_height, ==, 2);
}

static void
test_counts (void)
{
  g_autoptr (TsScene) scene = scene_of (336, 224, 14, TS_FEATURES_PIXEL); /* 16 x 24 = 384 */
  const TsMethod *m = ts_method_find ("downsample", NULL);
  const double ratios[] = { 1, 1.5, 2, 4, 9, 16, 100, 384 };

  for (guint i = 0; i < G_N_ELEMENTS (ratios); i++)
    {
      TsMethodParams p;
      g_autoptr (GError) error = NULL;
      g_autoptr (TsAssignment) a = NULL;
      int r, c, target, sum = 0;
      ts_method_params_init (&p);
      p.ratio = ratios[i];
      target = ts_method_target (&p, 384);
      a = ts_method_run (m, scene, &p, NULL, &error); /* validates: regions tile, sizes match */
      g_assert_no_error (error);
      ts_downsample_shape (&scene->grid, target, &r, &c);
      g_assert_cmpint (a->n_out, ==, r * c);
      g_assert_cmpint (a->n_out, <=, target);
      for (int g = 0; g < a->n_out; g++)
        {
          g_assert_cmpint (a->sizes[g], >=, 1);
          sum += a->sizes[g];
        }
      g_assert_cmpint (sum, ==, 384);
    }
}

/* Ratio 1 is the identity: same features, perfect reconstruction. */
static void
test_identity (void)
{
  for (int kind = 0; kind < 2; kind++)
    {
      g_autoptr (TsScene) scene = scene_of (112, 84, 14, kind ? TS_FEATURES_DESCRIPTOR : TS_FEATURES_PIXEL);
      TsMethodParams p;
      g_autoptr (TsAssignment) a = NULL;
      g_autoptr (TsImage) recon = NULL;
      ts_method_params_init (&p);
      p.ratio = 1;
      a = ts_method_run (ts_method_find ("downsample", NULL), scene, &p, NULL, NULL);
      g_assert_nonnull (a);
      g_assert_cmpint (a->n_out, ==, scene->grid.tokens);
      recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_GREY, NULL);
      g_assert_cmpfloat (ts_ssim (scene->image, recon), ==, 1.0);
      g_assert_cmpfloat_with_epsilon (ts_feature_retention (scene->features, a), 1.0, 1e-6);
    }
}

/* Pixel features are those of the downsampled image: a solid image keeps its colour. */
static void
test_pixel_features (void)
{
  TsImage *img = ts_test_solid (56, 56, 200, 100, 50);
  g_autoptr (TsScene) scene = ts_scene_new (img, 14, TS_FEATURES_PIXEL, NULL, NULL);
  g_autoptr (TsAssignment) a = ts_downsample (scene, 2, 2, NULL);

  g_assert_nonnull (a);
  g_assert_cmpint (a->d, ==, 3 * 14 * 14);
  for (int g = 0; g < 4; g++)
    g_assert_cmpfloat_with_epsilon (a->features[(gsize) g * a->d], (200 / 255.0 - 0.4815) / 0.2686, 1e-4);
}

static void
test_bad_input (void)
{
  g_autoptr (TsScene) scene = scene_of (56, 56, 14, TS_FEATURES_PIXEL);
  const int bad[][2] = { { 0, 1 }, { 1, 0 }, { 5, 1 }, { 1, 5 }, { -1, -1 } };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (ts_downsample (scene, bad[i][0], bad[i][1], &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
}

/* DeepSeek-OCR geometry: the mode table, Gundam crops, the stand-in method. */
static void
test_optical_modes (void)
{
  const char *names[] = { "tiny", "small", "base", "large" };
  const int res[] = { 512, 640, 1024, 1280 }, tokens[] = { 64, 100, 256, 400 };
  int c, r;

  for (int i = 0; i < 4; i++)
    {
      const TsOpticalMode *m = ts_optical_mode_find (names[i], NULL);
      g_assert_nonnull (m);
      g_assert_cmpint (m->resolution, ==, res[i]);
      g_assert_cmpint (m->tokens, ==, tokens[i]);
      /* patch 16, then 16x: (S / 16)^2 / 16 */
      g_assert_cmpint ((res[i] / 16) * (res[i] / 16) / 16, ==, tokens[i]);
    }
  /* 600 x 400 fits one tile: only the global view */
  g_assert_cmpint (ts_optical_gundam (600, 400, 6, &c, &r), ==, 256);
  g_assert_cmpint (c * r, ==, 0);
  /* square: 2 x 2 crops (aspect 1 exactly) -> 4 * 100 + 256 */
  g_assert_cmpint (ts_optical_gundam (1280, 1280, 6, &c, &r), ==, 656);
  g_assert_cmpint (c, ==, 2);
  g_assert_cmpint (r, ==, 2);
  /* 2:1 -> 2 x 1 */
  g_assert_cmpint (ts_optical_gundam (2000, 1000, 6, &c, &r), ==, 456);
  /* 3:1 -> 3 x 1 */
  g_assert_cmpint (ts_optical_gundam (3000, 1000, 6, &c, &r), ==, 556);
  g_assert_cmpint (ts_optical_gundam (0, 100, 6, &c, &r), ==, -1);
  g_assert_cmpint (ts_optical_tokens (ts_optical_mode_find ("gundam", NULL), 1280, 1280), ==, 656);
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (ts_optical_mode_find ("huge", &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_optical_method (void)
{
  g_autoptr (TsScene) scene = scene_of (672, 672, 14, TS_FEATURES_PIXEL);
  const TsMethod *m = ts_method_find ("optical", NULL);
  const int targets[] = { 2304, 576, 399, 256, 100, 64 }, expect[] = { 400, 400, 256, 256, 100, 64 };

  g_assert_true (m->flags & TS_METHOD_STAND_IN);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      TsMethodParams p;
      g_autoptr (GError) error = NULL;
      g_autoptr (TsAssignment) a = NULL;
      ts_method_params_init (&p);
      p.tokens = targets[i];
      a = ts_method_run (m, scene, &p, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (a->n_out, ==, expect[i]);
    }
  {
    TsMethodParams p;
    g_autoptr (GError) error = NULL;
    ts_method_params_init (&p);
    p.tokens = 63;
    g_assert_null (ts_method_run (m, scene, &p, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/downsample/shape", test_shape);
  g_test_add_func ("/downsample/centres", test_centres);
  g_test_add_func ("/downsample/counts", test_counts);
  g_test_add_func ("/downsample/identity", test_identity);
  g_test_add_func ("/downsample/pixel-features", test_pixel_features);
  g_test_add_func ("/downsample/bad-input", test_bad_input);
  g_test_add_func ("/optical/modes", test_optical_modes);
  g_test_add_func ("/optical/method", test_optical_method);
  return g_test_run ();
}
