/* Persistence throughput: snapshot save and load of the demo private
 * domain (MB/s = file bytes / wall seconds, through a file in $TMPDIR),
 * and journal appends per second under each sync policy. Prints one
 * `bench=... key=value` line per figure:
 *
 *   bench=snapshot_save        the durable save (write, fsync, rename,
 *                              directory fsync): pd_snapshot_save
 *   bench=snapshot_write       the same bytes written to a file with no
 *                              fsync (pd_snapshot_write): what the CPU and
 *                              page cache allow, without the disk
 *   bench=snapshot_load        pd_snapshot_load of that file (from the
 *                              page cache)
 *   bench=journal_append       one line per sync policy
 *
 * Each snapshot figure is the best of REPEAT runs (the machine is
 * shared); cpu_s is that run's user + system CPU time. The saved store is
 * freed before the loads, so the peak is one store, not two.
 *
 *   bench_persist [USERS [REPEAT [demo|gen]]]
 *
 * demo (default): the pd demo domain (~33 events per user; 50000 users);
 * gen: the issue-7 chain generator (bench/domain_gen.h, ~20 events per
 * user: 1000000 users give the 1M users / 20M events scale). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <privdomain/privdomain.h>

#include "bench_clock.h"

#include "demo_data.h"
#include "domain_gen.h"

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
  double t0 = bench_wall_now();
  for (uint64_t i = 1; i <= n; i++) {
    pd_touchpoint t = PD_TOUCHPOINT_INIT;
    t.event_id = i;
    t.user = u;
    t.kind = PD_TOUCH_INBOUND_MESSAGE;
    t.time = DEMO_T_BEGIN + (int64_t)(i % 1000000);
    if (pd_record_touchpoint(s, &t) != PD_OK) return die("record", s);
  }
  if (pd_store_sync(s) != PD_OK) return die("sync", s);
  double dt = bench_wall_now() - t0;
  printf("bench=journal_append sync=%s policy=%d events=%llu seconds=%.3f "
         "events_per_s=%.0f\n",
         name, (int)policy, (unsigned long long)n, dt, (double)n / dt);
  pd_store_free(s);
  unlink(snap);
  unlink(jrnl);
  return 0;
}

static int32_t fd_write(void *user, const void *buf, size_t len) {
  int fd = *(int *)user;
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static int fill_demo(pd_store *s, unsigned long users) {
  demo_data d;
  if (demo_generate(DEMO_DEFAULT_SEED, (uint32_t)users, &d)) return -1;
  demo_player p;
  if (demo_player_init(&p, &d, s, 0) != 0) return -1;
  for (size_t i = 0; i < d.n_records; i++) demo_play(&p, &d.records[i]);
  demo_player_free(&p);
  demo_free(&d);
  return 0;
}

enum { GEN_BATCH = 4096 };
static int32_t gen_kinds[GEN_BATCH];
static pdg_record gen_recs[GEN_BATCH];
static const void *gen_ptrs[GEN_BATCH];
static pd_status gen_status[GEN_BATCH];

static int fill_generated(pd_store *s, unsigned long users) {
  pdg *g = pdg_new(users, 7);
  if (!g || pdg_setup_store(g, s) != PD_OK) return -1;
  size_t n;
  while ((n = pdg_next(g, GEN_BATCH, gen_kinds, gen_recs, gen_ptrs)) > 0)
    if (pd_record_events(s, n, gen_kinds, gen_ptrs, gen_status) != PD_OK)
      return -1;
  int bad = pdg_failed(g);
  pdg_free(g);
  return bad ? -1 : 0;
}

typedef struct best {
  double wall, cpu;
} best;

static void keep(best *b, double wall, double cpu) {
  if (b->wall == 0 || wall < b->wall) {
    b->wall = wall;
    b->cpu = cpu;
  }
}

static void report(const char *name, long long bytes, const best *b) {
  double mb = (double)bytes / 1e6;
  printf("bench=%s bytes=%lld seconds=%.3f cpu_s=%.3f mb_per_s=%.1f "
         "cpu_mb_per_s=%.1f\n",
         name, bytes, b->wall, b->cpu, mb / b->wall,
         b->cpu > 0 ? mb / b->cpu : 0.0);
}

int main(int argc, char **argv) {
  unsigned long users = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
  int repeat = argc > 2 ? atoi(argv[2]) : 3;
  if (repeat < 1) repeat = 1;
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/pd_bench_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return die("mkdtemp", NULL);
  int gen = argc > 3 && strcmp(argv[3], "gen") == 0;
  pd_store *s = NULL;
  pd_store_new(NULL, &s);
  if (gen && fill_generated(s, users) != 0) return die("generate", s);
  if (!gen && fill_demo(s, users) != 0) return die("demo", NULL);
  pd_store_stats st = PD_STORE_STATS_INIT;
  pd_store_get_stats(s, &st);
  printf("bench=snapshot_store users=%llu events=%llu\n",
         (unsigned long long)st.users, (unsigned long long)st.events);
  char path[600];
  snprintf(path, sizeof path, "%s/demo.pds", dir);
  best save = {0, 0}, write_only = {0, 0}, load = {0, 0};
  for (int r = 0; r < repeat; r++) {
    double t0 = bench_wall_now(), c0 = bench_cpu_now();
    if (pd_snapshot_save(s, path) != PD_OK) return die("save", s);
    keep(&save, bench_wall_now() - t0, bench_cpu_now() - c0);
  }
  struct stat sb;
  stat(path, &sb);
  char raw[600];
  snprintf(raw, sizeof raw, "%s/nosync.pds", dir);
  for (int r = 0; r < repeat; r++) {
    unlink(raw);
    double t0 = bench_wall_now(), c0 = bench_cpu_now();
    int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || pd_snapshot_write(s, fd_write, &fd) != PD_OK)
      return die("write", s);
    close(fd);
    keep(&write_only, bench_wall_now() - t0, bench_cpu_now() - c0);
  }
  unlink(raw);
  pd_store_free(s);
  s = NULL;
  for (int r = 0; r < repeat; r++) {
    pd_store *t = NULL;
    double t0 = bench_wall_now(), c0 = bench_cpu_now();
    if (pd_snapshot_load(path, NULL, &t) != PD_OK) return die("load", NULL);
    keep(&load, bench_wall_now() - t0, bench_cpu_now() - c0);
    pd_store_free(t);
  }
  report("snapshot_save", (long long)sb.st_size, &save);
  report("snapshot_write", (long long)sb.st_size, &write_only);
  report("snapshot_load", (long long)sb.st_size, &load);
  unlink(path);
  int rc = journal_rate(dir, PD_SYNC_EVERY_EVENT, "every_event", 2000) ||
           journal_rate(dir, PD_SYNC_EVERY_N, "every_100", 200000) ||
           journal_rate(dir, PD_SYNC_INTERVAL, "every_10ms", 200000) ||
           journal_rate(dir, PD_SYNC_NEVER, "never", 200000);
  rmdir(dir);
  return rc;
}
