/* ts-io.h: whole-file reads with a size limit and atomic writes.
 *
 * Every file TokenScope writes goes through ts_file_write(): the data lands in a
 * temporary file beside the target that is renamed over it, so a crash or a
 * full disk never leaves a half-written export, summary or settings file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads @path whole. Files larger than @max_bytes (0 = no limit) are refused
 * with TS_ERROR_TOO_LARGE before anything is read. Returns NULL on error. */
GBytes *ts_file_read (const char *path, gsize max_bytes, GError **error);

/* Atomically replaces @path with @len bytes of @data (TS_ERROR_IO on failure). */
gboolean ts_file_write (const char *path, const void *data, gsize len, GError **error);

/* The file's base name for messages ("photo.png"), newly allocated. */
char *ts_display_name (const char *path);

G_END_DECLS
