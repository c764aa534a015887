/* Reading a snapshot: every section is read into memory that grows only
 * as bytes actually arrive, its checksum verified, its counts bounded by
 * its length before anything is allocated, its values range-checked; the
 * whole store is then cross-checked (union-find, member rings, chains,
 * referrals, refunds) before the derived indexes are rebuilt. Nothing in
 * the file is trusted before it is checked. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <privdomain/channels.h>
#include <privdomain/users.h>

#include "core/crc32c.h"
#include "core/parallel.h"
#include "core/utf8.h"
#include "core/le_bytes.h"
#include "core/prefault.h"
#include "core/prefault_async.h"
#include "core/prefetch.h"
#include "direct_io.h"
#include "persist_internal.h"
#include "readahead.h"
#include "snapshot_feed.h"
#include "snapshot_format.h"
#include "snapshot_pread.h"
#include "store/names.h"
#include "store/store_restore.h"

#define NAME_MAX_BYTES 128

typedef struct column_scan column_scan;

typedef struct loader {
  pd_read_fn fn;
  void *user;
  pd_store *s;
  pd_errbuf *err;
  unsigned char *buf; /* current section's payload */
  size_t cap;
  /* Bytes known to remain in the input (a regular file's size less what
   * was read), or UINT64_MAX when unknown: a section no longer than this
   * gets its memory in one allocation, since the data is there. */
  uint64_t avail;
  /* The file being read (-1 when reading through a callback), the bytes
   * read so far (its offset) and the threads a large section may be read
   * with. */
  int fd;
  uint64_t pos;
  int32_t threads;
  size_t pread_from; /* sections from this long are read so */
  /* Direct reads of those sections (direct.fd -1 when not used); the
   * bounce buffers are allocated at the first such section. */
  pd_snap_direct direct;
  void *bounce_block;
  /* The event-id index built as the columns arrive (NULL: after the
   * read), and the kind whose ids the next array holds (0: none). */
  pd_snap_feed *feed;
  int feed_kind;
  /* The check of the records the next array holds, as they arrive (NULL:
   * none; see column_scan). */
  column_scan *scan;
} loader;

static void scan_step(column_scan *sc, unsigned char *rec, size_t bytes);

#define CORRUPT(...) pd_err(L->err, PD_E_CORRUPT, __VA_ARGS__)

/* Read exactly n bytes into p: PD_OK, PD_E_CORRUPT (the data ends early)
 * or PD_E_IO. */
static pd_status read_exact(loader *L, void *p, size_t n, const char *what) {
  size_t got = 0;
  while (got < n) {
    size_t g = 0;
    if (L->fn(L->user, (char *)p + got, n - got, &g) != 0)
      return pd_err(L->err, PD_E_IO, "reading the snapshot failed");
    if (g == 0 || g > n - got)
      return CORRUPT("the snapshot is truncated (in %s)", what);
    got += g;
  }
  if (L->avail != UINT64_MAX) L->avail = L->avail > n ? L->avail - n : 0;
  L->pos += n;
  return PD_OK;
}

/* Read a section payload of len bytes, growing the buffer only as data
 * arrives, so a hostile length costs no more memory than the data. The
 * first `plen` bytes were read already and are in `pre`. */
static pd_status read_payload(loader *L, const unsigned char *pre, size_t plen,
                              uint64_t len, const char *what) {
  size_t have = plen;
  if (len > SIZE_MAX / 2) return CORRUPT("section %s is impossibly long", what);
  if (plen > 0) {
    if (L->cap < 65536) {
      unsigned char *q = pd_realloc_array(&L->s->alloc, L->buf, 65536, 1);
      if (!q) return pd_err(L->err, PD_E_NOMEM, "out of memory");
      L->buf = q;
      L->cap = 65536;
    }
    memcpy(L->buf, pre, plen);
  }
  while (have < len) {
    size_t step = have < 65536 ? 65536 : have;
    if (step > len - have) step = (size_t)(len - have);
    if (have + step > L->cap) {
      size_t ncap = L->cap ? L->cap : 65536;
      while (ncap < have + step) ncap *= 2;
      unsigned char *q = pd_realloc_array(&L->s->alloc, L->buf, ncap, 1);
      if (!q) return pd_err(L->err, PD_E_NOMEM, "out of memory");
      L->buf = q;
      L->cap = ncap;
    }
    pd_status st = read_exact(L, L->buf + have, step, what);
    if (st) return st;
    have += step;
  }
  return PD_OK;
}

/* ---- names ---------------------------------------------------------------- */

static int name_ok(const unsigned char *p, uint32_t len) {
  return len >= 1 && len <= NAME_MAX_BYTES &&
         memchr(p, 0, len) == NULL && pd_utf8_valid((const char *)p, len);
}

