/* The aggregate handle's life and merging (aggregates.h): merging builds
 * the sum in new memory and swaps it in, so a failed merge leaves the
 * destination as it was. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate_internal.h"
#include "link_cohorts.h"
#include "core/checked.h"

pd_aggregate *pd_ag_new(const pd_allocator *a, int32_t kind,
                        const pd_ag_spec *spec) {
  pd_aggregate *g = pd_calloc(a, 1, sizeof *g);
  if (!g) return NULL;
  g->magic = PD_AG_MAGIC;
  g->kind = kind;
  g->alloc = *a;
  g->spec = *spec;
  return g;
}

int pd_ag_valid(const pd_aggregate *p) {
  return p != NULL && p->magic == PD_AG_MAGIC;
}

static void free_fgroups(const pd_allocator *a, void *groups, size_t n) {
  pd_ag_fgroup *v = groups;
  for (size_t i = 0; i < n; i++) pd_ag_sketch_free(a, &v[i].days);
  pd_free(a, v);
}

static void free_rgroups(const pd_allocator *a, void *groups, size_t n) {
  pd_ag_rgroup *v = groups;
  for (size_t i = 0; i < n; i++) pd_ag_sketch_free(a, &v[i].intervals_days);
  pd_free(a, v);
}

static void free_cgroups(const pd_allocator *a, pd_ag_cgroup *v, size_t n) {
  for (size_t i = 0; i < n; i++) pd_free(a, v[i].cnt);
  pd_free(a, v);
}

void pd_ag_clear(pd_aggregate *g) {
  free_fgroups(&g->alloc, g->fg, g->nfg);
  free_cgroups(&g->alloc, g->cg, g->ncg);
  free_rgroups(&g->alloc, g->rg, g->nrg);
  g->rg = NULL;
  g->nrg = 0;
  g->fg = NULL;
  g->cg = NULL;
  g->nfg = g->ncg = 0;
  for (int d = 0; d < 3; d++) pd_ag_sketch_free(&g->alloc, &g->rfm[d]);
}

void pd_aggregate_free(pd_aggregate *g) {
  if (!pd_ag_valid(g)) return;
  pd_allocator a = g->alloc;
  pd_ag_clear(g);
  g->magic = 0;
  pd_free(&a, g);
}

int32_t pd_aggregate_kind(const pd_aggregate *g) {
  return pd_ag_valid(g) ? g->kind : 0;
}

const char *pd_aggregate_errmsg(const pd_aggregate *g) {
  return pd_ag_valid(g) ? g->err.msg : "";
}

int pd_ag_spec_ok(int32_t kind, const pd_ag_spec *s, const char **why) {
  if (!(s->accuracy >= PD_AGGREGATE_ACCURACY_MIN &&
        s->accuracy <= PD_AGGREGATE_ACCURACY_MAX)) {
    *why = "accuracy outside [0.001, 0.2]";
    return 0;
  }
  if (kind == PD_AGGREGATE_REPURCHASE && !pd_ag_group_by_ok(s->group_by)) {
    *why = "group_by is not a PD_BY_*";
    return 0;
  }
  if (kind == PD_AGGREGATE_FUNNEL) {
    if (!pd_ag_group_by_ok(s->group_by)) {
      *why = "group_by is not a PD_BY_*";
      return 0;
    }
    if (s->conversion_window <= 0 || s->conversion_window > UINT32_MAX) {
      *why = "conversion_window must be > 0 seconds";
      return 0;
    }
    if (!(s->model_clv >= 0) || s->model_clv > 1e300) {
      *why = "model_clv must be finite and >= 0";
      return 0;
    }
  } else if (kind == PD_AGGREGATE_LINK_COHORTS) {
    if (s->cohort_unit < PD_COHORT_DAY || s->cohort_unit > PD_COHORT_MONTH) {
      *why = "cohort_unit is not a PD_COHORT_*";
      return 0;
    }
    if (s->periods < 1 || s->periods > 1000) {
      *why = "periods outside 1-1000";
      return 0;
    }
  }
  return 1;
}

/* Which part of two specs differ, or NULL when they are equal. */
static const char *spec_diff(int32_t kind, const pd_ag_spec *x,
                             const pd_ag_spec *y) {
  if (x->as_of != y->as_of) return "as_of";
  if (x->f_channel != y->f_channel || x->f_source != y->f_source ||
      x->f_guide != y->f_guide || x->f_shop != y->f_shop)
    return "filter";
  if (pd_ag_dbits(x->accuracy) != pd_ag_dbits(y->accuracy))
    return "sketch accuracy";
  if (kind == PD_AGGREGATE_FUNNEL &&
      (x->group_by != y->group_by ||
       x->conversion_window != y->conversion_window ||
       pd_ag_dbits(x->model_clv) != pd_ag_dbits(y->model_clv)))
    return "funnel options";
  if (kind == PD_AGGREGATE_REPURCHASE && x->group_by != y->group_by)
    return "repurchase options";
  if (kind == PD_AGGREGATE_LINK_COHORTS &&
      (x->cohort_unit != y->cohort_unit || x->periods != y->periods ||
       x->channel != y->channel))
    return "link retention options";
  return NULL;
}

