/* Image loading: every format, greyscale and alpha, GIF frames and delays,
 * frame folders, and every loader's bad input. */
#include "ts-test-util.h"

#include <glib/gstdio.h>
#include <stb_image_write.h>
#include <string.h>

/* ---------- encoders for the test inputs ---------- */

static void
append_cb (void *context, void *data, int size)
{
  g_byte_array_append (context, data, (guint) size);
}

/* A w x h x comp test pattern: each channel a different ramp. */
static guint8 *
pattern (int w, int h, int comp)
{
  guint8 *px = g_new (guint8, (gsize) w * h * comp);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < comp; c++)
        px[((gsize) y * w + x) * comp + c] = (guint8) ((x * 7 + y * 13 + c * 50) % 256);
  return px;
}

typedef enum { ENC_PNG, ENC_BMP, ENC_TGA, ENC_TGA_RLE, ENC_JPEG, ENC_PNM } Encoding;

static GByteArray *
encode (Encoding enc, int w, int h, int comp, const guint8 *px)
{
  GByteArray *b = g_byte_array_new ();
  int ok = 1;

  switch (enc)
    {
    case ENC_PNG:
      ok = stbi_write_png_to_func (append_cb, b, w, h, comp, px, w * comp);
      break;
    case ENC_BMP:
      ok = stbi_write_bmp_to_func (append_cb, b, w, h, comp, px);
      break;
    case ENC_TGA:
    case ENC_TGA_RLE:
      stbi_write_tga_with_rle = enc == ENC_TGA_RLE;
      ok = stbi_write_tga_to_func (append_cb, b, w, h, comp, px);
      break;
    case ENC_JPEG:
      ok = stbi_write_jpg_to_func (append_cb, b, w, h, comp, px, 100);
      break;
    case ENC_PNM:
      {
        /* by hand: P5 grey or P6 RGB, a comment in the header as real files have */
        g_autofree char *head = g_strdup_printf ("P%c\n# made by test-image\n%d %d\n255\n", comp == 1 ? '5' : '6', w, h);
        g_byte_array_append (b, (const guint8 *) head, (guint) strlen (head));
        g_byte_array_append (b, px, (guint) (w * h * comp));
      }
      break;
    default:
      g_assert_not_reached ();
    }
  g_assert_true (ok);
  return b;
}

/* A GIF built by hand: a 4-colour global palette, one graphic control
 * extension per frame (delay in 1/100 s), LZW data in which every pixel code
 * follows a clear code, so the code table never grows and the encoding stays
 * trivial (3-bit codes: clear 4, end 5). */
static const guint8 gif_palette[4][3] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 } };

static void
put_bits (GByteArray *out, guint32 *acc, int *nbits, guint32 code, int width)
{
  *acc |= code << *nbits;
  *nbits += width;
  while (*nbits >= 8)
    {
      guint8 byte = *acc & 0xFF;
      g_byte_array_append (out, &byte, 1);
      *acc >>= 8;
      *nbits -= 8;
    }
}

static GByteArray *
make_gif (int w, int h, int n_frames, const guint8 *const *frames, const int *delays_cs)
{
  GByteArray *g = g_byte_array_new ();
  const guint8 header[13] = { 'G', 'I', 'F', '8', '9', 'a', (guint8) w, (guint8) (w >> 8), (guint8) h,
                              (guint8) (h >> 8), 0x81, 0, 0 };

  g_byte_array_append (g, header, 13);
  g_byte_array_append (g, &gif_palette[0][0], 12);
  for (int f = 0; f < n_frames; f++)
    {
      const guint8 gce[8] = { 0x21, 0xF9, 4, 0x04, (guint8) delays_cs[f], (guint8) (delays_cs[f] >> 8), 0, 0 };
      const guint8 desc[11] = { 0x2C, 0, 0, 0, 0, (guint8) w, (guint8) (w >> 8), (guint8) h, (guint8) (h >> 8), 0, 2 };
      g_autoptr (GByteArray) lzw = g_byte_array_new ();
      guint32 acc = 0;
      int nbits = 0;
      g_byte_array_append (g, gce, 8);
      g_byte_array_append (g, desc, 11);
      for (int i = 0; i < w * h; i++)
        {
          put_bits (lzw, &acc, &nbits, 4, 3);
          put_bits (lzw, &acc, &nbits, frames[f][i], 3);
        }
      put_bits (lzw, &acc, &nbits, 5, 3);
      if (nbits > 0)
        put_bits (lzw, &acc, &nbits, 0, 8 - nbits);
      for (guint off = 0; off < lzw->len; off += 255)
        {
          guint8 n = (guint8) MIN (255u, lzw->len - off);
          g_byte_array_append (g, &n, 1);
          g_byte_array_append (g, lzw->data + off, n);
        }
      g_byte_array_append (g, (const guint8 *) "\0", 1);
    }
  g_byte_array_append (g, (const guint8 *) "\x3B", 1);
  return g;
}

