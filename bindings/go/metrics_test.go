package privdomain

import (
	"testing"
	"time"
)

const day = 24 * time.Hour

// Two WeCom friends out of 10 reached: A buys on days 0, 10 and 15, B
// once and deletes the brand on day 5.
func metricsStore(t *testing.T) (*Store, UserID, UserID) {
	s := newStore(t)
	a, _, _ := s.EnsureUser("pos.member", "A")
	b, _, _ := s.EnsureUser("pos.member", "B")
	s.RecordReach(Reach{EventID: 1, Channel: ChannelWeCom, Start: t0.Add(-day), End: t0, Reached: 10})
	for i, u := range []UserID{a, b} {
		if _, err := s.RecordLink(Link{EventID: uint64(10 + i), User: u, Channel: ChannelWeCom,
			Time: t0.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	orders := []Order{
		{EventID: 20, OrderID: 1, User: a, Time: t0, Amount: 100},
		{EventID: 21, OrderID: 2, User: a, Time: t0.Add(10 * day), Amount: 200},
		{EventID: 22, OrderID: 3, User: a, Time: t0.Add(15 * day), Amount: 300},
		{EventID: 23, OrderID: 4, User: b, Time: t0, Amount: 500},
	}
	for _, o := range orders {
		if _, err := s.RecordOrder(o); err != nil {
			t.Fatal(err)
		}
	}
	s.RecordUnlink(Unlink{EventID: 30, User: b, Channel: ChannelWeCom, Initiator: UnlinkUserDeleted,
		Time: t0.Add(5 * day)})
	return s, a, b
}

func TestRepurchaseFigures(t *testing.T) {
	s, _, _ := metricsStore(t)
	rows, err := s.Repurchase(Filter{AsOf: t0.Add(40 * day)}, ByAll)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%v %v", rows, err)
	}
	r := rows[0]
	if r.Buyers != 2 || r.RepeatBuyers != 1 || r.Purchases != 4 || r.Revenue != 1100 ||
		r.RepurchaseRate != 0.5 || r.AverageOrderValue != 275 || r.Intervals != 2 ||
		r.IntervalMeanDays != 7.5 || r.TrendBuyers != 1 || r.ShorteningBuyers != 1 {
		t.Fatalf("repurchase %+v", r)
	}
}

func TestFunnelLinkRateAndConversion(t *testing.T) {
	s, _, _ := metricsStore(t)
	rows, err := s.Funnel(Filter{AsOf: t0.Add(40 * day)}, ByChannel, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wecom *FunnelRow
	for i := range rows {
		if rows[i].Key == int64(ChannelWeCom) {
			wecom = &rows[i]
		}
	}
	if wecom == nil || wecom.Reached != 10 || wecom.Linked != 2 || wecom.LinkRate != 0.2 ||
		wecom.Converted != 2 || wecom.Repeat != 1 || wecom.RepeatRate != 0.5 {
		t.Fatalf("funnel %+v", rows)
	}
	_, err = s.Funnel(Filter{AsOf: t0, Channel: 999}, ByAll, 0)
	wantStatus(t, err, ErrNotFound)
}

func TestLinkRetentionCohortTable(t *testing.T) {
	s, _, _ := metricsStore(t)
	cells, err := s.LinkRetention(Filter{AsOf: t0.Add(40 * day)}, ChannelWeCom, CohortMonth, 1)
	if err != nil || len(cells) != 2 {
		t.Fatalf("%+v %v", cells, err)
	}
	if cells[0].Period != 0 || cells[0].Rate != 1 || cells[1].Period != 1 ||
		cells[1].CohortSize != 2 || cells[1].Observed != 2 || cells[1].Retained != 1 || cells[1].Rate != 0.5 {
		t.Fatalf("cells %+v", cells)
	}
	_, err = s.LinkRetention(Filter{AsOf: t0}, ChannelWeCom, 99, 1)
	wantStatus(t, err, ErrInvalid)
}

func TestTrustStaysInItsRanges(t *testing.T) {
	s, a, _ := metricsStore(t)
	tr, err := s.Trust(a, 0, t0.Add(40*day))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []float64{tr.Expertise, tr.Reliability, tr.Intimacy, tr.SelfOrientation} {
		if c < 1 || c > 10 {
			t.Fatalf("component out of 1–10: %+v", tr)
		}
	}
	if tr.Score < 0 || tr.Score > 100 {
		t.Fatalf("score %+v", tr)
	}
	_, err = s.Trust(999, 0, t0)
	wantStatus(t, err, ErrNotFound)
}

func TestUnlinkRateCountsTheDeletion(t *testing.T) {
	s, _, _ := metricsStore(t)
	r, err := s.UnlinkRate(Filter{AsOf: t0.Add(40 * day)}, ChannelWeCom, t0.Add(-day), t0.Add(30*day))
	if err != nil || r.Base != 2 || r.UserUnlinks != 1 || r.StaffUnlinks != 0 || r.Rate != 0.5 {
		t.Fatalf("%+v %v", r, err)
	}
	_, err = s.UnlinkRate(Filter{AsOf: t0}, ChannelWeCom, t0, t0)
	wantStatus(t, err, ErrRange)
}

func TestReferralStatsKFactor(t *testing.T) {
	s, a, b := metricsStore(t)
	c, _, _ := s.EnsureUser("pos.member", "C")
	s.RecordReferral(Referral{EventID: 40, Referrer: a, Referee: c, Time: t0.Add(day)})
	r, err := s.ReferralStats(Filter{AsOf: t0.Add(40 * day)}, t0, t0.Add(30*day))
	if err != nil || r.Referrals != 1 || r.Referrers != 1 || r.MaxDepth != 1 || r.LargestTree != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	// Linked at the window's start: A and B; one referral → K = 1/2.
	if r.Base != 2 || r.KFactor != 0.5 {
		t.Fatalf("k-factor %+v (b=%d)", r, b)
	}
}

func TestClusterChangesNoAnswer(t *testing.T) {
	s, a, b := metricsStore(t)
	for i := 0; i < 40; i++ {
		u := a
		if i%2 == 1 {
			u = b
		}
		if _, err := s.RecordTouchpoint(Touchpoint{EventID: uint64(100 + i), User: u,
			Kind: TouchBroadcast, Purpose: PurposePromotion, Channel: ChannelWeCom,
			Time: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	f := Filter{AsOf: t0.Add(48 * time.Hour)}
	before, err := s.PressureStats(f, 7*day, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Cluster(); err != nil {
		t.Fatal(err)
	}
	after, err := s.PressureStats(f, 7*day, nil)
	if err != nil || after != before {
		t.Fatalf("%+v != %+v (%v)", after, before, err)
	}
	replayed, err := s.RecordTouchpoint(Touchpoint{EventID: 103, User: b,
		Kind: TouchBroadcast, Purpose: PurposePromotion, Channel: ChannelWeCom,
		Time: t0.Add(3 * time.Hour)})
	if err != nil || !replayed {
		t.Fatalf("replay after clustering: %v %v", replayed, err)
	}
}

func TestPressureStatsCountsOverCapPushes(t *testing.T) {
	s, a, _ := metricsStore(t)
	for i := 0; i < 2; i++ {
		s.RecordTouchpoint(Touchpoint{EventID: uint64(50 + i), User: a, Kind: TouchBroadcast,
			Purpose: PurposePromotion, Channel: ChannelWeCom, Time: t0.Add(time.Duration(i) * time.Hour)})
	}
	r, err := s.PressureStats(Filter{AsOf: t0.Add(2 * time.Hour)}, 7*day, nil)
	if err != nil || r.Users != 2 || r.Pushes != 2 || r.Max != 2 || r.Mean != 1 ||
		r.OverCapPushes != 1 || r.UsersOverCap != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	_, err = s.PressureStats(Filter{AsOf: t0}, 0, nil)
	wantStatus(t, err, ErrRange)
}
