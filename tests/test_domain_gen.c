/* Specification of the benchmark domain generator (bench/domain_gen.h):
 * the same (users, seed) gives the same events whatever the batch sizes,
 * another seed gives others, events come in time order with ids 1..n,
 * every event is accepted by a store, and the mix has the domain's rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "domain_gen.h"

#define USERS 3000
#define BATCH_MAX 4096

/* One event's fields (not its bytes: struct padding is not part of it). */
static uint64_t event_digest(int32_t kind, const pdg_record *r) {
  uint64_t f[10] = {(uint64_t)kind};
  switch (kind) {
    case PD_EVENT_LINK:
      f[1] = r->link.event_id, f[2] = r->link.user, f[3] = (uint64_t)r->link.channel;
      f[4] = r->link.source, f[5] = r->link.campaign, f[6] = r->link.guide;
      f[7] = (uint64_t)r->link.time;
      break;
    case PD_EVENT_UNLINK:
      f[1] = r->unlink.event_id, f[2] = r->unlink.user;
      f[3] = (uint64_t)r->unlink.channel, f[4] = (uint64_t)r->unlink.initiator;
      f[5] = r->unlink.guide, f[6] = (uint64_t)r->unlink.time;
      break;
    case PD_EVENT_TOUCHPOINT:
      f[1] = r->touch.event_id, f[2] = r->touch.user;
      f[3] = (uint64_t)r->touch.kind << 32 | (uint32_t)r->touch.purpose;
      f[4] = (uint64_t)r->touch.channel << 32 | r->touch.guide;
      f[5] = r->touch.campaign, f[6] = (uint64_t)r->touch.time;
      f[7] = (uint64_t)r->touch.rating_expertise << 24 |
             (uint64_t)r->touch.rating_reliability << 16 |
             (uint64_t)r->touch.rating_intimacy << 8 |
             (uint64_t)r->touch.rating_self_orientation;
      break;
    case PD_EVENT_ORDER:
      f[1] = r->order.event_id, f[2] = r->order.order_id, f[3] = r->order.user;
      f[4] = (uint64_t)r->order.time, f[5] = (uint64_t)r->order.amount;
      f[6] = (uint64_t)r->order.channel << 32 | r->order.guide;
      f[7] = r->order.shop;
      break;
    case PD_EVENT_REFUND:
      f[1] = r->refund.event_id, f[2] = r->refund.order_id;
      f[3] = (uint64_t)r->refund.time, f[4] = (uint64_t)r->refund.amount;
      break;
    case PD_EVENT_REFERRAL:
      f[1] = r->referral.event_id, f[2] = r->referral.referrer;
      f[3] = r->referral.referee, f[4] = r->referral.campaign;
      f[5] = (uint64_t)r->referral.time;
      break;
    case PD_EVENT_GUIDE_BIND:
      f[1] = r->bind.event_id, f[2] = r->bind.user, f[3] = r->bind.guide;
      f[4] = (uint64_t)r->bind.time;
      break;
    case PD_EVENT_GUIDE_HANDOVER:
      f[1] = r->handover.event_id, f[2] = r->handover.from_guide;
      f[3] = r->handover.to_guide, f[4] = (uint64_t)r->handover.time;
      break;
    case PD_EVENT_GUIDE_DEACTIVATE:
      f[1] = r->deactivate.event_id, f[2] = r->deactivate.guide;
      f[3] = (uint64_t)r->deactivate.time;
      break;
    case PD_EVENT_REACH:
      f[1] = r->reach.event_id, f[2] = (uint64_t)r->reach.channel;
      f[3] = r->reach.source, f[4] = (uint64_t)r->reach.period_start;
      f[5] = (uint64_t)r->reach.period_end, f[6] = r->reach.reached;
      break;
    case PD_EVENT_COST:
      f[1] = r->cost.event_id, f[2] = (uint64_t)r->cost.channel;
      f[3] = r->cost.source, f[4] = (uint64_t)r->cost.period_start;
      f[5] = (uint64_t)r->cost.period_end, f[6] = (uint64_t)r->cost.amount;
      break;
    default:
      f[1] = r->consent.event_id, f[2] = r->consent.user;
      f[3] = (uint64_t)r->consent.purpose, f[4] = (uint64_t)r->consent.granted;
      f[5] = (uint64_t)r->consent.time;
      break;
  }
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < 10; i++) h = (h ^ f[i]) * 1099511628211ull + (h >> 29);
  return h;
}

