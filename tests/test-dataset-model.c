/* test-dataset-model.c: the dataset view's controller without a display.
 *
 * Runs TsDatasetModel over a small folder and checks its summary, rows and
 * exports against core/ts-summary.h and the records it wrote; cancelling,
 * bad folders and bad exports. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ts-dataset-model.h"
#include "ts-test-util.h"

static const char *const methods[] = { "pool", "tome", NULL };
static const double ratios[] = { 1, 2, 4 };

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
finished_cb (TsDatasetModel *model, gboolean *finished)
{
  *finished = TRUE;
}

static void
progress_cb (TsDatasetModel *model, int *calls)
{
  (*calls)++;
}

static void
wait_finished (TsDatasetModel *model, gboolean *finished)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (120, timeout_cb, &timed_out);

  while (!*finished && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

/* Three small pictures and a text file that is not an image. */
static char *
make_folder (const char *name)
{
  g_autofree char *dir = ts_test_path (name);
  g_autoptr (GError) error = NULL;
  TsImage *images[] = { ts_test_gradient (56, 42), ts_test_noisy_gradient (56, 56, 7, 20),
                        ts_test_solid (42, 42, 30, 90, 200) };
  const char *names[] = { "b-gradient.png", "a-noisy.png", "c-solid.png" };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (ts_image_save_png (images[i], path, &error));
      ts_image_free (images[i]);
    }
  {
    g_autofree char *txt = g_build_filename (dir, "notes.txt", NULL);
    g_assert_true (g_file_set_contents (txt, "not an image", -1, NULL));
  }
  return g_steal_pointer (&dir);
}

static void
setup_small (TsDatasetSetup *setup)
{
  ts_dataset_setup_init (setup);
  setup->resize.policy = TS_RESIZE_NATIVE;
  setup->patch = 14;
  setup->methods = methods;
  setup->ratios = ratios;
  setup->n_ratios = G_N_ELEMENTS (ratios);
  setup->entropy_k = 4;
}

