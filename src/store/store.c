/* The store handle: creation and release, the lock, error messages,
 * column growth and store-wide statistics. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/channels.h>

#include "core/hash.h"
#include "event_index.h"
#include "names.h"
#include "mutation_hook.h"
#include "store_internal.h"
#include "store_query.h"
#include "store_threads.h"

/* ---- creation and release -------------------------------------------- */

static const struct {
  const char *name;
  int32_t kind;
} builtin_channels[PD_CHANNEL_BUILTIN_LAST] = {
    {"wechat", PD_CHANNEL_PRIVATE},
    {"wecom", PD_CHANNEL_PRIVATE},
    {"official_account", PD_CHANNEL_PRIVATE},
    {"mini_program", PD_CHANNEL_PRIVATE},
    {"wechat_group", PD_CHANNEL_PRIVATE},
    {"douyin", PD_CHANNEL_PRIVATE},
    {"app", PD_CHANNEL_PRIVATE},
    {"store", PD_CHANNEL_PUBLIC},
    {"sms", PD_CHANNEL_PRIVATE},
    {"package_card", PD_CHANNEL_PUBLIC},
    {"taobao_wangwang", PD_CHANNEL_PUBLIC},
    {"live_stream", PD_CHANNEL_PUBLIC},
};

static const size_t rec_sizes[PD_EV_KINDS] = {
    0,
    sizeof(pd_st_link),
    sizeof(pd_st_unlink),
    sizeof(pd_st_touch),
    sizeof(pd_st_order),
    sizeof(pd_st_refund),
    sizeof(pd_st_referral),
    sizeof(pd_st_bind),
    sizeof(pd_st_handover),
    sizeof(pd_st_deactivate),
    sizeof(pd_st_reach),
    sizeof(pd_st_cost),
    sizeof(pd_st_consent),
};

static void release_all(pd_store *s) {
  const pd_allocator *a = &s->alloc;
  pd_st_prefault_stop(s); /* it may be populating the columns */
  pd_st_memory_destroy(s);
  pd_free(a, s->users);
  if (s->ident_bytes) memset(s->ident_bytes, 0, s->ident_bytes_cap);
  pd_free(a, s->idents);
  pd_free(a, s->ident_bytes);
  pd_free(a, s->ident_slots);
  pd_st_names_free(&s->namespaces, a);
  pd_st_names_free(&s->channel_names, a);
  pd_free(a, s->channel_kind);
  for (int k = 0; k < 4; k++) pd_st_names_free(&s->labels[k], a);
  pd_st_names_free(&s->guide_codes, a);
  pd_free(a, s->guide_shop);
  pd_free(a, s->guide_deactivation);
  pd_free(a, s->guide_last_assigned);
  pd_free(a, s->guide_commission);
  for (int k = 0; k < PD_EV_KINDS; k++) {
    pd_free(a, s->col[k].eid);
    pd_free(a, s->col[k].rec);
  }
  pd_free(a, s->index.mem);
  pd_free(a, s->order_slots);
  pd_free(a, s->handover_sorted);
  pd_st_guide_index_free(s);
  pd_free(a, s->scratch);
}

static int add_builtins(pd_store *s) {
  s->channel_kind = pd_malloc(&s->alloc, 64);
  if (!s->channel_kind) return -1;
  s->channel_kind_cap = 64;
  for (int i = 0; i < PD_CHANNEL_BUILTIN_LAST; i++) {
    uint32_t id;
    const char *n = builtin_channels[i].name;
    if (pd_st_names_add(&s->channel_names, &s->alloc, n, strlen(n), &id) != 0)
      return -1;
    s->channel_kind[id] = (uint8_t)builtin_channels[i].kind;
  }
  s->users = pd_calloc(&s->alloc, 16, sizeof *s->users);
  if (!s->users) return -1;
  s->users_cap = 16;
  s->n_users = 1;
  return 0;
}

