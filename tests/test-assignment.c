/* TsAssignment: invariants, spatial order, group means, identity, and the
 * pooling method as the worked example of a method's result. */
#include "ts-test-util.h"

#include <math.h>
#include <string.h>

/* ---------- validate ---------- */

typedef enum {
  BREAK_NONE,
  BREAK_GROUP_TOO_HIGH,
  BREAK_GROUP_BELOW_MINUS_ONE,
  BREAK_SIZE_TOO_BIG,
  BREAK_SIZE_TOO_SMALL,
  BREAK_GRID_MISMATCH,
  BREAK_REGION_OUTSIDE,
  BREAK_REGION_EMPTY,
  BREAK_REGION_OVERLAP,
  BREAK_REGION_GAP,
} Break;

typedef struct {
  const char *name;
  Break brk;
  gboolean regions;
} ValidateCase;

static const ValidateCase validate_cases[] = {
  { "valid-groups", BREAK_NONE, FALSE },
  { "valid-regions", BREAK_NONE, TRUE },
  { "group-too-high", BREAK_GROUP_TOO_HIGH, FALSE },
  { "group-below-minus-one", BREAK_GROUP_BELOW_MINUS_ONE, FALSE },
  { "size-too-big", BREAK_SIZE_TOO_BIG, FALSE },
  { "size-too-small", BREAK_SIZE_TOO_SMALL, FALSE },
  { "grid-mismatch", BREAK_GRID_MISMATCH, FALSE },
  { "region-outside", BREAK_REGION_OUTSIDE, TRUE },
  { "region-empty", BREAK_REGION_EMPTY, TRUE },
  { "region-overlap", BREAK_REGION_OVERLAP, TRUE },
  { "region-gap", BREAK_REGION_GAP, TRUE },
};

/* A 2 x 4 grid at patch 2 (8 x 4 pixels) pooled into two 2 x 2 cells, or (without
 * regions) merged into 3 tokens with one patch dropped. */
static TsAssignment *
sample_assignment (gboolean regions, TsGrid *grid)
{
  TsAssignment *a;

  g_assert_true (ts_grid_init (grid, 8, 4, 2, NULL));
  if (regions)
    {
      static const int groups[8] = { 0, 0, 1, 1, 0, 0, 1, 1 };
      a = ts_assignment_new (8, 2, 0, NULL);
      memcpy (a->groups, groups, sizeof groups);
      a->sizes[0] = a->sizes[1] = 4;
      a->regions = g_new (TsRect, 2);
      a->regions[0] = (TsRect){ 0, 0, 4, 4 };
      a->regions[1] = (TsRect){ 4, 0, 4, 4 };
      a->recon = TS_RECON_REGION;
    }
  else
    {
      static const int groups[8] = { 0, 0, 1, -1, 2, 2, 1, 0 };
      a = ts_assignment_new (8, 3, 0, NULL);
      memcpy (a->groups, groups, sizeof groups);
      a->sizes[0] = 3, a->sizes[1] = 2, a->sizes[2] = 2;
    }
  return a;
}

