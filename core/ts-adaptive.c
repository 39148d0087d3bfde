#include "ts-adaptive.h"
#include "ts-error.h"

#include <math.h>
#include <string.h>

/* A quadtree node: the square of (1 << level) patches a side at patch (r, c). */
typedef struct {
  double score;
  int level, r, c;
  int id; /* its index among the nodes a run created (SplitOrder) */
} Node;

/* What the detail scores need, built once per run for the chosen score.
 *   blur      pyr[k]: sums of 2^k x 2^k pixel blocks (3 channels, k >= 2),
 *             exact in guint32 up to k = 12; sat: summed-area table of
 *             per-patch sums of squared channel values
 *   entropy   hist[l]: 256-bin luma histograms of the level-l nodes (l >= 2)
 * Level-1 nodes are scored from the pixels directly.
 *   gradient  grad: summed-area table of per-patch gradient energy */
typedef struct {
  const TsImage *image;
  const TsGrid *grid;
  TsDetailScore detail;
  int top; /* highest level a node can have */
  guint32 *pyr[TS_ADAPTIVE_MAX_LEVEL + 1];
  int pyr_w[TS_ADAPTIVE_MAX_LEVEL + 1];
  guint32 *hist[TS_ADAPTIVE_MAX_LEVEL + 1];
  int hist_cols[TS_ADAPTIVE_MAX_LEVEL + 1];
  double *sat; /* (rows + 1) x (cols + 1) */
} Detail;

static int
ceil_log2 (int n)
{
  int l = 0;

  while ((1 << l) < n)
    l++;
  return l;
}

static int
top_level (const TsGrid *grid)
{
  return MIN (ceil_log2 (MAX (grid->rows, grid->cols)), TS_ADAPTIVE_MAX_LEVEL);
}

