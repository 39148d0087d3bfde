/* ts-document.h: the view-model behind a TokenScope window (no widgets).
 *
 * A TsDocument holds the loaded media and every setting of the data path
 * (resize, patch, features, method and its options, target ratio, attention
 * query and temperature) as GObject properties. Changing a property schedules
 * (after the debounce of ts_document_set_debounce, none by default) a
 * recomputation in two stages, each a GTask in a worker thread on an
 * immutable snapshot with its own GCancellable:
 *   1. the groups and the attention map (milliseconds): applied on the
 *      main thread and announced with TS_DOCUMENT_CHANGED_ASSIGNMENT; the
 *      reconstruction reads NULL and PSNR, SSIM and retention NAN now.
 *   2. the reconstruction of those groups, announced with
 *      TS_DOCUMENT_CHANGED_RECONSTRUCTION as soon as it exists, then their
 *      quality numbers, announced with TS_DOCUMENT_CHANGED_QUALITY.
 * A newer request cancels both stages of the older one; results of an older
 * request, or numbers of groups no longer shown, are dropped. "busy" is TRUE
 * from a change until both stages answered it. The quality-versus-ratio curves of every
 * registered method are measured whenever the scene changes, in a thread of
 * their own at a lower priority (nice 10 on Linux) so they never hold up a frame.
 *
 * Results are read with the getters below; the pointers they return stay
 * valid until the next "changed" emission (copy what you keep longer).
 * Everything here must be called from the main thread. */
#pragma once

#include "ts-entropy.h"

#include <gio/gio.h>

#include "core.h"

G_BEGIN_DECLS

#define TS_TYPE_DOCUMENT (ts_document_get_type ())
G_DECLARE_FINAL_TYPE (TsDocument, ts_document, TS, DOCUMENT, GObject)

/* What a "changed" emission brings; several bits may be set at once. */
typedef enum {
  TS_DOCUMENT_CHANGED_MEDIA = 1 << 0,      /* a new file or frame */
  TS_DOCUMENT_CHANGED_SCENE = 1 << 1,      /* resized image, grid, features */
  TS_DOCUMENT_CHANGED_ASSIGNMENT = 1 << 2, /* groups (the reconstruction follows) */
  TS_DOCUMENT_CHANGED_QUALITY = 1 << 3,    /* PSNR, SSIM, retention */
  TS_DOCUMENT_CHANGED_ATTENTION = 1 << 4,  /* the attention map */
  TS_DOCUMENT_CHANGED_CURVES = 1 << 5,     /* one or more curves */
  TS_DOCUMENT_CHANGED_RECONSTRUCTION = 1 << 6,
  TS_DOCUMENT_CHANGED_ENTROPY = 1 << 7,    /* the scene's token entropy */
} TsDocumentChanged;

/* The quality metrics a curve point carries. */
typedef enum {
  TS_METRIC_SSIM,
  TS_METRIC_PSNR,
  TS_METRIC_RETENTION,
  TS_N_METRICS,
} TsMetric;

/* Sample ratios of the curves. */
#define TS_CURVE_MAX_POINTS 16

typedef struct {
  double ratio;              /* achieved n_in / n_out */
  int tokens;                /* n_out */
  double values[TS_N_METRICS];
} TsCurvePoint;

typedef struct {
  const TsMethod *method;
  gboolean baseline;         /* the downsample baseline: drawn dashed */
  guint n_points;
  TsCurvePoint points[TS_CURVE_MAX_POINTS];
} TsCurve;

TsDocument *ts_document_new (void);

/* Waits up to @timeout_ms until no worker thread of any document is inside a
 * computation (finalized documents cancelled theirs; they stop at their next
 * check), so that the process does not exit under them. TRUE when none is left. */
gboolean ts_document_wait_workers (guint timeout_ms);
/* TRUE when TS_FRAME_TIMINGS is set and not "0": the document, canvas and
 * window log what a change costs up to its painted frame. */
gboolean ts_frame_timings_enabled (void);

