#include "ts-image.h"
#include "ts-error.h"
#include "ts-io.h"
#include "ts-stb-guard.h"

#include <stb_image.h>
#include <stb_image_write.h>
#include <string.h>

static const char *
sniff_format (const guint8 *d, gsize n)
{
  if (n >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "png";
  if (n >= 2 && d[0] == 0xFF)
    {
      /* stb's JPEG test skips any run of 0xFF fill bytes before the SOI marker */
      gsize i = 1;
      while (i < n && d[i] == 0xFF)
        i++;
      if (i < n && d[i] == 0xD8)
        return "jpeg";
    }
  if (n >= 6 && (memcmp (d, "GIF87a", 6) == 0 || memcmp (d, "GIF89a", 6) == 0))
    return "gif";
  if (n >= 2 && d[0] == 'B' && d[1] == 'M')
    return "bmp";
  if (n >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6'))
    return "pnm";
  if (n >= 4 && memcmp (d, "8BPS", 4) == 0)
    return "psd";
  if (n >= 2 && d[0] == '#' && d[1] == '?')
    return "hdr";
  if (n >= 4 && memcmp (d, "\x53\x80\xF6\x34", 4) == 0)
    return "pic";
  return NULL;
}

TsImage *
ts_image_new (int width, int height)
{
  TsImage *image;
  gsize bytes;

  if (width <= 0 || height <= 0)
    return NULL;
  if (!g_size_checked_mul (&bytes, (gsize) width, (gsize) height) ||
      !g_size_checked_mul (&bytes, bytes, 3))
    return NULL;
  image = g_new0 (TsImage, 1);
  image->width = width;
  image->height = height;
  image->data = g_try_malloc0 (bytes);
  if (image->data == NULL)
    {
      g_free (image);
      return NULL;
    }
  return image;
}

TsImage *
ts_image_copy (const TsImage *image)
{
  TsImage *copy;

  g_return_val_if_fail (image != NULL, NULL);
  copy = ts_image_new (image->width, image->height);
  if (copy != NULL)
    memcpy (copy->data, image->data, (gsize) image->width * image->height * 3);
  return copy;
}

void
ts_image_free (TsImage *image)
{
  if (image == NULL)
    return;
  g_free (image->data);
  g_free (image);
}

gboolean
ts_image_equal (const TsImage *a, const TsImage *b)
{
  return a != NULL && b != NULL && a->width == b->width && a->height == b->height &&
         memcmp (a->data, b->data, (gsize) a->width * a->height * 3) == 0;
}

TsImage *
ts_image_crop (const TsImage *image, int x, int y, int w, int h, const guint8 fill[3])
{
  TsImage *out;

  g_return_val_if_fail (image != NULL, NULL);
  out = ts_image_new (w, h);
  if (out == NULL)
    return NULL;
  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++)
      {
        int sx = x + i, sy = y + j;
        guint8 *o = out->data + ((gsize) j * w + i) * 3;
        if (sx >= 0 && sy >= 0 && sx < image->width && sy < image->height)
          memcpy (o, image->data + ((gsize) sy * image->width + sx) * 3, 3);
        else
          memcpy (o, fill, 3);
      }
  return out;
}

void
ts_media_free (TsMedia *media)
{
  if (media == NULL)
    return;
  for (guint i = 0; i < media->n_frames; i++)
    ts_image_free (media->frames[i]);
  g_free (media->frames);
  g_free (media->delays_ms);
  g_free (media->name);
  g_free (media->format);
  g_free (media);
}

/* Composites one RGBA frame into a new RGB image. */
static TsImage *
rgba_to_rgb (const guint8 *rgba, int w, int h, gboolean has_alpha, TsAlphaBackground bg)
{
  TsImage *image = ts_image_new (w, h);

  if (image == NULL)
    return NULL;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *s = rgba + ((gsize) y * w + x) * 4;
        guint8 *d = image->data + ((gsize) y * w + x) * 3;
        if (!has_alpha || s[3] == 255)
          {
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
            continue;
          }
        /* 8-pixel checker squares of 255 and 204, as image editors draw them */
        int back = (bg == TS_ALPHA_OVER_CHECKER && (((x >> 3) + (y >> 3)) & 1)) ? 204 : 255;
        for (int c = 0; c < 3; c++)
          d[c] = (guint8) ((s[c] * s[3] + back * (255 - s[3]) + 127) / 255);
      }
  return image;
}

