/* ts-window.c: the main window: wires TsDocument to the canvas, curves and controls. */
#include "ts-window.h"

#include <math.h>

#include "ts-budget-panel.h"
#include "ts-canvas.h"
#include "ts-curves.h"
#include "ts-plot-render.h"
#include "ts-dataset-window.h"
#include "ts-video-bar.h"

#define SAMPLES_PATH "/org/tokenscope/TokenScope/samples/"

enum {
  NUM_TOKENS_IN,
  NUM_TOKENS_OUT,
  NUM_CR,
  NUM_TPM,
  NUM_PSNR,
  NUM_SSIM,
  NUM_RETENTION,
  NUM_EFFICIENCY,
  NUM_ENTROPY,
  NUM_SUGGESTED,
  NUM_KV,
  NUM_ENCODER,
  NUM_FLOPS_TOKEN,
  N_NUMBERS
};

static const struct {
  const char *label;
  const char *tooltip;
} number_rows[N_NUMBERS] = {
  { "Tokens in", "Patches of the working image: rows × cols" },
  { "Tokens out", "Tokens after compression" },
  { "Compression", "CR = tokens in / tokens out" },
  { "Tokens per MP", "TPM = tokens × 10⁶ / (W × H) of the working image" },
  { "PSNR", "10 log10(255² / MSE) of the reconstruction, all RGB channels" },
  { "SSIM", "Structural similarity of the reconstruction's luma (Gaussian σ 1.5)" },
  { "Feature retention", "Mean cosine between each original token and its representative" },
  { "Efficiency", "E = CR × SSIM" },
  { "Entropy", "k-means token entropy (k 256): H = −Σ pᵢ log₂ pᵢ over the clusters' shares of the tokens; "
               "the lower, the more redundant (measured with the curves)" },
  { "Suggested ratio", "The seed's reading of the entropy: the compression range to start from" },
  { "KV cache", "Key/value cache of the output tokens in the LLM below: tokens × 2 × layers × KV heads × "
                "head dim × bytes per value" },
  { "Encoder FLOPs", "The vision encoder below over the tokens it sees (all patches; fewer for downsampling): "
                     "layers × (24 N D² + 4 N² D) with a 4D MLP" },
  { "FLOPs per token", "(encoder FLOPs + the method's own FLOPs) / output tokens, and that against the "
                       "uncompressed encoder's FLOPs per token" },
};

struct _TsWindow {
  GtkApplicationWindow parent_instance;

  /* Template widgets */
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkSpinner *spinner;
  GtkToggleButton *view_original;
  GtkToggleButton *view_recon;
  GtkToggleButton *view_diff;
  GtkRevealer *banner_revealer;
  GtkLabel *banner_label;
  GtkButton *banner_close;
  GtkPopover *samples_popover;
  GtkFlowBox *samples_box;
  GtkListBox *recent_list;
  GtkLabel *recent_heading;
  TsCanvas *canvas;
  TsBudgetPanel *budget_panel;
  GtkStack *sidebar_stack;
  GtkWidget *sidebar_switcher;
  GtkWidget *model_label;
  GtkWidget *model_box;
  GtkDropDown *model_family_dropdown;
  GtkAdjustment *model_layer_adjustment;
  TsCurves *curves;
  GtkDropDown *metric_dropdown;
  GtkLabel *optimal_label;
  GtkDropDown *method_dropdown;
  GtkLabel *explain_label;
  GtkLabel *summary_label;
  GtkWidget *pool_mode_row;
  GtkDropDown *pool_mode_dropdown;
  GtkDropDown *fill_dropdown;
  GtkScale *ratio_scale;
  GtkInscription *ratio_value;
  GtkAdjustment *ratio_adjustment;
  GtkSpinButton *tokens_spin;
  GtkAdjustment *tokens_adjustment;
  GtkGrid *numbers_grid;
  GtkCheckButton *grid_check;
  GtkCheckButton *borders_check;
  GtkCheckButton *regions_check;
  GtkCheckButton *dim_check;
  GtkDropDown *fill_mode_dropdown;
  GtkAdjustment *fill_opacity_adjustment;
  GtkCheckButton *heat_check;
  GtkAdjustment *heat_opacity_adjustment;
  GtkScale *tau_scale;
  GtkAdjustment *tau_adjustment;
  GtkLabel *query_label;
  GtkDropDown *resize_dropdown;
  GtkAdjustment *size_adjustment;
  GtkAdjustment *patch_adjustment;
  GtkDropDown *features_dropdown;
  TsVideoBar *video_bar;

  /* Method options built in code (one row each, shown for the methods that read them) */
  GtkWidget *adjacent_row;
  GtkCheckButton *adjacent_check;
  GtkWidget *dominant_row;
  GtkAdjustment *dominant_adjustment;
  GtkWidget *rounds_row;
  GtkAdjustment *rounds_adjustment;
  GtkWidget *detail_row;
  GtkDropDown *detail_dropdown;
  GtkWidget *protected_row;
  GtkAdjustment *protected_adjustment;

  /* Owned references */
  TsDocument *document;
  TsVideo *video;          /* what changes between the frames of a clip */
  GCancellable *load_cancellable;
  GtkInscription *numbers[N_NUMBERS]; /* inscriptions: a new value never relayouts the window */
  GtkDropDown *llm_dropdown;    /* presets for the KV cache and encoder FLOPs rows */
  GtkDropDown *vit_dropdown;
  GFile *pending_file;     /* being loaded, added to recent files on success */

  /* State */
  gboolean updating;       /* controls are being set from the document */
  gboolean samples_filled;
  guint spinner_source;
  guint numbers_source;       /* the numbers of new groups, after their frame */
  guint ui_state_source;   /* TS_UI_STATE written after the frame */
  gint64 created_time;
  gboolean first_frame_logged;
};

G_DEFINE_FINAL_TYPE (TsWindow, ts_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---------------------------------------------------------------- helpers */

static char *
settings_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "tokenscope", "settings.ini", NULL);
}

static const TsMethod *
method_at (guint index)
{
  guint n;
  const TsMethod *const *all = ts_methods (&n);
  return index < n ? all[index] : NULL;
}

static guint
method_position (const TsMethod *method)
{
  guint n;
  const TsMethod *const *all = ts_methods (&n);

  for (guint i = 0; i < n; i++)
    if (all[i] == method)
      return i;
  return 0;
}

static void
format_number (char *buf, gsize size, int decimals, const char *suffix, double v)
{
  if (isinf (v))
    g_strlcpy (buf, "∞ (identical)", size);
  else if (isnan (v))
    g_strlcpy (buf, "—", size);
  else
    g_snprintf (buf, size, "%.*f%s", decimals, v, suffix);
}

static void
update_options (TsWindow *self)
{
  TsOverlayOptions opts = *ts_canvas_get_options (self->canvas);

  opts.grid = gtk_check_button_get_active (self->grid_check);
  opts.borders = gtk_check_button_get_active (self->borders_check);
  opts.regions = gtk_check_button_get_active (self->regions_check);
  opts.dim_dropped = gtk_check_button_get_active (self->dim_check);
  opts.fill = gtk_drop_down_get_selected (self->fill_mode_dropdown);
  opts.fill_opacity = gtk_adjustment_get_value (self->fill_opacity_adjustment);
  opts.heatmap = gtk_check_button_get_active (self->heat_check);
  opts.heat_opacity = gtk_adjustment_get_value (self->heat_opacity_adjustment);
  opts.query = opts.heatmap ? ts_document_get_query (self->document) : -1;
  opts.changed = ts_video_bar_get_show_changed (self->video_bar);
  ts_canvas_set_options (self->canvas, &opts);
}

static void
update_title (TsWindow *self)
{
  const TsScene *scene = ts_document_get_scene (self->document);
  const TsMedia *media = ts_document_get_media (self->document);
  g_autofree char *sub = NULL;

  gtk_label_set_label (self->title_label, ts_document_get_name (self->document) ?: "TokenScope");
  if (scene && media)
    sub = g_strdup_printf ("%d × %d → %d × %d, %d × %d patches of %d px", media->frames[0]->width,
                           media->frames[0]->height, scene->grid.width, scene->grid.height, scene->grid.cols,
                           scene->grid.rows, scene->grid.patch);
  gtk_label_set_label (self->subtitle_label, sub ? sub : "");
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), sub != NULL);
}

static const char *
format_bytes (char *buf, gsize size, double bytes)
{
  if (bytes >= 1e9)
    g_snprintf (buf, size, "%.2f GB", bytes / 1e9);
  else
    g_snprintf (buf, size, "%.1f MB", bytes / 1e6);
  return buf;
}

