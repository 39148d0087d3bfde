/* test-document.c: the GUI's view-model without a display.
 *
 * Loads a deterministic picture, drives the settings the way the controls
 * do, waits for the worker results through the main loop and checks them
 * against the core functions called directly. */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "ts-document.h"
#include "ts-document-budget.h"
#include "ts-test-util.h"

typedef struct {
  guint what;       /* TsDocumentChanged bits seen since the last reset */
  guint quality_count;
  char *notice;
} Seen;

static void
changed_cb (TsDocument *doc, guint what, Seen *seen)
{
  seen->what |= what;
  if (what & TS_DOCUMENT_CHANGED_QUALITY)
    seen->quality_count++;
}

static void
notice_cb (TsDocument *doc, const char *message, Seen *seen)
{
  g_free (seen->notice);
  seen->notice = g_strdup (message);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until @what was emitted and the document is idle. */
static void
wait_for (TsDocument *doc, Seen *seen, guint what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (60, timeout_cb, &timed_out);

  while (!timed_out && !((seen->what & what) == what && !ts_document_get_busy (doc)))
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
load_done_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GError **error = data;
  ts_document_load_finish (TS_DOCUMENT (source), res, error);
  if (*error == NULL)
    *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "ok");
}

/* Loads synchronously; returns the error or NULL. */
static GError *
load (TsDocument *doc, const char *path)
{
  GError *error = NULL;

  ts_document_load_file_async (doc, path, NULL, load_done_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    g_clear_error (&error);
  return error;
}

static char *
write_picture (void)
{
  g_autoptr (TsImage) img = ts_test_gradient (672, 504);
  g_autofree char *path = ts_test_path ("doc-gradient.png");
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_image_save_png (img, path, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

/* The document may outlive the test (its curve task holds a reference): stop
 * it from writing into this test's stack afterwards. */
static void
done (TsDocument *doc, Seen *seen)
{
  g_signal_handlers_disconnect_by_data (doc, seen);
  g_free (seen->notice);
}

static const char *const pool_only[] = { "pool", NULL };

static TsDocument *
new_loaded (Seen *seen)
{
  TsDocument *doc = ts_document_new ();
  g_autofree char *path = write_picture ();
  g_autoptr (GError) error = NULL;

  g_signal_connect (doc, "changed", G_CALLBACK (changed_cb), seen);
  g_signal_connect (doc, "notice", G_CALLBACK (notice_cb), seen);
  ts_document_set_resize (doc, TS_RESIZE_FIT, 336);
  ts_document_set_curve_methods (doc, pool_only);
  error = load (doc, path);
  g_assert_no_error (error);
  wait_for (doc, seen, TS_DOCUMENT_CHANGED_QUALITY);
  return doc;
}

/* fit 336 (the tests' setting), patch 14, pool 2 x 2 (the default ratio 4):
 * 672 x 504 -> 336 x 252: 24 x 18 = 432 patches, pooled 12 x 9 = 108. */
static void
test_document_default (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  const TsScene *scene = ts_document_get_scene (doc);
  g_autoptr (TsAssignment) direct = NULL;
  g_autoptr (TsImage) recon = NULL;
  TsMethodParams params;

  g_assert_nonnull (scene);
  g_assert_cmpint (scene->grid.cols, ==, 24);
  g_assert_cmpint (scene->grid.rows, ==, 18);
  g_assert_cmpint (ts_document_get_tokens_in (doc), ==, 432);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 108);
  g_assert_cmpstr (ts_document_get_method (doc)->name, ==, "pool");
  g_assert_cmpfloat_with_epsilon (ts_document_get_tpm (doc), 432e6 / (336.0 * 252.0), 1e-6);

  /* the same numbers as the core computes directly */
  ts_method_params_init (&params);
  direct = ts_method_run (ts_method_find ("pool", NULL), scene, &params, NULL, NULL);
  recon = ts_reconstruct (scene->image, &scene->grid, direct, params.fill, NULL);
  g_assert_cmpfloat_with_epsilon (ts_document_get_ssim (doc), ts_ssim (scene->image, recon), 1e-12);
  g_assert_cmpfloat_with_epsilon (ts_document_get_psnr (doc), ts_psnr (scene->image, recon), 1e-12);
  g_assert_cmpfloat_with_epsilon (ts_document_get_retention (doc),
                                  ts_feature_retention (scene->features, direct), 1e-12);
  g_assert_true (ts_image_equal (recon, ts_document_get_reconstruction (doc)));
  g_assert_cmpfloat (ts_document_get_ssim (doc), >, 0.0);
  g_assert_cmpfloat (ts_document_get_ssim (doc), <, 1.0);
  done (doc, &seen);
}

/* Ratio 16 -> target 27; k = 4 gives 6 x 5 = 30 > 27, so k = 5: 5 x 4 = 20 tokens.
 * Asking for 20 tokens sets the ratio 432 / 20 and gives the same. */
static void
test_document_ratio (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  double ssim4 = ts_document_get_ssim (doc);

  seen.what = 0;
  ts_document_set_ratio (doc, 16.0);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 20);
  g_assert_cmpfloat (ts_document_get_ssim (doc), <, ssim4);

  seen.what = 0;
  ts_document_set_ratio (doc, 4.0);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 108);

  seen.what = 0;
  ts_document_set_target_tokens (doc, 20);
  g_assert_cmpfloat_with_epsilon (ts_document_get_ratio (doc), 432.0 / 20, 1e-12);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 20);
  done (doc, &seen);
}

