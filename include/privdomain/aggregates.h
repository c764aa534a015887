/*
 * libprivdomain — store aggregates: the funnel, cohort, repurchase and RFM
 * figures of many stores, merged without moving their events.
 *
 * A national chain runs one pd_store per region or shard, each holding a
 * disjoint set of users. Each shard computes a pd_aggregate — the additive
 * counts behind a figure — saves it as bytes (pd_aggregate_save()), and
 * head office loads and merges them (pd_aggregate_load(),
 * pd_aggregate_merge()). The merged aggregate answers what the figure's own
 * function would answer on one store holding every shard's users:
 *
 * - PD_AGGREGATE_FUNNEL: per group key, the reached, linked, converted,
 *   repeat and referrer counts, revenue and cost of pd_funnel_compute()
 *   (funnel.h). Rates and LTV:CAC are derived after merging from the
 *   merged integers, so they equal the single-store figures to the last
 *   bit. days_to_first_purchase_mean comes from the exact sum of the
 *   seconds to first purchase (equal up to rounding of the last bits);
 *   days_to_first_purchase_median comes from a quantile sketch (below) and
 *   is within the sketch's relative error of the exact median.
 * - PD_AGGREGATE_LINK_COHORTS: per (channel, cohort, period k) the
 *   cohort_size, observed and retained counts of
 *   pd_link_retention_compute() (retention_metrics.h); rates derived after
 *   merging. Exact.
 * - PD_AGGREGATE_RFM: the number of buyers, their orders and net revenue,
 *   and three quantile sketches of recency (days), frequency (orders) and
 *   monetary (net revenue, minor units) over the buyers (segments.h). From
 *   the merged sketches come quantiles (pd_aggregate_quantile()) and the
 *   quintile thresholds (pd_aggregate_rfm_thresholds()) with which each
 *   shard scores its own buyers (pd_rfm_score_with_thresholds()).
 * - PD_AGGREGATE_REPURCHASE: per group key, the buyers, repeat buyers,
 *   purchases, revenues, intervals and interval-trend counts of
 *   pd_repurchase_compute() (repurchase.h); rates derived after merging
 *   (bit for bit), interval_mean_days from the exact sum of the intervals'
 *   seconds, interval_median_days from a quantile sketch of the intervals.
 *
 * Quantile sketch and its error bound. Values are counted in buckets on a
 * logarithmic scale: bucket i holds the positive values v with
 * gamma^(i-1) < v <= gamma^i, gamma = (1 + a) / (1 - a), where a is the
 * relative accuracy (spec->accuracy, default 0.01); negative values are
 * counted the same way on |v| in a second set of buckets, and zeros
 * exactly. A quantile is answered with the middle 2·gamma^i / (gamma + 1)
 * of the bucket holding it (clamped to the smallest and largest value
 * counted, which are kept exactly), so for q in [0, 1]:
 * |estimate − x| <= a·|x| where x is the value of rank floor(q·(n − 1))
 * (0-based) among the n values sorted ascending. Merging adds counts bucket by bucket, so a merged sketch is
 * the same, bucket for bucket, whatever the partitioning of the values
 * and the order of merges.
 *
 * Which figures merge, and why the others do not. A figure merges when it
 * is a sum over users of per-user parts and every user is in exactly one
 * shard. Distinct counts over overlapping partitions (the same person in
 * two shards under different ids) cannot be merged from counts: the
 * shards' users must be disjoint, and a referral counts only when both
 * users are in the same shard. Exact medians of non-integral values (days
 * to first purchase, recency) and rank-based scores (pd_rfm_compute()
 * breaks ties by user id across all buyers) need every value at once:
 * they are replaced by the sketch with its bound, and scores by thresholds
 * (equal values score equally).
 *
 * Group keys are the shard's own ids: channel ids, source and shop labels
 * and guide ids must mean the same on every shard (register channels,
 * labels and guides in the same order everywhere), or group by PD_BY_ALL or
 * a cohort. The same goes for the ids of a metrics filter.
 *
 * Serialised form: the bytes of pd_aggregate_save() are a stable,
 * versioned, little-endian format with a CRC-32C (docs/FORMAT.md,
 * "Serialised store aggregates"); any build of the library with this
 * format version reads them on any machine.
 *
 * Thread safety: a pd_aggregate is not locked. Any number of threads may
 * read one at once (save, quantile, rows, thresholds, merge's src); merge
 * into it (dst) and pd_aggregate_free() need exclusive use.
 */