int
ts_gif_count_frames (const guint8 *d, gsize n)
{
  gsize p = 13;
  int frames = 0;

  if (n < 13 || sniff_format (d, n) == NULL || strcmp (sniff_format (d, n), "gif") != 0)
    return -1;
  if (d[10] & 0x80)
    p += (gsize) 3 << ((d[10] & 7) + 1);
  while (p < n)
    {
      guint8 tag = d[p++];
      if (tag == 0x3B)
        return frames;
      if (tag == 0x21) /* extension: label, then sub-blocks */
        {
          if (p >= n)
            return frames > 0 ? frames : -1;
          p++;
        }
      else if (tag == 0x2C) /* image descriptor */
        {
          if (p + 9 > n) /* stb reads past the end as zeros and still decodes this frame */
            return frames + 1;
          guint8 flags = d[p + 8];
          p += 9;
          if (flags & 0x80)
            p += (gsize) 3 << ((flags & 7) + 1);
          p++; /* LZW minimum code size */
          frames++;
        }
      else
        return frames > 0 ? frames : -1;
      /* data sub-blocks up to the zero-length terminator */
      while (p < n && d[p] != 0)
        p += (gsize) d[p] + 1;
      if (p >= n)
        return frames > 0 ? frames : -1;
      p++;
    }
  return frames > 0 ? frames : -1;
}

static TsMedia *
media_new (const char *name, const char *format, guint n_frames)
{
  TsMedia *media = g_new0 (TsMedia, 1);

  media->name = g_strdup (name);
  media->format = g_strdup (format);
  media->n_frames = n_frames;
  media->frames = g_new0 (TsImage *, n_frames);
  media->delays_ms = g_new0 (int, n_frames);
  return media;
}

static gboolean
check_pixels (const char *name, int w, int h, guint frames, guint64 max_pixels, GError **error)
{
  guint64 pixels = (guint64) w * (guint64) h;

  if (w <= 0 || h <= 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the header gives an empty size (%d x %d)",
                   name, w, h);
      return FALSE;
    }
  if (pixels > max_pixels)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %d x %d pixels (%.1f megapixels) is over the limit of %.1f megapixels "
                   "(raise it with --max-megapixels)",
                   name, w, h, pixels / 1e6, max_pixels / 1e6);
      return FALSE;
    }
  /* decoding an animation (or a frame folder) holds every frame at once, so
   * its frames together get the budget of one still image: peak memory stays
   * near 7 bytes per pixel of the limit (RGBA decode plus the RGB frames) */
  if (frames > 1 && pixels * frames > max_pixels)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %u frames of %d x %d pixels are %.1f megapixels together, over the limit "
                   "of %.1f megapixels for all frames (raise it with --max-megapixels)",
                   name, frames, w, h, pixels * frames / 1e6, max_pixels / 1e6);
      return FALSE;
    }
  return TRUE;
}

