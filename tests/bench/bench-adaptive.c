/* bench-adaptive: adaptive quadtree patching and temporal redundancy timings.
 *
 *   meson test -C build --benchmark bench-adaptive -v
 *   build/tests/bench-adaptive [IMAGE] [--size S] [--runs R] [--big] [--clip GIF|DIR]
 *
 * Adaptive: a S x S image (default 672, patch 14: 2304 tokens) to 576 tokens
 * with each detail score, and the entropy-threshold mode; medians of R runs
 * of ts_adaptive alone (the scene's features are built once, outside the
 * timing) and SSIM of the reconstruction. --big adds 4096 x 4096 (85264
 * tokens) to 21316. Temporal: seconds per frame over a clip (default: 30
 * synthetic 672 x 672 frames with a moving square). Without IMAGE a
 * deterministic noisy gradient is used (timings only). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts-test-util.h"

static int runs = 7;

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void
bench_adaptive (const TsScene *scene, const char *label, const TsAdaptiveOptions *o)
{
  double t[64];
  int n_out = 0;
  double ssim = 0;

  for (int r = 0; r < runs; r++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TsAssignment) a = NULL;
      gint64 t0 = g_get_monotonic_time ();
      a = ts_adaptive (scene, o, NULL, &error);
      t[r] = (g_get_monotonic_time () - t0) / 1e6;
      if (a == NULL)
        {
          printf ("%-24s error: %s\n", label, error->message);
          return;
        }
      n_out = a->n_out;
      if (r == 0)
        {
          g_autoptr (TsImage) rec = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_NEAREST, NULL);
          ssim = ts_ssim (scene->image, rec);
        }
    }
  printf ("adaptive %-22s %6d -> %6d tokens  %8.2f ms  (ssim %.4f)\n", label, scene->grid.tokens, n_out,
          median (t, runs) * 1e3, ssim);
}

static void
bench_scene (TsImage *image, int budget)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsScene) scene = ts_scene_new (image, 14, TS_FEATURES_PIXEL, NULL, &error);
  static const char *names[] = { "blur", "entropy", "gradient" };

  if (scene == NULL)
    {
      printf ("error: %s\n", error->message);
      return;
    }
  printf ("image %d x %d, patch 14: %d tokens\n", scene->grid.width, scene->grid.height, scene->grid.tokens);
  for (int d = TS_DETAIL_BLUR_ERROR; d <= TS_DETAIL_GRADIENT; d++)
    {
      TsAdaptiveOptions o = { .detail = d, .budget = budget };
      bench_adaptive (scene, names[d], &o);
    }
  {
    TsAdaptiveOptions o = { .n_thresholds = 1, .thresholds = { 6.0 } };
    bench_adaptive (scene, "entropy threshold 6", &o);
  }
}

static GPtrArray *
synthetic_clip (void)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) ts_image_free);
  g_autoptr (TsImage) base = ts_test_gradient (672, 672);

  for (int t = 0; t < 30; t++)
    {
      TsImage *f = ts_image_copy (base);
      for (int y = 200; y < 300; y++)
        memset (f->data + ((gsize) y * 672 + 100 + 9 * t) * 3, 255, 100 * 3);
      g_ptr_array_add (frames, f);
    }
  return frames;
}

static void
bench_temporal (const char *clip)
{
  g_autoptr (GPtrArray) frames = NULL;
  g_autoptr (GError) error = NULL;
  TsTemporalOptions o;
  double t[64];
  g_autoptr (TsTemporalResult) last = NULL;

  if (clip != NULL)
    {
      g_autoptr (TsMedia) media = ts_media_load_any (clip, NULL, &error);
      TsResize resize = { TS_RESIZE_NATIVE, 0 };
      if (media != NULL)
        frames = ts_temporal_prepare (media, &resize, 14, NULL, &error);
    }
  else
    frames = synthetic_clip ();
  if (frames == NULL)
    {
      printf ("temporal error: %s\n", error->message);
      return;
    }
  ts_temporal_options_init (&o);
  for (int f = TS_FEATURES_PIXEL; f <= TS_FEATURES_DESCRIPTOR; f++)
    {
      o.features = f;
      for (int r = 0; r < MIN (runs, 3); r++)
        {
          gint64 t0 = g_get_monotonic_time ();
          g_clear_pointer (&last, ts_temporal_result_free);
          last = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, 14, &o, NULL, NULL, NULL, &error);
          t[r] = (g_get_monotonic_time () - t0) / 1e6;
          if (last == NULL)
            {
              printf ("temporal error: %s\n", error->message);
              return;
            }
        }
      printf ("temporal %-10s %u frames of %d x %d (%d tokens): %.2f ms a frame, clip CR %.2f\n",
              ts_feature_kind_name (f), frames->len, last->grid.width, last->grid.height, last->grid.tokens,
              median (t, MIN (runs, 3)) / frames->len * 1e3, last->clip_ratio);
    }
}

int
main (int argc, char **argv)
{
  const char *path = NULL;
  const char *clip = NULL;
  gboolean big = FALSE;
  int size = 672;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--runs") == 0 && i + 1 < argc)
        {
          int r = atoi (argv[++i]); /* CLAMP evaluates its argument more than once */
          runs = CLAMP (r, 1, 64);
        }
      else if (strcmp (argv[i], "--size") == 0 && i + 1 < argc)
        size = atoi (argv[++i]);
      else if (strcmp (argv[i], "--clip") == 0 && i + 1 < argc)
        clip = argv[++i];
      else if (strcmp (argv[i], "--big") == 0)
        big = TRUE;
      else
        path = argv[i];
    }
  printf ("OpenBLAS core: %s\n", openblas_get_corename ());
  {
    TsImage *image;
    if (path != NULL)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (TsImage) src = ts_image_load (path, NULL, &error);
        if (src == NULL)
          {
            fprintf (stderr, "bench-adaptive: %s\n", error->message);
            return 1;
          }
        image = ts_image_resample (src, size, size);
      }
    else
      {
        g_autoptr (TsImage) g = ts_test_gradient (size, size);
        image = ts_test_noisy (g, 1, 25);
      }
    TsImage *large = big ? ts_image_resample (image, 4096, 4096) : NULL;
    bench_scene (image, (size / 14) * (size / 14) / 4); /* takes the image */
    if (large != NULL)
      bench_scene (large, 21316);
  }
  bench_temporal (clip);
  return 0;
}
