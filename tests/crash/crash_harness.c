/* The SIGKILL crash harness: starts crash_writer again and again (journal
 * synced on every change), kills it with SIGKILL at a random moment, and
 * after every kill reopens snapshot + journal and checks that every event
 * the writer acknowledged is there exactly once (recording it again is
 * PD_REPLAYED; the store holds one event per id it has), that the store
 * is consistent (it survives a full snapshot round trip with validation),
 * and, for kills during checkpoints and snapshot saves, that the files
 * always open (old or new snapshot, never neither).
 *
 * usage: crash_harness WRITER   (PD_CRASH_KILLS=n sets the number of kills
 * per mode; default 70, so 210 in all: 10-20 seconds) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "../persist_testutil.h"
#include "../sim_rng.h"
#include "crash_common.h"
#include "store/event_index.h"
#include "store/store_internal.h"

static const char *writer;

typedef struct run_result {
  uint64_t *acked;
  size_t n_acked;
} run_result;

/* Start the writer, let it run for `delay_us`, kill it, collect acks. */
static void run_and_kill(const char *dir, const char *mode, uint64_t first,
                         long delay_us, int from_start, run_result *r) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)first);
    execl(writer, writer, dir, mode, id, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t cap = 1024;
  r->acked = malloc(cap * sizeof *r->acked);
  r->n_acked = 0;
  unsigned char buf[8];
  size_t have = 0;
  /* Mostly count the delay from the first acknowledgement, so that a slow
   * machine still kills mid-stream; sometimes from the start, so that
   * kills also land while the writer opens and replays. */
  if (!from_start) {
    struct pollfd pf = {fds[0], POLLIN, 0};
    if (poll(&pf, 1, 10000) == 1 && read(fds[0], buf, 8) == 8) {
      memcpy(&r->acked[r->n_acked++], buf, 8);
    }
  }
  struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
  nanosleep(&ts, NULL);
  kill(pid, SIGKILL);
  for (;;) {
    ssize_t g = read(fds[0], buf + have, sizeof buf - have);
    if (g < 0 && errno == EINTR) continue;
    if (g <= 0) break;
    have += (size_t)g;
    if (have == 8) {
      if (r->n_acked == cap) r->acked = realloc(r->acked, (cap *= 2) * 8);
      memcpy(&r->acked[r->n_acked++], buf, 8);
      have = 0;
    }
  }
  close(fds[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  /* killed, not failed on its own */
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
    fail_msg("the writer exited by itself (status %d): see its stderr",
             status);
}

static int present(pd_store *s, uint64_t id) {
  pd_st_lock(s);
  uint32_t tag = pd_st_index_find(s, id);
  pd_st_unlock(s);
  return tag != 0;
}

static void torture(const char *mode, int kills, long max_delay_us) {
  char dir[512], snap[1024], jrnl[1024], spare[1024];
  scratch_dir(dir, sizeof dir, "crash");
  assert_true(dir[0] != '\0');
  crash_paths(dir, snap, jrnl, spare, sizeof snap);
  sim_rng rng = {(uint64_t)time(NULL) ^ (uint64_t)getpid()};
  uint64_t next = 1, total_present = 0, total_acked = 0;
  int with_events = 0;
  for (int k = 0; k < kills; k++) {
    run_result r;
    long delay = (long)(sim_next(&rng) % (uint64_t)max_delay_us);
    int from_start = sim_next(&rng) % 4 == 0;
    run_and_kill(dir, mode, next, delay, from_start, &r);
    pd_store *s = NULL;
    char msg[256] = "";
    pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
    o.errmsg = msg;
    o.errmsg_cap = sizeof msg;
    pd_open_report rep = PD_OPEN_REPORT_INIT;
    pd_status st = pd_store_open(snap, jrnl, &o, &rep, &s);
    if (st != PD_OK)
      fail_msg("kill %d (%s): reopening failed: %s", k, mode, msg);
    /* acknowledged: present, in order, and replaying is PD_REPLAYED */
    for (size_t i = 0; i < r.n_acked; i++) {
      assert_int_equal(r.acked[i], next + i);
      if (!present(s, r.acked[i]))
        fail_msg("kill %d (%s): acknowledged event %llu is lost", k, mode,
                 (unsigned long long)r.acked[i]);
    }
    pd_user_id users[CRASH_USERS];
    int have_users = 1;
    for (int u = 0; u < CRASH_USERS; u++) {
      char key[32];
      snprintf(key, sizeof key, "crash-user-%d", u);
      have_users &= pd_user_find(s, "phone", PD_NTS, key, PD_NTS,
                                 &users[u]) == PD_OK;
    }
    for (size_t i = 0; i < r.n_acked; i++) {
      assert_true(have_users);
      pd_touchpoint t;
      crash_event(r.acked[i], users, &t);
      assert_int_equal(pd_record_touchpoint(s, &t), PD_REPLAYED);
    }
    /* the one in flight may or may not have made it; nothing else did */
    uint64_t in_flight = next + r.n_acked;
    total_present += r.n_acked + (uint64_t)present(s, in_flight);
    assert_false(present(s, in_flight + 1));
    pd_store_stats stats = PD_STORE_STATS_INIT;
    assert_int_equal(pd_store_get_stats(s, &stats), PD_OK);
    if (stats.touchpoints != total_present)
      fail_msg("kill %d (%s): %llu touchpoints for %llu event ids", k, mode,
               (unsigned long long)stats.touchpoints,
               (unsigned long long)total_present);
    /* consistent: a snapshot of it passes every check on load */
    if (k % 10 == 9 || k == kills - 1) {
      membuf m = {0};
      assert_int_equal(pd_snapshot_write(s, membuf_write, &m), PD_OK);
      pd_store *t = NULL;
      assert_int_equal(pd_snapshot_read(membuf_read, &m, NULL, &t), PD_OK);
      assert_true(digest_of(t) == digest_of(s));
      pd_store_free(t);
      free(m.p);
    }
    /* a spare snapshot being saved is either the old or the new one */
    struct stat sb;
    if (stat(spare, &sb) == 0) {
      pd_check_report cr = PD_CHECK_REPORT_INIT;
      assert_int_equal(pd_persist_check(spare, NULL, &cr), PD_OK);
      if (cr.status != PD_OK)
        fail_msg("kill %d: the spare snapshot is damaged: %s", k, cr.message);
    }
    pd_store_free(s);
    with_events += r.n_acked > 0;
    total_acked += r.n_acked;
    next = in_flight + 1;
    free(r.acked);
  }
  printf("crash %s: %d kills, %llu events acknowledged, %d runs killed "
         "after their first ack\n",
         mode, kills, (unsigned long long)total_acked, with_events);
  assert_true(with_events > kills / 3); /* the kills landed mid-stream */
  remove_dir(dir);
}

static int kills_per_mode(void) {
  const char *e = getenv("PD_CRASH_KILLS");
  int n = e ? atoi(e) : 0;
  return n > 0 ? n : 70;
}

static void acknowledged_events_survive_sigkill(void **st) {
  (void)st;
  torture("events", kills_per_mode(), 30000);
}

static void kills_during_checkpoints_lose_nothing(void **st) {
  (void)st;
  torture("checkpoint", kills_per_mode(), 50000);
}

static void kills_during_snapshot_saves_leave_a_loadable_file(void **st) {
  (void)st;
  torture("save", kills_per_mode(), 50000);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: crash_harness WRITER\n");
    return 2;
  }
  writer = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(acknowledged_events_survive_sigkill),
      cmocka_unit_test(kills_during_checkpoints_lose_nothing),
      cmocka_unit_test(kills_during_snapshot_saves_leave_a_loadable_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
