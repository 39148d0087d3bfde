#include "ts-assignment.h"
#include "ts-error.h"
#include "ts-simd.h"

#include <string.h>

TsAssignment *
ts_assignment_new (int n_in, int n_out, int d, GError **error)
{
  TsAssignment *a;

  if (n_in <= 0 || n_out <= 0 || n_out > n_in || d < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "invalid assignment of %d patches to %d tokens", n_in, n_out);
      return NULL;
    }
  a = g_new0 (TsAssignment, 1);
  a->n_in = n_in;
  a->n_out = n_out;
  a->d = d;
  a->groups = g_new (int, n_in);
  for (int i = 0; i < n_in; i++)
    a->groups[i] = -1;
  a->sizes = g_new0 (int, n_out);
  if (d > 0)
    {
      a->features = g_try_new0 (float, (gsize) n_out * d);
      if (a->features == NULL)
        {
          ts_assignment_free (a);
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%d x %d token features do not fit in memory",
                       n_out, d);
          return NULL;
        }
    }
  return a;
}

TsAssignment *
ts_assignment_copy (const TsAssignment *a)
{
  TsAssignment *c = ts_assignment_new (a->n_in, a->n_out, a->d, NULL);

  memcpy (c->groups, a->groups, sizeof (int) * a->n_in);
  memcpy (c->sizes, a->sizes, sizeof (int) * a->n_out);
  if (a->d > 0)
    memcpy (c->features, a->features, sizeof (float) * a->n_out * a->d);
  if (a->regions)
    c->regions = g_memdup2 (a->regions, sizeof (TsRect) * a->n_out);
  if (a->mix)
    c->mix = g_memdup2 (a->mix, sizeof (float) * (gsize) a->n_out * a->n_in);
  c->recon = a->recon;
  c->down_width = a->down_width;
  c->down_height = a->down_height;
  c->method = g_strdup (a->method);
  return c;
}

void
ts_assignment_free (TsAssignment *a)
{
  if (a == NULL)
    return;
  g_free (a->groups);
  g_free (a->sizes);
  g_free (a->features);
  g_free (a->regions);
  g_free (a->mix);
  g_free (a->method);
  g_free (a);
}

TsAssignment *
ts_assignment_identity (const TsFeatures *features, GError **error)
{
  TsAssignment *a = ts_assignment_new (features->n, features->n, features->d, error);

  if (a == NULL)
    return NULL;
  for (int i = 0; i < features->n; i++)
    a->groups[i] = i, a->sizes[i] = 1;
  memcpy (a->features, features->data, sizeof (float) * (gsize) features->n * features->d);
  a->method = g_strdup ("none");
  return a;
}

typedef float Lanes16 __attribute__ ((vector_size (16 * sizeof (float))));

/* dst[0..d) = inv * the sum of the rows @members (in order) of @data (row
 * length @d): each sum kept in registers, 64 columns at a time, across the
 * rows and added in their order from 0.0f: the floats of adding row after
 * row into a zeroed output (every vector width alike) without its stores
 * and reloads. */
TS_CLONES static void
group_mean (const float *restrict data, int d, const int *restrict members, int count, float inv,
            float *restrict dst)
{
  int j = 0;

  for (; j + 64 <= d; j += 64)
    {
      Lanes16 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
      for (int m = 0; m < count; m++)
        {
          const float *src = data + (gsize) members[m] * d + j;
          Lanes16 v[4];
          memcpy (v, src, sizeof v);
          a0 += v[0], a1 += v[1], a2 += v[2], a3 += v[3];
        }
      a0 *= inv, a1 *= inv, a2 *= inv, a3 *= inv;
      memcpy (dst + j, &a0, sizeof a0);
      memcpy (dst + j + 16, &a1, sizeof a1);
      memcpy (dst + j + 32, &a2, sizeof a2);
      memcpy (dst + j + 48, &a3, sizeof a3);
    }
  for (; j < d; j++)
    {
      float acc = 0.0f;
      for (int m = 0; m < count; m++)
        acc += data[(gsize) members[m] * d + j];
      dst[j] = acc * inv;
    }
}

void
ts_assignment_fill_group_means (TsAssignment *a, const TsFeatures *features)
{
  g_autofree int *start = NULL;
  g_autofree int *members = NULL;
  int at = 0;

  g_return_if_fail (features->n == a->n_in);

  if (a->d != features->d)
    {
      g_free (a->features);
      a->d = features->d;
      a->features = g_new0 (float, (gsize) a->n_out * a->d);
    }
  /* each group's patches in patch order (a counting sort), then its mean */
  memset (a->sizes, 0, sizeof (int) * a->n_out);
  for (int i = 0; i < a->n_in; i++)
    if (a->groups[i] >= 0 && a->groups[i] < a->n_out)
      a->sizes[a->groups[i]]++;
  start = g_new (int, a->n_out + 1);
  members = g_new (int, MAX (1, a->n_in));
  for (int g = 0; g < a->n_out; g++)
    {
      start[g] = at;
      at += a->sizes[g];
    }
  start[a->n_out] = at;
  for (int i = 0; i < a->n_in; i++)
    if (a->groups[i] >= 0 && a->groups[i] < a->n_out)
      members[start[a->groups[i]]++] = i;
  for (int g = 0; g < a->n_out; g++)
    {
      int count = a->sizes[g], first = start[g] - count; /* start[g] has moved past the group */
      float inv = count > 0 ? 1.0f / count : 0.0f;
      float *dst = a->features + (gsize) g * a->d;
      if (count == 0)
        {
          memset (dst, 0, sizeof (float) * a->d);
          continue;
        }
      group_mean (features->data, a->d, members + first, count, inv, dst);
    }
}

