/* Importance pruning: prune, visionzip, prumerge: hand-checked groups, exact counts, identity at ratio 1. */
#include <math.h>

#include "ts-test-util.h"

/* A rows x cols grid of 2-pixel patches carrying the given features (d columns). */
static TsScene *
scene_with (int rows, int cols, int d, const float *data)
{
  TsFeatures *f = ts_features_new (rows * cols, d, NULL);
  g_autoptr (GError) error = NULL;
  TsScene *scene;

  memcpy (f->data, data, sizeof (float) * rows * cols * d);
  scene = ts_scene_new (ts_test_gradient (cols * 2, rows * 2), 2, TS_FEATURES_NPY, f, &error);
  g_assert_no_error (error);
  return scene;
}

static TsScene *
gradient_scene (int size, int patch)
{
  g_autoptr (GError) error = NULL;
  TsScene *scene = ts_scene_new (ts_test_noisy_gradient (size, size, 3, 30), patch, TS_FEATURES_PIXEL,
                                 NULL, &error);
  g_assert_no_error (error);
  return scene;
}

static void
assert_groups (const TsAssignment *a, const int *expect, int n)
{
  for (int i = 0; i < n; i++)
    g_assert_cmpint (a->groups[i], ==, expect[i]);
  g_assert_true (ts_assignment_validate (a, NULL, NULL));
}

