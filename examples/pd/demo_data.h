/*
 * pd demo — a deterministic synthetic private domain (私域) of a retail
 * chain, for `pd demo`, the replay test and anyone who wants realistic data
 * to try the library on.
 *
 * demo_generate() builds one year (2025-01-01 … 2025-12-31 UTC) of a chain
 * of DEMO_SHOPS shops and DEMO_SHOPS × DEMO_GUIDES_PER_SHOP guides: users
 * acquired through store QR codes, package cards, Taobao Wangwang, live
 * streams and referrals; their identities (and a few people found out to be
 * the same person, merged at the till); links and unlinks on the private
 * channels; touchpoints of every kind; orders and partial refunds; guide
 * bindings, one guide leaving with a handover (离职继承); a bestie-card
 * (闺蜜卡) fission campaign; one flash-group (快闪群) campaign followed by a
 * deletion spike; reach counts and acquisition costs per source and month.
 *
 * The result is an array of tagged records sorted by time. Records name
 * users, guides, labels and the custom channel by their DEMO index, never by
 * a store id, so the same array can be fed to any store in any causal order;
 * a demo_player resolves the indices to the ids a particular store handed
 * out. Everything is a pure function of (seed, users): same inputs, same
 * bytes, on every run.
 */
#ifndef PD_DEMO_DATA_H
#define PD_DEMO_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/channels.h>
#include <privdomain/events.h>
#include <privdomain/guides.h>
#include <privdomain/status.h>
#include <privdomain/store.h>
#include <privdomain/users.h>

/** The demo year: 2025-01-01T00:00:00Z … 2025-12-31T23:59:59Z. */
#define DEMO_T_BEGIN INT64_C(1735689600)
#define DEMO_T_END INT64_C(1767225599)
#define DEMO_DAY INT64_C(86400)

#define DEMO_SHOPS 8
#define DEMO_GUIDES_PER_SHOP 5
#define DEMO_DEFAULT_USERS 5000u
#define DEMO_DEFAULT_SEED UINT64_C(20250101)
#define DEMO_MIN_USERS 100u
#define DEMO_MAX_USERS 200000u

/** Identity namespaces the demo uses (index into demo_ns_name()). */
enum {
  DEMO_NS_PHONE = 1,
  DEMO_NS_UNIONID = 2,    /* wechat.unionid */
  DEMO_NS_WECOM = 3,      /* wecom.external_userid */
  DEMO_NS_POS_MEMBER = 4, /* pos.member */
  DEMO_NS_DOUYIN = 5      /* douyin.openid */
};

/** The one custom channel: the brand's Tmall shop (public). In records a
 *  channel value of DEMO_CHANNEL_TMALL stands for whatever id the store
 *  gave it. */
#define DEMO_CHANNEL_TMALL PD_CHANNEL_CUSTOM_FIRST

/** Record kinds. The first five create things (no event id); the rest are
 *  events recorded with the matching pd_record_* function. */
enum {
  DEMO_CHANNEL = 1, /* pd_channel_register("tmall", public) */
  DEMO_LABEL,       /* pd_label_ensure(labels[ref]) */
  DEMO_GUIDE,       /* pd_guide_ensure(guides[ref]) */
  DEMO_USER,        /* pd_user_ensure(users[ref]'s first identity) */
  DEMO_ATTACH,      /* pd_user_attach(ref, identity) — may merge */
  DEMO_LINK,
  DEMO_UNLINK,
  DEMO_TOUCH,
  DEMO_ORDER,
  DEMO_REFUND,
  DEMO_REFERRAL,
  DEMO_BIND,
  DEMO_HANDOVER,
  DEMO_DEACTIVATE,
  DEMO_REACH,
  DEMO_COST,
  DEMO_KIND_COUNT
};

typedef struct demo_identity {
  int32_t ns;   /* DEMO_NS_* */
  uint32_t key; /* number the key text is made from (demo_identity_key) */
} demo_identity;

/**
 * One thing that happens. Inside the pd_* records, user fields hold demo
 * user indices, guide fields demo guide indices and label fields (source,
 * campaign, shop) demo label indices; 0 still means "none".
 */
typedef struct demo_record {
  int32_t kind; /* DEMO_* */
  uint32_t ref; /* LABEL/GUIDE/USER/ATTACH: the index created or attached
                   to; REFUND: index in the array of the refunded ORDER */
  int64_t time; /* when it happens (the array is sorted by it) */
  union {
    demo_identity identity; /* USER, ATTACH */
    pd_link_event link;
    pd_unlink_event unlink;
    pd_touchpoint touch;
    pd_order order;
    pd_refund refund;
    pd_referral referral;
    pd_guide_bind bind;
    pd_guide_handover handover;
    pd_guide_deactivate deactivate;
    pd_reach reach;
    pd_acquisition_cost cost;
  } u;
} demo_record;

