/* Temporal redundancy: which tokens are re-sent, keyframes, top-k, clip ratio, the video CLI. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

#define SIDE 64
#define PATCH 8

/* A 64 x 64 grey frame (8 x 8 tokens at P 8) with a 12 x 12 white square at (x, 10). */
static TsImage *
square_frame (int x)
{
  TsImage *f = ts_test_solid (SIDE, SIDE, 100, 100, 100);

  for (int y = 10; y < 22; y++)
    memset (f->data + ((gsize) y * SIDE + x) * 3, 255, 12 * 3);
  return f;
}

/* Frames 0..3: the square at x = 10, 18, 26, 26 (the last frame repeats). */
static GPtrArray *
moving_clip (void)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) ts_image_free);
  const int xs[] = { 10, 18, 26, 26 };

  for (guint i = 0; i < G_N_ELEMENTS (xs); i++)
    g_ptr_array_add (frames, square_frame (xs[i]));
  return frames;
}

static TsTemporalResult *
run (GPtrArray *frames, const TsTemporalOptions *o)
{
  g_autoptr (GError) error = NULL;
  TsTemporalResult *r = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, PATCH, o, NULL, NULL, NULL,
                                         &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

/* The tokens (raster index) of a mask as a sorted list string, e.g. "9 10 11 17 18 19". */
static char *
mask_string (const guint8 *mask, int n)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    if (mask[i])
      g_string_append_printf (s, "%s%d", s->len ? " " : "", i);
  return g_string_free (s, FALSE);
}

/* The square spans pixels [x, x+12) x [10, 22): rows 1-2 (pixels 8..23) and, at
 * x = 10, cols 1-2; at 18, cols 2-3; at 26, cols 3-4. A move from 10 to 18 changes
 * cols 1, 2, 3 of rows 1, 2: tokens 9 10 11 17 18 19 (every patch whose pixels differ). */
static void
test_moving_square (void)
{
  g_autoptr (GPtrArray) frames = moving_clip ();
  g_autoptr (TsTemporalResult) r = NULL;
  TsTemporalOptions o;

  ts_temporal_options_init (&o);
  o.threshold = 0.0;
  r = run (frames, &o);
  g_assert_cmpint (r->grid.tokens, ==, 64);
  g_assert_cmpuint (r->n_frames, ==, 4);
  g_assert_true (r->frames[0].keyframe);
  g_assert_cmpint (r->frames[0].sent, ==, 64);
  {
    g_autofree char *m1 = mask_string (r->frames[1].sent_mask, 64);
    g_autofree char *m2 = mask_string (r->frames[2].sent_mask, 64);
    g_autofree char *m3 = mask_string (r->frames[3].sent_mask, 64);
    g_assert_cmpstr (m1, ==, "9 10 11 17 18 19");
    g_assert_cmpstr (m2, ==, "10 11 12 18 19 20");
    g_assert_cmpstr (m3, ==, "");
  }
  g_assert_cmpint (r->frames[1].sent, ==, 6);
  g_assert_cmpint (r->frames[1].changed, ==, 6);
  g_assert_cmpint (r->frames[3].sent, ==, 0);
  g_assert_false (r->frames[1].keyframe);
  /* every change was sent: the decoder sees the true frames */
  for (guint t = 0; t < 4; t++)
    {
      g_assert_true (isinf (r->frames[t].psnr));
      g_assert_cmpfloat (r->frames[t].ssim, ==, 1.0);
    }
  /* untouched tokens keep frame 0's patch; token 11 was last sent in frame 2 */
  g_assert_cmpint (r->frames[3].source[0], ==, 0);
  g_assert_cmpint (r->frames[3].source[11], ==, 2);
  g_assert_cmpint (r->frames[3].source[9], ==, 1);
  /* 4 frames x 64 tokens / (64 + 6 + 6 + 0) */
  g_assert_cmpint (r->tokens_total, ==, 256);
  g_assert_cmpint (r->tokens_sent, ==, 76);
  g_assert_cmpfloat_with_epsilon (r->clip_ratio, 256.0 / 76.0, 1e-12);
}

