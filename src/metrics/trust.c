/* Trust (信任 = 专业 × 靠谱 × 亲密度 / 自私度) derived from touchpoints by
 * the rules documented in trust.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/events.h>
#include <privdomain/trust.h>

#include "core/alloc.h"
#include "core/prefetch.h"
#include "filter.h"
#include "par.h"
#include "pushes.h"
#include "touch_groups.h"
#include "store/store_query.h"

/* Trust bounds of each formula (components on 1-10). */
#define MULT_MIN 0.1
#define MULT_MAX 1000.0
#define ADD_MIN 0.3
#define ADD_MAX 30.0

typedef struct trust_work {
  pd_mx_buf in, out, push, touches;
} trust_work;

static void work_free(pd_store *s, trust_work *w) {
  pd_mx_buf_free(s, &w->in);
  pd_mx_buf_free(s, &w->out);
  pd_mx_buf_free(s, &w->push);
  pd_mx_buf_free(s, &w->touches);
}

static pd_status load_options(pd_store *s, const pd_trust_options *in,
                              pd_trust_options *o, pd_contact_policy *pol) {
  const pd_trust_options d = PD_TRUST_OPTIONS_INIT;
  *o = d;
  if (in != NULL) {
    pd_status st = pd_st_check_size(s, in, sizeof *in, "pd_trust_options");
    if (st) return st;
    memcpy(o, in, sizeof *o);
  }
  if (o->formula != PD_TRUST_MULTIPLICATIVE && o->formula != PD_TRUST_ADDITIVE)
    return pd_err(&s->err, PD_E_INVALID, "trust formula %d is not a PD_TRUST_*",
                  (int)o->formula);
  if (o->reply_window <= 0 || o->half_life <= 0)
    return pd_err(&s->err, PD_E_RANGE,
                  "reply_window and half_life must be > 0 seconds");
  const double pos[] = {o->prior_good,  o->prior_bad,    o->intimacy_saturation,
                        o->prior_promo, o->prior_other,  o->over_cap_scale,
                        o->prior_good_e, o->prior_bad_e};
  for (size_t k = 0; k < sizeof pos / sizeof *pos; k++)
    if (!isfinite(pos[k]) || pos[k] <= 0)
      return pd_err(&s->err, PD_E_RANGE,
                    "trust priors, saturation and scale must be finite and "
                    "> 0");
  const double w[] = {o->weight_inbound, o->weight_1to1, o->weight_engagement,
                      o->weight_broadcast, o->weight_live};
  for (size_t k = 0; k < sizeof w / sizeof *w; k++)
    if (!isfinite(w[k]) || w[k] < 0)
      return pd_err(&s->err, PD_E_RANGE,
                    "trust weights must be finite and >= 0");
  if (!isfinite(o->rating_weight) || o->rating_weight < 0 ||
      o->rating_weight > 1)
    return pd_err(&s->err, PD_E_RANGE, "rating_weight must be in [0, 1]");
  return pd_mx_policy_load(s, o->policy, pol);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static int push_u32(pd_store *s, pd_mx_buf *b, size_t *n, uint32_t v) {
  if (pd_mx_buf_reserve(s, b, *n + 1, sizeof v) != 0) return -1;
  ((uint32_t *)b->p)[(*n)++] = v;
  return 0;
}

/* 1 + 9 p for p in [0, 1]. */
static double scale10(double p) { return 1.0 + 9.0 * p; }

static double score_of(double trust, int32_t formula) {
  double lo = formula == PD_TRUST_ADDITIVE ? ADD_MIN : MULT_MIN;
  double hi = formula == PD_TRUST_ADDITIVE ? ADD_MAX : MULT_MAX;
  double v = 100.0 * log(trust / lo) / log(hi / lo);
  return v < 0 ? 0 : v > 100 ? 100 : v;
}

/* The order-free part of one user's touchpoints: sums and counts that a
 * single pass over the whole touchpoint column can gather in any order. */
typedef struct trust_acc {
  double inten; /* sum of weight x 2^(-age / half_life) */
  uint32_t resp, kept, broken, brand, promos, exposures;
} trust_acc;

/* Add touchpoint (kind, purpose, time <= t) to a. */
static inline void acc_touch(trust_acc *a, uint8_t kind, uint8_t purpose,
                             uint32_t time, uint32_t t,
                             const pd_trust_options *o, double lambda) {
  double wk = 0;
  switch (kind) {
    case PD_TOUCH_INBOUND_MESSAGE: wk = o->weight_inbound; break;
    case PD_TOUCH_OUTBOUND_1TO1: wk = o->weight_1to1; break;
    case PD_TOUCH_BROADCAST: wk = o->weight_broadcast; break;
    case PD_TOUCH_CONTENT_ENGAGEMENT:
      wk = o->weight_engagement;
      a->resp += 2;
      break;
    case PD_TOUCH_CONTENT_VIEW: a->resp += 1; break;
    case PD_TOUCH_LIVE_VIEW:
      wk = o->weight_live;
      a->resp += 1;
      break;
    case PD_TOUCH_PROMISE_KEPT: a->kept++; break;
    case PD_TOUCH_PROMISE_BROKEN: a->broken++; break;
    default: break;
  }
  if (kind == PD_TOUCH_OUTBOUND_1TO1 || kind == PD_TOUCH_BROADCAST ||
      kind == PD_TOUCH_POST_EXPOSURE) {
    a->brand++;
    a->promos += purpose == PD_PURPOSE_PROMOTION;
    a->exposures += purpose == PD_PURPOSE_CONTENT;
  }
  if (wk > 0) a->inten += wk * exp2(-(double)(t - time) * lambda);
}

/* 1 if the finishing step needs the touchpoint itself (its time against
 * other touchpoints, or its ratings), not just the sums of trust_acc. */
static inline int needs_order(uint8_t kind, uint8_t purpose,
                              const pd_contact_policy *pol) {
  return kind == PD_TOUCH_INBOUND_MESSAGE || kind == PD_TOUCH_OUTBOUND_1TO1 ||
         kind == PD_TOUCH_RATING ||
         (purpose == PD_PURPOSE_PROMOTION &&
          (kind == PD_TOUCH_BROADCAST ||
           (kind == PD_TOUCH_POST_EXPOSURE && pol->count_post_exposures)));
}

/* The trust at t from a user's sums a and the touchpoints xs[0..n) (at
 * least those for which needs_order() holds; others are ignored). */
static pd_status trust_finish(pd_store *s, const trust_acc *a,
                              const pd_mx_touch *xs, size_t n, uint32_t t,
                              const pd_trust_options *o,
                              const pd_contact_policy *pol, trust_work *w,
                              pd_trust *r) {
  size_t nin = 0, nout = 0, npush = 0;
  double rsum[4] = {0, 0, 0, 0};
  uint32_t rcount[4] = {0, 0, 0, 0};
  int out_sorted = 1;
  r->promises_kept = a->kept;
  r->promises_broken = a->broken;
  r->brand_touches = a->brand;
  r->promotions = a->promos;
  for (size_t j = 0; j < n; j++) {
    const pd_mx_touch *x = &xs[j];
    switch (x->kind) {
      case PD_TOUCH_INBOUND_MESSAGE:
        if (push_u32(s, &w->in, &nin, x->time) != 0) goto nomem;
        break;
      case PD_TOUCH_OUTBOUND_1TO1:
        if (nout > 0 && ((uint32_t *)w->out.p)[nout - 1] > x->time)
          out_sorted = 0;
        if (push_u32(s, &w->out, &nout, x->time) != 0) goto nomem;
        break;
      case PD_TOUCH_RATING:
        r->ratings++;
        for (int k = 0; k < 4; k++)
          if (x->rating[k]) {
            rsum[k] += x->rating[k];
            rcount[k]++;
          }
        break;
      default: break;
    }
    if (x->purpose == PD_PURPOSE_PROMOTION &&
        (x->kind == PD_TOUCH_OUTBOUND_1TO1 || x->kind == PD_TOUCH_BROADCAST ||
         (x->kind == PD_TOUCH_POST_EXPOSURE && pol->count_post_exposures))) {
      if (pd_mx_buf_reserve(s, &w->push, npush + 1, sizeof(pd_mx_push)))
        goto nomem;
      pd_mx_push *p = (pd_mx_push *)w->push.p + npush++;
      p->eid = 0; /* ties need no order: the count broken is the same */
      p->time = x->time;
      p->channel = x->channel;
    }
  }
  double resp = a->resp, inten = a->inten;
  uint32_t exposures = a->exposures;
  /* Reliability: answered inbound messages (an outbound 1:1 within the
   * reply window), promises. */
  uint32_t *out = w->out.p, *in = w->in.p;
  if (nout > 1 && !out_sorted) qsort(out, nout, sizeof *out, cmp_u32);
  for (size_t k = 0; k < nin; k++) {
    uint64_t end = (uint64_t)in[k] + (uint64_t)o->reply_window;
    /* First outbound at or after the message. */
    size_t lo = 0, hi = nout;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (out[mid] < in[k]) lo = mid + 1;
      else hi = mid;
    }
    if (lo < nout && out[lo] <= end) {
      r->inbound++;
      r->inbound_answered++;
    } else if (end <= t) {
      r->inbound++; /* the window has passed without an answer */
    }
  }
  double good = r->promises_kept + r->inbound_answered;
  double bad = r->promises_broken + (r->inbound - r->inbound_answered);
  double p_r = (o->prior_good + good) / (o->prior_good + o->prior_bad + good +
                                         bad);
  /* Self-orientation, raised by pushes that broke the cap. */
  if (npush > 1) {
    pd_mx_sort_pushes(w->push.p, npush);
    r->over_cap_pushes = pd_mx_over_cap(w->push.p, npush, pol, -1);
  }
  double p_s = (o->prior_promo + r->promotions) /
               (o->prior_promo + o->prior_other + r->brand_touches);
  p_s += (1 - p_s) * (1 - exp(-(double)r->over_cap_pushes / o->over_cap_scale));
  double expo = exposures > resp ? exposures : resp;
  double p_e = (o->prior_good_e + resp) / (o->prior_good_e + o->prior_bad_e +
                                           expo);
  double c[4] = {scale10(p_e), scale10(p_r),
                 scale10(1 - exp(-inten / o->intimacy_saturation)),
                 scale10(p_s)};
  for (int k = 0; k < 4; k++)
    if (rcount[k])
      c[k] = (1 - o->rating_weight) * c[k] +
             o->rating_weight * (rsum[k] / rcount[k]);
  r->expertise = c[0];
  r->reliability = c[1];
  r->intimacy = c[2];
  r->self_orientation = c[3];
  r->trust = o->formula == PD_TRUST_ADDITIVE ? (c[0] + c[1] + c[2]) / c[3]
                                             : c[0] * c[1] * c[2] / c[3];
  r->score = score_of(r->trust, o->formula);
  return PD_OK;
nomem:
  return pd_err(&s->err, PD_E_NOMEM, "out of memory");
}

