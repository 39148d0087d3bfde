#include "ts-safetensors.h"
#include "ts-error.h"
#include "ts-io.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct _TsSafetensors {
  char *name;
  GBytes *bytes;
  const guint8 *data; /* start of the data area */
  guint64 data_size;
  TsTensorInfo *tensors; /* sorted by name */
  guint n_tensors;
  GHashTable *index;    /* name -> TsTensorInfo* */
  GHashTable *metadata; /* string -> string */
  gboolean mapped;      /* bytes come from a read-only file mapping */
};

static const struct {
  const char *name;
  int itemsize;
  int supported; /* index into TsDtype + 1, or 0 */
} dtype_table[] = {
  { "F32", 4, TS_DTYPE_F32 + 1 },
  { "F16", 2, TS_DTYPE_F16 + 1 },
  { "BF16", 2, TS_DTYPE_BF16 + 1 },
  { "F64", 8, 0 },
  { "F8_E4M3", 1, 0 },
  { "F8_E5M2", 1, 0 },
  { "I64", 8, 0 },
  { "I32", 4, 0 },
  { "I16", 2, 0 },
  { "I8", 1, 0 },
  { "U64", 8, 0 },
  { "U32", 4, 0 },
  { "U16", 2, 0 },
  { "U8", 1, 0 },
  { "BOOL", 1, 0 },
};

const char *
ts_dtype_name (TsDtype dtype)
{
  switch (dtype)
    {
    case TS_DTYPE_F32:
      return "F32";
    case TS_DTYPE_F16:
      return "F16";
    case TS_DTYPE_BF16:
      return "BF16";
    default:
      return "?";
    }
}

float
ts_f16_to_f32 (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000u) << 16;
  guint32 exp = (h >> 10) & 0x1fu;
  guint32 mant = h & 0x3ffu;
  guint32 bits;
  float f;

  if (exp == 0)
    {
      /* zero or subnormal: mant * 2^-24 */
      f = (float) mant * (1.0f / 16777216.0f);
      return sign ? -f : f;
    }
  if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  memcpy (&f, &bits, 4);
  return f;
}

float
ts_bf16_to_f32 (guint16 b)
{
  guint32 bits = (guint32) b << 16;
  float f;

  memcpy (&f, &bits, 4);
  return f;
}

static int
compare_info (const void *a, const void *b)
{
  return strcmp (((const TsTensorInfo *) a)->name, ((const TsTensorInfo *) b)->name);
}

static int
compare_begin (const void *a, const void *b)
{
  const TsTensorInfo *x = *(const TsTensorInfo *const *) a;
  const TsTensorInfo *y = *(const TsTensorInfo *const *) b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* A JSON integer >= 0, or -1. */
static gint64
json_uint (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return -1;
  return json_node_get_int (node) < 0 ? -1 : json_node_get_int (node);
}

static gboolean
parse_tensor (TsSafetensors *st, const char *name, JsonNode *node, TsTensorInfo *info, GError **error)
{
  JsonObject *obj;
  JsonArray *shape, *offsets;
  const char *dtype;
  gint64 numel = 1;
  guint64 nbytes;
  int itemsize = 0;
  guint i;

  info->name = g_strdup (name);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad_entry;
  obj = json_node_get_object (node);
  if (!json_object_has_member (obj, "dtype") || !json_object_has_member (obj, "shape")
      || !json_object_has_member (obj, "data_offsets"))
    goto bad_entry;
  if (!JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, "dtype"))
      || json_node_get_value_type (json_object_get_member (obj, "dtype")) != G_TYPE_STRING
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "shape"))
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "data_offsets")))
    goto bad_entry;

  dtype = json_object_get_string_member (obj, "dtype");
  for (i = 0; i < G_N_ELEMENTS (dtype_table); i++)
    if (strcmp (dtype, dtype_table[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS (dtype_table))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: tensor '%s' has an unknown dtype '%s'",
                   st->name, name, dtype);
      return FALSE;
    }
  if (dtype_table[i].supported == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED,
                   "%s: tensor '%s' is stored as %s; TokenScope reads F32, F16 and BF16 weights",
                   st->name, name, dtype);
      return FALSE;
    }
  info->dtype = (TsDtype) (dtype_table[i].supported - 1);
  itemsize = dtype_table[i].itemsize;

  shape = json_object_get_array_member (obj, "shape");
  if (json_array_get_length (shape) > TS_SAFETENSORS_MAX_DIMS)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: tensor '%s' has %u dimensions (at most %d)",
                   st->name, name, json_array_get_length (shape), TS_SAFETENSORS_MAX_DIMS);
      return FALSE;
    }
  info->ndim = (int) json_array_get_length (shape);
  for (i = 0; i < json_array_get_length (shape); i++)
    {
      gint64 dim = json_uint (json_array_get_element (shape, i));
      if (dim < 0)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: tensor '%s': shape entries must be non-negative integers", st->name, name);
          return FALSE;
        }
      info->shape[i] = dim;
      if (dim != 0 && numel > G_MAXINT64 / 8 / dim)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: tensor '%s' claims an impossible shape (its size overflows)", st->name, name);
          return FALSE;
        }
      numel *= dim;
    }
  info->numel = numel;
  nbytes = (guint64) numel * (guint64) itemsize;

  offsets = json_object_get_array_member (obj, "data_offsets");
  if (json_array_get_length (offsets) != 2)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: tensor '%s': data_offsets must be [begin, end]",
                   st->name, name);
      return FALSE;
    }
  {
    gint64 b = json_uint (json_array_get_element (offsets, 0));
    gint64 e = json_uint (json_array_get_element (offsets, 1));
    if (b < 0 || e < 0 || b > e)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                     "%s: tensor '%s': data_offsets must be two non-negative integers with begin <= end",
                     st->name, name);
        return FALSE;
      }
    info->begin = (guint64) b;
    info->end = (guint64) e;
  }
  if (info->end > st->data_size)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: tensor '%s' ends at byte %" G_GUINT64_FORMAT " but the data area has only %"
                   G_GUINT64_FORMAT " bytes (truncated or lying file)",
                   st->name, name, info->end, st->data_size);
      return FALSE;
    }
  if (info->end - info->begin != nbytes)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: tensor '%s' has %" G_GINT64_FORMAT " %s values (%" G_GUINT64_FORMAT
                   " bytes) but its offsets span %" G_GUINT64_FORMAT " bytes",
                   st->name, name, numel, dtype, nbytes, info->end - info->begin);
      return FALSE;
    }
  return TRUE;

