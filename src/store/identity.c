/* Users and identities: finding and creating users by identity, attaching
 * identities, merging users (union-find with a circular member list) and
 * erasing them (PIPL). */
#include <stdlib.h>
#include <string.h>

#include <privdomain/users.h>

#include "core/hash.h"
#include "core/utf8.h"
#include "core/prefault.h"
#include "core/prefetch.h"
#include "names.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "store_restore.h"
#include "store_internal.h"
#include "store_query.h"
#include "store_threads.h"

/* ---- input checks ------------------------------------------------------- */

static pd_status check_namespace(pd_store *s, const char *ns,
                                 size_t *ns_len) {
  if (ns == NULL)
    return pd_err(&s->err, PD_E_INVALID, "identity namespace is NULL");
  if (*ns_len == PD_NTS) *ns_len = strnlen(ns, PD_IDENTITY_NS_MAX + 1);
  if (*ns_len == 0)
    return pd_err(&s->err, PD_E_INVALID, "identity namespace is empty");
  if (*ns_len > PD_IDENTITY_NS_MAX)
    return pd_err(&s->err, PD_E_UTF8,
                  "identity namespace is longer than %d bytes",
                  PD_IDENTITY_NS_MAX);
  for (size_t i = 0; i < *ns_len; i++) {
    char c = ns[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return pd_err(&s->err, PD_E_INVALID,
                    "identity namespace may only hold a-z 0-9 . _ - "
                    "(byte %zu is not one)",
                    i);
  }
  return PD_OK;
}

/* What is wrong with a key (its length resolved), as a status and a
 * message, or PD_OK: a batch checks keys ahead and reports them later. */
#define STR(x) #x
#define XSTR(x) STR(x)
static pd_status key_problem(const char *key, size_t *len, const char **msg) {
  if (key == NULL) return *msg = "identity key is NULL", PD_E_INVALID;
  if (*len == PD_NTS) *len = strnlen(key, PD_IDENTITY_KEY_MAX + 1);
  if (*len == 0) return *msg = "identity key is empty", PD_E_INVALID;
  if (*len > PD_IDENTITY_KEY_MAX)
    return *msg = "identity key is longer than " XSTR(PD_IDENTITY_KEY_MAX)
                  " bytes",
           PD_E_UTF8;
  if (memchr(key, '\0', *len) != NULL || !pd_utf8_valid(key, *len))
    return *msg = "identity key is not valid UTF-8 (or holds a NUL byte)",
           PD_E_UTF8;
  return PD_OK;
}

static pd_status check_identity(pd_store *s, const char *ns, size_t *ns_len,
                                const char *key, size_t *key_len) {
  pd_status st = check_namespace(s, ns, ns_len);
  const char *msg;
  if (!st && (st = key_problem(key, key_len, &msg)))
    pd_err(&s->err, st, "%s", msg);
  return st;
}

pd_status pd_st_user_check(pd_store *s, pd_user_id user, const char *what,
                           uint32_t *out) {
  if (user == 0 || user >= s->n_users)
    return pd_err(&s->err, PD_E_NOT_FOUND, "%s %llu does not exist", what,
                  (unsigned long long)user);
  if (s->users[user].flags & PD_ST_USER_ERASED)
    return pd_err(&s->err, PD_E_ERASED, "%s %llu was erased", what,
                  (unsigned long long)user);
  *out = (uint32_t)user;
  return PD_OK;
}

/* ---- pseudonymised keys (pd_store_options.identity_key) ----------------- */

#define PSEUDONYM_LEN (2 * PD_SHA256_SIZE)

int pd_st_identity_key_check(const uint8_t *key, size_t len) {
  if (key == NULL) return len == 0 ? 0 : -1;
  return len >= 16 && len <= 1024 ? 0 : -1;
}

void pd_st_identity_key_set(pd_store *s, const uint8_t *key, size_t len) {
  if (key == NULL) return;
  pd_hmac_sha256_init(&s->ident_key, key, len);
  s->ident_hashed = 1;
}

/* In a keyed store, replace the checked key by the hex HMAC of
 * (namespace, 0x00, key) written to buf, so the raw key is never stored;
 * the 0x00 keeps ("ab", "c") and ("a", "bc") apart. */
static void pseudonymise(const pd_store *s, const char *ns, size_t ns_len,
                         const char **key, size_t *key_len,
                         char buf[PSEUDONYM_LEN]) {
  if (!s->ident_hashed || s->ident_prehashed > 0) return;
  static const char sep = 0;
  const void *parts[3] = {ns, &sep, *key};
  size_t lens[3] = {ns_len, 1, *key_len};
  uint8_t mac[PD_SHA256_SIZE];
  pd_hmac_sha256_parts(&s->ident_key, parts, lens, 3, mac);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < PD_SHA256_SIZE; i++) {
    buf[2 * i] = digits[mac[i] >> 4];
    buf[2 * i + 1] = digits[mac[i] & 15];
  }
  *key = buf;
  *key_len = PSEUDONYM_LEN;
}

