/* ts-assignment.h: the common result of every compression method.
 *
 * For each of the n_in original patches (raster order) `groups` gives the
 * output token that now represents it, or -1 where the patch was dropped.
 * Output tokens are numbered 0..n_out-1 in order of the smallest original
 * patch they contain (spatial order), except where a method documents
 * otherwise. Each output token has a size (how many original patches it
 * stands for; 0 for a token that represents none, such as a resampler query
 * no patch chose) and a feature vector (n_out x d, the method's own merge rule).
 *
 * Optional parts:
 *   regions  variable-size methods (pooling, adaptive, downsample): the pixel
 *            rectangle each output token covers on the working image
 *   mix      soft methods (resampling): n_out x n_in row-stochastic weights,
 *            how much each original patch contributes to each output token
 * `recon` tells the reconstruction which rule paints a patch (REFERENCE 5).
 *
 * Ownership: ts_assignment_new allocates groups, sizes and features; regions
 * and mix are allocated by the method (g_new) and freed with the assignment. */
#pragma once

#include "ts-features.h"
#include "ts-grid.h"

G_BEGIN_DECLS

typedef enum {
  TS_RECON_GROUP_MEAN, /* size-weighted mean patch of the group (merging) */
  TS_RECON_REGION,     /* the token's region resampled to P x P and back (pooling, adaptive) */
  TS_RECON_MIX,        /* the mix-weighted patch of the token (resampling) */
  TS_RECON_DOWNSAMPLE, /* the whole image resampled to (rows_out, cols_out) patches and back */
} TsReconKind;

typedef struct {
  int n_in;
  int n_out;
  int *groups;      /* n_in, values in -1..n_out-1 */
  int *sizes;       /* n_out */
  int d;
  float *features;  /* n_out x d; NULL when d == 0 */
  TsRect *regions;  /* n_out or NULL */
  float *mix;       /* n_out x n_in or NULL */
  TsReconKind recon;
  int down_width, down_height; /* TS_RECON_DOWNSAMPLE: the smaller image size */
  char *method;     /* name for reports, e.g. "tome" */
} TsAssignment;

TsAssignment *ts_assignment_new (int n_in, int n_out, int d, GError **error);
TsAssignment *ts_assignment_copy (const TsAssignment *a);
void ts_assignment_free (TsAssignment *a);

/* The identity: every patch its own token, features copied. */
TsAssignment *ts_assignment_identity (const TsFeatures *features, GError **error);

/* Fills sizes from groups and features as the size-weighted mean of each
 * group's members in @features (the rule every merging method shares). */
void ts_assignment_fill_group_means (TsAssignment *a, const TsFeatures *features);

/* Renumbers output tokens by their smallest member patch (empty tokens last,
 * in their old order), permuting sizes, features, regions and mix with them. */
void ts_assignment_sort_spatial (TsAssignment *a);

/* Checks the invariants: groups in range, sizes equal the member counts,
 * sizes sum to the number of kept patches, regions (when present) tile the
 * grid's image without overlap. TS_ERROR_BAD_DATA with the first violation. */
gboolean ts_assignment_validate (const TsAssignment *a, const TsGrid *grid, GError **error);

int ts_assignment_kept (const TsAssignment *a); /* patches with a token */
double ts_assignment_ratio (const TsAssignment *a); /* n_in / n_out */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsAssignment, ts_assignment_free)

G_END_DECLS
