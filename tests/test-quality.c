/* Quality: PSNR, SSIM (against skimage, tests/golden/ssim_golden.py), reconstruction, feature retention. */
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

typedef struct {
  int w, h;
  guint32 seed;
  int amplitude;
  double ssim, psnr; /* skimage 0.19, tests/golden/ssim_golden.py */
} GoldenCase;

static const GoldenCase golden[] = {
  { 64, 48, 1, 20, 0.9745042200, 26.8158331705 },
  { 33, 17, 7, 60, 0.5865510963, 17.8438131116 },
  { 100, 80, 42, 5, 0.9986668163, 38.2507726114 },
};

static void
test_ssim_golden (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (golden); i++)
    {
      const GoldenCase *c = &golden[i];
      g_autoptr (TsImage) a = ts_test_gradient (c->w, c->h);
      g_autoptr (TsImage) b = ts_test_noisy (a, c->seed, c->amplitude);
      g_assert_cmpfloat_with_epsilon (ts_ssim (a, b), c->ssim, 1e-6);
      g_assert_cmpfloat_with_epsilon (ts_ssim (b, a), c->ssim, 1e-6);
    }
}

static void
test_psnr_golden (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (golden); i++)
    {
      const GoldenCase *c = &golden[i];
      g_autoptr (TsImage) a = ts_test_gradient (c->w, c->h);
      g_autoptr (TsImage) b = ts_test_noisy (a, c->seed, c->amplitude);
      g_assert_cmpfloat_with_epsilon (ts_psnr (a, b), c->psnr, 1e-6);
    }
}

static void
test_identical (void)
{
  g_autoptr (TsImage) a = ts_test_gradient (50, 40);

  g_assert_cmpfloat_with_epsilon (ts_ssim (a, a), 1.0, 1e-12);
  g_assert_true (isinf (ts_psnr (a, a)));
}

static void
test_psnr_hand (void)
{
  /* one channel of one pixel off by 255 in a 1x1 image: MSE = 255^2 / 3 -> 10 log10(3) */
  g_autoptr (TsImage) a = ts_test_solid (1, 1, 0, 0, 0);
  g_autoptr (TsImage) b = ts_test_solid (1, 1, 255, 0, 0);
  g_autoptr (TsImage) c = ts_test_solid (4, 4, 10, 10, 10);
  g_autoptr (TsImage) d = ts_test_solid (4, 4, 12, 12, 12);

  g_assert_cmpfloat_with_epsilon (ts_psnr (a, b), 10 * log10 (3.0), 1e-9);
  /* constant error 2: 10 log10(255^2 / 4) */
  g_assert_cmpfloat_with_epsilon (ts_psnr (c, d), 10 * log10 (255.0 * 255.0 / 4.0), 1e-9);
}

static void
test_size_mismatch (void)
{
  g_autoptr (TsImage) a = ts_test_solid (4, 4, 0, 0, 0);
  g_autoptr (TsImage) b = ts_test_solid (4, 5, 0, 0, 0);

  g_assert_true (isnan (ts_ssim (a, b)));
  g_assert_true (isnan (ts_psnr (a, b)));
}

static void
test_ssim_constant_shift (void)
{
  /* Two flat images: SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) (variances are 0). */
  g_autoptr (TsImage) a = ts_test_solid (20, 20, 100, 100, 100);
  g_autoptr (TsImage) b = ts_test_solid (20, 20, 120, 120, 120);
  double c1 = 6.5025, expect = (2 * 100.0 * 120.0 + c1) / (100.0 * 100.0 + 120.0 * 120.0 + c1);

  g_assert_cmpfloat_with_epsilon (ts_ssim (a, b), expect, 1e-9);
}

static TsFeatures *
features_of (const TsImage *image, TsGrid *grid, int patch)
{
  g_assert_true (ts_grid_init (grid, image->width, image->height, patch, NULL));
  return ts_features_pixel (image, grid, NULL);
}

static void
test_identity_reconstruction (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (56, 42);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features_of (image, &grid, 14);
  g_autoptr (TsAssignment) a = ts_assignment_identity (f, NULL);
  g_autoptr (TsImage) rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);

  g_assert_true (ts_image_equal (rec, image));
  g_assert_cmpfloat_with_epsilon (ts_feature_retention (f, a), 1.0, 1e-6);
}

