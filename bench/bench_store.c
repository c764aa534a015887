/* Store recording benchmark: 1M users, 20M events of a realistic mix
 * (mostly touchpoints, then orders, links, binds …), idempotency on
 * (every event has an id; a slice is retried and must replay).
 *
 *   bench_store [users] [events] [single|batch|reserve|both|all]
 *
 * Prints machine-readable lines:
 *   bench=store_users users=… seconds=… bytes_per_user=… identity_string_bytes=…
 *   bench=store_record events=… seconds=… events_per_second=…
 *         cpu_seconds=… events_per_cpu_second=…
 *         bytes_per_event=… bytes_per_user=…
 *   bench=store_replay events=… seconds=… events_per_second=…
 * and the same with pd_record_events() in batches of BATCH events, on a
 * fresh store: bench=store_record_batch …, bench=store_replay_batch ….
 * "reserve" is a bulk load: batches after pd_store_reserve() of each
 * kind's count (the call is timed and its memory counted):
 * bench=store_record_reserve …. "both" = single and batch; "all" = the
 * three. bytes_per_user excludes identity strings (counted apart);
 * bytes_per_event is the memory growth during recording / events;
 * store_total lines end with the process's peak RSS so far. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <privdomain/privdomain.h>

#include "bench_clock.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t mem(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  if (pd_store_get_stats(s, &st) != PD_OK) return 0;
  return st.memory_bytes;
}

static const int64_t T0 = 1577836800; /* 2020-01-01 */

/* Any one record, so a batch can hold events of every kind. */
typedef union event {
  pd_touchpoint touch;
  pd_order order;
  pd_link_event link;
  pd_unlink_event unlink;
  pd_guide_bind bind;
} event;

/* Build event number i (deterministic from i, so a retry is identical);
 * returns its PD_EVENT_* kind. */
static int32_t make(uint64_t i, uint64_t users, event *e, uint64_t *orders) {
  uint64_t h = i * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  pd_user_id u = 1 + h % users;
  int64_t t = T0 + (int64_t)(h % (2 * 365 * 86400ull));
  uint64_t eid = i + 1;
  unsigned pick = (unsigned)(h >> 40) % 100;
  if (pick < 70) {
    pd_touchpoint p = PD_TOUCHPOINT_INIT;
    p.event_id = eid;
    p.user = u;
    p.kind = 1 + (int32_t)((h >> 8) % 7);
    p.purpose = 1 + (int32_t)((h >> 12) % 3);
    p.channel = 1 + (int32_t)((h >> 16) % 7);
    p.guide = (uint32_t)((h >> 20) % 50);
    p.time = t;
    e->touch = p;
    return PD_EVENT_TOUCHPOINT;
  }
  if (pick < 85) {
    pd_order o = PD_ORDER_INIT;
    o.event_id = eid;
    o.order_id = eid;
    o.user = u;
    o.amount = (int64_t)((h >> 8) % 100000);
    o.time = t;
    o.channel = 1 + (int32_t)((h >> 16) % 7);
    if (orders) (*orders)++;
    e->order = o;
    return PD_EVENT_ORDER;
  }
  if (pick < 93) {
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = eid;
    l.user = u;
    l.channel = 1 + (int32_t)((h >> 8) % 3);
    l.time = t;
    e->link = l;
    return PD_EVENT_LINK;
  }
  if (pick < 97) {
    pd_unlink_event l = PD_UNLINK_EVENT_INIT;
    l.event_id = eid;
    l.user = u;
    l.channel = 1 + (int32_t)((h >> 8) % 3);
    l.initiator = 1;
    l.time = t;
    e->unlink = l;
    return PD_EVENT_UNLINK;
  }
  pd_guide_bind b = PD_GUIDE_BIND_INIT;
  b.event_id = eid;
  b.user = u;
  b.guide = 1 + (uint32_t)((h >> 8) % 50);
  b.time = t;
  e->bind = b;
  return PD_EVENT_GUIDE_BIND;
}

