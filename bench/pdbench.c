/* pdbench — the benchmark suite of issue 7: a realistic private domain
 * from bench/domain_gen (users, seed) recorded into a store, then every
 * figure of the library measured on it.
 *
 *   pdbench --users N [--threads T] [--only GROUP[,GROUP]] [--seed S]
 *           [--tmpdir DIR] [--batch B] [--no-reserve]
 *           [--figures NAME[,NAME]] [--snapshot PATH] [--repeat R]
 *           [--no-cluster] [--spare-limit BYTES]
 *
 * Recording reserves room first (pd_store_reserve: the users, and per
 * kind the events estimated from a 1/64 sample of the users, as a bulk
 * load that knows its counts would): the documented fastest way.
 * --no-reserve records into a store that grows as it goes.
 *
 * The metrics group first clusters the store (pd_store_cluster, timed as
 * metrics figure store_cluster, whatever --figures says): the documented
 * step after a bulk load that lays each user's events side by side.
 * --no-cluster measures the metrics on the store in arrival order.
 * --spare-limit sets pd_store_set_spare_limit() (default -1, the
 * library's automatic limit; 0 keeps no freed working memory).
 *
 * Groups (all but gen run by default, in this order): gen (the generator
 * alone), record, memory, metrics, models, aggregates (mergeable partial
 * figures: compute, and save + load + merge), persist. Every group but gen
 * needs the recorded store, so it is recorded even when record is not
 * asked for (without printing its figures).
 *
 * --figures runs only the named figures of the chosen groups. --snapshot
 * is for profiling one figure at 10M without recording 200M events each
 * time: the first run records the store and saves it to PATH, later runs
 * (same --users and --seed) load it instead of recording. The record,
 * memory and models groups need the recording itself and refuse it.
 * --repeat R runs each chosen figure of the metrics, models and
 * aggregates groups R times (one line each), to see how much a figure
 * varies from run to run on the same store.
 *
 * Every measurement prints one line:
 *   pdbench group=<g> figure=<name> users=<N> events=<E> threads=<T>
 *           wall_s=<x> cpu_s=<y> minflt=<m> majflt=<j>
 *           [value=<v> unit=<u>]
 *           [target=<t> target_unit=<s|unit of value> ok=<0|1>]
 * wall_s is elapsed time, cpu_s the process's CPU time (user + system) in
 * the same span: on a busy machine compare cpu_s. minflt and majflt are
 * the process's page faults in that span (minor: memory given or zeroed;
 * major: read from disk), to tell a figure's fresh memory from its work.
 * A target is a time in
 * seconds (target_unit=s) or a bound on the value (target_unit = its
 * unit: events/s, MB/s and bytes/event). ok says whether the target is
 * met, judging a time by
 * min(wall_s, cpu_s) (on a shared machine, a single-threaded figure's CPU
 * time is what it would take alone; for a threaded one the wall time is
 * the smaller and is used). Targets are those of issue 7 at 10M users and
 * 200M events; the record target scales with the events (60 s per 200M).
 * Failures print `pdbench ... error=<status> msg="..."` to stderr and make
 * the exit status 1; the other figures still run.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <privdomain/privdomain.h>

#include "domain_gen.h"

#define DAY INT64_C(86400)
#define BATCH_MAX 65536

/* ---- clocks ------------------------------------------------------------- */

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set of the process in bytes (Linux VmHWM; 0 elsewhere). */
static double peak_rss(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kb = 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtod(line + 6, NULL);
  fclose(f);
  return kb * 1024.0;
}

/* Page faults of the process so far: minor (a page given or zeroed, no
 * I/O) and major (read from a file). 0 where getrusage fails. */
static void page_faults(long *minor, long *major) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) ru.ru_minflt = ru.ru_majflt = 0;
  *minor = ru.ru_minflt, *major = ru.ru_majflt;
}

/* ---- the run's state ------------------------------------------------------ */

typedef struct ctx {
  uint64_t users, seed;
  int32_t threads;
  size_t batch;
  int reserve;                /* pd_store_reserve before recording */
  uint64_t expect[13];        /* events per kind to reserve room for */
  const char *tmpdir;
  pd_store *s;
  pdg *gen; /* kept for the chain's shape (shops, guides, period) */
  uint64_t events;
  int64_t t0, as_of;
  uint64_t mem_empty, mem_setup, mem_recorded;
  double gen_wall, gen_cpu; /* generator time inside record_batch */
  double rss_before_store;
  /* Orders as transactions, for the summary built from them. */
  uint32_t *ord_user;
  int64_t *ord_time;
  double *ord_amount;
  size_t n_orders, cap_orders;
  int keep_orders;
  pd_metrics_filter f;
  pd_store_summary *value;
  pd_summary *sum;
  pd_customer_data d;  /* per-customer rows of sum */
  pd_customer_data bb; /* the same as BG/BB histories */
  double *bb_cols;
  pd_fit *fit[7]; /* indexed by PD_MODEL_* */
  double *out, *out2;
  double survivors[32];
  size_t n_survivors;
  int failed;
} ctx;

/* What a figure reports beyond its times. */
typedef struct result {
  double value;
  const char *unit;
  int has_value;
  double target;     /* 0 = none */
  int higher_better; /* the target is a minimum of value */
} result;

static ctx C;
static const char *only_figures; /* --figures, NULL = all */
static int repeat = 1;           /* --repeat: runs of each figure */
static int64_t spare_limit = PD_SPARE_AUTO; /* --spare-limit */

static void fail_line(const char *group, const char *name, pd_status st,
                      const char *msg) {
  fprintf(stderr, "pdbench group=%s figure=%s users=%llu error=%d msg=\"%s\"\n",
          group, name, (unsigned long long)C.users, (int)st,
          msg ? msg : pd_status_str(st));
  C.failed = 1;
}

typedef pd_status (*figure_fn)(result *r, const char **msg);

typedef struct figure {
  const char *group, *name;
  figure_fn fn;
  double target_s; /* time target in seconds, 0 = none */
} figure;

static int wanted(const char *list, const char *name);

/* Time one figure and print its line. */
static void run_figure_once(const figure *fg) {
  result r = {0, NULL, 0, 0, 0};
  const char *msg = NULL;
  long min0, maj0, min1, maj1;
  page_faults(&min0, &maj0);
  double c0 = cpu_now(), w0 = wall_now();
  pd_status st = fg->fn(&r, &msg);
  double w = wall_now() - w0, c = cpu_now() - c0;
  page_faults(&min1, &maj1);
  if (st != PD_OK && st != PD_REPLAYED) {
    fail_line(fg->group, fg->name, st, msg);
    return;
  }
  printf("pdbench group=%s figure=%s users=%llu events=%llu threads=%d "
         "wall_s=%.4f cpu_s=%.4f minflt=%ld majflt=%ld",
         fg->group, fg->name, (unsigned long long)C.users,
         (unsigned long long)C.events, (int)C.threads, w, c, min1 - min0,
         maj1 - maj0);
  if (r.has_value) printf(" value=%.6g unit=%s", r.value, r.unit);
  double t = w < c ? w : c;
  if (r.target > 0) {
    int ok = r.higher_better ? r.value >= r.target : r.value <= r.target;
    printf(" target=%.6g target_unit=%s ok=%d", r.target, r.unit, ok);
  } else if (fg->target_s > 0) {
    printf(" target=%.6g target_unit=s ok=%d", fg->target_s, t <= fg->target_s);
  }
  printf("\n");
  fflush(stdout);
}

/* The figure, if --figures chose it; --repeat times if it only reads the
 * store. */
static void run_figure(const figure *fg) {
  if (only_figures && !wanted(only_figures, fg->name)) return;
  int runs = !strcmp(fg->group, "metrics") || !strcmp(fg->group, "models") ||
                     !strcmp(fg->group, "aggregates")
                 ? repeat
                 : 1;
  for (int k = 0; k < runs; k++) run_figure_once(fg);
}

static void set_value(result *r, double v, const char *unit) {
  r->value = v, r->unit = unit, r->has_value = 1;
}

/* What the store holds: its live blocks and the freed ones it keeps for
 * later computations (pd_store_set_spare_limit()), so that the memory
 * figures count everything the store takes from the allocator. */
