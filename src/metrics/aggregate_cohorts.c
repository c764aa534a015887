/* The link cohort aggregate (aggregates.h): per (channel, cohort) the
 * cohort size and the observed and retained counts at each period, counted
 * exactly as pd_link_retention_compute() counts them (definitions in
 * retention_metrics.h), and the table made back from them. */
#include <string.h>

#include "aggregate_kinds.h"
#include "link_cohorts.h"
#include "rows.h"

pd_status pd_ag_cohorts_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  const pd_allocator *a = &c->s->alloc;
  const pd_allocator *ga = &agg->alloc;
  size_t stride = pd_mb_cohort_stride(agg->spec.periods);
  pd_mb_csr links = {0}, unlinks = {0};
  pd_mb_spells sp = {0};
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  uint64_t *cnt = NULL;
  size_t cnt_cap = 0;
  uint32_t *order = NULL;
  pd_status st = pd_mb_csr_build(c, PD_EV_LINK, c->f.as_of, NULL,
                                 &links);
  if (!st)
    st = pd_mb_csr_build(c, PD_EV_UNLINK, c->f.as_of, NULL, &unlinks);
  if (!st)
    st = pd_mb_cohort_count(c, &links, &unlinks, agg->spec.channel,
                            agg->spec.cohort_unit, agg->spec.periods, &sp,
                            &g, &cnt, &cnt_cap);
  if (!st && !(order = pd_mb_groups_sorted(c, &g))) st = pd_mb_nomem(c);
  pd_ag_cgroup *out = NULL;
  if (!st && !(out = pd_calloc(ga, g.n + 1, sizeof *out))) st = pd_mb_nomem(c);
  size_t m = 0;
  for (; !st && m < g.n; m++) {
    int64_t key = g.keys[order[m]];
    out[m].channel = pd_mb_cohort_key_channel(key);
    out[m].cohort = pd_mb_cohort_key_start(key);
    if (!(out[m].cnt = pd_malloc(ga, stride * sizeof *out[m].cnt))) {
      st = pd_mb_nomem(c);
      break;
    }
    memcpy(out[m].cnt, cnt + (size_t)order[m] * stride,
           stride * sizeof *cnt);
  }
  if (st && out) {
    for (size_t q = 0; q < m; q++) pd_free(ga, out[q].cnt);
    pd_free(ga, out);
  } else if (!st) {
    agg->cg = out;
    agg->ncg = g.n;
  }
  pd_free(a, order);
  pd_free(a, cnt);
  pd_mb_groups_free(c, &g);
  pd_mb_spells_free(c, &sp);
  pd_mb_csr_free(c, &links);
  pd_mb_csr_free(c, &unlinks);
  return st;
}

pd_status pd_aggregate_link_retention_rows(const pd_aggregate *agg,
                                           pd_rows **out) {
  if (!pd_ag_valid(agg) || out == NULL) return PD_E_INVALID;
  if (agg->kind != PD_AGGREGATE_LINK_COHORTS) return PD_E_MISUSE;
  uint32_t P = agg->spec.periods;
  size_t per = (size_t)P + 1;
  pd_rows *rows = pd_mb_rows_new(&agg->alloc, PD_MB_ROWS_LINK_RETENTION,
                                 sizeof(pd_link_retention_row),
                                 agg->ncg * per);
  if (!rows) return PD_E_NOMEM;
  for (size_t q = 0; q < agg->ncg; q++) {
    pd_mb_cohort_rows(rows, q * per, agg->cg[q].channel, agg->cg[q].cohort,
                      agg->cg[q].cnt, P);
  }
  *out = rows;
  return PD_OK;
}
