#include "ts-dataset.h"
#include "ts-error.h"
#include "ts-io.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static gboolean
is_dataset_image (const char *name)
{
  static const char *const ext[] = { ".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif", NULL };
  g_autofree char *lower = g_ascii_strdown (name, -1);

  for (int i = 0; ext[i]; i++)
    if (g_str_has_suffix (lower, ext[i]))
      return TRUE;
  return FALSE;
}

void
ts_dataset_list_free (TsDatasetList *list)
{
  if (list == NULL)
    return;
  g_ptr_array_unref (list->paths);
  g_ptr_array_unref (list->keys);
  g_free (list);
}

static gboolean
walk (GFile *root, GFile *dir, TsDatasetList *list, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFileEnumerator) e = NULL;
  g_autoptr (GError) local = NULL;

  e = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                 G_FILE_QUERY_INFO_NONE, cancellable, &local);
  if (e == NULL)
    {
      g_autofree char *p = g_file_get_path (dir);
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", p, local->message);
      return FALSE;
    }
  for (;;)
    {
      GFileInfo *info;
      GFile *child;
      if (!g_file_enumerator_iterate (e, &info, &child, cancellable, &local))
        {
          g_autofree char *p = g_file_get_path (dir);
          g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", p, local->message);
          return FALSE;
        }
      if (info == NULL)
        break;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        {
          if (!walk (root, child, list, cancellable, error))
            return FALSE;
        }
      else if (is_dataset_image (g_file_info_get_name (info)))
        {
          g_ptr_array_add (list->paths, g_file_get_path (child));
          g_ptr_array_add (list->keys, g_file_get_relative_path (root, child));
        }
      else
        list->skipped++;
    }
  return TRUE;
}

static int
compare_keys (gconstpointer a, gconstpointer b, gpointer data)
{
  GPtrArray *keys = data;

  return strcmp (keys->pdata[*(const guint *) a], keys->pdata[*(const guint *) b]);
}

TsDatasetList *
ts_dataset_list (const char *source, GCancellable *cancellable, GError **error)
{
  g_autoptr (TsDatasetList) list = g_new0 (TsDatasetList, 1);

  list->paths = g_ptr_array_new_with_free_func (g_free);
  list->keys = g_ptr_array_new_with_free_func (g_free);

  if (g_file_test (source, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GFile) root = g_file_new_for_path (source);
      if (!walk (root, root, list, cancellable, error))
        return NULL;
    }
  else
    {
      g_autoptr (GBytes) bytes = ts_file_read (source, 256 << 20, error);
      g_autofree char *base = g_path_get_dirname (source);
      g_auto (GStrv) lines = NULL;
      if (bytes == NULL)
        return NULL;
      {
        g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
        lines = g_strsplit (text, "\n", -1);
      }
      for (int i = 0; lines[i]; i++)
        {
          char *line = g_strstrip (lines[i]);
          if (*line == '\0' || *line == '#')
            continue;
          if (!is_dataset_image (line))
            {
              list->skipped++;
              continue;
            }
          g_ptr_array_add (list->paths, g_path_is_absolute (line) ? g_strdup (line)
                                                                   : g_build_filename (base, line, NULL));
          g_ptr_array_add (list->keys, g_strdup (line));
        }
    }
  /* sort both arrays by key */
  {
    g_autoptr (GArray) order = g_array_sized_new (FALSE, FALSE, sizeof (guint), list->keys->len);
    g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; i < list->keys->len; i++)
      g_array_append_val (order, i);
    g_array_sort_with_data (order, compare_keys, list->keys);
    for (guint i = 0; i < order->len; i++)
      {
        guint k = g_array_index (order, guint, i);
        g_ptr_array_add (keys, g_strdup (list->keys->pdata[k]));
        g_ptr_array_add (paths, g_strdup (list->paths->pdata[k]));
      }
    g_ptr_array_unref (list->keys);
    g_ptr_array_unref (list->paths);
    list->keys = g_steal_pointer (&keys);
    list->paths = g_steal_pointer (&paths);
  }
  return g_steal_pointer (&list);
}

