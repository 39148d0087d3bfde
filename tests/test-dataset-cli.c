/* tokenscope-cli dataset and summarize end to end: schema, bad files, shards
 * equal to one run, resume, and a run killed with SIGKILL. */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "ts-test-util.h"

#define N_IMAGES 9

static char *dataset_dir;

static const char *
dataset (void)
{
  if (dataset_dir == NULL)
    {
      g_autofree char *sub = NULL;
      dataset_dir = ts_test_path ("ds");
      sub = g_build_filename (dataset_dir, "sub", NULL);
      g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
      for (int i = 0; i < N_IMAGES; i++)
        {
          g_autoptr (TsImage) base = ts_test_gradient (56 + 14 * (i % 3), 56);
          g_autoptr (TsImage) img = ts_test_noisy (base, (guint32) i + 1, 10 * i);
          g_autofree char *name = g_strdup_printf ("%s/img%02d.png", i % 2 ? "sub" : ".", i);
          g_autofree char *path = g_build_filename (dataset_dir, name, NULL);
          g_assert_true (ts_image_save_png (img, path, NULL));
        }
      {
        g_autofree char *bad = g_build_filename (dataset_dir, "broken.png", NULL);
        g_autofree char *txt = g_build_filename (dataset_dir, "notes.txt", NULL);
        g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
        g_assert_true (g_file_set_contents (txt, "hello", -1, NULL));
      }
    }
  return dataset_dir;
}

#define FAST "--methods", "pool,tome", "--ratios", "1,4", "--k", "8"

static char *
read_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
test_schema_and_bad_files (void)
{
  g_autofree char *out = ts_test_path ("run-schema");
  g_autofree char *err = NULL;
  g_autofree char *jsonl = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *path = NULL;
  int bad = -1, errors = 0;

  g_assert_cmpint (ts_test_cli (NULL, &err, "dataset", dataset (), "--out", out, FAST, NULL), ==, 3);
  g_assert_nonnull (strstr (err, "1 other files skipped"));
  path = g_build_filename (out, "images.jsonl", NULL);
  records = ts_dataset_read_jsonl (path, &bad, NULL);
  g_assert_cmpuint (records->len, ==, N_IMAGES + 1);
  g_assert_cmpint (bad, ==, 0);
  for (guint i = 0; i < records->len; i++)
    {
      JsonObject *r = json_node_get_object (records->pdata[i]);
      if (json_object_has_member (r, "error"))
        {
          errors++;
          g_assert_cmpstr (json_object_get_string_member (r, "image"), ==, "broken.png");
          g_assert_nonnull (strstr (json_object_get_string_member (r, "error"), "broken.png"));
          continue;
        }
      g_assert_true (json_object_has_member (r, "curves"));
      g_assert_true (json_object_has_member (r, "entropy"));
      g_assert_true (json_object_has_member (json_object_get_object_member (r, "entropy"), "bits_per_token"));
      /* pool, tome and the downsample baseline, each at 2 ratios */
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "curves")), ==, 3);
    }
  g_assert_cmpint (errors, ==, 1);
}

static void
test_shards_equal_one_run (void)
{
  g_autofree char *one = ts_test_path ("run-one");
  g_autofree char *s0 = ts_test_path ("run-s0");
  g_autofree char *s1 = ts_test_path ("run-s1");
  g_autofree char *s2 = ts_test_path ("run-s2");
  g_autofree char *merged = ts_test_path ("run-merged");
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *cb = NULL;

  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", one, "--jobs", "2", FAST, NULL), ==, 3);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", s0, "--shard", "0/3", FAST, NULL), ==, 3);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", s1, "--shard", "1/3", FAST, NULL), !=, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", s2, "--shard", "2/3", FAST, NULL), !=, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "summarize", one, NULL), ==, 0);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "summarize", s2, s0, s1, "--out", merged, NULL), ==, 0);
  a = read_file (one, "summary.json");
  b = read_file (merged, "summary.json");
  g_assert_cmpstr (a, ==, b);
  ca = read_file (one, "summary.csv");
  cb = read_file (merged, "summary.csv");
  g_assert_cmpstr (ca, ==, cb);
  g_assert_true (g_str_has_prefix (ca, "method,ratio,metric,n,mean,std,p10,p50,p90\n"));
  /* the curves figure with p10..p90 bands */
  {
    g_autofree char *svg = read_file (one, "summary-curves.svg");
    g_autofree char *png = g_build_filename (merged, "curves.png", NULL);
    g_autoptr (TsImage) fig = NULL;
    g_assert_nonnull (strstr (svg, "<svg"));
    g_assert_cmpint (ts_test_cli (NULL, NULL, "summarize", s0, s1, s2, "--out", merged, "--plot", png, NULL), ==, 0);
    fig = ts_image_load (png, NULL, NULL);
    g_assert_nonnull (fig);
    g_assert_cmpint (fig->width, ==, 900);
  }
}