bad_entry:
  g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
               "%s: tensor '%s' is not an object with dtype, shape and data_offsets", st->name, name);
  return FALSE;
}

static gboolean
parse_metadata (TsSafetensors *st, JsonNode *node, GError **error)
{
  JsonObject *obj;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: __metadata__ must be an object of strings", st->name);
      return FALSE;
    }
  obj = json_node_get_object (node);
  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: __metadata__ value '%s' is not a string",
                       st->name, key);
          return FALSE;
        }
      g_hash_table_insert (st->metadata, g_strdup (key), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

TsSafetensors *
ts_safetensors_parse (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (TsSafetensors) st = NULL;
  g_autofree TsTensorInfo **by_begin = NULL;
  const guint8 *raw;
  gsize len;
  guint64 header_len;
  JsonNode *root;
  JsonObject *obj;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  guint n = 0;

  g_return_val_if_fail (bytes != NULL, NULL);
  st = g_new0 (TsSafetensors, 1);
  st->name = g_strdup (name != NULL ? name : "(safetensors)");
  st->bytes = g_bytes_ref (bytes);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->index = g_hash_table_new (g_str_hash, g_str_equal);
  raw = g_bytes_get_data (bytes, &len);

  if (len < 8)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: only %" G_GSIZE_FORMAT " bytes: too short for a safetensors file", st->name, len);
      return NULL;
    }
  memcpy (&header_len, raw, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > TS_SAFETENSORS_MAX_HEADER)
    {
      g_set_error (error, TS_ERROR, header_len > len - 8 ? TS_ERROR_BAD_DATA : TS_ERROR_TOO_LARGE,
                   "%s: the header claims %" G_GUINT64_FORMAT " bytes (the limit is 100 MB%s); "
                   "this is not a safetensors file or it is damaged",
                   st->name, header_len, header_len > len - 8 ? " and the file is shorter" : "");
      return NULL;
    }
  if (header_len > len - 8)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: the header claims %" G_GUINT64_FORMAT " bytes but the file has only %" G_GSIZE_FORMAT
                   " after the length field (truncated or not a safetensors file)",
                   st->name, header_len, len - 8);
      return NULL;
    }
  if (header_len < 2 || raw[8] != '{')
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: the header is not a JSON object (not a safetensors file?)", st->name);
      return NULL;
    }
  if (!g_utf8_validate ((const char *) raw + 8, (gssize) header_len, NULL))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the header is not valid UTF-8", st->name);
      return NULL;
    }
  st->data = raw + 8 + header_len;
  st->data_size = len - 8 - header_len;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) raw + 8, (gssize) header_len, &local))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the JSON header is malformed: %s", st->name,
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the header is not a JSON object", st->name);
      return NULL;
    }
  obj = json_node_get_object (root);
  st->tensors = g_new0 (TsTensorInfo, json_object_get_size (obj) + 1);
  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (strcmp (key, "__metadata__") == 0)
        {
          if (!parse_metadata (st, value, error))
            return NULL;
          continue;
        }
      st->n_tensors = ++n;
      if (!parse_tensor (st, key, value, &st->tensors[n - 1], error))
        return NULL;
    }

  /* No two tensors may share bytes. */
  by_begin = g_new (TsTensorInfo *, n + 1);
  for (guint i = 0; i < n; i++)
    by_begin[i] = &st->tensors[i];
  qsort (by_begin, n, sizeof *by_begin, compare_begin);
  {
    const TsTensorInfo *last = NULL; /* the non-empty tensor reaching furthest so far */
    for (guint i = 0; i < n; i++)
      {
        const TsTensorInfo *t = by_begin[i];
        if (t->end == t->begin)
          continue;
        if (last != NULL && t->begin < last->end)
          {
            g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                         "%s: tensors '%s' and '%s' overlap in the data area (bytes %" G_GUINT64_FORMAT "..%"
                         G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT ")",
                         st->name, last->name, t->name, last->begin, last->end, t->begin, t->end);
            return NULL;
          }
        if (last == NULL || t->end > last->end)
          last = t;
      }
  }

  qsort (st->tensors, n, sizeof *st->tensors, compare_info);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (st->index, st->tensors[i].name, &st->tensors[i]);
  return g_steal_pointer (&st);
}