gboolean
ts_dataset_parse_shard (const char *text, int *index, int *count, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text ? text : "", "/", 2);
  guint64 i, n;

  if (g_strv_length (parts) != 2 || !g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXINT, &i, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, G_MAXINT, &n, NULL) || i >= n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--shard must be I/N with 0 <= I < N (e.g. 0/4 ... 3/4), not '%s'", text ? text : "");
      return FALSE;
    }
  *index = (int) i;
  *count = (int) n;
  return TRUE;
}

gboolean
ts_dataset_list_shard (TsDatasetList *list, int index, int count, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  if (count < 1 || index < 0 || index >= count)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "shard %d of %d does not exist", index, count);
      return FALSE;
    }
  for (guint i = 0; i < list->keys->len; i++)
    if ((int) (i % (guint) count) == index)
      {
        g_ptr_array_add (keys, g_strdup (list->keys->pdata[i]));
        g_ptr_array_add (paths, g_strdup (list->paths->pdata[i]));
      }
  g_ptr_array_unref (list->keys);
  g_ptr_array_unref (list->paths);
  list->keys = g_steal_pointer (&keys);
  list->paths = g_steal_pointer (&paths);
  return TRUE;
}

GPtrArray *
ts_dataset_read_jsonl (const char *path, int *bad, GError **error)
{
  g_autoptr (GBytes) bytes = ts_file_read (path, 0, error);
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *data, *end, *p;
  gsize len;
  int nbad = 0;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  end = data + len;
  for (p = data; p < end;)
    {
      const char *nl = memchr (p, '\n', end - p);
      if (nl == NULL)
        {
          nbad++; /* a torn last line */
          break;
        }
      if (nl > p)
        {
          JsonNode *root;
          if (json_parser_load_from_data (parser, p, nl - p, NULL) && (root = json_parser_get_root (parser)) &&
              JSON_NODE_HOLDS_OBJECT (root) && json_object_has_member (json_node_get_object (root), "image"))
            g_ptr_array_add (records, json_node_copy (root));
          else
            nbad++;
        }
      p = nl + 1;
    }
  if (bad)
    *bad = nbad;
  return g_steal_pointer (&records);
}

/* Rewrites @path keeping only whole valid lines (atomically) when it has torn or bad lines. */
static gboolean
repair_jsonl (const char *path, GHashTable *done, GError **error)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GString) text = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  int bad = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  records = ts_dataset_read_jsonl (path, &bad, error);
  if (records == NULL)
    return FALSE;
  for (guint i = 0; i < records->len; i++)
    g_hash_table_add (done, g_strdup (json_object_get_string_member (json_node_get_object (records->pdata[i]),
                                                                     "image")));
  if (bad == 0)
    return TRUE;
  text = g_string_new (NULL);
  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *line = NULL;
      json_generator_set_root (gen, records->pdata[i]);
      line = json_generator_to_data (gen, NULL);
      g_string_append (text, line);
      g_string_append_c (text, '\n');
    }
  return ts_file_write (path, text->str, text->len, error);
}

typedef struct {
  guint index;
  JsonNode *record;
} Done;

typedef struct {
  const TsDatasetList *list;
  TsDatasetImageFunc func;
  gpointer user_data;
  GCancellable *cancellable;
  GAsyncQueue *results;
} Shared;

