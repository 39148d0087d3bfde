/* ts-budget-panel.c: the Budget page of the sidebar. See ts-budget-panel.h. */
#include "ts-budget-panel.h"

#include <math.h>
#include <string.h>

#include "ts-document-budget.h"

struct _TsBudgetPanel {
  GtkWidget parent_instance;

  /* Template widgets */
  GtkWidget *box;
  GtkAdjustment *context_adjustment;
  GtkAdjustment *text_adjustment;
  GtkDrawingArea *bar;
  GtkLabel *budget_label;
  GtkButton *option_a, *option_b, *option_c;
  GtkLabel *option_a_label, *option_b_label, *option_c_label;
  GtkLabel *status_label;
  GtkAdjustment *complexity_adjustment;
  GtkButton *dynamic_button;
  GtkLabel *dynamic_label;
  GtkLabel *vlm_heading;
  GtkListBox *vlm_list;

  /* Owned references */
  TsDocument *document;
  GCancellable *cancellable;   /* of the options being measured */
  TsBudgetFixed *fixed;        /* the options shown, or NULL */
  GArray *vlm;                 /* TsVlmCount rows, or NULL */

  /* State */
  int selected_vlm;            /* TsVlmModel, or -1 */
  guint debounce_source;
  gboolean filling;            /* the VLM list is being rebuilt */
  gboolean stale;              /* the options need measuring when the page is shown */
};

G_DEFINE_FINAL_TYPE (TsBudgetPanel, ts_budget_panel, GTK_TYPE_WIDGET)

enum {
  VLM_CHANGED,
  OPTIONS_READY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------- helpers */

static int
visual_budget (TsBudgetPanel *self)
{
  return ts_budget_visual ((int) gtk_adjustment_get_value (self->context_adjustment),
                           (int) gtk_adjustment_get_value (self->text_adjustment), NULL);
}

static GtkButton *
option_button (TsBudgetPanel *self, int i)
{
  GtkButton *buttons[] = { self->option_a, self->option_b, self->option_c };
  return buttons[i];
}

static GtkLabel *
option_label (TsBudgetPanel *self, int i)
{
  GtkLabel *labels[] = { self->option_a_label, self->option_b_label, self->option_c_label };
  return labels[i];
}

static void
update_options (TsBudgetPanel *self)
{
  static const char *const titles[] = { "A  Downsample", "B  Compress", "C  Adaptive" };

  for (int i = 0; i < 3; i++)
    {
      const TsBudgetOption *o = self->fixed ? &self->fixed->options[i] : NULL;
      g_autofree char *markup = NULL;

      if (o == NULL)
        markup = g_strdup_printf ("<b>%s</b>\n<small>—</small>", titles[i]);
      else if (!o->available)
        markup = g_markup_printf_escaped ("<b>%s</b>\n<small>%s</small>", titles[i], o->note ? o->note : "");
      else
        markup = g_markup_printf_escaped ("<b>%s</b>   %d tokens · %.1f×\nSSIM %.3f · PSNR %.1f dB\n<small>%s</small>",
                                          titles[i], o->tokens, o->factor, o->ssim, o->psnr, o->note ? o->note : "");
      gtk_label_set_markup (option_label (self, i), markup);
      gtk_widget_set_sensitive (GTK_WIDGET (option_button (self, i)), o != NULL && o->available);
    }
}

static void
update_dynamic (TsBudgetPanel *self)
{
  int budget = visual_budget (self);
  double c = gtk_adjustment_get_value (self->complexity_adjustment);
  int dyn = budget > 0 ? ts_budget_dynamic (budget, c, NULL) : -1;
  g_autofree char *text = NULL;

  if (dyn > 0)
    text = g_strdup_printf ("Dynamic budget: %d tokens (%d at 0, %d at 1)", dyn, budget / 4, budget);
  else
    text = g_strdup ("Dynamic budget: the text reserve leaves no room for the image");
  gtk_label_set_label (self->dynamic_label, text);
  gtk_widget_set_sensitive (GTK_WIDGET (self->dynamic_button), dyn > 0 && self->document
                            && ts_document_get_scene (self->document));
}

static void
update_budget_label (TsBudgetPanel *self)
{
  int context = (int) gtk_adjustment_get_value (self->context_adjustment);
  int text = (int) gtk_adjustment_get_value (self->text_adjustment);
  int budget = visual_budget (self);
  int used = self->document ? ts_document_get_tokens_out (self->document) : 0;
  g_autofree char *s = NULL;

  if (budget < 0)
    s = g_strdup_printf ("The text reserve (%d) must be smaller than the context (%d).", text, context);
  else if (used <= 0)
    s = g_strdup_printf ("Visual budget: %d tokens", budget);
  else
    s = g_strdup_printf ("Visual budget: %d tokens. The current setting spends %d: %s.", budget, used,
                         used <= budget ? "it fits" : "over the budget");
  gtk_label_set_label (self->budget_label, s);
  gtk_widget_queue_draw (GTK_WIDGET (self->bar));
}

/* The bar: [image tokens | free visual budget | text reserve] over the context; red past the budget. */
static void
bar_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  TsBudgetPanel *self = data;
  double context = gtk_adjustment_get_value (self->context_adjustment);
  double text = gtk_adjustment_get_value (self->text_adjustment);
  double used = self->document ? ts_document_get_tokens_out (self->document) : 0;
  double budget = MAX (0, context - text);
  double total = MAX (context, used + text);
  double s = total > 0 ? width / total : 0;
  double img = MIN (used, budget) * s, over = MAX (0, used - budget) * s;

  cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.18);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.21, 0.52, 0.89); /* image tokens inside the budget */
  cairo_rectangle (cr, 0, 0, img, height);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.88, 0.11, 0.14); /* image tokens past it */
  cairo_rectangle (cr, img, 0, over, height);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.96, 0.76, 0.07); /* text reserve at the end of the context */
  cairo_rectangle (cr, width - text * s, 0, text * s, height);
  cairo_fill (cr);
  /* the budget's edge */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
  cairo_set_line_width (cr, 2);
  cairo_move_to (cr, budget * s, 0);
  cairo_line_to (cr, budget * s, height);
  cairo_stroke (cr);
  /* what each part is, where it has room */
  {
    g_autofree char *image_text = g_strdup_printf ("image %d", (int) used);
    g_autofree char *text_text = g_strdup_printf ("text %d", (int) text);
    cairo_text_extents_t ext;

    cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size (cr, 11);
    cairo_text_extents (cr, image_text, &ext);
    if (ext.x_advance + 8 >= img + over) /* the number alone */
      {
        g_free (image_text);
        image_text = g_strdup_printf ("%d", (int) used);
        cairo_text_extents (cr, image_text, &ext);
      }
    cairo_set_source_rgb (cr, 1, 1, 1);
    if (used > 0 && ext.x_advance + 8 < img + over)
      {
        cairo_move_to (cr, 4, height / 2.0 + 4);
        cairo_show_text (cr, image_text);
      }
    cairo_text_extents (cr, text_text, &ext);
    cairo_set_source_rgb (cr, 0.2, 0.15, 0);
    if (ext.x_advance + 8 < text * s)
      {
        cairo_move_to (cr, width - ext.x_advance - 4, height / 2.0 + 4);
        cairo_show_text (cr, text_text);
      }
  }
}

/* ---------------------------------------------------------------- options */

static void
budget_ready_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  TsBudgetFixed *fixed = ts_document_budget_finish (TS_DOCUMENT (source), result, &error);
  TsBudgetPanel *self;

  if (fixed == NULL && g_error_matches (error, TS_ERROR, TS_ERROR_CANCELLED))
    return; /* a newer request (or the panel's end) took over */
  if (fixed == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = TS_BUDGET_PANEL (data);
  g_clear_pointer (&self->fixed, ts_budget_fixed_free);
  self->fixed = fixed;
  gtk_label_set_label (self->status_label, fixed ? "Click an option to apply it." : error->message);
  update_options (self);
  g_signal_emit (self, signals[OPTIONS_READY], 0);
}

static gboolean
measure_cb (gpointer data)
{
  TsBudgetPanel *self = data;

  self->debounce_source = 0;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->fixed, ts_budget_fixed_free);
  update_options (self);
  if (self->document == NULL || ts_document_get_scene (self->document) == NULL || visual_budget (self) < 1)
    {
      gtk_label_set_label (self->status_label, visual_budget (self) < 1 ? "No visual budget: lower the text reserve." : "");
      return G_SOURCE_REMOVE;
    }
  gtk_label_set_label (self->status_label, "Measuring the options…");
  self->cancellable = g_cancellable_new ();
  /* the callback holds no reference: it is cancelled before the panel goes */
  ts_document_budget_async (self->document, (int) gtk_adjustment_get_value (self->context_adjustment),
                            (int) gtk_adjustment_get_value (self->text_adjustment), self->cancellable,
                            budget_ready_cb, self);
  return G_SOURCE_REMOVE;
}