void
ts_assignment_sort_spatial (TsAssignment *a)
{
  g_autofree int *first = g_new (int, a->n_out);
  g_autofree int *order = g_new (int, a->n_out);
  g_autofree int *rank = g_new (int, a->n_out);
  int k = 0;

  for (int g = 0; g < a->n_out; g++)
    first[g] = -1;
  for (int i = 0; i < a->n_in; i++)
    if (a->groups[i] >= 0 && first[a->groups[i]] < 0)
      {
        first[a->groups[i]] = i;
        order[k++] = a->groups[i];
      }
  for (int g = 0; g < a->n_out; g++)
    if (first[g] < 0)
      order[k++] = g;
  for (int r = 0; r < a->n_out; r++)
    rank[order[r]] = r;
  for (int i = 0; i < a->n_in; i++)
    if (a->groups[i] >= 0)
      a->groups[i] = rank[a->groups[i]];

  {
    g_autofree int *sizes = g_memdup2 (a->sizes, sizeof (int) * a->n_out);
    for (int r = 0; r < a->n_out; r++)
      a->sizes[r] = sizes[order[r]];
  }
  if (a->d > 0)
    {
      g_autofree float *f = g_memdup2 (a->features, sizeof (float) * (gsize) a->n_out * a->d);
      for (int r = 0; r < a->n_out; r++)
        memcpy (a->features + (gsize) r * a->d, f + (gsize) order[r] * a->d, sizeof (float) * a->d);
    }
  if (a->regions)
    {
      g_autofree TsRect *rg = g_memdup2 (a->regions, sizeof (TsRect) * a->n_out);
      for (int r = 0; r < a->n_out; r++)
        a->regions[r] = rg[order[r]];
    }
  if (a->mix)
    {
      g_autofree float *m = g_memdup2 (a->mix, sizeof (float) * (gsize) a->n_out * a->n_in);
      for (int r = 0; r < a->n_out; r++)
        memcpy (a->mix + (gsize) r * a->n_in, m + (gsize) order[r] * a->n_in, sizeof (float) * a->n_in);
    }
}

gboolean
ts_assignment_validate (const TsAssignment *a, const TsGrid *grid, GError **error)
{
  g_autofree int *count = g_new0 (int, a->n_out);

  if (grid != NULL && a->n_in != grid->tokens)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "assignment covers %d patches, the grid has %d",
                   a->n_in, grid->tokens);
      return FALSE;
    }
  for (int i = 0; i < a->n_in; i++)
    {
      if (a->groups[i] < -1 || a->groups[i] >= a->n_out)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "patch %d maps to token %d of %d", i,
                       a->groups[i], a->n_out);
          return FALSE;
        }
      if (a->groups[i] >= 0)
        count[a->groups[i]]++;
    }
  for (int g = 0; g < a->n_out; g++)
    if (count[g] != a->sizes[g])
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "token %d has size %d but %d patches", g,
                     a->sizes[g], count[g]);
        return FALSE;
      }
  if (a->regions != NULL && grid != NULL)
    {
      gint64 area = 0, full = (gint64) grid->cols * grid->patch * grid->rows * grid->patch;
      g_autofree guint8 *cover = g_new0 (guint8, (gsize) grid->cols * grid->patch * grid->rows * grid->patch);
      int W = grid->cols * grid->patch, H = grid->rows * grid->patch;
      for (int g = 0; g < a->n_out; g++)
        {
          TsRect r = a->regions[g];
          if (r.w <= 0 || r.h <= 0 || r.x < 0 || r.y < 0 || r.x + r.w > W || r.y + r.h > H)
            {
              g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "region %d (%d,%d %dx%d) lies outside the image",
                           g, r.x, r.y, r.w, r.h);
              return FALSE;
            }
          /* a row of the region at a time: its first covered pixel, if any, else all marked */
          for (int y = r.y; y < r.y + r.h; y++)
            {
              guint8 *row = cover + (gsize) y * W + r.x, *taken = memchr (row, 1, r.w);
              if (taken != NULL)
                {
                  int x = (int) (taken - row) + r.x;
                  g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "region %d overlaps another at (%d,%d)",
                               g, x, y);
                  return FALSE;
                }
              memset (row, 1, r.w);
            }
          area += (gint64) r.w * r.h;
        }
      if (area != full)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "regions cover %" G_GINT64_FORMAT " of %"
                       G_GINT64_FORMAT " pixels", area, full);
          return FALSE;
        }
    }
  return TRUE;
}

int
ts_assignment_kept (const TsAssignment *a)
{
  int kept = 0;

  for (int i = 0; i < a->n_in; i++)
    kept += a->groups[i] >= 0;
  return kept;
}

double
ts_assignment_ratio (const TsAssignment *a)
{
  return (double) a->n_in / a->n_out;
}
