/* Marketing pressure and contact caps (pressure.h): may this promotion be
 * sent now, and how hard is the pool being pushed. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/consent.h>
#include <privdomain/events.h>
#include <privdomain/pressure.h>

#include "filter.h"
#include "par.h"
#include "pushes.h"
#include "store/consent_query.h"
#include "store/store_query.h"

/* Counts in the windows ending at `at` and the earliest time every cap
 * allows one more push (pushes p[0..n) sorted, all at or before at). */
typedef struct window_counts {
  uint32_t day, week, ch_day, ch_week;
  int64_t earliest;
} window_counts;

/* Earliest t >= at at which fewer than cap of the pushes `times` (the k
 * matching ones in the window, ascending) remain within span. */
static int64_t wait_for(const uint32_t *times, uint32_t k, uint32_t cap,
                        uint32_t span, int64_t at) {
  if (cap == 0 || k < cap) return at;
  int64_t t = (int64_t)times[k - cap] + span;
  return t > at ? t : at;
}

static void count_windows(const pd_mx_push *p, size_t n, int32_t channel,
                          uint32_t at, const pd_contact_policy *pol,
                          uint32_t *tmp, window_counts *out) {
  memset(out, 0, sizeof *out);
  /* tmp holds up to 2n times: the week's pushes, then the channel's. */
  uint32_t *wk = tmp, *ch = tmp + n;
  uint32_t nw = 0, nc = 0, nd = 0, ncd = 0;
  for (size_t i = 0; i < n; i++) {
    if ((uint64_t)p[i].time + PD_MX_WEEK <= at) continue;
    wk[nw++] = p[i].time;
    int same = (int32_t)p[i].channel == channel;
    if (same) ch[nc++] = p[i].time;
    if ((uint64_t)p[i].time + PD_MX_DAY > at) {
      nd++;
      ncd += (uint32_t)same;
    }
  }
  out->day = nd;
  out->week = nw;
  out->ch_day = ncd;
  out->ch_week = nc;
  int64_t e = at, w;
  /* The day's pushes are the last nd of the week's (sorted by time). */
  if ((w = wait_for(wk + (nw - nd), nd, pol->per_day, PD_MX_DAY, at)) > e) e = w;
  if ((w = wait_for(wk, nw, pol->per_week, PD_MX_WEEK, at)) > e) e = w;
  if ((w = wait_for(ch + (nc - ncd), ncd, pol->per_channel_day, PD_MX_DAY,
                    at)) > e)
    e = w;
  if ((w = wait_for(ch, nc, pol->per_channel_week, PD_MX_WEEK, at)) > e) e = w;
  out->earliest = e;
}

