/* ts-scene.h: one image ready for compression: the first half of the data path
 * (image -> grid -> features), with what every method and sweep shares.
 *
 * A scene owns its working image (already resized), its grid, the raw token
 * features and their L2-normalised copy. It can carry a per-token importance
 * (model attention, or feature attention computed once) that pruning methods
 * read. A scene is immutable after ts_scene_new / ts_scene_set_importance, so
 * any number of threads may run methods on it at once. Work derived from the
 * features alone that several runs share (ToMe's matching, whatever the
 * target) is kept in its memo (ts_scene_memo), which has its own lock. */
#pragma once

#include "ts-features.h"
#include "ts-grid.h"
#include "ts-image.h"
#include "ts-resize.h"

G_BEGIN_DECLS

typedef struct {
  TsImage *image;          /* the resized working image the grid covers */
  TsGrid grid;
  TsFeatureKind kind;      /* what the features are */
  TsFeatures *features;    /* grid.tokens x d, raw */
  TsFeatures *normalized;  /* the same, rows of unit L2 norm */
  float *importance;       /* grid.tokens values or NULL; higher = more important */
  char *importance_source; /* e.g. "feature attention (mean query, tau 0.1)", "CLS attention layer 22" */
  /* private: ts_scene_memo */
  GMutex memo_lock;
  GHashTable *memo;
} TsScene;

/* Takes ownership of @image and @features (which may be NULL: pixel features
 * are computed). The grid is laid at @patch over the whole image. */
TsScene *ts_scene_new (TsImage *image, int patch, TsFeatureKind kind, TsFeatures *features,
                       GError **error);
/* The model-free path in one call: @image resized by @resize for @patch, the
 * grid laid, and pixel or descriptor features computed (@kind; NPY and model
 * features come from their own readers and go through ts_scene_new). */
TsScene *ts_scene_new_resized (const TsImage *image, const TsResize *resize, int patch, TsFeatureKind kind,
                               GError **error);
/* The value kept under @key (a string naming what it is and its options),
 * made by @build (@scene, @data) on first use and freed with @free_func when
 * the scene is. NULL when @build returns NULL (nothing kept). Thread-safe;
 * the value must synchronise its own use. */
gpointer ts_scene_memo (const TsScene *scene, const char *key, gpointer (*build) (const TsScene *scene, gpointer data),
                        gpointer data, GDestroyNotify free_func);
/* Drops everything the memo keeps (memory, or timing cold runs). Not while
 * another thread uses a memo value. */
void ts_scene_memo_clear (const TsScene *scene);
/* The largest token count whose Gram matrix a scene keeps (64 MB). */
#define TS_SCENE_GRAM_MAX_TOKENS 4096

/* The Gram matrix of the normalised features, N x N floats row-major:
 * G[i N + j] = the cosine of tokens i and j, both triangles (one SSYRK, its
 * upper triangle mirrored, so G is exactly symmetric). Made on first use and
 * kept with the scene (its memo), so every method and ratio that needs
 * token-to-token similarities shares one product: a row of G replaces a
 * product with the features, a sum of rows a product with a sum of tokens.
 * NULL when N > TS_SCENE_GRAM_MAX_TOKENS or memory is short: callers then
 * take their own products. Thread-safe: a caller arriving during the build
 * waits for it (other memo users do not). The build runs SSYRK on OpenBLAS's
 * current thread count. */
const float *ts_scene_gram (const TsScene *scene);
/* Takes ownership of @importance (grid.tokens floats). */
void ts_scene_set_importance (TsScene *scene, float *importance, const char *source);
void ts_scene_free (TsScene *scene);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsScene, ts_scene_free)

G_END_DECLS
