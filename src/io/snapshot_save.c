/* Writing a snapshot: the header, then one checksummed section per table
 * (names, channels, labels, guides, users, identities, each event kind),
 * then the end marker. Layout: docs/FORMAT.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/le_bytes.h"
#include "direct_io.h"
#include "persist_internal.h"
#include "snapshot_format.h"
#include "store/mutation_hook.h"

/* Sections are streamed: each one's length is computed first, then its
 * bytes go out through one fixed staging buffer (small items) or straight
 * from the store's arrays (columns whose memory is their file image), with
 * the checksum computed on the way. Nothing grows with the store. */
#define STAGE_BYTES (256u * 1024u)
/* Blocks at least this long are checksummed and written in place. */
#define DIRECT_BYTES (64u * 1024u)

typedef struct sink {
  pd_write_fn fn;
  void *user;
  uint32_t sections;
  unsigned char *buf; /* STAGE_BYTES */
  size_t len;         /* bytes staged */
  size_t crc_from;    /* staged bytes before this are in `crc` already */
  uint32_t crc;       /* of the current section so far */
  uint64_t left;      /* payload bytes the current section still owes */
  int failed;         /* the write callback refused */
} sink;

static void flush(sink *k) {
  k->crc = pd_crc32c(k->crc, k->buf + k->crc_from, k->len - k->crc_from);
  if (!k->failed && k->len && k->fn(k->user, k->buf, k->len) != 0)
    k->failed = 1;
  k->len = k->crc_from = 0;
}

/* Room for n <= STAGE_BYTES staged bytes. */
static unsigned char *room(sink *k, size_t n) {
  if (STAGE_BYTES - k->len < n) flush(k);
  unsigned char *p = k->buf + k->len;
  k->len += n;
  return p;
}

static void out(sink *k, const void *p, size_t n) {
  k->left -= n;
  if (n >= DIRECT_BYTES) {
    flush(k);
    k->crc = pd_crc32c(k->crc, p, n);
    if (!k->failed && k->fn(k->user, p, n) != 0) k->failed = 1;
    return;
  }
  while (n > 0) {
    size_t m = STAGE_BYTES - k->len;
    if (m == 0) {
      flush(k);
      m = STAGE_BYTES;
    }
    if (m > n) m = n;
    memcpy(k->buf + k->len, p, m);
    k->len += m;
    p = (const unsigned char *)p + m;
    n -= m;
  }
}

static void out32(sink *k, uint32_t v) {
  k->left -= 4;
  pd_le32(room(k, 4), v);
}

static void out64(sink *k, uint64_t v) {
  k->left -= 8;
  pd_le64(room(k, 8), v);
}

/* Start section `id` of `len` payload bytes. */
static void begin(sink *k, uint32_t id, uint64_t len) {
  unsigned char *h = room(k, PD_SNAP_SECTION_HEADER_BYTES);
  pd_le32(h, id);
  pd_le32(h + 4, 0);
  pd_le64(h + 8, len);
  k->crc_from = k->len - PD_SNAP_SECTION_HEADER_BYTES;
  k->crc = 0;
  k->left = len;
}

/* Close the section with its CRC (of header and payload). A section that
 * wrote other than the length announced would make a file that cannot be
 * read back: refuse it rather than write it. */
static pd_status end(pd_store *s, sink *k) {
  if (k->left != 0)
    return pd_err(&s->err, PD_E_IO,
                  "internal error: section %u has the wrong length",
                  k->sections + 1);
  k->crc = pd_crc32c(k->crc, k->buf + k->crc_from, k->len - k->crc_from);
  k->crc_from = k->len;
  pd_le32(room(k, 4), k->crc); /* a flush here has nothing left to sum */
  k->crc_from = k->len;
  k->sections++;
  if (k->failed)
    return pd_err(&s->err, PD_E_IO, "writing the snapshot failed");
  return PD_OK;
}

static uint64_t names_bytes(const pd_st_names *t) {
  uint64_t n = 4;
  for (size_t i = 0; i < t->n; i++) n += 4 + (uint64_t)t->len[i];
  return n;
}

