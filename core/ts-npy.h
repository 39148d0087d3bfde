/* ts-npy.h: NumPy .npy arrays in and out (format versions 1, 2 and 3).
 *
 * Reading accepts float16, float32 and float64 in either byte order, C or
 * Fortran order, any rank up to 4, and checks every size against the file
 * before touching data. Feature import interprets [N, D] or [rows, cols, D]
 * (a leading batch dimension of 1 is dropped) against a grid. */
#pragma once

#include "ts-features.h"

G_BEGIN_DECLS

#define TS_NPY_MAX_DIMS 4

typedef struct {
  int ndim;
  gint64 shape[TS_NPY_MAX_DIMS];
  float *data; /* C order, converted to float32 */
} TsNpyArray;

typedef enum {
  TS_NPY_CLS_AUTO, /* drop a leading extra row when there is exactly one more than tokens */
  TS_NPY_CLS_YES,  /* the first row is a CLS token: drop it */
  TS_NPY_CLS_NO,
} TsNpyCls;

TsNpyArray *ts_npy_read (const char *path, GError **error);
TsNpyArray *ts_npy_parse (const guint8 *data, gsize len, const char *name, GError **error);
void ts_npy_array_free (TsNpyArray *array);
gint64 ts_npy_array_size (const TsNpyArray *array);

/* Writes a float32 C-order array atomically. */
gboolean ts_npy_write (const char *path, const float *data, int ndim, const gint64 *shape,
                       GError **error);

/* Token features from a .npy file for @grid; TS_ERROR_BAD_DATA names the
 * expected and found shapes on a mismatch. */
TsFeatures *ts_features_load_npy (const char *path, const TsGrid *grid, TsNpyCls cls,
                                  GError **error);
gboolean ts_features_save_npy (const TsFeatures *features, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsNpyArray, ts_npy_array_free)

G_END_DECLS
