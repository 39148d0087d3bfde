/* NumPy .npy import and export: dtypes, byte orders, Fortran order, feature
 * shapes and the CLS row, round trips, and every way a file can lie. */
#include "ts-test-util.h"

#include <math.h>
#include <string.h>

/* ---------- building .npy bytes by hand ---------- */

/* A version-1 (or 2) .npy file with @header_dict (padded as NumPy does) and @len data bytes. */
static GByteArray *
npy_bytes (int version, const char *header_dict, const void *data, gsize len)
{
  GByteArray *b = g_byte_array_new ();
  g_autoptr (GString) h = g_string_new (header_dict);
  gsize pre = version == 1 ? 10 : 12;
  guint8 magic[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (guint8) version, 0 };

  while ((pre + h->len + 1) % 64 != 0)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  magic[8] = h->len & 0xFF;
  magic[9] = (h->len >> 8) & 0xFF;
  magic[10] = magic[11] = 0;
  g_byte_array_append (b, magic, (guint) pre);
  g_byte_array_append (b, (const guint8 *) h->str, (guint) h->len);
  if (len > 0)
    g_byte_array_append (b, data, (guint) len);
  return b;
}

static TsNpyArray *
parse (GByteArray *b, GError **error)
{
  return ts_npy_parse (b->data, b->len, "/some/folder/feats.npy", error);
}

static void
swap_bytes (guint8 *p, int itemsize, int count)
{
  for (int k = 0; k < count; k++, p += itemsize)
    for (int i = 0; i < itemsize / 2; i++)
      {
        guint8 t = p[i];
        p[i] = p[itemsize - 1 - i];
        p[itemsize - 1 - i] = t;
      }
}

/* ---------- dtypes and byte orders ---------- */

static const float values6[6] = { 0.0f, 1.5f, -2.25f, 1024.0f, 3.0e-3f, -65504.0f };

typedef struct {
  const char *name;
  const char *descr;
  int itemsize;
  gboolean big;
} DtypeCase;

static const DtypeCase dtype_cases[] = {
  { "f32-little", "<f4", 4, FALSE }, { "f32-big", ">f4", 4, TRUE },   { "f64-little", "<f8", 8, FALSE },
  { "f64-big", ">f8", 8, TRUE },     { "f16-little", "<f2", 2, FALSE }, { "f16-big", ">f2", 2, TRUE },
};

/* float16 bit patterns of values6, by hand: sign | exponent (bias 15) | 10-bit mantissa.
 * 3e-3 is not exact in half precision: 0x1A25 = 2^-9 * (1 + 549/1024) = 0.00300025940 */
static const guint16 half6[6] = { 0x0000, 0x3E00, 0xC080, 0x6400, 0x1A25, 0xFBFF };

static void
test_dtype (gconstpointer data)
{
  const DtypeCase *c = data;
  g_autofree char *dict = g_strdup_printf ("{'descr': '%s', 'fortran_order': False, 'shape': (2, 3), }", c->descr);
  guint8 raw[48];
  g_autoptr (GByteArray) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsNpyArray) a = NULL;

  for (int i = 0; i < 6; i++)
    {
      if (c->itemsize == 4)
        memcpy (raw + i * 4, &values6[i], 4);
      else if (c->itemsize == 8)
        {
          double v = values6[i];
          memcpy (raw + i * 8, &v, 8);
        }
      else
        memcpy (raw + i * 2, &half6[i], 2);
    }
  if (c->big == (G_BYTE_ORDER == G_LITTLE_ENDIAN))
    swap_bytes (raw, c->itemsize, 6);
  b = npy_bytes (1, dict, raw, (gsize) c->itemsize * 6);
  a = parse (b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->ndim, ==, 2);
  g_assert_cmpint (a->shape[0], ==, 2);
  g_assert_cmpint (a->shape[1], ==, 3);
  g_assert_cmpint (ts_npy_array_size (a), ==, 6);
  for (int i = 0; i < 6; i++)
    {
      float expect = c->itemsize == 2 && i == 4 ? ldexpf (1.0f + 549.0f / 1024.0f, -9) : values6[i];
      g_assert_cmpfloat (a->data[i], ==, expect);
    }
}

