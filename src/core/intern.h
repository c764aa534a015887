/* String interning: each distinct byte string gets a dense id 0, 1, 2, …
 * in order of first appearance. Strings are kept NUL-terminated in one
 * growing buffer; ids never change. Not thread-safe. */
#ifndef PD_CORE_INTERN_H
#define PD_CORE_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define PD_INTERN_NONE UINT32_MAX

typedef struct pd_intern {
  char *bytes;      /* all strings, each followed by NUL */
  size_t bytes_len, bytes_cap;
  uint64_t *offsets; /* id -> offset in bytes; offsets[count] = bytes_len */
  size_t count, offsets_cap;
  uint32_t *slots;   /* open addressing over ids, PD_INTERN_NONE = empty */
  size_t slots_cap;  /* 0 or a power of two */
} pd_intern;

void pd_intern_init(pd_intern *t);
void pd_intern_free(pd_intern *t, const pd_allocator *a);
/* Id of s, or PD_INTERN_NONE. */
uint32_t pd_intern_find(const pd_intern *t, const char *s, size_t len);
/* Id of s, adding it if new. Returns 0 and *id, or -1 on allocation
 * failure or when the table is full (table unchanged). */
int pd_intern_add(pd_intern *t, const pd_allocator *a, const char *s,
                  size_t len, uint32_t *id);
/* The string of id (NUL-terminated) and its length; id must be valid. */
const char *pd_intern_str(const pd_intern *t, uint32_t id, size_t *len);
size_t pd_intern_bytes(const pd_intern *t);

#endif
