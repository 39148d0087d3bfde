/* The Cairo plot renderer: files by extension, pixels where the bands, curves and
 * markers must be, the hit test, bad input. */
#include <math.h>
#include <string.h>

#include "ts-plot-render.h"
#include "ts-test-util.h"

#define W 900
#define H 560

static TsPlot *
sample_plot (void)
{
  const double r[] = { 1, 2, 4, 8, 16, 32 };
  const double base[] = { 1.0, 0.99, 0.97, 0.93, 0.85, 0.75 };
  const double tome[] = { 1.0, 0.985, 0.96, 0.90, 0.80, 0.70 };
  TsPlot *p = ts_plot_new ();

  ts_plot_add_series (p, "downsample", TRUE, r, base, 6, 4);
  ts_plot_add_series (p, "tome", FALSE, r, tome, 6, 4);
  ts_plot_set_threshold (p, 0.95);
  ts_plot_set_title (p, "test");
  return p;
}

static void
pixel (const TsImage *im, double x, double y, int rgb[3])
{
  int xi = CLAMP ((int) floor (x), 0, im->width - 1), yi = CLAMP ((int) floor (y), 0, im->height - 1);
  const guint8 *p = im->data + 3 * ((gsize) yi * im->width + xi);
  rgb[0] = p[0];
  rgb[1] = p[1];
  rgb[2] = p[2];
}

static void
assert_rgb_near (const int got[3], double r, double g, double b, int tol)
{
  g_assert_cmpint (ABS (got[0] - (int) lround (r * 255)), <=, tol);
  g_assert_cmpint (ABS (got[1] - (int) lround (g * 255)), <=, tol);
  g_assert_cmpint (ABS (got[2] - (int) lround (b * 255)), <=, tol);
}

