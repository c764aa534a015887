/* The unlink rate (删粉率) over a window: effective unlinks in it / (user,
 * channel) pairs linked at its start or during it, user- and
 * staff-initiated kept apart. */
#include <string.h>

#include <privdomain/retention_metrics.h>

#include "population.h"

typedef struct window_count {
  uint64_t base, user, staff, user_pairs, staff_pairs;
} window_count;

/* Count the pairs and unlinks of one channel's spells [a, b). */
static void count_pair(const pd_mb_spell *v, size_t a, size_t b,
                       uint64_t from, uint64_t to, window_count *w) {
  int in_base = 0;
  uint64_t user = 0, staff = 0;
  for (size_t i = a; i < b; i++) {
    const pd_mb_spell *p = &v[i];
    uint64_t end = p->end == PD_ST_NIL ? UINT64_MAX : p->end;
    if ((p->start <= from && end > from) || (p->start >= from && p->start < to))
      in_base = 1;
    if (end >= from && end < to) {
      if (pd_mb_user_initiated(p->initiator))
        user++;
      else
        staff++;
    }
  }
  if (!in_base) return;
  w->base++;
  w->user += user;
  w->staff += staff;
  w->user_pairs += user > 0;
  w->staff_pairs += staff > 0;
}

pd_status pd_unlink_rate_compute(pd_store *s,
                                 const pd_metrics_filter *filter,
                                 int32_t channel, int64_t from, int64_t to,
                                 pd_unlink_rate *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL || out->size < sizeof *out)
    return pd_st_leave(
        s, pd_err(&s->err, PD_E_INVALID,
                  "out is NULL or its size is too small (use "
                  "PD_UNLINK_RATE_INIT)"));
  if ((st = pd_st_check_time(s, from, "from")) ||
      (st = pd_st_check_time(s, to, "to")))
    return pd_st_leave(s, st);
  if (to <= from)
    return pd_st_leave(
        s, pd_err(&s->err, PD_E_RANGE, "the window ends before it starts"));
  if (channel != 0 &&
      (st = pd_st_channel_check(s, channel, 0, "unlink rate")) != PD_OK)
    return pd_st_leave(s, st);
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  pd_mb_csr links = {0}, unlinks = {0};
  pd_mb_spells sp = {0};
  window_count w = {0};
  uint64_t end = (uint64_t)to;
  if (end > (uint64_t)c.f.as_of + 1) end = (uint64_t)c.f.as_of + 1;
  if (!(st = pd_mb_csr_build(&c, PD_EV_LINK, c.f.as_of, NULL, &links)) &&
      !(st = pd_mb_csr_build(&c, PD_EV_UNLINK, c.f.as_of, NULL, &unlinks))) {
    for (uint32_t r = 1; r < c.n; r++) {
      if (!c.pass[r] || c.root_of[r] != r) continue;
      if ((st = pd_mb_spells_of(&c, &links, &unlinks, r, channel, &sp)))
        break;
      for (size_t i = 0; i < sp.n;) {
        size_t j = i;
        while (j < sp.n && sp.v[j].channel == sp.v[i].channel) j++;
        if ((uint64_t)from < end) count_pair(sp.v, i, j, (uint64_t)from, end, &w);
        i = j;
      }
    }
  }
  pd_mb_spells_free(&c, &sp);
  pd_mb_csr_free(&c, &links);
  pd_mb_csr_free(&c, &unlinks);
  pd_mb_ctx_free(&c);
  if (st) return pd_st_leave(s, st);
  pd_unlink_rate r = PD_UNLINK_RATE_INIT;
  r.size = out->size;
  r.base = w.base;
  r.user_unlinks = w.user;
  r.staff_unlinks = w.staff;
  r.user_unlinked_pairs = w.user_pairs;
  r.staff_unlinked_pairs = w.staff_pairs;
  r.user_rate = pd_mb_ratio((double)w.user, (double)w.base);
  r.staff_rate = pd_mb_ratio((double)w.staff, (double)w.base);
  r.rate = pd_mb_ratio((double)(w.user + w.staff), (double)w.base);
  memcpy(out, &r, sizeof r);
  return pd_st_leave(s, PD_OK);
}