static void put_names(sink *k, const pd_st_names *t) {
  out32(k, (uint32_t)t->n);
  for (size_t i = 0; i < t->n; i++) {
    out32(k, t->len[i]);
    out(k, t->str[i], t->len[i]);
  }
}

/* Encode n records of a kind field by field (hosts or layouts where the
 * column is not its own file image). */
static void put_records(sink *k, const pd_snap_kind *sk, const pd_st_column *c,
                        size_t rec_bytes) {
  for (uint32_t i = 0; i < c->n; i++) {
    const unsigned char *rec =
        (const unsigned char *)c->rec + (size_t)i * c->rec_size;
    unsigned char *p = room(k, rec_bytes);
    for (int j = 0; j < PD_SNAP_MAX_FIELDS && sk->f[j].width; j++) {
      const pd_snap_field *f = &sk->f[j];
      switch (f->width) {
        case 1: *p = rec[f->off]; break;
        case 2: {
          uint16_t v;
          memcpy(&v, rec + f->off, 2);
          p[0] = (unsigned char)v;
          p[1] = (unsigned char)(v >> 8);
          break;
        }
        case 4: {
          uint32_t v;
          memcpy(&v, rec + f->off, 4);
          pd_le32(p, v);
          break;
        }
        default: {
          uint64_t v;
          memcpy(&v, rec + f->off, 8);
          pd_le64(p, v);
        }
      }
      p += f->width;
    }
  }
  k->left -= (uint64_t)c->n * rec_bytes;
}

static pd_status put_users(pd_store *s, sink *k) {
  begin(k, PD_SEC_USERS,
        8 + (uint64_t)(s->n_users - 1) * 4 * (4 + PD_ST_USER_CHAINS));
  out32(k, s->n_users);
  out32(k, PD_ST_USER_CHAINS);
  if (PD_SNAP_USERS_RAW) {
    out(k, &s->users[1], (size_t)(s->n_users - 1) * sizeof(pd_st_user));
  } else {
    for (uint32_t u = 1; u < s->n_users; u++) {
      const pd_st_user *p = &s->users[u];
      out32(k, p->parent);
      out32(k, p->next_member);
      out32(k, p->referral_in);
      out32(k, p->flags);
      for (int c = 0; c < PD_ST_USER_CHAINS; c++) out32(k, p->head[c]);
    }
  }
  return end(s, k);
}

static pd_status put_identities(pd_store *s, sink *k) {
  begin(k, PD_SEC_IDENTITIES,
        8 + s->ident_bytes_len + 4 + (uint64_t)s->n_idents * 24);
  out64(k, s->ident_bytes_len);
  out(k, s->ident_bytes, (size_t)s->ident_bytes_len);
  out32(k, s->n_idents);
  if (PD_SNAP_IDENTS_RAW) {
    out(k, s->idents, (size_t)s->n_idents * sizeof(pd_st_identity));
  } else {
    for (uint32_t i = 0; i < s->n_idents; i++) {
      const pd_st_identity *d = &s->idents[i];
      out64(k, d->off);
      out32(k, d->len);
      out32(k, d->user);
      out32(k, d->next);
      out32(k, d->ns);
    }
  }
  return end(s, k);
}

static pd_status put_events(pd_store *s, sink *k, int kind) {
  const pd_snap_kind *sk = &pd_snap_kinds[kind];
  const pd_st_column *c = &s->col[kind];
  size_t bytes = pd_snap_kind_bytes(kind);
  begin(k, PD_SEC_EVENTS + (uint32_t)kind, 12 + (uint64_t)c->n * (8 + bytes));
  out32(k, (uint32_t)kind);
  out32(k, c->n);
  out32(k, (uint32_t)bytes);
  if (PD_SNAP_HOST_LE && !pd_snap_portable_only) {
    out(k, c->eid, (size_t)c->n * 8);
  } else {
    for (uint32_t i = 0; i < c->n; i++) out64(k, c->eid[i]);
  }
  if (pd_snap_kind_raw(kind) && c->rec_size == bytes)
    out(k, c->rec, (size_t)c->n * bytes);
  else
    put_records(k, sk, c, bytes);
  return end(s, k);
}

