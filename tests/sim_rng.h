/* A small deterministic random number generator for simulate-and-recover
 * tests: splitmix64 uniforms, Marsaglia–Tsang gamma variates and beta
 * variates as a ratio of gammas. Header-only so each test stays
 * self-contained; not part of the library. */
#ifndef PD_TESTS_SIM_RNG_H
#define PD_TESTS_SIM_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct sim_rng {
  uint64_t state;
} sim_rng;

static inline uint64_t sim_next(sim_rng *r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform on (0, 1): never exactly 0 or 1, so logs are finite. */
static inline double sim_uniform(sim_rng *r) {
  return ((double)(sim_next(r) >> 11) + 0.5) * 0x1p-53;
}

static inline double sim_normal(sim_rng *r) {
  double u = sim_uniform(r), v = sim_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Gamma(shape, 1); shapes below 1 use the u^(1/shape) boost. */
static inline double sim_gamma(sim_rng *r, double shape) {
  if (shape < 1.0)
    return sim_gamma(r, shape + 1.0) * pow(sim_uniform(r), 1.0 / shape);
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double z = sim_normal(r), v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = sim_uniform(r);
    if (log(u) < 0.5 * z * z + d - d * v + d * log(v)) return d * v;
  }
}

static inline double sim_beta(sim_rng *r, double a, double b) {
  double x = sim_gamma(r, a), y = sim_gamma(r, b);
  return x / (x + y);
}

#endif
