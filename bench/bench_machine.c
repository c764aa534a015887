/* bench_machine — what this machine's memory costs, without the library:
 * the floor under pdbench's 10M-user figures.
 *
 *   bench_machine [GB]     (default 4; needs about 2 × GB of free memory)
 *
 * Prints one line per figure:
 *   bench=machine figure=<name> gb=<GB> threads=<T> seconds=<s> value=<v>
 *         unit=<u>
 * fresh_write      writing a block just mapped (every page faults in), in
 *                  seconds per GB, on 1 and 2 threads (each after 20 s
 *                  idle, so that no earlier block's pages are reused);
 * rewrite          writing the same block again (no faults);
 * fresh_after_free a block mapped at once after the last one was
 *                  unmapped: on a guest that hands free memory back to
 *                  its host only after a while, cheaper than new;
 * random_read      independent 64-byte reads at random over the block, 32
 *                  in flight per thread (as the metrics' prefetching
 *                  scans), on 2 threads, in nanoseconds per read and
 *                  thread, at once after the block was written;
 * random_read_after_idle
 *                  the same reads of the same block after IDLE_S seconds
 *                  of doing nothing: nothing changed in the process, so a
 *                  difference from random_read is the host's doing (on
 *                  the guest these figures were taken on it has been
 *                  anything from equal to seven times slower).
 * A store of 10M users holds 9-11 GB, so loading or recording it costs at
 * least fresh_write × 10 s on its threads, and a metric that reads 150M
 * touchpoints at random at least 150M × random_read / 2. */
#define _DEFAULT_SOURCE 1
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_clock.h"

#define THREADS 2
#define IN_FLIGHT 32
#define READS_PER_THREAD ((size_t)50 << 20)
#define IDLE_S 120

typedef struct part {
  unsigned char *p;
  size_t bytes;
  uint64_t seed, sum;
} part;

static unsigned char *map(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE); /* as the store's large arrays */
#endif
  return p;
}

static void *write_part(void *arg) {
  part *w = arg;
  memset(w->p, 1, w->bytes);
  return NULL;
}

/* Seconds to write [p, p + bytes) on `threads` threads. */
static double write_on(unsigned char *p, size_t bytes, int threads) {
  part w[THREADS];
  pthread_t t[THREADS];
  size_t each = bytes / (size_t)threads;
  double t0 = bench_wall_now();
  for (int k = 0; k < threads; k++) {
    w[k].p = p + (size_t)k * each;
    w[k].bytes = k + 1 == threads ? bytes - (size_t)k * each : each;
    if (k > 0 && pthread_create(&t[k], NULL, write_part, &w[k]) != 0)
      write_part(&w[k]);
  }
  write_part(&w[0]);
  for (int k = 1; k < threads; k++) pthread_join(t[k], NULL);
  return bench_wall_now() - t0;
}

static volatile uint64_t read_sink;

static uint64_t next_random(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *read_part(void *arg) {
  part *r = arg;
  size_t lines = r->bytes / 64, ring[IN_FLIGHT];
  uint64_t s = r->seed, sum = 0;
  for (int k = 0; k < IN_FLIGHT; k++) ring[k] = next_random(&s) % lines;
  for (size_t i = 0; i < READS_PER_THREAD; i++) {
    size_t slot = i % IN_FLIGHT, line = ring[slot];
    sum += r->p[line * 64];
    line = next_random(&s) % lines;
    __builtin_prefetch(r->p + line * 64);
    ring[slot] = line;
  }
  r->sum = sum;
  return NULL;
}

/* Seconds for READS_PER_THREAD random reads of [p, p + bytes) on each of
 * THREADS threads. */
static double read_on(unsigned char *p, size_t bytes) {
  part r[THREADS];
  pthread_t t[THREADS];
  double t0 = bench_wall_now();
  for (int k = 0; k < THREADS; k++) {
    r[k] = (part){p, bytes, 0x9E3779B97F4A7C15ull * (uint64_t)(k + 1), 0};
    if (k > 0 && pthread_create(&t[k], NULL, read_part, &r[k]) != 0)
      read_part(&r[k]);
  }
  read_part(&r[0]);
  for (int k = 1; k < THREADS; k++) pthread_join(t[k], NULL);
  double s = bench_wall_now() - t0;
  for (int k = 0; k < THREADS; k++) read_sink += r[k].sum; /* keep them */
  return s;
}

static void line(const char *figure, size_t gb, int threads, double seconds,
                 double value, const char *unit) {
  printf("bench=machine figure=%s gb=%zu threads=%d seconds=%.3f "
         "value=%.4g unit=%s\n",
         figure, gb, threads, seconds, value, unit);
  fflush(stdout);
}

int main(int argc, char **argv) {
  size_t gb = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 4;
  if (gb == 0 || gb > 64) {
    fprintf(stderr, "usage: bench_machine [GB]   (1..64, default 4)\n");
    return 2;
  }
  size_t bytes = gb << 30;
  for (int threads = 1; threads <= THREADS; threads++) {
    sleep(20); /* what the last block freed is handed back meanwhile */
    unsigned char *p = map(bytes);
    if (!p) return perror("mmap"), 1;
    double fresh = write_on(p, bytes, threads);
    line("fresh_write", gb, threads, fresh, fresh / (double)gb, "s/GB");
    double again = write_on(p, bytes, threads);
    line("rewrite", gb, threads, again, again / (double)gb, "s/GB");
    if (threads == THREADS) {
      double s = read_on(p, bytes);
      line("random_read", gb, THREADS, s, s * 1e9 / (double)READS_PER_THREAD,
           "ns/read");
      sleep(IDLE_S);
      s = read_on(p, bytes);
      line("random_read_after_idle", gb, THREADS, s,
           s * 1e9 / (double)READS_PER_THREAD, "ns/read");
    }
    munmap(p, bytes);
  }
  unsigned char *p = map(bytes);
  if (!p) return perror("mmap"), 1;
  double s = write_on(p, bytes, 1);
  line("fresh_after_free", gb, 1, s, s / (double)gb, "s/GB");
  munmap(p, bytes);
  return 0;
}
