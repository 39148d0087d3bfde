/* Adaptive quadtree patching: tiling, exact budgets, detail scores, threshold mode. */
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

/* A scene of rows x cols patches of @patch pixels over @image (taken). */
static TsScene *
scene_of (TsImage *image, int patch)
{
  g_autoptr (GError) error = NULL;
  TsScene *scene = ts_scene_new (image, patch, TS_FEATURES_PIXEL, NULL, &error);

  g_assert_no_error (error);
  return scene;
}

static TsScene *
noisy_scene (int rows, int cols, int patch, guint32 seed)
{
  g_autoptr (TsImage) base = ts_test_gradient (cols * patch, rows * patch);

  return scene_of (ts_test_noisy (base, seed, 40), patch);
}

static TsAssignment *
run_budget (const TsScene *scene, TsDetailScore detail, int budget)
{
  g_autoptr (GError) error = NULL;
  TsAdaptiveOptions o = { .detail = detail, .budget = budget };
  TsAssignment *a = ts_adaptive (scene, &o, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (a);
  g_assert_true (ts_assignment_validate (a, &scene->grid, &error));
  g_assert_no_error (error);
  return a;
}

/* Every region is an aligned square of 2^l patches and owns exactly its patches. */
static void
assert_quadtree_regions (const TsAssignment *a, const TsGrid *g)
{
  g_assert_nonnull (a->regions);
  g_assert_cmpint (a->recon, ==, TS_RECON_REGION);
  for (int t = 0; t < a->n_out; t++)
    {
      TsRect r = a->regions[t];
      int s = r.w / g->patch;
      g_assert_cmpint (r.w, ==, r.h);
      g_assert_cmpint (r.w % g->patch, ==, 0);
      g_assert_cmpint (s & (s - 1), ==, 0);
      g_assert_cmpint ((r.x / g->patch) % s, ==, 0);
      g_assert_cmpint ((r.y / g->patch) % s, ==, 0);
      g_assert_cmpint (a->sizes[t], ==, s * s);
      for (int y = r.y / g->patch; y < (r.y + r.h) / g->patch; y++)
        for (int x = r.x / g->patch; x < (r.x + r.w) / g->patch; x++)
          g_assert_cmpint (a->groups[y * g->cols + x], ==, t);
      /* spatial order: token t's top-left patch comes after token t-1's */
      if (t > 0)
        {
          TsRect q = a->regions[t - 1];
          g_assert_cmpint ((q.y / g->patch) * g->cols + q.x / g->patch, <, (r.y / g->patch) * g->cols + r.x / g->patch);
        }
    }
}

/* Coarsest tilings, counted by hand (see ts-adaptive.h). */
static void
test_min_tokens (void)
{
  static const struct { int rows, cols, n0; } cases[] = {
    { 1, 1, 1 }, { 32, 32, 1 }, { 48, 48, 6 }, { 24, 24, 6 }, { 7, 5, 14 }, { 5, 7, 14 },
    { 3, 3, 6 }, { 2, 3, 3 }, { 1, 7, 7 }, /* one row: only single patches fit */
    { 16, 8, 2 }, { 6, 4, 3 }, /* 4x4 + two 2x2 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TsGrid g;
      g_assert_true (ts_grid_init (&g, cases[i].cols * 4, cases[i].rows * 4, 4, NULL));
      g_assert_cmpint (ts_adaptive_min_tokens (&g), ==, cases[i].n0);
    }
}

/* Regions tile exactly for many shapes, ragged ones included, at every budget. */
static void
test_tiling_shapes (void)
{
  static const int shapes[][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 7, 5 }, { 5, 7 }, { 3, 3 }, { 8, 8 },
                                   { 13, 29 }, { 24, 24 }, { 17, 16 }, { 31, 33 }, { 2, 64 } };

  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      g_autoptr (TsScene) scene = noisy_scene (shapes[i][0], shapes[i][1], 2, 7 + i);
      const TsGrid *g = &scene->grid;
      int n0 = ts_adaptive_min_tokens (g);
      int step = MAX (1, g->tokens / 23);

      for (int budget = 1; budget <= g->tokens + 3; budget += step)
        for (int detail = TS_DETAIL_BLUR_ERROR; detail <= TS_DETAIL_GRADIENT; detail++)
          {
            g_autoptr (TsAssignment) a = run_budget (scene, detail, budget);
            assert_quadtree_regions (a, g);
            g_assert_cmpint (a->n_out, ==, ts_adaptive_reachable (g, budget));
            g_assert_cmpint ((a->n_out - n0) % 3, ==, 0);
          }
    }
}

/* Budget mode returns the largest reachable count <= budget for every budget. */
static void
test_exact_budgets (void)
{
  g_autoptr (TsScene) scene = noisy_scene (7, 5, 4, 3);
  const TsGrid *g = &scene->grid;

  g_assert_cmpint (ts_adaptive_min_tokens (g), ==, 14);
  for (int budget = 1; budget <= 40; budget++)
    {
      g_autoptr (TsAssignment) a = run_budget (scene, TS_DETAIL_BLUR_ERROR, budget);
      if (budget < 14)
        g_assert_cmpint (a->n_out, ==, 14); /* below the coarsest tiling: documented */
      else
        {
          g_assert_cmpint (a->n_out, <=, budget);
          /* largest reachable: one more split would exceed the budget or nothing is left */
          g_assert_true (a->n_out + 3 > budget || a->n_out == g->tokens);
        }
    }
  /* 14, 17, ..., 35 = rows * cols: the full grid is reachable */
  {
    g_autoptr (TsAssignment) a = run_budget (scene, TS_DETAIL_ENTROPY, 35);
    g_assert_cmpint (a->n_out, ==, 35);
  }
  g_assert_cmpint (ts_adaptive_reachable (g, 16), ==, 14);
  g_assert_cmpint (ts_adaptive_reachable (g, 17), ==, 17);
  g_assert_cmpint (ts_adaptive_reachable (g, 1000), ==, 35);
}

/* An 8 x 8 grid at P 4, flat grey except a checkerboard in the top-right
 * quadrant: after the root splits (budget 4), the next split (budget 7) must
 * be that quadrant, for every detail score. */
static void
test_detail_quadrant_first (void)
{
  for (int detail = TS_DETAIL_BLUR_ERROR; detail <= TS_DETAIL_GRADIENT; detail++)
    {
      TsImage *image = ts_test_solid (32, 32, 100, 100, 100);
      g_autoptr (TsScene) scene = NULL;
      for (int y = 0; y < 16; y++)
        for (int x = 16; x < 32; x++)
          memset (image->data + ((gsize) y * 32 + x) * 3, ((x / 3 + y / 3) & 1) ? 230 : 20, 3);
      scene = scene_of (image, 4);
      {
        g_autoptr (TsAssignment) one = run_budget (scene, detail, 3);
        g_assert_cmpint (one->n_out, ==, 1);
        g_assert_cmpint (one->regions[0].w, ==, 32);
      }
      {
        g_autoptr (TsAssignment) four = run_budget (scene, detail, 6);
        g_assert_cmpint (four->n_out, ==, 4);
      }
      {
        g_autoptr (TsAssignment) a = run_budget (scene, detail, 7);
        g_assert_cmpint (a->n_out, ==, 7);
        /* tokens in spatial order: TL quadrant (0), TR children at (16,0), (24,0), then (16,8), (24,8),
         * BL (0,16), BR (16,16) */
        for (int t = 0; t < a->n_out; t++)
          {
            TsRect r = a->regions[t];
            if (r.x >= 16 && r.y < 16)
              g_assert_cmpint (r.w, ==, 8);
            else
              g_assert_cmpint (r.w, ==, 16);
          }
        g_assert_cmpint (a->regions[1].x, ==, 16);
        g_assert_cmpint (a->regions[1].w, ==, 8);
      }
    }
}

static double
detail_of (const TsImage *image, TsRect r, int patch, TsDetailScore detail)
{
  g_autoptr (GError) error = NULL;
  double v = NAN;

  g_assert_true (ts_adaptive_detail (image, r, patch, detail, &v, &error));
  g_assert_no_error (error);
  return v;
}

/* Detail scores on patterns whose value is known by hand. */
static void
test_detail_known_patterns (void)
{
  g_autoptr (TsImage) flat = ts_test_solid (16, 16, 40, 90, 200);
  g_autoptr (TsImage) halves = ts_test_solid (16, 16, 0, 0, 0);
  g_autoptr (TsImage) four = ts_image_new (16, 16);
  g_autoptr (TsImage) checker = ts_image_new (16, 16);
  g_autoptr (TsImage) ramp = ts_image_new (16, 16);
  TsRect all = { 0, 0, 16, 16 };

  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      {
        gsize i = ((gsize) y * 16 + x) * 3;
        if (x >= 8)
          memset (halves->data + i, 255, 3);
        memset (four->data + i, (guint8) (60 * ((x / 4) % 4)), 3); /* 4 levels, 64 pixels each */
        memset (checker->data + i, ((x + y) & 1) ? 255 : 0, 3);
        memset (ramp->data + i, (guint8) (3 * x), 3);
      }
  /* entropy: two levels 50/50 -> 1 bit; four equal levels -> 2 bits; flat -> 0 */
  g_assert_cmpfloat_with_epsilon (detail_of (halves, all, 8, TS_DETAIL_ENTROPY), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (detail_of (four, all, 8, TS_DETAIL_ENTROPY), 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (detail_of (flat, all, 8, TS_DETAIL_ENTROPY), 0.0, 1e-12);
  /* blur error: flat -> 0; a 1-pixel checkerboard at s = 2 (16 px region, P 8): every 2 x 2 cell
   * averages 127.5, every pixel is 127.5 away: MSE 127.5^2 = 16256.25; at s = 1 nothing is lost */
  g_assert_cmpfloat_with_epsilon (detail_of (flat, all, 8, TS_DETAIL_BLUR_ERROR), 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (detail_of (checker, all, 8, TS_DETAIL_BLUR_ERROR), 16256.25, 1e-9);
  g_assert_cmpfloat_with_epsilon (detail_of (checker, all, 16, TS_DETAIL_BLUR_ERROR), 0.0, 1e-12);
  /* halves at s = 2: every 2 x 2 cell is one colour -> 0 */
  g_assert_cmpfloat_with_epsilon (detail_of (halves, all, 8, TS_DETAIL_BLUR_ERROR), 0.0, 1e-12);
  /* gradient: luma 3x (weights sum to 1) -> gx = 3 everywhere, gy = 0 -> 9 */
  g_assert_cmpfloat_with_epsilon (detail_of (ramp, all, 8, TS_DETAIL_GRADIENT), 9.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (detail_of (flat, all, 8, TS_DETAIL_GRADIENT), 0.0, 1e-12);
  /* halves: only columns 7 and 8 see the step, each gx = 255 / 2 -> 2 * 16 * 127.5^2 / 256 */
  g_assert_cmpfloat_with_epsilon (detail_of (halves, all, 8, TS_DETAIL_GRADIENT), 2 * 16 * 127.5 * 127.5 / 256, 1e-9);
}

typedef struct {
  int level, r, c;
  double score;
} RefNode;

static gboolean
ref_before (const RefNode *a, const RefNode *b)
{
  if (a->score != b->score)
    return a->score > b->score;
  if (a->level != b->level)
    return a->level > b->level;
  return a->r != b->r ? a->r < b->r : a->c < b->c;
}

/* The coarsest tiling of the part of node (level, r, c) inside rows x cols. */
static void
reference_tile (GArray *nodes, const TsImage *image, int rows, int cols, int patch, TsDetailScore detail, int level,
                int r, int c)
{
  int s = 1 << level, h = s / 2;

  if (r >= rows || c >= cols)
    return;
  if (r + s <= rows && c + s <= cols)
    {
      RefNode x = { level, r, c, 0 };
      if (level > 0)
        x.score = detail_of (image, (TsRect){ c * patch, r * patch, s * patch, s * patch }, patch, detail);
      g_array_append_val (nodes, x);
      return;
    }
  for (int q = 0; q < 4; q++)
    reference_tile (nodes, image, rows, cols, patch, detail, level - 1, r + (q / 2) * h, c + (q % 2) * h);
}

/* The greedy written plainly on ts_adaptive_detail (an independent path),
 * from the coarsest tiling of a rows x cols grid (one root when both are the
 * same power of two). */
static GArray *
reference_greedy_grid (const TsImage *image, int rows, int cols, int patch, TsDetailScore detail, int budget)
{
  GArray *nodes = g_array_new (FALSE, FALSE, sizeof (RefNode));
  int level = 0;

  while ((1 << level) < MAX (rows, cols))
    level++;
  reference_tile (nodes, image, rows, cols, patch, detail, level, 0, 0);
  while ((int) nodes->len + 3 <= budget)
    {
      int best = -1;
      for (guint i = 0; i < nodes->len; i++)
        {
          RefNode *x = &g_array_index (nodes, RefNode, i);
          if (x->level > 0 && (best < 0 || ref_before (x, &g_array_index (nodes, RefNode, best))))
            best = (int) i;
        }
      if (best < 0)
        break;
      {
        RefNode p = g_array_index (nodes, RefNode, best);
        int h = 1 << (p.level - 1);
        g_array_remove_index (nodes, best);
        for (int q = 0; q < 4; q++)
          {
            RefNode ch = { p.level - 1, p.r + (q / 2) * h, p.c + (q % 2) * h, 0 };
            if (ch.level > 0)
              ch.score = detail_of (image, (TsRect){ ch.c * patch, ch.r * patch, h * patch, h * patch }, patch, detail);
            g_array_append_val (nodes, ch);
          }
      }
    }
  return nodes;
}

static GArray *
reference_greedy (const TsImage *image, int n, int patch, TsDetailScore detail, int budget)
{
  return reference_greedy_grid (image, n, n, patch, detail, budget);
}

/* @a has exactly the reference's regions (grid @cols wide). */
static void
assert_regions (const TsAssignment *a, GArray *ref, int cols, int patch)
{
  g_assert_cmpint (a->n_out, ==, (int) ref->len);
  for (guint i = 0; i < ref->len; i++)
    {
      RefNode *x = &g_array_index (ref, RefNode, i);
      int t = a->groups[x->r * cols + x->c];
      g_assert_cmpint (a->regions[t].x, ==, x->c * patch);
      g_assert_cmpint (a->regions[t].y, ==, x->r * patch);
      g_assert_cmpint (a->regions[t].w, ==, (1 << x->level) * patch);
    }
}

/* The fast scores (pyramids, histograms, summed areas) choose exactly the
 * splits the plain definitions choose. */
static void
test_matches_reference_greedy (void)
{
  int n = 8, patch = 4;
  g_autoptr (TsImage) base = ts_test_gradient (n * patch, n * patch);
  TsImage *image = ts_test_noisy (base, 11, 60);
  g_autoptr (TsScene) scene = NULL;

  /* make one corner calm so the tree is uneven */
  for (int y = 0; y < 12; y++)
    for (int x = 0; x < 12; x++)
      memset (image->data + ((gsize) y * n * patch + x) * 3, 128, 3);
  scene = scene_of (image, patch);
  for (int detail = TS_DETAIL_BLUR_ERROR; detail <= TS_DETAIL_GRADIENT; detail++)
    for (int budget = 1; budget <= 64; budget += 3)
      {
        g_autoptr (TsAssignment) a = run_budget (scene, detail, budget);
        g_autoptr (GArray) ref = reference_greedy (scene->image, n, patch, detail, budget);
        assert_regions (a, ref, n, patch);
      }
}

/* A scene keeps budget mode's split order: budgets in any order on a ragged
 * grid (a mixed coarsest tiling), whether the scene has run before or not,
 * choose exactly the regions of the plain greedy. */
static void
test_split_order_memo (void)
{
  int rows = 12, cols = 10, patch = 4, n = rows * cols;
  g_autoptr (TsImage) base = ts_test_gradient (cols * patch, rows * patch);
  g_autoptr (TsScene) warm = scene_of (ts_test_noisy (base, 5, 70), patch);
  int n0 = ts_adaptive_min_tokens (&warm->grid);

  /* by hand: the 8-cell at (0,0); 2-cells at (0,8) (2,8) (4,8) (6,8); 4-cells at
   * (8,0) (8,4); 2-cells at (8,8) (10,8) */
  g_assert_cmpint (n0, ==, 9);
  for (int detail = TS_DETAIL_BLUR_ERROR; detail <= TS_DETAIL_GRADIENT; detail++)
    for (int i = 0; i < n; i++)
      {
        int budget = 1 + (i * 37) % n; /* every budget 1..n once, shuffled */
        g_autoptr (TsScene) cold = scene_of (ts_test_noisy (base, 5, 70), patch);
        g_autoptr (TsAssignment) a = run_budget (warm, detail, budget);
        g_autoptr (TsAssignment) b = run_budget (cold, detail, budget);
        g_autoptr (GArray) ref = reference_greedy_grid (warm->image, rows, cols, patch, detail, budget);
        assert_regions (a, ref, cols, patch);
        g_assert_cmpint (b->n_out, ==, a->n_out);
        g_assert_cmpmem (a->groups, sizeof (int) * n, b->groups, sizeof (int) * n);
        g_assert_cmpmem (a->regions, sizeof (TsRect) * a->n_out, b->regions, sizeof (TsRect) * b->n_out);
      }
}

/* Threshold mode: flat left half (entropy 0) keeps its coarsest squares,
 * the noisy right half (high entropy at every level) splits to single patches. */
static void
test_threshold_mode (void)
{
  TsImage *image = ts_test_solid (32, 32, 90, 90, 90);
  g_autoptr (TsImage) noise = ts_test_noisy (image, 5, 120);
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (GError) error = NULL;
  TsAdaptiveOptions o = { .n_thresholds = 1, .thresholds = { 1.0 } };

  for (int y = 0; y < 32; y++)
    memcpy (image->data + ((gsize) y * 32 + 16) * 3, noise->data + ((gsize) y * 32 + 16) * 3, 16 * 3);
  scene = scene_of (image, 4);
  {
    g_autoptr (TsAssignment) a = ts_adaptive (scene, &o, NULL, &error);
    g_assert_no_error (error);
    assert_quadtree_regions (a, &scene->grid);
    g_assert_cmpint (a->n_out, ==, 2 + 32);
    for (int t = 0; t < a->n_out; t++)
      g_assert_cmpint (a->regions[t].w, ==, a->regions[t].x < 16 ? 16 : 4);
  }
  /* a cap keeps the count within it */
  o.budget = 10;
  {
    g_autoptr (TsAssignment) a = ts_adaptive (scene, &o, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_out, ==, 10);
  }
  /* above the noise's entropy nothing splits; per-level thresholds: level 3 (the root) splits
   * at 1 bit, deeper levels never (8 bits) */
  o.budget = 0;
  o.thresholds[0] = 8.0;
  {
    g_autoptr (TsAssignment) a = ts_adaptive (scene, &o, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_out, ==, 1);
  }
  o.n_thresholds = 3;
  o.thresholds[0] = 8.0, o.thresholds[1] = 8.0, o.thresholds[2] = 1.0;
  {
    g_autoptr (TsAssignment) a = ts_adaptive (scene, &o, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_out, ==, 4);
  }
  /* through the registry: --entropy-threshold */
  {
    TsMethodParams p;
    const TsMethod *m = ts_method_find ("adaptive", &error);
    g_autoptr (TsAssignment) a = NULL;
    g_assert_no_error (error);
    ts_method_params_init (&p);
    p.entropy_threshold = 1.0;
    a = ts_method_run (m, scene, &p, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_out, ==, 34);
  }
}

/* When the budget allows every patch, quality is 1.0 (and the registry entry behaves). */
static void
test_full_budget_quality (void)
{
  g_autoptr (TsScene) scene = noisy_scene (6, 9, 8, 21);
  g_autoptr (GError) error = NULL;
  const TsMethod *m = ts_method_find ("adaptive", &error);
  TsMethodParams p;

  g_assert_no_error (error);
  g_assert_cmpuint (m->flags, ==, TS_METHOD_QUANTISED | TS_METHOD_REGIONS);
  ts_method_params_init (&p);
  for (int detail = TS_DETAIL_BLUR_ERROR; detail <= TS_DETAIL_GRADIENT; detail++)
    {
      g_autoptr (TsAssignment) a = NULL;
      g_autoptr (TsImage) recon = NULL;
      p.detail = detail;
      p.ratio = 1.0;
      a = ts_method_run (m, scene, &p, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (a->n_out, ==, 54);
      g_assert_cmpstr (a->method, ==, "adaptive");
      recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_NEAREST, &error);
      g_assert_no_error (error);
      g_assert_true (isinf (ts_psnr (scene->image, recon)));
      g_assert_cmpfloat_with_epsilon (ts_ssim (scene->image, recon), 1.0, 1e-12);
      g_assert_cmpfloat_with_epsilon (ts_feature_retention (scene->features, a), 1.0, 1e-6);
    }
  /* 6 x 9: coarsest tiling 4x4, 4x4, four 2x2 and six single patches = 12;
   * ratio 3 -> target 18 = 12 + 2 * 3; ratio 4 -> target 14 -> 12 */
  g_assert_cmpint (ts_adaptive_min_tokens (&scene->grid), ==, 12);
  p.ratio = 3.0;
  {
    g_autoptr (TsAssignment) a = ts_method_run (m, scene, &p, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_out, ==, 18);
  }
  p.ratio = 4.0;
  {
    g_autoptr (TsAssignment) a = ts_method_run (m, scene, &p, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->n_out, ==, 12);
  }
}

/* Token features are the mean of their member patches' features. */
static void
test_features_are_group_means (void)
{
  g_autoptr (TsScene) scene = noisy_scene (4, 4, 4, 2);
  g_autoptr (TsAssignment) a = run_budget (scene, TS_DETAIL_BLUR_ERROR, 1);
  int d = scene->features->d;

  g_assert_cmpint (a->n_out, ==, 1);
  for (int j = 0; j < d; j++)
    {
      double mean = 0;
      for (int i = 0; i < 16; i++)
        mean += scene->features->data[(gsize) i * d + j];
      g_assert_cmpfloat_with_epsilon (a->features[j], mean / 16, 1e-5);
    }
}

static void
test_deterministic (void)
{
  g_autoptr (TsScene) scene = noisy_scene (12, 20, 4, 9);
  g_autoptr (TsAssignment) a = run_budget (scene, TS_DETAIL_ENTROPY, 100);
  g_autoptr (TsAssignment) b = run_budget (scene, TS_DETAIL_ENTROPY, 100);

  g_assert_cmpint (a->n_out, ==, b->n_out);
  g_assert_cmpmem (a->groups, sizeof (int) * a->n_in, b->groups, sizeof (int) * b->n_in);
  g_assert_cmpmem (a->regions, sizeof (TsRect) * a->n_out, b->regions, sizeof (TsRect) * b->n_out);
}

static void
test_bad_input (void)
{
  g_autoptr (TsScene) scene = noisy_scene (4, 4, 4, 1);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  TsAdaptiveOptions o = { .budget = 0 };
  GError *error = NULL;
  double v;

  g_assert_null (ts_adaptive (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  o = (TsAdaptiveOptions){ .n_thresholds = 1, .thresholds = { 9.0 } };
  g_assert_null (ts_adaptive (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  o = (TsAdaptiveOptions){ .n_thresholds = TS_ADAPTIVE_MAX_THRESHOLDS + 1 };
  g_assert_null (ts_adaptive (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  o = (TsAdaptiveOptions){ .budget = 5, .detail = (TsDetailScore) 17 };
  g_assert_null (ts_adaptive (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  o = (TsAdaptiveOptions){ .budget = 5 };
  g_cancellable_cancel (cancel);
  g_assert_null (ts_adaptive (scene, &o, cancel, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_clear_error (&error);

  /* detail: not square, not whole patches, not a power of two, outside */
  g_assert_false (ts_adaptive_detail (scene->image, (TsRect){ 0, 0, 8, 4 }, 4, TS_DETAIL_ENTROPY, &v, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_adaptive_detail (scene->image, (TsRect){ 0, 0, 6, 6 }, 4, TS_DETAIL_BLUR_ERROR, &v, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_adaptive_detail (scene->image, (TsRect){ 0, 0, 12, 12 }, 4, TS_DETAIL_BLUR_ERROR, &v, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_adaptive_detail (scene->image, (TsRect){ 8, 8, 16, 16 }, 4, TS_DETAIL_GRADIENT, &v, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/adaptive/min-tokens", test_min_tokens);
  g_test_add_func ("/adaptive/tiling-shapes", test_tiling_shapes);
  g_test_add_func ("/adaptive/exact-budgets", test_exact_budgets);
  g_test_add_func ("/adaptive/detail-quadrant-first", test_detail_quadrant_first);
  g_test_add_func ("/adaptive/detail-known-patterns", test_detail_known_patterns);
  g_test_add_func ("/adaptive/matches-reference-greedy", test_matches_reference_greedy);
  g_test_add_func ("/adaptive/split-order-memo", test_split_order_memo);
  g_test_add_func ("/adaptive/threshold-mode", test_threshold_mode);
  g_test_add_func ("/adaptive/full-budget-quality", test_full_budget_quality);
  g_test_add_func ("/adaptive/features-are-group-means", test_features_are_group_means);
  g_test_add_func ("/adaptive/deterministic", test_deterministic);
  g_test_add_func ("/adaptive/bad-input", test_bad_input);
  return g_test_run ();
}
