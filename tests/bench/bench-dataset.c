/* bench-dataset: throughput of `tokenscope-cli dataset` on 512 x 512 images (issue 5).
 *
 *   bench-dataset [--images N] [--from DIR] [--keep DIR] [--jobs LIST]
 *
 * Writes N (default 12) 512 x 512 PNGs into a fresh folder (--keep DIR: that
 * folder, kept for tests/bench/dataset_numpy.py), then runs the CLI named by
 * $TS_CLI (`dataset FOLDER --out ...`, all methods x 6 ratios, the defaults)
 * once per --jobs value (default 1,2) and prints images/s, wall and CPU
 * seconds, and the OpenBLAS kernel. The pictures are 512 x 512 crops of the
 * images in --from DIR (real photos; scaled up first when smaller), else
 * deterministic noisy gradients. The machine may be shared: compare the two
 * rows of one run, or read CPU seconds. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "ts-test-util.h"

#define SIDE 512

static double
children_cpu (void)
{
  struct rusage ru;

  getrusage (RUSAGE_CHILDREN, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The i-th picture: a 512 x 512 crop of a source photo, or a noisy gradient. */
static TsImage *
picture (GPtrArray *sources, int i)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) src = NULL;
  g_autoptr (TsImage) scaled = NULL;
  int w, h, x, y;

  if (sources == NULL || sources->len == 0)
    return ts_test_noisy_gradient (SIDE, SIDE, (guint32) i + 1, 10 + 5 * (i % 8));
  src = ts_image_load (g_ptr_array_index (sources, i % sources->len), NULL, &error);
  if (src == NULL)
    {
      fprintf (stderr, "bench-dataset: %s\n", error->message);
      exit (2);
    }
  /* at least 512 a side, a different crop for each pass over the sources */
  w = src->width, h = src->height;
  if (MIN (w, h) < SIDE)
    {
      double s = (double) SIDE / MIN (w, h);
      w = MAX (SIDE, (int) (w * s + 0.5)), h = MAX (SIDE, (int) (h * s + 0.5));
    }
  scaled = ts_image_resample (src, w, h);
  x = (int) (((gint64) (i / sources->len) * 97) % (w - SIDE + 1));
  y = (int) (((gint64) (i / sources->len) * 61) % (h - SIDE + 1));
  return ts_image_crop (scaled, x, y, SIDE, SIDE, (const guint8[3]){ 0, 0, 0 });
}

static int
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
list_sources (const char *dir)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (dir == NULL || (d = g_dir_open (dir, 0, NULL)) == NULL)
    return list;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg") || g_str_has_suffix (name, ".jpeg"))
      g_ptr_array_add (list, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (list, by_name);
  return list;
}

int
main (int argc, char **argv)
{
  int images = 12;
  char *from = NULL, *keep = NULL, *jobs_list = NULL;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_INT, &images, "Pictures in the folder (default 12)", "N" },
    { "from", 0, 0, G_OPTION_ARG_FILENAME, &from, "Crop the pictures from the photos in DIR", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep, "Write the pictures to DIR and keep them", "DIR" },
    { "jobs", 0, 0, G_OPTION_ARG_STRING, &jobs_list, "Comma-separated --jobs values (default 1,2)", "LIST" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- tokenscope-cli dataset throughput");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sources = NULL;
  g_auto (GStrv) jobs = NULL;
  const char *cli = g_getenv ("TS_CLI");
  const char *folder;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || images < 1)
    {
      fprintf (stderr, "bench-dataset: %s\n", error ? error->message : "--images must be at least 1");
      return 1;
    }
  if (cli == NULL)
    {
      fprintf (stderr, "bench-dataset: set TS_CLI to the tokenscope-cli to measure\n");
      return 1;
    }
  folder = keep ? keep : ts_test_path ("images");
  g_mkdir_with_parents (folder, 0755);
  sources = list_sources (from);
  for (int i = 0; i < images; i++)
    {
      g_autoptr (TsImage) im = picture (sources, i);
      g_autofree char *name = g_strdup_printf ("%s/img-%03d.png", folder, i);

      if (!ts_image_save_png (im, name, &error))
        {
          fprintf (stderr, "bench-dataset: %s\n", error->message);
          return 2;
        }
    }
  printf ("OpenBLAS core: %s, %u processors; %d images %d x %d (%s) in %s\n", openblas_get_corename (),
          g_get_num_processors (), images, SIDE, SIDE, sources->len ? "crops of photos" : "noisy gradients", folder);
  jobs = g_strsplit (jobs_list ? jobs_list : "1,2", ",", -1);
  for (int j = 0; jobs[j] != NULL; j++)
    {
      g_autofree char *out = ts_test_path (jobs[j]);
      g_autofree char *std_err = NULL;
      char *args[] = { (char *) cli, (char *) "dataset", (char *) folder, (char *) "--out", out, (char *) "--jobs", jobs[j],
                       NULL };
      double t0 = g_get_monotonic_time () / 1e6, c0 = children_cpu (), wall, cpu;
      int status;

      if (!g_spawn_sync (NULL, args, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &std_err, &status, &error))
        {
          fprintf (stderr, "bench-dataset: %s\n", error->message);
          return 2;
        }
      wall = g_get_monotonic_time () / 1e6 - t0;
      cpu = children_cpu () - c0;
      if (!g_spawn_check_wait_status (status, NULL))
        {
          fprintf (stderr, "bench-dataset: tokenscope-cli dataset failed:\n%s\n", std_err);
          return 2;
        }
      printf ("tokenscope-cli dataset --jobs %s: %.3f images/s (%.1f s wall, %.1f s CPU, %.2f CPU s per image)\n",
              jobs[j], images / wall, wall, cpu, cpu / images);
    }
  return 0;
}
