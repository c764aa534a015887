/* Specification of keyed identity hashing (pd_store_options.identity_key,
 * PIPL pseudonymisation): a keyed store keeps HMAC-SHA-256(key, namespace
 * || 0x00 || identity key) as 64 hex digits instead of the key, finds users
 * by the raw key all the same, and holds no raw key anywhere in the memory
 * it allocated. White-box: it inspects every block the store allocated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store/store_internal.h"

/* ---- an allocator that can list every live block ------------------------ */

typedef struct block {
  struct block *prev, *next;
  size_t size;
  size_t pad; /* keeps the payload 16-byte aligned */
} block;

typedef struct tracker {
  block head; /* circular list sentinel */
  size_t live;
} tracker;

static void *tr_malloc(void *user, size_t size) {
  tracker *t = user;
  block *b = malloc(sizeof *b + size);
  if (!b) return NULL;
  b->size = size;
  b->next = t->head.next;
  b->prev = &t->head;
  t->head.next->prev = b;
  t->head.next = b;
  t->live++;
  return b + 1;
}

static void tr_free(void *user, void *p) {
  tracker *t = user;
  if (!p) return;
  block *b = (block *)p - 1;
  b->prev->next = b->next;
  b->next->prev = b->prev;
  t->live--;
  free(b);
}

static void *tr_realloc(void *user, void *p, size_t size) {
  if (!p) return tr_malloc(user, size);
  block *old = (block *)p - 1;
  void *n = tr_malloc(user, size);
  if (!n) return NULL;
  memcpy(n, p, old->size < size ? old->size : size);
  tr_free(user, p);
  return n;
}

static void tracker_init(tracker *t) {
  t->head.next = t->head.prev = &t->head;
  t->live = 0;
}

/* How many live blocks hold the n bytes of `needle`. */
static int blocks_holding_n(const tracker *t, const void *needle, size_t n) {
  int found = 0;
  for (const block *b = t->head.next; b != &t->head; b = b->next) {
    const char *p = (const char *)(b + 1);
    for (size_t i = 0; i + n <= b->size; i++)
      if (memcmp(p + i, needle, n) == 0) {
        found++;
        break;
      }
  }
  return found;
}

static int blocks_holding(const tracker *t, const char *needle) {
  return blocks_holding_n(t, needle, strlen(needle));
}

/* ---- helpers ------------------------------------------------------------ */

static const char *PHONE = "+8613800000000";
static const char *PHONE2 = "+8613900000001";
/* HMAC-SHA-256 under KEY (bytes 0..31), computed independently with
 * Python's hmac module. */
static const char *PHONE_MAC =
    "ec113f5b456b332a18d7bb9395b18137f6858f87a766e36360178c4fd0395b1c";
static const char *PHONE2_MAC =
    "dca39367f70e44c6be3cee18e0ff8cdb290ccfb416cf1db980df11ae4279a150";

static uint8_t KEY[32];

static pd_store *keyed_store(tracker *t, pd_allocator *a) {
  for (int i = 0; i < 32; i++) KEY[i] = (uint8_t)i;
  tracker_init(t);
  a->malloc_fn = tr_malloc;
  a->realloc_fn = tr_realloc;
  a->free_fn = tr_free;
  a->user = t;
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = a;
  o.identity_key = KEY;
  o.identity_key_len = sizeof KEY;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  return s;
}

typedef struct seen_keys {
  char key[4][80];
  int n;
} seen_keys;

static int collect(void *u, const char *ns, size_t ns_len, const char *key,
                   size_t key_len) {
  seen_keys *k = u;
  (void)ns;
  (void)ns_len;
  if (k->n < 4 && key_len < sizeof k->key[0]) {
    memcpy(k->key[k->n], key, key_len);
    k->key[k->n][key_len] = '\0';
    k->n++;
  }
  return 0;
}

/* ---- the rules ---------------------------------------------------------- */