/* A burst of changes (a slider drag) ends with the last setting applied once. */
static void
test_document_burst (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);

  seen.what = 0;
  seen.quality_count = 0;
  for (int i = 0; i <= 40; i++)
    {
      ts_document_set_ratio (doc, 1.0 + i * (63.0 / 40));
      /* let some requests start so that cancellation really happens */
      if (i % 8 == 0)
        g_main_context_iteration (NULL, FALSE);
    }
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  /* ratio 64 -> target round(432 / 64) = 7; pool k = 8 gives 3 x 3 = 9 > 7,
   * k = 9 gives ceil(24/9) x ceil(18/9) = 3 x 2 = 6 */
  g_assert_cmpfloat_with_epsilon (ts_document_get_ratio (doc), 64.0, 1e-9);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 6);
  g_assert_cmpuint (seen.quality_count, <=, 6);
  g_assert_null (seen.notice);
}

/* Checks every "changed" emission of the two-stage pipeline against the core
 * called directly on what the document shows at that moment. */
typedef struct {
  guint assignments, reconstructions, qualities;
  guint order_errors;     /* a reconstruction or numbers before their groups */
  guint stale;            /* a reconstruction or numbers of other groups than those shown */
  gboolean have_recon, have_quality;
} Stages;

static void
stages_cb (TsDocument *doc, guint what, Stages *st)
{
  const TsScene *scene = ts_document_get_scene (doc);
  const TsAssignment *a = ts_document_get_assignment (doc);
  g_autoptr (TsImage) recon = NULL;

  if (what & TS_DOCUMENT_CHANGED_ASSIGNMENT)
    {
      /* the groups come first: nothing of the second stage yet */
      st->assignments++;
      st->have_recon = st->have_quality = FALSE;
      if (a == NULL || ts_document_get_reconstruction (doc) != NULL || !isnan (ts_document_get_ssim (doc))
          || !isnan (ts_document_get_psnr (doc)) || (what & (TS_DOCUMENT_CHANGED_QUALITY | TS_DOCUMENT_CHANGED_RECONSTRUCTION)))
        st->order_errors++;
    }
  if (!(what & (TS_DOCUMENT_CHANGED_RECONSTRUCTION | TS_DOCUMENT_CHANGED_QUALITY)))
    return;
  if (st->assignments == 0 || a == NULL || ts_document_get_reconstruction (doc) == NULL)
    {
      st->order_errors++;
      return;
    }
  recon = ts_reconstruct (scene->image, &scene->grid, a, ts_document_get_params (doc)->fill, NULL);
  if (what & TS_DOCUMENT_CHANGED_RECONSTRUCTION)
    {
      st->reconstructions++;
      st->have_recon = TRUE;
      if (!ts_image_equal (recon, ts_document_get_reconstruction (doc)))
        st->stale++;
    }
  if (what & TS_DOCUMENT_CHANGED_QUALITY)
    {
      st->qualities++;
      if (!st->have_recon)
        st->order_errors++;
      st->have_quality = TRUE;
      if (ts_document_get_ssim (doc) != ts_ssim (scene->image, recon)
          || ts_document_get_psnr (doc) != ts_psnr (scene->image, recon)
          || ts_document_get_retention (doc) != ts_feature_retention (scene->features, a))
        st->stale++;
    }
}

/* Two stages: the groups are shown (and announced) before their
 * reconstruction, which comes before the quality numbers; each stage
 * answers the groups shown at that moment. */
static void
test_document_two_stages (void)
{
  Seen seen = { 0 };
  Stages st = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  gboolean timed_out = FALSE;
  guint id;

  g_signal_connect (doc, "changed", G_CALLBACK (stages_cb), &st);
  seen.what = 0;
  ts_document_set_ratio (doc, 16.0);
  /* busy from the change on, before any worker started: a caller waiting for
   * "not busy" never reads the old groups as the answer */
  g_assert_true (ts_document_get_busy (doc));
  /* the groups alone first */
  id = g_timeout_add_seconds (60, timeout_cb, &timed_out);
  while (!timed_out && st.assignments == 0)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  g_assert_false (timed_out);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 20);
  g_assert_null (ts_document_get_reconstruction (doc));
  g_assert_true (isnan (ts_document_get_ssim (doc)));
  g_assert_true (ts_document_get_busy (doc)); /* the second stage runs */
  /* then the reconstruction and the numbers of those groups */
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpuint (st.assignments, ==, 1);
  g_assert_cmpuint (st.reconstructions, ==, 1);
  g_assert_cmpuint (st.qualities, ==, 1);
  g_assert_cmpuint (st.order_errors, ==, 0);
  g_assert_cmpuint (st.stale, ==, 0);
  g_assert_false (ts_document_get_busy (doc));
  g_signal_handlers_disconnect_by_data (doc, &st);
  done (doc, &seen);
}