static void
test_top_k_and_iqr (void)
{
  const float imp[] = { 3, 5, 5, 1, 9 };
  const float ten[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
  const float spike[] = { 1, 1, 100, 1, 1 };
  g_autofree int *top = ts_prune_top_k (imp, 5, 3);

  g_assert_cmpint (top[0], ==, 4);
  g_assert_cmpint (top[1], ==, 1); /* tie 5 / 5: lower index first */
  g_assert_cmpint (top[2], ==, 2);
  /* numpy: percentile(1..10, [25, 75]) = 3.25, 7.75 -> 7.75 + 1.5 * 4.5 = 14.5 */
  g_assert_cmpfloat_with_epsilon (ts_prune_iqr_threshold (ten, 10), 14.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (ts_prune_iqr_threshold (spike, 5), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (ts_prune_iqr_threshold (spike, 1), 1.0, 1e-9);
}

static void
test_prune_hand (void)
{
  const float feat[] = { 1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 3, 1 };
  const float imp[] = { 0.1f, 0.9f, 0.3f, 0.8f, 0.2f, 0.7f };
  const int expect[] = { -1, 0, -1, 1, -1, 2 };
  g_autoptr (TsScene) scene = scene_with (2, 3, 2, feat);
  g_autoptr (TsAssignment) a = ts_prune (scene, imp, 3, NULL);

  g_assert_cmpint (a->n_out, ==, 3);
  assert_groups (a, expect, 6);
  for (int t = 0; t < 3; t++)
    {
      g_assert_cmpint (a->sizes[t], ==, 1);
      g_assert_cmpmem (a->features + t * 2, 2 * sizeof (float), feat + (2 * t + 1) * 2, 2 * sizeof (float));
    }
  g_assert_cmpint (a->recon, ==, TS_RECON_GROUP_MEAN);
}

static void
test_visionzip_hand (void)
{
  /* dominant: tokens 6 and 1; remaining 0 2 3 4 5 7, contextual targets rest[0] = 0 and rest[3] = 4;
   * 2 and 5 lean to (1, 0) like token 0, 3 and 7 to (0, 1) like token 4. */
  const float feat[] = { 1, 0, 5, 5, 0.9f, 0.1f, 0.1f, 0.9f, 0, 1, 0.8f, 0.2f, -5, 5, 0.2f, 0.8f };
  const float imp[] = { 0, 8, 0, 0, 0, 0, 9, 0 };
  const int expect[] = { 0, 1, 0, 2, 2, 0, 3, 2 };
  g_autoptr (TsScene) scene = scene_with (1, 8, 2, feat);
  g_autoptr (TsAssignment) a = ts_visionzip (scene, imp, 2, 2, NULL, NULL);

  g_assert_cmpint (a->n_out, ==, 4);
  assert_groups (a, expect, 8);
  g_assert_cmpint (a->sizes[0], ==, 3);
  g_assert_cmpint (a->sizes[2], ==, 3);
  g_assert_cmpfloat_with_epsilon (a->features[0], (1 + 0.9 + 0.8) / 3, 1e-6);
  g_assert_cmpfloat_with_epsilon (a->features[1], (0 + 0.1 + 0.2) / 3, 1e-6);
  g_assert_cmpfloat_with_epsilon (a->features[2 * 2], (0.1 + 0 + 0.2) / 3, 1e-6);
  g_assert_cmpfloat_with_epsilon (a->features[3 * 2], -5, 1e-6);
  /* no contextual tokens: the rest is dropped */
  {
    g_autoptr (TsAssignment) b = ts_visionzip (scene, imp, 2, 0, NULL, NULL);
    const int only[] = { -1, 0, -1, -1, -1, -1, 1, -1 };
    assert_groups (b, only, 8);
  }
}

/* 16 tokens in a row: 0..7 near (1, 0), 8..15 near (0, 1), importance outliers at 3 and 12. */
static TsScene *
two_clusters (float *imp)
{
  float feat[32];

  for (int i = 0; i < 16; i++)
    {
      float off = 0.05f * (i < 8 ? abs (i - 3) : abs (i - 12));
      feat[i * 2] = i < 8 ? 1 : off;
      feat[i * 2 + 1] = i < 8 ? off : 1;
      imp[i] = (i == 3 || i == 12) ? 10 : 1;
    }
  return scene_with (1, 16, 2, feat);
}

static void
test_prumerge_hand (void)
{
  float imp[16];
  g_autoptr (TsScene) scene = two_clusters (imp);
  g_autoptr (TsAssignment) a = ts_prumerge (scene, imp, 0, 4, NULL, NULL);
  g_autoptr (TsAssignment) b = ts_prumerge (scene, imp, 2, 4, NULL, NULL);
  const int all[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };
  const int two[] = { -1, -1, 0, 0, 0, -1, -1, -1, -1, -1, -1, 1, 1, 1, -1, -1 };

  /* m = 2 outliers; k = ceil(14 / 2) = 7 nearest each: the two clusters exactly */
  g_assert_cmpint (a->n_out, ==, 2);
  assert_groups (a, all, 16);
  /* k = 2: each keeps its two nearest (offset 0.05 on either side); the rest is dropped */
  g_assert_cmpint (b->n_out, ==, 2);
  assert_groups (b, two, 16);
  g_assert_cmpint (ts_assignment_kept (b), ==, 6);
}

static void
test_prumerge_flat_fallback (void)
{
  float imp[16];
  g_autoptr (TsScene) scene = two_clusters (imp);
  g_autoptr (TsAssignment) one = NULL;
  g_autoptr (TsAssignment) three = NULL;

  for (int i = 0; i < 16; i++)
    imp[i] = 0.5f; /* no outlier: the fallback count decides, ties to the lowest index */
  one = ts_prumerge (scene, imp, 0, 1, NULL, NULL);
  g_assert_cmpint (one->n_out, ==, 1);
  g_assert_cmpint (one->sizes[0], ==, 16); /* k = 15: everything */
  three = ts_prumerge (scene, imp, 0, 3, NULL, NULL);
  g_assert_cmpint (three->n_out, ==, 3);
  g_assert_cmpint (three->groups[0], ==, 0);
  g_assert_cmpint (three->groups[1], ==, 1);
  g_assert_cmpint (three->groups[2], ==, 2);
  g_assert_true (ts_assignment_validate (three, NULL, NULL));
}

static void
test_exact_counts (void)
{
  g_autoptr (TsScene) scene = gradient_scene (56, 4); /* 14 x 14 = 196 tokens */
  const int targets[] = { 1, 2, 7, 49, 98, 195, 196 };
  const char *names[] = { "prune", "visionzip" };

  for (guint m = 0; m < G_N_ELEMENTS (names); m++)
    for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
      {
        const TsMethod *method = ts_method_find (names[m], NULL);
        TsMethodParams p;
        g_autoptr (GError) error = NULL;
        g_autoptr (TsAssignment) a = NULL;
        ts_method_params_init (&p);
        p.tokens = targets[t];
        a = ts_method_run (method, scene, &p, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpint (a->n_out, ==, targets[t]);
        g_assert_cmpstr (a->method, ==, names[m]);
        if (m == 0)
          g_assert_cmpint (ts_assignment_kept (a), ==, targets[t]);
        else if (targets[t] >= 7) /* k_c = target - round(0.85 target) >= 1: nothing dropped */
          g_assert_cmpint (ts_assignment_kept (a), ==, 196);
      }
}

static void
test_ratio_one_identity (void)
{
  g_autoptr (TsScene) scene = gradient_scene (56, 4);
  const char *names[] = { "prune", "visionzip" };

  for (guint m = 0; m < G_N_ELEMENTS (names); m++)
    {
      TsMethodParams p;
      g_autoptr (TsAssignment) a = NULL;
      g_autoptr (TsImage) rec = NULL;
      ts_method_params_init (&p);
      p.ratio = 1.0;
      a = ts_method_run (ts_method_find (names[m], NULL), scene, &p, NULL, NULL);
      g_assert_cmpint (a->n_out, ==, 196);
      rec = ts_reconstruct (scene->image, &scene->grid, a, p.fill, NULL);
      g_assert_true (isinf (ts_psnr (scene->image, rec)));
      g_assert_cmpfloat_with_epsilon (ts_ssim (scene->image, rec), 1.0, 1e-12);
      g_assert_cmpfloat_with_epsilon (ts_feature_retention (scene->features, a), 1.0, 1e-6);
    }
}

static void
test_scene_importance_and_fill (void)
{
  g_autoptr (TsScene) scene = gradient_scene (56, 4);
  float *imp = g_new (float, 196);
  TsMethodParams p;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) grey = NULL;
  g_autoptr (TsImage) nearest = NULL;

  for (int i = 0; i < 196; i++)
    imp[i] = (float) i; /* model attention: the last tokens matter */
  ts_scene_set_importance (scene, imp, "test CLS attention");
  ts_method_params_init (&p);
  p.tokens = 14;
  a = ts_method_run (ts_method_find ("prune", NULL), scene, &p, NULL, NULL);
  for (int i = 0; i < 196; i++)
    g_assert_cmpint (a->groups[i], ==, i >= 182 ? i - 182 : -1);
  grey = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_GREY, NULL);
  nearest = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_NEAREST, NULL);
  g_assert_cmpint (grey->data[0], ==, 128);
  /* nearest: patch (0, 0) is copied from the kept patch straight below it in the last row */
  g_assert_cmpmem (nearest->data, 12, scene->image->data + (gsize) 13 * 4 * 56 * 3, 12);
}

static void
test_prumerge_registry (void)
{
  g_autoptr (TsScene) scene = gradient_scene (56, 4);
  const TsMethod *m = ts_method_find ("prumerge", NULL);
  TsMethodParams p;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsAssignment) b = NULL;

  g_assert_true (m->flags & TS_METHOD_AUTO_COUNT);
  g_assert_true (m->flags & TS_METHOD_DROPS);
  g_assert_true (ts_method_find ("prune", NULL)->flags & TS_METHOD_DROPS);
  g_assert_false (ts_method_find ("visionzip", NULL)->flags & TS_METHOD_DROPS);
  ts_method_params_init (&p);
  a = ts_method_run (m, scene, &p, NULL, NULL);
  b = ts_method_run (m, scene, &p, NULL, NULL);
  g_assert_nonnull (a);
  g_assert_cmpint (a->n_out, >=, 1);
  g_assert_cmpint (a->n_out, ==, b->n_out);
  g_assert_cmpmem (a->groups, 196 * sizeof (int), b->groups, 196 * sizeof (int));
  g_assert_nonnull (strstr (m->explanation, "Q3 + 1.5"));
}

