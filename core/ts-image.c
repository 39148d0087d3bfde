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
  /* no real image comes near 2^39 bytes; refusing here keeps absurd sizes from the allocator */
  if (!g_size_checked_mul (&bytes, (gsize) width, (gsize) height) ||
      !g_size_checked_mul (&bytes, bytes, 3) || bytes > ((gsize) 1 << 39))
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

/* Composites one RGBA frame into a new RGB image; *@transparent is set when
 * any pixel had alpha below 255. */
static TsImage *
rgba_to_rgb (const guint8 *rgba, int w, int h, gboolean has_alpha, TsAlphaBackground bg,
             gboolean *transparent)
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
        *transparent = TRUE;
        /* 8-pixel checker squares of 255 and 204, as image editors draw them */
        int back = (bg == TS_ALPHA_OVER_CHECKER && (((x >> 3) + (y >> 3)) & 1)) ? 204 : 255;
        for (int c = 0; c < 3; c++)
          d[c] = (guint8) ((s[c] * s[3] + back * (255 - s[3]) + 127) / 255);
      }
  return image;
}

/* Walks a GIF's block structure. Returns the number of complete frames, or -1
 * when the stream is not a GIF or breaks before its first frame is complete;
 * *@truncated says the data ended inside a frame or an extension. */
static int
gif_scan (const guint8 *d, gsize n, gboolean *truncated)
{
  gsize p = 13;
  int frames = 0;

  *truncated = FALSE;
  if (n < 13 || (memcmp (d, "GIF87a", 6) != 0 && memcmp (d, "GIF89a", 6) != 0))
    return -1;
  if (d[10] & 0x80)
    p += (gsize) 3 << ((d[10] & 7) + 1);
  while (p < n)
    {
      guint8 tag = d[p++];
      gboolean image = FALSE;
      if (tag == 0x3B)
        return frames > 0 ? frames : -1;
      if (tag == 0x21) /* extension: label, then sub-blocks */
        {
          if (p >= n)
            goto cut;
          p++;
        }
      else if (tag == 0x2C) /* image descriptor */
        {
          guint8 flags;
          if (p + 9 > n)
            goto cut;
          flags = d[p + 8];
          p += 9;
          if (flags & 0x80)
            p += (gsize) 3 << ((flags & 7) + 1);
          p++; /* LZW minimum code size */
          image = TRUE;
        }
      else
        return frames > 0 ? frames : -1; /* garbage after the last frame */
      /* data sub-blocks up to the zero-length terminator */
      while (p < n && d[p] != 0)
        p += (gsize) d[p] + 1;
      if (p >= n)
        goto cut;
      p++;
      frames += image;
    }
  /* a missing trailer after complete frames is tolerated */
  if (frames > 0)
    return frames;

cut:
  *truncated = TRUE;
  return frames > 0 ? frames : -1;
}

int
ts_gif_count_frames (const guint8 *d, gsize n)
{
  gboolean truncated;

  if (d == NULL)
    return -1;
  return gif_scan (d, n, &truncated);
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

static guint32
le16 (const guint8 *d)
{
  return d[0] | (guint32) d[1] << 8;
}

static guint32
le32 (const guint8 *d)
{
  return d[0] | (guint32) d[1] << 8 | (guint32) d[2] << 16 | (guint32) d[3] << 24;
}

/* Reads the next decimal number of a PNM header, skipping blanks and # comments. */
static gboolean
pnm_number (const guint8 *d, gsize n, gsize *p, guint64 *value)
{
  guint64 v = 0;
  int digits = 0;

  for (;;)
    {
      while (*p < n && g_ascii_isspace (d[*p]))
        (*p)++;
      if (*p < n && d[*p] == '#')
        {
          while (*p < n && d[*p] != '\n' && d[*p] != '\r')
            (*p)++;
          continue;
        }
      break;
    }
  while (*p < n && g_ascii_isdigit (d[*p]) && digits < 10)
    v = v * 10 + (guint64) (d[(*p)++] - '0'), digits++;
  *value = v;
  return digits > 0 && digits < 10;
}

/* Parses a binary PNM (P5/P6) header; returns the offset of the pixels or 0. */
static gsize
pnm_header (const guint8 *d, gsize n, guint64 *w, guint64 *h, guint64 *maxval)
{
  gsize p = 2;

  if (n < 3 || d[0] != 'P' || (d[1] != '5' && d[1] != '6'))
    return 0;
  if (!pnm_number (d, n, &p, w) || !pnm_number (d, n, &p, h) || !pnm_number (d, n, &p, maxval))
    return 0;
  if (p >= n || !g_ascii_isspace (d[p]))
    return 0;
  return p + 1;
}

/* stb's reason for the last failure, in words, unless it is left over from a
 * format stb merely tested for ("bad png sig" on a damaged JPEG). */
static const char *
stb_reason (void)
{
  const char *r = stbi_failure_reason ();

  if (r == NULL || strcmp (r, "bad png sig") == 0 || strcmp (r, "unknown image type") == 0)
    return "the data is damaged or ends early";
  return r;
}

static gboolean
truncated (GError **error, const char *name, const char *format, guint64 need, gsize have)
{
  g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
               "%s: truncated %s: the header needs %" G_GUINT64_FORMAT " bytes but the file has only %"
               G_GSIZE_FORMAT, name, format, need, have);
  return FALSE;
}

