package privdomain

/*
#include <stdint.h>
#include <privdomain/privdomain.h>

extern int pdgoFollowup(uintptr_t h, pd_followup_item *item);

static int pdgo_followup_tramp(void *u, const pd_followup_item *it) {
  return pdgoFollowup((uintptr_t)u, (pd_followup_item *)it);
}
static pd_status pdgo_followup_plan(pd_store *s, const pd_store_summary *v,
                                    const pd_metrics_filter *f,
                                    uint32_t capacity, uintptr_t h) {
  pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
  o.guide_capacity = capacity;
  return pd_followup_plan(s, v, f, &o, pdgo_followup_tramp, (void *)h);
}
// The summary spec is built here (C macros); predictions follow in Go.
static pd_status pdgo_values(pd_store *s, const pd_metrics_filter *f,
                             int64_t calibration_end, int32_t unit,
                             pd_store_summary **out) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = calibration_end;
  spec.unit = unit;
  return pd_store_summary_new(s, f, &spec, out);
}
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"
)

// MemberValue is one member's predicted value (store_summary.h).
type MemberValue struct {
	User              UserID
	PAlive            float64
	ExpectedPurchases float64 // repeat purchase days in the next 52 units
	ExpectedSpend     float64 // major units (yuan)
	CLV               float64 // 12 months at 1% a month, major units (yuan)
}

// Summary units.
const (
	UnitDay  int32 = 1
	UnitWeek int32 = 2
)

// MemberValues summarises the orders of the members passing f up to
// calibrationEnd in unit (UnitDay or UnitWeek), fits BG/NBD and
// Gamma-Gamma on them and returns each member's P(alive), expected
// purchases, expected spend and CLV, in increasing user id.
func (s *Store) MemberValues(f Filter, calibrationEnd time.Time, unit int32) ([]MemberValue, error) {
	cf := f.c()
	var h *C.pd_store_summary
	if _, err := s.call("MemberValues", func(p *C.pd_store) C.pd_status {
		return C.pdgo_values(p, &cf, cTime(calibrationEnd), C.int32_t(unit), &h)
	}); err != nil {
		return nil, err
	}
	defer C.pd_store_summary_free(h)
	fail := func(st C.pd_status) error {
		return &Error{Op: "MemberValues", Status: Status(st), Message: C.GoString(C.pd_store_summary_errmsg(h))}
	}
	if st := C.pd_store_summary_predict(h, nil); st < 0 {
		return nil, fail(st)
	}
	n := int(C.pd_store_summary_rows(h))
	var users *C.pd_user_id
	if st := C.pd_store_summary_users(h, &users); st < 0 {
		return nil, fail(st)
	}
	cols := make([]*C.double, 5)
	for c := 1; c <= 4; c++ {
		if st := C.pd_store_summary_column(h, C.int32_t(c), &cols[c]); st < 0 {
			return nil, fail(st)
		}
	}
	out := make([]MemberValue, n)
	if n == 0 {
		return out, nil
	}
	u := unsafe.Slice(users, n)
	pa, ep := unsafe.Slice(cols[1], n), unsafe.Slice(cols[2], n)
	es, clv := unsafe.Slice(cols[3], n), unsafe.Slice(cols[4], n)
	for i := range out {
		out[i] = MemberValue{UserID(u[i]), float64(pa[i]), float64(ep[i]), float64(es[i]), float64(clv[i])}
	}
	return out, nil
}

// Follow-up reasons (followup.h).
const (
	FollowupRepurchaseDue int32 = 1
	FollowupWinBack       int32 = 2
	FollowupAfterSales    int32 = 3
	FollowupKeyCustomer   int32 = 4
)

// FollowupItem is one member on a guide's list for the day (日常维护).
type FollowupItem struct {
	Guide        uint32 // 0 = unassigned
	Rank         uint32
	User         UserID
	Reason       int32 // Followup* constant
	Channel      int32 // private channel to use
	Value        float64
	PAlive       float64
	ValueAtRisk  float64
	LastPurchase time.Time
}

// FollowupPlan lists, per guide, at most guideCapacity members to contact
// on the day ending at f.AsOf and why, ranked by spend to date (no model
// predictions: reasons AFTER_SALES and REPURCHASE_DUE only).
func (s *Store) FollowupPlan(f Filter, guideCapacity uint32) ([]FollowupItem, error) {
	cf := f.c()
	var out []FollowupItem
	h := cgo.NewHandle(func(it FollowupItem) { out = append(out, it) })
	defer h.Delete()
	_, err := s.call("FollowupPlan", func(p *C.pd_store) C.pd_status {
		return C.pdgo_followup_plan(p, nil, &cf, C.uint32_t(guideCapacity), C.uintptr_t(h))
	})
	return out, err
}