static uint64_t store_memory(void) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  if (pd_store_get_stats(C.s, &st) != PD_OK) return 0;
  return st.memory_bytes + st.spare_bytes;
}

/* ---- gen: the generator alone ---------------------------------------------- */

static int32_t kinds[BATCH_MAX];
static pdg_record recs[BATCH_MAX];
static const void *ptrs[BATCH_MAX];
static pd_status stats[BATCH_MAX];

static pd_status fig_generate(result *r, const char **msg) {
  pdg *g = pdg_new(C.users, C.seed);
  if (!g) return *msg = "generator: out of memory", PD_E_NOMEM;
  size_t n, peak = 0;
  uint64_t total = 0;
  while ((n = pdg_next(g, C.batch, kinds, recs, ptrs)) > 0) {
    total += n;
    size_t m = pdg_memory(g);
    if (m > peak) peak = m;
  }
  int bad = pdg_failed(g);
  pdg_free(g);
  if (bad) return *msg = "generator: out of memory", PD_E_NOMEM;
  if (!C.events) C.events = total;
  set_value(r, (double)peak / (double)C.users, "generator_bytes_per_user");
  return PD_OK;
}

/* ---- record ----------------------------------------------------------------- */

static pd_status fig_setup(result *r, const char **msg) {
  pd_status st = pd_store_new(NULL, &C.s);
  if (st) return st;
  C.mem_empty = store_memory();
  /* Before the reservations: they take their page faults on the store's
   * threads. */
  pd_store_set_threads(C.s, C.threads);
  pd_store_set_spare_limit(C.s, spare_limit);
  /* A bulk load knows how many users it brings (the 30% with a second
   * identity grow the identity tables as they come). */
  if (C.reserve && (st = pd_store_reserve(C.s, PD_RESERVE_USERS, C.users)))
    return *msg = pd_store_errmsg(C.s), st;
  st = pdg_setup_store(C.gen, C.s);
  if (st) return *msg = pd_store_errmsg(C.s), st;
  C.mem_setup = store_memory();
  set_value(r, (double)C.users, "users");
  return PD_OK;
}

static void keep_order(const pd_order *o) {
  if (C.n_orders == C.cap_orders) {
    size_t cap = C.cap_orders ? 2 * C.cap_orders : 1 << 16;
    uint32_t *u = realloc(C.ord_user, cap * sizeof *u);
    if (u) C.ord_user = u;
    int64_t *t = realloc(C.ord_time, cap * sizeof *t);
    if (t) C.ord_time = t;
    double *a = realloc(C.ord_amount, cap * sizeof *a);
    if (a) C.ord_amount = a;
    if (!u || !t || !a) {
      C.keep_orders = 0;
      return;
    }
    C.cap_orders = cap;
  }
  C.ord_user[C.n_orders] = (uint32_t)o->user;
  C.ord_time[C.n_orders] = o->time;
  C.ord_amount[C.n_orders++] = (double)o->amount / 100.0;
}

/* Events per kind to expect, from a 1/64 sample of the users scaled up
 * with 2% to spare: what a bulk load of an existing system knows from its
 * own counts. Not timed (run before the figure). */
static void estimate_counts(void) {
  uint64_t sample = C.users / 64 > 1000 ? C.users / 64 : C.users;
  pdg *g = pdg_new(sample, C.seed);
  if (!g) return;
  while (pdg_next(g, C.batch, kinds, recs, ptrs) != 0) {}
  const pdg_counts *n = pdg_get_counts(g);
  for (int k = 1; k < 13; k++)
    C.expect[k] = (uint64_t)((double)n->by_kind[k] * (double)C.users /
                             (double)sample * 1.02) + 16;
  pdg_free(g);
}

/* Every generated event into the store, C.batch per pd_record_events,
 * after pd_store_reserve() for the expected counts (timed with it). */
static pd_status fig_record_batch(result *r, const char **msg) {
  if (C.reserve) {
    /* The total first, so that the event-id index is built once at its
     * full size rather than again for each kind's reservation. */
    uint64_t expected = 0;
    for (int k = 1; k < 13; k++) expected += C.expect[k];
    if (pd_store_reserve(C.s, 0, expected) != PD_OK)
      return *msg = pd_store_errmsg(C.s), PD_E_NOMEM;
    for (int k = 1; k < 13; k++)
      if (C.expect[k] && pd_store_reserve(C.s, k, C.expect[k]) != PD_OK)
        return *msg = pd_store_errmsg(C.s), PD_E_NOMEM;
  }
  pdg *g = pdg_new(C.users, C.seed);
  if (!g) return *msg = "generator: out of memory", PD_E_NOMEM;
  size_t n;
  uint64_t total = 0;
  pd_status bad = PD_OK;
  for (;;) {
    double gw = wall_now(), gc = cpu_now();
    n = pdg_next(g, C.batch, kinds, recs, ptrs);
    C.gen_wall += wall_now() - gw, C.gen_cpu += cpu_now() - gc;
    if (n == 0) break;
    pd_status st = pd_record_events(C.s, n, kinds, ptrs, stats);
    if (st != PD_OK && bad == PD_OK) {
      bad = st;
      *msg = pd_store_errmsg(C.s);
      fprintf(stderr, "pdbench: event %llu: %s\n",
              (unsigned long long)(total + 1), *msg);
    }
    if (C.keep_orders)
      for (size_t i = 0; i < n; i++)
        if (kinds[i] == PD_EVENT_ORDER) keep_order(&recs[i].order);
    total += n;
  }
  if (pdg_failed(g)) bad = PD_E_NOMEM, *msg = "generator: out of memory";
  pdg_free(g);
  C.events = total;
  C.mem_recorded = store_memory();
  set_value(r, (double)total, "events");
  return bad;
}

/* The first min(E, 2M) events, one pd_record_* call each, into a fresh
 * store (the single-call path a POS takes). */
static pd_status record_one(pd_store *s, int32_t kind, const pdg_record *x) {
  switch (kind) {
    case PD_EVENT_LINK: return pd_record_link(s, &x->link);
    case PD_EVENT_UNLINK: return pd_record_unlink(s, &x->unlink);
    case PD_EVENT_TOUCHPOINT: return pd_record_touchpoint(s, &x->touch);
    case PD_EVENT_ORDER: return pd_record_order(s, &x->order);
    case PD_EVENT_REFUND: return pd_record_refund(s, &x->refund);
    case PD_EVENT_REFERRAL: return pd_record_referral(s, &x->referral);
    case PD_EVENT_GUIDE_BIND: return pd_record_guide_bind(s, &x->bind);
    case PD_EVENT_GUIDE_HANDOVER: return pd_record_guide_handover(s, &x->handover);
    case PD_EVENT_GUIDE_DEACTIVATE:
      return pd_record_guide_deactivate(s, &x->deactivate);
    case PD_EVENT_REACH: return pd_record_reach(s, &x->reach);
    case PD_EVENT_COST: return pd_record_cost(s, &x->cost);
    default: return pd_record_consent(s, &x->consent);
  }
}

static uint64_t single_events(void) {
  return C.events && C.events < 2000000 ? C.events : 2000000;
}

/* Not timed by the figure: a fresh store with the chain and users. */
static pd_store *fresh_store(const char **msg) {
  pd_store *s = NULL;
  if (pd_store_new(NULL, &s) != PD_OK) return *msg = "store", NULL;
  if (pdg_setup_store(C.gen, s) != PD_OK) {
    *msg = "setup";
    pd_store_free(s);
    return NULL;
  }
  return s;
}

/* Made before the figure is timed (main), so it measures recording only. */
static pd_store *single_store;

static pd_status fig_record_single(result *r, const char **msg) {
  if (!single_store) return *msg = "no store", PD_E_NOMEM;
  pdg *g = pdg_new(C.users, C.seed);
  if (!g) return *msg = "generator: out of memory", PD_E_NOMEM;
  uint64_t want = single_events(), done = 0;
  pd_status bad = PD_OK;
  C.events = want;
  while (done < want) {
    size_t n = pdg_next(g, 1, kinds, recs, ptrs);
    if (n == 0) break;
    pd_status st = record_one(single_store, kinds[0], &recs[0]);
    if (st != PD_OK && bad == PD_OK) bad = st, *msg = pd_store_errmsg(single_store);
    done++;
  }
  pdg_free(g);
  C.events = done; /* the line reports the events of this store */
  set_value(r, (double)done, "events");
  return bad;
}