static void
test_half_specials (void)
{
  /* subnormal, infinity, negative zero, the largest subnormal */
  const guint16 h[4] = { 0x0001, 0x7C00, 0x8000, 0x03FF };
  g_autoptr (GByteArray) b = NULL;
  g_autoptr (TsNpyArray) a = NULL;
  guint16 le[4];

  for (int i = 0; i < 4; i++)
    le[i] = GUINT16_TO_LE (h[i]);
  b = npy_bytes (1, "{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", le, 8);
  a = parse (b, NULL);
  g_assert_nonnull (a);
  g_assert_cmpfloat (a->data[0], ==, 5.9604645e-8f); /* 2^-24 */
  g_assert_true (isinf (a->data[1]) && a->data[1] > 0);
  g_assert_cmpfloat (a->data[2], ==, 0.0f);
  g_assert_true (signbit (a->data[2]));
  g_assert_cmpfloat (a->data[3], ==, 6.0975552e-5f); /* 1023 * 2^-24 */
}

static void
test_fortran_order (void)
{
  /* a 2 x 3 array stored column by column: a[i, j] = 10 i + j */
  const float cols[6] = { 0, 10, 1, 11, 2, 12 };
  g_autoptr (GByteArray) b = npy_bytes (1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", cols, 24);
  g_autoptr (TsNpyArray) a = parse (b, NULL);
  const float c_order[6] = { 0, 1, 2, 10, 11, 12 };

  g_assert_nonnull (a);
  g_assert_cmpmem (a->data, 24, c_order, 24);
}

static void
test_fortran_3d (void)
{
  /* [2, 2, 2], a[i, j, k] = 100 i + 10 j + k; Fortran order: i fastest, then j, then k */
  float stored[8];
  int n = 0;
  g_autoptr (GByteArray) b = NULL;
  g_autoptr (TsNpyArray) a = NULL;

  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 2; j++)
      for (int i = 0; i < 2; i++)
        stored[n++] = 100 * i + 10 * j + k;
  b = npy_bytes (1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", stored, 32);
  a = parse (b, NULL);
  g_assert_nonnull (a);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      for (int k = 0; k < 2; k++)
        g_assert_cmpfloat (a->data[i * 4 + j * 2 + k], ==, 100 * i + 10 * j + k);
}

static void
test_version2_and_key_order (void)
{
  /* format 2.0 (4-byte header length), double-quoted keys in another order */
  const float v[2] = { 7, 8 };
  g_autoptr (GByteArray) b = npy_bytes (2, "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", v, 8);
  g_autoptr (TsNpyArray) a = parse (b, NULL);

  g_assert_nonnull (a);
  g_assert_cmpint (a->ndim, ==, 1);
  g_assert_cmpfloat (a->data[1], ==, 8.0f);
}

/* ---------- files written by NumPy itself (tests/golden/make_npy.py) ---------- */

static const char *const numpy_files[] = {
  "numpy-f32-6x5.npy", "numpy-f16-6x5.npy", "numpy-f64be-6x5.npy", "numpy-f32-fortran-6x5.npy", "numpy-f32-2x3x5.npy",
};

static void
test_numpy_file (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsNpyArray) a = ts_npy_read (path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (ts_npy_array_size (a), ==, 30);
  g_assert_cmpint (a->shape[a->ndim - 1], ==, 5);
  /* v[i, j] = 10 i + j / 4 over the flattened [6, 5] */
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 5; j++)
      g_assert_cmpfloat (a->data[i * 5 + j], ==, i * 10 + j / 4.0f);
}

/* ---------- features from .npy ---------- */

typedef struct {
  const char *name;
  const char *file;
  int cols, rows; /* the grid, at patch 2 */
  TsNpyCls cls;
  int first;      /* expected first value, or -1 for an error */
} FeatureCase;