static void keyed_store_keeps_the_hex_hmac_of_namespace_nul_and_key(
    void **state) {
  (void)state;
  tracker t;
  pd_allocator a;
  pd_store *s = keyed_store(&t, &a);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &u),
                   PD_OK);
  seen_keys k = {.n = 0};
  assert_int_equal(pd_user_identities(s, u, collect, &k), PD_OK);
  assert_int_equal(k.n, 1);
  assert_string_equal(k.key[0], PHONE_MAC);
  assert_true(s->ident_hashed);
  pd_store_free(s);
  assert_int_equal(t.live, 0);
}

static void lookups_by_the_raw_key_find_ensure_and_attach_as_usual(
    void **state) {
  (void)state;
  tracker t;
  pd_allocator a;
  pd_store *s = keyed_store(&t, &a);
  pd_user_id u1, u2, got;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &u1),
                   PD_OK);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &got),
                   PD_REPLAYED);
  assert_int_equal(got, u1);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, PHONE, PD_NTS, &got),
                   PD_OK);
  assert_int_equal(got, u1);
  /* The namespace is part of the MAC: the same key elsewhere is another
   * identity. */
  assert_int_equal(pd_user_find(s, "pos.member", PD_NTS, PHONE, PD_NTS, &got),
                   PD_E_NOT_FOUND);
  assert_int_equal(
      pd_user_ensure(s, "wechat.unionid", PD_NTS, "o6_bmX", PD_NTS, &u2),
      PD_OK);
  /* Attaching u1's phone to u2 merges them, exactly as without a key. */
  assert_int_equal(pd_user_attach(s, u2, "phone", PD_NTS, PHONE, PD_NTS, &got),
                   PD_OK);
  assert_int_equal(got, u1);
  assert_int_equal(pd_user_attach(s, u1, "phone", PD_NTS, PHONE2, PD_NTS, &got),
                   PD_OK);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, PHONE2, PD_NTS, &got),
                   PD_OK);
  assert_int_equal(got, u1);
  seen_keys k = {.n = 0};
  assert_int_equal(pd_user_identities(s, u2, collect, &k), PD_OK);
  assert_int_equal(k.n, 3);
  /* ordered by namespace: phone, phone, wechat.unionid */
  assert_true((strcmp(k.key[0], PHONE_MAC) == 0 &&
               strcmp(k.key[1], PHONE2_MAC) == 0) ||
              (strcmp(k.key[1], PHONE_MAC) == 0 &&
               strcmp(k.key[0], PHONE2_MAC) == 0));
  assert_int_equal(strlen(k.key[2]), 64);
  pd_store_free(s);
}

static void input_checks_apply_to_the_raw_key(void **state) {
  (void)state;
  tracker t;
  pd_allocator a;
  pd_store *s = keyed_store(&t, &a);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "\xff\xfe", 2, &u),
                   PD_E_UTF8);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "", 0, &u),
                   PD_E_INVALID);
  char big[PD_IDENTITY_KEY_MAX + 1];
  memset(big, 'a', sizeof big);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, big, sizeof big, &u),
                   PD_E_UTF8);
  pd_store_free(s);
}

static void no_raw_identity_key_is_in_any_block_the_store_allocated(
    void **state) {
  (void)state;
  tracker t;
  pd_allocator a;
  pd_store *s = keyed_store(&t, &a);
  char k[32];
  for (int i = 0; i < 2000; i++) {
    pd_user_id u, got;
    snprintf(k, sizeof k, "+86139%08d", i);
    assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, k, PD_NTS, &u), PD_OK);
    snprintf(k, sizeof k, "M%06d", i);
    assert_int_equal(pd_user_attach(s, u, "pos.member", PD_NTS, k, PD_NTS,
                                    &got),
                     PD_OK);
  }
  pd_user_id got;
  /* Failed lookups do not leave the key in the error message either. */
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, PHONE, PD_NTS, &got),
                   PD_E_NOT_FOUND);
  assert_int_equal(blocks_holding(&t, PHONE), 0);
  assert_int_equal(blocks_holding(&t, "+8613900000007"), 0);
  assert_int_equal(blocks_holding(&t, "13900001999"), 0);
  assert_int_equal(blocks_holding(&t, "M000042"), 0);
  /* Nor the key itself (only the HMAC pads derived from it). */
  assert_int_equal(blocks_holding_n(&t, KEY, sizeof KEY), 0);
  /* What is stored is the pseudonym. */
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "+8613900000001", PD_NTS,
                                &got),
                   PD_OK);
  assert_true(s->ident_bytes_len >= 4000 * 64);
  pd_store_free(s);
  assert_int_equal(t.live, 0);
}

