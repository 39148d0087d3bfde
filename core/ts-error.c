#include "ts-error.h"

#include <gio/gio.h>

G_DEFINE_QUARK (ts-error-quark, ts_error)

gboolean
ts_check_cancelled (GCancellable *cancellable, GError **error)
{
  if (cancellable == NULL || !g_cancellable_is_cancelled (cancellable))
    return FALSE;
  g_set_error_literal (error, TS_ERROR, TS_ERROR_CANCELLED, "Cancelled");
  return TRUE;
}