static void
test_group_mean_reconstruction (void)
{
  /* two 2x2 patches, black and white, merged into one token: both become mid grey 127.5 -> 128 */
  g_autoptr (TsImage) image = ts_test_solid (4, 2, 0, 0, 0);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) rec = NULL;

  for (int y = 0; y < 2; y++)
    for (int x = 2; x < 4; x++)
      for (int c = 0; c < 3; c++)
        image->data[(y * 4 + x) * 3 + c] = 255;
  f = features_of (image, &grid, 2);
  a = ts_assignment_new (2, 1, f->d, NULL);
  a->groups[0] = a->groups[1] = 0;
  ts_assignment_fill_group_means (a, f);
  g_assert_cmpint (a->sizes[0], ==, 2);
  rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  for (int i = 0; i < 4 * 2 * 3; i++)
    g_assert_cmpint (rec->data[i], ==, 128);
  /* MSE = 127.5^2 -> psnr = 20 log10(255 / 127.5) = 6.0206 (rounded pixels: 127 and 128 off) */
  g_assert_cmpfloat_with_epsilon (ts_psnr (image, rec), 10 * log10 (255.0 * 255.0 / ((128.0 * 128 + 127.0 * 127) / 2)),
                                  1e-9);
}

/* Means that land on .5 round half to even (as lrintf), out-of-range mixes clamp. */
static void
test_rounding_ties (void)
{
  /* 2 x 2 patches: each row of two patches merged into one token; a pair per channel */
  static const guint8 pairs[][2] = { { 10, 11 }, { 11, 12 }, { 254, 255 }, { 0, 1 }, { 3, 3 }, { 200, 57 } };
  static const guint8 expect[] = { 10, 12, 254, 0, 3, 128 }; /* 128.5 -> 128 */
  g_autoptr (TsImage) image = ts_test_solid (4, 4, 0, 0, 0);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) rec = NULL;

  for (int y = 0; y < 4; y++) /* token 0 = top patch row (pairs 0-2 by channel), token 1 = bottom (3-5) */
    for (int x = 0; x < 4; x++)
      for (int c = 0; c < 3; c++)
        image->data[(y * 4 + x) * 3 + c] = pairs[y / 2 * 3 + c][x / 2];
  f = features_of (image, &grid, 2);
  a = ts_assignment_new (4, 2, f->d, NULL);
  a->groups[0] = a->groups[1] = 0;
  a->groups[2] = a->groups[3] = 1;
  ts_assignment_fill_group_means (a, f);
  rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (rec->data[(y * 4 + x) * 3 + c], ==, expect[y / 2 * 3 + c]);

  /* a mix with weights outside [0, 1] paints values beyond 0..255: clamped */
  a->mix = g_new0 (float, 2 * 4);
  a->recon = TS_RECON_MIX;
  a->mix[0] = 2.0f, a->mix[1] = -1.0f;       /* 2 x 10 - 11 = 9; 2 x 254 - 255 = 253 */
  a->mix[4 + 2] = -1.0f, a->mix[4 + 3] = 2.0f; /* 2 x 1 - 0 = 2; 2 x 57 - 200 = -86 -> 0 */
  g_clear_pointer (&rec, ts_image_free);
  rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  g_assert_cmpint (rec->data[0], ==, 9);
  g_assert_cmpint (rec->data[2], ==, 253);
  g_assert_cmpint (rec->data[(2 * 4) * 3 + 0], ==, 2);
  g_assert_cmpint (rec->data[(2 * 4) * 3 + 2], ==, 0);
  a->mix[0] = 3.0f; /* 3 x 254 - 255 = 507 -> 255 */
  g_clear_pointer (&rec, ts_image_free);
  rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  g_assert_cmpint (rec->data[2], ==, 255);
}

static void
test_dropped_fill (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (6, 2);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features_of (image, &grid, 2);
  g_autoptr (TsAssignment) a = ts_assignment_new (3, 1, f->d, NULL);
  g_autoptr (TsImage) grey = NULL;
  g_autoptr (TsImage) near = NULL;

  a->groups[0] = 0; /* patches 1 and 2 dropped */
  ts_assignment_fill_group_means (a, f);
  grey = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  near = ts_reconstruct (image, &grid, a, TS_DROP_FILL_NEAREST, NULL);
  g_assert_cmpint (grey->data[(0 * 6 + 3) * 3], ==, 128);
  /* nearest: patch 2 copies patch 0 (through patch 1) */
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 2; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (near->data[(y * 6 + 4 + x) * 3 + c], ==, image->data[(y * 6 + x) * 3 + c]);
  /* dropped tokens count 0 in feature retention: 1 of 3 kept exactly */
  g_assert_cmpfloat_with_epsilon (ts_feature_retention (f, a), 1.0 / 3.0, 1e-6);
}

/* Group-mean reconstruction against the definition in double: every pixel
 * of a kept patch is the mean of its group's pixels at that place, rounded
 * half to even; groups of one (left as they are), two, three and four, a
 * dropped patch grey. Sizes 2 and 4 give exact halves, 3 none. */
