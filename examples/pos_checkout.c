/*
 * pos_checkout — how a point-of-sale system feeds libprivdomain.
 *
 * A walk-through of one checkout at a shop till, written to be copied:
 *
 *   1. open the store kept in a snapshot and a journal (once, when the
 *      POS starts): every change is written to the journal before it is
 *      applied, so a power cut or a crash loses nothing acknowledged;
 *   2. look the member up by the phone number or member card they give;
 *   3. the member pays with WeChat Pay: attach the payer's WeChat unionid,
 *      which merges the member with the WeChat user the brand already knew
 *      from its mini-program (the same person, seen twice);
 *   4. record the sale with an event id made from the POS's own receipt
 *      number, so a retry after a network timeout is counted once;
 *   5. see what happens when a receipt number is reused by mistake;
 *   6. a partial refund a few days later;
 *   7. bind the member to the guide who served them (专属导购);
 *   8. print what the store now knows about the member;
 *   9. a week later the member comes back and gives only a phone number;
 *  10. the till restarts (a crash, an update): reopening replays the
 *      journal and nothing is lost;
 *  11. end of day: a few figures for the shop manager, then a checkpoint
 *      (a fresh snapshot, an empty journal).
 *
 * Every call returns a pd_status: PD_OK (done), PD_REPLAYED (already done
 * before: nothing changed, treat it as success) or a negative error, with
 * a sentence from pd_store_errmsg(). This program exits 1 if anything does
 * not turn out as described, so it also runs as a test.
 *
 * Build: cc pos_checkout.c $(pkg-config --cflags --libs privdomain)
 * Run:   ./a.out [DIR]   (DIR holds pos_checkout.pds and .pdj; default ".";
 *                          both files are removed at the start and the end)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/privdomain.h>

/* Stop with a one-line message when a call does not return what we
 * expect. A real POS would log and queue the event for a later retry. */
#define EXPECT(call, want)                                                     \
  do {                                                                         \
    pd_status st_ = (call);                                                    \
    if (st_ != (want)) {                                                       \
      fprintf(stderr, "pos_checkout: %s returned %s, expected %s: %s\n",       \
              #call, pd_status_str(st_), pd_status_str(want),                  \
              pd_store_errmsg(store));                                         \
      pd_store_free(store);                                                    \
      return 1;                                                                \
    }                                                                          \
  } while (0)

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "pos_checkout: expected %s\n", #cond);                   \
      pd_store_free(store);                                                    \
      return 1;                                                                \
    }                                                                          \
  } while (0)

/* Times are seconds since 1970 UTC; the store never reads the clock, so
 * the POS passes the time of each event itself. */
#define T_MINI_PROGRAM INT64_C(1748736000) /* 2025-06-01 00:00:00 UTC */
#define T_CHECKOUT INT64_C(1749893400)     /* 2025-06-14 09:30:00 UTC */
#define T_REFUND INT64_C(1750411800)       /* 2025-06-20 09:30:00 UTC */
#define T_SECOND_VISIT INT64_C(1750500000) /* 2025-06-21 10:00:00 UTC */
#define T_CLOSING INT64_C(1750528800)      /* 2025-06-21 18:00:00 UTC */

/* Event ids: a stable 64-bit id from the POS's own text id. Use a prefix
 * per kind of event so a receipt and its refund never share an id. */
static uint64_t event_id(const char *text) {
  return pd_event_id_from_string(text, PD_NTS);
}

static int print_identity(void *user_data, const char *ns, size_t ns_len,
                          const char *key, size_t key_len) {
  (void)user_data;
  printf("    %.*s = %.*s\n", (int)ns_len, ns, (int)key_len, key);
  return 0; /* go on */
}

/* Minor units (fen) to "299.00". */
static void print_money(const char *label, int64_t fen) {
  printf("  %-14s ¥%" PRId64 ".%02" PRId64 "\n", label, fen / 100, fen % 100);
}

/* Open (or create) the store kept in SNAPSHOT + JOURNAL. When it fails
 * there is no store to ask for a message, so opts.errmsg receives it. */
