/* The link cohort aggregate (aggregates.h): per (channel, cohort) the
 * cohort size and the observed and retained counts at each period, counted
 * exactly as pd_link_retention_compute() counts them (definitions in
 * retention_metrics.h), and the table made back from them. */
#include <string.h>

#include "aggregate_kinds.h"
#include "rows.h"

static uint64_t period_seconds(int32_t unit) {
  return unit == PD_COHORT_DAY    ? 86400u
         : unit == PD_COHORT_WEEK ? 7u * 86400u
                                  : 30u * 86400u;
}

/* 1 if one of spells [a, b) covers moment t. */
static int linked_at(const pd_mb_spell *v, size_t a, size_t b, uint64_t t) {
  for (size_t i = a; i < b && v[i].start <= t; i++)
    if (v[i].end == PD_ST_NIL || v[i].end > t) return 1;
  return 0;
}

static pd_status count(pd_mb_ctx *c, const pd_ag_spec *o, pd_mb_csr *links,
                       pd_mb_csr *unlinks, pd_mb_spells *sp, pd_mb_groups *g,
                       uint64_t **cnt, size_t *cnt_cap) {
  const pd_allocator *a = &c->s->alloc;
  uint64_t L = period_seconds(o->cohort_unit);
  size_t stride = pd_ag_cstride(o->periods);
  pd_status st = PD_OK;
  for (uint32_t r = 1; r < c->n && !st; r++) {
    if (!c->pass[r] || c->root_of[r] != r) continue;
    if ((st = pd_mb_spells_of(c, links, unlinks, r, o->channel, sp)) != PD_OK)
      break;
    const pd_mb_spell *v = sp->v;
    for (size_t i = 0; i < sp->n;) {
      size_t j = i;
      while (j < sp->n && v[j].channel == v[i].channel) j++;
      uint32_t first = v[i].start;
      int64_t cohort = pd_mb_cohort_start(o->cohort_unit, first);
      /* Cohorts start at most a few days before the first store time. */
      int64_t key = ((int64_t)v[i].channel << 36) | (cohort + (1LL << 35));
      uint32_t gi;
      if ((st = pd_mb_group(c, g, key, &gi)) != PD_OK) break;
      if ((size_t)(gi + 1) * stride > *cnt_cap) {
        size_t old = *cnt_cap;
        if (pd_grow(a, (void **)cnt, cnt_cap, (size_t)(gi + 1) * stride,
                    sizeof **cnt) != 0) {
          st = pd_mb_nomem(c);
          break;
        }
        memset(*cnt + old, 0, (*cnt_cap - old) * sizeof **cnt);
      }
      uint64_t *gc = *cnt + (size_t)gi * stride;
      gc[0]++;
      for (uint32_t k = 0; k <= o->periods; k++) {
        uint64_t t = first + k * L;
        if (t > c->f.as_of) break; /* censored from here on */
        gc[1 + k]++;
        gc[2 + o->periods + k] += (uint64_t)linked_at(v, i, j, t);
      }
      i = j;
    }
  }
  return st;
}

pd_status pd_ag_cohorts_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  const pd_allocator *a = &c->s->alloc;
  const pd_allocator *ga = &agg->alloc;
  size_t stride = pd_ag_cstride(agg->spec.periods);
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
  if (!st) st = count(c, &agg->spec, &links, &unlinks, &sp, &g, &cnt,
                      &cnt_cap);
  if (!st && !(order = pd_mb_groups_sorted(c, &g))) st = pd_mb_nomem(c);
  pd_ag_cgroup *out = NULL;
  if (!st && !(out = pd_calloc(ga, g.n + 1, sizeof *out))) st = pd_mb_nomem(c);
  size_t m = 0;
  for (; !st && m < g.n; m++) {
    int64_t key = g.keys[order[m]];
    out[m].channel = (int32_t)(key >> 36);
    out[m].cohort = (key & ((1LL << 36) - 1)) - (1LL << 35);
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
    const uint64_t *gc = agg->cg[q].cnt;
    for (uint32_t k = 0; k <= P; k++) {
      pd_link_retention_row *row = pd_mb_row(rows, q * per + k);
      row->channel = agg->cg[q].channel;
      row->cohort_start = agg->cg[q].cohort;
      row->period = k;
      row->cohort_size = gc[0];
      row->observed = gc[1 + k];
      row->retained = gc[2 + P + k];
      row->rate = pd_mb_ratio((double)row->retained, (double)row->observed);
    }
  }
  *out = rows;
  return PD_OK;
}