static void
test_validate (gconstpointer data)
{
  const ValidateCase *c = data;
  TsGrid grid, other;
  g_autoptr (TsAssignment) a = sample_assignment (c->regions, &grid);
  g_autoptr (GError) error = NULL;
  const TsGrid *check = &grid;

  switch (c->brk)
    {
    case BREAK_NONE:
      break;
    case BREAK_GROUP_TOO_HIGH:
      a->groups[2] = 3; /* n_out is 3 */
      break;
    case BREAK_GROUP_BELOW_MINUS_ONE:
      a->groups[3] = -2;
      break;
    case BREAK_SIZE_TOO_BIG:
      a->sizes[1] = 3;
      break;
    case BREAK_SIZE_TOO_SMALL:
      a->sizes[0] = 2;
      break;
    case BREAK_GRID_MISMATCH:
      g_assert_true (ts_grid_init (&other, 8, 6, 2, NULL)); /* 12 patches, not 8 */
      check = &other;
      break;
    case BREAK_REGION_OUTSIDE:
      a->regions[1] = (TsRect){ 4, 0, 6, 4 };
      break;
    case BREAK_REGION_EMPTY:
      a->regions[1] = (TsRect){ 4, 0, 0, 4 };
      break;
    case BREAK_REGION_OVERLAP:
      a->regions[1] = (TsRect){ 2, 0, 4, 4 };
      break;
    case BREAK_REGION_GAP:
      a->regions[1] = (TsRect){ 4, 0, 4, 2 };
      break;
    default:
      g_assert_not_reached ();
    }
  if (c->brk == BREAK_NONE)
    {
      g_assert_true (ts_assignment_validate (a, check, &error));
      g_assert_no_error (error);
      /* without a grid only the groups and sizes are checked */
      g_assert_true (ts_assignment_validate (a, NULL, NULL));
    }
  else
    {
      g_assert_false (ts_assignment_validate (a, check, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
      if (c->brk == BREAK_REGION_OVERLAP) /* the first pixel of region 1 that region 0 covers */
        g_assert_nonnull (strstr (error->message, "region 1 overlaps another at (2,0)"));
    }
}

static void
test_new_bad_args (void)
{
  static const int args[][3] = { { 0, 0, 4 }, { 4, 0, 4 }, { 4, 5, 4 }, { -1, 1, 4 }, { 4, 2, -1 } };

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (ts_assignment_new (args[i][0], args[i][1], args[i][2], &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_new_starts_empty (void)
{
  g_autoptr (TsAssignment) a = ts_assignment_new (5, 2, 3, NULL);

  for (int i = 0; i < 5; i++)
    g_assert_cmpint (a->groups[i], ==, -1);
  g_assert_cmpint (a->sizes[0] + a->sizes[1], ==, 0);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (a->features[i], ==, 0.0f);
  g_assert_null (a->regions);
  g_assert_null (a->mix);
  g_assert_cmpint (ts_assignment_kept (a), ==, 0);
}

/* ---------- sort_spatial ---------- */

static void
test_sort_spatial (void)
{
  /* tokens first seen at patches: token 2 at 0, token 0 at 2, token 1 at 3; token 3 is empty.
   * New order [2, 0, 1, 3]: groups become 0 0 1 2 -1 1, the empty token last. */
  static const int groups[6] = { 2, 2, 0, 1, -1, 0 };
  static const int expect_groups[6] = { 0, 0, 1, 2, -1, 1 };
  g_autoptr (TsAssignment) a = ts_assignment_new (6, 4, 2, NULL);
  g_autoptr (GError) error = NULL;

  memcpy (a->groups, groups, sizeof groups);
  a->sizes[0] = 2, a->sizes[1] = 1, a->sizes[2] = 2, a->sizes[3] = 0;
  a->regions = g_new (TsRect, 4);
  a->mix = g_new0 (float, 4 * 6);
  for (int t = 0; t < 4; t++)
    {
      a->features[t * 2] = 10.0f * t, a->features[t * 2 + 1] = -1.0f * t;
      a->regions[t] = (TsRect){ t, t, 1, 1 };
      a->mix[t * 6 + t] = 1.0f;
    }
  ts_assignment_sort_spatial (a);
  g_assert_cmpmem (a->groups, sizeof groups, expect_groups, sizeof expect_groups);
  g_assert_cmpint (a->sizes[0], ==, 2); /* old token 2 */
  g_assert_cmpint (a->sizes[1], ==, 2); /* old 0 */
  g_assert_cmpint (a->sizes[2], ==, 1); /* old 1 */
  g_assert_cmpint (a->sizes[3], ==, 0); /* old 3, empty */
  g_assert_cmpfloat (a->features[0], ==, 20.0f);
  g_assert_cmpfloat (a->features[2], ==, 0.0f);
  g_assert_cmpfloat (a->features[4], ==, 10.0f);
  g_assert_cmpfloat (a->features[7], ==, -3.0f);
  g_assert_cmpint (a->regions[0].x, ==, 2);
  g_assert_cmpint (a->regions[3].x, ==, 3);
  g_assert_cmpfloat (a->mix[0 * 6 + 2], ==, 1.0f);
  g_assert_cmpfloat (a->mix[1 * 6 + 0], ==, 1.0f);
  g_assert_true (ts_assignment_validate (a, NULL, &error));
  /* sorting twice changes nothing */
  ts_assignment_sort_spatial (a);
  g_assert_cmpmem (a->groups, sizeof groups, expect_groups, sizeof expect_groups);
}

/* ---------- group means, identity, copy ---------- */

static void
test_fill_group_means (void)
{
  /* rows (1,2) (3,4) (5,6) (7,8); groups 0 1 0 -1: token 0 = mean of rows 0 and 2 = (3, 4) */
  g_autoptr (TsFeatures) f = ts_features_new (4, 2, NULL);
  g_autoptr (TsAssignment) a = ts_assignment_new (4, 2, 0, NULL);
  static const int groups[4] = { 0, 1, 0, -1 };

  for (int i = 0; i < 8; i++)
    f->data[i] = (float) (i + 1);
  memcpy (a->groups, groups, sizeof groups);
  a->sizes[0] = 99; /* recomputed */
  ts_assignment_fill_group_means (a, f);
  g_assert_cmpint (a->d, ==, 2);
  g_assert_cmpint (a->sizes[0], ==, 2);
  g_assert_cmpint (a->sizes[1], ==, 1);
  g_assert_cmpfloat (a->features[0], ==, 3.0f);
  g_assert_cmpfloat (a->features[1], ==, 4.0f);
  g_assert_cmpfloat (a->features[2], ==, 3.0f);
  g_assert_cmpfloat (a->features[3], ==, 4.0f);
  g_assert_true (ts_assignment_validate (a, NULL, NULL));
  g_assert_cmpint (ts_assignment_kept (a), ==, 3);
  g_assert_cmpfloat (ts_assignment_ratio (a), ==, 2.0);
}

/* Group means of wide rows (d 588 = 9 x 64 + 12, and 40 < 64) with random
 * groups, some dropped, some empty: bit for bit the floats of adding each
 * member row, in patch order, into a zeroed row and scaling by 1 / size. */
static void
test_fill_group_means_wide (void)
{
  const int dims[] = { 588, 40 };
  GRand *rng = g_rand_new_with_seed (7);

  for (guint k = 0; k < G_N_ELEMENTS (dims); k++)
    {
      int n = 300, n_out = 37, d = dims[k];
      g_autoptr (TsFeatures) f = ts_features_new (n, d, NULL);
      g_autoptr (TsAssignment) a = ts_assignment_new (n, n_out, d, NULL);
      g_autofree float *want = g_new0 (float, (gsize) n_out * d);
      int sizes[37] = { 0 };

      for (int i = 0; i < n * d; i++)
        f->data[i] = (float) g_rand_double_range (rng, -3, 3);
      for (int i = 0; i < n; i++)
        {
          int g = g_rand_int_range (rng, -1, n_out - 1); /* -1 dropped; group n_out - 1 stays empty */
          a->groups[i] = g;
          if (g < 0)
            continue;
          sizes[g]++;
          for (int j = 0; j < d; j++)
            want[(gsize) g * d + j] += f->data[(gsize) i * d + j];
        }
      for (int g = 0; g < n_out; g++)
        if (sizes[g] > 0)
          for (int j = 0; j < d; j++)
            want[(gsize) g * d + j] *= 1.0f / sizes[g];
      ts_assignment_fill_group_means (a, f);
      for (int g = 0; g < n_out; g++)
        g_assert_cmpint (a->sizes[g], ==, sizes[g]);
      g_assert_cmpint (sizes[n_out - 1], ==, 0);
      g_assert_cmpmem (a->features, sizeof (float) * n_out * d, want, sizeof (float) * n_out * d);
    }
  g_rand_free (rng);
}

static void
test_identity (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (42, 28);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_grid_init (&grid, 42, 28, 14, NULL));
  f = ts_features_descriptor (image, &grid, NULL);
  a = ts_assignment_identity (f, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->n_in, ==, 6);
  g_assert_cmpint (a->n_out, ==, 6);
  g_assert_cmpstr (a->method, ==, "none");
  for (int i = 0; i < 6; i++)
    {
      g_assert_cmpint (a->groups[i], ==, i);
      g_assert_cmpint (a->sizes[i], ==, 1);
    }
  g_assert_cmpmem (a->features, 6 * 30 * 4, f->data, 6 * 30 * 4);
  g_assert_true (ts_assignment_validate (a, &grid, NULL));
  g_assert_cmpfloat (ts_assignment_ratio (a), ==, 1.0);
  g_assert_cmpfloat_with_epsilon (ts_feature_retention (f, a), 1.0, 1e-6);
}

static void
test_copy_is_deep (void)
{
  TsGrid grid;
  g_autoptr (TsAssignment) a = sample_assignment (TRUE, &grid);
  g_autoptr (TsAssignment) c = NULL;

  a->mix = g_new0 (float, 2 * 8);
  a->mix[3] = 0.5f;
  a->method = g_strdup ("pool");
  c = ts_assignment_copy (a);
  g_assert_cmpmem (c->groups, 8 * sizeof (int), a->groups, 8 * sizeof (int));
  g_assert_cmpmem (c->regions, 2 * sizeof (TsRect), a->regions, 2 * sizeof (TsRect));
  g_assert_cmpfloat (c->mix[3], ==, 0.5f);
  g_assert_cmpstr (c->method, ==, "pool");
  g_assert_cmpint (c->recon, ==, TS_RECON_REGION);
  c->groups[0] = 1;
  c->regions[0].x = 99;
  g_assert_cmpint (a->groups[0], ==, 0);
  g_assert_cmpint (a->regions[0].x, ==, 0);
}

/* ---------- pooling through ts_pool_run ---------- */

static TsScene *
scene_of (int w, int h, int patch)
{
  g_autoptr (GError) error = NULL;
  TsScene *scene = ts_scene_new (ts_test_noisy_gradient (w, h, 5, 20), patch, TS_FEATURES_PIXEL, NULL, &error);

  g_assert_no_error (error);
  return scene;
}

typedef struct {
  const char *name;
  double ratio;
  int tokens;   /* target instead of ratio when > 0 */
  int expect;   /* output tokens on a 24 x 24 grid */
} PoolCase;

static const PoolCase pool_cases[] = {
  { "ratio-1", 1, 0, 576 },    /* k 1 */
  { "ratio-2", 2, 0, 144 },    /* target 288: k 1 gives 576, k 2 gives 144 (quantised) */
  { "ratio-4", 4, 0, 144 },    /* k 2 */
  { "ratio-9", 9, 0, 64 },     /* k 3 */
  { "ratio-16", 16, 0, 36 },   /* k 4 */
  { "ratio-64", 64, 0, 9 },    /* k 8 */
  { "tokens-100", 0, 100, 64 }, /* k 2 gives 144 > 100, k 3 gives 64 */
  { "tokens-1", 0, 1, 1 },     /* k 24 */
};

static void
test_pool_counts (gconstpointer data)
{
  const PoolCase *c = data;
  g_autoptr (TsScene) scene = scene_of (336, 336, 14);
  TsMethodParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsAssignment) a = NULL;
  int total = 0;

  ts_method_params_init (&params);
  params.ratio = c->ratio;
  params.tokens = c->tokens;
  a = ts_pool_run (scene, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->n_out, ==, c->expect);
  g_assert_true (ts_assignment_validate (a, &scene->grid, &error));
  g_assert_no_error (error);
  for (int t = 0; t < a->n_out; t++)
    total += a->sizes[t];
  g_assert_cmpint (total, ==, 576);
  g_assert_cmpfloat_with_epsilon (ts_assignment_ratio (a), 576.0 / c->expect, 1e-12);
}

static void
test_pool_ragged_edges (void)
{
  /* 5 rows x 7 cols pooled 2 x 2: 3 x 4 cells; the last column and row are half cells */
  g_autoptr (TsScene) scene = scene_of (70, 50, 10);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsAssignment) a = ts_pool (scene, 2, TS_POOL_AVG, &error);
  static const int sizes[12] = { 4, 4, 4, 2, 4, 4, 4, 2, 2, 2, 2, 1 };

  g_assert_no_error (error);
  g_assert_cmpint (scene->grid.rows, ==, 5);
  g_assert_cmpint (scene->grid.cols, ==, 7);
  g_assert_cmpint (a->n_out, ==, 12);
  g_assert_cmpmem (a->sizes, sizeof sizes, sizes, sizeof sizes);
  /* the corner cell covers the single patch at row 4, col 6 */
  g_assert_cmpint (a->groups[4 * 7 + 6], ==, 11);
  g_assert_cmpint (a->regions[11].x, ==, 60);
  g_assert_cmpint (a->regions[11].y, ==, 40);
  g_assert_cmpint (a->regions[11].w, ==, 10);
  g_assert_cmpint (a->regions[11].h, ==, 10);
  g_assert_cmpint (a->regions[3].w, ==, 10);
  g_assert_cmpint (a->regions[3].h, ==, 20);
  g_assert_true (ts_assignment_validate (a, &scene->grid, &error));
  g_assert_no_error (error);
}

static void
test_pool_features (void)
{
  /* avg pooling: the mean of the members; max pooling: the element-wise maximum */
  g_autoptr (TsScene) scene = scene_of (40, 40, 10); /* 4 x 4 tokens */
  g_autoptr (TsAssignment) avg = ts_pool (scene, 2, TS_POOL_AVG, NULL);
  g_autoptr (TsAssignment) max = ts_pool (scene, 2, TS_POOL_MAX, NULL);
  const TsFeatures *f = scene->features;

  /* cell 3 (row 1, col 1 of the pooled 2 x 2 grid) holds tokens (2,2) (2,3) (3,2) (3,3) = 10, 11, 14, 15 */
  for (int j = 0; j < f->d; j += 17)
    {
      const int m[4] = { 10, 11, 14, 15 };
      double sum = 0;
      float mx = -G_MAXFLOAT;
      for (int k = 0; k < 4; k++)
        {
          sum += f->data[m[k] * f->d + j];
          mx = MAX (mx, f->data[m[k] * f->d + j]);
        }
      g_assert_cmpfloat_with_epsilon (avg->features[3 * f->d + j], sum / 4, 1e-5);
      g_assert_cmpfloat (max->features[3 * f->d + j], ==, mx);
    }
}

/* Every cell of a ragged grid (5 x 7 patches pooled 2 x 2 and 3 x 3), every
 * value: bit for bit the plain loop, the members summed from 0.0f in
 * row-major order then divided by the size, or their running maximum. */
static void
test_pool_plain_loop (void)
{
  g_autoptr (TsScene) scene = scene_of (70, 50, 10);
  const TsFeatures *f = scene->features;
  const TsGrid *g = &scene->grid;

  g_assert_cmpint (f->d % 16, !=, 0); /* the tail past whole 16-value blocks is covered */
  for (int k = 2; k <= 3; k++)
    for (int mode = 0; mode < 2; mode++)
      {
        TsPoolMode pm = mode ? TS_POOL_MAX : TS_POOL_AVG;
        g_autoptr (TsAssignment) a = ts_pool (scene, k, pm, NULL);
        int pcol = (g->cols + k - 1) / k;
        for (int o = 0; o < a->n_out; o++)
          for (int j = 0; j < f->d; j++)
            {
              int r0 = o / pcol * k, c0 = o % pcol * k, size = 0;
              float v = pm == TS_POOL_MAX ? -G_MAXFLOAT : 0.0f;
              for (int r = r0; r < MIN (r0 + k, g->rows); r++)
                for (int c = c0; c < MIN (c0 + k, g->cols); c++, size++)
                  {
                    float x = f->data[((gsize) r * g->cols + c) * f->d + j];
                    v = pm == TS_POOL_MAX ? MAX (v, x) : v + x;
                  }
              if (pm == TS_POOL_AVG)
                v /= size;
              if (memcmp (&v, &a->features[(gsize) o * f->d + j], sizeof v) != 0)
                g_error ("k %d mode %d cell %d value %d: %.9g, the plain loop gives %.9g", k, mode, o, j,
                         a->features[(gsize) o * f->d + j], v);
            }
      }
}

static void
test_pool_ratio_one_is_lossless (void)
{
  g_autoptr (TsScene) scene = scene_of (56, 42, 14);
  TsMethodParams params;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) recon = NULL;
  g_autoptr (GError) error = NULL;

  ts_method_params_init (&params);
  params.ratio = 1.0;
  a = ts_pool_run (scene, &params, NULL, &error);
  g_assert_cmpint (a->n_out, ==, scene->grid.tokens);
  recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_NEAREST, &error);
  g_assert_no_error (error);
  g_assert_true (ts_image_equal (recon, scene->image));
  g_assert_true (isinf (ts_psnr (scene->image, recon)));
  g_assert_cmpfloat_with_epsilon (ts_ssim (scene->image, recon), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ts_feature_retention (scene->features, a), 1.0, 1e-6);
}

