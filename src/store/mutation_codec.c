/* The mutation codec: one table row per mutation (see mutation_codec.h),
 * a generic varint encoder/decoder over the rows, and pd_st_log_emit. */
#include "mutation_codec.h"

#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/consent.h>
#include <privdomain/events.h>
#include <privdomain/guide_metrics.h>
#include <privdomain/guides.h>
#include <privdomain/purge.h>
#include <privdomain/users.h>

#include "mutation_hook.h"

/* Field kinds: unsigned and signed integers of 4 or 8 bytes, and byte
 * strings (pointer at `off`, size_t length at `len_off`). */
enum { PD_MF_U = 1, PD_MF_I = 2, PD_MF_BYTES = 3 };

typedef struct mut_field {
  uint16_t off;
  uint8_t kind;
  uint8_t width; /* 4 or 8 for integers */
  uint16_t len_off;
} mut_field;

#define MAX_FIELDS 14

typedef struct mut_row {
  int32_t type;
  const char *name;
  size_t args_size;
  int sized; /* args start with `size_t size` (public structs) */
  pd_status (*apply)(pd_store *s, const void *args);
  mut_field f[MAX_FIELDS];
} mut_row;

#define U(T, m) {offsetof(T, m), PD_MF_U, sizeof(((T *)0)->m), 0}
#define I(T, m) {offsetof(T, m), PD_MF_I, sizeof(((T *)0)->m), 0}
#define B(T, m, l) {offsetof(T, m), PD_MF_BYTES, 0, offsetof(T, l)}

/* ---- apply functions: the public entry points ------------------------- */

static pd_status ap_user_ensure(pd_store *s, const void *a) {
  const pd_mut_identity *m = a;
  pd_user_id out;
  return pd_user_ensure(s, m->ns, m->ns_len, m->key, m->key_len, &out);
}
static pd_status ap_user_attach(pd_store *s, const void *a) {
  const pd_mut_identity *m = a;
  pd_user_id out;
  return pd_user_attach(s, m->user, m->ns, m->ns_len, m->key, m->key_len,
                        &out);
}
static pd_status ap_user_merge(pd_store *s, const void *a) {
  const pd_mut_users *m = a;
  pd_user_id out;
  return pd_user_merge(s, m->a, m->b, &out);
}
static pd_status ap_user_erase(pd_store *s, const void *a) {
  return pd_user_erase(s, ((const pd_mut_users *)a)->a);
}
static pd_status ap_channel(pd_store *s, const void *a) {
  const pd_mut_name *m = a;
  int32_t out;
  if (m->value < INT32_MIN || m->value > INT32_MAX) return PD_E_INVALID;
  return pd_channel_register(s, m->name, m->name_len, (int32_t)m->value,
                             &out);
}
static pd_status ap_label(pd_store *s, const void *a) {
  const pd_mut_name *m = a;
  uint32_t out;
  if (m->value < INT32_MIN || m->value > INT32_MAX) return PD_E_INVALID;
  return pd_label_ensure(s, (int32_t)m->value, m->name, m->name_len, &out);
}
static pd_status ap_guide(pd_store *s, const void *a) {
  const pd_mut_name *m = a;
  uint32_t out;
  if (m->value < 0 || m->value > UINT32_MAX) return PD_E_INVALID;
  return pd_guide_ensure(s, m->name, m->name_len, (uint32_t)m->value, &out);
}
static pd_status ap_link(pd_store *s, const void *a) {
  return pd_record_link(s, a);
}
static pd_status ap_unlink(pd_store *s, const void *a) {
  return pd_record_unlink(s, a);
}
static pd_status ap_touch(pd_store *s, const void *a) {
  return pd_record_touchpoint(s, a);
}
static pd_status ap_order(pd_store *s, const void *a) {
  return pd_record_order(s, a);
}
static pd_status ap_refund(pd_store *s, const void *a) {
  return pd_record_refund(s, a);
}
static pd_status ap_referral(pd_store *s, const void *a) {
  return pd_record_referral(s, a);
}
static pd_status ap_reach(pd_store *s, const void *a) {
  return pd_record_reach(s, a);
}
static pd_status ap_cost(pd_store *s, const void *a) {
  return pd_record_cost(s, a);
}
static pd_status ap_bind(pd_store *s, const void *a) {
  return pd_record_guide_bind(s, a);
}
static pd_status ap_handover(pd_store *s, const void *a) {
  return pd_record_guide_handover(s, a);
}
static pd_status ap_deactivate(pd_store *s, const void *a) {
  return pd_record_guide_deactivate(s, a);
}
static pd_status ap_consent(pd_store *s, const void *a) {
  return pd_record_consent(s, a);
}
static pd_status ap_commission(pd_store *s, const void *a) {
  const pd_mut_setting *m = a;
  if (m->id > UINT32_MAX || m->value < INT32_MIN || m->value > INT32_MAX)
    return PD_E_INVALID;
  return pd_guide_set_commission(s, (uint32_t)m->id, (int32_t)m->value);
}
static pd_status ap_purge(pd_store *s, const void *a) {
  return pd_store_purge_before(s, ((const pd_mut_time *)a)->time, NULL);
}

