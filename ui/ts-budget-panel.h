/* ts-budget-panel.h: the sidebar's "Budget" page.
 *
 * Context length and text reserve give the visual budget (drawn as a bar
 * against the tokens the current setting spends); the three fixed-budget
 * options A downsample / B compress / C adaptive are measured on the
 * document's scene in a worker (ts-document-budget.h) and one click applies
 * one; a query-complexity slider gives the dynamic budget; the VLM table
 * lists every model's tokens for this image. Selecting a VLM emits
 * "vlm-changed" with the model's count (NULL when none is selected), also
 * again when the scene changes, so the window can draw its tiling;
 * "options-ready" follows each measurement of the options. */
#pragma once

#include <gtk/gtk.h>

#include "ts-document.h"

G_BEGIN_DECLS

#define TS_TYPE_BUDGET_PANEL (ts_budget_panel_get_type ())
G_DECLARE_FINAL_TYPE (TsBudgetPanel, ts_budget_panel, TS, BUDGET_PANEL, GtkWidget)

GtkWidget *ts_budget_panel_new (void);
void ts_budget_panel_set_document (TsBudgetPanel *self, TsDocument *document);
/* The selected VLM row's count, or NULL. */
const TsVlmCount *ts_budget_panel_get_vlm (TsBudgetPanel *self);
/* Widget positions and results for the Xvfb tests (TS_UI_STATE), relative to
 * @root, offset by the surface transform (@sx, @sy). */
void ts_budget_panel_write_state (TsBudgetPanel *self, GKeyFile *kf, GtkWidget *root, double sx, double sy);
/* One widget's position and size in group @name (nothing when it is not mapped). */
void ts_budget_panel_write_widget (GKeyFile *kf, const char *name, GtkWidget *widget, GtkWidget *root, double sx,
                                   double sy);

G_END_DECLS