static void
test_keyframe_interval (void)
{
  g_autoptr (GPtrArray) frames = moving_clip ();
  g_autoptr (TsTemporalResult) r = NULL;
  TsTemporalOptions o;

  ts_temporal_options_init (&o);
  o.threshold = 0.0;
  o.keyframe = 2;
  r = run (frames, &o);
  g_assert_true (r->frames[0].keyframe && r->frames[2].keyframe);
  g_assert_false (r->frames[1].keyframe || r->frames[3].keyframe);
  g_assert_cmpint (r->frames[2].sent, ==, 64);
  g_assert_cmpint (r->frames[2].changed, ==, 6); /* what changed, although all were sent */
  g_assert_cmpint (r->tokens_sent, ==, 64 + 6 + 64 + 0);
  g_assert_cmpfloat_with_epsilon (r->clip_ratio, 256.0 / 134.0, 1e-12);
  /* a keyframe refreshes every source */
  for (int i = 0; i < 64; i++)
    g_assert_cmpint (r->frames[2].source[i], ==, 2);
}

/* Ten identical frames: only keyframes (0, 4, 8) cost anything. */
static void
test_identical_frames (void)
{
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) ts_image_free);
  g_autoptr (TsImage) base = ts_test_gradient (SIDE, SIDE);
  g_autoptr (TsTemporalResult) r = NULL;
  TsTemporalOptions o;

  for (int i = 0; i < 10; i++)
    g_ptr_array_add (frames, ts_test_noisy (base, 3, 30)); /* same seed: identical frames */
  ts_temporal_options_init (&o);
  o.threshold = 0.0;
  o.keyframe = 4;
  r = run (frames, &o);
  for (guint t = 0; t < 10; t++)
    {
      g_assert_cmpint (r->frames[t].sent, ==, t % 4 == 0 ? 64 : 0);
      g_assert_cmpint (r->frames[t].changed, ==, t == 0 ? 64 : 0);
      for (int i = 0; i < 64; i++)
        g_assert_cmpfloat (r->frames[t].distance[i], ==, 0.0f);
    }
  g_assert_cmpint (r->tokens_sent, ==, 192);
  g_assert_cmpfloat_with_epsilon (r->clip_ratio, 640.0 / 192.0, 1e-12);
}

/* Top-k: the k most changed tokens, never an unchanged one. */
static void
test_topk (void)
{
  g_autoptr (GPtrArray) frames = moving_clip ();
  g_autoptr (TsTemporalResult) r = NULL;
  TsTemporalOptions o;

  ts_temporal_options_init (&o);
  o.mode = TS_TEMPORAL_TOPK;
  o.topk = 2;
  r = run (frames, &o);
  g_assert_cmpint (r->frames[0].sent, ==, 64);
  g_assert_cmpint (r->frames[1].changed, ==, 6);
  for (guint t = 1; t < 4; t++)
    {
      const TsTemporalFrame *f = &r->frames[t];
      float lowest_sent = G_MAXFLOAT, highest_kept = 0;
      g_assert_cmpint (f->sent, ==, MIN (2, f->changed));
      for (int i = 0; i < 64; i++)
        {
          if (f->sent_mask[i])
            {
              g_assert_cmpfloat (f->distance[i], >, 0.0f);
              lowest_sent = MIN (lowest_sent, f->distance[i]);
            }
          else
            highest_kept = MAX (highest_kept, f->distance[i]);
        }
      if (f->sent > 0)
        g_assert_cmpfloat (lowest_sent, >=, highest_kept);
    }
  /* the decoder lags behind: frame 1 is not exact, and frame 3 (a repeat)
   * still sends what the earlier frames could not */
  g_assert_true (isfinite (r->frames[1].psnr));
  g_assert_cmpfloat (r->frames[1].ssim, <, 1.0);
  g_assert_cmpint (r->frames[3].sent, ==, 2);
  g_assert_cmpint (r->tokens_sent, ==, 64 + 2 + 2 + 2);
}

/* Tokens are compared with the decoder's last sent token, not the previous
 * frame: a slow drift below the threshold per frame is re-sent once it adds up. */
