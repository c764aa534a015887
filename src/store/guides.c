/* Shopping guides (导购): creation, binding users one at a time, handing a
 * leaving guide's users over (离职继承), deactivation, and the guide of a
 * user at a time. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/guides.h>

#include "event_index.h"
#include "names.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_internal.h"
#include "store_query.h"

pd_status pd_st_guide_check(pd_store *s, uint32_t guide, int allow_zero,
                            const char *what) {
  if (guide == 0) {
    if (allow_zero) return PD_OK;
    return pd_err(&s->err, PD_E_INVALID, "%s: guide 0 is not a guide", what);
  }
  if (guide > s->guide_codes.n)
    return pd_err(&s->err, PD_E_NOT_FOUND, "%s: guide %u does not exist",
                  what, guide);
  return PD_OK;
}

/* ---- guides --------------------------------------------------------------- */

pd_status pd_guide_ensure(pd_store *s, const char *code, size_t code_len,
                          uint32_t shop, uint32_t *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = pd_st_check_name(s, code, &code_len, "guide code")) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t i = pd_st_names_find(&s->guide_codes, code, code_len);
  if (i != PD_ST_NAME_NONE) {
    if (s->guide_shop[i] != shop)
      return pd_st_leave(s, pd_err(&s->err, PD_E_DUPLICATE,
                                   "guide \"%.*s\" exists with shop %u",
                                   (int)code_len, code, s->guide_shop[i]));
    *out = i + 1;
    return pd_st_leave(s, PD_REPLAYED);
  }
  if ((st = pd_st_label_check(s, PD_LABEL_SHOP, shop, "guide shop")) != PD_OK)
    return pd_st_leave(s, st);
  size_t n = s->guide_codes.n;
  if (n >= UINT32_MAX - 2)
    return pd_st_leave(s, pd_err(&s->err, PD_E_FULL, "too many guides"));
  if (n + 1 > s->guide_cap) {
    size_t ncap = s->guide_cap ? s->guide_cap * 2 : 16;
    uint32_t *a = pd_realloc_array(&s->alloc, s->guide_shop, ncap, 4);
    if (!a) goto nomem;
    s->guide_shop = a;
    a = pd_realloc_array(&s->alloc, s->guide_deactivation, ncap, 4);
    if (!a) goto nomem;
    s->guide_deactivation = a;
    a = pd_realloc_array(&s->alloc, s->guide_last_assigned, ncap, 4);
    if (!a) goto nomem;
    s->guide_last_assigned = a;
    s->guide_cap = ncap;
  }
  char *copy = NULL;
  if (pd_st_names_reserve(&s->guide_codes, &s->alloc) != 0 ||
      (copy = pd_strndup(&s->alloc, code, code_len)) == NULL)
    goto nomem;
  if ((st = pd_st_log(s, PD_MUT_GUIDE_ENSURE,
                      &(pd_mut_name){shop, code, code_len})) != PD_OK) {
    pd_free(&s->alloc, copy);
    return pd_st_leave(s, st);
  }
  pd_st_names_add_copy(&s->guide_codes, copy, code_len, &i);
  s->guide_shop[i] = shop;
  s->guide_deactivation[i] = PD_ST_NIL;
  s->guide_last_assigned[i] = 0;
  *out = i + 1;
  return pd_st_leave(s, PD_OK);
nomem:
  return pd_st_leave(s, pd_err(&s->err, PD_E_NOMEM, "out of memory"));
}

pd_status pd_guide_find(pd_store *s, const char *code, size_t code_len,
                        uint32_t *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = pd_st_check_name(s, code, &code_len, "guide code")) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t i = pd_st_names_find(&s->guide_codes, code, code_len);
  if (i == PD_ST_NAME_NONE)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "no guide has code \"%.*s\"", (int)code_len,
                                 code));
  *out = i + 1;
  return pd_st_leave(s, PD_OK);
}

/* PD_E_CONFLICT if guide g (non-zero) was deactivated at or before t. */
static pd_status check_active(pd_store *s, uint32_t g, uint32_t t,
                              const char *what) {
  uint32_t d = s->guide_deactivation[g - 1];
  if (d != PD_ST_NIL && pd_st_deactivations(s)[d].time <= t)
    return pd_err(&s->err, PD_E_CONFLICT,
                  "%s: guide %u was deactivated at %u, before %u", what, g,
                  pd_st_deactivations(s)[d].time, t);
  return PD_OK;
}

