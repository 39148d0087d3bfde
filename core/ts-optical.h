/* ts-optical.h: DeepSeek-OCR optical-compression geometry (REFERENCE 3 and 8).
 *
 * DeepSeek-OCR encodes a page at patch 16 and then compresses tokens 16x
 * with two stride-2 convolutions (4x per side), so a S x S view costs
 * (S / 64)^2 tokens: Tiny 512 -> 64, Small 640 -> 100, Base 1024 -> 256,
 * Large 1280 -> 400; Gundam tiles the page into 640 x 640 crops (100 tokens
 * each, 2..max crops by the closest aspect ratio, as InternVL's dynamic
 * preprocessing; none when both sides are <= 640) plus one 1024 global view (256).
 *
 * The learned compressor cannot be reproduced without its weights. The
 * registry method "optical" is therefore a STAND-IN: it lays the mode's
 * (S / 64) x (S / 64) token grid over the image (the view resized to S x S at
 * patch 16, 4 x 4 pooled) and averages the scene's features in each cell.
 * It shows the geometry and token budget, not DeepSeek-OCR's quality.
 * Everything here is reentrant. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;  /* "tiny", "small", "base", "large", "gundam" */
  const char *label; /* "Tiny (512 x 512, 64 tokens)" */
  int resolution;    /* view side S in pixels (Gundam: the global view) */
  int tokens;        /* tokens of one view: (S / 64)^2 */
  gboolean padded;   /* Base/Large/Gundam global pad to a square; Tiny/Small resize */
  gboolean tiled;    /* Gundam: plus 640 x 640 crops of 100 tokens */
} TsOpticalMode;

#define TS_OPTICAL_PATCH 16
#define TS_OPTICAL_POOL 4
#define TS_OPTICAL_TILE 640
#define TS_OPTICAL_MAX_CROPS 6 /* DeepSeek-OCR's default (it allows up to 9) */

const TsOpticalMode *ts_optical_modes (guint *n);
/* NULL (TS_ERROR_INVALID_ARGUMENT listing the names) when unknown. */
const TsOpticalMode *ts_optical_mode_find (const char *name, GError **error);

/* Gundam crops for a @width x @height image (@max_crops 2..9): fills the
 * crop grid (0 x 0 when the image fits one 640 tile) and returns the total
 * token count, crops * 100 + 256. -1 on bad sizes. */
int ts_optical_gundam (int width, int height, int max_crops, int *crop_cols, int *crop_rows);

/* Tokens of @mode for a @width x @height image. */
int ts_optical_tokens (const TsOpticalMode *mode, int width, int height);

/* The stand-in assignment: the largest single-view mode with tokens <= target
 * whose token grid fits the scene's patch grid. TS_ERROR_INVALID_ARGUMENT
 * when the target is below Tiny's 64 tokens or the grid is too small. */
TsAssignment *ts_optical_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                              GError **error);

G_END_DECLS