static uint64_t event_id(int32_t kind, const pdg_record *r) {
  /* event_id is the second member of every record. */
  (void)kind;
  return r->link.event_id;
}

/* The time an event happens at (reach and cost: the end of their period,
 * when the report arrives). */
static int64_t event_time(int32_t kind, const pdg_record *r) {
  switch (kind) {
    case PD_EVENT_LINK: return r->link.time;
    case PD_EVENT_UNLINK: return r->unlink.time;
    case PD_EVENT_TOUCHPOINT: return r->touch.time;
    case PD_EVENT_ORDER: return r->order.time;
    case PD_EVENT_REFUND: return r->refund.time;
    case PD_EVENT_REFERRAL: return r->referral.time;
    case PD_EVENT_GUIDE_BIND: return r->bind.time;
    case PD_EVENT_GUIDE_HANDOVER: return r->handover.time;
    case PD_EVENT_GUIDE_DEACTIVATE: return r->deactivate.time;
    case PD_EVENT_REACH: return r->reach.period_end;
    case PD_EVENT_COST: return r->cost.period_end;
    default: return r->consent.time;
  }
}

static int32_t kinds[BATCH_MAX];
static pdg_record recs[BATCH_MAX];
static const void *ptrs[BATCH_MAX];

/* All events of (users, seed) taken `batch` at a time, as digests. */
static uint64_t *all_digests(uint64_t users, uint64_t seed, size_t batch,
                             size_t *n) {
  pdg *g = pdg_new(users, seed);
  assert_non_null(g);
  size_t cap = 1 << 16, len = 0, k;
  uint64_t *d = malloc(cap * sizeof *d);
  assert_non_null(d);
  while ((k = pdg_next(g, batch, kinds, recs, ptrs)) > 0) {
    assert_true(k <= batch);
    for (size_t i = 0; i < k; i++) {
      if (len == cap) {
        d = realloc(d, (cap *= 2) * sizeof *d);
        assert_non_null(d);
      }
      assert_ptr_equal(ptrs[i], &recs[i]);
      d[len++] = event_digest(kinds[i], &recs[i]);
    }
  }
  assert_false(pdg_failed(g));
  assert_int_equal(pdg_get_counts(g)->total, len);
  pdg_free(g);
  *n = len;
  return d;
}

static void same_seed_gives_the_same_events(void **state) {
  (void)state;
  size_t n1, n2;
  uint64_t *a = all_digests(USERS, 7, 1024, &n1);
  uint64_t *b = all_digests(USERS, 7, 1024, &n2);
  assert_true(n1 > 10 * USERS);
  assert_int_equal(n1, n2);
  assert_memory_equal(a, b, n1 * sizeof *a);
  free(a), free(b);
}

static void batch_size_does_not_change_the_events(void **state) {
  (void)state;
  size_t n1, n2, n3;
  uint64_t *a = all_digests(USERS, 7, 1, &n1);
  uint64_t *b = all_digests(USERS, 7, 7, &n2);
  uint64_t *c = all_digests(USERS, 7, BATCH_MAX, &n3);
  assert_int_equal(n1, n2);
  assert_int_equal(n1, n3);
  assert_memory_equal(a, b, n1 * sizeof *a);
  assert_memory_equal(a, c, n1 * sizeof *a);
  free(a), free(b), free(c);
}

static void another_seed_gives_other_events(void **state) {
  (void)state;
  size_t n1, n2, same = 0;
  uint64_t *a = all_digests(USERS, 7, 1024, &n1);
  uint64_t *b = all_digests(USERS, 8, 1024, &n2);
  size_t n = n1 < n2 ? n1 : n2;
  for (size_t i = 0; i < n; i++) same += a[i] == b[i];
  assert_true(same < n / 100);
  free(a), free(b);
}

