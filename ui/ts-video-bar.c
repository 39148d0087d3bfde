/* ts-video-bar.c: the clip controls under the canvas. See ts-video-bar.h. */
#include "ts-video-bar.h"

#include "ts-strip-render.h"

#define BUSY_RETRY_MS 15

struct _TsVideoBar {
  GtkWidget parent_instance;

  /* Template widgets */
  GtkButton *play_button;
  GtkScale *frame_scale;
  GtkAdjustment *frame_adjustment;
  GtkLabel *frame_label;
  GtkDropDown *mode_dropdown;
  GtkSpinButton *threshold_spin;
  GtkAdjustment *threshold_adjustment;
  GtkSpinButton *topk_spin;
  GtkAdjustment *topk_adjustment;
  GtkAdjustment *keyframe_adjustment;
  GtkCheckButton *changed_check;
  GtkDrawingArea *strip;
  GtkLabel *stats_label;

  /* Owned references */
  TsVideo *video;

  /* State */
  gulong video_handler;
  gulong doc_handler;
  gulong frame_handler;
  guint play_source;
  gboolean updating;
};

G_DEFINE_FINAL_TYPE (TsVideoBar, ts_video_bar, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SHOW_CHANGED,
  PROP_PLAYING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static TsDocument *
document_of (TsVideoBar *self)
{
  return self->video ? ts_video_get_document (self->video) : NULL;
}

static guint
n_frames (TsVideoBar *self)
{
  TsDocument *doc = document_of (self);
  return doc ? ts_document_get_n_frames (doc) : 0;
}

/* Everything shown, from the document and the video model. */
static void
sync_bar (TsVideoBar *self)
{
  TsDocument *doc = document_of (self);
  guint n = n_frames (self), frame = doc ? ts_document_get_frame (doc) : 0;
  const TsTemporalResult *r = self->video ? ts_video_get_result (self->video) : NULL;
  const TsTemporalOptions *o = self->video ? ts_video_get_options (self->video) : NULL;
  g_autofree char *frame_text = g_strdup_printf ("%u / %u", MIN (frame + 1, n), n);
  g_autofree char *stats = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self), n > 1);
  if (n < 2 && self->play_source)
    ts_video_bar_set_playing (self, FALSE);
  self->updating = TRUE;
  gtk_adjustment_set_upper (self->frame_adjustment, MAX (n, 1) - 1);
  gtk_adjustment_set_value (self->frame_adjustment, frame);
  gtk_label_set_label (self->frame_label, frame_text);
  if (o)
    {
      gtk_drop_down_set_selected (self->mode_dropdown, o->mode == TS_TEMPORAL_TOPK ? 1 : 0);
      gtk_adjustment_set_value (self->threshold_adjustment, o->threshold);
      gtk_adjustment_set_value (self->topk_adjustment, o->topk);
      gtk_adjustment_set_value (self->keyframe_adjustment, o->keyframe);
      gtk_widget_set_visible (GTK_WIDGET (self->threshold_spin), o->mode != TS_TEMPORAL_TOPK);
      gtk_widget_set_visible (GTK_WIDGET (self->topk_spin), o->mode == TS_TEMPORAL_TOPK);
    }
  self->updating = FALSE;
  if (r && frame < r->n_frames)
    {
      const TsTemporalFrame *f = &r->frames[frame];
      stats = g_strdup_printf ("Frame %u%s sends %d of %d tokens (%d changed). Clip: %" G_GINT64_FORMAT
                               " of %" G_GINT64_FORMAT " tokens, %.2f× compression; "
                               "decoder's view of this frame: SSIM %.3f",
                               frame + 1, f->keyframe ? " (keyframe)" : "", f->sent, r->grid.tokens, f->changed,
                               r->tokens_sent, r->tokens_total, r->clip_ratio, f->ssim);
    }
  else if (self->video && ts_video_get_busy (self->video))
    {
      guint done, total;
      ts_video_get_progress (self->video, &done, &total);
      stats = g_strdup_printf ("Measuring what changes between frames… %u of %u", done, total);
    }
  gtk_label_set_label (self->stats_label, stats ? stats : "");
  gtk_button_set_icon_name (self->play_button,
                            self->play_source ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  gtk_widget_queue_draw (GTK_WIDGET (self->strip));
}

