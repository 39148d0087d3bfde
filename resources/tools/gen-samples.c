/* gen-samples: draws TokenScope's teaching samples with Cairo, deterministically.
 *
 * Usage: gen-samples OUTDIR
 * Writes OUTDIR/01-city-sky.png, 02-bricks.png, 03-document.png, 04-chart.png
 * and OUTDIR/gif-frames/frame-NN.png (the frames of 05-moving-ball.gif, which
 * resources/tools/make-samples.sh assembles with ImageMagick). The outputs are
 * committed under resources/samples/; the build compiles this program so it
 * keeps working but never runs it. Every random choice comes from a fixed-seed
 * hash, so the same Cairo and fonts give the same pictures.
 *
 * Each sample teaches one kind of redundancy a token compressor can exploit:
 *   city-sky   spatial: half the patches are smooth sky, near copies of their neighbours
 *   bricks     semantic: the same brick repeats, but the mortar lands at a different
 *              offset in every patch, so pixel features differ while the content does not
 *   document   optical/OCR: fine glyphs that suffer from any pooling, and wide margins
 *              that cost tokens for nothing
 *   chart      a diagram: thin lines and labels on a white field
 *   moving-ball temporal: a still scene where only a few patches change per frame */
#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------- deterministic noise ---------- */

static guint32
hash3 (int x, int y, guint32 seed)
{
  guint32 h = seed * 0x9E3779B1u ^ (guint32) x * 0x85EBCA77u ^ (guint32) y * 0xC2B2AE3Du;

  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

/* Uniform in [0, 1). */
static double
rnd (int x, int y, guint32 seed)
{
  return (hash3 (x, y, seed) >> 8) / 16777216.0;
}

static double
smooth (double t)
{
  return t * t * (3 - 2 * t);
}

/* Value noise in [0, 1]. */
static double
vnoise (double x, double y, guint32 seed)
{
  int ix = (int) floor (x), iy = (int) floor (y);
  double fx = smooth (x - ix), fy = smooth (y - iy);
  double a = rnd (ix, iy, seed), b = rnd (ix + 1, iy, seed);
  double c = rnd (ix, iy + 1, seed), d = rnd (ix + 1, iy + 1, seed);

  return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
}

/* Fractal sum of @octaves value noises, in [0, 1]. */
static double
fbm (double x, double y, int octaves, guint32 seed)
{
  double sum = 0, amp = 0.5, norm = 0;

  for (int o = 0; o < octaves; o++)
    {
      sum += amp * vnoise (x, y, seed + (guint32) o * 101u);
      norm += amp;
      x *= 2.03, y *= 2.03, amp *= 0.5;
    }
  return sum / norm;
}

static double
clamp01 (double v)
{
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* ---------- pixel access on an RGB24 surface ---------- */

typedef struct {
  unsigned char *data;
  int stride, width, height;
} Pixels;

static Pixels
pixels_begin (cairo_surface_t *s)
{
  Pixels p;

  cairo_surface_flush (s);
  p.data = cairo_image_surface_get_data (s);
  p.stride = cairo_image_surface_get_stride (s);
  p.width = cairo_image_surface_get_width (s);
  p.height = cairo_image_surface_get_height (s);
  return p;
}

static void
pixels_end (cairo_surface_t *s)
{
  cairo_surface_mark_dirty (s);
}

/* RGB24 is stored as native-endian 32-bit words 0x00RRGGBB. */
static void
get_rgb (const Pixels *p, int x, int y, double rgb[3])
{
  guint32 v;

  memcpy (&v, p->data + (gsize) y * p->stride + (gsize) x * 4, 4);
  rgb[0] = ((v >> 16) & 255) / 255.0;
  rgb[1] = ((v >> 8) & 255) / 255.0;
  rgb[2] = (v & 255) / 255.0;
}

static void
set_rgb (const Pixels *p, int x, int y, const double rgb[3])
{
  guint32 r = (guint32) lround (clamp01 (rgb[0]) * 255), g = (guint32) lround (clamp01 (rgb[1]) * 255),
          b = (guint32) lround (clamp01 (rgb[2]) * 255);
  guint32 v = 0xFF000000u | r << 16 | g << 8 | b;

  memcpy (p->data + (gsize) y * p->stride + (gsize) x * 4, &v, 4);
}

/* Sensor-like grain: +-@amount (in 0..1 units), the same offset on all channels plus a little chroma. */
static void
add_grain (cairo_surface_t *s, double amount, guint32 seed)
{
  Pixels p = pixels_begin (s);

  for (int y = 0; y < p.height; y++)
    for (int x = 0; x < p.width; x++)
      {
        double rgb[3], l = (rnd (x, y, seed) - 0.5) * 2 * amount;
        get_rgb (&p, x, y, rgb);
        for (int c = 0; c < 3; c++)
          rgb[c] += l + (rnd (x, y, seed + 1 + (guint32) c) - 0.5) * amount * 0.5;
        set_rgb (&p, x, y, rgb);
      }
  pixels_end (s);
}

static gboolean
save (cairo_surface_t *s, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  cairo_status_t st = cairo_surface_write_to_png (s, path);

  if (st != CAIRO_STATUS_SUCCESS)
    {
      fprintf (stderr, "gen-samples: cannot write %s: %s\n", path, cairo_status_to_string (st));
      return FALSE;
    }
  printf ("wrote %s\n", path);
  return TRUE;
}

/* ---------- 01: sky over buildings ---------- */

static void
draw_windows (cairo_t *cr, double x, double top, double w, double bottom, guint32 seed)
{
  double ww = 7 + (hash3 (1, 0, seed) % 4), wh = 10 + (hash3 (2, 0, seed) % 5);
  double gx = 5 + (hash3 (3, 0, seed) % 4), gy = 7 + (hash3 (4, 0, seed) % 4);
  int cols = (int) ((w - 10) / (ww + gx)), rows = (int) ((bottom - top - 14) / (wh + gy));
  double x0 = x + (w - cols * (ww + gx) + gx) / 2;

  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        double v = rnd (c, r, seed + 7);
        double wx = x0 + c * (ww + gx), wy = top + 10 + r * (wh + gy);
        if (v < 0.16)
          cairo_set_source_rgb (cr, 0.96, 0.82, 0.48); /* lit */
        else if (v < 0.55)
          {
            /* the sky reflected: lighter towards the top of the facade */
            double k = clamp01 ((wy - 250) / 400.0);
            cairo_set_source_rgb (cr, 0.52 - 0.2 * k, 0.64 - 0.22 * k, 0.78 - 0.22 * k);
          }
        else
          cairo_set_source_rgb (cr, 0.16, 0.19, 0.24);
        cairo_rectangle (cr, wx, wy, ww, wh);
        cairo_fill (cr);
      }
}

static void
gen_city (const char *dir)
{
  const int W = 672, H = 672;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (s);
  cairo_pattern_t *pat;
  Pixels p;
  double x;

  /* sky */
  pat = cairo_pattern_create_linear (0, 0, 0, 470);
  cairo_pattern_add_color_stop_rgb (pat, 0.0, 0.16, 0.36, 0.68);
  cairo_pattern_add_color_stop_rgb (pat, 0.6, 0.42, 0.62, 0.86);
  cairo_pattern_add_color_stop_rgb (pat, 1.0, 0.80, 0.86, 0.92);
  cairo_set_source (cr, pat);
  cairo_paint (cr);
  cairo_pattern_destroy (pat);

  /* the sun's glow, upper right */
  pat = cairo_pattern_create_radial (540, 120, 0, 540, 120, 260);
  cairo_pattern_add_color_stop_rgba (pat, 0.0, 1.0, 0.98, 0.90, 0.95);
  cairo_pattern_add_color_stop_rgba (pat, 0.08, 1.0, 0.96, 0.84, 0.75);
  cairo_pattern_add_color_stop_rgba (pat, 0.35, 1.0, 0.93, 0.80, 0.18);
  cairo_pattern_add_color_stop_rgba (pat, 1.0, 1.0, 0.93, 0.80, 0.0);
  cairo_set_source (cr, pat);
  cairo_paint (cr);
  cairo_pattern_destroy (pat);

  /* clouds: stretched fractal noise above a threshold, lit from the top */
  p = pixels_begin (s);
  for (int y = 0; y < 420; y++)
    for (int xx = 0; xx < W; xx++)
      {
        double band = exp (-pow ((y - 190) / 95.0, 2));
        double n = fbm (xx / 150.0, y / 48.0, 6, 11);
        double dens = clamp01 ((n - 0.50) / 0.22) * band;
        double shade = fbm (xx / 150.0, (y - 6) / 48.0, 6, 11) - n; /* > 0 where the cloud thins upwards */
        double rgb[3], cloud[3];
        if (dens <= 0)
          continue;
        get_rgb (&p, xx, y, rgb);
        cloud[0] = 0.97 - 0.25 * clamp01 (dens - 0.4) + 0.6 * shade;
        cloud[1] = 0.97 - 0.24 * clamp01 (dens - 0.4) + 0.6 * shade;
        cloud[2] = 0.98 - 0.18 * clamp01 (dens - 0.4) + 0.6 * shade;
        for (int c = 0; c < 3; c++)
          rgb[c] = rgb[c] * (1 - 0.85 * dens) + cloud[c] * 0.85 * dens;
        set_rgb (&p, xx, y, rgb);
      }
  pixels_end (s);

  /* distant skyline in the haze */
  x = -10;
  for (int i = 0; x < W; i++)
    {
      double w = 34 + 50 * rnd (i, 0, 21), h = 70 + 110 * rnd (i, 1, 21);
      double shade = 0.03 * rnd (i, 2, 21);
      cairo_set_source_rgb (cr, 0.60 + shade, 0.67 + shade, 0.76 + shade);
      cairo_rectangle (cr, x, 480 - h, w, h + 10);
      cairo_fill (cr);
      if (rnd (i, 3, 21) < 0.25) /* a spire */
        {
          cairo_rectangle (cr, x + w / 2 - 1.5, 480 - h - 26, 3, 26);
          cairo_fill (cr);
        }
      x += w - 4;
    }
  pat = cairo_pattern_create_linear (0, 380, 0, 500);
  cairo_pattern_add_color_stop_rgba (pat, 0, 0.80, 0.86, 0.92, 0.0);
  cairo_pattern_add_color_stop_rgba (pat, 1, 0.80, 0.86, 0.92, 0.55);
  cairo_set_source (cr, pat);
  cairo_rectangle (cr, 0, 380, W, 120);
  cairo_fill (cr);
  cairo_pattern_destroy (pat);

  /* near buildings */
  {
    static const double facade[][3] = {
      { 0.55, 0.47, 0.40 }, { 0.42, 0.44, 0.48 }, { 0.66, 0.60, 0.52 }, { 0.36, 0.33, 0.33 },
      { 0.58, 0.55, 0.52 }, { 0.47, 0.38, 0.33 },
    };
    x = -20;
    for (int i = 0; x < W; i++)
      {
        double w = 72 + 70 * rnd (i, 0, 33), top = 270 + 200 * rnd (i, 1, 33);
        const double *col = facade[hash3 (i, 2, 33) % G_N_ELEMENTS (facade)];
        /* body, lit from the upper right: a slightly darker left edge */
        pat = cairo_pattern_create_linear (x, 0, x + w, 0);
        cairo_pattern_add_color_stop_rgb (pat, 0, col[0] * 0.82, col[1] * 0.82, col[2] * 0.84);
        cairo_pattern_add_color_stop_rgb (pat, 1, col[0] * 1.05, col[1] * 1.05, col[2] * 1.05);
        cairo_set_source (cr, pat);
        cairo_rectangle (cr, x, top, w, H - top);
        cairo_fill (cr);
        cairo_pattern_destroy (pat);
        /* cornice */
        cairo_set_source_rgb (cr, col[0] * 0.7, col[1] * 0.7, col[2] * 0.72);
        cairo_rectangle (cr, x - 2, top, w + 4, 6);
        cairo_fill (cr);
        /* roof furniture */
        if (rnd (i, 4, 33) < 0.5)
          {
            double tx = x + w * (0.2 + 0.5 * rnd (i, 5, 33));
            cairo_set_source_rgb (cr, 0.30, 0.28, 0.27);
            cairo_rectangle (cr, tx, top - 22, 22, 18);
            cairo_fill (cr);
            cairo_rectangle (cr, tx + 3, top - 4, 3, 4);
            cairo_rectangle (cr, tx + 16, top - 4, 3, 4);
            cairo_fill (cr);
            cairo_move_to (cr, tx - 2, top - 22);
            cairo_line_to (cr, tx + 11, top - 32);
            cairo_line_to (cr, tx + 24, top - 22);
            cairo_close_path (cr);
            cairo_fill (cr);
          }
        else if (rnd (i, 6, 33) < 0.6)
          {
            cairo_set_source_rgb (cr, 0.25, 0.25, 0.27);
            cairo_rectangle (cr, x + w * 0.7, top - 40, 2, 40);
            cairo_fill (cr);
          }
        draw_windows (cr, x, top + 6, w, H - 40, 1000 + (guint32) i);
        x += w + (rnd (i, 7, 33) < 0.3 ? 6 : 0);
      }
  }

  /* street and kerb */
  cairo_set_source_rgb (cr, 0.22, 0.22, 0.23);
  cairo_rectangle (cr, 0, H - 30, W, 30);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.55, 0.54, 0.52);
  cairo_rectangle (cr, 0, H - 34, W, 4);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.85, 0.80, 0.55);
  for (int i = 0; i < 12; i++)
    {
      cairo_rectangle (cr, 20 + i * 58, H - 15, 30, 3);
      cairo_fill (cr);
    }

  cairo_destroy (cr);
  add_grain (s, 0.008, 5);
  save (s, dir, "01-city-sky.png");
  cairo_surface_destroy (s);
}