static pd_status contact_check(pd_store *s, pd_user_id user, int32_t channel,
                               int32_t purpose, int64_t at,
                               const pd_contact_policy *policy,
                               pd_contact_verdict *out) {
  if (out == NULL) return pd_err(&s->err, PD_E_INVALID, "out is NULL");
  if (out->size < sizeof *out)
    return pd_err(&s->err, PD_E_INVALID,
                  "pd_contact_verdict size %zu is smaller than %zu (use "
                  "PD_CONTACT_VERDICT_INIT)",
                  out->size, sizeof *out);
  pd_contact_policy pol;
  pd_status st = pd_mx_policy_load(s, policy, &pol);
  if (st) return st;
  if (purpose != PD_PURPOSE_SERVICE && purpose != PD_PURPOSE_CONTENT &&
      purpose != PD_PURPOSE_PROMOTION)
    return pd_err(&s->err, PD_E_INVALID,
                  "purpose %d is not SERVICE, CONTENT or PROMOTION",
                  (int)purpose);
  if ((st = pd_st_check_time(s, at, "at")) != PD_OK ||
      (st = pd_st_channel_check(s, channel, 0, "contact")) != PD_OK)
    return st;
  if (user == 0 || user >= s->n_users)
    return pd_err(&s->err, PD_E_NOT_FOUND, "user %llu does not exist",
                  (unsigned long long)user);
  pd_contact_verdict v = PD_CONTACT_VERDICT_INIT;
  v.size = out->size;
  if (s->users[user].flags & PD_ST_USER_ERASED) {
    v.reason = PD_CONTACT_ERASED;
    v.earliest = -1;
    memcpy(out, &v, sizeof v);
    return PD_OK;
  }
  uint32_t root = pd_st_find(s, (uint32_t)user), t = (uint32_t)at;
  pd_mx_buf b = {NULL, 0};
  size_t n = 0;
  if ((st = pd_mx_pushes(s, root, t, pol.count_post_exposures, 0, &b, &n)) !=
          PD_OK ||
      pd_mx_buf_reserve(s, &b, 2 * n + 2, sizeof(pd_mx_push)) != 0) {
    pd_mx_buf_free(s, &b);
    return st ? st : pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  window_counts wc;
  pd_mx_push *p = b.p;
  count_windows(p, n, channel, t, &pol, (uint32_t *)(p + n), &wc);
  pd_mx_buf_free(s, &b);
  v.pushes_day = wc.day;
  v.pushes_week = wc.week;
  v.pushes_channel_day = wc.ch_day;
  v.pushes_channel_week = wc.ch_week;
  pd_link_state ls = PD_LINK_STATE_INIT;
  if ((st = pd_st_link_state_at(s, root, channel, t, &ls)) != PD_OK) return st;
  if (!ls.linked) {
    v.reason = PD_CONTACT_UNLINKED;
  } else if (purpose == PD_PURPOSE_PROMOTION &&
             (!pd_st_consent_at(s, root, PD_CONSENT_MARKETING, t, NULL) ||
              !pd_st_consent_at(s, root, PD_CONSENT_PERSONALISED_MARKETING, t,
                                NULL))) {
    v.reason = PD_CONTACT_OPTED_OUT;
  } else if (purpose == PD_PURPOSE_PROMOTION) {
    if (pol.per_day && wc.day >= pol.per_day)
      v.reason = PD_CONTACT_DAILY_CAP;
    else if (pol.per_week && wc.week >= pol.per_week)
      v.reason = PD_CONTACT_WEEKLY_CAP;
    else if ((pol.per_channel_day && wc.ch_day >= pol.per_channel_day) ||
             (pol.per_channel_week && wc.ch_week >= pol.per_channel_week))
      v.reason = PD_CONTACT_CHANNEL_CAP;
  }
  if (v.reason == PD_CONTACT_UNLINKED || v.reason == PD_CONTACT_OPTED_OUT) {
    v.earliest = -1;
  } else if (purpose == PD_PURPOSE_PROMOTION) {
    v.earliest = wc.earliest;
  } else {
    v.earliest = at;
  }
  v.allowed = v.reason == PD_CONTACT_ALLOWED;
  memcpy(out, &v, sizeof v);
  return PD_OK;
}

pd_status pd_contact_check(pd_store *s, pd_user_id user, int32_t channel,
                           int32_t purpose, int64_t at,
                           const pd_contact_policy *policy,
                           pd_contact_verdict *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, contact_check(s, user, channel, purpose, at, policy,
                                      out));
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Nearest rank: the ceil(pct n / 100)-th smallest of sorted v[0..n). */
static double nearest_rank(const uint32_t *v, size_t n, unsigned pct) {
  if (n == 0) return 0;
  size_t r = (pct * n + 99) / 100;
  return v[r < 1 ? 0 : r - 1];
}

/* The same rank from a histogram: hist[c] users with c pushes. */
static double nearest_rank_hist(const uint64_t *hist, size_t n,
                                uint32_t max, unsigned pct) {
  if (n == 0) return 0;
  size_t r = (pct * n + 99) / 100;
  if (r < 1) r = 1;
  uint64_t seen = 0;
  for (uint32_t c = 0; c <= max; c++) {
    seen += hist[c];
    if (seen >= r) return c;
  }
  return max;
}

/* One user block's integer partials (order-free, so the totals do not
 * depend on how blocks are spread over threads). */
typedef struct press_part {
  uint64_t users, pushes, over_cap_pushes, users_over_cap;
  uint32_t max;
} press_part;

/* The statistics come from every user's pushes, grouped by canonical user
 * in one table: two sequential passes over the touchpoint column (count,
 * then place; cut into event blocks, par.h) instead of a walk of each
 * user's chain, which costs a dependent cache miss per event on a large
 * store. Within a user the places are taken in any order; each user's
 * pushes are then sorted by (time, event id), so the table and every
 * result are the same for every thread count. */
typedef struct press_job {
  const pd_store *s;
  const pd_mx_filter *f;
  const pd_contact_policy *pol;
  int64_t from;
  uint32_t min_cap, nu;
  _Atomic uint32_t *next; /* [nu + 1] count, then next free place */
  uint32_t *off;          /* [nu + 2] each user's first place */
  pd_mx_push *push;       /* [total] */
  uint32_t *counts;       /* [nu] pushes in the window, UINT32_MAX = not counted */
  press_part *part;       /* [user blocks] */
} press_job;

static int is_counted_push(const press_job *j, const pd_st_touch *x) {
  /* time > as_of also skips erased touchpoints */
  return x->time <= j->f->as_of &&
         pd_mx_is_push(x, j->pol->count_post_exposures);
}

static void count_block(void *p, size_t b) {
  const press_job *j = p;
  const pd_st_touch *ts = pd_st_touches(j->s);
  uint32_t ne = j->s->col[PD_EV_TOUCH].n;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, ne, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++)
    if (is_counted_push(j, &ts[i]))
      atomic_fetch_add_explicit(&j->next[pd_mx_find_ro(j->s, ts[i].user)], 1,
                                memory_order_relaxed);
}