/* A newer setting arriving while the second stage of an older one runs: the
 * older reconstruction and numbers are never shown over the newer groups.
 * A large picture makes the second stage (SSIM of 1344 x 1008) much slower
 * than the first (pooling), so the newer groups always overtake it. */
static void
test_document_stale_quality (void)
{
  Seen seen = { 0 };
  Stages st = { 0 };
  g_autoptr (TsDocument) doc = ts_document_new ();
  g_autoptr (TsImage) big = ts_test_noisy_gradient (1344, 1008, 7, 40);
  g_autofree char *path = ts_test_path ("doc-big.png");
  g_autoptr (GError) error = NULL;
  static const double ratios[] = { 2, 9, 3, 25, 4, 49, 1.5, 16 };
  gboolean timed_out = FALSE;
  guint id;

  g_assert_true (ts_image_save_png (big, path, &error));
  g_signal_connect (doc, "changed", G_CALLBACK (changed_cb), &seen);
  g_signal_connect (doc, "changed", G_CALLBACK (stages_cb), &st);
  ts_document_set_resize (doc, TS_RESIZE_NATIVE, 1344);
  ts_document_set_curve_methods (doc, pool_only);
  error = load (doc, path);
  g_assert_no_error (error);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpint (ts_document_get_tokens_in (doc), ==, 96 * 72);

  for (guint i = 0; i < G_N_ELEMENTS (ratios); i++)
    {
      guint before = st.assignments;
      ts_document_set_ratio (doc, ratios[i]);
      /* wait for these groups only: their second stage is still running
       * when the next setting comes */
      id = g_timeout_add_seconds (60, timeout_cb, &timed_out);
      while (!timed_out && st.assignments == before)
        g_main_context_iteration (NULL, TRUE);
      g_source_remove (id);
      g_assert_false (timed_out);
      g_assert_true (isnan (ts_document_get_ssim (doc)));
    }
  seen.what = 0;
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpuint (st.assignments, ==, 1 + G_N_ELEMENTS (ratios)); /* the load, then each setting */
  g_assert_cmpuint (st.order_errors, ==, 0);
  g_assert_cmpuint (st.stale, ==, 0);
  g_assert_cmpuint (st.qualities, >=, 1);
  /* the last groups got their numbers: pooling 6912 patches at 16x -> k 4: 24 x 18 */
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 24 * 18);
  g_assert_true (st.have_quality);
  g_assert_false (isnan (ts_document_get_ssim (doc)));
  g_signal_handlers_disconnect_by_data (doc, &st);
  done (doc, &seen);
}

/* A file that is not an image: an error, and the previous picture stays. */
static void
test_document_bad_file (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autofree char *bad = ts_test_write ("doc-bad.png", "this is not a PNG", 17);
  g_autofree char *empty = ts_test_write ("doc-empty.png", "", 0);
  g_autofree char *missing = ts_test_path ("doc-missing.png");
  g_autoptr (GError) error = NULL;

  error = load (doc, bad);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  error = load (doc, empty);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  error = load (doc, missing);
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_cmpstr (ts_document_get_name (doc), ==, "doc-gradient.png");
  g_assert_cmpint (ts_document_get_tokens_in (doc), ==, 432);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 108);
  done (doc, &seen);
}

/* Feature attention: a patch's own row peaks at itself (cos = 1 is the maximum). */
static void
test_document_attention (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  const float *att;
  int q = 9 * 24 + 13;
  float max = 0;

  g_assert_nonnull (ts_document_get_attention (doc));
  seen.what = 0;
  ts_document_set_tau (doc, 0.01);
  ts_document_set_query (doc, q);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_ATTENTION);
  att = ts_document_get_attention (doc);
  for (int i = 0; i < 432; i++)
    max = MAX (max, att[i]);
  g_assert_cmpfloat (att[q], ==, 1.0f);
  g_assert_cmpfloat (max, ==, 1.0f);
  /* out of range falls back to the mean token */
  ts_document_set_query (doc, 100000);
  g_assert_cmpint (ts_document_get_query (doc), ==, -1);
  done (doc, &seen);
}

