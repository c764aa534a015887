/* Snapshot files written and read around the page cache (io/direct_io.h):
 * direct reads give the bytes and checksums of ordinary reads wherever
 * they start and end; the direct writer leaves exactly the bytes it was
 * given and reports a failed write; a direct save is the very bytes of
 * pd_snapshot_write, and a direct load the same store, status and message
 * as an ordinary one. Where the file system refuses direct I/O the same
 * calls fall back to ordinary I/O, so every assertion holds there too. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/crc32c.h"
#include "core/le_bytes.h"
#include "io/direct_io.h"
#include "io/persist_internal.h"
#include "io/readahead.h"
#include "io/snapshot_feed.h"
#include "io/snapshot_format.h"
#include "io/snapshot_pread.h"
#include "persist_testutil.h"
#include "store/store_internal.h"
#include "testutil_alloc.h"

static char dir[512];
static pd_allocator libc; /* the default allocator */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int setup(void **state) {
  (void)state;
  pd_alloc_init(&libc, NULL);
  scratch_dir(dir, sizeof dir, "directio");
  return dir[0] == '\0' ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  remove_dir(dir);
  return 0;
}

static unsigned char *random_bytes(size_t n) {
  unsigned char *p = malloc(n);
  assert_non_null(p);
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)next_rand();
  return p;
}