/* A slice of events again: every one must replay (idempotency cost). */
static pd_status fig_replay_batch(result *r, const char **msg) {
  pdg *g = pdg_new(C.users, C.seed);
  if (!g) return *msg = "generator: out of memory", PD_E_NOMEM;
  uint64_t want = single_events(), done = 0;
  pd_status bad = PD_OK;
  while (done < want) {
    size_t max = want - done < C.batch ? (size_t)(want - done) : C.batch;
    size_t n = pdg_next(g, max, kinds, recs, ptrs);
    if (n == 0) break;
    pd_record_events(C.s, n, kinds, ptrs, stats);
    for (size_t i = 0; i < n; i++)
      if (stats[i] != PD_REPLAYED && bad == PD_OK)
        bad = stats[i] ? stats[i] : PD_E_INVALID,
        *msg = "an event did not replay";
    done += n;
  }
  pdg_free(g);
  set_value(r, (double)done, "events");
  return bad;
}

/* ---- memory ------------------------------------------------------------------- */

static pd_status fig_bytes_per_event(result *r, const char **msg) {
  (void)msg;
  set_value(r, (double)(C.mem_recorded - C.mem_setup) / (double)C.events,
            "bytes/event");
  r->target = 48;
  return PD_OK;
}
static pd_status fig_bytes_per_user(result *r, const char **msg) {
  (void)msg;
  set_value(r, (double)(C.mem_setup - C.mem_empty) / (double)C.users,
            "bytes/user");
  return PD_OK;
}
static pd_status fig_store_bytes(result *r, const char **msg) {
  (void)msg;
  set_value(r, (double)store_memory(), "bytes");
  return PD_OK;
}
static pd_status fig_peak_rss(result *r, const char **msg) {
  (void)msg;
  set_value(r, peak_rss(), "bytes");
  return PD_OK;
}

/* ---- metrics ---------------------------------------------------------------------- */

#define S_MSG (*msg = pd_store_errmsg(C.s))

static pd_status fig_store_cluster(result *r, const char **msg) {
  pd_status st = pd_store_cluster(C.s);
  if (st) return S_MSG, st;
  (void)r;
  return PD_OK;
}

static pd_status fig_trust_distribution(result *r, const char **msg) {
  pd_trust_distribution td = PD_TRUST_DISTRIBUTION_INIT;
  pd_status st = pd_trust_distribution_get(C.s, &C.f, NULL, &td);
  if (st) return S_MSG, st;
  set_value(r, td.mean_score, "mean_score");
  return PD_OK;
}

/* Per-user calls on a sample of users spread over the ids. */
static uint64_t sample_n(void) { return C.users < 100000 ? C.users : 100000; }
static pd_user_id sample_user(uint64_t i) {
  return (pd_user_id)(1 + i * (C.users / sample_n()));
}

static pd_status fig_trust_user(result *r, const char **msg) {
  uint64_t n = sample_n();
  for (uint64_t i = 0; i < n; i++) {
    pd_trust t = PD_TRUST_INIT;
    pd_status st = pd_trust_user(C.s, sample_user(i), 0, C.as_of, NULL, &t);
    if (st) return S_MSG, st;
  }
  set_value(r, (double)n, "calls");
  return PD_OK;
}

static pd_status fig_user_get(result *r, const char **msg) {
  uint64_t n = sample_n();
  for (uint64_t i = 0; i < n; i++) {
    pd_user_info u = PD_USER_INFO_INIT;
    pd_status st = pd_user_get(C.s, sample_user(i), C.as_of, &u);
    if (st) return S_MSG, st;
  }
  set_value(r, (double)n, "calls");
  return PD_OK;
}

static pd_status fig_pressure(result *r, const char **msg) {
  pd_pressure_stats ps = PD_PRESSURE_STATS_INIT;
  pd_status st = pd_pressure_stats_get(C.s, &C.f, 7 * DAY, NULL, &ps);
  if (st) return S_MSG, st;
  set_value(r, ps.mean, "pushes_per_user_week");
  return PD_OK;
}

static pd_status fig_contact_check(result *r, const char **msg) {
  uint64_t n = sample_n(), allowed = 0;
  for (uint64_t i = 0; i < n; i++) {
    pd_contact_verdict v = PD_CONTACT_VERDICT_INIT;
    pd_status st = pd_contact_check(C.s, sample_user(i), PD_CHANNEL_WECOM,
                                    PD_PURPOSE_PROMOTION, C.as_of, NULL, &v);
    if (st) return S_MSG, st;
    allowed += (uint64_t)v.allowed;
  }
  set_value(r, (double)allowed, "allowed");
  return PD_OK;
}

static pd_status fig_store_summary(result *r, const char **msg) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = C.as_of - 1;
  spec.unit = PD_TIME_UNIT_WEEK;
  pd_status st = pd_store_summary_new(C.s, &C.f, &spec, &C.value);
  if (st) return S_MSG, st;
  set_value(r, (double)pd_store_summary_rows(C.value), "customers");
  return PD_OK;
}

static pd_status fig_store_value(result *r, const char **msg) {
  if (!C.value) return *msg = "no store summary", PD_E_NOT_FOUND;
  pd_fit_options fo = PD_FIT_OPTIONS_INIT;
  fo.threads = C.threads;
  pd_value_options vo = PD_VALUE_OPTIONS_INIT;
  vo.fit_options = &fo;
  pd_status st = pd_store_summary_predict(C.value, &vo);
  if (st) return *msg = pd_store_summary_errmsg(C.value), st;
  set_value(r, (double)pd_store_summary_rows(C.value), "customers");
  return PD_OK;
}

static pd_status fig_value_top(result *r, const char **msg) {
  static pd_user_id users[1000];
  static double clv[1000];
  size_t n = 0;
  if (!C.value) return *msg = "no store summary", PD_E_NOT_FOUND;
  pd_status st = pd_store_summary_top(C.value, 1000, users, clv, &n);
  if (st) return *msg = pd_store_summary_errmsg(C.value), st;
  set_value(r, (double)n, "customers");
  return PD_OK;
}

static int count_group(void *user, const pd_value_group *g) {
  (void)g;
  ++*(uint64_t *)user;
  return 0;
}

static pd_status fig_value_by(result *r, const char **msg, int32_t by) {
  uint64_t groups = 0;
  if (!C.value) return *msg = "no store summary", PD_E_NOT_FOUND;
  pd_status st = pd_store_value_by(C.s, C.value, by, C.as_of, count_group,
                                   &groups);
  if (st) return S_MSG, st;
  set_value(r, (double)groups, "groups");
  return PD_OK;
}
static pd_status fig_value_by_source(result *r, const char **msg) {
  return fig_value_by(r, msg, PD_VALUE_BY_SOURCE);
}
static pd_status fig_value_by_channel(result *r, const char **msg) {
  return fig_value_by(r, msg, PD_VALUE_BY_CHANNEL);
}

static int count_item(void *user, const pd_followup_item *it) {
  (void)it;
  ++*(uint64_t *)user;
  return 0;
}

static pd_status fig_followup(result *r, const char **msg) {
  uint64_t listed = 0;
  if (!C.value) return *msg = "no store summary", PD_E_NOT_FOUND;
  pd_status st = pd_followup_plan(C.s, C.value, &C.f, NULL, count_item, &listed);
  if (st) return S_MSG, st;
  set_value(r, (double)listed, "users_listed");
  return PD_OK;
}

/* Figures that return rows: run, count, free. */
static pd_status rows_figure(result *r, const char **msg, pd_status st,
                             pd_rows *rows) {
  if (st) return S_MSG, st;
  set_value(r, (double)pd_rows_count(rows), "rows");
  pd_rows_free(rows);
  return PD_OK;
}

static pd_status fig_link_retention(result *r, const char **msg) {
  pd_rows *rows = NULL;
  pd_status st = pd_link_retention_compute(C.s, &C.f, NULL, &rows);
  return rows_figure(r, msg, st, rows);
}