/* ---------- 02: brick wall ---------- */

static void
gen_bricks (const char *dir)
{
  const int W = 672, H = 672, BW = 96, BH = 34, M = 8; /* period 104 x 42: not a multiple of any patch */
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  Pixels p = pixels_begin (s);

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        int row = (y + 10) / (BH + M), yin = (y + 10) % (BH + M);
        int shift = (row & 1) ? (BW + M) / 2 : 0;
        int col = (x + shift + 30) / (BW + M), xin = (x + shift + 30) % (BW + M);
        double rgb[3];
        double light = 1.0 - 0.10 * (double) y / H + 0.05 * (double) x / W; /* soft light from the upper right */
        if (xin < BW && yin < BH)
          {
            /* a brick: its own tint, speckles, darker near the mortar, a lit top edge */
            double tint = rnd (col, row, 3) - 0.5, burnt = rnd (col, row, 4);
            double tex = fbm (x / 9.0, y / 9.0, 4, 5) - 0.5, speck = rnd (x, y, 6) < 0.02 ? -0.12 : 0;
            double edge = MIN (MIN (xin, BW - 1 - xin), MIN (yin, BH - 1 - yin));
            double bevel = edge < 3 ? -0.06 * (3 - edge) : 0;
            double top = yin < 3 ? 0.05 : 0;
            double dirt = fbm (x / 60.0, y / 60.0, 3, 8) > 0.62 ? -0.06 : 0;
            rgb[0] = 0.62 + 0.10 * tint - 0.12 * (burnt > 0.85);
            rgb[1] = 0.29 + 0.05 * tint - 0.06 * (burnt > 0.85);
            rgb[2] = 0.20 + 0.03 * tint - 0.03 * (burnt > 0.85);
            for (int c = 0; c < 3; c++)
              rgb[c] = (rgb[c] + 0.22 * tex * (c == 0 ? 1 : 0.7) + speck + bevel + top + dirt) * light;
          }
        else
          {
            /* mortar: pale grey, gritty, recessed (darker towards the brick above) */
            double grit = fbm (x / 3.0, y / 3.0, 3, 9) - 0.5;
            double shadow = (yin >= BH && yin < BH + 3) ? -0.10 : 0;
            rgb[0] = (0.74 + 0.18 * grit + shadow) * light;
            rgb[1] = (0.72 + 0.18 * grit + shadow) * light;
            rgb[2] = (0.67 + 0.16 * grit + shadow) * light;
          }
        set_rgb (&p, x, y, rgb);
      }
  pixels_end (s);
  save (s, dir, "02-bricks.png");
  cairo_surface_destroy (s);
}

