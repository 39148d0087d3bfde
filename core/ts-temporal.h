/* ts-temporal.h: temporal redundancy over the frames of a clip (REFERENCE 3).
 *
 * Frames (an animated GIF or a frame folder, loaded with ts_media_load_any
 * and resized with ts_temporal_prepare) share one patch grid. The encoder
 * keeps the decoder's state: for every grid position the token it last sent.
 * In frame t each token is compared with that reference by cosine distance
 * 1 - cos(x_t, x_ref) of its features (pixel or descriptor; bitwise-equal
 * features have distance exactly 0):
 *   threshold mode  re-send the tokens whose distance exceeds the threshold
 *   top-k mode      re-send the k most changed tokens (ties: raster order);
 *                   tokens with distance 0 are never re-sent, so a frame
 *                   sends min(k, tokens that changed at all)
 * Keyframes resend every token: frame 0 always, then frames K, 2K, ... when
 * the interval K > 0. The decoder's view of a frame is, for every patch, the
 * pixels of the frame it was last sent in; its PSNR and SSIM against the
 * true frame say what skipping cost. Clip compression ratio =
 * frames * tokens per frame / tokens sent.
 *
 * Ownership: results are new objects freed with ts_temporal_result_free.
 * Thread safety: reentrant; frames are only read. The progress callback runs
 * in the calling thread after every frame. */
#pragma once

#include <gio/gio.h>

#include "ts-features.h"
#include "ts-resize.h"

G_BEGIN_DECLS

typedef enum {
  TS_TEMPORAL_THRESHOLD,
  TS_TEMPORAL_TOPK,
} TsTemporalMode;

typedef struct {
  TsTemporalMode mode;
  double threshold;       /* cosine distance in 0..2 (default 0.02) */
  int topk;               /* tokens per frame in top-k mode (>= 1) */
  int keyframe;           /* interval K; 0 = frame 0 only (default) */
  TsFeatureKind features; /* TS_FEATURES_PIXEL (default) or TS_FEATURES_DESCRIPTOR */
} TsTemporalOptions;

typedef struct {
  int sent;          /* tokens sent in this frame */
  int changed;       /* tokens whose distance exceeds the threshold (top-k mode: > 0); all on frame 0 */
  gboolean keyframe;
  guint8 *sent_mask; /* grid.tokens: 1 = (re-)sent in this frame (the changed-token mask) */
  float *distance;   /* grid.tokens: distance to the decoder's token before this frame; 0 on frame 0 */
  int *source;       /* grid.tokens: the frame whose patch the decoder shows after this frame */
  double psnr;       /* decoder's view vs the true frame; +INFINITY when identical */
  double ssim;
} TsTemporalFrame;

typedef struct {
  TsGrid grid;
  TsTemporalOptions options;
  guint n_frames;
  TsTemporalFrame *frames;
  gint64 tokens_total; /* n_frames * grid.tokens: what sending every frame costs */
  gint64 tokens_sent;
  double clip_ratio;   /* tokens_total / tokens_sent */
} TsTemporalResult;

/* Called after each frame with the frames done and the total. */
typedef void (*TsTemporalProgress) (guint done, guint total, gpointer user_data);

void ts_temporal_options_init (TsTemporalOptions *options);

/* The frames of @media resized by @resize for @patch: a GPtrArray of TsImage
 * (freed with it). TS_ERROR_CANCELLED when cancelled. */
GPtrArray *ts_temporal_prepare (const TsMedia *media, const TsResize *resize, int patch,
                                GCancellable *cancellable, GError **error);

/* Runs the encoder over @n_frames equal-size frames with the grid laid at
 * @patch. Errors: TS_ERROR_INVALID_ARGUMENT (options, no frames, a frame
 * smaller than one patch), TS_ERROR_BAD_DATA (frames of different sizes),
 * TS_ERROR_CANCELLED. */
TsTemporalResult *ts_temporal_run (TsImage *const *frames, guint n_frames, int patch,
                                   const TsTemporalOptions *options, TsTemporalProgress progress,
                                   gpointer user_data, GCancellable *cancellable, GError **error);

/* The decoder's view of frame @index (the same frames the result came from). */
TsImage *ts_temporal_reconstruct (const TsTemporalResult *result, TsImage *const *frames, guint n_frames,
                                  guint index, GError **error);

void ts_temporal_result_free (TsTemporalResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTemporalResult, ts_temporal_result_free)

G_END_DECLS