/* Three 4 x 2 frames: red / green / blue fields with a moving black pixel. */
static const guint8 gif_f0[8] = { 0, 1, 1, 1, 1, 1, 1, 1 };
static const guint8 gif_f1[8] = { 2, 0, 2, 2, 2, 2, 2, 2 };
static const guint8 gif_f2[8] = { 3, 3, 0, 3, 3, 3, 3, 3 };
static const guint8 *const gif_frames[3] = { gif_f0, gif_f1, gif_f2 };
static const int gif_delays[3] = { 10, 20, 50 };

static GByteArray *
three_frame_gif (void)
{
  return make_gif (4, 2, 3, gif_frames, gif_delays);
}

/* ---------- every format loads ---------- */

typedef struct {
  const char *name;
  Encoding enc;
  int comp;
  int tolerance; /* 0 = lossless */
} FormatCase;

static const FormatCase format_cases[] = {
  { "png-rgb", ENC_PNG, 3, 0 },      { "png-grey", ENC_PNG, 1, 0 },  { "bmp-rgb", ENC_BMP, 3, 0 },
  { "tga-rgb", ENC_TGA, 3, 0 },      { "tga-rle", ENC_TGA_RLE, 3, 0 }, { "tga-grey", ENC_TGA, 1, 0 },
  { "pnm-p6", ENC_PNM, 3, 0 },       { "pnm-p5-grey", ENC_PNM, 1, 0 }, { "jpeg-rgb", ENC_JPEG, 3, 24 },
  { "jpeg-grey", ENC_JPEG, 1, 6 },
};

static void
test_format_loads (gconstpointer data)
{
  const FormatCase *fc = data;
  const int w = 37, h = 23; /* odd sizes: BMP row padding, JPEG partial blocks */
  g_autofree guint8 *px = pattern (w, h, fc->comp);
  g_autoptr (GByteArray) bytes = encode (fc->enc, w, h, fc->comp, px);
  g_autofree char *file = g_strconcat (fc->name, ".img", NULL);
  g_autofree char *path = ts_test_write (file, bytes->data, bytes->len);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load (path, NULL, &error);
  static const char *const formats[] = { "png", "bmp", "tga", "tga", "jpeg", "pnm" };
  int worst = 0;

  g_assert_no_error (error);
  g_assert_nonnull (media);
  g_assert_cmpstr (media->format, ==, formats[fc->enc]);
  g_assert_cmpstr (media->name, ==, file);
  g_assert_cmpuint (media->n_frames, ==, 1);
  g_assert_cmpint (media->frames[0]->width, ==, w);
  g_assert_cmpint (media->frames[0]->height, ==, h);
  g_assert_false (media->had_alpha);
  for (int i = 0; i < w * h; i++)
    for (int c = 0; c < 3; c++)
      {
        int expect = px[i * fc->comp + (fc->comp == 1 ? 0 : c)];
        int got = media->frames[0]->data[i * 3 + c];
        worst = MAX (worst, ABS (expect - got));
      }
  /* greyscale expands to equal channels */
  if (fc->comp == 1)
    for (int i = 0; i < w * h; i++)
      {
        g_assert_cmpint (media->frames[0]->data[i * 3], ==, media->frames[0]->data[i * 3 + 1]);
        g_assert_cmpint (media->frames[0]->data[i * 3], ==, media->frames[0]->data[i * 3 + 2]);
      }
  g_assert_cmpint (worst, <=, fc->tolerance);
}