static void
test_png_pixels (void)
{
  g_autoptr (TsPlot) p = sample_plot ();
  g_autofree char *path = ts_test_path ("plot.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) im = NULL;
  double band[3], x, y;
  int rgb[3];

  g_assert_true (ts_plot_save (p, path, W, H, 1.0, &error));
  g_assert_no_error (error);
  im = ts_image_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (im->width, ==, W);
  g_assert_cmpint (im->height, ==, H);
  /* Every band's colour inside its ratio range, low in the plot where no curve passes
   * (between gridlines: 2.8x, 5.6x, 11.3x, 24x; quality 0.72 is between 0.70 and 0.75). */
  {
    const double xs[4] = { 2.8, 5.6, 11.3, 24.0 };
    for (int b = 0; b < 4; b++)
      {
        ts_plot_band_rgb (b, band);
        x = ts_plot_x_for_ratio (p, W, H, xs[b]);
        y = ts_plot_y_for_q (p, W, H, 0.72);
        pixel (im, x, y, rgb);
        assert_rgb_near (rgb, band[0], band[1], band[2], 2);
      }
  }
  /* Left of 2x there is no band: white. */
  pixel (im, ts_plot_x_for_ratio (p, W, H, 1.4), ts_plot_y_for_q (p, W, H, 0.72), rgb);
  assert_rgb_near (rgb, 1, 1, 1, 2);
  /* The tome marker at 8x is filled with the first palette colour (Tableau blue). */
  pixel (im, ts_plot_x_for_ratio (p, W, H, 8), ts_plot_y_for_q (p, W, H, 0.90), rgb);
  assert_rgb_near (rgb, 0.122, 0.467, 0.706, 6);
  /* The baseline marker at 32x is black. */
  pixel (im, ts_plot_x_for_ratio (p, W, H, 32), ts_plot_y_for_q (p, W, H, 0.75), rgb);
  assert_rgb_near (rgb, 0, 0, 0, 20);
  /* The threshold line: dark red pixels somewhere along y(0.95) between 1.2x and 1.8x. */
  {
    gboolean red = FALSE;
    y = ts_plot_y_for_q (p, W, H, 0.95);
    for (double xx = ts_plot_x_for_ratio (p, W, H, 1.2); xx < ts_plot_x_for_ratio (p, W, H, 1.8); xx += 1)
      for (int dy = -1; dy <= 1; dy++)
        {
          pixel (im, xx, y + dy, rgb);
          red |= rgb[0] > 120 && rgb[1] < 80 && rgb[2] < 80;
        }
    g_assert_true (red);
  }
}

static void
test_scale_and_vector (void)
{
  g_autoptr (TsPlot) p = sample_plot ();
  g_autofree char *png = ts_test_path ("plot2x.png");
  g_autofree char *svg = ts_test_path ("plot.svg");
  g_autofree char *pdf = ts_test_path ("plot.PDF");
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr (TsImage) im = NULL;

  g_assert_true (ts_plot_save (p, png, 400, 300, 2.0, NULL));
  im = ts_image_load (png, NULL, NULL);
  g_assert_cmpint (im->width, ==, 800);
  g_assert_cmpint (im->height, ==, 600);
  g_assert_true (ts_plot_save (p, svg, W, H, 1.0, NULL));
  g_assert_true (g_file_get_contents (svg, &text, &len, NULL));
  g_assert_nonnull (strstr (text, "<svg"));
  g_clear_pointer (&text, g_free);
  g_assert_true (ts_plot_save (p, pdf, W, H, 1.0, NULL));
  g_assert_true (g_file_get_contents (pdf, &text, &len, NULL));
  g_assert_true (len > 1000 && memcmp (text, "%PDF", 4) == 0);
}

static void
test_hit_test (void)
{
  g_autoptr (TsPlot) p = sample_plot ();
  const char *method = NULL;
  double ratio = 0, q = 0;
  double x = ts_plot_x_for_ratio (p, W, H, 16), y = ts_plot_y_for_q (p, W, H, 0.80);

  g_assert_true (ts_plot_hit_test (p, W, H, x + 2, y - 1, 8, &method, &ratio, &q));
  g_assert_cmpstr (method, ==, "tome");
  g_assert_cmpfloat (ratio, ==, 16);
  g_assert_cmpfloat (q, ==, 0.80);
  y = ts_plot_y_for_q (p, W, H, 0.85);
  g_assert_true (ts_plot_hit_test (p, W, H, x, y, 8, &method, &ratio, &q));
  g_assert_cmpstr (method, ==, "downsample");
  g_assert_false (ts_plot_hit_test (p, W, H, 5, 5, 8, &method, &ratio, &q));
}

static void
test_from_sweep_and_empty (void)
{
  g_autoptr (TsScene) scene = ts_scene_new (ts_test_gradient (112, 112), 14, TS_FEATURES_PIXEL, NULL, NULL);
  const char *methods[] = { "pool", NULL };
  TsSweepOptions o;
  g_autoptr (TsSweep) s = NULL;
  g_autoptr (TsPlot) p = NULL;
  g_autoptr (TsPlot) empty = ts_plot_new ();
  g_autofree char *path = ts_test_path ("sweep.svg");
  g_autofree char *path2 = ts_test_path ("empty.png");

  ts_sweep_options_init (&o);
  o.methods = methods;
  s = ts_sweep_run (scene, &o, NULL, NULL);
  p = ts_plot_new_from_sweep (s);
  ts_plot_set_current (p, 4, 0.9);
  g_assert_true (ts_plot_save (p, path, W, H, 1, NULL));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (ts_plot_save (empty, path2, 300, 200, 1, NULL)); /* no data still draws axes */
}

static void
test_bad_input (void)
{
  g_autoptr (TsPlot) p = sample_plot ();
  g_autofree char *gif = ts_test_path ("plot.gif");
  g_autofree char *png = ts_test_path ("tiny.png");
  g_autoptr (GError) error = NULL;

  g_assert_false (ts_plot_save (p, gif, W, H, 1, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (gif, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_assert_false (ts_plot_save (p, png, 10, H, 1, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_plot_save (p, "/nonexistent-dir/x.png", W, H, 1, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot-render/png-pixels", test_png_pixels);
  g_test_add_func ("/plot-render/scale-and-vector", test_scale_and_vector);
  g_test_add_func ("/plot-render/hit-test", test_hit_test);
  g_test_add_func ("/plot-render/from-sweep", test_from_sweep_and_empty);
  g_test_add_func ("/plot-render/bad-input", test_bad_input);
  return g_test_run ();
}