/* The entropy rows, and what the output tokens cost in the chosen LLM and encoder. */
static void
update_cost_numbers (TsWindow *self)
{
  const TsEntropy *e = ts_document_get_entropy (self->document);
  const TsAssignment *a = ts_document_get_assignment (self->document);
  guint n_llm, n_vit, li = gtk_drop_down_get_selected (self->llm_dropdown),
                      vi = gtk_drop_down_get_selected (self->vit_dropdown);
  const TsLlmPreset *llm = ts_llm_presets (&n_llm);
  const TsVitPreset *vit = ts_vit_presets (&n_vit);
  char buf[96];

  if (e != NULL)
    {
      g_snprintf (buf, sizeof buf, "%.2f bits/token", e->bits_per_token);
      gtk_inscription_set_text (self->numbers[NUM_ENTROPY], buf);
      /* the range and the reading's name; its explanation in the tooltip (the sidebar stays narrow) */
      {
        const char *colon = strchr (e->reading, ':');
        int len = colon ? (int) (colon - e->reading) : (int) strlen (e->reading);
        g_autofree char *tip = g_strdup_printf ("%s. %s", number_rows[NUM_SUGGESTED].tooltip, e->reading);
        if (isinf (e->suggested_hi))
          g_snprintf (buf, sizeof buf, "%g× and more (%.*s)", e->suggested_lo, len, e->reading);
        else
          g_snprintf (buf, sizeof buf, "%g–%g× (%.*s)", e->suggested_lo, e->suggested_hi, len, e->reading);
        gtk_inscription_set_text (self->numbers[NUM_SUGGESTED], buf);
        /* a new tooltip text relayouts the window too: set it only when it changes */
        if (g_strcmp0 (gtk_widget_get_tooltip_text (GTK_WIDGET (self->numbers[NUM_SUGGESTED])), tip) != 0)
          gtk_widget_set_tooltip_text (GTK_WIDGET (self->numbers[NUM_SUGGESTED]), tip);
      }
    }
  else
    {
      gtk_inscription_set_text (self->numbers[NUM_ENTROPY], "—");
      gtk_inscription_set_text (self->numbers[NUM_SUGGESTED], "—");
    }
  if (a != NULL && li < n_llm)
    gtk_inscription_set_text (self->numbers[NUM_KV], format_bytes (buf, sizeof buf, ts_kv_cache_bytes (&llm[li], a->n_out)));
  else
    gtk_inscription_set_text (self->numbers[NUM_KV], "—");
  {
    TsFlopsRow row = { 0 };
    if (a != NULL && vi < n_vit
        && ts_flops_per_token (&vit[vi], ts_document_get_method (self->document)->name,
                               ts_document_get_params (self->document), a->n_in, a->n_out, &row, NULL))
      {
        g_snprintf (buf, sizeof buf, "%.1f GFLOPs", row.encoder_flops / 1e9);
        gtk_inscription_set_text (self->numbers[NUM_ENCODER], buf);
        g_snprintf (buf, sizeof buf, "%.2f GFLOPs (%.2f×)", row.flops_per_token / 1e9, row.relative);
        gtk_inscription_set_text (self->numbers[NUM_FLOPS_TOKEN], buf);
      }
    else
      {
        gtk_inscription_set_text (self->numbers[NUM_ENCODER], "—");
        gtk_inscription_set_text (self->numbers[NUM_FLOPS_TOKEN], "—");
      }
    ts_flops_row_clear (&row);
  }
}

static void
update_numbers (TsWindow *self)
{
  const TsAssignment *a = ts_document_get_assignment (self->document);
  double cr = a ? ts_assignment_ratio (a) : NAN;
  double ssim = ts_document_get_ssim (self->document);
  char buf[64];

  g_snprintf (buf, sizeof buf, "%d", ts_document_get_tokens_in (self->document));
  gtk_inscription_set_text (self->numbers[NUM_TOKENS_IN], buf);
  g_snprintf (buf, sizeof buf, "%d", ts_document_get_tokens_out (self->document));
  gtk_inscription_set_text (self->numbers[NUM_TOKENS_OUT], buf);
  format_number (buf, sizeof buf, 2, "×", cr);
  gtk_inscription_set_text (self->numbers[NUM_CR], buf);
  format_number (buf, sizeof buf, 0, "", ts_document_get_tpm (self->document));
  gtk_inscription_set_text (self->numbers[NUM_TPM], buf);
  format_number (buf, sizeof buf, 2, " dB", ts_document_get_psnr (self->document));
  gtk_inscription_set_text (self->numbers[NUM_PSNR], buf);
  format_number (buf, sizeof buf, 4, "", ssim);
  gtk_inscription_set_text (self->numbers[NUM_SSIM], buf);
  format_number (buf, sizeof buf, 4, "", ts_document_get_retention (self->document));
  gtk_inscription_set_text (self->numbers[NUM_RETENTION], buf);
  format_number (buf, sizeof buf, 2, "", cr * ssim);
  gtk_inscription_set_text (self->numbers[NUM_EFFICIENCY], buf);
  update_cost_numbers (self);
}

static void
update_method_controls (TsWindow *self)
{
  const TsMethod *m = ts_document_get_method (self->document);
  g_autofree char *markup = NULL;
  g_autofree char *label = NULL, *expl = NULL;

  label = g_markup_escape_text (m->label, -1);
  expl = g_markup_escape_text (m->explanation, -1);
  markup = g_strdup_printf ("<b>%s</b>\n\n%s", label, expl);
  gtk_label_set_markup (self->explain_label, markup);
  gtk_label_set_label (self->summary_label, m->summary);
  gtk_widget_set_visible (self->pool_mode_row, g_str_equal (m->name, "pool"));
  gtk_widget_set_visible (self->adjacent_row, g_str_equal (m->name, "greedy"));
  gtk_widget_set_visible (self->protected_row, g_str_equal (m->name, "greedy") || g_str_equal (m->name, "tome"));
  gtk_widget_set_visible (self->dominant_row, g_str_equal (m->name, "visionzip"));
  gtk_widget_set_visible (self->rounds_row, g_str_equal (m->name, "resample"));
  gtk_widget_set_visible (self->detail_row, g_str_equal (m->name, "adaptive"));
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->fill_dropdown)),
                          (m->flags & TS_METHOD_DROPS) != 0);
}

/* Document -> controls, without feeding back. */
static void
sync_controls (TsWindow *self)
{
  int n = ts_document_get_tokens_in (self->document);
  double ratio = ts_document_get_ratio (self->document);
  int query = ts_document_get_query (self->document);
  const TsScene *scene = ts_document_get_scene (self->document);
  g_autofree char *qtext = NULL;

  self->updating = TRUE;
  gtk_drop_down_set_selected (self->method_dropdown, method_position (ts_document_get_method (self->document)));
  gtk_adjustment_set_value (self->ratio_adjustment, log2 (MAX (ratio, 1.0)));
  if (n > 0)
    {
      gtk_adjustment_set_upper (self->tokens_adjustment, n);
      gtk_adjustment_set_value (self->tokens_adjustment, CLAMP (round (n / ratio), 1, n));
    }
  gtk_drop_down_set_selected (self->pool_mode_dropdown, ts_document_get_params (self->document)->pool_mode);
  gtk_drop_down_set_selected (self->fill_dropdown, ts_document_get_params (self->document)->fill);
  gtk_check_button_set_active (self->adjacent_check, ts_document_get_params (self->document)->adjacent_only);
  gtk_adjustment_set_value (self->dominant_adjustment, ts_document_get_params (self->document)->dominant_fraction);
  gtk_adjustment_set_value (self->rounds_adjustment, ts_document_get_params (self->document)->rounds);
  gtk_adjustment_set_value (self->protected_adjustment, ts_document_get_params (self->document)->n_protected);
  gtk_drop_down_set_selected (self->detail_dropdown, ts_document_get_params (self->document)->detail);
  gtk_adjustment_set_value (self->tau_adjustment, log10 (ts_document_get_params (self->document)->tau));
  gtk_drop_down_set_selected (self->resize_dropdown, ts_document_get_resize_policy (self->document));
  gtk_adjustment_set_value (self->size_adjustment, ts_document_get_resize_size (self->document));
  gtk_adjustment_set_value (self->patch_adjustment, ts_document_get_patch (self->document));
  gtk_drop_down_set_selected (self->features_dropdown,
                              ts_document_get_feature_kind (self->document) == TS_FEATURES_DESCRIPTOR ? 1
                              : ts_document_get_feature_kind (self->document) == TS_FEATURES_NPY    ? 2
                              : ts_document_get_feature_kind (self->document) == TS_FEATURES_MODEL  ? 3
                                                                                                     : 0);
  gtk_widget_set_visible (self->model_label, ts_document_get_feature_kind (self->document) == TS_FEATURES_MODEL);
  gtk_widget_set_visible (self->model_box, ts_document_get_feature_kind (self->document) == TS_FEATURES_MODEL);
  gtk_drop_down_set_selected (self->model_family_dropdown, ts_document_get_model_family (self->document));
  gtk_adjustment_set_value (self->model_layer_adjustment, ts_document_get_model_layer (self->document));
  gtk_widget_set_sensitive (gtk_widget_get_parent (GTK_WIDGET (self->ratio_scale)), TRUE);
  if (query >= 0 && scene)
    qtext = g_strdup_printf ("Query: patch %d (row %d, col %d)", query, query / scene->grid.cols,
                             query % scene->grid.cols);
  else
    qtext = g_strdup ("Query: the mean token. Click a patch to ask what it attends to.");
  gtk_label_set_label (self->query_label, qtext);
  update_method_controls (self);
  self->updating = FALSE;
}

/* @data: the curves themselves may have changed (else only the current setting did;
 * setting the same curves again would redraw the whole plot). */
static void
update_curves (TsWindow *self, gboolean data)
{
  guint n;
  const TsCurve *curves = ts_document_get_curves (self->document, &n);
  const TsAssignment *a = ts_document_get_assignment (self->document);
  const TsMethod *m = ts_document_get_method (self->document);
  TsMetric metric = ts_curves_get_metric (self->curves);
  double value = NAN, opt;
  g_autofree char *text = NULL;

  if (data)
    ts_curves_set_curves (self->curves, curves, n);
  if (a)
    {
      value = metric == TS_METRIC_SSIM   ? ts_document_get_ssim (self->document)
              : metric == TS_METRIC_PSNR ? MIN (ts_document_get_psnr (self->document), 99.0)
                                         : ts_document_get_retention (self->document);
      ts_curves_set_current (self->curves, m->name, ts_assignment_ratio (a), value);
    }
  opt = ts_curves_get_optimal (self->curves, m->name);
  if (!isnan (opt))
    text = g_strdup_printf ("%s: optimal %.1f× at the threshold", m->name, opt);
  gtk_label_set_label (self->optimal_label, text ? text : "");
}

