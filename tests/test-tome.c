/* ToMe bipartite soft matching: one step against the official algorithm,
 * hand-derived cases, the schedule, protected tokens, whole-scene invariants. */
#include "ts-test-util.h"

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
  g_test_add_func ("/tome/bad-input", test_bad_input);
  return g_test_run ();
}