TsMedia *
ts_media_load_from_memory (const guint8 *data, gsize len, const char *name,
                           const TsLoadOptions *options, GError **error)
{
  TsLoadOptions defaults = { 0 };
  const TsLoadOptions *o = options ? options : &defaults;
  guint64 max_pixels = o->max_pixels ? o->max_pixels : TS_DEFAULT_MAX_PIXELS;
  guint max_frames = o->max_frames ? o->max_frames : TS_DEFAULT_MAX_FRAMES;
  g_autofree char *display = ts_display_name (name);
  const char *format;
  int w = 0, h = 0, comp = 0;
  TsMedia *media;

  if (len == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the file is empty", display);
      return NULL;
    }
  if (len > G_MAXINT)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: the file is over 2 GB", display);
      return NULL;
    }
  format = sniff_format (data, len);
  {
    guint64 hw, hh;
    /* a huge claim is over the limit, whatever stb would say about it */
    if (ts_stb_guard_header_size (data, len, format, &hw, &hh) && hw > 0 && hh > 0 &&
        hw * hh > max_pixels)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                     "%s: %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " pixels (%.1f megapixels) is over "
                     "the limit of %.1f megapixels (raise it with --max-megapixels)",
                     display, hw, hh, (double) hw * hh / 1e6, max_pixels / 1e6);
        return NULL;
      }
  }
  if (!ts_stb_guard_check (data, len, format, display, error))
    return NULL;
  if (!stbi_info_from_memory (data, (int) len, &w, &h, &comp))
    {
      if (format == NULL)
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                     "%s: not an image TokenScope can read (PNG, JPEG, GIF, BMP, TGA, PNM)", display);
      else
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt or truncated %s header (%s)",
                     display, format, stbi_failure_reason ());
      return NULL;
    }
  if (format == NULL)
    format = "tga"; /* the one format stb recognises without a signature */
  if (strcmp (format, "bmp") == 0 && h < 0 && h > G_MININT)
    h = -h; /* stbi_info reports a top-down BMP's height as stored: negative */

  if (strcmp (format, "gif") == 0)
    {
      int frames = ts_gif_count_frames (data, len);
      int *delays = NULL, z = 0, ch = 0;
      stbi_uc *pixels;

      if (frames <= 0)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: a GIF without any complete frame",
                       display);
          return NULL;
        }
      if ((guint) frames > max_frames)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                       "%s: %d frames is over the limit of %u frames (raise it with --max-frames)",
                       display, frames, max_frames);
          return NULL;
        }
      if (!check_pixels (display, w, h, (guint) frames, max_pixels, error))
        return NULL;
      {
        /* stb 2.27 reads before its frame buffer for "restore to previous"
         * disposal from the third frame on: decode a copy where those frames
         * restore to the background instead */
        g_autofree guint8 *safe = ts_stb_guard_gif_copy (data, len);
        pixels = stbi_load_gif_from_memory (safe, (int) len, &delays, &w, &h, &z, &ch, 4);
      }
      if (pixels != NULL && z > frames) /* never expected: the count is an upper bound */
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: inconsistent GIF frame structure", display);
          stbi_image_free (pixels);
          stbi_image_free (delays);
          return NULL;
        }
      if (pixels == NULL || z <= 0)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt GIF (%s)", display,
                       stbi_failure_reason ());
          stbi_image_free (pixels);
          stbi_image_free (delays);
          return NULL;
        }
      media = media_new (display, "gif", (guint) z);
      media->source_channels = 4;
      media->had_alpha = TRUE;
      media->alpha = o->alpha;
      for (int i = 0; i < z; i++)
        {
          media->frames[i] = rgba_to_rgb (pixels + (gsize) i * w * h * 4, w, h, TRUE, o->alpha);
          media->delays_ms[i] = delays ? delays[i] : 0;
          if (media->frames[i] == NULL)
            {
              stbi_image_free (pixels);
              stbi_image_free (delays);
              ts_media_free (media);
              g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: out of memory decoding frame %d",
                           display, i + 1);
              return NULL;
            }
        }
      stbi_image_free (pixels);
      stbi_image_free (delays);
      return media;
    }

  if (!check_pixels (display, w, h, 1, max_pixels, error))
    return NULL;
  {
    stbi_uc *pixels = stbi_load_from_memory (data, (int) len, &w, &h, &comp, 4);
    if (pixels == NULL)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt or truncated %s (%s)", display,
                     format, stbi_failure_reason ());
        return NULL;
      }
    media = media_new (display, format, 1);
    media->source_channels = comp;
    media->had_alpha = (comp == 2 || comp == 4);
    media->alpha = o->alpha;
    media->frames[0] = rgba_to_rgb (pixels, w, h, media->had_alpha, o->alpha);
    stbi_image_free (pixels);
    if (media->frames[0] == NULL)
      {
        ts_media_free (media);
        g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: out of memory", display);
        return NULL;
      }
  }
  return media;
}

