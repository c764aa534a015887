/* Fuzz target: a random sequence of store calls decoded from the input,
 * checked against a reference model kept beside the store (a property
 * test). Each operation is one byte of opcode and a few argument bytes;
 * ids and order numbers come from small ranges so that replays, reused
 * ids, merges of merged users and events of erased users are frequent.
 *
 * Invariants checked after every call:
 * - every status is the one the model predicts (new id -> PD_OK, the same
 *   event again -> PD_REPLAYED, an id reused for other content ->
 *   PD_E_DUPLICATE, anything of an erased user or a purged event ->
 *   PD_E_ERASED, a refund above what is left -> PD_E_CONFLICT ...);
 * - each live user's revenue equals the sum of its accepted orders minus
 *   their refunds (pd_user_get), and the store's totals match the model
 *   (pd_store_get_stats);
 * - merge then erase leaves no identity of the merged users findable. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY 86400
#define T0 INT64_C(1600000000)
#define MAX_USERS 16
#define MAX_EVENTS 64 /* event ids 1..63 */
#define MAX_ORDERS 16 /* order ids 1..15 */
#define MAX_KEYS 24

enum { K_NONE, K_ORDER, K_REFUND, K_TOUCH };

typedef struct mevent {
  int kind;      /* K_* (K_NONE: id unused) */
  int dead;      /* erased with its user or purged */
  uint32_t user; /* user id it was recorded under */
  int64_t time;
  int64_t amount;
  uint32_t order; /* order id (orders and refunds) */
} mevent;

typedef struct model {
  uint32_t n_users; /* ids 1..n_users */
  uint32_t parent[MAX_USERS + 1];
  int erased[MAX_USERS + 1];
  mevent ev[MAX_EVENTS];
  int order_event[MAX_ORDERS]; /* event id of order k, 0 = none */
  int64_t refunded[MAX_ORDERS];
  uint32_t key_user[MAX_KEYS]; /* user id holding identity key k, 0 = none */
} model;

static uint32_t root(model *m, uint32_t u) {
  while (m->parent[u] != u) u = m->parent[u];
  return u;
}

typedef struct reader {
  const uint8_t *p, *end;
} reader;

static uint8_t byte(reader *r) { return r->p < r->end ? *r->p++ : 0; }


static uint32_t pick_user(model *m, reader *r) {
  return m->n_users ? 1 + byte(r) % m->n_users : 1;
}

/* The status the store gives to an event id already in the model. */
static pd_status known_id(model *m, const mevent *e, int kind, int same) {
  if (e->dead) return PD_E_ERASED;
  if (e->kind != kind) return PD_E_DUPLICATE;
  (void)m;
  return same ? PD_REPLAYED : PD_E_DUPLICATE;
}

static void op_ensure(pd_store *s, model *m, reader *r) {
  uint32_t k = byte(r) % MAX_KEYS;
  char key[16];
  snprintf(key, sizeof key, "k%u", (unsigned)k);
  pd_user_id u = 0;
  pd_status st = pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &u);
  if (m->key_user[k] != 0) {
    FUZZ_CHECK(st == PD_REPLAYED);
    FUZZ_CHECK(u == root(m, m->key_user[k]));
    return;
  }
  if (m->n_users == MAX_USERS) {
    /* Model full: keep the store in step by not creating. */
    FUZZ_CHECK(st == PD_OK);
    FUZZ_CHECK(pd_user_erase(s, u) == PD_OK);
    FUZZ_CHECK(pd_user_find(s, "phone", PD_NTS, key, PD_NTS, &u) ==
               PD_E_NOT_FOUND);
    return; /* the store now has an extra erased id the model ignores */
  }
  FUZZ_CHECK(st == PD_OK);
  uint32_t id = ++m->n_users;
  FUZZ_CHECK(u == id);
  m->parent[id] = id;
  m->key_user[k] = id;
}