static void
test_reference_is_last_sent (void)
{
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) ts_image_free);
  g_autoptr (TsImage) base = ts_test_gradient (SIDE, SIDE);
  g_autoptr (TsTemporalResult) probe = NULL;
  g_autoptr (TsTemporalResult) r = NULL;
  TsTemporalOptions o;
  double t_mid, step_d;

  for (int i = 0; i < 4; i++)
    {
      TsImage *f = ts_image_copy (base);
      for (gsize j = 0; j < (gsize) SIDE * SIDE * 3; j++)
        f->data[j] = (guint8) MIN (255, f->data[j] + 6 * i);
      g_ptr_array_add (frames, f);
    }
  /* with nothing re-sent the distances are all to frame 0 and grow */
  ts_temporal_options_init (&o);
  o.threshold = 2.0;
  probe = run (frames, &o);
  g_assert_cmpint (probe->tokens_sent, ==, 64);
  g_assert_cmpfloat (probe->frames[2].distance[0], >, probe->frames[1].distance[0]);
  t_mid = 0.5 * (probe->frames[1].distance[0] + probe->frames[2].distance[0]);

  /* frame 2 against frame 1 (what a previous-frame comparison would see) is below t_mid */
  {
    TsGrid g;
    g_autoptr (TsFeatures) f1 = NULL;
    g_autoptr (TsFeatures) f2 = NULL;
    g_assert_true (ts_grid_init (&g, SIDE, SIDE, PATCH, NULL));
    f1 = ts_features_pixel (frames->pdata[1], &g, NULL);
    f2 = ts_features_pixel (frames->pdata[2], &g, NULL);
    step_d = 1.0 - ts_cosine (f1->data, f2->data, f1->d);
    g_assert_cmpfloat (step_d, <, t_mid);
  }
  o.threshold = t_mid;
  r = run (frames, &o);
  g_assert_cmpint (r->frames[1].sent_mask[0], ==, 0);
  g_assert_cmpint (r->frames[2].sent_mask[0], ==, 1);
  g_assert_cmpfloat_with_epsilon (r->frames[2].distance[0], probe->frames[2].distance[0], 1e-7);
  /* frame 1 was not sent: the decoder shows frame 0 there, which is not exact */
  g_assert_true (isfinite (r->frames[1].psnr));
}

static void
count_progress (guint done, guint total, gpointer user_data)
{
  guint *calls = user_data;

  g_assert_cmpuint (done, ==, calls[0] + 1);
  g_assert_cmpuint (total, ==, 4);
  calls[0]++;
}

static void
test_progress_and_reconstruct (void)
{
  g_autoptr (GPtrArray) frames = moving_clip ();
  g_autoptr (TsTemporalResult) r = NULL;
  g_autoptr (GError) error = NULL;
  TsTemporalOptions o;
  guint calls[1] = { 0 };

  ts_temporal_options_init (&o);
  o.mode = TS_TEMPORAL_TOPK;
  o.topk = 3;
  r = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, PATCH, &o, count_progress, calls, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (calls[0], ==, 4);
  for (guint t = 0; t < 4; t++)
    {
      g_autoptr (TsImage) view = ts_temporal_reconstruct (r, (TsImage *const *) frames->pdata, frames->len, t, &error);
      double p;
      g_assert_no_error (error);
      p = ts_psnr (view, frames->pdata[t]);
      if (isinf (r->frames[t].psnr))
        g_assert_true (isinf (p));
      else
        g_assert_cmpfloat_with_epsilon (p, r->frames[t].psnr, 1e-9);
      g_assert_cmpfloat_with_epsilon (ts_ssim (view, frames->pdata[t]), r->frames[t].ssim, 1e-12);
    }
}

/* Per-frame SSIM is computed only around stale patches: it must equal the
 * whole-image ts_ssim of the decoder's view, wherever the stale patches are
 * (middle, edges, corners) and whatever the frame size. */
static void
test_ssim_matches_whole_image (void)
{
  static const int sizes[][2] = { { 96, 80 }, { 160, 48 }, { 24, 24 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int w = sizes[s][0], h = sizes[s][1];
      g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) ts_image_free);
      g_autoptr (TsImage) base = ts_test_gradient (w, h);
      g_autoptr (TsTemporalResult) r = NULL;
      g_autoptr (GError) error = NULL;
      TsTemporalOptions o;
      guint32 state = 17 + s;

      for (int t = 0; t < 8; t++)
        {
          TsImage *f = ts_test_noisy (base, 5, 10);
          /* paint 3 random 8 x 8 patches a frame */
          for (int k = 0; k < 3 * t; k++)
            {
              int px, py;
              state = state * 1664525u + 1013904223u;
              px = (int) ((state >> 8) % (guint32) (w / 8)) * 8;
              py = (int) ((state >> 20) % (guint32) (h / 8)) * 8;
              for (int y = py; y < py + 8; y++)
                memset (f->data + ((gsize) y * w + px) * 3, (int) (state & 255), 8 * 3);
            }
          g_ptr_array_add (frames, f);
        }
      ts_temporal_options_init (&o);
      o.mode = TS_TEMPORAL_TOPK;
      o.topk = 2;
      r = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, 8, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      for (guint t = 0; t < frames->len; t++)
        {
          g_autoptr (TsImage) view = ts_temporal_reconstruct (r, (TsImage *const *) frames->pdata, frames->len, t,
                                                              &error);
          g_assert_no_error (error);
          g_assert_cmpfloat_with_epsilon (r->frames[t].ssim, ts_ssim (view, frames->pdata[t]), 1e-12);
        }
    }
}

