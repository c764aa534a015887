/* domain_gen: the streaming private-domain generator (see domain_gen.h for
 * the rates and their sources).
 *
 * How it streams: every user is a small state machine of four timed
 * processes (lifecycle: acquisition/unlink/re-link; purchases; touches; a
 * pending refund), each holding the time of its next event. A calendar of
 * days holds every user under the day of their earliest next event. Day by
 * day, the users due that day are taken in id order, run until their next
 * event falls on a later day, and filed again; the day's events are then
 * put in time order (a stable counting sort by second, so ties keep user
 * order) and handed out. Randomness is counter-based, keyed by
 * (seed, user, process, draw number), so nothing depends on how the output
 * is cut into batches. */
#include "domain_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400u
#define DAYS 730u
#define PERIOD_DAYS 30u
#define NEVER UINT32_MAX
#define ORDER_SHIFT 20
static const int64_t T0 = INT64_C(1704067200); /* 2024-01-01T00:00:00Z */

enum { P_LIFE, P_BUY, P_TOUCH, P_REFUND, NPROC };
/* Streams of parameter draws (beyond the four processes' counters). */
enum { S_PARAM = 8, S_SHOP, S_ARRIVE, S_MISC, S_GUIDE };

enum { PH_NEW, PH_LINKED, PH_RELINK, PH_GONE };

/* Sources, in label id order (1-based). */
enum {
  SRC_STORE_QR = 1, SRC_PACKAGE_CARD, SRC_WANGWANG, SRC_PAID_ADS,
  SRC_CONTENT, SRC_LIVE, SRC_FISSION, SRC_STOCK, NSRC = SRC_STOCK
};
static const char *const source_names[NSRC] = {
    "store_qr", "package_card", "wangwang", "paid_ads",
    "content",  "live_stream",  "fission",  "stock_import"};
/* Link rate 吸粉率 in percent and acquisition cost per link in fen. */
static const uint32_t link_rate_pct[NSRC + 1] = {0, 60, 20, 45, 5, 10, 8, 50, 70};
static const uint32_t cac_fen[NSRC + 1] = {0, 500, 800, 1200, 4000, 1500, 2500, 1000, 0};

typedef struct ustate {
  uint32_t next[NPROC]; /* seconds since T0 of each process's next event */
  uint32_t ctr[NPROC];  /* draws made by each process */
  float lambda;         /* purchases per day while alive */
  float pdrop;          /* dropout probability after a purchase */
  float rho;            /* touches per day while linked */
  float nu;             /* mean order value, fen */
  uint32_t refund_amount;
  uint32_t guide;       /* the user's exclusive guide (its shop is the user's) */
  uint16_t orders, refund_order;
  uint8_t phase, channel, source, pad;
} ustate;

/* One generated event before it gets its id and record. */
typedef struct cev {
  uint32_t sec;  /* seconds since T0 */
  uint32_t user; /* user (or guide for guide events) */
  uint32_t a32;
  uint16_t a16;
  uint8_t kind, a8;
  int64_t a64;
} cev;

typedef struct bucket {
  uint32_t *u;
  uint32_t n, cap;
} bucket;

struct pdg {
  uint64_t users, seed;
  uint32_t shops, guides, campaigns;
  ustate *st;
  bucket cal[DAYS];
  uint32_t *leave_sec;   /* per guide (1-based), NEVER if it stays */
  uint32_t *leavers;     /* guides that leave, by leave time */
  uint32_t n_leavers, next_leaver;
  uint16_t camp_of_day[DAYS];
  uint32_t links[13][NSRC + 1]; /* links per (channel, source) this period */
  cev *ev;
  uint64_t *keys; /* the day's events in time order (low 32 bits) */
  uint32_t *sorttmp;
  size_t ev_n, ev_cap, sort_cap, keys_cap, pos;
  uint32_t day;
  uint64_t next_eid;
  int failed;
  pdg_counts counts;
};

/* ---- randomness ---------------------------------------------------------- */

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The n-th 64-bit draw of (user, stream). */
static uint64_t draw(const pdg *g, uint64_t u, uint32_t stream, uint32_t n) {
  uint64_t k = mix(g->seed + 0x9E3779B97F4A7C15ull * (u + 1));
  return mix(k ^ ((uint64_t)stream << 40 | n) * 0xD1B54A32D192ED03ull);
}
static double unit(uint64_t x) { return ((double)(x >> 11) + 0.5) * 0x1p-53; }

/* The next uniform of process p of user u. */
static double uni(const pdg *g, uint32_t u, ustate *s, int p) {
  return unit(draw(g, u, (uint32_t)p, s->ctr[p]++));
}