static void write_file(const char *file, const unsigned char *p, size_t n) {
  FILE *f = fopen(file, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static unsigned char *read_file(const char *file, size_t *n) {
  FILE *f = fopen(file, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long len = ftell(f);
  assert_true(len >= 0);
  rewind(f);
  unsigned char *p = malloc((size_t)len + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return p;
}

/* ---- reading ------------------------------------------------------------- */

static void direct_reads_give_the_bytes_wherever_they_start_and_end(
    void **state) {
  (void)state;
  char f[700];
  snprintf(f, sizeof f, "%s/raw.bin", dir);
  const size_t n = 5 * PD_DIRECT_ALIGN * 7 + 1234; /* not whole blocks */
  unsigned char *data = random_bytes(n);
  write_file(f, data, n);
  int fd = open(f, O_RDONLY);
  assert_true(fd >= 0);
  int dfd = pd_direct_open_read(f);
  if (dfd < 0) {
    print_message("no direct reads here: ordinary reads are checked\n");
    dfd = fd;
  }
  void *block;
  unsigned char *bounce =
      pd_direct_alloc(&libc, 4 * PD_DIRECT_ALIGN, &block);
  assert_non_null(bounce);
  assert_int_equal((uintptr_t)bounce % PD_DIRECT_ALIGN, 0);
  unsigned char *got = malloc(n);
  assert_non_null(got);
  const size_t bounce_sizes[] = {2 * PD_DIRECT_ALIGN, 3 * PD_DIRECT_ALIGN,
                                 4 * PD_DIRECT_ALIGN};
  const size_t starts[] = {0, 1, 4095, 4096, 4097, 12345, n - 1234, n - 1};
  for (size_t b = 0; b < 3; b++)
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
      size_t from = starts[i];
      const size_t lens[] = {1, 4096, 8191, 3 * 4096 + 17, n - from};
      for (size_t k = 0; k < 5; k++) {
        size_t len = lens[k] < n - from ? lens[k] : n - from;
        memset(got, 0, len);
        assert_int_equal(pd_direct_pread(dfd, fd, from, got, len, bounce,
                                         bounce_sizes[b]),
                         0);
        assert_memory_equal(got, data + from, len);
      }
    }
  /* past the end: truncated */
  assert_int_equal(
      pd_direct_pread(dfd, fd, n - 100, got, 200, bounce, 2 * PD_DIRECT_ALIGN),
      -2);
  assert_int_equal(
      pd_direct_pread(dfd, fd, n + 5000, got, 10, bounce, 2 * PD_DIRECT_ALIGN),
      -2);
  if (dfd != fd) close(dfd);
  close(fd);
  /* closed descriptors: a read error */
  assert_int_equal(
      pd_direct_pread(dfd, fd, 0, got, 10, bounce, 2 * PD_DIRECT_ALIGN), -1);
  pd_free(&libc, block);
  free(got);
  free(data);
}

static void a_direct_pread_equals_an_ordinary_one_on_any_thread_count(
    void **state) {
  (void)state;
  char f[700];
  snprintf(f, sizeof f, "%s/raw2.bin", dir);
  const size_t n = 1000003;
  unsigned char *data = random_bytes(n);
  write_file(f, data, n);
  int fd = open(f, O_RDONLY);
  assert_true(fd >= 0);
  int dfd = pd_direct_open_read(f);
  if (dfd < 0) dfd = fd;
  void *block;
  pd_snap_direct d = {.fd = dfd, .bounce_bytes = 2 * PD_DIRECT_ALIGN,
                      .workers = 3};
  d.bounce = pd_direct_alloc(&libc, 3 * d.bounce_bytes,
                             &block);
  assert_non_null(d.bounce);
  unsigned char *got = malloc(n);
  assert_non_null(got);
  const size_t from = 333, len = n - 333 - 999;
  uint32_t want = pd_crc32c(pd_crc32c(0, "x", 1), data + from, len);
  const int32_t threads[] = {1, 2, 3, 8};
  for (size_t t = 0; t < 4; t++) {
    memset(got, 0, n);
    uint32_t crc = pd_crc32c(0, "x", 1);
    assert_int_equal(pd_snap_pread_direct(fd, &d, from, got, len, threads[t],
                                          10000, &crc),
                     0);
    assert_int_equal(crc, want);
    assert_memory_equal(got, data + from, len);
  }
  uint32_t crc = 7;
  assert_int_equal(pd_snap_pread_direct(fd, &d, n - 10, got, 20, 2, 16, &crc),
                   -2);
  assert_int_equal(crc, 7);
  if (dfd != fd) close(dfd);
  close(fd);
  pd_free(&libc, block);
  free(got);
  free(data);
}

static void a_file_just_written_is_cached_and_one_dropped_is_not(
    void **state) {
  (void)state;
#if defined(__linux__)
  char f[700];
  snprintf(f, sizeof f, "%s/cache.bin", dir);
  const size_t n = (size_t)4 << 20;
  unsigned char *data = random_bytes(n);
  write_file(f, data, n);
  int fd = open(f, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(pd_direct_file_cached(fd, n), 1);
  /* written back, then dropped from the cache */
  assert_int_equal(fdatasync(fd), 0);
  assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  assert_int_equal(pd_direct_file_cached(fd, n), 0);
  close(fd);
  free(data);
#else
  skip();
#endif
}

/* ---- writing ------------------------------------------------------------- */

static void the_direct_writer_leaves_exactly_the_bytes_it_was_given(
    void **state) {
  (void)state;
  char f[700];
  snprintf(f, sizeof f, "%s/written.bin", dir);
  /* pieces around the block and buffer sizes, ending off a block */
  const size_t pieces[] = {1, 4095, 4097, PD_DIRECT_WRITE_BUFFER + 3, 100,
                           2 * PD_DIRECT_WRITE_BUFFER, 0, 777};
  size_t total = 0;
  for (size_t i = 0; i < 8; i++) total += pieces[i];
  unsigned char *data = random_bytes(total);
  int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  pd_direct_writer w;
  assert_int_equal(pd_direct_writer_begin(&w, &libc, fd), 0);
  size_t at = 0;
  for (size_t i = 0; i < 8; i++) {
    assert_int_equal(pd_direct_writer_write(&w, data + at, pieces[i]), 0);
    at += pieces[i];
  }
  assert_int_equal(pd_direct_writer_end(&w), 0);
  assert_int_equal(close(fd), 0);
  size_t n;
  unsigned char *back = read_file(f, &n);
  assert_int_equal(n, total);
  assert_memory_equal(back, data, total);
  free(back);
  free(data);
}

static void a_failed_direct_write_is_reported_with_its_errno(void **state) {
  (void)state;
  int fd = open("/dev/full", O_WRONLY);
  if (fd < 0) skip();
  unsigned char *data = random_bytes(PD_DIRECT_WRITE_BUFFER + 10);
  pd_direct_writer w;
  assert_int_equal(pd_direct_writer_begin(&w, &libc, fd), 0);
  assert_int_equal(
      pd_direct_writer_write(&w, data, PD_DIRECT_WRITE_BUFFER + 10), -1);
  /* once failed, always failed */
  assert_int_equal(pd_direct_writer_write(&w, data, 1), -1);
  errno = 0;
  assert_int_equal(pd_direct_writer_end(&w), -1);
  assert_int_equal(errno, ENOSPC);
  close(fd);
  free(data);
}

static void the_writer_reports_no_memory_and_holds_nothing(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  test_alloc_fail_in(&t, 1);
  pd_direct_writer w;
  assert_int_equal(pd_direct_writer_begin(&w, &a, 1), -1);
  assert_int_equal(atomic_load(&t.live), 0);
  assert_int_equal(atomic_load(&t.failures), 1);
}

/* ---- snapshots ----------------------------------------------------------- */

static pd_store *demo_store(void) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(small_domain(s, 3), PD_OK);
  pd_user_id u[500];
  for (uint32_t i = 0; i < 500; i++) {
    char k[32];
    snprintf(k, sizeof k, "1370000%05u", i);
    assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, k, PD_NTS, &u[i]),
                     PD_OK);
  }
  for (uint32_t i = 0; i < 40000; i++) {
    pd_touchpoint t = PD_TOUCHPOINT_INIT;
    t.event_id = 7000000 + i;
    t.user = u[next_rand() % 500];
    t.kind = PD_TOUCH_BROADCAST;
    t.purpose = PD_PURPOSE_SERVICE;
    t.channel = PD_CHANNEL_WECOM;
    t.time = T0 + (int64_t)(i % 300) * DAY;
    assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
  }
  return s;
}

static void a_direct_save_is_the_very_bytes_of_a_snapshot_write(
    void **state) {
  (void)state;
  pd_store *s = demo_store();
  char f[700];
  snprintf(f, sizeof f, "%s/direct.pds", dir);
  membuf m = {0};
  assert_int_equal(pd_snapshot_write(s, membuf_write, &m), PD_OK);
  assert_true(m.len > PD_DIRECT_WRITE_BUFFER / 16);
  /* thresholds: always direct, and never */
  const uint64_t from[] = {0, UINT64_MAX};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(pd_snap_save_locked_direct(s, f, 0, 0, from[i]), PD_OK);
    size_t n;
    unsigned char *back = read_file(f, &n);
    assert_int_equal(n, m.len);
    assert_memory_equal(back, m.p, m.len);
    free(back);
  }
  free(m.p);
  pd_store_free(s);
}

