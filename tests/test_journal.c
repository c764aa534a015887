/* Specification of the journal (persist.h, src/store/mutation_codec.h):
 * every acknowledged change is in the journal before it is applied, and a
 * reopened store is the store that was closed; a torn tail is cut and
 * reported, damage in the middle is refused; checkpoints lose nothing,
 * even when cut short; a journal that cannot be written refuses the
 * change and leaves the store as it was. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "../src/io/persist_internal.h"
#include "../src/store/mutation_codec.h"
#include "../src/store/mutation_hook.h"
#include "persist_testutil.h"

typedef struct paths {
  char dir[512], snap[600], jrnl[600];
} paths;

static void make_paths(paths *p) {
  scratch_dir(p->dir, sizeof p->dir, "jrnl");
  assert_true(p->dir[0] != '\0');
  snprintf(p->snap, sizeof p->snap, "%s/store.pds", p->dir);
  snprintf(p->jrnl, sizeof p->jrnl, "%s/store.pdj", p->dir);
}

static pd_store *open_ok(const paths *p, pd_open_report *rep) {
  pd_store *s = NULL;
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  pd_status st = pd_store_open(p->snap, p->jrnl, &o, rep, &s);
  if (st != PD_OK) fprintf(stderr, "open: %s\n", msg);
  assert_int_equal(st, PD_OK);
  return s;
}

static uint64_t file_size(const char *path) {
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  return (uint64_t)sb.st_size;
}

/* The digest of a plain store (no journal) given the same changes. */
static uint64_t reference_digest(int rounds) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  for (int r = 0; r < rounds; r++)
    assert_int_equal(small_domain(s, 10 + (uint64_t)r), PD_OK);
  uint64_t d = digest_of(s);
  pd_store_free(s);
  return d;
}

/* ---- the codec ----------------------------------------------------------- */

/* A hook that keeps the last record, for looking at encodings. */
typedef struct capture {
  unsigned char rec[PD_MUT_MAX_BYTES];
  size_t len;
  uint64_t count;
  int fail;
} capture;

static int capture_append(void *user, const unsigned char *rec, size_t len,
                          pd_errbuf *why) {
  capture *c = user;
  if (c->fail) {
    pd_err(why, PD_E_IO, "disk full (test)");
    return -1;
  }
  memcpy(c->rec, rec, len);
  c->len = len;
  c->count++;
  return 0;
}

/* A hook that keeps every record. */
typedef struct tape {
  unsigned char rec[64][PD_MUT_MAX_BYTES];
  size_t len[64];
  size_t n;
} tape;

static int tape_append(void *user, const unsigned char *rec, size_t len,
                       pd_errbuf *why) {
  tape *t = user;
  if (t->n == 64) {
    pd_err(why, PD_E_IO, "tape full");
    return -1;
  }
  memcpy(t->rec[t->n], rec, len);
  t->len[t->n++] = len;
  return 0;
}

