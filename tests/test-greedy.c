/* Greedy agglomerative merging: equal to a naive O(N^3) implementation and,
 * on larger scenes, to the definition in double arithmetic (the Gram path and
 * the feature path), hand cases (ties, adjacency), counts and invariants,
 * beyond the Gram matrix's limit, bad input. */
#include "ts-test-util.h"

#include <math.h>

/* The definition, literally: recompute every group's size-weighted mean (in
 * double) and every allowed pair's cosine, merge the best pair (ties: the
 * lexicographically first (smaller key, larger key)), repeat. Groups are
 * named by their smallest patch; output numbered in that order. */
static int *
naive_greedy (const float *x, int rows, int cols, int d, int target, gboolean adjacent, int prot)
{
  int n = rows * cols, live = n;
  int *lab = g_new (int, n);
  int *out = g_new (int, n);
  g_autofree double *mean = g_new0 (double, (gsize) n * d);
  g_autofree int *cnt = g_new0 (int, n);

  for (int i = 0; i < n; i++)
    lab[i] = i;
  while (live > target)
    {
      double best = -INFINITY;
      int bg = -1, bh = -1;
      memset (mean, 0, sizeof (double) * (gsize) n * d);
      memset (cnt, 0, sizeof (int) * n);
      for (int i = 0; i < n; i++)
        {
          cnt[lab[i]]++;
          for (int j = 0; j < d; j++)
            mean[(gsize) lab[i] * d + j] += x[(gsize) i * d + j];
        }
      for (int g = prot; g < n; g++)
        for (int h = g + 1; h < n; h++)
          {
            double dot = 0, ng = 0, nh = 0, c;
            if (cnt[g] == 0 || cnt[h] == 0)
              continue;
            if (adjacent)
              {
                gboolean touch = FALSE;
                for (int i = 0; i < n && !touch; i++)
                  if (lab[i] == g)
                    for (int k = 0; k < n && !touch; k++)
                      if (lab[k] == h && abs (i / cols - k / cols) + abs (i % cols - k % cols) == 1)
                        touch = TRUE;
                if (!touch)
                  continue;
              }
            for (int j = 0; j < d; j++)
              {
                double a = mean[(gsize) g * d + j] / cnt[g], b = mean[(gsize) h * d + j] / cnt[h];
                dot += a * b, ng += a * a, nh += b * b;
              }
            c = dot / (sqrt (ng) * sqrt (nh));
            if (c > best)
              best = c, bg = g, bh = h;
          }
      g_assert_cmpint (bg, >=, 0);
      for (int i = 0; i < n; i++)
        if (lab[i] == bh)
          lab[i] = bg;
      live--;
    }
  {
    g_autofree int *num = g_new (int, n);
    int next = 0;
    for (int i = 0; i < n; i++)
      num[i] = -1;
    for (int i = 0; i < n; i++)
      {
        if (num[lab[i]] < 0)
          num[lab[i]] = next++;
        out[i] = num[lab[i]];
      }
  }
  g_free (lab);
  return out;
}

typedef struct {
  int rows, cols, d, target, adjacent, prot, seed;
} NaiveCase;

static const NaiveCase naive_cases[] = {
  { 5, 6, 4, 10, 0, 0, 11 }, { 5, 6, 4, 1, 0, 0, 12 },  { 6, 7, 3, 9, 0, 0, 13 },
  { 4, 4, 8, 3, 0, 1, 14 },  { 6, 5, 5, 12, 0, 2, 15 }, { 5, 6, 4, 10, 1, 0, 11 },
  { 6, 7, 3, 5, 1, 0, 16 },  { 4, 9, 6, 2, 1, 1, 17 },  { 7, 7, 2, 20, 1, 0, 18 },
  { 7, 7, 2, 8, 0, 0, 19 },
};