static void note_assigned(pd_store *s, uint32_t g, uint32_t t) {
  if (s->guide_last_assigned[g - 1] < t + 1)
    s->guide_last_assigned[g - 1] = t + 1;
}

/* ---- binds ---------------------------------------------------------------- */

pd_status pd_st_record_bind(pd_store *s, const pd_guide_bind *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_guide_bind), "guide bind");
  if (st) return st;
  pd_guide_bind ev;
  memcpy(&ev, in, sizeof ev);
  pd_st_record_prefetch(s, ev.event_id, ev.user);
  if ((st = pd_st_check_time(s, ev.time, "bind time")) != PD_OK) return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_BIND, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_bind *b = &pd_st_binds(s)[idx];
    int same = pd_st_same_user(s, b->user, ev.user) &&
               b->guide == ev.guide && b->time == (uint32_t)ev.time;
    return pd_st_replay(s, same, ev.event_id, "guide bind");
  }
  uint32_t u = 0;
  if ((st = pd_st_user_check(s, ev.user, "bind user", &u)) != PD_OK ||
      (st = pd_st_guide_check(s, ev.guide, 0, "bind")) != PD_OK ||
      (st = check_active(s, ev.guide, (uint32_t)ev.time, "bind")) != PD_OK)
    return st;
  if ((st = pd_st_event_reserve(s, PD_EV_BIND)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_GUIDE_BIND, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_BIND, ev.event_id);
  pd_st_bind *b = &pd_st_binds(s)[i];
  b->user = u;
  b->guide = ev.guide;
  b->time = (uint32_t)ev.time;
  b->next = s->users[u].head[PD_EV_BIND];
  s->users[u].head[PD_EV_BIND] = i;
  note_assigned(s, ev.guide, b->time);
  return PD_OK;
}

pd_status pd_record_guide_bind(pd_store *s, const pd_guide_bind *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_bind(s, ev));
}

/* ---- handovers ------------------------------------------------------------ */

/* (time, event id) order of events i and j of two kinds. */
static int key_less(const pd_store *s, uint32_t ti, uint64_t ei, uint32_t tj,
                    uint64_t ej) {
  (void)s;
  return ti < tj || (ti == tj && ei < ej);
}

