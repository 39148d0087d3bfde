/* stb-impl.c: the stb decoders compiled into the fuzz binaries.
 *
 * The application links Debian's prebuilt libstb; the fuzzers compile the very
 * same headers (from /usr/include/stb, the source libstb is built from) here,
 * so libFuzzer sees coverage inside the decoders and ASan checks their memory
 * accesses. Only run-fuzz.sh uses this file. */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>
#include <stb_image_resize.h>
