/* fuzz-image: any bytes through ts_media_load_from_memory, then the first
 * steps every loaded image takes (native resize, grid, pixel features).
 *
 * Built two ways: with clang -fsanitize=fuzzer by run-fuzz.sh, and with the
 * normal compiler into fuzz-replay, which feeds every file of the committed
 * corpus to the same entry point as an ordinary test case. */
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ts-fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* a small pixel limit keeps each run fast; the limit path is exercised too */
  TsLoadOptions options = { .max_pixels = 4000000, .max_frames = 64, .alpha = TS_ALPHA_OVER_CHECKER };
  TsResize resize = { TS_RESIZE_NATIVE, 336 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load_from_memory (data, size, "fuzz.bin", &options, &error);
  g_autoptr (TsImage) resized = NULL;
  g_autoptr (TsFeatures) features = NULL;
  TsGrid grid;

  if (media == NULL)
    {
      ts_fuzz_check_error (error, "fuzz.bin");
      return 0;
    }
  ts_fuzz_check_media (media);
  g_clear_error (&error);
  resized = ts_resize_apply (media->frames[0], &resize, 14, &error);
  if (resized == NULL)
    {
      ts_fuzz_check_error (error, NULL);
      return 0;
    }
  if (!ts_grid_init (&grid, resized->width, resized->height, 14, &error))
    {
      ts_fuzz_check_error (error, NULL);
      return 0;
    }
  features = ts_features_pixel (resized, &grid, &error);
  if (features == NULL)
    ts_fuzz_check_error (error, NULL);
  return 0;
}
