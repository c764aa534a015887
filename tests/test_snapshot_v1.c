/* Specification of snapshot format version 1 as released in 0.1.0: a file
 * written by that release (tests/data/snapshot_v1_demo.pds: the demo
 * domain of 60 users plus small_domain(424242)) still loads with the same
 * answers, and today's writer produces it byte for byte from the same
 * store. The fast paths (columns read and written as blocks, chains
 * checked in one pass) agree with the slow ones: small or large pieces,
 * files or callbacks, damaged, truncated or hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "../src/core/crc32c.h"
#include "../src/io/snapshot_format.h"
#include "demo_data.h"
#include "persist_testutil.h"
#include "testutil_alloc.h"

#ifndef PD_TEST_DATA
#error "PD_TEST_DATA (the tests/data directory) must be defined"
#endif

/* What 0.1.0 answered for the fixture's store (digest_of). */
#define FIXTURE_DIGEST UINT64_C(0xaf788a309c6b3fec)
#define FIXTURE_EVENTS 3631u

static membuf fixture(void) {
  membuf m = {0};
  FILE *f = fopen(PD_TEST_DATA "/snapshot_v1_demo.pds", "rb");
  assert_non_null(f);
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    assert_int_equal(membuf_write(&m, buf, n), 0);
  fclose(f);
  assert_true(m.len > 100000);
  return m;
}

static pd_store *fixture_store(uint32_t users, uint64_t salt) {
  demo_data d;
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, users, &d), 0);
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  demo_player p;
  assert_int_equal(demo_player_init(&p, &d, s, 0), 0);
  for (size_t i = 0; i < d.n_records; i++) {
    pd_status st = demo_play(&p, &d.records[i]);
    assert_true(st == PD_OK || st == PD_REPLAYED);
  }
  demo_player_free(&p);
  demo_free(&d);
  if (salt) assert_int_equal(small_domain(s, salt), PD_OK);
  return s;
}

static pd_status read_mem(const unsigned char *p, size_t len, size_t chunk,
                          pd_store **out) {
  membuf m = {(unsigned char *)p, len, len, 0, chunk};
  return pd_snapshot_read(membuf_read, &m, NULL, out);
}

static void write_file(const char *path, const unsigned char *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

/* ---- compatibility ------------------------------------------------------ */

static void a_version_1_file_loads_with_the_answers_it_was_saved_with(
    void **state) {
  (void)state;
  pd_store *s = NULL;
  assert_int_equal(
      pd_snapshot_load(PD_TEST_DATA "/snapshot_v1_demo.pds", NULL, &s), PD_OK);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.events, FIXTURE_EVENTS);
  assert_true(digest_of(s) == FIXTURE_DIGEST);
  pd_store_free(s);
}

static void the_writer_reproduces_the_version_1_file_byte_for_byte(
    void **state) {
  (void)state;
  membuf want = fixture();
  pd_store *s = fixture_store(60, 424242);
  assert_true(digest_of(s) == FIXTURE_DIGEST);
  membuf got = {0};
  assert_int_equal(pd_snapshot_write(s, membuf_write, &got), PD_OK);
  assert_int_equal(got.len, want.len);
  assert_memory_equal(got.p, want.p, want.len);
  /* and through a file */
  char dir[512], path[1024];
  scratch_dir(dir, sizeof dir, "snapv1");
  snprintf(path, sizeof path, "%s/s.pds", dir);
  assert_int_equal(pd_snapshot_save(s, path), PD_OK);
  membuf file = {0};
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) membuf_write(&file, buf, n);
  fclose(f);
  assert_int_equal(file.len, want.len);
  assert_memory_equal(file.p, want.p, want.len);
  remove_dir(dir);
  free(file.p);
  free(got.p);
  free(want.p);
  pd_store_free(s);
}

static void a_loaded_file_saves_back_to_the_same_bytes(void **state) {
  (void)state;
  membuf want = fixture();
  pd_store *s = NULL;
  assert_int_equal(read_mem(want.p, want.len, 0, &s), PD_OK);
  membuf got = {0};
  assert_int_equal(pd_snapshot_write(s, membuf_write, &got), PD_OK);
  assert_int_equal(got.len, want.len);
  assert_memory_equal(got.p, want.p, want.len);
  free(got.p);
  free(want.p);
  pd_store_free(s);
}

/* ---- the fast paths agree with the data --------------------------------- */

static void reading_in_pieces_of_any_size_gives_the_same_store(void **state) {
  (void)state;
  membuf m = fixture();
  static const size_t pieces[] = {1, 3, 4093, 65536, 1u << 20, 0};
  for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
    pd_store *s = NULL;
    assert_int_equal(read_mem(m.p, m.len, pieces[k], &s), PD_OK);
    assert_true(digest_of(s) == FIXTURE_DIGEST);
    pd_store_free(s);
  }
  free(m.p);
}