/* ---------- alpha ---------- */

static int
composite (int v, int a, int back)
{
  return (v * a + back * (255 - a) + 127) / 255;
}

static int
checker_back (int x, int y)
{
  return (((x >> 3) + (y >> 3)) & 1) ? 204 : 255;
}

typedef struct {
  const char *name;
  int comp; /* 2 grey+alpha, 4 RGBA */
  TsAlphaBackground bg;
} AlphaCase;

static const AlphaCase alpha_cases[] = {
  { "rgba-over-white", 4, TS_ALPHA_OVER_WHITE },
  { "rgba-over-checker", 4, TS_ALPHA_OVER_CHECKER },
  { "grey-alpha-over-white", 2, TS_ALPHA_OVER_WHITE },
  { "grey-alpha-over-checker", 2, TS_ALPHA_OVER_CHECKER },
};

static void
test_alpha (gconstpointer data)
{
  const AlphaCase *ac = data;
  const int w = 24, h = 20;
  g_autofree guint8 *px = g_new (guint8, w * h * ac->comp);
  g_autoptr (GByteArray) png = NULL;
  TsLoadOptions opts = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 *p = px + (y * w + x) * ac->comp;
        int alpha = (x * 11 + y * 3) % 256; /* includes 0 (fully transparent) and partial values */
        if (ac->comp == 4)
          p[0] = 200, p[1] = 100, p[2] = (guint8) (x * 10), p[3] = (guint8) alpha;
        else
          p[0] = (guint8) (y * 12), p[1] = (guint8) alpha;
      }
  png = encode (ENC_PNG, w, h, ac->comp, px);
  opts.alpha = ac->bg;
  media = ts_media_load_from_memory (png->data, png->len, "alpha.png", &opts, &error);
  g_assert_no_error (error);
  g_assert_true (media->had_alpha);
  g_assert_cmpint (media->source_channels, ==, ac->comp);
  g_assert_cmpint (media->alpha, ==, ac->bg);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = px + (y * w + x) * ac->comp;
        const guint8 *o = media->frames[0]->data + (y * w + x) * 3;
        int back = ac->bg == TS_ALPHA_OVER_WHITE ? 255 : checker_back (x, y);
        int a = p[ac->comp - 1];
        for (int c = 0; c < 3; c++)
          g_assert_cmpint (o[c], ==, composite (ac->comp == 4 ? p[c] : p[0], a, back));
      }
  /* spot checks worked by hand: (0,0) alpha 0 shows the background; (1,0) alpha 11, red 200 */
  g_assert_cmpint (media->frames[0]->data[0], ==, 255);
  if (ac->comp == 4)
    g_assert_cmpint (media->frames[0]->data[3], ==, (200 * 11 + 255 * 244 + 127) / 255); /* 253 */
  if (ac->bg == TS_ALPHA_OVER_CHECKER)
    {
      /* (8, 0) lies on a grey square and has alpha 88 */
      int expect = ac->comp == 4 ? composite (200, 88, 204) : composite (0, 88, 204);
      g_assert_cmpint (media->frames[0]->data[8 * 3], ==, expect);
    }
}

static void
test_opaque_alpha_channel (void)
{
  /* an RGBA file whose alpha is 255 everywhere composites nothing */
  g_autofree guint8 *px = pattern (9, 9, 4);
  g_autoptr (GByteArray) png = NULL;
  g_autoptr (TsMedia) media = NULL;

  for (int i = 0; i < 81; i++)
    px[i * 4 + 3] = 255;
  png = encode (ENC_PNG, 9, 9, 4, px);
  media = ts_media_load_from_memory (png->data, png->len, "opaque.png", NULL, NULL);
  g_assert_nonnull (media);
  g_assert_false (media->had_alpha);
  for (int i = 0; i < 81; i++)
    g_assert_cmpmem (media->frames[0]->data + i * 3, 3, px + i * 4, 3);
}

