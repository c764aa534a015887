/* The store's spare blocks (pd_store_set_spare_limit): freed working
 * memory kept for the next computation changes no figure, even when the
 * blocks handed out again hold garbage; the limit is kept and checked;
 * the counts add up to what the allocator has handed out; recording
 * keeps nothing; and every block goes back to the allocator when the
 * store is freed. White-box:
 * pd_st_memory_debug() makes blocks of 64 bytes and more spare, and
 * poisons each one reused, so the small demo stores exercise it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "figures_digest.h"
#include "store/store_internal.h"

/* ---- an allocator that counts what it has out -------------------------- */

typedef struct counted {
  size_t blocks, bytes;
} counted;

/* Each block remembers its size in front, as the store's header does. */
static void *count_malloc(void *user, size_t size) {
  counted *c = user;
  size_t *p = malloc(size + 16);
  if (!p) return NULL;
  p[0] = size;
  c->blocks++, c->bytes += size;
  return (char *)p + 16;
}

static void *count_realloc(void *user, void *ptr, size_t size) {
  counted *c = user;
  size_t *old = (size_t *)((char *)ptr - 16), was = old[0];
  size_t *p = realloc(old, size + 16);
  if (!p) return NULL;
  p[0] = size;
  c->bytes = c->bytes - was + size;
  return (char *)p + 16;
}

static void count_free(void *user, void *ptr) {
  counted *c = user;
  size_t *p = (size_t *)((char *)ptr - 16);
  c->blocks--, c->bytes -= p[0];
  free(p);
}

static pd_store_stats stats_of(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  return st;
}

/* The demo store of about `users` users, its blocks from `spare_from`
 * bytes on kept (0: the library's threshold) and poisoned when reused. */
static pd_store *store_keeping(uint32_t users, size_t spare_from,
                               const pd_allocator *a, demo_data *d,
                               demo_ids *ids) {
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, users, d), 0);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = a;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  if (spare_from > 0) pd_st_memory_debug(s, spare_from, 1);
  demo_play_all(s, d, ids);
  return s;
}

/* ---- the setting ------------------------------------------------------- */

static void the_limit_is_checked(void **state) {
  (void)state;
  assert_int_equal(pd_store_set_spare_limit(NULL, 0), PD_E_MISUSE);
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  const int64_t ok[] = {0, PD_SPARE_AUTO, 1, INT64_MAX};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    assert_int_equal(pd_store_set_spare_limit(s, ok[i]), PD_OK);
  assert_int_equal(pd_store_set_spare_limit(s, -2), PD_E_INVALID);
  assert_non_null(strstr(pd_store_errmsg(s), "spare limit"));
  assert_int_equal(pd_store_set_spare_limit(s, INT64_MIN), PD_E_INVALID);
  assert_int_equal(stats_of(s).spare_bytes, 0);
  pd_store_free(s);
}

static void stats_of_the_0_1_size_are_still_answered(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_store_stats st;
  memset(&st, 0xEE, sizeof st);
  st.size = offsetof(pd_store_stats, spare_bytes);
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.channels, 12);
  uint64_t untouched;
  memset(&untouched, 0xEE, sizeof untouched);
  assert_memory_equal(&st.spare_bytes, &untouched, sizeof untouched);
  st.size = offsetof(pd_store_stats, spare_bytes) - 1;
  assert_int_equal(pd_store_get_stats(s, &st), PD_E_INVALID);
  pd_store_free(s);
}

/* ---- reuse changes no figure ------------------------------------------- */

static void reused_poisoned_blocks_change_no_figure(void **state) {
  (void)state;
  demo_data d0, d1;
  demo_ids i0, i1;
  pd_store *none = demo_store(DEMO_MIN_USERS, &d0, &i0);
  assert_int_equal(pd_store_set_spare_limit(none, 0), PD_OK);
  pd_store *keep = store_keeping(DEMO_MIN_USERS, 64, NULL, &d1, &i1);
  assert_int_equal(pd_store_set_spare_limit(keep, INT64_MAX), PD_OK);
  /* recording gave back what it freed */
  assert_int_equal(stats_of(keep).spare_bytes, 0);
  digest want[FIGURES], got[FIGURES];
  figures(none, &d0, &i0, want);
  const int32_t threads[] = {1, 2, 3};
  for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
    assert_int_equal(pd_store_set_threads(keep, threads[t]), PD_OK);
    /* twice: the second pass runs on the first one's blocks */
    for (int pass = 0; pass < 2; pass++) {
      figures(keep, &d1, &i1, got);
      int k;
      if (!figures_equal(want, got, &k))
        fail_msg("%s differs on reused blocks (threads %d, pass %d)",
                 figure_names[k], (int)threads[t], pass);
    }
  }
  assert_int_equal(stats_of(none).spare_bytes, 0);
  assert_true(stats_of(keep).spare_bytes > 0);
  pd_store_free(none);
  pd_store_free(keep);
  demo_free(&d0);
  demo_free(&d1);
}