static pd_status fig_link_km(result *r, const char **msg) {
  pd_km *km = NULL;
  pd_status st = pd_km_new(NULL, &km);
  if (st) return st;
  st = pd_link_survival_km(C.s, &C.f, 0, km);
  if (st) {
    S_MSG;
  } else {
    double med = 0;
    if (pd_km_median(km, &med) == PD_OK) set_value(r, med, "median_days");
  }
  pd_km_free(km);
  return st;
}

static pd_status fig_cohort_survivors(result *r, const char **msg) {
  pd_status st = pd_link_cohort_survivors(
      C.s, &C.f, NULL, C.t0, C.t0 + 31 * DAY, C.survivors,
      sizeof C.survivors / sizeof C.survivors[0], &C.n_survivors);
  if (st) return S_MSG, st;
  set_value(r, (double)C.n_survivors, "periods");
  return PD_OK;
}

static pd_status fig_link_sbg(result *r, const char **msg) {
  pd_fit *fit = NULL;
  pd_status st = pd_fit_new(NULL, &fit);
  if (st) return st;
  st = pd_link_retention_fit_sbg(C.s, &C.f, NULL, C.t0, C.t0 + 31 * DAY, fit);
  if (st) S_MSG;
  pd_fit_free(fit);
  (void)r;
  return st;
}

static pd_status fig_unlink_rate(result *r, const char **msg) {
  pd_unlink_rate ur = PD_UNLINK_RATE_INIT;
  pd_status st = pd_unlink_rate_compute(C.s, &C.f, 0, C.as_of - 30 * DAY,
                                        C.as_of, &ur);
  if (st) return S_MSG, st;
  set_value(r, ur.rate, "rate");
  return PD_OK;
}

static pd_status fig_campaign_health(result *r, const char **msg) {
  pd_campaign_health ch = PD_CAMPAIGN_HEALTH_INIT;
  /* Campaign 24 runs on days 350-352 (domain_gen). */
  int64_t from = C.t0 + 350 * DAY;
  pd_status st = pd_campaign_health_compute(C.s, &C.f, 24, from, from + 3 * DAY,
                                            NULL, &ch);
  if (st) return S_MSG, st;
  set_value(r, ch.rate, "unlink_rate");
  return PD_OK;
}

static pd_status funnel_by(result *r, const char **msg, int32_t by) {
  pd_funnel_options fo = PD_FUNNEL_OPTIONS_INIT;
  fo.group_by = by;
  pd_rows *rows = NULL;
  pd_status st = pd_funnel_compute(C.s, &C.f, &fo, &rows);
  return rows_figure(r, msg, st, rows);
}
static pd_status fig_funnel_source(result *r, const char **msg) {
  return funnel_by(r, msg, PD_BY_SOURCE);
}
static pd_status fig_funnel_channel(result *r, const char **msg) {
  return funnel_by(r, msg, PD_BY_CHANNEL);
}

static pd_status fig_repurchase(result *r, const char **msg) {
  pd_rows *rows = NULL;
  pd_status st = pd_repurchase_compute(C.s, &C.f, NULL, &rows);
  return rows_figure(r, msg, st, rows);
}

static pd_status fig_referral_stats(result *r, const char **msg) {
  pd_referral_stats rs = PD_REFERRAL_STATS_INIT;
  pd_status st = pd_referral_stats_compute(C.s, &C.f, C.as_of - 30 * DAY,
                                           C.as_of, &rs);
  if (st) return S_MSG, st;
  set_value(r, rs.k_factor, "k_factor");
  return PD_OK;
}

static pd_status fig_referral_top(result *r, const char **msg) {
  static pd_referrer_row top[100];
  size_t n = 0;
  for (int i = 0; i < 100; i++) top[i].size = sizeof top[i];
  pd_status st = pd_referral_top(C.s, &C.f, 100, top, 100, &n);
  if (st) return S_MSG, st;
  set_value(r, (double)n, "rows");
  return PD_OK;
}

static pd_status fig_guide_figures(result *r, const char **msg) {
  pd_rows *rows = NULL;
  pd_status st = pd_guide_figures_compute(C.s, &C.f, NULL, &rows);
  return rows_figure(r, msg, st, rows);
}

static pd_status fig_guide_handovers(result *r, const char **msg) {
  pd_rows *rows = NULL;
  pd_status st = pd_guide_handover_history(C.s, &C.f, &rows);
  return rows_figure(r, msg, st, rows);
}

static pd_status fig_rfm(result *r, const char **msg) {
  pd_rows *rows = NULL;
  pd_status st = pd_rfm_compute(C.s, &C.f, &rows);
  if (st) return S_MSG, st;
  pd_segment_count sc = PD_SEGMENT_COUNT_INIT;
  st = pd_rfm_segment_count(rows, PD_SEGMENT_CHAMPIONS, &sc);
  set_value(r, (double)pd_rows_count(rows), "rows");
  pd_rows_free(rows);
  if (st) *msg = "pd_rfm_segment_count";
  return st;
}

static pd_status fig_super_users(result *r, const char **msg) {
  static pd_super_user su[100];
  size_t n = 0;
  for (int i = 0; i < 100; i++) su[i].size = sizeof su[i];
  pd_status st = pd_super_users(C.s, &C.f, NULL, 100, su, 100, &n);
  if (st) return S_MSG, st;
  set_value(r, (double)n, "rows");
  return PD_OK;
}

/* ---- models ----------------------------------------------------------------------- */

#define F_MSG(fit) (*msg = pd_fit_errmsg(fit))

/* The orders as transactions (customer id text, time, amount in yuan),
 * summarised per customer by week as of the end. */
static pd_status fig_summary_transactions(result *r, const char **msg) {
  pd_status st = pd_summary_new(NULL, &C.sum);
  if (st) return st;
  enum { CHUNK = 65536 };
  static char text[CHUNK][12];
  static const char *ids[CHUNK];
  static size_t lens[CHUNK];
  for (size_t i = 0; i < C.n_orders; i += CHUNK) {
    size_t n = C.n_orders - i < CHUNK ? C.n_orders - i : CHUNK;
    for (size_t k = 0; k < n; k++) {
      int len = snprintf(text[k], sizeof text[k], "%u", C.ord_user[i + k]);
      ids[k] = text[k], lens[k] = (size_t)len;
    }
    st = pd_summary_add(C.sum, ids, lens, C.ord_time + i, C.ord_amount + i, n);
    if (st) return *msg = pd_summary_errmsg(C.sum), st;
  }
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = C.as_of - 1;
  spec.unit = PD_TIME_UNIT_WEEK;
  st = pd_summary_compute(C.sum, &spec);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  C.d = d;
  if (!st) st = pd_summary_data(C.sum, &C.d);
  if (st) return *msg = pd_summary_errmsg(C.sum), st;
  set_value(r, (double)C.d.n, "customers");
  return PD_OK;
}

static pd_fit *new_fit(void) {
  pd_fit_options fo = PD_FIT_OPTIONS_INIT;
  fo.threads = C.threads;
  pd_fit *fit = NULL;
  return pd_fit_new(&fo, &fit) == PD_OK ? fit : NULL;
}

static pd_status fit_model(result *r, const char **msg, int32_t model,
                           const pd_customer_data *d) {
  if (!d->n) return *msg = "no customers", PD_E_NOT_FOUND;
  pd_fit *fit = new_fit();
  if (!fit) return PD_E_NOMEM;
  pd_fit_free(C.fit[model]);
  C.fit[model] = fit;
  pd_status st = pd_fit_estimate(fit, model, d);
  if (st) {
    F_MSG(fit);
    /* Keep going with published CDNOW-like parameters so the predictions
     * can still be measured. */
    pd_fit_free(C.fit[model]);
    C.fit[model] = NULL;
    return st;
  }
  pd_fit_info fi = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &fi);
  set_value(r, fi.iterations, "iterations");
  return PD_OK;
}

static pd_status fig_fit_bgnbd(result *r, const char **msg) {
  return fit_model(r, msg, PD_MODEL_BGNBD, &C.d);
}
static pd_status fig_fit_mbgnbd(result *r, const char **msg) {
  return fit_model(r, msg, PD_MODEL_MBGNBD, &C.d);
}
static pd_status fig_fit_paretonbd(result *r, const char **msg) {
  return fit_model(r, msg, PD_MODEL_PARETONBD, &C.d);
}
static pd_status fig_fit_gammagamma(result *r, const char **msg) {
  return fit_model(r, msg, PD_MODEL_GAMMAGAMMA, &C.d);
}