/* ---------- GIF ---------- */

static void
test_gif_frames_and_delays (void)
{
  g_autoptr (GByteArray) gif = three_frame_gif ();
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load_from_memory (gif->data, gif->len, "anim.gif", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (media->format, ==, "gif");
  g_assert_cmpuint (media->n_frames, ==, 3);
  g_assert_cmpint (media->delays_ms[0], ==, 100);
  g_assert_cmpint (media->delays_ms[1], ==, 200);
  g_assert_cmpint (media->delays_ms[2], ==, 500);
  g_assert_false (media->had_alpha);
  for (int f = 0; f < 3; f++)
    {
      g_assert_cmpint (media->frames[f]->width, ==, 4);
      g_assert_cmpint (media->frames[f]->height, ==, 2);
      for (int i = 0; i < 8; i++)
        g_assert_cmpmem (media->frames[f]->data + i * 3, 3, gif_palette[gif_frames[f][i]], 3);
    }
}

typedef struct {
  const char *name;
  int cut;    /* bytes removed from the end; -1: cut inside frame 3; -2: inside frame 1 */
  int append; /* append garbage after the trailer */
  int expect;
} GifCountCase;

static const GifCountCase gif_count_cases[] = {
  { "complete", 0, 0, 3 },
  { "no-trailer", 1, 0, 3 },
  { "cut-in-frame-3", -1, 0, 2 },
  { "cut-in-frame-1", -2, 0, -1 },
  { "garbage-after-trailer", 0, 1, 3 },
};

static void
test_gif_count (gconstpointer data)
{
  const GifCountCase *gc = data;
  g_autoptr (GByteArray) gif = three_frame_gif ();
  gsize len = gif->len;

  /* frame layout: 25-byte header + palette, then per frame 8 + 11 + data */
  if (gc->cut > 0)
    len -= gc->cut;
  else if (gc->cut == -1)
    len -= 6;
  else if (gc->cut == -2)
    len = 25 + 8 + 11 + 3;
  if (gc->append)
    g_byte_array_append (gif, (const guint8 *) "\x21\xFE", 2);
  g_assert_cmpint (ts_gif_count_frames (gif->data, gc->append ? gif->len : len), ==, gc->expect);
}

typedef struct {
  const char *name;
  gsize keep;  /* bytes kept of the 110-byte three-frame GIF (header 25, 28 per frame, trailer 1) */
  int frames;  /* frames loaded, or -1 for TS_ERROR_BAD_DATA */
} GifCutCase;

static const GifCutCase gif_cut_cases[] = {
  { "no-trailer", 109, 3 },
  { "cut-in-frame-3", 104, 2 },  /* the complete frames stay, as browsers show them */
  { "cut-after-frame-2", 81, 2 },
  { "cut-in-frame-1", 47, -1 },
  { "cut-in-palette", 20, -1 },
};

static void
test_gif_cut (gconstpointer data)
{
  const GifCutCase *c = data;
  g_autoptr (GByteArray) gif = three_frame_gif ();
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  g_assert_cmpuint (gif->len, ==, 110);
  media = ts_media_load_from_memory (gif->data, c->keep, "cut.gif", NULL, &error);
  if (c->frames < 0)
    {
      g_assert_null (media);
      g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
      g_assert_nonnull (strstr (error->message, "cut.gif"));
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (media->n_frames, ==, (guint) c->frames);
  for (int f = 0; f < c->frames; f++)
    {
      g_assert_cmpint (media->delays_ms[f], ==, gif_delays[f] * 10);
      for (int i = 0; i < 8; i++)
        g_assert_cmpmem (media->frames[f]->data + i * 3, 3, gif_palette[gif_frames[f][i]], 3);
    }
}

static void
test_gif_count_not_gif (void)
{
  g_assert_cmpint (ts_gif_count_frames ((const guint8 *) "GIF89", 5), ==, -1);
  g_assert_cmpint (ts_gif_count_frames ((const guint8 *) "\x89PNG\r\n\x1a\n....", 12), ==, -1);
  g_assert_cmpint (ts_gif_count_frames (NULL, 0), ==, -1);
}

static void
test_gif_max_frames (void)
{
  g_autoptr (GByteArray) gif = three_frame_gif ();
  TsLoadOptions opts = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  opts.max_frames = 2;
  media = ts_media_load_from_memory (gif->data, gif->len, "anim.gif", &opts, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "anim.gif"));
}

static void
test_gif_sample (void)
{
  /* the committed temporal sample: 8 frames of 100 ms, the background identical in every frame */
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples", "05-moving-ball.gif", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load (path, NULL, &error);
  int same = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (media->n_frames, ==, 8);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint (media->delays_ms[i], ==, 100);
  g_assert_cmpint (media->frames[0]->width, ==, 336);
  /* most pixels do not change between frames 0 and 1 */
  for (int i = 0; i < 336 * 336; i++)
    same += memcmp (media->frames[0]->data + i * 3, media->frames[1]->data + i * 3, 3) == 0;
  g_assert_cmpint (same, >, 336 * 336 * 95 / 100);
  g_assert_cmpint (same, <, 336 * 336);
}

/* ---------- bad input: every loader ---------- */

typedef enum { BAD_EMPTY, BAD_TRUNCATED, BAD_HUGE } BadKind;

typedef struct {
  const char *file;
  const char *format;
  BadKind kind;
  int code;
} BadCase;

static const BadCase bad_cases[] = {
  { "empty.png", "png", BAD_EMPTY, TS_ERROR_BAD_DATA },
  { "empty.jpg", "jpeg", BAD_EMPTY, TS_ERROR_BAD_DATA },
  { "empty.bmp", "bmp", BAD_EMPTY, TS_ERROR_BAD_DATA },
  { "empty.tga", "tga", BAD_EMPTY, TS_ERROR_BAD_DATA },
  { "empty.ppm", "pnm", BAD_EMPTY, TS_ERROR_BAD_DATA },
  { "empty.gif", "gif", BAD_EMPTY, TS_ERROR_BAD_DATA },
  { "truncated.png", "png", BAD_TRUNCATED, TS_ERROR_BAD_DATA },
  { "truncated.jpg", "jpeg", BAD_TRUNCATED, TS_ERROR_BAD_DATA },
  { "truncated.bmp", "bmp", BAD_TRUNCATED, TS_ERROR_BAD_DATA },
  { "truncated.tga", "tga", BAD_TRUNCATED, TS_ERROR_BAD_DATA },
  { "truncated-rle.tga", "tga-rle", BAD_TRUNCATED, TS_ERROR_BAD_DATA },
  { "truncated.ppm", "pnm", BAD_TRUNCATED, TS_ERROR_BAD_DATA },
  { "huge.png", "png", BAD_HUGE, TS_ERROR_TOO_LARGE },
  { "huge.jpg", "jpeg", BAD_HUGE, TS_ERROR_TOO_LARGE },
  { "huge.bmp", "bmp", BAD_HUGE, TS_ERROR_TOO_LARGE },
  { "huge.tga", "tga", BAD_HUGE, TS_ERROR_TOO_LARGE },
  { "huge.ppm", "pnm", BAD_HUGE, TS_ERROR_TOO_LARGE },
  { "huge.gif", "gif", BAD_HUGE, TS_ERROR_TOO_LARGE },
};

static void
put_be32 (guint8 *d, guint32 v)
{
  d[0] = v >> 24, d[1] = v >> 16, d[2] = v >> 8, d[3] = v;
}

static void
put_le32 (guint8 *d, guint32 v)
{
  d[0] = v, d[1] = v >> 8, d[2] = v >> 16, d[3] = v >> 24;
}

/* A header that claims 100000 x 100000 (formats with 16-bit sizes: 65535 x 65535), nothing more. */
static GByteArray *
huge_header (const char *format)
{
  GByteArray *b = g_byte_array_new ();

  if (strcmp (format, "png") == 0)
    {
      guint8 d[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
      put_be32 (d + 16, 100000);
      put_be32 (d + 20, 100000);
      d[24] = 8, d[25] = 2;
      g_byte_array_append (b, d, sizeof d);
    }
  else if (strcmp (format, "jpeg") == 0)
    {
      const guint8 d[] = { 0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0xFF, 0xFF, 0xFF, 0xFF, 3,
                           1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9 };
      g_byte_array_append (b, d, sizeof d);
    }
  else if (strcmp (format, "bmp") == 0)
    {
      guint8 d[54] = { 'B', 'M' };
      d[10] = 54, d[14] = 40, d[26] = 1, d[28] = 24;
      put_le32 (d + 18, 100000);
      put_le32 (d + 22, 100000);
      g_byte_array_append (b, d, sizeof d);
    }
  else if (strcmp (format, "tga") == 0)
    {
      guint8 d[18] = { 0, 0, 2 };
      d[12] = d[13] = d[14] = d[15] = 0xFF, d[16] = 24;
      g_byte_array_append (b, d, sizeof d);
    }
  else if (strcmp (format, "pnm") == 0)
    g_byte_array_append (b, (const guint8 *) "P6\n100000 100000\n255\n", 21);
  else if (strcmp (format, "gif") == 0)
    {
      const guint8 d[] = { 'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0,
                           0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 2, 2, 0x4C, 1, 0, 0x3B };
      g_byte_array_append (b, d, sizeof d);
    }
  return b;
}

static GByteArray *
valid_file (const char *format)
{
  g_autofree guint8 *px = pattern (40, 30, 3);

  if (strcmp (format, "png") == 0)
    return encode (ENC_PNG, 40, 30, 3, px);
  if (strcmp (format, "jpeg") == 0)
    return encode (ENC_JPEG, 40, 30, 3, px);
  if (strcmp (format, "bmp") == 0)
    return encode (ENC_BMP, 40, 30, 3, px);
  if (strcmp (format, "tga") == 0)
    return encode (ENC_TGA, 40, 30, 3, px);
  if (strcmp (format, "tga-rle") == 0)
    return encode (ENC_TGA_RLE, 40, 30, 3, px);
  if (strcmp (format, "pnm") == 0)
    return encode (ENC_PNM, 40, 30, 3, px);
  return three_frame_gif ();
}

static void
test_bad_input (gconstpointer data)
{
  const BadCase *bc = data;
  g_autoptr (GByteArray) bytes = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  switch (bc->kind)
    {
    case BAD_EMPTY:
      bytes = g_byte_array_new ();
      break;
    case BAD_TRUNCATED:
      bytes = valid_file (bc->format);
      /* a valid file loads; the same file cut short must not */
      {
        g_autoptr (TsMedia) whole = ts_media_load_from_memory (bytes->data, bytes->len, bc->file, NULL, NULL);
        g_assert_nonnull (whole);
      }
      g_byte_array_set_size (bytes, bytes->len * 2 / 3);
      break;
    case BAD_HUGE:
      bytes = huge_header (bc->format);
      break;
    default:
      g_assert_not_reached ();
    }
  path = ts_test_write (bc->file, bytes->data, bytes->len);
  media = ts_media_load (path, NULL, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, bc->code);
  g_assert_nonnull (strstr (error->message, bc->file));
}

static void
test_text_named_png (void)
{
  static const char text[] = "This is a shopping list, not a picture.\nmilk\neggs\n";
  g_autofree char *path = ts_test_write ("notes.png", text, sizeof text - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load (path, NULL, &error);

  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "notes.png"));
  g_assert_nonnull (strstr (error->message, "not an image"));
}

static void
test_corrupt_png_data (void)
{
  /* a valid header and IHDR followed by scrambled compressed data */
  g_autofree guint8 *px = pattern (40, 30, 3);
  g_autoptr (GByteArray) png = encode (ENC_PNG, 40, 30, 3, px);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  for (guint i = 41; i < png->len - 12; i++)
    png->data[i] ^= 0x5A;
  media = ts_media_load_from_memory (png->data, png->len, "scrambled.png", NULL, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "scrambled.png"));
}

