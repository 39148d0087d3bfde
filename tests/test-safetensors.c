/* safetensors reader: dtypes, metadata, the golden fixtures, and hostile
 * files (each gives a clear TS_ERROR, never a crash). */
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

/* A file from a header text and @data_len bytes of data (values 0..255 cycling). */
static GBytes *
make_file (const char *header, gsize data_len)
{
  GByteArray *b = g_byte_array_new ();
  guint64 hl = GUINT64_TO_LE ((guint64) strlen (header));

  g_byte_array_append (b, (const guint8 *) &hl, 8);
  g_byte_array_append (b, (const guint8 *) header, (guint) strlen (header));
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 v = (guint8) i;
      g_byte_array_append (b, &v, 1);
    }
  return g_byte_array_free_to_bytes (b);
}

static void
test_half_conversions (void)
{
  static const struct {
    guint16 bits;
    float value;
  } f16[] = {
    { 0x3c00, 1.0f }, { 0xc000, -2.0f }, { 0x7bff, 65504.0f }, { 0x0001, 5.9604645e-8f },
    { 0x0400, 6.1035156e-5f }, { 0x3555, 0.33325195f }, { 0x0000, 0.0f }, { 0x8000, -0.0f },
  }, bf16[] = {
    { 0x3f80, 1.0f }, { 0xc0a0, -5.0f }, { 0x3e80, 0.25f }, { 0x4049, 3.140625f },
  };

  for (guint i = 0; i < G_N_ELEMENTS (f16); i++)
    g_assert_cmpfloat (ts_f16_to_f32 (f16[i].bits), ==, f16[i].value);
  for (guint i = 0; i < G_N_ELEMENTS (bf16); i++)
    g_assert_cmpfloat (ts_bf16_to_f32 (bf16[i].bits), ==, bf16[i].value);
  g_assert_true (isinf (ts_f16_to_f32 (0x7c00)) && ts_f16_to_f32 (0x7c00) > 0);
  g_assert_true (isnan (ts_f16_to_f32 (0x7e00)));
}

