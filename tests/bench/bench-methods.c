/* bench-methods: speed of the compression methods and SSIM (issue 3).
 *
 *   bench-methods [--repeat K] [--export DIR] [IMAGE]
 *       672 x 672 at P 14 (2304 tokens, pixel features D 588): ToMe and greedy
 *       to 576, every registered method at ratio 4, SSIM of 672^2, and for
 *       scale the dense A x B^T cblas_sgemm calls of ToMe's schedule (FLOPs:
 *       see time_sgemm). Each line: the median wall time, the median process
 *       CPU time (all threads; with OPENBLAS_NUM_THREADS=1 the work done), the
 *       fastest and the slowest of K runs (default 7). --export writes features.npy, image.png, recon.png and
 *       tome_groups.txt for tests/bench/tome_torch.py. --method tome: ToMe
 *       only (and the export).
 *   bench-methods --large [--method NAME] [--adjacent-only] [IMAGE]
 *       4096 x 4096 at P 14 (85264 tokens): every method (or one) at ratio 4,
 *       once, with seconds and the peak RSS so far. For a per-method peak run
 *       one method per process under /usr/bin/time -v.
 * Without IMAGE a deterministic synthetic picture is used. The machine is
 * shared: read medians, not single runs. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ts-test-util.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* CPU seconds of the whole process (all threads): steadier than wall time
 * on a shared machine; with OPENBLAS_NUM_THREADS=1 it is the work done. */
static double
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static long
peak_rss_mb (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

static TsImage *
bench_image (const char *path, int side)
{
  g_autoptr (TsImage) src = NULL;

  if (path != NULL)
    {
      g_autoptr (GError) error = NULL;
      src = ts_image_load (path, NULL, &error);
      if (src == NULL)
        {
          fprintf (stderr, "bench-methods: %s\n", error->message);
          exit (2);
        }
    }
  else
    {
      g_autoptr (TsImage) base = ts_test_gradient (side, side);
      src = ts_test_noisy (base, 1, 40);
    }
  return ts_image_resample (src, side, side);
}

typedef TsAssignment *(*RunFunc) (const TsScene *scene, gpointer data);

static TsAssignment *
run_tome (const TsScene *scene, gpointer data)
{
  return ts_tome (scene, 576, 0, 0, NULL, NULL);
}

static TsAssignment *
run_greedy (const TsScene *scene, gpointer data)
{
  return ts_greedy (scene, 576, GPOINTER_TO_INT (data), 0, NULL, NULL);
}

static gboolean adjacent_only;

static TsAssignment *
run_method (const TsScene *scene, gpointer data)
{
  TsMethodParams p;
  g_autoptr (GError) error = NULL;
  TsAssignment *a;

  ts_method_params_init (&p);
  p.ratio = 4;
  p.adjacent_only = adjacent_only;
  /* cold: nothing from an earlier run (ToMe keeps its scoring in the scene's memo) */
  ts_scene_memo_clear (scene);
  a = ts_method_run (data, scene, &p, NULL, &error);
  if (a == NULL)
    fprintf (stderr, "  %s: %s\n", ((const TsMethod *) data)->name, error->message);
  return a;
}

typedef struct {
  double wall, cpu, wall_min, wall_max; /* medians; the fastest and slowest run's wall time */
} Timing;

static Timing
timing_of (double *wall, double *cpu, int repeat)
{
  Timing t = { 0, 0, INFINITY, 0 };

  for (int k = 0; k < repeat; k++)
    {
      t.wall_min = MIN (t.wall_min, wall[k]);
      t.wall_max = MAX (t.wall_max, wall[k]);
    }
  t.wall = median (wall, repeat);
  t.cpu = median (cpu, repeat);
  return t;
}

static Timing
time_it (const char *label, RunFunc f, const TsScene *scene, gpointer data, int repeat)
{
  g_autofree double *wall = g_new (double, repeat);
  g_autofree double *cpu = g_new (double, repeat);
  int out = -1;
  Timing t;

  /* OpenBLAS's threads spin for about 0.1 s after a multi-threaded call
   * (THREAD_TIMEOUT, 2^28 cycles) on the cores the next timing needs:
   * every timing starts once they sleep */
  g_usleep (300000);
  for (int k = 0; k < repeat; k++)
    {
      double t0 = now (), c0 = cpu_now ();
      g_autoptr (TsAssignment) a = f (scene, data);
      wall[k] = now () - t0;
      cpu[k] = cpu_now () - c0;
      if (a == NULL)
        return (Timing){ NAN, NAN, NAN, NAN };
      out = a->n_out;
    }
  t = timing_of (wall, cpu, repeat);
  printf ("%-30s %8.2f ms  cpu %8.2f  min %8.2f  max %8.2f  (%d -> %d tokens)\n", label, t.wall * 1e3, t.cpu * 1e3,
          t.wall_min * 1e3, t.wall_max * 1e3, scene->grid.tokens, out);
  return t;
}

/* The dense score products of ToMe's schedule from @n to @target tokens
 * (r = min(n - target, n / 2) per step, REFERENCE 3): one |A| x d by
 * d x |B| cblas_sgemm per step, |A| = ceil(n / 2), |B| = floor(n / 2), the
 * products the official algorithm (and tome_torch.py) computes in full.
 * FLOPs = sum over steps of 2 |A| |B| d; 2304 -> 576 at d 588: 1152^2 then
 * 576^2, 1.95 GFLOP. ToMe's other work (normalising, argmax, sorting,
 * merging) is O(n d) per step and not counted. */
static Timing
time_sgemm (int n, int target, int d, int repeat, double *flops)
{
  int na0 = (n + 1) / 2, nb0 = n / 2;
  g_autofree float *a = g_new (float, (gsize) na0 * d);
  g_autofree float *b = g_new (float, (gsize) nb0 * d);
  g_autofree float *c = g_new (float, (gsize) na0 * nb0);
  g_autofree double *wall = g_new (double, repeat);
  g_autofree double *cpu = g_new (double, repeat);

  for (gsize i = 0; i < (gsize) na0 * d; i++)
    a[i] = (float) sin ((double) i);
  for (gsize i = 0; i < (gsize) nb0 * d; i++)
    b[i] = (float) cos ((double) i);
  *flops = 0;
  for (int m = n; m > target; m -= MIN (m - target, m / 2))
    *flops += 2.0 * ((m + 1) / 2) * (m / 2) * d;
  for (int k = 0; k < repeat; k++)
    {
      double t0 = now (), c0 = cpu_now ();
      for (int m = n; m > target; m -= MIN (m - target, m / 2))
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (m + 1) / 2, m / 2, d, 1.0f, a, d, b, d, 0.0f, c, m / 2);
      wall[k] = now () - t0;
      cpu[k] = cpu_now () - c0;
    }
  return timing_of (wall, cpu, repeat);
}