static void
strip_draw_cb (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  TsVideoBar *self = data;
  const TsTemporalResult *r = self->video ? ts_video_get_result (self->video) : NULL;
  TsDocument *doc = document_of (self);
  g_autofree guint8 *keys = NULL;
  TsStrip strip = { 0 };
  guint n = 0;

  if (r == NULL)
    {
      /* while measuring: an empty strip with the current frame marked */
      strip.n_frames = n_frames (self);
      strip.tokens = (const int *) g_new0 (int, MAX (strip.n_frames, 1));
      strip.full = 1;
      strip.current = doc ? (int) ts_document_get_frame (doc) : -1;
      ts_strip_draw (&strip, cr, width, height);
      g_free ((gpointer) strip.tokens);
      return;
    }
  strip.tokens = ts_video_get_tokens_per_frame (self->video, &n);
  keys = g_new (guint8, n);
  for (guint i = 0; i < n; i++)
    keys[i] = r->frames[i].keyframe;
  strip.keyframes = keys;
  strip.n_frames = n;
  strip.full = r->grid.tokens;
  strip.current = (int) ts_document_get_frame (doc);
  ts_strip_draw (&strip, cr, width, height);
}

static void
strip_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, TsVideoBar *self)
{
  int frame = ts_strip_frame_at (n_frames (self), gtk_widget_get_width (GTK_WIDGET (self->strip)), x);

  if (frame >= 0)
    ts_document_set_frame (document_of (self), frame);
}

static void
frame_value_changed_cb (GtkAdjustment *adjustment, TsVideoBar *self)
{
  if (!self->updating && document_of (self))
    ts_document_set_frame (document_of (self), (guint) (gtk_adjustment_get_value (adjustment) + 0.5));
}

static void
options_changed_cb (TsVideoBar *self)
{
  TsTemporalOptions o;

  if (self->updating || self->video == NULL)
    return;
  o = *ts_video_get_options (self->video);
  o.mode = gtk_drop_down_get_selected (self->mode_dropdown) == 1 ? TS_TEMPORAL_TOPK : TS_TEMPORAL_THRESHOLD;
  o.threshold = gtk_adjustment_get_value (self->threshold_adjustment);
  o.topk = (int) gtk_adjustment_get_value (self->topk_adjustment);
  o.keyframe = (int) gtk_adjustment_get_value (self->keyframe_adjustment);
  ts_video_set_options (self->video, &o);
  sync_bar (self);
}

static void
changed_toggled_cb (TsVideoBar *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_CHANGED]);
}

static gboolean play_tick_cb (gpointer data);

static void
schedule_tick (TsVideoBar *self, guint ms)
{
  g_clear_handle_id (&self->play_source, g_source_remove);
  self->play_source = g_timeout_add (ms, play_tick_cb, self);
}

/* Next frame after the current one's delay; while the document still works
 * on the frame shown, wait for it, so every frame is seen. */
static gboolean
play_tick_cb (gpointer data)
{
  TsVideoBar *self = data;
  TsDocument *doc = document_of (self);
  guint n = n_frames (self), next;

  self->play_source = 0;
  if (doc == NULL || n < 2)
    {
      sync_bar (self);
      return G_SOURCE_REMOVE;
    }
  if (ts_document_get_busy (doc))
    {
      schedule_tick (self, BUSY_RETRY_MS);
      return G_SOURCE_REMOVE;
    }
  next = (ts_document_get_frame (doc) + 1) % n;
  ts_document_set_frame (doc, next);
  schedule_tick (self, ts_video_get_delay_ms (self->video, next));
  return G_SOURCE_REMOVE;
}

static void
play_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TsVideoBar *self = TS_VIDEO_BAR (widget);
  ts_video_bar_set_playing (self, self->play_source == 0);
}

static void
video_changed_cb (TsVideo *video, TsVideoBar *self)
{
  sync_bar (self);
}

static void
document_changed_cb (TsDocument *doc, guint what, TsVideoBar *self)
{
  if (what & TS_DOCUMENT_CHANGED_MEDIA)
    ts_video_bar_set_playing (self, FALSE);
  if (what & (TS_DOCUMENT_CHANGED_MEDIA | TS_DOCUMENT_CHANGED_SCENE))
    sync_bar (self);
}

static void
frame_notify_cb (TsDocument *doc, GParamSpec *pspec, TsVideoBar *self)
{
  sync_bar (self);
}