/* stb fills missing BMP, TGA and PNM pixels with zeros instead of failing:
 * checks that the pixel data the header promises is all there. */
static gboolean
check_complete (const char *format, const guint8 *d, gsize n, guint64 w, guint64 h, const char *name,
                GError **error)
{
  if (strcmp (format, "bmp") == 0 && n >= 34)
    {
      guint32 offset = le32 (d + 10), header = le32 (d + 14), bpp, compression;
      guint64 need;
      if (header == 12)
        bpp = le16 (d + 24), compression = 0;
      else
        bpp = le16 (d + 28), compression = le32 (d + 30);
      if (compression != 0 && compression != 3 && compression != 6)
        return TRUE; /* run-length coded: stb checks as it decodes */
      /* the last row's padding is often left out: do not insist on it */
      need = (guint64) offset + (w * bpp + 31) / 32 * 4 * (h - 1) + (w * bpp + 7) / 8;
      return need <= n || truncated (error, name, "BMP", need, n);
    }
  if (strcmp (format, "pnm") == 0)
    {
      guint64 pw, ph, maxval, need;
      gsize off = pnm_header (d, n, &pw, &ph, &maxval);
      if (off == 0)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: truncated PNM: the header ends before its size and maximum value", name);
          return FALSE;
        }
      need = off + pw * ph * (d[1] == '6' ? 3 : 1) * (maxval > 255 ? 2 : 1);
      return need <= n || truncated (error, name, "PNM", need, n);
    }
  if (strcmp (format, "tga") == 0 && n >= 18)
    {
      guint type = d[2], bytes = (d[16] + 7u) / 8u;
      guint64 off = 18 + (guint64) d[0] + (d[1] ? (guint64) le16 (d + 5) * ((d[7] + 7u) / 8u) : 0);
      if (type == 1 || type == 2 || type == 3)
        {
          guint64 need = off + w * h * bytes;
          return need <= n || truncated (error, name, "TGA", need, n);
        }
      if (type == 9 || type == 10 || type == 11)
        {
          /* walk the run-length packets until every pixel is accounted for */
          guint64 pixels = 0, p = off;
          while (pixels < w * h)
            {
              guint count;
              if (p >= n)
                return truncated (error, name, "run-length TGA", p + 1, n);
              count = (d[p] & 0x7F) + 1u;
              p += 1 + ((d[p] & 0x80) ? bytes : (guint64) count * bytes);
              pixels += count;
            }
          return p <= n || truncated (error, name, "run-length TGA", p, n);
        }
    }
  return TRUE;
}

static gboolean
check_pixels (const char *name, guint64 w, guint64 h, guint frames, guint64 max_pixels, GError **error)
{
  guint64 pixels = w * h;

  if (w == 0 || h == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: the header gives an empty size (%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT ")", name,
                   w, h);
      return FALSE;
    }
  if (pixels > max_pixels)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " pixels (%.1f megapixels) is over the "
                   "limit of %.1f megapixels (raise it with --max-megapixels)",
                   name, w, h, pixels / 1e6, max_pixels / 1e6);
      return FALSE;
    }
  /* decoding an animation (or a frame folder) holds every frame at once, so
   * its frames together get the budget of one still image: peak memory stays
   * near 7 bytes per pixel of the limit (RGBA decode plus the RGB frames) */
  if (frames > 1 && pixels * frames > max_pixels)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %u frames of %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " pixels are %.1f megapixels "
                   "together, over the limit of %.1f megapixels for all frames (raise it with --max-megapixels)",
                   name, frames, w, h, pixels * frames / 1e6, max_pixels / 1e6);
      return FALSE;
    }
  return TRUE;
}

