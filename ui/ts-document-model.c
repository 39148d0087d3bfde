/* ts-document-model.c: a cached user ViT for the document's model features. See ts-document-model.h. */
#include "ts-document-model.h"

typedef struct {
  TsVit *vit;
  char *path;
  TsVitFamily family;
  goffset size;
  guint64 mtime;
} ModelBox;

static GMutex cache_lock;
static ModelBox *cache; /* one slot */

static void
model_box_clear (gpointer data)
{
  ModelBox *box = data;

  ts_vit_free (box->vit);
  g_free (box->path);
}

static void
model_box_unref (ModelBox *box)
{
  if (box)
    g_atomic_rc_box_release_full (box, model_box_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ModelBox, model_box_unref)

/* Size and modification time, so a rewritten file is read again. */
static gboolean
file_stamp (const char *path, goffset *size, guint64 *mtime, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) local = NULL;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED,
                            G_FILE_QUERY_INFO_NONE, NULL, &local);
  if (info == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "cannot read the model %s: %s", path, local->message);
      return FALSE;
    }
  *size = g_file_info_get_size (info);
  *mtime = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
  return TRUE;
}

static ModelBox *
acquire (const char *path, TsVitFamily family, GError **error)
{
  TsVitLoadOptions options = { 0 };
  ModelBox *box = NULL;
  goffset size;
  guint64 mtime;
  TsVit *vit;

  if (!file_stamp (path, &size, &mtime, error))
    return NULL;
  g_mutex_lock (&cache_lock);
  if (cache && g_str_equal (cache->path, path) && cache->family == family && cache->size == size
      && cache->mtime == mtime)
    box = g_atomic_rc_box_acquire (cache);
  g_mutex_unlock (&cache_lock);
  if (box)
    return box;

  /* read without the lock: weights can take seconds */
  options.family = family;
  vit = ts_vit_load (path, &options, error);
  if (vit == NULL)
    return NULL;
  box = g_atomic_rc_box_new0 (ModelBox);
  box->vit = vit;
  box->path = g_strdup (path);
  box->family = family;
  box->size = size;
  box->mtime = mtime;
  g_mutex_lock (&cache_lock);
  model_box_unref (cache);
  cache = g_atomic_rc_box_acquire (box);
  g_mutex_unlock (&cache_lock);
  return box;
}

TsScene *
ts_document_model_scene (const char *path, TsVitFamily family, int layer, const TsImage *frame,
                         const TsResize *resize, GCancellable *cancellable, GError **error)
{
  g_autoptr (ModelBox) box = NULL;

  if (path == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "choose a .safetensors model first");
      return NULL;
    }
  if ((box = acquire (path, family, error)) == NULL)
    return NULL;
  return ts_vit_scene_new (box->vit, frame, resize, layer, TS_VIT_IMPORTANCE_QUERY, cancellable, error);
}

void
ts_document_model_clear_cache (void)
{
  g_mutex_lock (&cache_lock);
  g_clear_pointer (&cache, model_box_unref);
  g_mutex_unlock (&cache_lock);
}