/* ---- the identity hash table -------------------------------------------- */

static uint64_t ident_hash(uint32_t ns, const char *key, size_t len) {
  return pd_hash_bytes(key, len, 0x6964656eULL + ns);
}

static uint64_t ident_hash_of(const pd_store *s, uint32_t i) {
  const pd_st_identity *d = &s->idents[i];
  return ident_hash(d->ns, s->ident_bytes + d->off, d->len);
}

/* A slot holds the identity's index + 1 in its low half (0 = empty) and
 * the low 32 bits of its key's hash in the high half, so that probing
 * past other keys and growing the table read no key bytes (a random
 * cache miss each: at 10M users, rehashing from the keys took most of the
 * time of creating them). */
static uint64_t slot_of(uint32_t i, uint64_t h) {
  return (h & 0xffffffffULL) << 32 | ((uint64_t)i + 1);
}

/* The home of occupied slot value v in a table of mask + 1 slots. */
static size_t slot_home(const pd_store *s, uint64_t v, size_t mask) {
  if (mask <= 0xffffffffULL) return (size_t)(v >> 32) & mask;
  return (size_t)ident_hash_of(s, (uint32_t)v - 1) & mask;
}

/* Slot holding identity (ns, key) of hash h, or the empty slot where it
 * would go. */
static size_t ident_slot_h(const pd_store *s, uint32_t ns, const char *key,
                           size_t len, uint64_t h) {
  size_t mask = s->ident_slots_cap - 1;
  uint32_t tag = (uint32_t)h;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    uint64_t v = s->ident_slots[i];
    if (v == 0) return i;
    if ((uint32_t)(v >> 32) != tag) continue;
    const pd_st_identity *d = &s->idents[(uint32_t)v - 1];
    if (d->ns == ns && d->len == len &&
        memcmp(s->ident_bytes + d->off, key, len) == 0)
      return i;
  }
}

static size_t ident_slot(const pd_store *s, uint32_t ns, const char *key,
                         size_t len) {
  return ident_slot_h(s, ns, key, len, ident_hash(ns, key, len));
}

/* What a lookup learnt that adding the identity can reuse: its
 * namespace's index (PD_ST_NAME_NONE if the namespace is new) and the
 * key's hash under it. */
typedef struct ident_probe {
  uint32_t ns;
  uint64_t hash;
} ident_probe;

/* Index of identity (ns name, key) or PD_ST_NIL. */
static uint32_t ident_find(const pd_store *s, const char *ns, size_t ns_len,
                           const char *key, size_t key_len, ident_probe *p) {
  p->ns = pd_st_names_find(&s->namespaces, ns, ns_len);
  if (p->ns == PD_ST_NAME_NONE) return PD_ST_NIL;
  p->hash = ident_hash(p->ns, key, key_len);
  if (s->ident_slots_cap == 0) return PD_ST_NIL;
  uint64_t v = s->ident_slots[ident_slot_h(s, p->ns, key, key_len, p->hash)];
  return v ? (uint32_t)v - 1 : PD_ST_NIL;
}

/* Rehash into a table of ncap (a power of two) slots. */
static int ident_slots_resize(pd_store *s, size_t ncap) {
  uint64_t *ns = pd_st_alloc_slots(s, ncap);
  if (!ns) return -1;
  for (size_t i = 0; i < s->ident_slots_cap; i++) {
    uint64_t v = s->ident_slots[i];
    if (!v) continue;
    size_t j = slot_home(s, v, ncap - 1);
    while (ns[j]) j = (j + 1) & (ncap - 1);
    ns[j] = v;
  }
  pd_free(&s->alloc, s->ident_slots);
  s->ident_slots = ns;
  s->ident_slots_cap = ncap;
  return 0;
}

