/* Specification of the store's replay guarantees, on the whole `pd demo`
 * private domain (about 180,000 records: 5,000 users, 8 shops, a year):
 * recording is idempotent and order-independent up to causal order, and
 * the demo has the realism later work relies on. The demo generator
 * (examples/pd/demo_data.c) is compiled into this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_data.h"

/* ---- fixture: the demo recorded in time order --------------------------- */

typedef struct snapshot {
  int64_t *v;
  size_t n, cap;
} snapshot;

static struct {
  demo_data d;
  pd_store *store; /* (a): recorded in time order */
  demo_player player;
  size_t not_ok; /* records that did not return PD_OK in (a) */
  size_t first_bad;
  pd_status first_bad_status;
  char first_bad_msg[256];
  snapshot snap; /* every per-user and per-guide answer of (a) */
  pd_store_stats stats;
} fx;

static void put(snapshot *s, int64_t x) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1 << 16;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    assert_non_null(s->v);
  }
  s->v[s->n++] = x;
}

/* The times the answers are compared at: before anything unusual, in the
 * middle of the flash-group campaign, just after the guide's handover, and
 * at the end of the year. */
static int64_t as_of(int k) {
  switch (k) {
  case 0:
    return DEMO_T_BEGIN + 59 * DEMO_DAY;
  case 1:
    return fx.d.flash_start + DEMO_DAY;
  case 2:
    return fx.d.guide_leaves + DEMO_DAY;
  default:
    return DEMO_T_END;
  }
}
#define N_AS_OF 4

static int is_creation(int32_t kind) { return kind < DEMO_LINK; }

/*
 * Everything the store answers about every demo user and guide, with the
 * store's own ids translated back to demo indices (users by the smallest
 * demo index merged into them), so stores that handed out ids in
 * different orders can be compared.
 */
static void take_snapshot(pd_store *store, const demo_player *p,
                          snapshot *out) {
  const demo_data *d = p->d;
  out->n = 0;
  pd_user_id *canon = calloc((size_t)d->n_users + 1, sizeof *canon);
  assert_non_null(canon);
  pd_user_id max_id = 0;
  for (uint32_t i = 1; i <= d->n_users; i++) {
    assert_int_equal(pd_user_canonical(store, p->user_ids[i], &canon[i]),
                     PD_OK);
    if (canon[i] > max_id)
      max_id = canon[i];
  }
  uint32_t *rep = calloc((size_t)max_id + 1, sizeof *rep);
  assert_non_null(rep);
  for (uint32_t i = 1; i <= d->n_users; i++)
    if (!rep[canon[i]])
      rep[canon[i]] = i;
  /* Label ids may be numbered per kind: translate them per kind. */
  uint32_t guide_of[256] = {0}, label_of[PD_LABEL_SHOP + 1][256];
  memset(label_of, 0, sizeof label_of);
  for (uint32_t i = 1; i <= d->n_guides; i++) {
    assert_true(p->guide_ids[i] > 0 && p->guide_ids[i] < 256);
    guide_of[p->guide_ids[i]] = i;
  }
  for (uint32_t i = 1; i <= d->n_labels; i++) {
    assert_true(p->label_ids[i] > 0 && p->label_ids[i] < 256);
    label_of[d->labels[i].kind][p->label_ids[i]] = i;
  }
  int32_t channels[PD_CHANNEL_BUILTIN_LAST + 1];
  for (int32_t c = 0; c < PD_CHANNEL_BUILTIN_LAST; c++)
    channels[c] = c + 1;
  channels[PD_CHANNEL_BUILTIN_LAST] = p->tmall;

  for (int k = 0; k < N_AS_OF; k++) {
    int64_t t = as_of(k);
    for (uint32_t i = 1; i <= d->n_users; i++) {
      pd_user_info u = PD_USER_INFO_INIT;
      assert_int_equal(pd_user_get(store, canon[i], t, &u), PD_OK);
      assert_true(u.user <= max_id && u.guide < 256);
      put(out, rep[u.user]);
      put(out, u.identities);
      put(out, u.channels_linked);
      put(out, (int64_t)u.orders);
      put(out, u.revenue);
      put(out, u.refunded);
      put(out, u.first_purchase);
      put(out, u.last_purchase);
      put(out, guide_of[u.guide]);
      put(out, u.referrals_made);
      put(out, u.referrer <= max_id ? (int64_t)rep[u.referrer] : -1);
      put(out, u.first_seen);
      for (size_t c = 0; c <= PD_CHANNEL_BUILTIN_LAST; c++) {
        pd_link_state ls = PD_LINK_STATE_INIT;
        assert_int_equal(
            pd_user_link_state(store, canon[i], channels[c], t, &ls), PD_OK);
        assert_true(ls.source < 256 && ls.guide < 256);
        put(out, ls.linked);
        put(out, ls.links);
        put(out, ls.unlinks);
        put(out, ls.first_linked);
        put(out, ls.linked_since);
        put(out, ls.last_unlinked);
        put(out, ls.last_initiator);
        put(out, label_of[PD_LABEL_SOURCE][ls.source]);
        put(out, guide_of[ls.guide]);
      }
    }
    for (uint32_t gi = 1; gi <= d->n_guides; gi++) {
      pd_guide_info g = PD_GUIDE_INFO_INIT;
      assert_int_equal(pd_guide_get(store, p->guide_ids[gi], t, &g), PD_OK);
      assert_string_equal(g.code, d->guides[gi].code);
      assert_true(g.shop < 256);
      put(out, label_of[PD_LABEL_SHOP][g.shop]);
      put(out, g.active);
      put(out, g.deactivated);
      put(out, (int64_t)g.users_bound);
    }
  }
  free(rep);
  free(canon);
}