static void place_block(void *p, size_t b) {
  const press_job *j = p;
  const pd_st_touch *ts = pd_st_touches(j->s);
  const uint64_t *eid = j->s->col[PD_EV_TOUCH].eid;
  uint32_t ne = j->s->col[PD_EV_TOUCH].n;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, ne, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    const pd_st_touch *x = &ts[i];
    if (!is_counted_push(j, x)) continue;
    uint32_t at = atomic_fetch_add_explicit(
        &j->next[pd_mx_find_ro(j->s, x->user)], 1, memory_order_relaxed);
    j->push[at] = (pd_mx_push){eid[i], x->time, x->channel};
  }
}

static void press_block(void *p, size_t ub) {
  const press_job *j = p;
  const pd_store *s = j->s;
  uint32_t lo, hi;
  pd_mx_block_range(ub, PD_MX_USER_BLOCK, j->nu, &lo, &hi);
  press_part *pt = &j->part[ub];
  for (uint32_t u = lo ? lo : 1; u < hi; u++) {
    j->counts[u] = UINT32_MAX;
    if (!pd_mx_is_root(s, u) || !pd_mx_filter_match(s, j->f, u)) continue;
    pd_mx_push *mine = j->push + j->off[u];
    uint32_t any = j->off[u + 1] - j->off[u], c = 0;
    for (uint32_t k = 0; k < any; k++) c += (int64_t)mine[k].time > j->from;
    j->counts[u] = c;
    pt->users++;
    pt->pushes += c;
    if (c > pt->max) pt->max = c;
    /* No push can break a cap unless the user has more pushes than the
     * smallest cap, so most users need no sorting. */
    if (c == 0 || any <= j->min_cap) continue;
    pd_mx_sort_pushes(mine, any);
    uint32_t over = pd_mx_over_cap(mine, any, j->pol, j->from);
    pt->over_cap_pushes += over;
    pt->users_over_cap += over > 0;
  }
}

