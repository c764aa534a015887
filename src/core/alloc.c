/* madvise is not in POSIX's base: ask glibc for its misc. extensions. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

static void *libc_malloc(void *user, size_t size) {
  (void)user;
  return malloc(size);
}

static void *libc_realloc(void *user, void *ptr, size_t size) {
  (void)user;
  return realloc(ptr, size);
}

static void libc_free(void *user, void *ptr) {
  (void)user;
  free(ptr);
}

int pd_alloc_init(pd_allocator *out, const pd_allocator *in) {
  if (in == NULL) {
    out->malloc_fn = libc_malloc;
    out->realloc_fn = libc_realloc;
    out->free_fn = libc_free;
    out->user = NULL;
    return 0;
  }
  if (!in->malloc_fn || !in->realloc_fn || !in->free_fn) return -1;
  *out = *in;
  return 0;
}

void *pd_malloc(const pd_allocator *a, size_t size) {
  return a->malloc_fn(a->user, size ? size : 1);
}

void *pd_calloc(const pd_allocator *a, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  size_t total = count * size;
  void *p = pd_malloc(a, total);
  if (p) memset(p, 0, total ? total : 1);
  return p;
}

void *pd_realloc_array(const pd_allocator *a, void *ptr, size_t count,
                       size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  size_t total = count * size;
  if (total == 0) total = 1;
  if (ptr == NULL) return a->malloc_fn(a->user, total);
  return a->realloc_fn(a->user, ptr, total);
}

void pd_free(const pd_allocator *a, void *ptr) {
  if (ptr) a->free_fn(a->user, ptr);
}

char *pd_strndup(const pd_allocator *a, const char *s, size_t len) {
  if (len == SIZE_MAX) return NULL;
  char *p = pd_malloc(a, len + 1);
  if (!p) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

void pd_advise_random_large(const pd_allocator *a, void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (a->malloc_fn != libc_malloc) return;
  if (p == NULL || bytes < ((size_t)32 << 20)) return;
  uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t to = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (to > from) (void)madvise((void *)from, (size_t)(to - from), MADV_HUGEPAGE);
#else
  (void)a, (void)p, (void)bytes;
#endif
}

int pd_grow(const pd_allocator *a, void **ptr, size_t *cap, size_t need,
            size_t elem_size) {
  if (need <= *cap) return 0;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2) return -1;
    ncap *= 2;
  }
  void *p = pd_realloc_array(a, *ptr, ncap, elem_size);
  if (!p) return -1;
  *ptr = p;
  *cap = ncap;
  return 0;
}
