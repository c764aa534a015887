/* The distinct keys among many rows, for the store summary's predictions:
 * a model is fitted and evaluated once per distinct customer summary
 * (a store has far fewer distinct (x, t_x, T) than customers), then the
 * values are spread back to the rows through a row -> key index.
 *
 * A key is up to three doubles compared by value (0.0 and -0.0 are one
 * key; keys must not be NaN). Keys are numbered in the order of their
 * first row, so the numbering depends only on the rows, never on a
 * thread count or on the memory layout. Not thread-safe: one table per
 * thread. */
#ifndef PD_METRICS_DISTINCT_KEYS_H
#define PD_METRICS_DISTINCT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/alloc.h>

/* The index of a row that has no key (pd_mx_key_fn returned 0). */
#define PD_MX_NO_KEY UINT32_MAX

typedef struct pd_mx_distinct {
  pd_allocator alloc;
  size_t m;      /* distinct keys so far */
  size_t cap;    /* keys room */
  double *keys;  /* 4 doubles a key: the key's 3 parts, then its rows */
  uint64_t *slots; /* open addressing: number + 1 << 32 | hash low half */
  size_t nslots;   /* a power of two, at least twice m */
} pd_mx_distinct;

/* Row i's key into k[0..3); returns 0 when the row has none. */
typedef int (*pd_mx_key_fn)(const void *ctx, size_t i, double k[3]);

/* An empty table using `alloc` (copied). Allocates nothing. */
void pd_mx_distinct_init(pd_mx_distinct *d, const pd_allocator *alloc);

/* Releases the table's memory; it is then empty and may be used again. */
void pd_mx_distinct_free(pd_mx_distinct *d);

/* Adds the keys of rows [0, n) and writes each row's key number to
 * index[i] (PD_MX_NO_KEY for a row without a key). Returns 0, or -1 when
 * memory runs out or the keys would number UINT32_MAX or more: the
 * table then holds the keys of some first rows, index[] is partly
 * written, and the caller should free the table. */
int pd_mx_distinct_index(pd_mx_distinct *d, size_t n, pd_mx_key_fn key,
                         const void *ctx, uint32_t *index);

/* Writes part `part` (0, 1, 2: the key's parts; 3: how many rows have the
 * key, as a double) of every key, in key number order, to out[0..m). */
void pd_mx_distinct_column(const pd_mx_distinct *d, int part, double *out);

#endif
