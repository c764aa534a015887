package privdomain

/*
#include <privdomain/privdomain.h>
*/
import "C"

import "time"

// Filter says which users a figure covers and when it is computed for
// (pd_metrics_filter). Zero fields mean "any"; AsOf is required.
type Filter struct {
	Channel int32  // acquisition channel
	Source  uint32 // acquisition LabelSource id
	Guide   uint32 // home guide
	Shop    uint32 // home shop (LabelShop id)
	AsOf    time.Time
}

func (f Filter) c() C.pd_metrics_filter {
	return C.pd_metrics_filter{size: C.sizeof_pd_metrics_filter, channel: C.int32_t(f.Channel),
		source: C.uint32_t(f.Source), guide: C.uint32_t(f.Guide), shop: C.uint32_t(f.Shop),
		as_of: cTime(f.AsOf)}
}

// Group-by keys of figures with rows (breakdown.h). Row keys are channel
// ids, label ids, guide ids, or cohort start times in Unix seconds.
const (
	ByAll         int32 = 0
	ByChannel     int32 = 1
	BySource      int32 = 2
	ByGuide       int32 = 3
	ByShop        int32 = 4
	ByCohortDay   int32 = 5
	ByCohortWeek  int32 = 6
	ByCohortMonth int32 = 7
)

// Cohort units.
const (
	CohortDay   int32 = 1
	CohortWeek  int32 = 2
	CohortMonth int32 = 3
)

// rows reads every row of a pd_rows with get, then frees it.
func readRows(rows *C.pd_rows, get func(i C.size_t) C.pd_status) C.pd_status {
	defer C.pd_rows_free(rows)
	n := C.pd_rows_count(rows)
	for i := C.size_t(0); i < n; i++ {
		if st := get(i); st < 0 {
			return st
		}
	}
	return C.PD_OK
}

// FunnelRow is one group of the funnel 引流 → 成交 → 复购 → 转介绍.
type FunnelRow struct {
	Key                                                int64
	Reached, Linked, Converted, Repeat, Referrers      uint64
	LinkRate, ConversionRate, RepeatRate, ReferralRate float64
	DaysToFirstPurchaseMedian, DaysToFirstPurchaseMean float64
	Revenue, Cost                                      int64 // minor units
	LTV, CAC, LTVCAC                                   float64
}

// Funnel computes the funnel of the users passing f, one row per group of
// groupBy. conversionWindow 0 means the default (30 days).
func (s *Store) Funnel(f Filter, groupBy int32, conversionWindow time.Duration) ([]FunnelRow, error) {
	cf := f.c()
	o := C.pd_funnel_options{size: C.sizeof_pd_funnel_options, group_by: C.int32_t(groupBy),
		conversion_window: 2592000}
	if conversionWindow != 0 {
		o.conversion_window = C.int64_t(conversionWindow / time.Second)
	}
	var out []FunnelRow
	_, err := s.call("Funnel", func(p *C.pd_store) C.pd_status {
		var rows *C.pd_rows
		if st := C.pd_funnel_compute(p, &cf, &o, &rows); st < 0 {
			return st
		}
		return funnelRows(rows, &out)
	})
	return out, err
}

// RepurchaseRow is one group of repurchase figures (复购率, 复购周期, 客单价).
type RepurchaseRow struct {
	Key                                  int64
	Buyers, RepeatBuyers, Purchases      uint64
	Revenue, RepeatRevenue               int64 // minor units
	RepurchaseRate, Frequency            float64
	AverageOrderValue                    float64 // minor units
	Intervals                            uint64
	IntervalMedianDays, IntervalMeanDays float64
	TrendBuyers, ShorteningBuyers        uint64
	ShorteningShare, RepeatRevenueShare  float64
}

// Repurchase computes repurchase figures of the buyers passing f.
func (s *Store) Repurchase(f Filter, groupBy int32) ([]RepurchaseRow, error) {
	cf := f.c()
	o := C.pd_repurchase_options{size: C.sizeof_pd_repurchase_options, group_by: C.int32_t(groupBy)}
	var out []RepurchaseRow
	_, err := s.call("Repurchase", func(p *C.pd_store) C.pd_status {
		var rows *C.pd_rows
		if st := C.pd_repurchase_compute(p, &cf, &o, &rows); st < 0 {
			return st
		}
		return repurchaseRows(rows, &out)
	})
	return out, err
}