static pd_status pressure_stats(pd_store *s, const pd_metrics_filter *filter,
                                int64_t window,
                                const pd_contact_policy *policy,
                                pd_pressure_stats *out) {
  pd_mx_filter f;
  pd_contact_policy pol;
  pd_status st;
  if ((st = pd_mx_filter_load(s, filter, &f)) != PD_OK ||
      (st = pd_mx_policy_load(s, policy, &pol)) != PD_OK)
    return st;
  if (out == NULL) return pd_err(&s->err, PD_E_INVALID, "out is NULL");
  if (out->size < sizeof *out)
    return pd_err(&s->err, PD_E_INVALID,
                  "pd_pressure_stats size %zu is smaller than %zu (use "
                  "PD_PRESSURE_STATS_INIT)",
                  out->size, sizeof *out);
  if (window <= 0)
    return pd_err(&s->err, PD_E_RANGE, "window %lld must be > 0 seconds",
                  (long long)window);
  press_job j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.f = &f;
  j.pol = &pol;
  j.from = (int64_t)f.as_of - window;
  j.nu = s->n_users;
  j.min_cap = UINT32_MAX;
  const uint32_t caps[4] = {pol.per_day, pol.per_week, pol.per_channel_day,
                            pol.per_channel_week};
  for (int k = 0; k < 4; k++)
    if (caps[k] != 0 && caps[k] < j.min_cap) j.min_cap = caps[k];
  size_t nub = pd_mx_blocks(j.nu, PD_MX_USER_BLOCK);
  size_t neb = pd_mx_blocks(s->col[PD_EV_TOUCH].n, PD_MX_EVENT_BLOCK);
  int32_t threads = pd_mx_threads(s);
  const pd_allocator *a = &s->alloc;
  uint64_t *hist = NULL;
  j.counts = pd_malloc(a, ((size_t)j.nu + 1) * sizeof *j.counts);
  j.part = pd_calloc(a, nub + 1, sizeof *j.part);
  j.next = pd_calloc(a, (size_t)j.nu + 1, sizeof *j.next);
  j.off = pd_malloc(a, ((size_t)j.nu + 2) * sizeof *j.off);
  if (!j.counts || !j.part || !j.next || !j.off) goto nomem;
  pd_parallel_for(threads, neb, count_block, &j);
  /* Each user's places start after the previous users' pushes (at most
   * one per touchpoint: fits in 32 bits). */
  uint32_t total = 0;
  for (uint32_t u = 0; u < j.nu; u++) {
    j.off[u] = total;
    total += atomic_load_explicit(&j.next[u], memory_order_relaxed);
    atomic_store_explicit(&j.next[u], j.off[u], memory_order_relaxed);
  }
  j.off[j.nu] = j.off[j.nu + 1] = total;
  j.push = pd_malloc(a, ((size_t)total + 1) * sizeof *j.push);
  if (!j.push) goto nomem;
  pd_parallel_for(threads, neb, place_block, &j);
  pd_parallel_for(threads, nub, press_block, &j);
  pd_pressure_stats r = PD_PRESSURE_STATS_INIT;
  r.size = out->size;
  for (size_t ub = 0; ub < nub; ub++) {
    const press_part *pt = &j.part[ub];
    r.users += pt->users;
    r.pushes += pt->pushes;
    r.over_cap_pushes += pt->over_cap_pushes;
    r.users_over_cap += pt->users_over_cap;
    if (pt->max > r.max) r.max = pt->max;
  }
  size_t nu = 0;
  for (uint32_t u = 1; u < j.nu; u++)
    if (j.counts[u] != UINT32_MAX) j.counts[nu++] = j.counts[u];
  if (nu > 0) {
    r.mean = (double)r.pushes / (double)nu;
    /* Counts are small: a histogram instead of sorting millions. */
    if (r.max < (UINT32_C(1) << 20) &&
        (hist = pd_calloc(a, (size_t)r.max + 1, sizeof *hist)) != NULL) {
      for (size_t i = 0; i < nu; i++) hist[j.counts[i]]++;
      r.p50 = nearest_rank_hist(hist, nu, r.max, 50);
      r.p90 = nearest_rank_hist(hist, nu, r.max, 90);
    } else {
      qsort(j.counts, nu, sizeof *j.counts, cmp_u32);
      r.p50 = nearest_rank(j.counts, nu, 50);
      r.p90 = nearest_rank(j.counts, nu, 90);
    }
  }
  memcpy(out, &r, sizeof r);
  st = PD_OK;
  goto done;
nomem:
  st = pd_err(&s->err, PD_E_NOMEM, "out of memory");
done:
  pd_free(a, hist);
  pd_free(a, j.counts);
  pd_free(a, j.part);
  pd_free(a, (void *)j.next);
  pd_free(a, j.off);
  pd_free(a, j.push);
  return st;
}

pd_status pd_pressure_stats_get(pd_store *s, const pd_metrics_filter *filter,
                                int64_t window,
                                const pd_contact_policy *policy,
                                pd_pressure_stats *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, pressure_stats(s, filter, window, policy, out));
}
