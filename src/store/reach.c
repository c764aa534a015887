/* Reach counts (the denominator of the link rate 吸粉率) and acquisition
 * costs (for LTV:CAC), per channel and source and period. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/events.h>

#include "core/checked.h"
#include "event_index.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_internal.h"

static pd_status check_period(pd_store *s, int64_t start, int64_t end) {
  pd_status st;
  if ((st = pd_st_check_time(s, start, "period_start")) != PD_OK ||
      (st = pd_st_check_time(s, end, "period_end")) != PD_OK)
    return st;
  if (end <= start)
    return pd_err(&s->err, PD_E_RANGE,
                  "period_end %lld is not after period_start %lld",
                  (long long)end, (long long)start);
  return PD_OK;
}

pd_status pd_st_record_reach(pd_store *s, const pd_reach *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_reach), "reach");
  if (st) return st;
  pd_reach ev;
  memcpy(&ev, in, sizeof ev);
  if ((st = check_period(s, ev.period_start, ev.period_end)) != PD_OK)
    return st;
  if (ev.reached >= (UINT64_C(1) << 53))
    return pd_err(&s->err, PD_E_RANGE, "reached must be below 2^53");
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_REACH, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_reach *r = &pd_st_reaches(s)[idx];
    int same = r->channel == ev.channel && r->source == ev.source &&
               r->period_start == ev.period_start &&
               r->period_end == ev.period_end && r->reached == ev.reached;
    return pd_st_replay(s, same, ev.event_id, "reach record");
  }
  if ((st = pd_st_channel_check(s, ev.channel, 0, "reach")) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_SOURCE, ev.source,
                              "reach source")) != PD_OK)
    return st;
  if ((st = pd_st_event_reserve(s, PD_EV_REACH)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_REACH, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_REACH, ev.event_id);
  pd_st_reach *r = &pd_st_reaches(s)[i];
  r->reached = ev.reached;
  r->period_start = (uint32_t)ev.period_start;
  r->period_end = (uint32_t)ev.period_end;
  r->source = ev.source;
  r->channel = (uint16_t)ev.channel;
  r->pad = 0;
  return PD_OK;
}

pd_status pd_record_reach(pd_store *s, const pd_reach *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_reach(s, ev));
}

pd_status pd_st_record_cost(pd_store *s, const pd_acquisition_cost *in) {
  pd_status st =
      pd_st_check_size(s, in, sizeof(pd_acquisition_cost), "cost");
  if (st) return st;
  pd_acquisition_cost ev;
  memcpy(&ev, in, sizeof ev);
  if ((st = check_period(s, ev.period_start, ev.period_end)) != PD_OK)
    return st;
  if (ev.amount < 0)
    return pd_err(&s->err, PD_E_RANGE, "cost amount %lld is negative",
                  (long long)ev.amount);
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_COST, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_cost *c = &pd_st_costs(s)[idx];
    int same = c->channel == ev.channel && c->source == ev.source &&
               c->period_start == ev.period_start &&
               c->period_end == ev.period_end && c->amount == ev.amount;
    return pd_st_replay(s, same, ev.event_id, "cost record");
  }
  if ((st = pd_st_channel_check(s, ev.channel, 1, "cost")) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_SOURCE, ev.source, "cost source")) !=
          PD_OK)
    return st;
  int64_t total;
  if (pd_add_i64(s->cost_total, ev.amount, &total) != 0)
    return pd_err(&s->err, PD_E_OVERFLOW,
                  "cost amount %lld would overflow the store's total cost",
                  (long long)ev.amount);
  if ((st = pd_st_event_reserve(s, PD_EV_COST)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_COST, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_COST, ev.event_id);
  pd_st_cost *c = &pd_st_costs(s)[i];
  c->amount = ev.amount;
  c->period_start = (uint32_t)ev.period_start;
  c->period_end = (uint32_t)ev.period_end;
  c->source = ev.source;
  c->channel = (uint16_t)ev.channel;
  c->pad = 0;
  s->cost_total = total;
  return PD_OK;
}

pd_status pd_record_cost(pd_store *s, const pd_acquisition_cost *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_cost(s, ev));
}
