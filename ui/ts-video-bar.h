/* ts-video-bar.h: play / pause, frame scrubber, temporal options and the
 * tokens-per-frame strip, shown under the canvas for multi-frame media.
 *
 * The bar drives a TsVideo (and through it its TsDocument's frame) and
 * reads everything it shows from them; it hides itself for still images.
 * "show-changed" says whether the canvas should mark the changed tokens. */
#pragma once

#include <gtk/gtk.h>

#include "ts-video.h"

G_BEGIN_DECLS

#define TS_TYPE_VIDEO_BAR (ts_video_bar_get_type ())
G_DECLARE_FINAL_TYPE (TsVideoBar, ts_video_bar, TS, VIDEO_BAR, GtkWidget)

GtkWidget *ts_video_bar_new (void);
void ts_video_bar_set_video (TsVideoBar *self, TsVideo *video);
gboolean ts_video_bar_get_show_changed (TsVideoBar *self);
void ts_video_bar_set_playing (TsVideoBar *self, gboolean playing);
gboolean ts_video_bar_get_playing (TsVideoBar *self);

G_END_DECLS