/* Loading keeps the previous media when it fails (the error says why). */
void ts_document_load_file_async (TsDocument *self, const char *path, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
/* The same from memory (an embedded sample); @name is shown and used in messages. */
void ts_document_load_bytes_async (TsDocument *self, GBytes *bytes, const char *name,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean ts_document_load_finish (TsDocument *self, GAsyncResult *result, GError **error);

/* The frame of a multi-frame media (GIF, frame folder) the scene is built
 * from; clamped to the media's frames. A new file starts at frame 0. */
void ts_document_set_frame (TsDocument *self, guint frame);
guint ts_document_get_frame (TsDocument *self);
/* Frames of the loaded media (0 before anything is loaded). */
guint ts_document_get_n_frames (TsDocument *self);
/* The loaded media with a reference a worker thread may hold after the
 * document moved on (NULL when nothing is loaded); @media receives it.
 * Release with ts_document_media_unref (any thread). */
gpointer ts_document_media_ref (TsDocument *self, const TsMedia **media);
void ts_document_media_unref (gpointer ref);

/* Setters of the computation's inputs (each also a property). */
void ts_document_set_resize (TsDocument *self, TsResizePolicy policy, int size);
void ts_document_set_patch (TsDocument *self, int patch);
/* @npy_path: the .npy file for TS_FEATURES_NPY, the .safetensors ViT for
 * TS_FEATURES_MODEL (its patch size then replaces the patch setting, and its
 * CLS attention is the mean-token attention map). */
void ts_document_set_features (TsDocument *self, TsFeatureKind kind, const char *npy_path);
/* The model's hidden layer giving the features (negative counts from the end; default -2). */
void ts_document_set_model_layer (TsDocument *self, int layer);
int ts_document_get_model_layer (TsDocument *self);
/* How the model's tensors are read (default TS_VIT_FAMILY_AUTO: detected from their names). */
void ts_document_set_model_family (TsDocument *self, TsVitFamily family);
TsVitFamily ts_document_get_model_family (TsDocument *self);
void ts_document_set_method (TsDocument *self, const char *name);
void ts_document_set_ratio (TsDocument *self, double ratio);
/* Sets the ratio that gives @tokens output tokens for the current grid. */
void ts_document_set_target_tokens (TsDocument *self, int tokens);
void ts_document_set_pool_mode (TsDocument *self, TsPoolMode mode);
void ts_document_set_tau (TsDocument *self, double tau);
void ts_document_set_query (TsDocument *self, int token); /* -1: the mean token */
void ts_document_set_fill (TsDocument *self, TsDropFill fill);
/* Every method option of @options at once (the target and tau are kept). */
void ts_document_set_method_options (TsDocument *self, const TsMethodParams *options);
void ts_document_set_debounce (TsDocument *self, guint ms);
/* The methods the curves measure (NULL: every registered method). */
void ts_document_set_curve_methods (TsDocument *self, const char *const *names);

TsResizePolicy ts_document_get_resize_policy (TsDocument *self);
int ts_document_get_resize_size (TsDocument *self);
int ts_document_get_patch (TsDocument *self);
TsFeatureKind ts_document_get_feature_kind (TsDocument *self);
const char *ts_document_get_npy_path (TsDocument *self);
const TsMethod *ts_document_get_method (TsDocument *self);
double ts_document_get_ratio (TsDocument *self);
const TsMethodParams *ts_document_get_params (TsDocument *self);
int ts_document_get_query (TsDocument *self);

/* Results (NULL / NAN / 0 until computed). */
const char *ts_document_get_name (TsDocument *self);       /* "photo.jpg" */
const char *ts_document_get_path (TsDocument *self);       /* file path or NULL for samples */
const TsMedia *ts_document_get_media (TsDocument *self);
const TsScene *ts_document_get_scene (TsDocument *self);
const TsAssignment *ts_document_get_assignment (TsDocument *self);
const TsImage *ts_document_get_reconstruction (TsDocument *self);
/* grid.tokens values scaled to max 1, or NULL. */
const float *ts_document_get_attention (TsDocument *self);
int ts_document_get_tokens_in (TsDocument *self);
int ts_document_get_tokens_out (TsDocument *self);
double ts_document_get_psnr (TsDocument *self);
double ts_document_get_ssim (TsDocument *self);
double ts_document_get_retention (TsDocument *self);
/* Tokens per megapixel of the working image. */
double ts_document_get_tpm (TsDocument *self);
/* Curves computed so far; @n receives the count. */
const TsCurve *ts_document_get_curves (TsDocument *self, guint *n);
/* The k-means token entropy of the scene shown (core/ts-entropy.h, default
 * options), measured with the curves, before them; NULL until then. */
const TsEntropy *ts_document_get_entropy (TsDocument *self);
gboolean ts_document_get_busy (TsDocument *self);

/* Monotonic time (g_get_monotonic_time) of the oldest setting change the
 * current assignment answers (changes whose requests were cancelled are
 * answered by the newer one), for frame-latency measurements; 0 when none. */
gint64 ts_document_get_change_time (TsDocument *self);

/* The tokenscope-cli line that reproduces the current settings. */
char *ts_document_dup_command (TsDocument *self);
/* Writes the settings file the CLI reads with --settings (core/ts-settings.h). */
gboolean ts_document_export_settings (TsDocument *self, const char *path, GError **error);
/* The numbers panel as JSON / CSV text. */
char *ts_document_dup_numbers_json (TsDocument *self);
char *ts_document_dup_numbers_csv (TsDocument *self);

/* Settings persistence in a GKeyFile group "document". */
void ts_document_save_settings (TsDocument *self, GKeyFile *keyfile);
void ts_document_load_settings (TsDocument *self, GKeyFile *keyfile);

G_END_DECLS