/* Several targets from one call are exactly the single runs: with outliers
 * (every target the same assignment, made once) and with a flat importance
 * (the target is the fallback count: each its own run). */
/* PruMerge's definition in double for @keep kept tokens (a flat importance,
 * so the top @keep by importance, ties to the lower index): each kept token
 * takes its k = ceil((N - m) / m) most similar other tokens (cosine in double
 * of the raw features; ties to the lower index), a token joins the most
 * similar kept token that took it (ties to the lower one). Returns, per
 * patch, the kept patch of its group or -1 (dropped); *min_gap is the
 * smallest margin of any decision (a k-th versus (k+1)-th similarity, a best
 * versus second-best owner). */
static int *
double_prumerge (const float *x, int n, int d, const float *imp, int keep, double *min_gap)
{
  g_autofree int *top = ts_prune_top_k (imp, n, keep);
  g_autofree gboolean *is_kept = g_new0 (gboolean, n);
  g_autofree int *rest = g_new (int, n);
  g_autofree double *sim = g_new (double, n);
  g_autofree double *owner_sim = g_new (double, n);
  g_autofree double *second = g_new (double, n);
  int *owner = g_new (int, n), n_rest = 0, k;

  *min_gap = INFINITY;
  for (int t = 0; t < keep; t++)
    is_kept[top[t]] = TRUE;
  for (int i = 0; i < n; i++)
    {
      owner[i] = is_kept[i] ? i : -1;
      owner_sim[i] = second[i] = -INFINITY;
      if (!is_kept[i])
        rest[n_rest++] = i;
    }
  k = (n_rest + keep - 1) / keep;
  for (int c = 0; c < n; c++) /* kept tokens in increasing order */
    if (is_kept[c])
      {
        g_autofree gboolean *taken = g_new0 (gboolean, n);
        for (int r = 0; r < n_rest; r++)
          {
            double ab = 0, aa = 0, bb = 0;
            for (int j = 0; j < d; j++)
              {
                double a = x[(gsize) c * d + j], b = x[(gsize) rest[r] * d + j];
                ab += a * b, aa += a * a, bb += b * b;
              }
            sim[r] = ab / sqrt (aa * bb);
          }
        for (int j = 0; j < k; j++) /* the k best, ties to the lower index */
          {
            int b = -1;
            for (int r = 0; r < n_rest; r++)
              if (!taken[r] && (b < 0 || sim[r] > sim[b]))
                b = r;
            taken[b] = TRUE;
          }
        {
          double kth = INFINITY, next = -INFINITY;
          for (int r = 0; r < n_rest; r++)
            if (taken[r])
              kth = MIN (kth, sim[r]);
            else
              next = MAX (next, sim[r]);
          *min_gap = MIN (*min_gap, kth - next);
        }
        for (int r = 0; r < n_rest; r++)
          if (taken[r])
            {
              int i = rest[r];
              if (sim[r] > owner_sim[i])
                second[i] = owner_sim[i], owner_sim[i] = sim[r], owner[i] = c;
              else
                second[i] = MAX (second[i], sim[r]);
            }
      }
  for (int i = 0; i < n; i++)
    if (!is_kept[i] && owner[i] >= 0 && second[i] > -INFINITY)
      *min_gap = MIN (*min_gap, owner_sim[i] - second[i]);
  return owner;
}