/* Measures soon, or when the page is next shown: a hidden page costs nothing. */
static void
schedule_measure (TsBudgetPanel *self)
{
  g_clear_handle_id (&self->debounce_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  self->stale = !gtk_widget_get_mapped (GTK_WIDGET (self));
  if (!self->stale)
    self->debounce_source = g_timeout_add (150, measure_cb, self);
}

static void
ts_budget_panel_map (GtkWidget *widget)
{
  TsBudgetPanel *self = TS_BUDGET_PANEL (widget);

  GTK_WIDGET_CLASS (ts_budget_panel_parent_class)->map (widget);
  update_budget_label (self);
  if (self->stale)
    schedule_measure (self);
}

static void
option_clicked_cb (GtkButton *button, TsBudgetPanel *self)
{
  g_autoptr (GError) error = NULL;
  int i = button == self->option_a ? 0 : button == self->option_b ? 1 : 2;

  if (self->fixed == NULL || self->document == NULL)
    return;
  if (!ts_document_apply_budget_option (self->document, &self->fixed->options[i], &error))
    gtk_label_set_label (self->status_label, error->message);
}

static void
dynamic_clicked_cb (TsBudgetPanel *self)
{
  int dyn = ts_budget_dynamic (MAX (1, visual_budget (self)), gtk_adjustment_get_value (self->complexity_adjustment),
                               NULL);

  if (self->document && dyn > 0)
    ts_document_set_target_tokens (self->document, dyn);
}

static void
limits_changed_cb (TsBudgetPanel *self)
{
  update_budget_label (self);
  update_dynamic (self);
  schedule_measure (self);
}

/* ---------------------------------------------------------------- VLM table */

static const TsVlmCount *
vlm_row (TsBudgetPanel *self, int model)
{
  if (self->vlm == NULL || model < 0 || (guint) model >= self->vlm->len)
    return NULL;
  return &g_array_index (self->vlm, TsVlmCount, model);
}

static GtkWidget *
vlm_row_widget (const TsVlmCount *c)
{
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *name = gtk_label_new (c->label);
  g_autofree char *tokens = c->tokens >= 0 ? g_strdup_printf ("%s%d", c->approximate ? "≈" : "", c->tokens)
                                           : g_strdup ("—");
  g_autofree char *detail = NULL;
  GtkWidget *tok = gtk_label_new (tokens);
  GtkWidget *det;

  if (c->tokens < 0)
    detail = g_strdup ("refuses this image");
  else if (c->tile_cols > 0)
    detail = g_strdup_printf ("%d × %d, tiles %d × %d of %d × %d%s", c->resized_width, c->resized_height,
                              c->tile_cols, c->tile_rows, c->tile_width, c->tile_height,
                              c->extra_views ? " + global view" : "");
  else
    detail = g_strdup_printf ("%d × %d, no tiles", c->resized_width, c->resized_height);
  det = gtk_label_new (detail);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  gtk_widget_set_margin_start (grid, 8);
  gtk_widget_set_margin_end (grid, 8);
  gtk_widget_set_margin_top (grid, 4);
  gtk_widget_set_margin_bottom (grid, 4);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (det), 0);
  gtk_label_set_ellipsize (GTK_LABEL (det), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (det, "dim-label");
  gtk_widget_add_css_class (det, "caption");
  gtk_widget_add_css_class (tok, "numeric");
  gtk_grid_attach (GTK_GRID (grid), name, 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), tok, 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), det, 0, 1, 2, 1);
  gtk_widget_set_tooltip_text (grid, c->note);
  return grid;
}

