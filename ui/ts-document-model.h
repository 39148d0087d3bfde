/* ts-document-model.h: the document's "Model (safetensors)" features: a
 * user's ViT (core/ts-vit.h) loaded once and shared by the workers.
 *
 * The last model loaded stays cached (one slot, keyed by path, family, size
 * and modification time) so a new resize or frame does not read the weights
 * again. Thread-safe: the document's workers call this. */
#pragma once

#include "core.h"

G_BEGIN_DECLS

/* A scene whose features are the patch tokens of hidden layer @layer of the
 * model in @path read as @family (AUTO detects it; the model fixes the patch size) on @frame resized by
 * @resize, with the model's CLS attention (the mean query for models
 * without CLS) of that layer as the scene's importance. Errors name the file. */
TsScene *ts_document_model_scene (const char *path, TsVitFamily family, int layer, const TsImage *frame,
                                  const TsResize *resize, GCancellable *cancellable, GError **error);

/* Drops the cached model (tests; memory). */
void ts_document_model_clear_cache (void);

G_END_DECLS
