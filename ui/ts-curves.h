/* ts-curves.h: quality against compression ratio, one curve per method.
 *
 * Draws the curves it is given (TsCurve arrays from TsDocument) on a log2
 * ratio axis with the light / medium / heavy / extreme bands shaded, a
 * draggable quality threshold, each method's optimal point (the highest
 * ratio still at or above the threshold) and the current setting as a dot.
 * Clicking a point emits "point-activated" with the method name and ratio. */
#pragma once

#include <gtk/gtk.h>

#include "ts-document.h"

G_BEGIN_DECLS

#define TS_TYPE_CURVES (ts_curves_get_type ())
G_DECLARE_FINAL_TYPE (TsCurves, ts_curves, TS, CURVES, GtkWidget)

GtkWidget *ts_curves_new (void);
/* Copies @curves. */
void ts_curves_set_curves (TsCurves *self, const TsCurve *curves, guint n);
void ts_curves_set_metric (TsCurves *self, TsMetric metric);
TsMetric ts_curves_get_metric (TsCurves *self);
/* The threshold in the metric's units (quality 0..1, or dB for PSNR). */
void ts_curves_set_threshold (TsCurves *self, double threshold);
double ts_curves_get_threshold (TsCurves *self);
/* The current setting; @value NAN hides the dot. */
void ts_curves_set_current (TsCurves *self, const char *method, double ratio, double value);
/* The optimal ratio of @method at the threshold, or NAN. */
double ts_curves_get_optimal (TsCurves *self, const char *method);
/* Widget coordinates of a curve point (for tests); FALSE when absent. */
gboolean ts_curves_point_position (TsCurves *self, const char *method, guint index, double *x, double *y);

/* A colour per method index, shared with legends. */
void ts_method_color (guint index, GdkRGBA *rgba);

G_END_DECLS
