/* bench-analysis: the speed targets of the analysis issue.
 *   1. a sweep of every registered method x ratios 1 2 4 8 16 32 with all metrics
 *      on a 672 x 672 image at patch 14 (2304 tokens): target <= 320 ms on 2 cores;
 *   2. k-means token entropy, k 256, at most I iterations, on the same tokens:
 *      at least 5x faster than sklearn's KMeans doing the same (compare with
 *      tests/bench/kmeans_sklearn.py, which runs sklearn on the features exported
 *      here as .npy, from the k-means++ seeds exported here, or runs this program
 *      itself between its own runs with --ours).
 * Usage: bench-analysis [IMAGE] [--repeat N] [--iterations I] [--export-npy FILE]
 *                       [--export-init FILE] [--per-method] [--kmeans-only] [--sweep-only]
 * --per-method adds each method's CPU time over its 6 points (one thread; the
 * always-included downsample baseline subtracted): shares, robust to load.
 * --kmeans-only skips the sweep, --sweep-only the k-means. The scene's Gram
 * matrix (built once per sweep for the methods that read it) is timed apart
 * in --per-method, not charged to each of those methods.
 * Without IMAGE a deterministic photo-like test picture is used. Reports the
 * median and min of N runs (a shared machine: medians, not best cases), each
 * sweep cold (the scene's memo cleared first, as for a new image). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core.h"


static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* CPU seconds of the whole process (all threads): less distorted by other users than wall time. */
static double
cpu_seconds (void)
{
  struct rusage u;
  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static TsImage *
synthetic (int size)
{
  TsImage *im = ts_image_new (size, size);
  guint32 s = 12345;

  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        guint8 *p = im->data + 3 * ((gsize) y * size + x);
        s = s * 1664525u + 1013904223u;
        p[0] = (guint8) CLAMP (128 + 100 * sin (x / 37.0) * cos (y / 23.0) + (int) (s >> 28) - 8, 0, 255);
        p[1] = (guint8) CLAMP ((x * y) / 1800 + (int) ((s >> 20) & 15), 0, 255);
        p[2] = (guint8) CLAMP (((x / 42 + y / 42) % 2) * 160 + 40 + (int) ((s >> 12) & 15), 0, 255);
      }
  return im;
}

/* ts_entropy_compute with k 256 and at most @iterations Lloyd iterations:
 * wall and CPU milliseconds, the iterations run. */
static TsEntropy *
time_entropy (const TsScene *scene, int iterations, double *wall, double *cpu, GError **error)
{
  TsEntropyOptions eo;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  TsEntropy *e;

  ts_entropy_options_init (&eo);
  eo.k = 256;
  eo.iterations = iterations;
  e = ts_entropy_compute (scene, &eo, NULL, error);
  *wall = (g_get_monotonic_time () - t0) / 1e3;
  *cpu = (cpu_seconds () - c0) * 1e3;
  return e;
}

/* Target 2: ts_entropy_compute's k-means (k 256, classic k-means++ with one
 * candidate per centre, tol 1e-4, at most @iterations Lloyd iterations), its
 * seeding alone, and the same with one Lloyd iteration, so that the cost of
 * the further iterations shows apart from the fixed costs; @init_npy: the
 * seeds written for kmeans_sklearn.py, so that sklearn's Lloyd starts from
 * the same centres. */