static void
fill_vlm_list (TsBudgetPanel *self)
{
  const TsMedia *media = self->document ? ts_document_get_media (self->document) : NULL;
  g_autoptr (GArray) rows = self->document ? ts_document_vlm_counts (self->document) : NULL;
  GtkWidget *child;
  GtkWidget *none;

  /* a new frame of the same size (video) keeps the table; the tiling is redrawn */
  if (rows && self->vlm && rows->len == self->vlm->len
      && memcmp (rows->data, self->vlm->data, rows->len * sizeof (TsVlmCount)) == 0)
    {
      g_signal_emit (self, signals[VLM_CHANGED], 0, ts_budget_panel_get_vlm (self));
      return;
    }
  self->filling = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->vlm_list))) != NULL)
    gtk_list_box_remove (self->vlm_list, child);
  g_clear_pointer (&self->vlm, g_array_unref);
  self->vlm = g_steal_pointer (&rows);
  if (media && media->n_frames > 0)
    {
      g_autofree char *heading = g_strdup_printf ("Tokens per VLM for %d × %d", media->frames[0]->width,
                                                  media->frames[0]->height);
      gtk_label_set_label (self->vlm_heading, heading);
    }
  none = gtk_label_new ("None");
  gtk_label_set_xalign (GTK_LABEL (none), 0);
  gtk_widget_set_margin_start (none, 8);
  gtk_widget_set_margin_top (none, 4);
  gtk_widget_set_margin_bottom (none, 4);
  gtk_widget_set_tooltip_text (none, "Draw no model's tiling");
  gtk_list_box_append (self->vlm_list, none);
  for (guint i = 0; self->vlm && i < self->vlm->len; i++)
    gtk_list_box_append (self->vlm_list, vlm_row_widget (&g_array_index (self->vlm, TsVlmCount, i)));
  gtk_list_box_select_row (self->vlm_list, gtk_list_box_get_row_at_index (self->vlm_list, self->selected_vlm + 1));
  self->filling = FALSE;
  g_signal_emit (self, signals[VLM_CHANGED], 0, ts_budget_panel_get_vlm (self));
}

static void
vlm_selected_cb (GtkListBox *list, GtkListBoxRow *row, TsBudgetPanel *self)
{
  if (self->filling)
    return;
  self->selected_vlm = row ? gtk_list_box_row_get_index (row) - 1 : -1;
  g_signal_emit (self, signals[VLM_CHANGED], 0, ts_budget_panel_get_vlm (self));
}

/* ---------------------------------------------------------------- document */

static void
document_changed_cb (TsDocument *doc, guint what, TsBudgetPanel *self)
{
  if (what & (TS_DOCUMENT_CHANGED_MEDIA | TS_DOCUMENT_CHANGED_SCENE))
    {
      fill_vlm_list (self);
      schedule_measure (self);
    }
  if (what & (TS_DOCUMENT_CHANGED_ASSIGNMENT | TS_DOCUMENT_CHANGED_SCENE))
    {
      /* a label's new text relayouts the whole window: a hidden page's waits for map */
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        update_budget_label (self);
      update_dynamic (self);
    }
}

/* ---------------------------------------------------------------- GObject */

