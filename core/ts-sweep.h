/* ts-sweep.h: quality versus compression for a scene (REFERENCE 1, 5, 6).
 *
 * A sweep runs a set of registered methods at a set of ratios (default 1, 2,
 * 4, 8, 16, 32) on one scene and measures every point: SSIM, PSNR, feature
 * retention, tokens, and the efficiency score E = CR * Q, where CR is the
 * achieved ratio N / tokens and Q the chosen quality (SSIM by default, or
 * feature retention; PSNR is never a Q). The downsample baseline is always
 * swept. Per method, the optimal ratio is the highest requested ratio whose
 * Q >= threshold (default 0.95), or none.
 *
 * Ratio 1 is no compression by definition: the identity, Q = 1.
 * Shared work is done once (the scene's normalised features, the original's
 * luma and its SSIM half, the tokens' Gram matrix when a method flagged
 * TS_METHOD_GRAM is swept: built before the pool starts); points run in parallel on a GThreadPool, except
 * that a method with a multi-target entry (greedy, resample) runs all its
 * ratios in one job from one call, with exactly the single runs' results
 * (on more than one thread a method flagged TS_METHOD_SPLIT_TARGETS, the
 * resampler, in two jobs of about equal cost).
 * With more than one thread OpenBLAS is set to one thread while the sweep runs
 * (its thread count is process-wide: other BLAS work at that time runs on one
 * thread too); SGEMM results can then differ from a one-thread sweep's in
 * float rounding. The progress callback is called on the calling thread. The scene is only read, so it may be shared.
 * Ownership: ts_sweep_run returns a new TsSweep freed with ts_sweep_free. */
#pragma once

#include <gio/gio.h>

#include "ts-method.h"
#include "ts-scene.h"

G_BEGIN_DECLS

#define TS_SWEEP_MAX_RATIOS 64

typedef enum {
  TS_SWEEP_METRIC_SSIM,
  TS_SWEEP_METRIC_FEATURE,
} TsSweepMetric;

typedef struct {
  double ratio;             /* requested */
  int tokens;               /* achieved output tokens */
  double ssim;
  double psnr;              /* dB; +INFINITY when identical */
  double feature_retention;
  double q;                 /* the chosen metric */
  double efficiency;        /* (N / tokens) * q */
  double seconds;           /* method + measurement time */
  char *error;              /* non-NULL when this point failed (numbers are NAN) */
  gboolean unreachable;     /* the failure was the method refusing this target on this grid
                               (TS_ERROR_INVALID_ARGUMENT), e.g. a geometry preset below its smallest mode */
} TsSweepPoint;

typedef struct {
  char *method;
  char *label;
  gboolean baseline;        /* the downsample baseline */
  int n_points;
  TsSweepPoint *points;     /* in the order of the ratios */
  double optimal_ratio;     /* 0 when no ratio reaches the threshold */
} TsSweepCurve;

typedef struct {
  int tokens;               /* N of the scene */
  int width, height, patch;
  TsSweepMetric metric;
  double threshold;
  int n_curves;
  TsSweepCurve *curves;     /* the baseline is always among them */
  double seconds;           /* wall time */
} TsSweep;

/* Called on the calling thread after each point. */
typedef void (*TsSweepProgress) (int done, int total, const char *method, double ratio, gpointer user_data);

typedef struct {
  const char *const *methods; /* NULL-terminated registry names; NULL = every registered method */
  const double *ratios;       /* NULL = 1 2 4 8 16 32 */
  int n_ratios;
  TsSweepMetric metric;
  double threshold;           /* default 0.95 */
  TsMethodParams params;      /* options passed to every method (target overridden) */
  int threads;                /* 0 = the number of processors */
  TsSweepProgress progress;
  gpointer progress_data;
} TsSweepOptions;

void ts_sweep_options_init (TsSweepOptions *options);

const char *ts_sweep_metric_name (TsSweepMetric metric);
gboolean ts_sweep_metric_parse (const char *text, TsSweepMetric *metric, GError **error);

/* Errors: TS_ERROR_INVALID_ARGUMENT (unknown method, a ratio < 1, more than
 * TS_SWEEP_MAX_RATIOS ratios, a threshold outside (0, 1], no "downsample"
 * method registered), TS_ERROR_CANCELLED. A method failing at one point is
 * recorded in that point, not fatal. */
TsSweep *ts_sweep_run (const TsScene *scene, const TsSweepOptions *options, GCancellable *cancellable,
                       GError **error);
void ts_sweep_free (TsSweep *sweep);

/* The optimal-ratio rule on any curve: the highest @ratios[i] with @q[i] >= threshold
 * (NaN never qualifies); 0 when none. */
double ts_sweep_optimal_ratio (const double *ratios, const double *q, int n, double threshold);

/* Measures one assignment on @scene: reconstruction (dropped patches per
 * @fill), SSIM and PSNR against the scene's image, feature retention. Fills
 * ratio (N / n_out) when 0, tokens, ssim, psnr, feature_retention; q and
 * efficiency use SSIM. */
gboolean ts_sweep_measure (const TsScene *scene, const TsAssignment *a, TsDropFill fill, TsSweepPoint *point,
                           GError **error);

/* ts_ssim computed the sweep's way (float, inner region only, the reference's
 * half once per sweep): agrees with ts_ssim to 1e-5. NAN on a size mismatch. */
double ts_sweep_ssim (const TsImage *a, const TsImage *b);

/* The curve of @method, or NULL. */
const TsSweepCurve *ts_sweep_find (const TsSweep *sweep, const char *method);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsSweep, ts_sweep_free)

G_END_DECLS
