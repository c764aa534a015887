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

static void reverse_u32(uint32_t *v, size_t n) {
  for (size_t i = 0, j = n - 1; i < j; i++, j--) {
    uint32_t t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
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
  int out_up = 1, out_down = 1; /* the walks give them newest first */
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
        if (nout > 0) {
          uint32_t last = ((uint32_t *)w->out.p)[nout - 1];
          out_up &= last <= x->time;
          out_down &= last >= x->time;
        }
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
      p->eid = x->index; /* see pd_mx_order_pushes() */
      p->time = x->time;
      p->channel = x->channel;
    }
  }
  double resp = a->resp, inten = a->inten;
  uint32_t exposures = a->exposures;
  /* Reliability: answered inbound messages (an outbound 1:1 within the
   * reply window), promises. */
  uint32_t *out = w->out.p, *in = w->in.p;
  if (nout > 1 && !out_up) {
    if (out_down)
      reverse_u32(out, nout);
    else
      qsort(out, nout, sizeof *out, cmp_u32);
  }
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
    pd_mx_order_pushes(s, w->push.p, npush);
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

/* The distribution walks each user's touchpoint chains, several users at
 * a time. A chain is a linked list through the column, so one walk waits
 * on a cache miss per touchpoint; a worker therefore keeps WALKS users in
 * flight and advances them in turn, prefetching each walk's next
 * touchpoint, so that the misses of many walks overlap. On a clustered
 * store a chain runs down neighbouring records, and a walk takes such a
 * run without yielding (walk_step). A user's
 * touchpoints are visited in the order pd_trust_user visits them (member
 * by member, newest first), so both give the same figures to the last
 * bit. Blocks of users run on the store's threads (par.h); within a block
 * users are added up in user order, and the blocks' partial sums are
 * combined in block order, so the figure is the same for every thread
 * count and layout. It needs no memory in proportion to
 * the events: a walk keeps the touchpoints that need order in a buffer of
 * WALK_CAP; a user with more is marked and finished afterwards on the
 * calling thread. Tests build this file with small values. */
#ifndef PD_MX_TRUST_WALKS
#define PD_MX_TRUST_WALKS 24
#endif
#ifndef PD_MX_TRUST_WALK_CAP
#define PD_MX_TRUST_WALK_CAP 512
#endif
#define WALKS PD_MX_TRUST_WALKS
#define WALK_CAP PD_MX_TRUST_WALK_CAP
/* scores[] marks: not in the figure; left for the calling thread. */
#define SCORE_NONE (-1.0)
#define SCORE_LATER (-2.0)

typedef struct dist_part {
  double se, sr, si, ss, sc;
  uint64_t n;
  uint64_t histogram[PD_TRUST_BINS];
  pd_status st;
} dist_part;

/* One user being walked. */
typedef struct walk {
  uint32_t root, member, ev; /* ev: next touchpoint, PD_ST_NIL at the end */
  uint32_t n;                /* touchpoints kept in buf */
  int overflow;              /* more than WALK_CAP need order */
  trust_acc acc;
  pd_mx_touch *buf;          /* [WALK_CAP] */
} walk;

/* A finished user's components, kept until its block is done. */
typedef struct user_parts {
  double e, r, i, s;
} user_parts;

/* What one worker owns while it runs blocks. */
typedef struct dist_worker {
  walk w[WALKS];
  trust_work work;   /* reserved for WALK_CAP touchpoints */
  user_parts *parts; /* [PD_MX_USER_BLOCK], by user id - block start */
} dist_worker;

typedef struct dist_job {
  const pd_store *s;
  pd_store *sw; /* the same store, for trust_finish's buffers (reserved
                   beforehand, so never grown in a worker) */
  const pd_mx_filter *f;
  const pd_trust_options *o;
  const pd_contact_policy *pol;
  double lambda;
  uint32_t t, guide, nu;
  size_t nub;
  double *scores;       /* [nu] score by root, SCORE_NONE / SCORE_LATER */
  dist_part *part;      /* [nub] */
  dist_worker *workers; /* [threads] */
  pd_mx_touch *bufs;    /* [threads][WALKS][WALK_CAP] */
  user_parts *parts;    /* [threads][PD_MX_USER_BLOCK] */
} dist_job;

static inline int dist_keep(const dist_job *j, const pd_st_touch *x) {
  /* time > t also skips erased touchpoints */
  return x->time <= j->t && (j->guide == 0 || x->guide == j->guide);
}

static user_parts parts_of(const pd_trust *t) {
  return (user_parts){t->expertise, t->reliability, t->intimacy,
                      t->self_orientation};
}