static inline int
luma_bin (const guint8 *p)
{
  return (299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000;
}

static inline double
luma (const guint8 *p)
{
  return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

/* numpy.gradient energy gx^2 + gy^2 of the luma row @y (length @w) given
 * the rows above and below (NULL at the border). */
static void
gradient_row (const double *up, const double *row, const double *down, int w, double *out)
{
  for (int x = 0; x < w; x++)
    {
      double gx = 0, gy = 0;
      if (w > 1)
        gx = x == 0 ? row[1] - row[0] : x == w - 1 ? row[w - 1] - row[w - 2] : 0.5 * (row[x + 1] - row[x - 1]);
      if (up && down)
        gy = 0.5 * (down[x] - up[x]);
      else if (down)
        gy = down[x] - row[x];
      else if (up)
        gy = row[x] - up[x];
      out[x] = gx * gx + gy * gy;
    }
}

static void
luma_row (const TsImage *image, int y, double *out)
{
  const guint8 *p = image->data + (gsize) y * image->width * 3;

  for (int x = 0; x < image->width; x++)
    out[x] = luma (p + 3 * x);
}

/* Turns a rows x cols array of per-patch values into a summed-area table. */
static double *
summed_area (const double *v, int rows, int cols)
{
  double *sat = g_new0 (double, (gsize) (rows + 1) * (cols + 1));

  for (int r = 0; r < rows; r++)
    {
      double acc = 0;
      for (int c = 0; c < cols; c++)
        {
          acc += v[(gsize) r * cols + c];
          sat[(gsize) (r + 1) * (cols + 1) + c + 1] = sat[(gsize) r * (cols + 1) + c + 1] + acc;
        }
    }
  return sat;
}

static double
sat_sum (const Detail *d, int r, int c, int s)
{
  int w = d->grid->cols + 1;

  return d->sat[(gsize) (r + s) * w + c + s] - d->sat[(gsize) r * w + c + s] - d->sat[(gsize) (r + s) * w + c] +
         d->sat[(gsize) r * w + c];
}

static gboolean
build_blur (Detail *d, GCancellable *cancellable, GError **error)
{
  const TsGrid *g = d->grid;
  const TsImage *im = d->image;
  int W = g->cols * g->patch, H = g->rows * g->patch, P = g->patch;
  g_autofree double *sq = g_new0 (double, (gsize) g->tokens);

  for (int y = 0; y < H; y++)
    {
      const guint8 *row = im->data + (gsize) y * im->width * 3;
      double *dst = sq + (gsize) (y / P) * g->cols;
      for (int c = 0; c < g->cols; c++)
        {
          guint64 acc = 0;
          for (int i = c * P * 3; i < (c + 1) * P * 3; i++)
            acc += (guint32) row[i] * row[i];
          dst[c] += (double) acc;
        }
      if ((y & 255) == 255 && ts_check_cancelled (cancellable, error))
        return FALSE;
    }
  d->sat = summed_area (sq, g->rows, g->cols);

  /* level 1 is scored straight from the pixels (see node_score): storing it
   * would touch as much memory as the image itself */
  for (int k = 2; k <= d->top; k++)
    {
      int bw = W >> k, bh = H >> k, pw = W >> (k - 1);
      if (bw == 0 || bh == 0)
        break;
      d->pyr_w[k] = bw;
      d->pyr[k] = g_try_new (guint32, (gsize) bw * bh * 3);
      if (d->pyr[k] == NULL)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "the %d x %d image is too large for adaptive patching", W, H);
          return FALSE;
        }
      for (int y = 0; y < bh; y++)
        {
          guint32 *out = d->pyr[k] + (gsize) y * bw * 3;
          if (k == 2)
            {
              memset (out, 0, sizeof (guint32) * bw * 3);
              for (int j = 0; j < 4; j++)
                {
                  const guint8 *row = im->data + (gsize) (4 * y + j) * im->width * 3;
                  for (int x = 0; x < bw; x++)
                    for (int ch = 0; ch < 3; ch++)
                      out[x * 3 + ch] += (guint32) row[x * 12 + ch] + row[x * 12 + 3 + ch] + row[x * 12 + 6 + ch] +
                                         row[x * 12 + 9 + ch];
                }
            }
          else
            {
              const guint32 *a = d->pyr[k - 1] + (gsize) (2 * y) * pw * 3;
              const guint32 *b = a + (gsize) pw * 3;
              for (int x = 0; x < bw * 3; x++)
                {
                  int i = (x / 3) * 6 + x % 3;
                  out[x] = a[i] + a[i + 3] + b[i] + b[i + 3];
                }
            }
          if ((y & 255) == 255 && ts_check_cancelled (cancellable, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
build_entropy (Detail *d, GCancellable *cancellable, GError **error)
{
  const TsGrid *g = d->grid;
  const TsImage *im = d->image;
  int P = g->patch;

  /* level 1 is scored straight from the pixels (see node_score) */
  for (int l = 2; l <= d->top; l++)
    {
      int hr = g->rows >> l, hc = g->cols >> l;
      if (hr == 0 || hc == 0)
        break;
      d->hist_cols[l] = hc;
      d->hist[l] = g_try_new0 (guint32, (gsize) hr * hc * 256);
      if (d->hist[l] == NULL)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "the %d x %d grid is too large for adaptive patching",
                       g->rows, g->cols);
          return FALSE;
        }
      if (l == 2)
        {
          for (int y = 0; y < hr * 4 * P; y++)
            {
              const guint8 *row = im->data + (gsize) y * im->width * 3;
              guint32 *h = d->hist[2] + (gsize) (y / (4 * P)) * hc * 256;
              for (int x = 0; x < hc * 4 * P; x++)
                h[(x / (4 * P)) * 256 + luma_bin (row + 3 * x)]++;
              if ((y & 255) == 255 && ts_check_cancelled (cancellable, error))
                return FALSE;
            }
          continue;
        }
      for (int r = 0; r < hr; r++)
        for (int c = 0; c < hc; c++)
          {
            guint32 *h = d->hist[l] + ((gsize) r * hc + c) * 256;
            int pc = d->hist_cols[l - 1];
            for (int q = 0; q < 4; q++)
              {
                const guint32 *s = d->hist[l - 1] + ((gsize) (2 * r + q / 2) * pc + 2 * c + q % 2) * 256;
                for (int b = 0; b < 256; b++)
                  h[b] += s[b];
              }
          }
    }
  return TRUE;
}

static gboolean
build_gradient (Detail *d, GCancellable *cancellable, GError **error)
{
  const TsGrid *g = d->grid;
  const TsImage *im = d->image;
  int w = im->width, P = g->patch;
  g_autofree double *lines = g_new (double, (gsize) w * 3);
  g_autofree double *energy = g_new (double, (gsize) w);
  g_autofree double *sums = g_new0 (double, (gsize) g->tokens);
  double *rows[3] = { lines, lines + w, lines + 2 * w };

  /* rows[1] is the current row, rows[0] the one above, rows[2] below */
  luma_row (im, 0, rows[1]);
  if (im->height > 1)
    luma_row (im, 1, rows[2]);
  for (int y = 0; y < g->rows * P; y++)
    {
      gradient_row (y > 0 ? rows[0] : NULL, rows[1], y + 1 < im->height ? rows[2] : NULL, w, energy);
      for (int c = 0; c < g->cols; c++)
        {
          double acc = 0;
          for (int x = c * P; x < (c + 1) * P; x++)
            acc += energy[x];
          sums[(gsize) (y / P) * g->cols + c] += acc;
        }
      {
        double *t = rows[0];
        rows[0] = rows[1], rows[1] = rows[2], rows[2] = t;
      }
      if (y + 2 < im->height)
        luma_row (im, y + 2, rows[2]);
      if ((y & 255) == 255 && ts_check_cancelled (cancellable, error))
        return FALSE;
    }
  d->sat = summed_area (sums, g->rows, g->cols);
  return TRUE;
}

static void
detail_clear (Detail *d)
{
  for (int k = 0; k <= TS_ADAPTIVE_MAX_LEVEL; k++)
    {
      g_free (d->pyr[k]);
      g_free (d->hist[k]);
    }
  g_free (d->sat);
}

static double
entropy_of (const guint32 *h, double n)
{
  double acc = 0;

  for (int b = 0; b < 256; b++)
    if (h[b] > 0)
      acc += h[b] * log2 ((double) h[b]);
  return MAX (0.0, log2 (n) - acc / n);
}

/* Level-1 nodes (2 x 2 patches) straight from the pixels. */
static double
level1_score (const Detail *d, int r, int c)
{
  const TsImage *im = d->image;
  int P = d->grid->patch, side = 2 * P, x0 = c * P, y0 = r * P;

  if (d->detail == TS_DETAIL_ENTROPY)
    {
      guint32 h[256] = { 0 };
      for (int y = y0; y < y0 + side; y++)
        {
          const guint8 *row = im->data + ((gsize) y * im->width + x0) * 3;
          for (int x = 0; x < side; x++)
            h[luma_bin (row + 3 * x)]++;
        }
      return entropy_of (h, (double) side * side);
    }
  else
    {
      /* cells of 2 x 2 pixels: sum over cells of sum x^2 - (sum x)^2 / 4, kept in integers */
      gint64 sse4 = 0;
      for (int y = y0; y < y0 + side; y += 2)
        {
          const guint8 *a = im->data + ((gsize) y * im->width + x0) * 3;
          const guint8 *b = a + (gsize) im->width * 3;
          for (int x = 0; x < side * 3; x += 6)
            for (int ch = 0; ch < 3; ch++)
              {
                int p = a[x + ch], q = a[x + 3 + ch], u = b[x + ch], v = b[x + 3 + ch];
                int sum = p + q + u + v;
                sse4 += 4 * (p * p + q * q + u * u + v * v) - sum * sum;
              }
        }
      return sse4 / 4.0 / (3.0 * side * side);
    }
}

/* The detail score of node (level >= 1). */
static double
node_score (const Detail *d, int level, int r, int c)
{
  int s = 1 << level, P = d->grid->patch;
  double pixels = (double) s * P * s * P;

  if (level == 1 && d->detail != TS_DETAIL_GRADIENT)
    return level1_score (d, r, c);
  switch (d->detail)
    {
    case TS_DETAIL_ENTROPY:
      return entropy_of (d->hist[level] + ((gsize) (r >> level) * d->hist_cols[level] + (c >> level)) * 256, pixels);
    case TS_DETAIL_GRADIENT:
      return sat_sum (d, r, c, s) / pixels;
    case TS_DETAIL_BLUR_ERROR:
    default:
      {
        /* SSE = sum x^2 - sum over cells of cellsum^2 / s^2 */
        int bw = d->pyr_w[level];
        double cells = 0;
        for (int y = 0; y < P; y++)
          {
            const guint32 *row = d->pyr[level] + ((gsize) ((r >> level) * P + y) * bw + (c >> level) * P) * 3;
            for (int x = 0; x < P * 3; x++)
              cells += (double) row[x] * row[x];
          }
        return MAX (0.0, sat_sum (d, r, c, s) - cells / ((double) s * s)) / (3.0 * pixels);
      }
    }
}

/* Heap order: higher score, then the larger region, then raster order. */
static inline gboolean
before (const Node *a, const Node *b)
{
  if (a->score != b->score)
    return a->score > b->score;
  if (a->level != b->level)
    return a->level > b->level;
  if (a->r != b->r)
    return a->r < b->r;
  return a->c < b->c;
}

static void
heap_push (GArray *heap, Node n)
{
  Node *h;
  guint i;

  g_array_append_val (heap, n);
  h = (Node *) heap->data;
  for (i = heap->len - 1; i > 0 && before (&n, &h[(i - 1) / 2]); i = (i - 1) / 2)
    h[i] = h[(i - 1) / 2];
  h[i] = n;
}

static Node
heap_pop (GArray *heap)
{
  Node *h = (Node *) heap->data;
  Node top = h[0], last = h[heap->len - 1];
  guint n = heap->len - 1, i = 0;

  while (2 * i + 1 < n)
    {
      guint child = 2 * i + 1;
      if (child + 1 < n && before (&h[child + 1], &h[child]))
        child++;
      if (!before (&h[child], &last))
        break;
      h[i] = h[child];
      i = child;
    }
  h[i] = last;
  g_array_set_size (heap, n);
  return top;
}

static int
compare_raster (gconstpointer pa, gconstpointer pb)
{
  const Node *a = pa, *b = pb;

  return a->r != b->r ? (a->r < b->r ? -1 : 1) : (a->c > b->c) - (a->c < b->c);
}

typedef struct {
  const Detail *detail;
  const TsAdaptiveOptions *options;
  GArray *leaves; /* final nodes */
  GArray *heap;   /* nodes that may split */
  GArray *nodes;  /* NULL, or every node created, in order (Node.id indexes it) */
} Tiler;

static gboolean
wants_split (const Tiler *t, const Node *n)
{
  const TsAdaptiveOptions *o = t->options;

  if (o->n_thresholds <= 0)
    return TRUE;
  return n->score > o->thresholds[MIN (n->level, o->n_thresholds) - 1];
}

static void
add_leaf (Tiler *t, int level, int r, int c)
{
  Node n = { 0, level, r, c, t->nodes ? (int) t->nodes->len : -1 };

  if (t->nodes)
    g_array_append_val (t->nodes, n); /* its score is not needed there */
  if (level >= 1 && t->detail != NULL)
    {
      n.score = node_score (t->detail, level, r, c);
      if (wants_split (t, &n))
        {
          heap_push (t->heap, n);
          return;
        }
    }
  g_array_append_val (t->leaves, n);
}

/* The coarsest aligned tiling of the part of node (level, r, c) inside the grid. */
static void
tile (Tiler *t, const TsGrid *g, int level, int r, int c)
{
  int s = 1 << level, h = s / 2;

  if (r >= g->rows || c >= g->cols)
    return;
  if (r + s <= g->rows && c + s <= g->cols)
    {
      add_leaf (t, level, r, c);
      return;
    }
  tile (t, g, level - 1, r, c);
  tile (t, g, level - 1, r, c + h);
  tile (t, g, level - 1, r + h, c);
  tile (t, g, level - 1, r + h, c + h);
}

static void
tile_grid (Tiler *t, const TsGrid *g)
{
  int top = top_level (g), s = 1 << top;

  for (int r = 0; r < g->rows; r += s)
    for (int c = 0; c < g->cols; c += s)
      tile (t, g, top, r, c);
}

int
ts_adaptive_min_tokens (const TsGrid *grid)
{
  g_autoptr (GArray) leaves = g_array_new (FALSE, FALSE, sizeof (Node));
  g_autoptr (GArray) heap = g_array_new (FALSE, FALSE, sizeof (Node));
  TsAdaptiveOptions o = { 0 };
  Tiler t = { NULL, &o, leaves, heap, NULL };

  if (grid->rows <= 0 || grid->cols <= 0)
    return 0;
  tile_grid (&t, grid);
  return (int) leaves->len;
}

int
ts_adaptive_reachable (const TsGrid *grid, int budget)
{
  int n0 = ts_adaptive_min_tokens (grid);

  if (budget <= n0)
    return n0;
  budget = MIN (budget, grid->tokens);
  return n0 + (budget - n0) / 3 * 3;
}

static gboolean
check_options (const TsScene *scene, const TsAdaptiveOptions *o, GError **error)
{
  if (o->n_thresholds < 0 || o->n_thresholds > TS_ADAPTIVE_MAX_THRESHOLDS)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "adaptive patching takes 0 to %d thresholds, not %d",
                   TS_ADAPTIVE_MAX_THRESHOLDS, o->n_thresholds);
      return FALSE;
    }
  for (int i = 0; i < o->n_thresholds; i++)
    if (!(o->thresholds[i] >= 0 && o->thresholds[i] <= 8))
      {
        g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                     "entropy threshold %g is outside 0..8 bits (a 256-bin histogram has at most 8)",
                     o->thresholds[i]);
        return FALSE;
      }
  if (o->n_thresholds == 0 && o->budget < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the adaptive budget must be at least 1 token, not %d",
                   o->budget);
      return FALSE;
    }
  if (o->budget < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the adaptive token cap must not be negative (%d)",
                   o->budget);
      return FALSE;
    }
  if ((guint) o->detail > TS_DETAIL_GRADIENT)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown detail score %d", (int) o->detail);
      return FALSE;
    }
  if (scene->image->width < scene->grid.cols * scene->grid.patch ||
      scene->image->height < scene->grid.rows * scene->grid.patch)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the grid is larger than the image");
      return FALSE;
    }
  return TRUE;
}

