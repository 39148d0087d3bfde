/* ts-document-budget.c: budget options and VLM counts for a TsDocument. See ts-document-budget.h. */
#include "ts-document-budget.h"

#include <string.h>

typedef struct {
  TsScene *scene;
  int context, text;
  TsMethodParams params;
} BudgetJob;

static void
budget_job_free (gpointer data)
{
  BudgetJob *job = data;

  ts_scene_free (job->scene);
  g_free (job);
}

/* A private copy of @scene for a worker (the document's may be replaced at any time). */
static TsScene *
scene_copy (const TsScene *scene, GError **error)
{
  TsImage *image = ts_image_copy (scene->image);
  TsFeatures *features = ts_features_copy (scene->features);
  TsScene *copy;

  if (image == NULL || features == NULL)
    {
      ts_image_free (image);
      ts_features_free (features);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory copying the scene");
      return NULL;
    }
  copy = ts_scene_new (image, scene->grid.patch, scene->kind, features, error);
  if (copy && scene->importance)
    ts_scene_set_importance (copy, g_memdup2 (scene->importance, sizeof (float) * scene->grid.tokens),
                             scene->importance_source);
  return copy;
}

static void
budget_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BudgetJob *job = task_data;
  GError *error = NULL;
  TsBudgetFixed *fixed = ts_budget_fixed (job->scene, job->context, job->text, NULL, &job->params, cancellable,
                                          &error);

  if (fixed)
    g_task_return_pointer (task, fixed, (GDestroyNotify) ts_budget_fixed_free);
  else
    g_task_return_error (task, error);
}

void
ts_document_budget_async (TsDocument *self, int context, int text, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  const TsScene *scene = ts_document_get_scene (self);
  GError *error = NULL;
  BudgetJob *job;

  g_task_set_source_tag (task, ts_document_budget_async);
  g_task_set_return_on_cancel (task, FALSE);
  if (scene == NULL)
    {
      g_task_return_new_error (task, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "open an image first");
      return;
    }
  if (ts_budget_visual (context, text, &error) < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  job = g_new0 (BudgetJob, 1);
  job->context = context;
  job->text = text;
  job->params = *ts_document_get_params (self);
  job->scene = scene_copy (scene, &error);
  g_task_set_task_data (task, job, budget_job_free);
  if (job->scene == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_priority (task, G_PRIORITY_LOW);
  g_task_run_in_thread (task, budget_thread);
}

TsBudgetFixed *
ts_document_budget_finish (TsDocument *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
ts_budget_option_method (const TsBudgetOption *option)
{
  if (option == NULL || !option->available)
    return NULL;
  return option->letter == 'A' ? "downsample" : option->method;
}

gboolean
ts_document_apply_budget_option (TsDocument *self, const TsBudgetOption *option, GError **error)
{
  const char *method = ts_budget_option_method (option);

  if (method == NULL || option->tokens < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "option %c is not available for this image",
                   option ? option->letter : '?');
      return FALSE;
    }
  if (ts_method_find (method, error) == NULL)
    return FALSE;
  ts_document_set_method (self, method);
  ts_document_set_target_tokens (self, option->tokens);
  return TRUE;
}

GArray *
ts_document_vlm_counts (TsDocument *self)
{
  const TsMedia *media = ts_document_get_media (self);
  TsVlmGeneric generic;
  GArray *rows;
  const TsImage *image;

  if (media == NULL || media->n_frames == 0)
    return NULL;
  image = media->frames[0];
  ts_vlm_generic_init (&generic);
  generic.resize.policy = ts_document_get_resize_policy (self);
  generic.resize.size = ts_document_get_resize_size (self);
  generic.patch = ts_document_get_patch (self);
  rows = g_array_sized_new (FALSE, TRUE, sizeof (TsVlmCount), TS_VLM_N_MODELS);
  for (int m = 0; m < TS_VLM_N_MODELS; m++)
    {
      TsVlmCount c = { 0 };
      g_autoptr (GError) error = NULL;

      if (!ts_vlm_count (m, image->width, image->height, &generic, &c, &error))
        {
          memset (&c, 0, sizeof c);
          c.model = m;
          c.name = ts_vlm_model_name (m);
          c.label = ts_vlm_model_label (m);
          c.tokens = -1;
          c.note = "the model refuses this image (its size or aspect ratio is outside what it accepts)";
        }
      g_array_append_val (rows, c);
    }
  return rows;
}