/* ---------- 03: a document page ---------- */

/* Draws @text wrapped to @width starting at (x, *y); advances *y. */
static void
paragraph (cairo_t *cr, const char *text, double x, double *y, double width, double leading, gboolean justify)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);
  int n = (int) g_strv_length (words), i = 0;
  cairo_text_extents_t ext;
  double space;

  cairo_text_extents (cr, "a a", &ext);
  space = ext.x_advance;
  cairo_text_extents (cr, "aa", &ext);
  space -= ext.x_advance;
  while (i < n)
    {
      double line_w = 0, words_w = 0;
      int j = i;
      while (j < n)
        {
          cairo_text_extents (cr, words[j], &ext);
          if (j > i && line_w + space + ext.x_advance > width)
            break;
          line_w += (j > i ? space : 0) + ext.x_advance;
          words_w += ext.x_advance;
          j++;
        }
      {
        double gap = space, cx = x;
        if (justify && j < n && j - i > 1)
          gap = (width - words_w) / (j - i - 1);
        for (int k = i; k < j; k++)
          {
            cairo_move_to (cr, cx, *y);
            cairo_show_text (cr, words[k]);
            cairo_text_extents (cr, words[k], &ext);
            cx += ext.x_advance + gap;
          }
      }
      *y += leading;
      i = j;
    }
}

