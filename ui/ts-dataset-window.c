/* ts-dataset-window.c: the dataset view. See ts-dataset-window.h. */
#include "ts-dataset-window.h"

#include <math.h>

#include "ts-plot-render.h"

typedef enum {
  COLUMN_IMAGE,
  COLUMN_BITS,
  COLUMN_OPTIMAL, /* per method */
  COLUMN_SSIM,    /* the method and ratio of the dropdowns */
} ColumnKind;

struct _TsDatasetWindow {
  GtkWindow parent_instance;

  /* Template widgets */
  GtkLabel *folder_label;
  GtkAdjustment *threshold_adjustment;
  GtkProgressBar *progress_bar;
  GtkDropDown *ssim_method_dropdown;
  GtkDropDown *ssim_ratio_dropdown;
  GtkColumnView *table;
  GtkDrawingArea *plot_area;
  GtkLabel *recommendation_label;
  GtkMenuButton *methods_button;
  GtkBox *methods_box;
  GtkEntry *ratios_entry;

  /* Owned references */
  TsDatasetModel *model;
  TsPlot *plot;
  GPtrArray *method_columns; /* GtkColumnViewColumn, rebuilt per run */
  GtkColumnViewColumn *ssim_column;
  char *folder;
  char *out_dir;             /* NULL: a new temporary folder per run */

  /* Weak */
  TsWindow *parent;
};

G_DEFINE_FINAL_TYPE (TsDatasetWindow, ts_dataset_window, GTK_TYPE_WINDOW)

/* ---------------------------------------------------------------- helpers */

/* Position of @name in @names, or GTK_INVALID_LIST_POSITION. */
static guint
strv_index (const char *const *names, const char *name)
{
  for (guint i = 0; names[i]; i++)
    if (g_strcmp0 (names[i], name) == 0)
      return i;
  return GTK_INVALID_LIST_POSITION;
}

static const char *
ssim_method (TsDatasetWindow *self)
{
  const char *const *methods = ts_dataset_model_get_methods (self->model);
  guint i = gtk_drop_down_get_selected (self->ssim_method_dropdown);
  return i < g_strv_length ((char **) methods) ? methods[i] : NULL;
}

static double
ssim_ratio (TsDatasetWindow *self)
{
  guint n, i = gtk_drop_down_get_selected (self->ssim_ratio_dropdown);
  const double *ratios = ts_dataset_model_get_ratios (self->model, &n);
  return i < n ? ratios[i] : NAN;
}

/* The number a column shows and sorts by. */
static double
column_value (TsDatasetWindow *self, ColumnKind kind, const char *method, TsDatasetRow *row)
{
  switch (kind)
    {
    case COLUMN_BITS: return ts_dataset_row_get_bits (row);
    case COLUMN_OPTIMAL: return ts_dataset_row_get_optimal (row, method);
    case COLUMN_SSIM: return ts_dataset_row_get_ssim (row, ssim_method (self), ssim_ratio (self));
    case COLUMN_IMAGE:
    default: return NAN;
    }
}

static char *
column_text (TsDatasetWindow *self, ColumnKind kind, const char *method, TsDatasetRow *row)
{
  double v = column_value (self, kind, method, row);

  if (kind == COLUMN_IMAGE)
    return g_strdup (ts_dataset_row_get_image (row));
  if (ts_dataset_row_get_error (row))
    return g_strdup ("error");
  if (isnan (v))
    return g_strdup ("—");
  switch (kind)
    {
    case COLUMN_BITS: return g_strdup_printf ("%.2f", v);
    case COLUMN_OPTIMAL: return v > 0 ? g_strdup_printf ("%g×", v) : g_strdup ("none");
    case COLUMN_SSIM: return g_strdup_printf ("%.4f", v);
    case COLUMN_IMAGE:
    default: return NULL;
    }
}

