#include "ts-prune.h"
#include "ts-attention.h"
#include "ts-error.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Higher importance first, then the lower index. */
static gint
by_importance (gconstpointer a, gconstpointer b, gpointer data)
{
  const float *v = data;
  int i = *(const int *) a, j = *(const int *) b;

  if (v[i] != v[j])
    return v[i] > v[j] ? -1 : 1;
  return (i > j) - (i < j);
}

int *
ts_prune_top_k (const float *importance, int n, int k)
{
  int *order = g_new (int, MAX (n, 1));

  for (int i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, n, sizeof (int), by_importance, (gpointer) importance);
  return g_renew (int, order, MAX (CLAMP (k, 0, n), 1));
}

static gint
cmp_float (gconstpointer a, gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static double
quantile_sorted (const float *s, int n, double q)
{
  double pos = q * (n - 1);
  int lo = (int) floor (pos);
  int hi = MIN (lo + 1, n - 1);
  return s[lo] + (pos - lo) * ((double) s[hi] - s[lo]);
}

double
ts_prune_iqr_threshold (const float *values, int n)
{
  g_autofree float *s = g_memdup2 (values, sizeof (float) * n);
  double q1, q3;

  qsort (s, n, sizeof (float), cmp_float);
  q1 = quantile_sorted (s, n, 0.25);
  q3 = quantile_sorted (s, n, 0.75);
  return q3 + 1.5 * (q3 - q1);
}

static gboolean
check_scene (const TsScene *scene, const float *importance, GError **error)
{
  if (scene == NULL || scene->normalized == NULL || importance == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "pruning needs a scene and an importance per token");
      return FALSE;
    }
  for (int i = 0; i < scene->grid.tokens; i++)
    if (!isfinite (importance[i]))
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "the importance of token %d is not a finite number", i);
        return FALSE;
      }
  return TRUE;
}

/* Groups set, output tokens renumbered spatially, sizes and mean features filled. */
static TsAssignment *
finish (TsAssignment *a, const TsScene *scene)
{
  ts_assignment_fill_group_means (a, scene->features);
  ts_assignment_sort_spatial (a);
  a->recon = TS_RECON_GROUP_MEAN;
  return a;
}

TsAssignment *
ts_prune (const TsScene *scene, const float *importance, int keep, GError **error)
{
  int n;
  g_autofree int *top = NULL;
  TsAssignment *a;

  if (!check_scene (scene, importance, error))
    return NULL;
  n = scene->grid.tokens;
  if (keep < 1 || keep > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "cannot keep %d of %d tokens", keep, n);
      return NULL;
    }
  if ((a = ts_assignment_new (n, keep, scene->features->d, error)) == NULL)
    return NULL;
  top = ts_prune_top_k (importance, n, keep);
  for (int t = 0; t < keep; t++)
    a->groups[top[t]] = t;
  return finish (a, scene);
}

/* Called with row @i's cosines @sims to every column (n_cols of them). */
typedef void (*RowFunc) (int i, const float *sims, int n_cols, gpointer data);

/* The cosines (on scene->normalized) of tokens @rows (n_rows) with tokens
 * @cols (n_cols), handed to @func row by row, in order: gathered from the
 * scene's Gram matrix when it has one, else by cblas_sgemm in blocks of rows
 * (about 16 MB of cosines, never N x N). */