static gboolean
detail_build (Detail *d, const TsScene *scene, TsDetailScore detail, GCancellable *cancellable, GError **error)
{
  d->image = scene->image;
  d->grid = &scene->grid;
  d->detail = detail;
  d->top = top_level (&scene->grid);
  switch (detail)
    {
    case TS_DETAIL_ENTROPY:
      return build_entropy (d, cancellable, error);
    case TS_DETAIL_GRADIENT:
      return build_gradient (d, cancellable, error);
    case TS_DETAIL_BLUR_ERROR:
    default:
      return build_blur (d, cancellable, error);
    }
}

/* Splits the best node while count + 3 <= @cap; FALSE when cancelled. */
static gboolean
split_greedily (Tiler *t, int cap, GArray *splits, GCancellable *cancellable, GError **error)
{
  int count = (int) (t->leaves->len + t->heap->len), n_splits = 0;

  while (t->heap->len > 0 && count + 3 <= cap)
    {
      Node n = heap_pop (t->heap);
      int h = 1 << (n.level - 1);
      if (splits)
        g_array_append_val (splits, n.id);
      add_leaf (t, n.level - 1, n.r, n.c);
      add_leaf (t, n.level - 1, n.r, n.c + h);
      add_leaf (t, n.level - 1, n.r + h, n.c);
      add_leaf (t, n.level - 1, n.r + h, n.c + h);
      count += 3;
      if ((++n_splits & 1023) == 0 && ts_check_cancelled (cancellable, error))
        return FALSE;
    }
  return TRUE;
}