static void assert_same_snapshot(const snapshot *a, const snapshot *b) {
  assert_int_equal(a->n, b->n);
  for (size_t k = 0; k < a->n; k++)
    if (a->v[k] != b->v[k])
      fail_msg("answers differ at position %zu of %zu: %lld vs %lld", k, a->n,
               (long long)a->v[k], (long long)b->v[k]);
}

static pd_store_stats get_stats(pd_store *store) {
  pd_store_stats s = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(store, &s), PD_OK);
  s.memory_bytes = 0; /* how much it allocates is not a recorded fact */
  return s;
}

static void assert_same_stats(pd_store_stats a, pd_store_stats b) {
  assert_int_equal(a.users, b.users);
  assert_int_equal(a.merged_users, b.merged_users);
  assert_int_equal(a.identities, b.identities);
  assert_int_equal(a.channels, b.channels);
  assert_int_equal(a.guides, b.guides);
  assert_int_equal(a.links, b.links);
  assert_int_equal(a.unlinks, b.unlinks);
  assert_int_equal(a.touchpoints, b.touchpoints);
  assert_int_equal(a.orders, b.orders);
  assert_int_equal(a.refunds, b.refunds);
  assert_int_equal(a.referrals, b.referrals);
  assert_int_equal(a.guide_events, b.guide_events);
  assert_int_equal(a.reach_records, b.reach_records);
  assert_int_equal(a.cost_records, b.cost_records);
  assert_int_equal(a.events, b.events);
}

