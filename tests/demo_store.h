/* The `pd demo` domain recorded into a store, for tests. Header-only
 * (static inline functions); the test must compile examples/pd/demo_data.c
 * in. */
#ifndef PD_TESTS_DEMO_STORE_H
#define PD_TESTS_DEMO_STORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_data.h"

/* Ids the demo's figures are asked about. */
typedef struct demo_ids {
  uint32_t campaign; /* the flash-group campaign's label id */
  uint32_t guide;    /* the heir guide's id */
} demo_ids;

/* Plays the demo's records into s (every one, in order). */
static inline void demo_play_all(pd_store *s, const demo_data *d,
                                 demo_ids *ids) {
  demo_player p;
  assert_int_equal(demo_player_init(&p, d, s, 0), 0);
  for (size_t i = 0; i < d->n_records; i++) {
    pd_status st = demo_play(&p, &d->records[i]);
    if (st != PD_OK && st != PD_REPLAYED && st != PD_E_ERASED &&
        st != PD_E_NOT_FOUND)
      fail_msg("record %zu: %s (%s)", i, pd_status_str(st),
               demo_player_errmsg(&p));
  }
  ids->campaign = p.label_ids[d->camp_flash_group];
  ids->guide = p.guide_ids[d->heir_guide];
  assert_true(ids->campaign != 0 && ids->guide != 0);
  demo_player_free(&p);
}

/* The demo of about `users` users recorded in time order into a new
 * store with allocator `a` (NULL: libc's). */
static inline pd_store *demo_store_with(uint32_t users, const pd_allocator *a,
                                        demo_data *d, demo_ids *ids) {
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, users, d), 0);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = a;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  demo_play_all(s, d, ids);
  return s;
}

static inline pd_store *demo_store(uint32_t users, demo_data *d,
                                   demo_ids *ids) {
  return demo_store_with(users, NULL, d, ids);
}

/* d's records played into a new store with allocator `a` (NULL: libc's)
 * in the order of order[] (NULL: as generated), the store clustered once
 * the first cluster_at are in (never if cluster_at is past the end). */
static inline pd_store *demo_store_clustered_at(const demo_data *d,
                                                const pd_allocator *a,
                                                const size_t *order,
                                                size_t cluster_at) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = a;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  demo_player p;
  assert_int_equal(demo_player_init(&p, d, s, 0), 0);
  for (size_t i = 0; i < d->n_records; i++) {
    if (i == cluster_at) assert_int_equal(pd_store_cluster(s), PD_OK);
    pd_status st = demo_play(&p, &d->records[order ? order[i] : i]);
    if (st != PD_OK) fail_msg("record %zu: %s", i, demo_player_errmsg(&p));
  }
  if (cluster_at == d->n_records) assert_int_equal(pd_store_cluster(s), PD_OK);
  demo_player_free(&p);
  return s;
}

/* cmocka group setup and teardown of a test program whose tests share
 * one demo of 3000 users, passed to them in *state. */
static inline int demo_group_setup(void **state) {
  demo_data *d = malloc(sizeof *d);
  if (d == NULL || demo_generate(DEMO_DEFAULT_SEED, 3000, d) != 0) {
    free(d);
    return -1;
  }
  *state = d;
  return 0;
}

static inline int demo_group_teardown(void **state) {
  demo_free(*state);
  free(*state);
  return 0;
}

#endif