/* A small sequential generator for parameter draws (gamma, beta). */
typedef struct lrng {
  uint64_t s;
} lrng;
static double lu(lrng *r) { return unit(mix(r->s += 0x9E3779B97F4A7C15ull)); }
static double gamma_var(lrng *r, double shape) {
  if (shape < 1.0) return gamma_var(r, shape + 1.0) * pow(lu(r), 1.0 / shape);
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double z = sqrt(-2.0 * log(lu(r))) * cos(6.283185307179586 * lu(r));
    double v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    if (log(lu(r)) < 0.5 * z * z + d - d * v + d * log(v)) return d * v;
  }
}
static double beta_var(lrng *r, double a, double b) {
  double x = gamma_var(r, a), y = gamma_var(r, b);
  return x / (x + y);
}

/* t + an exponential wait of mean `mean_s` seconds (at least 1 s), NEVER
 * when it falls after the period. */
static uint32_t after(uint32_t t, double u, double mean_s) {
  double w = -log(u) * mean_s;
  if (w < 1.0) w = 1.0;
  double x = (double)t + w;
  return x >= (double)DAYS * DAY ? NEVER : (uint32_t)x;
}

/* ---- the chain ------------------------------------------------------------ */

static uint32_t user_shop(const pdg *g, uint32_t u) {
  double x = unit(draw(g, u, S_SHOP, 0));
  uint32_t s = (uint32_t)(g->shops * pow(x, 1.6));
  return 1 + (s < g->shops ? s : g->shops - 1);
}

static uint32_t guides_in_shop(const pdg *g, uint32_t shop) {
  return g->guides / g->shops + (shop - 1 < g->guides % g->shops);
}

/* The user's exclusive guide, drawn in their shop. */
static uint32_t user_guide(const pdg *g, uint32_t u) {
  uint32_t shop = user_shop(g, u);
  uint32_t rank = (uint32_t)(draw(g, u, S_GUIDE, 0) % guides_in_shop(g, shop));
  return shop + rank * g->shops;
}

/* The user's guide, or its heir once it has left by time t. */
static uint32_t guide_at(const pdg *g, const ustate *s, uint32_t t) {
  uint32_t gd = s->guide;
  return t >= g->leave_sec[gd] ? gd - g->shops : gd;
}

static uint32_t guide_shop(const pdg *g, uint32_t gd) {
  return 1 + (gd - 1) % g->shops;
}

/* Acquisition time of user u: 20% stock in the first 30 days, then a
 * linearly growing arrival rate; the second of the day stays below 86000
 * so the acquisition bundle (+60 s) stays on its day. */
static uint32_t arrival(const pdg *g, uint32_t u) {
  double q = ((double)u - 0.5) / (double)g->users, days;
  if (q < 0.2)
    days = 30.0 * q / 0.2;
  else
    days = 30.0 + (DAYS - 31.0) * sqrt((q - 0.2) / 0.8);
  uint32_t d = (uint32_t)days;
  if (d >= DAYS) d = DAYS - 1;
  return d * DAY + (uint32_t)(draw(g, u, S_ARRIVE, 0) % 86000u);
}

/* ---- growing arrays --------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

static void file_user(pdg *g, uint32_t day, uint32_t u) {
  bucket *b = &g->cal[day];
  if (b->n == b->cap) {
    size_t cap = b->cap;
    if (grow((void **)&b->u, &cap, (size_t)b->n + 1, sizeof *b->u)) {
      g->failed = 1;
      return;
    }
    b->cap = (uint32_t)cap;
  }
  b->u[b->n++] = u;
}

static cev *emit(pdg *g, uint8_t kind, uint32_t sec, uint32_t user) {
  if (grow((void **)&g->ev, &g->ev_cap, g->ev_n + 1, sizeof *g->ev)) {
    g->failed = 1;
    return NULL;
  }
  cev *e = &g->ev[g->ev_n++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->sec = sec;
  e->user = user;
  return e;
}

/* ---- the user's processes ------------------------------------------------- */

/* Months (30 days) a link lasts: geometric with the user's hazard θ. */
static uint32_t link_end(const pdg *g, uint32_t u, ustate *s, uint32_t t) {
  lrng r = {draw(g, u, S_PARAM, 1)};
  double theta = beta_var(&r, 0.5, 5.0);
  if (theta < 1e-6) theta = 1e-6;
  double k = floor(log(uni(g, u, s, P_LIFE)) / log1p(-theta));
  double x = (double)t + (k + uni(g, u, s, P_LIFE)) * PERIOD_DAYS * DAY;
  return x >= (double)DAYS * DAY ? NEVER : (uint32_t)x;
}

static const int32_t link_channels[5] = {
    PD_CHANNEL_WECOM, PD_CHANNEL_WECHAT, PD_CHANNEL_OFFICIAL_ACCOUNT,
    PD_CHANNEL_MINI_PROGRAM, PD_CHANNEL_WECHAT_GROUP};

