/* ts-prune.h: importance pruning: top-k, VisionZip and PruMerge (REFERENCE 3).
 *
 * All three read one importance per token (higher = keep): the scene's own
 * (model CLS attention via ts_scene_set_importance) or, without one, feature
 * attention softmax(distinctiveness / tau) (ts_attention_importance). Ties are broken by the lower
 * patch index, so results are deterministic. Similarity is cosine on
 * scene->normalized: VisionZip and PruMerge read it from the scene's Gram
 * matrix (ts_scene_gram) when the scene has one; otherwise it is computed
 * with cblas_sgemm in blocks (never N x N).
 * Output tokens are in spatial order (smallest member patch); dropped
 * patches are -1 and the reconstruction fills them (TsDropFill: nearest kept
 * patch or mid-grey). Token features are the mean raw feature of the group.
 *
 *   prune      keep the k most important tokens, drop the rest (FastV /
 *              FasterVLM-style). k = the target.
 *   visionzip  k_d = round(target * dominant_fraction) dominant tokens by
 *              importance, kept as they are; the other N - k_d tokens are
 *              reduced to k_c = target - k_d contextual tokens: k_c targets
 *              evenly strided over them in raster order (j |R| / k_c), every
 *              other remaining token joins its most similar target, and each
 *              contextual token is the mean of its group. Nothing is dropped
 *              unless k_c = 0 (then the rest is dropped as in prune).
 *   prumerge   adaptive (the image chooses the count):
 *              keep the outliers above Q3 + 1.5 IQR of the importance
 *              (quartiles interpolated linearly, as numpy). A flat importance
 *              (no outlier, e.g. a uniform image or distinctiveness whose top
 *              quarter is a plateau) keeps the target's count of most important
 *              tokens instead, so the target is the fallback. Each kept token absorbs
 *              its k nearest non-kept tokens by cosine, k = ceil((N - m) / m)
 *              for m kept tokens (its fair share of the image); a token in
 *              several such lists joins the most similar of those kept tokens.
 *              Tokens no kept token chose are dropped (-1).
 * Functions are reentrant. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

/* Indices of the @k largest values of @importance (n), best first, ties to
 * the lower index; newly allocated. */
int *ts_prune_top_k (const float *importance, int n, int k);

/* Q3 + 1.5 (Q3 - Q1) of @values (n >= 1), quartiles as numpy.percentile's default. */
double ts_prune_iqr_threshold (const float *values, int n);

TsAssignment *ts_prune (const TsScene *scene, const float *importance, int keep, GError **error);
TsAssignment *ts_visionzip (const TsScene *scene, const float *importance, int dominant, int contextual,
                            GCancellable *cancellable, GError **error);
/* @neighbours: tokens each kept token absorbs; 0 = ceil((N - m) / m).
 * @fallback: tokens kept (top by importance) when no value is an outlier. */
TsAssignment *ts_prumerge (const TsScene *scene, const float *importance, int neighbours, int fallback,
                           GCancellable *cancellable, GError **error);

/* Registry entry points (ts-method.h). */
TsAssignment *ts_prune_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                            GError **error);
TsAssignment *ts_visionzip_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                                GError **error);
TsAssignment *ts_prumerge_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                               GError **error);
/* Every target from one run when they cannot differ (an importance outlier
 * exists, so the target is unused): exactly the single runs' results. */
gboolean ts_prumerge_run_multi (const TsScene *scene, const TsMethodParams *params, const int *targets,
                                int n_targets, TsAssignment **out, GCancellable *cancellable, GError **error);

G_END_DECLS
