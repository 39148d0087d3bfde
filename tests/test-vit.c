/* ViT from safetensors: the four weight families against the PyTorch golden
 * fixtures of tests/golden/make_vit_golden.py (float64 torch forward; weights
 * in F32, F16 and BF16), attention maps, rollout, ToMe inside the model. */
#include <math.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ts-test-util.h"

typedef struct {
  const char *name;
  TsVitFamily family;
  int patch, img_w, img_h;
  gboolean cls;
  int registers;
  int pos_grid;
  TsHeadFusion fusion;
  double discard;
  int tome_r;
  double tome_inflect;
  gboolean layer_scale;
} Golden;

/* As in make_vit_golden.py's model table. */
static const Golden goldens[] = {
  { "timm", TS_VIT_FAMILY_TIMM, 8, 56, 40, TRUE, 2, 6, TS_HEAD_FUSION_MAX, 0.5, 8, 0.0, TRUE },
  { "clip", TS_VIT_FAMILY_CLIP, 14, 56, 56, TRUE, 0, 4, TS_HEAD_FUSION_MEAN, 0.0, 0, 0.0, FALSE },
  { "siglip", TS_VIT_FAMILY_SIGLIP, 8, 56, 56, FALSE, 0, 7, TS_HEAD_FUSION_MEAN, 0.0, 6, -0.5, FALSE },
  { "dinov2", TS_VIT_FAMILY_DINOV2, 8, 56, 56, TRUE, 0, 6, TS_HEAD_FUSION_MIN, 0.2, 0, 0.0, TRUE },
  /* timm without CLS: norm_pre, fc_norm average pooling, 7x7 positions resampled to 8 rows x 6 cols */
  { "timm_avg", TS_VIT_FAMILY_TIMM, 8, 48, 64, FALSE, 0, 7, TS_HEAD_FUSION_MEAN, 0.1, 5, 0.0, FALSE },
};

static char *
fixture (const char *name, const char *suffix)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);
  return g_test_build_filename (G_TEST_DIST, "data", "models", file, NULL);
}

static TsNpyArray *
fixture_npy (const char *name, const char *what)
{
  g_autofree char *suffix = g_strconcat ("_", what, ".npy", NULL);
  g_autofree char *path = fixture (name, suffix);
  g_autoptr (GError) error = NULL;
  TsNpyArray *a = ts_npy_read (path, &error);

  g_assert_no_error (error);
  return a;
}

static TsVit *
load_golden (const Golden *g)
{
  g_autofree char *path = fixture (g->name, ".safetensors");
  g_autoptr (GError) error = NULL;
  TsVitLoadOptions opt = { 0 };
  TsVit *vit;

  opt.heads = 4; /* the fixtures have no config.json; width 64 alone would mean 1 head */
  vit = ts_vit_load (path, &opt, &error);
  g_assert_no_error (error);
  g_assert_nonnull (vit);
  return vit;
}

/* max |a - b| <= tol * max |b| */
static void
assert_close (const char *what, const float *a, const float *b, gint64 n, double tol)
{
  double scale = 0, worst = 0;
  gint64 at = 0;

  for (gint64 i = 0; i < n; i++)
    scale = MAX (scale, fabs (b[i]));
  for (gint64 i = 0; i < n; i++)
    if (fabs (a[i] - b[i]) > worst)
      {
        worst = fabs (a[i] - b[i]);
        at = i;
      }
  if (worst > tol * MAX (scale, 1e-12))
    g_error ("%s: |diff| %g at %" G_GINT64_FORMAT " (%g vs %g) exceeds %g x max %g", what, worst, at, a[at], b[at],
             tol, scale);
}

