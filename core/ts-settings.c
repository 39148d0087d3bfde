#include "ts-settings.h"
#include "ts-error.h"
#include "ts-io.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static const double default_ratios[] = { 1, 2, 4, 8, 16, 32 };

/* name tables -------------------------------------------------------------- */

static gboolean
parse_name (const char *const *names, guint n, const char *text, int *out, const char *what, GError **error)
{
  g_autofree char *joined = NULL;

  for (guint i = 0; i < n; i++)
    if (text != NULL && g_ascii_strcasecmp (text, names[i]) == 0)
      {
        *out = (int) i;
        return TRUE;
      }
  joined = g_strjoinv (", ", (char **) names);
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown %s '%s' (use %s)", what, text ? text : "",
               joined);
  return FALSE;
}

#define NAME_TABLE(fn, Type, what, ...)                                                                   \
  static const char *const fn##_names[] = { __VA_ARGS__, NULL };                                        \
  const char *ts_##fn##_name (Type v)                                                                    \
  {                                                                                                      \
    return (guint) v < G_N_ELEMENTS (fn##_names) - 1 ? fn##_names[v] : "unknown";                        \
  }                                                                                                      \
  gboolean ts_##fn##_parse (const char *text, Type *out, GError **error)                                 \
  {                                                                                                      \
    int v;                                                                                               \
    if (!parse_name (fn##_names, G_N_ELEMENTS (fn##_names) - 1, text, &v, what, error))                  \
      return FALSE;                                                                                      \
    *out = (Type) v;                                                                                     \
    return TRUE;                                                                                         \
  }

NAME_TABLE (pool_mode, TsPoolMode, "pooling mode", "avg", "max")
NAME_TABLE (detail, TsDetailScore, "detail score", "blur", "entropy", "gradient")
NAME_TABLE (drop_fill, TsDropFill, "fill", "grey", "nearest")
NAME_TABLE (npy_cls, TsNpyCls, "CLS choice", "auto", "yes", "no")

/* lifecycle ---------------------------------------------------------------- */

void
ts_settings_init (TsSettings *s)
{
  memset (s, 0, sizeof *s);
  s->resize.policy = TS_RESIZE_NATIVE;
  s->resize.size = 336;
  s->patch = 14;
  s->features = TS_FEATURES_PIXEL;
  s->cls = TS_NPY_CLS_AUTO;
  s->method = g_strdup ("pool");
  ts_method_params_init (&s->params);
  s->metric = g_strdup ("ssim");
  s->threshold = 0.95;
  s->ratios = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_vals (s->ratios, default_ratios, G_N_ELEMENTS (default_ratios));
  s->methods = g_ptr_array_new_with_free_func (g_free);
  s->model_family = g_strdup ("auto");
  s->model_layer = -2;
}

void
ts_settings_clear (TsSettings *s)
{
  g_clear_pointer (&s->features_file, g_free);
  g_clear_pointer (&s->method, g_free);
  g_clear_pointer (&s->metric, g_free);
  g_clear_pointer (&s->ratios, g_array_unref);
  g_clear_pointer (&s->methods, g_ptr_array_unref);
  g_clear_pointer (&s->model_file, g_free);
  g_clear_pointer (&s->model_family, g_free);
}

void
ts_settings_copy (TsSettings *dst, const TsSettings *src)
{
  *dst = *src;
  dst->features_file = g_strdup (src->features_file);
  dst->method = g_strdup (src->method);
  dst->metric = g_strdup (src->metric);
  dst->ratios = g_array_copy (src->ratios);
  dst->methods = g_ptr_array_copy (src->methods, (GCopyFunc) (void (*) (void)) g_strdup, NULL);
  g_ptr_array_set_free_func (dst->methods, g_free);
  dst->model_file = g_strdup (src->model_file);
  dst->model_family = g_strdup (src->model_family);
}

/* reading ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  GPtrArray *warnings;
  GError **error;
} Reader;

static gboolean
fail (Reader *r, const char *member, const char *what)
{
  g_set_error (r->error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: \"%s\" %s", r->name, member, what);
  return FALSE;
}

static gboolean
get_number (Reader *r, JsonObject *o, const char *member, double lo, double hi, double *out)
{
  JsonNode *n = json_object_get_member (o, member);
  GType t;

  if (n == NULL)
    return TRUE;
  t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return fail (r, member, "must be a number");
  *out = json_node_get_double (n);
  if (!(*out >= lo && *out <= hi))
    {
      g_set_error (r->error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: \"%s\" is %g, outside %g..%g", r->name, member,
                   *out, lo, hi);
      return FALSE;
    }
  return TRUE;
}

static gboolean
get_int (Reader *r, JsonObject *o, const char *member, int lo, int hi, int *out)
{
  double v = *out;

  if (!get_number (r, o, member, lo, hi, &v))
    return FALSE;
  if (v != floor (v))
    return fail (r, member, "must be a whole number");
  *out = (int) v;
  return TRUE;
}

static gboolean
get_bool (Reader *r, JsonObject *o, const char *member, gboolean *out)
{
  JsonNode *n = json_object_get_member (o, member);

  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return fail (r, member, "must be true or false");
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* A string member (or null when @nullable) replacing *out. */
static gboolean
get_string (Reader *r, JsonObject *o, const char *member, gboolean nullable, char **out)
{
  JsonNode *n = json_object_get_member (o, member);

  if (n == NULL)
    return TRUE;
  if (nullable && JSON_NODE_HOLDS_NULL (n))
    {
      g_clear_pointer (out, g_free);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return fail (r, member, nullable ? "must be a string or null" : "must be a string");
  g_free (*out);
  *out = g_strdup (json_node_get_string (n));
  return TRUE;
}

/* A string member mapped through a parse function. */
#define GET_ENUM(r, o, member, parse, out)                                                               \
  G_STMT_START                                                                                           \
  {                                                                                                      \
    g_autofree char *text_ = NULL;                                                                       \
    g_autoptr (GError) e_ = NULL;                                                                        \
    if (!get_string (r, o, member, FALSE, &text_))                                                       \
      return FALSE;                                                                                      \
    if (text_ != NULL && !parse (text_, out, &e_))                                                       \
      {                                                                                                  \
        g_set_error (r->error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: \"%s\": %s", r->name, member, e_->message); \
        return FALSE;                                                                                    \
      }                                                                                                  \
  }                                                                                                      \
  G_STMT_END

static JsonObject *
get_object (Reader *r, JsonObject *o, const char *member, gboolean *ok)
{
  JsonNode *n = json_object_get_member (o, member);

  *ok = TRUE;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      *ok = fail (r, member, "must be an object");
      return NULL;
    }
  return json_node_get_object (n);
}

static void
warn_unknown (Reader *r, JsonObject *o, const char *where, const char *const *known)
{
  g_autoptr (GList) members = json_object_get_members (o);

  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (known, l->data) && r->warnings)
      g_ptr_array_add (r->warnings, g_strdup_printf ("%s: unknown setting \"%s%s%s\" ignored", r->name,
                                                     where ? where : "", where ? "." : "", (char *) l->data));
}

static gboolean
read_params (Reader *r, JsonObject *p, TsMethodParams *m)
{
  static const char *const known[] = { "pool_mode", "protected", "adjacent_only", "tome_r", "dominant_fraction",
                                       "rounds", "tau", "detail", "entropy_threshold", "fill", "seed", NULL };
  double seed = (double) m->seed;

  warn_unknown (r, p, "params", known);
  GET_ENUM (r, p, "pool_mode", ts_pool_mode_parse, &m->pool_mode);
  GET_ENUM (r, p, "detail", ts_detail_parse, &m->detail);
  GET_ENUM (r, p, "fill", ts_drop_fill_parse, &m->fill);
  return get_int (r, p, "protected", 0, 1 << 20, &m->n_protected) &&
         get_bool (r, p, "adjacent_only", &m->adjacent_only) && get_int (r, p, "tome_r", 0, 1 << 24, &m->tome_r) &&
         get_number (r, p, "dominant_fraction", 0, 1, &m->dominant_fraction) &&
         get_int (r, p, "rounds", 0, 1000, &m->rounds) && get_number (r, p, "tau", 1e-6, 1e6, &m->tau) &&
         get_number (r, p, "entropy_threshold", 0, 8, &m->entropy_threshold) &&
         get_number (r, p, "seed", 0, 9007199254740992.0, &seed) && ((m->seed = (guint64) seed), TRUE);
}

static gboolean
read_analysis (Reader *r, JsonObject *a, TsSettings *s)
{
  static const char *const known[] = { "metric", "threshold", "ratios", "methods", NULL };
  JsonNode *n;

  warn_unknown (r, a, "analysis", known);
  if (!get_string (r, a, "metric", FALSE, &s->metric) || !get_number (r, a, "threshold", 0, 1, &s->threshold))
    return FALSE;
  if (strcmp (s->metric, "ssim") != 0 && strcmp (s->metric, "feature") != 0)
    return fail (r, "metric", "must be \"ssim\" or \"feature\"");
  if ((n = json_object_get_member (a, "ratios")) != NULL)
    {
      JsonArray *arr;
      if (!JSON_NODE_HOLDS_ARRAY (n))
        return fail (r, "ratios", "must be an array of numbers");
      arr = json_node_get_array (n);
      if (json_array_get_length (arr) == 0 || json_array_get_length (arr) > 64)
        return fail (r, "ratios", "must hold 1 to 64 ratios");
      g_array_set_size (s->ratios, 0);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          JsonNode *e = json_array_get_element (arr, i);
          double v;
          if (!JSON_NODE_HOLDS_VALUE (e) ||
              (json_node_get_value_type (e) != G_TYPE_INT64 && json_node_get_value_type (e) != G_TYPE_DOUBLE))
            return fail (r, "ratios", "must be an array of numbers");
          v = json_node_get_double (e);
          if (!(v >= 1 && v <= 65536))
            return fail (r, "ratios", "values must be between 1 and 65536");
          g_array_append_val (s->ratios, v);
        }
    }
  if ((n = json_object_get_member (a, "methods")) != NULL)
    {
      JsonArray *arr;
      if (!JSON_NODE_HOLDS_ARRAY (n))
        return fail (r, "methods", "must be an array of method names");
      arr = json_node_get_array (n);
      g_ptr_array_set_size (s->methods, 0);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          JsonNode *e = json_array_get_element (arr, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            return fail (r, "methods", "must be an array of method names");
          if (!ts_method_find (json_node_get_string (e), NULL))
            {
              g_set_error (r->error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: \"methods\": unknown method '%s'", r->name,
                           json_node_get_string (e));
              return FALSE;
            }
          g_ptr_array_add (s->methods, g_strdup (json_node_get_string (e)));
        }
    }
  return TRUE;
}

gboolean
ts_settings_parse (TsSettings *s, const char *data, gssize len, const char *path, GPtrArray *warnings,
                   GError **error)
{
  static const char *const known[] = { "tokenscope_settings", "resize", "patch", "features", "method", "target",
                                       "params", "analysis", "model", NULL };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *name = ts_display_name (path);
  Reader r = { name, warnings, error };
  TsSettings t;
  JsonObject *root, *o;
  JsonNode *node;
  gboolean ok;
  int version = TS_SETTINGS_VERSION;

  if (!json_parser_load_from_data (parser, data, len, &local))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: not valid JSON: %s", name, local->message);
      return FALSE;
    }
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: a settings file must be a JSON object", name);
      return FALSE;
    }
  root = json_node_get_object (node);

  /* fill a copy, so a failure leaves @s untouched */
  ts_settings_copy (&t, s);
  warn_unknown (&r, root, NULL, known);
  ok = get_int (&r, root, "tokenscope_settings", 1, 1000, &version);
  if (ok && version > TS_SETTINGS_VERSION && warnings)
    g_ptr_array_add (warnings, g_strdup_printf ("%s: written by a newer TokenScope (format %d)", name, version));
  ok = ok && get_int (&r, root, "patch", TS_PATCH_MIN, TS_PATCH_MAX, &t.patch);
  ok = ok && get_string (&r, root, "method", FALSE, &t.method);
  if (ok && ts_method_find (t.method, NULL) == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: \"method\": unknown method '%s'", name, t.method);
      ok = FALSE;
    }
  if (ok && (o = get_object (&r, root, "resize", &ok)) != NULL)
    {
      static const char *const k[] = { "policy", "size", NULL };
      warn_unknown (&r, o, "resize", k);
      ok = get_int (&r, o, "size", 2, 65536, &t.resize.size);
      if (ok)
        {
          g_autofree char *policy = NULL;
          g_autoptr (GError) e = NULL;
          ok = get_string (&r, o, "policy", FALSE, &policy);
          if (ok && policy && !ts_resize_policy_parse (policy, &t.resize.policy, &e))
            ok = fail (&r, "resize.policy", "must be native, fit, square or pad");
        }
    }
  if (ok && (o = get_object (&r, root, "features", &ok)) != NULL)
    {
      static const char *const k[] = { "kind", "file", "cls", NULL };
      g_autofree char *kind = NULL;
      g_autoptr (GError) e = NULL;
      warn_unknown (&r, o, "features", k);
      ok = get_string (&r, o, "kind", FALSE, &kind) && get_string (&r, o, "file", TRUE, &t.features_file);
      if (ok && kind && !ts_feature_kind_parse (kind, &t.features, &e))
        ok = fail (&r, "features.kind", "must be pixel, descriptor, npy or model");
      if (ok)
        {
          g_autofree char *cls = NULL;
          ok = get_string (&r, o, "cls", FALSE, &cls);
          if (ok && cls && !ts_npy_cls_parse (cls, &t.cls, NULL))
            ok = fail (&r, "features.cls", "must be auto, yes or no");
        }
    }
  if (ok && (o = get_object (&r, root, "target", &ok)) != NULL)
    {
      static const char *const k[] = { "tokens", "ratio", NULL };
      warn_unknown (&r, o, "target", k);
      ok = get_int (&r, o, "tokens", 0, G_MAXINT / 4, &t.params.tokens) &&
           get_number (&r, o, "ratio", 1, 1e6, &t.params.ratio);
    }
  if (ok && (o = get_object (&r, root, "params", &ok)) != NULL)
    ok = read_params (&r, o, &t.params);
  if (ok && (o = get_object (&r, root, "analysis", &ok)) != NULL)
    ok = read_analysis (&r, o, &t);
  if (ok && (o = get_object (&r, root, "model", &ok)) != NULL)
    {
      static const char *const k[] = { "file", "family", "layer", NULL };
      warn_unknown (&r, o, "model", k);
      ok = get_string (&r, o, "file", TRUE, &t.model_file) && get_string (&r, o, "family", FALSE, &t.model_family) &&
           get_int (&r, o, "layer", -1000, 1000, &t.model_layer);
    }

  if (!ok)
    {
      ts_settings_clear (&t);
      return FALSE;
    }
  ts_settings_clear (s);
  *s = t;
  return TRUE;
}

