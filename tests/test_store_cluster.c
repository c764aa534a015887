/* Specification of pd_store_cluster(): each user id's events of a
 * clustered kind end up side by side, every chain visits the same events
 * in the same order, and nothing observable changes: every figure
 * (figures_digest.h), replays, later recording and erasure, snapshots,
 * and a failed call. Built against the library's internals to see the
 * layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "figures_digest.h"
#include "persist_testutil.h"
#include "store/event_index.h"
#include "store/store_internal.h"
#include "testutil_alloc.h"

static const int kinds[] = {PD_EV_LINK, PD_EV_UNLINK, PD_EV_TOUCH,
                            PD_EV_BIND, PD_EV_CONSENT};
enum { KINDS = sizeof kinds / sizeof *kinds };

/* Every clustered kind's record starts with its owner and chain link. */
static uint32_t owner_of(const pd_store *s, int kind, uint32_t i) {
  return ((const pd_st_touch *)pd_st_rec(s, kind, i))->user;
}
static uint32_t link_of(const pd_store *s, int kind, uint32_t i) {
  return ((const pd_st_touch *)pd_st_rec(s, kind, i))->next;
}

/* Every user id's chain of every clustered kind, as event ids in chain
 * order, each chain ended by 0 (event ids are never 0). */
typedef struct chains {
  uint64_t *eid;
  size_t n, cap;
} chains;

static void chains_put(chains *c, uint64_t v) {
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 1024;
    c->eid = realloc(c->eid, c->cap * sizeof *c->eid);
    assert_non_null(c->eid);
  }
  c->eid[c->n++] = v;
}

static chains chains_of(const pd_store *s) {
  chains c = {NULL, 0, 0};
  for (int k = 0; k < KINDS; k++)
    for (uint32_t u = 1; u < s->n_users; u++) {
      for (uint32_t i = s->users[u].head[kinds[k]]; i != PD_ST_NIL;
           i = link_of(s, kinds[k], i))
        chains_put(&c, s->col[kinds[k]].eid[i]);
      chains_put(&c, 0);
    }
  return c;
}

static void assert_same_chains(const chains *a, const chains *b) {
  assert_int_equal(a->n, b->n);
  assert_memory_equal(a->eid, b->eid, a->n * sizeof *a->eid);
}

/* 1 if every chain of s is a run of neighbours, newest (highest) first,
 * and the runs follow user ids through each column. */
static int is_clustered(const pd_store *s) {
  for (int k = 0; k < KINDS; k++) {
    uint32_t expect_next_run = 0;
    for (uint32_t u = 1; u < s->n_users; u++) {
      uint32_t h = s->users[u].head[kinds[k]];
      if (h == PD_ST_NIL) continue;
      uint32_t i = h;
      for (;;) {
        if (owner_of(s, kinds[k], i) != u) return 0;
        uint32_t next = link_of(s, kinds[k], i);
        if (next == PD_ST_NIL) break;
        if (next != i - 1) return 0;
        i = next;
      }
      if (i != expect_next_run) return 0;
      expect_next_run = h + 1;
    }
    if (expect_next_run != s->col[kinds[k]].n) return 0;
  }
  return 1;
}

/* The event-id index finds every event of every clustered kind where its
 * column now holds it. */
static void assert_index_finds_every_event(const pd_store *s) {
  for (int k = 0; k < KINDS; k++) {
    const pd_st_column *c = &s->col[kinds[k]];
    for (uint32_t i = 0; i < c->n; i++)
      if (pd_st_index_find(s, c->eid[i]) != pd_st_tag(kinds[k], i))
        fail_msg("kind %d: event %u is not found at its index", kinds[k],
                 (unsigned)i);
  }
}

static void clustering_lays_chains_side_by_side_and_keeps_their_order(
    void **state) {
  (void)state;
  demo_data d;
  demo_ids ids;
  /* 3 buckets of user ids (4096 each) */
  pd_store *s = demo_store(10000, &d, &ids);
  assert_false(is_clustered(s)); /* arrival order interleaves users */
  chains before = chains_of(s);
  assert_int_equal(pd_store_cluster(s), PD_OK);
  assert_true(is_clustered(s));
  assert_index_finds_every_event(s);
  chains after = chains_of(s);
  assert_same_chains(&before, &after);
  /* Clustering a clustered store changes nothing. */
  assert_int_equal(pd_store_cluster(s), PD_OK);
  chains again = chains_of(s);
  assert_same_chains(&after, &again);
  free(before.eid);
  free(after.eid);
  free(again.eid);
  pd_store_free(s);
  demo_free(&d);
}