/* PruMerge with the Gram matrix (2304 tokens) and without (4160 tokens, over
 * the limit: blocked sgemm) groups as its definition in double. */
static void
test_prumerge_double_definition (void)
{
  const struct {
    int rows, cols, d, keep;
  } cases[] = { { 48, 48, 12, 60 }, { 65, 64, 8, 40 } };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int n = cases[c].rows * cases[c].cols, d = cases[c].d;
      g_autofree float *x = ts_test_lcg_matrix (n, d, 31 + c);
      g_autofree float *imp = ts_test_lcg_matrix (n, 1, 41 + c);
      g_autoptr (TsScene) scene = scene_with (cases[c].rows, cases[c].cols, d, x);
      g_autoptr (TsAssignment) a = ts_prumerge (scene, imp, 0, cases[c].keep, NULL, NULL);
      double gap;
      g_autofree int *owner = double_prumerge (x, n, d, imp, cases[c].keep, &gap);
      double threshold = ts_prune_iqr_threshold (imp, n);

      g_assert_true ((ts_scene_gram (scene) != NULL) == (n <= TS_SCENE_GRAM_MAX_TOKENS));
      for (int i = 0; i < n; i++) /* uniform: no outlier, the fallback count is kept */
        g_assert_cmpfloat (imp[i], <=, threshold);
      g_assert_cmpfloat (gap, >, 1e-6); /* no decision within float rounding */
      g_assert_cmpint (a->n_out, ==, cases[c].keep);
      for (int i = 0; i < n; i++)
        if (owner[i] < 0)
          g_assert_cmpint (a->groups[i], ==, -1);
        else
          g_assert_cmpint (a->groups[i], ==, a->groups[owner[i]]);
    }
}

