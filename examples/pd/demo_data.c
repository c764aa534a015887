/*
 * pd demo — the synthetic private domain and its player (see demo_data.h).
 *
 * The generator works in three passes: it draws every user's kind,
 * acquisition and home shop; pairs some walk-in POS members with users who
 * later turn out to be the same person; then simulates each user's year
 * (links, touchpoints, orders …) with its own random stream, builds the
 * bestie-card referral trees, and finally adds reach, cost and setup
 * records, sorts everything by time and numbers the events.
 */
#include "demo_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers ------------------------------------------------------ */

/* splitmix64: tiny, fast and good enough for synthetic data; our own so the
 * demo is the same on every libc. */
typedef struct demo_rng {
  uint64_t s;
} demo_rng;

static uint64_t rng_next(demo_rng *r) {
  uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static demo_rng rng_for(uint64_t seed, uint64_t stream) {
  demo_rng r = {seed ^ (stream * UINT64_C(0xD1B54A32D192ED03))};
  rng_next(&r);
  return r;
}

/* Uniform on [0, 1). */
static double rng_unit(demo_rng *r) {
  return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int rng_chance(demo_rng *r, double p) { return rng_unit(r) < p; }

static uint32_t rng_below(demo_rng *r, uint32_t n) {
  return (uint32_t)(rng_unit(r) * n);
}

/* Uniform time offset in [lo, hi) seconds. */
static int64_t rng_span(demo_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(rng_unit(r) * (double)(hi - lo));
}

static double rng_exp(demo_rng *r, double mean) {
  return -mean * log1p(-rng_unit(r));
}

static double rng_normal(demo_rng *r) {
  double u = 1.0 - rng_unit(r), v = rng_unit(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Marsaglia–Tsang; shapes below 1 are boosted by U^(1/shape). */
static double rng_gamma(demo_rng *r, double shape, double scale) {
  double boost = 1.0;
  if (shape < 1.0) {
    boost = pow(1.0 - rng_unit(r), 1.0 / shape);
    shape += 1.0;
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = rng_normal(r), v = 1.0 + c * x;
    if (v <= 0.0)
      continue;
    v = v * v * v;
    double u = 1.0 - rng_unit(r);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
      return d * v * scale * boost;
  }
}

static double rng_beta(demo_rng *r, double a, double b) {
  double x = rng_gamma(r, a, 1.0), y = rng_gamma(r, b, 1.0);
  return x / (x + y);
}

/* ---- calendar ------------------------------------------------------------ */

#define MONTH (30.4375 * 86400.0)
#define HOUR INT64_C(3600)

static const int64_t month_days[12] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};

static int64_t month_start(int m) { /* m = 0 … 12 */
  int64_t t = DEMO_T_BEGIN;
  for (int i = 0; i < m; i++)
    t += month_days[i] * DEMO_DAY;
  return t;
}

static int month_of(int64_t t) {
  int m = 0;
  while (m < 11 && t >= month_start(m + 1))
    m++;
  return m;
}

/* ---- generation state ---------------------------------------------------- */

enum { U_WALKIN = 1, U_MAIN, U_REFERRAL };

/* A link on one channel: up to two intervals (a re-link after an unlink). */
typedef struct gen_link {
  int64_t start[2], end[2]; /* end = INT64_MAX while linked */
  int n;
} gen_link;

typedef struct gen_user {
  int type;
  int shop;        /* home shop 0 … DEMO_SHOPS-1 */
  uint32_t source; /* label of the acquisition source */
  uint32_t campaign;
  int32_t main_channel; /* 0 for walk-ins */
  int64_t acq;          /* acquisition (walk-ins: first visit) */
  uint32_t referrer;    /* demo user index, 0 = none */
  int64_t bind_t[2];
  uint32_t bind_g[2];
  int nbind;
  uint32_t merge_into; /* walk-in: the user it turns out to be */
  uint32_t merge_from; /* the walk-in this user turns out to be */
  int64_t merge_time;
  int64_t main_end;    /* end of the first main link, INT64_MAX if none */
  int64_t first_order; /* -1 = none */
  int flash;           /* 1 = took part in the flash group */
  int has_phone, has_unionid, has_pos, has_wecom;
} gen_user;

typedef struct gen {
  demo_data *d;
  demo_rng rng;
  demo_record *rec;
  size_t n, cap;
  int oom;
  gen_user *u; /* [n_users + 1] */
  uint32_t cap_users;
  uint32_t n_users;
  double flash_acc;       /* systematic 34% selection of flash deleters */
  uint32_t links[40][12]; /* acquisition links per source label, month */
} gen;

static demo_record *push(gen *g, int32_t kind, int64_t time) {
  if (g->oom)
    return NULL;
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 4096;
    demo_record *p = realloc(g->rec, cap * sizeof *p);
    if (!p) {
      g->oom = 1;
      return NULL;
    }
    g->rec = p;
    g->cap = cap;
  }
  demo_record *r = &g->rec[g->n++];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->time = time;
  return r;
}

static uint32_t add_label(demo_data *d, int32_t kind, const char *name) {
  uint32_t i = ++d->n_labels;
  d->labels[i].kind = kind;
  snprintf(d->labels[i].name, sizeof d->labels[i].name, "%s", name);
  return i;
}

static uint32_t guide_index(int shop, int k) {
  return 1u + (uint32_t)shop * DEMO_GUIDES_PER_SHOP + (uint32_t)k;
}

/* A guide of @shop to serve a new user at @t: the first guides of a shop
 * serve more users (so guide load is uneven, as in real chains); the
 * leaving guide takes nobody new from shortly before leaving. */
static uint32_t pick_guide(gen *g, demo_rng *r, int shop, int64_t t) {
  static const double w[DEMO_GUIDES_PER_SHOP] = {0.34, 0.25, 0.19, 0.13, 0.09};
  double x = rng_unit(r), acc = 0.0;
  int k = DEMO_GUIDES_PER_SHOP - 1;
  for (int i = 0; i < DEMO_GUIDES_PER_SHOP; i++) {
    acc += w[i];
    if (x < acc) {
      k = i;
      break;
    }
  }
  uint32_t gi = guide_index(shop, k);
  if (gi == g->d->leaving_guide && t >= g->d->guide_leaves - 14 * DEMO_DAY)
    gi = g->d->heir_guide;
  return gi;
}

/* The guide @u is bound to at @t, taking the handover into account. */
static uint32_t guide_at(const gen *g, const gen_user *u, int64_t t) {
  uint32_t cur = 0;
  int64_t since = 0;
  for (int i = 0; i < u->nbind; i++)
    if (u->bind_t[i] <= t) {
      cur = u->bind_g[i];
      since = u->bind_t[i];
    }
  if (cur == g->d->leaving_guide && since < g->d->guide_leaves &&
      t >= g->d->guide_leaves)
    cur = g->d->heir_guide;
  return cur;
}

static int shop_of_guide(uint32_t gi) {
  return (int)((gi - 1) / DEMO_GUIDES_PER_SHOP);
}

/* ---- records ------------------------------------------------------------- */

static void rec_attach(gen *g, uint32_t user, int32_t ns, uint32_t key,
                       int64_t t) {
  demo_record *r = push(g, DEMO_ATTACH, t);
  if (!r)
    return;
  r->ref = user;
  r->u.identity.ns = ns;
  r->u.identity.key = key;
}

static uint32_t phone_key(uint32_t user) {
  /* 7919 is coprime to 10^8, so distinct users get distinct numbers that
   * do not look sequential. */
  return (uint32_t)(((uint64_t)user * 7919u + 31415926u) % 100000000u);
}

static void rec_link(gen *g, uint32_t user, int32_t channel, uint32_t source,
                     uint32_t campaign, uint32_t guide, int64_t t) {
  demo_record *r = push(g, DEMO_LINK, t);
  if (!r)
    return;
  pd_link_event ev = PD_LINK_EVENT_INIT;
  ev.user = user;
  ev.channel = channel;
  ev.source = source;
  ev.campaign = campaign;
  ev.guide = guide;
  ev.time = t;
  r->u.link = ev;
}

static void rec_unlink(gen *g, uint32_t user, int32_t channel, int32_t who,
                       uint32_t guide, int64_t t) {
  demo_record *r = push(g, DEMO_UNLINK, t);
  if (!r)
    return;
  pd_unlink_event ev = PD_UNLINK_EVENT_INIT;
  ev.user = user;
  ev.channel = channel;
  ev.initiator = who;
  ev.guide = guide;
  ev.time = t;
  r->u.unlink = ev;
}

static pd_touchpoint *rec_touch(gen *g, uint32_t user, int32_t kind,
                                int32_t purpose, int32_t channel,
                                uint32_t guide, uint32_t campaign, int64_t t) {
  demo_record *r = push(g, DEMO_TOUCH, t);
  if (!r)
    return NULL;
  pd_touchpoint ev = PD_TOUCHPOINT_INIT;
  ev.user = user;
  ev.kind = kind;
  ev.purpose = purpose;
  ev.channel = channel;
  ev.guide = guide;
  ev.campaign = campaign;
  ev.time = t;
  r->u.touch = ev;
  return &r->u.touch;
}

static void rec_bind(gen *g, uint32_t user, uint32_t guide, int64_t t) {
  demo_record *r = push(g, DEMO_BIND, t);
  if (!r)
    return;
  pd_guide_bind ev = PD_GUIDE_BIND_INIT;
  ev.user = user;
  ev.guide = guide;
  ev.time = t;
  r->u.bind = ev;
}

/* An order of about @mean fen, and now and then a partial refund. */
static void rec_order(gen *g, demo_rng *r, uint32_t user, int32_t channel,
                      uint32_t guide, uint32_t shop, double mean, int64_t t) {
  double amount = rng_gamma(r, 5.0, mean / 5.0);
  int64_t fen = (int64_t)floor(amount / 100.0 + 0.5) * 100; /* whole yuan */
  if (fen < 900)
    fen = 900;
  size_t at = g->n;
  demo_record *rec = push(g, DEMO_ORDER, t);
  if (!rec)
    return;
  pd_order ev = PD_ORDER_INIT;
  ev.user = user;
  ev.time = t;
  ev.amount = fen;
  ev.channel = channel;
  ev.guide = guide;
  ev.shop = shop;
  rec->u.order = ev;
  gen_user *u = &g->u[user];
  if (u->first_order < 0 || t < u->first_order)
    u->first_order = t;
  if (rng_chance(r, 0.03)) {
    int64_t rt = t + rng_span(r, DEMO_DAY, 15 * DEMO_DAY);
    int64_t back = (int64_t)floor((double)fen * (0.1 + 0.9 * rng_unit(r)));
    if (back < 1)
      back = 1;
    if (rt <= DEMO_T_END) {
      demo_record *rf = push(g, DEMO_REFUND, rt);
      if (!rf)
        return;
      pd_refund ev2 = PD_REFUND_INIT;
      ev2.time = rt;
      ev2.amount = back;
      rf->u.refund = ev2;
      rf->ref = (uint32_t)at;
    }
  }
}

/* ---- one user's year ----------------------------------------------------- */

/* Touchpoints on a 1:1 channel (WeCom, personal WeChat) over [s, e). */
static void touches_1to1(gen *g, demo_rng *r, uint32_t ui, int32_t ch,
                         int64_t s, int64_t e) {
  const gen_user *u = &g->u[ui];
  /* Brand broadcasts (群发) on the 8th (content) and 22nd (promotion). */
  for (int m = month_of(s); m < 12; m++) {
    for (int k = 0; k < 2; k++) {
      int64_t t = month_start(m) + (k ? 21 : 7) * DEMO_DAY + 20 * HOUR;
      if (t > s && t < e)
        rec_touch(g, ui, PD_TOUCH_BROADCAST,
                  k ? PD_PURPOSE_PROMOTION : PD_PURPOSE_CONTENT, ch,
                  guide_at(g, u, t), 0, t);
    }
  }
  /* The guide's moments posts the user sees. */
  for (double t = (double)s + rng_exp(r, MONTH / 2.0); t < (double)e;
       t += rng_exp(r, MONTH / 2.0)) {
    int64_t ti = (int64_t)t;
    rec_touch(g, ui, PD_TOUCH_POST_EXPOSURE,
              rng_chance(r, 0.6) ? PD_PURPOSE_CONTENT : PD_PURPOSE_PROMOTION,
              ch, guide_at(g, u, ti), 0, ti);
  }
  /* The user writes; the guide replies and sometimes promises something. */
  for (double t = (double)s + rng_exp(r, MONTH / 0.4); t < (double)e;
       t += rng_exp(r, MONTH / 0.4)) {
    int64_t ti = (int64_t)t;
    uint32_t gd = guide_at(g, u, ti);
    rec_touch(g, ui, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, ch, gd, 0, ti);
    int64_t reply = ti + rng_span(r, 60, 2 * HOUR);
    if (rng_chance(r, 0.9) && reply < e)
      rec_touch(g, ui, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE, ch,
                guide_at(g, u, reply), 0, reply);
    if (rng_chance(r, 0.25)) {
      int64_t due = ti + rng_span(r, DEMO_DAY, 5 * DEMO_DAY);
      int kept = rng_chance(r, 0.85);
      if (due < e)
        rec_touch(g, ui, kept ? PD_TOUCH_PROMISE_KEPT : PD_TOUCH_PROMISE_BROKEN,
                  PD_PURPOSE_SERVICE, ch, guide_at(g, u, due), 0, due);
    }
  }
  /* The guide reaches out on their own. */
  for (double t = (double)s + rng_exp(r, MONTH / 0.3); t < (double)e;
       t += rng_exp(r, MONTH / 0.3)) {
    int64_t ti = (int64_t)t;
    rec_touch(g, ui, PD_TOUCH_OUTBOUND_1TO1,
              rng_chance(r, 0.5) ? PD_PURPOSE_SERVICE : PD_PURPOSE_PROMOTION,
              ch, guide_at(g, u, ti), 0, ti);
  }
  /* A few users rate their guide (trust components, 1–10). */
  if (rng_chance(r, 0.04)) {
    int64_t t = rng_span(r, s + 1, e);
    pd_touchpoint *tp = rec_touch(g, ui, PD_TOUCH_RATING, PD_PURPOSE_NONE, ch,
                                  guide_at(g, u, t), 0, t);
    if (tp) {
      tp->rating_expertise = 6 + (int32_t)rng_below(r, 4);
      tp->rating_reliability = 5 + (int32_t)rng_below(r, 6);
      tp->rating_intimacy = 4 + (int32_t)rng_below(r, 6);
      tp->rating_self_orientation = 2 + (int32_t)rng_below(r, 5);
    }
  }
}

/* Touches of @kind at @per_month on average over [s, e). */
static void touches_poisson(gen *g, demo_rng *r, uint32_t ui, int32_t ch,
                            int32_t kind, int32_t purpose, double per_month,
                            int64_t s, int64_t e) {
  for (double t = (double)s + rng_exp(r, MONTH / per_month); t < (double)e;
       t += rng_exp(r, MONTH / per_month)) {
    int32_t p = purpose;
    if (p < 0) /* mixed feed */
      p = rng_chance(r, 0.5) ? PD_PURPOSE_CONTENT : PD_PURPOSE_PROMOTION;
    rec_touch(g, ui, kind, p, ch, 0, 0, (int64_t)t);
  }
}

static void touches_for(gen *g, demo_rng *r, uint32_t ui, int32_t ch, int64_t s,
                        int64_t e) {
  if (e > DEMO_T_END)
    e = DEMO_T_END;
  if (e <= s + 1)
    return;
  switch (ch) {
  case PD_CHANNEL_WECOM:
  case PD_CHANNEL_WECHAT:
    touches_1to1(g, r, ui, ch, s, e);
    break;
  case PD_CHANNEL_OFFICIAL_ACCOUNT:
    touches_poisson(g, r, ui, ch, PD_TOUCH_CONTENT_VIEW, PD_PURPOSE_CONTENT,
                    1.2, s, e);
    touches_poisson(g, r, ui, ch, PD_TOUCH_CONTENT_ENGAGEMENT,
                    PD_PURPOSE_CONTENT, 0.2, s, e);
    break;
  case PD_CHANNEL_MINI_PROGRAM:
    touches_poisson(g, r, ui, ch, PD_TOUCH_CONTENT_VIEW, PD_PURPOSE_CONTENT,
                    0.5, s, e);
    break;
  case PD_CHANNEL_DOUYIN:
    touches_poisson(g, r, ui, ch, PD_TOUCH_LIVE_VIEW, PD_PURPOSE_NONE, 1.5, s,
                    e);
    touches_poisson(g, r, ui, ch, PD_TOUCH_POST_EXPOSURE, PD_PURPOSE_CONTENT,
                    1.0, s, e);
    break;
  case PD_CHANNEL_WECHAT_GROUP:
    touches_poisson(g, r, ui, ch, PD_TOUCH_POST_EXPOSURE, -1, 3.0, s, e);
    touches_poisson(g, r, ui, ch, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE,
                    0.2, s, e);
    break;
  default:
    break;
  }
}

/* Who ends a 1:1 link without a campaign to blame: mostly the user
 * (deleting, sometimes blocking), now and then staff cleaning up. */
static int32_t baseline_initiator(demo_rng *r) {
  double x = rng_unit(r);
  return x < 0.72   ? PD_UNLINK_USER_DELETED
         : x < 0.86 ? PD_UNLINK_USER_BLOCKED
                    : PD_UNLINK_STAFF_REMOVED;
}

/* Baseline monthly hazard of losing a 1:1 contact: ~2.9% (DOMAIN.md: a
 * healthy pool loses a few percent a month). */
#define UNLINK_1TO1_PER_MONTH 0.029

/* The main link: acquisition, baseline unlinks, a re-link now and then,
 * and the flash-group campaign's deletion spike. */
static void main_link(gen *g, demo_rng *r, uint32_t ui, gen_link *lk) {
  gen_user *u = &g->u[ui];
  const demo_data *d = g->d;
  int32_t ch = u->main_channel;
  int is_1to1 = ch == PD_CHANNEL_WECOM || ch == PD_CHANNEL_WECHAT;
  double rate = is_1to1 ? UNLINK_1TO1_PER_MONTH : 0.03;
  int64_t s = u->acq;
  uint32_t g0 = guide_at(g, u, s + 1);
  rec_link(g, ui, ch, u->source, u->campaign, ch == PD_CHANNEL_DOUYIN ? 0 : g0,
           s);
  if (u->source)
    g->links[u->source][month_of(s)]++;
  int64_t end = s + (int64_t)rng_exp(r, MONTH / rate);
  int32_t who = is_1to1 ? baseline_initiator(r) : PD_UNLINK_USER_UNFOLLOWED;
  int deleter = 0;

  /* 快闪群: about 30% of the 1:1 contacts linked when it starts are pulled
   * into the flash group; 34% of those delete the brand afterwards
   * (DOMAIN.md). Deleters are picked systematically so the share is 34%
   * at any scale. */
  if (is_1to1 && s < d->flash_join - DEMO_DAY && end > d->flash_end &&
      rng_chance(r, 0.30)) {
    u->flash = 1;
    g->flash_acc += 0.34;
    if (g->flash_acc >= 1.0) {
      g->flash_acc -= 1.0;
      deleter = 1;
      int64_t t = d->flash_end + rng_span(r, DEMO_DAY / 2, 10 * DEMO_DAY);
      if (t < end) {
        end = t;
        who = rng_chance(r, 0.8) ? PD_UNLINK_USER_DELETED
                                 : PD_UNLINK_USER_BLOCKED;
      }
    }
    int64_t join = d->flash_join + rng_span(r, 0, 20 * HOUR);
    int64_t dissolve = d->flash_end + 3 * DEMO_DAY;
    rec_link(g, ui, PD_CHANNEL_WECHAT_GROUP, d->src_flash_group,
             d->camp_flash_group, guide_at(g, u, join), join);
    g->links[d->src_flash_group][month_of(join)]++;
    /* Three days of hard selling: three group pushes and two posts a day. */
    for (int day = 0; day < 3; day++) {
      static const int64_t push_h[3] = {10, 15, 20};
      for (int k = 0; k < 3; k++) {
        int64_t t = d->flash_start + day * DEMO_DAY + push_h[k] * HOUR;
        rec_touch(g, ui, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION,
                  PD_CHANNEL_WECHAT_GROUP, guide_at(g, u, t),
                  d->camp_flash_group, t);
      }
      for (int k = 0; k < 2; k++) {
        int64_t t =
            d->flash_start + day * DEMO_DAY + rng_span(r, 9 * HOUR, 22 * HOUR);
        rec_touch(g, ui, PD_TOUCH_POST_EXPOSURE, PD_PURPOSE_PROMOTION,
                  PD_CHANNEL_WECHAT_GROUP, guide_at(g, u, t),
                  d->camp_flash_group, t);
      }
    }
    if (rng_chance(r, 0.55)) {
      int64_t t = rng_span(r, d->flash_start, d->flash_end);
      rec_order(g, r, ui, PD_CHANNEL_MINI_PROGRAM, guide_at(g, u, t), 0,
                1.6 * 20000.0, t);
    }
    /* Deleters leave the group as they delete; the rest are removed when
     * the group is dissolved. */
    if (end - 60 < dissolve)
      rec_unlink(g, ui, PD_CHANNEL_WECHAT_GROUP, PD_UNLINK_USER_UNFOLLOWED,
                 guide_at(g, u, end - 60), end - 60);
    else
      rec_unlink(g, ui, PD_CHANNEL_WECHAT_GROUP, PD_UNLINK_STAFF_REMOVED,
                 guide_at(g, u, dissolve), dissolve);
  }

  lk->start[0] = s;
  lk->end[0] = INT64_MAX;
  lk->n = 1;
  u->main_end = INT64_MAX;
  if (end > DEMO_T_END)
    return;
  lk->end[0] = end;
  u->main_end = end;
  rec_unlink(g, ui, ch, who, is_1to1 ? guide_at(g, u, end) : 0, end);
  if (!rng_chance(r, deleter ? 0.02 : 0.10))
    return;
  int64_t back = end + rng_span(r, 10 * DEMO_DAY, 90 * DEMO_DAY);
  if (back > DEMO_T_END)
    return;
  rec_link(g, ui, ch, 0, 0, ch == PD_CHANNEL_DOUYIN ? 0 : guide_at(g, u, back),
           back);
  lk->start[1] = back;
  lk->end[1] = INT64_MAX;
  lk->n = 2;
  int64_t end2 = back + (int64_t)rng_exp(r, MONTH / rate);
  if (end2 <= DEMO_T_END) {
    lk->end[1] = end2;
    rec_unlink(g, ui, ch, is_1to1 ? baseline_initiator(r) : who,
               is_1to1 ? guide_at(g, u, end2) : 0, end2);
  }
}

/* A secondary link at @s with an optional unlink hazard (per month). */
static void side_link(gen *g, demo_rng *r, uint32_t ui, int32_t ch,
                      uint32_t guide, int64_t s, double hazard) {
  if (s > DEMO_T_END)
    return;
  rec_link(g, ui, ch, 0, 0, guide, s);
  int64_t e = INT64_MAX;
  if (hazard > 0.0) {
    int64_t t = s + (int64_t)rng_exp(r, MONTH / hazard);
    if (t <= DEMO_T_END) {
      e = t;
      int32_t who = ch == PD_CHANNEL_WECOM ? baseline_initiator(r)
                                           : PD_UNLINK_USER_UNFOLLOWED;
      rec_unlink(g, ui, ch, who,
                 ch == PD_CHANNEL_WECOM ? guide_at(g, &g->u[ui], t) : 0, t);
    }
  }
  touches_for(g, r, ui, ch, s, e);
}

static void ensure_unionid(gen *g, uint32_t ui, int64_t t) {
  gen_user *u = &g->u[ui];
  if (!u->has_unionid) {
    u->has_unionid = 1;
    rec_attach(g, ui, DEMO_NS_UNIONID, ui, t);
  }
}

/* Member details the POS learns at the till (phone, member card), unless
 * this user is a walk-in in disguise: then the phone is the walk-in's and
 * attaching it merges the two (see merge_checkout). */
static void pos_identity(gen *g, uint32_t ui, int64_t t) {
  gen_user *u = &g->u[ui];
  if (u->merge_from)
    return;
  if (!u->has_phone) {
    u->has_phone = 1;
    rec_attach(g, ui, DEMO_NS_PHONE, phone_key(ui), t);
  }
  if (!u->has_pos) {
    u->has_pos = 1;
    rec_attach(g, ui, DEMO_NS_POS_MEMBER, ui, t);
  }
}

/* The identity a user is first known by: the POS member card for walk-ins,
 * else the account of the channel that brought them. */
static int32_t primary_ns(const gen *g, const gen_user *u) {
  if (u->type == U_WALKIN)
    return DEMO_NS_POS_MEMBER;
  if (u->main_channel == PD_CHANNEL_DOUYIN)
    return DEMO_NS_DOUYIN;
  if (u->main_channel == PD_CHANNEL_WECHAT || u->source == g->d->src_referral)
    return DEMO_NS_UNIONID;
  return DEMO_NS_WECOM;
}

static void simulate_user(gen *g, uint32_t ui) {
  demo_data *d = g->d;
  gen_user *u = &g->u[ui];
  demo_rng rr = rng_for(d->seed, ui), *r = &rr;
  switch (primary_ns(g, u)) {
  case DEMO_NS_POS_MEMBER:
    u->has_pos = 1;
    break;
  case DEMO_NS_UNIONID:
    u->has_unionid = 1;
    break;
  case DEMO_NS_WECOM:
    u->has_wecom = 1;
    break;
  default:
    break;
  }

  /* What kind of customer: orders per year (Gamma), the chance of
   * dropping out after each order (Beta), mean spend (Gamma, fen). */
  double lambda = rng_gamma(r, 1.2, 2.2 / 1.2);
  double dropout = rng_beta(r, 1.0, 4.0);
  double spend = 3000.0 + rng_gamma(r, 3.0, 17000.0 / 3.0);

  /* Guide bindings first: every other event asks who the guide was. */
  if (u->type == U_REFERRAL) {
    uint32_t rg = guide_at(g, &g->u[u->referrer], u->acq);
    u->bind_g[0] = rg ? rg : pick_guide(g, r, u->shop, u->acq);
    if (u->bind_g[0] == d->leaving_guide && u->acq >= d->guide_leaves)
      u->bind_g[0] = d->heir_guide;
    u->shop = shop_of_guide(u->bind_g[0]);
  } else {
    u->bind_g[0] = pick_guide(g, r, u->shop, u->acq);
  }
  u->bind_t[0] = u->acq + 1;
  u->nbind = u->source == d->src_live_stream ? 0 : 1;
  int wants_wecom = 0;
  int64_t wecom_at = 0;
  if (u->source == d->src_live_stream && rng_chance(r, 0.4)) {
    wants_wecom = 1;
    wecom_at = u->acq + rng_span(r, DEMO_DAY, 60 * DEMO_DAY);
    u->bind_t[0] = wecom_at + 1;
    u->nbind = 1;
  }
  if (wants_wecom)
    u->bind_g[0] = pick_guide(g, r, u->shop, wecom_at);
  if (u->nbind && rng_chance(r, 0.05)) {
    int64_t t = u->bind_t[0] + rng_span(r, 30 * DEMO_DAY, 200 * DEMO_DAY);
    uint32_t ng = pick_guide(g, r, shop_of_guide(u->bind_g[0]), t);
    if (ng != u->bind_g[0] && t <= DEMO_T_END &&
        !(u->bind_g[0] == d->leaving_guide && t >= d->guide_leaves)) {
      u->bind_t[1] = t;
      u->bind_g[1] = ng;
      u->nbind = 2;
    }
  }
  /* Nobody is bound to the leaving guide once they have left. */
  for (int i = 0; i < u->nbind; i++)
    if (u->bind_g[i] == d->leaving_guide && u->bind_t[i] >= d->guide_leaves)
      u->bind_g[i] = d->heir_guide;
  for (int i = 0; i < u->nbind; i++)
    if (u->bind_t[i] <= DEMO_T_END)
      rec_bind(g, ui, u->bind_g[i], u->bind_t[i]);

  uint32_t shop_label = d->shop[u->shop];
  int64_t orders_from = u->acq;
  if (u->type == U_WALKIN) {
    /* Known only at the till: a member card and a phone number. */
    u->has_phone = u->has_pos = 1;
    rec_attach(g, ui, DEMO_NS_PHONE, phone_key(ui), u->acq);
    rec_order(g, r, ui, PD_CHANNEL_STORE, u->bind_g[0], shop_label, spend,
              u->acq + 2);
  } else {
    gen_link main = {{0, 0}, {0, 0}, 0};
    int64_t s = u->acq;
    /* The first purchase that comes with acquisition. */
    if (u->source == d->src_package_card || u->source == d->src_wangwang) {
      int64_t t = s - rng_span(r, 2 * DEMO_DAY, 7 * DEMO_DAY);
      if (t < DEMO_T_BEGIN + HOUR)
        t = DEMO_T_BEGIN + HOUR;
      rec_order(g, r, ui, DEMO_CHANNEL_TMALL, 0, 0, spend, t);
      u->has_phone = 1; /* given for the gift that comes with the card */
      rec_attach(g, ui, DEMO_NS_PHONE, phone_key(ui), s + 60);
    } else if (u->source != d->src_live_stream &&
               u->source != d->src_referral && rng_chance(r, 0.7)) {
      /* Store QR: scanned at the till while paying (bait: a small gift). */
      rec_order(g, r, ui, PD_CHANNEL_STORE, u->bind_g[0], shop_label, spend,
                s - 120);
      pos_identity(g, ui, s - 150);
    } else if (u->source == d->src_live_stream && rng_chance(r, 0.3)) {
      rec_order(g, r, ui, PD_CHANNEL_LIVE_STREAM, 0, 0, spend,
                s + rng_span(r, 60, HOUR));
    } else if (u->source == d->src_referral && rng_chance(r, 0.55)) {
      int64_t t = s + rng_span(r, HOUR, 14 * DEMO_DAY);
      if (t <= DEMO_T_END)
        rec_order(g, r, ui, PD_CHANNEL_MINI_PROGRAM, guide_at(g, u, t), 0,
                  spend, t);
    }
    if (u->referrer) {
      demo_record *rec = push(g, DEMO_REFERRAL, s - 30);
      if (rec) {
        pd_referral ev = PD_REFERRAL_INIT;
        ev.referrer = u->referrer;
        ev.referee = ui;
        ev.campaign = u->campaign;
        ev.time = s - 30;
        rec->u.referral = ev;
      }
    }
    main_link(g, r, ui, &main);
    for (int i = 0; i < main.n; i++)
      touches_for(g, r, ui, u->main_channel, main.start[i], main.end[i]);
    if (u->main_channel == PD_CHANNEL_WECOM)
      u->has_wecom = 1;

    /* Other channels the user joins over time. */
    if (wants_wecom) {
      rec_attach(g, ui, DEMO_NS_WECOM, ui, wecom_at - 1);
      u->has_wecom = 1;
      side_link(g, r, ui, PD_CHANNEL_WECOM, guide_at(g, u, wecom_at + 1),
                wecom_at, UNLINK_1TO1_PER_MONTH);
    }
    if (rng_chance(r, 0.35)) {
      int64_t t = s + rng_span(r, HOUR, 60 * DEMO_DAY);
      if (t <= DEMO_T_END) {
        ensure_unionid(g, ui, t - 1);
        side_link(g, r, ui, PD_CHANNEL_OFFICIAL_ACCOUNT, 0, t, 0.02);
      }
    }
    if (u->source == d->src_referral || rng_chance(r, 0.45)) {
      int64_t t = u->source == d->src_referral
                      ? s + 60
                      : s + rng_span(r, HOUR, 30 * DEMO_DAY);
      if (t <= DEMO_T_END) {
        ensure_unionid(g, ui, t - 1);
        side_link(g, r, ui, PD_CHANNEL_MINI_PROGRAM, 0, t, 0.0);
      }
    }
    if (!u->flash && u->main_channel != PD_CHANNEL_DOUYIN &&
        rng_chance(r, 0.08))
      side_link(g, r, ui, PD_CHANNEL_WECHAT_GROUP, guide_at(g, u, s),
                s + rng_span(r, DEMO_DAY, 90 * DEMO_DAY), 0.03);
    if (u->main_channel != PD_CHANNEL_DOUYIN && rng_chance(r, 0.05))
      side_link(g, r, ui, PD_CHANNEL_DOUYIN, 0,
                s + rng_span(r, DEMO_DAY, 120 * DEMO_DAY), 0.03);
  }

  /* The walk-in who turns out to be a linked user: at the till the linked
   * user gives a phone number the POS knows under the walk-in's member
   * card, and the POS attaches it (合并). */
  if (u->merge_from && u->merge_time <= DEMO_T_END) {
    rec_attach(g, ui, DEMO_NS_PHONE, phone_key(u->merge_from), u->merge_time);
    rec_order(g, r, ui, PD_CHANNEL_STORE, guide_at(g, u, u->merge_time),
              shop_label, spend, u->merge_time + 30);
  }

  /* Repeat purchases: a Poisson process that may stop after each order
   * (BG/NBD-like), slower once the user has deleted the brand. */
  int64_t stop = u->merge_into ? g->u[u->merge_into].merge_time : DEMO_T_END;
  double t = (double)(u->first_order >= 0 ? u->first_order : orders_from);
  int had = u->first_order >= 0;
  for (;;) {
    if (had && rng_chance(r, dropout))
      break;
    double gap_mean = 365.25 * 86400.0 / lambda;
    if ((int64_t)t >= u->main_end)
      gap_mean /= 0.4;
    t += rng_exp(r, gap_mean);
    int64_t ti = (int64_t)t;
    if (ti > stop || ti > DEMO_T_END)
      break;
    double x = rng_unit(r);
    int32_t ch;
    if (u->type == U_WALKIN)
      ch = PD_CHANNEL_STORE;
    else if (u->source == d->src_package_card || u->source == d->src_wangwang)
      ch = x < 0.5   ? DEMO_CHANNEL_TMALL
           : x < 0.9 ? PD_CHANNEL_MINI_PROGRAM
                     : PD_CHANNEL_WECOM;
    else if (u->source == d->src_live_stream)
      ch = x < 0.5 ? PD_CHANNEL_LIVE_STREAM : PD_CHANNEL_MINI_PROGRAM;
    else if (u->source == d->src_referral)
      ch = x < 0.7 ? PD_CHANNEL_MINI_PROGRAM : PD_CHANNEL_STORE;
    else
      ch = x < 0.6   ? PD_CHANNEL_STORE
           : x < 0.9 ? PD_CHANNEL_MINI_PROGRAM
                     : u->main_channel;
    uint32_t gd = 0;
    if (ch == PD_CHANNEL_STORE || ch == PD_CHANNEL_WECOM ||
        ch == PD_CHANNEL_WECHAT ||
        (ch == PD_CHANNEL_MINI_PROGRAM && rng_chance(r, 0.6)))
      gd = guide_at(g, u, ti);
    if (ch == PD_CHANNEL_STORE) {
      pos_identity(g, ui, ti - 30);
      rec_order(g, r, ui, ch, gd, shop_label, spend, ti);
    } else {
      rec_order(g, r, ui, ch, gd, 0, spend, ti);
    }
    had = 1;
  }
}

/* ---- the population ------------------------------------------------------ */

static int grow_users(gen *g) {
  if (g->n_users + 1 < g->cap_users)
    return 0;
  uint32_t cap = g->cap_users * 2;
  gen_user *p = realloc(g->u, (size_t)cap * sizeof *p);
  if (!p)
    return -1;
  memset(p + g->cap_users, 0, (size_t)(cap - g->cap_users) * sizeof *p);
  g->u = p;
  g->cap_users = cap;
  return 0;
}

static uint32_t new_user(gen *g, int type) {
  if (grow_users(g))
    return 0;
  uint32_t i = ++g->n_users;
  g->u[i].type = type;
  g->u[i].first_order = -1;
  g->u[i].main_end = INT64_MAX;
  return i;
}

/* Shops differ in size: the flagship gets the most walk-ins. */
static int pick_shop(demo_rng *r) {
  static const double w[DEMO_SHOPS] = {0.20, 0.16, 0.14, 0.13,
                                       0.11, 0.10, 0.09, 0.07};
  double x = rng_unit(r), acc = 0.0;
  for (int i = 0; i < DEMO_SHOPS; i++) {
    acc += w[i];
    if (x < acc)
      return i;
  }
  return DEMO_SHOPS - 1;
}

static void setup_labels(demo_data *d) {
  char name[48];
  for (int i = 0; i < DEMO_SHOPS; i++) {
    snprintf(name, sizeof name, "shop%d", i + 1);
    d->shop[i] = add_label(d, PD_LABEL_SHOP, name);
  }
  for (int i = 0; i < DEMO_SHOPS; i++) {
    snprintf(name, sizeof name, "store_qr:shop%d", i + 1);
    d->src_store_qr[i] = add_label(d, PD_LABEL_SOURCE, name);
  }
  d->src_package_card = add_label(d, PD_LABEL_SOURCE, "package_card");
  d->src_wangwang = add_label(d, PD_LABEL_SOURCE, "taobao_wangwang");
  d->src_live_stream = add_label(d, PD_LABEL_SOURCE, "live_stream");
  d->src_referral = add_label(d, PD_LABEL_SOURCE, "referral");
  d->src_flash_group = add_label(d, PD_LABEL_SOURCE, "flash_group:2025-06");
  d->camp_flash_group =
      add_label(d, PD_LABEL_CAMPAIGN, "2025-06-618-flash-group");
  d->camp_bestie_card = add_label(d, PD_LABEL_CAMPAIGN, "2025-09-bestie-card");
  for (int s = 0; s < DEMO_SHOPS; s++)
    for (int k = 0; k < DEMO_GUIDES_PER_SHOP; k++) {
      demo_guide *gd = &d->guides[guide_index(s, k)];
      snprintf(gd->code, sizeof gd->code, "S%d-G%d", s + 1, k + 1);
      gd->shop = d->shop[s];
    }
  d->n_guides = DEMO_SHOPS * DEMO_GUIDES_PER_SHOP;
  /* 快闪群 in the 618 season: join on 14 June, sell 15–17 June. */
  d->flash_join = month_start(5) + 13 * DEMO_DAY;
  d->flash_start = d->flash_join + DEMO_DAY;
  d->flash_end = d->flash_start + 3 * DEMO_DAY;
  d->flash_window = 30 * DEMO_DAY;
  d->bestie_start = month_start(8);
  d->bestie_end = month_start(10) - 1;
  d->leaving_guide = guide_index(2, 1); /* S3-G2 */
  d->heir_guide = guide_index(2, 0);    /* S3-G1 */
  d->guide_leaves = month_start(6) + 14 * DEMO_DAY + 10 * HOUR;
}

/* Referral trees of the bestie-card campaign: seeds are buyers still
 * linked when it starts; each referee brings 0–3 friends a few days later
 * (mean 0.8, so trees stay small but some go several generations deep,
 * up to MAX_GENERATIONS). */
#define MAX_GENERATIONS 5
static int fission(gen *g, uint32_t quota, uint32_t n_main_last) {
  demo_data *d = g->d;
  demo_rng *r = &g->rng;
  uint32_t *seeds = malloc((size_t)(n_main_last + 1) * sizeof *seeds);
  uint32_t *queue = malloc((size_t)(quota + 1) * sizeof *queue);
  int64_t *qtime = malloc((size_t)(quota + 1) * sizeof *qtime);
  uint8_t *qgen = malloc((size_t)(quota + 1));
  if (!seeds || !queue || !qtime || !qgen) {
    free(seeds);
    free(queue);
    free(qtime);
    free(qgen);
    return -1;
  }
  uint32_t n_seeds = 0;
  for (uint32_t i = 1; i <= n_main_last; i++) {
    const gen_user *u = &g->u[i];
    if (u->type == U_MAIN && u->acq < d->bestie_start - 7 * DEMO_DAY &&
        u->main_end > d->bestie_start && u->first_order >= 0 &&
        u->first_order < d->bestie_start)
      seeds[n_seeds++] = i;
  }
  for (uint32_t i = 0; i + 1 < n_seeds; i++) { /* Fisher–Yates */
    uint32_t j = i + rng_below(r, n_seeds - i);
    uint32_t t = seeds[i];
    seeds[i] = seeds[j];
    seeds[j] = t;
  }
  uint32_t made = 0;
  for (uint32_t s = 0; s < n_seeds && made < quota; s++) {
    size_t head = 0, tail = 0;
    queue[tail] = seeds[s];
    qgen[tail] = 0;
    qtime[tail++] = d->bestie_start + rng_span(r, 0, 25 * DEMO_DAY);
    while (head < tail && made < quota) {
      uint32_t parent = queue[head];
      uint8_t gen_no = qgen[head];
      int64_t pt = qtime[head++];
      double x = rng_unit(r);
      int kids = x < 0.45 ? 0 : x < 0.80 ? 1 : x < 0.95 ? 2 : 3;
      if (gen_no >= MAX_GENERATIONS)
        kids = 0;
      for (int k = 0; k < kids && made < quota; k++) {
        int64_t t = pt + rng_span(r, DEMO_DAY, 12 * DEMO_DAY);
        if (t > d->bestie_end)
          continue;
        uint32_t c = new_user(g, U_REFERRAL);
        if (!c) {
          free(seeds);
          free(queue);
          free(qtime);
          free(qgen);
          return -1;
        }
        gen_user *u = &g->u[c];
        u->source = d->src_referral;
        u->campaign = d->camp_bestie_card;
        u->referrer = parent;
        u->acq = t;
        u->main_channel = PD_CHANNEL_WECOM;
        u->shop = pick_shop(r);
        made++;
        if (tail <= quota) {
          queue[tail] = c;
          qgen[tail] = (uint8_t)(gen_no + 1);
          qtime[tail++] = t;
        }
      }
    }
  }
  free(seeds);
  free(queue);
  free(qtime);
  free(qgen);
  return 0;
}

static int population(gen *g, uint32_t n) {
  demo_data *d = g->d;
  demo_rng *r = &g->rng;
  uint32_t n_walk = n * 4 / 100, n_ref = n * 12 / 100;
  uint32_t n_organic = n_ref / 5, n_main = n - n_walk - n_ref;
  uint32_t n_merge = n / 100 ? n / 100 : 1;
  const int64_t year = DEMO_T_END - DEMO_T_BEGIN;

  for (uint32_t i = 0; i < n_walk; i++) {
    uint32_t ui = new_user(g, U_WALKIN);
    if (!ui)
      return -1;
    g->u[ui].shop = pick_shop(r);
    g->u[ui].acq =
        DEMO_T_BEGIN + rng_span(r, HOUR, month_start(4) - DEMO_T_BEGIN);
  }
  for (uint32_t i = 0; i < n_main; i++) {
    uint32_t ui = new_user(g, U_MAIN);
    if (!ui)
      return -1;
    gen_user *u = &g->u[ui];
    u->shop = pick_shop(r);
    /* Acquisition grows through the year (more staff trained, more
     * channels opened): density rises linearly by half. */
    double x = rng_unit(r);
    double f =
        (-1.0 + sqrt(1.0 + 1.25 * x)) / 0.5; /* F(f) = (f + f²/4) / 1.25 */
    u->acq = DEMO_T_BEGIN + HOUR + (int64_t)(f * (double)(year - 2 * HOUR));
    double s = rng_unit(r);
    if (s < 0.50) {
      u->source = d->src_store_qr[u->shop];
      u->main_channel =
          rng_chance(r, 0.75) ? PD_CHANNEL_WECOM : PD_CHANNEL_WECHAT;
    } else if (s < 0.68) {
      u->source = d->src_package_card;
      u->main_channel = PD_CHANNEL_WECOM;
    } else if (s < 0.88) {
      u->source = d->src_wangwang;
      u->main_channel = PD_CHANNEL_WECOM;
    } else {
      u->source = d->src_live_stream;
      u->main_channel = PD_CHANNEL_DOUYIN;
    }
  }
  uint32_t last_main = g->n_users;

  /* Walk-ins who are really a store-QR user met again at the till. */
  uint32_t *cand = malloc((size_t)(last_main + 1) * sizeof *cand);
  if (!cand)
    return -1;
  uint32_t nc = 0;
  for (uint32_t i = n_walk + 1; i <= last_main; i++) {
    const gen_user *u = &g->u[i];
    if (u->main_channel != PD_CHANNEL_DOUYIN &&
        u->source != d->src_package_card && u->source != d->src_wangwang &&
        u->acq > month_start(2) && u->acq < month_start(10))
      cand[nc++] = i;
  }
  uint32_t merged = 0;
  for (uint32_t k = 0; k < nc && merged < n_merge; k++) {
    uint32_t j = k + rng_below(r, nc - k);
    uint32_t x = cand[j];
    cand[j] = cand[k];
    cand[k] = x;
    for (uint32_t w = 1; w <= n_walk; w++) {
      gen_user *wu = &g->u[w];
      if (!wu->merge_into && wu->acq < g->u[x].acq - 30 * DEMO_DAY) {
        wu->merge_into = x;
        g->u[x].merge_from = w;
        g->u[x].merge_time =
            g->u[x].acq + rng_span(r, 3 * DEMO_DAY, 40 * DEMO_DAY);
        merged++;
        break;
      }
    }
  }
  free(cand);

  for (uint32_t i = 1; i <= last_main; i++) {
    simulate_user(g, i);
    if (g->oom)
      return -1;
  }
  uint32_t first_ref = g->n_users + 1;
  if (fission(g, n_ref - n_organic, last_main))
    return -1;
  /* Organic referrals through the year, outside any campaign. */
  for (uint32_t k = 0; k < n_organic; k++) {
    int64_t t =
        month_start(1) + rng_span(r, 0, DEMO_T_END - month_start(1) - DEMO_DAY);
    uint32_t ref = 0;
    for (int tries = 0; tries < 50 && !ref; tries++) {
      uint32_t c = n_walk + 1 + rng_below(r, n_main);
      if (g->u[c].acq < t - 7 * DEMO_DAY)
        ref = c;
    }
    if (!ref)
      continue;
    uint32_t ui = new_user(g, U_REFERRAL);
    if (!ui)
      return -1;
    g->u[ui].source = d->src_referral;
    g->u[ui].referrer = ref;
    g->u[ui].acq = t;
    g->u[ui].main_channel = PD_CHANNEL_WECOM;
    g->u[ui].shop = pick_shop(r);
  }
  for (uint32_t i = first_ref; i <= g->n_users; i++) {
    simulate_user(g, i);
    if (g->oom)
      return -1;
  }
  return 0;
}

/* Reach (the denominator of 吸粉率) and acquisition cost per source and
 * month, consistent with the links drawn: each source has its own link
 * rate (DOMAIN.md: store QR 60–85% when staff execute well, package card
 * ~20%, Wangwang ~45%), varying a little from month to month. */
static void reach_and_cost(gen *g) {
  demo_data *d = g->d;
  demo_rng *r = &g->rng;
  for (uint32_t src = 1; src <= d->n_labels; src++) {
    if (d->labels[src].kind != PD_LABEL_SOURCE)
      continue;
    double rate = 0.0;
    int32_t ch = 0;
    int64_t per_link = 0, per_reach = 0, per_month = 0;
    for (int i = 0; i < DEMO_SHOPS; i++)
      if (src == d->src_store_qr[i]) {
        rate = 0.85 - 0.25 * i / (DEMO_SHOPS - 1);
        ch = PD_CHANNEL_STORE;
        per_link = 800; /* a ¥8 gift for adding */
      }
    if (src == d->src_package_card) {
      rate = 0.20, ch = PD_CHANNEL_PACKAGE_CARD, per_reach = 35;
    } else if (src == d->src_wangwang) {
      rate = 0.45, ch = PD_CHANNEL_TAOBAO_WANGWANG, per_link = 150;
    } else if (src == d->src_live_stream) {
      rate = 0.06, ch = PD_CHANNEL_LIVE_STREAM, per_month = 2500000;
    } else if (src == d->src_referral) {
      rate = 0.35, ch = PD_CHANNEL_WECHAT, per_link = 2500;
    } else if (src == d->src_flash_group) {
      rate = 0.30, ch = PD_CHANNEL_WECOM, per_month = 300000;
    }
    for (int m = 0; m < 12; m++) {
      uint32_t links = g->links[src][m];
      double noise = 0.96 + 0.08 * rng_unit(r);
      if (links == 0)
        continue;
      uint64_t reached = (uint64_t)ceil(links / (rate * noise));
      demo_record *rec = push(g, DEMO_REACH, month_start(m));
      if (!rec)
        return;
      pd_reach re = PD_REACH_INIT;
      re.channel = ch;
      re.source = src;
      re.period_start = month_start(m);
      re.period_end = month_start(m + 1);
      re.reached = reached;
      rec->u.reach = re;
      int64_t cost =
          per_link * (int64_t)links + per_reach * (int64_t)reached + per_month;
      rec = push(g, DEMO_COST, month_start(m));
      if (!rec)
        return;
      pd_acquisition_cost co = PD_ACQUISITION_COST_INIT;
      co.channel = ch;
      co.source = src;
      co.period_start = month_start(m);
      co.period_end = month_start(m + 1);
      co.amount = cost;
      rec->u.cost = co;
    }
  }
}

/* ---- sorting and numbering ----------------------------------------------- */

static int rank(int32_t kind) {
  switch (kind) {
  case DEMO_CHANNEL:
  case DEMO_LABEL:
  case DEMO_GUIDE:
    return 0;
  case DEMO_USER:
    return 1;
  case DEMO_ATTACH:
    return 2;
  default:
    return 3;
  }
}

/* Sort keys kept apart from the records so the sort touches 16 bytes per
 * record, not the whole record. Ties: things are created before they are
 * used, then generation order. */
typedef struct sort_key {
  int64_t time;
  uint64_t rank_index; /* rank << 32 | index */
} sort_key;

static int cmp_keys(const void *a, const void *b) {
  const sort_key *x = a, *y = b;
  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return (x->rank_index > y->rank_index) - (x->rank_index < y->rank_index);
}

static void note_user(int64_t *first, uint32_t user, int64_t t) {
  if (user && t < first[user])
    first[user] = t;
}

/* Users are created at the first moment anything names them. */
static int add_user_records(gen *g) {
  demo_data *d = g->d;
  int64_t *first = malloc((size_t)(g->n_users + 1) * sizeof *first);
  if (!first)
    return -1;
  for (uint32_t i = 0; i <= g->n_users; i++)
    first[i] = INT64_MAX;
  for (size_t k = 0; k < g->n; k++) {
    const demo_record *r = &g->rec[k];
    switch (r->kind) {
    case DEMO_ATTACH:
      note_user(first, r->ref, r->time);
      break;
    case DEMO_LINK:
      note_user(first, (uint32_t)r->u.link.user, r->time);
      break;
    case DEMO_UNLINK:
      note_user(first, (uint32_t)r->u.unlink.user, r->time);
      break;
    case DEMO_TOUCH:
      note_user(first, (uint32_t)r->u.touch.user, r->time);
      break;
    case DEMO_ORDER:
      note_user(first, (uint32_t)r->u.order.user, r->time);
      break;
    case DEMO_BIND:
      note_user(first, (uint32_t)r->u.bind.user, r->time);
      break;
    case DEMO_REFERRAL:
      note_user(first, (uint32_t)r->u.referral.referrer, r->time);
      note_user(first, (uint32_t)r->u.referral.referee, r->time);
      break;
    default:
      break;
    }
  }
  for (uint32_t i = 1; i <= g->n_users; i++) {
    const gen_user *u = &g->u[i];
    demo_identity id;
    id.key = i;
    id.ns = primary_ns(g, u);
    d->users[i] = id;
    demo_record *r =
        push(g, DEMO_USER, first[i] == INT64_MAX ? u->acq : first[i]);
    if (!r)
      break;
    r->ref = i;
    r->u.identity = id;
  }
  free(first);
  return g->oom ? -1 : 0;
}

static void set_event_id(demo_record *r, uint64_t id) {
  switch (r->kind) {
  case DEMO_LINK:
    r->u.link.event_id = id;
    break;
  case DEMO_UNLINK:
    r->u.unlink.event_id = id;
    break;
  case DEMO_TOUCH:
    r->u.touch.event_id = id;
    break;
  case DEMO_ORDER:
    r->u.order.event_id = id;
    break;
  case DEMO_REFUND:
    r->u.refund.event_id = id;
    break;
  case DEMO_REFERRAL:
    r->u.referral.event_id = id;
    break;
  case DEMO_BIND:
    r->u.bind.event_id = id;
    break;
  case DEMO_HANDOVER:
    r->u.handover.event_id = id;
    break;
  case DEMO_DEACTIVATE:
    r->u.deactivate.event_id = id;
    break;
  case DEMO_REACH:
    r->u.reach.event_id = id;
    break;
  case DEMO_COST:
    r->u.cost.event_id = id;
    break;
  default:
    break;
  }
}

static int finish(gen *g) {
  size_t n = g->n;
  sort_key *keys = malloc(n * sizeof *keys);
  uint32_t *inv = malloc(n * sizeof *inv);
  demo_record *out = malloc(n * sizeof *out);
  if (!keys || !inv || !out) {
    free(keys);
    free(inv);
    free(out);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    keys[i].time = g->rec[i].time;
    keys[i].rank_index = (uint64_t)rank(g->rec[i].kind) << 32 | i;
  }
  qsort(keys, n, sizeof *keys, cmp_keys);
  for (size_t i = 0; i < n; i++) {
    uint32_t from = (uint32_t)(keys[i].rank_index & 0xFFFFFFFFu);
    out[i] = g->rec[from];
    inv[from] = (uint32_t)i;
  }
  uint32_t counter[DEMO_KIND_COUNT] = {0};
  uint64_t receipt = UINT64_C(2025000000000);
  char text[64];
  for (size_t i = 0; i < n; i++) {
    demo_record *r = &out[i];
    if (r->kind >= DEMO_LINK) {
      int len = snprintf(text, sizeof text, "demo:%s:%u",
                         demo_kind_name(r->kind), ++counter[r->kind]);
      uint64_t id = pd_event_id_from_string(text, (size_t)len);
      set_event_id(r, id);
    }
    if (r->kind == DEMO_ORDER)
      r->u.order.order_id = ++receipt;
    if (r->kind == DEMO_REFUND) {
      r->ref = inv[r->ref];
      r->u.refund.order_id = out[r->ref].u.order.order_id;
    }
  }
  free(keys);
  free(inv);
  free(g->rec);
  g->rec = out;
  return 0;
}

int demo_generate(uint64_t seed, uint32_t users, demo_data *out) {
  memset(out, 0, sizeof *out);
  if (users < DEMO_MIN_USERS)
    users = DEMO_MIN_USERS;
  if (users > DEMO_MAX_USERS)
    users = DEMO_MAX_USERS;
  gen g;
  memset(&g, 0, sizeof g);
  g.d = out;
  out->seed = seed;
  g.rng = rng_for(seed, UINT64_C(0xFFFFFFFFFFFF));
  g.flash_acc = rng_unit(&g.rng);
  g.cap_users = users + 16;
  g.u = calloc(g.cap_users, sizeof *g.u);
  if (!g.u)
    return -1;
  setup_labels(out);

  /* Setup: the custom channel, labels and guides exist from day one. */
  demo_record *r = push(&g, DEMO_CHANNEL, DEMO_T_BEGIN);
  for (uint32_t i = 1; r && i <= out->n_labels; i++) {
    r = push(&g, DEMO_LABEL, DEMO_T_BEGIN);
    if (r)
      r->ref = i;
  }
  for (uint32_t i = 1; r && i <= out->n_guides; i++) {
    r = push(&g, DEMO_GUIDE, DEMO_T_BEGIN);
    if (r)
      r->ref = i;
  }
  int rc = g.oom ? -1 : population(&g, users);
  if (!rc) {
    /* 离职继承: the leaving guide's users go to the heir, then the guide
     * is deactivated. */
    r = push(&g, DEMO_HANDOVER, out->guide_leaves);
    if (r) {
      pd_guide_handover ev = PD_GUIDE_HANDOVER_INIT;
      ev.from_guide = out->leaving_guide;
      ev.to_guide = out->heir_guide;
      ev.time = out->guide_leaves;
      r->u.handover = ev;
    }
    r = push(&g, DEMO_DEACTIVATE, out->guide_leaves + 60);
    if (r) {
      pd_guide_deactivate ev = PD_GUIDE_DEACTIVATE_INIT;
      ev.guide = out->leaving_guide;
      ev.time = out->guide_leaves + 60;
      r->u.deactivate = ev;
    }
    reach_and_cost(&g);
    out->n_users = g.n_users;
    out->users = calloc((size_t)g.n_users + 1, sizeof *out->users);
    rc = (g.oom || !out->users) ? -1 : add_user_records(&g);
  }
  if (!rc)
    rc = finish(&g);
  free(g.u);
  if (rc) {
    free(g.rec);
    free(out->users);
    memset(out, 0, sizeof *out);
    return -1;
  }
  out->records = g.rec;
  out->n_records = g.n;
  return 0;
}

void demo_free(demo_data *d) {
  if (!d)
    return;
  free(d->records);
  free(d->users);
  memset(d, 0, sizeof *d);
}

const char *demo_ns_name(int32_t ns) {
  switch (ns) {
  case DEMO_NS_PHONE:
    return "phone";
  case DEMO_NS_UNIONID:
    return "wechat.unionid";
  case DEMO_NS_WECOM:
    return "wecom.external_userid";
  case DEMO_NS_POS_MEMBER:
    return "pos.member";
  case DEMO_NS_DOUYIN:
    return "douyin.openid";
  default:
    return "?";
  }
}

size_t demo_identity_key(demo_identity id, char *buf, size_t cap) {
  int n;
  switch (id.ns) {
  case DEMO_NS_PHONE:
    n = snprintf(buf, cap, "+86139%08u", id.key);
    break;
  case DEMO_NS_UNIONID:
    n = snprintf(buf, cap, "oDemo_%08x_u%u", id.key * 2654435761u, id.key);
    break;
  case DEMO_NS_WECOM:
    n = snprintf(buf, cap, "wmDemo%010u", id.key);
    break;
  case DEMO_NS_POS_MEMBER:
    n = snprintf(buf, cap, "M%08u", id.key);
    break;
  case DEMO_NS_DOUYIN:
    n = snprintf(buf, cap, "dy_%010u", id.key);
    break;
  default:
    n = snprintf(buf, cap, "?%u", id.key);
    break;
  }
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *demo_kind_name(int32_t kind) {
  static const char *const names[DEMO_KIND_COUNT] = {
      "?",    "channel",  "label",      "guide", "user",   "attach",
      "link", "unlink",   "touch",      "order", "refund", "referral",
      "bind", "handover", "deactivate", "reach", "cost"};
  return kind > 0 && kind < DEMO_KIND_COUNT ? names[kind] : "?";
}

/* ---- the player ---------------------------------------------------------- */

int demo_player_init(demo_player *p, const demo_data *d, pd_store *store,
                     int lazy) {
  memset(p, 0, sizeof *p);
  p->d = d;
  p->store = store;
  p->lazy = lazy;
  p->user_ids = calloc((size_t)d->n_users + 1, sizeof *p->user_ids);
  p->guide_ids = calloc((size_t)d->n_guides + 1, sizeof *p->guide_ids);
  p->label_ids = calloc((size_t)d->n_labels + 1, sizeof *p->label_ids);
  if (!p->user_ids || !p->guide_ids || !p->label_ids) {
    demo_player_free(p);
    return -1;
  }
  return 0;
}

void demo_player_free(demo_player *p) {
  free(p->user_ids);
  free(p->guide_ids);
  free(p->label_ids);
  p->user_ids = NULL;
  p->guide_ids = NULL;
  p->label_ids = NULL;
}

const char *demo_player_errmsg(const demo_player *p) {
  return p->msg[0] ? p->msg : pd_store_errmsg(p->store);
}

int32_t demo_channel_id(const demo_player *p, int32_t channel) {
  return channel == DEMO_CHANNEL_TMALL ? p->tmall : channel;
}

static int ok(pd_status st) { return st == PD_OK || st == PD_REPLAYED; }

static pd_status missing(demo_player *p, const char *what, uint32_t i) {
  snprintf(p->msg, sizeof p->msg, "demo %s %u is used before it is created",
           what, i);
  return PD_E_NOT_FOUND;
}

static pd_status make_channel(demo_player *p) {
  return pd_channel_register(p->store, "tmall", PD_NTS, PD_CHANNEL_PUBLIC,
                             &p->tmall);
}

static pd_status make_label(demo_player *p, uint32_t i) {
  const demo_label *l = &p->d->labels[i];
  return pd_label_ensure(p->store, l->kind, l->name, PD_NTS, &p->label_ids[i]);
}

static pd_status need_label(demo_player *p, uint32_t *v) {
  uint32_t i = *v;
  if (i == 0)
    return PD_OK;
  if (i > p->d->n_labels)
    return missing(p, "label", i);
  if (!p->label_ids[i]) {
    if (!p->lazy)
      return missing(p, "label", i);
    pd_status st = make_label(p, i);
    if (!ok(st))
      return st;
  }
  *v = p->label_ids[i];
  return PD_OK;
}

static pd_status make_guide(demo_player *p, uint32_t i) {
  uint32_t shop = p->d->guides[i].shop;
  pd_status st = need_label(p, &shop);
  if (!ok(st))
    return st;
  return pd_guide_ensure(p->store, p->d->guides[i].code, PD_NTS, shop,
                         &p->guide_ids[i]);
}

static pd_status need_guide(demo_player *p, uint32_t *v) {
  uint32_t i = *v;
  if (i == 0)
    return PD_OK;
  if (i > p->d->n_guides)
    return missing(p, "guide", i);
  if (!p->guide_ids[i]) {
    if (!p->lazy)
      return missing(p, "guide", i);
    pd_status st = make_guide(p, i);
    if (!ok(st))
      return st;
  }
  *v = p->guide_ids[i];
  return PD_OK;
}

static pd_status make_user(demo_player *p, uint32_t i) {
  char key[64];
  demo_identity id = p->d->users[i];
  size_t len = demo_identity_key(id, key, sizeof key);
  return pd_user_ensure(p->store, demo_ns_name(id.ns), PD_NTS, key, len,
                        &p->user_ids[i]);
}

static pd_status need_user(demo_player *p, pd_user_id *v) {
  pd_user_id i = *v;
  if (i == 0 || i > p->d->n_users)
    return missing(p, "user", (uint32_t)i);
  if (!p->user_ids[i]) {
    if (!p->lazy)
      return missing(p, "user", (uint32_t)i);
    pd_status st = make_user(p, (uint32_t)i);
    if (!ok(st))
      return st;
  }
  *v = p->user_ids[i];
  return PD_OK;
}

static pd_status need_channel(demo_player *p, int32_t *ch) {
  if (*ch != DEMO_CHANNEL_TMALL)
    return PD_OK;
  if (!p->tmall) {
    if (!p->lazy)
      return missing(p, "channel", (uint32_t)*ch);
    pd_status st = make_channel(p);
    if (!ok(st))
      return st;
  }
  *ch = p->tmall;
  return PD_OK;
}

/* Resolve in order, stopping at the first failure. */
#define NEED(call)                                                             \
  do {                                                                         \
    pd_status st_ = (call);                                                    \
    if (!ok(st_))                                                              \
      return st_;                                                              \
  } while (0)

pd_status demo_play(demo_player *p, const demo_record *r) {
  pd_store *s = p->store;
  p->msg[0] = '\0';
  switch (r->kind) {
  case DEMO_CHANNEL:
    return make_channel(p);
  case DEMO_LABEL:
    return make_label(p, r->ref);
  case DEMO_GUIDE:
    return make_guide(p, r->ref);
  case DEMO_USER:
    return make_user(p, r->ref);
  case DEMO_ATTACH: {
    pd_user_id u = r->ref, out = 0;
    char key[64];
    NEED(need_user(p, &u));
    size_t len = demo_identity_key(r->u.identity, key, sizeof key);
    return pd_user_attach(s, u, demo_ns_name(r->u.identity.ns), PD_NTS, key,
                          len, &out);
  }
  case DEMO_LINK: {
    pd_link_event ev = r->u.link;
    NEED(need_user(p, &ev.user));
    NEED(need_channel(p, &ev.channel));
    NEED(need_label(p, &ev.source));
    NEED(need_label(p, &ev.campaign));
    NEED(need_guide(p, &ev.guide));
    return pd_record_link(s, &ev);
  }
  case DEMO_UNLINK: {
    pd_unlink_event ev = r->u.unlink;
    NEED(need_user(p, &ev.user));
    NEED(need_channel(p, &ev.channel));
    NEED(need_guide(p, &ev.guide));
    return pd_record_unlink(s, &ev);
  }
  case DEMO_TOUCH: {
    pd_touchpoint ev = r->u.touch;
    NEED(need_user(p, &ev.user));
    NEED(need_channel(p, &ev.channel));
    NEED(need_guide(p, &ev.guide));
    NEED(need_label(p, &ev.campaign));
    return pd_record_touchpoint(s, &ev);
  }
  case DEMO_ORDER: {
    pd_order ev = r->u.order;
    NEED(need_user(p, &ev.user));
    NEED(need_channel(p, &ev.channel));
    NEED(need_guide(p, &ev.guide));
    NEED(need_label(p, &ev.shop));
    return pd_record_order(s, &ev);
  }
  case DEMO_REFUND:
    return pd_record_refund(s, &r->u.refund);
  case DEMO_REFERRAL: {
    pd_referral ev = r->u.referral;
    NEED(need_user(p, &ev.referrer));
    NEED(need_user(p, &ev.referee));
    NEED(need_label(p, &ev.campaign));
    return pd_record_referral(s, &ev);
  }
  case DEMO_BIND: {
    pd_guide_bind ev = r->u.bind;
    NEED(need_user(p, &ev.user));
    NEED(need_guide(p, &ev.guide));
    return pd_record_guide_bind(s, &ev);
  }
  case DEMO_HANDOVER: {
    pd_guide_handover ev = r->u.handover;
    NEED(need_guide(p, &ev.from_guide));
    NEED(need_guide(p, &ev.to_guide));
    return pd_record_guide_handover(s, &ev);
  }
  case DEMO_DEACTIVATE: {
    pd_guide_deactivate ev = r->u.deactivate;
    NEED(need_guide(p, &ev.guide));
    return pd_record_guide_deactivate(s, &ev);
  }
  case DEMO_REACH: {
    pd_reach ev = r->u.reach;
    NEED(need_channel(p, &ev.channel));
    NEED(need_label(p, &ev.source));
    return pd_record_reach(s, &ev);
  }
  case DEMO_COST: {
    pd_acquisition_cost ev = r->u.cost;
    NEED(need_channel(p, &ev.channel));
    NEED(need_label(p, &ev.source));
    return pd_record_cost(s, &ev);
  }
  default:
    snprintf(p->msg, sizeof p->msg, "unknown demo record kind %d",
             (int)r->kind);
    return PD_E_INVALID;
  }
}

int demo_record_all(const demo_data *d, pd_store *store, char *err,
                    size_t cap) {
  demo_player p;
  if (demo_player_init(&p, d, store, 0)) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < d->n_records; i++) {
    pd_status st = demo_play(&p, &d->records[i]);
    if (st != PD_OK) {
      snprintf(err, cap, "recording %s #%zu: %s: %s",
               demo_kind_name(d->records[i].kind), i, pd_status_str(st),
               demo_player_errmsg(&p));
      demo_player_free(&p);
      return -1;
    }
  }
  demo_player_free(&p);
  return 0;
}
