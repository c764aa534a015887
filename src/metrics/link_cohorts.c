/* The link cohort table shared by the retention figure and its aggregate
 * (see link_cohorts.h). */
#include "link_cohorts.h"

#include <string.h>

#include "rows.h"

uint64_t pd_mb_period_seconds(int32_t unit) {
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

pd_status pd_mb_cohort_count(pd_mb_ctx *c, const pd_mb_csr *links,
                             const pd_mb_csr *unlinks, int32_t channel,
                             int32_t unit, uint32_t periods,
                             pd_mb_spells *sp, pd_mb_groups *g,
                             uint64_t **cnt, size_t *cnt_cap) {
  uint64_t L = pd_mb_period_seconds(unit);
  size_t stride = pd_mb_cohort_stride(periods);
  pd_status st = PD_OK;
  for (uint32_t r = 1; r < c->n && !st; r++) {
    if (!c->pass[r] || c->root_of[r] != r) continue;
    if ((st = pd_mb_spells_of(c, links, unlinks, r, channel, sp)) != PD_OK)
      break;
    const pd_mb_spell *v = sp->v;
    for (size_t i = 0; i < sp->n;) {
      size_t j = i;
      while (j < sp->n && v[j].channel == v[i].channel) j++;
      uint32_t first = v[i].start;
      int64_t key = pd_mb_cohort_key(v[i].channel,
                                     pd_mb_cohort_start(unit, first));
      uint32_t gi;
      if ((st = pd_mb_group(c, g, key, &gi)) != PD_OK ||
          (st = pd_mb_grow_zeroed(c, (void **)cnt, cnt_cap,
                                  ((size_t)gi + 1) * stride, sizeof **cnt)))
        break;
      uint64_t *gc = *cnt + (size_t)gi * stride;
      gc[0]++;
      for (uint32_t k = 0; k <= periods; k++) {
        uint64_t t = first + k * L;
        if (t > c->f.as_of) break; /* censored from here on */
        gc[1 + k]++;
        gc[2 + periods + k] += (uint64_t)linked_at(v, i, j, t);
      }
      i = j;
    }
  }
  return st;
}

void pd_mb_cohort_rows(pd_rows *rows, size_t first, int32_t channel,
                       int64_t start, const uint64_t *gc, uint32_t periods) {
  for (uint32_t k = 0; k <= periods; k++) {
    pd_link_retention_row *row = pd_mb_row(rows, first + k);
    row->channel = channel;
    row->cohort_start = start;
    row->period = k;
    row->cohort_size = gc[0];
    row->observed = gc[1 + k];
    row->retained = gc[2 + periods + k];
    row->rate = pd_mb_ratio((double)row->retained, (double)row->observed);
  }
}
