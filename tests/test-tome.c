/* ToMe bipartite soft matching: one step against the official algorithm,
 * hand-derived cases, the schedule, protected tokens, whole-scene invariants. */
#include "ts-test-util.h"

#include <cblas.h>
#include <math.h>

typedef struct {
  int n, d, r, protected, seed;
  int dst[24];
} GoldenCase;

/* Pasted from `python3 tests/golden/tome_golden.py` (facebookresearch/ToMe's
 * bipartite_soft_matching run with Debian's python3-torch 1.13). */
static const GoldenCase golden[] = {
  { 12, 5, 4, 0, 1, { 7, 1, 2, 3, 11, 5, 3, 7, 11, 9, 10, 11 } },
  { 13, 4, 6, 1, 2, { 0, 1, 1, 3, 3, 5, 9, 7, 1, 9, 7, 11, 3 } },
  { 16, 6, 5, 2, 3, { 0, 1, 13, 3, 3, 5, 6, 7, 11, 9, 5, 11, 7, 13, 14, 15 } },
  { 21, 3, 10, 0, 4, { 1, 1, 19, 3, 7, 5, 7, 7, 13, 9, 5, 11, 1, 13, 19, 15, 16, 17, 11, 19, 1 } },
  { 9, 8, 2, 1, 5, { 0, 1, 1, 3, 4, 5, 6, 7, 7 } },
};

static void
test_official (void)
{
  for (guint c = 0; c < G_N_ELEMENTS (golden); c++)
    {
      const GoldenCase *gc = &golden[c];
      g_autofree float *x = ts_test_lcg_matrix (gc->n, gc->d, gc->seed);
      g_autofree int *dst = g_new (int, gc->n);
      g_autoptr (GError) error = NULL;
      int merged = ts_tome_match (x, gc->n, gc->d, gc->r, gc->protected, dst, NULL, &error);
      int expect_merged = 0;

      g_assert_no_error (error);
      for (int i = 0; i < gc->n; i++)
        {
          g_assert_cmpint (dst[i], ==, gc->dst[i]);
          expect_merged += gc->dst[i] != i;
        }
      g_assert_cmpint (merged, ==, expect_merged);
    }
}

/* Worked by hand: A = {0, 2}, B = {1, 3}. */
static void
test_hand (void)
{
  /* cos(0,1) = 1/sqrt(1.25) = 0.894, cos(0,3) = 0.0995; cos(2,3) = 1/sqrt(1.01) = 0.995:
   * the edge 2 -> 3 scores highest, so r = 1 merges 2 into 3. */
  const float x1[] = { 1, 0, 1, 0.5f, 0, 1, 0.1f, 1 };
  /* Both edges score 1/sqrt(1.01): the tie goes to the lower A position, 0 -> 1. */
  const float x2[] = { 1, 0, 1, 0.1f, 0, 1, 0.1f, 1 };
  int dst[4];

  g_assert_cmpint (ts_tome_match (x1, 4, 2, 1, 0, dst, NULL, NULL), ==, 1);
  g_assert_cmpint (dst[0], ==, 0);
  g_assert_cmpint (dst[2], ==, 3);
  g_assert_cmpint (ts_tome_match (x2, 4, 2, 1, 0, dst, NULL, NULL), ==, 1);
  g_assert_cmpint (dst[0], ==, 1);
  g_assert_cmpint (dst[2], ==, 2);
  /* r = 2: both merge; r larger than |A| is capped at floor(n / 2) */
  g_assert_cmpint (ts_tome_match (x1, 4, 2, 9, 0, dst, NULL, NULL), ==, 2);
  g_assert_cmpint (dst[0], ==, 1);
  g_assert_cmpint (dst[2], ==, 3);
  /* protecting token 0 leaves only A token 2 */
  g_assert_cmpint (ts_tome_match (x2, 4, 2, 2, 1, dst, NULL, NULL), ==, 1);
  g_assert_cmpint (dst[0], ==, 0);
  g_assert_cmpint (dst[2], ==, 3);
}

/* Size-weighted merging, worked by hand on a 1 x 5 grid of 2-d features.
 * Step 1 (n 5 -> target 3, r = 2): A = {0, 2, 4}, B = {1, 3}. */
