/* Fuzz target: identity strings. The input is split into (namespace, key)
 * pairs by the bytes 0xff 0xfe (pair separator) and 0xff 0xfd (namespace
 * / key separator), so namespaces and keys hold arbitrary bytes (invalid
 * UTF-8, NUL, overlong, too long). Each pair goes through ensure, find and
 * attach, on a plain store and on a keyed (pseudonymising) one.
 * Invariants: both stores accept and reject exactly the same inputs; an
 * accepted identity is found again and names the same user; a rejected
 * one is never found; a second ensure replays; stats count identities. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct piece {
  const char *p;
  size_t n;
} piece;

/* The next run of bytes up to the two-byte separator ff `sep` (or end). */
static piece next_piece(const uint8_t **d, const uint8_t *end, uint8_t sep) {
  piece r = {(const char *)*d, 0};
  const uint8_t *p = *d;
  while (p < end && !(p + 1 < end && p[0] == 0xff && p[1] == sep)) p++;
  r.n = (size_t)(p - *d);
  *d = p < end ? p + 2 : end;
  return r;
}

static int ok(pd_status st) { return st == PD_OK || st == PD_REPLAYED; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t key[32] = "fuzz-identity-key-0123456789abcd";
  pd_store *plain = NULL, *keyed = NULL;
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.identity_key = key;
  o.identity_key_len = sizeof key;
  if (pd_store_new(NULL, &plain) != PD_OK) return 0;
  if (pd_store_new(&o, &keyed) != PD_OK) {
    pd_store_free(plain);
    return 0;
  }
  const uint8_t *d = data, *end = data + size;
  pd_user_id prev_plain = 0, prev_keyed = 0;
  int pairs = 0;
  while (d < end && pairs < 24) {
    const uint8_t *pair_end = d;
    piece whole = next_piece(&pair_end, end, 0xfe);
    const uint8_t *q = (const uint8_t *)whole.p;
    piece ns = next_piece(&q, (const uint8_t *)whole.p + whole.n, 0xfd);
    piece k = {(const char *)q,
               (size_t)((const uint8_t *)whole.p + whole.n - q)};
    d = pair_end;
    pairs++;
    pd_user_id up = 0, uk = 0, fp = 0, fk = 0;
    pd_status sp = pd_user_ensure(plain, ns.p, ns.n, k.p, k.n, &up);
    pd_status sk = pd_user_ensure(keyed, ns.p, ns.n, k.p, k.n, &uk);
    FUZZ_CHECK(sp == sk);
    if (!ok(sp)) {
      FUZZ_CHECK(sp < 0 && pd_store_errmsg(plain)[0] != '\0');
      FUZZ_CHECK(pd_user_find(plain, ns.p, ns.n, k.p, k.n, &fp) == sp);
      continue;
    }
    FUZZ_CHECK(up == uk);
    FUZZ_CHECK(pd_user_find(plain, ns.p, ns.n, k.p, k.n, &fp) == PD_OK);
    FUZZ_CHECK(pd_user_find(keyed, ns.p, ns.n, k.p, k.n, &fk) == PD_OK);
    FUZZ_CHECK(fp == up && fk == uk);
    FUZZ_CHECK(pd_user_ensure(plain, ns.p, ns.n, k.p, k.n, &fp) == PD_REPLAYED);
    FUZZ_CHECK(pd_user_ensure(keyed, ns.p, ns.n, k.p, k.n, &fk) == PD_REPLAYED);
    /* Attach the identity to the previous pair's user: merges or replays,
     * identically in both stores. */
    if (prev_plain != 0) {
      pd_user_id ap = 0, ak = 0;
      sp = pd_user_attach(plain, prev_plain, ns.p, ns.n, k.p, k.n, &ap);
      sk = pd_user_attach(keyed, prev_keyed, ns.p, ns.n, k.p, k.n, &ak);
      FUZZ_CHECK(sp == sk);
      FUZZ_CHECK(!ok(sp) || ap == ak);
      if (ok(sp)) {
        FUZZ_CHECK(pd_user_find(plain, ns.p, ns.n, k.p, k.n, &fp) == PD_OK);
        FUZZ_CHECK(fp == ap);
      }
    }
    prev_plain = up;
    prev_keyed = uk;
  }
  pd_store_stats a = PD_STORE_STATS_INIT, b = PD_STORE_STATS_INIT;
  FUZZ_CHECK(pd_store_get_stats(plain, &a) == PD_OK);
  FUZZ_CHECK(pd_store_get_stats(keyed, &b) == PD_OK);
  FUZZ_CHECK(a.users == b.users && a.identities == b.identities &&
             a.merged_users == b.merged_users);
  FUZZ_CHECK(a.users + a.merged_users + a.erased_users <= a.identities);
  pd_store_free(plain);
  pd_store_free(keyed);
  return 0;
}