static void
test_detect (gconstpointer data)
{
  const Golden *g = data;
  g_autoptr (TsVit) vit = load_golden (g);
  const TsVitInfo *in = ts_vit_info (vit);

  g_assert_cmpint (in->family, ==, g->family);
  g_assert_cmpint (in->patch, ==, g->patch);
  g_assert_cmpint (in->width, ==, 64);
  g_assert_cmpint (in->depth, ==, 2);
  g_assert_cmpint (in->heads, ==, 4);
  g_assert_cmpint (in->head_dim, ==, 16);
  g_assert_cmpint (in->mlp, ==, 128);
  g_assert_cmpint (in->has_cls, ==, g->cls);
  g_assert_cmpint (in->n_registers, ==, g->registers);
  g_assert_cmpint (in->pos_rows, ==, g->pos_grid);
  g_assert_cmpstr (in->heads_source, ==, "option");
  g_assert_cmpint (in->layer_scale, ==, g->layer_scale);
  g_assert_cmpint (in->pooling_head, ==, g->family == TS_VIT_FAMILY_SIGLIP);
  g_assert_cmpint (in->act, ==,
                   g->family == TS_VIT_FAMILY_CLIP     ? TS_VIT_ACT_QUICK_GELU
                   : g->family == TS_VIT_FAMILY_SIGLIP ? TS_VIT_ACT_GELU_TANH
                                                       : TS_VIT_ACT_GELU);
  g_assert_cmpstr (in->prefix, ==, g->family == TS_VIT_FAMILY_CLIP || g->family == TS_VIT_FAMILY_SIGLIP ? "vision_model." : "");
}

static void
test_golden (gconstpointer data)
{
  const Golden *g = data;
  g_autoptr (TsVit) vit = load_golden (g);
  g_autoptr (TsImage) image = ts_test_gradient (g->img_w, g->img_h);
  g_autoptr (TsNpyArray) tokens = fixture_npy (g->name, "tokens");
  g_autoptr (TsNpyArray) emb = fixture_npy (g->name, "embedding");
  g_autoptr (TsNpyArray) attn = fixture_npy (g->name, "attn");
  g_autoptr (TsNpyArray) roll = fixture_npy (g->name, "rollout");
  g_autoptr (TsVitOutput) out = NULL;
  g_autoptr (GError) error = NULL;
  static const int layers[] = { 0, 1 };
  TsVitRunOptions opt;
  int n;

  ts_vit_run_options_init (&opt);
  opt.embedding = TRUE;
  opt.attn_layers = layers;
  opt.n_attn_layers = 2;
  opt.query_attention = TRUE;
  opt.rollout = TRUE;
  opt.fusion = g->fusion;
  opt.discard = g->discard;
  out = ts_vit_run (vit, image, &opt, NULL, &error);
  g_assert_no_error (error);
  n = out->n_tokens;
  g_assert_cmpint (n, ==, tokens->shape[0]);
  g_assert_cmpint (out->d, ==, tokens->shape[1]);
  g_assert_cmpint (out->layer, ==, 1);
  g_assert_cmpint (out->n_prefix, ==, g->cls + g->registers);
  g_assert_cmpint (out->rows, ==, g->img_h / g->patch);
  g_assert_cmpint (out->cols, ==, g->img_w / g->patch);
  assert_close ("tokens", out->tokens, tokens->data, ts_npy_array_size (tokens), 1e-4);
  assert_close ("embedding", out->embedding, emb->data, ts_npy_array_size (emb), 1e-4);
  g_assert_cmpint (ts_npy_array_size (attn), ==, 2 * 4 * n * n);
  for (int l = 0; l < 2; l++)
    {
      assert_close ("attention", out->attn[l], attn->data + (gsize) l * 4 * n * n, (gint64) 4 * n * n, 1e-4);
      for (int h = 0; h < 4; h++)
        {
          const float *A = attn->data + ((gsize) l * 4 + h) * n * n;
          g_autofree float *want = g_new0 (float, n);
          for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
              want[j] += g->cls ? (i == 0 ? A[j] : 0.0f) : A[(gsize) i * n + j] / n;
          assert_close ("query attention", out->query_attn + ((gsize) l * 4 + h) * n, want, n, 1e-4);
        }
    }
  g_assert_cmpint (out->query_is_cls, ==, g->cls);
  assert_close ("rollout", out->rollout, roll->data, n, 1e-4);
}

