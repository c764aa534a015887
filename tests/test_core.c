/* Specification of the core layer: hashing, the hash map, interning,
 * CRC-32C, UTF-8 validation and allocation helpers. */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/bytes.h"
#include "core/checked.h"
#include "core/crc32c.h"
#include "core/envelope.h"
#include "core/hash.h"
#include "core/intern.h"
#include "core/map64.h"
#include "core/parallel.h"
#include "core/utf8.h"

static pd_allocator libc_alloc(void) {
  pd_allocator a;
  assert_int_equal(pd_alloc_init(&a, NULL), 0);
  return a;
}

static void crc32c_matches_the_standard_check_value(void **state) {
  (void)state;
  assert_int_equal(pd_crc32c(0, "123456789", 9), 0xE3069283u);
  /* Incremental == one shot, across the 8-byte fast path boundary. */
  const char *text = "the quick brown fox jumps over the lazy dog";
  size_t n = strlen(text);
  uint32_t one = pd_crc32c(0, text, n);
  for (size_t cut = 0; cut <= n; cut++)
    assert_int_equal(pd_crc32c(pd_crc32c(0, text, cut), text + cut, n - cut),
                     one);
  assert_int_equal(pd_crc32c(0, "", 0), 0);
}

static void hash_depends_on_every_byte_and_length(void **state) {
  (void)state;
  assert_true(pd_hash_bytes("a", 1, 0) != pd_hash_bytes("a\0", 2, 0));
  assert_true(pd_hash_bytes("abc", 3, 0) != pd_hash_bytes("abd", 3, 0));
  assert_true(pd_hash_bytes("abc", 3, 0) != pd_hash_bytes("abc", 3, 1));
  assert_true(pd_hash_bytes("abc", 3, 7) == pd_hash_bytes("abc", 3, 7));
}

static void map64_agrees_with_a_brute_force_model(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_map64 m;
  pd_map64_init(&m);
  enum { N = 4000 };
  static uint64_t model[N]; /* model[k] = value+1 of key k+1, 0 = absent */
  memset(model, 0, sizeof model);
  uint64_t rng = 12345;
  for (int step = 0; step < 50000; step++) {
    rng = pd_mix64(rng + step);
    uint64_t key = rng % N + 1;
    if (rng >> 62) {
      assert_int_equal(pd_map64_put(&m, &a, key, step), 0);
      model[key - 1] = (uint64_t)step + 1;
    } else {
      assert_int_equal(pd_map64_del(&m, key), model[key - 1] != 0);
      model[key - 1] = 0;
    }
  }
  size_t live = 0;
  for (uint64_t k = 1; k <= N; k++) {
    uint64_t *v = pd_map64_get(&m, k);
    if (model[k - 1]) {
      assert_non_null(v);
      assert_int_equal(*v + 1, model[k - 1]);
      live++;
    } else {
      assert_null(v);
    }
  }
  assert_int_equal(m.len, live);
  assert_null(pd_map64_get(&m, 0));
  assert_int_equal(pd_map64_put(&m, &a, 0, 1), -1);
  pd_map64_free(&m, &a);
}

static void intern_gives_dense_stable_ids(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_intern t;
  pd_intern_init(&t);
  char buf[32];
  for (uint32_t i = 0; i < 1000; i++) {
    int n = snprintf(buf, sizeof buf, "source-%u", i);
    uint32_t id;
    assert_int_equal(pd_intern_add(&t, &a, buf, (size_t)n, &id), 0);
    assert_int_equal(id, i);
  }
  for (uint32_t i = 0; i < 1000; i++) {
    int n = snprintf(buf, sizeof buf, "source-%u", i);
    assert_int_equal(pd_intern_find(&t, buf, (size_t)n), i);
    size_t len;
    assert_string_equal(pd_intern_str(&t, i, &len), buf);
    assert_int_equal(len, (size_t)n);
  }
  uint32_t id;
  assert_int_equal(pd_intern_add(&t, &a, "", 0, &id), 0);
  assert_int_equal(id, 1000);
  assert_int_equal(pd_intern_find(&t, "source-1000", 11), PD_INTERN_NONE);
  /* Embedded NUL bytes are part of the string. */
  assert_int_equal(pd_intern_add(&t, &a, "a\0b", 3, &id), 0);
  assert_int_equal(pd_intern_find(&t, "a", 1), PD_INTERN_NONE);
  pd_intern_free(&t, &a);
}

