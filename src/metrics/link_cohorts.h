/* The link cohort table that pd_link_retention_compute() (link_retention.c)
 * and the link cohort aggregate (aggregate_cohorts.c) both answer with:
 * per (channel, cohort) the cohort size and, at each period since linking,
 * how many were observed and how many were still linked. One definition,
 * so a merged aggregate answers what the figure answers on one store
 * (definitions in retention_metrics.h). */
#ifndef PD_METRICS_LINK_COHORTS_H
#define PD_METRICS_LINK_COHORTS_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/retention_metrics.h>

#include "population.h"

/* Seconds in one period of a PD_COHORT_* unit (a month counts 30 days). */
uint64_t pd_mb_period_seconds(int32_t unit);

/* Counters of one group: [0] cohort size, [1 + k] observed at period k,
 * [2 + periods + k] retained at period k, for k = 0 .. periods. */
static inline size_t pd_mb_cohort_stride(uint32_t periods) {
  return 1 + 2 * ((size_t)periods + 1);
}

/* Group keys sort by channel, then by cohort start; a week cohort can
 * start up to three days before the epoch, so starts are stored offset. */
#define PD_MB_COHORT_OFFSET (INT64_C(1) << 35)
static inline int64_t pd_mb_cohort_key(uint32_t channel, int64_t start) {
  return ((int64_t)channel << 36) | (start + PD_MB_COHORT_OFFSET);
}
static inline int32_t pd_mb_cohort_key_channel(int64_t key) {
  return (int32_t)(key >> 36);
}
static inline int64_t pd_mb_cohort_key_start(int64_t key) {
  return (key & ((INT64_C(1) << 36) - 1)) - PD_MB_COHORT_OFFSET;
}

/* Count every passing canonical user's first spell on each channel (or
 * only `channel`, if not 0) into its (channel, cohort) group of g, with
 * the group's counters at (*cnt)[gi * stride] (grown and zeroed as groups
 * appear). Periods start at the first link and are censored after
 * c->f.as_of. sp is the caller's spell workspace. PD_OK or PD_E_NOMEM. */
pd_status pd_mb_cohort_count(pd_mb_ctx *c, const pd_mb_csr *links,
                             const pd_mb_csr *unlinks, int32_t channel,
                             int32_t unit, uint32_t periods,
                             pd_mb_spells *sp, pd_mb_groups *g,
                             uint64_t **cnt, size_t *cnt_cap);

/* Rows first .. first + periods of a link retention table from one
 * group's counters gc. */
void pd_mb_cohort_rows(pd_rows *rows, size_t first, int32_t channel,
                       int64_t start, const uint64_t *gc, uint32_t periods);

#endif
