/*
 * pd demo — build the synthetic private domain of demo_data.c in a store,
 * then report what the store says about it as of 2025-12-31 23:59:59 UTC.
 *
 * Every figure is read back through the public API (store stats, per-user
 * and per-guide queries), so the output doubles as a check that the store
 * recorded what it was given. The only exception is reach (the denominator
 * of the link rate): the API has no query for it yet, so it is summed from
 * the reach records that were fed in.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "args.h"
#include "channel_ids.h"
#include "commands.h"
#include "demo_data.h"
#include "json.h"

#define AS_OF DEMO_T_END
#define MAX_CHANNELS 32
#define TOP_GUIDES 5

typedef struct channel_row {
  int32_t id;
  const char *name;
  int32_t kind;
  uint64_t linked_now, ended_by_user, ended_by_staff, users_ever;
} channel_row;

typedef struct source_row {
  const char *name;
  uint64_t links;   /* users whose first link on a channel came from it */
  uint64_t reached; /* people reached, as recorded */
} source_row;

typedef struct guide_row {
  const char *code;
  const char *shop;
  int32_t active;
  uint64_t users_bound;
} guide_row;

typedef struct report {
  uint64_t seed;
  uint32_t users_requested;
  pd_store_stats stats;
  int32_t exponent;
  channel_row channels[MAX_CHANNELS];
  size_t n_channels;
  source_row sources[40];
  size_t n_sources;
  uint64_t ended_by_user, ended_by_staff;
  uint64_t buyers, repeat_buyers, referred, max_referral_depth;
  int64_t revenue, refunded;
  uint64_t guides, guides_active;
  guide_row top[TOP_GUIDES];
  size_t n_top;
  const char *flash_campaign;
  uint64_t flash_participants, flash_deleted, base_pool, base_deleted;
  int64_t flash_window_days;
} report;

typedef struct id_list {
  pd_user_id *ids;
  size_t n, cap;
} id_list;

static int collect_user(void *user_data, pd_user_id id) {
  id_list *l = user_data;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    pd_user_id *p = realloc(l->ids, cap * sizeof *p);
    if (!p)
      return 1; /* stop; the caller sees the short list */
    l->ids = p;
    l->cap = cap;
  }
  l->ids[l->n++] = id;
  return 0;
}

/* "¥1,234,567.89" for 123456789 minor units at exponent 2. */
static void format_money(int64_t minor, int32_t exponent, char *buf,
                         size_t cap) {
  uint64_t scale = 1;
  for (int32_t i = 0; i < exponent; i++)
    scale *= 10;
  uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
  uint64_t whole = mag / scale, frac = mag % scale;
  char digits[32], grouped[48];
  int nd = snprintf(digits, sizeof digits, "%" PRIu64, whole);
  size_t k = 0;
  for (int i = 0; i < nd; i++) {
    if (i > 0 && (nd - i) % 3 == 0)
      grouped[k++] = ',';
    grouped[k++] = digits[i];
  }
  grouped[k] = '\0';
  char fraction[8] = "";
  if (exponent > 0 && exponent < 7) { /* the store allows 0–4 */
    fraction[0] = '.';
    for (int32_t i = exponent; i > 0; i--, frac /= 10)
      fraction[i] = (char)('0' + frac % 10);
    fraction[exponent + 1] = '\0';
  }
  snprintf(buf, cap, "%s¥%s%s", minor < 0 ? "-" : "", grouped, fraction);
}

static double share(uint64_t part, uint64_t whole) {
  return whole ? (double)part / (double)whole : 0.0;
}

static int is_user_initiated(int32_t initiator) {
  return initiator == PD_UNLINK_USER_DELETED ||
         initiator == PD_UNLINK_USER_BLOCKED ||
         initiator == PD_UNLINK_USER_UNFOLLOWED;
}

#define CHECK(call)                                                            \
  do {                                                                         \
    pd_status st_ = (call);                                                    \
    if (st_ != PD_OK)                                                          \
      return pd_fail(1, "demo: %s: %s: %s", #call, pd_status_str(st_),         \
                     pd_store_errmsg(store));                                  \
  } while (0)

