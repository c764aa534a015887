/* The pd_aggregate handle (aggregates.h) shared by the files that compute,
 * merge, serialise and read it. Groups are kept sorted by key, so merging
 * is a sorted union and saving walks them in a fixed order. */
#ifndef PD_METRICS_AGGREGATE_INTERNAL_H
#define PD_METRICS_AGGREGATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/aggregates.h>

#include "aggregate_sketch.h"
#include "core/alloc.h"
#include "core/error.h"
#include "funnel_users.h"
#include "repurchase_buyers.h"

#define PD_AG_MAGIC 0x41474731u /* "AGG1" */

/* Envelope kinds (core/envelope.h; the store aggregates own 16..31). */
#define PD_AG_ENV_FUNNEL 16
#define PD_AG_ENV_LINK_COHORTS 17
#define PD_AG_ENV_RFM 18
#define PD_AG_ENV_REPURCHASE 19

/* What two aggregates must share to merge. */
typedef struct pd_ag_spec {
  int64_t as_of;
  int32_t f_channel;
  uint32_t f_source, f_guide, f_shop;
  double accuracy;
  /* funnel and repurchase */
  int32_t group_by;
  int64_t conversion_window;
  double model_clv;
  /* link cohorts */
  int32_t cohort_unit;
  uint32_t periods;
  int32_t channel;
} pd_ag_spec;

/* One funnel group. */
typedef struct pd_ag_fgroup {
  int64_t key;
  pd_fu_counts n;
  pd_ag_sketch days; /* days from first link to first purchase of the
                        converted users */
} pd_ag_fgroup;

/* One repurchase group. */
typedef struct pd_ag_rgroup {
  int64_t key;
  pd_rp_counts n;
  pd_ag_sketch intervals_days; /* every repurchase interval, in days */
} pd_ag_rgroup;

/* One (channel, cohort) of a link cohort table, its counters laid out as
 * link_cohorts.h says (pd_mb_cohort_stride() of them). */
typedef struct pd_ag_cgroup {
  int32_t channel;
  int64_t cohort;
  uint64_t *cnt;
} pd_ag_cgroup;

struct pd_aggregate {
  uint32_t magic;
  int32_t kind;
  pd_allocator alloc;
  pd_errbuf err;
  pd_ag_spec spec;
  /* PD_AGGREGATE_FUNNEL */
  pd_ag_fgroup *fg;
  size_t nfg;
  int64_t cost_all_channels; /* PD_BY_CHANNEL: costs of no channel, which
                                belong to every channel row */
  /* PD_AGGREGATE_LINK_COHORTS */
  pd_ag_cgroup *cg;
  size_t ncg;
  /* PD_AGGREGATE_RFM */
  uint64_t buyers, orders;
  int64_t revenue;
  pd_ag_sketch rfm[3]; /* recency, frequency, monetary */
  /* PD_AGGREGATE_REPURCHASE */
  pd_ag_rgroup *rg;
  size_t nrg;
};

/* Sort n funnel or repurchase groups (el bytes each) by key: the order
 * merging and the serialised form rely on. Keys are distinct. */
void pd_ag_sort_groups(void *v, size_t n, size_t el);

/* A new empty aggregate of a kind, or NULL out of memory. */
pd_aggregate *pd_ag_new(const pd_allocator *a, int32_t kind,
                        const pd_ag_spec *spec);
/* Free every group and sketch (not the handle). */
void pd_ag_clear(pd_aggregate *g);

/* 1 if p is a live aggregate. */
int pd_ag_valid(const pd_aggregate *p);

/* The checks of the spec both compute and load apply (message in *why). */
int pd_ag_spec_ok(int32_t kind, const pd_ag_spec *s, const char **why);

/* The funnel's group_by values, mirrored here because loading bytes has no
 * store to ask. */
static inline int pd_ag_group_by_ok(int32_t by) {
  return by >= PD_BY_ALL && by <= PD_BY_COHORT_MONTH;
}

#endif
