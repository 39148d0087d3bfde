/* test-overlay-render.c: the Cairo-only overlay drawing shared by GUI and CLI. */
#include <math.h>

#include "ts-overlay-render.h"
#include "ts-test-util.h"

/* A 4 x 4-patch solid grey scene (P = 8) pooled 2 x 2: four tokens. */
static TsScene *
grey_scene (void)
{
  g_autoptr (GError) error = NULL;
  TsScene *scene = ts_scene_new (ts_test_solid (32, 32, 100, 100, 100), 8, TS_FEATURES_PIXEL, NULL, &error);

  g_assert_no_error (error);
  return scene;
}

static guint32
pixel_at (cairo_surface_t *s, int x, int y)
{
  return ((guint32 *) (gpointer) (cairo_image_surface_get_data (s) + y * cairo_image_surface_get_stride (s)))[x]
         & 0xffffff;
}

static cairo_surface_t *
render (const TsScene *scene, const TsOverlay *o, const TsOverlayOptions *opts)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, scene->image->width, scene->image->height);
  cairo_surface_t *img = ts_image_to_surface (scene->image);
  cairo_t *cr = cairo_create (s);

  cairo_set_source_surface (cr, img, 0, 0);
  cairo_paint (cr);
  ts_overlay_draw (o, cr, opts);
  cairo_destroy (cr);
  cairo_surface_destroy (img);
  cairo_surface_flush (s);
  return s;
}

/* Borders lie exactly on token boundaries: x = 16 is one, x = 8 is not. */
static void
test_overlay_borders (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  g_autoptr (TsAssignment) a = ts_pool (scene, 2, TS_POOL_AVG, NULL);
  g_autoptr (TsOverlay) o = ts_overlay_new (&scene->grid, a, NULL, NULL);
  TsOverlayOptions opts;
  cairo_surface_t *s;

  ts_overlay_options_init (&opts);
  opts.grid = FALSE;
  opts.fill = TS_GROUP_FILL_NONE;
  s = render (scene, o, &opts);
  g_assert_cmpuint (pixel_at (s, 16, 4) & 0xff, >=, 0xf0); /* the light line on the border */
  g_assert_cmpuint (pixel_at (s, 8, 4), ==, 0x646464);     /* untouched inside a token */
  g_assert_cmpuint (pixel_at (s, 4, 16) & 0xff, >=, 0xf0);
  g_assert_cmpuint (pixel_at (s, 14, 4) & 0xff, <, 0x64);   /* the dark halo beside it */
  g_assert_cmpuint (pixel_at (s, 28, 28), ==, 0x646464);
  cairo_surface_destroy (s);
}

/* Colour per group: the four pooled tokens get four different colours. */
static void
test_overlay_group_colors (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  g_autoptr (TsAssignment) a = ts_pool (scene, 2, TS_POOL_AVG, NULL);
  g_autoptr (TsOverlay) o = ts_overlay_new (&scene->grid, a, NULL, NULL);
  TsOverlayOptions opts;
  cairo_surface_t *s;
  guint32 c[4];

  ts_overlay_options_init (&opts);
  opts.grid = opts.borders = FALSE;
  opts.fill = TS_GROUP_FILL_COLOR;
  opts.fill_opacity = 1.0;
  s = render (scene, o, &opts);
  c[0] = pixel_at (s, 4, 4);
  c[1] = pixel_at (s, 20, 4);
  c[2] = pixel_at (s, 4, 20);
  c[3] = pixel_at (s, 20, 20);
  g_assert_cmpuint (pixel_at (s, 12, 12), ==, c[0]); /* the same token, the same colour */
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      g_assert_cmpuint (c[i], !=, c[j]);
  cairo_surface_destroy (s);
}

/* The heat map paints patch t with ts_heat_color (heat[t]). */
static void
test_overlay_heatmap (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  float heat[16] = { 0 };
  g_autoptr (TsOverlay) o = NULL;
  TsOverlayOptions opts;
  cairo_surface_t *s;
  double rgb[3];
  guint32 want;

  heat[5] = 1.0f;
  o = ts_overlay_new (&scene->grid, NULL, NULL, heat);
  ts_overlay_options_init (&opts);
  opts.grid = FALSE;
  opts.heatmap = TRUE;
  opts.heat_opacity = 1.0;
  s = render (scene, o, &opts);
  ts_heat_color (1.0, rgb);
  want = (guint32) (rgb[0] * 255) << 16 | (guint32) (rgb[1] * 255) << 8 | (guint32) (rgb[2] * 255);
  g_assert_cmpuint (pixel_at (s, 12, 12), ==, want);   /* patch 5 = row 1, col 1 */
  ts_heat_color (0.0, rgb);
  want = (guint32) (rgb[0] * 255) << 16 | (guint32) (rgb[1] * 255) << 8 | (guint32) (rgb[2] * 255);
  g_assert_cmpuint (pixel_at (s, 28, 28), ==, want);
  cairo_surface_destroy (s);
}