static int channel_figures(pd_store *store, report *rep) {
  int32_t ids[MAX_CHANNELS];
  size_t n =
      channel_ids(rep->stats.channels, ids, MAX_CHANNELS - rep->n_channels);
  for (size_t k = 0; k < n; k++) {
    int32_t id = ids[k];
    channel_row *c = &rep->channels[rep->n_channels++];
    c->id = id;
    CHECK(pd_channel_info(store, id, &c->name, &c->kind));
  }
  return 0;
}

static source_row *source_for(report *rep, pd_store *store, uint32_t label) {
  const char *name = NULL;
  if (pd_label_name(store, PD_LABEL_SOURCE, label, &name, NULL) != PD_OK)
    return NULL;
  for (size_t i = 0; i < rep->n_sources; i++)
    if (strcmp(rep->sources[i].name, name) == 0)
      return &rep->sources[i];
  if (rep->n_sources == sizeof rep->sources / sizeof rep->sources[0])
    return NULL;
  source_row *s = &rep->sources[rep->n_sources++];
  s->name = name;
  return s;
}

/* Did the user delete or block the brand on WeCom / personal WeChat within
 * the window after @from, having been linked there at @from? Returns 1
 * yes, 0 no, -1 not linked at @from on either; < -1 on a store error. */
static int deleted_in_window(pd_store *store, pd_user_id u, int64_t from,
                             int64_t to) {
  static const int32_t chans[2] = {PD_CHANNEL_WECOM, PD_CHANNEL_WECHAT};
  int pooled = 0, deleted = 0;
  for (int k = 0; k < 2; k++) {
    pd_link_state a = PD_LINK_STATE_INIT, b = PD_LINK_STATE_INIT;
    if (pd_user_link_state(store, u, chans[k], from, &a) != PD_OK ||
        pd_user_link_state(store, u, chans[k], to, &b) != PD_OK)
      return -2;
    if (!a.linked)
      continue;
    pooled = 1;
    if (b.last_unlinked > from && b.last_unlinked <= to &&
        (b.last_initiator == PD_UNLINK_USER_DELETED ||
         b.last_initiator == PD_UNLINK_USER_BLOCKED))
      deleted = 1;
  }
  return pooled ? deleted : -1;
}

static int user_figures(pd_store *store, const demo_data *d, report *rep) {
  id_list l = {NULL, 0, 0};
  int rc = 0;
  pd_user_id max_id = 0;
  pd_user_id *referrer = NULL;
  uint32_t flash_src = 0;
  pd_status st = pd_store_foreach_user(store, collect_user, &l);
  if (st != PD_OK || l.n != rep->stats.users) {
    free(l.ids);
    return pd_fail(1, "demo: listing users: %s",
                   st != PD_OK ? pd_store_errmsg(store) : "out of memory");
  }
  for (size_t i = 0; i < l.n; i++)
    if (l.ids[i] > max_id)
      max_id = l.ids[i];
  referrer = calloc((size_t)max_id + 1, sizeof *referrer);
  if (!referrer) {
    rc = pd_fail(1, "demo: out of memory");
    goto out;
  }
  if (pd_label_find(store, PD_LABEL_SOURCE, d->labels[d->src_flash_group].name,
                    PD_NTS, &flash_src) != PD_OK)
    flash_src = 0;
  rep->flash_campaign = d->labels[d->camp_flash_group].name;
  rep->flash_window_days = d->flash_window / DEMO_DAY;

  for (size_t i = 0; i < l.n; i++) {
    pd_user_id u = l.ids[i];
    pd_user_info info = PD_USER_INFO_INIT;
    if ((st = pd_user_get(store, u, AS_OF, &info)) != PD_OK) {
      rc = pd_fail(1, "demo: user %" PRIu64 ": %s", u, pd_store_errmsg(store));
      goto out;
    }
    if (info.orders >= 1)
      rep->buyers++;
    if (info.orders >= 2)
      rep->repeat_buyers++;
    rep->revenue += info.revenue;
    rep->refunded += info.refunded;
    if (info.referrer) {
      rep->referred++;
      if (info.referrer <= max_id)
        referrer[u] = info.referrer;
    }
    int in_flash = 0;
    for (size_t c = 0; c < rep->n_channels; c++) {
      channel_row *row = &rep->channels[c];
      pd_link_state ls = PD_LINK_STATE_INIT;
      if ((st = pd_user_link_state(store, u, row->id, AS_OF, &ls)) != PD_OK) {
        rc = pd_fail(1, "demo: link state: %s", pd_store_errmsg(store));
        goto out;
      }
      if (ls.links == 0)
        continue;
      row->users_ever++;
      if (ls.linked) {
        row->linked_now++;
      } else if (ls.last_unlinked >= 0) {
        if (is_user_initiated(ls.last_initiator))
          row->ended_by_user++;
        else
          row->ended_by_staff++;
      }
      if (ls.source) {
        source_row *s = source_for(rep, store, ls.source);
        if (s)
          s->links++;
      }
      if (row->id == PD_CHANNEL_WECHAT_GROUP && flash_src &&
          ls.source == flash_src)
        in_flash = 1;
    }
    int del = deleted_in_window(store, u, d->flash_join,
                                d->flash_join + d->flash_window);
    if (del < -1) {
      rc = pd_fail(1, "demo: link state: %s", pd_store_errmsg(store));
      goto out;
    }
    if (in_flash) {
      rep->flash_participants++;
      rep->flash_deleted += del == 1;
    } else if (del >= 0) {
      rep->base_pool++;
      rep->base_deleted += del == 1;
    }
  }
  /* Referral depth: the longest referrer chain (no cycles by contract). */
  for (size_t i = 0; i < l.n; i++) {
    uint64_t n = 0;
    for (pd_user_id u = l.ids[i]; referrer[u] && n <= max_id; u = referrer[u])
      n++;
    if (n > rep->max_referral_depth)
      rep->max_referral_depth = n;
  }
  for (size_t c = 0; c < rep->n_channels; c++) {
    rep->ended_by_user += rep->channels[c].ended_by_user;
    rep->ended_by_staff += rep->channels[c].ended_by_staff;
  }
out:
  free(l.ids);
  free(referrer);
  return rc;
}