static void
update_canvas (TsWindow *self, guint what)
{
  const TsScene *scene = ts_document_get_scene (self->document);
  const TsTemporalResult *r;
  TsOverlay *overlay;

  if (scene == NULL)
    return;
  /* textures only when the pictures changed: new groups keep the previous
   * reconstruction blended until theirs arrives a moment later */
  if (what & (TS_DOCUMENT_CHANGED_SCENE | TS_DOCUMENT_CHANGED_MEDIA))
    ts_canvas_set_images (self->canvas, scene->image, ts_document_get_reconstruction (self->document));
  else if (what & TS_DOCUMENT_CHANGED_RECONSTRUCTION)
    ts_canvas_set_reconstruction (self->canvas, ts_document_get_reconstruction (self->document));
  /* the overlay on new groups or attention, or when asked to redraw (@what 0);
   * the canvas blends the reconstruction itself, as a texture */
  if (what != 0 && !(what & (TS_DOCUMENT_CHANGED_SCENE | TS_DOCUMENT_CHANGED_ASSIGNMENT | TS_DOCUMENT_CHANGED_ATTENTION)))
    return;
  overlay = ts_overlay_new (&scene->grid, ts_document_get_assignment (self->document), NULL,
                            ts_document_get_attention (self->document));
  /* a clip: the tokens this frame re-sends, when the temporal grid is the scene's */
  r = ts_video_get_result (self->video);
  if (r && r->grid.tokens == scene->grid.tokens && r->grid.cols == scene->grid.cols)
    ts_overlay_set_changed (overlay, ts_video_get_changed_mask (self->video, ts_document_get_frame (self->document)));
  ts_canvas_set_overlay (self->canvas, overlay);
  if (what & TS_DOCUMENT_CHANGED_ASSIGNMENT)
    ts_canvas_mark_change (self->canvas, ts_document_get_change_time (self->document));
}

static void
write_ui_state (TsWindow *self);

/* The budget panel's selected VLM, drawn over the working image. */
static void
update_vlm (TsWindow *self)
{
  const TsVlmCount *c = ts_budget_panel_get_vlm (self->budget_panel);
  const TsScene *scene = ts_document_get_scene (self->document);
  TsVlmLayout layout;
  g_autofree char *label = NULL;

  if (c == NULL || c->tokens < 0 || scene == NULL
      || !ts_vlm_layout_init (&layout, c, scene->image->width, scene->image->height))
    {
      ts_canvas_set_vlm (self->canvas, NULL, NULL);
      return;
    }
  label = g_strdup_printf ("%s: %d tokens", c->label, c->tokens);
  ts_canvas_set_vlm (self->canvas, &layout, label);
  write_ui_state (self);
}

typedef struct {
  guint frames;
  void (*write) (GtkWidget *widget);
} LaterState;

static gboolean
state_later_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  LaterState *later = data;

  if (++later->frames < 3)
    return G_SOURCE_CONTINUE;
  later->write (widget);
  return G_SOURCE_REMOVE;
}

void
ts_ui_state_write_later (GtkWidget *widget, void (*write) (GtkWidget *widget))
{
  LaterState *later;

  if (g_getenv ("TS_UI_STATE") == NULL)
    return;
  later = g_new0 (LaterState, 1);
  later->write = write;
  gtk_widget_add_tick_callback (widget, state_later_tick_cb, later, g_free);
}

/* A few frames after a page switch or new options the widgets have their positions: report them. */
static void
write_window_state (GtkWidget *widget)
{
  write_ui_state (TS_WINDOW (widget));
}

static void
write_ui_state_after_layout (TsWindow *self)
{
  ts_ui_state_write_later (GTK_WIDGET (self), write_window_state);
}

/* TS_UI_STATE=FILE: a key file with the state and widget positions, for the
 * Xvfb tests that drive the window with xdotool. */
static void
write_ui_state (TsWindow *self)
{
  const char *path = g_getenv ("TS_UI_STATE");
  g_autoptr (GKeyFile) kf = NULL;
  GtkWidget *widgets[] = { GTK_WIDGET (self->canvas), GTK_WIDGET (self->ratio_scale),
                           GTK_WIDGET (self->method_dropdown), GTK_WIDGET (self->curves),
                           GTK_WIDGET (self->heat_check), GTK_WIDGET (self->tokens_spin),
                           GTK_WIDGET (self->video_bar) };
  const char *names[] = { "canvas", "ratio", "method", "curves", "heat", "tokens", "video" };
  double sx = 0, sy = 0, x, y;
  g_autofree char *data = NULL;

  if (path == NULL)
    return;
  kf = g_key_file_new ();
  gtk_native_get_surface_transform (GTK_NATIVE (self), &sx, &sy);
  g_key_file_set_string (kf, "state", "name", ts_document_get_name (self->document) ?: "");
  g_key_file_set_string (kf, "state", "method", ts_document_get_method (self->document)->name);
  g_key_file_set_double (kf, "state", "ratio", ts_document_get_ratio (self->document));
  g_key_file_set_integer (kf, "state", "tokens_in", ts_document_get_tokens_in (self->document));
  g_key_file_set_integer (kf, "state", "tokens_out", ts_document_get_tokens_out (self->document));
  g_key_file_set_integer (kf, "state", "query", ts_document_get_query (self->document));
  g_key_file_set_boolean (kf, "state", "busy", ts_document_get_busy (self->document));
  {
    guint n_curves;
    ts_document_get_curves (self->document, &n_curves);
    g_key_file_set_integer (kf, "state", "curves", (int) n_curves);
  }
  g_key_file_set_string (kf, "state", "entropy", gtk_inscription_get_text (self->numbers[NUM_ENTROPY]));
  g_key_file_set_string (kf, "state", "kv", gtk_inscription_get_text (self->numbers[NUM_KV]));
  g_key_file_set_string (kf, "state", "encoder_flops", gtk_inscription_get_text (self->numbers[NUM_ENCODER]));
  if (gtk_native_get_renderer (GTK_NATIVE (self)) != NULL)
    g_key_file_set_string (kf, "state", "renderer", G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (self))));
  g_key_file_set_boolean (kf, "state", "heatmap", gtk_check_button_get_active (self->heat_check));
  g_key_file_set_boolean (kf, "state", "banner", gtk_revealer_get_reveal_child (self->banner_revealer));
  g_key_file_set_double (kf, "state", "ssim", ts_document_get_ssim (self->document));
  g_key_file_set_integer (kf, "state", "frame", ts_document_get_frame (self->document));
  g_key_file_set_integer (kf, "state", "frames", ts_document_get_n_frames (self->document));
  g_key_file_set_boolean (kf, "state", "temporal", ts_video_get_result (self->video) != NULL);
  for (guint i = 0; i < G_N_ELEMENTS (widgets); i++)
    {
      graphene_point_t p;
      if (!gtk_widget_compute_point (widgets[i], GTK_WIDGET (self), &GRAPHENE_POINT_INIT (0, 0), &p))
        continue;
      g_key_file_set_integer (kf, names[i], "x", (int) (p.x + sx));
      g_key_file_set_integer (kf, names[i], "y", (int) (p.y + sy));
      g_key_file_set_integer (kf, names[i], "width", gtk_widget_get_width (widgets[i]));
      g_key_file_set_integer (kf, names[i], "height", gtk_widget_get_height (widgets[i]));
    }
  /* a few patch centres in window coordinates */
  if (ts_document_get_scene (self->document))
    {
      int n = ts_document_get_tokens_in (self->document);
      int picks[] = { 0, n / 4, n / 2 + ts_document_get_scene (self->document)->grid.cols / 2, n - 1 };
      for (guint i = 0; i < G_N_ELEMENTS (picks); i++)
        if (ts_canvas_token_center (self->canvas, picks[i], &x, &y))
          {
            graphene_point_t p;
            g_autofree char *key = g_strdup_printf ("patch%u", i);
            if (!gtk_widget_compute_point (GTK_WIDGET (self->canvas), GTK_WIDGET (self), &GRAPHENE_POINT_INIT (x, y), &p))
              continue;
            g_key_file_set_integer (kf, key, "token", picks[i]);
            g_key_file_set_integer (kf, key, "x", (int) (p.x + sx));
            g_key_file_set_integer (kf, key, "y", (int) (p.y + sy));
          }
    }
  g_key_file_set_string (kf, "state", "page", gtk_stack_get_visible_child_name (self->sidebar_stack));
  ts_budget_panel_write_widget (kf, "switcher", GTK_WIDGET (self->sidebar_switcher), GTK_WIDGET (self), sx, sy);
  ts_budget_panel_write_state (self->budget_panel, kf, GTK_WIDGET (self), sx, sy);
  data = g_key_file_to_data (kf, NULL, NULL);
  g_file_set_contents (path, data, -1, NULL);
}

static gboolean
write_ui_state_cb (gpointer data)
{
  TsWindow *self = data;

  self->ui_state_source = 0;
  write_ui_state (self);
  return G_SOURCE_REMOVE;
}

/* Writes the state file 30 ms after a change, so that the file write never
 * delays the frame that shows a result. Not an idle source: during playback
 * with the curves being measured the main loop is rarely idle, and a
 * low-priority idle write starved for seconds (the tests read a stale frame). */
