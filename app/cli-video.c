/* video: temporal redundancy of an animated GIF or a frame folder. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static JsonNode *
video_json (const TsTemporalResult *r, const char *source, const char *features, double seconds)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const TsTemporalOptions *o = &r->options;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, source);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, r->grid.width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, r->grid.height);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, r->grid.patch);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, r->grid.rows);
  json_builder_set_member_name (b, "cols");
  json_builder_add_int_value (b, r->grid.cols);
  json_builder_set_member_name (b, "tokens_per_frame");
  json_builder_add_int_value (b, r->grid.tokens);
  json_builder_set_member_name (b, "features");
  json_builder_add_string_value (b, features);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, o->mode == TS_TEMPORAL_TOPK ? "topk" : "threshold");
  if (o->mode == TS_TEMPORAL_TOPK)
    {
      json_builder_set_member_name (b, "topk");
      json_builder_add_int_value (b, o->topk);
    }
  else
    ts_json_add_double (b, "threshold", o->threshold);
  json_builder_set_member_name (b, "keyframe");
  json_builder_add_int_value (b, o->keyframe);
  json_builder_set_member_name (b, "frames");
  json_builder_begin_array (b);
  for (guint t = 0; t < r->n_frames; t++)
    {
      const TsTemporalFrame *f = &r->frames[t];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, t);
      json_builder_set_member_name (b, "tokens");
      json_builder_add_int_value (b, f->sent);
      json_builder_set_member_name (b, "changed");
      json_builder_add_int_value (b, f->changed);
      json_builder_set_member_name (b, "keyframe");
      json_builder_add_boolean_value (b, f->keyframe);
      ts_json_add_double (b, "psnr", f->psnr);
      ts_json_add_double (b, "ssim", f->ssim);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "tokens_total");
  json_builder_add_int_value (b, r->tokens_total);
  json_builder_set_member_name (b, "tokens_sent");
  json_builder_add_int_value (b, r->tokens_sent);
  ts_json_add_double (b, "clip_ratio", r->clip_ratio);
  ts_json_add_double (b, "seconds", seconds);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_video (const TsTemporalResult *r, const TsMedia *media, const char *features)
{
  const TsTemporalOptions *o = &r->options;

  printf ("clip      %s (%u frames, %d x %d, patch %d: %d x %d = %d tokens a frame)\n", media->name, r->n_frames,
          r->grid.width, r->grid.height, r->grid.patch, r->grid.rows, r->grid.cols, r->grid.tokens);
  if (o->mode == TS_TEMPORAL_TOPK)
    printf ("mode      top-%d most changed tokens a frame", o->topk);
  else
    printf ("mode      re-send when cosine distance > %g", o->threshold);
  if (o->keyframe > 0)
    printf (", keyframe every %d frames, %s features\n", o->keyframe, features);
  else
    printf (", keyframe: frame 0 only, %s features\n", features);
  printf ("%6s %4s %8s %8s %9s %8s\n", "frame", "key", "tokens", "changed", "psnr", "ssim");
  for (guint t = 0; t < r->n_frames; t++)
    {
      const TsTemporalFrame *f = &r->frames[t];
      printf ("%6u %4s %8d %8d ", t, f->keyframe ? "K" : "", f->sent, f->changed);
      if (isinf (f->psnr))
        printf ("%9s", "inf");
      else
        printf ("%9.2f", f->psnr);
      printf (" %8.4f\n", f->ssim);
    }
  printf ("tokens    %" G_GINT64_FORMAT " sent of %" G_GINT64_FORMAT " (every token of every frame)\n",
          r->tokens_sent, r->tokens_total);
  printf ("clip CR   %.2f\n", r->clip_ratio);
}

static gboolean
write_recon (const TsTemporalResult *r, GPtrArray *frames, const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: cannot create the folder (%s)", dir, g_strerror (errno));
      return FALSE;
    }
  for (guint t = 0; t < r->n_frames; t++)
    {
      g_autofree char *name = g_strdup_printf ("frame-%05u.png", t);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (TsImage) view = ts_temporal_reconstruct (r, (TsImage *const *) frames->pdata, frames->len, t, error);
      if (view == NULL || !ts_image_save_png (view, path, error))
        return FALSE;
    }
  return TRUE;
}

int
ts_cli_video (int argc, char **argv)
{
  const TsSettings *s = ts_cli_settings ();
  TsCliImageOptions io;
  TsTemporalOptions to;
  g_autofree char *json = NULL;
  g_autofree char *recon = NULL;
  g_autofree char *features = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;
  g_autoptr (GPtrArray) frames = NULL;
  g_autoptr (TsTemporalResult) result = NULL;
  double threshold = -1;
  int topk = 0;
  TsLoadOptions load;
  TsResize resize;
  gint64 start;
  int status;

  ts_temporal_options_init (&to);
  ts_cli_image_options_init (&io);
  {
    GOptionEntry entries[] = {
      { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold,
        "Re-send a token when its cosine distance to the last sent one exceeds T (0..2, default 0.02)", "T" },
      { "topk", 'k', 0, G_OPTION_ARG_INT, &topk, "Re-send the K most changed tokens of each frame instead", "K" },
      { "keyframe", 0, 0, G_OPTION_ARG_INT, &to.keyframe,
        "Resend every token every K frames (default 0: only frame 0)", "K" },
      { "features", 'f', 0, G_OPTION_ARG_STRING, &features, "What tokens are compared on: pixel (default) or descriptor",
        "KIND" },
      { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
      { "recon", 0, 0, G_OPTION_ARG_FILENAME, &recon,
        "Write the decoder's view of every frame to DIR/frame-NNNNN.png", "DIR" },
      G_OPTION_ENTRY_NULL
    };
    context = ts_cli_context ("video", "GIF|DIR",
                              "Temporal redundancy: compare each frame's tokens with the last ones sent at the same\n"
                              "grid position and re-send only those that changed; keyframes resend all. Reports\n"
                              "tokens per frame, the decoder's PSNR/SSIM per frame and the clip compression ratio\n"
                              "(frames x tokens / tokens sent). A folder's images are frames in name order.",
                              "Examples:\n"
                              "  tokenscope-cli video clip.gif\n"
                              "  tokenscope-cli video clip.gif --threshold 0.05 --keyframe 30 --json -\n"
                              "  tokenscope-cli video frames/ --topk 64 --resize fit --size 448 --features descriptor\n"
                              "  tokenscope-cli video clip.gif --recon decoded/\n");
    ts_cli_add_image_options (context, &io);
    status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects one animated GIF or a folder of frames");
  }
  if (status == TS_EXIT_OK && threshold >= 0 && topk != 0)
    status = ts_cli_usage ("video", "--threshold and --topk are two modes: give one of them");
  else if (status == TS_EXIT_OK && topk < 0)
    status = ts_cli_usage ("video", "--topk must be positive");
  if (status != TS_EXIT_OK)
    goto out;

  if (topk > 0)
    to.mode = TS_TEMPORAL_TOPK, to.topk = topk;
  else if (threshold >= 0)
    to.threshold = threshold;
  else if (threshold != -1)
    {
      status = ts_cli_usage ("video", "--threshold must be a cosine distance in 0..2");
      goto out;
    }
  to.features = s->features == TS_FEATURES_DESCRIPTOR ? TS_FEATURES_DESCRIPTOR : TS_FEATURES_PIXEL;
  if (features != NULL && !ts_feature_kind_parse (features, &to.features, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (!ts_cli_load_options (&io, &load, &error) || !ts_cli_resize_options (&io, &resize, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }

  start = g_get_monotonic_time ();
  if ((media = ts_media_load_any (argv[1], &load, &error)) == NULL ||
      (frames = ts_temporal_prepare (media, &resize, io.patch, NULL, &error)) == NULL ||
      (result = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, io.patch, &to, NULL, NULL, NULL,
                                 &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (recon != NULL && !write_recon (result, frames, recon, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (json != NULL)
    {
      g_autoptr (JsonNode) root = video_json (result, media->name, ts_feature_kind_name (to.features),
                                              (g_get_monotonic_time () - start) / 1e6);
      if (!ts_cli_write_json (root, json, &error))
        status = ts_cli_fail (error);
    }
  else
    print_video (result, media, ts_feature_kind_name (to.features));

out:
  ts_cli_image_options_clear (&io);
  return status;
}
