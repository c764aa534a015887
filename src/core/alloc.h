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

#endif
