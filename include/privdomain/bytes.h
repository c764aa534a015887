/*
 * libprivdomain — byte strings made by the library.
 *
 * Serialised aggregates (summary partials, cohort tables, funnel counts,
 * quantile sketches: see summary_partial.h and aggregates.h) are handed to
 * the caller as a pd_bytes: a read-only block of bytes the library
 * allocated with the allocator of the handle that made it. Copy the bytes
 * wherever they must go (a file, a socket, another process), then release
 * the block with pd_bytes_free().
 */
#ifndef PRIVDOMAIN_BYTES_H
#define PRIVDOMAIN_BYTES_H

#include <stddef.h>

#include "export.h"

PD_BEGIN_DECLS

/** A block of bytes owned by the library. Opaque. */
typedef struct pd_bytes pd_bytes;

/**
 * pd_bytes_data - the first byte of @b (NULL for a NULL @b). The memory is
 * owned by @b, read-only, and valid until pd_bytes_free(@b). Thread safety:
 * a pd_bytes is immutable: any number of threads may read it at once.
 */
PD_API const void *pd_bytes_data(const pd_bytes *b);

/** pd_bytes_size - the number of bytes in @b (0 for a NULL @b). */
PD_API size_t pd_bytes_size(const pd_bytes *b);

/**
 * pd_bytes_free - release @b. NULL is a no-op. The block was allocated by
 * the allocator of the handle that made it, whose `user` pointer must still
 * be valid; that handle itself may already have been freed.
 */
PD_API void pd_bytes_free(pd_bytes *b);

PD_END_DECLS

#endif /* PRIVDOMAIN_BYTES_H */
