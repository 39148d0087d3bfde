/* test-hostile: the hostile-input catalogue (tests/data/bad/, listed in its
 * MANIFEST) through the core loaders and through tokenscope-cli, the loader
 * limits, and atomic writes that fail half-way.
 *
 * Every refusal must carry the documented TS_ERROR code and a message naming
 * the file; every CLI run must end with the documented exit status and never
 * by a signal (ts_test_cli asserts that). */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ts-test-util.h"

typedef struct {
  char *file;
  char *outcome; /* ok | BAD_DATA | TOO_LARGE | UNSUPPORTED | IO */
  int exit_code; /* -1: no CLI command reads it */
  char *what;
  char *path;
} Entry;

static GPtrArray *entries;

static int
code_from_name (const char *name)
{
  static const struct {
    const char *name;
    int code;
  } codes[] = {
    { "BAD_DATA", TS_ERROR_BAD_DATA },
    { "TOO_LARGE", TS_ERROR_TOO_LARGE },
    { "UNSUPPORTED", TS_ERROR_UNSUPPORTED },
    { "IO", TS_ERROR_IO },
  };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (strcmp (name, codes[i].name) == 0)
      return codes[i].code;
  g_error ("MANIFEST: unknown outcome %s", name);
  return -1;
}

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_free (e->file);
  g_free (e->outcome);
  g_free (e->what);
  g_free (e->path);
  g_free (e);
}

static void
load_manifest (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "bad", NULL);
  g_autofree char *path = g_build_filename (dir, "MANIFEST", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  entries = g_ptr_array_new_with_free_func (entry_free);
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      g_auto (GStrv) f = NULL;
      Entry *e;
      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      f = g_strsplit (lines[i], "\t", 4);
      g_assert_cmpuint (g_strv_length (f), ==, 4);
      e = g_new0 (Entry, 1);
      e->file = g_strdup (f[0]);
      e->outcome = g_strdup (f[1]);
      e->exit_code = strcmp (f[2], "-") == 0 ? -1 : atoi (f[2]);
      e->what = g_strdup (f[3]);
      e->path = g_build_filename (dir, f[0], NULL);
      g_ptr_array_add (entries, e);
    }
}

/* ---- the catalogue through the core ---------------------------------------- */

static void
check_refusal (const Entry *e, const GError *error)
{
  g_assert_nonnull (error);
  g_test_message ("%s (%s): %s", e->file, e->what, error->message);
  g_assert_true (error->domain == TS_ERROR);
  g_assert_cmpint (error->code, ==, code_from_name (e->outcome));
  g_assert_nonnull (strstr (error->message, e->file));
}

static void
test_core (gconstpointer data)
{
  const Entry *e = data;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_test (e->path, G_FILE_TEST_IS_REGULAR));
  if (g_str_has_suffix (e->file, ".npy"))
    {
      g_autoptr (TsNpyArray) array = ts_npy_read (e->path, &error);
      if (strcmp (e->outcome, "ok") == 0)
        {
          g_assert_no_error (error);
          g_assert_cmpint (ts_npy_array_size (array), >, 0);
        }
      else
        {
          g_assert_null (array);
          check_refusal (e, error);
        }
      return;
    }

  if (g_str_has_suffix (e->file, ".json"))
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      TsSettings settings;
      gboolean ok;

      ts_settings_init (&settings);
      ok = ts_settings_load (&settings, e->path, warnings, &error);
      ts_settings_clear (&settings);
      if (strcmp (e->outcome, "ok") == 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          /* unknown members are reported, never silently dropped */
          if (strstr (e->file, "unknown") != NULL)
            g_assert_cmpuint (warnings->len, >=, 2);
        }
      else
        {
          g_assert_false (ok);
          check_refusal (e, error);
        }
      return;
    }
  if (g_str_has_suffix (e->file, ".safetensors"))
    {
      g_autoptr (TsSafetensors) st = ts_safetensors_open (e->path, &error);
      if (strcmp (e->outcome, "ok") == 0)
        g_assert_no_error (error);
      else
        {
          g_assert_null (st);
          check_refusal (e, error);
        }
      return;
    }

  {
    g_autoptr (TsMedia) media = ts_media_load_any (e->path, NULL, &error);
    if (strcmp (e->outcome, "ok") == 0)
      {
        TsResize resize = { TS_RESIZE_NATIVE, 336 };
        g_autoptr (TsImage) resized = NULL;
        TsGrid grid;

        g_assert_no_error (error);
        g_assert_nonnull (media);
        g_assert_cmpuint (media->n_frames, >=, 1);
        /* an image smaller than a patch is padded to one patch, never refused late */
        resized = ts_resize_apply (media->frames[0], &resize, 14, &error);
        g_assert_no_error (error);
        g_assert_true (ts_grid_init (&grid, resized->width, resized->height, 14, &error));
        g_assert_no_error (error);
        g_assert_cmpint (grid.tokens, >=, 1);
      }
    else
      {
        g_assert_null (media);
        check_refusal (e, error);
      }
  }
}