/* BG/BB histories from the orders: the two years as 8 quarters (the
 * opportunities); for each buyer whose first purchase is before the last
 * quarter, T = quarters after the first purchase's, x = those with a
 * purchase, t_x = the last of them (0 when none). Not timed: built once
 * before the BG/BB fit. */
static int make_bgbb(void) {
  size_t users = (size_t)C.users;
  uint8_t *mask = calloc(users + 1, 1);
  int8_t *first = malloc(users + 1);
  if (!mask || !first) return free(mask), free(first), -1;
  memset(first, -1, users + 1);
  double q_len = (double)(C.as_of - C.t0) / 8.0;
  for (size_t i = 0; i < C.n_orders; i++) {
    uint32_t u = C.ord_user[i];
    int q = (int)((double)(C.ord_time[i] - C.t0) / q_len);
    if (q > 7) q = 7;
    if (first[u] < 0 || q < first[u]) first[u] = (int8_t)q;
    mask[u] |= (uint8_t)(1u << q);
  }
  size_t n = 0;
  for (size_t u = 1; u <= users; u++) n += first[u] >= 0 && first[u] < 7;
  C.bb_cols = malloc(3 * (n ? n : 1) * sizeof *C.bb_cols);
  if (!C.bb_cols) return free(mask), free(first), -1;
  double *x = C.bb_cols, *tx = x + n, *T = tx + n;
  size_t k = 0;
  for (size_t u = 1; u <= users; u++) {
    int f = first[u];
    if (f < 0 || f >= 7) continue;
    int cnt = 0, last = 0;
    for (int q = f + 1; q < 8; q++)
      if (mask[u] >> q & 1) cnt++, last = q - f;
    x[k] = cnt, tx[k] = last, T[k] = 7 - f;
    k++;
  }
  free(mask), free(first);
  pd_customer_data bb = PD_CUSTOMER_DATA_INIT;
  bb.n = n, bb.x = x, bb.t_x = tx, bb.T = T;
  C.bb = bb;
  return 0;
}

static pd_status fig_fit_bgbb(result *r, const char **msg) {
  if (!C.bb_cols && make_bgbb()) return PD_E_NOMEM;
  return fit_model(r, msg, PD_MODEL_BGBB, &C.bb);
}

static pd_status fig_fit_sbg(result *r, const char **msg) {
  if (C.n_survivors < 3) return *msg = "no cohort survivors", PD_E_NOT_FOUND;
  pd_fit *fit = new_fit();
  if (!fit) return PD_E_NOMEM;
  pd_fit_free(C.fit[PD_MODEL_SBG]);
  C.fit[PD_MODEL_SBG] = fit;
  pd_status st = pd_fit_estimate_sbg(fit, C.survivors, C.n_survivors);
  if (st) return F_MSG(fit), st;
  set_value(r, (double)C.n_survivors, "periods");
  return PD_OK;
}

/* Predictions over every customer of the summary with a fitted model. */
static pd_status need(int32_t model, const char **msg) {
  if (!C.fit[model]) return *msg = "model not fitted", PD_E_NOT_FOUND;
  if (!C.out) {
    C.out = malloc((C.d.n ? C.d.n : 1) * sizeof *C.out);
    if (!C.out) return PD_E_NOMEM;
  }
  return PD_OK;
}

#define PREDICT_FIGURE(fname, model, call)                                   \
  static pd_status fname(result *r, const char **msg) {                     \
    pd_status st = need(model, msg);                                        \
    if (st) return st;                                                      \
    pd_fit *fit = C.fit[model];                                             \
    st = (call);                                                            \
    if (st) return F_MSG(fit), st;                                          \
    set_value(r, (double)C.d.n, "customers");                               \
    return PD_OK;                                                           \
  }

PREDICT_FIGURE(fig_bgnbd_expected, PD_MODEL_BGNBD,
               pd_predict_expected_purchases(fit, &C.d, 52.0, C.out))
PREDICT_FIGURE(fig_bgnbd_p_alive, PD_MODEL_BGNBD,
               pd_predict_p_alive(fit, &C.d, C.out))
PREDICT_FIGURE(fig_mbgnbd_expected, PD_MODEL_MBGNBD,
               pd_predict_expected_purchases(fit, &C.d, 52.0, C.out))
PREDICT_FIGURE(fig_mbgnbd_p_alive, PD_MODEL_MBGNBD,
               pd_predict_p_alive(fit, &C.d, C.out))
PREDICT_FIGURE(fig_paretonbd_expected, PD_MODEL_PARETONBD,
               pd_predict_expected_purchases(fit, &C.d, 52.0, C.out))
PREDICT_FIGURE(fig_paretonbd_p_alive, PD_MODEL_PARETONBD,
               pd_predict_p_alive(fit, &C.d, C.out))
PREDICT_FIGURE(fig_paretonbd_dert, PD_MODEL_PARETONBD,
               pd_predict_dert(fit, &C.d, log(1.15) / 52.0, C.out))
PREDICT_FIGURE(fig_gg_spend, PD_MODEL_GAMMAGAMMA,
               pd_predict_expected_spend(fit, &C.d, C.out))

static pd_status fig_clv(result *r, const char **msg) {
  pd_status st = need(PD_MODEL_BGNBD, msg);
  if (!st) st = need(PD_MODEL_GAMMAGAMMA, msg);
  if (st) return st;
  st = pd_predict_clv(C.fit[PD_MODEL_BGNBD], C.fit[PD_MODEL_GAMMAGAMMA], &C.d,
                      12, 0.01, 4.345, C.out);
  if (st) return F_MSG(C.fit[PD_MODEL_BGNBD]), st;
  set_value(r, (double)C.d.n, "customers");
  return PD_OK;
}

static pd_status fig_bgbb_predict(result *r, const char **msg) {
  pd_status st = need(PD_MODEL_BGBB, msg);
  if (st) return st;
  pd_fit *fit = C.fit[PD_MODEL_BGBB];
  st = pd_predict_p_alive(fit, &C.bb, C.out);
  if (!st) st = pd_predict_expected_purchases(fit, &C.bb, 4, C.out);
  if (st) return F_MSG(fit), st;
  set_value(r, (double)C.bb.n, "customers");
  return PD_OK;
}


/* Whole-population predictions (no per-customer data): tiny, measured so
 * every prediction has a line. */
static pd_status fig_population_predictions(result *r, const char **msg) {
  pd_status st = need(PD_MODEL_BGNBD, msg);
  if (st) return st;
  pd_fit *fit = C.fit[PD_MODEL_BGNBD];
  double v, sum = 0;
  for (uint32_t k = 0; k < 20 && !st; k++) {
    st = pd_predict_p_purchases(fit, k, 52.0, &v);
    sum += v;
  }
  if (!st) st = pd_predict_unconditional_purchases(fit, 52.0, &v);
  if (st) return F_MSG(fit), st;
  set_value(r, sum, "p_0_to_19_purchases");
  return PD_OK;
}

static pd_status fig_sbg_predictions(result *r, const char **msg) {
  pd_fit *fit = C.fit[PD_MODEL_SBG];
  if (!fit) return *msg = "sbg not fitted", PD_E_NOT_FOUND;
  double s[24], derl = 0;
  pd_status st = pd_retention_survival(fit, 24, s);
  if (!st) st = pd_retention_rate(fit, 24, s);
  if (!st) st = pd_retention_project(fit, 1000.0, 1, 24, s);
  if (!st) st = pd_retention_derl(fit, 0.01, 1, &derl);
  if (st) return F_MSG(fit), st;
  set_value(r, derl, "derl");
  return PD_OK;
}

/* The distinct-customers case: N customers with continuous recency and age
 * (nothing merges), BG/NBD near the CDNOW estimate. Generated outside the
 * timed fit. */
static double *distinct_cols;
static pd_customer_data distinct_data;