pd_status pd_store_new(const pd_store_options *opts, pd_store **out) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  if (out == NULL) return PD_E_INVALID;
  if (opts != NULL) {
    /* Callers built before identity_key was appended pass the older size. */
    size_t oldest = offsetof(pd_store_options, currency_exponent) +
                    sizeof o.currency_exponent;
    /* A size that cuts through identity_key* is no layout that existed. */
    if (opts->size < oldest ||
        (opts->size > offsetof(pd_store_options, identity_key) &&
         opts->size < sizeof o))
      return PD_E_INVALID;
    if (opts->size > sizeof o) {
      const unsigned char *extra = (const unsigned char *)opts + sizeof o;
      for (size_t i = 0; i < opts->size - sizeof o; i++)
        if (extra[i] != 0) return PD_E_INVALID;
    }
    memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
    if (opts->size < sizeof o) {
      o.identity_key = NULL;
      o.identity_key_len = 0;
    }
  }
  if (o.currency_exponent < 0 || o.currency_exponent > 4) return PD_E_INVALID;
  if (pd_st_identity_key_check(o.identity_key, o.identity_key_len) != 0)
    return PD_E_INVALID;
  pd_allocator ca;
  if (pd_alloc_init(&ca, o.allocator) != 0) return PD_E_INVALID;
  pd_store *s = ca.malloc_fn(ca.user, sizeof *s);
  if (!s) return PD_E_NOMEM;
  memset(s, 0, sizeof *s);
  s->caller_alloc = ca;
  if (pd_st_memory_init(s) != 0) {
    ca.free_fn(ca.user, s);
    return PD_E_NOMEM;
  }
  s->currency_exponent = o.currency_exponent;
  for (int k = 1; k < PD_EV_KINDS; k++) s->col[k].rec_size = rec_sizes[k];
  if (add_builtins(s) != 0) {
    release_all(s);
    ca.free_fn(ca.user, s);
    return PD_E_NOMEM;
  }
  if (mtx_init(&s->lock, mtx_plain | mtx_recursive) != thrd_success) {
    release_all(s);
    ca.free_fn(ca.user, s);
    return PD_E_NOMEM;
  }
  /* Keyed last, so no failure path leaves key material in freed memory. */
  pd_st_identity_key_set(s, o.identity_key, o.identity_key_len);
  s->magic = PD_ST_MAGIC;
  *out = s;
  return PD_OK;
}

void pd_store_free(pd_store *s) {
  if (!pd_st_valid(s)) return;
  if (s->hook && s->hook->release) s->hook->release(s->hook->user); /* journal */
  s->magic = PD_ST_MAGIC_DEAD;
  release_all(s);
  pd_hmac_sha256_wipe(&s->ident_key);
  mtx_destroy(&s->lock);
  pd_allocator ca = s->caller_alloc;
  ca.free_fn(ca.user, s);
}

/* ---- lock and errors -------------------------------------------------- */

void pd_st_lock(pd_store *s) { mtx_lock(&s->lock); }
void pd_st_unlock(pd_store *s) { mtx_unlock(&s->lock); }

pd_status pd_st_enter(pd_store *s, int recording) {
  if (!pd_st_valid(s)) return PD_E_MISUSE;
  mtx_lock(&s->lock);
  if (recording && s->depth > 0) {
    pd_err(&s->err, PD_E_MISUSE,
           "the store cannot be changed from inside one of its callbacks");
    mtx_unlock(&s->lock);
    return PD_E_MISUSE;
  }
  s->spare_keeping = !recording;
  if (!recording) {
    /* a computation gets the cores it was given */
    pd_st_prefault_stop(s);
    pd_st_guide_index_refresh(s);
  }
  return PD_OK;
}

pd_status pd_st_leave(pd_store *s, pd_status status) {
  if (status >= 0) pd_err_clear(&s->err);
  mtx_unlock(&s->lock);
  return status;
}

const char *pd_store_errmsg(const pd_store *s) {
  if (s == NULL) return "no store (NULL handle)";
  if (!pd_st_valid(s)) return "not a valid store handle (freed or corrupt)";
  return s->err.msg;
}

pd_status pd_store_errmsg_copy(const pd_store *cs, char *buf, size_t cap) {
  pd_store *s = (pd_store *)cs;
  if (!pd_st_valid(s)) return PD_E_MISUSE;
  if (buf == NULL || cap == 0) return PD_E_INVALID;
  mtx_lock(&s->lock);
  size_t n = strlen(s->err.msg);
  if (n >= cap) n = cap - 1;
  memcpy(buf, s->err.msg, n);
  buf[n] = '\0';
  mtx_unlock(&s->lock);
  return PD_OK;
}

int32_t pd_store_currency_exponent(const pd_store *s) {
  return pd_st_valid(s) ? s->currency_exponent : -1;
}