static void
disconnect_video (TsVideoBar *self)
{
  if (self->video == NULL)
    return;
  g_clear_signal_handler (&self->video_handler, self->video);
  g_clear_signal_handler (&self->doc_handler, ts_video_get_document (self->video));
  g_clear_signal_handler (&self->frame_handler, ts_video_get_document (self->video));
  g_clear_object (&self->video);
}

static void
ts_video_bar_dispose (GObject *object)
{
  TsVideoBar *self = TS_VIDEO_BAR (object);

  g_clear_handle_id (&self->play_source, g_source_remove);
  disconnect_video (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_VIDEO_BAR);
  /* the template's unnamed top box is not among the bound children */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (ts_video_bar_parent_class)->dispose (object);
}

static void
ts_video_bar_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsVideoBar *self = TS_VIDEO_BAR (object);

  switch (prop_id)
    {
    case PROP_SHOW_CHANGED: g_value_set_boolean (value, ts_video_bar_get_show_changed (self)); break;
    case PROP_PLAYING: g_value_set_boolean (value, self->play_source != 0); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_video_bar_class_init (TsVideoBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_video_bar_dispose;
  object_class->get_property = ts_video_bar_get_property;
  properties[PROP_SHOW_CHANGED] = g_param_spec_boolean ("show-changed", NULL, NULL, TRUE,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/tokenscope/TokenScope/ui/ts-video-bar.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "tsvideobar");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TsVideoBar, name)
  BIND (play_button);
  BIND (frame_scale);
  BIND (frame_adjustment);
  BIND (frame_label);
  BIND (mode_dropdown);
  BIND (threshold_spin);
  BIND (threshold_adjustment);
  BIND (topk_spin);
  BIND (topk_adjustment);
  BIND (keyframe_adjustment);
  BIND (changed_check);
  BIND (strip);
  BIND (stats_label);
#undef BIND
  gtk_widget_class_install_action (widget_class, "video.play", NULL, play_action);
}

static void
ts_video_bar_init (TsVideoBar *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (self->strip, strip_draw_cb, self, NULL);
  g_signal_connect (click, "pressed", G_CALLBACK (strip_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->strip), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (self->frame_adjustment, "value-changed", G_CALLBACK (frame_value_changed_cb), self);
  g_signal_connect_swapped (self->mode_dropdown, "notify::selected", G_CALLBACK (options_changed_cb), self);
  g_signal_connect_swapped (self->threshold_adjustment, "value-changed", G_CALLBACK (options_changed_cb), self);
  g_signal_connect_swapped (self->topk_adjustment, "value-changed", G_CALLBACK (options_changed_cb), self);
  g_signal_connect_swapped (self->keyframe_adjustment, "value-changed", G_CALLBACK (options_changed_cb), self);
  g_signal_connect_swapped (self->changed_check, "toggled", G_CALLBACK (changed_toggled_cb), self);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
ts_video_bar_new (void)
{
  return g_object_new (TS_TYPE_VIDEO_BAR, NULL);
}

void
ts_video_bar_set_video (TsVideoBar *self, TsVideo *video)
{
  TsDocument *doc;

  g_return_if_fail (TS_IS_VIDEO_BAR (self));
  disconnect_video (self);
  if (video == NULL)
    {
      sync_bar (self);
      return;
    }
  self->video = g_object_ref (video);
  doc = ts_video_get_document (video);
  self->video_handler = g_signal_connect (video, "changed", G_CALLBACK (video_changed_cb), self);
  self->doc_handler = g_signal_connect (doc, "changed", G_CALLBACK (document_changed_cb), self);
  self->frame_handler = g_signal_connect (doc, "notify::frame", G_CALLBACK (frame_notify_cb), self);
  sync_bar (self);
}

gboolean
ts_video_bar_get_show_changed (TsVideoBar *self)
{
  return gtk_check_button_get_active (self->changed_check);
}

gboolean
ts_video_bar_get_playing (TsVideoBar *self)
{
  return self->play_source != 0;
}

void
ts_video_bar_set_playing (TsVideoBar *self, gboolean playing)
{
  g_return_if_fail (TS_IS_VIDEO_BAR (self));
  if (playing == (self->play_source != 0))
    return;
  if (playing && n_frames (self) > 1)
    schedule_tick (self, ts_video_get_delay_ms (self->video, ts_document_get_frame (document_of (self))));
  else
    g_clear_handle_id (&self->play_source, g_source_remove);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
  sync_bar (self);
}