static void
work (gpointer task, gpointer data)
{
  Shared *sh = data;
  guint i = GPOINTER_TO_UINT (task) - 1;
  const char *key = sh->list->keys->pdata[i];
  g_autoptr (GError) error = NULL;
  JsonNode *body = NULL;
  JsonObject *rec;
  Done *d = g_new0 (Done, 1);

  if (!g_cancellable_is_cancelled (sh->cancellable))
    body = sh->func (sh->list->paths->pdata[i], sh->user_data, sh->cancellable, &error);
  d->index = i;
  if (body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    {
      rec = json_object_new ();
      json_object_set_string_member (rec, "image", key);
      {
        JsonObject *src = json_node_get_object (body);
        g_autoptr (GList) members = json_object_get_members (src);
        for (GList *l = members; l; l = l->next)
          json_object_set_member (rec, l->data, json_node_copy (json_object_get_member (src, l->data)));
      }
    }
  else
    {
      rec = json_object_new ();
      json_object_set_string_member (rec, "image", key);
      json_object_set_string_member (rec, "error", error ? error->message : "analysis returned nothing");
    }
  if (body)
    json_node_unref (body);
  d->record = json_node_init_object (json_node_alloc (), rec);
  json_object_unref (rec);
  g_async_queue_push (sh->results, d);
}

gboolean
ts_dataset_run (const TsDatasetList *list, const TsDatasetOptions *options, TsDatasetImageFunc func,
                gpointer user_data, TsDatasetProgressFunc progress, gpointer progress_data,
                GCancellable *cancellable, TsDatasetProgress *final, GError **error)
{
  g_autofree char *jsonl = NULL;
  g_autoptr (GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GTimer) timer = g_timer_new ();
  TsDatasetProgress pr = { 0 };
  Shared sh = { list, func, user_data, cancellable, NULL };
  GThreadPool *pool;
  int fd, pending = 0;
  gboolean ok = TRUE;

  if (g_mkdir_with_parents (options->out_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: cannot create the output folder: %s", options->out_dir,
                   g_strerror (saved));
      return FALSE;
    }
  jsonl = g_build_filename (options->out_dir, "images.jsonl", NULL);
  if (options->resume)
    {
      if (!repair_jsonl (jsonl, done, error))
        return FALSE;
    }
  else if (g_file_test (jsonl, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "%s already exists: use --resume to continue that run, or another --out folder", jsonl);
      return FALSE;
    }
  fd = g_open (jsonl, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", jsonl, g_strerror (saved));
      return FALSE;
    }

  sh.results = g_async_queue_new ();
  pool = g_thread_pool_new (work, &sh, MAX (1, options->jobs), TRUE, NULL);
  for (guint i = 0; i < list->keys->len; i++)
    {
      if (g_hash_table_contains (done, list->keys->pdata[i]))
        {
          pr.resumed++;
          continue;
        }
      g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
      pending++;
    }
  pr.total = pending;
  if (progress)
    progress (&pr, progress_data);

  while (pending > 0)
    {
      Done *d = g_async_queue_pop (sh.results);
      JsonObject *rec = json_node_get_object (d->record);
      pending--;
      if (g_cancellable_is_cancelled (cancellable))
        {
          /* work finished after a cancel may be incomplete: do not record it */
          json_node_unref (d->record);
          g_free (d);
          continue;
        }
      {
        g_autofree char *line = NULL;
        g_autofree char *with_nl = NULL;
        gsize len;
        gssize w;
        json_generator_set_root (gen, d->record);
        line = json_generator_to_data (gen, &len);
        with_nl = g_strconcat (line, "\n", NULL);
        w = write (fd, with_nl, len + 1);
        if (w != (gssize) (len + 1) && ok)
          {
            int saved = errno;
            g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: write failed: %s", jsonl,
                         w < 0 ? g_strerror (saved) : "short write (disk full?)");
            if (cancellable)
              g_cancellable_cancel (cancellable);
            ok = FALSE;
          }
      }
      pr.done++;
      if (json_object_has_member (rec, "error"))
        pr.failed++;
      pr.last = list->keys->pdata[d->index];
      pr.elapsed = g_timer_elapsed (timer, NULL);
      if (progress)
        progress (&pr, progress_data);
      json_node_unref (d->record);
      g_free (d);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  g_async_queue_unref (sh.results);
  close (fd);
  pr.last = NULL;
  pr.elapsed = g_timer_elapsed (timer, NULL);
  if (final)
    *final = pr;
  if (ok && ts_check_cancelled (cancellable, error))
    return FALSE;
  return ok;
}