gboolean
ts_settings_load (TsSettings *s, const char *path, GPtrArray *warnings, GError **error)
{
  g_autoptr (GBytes) bytes = ts_file_read (path, TS_SETTINGS_MAX_BYTES, error);
  gsize len;
  const char *data;

  if (bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (bytes, &len);
  if (len == 0)
    {
      g_autofree char *name = ts_display_name (path);
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the settings file is empty", name);
      return FALSE;
    }
  return ts_settings_parse (s, data, (gssize) len, path, warnings, error);
}

/* writing ------------------------------------------------------------------ */

static void
add_string (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

char *
ts_settings_to_json (const TsSettings *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  const TsMethodParams *p = &s->params;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tokenscope_settings");
  json_builder_add_int_value (b, TS_SETTINGS_VERSION);
  json_builder_set_member_name (b, "resize");
  json_builder_begin_object (b);
  add_string (b, "policy", ts_resize_policy_name (s->resize.policy));
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, s->resize.size);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, s->patch);
  json_builder_set_member_name (b, "features");
  json_builder_begin_object (b);
  add_string (b, "kind", ts_feature_kind_name (s->features));
  add_string (b, "file", s->features_file);
  add_string (b, "cls", ts_npy_cls_name (s->cls));
  json_builder_end_object (b);
  add_string (b, "method", s->method);
  json_builder_set_member_name (b, "target");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_add_int_value (b, p->tokens);
  json_builder_set_member_name (b, "ratio");
  json_builder_add_double_value (b, p->ratio);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  add_string (b, "pool_mode", ts_pool_mode_name (p->pool_mode));
  json_builder_set_member_name (b, "protected");
  json_builder_add_int_value (b, p->n_protected);
  json_builder_set_member_name (b, "adjacent_only");
  json_builder_add_boolean_value (b, p->adjacent_only);
  json_builder_set_member_name (b, "tome_r");
  json_builder_add_int_value (b, p->tome_r);
  json_builder_set_member_name (b, "dominant_fraction");
  json_builder_add_double_value (b, p->dominant_fraction);
  json_builder_set_member_name (b, "rounds");
  json_builder_add_int_value (b, p->rounds);
  json_builder_set_member_name (b, "tau");
  json_builder_add_double_value (b, p->tau);
  add_string (b, "detail", ts_detail_name (p->detail));
  json_builder_set_member_name (b, "entropy_threshold");
  json_builder_add_double_value (b, p->entropy_threshold);
  add_string (b, "fill", ts_drop_fill_name (p->fill));
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) p->seed);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "analysis");
  json_builder_begin_object (b);
  add_string (b, "metric", s->metric);
  json_builder_set_member_name (b, "threshold");
  json_builder_add_double_value (b, s->threshold);
  json_builder_set_member_name (b, "ratios");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->ratios->len; i++)
    json_builder_add_double_value (b, g_array_index (s->ratios, double, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "methods");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->methods->len; i++)
    json_builder_add_string_value (b, s->methods->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  add_string (b, "file", s->model_file);
  add_string (b, "family", s->model_family);
  json_builder_set_member_name (b, "layer");
  json_builder_add_int_value (b, s->model_layer);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

gboolean
ts_settings_save (const TsSettings *s, const char *path, GError **error)
{
  g_autofree char *json = ts_settings_to_json (s);
  g_autofree char *text = g_strconcat (json, "\n", NULL);

  return ts_file_write (path, text, strlen (text), error);
}

/* Shell-quotes only when needed, so commands stay readable. */
static char *
quote_arg (const char *arg)
{
  for (const char *c = arg; *c; c++)
    if (!g_ascii_isalnum (*c) && strchr ("_./:=+-,@%", *c) == NULL)
      return g_shell_quote (arg);
  return *arg ? g_strdup (arg) : g_shell_quote (arg);
}

char *
ts_settings_to_command (const TsSettings *s, const char *image)
{
  GString *cmd = g_string_new ("tokenscope-cli compress ");
  g_autofree char *quoted = quote_arg (image ? image : "IMAGE");
  const TsMethodParams *p = &s->params;
  char num[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (cmd, "%s --method %s", quoted, s->method);
  if (p->tokens > 0)
    g_string_append_printf (cmd, " --tokens %d", p->tokens);
  else
    g_string_append_printf (cmd, " --ratio %s", g_ascii_dtostr (num, sizeof num, p->ratio));
  /* with --model the CLI's default is the model's native square: say native too */
  if (s->resize.policy != TS_RESIZE_NATIVE || s->model_file)
    g_string_append_printf (cmd, " --resize %s --size %d", ts_resize_policy_name (s->resize.policy), s->resize.size);
  if (s->patch != 14 && !s->model_file) /* the model fixes the patch */
    g_string_append_printf (cmd, " --patch %d", s->patch);
  if (s->model_file)
    {
      g_autofree char *q = quote_arg (s->model_file);
      g_string_append_printf (cmd, " --model %s", q);
      if (s->model_family && g_ascii_strcasecmp (s->model_family, "auto") != 0)
        g_string_append_printf (cmd, " --family %s", s->model_family);
      if (s->model_layer != -2)
        g_string_append_printf (cmd, " --layer %d", s->model_layer);
    }
  else if (s->features == TS_FEATURES_NPY && s->features_file)
    {
      g_autofree char *f = g_strdup_printf ("npy:%s", s->features_file);
      g_autofree char *q = quote_arg (f);
      g_string_append_printf (cmd, " --features %s", q);
    }
  else if (s->features != TS_FEATURES_PIXEL)
    g_string_append_printf (cmd, " --features %s", ts_feature_kind_name (s->features));
  if (p->pool_mode != TS_POOL_AVG)
    g_string_append_printf (cmd, " --pool-mode %s", ts_pool_mode_name (p->pool_mode));
  if (p->n_protected)
    g_string_append_printf (cmd, " --protected %d", p->n_protected);
  if (p->adjacent_only)
    g_string_append (cmd, " --adjacent-only");
  if (p->tome_r)
    g_string_append_printf (cmd, " --tome-r %d", p->tome_r);
  if (p->dominant_fraction != 0.85)
    g_string_append_printf (cmd, " --dominant %s", g_ascii_dtostr (num, sizeof num, p->dominant_fraction));
  if (p->rounds != 3)
    g_string_append_printf (cmd, " --rounds %d", p->rounds);
  if (p->tau != 0.1)
    g_string_append_printf (cmd, " --tau %s", g_ascii_dtostr (num, sizeof num, p->tau));
  if (p->detail != TS_DETAIL_BLUR_ERROR)
    g_string_append_printf (cmd, " --detail %s", ts_detail_name (p->detail));
  if (p->entropy_threshold > 0)
    g_string_append_printf (cmd, " --entropy-threshold %s", g_ascii_dtostr (num, sizeof num, p->entropy_threshold));
  if (p->fill != TS_DROP_FILL_GREY)
    g_string_append_printf (cmd, " --fill %s", ts_drop_fill_name (p->fill));
  if (p->seed)
    g_string_append_printf (cmd, " --seed %" G_GUINT64_FORMAT, p->seed);
  return g_string_free (cmd, FALSE);
}

gboolean
ts_ratio_list_parse (const char *text, double *ratios, int max, int *n, GError **error)
{
  g_auto (GStrv) parts = g_strsplit_set (text ? text : "", ", \t", -1);

  *n = 0;
  for (int i = 0; parts[i] != NULL; i++)
    {
      char *end = NULL;
      double v;
      if (*parts[i] == '\0')
        continue;
      v = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || (*end != '\0' && g_strcmp0 (end, "x") != 0) || !(v >= 1.0) || !isfinite (v))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                       "ratios are numbers >= 1 such as 1,2,4,8; '%s' is not one", parts[i]);
          return FALSE;
        }
      if (*n == max)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "at most %d ratios, not more", max);
          return FALSE;
        }
      ratios[(*n)++] = v;
    }
  if (*n == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "no ratios in '%s': give some such as 1,2,4,8",
                   text ? text : "");
      return FALSE;
    }
  return TRUE;
}