static void without_a_key_the_raw_key_is_stored_so_the_scan_can_see_it(
    void **state) {
  (void)state;
  tracker t;
  tracker_init(&t);
  pd_allocator a = {tr_malloc, tr_realloc, tr_free, &t};
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = &a;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &u),
                   PD_OK);
  assert_int_equal(blocks_holding(&t, PHONE), 1);
  seen_keys k = {.n = 0};
  assert_int_equal(pd_user_identities(s, u, collect, &k), PD_OK);
  assert_string_equal(k.key[0], PHONE);
  /* Erasure overwrites the key bytes. */
  assert_int_equal(pd_user_erase(s, u), PD_OK);
  assert_int_equal(blocks_holding(&t, PHONE), 0);
  pd_store_free(s);
}

static void erasing_a_keyed_user_overwrites_its_pseudonyms(void **state) {
  (void)state;
  tracker t;
  pd_allocator a;
  pd_store *s = keyed_store(&t, &a);
  pd_user_id u, got;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &u),
                   PD_OK);
  assert_int_equal(blocks_holding(&t, PHONE_MAC), 1);
  assert_int_equal(pd_user_erase(s, u), PD_OK);
  assert_int_equal(blocks_holding(&t, PHONE_MAC), 0);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, PHONE, PD_NTS, &got),
                   PD_E_NOT_FOUND);
  pd_store_free(s);
}

static void another_key_gives_other_pseudonyms(void **state) {
  (void)state;
  uint8_t key2[16];
  memset(key2, 0x42, sizeof key2);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.identity_key = key2;
  o.identity_key_len = sizeof key2;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &u),
                   PD_OK);
  seen_keys k = {.n = 0};
  assert_int_equal(pd_user_identities(s, u, collect, &k), PD_OK);
  assert_int_equal(strlen(k.key[0]), 64);
  assert_string_not_equal(k.key[0], PHONE_MAC);
  pd_store_free(s);
}

static void the_key_length_must_be_16_to_1024_bytes(void **state) {
  (void)state;
  static uint8_t key[1025];
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  pd_store *s = NULL;
  o.identity_key = NULL;
  o.identity_key_len = 16;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  o.identity_key = key;
  o.identity_key_len = 0;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  o.identity_key_len = 15;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  o.identity_key_len = 1025;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  assert_null(s);
  o.identity_key_len = 16;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  pd_store_free(s);
  o.identity_key_len = 1024;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  pd_store_free(s);
}

static void callers_built_before_the_key_fields_are_accepted(void **state) {
  (void)state;
  /* The options as they were before identity_key was appended. */
  struct old_options {
    size_t size;
    const pd_allocator *allocator;
    int32_t currency_exponent;
  } old = {sizeof(struct old_options), NULL, 3};
  pd_store *s = NULL;
  assert_int_equal(pd_store_new((const pd_store_options *)&old, &s), PD_OK);
  assert_int_equal(pd_store_currency_exponent(s), 3);
  assert_false(s->ident_hashed);
  pd_store_free(s);
  /* A size that ends inside the new fields is no layout that existed. */
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.size = offsetof(pd_store_options, identity_key_len) + 1;
  s = NULL;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  assert_null(s);
}