static void
test_naive (void)
{
  for (guint c = 0; c < G_N_ELEMENTS (naive_cases); c++)
    {
      const NaiveCase *nc = &naive_cases[c];
      int n = nc->rows * nc->cols;
      g_autofree float *x = ts_test_lcg_matrix (n, nc->d, nc->seed);
      g_autoptr (TsScene) scene = ts_test_feature_scene (nc->rows, nc->cols, nc->d, x);
      g_autoptr (GError) error = NULL;
      /* the Gram path (global mode), the features' full cosines and their projection bound */
      g_autoptr (TsAssignment) a = ts_greedy (scene, nc->target, nc->adjacent, nc->prot, NULL, &error);
      g_autoptr (TsAssignment) b = ts_greedy_full (scene, nc->target, nc->adjacent, nc->prot, MAX (1, nc->d / 2),
                                                   NULL, &error);
      g_autoptr (TsAssignment) p = ts_greedy_full (scene, nc->target, nc->adjacent, nc->prot, 0, NULL, &error);
      g_autofree int *expect = naive_greedy (x, nc->rows, nc->cols, nc->d, nc->target, nc->adjacent, nc->prot);

      g_assert_no_error (error);
      g_assert_true (ts_assignment_validate (a, &scene->grid, NULL));
      g_assert_cmpint (a->n_out, ==, nc->target);
      for (int i = 0; i < n; i++)
        {
          if (a->groups[i] != expect[i])
            g_error ("case %u: patch %d in token %d, the naive definition says %d", c, i, a->groups[i], expect[i]);
          if (b->groups[i] != expect[i])
            g_error ("case %u (bound): patch %d in token %d, the naive definition says %d", c, i, b->groups[i],
                     expect[i]);
          if (p->groups[i] != expect[i])
            g_error ("case %u (features): patch %d in token %d, the naive definition says %d", c, i, p->groups[i],
                     expect[i]);
        }
    }
}

/* The definition in double, fast enough for hundreds of tokens: S = X X^T of
 * the float features in double, merging adds rows and columns, and every step
 * scans all pairs' cosines S_gh / sqrt (S_gg S_hh) for the best (ties: the
 * first (smaller key, larger key)). Global mode, nothing protected. Groups at
 * @target numbered by smallest patch; *min_gap = the smallest margin by
 * which a step's best pair beat the next pair (the implementations' float
 * rounding cannot matter above some 1e-7). */
static int *
double_greedy (const float *x, int n, int d, int target, double *min_gap)
{
  g_autofree double *S = g_new0 (double, (gsize) n * n);
  g_autofree int *lab = g_new (int, n);
  g_autofree gboolean *dead = g_new0 (gboolean, n);
  int *out = g_new (int, n);

  *min_gap = INFINITY;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      for (int k = 0; k < d; k++)
        S[(gsize) i * n + j] += (double) x[(gsize) i * d + k] * x[(gsize) j * d + k];
  for (int i = 0; i < n; i++)
    lab[i] = i;
  for (int live = n; live > target; live--)
    {
      double best = -INFINITY, second = -INFINITY;
      int bg = -1, bh = -1;
      /* slot g holds the group whose smallest patch is g: key order is slot order */
      for (int g = 0; g < n; g++)
        for (int h = g + 1; h < n && !dead[g]; h++)
          if (!dead[h])
            {
              double c = S[(gsize) g * n + h] / sqrt (S[(gsize) g * n + g] * S[(gsize) h * n + h]);
              if (c > best)
                second = best, best = c, bg = g, bh = h;
              else if (c > second)
                second = c;
            }
      *min_gap = MIN (*min_gap, best - second);
      for (int j = 0; j < n; j++)
        S[(gsize) bg * n + j] += S[(gsize) bh * n + j];
      for (int j = 0; j < n; j++)
        S[(gsize) j * n + bg] = S[(gsize) bg * n + j];
      S[(gsize) bg * n + bg] += S[(gsize) bh * n + bg];
      dead[bh] = TRUE;
      for (int i = 0; i < n; i++)
        if (lab[i] == bh)
          lab[i] = bg;
    }
  for (int i = 0, next = 0; i < n; i++)
    out[i] = lab[i] == i ? next++ : out[lab[i]];
  return out;
}

