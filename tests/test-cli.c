/* tokenscope-cli grid, quality and report: JSON keys and values, exit codes,
 * messages that name the file. Runs the real binary ($TS_CLI). */
#include "ts-test-util.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static char *
sample_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "resources", "samples", name, NULL);
}

static char *
save_image (const char *name, TsImage *image)
{
  char *path = ts_test_path (name);

  g_assert_true (ts_image_save_png (image, path, NULL));
  return path;
}

static JsonObject *
parse_object (const char *text, JsonParser **parser)
{
  g_autoptr (GError) error = NULL;

  *parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (*parser, text, -1, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (*parser)));
  return json_node_get_object (json_parser_get_root (*parser));
}

/* The object's member names, sorted and joined with commas. */
static char *
keys_of (JsonObject *o)
{
  GList *members = g_list_sort (json_object_get_members (o), (GCompareFunc) strcmp);
  g_autoptr (GString) s = g_string_new (NULL);

  for (GList *l = members; l; l = l->next)
    g_string_append_printf (s, "%s%s", s->len ? "," : "", (const char *) l->data);
  g_list_free (members);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---------- grid ---------- */

typedef struct {
  const char *name;
  int w, h;
  const char *resize, *size, *patch;
  int width, height, rows, cols, tokens, tpm;
} GridCase;

static const GridCase grid_cases[] = {
  { "square-336", 500, 400, "square", "336", "14", 336, 336, 24, 24, 576, 5102 },
  { "square-672", 500, 400, "square", "672", "14", 672, 672, 48, 48, 2304, 5102 },
  { "pad-336", 300, 200, "pad", "336", "14", 336, 336, 24, 24, 576, 5102 },
  { "fit-1024-p16", 2000, 1000, "fit", "1024", "16", 1024, 512, 32, 64, 2048, 3906 },
  { "native-p14", 100, 50, "native", "336", "14", 98, 42, 3, 7, 21, 5102 },
  { "square-224-p16", 640, 480, "square", "224", "16", 224, 224, 14, 14, 196, 3906 },
};

static void
test_grid_json (gconstpointer data)
{
  const GridCase *c = data;
  g_autoptr (TsImage) image = ts_test_gradient (c->w, c->h);
  g_autofree char *file = g_strdup_printf ("grid-%s.png", c->name);
  g_autofree char *path = save_image (file, image);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *keys = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  int status;

  status = ts_test_cli (&out, &err, "grid", path, "--resize", c->resize, "--size", c->size, "--patch", c->patch,
                        "--json", "-", NULL);
  g_assert_cmpint (status, ==, 0);
  o = parse_object (out, &parser);
  keys = keys_of (o);
  g_assert_cmpstr (keys, ==, "cols,height,patch,rows,tokens,tpm,width");
  g_assert_cmpint (json_object_get_int_member (o, "width"), ==, c->width);
  g_assert_cmpint (json_object_get_int_member (o, "height"), ==, c->height);
  g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, c->rows);
  g_assert_cmpint (json_object_get_int_member (o, "cols"), ==, c->cols);
  g_assert_cmpint (json_object_get_int_member (o, "patch"), ==, atoi (c->patch));
  g_assert_cmpint (json_object_get_int_member (o, "tokens"), ==, c->tokens);
  g_assert_cmpint ((int) lround (json_object_get_double_member (o, "tpm")), ==, c->tpm);
}

static void
test_grid_text_and_file (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (336, 336);
  g_autofree char *path = save_image ("grid-text.png", image);
  g_autofree char *json_path = ts_test_path ("grid.json");
  g_autofree char *out = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;

  /* text output by default */
  g_assert_cmpint (ts_test_cli (&out, NULL, "grid", path, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "tokens  576"));
  g_assert_nonnull (strstr (out, "tpm     5102"));
  g_clear_pointer (&out, g_free);
  /* --json FILE writes the file and nothing to standard output */
  g_assert_cmpint (ts_test_cli (&out, NULL, "grid", path, "--json", json_path, NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_file_get_contents (json_path, &contents, NULL, NULL));
  o = parse_object (contents, &parser);
  g_assert_cmpint (json_object_get_int_member (o, "tokens"), ==, 576);
}

/* ---------- quality ---------- */

static void
test_quality_json_golden (void)
{
  /* the same pair as tests/test-quality.c: skimage 0.19 gives SSIM 0.9745042200, PSNR 26.8158331705 */
  g_autoptr (TsImage) a = ts_test_gradient (64, 48);
  g_autoptr (TsImage) b = ts_test_noisy (a, 1, 20);
  g_autofree char *pa = save_image ("q-a.png", a);
  g_autofree char *pb = save_image ("q-b.png", b);
  g_autofree char *out = NULL;
  g_autofree char *keys = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;

  g_assert_cmpint (ts_test_cli (&out, NULL, "quality", pa, pb, "--json", "-", NULL), ==, 0);
  o = parse_object (out, &parser);
  keys = keys_of (o);
  g_assert_cmpstr (keys, ==, "psnr,ssim");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "ssim"), 0.9745042200, 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "psnr"), 26.8158331705, 1e-6);
}