static pd_status trust_user(pd_store *s, pd_user_id user, uint32_t guide,
                            int64_t as_of, const pd_trust_options *opts,
                            pd_trust *out) {
  if (out == NULL) return pd_err(&s->err, PD_E_INVALID, "out is NULL");
  if (out->size < sizeof *out)
    return pd_err(&s->err, PD_E_INVALID,
                  "pd_trust size %zu is smaller than %zu (use PD_TRUST_INIT)",
                  out->size, sizeof *out);
  pd_trust_options o;
  pd_contact_policy pol;
  uint32_t u = 0;
  pd_status st;
  if ((st = load_options(s, opts, &o, &pol)) != PD_OK ||
      (st = pd_st_check_time(s, as_of, "as_of")) != PD_OK ||
      (st = pd_st_guide_check(s, guide, 1, "trust")) != PD_OK ||
      (st = pd_st_user_check(s, user, "user", &u)) != PD_OK)
    return st;
  trust_work w;
  memset(&w, 0, sizeof w);
  pd_trust r = PD_TRUST_INIT;
  r.size = out->size;
  size_t n = 0;
  st = pd_mx_touches_of(s, pd_st_find(s, u), (uint32_t)as_of, &w.touches, &n);
  if (st == PD_OK) {
    /* Keep this user's touchpoints with the guide, then sum and finish. */
    pd_mx_touch *xs = w.touches.p;
    size_t m = 0;
    trust_acc a;
    memset(&a, 0, sizeof a);
    const double lambda = 1.0 / (double)o.half_life;
    for (size_t j = 0; j < n; j++) {
      if (guide != 0 && xs[j].guide != guide) continue;
      acc_touch(&a, xs[j].kind, xs[j].purpose, xs[j].time, (uint32_t)as_of,
                &o, lambda);
      xs[m++] = xs[j];
    }
    st = trust_finish(s, &a, xs, m, (uint32_t)as_of, &o, &pol, &w, &r);
  }
  work_free(s, &w);
  if (st == PD_OK) memcpy(out, &r, sizeof r);
  return st;
}

