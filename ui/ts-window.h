/* ts-window.h: the main TokenScope window (canvas, curves, controls). */
#pragma once

#include <gtk/gtk.h>

#include "ts-document.h"

G_BEGIN_DECLS

#define TS_TYPE_WINDOW (ts_window_get_type ())
G_DECLARE_FINAL_TYPE (TsWindow, ts_window, TS, WINDOW, GtkApplicationWindow)

TsWindow *ts_window_new (GtkApplication *application);
TsDocument *ts_window_get_document (TsWindow *self);
/* Opens @file; on failure a banner explains and the current image stays. */
void ts_window_open_file (TsWindow *self, GFile *file);
/* Opens the embedded sample at resource @path. */
void ts_window_open_sample (TsWindow *self, const char *path);
/* The first embedded sample's resource path, or NULL. */
char *ts_window_first_sample (void);
/* Shows @message in the window's banner. */
void ts_window_show_notice (TsWindow *self, const char *message);

/* For the Xvfb tests (TS_UI_STATE set): calls @write (@widget) three frames
 * on, once the widgets are laid out; nothing otherwise. */
void ts_ui_state_write_later (GtkWidget *widget, void (*write) (GtkWidget *widget));

G_END_DECLS
