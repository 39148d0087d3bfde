#include "ts-method.h"
#include "ts-adaptive.h"
#include "ts-error.h"
#include "ts-pool.h"

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
  { "adaptive", "Adaptive quadtree patching",
    "Big patches where the image is plain, small ones where it has detail (Quadformer, APT)",
    "Adaptive patching lets patch size follow content. Regions are squares of sP pixels (s = 1, 2, "
    "4, ...) on a quadtree, each one token: its pixels resampled to P x P. Start from the coarsest "
    "squares that tile the image, then repeatedly split the region with the highest detail score into "
    "its 4 children (+3 tokens) while the budget allows, so counts go n0, n0 + 3, ... and the result is "
    "the largest of them within the budget. Detail scores: pixel-blur error MSE(R, up(down(R))) (what "
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