static void
test_tome (gconstpointer data)
{
  const Golden *g = data;
  g_autoptr (TsVit) vit = load_golden (g);
  g_autoptr (TsImage) image = ts_test_gradient (g->img_w, g->img_h);
  g_autoptr (TsNpyArray) emb = fixture_npy (g->name, "embedding");
  g_autoptr (TsNpyArray) temb = fixture_npy (g->name, "tome_embedding");
  g_autoptr (TsNpyArray) groups = fixture_npy (g->name, "tome_groups");
  g_autoptr (TsVitOutput) merged = NULL;
  g_autoptr (GError) error = NULL;
  TsVitRunOptions opt;
  double fidelity = 0;
  int np = (g->img_w / g->patch) * (g->img_h / g->patch), total = 0;

  ts_vit_run_options_init (&opt);
  opt.tome_r = g->tome_r;
  opt.tome_inflect = g->tome_inflect;
  g_assert_true (ts_vit_tome_fidelity (vit, image, &opt, &fidelity, &merged, NULL, &error));
  g_assert_no_error (error);
  assert_close ("ToMe embedding", merged->embedding, temb->data, ts_npy_array_size (temb), 1e-4);
  g_assert_cmpint (ts_npy_array_size (groups), ==, np);
  for (int p = 0; p < np; p++)
    g_assert_cmpint (merged->tome_groups[p], ==, (int) groups->data[p]);
  for (int i = 0; i < merged->tome_tokens - merged->n_prefix; i++)
    total += merged->tome_sizes[i];
  g_assert_cmpint (total, ==, np);
  g_assert_cmpfloat_with_epsilon (fidelity, ts_cosine (emb->data, temb->data, 64), 1e-4);
  g_assert_cmpfloat (fidelity, <, 0.99999);
  g_assert_null (merged->tokens);
}

static void
test_schedule (void)
{
  /* official ToMe parse_r(24, (8, -0.5)), computed with Python */
  static const int want[24] = { 12, 11, 11, 10, 10, 10, 9, 9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 6, 5, 5, 5, 4, 4, 4 };
  int s[24];

  ts_vit_tome_schedule (24, 8, -0.5, s);
  for (int i = 0; i < 24; i++)
    g_assert_cmpint (s[i], ==, want[i]);
  ts_vit_tome_schedule (24, 8, 0.0, s);
  for (int i = 0; i < 24; i++)
    g_assert_cmpint (s[i], ==, 8);
}

static void
test_heads_default_and_config (void)
{
  g_autofree char *src = fixture ("clip", ".safetensors");
  g_autofree char *cfg = ts_test_path ("config.json");
  g_autofree char *copy = ts_test_path ("model.safetensors");
  g_autofree char *bytes = NULL;
  gsize len;
  g_autoptr (GError) error = NULL;
  TsVit *vit;

  /* config-less: the standard head_dim 64 gives 1 head at width 64 */
  vit = ts_vit_load (src, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ts_vit_info (vit)->heads, ==, 1);
  g_assert_cmpstr (ts_vit_info (vit)->heads_source, ==, "standard (head_dim 64)");
  ts_vit_free (vit);

  /* a config.json beside the file: CLIPModel layout with vision_config */
  g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
  g_assert_true (g_file_set_contents (cfg, "{\"vision_config\": {\"num_attention_heads\": 4, \"hidden_act\": \"gelu\","
                                           " \"layer_norm_eps\": 1e-6}}", -1, NULL));
  vit = ts_vit_load (copy, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ts_vit_info (vit)->heads, ==, 4);
  g_assert_cmpstr (ts_vit_info (vit)->heads_source, ==, "config.json");
  g_assert_cmpint (ts_vit_info (vit)->act, ==, TS_VIT_ACT_GELU);
  g_assert_cmpfloat_with_epsilon (ts_vit_info (vit)->ln_eps, 1e-6, 1e-12);
  ts_vit_free (vit);

  g_assert_true (g_file_set_contents (cfg, "{not json", -1, NULL));
  vit = ts_vit_load (copy, NULL, &error);
  g_assert_null (vit);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_remove (cfg);
  g_remove (copy);
}