/* ---- groups sorted by key ----------------------------------------------- */

/* The funnel and repurchase groups: an int64_t key first, sorted by it. */
typedef int (*group_sum_fn)(const pd_allocator *a, const void *x,
                            const void *y, void *r);
typedef void (*groups_free_fn)(const pd_allocator *a, void *v, size_t n);
_Static_assert(offsetof(pd_ag_fgroup, key) == 0, "funnel group key first");
_Static_assert(offsetof(pd_ag_rgroup, key) == 0, "repurchase group key first");

static int64_t group_key(const void *g) {
  int64_t k;
  memcpy(&k, g, sizeof k);
  return k;
}

static int group_key_cmp(const void *x, const void *y) {
  int64_t a = group_key(x), b = group_key(y);
  return (a > b) - (a < b);
}

void pd_ag_sort_groups(void *v, size_t n, size_t el) {
  if (n > 1) qsort(v, n, el, group_key_cmp);
}

/* The union of the key-sorted groups x[0..nx) and y[0..ny) (el bytes
 * each), groups of one key summed by sum(), into a new array *out of *n
 * groups. 0, -1 out of memory or -2 overflow, with nothing allocated. */
static int merge_groups(const pd_allocator *a, const char *x, size_t nx,
                        const char *y, size_t ny, size_t el,
                        group_sum_fn sum, groups_free_fn free_groups,
                        void **out, size_t *n) {
  char *v = pd_calloc(a, nx + ny ? nx + ny : 1, el);
  if (!v) return -1;
  size_t i = 0, j = 0, m = 0;
  int rc = 0;
  while (!rc && (i < nx || j < ny)) {
    const char *p = i < nx ? x + i * el : NULL;
    const char *q = j < ny ? y + j * el : NULL;
    if (p && q && group_key(p) != group_key(q)) {
      if (group_key(p) < group_key(q))
        q = NULL;
      else
        p = NULL;
    }
    i += p != NULL;
    j += q != NULL;
    if ((rc = sum(a, p, q, v + m * el)) == 0) m++;
  }
  if (rc) {
    free_groups(a, v, m);
    return rc;
  }
  *out = v;
  *n = m;
  return 0;
}

/* ---- funnel ------------------------------------------------------------ */

/* r = x + y (either may be NULL for an absent group); 0, -1 OOM, -2
 * overflow. A group_sum_fn. */