static void
write_ui_state (TsDatasetWindow *self)
{
  const char *base = g_getenv ("TS_UI_STATE");
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GKeyFile) kf = NULL;
  GtkWidget *widgets[] = { GTK_WIDGET (self->table), GTK_WIDGET (self->plot_area), GTK_WIDGET (self->ratios_entry) };
  const char *names[] = { "table", "plot", "ratios" };
  const double *ratios;
  guint n_ratios;
  int done, total, failed;
  double sx = 0, sy = 0;

  if (base == NULL)
    return;
  kf = g_key_file_new ();
  path = g_strconcat (base, ".dataset", NULL);
  ts_dataset_model_get_progress (self->model, &done, &total, &failed);
  g_key_file_set_boolean (kf, "dataset", "running", ts_dataset_model_get_running (self->model));
  g_key_file_set_integer (kf, "dataset", "done", done);
  g_key_file_set_integer (kf, "dataset", "total", total);
  g_key_file_set_integer (kf, "dataset", "rows", g_list_model_get_n_items (ts_dataset_model_get_rows (self->model)));
  g_key_file_set_string (kf, "dataset", "out", ts_dataset_model_get_out_dir (self->model) ?: "");
  ratios = ts_dataset_model_get_ratios (self->model, &n_ratios);
  if (n_ratios > 0)
    g_key_file_set_double_list (kf, "dataset", "ratios", (double *) ratios, n_ratios);
  if (gtk_widget_get_native (GTK_WIDGET (self)))
    gtk_native_get_surface_transform (GTK_NATIVE (self), &sx, &sy);
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
  data = g_key_file_to_data (kf, NULL, NULL);
  g_file_set_contents (path, data, -1, NULL);
}

static void
write_dataset_state (GtkWidget *widget)
{
  write_ui_state (TS_DATASET_WINDOW (widget));
}

static void
update_actions (TsDatasetWindow *self)
{
  gboolean running = ts_dataset_model_get_running (self->model);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.run", !running && self->folder != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.cancel", running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.export",
                                 !running && ts_dataset_model_get_summary (self->model) != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.choose-folder", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dataset.choose-output", !running);
}

static void
update_progress (TsDatasetWindow *self)
{
  int done, total, failed;
  g_autofree char *text = NULL;
  const char *error = ts_dataset_model_get_error (self->model);

  ts_dataset_model_get_progress (self->model, &done, &total, &failed);
  gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / total : 0);
  if (ts_dataset_model_get_running (self->model))
    text = total > 0 ? g_strdup_printf ("%d of %d images%s", done, total, failed ? ", some failed" : "")
                     : g_strdup ("Listing the images…");
  else if (error)
    text = g_strdup_printf ("%d of %d images done. Stopped: %s", done, total, error);
  else if (total > 0)
    text = g_strdup_printf ("%d images analysed (%d failed); results in %s", done, failed,
                            ts_dataset_model_get_out_dir (self->model));
  gtk_progress_bar_set_text (self->progress_bar, text ? text : "");
  update_actions (self);
  write_ui_state (self);
}

/* ---------------------------------------------------------------- columns */

static void
setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);
  ColumnKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "kind"));

  gtk_label_set_xalign (GTK_LABEL (label), kind == COLUMN_IMAGE ? 0 : 1);
  if (kind != COLUMN_IMAGE)
    gtk_widget_add_css_class (label, "numeric");
  else
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_list_item_set_child (item, label);
}

static void
bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TsDatasetWindow *self)
{
  TsDatasetRow *row = gtk_list_item_get_item (item);
  ColumnKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "kind"));
  const char *method = g_object_get_data (G_OBJECT (factory), "method");
  g_autofree char *text = column_text (self, kind, method, row);
  GtkWidget *label = gtk_list_item_get_child (item);

  gtk_label_set_label (GTK_LABEL (label), text);
  gtk_widget_set_tooltip_text (label, ts_dataset_row_get_error (row));
}

typedef struct {
  TsDatasetWindow *self;
  ColumnKind kind;
  char *method;
} SortData;

static void
sort_data_free (gpointer data)
{
  SortData *d = data;
  g_free (d->method);
  g_free (d);
}

