/* Persistence throughput: snapshot save and load of the demo private
 * domain (MB/s, through a file in $TMPDIR), and journal appends per second
 * under each sync policy. Prints one `bench=... key=value` line per figure.
 *
 *   bench_persist [USERS]   (default 50000 demo users) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <privdomain/privdomain.h>

#include "demo_data.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int die(const char *what, pd_store *s) {
  fprintf(stderr, "bench_persist: %s: %s\n", what,
          s ? pd_store_errmsg(s) : "failed");
  return 1;
}

static int journal_rate(const char *dir, int32_t policy, const char *name,
                        uint64_t n) {
  char snap[600], jrnl[600];
  snprintf(snap, sizeof snap, "%s/j-%s.pds", dir, name);
  snprintf(jrnl, sizeof jrnl, "%s/j-%s.pdj", dir, name);
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.sync = policy;
  o.sync_every_events = 100;
  o.sync_every_ms = 10;
  pd_store *s = NULL;
  if (pd_store_open(snap, jrnl, &o, NULL, &s) != PD_OK)
    return die("open", NULL);
  pd_user_id u;
  pd_user_ensure(s, "phone", PD_NTS, "bench", PD_NTS, &u);
  double t0 = now();
  for (uint64_t i = 1; i <= n; i++) {
    pd_touchpoint t = PD_TOUCHPOINT_INIT;
    t.event_id = i;
    t.user = u;
    t.kind = PD_TOUCH_INBOUND_MESSAGE;
    t.time = DEMO_T_BEGIN + (int64_t)(i % 1000000);
    if (pd_record_touchpoint(s, &t) != PD_OK) return die("record", s);
  }
  if (pd_store_sync(s) != PD_OK) return die("sync", s);
  double dt = now() - t0;
  printf("bench=journal_append sync=%s events=%llu seconds=%.3f "
         "events_per_s=%.0f\n",
         name, (unsigned long long)n, dt, (double)n / dt);
  pd_store_free(s);
  unlink(snap);
  unlink(jrnl);
  return 0;
}

int main(int argc, char **argv) {
  unsigned long users = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/pd_bench_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return die("mkdtemp", NULL);
  demo_data d;
  if (demo_generate(DEMO_DEFAULT_SEED, (uint32_t)users, &d))
    return die("demo", NULL);
  pd_store *s = NULL;
  pd_store_new(NULL, &s);
  demo_player p;
  demo_player_init(&p, &d, s, 0);
  for (size_t i = 0; i < d.n_records; i++) demo_play(&p, &d.records[i]);
  demo_player_free(&p);
  pd_store_stats st = PD_STORE_STATS_INIT;
  pd_store_get_stats(s, &st);
  char path[600];
  snprintf(path, sizeof path, "%s/demo.pds", dir);
  double t0 = now();
  if (pd_snapshot_save(s, path) != PD_OK) return die("save", s);
  double save = now() - t0;
  struct stat sb;
  stat(path, &sb);
  double mb = (double)sb.st_size / 1e6;
  printf("bench=snapshot_save users=%llu events=%llu bytes=%lld seconds=%.3f "
         "mb_per_s=%.1f\n",
         (unsigned long long)st.users, (unsigned long long)st.events,
         (long long)sb.st_size, save, mb / save);
  pd_store *t = NULL;
  t0 = now();
  if (pd_snapshot_load(path, NULL, &t) != PD_OK) return die("load", NULL);
  double load = now() - t0;
  printf("bench=snapshot_load bytes=%lld seconds=%.3f mb_per_s=%.1f\n",
         (long long)sb.st_size, load, mb / load);
  pd_store_free(t);
  pd_store_free(s);
  demo_free(&d);
  unlink(path);
  int rc = journal_rate(dir, PD_SYNC_EVERY_EVENT, "every_event", 2000) ||
           journal_rate(dir, PD_SYNC_EVERY_N, "every_100", 200000) ||
           journal_rate(dir, PD_SYNC_INTERVAL, "every_10ms", 200000) ||
           journal_rate(dir, PD_SYNC_NEVER, "never", 200000);
  rmdir(dir);
  return rc;
}
