package privdomain

import (
	"math"
	"testing"
	"time"
)

func TestMemberValuesFitAndPredict(t *testing.T) {
	s := newStore(t)
	// 60 members: member i buys every (i%5+1)*7 days from day i%10, for
	// 200 days; spend per member around its own level, varying per order
	// (a fixed pseudo-random sequence).
	ev := uint64(1)
	rng := uint64(88172645463325252)
	next := func() float64 {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return float64(rng>>11) / (1 << 53)
	}
	for i := 0; i < 60; i++ {
		u, _, _ := s.EnsureUser("pos.member", string(rune('a'+i%26))+string(rune('A'+i/26)))
		step := (i%5 + 1) * 7
		level := 2000 + 30000*next()*next()
		for d := i % 10; d < 200; d += step {
			if _, err := s.RecordOrder(Order{EventID: ev, OrderID: ev, User: u,
				Time: t0.Add(time.Duration(d) * day), Amount: int64(level * (0.3 + 1.4*next()))}); err != nil {
				t.Fatal(err)
			}
			ev++
		}
	}
	end := t0.Add(210 * day)
	vals, err := s.MemberValues(Filter{AsOf: end}, end, UnitWeek)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 60 || vals[0].User != 1 || vals[59].User != 60 {
		t.Fatalf("%d rows", len(vals))
	}
	for _, v := range vals {
		if !(v.PAlive >= 0 && v.PAlive <= 1) || !(v.CLV > 0) || math.IsInf(v.CLV, 0) || !(v.ExpectedSpend > 0) {
			t.Fatalf("implausible %+v", v)
		}
	}
	// Member 1 buys weekly, member 5 every five weeks: more purchases ahead.
	if !(vals[0].ExpectedPurchases > vals[4].ExpectedPurchases) {
		t.Fatalf("weekly %+v vs five-weekly %+v", vals[0], vals[4])
	}
	_, err = s.MemberValues(Filter{AsOf: end}, end, 9)
	wantStatus(t, err, ErrInvalid)
	_, err = s.MemberValues(Filter{AsOf: t0.Add(-day)}, t0.Add(-day), UnitDay)
	wantStatus(t, err, ErrInvalid) // nobody had bought yet: nothing to fit
}

func TestFollowupPlanListsAfterSalesCheckIns(t *testing.T) {
	s, a, _ := metricsStore(t)
	// A's last purchase is day 15; three days later is the after-sales call.
	items, err := s.FollowupPlan(Filter{AsOf: t0.Add(18*day + time.Hour)}, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].User != a || items[0].Reason != FollowupAfterSales ||
		items[0].Channel != ChannelWeCom || items[0].Rank != 1 ||
		!items[0].LastPurchase.Equal(t0.Add(15*day)) {
		t.Fatalf("plan %+v", items)
	}
	_, err = s.FollowupPlan(Filter{AsOf: t0}, 0)
	wantStatus(t, err, ErrInvalid)
}