static const FeatureCase feature_cases[] = {
  { "n-by-d", "numpy-f32-6x5.npy", 3, 2, TS_NPY_CLS_AUTO, 0 },
  { "rows-cols-d", "numpy-f32-2x3x5.npy", 3, 2, TS_NPY_CLS_AUTO, 0 },
  { "rows-cols-d-wrong-grid", "numpy-f32-2x3x5.npy", 2, 3, TS_NPY_CLS_AUTO, -1 }, /* same N, other shape */
  { "cls-auto-drops", "numpy-f32-6x5.npy", 5, 1, TS_NPY_CLS_AUTO, 10 },          /* 6 rows for 5 tokens */
  { "cls-yes-drops", "numpy-f32-6x5.npy", 5, 1, TS_NPY_CLS_YES, 10 },
  { "cls-no-mismatch", "numpy-f32-6x5.npy", 5, 1, TS_NPY_CLS_NO, -1 },
  { "cls-yes-mismatch", "numpy-f32-6x5.npy", 3, 2, TS_NPY_CLS_YES, -1 },        /* 6 - 1 != 6 */
  { "too-few-rows", "numpy-f32-6x5.npy", 4, 2, TS_NPY_CLS_AUTO, -1 },
  { "fortran", "numpy-f32-fortran-6x5.npy", 3, 2, TS_NPY_CLS_NO, 0 },
  { "half", "numpy-f16-6x5.npy", 3, 2, TS_NPY_CLS_NO, 0 },
};

static void
test_features_load (gconstpointer data)
{
  const FeatureCase *c = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", c->file, NULL);
  TsGrid grid;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsFeatures) f = NULL;

  g_assert_true (ts_grid_init (&grid, c->cols * 2, c->rows * 2, 2, NULL));
  f = ts_features_load_npy (path, &grid, c->cls, &error);
  if (c->first < 0)
    {
      g_assert_null (f);
      g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
      g_assert_nonnull (strstr (error->message, c->file));
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpint (f->n, ==, grid.tokens);
  g_assert_cmpint (f->d, ==, 5);
  g_assert_cmpfloat (f->data[0], ==, (float) c->first);
  /* the last value is always v[5, 4] = 51 */
  g_assert_cmpfloat (f->data[f->n * 5 - 1], ==, 51.0f);
}

static void
test_features_batch_dim (void)
{
  /* [1, N, D]: the leading batch of one is dropped */
  float v[12];
  g_autoptr (GByteArray) b = NULL;
  g_autofree char *path = NULL;
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;

  for (int i = 0; i < 12; i++)
    v[i] = (float) i;
  b = npy_bytes (1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 3), }", v, sizeof v);
  path = ts_test_write ("batch.npy", b->data, b->len);
  g_assert_true (ts_grid_init (&grid, 4, 4, 2, NULL));
  f = ts_features_load_npy (path, &grid, TS_NPY_CLS_AUTO, NULL);
  g_assert_nonnull (f);
  g_assert_cmpint (f->n, ==, 4);
  g_assert_cmpint (f->d, ==, 3);
  g_assert_cmpfloat (f->data[11], ==, 11.0f);
}

static void
test_features_wrong_rank (void)
{
  const float v[4] = { 1, 2, 3, 4 };
  g_autoptr (GByteArray) b = npy_bytes (1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", v, 16);
  g_autofree char *path = ts_test_write ("vector.npy", b->data, b->len);
  TsGrid grid;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_grid_init (&grid, 4, 4, 2, NULL));
  g_assert_null (ts_features_load_npy (path, &grid, TS_NPY_CLS_AUTO, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "1-dimensional"));
}

/* ---------- export ---------- */

