/* ts-vlm.h: how many visual tokens popular VLMs spend on a W x H image
 * (REFERENCE 8), with the resized size or tile grid each rule implies so a
 * view can draw it.
 *
 * Every rule is pure arithmetic on the image size; nothing is resampled.
 * Counts are the visual tokens the language model receives, without the
 * model's own marker tokens unless the note says otherwise. Rules whose
 * source is a published rule of thumb (Claude) are labelled approximate.
 *
 * Results are plain structs whose strings are static: nothing to free.
 * All functions are reentrant. */
#pragma once

#include <glib.h>

#include "ts-resize.h"

G_BEGIN_DECLS

typedef enum {
  TS_VLM_LLAVA_15,
  TS_VLM_LLAVA_NEXT,
  TS_VLM_QWEN2_VL,         /* processor class defaults: max_pixels 1003520 */
  TS_VLM_QWEN2_VL_CONFIG,  /* published model config: max_pixels 12845056 */
  TS_VLM_INTERNVL25,
  TS_VLM_DEEPSEEK_OCR_TINY,
  TS_VLM_DEEPSEEK_OCR_SMALL,
  TS_VLM_DEEPSEEK_OCR_BASE,
  TS_VLM_DEEPSEEK_OCR_LARGE,
  TS_VLM_DEEPSEEK_OCR_GUNDAM,
  TS_VLM_GPT4O_HIGH,
  TS_VLM_GPT4O_LOW,
  TS_VLM_CLAUDE,
  TS_VLM_GENERIC_VIT,
  TS_VLM_N_MODELS
} TsVlmModel;

/* The largest side either input dimension may have. */
#define TS_VLM_MAX_SIDE 1000000

/* Generic ViT: the user's resize policy and patch (and whether a CLS token counts). */
typedef struct {
  TsResize resize;
  int patch;
  gboolean cls;
} TsVlmGeneric;

typedef struct {
  TsVlmModel model;
  const char *name;      /* CLI name, e.g. "llava-next" */
  const char *label;     /* "LLaVA-NeXT (anyres)" */
  int tokens;            /* visual tokens */
  int resized_width;     /* the canvas the encoder sees (pinpoint, tile grid, resized image) */
  int resized_height;
  int content_width;     /* the image inside that canvas (aspect kept; = resized when stretched) */
  int content_height;
  int tile_cols, tile_rows; /* tile grid over the canvas; 0 x 0 when the model does not tile */
  int tile_width, tile_height;
  int extra_views;       /* global or thumbnail views besides the tiles (LLaVA-NeXT base, InternVL thumbnail) */
  int extra_view_size;   /* side of that square view */
  int unit;              /* token cell in canvas pixels (patch x merge), for drawing the token grid */
  gboolean approximate;  /* a published rule of thumb, not the model's code */
  const char *note;
} TsVlmCount;

/* Default generic ViT: square 224, patch 16, no CLS. */
void ts_vlm_generic_init (TsVlmGeneric *generic);

const char *ts_vlm_model_name (TsVlmModel model);
const char *ts_vlm_model_label (TsVlmModel model);
/* Accepts the CLI names (case-insensitive); TS_ERROR_INVALID_ARGUMENT listing them otherwise. */
gboolean ts_vlm_model_parse (const char *name, TsVlmModel *model, GError **error);

/* Tokens for a @width x @height image. @generic is used by TS_VLM_GENERIC_VIT
 * (NULL = defaults). TS_ERROR_INVALID_ARGUMENT for sizes outside 1..TS_VLM_MAX_SIDE
 * or an unknown model; TS_ERROR_UNSUPPORTED where the model itself refuses the
 * image (Qwen2-VL: aspect ratio over 200). */
gboolean ts_vlm_count (TsVlmModel model, int width, int height, const TsVlmGeneric *generic,
                       TsVlmCount *out, GError **error);

/* "WxH" (also "W x H", "W*H") -> sizes; TS_ERROR_INVALID_ARGUMENT otherwise. */
gboolean ts_vlm_parse_size (const char *text, int *width, int *height, GError **error);

G_END_DECLS
