/* main.c: `tokenscope [FILE...]`, the GTK application. */
#include "ts-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (TsApplication) app = NULL;

  g_set_application_name ("TokenScope");
  app = ts_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