uint64_t pd_event_id_from_string(const char *text, size_t len) {
  if (text == NULL) return 0;
  if (len == PD_NTS) len = strlen(text);
  /* The seed is part of the contract: ids are persisted by callers. */
  uint64_t h = pd_hash_bytes(text, len, UINT64_C(0x70645f6576656e74));
  return h ? h : 1;
}

/* ---- helpers shared by the recording functions ------------------------ */

void *pd_st_scratch(pd_store *s, size_t bytes) {
  if (bytes <= s->scratch_cap) return s->scratch;
  void *p = pd_realloc_array(&s->alloc, s->scratch, bytes, 1);
  if (!p) return NULL;
  s->scratch = p;
  s->scratch_cap = bytes;
  return p;
}

/* Columns from this many bytes on grow by an eighth rather than by half.
 * They are the bulk of the store's memory, so their slack is most of its
 * waste; and blocks this large are mapped pages that glibc's realloc
 * moves without copying (mremap), so a small step costs page-table
 * updates, not copies. An allocator that copies pays eight copies of a
 * large column amortised instead of two. */
#define PD_ST_COLUMN_FINE_STEP ((size_t)64 << 20)

pd_status pd_st_column_reserve(pd_store *s, int kind, size_t count) {
  pd_st_column *c = &s->col[kind];
  if (count <= c->cap - c->n) return PD_OK;
  if (count > PD_ST_MAX_EVENTS_PER_KIND - c->n)
    return pd_err(&s->err, PD_E_FULL,
                  "this store holds at most 2^28 events of each kind");
  size_t need = c->n + count, ncap;
  if (count > 1)
    ncap = need; /* a reservation: exactly what was asked for */
  else if (c->cap < 64)
    ncap = 64;
  else if (c->cap * (c->rec_size + sizeof *c->eid) < PD_ST_COLUMN_FINE_STEP)
    ncap = c->cap + c->cap / 2;
  else
    ncap = c->cap + c->cap / 8;
  if (ncap > PD_ST_MAX_EVENTS_PER_KIND) ncap = PD_ST_MAX_EVENTS_PER_KIND;
  /* The background thread may be populating this column's memory. */
  pd_st_prefault_stop(s);
  uint64_t *e = pd_realloc_array(&s->alloc, c->eid, ncap, sizeof *e);
  if (!e) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  c->eid = e;
  void *r = pd_realloc_array(&s->alloc, c->rec, ncap, c->rec_size);
  if (!r) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  /* Metrics walk users' chains through the records, a random read each:
   * huge pages halve the trust distribution at 10M users (14.3 s -> 7.8 s)
   * for a few percent of recording time spent zeroing them (as a
   * snapshot load's arrays, which get them too). */
  pd_advise_random_large(&s->caller_alloc, r, ncap * c->rec_size);
  c->rec = r;
  c->cap = ncap;
  /* A reservation is about to be filled: its page faults are taken on
   * another thread rather than one by one while recording. */
  if (count > 1) pd_st_prefault_columns(s, kind);
  return PD_OK;
}

pd_status pd_store_reserve(pd_store *s, int32_t kind, uint64_t count) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (kind == PD_RESERVE_USERS) {
    if (count > (uint64_t)PD_ST_MAX_USERS)
      return pd_st_leave(s, pd_err(&s->err, PD_E_FULL,
                                   "this store holds at most 2^32-2 users"));
    return pd_st_leave(s, count ? pd_st_users_reserve(s, (size_t)count)
                                : PD_OK);
  }
  if (kind < 0 || kind >= PD_EV_KINDS)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "kind %d is neither 0, a PD_EVENT_* nor "
                                 "PD_RESERVE_USERS",
                                 (int)kind));
  /* PD_EVENT_* and the column kinds PD_EV_* are the same numbers. */
  uint64_t most = (uint64_t)PD_ST_MAX_EVENTS_PER_KIND * (kind ? 1 : 12);
  if (count > most)
    return pd_st_leave(s, pd_err(&s->err, PD_E_FULL,
                                 "this store holds at most 2^28 events of "
                                 "each kind"));
  if (count == 0) return pd_st_leave(s, PD_OK);
  if (kind == 0) {
    st = pd_st_event_reserve_many(s, 0, (size_t)count);
  } else {
    st = pd_st_event_reserve_many(s, kind, (size_t)count);
    if (st == PD_OK && kind == PD_EV_ORDER)
      st = pd_st_order_reserve(s, (size_t)count);
  }
  return pd_st_leave(s, st);
}

