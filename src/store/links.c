/* Links (加好友 / 关注) and unlinks (删粉 / 取关 / 拉黑): recording, and the
 * link state of a user on a channel at a time, replayed from the events in
 * time order so that arrival order never matters. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/events.h>

#include "event_index.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_internal.h"
#include "store_query.h"


pd_status pd_st_record_link(pd_store *s, const pd_link_event *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_link_event), "link");
  if (st) return st;
  pd_link_event ev;
  memcpy(&ev, in, sizeof ev);
  pd_st_record_prefetch(s, ev.event_id, ev.user);
  if ((st = pd_st_check_time(s, ev.time, "link time")) != PD_OK) return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_LINK, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_link *l = &pd_st_links(s)[idx];
    int same = pd_st_same_user(s, l->user, ev.user) &&
               l->channel == ev.channel &&
               l->source == ev.source && l->campaign == ev.campaign &&
               l->guide == ev.guide && l->time == (uint32_t)ev.time;
    return pd_st_replay(s, same, ev.event_id, "link");
  }
  uint32_t u = 0;
  if ((st = pd_st_channel_check(s, ev.channel, 0, "link")) != PD_OK ||
      (st = pd_st_user_check(s, ev.user, "link user", &u)) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_SOURCE, ev.source, "link source")) !=
          PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_CAMPAIGN, ev.campaign,
                              "link campaign")) != PD_OK ||
      (st = pd_st_guide_check(s, ev.guide, 1, "link")) != PD_OK)
    return st;
  if ((st = pd_st_event_reserve(s, PD_EV_LINK)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_LINK, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_LINK, ev.event_id);
  pd_st_link *l = &pd_st_links(s)[i];
  l->user = u;
  l->time = (uint32_t)ev.time;
  l->source = ev.source;
  l->campaign = ev.campaign;
  l->guide = ev.guide;
  l->channel = (uint16_t)ev.channel;
  l->pad = 0;
  l->next = s->users[u].head[PD_EV_LINK];
  s->users[u].head[PD_EV_LINK] = i;
  return PD_OK;
}

pd_status pd_record_link(pd_store *s, const pd_link_event *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_link(s, ev));
}

pd_status pd_st_record_unlink(pd_store *s, const pd_unlink_event *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_unlink_event), "unlink");
  if (st) return st;
  pd_unlink_event ev;
  memcpy(&ev, in, sizeof ev);
  pd_st_record_prefetch(s, ev.event_id, ev.user);
  if (ev.initiator < PD_UNLINK_USER_DELETED ||
      ev.initiator > PD_UNLINK_STAFF_REMOVED)
    return pd_err(&s->err, PD_E_INVALID,
                  "unlink initiator %d is not a PD_UNLINK_*",
                  (int)ev.initiator);
  if ((st = pd_st_check_time(s, ev.time, "unlink time")) != PD_OK) return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_UNLINK, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_unlink *l = &pd_st_unlinks(s)[idx];
    int same = pd_st_same_user(s, l->user, ev.user) &&
               l->channel == ev.channel &&
               l->initiator == ev.initiator && l->guide == ev.guide &&
               l->time == (uint32_t)ev.time;
    return pd_st_replay(s, same, ev.event_id, "unlink");
  }
  uint32_t u = 0;
  if ((st = pd_st_channel_check(s, ev.channel, 0, "unlink")) != PD_OK ||
      (st = pd_st_user_check(s, ev.user, "unlink user", &u)) != PD_OK ||
      (st = pd_st_guide_check(s, ev.guide, 1, "unlink")) != PD_OK)
    return st;
  if ((st = pd_st_event_reserve(s, PD_EV_UNLINK)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_UNLINK, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_UNLINK, ev.event_id);
  pd_st_unlink *l = &pd_st_unlinks(s)[i];
  l->user = u;
  l->time = (uint32_t)ev.time;
  l->guide = ev.guide;
  l->channel = (uint16_t)ev.channel;
  l->initiator = (uint8_t)ev.initiator;
  l->pad = 0;
  l->next = s->users[u].head[PD_EV_UNLINK];
  s->users[u].head[PD_EV_UNLINK] = i;
  return PD_OK;
}

pd_status pd_record_unlink(pd_store *s, const pd_unlink_event *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_unlink(s, ev));
}

/* ---- link state ------------------------------------------------------------
 * A user's link and unlink events are gathered as refs (bit 31 set for an
 * unlink), sorted by (channel, time, link before unlink, event id) and
 * replayed: an unlink ends a live link, a link starts one or repeats it. */

#define UNLINK_BIT 0x80000000u

typedef struct link_ref_view {
  const pd_store *s;
} link_ref_view;