static void
test_pool_quality_falls (void)
{
  /* more pooling keeps less: SSIM and retention fall monotonically with k */
  g_autoptr (TsScene) scene = scene_of (112, 112, 14);
  double last_ssim = 1.0 + 1e-9, last_ret = 1.0 + 1e-9;

  for (int k = 1; k <= 8; k *= 2)
    {
      g_autoptr (TsAssignment) a = ts_pool (scene, k, TS_POOL_AVG, NULL);
      g_autoptr (TsImage) recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_NEAREST, NULL);
      double s = ts_ssim (scene->image, recon), r = ts_feature_retention (scene->features, a);
      g_assert_cmpfloat (s, <=, last_ssim);
      g_assert_cmpfloat (r, <=, last_ret);
      last_ssim = s, last_ret = r;
    }
  g_assert_cmpfloat (last_ssim, <, 0.9);
}

static void
test_pool_bad_k (void)
{
  g_autoptr (TsScene) scene = scene_of (28, 28, 14);
  g_autoptr (GError) error = NULL;

  g_assert_null (ts_pool (scene, 0, TS_POOL_AVG, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_method_run_validates (void)
{
  g_autoptr (TsScene) scene = scene_of (84, 84, 14);
  const TsMethod *pool = ts_method_find ("pool", NULL);
  TsMethodParams params;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsAssignment) a = NULL;

  g_assert_nonnull (pool);
  ts_method_params_init (&params);
  a = ts_method_run (pool, scene, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->method, ==, "pool");
  g_assert_cmpint (a->n_out, ==, 9); /* 36 tokens / 4 */
  params.ratio = 0.5;
  g_assert_null (ts_method_run (pool, scene, &params, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

/* ---------- reconstruction refuses broken assignments ---------- */

static void
test_reconstruct_rejects (void)
{
  TsGrid grid;
  g_autoptr (TsImage) image = ts_test_gradient (8, 4);
  g_autoptr (TsAssignment) a = sample_assignment (FALSE, &grid);
  g_autoptr (TsAssignment) down = NULL;
  g_autoptr (GError) error = NULL;
  TsGrid other;

  a->groups[0] = 7; /* out of range */
  g_assert_null (ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  /* an assignment for another grid */
  g_assert_true (ts_grid_init (&other, 8, 8, 2, NULL));
  a->groups[0] = 0;
  g_assert_null (ts_reconstruct (image, &other, a, TS_DROP_FILL_GREY, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a downsample result without its smaller size */
  down = sample_assignment (FALSE, &grid);
  down->recon = TS_RECON_DOWNSAMPLE;
  g_assert_null (ts_reconstruct (image, &grid, down, TS_DROP_FILL_GREY, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (validate_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/assignment/validate/%s", validate_cases[i].name);
      g_test_add_data_func (path, &validate_cases[i], test_validate);
    }
  g_test_add_func ("/assignment/new/bad-args", test_new_bad_args);
  g_test_add_func ("/assignment/new/starts-empty", test_new_starts_empty);
  g_test_add_func ("/assignment/sort-spatial", test_sort_spatial);
  g_test_add_func ("/assignment/fill-group-means", test_fill_group_means);
  g_test_add_func ("/assignment/fill-group-means/wide", test_fill_group_means_wide);
  g_test_add_func ("/assignment/identity", test_identity);
  g_test_add_func ("/assignment/copy-is-deep", test_copy_is_deep);
  for (guint i = 0; i < G_N_ELEMENTS (pool_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/assignment/pool/count/%s", pool_cases[i].name);
      g_test_add_data_func (path, &pool_cases[i], test_pool_counts);
    }
  g_test_add_func ("/assignment/pool/ragged-edges", test_pool_ragged_edges);
  g_test_add_func ("/assignment/pool/features", test_pool_features);
  g_test_add_func ("/assignment/pool/plain-loop", test_pool_plain_loop);
  g_test_add_func ("/assignment/pool/ratio-one-is-lossless", test_pool_ratio_one_is_lossless);
  g_test_add_func ("/assignment/pool/quality-falls", test_pool_quality_falls);
  g_test_add_func ("/assignment/pool/bad-k", test_pool_bad_k);
  g_test_add_func ("/assignment/method-run-validates", test_method_run_validates);
  g_test_add_func ("/assignment/reconstruct-rejects", test_reconstruct_rejects);
  return g_test_run ();
}