static void
test_family_override (void)
{
  g_autofree char *path = fixture ("timm", ".safetensors");
  g_autoptr (GError) error = NULL;
  TsVitLoadOptions opt = { 0 };
  TsVit *vit;

  opt.family = TS_VIT_FAMILY_DINOV2;
  vit = ts_vit_load (path, &opt, &error);
  g_assert_null (vit);
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);

  opt.family = TS_VIT_FAMILY_TIMM;
  opt.heads = 3; /* does not divide 64 */
  vit = ts_vit_load (path, &opt, &error);
  g_assert_null (vit);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* a safetensors file that is no ViT */
  {
    static const char header[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    guint64 hl = GUINT64_TO_LE (sizeof header - 1);
    g_autoptr (GByteArray) b = g_byte_array_new ();
    g_autofree char *p = NULL;
    float one = 1.0f;
    g_byte_array_append (b, (const guint8 *) &hl, 8);
    g_byte_array_append (b, (const guint8 *) header, sizeof header - 1);
    g_byte_array_append (b, (const guint8 *) &one, 4);
    p = ts_test_write ("notvit.safetensors", b->data, b->len);
    vit = ts_vit_load (p, NULL, &error);
    g_assert_null (vit);
    g_assert_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "notvit.safetensors"));
  }
}