static double g_uniform(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return ((double)(z >> 11) + 0.5) * 0x1p-53;
}
static double g_gamma(uint64_t *s, double shape) {
  if (shape < 1.0) return g_gamma(s, shape + 1.0) * pow(g_uniform(s), 1.0 / shape);
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double z = sqrt(-2.0 * log(g_uniform(s))) * cos(6.283185307179586 * g_uniform(s));
    double v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    if (log(g_uniform(s)) < 0.5 * z * z + d - d * v + d * log(v)) return d * v;
  }
}

static int make_distinct(void) {
  size_t n = (size_t)C.users;
  distinct_cols = malloc(3 * n * sizeof *distinct_cols);
  if (!distinct_cols) return -1;
  double *x = distinct_cols, *tx = x + n, *T = tx + n;
  uint64_t s = C.seed ^ 0xA5A5A5A5u;
  for (size_t i = 0; i < n; i++) {
    double lambda = g_gamma(&s, 0.25) / 4.4;
    double ga = g_gamma(&s, 0.8), gb = g_gamma(&s, 2.4);
    double p = ga / (ga + gb), age = 1.0 + 51.0 * g_uniform(&s), t = 0, last = 0;
    unsigned k = 0;
    for (;;) {
      t += -log(g_uniform(&s)) / lambda;
      if (t > age) break;
      k++, last = t;
      if (g_uniform(&s) < p) break;
    }
    x[i] = k, tx[i] = last, T[i] = age;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n, d.x = x, d.t_x = tx, d.T = T;
  distinct_data = d;
  return 0;
}

static pd_status fig_fit_bgnbd_distinct(result *r, const char **msg) {
  if (!distinct_cols) return *msg = "no data", PD_E_NOMEM;
  pd_fit *fit = new_fit();
  if (!fit) return PD_E_NOMEM;
  pd_status st = pd_fit_estimate(fit, PD_MODEL_BGNBD, &distinct_data);
  if (st) {
    F_MSG(fit);
  } else {
    pd_fit_info fi = PD_FIT_INFO_INIT;
    pd_fit_get(fit, &fi);
    set_value(r, fi.iterations, "iterations");
  }
  pd_fit_free(fit);
  return st;
}

/* ---- persist ------------------------------------------------------------------------ */

static char snap_path[1024];
static double snap_bytes;

static double file_mb(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0) return 0;
  return (double)sb.st_size / 1e6;
}

static pd_status fig_snapshot_save(result *r, const char **msg) {
  double w0 = wall_now();
  pd_status st = pd_snapshot_save(C.s, snap_path);
  double w = wall_now() - w0;
  if (st) return S_MSG, st;
  snap_bytes = file_mb(snap_path) * 1e6;
  set_value(r, snap_bytes / 1e6 / w, "MB/s");
  r->target = 500, r->higher_better = 1;
  return PD_OK;
}

static int32_t write_file(void *user, const void *data, size_t len) {
  return fwrite(data, 1, len, (FILE *)user) == len ? 0 : -1;
}

/* pd_snapshot_write() into a stdio file, not synced: the caller's own
 * sink, here the kernel's page cache. No target: how fast a cache takes
 * pages is the machine's (snapshot_write_sink is the library's part,
 * snapshot_save_fsync the library's own way to a file). */
static pd_status fig_snapshot_write_nosync(result *r, const char **msg) {
  char path[1100];
  snprintf(path, sizeof path, "%s.nosync", snap_path);
  FILE *f = fopen(path, "wb");
  if (!f) return *msg = "cannot create the file", PD_E_IO;
  double w0 = wall_now();
  pd_status st = pd_snapshot_write(C.s, write_file, f);
  int bad = fclose(f);
  double w = wall_now() - w0;
  double mb = file_mb(path);
  unlink(path);
  if (st) return S_MSG, st;
  if (bad) return *msg = "close failed", PD_E_IO;
  set_value(r, mb / w, "MB/s");
  return PD_OK;
}

/* The same stream to a sink that only counts it: what serialising costs
 * the library, apart from any file system. */
static int32_t count_bytes(void *user, const void *data, size_t len) {
  (void)data;
  *(uint64_t *)user += len;
  return 0;
}

static pd_status fig_snapshot_write_sink(result *r, const char **msg) {
  uint64_t bytes = 0;
  double w0 = wall_now();
  pd_status st = pd_snapshot_write(C.s, count_bytes, &bytes);
  double w = wall_now() - w0;
  if (st) return S_MSG, st;
  set_value(r, (double)bytes / 1e6 / w, "MB/s");
  return PD_OK;
}

static pd_status fig_snapshot_load(result *r, const char **msg) {
  /* Nothing after this needs the recorded store: free it first so two
   * stores of 10M users never meet in memory. */
  pd_store_summary_free(C.value);
  C.value = NULL;
  pd_store_free(C.s);
  C.s = NULL;
  pd_store *t = NULL;
  static char err[256];
  pd_persist_options po = PD_PERSIST_OPTIONS_INIT;
  po.errmsg = err, po.errmsg_cap = sizeof err;
  po.threads = C.threads;
  double w0 = wall_now();
  pd_status st = pd_snapshot_load(snap_path, &po, &t);
  double w = wall_now() - w0;
  if (st) return *msg = err, st;
  pd_store_free(t);
  set_value(r, snap_bytes / 1e6 / w, "MB/s");
  r->target = 500, r->higher_better = 1;
  return PD_OK;
}

/* Journal appends under one sync policy: a small chain (at most 20,000
 * users) so the figure is the journal's, not the store's size. */
static pd_status journal_rate(result *r, const char **msg, int32_t policy,
                              uint64_t n) {
  char snap[1100], jrnl[1100];
  snprintf(snap, sizeof snap, "%s/pdbench-j.pds", C.tmpdir);
  snprintf(jrnl, sizeof jrnl, "%s/pdbench-j.pdj", C.tmpdir);
  unlink(snap), unlink(jrnl);
  uint64_t users = C.users < 20000 ? C.users : 20000;
  pdg *g = pdg_new(users, C.seed);
  if (!g) return PD_E_NOMEM;
  /* The chain and users come from a snapshot, so the journal holds only
   * the measured events. */
  pd_store *s = NULL;
  pd_status st = pd_store_new(NULL, &s);
  if (!st) st = pdg_setup_store(g, s);
  if (!st) st = pd_snapshot_save(s, snap);
  if (st) *msg = pd_store_errmsg(s);
  pd_store_free(s);
  s = NULL;
  static char err[256];
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.sync = policy, o.sync_every_events = 100, o.sync_every_ms = 10;
  o.errmsg = err, o.errmsg_cap = sizeof err;
  if (!st && (st = pd_store_open(snap, jrnl, &o, NULL, &s))) *msg = err;
  uint64_t done = 0;
  double w0 = wall_now();
  while (!st && done < n) {
    size_t k = pdg_next(g, 1, kinds, recs, ptrs);
    if (!k) break;
    st = record_one(s, kinds[0], &recs[0]);
    done++;
  }
  if (!st) st = pd_store_sync(s);
  double w = wall_now() - w0;
  if (st && s) *msg = pd_store_errmsg(s);
  pdg_free(g);
  pd_store_free(s);
  unlink(snap), unlink(jrnl);
  if (st) return st;
  set_value(r, (double)done / w, "events/s");
  return PD_OK;
}

static pd_status fig_journal_every_event(result *r, const char **msg) {
  return journal_rate(r, msg, PD_SYNC_EVERY_EVENT, 500);
}
static pd_status fig_journal_every_100(result *r, const char **msg) {
  return journal_rate(r, msg, PD_SYNC_EVERY_N, 200000);
}
static pd_status fig_journal_every_10ms(result *r, const char **msg) {
  return journal_rate(r, msg, PD_SYNC_INTERVAL, 200000);
}
static pd_status fig_journal_never(result *r, const char **msg) {
  return journal_rate(r, msg, PD_SYNC_NEVER, 200000);
}

/* ---- aggregates (mergeable partial figures, aggregates.h) ------------------------ */

static pd_aggregate *aggs[5];