static void
test_size_weighted (void)
{
  /* x0 = (1, 0), x1 = (1, 0.05), x2 = (0, 1), x3 = (0.05, 1), x4 = (1, 0.3).
   * Scores: 0 -> 1: 0.9988, 2 -> 3: 0.9988 (tie, A position 0 first), 4 -> 1: 0.9783.
   * r = 2 merges 0 into 1 and 2 into 3: groups {0,1} {2,3} {4}. */
  const float x[] = { 1, 0, 1, 0.05f, 0, 1, 0.05f, 1, 1, 0.3f };
  g_autoptr (TsScene) scene = ts_test_feature_scene (1, 5, 2, x);
  g_autoptr (TsAssignment) a = ts_tome (scene, 3, 0, 0, NULL, NULL);
  const int expect[] = { 0, 0, 1, 1, 2 };

  g_assert_nonnull (a);
  g_assert_cmpint (a->n_out, ==, 3);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (a->groups[i], ==, expect[i]);
  g_assert_cmpint (a->sizes[0], ==, 2);
  /* the merged feature is the size-weighted mean (1, 0.025) */
  g_assert_cmpfloat_with_epsilon (a->features[0], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (a->features[1], 0.025, 1e-6);
}

static void
check_valid (const TsScene *scene, const TsAssignment *a, int expect_out)
{
  g_autoptr (GError) error = NULL;
  int sum = 0, last_min = -1;
  g_autofree int *first = g_new (int, a->n_out);

  g_assert_true (ts_assignment_validate (a, &scene->grid, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a->n_out, ==, expect_out);
  for (int g = 0; g < a->n_out; g++)
    {
      g_assert_cmpint (a->sizes[g], >=, 1);
      sum += a->sizes[g];
      first[g] = -1;
    }
  g_assert_cmpint (sum, ==, a->n_in);
  /* tokens are numbered by their smallest patch */
  for (int i = 0; i < a->n_in; i++)
    if (first[a->groups[i]] < 0)
      first[a->groups[i]] = i;
  for (int g = 0; g < a->n_out; g++)
    {
      g_assert_cmpint (first[g], >, last_min);
      last_min = first[g];
    }
}

static TsScene *
photo_scene (int w, int h, int patch)
{
  g_autoptr (TsImage) base = ts_test_gradient (w, h);
  TsImage *img = ts_test_noisy (base, 7, 30);
  TsScene *scene = ts_scene_new (img, patch, TS_FEATURES_PIXEL, NULL, NULL);

  g_assert_nonnull (scene);
  return scene;
}

static void
test_counts (void)
{
  g_autoptr (TsScene) scene = photo_scene (160, 120, 8); /* 15 x 20 = 300 tokens */
  const int targets[] = { 300, 299, 257, 150, 149, 75, 33, 2, 1 };
  const int rs[] = { 0, 1, 7, 200 };

  for (guint r = 0; r < G_N_ELEMENTS (rs); r++)
    for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (TsAssignment) a = ts_tome (scene, targets[t], rs[r], 0, NULL, &error);
        g_assert_no_error (error);
        check_valid (scene, a, targets[t]);
      }
}

static void
test_identity (void)
{
  g_autoptr (TsScene) scene = photo_scene (96, 64, 8);
  const TsMethod *m = ts_method_find ("tome", NULL);
  TsMethodParams p;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) recon = NULL;

  ts_method_params_init (&p);
  p.ratio = 1.0;
  a = ts_method_run (m, scene, &p, NULL, NULL);
  g_assert_nonnull (a);
  check_valid (scene, a, scene->grid.tokens);
  for (int i = 0; i < a->n_in; i++)
    g_assert_cmpint (a->groups[i], ==, i);
  recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_GREY, NULL);
  g_assert_cmpfloat (ts_ssim (scene->image, recon), ==, 1.0);
  g_assert_true (isinf (ts_psnr (scene->image, recon)));
  g_assert_cmpfloat_with_epsilon (ts_feature_retention (scene->features, a), 1.0, 1e-6);
}

