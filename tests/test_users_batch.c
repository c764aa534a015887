/* Specification of pd_users_ensure() (users.h): a batch ensures each
 * identity exactly as pd_user_ensure() would, in order and independently;
 * whole-call errors change nothing; memory failures fail their entry only;
 * every created user is journaled; keyed stores pseudonymise alike. */
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
#include "store_testutil.h"
#include "testutil_alloc.h"

#define NS "pos.member"
#define N_KEYS 600

static const int64_t at[] = {T0};

/* Keys of the comparison batch: fresh keys, repeats of earlier entries at
 * distances below, at and beyond the batch's look-ahead, keys that already
 * existed before the batch, and bad keys (empty, invalid UTF-8, too long).
 * Key lengths are given, except that every fifth is PD_NTS. */
typedef struct batch {
  char text[N_KEYS][16];
  const char *keys[N_KEYS];
  size_t lens[N_KEYS];
} batch;

static char long_key[PD_IDENTITY_KEY_MAX + 2];

static void make_batch(batch *b) {
  memset(long_key, 'k', sizeof long_key - 1);
  for (size_t i = 0; i < N_KEYS; i++) {
    size_t id = i;
    if (i % 7 == 3) id = i - 1;                /* the previous entry */
    if (i % 11 == 5 && i >= 8) id = i - 8;     /* as far as the look-ahead */
    if (i % 13 == 6 && i >= 9) id = i - 9;     /* just beyond it */
    if (i % 17 == 2) id = 100000 + i % 5;      /* existed before */
    snprintf(b->text[i], sizeof b->text[i], "M%06zu", id);
    b->keys[i] = b->text[i];
    b->lens[i] = i % 5 == 4 ? PD_NTS : strlen(b->text[i]);
  }
  b->keys[40] = "";
  b->lens[40] = 0;
  b->keys[41] = "\xff\xfe";
  b->lens[41] = 2;
  b->keys[42] = long_key;
  b->lens[42] = PD_NTS;
  b->keys[43] = "a\0b";
  b->lens[43] = 3;
}

/* The users that existed before the batch (and one of another namespace
 * with the same key, which must stay another user). */
static void existing_users(pd_store *s) {
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "M100000", PD_NTS, &u),
                   PD_OK);
  for (int k = 0; k < 5; k++) {
    char key[16];
    snprintf(key, sizeof key, "M%06d", 100000 + k);
    assert_int_equal(pd_user_ensure(s, NS, PD_NTS, key, PD_NTS, &u), PD_OK);
  }
}

static pd_store *new_store(const uint8_t *identity_key) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.identity_key = identity_key;
  o.identity_key_len = identity_key ? 32 : 0;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  return s;
}

/* The batch and the same identities one call at a time give the same
 * statuses, ids, first error and store. */
static void batch_equals_single_calls(const uint8_t *identity_key) {
  static batch b;
  make_batch(&b);
  pd_store *one = new_store(identity_key), *many = new_store(identity_key);
  existing_users(one);
  existing_users(many);
  pd_status want[N_KEYS], got[N_KEYS];
  pd_user_id want_id[N_KEYS], got_id[N_KEYS];
  size_t first_bad = N_KEYS;
  char want_msg[256] = "";
  for (size_t i = 0; i < N_KEYS; i++) {
    want_id[i] = 0;
    want[i] = pd_user_ensure(one, NS, PD_NTS, b.keys[i], b.lens[i],
                             &want_id[i]);
    if (want[i] < 0) want_id[i] = 0;
    if (want[i] < 0 && first_bad == N_KEYS) {
      first_bad = i;
      snprintf(want_msg, sizeof want_msg, "keys[%zu]: %s", i,
               pd_store_errmsg(one));
    }
  }
  assert_int_equal(first_bad, 40);
  assert_int_equal(pd_users_ensure(many, NS, PD_NTS, N_KEYS, b.keys, b.lens,
                                   got_id, got),
                   PD_E_INVALID);
  assert_string_equal(pd_store_errmsg(many), want_msg);
  size_t created = 0, replayed = 0;
  for (size_t i = 0; i < N_KEYS; i++) {
    assert_int_equal(got[i], want[i]);
    assert_int_equal(got_id[i], want_id[i]);
    created += got[i] == PD_OK;
    replayed += got[i] == PD_REPLAYED;
  }
  assert_int_equal(want[41], PD_E_UTF8);
  assert_int_equal(want[42], PD_E_UTF8);
  assert_int_equal(want[43], PD_E_UTF8);
  /* Every kind of repeat happened, and fresh keys were created. */
  assert_true(replayed > 60);
  assert_true(created > 400);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(many, &st), PD_OK);
  assert_int_equal(st.users, 6 + created);
  assert_int_equal(store_digest(many, st.users + 1, at, 1, 0),
                   store_digest(one, st.users + 1, at, 1, 0));
  pd_store_free(one);
  pd_store_free(many);
}