/* features.npy, image.png, recon.png (of the ToMe result) and
 * tome_groups.txt (each patch's ToMe token, one a line) for tome_torch.py. */
static gboolean
export (const char *dir, const TsScene *scene, const TsAssignment *tome, const TsImage *recon)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *f = g_build_filename (dir, "features.npy", NULL);
  g_autofree char *i1 = g_build_filename (dir, "image.png", NULL);
  g_autofree char *i2 = g_build_filename (dir, "recon.png", NULL);
  g_autofree char *gpath = g_build_filename (dir, "tome_groups.txt", NULL);
  g_autoptr (GString) groups = g_string_new (NULL);

  for (int i = 0; i < tome->n_in; i++)
    g_string_append_printf (groups, "%d\n", tome->groups[i]);
  g_mkdir_with_parents (dir, 0755);
  if (!ts_features_save_npy (scene->features, f, &error) || !ts_image_save_png (scene->image, i1, &error) ||
      !ts_image_save_png (recon, i2, &error) || !ts_file_write (gpath, groups->str, groups->len, &error))
    {
      fprintf (stderr, "bench-methods: %s\n", error->message);
      return FALSE;
    }
  printf ("exported %s, %s, %s, %s\n", f, i1, i2, gpath);
  return TRUE;
}

static int
bench_672 (const char *path, int repeat, const char *export_dir, const char *only)
{
  g_autoptr (GError) error = NULL;
  TsImage *img = bench_image (path, 672);
  g_autoptr (TsScene) scene = ts_scene_new (img, 14, TS_FEATURES_PIXEL, NULL, &error);
  guint n;
  const TsMethod *const *methods = ts_methods (&n);
  Timing tome, tome_reg = { NAN, NAN, NAN, NAN }, sgemm;
  double flops, ssim_t;
  g_autoptr (TsAssignment) tome_result = NULL;
  g_autoptr (TsImage) recon = NULL;

  if (scene == NULL)
    {
      fprintf (stderr, "bench-methods: %s\n", error->message);
      return 2;
    }
  printf ("672 x 672 at patch 14: %d tokens, D %d (pixel features)%s\n\n", scene->grid.tokens, scene->features->d,
          path ? "" : ", synthetic image");
  sgemm = time_sgemm (scene->grid.tokens, 576, scene->features->d, repeat, &flops);
  printf ("%-30s %8.2f ms  cpu %8.2f  min %8.2f  max %8.2f  (%.2f GFLOP, %.1f GFLOP/s at the min)\n",
          "sgemm, ToMe's dense shapes", sgemm.wall * 1e3, sgemm.cpu * 1e3, sgemm.wall_min * 1e3, sgemm.wall_max * 1e3,
          flops / 1e9, flops / sgemm.wall_min / 1e9);
  tome = time_it ("tome 2304 -> 576", run_tome, scene, NULL, repeat);
  tome_result = ts_tome (scene, 576, 0, 0, NULL, NULL);
  recon = ts_reconstruct (scene->image, &scene->grid, tome_result, TS_DROP_FILL_GREY, NULL);
  printf ("%-30s %8.2f x   cpu %8.2f  min %8.2f  max %8.2f x  (target <= 3)\n", "  tome / sgemm",
          tome.wall / sgemm.wall, tome.cpu / sgemm.cpu, tome.wall_min / sgemm.wall_min, tome.wall_max / sgemm.wall_min);
  if (export_dir != NULL && !export (export_dir, scene, tome_result, recon))
    return 2;
  if (only != NULL)
    return 0;
  time_it ("greedy 2304 -> 576", run_greedy, scene, GINT_TO_POINTER (0), repeat);
  time_it ("greedy adjacent 2304 -> 576", run_greedy, scene, GINT_TO_POINTER (1), repeat);
  printf ("\nevery registered method at ratio 4:\n");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *label = g_strdup_printf ("  %s", methods[i]->name);
      Timing t = time_it (label, run_method, scene, (gpointer) methods[i], repeat);
      if (strcmp (methods[i]->name, "tome") == 0)
        tome_reg = t;
    }
  printf ("%-30s %8.2f x   cpu %8.2f  min %8.2f  max %8.2f x  (target <= 3)\n", "  registry tome / sgemm",
          tome_reg.wall / sgemm.wall, tome_reg.cpu / sgemm.cpu, tome_reg.wall_min / sgemm.wall_min,
          tome_reg.wall_max / sgemm.wall_min);
  {
    g_autofree double *t = g_new (double, repeat);
    g_autofree double *x = ts_image_luma (scene->image);
    g_autofree double *y = ts_image_luma (recon);
    double s = 0;
    for (int k = 0; k < repeat; k++)
      {
        double t0 = now ();
        s = ts_ssim_luma (x, y, 672, 672, NULL);
        t[k] = now () - t0;
      }
    ssim_t = median (t, repeat);
    printf ("\n%-30s %8.2f ms   (SSIM %.6f of the ToMe reconstruction, luma given)\n", "ssim 672 x 672", ssim_t * 1e3,
            s);
  }
  return 0;
}

