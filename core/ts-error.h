/* ts-error.h: the TS_ERROR GError domain shared by every core function.
 *
 * Messages name the file (when there is one) and say what is wrong in words a
 * user understands; the code says what kind of problem it is, so callers (the
 * CLI's exit status, the GUI's banner) can react without parsing text. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TS_ERROR (ts_error_quark ())

typedef enum {
  TS_ERROR_INVALID_ARGUMENT, /* a nonsense option or parameter */
  TS_ERROR_BAD_DATA,         /* a file's content is corrupt, truncated or inconsistent */
  TS_ERROR_TOO_LARGE,        /* over a documented limit (pixels, frames, bytes) */
  TS_ERROR_IO,               /* the file system said no */
  TS_ERROR_CANCELLED,        /* a GCancellable fired */
  TS_ERROR_UNSUPPORTED,      /* a valid file in a format or variant we do not read */
} TsErrorCode;

GQuark ts_error_quark (void);

/* Sets TS_ERROR_CANCELLED and returns TRUE when @cancellable has fired. */
gboolean ts_check_cancelled (GCancellable *cancellable, GError **error);

G_END_DECLS
