/* fuzz-replay: feeds every file of a fuzz corpus to the target's
 * LLVMFuzzerTestOneInput as one GTest case, so the seeds and every crash
 * reproducer found so far run in CI with the normal compiler (and under the
 * sanitizer build). Usage: fuzz-replay-TARGET [--tap] (corpus folder from
 * $TS_FUZZ_CORPUS). */
#include "ts-fuzz.h"

static void
replay_one (gconstpointer data)
{
  const char *path = data;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &bytes, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (LLVMFuzzerTestOneInput ((const uint8_t *) bytes, len), ==, 0);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  const char *dir_path = g_getenv ("TS_FUZZ_CORPUS");
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *suite = NULL;
  const char *name;

  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (dir_path);
  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (paths, g_build_filename (dir_path, name, NULL));
  g_assert_cmpuint (paths->len, >, 0);
  g_ptr_array_sort (paths, compare_names);
  suite = g_path_get_basename (dir_path);
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *base = g_path_get_basename (paths->pdata[i]);
      g_autofree char *test = g_strdup_printf ("/fuzz-replay/%s/%s", suite, base);
      g_test_add_data_func (test, paths->pdata[i], replay_one);
    }
  return g_test_run ();
}