/* Numbers ascending with missing values last; names in natural order. */
static int
compare_rows_cb (gconstpointer a, gconstpointer b, gpointer data)
{
  SortData *d = data;
  TsDatasetRow *x = TS_DATASET_ROW ((gpointer) a), *y = TS_DATASET_ROW ((gpointer) b);
  double u, v;

  if (d->kind == COLUMN_IMAGE)
    return g_utf8_collate (ts_dataset_row_get_image (x), ts_dataset_row_get_image (y));
  u = column_value (d->self, d->kind, d->method, x);
  v = column_value (d->self, d->kind, d->method, y);
  if (isnan (u) || isnan (v))
    return isnan (u) - isnan (v);
  return (u > v) - (u < v);
}

static GtkColumnViewColumn *
add_column (TsDatasetWindow *self, const char *title, ColumnKind kind, const char *method)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  SortData *sd = g_new0 (SortData, 1);
  GtkCustomSorter *sorter;
  GtkColumnViewColumn *column;

  g_object_set_data (G_OBJECT (factory), "kind", GINT_TO_POINTER (kind));
  g_object_set_data_full (G_OBJECT (factory), "method", g_strdup (method), g_free);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), self);
  sd->self = self;
  sd->kind = kind;
  sd->method = g_strdup (method);
  sorter = gtk_custom_sorter_new (compare_rows_cb, sd, sort_data_free);
  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_sorter (column, GTK_SORTER (sorter));
  gtk_column_view_column_set_expand (column, kind == COLUMN_IMAGE);
  gtk_column_view_column_set_resizable (column, TRUE);
  gtk_column_view_append_column (self->table, column);
  g_object_unref (sorter);
  return column;
}

/* One "optimal ratio" column per method of the last run; the SSIM column's choices. */
static void
rebuild_columns (TsDatasetWindow *self)
{
  const char *const *methods = ts_dataset_model_get_methods (self->model);
  g_autoptr (GtkStringList) method_names = gtk_string_list_new (methods);
  g_autoptr (GtkStringList) ratio_names = gtk_string_list_new (NULL);
  guint n;
  const double *ratios = ts_dataset_model_get_ratios (self->model, &n);
  guint old_method = gtk_drop_down_get_selected (self->ssim_method_dropdown);
  guint old_ratio = gtk_drop_down_get_selected (self->ssim_ratio_dropdown);

  for (guint i = 0; i < self->method_columns->len; i++)
    gtk_column_view_remove_column (self->table, self->method_columns->pdata[i]);
  g_ptr_array_set_size (self->method_columns, 0);
  for (guint i = 0; methods[i]; i++)
    {
      g_autofree char *title = g_strdup_printf ("%s opt", methods[i]);
      g_autoptr (GtkColumnViewColumn) column = add_column (self, title, COLUMN_OPTIMAL, methods[i]);
      gtk_column_view_column_set_fixed_width (column, 96);
      g_ptr_array_add (self->method_columns, g_steal_pointer (&column));
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("at %g×", ratios[i]);
      gtk_string_list_append (ratio_names, text);
    }
  gtk_drop_down_set_model (self->ssim_method_dropdown, G_LIST_MODEL (method_names));
  gtk_drop_down_set_model (self->ssim_ratio_dropdown, G_LIST_MODEL (ratio_names));
  /* the SSIM column starts on the main window's method */
  if (self->parent && (old_method == GTK_INVALID_LIST_POSITION || old_method == 0))
    old_method = strv_index (methods, ts_document_get_method (ts_window_get_document (self->parent))->name);
  if (old_method != GTK_INVALID_LIST_POSITION && old_method < g_strv_length ((char **) methods))
    gtk_drop_down_set_selected (self->ssim_method_dropdown, old_method);
  /* default: 4x when swept */
  for (guint i = 0; i < n && (old_ratio == GTK_INVALID_LIST_POSITION || old_ratio >= n); i++)
    if (ratios[i] == 4)
      gtk_drop_down_set_selected (self->ssim_ratio_dropdown, i);
  if (old_ratio != GTK_INVALID_LIST_POSITION && old_ratio < n)
    gtk_drop_down_set_selected (self->ssim_ratio_dropdown, old_ratio);
}