/* One token per leaf, in spatial order (by the top-left patch). */
static TsAssignment *
assignment_of_leaves (const TsScene *scene, GArray *leaves, GError **error)
{
  const TsGrid *g = &scene->grid;
  TsAssignment *a;

  g_array_sort (leaves, compare_raster);
  if ((a = ts_assignment_new (g->tokens, (int) leaves->len, scene->features->d, error)) == NULL)
    return NULL;
  a->regions = g_new (TsRect, a->n_out);
  a->recon = TS_RECON_REGION;
  for (guint i = 0; i < leaves->len; i++)
    {
      const Node *n = &g_array_index (leaves, Node, i);
      int s = 1 << n->level;
      a->regions[i] = (TsRect){ n->c * g->patch, n->r * g->patch, s * g->patch, s * g->patch };
      for (int r = n->r; r < n->r + s; r++)
        for (int c = n->c; c < n->c + s; c++)
          a->groups[r * g->cols + c] = (int) i;
    }
  ts_assignment_fill_group_means (a, scene->features);
  return a;
}

/* Budget mode's splits do not depend on the budget: the greedy pops the same
 * nodes in the same order and only stops sooner. A scene keeps, per detail
 * score (in its memo), every node of the run to single patches (the coarsest
 * tiling, then the four children of each split) and the node each split
 * took, so a budget on it (a slider moving, a sweep's ratios) costs one pass
 * over the nodes instead of the scores. */
