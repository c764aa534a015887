/* Loading a snapshot for a benchmark, with its error reported. */
#ifndef PD_BENCH_LOAD_H
#define PD_BENCH_LOAD_H

#include <stdio.h>

#include <privdomain/privdomain.h>

#include "bench_clock.h"

/* Loads path with `threads` load threads into *s and sets *wall_s and
 * *cpu_s to the load's seconds. On failure prints "who: status N: message"
 * to stderr, leaves *s NULL and returns the status. */
static inline pd_status bench_load(const char *who, const char *path,
                                   int threads, pd_store **s, double *wall_s,
                                   double *cpu_s) {
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  o.threads = threads;
  *s = NULL;
  double w0 = bench_wall_now(), c0 = bench_cpu_now();
  pd_status st = pd_snapshot_load(path, &o, s);
  *wall_s = bench_wall_now() - w0;
  *cpu_s = bench_cpu_now() - c0;
  if (st != PD_OK) fprintf(stderr, "%s: status %d: %s\n", who, (int)st, msg);
  return st;
}

#endif