/* Remove identity i from the table by backward shifting its cluster. */
static void ident_slots_remove(pd_store *s, uint32_t i) {
  const pd_st_identity *d = &s->idents[i];
  size_t mask = s->ident_slots_cap - 1;
  size_t hole = ident_slot(s, d->ns, s->ident_bytes + d->off, d->len);
  for (size_t j = (hole + 1) & mask; s->ident_slots[j] != 0;
       j = (j + 1) & mask) {
    size_t home = slot_home(s, s->ident_slots[j], mask);
    /* Move j into the hole unless its home lies cyclically in (hole, j]. */
    int stays = hole <= j ? (home > hole && home <= j)
                          : (home > hole || home <= j);
    if (!stays) {
      s->ident_slots[hole] = s->ident_slots[j];
      hole = j;
    }
  }
  s->ident_slots[hole] = 0;
  s->ident_slots_len--;
}

static size_t grow_half(size_t cap, size_t need, size_t min) {
  size_t n = cap < min ? min : cap + cap / 2;
  return n < need ? need : n;
}

/* Room for `users` more users and `idents` more identities in the user
 * table, the identity table and its hash index: exactly that much when
 * `exact` (a reservation), else growing by half (the slots by doubling).
 * Nothing observable changes on failure. */
static pd_status grow_tables(pd_store *s, size_t users, size_t idents,
                             int exact) {
  if (users > (size_t)PD_ST_MAX_USERS + 1 - s->n_users)
    return pd_err(&s->err, PD_E_FULL, "this store holds at most 2^32-2 users");
  if (idents > (size_t)UINT32_MAX - 1 - s->n_idents)
    return pd_err(&s->err, PD_E_FULL,
                  "this store holds at most 2^32-2 identities");
  size_t need = (size_t)s->n_users + users;
  if (users && need > s->users_cap) {
    size_t ncap = exact ? need : grow_half(s->users_cap, need, 16);
    if (ncap > (size_t)PD_ST_MAX_USERS + 2) ncap = (size_t)PD_ST_MAX_USERS + 2;
    pd_st_user *u = pd_realloc_array(&s->alloc, s->users, ncap, sizeof *u);
    if (!u) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
    /* Events update their user's chain heads at random. */
    pd_advise_random_large(&s->caller_alloc, u, ncap * sizeof *u);
    s->users = u;
    s->users_cap = ncap;
    if (exact) /* a reservation: its faults now, on the store's threads */
      pd_prefault(u + s->n_users, (ncap - s->n_users) * sizeof *u,
                  pd_st_threads(s));
  }
  need = (size_t)s->n_idents + idents;
  if (idents && need > s->idents_cap) {
    size_t ncap = exact ? need : grow_half(s->idents_cap, need, 16);
    pd_st_identity *d =
        pd_realloc_array(&s->alloc, s->idents, ncap, sizeof *d);
    if (!d) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
    s->idents = d;
    s->idents_cap = ncap;
    if (exact)
      pd_prefault(d + s->n_idents, (ncap - s->n_idents) * sizeof *d,
                  pd_st_threads(s));
  }
  size_t slots = s->ident_slots_cap ? s->ident_slots_cap : 32;
  while ((s->ident_slots_len + idents) * 4 > slots * 3) slots *= 2;
  if (slots > s->ident_slots_cap && ident_slots_resize(s, slots) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  return PD_OK;
}

pd_status pd_st_users_reserve(pd_store *s, size_t count) {
  return grow_tables(s, count, count, 1);
}

/* Reserve what adding one identity (and, with new_user, one user) needs,
 * including its namespace; on success *ns_id is the namespace's index.
 * Nothing observable changes on failure. */
static pd_status reserve_identity(pd_store *s, int new_user, const char *ns,
                                  size_t ns_len, size_t key_len,
                                  uint32_t *ns_id) {
  pd_status st = grow_tables(s, new_user ? 1 : 0, 1, 0);
  if (st) return st;
  if (s->ident_bytes_len + key_len > s->ident_bytes_cap) {
    size_t ncap =
        grow_half(s->ident_bytes_cap, s->ident_bytes_len + key_len, 4096);
    char *b = pd_realloc_array(&s->alloc, s->ident_bytes, ncap, 1);
    if (!b) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
    s->ident_bytes = b;
    s->ident_bytes_cap = ncap;
  }
  /* Last, because it is the one step that adds something (a namespace is
   * not observable by callers, but keep the order strict anyway). */
  uint32_t n = pd_st_names_find(&s->namespaces, ns, ns_len);
  if (n == PD_ST_NAME_NONE) {
    if (s->namespaces.n >= UINT32_MAX - 2)
      return pd_err(&s->err, PD_E_FULL, "too many identity namespaces");
    if (pd_st_names_add(&s->namespaces, &s->alloc, ns, ns_len, &n) != 0)
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  *ns_id = n;
  return PD_OK;
}

static uint32_t create_user(pd_store *s) {
  uint32_t u = s->n_users++;
  pd_st_user *p = &s->users[u];
  p->parent = u;
  p->next_member = u;
  p->referral_in = PD_ST_NIL;
  p->flags = 0;
  for (int k = 0; k < PD_ST_USER_CHAINS; k++) p->head[k] = PD_ST_NIL;
  s->live_users++;
  return u;
}

/* After reserve_identity: cannot fail. p: the lookup that found the
 * identity missing (its hash is reused when it was made under ns). */
static void add_identity(pd_store *s, uint32_t user, uint32_t ns,
                         const char *key, size_t key_len,
                         const ident_probe *p) {
  uint32_t i = s->n_idents++;
  pd_st_identity *d = &s->idents[i];
  d->off = s->ident_bytes_len;
  d->len = (uint32_t)key_len;
  d->user = user;
  d->ns = ns;
  d->next = s->users[user].head[PD_ST_CHAIN_IDENTITY];
  s->users[user].head[PD_ST_CHAIN_IDENTITY] = i;
  memcpy(s->ident_bytes + d->off, key, key_len);
  s->ident_bytes_len += key_len;
  uint64_t h = p->ns == ns ? p->hash : ident_hash(ns, key, key_len);
  s->ident_slots[ident_slot_h(s, ns, key, key_len, h)] = slot_of(i, h);
  s->ident_slots_len++;
  s->live_idents++;
}

/* ---- public: find, ensure, attach, canonical ---------------------------- */

/* The opening the three identity calls share: `out` must be given, the
 * identity is checked and normalised (pseudonymised into pk when the store
 * is keyed), then looked up: *found is its index, or PD_ST_NIL, and *probe
 * what adding it can reuse. */
static pd_status open_identity(pd_store *s, const void *out, const char *ns,
                               size_t *ns_len, const char **key,
                               size_t *key_len, char *pk, uint32_t *found,
                               ident_probe *probe) {
  if (out == NULL) return pd_err(&s->err, PD_E_INVALID, "out is NULL");
  pd_status st = check_identity(s, ns, ns_len, *key, key_len);
  if (st) return st;
  pseudonymise(s, ns, *ns_len, key, key_len, pk);
  *found = ident_find(s, ns, *ns_len, *key, *key_len, probe);
  return PD_OK;
}

/* pd_user_ensure() once its identity, checked and normalised, was looked
 * up: i is its index or PD_ST_NIL (then it is added, with a new user,
 * reusing the lookup's probe). */
static pd_status ensure_found(pd_store *s, const char *ns, size_t ns_len,
                              const char *key, size_t key_len, uint32_t i,
                              const ident_probe *probe, pd_user_id *out) {
  if (i != PD_ST_NIL) {
    *out = pd_st_find(s, s->idents[i].user);
    return PD_REPLAYED;
  }
  uint32_t nsid = PD_ST_NAME_NONE; /* set by reserve_identity */
  pd_status st = reserve_identity(s, 1, ns, ns_len, key_len, &nsid);
  if (!st) st = pd_st_log(s, PD_MUT_USER_ENSURE,
                          &(pd_mut_identity){0, ns, ns_len, key, key_len});
  if (st) return st;
  uint32_t u = create_user(s);
  add_identity(s, u, nsid, key, key_len, probe);
  *out = u;
  return PD_OK;
}

pd_status pd_user_find(pd_store *s, const char *ns, size_t ns_len,
                       const char *key, size_t key_len, pd_user_id *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  char pk[PSEUDONYM_LEN];
  uint32_t i;
  ident_probe probe;
  st = open_identity(s, out, ns, &ns_len, &key, &key_len, pk, &i, &probe);
  if (st) return pd_st_leave(s, st);
  if (i == PD_ST_NIL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "no user has this identity"));
  *out = pd_st_find(s, s->idents[i].user);
  return pd_st_leave(s, PD_OK);
}

pd_status pd_user_ensure(pd_store *s, const char *ns, size_t ns_len,
                         const char *key, size_t key_len, pd_user_id *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  char pk[PSEUDONYM_LEN];
  uint32_t i;
  ident_probe probe;
  st = open_identity(s, out, ns, &ns_len, &key, &key_len, pk, &i, &probe);
  if (st) return pd_st_leave(s, st);
  return pd_st_leave(s, ensure_found(s, ns, ns_len, key, key_len, i, &probe,
                                     out));
}

/* Identities ahead of the one being ensured whose hash slots
 * pd_users_ensure() starts loading (a random read each in a large
 * store). */
enum { ENSURE_AHEAD = 8 };

/* An identity of a batch, checked, normalised and hashed ahead. */
typedef struct staged_key {
  pd_status st;    /* the key's problem, or PD_OK */
  const char *msg; /* its message */
  const char *key; /* the key as stored (pk in a keyed store) */
  size_t len;
  ident_probe probe;
  char pk[PSEUDONYM_LEN];
} staged_key;

static void stage_key(const pd_store *s, const char *ns, size_t ns_len,
                      const char *key, size_t len, staged_key *e) {
  e->st = key_problem(key, &len, &e->msg);
  if (e->st) return;
  pseudonymise(s, ns, ns_len, &key, &len, e->pk);
  e->key = key;
  e->len = len;
  e->probe.ns = pd_st_names_find(&s->namespaces, ns, ns_len);
  if (e->probe.ns == PD_ST_NAME_NONE) return;
  e->probe.hash = ident_hash(e->probe.ns, key, len);
  if (s->ident_slots_cap)
    PD_PREFETCH_READ(
        &s->ident_slots[(size_t)e->probe.hash & (s->ident_slots_cap - 1)]);
}

/* pd_user_ensure() of staged identity e. */
static pd_status ensure_staged(pd_store *s, const char *ns, size_t ns_len,
                               staged_key *e, pd_user_id *out) {
  if (e->st) return pd_err(&s->err, e->st, "%s", e->msg);
  uint32_t i = PD_ST_NIL;
  if (e->probe.ns == PD_ST_NAME_NONE) {
    /* an earlier entry may have created the namespace since */
    i = ident_find(s, ns, ns_len, e->key, e->len, &e->probe);
  } else if (s->ident_slots_cap) {
    uint64_t v = s->ident_slots[ident_slot_h(s, e->probe.ns, e->key, e->len,
                                             e->probe.hash)];
    if (v) i = (uint32_t)v - 1;
  }
  return ensure_found(s, ns, ns_len, e->key, e->len, i, &e->probe, out);
}

pd_status pd_users_ensure(pd_store *s, const char *ns, size_t ns_len,
                          size_t n, const char *const *keys,
                          const size_t *key_lens, pd_user_id *out,
                          pd_status *statuses) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (n > 0 && (keys == NULL || out == NULL || statuses == NULL))
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "keys, out or statuses is NULL"));
  if ((st = check_namespace(s, ns, &ns_len))) return pd_st_leave(s, st);
  staged_key ring[ENSURE_AHEAD];
  pd_status first = PD_OK;
  size_t first_at = 0;
  pd_errbuf first_err;
  for (size_t i = 0; i < n + ENSURE_AHEAD; i++) {
    if (i >= ENSURE_AHEAD) {
      size_t k = i - ENSURE_AHEAD;
      out[k] = 0;
      pd_status r = ensure_staged(s, ns, ns_len, &ring[k % ENSURE_AHEAD],
                                  &out[k]);
      statuses[k] = r;
      if (r < 0 && first == PD_OK) {
        first = r;
        first_at = k;
        memcpy(&first_err, &s->err, sizeof first_err);
      }
    }
    if (i < n)
      stage_key(s, ns, ns_len, keys[i], key_lens ? key_lens[i] : PD_NTS,
                &ring[i % ENSURE_AHEAD]);
  }
  if (first < 0)
    pd_err(&s->err, first, "keys[%zu]: %s", first_at, first_err.msg);
  return pd_st_leave(s, first);
}