static void a_larger_domain_round_trips_through_files_and_callbacks(
    void **state) {
  (void)state;
  pd_store *s = fixture_store(3000, 0);
  uint64_t want = digest_of(s);
  char dir[512], path[1024];
  scratch_dir(dir, sizeof dir, "snapv1big");
  snprintf(path, sizeof path, "%s/big.pds", dir);
  assert_int_equal(pd_snapshot_save(s, path), PD_OK);
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_load(path, NULL, &t), PD_OK);
  assert_true(digest_of(t) == want);
  membuf a = {0}, b = {0};
  assert_int_equal(pd_snapshot_write(s, membuf_write, &a), PD_OK);
  assert_int_equal(pd_snapshot_write(t, membuf_write, &b), PD_OK);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.p, b.p, a.len);
  pd_store *u = NULL;
  assert_int_equal(read_mem(a.p, a.len, 100003, &u), PD_OK);
  assert_true(digest_of(u) == want);
  /* The loaded store keeps recording: every event id is remembered. */
  pd_touchpoint tp = PD_TOUCHPOINT_INIT;
  tp.event_id = 1;
  tp.user = 1;
  tp.kind = PD_TOUCH_INBOUND_MESSAGE;
  tp.time = DEMO_T_BEGIN;
  pd_status first = pd_record_touchpoint(s, &tp);
  assert_int_equal(pd_record_touchpoint(u, &tp), first);
  free(a.p);
  free(b.p);
  pd_store_free(u);
  pd_store_free(t);
  pd_store_free(s);
  remove_dir(dir);
}

static void the_field_by_field_paths_agree_with_the_block_paths(
    void **state) {
  (void)state;
  membuf want = fixture();
  pd_store *s = fixture_store(60, 424242);
  assert_int_equal(pd_snap_kind_raw(PD_EV_TOUCH), PD_SNAP_HOST_LE);
  pd_snap_portable_only = 1;
  assert_int_equal(pd_snap_kind_raw(PD_EV_TOUCH), 0);
  assert_false(PD_SNAP_USERS_RAW);
  membuf got = {0};
  assert_int_equal(pd_snapshot_write(s, membuf_write, &got), PD_OK);
  assert_int_equal(got.len, want.len);
  assert_memory_equal(got.p, want.p, want.len);
  pd_store *t = NULL;
  assert_int_equal(read_mem(want.p, want.len, 4093, &t), PD_OK);
  assert_true(digest_of(t) == FIXTURE_DIGEST);
  pd_store_free(t);
  for (size_t cut = 0; cut < want.len; cut += 1009) {
    t = NULL;
    assert_int_equal(read_mem(want.p, cut, 0, &t), PD_E_CORRUPT);
    assert_null(t);
  }
  pd_snap_portable_only = 0;
  free(got.p);
  free(want.p);
  pd_store_free(s);
}

/* ---- damaged input --------------------------------------------------------- */

static void every_truncation_is_rejected_without_a_leak(void **state) {
  (void)state;
  membuf m = fixture();
  char dir[512], path[1024];
  scratch_dir(dir, sizeof dir, "snapv1cut");
  snprintf(path, sizeof path, "%s/cut.pds", dir);
  for (size_t cut = 0; cut < m.len; cut += cut + 64 < m.len ? 211 : 1) {
    test_alloc ta;
    test_alloc_init(&ta);
    pd_allocator a = test_alloc_allocator(&ta);
    pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
    o.allocator = &a;
    membuf in = {m.p, cut, cut, 0, 0};
    pd_store *s = NULL;
    assert_int_equal(pd_snapshot_read(membuf_read, &in, &o, &s),
                     PD_E_CORRUPT);
    assert_null(s);
    if (cut % 7 == 0 || cut + 64 >= m.len) { /* the file path too */
      write_file(path, m.p, cut);
      assert_int_equal(pd_snapshot_load(path, &o, &s), PD_E_CORRUPT);
    }
    assert_int_equal(atomic_load(&ta.live), 0);
  }
  remove_dir(dir);
  free(m.p);
}

static void a_changed_byte_anywhere_is_rejected(void **state) {
  (void)state;
  membuf m = fixture();
  for (size_t at = 0; at < m.len; at += 37) {
    m.p[at] ^= 0x10;
    pd_store *s = NULL;
    pd_status st = read_mem(m.p, m.len, 0, &s);
    /* A section id naming an unknown kind is reported as a version
     * mismatch before its checksum is read; all else fails its CRC. */
    if (st != PD_E_VERSION) assert_int_equal(st, PD_E_CORRUPT);
    m.p[at] ^= 0x10;
  }
  free(m.p);
}

/* Sections of a snapshot in memory, to edit one and reseal its CRC. */
static size_t find_section(const membuf *m, uint32_t id, uint64_t *len) {
  size_t at = 40;
  while (at + 16 <= m->len) {
    uint32_t sid = (uint32_t)m->p[at] | (uint32_t)m->p[at + 1] << 8 |
                   (uint32_t)m->p[at + 2] << 16 | (uint32_t)m->p[at + 3] << 24;
    uint64_t l = 0;
    for (int i = 7; i >= 0; i--) l = l << 8 | m->p[at + 8 + i];
    if (sid == id) {
      *len = l;
      return at;
    }
    at += 16 + (size_t)l + 4;
  }
  fail_msg("section %#x not found", id);
  return 0;
}