pd_status pd_trust_user(pd_store *s, pd_user_id user, uint32_t guide,
                        int64_t as_of, const pd_trust_options *opts,
                        pd_trust *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, trust_user(s, user, guide, as_of, opts, out));
}

/* Rearrange v[lo, hi) so that v[k] is the value a sort would put there,
 * with nothing greater before it and nothing smaller after it (Hoare's
 * selection, middle pivot: linear on average, and even with the many equal
 * scores of users without touchpoints). Deciles need 9 of these instead of
 * a full sort of a million scores. */
static void select_nth(double *v, size_t lo, size_t hi, size_t k) {
  while (hi - lo > 1) {
    double pivot = v[lo + (hi - lo - 1) / 2];
    size_t i = lo, j = hi - 1;
    for (;;) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i >= j) break;
      double t = v[i];
      v[i] = v[j];
      v[j] = t;
      i++;
      j--;
    }
    /* v[lo, j] <= pivot <= v[j + 1, hi) */
    if (k <= j)
      hi = j + 1;
    else
      lo = j + 1;
  }
}

/* The distribution in parallel passes (par.h). Column blocks note each
 * kept touchpoint's root and count them per (column block, user block);
 * then each kept touchpoint moves, as a compact copy, to its user block,
 * in column order. Each user block then adds up its users' order-free sums
 * in that order (so a user's sums add up in column order, as
 * pd_trust_user adds them, and both give the same figures), groups the
 * touchpoints that need order (needs_order) into per-user runs, and
 * finishes its users into partial sums that the calling thread combines in
 * block order. */