static void every_mutation_decodes_to_what_was_encoded(void **st) {
  (void)st;
  pd_store *s = NULL, *twin = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(pd_store_new(NULL, &twin), PD_OK);
  static tape t;
  t.n = 0;
  pd_st_hook h = {tape_append, NULL, &t};
  pd_st_hook_set(s, &h);
  assert_int_equal(small_domain(s, 1), PD_OK);
  assert_int_equal(pd_store_purge_before(s, T0 + 4 * DAY, NULL), PD_OK);
  pd_st_hook_set(s, NULL);
  /* Each record decodes, re-encodes to the same bytes, and applied to a
   * second store (what replay does) makes the same store; no strict
   * prefix and no record with a byte more decodes. */
  int seen[32] = {0};
  for (size_t i = 0; i < t.n; i++) {
    pd_mut_decoded m;
    assert_int_equal(pd_mut_decode(t.rec[i], t.len[i], &m), 0);
    assert_true(m.type > 0 && m.type < 32);
    seen[m.type] = 1;
    unsigned char again[PD_MUT_MAX_BYTES];
    size_t n = pd_mut_encode(m.type, m.args, again, sizeof again);
    assert_int_equal(n, t.len[i]);
    assert_memory_equal(again, t.rec[i], n);
    for (size_t k = 0; k < t.len[i]; k++)
      assert_int_equal(pd_mut_decode(t.rec[i], k, &m), -1);
    again[n] = 0;
    assert_int_equal(pd_mut_decode(again, n + 1, &m), -1);
    assert_int_equal(pd_mut_decode(t.rec[i], t.len[i], &m), 0);
    assert_int_equal(pd_mut_apply(twin, &m), PD_OK);
  }
  for (int type = PD_MUT_USER_ENSURE; type <= PD_MUT_GUIDE_COMMISSION; type++)
    if (!seen[type]) fail_msg("mutation %d (%s) was never journaled", type,
                              pd_mut_name_of(type));
  assert_true(digest_of(twin) == digest_of(s));
  /* An order encodes its fields, not its struct layout. */
  pd_order o = PD_ORDER_INIT;
  o.event_id = 300, o.order_id = 7, o.user = 1, o.time = 5, o.amount = -1;
  o.channel = -2, o.guide = 3, o.shop = 4;
  unsigned char buf[PD_MUT_MAX_BYTES];
  size_t n = pd_mut_encode(PD_MUT_ORDER, &o, buf, sizeof buf);
  static const unsigned char want[] = {11, 0xac, 0x02, 7, 1, 10, 1, 3, 3, 4};
  assert_int_equal(n, sizeof want);
  assert_memory_equal(buf, want, n);
  pd_mut_decoded m;
  assert_int_equal(pd_mut_decode(buf, n, &m), 0);
  pd_order back;
  memcpy(&back, m.args, sizeof back);
  assert_int_equal(back.size, sizeof(pd_order));
  assert_true(back.amount == -1 && back.channel == -2 && back.shop == 4);
  assert_int_equal(pd_mut_encode(9999, &o, buf, sizeof buf), 0);
  buf[0] = 99; /* unknown type */
  assert_int_equal(pd_mut_decode(buf, n, &m), -1);
  pd_store_free(s);
  pd_store_free(twin);
}

static void a_change_the_journal_refuses_is_not_made(void **st) {
  (void)st;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(small_domain(s, 1), PD_OK);
  pd_user_id x, y;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "x", PD_NTS, &x), PD_OK);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "y", PD_NTS, &y), PD_OK);
  uint64_t before = digest_of(s);
  capture c = {0};
  c.fail = 1;
  pd_st_hook h = {capture_append, NULL, &c};
  pd_st_hook_set(s, &h);
  /* every kind of change, refused */
  assert_int_equal(small_domain(s, 2), PD_E_IO);
  assert_non_null(strstr(pd_store_errmsg(s), "disk full"));
  pd_user_id u;
  assert_int_equal(pd_user_merge(s, x, y, &u), PD_E_IO);
  assert_int_equal(pd_user_erase(s, x), PD_E_IO);
  assert_int_equal(pd_store_purge_before(s, T0 + 100 * DAY, NULL), PD_E_IO);
  int32_t ch;
  assert_int_equal(pd_channel_register(s, "x", PD_NTS, PD_CHANNEL_PUBLIC, &ch),
                   PD_E_IO);
  uint32_t id;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "x", PD_NTS, &id),
                   PD_E_IO);
  assert_int_equal(pd_guide_ensure(s, "x", PD_NTS, 0, &id), PD_E_IO);
  /* replays change nothing, so they need no journal */
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "x", PD_NTS, &u),
                   PD_REPLAYED);
  assert_int_equal(pd_user_merge(s, 1, 3, &u), PD_REPLAYED);
  pd_st_hook_set(s, NULL);
  assert_true(digest_of(s) == before);
  pd_store_free(s);
}

/* ---- open, replay, reopen ---------------------------------------------- */