static void
gen_document (const char *dir)
{
  const int W = 672, H = 896;
  const double L = 64, R = W - 64, TW = R - L;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (s);
  cairo_font_options_t *fo = cairo_font_options_create ();
  double y;
  static const char *const body1 =
    "A vision-language model reads an image as a sequence of visual tokens. The encoder cuts the "
    "picture into square patches, fourteen pixels a side for CLIP ViT-L/14, and turns every patch "
    "into one vector. At 336 by 336 pixels that is a grid of 24 by 24, or 576 tokens, which the "
    "language model must attend to before it writes a single word of its answer.";
  static const char *const body2 =
    "Most of those tokens repeat their neighbours. A clear sky, a blank margin or a painted wall "
    "gives dozens of nearly identical patches; a brick wall gives the same brick again and again. "
    "Compression methods exploit this redundancy: pooling averages fixed cells, token merging joins "
    "the most similar pairs, pruning keeps the tokens the model attends to, and resamplers let a "
    "few learned queries summarise the whole grid.";
  static const char *const body3 =
    "Text is the hard case. A page like this one is mostly white, yet every glyph carries meaning, "
    "and averaging four patches of small print makes it unreadable. Optical compression encoders "
    "therefore keep the resolution high and compress later, after the features have been computed.";

  cairo_font_options_set_antialias (fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style (fo, CAIRO_HINT_STYLE_SLIGHT);
  cairo_set_font_options (cr, fo);
  cairo_font_options_destroy (fo);

  cairo_set_source_rgb (cr, 0.99, 0.99, 0.98);
  cairo_paint (cr);

  /* running head */
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 9);
  cairo_move_to (cr, L, 40);
  cairo_show_text (cr, "TokenScope notes  \xc2\xb7  Visual token budgets");
  cairo_move_to (cr, R - 60, 40);
  cairo_show_text (cr, "Chapter 2");
  cairo_set_line_width (cr, 0.6);
  cairo_move_to (cr, L, 47.5);
  cairo_line_to (cr, R, 47.5);
  cairo_stroke (cr);

  /* title block */
  cairo_set_source_rgb (cr, 0.08, 0.08, 0.10);
  cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 22);
  cairo_move_to (cr, L, 92);
  cairo_show_text (cr, "How Many Tokens Is a Picture Worth?");
  cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  cairo_set_source_rgb (cr, 0.25, 0.25, 0.28);
  cairo_move_to (cr, L, 116);
  cairo_show_text (cr, "Redundancy, compression ratios and what a model keeps");

  y = 156;
  cairo_set_source_rgb (cr, 0.08, 0.08, 0.10);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, L, y);
  cairo_show_text (cr, "2.1  Patches become tokens");
  y += 24;
  cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  paragraph (cr, body1, L, &y, TW, 16, TRUE);
  y += 8;
  paragraph (cr, body2, L, &y, TW, 16, TRUE);

  /* equation line */
  y += 10;
  cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, L + TW / 2 - 150, y);
  cairo_show_text (cr, "N = (H / P) \xc3\x97 (W / P),     CR = N / N\xe2\x80\xb2");
  cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_move_to (cr, R - 24, y);
  cairo_show_text (cr, "(1)");
  y += 30;

  /* a table */
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, L, y);
  cairo_show_text (cr, "2.2  Typical budgets");
  y += 22;
  {
    static const char *const rows[][4] = {
      { "Model", "Input", "Patch", "Visual tokens" },
      { "LLaVA-1.5", "336 \xc3\x97 336", "14", "576" },
      { "LLaVA-NeXT", "672 \xc3\x97 672", "14", "2 928" },
      { "Qwen2-VL", "1 120 \xc3\x97 840", "28", "1 200" },
      { "DeepSeek-OCR Base", "1 024 \xc3\x97 1 024", "16", "256" },
    };
    static const double cx[4] = { 0, 190, 330, 420 };
    cairo_set_line_width (cr, 1.0);
    cairo_move_to (cr, L, y - 14 + 0.5);
    cairo_line_to (cr, R, y - 14 + 0.5);
    cairo_stroke (cr);
    for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
      {
        cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                                r == 0 ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size (cr, 10.5);
        for (int c = 0; c < 4; c++)
          {
            cairo_move_to (cr, L + 6 + cx[c], y + 3);
            cairo_show_text (cr, rows[r][c]);
          }
        if (r == 0)
          {
            cairo_set_line_width (cr, 0.6);
            cairo_move_to (cr, L, y + 9.5);
            cairo_line_to (cr, R, y + 9.5);
            cairo_stroke (cr);
          }
        y += 19;
      }
    cairo_set_line_width (cr, 1.0);
    cairo_move_to (cr, L, y - 6 + 0.5);
    cairo_line_to (cr, R, y - 6 + 0.5);
    cairo_stroke (cr);
    cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (cr, 9.5);
    cairo_move_to (cr, L, y + 10);
    cairo_show_text (cr, "Table 1. Visual tokens per image before any compression.");
    y += 40;
  }

  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, L, y);
  cairo_show_text (cr, "2.3  Why documents resist pooling");
  y += 24;
  cairo_select_font_face (cr, "DejaVu Serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  paragraph (cr, body3, L, &y, TW, 16, TRUE);

  /* a boxed note in small print */
  y += 10;
  cairo_set_source_rgb (cr, 0.94, 0.95, 0.97);
  cairo_rectangle (cr, L, y, TW, 74);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.20, 0.35, 0.60);
  cairo_rectangle (cr, L, y, 3, 74);
  cairo_fill (cr);
  {
    double ny = y + 20;
    cairo_set_source_rgb (cr, 0.10, 0.12, 0.16);
    cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (cr, 9.5);
    paragraph (cr,
               "Try it: load this page in TokenScope, pool 2 \xc3\x97 2 and compare the SSIM with the "
               "sky photograph. The margins compress for free; the small print does not. Tokens per "
               "megapixel stay at 5 102 whatever the content, which is exactly the problem.",
               L + 14, &ny, TW - 28, 14, FALSE);
  }

  /* footer */
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 9);
  cairo_move_to (cr, W / 2.0 - 6, H - 36);
  cairo_show_text (cr, "17");

  cairo_destroy (cr);
  save (s, dir, "03-document.png");
  cairo_surface_destroy (s);
}