/* VisionZip with the Gram matrix (2304 tokens) and without (4160 tokens):
 * every remaining token joins the target of highest cosine in double (the
 * definition), no such choice being within 1e-6 of the runner-up. */
static void
test_visionzip_double_definition (void)
{
  const struct {
    int rows, cols, d, dominant, contextual;
  } cases[] = { { 48, 48, 12, 20, 30 }, { 65, 64, 8, 10, 25 } };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int n = cases[c].rows * cases[c].cols, d = cases[c].d, kc = cases[c].contextual, n_rest = 0;
      g_autofree float *x = ts_test_lcg_matrix (n, d, 51 + c);
      g_autofree float *imp = ts_test_lcg_matrix (n, 1, 61 + c);
      g_autoptr (TsScene) scene = scene_with (cases[c].rows, cases[c].cols, d, x);
      g_autoptr (TsAssignment) a = ts_visionzip (scene, imp, cases[c].dominant, kc, NULL, NULL);
      g_autofree int *top = ts_prune_top_k (imp, n, cases[c].dominant);
      g_autofree gboolean *dominant = g_new0 (gboolean, n);
      g_autofree int *rest = g_new (int, n);
      g_autofree int *target = g_new (int, kc);

      g_assert_true ((ts_scene_gram (scene) != NULL) == (n <= TS_SCENE_GRAM_MAX_TOKENS));
      g_assert_cmpint (a->n_out, ==, cases[c].dominant + kc);
      for (int t = 0; t < cases[c].dominant; t++)
        dominant[top[t]] = TRUE;
      for (int i = 0; i < n; i++)
        if (!dominant[i])
          rest[n_rest++] = i;
      for (int j = 0; j < kc; j++)
        target[j] = rest[(gint64) j * n_rest / kc];
      for (int r = 0; r < n_rest; r++)
        {
          const float *xi = x + (gsize) rest[r] * d;
          double best = -INFINITY, second = -INFINITY;
          int b = -1;
          for (int j = 0; j < kc; j++)
            {
              const float *xt = x + (gsize) target[j] * d;
              double ab = 0, aa = 0, bb = 0, cs;
              for (int k = 0; k < d; k++)
                ab += (double) xi[k] * xt[k], aa += (double) xi[k] * xi[k], bb += (double) xt[k] * xt[k];
              cs = ab / sqrt (aa * bb);
              if (target[j] == rest[r])
                cs = INFINITY; /* a target stays in its own group */
              if (cs > best)
                second = best, best = cs, b = j;
              else
                second = MAX (second, cs);
            }
          if (best < INFINITY)
            g_assert_cmpfloat (best - second, >, 1e-6);
          g_assert_cmpint (a->groups[rest[r]], ==, a->groups[target[b]]);
        }
    }
}