static gboolean
cosine_rows (const TsScene *scene, const int *rows, int n_rows, const int *cols, int n_cols, RowFunc func,
             gpointer data, GCancellable *cancellable, GError **error)
{
  const TsFeatures *x = scene->normalized;
  const float *G = ts_scene_gram (scene);
  int d = x->d, bs = MIN (CLAMP ((1 << 22) / MAX (n_cols, 1), 1, 8192), MAX (n_rows, 1));
  g_autofree float *cb = NULL;
  g_autofree float *rb = NULL;
  g_autofree float *sims = g_try_new (float, (gsize) (G != NULL ? 1 : bs) * n_cols);

  if (sims == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d x %d similarities", bs, n_cols);
      return FALSE;
    }
  if (G != NULL)
    {
      for (int i = 0; i < n_rows; i++)
        {
          const float *grow = G + (gsize) rows[i] * x->n;
          if ((i & 63) == 0 && ts_check_cancelled (cancellable, error))
            return FALSE;
          for (int j = 0; j < n_cols; j++)
            sims[j] = grow[cols[j]];
          func (i, sims, n_cols, data);
        }
      return TRUE;
    }
  cb = g_new (float, (gsize) n_cols * d);
  rb = g_new (float, (gsize) bs * d);
  for (int j = 0; j < n_cols; j++)
    memcpy (cb + (gsize) j * d, x->data + (gsize) cols[j] * d, sizeof (float) * d);
  for (int i0 = 0; i0 < n_rows; i0 += bs)
    {
      int nb = MIN (bs, n_rows - i0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      for (int i = 0; i < nb; i++)
        memcpy (rb + (gsize) i * d, x->data + (gsize) rows[i0 + i] * d, sizeof (float) * d);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, nb, n_cols, d, 1.0f, rb, d, cb, d, 0.0f, sims, n_cols);
      for (int i = 0; i < nb; i++)
        func (i0 + i, sims + (gsize) i * n_cols, n_cols, data);
    }
  return TRUE;
}

/* VisionZip: the most similar target of a remaining token, ties to the lower one. */
static void
nearest_target (int i, const float *sims, int n_cols, gpointer data)
{
  int *best = data, b = 0;

  for (int j = 1; j < n_cols; j++)
    if (sims[j] > sims[b])
      b = j;
  best[i] = b;
}

TsAssignment *
ts_visionzip (const TsScene *scene, const float *importance, int dominant, int contextual,
              GCancellable *cancellable, GError **error)
{
  int n, n_rest = 0, k;
  g_autofree int *top = NULL;
  g_autofree int *rest = NULL;
  g_autofree int *targets = NULL;
  g_autofree int *best = NULL;
  g_autofree gboolean *is_dom = NULL;
  TsAssignment *a;

  if (!check_scene (scene, importance, error))
    return NULL;
  n = scene->grid.tokens;
  if (dominant < 0 || contextual < 0 || dominant + contextual < 1 || dominant + contextual > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "VisionZip needs dominant + contextual tokens in 1..%d (got %d + %d)", n, dominant, contextual);
      return NULL;
    }
  k = dominant + contextual;
  if ((a = ts_assignment_new (n, k, scene->features->d, error)) == NULL)
    return NULL;
  is_dom = g_new0 (gboolean, n);
  if (dominant > 0)
    {
      top = ts_prune_top_k (importance, n, dominant);
      for (int t = 0; t < dominant; t++)
        {
          is_dom[top[t]] = TRUE;
          a->groups[top[t]] = t;
        }
    }
  rest = g_new (int, n);
  for (int i = 0; i < n; i++)
    if (!is_dom[i])
      rest[n_rest++] = i;
  if (contextual > 0 && n_rest > 0)
    {
      g_autofree gboolean *is_target = g_new0 (gboolean, n);
      targets = g_new (int, contextual);
      for (int j = 0; j < contextual; j++)
        {
          targets[j] = rest[(int) ((gint64) j * n_rest / contextual)];
          is_target[targets[j]] = TRUE;
        }
      best = g_new (int, n_rest);
      if (!cosine_rows (scene, rest, n_rest, targets, contextual, nearest_target, best, cancellable, error))
        {
          ts_assignment_free (a);
          return NULL;
        }
      for (int i = 0; i < n_rest; i++)
        a->groups[rest[i]] = dominant + best[i];
      for (int j = 0; j < contextual; j++) /* a target always stays in its own group */
        a->groups[targets[j]] = dominant + j;
    }
  return finish (a, scene);
}