static void
test_save_round_trip (void)
{
  g_autoptr (TsImage) image = ts_test_gradient (42, 28);
  TsGrid grid;
  g_autoptr (TsFeatures) f = NULL;
  g_autoptr (TsFeatures) back = NULL;
  g_autoptr (TsNpyArray) raw = NULL;
  g_autofree char *path = ts_test_path ("export.npy");
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (ts_grid_init (&grid, 42, 28, 14, NULL));
  f = ts_features_descriptor (image, &grid, NULL);
  g_assert_true (ts_features_save_npy (f, path, &error));
  g_assert_no_error (error);
  /* NumPy's layout: magic, version 1.0, header padded so the data starts on 64 bytes */
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, 8, "\x93NUMPY\x01\x00", 8);
  g_assert_cmpint ((10 + ((guint8) contents[8] | (guint8) contents[9] << 8)) % 64, ==, 0);
  g_assert_nonnull (strstr (contents + 10, "'shape': (6, 30)"));
  g_assert_cmpuint (len, ==, 10 + ((guint8) contents[8] | (guint8) contents[9] << 8) + 6 * 30 * 4);
  raw = ts_npy_read (path, NULL);
  g_assert_cmpint (raw->ndim, ==, 2);
  back = ts_features_load_npy (path, &grid, TS_NPY_CLS_NO, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back->data, 6 * 30 * 4, f->data, 6 * 30 * 4);
}