static void
ts_budget_panel_dispose (GObject *object)
{
  TsBudgetPanel *self = TS_BUDGET_PANEL (object);

  g_clear_handle_id (&self->debounce_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  /* the list unselects its rows as it goes: no "vlm-changed" from a panel going away */
  if (self->vlm_list)
    g_signal_handlers_disconnect_by_data (self->vlm_list, self);
  if (self->document)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_pointer (&self->fixed, ts_budget_fixed_free);
  g_clear_pointer (&self->vlm, g_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_BUDGET_PANEL);
  G_OBJECT_CLASS (ts_budget_panel_parent_class)->dispose (object);
}

static void
ts_budget_panel_class_init (TsBudgetPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_budget_panel_dispose;
  widget_class->map = ts_budget_panel_map;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/tokenscope/TokenScope/ui/ts-budget-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TsBudgetPanel, name)
  BIND (box); BIND (context_adjustment); BIND (text_adjustment); BIND (bar); BIND (budget_label);
  BIND (option_a); BIND (option_b); BIND (option_c);
  BIND (option_a_label); BIND (option_b_label); BIND (option_c_label); BIND (status_label);
  BIND (complexity_adjustment); BIND (dynamic_button); BIND (dynamic_label);
  BIND (vlm_heading); BIND (vlm_list);
#undef BIND

  /* vlm-changed (gpointer count): the selected VLM's TsVlmCount, or NULL */
  signals[VLM_CHANGED] = g_signal_new ("vlm-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                       NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /* options-ready: the options A/B/C were measured (or failed, said in the panel) */
  signals[OPTIONS_READY] = g_signal_new ("options-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 0);
}

static void
ts_budget_panel_init (TsBudgetPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->selected_vlm = -1;
  gtk_drawing_area_set_draw_func (self->bar, bar_draw, self, NULL);
  g_signal_connect_swapped (self->context_adjustment, "value-changed", G_CALLBACK (limits_changed_cb), self);
  g_signal_connect_swapped (self->text_adjustment, "value-changed", G_CALLBACK (limits_changed_cb), self);
  g_signal_connect_swapped (self->complexity_adjustment, "value-changed", G_CALLBACK (update_dynamic), self);
  g_signal_connect_swapped (self->dynamic_button, "clicked", G_CALLBACK (dynamic_clicked_cb), self);
  g_signal_connect (self->option_a, "clicked", G_CALLBACK (option_clicked_cb), self);
  g_signal_connect (self->option_b, "clicked", G_CALLBACK (option_clicked_cb), self);
  g_signal_connect (self->option_c, "clicked", G_CALLBACK (option_clicked_cb), self);
  g_signal_connect (self->vlm_list, "row-selected", G_CALLBACK (vlm_selected_cb), self);
  update_options (self);
  update_budget_label (self);
  update_dynamic (self);
}

/* ---------------------------------------------------------------- public API */

GtkWidget *
ts_budget_panel_new (void)
{
  return g_object_new (TS_TYPE_BUDGET_PANEL, NULL);
}

void
ts_budget_panel_set_document (TsBudgetPanel *self, TsDocument *document)
{
  g_return_if_fail (TS_IS_BUDGET_PANEL (self));
  if (self->document == document)
    return;
  if (self->document)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  if (document)
    g_signal_connect (document, "changed", G_CALLBACK (document_changed_cb), self);
  fill_vlm_list (self);
  limits_changed_cb (self);
}

const TsVlmCount *
ts_budget_panel_get_vlm (TsBudgetPanel *self)
{
  g_return_val_if_fail (TS_IS_BUDGET_PANEL (self), NULL);
  return vlm_row (self, self->selected_vlm);
}

void
ts_budget_panel_write_widget (GKeyFile *kf, const char *name, GtkWidget *widget, GtkWidget *root, double sx, double sy)
{
  graphene_point_t p;

  if (widget == NULL || !gtk_widget_get_mapped (widget)
      || !gtk_widget_compute_point (widget, root, &GRAPHENE_POINT_INIT (0, 0), &p))
    return;
  g_key_file_set_integer (kf, name, "x", (int) (p.x + sx));
  g_key_file_set_integer (kf, name, "y", (int) (p.y + sy));
  g_key_file_set_integer (kf, name, "width", gtk_widget_get_width (widget));
  g_key_file_set_integer (kf, name, "height", gtk_widget_get_height (widget));
}

void
ts_budget_panel_write_state (TsBudgetPanel *self, GKeyFile *kf, GtkWidget *root, double sx, double sy)
{
  const char *names[] = { "budget_a", "budget_b", "budget_c" };
  GtkListBoxRow *row;

  g_return_if_fail (TS_IS_BUDGET_PANEL (self));
  for (int i = 0; i < 3; i++)
    {
      ts_budget_panel_write_widget (kf, names[i], GTK_WIDGET (option_button (self, i)), root, sx, sy);
      if (self->fixed && self->fixed->options[i].available)
        {
          g_key_file_set_integer (kf, names[i], "tokens", self->fixed->options[i].tokens);
          g_key_file_set_string (kf, names[i], "method", ts_budget_option_method (&self->fixed->options[i]));
        }
    }
  g_key_file_set_boolean (kf, "budget", "ready", self->fixed != NULL);
  g_key_file_set_integer (kf, "budget", "visual", visual_budget (self));
  g_key_file_set_string (kf, "budget", "vlm", self->selected_vlm >= 0 ? ts_vlm_model_name (self->selected_vlm) : "");
  /* the first tiling model's row (LLaVA-NeXT) for the tests to click */
  row = gtk_list_box_get_row_at_index (self->vlm_list, TS_VLM_LLAVA_NEXT + 1);
  ts_budget_panel_write_widget (kf, "vlm_llava_next", row ? GTK_WIDGET (row) : NULL, root, sx, sy);
}
