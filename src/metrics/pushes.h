/* A user's promotional pushes (pressure.h) in time order, and the rolling
 * windows of the contact caps over them: shared by contact checks,
 * marketing pressure, trust (self-orientation) and follow-up plans. */
#ifndef PD_METRICS_PUSHES_H
#define PD_METRICS_PUSHES_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/pressure.h>

#include "store/store_internal.h"

#define PD_MX_DAY 86400u
#define PD_MX_WEEK 604800u

typedef struct pd_mx_push {
  uint64_t eid; /* the event id, or, from pd_mx_pushes() and trust, the
                   column index; pd_mx_order_pushes() swaps in the event
                   ids of pushes tied in time only */
  uint32_t time;
  uint32_t channel;
} pd_mx_push;

/* A growable buffer owned by one metric call (freed with pd_mx_buf_free). */
typedef struct pd_mx_buf {
  void *p;
  size_t cap; /* in elements */
} pd_mx_buf;

/* Room for n elements of elem bytes; 0 or -1 (out of memory). */
int pd_mx_buf_reserve(pd_store *s, pd_mx_buf *b, size_t n, size_t elem);
void pd_mx_buf_free(pd_store *s, pd_mx_buf *b);

/* 1 if touch i is a push under the policy's definition. */
int pd_mx_is_push(const pd_st_touch *t, int posts);

/* The pushes of canonical `root` at or before t (guide != 0: only those
 * recorded with that guide) into b, sorted by (time, event id); *n their
 * number. PD_OK or PD_E_NOMEM (message set). */
pd_status pd_mx_pushes(pd_store *s, uint32_t root, uint32_t t, int posts,
                       uint32_t guide, pd_mx_buf *b, size_t *n);

/* Sort pushes by (time, event id). */
void pd_mx_sort_pushes(pd_mx_push *p, size_t n);

/* The same order, pressure.h's, for pushes whose eid holds their
 * touchpoint's column index: which of two pushes in the same second broke
 * a cap depends on which comes first. Only such ties are given their event
 * ids (a random read each); the others keep the index. Pushes gathered
 * newest first sort at little cost. */
void pd_mx_order_pushes(const pd_store *s, pd_mx_push *p, size_t n);

/* Of the sorted pushes p[0..n), how many with time > from broke the
 * policy's caps when sent (pressure.h). */
uint32_t pd_mx_over_cap(const pd_mx_push *p, size_t n,
                        const pd_contact_policy *pol, int64_t from);

/* A policy from the caller's pointer (NULL = defaults); checks size. */
pd_status pd_mx_policy_load(pd_store *s, const pd_contact_policy *in,
                            pd_contact_policy *out);

#endif