/* Curves: one per registered method, starting at 1x with quality 1, ratios increasing. */
static void
test_document_curves (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  guint n_methods, n = 0;
  const TsCurve *curves;
  gboolean timed_out = FALSE;
  guint id;

  /* three methods keep the test short; the GUI measures every registered one */
  static const char *const names[] = { "pool", "tome", "downsample", NULL };
  ts_document_set_curve_methods (doc, names);
  n_methods = 3;
  id = g_timeout_add_seconds (120, timeout_cb, &timed_out);
  while (!timed_out && (ts_document_get_curves (doc, &n), n < n_methods))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  g_assert_false (timed_out);
  curves = ts_document_get_curves (doc, &n);
  for (guint i = 0; i < n; i++)
    {
      const TsCurve *c = &curves[i];
      g_assert_cmpuint (c->n_points, >=, 3);
      g_assert_cmpfloat (c->points[0].ratio, ==, 1.0);
      g_assert_cmpfloat (c->points[0].values[TS_METRIC_SSIM], ==, 1.0);
      for (guint j = 1; j < c->n_points; j++)
        {
          g_assert_cmpfloat (c->points[j].ratio, >, c->points[j - 1].ratio);
          g_assert_cmpint (c->points[j].tokens, <, c->points[j - 1].tokens);
          g_assert_cmpfloat (c->points[j].values[TS_METRIC_SSIM], <=, 1.0);
        }
    }
  /* pool is quantised: ratios 2 and 4 both give k = 2 (108 tokens), kept once,
   * with the live view's quality; then 8 -> k = 3 (8 x 6 = 48) */
  for (guint i = 0; i < n; i++)
    if (g_str_equal (curves[i].method->name, "pool"))
      {
        g_assert_cmpint (curves[i].points[1].tokens, ==, 108);
        /* the curves measure like ts-sweep (float SSIM, agrees with ts_ssim to 1e-5) */
        g_assert_cmpfloat_with_epsilon (curves[i].points[1].values[TS_METRIC_SSIM], ts_document_get_ssim (doc),
                                        1e-5);
        g_assert_cmpint (curves[i].points[2].tokens, ==, 48);
      }
  /* measuring them again drops the old curves at once and says so: a view
   * that redraws its plot only on CURVES must not keep showing them */
  seen.what = 0;
  ts_document_set_curve_methods (doc, names);
  g_assert_true (seen.what & TS_DOCUMENT_CHANGED_CURVES);
  ts_document_get_curves (doc, &n);
  g_assert_cmpuint (n, ==, 0);
  done (doc, &seen);
}

static void
test_document_unknown_method (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);

  ts_document_set_method (doc, "no-such-method");
  g_assert_nonnull (seen.notice);
  g_assert_nonnull (strstr (seen.notice, "no-such-method"));
  g_assert_cmpstr (ts_document_get_method (doc)->name, ==, "pool");
  done (doc, &seen);
}

static void
test_document_exports (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autofree char *cmd = ts_document_dup_command (doc);
  g_autofree char *json = ts_document_dup_numbers_json (doc);
  g_autofree char *csv = ts_document_dup_numbers_csv (doc);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  JsonObject *o;

  g_assert_nonnull (strstr (cmd, "tokenscope-cli compress "));
  g_assert_nonnull (strstr (cmd, "doc-gradient.png"));
  g_assert_nonnull (strstr (cmd, " --method pool --ratio 4 --resize fit --size 336"));
  {
    /* the settings file the CLI reads back */
    g_autofree char *path = ts_test_path ("doc-settings.json");
    TsSettings st;
    g_assert_true (ts_document_export_settings (doc, path, &error));
    g_assert_no_error (error);
    ts_settings_init (&st);
    g_assert_true (ts_settings_load (&st, path, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (st.method, ==, "pool");
    g_assert_cmpint (st.resize.policy, ==, TS_RESIZE_FIT);
    g_assert_cmpint (st.resize.size, ==, 336);
    g_assert_cmpfloat (st.params.ratio, ==, 4.0);
    ts_settings_clear (&st);
    g_assert_false (ts_document_export_settings (doc, "/nonexistent-dir/x.json", &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_IO);
    g_clear_error (&error);
  }

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (o, "tokens_in"), ==, 432);
  g_assert_cmpint (json_object_get_int_member (o, "tokens_out"), ==, 108);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "cr"), 4.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "ssim"), ts_document_get_ssim (doc), 1e-12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "efficiency"), 4.0 * ts_document_get_ssim (doc),
                                  1e-9);

  lines = g_strsplit (csv, "\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "image,method,tokens_in,tokens_out,cr"));
  g_assert_true (g_str_has_prefix (lines[1], "doc-gradient.png,pool,432,108,4,"));
  done (doc, &seen);
}