static pd_status write_all(pd_store *s, sink *k, uint64_t gen, uint64_t pos) {
  unsigned char *h = room(k, PD_SNAP_HEADER_BYTES);
  memset(h, 0, PD_SNAP_HEADER_BYTES);
  memcpy(h, PD_SNAP_MAGIC, 8);
  pd_le32(h + 8, PD_SNAP_VERSION);
  pd_le32(h + 12, s->ident_hashed ? PD_SNAP_FLAG_HASHED_IDENTITIES : 0);
  pd_le32(h + 16, (uint32_t)s->currency_exponent);
  pd_le64(h + 20, gen);
  pd_le64(h + 28, pos);
  pd_le32(h + 36, pd_crc32c(0, h, 36));
  k->crc_from = k->len; /* the header is not part of a section */
  pd_status st;
  begin(k, PD_SEC_NAMESPACES, names_bytes(&s->namespaces));
  put_names(k, &s->namespaces);
  if ((st = end(s, k)) != PD_OK) return st;
  uint64_t len = 4;
  for (size_t i = 0; i < s->channel_names.n; i++)
    len += 5 + (uint64_t)s->channel_names.len[i];
  begin(k, PD_SEC_CHANNELS, len);
  out32(k, (uint32_t)s->channel_names.n);
  for (size_t i = 0; i < s->channel_names.n; i++) {
    k->left -= 1;
    *room(k, 1) = s->channel_kind[i];
    out32(k, s->channel_names.len[i]);
    out(k, s->channel_names.str[i], s->channel_names.len[i]);
  }
  if ((st = end(s, k)) != PD_OK) return st;
  len = 4;
  for (int kind = 1; kind <= 3; kind++) len += names_bytes(&s->labels[kind]);
  begin(k, PD_SEC_LABELS, len);
  out32(k, 3);
  for (int kind = 1; kind <= 3; kind++) put_names(k, &s->labels[kind]);
  if ((st = end(s, k)) != PD_OK) return st;
  len = 4;
  for (size_t i = 0; i < s->guide_codes.n; i++)
    len += 16 + (uint64_t)s->guide_codes.len[i];
  begin(k, PD_SEC_GUIDES, len);
  out32(k, (uint32_t)s->guide_codes.n);
  for (size_t i = 0; i < s->guide_codes.n; i++) {
    out32(k, s->guide_codes.len[i]);
    out(k, s->guide_codes.str[i], s->guide_codes.len[i]);
    out32(k, s->guide_shop[i]);
    out32(k, s->guide_last_assigned[i]);
    out32(k, (uint32_t)(i < s->guide_commission_cap ? s->guide_commission[i]
                                                     : -1));
  }
  if ((st = end(s, k)) != PD_OK) return st;
  if ((st = put_users(s, k)) != PD_OK) return st;
  if ((st = put_identities(s, k)) != PD_OK) return st;
  for (int kind = 1; kind < PD_EV_KINDS; kind++)
    if ((st = put_events(s, k, kind)) != PD_OK) return st;
  begin(k, PD_SEC_END, 4);
  out32(k, k->sections);
  if ((st = end(s, k)) != PD_OK) return st;
  flush(k);
  return k->failed ? pd_err(&s->err, PD_E_IO, "writing the snapshot failed")
                   : PD_OK;
}

pd_status pd_snap_write_locked(pd_store *s, pd_write_fn fn, void *user,
                               uint64_t gen, uint64_t pos) {
  sink k;
  memset(&k, 0, sizeof k);
  k.fn = fn;
  k.user = user;
  k.buf = pd_malloc(&s->alloc, STAGE_BYTES);
  if (!k.buf) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  pd_status st = write_all(s, &k, gen, pos);
  pd_free(&s->alloc, k.buf);
  return st;
}

/* The snapshot's size, roughly (its tables, not its names): enough to
 * tell a large file from a small one. */
