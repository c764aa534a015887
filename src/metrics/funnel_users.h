/* The funnel's counts by group, which the funnel figure (funnel.c) and
 * the funnel aggregate (aggregate_funnel.c) both make their rows from: one
 * definition, so a merged aggregate answers what the figure answers on
 * one store. */
#ifndef PD_METRICS_FUNNEL_USERS_H
#define PD_METRICS_FUNNEL_USERS_H

#include <stdint.h>

#include <privdomain/funnel.h>

#include "population.h"

/* The additive counts of one funnel group (funnel.h defines them). */
typedef struct pd_fu_counts {
  uint64_t reached, linked, converted, repeat, referrers;
  int64_t revenue, cost;
  uint64_t days_seconds; /* sum over converted users of the seconds from
                            first link to first purchase */
} pd_fu_counts;

/* The funnel's counts by group: every passing canonical user with an
 * acquisition link at or before c->f.as_of into its group of g under
 * `by` (groups numbered as met), then the reach and cost records the
 * filter keeps. On PD_OK (*v)[0 .. g->n] holds every group's counts (the
 * last zeroed), and days holds each converted user's days from link to
 * first purchase, tagged with the user's group. Under PD_BY_CHANNEL a cost
 * of no channel belongs to every channel row, so it goes to *every_channel
 * instead (whatever order the records came in). Reach and cost records
 * carry no guide, shop or cohort: those groupings, and guide or shop
 * filters, get none. PD_OK or PD_E_NOMEM. */
pd_status pd_fu_count(pd_mb_ctx *c, int32_t by, int64_t conversion_window,
                      pd_mb_groups *g, pd_fu_counts **v, size_t *cap,
                      pd_mb_tagged *days, int64_t *every_channel);

/* Fill a row of pd_funnel_compute()'s table from a group's counts: cost
 * is the group's own plus any cost of every channel, the days' median and
 * mean are the caller's (exact or from a sketch), and model_clv is the
 * option (0: revenue per linked user). */
void pd_fu_row(pd_funnel_row *row, int64_t key, const pd_fu_counts *x,
               int64_t cost, double days_median, double days_mean,
               double model_clv);

#endif
