/* Specification of pd_mb_csr_build(), the grouping of a column's events
 * by canonical user that most metrics start from: for every kind, cut-off
 * time, filter, tag table and thread count, its offsets and keys equal a
 * brute-force grouping; a failed allocation leaves nothing behind. This
 * file is built with population.c compiled in with blocks of a few events
 * and users (tests/meson.build), so that the demo's columns span many
 * column and user blocks and every path between them is taken. Also
 * population.c's tagged values: room reserved ahead is used by the
 * pushes without another allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_store.h"
#include "metrics/par.h"
#include "metrics/population.h"
#include "store/store_internal.h"
#include "store/store_query.h"
#include "testutil_alloc.h"

/* The demo year's middle: some events of every kind fall after it. */
#define MID_YEAR INT64_C(1751328000)

static uint32_t event_time(const pd_store *s, int kind, uint32_t i) {
  switch (kind) {
  case PD_EV_LINK:
    return pd_st_links(s)[i].time;
  case PD_EV_UNLINK:
    return pd_st_unlinks(s)[i].time;
  case PD_EV_TOUCH:
    return pd_st_touches(s)[i].time;
  case PD_EV_ORDER:
    return pd_st_orders(s)[i].time;
  case PD_EV_REFUND:
    return pd_st_refunds(s)[i].time;
  case PD_EV_REFERRAL:
    return pd_st_referrals(s)[i].time;
  default:
    return pd_st_binds(s)[i].time;
  }
}

typedef struct entry {
  uint32_t root;
  uint32_t time;
  uint64_t eid;
  uint64_t key;
} entry;

static int entry_cmp(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  if (a->root != b->root)
    return a->root < b->root ? -1 : 1;
  if (a->time != b->time)
    return a->time < b->time ? -1 : 1;
  return (a->eid > b->eid) - (a->eid < b->eid);
}

/* The grouping by its definition: each kept event, sorted by (root, time,
 * event id), compared with csr. Returns the events kept. */
static size_t check_against_brute_force(const pd_mb_ctx *c, int kind,
                                        uint32_t upto,
                                        const pd_mb_touch_tags *tags,
                                        const pd_mb_csr *csr) {
  const pd_store *s = c->s;
  uint32_t ne = s->col[kind].n;
  entry *v = malloc(((size_t)ne + 1) * sizeof *v);
  assert_non_null(v);
  size_t n = 0;
  for (uint32_t i = 0; i < ne; i++) {
    uint32_t t = event_time(s, kind, i);
    uint32_t r = c->in_root[pd_mb_event_user(s, kind, i)];
    int tag = tags && kind == PD_EV_TOUCH
                  ? tags->of_kind[pd_st_touches(s)[i].kind]
                  : 0;
    if (t > upto || r == 0 || tag < 0)
      continue;
    v[n].root = r;
    v[n].time = t;
    v[n].eid = s->col[kind].eid[i];
    v[n].key = (uint64_t)t << 32 | (uint64_t)tag << PD_ST_INDEX_BITS | i;
    n++;
  }
  qsort(v, n, sizeof *v, entry_cmp);
  assert_int_equal(csr->off[0], 0);
  size_t k = 0;
  for (uint32_t r = 0; r < c->n; r++) {
    size_t first = k;
    while (k < n && v[k].root == r)
      k++;
    assert_int_equal(csr->off[r], first);
    assert_int_equal(csr->off[r + 1], k);
  }
  assert_int_equal(k, n);
  for (size_t q = 0; q < n; q++)
    assert_int_equal(csr->key[q], v[q].key);
  free(v);
  return n;
}

static const int kinds[] = {PD_EV_LINK,  PD_EV_UNLINK, PD_EV_TOUCH,
                            PD_EV_ORDER, PD_EV_REFUND, PD_EV_REFERRAL,
                            PD_EV_BIND};
enum { KINDS = sizeof kinds / sizeof *kinds };