static void
test_quality_samples_golden (void)
{
  /* two real 672 x 672 samples; skimage 0.19 (tests/golden/ssim_golden.py): SSIM 0.2698600810,
   * PSNR 9.1165972572 */
  g_autofree char *city = sample_path ("01-city-sky.png");
  g_autofree char *bricks = sample_path ("02-bricks.png");
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;

  g_assert_cmpint (ts_test_cli (&out, NULL, "quality", city, bricks, "--json", "-", NULL), ==, 0);
  o = parse_object (out, &parser);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "ssim"), 0.2698600810, 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "psnr"), 9.1165972572, 1e-6);
}

static void
test_quality_photo_golden (void)
{
  /* the CC0 cat photograph against itself rolled 3 px right (np.roll in the golden script):
   * skimage 0.19 gives SSIM 0.5937929556, PSNR 23.2062513644 */
  g_autofree char *cat = sample_path ("06-photo-cat.png");
  g_autoptr (TsImage) image = ts_image_load (cat, NULL, NULL);
  g_autoptr (TsImage) rolled = ts_image_new (image->width, image->height);
  g_autofree char *rolled_path = NULL;
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;

  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      memcpy (rolled->data + ((gsize) y * image->width + (x + 3) % image->width) * 3,
              image->data + ((gsize) y * image->width + x) * 3, 3);
  rolled_path = save_image ("cat-rolled.png", rolled);
  g_assert_cmpint (ts_test_cli (&out, NULL, "quality", cat, rolled_path, "--json", "-", NULL), ==, 0);
  o = parse_object (out, &parser);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "ssim"), 0.5937929556, 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "psnr"), 23.2062513644, 1e-6);
}

static void
test_quality_identical (void)
{
  /* identical: PSNR is infinite (null in JSON, "inf" in text), SSIM exactly 1 */
  g_autoptr (TsImage) a = ts_test_gradient (40, 40);
  g_autofree char *pa = save_image ("same.png", a);
  g_autofree char *out = NULL;
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;

  g_assert_cmpint (ts_test_cli (&out, NULL, "quality", pa, pa, "--json", "-", NULL), ==, 0);
  o = parse_object (out, &parser);
  g_assert_true (json_object_get_null_member (o, "psnr"));
  g_assert_cmpfloat (json_object_get_double_member (o, "ssim"), ==, 1.0);
  g_assert_cmpint (ts_test_cli (&text, NULL, "quality", pa, pa, NULL), ==, 0);
  g_assert_nonnull (strstr (text, "psnr  inf"));
  g_assert_nonnull (strstr (text, "ssim  1.000000"));
}

/* ---------- exit codes ---------- */

typedef enum { FILE_NONE, FILE_MISSING, FILE_TEXT_PNG, FILE_GOOD, FILE_SMALL } FileKind;

typedef struct {
  const char *name;
  const char *args[8]; /* "@" is replaced by the file of @file */
  FileKind file;
  int status;
  const char *stderr_has; /* NULL: nothing checked; "@" means the file's base name */
} ExitCase;