/* The same bytes from memory: the error names the name given. */
static void
test_core_memory (gconstpointer data)
{
  const Entry *e = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_autoptr (TsMedia) media = NULL;

  g_assert_true (g_file_get_contents (e->path, &bytes, &len, NULL));
  media = ts_media_load_from_memory ((const guint8 *) bytes, len, e->file, NULL, &error);
  if (strcmp (e->outcome, "ok") == 0)
    g_assert_no_error (error);
  else
    check_refusal (e, error);
}

/* ---- the catalogue through the CLI ----------------------------------------- */

static void
check_cli (const Entry *e, const char *command)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  /* report also gets string options, so that a leak on an early exit shows
   * up under LeakSanitizer in the sanitizer build */
  int status = strcmp (command, "settings") == 0 ? ts_test_cli (&out, &err, "settings", "check", e->path, NULL)
               : strcmp (command, "model") == 0  ? ts_test_cli (&out, &err, "model", "info", e->path, NULL)
               : strcmp (command, "report") == 0
                 ? ts_test_cli (&out, &err, command, e->path, "--resize", "pad", "--alpha", "checker", NULL)
                 : ts_test_cli (&out, &err, command, e->path, NULL);

  g_test_message ("%s %s -> %d: %s", command, e->file, status, err);
  g_assert_cmpint (status, ==, e->exit_code);
  g_assert_null (strstr (err, "runtime error"));
  g_assert_null (strstr (err, "Sanitizer"));
  g_assert_null (strstr (err, "leak"));
  g_assert_null (strstr (err, "CRITICAL"));
  if (e->exit_code != 0)
    g_assert_nonnull (strstr (err, e->file));
  else
    g_assert_nonnull (strstr (out, "14"));
}

static void
test_cli_grid (gconstpointer data)
{
  check_cli (data, "grid");
}

static void
test_cli_report (gconstpointer data)
{
  check_cli (data, "report");
}

static void
test_cli_file (gconstpointer data)
{
  const Entry *e = data;

  check_cli (e, g_str_has_suffix (e->file, ".json") ? "settings" : "model");
}

static void
test_catalogue_size (void)
{
  guint refused = 0;

  for (guint i = 0; i < entries->len; i++)
    refused += strcmp (((Entry *) entries->pdata[i])->outcome, "ok") != 0;
  g_assert_cmpuint (entries->len, >=, 40);
  g_assert_cmpuint (refused, >=, 40);
}

/* ---- limits, named with how to raise them ---------------------------------- */

static char *
write_png (const char *name, int w, int h)
{
  g_autoptr (TsImage) image = ts_test_gradient (w, h);
  char *path = ts_test_path (name);
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_image_save_png (image, path, &error));
  return path;
}

static char *
bad_path (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "bad", file, NULL);
}

static void
test_limit_pixels (void)
{
  g_autofree char *path = write_png ("limit-20x20.png", 20, 20);
  TsLoadOptions o = { .max_pixels = 399 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load (path, &o, &error);
  g_autofree char *err = NULL;

  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "limit-20x20.png"));
  g_assert_nonnull (strstr (error->message, "--max-megapixels"));
  o.max_pixels = 400;
  g_clear_error (&error);
  media = ts_media_load (path, &o, &error);
  g_assert_no_error (error);
  /* and through the CLI: refused at 0.0003 MP, fine when raised */
  g_assert_cmpint (ts_test_cli (NULL, &err, "grid", path, "--max-megapixels", "0.0003", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--max-megapixels"));
  g_assert_cmpint (ts_test_cli (NULL, NULL, "grid", path, "--max-megapixels", "0.0004", NULL), ==, 0);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "grid", path, "--max-megapixels", "-1", NULL), ==, 1);
}