static int fgroup_sum(const pd_allocator *a, const void *gx, const void *gy,
                      void *gr) {
  static const pd_ag_fgroup none;
  const pd_ag_fgroup *x = gx, *y = gy;
  pd_ag_fgroup *r = gr;
  if (!x) x = &none;
  if (!y) y = &none;
  memset(r, 0, sizeof *r);
  r->key = x == &none ? y->key : x->key;
  const pd_fu_counts *p = &x->n, *q = &y->n;
  pd_fu_counts *t = &r->n;
  if (__builtin_add_overflow(p->reached, q->reached, &t->reached) ||
      __builtin_add_overflow(p->linked, q->linked, &t->linked) ||
      __builtin_add_overflow(p->converted, q->converted, &t->converted) ||
      __builtin_add_overflow(p->repeat, q->repeat, &t->repeat) ||
      __builtin_add_overflow(p->referrers, q->referrers, &t->referrers) ||
      __builtin_add_overflow(p->days_seconds, q->days_seconds,
                             &t->days_seconds) ||
      pd_add_i64(p->revenue, q->revenue, &t->revenue) ||
      pd_add_i64(p->cost, q->cost, &t->cost))
    return -2;
  return pd_ag_sketch_sum(a, &x->days, &y->days, &r->days);
}

static int merge_funnel(pd_aggregate *d, const pd_aggregate *s) {
  int64_t all;
  if (pd_add_i64(d->cost_all_channels, s->cost_all_channels, &all))
    return -2;
  void *v;
  size_t m;
  int rc = merge_groups(&d->alloc, (const char *)d->fg, d->nfg,
                        (const char *)s->fg, s->nfg, sizeof *d->fg,
                        fgroup_sum, free_fgroups, &v, &m);
  if (rc) return rc;
  free_fgroups(&d->alloc, d->fg, d->nfg);
  d->fg = v;
  d->nfg = m;
  d->cost_all_channels = all;
  return 0;
}

/* ---- link cohorts ---------------------------------------------------------- */

static int ckey_cmp(const pd_ag_cgroup *x, const pd_ag_cgroup *y) {
  if (x->channel != y->channel) return x->channel < y->channel ? -1 : 1;
  if (x->cohort != y->cohort) return x->cohort < y->cohort ? -1 : 1;
  return 0;
}

static int merge_cohorts(pd_aggregate *d, const pd_aggregate *s) {
  const pd_allocator *a = &d->alloc;
  size_t stride = pd_mb_cohort_stride(d->spec.periods);
  size_t cap = d->ncg + s->ncg;
  pd_ag_cgroup *v = pd_calloc(a, cap ? cap : 1, sizeof *v);
  if (!v) return -1;
  size_t i = 0, j = 0, m = 0;
  int rc = 0;
  while (!rc && (i < d->ncg || j < s->ncg)) {
    const pd_ag_cgroup *x = i < d->ncg ? &d->cg[i] : NULL;
    const pd_ag_cgroup *y = j < s->ncg ? &s->cg[j] : NULL;
    if (x && y) {
      int c = ckey_cmp(x, y);
      if (c < 0) y = NULL;
      if (c > 0) x = NULL;
    }
    i += x != NULL;
    j += y != NULL;
    const pd_ag_cgroup *k = x ? x : y;
    uint64_t *cnt = pd_malloc(a, stride * sizeof *cnt);
    if (!cnt) {
      rc = -1;
      break;
    }
    for (size_t t = 0; t < stride; t++) {
      uint64_t p = x ? x->cnt[t] : 0, q = y ? y->cnt[t] : 0;
      if (__builtin_add_overflow(p, q, &cnt[t])) rc = -2;
    }
    v[m].channel = k->channel;
    v[m].cohort = k->cohort;
    v[m++].cnt = cnt;
  }
  if (rc) {
    free_cgroups(a, v, m);
    return rc;
  }
  free_cgroups(a, d->cg, d->ncg);
  d->cg = v;
  d->ncg = m;
  return 0;
}

/* ---- repurchase ------------------------------------------------------- */

