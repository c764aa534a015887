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
#include "persist_internal.h"
#include "snapshot_format.h"
#include "store/mutation_hook.h"

typedef struct sink {
  pd_write_fn fn;
  void *user;
  uint32_t sections;
} sink;

static void put_names(pd_obuf *b, const pd_st_names *t, size_t from) {
  pd_put32(b, (uint32_t)(t->n - from));
  for (size_t i = from; i < t->n; i++) {
    pd_put32(b, t->len[i]);
    pd_putbytes(b, t->str[i], t->len[i]);
  }
}

/* Emit b as section `id` (header, payload, CRC of both) and empty it. */
static pd_status emit(pd_store *s, sink *k, uint32_t id, pd_obuf *b) {
  if (b->failed) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  unsigned char h[PD_SNAP_SECTION_HEADER_BYTES], c[4];
  pd_le32(h, id);
  pd_le32(h + 4, 0);
  pd_le64(h + 8, b->len);
  uint32_t crc = pd_crc32c(pd_crc32c(0, h, sizeof h), b->p, b->len);
  pd_le32(c, crc);
  if (k->fn(k->user, h, sizeof h) != 0 ||
      (b->len && k->fn(k->user, b->p, b->len) != 0) ||
      k->fn(k->user, c, 4) != 0)
    return pd_err(&s->err, PD_E_IO, "writing the snapshot failed");
  k->sections++;
  b->len = 0;
  return PD_OK;
}

static void put_field(pd_obuf *b, const unsigned char *rec,
                      const pd_snap_field *f) {
  switch (f->width) {
    case 1: pd_put8(b, rec[f->off]); break;
    case 2: {
      uint16_t v;
      memcpy(&v, rec + f->off, 2);
      pd_put16(b, v);
      break;
    }
    case 4: {
      uint32_t v;
      memcpy(&v, rec + f->off, 4);
      pd_put32(b, v);
      break;
    }
    default: {
      uint64_t v;
      memcpy(&v, rec + f->off, 8);
      pd_put64(b, v);
    }
  }
}

static pd_status write_all(pd_store *s, sink *k, pd_obuf *b, uint64_t gen,
                           uint64_t pos) {
  unsigned char h[PD_SNAP_HEADER_BYTES];
  memset(h, 0, sizeof h);
  memcpy(h, PD_SNAP_MAGIC, 8);
  pd_le32(h + 8, PD_SNAP_VERSION);
  pd_le32(h + 12, s->ident_hashed ? PD_SNAP_FLAG_HASHED_IDENTITIES : 0);
  pd_le32(h + 16, (uint32_t)s->currency_exponent);
  pd_le64(h + 20, gen);
  pd_le64(h + 28, pos);
  pd_le32(h + 36, pd_crc32c(0, h, 36));
  if (k->fn(k->user, h, sizeof h) != 0)
    return pd_err(&s->err, PD_E_IO, "writing the snapshot failed");
  pd_status st;
  put_names(b, &s->namespaces, 0);
  if ((st = emit(s, k, PD_SEC_NAMESPACES, b)) != PD_OK) return st;
  pd_put32(b, (uint32_t)s->channel_names.n);
  for (size_t i = 0; i < s->channel_names.n; i++) {
    pd_put8(b, s->channel_kind[i]);
    pd_put32(b, s->channel_names.len[i]);
    pd_putbytes(b, s->channel_names.str[i], s->channel_names.len[i]);
  }
  if ((st = emit(s, k, PD_SEC_CHANNELS, b)) != PD_OK) return st;
  pd_put32(b, 3);
  for (int kind = 1; kind <= 3; kind++) put_names(b, &s->labels[kind], 0);
  if ((st = emit(s, k, PD_SEC_LABELS, b)) != PD_OK) return st;
  pd_put32(b, (uint32_t)s->guide_codes.n);
  for (size_t i = 0; i < s->guide_codes.n; i++) {
    pd_put32(b, s->guide_codes.len[i]);
    pd_putbytes(b, s->guide_codes.str[i], s->guide_codes.len[i]);
    pd_put32(b, s->guide_shop[i]);
    pd_put32(b, s->guide_last_assigned[i]);
    pd_put32(b, (uint32_t)(i < s->guide_commission_cap
                               ? s->guide_commission[i]
                               : -1));
  }
  if ((st = emit(s, k, PD_SEC_GUIDES, b)) != PD_OK) return st;
  pd_put32(b, s->n_users);
  pd_put32(b, PD_ST_USER_CHAINS);
  for (uint32_t u = 1; u < s->n_users; u++) {
    const pd_st_user *p = &s->users[u];
    pd_put32(b, p->parent);
    pd_put32(b, p->next_member);
    pd_put32(b, p->referral_in);
    pd_put32(b, p->flags);
    for (int c = 0; c < PD_ST_USER_CHAINS; c++) pd_put32(b, p->head[c]);
  }
  if ((st = emit(s, k, PD_SEC_USERS, b)) != PD_OK) return st;
  pd_put64(b, s->ident_bytes_len);
  pd_putbytes(b, s->ident_bytes, (size_t)s->ident_bytes_len);
  pd_put32(b, s->n_idents);
  for (uint32_t i = 0; i < s->n_idents; i++) {
    const pd_st_identity *d = &s->idents[i];
    pd_put64(b, d->off);
    pd_put32(b, d->len);
    pd_put32(b, d->user);
    pd_put32(b, d->next);
    pd_put32(b, d->ns);
  }
  if ((st = emit(s, k, PD_SEC_IDENTITIES, b)) != PD_OK) return st;
  for (int kind = 1; kind < PD_EV_KINDS; kind++) {
    const pd_snap_kind *sk = &pd_snap_kinds[kind];
    const pd_st_column *c = &s->col[kind];
    pd_put32(b, (uint32_t)kind);
    pd_put32(b, c->n);
    pd_put32(b, (uint32_t)pd_snap_kind_bytes(kind));
    for (uint32_t i = 0; i < c->n; i++) pd_put64(b, c->eid[i]);
    for (uint32_t i = 0; i < c->n; i++) {
      const unsigned char *rec = pd_st_rec(s, kind, i);
      for (int j = 0; j < PD_SNAP_MAX_FIELDS && sk->f[j].width; j++)
        put_field(b, rec, &sk->f[j]);
    }
    if ((st = emit(s, k, PD_SEC_EVENTS + (uint32_t)kind, b)) != PD_OK)
      return st;
  }
  pd_put32(b, k->sections);
  return emit(s, k, PD_SEC_END, b);
}

pd_status pd_snap_write_locked(pd_store *s, pd_write_fn fn, void *user,
                               uint64_t gen, uint64_t pos) {
  sink k = {fn, user, 0};
  pd_obuf b = {&s->alloc, NULL, 0, 0, 0};
  pd_status st = write_all(s, &k, &b, gen, pos);
  pd_free(&s->alloc, b.p);
  return st;
}

pd_status pd_snap_save_locked(pd_store *s, const char *path, uint64_t gen,
                              uint64_t pos) {
  char *tmp = pd_pf_path_with(&s->alloc, path, ".tmp");
  if (!tmp) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    pd_status st = pd_err(&s->err, PD_E_IO, "cannot create %s: %s", tmp,
                          strerror(errno));
    pd_free(&s->alloc, tmp);
    return st;
  }
  pd_status st = pd_snap_write_locked(s, pd_pf_fd_writer, &fd, gen, pos);
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