/* Reach as fed in (no query for it yet), matched to sources by name. */
static void reach_figures(pd_store *store, const demo_data *d, report *rep) {
  for (size_t i = 0; i < d->n_records; i++) {
    const demo_record *r = &d->records[i];
    if (r->kind != DEMO_REACH || !r->u.reach.source)
      continue;
    uint32_t id = 0;
    if (pd_label_find(store, PD_LABEL_SOURCE, d->labels[r->u.reach.source].name,
                      PD_NTS, &id) != PD_OK)
      continue;
    source_row *s = source_for(rep, store, id);
    if (s)
      s->reached += r->u.reach.reached;
  }
}

static int cmp_sources(const void *a, const void *b) {
  return strcmp(((const source_row *)a)->name, ((const source_row *)b)->name);
}

static int guide_figures(pd_store *store, report *rep) {
  rep->guides = rep->stats.guides;
  for (uint64_t g = 1; g <= rep->guides; g++) {
    pd_guide_info gi = PD_GUIDE_INFO_INIT;
    CHECK(pd_guide_get(store, (uint32_t)g, AS_OF, &gi));
    rep->guides_active += gi.active == 1;
    guide_row row = {gi.code, "", gi.active, gi.users_bound};
    if (gi.shop)
      CHECK(pd_label_name(store, PD_LABEL_SHOP, gi.shop, &row.shop, NULL));
    /* Insert into the top list: most users first, then staff code. */
    size_t pos = rep->n_top;
    while (pos > 0 && (rep->top[pos - 1].users_bound < row.users_bound ||
                       (rep->top[pos - 1].users_bound == row.users_bound &&
                        strcmp(rep->top[pos - 1].code, row.code) > 0)))
      pos--;
    if (pos >= TOP_GUIDES)
      continue;
    size_t last = rep->n_top < TOP_GUIDES ? rep->n_top : TOP_GUIDES - 1;
    memmove(&rep->top[pos + 1], &rep->top[pos], (last - pos) * sizeof row);
    rep->top[pos] = row;
    if (rep->n_top < TOP_GUIDES)
      rep->n_top++;
  }
  return 0;
}