static int setup(void **state) {
  (void)state;
  if (demo_generate(DEMO_DEFAULT_SEED, DEMO_DEFAULT_USERS, &fx.d))
    return -1;
  if (pd_store_new(NULL, &fx.store) != PD_OK)
    return -1;
  if (demo_player_init(&fx.player, &fx.d, fx.store, 0))
    return -1;
  for (size_t i = 0; i < fx.d.n_records; i++) {
    pd_status st = demo_play(&fx.player, &fx.d.records[i]);
    if (st != PD_OK && fx.not_ok++ == 0) {
      fx.first_bad = i;
      fx.first_bad_status = st;
      snprintf(fx.first_bad_msg, sizeof fx.first_bad_msg, "%s",
               demo_player_errmsg(&fx.player));
    }
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  demo_player_free(&fx.player);
  pd_store_free(fx.store);
  demo_free(&fx.d);
  free(fx.snap.v);
  return 0;
}

/* ---- (a) time order ------------------------------------------------------ */

static void time_ordered_recording_accepts_every_record_once(void **state) {
  (void)state;
  if (fx.not_ok)
    fail_msg("%zu records not PD_OK; first #%zu (%s): %s: %s", fx.not_ok,
             fx.first_bad, demo_kind_name(fx.d.records[fx.first_bad].kind),
             pd_status_str(fx.first_bad_status), fx.first_bad_msg);
  size_t count[DEMO_KIND_COUNT] = {0};
  for (size_t i = 0; i < fx.d.n_records; i++)
    count[fx.d.records[i].kind]++;
  pd_store_stats s = get_stats(fx.store);
  assert_int_equal(s.links, count[DEMO_LINK]);
  assert_int_equal(s.unlinks, count[DEMO_UNLINK]);
  assert_int_equal(s.touchpoints, count[DEMO_TOUCH]);
  assert_int_equal(s.orders, count[DEMO_ORDER]);
  assert_int_equal(s.refunds, count[DEMO_REFUND]);
  assert_int_equal(s.referrals, count[DEMO_REFERRAL]);
  assert_int_equal(s.guide_events, count[DEMO_BIND] + count[DEMO_HANDOVER] +
                                       count[DEMO_DEACTIVATE]);
  assert_int_equal(s.reach_records, count[DEMO_REACH]);
  assert_int_equal(s.cost_records, count[DEMO_COST]);
  assert_int_equal(s.guides, fx.d.n_guides);
  assert_int_equal(s.channels, PD_CHANNEL_BUILTIN_LAST + 1);
  /* Every demo user exists; the merges fold some of them together. */
  assert_true(s.merged_users > 0);
  assert_int_equal(s.users + s.merged_users, fx.d.n_users);
  fx.stats = s;
  take_snapshot(fx.store, &fx.player, &fx.snap);
  assert_true(fx.snap.n > 1000000);
}

/* ---- (b) everything again ------------------------------------------------ */

static void
replaying_every_record_is_acknowledged_and_changes_nothing(void **state) {
  (void)state;
  assert_true(fx.snap.n > 0);
  size_t not_replayed = 0;
  for (size_t i = 0; i < fx.d.n_records; i++) {
    pd_status st = demo_play(&fx.player, &fx.d.records[i]);
    if (st != PD_REPLAYED && not_replayed++ == 0)
      print_error("record #%zu (%s) gave %s: %s\n", i,
                  demo_kind_name(fx.d.records[i].kind), pd_status_str(st),
                  demo_player_errmsg(&fx.player));
  }
  assert_int_equal(not_replayed, 0);
  assert_same_stats(fx.stats, get_stats(fx.store));
  snapshot again = {NULL, 0, 0};
  take_snapshot(fx.store, &fx.player, &again);
  assert_same_snapshot(&fx.snap, &again);
  free(again.v);
}

/* ---- (c), (d) other orders ----------------------------------------------- */

/* Record the demo into a fresh store in the order @order (a permutation of
 * record indices), creating users, guides and labels when first named and
 * holding each refund back until its order is in. Then compare every
 * answer with the time-ordered store. */
static void record_in_order(const size_t *order) {
  pd_store *store = NULL;
  demo_player p;
  assert_int_equal(pd_store_new(NULL, &store), PD_OK);
  assert_int_equal(demo_player_init(&p, &fx.d, store, 1), 0);
  size_t n = fx.d.n_records;
  uint8_t *played = calloc(n, 1);
  size_t *pending = malloc(n * sizeof *pending);
  assert_non_null(played);
  assert_non_null(pending);
  size_t n_pending = 0, bad = 0;
  for (size_t k = 0; k < n; k++) {
    size_t i = order[k];
    const demo_record *r = &fx.d.records[i];
    if (r->kind == DEMO_REFUND && !played[r->ref]) {
      pending[n_pending++] = i;
      continue;
    }
    /* Users, guides and labels may already exist (created when first
     * named); every event is new. */
    pd_status st = demo_play(&p, r);
    if (!(st == PD_OK || (is_creation(r->kind) && st == PD_REPLAYED)) &&
        bad++ == 0)
      print_error("record #%zu (%s) gave %s: %s\n", i, demo_kind_name(r->kind),
                  pd_status_str(st), demo_player_errmsg(&p));
    played[i] = 1;
    if (r->kind == DEMO_ORDER) {
      for (size_t q = 0; q < n_pending;) {
        const demo_record *rf = &fx.d.records[pending[q]];
        if (rf->ref != i) {
          q++;
          continue;
        }
        st = demo_play(&p, rf);
        if (st != PD_OK && bad++ == 0)
          print_error("refund #%zu gave %s: %s\n", pending[q],
                      pd_status_str(st), demo_player_errmsg(&p));
        played[pending[q]] = 1;
        pending[q] = pending[--n_pending];
      }
    }
  }
  assert_int_equal(bad, 0);
  assert_int_equal(n_pending, 0);
  /* The store handed out other ids than in time order, so the comparison
   * below really is up to renaming. */
  size_t renamed = 0;
  for (uint32_t i = 1; i <= fx.d.n_users; i++)
    renamed += p.user_ids[i] != fx.player.user_ids[i];
  assert_true(renamed > fx.d.n_users / 2);
  assert_same_stats(fx.stats, get_stats(store));
  snapshot snap = {NULL, 0, 0};
  take_snapshot(store, &p, &snap);
  assert_same_snapshot(&fx.snap, &snap);
  free(snap.v);
  free(played);
  free(pending);
  demo_player_free(&p);
  pd_store_free(store);
}

static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static void shuffled_causal_order_gives_identical_answers(void **state) {
  (void)state;
  assert_true(fx.snap.n > 0);
  size_t n = fx.d.n_records;
  size_t *order = malloc(n * sizeof *order);
  assert_non_null(order);
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  uint64_t s = 42;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = (size_t)(mix(&s) % (i + 1));
    size_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  record_in_order(order);
  free(order);
}

static void reverse_order_gives_identical_answers(void **state) {
  (void)state;
  assert_true(fx.snap.n > 0);
  size_t n = fx.d.n_records;
  size_t *order = malloc(n * sizeof *order);
  assert_non_null(order);
  for (size_t i = 0; i < n; i++)
    order[i] = n - 1 - i;
  record_in_order(order);
  free(order);
}

/* ---- realism the later metrics rely on ----------------------------------- */

typedef struct ids {
  pd_user_id *v;
  size_t n;
} ids;

static int collect(void *user_data, pd_user_id u) {
  ids *l = user_data;
  l->v[l->n++] = u;
  return 0;
}

static ids live_users(void) {
  ids l = {calloc((size_t)fx.d.n_users, sizeof(pd_user_id)), 0};
  assert_non_null(l.v);
  assert_int_equal(pd_store_foreach_user(fx.store, collect, &l), PD_OK);
  assert_int_equal(l.n, fx.stats.users);
  return l;
}

/* Link rate = users whose first link on a channel came from the source /
 * people the source reached (reach as recorded). */
static double link_rate(const uint32_t *labels, size_t n_labels) {
  uint64_t links = 0, reached = 0;
  uint32_t store_ids[DEMO_SHOPS];
  for (size_t k = 0; k < n_labels; k++)
    store_ids[k] = fx.player.label_ids[labels[k]];
  ids l = live_users();
  for (size_t i = 0; i < l.n; i++)
    for (int32_t c = 1; c <= PD_CHANNEL_BUILTIN_LAST; c++) {
      pd_link_state ls = PD_LINK_STATE_INIT;
      assert_int_equal(pd_user_link_state(fx.store, l.v[i], c, DEMO_T_END, &ls),
                       PD_OK);
      for (size_t k = 0; k < n_labels; k++)
        links += ls.links > 0 && ls.source == store_ids[k];
    }
  free(l.v);
  for (size_t i = 0; i < fx.d.n_records; i++) {
    const demo_record *r = &fx.d.records[i];
    for (size_t k = 0; k < n_labels; k++)
      if (r->kind == DEMO_REACH && r->u.reach.source == labels[k])
        reached += r->u.reach.reached;
  }
  assert_true(reached > 0);
  return (double)links / (double)reached;
}

static void store_qr_link_rate_is_far_above_package_card(void **state) {
  (void)state;
  double qr = link_rate(fx.d.src_store_qr, DEMO_SHOPS);
  double card = link_rate(&fx.d.src_package_card, 1);
  double wangwang = link_rate(&fx.d.src_wangwang, 1);
  /* DOMAIN.md: store QR 60–85% with good staff, package card ~20%,
   * Wangwang ~45%. */
  assert_true(qr >= 0.60 && qr <= 0.90);
  assert_true(card >= 0.15 && card <= 0.25);
  assert_true(wangwang >= 0.40 && wangwang <= 0.50);
  assert_true(qr > 3.0 * card);
}

static int deleted_between(pd_user_id u, int64_t from, int64_t to) {
  static const int32_t chans[2] = {PD_CHANNEL_WECOM, PD_CHANNEL_WECHAT};
  int pooled = 0, deleted = 0;
  for (int k = 0; k < 2; k++) {
    pd_link_state a = PD_LINK_STATE_INIT, b = PD_LINK_STATE_INIT;
    assert_int_equal(pd_user_link_state(fx.store, u, chans[k], from, &a),
                     PD_OK);
    assert_int_equal(pd_user_link_state(fx.store, u, chans[k], to, &b), PD_OK);
    if (!a.linked)
      continue;
    pooled = 1;
    deleted |= b.last_unlinked > from && b.last_unlinked <= to &&
               (b.last_initiator == PD_UNLINK_USER_DELETED ||
                b.last_initiator == PD_UNLINK_USER_BLOCKED);
  }
  return pooled ? deleted : -1;
}

static void flash_group_is_followed_by_a_deletion_spike(void **state) {
  (void)state;
  uint32_t flash = fx.player.label_ids[fx.d.src_flash_group];
  int64_t from = fx.d.flash_join, to = from + fx.d.flash_window;
  uint64_t part = 0, part_del = 0, base = 0, base_del = 0;
  ids l = live_users();
  for (size_t i = 0; i < l.n; i++) {
    pd_link_state g = PD_LINK_STATE_INIT;
    assert_int_equal(pd_user_link_state(fx.store, l.v[i],
                                        PD_CHANNEL_WECHAT_GROUP, DEMO_T_END,
                                        &g),
                     PD_OK);
    int del = deleted_between(l.v[i], from, to);
    if (g.links > 0 && g.source == flash) {
      part++;
      part_del += del == 1;
    } else if (del >= 0) {
      base++;
      base_del += del == 1;
    }
  }
  free(l.v);
  assert_true(part >= 300);
  assert_true(base >= 500);
  double spike = (double)part_del / (double)part;
  double baseline = (double)base_del / (double)base;
  /* DOMAIN.md: 34% deleted the brand after the flash group. */
  assert_true(spike >= 0.30 && spike <= 0.40);
  assert_true(baseline < 0.10);
}

/* ---- the generator itself ------------------------------------------------ */

static void the_same_seed_gives_the_same_records(void **state) {
  (void)state;
  demo_data again;
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, DEMO_DEFAULT_USERS, &again),
                   0);
  assert_int_equal(again.n_records, fx.d.n_records);
  for (size_t i = 0; i < again.n_records; i++) {
    const demo_record *a = &again.records[i], *b = &fx.d.records[i];
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->time, b->time);
    assert_int_equal(a->ref, b->ref);
    if (a->kind == DEMO_ORDER) {
      assert_int_equal(a->u.order.event_id, b->u.order.event_id);
      assert_int_equal(a->u.order.amount, b->u.order.amount);
      assert_int_equal(a->u.order.user, b->u.order.user);
    }
  }
  demo_free(&again);
  demo_data other;
  assert_int_equal(
      demo_generate(DEMO_DEFAULT_SEED + 1, DEMO_DEFAULT_USERS, &other), 0);
  assert_true(other.n_records != fx.d.n_records ||
              other.records[other.n_records / 2].time !=
                  fx.d.records[fx.d.n_records / 2].time);
  demo_free(&other);
}