static void a_reopened_store_is_the_store_that_was_closed(void **st) {
  (void)st;
  paths p;
  make_paths(&p);
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  pd_store *s = open_ok(&p, &rep);
  assert_int_equal(rep.created, 1);
  assert_int_equal(rep.generation, 1);
  assert_int_equal(small_domain(s, 10), PD_OK);
  assert_int_equal(small_domain(s, 11), PD_OK);
  uint64_t d = digest_of(s);
  assert_true(d == reference_digest(2));
  pd_store_free(s);
  rep = (pd_open_report)PD_OPEN_REPORT_INIT;
  s = open_ok(&p, &rep);
  assert_int_equal(rep.created, 0);
  assert_true(rep.replayed >= 60);
  int32_t bp = 0;
  assert_int_equal(pd_guide_get_commission(s, 2, &bp), PD_OK);
  assert_int_equal(bp, 250); /* settings are journaled too */
  assert_int_equal(rep.cut_bytes, 0);
  assert_true(digest_of(s) == d);
  /* every event id is remembered: recording the same changes again
   * replays them up to the first event of the erased user */
  assert_int_equal(small_domain(s, 10), PD_E_ERASED);
  /* (the erased user's identity was free again: one new user) */
  pd_store_stats a = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &a), PD_OK);
  uint64_t d2 = digest_of(s), replayed = rep.replayed;
  assert_true(d2 != d);
  pd_store_free(s);
  /* replays appended nothing; the new user and the commission (a setting:
   * set again, journaled again) were */
  rep = (pd_open_report)PD_OPEN_REPORT_INIT;
  s = open_ok(&p, &rep);
  assert_int_equal(rep.replayed, replayed + 2);
  assert_true(digest_of(s) == d2);
  pd_store_free(s);
  remove_dir(p.dir);
}

static void a_torn_tail_is_cut_at_the_last_good_record(void **st) {
  (void)st;
  paths p;
  make_paths(&p);
  pd_store *s = open_ok(&p, NULL);
  assert_int_equal(small_domain(s, 10), PD_OK);
  uint64_t good = file_size(p.jrnl);
  uint64_t d = digest_of(s);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "the-last-one", PD_NTS,
                                  &u),
                   PD_OK);
  pd_store_free(s);
  uint64_t full = file_size(p.jrnl);
  assert_true(full > good + 8);
  /* the last record torn at every length */
  for (uint64_t len = good + 1; len < full; len++) {
    assert_int_equal(truncate(p.jrnl, (off_t)len), 0);
    pd_check_report cr = PD_CHECK_REPORT_INIT;
    assert_int_equal(pd_persist_check(p.jrnl, NULL, &cr), PD_OK);
    assert_int_equal(cr.file_kind, PD_FILE_JOURNAL);
    assert_int_equal(cr.status, PD_E_CORRUPT);
    assert_int_equal(cr.bad_bytes, len - good);
    pd_open_report rep = PD_OPEN_REPORT_INIT;
    s = open_ok(&p, &rep);
    assert_int_equal(rep.cut_bytes, len - good);
    assert_int_equal(rep.cut_records, 1);
    assert_true(digest_of(s) == d);
    pd_store_free(s);
    assert_int_equal(file_size(p.jrnl), good);
  }
  /* after a cut, the journal takes new changes */
  s = open_ok(&p, NULL);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "after-cut", PD_NTS, &u),
                   PD_OK);
  pd_store_free(s);
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  s = open_ok(&p, &rep);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "after-cut", PD_NTS, &u),
                   PD_OK);
  assert_int_equal(rep.cut_bytes, 0);
  pd_store_free(s);
  remove_dir(p.dir);
}

static void damage_before_good_records_is_refused_not_cut(void **st) {
  (void)st;
  paths p;
  make_paths(&p);
  pd_store *s = open_ok(&p, NULL);
  assert_int_equal(small_domain(s, 10), PD_OK);
  pd_store_free(s);
  int fd = open(p.jrnl, O_RDWR);
  assert_true(fd >= 0);
  unsigned char b;
  assert_int_equal(pread(fd, &b, 1, 60), 1);
  b ^= 0x10;
  assert_int_equal(pwrite(fd, &b, 1, 60), 1);
  close(fd);
  uint64_t size = file_size(p.jrnl);
  pd_store *t = NULL;
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  assert_int_equal(pd_store_open(p.snap, p.jrnl, &o, NULL, &t), PD_E_CORRUPT);
  assert_non_null(strstr(msg, "intact records after the damage"));
  assert_int_equal(file_size(p.jrnl), size); /* left as it was */
  pd_check_report cr = PD_CHECK_REPORT_INIT;
  assert_int_equal(pd_persist_check(p.jrnl, NULL, &cr), PD_OK);
  assert_int_equal(cr.status, PD_E_CORRUPT);
  assert_non_null(strstr(cr.message, "damaged"));
  remove_dir(p.dir);
}