pd_status pd_user_canonical(pd_store *s, pd_user_id user, pd_user_id *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  uint32_t u = 0;
  st = pd_st_user_check(s, user, "user", &u);
  if (st) return pd_st_leave(s, st);
  *out = pd_st_find(s, u);
  return pd_st_leave(s, PD_OK);
}

/* ---- merge -------------------------------------------------------------- */

uint32_t pd_st_referrer_of(pd_store *s, uint32_t root, uint32_t *event) {
  *event = PD_ST_NIL;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    uint32_t r = s->users[m].referral_in;
    if (r != PD_ST_NIL && pd_st_referrals(s)[r].time != PD_ST_ERASED) {
      *event = r;
      return pd_st_find(s, pd_st_referrals(s)[r].referrer);
    }
  }
  return 0;
}

/* Would merging the sets of survivors a and b break the referral rules?
 * PD_OK or PD_E_CONFLICT with a message. */
static pd_status merge_referral_check(pd_store *s, uint32_t a, uint32_t b) {
  uint32_t ea, eb;
  uint32_t ra = pd_st_referrer_of(s, a, &ea);
  uint32_t rb = pd_st_referrer_of(s, b, &eb);
  if (ra && rb && ra != rb)
    return pd_err(&s->err, PD_E_CONFLICT,
                  "users %u and %u were referred by different users (%u and "
                  "%u); merged, they would have two referrers",
                  a, b, ra, rb);
  /* A cycle through the merged user must leave it by its referrer and come
   * back to a or b. */
  uint32_t r = ra ? ra : rb, guard = 0;
  while (r) {
    if (r == a || r == b)
      return pd_err(&s->err, PD_E_CONFLICT,
                    "merging users %u and %u would make a user its own "
                    "referrer (a referral cycle)",
                    a, b);
    uint32_t e;
    r = pd_st_referrer_of(s, r, &e);
    if (++guard > s->n_users) break; /* cannot happen: no cycles exist */
  }
  return PD_OK;
}