static void batch_matches_one_by_one(void **state) {
  (void)state;
  batch_equals_single_calls(NULL);
}

static void keyed_batch_matches_one_by_one(void **state) {
  (void)state;
  static const uint8_t key[32] = "an identity key of 32 bytes ....";
  batch_equals_single_calls(key);
}

/* Entries staged before an earlier entry created their namespace are
 * still found and created correctly; NULL key_lens means NUL-terminated
 * keys. */
static void new_namespace_within_batch(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  const char *keys[] = {"a", "b", "a", "c", "b"};
  pd_user_id id[5];
  pd_status st[5];
  assert_int_equal(pd_users_ensure(s, "wecom.external_userid", PD_NTS, 5, keys,
                                   NULL, id, st),
                   PD_OK);
  const pd_status want[] = {PD_OK, PD_OK, PD_REPLAYED, PD_OK, PD_REPLAYED};
  const pd_user_id want_id[] = {1, 2, 1, 3, 2};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(st[i], want[i]);
    assert_int_equal(id[i], want_id[i]);
  }
  pd_user_id u;
  assert_int_equal(
      pd_user_find(s, "wecom.external_userid", PD_NTS, "c", PD_NTS, &u), PD_OK);
  assert_int_equal(u, 3);
  pd_store_free(s);
}

/* Errors of the whole call leave the outputs and the store untouched. */
static void whole_call_errors_change_nothing(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  existing_users(s);
  uint64_t before = store_digest(s, 8, at, 1, 0);
  const char *keys[] = {"x", "y"};
  pd_user_id id[2] = {77, 77};
  pd_status st[2] = {PD_E_IO, PD_E_IO};
  assert_int_equal(pd_users_ensure(s, NS, PD_NTS, 2, NULL, NULL, id, st),
                   PD_E_INVALID);
  assert_int_equal(pd_users_ensure(s, NS, PD_NTS, 2, keys, NULL, NULL, st),
                   PD_E_INVALID);
  assert_int_equal(pd_users_ensure(s, NS, PD_NTS, 2, keys, NULL, id, NULL),
                   PD_E_INVALID);
  assert_int_equal(pd_users_ensure(s, NULL, 0, 2, keys, NULL, id, st),
                   PD_E_INVALID);
  assert_int_equal(pd_users_ensure(s, "", PD_NTS, 2, keys, NULL, id, st),
                   PD_E_INVALID);
  assert_int_equal(pd_users_ensure(s, "Pos", PD_NTS, 2, keys, NULL, id, st),
                   PD_E_INVALID);
  assert_non_null(strstr(pd_store_errmsg(s), "namespace"));
  char ns[PD_IDENTITY_NS_MAX + 2];
  memset(ns, 'n', sizeof ns - 1);
  ns[sizeof ns - 1] = '\0';
  assert_int_equal(pd_users_ensure(s, ns, PD_NTS, 2, keys, NULL, id, st),
                   PD_E_UTF8);
  assert_int_equal(pd_users_ensure(NULL, NS, PD_NTS, 2, keys, NULL, id, st),
                   PD_E_MISUSE);
  assert_int_equal(pd_users_ensure(s, NS, PD_NTS, 0, NULL, NULL, NULL, NULL),
                   PD_OK);
  assert_int_equal(pd_users_ensure(s, "", 0, 0, NULL, NULL, NULL, NULL),
                   PD_E_INVALID);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(id[i], 77);
    assert_int_equal(st[i], PD_E_IO);
  }
  assert_int_equal(store_digest(s, 8, at, 1, 0), before);
  pd_store_free(s);
}