static void ref_key(const pd_store *s, uint32_t r, uint32_t *channel,
                    uint32_t *time, uint64_t *eid) {
  uint32_t i = r & ~UNLINK_BIT;
  if (r & UNLINK_BIT) {
    *channel = pd_st_unlinks(s)[i].channel;
    *time = pd_st_unlinks(s)[i].time;
    *eid = s->col[PD_EV_UNLINK].eid[i];
  } else {
    *channel = pd_st_links(s)[i].channel;
    *time = pd_st_links(s)[i].time;
    *eid = s->col[PD_EV_LINK].eid[i];
  }
}

static int ref_cmp(const void *ctx, uint32_t a, uint32_t b) {
  const pd_store *s = ((const link_ref_view *)ctx)->s;
  uint32_t ca, ta, cb, tb;
  uint64_t ea, eb;
  ref_key(s, a, &ca, &ta, &ea);
  ref_key(s, b, &cb, &tb, &eb);
  if (ca != cb) return ca < cb ? -1 : 1;
  if (ta != tb) return ta < tb ? -1 : 1;
  uint32_t ua = a & UNLINK_BIT, ub = b & UNLINK_BIT;
  if (ua != ub) return ua ? 1 : -1;
  return (ea > eb) - (ea < eb);
}

/* The refs of `root` at or before as_of (on `channel` only, unless
 * channel < 0), sorted, into v[0..cap) (2n + 1 entries: half are room to
 * sort). 0 and *n_out, or -1 when cap is too small. Reads the store only. */
static int gather_into(const pd_store *s, uint32_t root, int32_t channel,
                       uint32_t as_of, uint32_t *v, size_t cap,
                       size_t *n_out) {
  size_t n = 0;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    PD_ST_FOREACH_EVENT(s, m, PD_EV_LINK, i) {
      const pd_st_link *l = &pd_st_links(s)[i];
      if (l->time <= as_of && (channel < 0 || l->channel == channel)) {
        if (2 * n + 1 >= cap) return -1;
        v[n++] = i;
      }
    }
    PD_ST_FOREACH_EVENT(s, m, PD_EV_UNLINK, i) {
      const pd_st_unlink *l = &pd_st_unlinks(s)[i];
      if (l->time <= as_of && (channel < 0 || l->channel == channel)) {
        if (2 * n + 1 >= cap) return -1;
        v[n++] = i | UNLINK_BIT;
      }
    }
  }
  link_ref_view view = {s};
  pd_st_sort_u32(v, n, v + n, ref_cmp, &view);
  *n_out = n;
  return 0;
}

/* gather_into() through the store's scratch, sized for every link and
 * unlink of root. PD_OK or PD_E_NOMEM. */
static pd_status gather(pd_store *s, uint32_t root, int32_t channel,
                        uint32_t as_of, uint32_t **out, size_t *n_out) {
  size_t n = 0;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    PD_ST_FOREACH_EVENT(s, m, PD_EV_LINK, i) n++;
    PD_ST_FOREACH_EVENT(s, m, PD_EV_UNLINK, i) n++;
  }
  uint32_t *v = pd_st_scratch(s, (2 * n + 2) * sizeof *v);
  if (!v) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  (void)gather_into(s, root, channel, as_of, v, 2 * n + 2, n_out);
  *out = v;
  return PD_OK;
}

/* Replay sorted refs of one channel into a state. */
static void replay(const pd_store *s, const uint32_t *v, size_t n,
                   pd_link_state *st) {
  for (size_t k = 0; k < n; k++) {
    uint32_t i = v[k] & ~UNLINK_BIT;
    if (v[k] & UNLINK_BIT) {
      if (!st->linked) continue; /* an unlink without a link: no effect */
      const pd_st_unlink *u = &pd_st_unlinks(s)[i];
      st->linked = 0;
      st->unlinks++;
      st->linked_since = -1;
      st->last_unlinked = u->time;
      st->last_initiator = u->initiator;
    } else {
      const pd_st_link *l = &pd_st_links(s)[i];
      st->links++;
      if (st->first_linked < 0) {
        st->first_linked = l->time;
        st->source = l->source;
        st->guide = l->guide;
      }
      if (!st->linked) {
        st->linked = 1;
        st->linked_since = l->time;
      }
    }
  }
}

/* *out (its size kept) as the sorted refs v[0..n) of one channel leave
 * it. */
static void state_of(const pd_store *s, const uint32_t *v, size_t n,
                     int32_t channel, pd_link_state *out) {
  pd_link_state z = PD_LINK_STATE_INIT;
  z.size = out->size;
  z.channel = channel;
  *out = z;
  replay(s, v, n, out);
}

pd_status pd_st_link_state_at(pd_store *s, uint32_t root, int32_t channel,
                              uint32_t as_of, pd_link_state *out) {
  uint32_t *v = NULL;
  size_t n = 0;
  pd_status st = gather(s, root, channel, as_of, &v, &n);
  if (st) return st;
  state_of(s, v, n, channel, out);
  return PD_OK;
}