static void assert_same_layout(const pd_store *a, const pd_store *b) {
  for (int k = 0; k < KINDS; k++) {
    const pd_st_column *x = &a->col[kinds[k]], *y = &b->col[kinds[k]];
    assert_int_equal(x->n, y->n);
    assert_memory_equal(x->eid, y->eid, x->n * sizeof *x->eid);
    assert_memory_equal(x->rec, y->rec, x->n * x->rec_size);
  }
  assert_int_equal(a->n_users, b->n_users);
  assert_memory_equal(a->users, b->users, a->n_users * sizeof *a->users);
}

/* The layout depends only on the data: one thread and three (uneven
 * pieces of the columns, buckets of user ids taken in any order) write
 * the same bytes. */
static void the_layout_is_the_same_for_every_thread_count(void **state) {
  (void)state;
  demo_data d1, d3;
  demo_ids ids;
  pd_store *one = demo_store(10000, &d1, &ids);
  pd_store *three = demo_store(10000, &d3, &ids);
  assert_int_equal(pd_store_set_threads(three, 3), PD_OK);
  assert_int_equal(pd_store_cluster(one), PD_OK);
  assert_int_equal(pd_store_cluster(three), PD_OK);
  assert_same_layout(one, three);
  pd_store_free(one);
  pd_store_free(three);
  demo_free(&d1);
  demo_free(&d3);
}

/* Stores of millions of users get buckets wider than 4096 ids; fewer
 * buckets allowed reach those widths here (8192 and 16384 ids), and one
 * bucket holds every event. */
static void the_layout_is_the_same_for_every_bucket_width(void **state) {
  (void)state;
  demo_data d[3];
  demo_ids ids;
  pd_store *s[3];
  for (int k = 0; k < 3; k++) {
    s[k] = demo_store(10000, &d[k], &ids);
    assert_int_equal(pd_store_set_threads(s[k], 2), PD_OK);
  }
  assert_int_equal(pd_store_cluster(s[0]), PD_OK);
  assert_int_equal(pd_st_cluster(s[1], 2), PD_OK);
  assert_int_equal(pd_st_cluster(s[2], 1), PD_OK);
  assert_true(is_clustered(s[1]));
  assert_index_finds_every_event(s[1]);
  assert_index_finds_every_event(s[2]);
  assert_same_layout(s[0], s[1]);
  assert_same_layout(s[0], s[2]);
  for (int k = 0; k < 3; k++) {
    pd_store_free(s[k]);
    demo_free(&d[k]);
  }
}

static void assert_same_figures_after_clustering(uint32_t users,
                                                 int32_t threads) {
  demo_data d;
  demo_ids ids;
  pd_store *s = demo_store(users, &d, &ids);
  assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
  digest before[FIGURES], after[FIGURES];
  figures(s, &d, &ids, before);
  assert_int_equal(pd_store_cluster(s), PD_OK);
  assert_true(is_clustered(s));
  figures(s, &d, &ids, after);
  int k;
  if (!figures_equal(before, after, &k))
    fail_msg("%s differs after clustering (%u users, %d threads)",
             figure_names[k], (unsigned)users, (int)threads);
  pd_store_free(s);
  demo_free(&d);
}

static void every_figure_is_bit_identical_after_clustering_small(
    void **state) {
  (void)state;
  assert_same_figures_after_clustering(DEMO_MIN_USERS, 1);
  assert_same_figures_after_clustering(3000, 2);
}

/* Several blocks of users and of events in every pass. */
static void every_figure_is_bit_identical_after_clustering_large(
    void **state) {
  (void)state;
  assert_same_figures_after_clustering(50000, 2);
}

