/* fuzz-npy: any bytes through ts_npy_parse; a parsed array must hold exactly
 * as many finite-or-not floats as its shape says (reading them all makes
 * ASan see any short allocation). */
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ts-fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsNpyArray) array = ts_npy_parse (data, size, "fuzz.npy", &error);
  volatile float sink = 0;
  gint64 n;

  if (array == NULL)
    {
      ts_fuzz_check_error (error, "fuzz.npy");
      return 0;
    }
  if (array->ndim < 0 || array->ndim > TS_NPY_MAX_DIMS)
    abort ();
  n = ts_npy_array_size (array);
  if (n <= 0)
    abort ();
  for (gint64 i = 0; i < n; i++)
    sink += array->data[i];
  (void) sink;
  return 0;
}