static void reseal(membuf *m, size_t at, uint64_t len) {
  uint32_t c = pd_crc32c(0, m->p + at, 16 + (size_t)len);
  for (int i = 0; i < 4; i++)
    m->p[at + 16 + len + (size_t)i] = (unsigned char)(c >> (8 * i));
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Guide binds: records of 16 bytes (user, next, time, guide) after the
 * event ids; users: rows of 4 * (4 + chains) bytes, head[] from byte 16. */
#define BIND_SECTION (0x100u + 7u)
#define BIND_CHAIN 7

static void a_chain_in_another_valid_order_loads_and_a_cycle_does_not(
    void **state) {
  (void)state;
  membuf m = fixture();
  uint64_t blen, ulen;
  size_t b = find_section(&m, BIND_SECTION, &blen);
  size_t u = find_section(&m, 5, &ulen);
  unsigned char *sec = m.p + b + 16;
  uint32_t n = get32(sec + 4);
  unsigned char *recs = sec + 12 + (size_t)n * 8;
  uint32_t chains = get32(m.p + u + 16 + 4);
  unsigned char *rows = m.p + u + 16 + 8;
  size_t row = 4 * (4 + (size_t)chains);
  /* Give user A's bind to user B (whose chain has one bind): B's chain
   * becomes (newer, older) in index order or reversed. */
  uint32_t ua = get32(recs), ub = 0, j = 0;
  for (j = 1; j < n; j++) {
    ub = get32(recs + (size_t)j * 16);
    if (ub != ua && get32(recs + (size_t)j * 16 + 4) == UINT32_MAX) break;
  }
  assert_true(j < n);
  /* A had only record 0? then its head must become NIL. */
  assert_int_equal(get32(rows + (size_t)(ua - 1) * row + 16 + 4 * BIND_CHAIN),
                   0);
  assert_int_equal(get32(recs + 4), UINT32_MAX);
  put32(rows + (size_t)(ua - 1) * row + 16 + 4 * BIND_CHAIN, UINT32_MAX);
  put32(recs, ub);
  /* B: head = 0, 0.next = j (older index last: not the order the store
   * builds, but a valid chain). */
  put32(rows + (size_t)(ub - 1) * row + 16 + 4 * BIND_CHAIN, 0);
  put32(recs + 4, j);
  reseal(&m, b, blen);
  reseal(&m, u, ulen);
  pd_store *s = NULL;
  assert_int_equal(read_mem(m.p, m.len, 0, &s), PD_OK);
  pd_store_free(s);
  /* j.next = 0 closes a cycle. */
  put32(recs + (size_t)j * 16 + 4, 0);
  reseal(&m, b, blen);
  s = NULL;
  assert_int_equal(read_mem(m.p, m.len, 0, &s), PD_E_CORRUPT);
  assert_null(s);
  free(m.p);
}

/* An allocator that remembers its largest request. */
typedef struct big_alloc {
  size_t largest;
} big_alloc;
static void *big_malloc(void *u, size_t n) {
  big_alloc *b = u;
  if (n > b->largest) b->largest = n;
  return malloc(n);
}
static void *big_realloc(void *u, void *p, size_t n) {
  big_alloc *b = u;
  if (n > b->largest) b->largest = n;
  return realloc(p, n);
}
static void big_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void a_hostile_column_length_costs_no_more_memory_than_the_data(
    void **state) {
  (void)state;
  membuf m = fixture();
  uint64_t len;
  size_t at = find_section(&m, 0x103, &len); /* touchpoints */
  /* Claim 2^28 - 1 records of 28 bytes and keep only the bytes there. */
  uint32_t n = (1u << 28) - 1;
  uint64_t claim = 12 + (uint64_t)n * (8 + 28);
  for (int i = 0; i < 8; i++)
    m.p[at + 8 + (size_t)i] = (unsigned char)(claim >> (8 * i));
  put32(m.p + at + 16 + 4, n);
  big_alloc ba = {0};
  pd_allocator a = {big_malloc, big_realloc, big_free, &ba};
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.allocator = &a;
  membuf in = {m.p, m.len, m.len, 0, 0};
  pd_store *s = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &in, &o, &s), PD_E_CORRUPT);
  assert_true(ba.largest <= 2 * m.len + (1u << 20));
  free(m.p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_version_1_file_loads_with_the_answers_it_was_saved_with),
      cmocka_unit_test(the_writer_reproduces_the_version_1_file_byte_for_byte),
      cmocka_unit_test(a_loaded_file_saves_back_to_the_same_bytes),
      cmocka_unit_test(reading_in_pieces_of_any_size_gives_the_same_store),
      cmocka_unit_test(a_larger_domain_round_trips_through_files_and_callbacks),
      cmocka_unit_test(the_field_by_field_paths_agree_with_the_block_paths),
      cmocka_unit_test(every_truncation_is_rejected_without_a_leak),
      cmocka_unit_test(a_changed_byte_anywhere_is_rejected),
      cmocka_unit_test(
          a_chain_in_another_valid_order_loads_and_a_cycle_does_not),
      cmocka_unit_test(
          a_hostile_column_length_costs_no_more_memory_than_the_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
