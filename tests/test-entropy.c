/* Token entropy (REFERENCE 6) and the k-means under it. Expected values by hand:
 * a picture made of c equally common flat colours has exactly log2 c bits. */
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

static const guint8 palette[8][3] = {
  { 255, 0, 0 }, { 0, 0, 255 }, { 0, 255, 0 }, { 255, 255, 255 },
  { 0, 0, 0 }, { 255, 255, 0 }, { 0, 255, 255 }, { 128, 0, 128 },
};

/* A rows x cols token image at patch 14 where token (r, c) has colour colour_of (r, c). */
static TsScene *
blocks_scene (int rows, int cols, int (*colour_of) (int r, int c))
{
  TsImage *im = ts_image_new (cols * 14, rows * 14);

  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      memcpy (im->data + 3 * ((gsize) y * im->width + x), palette[colour_of (y / 14, x / 14)], 3);
  return ts_scene_new (im, 14, TS_FEATURES_PIXEL, NULL, NULL);
}

static int uniform_colour (int r, int c) { return 3; }
static int halves_colour (int r, int c) { return c < 4 ? 0 : 1; }
static int quadrant_colour (int r, int c) { return (r < 2 ? 0 : 2) + (c < 4 ? 0 : 1); }
static int stripes8_colour (int r, int c) { return c; }
static int skewed_colour (int r, int c) { return r == 0 && c < 4 ? 1 : 0; } /* 4 of 32 tokens: p = 1/8 */