typedef struct {
  GMutex lock;
  gboolean ready;
  int n0;         /* nodes of the coarsest tiling: nodes[0 .. n0) */
  GArray *nodes;  /* Node; split i added nodes[n0 + 4i .. n0 + 4i + 4) */
  GArray *splits; /* int: the node split i took */
} SplitOrder;

static gpointer
split_order_new (const TsScene *scene, gpointer data)
{
  SplitOrder *o = g_new0 (SplitOrder, 1);

  g_mutex_init (&o->lock);
  return o;
}

static void
split_order_free (gpointer data)
{
  SplitOrder *o = data;

  g_mutex_clear (&o->lock);
  if (o->nodes)
    g_array_unref (o->nodes);
  if (o->splits)
    g_array_unref (o->splits);
  g_free (o);
}

static gboolean
split_order_fill (SplitOrder *o, const TsScene *scene, TsDetailScore detail, GCancellable *cancellable,
                  GError **error)
{
  TsAdaptiveOptions opts = { .detail = detail };
  g_autoptr (GArray) leaves = g_array_new (FALSE, FALSE, sizeof (Node));
  g_autoptr (GArray) heap = g_array_new (FALSE, FALSE, sizeof (Node));
  g_autoptr (GArray) nodes = g_array_new (FALSE, FALSE, sizeof (Node));
  g_autoptr (GArray) splits = g_array_new (FALSE, FALSE, sizeof (int));
  Detail d = { 0 };
  Tiler t = { &d, &opts, leaves, heap, nodes };
  gboolean ok;

  if ((ok = detail_build (&d, scene, detail, cancellable, error)))
    {
      tile_grid (&t, &scene->grid);
      o->n0 = (int) nodes->len;
      ok = split_greedily (&t, G_MAXINT, splits, cancellable, error);
    }
  detail_clear (&d);
  if (!ok)
    return FALSE;
  o->nodes = g_steal_pointer (&nodes);
  o->splits = g_steal_pointer (&splits);
  o->ready = TRUE;
  return TRUE;
}

