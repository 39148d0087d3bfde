/* ts-strip-render.c: tokens-per-frame bars. See ts-strip-render.h. */
#include "ts-strip-render.h"

#include <math.h>

const double ts_strip_bar_rgb[3] = { 0.20, 0.45, 0.80 };
const double ts_strip_key_rgb[3] = { 0.93, 0.53, 0.13 };
const double ts_strip_current_rgb[3] = { 0.85, 0.10, 0.10 };

void
ts_strip_slot (guint n_frames, double width, guint index, double *x, double *w)
{
  double slot = n_frames > 0 ? width / n_frames : width;

  *x = slot * index;
  *w = slot;
}

int
ts_strip_frame_at (guint n_frames, double width, double x)
{
  if (n_frames == 0 || !(width > 0))
    return -1;
  if (!(x > 0))
    return 0;
  return (int) MIN (floor (x / width * n_frames), n_frames - 1);
}

double
ts_strip_bar_fraction (int tokens, int full)
{
  if (tokens <= 0)
    return 0;
  return CLAMP (log1p (tokens) / log1p (MAX (full, 1)), 0.0, 1.0);
}

void
ts_strip_draw (const TsStrip *strip, cairo_t *cr, double width, double height)
{
  cairo_save (cr);
  cairo_set_source_rgb (cr, 0.97, 0.97, 0.97);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  for (guint i = 0; i < strip->n_frames; i++)
    {
      double x, w, h = height * ts_strip_bar_fraction (strip->tokens[i], strip->full);
      const double *rgb = strip->keyframes && strip->keyframes[i] ? ts_strip_key_rgb : ts_strip_bar_rgb;
      ts_strip_slot (strip->n_frames, width, i, &x, &w);
      /* a one-pixel gap between bars when there is room for it */
      if (w >= 4)
        {
          x += 0.5;
          w -= 1;
        }
      if (strip->tokens[i] > 0)
        h = MAX (h, 1.0);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle (cr, x, height - h, w, h);
      cairo_fill (cr);
    }
  if (strip->current >= 0 && (guint) strip->current < strip->n_frames)
    {
      double x, w;
      ts_strip_slot (strip->n_frames, width, strip->current, &x, &w);
      cairo_set_source_rgba (cr, ts_strip_current_rgb[0], ts_strip_current_rgb[1], ts_strip_current_rgb[2], 0.15);
      cairo_rectangle (cr, x, 0, w, height);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, ts_strip_current_rgb[0], ts_strip_current_rgb[1], ts_strip_current_rgb[2]);
      cairo_set_line_width (cr, 2);
      cairo_rectangle (cr, x + 1, 1, MAX (w - 2, 0.5), height - 2);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}