/* Inbound messages and 1:1 messages only, as guide figures tag them. */
static pd_mb_touch_tags two_tags(void) {
  pd_mb_touch_tags t;
  memset(t.of_kind, -1, sizeof t.of_kind);
  t.of_kind[PD_TOUCH_INBOUND_MESSAGE] = 1;
  t.of_kind[PD_TOUCH_OUTBOUND_1TO1] = 2;
  return t;
}

/* The demo with a few users erased (their events stay in the columns,
 * marked erased) and merged walk-ins (the demo's own). */
static pd_store *test_store(const pd_allocator *a) {
  demo_data d;
  demo_ids ids;
  pd_store *s = demo_store_with(1500, a, &d, &ids);
  demo_free(&d);
  for (pd_user_id u = 7; u < 1500; u += 97) {
    pd_status st = pd_user_erase(s, u);
    assert_true(st == PD_OK || st == PD_REPLAYED);
  }
  return s;
}

static void grouping_matches_definition(void **state) {
  (void)state;
  pd_store *s = test_store(NULL);
  const pd_mb_touch_tags tags = two_tags();
  const uint32_t uptos[] = {(uint32_t)MID_YEAR, (uint32_t)DEMO_T_END};
  pd_metrics_filter filters[2] = {PD_METRICS_FILTER_INIT,
                                  PD_METRICS_FILTER_INIT};
  filters[1].channel = PD_CHANNEL_WECOM; /* in_root 0 for many users */
  size_t kept_total = 0, dropped_by_tag = 0, merged = 0;
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    for (int f = 0; f < 2; f++) {
      pd_mb_ctx c;
      assert_int_equal(pd_mb_ctx_init(&c, s, &filters[f]), PD_OK);
      for (uint32_t u = 1; u < c.n; u++)
        merged += c.root_of[u] != 0 && c.root_of[u] != u;
      for (int k = 0; k < KINDS; k++)
        for (int u = 0; u < 2; u++)
          for (int t = 0; t < 2; t++) {
            const pd_mb_touch_tags *tg = t ? &tags : NULL;
            pd_mb_csr csr;
            assert_int_equal(pd_mb_csr_build(&c, kinds[k], uptos[u], tg, &csr),
                             PD_OK);
            size_t n =
                check_against_brute_force(&c, kinds[k], uptos[u], tg, &csr);
            kept_total += n;
            if (kinds[k] == PD_EV_TOUCH && t == 0)
              dropped_by_tag += n;
            if (kinds[k] == PD_EV_TOUCH && t == 1)
              dropped_by_tag -= n;
            pd_mb_csr_free(&c, &csr);
          }
      pd_mb_ctx_free(&c);
    }
  }
  /* The cases are not vacuous: events were kept, the tags dropped some,
   * some users were merged into others, and the columns span many blocks
   * of the sizes this file is built with. */
  assert_true(kept_total > 0);
  assert_true(merged > 0);
  assert_true(dropped_by_tag > 0);
  assert_true(s->col[PD_EV_TOUCH].n > 64 * PD_MX_EVENT_BLOCK);
  assert_true(s->n_users > 64 * PD_MX_USER_BLOCK);
  pd_store_free(s);
}

/* Each allocation of the build fails in turn: PD_E_NOMEM, the output
 * emptied, nothing left allocated; the next build succeeds. */
