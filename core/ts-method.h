/* ts-method.h: the registry of compression methods (REFERENCE 3).
 *
 * Every method turns a TsScene into a TsAssignment. Each lives in its own
 * file (ts-pool.c, ts-tome.c, ...) with a short header for its own options;
 * this registry gives them one calling convention so the CLI, sweeps and the
 * GUI treat them alike. Methods are deterministic (anything random is seeded
 * from params->seed), take a GCancellable they check every few thousand
 * iterations, and are safe to run concurrently on one scene. */
#pragma once

#include <gio/gio.h>

#include "ts-assignment.h"
#include "ts-quality.h"
#include "ts-scene.h"

G_BEGIN_DECLS

typedef enum {
  TS_POOL_AVG,
  TS_POOL_MAX,
} TsPoolMode;

typedef enum {
  TS_DETAIL_BLUR_ERROR, /* MSE(region, up(down(region))) */
  TS_DETAIL_ENTROPY,    /* luma entropy, 256 bins */
  TS_DETAIL_GRADIENT,   /* mean gradient energy */
} TsDetailScore;

/* The user's target and every method option; each method reads what it documents. */
typedef struct {
  int tokens;          /* target output tokens; 0 = use ratio */
  double ratio;        /* target compression ratio N / tokens when tokens == 0 (default 4) */
  guint64 seed;        /* default 0 */

  TsPoolMode pool_mode;       /* pool: avg (default) or max */
  int n_protected;            /* tome/greedy: the first n tokens are never merged away (a CLS) */
  gboolean adjacent_only;     /* greedy: only spatially adjacent groups merge */
  int tome_r;                 /* tome: tokens removed per step; 0 = the schedule min(n - target, n / 2) */
  double dominant_fraction;   /* visionzip: share of the budget kept as dominant tokens (default 0.85) */
  int rounds;                 /* resample: attention refinement rounds (default 3) */
  double tau;                 /* resample and feature attention temperature (default 0.1) */
  TsDetailScore detail;       /* adaptive: detail score (default blur error) */
  double entropy_threshold;   /* adaptive entropy mode: split while entropy > threshold bits; 0 = budget mode */
  TsDropFill fill;            /* how reconstruction fills dropped patches (default grey: a dropped patch carries no information) */
} TsMethodParams;

typedef enum {
  TS_METHOD_DROPS = 1 << 0,        /* some patches may map to -1 */
  TS_METHOD_AUTO_COUNT = 1 << 1,   /* the image chooses the count (PruMerge); the target is a hint */
  TS_METHOD_QUANTISED = 1 << 2,    /* only some counts are reachable (pooling, adaptive): the result
                                      is the largest reachable count <= target, documented per method */
  TS_METHOD_REGIONS = 1 << 3,      /* returns regions */
  TS_METHOD_STAND_IN = 1 << 4,     /* approximates a learned method it cannot run (optical): reports say so */
  TS_METHOD_SPLIT_TARGETS = 1 << 5, /* run_multi's targets share only what the scene's memo keeps: they may
                                       run as separate calls (threads) at no extra cost (resample) */
  TS_METHOD_GRAM = 1 << 6,         /* reads the scene's Gram matrix (ts_scene_gram): a sweep builds it first */
} TsMethodFlags;

typedef struct _TsMethod TsMethod;
typedef TsAssignment *(*TsMethodRun) (const TsScene *scene, const TsMethodParams *params,
                                      GCancellable *cancellable, GError **error);

/* Optional: the assignments for several targets (token counts) from one run,
 * out[i] for targets[i], exactly what run gives for each target alone; on
 * failure FALSE with @error, targets not reached left NULL. */
typedef gboolean (*TsMethodRunMulti) (const TsScene *scene, const TsMethodParams *params, const int *targets,
                                      int n_targets, TsAssignment **out, GCancellable *cancellable,
                                      GError **error);

struct _TsMethod {
  const char *name;        /* CLI name: "pool", "tome", ... */
  const char *label;       /* "Pooling k x k" */
  const char *summary;     /* one line for lists and tooltips */
  const char *explanation; /* a paragraph with the formula, for teaching */
  guint flags;             /* TsMethodFlags */
  TsMethodRun run;
  TsMethodRunMulti run_multi; /* NULL when each target needs its own run */
};

void ts_method_params_init (TsMethodParams *params);

/* All registered methods in display order; @n receives the count. */
const TsMethod *const *ts_methods (guint *n);
/* NULL (TS_ERROR_INVALID_ARGUMENT listing the names) when unknown. */
const TsMethod *ts_method_find (const char *name, GError **error);

/* The target token count for @n_in tokens: params->tokens, or round(n_in / ratio),
 * clamped to 1..n_in. */
int ts_method_target (const TsMethodParams *params, int n_in);

/* Runs @method, sets the assignment's method name and checks its invariants
 * (ts_assignment_validate); the one entry point callers use. */
TsAssignment *ts_method_run (const TsMethod *method, const TsScene *scene, const TsMethodParams *params,
                             GCancellable *cancellable, GError **error);

/* ts_method_run for each of @n_targets token counts into out[i] (each
 * named and validated): one run of method->run_multi when the method has one,
 * else one run per target. FALSE with @error at the first failure; out[i]
 * already produced stay set (the caller frees every non-NULL entry). */
gboolean ts_method_run_targets (const TsMethod *method, const TsScene *scene, const TsMethodParams *params,
                                const int *targets, int n_targets, TsAssignment **out, GCancellable *cancellable,
                                GError **error);

G_END_DECLS
