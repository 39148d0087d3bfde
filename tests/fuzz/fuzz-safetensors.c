/* fuzz-safetensors: any bytes through ts_safetensors_parse; every tensor of
 * an accepted file is converted to float32, which must stay inside the data
 * the header describes. */
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ts-fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsSafetensors) st = ts_safetensors_parse (bytes, "fuzz.safetensors", &error);

  if (st == NULL)
    {
      ts_fuzz_check_error (error, "fuzz.safetensors");
      return 0;
    }
  for (guint i = 0; i < ts_safetensors_n_tensors (st) && i < 64; i++)
    {
      const TsTensorInfo *info = ts_safetensors_tensor (st, i);
      g_autoptr (GError) local = NULL;
      g_autofree float *values = NULL;
      if (info->numel > (1 << 20))
        continue;
      values = ts_safetensors_read_f32 (st, info, &local);
      if (values == NULL)
        ts_fuzz_check_error (local, NULL);
      else if (ts_safetensors_find (st, info->name) != info)
        abort ();
    }
  (void) ts_safetensors_numel (st);
  return 0;
}