static pd_status aggregate_compute(result *r, const char **msg, int32_t kind) {
  pd_aggregate_free(aggs[kind]);
  aggs[kind] = NULL;
  pd_status st = pd_aggregate_compute(C.s, kind, &C.f, NULL, &aggs[kind]);
  if (st) return S_MSG, st;
  pd_bytes *b = NULL;
  st = pd_aggregate_save(aggs[kind], &b);
  if (st) return *msg = "pd_aggregate_save", st;
  set_value(r, (double)pd_bytes_size(b), "bytes_serialised");
  pd_bytes_free(b);
  return PD_OK;
}

/* Save, load and merge the loaded copy into the original: what one
 * partition's result costs on its way to the merging machine. */
static pd_status aggregate_roundtrip(result *r, const char **msg,
                                     int32_t kind) {
  if (!aggs[kind]) return *msg = "not computed", PD_E_NOT_FOUND;
  pd_bytes *b = NULL;
  pd_status st = pd_aggregate_save(aggs[kind], &b);
  if (st) return *msg = "pd_aggregate_save", st;
  static char err[256];
  pd_aggregate *copy = NULL;
  st = pd_aggregate_load(pd_bytes_data(b), pd_bytes_size(b), NULL, err,
                         sizeof err, &copy);
  pd_bytes_free(b);
  if (st) return *msg = err, st;
  st = pd_aggregate_merge(aggs[kind], copy);
  if (st) *msg = pd_aggregate_errmsg(aggs[kind]);
  pd_aggregate_free(copy);
  (void)r;
  return st;
}

#define AGG_FIGURES(k, name)                                              \
  static pd_status fig_agg_##name(result *r, const char **msg) {          \
    return aggregate_compute(r, msg, k);                                  \
  }                                                                       \
  static pd_status fig_agg_##name##_rt(result *r, const char **msg) {     \
    return aggregate_roundtrip(r, msg, k);                                \
  }
AGG_FIGURES(PD_AGGREGATE_FUNNEL, funnel)
AGG_FIGURES(PD_AGGREGATE_LINK_COHORTS, link_cohorts)
AGG_FIGURES(PD_AGGREGATE_RFM, rfm)
AGG_FIGURES(PD_AGGREGATE_REPURCHASE, repurchase)

/* ---- the table ------------------------------------------------------------------------ */

static const figure metrics_figures[] = {
    {"metrics", "trust_distribution", fig_trust_distribution, 5},
    {"metrics", "trust_user_100k", fig_trust_user, 0},
    {"metrics", "user_get_100k", fig_user_get, 0},
    {"metrics", "pressure_stats", fig_pressure, 5},
    {"metrics", "contact_check_100k", fig_contact_check, 0},
    {"metrics", "store_summary", fig_store_summary, 5},
    {"metrics", "store_value_predict", fig_store_value, 5},
    {"metrics", "store_value_top", fig_value_top, 5},
    {"metrics", "value_by_source", fig_value_by_source, 5},
    {"metrics", "value_by_channel", fig_value_by_channel, 5},
    {"metrics", "followup_plan", fig_followup, 5},
    {"metrics", "link_retention", fig_link_retention, 5},
    {"metrics", "link_survival_km", fig_link_km, 5},
    {"metrics", "link_cohort_survivors", fig_cohort_survivors, 5},
    {"metrics", "link_retention_sbg", fig_link_sbg, 5},
    {"metrics", "unlink_rate", fig_unlink_rate, 5},
    {"metrics", "campaign_health", fig_campaign_health, 5},
    {"metrics", "funnel_by_source", fig_funnel_source, 5},
    {"metrics", "funnel_by_channel", fig_funnel_channel, 5},
    {"metrics", "repurchase", fig_repurchase, 5},
    {"metrics", "referral_stats", fig_referral_stats, 5},
    {"metrics", "referral_top", fig_referral_top, 5},
    {"metrics", "guide_figures", fig_guide_figures, 5},
    {"metrics", "guide_handovers", fig_guide_handovers, 5},
    {"metrics", "rfm", fig_rfm, 5},
    {"metrics", "super_users", fig_super_users, 5},
};

static const figure model_figures[] = {
    {"models", "summary_from_transactions", fig_summary_transactions, 0},
    {"models", "fit_bgnbd", fig_fit_bgnbd, 5},
    {"models", "fit_mbgnbd", fig_fit_mbgnbd, 0},
    {"models", "fit_paretonbd", fig_fit_paretonbd, 0},
    {"models", "fit_gammagamma", fig_fit_gammagamma, 0},
    {"models", "fit_bgbb", fig_fit_bgbb, 0},
    {"models", "fit_sbg", fig_fit_sbg, 0},
    {"models", "bgnbd_expected_purchases", fig_bgnbd_expected, 0},
    {"models", "bgnbd_p_alive", fig_bgnbd_p_alive, 0},
    {"models", "bgnbd_population", fig_population_predictions, 0},
    {"models", "mbgnbd_expected_purchases", fig_mbgnbd_expected, 0},
    {"models", "mbgnbd_p_alive", fig_mbgnbd_p_alive, 0},
    {"models", "paretonbd_expected_purchases", fig_paretonbd_expected, 0},
    {"models", "paretonbd_p_alive", fig_paretonbd_p_alive, 0},
    {"models", "paretonbd_dert", fig_paretonbd_dert, 0},
    {"models", "gammagamma_expected_spend", fig_gg_spend, 0},
    {"models", "clv_bgnbd_gammagamma", fig_clv, 0},
    {"models", "bgbb_predictions", fig_bgbb_predict, 0},
    {"models", "sbg_predictions", fig_sbg_predictions, 0},
    {"models", "fit_bgnbd_distinct", fig_fit_bgnbd_distinct, 5},
};

static const figure persist_figures[] = {
    {"persist", "snapshot_save_fsync", fig_snapshot_save, 0},
    {"persist", "snapshot_write_nosync", fig_snapshot_write_nosync, 0},
    {"persist", "snapshot_write_sink", fig_snapshot_write_sink, 0},
    {"persist", "snapshot_load", fig_snapshot_load, 0},
    {"persist", "journal_sync_every_event", fig_journal_every_event, 0},
    {"persist", "journal_sync_every_100", fig_journal_every_100, 0},
    {"persist", "journal_sync_every_10ms", fig_journal_every_10ms, 0},
    {"persist", "journal_sync_never", fig_journal_never, 0},
};

static const figure aggregate_figures[] = {
    {"aggregates", "aggregate_funnel", fig_agg_funnel, 5},
    {"aggregates", "aggregate_funnel_save_load_merge", fig_agg_funnel_rt, 0},
    {"aggregates", "aggregate_link_cohorts", fig_agg_link_cohorts, 5},
    {"aggregates", "aggregate_link_cohorts_save_load_merge",
     fig_agg_link_cohorts_rt, 0},
    {"aggregates", "aggregate_rfm", fig_agg_rfm, 5},
    {"aggregates", "aggregate_rfm_save_load_merge", fig_agg_rfm_rt, 0},
    {"aggregates", "aggregate_repurchase", fig_agg_repurchase, 5},
    {"aggregates", "aggregate_repurchase_save_load_merge",
     fig_agg_repurchase_rt, 0},
};

static const figure memory_figures[] = {
    {"memory", "bytes_per_event", fig_bytes_per_event, 0},
    {"memory", "bytes_per_user", fig_bytes_per_user, 0},
    {"memory", "store_bytes", fig_store_bytes, 0},
    {"memory", "peak_rss", fig_peak_rss, 0},
};

#define RUN_ALL(table)                                              \
  for (size_t i_ = 0; i_ < sizeof table / sizeof table[0]; i_++) \
  run_figure(&table[i_])

/* ---- main ------------------------------------------------------------------------------ */

/* Whether group (or figure) is in the comma-separated list only (NULL:
 * every group but gen). */