/* ---------- 04: a chart ---------- */

static void
gen_chart (const char *dir)
{
  const int W = 672, H = 672;
  const double X0 = 92, X1 = 630, Y0 = 560, Y1 = 110; /* plot box: data y grows upwards */
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (s);
  static const double ratios[] = { 1, 2, 4, 8, 16, 32 };
  static const struct {
    const char *name;
    double rgb[3];
    double q[6];
    int marker; /* 0 circle, 1 square, 2 triangle */
  } series[] = {
    { "Pooling k \xc3\x97 k", { 0.12, 0.47, 0.71 }, { 1.00, 0.985, 0.955, 0.90, 0.83, 0.71 }, 0 },
    { "Token merging", { 0.85, 0.37, 0.01 }, { 1.00, 0.992, 0.970, 0.93, 0.86, 0.74 }, 1 },
    { "Pruning", { 0.17, 0.63, 0.17 }, { 1.00, 0.960, 0.900, 0.80, 0.66, 0.50 }, 2 },
  };
  cairo_text_extents_t ext;

#define PX(r) (X0 + (X1 - X0) * log2 (r) / 5.0)
#define PY(q) (Y0 + (Y1 - Y0) * ((q) - 0.45) / 0.57)

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  /* title */
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.12);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 19);
  cairo_text_extents (cr, "Quality retained vs compression ratio", &ext);
  cairo_move_to (cr, (W - ext.width) / 2, 52);
  cairo_show_text (cr, "Quality retained vs compression ratio");
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.38);
  cairo_text_extents (cr, "576 visual tokens, SSIM of the reconstruction (illustrative)", &ext);
  cairo_move_to (cr, (W - ext.width) / 2, 76);
  cairo_show_text (cr, "576 visual tokens, SSIM of the reconstruction (illustrative)");

  /* acceptable band above the 0.95 threshold */
  cairo_set_source_rgb (cr, 0.93, 0.97, 0.93);
  cairo_rectangle (cr, X0, PY (1.02), X1 - X0, PY (0.95) - PY (1.02));
  cairo_fill (cr);

  /* grid */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgb (cr, 0.88, 0.88, 0.90);
  for (int i = 0; i <= 5; i++)
    {
      double gx = floor (PX (ratios[i])) + 0.5;
      cairo_move_to (cr, gx, Y1);
      cairo_line_to (cr, gx, Y0);
    }
  for (double q = 0.5; q <= 1.001; q += 0.1)
    {
      double gy = floor (PY (q)) + 0.5;
      cairo_move_to (cr, X0, gy);
      cairo_line_to (cr, X1, gy);
    }
  cairo_stroke (cr);

  /* threshold */
  cairo_set_source_rgb (cr, 0.35, 0.55, 0.35);
  cairo_set_line_width (cr, 1.5);
  {
    double dash[] = { 6, 4 };
    cairo_set_dash (cr, dash, 2, 0);
  }
  cairo_move_to (cr, X0, PY (0.95));
  cairo_line_to (cr, X1, PY (0.95));
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_font_size (cr, 11);
  cairo_move_to (cr, X1 - 98, PY (0.95) - 6);
  cairo_show_text (cr, "threshold 0.95");

  /* axes */
  cairo_set_source_rgb (cr, 0.15, 0.15, 0.18);
  cairo_set_line_width (cr, 1.5);
  cairo_move_to (cr, X0, Y1);
  cairo_line_to (cr, X0, Y0);
  cairo_line_to (cr, X1, Y0);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 12);
  for (int i = 0; i <= 5; i++)
    {
      char label[16];
      g_snprintf (label, sizeof label, "%g\xc3\x97", ratios[i]);
      cairo_text_extents (cr, label, &ext);
      cairo_move_to (cr, PX (ratios[i]) - ext.width / 2, Y0 + 22);
      cairo_show_text (cr, label);
      cairo_move_to (cr, PX (ratios[i]), Y0);
      cairo_line_to (cr, PX (ratios[i]), Y0 + 6);
    }
  for (double q = 0.5; q <= 1.001; q += 0.1)
    {
      char label[16];
      g_snprintf (label, sizeof label, "%.1f", q);
      cairo_text_extents (cr, label, &ext);
      cairo_move_to (cr, X0 - 12 - ext.width, PY (q) + ext.height / 2);
      cairo_show_text (cr, label);
      cairo_move_to (cr, X0 - 6, PY (q));
      cairo_line_to (cr, X0, PY (q));
    }
  cairo_stroke (cr);
  cairo_set_font_size (cr, 14);
  cairo_text_extents (cr, "compression ratio (original / kept tokens)", &ext);
  cairo_move_to (cr, (X0 + X1 - ext.width) / 2, Y0 + 52);
  cairo_show_text (cr, "compression ratio (original / kept tokens)");
  cairo_save (cr);
  cairo_translate (cr, 34, (Y0 + Y1) / 2);
  cairo_rotate (cr, -G_PI / 2);
  cairo_text_extents (cr, "quality retained (SSIM)", &ext);
  cairo_move_to (cr, -ext.width / 2, 0);
  cairo_show_text (cr, "quality retained (SSIM)");
  cairo_restore (cr);

  /* series */
  for (guint k = 0; k < G_N_ELEMENTS (series); k++)
    {
      cairo_set_source_rgb (cr, series[k].rgb[0], series[k].rgb[1], series[k].rgb[2]);
      cairo_set_line_width (cr, 2.5);
      for (int i = 0; i < 6; i++)
        if (i == 0)
          cairo_move_to (cr, PX (ratios[i]), PY (series[k].q[i]));
        else
          cairo_line_to (cr, PX (ratios[i]), PY (series[k].q[i]));
      cairo_stroke (cr);
      for (int i = 0; i < 6; i++)
        {
          double mx = PX (ratios[i]), my = PY (series[k].q[i]);
          if (series[k].marker == 0)
            cairo_arc (cr, mx, my, 5, 0, 2 * G_PI);
          else if (series[k].marker == 1)
            cairo_rectangle (cr, mx - 4.5, my - 4.5, 9, 9);
          else
            {
              cairo_move_to (cr, mx, my - 6);
              cairo_line_to (cr, mx + 5.5, my + 4);
              cairo_line_to (cr, mx - 5.5, my + 4);
              cairo_close_path (cr);
            }
          cairo_fill (cr);
        }
    }

  /* legend */
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, X0 + 24, Y0 - 118, 190, 96);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 0.75, 0.75, 0.78);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 13);
  for (guint k = 0; k < G_N_ELEMENTS (series); k++)
    {
      double ly = Y0 - 94 + k * 28;
      cairo_set_source_rgb (cr, series[k].rgb[0], series[k].rgb[1], series[k].rgb[2]);
      cairo_set_line_width (cr, 2.5);
      cairo_move_to (cr, X0 + 38, ly);
      cairo_line_to (cr, X0 + 70, ly);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.12);
      cairo_move_to (cr, X0 + 80, ly + 5);
      cairo_show_text (cr, series[k].name);
    }