/* Adds a user's trust to the block's partial sums. */
static void dist_add(dist_part *pt, const user_parts *p, double score) {
  pt->n++;
  pt->se += p->e;
  pt->sr += p->r;
  pt->si += p->i;
  pt->ss += p->s;
  pt->sc += score;
  int bin = (int)(score / 10.0);
  pt->histogram[bin >= PD_TRUST_BINS ? PD_TRUST_BINS - 1 : bin]++;
}

/* The next user of [*u, hi) in the figure, or 0; *u moves past it. Users
 * not in the figure get SCORE_NONE on the way. */
static uint32_t next_user(const dist_job *j, uint32_t *u, uint32_t hi) {
  while (*u < hi) {
    uint32_t v = (*u)++;
    if (pd_mx_is_root(j->s, v) && pd_mx_filter_match(j->s, j->f, v))
      return v;
    j->scores[v] = SCORE_NONE;
  }
  return 0;
}

/* A 28-byte record straddles two cache lines two times in five: fetch
 * the second line only then (a prefetch waits for a free fill buffer, and
 * the walks are bound by them). */
static inline void prefetch_touch(const pd_st_touch *x) {
  PD_PREFETCH(x);
  if ((uintptr_t)x % 64 > 64 - sizeof *x)
    PD_PREFETCH((const char *)(x + 1) - 1);
}

static void walk_start(const dist_job *j, walk *w, uint32_t root) {
  const pd_st_touch *ts = pd_st_touches(j->s);
  w->root = w->member = root;
  w->ev = j->s->users[root].head[PD_EV_TOUCH];
  w->n = 0;
  w->overflow = 0;
  memset(&w->acc, 0, sizeof w->acc);
  if (w->ev != PD_ST_NIL) prefetch_touch(&ts[w->ev]);
}

/* Add touchpoint `at` to w if the figure keeps it. */
static inline void walk_take(const dist_job *j, walk *w, const pd_st_touch *x,
                             uint32_t at) {
  if (!dist_keep(j, x)) return;
  acc_touch(&w->acc, x->kind, x->purpose, x->time, j->t, j->o, j->lambda);
  if (needs_order(x->kind, x->purpose, j->pol)) {
    if (w->n < WALK_CAP)
      pd_mx_touch_from(&w->buf[w->n++], x, at);
    else
      w->overflow = 1;
  }
}

/* One step of w: its next touchpoints up to the next jump, or its next
 * member's chain. A chain of a clustered store runs down neighbouring
 * records, which the hardware streams: the walk keeps going while the
 * next touchpoint is the record just before, and yields to the other
 * walks only where the chain jumps, after prefetching the jump's target.
 * 0 when the user is done. */
static int walk_step(const dist_job *j, walk *w) {
  const pd_store *s = j->s;
  while (w->ev == PD_ST_NIL) {
    w->member = s->users[w->member].next_member;
    if (w->member == w->root) return 0;
    w->ev = s->users[w->member].head[PD_EV_TOUCH];
    if (w->ev != PD_ST_NIL) {
      prefetch_touch(&pd_st_touches(s)[w->ev]);
      return 1;
    }
  }
  const pd_st_touch *ts = pd_st_touches(s);
  uint32_t at = w->ev;
  for (;;) {
    const pd_st_touch *x = &ts[at];
    uint32_t next = x->next;
    walk_take(j, w, x, at);
    if (next != at - 1 || next == PD_ST_NIL) {
      w->ev = next;
      if (next != PD_ST_NIL) prefetch_touch(&ts[next]);
      return 1;
    }
    at--; /* = next, without waiting for the read of next */
  }
}

static void dist_walk_block(void *p, size_t ub, int32_t worker) {
  const dist_job *j = p;
  dist_worker *dw = &j->workers[worker];
  dist_part *pt = &j->part[ub];
  uint32_t u, hi;
  pd_mx_block_range(ub, PD_MX_USER_BLOCK, j->nu, &u, &hi);
  const uint32_t lo = u;
  if (u == 0) j->scores[u++] = SCORE_NONE;
  int live = 0;
  for (int k = 0; k < WALKS; k++) {
    uint32_t r = next_user(j, &u, hi);
    dw->w[k].root = r;
    if (r) walk_start(j, &dw->w[k], r), live++;
  }
  while (live > 0) {
    for (int k = 0; k < WALKS; k++) {
      walk *w = &dw->w[k];
      if (w->root == 0 || walk_step(j, w)) continue;
      if (w->overflow) {
        j->scores[w->root] = SCORE_LATER;
      } else {
        pd_trust t = PD_TRUST_INIT;
        pd_status st = trust_finish(j->sw, &w->acc, w->buf, w->n, j->t, j->o,
                                    j->pol, &dw->work, &t);
        if (st != PD_OK) { /* cannot happen: the buffers were reserved */
          pt->st = st;
          return;
        }
        j->scores[w->root] = t.score;
        dw->parts[w->root - lo] = parts_of(&t);
      }
      uint32_t r = next_user(j, &u, hi);
      w->root = r;
      if (r) walk_start(j, w, r);
      else live--;
    }
  }
  /* Added up in user order: the order in which walks finish depends on
   * how the store lays chains out, and the sums must not. */
  for (uint32_t v = lo; v < hi; v++)
    if (j->scores[v] >= 0) dist_add(pt, &dw->parts[v - lo], j->scores[v]);
}

