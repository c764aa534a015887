/* The set of freed blocks kept for reuse (core/spare_blocks.h): which
 * block a request gets, what the limit pushes out and in which order,
 * and that every block is released exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

#include <cmocka.h>

#include "core/spare_blocks.h"

/* Released blocks in order; the blocks are tags, never dereferenced. */
typedef struct released {
  void *block[4 * PD_SPARE_MAX];
  size_t n;
} released;

static void note_release(void *ctx, void *block) {
  released *r = ctx;
  assert_true(r->n < sizeof r->block / sizeof r->block[0]);
  r->block[r->n++] = block;
}

static char tags[4 * PD_SPARE_MAX];
#define TAG(i) ((void *)&tags[i])

static void a_request_gets_the_smallest_block_that_fits_within_twice_it(
    void **state) {
  (void)state;
  released r = {{0}, 0};
  pd_spare_blocks sp;
  assert_int_equal(pd_spare_init(&sp, note_release, &r), 0);
  pd_spare_give(&sp, TAG(0), 4000, UINT64_MAX);
  pd_spare_give(&sp, TAG(1), 1000, UINT64_MAX);
  pd_spare_give(&sp, TAG(2), 1500, UINT64_MAX);
  assert_int_equal(pd_spare_bytes(&sp), 6500);
  size_t cap = 0;
  /* 1200: 1500 is the smallest that holds it (1000 is too small). */
  assert_ptr_equal(pd_spare_take(&sp, 1200, &cap), TAG(2));
  assert_int_equal(cap, 1500);
  assert_int_equal(pd_spare_bytes(&sp), 5000);
  /* 1900: only 4000 holds it, and it is more than twice as large. */
  assert_null(pd_spare_take(&sp, 1900, &cap));
  assert_ptr_equal(pd_spare_take(&sp, 2000, &cap), TAG(0));
  assert_int_equal(cap, 4000);
  assert_ptr_equal(pd_spare_take(&sp, 1000, &cap), TAG(1));
  assert_null(pd_spare_take(&sp, 1, &cap));
  assert_int_equal(pd_spare_bytes(&sp), 0);
  pd_spare_destroy(&sp);
  assert_int_equal(r.n, 0); /* all three were taken, none released */
}

static void the_limit_pushes_out_the_oldest_blocks_first(void **state) {
  (void)state;
  released r = {{0}, 0};
  pd_spare_blocks sp;
  assert_int_equal(pd_spare_init(&sp, note_release, &r), 0);
  pd_spare_give(&sp, TAG(0), 100, 1000);
  pd_spare_give(&sp, TAG(1), 200, 1000);
  pd_spare_give(&sp, TAG(2), 300, 1000);
  pd_spare_give(&sp, TAG(3), 500, 1000); /* 1100 > 1000: TAG(0) goes */
  assert_int_equal(r.n, 1);
  assert_ptr_equal(r.block[0], TAG(0));
  assert_int_equal(pd_spare_bytes(&sp), 1000);
  /* A block larger than the limit is released at once, and a lower
   * limit is applied to what is kept. */
  pd_spare_give(&sp, TAG(4), 2000, 600);
  assert_int_equal(r.n, 4);
  assert_ptr_equal(r.block[1], TAG(4));
  assert_ptr_equal(r.block[2], TAG(1));
  assert_ptr_equal(r.block[3], TAG(2));
  assert_int_equal(pd_spare_bytes(&sp), 500);
  pd_spare_trim(&sp, 499);
  assert_int_equal(r.n, 5);
  assert_ptr_equal(r.block[4], TAG(3));
  assert_int_equal(pd_spare_bytes(&sp), 0);
  pd_spare_destroy(&sp);
  assert_int_equal(r.n, 5);
}

static void past_the_most_blocks_the_oldest_is_released(void **state) {
  (void)state;
  released r = {{0}, 0};
  pd_spare_blocks sp;
  assert_int_equal(pd_spare_init(&sp, note_release, &r), 0);
  for (int i = 0; i < PD_SPARE_MAX + 3; i++)
    pd_spare_give(&sp, TAG(i), 10, UINT64_MAX);
  assert_int_equal(r.n, 3);
  for (int i = 0; i < 3; i++) assert_ptr_equal(r.block[i], TAG(i));
  assert_int_equal(pd_spare_bytes(&sp), 10 * PD_SPARE_MAX);
  /* Equal sizes: the take order is the kept order. */
  size_t cap;
  assert_ptr_equal(pd_spare_take(&sp, 10, &cap), TAG(3));
  pd_spare_destroy(&sp);
  /* Destroying releases the rest, each once. */
  assert_int_equal(r.n, 3 + PD_SPARE_MAX - 1);
  for (size_t i = 3; i < r.n; i++) assert_ptr_equal(r.block[i], TAG(i + 1));
}

/* Threads giving and taking at once: nothing is lost or handed out
 * twice (run under ThreadSanitizer in CI). */
enum { WORKERS = 4, ROUNDS = 2000 };

static int churn(void *arg) {
  pd_spare_blocks *sp = arg;
  void *mine[8];
  int n = 0;
  for (int i = 0; i < ROUNDS; i++) {
    size_t cap;
    if (n < 8) {
      void *b = pd_spare_take(sp, 64, &cap);
      if (b == NULL) b = malloc(64);
      if (b == NULL) return 1;
      mine[n++] = b;
    }
    if (i % 3 == 0 && n > 0) pd_spare_give(sp, mine[--n], 64, 64 * 20);
  }
  while (n > 0) free(mine[--n]);
  return 0;
}

static void release_free(void *ctx, void *block) {
  (void)ctx;
  free(block);
}

static void threads_share_the_set(void **state) {
  (void)state;
  pd_spare_blocks sp;
  assert_int_equal(pd_spare_init(&sp, release_free, NULL), 0);
  thrd_t t[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    assert_int_equal(thrd_create(&t[i], churn, &sp), thrd_success);
  for (int i = 0; i < WORKERS; i++) {
    int rc = -1;
    thrd_join(t[i], &rc);
    assert_int_equal(rc, 0);
  }
  assert_true(pd_spare_bytes(&sp) <= 64 * 20);
  pd_spare_destroy(&sp); /* ASan reports a block freed twice or leaked */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          a_request_gets_the_smallest_block_that_fits_within_twice_it),
      cmocka_unit_test(the_limit_pushes_out_the_oldest_blocks_first),
      cmocka_unit_test(past_the_most_blocks_the_oldest_is_released),
      cmocka_unit_test(threads_share_the_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