static void print_text(const report *r) {
  char money[64], money2[64];
  printf("pd demo: a synthetic private domain (seed %" PRIu64
         ", %u users requested)\n",
         r->seed, r->users_requested);
  printf("as of 2025-12-31 23:59:59 UTC\n\n");
  printf("users              %" PRIu64 " (identities %" PRIu64
         ", merged away %" PRIu64 ")\n",
         r->stats.users, r->stats.identities, r->stats.merged_users);
  printf("events             %" PRIu64 " (touchpoints %" PRIu64 ")\n",
         r->stats.events, r->stats.touchpoints);
  printf("links              %" PRIu64 " link events, %" PRIu64
         " unlink events\n",
         r->stats.links, r->stats.unlinks);
  printf("ended links        %" PRIu64 " ended by the user, %" PRIu64
         " removed by staff\n\n",
         r->ended_by_user, r->ended_by_staff);
  printf("%-20s %-8s %10s %10s %8s %8s\n", "channel", "kind", "users",
         "linked now", "by user", "by staff");
  for (size_t i = 0; i < r->n_channels; i++) {
    const channel_row *c = &r->channels[i];
    if (!c->users_ever)
      continue;
    printf("%-20s %-8s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
           c->name, c->kind == PD_CHANNEL_PRIVATE ? "private" : "public",
           c->users_ever, c->linked_now, c->ended_by_user, c->ended_by_staff);
  }
  printf("\n%-24s %8s %8s %9s\n", "link rate by source", "links", "reached",
         "rate");
  for (size_t i = 0; i < r->n_sources; i++) {
    const source_row *s = &r->sources[i];
    if (s->reached)
      printf("%-24s %8" PRIu64 " %8" PRIu64 " %8.1f%%\n", s->name, s->links,
             s->reached, 100.0 * share(s->links, s->reached));
    else
      printf("%-24s %8" PRIu64 " %8s %9s\n", s->name, s->links, "-", "-");
  }
  format_money(r->revenue, r->exponent, money, sizeof money);
  format_money(r->refunded, r->exponent, money2, sizeof money2);
  printf("\norders             %" PRIu64 ", revenue %s net of refunds\n",
         r->stats.orders, money);
  printf("refunds            %" PRIu64 " (%s)\n", r->stats.refunds, money2);
  printf("repurchase rate    %.1f%% (%" PRIu64 " of %" PRIu64
         " buyers bought twice or more)\n",
         100.0 * share(r->repeat_buyers, r->buyers), r->repeat_buyers,
         r->buyers);
  printf("referrals          %" PRIu64 " (referred users %" PRIu64
         ", longest chain %" PRIu64 ")\n",
         r->stats.referrals, r->referred, r->max_referral_depth);
  printf("guides             %" PRIu64 " (%" PRIu64 " active, %" PRIu64
         " deactivated)\n",
         r->guides, r->guides_active, r->guides - r->guides_active);
  for (size_t i = 0; i < r->n_top; i++)
    printf("  %zu. %-8s %-8s %5" PRIu64 " users bound\n", i + 1, r->top[i].code,
           r->top[i].shop, r->top[i].users_bound);
  printf("\nflash group %s: %" PRIu64 " participants, %" PRIu64
         " deleted the brand within %" PRId64 " days (%.1f%%);\n"
         "  baseline: %" PRIu64 " of %" PRIu64
         " other linked users in the same window (%.1f%%)\n",
         r->flash_campaign, r->flash_participants, r->flash_deleted,
         r->flash_window_days,
         100.0 * share(r->flash_deleted, r->flash_participants),
         r->base_deleted, r->base_pool,
         100.0 * share(r->base_deleted, r->base_pool));
}

