/* cli.h: what the tokenscope-cli subcommands share.
 *
 * Each subcommand is a function taking its own argv (argv[0] is the
 * subcommand's name) and returning the exit status:
 *   0 ok, 1 usage error, 2 input error, 3 partial failure (dataset runs). */
#pragma once

#include <json-glib/json-glib.h>

#include "core.h"

G_BEGIN_DECLS

enum {
  TS_EXIT_OK = 0,
  TS_EXIT_USAGE = 1,
  TS_EXIT_INPUT = 2,
  TS_EXIT_PARTIAL = 3,
};

typedef int (*TsCliFunc) (int argc, char **argv);

typedef struct {
  const char *name;
  TsCliFunc func;
  const char *summary;
} TsCliCommand;

/* Options every image subcommand takes: how the image is loaded and gridded. */
typedef struct {
  char *resize;          /* native | fit | square | pad */
  int size;              /* S for fit/square/pad */
  int patch;
  double max_megapixels;
  int max_frames;        /* animations and frame folders */
  char *alpha;           /* white | checker */
} TsCliImageOptions;

void ts_cli_image_options_init (TsCliImageOptions *o);
void ts_cli_image_options_clear (TsCliImageOptions *o);
/* Adds --resize, --size, --patch, --max-megapixels, --alpha to @context. */
void ts_cli_add_image_options (GOptionContext *context, TsCliImageOptions *o);
/* The load options (--max-megapixels, --alpha) and the resize policy (--resize, --size,
 * checked against --patch) the user asked for; TS_ERROR_INVALID_ARGUMENT otherwise. */
gboolean ts_cli_load_options (const TsCliImageOptions *o, TsLoadOptions *load, GError **error);
gboolean ts_cli_resize_options (const TsCliImageOptions *o, TsResize *resize, GError **error);
/* Loads @path, resizes it and lays the grid. */
TsImage *ts_cli_load_image (const char *path, const TsCliImageOptions *o, TsGrid *grid,
                            GError **error);

/* The settings in force: defaults, or the file named by --settings FILE
 * anywhere on the command line (removed from argv by ts_cli_take_settings).
 * Subcommands start their option defaults from it, so flags override it. */
TsSettings *ts_cli_settings (void);
/* Strips --settings FILE / --settings=FILE from argv and loads the file;
 * warnings go to standard error. */
gboolean ts_cli_take_settings (int *argc, char **argv, GError **error);

/* Adds --method, --tokens, --ratio and every method option (--pool-mode,
 * --protected, --adjacent-only, --tome-r, --dominant, --rounds, --tau,
 * --detail, --entropy-threshold, --fill, --seed), writing into @s. */
void ts_cli_add_method_options (GOptionContext *context, TsSettings *s);

/* --model FILE [--family F] [--layer L] [--heads H] [--importance query|rollout|none]:
 * token features (and pruning importance) from a ViT the user has on disk. */
typedef struct {
  char *file;
  char *family;
  int layer;
  int heads;
  char *importance;
} TsCliModelOptions;

void ts_cli_model_options_init (TsCliModelOptions *m); /* defaults from the settings */
void ts_cli_model_options_clear (TsCliModelOptions *m);
/* Sets @m to its defaults (ts_cli_model_options_init) and adds its options to @context. */
void ts_cli_add_model_options (GOptionContext *context, TsCliModelOptions *m);
/* The ViT named by --model, or NULL without error when none was given. */
TsVit *ts_cli_load_model (const TsCliModelOptions *m, GError **error);
/* Loads @path and runs @vit on it: a scene of model features at the model's
 * patch size (resized by --resize/--size, default square at the model's
 * native size), with the chosen importance. */
TsScene *ts_cli_model_scene (const TsVit *vit, const TsCliModelOptions *m, const char *path,
                             const TsCliImageOptions *io, GCancellable *cancellable, GError **error);

/* A context with usage "SUBCOMMAND PARAMS", a summary and an examples text. */
GOptionContext *ts_cli_context (const char *command, const char *params, const char *summary,
                                const char *examples);
/* Parses; on failure prints the message and returns FALSE (exit with TS_EXIT_USAGE). */
gboolean ts_cli_parse (GOptionContext *context, int *argc, char ***argv);

/* The shared start of every subcommand: adds @entries (may be NULL) as the main
 * options, parses, and checks that min_args..max_args arguments (max -1: any
 * number) follow the subcommand's name. Returns TS_EXIT_OK, or prints the
 * problem (for a wrong count "tokenscope-cli COMMAND: @expects") and returns
 * TS_EXIT_USAGE. Add the option groups (image, model, method) first. */
int ts_cli_parse_args (GOptionContext *context, const GOptionEntry *entries, int *argc, char ***argv, int min_args,
                       int max_args, const char *expects);

/* Prints "tokenscope-cli: message" and returns the exit status for @error. */
int ts_cli_fail (const GError *error);
int ts_cli_usage (const char *command, const char *message);

/* Writes @root as pretty JSON to @dest ("-" = standard output, else atomically). */
gboolean ts_cli_write_json (JsonNode *root, const char *dest, GError **error);
/* A JSON number, or null for NaN and infinities (JSON has neither). */
void ts_json_add_double (JsonBuilder *b, const char *key, double v);

/* Subcommands. */
int ts_cli_compress (int argc, char **argv);
int ts_cli_attention (int argc, char **argv);
int ts_cli_budget (int argc, char **argv);
int ts_cli_entropy (int argc, char **argv);
int ts_cli_sweep (int argc, char **argv);
int ts_cli_vlm_tokens (int argc, char **argv);
int ts_cli_grid (int argc, char **argv);
int ts_cli_model (int argc, char **argv);
int ts_cli_quality (int argc, char **argv);
int ts_cli_report (int argc, char **argv);
int ts_cli_settings_cmd (int argc, char **argv);
int ts_cli_summarize (int argc, char **argv);
int ts_cli_dataset (int argc, char **argv);
int ts_cli_video (int argc, char **argv);

G_END_DECLS