static int rgroup_sum(const pd_allocator *a, const void *gx, const void *gy,
                      void *gr) {
  static const pd_ag_rgroup none;
  const pd_ag_rgroup *x = gx, *y = gy;
  pd_ag_rgroup *r = gr;
  if (!x) x = &none;
  if (!y) y = &none;
  memset(r, 0, sizeof *r);
  r->key = x == &none ? y->key : x->key;
  const pd_rp_counts *p = &x->n, *q = &y->n;
  pd_rp_counts *t = &r->n;
  if (__builtin_add_overflow(p->buyers, q->buyers, &t->buyers) ||
      __builtin_add_overflow(p->repeat, q->repeat, &t->repeat) ||
      __builtin_add_overflow(p->purchases, q->purchases, &t->purchases) ||
      __builtin_add_overflow(p->intervals, q->intervals, &t->intervals) ||
      __builtin_add_overflow(p->trend, q->trend, &t->trend) ||
      __builtin_add_overflow(p->shortening, q->shortening, &t->shortening) ||
      __builtin_add_overflow(p->interval_seconds, q->interval_seconds,
                             &t->interval_seconds) ||
      pd_add_i64(p->revenue, q->revenue, &t->revenue) ||
      pd_add_i64(p->repeat_revenue, q->repeat_revenue, &t->repeat_revenue))
    return -2;
  return pd_ag_sketch_sum(a, &x->intervals_days, &y->intervals_days,
                          &r->intervals_days);
}

static int merge_repurchase(pd_aggregate *d, const pd_aggregate *s) {
  void *v;
  size_t m;
  int rc = merge_groups(&d->alloc, (const char *)d->rg, d->nrg,
                        (const char *)s->rg, s->nrg, sizeof *d->rg,
                        rgroup_sum, free_rgroups, &v, &m);
  if (rc) return rc;
  free_rgroups(&d->alloc, d->rg, d->nrg);
  d->rg = v;
  d->nrg = m;
  return 0;
}

/* ---- RFM --------------------------------------------------------------- */

static int merge_rfm(pd_aggregate *d, const pd_aggregate *s) {
  const pd_allocator *a = &d->alloc;
  uint64_t buyers, orders;
  int64_t revenue;
  if (__builtin_add_overflow(d->buyers, s->buyers, &buyers) ||
      __builtin_add_overflow(d->orders, s->orders, &orders) ||
      pd_add_i64(d->revenue, s->revenue, &revenue))
    return -2;
  pd_ag_sketch sum[3];
  int rc = 0, k = 0;
  for (; k < 3 && !rc; k++)
    rc = pd_ag_sketch_sum(a, &d->rfm[k], &s->rfm[k], &sum[k]);
  if (rc) {
    for (int t = 0; t < k - 1; t++) pd_ag_sketch_free(a, &sum[t]);
    return rc;
  }
  for (k = 0; k < 3; k++) {
    pd_ag_sketch_free(a, &d->rfm[k]);
    d->rfm[k] = sum[k];
  }
  d->buyers = buyers;
  d->orders = orders;
  d->revenue = revenue;
  return 0;
}

pd_status pd_aggregate_merge(pd_aggregate *d, const pd_aggregate *s) {
  if (!pd_ag_valid(d)) return PD_E_INVALID;
  if (!pd_ag_valid(s))
    return pd_err(&d->err, PD_E_INVALID, "src is not an aggregate");
  if (s == d)
    return pd_err(&d->err, PD_E_INVALID,
                  "an aggregate cannot be merged into itself");
  if (s->kind != d->kind)
    return pd_err(&d->err, PD_E_CONFLICT,
                  "cannot merge an aggregate of kind %d into one of kind %d",
                  (int)s->kind, (int)d->kind);
  const char *diff = spec_diff(d->kind, &d->spec, &s->spec);
  if (diff)
    return pd_err(&d->err, PD_E_CONFLICT,
                  "the aggregates were computed with different %s", diff);
  int rc = d->kind == PD_AGGREGATE_FUNNEL          ? merge_funnel(d, s)
           : d->kind == PD_AGGREGATE_LINK_COHORTS ? merge_cohorts(d, s)
           : d->kind == PD_AGGREGATE_REPURCHASE   ? merge_repurchase(d, s)
                                                  : merge_rfm(d, s);
  if (rc == -1)
    return pd_err(&d->err, PD_E_NOMEM, "out of memory merging aggregates");
  if (rc == -2)
    return pd_err(&d->err, PD_E_OVERFLOW,
                  "a merged count or sum leaves its integer range");
  pd_err_clear(&d->err);
  return PD_OK;
}