static void
test_write_1d_and_4d (void)
{
  const float v[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
  const gint64 one[1] = { 5 }, four[4] = { 1, 2, 2, 4 };
  g_autofree char *p1 = ts_test_path ("one.npy");
  g_autofree char *p4 = ts_test_path ("four.npy");
  g_autoptr (TsNpyArray) a = NULL;
  g_autoptr (TsNpyArray) b = NULL;
  g_autofree char *text = NULL;

  g_assert_true (ts_npy_write (p1, v, 1, one, NULL));
  g_assert_true (g_file_get_contents (p1, &text, NULL, NULL));
  g_assert_nonnull (strstr (text + 10, "'shape': (5,)")); /* a one-element tuple keeps its comma */
  a = ts_npy_read (p1, NULL);
  g_assert_cmpint (a->ndim, ==, 1);
  g_assert_cmpint (a->shape[0], ==, 5);
  g_assert_true (ts_npy_write (p4, v, 4, four, NULL));
  b = ts_npy_read (p4, NULL);
  g_assert_cmpint (b->ndim, ==, 4);
  g_assert_cmpmem (b->data, 64, v, 64);
}

static void
test_write_bad_path (void)
{
  g_autoptr (TsFeatures) f = ts_features_new (2, 2, NULL);
  g_autofree char *path = ts_test_path ("missing-folder/x.npy");
  g_autoptr (GError) error = NULL;

  g_assert_false (ts_features_save_npy (f, path, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
}

/* ---------- files that lie ---------- */

typedef struct {
  const char *name;
  int version;
  const char *dict; /* NULL: raw bytes below */
  int data_bytes;
  int code;
} LieCase;

static const LieCase lie_cases[] = {
  { "truncated-data", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 4), }", 120, TS_ERROR_BAD_DATA },
  { "no-data", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 0, TS_ERROR_BAD_DATA },
  { "missing-shape", 1, "{'descr': '<f4', 'fortran_order': False, }", 16, TS_ERROR_BAD_DATA },
  { "missing-descr", 1, "{'fortran_order': False, 'shape': (2, 2), }", 16, TS_ERROR_BAD_DATA },
  { "int32", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", 16, TS_ERROR_UNSUPPORTED },
  { "uint8", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", 4, TS_ERROR_UNSUPPORTED },
  { "complex64", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", 32, TS_ERROR_UNSUPPORTED },
  { "float128", 1, "{'descr': '<f16', 'fortran_order': False, 'shape': (2, 2), }", 64, TS_ERROR_UNSUPPORTED },
  { "structured", 1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, TS_ERROR_BAD_DATA },
  { "shape-over-int", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4), }", 16, TS_ERROR_BAD_DATA },
  { "shape-product-overflows", 1,
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647, 2147483647), }", 16,
    TS_ERROR_BAD_DATA },
  { "shape-negative", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", 16, TS_ERROR_BAD_DATA },
  { "shape-five-dims", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", 4, TS_ERROR_BAD_DATA },
  { "shape-not-tuple", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }", 16, TS_ERROR_BAD_DATA },
  { "shape-garbage", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2; 2), }", 16, TS_ERROR_BAD_DATA },
  { "empty-array", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 0, TS_ERROR_BAD_DATA },
  { "fortran-garbage", 1, "{'descr': '<f4', 'fortran_order': maybe, 'shape': (2, 2), }", 16, TS_ERROR_BAD_DATA },
  { "version-9", 9, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 16, TS_ERROR_UNSUPPORTED },
};

static void
test_lie (gconstpointer data)
{
  const LieCase *c = data;
  g_autofree guint8 *zeros = g_malloc0 (256);
  g_autoptr (GByteArray) b = npy_bytes (c->version, c->dict, zeros, (gsize) c->data_bytes);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsNpyArray) a = NULL;

  a = parse (b, &error);
  g_assert_null (a);
  g_assert_error (error, TS_ERROR, c->code);
  g_assert_nonnull (strstr (error->message, "feats.npy"));
}

static void
test_header_past_end (void)
{
  /* the header length field points beyond the end of the file */
  guint8 d[20] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xFF, 0x7F, '{' };
  g_autoptr (GError) error = NULL;

  g_assert_null (ts_npy_parse (d, sizeof d, "short.npy", &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
}

static void
test_not_npy (void)
{
  static const char text[] = "x,y\n1,2\n";
  g_autofree char *path = ts_test_write ("table.npy", text, sizeof text - 1);
  g_autofree char *missing = ts_test_path ("absent.npy");
  g_autoptr (GError) error = NULL;

  g_assert_null (ts_npy_read (path, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_assert_nonnull (strstr (error->message, "table.npy"));
  g_clear_error (&error);
  g_assert_null (ts_npy_parse ((const guint8 *) "\x93NUMPY", 6, "tiny.npy", &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  g_assert_null (ts_npy_read (missing, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (dtype_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/npy/dtype/%s", dtype_cases[i].name);
      g_test_add_data_func (path, &dtype_cases[i], test_dtype);
    }
  g_test_add_func ("/npy/dtype/half-specials", test_half_specials);
  g_test_add_func ("/npy/fortran/2d", test_fortran_order);
  g_test_add_func ("/npy/fortran/3d", test_fortran_3d);
  g_test_add_func ("/npy/version2-and-key-order", test_version2_and_key_order);
  for (guint i = 0; i < G_N_ELEMENTS (numpy_files); i++)
    {
      g_autofree char *path = g_strdup_printf ("/npy/numpy-file/%s", numpy_files[i]);
      g_test_add_data_func (path, numpy_files[i], test_numpy_file);
    }
  for (guint i = 0; i < G_N_ELEMENTS (feature_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/npy/features/%s", feature_cases[i].name);
      g_test_add_data_func (path, &feature_cases[i], test_features_load);
    }
  g_test_add_func ("/npy/features/batch-dim", test_features_batch_dim);
  g_test_add_func ("/npy/features/wrong-rank", test_features_wrong_rank);
  g_test_add_func ("/npy/save/round-trip", test_save_round_trip);
  g_test_add_func ("/npy/save/1d-and-4d", test_write_1d_and_4d);
  g_test_add_func ("/npy/save/bad-path", test_write_bad_path);
  for (guint i = 0; i < G_N_ELEMENTS (lie_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/npy/bad/%s", lie_cases[i].name);
      g_test_add_data_func (path, &lie_cases[i], test_lie);
    }
  g_test_add_func ("/npy/bad/header-past-end", test_header_past_end);
  g_test_add_func ("/npy/bad/not-npy", test_not_npy);
  return g_test_run ();
}