static void dist_job_free(pd_store *s, dist_job *j, int32_t threads) {
  const pd_allocator *a = &s->alloc;
  if (j->workers)
    for (int32_t k = 0; k < threads; k++) work_free(s, &j->workers[k].work);
  pd_free(a, j->workers);
  pd_free(a, j->bufs);
  pd_free(a, j->parts);
  pd_free(a, j->part);
  pd_free(a, j->scores);
  memset(j, 0, sizeof *j);
}

/* The trust of a user left for the calling thread (more touchpoints that
 * need order than a walk keeps), as pd_trust_user computes it. */
static pd_status dist_later(pd_store *s, dist_job *j, uint32_t root,
                            trust_work *w, pd_trust *t) {
  size_t n = 0;
  pd_status st = pd_mx_touches_of(s, root, j->t, &w->touches, &n);
  if (st) return st;
  pd_mx_touch *xs = w->touches.p;
  size_t m = 0;
  trust_acc a;
  memset(&a, 0, sizeof a);
  for (size_t i = 0; i < n; i++) {
    if (j->guide != 0 && xs[i].guide != j->guide) continue;
    acc_touch(&a, xs[i].kind, xs[i].purpose, xs[i].time, j->t, j->o,
              j->lambda);
    xs[m++] = xs[i];
  }
  return trust_finish(s, &a, xs, m, j->t, j->o, j->pol, w, t);
}

/* Every passing user's trust into j->scores and j->part (see above).
 * PD_OK or PD_E_NOMEM (message set). */
static pd_status dist_run(pd_store *s, dist_job *j, int32_t threads) {
  const pd_allocator *a = &s->alloc;
  size_t nu = j->nu;
  j->nub = pd_mx_blocks(nu, PD_MX_USER_BLOCK);
  j->part = pd_calloc(a, j->nub + 1, sizeof *j->part);
  j->scores = pd_malloc(a, (nu + 1) * sizeof *j->scores);
  j->workers = pd_calloc(a, (size_t)threads, sizeof *j->workers);
  j->bufs = pd_malloc(a, (size_t)threads * WALKS * WALK_CAP * sizeof *j->bufs);
  j->parts =
      pd_malloc(a, (size_t)threads * PD_MX_USER_BLOCK * sizeof *j->parts);
  if (!j->part || !j->scores || !j->workers || !j->bufs || !j->parts)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  for (int32_t k = 0; k < threads; k++) {
    dist_worker *dw = &j->workers[k];
    for (int i = 0; i < WALKS; i++)
      dw->w[i].buf = j->bufs + ((size_t)k * WALKS + (size_t)i) * WALK_CAP;
    dw->parts = j->parts + (size_t)k * PD_MX_USER_BLOCK;
    if (pd_mx_buf_reserve(s, &dw->work.in, WALK_CAP, sizeof(uint32_t)) ||
        pd_mx_buf_reserve(s, &dw->work.out, WALK_CAP, sizeof(uint32_t)) ||
        pd_mx_buf_reserve(s, &dw->work.push, WALK_CAP, sizeof(pd_mx_push)))
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  pd_parallel_for_workers(threads, j->nub, dist_walk_block, j);
  for (size_t ub = 0; ub < j->nub; ub++)
    if (j->part[ub].st != PD_OK) return j->part[ub].st;
  /* Users with long histories, in user order; their block's partial takes
   * them, as if the block had finished them. */
  trust_work w;
  memset(&w, 0, sizeof w);
  pd_status st = PD_OK;
  for (uint32_t u = 1; u < j->nu && st == PD_OK; u++) {
    if (j->scores[u] != SCORE_LATER) continue;
    pd_trust t = PD_TRUST_INIT;
    if ((st = dist_later(s, j, u, &w, &t)) != PD_OK) break;
    j->scores[u] = t.score;
    user_parts up = parts_of(&t);
    dist_add(&j->part[u >> PD_MX_USER_BLOCK_BITS], &up, t.score);
  }
  work_free(s, &w);
  return st;
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
  j.nu = s->n_users;
  int32_t threads = pd_parallel_workers(
      pd_mx_threads(s), pd_mx_blocks(j.nu, PD_MX_USER_BLOCK));
  if ((st = dist_run(s, &j, threads)) != PD_OK) {
    dist_job_free(s, &j, threads);
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
  dist_job_free(s, &j, threads);
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
