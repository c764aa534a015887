/* Store recording benchmark: 1M users, 20M events of a realistic mix
 * (mostly touchpoints, then orders, links, binds …), idempotency on
 * (every event has an id; a slice is retried and must replay).
 *
 *   bench_store [users] [events]
 *
 * Prints machine-readable lines:
 *   bench=store_users users=… seconds=… bytes_per_user=… identity_string_bytes=…
 *   bench=store_record events=… seconds=… events_per_second=…
 *         cpu_seconds=… events_per_cpu_second=…
 *         bytes_per_event=… bytes_per_user=…
 *   bench=store_replay events=… seconds=… events_per_second=…
 * bytes_per_user excludes identity strings (counted apart);
 * bytes_per_event is the memory growth during recording / events. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <privdomain/privdomain.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

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

/* Record event number i (deterministic from i, so a retry is identical). */
static pd_status record(pd_store *s, uint64_t i, uint64_t users,
                        uint64_t *orders) {
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
    return pd_record_touchpoint(s, &p);
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
    return pd_record_order(s, &o);
  }
  if (pick < 93) {
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = eid;
    l.user = u;
    l.channel = 1 + (int32_t)((h >> 8) % 3);
    l.time = t;
    return pd_record_link(s, &l);
  }
  if (pick < 97) {
    pd_unlink_event l = PD_UNLINK_EVENT_INIT;
    l.event_id = eid;
    l.user = u;
    l.channel = 1 + (int32_t)((h >> 8) % 3);
    l.initiator = 1;
    l.time = t;
    return pd_record_unlink(s, &l);
  }
  pd_guide_bind b = PD_GUIDE_BIND_INIT;
  b.event_id = eid;
  b.user = u;
  b.guide = 1 + (uint32_t)((h >> 8) % 50);
  b.time = t;
  return pd_record_guide_bind(s, &b);
}

int main(int argc, char **argv) {
  uint64_t users = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  uint64_t events = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
  pd_store *s;
  if (pd_store_new(NULL, &s) != PD_OK) return 1;
  char key[32];
  for (int g = 1; g <= 50; g++) {
    uint32_t id;
    snprintf(key, sizeof key, "G%03d", g);
    if (pd_guide_ensure(s, key, PD_NTS, 0, &id) != PD_OK) return 1;
  }
  uint64_t m0 = mem(s), string_bytes = 0;
  double t0 = now();
  for (uint64_t i = 0; i < users; i++) {
    int n = snprintf(key, sizeof key, "+86138%08llu", (unsigned long long)i);
    pd_user_id u;
    if (pd_user_ensure(s, "phone", PD_NTS, key, (size_t)n, &u) != PD_OK) {
      fprintf(stderr, "ensure: %s\n", pd_store_errmsg(s));
      return 1;
    }
    string_bytes += (uint64_t)n;
  }
  double t1 = now();
  uint64_t m1 = mem(s);
  double per_user = (double)(m1 - m0 - string_bytes) / (double)users;
  printf("bench=store_users users=%llu seconds=%.3f bytes_per_user=%.1f "
         "identity_string_bytes=%llu\n",
         (unsigned long long)users, t1 - t0, per_user,
         (unsigned long long)string_bytes);

  uint64_t orders = 0;
  clock_t c2 = clock();
  double t2 = now();
  for (uint64_t i = 0; i < events; i++) {
    pd_status st = record(s, i, users, &orders);
    if (st != PD_OK) {
      fprintf(stderr, "event %llu: %s\n", (unsigned long long)i,
              pd_store_errmsg(s));
      return 1;
    }
  }
  double t3 = now();
  double cpu = (double)(clock() - c2) / CLOCKS_PER_SEC;
  uint64_t m2 = mem(s);
  printf("bench=store_record events=%llu seconds=%.3f events_per_second=%.0f "
         "cpu_seconds=%.3f events_per_cpu_second=%.0f "
         "bytes_per_event=%.1f bytes_per_user=%.1f\n",
         (unsigned long long)events, t3 - t2, (double)events / (t3 - t2),
         cpu, (double)events / cpu,
         (double)(m2 - m1) / (double)events, per_user);

  /* Retries: 1M random earlier events again; all must replay. */
  uint64_t retries = events < 1000000 ? events : 1000000;
  double t4 = now();
  for (uint64_t k = 0; k < retries; k++) {
    uint64_t i = next() % events;
    if (record(s, i, users, NULL) != PD_REPLAYED) {
      fprintf(stderr, "retry %llu did not replay\n", (unsigned long long)i);
      return 1;
    }
  }
  double t5 = now();
  printf("bench=store_replay events=%llu seconds=%.3f events_per_second=%.0f\n",
         (unsigned long long)retries, t5 - t4, (double)retries / (t5 - t4));
  pd_store_stats st = PD_STORE_STATS_INIT;
  pd_store_get_stats(s, &st);
  printf("bench=store_total memory_bytes=%llu events=%llu users=%llu "
         "orders=%llu\n",
         (unsigned long long)st.memory_bytes, (unsigned long long)st.events,
         (unsigned long long)st.users, (unsigned long long)orders);
  pd_store_free(s);
  return 0;
}