static void utf8_validation_follows_rfc3629(void **state) {
  (void)state;
  assert_true(pd_utf8_valid("", 0));
  assert_true(pd_utf8_valid("abc", 3));
  assert_true(pd_utf8_valid("私域流量", strlen("私域流量")));
  assert_true(pd_utf8_valid("\xF0\x9F\x98\x80", 4)); /* emoji */
  assert_false(pd_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
  assert_false(pd_utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
  assert_false(pd_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
  assert_false(pd_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
  assert_false(pd_utf8_valid("\xE7\xA7", 2));         /* truncated */
  assert_false(pd_utf8_valid("\x80", 1));             /* lone continuation */
  assert_false(pd_utf8_valid("\xFF", 1));
}

static void checked_arithmetic_reports_overflow(void **state) {
  (void)state;
  int64_t r = 7;
  assert_int_equal(pd_add_i64(INT64_MAX, 1, &r), -1);
  assert_int_equal(r, 7);
  assert_int_equal(pd_sub_i64(INT64_MIN, 1, &r), -1);
  assert_int_equal(pd_mul_i64(INT64_MAX / 2 + 1, 2, &r), -1);
  assert_int_equal(pd_add_i64(40, 2, &r), 0);
  assert_int_equal(r, 42);
}

static void grow_fails_cleanly_on_overflow(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  int *arr = NULL;
  size_t cap = 0;
  assert_int_equal(pd_grow(&a, (void **)&arr, &cap, 100, sizeof *arr), 0);
  assert_true(cap >= 100);
  size_t before = cap;
  assert_int_equal(pd_grow(&a, (void **)&arr, &cap, SIZE_MAX, sizeof *arr),
                   -1);
  assert_int_equal(cap, before);
  assert_null(pd_realloc_array(&a, NULL, SIZE_MAX, 2));
  pd_free(&a, arr);
  pd_allocator bad = {0};
  assert_int_equal(pd_alloc_init(&a, &bad), -1);
}

/* Each block adds its own index into its own slot, many times over, so a
 * block run twice, skipped, or writing another's slot shows up. */
typedef struct block_tally {
  uint64_t runs[1000];
} block_tally;

static void tally_block(void *ctx, size_t block) {
  block_tally *t = ctx;
  for (int i = 0; i < 1000; i++) t->runs[block] += block + 1;
}

static void parallel_for_runs_every_block_exactly_once(void **state) {
  (void)state;
  static const int32_t thread_counts[] = {-3, 0, 1, 2, 3, 8, 64, 1000};
  for (size_t c = 0; c < sizeof thread_counts / sizeof *thread_counts; c++) {
    static block_tally t;
    memset(&t, 0, sizeof t);
    pd_parallel_for(thread_counts[c], 1000, tally_block, &t);
    for (size_t b = 0; b < 1000; b++)
      assert_int_equal(t.runs[b], (uint64_t)(b + 1) * 1000);
  }
  pd_parallel_for(2, 0, tally_block, NULL); /* no blocks: fn never called */
}

/* Each worker marks its slot busy while a block runs: two blocks running
 * at once with the same worker index would find the slot taken. */
typedef struct worker_check {
  _Atomic int busy[PD_PARALLEL_MAX_THREADS];
  _Atomic int clashes, out_of_range;
  uint64_t runs[1000];
  int32_t threads;
} worker_check;

static void worker_block(void *ctx, size_t block, int32_t worker) {
  worker_check *w = ctx;
  if (worker < 0 || worker >= w->threads) {
    atomic_fetch_add(&w->out_of_range, 1);
    return;
  }
  if (atomic_exchange(&w->busy[worker], 1)) atomic_fetch_add(&w->clashes, 1);
  for (int i = 0; i < 1000; i++) w->runs[block] += block + 1;
  atomic_store(&w->busy[worker], 0);
}

static void parallel_workers_have_distinct_indexes_below_threads(
    void **state) {
  (void)state;
  static const int32_t thread_counts[] = {1, 2, 3, 8, 64};
  for (size_t c = 0; c < sizeof thread_counts / sizeof *thread_counts; c++) {
    static worker_check w;
    memset(&w, 0, sizeof w);
    w.threads = thread_counts[c];
    pd_parallel_for_workers(w.threads, 1000, worker_block, &w);
    assert_int_equal(atomic_load(&w.clashes), 0);
    assert_int_equal(atomic_load(&w.out_of_range), 0);
    for (size_t b = 0; b < 1000; b++)
      assert_int_equal(w.runs[b], (uint64_t)(b + 1) * 1000);
  }
}

/* Scratch sized by pd_parallel_workers() covers every worker index that
 * runs, however few blocks there are. */
static void parallel_workers_counts_the_workers_that_run(void **state) {
  (void)state;
  assert_int_equal(pd_parallel_workers(64, 5), 5);
  assert_int_equal(pd_parallel_workers(3, 1000), 3);
  assert_int_equal(pd_parallel_workers(8, 1), 1);
  assert_int_equal(pd_parallel_workers(1, 0), 1);
  assert_int_equal(pd_parallel_workers(1000, 5000), PD_PARALLEL_MAX_THREADS);
  static worker_check w;
  memset(&w, 0, sizeof w);
  w.threads = pd_parallel_workers(64, 5);
  pd_parallel_for_workers(64, 5, worker_block, &w);
  assert_int_equal(atomic_load(&w.out_of_range), 0);
  for (size_t b = 0; b < 5; b++)
    assert_int_equal(w.runs[b], (uint64_t)(b + 1) * 1000);
}

static void parallel_thread_option_resolves(void **state) {
  (void)state;
  assert_int_equal(pd_parallel_resolve_threads(1), 1);
  assert_int_equal(pd_parallel_resolve_threads(7), 7);
  int32_t all = pd_parallel_resolve_threads(0);
  assert_true(all >= 1 && all <= PD_PARALLEL_MAX_THREADS);
}

static void envelope_round_trips_and_refuses_damage(void **state) {
  (void)state;
  pd_allocator a;
  assert_int_equal(pd_alloc_init(&a, NULL), 0);
  pd_obuf b = {&a, NULL, 0, 0, 0};
  size_t start = pd_envelope_open(&b, 7);
  pd_put32(&b, 0xDEADBEEFu);
  pd_put64(&b, 42);
  pd_envelope_close(&b, start);
  assert_false(b.failed);
  assert_int_equal(b.len, PD_ENVELOPE_HEADER + 12 + PD_ENVELOPE_TRAILER);

  pd_ibuf in;
  assert_int_equal(pd_envelope_read(b.p, b.len, 7, &in), PD_ENVELOPE_OK);
  assert_int_equal(pd_get32(&in), 0xDEADBEEFu);
  assert_int_equal(pd_get64(&in), 42);
  assert_int_equal(pd_ileft(&in), 0);

  assert_int_equal(pd_envelope_read(b.p, b.len, 8, &in),
                   PD_ENVELOPE_WRONG_KIND);
  assert_int_equal(pd_envelope_read(b.p, b.len - 1, 7, &in),
                   PD_ENVELOPE_TRUNCATED);
  assert_int_equal(pd_envelope_read(NULL, 0, 7, &in), PD_ENVELOPE_TRUNCATED);
  for (size_t i = 0; i < b.len; i++) { /* every flipped bit is noticed */
    b.p[i] ^= 0x10;
    assert_int_not_equal(pd_envelope_read(b.p, b.len, 7, &in), PD_ENVELOPE_OK);
    b.p[i] ^= 0x10;
  }
  pd_put8(&b, 0);
  assert_int_equal(pd_envelope_read(b.p, b.len, 7, &in),
                   PD_ENVELOPE_TRAILING);
  b.p[4] = 2; /* a newer version */
  assert_int_equal(pd_envelope_read(b.p, b.len - 1, 7, &in),
                   PD_ENVELOPE_NEWER);
  b.p[0] = 'X';
  assert_int_equal(pd_envelope_read(b.p, b.len - 1, 7, &in),
                   PD_ENVELOPE_BAD_MAGIC);
  assert_string_equal(pd_envelope_check_text(PD_ENVELOPE_BAD_CRC),
                      "damaged (checksum mismatch)");
  pd_free(&a, b.p);
}

static void bytes_take_the_buffer_and_free_it(void **state) {
  (void)state;
  pd_allocator a;
  assert_int_equal(pd_alloc_init(&a, NULL), 0);
  pd_obuf b = {&a, NULL, 0, 0, 0};
  pd_put32(&b, 0x01020304u);
  const void *mem = b.p;
  pd_bytes *out = NULL;
  assert_int_equal(pd_bytes_take(&b, &out), 0);
  assert_ptr_equal(pd_bytes_data(out), mem); /* moved, not copied */
  assert_int_equal(pd_bytes_size(out), 4);
  assert_memory_equal(pd_bytes_data(out), "\x04\x03\x02\x01", 4);
  assert_null(b.p);
  assert_int_equal(b.len, 0);
  pd_bytes_free(out);
  pd_bytes_free(NULL);
  assert_null(pd_bytes_data(NULL));
  assert_int_equal(pd_bytes_size(NULL), 0);

  pd_obuf failed = {&a, NULL, 0, 0, 1};
  out = NULL;
  assert_int_equal(pd_bytes_take(&failed, &out), -1);
  assert_null(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(crc32c_matches_the_standard_check_value),
      cmocka_unit_test(hash_depends_on_every_byte_and_length),
      cmocka_unit_test(map64_agrees_with_a_brute_force_model),
      cmocka_unit_test(intern_gives_dense_stable_ids),
      cmocka_unit_test(utf8_validation_follows_rfc3629),
      cmocka_unit_test(checked_arithmetic_reports_overflow),
      cmocka_unit_test(grow_fails_cleanly_on_overflow),
      cmocka_unit_test(parallel_for_runs_every_block_exactly_once),
      cmocka_unit_test(parallel_workers_have_distinct_indexes_below_threads),
      cmocka_unit_test(parallel_workers_counts_the_workers_that_run),
      cmocka_unit_test(parallel_thread_option_resolves),
      cmocka_unit_test(envelope_round_trips_and_refuses_damage),
      cmocka_unit_test(bytes_take_the_buffer_and_free_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