pd_status pd_st_record_handover(pd_store *s, const pd_guide_handover *in) {
  pd_status st =
      pd_st_check_size(s, in, sizeof(pd_guide_handover), "guide handover");
  if (st) return st;
  pd_guide_handover ev;
  memcpy(&ev, in, sizeof ev);
  if ((st = pd_st_check_time(s, ev.time, "handover time")) != PD_OK) return st;
  if (ev.from_guide == ev.to_guide)
    return pd_err(&s->err, PD_E_INVALID,
                  "a handover needs two different guides");
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_HANDOVER, &idx)) !=
      PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_handover *h = &pd_st_handovers(s)[idx];
    int same = h->from == ev.from_guide && h->to == ev.to_guide &&
               h->time == (uint32_t)ev.time;
    return pd_st_replay(s, same, ev.event_id, "guide handover");
  }
  if ((st = pd_st_guide_check(s, ev.from_guide, 0, "handover from")) !=
          PD_OK ||
      (st = pd_st_guide_check(s, ev.to_guide, 0, "handover to")) != PD_OK ||
      (st = check_active(s, ev.to_guide, (uint32_t)ev.time, "handover to")) !=
          PD_OK)
    return st;
  pd_st_column *c = &s->col[PD_EV_HANDOVER];
  if ((st = pd_st_event_reserve(s, PD_EV_HANDOVER)) != PD_OK) return st;
  if (pd_grow(&s->alloc, (void **)&s->handover_sorted, &s->handover_sorted_cap,
              (size_t)c->n + 1, sizeof(uint32_t)) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  if ((st = pd_st_log(s, PD_MUT_GUIDE_HANDOVER, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_HANDOVER, ev.event_id);
  pd_st_handover *h = &pd_st_handovers(s)[i];
  h->from = ev.from_guide;
  h->to = ev.to_guide;
  h->time = (uint32_t)ev.time;
  /* Keep handovers sorted by (time, event id): they are rare, and every
   * guide lookup walks them in that order. */
  uint32_t *v = s->handover_sorted;
  size_t k = i;
  while (k > 0) {
    uint32_t p = v[k - 1];
    if (!key_less(s, h->time, ev.event_id, pd_st_handovers(s)[p].time,
                  c->eid[p]))
      break;
    v[k] = p;
    k--;
  }
  v[k] = i;
  note_assigned(s, ev.to_guide, h->time);
  return PD_OK;
}

pd_status pd_record_guide_handover(pd_store *s, const pd_guide_handover *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_handover(s, ev));
}

/* ---- deactivation --------------------------------------------------------- */

pd_status pd_st_record_deactivate(pd_store *s, const pd_guide_deactivate *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_guide_deactivate),
                                  "guide deactivation");
  if (st) return st;
  pd_guide_deactivate ev;
  memcpy(&ev, in, sizeof ev);
  if ((st = pd_st_check_time(s, ev.time, "deactivation time")) != PD_OK)
    return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_DEACTIVATE, &idx)) !=
      PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_deactivate *d = &pd_st_deactivations(s)[idx];
    return pd_st_replay(s, d->guide == ev.guide && d->time == ev.time,
                        ev.event_id, "guide deactivation");
  }
  if ((st = pd_st_guide_check(s, ev.guide, 0, "deactivation")) != PD_OK)
    return st;
  if (s->guide_deactivation[ev.guide - 1] != PD_ST_NIL)
    return pd_err(&s->err, PD_E_CONFLICT, "guide %u is already deactivated",
                  ev.guide);
  if (s->guide_last_assigned[ev.guide - 1] > (uint32_t)ev.time)
    return pd_err(&s->err, PD_E_CONFLICT,
                  "guide %u was given users at %u, at or after the "
                  "deactivation",
                  ev.guide, s->guide_last_assigned[ev.guide - 1] - 1);
  if ((st = pd_st_event_reserve(s, PD_EV_DEACTIVATE)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_GUIDE_DEACTIVATE, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_DEACTIVATE, ev.event_id);
  pd_st_deactivations(s)[i].guide = ev.guide;
  pd_st_deactivations(s)[i].time = (uint32_t)ev.time;
  s->guide_deactivation[ev.guide - 1] = i;
  return PD_OK;
}

pd_status pd_record_guide_deactivate(pd_store *s,
                                     const pd_guide_deactivate *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_deactivate(s, ev));
}

/* ---- the guide of a user at a time ----------------------------------------
 * Binds of the merge set and handovers are replayed in (time, event id)
 * order without a buffer: the next bind is found by a scan (users have few
 * binds), handovers are walked in their sorted array. */

/* The user's first bind after (cur_t, cur_e) (any, when !started) and at
 * or before t, with its key in *bt_out and *be_out, or NIL: users have
 * few binds, so a scan of the merge set's chains. */
static uint32_t next_bind(const pd_store *s, uint32_t root, uint32_t t,
                          int started, uint32_t cur_t, uint64_t cur_e,
                          uint32_t *bt_out, uint64_t *be_out) {
  const pd_st_bind *binds = pd_st_binds(s);
  const uint64_t *beid = s->col[PD_EV_BIND].eid;
  uint32_t nb = PD_ST_NIL, nb_t = 0;
  uint64_t nb_e = 0;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    PD_ST_FOREACH_EVENT(s, m, PD_EV_BIND, i) {
      uint32_t bt = binds[i].time;
      if (bt > t) continue; /* also skips erased binds */
      if (started && !key_less(s, cur_t, cur_e, bt, beid[i])) continue;
      if (nb == PD_ST_NIL || key_less(s, bt, beid[i], nb_t, nb_e)) {
        nb = i;
        nb_t = bt;
        nb_e = beid[i];
      }
    }
  }
  *bt_out = nb_t;
  *be_out = nb_e;
  return nb;
}