typedef struct dist_part {
  double se, sr, si, ss, sc;
  uint64_t n;
  uint64_t histogram[PD_TRUST_BINS];
  size_t g_from;  /* the block's first slot in g (set by the caller) */
  size_t max_run; /* longest run of one user's needs_order touchpoints */
  pd_status st;
} dist_part;

typedef struct dist_job {
  const pd_store *s;
  pd_store *sw; /* the same store, for trust_finish's buffers (reserved
                   beforehand, so never grown in a worker) */
  const pd_mx_filter *f;
  const pd_trust_options *o;
  const pd_contact_policy *pol;
  double lambda;
  uint32_t t, guide, ne, nu;
  size_t nub;
  uint32_t *root;   /* [nu] canonical id of each id */
  uint32_t *cnt;    /* [column block][user block] kept touchpoints */
  size_t *pos;      /* [column block][user block] next slot in stage */
  size_t *ubstart;  /* [nub + 1] */
  pd_mx_touch *stage;
  uint16_t *uloc;   /* root - first id of its user block, beside stage */
  uint32_t *start;  /* [nu + 1] runs of needs_order touchpoints in g */
  pd_mx_touch *g;   /* needs_order touchpoints, runs by user */
  trust_acc *acc;   /* [nu] */
  double *scores;   /* [nu] score by root, -1 = not in the figure */
  trust_work *work; /* [nub] */
  dist_part *part;  /* [nub] */
} dist_job;

static void user_range(const dist_job *j, size_t ub, uint32_t *lo,
                       uint32_t *hi) {
  *lo = (uint32_t)(ub * PD_MX_USER_BLOCK);
  *hi = j->nu;
  if (*hi - *lo > PD_MX_USER_BLOCK) *hi = *lo + (uint32_t)PD_MX_USER_BLOCK;
}

static void dist_roots_block(void *p, size_t ub) {
  const dist_job *j = p;
  uint32_t lo, hi;
  user_range(j, ub, &lo, &hi);
  for (uint32_t u = lo ? lo : 1; u < hi; u++)
    j->root[u] = pd_mx_find_ro(j->s, u);
}