TsSafetensors *
ts_safetensors_open (const char *path, GError **error)
{
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *name = NULL;
  GStatBuf sb;

  g_return_val_if_fail (path != NULL, NULL);
  name = ts_display_name (path);
  if (g_stat (path, &sb) != 0)
    {
      int saved = errno;
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (S_ISDIR (sb.st_mode))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: is a folder; give the .safetensors file inside it", path);
      return NULL;
    }
  if (sb.st_size == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the file is empty", name);
      return NULL;
    }
  mapped = g_mapped_file_new (path, FALSE, &local);
  if (mapped == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: %s", path, local->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  {
    TsSafetensors *st = ts_safetensors_parse (bytes, name, error);
    if (st != NULL)
      st->mapped = TRUE;
    return st;
  }
}

void
ts_safetensors_free (TsSafetensors *st)
{
  if (st == NULL)
    return;
  for (guint i = 0; i < st->n_tensors; i++)
    g_free (st->tensors[i].name);
  g_free (st->tensors);
  g_clear_pointer (&st->index, g_hash_table_unref);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_clear_pointer (&st->bytes, g_bytes_unref);
  g_free (st->name);
  g_free (st);
}

const char *
ts_safetensors_name (const TsSafetensors *st)
{
  return st->name;
}

guint
ts_safetensors_n_tensors (const TsSafetensors *st)
{
  return st->n_tensors;
}

const TsTensorInfo *
ts_safetensors_tensor (const TsSafetensors *st, guint index)
{
  g_return_val_if_fail (index < st->n_tensors, NULL);
  return &st->tensors[index];
}

const TsTensorInfo *
ts_safetensors_find (const TsSafetensors *st, const char *name)
{
  return g_hash_table_lookup (st->index, name);
}

const char *
ts_safetensors_metadata (const TsSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

gint64
ts_safetensors_numel (const TsSafetensors *st)
{
  gint64 total = 0;

  for (guint i = 0; i < st->n_tensors; i++)
    total += st->tensors[i].numel;
  return total;
}

void
ts_safetensors_convert (const TsSafetensors *st, const TsTensorInfo *info, float *dest)
{
  const guint8 *src = st->data + info->begin;
  gint64 n = info->numel;

  switch (info->dtype)
    {
    case TS_DTYPE_F32:
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      memcpy (dest, src, (gsize) n * 4);
#else
      for (gint64 i = 0; i < n; i++)
        {
          guint32 v;
          memcpy (&v, src + 4 * i, 4);
          v = GUINT32_FROM_LE (v);
          memcpy (&dest[i], &v, 4);
        }
#endif
      break;
    case TS_DTYPE_F16:
      for (gint64 i = 0; i < n; i++)
        dest[i] = ts_f16_to_f32 ((guint16) (src[2 * i] | (src[2 * i + 1] << 8)));
      break;
    case TS_DTYPE_BF16:
      for (gint64 i = 0; i < n; i++)
        dest[i] = ts_bf16_to_f32 ((guint16) (src[2 * i] | (src[2 * i + 1] << 8)));
      break;
    default:
      memset (dest, 0, (gsize) n * 4);
      break;
    }
}

float *
ts_safetensors_read_f32 (const TsSafetensors *st, const TsTensorInfo *info, GError **error)
{
  float *out;

  g_return_val_if_fail (st != NULL && info != NULL, NULL);
  if ((guint64) info->numel > G_MAXSIZE / 4 || (out = g_try_new (float, MAX (info->numel, 1))) == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: tensor '%s' (%" G_GINT64_FORMAT
                   " values) does not fit in memory", st->name, info->name, info->numel);
      return NULL;
    }
  ts_safetensors_convert (st, info, out);
  return out;
}

void
ts_safetensors_evict (const TsSafetensors *st, const TsTensorInfo *info)
{
#ifdef MADV_DONTNEED
  long page = sysconf (_SC_PAGESIZE);
  guintptr start, end;

  if (!st->mapped || page <= 0 || info->end <= info->begin)
    return;
  /* only whole pages inside the tensor: neighbours may still be needed */
  start = ((guintptr) (st->data + info->begin) + (guintptr) page - 1) & ~((guintptr) page - 1);
  end = ((guintptr) (st->data + info->end)) & ~((guintptr) page - 1);
  if (end > start)
    madvise ((void *) start, end - start, MADV_DONTNEED);
#endif
}
