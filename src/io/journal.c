/* The journal: appending encoded mutations (the store's mutation hook),
 * syncing by policy, scanning with torn-tail detection, opening a store
 * from snapshot + journal, and checkpoints. Protocol: include/privdomain/
 * persist.h (pd_store_checkpoint) and docs/FORMAT.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "journal_format.h"
#include "core/le_bytes.h"
#include "persist_internal.h"
#include "store/mutation_codec.h"
#include "store/mutation_hook.h"

typedef struct pd_journal {
  pd_st_hook hook;
  pd_store *s;
  int fd;
  char *path, *snap_path;
  uint64_t generation, next_pos, size;
  int32_t sync;
  uint32_t every_n, every_ms;
  uint64_t unsynced;
  struct timespec last_sync;
  int broken; /* an append could not be undone: refuse further changes */
} pd_journal;

/* ---- appending ----------------------------------------------------------- */

static int64_t ms_since(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
         (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int do_sync(pd_journal *j) {
  if (fdatasync(j->fd) != 0) return -1;
  j->unsynced = 0;
  clock_gettime(CLOCK_MONOTONIC, &j->last_sync);
  return 0;
}

static int journal_append(void *user, const unsigned char *rec, size_t len,
                          pd_errbuf *why) {
  pd_journal *j = user;
  if (j->broken) {
    pd_err(why, PD_E_IO,
           "the journal %s failed earlier and could not be repaired", j->path);
    return -1;
  }
  unsigned char frame[PD_JRNL_RECORD_HEADER + PD_MUT_MAX_BYTES];
  if (len == 0 || len > PD_MUT_MAX_BYTES) {
    pd_err(why, PD_E_IO, "a journal record of %zu bytes", len);
    return -1;
  }
  pd_le32(frame, (uint32_t)len);
  memcpy(frame + PD_JRNL_RECORD_HEADER, rec, len);
  uint32_t crc = pd_crc32c(pd_crc32c(0, frame, 4), rec, len);
  pd_le32(frame + 4, crc);
  size_t n = PD_JRNL_RECORD_HEADER + len;
  int bad = 0;
  size_t done = 0;
  while (done < n) {
    ssize_t w = pwrite(j->fd, frame + done, n - done,
                       (off_t)(j->size + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      bad = 1;
      break;
    }
    done += (size_t)w;
  }
  j->unsynced++;
  if (!bad) {
    int want = j->sync == PD_SYNC_EVERY_EVENT ||
               (j->sync == PD_SYNC_EVERY_N && j->unsynced >= j->every_n) ||
               (j->sync == PD_SYNC_INTERVAL &&
                ms_since(&j->last_sync) >= (int64_t)j->every_ms);
    if (want && do_sync(j) != 0) bad = 1;
  }
  if (bad) {
    int e = errno;
    /* Undo the partial record so the change, refused, is not replayed. */
    if (ftruncate(j->fd, (off_t)j->size) != 0) j->broken = 1;
    pd_err(why, PD_E_IO, "appending to the journal %s failed: %s", j->path,
           strerror(e));
    return -1;
  }
  j->size += n;
  j->next_pos++;
  return 0;
}

static void journal_release(void *user) {
  pd_journal *j = user;
  pd_store *s = j->s;
  if (j->fd >= 0) {
    if (j->unsynced) fdatasync(j->fd);
    close(j->fd);
  }
  pd_free(&s->alloc, j->path);
  pd_free(&s->alloc, j->snap_path);
  pd_free(&s->alloc, j);
}

static pd_journal *journal_of(pd_store *s) {
  pd_st_hook *h = pd_st_hook_get(s);
  return h && h->append == journal_append ? h->user : NULL;
}

int pd_journal_position(pd_store *s, uint64_t *gen, uint64_t *pos) {
  pd_journal *j = journal_of(s);
  if (!j) return 0;
  *gen = j->generation;
  *pos = j->next_pos;
  return 1;
}

int pd_journal_sync_locked(pd_store *s, pd_errbuf *why) {
  pd_journal *j = journal_of(s);
  if (!j || j->unsynced == 0) return 0;
  if (do_sync(j) != 0) {
    pd_err(why, PD_E_IO, "cannot sync the journal %s: %s", j->path,
           strerror(errno));
    return -1;
  }
  return 0;
}

/* ---- scanning ------------------------------------------------------------ */

typedef struct rbuf {
  int fd;
  unsigned char *p;
  size_t cap, len, pos; /* bytes p[pos..len) are unread */
  uint64_t off;         /* file offset of p[0] */
  int error;
} rbuf;

/* Make at least n bytes available (fewer at end of file). */
static size_t rbuf_fill(rbuf *r, size_t n) {
  if (r->len - r->pos >= n) return n;
  memmove(r->p, r->p + r->pos, r->len - r->pos);
  r->off += r->pos;
  r->len -= r->pos;
  r->pos = 0;
  long long g = pd_pf_read_full(r->fd, r->p + r->len, r->cap - r->len);
  if (g < 0) {
    r->error = 1;
    g = 0;
  }
  r->len += (size_t)g;
  return r->len < n ? r->len : n;
}

/* An intact, decodable record at p (avail bytes)? Its total size, or 0. */
static size_t intact_at(const unsigned char *p, size_t avail) {
  if (avail < PD_JRNL_RECORD_HEADER) return 0;
  uint32_t len = pd_rd32(p);
  if (len == 0 || len > PD_MUT_MAX_BYTES ||
      len > avail - PD_JRNL_RECORD_HEADER)
    return 0;
  if (pd_crc32c(pd_crc32c(0, p, 4), p + PD_JRNL_RECORD_HEADER, len) !=
      pd_rd32(p + 4))
    return 0;
  return PD_JRNL_RECORD_HEADER + len;
}

pd_status pd_jscan_fd(int fd, const pd_allocator *a, pd_jrecord_fn fn,
                      void *ctx, pd_jscan *out, pd_errbuf *err) {
  memset(out, 0, sizeof *out);
  struct stat sb;
  if (fstat(fd, &sb) != 0 || lseek(fd, 0, SEEK_SET) != 0)
    return pd_err(err, PD_E_IO, "cannot read the journal: %s",
                  strerror(errno));
  out->file_size = (uint64_t)sb.st_size;
  rbuf r = {fd, NULL, 1 << 16, 0, 0, 0, 0};
  r.p = pd_malloc(a, r.cap);
  if (!r.p) return pd_err(err, PD_E_NOMEM, "out of memory");
  pd_status st = PD_OK;
  size_t got = rbuf_fill(&r, PD_JRNL_HEADER_BYTES);
  const unsigned char *h = r.p;
  if (r.error) {
    st = pd_err(err, PD_E_IO, "cannot read the journal: %s", strerror(errno));
  } else if (got < PD_JRNL_HEADER_BYTES) {
    st = pd_err(err, PD_E_CORRUPT, "the journal is truncated (%zu bytes)",
                got);
  } else if (memcmp(h, PD_JRNL_MAGIC, 8) != 0) {
    st = pd_err(err, PD_E_CORRUPT,
                memcmp(h, "\x89PDSNAP\n", 8) == 0
                    ? "this is a snapshot, not a journal"
                    : "not a privdomain journal (bad magic)");
  } else if (pd_rd32(h + 32) != pd_crc32c(0, h, 32)) {
    st = pd_err(err, PD_E_CORRUPT, "the journal header fails its checksum");
  } else if (pd_rd32(h + 8) != PD_JRNL_VERSION || pd_rd32(h + 12) != 0) {
    st = pd_err(err, PD_E_VERSION,
                "journal format version %u; this library reads version %u",
                pd_rd32(h + 8), PD_JRNL_VERSION);
  }
  if (st) {
    pd_free(a, r.p);
    return st;
  }
  out->generation = pd_rd64(h + 16);
  out->start = pd_rd64(h + 24);
  r.pos = PD_JRNL_HEADER_BYTES;
  out->good_end = PD_JRNL_HEADER_BYTES;
  for (;;) {
    size_t avail = rbuf_fill(&r, PD_JRNL_RECORD_HEADER + PD_MUT_MAX_BYTES);
    if (r.error) {
      st = pd_err(err, PD_E_IO, "cannot read the journal: %s",
                  strerror(errno));
      break;
    }
    if (avail == 0) break; /* clean end */
    size_t n = intact_at(r.p + r.pos, avail);
    if (n == 0) {
      /* Damage: is it a torn tail, or is there an intact record later?
       * Look at every later offset (the tail is short after a crash). */
      uint64_t at = r.off + r.pos;
      for (uint64_t q = at + 1; q + PD_JRNL_RECORD_HEADER <= out->file_size;
           q++) {
        r.pos++;
        size_t av = rbuf_fill(&r, PD_JRNL_RECORD_HEADER + PD_MUT_MAX_BYTES);
        if (r.error || av == 0) break;
        size_t m = intact_at(r.p + r.pos, av);
        pd_mut_decoded d;
        if (m && pd_mut_decode(r.p + r.pos + PD_JRNL_RECORD_HEADER,
                               m - PD_JRNL_RECORD_HEADER, &d) == 0) {
          out->damaged_middle = 1;
          break;
        }
      }
      break;
    }
    const unsigned char *payload = r.p + r.pos + PD_JRNL_RECORD_HEADER;
    if (fn) {
      st = fn(ctx, out->start + out->records, payload,
              n - PD_JRNL_RECORD_HEADER);
      if (st) break;
    }
    r.pos += n;
    out->records++;
    out->good_end += n;
  }
  pd_free(a, r.p);
  return st;
}

/* ---- creating journal files ---------------------------------------------- */

/* Write a new, empty journal (generation, start) to path atomically and
 * return its open descriptor, or -1 with a message. */
static int create_journal(const pd_allocator *a, const char *path,
                          uint64_t gen, uint64_t start, pd_errbuf *err) {
  char *tmp = pd_pf_path_with(a, path, ".tmp");
  if (!tmp) {
    pd_err(err, PD_E_NOMEM, "out of memory");
    return -1;
  }
  unsigned char h[PD_JRNL_HEADER_BYTES];
  memset(h, 0, sizeof h);
  memcpy(h, PD_JRNL_MAGIC, 8);
  pd_le32(h + 8, PD_JRNL_VERSION);
  pd_le64(h + 16, gen);
  pd_le64(h + 24, start);
  pd_le32(h + 32, pd_crc32c(0, h, 32));
  int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || pd_pf_write_all(fd, h, sizeof h) != 0 || fsync(fd) != 0 ||
      rename(tmp, path) != 0 || pd_pf_sync_dir(path) != 0) {
    pd_err(err, PD_E_IO, "cannot create the journal %s: %s", path,
           strerror(errno));
    if (fd >= 0) close(fd);
    unlink(tmp);
    pd_free(a, tmp);
    return -1;
  }
  pd_free(a, tmp);
  return fd;
}

/* ---- opening ------------------------------------------------------------ */

typedef struct replay_ctx {
  pd_store *s;
  uint64_t from; /* first position not in the snapshot */
  uint64_t applied;
  pd_errbuf *err;
} replay_ctx;

static pd_status replay_one(void *c, uint64_t pos, const unsigned char *p,
                            size_t len) {
  replay_ctx *r = c;
  pd_mut_decoded m;
  if (pd_mut_decode(p, len, &m) != 0)
    return pd_err(r->err, PD_E_CORRUPT,
                  "journal record at position %llu is intact but cannot be "
                  "decoded (written by a newer version?)",
                  (unsigned long long)pos);
  if (pos < r->from) return PD_OK; /* already in the snapshot */
  pd_status st = pd_mut_apply(r->s, &m);
  /* Running out of memory says nothing about the file: report it as such,
   * so a caller does not take good files for damaged ones. */
  if (st == PD_E_NOMEM)
    return pd_err(r->err, PD_E_NOMEM,
                  "out of memory replaying journal record at position %llu",
                  (unsigned long long)pos);
  if (st < 0)
    return pd_err(r->err, PD_E_CORRUPT,
                  "journal record at position %llu (%s) does not apply: %s",
                  (unsigned long long)pos, pd_mut_name_of(m.type),
                  pd_store_errmsg(r->s));
  r->applied++;
  return PD_OK;
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static pd_status attach(pd_store *s, const char *snap, const char *jpath,
                        const pd_persist_options *o, int fd, uint64_t gen,
                        uint64_t pos, uint64_t size, pd_errbuf *err) {
  pd_journal *j = pd_malloc(&s->alloc, sizeof *j);
  if (!j) {
    close(fd);
    return pd_err(err, PD_E_NOMEM, "out of memory");
  }
  memset(j, 0, sizeof *j);
  j->s = s;
  j->fd = fd;
  j->path = pd_pf_path_with(&s->alloc, jpath, "");
  j->snap_path = pd_pf_path_with(&s->alloc, snap, "");
  j->generation = gen;
  j->next_pos = pos;
  j->size = size;
  j->sync = o->sync;
  j->every_n = o->sync_every_events;
  j->every_ms = o->sync_every_ms;
  clock_gettime(CLOCK_MONOTONIC, &j->last_sync);
  j->hook.append = journal_append;
  j->hook.release = journal_release;
  j->hook.user = j;
  if (!j->path || !j->snap_path) {
    journal_release(j);
    return pd_err(err, PD_E_NOMEM, "out of memory");
  }
  pd_st_lock(s);
  pd_st_hook_set(s, &j->hook);
  pd_st_unlock(s);
  return PD_OK;
}

static pd_status checkpoint_locked(pd_store *s, pd_journal *j);

static pd_status open_store(const char *snap, const char *jpath,
                            const pd_persist_options *o, pd_open_report *rep,
                            pd_store **out, pd_errbuf *err) {
  int have_snap = exists(snap), have_j = exists(jpath);
  pd_store *s = NULL;
  pd_status st;
  if (!have_snap) {
    if (have_j)
      return pd_err(err, PD_E_CORRUPT,
                    "the journal %s exists but its snapshot %s does not",
                    jpath, snap);
    pd_store_options so = PD_STORE_OPTIONS_INIT;
    so.allocator = o->allocator;
    so.currency_exponent = o->currency_exponent;
    so.identity_key = o->identity_key;
    so.identity_key_len = o->identity_key_len;
    if ((st = pd_store_new(&so, &s)) != PD_OK)
      return pd_err(err, st, "cannot create the store");
    st = pd_snap_save_locked(s, snap, 1, 0);
    int fd = st ? -1 : create_journal(&s->alloc, jpath, 1, 0, err);
    if (st) pd_err(err, st, "%s", s->err.msg);
    if (!st && fd < 0) st = PD_E_IO;
    if (!st) st = attach(s, snap, jpath, o, fd, 1, 0, PD_JRNL_HEADER_BYTES, err);
    if (st) {
      pd_store_free(s);
      return st;
    }
    rep->created = 1;
    rep->generation = 1;
    *out = s;
    return PD_OK;
  }
  pd_snap_info info;
  if ((st = pd_snap_load_path(snap, o, &s, &info, err)) != PD_OK) return st;
  rep->snapshot_position = info.position;
  uint64_t gen = info.generation, pos = info.position, size = 0;
  int fd = -1, finish = 0;
  if (have_j) {
    fd = open(jpath, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      pd_store_free(s);
      return pd_err(err, PD_E_IO, "cannot open %s: %s", jpath,
                    strerror(errno));
    }
    pd_jscan scan;
    replay_ctx rc = {s, info.position, 0, err};
    st = pd_jscan_fd(fd, &s->alloc, NULL, NULL, &scan, err);
    if (!st && scan.damaged_middle)
      st = pd_err(err, PD_E_CORRUPT,
                  "the journal %s is damaged at byte %llu and has intact "
                  "records after the damage: not cutting acknowledged "
                  "changes (run pd check)",
                  jpath, (unsigned long long)scan.good_end);
    if (!st && !(scan.generation == gen ||
                 (gen > 1 && scan.generation == gen - 1)))
      st = pd_err(err, PD_E_CORRUPT,
                  "the journal %s has generation %llu; its snapshot has "
                  "%llu: they do not belong together",
                  jpath, (unsigned long long)scan.generation,
                  (unsigned long long)gen);
    if (!st && scan.start > info.position)
      st = pd_err(err, PD_E_CORRUPT,
                  "the journal starts at position %llu, after the "
                  "snapshot's %llu: changes are missing",
                  (unsigned long long)scan.start,
                  (unsigned long long)info.position);
    if (!st) st = pd_jscan_fd(fd, &s->alloc, replay_one, &rc, &scan, err);
    if (st) {
      close(fd);
      pd_store_free(s);
      return st;
    }
    rep->replayed = rc.applied;
    if (scan.good_end < scan.file_size) {
      rep->cut_bytes = scan.file_size - scan.good_end;
      rep->cut_records = 1;
      if (ftruncate(fd, (off_t)scan.good_end) != 0 || fsync(fd) != 0) {
        close(fd);
        pd_store_free(s);
        return pd_err(err, PD_E_IO, "cannot cut the torn tail of %s: %s",
                      jpath, strerror(errno));
      }
    }
    size = scan.good_end;
    uint64_t end = scan.start + scan.records;
    pos = end > info.position ? end : info.position;
    /* A journal of the previous generation means a checkpoint was cut
     * short after its snapshot; one that ends before the snapshot cannot
     * take appends at the right position. Either way: checkpoint now. */
    finish = scan.generation != gen || end < info.position;
    gen = scan.generation;
  } else {
    fd = create_journal(&s->alloc, jpath, gen ? gen : 1, pos, err);
    if (fd < 0) {
      pd_store_free(s);
      return PD_E_IO;
    }
    finish = gen == 0; /* a snapshot saved without a journal */
    if (gen == 0) gen = 1;
    size = PD_JRNL_HEADER_BYTES;
  }
  if ((st = attach(s, snap, jpath, o, fd, gen, pos, size, err)) != PD_OK) {
    pd_store_free(s);
    return st;
  }
  if (finish) {
    pd_st_lock(s);
    st = checkpoint_locked(s, journal_of(s));
    pd_st_unlock(s);
    if (st) {
      pd_err(err, st, "%s", s->err.msg);
      pd_store_free(s);
      return st;
    }
    rep->checkpoint_completed = 1;
  }
  rep->generation = journal_of(s)->generation;
  pd_err_clear(&s->err);
  *out = s;
  return PD_OK;
}

pd_status pd_store_open(const char *snap, const char *jpath,
                        const pd_persist_options *opts, pd_open_report *report,
                        pd_store **out) {
  pd_errbuf err;
  pd_persist_options o;
  pd_status st = pd_persist_opts(opts, &o, &err);
  if (!st && (snap == NULL || jpath == NULL || out == NULL || !*snap ||
              !*jpath))
    st = pd_err(&err, PD_E_INVALID, "a path or out is NULL or empty");
  if (!st && report != NULL && report->size < sizeof *report)
    st = pd_err(&err, PD_E_INVALID,
                "report size %zu is smaller than %zu (use "
                "PD_OPEN_REPORT_INIT)",
                report->size, sizeof *report);
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  pd_store *s = NULL;
  if (!st) st = open_store(snap, jpath, &o, &rep, &s, &err);
  if (st) return pd_persist_fail(&o, &err, st);
  if (report) {
    rep.size = report->size;
    memcpy(report, &rep, sizeof rep);
  }
  *out = s;
  return PD_OK;
}

/* ---- checkpoints -------------------------------------------------------- */

static pd_status checkpoint_locked(pd_store *s, pd_journal *j) {
  uint64_t gen = j->generation + 1, pos = j->next_pos;
  /* (1) the snapshot of everything so far, as generation gen */
  pd_status st = pd_snap_save_locked(s, j->snap_path, gen, pos);
  if (st) return st;
  /* (2) the new journal; until it is in place, appends keep going to the
   * old one, whose records at >= pos an open applies on the new snapshot */
  pd_errbuf why;
  int fd = create_journal(&s->alloc, j->path, gen, pos, &why);
  if (fd < 0) return pd_err(&s->err, PD_E_IO, "%s", why.msg);
  close(j->fd);
  j->fd = fd;
  j->generation = gen;
  j->size = PD_JRNL_HEADER_BYTES;
  j->unsynced = 0;
  j->broken = 0;
  clock_gettime(CLOCK_MONOTONIC, &j->last_sync);
  return PD_OK;
}

pd_status pd_store_checkpoint(pd_store *s) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  pd_journal *j = journal_of(s);
  if (!j)
    return pd_st_leave(s, pd_err(&s->err, PD_E_MISUSE,
                                 "this store has no journal (open it with "
                                 "pd_store_open)"));
  return pd_st_leave(s, checkpoint_locked(s, j));
}

pd_status pd_store_sync(pd_store *s) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  pd_errbuf why;
  if (pd_journal_sync_locked(s, &why) != 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_IO, "%s", why.msg));
  return pd_st_leave(s, PD_OK);
}