static TsAssignment *
adaptive_budget (const TsScene *scene, TsDetailScore detail, int budget, GCancellable *cancellable, GError **error)
{
  g_autofree char *key = g_strdup_printf ("adaptive split order, detail %d", (int) detail);
  SplitOrder *o = ts_scene_memo (scene, key, split_order_new, NULL, split_order_free);
  g_autoptr (GArray) leaves = NULL;
  g_autofree guint8 *split = NULL;
  int k, used;

  g_mutex_lock (&o->lock); /* another thread filling it is waited for, not repeated */
  if (!o->ready && !split_order_fill (o, scene, detail, cancellable, error))
    {
      g_mutex_unlock (&o->lock);
      return NULL;
    }
  g_mutex_unlock (&o->lock); /* read-only from here on */

  k = budget >= o->n0 + 3 ? MIN ((int) o->splits->len, (budget - o->n0) / 3) : 0;
  used = o->n0 + 4 * k;
  split = g_new0 (guint8, used);
  for (int i = 0; i < k; i++)
    split[g_array_index (o->splits, int, i)] = 1;
  leaves = g_array_sized_new (FALSE, FALSE, sizeof (Node), used - k);
  for (int i = 0; i < used; i++)
    if (!split[i])
      g_array_append_val (leaves, g_array_index (o->nodes, Node, i));
  return assignment_of_leaves (scene, leaves, error);
}