/* Merge the sets of two different survivors; returns the new survivor. */
static uint32_t merge_roots(pd_store *s, uint32_t a, uint32_t b) {
  uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
  s->users[hi].parent = lo;
  /* Splicing two circular lists: swap one successor of each. */
  uint32_t t = s->users[lo].next_member;
  s->users[lo].next_member = s->users[hi].next_member;
  s->users[hi].next_member = t;
  s->live_users--;
  s->merged_users++;
  return lo;
}

pd_status pd_user_merge(pd_store *s, pd_user_id a, pd_user_id b,
                        pd_user_id *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  uint32_t ua = 0, ub = 0;
  if ((st = pd_st_user_check(s, a, "user", &ua)) != PD_OK ||
      (st = pd_st_user_check(s, b, "user", &ub)) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t ra = pd_st_find(s, ua), rb = pd_st_find(s, ub);
  if (ra == rb) {
    *out = ra;
    return pd_st_leave(s, PD_REPLAYED);
  }
  st = merge_referral_check(s, ra, rb);
  if (!st) st = pd_st_log(s, PD_MUT_USER_MERGE, &(pd_mut_users){a, b});
  if (st) return pd_st_leave(s, st);
  *out = merge_roots(s, ra, rb);
  return pd_st_leave(s, PD_OK);
}

pd_status pd_user_attach(pd_store *s, pd_user_id user, const char *ns,
                         size_t ns_len, const char *key, size_t key_len,
                         pd_user_id *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  char pk[PSEUDONYM_LEN];
  uint32_t i, u = 0;
  ident_probe probe;
  st = open_identity(s, out, ns, &ns_len, &key, &key_len, pk, &i, &probe);
  if (!st) st = pd_st_user_check(s, user, "user", &u);
  if (st) return pd_st_leave(s, st);
  uint32_t root = pd_st_find(s, u);
  if (i != PD_ST_NIL) {
    uint32_t other = pd_st_find(s, s->idents[i].user);
    if (other == root) {
      *out = root;
      return pd_st_leave(s, PD_REPLAYED);
    }
    st = merge_referral_check(s, root, other);
    if (!st) st = pd_st_log(s, PD_MUT_USER_ATTACH,
                            &(pd_mut_identity){user, ns, ns_len, key, key_len});
    if (st) return pd_st_leave(s, st);
    *out = merge_roots(s, root, other);
    return pd_st_leave(s, PD_OK);
  }
  uint32_t nsid = PD_ST_NAME_NONE; /* set by reserve_identity */
  st = reserve_identity(s, 0, ns, ns_len, key_len, &nsid);
  if (!st) st = pd_st_log(s, PD_MUT_USER_ATTACH,
                          &(pd_mut_identity){user, ns, ns_len, key, key_len});
  if (st) return pd_st_leave(s, st);
  add_identity(s, u, nsid, key, key_len, &probe);
  *out = root;
  return pd_st_leave(s, PD_OK);
}

/* ---- erase -------------------------------------------------------------- */

/* Erase one event (see store_internal.h). */
int pd_st_erase_event(pd_store *s, int kind, uint32_t i) {
  /* Erasing twice is a no-op, so erasure and the purge need not check. */
  if (pd_st_event_time(s, kind, i) == PD_ST_ERASED) return 0;
  switch (kind) {
    case PD_EV_LINK: {
      pd_st_link *e = &pd_st_links(s)[i];
      e->time = PD_ST_ERASED;
      e->source = e->campaign = e->guide = 0;
      e->channel = 0;
      break;
    }
    case PD_EV_UNLINK: {
      pd_st_unlink *e = &pd_st_unlinks(s)[i];
      e->time = PD_ST_ERASED;
      e->guide = 0;
      e->channel = 0;
      e->initiator = 0;
      break;
    }
    case PD_EV_TOUCH: {
      pd_st_touch *e = &pd_st_touches(s)[i];
      e->time = PD_ST_ERASED;
      e->guide = e->campaign = 0;
      e->channel = 0;
      e->kind = e->purpose = 0;
      memset(e->rating, 0, sizeof e->rating);
      break;
    }
    case PD_EV_ORDER: {
      pd_st_order *e = &pd_st_orders(s)[i];
      s->order_total -= e->amount;
      /* order_id stays: the order-id table reads it, and a refund for an
       * erased order must be answered PD_E_ERASED, not "unknown order". */
      e->time = PD_ST_ERASED;
      e->amount = e->refunded = 0;
      e->guide = e->shop = 0;
      e->channel = 0;
      break;
    }
    case PD_EV_REFUND: {
      pd_st_refund *e = &pd_st_refunds(s)[i];
      e->time = PD_ST_ERASED;
      e->amount = 0;
      break;
    }
    case PD_EV_REFERRAL: {
      pd_st_referral *e = &pd_st_referrals(s)[i];
      /* The other party stays; it no longer has this referrer. */
      if (s->users[e->referee].referral_in == i)
        s->users[e->referee].referral_in = PD_ST_NIL;
      e->time = PD_ST_ERASED;
      e->campaign = 0;
      break;
    }
    case PD_EV_BIND: {
      pd_st_bind *e = &pd_st_binds(s)[i];
      e->time = PD_ST_ERASED;
      e->guide = 0;
      break;
    }
    case PD_EV_CONSENT: {
      pd_st_consent *e = &pd_st_consents(s)[i];
      e->time = PD_ST_ERASED;
      e->purpose = e->granted = 0;
      break;
    }
    default: return 0;
  }
  s->col[kind].live--;
  return 1;
}

pd_status pd_user_erase(pd_store *s, pd_user_id user) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (user == 0 || user >= s->n_users)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "user %llu does not exist",
                                 (unsigned long long)user));
  if (s->users[user].flags & PD_ST_USER_ERASED)
    return pd_st_leave(s, PD_REPLAYED);
  st = pd_st_log(s, PD_MUT_USER_ERASE, &(pd_mut_users){user, 0});
  if (st) return pd_st_leave(s, st);
  uint32_t root = pd_st_find(s, (uint32_t)user);
  uint64_t members = 0;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    pd_st_user *p = &s->users[m];
    for (uint32_t i = p->head[PD_ST_CHAIN_IDENTITY]; i != PD_ST_NIL;
         i = s->idents[i].next) {
      pd_st_identity *d = &s->idents[i];
      ident_slots_remove(s, i);
      memset(s->ident_bytes + d->off, 0, d->len);
      d->user = 0;
      s->live_idents--;
    }
    for (int k = PD_EV_LINK; k <= PD_EV_BIND; k++)
      PD_ST_FOREACH_EVENT(s, m, k, i) pd_st_erase_event(s, k, i);
    PD_ST_FOREACH_EVENT(s, m, PD_EV_CONSENT, i)
    pd_st_erase_event(s, PD_EV_CONSENT, i);
    if (p->referral_in != PD_ST_NIL)
      pd_st_erase_event(s, PD_EV_REFERRAL, p->referral_in);
    members++;
  }
  PD_ST_FOREACH_MEMBER(s, root, m) s->users[m].flags |= PD_ST_USER_ERASED;
  s->live_users--;
  s->merged_users -= members - 1;
  s->erased_users += members;
  return pd_st_leave(s, PD_OK);
}

