/* Computing each kind of store aggregate (aggregates.h) from a store:
 * one function per kind, called with the store's lock held and the
 * population resolved; each fills the empty aggregate it is given. */
#ifndef PD_METRICS_AGGREGATE_KINDS_H
#define PD_METRICS_AGGREGATE_KINDS_H

#include "aggregate_internal.h"
#include "population.h"

pd_status pd_ag_funnel_compute(pd_mb_ctx *c, pd_aggregate *agg);
pd_status pd_ag_cohorts_compute(pd_mb_ctx *c, pd_aggregate *agg);
pd_status pd_ag_rfm_compute(pd_mb_ctx *c, pd_aggregate *agg);
pd_status pd_ag_repurchase_compute(pd_mb_ctx *c, pd_aggregate *agg);

/* Builds one sketch per group from tagged values (tag = group index <
 * groups): the sketch of group k is at (char *)first + k * stride, so a
 * kind passes the sketch field of its first group and its group size. */
pd_status pd_ag_sketches_by_group(pd_mb_ctx *c, const pd_allocator *sa,
                                  const pd_mb_tagged *t, size_t groups,
                                  double accuracy, pd_ag_sketch *first,
                                  size_t stride);

#endif