/* Each allocation of a batch failing in turn fails its entry only: the
 * entries before and after it are created, the failed one is not, and no
 * memory is lost. */
static void memory_failure_fails_one_entry(void **state) {
  (void)state;
  enum { N = 300 };
  static char text[N][16];
  const char *keys[N];
  for (int i = 0; i < N; i++) {
    snprintf(text[i], sizeof text[i], "K%05d", i);
    keys[i] = text[i];
  }
  int failures_seen = 0;
  for (long k = 1;; k++) {
    test_alloc t;
    test_alloc_init(&t);
    pd_store *s = test_alloc_store(&t);
    assert_non_null(s);
    pd_user_id id[N];
    pd_status st[N];
    test_alloc_fail_in(&t, k);
    pd_status r = pd_users_ensure(s, NS, PD_NTS, N, keys, NULL, id, st);
    test_alloc_fail_in(&t, 0);
    int failed = 0;
    pd_user_id next = 1;
    for (int i = 0; i < N; i++) {
      pd_user_id u = 0;
      pd_status f = pd_user_find(s, NS, PD_NTS, keys[i], PD_NTS, &u);
      if (st[i] == PD_E_NOMEM) {
        failed++;
        assert_int_equal(id[i], 0);
        assert_int_equal(f, PD_E_NOT_FOUND);
      } else {
        assert_int_equal(st[i], PD_OK);
        assert_int_equal(id[i], next++);
        assert_int_equal(f, PD_OK);
        assert_int_equal(u, id[i]);
      }
    }
    assert_true(failed <= 1);
    assert_int_equal(r, failed ? PD_E_NOMEM : PD_OK);
    pd_store_free(s);
    assert_int_equal(atomic_load(&t.live), 0);
    if (!failed) break;
    failures_seen++;
  }
  assert_true(failures_seen >= 3); /* tables, key bytes, namespace */
}

/* Users a batch creates are journaled: reopening the files gives them
 * back, with their ids. */
static void batch_is_journaled(void **state) {
  (void)state;
  char dir[512], snap[600], jour[600];
  scratch_dir(dir, sizeof dir, "users_batch");
  assert_true(dir[0] != '\0');
  snprintf(snap, sizeof snap, "%s/s.pds", dir);
  snprintf(jour, sizeof jour, "%s/s.pdj", dir);
  pd_store *s = NULL;
  assert_int_equal(pd_store_open(snap, jour, NULL, NULL, &s), PD_OK);
  const char *keys[] = {"p1", "p2", "p1", "", "p3"};
  pd_user_id id[5];
  pd_status st[5];
  assert_int_equal(pd_users_ensure(s, NS, PD_NTS, 5, keys, NULL, id, st),
                   PD_E_INVALID);
  uint64_t before = store_digest(s, 5, at, 1, 0);
  pd_store_free(s);
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  assert_int_equal(pd_store_open(snap, jour, NULL, &rep, &s), PD_OK);
  assert_int_equal(rep.replayed, 3);
  assert_int_equal(store_digest(s, 5, at, 1, 0), before);
  pd_user_id u;
  assert_int_equal(pd_user_find(s, NS, PD_NTS, "p3", PD_NTS, &u), PD_OK);
  assert_int_equal(u, 3);
  pd_store_free(s);
  remove_dir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(batch_matches_one_by_one),
      cmocka_unit_test(keyed_batch_matches_one_by_one),
      cmocka_unit_test(new_namespace_within_batch),
      cmocka_unit_test(whole_call_errors_change_nothing),
      cmocka_unit_test(memory_failure_fails_one_entry),
      cmocka_unit_test(batch_is_journaled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
