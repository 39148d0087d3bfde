/* ts-alloc.h: large work matrices (internal).
 *
 * Matrices whose readers take a short piece of many rows at a time (a column
 * block of the Gram matrix, a column of greedy's group similarities) pay a
 * TLB miss a row on 4 kB pages; 2 MB pages hold hundreds of rows each. */
#pragma once

#include <glib.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#define TS_HUGE_PAGE ((gsize) 2 << 20)

/* @bytes of uninitialised memory, freed with free(). From 2 MB up it is
 * 2 MB aligned and, on Linux, advised onto huge pages (a hint: the kernel
 * may keep small ones). NULL when there is no memory. */
static inline void *
ts_alloc_large (gsize bytes)
{
  void *p = NULL;

  if (bytes < TS_HUGE_PAGE)
    return malloc (MAX (bytes, 1));
  bytes = (bytes + TS_HUGE_PAGE - 1) / TS_HUGE_PAGE * TS_HUGE_PAGE;
  if (posix_memalign (&p, TS_HUGE_PAGE, bytes) != 0)
    return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise (p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}
