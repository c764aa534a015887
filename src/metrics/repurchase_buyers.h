/* The repurchase counts by group, which the repurchase figure
 * (repurchase.c) and the repurchase aggregate (aggregate_repurchase.c)
 * both make their rows from: one definition, so a merged aggregate
 * answers what the figure answers on one store (definitions in
 * repurchase.h). */
#ifndef PD_METRICS_REPURCHASE_BUYERS_H
#define PD_METRICS_REPURCHASE_BUYERS_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/repurchase.h>

#include "population.h"

/* The additive counts of one repurchase group. */
typedef struct pd_rp_counts {
  uint64_t buyers, repeat, purchases, intervals, trend, shortening;
  int64_t revenue, repeat_revenue;
  uint64_t interval_seconds; /* sum of every interval, seconds */
} pd_rp_counts;

/* Every passing canonical user with an order at or before c->f.as_of into
 * its group of g under `by` (groups numbered as met). On PD_OK
 * (*v)[0 .. g->n] holds every group's counts (the last zeroed) and
 * intervals holds every repurchase interval in days, tagged with the
 * buyer's group. PD_OK or PD_E_NOMEM. */
pd_status pd_rp_count(pd_mb_ctx *c, int32_t by, pd_mb_groups *g,
                      pd_rp_counts **v, size_t *cap, pd_mb_tagged *intervals);

/* Fill a row of pd_repurchase_compute()'s table from a group's counts and
 * the intervals' median and mean in days (exact or from a sketch). */
void pd_rp_row(pd_repurchase_row *row, int64_t key, const pd_rp_counts *x,
               double interval_median_days, double interval_mean_days);

#endif
