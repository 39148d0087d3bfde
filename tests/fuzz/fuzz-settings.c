/* fuzz-settings: any bytes through ts_settings_parse. Whatever it accepts
 * must serialise again, and the serialised form must parse back to the same
 * JSON (a fixed point after one round). */
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ts-fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  TsSettings s, t;
  g_autofree char *json = NULL;
  g_autofree char *again = NULL;

  ts_settings_init (&s);
  if (!ts_settings_parse (&s, (const char *) data, (gssize) size, "fuzz.json", warnings, &error))
    {
      ts_fuzz_check_error (error, "fuzz.json");
      ts_settings_clear (&s);
      return 0;
    }
  json = ts_settings_to_json (&s);
  ts_settings_init (&t);
  if (!ts_settings_parse (&t, json, -1, "round-trip.json", NULL, &error))
    {
      fprintf (stderr, "fuzz-settings: accepted settings do not parse back: %s\n%s\n", error->message, json);
      abort ();
    }
  again = ts_settings_to_json (&t);
  if (strcmp (json, again) != 0)
    {
      fprintf (stderr, "fuzz-settings: round trip changed the settings:\n%s\n---\n%s\n", json, again);
      abort ();
    }
  ts_settings_clear (&t);
  ts_settings_clear (&s);
  return 0;
}
