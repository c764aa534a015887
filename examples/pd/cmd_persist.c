/*
 * pd save / pd load / pd check — snapshots from the command line.
 *
 *   pd save FILE [--seed N] [--users N]   the demo store, saved to FILE
 *   pd load FILE [--json] [--seed N] [--users N]
 *                                         load FILE and print pd demo's
 *                                         summary of it (the seed and users
 *                                         name the demo's campaigns)
 *   pd check FILE [--json]                verify a snapshot or journal;
 *                                         exit 0 when intact, 1 when not
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "args.h"
#include "commands.h"
#include "demo_data.h"
#include "json.h"

typedef struct demo_opts {
  int json;
  unsigned long seed, users;
  const char *file;
} demo_opts;

static int parse(int argc, char **argv, const char *cmd, int want_json,
                 demo_opts *o) {
  const char *seed_text = NULL, *users_text = NULL;
  const pd_opt opts[] = {{"--json", 0, NULL, &o->json},
                         {"--seed", 1, &seed_text, NULL},
                         {"--users", 1, &users_text, NULL}};
  const char *positional[1];
  size_t n = 0;
  size_t n_opts = want_json ? 3 : 2;
  int rc = pd_args_parse(argc, argv, want_json ? opts : opts + 1, n_opts,
                         positional, 1, &n);
  if (rc) return rc;
  if (n != 1) return pd_fail(2, "%s: give one FILE (see pd %s --help)", cmd, cmd);
  o->file = positional[0];
  o->seed = (unsigned long)DEMO_DEFAULT_SEED;
  o->users = DEMO_DEFAULT_USERS;
  if (seed_text && pd_arg_uint("--seed", seed_text, &o->seed)) return 2;
  if (users_text && pd_arg_uint("--users", users_text, &o->users)) return 2;
  if (o->users < DEMO_MIN_USERS || o->users > DEMO_MAX_USERS)
    return pd_fail(2, "%s: --users must be between %u and %u", cmd,
                   DEMO_MIN_USERS, DEMO_MAX_USERS);
  return 0;
}

int cmd_save(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    printf("usage: pd save FILE [--seed N] [--users N]\n\n"
           "Builds the pd demo store and saves it as a snapshot to FILE "
           "(atomically).\n");
    return 0;
  }
  demo_opts o = {0};
  int rc = parse(argc, argv, "save", 0, &o);
  if (rc) return rc;
  demo_data d;
  if (demo_generate((uint64_t)o.seed, (uint32_t)o.users, &d))
    return pd_fail(1, "save: out of memory generating the demo");
  pd_store *s = NULL;
  if (pd_store_new(NULL, &s) != PD_OK) {
    demo_free(&d);
    return pd_fail(1, "save: cannot create a store");
  }
  demo_player p;
  rc = demo_player_init(&p, &d, s, 0) ? pd_fail(1, "save: out of memory") : 0;
  for (size_t i = 0; !rc && i < d.n_records; i++) {
    pd_status st = demo_play(&p, &d.records[i]);
    if (st != PD_OK)
      rc = pd_fail(1, "save: recording the demo: %s", demo_player_errmsg(&p));
  }
  if (!rc) demo_player_free(&p);
  if (!rc && pd_snapshot_save(s, o.file) != PD_OK)
    rc = pd_fail(1, "save: %s", pd_store_errmsg(s));
  if (!rc) {
    pd_store_stats st = PD_STORE_STATS_INIT;
    pd_store_get_stats(s, &st);
    printf("saved %" PRIu64 " users and %" PRIu64 " events to %s\n",
           st.users, st.events, o.file);
  }
  pd_store_free(s);
  demo_free(&d);
  return rc;
}

int cmd_load(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    printf("usage: pd load FILE [--json] [--seed N] [--users N]\n\n"
           "Loads a snapshot saved by pd save and prints pd demo's summary "
           "of it;\n--seed and --users must be those it was saved with (they "
           "name the demo's\ncampaigns and give its reach counts).\n");
    return 0;
  }
  demo_opts o = {0};
  int rc = parse(argc, argv, "load", 1, &o);
  if (rc) return rc;
  char msg[256] = "";
  pd_persist_options po = PD_PERSIST_OPTIONS_INIT;
  po.errmsg = msg;
  po.errmsg_cap = sizeof msg;
  po.threads = 0; /* a command-line load may use every core */
  pd_store *s = NULL;
  pd_status st = pd_snapshot_load(o.file, &po, &s);
  if (st != PD_OK)
    return pd_fail(1, "load: %s: %s (%s)", o.file, msg, pd_status_str(st));
  demo_data d;
  if (demo_generate((uint64_t)o.seed, (uint32_t)o.users, &d)) {
    pd_store_free(s);
    return pd_fail(1, "load: out of memory");
  }
  rc = demo_report(s, &d, (uint64_t)o.seed, (uint32_t)o.users, o.json);
  demo_free(&d);
  pd_store_free(s);
  return rc;
}

int cmd_check(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    printf("usage: pd check FILE [--json]\n\n"
           "Verifies a snapshot or journal and says what is wrong with it.\n"
           "Exit status 0 when it is intact, 1 when it is damaged or "
           "unreadable.\n");
    return 0;
  }
  int json = 0;
  const pd_opt opts[] = {{"--json", 0, NULL, &json}};
  const char *positional[1];
  size_t n = 0;
  int rc = pd_args_parse(argc, argv, opts, 1, positional, 1, &n);
  if (rc) return rc;
  if (n != 1) return pd_fail(2, "check: give one FILE");
  pd_check_report r = PD_CHECK_REPORT_INIT;
  if (pd_persist_check(positional[0], NULL, &r) != PD_OK)
    return pd_fail(2, "check: bad arguments");
  static const char *const kinds[] = {"unknown", "snapshot", "journal"};
  const char *kind = kinds[r.file_kind >= 0 && r.file_kind <= 2 ? r.file_kind
                                                                 : 0];
  if (json) {
    pd_json_writer w;
    pd_json_init(&w, stdout);
    pd_json_begin_object(&w);
    pd_json_key(&w, "file");
    pd_json_string(&w, positional[0], strlen(positional[0]));
    pd_json_key(&w, "kind");
    pd_json_string(&w, kind, strlen(kind));
    pd_json_key(&w, "ok");
    pd_json_bool(&w, r.status == PD_OK);
    pd_json_key(&w, "status");
    pd_json_string(&w, pd_status_str(r.status), strlen(pd_status_str(r.status)));
    pd_json_key(&w, "generation");
    pd_json_int(&w, (int64_t)r.generation);
    pd_json_key(&w, "position");
    pd_json_int(&w, (int64_t)r.position);
    pd_json_key(&w, "records");
    pd_json_int(&w, (int64_t)r.records);
    pd_json_key(&w, "bad_bytes");
    pd_json_int(&w, (int64_t)r.bad_bytes);
    pd_json_key(&w, "message");
    pd_json_string(&w, r.message, strlen(r.message));
    pd_json_end_object(&w);
  } else {
    printf("%s: %s: %s\n", positional[0], r.status == PD_OK ? "ok" : "DAMAGED",
           r.message);
  }
  return r.status == PD_OK ? 0 : 1;
}
