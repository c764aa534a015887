/* Fuzz target: snapshot loading (pd_snapshot_read) from a buffer. The
 * first byte says whether to pass the identity key (bit 0); the rest is
 * the snapshot. Invariants: a rejected snapshot creates no store and
 * explains itself; an accepted one answers queries for every user, and
 * saving it, loading that and saving again gives the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct source {
  const uint8_t *p;
  size_t n, off;
} source;

static int32_t read_buf(void *user, void *buf, size_t len, size_t *got) {
  source *s = user;
  size_t k = s->n - s->off < len ? s->n - s->off : len;
  memcpy(buf, s->p + s->off, k);
  s->off += k;
  *got = k;
  return 0;
}

typedef struct sink {
  uint8_t *p;
  size_t n, cap;
} sink;

static int32_t write_buf(void *user, const void *buf, size_t len) {
  sink *s = user;
  if (s->n + len > s->cap) {
    size_t cap = (s->cap ? s->cap * 2 : 4096) + len;
    uint8_t *p = realloc(s->p, cap);
    if (!p) return 1;
    s->p = p;
    s->cap = cap;
  }
  memcpy(s->p + s->n, buf, len);
  s->n += len;
  return 0;
}

static const uint8_t KEY[32] = "fuzz-snapshot-identity-key-0123";

typedef struct walk {
  pd_store *s;
  uint64_t users;
} walk;

static int count_identity(void *u, const char *ns, size_t ns_len,
                          const char *key, size_t key_len) {
  (void)u;
  FUZZ_CHECK(ns_len > 0 && key_len > 0 && ns != NULL && key != NULL);
  return 0;
}

static int visit(void *arg, pd_user_id u) {
  walk *w = arg;
  pd_user_info info = PD_USER_INFO_INIT;
  pd_status st = pd_user_get(w->s, u, PD_TIME_MAX, &info);
  FUZZ_CHECK(st == PD_OK || st == PD_E_NOMEM);
  if (st == PD_OK) FUZZ_CHECK(info.user == u && info.revenue >= 0);
  st = pd_user_identities(w->s, u, count_identity, NULL);
  FUZZ_CHECK(st == PD_OK || st == PD_E_NOMEM);
  w->users++;
  return 0;
}

static pd_store *load(const uint8_t *p, size_t n, int keyed, pd_status *st) {
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  if (keyed) {
    o.identity_key = KEY;
    o.identity_key_len = sizeof KEY;
  }
  source src = {p, n, 0};
  pd_store *s = NULL;
  *st = pd_snapshot_read(read_buf, &src, &o, &s);
  if (*st != PD_OK) {
    FUZZ_CHECK(*st < 0 && s == NULL && msg[0] != '\0');
    return NULL;
  }
  FUZZ_CHECK(s != NULL);
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int keyed = data[0] & 1;
  pd_status st;
  pd_store *s = load(data + 1, size - 1, keyed, &st);
  if (!s) return 0;
  pd_store_stats a = PD_STORE_STATS_INIT;
  FUZZ_CHECK(pd_store_get_stats(s, &a) == PD_OK);
  walk w = {s, 0};
  FUZZ_CHECK(pd_store_foreach_user(s, visit, &w) == PD_OK);
  FUZZ_CHECK(w.users == a.users);
  sink one = {NULL, 0, 0}, two = {NULL, 0, 0};
  FUZZ_CHECK(pd_snapshot_write(s, write_buf, &one) == PD_OK);
  pd_store_free(s);
  s = load(one.p, one.n, keyed, &st);
  FUZZ_CHECK(s != NULL);
  pd_store_stats b = PD_STORE_STATS_INIT;
  FUZZ_CHECK(pd_store_get_stats(s, &b) == PD_OK);
  FUZZ_CHECK(a.users == b.users && a.identities == b.identities &&
             a.events == b.events && a.orders == b.orders);
  FUZZ_CHECK(pd_snapshot_write(s, write_buf, &two) == PD_OK);
  FUZZ_CHECK(one.n == two.n && memcmp(one.p, two.p, one.n) == 0);
  pd_store_free(s);
  free(one.p);
  free(two.p);
  return 0;
}