int pd_st_link_state_into(const pd_store *s, uint32_t root, int32_t channel,
                          uint32_t as_of, uint32_t *buf, size_t cap,
                          pd_link_state *out) {
  size_t n = 0;
  if (gather_into(s, root, channel, as_of, buf, cap, &n) != 0) return -1;
  state_of(s, buf, n, channel, out);
  return 0;
}

/* The channels linked after the sorted refs v[0..n) of every channel:
 * sorted by channel, time, kind, a channel is linked when its last ref is
 * a link. */
static uint32_t count_linked(const pd_store *s, const uint32_t *v, size_t n) {
  uint32_t c = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t ch, t, ch2 = 0;
    uint64_t e;
    ref_key(s, v[k], &ch, &t, &e);
    if (k + 1 < n) ref_key(s, v[k + 1], &ch2, &t, &e);
    if ((k + 1 == n || ch2 != ch) && !(v[k] & UNLINK_BIT)) c++;
  }
  return c;
}

pd_status pd_st_channels_linked(pd_store *s, uint32_t root, uint32_t as_of,
                                uint32_t *count) {
  uint32_t *v = NULL;
  size_t n = 0;
  pd_status st = gather(s, root, -1, as_of, &v, &n);
  if (st) return st;
  *count = count_linked(s, v, n);
  return PD_OK;
}

int pd_st_channels_linked_into(const pd_store *s, uint32_t root,
                               uint32_t as_of, uint32_t *buf, size_t cap,
                               uint32_t *count) {
  size_t n = 0;
  if (gather_into(s, root, -1, as_of, buf, cap, &n) != 0) return -1;
  *count = count_linked(s, buf, n);
  return 0;
}

/* Validate user, channel, time and the output struct shared by the two
 * public queries. */
static pd_status query_args(pd_store *s, pd_user_id user, int64_t as_of,
                            uint32_t *root) {
  pd_status st = pd_st_check_time(s, as_of, "as_of");
  if (st) return st;
  uint32_t u = 0;
  if ((st = pd_st_user_check(s, user, "user", &u)) != PD_OK) return st;
  *root = pd_st_find(s, u);
  return PD_OK;
}

pd_status pd_user_link_state(pd_store *s, pd_user_id user, int32_t channel,
                             int64_t as_of, pd_link_state *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if (out->size < sizeof *out)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "pd_link_state size %zu is smaller than %zu "
                                 "(use PD_LINK_STATE_INIT)",
                                 out->size, sizeof *out));
  uint32_t root = 0;
  if ((st = query_args(s, user, as_of, &root)) != PD_OK ||
      (st = pd_st_channel_check(s, channel, 0, "link state")) != PD_OK)
    return pd_st_leave(s, st);
  pd_link_state r;
  r.size = out->size;
  st = pd_st_link_state_at(s, root, channel, (uint32_t)as_of, &r);
  if (st) return pd_st_leave(s, st);
  memcpy(out, &r, sizeof r);
  return pd_st_leave(s, PD_OK);
}

pd_status pd_user_links(pd_store *s, pd_user_id user, int64_t as_of,
                        pd_link_state_fn fn, void *user_data) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (fn == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "fn is NULL"));
  uint32_t root = 0;
  if ((st = query_args(s, user, as_of, &root)) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t *v = NULL;
  size_t n = 0;
  if ((st = gather(s, root, -1, (uint32_t)as_of, &v, &n)) != PD_OK)
    return pd_st_leave(s, st);
  /* The callback may run queries that reuse the scratch: compute every
   * channel's state first, into memory of our own. */
  size_t channels = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t c, t;
    uint64_t e;
    ref_key(s, v[k], &c, &t, &e);
    uint32_t pc = 0;
    if (k > 0) ref_key(s, v[k - 1], &pc, &t, &e);
    if (k == 0 || c != pc) channels++;
  }
  pd_link_state *states = pd_malloc(&s->alloc, (channels + 1) * sizeof *states);
  if (!states)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOMEM, "out of memory"));
  size_t c_n = 0;
  for (size_t k = 0; k < n;) {
    uint32_t c, t, c2;
    uint64_t e;
    ref_key(s, v[k], &c, &t, &e);
    size_t end = k + 1;
    while (end < n) {
      ref_key(s, v[end], &c2, &t, &e);
      if (c2 != c) break;
      end++;
    }
    pd_link_state *ls = &states[c_n++];
    ls->size = sizeof *ls;
    state_of(s, v + k, end - k, (int32_t)c, ls);
    k = end;
  }
  s->depth++;
  for (size_t k = 0; k < c_n; k++)
    if (fn(user_data, &states[k]) != 0) break;
  s->depth--;
  pd_free(&s->alloc, states);
  return pd_st_leave(s, PD_OK);
}
