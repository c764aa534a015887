/* A small event script for the metrics tests: events named by test-local
 * indices (user i is the i-th user created, guide j the j-th guide),
 * recorded in script order or shuffled, so a test can build a hand-sized
 * store and prove a figure does not depend on arrival order. */
#ifndef PD_TESTS_METRICS_B_TESTUTIL_H
#define PD_TESTS_METRICS_B_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <privdomain/privdomain.h>

#define MB_DAY INT64_C(86400)
#define MB_HOUR INT64_C(3600)
/* 2024-01-01T00:00:00Z, a Monday. */
#define MB_T0 INT64_C(1704067200)

enum {
  MB_LINK = 1,   /* a=user b=channel c=source d=campaign e=guide */
  MB_UNLINK,     /* a=user b=channel c=initiator e=guide */
  MB_TOUCH,      /* a=user b=PD_TOUCH_* c=guide d=campaign */
  MB_ORDER,      /* a=user amount, e=guide on the order, d=shop */
  MB_REFUND,     /* a=script index of the order, amount */
  MB_REFERRAL,   /* a=referrer b=referee */
  MB_BIND,       /* a=user b=guide */
  MB_HANDOVER,   /* a=from guide b=to guide */
  MB_REACH,      /* b=channel c=source amount=reached (period: one day) */
  MB_COST        /* b=channel c=source amount */
};

typedef struct mb_ev {
  int kind;
  int64_t t;
  uint32_t a, b, c, d, e;
  int64_t amount;
} mb_ev;

/* Users "u1".."u<n>" get ids 1..n in a fresh store. */
static inline void mb_users(pd_store *s, uint32_t n) {
  for (uint32_t i = 1; i <= n; i++) {
    char key[16];
    snprintf(key, sizeof key, "u%u", (unsigned)i);
    pd_user_id id = 0;
    if (pd_user_ensure(s, "test", PD_NTS, key, PD_NTS, &id) != PD_OK ||
        id != i) {
      fprintf(stderr, "mb_users: user %u got id %llu\n", (unsigned)i,
              (unsigned long long)id);
    }
  }
}

/* Guides "G1".."G<n>" (in shop `shop`) get ids 1..n. */
static inline void mb_guides(pd_store *s, uint32_t n, uint32_t shop) {
  for (uint32_t i = 1; i <= n; i++) {
    char code[16];
    snprintf(code, sizeof code, "G%u", (unsigned)i);
    uint32_t g = 0;
    pd_guide_ensure(s, code, PD_NTS, shop, &g);
  }
}

static inline pd_status mb_record(pd_store *s, const mb_ev *v, size_t i) {
  const mb_ev *e = &v[i];
  uint64_t eid = (uint64_t)i + 1;
  switch (e->kind) {
    case MB_LINK: {
      pd_link_event x = PD_LINK_EVENT_INIT;
      x.event_id = eid, x.user = e->a, x.channel = (int32_t)e->b;
      x.source = e->c, x.campaign = e->d, x.guide = e->e, x.time = e->t;
      return pd_record_link(s, &x);
    }
    case MB_UNLINK: {
      pd_unlink_event x = PD_UNLINK_EVENT_INIT;
      x.event_id = eid, x.user = e->a, x.channel = (int32_t)e->b;
      x.initiator = (int32_t)e->c, x.guide = e->e, x.time = e->t;
      return pd_record_unlink(s, &x);
    }
    case MB_TOUCH: {
      pd_touchpoint x = PD_TOUCHPOINT_INIT;
      x.event_id = eid, x.user = e->a, x.kind = (int32_t)e->b;
      x.guide = e->c, x.campaign = e->d, x.time = e->t;
      x.channel = PD_CHANNEL_WECOM;
      if (e->b == PD_TOUCH_OUTBOUND_1TO1 || e->b == PD_TOUCH_BROADCAST ||
          e->b == PD_TOUCH_POST_EXPOSURE)
        x.purpose = e->d ? PD_PURPOSE_PROMOTION : PD_PURPOSE_SERVICE;
      return pd_record_touchpoint(s, &x);
    }
    case MB_ORDER: {
      pd_order x = PD_ORDER_INIT;
      x.event_id = eid, x.order_id = eid, x.user = e->a, x.time = e->t;
      x.amount = e->amount, x.guide = e->e, x.shop = e->d;
      return pd_record_order(s, &x);
    }
    case MB_REFUND: {
      pd_refund x = PD_REFUND_INIT;
      x.event_id = eid, x.order_id = (uint64_t)e->a + 1, x.time = e->t;
      x.amount = e->amount;
      return pd_record_refund(s, &x);
    }
    case MB_REFERRAL: {
      pd_referral x = PD_REFERRAL_INIT;
      x.event_id = eid, x.referrer = e->a, x.referee = e->b, x.time = e->t;
      return pd_record_referral(s, &x);
    }
    case MB_BIND: {
      pd_guide_bind x = PD_GUIDE_BIND_INIT;
      x.event_id = eid, x.user = e->a, x.guide = e->b, x.time = e->t;
      return pd_record_guide_bind(s, &x);
    }
    case MB_HANDOVER: {
      pd_guide_handover x = PD_GUIDE_HANDOVER_INIT;
      x.event_id = eid, x.from_guide = e->a, x.to_guide = e->b, x.time = e->t;
      return pd_record_guide_handover(s, &x);
    }
    case MB_REACH: {
      pd_reach x = PD_REACH_INIT;
      x.event_id = eid, x.channel = (int32_t)e->b, x.source = e->c;
      x.period_start = e->t, x.period_end = e->t + MB_DAY;
      x.reached = (uint64_t)e->amount;
      return pd_record_reach(s, &x);
    }
    case MB_COST: {
      pd_acquisition_cost x = PD_ACQUISITION_COST_INIT;
      x.event_id = eid, x.channel = (int32_t)e->b, x.source = e->c;
      x.period_start = e->t, x.period_end = e->t + MB_DAY;
      x.amount = e->amount;
      return pd_record_cost(s, &x);
    }
    default: return PD_E_INVALID;
  }
}

/* Record the script: in order when seed is 0, else shuffled by the seed
 * (refunds last, after the orders they refund). Returns the first
 * failure, or PD_OK. */
static inline pd_status mb_play(pd_store *s, const mb_ev *v, size_t n,
                                uint64_t seed) {
  size_t perm[512];
  if (n > 512) return PD_E_RANGE;
  for (size_t i = 0; i < n; i++) perm[i] = i;
  uint64_t x = seed;
  for (size_t i = n; seed && i > 1; i--) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    size_t j = (size_t)((x >> 33) % i);
    size_t tmp = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = tmp;
  }
  for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < n; k++) {
      size_t i = perm[k];
      if ((v[i].kind == MB_REFUND) != (pass == 1)) continue;
      pd_status st = mb_record(s, v, i);
      if (st != PD_OK) {
        fprintf(stderr, "mb_play: event %zu (kind %d): %s\n", i, v[i].kind,
                pd_store_errmsg(s));
        return st;
      }
    }
  return PD_OK;
}

static inline pd_metrics_filter mb_filter(int64_t as_of) {
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = as_of;
  return f;
}

#endif
