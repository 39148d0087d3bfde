/* ts-resize.h: how an image becomes the size the patch grid covers.
 *
 * Policies (REFERENCE 1):
 *   native  keep the pixels; crop the right and bottom remainder to a multiple
 *           of the patch size (a side shorter than one patch is padded with
 *           the mean colour up to one patch)
 *   fit S   longest side S, aspect kept; the other side rounded to the nearest
 *           multiple of the patch size (at least one patch)
 *   square S  stretch to S x S
 *   pad S   LLaVA-1.5: pad to a square with the mean colour, then S x S
 * S is rounded down to a multiple of the patch size (at least one patch).
 * Resampling is stb_image_resize's (v0.97) Catmull-Rom filter (antialiased
 * when shrinking), deterministic: the same bytes as stbir_resize_uint8_generic
 * with clamped edges in linear colour space, from filters planned once per
 * size (TsResampler). */
#pragma once

#include "ts-image.h"

G_BEGIN_DECLS

typedef enum {
  TS_RESIZE_NATIVE,
  TS_RESIZE_FIT,
  TS_RESIZE_SQUARE,
  TS_RESIZE_PAD,
} TsResizePolicy;

typedef struct {
  TsResizePolicy policy;
  int size; /* S; ignored by native */
} TsResize;

/* "native", "fit", "square", "pad" (TS_ERROR_INVALID_ARGUMENT otherwise). */
gboolean ts_resize_policy_parse (const char *text, TsResizePolicy *policy, GError **error);
const char *ts_resize_policy_name (TsResizePolicy policy);

/* The output size @resize gives a @width x @height image at @patch, without resampling. */
gboolean ts_resize_target_size (const TsResize *resize, int width, int height, int patch,
                                int *out_width, int *out_height, GError **error);

/* A new image sized by @resize for @patch. */
TsImage *ts_resize_apply (const TsImage *image, const TsResize *resize, int patch, GError **error);

/* Plain resampling to exactly @width x @height (NULL on bad sizes). */
TsImage *ts_image_resample (const TsImage *image, int width, int height);

/* Resampling of many images of a few sizes (the regions of a reconstruction):
 * each axis's filter (size in -> size out) is computed once and kept; work
 * buffers are reused. Not thread-safe: one per thread. */
typedef struct _TsResampler TsResampler;

/* Above this many floats of work buffers an apply streams through stb instead (same bytes). */
#define TS_RESAMPLER_MAX_FLOATS ((gsize) 1 << 24)

TsResampler *ts_resampler_new (void);
void ts_resampler_free (TsResampler *rs);

/* ts_image_resample's pixels for the RGB rows at @src (@src_w x @src_h, rows
 * @src_stride bytes apart) into @dst (@dst_w x @dst_h, @dst_stride): exactly
 * stbir_resize_uint8_generic's bytes (Catmull-Rom, clamped edges, linear).
 * FALSE on a size below 1 or when memory fails. */
gboolean ts_resampler_apply (TsResampler *rs, const guint8 *src, int src_w, int src_h, gsize src_stride,
                             guint8 *dst, int dst_w, int dst_h, gsize dst_stride);

/* ts_resampler_apply of @tiles images side by side, each @tile_w x @src_h
 * (the next one @tile_w pixels right of the last), into as many @dtile_w x
 * @dst_h side by side at @dst: each tile's bytes exactly as alone (its own
 * clamped edges), in one pass over the strip (regions of one size in a row). */
gboolean ts_resampler_apply_tiles (TsResampler *rs, int tiles, const guint8 *src, int tile_w, int src_h,
                                   gsize src_stride, guint8 *dst, int dtile_w, int dst_h, gsize dst_stride);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsResampler, ts_resampler_free)

/* Mean colour of the image, rounded. */
void ts_image_mean_color (const TsImage *image, guint8 rgb[3]);

G_END_DECLS