/* Settings round trip through a key file (model features too); bad values keep the defaults. */
static void
test_document_settings (void)
{
  g_autoptr (TsDocument) a = ts_document_new ();
  g_autoptr (TsDocument) b = ts_document_new ();
  g_autoptr (TsDocument) c = ts_document_new ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GKeyFile) bad = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *model = g_test_build_filename (G_TEST_DIST, "data", "models", "clip.safetensors", NULL);

  ts_document_set_resize (a, TS_RESIZE_SQUARE, 448);
  ts_document_set_patch (a, 16);
  ts_document_set_features (a, TS_FEATURES_DESCRIPTOR, NULL);
  ts_document_set_ratio (a, 9.5);
  ts_document_set_tau (a, 0.05);
  ts_document_set_pool_mode (a, TS_POOL_MAX);
  ts_document_set_fill (a, TS_DROP_FILL_GREY);
  ts_document_save_settings (a, kf);
  data = g_key_file_to_data (kf, NULL, NULL);
  g_assert_nonnull (strstr (data, "resize=square"));

  ts_document_load_settings (b, kf);
  g_assert_cmpint (ts_document_get_resize_policy (b), ==, TS_RESIZE_SQUARE);
  g_assert_cmpint (ts_document_get_resize_size (b), ==, 448);
  g_assert_cmpint (ts_document_get_patch (b), ==, 16);
  g_assert_cmpint (ts_document_get_feature_kind (b), ==, TS_FEATURES_DESCRIPTOR);
  g_assert_cmpfloat (ts_document_get_ratio (b), ==, 9.5);
  g_assert_cmpfloat (ts_document_get_params (b)->tau, ==, 0.05);
  g_assert_cmpint (ts_document_get_params (b)->pool_mode, ==, TS_POOL_MAX);
  g_assert_cmpint (ts_document_get_params (b)->fill, ==, TS_DROP_FILL_GREY);

  g_assert_true (g_key_file_load_from_data (bad,
                                            "[document]\nresize=sideways\nsize=banana\npatch=999\nmethod=nope\n"
                                            "ratio=-3\nfeatures=npy\nnpy=/nonexistent.npy\ntau=nan\n",
                                            -1, G_KEY_FILE_NONE, NULL));
  ts_document_load_settings (c, bad);
  g_assert_cmpint (ts_document_get_resize_policy (c), ==, TS_RESIZE_FIT);
  g_assert_cmpint (ts_document_get_resize_size (c), ==, 672);
  g_assert_cmpint (ts_document_get_patch (c), ==, TS_PATCH_MAX); /* clamped */
  g_assert_cmpstr (ts_document_get_method (c)->name, ==, "pool");
  g_assert_cmpfloat (ts_document_get_ratio (c), ==, 1.0);         /* clamped to >= 1 */
  g_assert_cmpint (ts_document_get_feature_kind (c), ==, TS_FEATURES_PIXEL);
  g_assert_cmpfloat (ts_document_get_params (c)->tau, ==, 0.1);

  /* a model with its family and layer; a model file that is gone gives pixel features */
  ts_document_set_features (a, TS_FEATURES_MODEL, model);
  ts_document_set_model_layer (a, 0);
  ts_document_set_model_family (a, TS_VIT_FAMILY_CLIP);
  ts_document_save_settings (a, kf);
  ts_document_load_settings (b, kf);
  g_assert_cmpint (ts_document_get_feature_kind (b), ==, TS_FEATURES_MODEL);
  g_assert_cmpstr (ts_document_get_npy_path (b), ==, model);
  g_assert_cmpint (ts_document_get_model_layer (b), ==, 0);
  g_assert_cmpint (ts_document_get_model_family (b), ==, TS_VIT_FAMILY_CLIP);
  g_key_file_set_string (bad, "document", "features", "model");
  g_key_file_set_string (bad, "document", "model", "/nonexistent/gone.safetensors");
  ts_document_load_settings (c, bad);
  g_assert_cmpint (ts_document_get_feature_kind (c), ==, TS_FEATURES_PIXEL);
}

/* A scene setting that cannot be met (npy without a file) reports and keeps the old result. */
static void
test_document_bad_setting (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autofree char *npy = ts_test_write ("doc-wrong.npy", "\x93NUMPY", 6);
  gboolean timed_out = FALSE;
  guint id;

  ts_document_set_features (doc, TS_FEATURES_NPY, npy);
  id = g_timeout_add_seconds (30, timeout_cb, &timed_out);
  while (!timed_out && seen.notice == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  g_assert_nonnull (seen.notice);
  g_assert_cmpint (ts_document_get_tokens_out (doc), ==, 108);
  g_assert_cmpint (ts_document_get_scene (doc)->kind, ==, TS_FEATURES_PIXEL);
  done (doc, &seen);
}

typedef struct {
  gboolean finished;
  TsBudgetFixed *fixed;
  GError *error;
} BudgetWait;

static void
budget_done_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  BudgetWait *w = data;

  w->fixed = ts_document_budget_finish (TS_DOCUMENT (source), res, &w->error);
  w->finished = TRUE;
}

