/* pd_persist_check: examining a snapshot or journal file without
 * changing it, for `pd check` and for operators. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "journal_format.h"
#include "persist_internal.h"
#include "snapshot_format.h"
#include "store/mutation_codec.h"

static pd_status decodable(void *ctx, uint64_t pos, const unsigned char *p,
                           size_t len) {
  pd_mut_decoded m;
  if (pd_mut_decode(p, len, &m) == 0) return PD_OK;
  return pd_err(ctx, PD_E_CORRUPT,
                "record at position %llu is intact but cannot be decoded",
                (unsigned long long)pos);
}

static void check_journal(int fd, const pd_persist_options *o,
                          pd_check_report *r) {
  pd_errbuf err;
  err.msg[0] = '\0';
  pd_jscan scan;
  pd_allocator a;
  pd_alloc_init(&a, o->allocator);
  r->file_kind = PD_FILE_JOURNAL;
  r->status = pd_jscan_fd(fd, &a, decodable, &err, &scan, &err);
  r->generation = scan.generation;
  r->position = scan.start;
  r->records = scan.records;
  r->good_bytes = scan.good_end;
  r->bad_bytes = scan.file_size > scan.good_end ? scan.file_size - scan.good_end
                                                : 0;
  if (r->status) {
    snprintf(r->message, sizeof r->message, "%s", err.msg);
  } else if (scan.damaged_middle) {
    r->status = PD_E_CORRUPT;
    snprintf(r->message, sizeof r->message,
             "journal damaged at byte %llu after %llu records, with intact "
             "records after the damage (%llu bytes from there on)",
             (unsigned long long)scan.good_end,
             (unsigned long long)scan.records,
             (unsigned long long)r->bad_bytes);
  } else if (r->bad_bytes) {
    r->status = PD_E_CORRUPT;
    snprintf(r->message, sizeof r->message,
             "journal has a torn tail: %llu bytes after record %llu (byte "
             "%llu) do not form a record; opening cuts them",
             (unsigned long long)r->bad_bytes,
             (unsigned long long)scan.records,
             (unsigned long long)scan.good_end);
  } else {
    snprintf(r->message, sizeof r->message,
             "journal intact: generation %llu, %llu records from position "
             "%llu",
             (unsigned long long)scan.generation,
             (unsigned long long)scan.records,
             (unsigned long long)scan.start);
  }
}

static void check_snapshot(int fd, const pd_persist_options *o,
                           pd_check_report *r) {
  pd_errbuf err;
  err.msg[0] = '\0';
  pd_store *s = NULL;
  pd_snap_info info = {0, 0, 0};
  r->file_kind = PD_FILE_SNAPSHOT;
  r->status = pd_snap_read(pd_pf_fd_reader, &fd, o, &s, &info, &err);
  if (r->status) {
    snprintf(r->message, sizeof r->message, "%s", err.msg);
    return;
  }
  r->generation = info.generation;
  r->position = info.position;
  r->records = info.events;
  pd_store_stats st = PD_STORE_STATS_INIT;
  pd_store_get_stats(s, &st);
  snprintf(r->message, sizeof r->message,
           "snapshot intact: %llu users, %llu identities, %llu events; "
           "journal generation %llu, position %llu",
           (unsigned long long)st.users, (unsigned long long)st.identities,
           (unsigned long long)info.events,
           (unsigned long long)info.generation,
           (unsigned long long)info.position);
  pd_store_free(s);
}

pd_status pd_persist_check(const char *path, const pd_persist_options *opts,
                           pd_check_report *out) {
  pd_errbuf err;
  pd_persist_options o;
  if (path == NULL || out == NULL || out->size < sizeof *out)
    return PD_E_INVALID;
  pd_status st = pd_persist_opts(opts, &o, &err);
  if (st) return st;
  pd_check_report r = PD_CHECK_REPORT_INIT;
  r.size = out->size;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  unsigned char magic[8];
  long long got = fd < 0 ? -1 : pd_pf_read_full(fd, magic, sizeof magic);
  if (got < 0) {
    r.status = PD_E_IO;
    snprintf(r.message, sizeof r.message, "cannot read %s: %s", path,
             strerror(errno));
  } else if (got == 8 && memcmp(magic, PD_JRNL_MAGIC, 8) == 0) {
    check_journal(fd, &o, &r);
  } else if (got == 8 && memcmp(magic, PD_SNAP_MAGIC, 8) == 0 &&
             lseek(fd, 0, SEEK_SET) == 0) {
    check_snapshot(fd, &o, &r);
  } else {
    r.status = PD_E_CORRUPT;
    snprintf(r.message, sizeof r.message,
             "%s is neither a privdomain snapshot nor a journal", path);
  }
  if (fd >= 0) close(fd);
  memcpy(out, &r, sizeof r);
  return PD_OK;
}