static void acquire(pdg *g, uint32_t u, ustate *s, uint32_t t) {
  uint32_t day = t / DAY;
  uint16_t camp = g->camp_of_day[day];
  double x = uni(g, u, s, P_LIFE);
  uint8_t src;
  if ((double)u <= 0.2 * (double)g->users)
    src = SRC_STOCK;
  else if (x < 0.35) src = SRC_STORE_QR;
  else if (x < 0.50) src = SRC_PACKAGE_CARD;
  else if (x < 0.60) src = SRC_WANGWANG;
  else if (x < 0.68) src = SRC_PAID_ADS;
  else if (x < 0.78) src = SRC_CONTENT;
  else if (x < 0.85) src = SRC_LIVE;
  else src = SRC_FISSION;
  if (u == 1 && src == SRC_FISSION) src = SRC_CONTENT;
  x = uni(g, u, s, P_LIFE);
  int ch = x < 0.50 ? 0 : x < 0.65 ? 1 : x < 0.80 ? 2 : x < 0.95 ? 3 : 4;
  s->channel = (uint8_t)link_channels[ch];
  s->source = src;
  uint32_t guide = guide_at(g, s, t);
  uint16_t link_camp =
      camp && (src == SRC_FISSION || uni(g, u, s, P_LIFE) < 0.3) ? camp : 0;
  cev *e = emit(g, PD_EVENT_LINK, t, u);
  if (!e) return;
  e->a8 = s->channel, e->a16 = link_camp, e->a32 = guide, e->a64 = src;
  g->links[s->channel][src]++;
  if (uni(g, u, s, P_LIFE) < 0.8) {
    if (!(e = emit(g, PD_EVENT_GUIDE_BIND, t + 1, u))) return;
    e->a32 = guide;
  }
  if (src == SRC_FISSION) {
    double y = uni(g, u, s, P_LIFE);
    if (!(e = emit(g, PD_EVENT_REFERRAL, t + 2, u))) return;
    e->a64 = 1 + (int64_t)((double)(u - 1) * y * y * y);
    if ((uint64_t)e->a64 >= u) e->a64 = u - 1;
    e->a16 = camp;
  }
  if (s->channel != PD_CHANNEL_MINI_PROGRAM && uni(g, u, s, P_LIFE) < 0.25) {
    if (!(e = emit(g, PD_EVENT_LINK, t + 60, u))) return;
    e->a8 = PD_CHANNEL_MINI_PROGRAM, e->a32 = guide, e->a64 = src;
    g->links[PD_CHANNEL_MINI_PROGRAM][src]++;
  }
  /* The user's rates (BG/NBD, Gamma-Gamma, touches). */
  lrng r = {draw(g, u, S_PARAM, 0)};
  s->lambda = (float)(gamma_var(&r, 0.9) / 90.0);
  s->pdrop = (float)beta_var(&r, 0.7, 3.0);
  s->nu = (float)(gamma_var(&r, 3.5) * 7000.0);
  s->rho = (float)(0.07 * gamma_var(&r, 0.6) / 0.6);
  if (s->lambda < 1e-5f) s->lambda = 1e-5f;
  if (s->rho < 1e-5f) s->rho = 1e-5f;
  s->phase = PH_LINKED;
  s->next[P_LIFE] = link_end(g, u, s, t + 61);
  s->next[P_BUY] = uni(g, u, s, P_BUY) < 0.65
                       ? after(t + 61, uni(g, u, s, P_BUY), 14.0 * DAY)
                       : NEVER;
  s->next[P_TOUCH] = after(t + 61, uni(g, u, s, P_TOUCH), DAY / s->rho);
}

static void life_event(pdg *g, uint32_t u, ustate *s, uint32_t t) {
  cev *e;
  if (s->phase == PH_NEW) {
    acquire(g, u, s, t);
    return;
  }
  if (s->phase == PH_LINKED) { /* 删粉 */
    double x = uni(g, u, s, P_LIFE);
    int32_t who = x < 0.70   ? PD_UNLINK_USER_DELETED
                  : x < 0.80 ? PD_UNLINK_USER_BLOCKED
                  : x < 0.95 ? PD_UNLINK_USER_UNFOLLOWED
                             : PD_UNLINK_STAFF_REMOVED;
    if (!(e = emit(g, PD_EVENT_UNLINK, t, u))) return;
    e->a8 = s->channel, e->a16 = (uint16_t)who, e->a32 = guide_at(g, s, t);
    if (who <= PD_UNLINK_USER_BLOCKED && uni(g, u, s, P_LIFE) < 0.2) {
      if (!(e = emit(g, PD_EVENT_CONSENT, t, u))) return;
      e->a8 = PD_CONSENT_MARKETING;
    }
    if (uni(g, u, s, P_LIFE) < 0.25) {
      s->phase = PH_RELINK;
      s->next[P_LIFE] = after(t, uni(g, u, s, P_LIFE), 20.0 * DAY);
    } else {
      s->phase = PH_GONE;
      s->next[P_LIFE] = NEVER;
    }
    return;
  }
  /* PH_RELINK: back on the same channel. */
  if (!(e = emit(g, PD_EVENT_LINK, t, u))) return;
  e->a8 = s->channel, e->a32 = guide_at(g, s, t);
  g->links[s->channel][0]++;
  s->phase = PH_LINKED;
  s->next[P_LIFE] = link_end(g, u, s, t);
}

