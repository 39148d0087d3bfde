/* ts-settings.h: every choice behind a result, in a small JSON file.
 *
 * A settings file records resize, patch, features, method, target, method
 * options, analysis choices and seed, so that a figure or a number can be
 * reproduced exactly. The CLI reads it with --settings FILE on every
 * subcommand (flags given after it override it) and writes it with
 * `tokenscope-cli settings export`; the GUI reads and writes the same file.
 *
 * Format (all members optional; missing ones take the defaults below):
 *   {
 *     "tokenscope_settings": 1,
 *     "resize": { "policy": "native|fit|square|pad", "size": 336 },
 *     "patch": 14,
 *     "features": { "kind": "pixel|descriptor|npy|model", "file": null, "cls": "auto|yes|no" },
 *     "method": "pool",
 *     "target": { "tokens": 0, "ratio": 4.0 },
 *     "params": { "pool_mode": "avg|max", "protected": 0, "adjacent_only": false,
 *                 "tome_r": 0, "dominant_fraction": 0.85, "rounds": 3, "tau": 0.1,
 *                 "detail": "blur|entropy|gradient", "entropy_threshold": 0,
 *                 "fill": "grey|nearest", "seed": 0 },
 *     "analysis": { "metric": "ssim|feature", "threshold": 0.95,
 *                   "ratios": [1, 2, 4, 8, 16, 32], "methods": [] },
 *     "model": { "file": null, "family": "auto", "layer": -2 }
 *   }
 * Unknown members are ignored and reported as warnings (newer files stay
 * readable); a member of the wrong type or an out-of-range value is an error
 * (TS_ERROR_BAD_DATA naming the file and the member). */
#pragma once

#include "ts-method.h"
#include "ts-npy.h"
#include "ts-resize.h"

G_BEGIN_DECLS

#define TS_SETTINGS_VERSION 1
#define TS_SETTINGS_MAX_BYTES (1024 * 1024)

typedef struct {
  TsResize resize;
  int patch;
  TsFeatureKind features;
  char *features_file;   /* npy path, or NULL */
  TsNpyCls cls;
  char *method;
  TsMethodParams params; /* tokens, ratio, seed and every method option */
  char *metric;          /* "ssim" or "feature" */
  double threshold;
  GArray *ratios;        /* double */
  GPtrArray *methods;    /* char*, empty = all */
  char *model_file;      /* ViT weights, or NULL */
  char *model_family;    /* "auto", "timm", "clip", "siglip", "dinov2" */
  int model_layer;       /* negative counts from the end: -2 = second last */
} TsSettings;

void ts_settings_init (TsSettings *s);   /* the defaults */
void ts_settings_clear (TsSettings *s);
void ts_settings_copy (TsSettings *dst, const TsSettings *src);

/* Parses @data; @warnings (optional) receives one string per ignored member. */
gboolean ts_settings_parse (TsSettings *s, const char *data, gssize len, const char *name,
                            GPtrArray *warnings, GError **error);
gboolean ts_settings_load (TsSettings *s, const char *path, GPtrArray *warnings, GError **error);
char *ts_settings_to_json (const TsSettings *s);
gboolean ts_settings_save (const TsSettings *s, const char *path, GError **error);

/* Enum names shared by the CLI, the GUI and the settings file. */
const char *ts_pool_mode_name (TsPoolMode mode);
gboolean ts_pool_mode_parse (const char *text, TsPoolMode *mode, GError **error);
const char *ts_detail_name (TsDetailScore detail);
gboolean ts_detail_parse (const char *text, TsDetailScore *detail, GError **error);
const char *ts_drop_fill_name (TsDropFill fill);
gboolean ts_drop_fill_parse (const char *text, TsDropFill *fill, GError **error);
const char *ts_npy_cls_name (TsNpyCls cls);
gboolean ts_npy_cls_parse (const char *text, TsNpyCls *cls, GError **error);

/* A list of compression ratios as users type it: "1,2,4,8", "1 2 4 8" or
 * "2x, 4x"; 1 to @max finite numbers >= 1 into @ratios (*@n of them). */
gboolean ts_ratio_list_parse (const char *text, double *ratios, int max, int *n, GError **error);

/* The tokenscope-cli compress command line reproducing @s on @image
 * (arguments shell-quoted). */
char *ts_settings_to_command (const TsSettings *s, const char *image);

G_END_DECLS
