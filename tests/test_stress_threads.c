/* Stress specification of a store shared by threads (store.h: every call
 * is serialised on the store's lock): recorders with disjoint and
 * overlapping event ids, identity creation racing on the same keys, merges,
 * a retention purge, and readers (pd_user_get, pd_store_get_stats,
 * pd_store_foreach_user with queries from its callback,
 * pd_store_errmsg_copy) and snapshots being saved and loaded
 * (pd_snapshot_write / pd_snapshot_read), all at once. The totals at the
 * end are exact, and the readers never see a store that breaks its own
 * invariants. Built with
 * -Db_sanitize=thread (CI step build-tsan) it is the ThreadSanitizer run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#define RECORDERS 4
#define READERS 2
#define PER_THREAD 24000
#define SHARED_IDS 600   /* ids every recorder records, same content */
#define USERS 64         /* created before the threads start */
#define RACE_KEYS 200    /* identity keys every recorder ensures */
#define OLD_ORDERS 100   /* recorded before the start, purged during it */
#define DAY 86400
static const int64_t T0 = 1600000000;

typedef struct shared {
  pd_store *s;
  atomic_int recorders_left;
  atomic_long errors;
  atomic_long snapshots;
} shared;

typedef struct recorder {
  shared *sh;
  int id;
  long ok, replayed, keys_created, keys_replayed, other;
  int64_t revenue;
} recorder;

static pd_status order(pd_store *s, uint64_t eid, pd_user_id u, int64_t t,
                       int64_t amount) {
  pd_order o = PD_ORDER_INIT;
  o.event_id = eid;
  o.order_id = eid;
  o.user = u;
  o.time = t;
  o.amount = amount;
  return pd_record_order(s, &o);
}

static pd_status touch(pd_store *s, uint64_t eid, pd_user_id u, int64_t t) {
  pd_touchpoint p = PD_TOUCHPOINT_INIT;
  p.event_id = eid;
  p.user = u;
  p.kind = PD_TOUCH_INBOUND_MESSAGE;
  p.channel = PD_CHANNEL_WECOM;
  p.time = t;
  return pd_record_touchpoint(s, &p);
}

static int record(void *arg) {
  recorder *w = arg;
  pd_store *s = w->sh->s;
  char key[32];
  for (long i = 0; i < PER_THREAD; i++) {
    /* Disjoint ids: thread-private range. */
    uint64_t eid = (uint64_t)(w->id + 1) * 10000000u + (uint64_t)i;
    pd_user_id u = 1 + (pd_user_id)((i * 7 + w->id) % USERS);
    int64_t t = T0 + 10 * DAY + i;
    pd_status st;
    if (i % 3 == 0) {
      st = order(s, eid, u, t, 1 + i % 50);
      if (st == PD_OK) w->revenue += 1 + i % 50;
    } else {
      st = touch(s, eid, u, t);
    }
    if (st == PD_OK) w->ok++; else w->other++;
    /* Overlapping ids: the same event from every recorder. */
    if (i % (PER_THREAD / SHARED_IDS) == 0) {
      uint64_t sid = 1000 + (uint64_t)(i / (PER_THREAD / SHARED_IDS));
      st = order(s, sid, 1 + sid % USERS, T0 + 20 * DAY, 7);
      if (st == PD_OK) {
        w->ok++;
        w->revenue += 7;
      } else if (st == PD_REPLAYED) {
        w->replayed++;
      } else {
        w->other++;
      }
    }
    /* Identity creation racing on the same keys. */
    if (i % (PER_THREAD / RACE_KEYS) == 0) {
      pd_user_id v;
      snprintf(key, sizeof key, "race-%ld", i / (PER_THREAD / RACE_KEYS));
      st = pd_user_ensure(s, "wecom.external_userid", PD_NTS, key, PD_NTS,
                          &v);
      if (st == PD_OK) w->keys_created++;
      else if (st == PD_REPLAYED) w->keys_replayed++;
      else w->other++;
    }
  }
  atomic_fetch_sub(&w->sh->recorders_left, 1);
  return 0;
}

/* Merges users (2k+1, 2k+2) for k < USERS/4 while recording goes on, then
 * purges the old orders. */
static int merge_and_purge(void *arg) {
  shared *sh = arg;
  for (pd_user_id k = 0; k < USERS / 4; k++) {
    pd_user_id out;
    if (pd_user_merge(sh->s, 2 * k + 1, 2 * k + 2, &out) != PD_OK ||
        out != 2 * k + 1)
      atomic_fetch_add(&sh->errors, 1);
    thrd_yield();
  }
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  if (pd_store_purge_before(sh->s, T0 + DAY, &r) != PD_OK ||
      r.orders != OLD_ORDERS)
    atomic_fetch_add(&sh->errors, 1);
  return 0;
}

