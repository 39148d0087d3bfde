/* ts-dataset-model.h: the dataset view's controller (no widgets).
 *
 * Runs core/ts-dataset.h over a folder (every method at every ratio of the
 * sweep, plus the token entropy, per image) in a GTask thread with its own
 * GCancellable, writing OUT/images.jsonl as the CLI's `dataset` does, then
 * summarises it with core/ts-summary.h. Progress comes back on the main
 * thread ("progress"); "finished" follows the run, cancelled or not: images
 * finished before a cancel are kept and summarised.
 *
 * Rows (one TsDatasetRow per image, in the summary's image order) and the
 * summary JSON stay valid until the next run or re-summary. Main thread only. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "core.h"

G_BEGIN_DECLS

/* One image of a run: what the table shows. */
#define TS_TYPE_DATASET_ROW (ts_dataset_row_get_type ())
G_DECLARE_FINAL_TYPE (TsDatasetRow, ts_dataset_row, TS, DATASET_ROW, GObject)

const char *ts_dataset_row_get_image (TsDatasetRow *row); /* relative to the folder */
const char *ts_dataset_row_get_path (TsDatasetRow *row);  /* to open it */
const char *ts_dataset_row_get_error (TsDatasetRow *row); /* NULL when analysed */
double ts_dataset_row_get_bits (TsDatasetRow *row);       /* entropy, bits per token; NAN on error */
/* The highest swept ratio with Q >= threshold for @method (0: none; NAN: not swept). */
double ts_dataset_row_get_optimal (TsDatasetRow *row, const char *method);
/* The SSIM of @method at the swept @ratio (NAN when absent). */
double ts_dataset_row_get_ssim (TsDatasetRow *row, const char *method, double ratio);

#define TS_TYPE_DATASET_MODEL (ts_dataset_model_get_type ())
G_DECLARE_FINAL_TYPE (TsDatasetModel, ts_dataset_model, TS, DATASET_MODEL, GObject)

typedef struct {
  TsResize resize;
  int patch;
  TsFeatureKind features;     /* pixel or descriptor */
  const char *const *methods; /* NULL: every registered method */
  const double *ratios;       /* NULL: the sweep's default ratios */
  int n_ratios;
  int entropy_k;              /* k-means clusters of the token entropy; 0: the default */
  int jobs;                   /* images at once, >= 1 */
} TsDatasetSetup;

void ts_dataset_setup_init (TsDatasetSetup *setup);

TsDatasetModel *ts_dataset_model_new (void);

/* Starts a run over @folder into @out_dir (created; an earlier images.jsonl
 * there is replaced). FALSE when a run is in progress or the arguments are
 * bad. @setup is copied. */
gboolean ts_dataset_model_start (TsDatasetModel *self, const char *folder, const char *out_dir,
                                 const TsDatasetSetup *setup, GError **error);
void ts_dataset_model_cancel (TsDatasetModel *self);
gboolean ts_dataset_model_get_running (TsDatasetModel *self);
/* Counts of the run in progress or the last one. */
void ts_dataset_model_get_progress (TsDatasetModel *self, int *done, int *total, int *failed);
/* Why the last run stopped early (cancelled, output not writable), or NULL. */
const char *ts_dataset_model_get_error (TsDatasetModel *self);
const char *ts_dataset_model_get_out_dir (TsDatasetModel *self);

/* Summary options of the numbers shown; re-summarises the last run at once. */
void ts_dataset_model_set_threshold (TsDatasetModel *self, double threshold);
double ts_dataset_model_get_threshold (TsDatasetModel *self);

/* The summary (core/ts-summary.h JSON) of the last run, or NULL. */
JsonNode *ts_dataset_model_get_summary (TsDatasetModel *self);
/* TsDatasetRow items of the last run (never NULL; empty before). */
GListModel *ts_dataset_model_get_rows (TsDatasetModel *self);
/* Methods and ratios of the last run's summary (NULL-terminated / @n values). */
const char *const *ts_dataset_model_get_methods (TsDatasetModel *self);
const double *ts_dataset_model_get_ratios (TsDatasetModel *self, guint *n);
/* The recommendation in words, one line per method. */
char *ts_dataset_model_dup_recommendation (TsDatasetModel *self);
/* Writes the summary to @path: .json (the summary) or .csv (the per-ratio
 * table); atomic. TS_ERROR_INVALID_ARGUMENT without a summary or for another
 * extension. */
gboolean ts_dataset_model_export (TsDatasetModel *self, const char *path, GError **error);

G_END_DECLS
