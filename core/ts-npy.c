#include "ts-npy.h"
#include "ts-error.h"
#include "ts-io.h"

#include <string.h>

void
ts_npy_array_free (TsNpyArray *array)
{
  if (array == NULL)
    return;
  g_free (array->data);
  g_free (array);
}

gint64
ts_npy_array_size (const TsNpyArray *array)
{
  gint64 n = 1;

  for (int i = 0; i < array->ndim; i++)
    n *= array->shape[i];
  return n;
}

/* Finds the value text after 'key': in a NumPy header dict. */
static const char *
find_key (const char *header, const char *key)
{
  g_autofree char *q1 = g_strdup_printf ("'%s'", key);
  g_autofree char *q2 = g_strdup_printf ("\"%s\"", key);
  const char *p = strstr (header, q1);

  if (p == NULL)
    p = strstr (header, q2);
  if (p == NULL)
    return NULL;
  p += strlen (q1);
  while (*p == ' ')
    p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ')
    p++;
  return p;
}

static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  float out;

  if (exp == 0)
    {
      if (mant == 0)
        bits = sign;
      else
        {
          /* subnormal: renormalise */
          int e = -1;
          do
            e++, mant <<= 1;
          while ((mant & 0x400) == 0);
          bits = sign | ((guint32) (127 - 15 - e) << 23) | ((mant & 0x3FF) << 13);
        }
    }
  else if (exp == 0x1F)
    bits = sign | 0x7F800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  memcpy (&out, &bits, 4);
  return out;
}

static gboolean
bad (GError **error, const char *name, const char *what)
{
  g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: %s", name, what);
  return FALSE;
}

TsNpyArray *
ts_npy_parse (const guint8 *data, gsize len, const char *path, GError **error)
{
  g_autofree char *name = ts_display_name (path);
  g_autofree char *header = NULL;
  g_autoptr (TsNpyArray) array = NULL;
  gsize header_len, offset, count = 1, nbytes;
  const char *descr, *fortran, *shape;
  gboolean big_endian, is_fortran;
  int itemsize;
  char kind;

  if (len < 10 || memcmp (data, "\x93NUMPY", 6) != 0)
    return bad (error, name, "not a NumPy .npy file (no \\x93NUMPY signature)"), NULL;
  if (data[6] == 1)
    header_len = data[8] | (gsize) data[9] << 8, offset = 10;
  else if (data[6] == 2 || data[6] == 3)
    {
      if (len < 12)
        return bad (error, name, "truncated .npy header"), NULL;
      header_len = data[8] | (gsize) data[9] << 8 | (gsize) data[10] << 16 | (gsize) data[11] << 24;
      offset = 12;
    }
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED, "%s: .npy format version %d is not supported",
                   name, data[6]);
      return NULL;
    }
  if (header_len > len - offset || header_len > 1 << 20)
    return bad (error, name, "the .npy header runs past the end of the file"), NULL;
  header = g_strndup ((const char *) data + offset, header_len);
  offset += header_len;

  descr = find_key (header, "descr");
  fortran = find_key (header, "fortran_order");
  shape = find_key (header, "shape");
  if (descr == NULL || fortran == NULL || shape == NULL)
    return bad (error, name, "the .npy header lacks descr, fortran_order or shape"), NULL;

  if ((descr[0] != '\'' && descr[0] != '"') || strlen (descr) < 5)
    return bad (error, name, "unreadable dtype in the .npy header"), NULL;
  big_endian = descr[1] == '>';
  kind = descr[2];
  itemsize = descr[3] - '0';
  if (!(descr[1] == '<' || descr[1] == '>' || descr[1] == '=' || descr[1] == '|') || kind != 'f' ||
      (itemsize != 2 && itemsize != 4 && itemsize != 8) || descr[4] != descr[0])
    {
      g_autofree char *dtype = g_strndup (descr, strcspn (descr, ",}"));
      g_set_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED,
                   "%s: dtype %s is not supported (use float16, float32 or float64)", name, dtype);
      return NULL;
    }
  if (g_str_has_prefix (fortran, "True"))
    is_fortran = TRUE;
  else if (g_str_has_prefix (fortran, "False"))
    is_fortran = FALSE;
  else
    return bad (error, name, "fortran_order is neither True nor False"), NULL;

  array = g_new0 (TsNpyArray, 1);
  if (*shape != '(')
    return bad (error, name, "the shape is not a tuple"), NULL;
  shape++;
  for (;;)
    {
      char *end;
      gint64 v;
      while (*shape == ' ')
        shape++;
      if (*shape == ')')
        break;
      v = g_ascii_strtoll (shape, &end, 10);
      if (end == shape || v < 0 || v > G_MAXINT)
        return bad (error, name, "the shape holds a value that is not a size"), NULL;
      if (array->ndim == TS_NPY_MAX_DIMS)
        return bad (error, name, "arrays of more than 4 dimensions are not supported"), NULL;
      array->shape[array->ndim++] = v;
      if (!g_size_checked_mul (&count, count, (gsize) v))
        return bad (error, name, "the shape's element count overflows"), NULL;
      shape = end;
      while (*shape == ' ')
        shape++;
      if (*shape == ',')
        shape++;
      else if (*shape != ')')
        return bad (error, name, "malformed shape tuple"), NULL;
    }
  if (!g_size_checked_mul (&nbytes, count, (gsize) itemsize) || nbytes > len - offset)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: the header promises %" G_GSIZE_FORMAT " values but the file holds only %"
                   G_GSIZE_FORMAT " bytes of data (truncated?)",
                   name, count, (gsize) (len - offset));
      return NULL;
    }
  if (count == 0)
    return bad (error, name, "the array is empty"), NULL;
  array->data = g_try_new (float, count);
  if (array->data == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%s: %" G_GSIZE_FORMAT " values do not fit in memory",
                   name, count);
      return NULL;
    }

  {
    gboolean swap = big_endian != (G_BYTE_ORDER == G_BIG_ENDIAN) && descr[1] != '=' && descr[1] != '|';
    const guint8 *src = data + offset;
    gint64 strides[TS_NPY_MAX_DIMS];
    gint64 idx[TS_NPY_MAX_DIMS] = { 0 };

    /* element strides (in elements) of the stored layout */
    for (int i = 0; i < array->ndim; i++)
      {
        strides[i] = 1;
        if (is_fortran)
          for (int j = 0; j < i; j++)
            strides[i] *= array->shape[j];
        else
          for (int j = i + 1; j < array->ndim; j++)
            strides[i] *= array->shape[j];
      }
    for (gsize k = 0; k < count; k++)
      {
        gint64 s = 0;
        guint8 b[8];
        for (int i = 0; i < array->ndim; i++)
          s += idx[i] * strides[i];
        memcpy (b, src + (gsize) s * itemsize, itemsize);
        if (swap)
          for (int i = 0; i < itemsize / 2; i++)
            {
              guint8 t = b[i];
              b[i] = b[itemsize - 1 - i];
              b[itemsize - 1 - i] = t;
            }
        if (itemsize == 2)
          {
            guint16 h;
            memcpy (&h, b, 2);
            array->data[k] = half_to_float (h);
          }
        else if (itemsize == 4)
          memcpy (&array->data[k], b, 4);
        else
          {
            double v;
            memcpy (&v, b, 8);
            array->data[k] = (float) v;
          }
        /* advance the C-order index */
        for (int i = array->ndim - 1; i >= 0; i--)
          {
            if (++idx[i] < array->shape[i])
              break;
            idx[i] = 0;
          }
      }
  }
  return g_steal_pointer (&array);
}