static char *
to_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static void
test_dataset_model_run (void)
{
  g_autofree char *folder = make_folder ("ds-run");
  g_autofree char *out = ts_test_path ("ds-run-out");
  g_autofree char *jsonl = g_build_filename (out, "images.jsonl", NULL);
  g_autoptr (TsDatasetModel) model = ts_dataset_model_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (JsonNode) expect = NULL;
  g_autofree char *got_text = NULL, *expect_text = NULL;
  TsSummaryOptions sopts = { "ssim", 0.95, 5 };
  TsDatasetSetup setup;
  gboolean finished = FALSE;
  int calls = 0, done, total, failed, bad = 0;
  GListModel *rows;
  guint n;
  const char *sorted_names[] = { "a-noisy.png", "b-gradient.png", "c-solid.png" };
  const char *summary_methods[] = { "pool", "tome", "downsample", NULL };

  g_signal_connect (model, "finished", G_CALLBACK (finished_cb), &finished);
  g_signal_connect (model, "progress", G_CALLBACK (progress_cb), &calls);
  setup_small (&setup);
  g_assert_true (ts_dataset_model_start (model, folder, out, &setup, &error));
  g_assert_no_error (error);
  g_assert_true (ts_dataset_model_get_running (model));
  /* a second start while running is refused */
  g_assert_false (ts_dataset_model_start (model, folder, out, &setup, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  wait_finished (model, &finished);

  g_assert_false (ts_dataset_model_get_running (model));
  g_assert_null (ts_dataset_model_get_error (model));
  ts_dataset_model_get_progress (model, &done, &total, &failed);
  g_assert_cmpint (total, ==, 3);
  g_assert_cmpint (done, ==, 3);
  g_assert_cmpint (failed, ==, 0);
  g_assert_cmpint (calls, >=, 3);

  /* the summary is core's over the records the run wrote */
  records = ts_dataset_read_jsonl (jsonl, &bad, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 3);
  expect = ts_summary_build (records, &sopts, &error);
  g_assert_no_error (error);
  got_text = to_json (ts_dataset_model_get_summary (model));
  expect_text = to_json (expect);
  g_assert_cmpstr (got_text, ==, expect_text);
  /* the summary's methods, in its order: the baseline is always swept */
  {
    const char *const *names = ts_dataset_model_get_methods (model);
    JsonArray *m = json_object_get_array_member (json_node_get_object (expect), "methods");
    g_assert_cmpuint (g_strv_length ((char **) names), ==, 3);
    for (guint i = 0; i < 3; i++)
      {
        g_assert_cmpstr (names[i], ==, json_object_get_string_member (json_array_get_object_element (m, i), "method"));
        g_assert_true (g_strv_contains (summary_methods, names[i]));
      }
  }
  {
    const double *r = ts_dataset_model_get_ratios (model, &n);
    g_assert_cmpuint (n, ==, 3);
    for (guint i = 0; i < n; i++)
      g_assert_cmpfloat (r[i], ==, ratios[i]);
  }

  /* rows: sorted by name, numbers straight from each record */
  rows = ts_dataset_model_get_rows (model);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TsDatasetRow) row = g_list_model_get_item (rows, i);
      JsonObject *rec = NULL;
      for (guint k = 0; k < records->len && !rec; k++)
        if (g_str_equal (json_object_get_string_member (json_node_get_object (records->pdata[k]), "image"),
                         ts_dataset_row_get_image (row)))
          rec = json_node_get_object (records->pdata[k]);
      g_assert_nonnull (rec);
      g_assert_cmpstr (ts_dataset_row_get_image (row), ==, sorted_names[i]);
      g_assert_true (g_str_has_prefix (ts_dataset_row_get_path (row), folder));
      g_assert_true (g_file_test (ts_dataset_row_get_path (row), G_FILE_TEST_IS_REGULAR));
      g_assert_null (ts_dataset_row_get_error (row));
      g_assert_cmpfloat (ts_dataset_row_get_bits (row), ==,
                         json_object_get_double_member (json_object_get_object_member (rec, "entropy"), "bits_per_token"));
      /* at 1x nothing is lost */
      g_assert_cmpfloat_with_epsilon (ts_dataset_row_get_ssim (row, "pool", 1), 1.0, 1e-12);
      g_assert_true (isnan (ts_dataset_row_get_ssim (row, "pool", 3)));
      g_assert_true (isnan (ts_dataset_row_get_optimal (row, "no-such-method")));
      /* the optimal ratio by hand: the highest with SSIM >= 0.95 */
      for (guint m = 0; methods[m]; m++)
        {
          double best = 0;
          for (guint k = 0; k < G_N_ELEMENTS (ratios); k++)
            if (ts_dataset_row_get_ssim (row, methods[m], ratios[k]) >= 0.95)
              best = ratios[k];
          g_assert_cmpfloat (ts_dataset_row_get_optimal (row, methods[m]), ==, best);
        }
    }
  /* a solid picture survives any pooling: its optimal is the highest ratio */
  {
    g_autoptr (TsDatasetRow) solid = g_list_model_get_item (rows, 2);
    g_assert_cmpfloat (ts_dataset_row_get_optimal (solid, "pool"), ==, 4);
  }

  /* a stricter threshold re-summarises at once, equal to core's */
  ts_dataset_model_set_threshold (model, 0.999);
  sopts.threshold = 0.999;
  g_clear_pointer (&expect, json_node_unref);
  expect = ts_summary_build (records, &sopts, NULL);
  g_free (got_text);
  g_free (expect_text);
  got_text = to_json (ts_dataset_model_get_summary (model));
  expect_text = to_json (expect);
  g_assert_cmpstr (got_text, ==, expect_text);

  /* the recommendation names every method */
  {
    g_autofree char *text = ts_dataset_model_dup_recommendation (model);
    g_assert_nonnull (strstr (text, "3 images (0 failed)"));
    g_assert_nonnull (strstr (text, "\npool: "));
    g_assert_nonnull (strstr (text, "\ntome: "));
  }

  /* exports */
  {
    g_autofree char *json_path = ts_test_path ("ds-summary.json");
    g_autofree char *csv_path = ts_test_path ("ds-summary.csv");
    g_autofree char *bad_path = ts_test_path ("ds-summary.txt");
    g_autofree char *contents = NULL;
    g_autofree char *csv = ts_summary_to_csv (expect);
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autofree char *reread = NULL;

    g_assert_true (ts_dataset_model_export (model, json_path, &error));
    g_assert_true (json_parser_load_from_file (parser, json_path, &error));
    reread = to_json (json_parser_get_root (parser));
    g_assert_cmpstr (reread, ==, expect_text);
    g_assert_true (ts_dataset_model_export (model, csv_path, &error));
    g_assert_true (g_file_get_contents (csv_path, &contents, NULL, &error));
    g_assert_cmpstr (contents, ==, csv);
    g_assert_false (ts_dataset_model_export (model, bad_path, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (g_file_test (bad_path, G_FILE_TEST_EXISTS));
  }

  /* a second run into the same folder replaces images.jsonl instead of appending */
  finished = FALSE;
  g_assert_true (ts_dataset_model_start (model, folder, out, &setup, &error));
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 0);
  wait_finished (model, &finished);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 3);
  g_clear_pointer (&records, g_ptr_array_unref);
  records = ts_dataset_read_jsonl (jsonl, &bad, &error);
  g_assert_cmpuint (records->len, ==, 3);
}

