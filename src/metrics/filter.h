/* The shared pd_metrics_filter (metrics.h) inside the metrics layer: check
 * it once, then match canonical users against it under the store's lock. */
#ifndef PD_METRICS_FILTER_H
#define PD_METRICS_FILTER_H

#include <stdint.h>

#include <privdomain/metrics.h>

#include "store/store_internal.h"

/* A checked filter. as_of is a valid store time (fits uint32). */
typedef struct pd_mx_filter {
  int32_t channel;
  uint32_t source, guide, shop;
  uint32_t as_of;
} pd_mx_filter;

/* Check `in` (size, trailing bytes, as_of, that the named channel, labels
 * and guide exist) and copy it to *out. Store lock held; on error the
 * store's message is set. */
pd_status pd_mx_filter_load(pd_store *s, const pd_metrics_filter *in,
                            pd_mx_filter *out);

/* Check an options struct's size like pd_st_check_size but for a struct
 * that may be NULL (NULL = use defaults: returns PD_OK). */
pd_status pd_mx_check_size(pd_store *s, const void *rec, size_t known,
                           const char *what);

/* Index of the user's acquisition link (earliest link at or before t over
 * the merge set, ties by smaller event id), or PD_ST_NIL. */
uint32_t pd_mx_first_link(const pd_store *s, uint32_t root, uint32_t t);

/* The home guide (metrics.h) of canonical `root` at t; first_link is
 * pd_mx_first_link(s, root, t). */
uint32_t pd_mx_home_guide(const pd_store *s, uint32_t root, uint32_t t,
                          uint32_t first_link);

/* The home shop of canonical `root` at t given its home guide. */
uint32_t pd_mx_home_shop(const pd_store *s, uint32_t root, uint32_t t,
                         uint32_t home_guide);

/* 1 if canonical, non-erased `root` passes f. */
int pd_mx_filter_match(const pd_store *s, const pd_mx_filter *f,
                       uint32_t root);

/* 1 if id u is a live canonical user (a survivor, not erased): the ids a
 * population figure walks. */
static inline int pd_mx_is_root(const pd_store *s, uint32_t u) {
  return s->users[u].parent == u &&
         !(s->users[u].flags & PD_ST_USER_ERASED);
}

#endif