/* Record event number i with its own pd_record_* call. */
static pd_status record(pd_store *s, uint64_t i, uint64_t users,
                        uint64_t *orders) {
  event e;
  switch (make(i, users, &e, orders)) {
    case PD_EVENT_TOUCHPOINT: return pd_record_touchpoint(s, &e.touch);
    case PD_EVENT_ORDER: return pd_record_order(s, &e.order);
    case PD_EVENT_LINK: return pd_record_link(s, &e.link);
    case PD_EVENT_UNLINK: return pd_record_unlink(s, &e.unlink);
    default: return pd_record_guide_bind(s, &e.bind);
  }
}

/* Events per pd_record_events() call: a POS sync or an import chunk. */
#define BATCH 1024

static event batch_ev[BATCH];
static int32_t batch_kind[BATCH];
static const void *batch_rec[BATCH];
static pd_status batch_st[BATCH];

/* Record events ids[0..n) (event numbers) in one pd_record_events call;
 * 0 when every status is `want`. */
static int record_batch(pd_store *s, const uint64_t *ids, size_t n,
                        uint64_t users, uint64_t *orders, pd_status want) {
  for (size_t k = 0; k < n; k++) {
    batch_kind[k] = make(ids[k], users, &batch_ev[k], orders);
    batch_rec[k] = &batch_ev[k];
  }
  pd_record_events(s, n, batch_kind, batch_rec, batch_st);
  for (size_t k = 0; k < n; k++)
    if (batch_st[k] != want) {
      fprintf(stderr, "event %llu: status %d: %s\n",
              (unsigned long long)ids[k], (int)batch_st[k],
              pd_store_errmsg(s));
      return -1;
    }
  return 0;
}

/* Fill a new store with the guides and `users` users; prints the
 * store_users line once. NULL on failure. */
static pd_store *populate(uint64_t users, int print, double *per_user) {
  pd_store *s;
  if (pd_store_new(NULL, &s) != PD_OK) return NULL;
  char key[32];
  for (int g = 1; g <= 50; g++) {
    uint32_t id;
    snprintf(key, sizeof key, "G%03d", g);
    if (pd_guide_ensure(s, key, PD_NTS, 0, &id) != PD_OK) return NULL;
  }
  uint64_t m0 = mem(s), string_bytes = 0;
  double t0 = bench_wall_now();
  for (uint64_t i = 0; i < users; i++) {
    int n = snprintf(key, sizeof key, "+86138%08llu", (unsigned long long)i);
    pd_user_id u;
    if (pd_user_ensure(s, "phone", PD_NTS, key, (size_t)n, &u) != PD_OK) {
      fprintf(stderr, "ensure: %s\n", pd_store_errmsg(s));
      return NULL;
    }
    string_bytes += (uint64_t)n;
  }
  double t1 = bench_wall_now();
  *per_user = (double)(mem(s) - m0 - string_bytes) / (double)users;
  if (print)
    printf("bench=store_users users=%llu seconds=%.3f bytes_per_user=%.1f "
           "identity_string_bytes=%llu\n",
           (unsigned long long)users, t1 - t0, *per_user,
           (unsigned long long)string_bytes);
  return s;
}

