/* ts-test-util.h: shared fixtures for the GTest suites. */
#pragma once

#include "core.h"

G_BEGIN_DECLS

/* A fresh temporary folder, removed with everything in it at exit. */
const char *ts_test_tmpdir (void);
/* Path of @name inside ts_test_tmpdir (newly allocated). */
char *ts_test_path (const char *name);
/* Writes @len bytes to tmp/@name and returns the path. */
char *ts_test_write (const char *name, const void *data, gsize len);

/* Deterministic test pictures, the same formulas as tests/golden/ssim_golden.py:
 *   gradient:  R = (3x + y) mod 256, G = (x * y) mod 256, B = (5y + 2x) mod 256
 *   noisy:     gradient plus an LCG noise in [-20, 20], clamped */
TsImage *ts_test_gradient (int width, int height);
TsImage *ts_test_noisy (const TsImage *image, guint32 seed, int amplitude);
/* ts_test_noisy of a fresh ts_test_gradient (which is freed). */
TsImage *ts_test_noisy_gradient (int width, int height, guint32 seed, int amplitude);
/* A w x h image of one colour. */
TsImage *ts_test_solid (int width, int height, guint8 r, guint8 g, guint8 b);

/* n x d floats from the LCG of tests/golden/tome_golden.py, in [-0.5, 0.5). */
float *ts_test_lcg_matrix (int n, int d, guint32 seed);
/* A scene whose grid is rows x cols (patch 2 on a grey image) with the given
 * features (copied). */
TsScene *ts_test_feature_scene (int rows, int cols, int d, const float *data);

/* Runs tokenscope-cli (path in $TS_CLI) with @args (NULL-terminated), returns
 * the exit status and fills stdout / stderr (may be NULL; a string they
 * already hold is freed first, so one variable can serve several runs). */
int ts_test_cli (char **out, char **err, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