/* ---- the counts and the limit ------------------------------------------ */

static void the_counts_add_up_and_the_limit_gives_back_at_once(
    void **state) {
  (void)state;
  counted c = {0, 0};
  pd_allocator a = {count_malloc, count_realloc, count_free, &c};
  demo_data d;
  demo_ids ids;
  pd_store *s = store_keeping(DEMO_MIN_USERS, 64, &a, &d, &ids);
  assert_int_equal(pd_store_set_spare_limit(s, INT64_MAX), PD_OK);
  digest once[FIGURES];
  figures(s, &d, &ids, once);
  pd_store_stats before = stats_of(s);
  assert_true(before.spare_bytes > 0);
  /* everything out of the allocator is either held or spare */
  assert_int_equal(c.bytes, before.memory_bytes + before.spare_bytes);
  /* a computation gives back every block it takes */
  figures(s, &d, &ids, once);
  pd_store_stats after = stats_of(s);
  assert_int_equal(after.memory_bytes, before.memory_bytes);
  assert_int_equal(c.bytes, after.memory_bytes + after.spare_bytes);

  uint64_t half = after.spare_bytes / 2;
  assert_int_equal(pd_store_set_spare_limit(s, (int64_t)half), PD_OK);
  pd_store_stats lower = stats_of(s);
  assert_true(lower.spare_bytes <= half);
  assert_int_equal(lower.memory_bytes, after.memory_bytes);
  assert_int_equal(c.bytes, lower.memory_bytes + lower.spare_bytes);
  /* a rejected setting keeps the limit */
  assert_int_equal(pd_store_set_spare_limit(s, -7), PD_E_INVALID);
  figures(s, &d, &ids, once);
  assert_true(stats_of(s).spare_bytes <= half);

  assert_int_equal(pd_store_set_spare_limit(s, 0), PD_OK);
  assert_int_equal(stats_of(s).spare_bytes, 0);
  assert_int_equal(c.bytes, stats_of(s).memory_bytes);
  figures(s, &d, &ids, once);
  assert_int_equal(stats_of(s).spare_bytes, 0);
  pd_store_free(s);
  assert_int_equal(c.blocks, 0);
  assert_int_equal(c.bytes, 0);
  demo_free(&d);
}

/* With the library's own threshold and automatic limit, a store of about
 * 1.3 million events keeps some of its blocks of 1 MiB and more, at most
 * a quarter of what it holds, and its figures are those of a store that
 * keeps nothing. */
static void the_automatic_limit_keeps_a_quarter_at_most(void **state) {
  (void)state;
  demo_data d0, d1;
  demo_ids i0, i1;
  pd_store *none = demo_store(50000, &d0, &i0);
  assert_int_equal(pd_store_set_spare_limit(none, 0), PD_OK);
  pd_store *keep = store_keeping(50000, 0, NULL, &d1, &i1);
  assert_int_equal(pd_store_set_threads(keep, 2), PD_OK);
  digest want[FIGURES], got[FIGURES];
  figures(none, &d0, &i0, want);
  for (int pass = 0; pass < 2; pass++) {
    figures(keep, &d1, &i1, got);
    int k;
    if (!figures_equal(want, got, &k))
      fail_msg("%s differs with the automatic limit (pass %d)",
               figure_names[k], pass);
    pd_store_stats st = stats_of(keep);
    assert_true(st.spare_bytes >= ((uint64_t)1 << 20));
    assert_true(st.spare_bytes <= st.memory_bytes / 4);
  }
  pd_store_free(none);
  pd_store_free(keep);
  demo_free(&d0);
  demo_free(&d1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_limit_is_checked),
      cmocka_unit_test(stats_of_the_0_1_size_are_still_answered),
      cmocka_unit_test(reused_poisoned_blocks_change_no_figure),
      cmocka_unit_test(the_counts_add_up_and_the_limit_gives_back_at_once),
      cmocka_unit_test(the_automatic_limit_keeps_a_quarter_at_most),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
