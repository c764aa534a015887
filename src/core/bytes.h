/* Making a pd_bytes (include/privdomain/bytes.h) from an output buffer. */
#ifndef PD_CORE_BYTES_H
#define PD_CORE_BYTES_H

#include <privdomain/bytes.h>

#include "core/le_bytes.h"

/* Moves the contents of `b` into a new pd_bytes made with b->a (which must
 * point to an allocator that outlives the result's use): on success *out
 * owns the memory and `b` is left empty; returns -1 (out of memory, or
 * b->failed) and leaves `b` as it was otherwise. */
int pd_bytes_take(pd_obuf *b, pd_bytes **out);

#endif