pd_status pd_st_check_size(pd_store *s, const void *rec, size_t known,
                           const char *what) {
  if (rec == NULL)
    return pd_err(&s->err, PD_E_INVALID, "%s is NULL", what);
  size_t size;
  memcpy(&size, rec, sizeof size);
  if (size < known)
    return pd_err(&s->err, PD_E_INVALID,
                  "%s: size %zu is smaller than %zu (initialise it with its "
                  "*_INIT macro)",
                  what, size, known);
  const unsigned char *extra = (const unsigned char *)rec + known;
  for (size_t i = 0; i < size - known; i++)
    if (extra[i] != 0)
      return pd_err(&s->err, PD_E_INVALID,
                    "%s: fields unknown to this library version are set",
                    what);
  return PD_OK;
}

pd_status pd_st_check_time(pd_store *s, int64_t t, const char *what) {
  if (t < PD_TIME_MIN || t > PD_TIME_MAX)
    return pd_err(&s->err, PD_E_RANGE,
                  "%s %lld is outside [0, %lld] (seconds since 1970; "
                  "milliseconds passed by mistake?)",
                  what, (long long)t, (long long)PD_TIME_MAX);
  return PD_OK;
}

uint32_t pd_st_event_time(const pd_store *s, int kind, uint32_t i) {
  switch (kind) {
    case PD_EV_LINK: return pd_st_links(s)[i].time;
    case PD_EV_UNLINK: return pd_st_unlinks(s)[i].time;
    case PD_EV_TOUCH: return pd_st_touches(s)[i].time;
    case PD_EV_ORDER: return pd_st_orders(s)[i].time;
    case PD_EV_REFUND: return pd_st_refunds(s)[i].time;
    case PD_EV_REFERRAL: return pd_st_referrals(s)[i].time;
    case PD_EV_BIND: return pd_st_binds(s)[i].time;
    case PD_EV_HANDOVER: return pd_st_handovers(s)[i].time;
    case PD_EV_DEACTIVATE: return pd_st_deactivations(s)[i].time;
    case PD_EV_REACH: return pd_st_reaches(s)[i].period_start;
    case PD_EV_COST: return pd_st_costs(s)[i].period_start;
    case PD_EV_CONSENT: return pd_st_consents(s)[i].time;
    default: return PD_ST_ERASED;
  }
}

/* ---- statistics --------------------------------------------------------- */

pd_status pd_store_get_stats(pd_store *s, pd_store_stats *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  /* Callers built against 0.1 pass the struct without spare_bytes. */
  size_t oldest = offsetof(pd_store_stats, spare_bytes);
  if (out->size < oldest)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "stats size %zu is smaller than %zu "
                                 "(use PD_STORE_STATS_INIT)",
                                 out->size, oldest));
  pd_store_stats r = PD_STORE_STATS_INIT;
  r.users = s->live_users;
  r.merged_users = s->merged_users;
  r.erased_users = s->erased_users;
  r.identities = s->live_idents;
  r.channels = s->channel_names.n;
  r.guides = s->guide_codes.n;
  r.links = s->col[PD_EV_LINK].live;
  r.unlinks = s->col[PD_EV_UNLINK].live;
  r.touchpoints = s->col[PD_EV_TOUCH].live;
  r.orders = s->col[PD_EV_ORDER].live;
  r.refunds = s->col[PD_EV_REFUND].live;
  r.referrals = s->col[PD_EV_REFERRAL].live;
  r.guide_events = (uint64_t)s->col[PD_EV_BIND].live +
                   s->col[PD_EV_HANDOVER].live +
                   s->col[PD_EV_DEACTIVATE].live;
  r.reach_records = s->col[PD_EV_REACH].live;
  r.cost_records = s->col[PD_EV_COST].live;
  for (int k = 1; k < PD_EV_KINDS; k++) r.events += s->col[k].live;
  r.memory_bytes = s->memory_bytes + sizeof *s;
  r.spare_bytes = pd_spare_bytes(&s->spare);
  r.size = out->size;
  memcpy(out, &r, out->size < sizeof r ? out->size : sizeof r);
  return pd_st_leave(s, PD_OK);
}