#ifndef PRIVDOMAIN_AGGREGATES_H
#define PRIVDOMAIN_AGGREGATES_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "breakdown.h"
#include "bytes.h"
#include "export.h"
#include "funnel.h"
#include "metrics.h"
#include "repurchase.h"
#include "retention_metrics.h"
#include "segments.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Kinds of aggregate (passed as int32_t). Values are never renumbered. */
enum {
  PD_AGGREGATE_FUNNEL = 1,
  PD_AGGREGATE_LINK_COHORTS = 2,
  PD_AGGREGATE_RFM = 3,
  PD_AGGREGATE_REPURCHASE = 4
};

/** Dimensions of an RFM aggregate's sketches (passed as int32_t). */
enum {
  PD_AGGREGATE_RECENCY = 1,   /**< days from the last order to as_of */
  PD_AGGREGATE_FREQUENCY = 2, /**< orders */
  PD_AGGREGATE_MONETARY = 3   /**< net revenue, minor units */
};

/** The default relative accuracy of quantile sketches (1%). */
#define PD_AGGREGATE_ACCURACY_DEFAULT 0.01
/** The accepted range of relative accuracies. */
#define PD_AGGREGATE_ACCURACY_MIN 0.001
#define PD_AGGREGATE_ACCURACY_MAX 0.2

/** What an aggregate is computed with, beyond the metrics filter.
 *  Initialise with PD_AGGREGATE_SPEC_INIT. Aggregates merge only when they
 *  were computed with equal filters and equal specs. A size smaller than
 *  this struct is refused; a larger one (a newer caller) is accepted when
 *  the bytes this version does not know are all zero. */
typedef struct pd_aggregate_spec {
  size_t size;
  /** PD_AGGREGATE_FUNNEL: the funnel's options (group_by,
   *  conversion_window, model_clv); NULL = PD_FUNNEL_OPTIONS_INIT. */
  const pd_funnel_options *funnel;
  /** PD_AGGREGATE_LINK_COHORTS: cohort_unit, periods and channel; NULL =
   *  PD_LINK_RETENTION_OPTIONS_INIT. */
  const pd_link_retention_options *link_retention;
  /** PD_AGGREGATE_REPURCHASE: group_by; NULL = PD_REPURCHASE_OPTIONS_INIT. */
  const pd_repurchase_options *repurchase;
  /** Relative accuracy a of the quantile sketches, in
   *  [PD_AGGREGATE_ACCURACY_MIN, PD_AGGREGATE_ACCURACY_MAX]; 0 = default
   *  (PD_AGGREGATE_ACCURACY_DEFAULT). */
  double accuracy;
} pd_aggregate_spec;

#define PD_AGGREGATE_SPEC_INIT \
  {sizeof(pd_aggregate_spec), NULL, NULL, NULL, 0.0}

/** An aggregate of one kind. Opaque. */
typedef struct pd_aggregate pd_aggregate;

/**
 * pd_aggregate_compute - the aggregate of @kind (PD_AGGREGATE_*) over the
 * users of @store passing @filter, as of filter->as_of.
 *
 * @spec may be NULL for the defaults; only the field of @kind is read
 * (funnel options for PD_AGGREGATE_FUNNEL, link_retention options for
 * PD_AGGREGATE_LINK_COHORTS, repurchase options for
 * PD_AGGREGATE_REPURCHASE), with the same checks as the figure's own
 * function. On success *out receives a new aggregate owned by the caller
 * (pd_aggregate_free()), allocated with the store's caller allocator, whose
 * `user` pointer must stay valid as long as the aggregate lives.
 * Errors (message on the store, pd_store_errmsg()): PD_E_MISUSE (bad
 * store), the filter errors of metrics.h, PD_E_INVALID (out NULL, unknown
 * kind, spec size too small or unknown trailing bytes non-zero, accuracy
 * outside its range or NaN, and the option errors of pd_funnel_compute()
 * pd_link_retention_compute() and pd_repurchase_compute()), PD_E_NOT_FOUND (link retention
 * channel unknown), PD_E_NOMEM. Thread safety: serialised on the store's
 * lock.
 */
