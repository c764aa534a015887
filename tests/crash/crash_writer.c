/* The process the crash harness kills: it opens the store in DIR (journal
 * synced on every change), records touchpoints with event ids FIRST,
 * FIRST+1, ... (content derived from the id, so the harness can check
 * them), and after each PD_OK writes the id (8 bytes) to stdout: the
 * acknowledgement. With MODE "checkpoint" it also checkpoints, and with
 * "save" also saves a spare snapshot, every few changes, so that kills land
 * inside them. It runs until it is killed (or an error: exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <privdomain/privdomain.h>

#include "crash_common.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: crash_writer DIR MODE FIRST_ID\n");
    return 2;
  }
  char snap[1024], jrnl[1024], spare[1024];
  crash_paths(argv[1], snap, jrnl, spare, sizeof snap);
  const char *mode = argv[2];
  uint64_t id = strtoull(argv[3], NULL, 10);
  pd_store *s = NULL;
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  if (pd_store_open(snap, jrnl, &o, NULL, &s) != PD_OK) {
    fprintf(stderr, "crash_writer: open: %s\n", msg);
    return 1;
  }
  pd_user_id users[CRASH_USERS];
  for (int k = 0; k < CRASH_USERS; k++) {
    char key[32];
    snprintf(key, sizeof key, "crash-user-%d", k);
    pd_status st = pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &users[k]);
    if (st != PD_OK && st != PD_REPLAYED) {
      fprintf(stderr, "crash_writer: %s\n", pd_store_errmsg(s));
      return 1;
    }
  }
  for (uint64_t n = 0;; n++, id++) {
    pd_touchpoint t;
    crash_event(id, users, &t);
    pd_status st = pd_record_touchpoint(s, &t);
    if (st != PD_OK) {
      fprintf(stderr, "crash_writer: event %llu: %s\n",
              (unsigned long long)id, pd_store_errmsg(s));
      return 1;
    }
    if (write(1, &id, sizeof id) != (ssize_t)sizeof id) return 1;
    if (strcmp(mode, "checkpoint") == 0 && n % 4 == 3 &&
        pd_store_checkpoint(s) != PD_OK) {
      fprintf(stderr, "crash_writer: checkpoint: %s\n", pd_store_errmsg(s));
      return 1;
    }
    if (strcmp(mode, "save") == 0 && n % 4 == 3 &&
        pd_snapshot_save(s, spare) != PD_OK) {
      fprintf(stderr, "crash_writer: save: %s\n", pd_store_errmsg(s));
      return 1;
    }
  }
}