// RetentionCell is one cell of a link-retention cohort table: of the
// (user, channel) pairs first linked in the cohort, how many were still
// linked Period periods after linking.
type RetentionCell struct {
	Channel     int32
	Period      uint32
	CohortStart time.Time
	CohortSize  uint64
	Observed    uint64
	Retained    uint64
	Rate        float64
}

// LinkRetention computes the cohort table of links on channel (0 = every
// channel) by cohortUnit (CohortDay/Week/Month) for periods 0..periods.
func (s *Store) LinkRetention(f Filter, channel, cohortUnit int32, periods uint32) ([]RetentionCell, error) {
	cf := f.c()
	o := C.pd_link_retention_options{size: C.sizeof_pd_link_retention_options,
		cohort_unit: C.int32_t(cohortUnit), periods: C.uint32_t(periods), channel: C.int32_t(channel)}
	var out []RetentionCell
	_, err := s.call("LinkRetention", func(p *C.pd_store) C.pd_status {
		var rows *C.pd_rows
		if st := C.pd_link_retention_compute(p, &cf, &o, &rows); st < 0 {
			return st
		}
		return retentionCells(rows, &out)
	})
	return out, err
}

// Trust is a user's trust (信任 = 专业 × 靠谱 × 亲密度 / 自私度), each
// component on 1–10, Score on 0–100.
type Trust struct {
	Expertise, Reliability, Intimacy, SelfOrientation float64
	Trust, Score                                      float64
}

// Trust computes user's trust at asOf from all touchpoints (guide 0) or
// those with guide, with the library's default options.
func (s *Store) Trust(user UserID, guide uint32, asOf time.Time) (Trust, error) {
	t := C.pd_trust{size: C.sizeof_pd_trust}
	_, err := s.call("Trust", func(p *C.pd_store) C.pd_status {
		return C.pd_trust_user(p, C.pd_user_id(user), C.uint32_t(guide), cTime(asOf), nil, &t)
	})
	if err != nil {
		return Trust{}, err
	}
	return Trust{float64(t.expertise), float64(t.reliability), float64(t.intimacy),
		float64(t.self_orientation), float64(t.trust), float64(t.score)}, nil
}

// UnlinkRate is the unlink rate (删粉率) over a window: unlinks / pairs
// linked at its start or during it.
type UnlinkRate struct {
	Base                                  uint64
	UserUnlinks, StaffUnlinks             uint64
	UserUnlinkedPairs, StaffUnlinkedPairs uint64
	UserRate, StaffRate, Rate             float64
}

// UnlinkRate computes the unlink rate in [from, to) of links on channel
// (0 = every channel) among the users passing f.
func (s *Store) UnlinkRate(f Filter, channel int32, from, to time.Time) (UnlinkRate, error) {
	cf := f.c()
	r := C.pd_unlink_rate{size: C.sizeof_pd_unlink_rate}
	_, err := s.call("UnlinkRate", func(p *C.pd_store) C.pd_status {
		return C.pd_unlink_rate_compute(p, &cf, C.int32_t(channel), cTime(from), cTime(to), &r)
	})
	if err != nil {
		return UnlinkRate{}, err
	}
	return UnlinkRate{uint64(r.base), uint64(r.user_unlinks), uint64(r.staff_unlinks),
		uint64(r.user_unlinked_pairs), uint64(r.staff_unlinked_pairs), float64(r.user_rate),
		float64(r.staff_rate), float64(r.rate)}, nil
}

// ReferralStats are referral and fission figures (转介绍, 裂变).
type ReferralStats struct {
	Referrals, Referrers, Referees, Trees, LargestTree uint64
	MeanTreeSize                                       float64
	MaxDepth                                           uint32
	WindowReferrals, Base                              uint64
	KFactor                                            float64
	RefereeRevenue                                     int64 // minor units
}

// ReferralStats computes referral figures of the users passing f, with
// the K-factor over [from, to).
func (s *Store) ReferralStats(f Filter, from, to time.Time) (ReferralStats, error) {
	cf := f.c()
	r := C.pd_referral_stats{size: C.sizeof_pd_referral_stats}
	_, err := s.call("ReferralStats", func(p *C.pd_store) C.pd_status {
		return C.pd_referral_stats_compute(p, &cf, cTime(from), cTime(to), &r)
	})
	if err != nil {
		return ReferralStats{}, err
	}
	return ReferralStats{uint64(r.referrals), uint64(r.referrers), uint64(r.referees),
		uint64(r.trees), uint64(r.largest_tree), float64(r.mean_tree_size), uint32(r.max_depth),
		uint64(r.window_referrals), uint64(r.base), float64(r.k_factor), int64(r.referee_revenue)}, nil
}