static void
test_max_pixels_option (void)
{
  g_autofree guint8 *px = pattern (40, 30, 3);
  g_autoptr (GByteArray) png = encode (ENC_PNG, 40, 30, 3, px);
  TsLoadOptions opts = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) ok = NULL;
  g_autoptr (TsMedia) refused = NULL;

  opts.max_pixels = 1200; /* exactly 40 x 30: allowed */
  ok = ts_media_load_from_memory (png->data, png->len, "small.png", &opts, &error);
  g_assert_no_error (error);
  opts.max_pixels = 1199;
  refused = ts_media_load_from_memory (png->data, png->len, "small.png", &opts, &error);
  g_assert_null (refused);
  g_assert_error (error, TS_ERROR, TS_ERROR_TOO_LARGE);
}

static void
test_missing_file (void)
{
  g_autofree char *path = ts_test_path ("does-not-exist.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) image = ts_image_load (path, NULL, &error);

  g_assert_null (image);
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "does-not-exist.png"));
}

/* ---------- frame folders ---------- */

static char *
make_folder (const char *name)
{
  char *dir = ts_test_path (name);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

static void
write_solid_png (const char *dir, const char *name, int w, int h, guint8 v)
{
  g_autoptr (TsImage) image = ts_test_solid (w, h, v, v, v);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (ts_image_save_png (image, path, NULL));
}

static void
test_folder_natural_order (void)
{
  g_autofree char *dir = make_folder ("frames-ok");
  g_autofree char *notes = g_build_filename (dir, "README.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  write_solid_png (dir, "frame-10.png", 8, 6, 30);
  write_solid_png (dir, "frame-2.png", 8, 6, 20);
  write_solid_png (dir, "frame-1.png", 8, 6, 10);
  g_assert_true (g_file_set_contents (notes, "not a frame", -1, NULL));
  media = ts_media_load_any (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (media->format, ==, "folder");
  g_assert_cmpstr (media->name, ==, "frames-ok");
  g_assert_cmpuint (media->n_frames, ==, 3);
  g_assert_cmpint (media->frames[0]->data[0], ==, 10);
  g_assert_cmpint (media->frames[1]->data[0], ==, 20);
  g_assert_cmpint (media->frames[2]->data[0], ==, 30);
}

static void
test_folder_mismatched_sizes (void)
{
  g_autofree char *dir = make_folder ("frames-mixed");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  write_solid_png (dir, "a.png", 8, 6, 10);
  write_solid_png (dir, "b.png", 8, 7, 10);
  media = ts_media_load_folder (dir, NULL, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "b.png"));
  g_assert_nonnull (strstr (error->message, "8 x 7"));
}

static void
test_folder_bad_frame (void)
{
  g_autofree char *dir = make_folder ("frames-bad");
  g_autofree char *bad = g_build_filename (dir, "b.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;

  write_solid_png (dir, "a.png", 8, 6, 10);
  g_assert_true (g_file_set_contents (bad, "", 0, NULL));
  media = ts_media_load_folder (dir, NULL, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "b.png"));
}

static void
test_folder_empty_and_missing (void)
{
  g_autofree char *dir = make_folder ("frames-empty");
  g_autofree char *missing = ts_test_path ("no-such-folder");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = ts_media_load_folder (dir, NULL, &error);

  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  media = ts_media_load_folder (missing, NULL, &error);
  g_assert_null (media);
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
}

/* ---------- TsImage helpers ---------- */

static void
test_png_round_trip (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (45, 31);
  g_autofree char *path = ts_test_path ("round-trip.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) back = NULL;

  g_assert_true (ts_image_save_png (image, path, &error));
  g_assert_no_error (error);
  back = ts_image_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ts_image_equal (image, back));
  back->data[100] ^= 1;
  g_assert_false (ts_image_equal (image, back));
}

static void
test_save_png_bad_path (void)
{
  g_autoptr (TsImage) image = ts_test_solid (4, 4, 1, 2, 3);
  g_autofree char *path = ts_test_path ("no-such-folder/x.png");
  g_autoptr (GError) error = NULL;

  g_assert_false (ts_image_save_png (image, path, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
}

static void
test_crop_and_new (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (10, 8);
  const guint8 fill[3] = { 9, 8, 7 };
  g_autoptr (TsImage) crop = ts_image_crop (image, 8, -1, 4, 3, fill);

  g_assert_cmpint (crop->width, ==, 4);
  g_assert_cmpint (crop->height, ==, 3);
  /* (0,0) of the crop is (8,-1): outside, filled */
  g_assert_cmpmem (crop->data, 3, fill, 3);
  /* (1,1) of the crop is (9,0) */
  g_assert_cmpmem (crop->data + (1 * 4 + 1) * 3, 3, image->data + (0 * 10 + 9) * 3, 3);
  /* (2,1) is (10,0): right of the image */
  g_assert_cmpmem (crop->data + (1 * 4 + 2) * 3, 3, fill, 3);
  g_assert_null (ts_image_new (0, 5));
  g_assert_null (ts_image_new (5, -1));
  g_assert_null (ts_image_new (G_MAXINT, G_MAXINT));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (format_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/image/format/%s", format_cases[i].name);
      g_test_add_data_func (path, &format_cases[i], test_format_loads);
    }
  for (guint i = 0; i < G_N_ELEMENTS (alpha_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/image/alpha/%s", alpha_cases[i].name);
      g_test_add_data_func (path, &alpha_cases[i], test_alpha);
    }
  g_test_add_func ("/image/alpha/opaque-channel", test_opaque_alpha_channel);
  g_test_add_func ("/image/gif/frames-and-delays", test_gif_frames_and_delays);
  for (guint i = 0; i < G_N_ELEMENTS (gif_count_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/image/gif/count/%s", gif_count_cases[i].name);
      g_test_add_data_func (path, &gif_count_cases[i], test_gif_count);
    }
  g_test_add_func ("/image/gif/count/not-a-gif", test_gif_count_not_gif);
  for (guint i = 0; i < G_N_ELEMENTS (gif_cut_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/image/gif/cut/%s", gif_cut_cases[i].name);
      g_test_add_data_func (path, &gif_cut_cases[i], test_gif_cut);
    }
  g_test_add_func ("/image/gif/max-frames", test_gif_max_frames);
  g_test_add_func ("/image/gif/sample", test_gif_sample);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/image/bad/%s", bad_cases[i].file);
      g_test_add_data_func (path, &bad_cases[i], test_bad_input);
    }
  g_test_add_func ("/image/bad/text-named-png", test_text_named_png);
  g_test_add_func ("/image/bad/corrupt-png-data", test_corrupt_png_data);
  g_test_add_func ("/image/bad/max-pixels-option", test_max_pixels_option);
  g_test_add_func ("/image/bad/missing-file", test_missing_file);
  g_test_add_func ("/image/folder/natural-order", test_folder_natural_order);
  g_test_add_func ("/image/folder/mismatched-sizes", test_folder_mismatched_sizes);
  g_test_add_func ("/image/folder/bad-frame", test_folder_bad_frame);
  g_test_add_func ("/image/folder/empty-and-missing", test_folder_empty_and_missing);
  g_test_add_func ("/image/png-round-trip", test_png_round_trip);
  g_test_add_func ("/image/save-png-bad-path", test_save_png_bad_path);
  g_test_add_func ("/image/crop-and-new", test_crop_and_new);
  return g_test_run ();
}