static void
test_dataset_model_cancel (void)
{
  g_autofree char *folder = make_folder ("ds-cancel");
  g_autofree char *out = ts_test_path ("ds-cancel-out");
  g_autoptr (TsDatasetModel) model = ts_dataset_model_new ();
  g_autoptr (GError) error = NULL;
  TsDatasetSetup setup;
  gboolean finished = FALSE;
  int done, total, failed;

  g_signal_connect (model, "finished", G_CALLBACK (finished_cb), &finished);
  setup_small (&setup);
  setup.methods = NULL; /* every method: long enough to cancel */
  setup.ratios = NULL;
  g_assert_true (ts_dataset_model_start (model, folder, out, &setup, &error));
  ts_dataset_model_cancel (model);
  wait_finished (model, &finished);
  g_assert_false (ts_dataset_model_get_running (model));
  g_assert_nonnull (ts_dataset_model_get_error (model));
  ts_dataset_model_get_progress (model, &done, &total, &failed);
  g_assert_cmpint (done, <, 3);
  /* what finished before the cancel is listed, nothing else */
  g_assert_cmpuint (g_list_model_get_n_items (ts_dataset_model_get_rows (model)), <=, (guint) done);
}

static void
test_dataset_model_bad_input (void)
{
  g_autoptr (TsDatasetModel) model = ts_dataset_model_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = ts_test_path ("ds-missing");
  g_autofree char *file = ts_test_write ("ds-file.txt", "x", 1);
  g_autofree char *empty = ts_test_path ("ds-empty");
  g_autofree char *out = ts_test_path ("ds-empty-out");
  g_autofree char *blocked = g_build_filename (file, "out", NULL);
  g_autofree char *json = ts_test_path ("ds-nothing.json");
  TsDatasetSetup setup;
  gboolean finished = FALSE;

  setup_small (&setup);
  g_assert_false (ts_dataset_model_start (model, missing, out, &setup, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "ds-missing"));
  g_clear_error (&error);
  g_assert_false (ts_dataset_model_start (model, file, out, &setup, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* an output folder that cannot be made (under a file) */
  g_assert_false (ts_dataset_model_start (model, ts_test_tmpdir (), blocked, &setup, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_clear_error (&error);
  /* nothing to export before a run */
  g_assert_false (ts_dataset_model_export (model, json, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a folder without images: the run ends with a message naming it */
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_signal_connect (model, "finished", G_CALLBACK (finished_cb), &finished);
  g_assert_true (ts_dataset_model_start (model, empty, out, &setup, &error));
  wait_finished (model, &finished);
  g_assert_nonnull (strstr (ts_dataset_model_get_error (model), "ds-empty"));
  g_assert_null (ts_dataset_model_get_summary (model));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset-model/run", test_dataset_model_run);
  g_test_add_func ("/dataset-model/cancel", test_dataset_model_cancel);
  g_test_add_func ("/dataset-model/bad-input", test_dataset_model_bad_input);
  return g_test_run ();
}