static void buy_event(pdg *g, uint32_t u, ustate *s, uint32_t t) {
  /* Gamma(5) as minus the log of a product of five uniforms. */
  double prod = 1.0;
  for (int k = 0; k < 5; k++) prod *= uni(g, u, s, P_BUY);
  double amount = -log(prod) * s->nu / 5.0;
  int64_t fen = amount < 1.0 ? 1 : (int64_t)amount;
  if (fen > INT64_C(100000000)) fen = INT64_C(100000000);
  uint16_t seq = ++s->orders;
  cev *e = emit(g, PD_EVENT_ORDER, t, u);
  if (!e) return;
  double x = uni(g, u, s, P_BUY);
  e->a8 = (uint8_t)(x < 0.5 ? PD_CHANNEL_MINI_PROGRAM
                    : x < 0.9 ? PD_CHANNEL_STORE : PD_CHANNEL_APP);
  e->a16 = seq;
  e->a32 = uni(g, u, s, P_BUY) < 0.6 ? guide_at(g, s, t) : 0;
  e->a64 = fen;
  if (s->next[P_REFUND] == NEVER && uni(g, u, s, P_BUY) < 0.05) {
    uint32_t rt = t + DAY + (uint32_t)(uni(g, u, s, P_BUY) * 13.0 * DAY);
    if (rt < DAYS * DAY) {
      s->next[P_REFUND] = rt;
      s->refund_order = seq;
      double part = uni(g, u, s, P_BUY);
      int64_t ra = part < 0.5 ? fen : (int64_t)((double)fen * part);
      s->refund_amount = (uint32_t)(ra < 1 ? 1 : ra);
    }
  }
  if (seq == UINT16_MAX || uni(g, u, s, P_BUY) < s->pdrop)
    s->next[P_BUY] = NEVER;
  else
    s->next[P_BUY] = after(t, uni(g, u, s, P_BUY), DAY / s->lambda);
}

static void touch_event(pdg *g, uint32_t u, ustate *s, uint32_t t) {
  if (s->phase == PH_GONE) {
    s->next[P_TOUCH] = NEVER;
    return;
  }
  if (s->phase == PH_LINKED) {
    uint16_t camp = g->camp_of_day[t / DAY];
    double x = uni(g, u, s, P_TOUCH);
    int32_t kind = x < 0.300   ? PD_TOUCH_BROADCAST
                   : x < 0.550 ? PD_TOUCH_POST_EXPOSURE
                   : x < 0.700 ? PD_TOUCH_OUTBOUND_1TO1
                   : x < 0.800 ? PD_TOUCH_INBOUND_MESSAGE
                   : x < 0.900 ? PD_TOUCH_CONTENT_VIEW
                   : x < 0.950 ? PD_TOUCH_CONTENT_ENGAGEMENT
                   : x < 0.980 ? PD_TOUCH_LIVE_VIEW
                   : x < 0.995 ? PD_TOUCH_PROMISE_KEPT
                   : x < 0.998 ? PD_TOUCH_PROMISE_BROKEN
                               : PD_TOUCH_RATING;
    int32_t purpose = PD_PURPOSE_NONE;
    if (kind == PD_TOUCH_BROADCAST || kind == PD_TOUCH_POST_EXPOSURE ||
        kind == PD_TOUCH_OUTBOUND_1TO1) {
      double y = uni(g, u, s, P_TOUCH);
      purpose = y < 0.35 ? PD_PURPOSE_SERVICE
                : y < 0.70 ? PD_PURPOSE_CONTENT : PD_PURPOSE_PROMOTION;
      /* In a campaign window most broadcasts promote. */
      if (camp && kind == PD_TOUCH_BROADCAST && uni(g, u, s, P_TOUCH) < 0.8)
        purpose = PD_PURPOSE_PROMOTION;
    }
    cev *e = emit(g, PD_EVENT_TOUCHPOINT, t, u);
    if (!e) return;
    e->a8 = (uint8_t)kind;
    e->a16 = (uint16_t)(purpose | (kind == PD_TOUCH_INBOUND_MESSAGE ||
                                           kind == PD_TOUCH_CONTENT_VIEW
                                       ? 0
                                       : s->channel << 4));
    if (kind == PD_TOUCH_OUTBOUND_1TO1 || kind == PD_TOUCH_PROMISE_KEPT ||
        kind == PD_TOUCH_PROMISE_BROKEN)
      e->a32 = guide_at(g, s, t);
    if (kind == PD_TOUCH_BROADCAST && camp) e->a64 = camp;
    if (kind == PD_TOUCH_RATING) {
      uint64_t r = draw(g, u, P_TOUCH, s->ctr[P_TOUCH]++);
      int64_t packed = 0;
      for (int k = 0; k < 4; k++)
        packed |= (int64_t)(1 + (r >> (8 * k)) % 10) << (32 + 8 * k);
      e->a64 |= packed;
    }
    /* Campaign backlash: a promotional campaign push makes a few unlink. */
    if (camp && kind == PD_TOUCH_BROADCAST && purpose == PD_PURPOSE_PROMOTION &&
        uni(g, u, s, P_TOUCH) < 0.03) {
      uint32_t ut = after(t, uni(g, u, s, P_TOUCH), 0.5 * DAY);
      if (ut < s->next[P_LIFE]) s->next[P_LIFE] = ut;
    }
  }
  s->next[P_TOUCH] = after(t, uni(g, u, s, P_TOUCH), DAY / s->rho);
}