/* Protected tokens stay single and first, whatever the target. */
static void
test_protected (void)
{
  g_autoptr (TsScene) scene = photo_scene (160, 120, 8);

  for (int prot = 1; prot <= 3; prot++)
    {
      g_autoptr (TsAssignment) a = ts_tome (scene, 10, 0, prot, NULL, NULL);
      g_assert_nonnull (a);
      check_valid (scene, a, 10);
      for (int i = 0; i < prot; i++)
        {
          g_assert_cmpint (a->groups[i], ==, i);
          g_assert_cmpint (a->sizes[i], ==, 1);
        }
    }
  {
    /* the smallest reachable count with p protected is p + 1 */
    g_autoptr (TsAssignment) a = ts_tome (scene, 3, 1, 2, NULL, NULL);
    g_assert_nonnull (a);
    check_valid (scene, a, 3);
    g_assert_cmpint (a->sizes[2], ==, 298);
  }
}

/* Structured rows for the pruned scoring (|A|, |B|, d >= 256): a mix of 8
 * patterns plus a little noise; 60 B rows and 10 A rows copying one (piles
 * of exact ties, which those A rows score densely); a zero A and B row. */
static float *
structured_rows (int n, int d)
{
  g_autofree float *coef = ts_test_lcg_matrix (n, 8, 11);
  g_autofree float *pattern = ts_test_lcg_matrix (8, d, 12);
  float *x = ts_test_lcg_matrix (n, d, 13);

  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      {
        float v = 0.02f * x[(gsize) i * d + j];
        for (int t = 0; t < 8; t++)
          v += coef[i * 8 + t] * pattern[t * d + j];
        x[(gsize) i * d + j] = v;
      }
  for (int i = 100; i < 160; i++)
    memcpy (x + (gsize) (2 * i + 1) * d, x + (gsize) 201 * d, sizeof (float) * d);
  for (int i = 100; i < 110; i++)
    memcpy (x + (gsize) 2 * i * d, x + (gsize) 201 * d, sizeof (float) * d);
  memset (x + (gsize) 10 * d, 0, sizeof (float) * d);
  memset (x + (gsize) 11 * d, 0, sizeof (float) * d);
  return x;
}

static double
cosine (const float *a, const float *b, int d)
{
  double ab = 0, aa = 0, bb = 0;

  for (int j = 0; j < d; j++)
    {
      ab += (double) a[j] * b[j];
      aa += (double) a[j] * a[j];
      bb += (double) b[j] * b[j];
    }
  return aa > 0 && bb > 0 ? ab / sqrt (aa * bb) : 0;
}

/* Every A row's partner against a double-precision brute force: the best
 * cosine to 1e-5, and the very same B row wherever the runner-up is 1e-4
 * behind; with r below |A| the merged A rows are the top r. */