#undef PX
#undef PY

  cairo_destroy (cr);
  save (s, dir, "04-chart.png");
  cairo_surface_destroy (s);
}

/* ---------- 05: frames of the moving ball ---------- */

static void
gen_ball_frames (const char *dir)
{
  const int W = 336, H = 336, FRAMES = 8;
  g_autofree char *sub = g_build_filename (dir, "gif-frames", NULL);

  g_mkdir_with_parents (sub, 0755);
  for (int f = 0; f < FRAMES; f++)
    {
      cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
      cairo_t *cr = cairo_create (s);
      char name[32];
      double t = (double) f / FRAMES, bx = 40 + t * 256, by = 262 - 70 * fabs (sin (t * 2 * G_PI));

      /* a flat-shaded still scene: sky, hill, house, tree (flat colours keep the GIF palette exact) */
      cairo_set_source_rgb (cr, 0.53, 0.75, 0.92);
      cairo_paint (cr);
      cairo_set_source_rgb (cr, 0.98, 0.90, 0.45);
      cairo_arc (cr, 270, 62, 26, 0, 2 * G_PI);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.96, 0.97, 0.99);
      cairo_arc (cr, 70, 70, 18, 0, 2 * G_PI);
      cairo_arc (cr, 92, 62, 24, 0, 2 * G_PI);
      cairo_arc (cr, 118, 72, 17, 0, 2 * G_PI);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.42, 0.68, 0.30);
      cairo_rectangle (cr, 0, 210, W, H - 210);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.36, 0.60, 0.26);
      cairo_rectangle (cr, 0, 290, W, H - 290);
      cairo_fill (cr);
      /* house */
      cairo_set_source_rgb (cr, 0.90, 0.84, 0.72);
      cairo_rectangle (cr, 186, 140, 104, 76);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.66, 0.22, 0.18);
      cairo_move_to (cr, 176, 142);
      cairo_line_to (cr, 238, 96);
      cairo_line_to (cr, 300, 142);
      cairo_close_path (cr);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.40, 0.28, 0.20);
      cairo_rectangle (cr, 226, 172, 22, 44);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.55, 0.75, 0.90);
      cairo_rectangle (cr, 196, 156, 20, 18);
      cairo_rectangle (cr, 260, 156, 20, 18);
      cairo_fill (cr);
      /* tree */
      cairo_set_source_rgb (cr, 0.45, 0.32, 0.20);
      cairo_rectangle (cr, 70, 150, 12, 66);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.20, 0.50, 0.22);
      cairo_arc (cr, 76, 138, 34, 0, 2 * G_PI);
      cairo_fill (cr);
      /* the moving ball and its shadow */
      cairo_set_source_rgb (cr, 0.28, 0.48, 0.20);
      cairo_save (cr);
      cairo_translate (cr, bx, 280);
      cairo_scale (cr, 1.0, 0.3);
      cairo_arc (cr, 0, 0, 14, 0, 2 * G_PI);
      cairo_restore (cr);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.86, 0.12, 0.12);
      cairo_arc (cr, bx, by, 14, 0, 2 * G_PI);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.98, 0.62, 0.62);
      cairo_arc (cr, bx - 5, by - 5, 4, 0, 2 * G_PI);
      cairo_fill (cr);

      cairo_destroy (cr);
      g_snprintf (name, sizeof name, "frame-%02d.png", f);
      save (s, sub, name);
      cairo_surface_destroy (s);
    }
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s OUTDIR\n", argv[0]);
      return 1;
    }
  g_mkdir_with_parents (argv[1], 0755);
  gen_city (argv[1]);
  gen_bricks (argv[1]);
  gen_document (argv[1]);
  gen_chart (argv[1]);
  gen_ball_frames (argv[1]);
  return 0;
}
