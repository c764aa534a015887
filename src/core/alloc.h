/* Internal allocation through a handle's pd_allocator, with overflow-checked
 * array helpers. Every allocation in the library goes through these so that
 * tests can fail any single allocation. */
#ifndef PD_CORE_ALLOC_H
#define PD_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/alloc.h>

/* The allocator a handle uses: `in` copied, or libc's when `in` is NULL.
 * Returns 0, or -1 if `in` is incomplete (a function pointer missing). */
int pd_alloc_init(pd_allocator *out, const pd_allocator *in);

void *pd_malloc(const pd_allocator *a, size_t size);
void *pd_calloc(const pd_allocator *a, size_t count, size_t size);
/* realloc that accepts ptr == NULL; returns NULL and leaves ptr valid on
 * failure, including when count * size overflows. */
void *pd_realloc_array(const pd_allocator *a, void *ptr, size_t count,
                       size_t size);
void pd_free(const pd_allocator *a, void *ptr);
/* A NUL-terminated copy of len bytes of s. */
char *pd_strndup(const pd_allocator *a, const char *s, size_t len);

/* Grow *ptr (an array of elem_size items with capacity *cap) so it can hold
 * at least `need` items, doubling. Returns 0, or -1 on overflow or
 * allocation failure with *ptr and *cap unchanged. */
int pd_grow(const pd_allocator *a, void **ptr, size_t *cap, size_t need,
            size_t elem_size);

/* Advise the system that [p, p + bytes) is read and written at random all
 * over, so that it may back it with huge pages (Linux: madvise
 * MADV_HUGEPAGE on the whole 2 MiB pages inside; elsewhere, and for blocks
 * under 32 MiB, nothing). Only advice: it changes no contents and cannot
 * fail. For a block that is then written whole (an index being built),
 * call it before writing so that the pages are huge from the start: a
 * random access then misses the TLB far less often. Memory from a
 * caller-supplied allocator is left alone: it may come from a pool or a
 * mapping whose owner decides how it is backed. */
void pd_advise_random_large(const pd_allocator *a, void *p, size_t bytes);

#endif