static void records_are_sorted_and_refunds_follow_their_orders(void **state) {
  (void)state;
  for (size_t i = 1; i < fx.d.n_records; i++)
    assert_true(fx.d.records[i - 1].time <= fx.d.records[i].time);
  for (size_t i = 0; i < fx.d.n_records; i++) {
    const demo_record *r = &fx.d.records[i];
    if (r->kind != DEMO_REFUND)
      continue;
    const demo_record *o = &fx.d.records[r->ref];
    assert_int_equal(o->kind, DEMO_ORDER);
    assert_true(r->ref < i && o->time < r->time);
    assert_int_equal(o->u.order.order_id, r->u.refund.order_id);
    assert_true(r->u.refund.amount <= o->u.order.amount);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(time_ordered_recording_accepts_every_record_once),
      cmocka_unit_test(
          replaying_every_record_is_acknowledged_and_changes_nothing),
      cmocka_unit_test(shuffled_causal_order_gives_identical_answers),
      cmocka_unit_test(reverse_order_gives_identical_answers),
      cmocka_unit_test(store_qr_link_rate_is_far_above_package_card),
      cmocka_unit_test(flash_group_is_followed_by_a_deletion_spike),
      cmocka_unit_test(the_same_seed_gives_the_same_records),
      cmocka_unit_test(records_are_sorted_and_refunds_follow_their_orders),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