static void refund_event(pdg *g, uint32_t u, ustate *s, uint32_t t) {
  cev *e = emit(g, PD_EVENT_REFUND, t, u);
  if (!e) return;
  e->a16 = s->refund_order;
  e->a64 = s->refund_amount;
  s->next[P_REFUND] = NEVER;
}

/* Run user u's processes up to the end of the day, then file it again. */
static void run_user(pdg *g, uint32_t u, uint32_t day_end) {
  ustate *s = &g->st[u - 1];
  for (;;) {
    int p = 0;
    uint32_t t = s->next[0];
    for (int k = 1; k < NPROC; k++)
      if (s->next[k] < t) t = s->next[k], p = k;
    if (t >= day_end || g->failed) break;
    switch (p) {
      case P_LIFE: life_event(g, u, s, t); break;
      case P_BUY: buy_event(g, u, s, t); break;
      case P_TOUCH: touch_event(g, u, s, t); break;
      default: refund_event(g, u, s, t); break;
    }
  }
  uint32_t w = s->next[0];
  for (int k = 1; k < NPROC; k++)
    if (s->next[k] < w) w = s->next[k];
  if (w != NEVER && w / DAY < DAYS) file_user(g, w / DAY, u);
}

/* ---- days -------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Users due today in id order (so state is walked forward in memory). */
static int sort_bucket(pdg *g, bucket *b) {
  if (b->n < 4096) {
    qsort(b->u, b->n, sizeof *b->u, cmp_u32);
    return 0;
  }
  if (grow((void **)&g->sorttmp, &g->sort_cap, b->n, sizeof *g->sorttmp))
    return -1;
  uint32_t *src = b->u, *dst = g->sorttmp;
  static uint32_t cnt[65536];
  for (int pass = 0; pass < 2; pass++) {
    int sh = 16 * pass;
    memset(cnt, 0, sizeof cnt);
    for (uint32_t i = 0; i < b->n; i++) cnt[(src[i] >> sh) & 0xFFFF]++;
    uint32_t sum = 0;
    for (int k = 0; k < 65536; k++) {
      uint32_t c = cnt[k];
      cnt[k] = sum;
      sum += c;
    }
    for (uint32_t i = 0; i < b->n; i++) dst[cnt[(src[i] >> sh) & 0xFFFF]++] = src[i];
    uint32_t *t = src;
    src = dst, dst = t;
  }
  return 0;
}

static void global_events(pdg *g, uint32_t day) {
  uint32_t start = day * DAY;
  if (day > 0 && day % PERIOD_DAYS == 0) { /* the period's reach and cost */
    for (int ch = 0; ch < 13; ch++)
      for (int src = 1; src <= NSRC; src++) {
        uint32_t n = g->links[ch][src];
        if (!n) continue;
        cev *e = emit(g, PD_EVENT_REACH, start, 0);
        if (!e) return;
        e->a8 = (uint8_t)ch, e->a16 = (uint16_t)src;
        e->a32 = day / PERIOD_DAYS - 1;
        e->a64 = ((int64_t)n * 100 + link_rate_pct[src] - 1) / link_rate_pct[src];
        if (cac_fen[src]) {
          if (!(e = emit(g, PD_EVENT_COST, start, 0))) return;
          e->a8 = (uint8_t)ch, e->a16 = (uint16_t)src;
          e->a32 = day / PERIOD_DAYS - 1;
          e->a64 = (int64_t)n * cac_fen[src];
        }
      }
    memset(g->links, 0, sizeof g->links);
  }
  while (g->next_leaver < g->n_leavers) {
    uint32_t gd = g->leavers[g->next_leaver];
    uint32_t t = g->leave_sec[gd];
    if (t / DAY != day) break;
    g->next_leaver++;
    cev *e = emit(g, PD_EVENT_GUIDE_HANDOVER, t, gd);
    if (!e) return;
    e->a32 = gd - g->shops;
    if (!(e = emit(g, PD_EVENT_GUIDE_DEACTIVATE, t + 3600, gd))) return;
  }
}