static inline int dist_keep(const dist_job *j, const pd_st_touch *x) {
  /* time > t also skips erased touchpoints */
  return x->time <= j->t && (j->guide == 0 || x->guide == j->guide);
}

static void dist_count_block(void *p, size_t b) {
  const dist_job *j = p;
  const pd_st_touch *ts = pd_st_touches(j->s);
  uint32_t lo = (uint32_t)(b * PD_MX_EVENT_BLOCK), hi = j->ne;
  if (hi - lo > PD_MX_EVENT_BLOCK) hi = lo + (uint32_t)PD_MX_EVENT_BLOCK;
  uint32_t *cnt = j->cnt + b * j->nub;
  /* Touchpoints arrive in time order, so root[] is hit at random. */
  enum { PF = 32 };
  for (uint32_t i = lo; i < hi; i++) {
    if (i + PF < hi) PD_PREFETCH(&j->root[ts[i + PF].user]);
    if (!dist_keep(j, &ts[i])) continue;
    cnt[j->root[ts[i].user] >> PD_MX_USER_BLOCK_BITS]++;
  }
}

static void dist_stage_block(void *p, size_t b) {
  const dist_job *j = p;
  const pd_st_touch *ts = pd_st_touches(j->s);
  uint32_t lo = (uint32_t)(b * PD_MX_EVENT_BLOCK), hi = j->ne;
  if (hi - lo > PD_MX_EVENT_BLOCK) hi = lo + (uint32_t)PD_MX_EVENT_BLOCK;
  size_t *pos = j->pos + b * j->nub;
  enum { PF = 32 };
  for (uint32_t i = lo; i < hi; i++) {
    if (i + PF < hi) PD_PREFETCH(&j->root[ts[i + PF].user]);
    const pd_st_touch *x = &ts[i];
    if (!dist_keep(j, x)) continue;
    uint32_t r = j->root[x->user];
    size_t at = pos[r >> PD_MX_USER_BLOCK_BITS]++;
    pd_mx_touch_from(&j->stage[at], x);
    j->uloc[at] = (uint16_t)(r & (PD_MX_USER_BLOCK - 1));
  }
}

/* Sums and runs of one user block. start[r] for r in the block counts,
 * then is r's cursor, and ends as the end of r's run (the caller shifts
 * it to start[r + 1]); the block's runs occupy g from part[ub].g_from. */
static void dist_sum_block(void *p, size_t ub) {
  const dist_job *j = p;
  uint32_t lo, hi;
  user_range(j, ub, &lo, &hi);
  size_t from = j->ubstart[ub], to = j->ubstart[ub + 1];
  for (size_t k = from; k < to; k++) {
    const pd_mx_touch *x = &j->stage[k];
    uint32_t r = lo + j->uloc[k];
    acc_touch(&j->acc[r], x->kind, x->purpose, x->time, j->t, j->o,
              j->lambda);
    if (needs_order(x->kind, x->purpose, j->pol)) j->start[r]++;
  }
  dist_part *pt = &j->part[ub];
  uint32_t run = (uint32_t)pt->g_from, max = 0;
  for (uint32_t r = lo; r < hi; r++) {
    uint32_t n = j->start[r];
    if (n > max) max = n;
    j->start[r] = run;
    run += n;
  }
  for (size_t k = from; k < to; k++) {
    const pd_mx_touch *x = &j->stage[k];
    if (needs_order(x->kind, x->purpose, j->pol))
      j->g[j->start[lo + j->uloc[k]]++] = *x;
  }
  pt->max_run = max;
}

