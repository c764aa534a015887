/* Helpers for the persistence tests: a small store holding every kind of
 * event and every kind of change (so a snapshot of it exercises every
 * section in a few kilobytes), memory sinks and sources for the callback
 * API, scratch directories, and a digest of a store's public answers. */
#ifndef PD_TESTS_PERSIST_TESTUTIL_H
#define PD_TESTS_PERSIST_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <privdomain/guide_metrics.h>
#include <privdomain/privdomain.h>

#include "store_testutil.h"

#define T0 INT64_C(1735689600) /* 2025-01-01 */
#define DAY INT64_C(86400)

/* A memory buffer written by pd_snapshot_write and read back. */
typedef struct membuf {
  unsigned char *p;
  size_t len, cap, pos;
  size_t chunk; /* read at most this much per call (0 = all) */
} membuf;

static inline int32_t membuf_write(void *user, const void *buf, size_t len) {
  membuf *m = user;
  if (m->len + len > m->cap) {
    size_t ncap = m->cap ? m->cap : 4096;
    while (ncap < m->len + len) ncap *= 2;
    unsigned char *q = realloc(m->p, ncap);
    if (!q) return -1;
    m->p = q;
    m->cap = ncap;
  }
  memcpy(m->p + m->len, buf, len);
  m->len += len;
  return 0;
}

static inline int32_t membuf_read(void *user, void *buf, size_t len,
                                  size_t *got) {
  membuf *m = user;
  size_t n = m->len - m->pos;
  if (n > len) n = len;
  if (m->chunk && n > m->chunk) n = m->chunk;
  memcpy(buf, m->p + m->pos, n);
  m->pos += n;
  *got = n;
  return 0;
}

/* A fresh scratch directory (mkdtemp) under TMPDIR or /tmp. */
static inline void scratch_dir(char *buf, size_t cap, const char *tag) {
  const char *t = getenv("TMPDIR");
  snprintf(buf, cap, "%s/pd_%s_XXXXXX", t && *t ? t : "/tmp", tag);
  if (mkdtemp(buf) == NULL) buf[0] = '\0';
}

static inline void remove_dir(const char *dir) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) { /* best effort */
  }
}

/* Record a small private domain using every recording function: users
 * merged (by attach and by merge) and erased, a custom channel, labels of
 * each kind, guides with a bind, a handover and a deactivation, links,
 * unlinks, touchpoints (a rating), orders, refunds, a referral, consent,
 * reach and cost. Returns 0 or the first failing status. `salt` varies
 * event ids so two calls can record disjoint events. */