static void events_come_in_time_order_with_ids_one_to_n(void **state) {
  (void)state;
  pdg *g = pdg_new(USERS, 3);
  assert_non_null(g);
  uint64_t expect = 1;
  int64_t last = pdg_t0(g);
  size_t k;
  while ((k = pdg_next(g, 1000, kinds, recs, ptrs)) > 0)
    for (size_t i = 0; i < k; i++) {
      assert_int_equal(event_id(kinds[i], &recs[i]), expect++);
      int64_t t = event_time(kinds[i], &recs[i]);
      assert_true(t >= last);
      assert_true(t < pdg_as_of(g));
      last = t;
    }
  pdg_free(g);
}

static void every_event_is_accepted_by_a_store(void **state) {
  (void)state;
  pdg *g = pdg_new(USERS, 11);
  assert_non_null(g);
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(pdg_setup_store(g, s), PD_OK);
  static pd_status st[BATCH_MAX];
  size_t k;
  while ((k = pdg_next(g, BATCH_MAX, kinds, recs, ptrs)) > 0) {
    pd_status all = pd_record_events(s, k, kinds, ptrs, st);
    if (all != PD_OK) fprintf(stderr, "%s\n", pd_store_errmsg(s));
    assert_int_equal(all, PD_OK);
  }
  pd_store_stats stats = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &stats), PD_OK);
  assert_int_equal(stats.users, USERS);
  assert_int_equal(stats.events, pdg_get_counts(g)->total);
  assert_int_equal(stats.guides, pdg_guides(g));
  pd_store_free(s);
  pdg_free(g);
}

static void the_mix_has_the_domains_rates(void **state) {
  (void)state;
  enum { N = 20000 };
  pdg *g = pdg_new(N, 5);
  assert_non_null(g);
  while (pdg_next(g, BATCH_MAX, kinds, recs, ptrs) > 0) {
  }
  const pdg_counts *c = pdg_get_counts(g);
  double per_user = (double)c->total / N;
  /* About 20 events per user, mostly touchpoints (domain_gen.h). */
  assert_true(per_user > 16 && per_user < 24);
  assert_true(c->by_kind[PD_EVENT_TOUCHPOINT] > c->total * 6 / 10);
  double orders = (double)c->by_kind[PD_EVENT_ORDER] / N;
  assert_true(orders > 1.2 && orders < 2.5);
  double refund_share =
      (double)c->by_kind[PD_EVENT_REFUND] / (double)c->by_kind[PD_EVENT_ORDER];
  assert_true(refund_share > 0.03 && refund_share < 0.06);
  double referred = (double)c->by_kind[PD_EVENT_REFERRAL] / N;
  assert_true(referred > 0.08 && referred < 0.15);
  double unlinked = (double)c->by_kind[PD_EVENT_UNLINK] / N;
  assert_true(unlinked > 0.2 && unlinked < 0.7);
  for (int k = 1; k <= PD_EVENT_CONSENT; k++) assert_true(c->by_kind[k] > 0);
  pdg_free(g);
}

static void generator_memory_is_small_per_user(void **state) {
  (void)state;
  enum { N = 200000 };
  pdg *g = pdg_new(N, 1);
  assert_non_null(g);
  /* State and calendar: under 80 bytes a user before any day is built. */
  assert_true(pdg_memory(g) < (size_t)N * 80);
  pdg_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_seed_gives_the_same_events),
      cmocka_unit_test(batch_size_does_not_change_the_events),
      cmocka_unit_test(another_seed_gives_other_events),
      cmocka_unit_test(events_come_in_time_order_with_ids_one_to_n),
      cmocka_unit_test(every_event_is_accepted_by_a_store),
      cmocka_unit_test(the_mix_has_the_domains_rates),
      cmocka_unit_test(generator_memory_is_small_per_user),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
