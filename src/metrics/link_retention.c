/* Link retention (留存) by channel and cohort, Kaplan–Meier link survival,
 * and the cohort survivor curve the sBG model is fitted on. */
#include <string.h>

#include <privdomain/retention.h>
#include <privdomain/retention_metrics.h>
#include <privdomain/survival.h>

#include "core/radix_sort.h"
#include "link_cohorts.h"
#include "par.h"
#include "population.h"
#include "rows.h"

static const pd_link_retention_options default_opts =
    PD_LINK_RETENTION_OPTIONS_INIT;

/* Check the options (NULL = defaults) into *o. Store lock held. */
static pd_status load_opts(pd_store *s, const pd_link_retention_options *in,
                           pd_link_retention_options *o) {
  pd_status st = pd_mx_check_size(s, in, sizeof *in,
                                  "pd_link_retention_options");
  if (st) return st;
  *o = in ? *in : default_opts;
  if (o->cohort_unit < PD_COHORT_DAY || o->cohort_unit > PD_COHORT_MONTH)
    return pd_err(&s->err, PD_E_INVALID,
                  "cohort_unit %d is not a PD_COHORT_*", (int)o->cohort_unit);
  if (o->periods < 1 || o->periods > 1000)
    return pd_err(&s->err, PD_E_INVALID,
                  "periods %u is outside 1-1000", (unsigned)o->periods);
  if (o->channel != 0)
    return pd_st_channel_check(s, o->channel, 0, "link retention");
  return PD_OK;
}

/* Everything the three cohort figures need: the filter and each user's
 * links and unlinks. */
typedef struct spell_src {
  pd_mb_ctx c;
  pd_mb_csr links, unlinks;
  pd_mb_spells sp;
} spell_src;

static pd_status src_open(spell_src *x, pd_store *s,
                          const pd_metrics_filter *filter) {
  memset(x, 0, sizeof *x);
  pd_status st = pd_mb_ctx_init(&x->c, s, filter);
  if (st) return st;
  if ((st = pd_mb_csr_build(&x->c, PD_EV_LINK, x->c.f.as_of, NULL, &x->links)) ||
      (st = pd_mb_csr_build(&x->c, PD_EV_UNLINK, x->c.f.as_of, NULL, &x->unlinks))) {
    pd_mb_csr_free(&x->c, &x->links);
    pd_mb_ctx_free(&x->c);
  }
  return st;
}

static void src_close(spell_src *x) {
  pd_mb_spells_free(&x->c, &x->sp);
  pd_mb_csr_free(&x->c, &x->links);
  pd_mb_csr_free(&x->c, &x->unlinks);
  pd_mb_ctx_free(&x->c);
}

/* ---- cohort table ------------------------------------------------------ */

static pd_status retention_table(spell_src *x,
                                 const pd_link_retention_options *o,
                                 pd_rows **out) {
  pd_mb_ctx *c = &x->c;
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  size_t stride = pd_mb_cohort_stride(o->periods);
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  uint64_t *cnt = NULL;
  size_t cnt_cap = 0;
  uint32_t *order = NULL;
  pd_rows *rows = NULL;
  pd_status st = pd_mb_cohort_count(c, &x->links, &x->unlinks, o->channel,
                                    o->cohort_unit, o->periods, &x->sp, &g,
                                    &cnt, &cnt_cap);
  if (!st && !(order = pd_mb_groups_sorted(c, &g))) st = pd_mb_nomem(c);
  size_t per = (size_t)o->periods + 1;
  if (!st && !(rows = pd_mb_rows_new(&s->caller_alloc,
                                     PD_MB_ROWS_LINK_RETENTION,
                                     sizeof(pd_link_retention_row),
                                     g.n * per)))
    st = pd_mb_nomem(c);
  for (size_t q = 0; !st && q < g.n; q++) {
    int64_t key = g.keys[order[q]];
    pd_mb_cohort_rows(rows, q * per, pd_mb_cohort_key_channel(key),
                      pd_mb_cohort_key_start(key),
                      cnt + (size_t)order[q] * stride, o->periods);
  }
  pd_free(a, order);
  pd_free(a, cnt);
  pd_mb_groups_free(c, &g);
  if (!st) *out = rows;
  return st;
}