/* Pixel-feature scenes of 300 and 600 tokens: the Gram path and the feature
 * path merge exactly as the definition in double, cut at several targets. */
static void
test_double_definition (void)
{
  const struct {
    int width, height, patch, seed;
  } cases[] = { { 160, 120, 8, 11 }, { 120, 80, 4, 11 } };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      TsImage *img = ts_test_noisy_gradient (cases[c].width, cases[c].height, cases[c].seed, 30);
      g_autoptr (TsScene) scene = ts_scene_new (img, cases[c].patch, TS_FEATURES_PIXEL, NULL, NULL);
      int n = scene->grid.tokens, d = scene->features->d;
      int targets[] = { n * 3 / 4, n / 4, 7 };
      TsAssignment *gram[3], *plain[3];

      g_assert_nonnull (ts_scene_gram (scene));
      g_assert_true (ts_greedy_multi (scene, targets, 3, FALSE, 0, gram, NULL, NULL));
      for (int t = 0; t < 3; t++)
        {
          double gap;
          g_autofree int *expect = double_greedy (scene->features->data, n, d, targets[t], &gap);
          plain[t] = ts_greedy_full (scene, targets[t], FALSE, 0, 0, NULL, NULL);
          /* no two pairs within float rounding of each other: the exact answer is the only one */
          g_assert_cmpfloat (gap, >, 1e-6);
          for (int i = 0; i < n; i++)
            {
              if (gram[t]->groups[i] != expect[i])
                g_error ("case %u, target %d: patch %d in token %d, the definition says %d", c, targets[t], i,
                         gram[t]->groups[i], expect[i]);
              g_assert_cmpint (plain[t]->groups[i], ==, expect[i]);
            }
          ts_assignment_free (gram[t]);
          ts_assignment_free (plain[t]);
        }
    }
}

/* Beyond the Gram matrix's limit the feature path merges (4160 tokens). */
static void
test_beyond_gram (void)
{
  int rows = 65, cols = 64, n = rows * cols;
  g_autofree float *x = ts_test_lcg_matrix (n, 3, 23);
  g_autoptr (TsScene) scene = ts_test_feature_scene (rows, cols, 3, x);
  g_autoptr (TsAssignment) a = ts_greedy (scene, n - 40, FALSE, 1, NULL, NULL);
  g_autoptr (TsAssignment) b = ts_greedy_full (scene, n - 40, FALSE, 1, 0, NULL, NULL);

  g_assert_cmpint (n, >, TS_SCENE_GRAM_MAX_TOKENS);
  g_assert_null (ts_scene_gram (scene));
  g_assert_nonnull (a);
  g_assert_cmpint (a->n_out, ==, n - 40);
  g_assert_cmpmem (a->groups, sizeof (int) * n, b->groups, sizeof (int) * n);
}

/* All features equal: every cosine is exactly 1, so ties decide: (0,1), then (0,2), (0,3). */
static void
test_ties (void)
{
  const float x[] = { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 };
  const int expect[] = { 0, 0, 0, 0, 1, 2 };
  g_autoptr (TsScene) scene = ts_test_feature_scene (1, 6, 2, x);

  for (int adj = 0; adj <= 1; adj++)
    {
      g_autoptr (TsAssignment) a = ts_greedy (scene, 3, adj, 0, NULL, NULL);
      g_assert_nonnull (a);
      for (int i = 0; i < 6; i++)
        g_assert_cmpint (a->groups[i], ==, expect[i]);
    }
}

/* 1 x 4: x0 = (1, 0), x1 = (0, 1), x2 = (1, 0.05), x3 = (0, 1).
 * Globally (1, 3) has cosine 1 and merges first: [0 1 2 1].
 * Adjacent only: cos(0,1) = 0, cos(1,2) = cos(2,3) = 0.05 / 1.00125; the tie goes to (1, 2): [0 1 1 2]. */