static void
queue_ui_state (TsWindow *self)
{
  if (self->ui_state_source == 0 && g_getenv ("TS_UI_STATE"))
    self->ui_state_source = g_timeout_add (30, write_ui_state_cb, self);
}

/* ------------------------------------------------------------ document cb */

/* New groups' numbers (tokens, ratio, and the quality ones blanked until they
 * are measured) are shown by the frame after the one that shows the groups:
 * an idle runs after GTK has painted. Changing them in the same frame damages
 * a dozen small rectangles beside the canvas, and when GTK's frame diff
 * collects more than about 30 it gives up and repaints the whole window. */
static gboolean
numbers_idle_cb (gpointer data)
{
  TsWindow *self = data;

  self->numbers_source = 0;
  update_numbers (self);
  return G_SOURCE_REMOVE;
}

static void
document_changed_cb (TsDocument *doc, guint what, TsWindow *self)
{
  if (what & (TS_DOCUMENT_CHANGED_MEDIA | TS_DOCUMENT_CHANGED_SCENE))
    update_title (self);
  if (what & (TS_DOCUMENT_CHANGED_SCENE | TS_DOCUMENT_CHANGED_ASSIGNMENT | TS_DOCUMENT_CHANGED_ATTENTION
              | TS_DOCUMENT_CHANGED_RECONSTRUCTION))
    update_canvas (self, what);
  if (what & (TS_DOCUMENT_CHANGED_QUALITY | TS_DOCUMENT_CHANGED_SCENE))
    {
      g_clear_handle_id (&self->numbers_source, g_source_remove);
      update_numbers (self);
    }
  else if ((what & TS_DOCUMENT_CHANGED_ASSIGNMENT) && self->numbers_source == 0)
    self->numbers_source = g_idle_add (numbers_idle_cb, self);
  if (what & (TS_DOCUMENT_CHANGED_ASSIGNMENT | TS_DOCUMENT_CHANGED_QUALITY | TS_DOCUMENT_CHANGED_SCENE))
    sync_controls (self);
  if (what & (TS_DOCUMENT_CHANGED_CURVES | TS_DOCUMENT_CHANGED_QUALITY | TS_DOCUMENT_CHANGED_ASSIGNMENT))
    update_curves (self, (what & TS_DOCUMENT_CHANGED_CURVES) != 0);
  if (what & TS_DOCUMENT_CHANGED_ENTROPY)
    update_cost_numbers (self);
  if (!self->first_frame_logged && (what & TS_DOCUMENT_CHANGED_ASSIGNMENT) && ts_frame_timings_enabled ())
    {
      self->first_frame_logged = TRUE;
      g_printerr ("ts-frame: first result %.1f ms after the window was created\n",
                  (g_get_monotonic_time () - self->created_time) / 1000.0);
    }
  queue_ui_state (self);
}

static void
document_notice_cb (TsDocument *doc, const char *message, TsWindow *self)
{
  ts_window_show_notice (self, message);
}

static gboolean
spinner_timeout_cb (gpointer data)
{
  TsWindow *self = data;

  self->spinner_source = 0;
  gtk_spinner_start (self->spinner);
  return G_SOURCE_REMOVE;
}

static void
busy_changed_cb (TsDocument *doc, GParamSpec *pspec, TsWindow *self)
{
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  if (ts_document_get_busy (doc))
    self->spinner_source = g_timeout_add (250, spinner_timeout_cb, self);
  else
    gtk_spinner_stop (self->spinner);
}

static void
query_changed_cb (TsDocument *doc, GParamSpec *pspec, TsWindow *self)
{
  update_options (self);
  sync_controls (self);
}

/* ---------------------------------------------------------- control cbs */

static void
method_selected_cb (GtkDropDown *dd, GParamSpec *pspec, TsWindow *self)
{
  const TsMethod *m = method_at (gtk_drop_down_get_selected (dd));

  if (self->updating || m == NULL)
    return;
  ts_document_set_method (self->document, m->name);
  update_method_controls (self);
  update_curves (self, TRUE);
}

static void
ratio_changed_cb (GtkAdjustment *adj, TsWindow *self)
{
  int n = ts_document_get_tokens_in (self->document);
  double ratio = exp2 (gtk_adjustment_get_value (adj));

  if (self->updating)
    return;
  ts_document_set_ratio (self->document, ratio);
  if (n > 0)
    {
      self->updating = TRUE;
      gtk_adjustment_set_value (self->tokens_adjustment, CLAMP (round (n / ratio), 1, n));
      self->updating = FALSE;
    }
}

static void
tokens_changed_cb (GtkAdjustment *adj, TsWindow *self)
{
  int n = ts_document_get_tokens_in (self->document);

  if (self->updating || n <= 0)
    return;
  ts_document_set_target_tokens (self->document, (int) gtk_adjustment_get_value (adj));
  self->updating = TRUE;
  gtk_adjustment_set_value (self->ratio_adjustment, log2 (ts_document_get_ratio (self->document)));
  self->updating = FALSE;
}

/* The ratio beside the slider, whoever moved it. */
static void
ratio_value_cb (GtkAdjustment *adj, TsWindow *self)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, "%.1f×", exp2 (gtk_adjustment_get_value (adj)));
  gtk_inscription_set_text (self->ratio_value, buf);
}

static char *
tau_format_cb (GtkScale *scale, double value, gpointer data)
{
  return g_strdup_printf ("%.3f", pow (10, value));
}

static void
pool_mode_cb (GtkDropDown *dd, GParamSpec *pspec, TsWindow *self)
{
  if (!self->updating)
    ts_document_set_pool_mode (self->document, gtk_drop_down_get_selected (dd));
}

static void
fill_cb (GtkDropDown *dd, GParamSpec *pspec, TsWindow *self)
{
  if (!self->updating)
    ts_document_set_fill (self->document, gtk_drop_down_get_selected (dd));
}

static void
method_options_cb (TsWindow *self)
{
  TsMethodParams p;

  if (self->updating)
    return;
  p = *ts_document_get_params (self->document);
  p.adjacent_only = gtk_check_button_get_active (self->adjacent_check);
  p.dominant_fraction = gtk_adjustment_get_value (self->dominant_adjustment);
  p.rounds = (int) gtk_adjustment_get_value (self->rounds_adjustment);
  p.n_protected = (int) gtk_adjustment_get_value (self->protected_adjustment);
  p.detail = gtk_drop_down_get_selected (self->detail_dropdown);
  ts_document_set_method_options (self->document, &p);
}

/* A "label ... control" row for a method option, inserted after @sibling. */
static GtkWidget *
option_row (TsWindow *self, GtkWidget *sibling, const char *label, GtkWidget *control, const char *tooltip)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *l = gtk_label_new (label);

  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_widget_set_hexpand (l, TRUE);
  gtk_box_append (GTK_BOX (row), l);
  gtk_box_append (GTK_BOX (row), control);
  gtk_widget_set_tooltip_text (row, tooltip);
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (sibling)), row, sibling);
  gtk_widget_set_visible (row, FALSE);
  return row;
}

static GtkWidget *
option_spin (GtkAdjustment **adj, double lo, double hi, double step, double value, guint digits)
{
  GtkWidget *spin;

  *adj = gtk_adjustment_new (value, lo, hi, step, step * 5, 0);
  spin = gtk_spin_button_new (*adj, step, digits);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  return spin;
}

static void
build_method_options (TsWindow *self)
{
  static const char *details[] = { "Blur error", "Entropy", "Gradient", NULL };
  GtkWidget *w;

  self->adjacent_check = GTK_CHECK_BUTTON (gtk_check_button_new ());
  self->adjacent_row = option_row (self, self->pool_mode_row, "Adjacent groups only", GTK_WIDGET (self->adjacent_check),
                                   "Only spatially adjacent groups may merge");
  g_signal_connect_swapped (self->adjacent_check, "toggled", G_CALLBACK (method_options_cb), self);

  w = option_spin (&self->protected_adjustment, 0, 64, 1, 0, 0);
  self->protected_row = option_row (self, self->adjacent_row, "Protected tokens", w,
                                    "The first n tokens are never merged away (a CLS token)");
  g_signal_connect_swapped (self->protected_adjustment, "value-changed", G_CALLBACK (method_options_cb), self);

  w = option_spin (&self->dominant_adjustment, 0, 1, 0.05, 0.85, 2);
  self->dominant_row = option_row (self, self->protected_row, "Dominant share", w,
                                   "Share of the budget kept as the most important tokens; the rest are contextual merges");
  g_signal_connect_swapped (self->dominant_adjustment, "value-changed", G_CALLBACK (method_options_cb), self);

  w = option_spin (&self->rounds_adjustment, 0, 20, 1, 3, 0);
  self->rounds_row = option_row (self, self->dominant_row, "Refinement rounds", w,
                                 "Rounds of Q <- softmax(Q X^T / (tau sqrt(D))) X");
  g_signal_connect_swapped (self->rounds_adjustment, "value-changed", G_CALLBACK (method_options_cb), self);

  self->detail_dropdown = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (details));
  self->detail_row = option_row (self, self->rounds_row, "Detail score", GTK_WIDGET (self->detail_dropdown),
                                 "Which region splits next: blur error, luma entropy or gradient energy");
  g_signal_connect_swapped (self->detail_dropdown, "notify::selected", G_CALLBACK (method_options_cb), self);
}

static void
tau_changed_cb (GtkAdjustment *adj, TsWindow *self)
{
  if (!self->updating)
    ts_document_set_tau (self->document, pow (10, gtk_adjustment_get_value (adj)));
}