TsNpyArray *
ts_npy_read (const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = ts_file_read (path, (gsize) 1 << 32, error);
  gsize len;
  const guint8 *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  return ts_npy_parse (data, len, path, error);
}

gboolean
ts_npy_write (const char *path, const float *data, int ndim, const gint64 *shape, GError **error)
{
  g_autoptr (GString) header = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize count = 1, total;
  guint8 preamble[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };

  g_return_val_if_fail (ndim >= 1 && ndim <= TS_NPY_MAX_DIMS, FALSE);
  for (int i = 0; i < ndim; i++)
    {
      g_string_append_printf (header, "%" G_GINT64_FORMAT "%s", shape[i], (ndim == 1 || i < ndim - 1) ? ", " : "");
      count *= (gsize) shape[i];
    }
  if (ndim == 1)
    g_string_truncate (header, header->len - 1);
  g_string_append (header, "), }");
  /* pad with spaces so the data starts on a 64-byte boundary, newline-terminated */
  total = 10 + header->len + 1;
  while (total % 64 != 0)
    g_string_append_c (header, ' '), total++;
  g_string_append_c (header, '\n');
  preamble[8] = header->len & 0xFF;
  preamble[9] = (header->len >> 8) & 0xFF;
  g_byte_array_append (out, preamble, 10);
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gsize i = 0; i < count; i++)
    {
      guint32 v;
      memcpy (&v, &data[i], 4);
      v = GUINT32_SWAP_LE_BE (v);
      g_byte_array_append (out, (const guint8 *) &v, 4);
    }
#else
  g_byte_array_append (out, (const guint8 *) data, count * 4);
#endif
  return ts_file_write (path, out->data, out->len, error);
}

TsFeatures *
ts_features_load_npy (const char *path, const TsGrid *grid, TsNpyCls cls, GError **error)
{
  g_autoptr (TsNpyArray) a = ts_npy_read (path, error);
  g_autofree char *name = ts_display_name (path);
  gint64 n, d, skip = 0;
  TsFeatures *f;

  if (a == NULL)
    return NULL;
  /* drop a leading batch dimension of 1 */
  if (a->ndim >= 3 && a->shape[0] == 1)
    {
      memmove (a->shape, a->shape + 1, sizeof (gint64) * (a->ndim - 1));
      a->ndim--;
    }
  if (a->ndim == 2)
    n = a->shape[0], d = a->shape[1];
  else if (a->ndim == 3)
    {
      if (a->shape[0] != grid->rows || a->shape[1] != grid->cols)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: features of shape [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                       "] do not match the %d x %d patch grid",
                       name, a->shape[0], a->shape[1], a->shape[2], grid->rows, grid->cols);
          return NULL;
        }
      n = a->shape[0] * a->shape[1], d = a->shape[2];
    }
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: features must be [N, D] or [rows, cols, D], not a %d-dimensional array", name,
                   a->ndim);
      return NULL;
    }
  if (cls == TS_NPY_CLS_YES || (cls == TS_NPY_CLS_AUTO && n == (gint64) grid->tokens + 1))
    skip = 1;
  if (n - skip != grid->tokens || d < 1 || d > 1 << 20)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: %" G_GINT64_FORMAT " feature rows%s do not match the %d x %d grid's %d tokens",
                   name, n, skip ? " (after dropping the CLS row)" : "", grid->rows, grid->cols,
                   grid->tokens);
      return NULL;
    }
  f = ts_features_new (grid->tokens, (int) d, error);
  if (f != NULL)
    memcpy (f->data, a->data + skip * d, (gsize) grid->tokens * d * sizeof (float));
  return f;
}

gboolean
ts_features_save_npy (const TsFeatures *features, const char *path, GError **error)
{
  gint64 shape[2] = { features->n, features->d };

  return ts_npy_write (path, features->data, 2, shape, error);
}