/* Descriptor features and prepare() from a TsMedia-like source. */
static void
test_descriptor_and_prepare (void)
{
  g_autoptr (GPtrArray) clip = moving_clip ();
  g_autoptr (GPtrArray) frames = NULL;
  g_autoptr (TsTemporalResult) r = NULL;
  g_autoptr (GError) error = NULL;
  TsMedia media = { 0 };
  TsResize resize = { TS_RESIZE_SQUARE, 32 };
  TsTemporalOptions o;

  media.name = (char *) "clip";
  media.n_frames = clip->len;
  media.frames = (TsImage **) clip->pdata;
  frames = ts_temporal_prepare (&media, &resize, PATCH, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, 4);
  g_assert_cmpint (((TsImage *) frames->pdata[0])->width, ==, 32);
  ts_temporal_options_init (&o);
  o.features = TS_FEATURES_DESCRIPTOR;
  o.threshold = 0.0;
  r = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, PATCH, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->grid.tokens, ==, 16);
  g_assert_cmpint (r->frames[3].sent, ==, 0); /* the repeat */
  g_assert_cmpint (r->frames[1].sent, >, 0);
}

static void
test_bad_input (void)
{
  g_autoptr (GPtrArray) frames = moving_clip ();
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  TsImage *const *f = (TsImage *const *) frames->pdata;
  TsTemporalOptions o;
  GError *error = NULL;

  ts_temporal_options_init (&o);
  o.threshold = -0.1;
  g_assert_null (ts_temporal_run (f, 4, PATCH, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  o.threshold = 2.5;
  g_assert_null (ts_temporal_run (f, 4, PATCH, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_temporal_options_init (&o);
  o.mode = TS_TEMPORAL_TOPK;
  g_assert_null (ts_temporal_run (f, 4, PATCH, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_temporal_options_init (&o);
  o.keyframe = -1;
  g_assert_null (ts_temporal_run (f, 4, PATCH, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_temporal_options_init (&o);
  o.features = TS_FEATURES_NPY;
  g_assert_null (ts_temporal_run (f, 4, PATCH, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_temporal_options_init (&o);
  g_assert_null (ts_temporal_run (f, 0, PATCH, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_temporal_run (f, 4, 100, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_cancellable_cancel (cancel);
  g_assert_null (ts_temporal_run (f, 4, PATCH, &o, NULL, NULL, cancel, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_null (ts_temporal_prepare (NULL, NULL, PATCH, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  {
    g_autoptr (GPtrArray) mixed = g_ptr_array_new_with_free_func ((GDestroyNotify) ts_image_free);
    g_ptr_array_add (mixed, ts_test_solid (64, 64, 0, 0, 0));
    g_ptr_array_add (mixed, ts_test_solid (64, 48, 0, 0, 0));
    g_assert_null (ts_temporal_run ((TsImage *const *) mixed->pdata, 2, PATCH, &o, NULL, NULL, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
    g_clear_error (&error);
  }
  {
    g_autoptr (TsTemporalResult) r = run (frames, &o);
    g_assert_null (ts_temporal_reconstruct (r, f, 4, 4, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ts_temporal_reconstruct (r, f, 3, 0, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
}

static JsonObject *
parse_json (const char *text, JsonParser *parser)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

/* The video CLI on a folder of frames and on the committed GIF of the same clip. */
static void
test_cli_video (void)
{
  g_autoptr (GPtrArray) frames = moving_clip ();
  g_autofree char *dir = ts_test_path ("frames");
  g_autofree char *gif = g_test_build_filename (G_TEST_DIST, "data", "moving-square.gif", NULL);
  const char *sources[] = { dir, gif };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (guint t = 0; t < frames->len; t++)
    {
      g_autofree char *name = g_strdup_printf ("f%02u.png", t);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_assert_true (ts_image_save_png (frames->pdata[t], path, NULL));
    }
  for (guint s = 0; s < G_N_ELEMENTS (sources); s++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *root;
      JsonArray *arr;
      int status = ts_test_cli (&out, &err, "video", sources[s], "--patch", "8", "--threshold", "0", "--json", "-", NULL);
      g_assert_cmpint (status, ==, 0);
      root = parse_json (out, parser);
      arr = json_object_get_array_member (root, "frames");
      g_assert_cmpuint (json_array_get_length (arr), ==, 4);
      for (guint t = 0; t < 4; t++)
        {
          JsonObject *f = json_array_get_object_element (arr, t);
          static const int tokens[] = { 64, 6, 6, 0 };
          g_assert_cmpint (json_object_get_int_member (f, "tokens"), ==, tokens[t]);
          g_assert_cmpint (json_object_get_int_member (f, "changed"), ==, t == 0 ? 64 : tokens[t]);
          g_assert_cmpint (json_object_get_boolean_member (f, "keyframe"), ==, t == 0);
          g_assert_true (json_object_has_member (f, "psnr"));
          g_assert_true (json_object_get_null_member (f, "psnr")); /* infinite: null in JSON */
          g_assert_cmpfloat (json_object_get_double_member (f, "ssim"), ==, 1.0);
        }
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (root, "clip_ratio"), 256.0 / 76.0, 1e-9);
      g_assert_cmpint (json_object_get_int_member (root, "tokens_per_frame"), ==, 64);
      g_assert_cmpstr (json_object_get_string_member (root, "mode"), ==, "threshold");
    }
  /* top-k with a keyframe interval, text output */
  {
    g_autofree char *out = NULL;
    int status = ts_test_cli (&out, NULL, "video", dir, "--patch", "8", "--topk", "2", "--keyframe", "3", NULL);
    g_assert_cmpint (status, ==, 0);
    /* 64 + 2 + 2 + 64 */
    g_assert_nonnull (strstr (out, "132 sent of 256"));
  }
  /* --recon writes the decoder's view: with top-1 frame 1 is stale except one patch */
  {
    g_autofree char *rdir = ts_test_path ("decoded");
    g_autofree char *f1 = g_build_filename (rdir, "frame-00001.png", NULL);
    g_autofree char *f3 = g_build_filename (rdir, "frame-00003.png", NULL);
    g_autoptr (TsImage) view1 = NULL;
    g_autoptr (TsImage) view3 = NULL;
    int changed = 0;
    g_assert_cmpint (ts_test_cli (NULL, NULL, "video", dir, "--patch", "8", "--topk", "1", "--recon", rdir, NULL), ==, 0);
    view1 = ts_image_load (f1, NULL, NULL);
    view3 = ts_image_load (f3, NULL, NULL);
    g_assert_nonnull (view1);
    g_assert_nonnull (view3);
    /* frame 1's view differs from frame 0 in exactly one 8 x 8 patch */
    for (int t = 0; t < 64; t++)
      {
        int r = t / 8, c = t % 8, differs = 0;
        for (int y = r * 8; y < r * 8 + 8; y++)
          differs |= memcmp (view1->data + ((gsize) y * SIDE + c * 8) * 3,
                             ((TsImage *) frames->pdata[0])->data + ((gsize) y * SIDE + c * 8) * 3, 8 * 3) != 0;
        changed += differs;
      }
    g_assert_cmpint (changed, ==, 1);
    g_assert_false (ts_image_equal (view3, frames->pdata[3]));
  }
  /* usage and input errors */
  g_assert_cmpint (ts_test_cli (NULL, NULL, "video", dir, "--threshold", "0.1", "--topk", "3", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "video", dir, "--threshold", "5", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "video", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "video", dir, "--features", "npy", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "video", "/nonexistent/clip.gif", NULL), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/temporal/moving-square", test_moving_square);
  g_test_add_func ("/temporal/keyframe-interval", test_keyframe_interval);
  g_test_add_func ("/temporal/identical-frames", test_identical_frames);
  g_test_add_func ("/temporal/topk", test_topk);
  g_test_add_func ("/temporal/reference-is-last-sent", test_reference_is_last_sent);
  g_test_add_func ("/temporal/progress-and-reconstruct", test_progress_and_reconstruct);
  g_test_add_func ("/temporal/ssim-matches-whole-image", test_ssim_matches_whole_image);
  g_test_add_func ("/temporal/descriptor-and-prepare", test_descriptor_and_prepare);
  g_test_add_func ("/temporal/bad-input", test_bad_input);
  g_test_add_func ("/temporal/cli-video", test_cli_video);
  return g_test_run ();
}