/* Dropped patches are darkened, kept ones are not. */
static void
test_overlay_dropped (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  g_autoptr (TsAssignment) a = ts_assignment_identity (scene->features, NULL);
  g_autoptr (TsOverlay) o = NULL;
  TsOverlayOptions opts;
  cairo_surface_t *s;

  /* drop patch 0 by hand: groups -1, renumber the rest */
  a->groups[0] = -1;
  for (int i = 1; i < 16; i++)
    a->groups[i] = i - 1;
  a->n_out = 15;
  o = ts_overlay_new (&scene->grid, a, NULL, NULL);
  ts_overlay_options_init (&opts);
  opts.grid = opts.borders = FALSE;
  opts.fill = TS_GROUP_FILL_NONE;
  s = render (scene, o, &opts);
  g_assert_cmpuint (pixel_at (s, 4, 4) & 0xff, <, 0x30);
  g_assert_cmpuint (pixel_at (s, 12, 4), ==, 0x646464);
  cairo_surface_destroy (s);
}

/* A video frame's changed tokens: static patches darkened to 45 %, changed
 * ones kept and outlined in orange; without the option nothing changes. */
static void
test_overlay_changed (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  g_autoptr (TsOverlay) o = ts_overlay_new (&scene->grid, NULL, NULL, NULL);
  guint8 mask[16] = { 0 };
  TsOverlayOptions opts;
  cairo_surface_t *s;

  mask[5] = 1; /* row 1, col 1: pixels 8..15 */
  ts_overlay_set_changed (o, mask);
  ts_overlay_options_init (&opts);
  opts.grid = opts.borders = FALSE;
  opts.fill = TS_GROUP_FILL_NONE;
  s = render (scene, o, &opts);
  g_assert_cmpuint (pixel_at (s, 28, 28), ==, 0x646464); /* off: untouched */
  cairo_surface_destroy (s);

  opts.changed = TRUE;
  s = render (scene, o, &opts);
  g_assert_cmpuint (pixel_at (s, 28, 28) & 0xff, ==, (guint32) lround (100 * 0.45)); /* static: dimmed */
  g_assert_cmpuint (pixel_at (s, 12, 12), ==, 0x646464);                           /* changed: inside kept */
  g_assert_cmpuint (pixel_at (s, 9, 12) >> 16 & 0xff, >, 0xa0);                   /* its orange outline */
  g_assert_cmpuint (pixel_at (s, 9, 12) & 0xff, <, 0x40);
  cairo_surface_destroy (s);

  /* NULL removes the mask */
  ts_overlay_set_changed (o, NULL);
  s = render (scene, o, &opts);
  g_assert_cmpuint (pixel_at (s, 28, 28), ==, 0x646464);
  cairo_surface_destroy (s);
}

