/* Token features: pixel values by hand, descriptor invariants, normalisation. */
#include "ts-test-util.h"

#include <math.h>
#include <string.h>

static TsFeatures *
features (const TsImage *image, int patch, gboolean descriptor, TsGrid *grid)
{
  g_autoptr (GError) error = NULL;
  TsFeatures *f;

  g_assert_true (ts_grid_init (grid, image->width, image->height, patch, &error));
  f = descriptor ? ts_features_descriptor (image, grid, &error) : ts_features_pixel (image, grid, &error);
  g_assert_no_error (error);
  return f;
}

static void
set_px (TsImage *image, int x, int y, guint8 r, guint8 g, guint8 b)
{
  guint8 *p = image->data + ((gsize) y * image->width + x) * 3;

  p[0] = r, p[1] = g, p[2] = b;
}

/* ---------- pixel ---------- */

static void
test_pixel_by_hand (void)
{
  /* 4 x 2 image, patch 2: two tokens of 2*2*3 = 12 values laid out (y, x, channel) */
  g_autoptr (TsImage) image = ts_test_solid (4, 2, 0, 0, 0);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;

  set_px (image, 2, 0, 255, 0, 128); /* token 1, (y 0, x 0) */
  set_px (image, 3, 1, 10, 20, 30);  /* token 1, (y 1, x 1) */
  f = features (image, 2, FALSE, &grid);
  g_assert_cmpint (f->n, ==, 2);
  g_assert_cmpint (f->d, ==, 12);
  /* (v / 255 - mean_c) / std_c with the CLIP constants, worked out with a calculator:
   * 255 red -> 1.9303363, 0 green -> -1.7520971, 128 blue -> 0.3399486, 10 red -> -1.6462783 */
  g_assert_cmpfloat_with_epsilon (f->data[12 + 0], 1.9303363, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[12 + 1], -1.7520971, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[12 + 2], 0.3399486, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[12 + 9], -1.6462783, 1e-5);
  /* the rest of both tokens is black: (0 - mean) / std */
  for (int c = 0; c < 3; c++)
    {
      float black = -ts_clip_mean[c] / ts_clip_std[c];
      g_assert_cmpfloat_with_epsilon (f->data[c], black, 1e-6);
      g_assert_cmpfloat_with_epsilon (f->data[12 + 3 + c], black, 1e-6); /* token 1, (0, 1) */
      g_assert_cmpfloat_with_epsilon (f->data[12 + 6 + c], black, 1e-6); /* token 1, (1, 0) */
    }
  /* green and blue of (3, 1): 20 and 30 */
  g_assert_cmpfloat_with_epsilon (f->data[12 + 10], (20 / 255.0 - 0.4578275) / 0.26130258, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[12 + 11], (30 / 255.0 - 0.40821073) / 0.27577711, 1e-5);
}

static void
test_pixel_layout_matches_grid (void)
{
  /* every value of every token comes from its own patch rectangle */
  g_autoptr (TsImage) image = ts_test_gradient (70, 42);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features (image, 14, FALSE, &grid);

  g_assert_cmpint (f->n, ==, 15);
  g_assert_cmpint (f->d, ==, 3 * 14 * 14);
  for (int t = 0; t < f->n; t++)
    {
      TsRect r = ts_grid_patch_rect (&grid, t);
      for (int y = 0; y < 14; y += 5)
        for (int x = 0; x < 14; x += 3)
          for (int c = 0; c < 3; c++)
            {
              guint8 v = image->data[((r.y + y) * 70 + r.x + x) * 3 + c];
              g_assert_cmpfloat_with_epsilon (f->data[(gsize) t * f->d + (y * 14 + x) * 3 + c],
                                              (v / 255.0 - ts_clip_mean[c]) / ts_clip_std[c], 1e-5);
            }
    }
}

/* ---------- descriptor ---------- */