static gboolean
bench_kmeans (const TsScene *scene, int repeat, int iterations, const char *init_npy, GError **error)
{
  const TsFeatures *f = scene->normalized;
  g_autofree double *wall = g_new (double, repeat);
  g_autofree double *cpu = g_new (double, repeat);
  g_autofree double *seed = g_new (double, repeat);
  g_autofree double *one = g_new (double, repeat);
  g_autofree float *centres = g_new (float, (gsize) 256 * f->d);
  TsKMeansOptions ko;
  int ran = 0;

  /* The k-means options ts_entropy_compute passes (its default seed 0). */
  ts_kmeans_options_init (&ko);
  ko.n_local_trials = 1;
  for (int r = 0; r < repeat; r++)
    {
      g_autoptr (TsEntropy) e = time_entropy (scene, iterations, &wall[r], &cpu[r], error);
      g_autoptr (TsEntropy) e1 = NULL;
      gint64 t0;
      double unused;
      if (e == NULL)
        return FALSE;
      t0 = g_get_monotonic_time ();
      if (!ts_kmeans_seed (f->data, f->n, f->d, 256, &ko, centres, NULL, error))
        return FALSE;
      seed[r] = (g_get_monotonic_time () - t0) / 1e3;
      if ((e1 = time_entropy (scene, 1, &one[r], &unused, error)) == NULL)
        return FALSE;
      if (r == 0)
        printf ("entropy: %.3f bits/token, %d clusters, %d Lloyd iterations\n", e->bits_per_token, e->clusters,
                e->iterations);
      ran = e->iterations;
    }
  qsort (wall, repeat, sizeof (double), cmp_double);
  qsort (cpu, repeat, sizeof (double), cmp_double);
  qsort (seed, repeat, sizeof (double), cmp_double);
  qsort (one, repeat, sizeof (double), cmp_double);
  printf ("k-means entropy k 256, max %d iterations: median %.1f ms, min %.1f ms over %d runs\n", iterations,
          wall[repeat / 2], wall[0], repeat);
  printf ("k-means entropy CPU time (all threads): median %.1f ms; OpenBLAS %s, %d threads\n", cpu[repeat / 2],
          openblas_get_corename (), openblas_get_num_threads ());
  printf ("k-means split: seeding alone median %.1f ms; the rest (Lloyd, final labels, entropy) %.1f ms"
          " = %.2f ms per Lloyd iteration (%d iterations)\n",
          seed[repeat / 2], wall[repeat / 2] - seed[repeat / 2], (wall[repeat / 2] - seed[repeat / 2]) / MAX (ran, 1),
          ran);
  if (ran > 1)
    printf ("k-means further iterations: one iteration alone median %.1f ms; (T(%d) - T(1)) / %d = %.2f ms"
            " per further Lloyd iteration\n",
            one[repeat / 2], ran, ran - 1, (wall[repeat / 2] - one[repeat / 2]) / (ran - 1));
  if (init_npy != NULL)
    {
      gint64 shape[2] = { 256, f->d };
      if (!ts_npy_write (init_npy, centres, 2, shape, error))
        return FALSE;
      printf ("k-means++ seeds written to %s for kmeans_sklearn.py --init-npy\n", init_npy);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  const char *path = NULL, *npy = NULL, *init_npy = NULL;
  gboolean per_method = FALSE, kmeans_only = FALSE, sweep_only = FALSE;
  int repeat = 7, iterations = 20;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (GError) error = NULL;
  double *times, *cpu;
  TsSweepOptions o;
  guint n_methods;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--repeat") == 0 && i + 1 < argc)
        repeat = atoi (argv[++i]);
      else if (strcmp (argv[i], "--iterations") == 0 && i + 1 < argc)
        iterations = atoi (argv[++i]);
      else if (strcmp (argv[i], "--kmeans-only") == 0)
        kmeans_only = TRUE;
      else if (strcmp (argv[i], "--sweep-only") == 0)
        sweep_only = TRUE;
      else if (strcmp (argv[i], "--per-method") == 0)
        per_method = TRUE;
      else if (strcmp (argv[i], "--export-npy") == 0 && i + 1 < argc)
        npy = argv[++i];
      else if (strcmp (argv[i], "--export-init") == 0 && i + 1 < argc)
        init_npy = argv[++i];
      else
        path = argv[i];
    }
  repeat = MAX (1, repeat);
  iterations = MAX (1, iterations);
  if (path != NULL)
    {
      TsResize r = { TS_RESIZE_SQUARE, 672 };
      g_autoptr (TsImage) loaded = ts_image_load (path, NULL, &error);
      if (loaded == NULL || (image = ts_resize_apply (loaded, &r, 14, &error)) == NULL)
        {
          fprintf (stderr, "bench-analysis: %s\n", error->message);
          return 2;
        }
    }
  else
    image = synthetic (672);
  scene = ts_scene_new (ts_image_copy (image), 14, TS_FEATURES_PIXEL, NULL, &error);
  if (scene == NULL)
    {
      fprintf (stderr, "bench-analysis: %s\n", error->message);
      return 2;
    }
  ts_methods (&n_methods);
  printf ("openblas core: %s, threads available: %u\n", openblas_get_corename (), g_get_num_processors ());
  {
    g_autofree char *load = NULL;
    if (g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
      printf ("load average (a shared machine makes every figure slower): %s", load);
  }
  printf ("image: %s, 672 x 672, patch 14, %d tokens, d %d\n", path ? path : "synthetic", scene->grid.tokens,
          scene->features->d);

  times = g_new (double, repeat);
  cpu = g_new (double, repeat);
  ts_sweep_options_init (&o);
  for (int r = 0; r < (kmeans_only ? 0 : repeat); r++)
    {
      double c0;
      g_autoptr (TsSweep) s = NULL;
      /* cold, as the first sweep of an image: nothing from an earlier run
       * (ToMe keeps its scoring in the scene's memo) */
      ts_scene_memo_clear (scene);
      c0 = cpu_seconds ();
      s = ts_sweep_run (scene, &o, NULL, &error);
      cpu[r] = (cpu_seconds () - c0) * 1e3;
      if (s == NULL)
        {
          fprintf (stderr, "bench-analysis: %s\n", error->message);
          return 2;
        }
      times[r] = s->seconds * 1e3;
      if (r == repeat - 1)
        for (int m = 0; m < s->n_curves; m++)
          {
            double total = 0;
            for (int i = 0; i < s->curves[m].n_points; i++)
              total += s->curves[m].points[i].seconds * 1e3;
            printf ("  %-11s %8.1f ms summed over its %d points (method + measurement), optimal %gx\n", s->curves[m].method, total,
                    s->curves[m].n_points, s->curves[m].optimal_ratio);
          }
    }
  qsort (times, repeat, sizeof (double), cmp_double);
  qsort (cpu, repeat, sizeof (double), cmp_double);
  if (!kmeans_only)
    {
      printf ("sweep CPU time (all threads): median %.1f ms\n", cpu[repeat / 2]);
      printf ("sweep: %u methods x 6 ratios, all metrics: median %.1f ms, min %.1f ms over %d runs (target <= 320 ms)\n",
              n_methods, times[repeat / 2], times[0], repeat);
    }

  if (per_method)
    {
      guint n;
      const TsMethod *const *all = ts_methods (&n);
      double base = 0, gram = 0;
      int blas = openblas_get_num_threads ();
      openblas_set_num_threads (1); /* as in a 2-thread sweep: CPU time without OpenBLAS's spinning */
      for (guint m = 0; m <= n; m++) /* m == n: the baseline alone, measured first */
        {
          const TsMethod *method = all[m == 0 ? 0 : m - 1];
          const char *names[2] = { m == 0 ? "downsample" : method->name, NULL };
          TsSweepOptions po = o;
          double c0, spent;
          if (m > 0 && strcmp (method->name, "downsample") == 0)
            continue;
          po.methods = names;
          po.threads = 1;
          c0 = cpu_seconds ();
          for (int r = 0; r < repeat; r++)
            {
              TsSweep *s;
              ts_scene_memo_clear (scene);
              if (method->flags & TS_METHOD_GRAM) /* shared by the methods that read it: apart */
                {
                  double g0 = cpu_seconds ();
                  ts_scene_gram (scene);
                  gram = (cpu_seconds () - g0) * 1e3;
                  c0 += cpu_seconds () - g0;
                }
              s = ts_sweep_run (scene, &po, NULL, &error);
              if (s == NULL)
                {
                  fprintf (stderr, "bench-analysis: %s\n", error->message);
                  return 2;
                }
              ts_sweep_free (s);
            }
          spent = (cpu_seconds () - c0) * 1e3 / repeat;
          if (m == 0)
            base = spent;
          printf ("  CPU %-11s %8.1f ms over its 6 points (method + measurement, one thread)\n", names[0],
                  m == 0 ? spent : spent - base);
        }
      printf ("  CPU %-11s %8.1f ms once per sweep for the methods flagged TS_METHOD_GRAM (one thread)\n", "Gram",
              gram);
      openblas_set_num_threads (blas);
    }

  if (!sweep_only && !bench_kmeans (scene, repeat, iterations, init_npy, &error))
    {
      fprintf (stderr, "bench-analysis: %s\n", error->message);
      return 2;
    }
  if (npy != NULL)
    {
      gint64 shape[2] = { scene->normalized->n, scene->normalized->d };
      if (!ts_npy_write (npy, scene->normalized->data, 2, shape, &error))
        {
          fprintf (stderr, "bench-analysis: %s\n", error->message);
          return 2;
        }
      printf ("features written to %s for kmeans_sklearn.py\n", npy);
    }
  g_free (times);
  g_free (cpu);
  return 0;
}