static int
bench_large (const char *path, const char *only)
{
  g_autoptr (GError) error = NULL;
  double t0 = now ();
  TsImage *img = bench_image (path, 4096);
  g_autoptr (TsScene) scene = ts_scene_new (img, 14, TS_FEATURES_PIXEL, NULL, &error);
  guint n;
  const TsMethod *const *methods = ts_methods (&n);

  if (scene == NULL)
    {
      fprintf (stderr, "bench-methods: %s\n", error->message);
      return 2;
    }
  printf ("4096 x 4096 at patch 14: %d tokens, D %d; scene ready in %.1f s, peak RSS %ld MB\n", scene->grid.tokens,
          scene->features->d, now () - t0, peak_rss_mb ());
  for (guint i = 0; i < n; i++)
    {
      double t1;
      g_autoptr (TsAssignment) a = NULL;
      if (only != NULL && strcmp (only, methods[i]->name) != 0)
        continue;
      t1 = now ();
      a = run_method (scene, (gpointer) methods[i]);
      printf ("  %-12s %10.2f s   %s %d tokens, peak RSS so far %ld MB\n", methods[i]->name, now () - t1,
              a ? "->" : "FAILED", a ? a->n_out : 0, peak_rss_mb ());
      fflush (stdout);
    }
  return 0;
}

int
main (int argc, char **argv)
{
  gboolean large = FALSE;
  int repeat = 7;
  g_autofree char *only = NULL;
  g_autofree char *export_dir = NULL;
  g_autoptr (GOptionContext) context = g_option_context_new ("[IMAGE]");
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "large", 0, 0, G_OPTION_ARG_NONE, &large, "4096 x 4096 at P 14 (85264 tokens)", NULL },
    { "method", 0, 0, G_OPTION_ARG_STRING, &only, "Only this method (672: tome stops after ToMe)", "NAME" },
    { "adjacent-only", 0, 0, G_OPTION_ARG_NONE, &adjacent_only, "--large: greedy merges adjacent groups only", NULL },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Runs per median (default 7)", "K" },
    { "export", 0, 0, G_OPTION_ARG_FILENAME, &export_dir, "Write features.npy, image.png, recon.png, tome_groups.txt here", "DIR" },
    G_OPTION_ENTRY_NULL
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 2 || repeat < 1)
    {
      fprintf (stderr, "bench-methods: %s\n", error ? error->message : "bad arguments");
      return 1;
    }
  printf ("OpenBLAS core: %s, %d threads\n", openblas_get_corename (), openblas_get_num_threads ());
  return large ? bench_large (argc > 1 ? argv[1] : NULL, only) : bench_672 (argc > 1 ? argv[1] : NULL, repeat, export_dir, only);
}
