/* ts-dataset.h: running an analysis over every image of a dataset.
 *
 * The list of images comes from a folder (recursive; PNG, JPEG, BMP, TGA,
 * GIF by extension; other files are skipped and counted) or a list file (one
 * path per line, relative to the list file; '#' starts a comment). It is
 * sorted, so every machine sees the same order, and can be cut into shards:
 * shard I of N (0 <= I < N) takes the images whose index % N == I.
 *
 * Results go to OUT/images.jsonl, one JSON object per image, appended the
 * moment the image finishes (one write() of a whole line): a killed run loses
 * at most the images in flight. Each record has "image" (the path relative to
 * the dataset root) and either the analysis fields or "error". With resume,
 * images already in the file are skipped; a torn last line is dropped first.
 *
 * Thread safety: ts_dataset_run calls @func from up to jobs worker threads at
 * once; @progress is called on the calling thread. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  GPtrArray *paths;     /* absolute or as given, char* */
  GPtrArray *keys;      /* relative to the root: the record's "image" */
  int skipped;          /* files that are not images */
} TsDatasetList;

TsDatasetList *ts_dataset_list (const char *dir_or_list, GCancellable *cancellable, GError **error);
void ts_dataset_list_free (TsDatasetList *list);
/* Keeps only shard @index of @count (TS_ERROR_INVALID_ARGUMENT unless 0 <= index < count). */
gboolean ts_dataset_list_shard (TsDatasetList *list, int index, int count, GError **error);
/* "I/N" -> index and count. */
gboolean ts_dataset_parse_shard (const char *text, int *index, int *count, GError **error);

/* Analyses one image; returns a JSON object node (the record's fields), or
 * NULL with @error set, which is recorded as the image's "error". */
typedef JsonNode *(*TsDatasetImageFunc) (const char *path, gpointer user_data, GCancellable *cancellable,
                                         GError **error);

typedef struct {
  int total;       /* images in this run (after shard and resume) */
  int done;        /* finished, with or without error */
  int failed;      /* finished with an error */
  int resumed;     /* skipped because already in images.jsonl */
  double elapsed;  /* seconds */
  const char *last; /* key of the last finished image */
} TsDatasetProgress;

typedef void (*TsDatasetProgressFunc) (const TsDatasetProgress *progress, gpointer user_data);

typedef struct {
  const char *out_dir;
  int jobs;            /* worker threads, >= 1 */
  gboolean resume;
} TsDatasetOptions;

/* Runs @func over @list, appending to out_dir/images.jsonl. Returns FALSE
 * only when the run itself cannot proceed (output not writable, cancelled);
 * per-image failures are counted in the final progress. @final (optional)
 * receives the final counts. */
gboolean ts_dataset_run (const TsDatasetList *list, const TsDatasetOptions *options, TsDatasetImageFunc func,
                         gpointer user_data, TsDatasetProgressFunc progress, gpointer progress_data,
                         GCancellable *cancellable, TsDatasetProgress *final, GError **error);

/* Reads every whole, valid line of a JSONL file (a torn or invalid line is
 * skipped and counted in @bad); returns an array of JsonNode (objects). */
GPtrArray *ts_dataset_read_jsonl (const char *path, int *bad, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsDatasetList, ts_dataset_list_free)

G_END_DECLS
