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

#endif