static void print_json(const report *r) {
  pd_json_writer w;
  char money[64];
  pd_json_init(&w, stdout);
  pd_json_begin_object(&w);
  pd_json_member_uint(&w, "seed", r->seed);
  pd_json_member_uint(&w, "users_requested", r->users_requested);
  pd_json_member_string(&w, "as_of", "2025-12-31T23:59:59Z");
  pd_json_member_uint(&w, "users", r->stats.users);
  pd_json_member_uint(&w, "identities", r->stats.identities);
  pd_json_member_uint(&w, "merged_users", r->stats.merged_users);
  pd_json_member_uint(&w, "events", r->stats.events);
  pd_json_member_uint(&w, "touchpoints", r->stats.touchpoints);
  pd_json_member_uint(&w, "links", r->stats.links);
  pd_json_member_uint(&w, "unlinks", r->stats.unlinks);
  pd_json_member_uint(&w, "ended_by_user", r->ended_by_user);
  pd_json_member_uint(&w, "ended_by_staff", r->ended_by_staff);
  pd_json_key(&w, "channels");
  pd_json_begin_array(&w);
  for (size_t i = 0; i < r->n_channels; i++) {
    const channel_row *c = &r->channels[i];
    if (!c->users_ever)
      continue;
    pd_json_begin_object(&w);
    pd_json_member_string(&w, "channel", c->name);
    pd_json_member_string(&w, "kind",
                          c->kind == PD_CHANNEL_PRIVATE ? "private" : "public");
    pd_json_member_uint(&w, "users", c->users_ever);
    pd_json_member_uint(&w, "linked_now", c->linked_now);
    pd_json_member_uint(&w, "ended_by_user", c->ended_by_user);
    pd_json_member_uint(&w, "ended_by_staff", c->ended_by_staff);
    pd_json_end_object(&w);
  }
  pd_json_end_array(&w);
  pd_json_key(&w, "link_rate_by_source");
  pd_json_begin_array(&w);
  for (size_t i = 0; i < r->n_sources; i++) {
    const source_row *s = &r->sources[i];
    pd_json_begin_object(&w);
    pd_json_member_string(&w, "source", s->name);
    pd_json_member_uint(&w, "links", s->links);
    pd_json_member_uint(&w, "reached", s->reached);
    pd_json_key(&w, "link_rate");
    if (s->reached)
      pd_json_number(&w, share(s->links, s->reached));
    else
      pd_json_null(&w);
    pd_json_end_object(&w);
  }
  pd_json_end_array(&w);
  pd_json_member_uint(&w, "orders", r->stats.orders);
  pd_json_key(&w, "revenue_minor");
  pd_json_int(&w, r->revenue);
  format_money(r->revenue, r->exponent, money, sizeof money);
  pd_json_member_string(&w, "revenue", money);
  pd_json_member_uint(&w, "refunds", r->stats.refunds);
  pd_json_key(&w, "refunded_minor");
  pd_json_int(&w, r->refunded);
  pd_json_member_uint(&w, "currency_exponent", (uint64_t)r->exponent);
  pd_json_member_uint(&w, "buyers", r->buyers);
  pd_json_member_uint(&w, "repeat_buyers", r->repeat_buyers);
  pd_json_member_number(&w, "repurchase_rate",
                        share(r->repeat_buyers, r->buyers));
  pd_json_member_uint(&w, "referrals", r->stats.referrals);
  pd_json_member_uint(&w, "referred_users", r->referred);
  pd_json_member_uint(&w, "longest_referral_chain", r->max_referral_depth);
  pd_json_key(&w, "guides");
  pd_json_begin_object(&w);
  pd_json_member_uint(&w, "total", r->guides);
  pd_json_member_uint(&w, "active", r->guides_active);
  pd_json_member_uint(&w, "deactivated", r->guides - r->guides_active);
  pd_json_key(&w, "top_by_users_bound");
  pd_json_begin_array(&w);
  for (size_t i = 0; i < r->n_top; i++) {
    pd_json_begin_object(&w);
    pd_json_member_string(&w, "code", r->top[i].code);
    pd_json_member_string(&w, "shop", r->top[i].shop);
    pd_json_member_uint(&w, "users_bound", r->top[i].users_bound);
    pd_json_end_object(&w);
  }
  pd_json_end_array(&w);
  pd_json_end_object(&w);
  pd_json_key(&w, "flash_group");
  pd_json_begin_object(&w);
  pd_json_member_string(&w, "campaign", r->flash_campaign);
  pd_json_member_uint(&w, "window_days", (uint64_t)r->flash_window_days);
  pd_json_member_uint(&w, "participants", r->flash_participants);
  pd_json_member_uint(&w, "deleted", r->flash_deleted);
  pd_json_member_number(&w, "deleted_share",
                        share(r->flash_deleted, r->flash_participants));
  pd_json_member_uint(&w, "baseline_users", r->base_pool);
  pd_json_member_uint(&w, "baseline_deleted", r->base_deleted);
  pd_json_member_number(&w, "baseline_deleted_share",
                        share(r->base_deleted, r->base_pool));
  pd_json_end_object(&w);
  pd_json_end_object(&w);
  fputc('\n', stdout);
}

