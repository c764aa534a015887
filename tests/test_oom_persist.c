/* Specification: out of memory while saving a snapshot or replaying a
 * journal. Each allocation of the operation is failed in turn (1st, 2nd,
 * … until the operation succeeds): every failure returns PD_E_NOMEM,
 * leaks nothing, leaves the store (or the files) as they were, and the
 * next attempt works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "persist_testutil.h"
#include "testutil_alloc.h"

static void saving_fails_cleanly_at_every_allocation(void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.allocator = &a;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&so, &s), PD_OK);
  assert_int_equal(small_domain(s, 1), PD_OK);
  uint64_t before = digest_of(s);
  int points = 0, saved = 0;
  for (long k = 1; k < 1000 && !saved; k++) {
    membuf m = {0};
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_snapshot_write(s, membuf_write, &m);
    test_alloc_fail_in(&ta, 0);
    if (r == PD_OK) {
      saved = 1;
    } else {
      assert_int_equal(r, PD_E_NOMEM);
      points++;
    }
    assert_true(digest_of(s) == before);
    free(m.p);
  }
  assert_true(saved);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
  printf("OOM injection: %d failed allocations while saving, each clean\n",
         points);
}

static void replaying_a_journal_fails_cleanly_at_every_allocation(void **st) {
  (void)st;
  char dir[512], snap[1024], jrnl[1024];
  scratch_dir(dir, sizeof dir, "oomjournal");
  assert_true(dir[0] != '\0');
  snprintf(snap, sizeof snap, "%s/s.pds", dir);
  snprintf(jrnl, sizeof jrnl, "%s/s.pdj", dir);
  pd_store *s = NULL;
  assert_int_equal(pd_store_open(snap, jrnl, NULL, NULL, &s), PD_OK);
  assert_int_equal(small_domain(s, 2), PD_OK);
  uint64_t want = digest_of(s);
  pd_store_free(s);

  int points = 0, opened = 0;
  for (long k = 1; k < 5000 && !opened; k++) {
    test_alloc ta;
    test_alloc_init(&ta);
    pd_allocator a = test_alloc_allocator(&ta);
    pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
    o.allocator = &a;
    test_alloc_fail_in(&ta, k);
    pd_store *t = NULL;
    pd_status r = pd_store_open(snap, jrnl, &o, NULL, &t);
    test_alloc_fail_in(&ta, 0);
    if (r == PD_OK) {
      opened = 1;
      assert_true(digest_of(t) == want);
      pd_store_free(t);
    } else {
      assert_int_equal(r, PD_E_NOMEM);
      points++;
      /* the files are untouched: they still check out */
      pd_check_report cr = PD_CHECK_REPORT_INIT;
      assert_int_equal(pd_persist_check(jrnl, NULL, &cr), PD_OK);
      assert_int_equal(cr.status, PD_OK);
    }
    assert_int_equal(atomic_load(&ta.live), 0);
  }
  assert_true(opened);
  assert_true(points > 10);
  remove_dir(dir);
  printf("OOM injection: %d failed allocations while replaying a journal, "
         "each clean\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(saving_fails_cleanly_at_every_allocation),
      cmocka_unit_test(replaying_a_journal_fails_cleanly_at_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