static const ExitCase exit_cases[] = {
  { "no-command", { NULL }, FILE_NONE, 1, "Usage" },
  { "unknown-command", { "frobnicate", NULL }, FILE_NONE, 1, "frobnicate" },
  { "help", { "--help", NULL }, FILE_NONE, 0, NULL },
  { "version", { "--version", NULL }, FILE_NONE, 0, NULL },
  { "grid-help", { "grid", "--help", NULL }, FILE_NONE, 0, NULL },
  { "grid-no-image", { "grid", NULL }, FILE_NONE, 1, "IMAGE" },
  { "grid-two-images", { "grid", "@", "@", NULL }, FILE_GOOD, 1, "IMAGE" },
  { "grid-unknown-option", { "grid", "@", "--bogus", NULL }, FILE_GOOD, 1, "bogus" },
  { "grid-bad-patch", { "grid", "@", "--patch", "99", NULL }, FILE_GOOD, 1, "99" },
  { "grid-bad-resize", { "grid", "@", "--resize", "stretch", NULL }, FILE_GOOD, 1, "stretch" },
  { "grid-size-below-patch", { "grid", "@", "--resize", "fit", "--size", "8", NULL }, FILE_GOOD, 1, "size" },
  { "grid-bad-alpha", { "grid", "@", "--alpha", "pink", NULL }, FILE_GOOD, 1, "pink" },
  { "grid-missing-file", { "grid", "@", NULL }, FILE_MISSING, 2, "@" },
  { "grid-text-named-png", { "grid", "@", NULL }, FILE_TEXT_PNG, 2, "@" },
  { "grid-too-large", { "grid", "@", "--max-megapixels", "0.001", NULL }, FILE_GOOD, 2, "@" },
  { "grid-image-below-patch", { "grid", "@", "--resize", "native", "--patch", "64", NULL }, FILE_SMALL, 0, NULL },
  { "quality-one-image", { "quality", "@", NULL }, FILE_GOOD, 1, "two images" },
  { "quality-missing-file", { "quality", "@", "@", NULL }, FILE_MISSING, 2, "@" },
  { "quality-text-named-png", { "quality", "@", "@", NULL }, FILE_TEXT_PNG, 2, "@" },
  { "report-two-images", { "report", "@", "@", NULL }, FILE_GOOD, 1, "at most one" },
  { "report-missing-file", { "report", "@", NULL }, FILE_MISSING, 2, "@" },
  { "report-text-named-png", { "report", "@", NULL }, FILE_TEXT_PNG, 2, "@" },
  { "report-bad-patch", { "report", "--patch", "1", NULL }, FILE_NONE, 1, "patch" },
  { "report-too-large", { "report", "--max-megapixels", "0.1", NULL }, FILE_NONE, 2, "01-city-sky.png" },
  /* every subcommand's argument count (ts_cli_parse_args): the message names the command */
  { "quality-three-images", { "quality", "@", "@", "@", NULL }, FILE_GOOD, 1, "quality: expects two images A and B" },
  { "compress-no-image", { "compress", NULL }, FILE_NONE, 1, "compress: expects exactly one IMAGE" },
  { "compress-two-images", { "compress", "@", "@", NULL }, FILE_GOOD, 1, "compress: expects exactly one IMAGE" },
  { "attention-no-image", { "attention", "--global", NULL }, FILE_NONE, 1, "attention: expects exactly one IMAGE" },
  { "sweep-two-images", { "sweep", "@", "@", NULL }, FILE_GOOD, 1, "sweep: expects exactly one IMAGE" },
  { "entropy-no-image", { "entropy", NULL }, FILE_NONE, 1, "entropy: expects exactly one IMAGE" },
  { "budget-no-image", { "budget", "--context", "2048", "--text", "100", NULL }, FILE_NONE, 1,
    "budget: expects exactly one IMAGE" },
  { "vlm-tokens-nothing", { "vlm-tokens", NULL }, FILE_NONE, 1, "vlm-tokens: expects one IMAGE or a size WxH" },
  { "video-two", { "video", "@", "@", NULL }, FILE_GOOD, 1, "video: expects one animated GIF or a folder of frames" },
  { "dataset-no-folder", { "dataset", NULL }, FILE_NONE, 1, "dataset: expects one DIR or LISTFILE" },
  { "summarize-no-run", { "summarize", NULL }, FILE_NONE, 1, "summarize: expects at least one dataset output folder" },
  { "settings-nothing", { "settings", NULL }, FILE_NONE, 1, "settings: expects 'export' or 'check FILE'" },
  { "settings-three", { "settings", "check", "@", "@", NULL }, FILE_GOOD, 1, "settings: expects 'export' or 'check FILE'" },
  { "settings-unknown-word", { "settings", "import", NULL }, FILE_NONE, 1, "settings: expects 'export' or 'check FILE'" },
  { "model-info-no-file", { "model", "info", NULL }, FILE_NONE, 1, "model info: expects exactly one FILE" },
  { "model-features-two", { "model", "features", "@", "@", NULL }, FILE_GOOD, 1,
    "model features: expects exactly one IMAGE" },
  { "model-tome-no-image", { "model", "tome", NULL }, FILE_NONE, 1, "model tome: expects exactly one IMAGE" },
  { "sweep-unknown-option", { "sweep", "@", "--bogus", NULL }, FILE_GOOD, 1, "see 'tokenscope-cli sweep --help'" },
};