void pd_st_guide_index_free(pd_store *s) {
  pd_free(&s->alloc, s->hfrom.off);
  pd_free(&s->alloc, s->hfrom.list);
  pd_free(&s->alloc, s->hfrom.time);
  pd_free(&s->alloc, s->hfrom.eid);
  memset(&s->hfrom, 0, sizeof s->hfrom);
}

void pd_st_guide_index_refresh(pd_store *s) {
  uint32_t nh = s->col[PD_EV_HANDOVER].n;
  if (s->hfrom.valid && s->hfrom.built == nh) return;
  pd_st_guide_index_free(s);
  if (nh == 0) {
    s->hfrom.valid = 1; /* nothing to index: the walk is free */
    return;
  }
  const pd_st_handover *hs = pd_st_handovers(s);
  uint32_t ng = 0;
  for (uint32_t j = 0; j < nh; j++)
    if (hs[j].from > ng) ng = hs[j].from;
  uint32_t *off = pd_calloc(&s->alloc, (size_t)ng + 2, sizeof *off);
  uint32_t *list = pd_malloc(&s->alloc, (size_t)nh * sizeof *list);
  uint32_t *time = pd_malloc(&s->alloc, (size_t)nh * sizeof *time);
  uint64_t *eid = pd_malloc(&s->alloc, (size_t)nh * sizeof *eid);
  if (!off || !list || !time || !eid) {
    pd_free(&s->alloc, off), pd_free(&s->alloc, list);
    pd_free(&s->alloc, time), pd_free(&s->alloc, eid);
    return;
  }
  /* Counting sort of the time-sorted list by `from`, filled from the back
   * so each group stays in time order. */
  const uint32_t *order = s->handover_sorted;
  for (uint32_t j = 0; j < nh; j++) off[hs[order[j]].from + 1]++;
  for (uint32_t g = 1; g <= ng + 1; g++) off[g] += off[g - 1];
  uint32_t m = off[ng + 1];
  for (uint32_t j = nh; j-- > 0;) {
    uint32_t i = order[j];
    uint32_t k = --off[hs[i].from + 1];
    list[k] = i, time[k] = hs[i].time, eid[k] = s->col[PD_EV_HANDOVER].eid[i];
  }
  for (uint32_t g = 0; g <= ng; g++) off[g] = off[g + 1];
  off[ng + 1] = m;
  s->hfrom.off = off, s->hfrom.list = list;
  s->hfrom.time = time, s->hfrom.eid = eid;
  s->hfrom.guides = ng, s->hfrom.built = nh, s->hfrom.valid = 1;
}