static void
test_prumerge_multi_equals_single (void)
{
  const TsMethod *m = ts_method_find ("prumerge", NULL);
  const int targets[] = { 98, 49, 7, 49, 196 };
  const int n_t = G_N_ELEMENTS (targets);

  g_assert_nonnull (m->run_multi);
  for (int flat = 0; flat < 2; flat++)
    {
      g_autoptr (TsScene) scene = gradient_scene (56, 4);
      float *imp = g_new (float, 196);
      TsAssignment *out[G_N_ELEMENTS (targets)];
      TsMethodParams p;
      g_autoptr (GError) error = NULL;
      for (int i = 0; i < 196; i++)
        imp[i] = flat ? (float) (i % 7) : (i % 50 == 3 ? 40.0f : 1.0f + (float) (i % 5)); /* 4 outliers */
      ts_scene_set_importance (scene, imp, "test importance");
      ts_method_params_init (&p);
      g_assert_true (ts_method_run_targets (m, scene, &p, targets, n_t, out, NULL, &error));
      g_assert_no_error (error);
      for (int i = 0; i < n_t; i++)
        {
          g_autoptr (TsAssignment) single = NULL;
          p.tokens = targets[i];
          single = ts_method_run (m, scene, &p, NULL, NULL);
          g_assert_cmpint (out[i]->n_out, ==, single->n_out);
          g_assert_cmpint (single->n_out, ==, flat ? targets[i] : 4);
          g_assert_cmpmem (out[i]->groups, sizeof (int) * 196, single->groups, sizeof (int) * 196);
          g_assert_cmpmem (out[i]->sizes, sizeof (int) * single->n_out, single->sizes, sizeof (int) * single->n_out);
          g_assert_cmpmem (out[i]->features, sizeof (float) * single->n_out * single->d, single->features,
                           sizeof (float) * single->n_out * single->d);
          g_assert_cmpstr (out[i]->method, ==, "prumerge");
          ts_assignment_free (out[i]);
        }
    }
}

static void
test_bad_input (void)
{
  const float feat[] = { 1, 0, 0, 1, 1, 1, 2, 0 };
  const float imp[] = { 1, 2, 3, 4 };
  const float nan_imp[] = { 1, NAN, 3, 4 };
  g_autoptr (TsScene) scene = scene_with (2, 2, 2, feat);
  TsMethodParams p;
  GError *error = NULL;

  g_assert_null (ts_prune (scene, imp, 0, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_prune (scene, imp, 5, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_prune (scene, NULL, 2, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_prune (scene, nan_imp, 2, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  g_assert_null (ts_visionzip (scene, imp, 0, 0, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_visionzip (scene, imp, 3, 2, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_visionzip (scene, nan_imp, 1, 1, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  g_assert_null (ts_prumerge (scene, imp, -1, 1, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_prumerge (scene, imp, 0, 0, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_prumerge (scene, nan_imp, 0, 1, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  ts_method_params_init (&p);
  p.dominant_fraction = 1.5;
  g_assert_null (ts_method_run (ts_method_find ("visionzip", NULL), scene, &p, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/prune/top-k-and-iqr", test_top_k_and_iqr);
  g_test_add_func ("/prune/prune-hand", test_prune_hand);
  g_test_add_func ("/prune/visionzip-hand", test_visionzip_hand);
  g_test_add_func ("/prune/prumerge-hand", test_prumerge_hand);
  g_test_add_func ("/prune/prumerge-flat-fallback", test_prumerge_flat_fallback);
  g_test_add_func ("/prune/exact-counts", test_exact_counts);
  g_test_add_func ("/prune/ratio-one-identity", test_ratio_one_identity);
  g_test_add_func ("/prune/scene-importance-and-fill", test_scene_importance_and_fill);
  g_test_add_func ("/prune/prumerge-registry", test_prumerge_registry);
  g_test_add_func ("/prune/prumerge-multi-equals-single", test_prumerge_multi_equals_single);
  g_test_add_func ("/prune/prumerge-double-definition", test_prumerge_double_definition);
  g_test_add_func ("/prune/visionzip-double-definition", test_visionzip_double_definition);
  g_test_add_func ("/prune/bad-input", test_bad_input);
  return g_test_run ();
}
