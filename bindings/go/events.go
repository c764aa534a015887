package privdomain

/*
#include <privdomain/privdomain.h>
*/
import "C"

import "time"

// Every Record* method records one event. EventID must be non-zero and
// unique across the store's events; recording the same event again (a
// retried submission) changes nothing and reports replayed = true, while
// the same id with other content fails with ErrDuplicate. Use EventID(text)
// to derive ids from the caller's own ids (receipt numbers, message ids).

// Unlink initiators.
const (
	UnlinkUserDeleted    int32 = 1 // 删好友
	UnlinkUserBlocked    int32 = 2 // 拉黑
	UnlinkUserUnfollowed int32 = 3 // 取关 / 退群
	UnlinkStaffRemoved   int32 = 4
)

// Touchpoint kinds.
const (
	TouchInboundMessage    int32 = 1
	TouchOutbound1to1      int32 = 2
	TouchBroadcast         int32 = 3
	TouchPostExposure      int32 = 4
	TouchContentView       int32 = 5
	TouchContentEngagement int32 = 6
	TouchLiveView          int32 = 7
	TouchPromiseKept       int32 = 8
	TouchPromiseBroken     int32 = 9
	TouchRating            int32 = 10
)

// Touch purposes.
const (
	PurposeNone      int32 = 0
	PurposeService   int32 = 1
	PurposeContent   int32 = 2
	PurposePromotion int32 = 3
)

// Consent purposes.
const (
	ConsentMarketing             int32 = 1
	ConsentPersonalisedMarketing int32 = 2
	ConsentAnalytics             int32 = 3
)

// Link: User became reachable on Channel (加好友 / 关注).
type Link struct {
	EventID  uint64
	User     UserID
	Channel  int32
	Source   uint32 // LabelSource id, 0 = unknown
	Campaign uint32 // LabelCampaign id, 0 = none
	Guide    uint32 // 0 = none
	Time     time.Time
}

// RecordLink records a link.
func (s *Store) RecordLink(e Link) (replayed bool, err error) {
	c := C.pd_link_event{size: C.sizeof_pd_link_event, event_id: C.uint64_t(e.EventID),
		user: C.pd_user_id(e.User), channel: C.int32_t(e.Channel), source: C.uint32_t(e.Source),
		campaign: C.uint32_t(e.Campaign), guide: C.uint32_t(e.Guide), time: cTime(e.Time)}
	return s.call("RecordLink", func(p *C.pd_store) C.pd_status { return C.pd_record_link(p, &c) })
}

// Unlink: User's link on Channel ended (删粉 / 取关 / 拉黑).
type Unlink struct {
	EventID   uint64
	User      UserID
	Channel   int32
	Initiator int32 // Unlink* constant
	Guide     uint32
	Time      time.Time
}

// RecordUnlink records an unlink.
func (s *Store) RecordUnlink(e Unlink) (replayed bool, err error) {
	c := C.pd_unlink_event{size: C.sizeof_pd_unlink_event, event_id: C.uint64_t(e.EventID),
		user: C.pd_user_id(e.User), channel: C.int32_t(e.Channel),
		initiator: C.int32_t(e.Initiator), guide: C.uint32_t(e.Guide), time: cTime(e.Time)}
	return s.call("RecordUnlink", func(p *C.pd_store) C.pd_status { return C.pd_record_unlink(p, &c) })
}

// Touchpoint is one contact between brand and user (触点). Ratings (1–10,
// 0 = not rated) are only for Kind TouchRating.
type Touchpoint struct {
	EventID                                                                   uint64
	User                                                                      UserID
	Kind                                                                      int32 // Touch* constant
	Purpose                                                                   int32 // Purpose* constant
	Channel                                                                   int32 // 0 = unknown
	Guide                                                                     uint32
	Campaign                                                                  uint32
	RatingExpertise, RatingReliability, RatingIntimacy, RatingSelfOrientation int32
	Time                                                                      time.Time
}

// RecordTouchpoint records a touchpoint.
func (s *Store) RecordTouchpoint(e Touchpoint) (replayed bool, err error) {
	c := C.pd_touchpoint{size: C.sizeof_pd_touchpoint, event_id: C.uint64_t(e.EventID),
		user: C.pd_user_id(e.User), kind: C.int32_t(e.Kind), purpose: C.int32_t(e.Purpose),
		channel: C.int32_t(e.Channel), guide: C.uint32_t(e.Guide), campaign: C.uint32_t(e.Campaign),
		rating_expertise: C.int32_t(e.RatingExpertise), rating_reliability: C.int32_t(e.RatingReliability),
		rating_intimacy: C.int32_t(e.RatingIntimacy), rating_self_orientation: C.int32_t(e.RatingSelfOrientation),
		time: cTime(e.Time)}
	return s.call("RecordTouchpoint", func(p *C.pd_store) C.pd_status { return C.pd_record_touchpoint(p, &c) })
}