/* A growable in-memory snapshot (pd_snapshot_write's sink). */
typedef struct blob {
  unsigned char *p;
  size_t n, cap;
} blob;

static int32_t blob_write(void *user, const void *buf, size_t len) {
  blob *b = user;
  if (b->n + len > b->cap) {
    size_t cap = (b->cap ? 2 * b->cap : 65536) + len;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return 1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, buf, len);
  b->n += len;
  return 0;
}

typedef struct blob_reader {
  const blob *b;
  size_t off;
} blob_reader;

static int32_t blob_read(void *user, void *buf, size_t len, size_t *got) {
  blob_reader *r = user;
  size_t k = r->b->n - r->off < len ? r->b->n - r->off : len;
  memcpy(buf, r->b->p + r->off, k);
  r->off += k;
  *got = k;
  return 0;
}

/* Snapshot `s` and load the snapshot into a new store; its stats into
 * *out. 0 on success. */
static int snapshot_round_trip(pd_store *s, pd_store_stats *out) {
  blob b = {NULL, 0, 0};
  int rc = -1;
  if (pd_snapshot_write(s, blob_write, &b) == PD_OK) {
    blob_reader r = {&b, 0};
    pd_store *copy = NULL;
    if (pd_snapshot_read(blob_read, &r, NULL, &copy) == PD_OK) {
      rc = pd_store_get_stats(copy, out) == PD_OK ? 0 : -1;
      pd_store_free(copy);
    }
  }
  free(b.p);
  return rc;
}

/* Saves snapshots while the others record: each one loads, and holds no
 * more events than the store had when it was taken. */
static int snapshot_loop(void *arg) {
  shared *sh = arg;
  long taken = 0;
  while (atomic_load(&sh->recorders_left) > 0 || taken < 2) {
    pd_store_stats snap = PD_STORE_STATS_INIT, now = PD_STORE_STATS_INIT;
    if (snapshot_round_trip(sh->s, &snap) != 0 ||
        pd_store_get_stats(sh->s, &now) != PD_OK ||
        snap.events > now.events + OLD_ORDERS || snap.users == 0)
      atomic_fetch_add(&sh->errors, 1);
    taken++;
  }
  atomic_fetch_add(&sh->snapshots, taken);
  return 0;
}

typedef struct visit {
  pd_store *s;
  long users;
  int bad;
} visit;

static int visit_user(void *arg, pd_user_id u) {
  visit *v = arg;
  pd_user_info info = PD_USER_INFO_INIT;
  /* Queries are allowed from the callback, under the same lock. */
  if (pd_user_get(v->s, u, PD_TIME_MAX, &info) != PD_OK || info.user != u ||
      info.revenue < 0)
    v->bad = 1;
  v->users++;
  return 0;
}

static int read_loop(void *arg) {
  shared *sh = arg;
  pd_store *s = sh->s;
  uint64_t last_events = 0;
  char msg[64];
  long rounds = 0;
  while (atomic_load(&sh->recorders_left) > 0 || rounds < 3) {
    rounds++;
    pd_store_stats st = PD_STORE_STATS_INIT;
    if (pd_store_get_stats(s, &st) != PD_OK) atomic_fetch_add(&sh->errors, 1);
    uint64_t kinds = st.links + st.unlinks + st.touchpoints + st.orders +
                     st.refunds + st.referrals + st.guide_events +
                     st.reach_records + st.cost_records;
    /* Counts are consistent; events only grow except when the purge
     * removes the OLD_ORDERS. */
    if (kinds > st.events ||
        st.events + OLD_ORDERS < last_events)
      atomic_fetch_add(&sh->errors, 1);
    last_events = st.events;
    for (pd_user_id u = 1; u <= USERS; u += 5) {
      pd_user_info info = PD_USER_INFO_INIT;
      if (pd_user_get(s, u, PD_TIME_MAX, &info) != PD_OK ||
          info.revenue < 0 || info.orders > (uint64_t)PER_THREAD * RECORDERS)
        atomic_fetch_add(&sh->errors, 1);
    }
    visit v = {s, 0, 0};
    if (pd_store_foreach_user(s, visit_user, &v) != PD_OK || v.bad ||
        v.users == 0)
      atomic_fetch_add(&sh->errors, 1);
    if (pd_store_errmsg_copy(s, msg, sizeof msg) != PD_OK)
      atomic_fetch_add(&sh->errors, 1);
  }
  return 0;
}