static void each_failed_allocation_leaves_nothing(void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_store *s = test_store(&a);
  assert_int_equal(pd_store_set_threads(s, 2), PD_OK);
  const pd_mb_touch_tags tags = two_tags();
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  pd_mb_ctx c;
  assert_int_equal(pd_mb_ctx_init(&c, s, &f), PD_OK);
  int failures = 0;
  for (long at = 1;; at++) {
    long live = atomic_load(&ta.live);
    atomic_store(&ta.fail_at, atomic_load(&ta.calls) + at);
    pd_mb_csr csr;
    memset(&csr, 0xa5, sizeof csr); /* the build must empty it */
    pd_status st =
        pd_mb_csr_build(&c, PD_EV_TOUCH, (uint32_t)DEMO_T_END, &tags, &csr);
    atomic_store(&ta.fail_at, 0);
    if (st == PD_OK) {
      check_against_brute_force(&c, PD_EV_TOUCH, (uint32_t)DEMO_T_END, &tags,
                                &csr);
      pd_mb_csr_free(&c, &csr);
      assert_int_equal(atomic_load(&ta.live), live);
      break;
    }
    assert_int_equal(st, PD_E_NOMEM);
    assert_null(csr.off);
    assert_null(csr.key);
    assert_int_equal(atomic_load(&ta.live), live);
    failures++;
  }
  assert_true(failures >= 5); /* the build's allocations were all reached */
  pd_mb_ctx_free(&c);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

/* Columns shorter than a block and empty ones, on three threads. */
static void short_and_empty_columns(void **state) {
  (void)state;
  demo_data d;
  demo_ids ids;
  pd_store *tiny = demo_store(3, &d, &ids);
  demo_free(&d);
  pd_store *empty;
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  assert_int_equal(pd_store_new(&o, &empty), PD_OK);
  pd_store *stores[2] = {tiny, empty};
  int short_columns = 0;
  for (int q = 0; q < 2; q++) {
    pd_store *s = stores[q];
    assert_int_equal(pd_store_set_threads(s, 3), PD_OK);
    pd_metrics_filter f = PD_METRICS_FILTER_INIT;
    pd_mb_ctx c;
    assert_int_equal(pd_mb_ctx_init(&c, s, &f), PD_OK);
    for (int k = 0; k < KINDS; k++) {
      uint32_t n = s->col[kinds[k]].n;
      short_columns += n > 0 && n < PD_MX_EVENT_BLOCK;
      if (q == 1) assert_int_equal(n, 0);
      pd_mb_csr csr;
      assert_int_equal(pd_mb_csr_build(&c, kinds[k], UINT32_MAX - 1, NULL,
                                       &csr),
                       PD_OK);
      check_against_brute_force(&c, kinds[k], UINT32_MAX - 1, NULL, &csr);
      pd_mb_csr_free(&c, &csr);
    }
    pd_mb_ctx_free(&c);
    pd_store_free(s);
  }
  assert_true(short_columns > 0);
}

static void tagged_values_fill_reserved_room_without_allocating(
    void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_store *s = test_alloc_store(&ta);
  assert_non_null(s);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  pd_mb_ctx c;
  assert_int_equal(pd_mb_ctx_init(&c, s, &f), PD_OK);
  pd_mb_tagged t = {0};
  for (uint32_t i = 0; i < 3; i++)
    assert_int_equal(pd_mb_tagged_push(&c, &t, i, i * 0.5), PD_OK);
  /* a failed reservation keeps what is held */
  test_alloc_fail_in(&ta, 1);
  assert_int_equal(pd_mb_tagged_reserve(&c, &t, 1000), PD_E_NOMEM);
  assert_int_equal(t.n, 3);
  assert_int_equal(pd_mb_tagged_reserve(&c, &t, 1000), PD_OK);
  assert_int_equal(t.tag_cap, 1003);
  assert_int_equal(t.val_cap, 1003);
  long calls = atomic_load(&ta.calls);
  const uint32_t *tag = t.tag;
  for (uint32_t i = 3; i < 1003; i++)
    assert_int_equal(pd_mb_tagged_push(&c, &t, i, i * 0.5), PD_OK);
  assert_int_equal(atomic_load(&ta.calls), calls);
  assert_ptr_equal(t.tag, tag);
  assert_int_equal(pd_mb_tagged_push(&c, &t, 1003, 501.5), PD_OK);
  assert_true(atomic_load(&ta.calls) > calls); /* past the room: grows */
  for (uint32_t i = 0; i <= 1003; i++) {
    assert_int_equal(t.tag[i], i);
    assert_true(t.val[i] == i * 0.5);
  }
  pd_mb_tagged_free(&c, &t);
  pd_mb_ctx_free(&c);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grouping_matches_definition),
      cmocka_unit_test(each_failed_allocation_leaves_nothing),
      cmocka_unit_test(short_and_empty_columns),
      cmocka_unit_test(tagged_values_fill_reserved_room_without_allocating),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