/* Runs the budget worker to completion; returns the options or NULL with @error. */
static TsBudgetFixed *
budget (TsDocument *doc, int context, int text, GCancellable *cancellable, GError **error)
{
  BudgetWait w = { 0 };

  ts_document_budget_async (doc, context, text, cancellable, budget_done_cb, &w);
  while (!w.finished)
    g_main_context_iteration (NULL, TRUE);
  if (w.error)
    g_propagate_error (error, w.error);
  return w.fixed;
}

/* Options A/B/C of the Budget page: the worker's values are the core's on the
 * document's scene (336 x 252, 432 tokens); context 2048 - text 1900 = 148:
 * B compresses ceil(432 / 148) = 3x to ceil(432 / 3) = 144 tokens. Each one
 * applied gives its method and token count. */
static void
test_document_budget (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsBudgetFixed) fixed = budget (doc, 2048, 1900, NULL, &error);
  g_autoptr (TsBudgetFixed) direct = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (fixed);
  direct = ts_budget_fixed (ts_document_get_scene (doc), 2048, 1900, NULL, ts_document_get_params (doc), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fixed->budget, ==, 148);
  g_assert_cmpint (fixed->tokens, ==, 432);
  g_assert_cmpint (fixed->options[1].tokens, ==, 144);
  g_assert_cmpstr (fixed->options[1].method, ==, "tome");
  for (int i = 0; i < 3; i++)
    {
      const TsBudgetOption *o = &fixed->options[i];
      g_assert_true (o->available);
      g_assert_cmpint (o->tokens, ==, direct->options[i].tokens);
      g_assert_cmpint (o->tokens, <=, 148);
      g_assert_cmpfloat_with_epsilon (o->ssim, direct->options[i].ssim, 1e-12);
      g_assert_cmpfloat_with_epsilon (o->psnr, direct->options[i].psnr, 1e-12);
    }
  g_assert_cmpstr (ts_budget_option_method (&fixed->options[0]), ==, "downsample");
  g_assert_cmpstr (ts_budget_option_method (&fixed->options[2]), ==, "adaptive");

  for (int i = 0; i < 3; i++)
    {
      seen.what = 0;
      g_assert_true (ts_document_apply_budget_option (doc, &fixed->options[i], &error));
      g_assert_no_error (error);
      wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
      g_assert_cmpstr (ts_document_get_method (doc)->name, ==, ts_budget_option_method (&fixed->options[i]));
      g_assert_cmpint (ts_document_get_tokens_out (doc), ==, fixed->options[i].tokens);
    }
  /* option B's quality is what the document measures for the same setting
   * (the budget measures as a sweep does, its SSIM in float, within 1e-6 of
   * ts_ssim's double, which the document shows) */
  seen.what = 0;
  g_assert_true (ts_document_apply_budget_option (doc, &fixed->options[1], NULL));
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpfloat_with_epsilon (ts_document_get_ssim (doc), fixed->options[1].ssim, 1e-6);

  /* an option that is not available is refused and changes nothing */
  fixed->options[2].available = FALSE;
  g_assert_false (ts_document_apply_budget_option (doc, &fixed->options[2], &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (ts_document_get_method (doc)->name, ==, "tome");
  done (doc, &seen);
}

/* Bad requests: no image yet, a text reserve that fills the context, a cancelled request. */
static void
test_document_budget_bad (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) empty = ts_document_new ();
  g_autoptr (TsDocument) doc = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;

  g_assert_null (budget (empty, 2048, 1500, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_document_vlm_counts (empty));

  doc = new_loaded (&seen);
  g_assert_null (budget (doc, 1024, 1024, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_cancellable_cancel (cancellable);
  g_assert_null (budget (doc, 2048, 1500, cancellable, &error));
  g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                 || g_error_matches (error, TS_ERROR, TS_ERROR_CANCELLED));
  done (doc, &seen);
}

/* The VLM table is core/ts-vlm.h on the loaded image's own size (672 x 504,
 * not the 336 x 252 working image): LLaVA-1.5 576, LLaVA-NeXT picks a tile grid. */
static void
test_document_vlm (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autoptr (GArray) rows = ts_document_vlm_counts (doc);

  g_assert_nonnull (rows);
  g_assert_cmpuint (rows->len, ==, TS_VLM_N_MODELS);
  for (guint i = 0; i < rows->len; i++)
    {
      const TsVlmCount *row = &g_array_index (rows, TsVlmCount, i);
      TsVlmCount direct;
      TsVlmGeneric generic;

      ts_vlm_generic_init (&generic);
      generic.resize.policy = TS_RESIZE_FIT;
      generic.resize.size = 336;
      generic.patch = 14;
      g_assert_true (ts_vlm_count (i, 672, 504, &generic, &direct, NULL));
      g_assert_cmpint (row->model, ==, i);
      g_assert_cmpint (row->tokens, ==, direct.tokens);
      g_assert_cmpint (row->tile_cols, ==, direct.tile_cols);
      g_assert_cmpint (row->resized_width, ==, direct.resized_width);
    }
  g_assert_cmpint (g_array_index (rows, TsVlmCount, TS_VLM_LLAVA_15).tokens, ==, 576);
  /* generic ViT with the document's fit 336 / patch 14: 24 x 18 */
  g_assert_cmpint (g_array_index (rows, TsVlmCount, TS_VLM_GENERIC_VIT).tokens, ==, 432);
  g_assert_cmpint (g_array_index (rows, TsVlmCount, TS_VLM_LLAVA_NEXT).tile_cols, >=, 1);
  done (doc, &seen);
}

/* Iterates the main loop until a notice arrives (30 s at most). */
static void
wait_for_notice (Seen *seen)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (30, timeout_cb, &timed_out);

  while (!timed_out && seen->notice == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}

/* Model features (issue #8) from the tiny CLIP golden (patch 14, 4 x 4
 * positions): the scene is core's ts_vit_scene_new on the same frame, the
 * mean-token attention is the model's CLS attention scaled to max 1, the
 * command and the settings file carry --model; a file that is no model gives
 * a notice naming it and the model features stay. */
static void
test_document_model (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autofree char *model = g_test_build_filename (G_TEST_DIST, "data", "models", "clip.safetensors", NULL);
  g_autofree char *bad = ts_test_write ("doc-bad.safetensors", "not a model", 11);
  g_autoptr (TsVit) vit = ts_vit_load (model, NULL, NULL);
  TsResize resize = { TS_RESIZE_SQUARE, 56 };
  g_autoptr (TsScene) direct = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cmd = NULL;
  g_autofree char *settings = ts_test_path ("doc-model.json");
  const TsScene *scene;
  const float *attention;
  float max = 0;
  TsSettings st;

  g_assert_nonnull (vit);
  seen.what = 0;
  ts_document_set_resize (doc, TS_RESIZE_SQUARE, 56);
  ts_document_set_features (doc, TS_FEATURES_MODEL, model);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_SCENE | TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_null (seen.notice);
  scene = ts_document_get_scene (doc);
  g_assert_cmpint (scene->kind, ==, TS_FEATURES_MODEL);
  g_assert_cmpint (scene->grid.patch, ==, 14);
  g_assert_cmpint (scene->grid.tokens, ==, 16);
  direct = ts_vit_scene_new (vit, ts_document_get_media (doc)->frames[0], &resize, -2, TS_VIT_IMPORTANCE_QUERY, NULL,
                             &error);
  g_assert_no_error (error);
  g_assert_cmpint (direct->features->d, ==, scene->features->d);
  for (int i = 0; i < direct->features->n * direct->features->d; i++)
    g_assert_cmpfloat (scene->features->data[i], ==, direct->features->data[i]);
  g_assert_nonnull (direct->importance);
  attention = ts_document_get_attention (doc);
  for (int i = 0; i < 16; i++)
    max = MAX (max, direct->importance[i]);
  for (int i = 0; i < 16; i++)
    g_assert_cmpfloat_with_epsilon (attention[i], direct->importance[i] / max, 1e-6);

  cmd = ts_document_dup_command (doc);
  g_assert_nonnull (strstr (cmd, " --resize square --size 56 --model "));
  g_assert_nonnull (strstr (cmd, "clip.safetensors"));
  g_assert_null (strstr (cmd, "--patch"));
  g_assert_true (ts_document_export_settings (doc, settings, &error));
  ts_settings_init (&st);
  g_assert_true (ts_settings_load (&st, settings, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (st.model_file, ==, model);
  g_assert_cmpint (st.model_layer, ==, -2);
  ts_settings_clear (&st);

  /* a bad file: a notice naming it, the model's features kept */
  seen.what = 0;
  ts_document_set_features (doc, TS_FEATURES_MODEL, bad);
  wait_for_notice (&seen);
  g_assert_nonnull (seen.notice);
  g_assert_nonnull (strstr (seen.notice, "doc-bad.safetensors"));
  g_assert_cmpstr (ts_document_get_npy_path (doc), ==, model);
  g_assert_cmpint (ts_document_get_feature_kind (doc), ==, TS_FEATURES_MODEL);
  g_assert_true (ts_document_get_scene (doc) == scene);

  /* read as the wrong family: a notice, and back to the family that worked */
  g_clear_pointer (&seen.notice, g_free);
  ts_document_set_model_family (doc, TS_VIT_FAMILY_DINOV2);
  wait_for_notice (&seen);
  g_assert_nonnull (seen.notice);
  g_assert_cmpint (ts_document_get_model_family (doc), ==, TS_VIT_FAMILY_AUTO);
  g_assert_true (ts_document_get_scene (doc) == scene);

  /* another layer: new features */
  seen.what = 0;
  ts_document_set_model_layer (doc, 1);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_SCENE | TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_true (ts_document_get_scene (doc) != scene);
  g_clear_pointer (&cmd, g_free);
  cmd = ts_document_dup_command (doc);
  g_assert_nonnull (strstr (cmd, " --layer 1"));
  done (doc, &seen);
}

/* A target change answered within the same main-loop turn: once a method ran
 * quickly on the scene shown, the next ratio change shows its groups before
 * ts_document_set_ratio returns (so the frame that moves the slider shows
 * them); a method not yet timed on the scene stays in its worker. */
static void
test_document_same_frame (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  const TsAssignment *a;
  int n = ts_document_get_tokens_in (doc);

  /* the scene was built by the first request; this one runs on it and is timed */
  seen.what = 0;
  ts_document_set_ratio (doc, 2.0);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  /* pool on a ready scene: the groups come with the call */
  seen.what = 0;
  ts_document_set_ratio (doc, 16.0);
  g_assert_true (seen.what & TS_DOCUMENT_CHANGED_ASSIGNMENT);
  a = ts_document_get_assignment (doc);
  /* 24 x 18 at 16x: 4 x 4 gives 6 x 5 = 30 (14.4x), so 5 x 5: 5 x 4 = 20 (21.6x) */
  g_assert_cmpint (a->n_out, ==, 20);
  g_assert_true (isnan (ts_document_get_ssim (doc)));  /* the numbers follow later */
  g_assert_true (ts_document_get_busy (doc));
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_false (isnan (ts_document_get_ssim (doc)));
  g_assert_cmpint (n, ==, 432);

  /* a method the document has not timed on this scene goes to its worker */
  ts_document_set_method (doc, "tome");
  seen.what = 0;
  ts_document_set_ratio (doc, 8.0);
  g_assert_false (seen.what & TS_DOCUMENT_CHANGED_ASSIGNMENT);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_QUALITY);
  g_assert_cmpint (ts_document_get_assignment (doc)->n_out, ==, 54);
  done (doc, &seen);
}

/* The scene's token entropy comes with the curves, equal to the core's on
 * the scene shown, and a new scene clears it until it is measured again. */
static void
test_document_entropy (void)
{
  Seen seen = { 0 };
  g_autoptr (TsDocument) doc = new_loaded (&seen);
  g_autoptr (TsEntropy) expect = NULL;
  TsEntropyOptions opts;
  const TsEntropy *e;

  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_ENTROPY);
  e = ts_document_get_entropy (doc);
  g_assert_nonnull (e);
  ts_entropy_options_init (&opts);
  expect = ts_entropy_compute (ts_document_get_scene (doc), &opts, NULL, NULL);
  g_assert_cmpint (e->n, ==, 432);
  g_assert_cmpint (e->clusters, ==, expect->clusters);
  g_assert_cmpfloat (e->bits_per_token, ==, expect->bits_per_token);
  g_assert_cmpfloat (e->suggested_lo, ==, expect->suggested_lo);
  g_assert_cmpfloat (e->suggested_hi, ==, expect->suggested_hi);
  g_assert_true (e->bits_per_token > 0 && e->bits_per_token <= log2 (256));

  /* patch 16: a new scene; its entropy follows */
  seen.what = 0;
  ts_document_set_patch (doc, 16);
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_SCENE);
  if (!(seen.what & TS_DOCUMENT_CHANGED_ENTROPY))
    g_assert_null (ts_document_get_entropy (doc));
  wait_for (doc, &seen, TS_DOCUMENT_CHANGED_ENTROPY);
  g_assert_cmpint (ts_document_get_tokens_in (doc), ==, 21 * 16); /* 336 x 252 fitted to 16 px: 336 x 256 */
  g_assert_cmpint (ts_document_get_entropy (doc)->n, ==, 21 * 16);
  done (doc, &seen);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/document/default", test_document_default);
  g_test_add_func ("/document/ratio", test_document_ratio);
  g_test_add_func ("/document/burst", test_document_burst);
  g_test_add_func ("/document/same-frame", test_document_same_frame);
  g_test_add_func ("/document/entropy", test_document_entropy);
  g_test_add_func ("/document/two-stages", test_document_two_stages);
  g_test_add_func ("/document/stale-quality", test_document_stale_quality);
  g_test_add_func ("/document/bad-file", test_document_bad_file);
  g_test_add_func ("/document/attention", test_document_attention);
  g_test_add_func ("/document/curves", test_document_curves);
  g_test_add_func ("/document/unknown-method", test_document_unknown_method);
  g_test_add_func ("/document/exports", test_document_exports);
  g_test_add_func ("/document/settings", test_document_settings);
  g_test_add_func ("/document/bad-setting", test_document_bad_setting);
  g_test_add_func ("/document/budget", test_document_budget);
  g_test_add_func ("/document/budget-bad", test_document_budget_bad);
  g_test_add_func ("/document/vlm", test_document_vlm);
  g_test_add_func ("/document/model", test_document_model);
  status = g_test_run ();
  /* the documents' workers stop at their next check: not under exit's destructors */
  if (!ts_document_wait_workers (30000))
    g_error ("document workers still running 30 s after the tests");
  return status;
}