static void dist_finish_block(void *p, size_t ub) {
  const dist_job *j = p;
  uint32_t lo, hi;
  user_range(j, ub, &lo, &hi);
  dist_part *pt = &j->part[ub];
  for (uint32_t u = lo ? lo : 1; u < hi; u++) {
    j->scores[u] = -1.0;
    if (!pd_mx_is_root(j->s, u) || !pd_mx_filter_match(j->s, j->f, u))
      continue;
    pd_trust t = PD_TRUST_INIT;
    pd_status st = trust_finish(j->sw, &j->acc[u], j->g + j->start[u],
                                j->start[u + 1] - j->start[u], j->t, j->o,
                                j->pol, &j->work[ub], &t);
    if (st != PD_OK) { /* cannot happen: the buffers were reserved */
      pt->st = st;
      return;
    }
    j->scores[u] = t.score;
    pt->n++;
    pt->se += t.expertise;
    pt->sr += t.reliability;
    pt->si += t.intimacy;
    pt->ss += t.self_orientation;
    pt->sc += t.score;
    int bin = (int)(t.score / 10.0);
    pt->histogram[bin >= PD_TRUST_BINS ? PD_TRUST_BINS - 1 : bin]++;
  }
}

static void dist_job_free(pd_store *s, dist_job *j) {
  const pd_allocator *a = &s->alloc;
  if (j->work)
    for (size_t ub = 0; ub < j->nub; ub++) work_free(s, &j->work[ub]);
  pd_free(a, j->work);
  pd_free(a, j->part);
  pd_free(a, j->root);
  pd_free(a, j->cnt);
  pd_free(a, j->pos);
  pd_free(a, j->ubstart);
  pd_free(a, j->stage);
  pd_free(a, j->uloc);
  pd_free(a, j->start);
  pd_free(a, j->g);
  pd_free(a, j->acc);
  pd_free(a, j->scores);
  memset(j, 0, sizeof *j);
}

/* Every passing user's trust into j->scores and j->part (see above).
 * PD_OK or PD_E_NOMEM (message set). */