static void
test_group_mean_double (void)
{
  g_autoptr (TsImage) image = ts_test_noisy_gradient (8, 6, 3, 60);
  static const int groups[12] = { 0, 1, 2, 2, 3, 1, 4, 2, 3, 3, 3, -1 };
  TsGrid grid;
  g_autoptr (TsFeatures) f = features_of (image, &grid, 2);
  g_autoptr (TsAssignment) a = ts_assignment_new (12, 5, f->d, NULL);
  g_autoptr (TsImage) rec = NULL;

  memcpy (a->groups, groups, sizeof groups);
  ts_assignment_fill_group_means (a, f);
  rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  g_assert_nonnull (rec);
  for (int i = 0; i < 12; i++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 2; x++)
        for (int c = 0; c < 3; c++)
          {
            TsRect r = ts_grid_patch_rect (&grid, i);
            double sum = 0, expect = 128;
            int n = 0;
            for (int j = 0; j < 12; j++)
              if (groups[i] >= 0 && groups[j] == groups[i])
                {
                  TsRect q = ts_grid_patch_rect (&grid, j);
                  sum += image->data[((q.y + y) * 8 + q.x + x) * 3 + c];
                  n++;
                }
            if (n > 0)
              expect = nearbyint (sum / n);
            g_assert_cmpint (rec->data[((r.y + y) * 8 + r.x + x) * 3 + c], ==, (int) expect);
          }
}

/* Feature retention against its definition in double arithmetic (every
 * cosine from scratch), with tokens of several sizes, an empty token and
 * dropped patches; the variant with the norms given is the same double. */
static void
test_feature_retention_double (void)
{
  const int n = 37, d = 45, n_out = 9; /* d not a multiple of 8: the lanes' tail counts */
  g_autofree float *x = ts_test_lcg_matrix (n, d, 7);
  g_autofree float *t = ts_test_lcg_matrix (n_out, d, 8);
  g_autoptr (TsFeatures) f = ts_features_new (n, d, NULL);
  g_autoptr (TsAssignment) a = ts_assignment_new (n, n_out, d, NULL);
  g_autofree double *sq = NULL;
  double expect = 0;

  memcpy (f->data, x, sizeof (float) * n * d);
  memcpy (a->features, t, sizeof (float) * n_out * d);
  for (int i = 0; i < n; i++)
    a->groups[i] = i % 5 == 4 ? -1 : (i * 7) % (n_out - 1); /* token n_out - 1 stands for nothing */
  memset (a->features + (gsize) 3 * d, 0, sizeof (float) * d); /* a zero token: cosine 0 */
  for (int i = 0; i < n; i++)
    {
      double ab = 0, aa = 0, bb = 0;
      if (a->groups[i] < 0)
        continue;
      for (int j = 0; j < d; j++)
        {
          double u = x[i * d + j], v = a->features[a->groups[i] * d + j];
          ab += u * v, aa += u * u, bb += v * v;
        }
      expect += bb > 0 ? ab / sqrt (aa * bb) : 0;
    }
  expect /= n;
  g_assert_cmpfloat_with_epsilon (ts_feature_retention (f, a), expect, 1e-7);
  sq = ts_feature_sq_norms (f);
  g_assert_cmpfloat (ts_feature_retention_normed (f, sq, a), ==, ts_feature_retention (f, a));
}

static void
test_region_reconstruction (void)
{
  /* a flat image stays flat under any region resampling */
  g_autoptr (TsImage) image = ts_test_solid (28, 28, 40, 80, 120);
  TsGrid grid;
  g_autoptr (TsFeatures) f = features_of (image, &grid, 14);
  g_autoptr (TsAssignment) a = ts_assignment_new (4, 1, f->d, NULL);
  g_autoptr (TsImage) rec = NULL;

  for (int i = 0; i < 4; i++)
    a->groups[i] = 0;
  a->recon = TS_RECON_REGION;
  a->regions = g_new (TsRect, 1);
  a->regions[0] = (TsRect){ 0, 0, 28, 28 };
  ts_assignment_fill_group_means (a, f);
  g_assert_true (ts_assignment_validate (a, &grid, NULL));
  rec = ts_reconstruct (image, &grid, a, TS_DROP_FILL_GREY, NULL);
  g_assert_true (ts_image_equal (rec, image));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quality/ssim/skimage-golden", test_ssim_golden);
  g_test_add_func ("/quality/psnr/skimage-golden", test_psnr_golden);
  g_test_add_func ("/quality/identical", test_identical);
  g_test_add_func ("/quality/psnr/hand", test_psnr_hand);
  g_test_add_func ("/quality/size-mismatch", test_size_mismatch);
  g_test_add_func ("/quality/ssim/constant-shift", test_ssim_constant_shift);
  g_test_add_func ("/quality/reconstruct/identity", test_identity_reconstruction);
  g_test_add_func ("/quality/reconstruct/group-mean", test_group_mean_reconstruction);
  g_test_add_func ("/quality/reconstruct/rounding-ties", test_rounding_ties);
  g_test_add_func ("/quality/reconstruct/dropped-fill", test_dropped_fill);
  g_test_add_func ("/quality/reconstruct/region", test_region_reconstruction);
  g_test_add_func ("/quality/feature-retention/double", test_feature_retention_double);
  g_test_add_func ("/quality/reconstruct/group-mean-double", test_group_mean_double);
  return g_test_run ();
}