/* The rows stay; their numbers were re-read (threshold, SSIM choice): redraw them. */
static void
refresh_table (TsDatasetWindow *self)
{
  GListModel *rows = ts_dataset_model_get_rows (self->model);
  GtkSorter *sorter = gtk_column_view_get_sorter (self->table);
  g_autoptr (GtkSortListModel) sorted = gtk_sort_list_model_new (g_object_ref (rows), sorter ? g_object_ref (sorter) : NULL);
  g_autofree char *title = NULL;

  title = ssim_method (self) && !isnan (ssim_ratio (self))
            ? g_strdup_printf ("SSIM %s %g×", ssim_method (self), ssim_ratio (self))
            : g_strdup ("SSIM");
  gtk_column_view_column_set_title (self->ssim_column, title);
  gtk_column_view_set_model (self->table, GTK_SELECTION_MODEL (gtk_single_selection_new (G_LIST_MODEL (g_steal_pointer (&sorted)))));
}

static void
show_results (TsDatasetWindow *self)
{
  JsonNode *summary = ts_dataset_model_get_summary (self->model);
  g_autofree char *text = ts_dataset_model_dup_recommendation (self->model);

  g_clear_pointer (&self->plot, ts_plot_free);
  if (summary)
    self->plot = ts_plot_new_from_summary (summary);
  gtk_label_set_label (self->recommendation_label, text);
  gtk_widget_queue_draw (GTK_WIDGET (self->plot_area));
  refresh_table (self);
}

/* -------------------------------------------------------------- callbacks */

static void
plot_draw_cb (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  TsDatasetWindow *self = data;
  /* below this width the figure's legend would be cut: draw it at this size, scaled down */
  const double min_width = 900; /* the CLI figure's width */
  double scale = MIN (1.0, width / min_width);

  if (self->plot == NULL)
    return;
  cairo_scale (cr, scale, scale);
  ts_plot_draw (self->plot, cr, width / scale, height / scale);
}

static void
progress_cb (TsDatasetModel *model, TsDatasetWindow *self)
{
  update_progress (self);
}

static void
finished_cb (TsDatasetModel *model, TsDatasetWindow *self)
{
  rebuild_columns (self);
  show_results (self);
  update_progress (self);
}

static void
threshold_changed_cb (GtkAdjustment *adjustment, TsDatasetWindow *self)
{
  ts_dataset_model_set_threshold (self->model, gtk_adjustment_get_value (adjustment));
  if (!ts_dataset_model_get_running (self->model))
    show_results (self);
}

static void
ssim_choice_cb (TsDatasetWindow *self)
{
  if (self->ssim_column && !ts_dataset_model_get_running (self->model))
    refresh_table (self);
}

static void
activate_cb (GtkColumnView *view, guint position, TsDatasetWindow *self)
{
  g_autoptr (TsDatasetRow) row = g_list_model_get_item (G_LIST_MODEL (gtk_column_view_get_model (view)), position);
  g_autoptr (GFile) file = NULL;

  if (row == NULL || self->parent == NULL)
    return;
  file = g_file_new_for_path (ts_dataset_row_get_path (row));
  ts_window_open_file (self->parent, file);
  gtk_window_present (GTK_WINDOW (self->parent));
}

static void
folder_response_cb (GtkNativeDialog *dialog, int response, TsDatasetWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (g_object_get_data (G_OBJECT (dialog), "output"))
        {
          g_free (self->out_dir);
          self->out_dir = g_steal_pointer (&path);
        }
      else if (path)
        ts_dataset_window_set_folder (self, path);
    }
  g_object_unref (dialog);
}