static int copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  if (!a || !b) return -1;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
  fclose(a);
  return fclose(b);
}

static void a_bit_flip_anywhere_in_the_journal_is_caught(void **st) {
  (void)st;
  paths p;
  make_paths(&p);
  pd_store *s = open_ok(&p, NULL);
  assert_int_equal(small_domain(s, 10), PD_OK);
  uint64_t d = digest_of(s);
  pd_store_free(s);
  char orig[700];
  snprintf(orig, sizeof orig, "%s/orig.pdj", p.dir);
  assert_int_equal(copy_file(p.jrnl, orig), 0);
  uint64_t size = file_size(orig);
  /* the last record starts here: a flip in it is a torn tail */
  pd_check_report cr = PD_CHECK_REPORT_INIT;
  assert_int_equal(pd_persist_check(orig, NULL, &cr), PD_OK);
  assert_int_equal(cr.status, PD_OK);
  assert_int_equal(cr.good_bytes, size);
  for (uint64_t off = 0; off < size; off++) {
    assert_int_equal(copy_file(orig, p.jrnl), 0);
    int fd = open(p.jrnl, O_RDWR);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= (unsigned char)(1u << (off % 8));
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
    pd_store *t = NULL;
    pd_open_report rep = PD_OPEN_REPORT_INIT;
    pd_status r = pd_store_open(p.snap, p.jrnl, NULL, &rep, &t);
    if (r == PD_OK) {
      /* only the last record can go, and then it is reported */
      assert_true(rep.cut_bytes > 0);
      assert_true(off >= size - rep.cut_bytes);
      assert_true(digest_of(t) != d);
      pd_store_free(t);
    } else {
      assert_true(r == PD_E_CORRUPT || r == PD_E_VERSION);
    }
  }
  remove_dir(p.dir);
}

static void a_checkpoint_starts_a_new_journal_and_loses_nothing(void **st) {
  (void)st;
  paths p;
  make_paths(&p);
  pd_store *s = open_ok(&p, NULL);
  assert_int_equal(small_domain(s, 10), PD_OK);
  assert_int_equal(pd_store_checkpoint(s), PD_OK);
  assert_int_equal(file_size(p.jrnl), 36); /* header only */
  assert_int_equal(small_domain(s, 11), PD_OK);
  uint64_t d = digest_of(s);
  pd_store_free(s);
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  s = open_ok(&p, &rep);
  assert_int_equal(rep.generation, 2);
  assert_true(rep.snapshot_position >= 30);
  assert_true(rep.replayed >= 30);
  assert_true(digest_of(s) == d);
  assert_true(d == reference_digest(2));
  pd_store_free(s);
  pd_check_report cr = PD_CHECK_REPORT_INIT;
  assert_int_equal(pd_persist_check(p.snap, NULL, &cr), PD_OK);
  assert_int_equal(cr.file_kind, PD_FILE_SNAPSHOT);
  assert_int_equal(cr.status, PD_OK);
  assert_int_equal(cr.generation, 2);
  remove_dir(p.dir);
}

static void a_checkpoint_cut_short_after_its_snapshot_is_completed(void **st) {
  (void)st;
  paths p;
  make_paths(&p);
  pd_store *s = open_ok(&p, NULL);
  assert_int_equal(small_domain(s, 10), PD_OK);
  /* step (1) of a checkpoint, then the crash: the new snapshot (gen 2)
   * is in place, the journal still of gen 1; the process goes on
   * appending to it before it dies */
  uint64_t gen, pos;
  assert_int_equal(pd_journal_position(s, &gen, &pos), 1);
  assert_int_equal(pd_snap_save_locked(s, p.snap, gen + 1, pos), PD_OK);
  assert_int_equal(small_domain(s, 11), PD_OK);
  uint64_t d = digest_of(s);
  pd_store_free(s);
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  s = open_ok(&p, &rep);
  assert_int_equal(rep.checkpoint_completed, 1);
  assert_true(rep.replayed >= 30); /* the appends after the snapshot */
  assert_true(digest_of(s) == d);
  assert_int_equal(rep.generation, 2);
  pd_store_free(s);
  rep = (pd_open_report)PD_OPEN_REPORT_INIT;
  s = open_ok(&p, &rep);
  assert_int_equal(rep.checkpoint_completed, 0);
  assert_int_equal(rep.replayed, 0);
  assert_true(digest_of(s) == d);
  pd_store_free(s);
  remove_dir(p.dir);
}