static void
test_descriptor_uniform (void)
{
  /* a flat patch: means only; zero std, zero gradient histogram, zero AC */
  g_autoptr (TsImage) image = ts_test_solid (28, 14, 200, 120, 40);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features (image, 14, TRUE, &grid);

  g_assert_cmpint (f->d, ==, TS_DESCRIPTOR_DIM);
  for (int t = 0; t < 2; t++)
    {
      const float *row = f->data + t * f->d;
      g_assert_cmpfloat_with_epsilon (row[0], (200 / 255.0 - 0.48145466) / 0.26862954, 1e-5);
      g_assert_cmpfloat_with_epsilon (row[1], (120 / 255.0 - 0.4578275) / 0.26130258, 1e-5);
      g_assert_cmpfloat_with_epsilon (row[2], (40 / 255.0 - 0.40821073) / 0.27577711, 1e-5);
      for (int j = 3; j < TS_DESCRIPTOR_DIM; j++)
        g_assert_cmpfloat_with_epsilon (row[j], 0.0, 1e-4);
    }
}

static void
test_descriptor_std (void)
{
  /* left half red 0, right half red 255: mean 0.5, population std 0.5 */
  g_autoptr (TsImage) image = ts_test_solid (4, 4, 0, 50, 50);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;

  for (int y = 0; y < 4; y++)
    for (int x = 2; x < 4; x++)
      image->data[(y * 4 + x) * 3] = 255;
  f = features (image, 4, TRUE, &grid);
  g_assert_cmpfloat_with_epsilon (f->data[0], (0.5 - 0.48145466) / 0.26862954, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[3], 0.5 / 0.26862954, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[4], 0.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->data[5], 0.0, 1e-5);
}

typedef struct {
  const char *name;
  gboolean vertical; /* ramp along y instead of x */
  int bin;           /* orientation bin: 0 for a horizontal gradient (angle 0), 4 for vertical (pi/2) */
} RampCase;

static const RampCase ramp_cases[] = {
  { "horizontal", FALSE, 0 },
  { "vertical", TRUE, 4 },
};

static void
test_descriptor_gradient (gconstpointer data)
{
  const RampCase *rc = data;
  /* grey ramp 0, 60, 120, 180 across a 4 x 4 patch (grey: luma = value / 255).
   * Central differences clamped at the border, per line: 60 + 120 + 120 + 60 = 360 (/255);
   * four lines: 1440 / 255; the entry is 4 * sum / 16 = 1440 / 1020 = 1.4117647 */
  g_autoptr (TsImage) image = ts_image_new (4, 4);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;

  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      memset (image->data + (y * 4 + x) * 3, 60 * (rc->vertical ? y : x), 3);
  f = features (image, 4, TRUE, &grid);
  for (int b = 0; b < 9; b++)
    g_assert_cmpfloat_with_epsilon (f->data[6 + b], b == rc->bin ? 1440.0 / 1020.0 : 0.0, 1e-5);
}

static void
test_descriptor_dct (void)
{
  /* grey g(x) = 128 + 100 cos((2x + 1) pi / 2P): the (u 0, v 1) cosine only, the first AC
   * coefficient in zig-zag order. Orthonormal DCT of L = g / 255, divided by P:
   * sqrt(1/P) * P * sqrt(2/P) * (P/2) * 100/255 / P = (sqrt(2)/2) * 100/255 = 0.2772968
   * (8-bit rounding of g moves it by well under 0.005) */
  const int P = 16;
  g_autoptr (TsImage) image = ts_image_new (P, P);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;

  for (int y = 0; y < P; y++)
    for (int x = 0; x < P; x++)
      memset (image->data + (y * P + x) * 3, (int) lround (128 + 100 * cos ((2 * x + 1) * G_PI / (2.0 * P))), 3);
  f = features (image, P, TRUE, &grid);
  g_assert_cmpfloat_with_epsilon (f->data[15], 0.2772968, 5e-3);
  for (int k = 16; k < 30; k++)
    g_assert_cmpfloat (f->data[k], <, 5e-3);
}

static void
test_descriptor_small_patch (void)
{
  /* P = 2 has only 3 AC coefficients: the rest of the 15 stay 0 */
  g_autoptr (TsImage) image = ts_test_gradient (8, 8);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features (image, 2, TRUE, &grid);

  g_assert_cmpint (f->n, ==, 16);
  for (int t = 0; t < f->n; t++)
    for (int k = 18; k < 30; k++)
      g_assert_cmpfloat (f->data[t * f->d + k], ==, 0.0f);
}

