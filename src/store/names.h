/* Name tables with stable strings (channels, labels, guide codes,
 * identity namespaces): dense ids from 0 in order of first appearance,
 * each name kept as its own NUL-terminated copy so pointers handed to
 * callers stay valid until the store is freed. */
#ifndef PD_STORE_NAMES_H
#define PD_STORE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "store_internal.h"

#define PD_ST_NAME_NONE UINT32_MAX

void pd_st_names_free(pd_st_names *t, const pd_allocator *a);
/* Id of the name, or PD_ST_NAME_NONE. */
uint32_t pd_st_names_find(const pd_st_names *t, const char *s, size_t len);
/* Make sure one more name can be added by pd_st_names_add without failing.
 * Returns 0 or -1 (out of memory; the table is unchanged). */
int pd_st_names_reserve(pd_st_names *t, const pd_allocator *a);
/* Add a name not yet in the table; 0 and *id, or -1 (out of memory,
 * table unchanged). */
int pd_st_names_add(pd_st_names *t, const pd_allocator *a, const char *s,
                    size_t len, uint32_t *id);
/* Add a name from a NUL-terminated copy the table takes over (pd_strndup
 * on the table's allocator), after pd_st_names_reserve: cannot fail, so a
 * change logged to the journal is always made. */
void pd_st_names_add_copy(pd_st_names *t, char *copy, size_t len,
                          uint32_t *id);

#endif
