/* Benchmarks of model fitting and prediction through the public API.
 * Prints one machine-readable line per measurement:
 *   bench=<name> n=<rows> seconds=<best wall time> [key=value ...]
 * CDNOW timings are the best of several runs; the 10M-customer runs use
 * synthetic BG/NBD customers with continuous recency and age (no repeated
 * rows, so nothing can be merged). Usage: bench_models_fit [n_large
 * [threads]] (threads as pd_fit_options.threads, default 1; printed as
 * threads=, with the process CPU seconds of each step as cpu=). */
#include <math.h>
#include <stdint.h>
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

/* splitmix64 uniforms and Marsaglia–Tsang gammas, for the synthetic base. */
static uint64_t rng_state = 20240601u;
static double uniform(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return ((double)(z >> 11) + 0.5) * 0x1p-53;
}
static double gamma_variate(double shape) {
  if (shape < 1.0) return gamma_variate(shape + 1.0) * pow(uniform(), 1.0 / shape);
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double z = sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
    double v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    if (log(uniform()) < 0.5 * z * z + d - d * v + d * log(v)) return d * v;
  }
}

static size_t read_cdnow(const char *dir, double **x, double **tx, double **T) {
  char path[1024];
  snprintf(path, sizeof path, "%s/cdnow_customers_summary.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t cap = 4096, n = 0;
  *x = malloc(cap * sizeof **x);
  *tx = malloc(cap * sizeof **tx);
  *T = malloc(cap * sizeof **T);
  char line[256];
  if (!fgets(line, sizeof line, f)) line[0] = 0;
  while (fgets(line, sizeof line, f) && n < cap) {
    long id;
    if (sscanf(line, "%ld,%lf,%lf,%lf", &id, &(*x)[n], &(*tx)[n], &(*T)[n]) == 4) n++;
  }
  fclose(f);
  return n;
}

static void bench_cdnow(const char *dir) {
  double *x = NULL, *tx = NULL, *T = NULL;
  size_t n = read_cdnow(dir, &x, &tx, &T);
  if (n == 0) {
    printf("# CDNOW data not found in %s (set PD_DATASETS)\n", dir);
    return;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n, d.x = x, d.t_x = tx, d.T = T;
  const int32_t models[] = {PD_MODEL_BGNBD, PD_MODEL_MBGNBD, PD_MODEL_PARETONBD};
  for (size_t k = 0; k < 3; k++) {
    double best = 1e30;
    pd_fit_info info = PD_FIT_INFO_INIT;
    for (int rep = 0; rep < 20; rep++) {
      pd_fit *fit;
      if (new_fit(&fit) != PD_OK) return;
      double t0 = bench_wall_now();
      pd_status st = pd_fit_estimate(fit, models[k], &d);
      double t1 = bench_wall_now();
      if (st != PD_OK) printf("# %s: %s\n", pd_model_name(models[k]), pd_fit_errmsg(fit));
      pd_fit_get(fit, &info);
      pd_fit_free(fit);
      if (t1 - t0 < best) best = t1 - t0;
    }
    printf("bench=%s_fit_cdnow n=%zu threads=%d seconds=%.6f iterations=%d "
           "loglik=%.4f\n",
           pd_model_name(models[k]), n, (int)g_threads, best, info.iterations,
           info.log_likelihood);
  }
  free(x), free(tx), free(T);
}

/* Peak resident memory of the process so far, in bytes (Linux: KiB). */
static double peak_rss(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss * 1024.0;
}

static void bench_large(size_t n) {
  double rss0 = peak_rss();
  double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx);
  double *T = malloc(n * sizeof *T), *out = malloc(n * sizeof *out);
  if (!x || !tx || !T || !out) {
    printf("# not enough memory for n=%zu\n", n);
    return;
  }
  /* BG/NBD customers near the CDNOW estimate, ages 1..52 weeks. */
  const double r = 0.25, alpha = 4.4, a = 0.8, b = 2.4;
  for (size_t i = 0; i < n; i++) {
    double lambda = gamma_variate(r) / alpha;
    double ga = gamma_variate(a), gb = gamma_variate(b);
    double p = ga / (ga + gb);
    double age = 1.0 + 51.0 * uniform(), t = 0.0, last = 0.0;
    unsigned k = 0;
    for (;;) {
      t += -log(uniform()) / lambda;
      if (t > age) break;
      k++, last = t;
      if (uniform() < p) break;
    }
    x[i] = k, tx[i] = last, T[i] = age;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n, d.x = x, d.t_x = tx, d.T = T;
  pd_fit *fit;
  if (new_fit(&fit) != PD_OK) return;
  double c0 = bench_cpu_now(), t0 = bench_wall_now();
  pd_status st = pd_fit_estimate(fit, PD_MODEL_BGNBD, &d);
  double t1 = bench_wall_now(), c1 = bench_cpu_now();
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  printf("bench=bgnbd_fit_synthetic n=%zu threads=%d seconds=%.3f cpu=%.3f "
         "iterations=%d status=%d r=%.4f alpha=%.4f a=%.4f b=%.4f "
         "loglik=%.6f bytes_per_customer=%zu\n",
         n, (int)g_threads, t1 - t0, c1 - c0, info.iterations, (int)st,
         info.params[0], info.params[1], info.params[2], info.params[3],
         info.log_likelihood, 3 * sizeof(double));
  c0 = bench_cpu_now(), t0 = bench_wall_now();
  st = pd_predict_expected_purchases(fit, &d, 39.0, out);
  t1 = bench_wall_now(), c1 = bench_cpu_now();
  printf("bench=bgnbd_predict_expected_purchases n=%zu threads=%d seconds=%.3f "
         "cpu=%.3f status=%d\n",
         n, (int)g_threads, t1 - t0, c1 - c0, (int)st);
  c0 = bench_cpu_now(), t0 = bench_wall_now();
  st = pd_predict_p_alive(fit, &d, out);
  t1 = bench_wall_now(), c1 = bench_cpu_now();
  printf("bench=bgnbd_predict_p_alive n=%zu threads=%d seconds=%.3f cpu=%.3f "
         "status=%d\n",
         n, (int)g_threads, t1 - t0, c1 - c0, (int)st);
  /* The caller's x, t_x, T and one output column, plus whatever the fit
   * and predictions allocated at their peak. */
  printf("bench=bgnbd_memory n=%zu bytes_per_customer=%.1f\n", n,
         (peak_rss() - rss0) / (double)n);
  pd_fit_free(fit);
  free(x), free(tx), free(T), free(out);
}

int main(int argc, char **argv) {
  const char *dir = getenv("PD_DATASETS");
  if (!dir) dir = "../shared/datasets";
  size_t n_large = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000000u;
  if (argc > 2) g_threads = (int32_t)strtol(argv[2], NULL, 10);
  bench_cdnow(dir);
  if (n_large) bench_large(n_large);
  return 0;
}
