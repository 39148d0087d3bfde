/* ts-document-budget.h: the budget panel's view-model on top of TsDocument
 * (no widgets): the fixed-budget options A/B/C measured on the document's
 * current scene in a worker thread, applying one of them to the document,
 * and the VLM token table for the loaded image.
 *
 * Main thread only, like TsDocument. The worker runs on its own copy of the
 * scene, so the document may change (or go away) while it runs. */
#pragma once

#include "ts-document.h"

G_BEGIN_DECLS

/* Measures ts_budget_fixed (core/ts-budget.h) for @context tokens minus a
 * @text reserve on the document's scene; TS_ERROR_INVALID_ARGUMENT at once
 * when there is no scene yet. Cancel through @cancellable. */
void ts_document_budget_async (TsDocument *self, int context, int text, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
/* The options (free with ts_budget_fixed_free), or NULL with the error. */
TsBudgetFixed *ts_document_budget_finish (TsDocument *self, GAsyncResult *result, GError **error);

/* The method an option runs in the document: "downsample" for A, the
 * option's own method for B and C; NULL when the option is not available. */
const char *ts_budget_option_method (const TsBudgetOption *option);
/* Selects the option's method and its token count; FALSE with
 * TS_ERROR_INVALID_ARGUMENT when the option is not available. */
gboolean ts_document_apply_budget_option (TsDocument *self, const TsBudgetOption *option, GError **error);

/* Visual tokens of every VLM (core/ts-vlm.h) for the loaded image at its
 * original size, in TsVlmModel order; the generic ViT row uses the document's
 * resize policy and patch. Models that refuse the image get tokens = -1 and
 * a note saying so (notes are static strings).
 * Returns NULL when nothing is loaded; free with g_array_unref. */
GArray *ts_document_vlm_counts (TsDocument *self);

G_END_DECLS