static void
check_against_brute_force (const float *x, int n, int d, int r, int prot)
{
  int na = (n + 1) / 2, nb = n / 2, clear = 0, merged, moved = 0;
  g_autofree int *dst = g_new (int, n);
  g_autofree double *best = g_new (double, na);
  g_autofree double *sorted = NULL;
  g_autoptr (GError) error = NULL;

  merged = ts_tome_match (x, n, d, r, prot, dst, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (merged, ==, MIN (r, (n - prot) / 2));
  for (int i = 0; i < na; i++)
    {
      double top = -INFINITY, second = -INFINITY;
      int arg = -1;
      for (int j = prot / 2; j < nb; j++)
        {
          double c = cosine (x + (gsize) 2 * i * d, x + (gsize) (2 * j + 1) * d, d);
          if (c > top)
            second = top, top = c, arg = j;
          else if (c > second)
            second = c;
        }
      best[i] = 2 * i < prot ? -INFINITY : top;
      if (dst[2 * i] == 2 * i)
        continue;
      moved++;
      /* merged into a B row, never a protected one */
      g_assert_cmpint (dst[2 * i] % 2, ==, 1);
      g_assert_cmpint (dst[2 * i], >=, prot);
      g_assert_cmpfloat (cosine (x + (gsize) 2 * i * d, x + (gsize) dst[2 * i] * d, d), >=, top - 1e-5);
      if (second < top - 1e-4)
        {
          g_assert_cmpint (dst[2 * i], ==, 2 * arg + 1);
          clear++;
        }
    }
  g_assert_cmpint (moved, ==, merged);
  g_assert_cmpint (clear, >, merged / 2);
  /* B rows and protected rows stay */
  for (int i = 0; i < n; i++)
    if (i % 2 == 1 || i < prot)
      g_assert_cmpint (dst[i], ==, i);
  if (r < na)
    {
      /* the r merged A rows hold the r best scores (to 1e-5) */
      double cut;
      sorted = g_memdup2 (best, sizeof (double) * na);
      for (int i = 1; i < na; i++)
        for (int k = i; k > 0 && sorted[k] > sorted[k - 1]; k--)
          {
            double t = sorted[k];
            sorted[k] = sorted[k - 1];
            sorted[k - 1] = t;
          }
      cut = sorted[merged - 1];
      for (int i = 0; i < na; i++)
        {
          if (dst[2 * i] != 2 * i)
            g_assert_cmpfloat (best[i], >=, cut - 1e-5);
          else
            g_assert_cmpfloat (best[i], <=, cut + 1e-5);
        }
    }
}

static void
test_pruned (void)
{
  const int n = 1201, d = 300;
  g_autofree float *x = structured_rows (n, d);

  check_against_brute_force (x, n, d, 600, 0);   /* every A row */
  check_against_brute_force (x, n, d, 150, 0);   /* the top 150 */
  check_against_brute_force (x, n, d, 600, 2);   /* a CLS and a distillation token */
  check_against_brute_force (x, n, d, 40, 1);
  {
    /* noise: the bounds leave whole blocks to the dense sgemm, and the step
     * stops computing them */
    g_autofree float *noise = ts_test_lcg_matrix (1100, 280, 21);
    check_against_brute_force (noise, 1100, 280, 550, 0);
    check_against_brute_force (noise, 1100, 280, 100, 1);
  }
}

typedef struct {
  const TsScene *scene;
  TsAssignment *result;
} TomeJob;

static gpointer
tome_thread (gpointer data)
{
  TomeJob *job = data;

  job->result = ts_tome (job->scene, 300, 0, 0, NULL, NULL);
  return NULL;
}

static void
assert_same_groups (const TsAssignment *a, const TsAssignment *b)
{
  g_assert_cmpint (a->n_in, ==, b->n_in);
  g_assert_cmpint (a->n_out, ==, b->n_out);
  for (int i = 0; i < a->n_in; i++)
    g_assert_cmpint (a->groups[i], ==, b->groups[i]);
}

/* Calls share a kept scratch block: a large run, a small one, the large
 * one again, then two at once, all give the same groups. */
static void
test_reuse (void)
{
  g_autofree float *x = structured_rows (1200, 300);
  g_autoptr (TsScene) big = ts_test_feature_scene (30, 40, 300, x);
  g_autoptr (TsScene) small = photo_scene (96, 64, 8);
  g_autoptr (TsAssignment) first = ts_tome (big, 300, 0, 0, NULL, NULL);
  g_autoptr (TsAssignment) other = ts_tome (small, 20, 0, 1, NULL, NULL);
  g_autoptr (TsAssignment) again = ts_tome (big, 300, 0, 0, NULL, NULL);
  TomeJob jobs[2] = { { big, NULL }, { big, NULL } };
  GThread *threads[2];

  check_valid (big, first, 300);
  check_valid (small, other, 20);
  assert_same_groups (first, again);
  for (int t = 0; t < 2; t++)
    threads[t] = g_thread_new ("tome", tome_thread, &jobs[t]);
  for (int t = 0; t < 2; t++)
    {
      g_thread_join (threads[t]);
      assert_same_groups (first, jobs[t].result);
      ts_assignment_free (jobs[t].result);
    }
}

static void
test_bad_input (void)
{
  g_autoptr (TsScene) scene = photo_scene (64, 64, 8);
  float x[4] = { 1, 2, 3, 4 };
  int dst[2];
  struct {
    int target, r, prot;
  } bad[] = { { 0, 0, 0 }, { 65, 0, 0 }, { 10, -1, 0 }, { 10, 0, -1 }, { 5, 0, 5 }, { 5, 0, 70 } };
  g_autoptr (GCancellable) cancel = g_cancellable_new ();

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (ts_tome (scene, bad[i].target, bad[i].r, bad[i].prot, NULL, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (ts_tome_match (x, 0, 2, 1, 0, dst, NULL, &error), ==, -1);
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (ts_tome_match (x, 2, 2, 1, 3, dst, NULL, &error), ==, -1);
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;
    g_cancellable_cancel (cancel);
    g_assert_null (ts_tome (scene, 8, 0, 0, cancel, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  }
}

/* The schedule as the paper runs it, step by step, written out here apart
 * from the library's chain: ts_tome_match on the current tokens, merged rows
 * the size-weighted means (the same float operations as the library, so near
 * ties fall the same way), survivors ordered by their smallest patch.
 * Returns each patch's token; *n_out the token count. */
static int *
reference_tome (const TsScene *scene, int target, int r, int prot, int *n_out)
{
  int N = scene->grid.tokens, d = scene->features->d, n = N;
  int *tok = g_new (int, N);
  g_autofree int *size = g_new (int, N), *minp = g_new (int, N), *dst = g_new (int, N);
  g_autofree int *keep = g_new (int, N), *rank = g_new (int, N), *new_size = g_new (int, N);
  g_autofree float *cur = g_memdup2 (scene->features->data, sizeof (float) * N * d);

  for (int i = 0; i < N; i++)
    tok[i] = i, size[i] = 1, minp[i] = i;
  while (n > target)
    {
      int step = MIN (r > 0 ? MIN (r, n - target) : n - target, (n - prot) / 2), m = 0;
      float *next;
      if (step <= 0 || ts_tome_match (cur, n, d, step, prot, dst, NULL, NULL) != step)
        break;
      memcpy (new_size, size, sizeof (int) * n);
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          {
            new_size[dst[i]] += size[i];
            minp[dst[i]] = MIN (minp[dst[i]], minp[i]);
          }
      /* survivors by smallest patch: insertion sort, keys are distinct */
      for (int i = 0; i < n; i++)
        if (dst[i] == i)
          {
            int k = m++;
            while (k > 0 && minp[keep[k - 1]] > minp[i])
              keep[k] = keep[k - 1], k--;
            keep[k] = i;
          }
      for (int k = 0; k < m; k++)
        rank[keep[k]] = k;
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          rank[i] = rank[dst[i]];
      next = g_new (float, (gsize) m * d);
      for (int k = 0; k < m; k++)
        for (int j = 0; j < d; j++)
          next[(gsize) k * d + j] = new_size[keep[k]] == size[keep[k]] ? cur[(gsize) keep[k] * d + j]
                                                                         : cur[(gsize) keep[k] * d + j] * size[keep[k]];
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          cblas_saxpy (d, (float) size[i], cur + (gsize) i * d, 1, next + (gsize) rank[dst[i]] * d, 1);
      for (int k = 0; k < m; k++)
        if (new_size[keep[k]] != size[keep[k]])
          cblas_sscal (d, 1.0f / new_size[keep[k]], next + (gsize) k * d, 1);
      for (int p = 0; p < N; p++)
        tok[p] = rank[tok[p]];
      for (int k = 0; k < m; k++)
        {
          int b = keep[k];
          keep[k] = new_size[b];
          minp[k] = minp[b];
        }
      for (int k = 0; k < m; k++)
        size[k] = keep[k];
      g_free (cur);
      cur = next;
      n = m;
    }
  *n_out = n;
  return tok;
}

/* One chain cut at targets in any order (deeper, back up, deeper again)
 * gives the step-by-step schedule's groups, with the merged features kept
 * or rebuilt; the registry entry shares a chain through the scene's memo. */
static void
test_chain (void)
{
  g_autoptr (TsScene) small = photo_scene (160, 120, 8); /* 300 tokens, dense scoring */
  g_autofree float *rows = structured_rows (600, 300);    /* pruned scoring */
  g_autoptr (TsScene) big = ts_test_feature_scene (20, 30, 300, rows);
  TsScene *scenes[] = { small, big };
  const int targets[] = { 150, 7, 149, 300, 299, 75, 1, 33, 257, 2, 7 };
  const int rs[] = { 0, 1, 7 }, prots[] = { 0, 1 };

  for (guint sc = 0; sc < G_N_ELEMENTS (scenes); sc++)
    for (guint ri = 0; ri < G_N_ELEMENTS (rs); ri++)
      for (guint pi = 0; pi < G_N_ELEMENTS (prots); pi++)
        for (int keep = 0; keep < 2; keep++)
          {
            const TsScene *scene = scenes[sc];
            int N = scene->grid.tokens;
            g_autoptr (TsTomeChain) chain = ts_tome_chain_new (scene, rs[ri], prots[pi]);
            if (!keep)
              ts_tome_chain_set_feature_cache (chain, 0);
            for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
              {
                int target = MIN (targets[t], N), n_ref;
                g_autoptr (GError) error = NULL;
                g_autoptr (TsAssignment) a = NULL;
                g_autofree int *ref = NULL;
                if (rs[ri] == 1 && target < N - 40)
                  continue; /* one token a step: a few steps are enough */
                if (target <= prots[pi] && target < N)
                  continue;
                a = ts_tome_chain_cut (chain, target, NULL, &error);
                g_assert_no_error (error);
                ref = reference_tome (scene, target, rs[ri], prots[pi], &n_ref);
                g_assert_cmpint (a->n_out, ==, n_ref);
                g_assert_cmpint (a->n_out, ==, target);
                for (int p = 0; p < N; p++)
                  g_assert_cmpint (a->groups[p], ==, ref[p]);
              }
          }

  /* the registry: the first run builds the chain, the second reuses it */
  {
    const TsMethod *m = ts_method_find ("tome", NULL);
    TsMethodParams p;
    g_autoptr (TsAssignment) first = NULL, second = NULL, fresh = NULL;
    ts_method_params_init (&p);
    p.tokens = 40;
    first = ts_method_run (m, big, &p, NULL, NULL);
    p.tokens = 90;
    second = ts_method_run (m, big, &p, NULL, NULL);
    fresh = ts_tome (big, 90, 0, 0, NULL, NULL);
    g_assert_cmpint (first->n_out, ==, 40);
    g_assert_cmpint (second->n_out, ==, 90);
    g_assert_cmpmem (second->groups, sizeof (int) * 600, fresh->groups, sizeof (int) * 600);
    g_assert_nonnull (big->memo);
    g_assert_cmpuint (g_hash_table_size (big->memo), ==, 1);
  }
}

/* The pruned scoring split over two threads (while OpenBLAS may use two)
 * gives the single thread's matching, bit for bit: structured rows over six
 * blocks, and noise whose first block sends the rest of the step dense. */
static void
test_parts (void)
{
  struct { int n, d; guint32 seed; gboolean noise; } cases[] = { { 2304, 300, 0, FALSE }, { 2000, 280, 22, TRUE } };
  int saved = openblas_get_num_threads ();

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int r = 0; r < 2; r++)
      {
        int n = cases[c].n, d = cases[c].d, steps = r ? n / 2 : n / 7;
        g_autofree float *x = cases[c].noise ? ts_test_lcg_matrix (n, d, cases[c].seed) : structured_rows (n, d);
        g_autofree int *one = g_new (int, n), *two = g_new (int, n);
        openblas_set_num_threads (1);
        g_assert_cmpint (ts_tome_match (x, n, d, steps, r, one, NULL, NULL), ==, MIN (steps, (n - r) / 2));
        openblas_set_num_threads (2);
        g_assert_cmpint (ts_tome_match (x, n, d, steps, r, two, NULL, NULL), ==, MIN (steps, (n - r) / 2));
        g_assert_cmpint (openblas_get_num_threads (), ==, 2); /* given back */
        g_assert_cmpmem (one, sizeof (int) * n, two, sizeof (int) * n);
      }
  {
    /* and a cut of the chain against the brute force, in two threads */
    g_autofree float *x = structured_rows (2304, 300);
    openblas_set_num_threads (2);
    check_against_brute_force (x, 2304, 300, 1152, 0);
  }
  openblas_set_num_threads (saved);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tome/official", test_official);
  g_test_add_func ("/tome/hand", test_hand);
  g_test_add_func ("/tome/size-weighted", test_size_weighted);
  g_test_add_func ("/tome/counts", test_counts);
  g_test_add_func ("/tome/identity", test_identity);
  g_test_add_func ("/tome/protected", test_protected);
  g_test_add_func ("/tome/pruned", test_pruned);
  g_test_add_func ("/tome/reuse", test_reuse);
  g_test_add_func ("/tome/bad-input", test_bad_input);
  g_test_add_func ("/tome/chain", test_chain);
  g_test_add_func ("/tome/parts", test_parts);
  return g_test_run ();
}