static void
choose_folder (TsDatasetWindow *self, const char *title, gboolean output)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Select",
                                                               "_Cancel");
  g_object_set_data (G_OBJECT (chooser), "output", GINT_TO_POINTER (output));
  g_signal_connect (chooser, "response", G_CALLBACK (folder_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
choose_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_folder (TS_DATASET_WINDOW (widget), "Choose a Folder to Analyse", FALSE);
}

static void
choose_output_action (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_folder (TS_DATASET_WINDOW (widget), "Choose the Output Folder", TRUE);
}

static void
run_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsDatasetWindow *self = TS_DATASET_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = g_strdup (self->out_dir);
  TsDatasetSetup setup;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) methods = NULL;
  double ratios[TS_SWEEP_MAX_RATIOS];
  int n_ratios = 0;

  ts_dataset_setup_init (&setup);
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->methods_box)); c; c = gtk_widget_get_next_sibling (c))
    if (gtk_check_button_get_active (GTK_CHECK_BUTTON (c)))
      g_strv_builder_add (builder, gtk_widget_get_name (c));
  methods = g_strv_builder_end (builder);
  if (methods[0] == NULL)
    {
      gtk_progress_bar_set_text (self->progress_bar, "Choose at least one method (Methods).");
      return;
    }
  if (!ts_ratio_list_parse (gtk_editable_get_text (GTK_EDITABLE (self->ratios_entry)), ratios, TS_SWEEP_MAX_RATIOS,
                            &n_ratios, &error))
    {
      g_autofree char *text = g_strdup_printf ("Ratios: %s", error->message);
      gtk_progress_bar_set_text (self->progress_bar, text);
      return;
    }
  setup.methods = (const char *const *) methods;
  setup.ratios = ratios;
  setup.n_ratios = n_ratios;
  if (self->parent)
    {
      TsDocument *doc = ts_window_get_document (self->parent);
      setup.resize.policy = ts_document_get_resize_policy (doc);
      setup.resize.size = ts_document_get_resize_size (doc);
      setup.patch = ts_document_get_patch (doc);
      setup.features = ts_document_get_feature_kind (doc) == TS_FEATURES_DESCRIPTOR ? TS_FEATURES_DESCRIPTOR
                                                                                    : TS_FEATURES_PIXEL;
    }
  if (out == NULL && (out = g_dir_make_tmp ("tokenscope-dataset-XXXXXX", &error)) == NULL)
    {
      gtk_progress_bar_set_text (self->progress_bar, error->message);
      return;
    }
  if (!ts_dataset_model_start (self->model, self->folder, out, &setup, &error))
    gtk_progress_bar_set_text (self->progress_bar, error->message);
  else
    update_progress (self);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  ts_dataset_model_cancel (TS_DATASET_WINDOW (widget)->model);
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, TsDatasetWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autofree char *lower = g_ascii_strdown (path ? path : "", -1);
      g_autoptr (GError) error = NULL;
      gboolean ok;

      if (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".svg") || g_str_has_suffix (lower, ".pdf"))
        ok = self->plot && ts_plot_save (self->plot, path, 900, 560, 1.0, &error);
      else
        ok = ts_dataset_model_export (self->model, path, &error);
      if (!ok)
        gtk_progress_bar_set_text (self->progress_bar, error ? error->message : "nothing to export yet");
    }
  g_object_unref (dialog);
}

static void
export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsDatasetWindow *self = TS_DATASET_WINDOW (widget);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new ("Export Summary", GTK_WINDOW (self),
                                                               GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "summary.json");
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* --------------------------------------------------------------- GObject */

static void
ts_dataset_window_dispose (GObject *object)
{
  TsDatasetWindow *self = TS_DATASET_WINDOW (object);

  if (self->model)
    {
      g_signal_handlers_disconnect_by_data (self->model, self);
      ts_dataset_model_cancel (self->model);
    }
  g_clear_object (&self->model);
  g_clear_pointer (&self->plot, ts_plot_free);
  g_clear_pointer (&self->method_columns, g_ptr_array_unref);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->out_dir, g_free);
  g_clear_weak_pointer (&self->parent);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_DATASET_WINDOW);
  G_OBJECT_CLASS (ts_dataset_window_parent_class)->dispose (object);
}

