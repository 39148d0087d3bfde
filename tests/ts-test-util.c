#include "ts-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char *tmpdir;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
remove_tmpdir (void)
{
  remove_tree (tmpdir);
}

const char *
ts_test_tmpdir (void)
{
  if (tmpdir == NULL)
    {
      tmpdir = g_dir_make_tmp ("tokenscope-test-XXXXXX", NULL);
      g_assert_nonnull (tmpdir);
      atexit (remove_tmpdir);
    }
  return tmpdir;
}

char *
ts_test_path (const char *name)
{
  return g_build_filename (ts_test_tmpdir (), name, NULL);
}

char *
ts_test_write (const char *name, const void *data, gsize len)
{
  char *path = ts_test_path (name);

  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  return path;
}

TsImage *
ts_test_gradient (int width, int height)
{
  TsImage *image = ts_image_new (width, height);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = image->data + ((gsize) y * width + x) * 3;
        p[0] = (guint8) ((3 * x + y) % 256);
        p[1] = (guint8) ((x * y) % 256);
        p[2] = (guint8) ((5 * y + 2 * x) % 256);
      }
  return image;
}

TsImage *
ts_test_noisy (const TsImage *image, guint32 seed, int amplitude)
{
  TsImage *out = ts_image_copy (image);
  gsize n = (gsize) image->width * image->height * 3;
  guint32 state = seed;

  for (gsize i = 0; i < n; i++)
    {
      int noise, v;
      state = state * 1664525u + 1013904223u;
      noise = (int) ((state >> 16) % (guint32) (2 * amplitude + 1)) - amplitude;
      v = out->data[i] + noise;
      out->data[i] = (guint8) CLAMP (v, 0, 255);
    }
  return out;
}

TsImage *
ts_test_noisy_gradient (int width, int height, guint32 seed, int amplitude)
{
  g_autoptr (TsImage) base = ts_test_gradient (width, height);

  return ts_test_noisy (base, seed, amplitude);
}

TsImage *
ts_test_solid (int width, int height, guint8 r, guint8 g, guint8 b)
{
  TsImage *image = ts_image_new (width, height);

  for (gsize i = 0; i < (gsize) width * height; i++)
    image->data[i * 3] = r, image->data[i * 3 + 1] = g, image->data[i * 3 + 2] = b;
  return image;
}

float *
ts_test_lcg_matrix (int n, int d, guint32 seed)
{
  float *x = g_new (float, (gsize) n * d);
  guint32 s = seed & 0x7FFFFFFF;

  for (int i = 0; i < n * d; i++)
    {
      s = (s * 1103515245u + 12345u) & 0x7FFFFFFF;
      x[i] = (float) ((s >> 8) / (double) (1 << 23) - 0.5);
    }
  return x;
}

TsScene *
ts_test_feature_scene (int rows, int cols, int d, const float *data)
{
  TsImage *image = ts_test_solid (cols * 2, rows * 2, 100, 120, 140);
  TsFeatures *f = ts_features_new (rows * cols, d, NULL);
  TsScene *scene;

  memcpy (f->data, data, sizeof (float) * (gsize) rows * cols * d);
  scene = ts_scene_new (image, 2, TS_FEATURES_NPY, f, NULL);
  g_assert_nonnull (scene);
  return scene;
}

int
ts_test_cli (char **out, char **err, const char *first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *cli = g_getenv ("TS_CLI");
  g_autoptr (GError) error = NULL;
  int wait_status = 0;
  va_list ap;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  /* callers reuse their out/err variables: replace, never leak, what they held */
  if (out != NULL)
    g_clear_pointer (out, g_free);
  if (err != NULL)
    g_clear_pointer (err, g_free);
  /* always capture: output left on our stdout would corrupt the TAP stream */
  {
    g_autofree char *o = NULL;
    g_autofree char *e = NULL;
    g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                                 &wait_status, &error));
    if (out)
      *out = g_steal_pointer (&o);
    if (err)
      *err = g_steal_pointer (&e);
  }
  g_assert_no_error (error);
  /* a signal is always a failure: never let a crash pass as an error exit */
  g_assert_false (WIFSIGNALED (wait_status));
  return WEXITSTATUS (wait_status);
}