typedef struct demo_label {
  int32_t kind; /* PD_LABEL_* */
  char name[48];
} demo_label;

typedef struct demo_guide {
  char code[16]; /* staff code, e.g. "S3-G2" */
  uint32_t shop; /* demo label index of the shop */
} demo_guide;

typedef struct demo_data {
  uint64_t seed;
  uint32_t n_users;     /* users[1..n_users] */
  demo_identity *users; /* each user's first identity */
  demo_record *records; /* sorted by (time, creation before use) */
  size_t n_records;
  demo_label labels[40]; /* labels[1..n_labels] */
  uint32_t n_labels;
  demo_guide guides[DEMO_SHOPS * DEMO_GUIDES_PER_SHOP + 1]; /* [1..] */
  uint32_t n_guides;

  /* Named labels (demo indices). */
  uint32_t shop[DEMO_SHOPS];
  uint32_t src_store_qr[DEMO_SHOPS];
  uint32_t src_package_card, src_wangwang, src_live_stream, src_referral;
  uint32_t src_flash_group;
  uint32_t camp_flash_group, camp_bestie_card;

  /* The flash-group campaign (快闪群): members join on flash_join, it sells
   * on the three days [flash_start, flash_end), the group is dissolved a
   * few days later; flash_window is how long after flash_join deletions
   * are counted against it. */
  int64_t flash_join, flash_start, flash_end, flash_window;
  /* The bestie-card fission campaign. */
  int64_t bestie_start, bestie_end;
  /* The guide who leaves (离职继承), the heir, and when. */
  uint32_t leaving_guide, heir_guide;
  int64_t guide_leaves;
} demo_data;

/**
 * demo_generate - build the demo for @seed with about @users users (clamped
 * to [DEMO_MIN_USERS, DEMO_MAX_USERS]). Event ids are
 * pd_event_id_from_string("demo:<kind>:<n>"); order ids are receipt
 * numbers 2025000000001 …. Returns 0, or -1 when out of memory (@out is
 * then empty). Free with demo_free().
 */
int demo_generate(uint64_t seed, uint32_t users, demo_data *out);

/** demo_free - release what demo_generate() allocated. */
void demo_free(demo_data *d);

/** demo_ns_name - the namespace text of DEMO_NS_* ("phone" …). */
const char *demo_ns_name(int32_t ns);

/** demo_identity_key - write the key text of @id into @buf (NUL-terminated,
 *  at most @cap bytes); returns its length. */
size_t demo_identity_key(demo_identity id, char *buf, size_t cap);

/** demo_kind_name - "link", "order" … for a DEMO_* kind. */
const char *demo_kind_name(int32_t kind);

/**
 * A demo_player feeds records to one store, translating demo indices to the
 * store's ids. Entities a record names that the store does not know yet are
 * created first when @lazy is set (replays in shuffled order); otherwise
 * that is an error (a time-ordered run must create before it uses).
 */
typedef struct demo_player {
  const demo_data *d;
  pd_store *store;
  int lazy;
  pd_user_id *user_ids; /* [n_users + 1], 0 = not created yet */
  uint32_t *guide_ids;  /* [n_guides + 1] */
  uint32_t *label_ids;  /* [n_labels + 1] */
  int32_t tmall;        /* store id of the custom channel, 0 = none yet */
  char msg[200];        /* the player's own error, "" if none */
} demo_player;

/** demo_player_init - a player for @d on @store. Returns 0 or -1 (no
 *  memory). */
int demo_player_init(demo_player *p, const demo_data *d, pd_store *store,
                     int lazy);
void demo_player_free(demo_player *p);

/**
 * demo_play - record @r in the player's store. Returns the status of the
 * library call that records it (PD_OK, PD_REPLAYED or an error; for a lazy
 * creation that failed, that creation's status). On a player error (an
 * unresolved index while not lazy) returns PD_E_NOT_FOUND and sets p->msg.
 */
pd_status demo_play(demo_player *p, const demo_record *r);

/** demo_player_errmsg - p->msg if set, else pd_store_errmsg(). */
const char *demo_player_errmsg(const demo_player *p);

/** demo_channel_id - the store's id of a demo channel value (translates
 *  DEMO_CHANNEL_TMALL), 0 if not created yet. */
int32_t demo_channel_id(const demo_player *p, int32_t channel);

/**
 * demo_record_all - record every record of @d in time order into @store
 * (normally a new, empty one). Anything but PD_OK for a record is an error:
 * returns -1 with a one-line reason in @err (@cap bytes, NUL-terminated);
 * 0 on success.
 */
int demo_record_all(const demo_data *d, pd_store *store, char *err,
                    size_t cap);

#endif /* PD_DEMO_DATA_H */
