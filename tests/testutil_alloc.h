/* A counting allocator for tests: counts live allocations, keeps the
 * largest request, and can fail the k-th allocation (malloc or realloc)
 * from now on, to inject out-of-memory at every allocation site. Thread-safe (atomics), so it may
 * back a store shared by threads. Header-only: each test includes it. */
#ifndef PD_TESTS_TESTUTIL_ALLOC_H
#define PD_TESTS_TESTUTIL_ALLOC_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <privdomain/alloc.h>
#include <privdomain/store.h>

typedef struct test_alloc {
  atomic_long live;      /* allocations not yet freed */
  atomic_long calls;     /* malloc + realloc calls so far */
  atomic_long fail_at;   /* fail the call whose number equals this; 0 = never */
  atomic_long failures;  /* calls failed on purpose */
  atomic_size_t largest; /* the largest size asked for so far */
} test_alloc;

static void test_alloc_note_size(test_alloc *t, size_t size) {
  size_t was = atomic_load(&t->largest);
  while (size > was &&
         !atomic_compare_exchange_weak(&t->largest, &was, size)) {
  }
}

static void *test_alloc_malloc(void *user, size_t size) {
  test_alloc *t = user;
  long n = atomic_fetch_add(&t->calls, 1) + 1;
  if (n == atomic_load(&t->fail_at)) {
    atomic_fetch_add(&t->failures, 1);
    return NULL;
  }
  test_alloc_note_size(t, size);
  void *p = malloc(size);
  if (p) atomic_fetch_add(&t->live, 1);
  return p;
}

static void *test_alloc_realloc(void *user, void *ptr, size_t size) {
  test_alloc *t = user;
  long n = atomic_fetch_add(&t->calls, 1) + 1;
  if (n == atomic_load(&t->fail_at)) {
    atomic_fetch_add(&t->failures, 1);
    return NULL;
  }
  test_alloc_note_size(t, size);
  return realloc(ptr, size);
}

static void test_alloc_free(void *user, void *ptr) {
  test_alloc *t = user;
  atomic_fetch_sub(&t->live, 1);
  free(ptr);
}

static inline void test_alloc_init(test_alloc *t) {
  atomic_init(&t->live, 0);
  atomic_init(&t->calls, 0);
  atomic_init(&t->fail_at, 0);
  atomic_init(&t->failures, 0);
  atomic_init(&t->largest, 0);
}

static inline pd_allocator test_alloc_allocator(test_alloc *t) {
  pd_allocator a = {test_alloc_malloc, test_alloc_realloc, test_alloc_free,
                    t};
  return a;
}

/* A new store on t's allocator (the C library's when t is NULL), or
 * NULL. The store copies the allocator, so t alone must outlive it. */
static inline pd_store *test_alloc_store(test_alloc *t) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  pd_allocator a;
  if (t) {
    a = test_alloc_allocator(t);
    o.allocator = &a;
  }
  pd_store *s = NULL;
  return pd_store_new(&o, &s) == PD_OK ? s : NULL;
}

/* Fail the k-th allocation call from now (k >= 1); 0 disarms. */
static inline void test_alloc_fail_in(test_alloc *t, long k) {
  atomic_store(&t->fail_at, k ? atomic_load(&t->calls) + k : 0);
}

#endif