static void usage(void) {
  printf("usage: pd demo [--json] [--seed N] [--users N]\n\n"
         "Builds a deterministic synthetic private domain (8 shops, 40 "
         "guides, one\nyear of 2025) in a store and prints what the store "
         "reports about it.\n"
         "  --json      print one JSON object instead of text\n"
         "  --seed N    random seed (default %" PRIu64 ")\n"
         "  --users N   about N users, %u to %u (default %u)\n",
         DEMO_DEFAULT_SEED, DEMO_MIN_USERS, DEMO_MAX_USERS, DEMO_DEFAULT_USERS);
}

int cmd_demo(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    usage();
    return 0;
  }
  int json = 0;
  const char *seed_text = NULL, *users_text = NULL;
  const pd_opt opts[] = {{"--json", 0, NULL, &json},
                         {"--seed", 1, &seed_text, NULL},
                         {"--users", 1, &users_text, NULL}};
  const char *positional[1];
  size_t n_positional = 0;
  int rc = pd_args_parse(argc, argv, opts, sizeof opts / sizeof opts[0],
                         positional, 0, &n_positional);
  if (rc)
    return rc;
  unsigned long seed = (unsigned long)DEMO_DEFAULT_SEED;
  unsigned long users = DEMO_DEFAULT_USERS;
  if (seed_text && pd_arg_uint("--seed", seed_text, &seed))
    return 2;
  if (users_text && pd_arg_uint("--users", users_text, &users))
    return 2;
  if (users < DEMO_MIN_USERS || users > DEMO_MAX_USERS)
    return pd_fail(2, "demo: --users must be between %u and %u", DEMO_MIN_USERS,
                   DEMO_MAX_USERS);

  demo_data d;
  if (demo_generate((uint64_t)seed, (uint32_t)users, &d))
    return pd_fail(1, "demo: out of memory generating the demo");
  pd_store *store = NULL;
  pd_status st = pd_store_new(NULL, &store);
  if (st != PD_OK) {
    demo_free(&d);
    return pd_fail(1, "demo: creating the store: %s", pd_status_str(st));
  }
  char err[512];
  rc = demo_record_all(&d, store, err, sizeof err) ? pd_fail(1, "demo: %s", err)
                                                   : 0;
  if (!rc)
    rc = demo_report(store, &d, (uint64_t)seed, (uint32_t)users, json);
  pd_store_free(store);
  demo_free(&d);
  return rc;
}

/* The summary of a store holding the demo @d (also for pd load). */
int demo_report(pd_store *store, const demo_data *d, uint64_t seed,
                uint32_t users, int json) {
  pd_status st;
  report *rep = calloc(1, sizeof *rep);
  int rc = rep ? 0 : pd_fail(1, "demo: out of memory");
  if (!rc) {
    rep->seed = (uint64_t)seed;
    rep->users_requested = (uint32_t)users;
    rep->exponent = pd_store_currency_exponent(store);
    pd_store_stats stats = PD_STORE_STATS_INIT;
    st = pd_store_get_stats(store, &stats);
    rep->stats = stats;
    if (st != PD_OK)
      rc = pd_fail(1, "demo: stats: %s", pd_store_errmsg(store));
  }
  if (!rc)
    rc = channel_figures(store, rep);
  if (!rc)
    rc = user_figures(store, d, rep);
  if (!rc) {
    reach_figures(store, d, rep);
    qsort(rep->sources, rep->n_sources, sizeof rep->sources[0], cmp_sources);
    rc = guide_figures(store, rep);
  }
  if (!rc) {
    if (json)
      print_json(rep);
    else
      print_text(rep);
    if (fflush(stdout) != 0)
      rc = pd_fail(1, "demo: cannot write the output");
  }
  free(rep);
  return rc;
}