TsAssignment *
ts_adaptive (const TsScene *scene, const TsAdaptiveOptions *options, GCancellable *cancellable, GError **error)
{
  Detail d = { 0 };
  g_autoptr (GArray) leaves = g_array_new (FALSE, FALSE, sizeof (Node));
  g_autoptr (GArray) heap = g_array_new (FALSE, FALSE, sizeof (Node));
  Tiler t = { &d, options, leaves, heap, NULL };
  TsAssignment *a = NULL;

  if (!check_options (scene, options, error) || ts_check_cancelled (cancellable, error))
    return NULL;
  if (options->n_thresholds == 0)
    return adaptive_budget (scene, options->detail, options->budget, cancellable, error);

  /* threshold mode: only nodes above their level's threshold may split */
  if (detail_build (&d, scene, TS_DETAIL_ENTROPY, cancellable, error))
    {
      tile_grid (&t, &scene->grid);
      if (split_greedily (&t, options->budget > 0 ? options->budget : G_MAXINT, NULL, cancellable, error))
        {
          g_array_append_vals (leaves, heap->data, heap->len);
          a = assignment_of_leaves (scene, leaves, error);
        }
    }
  detail_clear (&d);
  return a;
}

gboolean
ts_adaptive_detail (const TsImage *image, TsRect rect, int patch, TsDetailScore detail, double *score,
                    GError **error)
{
  int s, side = rect.w;

  if (image == NULL || patch < 1 || rect.w != rect.h || rect.w <= 0 || rect.w % patch != 0 ||
      rect.x < 0 || rect.y < 0 || rect.x + rect.w > image->width || rect.y + rect.h > image->height ||
      (guint) detail > TS_DETAIL_GRADIENT)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "a detail score needs a square region of whole patches inside the image (got %d,%d %dx%d, patch %d)",
                   rect.x, rect.y, rect.w, rect.h, patch);
      return FALSE;
    }
  s = side / patch;
  if ((s & (s - 1)) != 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "a region of %d patches a side is not a quadtree cell (a power of two)", s);
      return FALSE;
    }
  switch (detail)
    {
    case TS_DETAIL_ENTROPY:
      {
        guint32 h[256] = { 0 };
        for (int y = rect.y; y < rect.y + side; y++)
          for (int x = rect.x; x < rect.x + side; x++)
            h[luma_bin (image->data + ((gsize) y * image->width + x) * 3)]++;
        *score = entropy_of (h, (double) side * side);
        return TRUE;
      }
    case TS_DETAIL_GRADIENT:
      {
        int w = image->width, hgt = image->height;
        g_autofree double *l = ts_image_luma (image);
        double acc = 0;
        for (int y = rect.y; y < rect.y + side; y++)
          for (int x = rect.x; x < rect.x + side; x++)
            {
              const double *p = l + (gsize) y * w + x;
              double gx = 0, gy = 0;
              if (w > 1)
                gx = x == 0 ? p[1] - p[0] : x == w - 1 ? p[0] - p[-1] : 0.5 * (p[1] - p[-1]);
              if (hgt > 1)
                gy = y == 0 ? p[w] - p[0] : y == hgt - 1 ? p[0] - p[-w] : 0.5 * (p[w] - p[-w]);
              acc += gx * gx + gy * gy;
            }
        *score = acc / ((double) side * side);
        return TRUE;
      }
    case TS_DETAIL_BLUR_ERROR:
    default:
      {
        double sse = 0;
        for (int cy = 0; cy < patch; cy++)
          for (int cx = 0; cx < patch; cx++)
            for (int ch = 0; ch < 3; ch++)
              {
                double mean = 0;
                for (int y = 0; y < s; y++)
                  for (int x = 0; x < s; x++)
                    mean += image->data[((gsize) (rect.y + cy * s + y) * image->width + rect.x + cx * s + x) * 3 + ch];
                mean /= (double) s * s;
                for (int y = 0; y < s; y++)
                  for (int x = 0; x < s; x++)
                    {
                      double v = image->data[((gsize) (rect.y + cy * s + y) * image->width + rect.x + cx * s + x) * 3 + ch];
                      sse += (v - mean) * (v - mean);
                    }
              }
        *score = sse / (3.0 * side * side);
        return TRUE;
      }
    }
}

TsAssignment *
ts_adaptive_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  TsAdaptiveOptions o = { 0 };

  o.detail = params->detail;
  if (params->entropy_threshold > 0)
    {
      o.n_thresholds = 1;
      o.thresholds[0] = params->entropy_threshold;
      o.budget = params->tokens > 0 ? params->tokens : 0;
    }
  else
    o.budget = ts_method_target (params, scene->grid.tokens);
  return ts_adaptive (scene, &o, cancellable, error);
}