PD_API pd_status pd_aggregate_compute(pd_store *store, int32_t kind,
                                      const pd_metrics_filter *filter,
                                      const pd_aggregate_spec *spec,
                                      pd_aggregate **out);

/**
 * pd_aggregate_free - release @agg. NULL is a no-op.
 */
PD_API void pd_aggregate_free(pd_aggregate *agg);

/**
 * pd_aggregate_kind - the PD_AGGREGATE_* kind of @agg, 0 for NULL.
 * Thread safety: any thread.
 */
PD_API int32_t pd_aggregate_kind(const pd_aggregate *agg);

/**
 * pd_aggregate_errmsg - the message of the last failed pd_aggregate_merge()
 * into @agg, or "" (static storage for NULL). Valid until the next call on
 * @agg.
 */
PD_API const char *pd_aggregate_errmsg(const pd_aggregate *agg);

/**
 * pd_aggregate_merge - add @src into @dst: afterwards @dst is the aggregate
 * of the users of both (their users must be disjoint). @src is unchanged.
 * Merging is associative and commutative: any order of merges of the same
 * shards gives the same aggregate, byte for byte once saved.
 * Errors (message on @dst): PD_E_INVALID (dst or src NULL, or the same
 * aggregate), PD_E_CONFLICT (different kinds, filters, as_of, options or
 * accuracy), PD_E_OVERFLOW (a count or sum would leave its integer range),
 * PD_E_NOMEM. On any error @dst is unchanged.
 */
PD_API pd_status pd_aggregate_merge(pd_aggregate *dst,
                                    const pd_aggregate *src);

/**
 * pd_aggregate_save - the serialised form of @agg (docs/FORMAT.md) into a
 * new pd_bytes owned by the caller (pd_bytes_free()), allocated with
 * @agg's allocator. The bytes depend only on the aggregate's contents.
 * Errors: PD_E_INVALID (agg or out NULL), PD_E_NOMEM.
 */
PD_API pd_status pd_aggregate_save(const pd_aggregate *agg, pd_bytes **out);

/**
 * pd_aggregate_load - an aggregate from the @len bytes at @data made by
 * pd_aggregate_save() (on any machine). @alloc may be NULL for libc's; it
 * is copied and used for the aggregate and everything made from it.
 * @errbuf (may be NULL) receives a NUL-terminated reason on error, cut to
 * @errcap bytes. On success *out receives a new aggregate owned by the
 * caller. Errors: PD_E_INVALID (out NULL, data NULL with len > 0,
 * incomplete allocator), PD_E_CORRUPT (not an aggregate, truncated,
 * trailing bytes, CRC mismatch, or contents that break the format's
 * rules), PD_E_VERSION (a newer envelope version), PD_E_NOMEM.
 * Thread safety: any thread.
 */
PD_API pd_status pd_aggregate_load(const void *data, size_t len,
                                   const pd_allocator *alloc, char *errbuf,
                                   size_t errcap, pd_aggregate **out);

/**
 * pd_aggregate_funnel_rows - the funnel rows of a PD_AGGREGATE_FUNNEL
 * aggregate, exactly as pd_funnel_compute() lays them out (read them with
 * pd_funnel_row_get()), into a new pd_rows owned by the caller
 * (pd_rows_free()), allocated with @agg's allocator.
 * Errors: PD_E_INVALID (agg or out NULL), PD_E_MISUSE (another kind),
 * PD_E_NOMEM.
 */
PD_API pd_status pd_aggregate_funnel_rows(const pd_aggregate *agg,
                                          pd_rows **out);

