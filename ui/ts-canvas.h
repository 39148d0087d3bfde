/* ts-canvas.h: the image view with zoom, pan and token overlays.
 *
 * The canvas only draws what it is given: the original and reconstructed
 * working images (uploaded as textures when set) and a prepared TsOverlay.
 * It never computes anything in snapshot. Pointer input is reported back as
 * patch indices ("patch-activated" on a click, ts_canvas_token_at for
 * tooltips); zoom is "fit" until the user zooms. */
#pragma once

#include <gtk/gtk.h>

#include "ts-overlay-render.h"

G_BEGIN_DECLS

typedef enum {
  TS_CANVAS_ORIGINAL,
  TS_CANVAS_RECONSTRUCTION,
  TS_CANVAS_DIFFERENCE,
} TsCanvasView;

#define TS_TYPE_CANVAS (ts_canvas_get_type ())
G_DECLARE_FINAL_TYPE (TsCanvas, ts_canvas, TS, CANVAS, GtkWidget)

GtkWidget *ts_canvas_new (void);
/* Copies what it needs; either may be NULL. */
void ts_canvas_set_images (TsCanvas *self, const TsImage *original, const TsImage *reconstruction);
/* Replaces only the reconstruction (blended by the group-mean fill). */
void ts_canvas_set_reconstruction (TsCanvas *self, const TsImage *reconstruction);
/* Takes ownership of @overlay (NULL clears). */
void ts_canvas_set_overlay (TsCanvas *self, TsOverlay *overlay);
void ts_canvas_set_options (TsCanvas *self, const TsOverlayOptions *options);
const TsOverlayOptions *ts_canvas_get_options (TsCanvas *self);
void ts_canvas_set_view (TsCanvas *self, TsCanvasView view);
TsCanvasView ts_canvas_get_view (TsCanvas *self);
/* A short text shown when there is no image. */
void ts_canvas_set_placeholder (TsCanvas *self, const char *text);

/* A VLM's resize and tiling drawn over everything (copied; NULL clears). */
void ts_canvas_set_vlm (TsCanvas *self, const TsVlmLayout *layout, const char *label);

/* Zoom: 0 = fit to the widget, otherwise device pixels per image pixel. */
void ts_canvas_set_zoom (TsCanvas *self, double zoom);
double ts_canvas_get_scale (TsCanvas *self);
void ts_canvas_zoom_by (TsCanvas *self, double factor);

/* Patch under widget point (@x, @y), or -1. */
int ts_canvas_token_at (TsCanvas *self, double x, double y);
/* Widget coordinates of the centre of patch @token (FALSE when there is no image). */
gboolean ts_canvas_token_center (TsCanvas *self, int token, double *x, double *y);

/* Frame-latency log when TS_FRAME_TIMINGS is set: the next snapshot records
 * its end - @change_time (microseconds, g_get_monotonic_time), and the frame
 * clock's after-paint that follows records the end of the painted frame; the
 * first snapshot with a picture logs the time since the process started. */
void ts_canvas_mark_change (TsCanvas *self, gint64 change_time);
/* Prints the p50 / p95 of the recorded frame latencies to stderr. */
void ts_canvas_report_timings (void);

G_END_DECLS
