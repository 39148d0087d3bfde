#include "ts-stb-guard.h"
#include "ts-error.h"

#include <string.h>

static guint8
byte_at (const guint8 *d, gsize n, gsize i)
{
  return i < n ? d[i] : 0; /* stb's reader returns 0 past the end */
}

/* A DHT segment whose 16 code counts add up to more than 256 symbols makes
 * stbi__build_huffman write past its 257-entry size table (stb_image.h:1990
 * in 2.27; heap overflow into the rest of the decoder). Parses the segment the
 * way stbi__process_marker does, bytes past the end reading as 0. */
static gboolean
jpeg_dht_ok (const guint8 *d, gsize n, gsize p)
{
  int rem = (byte_at (d, n, p) << 8 | byte_at (d, n, p + 1)) - 2;

  p += 2;
  while (rem > 0)
    {
      int sum = 0;
      for (int i = 1; i <= 16; i++)
        sum += byte_at (d, n, p + i);
      if (sum > 256)
        return FALSE;
      if (p >= n) /* the rest reads as zeros: nothing more can overflow */
        return TRUE;
      rem -= 17 + sum;
      p += 17 + (gsize) sum;
    }
  return TRUE;
}

static gboolean
check_jpeg (const guint8 *d, gsize n, const char *name, GError **error)
{
  gsize p = 0; /* fill bytes may precede SOI; the walk skips them */
  gboolean in_scan = FALSE;

  while (p < n)
    {
      guint8 m;
      if (d[p] != 0xFF)
        {
          p++; /* entropy-coded data or junk stb skips byte by byte */
          continue;
        }
      while (p < n && d[p] == 0xFF)
        p++;
      if (p >= n)
        break;
      m = d[p++];
      if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD9))
        continue; /* stuffed byte, TEM, RSTn, SOI, EOI: no length */
      if (m == 0xC4 && !jpeg_dht_ok (d, n, p))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: corrupt JPEG (a Huffman table declares more than 256 codes)", name);
          return FALSE;
        }
      if (m == 0xDA)
        in_scan = TRUE;
      /* before the first scan, segments are skipped by their length as stb does;
       * from the first scan on, every marker position is examined */
      if (!in_scan)
        p += (gsize) (byte_at (d, n, p) << 8 | byte_at (d, n, p + 1));
    }
  return TRUE;
}

/* "P5 W H MAXVAL": whitespace and # comments, as stbi__pnm_info reads them;
 * returns how many of the three
 * numbers were read; @offset gets the position of the first pixel byte. */
static int
pnm_header (const guint8 *d, gsize n, guint64 v[3], gsize *offset)
{
  gsize p = 2;

  v[0] = v[1] = v[2] = 0;
  for (int k = 0; k < 3; k++)
    {
      gboolean digits = FALSE;
      while (p < n && (g_ascii_isspace (d[p]) || d[p] == '#'))
        {
          if (d[p] == '#')
            while (p < n && d[p] != '\n' && d[p] != '\r')
              p++;
          else
            p++;
        }
      while (p < n && g_ascii_isdigit (d[p]) && v[k] < ((guint64) 1 << 40))
        v[k] = v[k] * 10 + (d[p++] - '0'), digits = TRUE;
      if (!digits)
        return k;
    }
  *offset = p + 1; /* one whitespace byte ends the header */
  return 3;
}

/* stbi__pnm_load (2.27) ignores a short read and hands back the buffer
 * uninitialised: refuse pixel data shorter than the header promises. */
static gboolean
check_pnm (const guint8 *d, gsize n, const char *name, GError **error)
{
  guint64 v[3], need;
  gsize offset;

  if (pnm_header (d, n, v, &offset) < 3 || v[0] == 0 || v[1] == 0 || v[0] > (1u << 24) || v[1] > (1u << 24))
    return TRUE; /* stb refuses these itself */
  need = v[0] * v[1] * (d[1] == '6' ? 3 : 1) * (v[2] > 255 ? 2 : 1);
  if (offset > n || n - offset < need)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: truncated PNM (%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " needs %" G_GUINT64_FORMAT
                   " bytes of pixels, the file holds %" G_GSIZE_FORMAT ")",
                   name, v[0], v[1], need, offset > n ? (gsize) 0 : n - offset);
      return FALSE;
    }
  return TRUE;
}

/* stbi__tga_load (2.27) ignores short reads of uncompressed rows the same way. */
static gboolean
check_tga (const guint8 *d, gsize n, const char *name, GError **error)
{
  guint64 w, h, bpp, offset, need;
  guint type;

  if (n < 18)
    return TRUE;
  type = d[2];
  bpp = d[16];
  /* only what stbi__tga_test accepts as a TGA; RLE types read byte by byte,
   * past the end as zeros */
  if (d[1] > 1 || (d[1] == 1 && type != 1) || (d[1] == 0 && type != 2 && type != 3) ||
      (d[1] == 1 && bpp != 8 && bpp != 16) || (d[1] == 0 && bpp != 8 && bpp != 15 && bpp != 16 &&
                                               bpp != 24 && bpp != 32))
    return TRUE;
  w = (guint64) d[13] << 8 | d[12];
  h = (guint64) d[15] << 8 | d[14];
  offset = 18 + d[0];
  if (d[1] == 1)
    offset += ((guint64) d[6] << 8 | d[5]) * ((d[7] + 7) / 8);
  need = w * h * ((bpp + 7) / 8);
  if (w == 0 || h == 0)
    return TRUE;
  if (offset > n || n - offset < need)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: truncated TGA (%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " needs %" G_GUINT64_FORMAT
                   " bytes of pixels)", name, w, h, need);
      return FALSE;
    }
  return TRUE;
}