static void
resize_changed_cb (TsWindow *self)
{
  if (self->updating)
    return;
  ts_document_set_resize (self->document, gtk_drop_down_get_selected (self->resize_dropdown),
                          (int) gtk_adjustment_get_value (self->size_adjustment));
  ts_document_set_patch (self->document, (int) gtk_adjustment_get_value (self->patch_adjustment));
}

static void
npy_chosen_cb (GtkNativeDialog *dialog, int response, TsWindow *self)
{
  guint sel = gtk_drop_down_get_selected (self->features_dropdown);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      ts_document_set_features (self->document, sel == 3 ? TS_FEATURES_MODEL : TS_FEATURES_NPY, path);
    }
  else
    sync_controls (self);
  g_object_unref (dialog);
}

static void
features_changed_cb (GtkDropDown *dd, GParamSpec *pspec, TsWindow *self)
{
  guint sel = gtk_drop_down_get_selected (dd);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;

  if (self->updating)
    return;
  if (sel < 2)
    {
      ts_document_set_features (self->document, sel == 1 ? TS_FEATURES_DESCRIPTOR : TS_FEATURES_PIXEL, NULL);
      return;
    }
  chooser = gtk_file_chooser_native_new (sel == 3 ? "Choose a ViT Model" : "Choose Token Features", GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, "_Use", "_Cancel");
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, sel == 3 ? "ViT weights (.safetensors: CLIP, SigLIP, DINOv2, timm)"
                                             : "NumPy arrays [N, D] or [rows, cols, D]");
  gtk_file_filter_add_suffix (filter, sel == 3 ? "safetensors" : "npy");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_signal_connect (chooser, "response", G_CALLBACK (npy_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
model_options_cb (TsWindow *self)
{
  if (self->updating)
    return;
  ts_document_set_model_family (self->document, gtk_drop_down_get_selected (self->model_family_dropdown));
  ts_document_set_model_layer (self->document, (int) gtk_adjustment_get_value (self->model_layer_adjustment));
}

static void
overlay_changed_cb (TsWindow *self)
{
  update_options (self);
}

static void
view_toggled_cb (GtkToggleButton *button, TsWindow *self)
{
  if (!gtk_toggle_button_get_active (button))
    return;
  ts_canvas_set_view (self->canvas, button == self->view_recon   ? TS_CANVAS_RECONSTRUCTION
                                    : button == self->view_diff ? TS_CANVAS_DIFFERENCE
                                                                 : TS_CANVAS_ORIGINAL);
}

static void
metric_changed_cb (GtkDropDown *dd, GParamSpec *pspec, TsWindow *self)
{
  ts_curves_set_metric (self->curves, gtk_drop_down_get_selected (dd));
  update_curves (self, TRUE);
}

static void
threshold_changed_cb (TsCurves *curves, double threshold, TsWindow *self)
{
  update_curves (self, TRUE);
}

static void
point_activated_cb (TsCurves *curves, const char *method, double ratio, TsWindow *self)
{
  ts_document_set_method (self->document, method);
  ts_document_set_ratio (self->document, ratio);
  sync_controls (self);
}

static void
patch_activated_cb (TsCanvas *canvas, int token, TsWindow *self)
{
  ts_document_set_query (self->document, token);
  if (!gtk_check_button_get_active (self->heat_check))
    gtk_check_button_set_active (self->heat_check, TRUE);
  update_options (self);
}

static gboolean
canvas_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, TsWindow *self)
{
  const TsScene *scene = ts_document_get_scene (self->document);
  const TsAssignment *a = ts_document_get_assignment (self->document);
  const float *att = ts_document_get_attention (self->document);
  int t = ts_canvas_token_at (self->canvas, x, y);
  GString *s;

  if (t < 0 || scene == NULL)
    return FALSE;
  s = g_string_new (NULL);
  g_string_append_printf (s, "<b>Patch %d</b>  row %d, col %d", t, t / scene->grid.cols, t % scene->grid.cols);
  if (a && a->n_in == scene->grid.tokens)
    {
      int g = a->groups[t];
      if (g < 0)
        g_string_append (s, "\nDropped: no token represents it");
      else
        g_string_append_printf (s, "\nToken %d of %d, standing for %d patch%s", g, a->n_out, a->sizes[g],
                                a->sizes[g] == 1 ? "" : "es");
    }
  if (scene->importance)
    g_string_append_printf (s, "\nImportance %.4f", scene->importance[t]);
  if (att)
    g_string_append_printf (s, "\nAttention from the query %.3f (max 1)", att[t]);
  g_string_append (s, "\n<small>Click to make this patch the attention query</small>");
  gtk_tooltip_set_markup (tooltip, s->str);
  g_string_free (s, TRUE);
  return TRUE;
}

static void
banner_close_cb (GtkButton *button, TsWindow *self)
{
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  write_ui_state (self);
}

/* ------------------------------------------------------------- opening */

static void
add_recent (TsWindow *self, GFile *file)
{
  g_autofree char *uri = g_file_get_uri (file);
  gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
}

static void
load_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  TsWindow *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ts_document_load_finish (TS_DOCUMENT (source), res, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        ts_window_show_notice (self, error->message);
    }
  else
    {
      gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
      if (self->pending_file)
        add_recent (self, self->pending_file);
    }
  g_clear_object (&self->pending_file);
  g_object_unref (self);
}

void
ts_window_open_file (TsWindow *self, GFile *file)
{
  g_autofree char *path = g_file_get_path (file);

  g_return_if_fail (TS_IS_WINDOW (self));
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_autofree char *msg = g_strdup_printf ("%s: only local files can be opened", uri);
      ts_window_show_notice (self, msg);
      return;
    }
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  g_set_object (&self->pending_file, file);
  ts_document_load_file_async (self->document, path, self->load_cancellable, load_done_cb, g_object_ref (self));
}

void
ts_window_open_sample (TsWindow *self, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_resources_lookup_data (path, 0, &error);
  g_autofree char *name = g_path_get_basename (path);

  if (bytes == NULL)
    {
      ts_window_show_notice (self, error->message);
      return;
    }
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  g_clear_object (&self->pending_file);
  ts_document_load_bytes_async (self->document, bytes, name, self->load_cancellable, load_done_cb,
                                g_object_ref (self));
}

static gboolean
is_sample_name (const char *name)
{
  static const char *exts[] = { ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tga", ".ppm", ".pgm" };
  g_autofree char *lower = g_ascii_strdown (name, -1);

  for (guint i = 0; i < G_N_ELEMENTS (exts); i++)
    if (g_str_has_suffix (lower, exts[i]))
      return TRUE;
  return FALSE;
}

static int
compare_strings (const void *a, const void *b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static char **
list_samples (void)
{
  g_auto (GStrv) children = g_resources_enumerate_children (SAMPLES_PATH, 0, NULL);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; children && children[i]; i++)
    if (is_sample_name (children[i]))
      {
        g_autofree char *path = g_strconcat (SAMPLES_PATH, children[i], NULL);
        g_strv_builder_add (b, path);
      }
  {
    char **v = g_strv_builder_end (b);
    qsort (v, g_strv_length (v), sizeof (char *), compare_strings);
    return v;
  }
}

char *
ts_window_first_sample (void)
{
  g_auto (GStrv) samples = list_samples ();
  return samples[0] ? g_strdup (samples[0]) : NULL;
}

static void
sample_clicked_cb (GtkButton *button, TsWindow *self)
{
  gtk_popover_popdown (self->samples_popover);
  ts_window_open_sample (self, g_object_get_data (G_OBJECT (button), "path"));
}

static void
recent_clicked_cb (GtkButton *button, TsWindow *self)
{
  g_autoptr (GFile) file = g_file_new_for_uri (g_object_get_data (G_OBJECT (button), "uri"));
  gtk_popover_popdown (self->samples_popover);
  ts_window_open_file (self, file);
}

static void
fill_samples (TsWindow *self)
{
  g_auto (GStrv) samples = list_samples ();
  GtkWidget *child;
  GList *items;
  guint shown = 0;

  if (!self->samples_filled)
    {
      self->samples_filled = TRUE;
      for (guint i = 0; samples[i]; i++)
        {
          GtkWidget *button = gtk_button_new ();
          GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
          GtkWidget *pic;
          g_autofree char *name = g_path_get_basename (samples[i]);
          g_autoptr (GdkTexture) tex = gdk_texture_new_from_resource (samples[i]);

          pic = gtk_picture_new_for_paintable (GDK_PAINTABLE (tex));
          gtk_picture_set_can_shrink (GTK_PICTURE (pic), TRUE);
          gtk_widget_set_size_request (pic, 112, 80);
          gtk_box_append (GTK_BOX (box), pic);
          gtk_box_append (GTK_BOX (box), gtk_label_new (name));
          gtk_button_set_child (GTK_BUTTON (button), box);
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_set_tooltip_text (button, name);
          g_object_set_data_full (G_OBJECT (button), "path", g_strdup (samples[i]), g_free);
          g_signal_connect (button, "clicked", G_CALLBACK (sample_clicked_cb), self);
          gtk_flow_box_append (self->samples_box, button);
        }
      if (samples[0] == NULL)
        gtk_flow_box_append (self->samples_box, gtk_label_new ("No samples are embedded in this build."));
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))))
    gtk_list_box_remove (self->recent_list, child);
  items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  for (GList *l = items; l && shown < 8; l = l->next)
    {
      GtkRecentInfo *info = l->data;
      const char *app = g_get_application_name ();
      GtkWidget *button;
      if (app && !gtk_recent_info_has_application (info, app))
        continue;
      if (!gtk_recent_info_is_local (info) || !gtk_recent_info_exists (info))
        continue;
      button = gtk_button_new_with_label (gtk_recent_info_get_display_name (info));
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, gtk_recent_info_get_uri_display (info));
      g_object_set_data_full (G_OBJECT (button), "uri", g_strdup (gtk_recent_info_get_uri (info)), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (recent_clicked_cb), self);
      gtk_list_box_append (self->recent_list, button);
      shown++;
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_heading), shown > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_list), shown > 0);
}

