/* ts-safetensors.h: reading a user's .safetensors weight file.
 *
 * Format (huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]},
 * optional "__metadata__": {string: string}}), then the data area; offsets
 * are relative to the start of the data area.
 *
 * The file is memory-mapped (GMappedFile) and nothing is trusted: at open,
 * every tensor's dtype (F32, F16 and BF16 are read; other known dtypes are
 * TS_ERROR_UNSUPPORTED), shape (rank <= 8, non-negative, overflow-checked
 * product), offsets (begin <= end <= data size) and byte size
 * (prod(shape) * itemsize == end - begin) are checked, and no two tensors may
 * overlap. Only then is any tensor data touched. Errors name the file and the
 * tensor: TS_ERROR_BAD_DATA (lies, bad JSON, truncation), TS_ERROR_TOO_LARGE
 * (a header over 100 MB, as the reference implementation limits it),
 * TS_ERROR_UNSUPPORTED, TS_ERROR_IO.
 *
 * Ownership: a TsSafetensors owns the mapping; the TsTensorInfo pointers it
 * hands out live as long as it does. Reads convert to new float32 buffers.
 * Thread safety: after open the object is read-only; concurrent reads are safe. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TS_SAFETENSORS_MAX_DIMS 8
#define TS_SAFETENSORS_MAX_HEADER ((guint64) 100 * 1000 * 1000)

typedef enum {
  TS_DTYPE_F32,
  TS_DTYPE_F16,
  TS_DTYPE_BF16,
} TsDtype;

typedef struct {
  char *name;
  TsDtype dtype;
  int ndim;
  gint64 shape[TS_SAFETENSORS_MAX_DIMS];
  gint64 numel;  /* prod(shape); 1 for a scalar */
  guint64 begin; /* byte offsets inside the data area */
  guint64 end;
} TsTensorInfo;

typedef struct _TsSafetensors TsSafetensors;

TsSafetensors *ts_safetensors_open (const char *path, GError **error);
/* The same from memory (@bytes is referenced); @name is used in messages. */
TsSafetensors *ts_safetensors_parse (GBytes *bytes, const char *name, GError **error);
void ts_safetensors_free (TsSafetensors *st);

const char *ts_safetensors_name (const TsSafetensors *st); /* display name */
guint ts_safetensors_n_tensors (const TsSafetensors *st);
/* Tensors sorted by name; @index < n_tensors. */
const TsTensorInfo *ts_safetensors_tensor (const TsSafetensors *st, guint index);
/* NULL when absent. */
const TsTensorInfo *ts_safetensors_find (const TsSafetensors *st, const char *name);
/* A value of the "__metadata__" object, or NULL. */
const char *ts_safetensors_metadata (const TsSafetensors *st, const char *key);
/* Total parameter count. */
gint64 ts_safetensors_numel (const TsSafetensors *st);

/* The tensor converted to float32 (numel values, C order), newly allocated.
 * TS_ERROR_TOO_LARGE when it cannot be allocated. */
float *ts_safetensors_read_f32 (const TsSafetensors *st, const TsTensorInfo *info, GError **error);
/* Converts into @dest, which has room for info->numel floats. */
void ts_safetensors_convert (const TsSafetensors *st, const TsTensorInfo *info, float *dest);

/* Tells the kernel the tensor's pages of a memory-mapped file are no longer
 * needed (they are read again from the file if touched), so converting a
 * large model does not hold the file and its float32 copy in memory at once.
 * No effect on files parsed from memory. */
void ts_safetensors_evict (const TsSafetensors *st, const TsTensorInfo *info);

const char *ts_dtype_name (TsDtype dtype);
/* IEEE half and bfloat16 bit patterns to float. */
float ts_f16_to_f32 (guint16 h);
float ts_bf16_to_f32 (guint16 b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsSafetensors, ts_safetensors_free)

G_END_DECLS