static void
test_overlay_files (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  g_autoptr (TsAssignment) a = ts_pool (scene, 2, TS_POOL_AVG, NULL);
  g_autoptr (TsOverlay) o = ts_overlay_new (&scene->grid, a, scene->image, NULL);
  static const struct { const char *name; const char *magic; } files[] = {
    { "ov.png", "\x89PNG" }, { "ov.svg", "<?xml" }, { "ov.pdf", "%PDF" }, { "OV.PNG", "\x89PNG" },
  };
  TsOverlayOptions opts;

  ts_overlay_options_init (&opts);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = ts_test_path (files[i].name);
      g_autofree char *data = NULL;
      g_autoptr (GError) error = NULL;
      gsize len;

      g_assert_true (ts_overlay_render_file (scene->image, o, &opts, path, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_true (g_str_has_prefix (data, files[i].magic));
    }
  {
    g_autofree char *path = ts_test_path ("ov.png");
    g_autoptr (TsImage) back = ts_image_load (path, NULL, NULL);
    g_assert_nonnull (back);
    g_assert_cmpint (back->width, ==, 32);
    g_assert_cmpint (back->height, ==, 32);
  }
}

static void
test_overlay_bad_input (void)
{
  g_autoptr (TsScene) scene = grey_scene ();
  g_autoptr (TsOverlay) o = ts_overlay_new (&scene->grid, NULL, NULL, NULL);
  g_autofree char *path = ts_test_path ("ov.bmp");
  g_autofree char *nodir = ts_test_path ("no/such/dir/ov.png");
  g_autoptr (GError) error = NULL;
  TsOverlayOptions opts;

  ts_overlay_options_init (&opts);
  g_assert_false (ts_overlay_render_file (scene->image, o, &opts, path, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_overlay_render_file (NULL, o, &opts, path, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_overlay_render_file (scene->image, o, &opts, nodir, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_overlay_colormap (void)
{
  double lo[3], hi[3], mid[3];

  ts_heat_color (0, lo);
  ts_heat_color (1, hi);
  ts_heat_color (0.5, mid);
  /* dark to light, monotone in luminance */
  g_assert_cmpfloat (lo[0] + lo[1] + lo[2], <, mid[0] + mid[1] + mid[2]);
  g_assert_cmpfloat (mid[0] + mid[1] + mid[2], <, hi[0] + hi[1] + hi[2]);
  ts_heat_color (NAN, mid);
  g_assert_cmpfloat (mid[0], ==, lo[0]);
  ts_heat_color (7, mid);
  g_assert_cmpfloat (mid[2], ==, hi[2]);
}

/* A VLM's tiling over the working image, by hand: a 600 x 400 content padded
 * to 672 x 672 and cut into 2 x 2 tiles of 336, over a 300 x 200 working
 * image: 0.5 image pixels per model pixel, padding 36 x 136 model pixels a
 * side -> the canvas starts at (-18, -68), tiles are 168 wide, and the inner
 * tile edges fall at x = 150 and y = 100. */
static void
test_overlay_vlm_layout (void)
{
  TsVlmCount c = { 0 };
  TsVlmLayout l;
  cairo_rectangle_t r;

  c.resized_width = c.resized_height = 672;
  c.content_width = 600;
  c.content_height = 400;
  c.tile_cols = c.tile_rows = 2;
  c.tile_width = c.tile_height = 336;
  c.unit = 14;
  g_assert_true (ts_vlm_layout_init (&l, &c, 300, 200));
  g_assert_cmpfloat_with_epsilon (l.scale_x, 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (l.x, -18, 1e-12);
  g_assert_cmpfloat_with_epsilon (l.y, -68, 1e-12);
  g_assert_cmpfloat_with_epsilon (l.width, 336, 1e-12);
  g_assert_cmpfloat_with_epsilon (l.unit_x, 7, 1e-12);
  g_assert_cmpint (l.cols * l.rows, ==, 4);
  ts_vlm_layout_tile (&l, 3, &r); /* bottom right */
  g_assert_cmpfloat_with_epsilon (r.x, 150, 1e-12);
  g_assert_cmpfloat_with_epsilon (r.y, 100, 1e-12);
  g_assert_cmpfloat_with_epsilon (r.width, 168, 1e-12);
  g_assert_cmpfloat_with_epsilon (r.height, 168, 1e-12);

  /* a model that does not tile: one tile, the resized image */
  c.tile_cols = c.tile_rows = c.tile_width = c.tile_height = 0;
  g_assert_true (ts_vlm_layout_init (&l, &c, 300, 200));
  g_assert_cmpint (l.cols, ==, 1);
  g_assert_cmpint (l.rows, ==, 1);
  ts_vlm_layout_tile (&l, 0, &r);
  g_assert_cmpfloat_with_epsilon (r.width, 336, 1e-12);

  /* nothing to draw */
  g_assert_false (ts_vlm_layout_init (&l, NULL, 300, 200));
  g_assert_false (ts_vlm_layout_init (&l, &c, 0, 200));
  c.content_width = 0;
  g_assert_false (ts_vlm_layout_init (&l, &c, 300, 200));
}

/* LLaVA-NeXT on 672 x 504 (core/ts-vlm.h) over its 336 x 252 working image:
 * the tiles cover the canvas edge to edge and the padding is even. */
static void
test_overlay_vlm_model (void)
{
  TsVlmCount c;
  TsVlmLayout l;
  cairo_rectangle_t first, last;

  g_assert_true (ts_vlm_count (TS_VLM_LLAVA_NEXT, 672, 504, NULL, &c, NULL));
  g_assert_cmpint (c.tile_cols * c.tile_rows, >, 1);
  g_assert_true (ts_vlm_layout_init (&l, &c, 336, 252));
  ts_vlm_layout_tile (&l, 0, &first);
  ts_vlm_layout_tile (&l, l.cols * l.rows - 1, &last);
  g_assert_cmpfloat_with_epsilon (first.x, l.x, 1e-9);
  g_assert_cmpfloat_with_epsilon (first.y, l.y, 1e-9);
  g_assert_cmpfloat_with_epsilon (last.x + last.width, l.x + l.width, 1e-6);
  g_assert_cmpfloat_with_epsilon (last.y + last.height, l.y + l.height, 1e-6);
  g_assert_cmpfloat_with_epsilon (l.x + l.width / 2, 336 / 2.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (l.y + l.height / 2, 252 / 2.0, 1e-6);
  g_assert_cmpfloat (l.x, <=, 0);
  g_assert_cmpfloat (l.y, <=, 0);
}

/* Pixels of the tiling drawn over a grey 300 x 200 image placed at (50, 100)
 * on a black 400 x 400 surface (the layout of test_overlay_vlm_layout). */
static void
test_overlay_vlm_draw (void)
{
  TsVlmCount c = { 0 };
  TsVlmLayout l;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 400, 400);
  cairo_t *cr = cairo_create (s);

  c.resized_width = c.resized_height = 672;
  c.content_width = 600;
  c.content_height = 400;
  c.tile_cols = c.tile_rows = 2;
  c.tile_width = c.tile_height = 336;
  g_assert_true (ts_vlm_layout_init (&l, &c, 300, 200));
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_paint (cr);
  cairo_translate (cr, 50, 100);
  cairo_set_source_rgb (cr, 100 / 255.0, 100 / 255.0, 100 / 255.0);
  cairo_rectangle (cr, 0, 0, 300, 200);
  cairo_fill (cr);
  ts_overlay_draw_vlm (cr, &l, NULL, 1.0);
  cairo_destroy (cr);
  cairo_surface_flush (s);

  /* the inner tile edges at image x = 150 and y = 100: bright cyan, no red */
  g_assert_cmpuint ((pixel_at (s, 50 + 150, 100 + 50) >> 8) & 0xff, >=, 0xe0);
  g_assert_cmpuint (pixel_at (s, 50 + 150, 100 + 50) >> 16, <, 0x60);
  g_assert_cmpuint ((pixel_at (s, 50 + 75, 100 + 100) >> 8) & 0xff, >=, 0xe0);
  /* a dark halo beside the line, the tile inside untouched */
  g_assert_cmpuint (pixel_at (s, 50 + 147, 100 + 50) & 0xff, <, 0x64);
  g_assert_cmpuint (pixel_at (s, 50 + 75, 100 + 50), ==, 0x646464);
  /* the canvas's outer edge in the padding above the image (image y = -68) */
  g_assert_cmpuint ((pixel_at (s, 50 + 75, 100 - 68) >> 8) & 0xff, >=, 0xe0);
  /* the padding is shaded, outside the canvas stays black */
  g_assert_cmpuint (pixel_at (s, 50 + 75, 100 - 30), !=, 0);
  g_assert_cmpuint (pixel_at (s, 50 + 75, 100 - 30), !=, 0x646464);
  g_assert_cmpuint (pixel_at (s, 50 + 75, 100 - 90), ==, 0);
  g_assert_cmpuint (pixel_at (s, 50 + 75, 100 + 200 + 90), ==, 0);
  cairo_surface_destroy (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/overlay/borders", test_overlay_borders);
  g_test_add_func ("/overlay/group-colors", test_overlay_group_colors);
  g_test_add_func ("/overlay/heatmap", test_overlay_heatmap);
  g_test_add_func ("/overlay/dropped", test_overlay_dropped);
  g_test_add_func ("/overlay/files", test_overlay_files);
  g_test_add_func ("/overlay/bad-input", test_overlay_bad_input);
  g_test_add_func ("/overlay/colormap", test_overlay_colormap);
  g_test_add_func ("/overlay/vlm-layout", test_overlay_vlm_layout);
  g_test_add_func ("/overlay/vlm-model", test_overlay_vlm_model);
  g_test_add_func ("/overlay/vlm-draw", test_overlay_vlm_draw);
  g_test_add_func ("/overlay/changed", test_overlay_changed);
  return g_test_run ();
}