static void concurrent_recording_merging_purging_and_reading_is_exact(
    void **state) {
  (void)state;
  shared sh;
  assert_int_equal(pd_store_new(NULL, &sh.s), PD_OK);
  atomic_init(&sh.recorders_left, RECORDERS);
  atomic_init(&sh.errors, 0);
  atomic_init(&sh.snapshots, 0);
  char key[32];
  for (int i = 1; i <= USERS; i++) {
    pd_user_id u;
    snprintf(key, sizeof key, "+86138%08d", i);
    assert_int_equal(pd_user_ensure(sh.s, "phone", PD_NTS, key, PD_NTS, &u),
                     PD_OK);
    assert_int_equal(u, (pd_user_id)i);
  }
  for (int i = 0; i < OLD_ORDERS; i++)
    assert_int_equal(order(sh.s, 500 + (uint64_t)i, 1 + (pd_user_id)i % USERS,
                           T0 + i, 1000),
                     PD_OK);

  thrd_t rec[RECORDERS], rd[READERS], mp, sn;
  recorder w[RECORDERS];
  for (int i = 0; i < RECORDERS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].sh = &sh;
    w[i].id = i;
    assert_int_equal(thrd_create(&rec[i], record, &w[i]), thrd_success);
  }
  for (int i = 0; i < READERS; i++)
    assert_int_equal(thrd_create(&rd[i], read_loop, &sh), thrd_success);
  assert_int_equal(thrd_create(&mp, merge_and_purge, &sh), thrd_success);
  assert_int_equal(thrd_create(&sn, snapshot_loop, &sh), thrd_success);
  for (int i = 0; i < RECORDERS; i++)
    assert_int_equal(thrd_join(rec[i], NULL), thrd_success);
  for (int i = 0; i < READERS; i++)
    assert_int_equal(thrd_join(rd[i], NULL), thrd_success);
  assert_int_equal(thrd_join(mp, NULL), thrd_success);
  assert_int_equal(thrd_join(sn, NULL), thrd_success);
  assert_int_equal(atomic_load(&sh.errors), 0);
  assert_true(atomic_load(&sh.snapshots) >= 2);

  long ok = 0, replayed = 0, created = 0, key_replays = 0;
  int64_t revenue = 0;
  for (int i = 0; i < RECORDERS; i++) {
    assert_int_equal(w[i].other, 0);
    ok += w[i].ok;
    replayed += w[i].replayed;
    created += w[i].keys_created;
    key_replays += w[i].keys_replayed;
    revenue += w[i].revenue;
  }
  /* Each shared id is accepted once and replayed by the other recorders. */
  assert_int_equal(ok, RECORDERS * PER_THREAD + SHARED_IDS);
  assert_int_equal(replayed, (RECORDERS - 1) * SHARED_IDS);
  assert_int_equal(created, RACE_KEYS);
  assert_int_equal(key_replays, (RECORDERS - 1) * RACE_KEYS);

  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(sh.s, &st), PD_OK);
  long orders_per_thread = (PER_THREAD + 2) / 3;
  assert_int_equal(st.orders, RECORDERS * orders_per_thread + SHARED_IDS);
  assert_int_equal(st.touchpoints,
                   RECORDERS * (PER_THREAD - orders_per_thread));
  assert_int_equal(st.users, USERS - USERS / 4 + RACE_KEYS);
  assert_int_equal(st.merged_users, USERS / 4);
  assert_int_equal(st.identities, USERS + RACE_KEYS);

  /* Store-wide revenue = every accepted order (old ones purged). */
  int64_t total = 0;
  for (pd_user_id u = 1; u <= USERS; u++) {
    pd_user_info info = PD_USER_INFO_INIT;
    assert_int_equal(pd_user_get(sh.s, u, PD_TIME_MAX, &info), PD_OK);
    if (info.user == u) total += info.revenue;
  }
  assert_int_equal(total, revenue);
  /* A snapshot taken now holds exactly the final store. */
  pd_store_stats snap = PD_STORE_STATS_INIT;
  assert_int_equal(snapshot_round_trip(sh.s, &snap), 0);
  assert_int_equal(snap.events, st.events);
  assert_int_equal(snap.users, st.users);
  assert_int_equal(snap.identities, st.identities);
  pd_store_free(sh.s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          concurrent_recording_merging_purging_and_reading_is_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
