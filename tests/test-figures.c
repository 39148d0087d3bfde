/* Figures written by the CLI: --overlay on attention (and compress), as PNG, SVG and PDF. */
#include <string.h>

#include "ts-test-util.h"

static char *
sample (void)
{
  static char *path;

  if (path == NULL)
    {
      g_autoptr (TsImage) img = ts_test_gradient (112, 84);
      path = ts_test_path ("figure-src.png");
      g_assert_true (ts_image_save_png (img, path, NULL));
    }
  return path;
}

static void
test_attention_overlay_png (void)
{
  g_autofree char *out = ts_test_path ("att-overlay.png");
  g_autoptr (TsImage) fig = NULL;
  g_autoptr (TsImage) src = NULL;
  int differs = 0;

  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", sample (), "--query", "2,3", "--overlay", out, NULL), ==, 0);
  fig = ts_image_load (out, NULL, NULL);
  src = ts_image_load (sample (), NULL, NULL);
  g_assert_nonnull (fig);
  /* native resolution: the figure is the working image's size */
  g_assert_cmpint (fig->width, ==, 112);
  g_assert_cmpint (fig->height, ==, 84);
  /* the heatmap and grid change the picture */
  for (gsize i = 0; i < (gsize) 112 * 84 * 3; i++)
    differs += fig->data[i] != src->data[i];
  g_assert_cmpint (differs, >, 112 * 84);
}

static void
test_attention_overlay_vector (void)
{
  g_autofree char *svg = ts_test_path ("att-overlay.svg");
  g_autofree char *pdf = ts_test_path ("att-overlay.pdf");
  g_autofree char *text = NULL;
  gsize len;

  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", sample (), "--global", "--overlay", svg, NULL), ==, 0);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", sample (), "--distinct", "--overlay", pdf, NULL), ==, 0);
  g_assert_true (g_file_get_contents (svg, &text, &len, NULL));
  g_assert_nonnull (strstr (text, "<svg"));
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (pdf, &text, &len, NULL));
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
}

static void
test_overlay_bad_extension (void)
{
  g_autofree char *out = ts_test_path ("att-overlay.bmp");
  g_autofree char *err = NULL;

  g_assert_cmpint (ts_test_cli (NULL, &err, "attention", sample (), "--global", "--overlay", out, NULL), !=, 0);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_compress_overlay (void)
{
  g_autofree char *png = ts_test_path ("compress-overlay.png");
  g_autofree char *pdf = ts_test_path ("compress-overlay.pdf");
  g_autofree char *text = NULL;
  g_autoptr (TsImage) fig = NULL;
  g_autoptr (TsImage) src = NULL;
  int differs = 0;

  g_assert_cmpint (ts_test_cli (NULL, NULL, "compress", sample (), "--method", "pool", "--ratio", "4", "--overlay", png,
                                NULL),
                   ==, 0);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "compress", sample (), "--method", "tome", "--ratio", "4", "--overlay", pdf,
                                NULL),
                   ==, 0);
  fig = ts_image_load (png, NULL, NULL);
  src = ts_image_load (sample (), NULL, NULL);
  g_assert_nonnull (fig);
  g_assert_cmpint (fig->width, ==, 112);
  g_assert_cmpint (fig->height, ==, 84);
  /* 2x2 pooling draws token borders every 28 pixels and fills tokens with their mean */
  for (gsize i = 0; i < (gsize) 112 * 84 * 3; i++)
    differs += fig->data[i] != src->data[i];
  g_assert_cmpint (differs, >, 112 * 84);
  g_assert_true (g_file_get_contents (pdf, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/attention-overlay/png", test_attention_overlay_png);
  g_test_add_func ("/figures/attention-overlay/svg-pdf", test_attention_overlay_vector);
  g_test_add_func ("/figures/overlay-bad-extension", test_overlay_bad_extension);
  g_test_add_func ("/figures/compress-overlay", test_compress_overlay);
  return g_test_run ();
}
