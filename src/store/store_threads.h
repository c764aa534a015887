/* The thread count that metric computations use (store_threads.c). */
#ifndef PD_STORE_STORE_THREADS_H
#define PD_STORE_STORE_THREADS_H

#include <stdint.h>

#include "store/store_internal.h"

/* The store's setting resolved to a count >= 1 (0 = online processors).
 * Call with the store's lock held. */
int32_t pd_st_threads(const pd_store *s);

#endif