/* Plays records [from, to) and returns a digest of their statuses. */
static uint64_t play(demo_player *p, const demo_data *d, size_t from,
                     size_t to) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = from; i < to; i++) {
    h ^= (uint64_t)(int64_t)demo_play(p, &d->records[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

/* Two stores get the first half of the demo; one is clustered; both get
 * the first half again (replays, found through the index), the second
 * half (new events appended after the clustered runs, merges, erasures)
 * and then every record again: the same statuses, figures and chains. */
static void recording_after_clustering_matches_a_store_never_clustered(
    void **state) {
  (void)state;
  demo_data d;
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, 3000, &d), 0);
  pd_store *s[2];
  demo_player p[2];
  uint64_t statuses[2];
  for (int k = 0; k < 2; k++) {
    assert_int_equal(pd_store_new(NULL, &s[k]), PD_OK);
    assert_int_equal(demo_player_init(&p[k], &d, s[k], 0), 0);
    play(&p[k], &d, 0, d.n_records / 2);
  }
  assert_int_equal(pd_store_cluster(s[1]), PD_OK);
  assert_true(is_clustered(s[1]));
  for (int k = 0; k < 2; k++) {
    /* Replays first, before new events can make the index grow (a grown
     * index is rebuilt from the columns). */
    statuses[k] = play(&p[k], &d, 0, d.n_records / 2);
    statuses[k] ^= play(&p[k], &d, d.n_records / 2, d.n_records) * 31;
    statuses[k] ^= play(&p[k], &d, 0, d.n_records) * 961;
  }
  assert_true(statuses[0] == statuses[1]);
  demo_ids ids = {p[0].label_ids[d.camp_flash_group],
                  p[0].guide_ids[d.heir_guide]};
  digest f[2][FIGURES];
  for (int k = 0; k < 2; k++) figures(s[k], &d, &ids, f[k]);
  int which;
  if (!figures_equal(f[0], f[1], &which))
    fail_msg("%s differs", figure_names[which]);
  chains c0 = chains_of(s[0]), c1 = chains_of(s[1]);
  assert_same_chains(&c0, &c1);
  free(c0.eid);
  free(c1.eid);
  for (int k = 0; k < 2; k++) {
    demo_player_free(&p[k]);
    pd_store_free(s[k]);
  }
  demo_free(&d);
}

/* A snapshot of a clustered store loads (its checks of every chain pass)
 * with the same layout and figures. */
static void a_clustered_store_saves_and_loads_as_it_is(void **state) {
  (void)state;
  demo_data d;
  demo_ids ids;
  pd_store *s = demo_store(2000, &d, &ids);
  assert_int_equal(pd_store_cluster(s), PD_OK);
  membuf m;
  memset(&m, 0, sizeof m);
  assert_int_equal(pd_snapshot_write(s, membuf_write, &m), PD_OK);
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, NULL, &t), PD_OK);
  assert_true(is_clustered(t));
  chains a = chains_of(s), b = chains_of(t);
  assert_same_chains(&a, &b);
  digest fs[FIGURES], ft[FIGURES];
  figures(s, &d, &ids, fs);
  figures(t, &d, &ids, ft);
  int which;
  if (!figures_equal(fs, ft, &which))
    fail_msg("%s differs after loading", figure_names[which]);
  free(a.eid);
  free(b.eid);
  free(m.p);
  pd_store_free(s);
  pd_store_free(t);
  demo_free(&d);
}

/* Every allocation the call makes fails in turn: PD_E_NOMEM with chains
 * and figures as they were, no leak, and the call then succeeds. */
static void out_of_memory_changes_nothing_observable(void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  demo_data d;
  demo_ids ids;
  pd_store *s = demo_store_with(500, &a, &d, &ids);
  digest ref[FIGURES], now[FIGURES];
  figures(s, &d, &ids, ref);
  chains before = chains_of(s);
  long live = atomic_load(&ta.live);
  int failed = 0;
  for (long k = 1;; k++) {
    atomic_store(&ta.fail_at, atomic_load(&ta.calls) + k);
    pd_status st = pd_store_cluster(s);
    atomic_store(&ta.fail_at, 0);
    if (st == PD_OK) break;
    assert_int_equal(st, PD_E_NOMEM);
    assert_non_null(strstr(pd_store_errmsg(s), "memory"));
    failed++;
    assert_int_equal(atomic_load(&ta.live), live);
    chains c = chains_of(s);
    assert_same_chains(&before, &c);
    free(c.eid);
    assert_index_finds_every_event(s);
    figures(s, &d, &ids, now);
    int which;
    if (!figures_equal(ref, now, &which))
      fail_msg("%s differs after a failed call", figure_names[which]);
  }
  assert_true(failed >= 5); /* the shared scratch's four and a map */
  assert_true(is_clustered(s));
  assert_index_finds_every_event(s);
  free(before.eid);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
  demo_free(&d);
}

static void an_empty_store_and_a_bad_handle(void **state) {
  (void)state;
  assert_int_equal(pd_store_cluster(NULL), PD_E_MISUSE);
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(pd_store_cluster(s), PD_OK);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          clustering_lays_chains_side_by_side_and_keeps_their_order),
      cmocka_unit_test(the_layout_is_the_same_for_every_thread_count),
      cmocka_unit_test(the_layout_is_the_same_for_every_bucket_width),
      cmocka_unit_test(every_figure_is_bit_identical_after_clustering_small),
      cmocka_unit_test(every_figure_is_bit_identical_after_clustering_large),
      cmocka_unit_test(
          recording_after_clustering_matches_a_store_never_clustered),
      cmocka_unit_test(a_clustered_store_saves_and_loads_as_it_is),
      cmocka_unit_test(out_of_memory_changes_nothing_observable),
      cmocka_unit_test(an_empty_store_and_a_bad_handle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
