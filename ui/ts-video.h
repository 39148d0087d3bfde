/* ts-video.h: the temporal view-model of a multi-frame document (no widgets).
 *
 * A TsVideo follows a TsDocument: when the document holds a GIF or a frame
 * folder, it runs the temporal-redundancy encoder of core/ts-temporal.h over
 * every frame (resized and gridded like the document's scene, pixel or
 * descriptor features like the document) in a GTask thread with its own
 * GCancellable. A new file, a new grid or new options cancel the run in
 * flight; only the newest result is kept, then "changed" is emitted.
 *
 * The frame shown is the document's (ts_document_set_frame); this object
 * adds what changed in each frame: tokens sent per frame, the changed-token
 * mask, keyframes and the clip compression ratio. Pointers returned stay
 * valid until the next "changed" emission. Main thread only. */
#pragma once

#include "ts-document.h"

G_BEGIN_DECLS

#define TS_TYPE_VIDEO (ts_video_get_type ())
G_DECLARE_FINAL_TYPE (TsVideo, ts_video, TS, VIDEO, GObject)

TsVideo *ts_video_new (TsDocument *document);
TsDocument *ts_video_get_document (TsVideo *self);

/* Encoder options; invalid values are clamped (threshold 0..2, top-k >= 1, keyframe >= 0). */
void ts_video_set_options (TsVideo *self, const TsTemporalOptions *options);
const TsTemporalOptions *ts_video_get_options (TsVideo *self);

/* The analysis of the current clip, or NULL (a still image, or still computing). */
const TsTemporalResult *ts_video_get_result (TsVideo *self);
gboolean ts_video_get_busy (TsVideo *self);
/* Frames of the clip encoded so far by the run in flight, out of the total. */
void ts_video_get_progress (TsVideo *self, guint *done, guint *total);
/* The tokens sent in each frame (n_frames values, NULL without a result). */
const int *ts_video_get_tokens_per_frame (TsVideo *self, guint *n_frames);
/* The changed-token mask of @frame (grid.tokens bytes, 1 = re-sent), or NULL. */
const guint8 *ts_video_get_changed_mask (TsVideo *self, guint frame);
/* How long @frame is shown when playing (the GIF delay; 100 ms when it has none). */
guint ts_video_get_delay_ms (TsVideo *self, guint frame);

G_END_DECLS
