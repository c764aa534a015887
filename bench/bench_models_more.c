/* Benchmarks of the spend, BG/BB, sBG and CLV models through the public
 * API. Prints one machine-readable line per measurement:
 *   bench=<name> n=<rows> seconds=<wall> [per_second=<rows/s>] [extra=...]
 * Usage: bench_models_more [customers [threads]]   (default 10,000,000
 * and 1; threads as pd_fit_options.threads, printed as threads=, with the
 * process CPU seconds of each step as cpu=)
 * The CDNOW and donations fits read $PD_DATASETS (default
 * ../shared/datasets) and are skipped with a line saying so when absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <privdomain/privdomain.h>

#include "bench_clock.h"

static int32_t g_threads = 1;

/* A fit with the benchmark's thread count. */
static pd_status new_fit(pd_fit **fit) {
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  o.threads = g_threads;
  return pd_fit_new(&o, fit);
}

static FILE *dataset(const char *name) {
  const char *dir = getenv("PD_DATASETS");
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared/datasets", name);
  FILE *f = fopen(path, "r");
  if (!f) printf("bench=%s skipped=missing_data\n", name);
  return f;
}

static void check(pd_status st, pd_fit *fit, const char *what) {
  if (st != PD_OK) {
    fprintf(stderr, "%s: %s: %s\n", what, pd_status_str(st),
            pd_fit_errmsg(fit));
    exit(1);
  }
}

static void fit_cdnow_spend(void) {
  FILE *f = dataset("cdnow_customers_summary_with_transactions.csv");
  if (!f) return;
  static double x[4000], tx[4000], T[4000], m[4000];
  char line[256];
  size_t n = 0;
  int id;
  if (!fgets(line, sizeof line, f)) return;
  while (n < 4000 &&
         fscanf(f, "%d,%lf,%lf,%lf,%lf", &id, &x[n], &tx[n], &T[n], &m[n]) == 5)
    n++;
  fclose(f);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  d.monetary = m;
  pd_fit *fit;
  check(new_fit(&fit), NULL, "pd_fit_new");
  enum { REPS = 50 };
  double t0 = bench_wall_now();
  for (int r = 0; r < REPS; r++)
    check(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), fit, "gammagamma");
  double sec = (bench_wall_now() - t0) / REPS;
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  printf("bench=gammagamma_fit_cdnow n=%.0f threads=%d seconds=%.6f "
         "iterations=%d p=%.4f q=%.4f gamma=%.4f\n",
         info.n_customers, (int)g_threads, sec, info.iterations, info.params[0],
         info.params[1], info.params[2]);
  pd_fit_free(fit);
}

static void fit_donations(void) {
  FILE *f = dataset("donations.csv");
  if (!f) return;
  double x[64], tx[64], T[64], w[64];
  char line[256];
  size_t n = 0;
  if (!fgets(line, sizeof line, f)) return;
  while (n < 64 && fscanf(f, "%lf,%lf,%lf,%lf", &x[n], &tx[n], &T[n], &w[n]) == 4)
    n++;
  fclose(f);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  d.weight = w;
  pd_fit *fit;
  check(new_fit(&fit), NULL, "pd_fit_new");
  enum { REPS = 50 };
  double t0 = bench_wall_now();
  for (int r = 0; r < REPS; r++)
    check(pd_fit_estimate(fit, PD_MODEL_BGBB, &d), fit, "bgbb");
  double sec = (bench_wall_now() - t0) / REPS;
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  printf("bench=bgbb_fit_donations n=%zu threads=%d weight=%.0f seconds=%.6f "
         "iterations=%d\n", n, (int)g_threads, info.n_customers, sec,
         info.iterations);
  pd_fit_free(fit);
}

static void fit_sbg(void) {
  const double regular[8] = {1000, 631, 468, 382, 326, 289, 262, 241};
  pd_fit *fit;
  check(new_fit(&fit), NULL, "pd_fit_new");
  enum { REPS = 1000 };
  double t0 = bench_wall_now();
  for (int r = 0; r < REPS; r++)
    check(pd_fit_estimate_sbg(fit, regular, 8), fit, "sbg");
  double sec = (bench_wall_now() - t0) / REPS;
  double derl;
  t0 = bench_wall_now();
  for (int r = 0; r < REPS; r++)
    check(pd_retention_derl(fit, 0.1, (uint32_t)(r % 10), &derl), fit, "derl");
  double dsec = (bench_wall_now() - t0) / REPS;
  printf("bench=sbg_fit_regular n=8 threads=%d seconds=%.7f\n",
         (int)g_threads, sec);
  printf("bench=sbg_derl n=1 threads=%d seconds=%.8f\n", (int)g_threads,
         dsec);
  pd_fit_free(fit);
}

