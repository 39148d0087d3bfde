/* ts-strip-render.h: the tokens-per-frame strip of a clip, Cairo only.
 *
 * One bar per frame, its height the tokens sent in that frame on a log
 * scale, log(1 + sent) / log(1 + tokens of a whole frame), so a frame that
 * re-sends 1% of its tokens still shows (a keyframe fills the strip); keyframes in orange, other
 * frames in blue, the current frame marked by a red outline. The GUI's video
 * bar draws it on its widget and maps clicks back with ts_strip_frame_at;
 * the CLI can draw it onto any cairo_t. Drawing does layout only.
 * Thread safety: reentrant; nothing is kept. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const int *tokens;        /* n_frames values: tokens sent per frame */
  const guint8 *keyframes;  /* n_frames flags (1 = keyframe), or NULL */
  guint n_frames;
  int full;                 /* tokens of a whole frame: the strip's top (>= 1) */
  int current;              /* the frame to mark, -1 none */
} TsStrip;

/* Fills @width x @height user units of @cr (background included). */
void ts_strip_draw (const TsStrip *strip, cairo_t *cr, double width, double height);
/* A bar's height as a fraction of the strip: log1p (tokens) / log1p (full); 0 for no tokens. */
double ts_strip_bar_fraction (int tokens, int full);
/* The frame whose bar covers x (clamped to the strip), or -1 when it has no frames. */
int ts_strip_frame_at (guint n_frames, double width, double x);
/* The left edge and width of frame @index's slot. */
void ts_strip_slot (guint n_frames, double width, guint index, double *x, double *w);

/* Colours, RGB in [0,1]. */
extern const double ts_strip_bar_rgb[3];
extern const double ts_strip_key_rgb[3];
extern const double ts_strip_current_rgb[3];

G_END_DECLS
