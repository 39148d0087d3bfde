#include "ts-io.h"
#include "ts-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

char *
ts_display_name (const char *path)
{
  if (path == NULL || *path == '\0')
    return g_strdup ("(unnamed)");
  return g_path_get_basename (path);
}

GBytes *
ts_file_read (const char *path, gsize max_bytes, GError **error)
{
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GError) local = NULL;
  GStatBuf st;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: is a folder, not a file", path);
      return NULL;
    }
  if (max_bytes > 0 && (guint64) st.st_size > max_bytes)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %" G_GUINT64_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                   path, (guint64) st.st_size, max_bytes);
      return NULL;
    }
  if (st.st_size == 0)
    return g_bytes_new (NULL, 0);

  mapped = g_mapped_file_new (path, FALSE, &local);
  if (mapped == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", path, local->message);
      return NULL;
    }
  return g_mapped_file_get_bytes (mapped);
}

gboolean
ts_file_write (const char *path, const void *data, gsize len, GError **error)
{
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_set_contents_full (path, data, (gssize) len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: cannot write: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}