static pd_status open_store(const char *snapshot, const char *journal,
                            pd_open_report *report, pd_store **out) {
  char why[256] = "";
  pd_persist_options popts = PD_PERSIST_OPTIONS_INIT;
  popts.currency_exponent = 2;      /* amounts in fen (1/100 yuan) */
  popts.sync = PD_SYNC_EVERY_EVENT; /* a till records a few events a minute:
                                       sync each one, lose nothing */
  popts.errmsg = why;
  popts.errmsg_cap = sizeof why;
  pd_status st = pd_store_open(snapshot, journal, &popts, report, out);
  if (st < 0)
    fprintf(stderr, "pos_checkout: cannot open %s: %s (%s)\n", snapshot,
            why, pd_status_str(st));
  return st;
}

int main(int argc, char **argv) {
  /* 1. One store per process (or per brand); it is thread-safe. It lives
   * in two files: a snapshot and a journal of the changes since. */
  const char *dir = argc > 1 ? argv[1] : ".";
  char snapshot[1024], journal[1024];
  if (snprintf(snapshot, sizeof snapshot, "%s/pos_checkout.pds", dir) >=
          (int)sizeof snapshot ||
      snprintf(journal, sizeof journal, "%s/pos_checkout.pdj", dir) >=
          (int)sizeof journal) {
    fprintf(stderr, "pos_checkout: directory name too long\n");
    return 1;
  }
  remove(snapshot); /* this walk-through starts from an empty store */
  remove(journal);
  pd_store *store = NULL;
  pd_open_report opened = PD_OPEN_REPORT_INIT;
  if (open_store(snapshot, journal, &opened, &store) != PD_OK) return 1;
  printf("opened %s: %s\n", snapshot,
         opened.created ? "new store" : "existing store");

  /* The shop and its guide. *_ensure is idempotent: call it at start-up
   * every time, it returns PD_REPLAYED when the thing already exists. */
  uint32_t shop = 0, guide = 0;
  EXPECT(
      pd_label_ensure(store, PD_LABEL_SHOP, "shop-shanghai-01", PD_NTS, &shop),
      PD_OK);
  EXPECT(pd_guide_ensure(store, "SH01-023", PD_NTS, shop, &guide), PD_OK);

  /* Before this visit, the brand knew the customer only from its
   * mini-program: a WeChat user who joined on 1 June. (Normally another
   * system recorded this; it is here so the merge below has something to
   * merge.) */
  const char *unionid = "o6_bmasdasdsad6_2sgVt7hMZOPfL";
  pd_user_id wechat_user = 0;
  EXPECT(pd_user_ensure(store, "wechat.unionid", PD_NTS, unionid, PD_NTS,
                        &wechat_user),
         PD_OK);
  pd_link_event joined = PD_LINK_EVENT_INIT;
  joined.event_id = event_id("miniprogram:join:o6_bmasdasdsad6_2sgVt7hMZOPfL");
  joined.user = wechat_user;
  joined.channel = PD_CHANNEL_MINI_PROGRAM;
  joined.time = T_MINI_PROGRAM;
  EXPECT(pd_record_link(store, &joined), PD_OK);

  /* 2. At the till the customer gives a member card number. ensure finds
   * the member, or creates one on the first visit (PD_OK = new member,
   * PD_REPLAYED = known member). A phone number works the same way with
   * namespace "phone". */
  pd_user_id member = 0;
  EXPECT(pd_user_ensure(store, "pos.member", PD_NTS, "M00042", PD_NTS, &member),
         PD_OK);
  EXPECT(pd_user_attach(store, member, "phone", PD_NTS, "+8613800000042",
                        PD_NTS, &member),
         PD_OK);
  printf("member M00042 is user %" PRIu64 "\n", member);

  /* 3. The member pays with WeChat Pay; the payment tells us their
   * unionid. Attaching it to the member finds that the unionid already
   * belongs to the mini-program user: the two are merged. The survivor is
   * the smaller id; the other id keeps working as an alias. */
  pd_user_id merged = 0;
  EXPECT(pd_user_attach(store, member, "wechat.unionid", PD_NTS, unionid,
                        PD_NTS, &merged),
         PD_OK);
  printf("paid with WeChat: merged users %" PRIu64 " and %" PRIu64
         " into %" PRIu64 "\n",
         wechat_user, member, merged);
  REQUIRE(merged == (wechat_user < member ? wechat_user : member));
  member = merged;

  /* 4. The sale. The event id comes from the receipt number, so sending
   * the same receipt twice can never count twice. The order id is the
   * receipt number too (refunds name it). */
  pd_order sale = PD_ORDER_INIT;
  sale.event_id = event_id("pos:sale:SH01-20250614-0007");
  sale.order_id = UINT64_C(202506140007);
  sale.user = member;
  sale.time = T_CHECKOUT;
  sale.amount = 29900; /* ¥299.00 in fen */
  sale.channel = PD_CHANNEL_STORE;
  sale.guide = guide;
  sale.shop = shop;
  EXPECT(pd_record_order(store, &sale), PD_OK);

  /* The network dropped the reply and the POS sends the same receipt
   * again: PD_REPLAYED, nothing is counted twice. */
  EXPECT(pd_record_order(store, &sale), PD_REPLAYED);
  pd_store_stats stats = PD_STORE_STATS_INIT;
  EXPECT(pd_store_get_stats(store, &stats), PD_OK);
  REQUIRE(stats.orders == 1);
  printf("retry of receipt SH01-20250614-0007: replayed, still %" PRIu64
         " order\n",
         stats.orders);

  /* 5. A bug reuses the receipt number for a different sale: the store
   * refuses (PD_E_DUPLICATE) instead of silently overwriting, and says
   * why. */
  pd_order wrong = sale;
  wrong.amount = 9900;
  EXPECT(pd_record_order(store, &wrong), PD_E_DUPLICATE);
  printf("reused receipt number rejected: %s\n", pd_store_errmsg(store));

  /* 6. Six days later the member returns one item: a partial refund of
   * ¥59.00, with its own event id (the refund slip number). */
  pd_refund refund = PD_REFUND_INIT;
  refund.event_id = event_id("pos:refund:SH01-RF-20250620-0001");
  refund.order_id = sale.order_id;
  refund.time = T_REFUND;
  refund.amount = 5900;
  EXPECT(pd_record_refund(store, &refund), PD_OK);

  /* 7. The guide who served the member becomes their exclusive guide.
   * Event id: one binding per member and guide on this day. */
  pd_guide_bind bind = PD_GUIDE_BIND_INIT;
  bind.event_id = event_id("pos:bind:M00042:SH01-023:20250614");
  bind.user = member;
  bind.guide = guide;
  bind.time = T_CHECKOUT + 60;
  EXPECT(pd_record_guide_bind(store, &bind), PD_OK);

  /* 8. What the store knows about the member, as of just after the
   * refund. Queries take the time explicitly: the store never reads the
   * clock. */
  pd_user_info info = PD_USER_INFO_INIT;
  EXPECT(pd_user_get(store, member, T_REFUND + 1, &info), PD_OK);
  pd_guide_info gi = PD_GUIDE_INFO_INIT;
  EXPECT(pd_guide_get(store, info.guide, T_REFUND + 1, &gi), PD_OK);
  pd_link_state mini = PD_LINK_STATE_INIT;
  EXPECT(pd_user_link_state(store, member, PD_CHANNEL_MINI_PROGRAM,
                            T_REFUND + 1, &mini),
         PD_OK);

  printf("member %" PRIu64 " as of 2025-06-20 09:30:01 UTC:\n", info.user);
  printf("  identities     %" PRIu32 "\n", info.identities);
  EXPECT(pd_user_identities(store, member, print_identity, NULL), PD_OK);
  printf("  orders         %" PRIu64 "\n", info.orders);
  print_money("revenue", info.revenue);
  print_money("refunded", info.refunded);
  printf("  guide          %s\n", gi.code);
  printf("  mini-program   %s since 2025-06-01\n",
         mini.linked ? "linked" : "not linked");

  REQUIRE(info.identities == 3);
  REQUIRE(info.orders == 1);
  REQUIRE(info.revenue == 29900 - 5900);
  REQUIRE(info.refunded == 5900);
  REQUIRE(info.guide == guide);
  REQUIRE(strcmp(gi.code, "SH01-023") == 0);
  REQUIRE(mini.linked == 1);

  /* 9. A week later the member is back and gives only a phone number.
   * pd_user_find() does not create anyone: PD_E_NOT_FOUND means "not a
   * member yet" (offer to join), not a failure. */
  pd_user_id found = 0;
  EXPECT(pd_user_find(store, "phone", PD_NTS, "+8613800000042", PD_NTS,
                      &found),
         PD_OK);
  REQUIRE(found == member);
  pd_user_id stranger = 0;
  EXPECT(pd_user_find(store, "phone", PD_NTS, "+8613999999999", PD_NTS,
                      &stranger),
         PD_E_NOT_FOUND);
  pd_order again = PD_ORDER_INIT;
  again.event_id = event_id("pos:sale:SH01-20250621-0003");
  again.order_id = UINT64_C(202506210003);
  again.user = found;
  again.time = T_SECOND_VISIT;
  again.amount = 15800; /* ¥158.00 */
  again.channel = PD_CHANNEL_STORE;
  again.guide = guide;
  again.shop = shop;
  EXPECT(pd_record_order(store, &again), PD_OK);
  printf("second visit: found member %" PRIu64 " by phone, order recorded\n",
         found);

  /* 10. The till restarts. pd_store_free() syncs and closes the journal;
   * reopening loads the snapshot and replays the journal on top of it. */
  pd_store_free(store);
  store = NULL;
  if (open_store(snapshot, journal, &opened, &store) != PD_OK) return 1;
  printf("reopened after a restart: %" PRIu64 " journal records replayed\n",
         opened.replayed);
  REQUIRE(!opened.created && opened.replayed > 0);
  EXPECT(pd_store_get_stats(store, &stats), PD_OK);
  REQUIRE(stats.orders == 2 && stats.refunds == 1 && stats.users == 1);

  /* 11. End of day at the shop: repurchase figures of the shop's members
   * (home shop = the shop of their guide, metrics.h), as of closing. */
  pd_metrics_filter shop_members = PD_METRICS_FILTER_INIT;
  shop_members.shop = shop;
  shop_members.as_of = T_CLOSING;
  pd_rows *rows = NULL;
  EXPECT(pd_repurchase_compute(store, &shop_members, NULL, &rows), PD_OK);
  pd_repurchase_row day = PD_REPURCHASE_ROW_INIT;
  pd_status got = pd_rows_count(rows) == 1 ? pd_repurchase_row_get(rows, 0, &day)
                                           : PD_E_NOT_FOUND;
  pd_rows_free(rows); /* the caller owns result rows */
  EXPECT(got, PD_OK);
  printf("end of day, shop-shanghai-01:\n");
  printf("  buyers         %" PRIu64 " (%" PRIu64 " bought again)\n",
         day.buyers, day.repeat_buyers);
  printf("  repurchase     %.0f%%\n", 100.0 * day.repurchase_rate);
  print_money("net revenue", day.revenue);
  print_money("per order", (int64_t)(day.average_order_value + 0.5));
  REQUIRE(day.buyers == 1 && day.repeat_buyers == 1);
  REQUIRE(day.revenue == 29900 - 5900 + 15800);
  REQUIRE(day.purchases == 2);

  /* Nightly checkpoint: a new snapshot with everything, an empty journal,
   * so the next start-up has nothing to replay. */
  EXPECT(pd_store_checkpoint(store), PD_OK);
  pd_store_free(store);
  store = NULL;
  if (open_store(snapshot, journal, &opened, &store) != PD_OK) return 1;
  REQUIRE(opened.replayed == 0);
  pd_store_free(store);

  remove(snapshot);
  remove(journal);
  printf("pos_checkout: ok\n");
  return 0;
}