static void op_attach(pd_store *s, model *m, reader *r) {
  if (m->n_users == 0) return;
  uint32_t u = pick_user(m, r), k = byte(r) % MAX_KEYS;
  char key[16];
  snprintf(key, sizeof key, "k%u", (unsigned)k);
  pd_user_id out = 0;
  pd_status st = pd_user_attach(s, u, "phone", PD_NTS, key, PD_NTS, &out);
  if (m->erased[u]) {
    FUZZ_CHECK(st == PD_E_ERASED);
    return;
  }
  uint32_t ru = root(m, u);
  if (m->key_user[k] == 0) {
    FUZZ_CHECK(st == PD_OK && out == ru);
    m->key_user[k] = u;
    return;
  }
  uint32_t rv = root(m, m->key_user[k]);
  if (rv == ru) {
    FUZZ_CHECK(st == PD_REPLAYED && out == ru);
    return;
  }
  uint32_t lo = ru < rv ? ru : rv, hi = ru < rv ? rv : ru;
  FUZZ_CHECK(st == PD_OK && out == lo);
  m->parent[hi] = lo;
}

static void op_merge(pd_store *s, model *m, reader *r) {
  if (m->n_users == 0) return;
  uint32_t a = pick_user(m, r), b = pick_user(m, r);
  pd_user_id out = 0;
  pd_status st = pd_user_merge(s, a, b, &out);
  if (m->erased[a] || m->erased[b]) {
    FUZZ_CHECK(st == PD_E_ERASED);
    return;
  }
  uint32_t ra = root(m, a), rb = root(m, b);
  if (ra == rb) {
    FUZZ_CHECK(st == PD_REPLAYED && out == ra);
    return;
  }
  uint32_t lo = ra < rb ? ra : rb, hi = ra < rb ? rb : ra;
  FUZZ_CHECK(st == PD_OK && out == lo);
  m->parent[hi] = lo;
}

static void op_erase(pd_store *s, model *m, reader *r) {
  if (m->n_users == 0) return;
  uint32_t u = pick_user(m, r);
  pd_status st = pd_user_erase(s, u);
  if (m->erased[u]) {
    FUZZ_CHECK(st == PD_REPLAYED);
    return;
  }
  FUZZ_CHECK(st == PD_OK);
  uint32_t ru = root(m, u);
  for (uint32_t v = 1; v <= m->n_users; v++)
    if (root(m, v) == ru) m->erased[v] = 1;
  for (int i = 0; i < MAX_EVENTS; i++)
    if (m->ev[i].kind != K_NONE && m->erased[m->ev[i].user]) m->ev[i].dead = 1;
  /* No identity of the merged users can be found any more. */
  for (uint32_t k = 0; k < MAX_KEYS; k++) {
    if (m->key_user[k] == 0 || !m->erased[m->key_user[k]]) continue;
    char key[16];
    pd_user_id found;
    snprintf(key, sizeof key, "k%u", (unsigned)k);
    FUZZ_CHECK(pd_user_find(s, "phone", PD_NTS, key, PD_NTS, &found) ==
               PD_E_NOT_FOUND);
    m->key_user[k] = 0;
  }
}

static void op_order(pd_store *s, model *m, reader *r) {
  if (m->n_users == 0) return;
  uint32_t eid = 1 + byte(r) % (MAX_EVENTS - 1);
  uint32_t oid = 1 + byte(r) % (MAX_ORDERS - 1);
  uint32_t u = pick_user(m, r);
  int64_t t = T0 + (int64_t)(byte(r) % 64) * DAY;
  int64_t amount = (int64_t)byte(r) * 100;
  pd_order o = PD_ORDER_INIT;
  o.event_id = eid;
  o.order_id = oid;
  o.user = u;
  o.time = t;
  o.amount = amount;
  pd_status st = pd_record_order(s, &o);
  mevent *e = &m->ev[eid];
  if (e->kind != K_NONE) {
    int same = e->order == oid && root(m, e->user) == root(m, u) &&
               e->time == t && e->amount == amount;
    FUZZ_CHECK(st == known_id(m, e, K_ORDER, same));
    return;
  }
  if (m->erased[u]) {
    FUZZ_CHECK(st == PD_E_ERASED);
    return;
  }
  if (m->order_event[oid] != 0) {
    FUZZ_CHECK(st == PD_E_DUPLICATE);
    return;
  }
  FUZZ_CHECK(st == PD_OK);
  *e = (mevent){K_ORDER, 0, u, t, amount, oid};
  m->order_event[oid] = (int)eid;
  m->refunded[oid] = 0;
}

