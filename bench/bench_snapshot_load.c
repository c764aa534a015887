/* Snapshot load throughput on an existing file (issue 7: >= 500 MB/s at
 * 10M users).
 *
 *   bench_snapshot_load FILE [RUNS] [THREADS]
 *
 * Loads FILE RUNS times (default 3), freeing the store after each load,
 * and prints one line per run and the best:
 *
 *   bench=snapshot_load file=F bytes=B threads=T run=I wall_s=W cpu_s=C
 *   mb_s=M
 *
 * mb_s is file bytes / wall seconds (10^6 bytes); cpu_s is the process's
 * user + system time over the load. THREADS (default 0 = online CPUs) is
 * pd_persist_options.threads. A run that fails prints the status and the
 * message and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <privdomain/privdomain.h>

#include "bench_load.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_snapshot_load FILE [RUNS] [THREADS]\n");
    return 2;
  }
  const char *path = argv[1];
  int runs = argc > 2 ? atoi(argv[2]) : 3;
  int threads = argc > 3 ? atoi(argv[3]) : 0;
  struct stat sb;
  if (stat(path, &sb) != 0) {
    fprintf(stderr, "bench_snapshot_load: cannot stat %s\n", path);
    return 1;
  }
  double best_wall = 0, best_cpu = 0;
  for (int r = 0; r < runs; r++) {
    pd_store *s;
    double w, c;
    if (bench_load("bench_snapshot_load", path, threads, &s, &w, &c) != PD_OK)
      return 1;
    pd_store_free(s);
    printf("bench=snapshot_load file=%s bytes=%lld threads=%d run=%d "
           "wall_s=%.3f cpu_s=%.3f mb_s=%.0f\n",
           path, (long long)sb.st_size, threads, r + 1, w, c,
           (double)sb.st_size / w / 1e6);
    fflush(stdout);
    if (r == 0 || w < best_wall) best_wall = w;
    if (r == 0 || c < best_cpu) best_cpu = c;
  }
  printf("bench=snapshot_load_best file=%s bytes=%lld threads=%d runs=%d "
         "wall_s=%.3f cpu_s=%.3f mb_s=%.0f\n",
         path, (long long)sb.st_size, threads, runs, best_wall, best_cpu,
         (double)sb.st_size / best_wall / 1e6);
  return 0;
}