/* Running-bond bricks, period 20 x 10, mortar 2 px: a periodic texture. */
static TsImage *
bricks (int w, int h)
{
  TsImage *image = ts_image_new (w, h);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int row = y / 10, xx = (x + (row & 1) * 10) % 20, yy = y % 10;
        gboolean mortar = xx < 2 || yy < 2;
        set_px (image, x, y, mortar ? 200 : 150, mortar ? 195 : 60, mortar ? 185 : 40);
      }
  return image;
}

static void
test_descriptor_shift_tolerance (void)
{
  /* the same texture under patches at different offsets: the descriptor sees the same brick,
   * the pixels do not line up. For every shift the descriptor similarity is higher. */
  g_autoptr (TsImage) image = bricks (140, 140);
  TsGrid grid;
  g_autoptr (TsFeatures) px = features (image, 14, FALSE, &grid);
  g_autoptr (TsFeatures) desc = features (image, 14, TRUE, &grid);
  double px_sum = 0, desc_sum = 0;
  int pairs = 0;

  /* token 0 against every other token of the first two rows (offsets 14, 28, ... px) */
  for (int t = 1; t < 20; t++)
    {
      double cp = ts_cosine (px->data, px->data + (gsize) t * px->d, px->d);
      double cd = ts_cosine (desc->data, desc->data + (gsize) t * desc->d, desc->d);
      g_assert_cmpfloat (cd, >, 0.9);
      px_sum += cp, desc_sum += cd, pairs++;
    }
  g_assert_cmpfloat (desc_sum / pairs, >, px_sum / pairs + 0.1);
}

static void
test_descriptor_separates_content (void)
{
  /* a sky patch and a brick patch are far apart in descriptor space */
  g_autoptr (TsImage) image = bricks (28, 14);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;

  for (int y = 0; y < 14; y++)
    for (int x = 14; x < 28; x++)
      set_px (image, x, y, 110, 160, 230);
  f = features (image, 14, TRUE, &grid);
  g_assert_cmpfloat (ts_cosine (f->data, f->data + f->d, f->d), <, 0.5);
}

/* ---------- normalisation, cosine, kinds, bad input ---------- */

static void
test_normalized_rows (void)
{
  g_autoptr (TsFeatures) f = ts_features_new (3, 4, NULL);
  g_autoptr (TsFeatures) n = NULL;
  const float rows[12] = { 3, 4, 0, 0, 0, 0, 0, 0, -1, 1, -1, 1 };

  memcpy (f->data, rows, sizeof rows);
  n = ts_features_normalized (f, NULL);
  g_assert_cmpfloat_with_epsilon (n->data[0], 0.6, 1e-6);
  g_assert_cmpfloat_with_epsilon (n->data[1], 0.8, 1e-6);
  for (int j = 4; j < 8; j++)
    g_assert_cmpfloat (n->data[j], ==, 0.0f); /* a zero row stays zero */
  for (int j = 8; j < 12; j++)
    g_assert_cmpfloat_with_epsilon (fabs (n->data[j]), 0.5, 1e-6);
  /* the input is untouched */
  g_assert_cmpfloat (f->data[0], ==, 3.0f);
}

static void
test_normalized_real_features (void)
{
  g_autoptr (TsImage) image = ts_test_noisy_gradient (84, 56, 9, 25);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features (image, 14, TRUE, &grid);
  g_autoptr (TsFeatures) n = ts_features_normalized (f, NULL);

  for (int i = 0; i < n->n; i++)
    {
      double norm = 0;
      for (int j = 0; j < n->d; j++)
        norm += n->data[i * n->d + j] * (double) n->data[i * n->d + j];
      g_assert_cmpfloat_with_epsilon (norm, 1.0, 1e-5);
      /* cosine is scale-free: the raw and normalised rows agree */
      g_assert_cmpfloat_with_epsilon (ts_cosine (f->data + i * f->d, n->data + i * n->d, f->d), 1.0, 1e-5);
    }
}

typedef struct {
  const char *name;
  float a[3], b[3];
  float expect;
} CosineCase;

static const CosineCase cosine_cases[] = {
  { "parallel", { 1, 2, 3 }, { 2, 4, 6 }, 1.0f },
  { "opposite", { 1, 2, 3 }, { -1, -2, -3 }, -1.0f },
  { "orthogonal", { 1, 0, 0 }, { 0, 5, 0 }, 0.0f },
  { "zero-vector", { 0, 0, 0 }, { 1, 1, 1 }, 0.0f },
  { "45-degrees", { 1, 0, 0 }, { 1, 1, 0 }, 0.70710678f },
};