static void op_refund(pd_store *s, model *m, reader *r) {
  uint32_t eid = 1 + byte(r) % (MAX_EVENTS - 1);
  uint32_t oid = 1 + byte(r) % (MAX_ORDERS - 1);
  int64_t t = T0 + (int64_t)(byte(r) % 64) * DAY;
  int64_t amount = 1 + (int64_t)byte(r) * 50;
  pd_refund f = PD_REFUND_INIT;
  f.event_id = eid;
  f.order_id = oid;
  f.time = t;
  f.amount = amount;
  pd_status st = pd_record_refund(s, &f);
  mevent *e = &m->ev[eid];
  if (e->kind != K_NONE) {
    int same = e->order == oid && e->time == t && e->amount == amount;
    FUZZ_CHECK(st == known_id(m, e, K_REFUND, same));
    return;
  }
  if (m->order_event[oid] == 0) {
    FUZZ_CHECK(st == PD_E_NOT_FOUND);
    return;
  }
  const mevent *o = &m->ev[m->order_event[oid]];
  if (o->dead) {
    FUZZ_CHECK(st == PD_E_ERASED);
    return;
  }
  if (t < o->time) {
    FUZZ_CHECK(st == PD_E_RANGE);
    return;
  }
  if (amount > o->amount - m->refunded[oid]) {
    FUZZ_CHECK(st == PD_E_CONFLICT);
    return;
  }
  FUZZ_CHECK(st == PD_OK);
  *e = (mevent){K_REFUND, 0, o->user, t, amount, oid};
  m->refunded[oid] += amount;
}

static void op_touch(pd_store *s, model *m, reader *r) {
  if (m->n_users == 0) return;
  uint32_t eid = 1 + byte(r) % (MAX_EVENTS - 1);
  uint32_t u = pick_user(m, r);
  int64_t t = T0 + (int64_t)(byte(r) % 64) * DAY;
  pd_touchpoint p = PD_TOUCHPOINT_INIT;
  p.event_id = eid;
  p.user = u;
  p.kind = PD_TOUCH_INBOUND_MESSAGE;
  p.time = t;
  pd_status st = pd_record_touchpoint(s, &p);
  mevent *e = &m->ev[eid];
  if (e->kind != K_NONE) {
    int same = root(m, e->user) == root(m, u) && e->time == t;
    FUZZ_CHECK(st == known_id(m, e, K_TOUCH, same));
    return;
  }
  if (m->erased[u]) {
    FUZZ_CHECK(st == PD_E_ERASED);
    return;
  }
  FUZZ_CHECK(st == PD_OK);
  *e = (mevent){K_TOUCH, 0, u, t, 0, 0};
}

static void op_purge(pd_store *s, model *m, reader *r) {
  int64_t cutoff = T0 + (int64_t)(byte(r) % 80) * DAY;
  pd_purge_result res = PD_PURGE_RESULT_INIT;
  pd_status st = pd_store_purge_before(s, cutoff, &res);
  uint64_t n = 0;
  for (int i = 0; i < MAX_EVENTS; i++) {
    mevent *e = &m->ev[i];
    if (e->kind == K_NONE || e->dead) continue;
    int old = e->time < cutoff;
    if (e->kind == K_REFUND)
      old |= m->ev[m->order_event[e->order]].time < cutoff;
    if (old) {
      e->dead = 1;
      n++;
    }
  }
  FUZZ_CHECK(st == (n ? PD_OK : PD_REPLAYED));
  FUZZ_CHECK(res.events == n);
}

/* Replay an accepted event exactly: PD_REPLAYED, or PD_E_ERASED if its
 * user was erased or it was purged since. */