/* ---- the table ---------------------------------------------------------- */

typedef pd_mut_identity MI;
typedef pd_mut_users MU;
typedef pd_mut_name MN;
typedef pd_mut_time MT;
typedef pd_mut_setting MS;

static const mut_row rows[] = {
    {PD_MUT_USER_ENSURE, "user_ensure", sizeof(MI), 0, ap_user_ensure,
     {B(MI, ns, ns_len), B(MI, key, key_len)}},
    {PD_MUT_USER_ATTACH, "user_attach", sizeof(MI), 0, ap_user_attach,
     {U(MI, user), B(MI, ns, ns_len), B(MI, key, key_len)}},
    {PD_MUT_USER_MERGE, "user_merge", sizeof(MU), 0, ap_user_merge,
     {U(MU, a), U(MU, b)}},
    {PD_MUT_USER_ERASE, "user_erase", sizeof(MU), 0, ap_user_erase,
     {U(MU, a)}},
    {PD_MUT_CHANNEL_REGISTER, "channel_register", sizeof(MN), 0, ap_channel,
     {I(MN, value), B(MN, name, name_len)}},
    {PD_MUT_LABEL_ENSURE, "label_ensure", sizeof(MN), 0, ap_label,
     {I(MN, value), B(MN, name, name_len)}},
    {PD_MUT_GUIDE_ENSURE, "guide_ensure", sizeof(MN), 0, ap_guide,
     {I(MN, value), B(MN, name, name_len)}},
    {PD_MUT_LINK, "link", sizeof(pd_link_event), 1, ap_link,
     {U(pd_link_event, event_id), U(pd_link_event, user),
      I(pd_link_event, channel), U(pd_link_event, source),
      U(pd_link_event, campaign), U(pd_link_event, guide),
      I(pd_link_event, time)}},
    {PD_MUT_UNLINK, "unlink", sizeof(pd_unlink_event), 1, ap_unlink,
     {U(pd_unlink_event, event_id), U(pd_unlink_event, user),
      I(pd_unlink_event, channel), I(pd_unlink_event, initiator),
      U(pd_unlink_event, guide), I(pd_unlink_event, time)}},
    {PD_MUT_TOUCHPOINT, "touchpoint", sizeof(pd_touchpoint), 1, ap_touch,
     {U(pd_touchpoint, event_id), U(pd_touchpoint, user),
      I(pd_touchpoint, kind), I(pd_touchpoint, purpose),
      I(pd_touchpoint, channel), U(pd_touchpoint, guide),
      U(pd_touchpoint, campaign), I(pd_touchpoint, rating_expertise),
      I(pd_touchpoint, rating_reliability), I(pd_touchpoint, rating_intimacy),
      I(pd_touchpoint, rating_self_orientation), I(pd_touchpoint, time)}},
    {PD_MUT_ORDER, "order", sizeof(pd_order), 1, ap_order,
     {U(pd_order, event_id), U(pd_order, order_id), U(pd_order, user),
      I(pd_order, time), I(pd_order, amount), I(pd_order, channel),
      U(pd_order, guide), U(pd_order, shop)}},
    {PD_MUT_REFUND, "refund", sizeof(pd_refund), 1, ap_refund,
     {U(pd_refund, event_id), U(pd_refund, order_id), I(pd_refund, time),
      I(pd_refund, amount)}},
    {PD_MUT_REFERRAL, "referral", sizeof(pd_referral), 1, ap_referral,
     {U(pd_referral, event_id), U(pd_referral, referrer),
      U(pd_referral, referee), U(pd_referral, campaign),
      I(pd_referral, time)}},
    {PD_MUT_REACH, "reach", sizeof(pd_reach), 1, ap_reach,
     {U(pd_reach, event_id), I(pd_reach, channel), U(pd_reach, source),
      I(pd_reach, period_start), I(pd_reach, period_end),
      U(pd_reach, reached)}},
    {PD_MUT_COST, "cost", sizeof(pd_acquisition_cost), 1, ap_cost,
     {U(pd_acquisition_cost, event_id), I(pd_acquisition_cost, channel),
      U(pd_acquisition_cost, source), I(pd_acquisition_cost, period_start),
      I(pd_acquisition_cost, period_end), I(pd_acquisition_cost, amount)}},
    {PD_MUT_GUIDE_BIND, "guide_bind", sizeof(pd_guide_bind), 1, ap_bind,
     {U(pd_guide_bind, event_id), U(pd_guide_bind, user),
      U(pd_guide_bind, guide), I(pd_guide_bind, time)}},
    {PD_MUT_GUIDE_HANDOVER, "guide_handover", sizeof(pd_guide_handover), 1,
     ap_handover,
     {U(pd_guide_handover, event_id), U(pd_guide_handover, from_guide),
      U(pd_guide_handover, to_guide), I(pd_guide_handover, time)}},
    {PD_MUT_GUIDE_DEACTIVATE, "guide_deactivate", sizeof(pd_guide_deactivate),
     1, ap_deactivate,
     {U(pd_guide_deactivate, event_id), U(pd_guide_deactivate, guide),
      I(pd_guide_deactivate, time)}},
    {PD_MUT_CONSENT, "consent", sizeof(pd_consent), 1, ap_consent,
     {U(pd_consent, event_id), U(pd_consent, user), I(pd_consent, purpose),
      I(pd_consent, granted), I(pd_consent, time)}},
    {PD_MUT_PURGE_BEFORE, "purge_before", sizeof(MT), 0, ap_purge,
     {I(MT, time)}},
    {PD_MUT_GUIDE_COMMISSION, "guide_commission", sizeof(MS), 0,
     ap_commission, {U(MS, id), I(MS, value)}},
};