// Order is a sale (成交). Amount is in minor units (fen), >= 0.
type Order struct {
	EventID uint64
	OrderID uint64 // the caller's order number, non-zero, unique
	User    UserID
	Time    time.Time
	Amount  int64
	Channel int32  // 0 = unknown
	Guide   uint32 // 0 = none
	Shop    uint32 // LabelShop id, 0 = none
}

// RecordOrder records an order.
func (s *Store) RecordOrder(e Order) (replayed bool, err error) {
	c := C.pd_order{size: C.sizeof_pd_order, event_id: C.uint64_t(e.EventID),
		order_id: C.uint64_t(e.OrderID), user: C.pd_user_id(e.User), time: cTime(e.Time),
		amount: C.int64_t(e.Amount), channel: C.int32_t(e.Channel), guide: C.uint32_t(e.Guide),
		shop: C.uint32_t(e.Shop)}
	return s.call("RecordOrder", func(p *C.pd_store) C.pd_status { return C.pd_record_order(p, &c) })
}

// Refund is a (partial) refund of an order, Amount > 0 minor units; the
// refunds of an order never exceed its amount (ErrConflict).
type Refund struct {
	EventID uint64
	OrderID uint64
	Time    time.Time
	Amount  int64
}

// RecordRefund records a refund.
func (s *Store) RecordRefund(e Refund) (replayed bool, err error) {
	c := C.pd_refund{size: C.sizeof_pd_refund, event_id: C.uint64_t(e.EventID),
		order_id: C.uint64_t(e.OrderID), time: cTime(e.Time), amount: C.int64_t(e.Amount)}
	return s.call("RecordRefund", func(p *C.pd_store) C.pd_status { return C.pd_record_refund(p, &c) })
}

// Referral: Referrer brought Referee (转介绍 / 裂变).
type Referral struct {
	EventID  uint64
	Referrer UserID
	Referee  UserID
	Campaign uint32
	Time     time.Time
}

// RecordReferral records a referral.
func (s *Store) RecordReferral(e Referral) (replayed bool, err error) {
	c := C.pd_referral{size: C.sizeof_pd_referral, event_id: C.uint64_t(e.EventID),
		referrer: C.pd_user_id(e.Referrer), referee: C.pd_user_id(e.Referee),
		campaign: C.uint32_t(e.Campaign), time: cTime(e.Time)}
	return s.call("RecordReferral", func(p *C.pd_store) C.pd_status { return C.pd_record_referral(p, &c) })
}

// Reach is how many people a channel/source reached in [Start, End).
type Reach struct {
	EventID    uint64
	Channel    int32
	Source     uint32
	Start, End time.Time
	Reached    uint64
}

// RecordReach records a reach count.
func (s *Store) RecordReach(e Reach) (replayed bool, err error) {
	c := C.pd_reach{size: C.sizeof_pd_reach, event_id: C.uint64_t(e.EventID),
		channel: C.int32_t(e.Channel), source: C.uint32_t(e.Source),
		period_start: cTime(e.Start), period_end: cTime(e.End), reached: C.uint64_t(e.Reached)}
	return s.call("RecordReach", func(p *C.pd_store) C.pd_status { return C.pd_record_reach(p, &c) })
}

// Cost is money (minor units) spent acquiring users in [Start, End).
type Cost struct {
	EventID    uint64
	Channel    int32
	Source     uint32
	Start, End time.Time
	Amount     int64
}

// RecordCost records an acquisition cost.
func (s *Store) RecordCost(e Cost) (replayed bool, err error) {
	c := C.pd_acquisition_cost{size: C.sizeof_pd_acquisition_cost, event_id: C.uint64_t(e.EventID),
		channel: C.int32_t(e.Channel), source: C.uint32_t(e.Source),
		period_start: cTime(e.Start), period_end: cTime(e.End), amount: C.int64_t(e.Amount)}
	return s.call("RecordCost", func(p *C.pd_store) C.pd_status { return C.pd_record_cost(p, &c) })
}

// GuideBind binds User to Guide from Time on.
type GuideBind struct {
	EventID uint64
	User    UserID
	Guide   uint32
	Time    time.Time
}

// RecordGuideBind records a binding.
func (s *Store) RecordGuideBind(e GuideBind) (replayed bool, err error) {
	c := C.pd_guide_bind{size: C.sizeof_pd_guide_bind, event_id: C.uint64_t(e.EventID),
		user: C.pd_user_id(e.User), guide: C.uint32_t(e.Guide), time: cTime(e.Time)}
	return s.call("RecordGuideBind", func(p *C.pd_store) C.pd_status { return C.pd_record_guide_bind(p, &c) })
}

// GuideHandover hands every user bound to From at Time over to To (离职继承).
type GuideHandover struct {
	EventID  uint64
	From, To uint32
	Time     time.Time
}

// RecordGuideHandover records a handover.
func (s *Store) RecordGuideHandover(e GuideHandover) (replayed bool, err error) {
	c := C.pd_guide_handover{size: C.sizeof_pd_guide_handover, event_id: C.uint64_t(e.EventID),
		from_guide: C.uint32_t(e.From), to_guide: C.uint32_t(e.To), time: cTime(e.Time)}
	return s.call("RecordGuideHandover", func(p *C.pd_store) C.pd_status { return C.pd_record_guide_handover(p, &c) })
}

