/* ts-application.h: the TokenScope GtkApplication (org.tokenscope.TokenScope).
 *
 * Owns the app-wide actions (quit, about) and their shortcuts; each window
 * owns its document. `tokenscope FILE...` opens a window per file; without
 * arguments a window opens on the first embedded sample. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_APPLICATION (ts_application_get_type ())
G_DECLARE_FINAL_TYPE (TsApplication, ts_application, TS, APPLICATION, GtkApplication)

TsApplication *ts_application_new (void);

G_END_DECLS