#define N_ROWS (sizeof rows / sizeof rows[0])

static const mut_row *row_of(int32_t type) {
  for (size_t i = 0; i < N_ROWS; i++)
    if (rows[i].type == type) return &rows[i];
  return NULL;
}

const char *pd_mut_name_of(int32_t type) {
  const mut_row *r = row_of(type);
  return r ? r->name : NULL;
}

/* ---- varints ------------------------------------------------------------ */

static size_t put_varint(unsigned char *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}

/* 0 and *v, or -1 (truncated, longer than 10 bytes, or not minimal). */
static int get_varint(const unsigned char *p, size_t len, size_t *pos,
                      uint64_t *v) {
  uint64_t r = 0;
  for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
    if (*pos >= len) return -1;
    unsigned char c = p[(*pos)++];
    if (i == 9 && c > 1) return -1;
    r |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      if (c == 0 && i > 0) return -1; /* canonical: no trailing zeros */
      *v = r;
      return 0;
    }
  }
  return -1;
}

static uint64_t zigzag(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static int64_t unzigzag(uint64_t v) {
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- encode / decode ---------------------------------------------------- */

size_t pd_mut_encode(int32_t type, const void *args, unsigned char *buf,
                     size_t cap) {
  const mut_row *r = row_of(type);
  if (r == NULL || cap < 16) return 0;
  const unsigned char *a = args;
  size_t n = put_varint(buf, (uint64_t)type);
  for (int k = 0; k < MAX_FIELDS && r->f[k].kind; k++) {
    const mut_field *f = &r->f[k];
    if (cap - n < 11) return 0;
    if (f->kind == PD_MF_BYTES) {
      const char *p;
      size_t len;
      memcpy(&p, a + f->off, sizeof p);
      memcpy(&len, a + f->len_off, sizeof len);
      if (len > cap - n - 11) return 0;
      n += put_varint(buf + n, len);
      if (len) memcpy(buf + n, p, len);
      n += len;
    } else if (f->width == 4) {
      uint32_t u;
      memcpy(&u, a + f->off, 4);
      n += put_varint(buf + n, f->kind == PD_MF_I ? zigzag((int32_t)u) : u);
    } else {
      uint64_t u;
      memcpy(&u, a + f->off, 8);
      n += put_varint(buf + n, f->kind == PD_MF_I ? zigzag((int64_t)u) : u);
    }
  }
  return n;
}

int pd_mut_decode(const unsigned char *buf, size_t len, pd_mut_decoded *out) {
  size_t pos = 0;
  uint64_t t;
  if (get_varint(buf, len, &pos, &t) != 0 || t > INT32_MAX) return -1;
  const mut_row *r = row_of((int32_t)t);
  if (r == NULL || r->args_size > PD_MUT_ARGS_MAX) return -1;
  pd_mut_decoded m;
  memset(&m, 0, sizeof m);
  m.type = (int32_t)t;
  if (r->sized) {
    size_t size = r->args_size;
    memcpy(m.args, &size, sizeof size);
  }
  for (int k = 0; k < MAX_FIELDS && r->f[k].kind; k++) {
    const mut_field *f = &r->f[k];
    uint64_t v;
    if (get_varint(buf, len, &pos, &v) != 0) return -1;
    if (f->kind == PD_MF_BYTES) {
      if (v > len - pos) return -1;
      const char *p = (const char *)buf + pos;
      size_t l = (size_t)v;
      memcpy(m.args + f->off, &p, sizeof p);
      memcpy(m.args + f->len_off, &l, sizeof l);
      pos += l;
    } else if (f->width == 4) {
      uint32_t u;
      if (f->kind == PD_MF_I) {
        int64_t sv = unzigzag(v);
        if (sv < INT32_MIN || sv > INT32_MAX) return -1;
        u = (uint32_t)(int32_t)sv;
      } else {
        if (v > UINT32_MAX) return -1;
        u = (uint32_t)v;
      }
      memcpy(m.args + f->off, &u, 4);
    } else {
      uint64_t u = f->kind == PD_MF_I ? (uint64_t)unzigzag(v) : v;
      memcpy(m.args + f->off, &u, 8);
    }
  }
  if (pos != len) return -1;
  memcpy(out, &m, sizeof m);
  return 0;
}

pd_status pd_mut_apply(pd_store *s, const pd_mut_decoded *m) {
  const mut_row *r = row_of(m->type);
  if (r == NULL) return PD_E_INVALID;
  /* Logged identity keys are in stored form (pseudonymised when the store
   * has an identity key): do not hash them again. */
  s->ident_prehashed++;
  pd_status st = r->apply(s, m->args);
  s->ident_prehashed--;
  return st;
}

/* ---- the hook ----------------------------------------------------------- */

pd_st_hook *pd_st_hook_set(pd_store *s, pd_st_hook *h) {
  pd_st_hook *old = s->hook;
  s->hook = h;
  return old;
}

pd_status pd_st_log_emit(pd_store *s, int32_t type, const void *args) {
  unsigned char buf[PD_MUT_MAX_BYTES];
  size_t n = pd_mut_encode(type, args, buf, sizeof buf);
  if (n == 0)
    return pd_err(&s->err, PD_E_IO,
                  "the journal cannot encode mutation %d (no codec row)",
                  (int)type);
  pd_errbuf why;
  why.msg[0] = '\0';
  if (s->hook->append(s->hook->user, buf, n, &why) != 0)
    return pd_err(&s->err, PD_E_IO,
                  "the journal could not record this change, so it was not "
                  "made: %s",
                  why.msg);
  return PD_OK;
}
