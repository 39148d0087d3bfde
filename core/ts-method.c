#include "ts-method.h"
#include "ts-downsample.h"
#include "ts-adaptive.h"
#include "ts-error.h"
#include "ts-greedy.h"
#include "ts-optical.h"
#include "ts-pool.h"
#include "ts-tome.h"
#include "ts-prune.h"
#include "ts-resample.h"

#include <math.h>
#include <string.h>

/* Display order. Each method's explanation is what the GUI shows for teaching. */
static const TsMethod methods[] = {
  { "pool", "Pooling k x k",
    "Average (or max) k x k neighbouring tokens into one: CR = k^2",
    "Spatial pooling groups the token grid into k x k cells and replaces each cell by the average "
    "(or maximum) of its tokens: x_cell = (1 / k^2) sum x_i. The compression ratio is k^2 (edge "
    "cells pool what exists). Simple, fast and content-blind: a sky cell and a face cell cost the "
    "same. LLaVA-style 2 x 2 pooling gives 4x with little loss.",
    TS_METHOD_QUANTISED | TS_METHOD_REGIONS, ts_pool_run },
  { "tome", "ToMe bipartite matching",
    "Merge the most similar tokens between alternating halves A and B, r per step (Bolya et al. 2023)",
    "Token Merging splits the tokens alternately into A and B, lets every A token pick its most similar "
    "B token by cosine similarity, s_i = max_j cos(a_i, b_j), and merges the r best-scoring A tokens into "
    "their partners. Merging is size-weighted, x = (sum size_i x_i) / (sum size_i), and sizes add, so a "
    "token that already stands for 10 patches weighs 10 times more. Steps repeat with "
    "r = min(n - target, floor(n / 2)) until the target. Tokens stay in order of their first patch, so "
    "the A/B alternation remains spatial. Protected tokens (a CLS) are never merged.",
    0, ts_tome_run },
  { "greedy", "Greedy agglomerative merging",
    "Repeatedly merge the single most similar pair of groups until the target",
    "Agglomerative merging looks at all pairs and merges the most similar one, "
    "argmax_{g != h} cos(m_g, m_h), where m is the size-weighted mean of a group's tokens; the merged "
    "group's mean is (s_g m_g + s_h m_h) / (s_g + s_h). One pair per step makes it slower than ToMe but "
    "never forces a merge just because a token sits on the A side. With adjacent-only, only groups that "
    "touch on the grid may merge, which yields connected superpixel-like regions.",
    TS_METHOD_GRAM, ts_greedy_run, ts_greedy_run_multi },
  { "downsample", "Downsample baseline",
    "Shrink the image until the target number of tokens covers it at the same patch size",
    "The honest baseline: instead of compressing tokens, resize the image so that rows' x cols' = target "
    "tokens cover it at patch P (aspect kept, the largest reachable count <= target), e.g. 672 -> 308 "
    "pixels gives 22 x 22 = 484 tokens at P 14. Each original patch maps to the small token that contains "
    "its centre. Studies (VTC-Bench, 2025) find it beats many clever methods: compare against it.",
    TS_METHOD_QUANTISED | TS_METHOD_REGIONS, ts_downsample_run },
  { "optical", "Optical compression geometry (DeepSeek-OCR, stand-in)",
    "DeepSeek-OCR's token geometry: S x S view, patch 16, 16x compressor; 4 x 4 pooling stands in",
    "DeepSeek-OCR encodes a page at patch 16 and compresses 16x with two stride-2 convolutions, so an "
    "S x S view costs (S / 64)^2 tokens: Tiny 512 -> 64, Small 640 -> 100, Base 1024 -> 256, "
    "Large 1280 -> 400, Gundam n x 100 + 256. STAND-IN: the learned compressor needs its weights, so "
    "this method lays the mode's (S / 64) x (S / 64) grid over the image and averages 4 x 4 patches at "
    "patch 16 in each cell. It shows the budget and geometry of the largest mode within the target, not "
    "DeepSeek-OCR's quality.",
    TS_METHOD_QUANTISED | TS_METHOD_REGIONS | TS_METHOD_STAND_IN, ts_optical_run },
  { "prune", "Importance pruning (top-k)",
    "Keep the k most important tokens, drop the rest (FastV / FasterVLM-style)",
    "Pruning keeps the k tokens with the highest importance s_i and drops the others: "
    "kept = argtop-k_i s_i. With a ViT, s_i is the [CLS] attention to patch i (FasterVLM) or the attention "
    "a token receives in an early LLM layer (FastV); without a model TokenScope uses feature "
    "distinctiveness as an attention distribution, s_i = softmax_i((1 - mean_j cos(x_i, x_j)) / tau), "
    "the tokens least like the rest. Kept tokens are "
    "unchanged; dropped patches carry no information (the reconstruction fills them from the nearest kept "
    "patch or grey). Published points on LLaVA-1.5: FasterVLM keeps ~90% of performance with 5% of tokens.",
    TS_METHOD_DROPS, ts_prune_run },
  { "visionzip", "VisionZip (dominant + contextual)",
    "k_d most important tokens plus k_c merged contextual tokens",
    "VisionZip keeps k_d dominant tokens by importance (k_d = dominant fraction x budget, 0.85 by default: "
    "54 of 64 in the paper) and summarises everything else in k_c = budget - k_d contextual tokens: k_c "
    "targets are taken evenly strided among the remaining tokens, every other remaining token joins its most "
    "similar target (argmax_t cos(x_i, x_t)), and each contextual token is the mean of its group, "
    "c_t = (1/|G_t|) sum_{i in G_t} x_i. Nothing is lost outright: the background survives as a few "
    "averages. Reported: ~95% of LLaVA-1.5's performance with 64 of 576 tokens.",
    TS_METHOD_GRAM, ts_visionzip_run },
  { "prumerge", "PruMerge (adaptive IQR)",
    "Keep importance outliers (> Q3 + 1.5 IQR), each absorbing its nearest tokens; the image sets the count",
    "LLaVA-PruMerge lets the image choose how many tokens it needs: a token is kept when its importance is an "
    "outlier, s_i > Q3 + 1.5 (Q3 - Q1) (the box-plot rule on the importance distribution), so a busy image "
    "keeps more than a plain one. Each kept token then absorbs its k most similar non-kept tokens by cosine "
    "(k = ceil((N - m) / m) for m kept tokens) and becomes their mean, so pruned context is merged rather "
    "than lost; tokens no kept token absorbed are dropped. The target is only a fallback for images whose "
    "importance has no outlier (then the target's top-k are kept).",
    TS_METHOD_DROPS | TS_METHOD_AUTO_COUNT | TS_METHOD_GRAM, ts_prumerge_run, ts_prumerge_run_multi },
  { "resample", "Cross-attention resampler (K queries)",
    "K queries attend to all tokens (Q-Former 32, Perceiver Resampler 64 shape), training-free",
    "A resampler replaces N tokens by K learned queries that read the image through cross-attention: "
    "BLIP-2's Q-Former uses 32 queries, Flamingo's Perceiver Resampler 64 latents. Without trained weights "
    "TokenScope initialises the queries as k-means centroids of the tokens and refines them for a few rounds "
    "of Q <- softmax(Q X^T / (tau sqrt(D))) X (tokens scaled to norm sqrt(D)). Output token q is the "
    "attention-weighted mix sum_j A_qj x_j, so every patch can contribute to every query; for overlays each "
    "patch is drawn in the group of the query that attends to it most (argmax_q A_qj). The count is fixed "
    "whatever the image: 32 queries for a 4K scan and for a blank page alike.",
    TS_METHOD_SPLIT_TARGETS | TS_METHOD_GRAM, ts_resample_run, ts_resample_run_multi },
  { "adaptive", "Adaptive quadtree patching",
    "Big patches where the image is plain, small ones where it has detail (Quadformer, APT)",
    "Adaptive patching lets patch size follow content. Regions are squares of sP pixels (s = 1, 2, "
    "4, ...) on a quadtree, each one token: its pixels resampled to P x P. Start from the coarsest "
    "squares that tile the image, then repeatedly split the region with the highest detail score into "
    "its 4 children (+3 tokens) while the budget allows, so counts go n0, n0 + 3, ... and the result is "
    "the largest of them within the budget (a budget below the coarsest tiling, e.g. 6 tokens on a "
    "48 x 48 grid, gets the coarsest tiling). Detail scores: pixel-blur error MSE(R, up(down(R))) (what "
    "one token would lose), luma entropy H = -sum p log2 p (bits), or mean gradient energy |grad Y|^2. "
    "APT-style threshold mode instead splits every region whose entropy exceeds a threshold, so the "
    "image chooses the count. Sky becomes a few large tokens and faces and text keep full resolution.",
    TS_METHOD_QUANTISED | TS_METHOD_REGIONS, ts_adaptive_run },
};