typedef struct {
  float sim;
  int index;
} Candidate;

/* Higher similarity first, then the lower index. */
static gboolean
cand_before (const Candidate *a, const Candidate *b)
{
  return a->sim > b->sim || (a->sim == b->sim && a->index < b->index);
}

/* Restores the heap order below @i: every parent comes after (is worse
 * than) its children, so heap[0] is the worst of the @k kept. */
static void
sift_down (Candidate *heap, int k, int i)
{
  for (;;)
    {
      int w = i, l = 2 * i + 1, r = l + 1;
      if (l < k && cand_before (&heap[w], &heap[l]))
        w = l;
      if (r < k && cand_before (&heap[w], &heap[r]))
        w = r;
      if (w == i)
        return;
      Candidate t = heap[i];
      heap[i] = heap[w];
      heap[w] = t;
      i = w;
    }
}

/* The @k best of @row (n values, candidate r = row[r]) into @heap (k, in no
 * particular order): one pass keeping the k best so far, the worst on top,
 * so most values cost one comparison. */
static void
select_best (const float *row, int n, int k, Candidate *heap)
{
  for (int r = 0; r < k; r++)
    heap[r] = (Candidate){ row[r], r };
  for (int i = k / 2 - 1; i >= 0; i--)
    sift_down (heap, k, i);
  for (int r = k; r < n; r++)
    {
      /* a later index never wins a tie: only a higher similarity enters */
      if (row[r] > heap[0].sim)
        {
          heap[0] = (Candidate){ row[r], r };
          sift_down (heap, k, 0);
        }
    }
}

typedef struct {
  int k;
  Candidate *cand; /* n_rest scratch */
  int *owner;      /* by remaining token: the kept token it joins, or -1 */
  float *owner_sim;
} Absorb;

/* Kept token @c (cosines @row with the n_rest remaining tokens) offers
 * itself to its k most similar: a token joins the most similar kept token
 * that chose it (kept tokens come in increasing order: strict > keeps ties on
 * the lower one). */
static void
absorb (int c, const float *row, int n_rest, gpointer data)
{
  Absorb *ab = data;

  select_best (row, n_rest, ab->k, ab->cand);
  for (int j = 0; j < ab->k; j++)
    {
      int r = ab->cand[j].index;
      if (ab->owner[r] < 0 || ab->cand[j].sim > ab->owner_sim[r])
        ab->owner[r] = c, ab->owner_sim[r] = ab->cand[j].sim;
    }
}

TsAssignment *
ts_prumerge (const TsScene *scene, const float *importance, int neighbours, int fallback,
             GCancellable *cancellable, GError **error)
{
  int n, m = 0, n_rest = 0, k;
  double threshold;
  g_autofree int *kept = NULL;
  g_autofree int *rest = NULL;
  g_autofree int *owner = NULL;
  g_autofree float *owner_sim = NULL;
  g_autofree Candidate *cand = NULL;
  Absorb ab;
  TsAssignment *a;

  if (!check_scene (scene, importance, error))
    return NULL;
  if (neighbours < 0 || fallback < 1 || fallback > scene->grid.tokens)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "PruMerge needs neighbours >= 0 and a fallback count in 1..%d (got %d, %d)",
                   scene->grid.tokens, neighbours, fallback);
      return NULL;
    }
  n = scene->grid.tokens;
  threshold = ts_prune_iqr_threshold (importance, n);
  kept = g_new (int, n);
  rest = g_new (int, n);
  for (int i = 0; i < n; i++)
    if (importance[i] > threshold)
      kept[m++] = i;
    else
      rest[n_rest++] = i;
  if (m == 0)
    {
      /* A flat importance has no outlier: the caller's hint decides. */
      g_autofree int *top = ts_prune_top_k (importance, n, fallback);
      g_autofree gboolean *is_kept = g_new0 (gboolean, n);
      for (int t = 0; t < fallback; t++)
        is_kept[top[t]] = TRUE;
      n_rest = 0;
      for (int i = 0; i < n; i++)
        if (is_kept[i])
          kept[m++] = i;
        else
          rest[n_rest++] = i;
    }
  if ((a = ts_assignment_new (n, m, scene->features->d, error)) == NULL)
    return NULL;
  for (int c = 0; c < m; c++)
    a->groups[kept[c]] = c;
  if (n_rest == 0)
    return finish (a, scene);

  k = neighbours > 0 ? MIN (neighbours, n_rest) : MIN ((n_rest + m - 1) / m, n_rest);
  owner = g_new (int, n_rest);
  owner_sim = g_new (float, n_rest);
  cand = g_new (Candidate, n_rest);
  for (int r = 0; r < n_rest; r++)
    owner[r] = -1;
  ab = (Absorb){ k, cand, owner, owner_sim };
  if (!cosine_rows (scene, kept, m, rest, n_rest, absorb, &ab, cancellable, error))
    {
      ts_assignment_free (a);
      return NULL;
    }
  for (int r = 0; r < n_rest; r++)
    if (owner[r] >= 0)
      a->groups[rest[r]] = owner[r];
  return finish (a, scene);
}

