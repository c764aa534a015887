/*
 * domain_gen — a deterministic, streaming generator of a realistic private
 * domain (私域) for the benchmark suite (bench/pdbench.c) and its tests.
 *
 * From (users, seed) it describes a national chain: shops, guides (导购),
 * sources, campaigns, users with identities, and two years of events in
 * time order — links and 删粉 unlinks, touchpoints (the bulk), orders with
 * BG/NBD-like repurchase, refunds, referrals (裂变), guide binds and
 * handovers (离职继承), consent withdrawals, and monthly reach and
 * acquisition-cost reports. The events are handed out in batches ready for
 * pd_record_events() without ever holding more than one day of them: the
 * generator keeps about 64 bytes per user (its state and its place in a
 * calendar of days) plus one day's events. The same (users, seed) gives the
 * same events, in the same order, with the same event ids (1, 2, 3 … in
 * order), whatever the batch sizes asked for.
 *
 * Rates and distributions, and where they come from (/work/shared/DOMAIN.md
 * sections in brackets; where DOMAIN.md gives no figure, the value is a
 * plausible choice, named "assumed"):
 * - Chain scale [Shopping guides]: one shop per 1,430 users (7,000 shops at
 *   10M users) and one guide per 250 users (40,000 guides at 10M), at least
 *   10 shops and 20 guides; guides are spread over shops round robin; users
 *   per shop are skewed (shop = S·U^1.6). Each user has one exclusive guide
 *   in their shop, bound at acquisition for 80% of users (assumed).
 * - Acquisition [Acquisition]: 20% of users are the existing customers
 *   imported in the first 30 days ("存量 first"); the rest arrive at a
 *   linearly growing rate over the two years. Sources and the link rates
 *   used for the reach reports (吸粉率 = linked / reached): store QR code
 *   0.60 (stores "up to 90%"), package card 0.20, Wangwang 0.45, paid ads
 *   0.05, content 0.10, live stream 0.08, fission referral 0.50, stock
 *   import 0.70 (assumed where not in DOMAIN.md). Channels: WeCom 50%,
 *   personal WeChat 15%, official account 15%, mini-program 15%, group 5%;
 *   25% also join the mini-program at acquisition. Acquisition cost per
 *   link by source: 0–40 yuan (assumed).
 * - Retention [Retention]: each user's monthly 删粉 hazard θ ~ Beta(0.5, 5)
 *   (mean 9%/30 days, heterogeneous: the sBG assumption); an unlink is a
 *   delete (70%), block (10%), unfollow (15%) or staff removal (5%); 25% of
 *   the unlinked re-link within weeks (mean 20 days). Campaign backlash:
 *   a promotional campaign broadcast makes 3% of its recipients unlink
 *   within about a day (the "34% deleted after a flash campaign" warning
 *   light, milder on average). 20% of deletes/blocks also withdraw
 *   marketing consent.
 * - Touchpoints [Trust, Conversion scenes]: while linked, a Poisson stream
 *   with a heavy-tailed per-user rate ρ ~ 0.07·Gamma(0.6)/0.6 per day
 *   (~16 per user over the period on average, a few users hundreds):
 *   broadcast 30%, moments/group post 25%, 1:1 outbound 15%, inbound 10%,
 *   content view 10%, engagement 5%, live view 3%, promise kept 1.5%,
 *   promise broken 0.3%, explicit rating 0.2%. Brand-initiated purposes:
 *   service 35%, content 35%, promotion 30% (promotion 80% in campaign
 *   windows). Two 3-day campaigns a month.
 * - Orders [Repurchase and lifetime value]: 65% of users ever buy, the
 *   first time about two weeks (exponential, mean 14 days) after linking;
 *   then BG/NBD: purchase rate λ ~ Gamma(0.9, 1/90 days), after each
 *   purchase dropout p ~ Beta(0.7, 3). Spend: Gamma-Gamma, amount ~
 *   Gamma(5, ν/5) with per-user mean ν ~ Gamma(3.5, 70 yuan) (mean 245
 *   yuan). Channel: mini-program 50%, store 40%, app 10%; the user's guide
 *   is on 60% of orders (commission, [Shopping guides]). 5% of orders are
 *   refunded 1–14 days later (half of them in full).
 * - Referral [Referral and fission]: 15% of users were brought by an
 *   earlier user, chosen with a skew towards early users (referrer =
 *   1 + (u−1)·U³), so a few super users bring many.
 * - Guides [Shopping guides]: 30% of the guides with an odd rank in their
 *   shop leave during the period: a handover of their users to the guide
 *   ranked one below (who never leaves) and a deactivation an hour later.
 * - Reach and cost reports: every 30 days, per (channel, source) that
 *   linked users in the period, reached = links / link rate.
 *
 * Time: 2024-01-01T00:00:00Z + [0, 730 days); pdg_as_of() is the end.
 * Ids: users 1..users in order of acquisition (pdg_setup_store() checks
 * that the store gives these ids), labels and guides 1..n per kind,
 * order_id = user·2^20 + the user's order number.
 *
 * Not thread-safe: one generator per thread.
 */
#ifndef PD_BENCH_DOMAIN_GEN_H
#define PD_BENCH_DOMAIN_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/privdomain.h>

/** Any one event record, so a batch can hold events of every kind. */
typedef union pdg_record {
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
  pd_consent consent;
} pdg_record;

typedef struct pdg pdg;

/** Events handed out so far, per PD_EVENT_* kind (index = kind). */
typedef struct pdg_counts {
  uint64_t by_kind[13];
  uint64_t total;
} pdg_counts;

/** A new generator for @users users (1 .. 2^28) and @seed; NULL when out
 *  of memory or users is out of range. Free with pdg_free(). */
pdg *pdg_new(uint64_t users, uint64_t seed);
void pdg_free(pdg *g);

uint64_t pdg_users(const pdg *g);
uint32_t pdg_shops(const pdg *g);
uint32_t pdg_guides(const pdg *g);
uint32_t pdg_campaigns(const pdg *g);
/** First and one past the last second of the generated period. */
int64_t pdg_t0(const pdg *g);
int64_t pdg_as_of(const pdg *g);

/**
 * pdg_setup_store - create in an empty @store the shops (PD_LABEL_SHOP),
 * sources, campaigns, guides and users with their identities ("phone", and
 * "unionid" for 30% of them), checking that ids come out as 1..n. Returns
 * PD_OK or the first failing status (with pd_store_errmsg()).
 */
pd_status pdg_setup_store(const pdg *g, pd_store *store);

/** The phone number of user @u (1-based) as an identity key into @buf
 *  (at least 16 bytes); returns its length. */
size_t pdg_phone(const pdg *g, uint64_t u, char *buf);

/**
 * pdg_next - the next at most @max events in time order: kinds[i] is a
 * PD_EVENT_*, records[i] the record, ptrs[i] = &records[i] (ready for
 * pd_record_events()). Returns how many were written; 0 at the end (or
 * when out of memory: pdg_failed() says which).
 */
size_t pdg_next(pdg *g, size_t max, int32_t *kinds, pdg_record *records,
                const void **ptrs);

/** Non-zero after an allocation failed inside pdg_next(). */
int pdg_failed(const pdg *g);

/** Counts of the events handed out so far. */
const pdg_counts *pdg_get_counts(const pdg *g);

/** Bytes the generator holds now (state, calendar, the day's events). */
size_t pdg_memory(const pdg *g);

#endif /* PD_BENCH_DOMAIN_GEN_H */