static void op_replay(pd_store *s, model *m, reader *r) {
  uint32_t eid = 1 + byte(r) % (MAX_EVENTS - 1);
  const mevent *e = &m->ev[eid];
  pd_status st;
  switch (e->kind) {
    case K_ORDER: {
      pd_order o = PD_ORDER_INIT;
      o.event_id = eid;
      o.order_id = e->order;
      o.user = e->user;
      o.time = e->time;
      o.amount = e->amount;
      st = pd_record_order(s, &o);
      break;
    }
    case K_REFUND: {
      pd_refund f = PD_REFUND_INIT;
      f.event_id = eid;
      f.order_id = e->order;
      f.time = e->time;
      f.amount = e->amount;
      st = pd_record_refund(s, &f);
      break;
    }
    case K_TOUCH: {
      pd_touchpoint p = PD_TOUCHPOINT_INIT;
      p.event_id = eid;
      p.user = e->user;
      p.kind = PD_TOUCH_INBOUND_MESSAGE;
      p.time = e->time;
      st = pd_record_touchpoint(s, &p);
      break;
    }
    default: return;
  }
  FUZZ_CHECK(st == (e->dead ? PD_E_ERASED : PD_REPLAYED));
}

/* Revenue per live user and store-wide counts against the model. */
static void check_totals(pd_store *s, model *m) {
  int64_t revenue[MAX_USERS + 1] = {0};
  uint64_t orders[MAX_USERS + 1] = {0}, n_orders = 0, n_refunds = 0,
           n_touch = 0;
  for (int i = 0; i < MAX_EVENTS; i++) {
    const mevent *e = &m->ev[i];
    if (e->kind == K_NONE || e->dead) continue;
    uint32_t ru = root(m, e->user);
    if (e->kind == K_ORDER) {
      revenue[ru] += e->amount;
      orders[ru]++;
      n_orders++;
    } else if (e->kind == K_REFUND) {
      revenue[ru] -= e->amount;
      n_refunds++;
    } else {
      n_touch++;
    }
  }
  uint64_t live = 0;
  for (uint32_t u = 1; u <= m->n_users; u++) {
    pd_user_info info = PD_USER_INFO_INIT;
    pd_status st = pd_user_get(s, u, PD_TIME_MAX, &info);
    if (m->erased[u]) {
      FUZZ_CHECK(st == PD_E_ERASED);
      continue;
    }
    FUZZ_CHECK(st == PD_OK);
    uint32_t ru = root(m, u);
    FUZZ_CHECK(info.user == ru);
    FUZZ_CHECK(info.revenue == revenue[ru]);
    FUZZ_CHECK(info.orders == orders[ru]);
    live += ru == u;
  }
  pd_store_stats st = PD_STORE_STATS_INIT;
  FUZZ_CHECK(pd_store_get_stats(s, &st) == PD_OK);
  FUZZ_CHECK(st.users == live);
  FUZZ_CHECK(st.orders == n_orders);
  FUZZ_CHECK(st.refunds == n_refunds);
  FUZZ_CHECK(st.touchpoints == n_touch);
  FUZZ_CHECK(st.events == n_orders + n_refunds + n_touch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static model m;
  memset(&m, 0, sizeof m);
  pd_store *s = NULL;
  if (pd_store_new(NULL, &s) != PD_OK) return 0;
  reader r = {data, data + size};
  int ops = 0;
  while (r.p < r.end && ops++ < 256) {
    switch (byte(&r) % 10) {
      case 0: op_ensure(s, &m, &r); break;
      case 1: op_attach(s, &m, &r); break;
      case 2: op_merge(s, &m, &r); break;
      case 3: op_erase(s, &m, &r); break;
      case 4: op_order(s, &m, &r); break;
      case 5: op_refund(s, &m, &r); break;
      case 6: op_touch(s, &m, &r); break;
      case 7: op_purge(s, &m, &r); break;
      case 8: op_replay(s, &m, &r); break;
      default: check_totals(s, &m); break;
    }
  }
  check_totals(s, &m);
  pd_store_free(s);
  return 0;
}