static void
test_limit_frames (void)
{
  g_autofree char *path = bad_path ("gif-2001-frames.gif");
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  TsLoadOptions o = { .max_frames = 2001 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load (path, NULL, &error);

  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "2000 frames"));
  g_assert_nonnull (strstr (error->message, "--max-frames"));
  g_clear_error (&error);
  media = ts_media_load (path, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->n_frames, ==, 2001);
  g_assert_cmpint (ts_test_cli (NULL, &err, "report", path, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--max-frames"));
  g_assert_cmpint (ts_test_cli (&out, NULL, "report", path, "--max-frames", "2001", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "2001 frames"));
}

/* Frames of an animation share one pixel budget: 3 frames of 100 megapixels
 * are refused before stb allocates 1.2 GB; with a raised limit the count
 * check still comes first. */
static void
test_limit_frames_times_size (void)
{
  g_autofree char *path = bad_path ("gif-frames-times-size.gif");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load (path, NULL, &error);

  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "3 frames of 10000 x 10000"));
  g_assert_nonnull (strstr (error->message, "300.0 megapixels together"));
}

static char *
make_folder (const char *name, int n, int w, int h)
{
  char *dir = ts_test_path (name);

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/frame-%02d.png", name, i);
      g_autofree char *p = write_png (file, w, h);
    }
  return dir;
}

static void
remove_folder (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;

  while (d && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      g_remove (p);
    }
  g_rmdir (dir);
}

static void
test_limit_folder (void)
{
  g_autofree char *dir = make_folder ("frames", 3, 20, 20);
  TsLoadOptions few_frames = { .max_frames = 2 };
  TsLoadOptions few_pixels = { .max_pixels = 1199 };
  TsLoadOptions enough = { .max_pixels = 1200, .max_frames = 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load_any (dir, &few_frames, &error);

  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "--max-frames"));
  g_clear_error (&error);
  media = ts_media_load_any (dir, &few_pixels, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "3 frames of 20 x 20"));
  g_assert_nonnull (strstr (error->message, "--max-megapixels"));
  g_clear_error (&error);
  media = ts_media_load_any (dir, &enough, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->n_frames, ==, 3);
  remove_folder (dir);
}

/* A folder with a bad frame: the error names the bad file. */
static void
test_folder_bad_frame (void)
{
  g_autofree char *dir = make_folder ("mixed", 2, 20, 20);
  g_autofree char *bad = g_build_filename (dir, "frame-01b.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
  media = ts_media_load_any (dir, NULL, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "frame-01b.png"));
  remove_folder (dir);
}