static void
test_resume (void)
{
  g_autofree char *out = ts_test_path ("run-resume");
  g_autofree char *path = g_build_filename (out, "images.jsonl", NULL);
  g_autofree char *text = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GPtrArray) records = NULL;
  gsize len;

  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, FAST, NULL), ==, 3);
  /* without --resume the results are never overwritten */
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, FAST, NULL), ==, 1);
  /* keep 4 whole lines and half of the fifth, as a kill mid-write would */
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  {
    char *p = text;
    for (int i = 0; i < 4; i++)
      p = strchr (p, '\n') + 1;
    g_assert_true (g_file_set_contents (path, text, (gssize) (p - text) + 20, NULL));
  }
  /* broken.png sorts first and is among the 4 kept records: this run meets no failure */
  g_assert_cmpint (ts_test_cli (NULL, &err, "dataset", dataset (), "--out", out, "--resume", FAST, NULL), ==, 0);
  g_assert_nonnull (strstr (err, "4 already done"));
  records = ts_dataset_read_jsonl (path, NULL, NULL);
  g_assert_cmpuint (records->len, ==, N_IMAGES + 1);
}

static void
test_sigkill (void)
{
  g_autofree char *out = ts_test_path ("run-kill");
  g_autofree char *path = g_build_filename (out, "images.jsonl", NULL);
  const char *argv[] = { g_getenv ("TS_CLI"), "dataset", dataset (), "--out", out, "--methods", "pool,tome,greedy",
                         "--ratios", "1,2,4,8", NULL };
  g_autoptr (GPtrArray) records = NULL;
  GPid pid;
  int status, bad = -1;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, NULL));
  /* wait for the first record, then kill without warning */
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *text = NULL;
      if (g_file_get_contents (path, &text, NULL, NULL) && strchr (text, '\n'))
        break;
      g_usleep (2000);
    }
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFSIGNALED (status));
  records = ts_dataset_read_jsonl (path, &bad, NULL);
  g_assert_nonnull (records);
  g_assert_cmpint (bad, ==, 0); /* only whole lines */
  g_assert_cmpuint (records->len, >=, 1);
  g_assert_cmpuint (records->len, <, N_IMAGES + 1);
  {
    /* 0, or 3 when broken.png was still in flight at the kill */
    int code = ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, "--resume", "--methods",
                            "pool,tome,greedy", "--ratios", "1,2,4,8", NULL);
    g_assert_true (code == 0 || code == 3);
  }
  g_clear_pointer (&records, g_ptr_array_unref);
  records = ts_dataset_read_jsonl (path, &bad, NULL);
  g_assert_cmpuint (records->len, ==, N_IMAGES + 1);
}

static void
test_usage_errors (void)
{
  g_autofree char *out = ts_test_path ("run-usage");

  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, "--shard", "3/3", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, "--jobs", "0", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, "--ratios", "1,x", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", dataset (), "--out", out, "--methods", "nope", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "dataset", "/nonexistent/folder", "--out", out, NULL), ==, 2);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "summarize", "/nonexistent/folder", NULL), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset-cli/schema-and-bad-files", test_schema_and_bad_files);
  g_test_add_func ("/dataset-cli/shards-equal-one-run", test_shards_equal_one_run);
  g_test_add_func ("/dataset-cli/resume", test_resume);
  g_test_add_func ("/dataset-cli/sigkill", test_sigkill);
  g_test_add_func ("/dataset-cli/usage-errors", test_usage_errors);
  return g_test_run ();
}