static pd_status dist_run(pd_store *s, dist_job *j, int32_t threads) {
  const pd_allocator *a = &s->alloc;
  size_t nu = j->nu, neb = pd_mx_blocks(j->ne, PD_MX_EVENT_BLOCK);
  j->nub = pd_mx_blocks(nu, PD_MX_USER_BLOCK);
  j->root = pd_malloc(a, (nu + 1) * sizeof *j->root);
  j->cnt = pd_calloc(a, neb * j->nub + 1, sizeof *j->cnt);
  j->pos = pd_malloc(a, (neb * j->nub + 1) * sizeof *j->pos);
  j->ubstart = pd_malloc(a, (j->nub + 1) * sizeof *j->ubstart);
  j->part = pd_calloc(a, j->nub + 1, sizeof *j->part);
  j->work = pd_calloc(a, j->nub + 1, sizeof *j->work);
  if (!j->root || !j->cnt || !j->pos || !j->ubstart || !j->part || !j->work)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  j->root[0] = 0; /* read by the prefetches for erased touchpoints */
  pd_parallel_for(threads, j->nub, dist_roots_block, j);
  pd_parallel_for(threads, neb, dist_count_block, j);
  size_t kept = 0;
  for (size_t ub = 0; ub < j->nub; ub++) {
    j->ubstart[ub] = kept;
    for (size_t b = 0; b < neb; b++) {
      j->pos[b * j->nub + ub] = kept;
      kept += j->cnt[b * j->nub + ub];
    }
  }
  j->ubstart[j->nub] = kept;
  j->stage = pd_malloc(a, (kept + 1) * sizeof *j->stage);
  j->uloc = pd_malloc(a, (kept + 1) * sizeof *j->uloc);
  if (!j->stage || !j->uloc)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  pd_parallel_for(threads, neb, dist_stage_block, j);
  pd_free(a, j->pos);
  j->pos = NULL;
  /* Where each block's runs start in g: its needs_order touchpoints are
   * counted on the calling thread (a sequential read of stage). */
  size_t ordered = 0;
  for (size_t ub = 0; ub < j->nub; ub++) {
    j->part[ub].g_from = ordered;
    for (size_t k = j->ubstart[ub]; k < j->ubstart[ub + 1]; k++)
      ordered += needs_order(j->stage[k].kind, j->stage[k].purpose, j->pol);
  }
  j->acc = pd_calloc(a, nu + 1, sizeof *j->acc);
  j->start = pd_calloc(a, nu + 1, sizeof *j->start);
  j->g = pd_malloc(a, (ordered + 1) * sizeof *j->g);
  j->scores = pd_malloc(a, (nu + 1) * sizeof *j->scores);
  if (!j->acc || !j->start || !j->g || !j->scores)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  pd_parallel_for(threads, j->nub, dist_sum_block, j);
  pd_free(a, j->stage);
  pd_free(a, j->uloc);
  j->stage = NULL;
  j->uloc = NULL;
  for (size_t r = nu; r > 0; r--) j->start[r] = j->start[r - 1];
  j->start[0] = 0;
  /* Each block's finishing buffers, sized for its longest run, so that
   * trust_finish never grows them on a worker. */
  for (size_t ub = 0; ub < j->nub; ub++) {
    size_t m = j->part[ub].max_run + 1;
    trust_work *w = &j->work[ub];
    if (pd_mx_buf_reserve(s, &w->in, m, sizeof(uint32_t)) ||
        pd_mx_buf_reserve(s, &w->out, m, sizeof(uint32_t)) ||
        pd_mx_buf_reserve(s, &w->push, m, sizeof(pd_mx_push)))
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  pd_parallel_for(threads, j->nub, dist_finish_block, j);
  for (size_t ub = 0; ub < j->nub; ub++)
    if (j->part[ub].st != PD_OK) return j->part[ub].st;
  return PD_OK;
}

static pd_status distribution(pd_store *s, const pd_metrics_filter *filter,
                              const pd_trust_options *opts,
                              pd_trust_distribution *out) {
  pd_mx_filter f;
  pd_trust_options o;
  pd_contact_policy pol;
  pd_status st;
  if ((st = pd_mx_filter_load(s, filter, &f)) != PD_OK ||
      (st = load_options(s, opts, &o, &pol)) != PD_OK)
    return st;
  if (out == NULL) return pd_err(&s->err, PD_E_INVALID, "out is NULL");
  if (out->size < sizeof *out)
    return pd_err(&s->err, PD_E_INVALID,
                  "pd_trust_distribution size %zu is smaller than %zu (use "
                  "PD_TRUST_DISTRIBUTION_INIT)",
                  out->size, sizeof *out);
  dist_job j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.sw = s;
  j.f = &f;
  j.o = &o;
  j.pol = &pol;
  j.lambda = 1.0 / (double)o.half_life;
  j.t = f.as_of;
  j.guide = f.guide;
  j.ne = s->col[PD_EV_TOUCH].n;
  j.nu = s->n_users;
  if ((st = dist_run(s, &j, pd_mx_threads(s))) != PD_OK) {
    dist_job_free(s, &j);
    return st;
  }
  pd_trust_distribution r = PD_TRUST_DISTRIBUTION_INIT;
  r.size = out->size;
  /* Partials combined in block order, scores compacted in user order. */
  double se = 0, sr = 0, si = 0, ss = 0, sc = 0;
  size_t n = 0;
  for (size_t ub = 0; ub < j.nub; ub++) {
    const dist_part *pt = &j.part[ub];
    se += pt->se;
    sr += pt->sr;
    si += pt->si;
    ss += pt->ss;
    sc += pt->sc;
    for (int k = 0; k < PD_TRUST_BINS; k++) r.histogram[k] += pt->histogram[k];
  }
  double *scores = j.scores;
  for (uint32_t u = 1; u < j.nu; u++)
    if (scores[u] >= 0) scores[n++] = scores[u];
  r.users = n;
  if (n > 0) {
    double dn = (double)n;
    r.mean_score = sc / dn;
    r.mean_expertise = se / dn;
    r.mean_reliability = sr / dn;
    r.mean_intimacy = si / dn;
    r.mean_self_orientation = ss / dn;
    size_t from = 0;
    for (int k = 0; k < 9; k++) {
      size_t rank = ((size_t)(k + 1) * n + 9) / 10; /* ceil, nearest rank */
      select_nth(scores, from, n, rank - 1);
      r.deciles[k] = scores[rank - 1];
      from = rank - 1;
    }
  }
  dist_job_free(s, &j);
  memcpy(out, &r, sizeof r);
  return PD_OK;
}

pd_status pd_trust_distribution_get(pd_store *s,
                                    const pd_metrics_filter *filter,
                                    const pd_trust_options *opts,
                                    pd_trust_distribution *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, distribution(s, filter, opts, out));
}