static void
test_cosine (gconstpointer data)
{
  const CosineCase *c = data;

  g_assert_cmpfloat_with_epsilon (ts_cosine (c->a, c->b, 3), c->expect, 1e-6);
}

static void
test_kind_names (void)
{
  static const char *const names[] = { "pixel", "descriptor", "npy", "model" };
  TsFeatureKind kind;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_true (ts_feature_kind_parse (names[i], &kind, NULL));
      g_assert_cmpint (kind, ==, (int) i);
      g_assert_cmpstr (ts_feature_kind_name (kind), ==, names[i]);
    }
  g_assert_false (ts_feature_kind_parse ("clip", &kind, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "clip"));
}

static void
test_bad_args (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (28, 28);
  TsGrid grid;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsFeatures) f = NULL;

  g_assert_null (ts_features_new (0, 4, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_features_new (4, -1, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a grid laid on a larger image does not fit this one */
  g_assert_true (ts_grid_init (&grid, 56, 56, 14, NULL));
  f = ts_features_pixel (image, &grid, &error);
  g_assert_null (f);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  f = ts_features_descriptor (image, &grid, &error);
  g_assert_null (f);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_copy (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (28, 14);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features (image, 14, FALSE, &grid);
  g_autoptr (TsFeatures) c = ts_features_copy (f);

  g_assert_cmpint (c->n, ==, f->n);
  g_assert_cmpint (c->d, ==, f->d);
  g_assert_cmpmem (c->data, sizeof (float) * c->n * c->d, f->data, sizeof (float) * f->n * f->d);
  g_assert_true (c->data != f->data);
}

/* ts_scene_new_resized is resize -> grid -> features -> scene, the same values as the steps one by one. */
static void
test_scene_new_resized (void)
{
  g_autoptr (TsImage) image = ts_test_noisy_gradient (130, 90, 7, 20);
  const TsResize resize = { TS_RESIZE_SQUARE, 112 };
  const TsFeatureKind kinds[] = { TS_FEATURES_PIXEL, TS_FEATURES_DESCRIPTOR };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr (TsImage) resized = ts_resize_apply (image, &resize, 14, NULL);
      g_autoptr (TsScene) one = ts_scene_new_resized (image, &resize, 14, kinds[k], NULL);
      g_autoptr (TsScene) steps = NULL;
      TsFeatures *features = NULL;
      TsGrid grid;

      g_assert_nonnull (one);
      g_assert_true (ts_grid_init (&grid, resized->width, resized->height, 14, NULL));
      if (kinds[k] == TS_FEATURES_DESCRIPTOR)
        features = ts_features_descriptor (resized, &grid, NULL);
      steps = ts_scene_new (ts_image_copy (resized), 14, kinds[k], features, NULL);
      g_assert_cmpint (one->kind, ==, kinds[k]);
      g_assert_cmpint (one->grid.tokens, ==, 64);
      g_assert_cmpint (one->image->width, ==, 112);
      g_assert_cmpint (one->features->d, ==, steps->features->d);
      g_assert_cmpmem (one->image->data, 112 * 112 * 3, steps->image->data, 112 * 112 * 3);
      g_assert_cmpmem (one->features->data, sizeof (float) * 64 * one->features->d, steps->features->data,
                       sizeof (float) * 64 * steps->features->d);
    }
  {
    const TsResize bad = { TS_RESIZE_SQUARE, 0 };
    g_autoptr (GError) error = NULL;
    g_assert_null (ts_scene_new_resized (image, &bad, 14, TS_FEATURES_PIXEL, &error));
    g_assert_nonnull (error);
  }
}

/* ts_scene_gram: every entry the cosine of two tokens (against double), both
 * triangles equal, the same pointer for every caller (threads included), and
 * NULL beyond TS_SCENE_GRAM_MAX_TOKENS. */
typedef struct {
  const TsScene *scene;
  const float *got;
} GramCall;

static gpointer
gram_thread (gpointer data)
{
  GramCall *c = data;

  c->got = ts_scene_gram (c->scene);
  return NULL;
}

static void
test_scene_gram (void)
{
  g_autoptr (TsImage) image = ts_test_noisy_gradient (98, 70, 11, 40);
  g_autoptr (TsScene) scene = ts_scene_new (ts_image_copy (image), 7, TS_FEATURES_PIXEL, NULL, NULL);
  const TsFeatures *x = scene->normalized;
  int n = x->n;
  GramCall calls[3];
  GThread *threads[3];
  const float *g;
  double worst = 0;

  g_assert_cmpint (n, ==, 140);
  for (int t = 0; t < 3; t++)
    {
      calls[t] = (GramCall){ scene, NULL };
      threads[t] = g_thread_new ("gram", gram_thread, &calls[t]);
    }
  for (int t = 0; t < 3; t++)
    g_thread_join (threads[t]);
  g = ts_scene_gram (scene);
  g_assert_nonnull (g);
  for (int t = 0; t < 3; t++)
    g_assert_true (calls[t].got == g);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      {
        double dot = 0;
        for (int k = 0; k < x->d; k++)
          dot += (double) x->data[(gsize) i * x->d + k] * x->data[(gsize) j * x->d + k];
        worst = MAX (worst, fabs (g[i * n + j] - dot));
        g_assert_true (g[i * n + j] == g[j * n + i]);
      }
  g_assert_cmpfloat (worst, <, 1e-5);
  g_assert_cmpfloat (fabs (g[5 * n + 5] - 1.0), <, 1e-5);
  /* a new scene after clearing the memo: built again, same values */
  ts_scene_memo_clear (scene);
  {
    const float *again = ts_scene_gram (scene);
    g_assert_nonnull (again);
    for (int i = 0; i < n; i++)
      {
        double dot = 0;
        for (int k = 0; k < x->d; k++)
          dot += (double) x->data[(gsize) i * x->d + k] * x->data[(gsize) (n - 1 - i) * x->d + k];
        g_assert_cmpfloat (fabs (again[i * n + (n - 1 - i)] - dot), <, 1e-5);
      }
  }
  /* above the limit: none kept */
  {
    g_autoptr (TsImage) big = ts_test_gradient (65 * 2, 64 * 2);
    g_autoptr (TsScene) many = ts_scene_new (ts_image_copy (big), 2, TS_FEATURES_PIXEL, NULL, NULL);
    g_assert_cmpint (many->grid.tokens, ==, 65 * 64);
    g_assert_cmpint (many->grid.tokens, >, TS_SCENE_GRAM_MAX_TOKENS);
    g_assert_null (ts_scene_gram (many));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/features/pixel/by-hand", test_pixel_by_hand);
  g_test_add_func ("/features/pixel/layout-matches-grid", test_pixel_layout_matches_grid);
  g_test_add_func ("/features/descriptor/uniform", test_descriptor_uniform);
  g_test_add_func ("/features/descriptor/std", test_descriptor_std);
  for (guint i = 0; i < G_N_ELEMENTS (ramp_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/features/descriptor/gradient-%s", ramp_cases[i].name);
      g_test_add_data_func (path, &ramp_cases[i], test_descriptor_gradient);
    }
  g_test_add_func ("/features/descriptor/dct", test_descriptor_dct);
  g_test_add_func ("/features/descriptor/small-patch", test_descriptor_small_patch);
  g_test_add_func ("/features/descriptor/shift-tolerance", test_descriptor_shift_tolerance);
  g_test_add_func ("/features/descriptor/separates-content", test_descriptor_separates_content);
  g_test_add_func ("/features/normalized/rows", test_normalized_rows);
  g_test_add_func ("/features/scene-new-resized", test_scene_new_resized);
  g_test_add_func ("/features/normalized/real-features", test_normalized_real_features);
  for (guint i = 0; i < G_N_ELEMENTS (cosine_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/features/cosine/%s", cosine_cases[i].name);
      g_test_add_data_func (path, &cosine_cases[i], test_cosine);
    }
  g_test_add_func ("/features/kind-names", test_kind_names);
  g_test_add_func ("/features/bad-args", test_bad_args);
  g_test_add_func ("/features/copy", test_copy);
  g_test_add_func ("/features/scene-gram", test_scene_gram);
  return g_test_run ();
}
