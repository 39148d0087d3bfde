/* bench-vit: forward time of a ViT-B/16 at 224 (random weights, fp32) with 1
 * and 2 OpenBLAS threads; `--large` runs one ViT-L/14 forward at 336 for a
 * peak-RSS measurement (/usr/bin/time -v build/tests/bench-vit --large), with
 * weights made in memory or, with `--model FILE`, loaded from a .safetensors
 * file (tests/bench/make_random_vit.py clip-l14-336 FILE writes a random one).
 * Compare with tests/bench/vit_torch.py (same shapes, same thread counts).
 *
 *   meson test -C build --benchmark --print-errorlogs vit
 *   build/tests/bench-vit [--runs N] [--threads 1|2] [--large [--model FILE]]
 * (--threads: only that count, e.g. under perf record). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Median wall time of @runs forwards (ms); @cpu receives the median process CPU time,
 * which waiting for a busy machine's cores does not inflate. */
static double
median_forward (const TsVit *vit, const TsImage *image, int runs, double *cpu)
{
  double *t = g_new (double, runs), *c = g_new (double, runs), med;
  TsVitRunOptions opt;

  ts_vit_run_options_init (&opt);
  opt.layer = -1;
  opt.embedding = TRUE;
  for (int i = -1; i < runs; i++) /* one warm-up */
    {
      g_autoptr (GError) error = NULL;
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_ms ();
      TsVitOutput *out = ts_vit_run (vit, image, &opt, NULL, &error);
      if (out == NULL)
        g_error ("forward failed: %s", error->message);
      ts_vit_output_free (out);
      if (i >= 0)
        {
          t[i] = (g_get_monotonic_time () - t0) / 1e3;
          c[i] = cpu_ms () - c0;
        }
    }
  qsort (t, runs, sizeof *t, compare_double);
  qsort (c, runs, sizeof *c, compare_double);
  med = t[runs / 2];
  if (cpu != NULL)
    *cpu = c[runs / 2];
  g_free (t);
  g_free (c);
  return med;
}

int
main (int argc, char **argv)
{
  int runs = 7, only_threads = 0;
  gboolean large = FALSE;
  const char *model = NULL;
  g_autoptr (GError) error = NULL;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--large") == 0)
      large = TRUE;
    else if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
      only_threads = atoi (argv[++i]);
    else if (strcmp (argv[i], "--model") == 0 && i + 1 < argc)
      model = argv[++i];
    else if (strcmp (argv[i], "--runs") == 0 && i + 1 < argc)
      {
        runs = atoi (argv[++i]);
        runs = MAX (1, runs);
      }
  printf ("# OpenBLAS core: %s, config: %s\n", openblas_get_corename (), openblas_get_config ());
  if (large)
    {
      g_autoptr (TsVit) vit = model != NULL ? ts_vit_load (model, NULL, &error)
                                            : ts_vit_new_random (TS_VIT_FAMILY_CLIP, 14, 1024, 24, 16, 4096, 24, 1, &error);
      g_autoptr (TsImage) image = NULL;
      const TsVitInfo *in;
      int side;
      double ms;
      if (vit == NULL)
        g_error ("%s", error->message);
      in = ts_vit_info (vit);
      side = in->pos_rows * in->patch;
      image = ts_image_new (side, side);
      for (gsize i = 0; i < (gsize) side * side * 3; i++)
        image->data[i] = (guint8) (i * 7);
      openblas_set_num_threads (2);
      ms = median_forward (vit, image, 1, NULL);
      printf ("ViT (%s, patch %d, width %d, depth %d) @ %d (%d tokens, %.0f M parameters, %s): %.1f ms, 2 threads\n",
              ts_vit_family_name (in->family), in->patch, in->width, in->depth, side,
              in->pos_rows * in->pos_cols + in->n_prefix, in->parameters / 1e6, model != NULL ? model : "in memory",
              ms);
      return 0;
    }
  {
    g_autoptr (TsVit) vit = ts_vit_new_random (TS_VIT_FAMILY_TIMM, 16, 768, 12, 12, 3072, 14, 1, &error);
    g_autoptr (TsImage) image = ts_image_new (224, 224);
    if (vit == NULL)
      g_error ("%s", error->message);
    for (gsize i = 0; i < (gsize) 224 * 224 * 3; i++)
      image->data[i] = (guint8) (i * 7);
    printf ("# ViT-B/16 @ 224: 197 tokens, %.1f M parameters, fp32, median of %d runs\n",
            ts_vit_info (vit)->parameters / 1e6, runs);
    for (int threads = 1; threads <= 2; threads++)
      {
        double wall, cpu;
        if (only_threads > 0 && threads != only_threads)
          continue;
        openblas_set_num_threads (threads);
        wall = median_forward (vit, image, runs, &cpu);
        printf ("ViT-B/16 @ 224, %d thread%s: %.1f ms wall, %.1f ms CPU\n", threads, threads > 1 ? "s" : "", wall, cpu);
      }
  }
  return 0;
}