static void
test_adjacent (void)
{
  const float x[] = { 1, 0, 0, 1, 1, 0.05f, 0, 1 };
  const int global[] = { 0, 1, 2, 1 }, adjacent[] = { 0, 1, 1, 2 };
  g_autoptr (TsScene) scene = ts_test_feature_scene (1, 4, 2, x);
  g_autoptr (TsAssignment) a = ts_greedy (scene, 3, FALSE, 0, NULL, NULL);
  g_autoptr (TsAssignment) b = ts_greedy (scene, 3, TRUE, 0, NULL, NULL);

  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpint (a->groups[i], ==, global[i]);
      g_assert_cmpint (b->groups[i], ==, adjacent[i]);
    }
  g_assert_cmpfloat_with_epsilon (a->features[2], 0.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (a->features[3], 1.0, 1e-7);
}

/* Adjacent-only groups are 4-connected on the grid. */
static void
test_connected (void)
{
  g_autoptr (TsImage) base = ts_test_gradient (120, 96);
  TsImage *img = ts_test_noisy (base, 3, 25);
  g_autoptr (TsScene) scene = ts_scene_new (img, 8, TS_FEATURES_PIXEL, NULL, NULL);
  g_autoptr (TsAssignment) a = ts_greedy (scene, 17, TRUE, 0, NULL, NULL);
  const TsGrid *g = &scene->grid;
  g_autofree int *seen = g_new0 (int, g->tokens);
  g_autofree int *queue = g_new (int, g->tokens);

  g_assert_nonnull (a);
  g_assert_cmpint (a->n_out, ==, 17);
  for (int grp = 0; grp < a->n_out; grp++)
    {
      int head = 0, tail = 0, start = -1, reached = 0;
      for (int i = 0; i < g->tokens && start < 0; i++)
        if (a->groups[i] == grp)
          start = i;
      seen[start] = 1;
      queue[tail++] = start;
      while (head < tail)
        {
          int t = queue[head++], r = t / g->cols, c = t % g->cols;
          int nb[4] = { r > 0 ? t - g->cols : -1, r + 1 < g->rows ? t + g->cols : -1, c > 0 ? t - 1 : -1,
                        c + 1 < g->cols ? t + 1 : -1 };
          reached++;
          for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !seen[nb[k]] && a->groups[nb[k]] == grp)
              seen[nb[k]] = 1, queue[tail++] = nb[k];
        }
      g_assert_cmpint (reached, ==, a->sizes[grp]);
    }
}

static void
test_counts_and_identity (void)
{
  g_autoptr (TsImage) base = ts_test_gradient (160, 120);
  TsImage *img = ts_test_noisy (base, 5, 30);
  g_autoptr (TsScene) scene = ts_scene_new (img, 8, TS_FEATURES_PIXEL, NULL, NULL);
  const int targets[] = { 300, 299, 150, 77, 2, 1 };
  const TsMethod *m = ts_method_find ("greedy", NULL);

  for (int adj = 0; adj <= 1; adj++)
    for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
      {
        TsMethodParams p;
        g_autoptr (GError) error = NULL;
        g_autoptr (TsAssignment) a = NULL;
        int sum = 0;
        ts_method_params_init (&p);
        p.tokens = targets[t];
        p.adjacent_only = adj;
        a = ts_method_run (m, scene, &p, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpint (a->n_out, ==, targets[t]);
        for (int g = 0; g < a->n_out; g++)
          sum += a->sizes[g];
        g_assert_cmpint (sum, ==, 300);
        if (targets[t] == 300)
          {
            g_autoptr (TsImage) recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_GREY, NULL);
            g_assert_cmpfloat (ts_ssim (scene->image, recon), ==, 1.0);
            g_assert_cmpfloat_with_epsilon (ts_feature_retention (scene->features, a), 1.0, 1e-6);
          }
      }
}

