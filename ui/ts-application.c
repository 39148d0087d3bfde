/* ts-application.c: application actions, shortcuts, about dialog. */
#include "ts-application.h"

#include <epoxy/gl.h>
#include <string.h>

#include <cblas.h>

#include "ts-canvas.h"
#include "ts-document.h"
#include "ts-window.h"

struct _TsApplication {
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (TsApplication, ts_application, GTK_TYPE_APPLICATION)

static TsWindow *
new_window (TsApplication *self)
{
  TsWindow *window = ts_window_new (GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
ts_application_activate (GApplication *app)
{
  TsWindow *window = new_window (TS_APPLICATION (app));
  g_autofree char *sample = ts_window_first_sample ();

  if (sample)
    ts_window_open_sample (window, sample);
}

static void
ts_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  for (int i = 0; i < n_files; i++)
    ts_window_open_file (new_window (TS_APPLICATION (app)), files[i]);
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkApplication *app = data;
  GList *windows = gtk_application_get_windows (app);

  /* close each window so it saves its settings */
  while (windows)
    {
      GtkWindow *w = windows->data;
      windows = windows->next;
      gtk_window_close (w);
    }
  g_application_quit (G_APPLICATION (app));
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  static const char *authors[] = { "The TokenScope contributors", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (data));

  gtk_show_about_dialog (parent,
                         "program-name", "TokenScope",
                         "logo-icon-name", "org.tokenscope.TokenScope",
                         "version", PACKAGE_VERSION,
                         "comments", "See how vision-language models spend tokens on an image, "
                                     "and how much each compression method keeps.",
                         "license-type", GTK_LICENSE_MIT_X11,
                         "authors", authors,
                         "website", "https://github.com/tokenscope/tokenscope",
                         NULL);
}

/* GTK 4.8 renders with OpenGL whenever it can make a context, also when
 * that OpenGL is Mesa's software rasteriser (virtual machines, remote X, no
 * GPU driver), which repaints the whole window on the CPU every frame: 170 ms
 * a frame on our test machine against 10 ms with GTK's Cairo renderer.
 * Unless the user chose one (GSK_RENDERER), a software OpenGL gets the Cairo
 * renderer. GTK reads GSK_RENDERER when the first window is realised. */
static void
choose_renderer (void)
{
  static const char *const software[] = { "llvmpipe", "softpipe", "Software Rasterizer", "SWR", NULL };
  GdkDisplay *display = gdk_display_get_default ();
  g_autoptr (GdkGLContext) context = NULL;
  const char *name;

  if (g_getenv ("GSK_RENDERER") != NULL || display == NULL)
    return;
  context = gdk_display_create_gl_context (display, NULL);
  if (context == NULL || !gdk_gl_context_realize (context, NULL))
    return; /* no OpenGL: GTK falls back to Cairo by itself */
  gdk_gl_context_make_current (context);
  name = (const char *) glGetString (GL_RENDERER);
  for (int i = 0; name != NULL && software[i]; i++)
    if (strstr (name, software[i]) != NULL)
      {
        g_debug ("OpenGL renders in software (%s): the Cairo renderer instead", name);
        g_setenv ("GSK_RENDERER", "cairo", FALSE);
        break;
      }
  gdk_gl_context_clear_current ();
}

static void
ts_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { .name = "quit", .activate = quit_activated },
    { .name = "about", .activate = about_activated },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (ts_application_parent_class)->startup (app);
  choose_renderer ();
  /* The window computes in several threads at once (the shown setting, its
   * quality, the curves, the budget options). With more than one OpenBLAS
   * thread, concurrent SGEMMs queue on OpenBLAS's one server lock, so the
   * setting the user just chose would wait for the curves' k-means; with one,
   * each caller computes in its own thread and the shown setting never waits. */
  openblas_set_num_threads (1);
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_window_set_default_icon_name ("org.tokenscope.TokenScope");
}

static void
ts_application_shutdown (GApplication *app)
{
  if (ts_frame_timings_enabled ())
    ts_canvas_report_timings ();
  /* the closed windows cancelled their work: let it stop before the process exits */
  if (!ts_document_wait_workers (3000))
    g_warning ("computations still running at exit");
  G_APPLICATION_CLASS (ts_application_parent_class)->shutdown (app);
}

static void
ts_application_class_init (TsApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = ts_application_activate;
  app_class->open = ts_application_open;
  app_class->startup = ts_application_startup;
  app_class->shutdown = ts_application_shutdown;
}

static void
ts_application_init (TsApplication *self)
{
}

TsApplication *
ts_application_new (void)
{
  /* NON_UNIQUE: each `tokenscope FILE` is its own process, so a crash or a
   * long computation in one never takes another's windows with it. */
  return g_object_new (TS_TYPE_APPLICATION,
                       "application-id", "org.tokenscope.TokenScope",
                       "resource-base-path", "/org/tokenscope/TokenScope",
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       NULL);
}