/**
 * pd_aggregate_link_retention_rows - the cohort table of a
 * PD_AGGREGATE_LINK_COHORTS aggregate, exactly as
 * pd_link_retention_compute() lays it out (pd_link_retention_row_get()),
 * into a new pd_rows owned by the caller. Errors as
 * pd_aggregate_funnel_rows().
 */
PD_API pd_status pd_aggregate_link_retention_rows(const pd_aggregate *agg,
                                                  pd_rows **out);

/**
 * pd_aggregate_repurchase_rows - the rows of a PD_AGGREGATE_REPURCHASE
 * aggregate, laid out as pd_repurchase_compute() lays them out (read with
 * pd_repurchase_row_get()), into a new pd_rows owned by the caller. Errors
 * as pd_aggregate_funnel_rows().
 */
PD_API pd_status pd_aggregate_repurchase_rows(const pd_aggregate *agg,
                                              pd_rows **out);

/**
 * pd_aggregate_quantile - the @q quantile of @dimension (PD_AGGREGATE_
 * RECENCY, _FREQUENCY, _MONETARY) of a PD_AGGREGATE_RFM aggregate, within
 * relative error `accuracy` of the value of rank floor(q·(n−1)) among the
 * n buyers (see the bound at the top). Units: days, orders, minor units.
 * Errors: PD_E_INVALID (agg or out NULL, q NaN or outside [0, 1], unknown
 * dimension, no buyer), PD_E_MISUSE (another kind).
 */
PD_API pd_status pd_aggregate_quantile(const pd_aggregate *agg,
                                       int32_t dimension, double q,
                                       double *out);

/** Quintile thresholds and totals of an RFM aggregate. Set size with
 *  PD_RFM_THRESHOLDS_INIT. */
typedef struct pd_rfm_thresholds {
  size_t size;
  uint64_t buyers;     /**< users with >= 1 order at or before as_of */
  uint64_t orders;     /**< their orders */
  int64_t revenue;     /**< their net revenue, minor units */
  /** The k/5 quantiles, k = 1..4, of recency (days), frequency and
   *  monetary; frequency and monetary rounded to the nearest integer. */
  double recency[4];
  double frequency[4];
  double monetary[4];
} pd_rfm_thresholds;

#define PD_RFM_THRESHOLDS_INIT \
  {sizeof(pd_rfm_thresholds), 0, 0, 0, {0, 0, 0, 0}, {0, 0, 0, 0}, \
   {0, 0, 0, 0}}

/**
 * pd_aggregate_rfm_thresholds - the quintile thresholds of a
 * PD_AGGREGATE_RFM aggregate (usually merged from every shard) into @out
 * (out->size from PD_RFM_THRESHOLDS_INIT; a larger struct keeps its extra
 * bytes).
 * A buyer then scores: F = 1 + the number of frequency thresholds below
 * their frequency (strictly), M likewise on monetary, R = 1 + the number
 * of recency thresholds above their recency (strictly): so 5 is the best
 * fifth chain-wide. Unlike pd_rfm_compute(), equal values score equally.
 * Errors: PD_E_INVALID (agg or out NULL, out->size too small, no buyer),
 * PD_E_MISUSE (another kind). Thread safety: any thread.
 */
PD_API pd_status pd_aggregate_rfm_thresholds(const pd_aggregate *agg,
                                             pd_rfm_thresholds *out);

/**
 * pd_rfm_score_with_thresholds - RFM rows of every buyer of @store passing
 * @filter like pd_rfm_compute() (the same recency, frequency, monetary and
 * row layout; read with pd_rfm_row_get(), pd_rfm_segment_count()), but
 * scored against @th (from pd_aggregate_rfm_thresholds() of the merged
 * aggregate) by the rule above, so every shard scores on the chain-wide
 * scale. Bytes of @th beyond this version's struct (a newer caller's) are
 * ignored. Errors: the common ones of segments.h; PD_E_INVALID (th or out
 * NULL, th->size too small, a threshold NaN or infinite).
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_rfm_score_with_thresholds(pd_store *store,
                                              const pd_metrics_filter *filter,
                                              const pd_rfm_thresholds *th,
                                              pd_rows **out);

PD_END_DECLS

#endif /* PRIVDOMAIN_AGGREGATES_H */
