/* ts-plot-render.h: the quality-versus-compression figure, Cairo only.
 *
 * Shared by tokenscope-cli (sweep --plot, PNG/SVG/PDF) and the GUI's curves
 * widget (ts_plot_draw onto the widget's cairo_t; ts_plot_hit_test for
 * hover and clicks). A TsPlot holds prepared data: one series per method
 * (quality Q against the compression ratio, drawn on a log2 axis), the
 * downsample baseline drawn dashed in black, the threshold line, each
 * method's optimal point ringed, an optional current-setting dot, and the
 * light / medium / heavy / extreme ratio bands (2-4, 4-8, 8-16, 16+) shaded.
 * Drawing does no computation beyond layout.
 *
 * Ownership: ts_plot_new* return a new TsPlot (ts_plot_free; NULL is a
 * no-op); series data are copied. A TsPlot is not locked: build it on one
 * thread, then draw it from any one thread at a time. */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "ts-sweep.h"

G_BEGIN_DECLS

typedef struct _TsPlot TsPlot;

TsPlot *ts_plot_new (void);
/* One series per curve of @sweep (points that failed are skipped), the
 * threshold, and the y label of the sweep's metric. */
TsPlot *ts_plot_new_from_sweep (const TsSweep *sweep);
/* The curves of a dataset summary (core/ts-summary.h): the mean Q per method
 * and ratio, its p10..p90 band, the recommended ratios, the threshold. */
TsPlot *ts_plot_new_from_summary (JsonNode *summary);
void ts_plot_free (TsPlot *plot);

/* Copies @n points; @optimal_ratio 0 = none. NaN qualities are skipped. */
void ts_plot_add_series (TsPlot *plot, const char *name, gboolean baseline, const double *ratios, const double *q,
                         int n, double optimal_ratio);
/* A spread around the series added last (e.g. p10..p90 over a dataset),
 * drawn as a translucent band: lo[i], hi[i] at ratios[i]. */
void ts_plot_set_spread (TsPlot *plot, const double *ratios, const double *lo, const double *hi, int n);
void ts_plot_set_title (TsPlot *plot, const char *title);
void ts_plot_set_y_label (TsPlot *plot, const char *label);
/* NaN hides the line. */
void ts_plot_set_threshold (TsPlot *plot, double threshold);
void ts_plot_set_bands (TsPlot *plot, gboolean show);
/* The user's current method setting as a dot; NaN hides it. */
void ts_plot_set_current (TsPlot *plot, double ratio, double q);

/* Draws the figure filling @width x @height user units of @cr (white background). */
void ts_plot_draw (const TsPlot *plot, cairo_t *cr, double width, double height);

/* Writes the figure to @path by its extension: .png (at @scale pixels per
 * unit), .svg or .pdf (vector; @scale ignored). Rendered in memory, then
 * written atomically. TS_ERROR_INVALID_ARGUMENT for another extension or a
 * size outside 100..10000, TS_ERROR_IO when writing fails. */
gboolean ts_plot_save (const TsPlot *plot, const char *path, int width, int height, double scale, GError **error);

/* The data point nearest to (@x, @y) within @radius units, for a figure drawn
 * at @width x @height: fills the series name (owned by the plot), ratio and q. */
gboolean ts_plot_hit_test (const TsPlot *plot, double width, double height, double x, double y, double radius,
                           const char **method, double *ratio, double *q);

/* Where a ratio / quality lands in a figure of @width x @height (for tests and overlays). */
double ts_plot_x_for_ratio (const TsPlot *plot, double width, double height, double ratio);
double ts_plot_y_for_q (const TsPlot *plot, double width, double height, double q);

/* The fill colour of band @index (0 light .. 3 extreme) as opaque RGB over white. */
void ts_plot_band_rgb (int index, double rgb[3]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsPlot, ts_plot_free)

G_END_DECLS