static void
ts_dataset_window_class_init (TsDatasetWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_dataset_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/tokenscope/TokenScope/ui/ts-dataset-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TsDatasetWindow, name)
  BIND (folder_label);
  BIND (threshold_adjustment);
  BIND (progress_bar);
  BIND (ssim_method_dropdown);
  BIND (ssim_ratio_dropdown);
  BIND (table);
  BIND (plot_area);
  BIND (recommendation_label);
  BIND (methods_button);
  BIND (methods_box);
  BIND (ratios_entry);
#undef BIND
  gtk_widget_class_install_action (widget_class, "dataset.choose-folder", NULL, choose_folder_action);
  gtk_widget_class_install_action (widget_class, "dataset.choose-output", NULL, choose_output_action);
  gtk_widget_class_install_action (widget_class, "dataset.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "dataset.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "dataset.export", NULL, export_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "dataset.choose-folder", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "dataset.run", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "dataset.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "dataset.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
ts_dataset_window_init (TsDatasetWindow *self)
{
  GtkColumnViewColumn *column;

  gtk_widget_init_template (GTK_WIDGET (self));
  {
    guint n;
    const TsMethod *const *all = ts_methods (&n);
    for (guint i = 0; i < n; i++)
      {
        GtkWidget *check;
        if (strcmp (all[i]->name, "downsample") == 0)
          continue; /* always swept, as the baseline */
        check = gtk_check_button_new_with_label (all[i]->label);
        gtk_widget_set_name (check, all[i]->name);
        gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
        gtk_box_append (self->methods_box, check);
      }
  }
  self->model = ts_dataset_model_new ();
  self->method_columns = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (self->model, "progress", G_CALLBACK (progress_cb), self);
  g_signal_connect (self->model, "finished", G_CALLBACK (finished_cb), self);
  g_signal_connect (self->threshold_adjustment, "value-changed", G_CALLBACK (threshold_changed_cb), self);
  g_signal_connect_swapped (self->ssim_method_dropdown, "notify::selected", G_CALLBACK (ssim_choice_cb), self);
  g_signal_connect_swapped (self->ssim_ratio_dropdown, "notify::selected", G_CALLBACK (ssim_choice_cb), self);
  g_signal_connect (self->table, "activate", G_CALLBACK (activate_cb), self);
  gtk_drawing_area_set_draw_func (self->plot_area, plot_draw_cb, self, NULL);
  column = add_column (self, "Image", COLUMN_IMAGE, NULL);
  gtk_column_view_column_set_fixed_width (column, 180);
  g_object_unref (column);
  g_object_unref (add_column (self, "Bits/token", COLUMN_BITS, NULL));
  self->ssim_column = add_column (self, "SSIM", COLUMN_SSIM, NULL);
  g_object_unref (self->ssim_column); /* the view holds it */
  refresh_table (self);
  update_progress (self);
  /* the widget positions, once laid out */
  ts_ui_state_write_later (GTK_WIDGET (self), write_dataset_state);
}

TsDatasetWindow *
ts_dataset_window_new (TsWindow *parent)
{
  TsDatasetWindow *self = g_object_new (TS_TYPE_DATASET_WINDOW, NULL);
  const char *path;

  if (parent)
    {
      g_set_weak_pointer (&self->parent, parent);
      gtk_window_set_application (GTK_WINDOW (self), gtk_window_get_application (GTK_WINDOW (parent)));
      path = ts_document_get_path (ts_window_get_document (parent));
      if (path)
        {
          g_autofree char *dir = g_file_test (path, G_FILE_TEST_IS_DIR) ? g_strdup (path) : g_path_get_dirname (path);
          ts_dataset_window_set_folder (self, dir);
        }
    }
  return self;
}

TsDatasetModel *
ts_dataset_window_get_model (TsDatasetWindow *self)
{
  return self->model;
}

void
ts_dataset_window_set_folder (TsDatasetWindow *self, const char *folder)
{
  g_autofree char *text = NULL;

  g_return_if_fail (TS_IS_DATASET_WINDOW (self));
  g_free (self->folder);
  self->folder = g_strdup (folder);
  text = g_strdup_printf ("Folder: %s", folder);
  gtk_label_set_label (self->folder_label, text);
  update_actions (self);
}
