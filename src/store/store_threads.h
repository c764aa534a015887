/* The thread count that metric computations use (store_threads.c). */
#ifndef PD_STORE_STORE_THREADS_H
#define PD_STORE_STORE_THREADS_H

#include <stdint.h>

#include "store/store_internal.h"

/* The store's setting resolved to a count >= 1 (0 = online processors).
 * Call with the store's lock held. */
int32_t pd_st_threads(const pd_store *s);

/* A new table of cap zeroed 64-bit slots that lookups probe at random (a
 * hash index), or NULL: huge pages, cleared on the store's threads so
 * that its page faults are shared out (core/prefault.h's
 * pd_alloc_random_zeroed). Free with pd_free(&s->alloc, ...). Call with
 * the store's lock held. */
uint64_t *pd_st_alloc_slots(pd_store *s, size_t cap);

#endif
