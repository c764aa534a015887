/* Fuzz target: journal replay. The first byte picks the mode:
 * - even: mutation records. The rest is a run of records, each a length
 *   byte and that many bytes, decoded by pd_mut_decode() and applied to a
 *   store by pd_mut_apply() (what replay does with an intact record).
 *   Invariants: a decoded record re-encodes canonically (encode, decode,
 *   encode gives the same bytes) and applying it gives a defined status.
 * - odd: a journal file. The rest follows a valid journal header of the
 *   same generation as a valid snapshot, and pd_store_open() opens the
 *   pair. Invariants: it opens or refuses with a message, never crashes;
 *   when it opens, a change recorded then is still there after the store
 *   is freed and opened again (nothing acknowledged is lost, also after a
 *   torn tail was cut). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"
#include "store/mutation_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JOURNAL_HEADER 36 /* src/io/journal_format.h */

static int known_status(pd_status st) {
  return st == PD_OK || st == PD_REPLAYED ||
         (st <= PD_E_INVALID && st >= PD_E_FULL);
}

static void records(const uint8_t *p, size_t n) {
  pd_store *s = NULL;
  if (pd_store_new(NULL, &s) != PD_OK) return;
  pd_user_id u;
  FUZZ_CHECK(pd_user_ensure(s, "phone", PD_NTS, "a", PD_NTS, &u) == PD_OK);
  FUZZ_CHECK(pd_user_ensure(s, "phone", PD_NTS, "b", PD_NTS, &u) == PD_OK);
  size_t off = 0;
  while (off < n) {
    size_t len = p[off++];
    if (len > n - off) len = n - off;
    const uint8_t *rec = p + off;
    off += len;
    pd_mut_decoded m, m2;
    if (pd_mut_decode(rec, len, &m) != 0) continue;
    static unsigned char one[PD_MUT_MAX_BYTES], two[PD_MUT_MAX_BYTES];
    size_t n1 = pd_mut_encode(m.type, m.args, one, sizeof one);
    FUZZ_CHECK(n1 > 0);
    FUZZ_CHECK(pd_mut_decode(one, n1, &m2) == 0 && m2.type == m.type);
    size_t n2 = pd_mut_encode(m2.type, m2.args, two, sizeof two);
    FUZZ_CHECK(n2 == n1 && memcmp(one, two, n1) == 0);
    FUZZ_CHECK(known_status(pd_mut_apply(s, &m)));
  }
  pd_store_stats st = PD_STORE_STATS_INIT;
  FUZZ_CHECK(pd_store_get_stats(s, &st) == PD_OK);
  pd_store_free(s);
}

/* A valid snapshot + journal pair made once per process in a temporary
 * directory; each input rewrites the journal after its header. */
static char dir[64], snap_path[96], jrnl_path[96];
static uint8_t *snap_bytes, jrnl_header[JOURNAL_HEADER];
static size_t snap_len;

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return p;
}

static int spit(const char *path, const uint8_t *a, size_t na,
                const uint8_t *b, size_t nb) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  /* fwrite's buffer must not be NULL, even for 0 bytes. */
  int ok = (na == 0 || fwrite(a, 1, na, f) == na) &&
           (nb == 0 || fwrite(b, 1, nb, f) == nb);
  return fclose(f) == 0 && ok ? 0 : -1;
}

static void cleanup(void) {
  unlink(snap_path);
  unlink(jrnl_path);
  rmdir(dir);
}

static int setup_files(void) {
  if (snap_bytes) return 0;
  snprintf(dir, sizeof dir, "/tmp/pd-fuzz-journal-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(snap_path, sizeof snap_path, "%s/s.pds", dir);
  snprintf(jrnl_path, sizeof jrnl_path, "%s/s.pdj", dir);
  atexit(cleanup);
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.sync = PD_SYNC_NEVER;
  pd_store *s = NULL;
  if (pd_store_open(snap_path, jrnl_path, &o, NULL, &s) != PD_OK) return -1;
  pd_store_free(s);
  size_t jl;
  uint8_t *j = slurp(jrnl_path, &jl);
  if (!j || jl < JOURNAL_HEADER) return -1;
  memcpy(jrnl_header, j, JOURNAL_HEADER);
  free(j);
  snap_bytes = slurp(snap_path, &snap_len);
  return snap_bytes ? 0 : -1;
}

static pd_store *open_pair(pd_status *st, pd_open_report *rep) {
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.sync = PD_SYNC_NEVER;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  pd_store *s = NULL;
  *st = pd_store_open(snap_path, jrnl_path, &o, rep, &s);
  if (*st != PD_OK) {
    FUZZ_CHECK(*st < 0 && s == NULL && msg[0] != '\0');
    return NULL;
  }
  return s;
}

static void journal_file(const uint8_t *p, size_t n) {
  if (setup_files() != 0) return;
  if (spit(snap_path, snap_bytes, snap_len, NULL, 0) != 0 ||
      spit(jrnl_path, jrnl_header, JOURNAL_HEADER, p, n) != 0)
    return;
  pd_status st;
  pd_open_report rep = PD_OPEN_REPORT_INIT;
  pd_store *s = open_pair(&st, &rep);
  if (!s) return;
  pd_store_stats a = PD_STORE_STATS_INIT, b = PD_STORE_STATS_INIT;
  FUZZ_CHECK(pd_store_get_stats(s, &a) == PD_OK);
  /* A change acknowledged now must survive a close and reopen. */
  pd_user_id u = 0;
  pd_status se = pd_user_ensure(s, "fuzz", PD_NTS, "journal", PD_NTS, &u);
  FUZZ_CHECK(se == PD_OK || se == PD_REPLAYED);
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = UINT64_C(0xF0F0F0F0F0F0F0F0);
  t.user = u;
  t.kind = PD_TOUCH_INBOUND_MESSAGE;
  t.time = 1600000000;
  pd_status sr = pd_record_touchpoint(s, &t);
  pd_store_free(s);
  s = open_pair(&st, NULL);
  FUZZ_CHECK(s != NULL);
  FUZZ_CHECK(pd_store_get_stats(s, &b) == PD_OK);
  pd_user_id found = 0;
  FUZZ_CHECK(pd_user_find(s, "fuzz", PD_NTS, "journal", PD_NTS, &found) ==
             PD_OK);
  FUZZ_CHECK(found == u);
  if (sr == PD_OK || sr == PD_REPLAYED)
    FUZZ_CHECK(pd_record_touchpoint(s, &t) == PD_REPLAYED);
  FUZZ_CHECK(b.events >= a.events);
  pd_store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    journal_file(data + 1, size - 1);
  else
    records(data + 1, size - 1);
  return 0;
}