pd_status pd_link_retention_compute(pd_store *s,
                                    const pd_metrics_filter *filter,
                                    const pd_link_retention_options *opts,
                                    pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  pd_link_retention_options o;
  spell_src x;
  if ((st = load_opts(s, opts, &o)) != PD_OK ||
      (st = src_open(&x, s, filter)) != PD_OK)
    return pd_st_leave(s, st);
  st = retention_table(&x, &o, out);
  src_close(&x);
  return pd_st_leave(s, st);
}

pd_status pd_link_retention_row_get(const pd_rows *rows, size_t i,
                                    pd_link_retention_row *out) {
  return pd_mb_rows_get(rows, PD_MB_ROWS_LINK_RETENTION, i, out);
}

/* ---- Kaplan–Meier ------------------------------------------------------ */

/* The first spell of root on `channel` (0 = its acquisition channel) into
 * sp, or NULL. Reads the store only when sp has room for root's links and
 * unlinks (km_run reserves it). */
static const pd_mb_spell *first_spell(spell_src *x, pd_mb_spells *sp,
                                      uint32_t r, int32_t channel,
                                      pd_status *st) {
  pd_mb_ctx *c = &x->c;
  *st = PD_OK;
  if (x->links.off[r] == x->links.off[r + 1]) return NULL;
  if (channel == 0)
    channel = pd_st_links(c->s)[pd_mb_key_index(x->links.key[x->links.off[r]])]
                  .channel;
  if ((*st = pd_mb_spells_of(c, &x->links, &x->unlinks, r, channel, sp)) !=
      PD_OK)
    return NULL;
  return sp->n ? &sp->v[0] : NULL;
}

/* Each user's first spell, in parallel blocks of users (par.h): user r's
 * duration in seconds and event flag go to key[r] as one word, packed in
 * user order afterwards and sorted, so the sample is the same for every
 * thread count and pd_km_estimate finds it in order. Sorting whole seconds
 * (33-bit words) takes half the radix passes of sorting the durations in
 * days, whose doubles use all 64 bits. */
typedef struct km_job {
  spell_src *x;
  int32_t channel;
  uint64_t *key;     /* [n users]: seconds << 1 | event, or NO_SPELL */
  pd_mb_spells *sp;  /* [threads], reserved for the longest history */
} km_job;

#define NO_SPELL UINT64_MAX

/* Users ahead whose link records a pass prefetches (population.h). */
enum { KM_PF = 8 };

static void km_block(void *p, size_t b, int32_t worker) {
  const km_job *j = p;
  spell_src *x = j->x;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, x->c.n, &lo, &hi);
  for (uint32_t r = lo; r < hi; r++) {
    if (r + KM_PF < hi)
      pd_mb_spells_prefetch(&x->c, &x->links, &x->unlinks, r + KM_PF);
    j->key[r] = NO_SPELL;
    if (r == 0 || !x->c.pass[r] || x->c.root_of[r] != r) continue;
    pd_status st;
    const pd_mb_spell *sp = first_spell(x, &j->sp[worker], r, j->channel,
                                        &st);
    if (!sp) continue; /* st is PD_OK: the room was reserved */
    uint32_t end = sp->end == PD_ST_NIL ? x->c.f.as_of : sp->end;
    int event = sp->end != PD_ST_NIL && pd_mb_user_initiated(sp->initiator);
    j->key[r] = (uint64_t)(end - sp->start) << 1 | (uint64_t)event;
  }
}

/* The sample of first spells, in order of duration: *n durations (days)
 * in *dur, which takes j->key's place (km_free frees it), and their event
 * flags in a new array *ev (the store's allocator; the caller frees it).
 * PD_OK or PD_E_NOMEM (message set). */