static pd_status load(const char *file, int32_t threads, int direct,
                      pd_store **out, char *msg, size_t cap) {
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.threads = threads;
  pd_errbuf err;
  err.msg[0] = '\0';
  pd_status st = pd_snap_load_path_direct(file, &o, out, NULL, &err,
                                          (size_t)16 << 10, direct);
  snprintf(msg, cap, "%s", st ? err.msg : "");
  return st;
}

static void a_direct_load_is_the_same_store_status_and_message(
    void **state) {
  (void)state;
  pd_store *s = demo_store();
  uint64_t digest = digest_of(s);
  char f[700], bad[700];
  snprintf(f, sizeof f, "%s/load.pds", dir);
  snprintf(bad, sizeof bad, "%s/bad.pds", dir);
  assert_int_equal(pd_snapshot_save(s, f), PD_OK);
  pd_store_free(s);
  size_t n;
  unsigned char *bytes = read_file(f, &n);
  const int32_t threads[] = {1, 2, 3, 0};
  for (size_t t = 0; t < 4; t++) {
    pd_store *l = NULL;
    char msg[256];
    assert_int_equal(load(f, threads[t], 1, &l, msg, sizeof msg), PD_OK);
    assert_int_equal(digest_of(l), digest);
    pd_store_free(l);
  }
  /* truncated in a large section, and a flipped byte in one */
  for (int v = 0; v < 2; v++) {
    unsigned char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, bytes, n);
    size_t len = n;
    if (v == 0) len = n - n / 5;
    else p[n - n / 5] ^= 0x40;
    write_file(bad, p, len);
    free(p);
    char want[256], got[256];
    pd_store *l = NULL;
    pd_status st = load(bad, 2, 0, &l, want, sizeof want);
    assert_int_equal(st, PD_E_CORRUPT);
    for (size_t t = 0; t < 4; t++) {
      assert_int_equal(load(bad, threads[t], 1, &l, got, sizeof got), st);
      assert_string_equal(got, want);
      assert_null(l);
    }
  }
  free(bytes);
}

