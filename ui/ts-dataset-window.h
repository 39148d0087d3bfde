/* ts-dataset-window.h: "Analyse Folder…": a dataset run over a folder with
 * progress and Cancel, a sortable table of images (activating a row opens
 * the image in the main window), the curves with their p10-p90 bands, the
 * recommendation, and export. The work is done by TsDatasetModel. */
#pragma once

#include <gtk/gtk.h>

#include "ts-dataset-model.h"
#include "ts-window.h"

G_BEGIN_DECLS

#define TS_TYPE_DATASET_WINDOW (ts_dataset_window_get_type ())
G_DECLARE_FINAL_TYPE (TsDatasetWindow, ts_dataset_window, TS, DATASET_WINDOW, GtkWindow)

/* A window bound to @parent: its settings (resize, patch, features) are used
 * for the run, rows open there. The folder starts as the open file's folder. */
TsDatasetWindow *ts_dataset_window_new (TsWindow *parent);
TsDatasetModel *ts_dataset_window_get_model (TsDatasetWindow *self);
void ts_dataset_window_set_folder (TsDatasetWindow *self, const char *folder);

G_END_DECLS