static pd_status km_run(spell_src *x, km_job *j, double **dur, int32_t **ev,
                        size_t *n) {
  pd_mb_ctx *c = &x->c;
  const pd_allocator *a = &c->s->alloc;
  int32_t threads = c->threads;
  size_t most = 0;
  for (uint32_t r = 0; r < c->n; r++) {
    size_t k = (size_t)(x->links.off[r + 1] - x->links.off[r]) +
               (x->unlinks.off[r + 1] - x->unlinks.off[r]);
    if (k > most) most = k;
  }
  j->key = pd_malloc(a, ((size_t)c->n + 1) * sizeof *j->key);
  j->sp = pd_calloc(a, (size_t)threads, sizeof *j->sp);
  if (!j->key || !j->sp) return pd_mb_nomem(c);
  for (int32_t k = 0; k < threads; k++)
    if (pd_grow(a, (void **)&j->sp[k].refs, &j->sp[k].refs_cap, 2 * most + 1,
                sizeof *j->sp[k].refs) != 0 ||
        pd_grow(a, (void **)&j->sp[k].v, &j->sp[k].cap, most + 1,
                sizeof *j->sp[k].v) != 0)
      return pd_mb_nomem(c);
  pd_parallel_for_workers(threads, pd_mx_blocks(c->n, PD_MX_USER_BLOCK),
                          km_block, j);
  size_t m = 0;
  for (uint32_t r = 0; r < c->n; r++)
    if (j->key[r] != NO_SPELL) j->key[m++] = j->key[r];
  if (pd_radix_sort_u64(a, j->key, NULL, m) != 0 ||
      !(*ev = pd_malloc(a, (m ? m : 1) * sizeof **ev)))
    return pd_mb_nomem(c);
  /* The durations take the keys' place, one word each. */
  for (size_t i = 0; i < m; i++) {
    uint64_t k = j->key[i];
    double d = (double)(k >> 1) / PD_MB_DAY;
    (*ev)[i] = (int32_t)(k & 1);
    memcpy(&j->key[i], &d, sizeof d);
  }
  *dur = (double *)(void *)j->key;
  *n = m;
  return PD_OK;
}

static void km_free(spell_src *x, km_job *j) {
  const pd_allocator *a = &x->c.s->alloc;
  if (j->sp)
    for (int32_t k = 0; k < x->c.threads; k++)
      pd_mb_spells_free(&x->c, &j->sp[k]);
  pd_free(a, j->sp);
  pd_free(a, j->key);
}

pd_status pd_link_survival_km(pd_store *s, const pd_metrics_filter *filter,
                              int32_t channel, pd_km *km) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (km == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "km is NULL"));
  if (channel != 0 &&
      (st = pd_st_channel_check(s, channel, 0, "link survival")) != PD_OK)
    return pd_st_leave(s, st);
  spell_src x;
  if ((st = src_open(&x, s, filter)) != PD_OK) return pd_st_leave(s, st);
  km_job j;
  memset(&j, 0, sizeof j);
  j.x = &x;
  j.channel = channel;
  double *dur = NULL;
  int32_t *ev = NULL;
  size_t n = 0;
  st = km_run(&x, &j, &dur, &ev, &n);
  if (!st && n == 0)
    st = pd_err(&s->err, PD_E_INVALID,
                "no link passes the filter: nothing to estimate from");
  if (!st) {
    st = pd_km_estimate(km, dur, ev, NULL, n);
    if (st)
      pd_err(&s->err, st, "Kaplan-Meier estimate failed: %s",
             pd_km_errmsg(km));
  }
  pd_free(&s->alloc, ev);
  km_free(&x, &j);
  src_close(&x);
  return pd_st_leave(s, st);
}

/* ---- sBG survivors ------------------------------------------------------- */

