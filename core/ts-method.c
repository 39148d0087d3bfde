#include "ts-method.h"
#include "ts-downsample.h"
#include "ts-error.h"
#include "ts-greedy.h"
#include "ts-optical.h"
#include "ts-pool.h"
#include "ts-tome.h"

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
    0, ts_greedy_run },
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
  params->fill = TS_DROP_FILL_NEAREST;
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