TsMedia *
ts_media_load (const char *path, const TsLoadOptions *options, GError **error)
{
  g_autoptr (GBytes) bytes = ts_file_read (path, TS_DEFAULT_MAX_FILE_BYTES, error);
  gsize len = 0;
  const guint8 *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  return ts_media_load_from_memory (data, len, path, options, error);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_utf8_collate (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
is_image_name (const char *name)
{
  static const char *const ext[] = { ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tga", ".ppm", ".pgm",
                                     ".pnm", NULL };
  g_autofree char *lower = g_ascii_strdown (name, -1);

  for (int i = 0; ext[i]; i++)
    if (g_str_has_suffix (lower, ext[i]))
      return TRUE;
  return FALSE;
}

TsMedia *
ts_media_load_folder (const char *folder, const TsLoadOptions *options, GError **error)
{
  TsLoadOptions defaults = { 0 };
  const TsLoadOptions *o = options ? options : &defaults;
  guint max_frames = o->max_frames ? o->max_frames : TS_DEFAULT_MAX_FRAMES;
  guint64 max_pixels = o->max_pixels ? o->max_pixels : TS_DEFAULT_MAX_PIXELS;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  g_autofree char *display = ts_display_name (folder);
  const char *entry;
  TsMedia *media;

  dir = g_dir_open (folder, 0, &local);
  if (dir == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", folder, local->message);
      return NULL;
    }
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (is_image_name (entry))
      g_ptr_array_add (names, g_strdup (entry));
  if (names->len == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the folder holds no image frames", display);
      return NULL;
    }
  if (names->len > max_frames)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %u frames is over the limit of %u frames (raise it with --max-frames)",
                   display, names->len, max_frames);
      return NULL;
    }
  g_ptr_array_sort (names, compare_names);

  media = media_new (display, "folder", names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, names->pdata[i], NULL);
      TsImage *frame = ts_image_load (path, o, error);
      if (frame == NULL)
        {
          ts_media_free (media);
          return NULL;
        }
      media->frames[i] = frame;
      /* the first frame's size bounds the whole folder before the rest is read */
      if (i == 0 && !check_pixels (display, frame->width, frame->height, names->len, max_pixels, error))
        {
          ts_media_free (media);
          return NULL;
        }
      if (frame->width != media->frames[0]->width || frame->height != media->frames[0]->height)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: frame %s is %d x %d but the first frame is %d x %d", display,
                       (char *) names->pdata[i], frame->width, frame->height,
                       media->frames[0]->width, media->frames[0]->height);
          ts_media_free (media);
          return NULL;
        }
    }
  media->source_channels = 3;
  return media;
}

TsMedia *
ts_media_load_any (const char *path, const TsLoadOptions *options, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return ts_media_load_folder (path, options, error);
  return ts_media_load (path, options, error);
}

TsImage *
ts_image_load (const char *path, const TsLoadOptions *options, GError **error)
{
  TsMedia *media = ts_media_load (path, options, error);
  TsImage *first;

  if (media == NULL)
    return NULL;
  first = media->frames[0];
  media->frames[0] = NULL;
  ts_media_free (media);
  return first;
}

static void
append_bytes (void *context, void *data, int size)
{
  g_byte_array_append (context, data, (guint) size);
}

GBytes *
ts_image_encode_png (const TsImage *image)
{
  GByteArray *buf = g_byte_array_new ();

  g_return_val_if_fail (image != NULL, NULL);
  if (!stbi_write_png_to_func (append_bytes, buf, image->width, image->height, 3, image->data,
                               image->width * 3))
    {
      g_byte_array_unref (buf);
      return NULL;
    }
  return g_byte_array_free_to_bytes (buf);
}

gboolean
ts_image_save_png (const TsImage *image, const char *path, GError **error)
{
  g_autoptr (GBytes) png = ts_image_encode_png (image);
  gsize len;
  const void *data;

  if (png == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: PNG encoding failed", path);
      return FALSE;
    }
  data = g_bytes_get_data (png, &len);
  return ts_file_write (path, data, len, error);
}
