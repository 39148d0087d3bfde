/* fuzz-gif: the GIF path. The frame counter (which decides whether a GIF is
 * refused before decoding) must never read out of bounds and must agree with
 * the decoder: a stream it accepts decodes to at most as many frames as it
 * counted. The input is given a GIF signature so that every run reaches the
 * GIF code instead of being rejected at the first byte. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core.h"
#include "ts-fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  TsLoadOptions options = { .max_pixels = 1000000, .max_frames = 32 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;
  guint8 *gif;
  int counted;

  /* the raw bytes first: the counter must cope with anything */
  (void) ts_gif_count_frames (data, size);

  gif = g_malloc (size + 6);
  memcpy (gif, "GIF89a", 6);
  if (size > 0)
    memcpy (gif + 6, data, size);
  counted = ts_gif_count_frames (gif, size + 6);
  media = ts_media_load_from_memory (gif, size + 6, "fuzz.gif", &options, &error);
  if (media == NULL)
    ts_fuzz_check_error (error, "fuzz.gif");
  else
    {
      ts_fuzz_check_media (media);
      if (counted <= 0 || media->n_frames > (guint) counted)
        {
          fprintf (stderr, "fuzz-gif: counted %d frames but decoded %u\n", counted, media->n_frames);
          abort ();
        }
    }
  g_free (gif);
  return 0;
}