static long max_rss_kb(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* Record `events` events one call each (batch = 0) or BATCH per
 * pd_record_events call (batch = 1; batch = 2 after reserving each kind's
 * count), then retry 1M random earlier ones. */
static int run(uint64_t users, uint64_t events, int batch) {
  double per_user;
  pd_store *s = populate(users, !batch, &per_user);
  if (!s) return 1;
  const char *suffix = batch == 2 ? "_reserve" : batch ? "_batch" : "";
  /* A bulk loader knows how many events of each kind it holds. */
  uint64_t per_kind[PD_EVENT_CONSENT + 1] = {0};
  if (batch == 2) {
    event e;
    for (uint64_t i = 0; i < events; i++)
      per_kind[make(i, users, &e, NULL)]++;
  }
  uint64_t m1 = mem(s), orders = 0;
  static uint64_t ids[BATCH];
  clock_t c2 = clock();
  double t2 = bench_wall_now();
  for (int32_t k = 1; k <= PD_EVENT_CONSENT; k++)
    if (per_kind[k] && pd_store_reserve(s, k, per_kind[k]) != PD_OK) {
      fprintf(stderr, "reserve: %s\n", pd_store_errmsg(s));
      return 1;
    }
  if (!batch) {
    for (uint64_t i = 0; i < events; i++) {
      pd_status st = record(s, i, users, &orders);
      if (st != PD_OK) {
        fprintf(stderr, "event %llu: %s\n", (unsigned long long)i,
                pd_store_errmsg(s));
        return 1;
      }
    }
  } else {
    for (uint64_t i = 0; i < events; i += BATCH) {
      size_t n = events - i < BATCH ? (size_t)(events - i) : BATCH;
      for (size_t k = 0; k < n; k++) ids[k] = i + k;
      if (record_batch(s, ids, n, users, &orders, PD_OK) != 0) return 1;
    }
  }
  double t3 = bench_wall_now();
  double cpu = (double)(clock() - c2) / CLOCKS_PER_SEC;
  uint64_t m2 = mem(s);
  printf("bench=store_record%s events=%llu seconds=%.3f "
         "events_per_second=%.0f cpu_seconds=%.3f events_per_cpu_second=%.0f "
         "bytes_per_event=%.1f bytes_per_user=%.1f\n",
         suffix, (unsigned long long)events, t3 - t2,
         (double)events / (t3 - t2), cpu, (double)events / cpu,
         (double)(m2 - m1) / (double)events, per_user);

  /* Retries: 1M random earlier events again; all must replay. */
  uint64_t retries = events < 1000000 ? events : 1000000;
  rng = 0x243F6A8885A308D3ull;
  double t4 = bench_wall_now();
  if (!batch) {
    for (uint64_t k = 0; k < retries; k++) {
      uint64_t i = next() % events;
      if (record(s, i, users, NULL) != PD_REPLAYED) {
        fprintf(stderr, "retry %llu did not replay\n", (unsigned long long)i);
        return 1;
      }
    }
  } else {
    for (uint64_t k = 0; k < retries; k += BATCH) {
      size_t n = retries - k < BATCH ? (size_t)(retries - k) : BATCH;
      for (size_t j = 0; j < n; j++) ids[j] = next() % events;
      if (record_batch(s, ids, n, users, NULL, PD_REPLAYED) != 0) return 1;
    }
  }
  double t5 = bench_wall_now();
  printf("bench=store_replay%s events=%llu seconds=%.3f "
         "events_per_second=%.0f\n",
         suffix, (unsigned long long)retries, t5 - t4,
         (double)retries / (t5 - t4));
  pd_store_stats st = PD_STORE_STATS_INIT;
  pd_store_get_stats(s, &st);
  printf("bench=store_total%s memory_bytes=%llu events=%llu users=%llu "
         "orders=%llu max_rss_kb=%ld\n",
         suffix, (unsigned long long)st.memory_bytes,
         (unsigned long long)st.events, (unsigned long long)st.users,
         (unsigned long long)orders, max_rss_kb());
  pd_store_free(s);
  return 0;
}

int main(int argc, char **argv) {
  uint64_t users = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  uint64_t events = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
  const char *mode = argc > 3 ? argv[3] : "both";
  if (users == 0 || events == 0) {
    fprintf(stderr, "usage: bench_store [users] [events] "
                    "[single|batch|reserve|both|all]\n");
    return 2;
  }
  int all = strcmp(mode, "all") == 0, both = strcmp(mode, "both") == 0;
  int single = all || both || strcmp(mode, "single") == 0;
  int batched = all || both || strcmp(mode, "batch") == 0;
  int reserved = all || strcmp(mode, "reserve") == 0;
  if (!single && !batched && !reserved) {
    fprintf(stderr, "bench_store: unknown mode %s\n", mode);
    return 2;
  }
  if (single && run(users, events, 0) != 0) return 1;
  if (batched && run(users, events, 1) != 0) return 1;
  if (reserved && run(users, events, 2) != 0) return 1;
  return 0;
}
