/*
 * libprivdomain — caller-supplied memory allocation.
 *
 * Every handle may be given its own allocator in its options; every byte
 * that handle allocates goes through it (nothing is process-wide). A NULL
 * allocator means the C library's malloc/realloc/free.
 */
#ifndef PRIVDOMAIN_ALLOC_H
#define PRIVDOMAIN_ALLOC_H

#include <stddef.h>

#include "export.h"

PD_BEGIN_DECLS

/**
 * A set of allocation functions with a context pointer.
 *
 * - malloc_fn(user, size): like malloc; size is never 0. NULL on failure.
 * - realloc_fn(user, ptr, size): like realloc; ptr is never NULL and size is
 *   never 0. On failure returns NULL and leaves ptr valid.
 * - free_fn(user, ptr): like free; ptr is never NULL.
 *
 * All three must be set. They must be safe to call from any thread: the
 * library may call them concurrently when a handle is shared by threads or
 * runs work on several threads.
 * The struct is copied when the handle is created; `user` must stay valid
 * until the handle is freed.
 */
typedef struct pd_allocator {
  void *(*malloc_fn)(void *user, size_t size);
  void *(*realloc_fn)(void *user, void *ptr, size_t size);
  void (*free_fn)(void *user, void *ptr);
  void *user;
} pd_allocator;

PD_END_DECLS

#endif /* PRIVDOMAIN_ALLOC_H */
