/* What the funnel figure (funnel.c) and the funnel aggregate
 * (aggregate_funnel.c) know of each canonical user: one definition, so a
 * merged aggregate answers what the figure answers on one store. */
#ifndef PD_METRICS_FUNNEL_USERS_H
#define PD_METRICS_FUNNEL_USERS_H

#include <stdint.h>

#include "population.h"

typedef struct pd_fu_user {
  uint32_t link;        /* acquisition link index, NIL if never linked */
  uint32_t link_time;
  uint32_t first_order; /* first order time at or after the link, NIL */
  uint32_t orders;
  int64_t revenue;
  uint8_t referred;
} pd_fu_user;

/* The row key of a linked user under a PD_BY_* grouping. */
int64_t pd_fu_key(const pd_mb_ctx *c, int32_t by, uint32_t r,
                  const pd_fu_user *p);

/* Each passing user's acquisition link, orders (net revenue, first order
 * at or after the link) and whether they referred anyone, by column scans
 * into pu[0 .. c->n). */
pd_status pd_fu_gather(pd_mb_ctx *c, pd_fu_user *pu);

#endif