static inline pd_status small_domain(pd_store *s, uint64_t salt) {
  pd_status st;
#define TRY(x)                                       \
  do {                                               \
    st = (x);                                        \
    if (st != PD_OK && st != PD_REPLAYED) return st; \
  } while (0)
  pd_user_id a, b, c, d, e, m;
  char k[32];
  snprintf(k, sizeof k, "1380000%llu1", (unsigned long long)salt);
  TRY(pd_user_ensure(s, "phone", PD_NTS, k, PD_NTS, &a));
  snprintf(k, sizeof k, "1380000%llu2", (unsigned long long)salt);
  TRY(pd_user_ensure(s, "phone", PD_NTS, k, PD_NTS, &b));
  snprintf(k, sizeof k, "wx-%llu-3", (unsigned long long)salt);
  TRY(pd_user_ensure(s, "wechat.unionid", PD_NTS, k, PD_NTS, &c));
  snprintf(k, sizeof k, "会员-%llu-4", (unsigned long long)salt);
  TRY(pd_user_ensure(s, "pos.member", PD_NTS, k, PD_NTS, &d));
  snprintf(k, sizeof k, "wx-%llu-5", (unsigned long long)salt);
  TRY(pd_user_ensure(s, "wechat.unionid", PD_NTS, k, PD_NTS, &e));
  snprintf(k, sizeof k, "wx-%llu-3", (unsigned long long)salt);
  TRY(pd_user_attach(s, a, "wechat.unionid", PD_NTS, k, PD_NTS, &m));
  snprintf(k, sizeof k, "pos-%llu-a", (unsigned long long)salt);
  TRY(pd_user_attach(s, a, "pos.member", PD_NTS, k, PD_NTS, &m));
  int32_t tmall;
  TRY(pd_channel_register(s, "tmall", PD_NTS, PD_CHANNEL_PUBLIC, &tmall));
  uint32_t src, camp, shop, g1, g2;
  TRY(pd_label_ensure(s, PD_LABEL_SOURCE, "store_qr:上海", PD_NTS, &src));
  TRY(pd_label_ensure(s, PD_LABEL_CAMPAIGN, "闺蜜卡", PD_NTS, &camp));
  snprintf(k, sizeof k, "shop-%llu", (unsigned long long)salt);
  TRY(pd_label_ensure(s, PD_LABEL_SHOP, k, PD_NTS, &shop));
  snprintf(k, sizeof k, "G1-%llu", (unsigned long long)salt);
  TRY(pd_guide_ensure(s, k, PD_NTS, shop, &g1));
  snprintf(k, sizeof k, "G2-%llu", (unsigned long long)salt);
  TRY(pd_guide_ensure(s, k, PD_NTS, shop, &g2));
  TRY(pd_guide_set_commission(s, g2, 250));
  uint64_t id = salt * 1000 + 1;
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = id++, l.user = a, l.channel = PD_CHANNEL_WECOM, l.source = src;
  l.campaign = camp, l.guide = g1, l.time = T0 + DAY;
  TRY(pd_record_link(s, &l));
  l.event_id = id++, l.user = b, l.channel = tmall, l.time = T0 + 2 * DAY;
  TRY(pd_record_link(s, &l));
  l.event_id = id++, l.user = d, l.channel = PD_CHANNEL_WECHAT;
  TRY(pd_record_link(s, &l));
  pd_unlink_event u = PD_UNLINK_EVENT_INIT;
  u.event_id = id++, u.user = b, u.channel = tmall;
  u.initiator = PD_UNLINK_USER_BLOCKED, u.guide = g1, u.time = T0 + 9 * DAY;
  TRY(pd_record_unlink(s, &u));
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = id++, t.user = a, t.kind = PD_TOUCH_BROADCAST;
  t.purpose = PD_PURPOSE_PROMOTION, t.channel = PD_CHANNEL_WECOM;
  t.guide = g1, t.campaign = camp, t.time = T0 + 3 * DAY;
  TRY(pd_record_touchpoint(s, &t));
  pd_touchpoint r = PD_TOUCHPOINT_INIT;
  r.event_id = id++, r.user = c, r.kind = PD_TOUCH_RATING;
  r.rating_expertise = 8, r.rating_reliability = 9, r.rating_intimacy = 7;
  r.rating_self_orientation = 3, r.time = T0 + 4 * DAY;
  TRY(pd_record_touchpoint(s, &r));
  pd_order o = PD_ORDER_INIT;
  o.event_id = id++, o.order_id = salt * 1000 + 1, o.user = a;
  o.time = T0 + 5 * DAY, o.amount = 29900, o.channel = PD_CHANNEL_STORE;
  o.guide = g1, o.shop = shop;
  TRY(pd_record_order(s, &o));
  o.event_id = id++, o.order_id = salt * 1000 + 2, o.user = c;
  o.time = T0 + 30 * DAY, o.amount = 15800;
  TRY(pd_record_order(s, &o));
  o.event_id = id++, o.order_id = salt * 1000 + 3, o.user = d;
  o.time = T0 + 31 * DAY, o.amount = 5000;
  TRY(pd_record_order(s, &o));
  pd_refund f = PD_REFUND_INIT;
  f.event_id = id++, f.order_id = salt * 1000 + 1, f.time = T0 + 7 * DAY;
  f.amount = 9900;
  TRY(pd_record_refund(s, &f));
  f.event_id = id++, f.order_id = salt * 1000 + 3, f.time = T0 + 32 * DAY;
  f.amount = 1000;
  TRY(pd_record_refund(s, &f));
  pd_referral ref = PD_REFERRAL_INIT;
  ref.event_id = id++, ref.referrer = a, ref.referee = e, ref.campaign = camp;
  ref.time = T0 + 6 * DAY;
  TRY(pd_record_referral(s, &ref));
  pd_guide_bind gb = PD_GUIDE_BIND_INIT;
  gb.event_id = id++, gb.user = a, gb.guide = g1, gb.time = T0 + DAY;
  TRY(pd_record_guide_bind(s, &gb));
  gb.event_id = id++, gb.user = d, gb.guide = g1, gb.time = T0 + DAY;
  TRY(pd_record_guide_bind(s, &gb));
  pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
  h.event_id = id++, h.from_guide = g1, h.to_guide = g2, h.time = T0 + 40 * DAY;
  TRY(pd_record_guide_handover(s, &h));
  pd_guide_deactivate gd = PD_GUIDE_DEACTIVATE_INIT;
  gd.event_id = id++, gd.guide = g1, gd.time = T0 + 41 * DAY;
  TRY(pd_record_guide_deactivate(s, &gd));
  pd_consent cs = PD_CONSENT_INIT;
  cs.event_id = id++, cs.user = a, cs.purpose = PD_CONSENT_MARKETING;
  cs.granted = 0, cs.time = T0 + 8 * DAY;
  TRY(pd_record_consent(s, &cs));
  pd_reach re = PD_REACH_INIT;
  re.event_id = id++, re.channel = PD_CHANNEL_WECOM, re.source = src;
  re.period_start = T0, re.period_end = T0 + 31 * DAY, re.reached = 1200;
  TRY(pd_record_reach(s, &re));
  pd_acquisition_cost co = PD_ACQUISITION_COST_INIT;
  co.event_id = id++, co.channel = PD_CHANNEL_WECOM, co.source = src;
  co.period_start = T0, co.period_end = T0 + 31 * DAY, co.amount = 500000;
  TRY(pd_record_cost(s, &co));
  TRY(pd_user_merge(s, b, e, &m));
  TRY(pd_user_erase(s, d));
#undef TRY
  return PD_OK;
}

/* Every public answer about the store (users 1..ids, guides 1..guides). */
static inline uint64_t digest_of(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  if (pd_store_get_stats(s, &st) != PD_OK) return 0;
  pd_user_id ids = st.users + st.merged_users + st.erased_users;
  static const int64_t times[] = {T0 + 3 * DAY, T0 + 35 * DAY,
                                  T0 + 365 * DAY};
  return store_digest(s, ids, times, 3, (uint32_t)st.guides);
}

#endif