static void
samples_popover_show_cb (GtkPopover *popover, TsWindow *self)
{
  fill_samples (self);
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, TsWindow *self)
{
  if (!G_VALUE_HOLDS (value, G_TYPE_FILE))
    return FALSE;
  ts_window_open_file (self, g_value_get_object (value));
  return TRUE;
}

/* ------------------------------------------------------------- actions */

static void
open_response_cb (GtkNativeDialog *dialog, int response, TsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      ts_window_open_file (self, file);
    }
  g_object_unref (dialog);
}

static void
open_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new ("Open Folder of Frames", GTK_WINDOW (widget),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", "_Cancel");
  g_signal_connect (chooser, "response", G_CALLBACK (open_response_cb), widget);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
analyse_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_window_present (GTK_WINDOW (ts_dataset_window_new (TS_WINDOW (widget))));
}

static void
video_changed_cb (TsVideo *video, TsWindow *self)
{
  update_canvas (self, 0);
  write_ui_state (self);
}

static void
open_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;

  chooser = gtk_file_chooser_native_new ("Open Image", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open",
                                         "_Cancel");
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Images and animations");
  gtk_file_filter_add_mime_type (filter, "image/*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "All files");
  gtk_file_filter_add_pattern (filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_signal_connect (chooser, "response", G_CALLBACK (open_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* The curves as shown (metric, threshold, optimal points, the current
 * setting) drawn by the CLI's figure code, to PNG, SVG or PDF. */
static gboolean
export_curves (TsWindow *self, const char *path, GError **error)
{
  static const char *const y_labels[TS_N_METRICS] = { "SSIM", "PSNR (dB)", "feature retention" };
  TsMetric metric = ts_curves_get_metric (self->curves);
  const TsAssignment *a = ts_document_get_assignment (self->document);
  g_autoptr (TsPlot) plot = ts_plot_new ();
  g_autofree char *title = NULL;
  const TsCurve *curves;
  double current[TS_N_METRICS];
  guint n;

  curves = ts_document_get_curves (self->document, &n);
  if (n == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the curves are still being measured; export them "
                                                               "when they are drawn");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      double ratios[TS_CURVE_MAX_POINTS], q[TS_CURVE_MAX_POINTS], opt;
      for (guint j = 0; j < curves[i].n_points; j++)
        {
          ratios[j] = curves[i].points[j].ratio;
          q[j] = curves[i].points[j].values[metric];
        }
      opt = ts_curves_get_optimal (self->curves, curves[i].method->name);
      ts_plot_add_series (plot, curves[i].method->name, curves[i].baseline, ratios, q, (int) curves[i].n_points,
                          isnan (opt) ? 0 : opt);
    }
  title = g_strdup_printf ("%s: quality against compression", ts_document_get_name (self->document) ?: "TokenScope");
  ts_plot_set_title (plot, title);
  ts_plot_set_y_label (plot, y_labels[metric]);
  ts_plot_set_threshold (plot, ts_curves_get_threshold (self->curves));
  current[TS_METRIC_SSIM] = ts_document_get_ssim (self->document);
  current[TS_METRIC_PSNR] = ts_document_get_psnr (self->document);
  current[TS_METRIC_RETENTION] = ts_document_get_retention (self->document);
  if (a != NULL)
    ts_plot_set_current (plot, ts_assignment_ratio (a), current[metric]);
  return ts_plot_save (plot, path, 900, 560, 2.0, error);
}

static gboolean
export_to (TsWindow *self, const char *path, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  const TsScene *scene = ts_document_get_scene (self->document);

  if (scene == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "open an image before exporting");
      return FALSE;
    }
  if (g_str_has_suffix (lower, ".json") || g_str_has_suffix (lower, ".csv"))
    {
      g_autofree char *text = g_str_has_suffix (lower, ".json") ? ts_document_dup_numbers_json (self->document)
                                                                 : ts_document_dup_numbers_csv (self->document);
      return ts_file_write (path, text, strlen (text), error);
    }
  else
    {
      TsOverlayOptions opts = *ts_canvas_get_options (self->canvas);
      const TsImage *base = scene->image;
      g_autoptr (TsOverlay) overlay =
        ts_overlay_new (&scene->grid, ts_document_get_assignment (self->document),
                        ts_document_get_reconstruction (self->document), ts_document_get_attention (self->document));
      if (ts_canvas_get_view (self->canvas) == TS_CANVAS_RECONSTRUCTION && ts_document_get_reconstruction (self->document))
        base = ts_document_get_reconstruction (self->document);
      opts.highlight = -1;
      opts.pixel = 1.0;
      return ts_overlay_render_file (base, overlay, &opts, path, error);
    }
}

typedef struct {
  const char *name, *suffix;
} ExportFilter;

/* The local path chosen in an export dialog, ".png" added when it ends in
 * none of @filters' suffixes; NULL (with a notice) for a non-local file. */
static char *
export_path (TsWindow *self, GtkNativeDialog *dialog, const ExportFilter *filters, guint n)
{
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_autofree char *lower = NULL;

  if (path == NULL)
    {
      ts_window_show_notice (self, "Exports can only be written to local files");
      return NULL;
    }
  lower = g_ascii_strdown (path, -1);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *dot = g_strconcat (".", filters[i].suffix, NULL);
      if (g_str_has_suffix (lower, dot))
        return g_steal_pointer (&path);
    }
  return g_strconcat (path, ".png", NULL);
}

/* A save dialog with one filter per format; @response gets the choice. */
static void
show_export_dialog (TsWindow *self, const char *title, const char *suggested, const ExportFilter *filters, guint n,
                    GCallback response)
{
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (title, GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested);
  for (guint i = 0; i < n; i++)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, filters[i].name);
      gtk_file_filter_add_suffix (filter, filters[i].suffix);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
      g_object_unref (filter);
    }
  g_signal_connect (chooser, "response", response, self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static const ExportFilter export_filters[] = {
  { "Overlay as PNG image", "png" }, { "Overlay as SVG drawing", "svg" }, { "Overlay as PDF", "pdf" },
  { "Numbers as JSON", "json" },     { "Numbers as CSV", "csv" },
};

static const ExportFilter curves_filters[] = {
  { "PNG image", "png" }, { "SVG drawing", "svg" }, { "PDF", "pdf" },
};

/* The open file's name without its extension, for suggested export names. */
static char *
document_stem (TsWindow *self)
{
  const char *name = ts_document_get_name (self->document);
  char *stem = g_strdup (name ? name : "tokenscope");

  if (strrchr (stem, '.'))
    *strrchr (stem, '.') = '\0';
  return stem;
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, TsWindow *self)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT
      && (path = export_path (self, dialog, export_filters, G_N_ELEMENTS (export_filters))) != NULL
      && !export_to (self, path, &error))
    ts_window_show_notice (self, error->message);
  g_object_unref (dialog);
}

static void
export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  g_autofree char *stem = NULL, *suggested = NULL;

  if (ts_document_get_scene (self->document) == NULL)
    return;
  stem = document_stem (self);
  suggested = g_strdup_printf ("%s-%s-%d.png", stem, ts_document_get_method (self->document)->name,
                               ts_document_get_tokens_out (self->document));
  show_export_dialog (self, "Export", suggested, export_filters, G_N_ELEMENTS (export_filters),
                      G_CALLBACK (export_response_cb));
}

static void
settings_response_cb (GtkNativeDialog *dialog, int response, TsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr (GError) error = NULL;

      if (path == NULL)
        ts_window_show_notice (self, "Settings can only be written to local files");
      else if (!ts_document_export_settings (self->document, path, &error))
        ts_window_show_notice (self, error->message);
    }
  g_object_unref (dialog);
}

static void
curves_response_cb (GtkNativeDialog *dialog, int response, TsWindow *self)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT
      && (path = export_path (self, dialog, curves_filters, G_N_ELEMENTS (curves_filters))) != NULL
      && !export_curves (self, path, &error))
    ts_window_show_notice (self, error->message);
  g_object_unref (dialog);
}

static void
export_curves_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  g_autofree char *stem = NULL, *suggested = NULL;

  if (ts_document_get_scene (self->document) == NULL)
    return;
  stem = document_stem (self);
  suggested = g_strdup_printf ("%s-curves.png", stem);
  show_export_dialog (self, "Export Curves", suggested, curves_filters, G_N_ELEMENTS (curves_filters),
                      G_CALLBACK (curves_response_cb));
}

static void
export_settings_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new ("Export Settings", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         "_Export", "_Cancel");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "tokenscope-settings.json");
  gtk_file_filter_set_name (filter, "TokenScope settings (tokenscope-cli --settings)");
  gtk_file_filter_add_suffix (filter, "json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_signal_connect (chooser, "response", G_CALLBACK (settings_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
copy_command_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  g_autofree char *cmd = ts_document_dup_command (self->document);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), cmd);
}

static void
mean_query_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  ts_document_set_query (self->document, -1);
}

static void
zoom_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);

  if (g_str_equal (name, "win.zoom-in"))
    ts_canvas_zoom_by (self->canvas, 1.25);
  else if (g_str_equal (name, "win.zoom-out"))
    ts_canvas_zoom_by (self->canvas, 0.8);
  else if (g_str_equal (name, "win.zoom-fit"))
    ts_canvas_set_zoom (self->canvas, 0);
  else
    ts_canvas_set_zoom (self->canvas, 1.0);
}