static const TsMethod *method_list[G_N_ELEMENTS (methods)];

void
ts_method_params_init (TsMethodParams *params)
{
  memset (params, 0, sizeof *params);
  params->ratio = 4.0;
  params->pool_mode = TS_POOL_AVG;
  params->dominant_fraction = 0.85;
  params->rounds = 3;
  params->tau = 0.1;
  params->detail = TS_DETAIL_BLUR_ERROR;
  params->fill = TS_DROP_FILL_GREY;
}

const TsMethod *const *
ts_methods (guint *n)
{
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    method_list[i] = &methods[i];
  if (n)
    *n = G_N_ELEMENTS (methods);
  return method_list;
}

const TsMethod *
ts_method_find (const char *name, GError **error)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      if (name != NULL && g_ascii_strcasecmp (name, methods[i].name) == 0)
        return &methods[i];
      g_string_append_printf (names, "%s%s", i ? ", " : "", methods[i].name);
    }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown method '%s' (choose from %s)",
               name ? name : "", names->str);
  return NULL;
}

int
ts_method_target (const TsMethodParams *params, int n_in)
{
  double t;

  if (params->tokens > 0)
    return CLAMP (params->tokens, 1, n_in);
  t = params->ratio > 0 ? n_in / params->ratio : n_in;
  return CLAMP ((int) lround (t), 1, n_in);
}