/* 1200 tokens of 48-d pixel features: the Gram path, full scans and 8-, 20-
 * and 32-d projection bounds merge alike. */
static void
test_bound_equals_plain (void)
{
  g_autoptr (TsImage) base = ts_test_gradient (160, 120);
  TsImage *img = ts_test_noisy (base, 21, 30);
  g_autoptr (TsScene) scene = ts_scene_new (img, 4, TS_FEATURES_PIXEL, NULL, NULL);
  g_autoptr (TsAssignment) a = ts_greedy_full (scene, 300, FALSE, 0, 0, NULL, NULL);
  g_autoptr (TsAssignment) b = ts_greedy_full (scene, 300, FALSE, 0, 8, NULL, NULL);
  g_autoptr (TsAssignment) c = ts_greedy_full (scene, 300, FALSE, 0, -1, NULL, NULL);
  /* 20 and 32 dims: the projection's 16-wide chunks, with and without a tail */
  g_autoptr (TsAssignment) e = ts_greedy_full (scene, 300, FALSE, 0, 20, NULL, NULL);
  g_autoptr (TsAssignment) f = ts_greedy_full (scene, 300, FALSE, 0, 32, NULL, NULL);
  int differ = 0;

  g_assert_cmpint (scene->grid.tokens, ==, 1200);
  for (int i = 0; i < 1200; i++)
    {
      differ += a->groups[i] != b->groups[i];
      g_assert_cmpint (a->groups[i], ==, c->groups[i]);
      g_assert_cmpint (a->groups[i], ==, e->groups[i]);
      g_assert_cmpint (a->groups[i], ==, f->groups[i]);
    }
  g_assert_cmpint (differ, ==, 0);
}

static void
assert_same_assignment (const TsAssignment *a, const TsAssignment *b)
{
  g_assert_cmpint (a->n_out, ==, b->n_out);
  g_assert_cmpint (a->n_in, ==, b->n_in);
  g_assert_cmpint (a->d, ==, b->d);
  g_assert_cmpmem (a->groups, sizeof (int) * a->n_in, b->groups, sizeof (int) * b->n_in);
  g_assert_cmpmem (a->sizes, sizeof (int) * a->n_out, b->sizes, sizeof (int) * b->n_out);
  g_assert_cmpmem (a->features, sizeof (float) * a->n_out * a->d, b->features, sizeof (float) * b->n_out * b->d);
}

/* One merge sequence cut at several targets (unordered, repeated) gives exactly the single runs. */
static void
test_multi_equals_single (void)
{
  g_autoptr (TsImage) base = ts_test_gradient (160, 120);
  TsImage *img = ts_test_noisy (base, 9, 30);
  g_autoptr (TsScene) scene = ts_scene_new (img, 4, TS_FEATURES_PIXEL, NULL, NULL); /* 1200 tokens: bound path */
  const int targets[] = { 600, 1200, 75, 300, 300, 38, 3 };
  const int n = G_N_ELEMENTS (targets);

  for (int adj = 0; adj <= 1; adj++)
    for (int prot = 0; prot <= 2; prot += 2)
      {
        TsAssignment *out[G_N_ELEMENTS (targets)];
        g_autoptr (GError) error = NULL;
        g_assert_true (ts_greedy_multi (scene, targets, n, adj, prot, out, NULL, &error));
        g_assert_no_error (error);
        g_assert_true (out[3] != out[4]); /* a repeated target gets its own copy */
        for (int i = 0; i < n; i++)
          {
            g_autoptr (TsAssignment) single = ts_greedy (scene, targets[i], adj, prot, NULL, NULL);
            g_assert_cmpint (out[i]->n_out, ==, targets[i]);
            assert_same_assignment (out[i], single);
            ts_assignment_free (out[i]);
          }
      }
  {
    /* through the registry, as the sweep calls it: named and validated like ts_method_run */
    const char *names[] = { "greedy", "pool" };
    for (guint m = 0; m < G_N_ELEMENTS (names); m++)
      {
        const TsMethod *method = ts_method_find (names[m], NULL);
        TsMethodParams p;
        TsAssignment *out[3];
        const int t3[] = { 300, 75, 1200 };
        ts_method_params_init (&p);
        g_assert_cmpint (method->run_multi != NULL, ==, m == 0);
        g_assert_true (ts_method_run_targets (method, scene, &p, t3, 3, out, NULL, NULL));
        for (int i = 0; i < 3; i++)
          {
            g_autoptr (TsAssignment) single = NULL;
            p.tokens = t3[i];
            single = ts_method_run (method, scene, &p, NULL, NULL);
            assert_same_assignment (out[i], single);
            g_assert_cmpstr (out[i]->method, ==, names[m]);
            ts_assignment_free (out[i]);
          }
      }
  }
}

