/* pd_aggregate_compute (aggregates.h): check the kind, spec and filter
 * under the store's lock, then let the kind's file count. */
#include <math.h>
#include <string.h>

#include <privdomain/aggregates.h>

#include "aggregate_kinds.h"

static const pd_aggregate_spec default_spec = PD_AGGREGATE_SPEC_INIT;
static const pd_funnel_options default_funnel = PD_FUNNEL_OPTIONS_INIT;
static const pd_link_retention_options default_retention =
    PD_LINK_RETENTION_OPTIONS_INIT;
static const pd_repurchase_options default_repurchase =
    PD_REPURCHASE_OPTIONS_INIT;

/* The kind's options from the spec into *o, checked as the figure's own
 * function checks them. Store lock held. */
static pd_status load_spec(pd_store *s, int32_t kind,
                           const pd_aggregate_spec *in, pd_ag_spec *o) {
  pd_status st = pd_mx_check_size(s, in, sizeof *in, "pd_aggregate_spec");
  if (st) return st;
  const pd_aggregate_spec *sp = in ? in : &default_spec;
  memset(o, 0, sizeof *o);
  o->accuracy = sp->accuracy == 0 ? PD_AGGREGATE_ACCURACY_DEFAULT
                                  : sp->accuracy;
  if (!(o->accuracy >= PD_AGGREGATE_ACCURACY_MIN &&
        o->accuracy <= PD_AGGREGATE_ACCURACY_MAX))
    return pd_err(&s->err, PD_E_INVALID,
                  "accuracy must be in [%g, %g] (0 = default)",
                  PD_AGGREGATE_ACCURACY_MIN, PD_AGGREGATE_ACCURACY_MAX);
  if (kind == PD_AGGREGATE_FUNNEL) {
    if ((st = pd_mx_check_size(s, sp->funnel, sizeof *sp->funnel,
                               "pd_funnel_options")))
      return st;
    const pd_funnel_options *f = sp->funnel ? sp->funnel : &default_funnel;
    if (!pd_mb_group_by_valid(f->group_by))
      return pd_err(&s->err, PD_E_INVALID, "group_by %d is not a PD_BY_*",
                    (int)f->group_by);
    if (f->conversion_window <= 0 || f->conversion_window > PD_TIME_MAX)
      return pd_err(&s->err, PD_E_INVALID,
                    "conversion_window must be > 0 seconds");
    if (!isfinite(f->model_clv) || f->model_clv < 0)
      return pd_err(&s->err, PD_E_INVALID,
                    "model_clv must be finite and >= 0");
    o->group_by = f->group_by;
    o->conversion_window = f->conversion_window;
    o->model_clv = f->model_clv;
  } else if (kind == PD_AGGREGATE_LINK_COHORTS) {
    if ((st = pd_mx_check_size(s, sp->link_retention,
                               sizeof *sp->link_retention,
                               "pd_link_retention_options")))
      return st;
    const pd_link_retention_options *r =
        sp->link_retention ? sp->link_retention : &default_retention;
    if (r->cohort_unit < PD_COHORT_DAY || r->cohort_unit > PD_COHORT_MONTH)
      return pd_err(&s->err, PD_E_INVALID,
                    "cohort_unit %d is not a PD_COHORT_*", (int)r->cohort_unit);
    if (r->periods < 1 || r->periods > 1000)
      return pd_err(&s->err, PD_E_INVALID, "periods %u is outside 1-1000",
                    (unsigned)r->periods);
    if (r->channel != 0 &&
        (st = pd_st_channel_check(s, r->channel, 0, "link cohorts")))
      return st;
    o->cohort_unit = r->cohort_unit;
    o->periods = r->periods;
    o->channel = r->channel;
  } else if (kind == PD_AGGREGATE_REPURCHASE) {
    if ((st = pd_mx_check_size(s, sp->repurchase, sizeof *sp->repurchase,
                               "pd_repurchase_options")))
      return st;
    const pd_repurchase_options *r =
        sp->repurchase ? sp->repurchase : &default_repurchase;
    if (!pd_mb_group_by_valid(r->group_by))
      return pd_err(&s->err, PD_E_INVALID, "group_by %d is not a PD_BY_*",
                    (int)r->group_by);
    o->group_by = r->group_by;
  }
  return PD_OK;
}

pd_status pd_aggregate_compute(pd_store *s, int32_t kind,
                               const pd_metrics_filter *filter,
                               const pd_aggregate_spec *spec,
                               pd_aggregate **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if (kind < PD_AGGREGATE_FUNNEL || kind > PD_AGGREGATE_REPURCHASE)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "kind %d is not a PD_AGGREGATE_*",
                                 (int)kind));
  pd_ag_spec o;
  if ((st = load_spec(s, kind, spec, &o))) return pd_st_leave(s, st);
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  o.as_of = c.f.as_of;
  o.f_channel = c.f.channel;
  o.f_source = c.f.source;
  o.f_guide = c.f.guide;
  o.f_shop = c.f.shop;
  pd_aggregate *g = pd_ag_new(&s->caller_alloc, kind, &o);
  if (!g) st = pd_mb_nomem(&c);
  if (!st)
    st = kind == PD_AGGREGATE_FUNNEL          ? pd_ag_funnel_compute(&c, g)
         : kind == PD_AGGREGATE_LINK_COHORTS ? pd_ag_cohorts_compute(&c, g)
         : kind == PD_AGGREGATE_REPURCHASE   ? pd_ag_repurchase_compute(&c, g)
                                             : pd_ag_rfm_compute(&c, g);
  pd_mb_ctx_free(&c);
  if (st)
    pd_aggregate_free(g);
  else
    *out = g;
  return pd_st_leave(s, st);
}

pd_status pd_ag_sketches_by_group(pd_mb_ctx *c, const pd_allocator *sa,
                                  const pd_mb_tagged *t, size_t groups,
                                  double accuracy, pd_ag_sketch *first,
                                  size_t stride) {
  const pd_allocator *a = &c->s->alloc;
  size_t *off = pd_calloc(a, groups + 2, sizeof *off);
  double *byg = pd_malloc(a, (t->n + 1) * sizeof *byg);
  pd_status st = PD_OK;
  if (!off || !byg) st = pd_mb_nomem(c);
  if (!st) {
    /* Counting sort of the values by group. */
    for (size_t i = 0; i < t->n; i++) off[t->tag[i] + 2]++;
    for (size_t g = 0; g < groups; g++) off[g + 2] += off[g + 1];
    for (size_t i = 0; i < t->n; i++) byg[off[t->tag[i] + 1]++] = t->val[i];
    for (size_t g = 0; g < groups && !st; g++) {
      size_t lo = g ? off[g] : 0;
      pd_ag_sketch *out = (pd_ag_sketch *)(void *)((char *)first + g * stride);
      if (pd_ag_sketch_build(sa, accuracy, byg + lo, off[g + 1] - lo, out) != 0)
        st = pd_mb_nomem(c);
    }
  }
  pd_free(a, off);
  pd_free(a, byg);
  return st;
}
