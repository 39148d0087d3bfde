/* ts-image.h: decoding images and frame sequences into 8-bit RGB.
 *
 * Everything after loading works on TsImage: packed 8-bit RGB, rows of
 * 3 * width bytes, no padding. Greyscale sources are expanded to RGB; alpha is
 * composited over white (the default) or a light checkerboard, and the media
 * says which. Dimensions are checked with stbi_info before any pixel is
 * decoded, so a header that claims 100000 x 100000 costs nothing.
 *
 * Ownership: every function returning a pointer returns a new object the
 * caller frees with the matching _free (free of NULL is a no-op).
 * Thread safety: functions are reentrant; objects are not locked. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int width;
  int height;
  guint8 *data; /* RGB, 3 * width * height bytes */
} TsImage;

typedef enum {
  TS_ALPHA_OVER_WHITE,
  TS_ALPHA_OVER_CHECKER,
} TsAlphaBackground;

#define TS_DEFAULT_MAX_PIXELS ((guint64) 200000000) /* 200 megapixels a frame */
#define TS_DEFAULT_MAX_FRAMES 2000u
#define TS_DEFAULT_MAX_FILE_BYTES ((gsize) 1 << 30)  /* 1 GiB */

typedef struct {
  guint64 max_pixels;      /* a still image, or all frames of an animation or folder
                            * together; 0 = TS_DEFAULT_MAX_PIXELS */
  guint max_frames;        /* 0 = TS_DEFAULT_MAX_FRAMES */
  TsAlphaBackground alpha; /* where transparent pixels go */
} TsLoadOptions;

/* A still image (one frame) or an animation / frame folder (several). */
typedef struct {
  char *name;              /* display name of the source (file or folder) */
  char *format;            /* "png", "jpeg", "gif", "bmp", "tga", "pnm", "psd", "hdr", "pic", "folder" */
  guint n_frames;
  TsImage **frames;        /* n_frames images of equal size */
  int *delays_ms;          /* n_frames display delays; 0 when the source has none */
  int source_channels;     /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
  gboolean had_alpha;      /* some pixel was transparent and was composited over opts->alpha */
  TsAlphaBackground alpha;
} TsMedia;

TsImage *ts_image_new (int width, int height);   /* zero-filled; NULL for non-positive sizes */
TsImage *ts_image_copy (const TsImage *image);
void ts_image_free (TsImage *image);
gboolean ts_image_equal (const TsImage *a, const TsImage *b);
/* A copy of the w x h rectangle at (x, y); parts outside the image are filled with @fill (RGB). */
TsImage *ts_image_crop (const TsImage *image, int x, int y, int w, int h, const guint8 fill[3]);

/* Loads a file (any frame count). Errors: TS_ERROR_IO, TS_ERROR_BAD_DATA
 * (empty, truncated, corrupt or not an image), TS_ERROR_TOO_LARGE (the size
 * the header claims is over the limit: nothing is decoded). Truncation is
 * caught for every format, including those stb would silently pad with black
 * (BMP, TGA, PNM); a GIF cut inside a later frame keeps its complete frames,
 * as browsers show it, and one cut inside its first frame is refused. */
TsMedia *ts_media_load (const char *path, const TsLoadOptions *options, GError **error);
/* The same from memory; @name is used in messages. */
TsMedia *ts_media_load_from_memory (const guint8 *data, gsize len, const char *name,
                                    const TsLoadOptions *options, GError **error);
/* Every image in @folder (not recursive), sorted by name in natural order
 * (frame-9 before frame-10), as frames; all must share one size
 * (TS_ERROR_BAD_DATA naming the odd frame). Non-image files are skipped. */
TsMedia *ts_media_load_folder (const char *folder, const TsLoadOptions *options, GError **error);
/* A file or, when @path is a folder, its frames. */
TsMedia *ts_media_load_any (const char *path, const TsLoadOptions *options, GError **error);
void ts_media_free (TsMedia *media);

/* Convenience: the first frame of a file. */
TsImage *ts_image_load (const char *path, const TsLoadOptions *options, GError **error);

/* PNG encoding; ts_image_save_png writes atomically. */
GBytes *ts_image_encode_png (const TsImage *image);
gboolean ts_image_save_png (const TsImage *image, const char *path, GError **error);

/* Number of complete frames in a GIF stream, counted from its block structure
 * without decoding; -1 when the stream is not a GIF or holds no complete
 * frame. A missing trailer after complete frames still counts those frames;
 * a frame the data ends inside is not counted. */
int ts_gif_count_frames (const guint8 *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsImage, ts_image_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsMedia, ts_media_free)

G_END_DECLS