/* ---- identities of a user ----------------------------------------------- */

typedef struct ident_order_ctx {
  const pd_store *s;
} ident_order_ctx;

static int ident_cmp(const void *ctx, uint32_t a, uint32_t b) {
  const pd_store *s = ((const ident_order_ctx *)ctx)->s;
  const pd_st_identity *x = &s->idents[a], *y = &s->idents[b];
  if (x->ns != y->ns) {
    const pd_st_names *n = &s->namespaces;
    uint32_t lx = n->len[x->ns], ly = n->len[y->ns];
    int c = memcmp(n->str[x->ns], n->str[y->ns], lx < ly ? lx : ly);
    if (c) return c;
    return lx < ly ? -1 : 1;
  }
  uint32_t l = x->len < y->len ? x->len : y->len;
  int c = memcmp(s->ident_bytes + x->off, s->ident_bytes + y->off, l);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

pd_status pd_user_identities(pd_store *s, pd_user_id user, pd_identity_fn fn,
                             void *user_data) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (fn == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "fn is NULL"));
  uint32_t u = 0;
  st = pd_st_user_check(s, user, "user", &u);
  if (st) return pd_st_leave(s, st);
  uint32_t root = pd_st_find(s, u);
  size_t n = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  for (uint32_t i = s->users[m].head[PD_ST_CHAIN_IDENTITY]; i != PD_ST_NIL;
       i = s->idents[i].next) n++;
  /* Own buffer, not the shared scratch: the callback may run queries. */
  uint32_t *v = pd_malloc(&s->alloc, 2 * n * sizeof *v + 1);
  if (!v) return pd_st_leave(s, pd_err(&s->err, PD_E_NOMEM, "out of memory"));
  n = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  for (uint32_t i = s->users[m].head[PD_ST_CHAIN_IDENTITY]; i != PD_ST_NIL;
       i = s->idents[i].next) v[n++] = i;
  ident_order_ctx ctx = {s};
  pd_st_sort_u32(v, n, v + n, ident_cmp, &ctx);
  s->depth++;
  for (size_t k = 0; k < n; k++) {
    const pd_st_identity *d = &s->idents[v[k]];
    if (fn(user_data, s->namespaces.str[d->ns], s->namespaces.len[d->ns],
           s->ident_bytes + d->off, d->len) != 0)
      break;
  }
  s->depth--;
  pd_free(&s->alloc, v);
  return pd_st_leave(s, PD_OK);
}