/* Deterministic synthetic CDNOW-like customers. */
static void synth(size_t n, double *x, double *tx, double *T, double *m) {
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    double u = (double)(s >> 11) * 0x1p-53;
    T[i] = 27.0 + floor(u * 12.0 * 7.0) / 7.0;
    x[i] = floor(u * 1000.0) < 600 ? 0.0 : (double)((s >> 20) % 12 + 1);
    tx[i] = x[i] > 0 ? T[i] * (0.2 + 0.8 * (double)((s >> 40) % 1000) / 1000.0)
                     : 0.0;
    m[i] = x[i] > 0 ? 5.0 + (double)((s >> 30) % 5000) / 50.0 : 0.0;
  }
}

static double cpu_mark;

static void report(const char *name, size_t n, double sec) {
  double c = bench_cpu_now();
  printf("bench=%s n=%zu threads=%d seconds=%.4f cpu=%.4f per_second=%.0f\n",
         name, n, (int)g_threads, sec, c - cpu_mark, (double)n / sec);
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000000u;
  if (argc > 2) g_threads = (int32_t)strtol(argv[2], NULL, 10);
  fit_cdnow_spend();
  fit_donations();
  fit_sbg();
  if (n == 0) return 0;

  double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx);
  double *T = malloc(n * sizeof *T), *m = malloc(n * sizeof *m);
  double *out = malloc(n * sizeof *out);
  if (!x || !tx || !T || !m || !out) {
    fprintf(stderr, "out of memory for %zu customers\n", n);
    return 1;
  }
  synth(n, x, tx, T, m);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  d.monetary = m;

  pd_fit *gg, *bg, *pn, *bb;
  const double ggp[3] = {6.25, 3.74, 15.44};
  const double bgp[4] = {0.243, 4.414, 0.793, 2.426};
  const double pnp[4] = {0.553, 10.578, 0.606, 11.669};
  const double bbp[4] = {1.204, 0.750, 0.657, 2.783};
  check(new_fit(&gg), NULL, "new");
  check(new_fit(&bg), NULL, "new");
  check(new_fit(&pn), NULL, "new");
  check(new_fit(&bb), NULL, "new");
  check(pd_fit_set_params(gg, PD_MODEL_GAMMAGAMMA, ggp, 3), gg, "set");
  check(pd_fit_set_params(bg, PD_MODEL_BGNBD, bgp, 4), bg, "set");
  check(pd_fit_set_params(pn, PD_MODEL_PARETONBD, pnp, 4), pn, "set");
  check(pd_fit_set_params(bb, PD_MODEL_BGBB, bbp, 4), bb, "set");

  cpu_mark = bench_cpu_now();
  double t0 = bench_wall_now();
  check(pd_predict_expected_spend(gg, &d, out), gg, "spend");
  report("gammagamma_expected_spend", n, bench_wall_now() - t0);

  cpu_mark = bench_cpu_now();
  t0 = bench_wall_now();
  check(pd_predict_clv(bg, gg, &d, 12, 0.01, 4.345, out), bg, "clv");
  report("clv_bgnbd_12_months", n, bench_wall_now() - t0);

  cpu_mark = bench_cpu_now();
  t0 = bench_wall_now();
  check(pd_predict_dert(pn, &d, log(1.15) / 52, out), pn, "dert");
  report("dert_paretonbd", n, bench_wall_now() - t0);

  /* BG/BB histories: whole opportunities out of 6. */
  for (size_t i = 0; i < n; i++) {
    T[i] = 6;
    x[i] = (double)(i % 7 > 6 ? 6 : i % 7);
    tx[i] = x[i] > 0 ? (x[i] + (double)(i % 3) > 6 ? 6 : x[i] + (double)(i % 3))
                     : 0;
  }
  cpu_mark = bench_cpu_now();
  t0 = bench_wall_now();
  check(pd_predict_p_alive(bb, &d, out), bb, "bgbb alive");
  report("bgbb_p_alive", n, bench_wall_now() - t0);
  cpu_mark = bench_cpu_now();
  t0 = bench_wall_now();
  check(pd_predict_expected_purchases(bb, &d, 5, out), bb, "bgbb expected");
  report("bgbb_expected_purchases", n, bench_wall_now() - t0);

  pd_fit_free(gg);
  pd_fit_free(bg);
  pd_fit_free(pn);
  pd_fit_free(bb);
  free(x);
  free(tx);
  free(T);
  free(m);
  free(out);
  return 0;
}
