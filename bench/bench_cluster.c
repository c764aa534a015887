/* pd_store_cluster() on a loaded snapshot (issue 7: the clustering step's
 * cost at 100k, 1M and 10M users, apart from recording).
 *
 *   bench_cluster FILE [THREADS]
 *
 * Loads FILE (untimed), clusters it once on THREADS threads (default 2,
 * pd_store_set_threads()) and prints
 *
 *   bench=store_cluster file=F threads=T wall_s=W cpu_s=C
 *   peak_rss_mb=M
 *
 * peak_rss_mb is the process's peak resident size (load included). Run it
 * several times, interleaved with the build it is compared to: the first
 * touch of memory on a VM varies by several times from run to run. A
 * failure prints the status and the message and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <privdomain/privdomain.h>

#include "bench_load.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_cluster FILE [THREADS]\n");
    return 2;
  }
  const char *path = argv[1];
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  pd_store *s;
  double load_w, load_c; /* untimed here */
  if (bench_load("bench_cluster", path, threads, &s, &load_w, &load_c) !=
      PD_OK)
    return 1;
  pd_status st = pd_store_set_threads(s, threads);
  double w0 = bench_wall_now(), c0 = bench_cpu_now();
  if (st == PD_OK) st = pd_store_cluster(s);
  double w = bench_wall_now() - w0, c = bench_cpu_now() - c0;
  if (st != PD_OK) {
    fprintf(stderr, "bench_cluster: status %d: %s\n", (int)st,
            pd_store_errmsg(s));
    pd_store_free(s);
    return 1;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("bench=store_cluster file=%s threads=%d wall_s=%.3f cpu_s=%.3f "
         "peak_rss_mb=%ld\n",
         path, threads, w, c, ru.ru_maxrss / 1024);
  pd_store_free(s);
  return 0;
}