uint32_t pd_st_next_handover_from(const pd_store *s, uint32_t g, uint32_t pt,
                                  uint64_t pe, uint32_t t) {
  if (g == 0) return PD_ST_NIL;
  const pd_st_handover *hs = pd_st_handovers(s);
  if (!(s->hfrom.valid && s->hfrom.built == s->col[PD_EV_HANDOVER].n)) {
    /* No index (out of memory): the time-sorted list, whole. */
    const uint64_t *heid = s->col[PD_EV_HANDOVER].eid;
    for (uint32_t j = 0; j < s->col[PD_EV_HANDOVER].n; j++) {
      uint32_t i = s->handover_sorted[j];
      if (hs[i].time > t) break;
      if (hs[i].from == g && key_less(s, pt, pe, hs[i].time, heid[i])) return i;
    }
    return PD_ST_NIL;
  }
  if (g > s->hfrom.guides) return PD_ST_NIL;
  uint32_t lo = s->hfrom.off[g], hi = s->hfrom.off[g + 1], end = hi;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (key_less(s, pt, pe, s->hfrom.time[mid], s->hfrom.eid[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo < end && s->hfrom.time[lo] <= t ? s->hfrom.list[lo] : PD_ST_NIL;
}

/* pd_st_guide_at with the index: from each position, the next event is
 * the user's next bind or the next handover of the current guide. */
static uint32_t guide_at_indexed(const pd_store *s, uint32_t root,
                                 uint32_t t) {
  const pd_st_bind *binds = pd_st_binds(s);
  const pd_st_handover *hs = pd_st_handovers(s);
  const uint64_t *heid = s->col[PD_EV_HANDOVER].eid;
  uint32_t g = 0, cur_t = 0;
  uint64_t cur_e = 0;
  int started = 0;
  for (;;) {
    uint32_t nb_t;
    uint64_t nb_e;
    uint32_t nb = next_bind(s, root, t, started, cur_t, cur_e, &nb_t, &nb_e);
    /* Handovers of the current guide before that bind move the user. */
    for (uint32_t h; started &&
                     (h = pd_st_next_handover_from(s, g, cur_t, cur_e, t)) != PD_ST_NIL &&
                     (nb == PD_ST_NIL ||
                      key_less(s, hs[h].time, heid[h], nb_t, nb_e));) {
      g = hs[h].to;
      cur_t = hs[h].time;
      cur_e = heid[h];
    }
    if (nb == PD_ST_NIL) return g;
    g = binds[nb].guide;
    cur_t = nb_t;
    cur_e = nb_e;
    started = 1;
  }
}

uint32_t pd_st_guide_at(const pd_store *s, uint32_t root, uint32_t t) {
  if (s->hfrom.valid && s->hfrom.built == s->col[PD_EV_HANDOVER].n)
    return guide_at_indexed(s, root, t);
  const pd_st_bind *binds = pd_st_binds(s);
  const pd_st_handover *hs = pd_st_handovers(s);
  const uint64_t *heid = s->col[PD_EV_HANDOVER].eid;
  const uint32_t *order = s->handover_sorted;
  size_t nh = s->col[PD_EV_HANDOVER].n;
  uint32_t g = 0, cur_t = 0;
  uint64_t cur_e = 0;
  int started = 0;
  size_t j = 0;
  for (;;) {
    /* The next bind after (cur_t, cur_e), at or before t. */
    uint32_t nb_t;
    uint64_t nb_e;
    uint32_t nb = next_bind(s, root, t, started, cur_t, cur_e, &nb_t, &nb_e);
    /* Handovers before that bind act on the current guide. */
    while (j < nh) {
      const pd_st_handover *h = &hs[order[j]];
      uint64_t he = heid[order[j]];
      if (h->time > t) {
        j = nh;
        break;
      }
      if (nb != PD_ST_NIL && !key_less(s, h->time, he, nb_t, nb_e)) break;
      if (started && g != 0 && h->from == g &&
          key_less(s, cur_t, cur_e, h->time, he))
        g = h->to;
      j++;
    }
    if (nb == PD_ST_NIL) return g;
    g = binds[nb].guide;
    cur_t = nb_t;
    cur_e = nb_e;
    started = 1;
  }
}

/* ---- guide query ---------------------------------------------------------- */

pd_status pd_guide_get(pd_store *s, uint32_t guide, int64_t as_of,
                       pd_guide_info *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if (out->size < sizeof *out)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "pd_guide_info size %zu is smaller than %zu "
                                 "(use PD_GUIDE_INFO_INIT)",
                                 out->size, sizeof *out));
  if ((st = pd_st_check_time(s, as_of, "as_of")) != PD_OK ||
      (st = pd_st_guide_check(s, guide, 0, "guide query")) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t t = (uint32_t)as_of, gi = guide - 1;
  pd_guide_info r = PD_GUIDE_INFO_INIT;
  r.size = out->size;
  r.guide = guide;
  r.shop = s->guide_shop[gi];
  r.code = s->guide_codes.str[gi];
  r.active = 1;
  uint32_t d = s->guide_deactivation[gi];
  if (d != PD_ST_NIL && pd_st_deactivations(s)[d].time <= t) {
    r.active = 0;
    r.deactivated = pd_st_deactivations(s)[d].time;
  }
  for (uint32_t u = 1; u < s->n_users; u++) {
    const pd_st_user *p = &s->users[u];
    if (p->parent != u || (p->flags & PD_ST_USER_ERASED)) continue;
    int has_binds = 0;
    PD_ST_FOREACH_MEMBER(s, u, m) has_binds |=
        s->users[m].head[PD_EV_BIND] != PD_ST_NIL;
    if (has_binds && pd_st_guide_at(s, u, t) == guide) r.users_bound++;
  }
  memcpy(out, &r, sizeof r);
  return pd_st_leave(s, PD_OK);
}