/* The bytes of a file, NUL-terminated; *len receives the length. */
static char *file_bytes(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc((size_t)n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  p[n] = '\0';
  *len = (size_t)n;
  return p;
}

static int bytes_hold(const char *p, size_t n, const void *needle,
                      size_t len) {
  for (size_t i = 0; i + len <= n; i++)
    if (memcmp(p + i, needle, len) == 0) return 1;
  return 0;
}

static void snapshot_and_journal_files_hold_no_raw_key(void **state) {
  (void)state;
  for (int i = 0; i < 32; i++) KEY[i] = (uint8_t)i;
  char dir[] = "/tmp/pd-test-identity-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char snap[128], jrnl[128], copy[128];
  snprintf(snap, sizeof snap, "%s/s.pds", dir);
  snprintf(jrnl, sizeof jrnl, "%s/s.pdj", dir);
  snprintf(copy, sizeof copy, "%s/copy.pds", dir);
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.identity_key = KEY;
  o.identity_key_len = sizeof KEY;
  pd_store *s = NULL;
  assert_int_equal(pd_store_open(snap, jrnl, &o, NULL, &s), PD_OK);
  pd_user_id u, got;
  /* Journaled: the journal holds the changes since the snapshot. */
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, PHONE, PD_NTS, &u),
                   PD_OK);
  assert_int_equal(pd_user_attach(s, u, "phone", PD_NTS, PHONE2, PD_NTS,
                                  &got),
                   PD_OK);
  assert_int_equal(pd_snapshot_save(s, copy), PD_OK);
  pd_store_free(s);
  const char *paths[] = {jrnl, copy};
  for (int k = 0; k < 2; k++) {
    size_t n;
    char *p = file_bytes(paths[k], &n);
    assert_true(n > 0);
    assert_false(bytes_hold(p, n, PHONE, strlen(PHONE)));
    assert_false(bytes_hold(p, n, PHONE2, strlen(PHONE2)));
    assert_false(bytes_hold(p, n, "13800000000", 11));
    assert_false(bytes_hold(p, n, KEY, sizeof KEY));
    /* What is there is the pseudonym. */
    assert_true(bytes_hold(p, n, PHONE_MAC, 64));
    free(p);
  }
  /* Reopening (snapshot + journal replay) with the key finds the user by
   * the raw phone number: replay does not hash the stored form twice. */
  assert_int_equal(pd_store_open(snap, jrnl, &o, NULL, &s), PD_OK);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, PHONE2, PD_NTS, &got),
                   PD_OK);
  assert_int_equal(got, u);
  pd_store_free(s);
  pd_store *c = NULL;
  assert_int_equal(pd_snapshot_load(copy, &o, &c), PD_OK);
  assert_int_equal(pd_user_find(c, "phone", PD_NTS, PHONE, PD_NTS, &got),
                   PD_OK);
  assert_int_equal(got, u);
  pd_store_free(c);
  unlink(snap);
  unlink(jrnl);
  unlink(copy);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keyed_store_keeps_the_hex_hmac_of_namespace_nul_and_key),
      cmocka_unit_test(lookups_by_the_raw_key_find_ensure_and_attach_as_usual),
      cmocka_unit_test(input_checks_apply_to_the_raw_key),
      cmocka_unit_test(no_raw_identity_key_is_in_any_block_the_store_allocated),
      cmocka_unit_test(
          without_a_key_the_raw_key_is_stored_so_the_scan_can_see_it),
      cmocka_unit_test(erasing_a_keyed_user_overwrites_its_pseudonyms),
      cmocka_unit_test(another_key_gives_other_pseudonyms),
      cmocka_unit_test(the_key_length_must_be_16_to_1024_bytes),
      cmocka_unit_test(callers_built_before_the_key_fields_are_accepted),
      cmocka_unit_test(snapshot_and_journal_files_hold_no_raw_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
