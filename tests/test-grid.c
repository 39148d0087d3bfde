/* Grid: token counts, TPM, patch geometry. */
#include "ts-test-util.h"

typedef struct {
  int w, h, patch;
  int rows, cols, tokens;
  double tpm;
} GridCase;

static const GridCase cases[] = {
  { 336, 336, 14, 24, 24, 576, 5102.0408 },
  { 672, 672, 14, 48, 48, 2304, 5102.0408 },
  { 224, 224, 16, 14, 14, 196, 3906.25 },
  { 1024, 768, 16, 48, 64, 3072, 3906.25 },
  { 30, 20, 10, 2, 3, 6, 10000.0 },
  { 4096, 4096, 14, 292, 292, 85264, 5082.1304 },
  { 2, 2, 2, 1, 1, 1, 250000.0 },
};

static void
test_counts (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const GridCase *c = &cases[i];
      TsGrid g;
      g_autoptr (GError) error = NULL;
      g_assert_true (ts_grid_init (&g, c->w, c->h, c->patch, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g.rows, ==, c->rows);
      g_assert_cmpint (g.cols, ==, c->cols);
      g_assert_cmpint (g.tokens, ==, c->tokens);
      g_assert_cmpfloat_with_epsilon (ts_grid_tpm (&g), c->tpm, 1e-3);
    }
}

static void
test_tpm_336 (void)
{
  TsGrid g;

  g_assert_true (ts_grid_init (&g, 336, 336, 14, NULL));
  g_assert_cmpint ((int) (ts_grid_tpm (&g) + 0.5), ==, 5102);
}

static void
test_rects (void)
{
  TsGrid g;
  TsRect r;

  g_assert_true (ts_grid_init (&g, 70, 42, 14, NULL));
  r = ts_grid_patch_rect (&g, 0);
  g_assert_cmpint (r.x, ==, 0);
  g_assert_cmpint (r.y, ==, 0);
  r = ts_grid_patch_rect (&g, 7); /* row 1, col 2 */
  g_assert_cmpint (r.x, ==, 28);
  g_assert_cmpint (r.y, ==, 14);
  g_assert_cmpint (r.w, ==, 14);
  g_assert_cmpint (ts_grid_token_at (&g, 28.5, 14.0), ==, 7);
  g_assert_cmpint (ts_grid_token_at (&g, 69.9, 41.9), ==, 14);
  g_assert_cmpint (ts_grid_token_at (&g, 70, 0), ==, -1);
  g_assert_cmpint (ts_grid_token_at (&g, -1, 0), ==, -1);
}

static void
test_bad (void)
{
  static const int bad[][3] = { { 336, 336, 1 }, { 336, 336, 65 }, { 10, 336, 14 }, { 336, 13, 14 }, { 0, 0, 14 } };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      TsGrid g;
      g_autoptr (GError) error = NULL;
      g_assert_false (ts_grid_init (&g, bad[i][0], bad[i][1], bad[i][2], &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/grid/counts", test_counts);
  g_test_add_func ("/grid/tpm-336", test_tpm_336);
  g_test_add_func ("/grid/rects", test_rects);
  g_test_add_func ("/grid/bad-input", test_bad);
  return g_test_run ();
}