/* survivors of the cohort into a new array *curve of *n values. */
static pd_status cohort_curve(spell_src *x,
                              const pd_link_retention_options *o,
                              int64_t from, int64_t to, uint64_t **curve,
                              size_t *n) {
  pd_mb_ctx *c = &x->c;
  pd_store *s = c->s;
  uint64_t L = pd_mb_period_seconds(o->cohort_unit);
  uint64_t *cnt = pd_calloc(&s->alloc, (size_t)o->periods + 1, sizeof *cnt);
  if (!cnt) return pd_mb_nomem(c);
  uint32_t kmax = o->periods;
  uint64_t members = 0;
  pd_status st = PD_OK;
  for (uint32_t r = 1; r < c->n; r++) {
    if (!c->pass[r] || c->root_of[r] != r) continue;
    if ((st = pd_mb_spells_of(c, &x->links, &x->unlinks, r, o->channel,
                              &x->sp)) != PD_OK)
      break;
    const pd_mb_spell *v = x->sp.v;
    for (size_t i = 0; i < x->sp.n;) {
      size_t j = i;
      while (j < x->sp.n && v[j].channel == v[i].channel) j++;
      const pd_mb_spell *p = &v[i];
      i = j;
      if (p->start < from || p->start >= to) continue;
      members++;
      uint64_t seen = (c->f.as_of - p->start) / L;
      if (seen < kmax) kmax = (uint32_t)seen;
      for (uint32_t k = 0; k <= o->periods; k++) {
        if (p->end != PD_ST_NIL && p->end <= p->start + k * L) break;
        cnt[k]++;
      }
    }
  }
  if (!st && members == 0)
    st = pd_err(&s->err, PD_E_INVALID,
                "no link passing the filter starts in the cohort");
  if (st) {
    pd_free(&s->alloc, cnt);
    return st;
  }
  *curve = cnt;
  *n = (size_t)kmax + 1;
  return PD_OK;
}

static pd_status cohort_args(pd_store *s, int64_t from, int64_t to) {
  pd_status st;
  if ((st = pd_st_check_time(s, from, "cohort_from")) ||
      (st = pd_st_check_time(s, to, "cohort_to")))
    return st;
  if (to <= from)
    return pd_err(&s->err, PD_E_INVALID,
                  "cohort_to must be after cohort_from");
  return PD_OK;
}

pd_status pd_link_cohort_survivors(pd_store *s,
                                   const pd_metrics_filter *filter,
                                   const pd_link_retention_options *opts,
                                   int64_t from, int64_t to,
                                   double *survivors, size_t cap,
                                   size_t *n) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (survivors == NULL || n == NULL || cap == 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "survivors or n is NULL, or cap is 0"));
  pd_link_retention_options o;
  spell_src x;
  if ((st = load_opts(s, opts, &o)) || (st = cohort_args(s, from, to)) ||
      (st = src_open(&x, s, filter)))
    return pd_st_leave(s, st);
  uint64_t *curve = NULL;
  size_t len = 0;
  st = cohort_curve(&x, &o, from, to, &curve, &len);
  if (!st && len > cap)
    st = pd_err(&s->err, PD_E_RANGE,
                "the survivor curve has %zu points; cap is %zu", len, cap);
  if (!st) {
    for (size_t k = 0; k < len; k++) survivors[k] = (double)curve[k];
    *n = len;
  }
  pd_free(&s->alloc, curve);
  src_close(&x);
  return pd_st_leave(s, st);
}

pd_status pd_link_retention_fit_sbg(pd_store *s,
                                    const pd_metrics_filter *filter,
                                    const pd_link_retention_options *opts,
                                    int64_t from, int64_t to, pd_fit *fit) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (fit == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "fit is NULL"));
  pd_link_retention_options o;
  spell_src x;
  if ((st = load_opts(s, opts, &o)) || (st = cohort_args(s, from, to)) ||
      (st = src_open(&x, s, filter)))
    return pd_st_leave(s, st);
  uint64_t *curve = NULL;
  size_t len = 0;
  double *sv = NULL;
  st = cohort_curve(&x, &o, from, to, &curve, &len);
  if (!st && len < 3)
    st = pd_err(&s->err, PD_E_INVALID,
                "the cohort is observed for %zu period(s); the sBG fit "
                "needs at least 2",
                len - 1);
  if (!st && !(sv = pd_malloc(&s->alloc, len * sizeof *sv)))
    st = pd_mb_nomem(&x.c);
  if (!st) {
    for (size_t k = 0; k < len; k++) sv[k] = (double)curve[k];
    st = pd_fit_estimate_sbg(fit, sv, len);
    if (st)
      pd_err(&s->err, st, "sBG fit failed: %s", pd_fit_errmsg(fit));
  }
  pd_free(&s->alloc, sv);
  pd_free(&s->alloc, curve);
  src_close(&x);
  return pd_st_leave(s, st);
}
