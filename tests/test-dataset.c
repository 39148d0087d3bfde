/* Dataset runs: listing, shards, JSONL records, resume after a torn line. */
#include <glib/gstdio.h>
#include <string.h>

#include "ts-dataset.h"
#include "ts-test-util.h"

static char *
make_tree (const char *name)
{
  char *root = ts_test_path (name);
  g_autofree char *sub = g_build_filename (root, "sub", NULL);
  const char *files[] = { "b.png", "a.jpg", "notes.txt", "sub/c.gif", "sub/d.JPEG", "sub/e.npy" };

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (root, files[i], NULL);
      g_assert_true (g_file_set_contents (p, files[i], -1, NULL));
    }
  return root;
}

static void
test_list_folder (void)
{
  g_autofree char *root = make_tree ("tree");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsDatasetList) list = ts_dataset_list (root, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (list->keys->len, ==, 4);
  g_assert_cmpint (list->skipped, ==, 2);
  g_assert_cmpstr (list->keys->pdata[0], ==, "a.jpg");
  g_assert_cmpstr (list->keys->pdata[1], ==, "b.png");
  g_assert_cmpstr (list->keys->pdata[2], ==, "sub/c.gif");
  g_assert_cmpstr (list->keys->pdata[3], ==, "sub/d.JPEG");
  g_assert_true (g_str_has_suffix (list->paths->pdata[2], "/sub/c.gif"));
}

static void
test_list_file (void)
{
  const char *text = "# my set\nz.png\n\n  y.jpg  \nreadme.md\n/abs/x.bmp\n";
  g_autofree char *path = ts_test_write ("list.txt", text, strlen (text));
  g_autoptr (TsDatasetList) list = ts_dataset_list (path, NULL, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *expect = g_build_filename (dir, "y.jpg", NULL);

  g_assert_nonnull (list);
  g_assert_cmpuint (list->keys->len, ==, 3);
  g_assert_cmpint (list->skipped, ==, 1);
  g_assert_cmpstr (list->keys->pdata[0], ==, "/abs/x.bmp");
  g_assert_cmpstr (list->keys->pdata[1], ==, "y.jpg");
  g_assert_cmpstr (list->paths->pdata[1], ==, expect);
}

static void
test_list_missing (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (ts_dataset_list ("/nonexistent/dataset", NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
}

static void
test_shards (void)
{
  g_autofree char *root = make_tree ("shards");
  int seen[4] = { 0 };

  for (int s = 0; s < 3; s++)
    {
      g_autoptr (TsDatasetList) list = ts_dataset_list (root, NULL, NULL);
      g_assert_true (ts_dataset_list_shard (list, s, 3, NULL));
      for (guint i = 0; i < list->keys->len; i++)
        {
          const char *k = list->keys->pdata[i];
          int idx = strcmp (k, "a.jpg") == 0 ? 0 : strcmp (k, "b.png") == 0 ? 1 : strcmp (k, "sub/c.gif") == 0 ? 2 : 3;
          g_assert_cmpint (idx % 3, ==, s);
          seen[idx]++;
        }
    }
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (seen[i], ==, 1);
}

static void
test_parse_shard (void)
{
  static const char *const bad[] = { "3/3", "1", "a/b", "-1/2", "0/0", "", "1/2/3" };
  int i, n;

  g_assert_true (ts_dataset_parse_shard ("2/5", &i, &n, NULL));
  g_assert_cmpint (i, ==, 2);
  g_assert_cmpint (n, ==, 5);
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (ts_dataset_parse_shard (bad[k], &i, &n, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
}

static int calls;

static JsonNode *
fake_analysis (const char *path, gpointer data, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_atomic_int_inc (&calls);
  if (g_str_has_suffix (path, ".gif"))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt GIF", path);
      return NULL;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "length");
  json_builder_add_int_value (b, (gint64) strlen (path));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
test_run_and_resume (void)
{
  g_autofree char *root = make_tree ("run");
  g_autofree char *out = ts_test_path ("run-out");
  g_autofree char *jsonl = g_build_filename (out, "images.jsonl", NULL);
  g_autoptr (TsDatasetList) list = ts_dataset_list (root, NULL, NULL);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  TsDatasetOptions opt = { out, 2, FALSE };
  TsDatasetProgress final;
  int bad = -1;
  gsize len;

  calls = 0;
  g_assert_true (ts_dataset_run (list, &opt, fake_analysis, NULL, NULL, NULL, NULL, &final, &error));
  g_assert_no_error (error);
  g_assert_cmpint (final.done, ==, 4);
  g_assert_cmpint (final.failed, ==, 1);
  g_assert_cmpint (calls, ==, 4);
  records = ts_dataset_read_jsonl (jsonl, &bad, NULL);
  g_assert_cmpuint (records->len, ==, 4);
  g_assert_cmpint (bad, ==, 0);

  /* a second run without --resume refuses to touch the results */
  g_assert_false (ts_dataset_run (list, &opt, fake_analysis, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* simulate a kill mid-write: drop the last record and leave half of it */
  g_assert_true (g_file_get_contents (jsonl, &text, &len, NULL));
  {
    char *last = g_strrstr_len (text, len - 1, "\n") + 1;
    gsize keep = (gsize) (last - text) + (gsize) (strlen (last) / 2);
    g_assert_true (g_file_set_contents (jsonl, text, (gssize) keep, NULL));
  }
  calls = 0;
  opt.resume = TRUE;
  g_assert_true (ts_dataset_run (list, &opt, fake_analysis, NULL, NULL, NULL, NULL, &final, &error));
  g_assert_no_error (error);
  g_assert_cmpint (calls, ==, 1);
  g_assert_cmpint (final.resumed, ==, 3);
  g_clear_pointer (&records, g_ptr_array_unref);
  records = ts_dataset_read_jsonl (jsonl, &bad, NULL);
  g_assert_cmpuint (records->len, ==, 4);
  g_assert_cmpint (bad, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset/list/folder", test_list_folder);
  g_test_add_func ("/dataset/list/file", test_list_file);
  g_test_add_func ("/dataset/list/missing", test_list_missing);
  g_test_add_func ("/dataset/shards", test_shards);
  g_test_add_func ("/dataset/parse-shard", test_parse_shard);
  g_test_add_func ("/dataset/run-and-resume", test_run_and_resume);
  return g_test_run ();
}