// GuideDeactivate: Guide stops serving from Time.
type GuideDeactivate struct {
	EventID uint64
	Guide   uint32
	Time    time.Time
}

// RecordGuideDeactivate records a deactivation.
func (s *Store) RecordGuideDeactivate(e GuideDeactivate) (replayed bool, err error) {
	c := C.pd_guide_deactivate{size: C.sizeof_pd_guide_deactivate, event_id: C.uint64_t(e.EventID),
		guide: C.uint32_t(e.Guide), time: cTime(e.Time)}
	return s.call("RecordGuideDeactivate", func(p *C.pd_store) C.pd_status { return C.pd_record_guide_deactivate(p, &c) })
}

// Consent: User granted (Granted = true) or withdrew a purpose.
type Consent struct {
	EventID uint64
	User    UserID
	Purpose int32 // Consent* constant
	Granted bool
	Time    time.Time
}

// RecordConsent records a consent grant or withdrawal.
func (s *Store) RecordConsent(e Consent) (replayed bool, err error) {
	g := C.int32_t(0)
	if e.Granted {
		g = 1
	}
	c := C.pd_consent{size: C.sizeof_pd_consent, event_id: C.uint64_t(e.EventID),
		user: C.pd_user_id(e.User), purpose: C.int32_t(e.Purpose), granted: g, time: cTime(e.Time)}
	return s.call("RecordConsent", func(p *C.pd_store) C.pd_status { return C.pd_record_consent(p, &c) })
}

// UserConsent reports whether user allows purpose at asOf (granted by
// default when nothing is recorded).
func (s *Store) UserConsent(user UserID, purpose int32, asOf time.Time) (bool, error) {
	var g C.int32_t
	_, err := s.call("UserConsent", func(p *C.pd_store) C.pd_status {
		return C.pd_user_consent(p, C.pd_user_id(user), C.int32_t(purpose), cTime(asOf), &g)
	})
	return g != 0, err
}

// ---- contact caps (pressure.h) -------------------------------------------

// ContactPolicy is a brand's contact cap; 0 means no cap for a window.
// DefaultContactPolicy is 1 promotion a day and 2 a week per user.
type ContactPolicy struct {
	PerDay, PerWeek, PerChannelDay, PerChannelWeek uint32
	CountPostExposures                             bool
}

// DefaultContactPolicy is PD_CONTACT_POLICY_INIT.
var DefaultContactPolicy = ContactPolicy{PerDay: 1, PerWeek: 2}

// Contact verdict reasons.
const (
	ContactAllowed    int32 = 0
	ContactDailyCap   int32 = 1
	ContactWeeklyCap  int32 = 2
	ContactChannelCap int32 = 3
	ContactOptedOut   int32 = 4
	ContactUnlinked   int32 = 5
	ContactErased     int32 = 6
)

// ContactReasonName is a short lowercase name of a Contact* reason.
func ContactReasonName(r int32) string {
	names := []string{"allowed", "daily_cap", "weekly_cap", "channel_cap", "opted_out", "unlinked", "erased"}
	if r >= 0 && int(r) < len(names) {
		return names[r]
	}
	return "unknown"
}

// ContactVerdict is the answer of ContactCheck.
type ContactVerdict struct {
	Allowed                             bool
	Reason                              int32 // Contact* constant
	PushesDay, PushesWeek               uint32
	PushesChannelDay, PushesChannelWeek uint32
	// Earliest time the caps allow a push (= the asked time when allowed;
	// zero when no waiting helps: opted out, unlinked, erased).
	Earliest time.Time
}

// ContactCheck tells, before sending user a touch with purpose on channel
// at time at, whether policy (nil = DefaultContactPolicy) allows it and
// why not (pd_contact_check).
func (s *Store) ContactCheck(user UserID, channel, purpose int32, at time.Time,
	policy *ContactPolicy) (ContactVerdict, error) {
	if policy == nil {
		policy = &DefaultContactPolicy
	}
	pol := C.pd_contact_policy{size: C.sizeof_pd_contact_policy, per_day: C.uint32_t(policy.PerDay),
		per_week: C.uint32_t(policy.PerWeek), per_channel_day: C.uint32_t(policy.PerChannelDay),
		per_channel_week: C.uint32_t(policy.PerChannelWeek)}
	if policy.CountPostExposures {
		pol.count_post_exposures = 1
	}
	v := C.pd_contact_verdict{size: C.sizeof_pd_contact_verdict}
	_, err := s.call("ContactCheck", func(p *C.pd_store) C.pd_status {
		return C.pd_contact_check(p, C.pd_user_id(user), C.int32_t(channel), C.int32_t(purpose),
			cTime(at), &pol, &v)
	})
	if err != nil {
		return ContactVerdict{}, err
	}
	return ContactVerdict{v.allowed != 0, int32(v.reason), uint32(v.pushes_day),
		uint32(v.pushes_week), uint32(v.pushes_channel_day), uint32(v.pushes_channel_week),
		goTime(v.earliest)}, nil
}
