#include "ts-scene.h"
#include "ts-alloc.h"
#include "ts-error.h"

#include <cblas.h>
#include <stdlib.h>

TsScene *
ts_scene_new (TsImage *image, int patch, TsFeatureKind kind, TsFeatures *features, GError **error)
{
  g_autoptr (TsImage) owned_image = image;
  g_autoptr (TsFeatures) owned_features = features;
  TsScene *scene;
  TsGrid grid;

  g_return_val_if_fail (image != NULL, NULL);
  if (!ts_grid_init (&grid, image->width, image->height, patch, error))
    return NULL;
  if (owned_features == NULL)
    {
      /* no features given: pixel features, whatever @kind said (documented in the header) */
      kind = TS_FEATURES_PIXEL;
      owned_features = ts_features_pixel (image, &grid, error);
      if (owned_features == NULL)
        return NULL;
    }
  if (owned_features->n != grid.tokens)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%d feature rows for a grid of %d tokens",
                   owned_features->n, grid.tokens);
      return NULL;
    }
  scene = g_new0 (TsScene, 1);
  g_mutex_init (&scene->memo_lock);
  scene->grid = grid;
  scene->kind = kind;
  scene->normalized = ts_features_normalized (owned_features, error);
  if (scene->normalized == NULL)
    {
      g_mutex_clear (&scene->memo_lock);
      g_free (scene);
      return NULL;
    }
  scene->image = g_steal_pointer (&owned_image);
  scene->features = g_steal_pointer (&owned_features);
  return scene;
}

TsScene *
ts_scene_new_resized (const TsImage *image, const TsResize *resize, int patch, TsFeatureKind kind, GError **error)
{
  g_autoptr (TsImage) resized = ts_resize_apply (image, resize, patch, error);
  TsFeatures *features = NULL;
  TsGrid grid;

  if (resized == NULL || !ts_grid_init (&grid, resized->width, resized->height, patch, error))
    return NULL;
  if (kind == TS_FEATURES_DESCRIPTOR && (features = ts_features_descriptor (resized, &grid, error)) == NULL)
    return NULL;
  return ts_scene_new (g_steal_pointer (&resized), patch, kind, features, error); /* NULL features: pixel */
}

typedef struct {
  gpointer value;
  GDestroyNotify free_func;
} MemoEntry;

static void
memo_entry_free (gpointer data)
{
  MemoEntry *e = data;

  if (e->free_func != NULL)
    e->free_func (e->value);
  g_free (e);
}

gpointer
ts_scene_memo (const TsScene *scene, const char *key, gpointer (*build) (const TsScene *scene, gpointer data),
               gpointer data, GDestroyNotify free_func)
{
  /* the memo is the one part of a scene that changes after it is made */
  TsScene *self = (TsScene *) scene;
  MemoEntry *e;
  gpointer value;

  g_mutex_lock (&self->memo_lock);
  if (self->memo == NULL)
    self->memo = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, memo_entry_free);
  e = g_hash_table_lookup (self->memo, key);
  if (e == NULL && (value = build (scene, data)) != NULL)
    {
      e = g_new (MemoEntry, 1);
      *e = (MemoEntry){ value, free_func };
      g_hash_table_insert (self->memo, g_strdup (key), e);
    }
  g_mutex_unlock (&self->memo_lock);
  return e ? e->value : NULL;
}

void
ts_scene_memo_clear (const TsScene *scene)
{
  TsScene *self = (TsScene *) scene;

  g_mutex_lock (&self->memo_lock);
  g_clear_pointer (&self->memo, g_hash_table_unref);
  g_mutex_unlock (&self->memo_lock);
}

typedef struct {
  GMutex lock;
  gboolean built;
  float *g; /* NULL when there was no memory */
} Gram;

static gpointer
gram_new (const TsScene *scene, gpointer data)
{
  Gram *g = g_new0 (Gram, 1);

  g_mutex_init (&g->lock);
  return g;
}

static void
gram_free (gpointer data)
{
  Gram *g = data;

  g_mutex_clear (&g->lock);
  free (g->g);
  g_free (g);
}

const float *
ts_scene_gram (const TsScene *scene)
{
  const TsFeatures *x = scene->normalized;
  int n = x->n;
  Gram *g;
  const float *out;

  if (n < 1 || n > TS_SCENE_GRAM_MAX_TOKENS)
    return NULL;
  /* the entry is made under the memo's lock, the product under its own */
  g = ts_scene_memo (scene, "gram", gram_new, NULL, gram_free);
  g_mutex_lock (&g->lock);
  if (!g->built)
    {
      g->g = ts_alloc_large (sizeof (float) * (gsize) n * n); /* column blocks are read */
      if (g->g != NULL)
        {
          cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, n, x->d, 1.0f, x->data, x->d, 0.0f, g->g, n);
          for (int i0 = 0; i0 < n; i0 += 64) /* lower = upper^T, in tiles */
            for (int j0 = 0; j0 <= i0; j0 += 64)
              for (int i = i0; i < MIN (i0 + 64, n); i++)
                for (int j = j0; j < MIN (j0 + 64, i); j++)
                  g->g[(gsize) i * n + j] = g->g[(gsize) j * n + i];
        }
      g->built = TRUE;
    }
  out = g->g;
  g_mutex_unlock (&g->lock);
  return out;
}

void
ts_scene_set_importance (TsScene *scene, float *importance, const char *source)
{
  g_free (scene->importance);
  g_free (scene->importance_source);
  scene->importance = importance;
  scene->importance_source = g_strdup (source);
}

void
ts_scene_free (TsScene *scene)
{
  if (scene == NULL)
    return;
  ts_image_free (scene->image);
  ts_features_free (scene->features);
  ts_features_free (scene->normalized);
  g_free (scene->importance);
  g_free (scene->importance_source);
  g_clear_pointer (&scene->memo, g_hash_table_unref);
  g_mutex_clear (&scene->memo_lock);
  g_free (scene);
}