static void
test_read_dtypes (void)
{
  /* F32 [2] = 1.5, -2; F16 [2] = 1, 0.5; BF16 [1,2] = 2, -0.25; little-endian */
  static const guint8 data[] = { 0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, /* F32 */
                                 0x00, 0x3c, 0x00, 0x38,                         /* F16 */
                                 0x00, 0x40, 0x80, 0xbe };                       /* BF16 */
  static const char header[] = "{\"__metadata__\":{\"format\":\"pt\"},"
                               "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                               "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                               "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[12,16]},"
                               "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[16,16]}}";
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (TsSafetensors) st = NULL;
  g_autoptr (GError) error = NULL;
  guint64 hl = GUINT64_TO_LE (sizeof header - 1);
  g_autofree float *a = NULL, *f = NULL, *c = NULL;

  g_byte_array_append (b, (const guint8 *) &hl, 8);
  g_byte_array_append (b, (const guint8 *) header, sizeof header - 1);
  g_byte_array_append (b, data, sizeof data);
  bytes = g_bytes_new (b->data, b->len);
  st = ts_safetensors_parse (bytes, "mem.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ts_safetensors_n_tensors (st), ==, 4);
  g_assert_cmpstr (ts_safetensors_tensor (st, 0)->name, ==, "a"); /* sorted */
  g_assert_cmpstr (ts_safetensors_metadata (st, "format"), ==, "pt");
  g_assert_null (ts_safetensors_metadata (st, "nope"));
  g_assert_null (ts_safetensors_find (st, "zzz"));
  g_assert_cmpint (ts_safetensors_numel (st), ==, 6);
  a = ts_safetensors_read_f32 (st, ts_safetensors_find (st, "a"), &error);
  f = ts_safetensors_read_f32 (st, ts_safetensors_find (st, "b"), &error);
  c = ts_safetensors_read_f32 (st, ts_safetensors_find (st, "c"), &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (a[0], ==, 1.5f);
  g_assert_cmpfloat (a[1], ==, -2.0f);
  g_assert_cmpfloat (f[0], ==, 1.0f);
  g_assert_cmpfloat (f[1], ==, 0.5f);
  g_assert_cmpfloat (c[0], ==, 2.0f);
  g_assert_cmpfloat (c[1], ==, -0.25f);
  g_assert_cmpint (ts_safetensors_find (st, "c")->ndim, ==, 2);
  g_assert_cmpint (ts_safetensors_find (st, "c")->dtype, ==, TS_DTYPE_BF16);
  g_assert_cmpint (ts_safetensors_find (st, "empty")->numel, ==, 0);
}

static void
test_golden_files (void)
{
  static const struct {
    const char *file;
    TsDtype dtype;
    const char *tensor;
    int ndim;
    gint64 d0, d1;
  } cases[] = {
    { "timm.safetensors", TS_DTYPE_F32, "blocks.0.attn.qkv.weight", 2, 192, 64 },
    { "clip.safetensors", TS_DTYPE_F16, "vision_model.embeddings.patch_embedding.weight", 4, 64, 3 },
    { "siglip.safetensors", TS_DTYPE_BF16, "vision_model.head.probe", 3, 1, 1 },
    { "dinov2.safetensors", TS_DTYPE_F32, "embeddings.position_embeddings", 3, 1, 37 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "models", cases[i].file, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (TsSafetensors) st = ts_safetensors_open (path, &error);
      const TsTensorInfo *t;
      g_assert_no_error (error);
      g_assert_cmpstr (ts_safetensors_name (st), ==, cases[i].file);
      g_assert_cmpstr (ts_safetensors_metadata (st, "made_by"), ==, "tests/golden/make_vit_golden.py");
      t = ts_safetensors_find (st, cases[i].tensor);
      g_assert_nonnull (t);
      g_assert_cmpint (t->dtype, ==, cases[i].dtype);
      g_assert_cmpint (t->ndim, ==, cases[i].ndim);
      g_assert_cmpint (t->shape[0], ==, cases[i].d0);
      g_assert_cmpint (t->shape[1], ==, cases[i].d1);
    }
}

/* Evicting a mapped tensor's pages must not change what a later read sees. */
static void
test_evict (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "models", "dinov2.safetensors", NULL);
  g_autoptr (TsSafetensors) st = ts_safetensors_open (path, NULL);
  const TsTensorInfo *t = ts_safetensors_find (st, "encoder.layer.0.mlp.fc1.weight");
  g_autofree float *a = ts_safetensors_read_f32 (st, t, NULL);
  g_autofree float *b = NULL;

  g_assert_cmpint (t->numel, ==, 128 * 64);
  ts_safetensors_evict (st, t);
  b = ts_safetensors_read_f32 (st, t, NULL);
  g_assert_cmpmem (a, t->numel * 4, b, t->numel * 4);
}

typedef struct {
  const char *what;
  const char *header; /* NULL: raw bytes below */
  gsize data_len;
  int code;
  const char *needle; /* must appear in the message */
} Hostile;

static const Hostile hostile[] = {
  { "lying offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, TS_ERROR_BAD_DATA, "'w' ends at byte 16" },
  { "offsets past a short data area", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1000000,1000004]}}", 8, TS_ERROR_BAD_DATA, "'w'" },
  { "size mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, TS_ERROR_BAD_DATA, "3 F32 values" },
  { "huge shape", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, TS_ERROR_BAD_DATA, "impossible shape" },
  { "huge shape product", "{\"w\":{\"dtype\":\"F16\",\"shape\":[65536,65536,65536,65536],\"data_offsets\":[0,8]}}", 8, TS_ERROR_BAD_DATA, "'w'" },
  { "negative shape", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, TS_ERROR_BAD_DATA, "non-negative" },
  { "float shape", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, TS_ERROR_BAD_DATA, "'w'" },
  { "too many dimensions", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, TS_ERROR_BAD_DATA, "dimensions" },
  { "bad JSON", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, TS_ERROR_BAD_DATA, "malformed" },
  { "not an object", "[1,2,3]   ", 0, TS_ERROR_BAD_DATA, "not a JSON object" },
  { "overlapping offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, TS_ERROR_BAD_DATA, "overlap" },
  { "unknown dtype", "{\"w\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,3]}}", 8, TS_ERROR_BAD_DATA, "unknown dtype 'F12'" },
  { "unsupported dtype", "{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, TS_ERROR_UNSUPPORTED, "I64" },
  { "reversed offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, TS_ERROR_BAD_DATA, "begin <= end" },
  { "three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, TS_ERROR_BAD_DATA, "[begin, end]" },
  { "missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 8, TS_ERROR_BAD_DATA, "'w'" },
  { "entry not an object", "{\"w\":42}", 0, TS_ERROR_BAD_DATA, "'w'" },
  { "metadata not strings", "{\"__metadata__\":{\"n\":1}}", 0, TS_ERROR_BAD_DATA, "__metadata__" },
};

static void
test_hostile (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr (GBytes) bytes = make_file (hostile[i].header, hostile[i].data_len);
      g_autoptr (GError) error = NULL;
      TsSafetensors *st = ts_safetensors_parse (bytes, "evil.safetensors", &error);
      if (st != NULL || error == NULL || error->code != hostile[i].code
          || strstr (error->message, "evil.safetensors") == NULL || strstr (error->message, hostile[i].needle) == NULL)
        g_error ("%s: expected code %d with '%s', got %s", hostile[i].what, hostile[i].code, hostile[i].needle,
                 error ? error->message : "success");
    }
}

static void
test_hostile_header_length (void)
{
  static const struct {
    guint64 len;
    gsize file_len;
    int code;
  } cases[] = {
    { 1000, 100, TS_ERROR_BAD_DATA },                         /* past EOF */
    { G_MAXUINT64, 100, TS_ERROR_BAD_DATA },                  /* absurd */
    { (guint64) 200 * 1000 * 1000, 100, TS_ERROR_BAD_DATA },  /* over 100 MB and past EOF */
    { 0, 100, TS_ERROR_BAD_DATA },                            /* empty header */
    { 4, 3, TS_ERROR_BAD_DATA },                              /* shorter than the length field */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree guint8 *raw = g_malloc0 (MAX (cases[i].file_len, 8));
      guint64 le = GUINT64_TO_LE (cases[i].len);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) error = NULL;
      memcpy (raw, &le, MIN (8, cases[i].file_len));
      if (cases[i].file_len > 8)
        raw[8] = '{';
      bytes = g_bytes_new (raw, cases[i].file_len);
      g_assert_null (ts_safetensors_parse (bytes, "evil.safetensors", &error));
      g_assert_error (error, TS_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, "evil.safetensors"));
    }
}

static void
test_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *empty = ts_test_write ("empty.safetensors", "", 0);

  g_assert_null (ts_safetensors_open ("/nonexistent/model.safetensors", &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (ts_safetensors_open (ts_test_tmpdir (), &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (ts_safetensors_open (empty, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
}

/* Random byte flips and truncations of a real fixture: errors or success, never a crash. */
static void
test_mutations (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "models", "clip.safetensors", NULL);
  g_autofree char *orig = NULL;
  gsize len;
  guint64 state = 12345;
  int rejected = 0;

  g_assert_true (g_file_get_contents (path, &orig, &len, NULL));
  for (int iter = 0; iter < 400; iter++)
    {
      g_autofree char *copy = g_memdup2 (orig, len);
      gsize n = len;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) error = NULL;
      TsSafetensors *st;
      guint64 hl;
      memcpy (&hl, orig, 8);
      for (int k = 0; k < 4; k++)
        {
          state = state * 6364136223846793005ull + 1442695040888963407ull;
          /* mostly inside the header, where the lies are */
          copy[(state >> 33) % MIN (len, hl + 8)] ^= (char) (1u << ((state >> 20) & 7));
        }
      if (iter % 5 == 0)
        n = (gsize) ((state >> 13) % len);
      bytes = g_bytes_new (copy, n);
      st = ts_safetensors_parse (bytes, "mutant.safetensors", &error);
      if (st == NULL)
        {
          g_assert_nonnull (error);
          g_assert_nonnull (strstr (error->message, "mutant.safetensors"));
          rejected++;
        }
      else
        {
          /* whatever was accepted must be readable */
          for (guint t = 0; t < ts_safetensors_n_tensors (st); t++)
            {
              g_autofree float *v = ts_safetensors_read_f32 (st, ts_safetensors_tensor (st, t), NULL);
              (void) v;
            }
          ts_safetensors_free (st);
        }
    }
  g_assert_cmpint (rejected, >, 100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safetensors/half-conversions", test_half_conversions);
  g_test_add_func ("/safetensors/read-dtypes", test_read_dtypes);
  g_test_add_func ("/safetensors/golden-files", test_golden_files);
  g_test_add_func ("/safetensors/evict", test_evict);
  g_test_add_func ("/safetensors/hostile", test_hostile);
  g_test_add_func ("/safetensors/hostile-header-length", test_hostile_header_length);
  g_test_add_func ("/safetensors/files", test_files);
  g_test_add_func ("/safetensors/mutations", test_mutations);
  return g_test_run ();
}