static int ns_ok(const unsigned char *p, uint32_t len) {
  if (len < 1 || len > PD_IDENTITY_NS_MAX) return 0;
  for (uint32_t i = 0; i < len; i++) {
    unsigned char c = p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* Read one name (u32 len + bytes) and add it to t. */
static pd_status read_name(loader *L, pd_ibuf *in, pd_st_names *t, int is_ns,
                           const char *what) {
  uint32_t len = pd_get32(in);
  const unsigned char *p = pd_iget(in, len);
  if (!p) return CORRUPT("%s: a name runs past its section", what);
  if (!(is_ns ? ns_ok(p, len) : name_ok(p, len)))
    return CORRUPT("%s: a name is empty, too long or not valid UTF-8", what);
  if (pd_st_names_find(t, (const char *)p, len) != PD_ST_NAME_NONE)
    return CORRUPT("%s: a name appears twice", what);
  uint32_t id;
  if (pd_st_names_add(t, &L->s->alloc, (const char *)p, len, &id) != 0)
    return pd_err(L->err, PD_E_NOMEM, "out of memory");
  return PD_OK;
}

/* A count of items of at least `min_bytes` each must fit in what is left. */
static pd_status read_count(loader *L, pd_ibuf *in, size_t min_bytes,
                            uint32_t *n, const char *what) {
  *n = pd_get32(in);
  if (in->bad || (uint64_t)*n * min_bytes > pd_ileft(in))
    return CORRUPT("%s: count %u does not fit in the section", what, *n);
  return PD_OK;
}

static pd_status sec_namespaces(loader *L, pd_ibuf *in) {
  uint32_t n;
  pd_status st = read_count(L, in, 5, &n, "namespaces");
  for (uint32_t i = 0; !st && i < n; i++)
    st = read_name(L, in, &L->s->namespaces, 1, "namespaces");
  return st;
}

static pd_status sec_channels(loader *L, pd_ibuf *in) {
  pd_store *s = L->s;
  uint32_t n;
  pd_status st = read_count(L, in, 6, &n, "channels");
  if (st) return st;
  size_t builtins = s->channel_names.n;
  if (n < builtins ||
      n > builtins + (PD_ST_CHANNEL_ID_MAX - PD_CHANNEL_CUSTOM_FIRST + 1))
    return CORRUPT("channels: %u channels is not a possible count", n);
  if (pd_grow(&s->alloc, (void **)&s->channel_kind, &s->channel_kind_cap, n,
              1) != 0)
    return pd_err(L->err, PD_E_NOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    uint8_t kind = pd_get8(in);
    if (kind != PD_CHANNEL_PUBLIC && kind != PD_CHANNEL_PRIVATE)
      return CORRUPT("channels: channel %u has kind %u", i, kind);
    if (i < builtins) {
      uint32_t len = pd_get32(in);
      const unsigned char *p = pd_iget(in, len);
      if (!p || len != s->channel_names.len[i] ||
          memcmp(p, s->channel_names.str[i], len) != 0 ||
          kind != s->channel_kind[i])
        return CORRUPT("channels: built-in channel %u differs from this "
                       "library's",
                       i + 1);
      continue;
    }
    if ((st = read_name(L, in, &s->channel_names, 0, "channels")) != PD_OK)
      return st;
    s->channel_kind[i] = kind;
  }
  return PD_OK;
}

static pd_status sec_labels(loader *L, pd_ibuf *in) {
  if (pd_get32(in) != 3) return CORRUPT("labels: expected 3 kinds of label");
  for (int k = 1; k <= 3; k++) {
    uint32_t n;
    pd_status st = read_count(L, in, 5, &n, "labels");
    for (uint32_t i = 0; !st && i < n; i++)
      st = read_name(L, in, &L->s->labels[k], 0, "labels");
    if (st) return st;
  }
  return PD_OK;
}

static pd_status sec_guides(loader *L, pd_ibuf *in) {
  pd_store *s = L->s;
  uint32_t n;
  pd_status st = read_count(L, in, 17, &n, "guides");
  if (st) return st;
  if (n > 0) {
    s->guide_shop = pd_malloc(&s->alloc, (size_t)n * 4);
    s->guide_deactivation = pd_malloc(&s->alloc, (size_t)n * 4);
    s->guide_last_assigned = pd_malloc(&s->alloc, (size_t)n * 4);
    if (!s->guide_shop || !s->guide_deactivation || !s->guide_last_assigned)
      return pd_err(L->err, PD_E_NOMEM, "out of memory");
    s->guide_cap = n;
    s->guide_commission = pd_malloc(&s->alloc, (size_t)n * 4);
    if (!s->guide_commission)
      return pd_err(L->err, PD_E_NOMEM, "out of memory");
    s->guide_commission_cap = n;
  }
  for (uint32_t i = 0; i < n; i++) {
    if ((st = read_name(L, in, &s->guide_codes, 0, "guides")) != PD_OK)
      return st;
    uint32_t shop = pd_get32(in), last = pd_get32(in);
    int32_t commission = (int32_t)pd_get32(in);
    if (commission < -1 || commission > 10000)
      return CORRUPT("guides: guide %u has commission %d", i + 1,
                     (int)commission);
    s->guide_commission[i] = commission;
    if (shop > s->labels[PD_LABEL_SHOP].n)
      return CORRUPT("guides: guide %u has shop %u, which does not exist",
                     i + 1, shop);
    if (last > (uint32_t)PD_TIME_MAX + 1)
      return CORRUPT("guides: guide %u has an impossible assignment time",
                     i + 1);
    s->guide_shop[i] = shop;
    s->guide_deactivation[i] = PD_ST_NIL;
    s->guide_last_assigned[i] = last;
  }
  return PD_OK;
}

/* One user row of n, as read from either path: its parent comes before
 * it, its member ring stays among the users, its flags are known. */
static pd_status check_user(loader *L, const pd_st_user *p, uint32_t u,
                            uint32_t n) {
  if (p->parent == 0 || p->parent > u)
    return CORRUPT("users: user %u has parent %u (must be 1..%u)", u,
                   p->parent, u);
  if (p->next_member == 0 || p->next_member >= n)
    return CORRUPT("users: user %u has member link %u", u, p->next_member);
  if (p->flags & ~(uint32_t)PD_ST_USER_ERASED)
    return CORRUPT("users: user %u has unknown flags %#x", u, p->flags);
  return PD_OK;
}

/* Identity i of n, once the key bytes, namespaces and users are in: its
 * key lies in the key bytes and (unless erased) is valid UTF-8 of an
 * allowed length; its namespace, user and next link exist. */
static pd_status check_identity(loader *L, const pd_st_identity *d,
                                uint32_t i, uint32_t n) {
  const pd_store *s = L->s;
  uint64_t blen = s->ident_bytes_len;
  size_t key_max = s->ident_hashed ? 64 : PD_IDENTITY_KEY_MAX;
  if (d->off > blen || d->len > blen - d->off)
    return CORRUPT("identities: identity %u lies outside the key bytes", i);
  if (d->ns >= s->namespaces.n)
    return CORRUPT("identities: identity %u has namespace %u", i, d->ns);
  if (d->user >= s->n_users)
    return CORRUPT("identities: identity %u has user %u", i, d->user);
  if (d->next != PD_ST_NIL && d->next >= n)
    return CORRUPT("identities: identity %u links to %u", i, d->next);
  const char *key = s->ident_bytes + d->off;
  if (d->user != 0 &&
      (d->len == 0 || d->len > key_max || memchr(key, 0, d->len) != NULL ||
       !pd_utf8_valid(key, d->len)))
    return CORRUPT("identities: identity %u has an invalid key", i);
  return PD_OK;
}

static pd_status sec_users(loader *L, pd_ibuf *in) {
  pd_store *s = L->s;
  uint32_t n = pd_get32(in), chains = pd_get32(in);
  if (in->bad || n < 1 || n > PD_ST_MAX_USERS + 1)
    return CORRUPT("users: %u is not a possible count", n);
  if (chains < 1 || chains > PD_ST_USER_CHAINS)
    return chains > PD_ST_USER_CHAINS
               ? pd_err(L->err, PD_E_VERSION,
                        "users: %u event chains per user; this library "
                        "knows %d (written by a newer version?)",
                        chains, PD_ST_USER_CHAINS)
               : CORRUPT("users: %u event chains per user", chains);
  uint64_t row = 4 * (4 + (uint64_t)chains);
  if ((uint64_t)(n - 1) * row != pd_ileft(in))
    return CORRUPT("users: %u users do not fill the section", n);
  pd_st_user *us = pd_malloc(&s->alloc, (size_t)n * sizeof *us);
  if (!us) return pd_err(L->err, PD_E_NOMEM, "out of memory");
  pd_free(&s->alloc, s->users);
  s->users = us;
  s->users_cap = n;
  s->n_users = n;
  memset(&us[0], 0, sizeof us[0]);
  pd_status st;
  for (uint32_t u = 1; u < n; u++) {
    pd_st_user *p = &us[u];
    p->parent = pd_get32(in);
    p->next_member = pd_get32(in);
    p->referral_in = pd_get32(in);
    p->flags = pd_get32(in);
    for (uint32_t c = 0; c < PD_ST_USER_CHAINS; c++)
      p->head[c] = c < chains ? pd_get32(in) : PD_ST_NIL;
    if ((st = check_user(L, p, u, n)) != PD_OK) return st;
  }
  return PD_OK;
}

static pd_status sec_identities(loader *L, pd_ibuf *in) {
  pd_store *s = L->s;
  uint64_t blen = pd_get64(in);
  if (in->bad || blen > pd_ileft(in))
    return CORRUPT("identities: %llu key bytes do not fit in the section",
                   (unsigned long long)blen);
  const unsigned char *bytes = pd_iget(in, (size_t)blen);
  uint32_t n;
  pd_status st = read_count(L, in, 24, &n, "identities");
  if (st) return st;
  if (pd_ileft(in) != (uint64_t)n * 24)
    return CORRUPT("identities: %u identities do not fill the section", n);
  if (blen > 0) {
    s->ident_bytes = pd_malloc(&s->alloc, (size_t)blen);
    if (!s->ident_bytes) return pd_err(L->err, PD_E_NOMEM, "out of memory");
    memcpy(s->ident_bytes, bytes, (size_t)blen);
    s->ident_bytes_cap = (size_t)blen;
  }
  s->ident_bytes_len = blen;
  if (n > 0) {
    s->idents = pd_malloc(&s->alloc, (size_t)n * sizeof *s->idents);
    if (!s->idents) return pd_err(L->err, PD_E_NOMEM, "out of memory");
    s->idents_cap = n;
  }
  s->n_idents = n;
  for (uint32_t i = 0; i < n; i++) {
    pd_st_identity *d = &s->idents[i];
    d->off = pd_get64(in);
    d->len = pd_get32(in);
    d->user = pd_get32(in);
    d->next = pd_get32(in);
    d->ns = pd_get32(in);
    if ((st = check_identity(L, d, i, n)) != PD_OK) return st;
  }
  return PD_OK;
}

/* ---- events ------------------------------------------------------------- */

static uint64_t get_field(const unsigned char *rec, const pd_snap_field *f) {
  switch (f->width) {
    case 1: return rec[f->off];
    case 2: {
      uint16_t v;
      memcpy(&v, rec + f->off, 2);
      return v;
    }
    case 4: {
      uint32_t v;
      memcpy(&v, rec + f->off, 4);
      return v;
    }
    default: {
      uint64_t v;
      memcpy(&v, rec + f->off, 8);
      return v;
    }
  }
}

static void set_field(unsigned char *rec, const pd_snap_field *f,
                      uint64_t v) {
  switch (f->width) {
    case 1: rec[f->off] = (unsigned char)v; break;
    case 2: {
      uint16_t x = (uint16_t)v;
      memcpy(rec + f->off, &x, 2);
      break;
    }
    case 4: {
      uint32_t x = (uint32_t)v;
      memcpy(rec + f->off, &x, 4);
      break;
    }
    default: memcpy(rec + f->off, &v, 8);
  }
}

static int channel_exists(const pd_store *s, uint64_t id) {
  if (id == 0) return 1;
  size_t builtins = PD_CHANNEL_BUILTIN_LAST;
  if (id <= builtins) return id <= s->channel_names.n;
  if (id < PD_CHANNEL_CUSTOM_FIRST || id > PD_ST_CHANNEL_ID_MAX) return 0;
  return id - PD_CHANNEL_CUSTOM_FIRST + builtins < s->channel_names.n;
}

/* Check one field's value against its role; 0 if it holds. */
static int field_ok(const pd_store *s, int kind, uint32_t n,
                    const pd_snap_field *f, uint64_t v) {
  switch (f->role) {
    case PD_SF_OWNER:
    case PD_SF_USER: return v >= 1 && v < s->n_users;
    case PD_SF_NEXT: return v == PD_ST_NIL || v < n;
    case PD_SF_TIME: return v <= (uint64_t)PD_TIME_MAX || v == PD_ST_ERASED;
    case PD_SF_TIME2: return v <= (uint64_t)PD_TIME_MAX;
    case PD_SF_CHANNEL: return channel_exists(s, v);
    case PD_SF_GUIDE: return v <= s->guide_codes.n;
    case PD_SF_LABEL: return v <= s->labels[f->arg].n;
    case PD_SF_ORDER: return kind > PD_EV_ORDER && v < s->col[PD_EV_ORDER].n;
    case PD_SF_AMOUNT: return (int64_t)v >= 0;
    case PD_SF_MAX: return v <= f->arg;
    case PD_SF_ZERO: return v == 0;
    default: return 1;
  }
}

static pd_status sec_events(loader *L, pd_ibuf *in, int kind) {
  pd_store *s = L->s;
  const pd_snap_kind *sk = &pd_snap_kinds[kind];
  uint32_t k = pd_get32(in), n = pd_get32(in), bytes = pd_get32(in);
  if (in->bad || k != (uint32_t)kind)
    return CORRUPT("%s events: section names kind %u", sk->name, k);
  if (bytes != pd_snap_kind_bytes(kind))
    return pd_err(L->err, PD_E_VERSION,
                  "%s events: records of %u bytes, this library writes %zu",
                  sk->name, bytes, pd_snap_kind_bytes(kind));
  if (n > PD_ST_MAX_EVENTS_PER_KIND ||
      (uint64_t)n * (8 + (uint64_t)bytes) != pd_ileft(in))
    return CORRUPT("%s events: %u events do not fill the section", sk->name,
                   n);
  pd_st_column *c = &s->col[kind];
  if (n > 0) {
    c->eid = pd_malloc(&s->alloc, (size_t)n * 8);
    c->rec = pd_calloc(&s->alloc, n, c->rec_size);
    if (!c->eid || !c->rec) return pd_err(L->err, PD_E_NOMEM, "out of memory");
    c->cap = n;
  }
  c->n = n;
  for (uint32_t i = 0; i < n; i++) c->eid[i] = pd_get64(in);
  for (uint32_t i = 0; i < n; i++) {
    unsigned char *rec = pd_st_rec(s, kind, i);
    for (int j = 0; j < PD_SNAP_MAX_FIELDS && sk->f[j].width; j++) {
      const pd_snap_field *f = &sk->f[j];
      uint64_t v = 0;
      switch (f->width) {
        case 1: v = pd_get8(in); break;
        case 2: v = pd_get16(in); break;
        case 4: v = pd_get32(in); break;
        default: v = pd_get64(in);
      }
      if (!field_ok(s, kind, n, f, v))
        return CORRUPT("%s event %u: field %d holds %llu, out of range",
                       sk->name, i, j, (unsigned long long)v);
      set_field(rec, f, v);
    }
  }
  return PD_OK;
}

/* ---- the large sections, read straight into the store's arrays ---------- */

/* Users, identities and event columns are most of a snapshot. Where the
 * host's layout of a row is its file image (snapshot_format.h), the rows
 * are read in blocks straight into the array the store keeps, summed on
 * the way, and then checked in place: no staging copy and no decoding.
 * Other hosts and layouts take the buffered path (read_payload and the
 * sec_* parsers above), which checks the same rules. */
#define STEP_BYTES ((size_t)1 << 20)
/* Each worker's buffer for direct reads. */
#define DIRECT_BOUNCE_BYTES ((size_t)4 << 20)

/* n bytes of a file into dst on L->threads threads, continuing *crc; the
 * outcome (and message) is read_exact()'s for the same bytes. */
static pd_status read_parallel(loader *L, unsigned char *dst, size_t n,
                               uint32_t *crc, const char *what) {
  pd_snap_direct *d = L->direct.fd >= 0 ? &L->direct : NULL;
  if (d != NULL && d->bounce == NULL) {
    d->workers = L->threads;
    d->bounce_bytes = DIRECT_BOUNCE_BYTES;
    d->bounce = pd_direct_alloc(&L->s->alloc,
                                (size_t)d->workers * d->bounce_bytes,
                                &L->bounce_block);
    if (d->bounce == NULL) d = NULL; /* read through the page cache */
  }
  /* chunks of an eighth of the threshold: 4 MB, two huge pages */
  int r = pd_snap_pread_direct(L->fd, d, L->pos, dst, n, L->threads,
                               L->pread_from >= 8 ? L->pread_from / 8 : 1,
                               crc);
  if (r == -1) return pd_err(L->err, PD_E_IO, "reading the snapshot failed");
  if (r == -2) return CORRUPT("the snapshot is truncated (in %s)", what);
  L->pos += n;
  L->avail = L->avail > n ? L->avail - n : 0;
  /* the sequential reads go on after these bytes */
  if (lseek(L->fd, (off_t)L->pos, SEEK_SET) < 0)
    return pd_err(L->err, PD_E_IO, "reading the snapshot failed");
  return PD_OK;
}

/* Read n bytes of the current section into a new array with `skip`
 * leading bytes that are not from the file, adding them to *crc. The
 * array is allocated once when the input is known to hold n more bytes,
 * else grown as the data arrives. On success *out owns it (NULL when the
 * array would be empty); on failure nothing is left allocated. */
static pd_status stream_array(loader *L, size_t skip, uint64_t n,
                              uint32_t *crc, void **out, const char *what) {
  const pd_allocator *a = &L->s->alloc;
  if (n > SIZE_MAX / 2 - skip)
    return CORRUPT("section %s is impossibly long", what);
  size_t total = skip + (size_t)n, cap = 0, have = 0;
  unsigned char *p = NULL;
  *out = NULL;
  if (total == 0) return PD_OK;
  if (n == 0 || (L->avail != UINT64_MAX && n <= L->avail)) {
    if (!(p = pd_malloc(a, total)))
      return pd_err(L->err, PD_E_NOMEM, "out of memory");
    cap = total;
    /* Filled at once and kept: huge pages take a five-hundredth of the
     * page faults that the read into it would take. */
    pd_advise_random_large(&L->s->caller_alloc, p, total);
  }
  if (cap == total && L->fd >= 0 &&
      (L->threads > 1 || L->direct.fd >= 0) && n >= L->pread_from) {
    pd_status st = read_parallel(L, p + skip, (size_t)n, crc, what);
    if (st) pd_free(a, p);
    else *out = p;
    return st;
  }
  /* an array of event ids allocated whole: index them as they arrive */
  int feeding = L->feed != NULL && L->feed_kind != 0 && cap == total &&
                skip == 0 && n % 8 == 0;
  if (feeding)
    pd_snap_feed_column(L->feed, L->feed_kind, (const uint64_t *)(void *)p,
                        (uint32_t)(n / 8));
  /* records allocated whole: check them as they arrive */
  int scanning = L->scan != NULL && cap == total && skip == 0;
  /* Read ahead, this thread's copy can outrun the system's supply of
   * fresh pages (a hypervisor's faults); another thread takes the
   * second half's faults meanwhile, so that two fronts advance. */
  pd_prefault_async *second_half = NULL;
  if (L->feed != NULL && cap == total && total >= PD_PREFAULT_FROM) {
    pd_prefault_range half = {p + total / 2, total - total / 2};
    second_half = pd_prefault_async_start(&L->s->alloc, &half, 1);
  }
  while (have < n) {
    size_t step = (size_t)n - have;
    if (step > STEP_BYTES) step = STEP_BYTES;
    size_t need = skip + have + step;
    if (need > cap) {
      size_t ncap = cap < STEP_BYTES ? STEP_BYTES : cap * 2;
      if (ncap < need || ncap < cap) ncap = need;
      if (ncap > total) ncap = total;
      unsigned char *q = pd_realloc_array(a, p, ncap, 1);
      if (!q) {
        pd_free(a, p);
        return pd_err(L->err, PD_E_NOMEM, "out of memory");
      }
      p = q;
      cap = ncap;
    }
    pd_status st = read_exact(L, p + skip + have, step, what);
    if (st) {
      pd_prefault_async_stop(second_half);
      if (feeding) { /* the feeding thread reads p */
        pd_snap_feed_stop(L->feed, NULL);
        L->feed = NULL;
      }
      pd_free(a, p);
      return st;
    }
    *crc = pd_crc32c(*crc, p + skip + have, step);
    have += step;
    if (feeding) pd_snap_feed_ready(L->feed, (uint32_t)(have / 8));
    if (scanning) scan_step(L->scan, p, have);
  }
  pd_prefault_async_stop(second_half);
  *out = p;
  return PD_OK;
}

/* Read the section's 4-byte checksum and compare it with crc. */
static pd_status check_crc(loader *L, uint32_t crc, const char *what) {
  unsigned char c[4];
  pd_status st = read_exact(L, c, 4, what);
  if (st) return st;
  if (crc != pd_rd32(c)) return CORRUPT("section %s fails its checksum", what);
  return PD_OK;
}

typedef pd_status (*section_parser)(loader *L, pd_ibuf *in, int kind);

/* The buffered path: the rest of the section into L->buf after the
 * `plen` bytes already read, its checksum, then the parser. */
static pd_status buffered(loader *L, const unsigned char *h,
                          const unsigned char *pre, size_t plen, uint64_t len,
                          const char *what, section_parser parse, int kind) {
  pd_status st = read_payload(L, pre, plen, len, what);
  if (st) return st;
  uint32_t crc = pd_crc32c(pd_crc32c(0, h, PD_SNAP_SECTION_HEADER_BYTES),
                           L->buf, (size_t)len);
  if ((st = check_crc(L, crc, what)) != PD_OK) return st;
  pd_ibuf in = {L->buf, (size_t)len, 0, 0};
  if ((st = parse(L, &in, kind)) != PD_OK) return st;
  if (in.bad || pd_ileft(&in) != 0)
    return CORRUPT("section %s has %s", what,
                   in.bad ? "too few bytes" : "bytes left over");
  return PD_OK;
}

static pd_status parse_users(loader *L, pd_ibuf *in, int kind) {
  (void)kind;
  return sec_users(L, in);
}
static pd_status parse_identities(loader *L, pd_ibuf *in, int kind) {
  (void)kind;
  return sec_identities(L, in);
}
static pd_status parse_events(loader *L, pd_ibuf *in, int kind) {
  return sec_events(L, in, kind);
}

/* Read `plen` <= 16 bytes that open a section, summing them after the
 * section header. */
static pd_status read_prefix(loader *L, const unsigned char *h, uint64_t len,
                             unsigned char *pre, size_t plen, uint32_t *crc,
                             const char *what) {
  if (len < plen) return CORRUPT("section %s has too few bytes", what);
  pd_status st = read_exact(L, pre, plen, what);
  if (st) return st;
  *crc = pd_crc32c(pd_crc32c(0, h, PD_SNAP_SECTION_HEADER_BYTES), pre, plen);
  return PD_OK;
}

static pd_status stream_users(loader *L, const unsigned char *h,
                              uint64_t len) {
  pd_store *s = L->s;
  unsigned char pre[8];
  uint32_t crc;
  pd_status st = read_prefix(L, h, len, pre, 8, &crc, "users");
  if (st) return st;
  uint32_t n = pd_rd32(pre), chains = pd_rd32(pre + 4);
  if (!PD_SNAP_USERS_RAW || chains != PD_ST_USER_CHAINS || n < 1 ||
      n > PD_ST_MAX_USERS + 1 ||
      (uint64_t)(n - 1) * sizeof(pd_st_user) != len - 8)
    return buffered(L, h, pre, 8, len, "users", parse_users, 0);
  void *mem;
  st = stream_array(L, sizeof(pd_st_user),
                    (uint64_t)(n - 1) * sizeof(pd_st_user), &crc, &mem,
                    "users");
  if (st) return st;
  pd_free(&s->alloc, s->users);
  s->users = mem;
  s->users_cap = n;
  s->n_users = n;
  if ((st = check_crc(L, crc, "users")) != PD_OK) return st;
  pd_st_user *us = s->users;
  memset(&us[0], 0, sizeof us[0]);
  for (uint32_t u = 1; u < n; u++) {
    const pd_st_user *p = &us[u];
    if ((st = check_user(L, p, u, n)) != PD_OK) return st;
  }
  return PD_OK;
}

static pd_status stream_identities(loader *L, const unsigned char *h,
                                   uint64_t len) {
  pd_store *s = L->s;
  unsigned char pre[8], cnt[4];
  uint32_t crc;
  pd_status st = read_prefix(L, h, len, pre, 8, &crc, "identities");
  if (st) return st;
  uint64_t blen = pd_rd64(pre);
  if (!PD_SNAP_IDENTS_RAW || len < 12 || blen > len - 12)
    return buffered(L, h, pre, 8, len, "identities", parse_identities, 0);
  void *mem;
  if ((st = stream_array(L, 0, blen, &crc, &mem, "identities")) != PD_OK)
    return st;
  s->ident_bytes = mem;
  s->ident_bytes_cap = (size_t)blen;
  s->ident_bytes_len = blen;
  if ((st = read_exact(L, cnt, 4, "identities")) != PD_OK) return st;
  crc = pd_crc32c(crc, cnt, 4);
  uint32_t n = pd_rd32(cnt);
  if (len - 12 - blen != (uint64_t)n * 24)
    return CORRUPT("identities: %u identities do not fill the section", n);
  if ((st = stream_array(L, 0, (uint64_t)n * 24, &crc, &mem,
                         "identities")) != PD_OK)
    return st;
  s->idents = mem;
  s->idents_cap = n;
  s->n_idents = n;
  if ((st = check_crc(L, crc, "identities")) != PD_OK) return st;
  for (uint32_t i = 0; i < n; i++) {
    const pd_st_identity *d = &s->idents[i];
    if ((st = check_identity(L, d, i, n)) != PD_OK) return st;
  }
  return PD_OK;
}

/* A field's check reduced to range tests: a value in [lo, lo + span], in
 * [lo2, lo2 + span2] or equal to alt certainly passes field_ok(); anything
 * else is decided by field_ok() itself (which also names the failure). */
typedef struct range_check {
  size_t off;
  int width;
  int exact; /* 0: the ranges are not the whole rule: always ask */
  int two;   /* the second range is in use */
  uint64_t lo, span, lo2, span2, alt;
} range_check;

static void range_of(const pd_store *s, int kind, uint32_t n,
                     const pd_snap_field *f, range_check *r) {
  uint64_t lo = 0, hi = UINT64_MAX, alt = 0, lo2 = 0, hi2 = 0;
  int ok = 1;
  switch (f->role) {
    case PD_SF_OWNER:
    case PD_SF_USER:
      lo = 1;
      hi = s->n_users - 1;
      ok = s->n_users > 1;
      break;
    case PD_SF_NEXT:
      hi = n - 1;
      alt = PD_ST_NIL;
      ok = n > 0;
      break;
    case PD_SF_TIME:
      hi = (uint64_t)PD_TIME_MAX;
      alt = PD_ST_ERASED;
      break;
    case PD_SF_TIME2: hi = (uint64_t)PD_TIME_MAX; break;
    case PD_SF_CHANNEL:
      /* built-ins (as many as this library has), then custom ids */
      if (s->channel_names.n <= PD_CHANNEL_BUILTIN_LAST) {
        hi = s->channel_names.n;
      } else {
        hi = PD_CHANNEL_BUILTIN_LAST;
        lo2 = PD_CHANNEL_CUSTOM_FIRST;
        hi2 = lo2 + (s->channel_names.n - PD_CHANNEL_BUILTIN_LAST) - 1;
      }
      break;
    case PD_SF_GUIDE: hi = s->guide_codes.n; break;
    case PD_SF_LABEL: hi = s->labels[f->arg].n; break;
    case PD_SF_ORDER:
      hi = (uint64_t)s->col[PD_EV_ORDER].n - 1;
      ok = kind > PD_EV_ORDER && s->col[PD_EV_ORDER].n > 0;
      break;
    case PD_SF_AMOUNT: hi = (uint64_t)INT64_MAX; break;
    case PD_SF_MAX: hi = f->arg; break;
    case PD_SF_ZERO: hi = 0; break;
    default: break;
  }
  r->off = f->off;
  r->width = f->width;
  r->exact = ok;
  r->lo = lo;
  r->span = hi - lo;
  r->alt = alt;
  r->two = lo2 != 0 && hi2 >= lo2;
  if (!r->two) lo2 = hi2 = lo;
  r->lo2 = lo2;
  r->span2 = hi2 - lo2;
}

/* Records per block: the block stays in the L1/L2 cache while each field
 * is tested down it in a loop of its own width. */
#define CHECK_BLOCK 512u

/* The test of one field down a block, in three forms of falling cost:
 * two ranges and a special value, one range and a special value, one
 * range. */
#define RANGE_LOOP(T, TEST)                                   \
  for (uint32_t i = i0; i < i1; i++) {                        \
    T x;                                                      \
    memcpy(&x, rec + (size_t)i * rs, sizeof x);               \
    uint64_t v = x;                                           \
    miss |= TEST;                                             \
  }
#define TEST_FULL                                             \
  ((v - lo > span) & (v - r->lo2 > r->span2) & (v != alt))
#define TEST_ALT ((v - lo > span) & (v != alt))
#define TEST_RANGE (v - lo > span)
#define BY_WIDTH(TEST)                                        \
  switch (r->width) {                                         \
    case 1: RANGE_LOOP(uint8_t, TEST) break;                  \
    case 2: RANGE_LOOP(uint16_t, TEST) break;                 \
    case 4: RANGE_LOOP(uint32_t, TEST) break;                 \
    default: RANGE_LOOP(uint64_t, TEST) break;                \
  }

/* 1 if some value of field r in records [i0, i1) is outside its ranges. */
static int block_misses(const unsigned char *base, size_t rs, uint32_t i0,
                        uint32_t i1, const range_check *r) {
  const unsigned char *rec = base + r->off;
  const uint64_t lo = r->lo, span = r->span, alt = r->alt;
  int miss = 0;
  if (span == UINT64_MAX) return 0; /* any value */
  if (r->two) {
    BY_WIDTH(TEST_FULL)
  } else if (alt - lo > span) {
    BY_WIDTH(TEST_ALT)
  } else {
    BY_WIDTH(TEST_RANGE)
  }
  return miss;
}

/* Records per part of the parallel check: parts depend only on the
 * column's length, so the first failure found is the same on any number
 * of threads. A column has at most MAX_PARTS of them (their outcomes
 * live on the stack: nothing to allocate, nothing to fail). */
#define CHECK_PART ((uint32_t)1 << 16)
#define MAX_PARTS (PD_ST_MAX_EVENTS_PER_KIND / CHECK_PART)

/* What the fields of a column's records may hold. */
typedef struct column_rules {
  const pd_store *s;
  int kind;
  const pd_st_column *c;
  range_check r[PD_SNAP_MAX_FIELDS];
  int nf, exact;
} column_rules;

static void column_rules_of(const pd_store *s, int kind,
                            const pd_st_column *c, column_rules *k) {
  const pd_snap_kind *sk = &pd_snap_kinds[kind];
  *k = (column_rules){.s = s, .kind = kind, .c = c, .exact = 1};
  for (; k->nf < PD_SNAP_MAX_FIELDS && sk->f[k->nf].width; k->nf++) {
    range_of(s, kind, c->n, &sk->f[k->nf], &k->r[k->nf]);
    k->exact &= k->r[k->nf].exact;
  }
}

typedef struct column_check {
  column_rules rules;
  /* per part: the first failing record (UINT32_MAX = none) and field */
  uint32_t bad_rec[MAX_PARTS];
  uint8_t bad_field[MAX_PARTS];
} column_check;

/* Find the first record of [from, to) with a field out of range; 1 and
 * (*i, *j) if there is one. */
static int first_bad(const column_rules *k, uint32_t from, uint32_t to,
                     uint32_t *bi, int *bj) {
  const pd_snap_kind *sk = &pd_snap_kinds[k->kind];
  const unsigned char *base = k->c->rec;
  size_t rs = k->c->rec_size;
  for (uint32_t i0 = from; i0 < to; i0 += CHECK_BLOCK) {
    uint32_t i1 = to - i0 < CHECK_BLOCK ? to : i0 + CHECK_BLOCK;
    int miss = !k->exact;
    for (int j = 0; j < k->nf && !miss; j++)
      miss = block_misses(base, rs, i0, i1, &k->r[j]);
    if (!miss) continue;
    for (uint32_t i = i0; i < i1; i++)
      for (int j = 0; j < k->nf; j++) {
        uint64_t v = get_field(base + (size_t)i * rs, &sk->f[j]);
        if (!field_ok(k->s, k->kind, k->c->n, &sk->f[j], v)) {
          *bi = i;
          *bj = j;
          return 1;
        }
      }
  }
  return 0;
}

static void check_part(void *ctx, size_t part) {
  column_check *k = ctx;
  uint32_t n = k->rules.c->n;
  uint32_t from = (uint32_t)(part * CHECK_PART);
  uint32_t to = n - from < CHECK_PART ? n : from + CHECK_PART;
  uint32_t i = UINT32_MAX;
  int j = 0;
  first_bad(&k->rules, from, to, &i, &j);
  k->bad_rec[part] = i;
  k->bad_field[part] = (uint8_t)j;
}

/* The outcome of a column's check: record bi's field bj is out of range
 * (bi = UINT32_MAX: none is). */
static pd_status column_verdict(loader *L, int kind, uint32_t bi, int bj) {
  if (bi == UINT32_MAX) return PD_OK;
  const pd_snap_kind *sk = &pd_snap_kinds[kind];
  return CORRUPT("%s event %u: field %d holds %llu, out of range", sk->name,
                 bi, bj,
                 (unsigned long long)get_field(pd_st_rec(L->s, kind, bi),
                                               &sk->f[bj]));
}

/* Check every field of a column read as its file image; the first
 * failure in record order is the one reported, as when decoding. A long
 * column is checked in parts on the loader's threads. */
static pd_status check_column(loader *L, int kind) {
  pd_store *s = L->s;
  column_check k;
  column_rules_of(s, kind, &s->col[kind], &k.rules);
  uint32_t bi = UINT32_MAX;
  int bj = 0;
  size_t parts = ((size_t)s->col[kind].n + CHECK_PART - 1) / CHECK_PART;
  if (L->threads > 1 && parts > 1 && parts <= MAX_PARTS) {
    pd_parallel_for(L->threads, parts, check_part, &k);
    for (size_t p = 0; p < parts && bi == UINT32_MAX; p++) {
      bi = k.bad_rec[p];
      bj = k.bad_field[p];
    }
  } else {
    first_bad(&k.rules, 0, s->col[kind].n, &bi, &bj);
  }
  return column_verdict(L, kind, bi, bj);
}

/* The check of a column's records as they are copied in (on the read
 * ahead, in steps): each step's whole records are checked while still in
 * the cache, instead of reading the column again after it. The outcome
 * is kept, and reported where check_column()'s would be. */
struct column_scan {
  column_rules rules;
  pd_st_column view; /* the array being filled */
  uint32_t done;     /* records checked */
  uint32_t bad_i;    /* the first failing record (UINT32_MAX: none) */
  int bad_j;
};

static void scan_begin(const pd_store *s, int kind, uint32_t n,
                       size_t rec_size, column_scan *sc) {
  memset(sc, 0, sizeof *sc);
  sc->view.n = n;
  sc->view.rec_size = rec_size;
  column_rules_of(s, kind, &sc->view, &sc->rules);
  sc->bad_i = UINT32_MAX;
}

/* The first `bytes` bytes of the column are in rec. */
static void scan_step(column_scan *sc, unsigned char *rec, size_t bytes) {
  sc->view.rec = rec;
  uint32_t upto = (uint32_t)(bytes / sc->view.rec_size);
  if (sc->bad_i == UINT32_MAX && upto > sc->done)
    first_bad(&sc->rules, sc->done, upto, &sc->bad_i, &sc->bad_j);
  sc->done = upto;
}

static pd_status stream_events(loader *L, const unsigned char *h,
                               uint64_t len, int kind) {
  pd_store *s = L->s;
  pd_st_column *c = &s->col[kind];
  unsigned char pre[12];
  uint32_t crc;
  pd_status st = read_prefix(L, h, len, pre, 12, &crc, "events");
  if (st) return st;
  uint32_t k = pd_rd32(pre), n = pd_rd32(pre + 4), bytes = pd_rd32(pre + 8);
  size_t rb = pd_snap_kind_bytes(kind);
  if (!pd_snap_kind_raw(kind) || c->rec_size != rb || k != (uint32_t)kind ||
      bytes != rb || n > PD_ST_MAX_EVENTS_PER_KIND ||
      (uint64_t)n * (8 + (uint64_t)rb) != len - 12)
    return buffered(L, h, pre, 12, len, "events", parse_events, kind);
  void *mem;
  L->feed_kind = kind;
  st = stream_array(L, 0, (uint64_t)n * 8, &crc, &mem, "events");
  L->feed_kind = 0;
  if (st) return st;
  c->eid = mem;
  column_scan scan;
  scan_begin(s, kind, n, rb, &scan);
  L->scan = &scan;
  st = stream_array(L, 0, (uint64_t)n * rb, &crc, &mem, "events");
  L->scan = NULL;
  if (st) return st;
  c->rec = mem;
  c->cap = n;
  c->n = n;
  if ((st = check_crc(L, crc, "events")) != PD_OK) return st;
  if (scan.done == n) return column_verdict(L, kind, scan.bad_i, scan.bad_j);
  return check_column(L, kind);
}

/* ---- whole-store checks ---------------------------------------------------- */

static int owner_field(int kind, const pd_snap_field **own,
                       const pd_snap_field **next) {
  *own = *next = NULL;
  for (int j = 0; j < PD_SNAP_MAX_FIELDS && pd_snap_kinds[kind].f[j].width;
       j++) {
    const pd_snap_field *f = &pd_snap_kinds[kind].f[j];
    if (f->role == PD_SF_OWNER) *own = f;
    if (f->role == PD_SF_NEXT) *next = f;
  }
  return *own && *next;
}

/* Union-find parents, member rings and erasure flags agree. */
static pd_status check_users(loader *L, uint32_t *tmp, uint8_t *seen) {
  pd_store *s = L->s;
  uint32_t n = s->n_users;
  /* tmp[u] = root (parents point down, so roots are known in order). */
  for (uint32_t u = 1; u < n; u++) {
    uint32_t p = s->users[u].parent;
    tmp[u] = p == u ? u : tmp[p];
    if ((s->users[u].flags ^ s->users[tmp[u]].flags) & PD_ST_USER_ERASED)
      return CORRUPT("users: user %u and its survivor %u disagree on "
                     "erasure",
                     u, tmp[u]);
  }
  memset(seen, 0, n);
  for (uint32_t u = 1; u < n; u++) {
    uint32_t m = s->users[u].next_member;
    if (seen[m]) return CORRUPT("users: two users link to member %u", m);
    seen[m] = 1;
    if (tmp[m] != tmp[u])
      return CORRUPT("users: member ring of %u leaves its merge set", u);
  }
  /* The links form rings inside the sets; each set must be one ring, the
   * one its survivor starts (walked with a bound: a ring is at most n). */
  memset(seen, 0, n);
  for (uint32_t u = 1; u < n; u++) {
    if (s->users[u].parent != u) continue;
    uint32_t m = u, len = 0;
    do {
      seen[m] = 1;
      m = s->users[m].next_member;
    } while (m != u && ++len < n);
  }
  for (uint32_t u = 1; u < n; u++)
    if (!seen[u])
      return CORRUPT("users: user %u is not on its survivor's member ring",
                     u);
  return PD_OK;
}

/* The store appends events and links each to the previous event of the
 * same user id, so in every store it builds a chain runs through its
 * owner's events from the newest down to the oldest, by index. That shape
 * is checked in one sequential pass (last[u]: the newest event of user u
 * seen so far); it proves every event is on exactly one chain, its
 * owner's, with no cycle. Anything else falls back to walking the chains,
 * which accepts every valid arrangement. */
static int chains_in_order(const pd_store *s, int kind,
                           const pd_snap_field *own,
                           const pd_snap_field *next, uint32_t *last) {
  const pd_st_column *c = &s->col[kind];
  if (own->width != 4 || next->width != 4) return 0;
  memset(last, 0xFF, (size_t)s->n_users * sizeof *last);
  const unsigned char *rec = c->rec;
  const size_t rs = c->rec_size, ahead = PD_PREFETCH_AHEAD * rs;
  const uint32_t n = c->n;
  for (uint32_t i = 0; i < n; i++, rec += rs) {
    uint32_t u, nx;
    /* last[] is larger than the caches and owners come in any order:
     * start loading the slot a later record needs (owners were checked
     * against the user count with the column) */
    if (n - i > PD_PREFETCH_AHEAD) {
      memcpy(&u, rec + ahead + own->off, 4);
      PD_PREFETCH(&last[u]);
    }
    memcpy(&u, rec + own->off, 4);
    memcpy(&nx, rec + next->off, 4);
    if (nx != last[u]) return 0;
    last[u] = i;
  }
  for (uint32_t u = 1; u < s->n_users; u++)
    if (s->users[u].head[kind] != last[u]) return 0;
  return 1;
}

static int identities_in_order(const pd_store *s, uint32_t *last) {
  memset(last, 0xFF, (size_t)s->n_users * sizeof *last);
  for (uint32_t i = 0; i < s->n_idents; i++) {
    uint32_t u = s->idents[i].user;
    if (u == 0 || s->idents[i].next != last[u]) return 0;
    last[u] = i;
  }
  for (uint32_t u = 1; u < s->n_users; u++)
    if (s->users[u].head[PD_ST_CHAIN_IDENTITY] != last[u]) return 0;
  return 1;
}

/* Each chained kind: every event in exactly one chain, its owner's. */
static pd_status check_chains(loader *L, uint8_t *seen, uint32_t *last) {
  pd_store *s = L->s;
  for (int kind = 1; kind < PD_EV_KINDS; kind++) {
    const pd_snap_field *own, *next;
    int chained = owner_field(kind, &own, &next);
    const pd_st_column *c = &s->col[kind];
    if (chained && kind >= PD_ST_USER_CHAINS)
      return pd_err(L->err, PD_E_VERSION, "kind %d has no chain slot", kind);
    if (!chained) {
      for (uint32_t u = 1; kind < PD_ST_USER_CHAINS && u < s->n_users; u++)
        if (s->users[u].head[kind] != PD_ST_NIL)
          return CORRUPT("users: user %u has a chain of %s events", u,
                         pd_snap_kinds[kind].name);
      continue;
    }
    if (chains_in_order(s, kind, own, next, last)) continue;
    memset(seen, 0, c->n);
    uint64_t visited = 0;
    for (uint32_t u = 1; u < s->n_users; u++)
      for (uint32_t i = s->users[u].head[kind]; i != PD_ST_NIL;) {
        if (i >= c->n || seen[i])
          return CORRUPT("%s chain of user %u is broken or cyclic",
                         pd_snap_kinds[kind].name, u);
        const unsigned char *rec = pd_st_rec(s, kind, i);
        if (get_field(rec, own) != u)
          return CORRUPT("%s event %u is chained on user %u, not its own",
                         pd_snap_kinds[kind].name, i, u);
        seen[i] = 1;
        visited++;
        i = (uint32_t)get_field(rec, next);
      }
    if (visited != c->n)
      return CORRUPT("%llu %s events are on no user's chain",
                     (unsigned long long)(c->n - visited),
                     pd_snap_kinds[kind].name);
  }
  /* identities: chain slot 0; an erased identity (user 0) stays on the
   * chain of its erased user. */
  if (identities_in_order(s, last)) return PD_OK;
  memset(seen, 0, s->n_idents);
  uint64_t visited = 0;
  for (uint32_t u = 1; u < s->n_users; u++)
    for (uint32_t i = s->users[u].head[PD_ST_CHAIN_IDENTITY]; i != PD_ST_NIL;
         i = s->idents[i].next) {
      if (i >= s->n_idents || seen[i])
        return CORRUPT("identity chain of user %u is broken or cyclic", u);
      uint32_t owner = s->idents[i].user;
      if (owner != u &&
          !(owner == 0 && (s->users[u].flags & PD_ST_USER_ERASED)))
        return CORRUPT("identity %u is chained on user %u, not its own", i,
                       u);
      seen[i] = 1;
      visited++;
    }
  if (visited != s->n_idents)
    return CORRUPT("%llu identities are on no user's chain",
                   (unsigned long long)(s->n_idents - visited));
  return PD_OK;
}

/* Referrals and refunds: the links between kinds that the store keeps. */
static pd_status check_relations(loader *L) {
  pd_store *s = L->s;
  const pd_st_column *rc = &s->col[PD_EV_REFERRAL];
  for (uint32_t u = 1; u < s->n_users; u++) {
    uint32_t r = s->users[u].referral_in;
    if (r == PD_ST_NIL) continue;
    if (r >= rc->n || pd_st_referrals(s)[r].referee != u ||
        pd_st_referrals(s)[r].time == PD_ST_ERASED)
      return CORRUPT("users: user %u names referral %u, which is not its own",
                     u, r);
  }
  for (uint32_t r = 0; r < rc->n; r++) {
    const pd_st_referral *e = &pd_st_referrals(s)[r];
    if (e->time != PD_ST_ERASED && s->users[e->referee].referral_in != r)
      return CORRUPT("referral %u is not linked from its referee", r);
  }
  const pd_st_column *fc = &s->col[PD_EV_REFUND];
  int64_t *sum = NULL;
  uint32_t no = s->col[PD_EV_ORDER].n;
  if (no > 0) {
    sum = pd_calloc(&s->alloc, no, sizeof *sum);
    if (!sum) return pd_err(L->err, PD_E_NOMEM, "out of memory");
  }
  pd_status st = PD_OK;
  for (uint32_t i = 0; i < fc->n && !st; i++) {
    const pd_st_refund *f = &pd_st_refunds(s)[i];
    const pd_st_order *o = &pd_st_orders(s)[f->order];
    if (f->user != o->user)
      st = CORRUPT("refund %u and its order %u have different users", i,
                   f->order);
    else if (f->time != PD_ST_ERASED && o->time != PD_ST_ERASED &&
             __builtin_add_overflow(sum[f->order], f->amount, &sum[f->order]))
      st = CORRUPT("refunds of order %u overflow", f->order);
  }
  for (uint32_t i = 0; i < no && !st; i++) {
    const pd_st_order *o = &pd_st_orders(s)[i];
    if (o->time != PD_ST_ERASED &&
        (o->refunded != sum[i] || o->refunded > o->amount))
      st = CORRUPT("order %u: refunded %lld does not match its refunds", i,
                   (long long)o->refunded);
  }
  pd_free(&s->alloc, sum);
  return st;
}

/* Scratch of the whole-store checks: a word per user (roots, the newest
 * event per user) and a byte per element of the longest array they mark
 * off (users, a column, the identities). */
typedef struct check_scratch {
  uint32_t *per_user;
  uint8_t *marks;
} check_scratch;

static void scratch_free(const pd_store *s, check_scratch *c) {
  pd_free(&s->alloc, c->per_user);
  pd_free(&s->alloc, c->marks);
  c->per_user = NULL;
  c->marks = NULL;
}

/* 0, or -1 out of memory with nothing allocated (both NULL, as
 * scratch_free() leaves them). `users_only`: marks for the users alone
 * (check_users needs no more). */
static int scratch_alloc(const pd_store *s, check_scratch *c,
                         int users_only) {
  size_t n = s->n_users;
  for (int k = 1; !users_only && k < PD_EV_KINDS; k++)
    if (s->col[k].n > n) n = s->col[k].n;
  if (!users_only && s->n_idents > n) n = s->n_idents;
  c->per_user = pd_malloc(&s->alloc, (size_t)s->n_users * sizeof *c->per_user);
  c->marks = pd_malloc(&s->alloc, n + 1);
  if (c->per_user && c->marks) return 0;
  scratch_free(s, c);
  return -1;
}

static pd_status check_store(loader *L) {
  pd_store *s = L->s;
  check_scratch c;
  if (scratch_alloc(s, &c, 0) != 0)
    return pd_err(L->err, PD_E_NOMEM, "out of memory");
  pd_status st = check_users(L, c.per_user, c.marks);
  if (!st) st = check_chains(L, c.marks, c.per_user);
  if (!st) st = check_relations(L);
  scratch_free(s, &c);
  return st;
}

/* ---- the file ------------------------------------------------------------ */

static pd_status read_header(loader *L, const pd_persist_options *o,
                             uint32_t *flags, int32_t *exponent,
                             pd_snap_info *info) {
  unsigned char h[PD_SNAP_HEADER_BYTES];
  pd_status st = read_exact(L, h, sizeof h, "the header");
  if (st) return st;
  if (memcmp(h, PD_SNAP_MAGIC, 8) != 0)
    return CORRUPT(memcmp(h, "\x89PDJRNL\n", 8) == 0
                       ? "this is a journal, not a snapshot"
                       : "not a privdomain snapshot (bad magic)");
  if (pd_rd32(h + 36) != pd_crc32c(0, h, 36))
    return CORRUPT("the snapshot header fails its checksum");
  uint32_t version = pd_rd32(h + 8);
  if (version != PD_SNAP_VERSION)
    return pd_err(L->err, PD_E_VERSION,
                  "snapshot format version %u; this library reads version %u",
                  version, PD_SNAP_VERSION);
  *flags = pd_rd32(h + 12);
  if (*flags & ~PD_SNAP_FLAG_HASHED_IDENTITIES)
    return pd_err(L->err, PD_E_VERSION, "unknown snapshot flags %#x", *flags);
  *exponent = (int32_t)pd_rd32(h + 16);
  if (*exponent < 0 || *exponent > 4)
    return CORRUPT("currency exponent %d", (int)*exponent);
  int hashed = (*flags & PD_SNAP_FLAG_HASHED_IDENTITIES) != 0;
  if (hashed != (o->identity_key != NULL))
    return pd_err(L->err, PD_E_INVALID,
                  hashed ? "this store pseudonymises identities: give its "
                           "identity_key to load it"
                         : "this store keeps identities as given: load it "
                           "without an identity_key");
  info->generation = pd_rd64(h + 20);
  info->position = pd_rd64(h + 28);
  return PD_OK;
}

static pd_status read_sections(loader *L, pd_snap_info *info) {
  uint32_t sections = 0;
  int next_kind = 1;
  static const char *const names[] = {"", "namespaces", "channels", "labels",
                                      "guides", "users", "identities"};
  for (;;) {
    unsigned char h[PD_SNAP_SECTION_HEADER_BYTES], c[4];
    pd_status st = read_exact(L, h, sizeof h, "a section header");
    if (st) return st;
    uint32_t id = pd_rd32(h);
    uint64_t len = pd_rd64(h + 8);
    const char *what = id >= 1 && id <= 6 ? names[id] : "events";
    if (pd_rd32(h + 4) != 0) return CORRUPT("section %u: reserved bits", id);
    if (sections < 6 ? id != sections + 1
                     : !(id == PD_SEC_END ||
                         (id > PD_SEC_EVENTS + (uint32_t)next_kind - 1 &&
                          id < PD_SEC_EVENTS + 0x1000u)))
      return CORRUPT("section %#x is out of place (after %u sections)", id,
                     sections);
    if (id >= PD_SEC_EVENTS + (uint32_t)PD_EV_KINDS && id != PD_SEC_END)
      return pd_err(L->err, PD_E_VERSION,
                    "the snapshot has events of kind %u, unknown to this "
                    "library (written by a newer version?)",
                    id - PD_SEC_EVENTS);
    if (id == PD_SEC_USERS || id == PD_SEC_IDENTITIES ||
        (id > PD_SEC_EVENTS && id != PD_SEC_END)) {
      if (id == PD_SEC_USERS) {
        st = stream_users(L, h, len);
      } else if (id == PD_SEC_IDENTITIES) {
        st = stream_identities(L, h, len);
      } else {
        next_kind = (int)(id - PD_SEC_EVENTS);
        st = stream_events(L, h, len, next_kind);
        info->events += L->s->col[next_kind].n;
        next_kind++;
      }
      if (st) return st;
      sections++;
      continue;
    }
    if ((st = read_payload(L, NULL, 0, len, what)) != PD_OK ||
        (st = read_exact(L, c, 4, what)) != PD_OK)
      return st;
    uint32_t crc = pd_crc32c(pd_crc32c(0, h, sizeof h), L->buf, (size_t)len);
    if (crc != pd_rd32(c))
      return CORRUPT("section %s fails its checksum", what);
    pd_ibuf in = {L->buf, (size_t)len, 0, 0};
    switch (id) {
      case PD_SEC_NAMESPACES: st = sec_namespaces(L, &in); break;
      case PD_SEC_CHANNELS: st = sec_channels(L, &in); break;
      case PD_SEC_LABELS: st = sec_labels(L, &in); break;
      case PD_SEC_GUIDES: st = sec_guides(L, &in); break;
      case PD_SEC_USERS: st = sec_users(L, &in); break;
      case PD_SEC_IDENTITIES: st = sec_identities(L, &in); break;
      case PD_SEC_END:
        if (pd_get32(&in) != sections)
          return CORRUPT("the end marker counts another number of sections");
        break;
      default:
        next_kind = (int)(id - PD_SEC_EVENTS);
        st = sec_events(L, &in, next_kind);
        info->events += L->s->col[next_kind].n;
        next_kind++;
    }
    if (st) return st;
    if (in.bad || pd_ileft(&in) != 0)
      return CORRUPT("section %s has %s", what,
                     in.bad ? "too few bytes" : "bytes left over");
    if (id == PD_SEC_END) return PD_OK;
    sections++;
  }
}

/* The chain check run by the thread that fed the index, once it has
 * placed the last ids: its own scratch, its own message. */
typedef struct chain_job {
  loader L; /* the loader's, reporting to err */
  pd_errbuf err;
  check_scratch scratch;
  pd_status st;
} chain_job;

static void run_chain_check(void *ctx) {
  chain_job *j = ctx;
  j->st = check_chains(&j->L, j->scratch.marks, j->scratch.per_user);
}

/* check_and_restore() when the event-id index was fed: the feeding
 * thread checks the chains while this one checks the users and
 * relations and rebuilds the other indexes (restore_rest writes nothing
 * the chain check reads, and only this thread allocates); the failure
 * reported is the one check_store() and then restore_finish() report. */
static pd_status check_and_restore_fed(loader *L) {
  pd_store *s = L->s;
  chain_job job;
  memset(&job, 0, sizeof job);
  job.L = *L;
  job.L.err = &job.err;
  job.L.feed = NULL;
  check_scratch users = {NULL, NULL};
  pd_status st = PD_OK, rest = PD_OK, relations = PD_OK;
  if (scratch_alloc(s, &job.scratch, 0) != 0 ||
      scratch_alloc(s, &users, 1) != 0) {
    st = pd_err(L->err, PD_E_NOMEM, "out of memory");
  } else {
    pd_snap_feed_close(L->feed, run_chain_check, &job);
    st = check_users(L, users.per_user, users.marks);
    if (!st) rest = pd_st_restore_rest(s);
    if (!st) relations = check_relations(L);
  }
  pd_st_index_build ib;
  int whole = pd_snap_feed_stop(L->feed, st ? NULL : &ib);
  L->feed = NULL;
  scratch_free(s, &job.scratch);
  scratch_free(s, &users);
  if (!st && job.st) st = pd_err(L->err, job.st, "%s", job.err.msg);
  if (!st) st = relations;
  if (st) {
    if (whole) pd_st_index_build_abandon(&ib);
    return st;
  }
  /* the event-id index's failure first, as restore_finish() reports */
  pd_status ix = pd_st_restore_event_index(s, whole ? &ib : NULL, L->threads);
  st = ix ? ix : rest;
  return st ? pd_err(L->err, st, "%s", s->err.msg) : PD_OK;
}

/* The checks, then the derived structures. */
static pd_status check_and_restore(loader *L) {
  if (L->feed) return check_and_restore_fed(L);
  /* The event-id index is built on helper threads while this one checks
   * the store; a failed check is still the one reported. */
  pd_store *s = L->s;
  pd_st_restore r;
  pd_st_restore_begin(&r, s, L->threads);
  pd_status st = check_store(L);
  pd_status cst = st;
  st = pd_st_restore_finish(&r, st);
  if (st && !cst) pd_err(L->err, st, "%s", s->err.msg);
  return st;
}

static pd_status snap_read(pd_read_fn fn, void *user, int fd, int direct_fd,
                           size_t pread_from, uint64_t avail,
                           uint64_t declared, const pd_persist_options *o,
                           pd_store **out, pd_snap_info *info,
                           pd_errbuf *err) {
  loader L = {.fn = fn,
              .user = user,
              .err = err,
              .avail = avail,
              .fd = fd,
              .threads = pd_parallel_resolve_threads(o->threads),
              .pread_from = pread_from,
              .direct = {.fd = direct_fd}};
  pd_snap_info inf = {0, 0, 0};
  uint32_t flags = 0;
  int32_t exponent = 0;
  pd_status st = read_header(&L, o, &flags, &exponent, &inf);
  if (st) return st;
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.allocator = o->allocator;
  so.currency_exponent = exponent;
  so.identity_key = o->identity_key;
  so.identity_key_len = o->identity_key_len;
  pd_store *s;
  if ((st = pd_store_new(&so, &s)) != PD_OK)
    return pd_err(err, st, st == PD_E_NOMEM ? "out of memory"
                                            : "invalid allocator or identity "
                                              "key");
  L.s = s;
  if (declared != UINT64_MAX && L.threads > 1)
    L.feed = pd_snap_feed_begin(s, declared, L.threads);
  st = read_sections(&L, &inf);
  pd_free(&s->alloc, L.buf);
  pd_free(&s->alloc, L.bounce_block);
  if (!st) st = check_and_restore(&L);
  pd_snap_feed_stop(L.feed, NULL); /* after a failed read */
  if (st) {
    pd_store_free(s);
    return st;
  }
  pd_err_clear(&s->err);
  *out = s;
  if (info) *info = inf;
  return PD_OK;
}

pd_status pd_snap_read(pd_read_fn fn, void *user, const pd_persist_options *o,
                       pd_store **out, pd_snap_info *info, pd_errbuf *err) {
  return snap_read(fn, user, -1, -1, SIZE_MAX, UINT64_MAX, UINT64_MAX, o, out,
                   info, err);
}

pd_status pd_snap_load_path(const char *path, const pd_persist_options *o,
                            pd_store **out, pd_snap_info *info,
                            pd_errbuf *err) {
  return pd_snap_load_path_pread(path, o, out, info, err, PD_SNAP_PREAD_FROM);
}

pd_status pd_snap_load_path_pread(const char *path,
                                  const pd_persist_options *o,
                                  pd_store **out, pd_snap_info *info,
                                  pd_errbuf *err, size_t pread_from) {
  return pd_snap_load_path_direct(path, o, out, info, err, pread_from, -1);
}

pd_status pd_snap_load_path_direct(const char *path,
                                   const pd_persist_options *o,
                                   pd_store **out, pd_snap_info *info,
                                   pd_errbuf *err, size_t pread_from,
                                   int direct) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return pd_err(err, PD_E_IO, "cannot open %s: %s", path, strerror(errno));
  /* A regular file's size bounds what its sections can hold, so each
   * large section is allocated once instead of grown as it arrives. */
  struct stat sb;
  uint64_t avail = UINT64_MAX;
  int direct_fd = -1;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0) {
    avail = (uint64_t)sb.st_size;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* A large file that is not in the page cache (a load after a restart,
     * or after a direct save) is read around it: through the cache it
     * would cost a fresh cache page for every page read. */
    int large = avail >= pread_from;
    if (direct > 0 ||
        (direct < 0 && large && !pd_direct_file_cached(fd, avail)))
      direct_fd = pd_direct_open_read(path);
  }
  /* With threads to spare, one of them only waits on the disk, reading
   * the whole file ahead into a small ring, while the others copy, check
   * and index what has arrived (readahead.h). */
  pd_readahead *ra = NULL;
  pd_allocator a;
  uint64_t declared = UINT64_MAX;
  if (direct_fd >= 0 && pd_parallel_resolve_threads(o->threads) > 1 &&
      pd_alloc_init(&a, o->allocator) == 0) {
    /* its event count sizes the index built as the events arrive */
    declared = pd_snap_declared_events(&a, direct_fd, fd, avail);
    ra = pd_readahead_begin(&a, direct_fd, fd, avail);
  }
  /* Only a regular file read from its start can be read by offsets. */
  pd_status st =
      ra ? snap_read(pd_readahead_read, ra, -1, -1, pread_from, avail,
                     declared, o, out, info, err)
         : snap_read(pd_pf_fd_reader, &fd, avail != UINT64_MAX ? fd : -1,
                     direct_fd, pread_from, avail, UINT64_MAX, o, out, info,
                     err);
  pd_readahead_end(ra);
  if (direct_fd >= 0) close(direct_fd);
  close(fd);
  return st;
}

/* ---- public ------------------------------------------------------------- */

pd_status pd_snapshot_load(const char *path, const pd_persist_options *opts,
                           pd_store **out) {
  pd_errbuf err;
  pd_persist_options o;
  pd_status st = pd_persist_opts(opts, &o, &err);
  if (!st && (path == NULL || out == NULL))
    st = pd_err(&err, PD_E_INVALID, "path or out is NULL");
  if (!st) st = pd_snap_load_path(path, &o, out, NULL, &err);
  return pd_persist_fail(&o, &err, st);
}

pd_status pd_snapshot_read(pd_read_fn fn, void *user,
                           const pd_persist_options *opts, pd_store **out) {
  pd_errbuf err;
  pd_persist_options o;
  pd_status st = pd_persist_opts(opts, &o, &err);
  if (!st && (fn == NULL || out == NULL))
    st = pd_err(&err, PD_E_INVALID, "read or out is NULL");
  if (!st) st = pd_snap_read(fn, user, &o, out, NULL, &err);
  return pd_persist_fail(&o, &err, st);
}
