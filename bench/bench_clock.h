/* The clocks the benchmarks time with (POSIX). */
#ifndef PD_BENCH_CLOCK_H
#define PD_BENCH_CLOCK_H

#include <sys/resource.h>
#include <time.h>

/* Elapsed seconds on a monotonic clock. */
static inline double bench_wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The process's CPU seconds, user and system, over all its threads. */
static inline double bench_cpu_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

#endif