static void
test_parse_names (void)
{
  TsVitFamily f;
  TsVitAct a;
  TsHeadFusion h;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_vit_family_parse ("SigLIP", &f, NULL));
  g_assert_cmpint (f, ==, TS_VIT_FAMILY_SIGLIP);
  g_assert_false (ts_vit_family_parse ("resnet", &f, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (ts_vit_act_parse ("gelu_pytorch_tanh", &a, NULL));
  g_assert_cmpint (a, ==, TS_VIT_ACT_GELU_TANH);
  g_assert_false (ts_vit_act_parse ("relu", &a, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (ts_head_fusion_parse ("max", &h, NULL));
  g_assert_cmpint (h, ==, TS_HEAD_FUSION_MAX);
  g_assert_false (ts_head_fusion_parse ("median", &h, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_bad_run (void)
{
  g_autoptr (TsVit) vit = load_golden (&goldens[0]);
  g_autoptr (TsImage) image = ts_test_gradient (56, 40);
  g_autoptr (TsImage) tiny = ts_test_gradient (7, 40);
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  TsVitRunOptions opt;
  TsVitOutput *out;
  int bad_layer = 2;

  ts_vit_run_options_init (&opt);
  opt.layer = 3;
  g_assert_null (ts_vit_run (vit, image, &opt, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  opt.layer = -4;
  g_assert_null (ts_vit_run (vit, image, &opt, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  ts_vit_run_options_init (&opt);
  opt.rollout = TRUE;
  opt.discard = 1.5;
  g_assert_null (ts_vit_run (vit, image, &opt, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  ts_vit_run_options_init (&opt);
  opt.attn_layers = &bad_layer;
  opt.n_attn_layers = 1;
  g_assert_null (ts_vit_run (vit, image, &opt, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  ts_vit_run_options_init (&opt);
  opt.tome_r = 4;
  opt.rollout = TRUE;
  g_assert_null (ts_vit_run (vit, image, &opt, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  ts_vit_run_options_init (&opt);
  g_assert_null (ts_vit_run (vit, tiny, &opt, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_cancellable_cancel (cancel);
  out = ts_vit_run (vit, image, &opt, cancel, &error);
  g_assert_null (out);
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
}

static void
test_bad_helpers (void)
{
  g_autoptr (TsVit) vit = load_golden (&goldens[0]);
  g_autoptr (TsImage) image = ts_test_gradient (56, 40);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsVitOutput) merged = NULL;
  static const float mean[3] = { 0.5f, 0.5f, 0.5f }, bad_std[3] = { 0.5f, 0.0f, 0.5f }, std[3] = { 0.25f, 0.25f, 0.25f };
  TsVitRunOptions opt;
  double fidelity = 0;

  g_assert_false (ts_vit_set_normalization (vit, mean, bad_std, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (ts_vit_set_normalization (vit, mean, std, &error));
  g_assert_cmpfloat (ts_vit_info (vit)->std[1], ==, 0.25f);

  ts_vit_run_options_init (&opt);
  g_assert_false (ts_vit_tome_fidelity (vit, image, &opt, &fidelity, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* a merged run keeps no per-patch tokens */
  opt.tome_r = 4;
  g_assert_true (ts_vit_tome_fidelity (vit, image, &opt, &fidelity, &merged, NULL, &error));
  g_assert_null (ts_vit_output_features (merged, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_model_attention_query_map (merged, 0, -1, TS_HEAD_FUSION_MEAN, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (ts_vit_new_random (TS_VIT_FAMILY_AUTO, 16, 64, 1, 1, 64, 2, 0, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_resolve_layer (void)
{
  g_autoptr (TsVit) vit = load_golden (&goldens[1]);
  int r = -1;

  g_assert_true (ts_vit_resolve_layer (vit, -1, &r, NULL));
  g_assert_cmpint (r, ==, 2);
  g_assert_true (ts_vit_resolve_layer (vit, -2, &r, NULL));
  g_assert_cmpint (r, ==, 1);
  g_assert_true (ts_vit_resolve_layer (vit, -3, &r, NULL));
  g_assert_cmpint (r, ==, 0);
  g_assert_true (ts_vit_resolve_layer (vit, 2, &r, NULL));
  g_assert_cmpint (r, ==, 2);
  g_assert_false (ts_vit_resolve_layer (vit, 3, &r, NULL));
}

static void
test_scene (void)
{
  g_autoptr (TsVit) vit = load_golden (&goldens[1]); /* CLIP, patch 14 */
  g_autoptr (TsImage) image = ts_test_gradient (100, 70);
  g_autoptr (TsNpyArray) tokens = fixture_npy ("clip", "tokens");
  g_autoptr (GError) error = NULL;
  TsResize resize = { TS_RESIZE_SQUARE, 56 };
  TsScene *scene;
  float mx = 0;

  scene = ts_vit_scene_new (vit, image, &resize, -2, TS_VIT_IMPORTANCE_QUERY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (scene->kind, ==, TS_FEATURES_MODEL);
  g_assert_cmpint (scene->grid.patch, ==, 14);
  g_assert_cmpint (scene->grid.tokens, ==, 16);
  g_assert_cmpint (scene->features->d, ==, 64);
  g_assert_nonnull (scene->importance);
  g_assert_nonnull (strstr (scene->importance_source, "CLS attention of block 0"));
  for (int i = 0; i < 16; i++)
    mx = MAX (mx, scene->importance[i]);
  g_assert_cmpfloat_with_epsilon (mx, 1.0, 1e-6);
  ts_scene_free (scene);

  /* the golden image at its own size: features are the fixture's patch tokens */
  {
    g_autoptr (TsImage) g = ts_test_gradient (56, 56);
    TsResize native = { TS_RESIZE_NATIVE, 0 };
    scene = ts_vit_scene_new (vit, g, &native, -2, TS_VIT_IMPORTANCE_ROLLOUT, NULL, &error);
    g_assert_no_error (error);
    assert_close ("scene features", scene->features->data, tokens->data + 64, 16 * 64, 1e-4);
    g_assert_nonnull (strstr (scene->importance_source, "rollout"));
    ts_scene_free (scene);
  }
  /* already sized: used as it is (100 x 70 at patch 14 -> 5 x 7 grid, position embeddings interpolated) */
  scene = ts_vit_scene_new (vit, image, NULL, -1, TS_VIT_IMPORTANCE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (scene->grid.rows, ==, 5);
  g_assert_cmpint (scene->grid.cols, ==, 7);
  g_assert_null (scene->importance);
  ts_scene_free (scene);
  scene = ts_vit_scene_new (vit, image, &resize, 7, TS_VIT_IMPORTANCE_NONE, NULL, &error);
  g_assert_null (scene);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_random (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsVit) a = ts_vit_new_random (TS_VIT_FAMILY_CLIP, 16, 96, 2, 3, 192, 4, 7, &error);
  g_autoptr (TsVit) b = ts_vit_new_random (TS_VIT_FAMILY_CLIP, 16, 96, 2, 3, 192, 4, 7, &error);
  g_autoptr (TsImage) image = ts_test_gradient (64, 64);
  g_autoptr (TsVitOutput) oa = NULL;
  g_autoptr (TsVitOutput) ob = NULL;
  TsVitRunOptions opt;

  g_assert_no_error (error);
  ts_vit_run_options_init (&opt);
  opt.embedding = TRUE;
  oa = ts_vit_run (a, image, &opt, NULL, &error);
  ob = ts_vit_run (b, image, &opt, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (oa->tokens, (gsize) oa->n_tokens * 96 * 4, ob->tokens, (gsize) ob->n_tokens * 96 * 4);
  g_assert_cmpint (oa->n_tokens, ==, 17);
  g_assert_null (ts_vit_new_random (TS_VIT_FAMILY_CLIP, 16, 96, 2, 5, 192, 4, 7, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

/* Rollout by hand: one block, n = 3, CLS first.
 * A = [[.2 .5 .3] [.1 .1 .8] [.6 .2 .2]]; (A + I) / 2 = [[.6 .25 .15] [.05 .55 .4] [.3 .1 .6]],
 * rows already sum to 1, so the CLS row is [.6 .25 .15] and the map [.25 .15] / .25 = [1, .6].
 * Normalising columns instead would give [.6/.95, .25/.9, .15/1.15] -> map [1, .4698]. */
static void
test_rollout_hand (void)
{
  float a[9] = { 0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f, 0.6f, 0.2f, 0.2f };
  float row[3] = { 1, 0, 0 };
  float *layers[1] = { a };
  g_autofree float *map = NULL;

  ts_attention_rollout_prepare (a, 3, 0.0, TRUE);
  g_assert_cmpfloat_with_epsilon (a[1], 0.25, 1e-6);
  ts_attention_rollout_row (layers, 1, 3, row);
  g_assert_cmpfloat_with_epsilon (row[0], 0.6, 1e-6);
  map = ts_attention_patch_map (row, 1, 2);
  g_assert_cmpfloat_with_epsilon (map[0], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (map[1], 0.6, 1e-6);

  /* discard 1/3 of 9 entries: the 3 lowest (.1, .1, .2 at [1,0], [1,1], [0,0]) but never [0,0], so
   * [1,0] and [1,1] are zeroed, then the ties at .2 ([0,0] first) take the third slot: [0,0] kept.
   * Row 1 becomes [0 0 .8] -> (+I)/2 = [0 .5 .4] -> / .9 */
  {
    float b[9] = { 0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f, 0.6f, 0.2f, 0.2f };
    ts_attention_rollout_prepare (b, 3, 1.0 / 3.0, TRUE);
    g_assert_cmpfloat_with_epsilon (b[3], 0.0, 1e-7);
    g_assert_cmpfloat_with_epsilon (b[4], 0.5 / 0.9, 1e-6);
    g_assert_cmpfloat_with_epsilon (b[5], 0.4 / 0.9, 1e-6);
    g_assert_cmpfloat_with_epsilon (b[0], 0.6, 1e-6);
  }
}

static void
test_query_maps (void)
{
  g_autoptr (TsVit) vit = load_golden (&goldens[3]);
  g_autoptr (TsImage) image = ts_test_gradient (56, 56);
  g_autoptr (TsNpyArray) attn = fixture_npy ("dinov2", "attn");
  g_autoptr (TsVitOutput) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *mean = NULL;
  g_autofree float *mx = NULL;
  g_autofree float *one = NULL;
  TsVitRunOptions opt;
  int n = 50;
  float want_mean[49], want_max[49], peak_mean = 0, peak_max = 0;

  ts_vit_run_options_init (&opt);
  opt.layer = -1;
  opt.query_attention = TRUE;
  out = ts_vit_run (vit, image, &opt, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ts_model_attention_query_kind (out), ==, "CLS");
  /* block 1 = the last block: attn[1, h, 0, 1:] fused by hand */
  for (int j = 0; j < 49; j++)
    {
      want_mean[j] = 0;
      want_max[j] = 0;
      for (int h = 0; h < 4; h++)
        {
          float v = attn->data[((gsize) (4 + h) * n) * n + 1 + j];
          want_mean[j] += v / 4;
          want_max[j] = MAX (want_max[j], v);
        }
      peak_mean = MAX (peak_mean, want_mean[j]);
      peak_max = MAX (peak_max, want_max[j]);
    }
  for (int j = 0; j < 49; j++)
    {
      want_mean[j] /= peak_mean;
      want_max[j] /= peak_max;
    }
  mean = ts_model_attention_query_map (out, -1, -1, TS_HEAD_FUSION_MEAN, &error);
  mx = ts_model_attention_query_map (out, 1, -1, TS_HEAD_FUSION_MAX, &error);
  one = ts_model_attention_query_map (out, 1, 2, TS_HEAD_FUSION_MEAN, &error);
  g_assert_no_error (error);
  assert_close ("CLS map mean", mean, want_mean, 49, 1e-4);
  assert_close ("CLS map max", mx, want_max, 49, 1e-4);
  g_assert_null (ts_model_attention_query_map (out, 2, -1, TS_HEAD_FUSION_MEAN, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_model_attention_query_map (out, 0, 4, TS_HEAD_FUSION_MEAN, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_model_attention_rollout_map (out, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_siglip_mean_query (void)
{
  g_autoptr (TsVit) vit = load_golden (&goldens[2]);
  g_autoptr (TsImage) image = ts_test_gradient (56, 56);
  g_autoptr (TsVitOutput) out = NULL;
  g_autoptr (GError) error = NULL;
  TsVitRunOptions opt;
  double sum = 0;

  ts_vit_run_options_init (&opt);
  opt.layer = -1;
  opt.query_attention = TRUE;
  out = ts_vit_run (vit, image, &opt, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ts_model_attention_query_kind (out), ==, "mean query");
  for (int j = 0; j < out->n_tokens; j++)
    sum += out->query_attn[j];
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5); /* a mean of stochastic rows is stochastic */
}

static char *
golden_png (const char *name, int w, int h)
{
  g_autoptr (TsImage) image = ts_test_gradient (w, h);
  char *path = ts_test_path (name);

  g_assert_true (ts_image_save_png (image, path, NULL));
  return path;
}

static JsonObject *
parse_json (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_cli_info (void)
{
  g_autofree char *model = fixture ("siglip", ".safetensors");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;

  g_assert_cmpint (ts_test_cli (&out, &err, "model", "info", model, "--heads", "4", "--json", "-", NULL), ==, 0);
  o = parse_json (parser, out);
  g_assert_cmpstr (json_object_get_string_member (o, "family"), ==, "siglip");
  g_assert_cmpint (json_object_get_int_member (o, "patch"), ==, 8);
  g_assert_cmpint (json_object_get_int_member (o, "width"), ==, 64);
  g_assert_cmpint (json_object_get_int_member (o, "depth"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "heads"), ==, 4);
  g_assert_false (json_object_get_boolean_member (o, "cls"));
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (o, "tensors")), >, 30);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ts_test_cli (&out, &err, "model", "info", model, "--tensors", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "vision_model.head.probe"));
  g_assert_nonnull (strstr (out, "BF16"));
}

static void
test_cli_features (void)
{
  g_autofree char *model = fixture ("timm", ".safetensors");
  g_autofree char *png = golden_png ("golden-56x40.png", 56, 40);
  g_autofree char *npy = ts_test_path ("timm-features.npy");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (TsNpyArray) tokens = fixture_npy ("timm", "tokens");
  g_autoptr (TsNpyArray) got = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (ts_test_cli (&out, &err, "model", "features", png, "--model", model, "--heads", "4", "--resize",
                                "native", "--layer", "-2", "--export-features", npy, NULL), ==, 0);
  got = ts_npy_read (npy, &error);
  g_assert_no_error (error);
  g_assert_cmpint (got->ndim, ==, 2);
  g_assert_cmpint (got->shape[0], ==, 35);
  g_assert_cmpint (got->shape[1], ==, 64);
  /* the fixture's tokens after CLS and 2 registers */
  assert_close ("CLI features", got->data, tokens->data + 3 * 64, 35 * 64, 1e-4);
}

static void
test_cli_attention (void)
{
  g_autofree char *model = fixture ("dinov2", ".safetensors");
  g_autofree char *siglip = fixture ("siglip", ".safetensors");
  g_autofree char *png = golden_png ("golden-56.png", 56, 56);
  g_autofree char *overlay = ts_test_path ("overlay.png");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (TsImage) shown = NULL;
  JsonObject *o;
  JsonArray *rows;
  double mx = 0;

  g_assert_cmpint (ts_test_cli (&out, &err, "model", "attention", png, "--model", model, "--heads", "4", "--layer", "-1",
                                "--resize", "native", "--head-fusion", "max", "--png", overlay, "--json", "-", NULL), ==, 0);
  o = parse_json (parser, out);
  g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "attention");
  g_assert_cmpstr (json_object_get_string_member (o, "query"), ==, "cls");
  g_assert_cmpint (json_object_get_int_member (o, "layer"), ==, 1);
  rows = json_object_get_array_member (o, "map");
  g_assert_cmpint (json_array_get_length (rows), ==, 7);
  for (guint r = 0; r < 7; r++)
    for (guint c = 0; c < 7; c++)
      mx = MAX (mx, json_array_get_double_element (json_array_get_array_element (rows, r), c));
  g_assert_cmpfloat_with_epsilon (mx, 1.0, 1e-9);
  shown = ts_image_load (overlay, NULL, NULL);
  g_assert_nonnull (shown);
  g_assert_cmpint (shown->width, ==, 56);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ts_test_cli (&out, &err, "model", "attention", png, "--model", siglip, "--heads", "4", "--rollout",
                                "--json", "-", NULL), ==, 0);
  g_assert_nonnull (strstr (err, "no CLS token"));
  g_assert_nonnull (strstr (out, "\"query\" : \"mean\""));

  /* usage and input errors */
  g_assert_cmpint (ts_test_cli (NULL, NULL, "model", "attention", png, "--model", model, "--rollout", "--layer", "1", NULL),
                   ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "model", "attention", png, "--rollout", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "model", "attention", png, "--model", model, "--layer", "9", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "model", "attention", png, "--model", png, "--layer", "0", NULL), ==, 2);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "model", "frobnicate", NULL), ==, 1);
}

static void
test_cli_tome (void)
{
  g_autofree char *model = fixture ("timm", ".safetensors");
  g_autofree char *png = golden_png ("golden-56x40.png", 56, 40);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (TsNpyArray) emb = fixture_npy ("timm", "embedding");
  g_autoptr (TsNpyArray) temb = fixture_npy ("timm", "tome_embedding");
  JsonObject *o;

  g_assert_cmpint (ts_test_cli (&out, &err, "model", "tome", png, "--model", model, "--heads", "4", "--resize", "native",
                                "--r", "8", "--json", "-", NULL), ==, 0);
  o = parse_json (parser, out);
  g_assert_cmpint (json_object_get_int_member (o, "tokens_in"), ==, 35);
  g_assert_cmpint (json_object_get_int_member (o, "tokens_out"), ==, 19); /* 38 - 16 tokens, 3 of them prefix */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "model_fidelity"),
                                  ts_cosine (emb->data, temb->data, 64), 1e-4);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "model", "tome", png, "--model", model, NULL), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (goldens); i++)
    {
      g_autofree char *d = g_strdup_printf ("/vit/detect/%s", goldens[i].name);
      g_autofree char *p = g_strdup_printf ("/vit/golden/%s", goldens[i].name);
      g_test_add_data_func (d, &goldens[i], test_detect);
      g_test_add_data_func (p, &goldens[i], test_golden);
      if (goldens[i].tome_r > 0)
        {
          g_autofree char *t = g_strdup_printf ("/vit/tome/%s", goldens[i].name);
          g_test_add_data_func (t, &goldens[i], test_tome);
        }
    }
  g_test_add_func ("/vit/tome-schedule", test_schedule);
  g_test_add_func ("/vit/heads-and-config", test_heads_default_and_config);
  g_test_add_func ("/vit/family-override", test_family_override);
  g_test_add_func ("/vit/parse-names", test_parse_names);
  g_test_add_func ("/vit/bad-run", test_bad_run);
  g_test_add_func ("/vit/resolve-layer", test_resolve_layer);
  g_test_add_func ("/vit/bad-helpers", test_bad_helpers);
  g_test_add_func ("/vit/scene", test_scene);
  g_test_add_func ("/vit/random", test_random);
  g_test_add_func ("/model-attention/rollout-by-hand", test_rollout_hand);
  g_test_add_func ("/model-attention/query-maps", test_query_maps);
  g_test_add_func ("/model-attention/siglip-mean-query", test_siglip_mean_query);
  g_test_add_func ("/vit/cli/info", test_cli_info);
  g_test_add_func ("/vit/cli/features", test_cli_features);
  g_test_add_func ("/vit/cli/attention", test_cli_attention);
  g_test_add_func ("/vit/cli/tome", test_cli_tome);
  return g_test_run ();
}