/* Generate day `day` into g->ev and its time order into g->order. */
static void build_day(pdg *g, uint32_t day) {
  g->ev_n = 0;
  g->pos = 0;
  global_events(g, day);
  bucket b = g->cal[day];
  g->cal[day] = (bucket){NULL, 0, 0};
  if (sort_bucket(g, &b)) g->failed = 1;
  uint32_t day_end = (day + 1) * DAY;
  for (uint32_t i = 0; i < b.n && !g->failed; i++) {
    if (i + 8 < b.n) __builtin_prefetch(&g->st[b.u[i + 8] - 1]);
    run_user(g, b.u[i], day_end);
  }
  free(b.u);
  if (g->failed) return;
  if (grow((void **)&g->keys, &g->keys_cap, 2 * g->ev_n, sizeof *g->keys)) {
    g->failed = 1;
    return;
  }
  /* Stable LSD radix sort by second of the day (17 bits: 9 + 8), keys
   * (second << 32 | index), so ties keep generation order. */
  uint64_t *src = g->keys, *dst = g->keys + g->ev_n;
  uint32_t start = day * DAY;
  for (size_t i = 0; i < g->ev_n; i++)
    src[i] = (uint64_t)(g->ev[i].sec - start) << 32 | i;
  for (int pass = 0; pass < 2; pass++) {
    int sh = 32 + 9 * pass;
    uint32_t cnt[512] = {0};
    for (size_t i = 0; i < g->ev_n; i++) cnt[(src[i] >> sh) & 511]++;
    uint32_t sum = 0;
    for (int k = 0; k < 512; k++) {
      uint32_t c = cnt[k];
      cnt[k] = sum;
      sum += c;
    }
    for (size_t i = 0; i < g->ev_n; i++) dst[cnt[(src[i] >> sh) & 511]++] = src[i];
    uint64_t *t = src;
    src = dst, dst = t;
  }
}

/* ---- public -------------------------------------------------------------- */

pdg *pdg_new(uint64_t users, uint64_t seed) {
  if (users == 0 || users > (UINT64_C(1) << 28)) return NULL;
  pdg *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->users = users;
  g->seed = seed;
  g->shops = (uint32_t)(users / 1430 > 10 ? users / 1430 : 10);
  g->guides = (uint32_t)(users / 250 > 20 ? users / 250 : 20);
  if (g->guides < 2 * g->shops) g->guides = 2 * g->shops;
  g->campaigns = 2 * DAYS / PERIOD_DAYS;
  g->st = calloc(users, sizeof *g->st);
  g->leave_sec = malloc(((size_t)g->guides + 1) * sizeof *g->leave_sec);
  g->leavers = malloc(((size_t)g->guides + 1) * sizeof *g->leavers);
  if (!g->st || !g->leave_sec || !g->leavers) {
    pdg_free(g);
    return NULL;
  }
  for (uint32_t c = 1; c <= g->campaigns; c++) {
    uint32_t d0 = 5 + (c - 1) * (PERIOD_DAYS / 2);
    for (uint32_t d = d0; d < d0 + 3 && d < DAYS; d++) g->camp_of_day[d] = (uint16_t)c;
  }
  /* Guides with an odd rank in their shop may leave (to rank − 1). */
  g->leave_sec[0] = NEVER;
  for (uint32_t gd = 1; gd <= g->guides; gd++) {
    uint32_t rank = (gd - 1) / g->shops;
    uint64_t h = draw(g, gd, S_MISC, 0);
    g->leave_sec[gd] = NEVER;
    if (rank % 2 == 1 && unit(h) < 0.3)
      g->leave_sec[gd] = (30 + (uint32_t)((h >> 8) % 670)) * DAY +
                         (uint32_t)((h >> 24) % 80000);
    if (g->leave_sec[gd] != NEVER) g->leavers[g->n_leavers++] = gd;
  }
  /* Leavers by leave time (insertion into a few thousand is cheap enough
   * for 40,000 guides: a shell sort). */
  for (uint32_t gap = g->n_leavers / 2; gap > 0; gap /= 2)
    for (uint32_t i = gap; i < g->n_leavers; i++)
      for (uint32_t j = i; j >= gap && g->leave_sec[g->leavers[j - gap]] >
                                           g->leave_sec[g->leavers[j]];
           j -= gap) {
        uint32_t t = g->leavers[j];
        g->leavers[j] = g->leavers[j - gap];
        g->leavers[j - gap] = t;
      }
  for (uint64_t u = 1; u <= users && !g->failed; u++) {
    ustate *s = &g->st[u - 1];
    uint32_t t = arrival(g, (uint32_t)u);
    s->next[P_LIFE] = t;
    s->next[P_BUY] = s->next[P_TOUCH] = s->next[P_REFUND] = NEVER;
    s->guide = user_guide(g, (uint32_t)u);
    file_user(g, t / DAY, (uint32_t)u);
  }
  if (g->failed) {
    pdg_free(g);
    return NULL;
  }
  g->next_eid = 1;
  return g;
}

void pdg_free(pdg *g) {
  if (!g) return;
  for (uint32_t d = 0; d < DAYS; d++) free(g->cal[d].u);
  free(g->st);
  free(g->leave_sec);
  free(g->leavers);
  free(g->ev);
  free(g->keys);
  free(g->sorttmp);
  free(g);
}

