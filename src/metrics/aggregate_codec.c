/* The stable serialised form of store aggregates (docs/FORMAT.md,
 * "Serialised store aggregates"): an envelope (core/envelope.h) around a
 * little-endian payload whose every rule the reader checks, so damaged or
 * forged bytes are refused rather than merged into a chain's figures. */
#include <stdio.h>
#include <string.h>

#include "aggregate_internal.h"
#include "link_cohorts.h"
#include "core/bytes.h"
#include "core/envelope.h"

static uint16_t env_kind(int32_t kind) {
  return kind == PD_AGGREGATE_FUNNEL          ? PD_AG_ENV_FUNNEL
         : kind == PD_AGGREGATE_LINK_COHORTS ? PD_AG_ENV_LINK_COHORTS
         : kind == PD_AGGREGATE_REPURCHASE   ? PD_AG_ENV_REPURCHASE
                                             : PD_AG_ENV_RFM;
}

static void put_common(pd_obuf *b, const pd_ag_spec *o) {
  pd_put64(b, (uint64_t)o->as_of);
  pd_put32(b, (uint32_t)o->f_channel);
  pd_put32(b, o->f_source);
  pd_put32(b, o->f_guide);
  pd_put32(b, o->f_shop);
  pd_put64(b, pd_ag_dbits(o->accuracy));
}