/* Identity i's hash (0 for an erased one, which is not indexed), its home
 * slot prefetched. */
static uint64_t hash_and_prefetch(const pd_store *s, uint32_t i) {
  if (s->idents[i].user == 0) return 0;
  uint64_t h = ident_hash_of(s, i);
  PD_PREFETCH(&s->ident_slots[(size_t)h & (s->ident_slots_cap - 1)]);
  return h;
}

/* After a snapshot load (store_restore.h): index every identity that is
 * not erased; a repeated (namespace, key) is corrupt data. */
int pd_st_ident_index_rebuild(pd_store *s) {
  size_t live = 0;
  for (uint32_t i = 0; i < s->n_idents; i++) live += s->idents[i].user != 0;
  size_t cap = 64;
  while ((live + 1) * 4 > cap * 3) cap *= 2;
  uint64_t *slots = pd_st_alloc_slots(s, cap);
  if (!slots) return -1;
  pd_free(&s->alloc, s->ident_slots);
  s->ident_slots = slots;
  s->ident_slots_cap = cap;
  s->ident_slots_len = 0;
  /* The slots are larger than the caches: each identity's key is hashed
   * PD_PREFETCH_AHEAD identities early and its home slot's load started. */
  uint64_t ahead[PD_PREFETCH_AHEAD];
  uint32_t n = s->n_idents;
  for (uint32_t i = 0; i < n && i < PD_PREFETCH_AHEAD; i++)
    ahead[i] = hash_and_prefetch(s, i);
  for (uint32_t i = 0; i < n; i++) {
    const pd_st_identity *d = &s->idents[i];
    uint64_t h = ahead[i % PD_PREFETCH_AHEAD];
    if (n - i > PD_PREFETCH_AHEAD)
      ahead[i % PD_PREFETCH_AHEAD] =
          hash_and_prefetch(s, i + PD_PREFETCH_AHEAD);
    if (d->user == 0) continue;
    const char *key = s->ident_bytes + d->off;
    size_t k = ident_slot_h(s, d->ns, key, d->len, h);
    if (s->ident_slots[k] != 0) return -2;
    s->ident_slots[k] = slot_of(i, h);
    s->ident_slots_len++;
  }
  return 0;
}