uint64_t pdg_users(const pdg *g) { return g->users; }
uint32_t pdg_shops(const pdg *g) { return g->shops; }
uint32_t pdg_guides(const pdg *g) { return g->guides; }
uint32_t pdg_campaigns(const pdg *g) { return g->campaigns; }
int64_t pdg_t0(const pdg *g) { (void)g; return T0; }
int64_t pdg_as_of(const pdg *g) { (void)g; return T0 + (int64_t)DAYS * DAY; }
int pdg_failed(const pdg *g) { return g->failed; }
const pdg_counts *pdg_get_counts(const pdg *g) { return &g->counts; }

size_t pdg_phone(const pdg *g, uint64_t u, char *buf) {
  (void)g;
  uint64_t v = UINT64_C(13000000000) + u;
  char tmp[24];
  size_t n = 0;
  while (v) tmp[n++] = (char)('0' + v % 10), v /= 10;
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = 0;
  return n;
}

size_t pdg_memory(const pdg *g) {
  size_t m = sizeof *g + g->users * sizeof *g->st +
             2 * ((size_t)g->guides + 1) * sizeof(uint32_t) +
             g->ev_cap * sizeof *g->ev +
             g->sort_cap * sizeof(uint32_t) + g->keys_cap * sizeof(uint64_t);
  for (uint32_t d = 0; d < DAYS; d++) m += (size_t)g->cal[d].cap * sizeof(uint32_t);
  return m;
}

/* A wrong id (the store was not empty) is reported as PD_E_INVALID. */
static pd_status fail(pd_status st) { return st == PD_OK ? PD_E_INVALID : st; }

pd_status pdg_setup_store(const pdg *g, pd_store *s) {
  char name[64];
  uint32_t id;
  pd_status st;
  for (uint32_t k = 1; k <= g->shops; k++) {
    snprintf(name, sizeof name, "shop-%05u", k);
    if ((st = pd_label_ensure(s, PD_LABEL_SHOP, name, PD_NTS, &id)) || id != k)
      return fail(st);
  }
  for (uint32_t k = 1; k <= NSRC; k++)
    if ((st = pd_label_ensure(s, PD_LABEL_SOURCE, source_names[k - 1], PD_NTS,
                              &id)) ||
        id != k)
      return fail(st);
  for (uint32_t k = 1; k <= g->campaigns; k++) {
    snprintf(name, sizeof name, "campaign-%03u", k);
    if ((st = pd_label_ensure(s, PD_LABEL_CAMPAIGN, name, PD_NTS, &id)) ||
        id != k)
      return fail(st);
  }
  for (uint32_t k = 1; k <= g->guides; k++) {
    snprintf(name, sizeof name, "G%06u", k);
    if ((st = pd_guide_ensure(s, name, PD_NTS, 1 + (k - 1) % g->shops, &id)) ||
        id != k)
      return fail(st);
  }
  /* Members arrive as an import would bring them: their phones in
   * batches (pd_users_ensure), then the unionids of those who have one. */
  enum { CHUNK = 1024 };
  char phones[CHUNK][24];
  const char *keys[CHUNK];
  size_t lens[CHUNK];
  pd_user_id ids[CHUNK];
  pd_status sts[CHUNK];
  for (uint64_t first = 1; first <= g->users; first += CHUNK) {
    size_t m = g->users - first + 1 < CHUNK ? (size_t)(g->users - first + 1)
                                            : CHUNK;
    for (size_t k = 0; k < m; k++) {
      lens[k] = pdg_phone(g, first + k, phones[k]);
      keys[k] = phones[k];
    }
    if ((st = pd_users_ensure(s, "phone", 5, m, keys, lens, ids, sts)))
      return fail(st);
    for (size_t k = 0; k < m; k++) {
      uint64_t u = first + k;
      pd_user_id uid = ids[k];
      if (sts[k] != PD_OK || uid != u) return fail(sts[k]);
      uint64_t h = draw(g, u, S_MISC, 1);
      if (unit(h) >= 0.3) continue;
      static const char hex[] = "0123456789abcdef";
      name[0] = 'o', name[1] = 'U';
      for (int d = 0; d < 16; d++) name[2 + d] = hex[(h >> (4 * d)) & 15];
      for (int d = 0; d < 10; d++) name[18 + d] = hex[(u >> (4 * d)) & 15];
      if ((st = pd_user_attach(s, uid, "unionid", 7, name, 28, &uid)))
        return fail(st);
    }
  }
  return PD_OK;
}

