/* Promotional pushes per user and the contact caps' rolling windows. */
#include <stdlib.h>
#include <string.h>

#include <privdomain/events.h>

#include "core/alloc.h"
#include "pushes.h"
#include "store/store_query.h"

int pd_mx_buf_reserve(pd_store *s, pd_mx_buf *b, size_t n, size_t elem) {
  if (n <= b->cap) return 0;
  return pd_grow(&s->alloc, &b->p, &b->cap, n, elem);
}

void pd_mx_buf_free(pd_store *s, pd_mx_buf *b) {
  pd_free(&s->alloc, b->p);
  b->p = NULL;
  b->cap = 0;
}

int pd_mx_is_push(const pd_st_touch *t, int posts) {
  if (t->purpose != PD_PURPOSE_PROMOTION) return 0;
  return t->kind == PD_TOUCH_OUTBOUND_1TO1 || t->kind == PD_TOUCH_BROADCAST ||
         (posts && t->kind == PD_TOUCH_POST_EXPOSURE);
}

static int push_cmp(const void *a, const void *b) {
  const pd_mx_push *x = a, *y = b;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  return (x->eid > y->eid) - (x->eid < y->eid);
}

/* Insertion sort for the usual handful of pushes; qsort beyond. */
void pd_mx_sort_pushes(pd_mx_push *p, size_t n) {
  if (n > 32) {
    qsort(p, n, sizeof *p, push_cmp);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    pd_mx_push v = p[i];
    size_t j = i;
    while (j > 0 && push_cmp(&p[j - 1], &v) > 0) {
      p[j] = p[j - 1];
      j--;
    }
    p[j] = v;
  }
}

void pd_mx_order_pushes(const pd_store *s, pd_mx_push *p, size_t n) {
  if (n < 2) return;
  /* Chains give pushes newest first: reversed, the sort has little to do
   * (and (time, index) is a total order, so the result is the same). */
  if (p[0].time > p[n - 1].time)
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
      pd_mx_push t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
  pd_mx_sort_pushes(p, n);
  const uint64_t *eid = s->col[PD_EV_TOUCH].eid;
  for (size_t lo = 0, hi; lo < n; lo = hi) {
    for (hi = lo + 1; hi < n && p[hi].time == p[lo].time;) hi++;
    if (hi - lo < 2) continue;
    for (size_t k = lo; k < hi; k++) p[k].eid = eid[p[k].eid];
    pd_mx_sort_pushes(p + lo, hi - lo);
  }
}

pd_status pd_mx_pushes(pd_store *s, uint32_t root, uint32_t t, int posts,
                       uint32_t guide, pd_mx_buf *b, size_t *n) {
  const pd_st_touch *ts = pd_st_touches(s);
  size_t k = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_TOUCH, i) {
    const pd_st_touch *x = &ts[i];
    if (x->time > t || !pd_mx_is_push(x, posts)) continue;
    if (guide != 0 && x->guide != guide) continue;
    if (pd_mx_buf_reserve(s, b, k + 1, sizeof(pd_mx_push)) != 0)
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
    pd_mx_push *p = (pd_mx_push *)b->p + k++;
    p->eid = i; /* pd_mx_order_pushes() gives the event ids */
    p->time = x->time;
    p->channel = x->channel;
  }
  pd_mx_order_pushes(s, (pd_mx_push *)b->p, k);
  *n = k;
  return PD_OK;
}

/* Pushes in (time - span, time] on the channel among p[lo..j], j counted. */
static uint32_t channel_count(const pd_mx_push *p, size_t j, uint32_t span) {
  uint32_t c = 0;
  for (size_t k = j + 1; k-- > 0;) {
    if ((uint64_t)p[k].time + span <= p[j].time) break;
    c += p[k].channel == p[j].channel;
  }
  return c;
}

uint32_t pd_mx_over_cap(const pd_mx_push *p, size_t n,
                        const pd_contact_policy *pol, int64_t from) {
  uint32_t over = 0;
  size_t lo_d = 0, lo_w = 0;
  for (size_t j = 0; j < n; j++) {
    while ((uint64_t)p[lo_d].time + PD_MX_DAY <= p[j].time) lo_d++;
    while ((uint64_t)p[lo_w].time + PD_MX_WEEK <= p[j].time) lo_w++;
    if ((int64_t)p[j].time <= from) continue;
    int broke = (pol->per_day && j - lo_d + 1 > pol->per_day) ||
                (pol->per_week && j - lo_w + 1 > pol->per_week) ||
                (pol->per_channel_day &&
                 channel_count(p, j, PD_MX_DAY) > pol->per_channel_day) ||
                (pol->per_channel_week &&
                 channel_count(p, j, PD_MX_WEEK) > pol->per_channel_week);
    over += (uint32_t)broke;
  }
  return over;
}

pd_status pd_mx_policy_load(pd_store *s, const pd_contact_policy *in,
                            pd_contact_policy *out) {
  const pd_contact_policy d = PD_CONTACT_POLICY_INIT;
  *out = d;
  if (in == NULL) return PD_OK;
  pd_status st = pd_st_check_size(s, in, sizeof *in, "pd_contact_policy");
  if (st) return st;
  memcpy(out, in, sizeof *out);
  if (out->count_post_exposures != 0 && out->count_post_exposures != 1)
    return pd_err(&s->err, PD_E_INVALID,
                  "count_post_exposures must be 0 or 1");
  return PD_OK;
}