TsAssignment *
ts_method_run (const TsMethod *method, const TsScene *scene, const TsMethodParams *params,
               GCancellable *cancellable, GError **error)
{
  TsAssignment *a;

  if (params->tokens < 0 || (params->tokens == 0 && !(params->ratio >= 1.0)))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "the target must be a token count >= 1 or a ratio >= 1 (got tokens %d, ratio %g)",
                   params->tokens, params->ratio);
      return NULL;
    }
  a = method->run (scene, params, cancellable, error);
  if (a == NULL)
    return NULL;
  g_free (a->method);
  a->method = g_strdup (method->name);
  if (!ts_assignment_validate (a, &scene->grid, error))
    {
      g_prefix_error (error, "%s produced an invalid assignment: ", method->name);
      ts_assignment_free (a);
      return NULL;
    }
  return a;
}

gboolean
ts_method_run_targets (const TsMethod *method, const TsScene *scene, const TsMethodParams *params,
                       const int *targets, int n_targets, TsAssignment **out, GCancellable *cancellable,
                       GError **error)
{
  TsMethodParams one = *params;

  for (int i = 0; i < n_targets; i++)
    out[i] = NULL;
  if (method->run_multi == NULL)
    {
      for (int i = 0; i < n_targets; i++)
        {
          one.tokens = targets[i];
          if ((out[i] = ts_method_run (method, scene, &one, cancellable, error)) == NULL)
            return FALSE;
        }
      return TRUE;
    }
  for (int i = 0; i < n_targets; i++)
    if (targets[i] < 1)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the target must be a token count >= 1 (got %d)",
                     targets[i]);
        return FALSE;
      }
  if (!method->run_multi (scene, params, targets, n_targets, out, cancellable, error))
    return FALSE;
  for (int i = 0; i < n_targets; i++)
    {
      g_free (out[i]->method);
      out[i]->method = g_strdup (method->name);
      if (!ts_assignment_validate (out[i], &scene->grid, error))
        {
          g_prefix_error (error, "%s produced an invalid assignment: ", method->name);
          return FALSE;
        }
    }
  return TRUE;
}