gboolean
ts_stb_guard_check (const guint8 *data, gsize len, const char *format, const char *name,
                    GError **error)
{
  if (format == NULL)
    return check_tga (data, len, name, error);
  /* PSD, Radiance HDR and Softimage PIC are not formats TokenScope offers, and
   * their stb decoders have known faults (CVE-2021-42715: HDR loops forever):
   * they never reach stb */
  if (strcmp (format, "psd") == 0 || strcmp (format, "hdr") == 0 || strcmp (format, "pic") == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED,
                   "%s: %s files are not supported (use PNG, JPEG, GIF, BMP, TGA or PNM)", name,
                   strcmp (format, "psd") == 0 ? "Photoshop" : strcmp (format, "hdr") == 0 ? "Radiance HDR"
                                                                                            : "Softimage PIC");
      return FALSE;
    }
  if (strcmp (format, "jpeg") == 0)
    return check_jpeg (data, len, name, error);
  if (strcmp (format, "pnm") == 0)
    return check_pnm (data, len, name, error);
  return TRUE;
}

static guint32
be16 (const guint8 *d)
{
  return (guint32) d[0] << 8 | d[1];
}

static guint32
be32 (const guint8 *d)
{
  return (guint32) d[0] << 24 | (guint32) d[1] << 16 | (guint32) d[2] << 8 | d[3];
}

static guint32
le16 (const guint8 *d)
{
  return (guint32) d[1] << 8 | d[0];
}

/* The first SOFn segment's size (C0..CF except C4 DHT, C8 JPG, CC DAC). */
static gboolean
jpeg_size (const guint8 *d, gsize n, guint64 *w, guint64 *h)
{
  gsize p = 2;

  while (p + 4 <= n)
    {
      guint8 m;
      if (d[p] != 0xFF)
        return FALSE;
      while (p < n && d[p] == 0xFF)
        p++;
      if (p + 3 > n)
        return FALSE;
      m = d[p++];
      if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
        {
          if (p + 7 > n)
            return FALSE;
          *h = be16 (d + p + 3);
          *w = be16 (d + p + 5);
          return TRUE;
        }
      if (m == 0xDA || m == 0xD9)
        return FALSE;
      p += be16 (d + p);
    }
  return FALSE;
}

static gboolean
pnm_size (const guint8 *d, gsize n, guint64 *w, guint64 *h)
{
  guint64 v[3];
  gsize offset;

  if (pnm_header (d, n, v, &offset) < 2)
    return FALSE;
  *w = v[0], *h = v[1];
  return TRUE;
}

gboolean
ts_stb_guard_header_size (const guint8 *d, gsize n, const char *format, guint64 *width,
                          guint64 *height)
{
  if (format == NULL) /* TGA: no signature; image types 1-3 and 9-11 */
    {
      if (n < 18 || !((d[2] >= 1 && d[2] <= 3) || (d[2] >= 9 && d[2] <= 11)))
        return FALSE;
      *width = le16 (d + 12), *height = le16 (d + 14);
      return TRUE;
    }
  if (strcmp (format, "png") == 0 && n >= 24 && memcmp (d + 12, "IHDR", 4) == 0)
    {
      *width = be32 (d + 16), *height = be32 (d + 20);
      return TRUE;
    }
  if (strcmp (format, "gif") == 0 && n >= 10)
    {
      *width = le16 (d + 6), *height = le16 (d + 8);
      return TRUE;
    }
  if (strcmp (format, "bmp") == 0 && n >= 26)
    {
      gint32 w, h;
      if (le16 (d + 14) == 12) /* OS/2 header: 16-bit sizes */
        {
          *width = le16 (d + 18), *height = le16 (d + 20);
          return TRUE;
        }
      memcpy (&w, d + 18, 4), memcpy (&h, d + 22, 4);
      w = GINT32_FROM_LE (w), h = GINT32_FROM_LE (h);
      *width = (guint64) ABS ((gint64) w), *height = (guint64) ABS ((gint64) h);
      return TRUE;
    }
  if (strcmp (format, "pnm") == 0)
    return pnm_size (d, n, width, height);
  if (strcmp (format, "jpeg") == 0)
    return jpeg_size (d, n, width, height);
  return FALSE;
}

guint8 *
ts_stb_guard_gif_copy (const guint8 *data, gsize n)
{
  guint8 *d = g_memdup2 (data, n);
  gsize p = 13;

  if (n < 13)
    return d;
  if (d[10] & 0x80)
    p += (gsize) 3 << ((d[10] & 7) + 1);
  /* the block structure as stbi__gif_load_next walks it */
  while (p < n)
    {
      guint8 tag = d[p++];
      if (tag == 0x21)
        {
          if (p >= n)
            break;
          if (d[p] == 0xF9 && p + 2 < n && d[p + 1] == 4 && ((d[p + 2] >> 2) & 7) == 3)
            d[p + 2] = (guint8) ((d[p + 2] & ~0x1C) | (2 << 2));
          p++;
        }
      else if (tag == 0x2C)
        {
          guint8 flags;
          if (p + 9 > n)
            break;
          flags = d[p + 8];
          p += 9;
          if (flags & 0x80)
            p += (gsize) 3 << ((flags & 7) + 1);
          p++;
        }
      else
        break;
      while (p < n && d[p] != 0)
        p += (gsize) d[p] + 1;
      p++;
    }
  return d;
}