static void files_that_do_not_belong_together_are_refused(void **st) {
  (void)st;
  paths p, q;
  make_paths(&p);
  make_paths(&q);
  pd_store *s = open_ok(&p, NULL);
  assert_int_equal(small_domain(s, 10), PD_OK);
  assert_int_equal(pd_store_checkpoint(s), PD_OK);
  assert_int_equal(pd_store_checkpoint(s), PD_OK); /* generation 3 */
  pd_store_free(s);
  s = open_ok(&q, NULL); /* generation 1 elsewhere */
  pd_store_free(s);
  pd_store *t = NULL;
  assert_int_equal(pd_store_open(p.snap, q.jrnl, NULL, NULL, &t),
                   PD_E_CORRUPT);
  /* a journal without its snapshot */
  assert_int_equal(unlink(q.snap), 0);
  assert_int_equal(pd_store_open(q.snap, q.jrnl, NULL, NULL, &t),
                   PD_E_CORRUPT);
  /* a snapshot given as the journal */
  assert_int_equal(pd_store_open(p.snap, p.snap, NULL, NULL, &t),
                   PD_E_CORRUPT);
  assert_null(t);
  remove_dir(p.dir);
  remove_dir(q.dir);
}

static void every_sync_policy_keeps_what_was_acknowledged(void **st) {
  (void)st;
  static const int32_t policy[] = {PD_SYNC_EVERY_EVENT, PD_SYNC_EVERY_N,
                                   PD_SYNC_INTERVAL, PD_SYNC_NEVER};
  for (int k = 0; k < 4; k++) {
    paths p;
    make_paths(&p);
    pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
    o.sync = policy[k];
    o.sync_every_events = 7;
    o.sync_every_ms = 5;
    pd_store *s = NULL;
    assert_int_equal(pd_store_open(p.snap, p.jrnl, &o, NULL, &s), PD_OK);
    assert_int_equal(small_domain(s, 10), PD_OK);
    assert_int_equal(pd_store_sync(s), PD_OK);
    uint64_t d = digest_of(s);
    pd_store_free(s);
    assert_int_equal(pd_store_open(p.snap, p.jrnl, &o, NULL, &s), PD_OK);
    assert_true(digest_of(s) == d);
    pd_store_free(s);
    remove_dir(p.dir);
  }
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  pd_store *s = NULL;
  o.sync = 0;
  assert_int_equal(pd_store_open("a", "b", &o, NULL, &s), PD_E_INVALID);
  o.sync = PD_SYNC_EVERY_N;
  assert_int_equal(pd_store_open("a", "b", &o, NULL, &s), PD_E_INVALID);
  pd_store *plain = NULL;
  assert_int_equal(pd_store_new(NULL, &plain), PD_OK);
  assert_int_equal(pd_store_checkpoint(plain), PD_E_MISUSE);
  assert_int_equal(pd_store_sync(plain), PD_OK);
  pd_store_free(plain);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_mutation_decodes_to_what_was_encoded),
      cmocka_unit_test(a_change_the_journal_refuses_is_not_made),
      cmocka_unit_test(a_reopened_store_is_the_store_that_was_closed),
      cmocka_unit_test(a_torn_tail_is_cut_at_the_last_good_record),
      cmocka_unit_test(damage_before_good_records_is_refused_not_cut),
      cmocka_unit_test(a_bit_flip_anywhere_in_the_journal_is_caught),
      cmocka_unit_test(a_checkpoint_starts_a_new_journal_and_loses_nothing),
      cmocka_unit_test(a_checkpoint_cut_short_after_its_snapshot_is_completed),
      cmocka_unit_test(files_that_do_not_belong_together_are_refused),
      cmocka_unit_test(every_sync_policy_keeps_what_was_acknowledged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