static uint64_t rough_bytes(const pd_store *s) {
  uint64_t n = (uint64_t)s->n_users * sizeof(pd_st_user) +
               s->ident_bytes_len + (uint64_t)s->n_idents * 24;
  for (int kind = 1; kind < PD_EV_KINDS; kind++)
    n += (uint64_t)s->col[kind].n * (8 + pd_snap_kind_bytes(kind));
  return n;
}

/* Write the snapshot to fd, directly (around the page cache) when it is
 * at least direct_from bytes. */
static pd_status write_fd(pd_store *s, int fd, uint64_t gen, uint64_t pos,
                          uint64_t direct_from) {
  if (rough_bytes(s) < direct_from)
    return pd_snap_write_locked(s, pd_pf_fd_writer, &fd, gen, pos);
  pd_direct_writer w;
  if (pd_direct_writer_begin(&w, &s->alloc, fd) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  pd_status st = pd_snap_write_locked(s, pd_direct_writer_write, &w, gen, pos);
  if (pd_direct_writer_end(&w) != 0 && st == PD_OK)
    st = pd_err(&s->err, PD_E_IO, "writing the snapshot failed");
  return st;
}

pd_status pd_snap_save_locked(pd_store *s, const char *path, uint64_t gen,
                              uint64_t pos) {
  return pd_snap_save_locked_direct(s, path, gen, pos, PD_SNAP_DIRECT_FROM);
}

pd_status pd_snap_save_locked_direct(pd_store *s, const char *path,
                                     uint64_t gen, uint64_t pos,
                                     uint64_t direct_from) {
  char *tmp = pd_pf_path_with(&s->alloc, path, ".tmp");
  if (!tmp) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    pd_status st = pd_err(&s->err, PD_E_IO, "cannot create %s: %s", tmp,
                          strerror(errno));
    pd_free(&s->alloc, tmp);
    return st;
  }
  pd_status st = write_fd(s, fd, gen, pos, direct_from);
  if (st == PD_OK && fsync(fd) != 0)
    st = pd_err(&s->err, PD_E_IO, "cannot sync %s: %s", tmp, strerror(errno));
  if (close(fd) != 0 && st == PD_OK)
    st = pd_err(&s->err, PD_E_IO, "cannot close %s: %s", tmp,
                strerror(errno));
  if (st == PD_OK && rename(tmp, path) != 0)
    st = pd_err(&s->err, PD_E_IO, "cannot rename %s to %s: %s", tmp, path,
                strerror(errno));
  if (st != PD_OK) {
    if (st == PD_E_IO && strstr(s->err.msg, "writing the snapshot") != NULL)
      pd_err(&s->err, PD_E_IO, "cannot write %s: %s", tmp, strerror(errno));
    unlink(tmp);
  } else if (pd_pf_sync_dir(path) != 0) {
    st = pd_err(&s->err, PD_E_IO,
                "saved %s but could not sync its directory: %s", path,
                strerror(errno));
  }
  pd_free(&s->alloc, tmp);
  return st;
}

/* ---- public ------------------------------------------------------------- */

static void journal_position(pd_store *s, uint64_t *gen, uint64_t *pos) {
  *gen = 0;
  *pos = 0;
  pd_journal_position(s, gen, pos);
}

pd_status pd_snapshot_write(pd_store *s, pd_write_fn fn, void *user) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (fn == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "write is NULL"));
  uint64_t gen, pos;
  journal_position(s, &gen, &pos);
  return pd_st_leave(s, pd_snap_write_locked(s, fn, user, gen, pos));
}

pd_status pd_snapshot_save(pd_store *s, const char *path) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (path == NULL || path[0] == '\0')
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "path is empty"));
  uint64_t gen, pos;
  journal_position(s, &gen, &pos);
  /* The journal must hold everything up to the position the snapshot
   * records, or a later open could find it shorter than the snapshot. */
  pd_errbuf why;
  if (gen != 0 && pd_journal_sync_locked(s, &why) != 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_IO, "%s", why.msg));
  return pd_st_leave(s, pd_snap_save_locked(s, path, gen, pos));
}