static float *
scene_importance (const TsScene *scene, GError **error)
{
  return ts_attention_importance (scene, NULL, error);
}

TsAssignment *
ts_prune_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  g_autofree float *imp = NULL;

  if (ts_check_cancelled (cancellable, error) || (imp = scene_importance (scene, error)) == NULL)
    return NULL;
  return ts_prune (scene, imp, ts_method_target (params, scene->grid.tokens), error);
}

TsAssignment *
ts_visionzip_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  g_autofree float *imp = NULL;
  int target = ts_method_target (params, scene->grid.tokens);
  int dominant;

  if (!(params->dominant_fraction >= 0 && params->dominant_fraction <= 1))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "the VisionZip dominant fraction must be between 0 and 1, not %g", params->dominant_fraction);
      return NULL;
    }
  if ((imp = scene_importance (scene, error)) == NULL)
    return NULL;
  dominant = CLAMP ((int) lround (target * params->dominant_fraction), 0, target);
  return ts_visionzip (scene, imp, dominant, target - dominant, cancellable, error);
}

TsAssignment *
ts_prumerge_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  g_autofree float *imp = NULL;

  if ((imp = scene_importance (scene, error)) == NULL)
    return NULL;
  return ts_prumerge (scene, imp, 0, ts_method_target (params, scene->grid.tokens), cancellable, error);
}

/* The target is only PruMerge's fallback: when the importance has an outlier
 * every target gives the same assignment, made once and copied. */
gboolean
ts_prumerge_run_multi (const TsScene *scene, const TsMethodParams *params, const int *targets, int n_targets,
                       TsAssignment **out, GCancellable *cancellable, GError **error)
{
  g_autofree float *imp = NULL;
  gboolean outlier = FALSE;
  int n;

  for (int i = 0; i < n_targets; i++)
    out[i] = NULL;
  if ((imp = scene_importance (scene, error)) == NULL)
    return FALSE;
  n = scene->grid.tokens;
  {
    double threshold = ts_prune_iqr_threshold (imp, n);
    for (int i = 0; i < n && !outlier; i++)
      outlier = imp[i] > threshold;
  }
  for (int i = 0; i < n_targets; i++)
    {
      int same = -1;
      for (int j = 0; j < i && same < 0; j++)
        if (targets[j] == targets[i] || outlier)
          same = j;
      if (same >= 0 && targets[i] >= 1 && targets[i] <= n) /* a bad target still fails as a single run would */
        out[i] = ts_assignment_copy (out[same]);
      else if ((out[i] = ts_prumerge (scene, imp, 0, targets[i], cancellable, error)) == NULL)
        return FALSE;
    }
  return TRUE;
}