static int wanted(const char *only, const char *group) {
  if (!only) return strcmp(group, "gen") != 0;
  size_t n = strlen(group);
  for (const char *p = only; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && strncmp(p, group, n) == 0) return 1;
    p += len + (e ? 1 : 0);
  }
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: pdbench --users N [--threads T] [--only GROUP[,GROUP]] "
          "[--seed S] [--tmpdir DIR] [--batch B] [--no-reserve]\n"
          "       [--figures NAME[,NAME]] [--snapshot PATH] [--repeat R]\n"
          "       [--no-cluster] [--spare-limit BYTES]\n"
          "groups: gen record memory metrics models persist aggregates\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *only = NULL, *snapshot = NULL;
  int cluster = 1;
  C.threads = 1, C.seed = 1, C.batch = 1024, C.reserve = 1;
  C.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--no-reserve")) { /* a flag: no value */
      C.reserve = 0, i--;
      continue;
    }
    if (!strcmp(a, "--no-cluster")) {
      cluster = 0, i--;
      continue;
    }
    if (!v) return usage();
    if (!strcmp(a, "--users")) C.users = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--threads")) C.threads = (int32_t)strtol(v, NULL, 10);
    else if (!strcmp(a, "--only")) only = v;
    else if (!strcmp(a, "--seed")) C.seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--tmpdir")) C.tmpdir = v;
    else if (!strcmp(a, "--batch")) C.batch = (size_t)strtoull(v, NULL, 10);
    else if (!strcmp(a, "--figures")) only_figures = v;
    else if (!strcmp(a, "--snapshot")) snapshot = v;
    else if (!strcmp(a, "--repeat")) repeat = atoi(v);
    else if (!strcmp(a, "--spare-limit")) spare_limit = strtoll(v, NULL, 10);
    else return usage();
  }
  if (C.users == 0 || C.users > (UINT64_C(1) << 28) || C.threads < 0 ||
      C.threads > 64 || C.batch == 0 || C.batch > BATCH_MAX || repeat < 1 ||
      repeat > 100 || spare_limit < PD_SPARE_AUTO)
    return usage();
  C.gen = pdg_new(C.users, C.seed);
  if (!C.gen) {
    fprintf(stderr, "pdbench: generator: out of memory\n");
    return 1;
  }
  C.t0 = pdg_t0(C.gen), C.as_of = pdg_as_of(C.gen);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = C.as_of - 1;
  C.f = f;
  printf("# pdbench users=%llu seed=%llu threads=%d batch=%zu "
         "spare_limit=%lld shops=%u guides=%u campaigns=%u library=%s\n",
         (unsigned long long)C.users, (unsigned long long)C.seed,
         (int)C.threads, C.batch, (long long)spare_limit, pdg_shops(C.gen),
         pdg_guides(C.gen),
         pdg_campaigns(C.gen), pd_version_string());
  fflush(stdout);

  if (wanted(only, "gen")) {
    static const figure fg = {"gen", "generate", fig_generate, 0};
    run_figure(&fg);
  }
  int rec = wanted(only, "record");
  int need_store = rec || wanted(only, "memory") || wanted(only, "metrics") ||
                   wanted(only, "models") || wanted(only, "persist") ||
                   wanted(only, "aggregates");
  C.keep_orders = wanted(only, "models");
  if (need_store && snapshot &&
      (rec || C.keep_orders || wanted(only, "memory"))) {
    fprintf(stderr, "pdbench: --snapshot cannot serve the record, memory or "
                    "models groups (use --only)\n");
    return 2;
  }
  if (need_store && snapshot && access(snapshot, R_OK) == 0) {
    pd_persist_options po = PD_PERSIST_OPTIONS_INIT;
    po.threads = C.threads;
    pd_status st = pd_snapshot_load(snapshot, &po, &C.s);
    pd_store_stats ss = PD_STORE_STATS_INIT;
    if (st == PD_OK) st = pd_store_get_stats(C.s, &ss);
    if (st) {
      fprintf(stderr, "pdbench: %s: %s\n", snapshot, pd_status_str(st));
      return 1;
    }
    pd_store_set_threads(C.s, C.threads);
    pd_store_set_spare_limit(C.s, spare_limit);
    C.events = ss.events;
    need_store = 0;
  }
  if (need_store) {
    if (rec) {
      /* Single calls first, on their own store, freed before the big one. */
      static const figure single = {"record", "record_single",
                                    fig_record_single, 0};
      const char *msg = NULL;
      single_store = fresh_store(&msg);
      run_figure(&single);
      pd_store_free(single_store);
      single_store = NULL;
    }
    static const figure setup = {"record", "users_setup", fig_setup, 0};
    static const figure batch = {"record", "record_batch", fig_record_batch, 0};
    /* The store is set up even when --figures leaves its figure out. */
    if (rec && (!only_figures || wanted(only_figures, setup.name))) {
      run_figure(&setup);
    } else {
      result r;
      const char *msg = NULL;
      pd_status st = fig_setup(&r, &msg);
      if (st) fail_line("record", "users_setup", st, msg);
    }
    if (!C.s) return 1;
    if (rec) {
      /* The target scales with the events: 60 s per 200M. */
      result r = {0, NULL, 0, 0, 0};
      const char *msg = NULL;
      if (C.reserve) estimate_counts();
      long min0, maj0, min1, maj1;
      page_faults(&min0, &maj0);
      double c0 = cpu_now(), w0 = wall_now();
      pd_status st = fig_record_batch(&r, &msg);
      double w = wall_now() - w0, c = cpu_now() - c0;
      page_faults(&min1, &maj1);
      if (st) fail_line("record", "record_batch", st, msg);
      double t = w < c ? w : c, target = 60.0 * (double)C.events / 2e8;
      printf("pdbench group=record figure=record_batch users=%llu events=%llu "
             "threads=%d wall_s=%.4f cpu_s=%.4f minflt=%ld majflt=%ld "
             "value=%.6g unit=events/s target=%.6g target_unit=events/s "
             "ok=%d\n",
             (unsigned long long)C.users, (unsigned long long)C.events,
             (int)C.threads, w, c, min1 - min0, maj1 - maj0,
             (double)C.events / t, 2e8 / 60.0, t <= target);
      /* The same without the generator's share (timed around pdg_next). */
      w -= C.gen_wall, c -= C.gen_cpu;
      t = w < c ? w : c;
      printf("pdbench group=record figure=record_batch_store_only users=%llu "
             "events=%llu threads=%d wall_s=%.4f cpu_s=%.4f minflt=%ld "
             "majflt=%ld value=%.6g unit=events/s target=%.6g "
             "target_unit=events/s ok=%d\n",
             (unsigned long long)C.users, (unsigned long long)C.events,
             (int)C.threads, w, c, min1 - min0, maj1 - maj0,
             (double)C.events / t, 2e8 / 60.0, t <= target);
      fflush(stdout);
      (void)batch;
      static const figure replay = {"record", "replay_batch",
                                    fig_replay_batch, 0};
      run_figure(&replay);
    } else {
      result r;
      const char *msg = NULL;
      pd_status st = fig_record_batch(&r, &msg);
      if (st) fail_line("record", "record_batch", st, msg);
    }
    if (snapshot) {
      pd_status st = pd_snapshot_save(C.s, snapshot);
      if (st) fail_line("record", "snapshot", st, pd_store_errmsg(C.s));
    }
  }
  if (wanted(only, "memory")) RUN_ALL(memory_figures);
  if (wanted(only, "metrics")) {
    if (cluster) {
      static const figure fg = {"metrics", "store_cluster", fig_store_cluster,
                                0};
      run_figure_once(&fg);
    }
    RUN_ALL(metrics_figures);
  }
  if (wanted(only, "models")) {
    if (make_distinct()) fail_line("models", "fit_bgnbd_distinct", PD_E_NOMEM, NULL);
    if (!C.n_survivors) {
      result r;
      const char *msg = NULL;
      fig_cohort_survivors(&r, &msg);
    }
    RUN_ALL(model_figures);
  }
  if (wanted(only, "aggregates")) RUN_ALL(aggregate_figures);
  if (wanted(only, "persist")) {
    snprintf(snap_path, sizeof snap_path, "%s/pdbench-%ld.pds", C.tmpdir,
             (long)getpid());
    RUN_ALL(persist_figures);
    unlink(snap_path);
  }

  pd_store_summary_free(C.value);
  pd_summary_free(C.sum);
  for (int k = 0; k < 7; k++) pd_fit_free(C.fit[k]);
  for (int k = 0; k < 5; k++) pd_aggregate_free(aggs[k]);
  pd_store_free(C.s);
  pdg_free(C.gen);
  free(C.ord_user), free(C.ord_time), free(C.ord_amount);
  free(C.out), free(C.out2), free(C.bb_cols), free(distinct_cols);
  return C.failed ? 1 : 0;
}
