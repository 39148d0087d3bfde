/* bench-attention: time feature attention, pruning, resampling and k-means on a
 * 672 x 672 image at patch 14 (2304 tokens, D 588), medians of repeated runs,
 * next to one SGEMM of the same shape for scale.
 *
 *   meson test -C build --benchmark bench-attention -v
 *   build/tests/bench-attention [IMAGE] [--size S] [--runs R] [--features pixel|descriptor]
 * Without IMAGE a deterministic noisy gradient is used (timings only). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts-test-util.h"

static int runs = 5;

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
bench_method (const TsScene *scene, const char *name, int tokens, double ratio)
{
  const TsMethod *m = ts_method_find (name, NULL);
  double t[64];
  int n_out = 0;
  double ssim = 0;

  for (int r = 0; r < runs; r++)
    {
      TsMethodParams p;
      gint64 t0;
      g_autoptr (GError) error = NULL;
      g_autoptr (TsAssignment) a = NULL;
      ts_method_params_init (&p);
      p.tokens = tokens;
      p.ratio = ratio;
      t0 = g_get_monotonic_time ();
      a = ts_method_run (m, scene, &p, NULL, &error);
      t[r] = (g_get_monotonic_time () - t0) / 1e6;
      if (a == NULL)
        {
          printf ("%-28s error: %s\n", name, error->message);
          return;
        }
      n_out = a->n_out;
      if (r == 0)
        {
          g_autoptr (TsImage) rec = ts_reconstruct (scene->image, &scene->grid, a, p.fill, NULL);
          ssim = ts_ssim (scene->image, rec);
        }
    }
  printf ("%-12s %-14s %6d tokens  %9.4f s  (ssim %.4f)\n", name, tokens ? "" : "ratio 4", n_out, median (t, runs), ssim);
}

static void
bench_map (const TsScene *scene, TsAttentionMode mode)
{
  g_autofree float *map = g_new (float, scene->grid.tokens);
  double t[64];

  for (int r = 0; r < runs; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      ts_attention_map (scene->normalized, mode, scene->grid.tokens / 2, 0.1, map, NULL, NULL);
      t[r] = (g_get_monotonic_time () - t0) / 1e6;
    }
  printf ("attention    %-14s %6d tokens  %9.4f s\n", ts_attention_mode_name (mode), scene->grid.tokens,
          median (t, runs));
}

int
main (int argc, char **argv)
{
  g_autofree char *features = NULL;
  int size = 672;
  GOptionEntry entries[] = {
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Square size (default 672)", "S" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Repetitions (default 5)", "R" },
    { "features", 0, 0, G_OPTION_ARG_STRING, &features, "pixel (default) or descriptor", "KIND" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[IMAGE]");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) src = NULL;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsScene) scene = NULL;
  TsResize resize = { TS_RESIZE_SQUARE, 0 };
  TsFeatureKind kind = TS_FEATURES_PIXEL;
  TsFeatures *f = NULL;
  TsGrid grid;
  int n, d;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  runs = CLAMP (runs, 1, 64);
  resize.size = size;
  src = argc > 1 ? ts_image_load (argv[1], NULL, &error) : ts_test_noisy (ts_test_gradient (size, size), 1, 40);
  if (src == NULL || (image = ts_resize_apply (src, &resize, 14, &error)) == NULL ||
      !ts_grid_init (&grid, image->width, image->height, 14, &error))
    {
      fprintf (stderr, "bench-attention: %s\n", error->message);
      return 1;
    }
  if (features != NULL && strcmp (features, "descriptor") == 0)
    {
      kind = TS_FEATURES_DESCRIPTOR;
      f = ts_features_descriptor (image, &grid, NULL);
    }
  scene = ts_scene_new (g_steal_pointer (&image), 14, kind, f, &error);
  n = scene->grid.tokens;
  d = scene->features->d;
  printf ("OpenBLAS core %s; %s, %d x %d at patch 14: %d tokens, D %d; median of %d runs\n",
          openblas_get_corename (), argc > 1 ? argv[1] : "synthetic gradient", size, size, n, d, runs);

  {
    /* scale: one SGEMM of N x N/4 x D, the distance pass of 576 queries */
    int k = MAX (n / 4, 1);
    g_autofree float *c = g_new (float, (gsize) n * k);
    double t[64];
    for (int r = 0; r < runs; r++)
      {
        gint64 t0 = g_get_monotonic_time ();
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, k, d, 1.0f, scene->normalized->data, d,
                     scene->normalized->data, d, 0.0f, c, k);
        t[r] = (g_get_monotonic_time () - t0) / 1e6;
      }
    printf ("sgemm        %d x %d x %-6d              %9.4f s  (%.1f GFLOP/s)\n", n, k, d, median (t, runs),
            2.0 * n * k * d / median (t, runs) / 1e9);
  }
  for (int m = TS_ATTENTION_QUERY; m <= TS_ATTENTION_RECEIVED; m++)
    bench_map (scene, m);
  bench_method (scene, "prune", 0, 4);
  bench_method (scene, "visionzip", 0, 4);
  bench_method (scene, "prumerge", 0, 4);
  bench_method (scene, "resample", TS_RESAMPLE_QFORMER, 0);
  bench_method (scene, "resample", TS_RESAMPLE_PERCEIVER, 0);
  bench_method (scene, "resample", 0, 4);
  {
    double t[64];
    int k = MIN (256, n);
    for (int r = 0; r < runs; r++)
      {
        TsKMeansOptions o;
        gint64 t0;
        g_autoptr (TsKMeans) km = NULL;
        ts_kmeans_options_init (&o);
        t0 = g_get_monotonic_time ();
        km = ts_kmeans (scene->normalized->data, n, d, k, &o, NULL, NULL);
        t[r] = (g_get_monotonic_time () - t0) / 1e6;
      }
    printf ("kmeans       k %-12d %6d tokens  %9.4f s\n", k, n, median (t, runs));
  }
  return 0;
}