/* Read everything ra gives, in pieces of random sizes; the count. */
static size_t read_ahead_all(pd_readahead *ra, unsigned char *dst,
                             size_t cap) {
  size_t have = 0;
  for (;;) {
    size_t want = 1 + (size_t)(next_rand() % (3u << 20)), got = 99;
    if (want > cap - have) want = cap - have;
    assert_int_equal(pd_readahead_read(ra, dst + have, want, &got), 0);
    if (got == 0) return have;
    assert_true(got <= want);
    have += got;
    if (have == got) {
      /* let the reader run as far ahead as the ring allows: a slot
       * refilled before it was used up shows in the bytes */
      struct timespec pause = {0, 50 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
}

static void reading_ahead_gives_every_byte_once_in_order(void **state) {
  (void)state;
  char f[700];
  snprintf(f, sizeof f, "%s/ahead.bin", dir);
  /* around the block and the ring (32 MB) sizes */
  const size_t sizes[] = {0, 1, 4095, 4097, (5u << 20) + 123,
                          (41u << 20) + 7};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    size_t n = sizes[i];
    unsigned char *want = random_bytes(n + 1);
    write_file(f, want, n);
    unsigned char *got = malloc(n + 20000);
    assert_non_null(got);
    int fd = open(f, O_RDONLY);
    assert_true(fd >= 0);
    int dfd = pd_direct_open_read(f); /* -1 where not offered */
    for (int claim = 0; claim < 2; claim++) {
      /* claim 1: told the file is longer than it is (it was cut short):
       * the bytes there are, then the end */
      pd_readahead *ra =
          pd_readahead_begin(&libc, claim ? -1 : dfd, fd, n + claim * 9999);
      assert_non_null(ra);
      assert_int_equal(read_ahead_all(ra, got, n + 20000), n);
      assert_memory_equal(got, want, n);
      pd_readahead_end(ra);
    }
    /* stopped halfway: the reading thread is stopped and joined */
    pd_readahead *ra = pd_readahead_begin(&libc, dfd, fd, n);
    size_t g = 0;
    assert_int_equal(pd_readahead_read(ra, got, n / 2, &g), 0);
    pd_readahead_end(ra);
    if (dfd >= 0) close(dfd);
    close(fd);
    free(want);
    free(got);
  }
}

/* The event count the section headers declare is the count saved, and a
 * file whose headers do not chain up to the end declares none. */
static void a_snapshot_declares_its_events_in_its_headers(void **state) {
  (void)state;
  pd_store *s = demo_store();
  size_t events = 0;
  for (int k = 1; k < PD_EV_KINDS; k++) events += s->col[k].n;
  char f[700];
  snprintf(f, sizeof f, "%s/declares.pds", dir);
  assert_int_equal(pd_snapshot_save(s, f), PD_OK);
  pd_store_free(s);
  size_t n;
  unsigned char *bytes = read_file(f, &n);
  int fd = open(f, O_RDONLY);
  assert_true(fd >= 0);
  int dfd = pd_direct_open_read(f);
  assert_int_equal(pd_snap_declared_events(&libc, dfd, fd, n), events);
  assert_int_equal(pd_snap_declared_events(&libc, -1, fd, n), events);
  /* cut short: the end marker is missing */
  assert_int_equal(pd_snap_declared_events(&libc, -1, fd, n - 5),
                   UINT64_MAX);
  close(fd);
  /* an event count its section cannot hold */
  {
    unsigned char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, bytes, n);
    uint64_t pos = PD_SNAP_HEADER_BYTES;
    while (pd_rd32(p + pos) <= PD_SEC_EVENTS)
      pos += PD_SNAP_SECTION_HEADER_BYTES + pd_rd64(p + pos + 8) + 4;
    p[pos + PD_SNAP_SECTION_HEADER_BYTES + 7] = 0x40; /* + 2^30 events */
    write_file(f, p, n);
    free(p);
    fd = open(f, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pd_snap_declared_events(&libc, -1, fd, n), UINT64_MAX);
    close(fd);
  }
  /* a section length that runs past the end */
  bytes[PD_SNAP_HEADER_BYTES + 14] ^= 0x01; /* + 2^48 */
  write_file(f, bytes, n);
  fd = open(f, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(pd_snap_declared_events(&libc, -1, fd, n), UINT64_MAX);
  close(fd);
  if (dfd >= 0) close(dfd);
  free(bytes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reading_ahead_gives_every_byte_once_in_order),
      cmocka_unit_test(a_snapshot_declares_its_events_in_its_headers),
      cmocka_unit_test(
          direct_reads_give_the_bytes_wherever_they_start_and_end),
      cmocka_unit_test(
          a_direct_pread_equals_an_ordinary_one_on_any_thread_count),
      cmocka_unit_test(a_file_just_written_is_cached_and_one_dropped_is_not),
      cmocka_unit_test(the_direct_writer_leaves_exactly_the_bytes_it_was_given),
      cmocka_unit_test(a_failed_direct_write_is_reported_with_its_errno),
      cmocka_unit_test(the_writer_reports_no_memory_and_holds_nothing),
      cmocka_unit_test(a_direct_save_is_the_very_bytes_of_a_snapshot_write),
      cmocka_unit_test(a_direct_load_is_the_same_store_status_and_message),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
