/* test-strip-render.c: the tokens-per-frame strip, checked by its pixels. */
#include <math.h>

#include "ts-strip-render.h"
#include "ts-test-util.h"

#define W 200
#define H 50

static guint32
pixel (cairo_surface_t *s, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (s);
  return ((const guint32 *) (gconstpointer) (data + (gsize) y * cairo_image_surface_get_stride (s)))[x] & 0xffffff;
}

static guint32
rgb24 (const double rgb[3])
{
  return (guint32) lround (rgb[0] * 255) << 16 | (guint32) lround (rgb[1] * 255) << 8 | (guint32) lround (rgb[2] * 255);
}

/* Equal within Cairo's rounding of colour components. */
static gboolean
near (guint32 a, guint32 b)
{
  for (int shift = 0; shift < 24; shift += 8)
    if (ABS ((int) (a >> shift & 0xff) - (int) (b >> shift & 0xff)) > 1)
      return FALSE;
  return TRUE;
}

/* The topmost row of column @x painted in @colour, or -1. */
static int
bar_top (cairo_surface_t *s, int x, guint32 colour)
{
  for (int y = 0; y < H; y++)
    if (near (pixel (s, x, y), colour))
      return y;
  return -1;
}

static void
test_strip_bars (void)
{
  /* 4 frames of a 100-token grid: a keyframe, 10 tokens, none, 50 */
  const int tokens[] = { 100, 10, 0, 50 };
  const guint8 keys[] = { 1, 0, 0, 0 };
  TsStrip strip = { tokens, keys, 4, 100, -1 };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (s);
  guint32 bar = rgb24 (ts_strip_bar_rgb), key = rgb24 (ts_strip_key_rgb);

  ts_strip_draw (&strip, cr, W, H);
  cairo_surface_flush (s);
  /* slot centres at 25, 75, 125, 175; heights log1p(t) / log1p(100) of 50 px */
  g_assert_cmpint (bar_top (s, 25, key), ==, 0);
  g_assert_cmpint (bar_top (s, 25, bar), ==, -1);
  g_assert_cmpint (bar_top (s, 75, bar), ==, (int) ceil (H - H * log1p (10) / log1p (100)));
  g_assert_cmpint (bar_top (s, 125, bar), ==, -1); /* nothing sent: no bar */
  g_assert_cmpint (bar_top (s, 175, bar), ==, (int) ceil (H - H * log1p (50) / log1p (100)));
  g_assert_cmpfloat_with_epsilon (ts_strip_bar_fraction (50, 100), log1p (50) / log1p (100), 1e-12);
  g_assert_cmpfloat (ts_strip_bar_fraction (0, 100), ==, 0);
  g_assert_cmpfloat (ts_strip_bar_fraction (500, 100), ==, 1);
  /* the one-pixel gap between slots shows the background */
  g_assert_false (near (pixel (s, 50, H - 1), key));
  g_assert_false (near (pixel (s, 50, H - 1), bar));

  /* the current frame: a red outline around slot 2 */
  strip.current = 2;
  ts_strip_draw (&strip, cr, W, H);
  cairo_surface_flush (s);
  {
    guint32 p = pixel (s, 125, 1);
    g_assert_cmpuint (p >> 16 & 0xff, >, 200);
    g_assert_cmpuint (p >> 8 & 0xff, <, 60);
    g_assert_true (near (pixel (s, 25, 1), key)); /* other slots unmarked */
  }
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

static void
test_strip_frame_at (void)
{
  static const struct {
    guint n;
    double x;
    int frame;
  } cases[] = {
    { 4, 0, 0 }, { 4, 49.9, 0 }, { 4, 50, 1 }, { 4, 199.9, 3 }, { 4, 250, 3 }, { 4, -10, 0 }, { 4, NAN, 0 },
    { 1, 150, 0 }, { 0, 10, -1 }, { 400, 100, 200 },
  };
  double x, w;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (ts_strip_frame_at (cases[i].n, W, cases[i].x), ==, cases[i].frame);
  g_assert_cmpint (ts_strip_frame_at (4, 0, 10), ==, -1);
  ts_strip_slot (4, W, 3, &x, &w);
  g_assert_cmpfloat (x, ==, 150);
  g_assert_cmpfloat (w, ==, 50);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strip/bars", test_strip_bars);
  g_test_add_func ("/strip/frame-at", test_strip_frame_at);
  return g_test_run ();
}