static void
view_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  const char *view = g_variant_get_string (param, NULL);

  gtk_toggle_button_set_active (g_str_equal (view, "reconstruction") ? self->view_recon
                                : g_str_equal (view, "difference")   ? self->view_diff
                                                                     : self->view_original,
                                TRUE);
}

/* ------------------------------------------------------------ settings */

static void
load_settings (TsWindow *self)
{
  g_autofree char *path = settings_path ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  int w, h;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_autofree char *msg = g_strdup_printf ("Your settings in %s could not be read (%s); the defaults are "
                                                  "used and the file will be rewritten on exit.", path, error->message);
          ts_window_show_notice (self, msg);
        }
      return;
    }
  ts_document_load_settings (self->document, kf);
  w = g_key_file_get_integer (kf, "window", "width", NULL);
  h = g_key_file_get_integer (kf, "window", "height", NULL);
  if (w >= 640 && h >= 480 && w <= 16384 && h <= 16384)
    gtk_window_set_default_size (GTK_WINDOW (self), w, h);
  if (g_key_file_get_boolean (kf, "window", "maximized", NULL))
    gtk_window_maximize (GTK_WINDOW (self));
  {
    g_autofree char *llm_name = g_key_file_get_string (kf, "numbers", "llm", NULL);
    g_autofree char *vit_name = g_key_file_get_string (kf, "numbers", "encoder", NULL);
    guint n_llm, n_vit;
    const TsLlmPreset *llm = ts_llm_presets (&n_llm);
    const TsVitPreset *vit = ts_vit_presets (&n_vit);
    for (guint i = 0; llm_name && i < n_llm; i++)
      if (g_ascii_strcasecmp (llm[i].name, llm_name) == 0)
        gtk_drop_down_set_selected (self->llm_dropdown, i);
    for (guint i = 0; vit_name && i < n_vit; i++)
      if (g_ascii_strcasecmp (vit[i].name, vit_name) == 0)
        gtk_drop_down_set_selected (self->vit_dropdown, i);
  }
  if (g_key_file_has_key (kf, "view", "grid", NULL))
    {
      gtk_check_button_set_active (self->grid_check, g_key_file_get_boolean (kf, "view", "grid", NULL));
      gtk_check_button_set_active (self->borders_check, g_key_file_get_boolean (kf, "view", "borders", NULL));
      gtk_check_button_set_active (self->regions_check, g_key_file_get_boolean (kf, "view", "regions", NULL));
      gtk_check_button_set_active (self->dim_check, g_key_file_get_boolean (kf, "view", "dim-dropped", NULL));
      gtk_check_button_set_active (self->heat_check, g_key_file_get_boolean (kf, "view", "heatmap", NULL));
      gtk_drop_down_set_selected (self->fill_mode_dropdown,
                                  CLAMP (g_key_file_get_integer (kf, "view", "fill", NULL), 0, 2));
      gtk_adjustment_set_value (self->fill_opacity_adjustment, g_key_file_get_double (kf, "view", "fill-opacity", NULL));
      gtk_adjustment_set_value (self->heat_opacity_adjustment, g_key_file_get_double (kf, "view", "heat-opacity", NULL));
      gtk_drop_down_set_selected (self->metric_dropdown, CLAMP (g_key_file_get_integer (kf, "view", "metric", NULL), 0, 2));
    }
  if (g_key_file_has_key (kf, "view", "threshold", NULL))
    ts_curves_set_threshold (self->curves, g_key_file_get_double (kf, "view", "threshold", NULL));
}

static void
save_settings (TsWindow *self)
{
  g_autofree char *path = settings_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  int w, h;

  ts_document_save_settings (self->document, kf);
  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  g_key_file_set_integer (kf, "window", "width", w);
  g_key_file_set_integer (kf, "window", "height", h);
  g_key_file_set_boolean (kf, "window", "maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  g_key_file_set_boolean (kf, "view", "grid", gtk_check_button_get_active (self->grid_check));
  g_key_file_set_boolean (kf, "view", "borders", gtk_check_button_get_active (self->borders_check));
  g_key_file_set_boolean (kf, "view", "regions", gtk_check_button_get_active (self->regions_check));
  g_key_file_set_boolean (kf, "view", "dim-dropped", gtk_check_button_get_active (self->dim_check));
  g_key_file_set_boolean (kf, "view", "heatmap", gtk_check_button_get_active (self->heat_check));
  g_key_file_set_integer (kf, "view", "fill", gtk_drop_down_get_selected (self->fill_mode_dropdown));
  g_key_file_set_double (kf, "view", "fill-opacity", gtk_adjustment_get_value (self->fill_opacity_adjustment));
  g_key_file_set_double (kf, "view", "heat-opacity", gtk_adjustment_get_value (self->heat_opacity_adjustment));
  g_key_file_set_integer (kf, "view", "metric", gtk_drop_down_get_selected (self->metric_dropdown));
  {
    guint n_llm, n_vit, li = gtk_drop_down_get_selected (self->llm_dropdown), vi = gtk_drop_down_get_selected (self->vit_dropdown);
    const TsLlmPreset *llm = ts_llm_presets (&n_llm);
    const TsVitPreset *vit = ts_vit_presets (&n_vit);
    if (li < n_llm)
      g_key_file_set_string (kf, "numbers", "llm", llm[li].name);
    if (vi < n_vit)
      g_key_file_set_string (kf, "numbers", "encoder", vit[vi].name);
  }
  g_key_file_set_double (kf, "view", "threshold", ts_curves_get_threshold (self->curves));
  /* g_key_file_save_to_file goes through g_file_set_contents: atomic */
  if (g_mkdir_with_parents (dir, 0700) != 0 || !g_key_file_save_to_file (kf, path, &error))
    g_warning ("cannot save the settings to %s: %s", path, error ? error->message : g_strerror (errno));
}

static gboolean
ts_window_close_request (GtkWindow *window)
{
  save_settings (TS_WINDOW (window));
  return GTK_WINDOW_CLASS (ts_window_parent_class)->close_request (window);
}

/* --------------------------------------------------------------- GObject */

static void
ts_window_dispose (GObject *object)
{
  TsWindow *self = TS_WINDOW (object);

  g_clear_handle_id (&self->spinner_source, g_source_remove);
  g_clear_handle_id (&self->numbers_source, g_source_remove);
  g_clear_handle_id (&self->ui_state_source, g_source_remove);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->pending_file);
  if (self->document)
    g_signal_handlers_disconnect_by_data (self->document, self);
  if (self->budget_panel)
    g_signal_handlers_disconnect_by_data (self->budget_panel, self);
  if (self->sidebar_stack)
    g_signal_handlers_disconnect_by_data (self->sidebar_stack, self);
  if (self->video)
    g_signal_handlers_disconnect_by_data (self->video, self);
  g_clear_object (&self->video);
  g_clear_object (&self->document);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_WINDOW);
  G_OBJECT_CLASS (ts_window_parent_class)->dispose (object);
}

static void
ts_window_class_init (TsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = ts_window_dispose;
  window_class->close_request = ts_window_close_request;

  g_type_ensure (TS_TYPE_CANVAS);
  g_type_ensure (TS_TYPE_CURVES);
  g_type_ensure (TS_TYPE_BUDGET_PANEL);
  g_type_ensure (TS_TYPE_VIDEO_BAR);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/tokenscope/TokenScope/ui/ts-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TsWindow, name)
  BIND (title_label); BIND (subtitle_label); BIND (spinner);
  BIND (view_original); BIND (view_recon); BIND (view_diff);
  BIND (banner_revealer); BIND (banner_label); BIND (banner_close);
  BIND (samples_popover); BIND (samples_box); BIND (recent_list); BIND (recent_heading);
  BIND (canvas); BIND (curves); BIND (metric_dropdown); BIND (optimal_label);
  BIND (method_dropdown); BIND (explain_label); BIND (summary_label);
  BIND (pool_mode_row); BIND (pool_mode_dropdown); BIND (fill_dropdown);
  BIND (ratio_scale); BIND (ratio_value); BIND (ratio_adjustment); BIND (tokens_spin); BIND (tokens_adjustment);
  BIND (numbers_grid);
  BIND (grid_check); BIND (borders_check); BIND (regions_check); BIND (dim_check);
  BIND (fill_mode_dropdown); BIND (fill_opacity_adjustment); BIND (heat_check); BIND (heat_opacity_adjustment);
  BIND (tau_scale); BIND (tau_adjustment); BIND (query_label);
  BIND (resize_dropdown); BIND (size_adjustment); BIND (patch_adjustment); BIND (features_dropdown);
  BIND (budget_panel); BIND (sidebar_stack); BIND (sidebar_switcher);
  BIND (model_label); BIND (model_box); BIND (model_family_dropdown); BIND (model_layer_adjustment);
  BIND (video_bar);
#undef BIND

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "win.copy-command", NULL, copy_command_action);
  gtk_widget_class_install_action (widget_class, "win.export-settings", NULL, export_settings_action);
  gtk_widget_class_install_action (widget_class, "win.export-curves", NULL, export_curves_action);
  gtk_widget_class_install_action (widget_class, "win.mean-query", NULL, mean_query_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-one", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.view", "s", view_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", NULL, open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.analyse-folder", NULL, analyse_folder_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.export-curves",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.analyse-folder", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.copy-command", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "win.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "win.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "win.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "win.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "win.zoom-one", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.view", "s", "original");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.view", "s", "reconstruction");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.view", "s", "difference");
}