static TsMedia *
decode_gif (const guint8 *data, gsize len, const char *display, const TsLoadOptions *o, guint64 max_pixels,
            guint max_frames, int w, int h, GError **error)
{
  gboolean cut = FALSE;
  int frames = gif_scan (data, len, &cut);
  int *delays = NULL, z = 0, ch = 0;
  gboolean transparent = FALSE;
  stbi_uc *pixels;
  TsMedia *media;

  if (frames <= 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: %s", display,
                   cut ? "truncated GIF: the data ends before the first frame is complete"
                       : "a GIF without any complete frame");
      return NULL;
    }
  /* a GIF cut inside a later frame keeps its complete frames, as browsers show them */
  if ((guint) frames > max_frames)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%s: %d frames is over the limit of %u frames (raise it with --max-frames)", display,
                   frames, max_frames);
      return NULL;
    }
  if (!check_pixels (display, (guint64) w, (guint64) h, (guint) frames, max_pixels, error))
    return NULL;
  {
    /* stb 2.27 reads before its frame buffer for "restore to previous"
     * disposal from the third frame on: decode a copy where those frames
     * restore to the background instead */
    g_autofree guint8 *safe = ts_stb_guard_gif_copy (data, len);
    pixels = stbi_load_gif_from_memory (safe, (int) len, &delays, &w, &h, &z, &ch, 4);
  }
  if (pixels != NULL && cut && z > frames)
    z = frames; /* stb decodes the cut frame from zeros: drop it */
  if (pixels != NULL && z > frames) /* never expected: the count is exact */
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: inconsistent GIF frame structure", display);
      stbi_image_free (pixels);
      stbi_image_free (delays);
      return NULL;
    }
  if (pixels == NULL || z <= 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt GIF (%s)", display,
                   pixels ? "no frames" : stb_reason ());
      stbi_image_free (pixels);
      stbi_image_free (delays);
      return NULL;
    }
  media = media_new (display, "gif", (guint) z);
  media->source_channels = 4;
  media->alpha = o->alpha;
  for (int i = 0; i < z; i++)
    {
      media->frames[i] = rgba_to_rgb (pixels + (gsize) i * w * h * 4, w, h, TRUE, o->alpha, &transparent);
      media->delays_ms[i] = delays ? delays[i] : 0;
      if (media->frames[i] == NULL)
        {
          stbi_image_free (pixels);
          stbi_image_free (delays);
          ts_media_free (media);
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: out of memory decoding frame %d", display,
                       i + 1);
          return NULL;
        }
    }
  media->had_alpha = transparent;
  stbi_image_free (pixels);
  stbi_image_free (delays);
  return media;
}

TsMedia *
ts_media_load_from_memory (const guint8 *data, gsize len, const char *name, const TsLoadOptions *options,
                           GError **error)
{
  TsLoadOptions defaults = { 0 };
  const TsLoadOptions *o = options ? options : &defaults;
  guint64 max_pixels = o->max_pixels ? o->max_pixels : TS_DEFAULT_MAX_PIXELS;
  guint max_frames = o->max_frames ? o->max_frames : TS_DEFAULT_MAX_FRAMES;
  g_autofree char *display = ts_display_name (name);
  const char *format;
  guint64 hw = 0, hh = 0;
  int w = 0, h = 0, comp = 0;
  gboolean transparent = FALSE;
  stbi_uc *pixels;
  TsMedia *media;

  if (data == NULL || len == 0)
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
  /* the size limit first, from our own reading of the header (stb refuses huge claims
   * with a generic failure, and its reason after stbi_info is the last format it tried) */
  if (ts_stb_guard_header_size (data, len, format, &hw, &hh) && hw * hh > max_pixels)
    return check_pixels (display, hw, hh, 1, max_pixels, error), NULL;
  if (!ts_stb_guard_check (data, len, format, display, error))
    return NULL;
  if (!stbi_info_from_memory (data, (int) len, &w, &h, &comp))
    {
      if (format == NULL)
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                     "%s: not an image TokenScope can read (PNG, JPEG, GIF, BMP, TGA, PNM)", display);
      else
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt or truncated %s header", display,
                     format);
      return NULL;
    }
  if (format == NULL)
    format = "tga"; /* the one format stb recognises without a signature */
  if (strcmp (format, "bmp") == 0 && h < 0 && h > G_MININT)
    h = -h; /* stbi_info reports a top-down BMP's height as stored: negative */
  if (!check_pixels (display, (guint64) w, (guint64) h, 1, max_pixels, error))
    return NULL;

  if (strcmp (format, "gif") == 0)
    return decode_gif (data, len, display, o, max_pixels, max_frames, w, h, error);

  if (!check_complete (format, data, len, (guint64) w, (guint64) h, display, error))
    return NULL;
  pixels = stbi_load_from_memory (data, (int) len, &w, &h, &comp, 4);
  if (pixels == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: corrupt or truncated %s (%s)", display, format,
                   stb_reason ());
      return NULL;
    }
  media = media_new (display, format, 1);
  media->source_channels = comp;
  media->alpha = o->alpha;
  media->frames[0] = rgba_to_rgb (pixels, w, h, comp == 2 || comp == 4, o->alpha, &transparent);
  media->had_alpha = transparent;
  stbi_image_free (pixels);
  if (media->frames[0] == NULL)
    {
      ts_media_free (media);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: out of memory", display);
      return NULL;
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

/* Natural order, as a file manager sorts: frame-9 before frame-10. */
static int
compare_names (gconstpointer a, gconstpointer b)
{
  g_autofree char *ka = g_utf8_collate_key_for_filename (*(const char *const *) a, -1);
  g_autofree char *kb = g_utf8_collate_key_for_filename (*(const char *const *) b, -1);

  return strcmp (ka, kb);
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
  guint64 max_pixels = o->max_pixels ? o->max_pixels : TS_DEFAULT_MAX_PIXELS;
  guint max_frames = o->max_frames ? o->max_frames : TS_DEFAULT_MAX_FRAMES;
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
      if (i == 0 && !check_pixels (display, (guint64) frame->width, (guint64) frame->height, names->len, max_pixels,
                                   error))
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
