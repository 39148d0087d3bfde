/* ts-fuzz.h: checks shared by the fuzz targets. A failure aborts, which both
 * libFuzzer and the replay test report as a crash with the input attached. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A refusal must be a TS_ERROR with a message that names @name (when given). */
static inline void
ts_fuzz_check_error (const GError *error, const char *name)
{
  if (error == NULL || error->domain != TS_ERROR || error->message == NULL || error->message[0] == '\0')
    {
      fprintf (stderr, "fuzz: failure without a TS_ERROR\n");
      abort ();
    }
  if (name != NULL && strstr (error->message, name) == NULL)
    {
      fprintf (stderr, "fuzz: message does not name the input: %s\n", error->message);
      abort ();
    }
}

/* A loaded media: at least one frame, every frame the same positive size,
 * every pixel readable. */
static inline void
ts_fuzz_check_media (const TsMedia *media)
{
  volatile guint8 sink = 0;

  if (media->n_frames == 0 || media->frames == NULL)
    abort ();
  for (guint i = 0; i < media->n_frames; i++)
    {
      const TsImage *f = media->frames[i];
      if (f == NULL || f->width <= 0 || f->height <= 0 || f->width != media->frames[0]->width ||
          f->height != media->frames[0]->height)
        abort ();
      for (gsize k = 0; k < (gsize) f->width * f->height * 3; k += 61)
        sink ^= f->data[k];
      sink ^= f->data[(gsize) f->width * f->height * 3 - 1];
    }
  (void) sink;
}