static void
test_bad_input (void)
{
  const float x[] = { 1, 0, 0, 1, 1, 0.05f, 0, 1 };
  g_autoptr (TsScene) scene = ts_test_feature_scene (1, 4, 2, x);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  struct {
    int target, prot;
  } bad[] = { { 0, 0 }, { 5, 0 }, { 2, -1 }, { 2, 2 }, { 2, 9 } };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (ts_greedy (scene, bad[i].target, FALSE, bad[i].prot, NULL, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr (GError) error = NULL;
    g_cancellable_cancel (cancel);
    g_assert_null (ts_greedy (scene, 2, FALSE, 0, cancel, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  }
  {
    const int targets[] = { 3, 0 }, none[] = { 2 };
    TsAssignment *out[2] = { NULL, NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (GError) error2 = NULL;
    g_assert_false (ts_greedy_multi (scene, targets, 2, FALSE, 0, out, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_assert_null (out[0]);
    g_assert_null (out[1]);
    g_assert_false (ts_greedy_multi (scene, none, 0, FALSE, 0, out, NULL, &error2));
    g_assert_error (error2, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  }
  {
    /* a token that is not finite merges as a zero vector (cosine 0 with all), on both paths */
    const float y[] = { 1, 0, 0, 1, NAN, 1, 1, 0.05f, 0, 1 };
    g_autoptr (TsScene) odd = ts_test_feature_scene (1, 5, 2, y);
    for (int bound = -1; bound <= 0; bound++)
      {
        g_autoptr (TsAssignment) a = ts_greedy_full (odd, 3, FALSE, 0, bound, NULL, NULL);
        const int expect[] = { 0, 1, 2, 0, 1 };
        g_assert_nonnull (a);
        for (int i = 0; i < 5; i++)
          g_assert_cmpint (a->groups[i], ==, expect[i]);
      }
  }
  {
    /* protecting 3 of 4 leaves one group: 3 + 1 tokens is the floor */
    g_autoptr (TsAssignment) a = ts_greedy (scene, 4, FALSE, 3, NULL, NULL);
    g_assert_nonnull (a);
    g_assert_cmpint (a->n_out, ==, 4);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/greedy/naive", test_naive);
  g_test_add_func ("/greedy/double-definition", test_double_definition);
  g_test_add_func ("/greedy/beyond-gram", test_beyond_gram);
  g_test_add_func ("/greedy/ties", test_ties);
  g_test_add_func ("/greedy/adjacent", test_adjacent);
  g_test_add_func ("/greedy/connected", test_connected);
  g_test_add_func ("/greedy/counts", test_counts_and_identity);
  g_test_add_func ("/greedy/bound-equals-plain", test_bound_equals_plain);
  g_test_add_func ("/greedy/multi-equals-single", test_multi_equals_single);
  g_test_add_func ("/greedy/bad-input", test_bad_input);
  return g_test_run ();
}