static void
ts_window_init (TsWindow *self)
{
  g_autoptr (GtkStringList) methods = gtk_string_list_new (NULL);
  g_autoptr (PangoAttrList) value_attrs = NULL;
  const TsMethod *const *all;
  GtkDropTarget *drop;
  guint n;

  self->created_time = g_get_monotonic_time ();
  gtk_widget_init_template (GTK_WIDGET (self));

  self->document = ts_document_new ();
  g_signal_connect (self->document, "changed", G_CALLBACK (document_changed_cb), self);
  g_signal_connect (self->document, "notice", G_CALLBACK (document_notice_cb), self);
  g_signal_connect (self->document, "notify::busy", G_CALLBACK (busy_changed_cb), self);
  g_signal_connect (self->document, "notify::query", G_CALLBACK (query_changed_cb), self);
  self->video = ts_video_new (self->document);
  g_signal_connect (self->video, "changed", G_CALLBACK (video_changed_cb), self);
  ts_video_bar_set_video (self->video_bar, self->video);
  g_signal_connect_swapped (self->video_bar, "notify::show-changed", G_CALLBACK (overlay_changed_cb), self);

  all = ts_methods (&n);
  for (guint i = 0; i < n; i++)
    gtk_string_list_append (methods, all[i]->label);
  gtk_drop_down_set_model (self->method_dropdown, G_LIST_MODEL (methods));

  build_method_options (self);
  value_attrs = pango_attr_list_new ();
  pango_attr_list_insert (value_attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_attr_list_insert (value_attrs, pango_attr_font_features_new ("tnum 1"));
  for (guint i = 0; i < N_NUMBERS; i++)
    {
      GtkWidget *name = gtk_label_new (number_rows[i].label);
      GtkWidget *value = gtk_inscription_new ("—");
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_inscription_set_xalign (GTK_INSCRIPTION (value), 1);
      gtk_widget_set_hexpand (name, TRUE);
      /* An inscription's size does not follow its text: a new value is redrawn
       * without relayouting the window (a label's new text re-presents the whole
       * toplevel, X round trips included, in the frame that moves the slider),
       * and the sidebar keeps its width whatever the numbers say. */
      gtk_inscription_set_nat_chars (GTK_INSCRIPTION (value), 22);
      /* bold tabular figures, as the stylesheet gives labels (an inscription
       * takes its font from CSS, not the weight or the features) */
      gtk_inscription_set_attributes (GTK_INSCRIPTION (value), value_attrs);
      gtk_inscription_set_text_overflow (GTK_INSCRIPTION (value), GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
      gtk_widget_add_css_class (value, "numeric");
      gtk_widget_set_tooltip_text (name, number_rows[i].tooltip);
      gtk_widget_set_tooltip_text (value, number_rows[i].tooltip);
      gtk_grid_attach (self->numbers_grid, name, 0, i, 1, 1);
      gtk_grid_attach (self->numbers_grid, value, 1, i, 1, 1);
      self->numbers[i] = GTK_INSCRIPTION (value);
    }
  {
    /* the presets the KV cache and FLOPs rows are for */
    g_autoptr (GtkStringList) llms = gtk_string_list_new (NULL);
    g_autoptr (GtkStringList) vits = gtk_string_list_new (NULL);
    const TsLlmPreset *llm = ts_llm_presets (&n);
    const char *row_names[] = { "LLM", "Encoder" };
    GtkDropDown **dropdowns[] = { &self->llm_dropdown, &self->vit_dropdown };
    const char *tips[] = { "The language model whose KV cache the output tokens fill", "The vision encoder the FLOPs rows are for" };
    GListModel *models[2];
    for (guint i = 0; i < n; i++)
      gtk_string_list_append (llms, llm[i].name);
    {
      guint nv;
      const TsVitPreset *vit = ts_vit_presets (&nv);
      for (guint i = 0; i < nv; i++)
        gtk_string_list_append (vits, vit[i].name);
    }
    models[0] = G_LIST_MODEL (llms);
    models[1] = G_LIST_MODEL (vits);
    for (guint r = 0; r < 2; r++)
      {
        GtkWidget *name = gtk_label_new (row_names[r]);
        GtkWidget *dd = gtk_drop_down_new (g_object_ref (models[r]), NULL);
        gtk_label_set_xalign (GTK_LABEL (name), 0);
        gtk_widget_set_tooltip_text (name, tips[r]);
        gtk_widget_set_tooltip_text (dd, tips[r]);
        gtk_widget_set_halign (dd, GTK_ALIGN_END);
        gtk_grid_attach (self->numbers_grid, name, 0, N_NUMBERS + r, 1, 1);
        gtk_grid_attach (self->numbers_grid, dd, 1, N_NUMBERS + r, 1, 1);
        *dropdowns[r] = GTK_DROP_DOWN (dd);
        g_signal_connect_swapped (dd, "notify::selected", G_CALLBACK (update_cost_numbers), self);
      }
  }

  gtk_scale_set_format_value_func (self->tau_scale, tau_format_cb, NULL, NULL);
  gtk_scale_add_mark (self->ratio_scale, 2, GTK_POS_BOTTOM, "4×");
  gtk_scale_add_mark (self->ratio_scale, 3, GTK_POS_BOTTOM, "8×");
  gtk_scale_add_mark (self->ratio_scale, 4, GTK_POS_BOTTOM, "16×");
  gtk_scale_add_mark (self->ratio_scale, 0, GTK_POS_BOTTOM, "1×");
  gtk_scale_add_mark (self->ratio_scale, 6, GTK_POS_BOTTOM, "64×");

  g_signal_connect (self->method_dropdown, "notify::selected", G_CALLBACK (method_selected_cb), self);
  g_signal_connect (self->ratio_adjustment, "value-changed", G_CALLBACK (ratio_value_cb), self);
  g_signal_connect (self->ratio_adjustment, "value-changed", G_CALLBACK (ratio_changed_cb), self);
  ratio_value_cb (self->ratio_adjustment, self);
  g_signal_connect (self->tokens_adjustment, "value-changed", G_CALLBACK (tokens_changed_cb), self);
  g_signal_connect (self->pool_mode_dropdown, "notify::selected", G_CALLBACK (pool_mode_cb), self);
  g_signal_connect (self->fill_dropdown, "notify::selected", G_CALLBACK (fill_cb), self);
  g_signal_connect (self->tau_adjustment, "value-changed", G_CALLBACK (tau_changed_cb), self);
  g_signal_connect_swapped (self->resize_dropdown, "notify::selected", G_CALLBACK (resize_changed_cb), self);
  g_signal_connect_swapped (self->size_adjustment, "value-changed", G_CALLBACK (resize_changed_cb), self);
  g_signal_connect_swapped (self->patch_adjustment, "value-changed", G_CALLBACK (resize_changed_cb), self);
  g_signal_connect (self->features_dropdown, "notify::selected", G_CALLBACK (features_changed_cb), self);
  g_signal_connect_swapped (self->grid_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->borders_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->regions_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->dim_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->heat_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->fill_mode_dropdown, "notify::selected", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->fill_opacity_adjustment, "value-changed", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->heat_opacity_adjustment, "value-changed", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect (self->view_original, "toggled", G_CALLBACK (view_toggled_cb), self);
  g_signal_connect (self->view_recon, "toggled", G_CALLBACK (view_toggled_cb), self);
  g_signal_connect (self->view_diff, "toggled", G_CALLBACK (view_toggled_cb), self);
  g_signal_connect (self->metric_dropdown, "notify::selected", G_CALLBACK (metric_changed_cb), self);
  g_signal_connect (self->curves, "threshold-changed", G_CALLBACK (threshold_changed_cb), self);
  g_signal_connect (self->curves, "point-activated", G_CALLBACK (point_activated_cb), self);
  g_signal_connect (self->canvas, "patch-activated", G_CALLBACK (patch_activated_cb), self);
  g_signal_connect (self->canvas, "query-tooltip", G_CALLBACK (canvas_tooltip_cb), self);
  g_signal_connect (self->banner_close, "clicked", G_CALLBACK (banner_close_cb), self);
  g_signal_connect (self->samples_popover, "show", G_CALLBACK (samples_popover_show_cb), self);
  g_signal_connect_swapped (self->model_family_dropdown, "notify::selected", G_CALLBACK (model_options_cb), self);
  g_signal_connect_swapped (self->model_layer_adjustment, "value-changed", G_CALLBACK (model_options_cb), self);
  g_signal_connect_swapped (self->budget_panel, "vlm-changed", G_CALLBACK (update_vlm), self);
  g_signal_connect_swapped (self->budget_panel, "options-ready", G_CALLBACK (write_ui_state_after_layout), self);
  g_signal_connect_swapped (self->sidebar_stack, "notify::visible-child", G_CALLBACK (write_ui_state_after_layout),
                            self);
  ts_budget_panel_set_document (self->budget_panel, self->document);

  drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  ts_canvas_set_placeholder (self->canvas, "Open an image (Ctrl+O), pick a sample, or drop a file here");
  load_settings (self);
  sync_controls (self);
  update_options (self);
  update_numbers (self);
}

/* ------------------------------------------------------------ public API */

TsWindow *
ts_window_new (GtkApplication *application)
{
  return g_object_new (TS_TYPE_WINDOW, "application", application, NULL);
}

TsDocument *
ts_window_get_document (TsWindow *self)
{
  return self->document;
}

void
ts_window_show_notice (TsWindow *self, const char *message)
{
  g_return_if_fail (TS_IS_WINDOW (self));
  gtk_label_set_label (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
  write_ui_state (self);
}