static void to_record(const pdg *g, const cev *e, uint64_t eid, pdg_record *r) {
  int64_t t = T0 + e->sec;
  switch (e->kind) {
    case PD_EVENT_LINK: {
      pd_link_event x = PD_LINK_EVENT_INIT;
      x.event_id = eid, x.user = e->user, x.channel = e->a8;
      x.source = (uint32_t)e->a64, x.campaign = e->a16, x.guide = e->a32;
      x.time = t;
      r->link = x;
      break;
    }
    case PD_EVENT_UNLINK: {
      pd_unlink_event x = PD_UNLINK_EVENT_INIT;
      x.event_id = eid, x.user = e->user, x.channel = e->a8;
      x.initiator = e->a16, x.guide = e->a32, x.time = t;
      r->unlink = x;
      break;
    }
    case PD_EVENT_TOUCHPOINT: {
      pd_touchpoint x = PD_TOUCHPOINT_INIT;
      x.event_id = eid, x.user = e->user, x.kind = e->a8;
      x.purpose = e->a16 & 15, x.channel = e->a16 >> 4, x.guide = e->a32;
      x.campaign = (uint32_t)(e->a64 & 0xFFFF);
      if (x.kind == PD_TOUCH_RATING) {
        x.rating_expertise = (int32_t)((e->a64 >> 32) & 0xFF);
        x.rating_reliability = (int32_t)((e->a64 >> 40) & 0xFF);
        x.rating_intimacy = (int32_t)((e->a64 >> 48) & 0xFF);
        x.rating_self_orientation = (int32_t)((e->a64 >> 56) & 0xFF);
      }
      x.time = t;
      r->touch = x;
      break;
    }
    case PD_EVENT_ORDER: {
      pd_order x = PD_ORDER_INIT;
      x.event_id = eid;
      x.order_id = ((uint64_t)e->user << ORDER_SHIFT) | e->a16;
      x.user = e->user, x.time = t, x.amount = e->a64, x.channel = e->a8;
      x.guide = e->a32;
      x.shop = x.channel == PD_CHANNEL_STORE ? guide_shop(g, g->st[e->user - 1].guide) : 0;
      r->order = x;
      break;
    }
    case PD_EVENT_REFUND: {
      pd_refund x = PD_REFUND_INIT;
      x.event_id = eid;
      x.order_id = ((uint64_t)e->user << ORDER_SHIFT) | e->a16;
      x.time = t, x.amount = e->a64;
      r->refund = x;
      break;
    }
    case PD_EVENT_REFERRAL: {
      pd_referral x = PD_REFERRAL_INIT;
      x.event_id = eid, x.referrer = (pd_user_id)e->a64, x.referee = e->user;
      x.campaign = e->a16, x.time = t;
      r->referral = x;
      break;
    }
    case PD_EVENT_GUIDE_BIND: {
      pd_guide_bind x = PD_GUIDE_BIND_INIT;
      x.event_id = eid, x.user = e->user, x.guide = e->a32, x.time = t;
      r->bind = x;
      break;
    }
    case PD_EVENT_GUIDE_HANDOVER: {
      pd_guide_handover x = PD_GUIDE_HANDOVER_INIT;
      x.event_id = eid, x.from_guide = e->user, x.to_guide = e->a32;
      x.time = t;
      r->handover = x;
      break;
    }
    case PD_EVENT_GUIDE_DEACTIVATE: {
      pd_guide_deactivate x = PD_GUIDE_DEACTIVATE_INIT;
      x.event_id = eid, x.guide = e->user, x.time = t;
      r->deactivate = x;
      break;
    }
    case PD_EVENT_REACH: {
      pd_reach x = PD_REACH_INIT;
      x.event_id = eid, x.channel = e->a8, x.source = e->a16;
      x.period_start = T0 + (int64_t)e->a32 * PERIOD_DAYS * DAY;
      x.period_end = x.period_start + PERIOD_DAYS * DAY;
      x.reached = (uint64_t)e->a64;
      r->reach = x;
      break;
    }
    case PD_EVENT_COST: {
      pd_acquisition_cost x = PD_ACQUISITION_COST_INIT;
      x.event_id = eid, x.channel = e->a8, x.source = e->a16;
      x.period_start = T0 + (int64_t)e->a32 * PERIOD_DAYS * DAY;
      x.period_end = x.period_start + PERIOD_DAYS * DAY;
      x.amount = e->a64;
      r->cost = x;
      break;
    }
    default: {
      pd_consent x = PD_CONSENT_INIT;
      x.event_id = eid, x.user = e->user, x.purpose = e->a8;
      x.granted = 0, x.time = t;
      r->consent = x;
      break;
    }
  }
}

size_t pdg_next(pdg *g, size_t max, int32_t *kinds, pdg_record *records,
                const void **ptrs) {
  size_t n = 0;
  while (n < max && !g->failed) {
    if (g->pos == g->ev_n) {
      if (g->day >= DAYS) break;
      build_day(g, g->day++);
      continue;
    }
    const cev *e = &g->ev[(uint32_t)g->keys[g->pos++]];
    kinds[n] = e->kind;
    to_record(g, e, g->next_eid++, &records[n]);
    ptrs[n] = &records[n];
    g->counts.by_kind[e->kind]++;
    g->counts.total++;
    n++;
  }
  return n;
}