static void
check_bits (int (*colour_of) (int, int), double bits)
{
  g_autoptr (TsScene) scene = blocks_scene (4, 8, colour_of);
  g_autoptr (TsEntropy) e = NULL;
  g_autoptr (GError) error = NULL;

  e = ts_entropy_compute (scene, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (e->n, ==, 32);
  g_assert_cmpint (e->k, ==, 32); /* min(256, N) */
  g_assert_cmpfloat_with_epsilon (e->bits_per_token, bits, 1e-9);
  g_assert_cmpfloat_with_epsilon (e->effective_tokens, exp2 (bits), 1e-9);
  g_assert_cmpfloat_with_epsilon (e->redundancy_ratio, 32 / exp2 (bits), 1e-9);
}

static void test_uniform (void) { check_bits (uniform_colour, 0.0); }
static void test_halves (void) { check_bits (halves_colour, 1.0); }
static void test_quadrants (void) { check_bits (quadrant_colour, 2.0); }
static void test_stripes (void) { check_bits (stripes8_colour, 3.0); }
/* p = (1/8, 7/8): H = 1/8 * 3 + 7/8 * log2(8/7) = 0.375 + 0.168564 = 0.543564. */
static void test_skewed (void) { check_bits (skewed_colour, 0.375 + 0.875 * log2 (8.0 / 7.0)); }

static void
test_counts_and_reading (void)
{
  const int a[] = { 1, 1, 1, 1 }, b[] = { 2, 1, 1 }, c[] = { 0, 5 }, d[] = { 0, 0 };
  double lo, hi;

  g_assert_cmpfloat_with_epsilon (ts_entropy_bits (a, 4), 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ts_entropy_bits (b, 3), 1.5, 1e-12);
  g_assert_cmpfloat (ts_entropy_bits (c, 2), ==, 0.0);
  g_assert_cmpfloat (ts_entropy_bits (d, 2), ==, 0.0);
  ts_entropy_suggest (7.5, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 1);
  g_assert_cmpfloat (hi, ==, 2);
  ts_entropy_suggest (5, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 2);
  g_assert_cmpfloat (hi, ==, 4);
  ts_entropy_suggest (3.5, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 4);
  ts_entropy_suggest (2, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 8);
  g_assert_cmpfloat (hi, ==, 16);
  g_assert_nonnull (strstr (ts_entropy_suggest (0.5, &lo, &hi), "extreme"));
  g_assert_cmpfloat (lo, ==, 16);
}

static void
test_map (void)
{
  g_autoptr (TsScene) scene = blocks_scene (4, 8, halves_colour);
  TsEntropyOptions o;
  g_autoptr (TsEntropy) e = NULL;

  ts_entropy_options_init (&o);
  e = ts_entropy_compute (scene, &o, NULL, NULL);
  /* Regions of 4 x 4 tokens: each half is one flat colour, 0 bits. */
  g_assert_cmpint (e->map_rows, ==, 1);
  g_assert_cmpint (e->map_cols, ==, 2);
  g_assert_cmpfloat (e->map[0], ==, 0.0f);
  g_assert_cmpfloat (e->map[1], ==, 0.0f);
  g_clear_pointer (&e, ts_entropy_free);
  /* Regions of 3 x 3: the middle column of regions (token cols 3..5) straddles the edge:
   * rows 0..2: 3 red of 9 tokens -> H(1/3, 2/3) = 0.918296; the last region row has 1 token row. */
  o.region = 3;
  e = ts_entropy_compute (scene, &o, NULL, NULL);
  g_assert_cmpint (e->map_rows, ==, 2);
  g_assert_cmpint (e->map_cols, ==, 3);
  g_assert_cmpfloat_with_epsilon (e->map[1], 0.918296, 1e-5);
  g_assert_cmpfloat (e->map[0], ==, 0.0f);
}

static void
test_kmeans (void)
{
  /* Two tight groups: means (0.05, 0) and (10.05, 10); inertia 4 * 0.05^2 * ... by hand: each point
   * is 0.05 from its mean in x -> 4 * 0.0025 = 0.01. */
  const float x[] = { 0, 0, 0.1f, 0, 10, 10, 10.1f, 10 };
  TsKMeansOptions o;
  g_autoptr (TsKMeans) a = NULL;
  g_autoptr (TsKMeans) b = NULL;
  g_autoptr (GError) error = NULL;
  const float bad[] = { 0, NAN };

  ts_kmeans_options_init (&o);
  o.seed = 7;
  a = ts_kmeans (x, 4, 2, 2, &o, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->labels[0], ==, a->labels[1]);
  g_assert_cmpint (a->labels[2], ==, a->labels[3]);
  g_assert_cmpint (a->labels[0], !=, a->labels[2]);
  g_assert_cmpfloat_with_epsilon (a->inertia, 0.01, 1e-4); /* float32 distances */
  g_assert_cmpfloat_with_epsilon (a->centroids[a->labels[2] * 2], 10.05, 1e-5);
  g_assert_true (a->converged);
  b = ts_kmeans (x, 4, 2, 2, &o, NULL, NULL);
  g_assert_cmpmem (a->labels, 4 * sizeof (int), b->labels, 4 * sizeof (int));
  g_assert_null (ts_kmeans (x, 4, 2, 5, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_kmeans (bad, 1, 2, 1, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
}

static void
test_deterministic_photo_like (void)
{
  g_autoptr (TsImage) im = ts_test_noisy_gradient (336, 336, 3, 20);
  g_autoptr (TsScene) s = ts_scene_new (ts_image_copy (im), 14, TS_FEATURES_PIXEL, NULL, NULL);
  g_autoptr (TsEntropy) a = ts_entropy_compute (s, NULL, NULL, NULL);
  g_autoptr (TsEntropy) b = ts_entropy_compute (s, NULL, NULL, NULL);

  g_assert_cmpint (a->k, ==, 256);
  g_assert_cmpfloat (a->bits_per_token, ==, b->bits_per_token);
  g_assert_cmpfloat (a->bits_per_token, >, 0.0);
  g_assert_cmpfloat (a->bits_per_token, <=, 8.0); /* log2 256 */
  g_assert_cmpint (a->clusters, <=, 256);
}

static void
test_bad_input (void)
{
  g_autoptr (TsScene) scene = blocks_scene (2, 2, uniform_colour);
  TsEntropyOptions o;
  g_autoptr (GError) error = NULL;
  GCancellable *c = g_cancellable_new ();

  ts_entropy_options_init (&o);
  o.k = -1;
  g_assert_null (ts_entropy_compute (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_entropy_compute (NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_cancellable_cancel (c);
  g_assert_null (ts_entropy_compute (scene, NULL, c, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_object_unref (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/entropy/uniform", test_uniform);
  g_test_add_func ("/entropy/halves", test_halves);
  g_test_add_func ("/entropy/quadrants", test_quadrants);
  g_test_add_func ("/entropy/stripes", test_stripes);
  g_test_add_func ("/entropy/skewed", test_skewed);
  g_test_add_func ("/entropy/counts-and-reading", test_counts_and_reading);
  g_test_add_func ("/entropy/map", test_map);
  g_test_add_func ("/entropy/kmeans", test_kmeans);
  g_test_add_func ("/entropy/deterministic", test_deterministic_photo_like);
  g_test_add_func ("/entropy/bad-input", test_bad_input);
  return g_test_run ();
}