static void
test_exit_code (gconstpointer data)
{
  const ExitCase *c = data;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[9] = { NULL };
  int status;

  switch (c->file)
    {
    case FILE_NONE:
      break;
    case FILE_MISSING:
      file = g_strdup ("no-such-image.png");
      path = ts_test_path (file);
      break;
    case FILE_TEXT_PNG:
      file = g_strdup ("shopping-list.png");
      path = ts_test_write (file, "milk\neggs\n", 10);
      break;
    case FILE_GOOD:
    case FILE_SMALL:
      {
        g_autoptr (TsImage) image = c->file == FILE_GOOD ? ts_test_gradient (120, 90) : ts_test_gradient (20, 30);
        file = g_strdup_printf ("exit-%s.png", c->name);
        path = save_image (file, image);
      }
      break;
    default:
      g_assert_not_reached ();
    }
  for (int i = 0; c->args[i]; i++)
    argv[i] = strcmp (c->args[i], "@") == 0 ? path : c->args[i];
  status = ts_test_cli (&out, &err, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], NULL);
  g_assert_cmpint (status, ==, c->status);
  if (c->stderr_has != NULL)
    g_assert_nonnull (strstr (err, strcmp (c->stderr_has, "@") == 0 ? file : c->stderr_has));
  if (c->status == 0 && c->args[0] && strstr (c->args[0], "--") == NULL && c->args[1] && strcmp (c->args[1], "--help") == 0)
    g_assert_nonnull (strstr (out, "Examples"));
}

static void
test_quality_size_mismatch (void)
{
  g_autoptr (TsImage) a = ts_test_gradient (40, 30);
  g_autoptr (TsImage) b = ts_test_gradient (30, 40);
  g_autofree char *pa = save_image ("wide.png", a);
  g_autofree char *pb = save_image ("tall.png", b);
  g_autofree char *err = NULL;

  g_assert_cmpint (ts_test_cli (NULL, &err, "quality", pa, pb, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "wide.png"));
  g_assert_nonnull (strstr (err, "tall.png"));
  g_assert_nonnull (strstr (err, "40 x 30"));
}

/* ---------- report ---------- */

static void
test_report_embedded (void)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (ts_test_cli (&out, NULL, "report", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "01-city-sky.png"));
  g_assert_nonnull (strstr (out, "672 x 672"));
  g_assert_nonnull (strstr (out, "tokens 2304 (48 rows x 48 cols)"));
  g_assert_nonnull (strstr (out, "5102 tokens per megapixel"));
  g_assert_nonnull (strstr (out, "near-duplicates"));
  g_assert_nonnull (strstr (out, "pool 2x2    576 tokens  CR   4.0"));
  g_assert_nonnull (strstr (out, "pool 4x4    144 tokens  CR  16.0"));
}

static void
test_report_resize (void)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (ts_test_cli (&out, NULL, "report", "--resize", "square", "--size", "336", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "resize square -> 336 x 336, patch 14"));
  g_assert_nonnull (strstr (out, "tokens 576"));
}

static void
test_report_gif (void)
{
  g_autofree char *gif = sample_path ("05-moving-ball.gif");
  g_autofree char *out = NULL;

  g_assert_cmpint (ts_test_cli (&out, NULL, "report", gif, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "05-moving-ball.gif (gif, 336 x 336, 8 frames, 0.80 s)"));
  g_assert_nonnull (strstr (out, "tokens 576"));
}

static void
test_report_redundancy_order (void)
{
  /* the teaching point of the samples: the chart repeats far more than the brick wall */
  g_autofree char *chart = sample_path ("04-chart.png");
  g_autofree char *bricks = sample_path ("02-bricks.png");
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  const char *pa, *pb;

  g_assert_cmpint (ts_test_cli (&a, NULL, "report", chart, NULL), ==, 0);
  g_assert_cmpint (ts_test_cli (&b, NULL, "report", bricks, NULL), ==, 0);
  pa = strstr (a, "near-duplicates ");
  pb = strstr (b, "near-duplicates ");
  g_assert_nonnull (pa);
  g_assert_nonnull (pb);
  g_assert_cmpint (atoi (pa + 16), >, atoi (pb + 16) + 30);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (grid_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/cli/grid/%s", grid_cases[i].name);
      g_test_add_data_func (path, &grid_cases[i], test_grid_json);
    }
  g_test_add_func ("/cli/grid/text-and-file", test_grid_text_and_file);
  g_test_add_func ("/cli/quality/json-golden", test_quality_json_golden);
  g_test_add_func ("/cli/quality/samples-golden", test_quality_samples_golden);
  g_test_add_func ("/cli/quality/photo-golden", test_quality_photo_golden);
  g_test_add_func ("/cli/quality/identical", test_quality_identical);
  g_test_add_func ("/cli/quality/size-mismatch", test_quality_size_mismatch);
  for (guint i = 0; i < G_N_ELEMENTS (exit_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/cli/exit/%s", exit_cases[i].name);
      g_test_add_data_func (path, &exit_cases[i], test_exit_code);
    }
  g_test_add_func ("/cli/report/embedded", test_report_embedded);
  g_test_add_func ("/cli/report/resize", test_report_resize);
  g_test_add_func ("/cli/report/gif", test_report_gif);
  g_test_add_func ("/cli/report/redundancy-order", test_report_redundancy_order);
  return g_test_run ();
}