// PressureStats is the promotional pressure on a population over a window.
type PressureStats struct {
	Users, Pushes               uint64
	Mean, P50, P90              float64
	Max                         uint32
	OverCapPushes, UsersOverCap uint64
}

// PressureStats measures pushes per user matching f over the window
// ending at f.AsOf, and how many broke policy (nil = default).
func (s *Store) PressureStats(f Filter, window time.Duration, policy *ContactPolicy) (PressureStats, error) {
	if policy == nil {
		policy = &DefaultContactPolicy
	}
	cf := f.c()
	pol := C.pd_contact_policy{size: C.sizeof_pd_contact_policy, per_day: C.uint32_t(policy.PerDay),
		per_week: C.uint32_t(policy.PerWeek), per_channel_day: C.uint32_t(policy.PerChannelDay),
		per_channel_week: C.uint32_t(policy.PerChannelWeek)}
	if policy.CountPostExposures {
		pol.count_post_exposures = 1
	}
	r := C.pd_pressure_stats{size: C.sizeof_pd_pressure_stats}
	_, err := s.call("PressureStats", func(p *C.pd_store) C.pd_status {
		return C.pd_pressure_stats_get(p, &cf, C.int64_t(window/time.Second), &pol, &r)
	})
	if err != nil {
		return PressureStats{}, err
	}
	return PressureStats{uint64(r.users), uint64(r.pushes), float64(r.mean), float64(r.p50),
		float64(r.p90), uint32(r.max), uint64(r.over_cap_pushes), uint64(r.users_over_cap)}, nil
}

// funnelRows reads every row of a funnel result into *out and frees rows.
func funnelRows(rows *C.pd_rows, out *[]FunnelRow) C.pd_status {
	return readRows(rows, func(i C.size_t) C.pd_status {
		r := C.pd_funnel_row{size: C.sizeof_pd_funnel_row}
		st := C.pd_funnel_row_get(rows, i, &r)
		*out = append(*out, FunnelRow{int64(r.key), uint64(r.reached), uint64(r.linked),
			uint64(r.converted), uint64(r.repeat), uint64(r.referrers), float64(r.link_rate),
			float64(r.conversion_rate), float64(r.repeat_rate), float64(r.referral_rate),
			float64(r.days_to_first_purchase_median), float64(r.days_to_first_purchase_mean),
			int64(r.revenue), int64(r.cost), float64(r.ltv), float64(r.cac), float64(r.ltv_cac)})
		return st
	})
}

// repurchaseRows reads every row of a repurchase result into *out and
// frees rows.
func repurchaseRows(rows *C.pd_rows, out *[]RepurchaseRow) C.pd_status {
	return readRows(rows, func(i C.size_t) C.pd_status {
		r := C.pd_repurchase_row{size: C.sizeof_pd_repurchase_row}
		st := C.pd_repurchase_row_get(rows, i, &r)
		*out = append(*out, RepurchaseRow{int64(r.key), uint64(r.buyers), uint64(r.repeat_buyers),
			uint64(r.purchases), int64(r.revenue), int64(r.repeat_revenue),
			float64(r.repurchase_rate), float64(r.frequency), float64(r.average_order_value),
			uint64(r.intervals), float64(r.interval_median_days), float64(r.interval_mean_days),
			uint64(r.trend_buyers), uint64(r.shortening_buyers), float64(r.shortening_share),
			float64(r.repeat_revenue_share)})
		return st
	})
}

// retentionCells reads every cell of a link-retention table into *out and
// frees rows.
func retentionCells(rows *C.pd_rows, out *[]RetentionCell) C.pd_status {
	return readRows(rows, func(i C.size_t) C.pd_status {
		r := C.pd_link_retention_row{size: C.sizeof_pd_link_retention_row}
		st := C.pd_link_retention_row_get(rows, i, &r)
		*out = append(*out, RetentionCell{int32(r.channel), uint32(r.period), goTime(r.cohort_start),
			uint64(r.cohort_size), uint64(r.observed), uint64(r.retained), float64(r.rate)})
		return st
	})
}