pd_status pd_aggregate_save(const pd_aggregate *g, pd_bytes **out) {
  if (!pd_ag_valid(g) || out == NULL) return PD_E_INVALID;
  pd_obuf b = {&g->alloc, NULL, 0, 0, 0};
  size_t start = pd_envelope_open(&b, env_kind(g->kind));
  const pd_ag_spec *o = &g->spec;
  put_common(&b, o);
  if (g->kind == PD_AGGREGATE_FUNNEL) {
    pd_put32(&b, (uint32_t)o->group_by);
    pd_put64(&b, (uint64_t)o->conversion_window);
    pd_put64(&b, pd_ag_dbits(o->model_clv));
    pd_put64(&b, (uint64_t)g->cost_all_channels);
    pd_put64(&b, g->nfg);
    for (size_t i = 0; i < g->nfg; i++) {
      const pd_ag_fgroup *x = &g->fg[i];
      pd_put64(&b, (uint64_t)x->key);
      pd_put64(&b, x->n.reached);
      pd_put64(&b, x->n.linked);
      pd_put64(&b, x->n.converted);
      pd_put64(&b, x->n.repeat);
      pd_put64(&b, x->n.referrers);
      pd_put64(&b, (uint64_t)x->n.revenue);
      pd_put64(&b, (uint64_t)x->n.cost);
      pd_put64(&b, x->n.days_seconds);
      pd_ag_sketch_put(&b, &x->days);
    }
  } else if (g->kind == PD_AGGREGATE_LINK_COHORTS) {
    pd_put32(&b, (uint32_t)o->cohort_unit);
    pd_put32(&b, o->periods);
    pd_put32(&b, (uint32_t)o->channel);
    pd_put64(&b, g->ncg);
    size_t stride = pd_mb_cohort_stride(o->periods);
    for (size_t i = 0; i < g->ncg; i++) {
      pd_put32(&b, (uint32_t)g->cg[i].channel);
      pd_put64(&b, (uint64_t)g->cg[i].cohort);
      for (size_t k = 0; k < stride; k++) pd_put64(&b, g->cg[i].cnt[k]);
    }
  } else if (g->kind == PD_AGGREGATE_REPURCHASE) {
    pd_put32(&b, (uint32_t)o->group_by);
    pd_put64(&b, g->nrg);
    for (size_t i = 0; i < g->nrg; i++) {
      const pd_ag_rgroup *x = &g->rg[i];
      pd_put64(&b, (uint64_t)x->key);
      pd_put64(&b, x->n.buyers);
      pd_put64(&b, x->n.repeat);
      pd_put64(&b, x->n.purchases);
      pd_put64(&b, x->n.intervals);
      pd_put64(&b, x->n.trend);
      pd_put64(&b, x->n.shortening);
      pd_put64(&b, (uint64_t)x->n.revenue);
      pd_put64(&b, (uint64_t)x->n.repeat_revenue);
      pd_put64(&b, x->n.interval_seconds);
      pd_ag_sketch_put(&b, &x->intervals_days);
    }
  } else {
    pd_put64(&b, g->buyers);
    pd_put64(&b, g->orders);
    pd_put64(&b, (uint64_t)g->revenue);
    for (int d = 0; d < 3; d++) pd_ag_sketch_put(&b, &g->rfm[d]);
  }
  pd_envelope_close(&b, start);
  if (pd_bytes_take(&b, out) != 0) {
    pd_free(&g->alloc, b.p);
    return PD_E_NOMEM;
  }
  return PD_OK;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct reader {
  pd_ibuf in;
  const char *why; /* set by a rule that fails */
  int nomem;
} reader;

static int fail(reader *r, const char *why) {
  if (!r->why) r->why = why;
  return -1;
}

/* 1 when the groups counts could fit in what is left, at min bytes each. */
static int room_for(reader *r, uint64_t n, size_t min) {
  return !r->in.bad && n <= pd_ileft(&r->in) / min;
}

static int read_sketch(reader *r, pd_aggregate *g, pd_ag_sketch *s) {
  const char *why = NULL;
  int rc = pd_ag_sketch_get(&g->alloc, &r->in, s, &why);
  if (rc == -2) {
    r->nomem = 1;
    return -1;
  }
  return rc ? fail(r, why) : 0;
}

static int read_funnel(reader *r, pd_aggregate *g) {
  pd_ibuf *in = &r->in;
  g->cost_all_channels = (int64_t)pd_get64(in);
  uint64_t n = pd_get64(in);
  /* A group is at least 72 bytes of counts and a 40-byte empty sketch. */
  if (!room_for(r, n, 112)) return fail(r, "funnel group count runs past the end");
  g->fg = pd_calloc(&g->alloc, (size_t)n + 1, sizeof *g->fg);
  if (!g->fg) {
    r->nomem = 1;
    return -1;
  }
  for (uint64_t i = 0; i < n; i++) {
    pd_ag_fgroup *x = &g->fg[i];
    x->key = (int64_t)pd_get64(in);
    x->n.reached = pd_get64(in);
    x->n.linked = pd_get64(in);
    x->n.converted = pd_get64(in);
    x->n.repeat = pd_get64(in);
    x->n.referrers = pd_get64(in);
    x->n.revenue = (int64_t)pd_get64(in);
    x->n.cost = (int64_t)pd_get64(in);
    x->n.days_seconds = pd_get64(in);
    if (read_sketch(r, g, &x->days)) return -1;
    g->nfg = (size_t)i + 1;
    if (i > 0 && x->key <= g->fg[i - 1].key)
      return fail(r, "funnel groups out of order");
    if (x->n.converted > x->n.linked || x->n.repeat > x->n.converted ||
        x->n.referrers > x->n.linked)
      return fail(r, "funnel counts inconsistent (converted > linked ...)");
    if (x->days.count != x->n.converted || x->days.neg.n != 0)
      return fail(r, "funnel days sketch does not match converted users");
    uint64_t most;
    if (!__builtin_mul_overflow((uint64_t)g->spec.conversion_window,
                                x->n.converted, &most) &&
        x->n.days_seconds > most)
      return fail(r, "funnel days sum exceeds the conversion window");
  }
  return 0;
}

static int read_cohorts(reader *r, pd_aggregate *g) {
  pd_ibuf *in = &r->in;
  uint64_t n = pd_get64(in);
  size_t stride = pd_mb_cohort_stride(g->spec.periods);
  if (!room_for(r, n, 12 + 8 * stride))
    return fail(r, "cohort count runs past the end");
  g->cg = pd_calloc(&g->alloc, (size_t)n + 1, sizeof *g->cg);
  if (!g->cg) {
    r->nomem = 1;
    return -1;
  }
  uint32_t P = g->spec.periods;
  for (uint64_t i = 0; i < n; i++) {
    pd_ag_cgroup *x = &g->cg[i];
    x->channel = (int32_t)pd_get32(in);
    x->cohort = (int64_t)pd_get64(in);
    if (!(x->cnt = pd_malloc(&g->alloc, stride * sizeof *x->cnt))) {
      r->nomem = 1;
      return -1;
    }
    g->ncg = (size_t)i + 1;
    for (size_t k = 0; k < stride; k++) x->cnt[k] = pd_get64(in);
    if (i > 0 && (x->channel < g->cg[i - 1].channel ||
                  (x->channel == g->cg[i - 1].channel &&
                   x->cohort <= g->cg[i - 1].cohort)))
      return fail(r, "cohorts out of order");
    if (x->channel < 0 || x->cohort < PD_TIME_MIN - 7 * 86400 ||
        x->cohort > PD_TIME_MAX)
      return fail(r, "cohort channel or start out of range");
    for (uint32_t k = 0; k <= P; k++)
      if (x->cnt[1 + k] > x->cnt[0] || x->cnt[2 + P + k] > x->cnt[1 + k])
        return fail(r, "cohort counts inconsistent (retained > observed ...)");
  }
  return 0;
}

static int read_repurchase(reader *r, pd_aggregate *g) {
  pd_ibuf *in = &r->in;
  uint64_t n = pd_get64(in);
  /* A group is at least 80 bytes of counts and a 40-byte empty sketch. */
  if (!room_for(r, n, 120))
    return fail(r, "repurchase group count runs past the end");
  g->rg = pd_calloc(&g->alloc, (size_t)n + 1, sizeof *g->rg);
  if (!g->rg) {
    r->nomem = 1;
    return -1;
  }
  for (uint64_t i = 0; i < n; i++) {
    pd_ag_rgroup *x = &g->rg[i];
    x->key = (int64_t)pd_get64(in);
    x->n.buyers = pd_get64(in);
    x->n.repeat = pd_get64(in);
    x->n.purchases = pd_get64(in);
    x->n.intervals = pd_get64(in);
    x->n.trend = pd_get64(in);
    x->n.shortening = pd_get64(in);
    x->n.revenue = (int64_t)pd_get64(in);
    x->n.repeat_revenue = (int64_t)pd_get64(in);
    x->n.interval_seconds = pd_get64(in);
    if (read_sketch(r, g, &x->intervals_days)) return -1;
    g->nrg = (size_t)i + 1;
    if (i > 0 && x->key <= g->rg[i - 1].key)
      return fail(r, "repurchase groups out of order");
    /* Each buyer has purchases - 1 intervals; repeat buyers >= 2. */
    if (x->n.repeat > x->n.buyers || x->n.purchases < x->n.buyers ||
        x->n.intervals != x->n.purchases - x->n.buyers ||
        x->n.intervals < x->n.repeat || x->n.trend > x->n.repeat ||
        x->n.shortening > x->n.trend)
      return fail(r, "repurchase counts inconsistent");
    if (x->intervals_days.count != x->n.intervals ||
        x->intervals_days.neg.n != 0)
      return fail(r, "repurchase interval sketch does not match intervals");
  }
  return 0;
}

static int read_rfm(reader *r, pd_aggregate *g) {
  pd_ibuf *in = &r->in;
  g->buyers = pd_get64(in);
  g->orders = pd_get64(in);
  g->revenue = (int64_t)pd_get64(in);
  for (int d = 0; d < 3; d++)
    if (read_sketch(r, g, &g->rfm[d])) return -1;
  for (int d = 0; d < 3; d++)
    if (g->rfm[d].count != g->buyers)
      return fail(r, "RFM sketch count differs from the buyers");
  if (g->rfm[0].neg.n || g->rfm[1].neg.n || g->rfm[1].zero ||
      g->orders < g->buyers)
    return fail(r, "RFM recency or frequency out of range");
  return 0;
}

static void put_err(char *buf, size_t cap, const char *what) {
  if (buf && cap) snprintf(buf, cap, "aggregate refused: %s", what);
}

pd_status pd_aggregate_load(const void *data, size_t len,
                            const pd_allocator *alloc, char *errbuf,
                            size_t errcap, pd_aggregate **out) {
  if (errbuf && errcap) errbuf[0] = 0;
  pd_allocator a;
  if (out == NULL || (data == NULL && len > 0) || pd_alloc_init(&a, alloc)) {
    put_err(errbuf, errcap, "out NULL, data NULL or allocator incomplete");
    return PD_E_INVALID;
  }
  const unsigned char *p = data;
  uint16_t ek = len >= 8 ? (uint16_t)(p[6] | p[7] << 8) : 0;
  if (ek < PD_AG_ENV_FUNNEL || ek > PD_AG_ENV_REPURCHASE)
    ek = PD_AG_ENV_FUNNEL;
  reader r = {{0}, NULL, 0};
  pd_envelope_check ec = pd_envelope_read(data, len, ek, &r.in);
  if (ec != PD_ENVELOPE_OK) {
    put_err(errbuf, errcap, pd_envelope_check_text(ec));
    return ec == PD_ENVELOPE_NEWER ? PD_E_VERSION : PD_E_CORRUPT;
  }
  int32_t kind = ek == PD_AG_ENV_FUNNEL          ? PD_AGGREGATE_FUNNEL
                 : ek == PD_AG_ENV_LINK_COHORTS ? PD_AGGREGATE_LINK_COHORTS
                 : ek == PD_AG_ENV_REPURCHASE   ? PD_AGGREGATE_REPURCHASE
                                                : PD_AGGREGATE_RFM;
  pd_ag_spec o;
  memset(&o, 0, sizeof o);
  o.as_of = (int64_t)pd_get64(&r.in);
  o.f_channel = (int32_t)pd_get32(&r.in);
  o.f_source = pd_get32(&r.in);
  o.f_guide = pd_get32(&r.in);
  o.f_shop = pd_get32(&r.in);
  o.accuracy = pd_ag_bitsd(pd_get64(&r.in));
  if (kind == PD_AGGREGATE_FUNNEL) {
    o.group_by = (int32_t)pd_get32(&r.in);
    o.conversion_window = (int64_t)pd_get64(&r.in);
    o.model_clv = pd_ag_bitsd(pd_get64(&r.in));
  } else if (kind == PD_AGGREGATE_LINK_COHORTS) {
    o.cohort_unit = (int32_t)pd_get32(&r.in);
    o.periods = pd_get32(&r.in);
    o.channel = (int32_t)pd_get32(&r.in);
  } else if (kind == PD_AGGREGATE_REPURCHASE) {
    o.group_by = (int32_t)pd_get32(&r.in);
  }
  const char *why = NULL;
  if (r.in.bad) {
    put_err(errbuf, errcap, "payload shorter than its header");
    return PD_E_CORRUPT;
  }
  if (o.as_of < PD_TIME_MIN || o.as_of > PD_TIME_MAX) why = "as_of out of range";
  if (!why) pd_ag_spec_ok(kind, &o, &why);
  if (why) {
    put_err(errbuf, errcap, why);
    return PD_E_CORRUPT;
  }
  pd_aggregate *g = pd_ag_new(&a, kind, &o);
  if (!g) {
    put_err(errbuf, errcap, "out of memory");
    return PD_E_NOMEM;
  }
  int rc = kind == PD_AGGREGATE_FUNNEL          ? read_funnel(&r, g)
           : kind == PD_AGGREGATE_LINK_COHORTS ? read_cohorts(&r, g)
           : kind == PD_AGGREGATE_REPURCHASE   ? read_repurchase(&r, g)
                                               : read_rfm(&r, g);
  if (!rc && (r.in.bad || pd_ileft(&r.in) != 0))
    rc = fail(&r, r.in.bad ? "payload shorter than its contents"
                           : "bytes left over after the payload");
  if (!rc && r.in.bad) rc = fail(&r, "payload shorter than its contents");
  if (rc) {
    pd_aggregate_free(g);
    if (r.nomem) {
      put_err(errbuf, errcap, "out of memory");
      return PD_E_NOMEM;
    }
    put_err(errbuf, errcap, r.why ? r.why : "payload shorter than its contents");
    return PD_E_CORRUPT;
  }
  *out = g;
  return PD_OK;
}