/* ---- nothing lost: failed atomic writes keep the old file ---------------- */

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_write_onto_folder (void)
{
  g_autofree char *parent = ts_test_path ("write-folder");
  g_autofree char *target = g_build_filename (parent, "results.json", NULL);
  g_autofree char *inside = g_build_filename (target, "keep.txt", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (target, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "keep", -1, NULL));
  g_assert_false (ts_file_write (target, "{}", 2, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "results.json"));
  g_assert_true (g_file_test (target, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_get_contents (inside, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "keep");
  g_assert_cmpuint (count_entries (parent), ==, 1); /* no temporary left behind */
  g_remove (inside);
  g_rmdir (target);
  g_rmdir (parent);
}

static void
test_write_missing_folder (void)
{
  g_autofree char *target = ts_test_path ("no-such-folder/out.png");
  g_autoptr (GError) error = NULL;

  g_assert_false (ts_file_write (target, "x", 1, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "out.png"));
}

static void
test_write_read_only_folder (void)
{
  g_autofree char *dir = ts_test_path ("read-only");
  g_autofree char *target = g_build_filename (dir, "summary.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  if (geteuid () == 0)
    {
      g_test_skip ("root ignores directory permissions (the disk-full case below covers root)");
      return;
    }
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_true (ts_file_write (target, "old", 3, &error));
  g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
  g_assert_false (ts_file_write (target, "new contents", 12, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_true (g_file_get_contents (target, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "old");
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_chmod (dir, 0755);
  g_remove (target);
  g_rmdir (dir);
}

/* The write stops half-way (the file-size limit plays a full disk): the old
 * file stays whole and no temporary is left. Works as root too. */
static void
test_write_interrupted (void)
{
  g_autofree char *dir = ts_test_path ("disk-full");
  g_autofree char *target = g_build_filename (dir, "features.npy", NULL);
  g_autofree char *text = NULL;
  g_autofree char *big = g_malloc0 (1 << 20);
  g_autoptr (GError) error = NULL;
  struct rlimit saved, small;
  void (*old_handler) (int);

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_true (ts_file_write (target, "old", 3, &error));
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  small = saved;
  small.rlim_cur = 4096;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  g_assert_false (ts_file_write (target, big, 1 << 20, &error));
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "features.npy"));
  g_assert_true (g_file_get_contents (target, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "old");
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_remove (target);
  g_rmdir (dir);
}

/* The CLI's --json goes through the same path: a failed write is exit 2 and
 * the previous results survive. */
static void
test_cli_json_onto_folder (void)
{
  g_autofree char *png = write_png ("cli-json.png", 28, 28);
  g_autofree char *target = ts_test_path ("cli-json-out");
  g_autofree char *err = NULL;

  g_assert_cmpint (g_mkdir (target, 0755), ==, 0);
  g_assert_cmpint (ts_test_cli (NULL, &err, "grid", png, "--json", target, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "cli-json-out"));
  g_assert_true (g_file_test (target, G_FILE_TEST_IS_DIR));
  g_rmdir (target);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("TS_TEST_NONFATAL"))
    g_test_set_nonfatal_assertions ();
  load_manifest ();
  g_test_add_func ("/hostile/catalogue-size", test_catalogue_size);
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      g_autofree char *core = g_strdup_printf ("/hostile/core/%s", e->file);
      gboolean image = !g_str_has_suffix (e->file, ".npy") && !g_str_has_suffix (e->file, ".json") &&
                       !g_str_has_suffix (e->file, ".safetensors");
      g_test_add_data_func (core, e, test_core);
      if (image)
        {
          g_autofree char *mem = g_strdup_printf ("/hostile/memory/%s", e->file);
          g_test_add_data_func (mem, e, test_core_memory);
        }
      if (e->exit_code >= 0 && !image)
        {
          g_autofree char *cli = g_strdup_printf ("/hostile/cli-%s/%s",
                                                  g_str_has_suffix (e->file, ".json") ? "settings" : "model", e->file);
          g_test_add_data_func (cli, e, test_cli_file);
        }
      else if (e->exit_code >= 0)
        {
          g_autofree char *grid = g_strdup_printf ("/hostile/cli-grid/%s", e->file);
          g_autofree char *report = g_strdup_printf ("/hostile/cli-report/%s", e->file);
          g_test_add_data_func (grid, e, test_cli_grid);
          g_test_add_data_func (report, e, test_cli_report);
        }
    }
  g_test_add_func ("/hostile/limit/pixels", test_limit_pixels);
  g_test_add_func ("/hostile/limit/frames", test_limit_frames);
  g_test_add_func ("/hostile/limit/frames-times-size", test_limit_frames_times_size);
  g_test_add_func ("/hostile/limit/folder", test_limit_folder);
  g_test_add_func ("/hostile/folder-bad-frame", test_folder_bad_frame);
  g_test_add_func ("/hostile/write/onto-folder", test_write_onto_folder);
  g_test_add_func ("/hostile/write/missing-folder", test_write_missing_folder);
  g_test_add_func ("/hostile/write/read-only-folder", test_write_read_only_folder);
  g_test_add_func ("/hostile/write/interrupted", test_write_interrupted);
  g_test_add_func ("/hostile/write/cli-json-onto-folder", test_cli_json_onto_folder);
  status = g_test_run ();
  g_ptr_array_unref (entries);
  return status;
}
