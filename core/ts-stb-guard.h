/* ts-stb-guard.h: structural checks run before any byte reaches stb_image.
 *
 * Debian 12 ships stb_image 2.27 (libstb 0.0~git20220908) as a shared library,
 * so its decoders cannot be rebuilt or patched here. Fuzzing that library found
 * inputs that make it write or read out of bounds; this guard walks the file's
 * structure and refuses exactly those constructs (and the formats TokenScope
 * does not offer) with TS_ERROR_BAD_DATA / TS_ERROR_UNSUPPORTED before stb sees
 * them. Each check names the stb function it protects; tests/fuzz/corpus holds
 * the reproducers. Reentrant; reads @data only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @format is ts-image.c's sniffed format ("png", "jpeg", ... or NULL for no
 * signature); @name is used in messages. */
gboolean ts_stb_guard_check (const guint8 *data, gsize len, const char *format, const char *name,
                             GError **error);

/* A copy of the GIF @data (@len bytes) in which every graphic control
 * extension's "restore to previous" disposal (3) reads "restore to background"
 * (2): stbi__load_gif_main (2.27) points its previous-frame buffer before the
 * start of its allocation from the third frame on (heap read out of bounds).
 * Free with g_free. */
guint8 *ts_stb_guard_gif_copy (const guint8 *data, gsize len);

/* The width and height the header of a PNG, JPEG, GIF, BMP, PNM or TGA file
 * claims, read without stb (which refuses images over 2^30 bytes with only
 * "unknown image type"), so that a huge claim is reported as over the pixel
 * limit. FALSE when the header is too short or does not say. */
gboolean ts_stb_guard_header_size (const guint8 *data, gsize len, const char *format,
                                   guint64 *width, guint64 *height);

G_END_DECLS
