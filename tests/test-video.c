/* test-video.c: the video view-model without a display.
 *
 * A GIF loaded in a TsDocument: switching frames rebuilds the scene from
 * that frame, and TsVideo's per-frame token counts and changed masks equal
 * core/ts-temporal.h run directly on the same frames. */
#include <string.h>

#include "ts-test-util.h"
#include "ts-video.h"

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
load_done_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GError **error = data;
  if (!ts_document_load_finish (TS_DOCUMENT (source), res, error))
    return;
  *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "ok");
}

static void
load (TsDocument *doc, const char *path)
{
  g_autoptr (GError) error = NULL;

  ts_document_load_file_async (doc, path, NULL, load_done_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
}

static void
scene_cb (TsDocument *doc, guint what, gboolean *seen)
{
  if (what & TS_DOCUMENT_CHANGED_SCENE)
    *seen = TRUE;
}

/* Iterates until the document shows a new scene of frame @frame, is idle, and
 * the video model (unless NULL) has a result. */
static void
wait_idle (TsDocument *doc, TsVideo *video, guint frame)
{
  gboolean timed_out = FALSE, scene_seen = FALSE;
  guint id = g_timeout_add_seconds (60, timeout_cb, &timed_out);
  gulong handler = g_signal_connect (doc, "changed", G_CALLBACK (scene_cb), &scene_seen);

  while (!timed_out)
    {
      if (scene_seen && !ts_document_get_busy (doc) && ts_document_get_frame (doc) == frame
          && (video == NULL || (!ts_video_get_busy (video) && ts_video_get_result (video))))
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (doc, handler);
  g_assert_false (timed_out);
  g_source_remove (id);
}

/* Iterates until the video model has a result. */
static void
wait_video (TsVideo *video)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (60, timeout_cb, &timed_out);

  while (!timed_out && (ts_video_get_busy (video) || ts_video_get_result (video) == NULL))
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static TsTemporalResult *
core_temporal (const char *path, const TsResize *resize, int patch, const TsTemporalOptions *options,
               GPtrArray **frames_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load_any (path, NULL, &error);
  GPtrArray *frames;
  TsTemporalResult *r;

  g_assert_no_error (error);
  frames = ts_temporal_prepare (media, resize, patch, NULL, &error);
  g_assert_no_error (error);
  r = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, patch, options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  *frames_out = frames;
  return r;
}

static void
test_video_frames (void)
{
  g_autofree char *gif = g_test_build_filename (G_TEST_DIST, "data", "moving-square.gif", NULL);
  g_autoptr (TsDocument) doc = ts_document_new ();
  g_autoptr (TsVideo) video = ts_video_new (doc);
  g_autoptr (TsTemporalResult) expect = NULL;
  g_autoptr (GPtrArray) frames = NULL;
  g_autoptr (TsImage) frame0 = NULL;
  TsResize resize = { TS_RESIZE_NATIVE, 64 };
  TsTemporalOptions options;
  const TsTemporalResult *got;
  const int *tokens;
  guint n, changed_frames = 0;

  ts_document_set_resize (doc, TS_RESIZE_NATIVE, 64);
  ts_document_set_patch (doc, 8);
  load (doc, gif);
  g_assert_cmpuint (ts_document_get_n_frames (doc), >, 2);
  wait_idle (doc, video, 0);

  /* the counts the core gives for the same frames and options */
  ts_temporal_options_init (&options);
  options.topk = ts_video_get_options (video)->topk;
  expect = core_temporal (gif, &resize, 8, &options, &frames);
  got = ts_video_get_result (video);
  g_assert_cmpuint (got->n_frames, ==, expect->n_frames);
  g_assert_cmpint (got->tokens_sent, ==, expect->tokens_sent);
  g_assert_cmpfloat_with_epsilon (got->clip_ratio, expect->clip_ratio, 1e-12);
  tokens = ts_video_get_tokens_per_frame (video, &n);
  g_assert_cmpuint (n, ==, expect->n_frames);
  for (guint i = 0; i < n; i++)
    {
      const guint8 *mask = ts_video_get_changed_mask (video, i);
      int ones = 0;
      g_assert_cmpint (tokens[i], ==, expect->frames[i].sent);
      g_assert_cmpmem (mask, expect->grid.tokens, expect->frames[i].sent_mask, expect->grid.tokens);
      for (int k = 0; k < expect->grid.tokens; k++)
        ones += mask[k];
      g_assert_cmpint (ones, ==, tokens[i]);
      changed_frames += i > 0 && tokens[i] > 0 && tokens[i] < expect->grid.tokens;
    }
  g_assert_cmpint (tokens[0], ==, expect->grid.tokens);   /* frame 0 sends everything */
  g_assert_cmpuint (changed_frames, >, 0);                /* a moving square: later frames send a part */
  g_assert_null (ts_video_get_changed_mask (video, n));

  /* frame switching: the scene is rebuilt from that frame's pixels */
  frame0 = ts_image_copy (ts_document_get_scene (doc)->image);
  g_assert_true (ts_image_equal (frame0, frames->pdata[0]));
  ts_document_set_frame (doc, 2);
  wait_idle (doc, video, 2);
  g_assert_true (ts_image_equal (ts_document_get_scene (doc)->image, frames->pdata[2]));
  g_assert_false (ts_image_equal (ts_document_get_scene (doc)->image, frame0));
  g_assert_cmpint (ts_document_get_tokens_in (doc), ==, expect->grid.tokens);
  /* past the end is clamped to the last frame */
  ts_document_set_frame (doc, 1000);
  g_assert_cmpuint (ts_document_get_frame (doc), ==, n - 1);
  wait_idle (doc, video, n - 1);
  g_assert_true (ts_image_equal (ts_document_get_scene (doc)->image, frames->pdata[n - 1]));
}

static void
test_video_options (void)
{
  g_autofree char *gif = g_test_build_filename (G_TEST_DIST, "data", "moving-square.gif", NULL);
  g_autoptr (TsDocument) doc = ts_document_new ();
  g_autoptr (TsVideo) video = ts_video_new (doc);
  g_autoptr (TsTemporalResult) expect = NULL;
  g_autoptr (GPtrArray) frames = NULL;
  TsResize resize = { TS_RESIZE_NATIVE, 64 };
  TsTemporalOptions options;
  const int *tokens;
  guint n;

  ts_document_set_resize (doc, TS_RESIZE_NATIVE, 64);
  ts_document_set_patch (doc, 8);
  load (doc, gif);
  wait_idle (doc, video, 0);
  /* top-k 3 with a keyframe every 2 frames */
  ts_temporal_options_init (&options);
  options.mode = TS_TEMPORAL_TOPK;
  options.topk = 3;
  options.keyframe = 2;
  ts_video_set_options (video, &options);
  g_assert_null (ts_video_get_result (video)); /* the old result is dropped at once */
  wait_video (video);
  expect = core_temporal (gif, &resize, 8, &options, &frames);
  tokens = ts_video_get_tokens_per_frame (video, &n);
  g_assert_cmpuint (n, ==, expect->n_frames);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (tokens[i], ==, expect->frames[i].sent);
      g_assert_cmpint (tokens[i], ==, i % 2 == 0 ? expect->grid.tokens : MIN (3, expect->frames[i].changed));
    }
  /* bad values are clamped, not refused */
  options.topk = -5;
  options.threshold = 7;
  options.keyframe = -1;
  ts_video_set_options (video, &options);
  g_assert_cmpint (ts_video_get_options (video)->topk, ==, 1);
  g_assert_cmpfloat (ts_video_get_options (video)->threshold, ==, 2.0);
  g_assert_cmpint (ts_video_get_options (video)->keyframe, ==, 0);
  /* a GIF frame without a delay plays at 100 ms; the test GIF has its own */
  g_assert_cmpuint (ts_video_get_delay_ms (video, 0), >, 0);
  g_assert_cmpuint (ts_video_get_delay_ms (video, 999), ==, 100);
}

static void
test_video_still (void)
{
  g_autoptr (TsImage) img = ts_test_gradient (64, 48);
  g_autofree char *path = ts_test_path ("video-still.png");
  g_autoptr (TsDocument) doc = ts_document_new ();
  g_autoptr (TsVideo) video = ts_video_new (doc);
  g_autoptr (GError) error = NULL;
  guint n;

  g_assert_true (ts_image_save_png (img, path, &error));
  ts_document_set_patch (doc, 8);
  load (doc, path);
  wait_idle (doc, NULL, 0);
  g_assert_cmpuint (ts_document_get_n_frames (doc), ==, 1);
  g_assert_false (ts_video_get_busy (video));
  g_assert_null (ts_video_get_result (video));
  g_assert_null (ts_video_get_tokens_per_frame (video, &n));
  g_assert_cmpuint (n, ==, 0);
  ts_document_set_frame (doc, 5);
  g_assert_cmpuint (ts_document_get_frame (doc), ==, 0);
}

/* Dropping the model while its analysis runs must not crash or leak the late result. */
static void
test_video_dispose_while_running (void)
{
  g_autofree char *gif = g_test_build_filename (G_TEST_DIST, "data", "moving-square.gif", NULL);
  g_autoptr (TsDocument) doc = ts_document_new ();
  TsVideo *video = ts_video_new (doc);
  gboolean timed_out = FALSE;

  ts_document_set_patch (doc, 8);
  load (doc, gif);
  g_assert_true (ts_video_get_busy (video));
  g_object_unref (video);
  g_timeout_add (300, timeout_cb, &timed_out);
  while (!timed_out)
    g_main_context_iteration (NULL, TRUE);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/video/frames", test_video_frames);
  g_test_add_func ("/video/options", test_video_options);
  g_test_add_func ("/video/still", test_video_still);
  g_test_add_func ("/video/dispose-while-running", test_video_dispose_while_running);
  status = g_test_run ();
  /* the documents' workers stop at their next check: not under exit's destructors */
  if (!ts_document_wait_workers (30000))
    g_error ("document workers still running 30 s after the tests");
  return status;
}
