/* The guide of a user at a time (pd_st_guide_at) and the next handover
 * away from a guide (pd_st_next_handover_from) answer the same with
 * the by-guide handover index as with the full walk of every handover it
 * replaces: on a random store of binds, handovers (chains of them, ties in
 * time) and merges, for every user at many times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "sim_rng.h"
#include "store/store_internal.h"
#include "store/store_query.h"

enum { USERS = 300, GUIDES = 12, BINDS = 500, HANDOVERS = 120 };
static const int64_t T0 = 1700000000, DAY = 86400;

static void indexed_and_walked_guides_agree(void **state) {
  (void)state;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id u[USERS + 1];
  for (int i = 1; i <= USERS; i++) {
    char key[16];
    int n = snprintf(key, sizeof key, "u%d", i);
    assert_int_equal(pd_user_ensure(s, "phone", 5, key, (size_t)n, &u[i]), PD_OK);
  }
  uint32_t g[GUIDES + 1];
  for (int i = 1; i <= GUIDES; i++) {
    char code[8];
    int n = snprintf(code, sizeof code, "G%d", i);
    assert_int_equal(pd_guide_ensure(s, code, (size_t)n, 0, &g[i]), PD_OK);
  }
  sim_rng r = {7};
  uint64_t eid = 1;
  for (int k = 0; k < BINDS + HANDOVERS; k++) {
    /* Days on a coarse grid so that binds and handovers tie in time. */
    int64_t t = T0 + (int64_t)(sim_next(&r) % 60) * DAY;
    if (sim_next(&r) % (BINDS + HANDOVERS) < HANDOVERS) {
      pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
      h.event_id = eid++, h.time = t;
      h.from_guide = g[1 + sim_next(&r) % GUIDES];
      do h.to_guide = g[1 + sim_next(&r) % GUIDES]; while (h.to_guide == h.from_guide);
      assert_int_equal(pd_record_guide_handover(s, &h), PD_OK);
    } else {
      pd_guide_bind b = PD_GUIDE_BIND_INIT;
      b.event_id = eid++, b.time = t;
      b.user = u[1 + sim_next(&r) % USERS], b.guide = g[1 + sim_next(&r) % GUIDES];
      assert_int_equal(pd_record_guide_bind(s, &b), PD_OK);
    }
  }
  for (int i = 1; i + 1 <= USERS; i += 37)
  {
    pd_user_id keep;
    assert_int_equal(pd_user_merge(s, u[i], u[i + 1], &keep), PD_OK);
  }

  pd_user_info info = PD_USER_INFO_INIT; /* a read: refreshes the index */
  assert_int_equal(pd_user_get(s, u[1], T0 + 90 * DAY, &info), PD_OK);
  assert_true(s->hfrom.valid);
  assert_int_equal(s->hfrom.built, s->col[PD_EV_HANDOVER].n);
  assert_true(s->hfrom.built > HANDOVERS / 2);
  size_t moved = 0;
  for (int i = 1; i <= USERS; i++) {
    uint32_t root = pd_st_find(s, (uint32_t)u[i]);
    for (int64_t d = -1; d <= 61; d += 2) {
      uint32_t t = (uint32_t)(T0 + d * DAY + (d % 3) * 3600);
      uint32_t fast = pd_st_guide_at(s, root, t);
      s->hfrom.valid = 0; /* force the full walk */
      uint32_t slow = pd_st_guide_at(s, root, t);
      s->hfrom.valid = 1;
      assert_int_equal(fast, slow);
      moved += fast != 0;
    }
  }
  assert_true(moved > 1000); /* most users are bound most of the time */
  /* The next handover away from a guide: index and scan agree. */
  size_t found = 0;
  for (uint32_t k = 0; k <= GUIDES; k++)
    for (int64_t d = -1; d <= 61; d += 3) {
      uint32_t pt = (uint32_t)(T0 + d * DAY), t = pt + 20 * (uint32_t)DAY;
      for (uint64_t pe = 0; pe < 2 * (BINDS + HANDOVERS); pe += 97) {
        uint32_t fast = pd_st_next_handover_from(s, k ? g[k] : 0, pt, pe, t);
        s->hfrom.valid = 0;
        uint32_t slow = pd_st_next_handover_from(s, k ? g[k] : 0, pt, pe, t);
        s->hfrom.valid = 1;
        assert_int_equal(fast, slow);
        found += fast != PD_ST_NIL;
      }
    }
  assert_true(found > 100);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(indexed_and_walked_guides_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
