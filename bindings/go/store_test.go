package privdomain

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewStore(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wantStatus fails unless err is an *Error with the status, a message and
// the sentinel matching through errors.Is.
func wantStatus(t *testing.T, err error, st Status) *Error {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("want *Error with %v, got %v", st, err)
	}
	if pe.Status != st || !errors.Is(err, st) {
		t.Fatalf("want status %d, got %d (%v)", st, pe.Status, err)
	}
	return pe
}

func TestVersionIsTheLibrarysVersion(t *testing.T) {
	if v := Version(); !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(v) {
		t.Fatalf("version %q", v)
	}
}

func TestEventIDIsStableAndNonZero(t *testing.T) {
	a, b := EventID("receipt:shop42:000193"), EventID("receipt:shop42:000193")
	if a == 0 || a != b || a == EventID("receipt:shop42:000194") {
		t.Fatalf("event ids %x %x", a, b)
	}
}

func TestStatusErrorsUseTheLibrarysText(t *testing.T) {
	if ErrNotFound.Error() == "" || ErrNotFound.Error() == ErrInvalid.Error() {
		t.Fatal("status strings")
	}
}

func TestBadStoreOptionsAreAnErrorNotAPanic(t *testing.T) {
	_, err := NewStore(&StoreOptions{CurrencyExponent: 9})
	wantStatus(t, err, ErrInvalid)
	_, err = NewStore(&StoreOptions{IdentityKey: []byte("short")})
	wantStatus(t, err, ErrInvalid)
	s, err := NewStore(&StoreOptions{ExponentZero: true})
	if err != nil || s.CurrencyExponent() != 0 {
		t.Fatalf("exponent 0: %v", err)
	}
	s.Close()
}

func TestEnsureFindAttachAndMergeFollowTheSurvivor(t *testing.T) {
	s := newStore(t)
	phone, created, err := s.EnsureUser("phone", "+8613800000000")
	if err != nil || !created || phone != 1 {
		t.Fatalf("ensure: %v %v %v", phone, created, err)
	}
	again, created, err := s.EnsureUser("phone", "+8613800000000")
	if err != nil || created || again != phone {
		t.Fatalf("ensure again: %v %v %v", again, created, err)
	}
	wechat, _, _ := s.EnsureUser("wechat.unionid", "o6_bmjrPTlm6")
	// The WeChat member pays at the till with the phone's member card.
	merged, err := s.Attach(wechat, "phone", "+8613800000000")
	if err != nil || merged != phone {
		t.Fatalf("attach merges into the smaller id: %v %v", merged, err)
	}
	if c, _ := s.Canonical(wechat); c != phone {
		t.Fatalf("canonical %v", c)
	}
	if u, _ := s.FindUser("wechat.unionid", "o6_bmjrPTlm6"); u != phone {
		t.Fatalf("find after merge %v", u)
	}
	ids, err := s.Identities(wechat)
	if err != nil || len(ids) != 2 || ids[0] != (Identity{"phone", "+8613800000000"}) ||
		ids[1].Namespace != "wechat.unionid" {
		t.Fatalf("identities %v %v", ids, err)
	}
	third, _, _ := s.EnsureUser("pos.member", "M3")
	if sv, err := s.Merge(third, phone); err != nil || sv != phone {
		t.Fatalf("merge %v %v", sv, err)
	}
	users, err := s.Users()
	if err != nil || len(users) != 1 || users[0] != phone {
		t.Fatalf("users %v %v", users, err)
	}
	st, _ := s.Stats()
	if st.Users != 1 || st.MergedUsers != 2 || st.Identities != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEnsureUsersGivesOneResultPerKeyAsEnsureUserWould(t *testing.T) {
	s := newStore(t)
	if _, _, err := s.EnsureUser("phone", "138"); err != nil {
		t.Fatal(err)
	}
	got, err := s.EnsureUsers("phone", []string{"139", "138", "", "139", "\xff", "140"})
	if err != nil || len(got) != 6 {
		t.Fatalf("ensure users: %v %v", got, err)
	}
	want := []EnsuredUser{{2, true, nil}, {1, false, nil}, {}, {2, false, nil}, {}, {3, true, nil}}
	for i, w := range want {
		if got[i].ID != w.ID || got[i].Created != w.Created {
			t.Fatalf("key %d: %+v, want %+v", i, got[i], w)
		}
	}
	if !errors.Is(got[2].Err, ErrInvalid) || !strings.HasPrefix(got[2].Err.(*Error).Message, "keys[2]: ") {
		t.Fatalf("empty key: %v", got[2].Err)
	}
	if !errors.Is(got[4].Err, ErrUTF8) || got[0].Err != nil {
		t.Fatalf("bad UTF-8: %v / %v", got[4].Err, got[0].Err)
	}
	if u, err := s.FindUser("phone", "140"); err != nil || u != 3 {
		t.Fatalf("find 140: %v %v", u, err)
	}
	if r, err := s.EnsureUsers("phone", nil); r != nil || err != nil {
		t.Fatalf("no keys: %v %v", r, err)
	}
	if r, err := s.EnsureUsers("Bad NS!", []string{"1"}); r != nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad namespace: %v %v", r, err)
	}
	if st, _ := s.Stats(); st.Users != 3 {
		t.Fatalf("users %d", st.Users)
	}
}

func TestUnknownIdentityIsErrNotFoundWithTheLibrarysMessage(t *testing.T) {
	s := newStore(t)
	_, err := s.FindUser("phone", "+86000")
	if pe := wantStatus(t, err, ErrNotFound); pe.Message == "" || pe.Op != "FindUser" {
		t.Fatalf("message %q op %q", pe.Message, pe.Op)
	}
}

func TestBadTextIsAnError(t *testing.T) {
	s := newStore(t)
	_, _, err := s.EnsureUser("", "x")
	wantStatus(t, err, ErrInvalid)
	_, _, err = s.EnsureUser("phone", "bad\xff")
	wantStatus(t, err, ErrUTF8)
	_, _, err = s.EnsureUser("phone", "a\x00b")
	wantStatus(t, err, ErrUTF8)
}

func TestOrdersRefundsAndRetriesCountOnce(t *testing.T) {
	s := newStore(t)
	u, _, _ := s.EnsureUser("pos.member", "M1")
	o := Order{EventID: EventID("order:1"), OrderID: 1, User: u, Time: t0, Amount: 29900,
		Channel: ChannelStore}
	if replayed, err := s.RecordOrder(o); err != nil || replayed {
		t.Fatal(replayed, err)
	}
	if replayed, err := s.RecordOrder(o); err != nil || !replayed {
		t.Fatalf("a retried order is replayed: %v %v", replayed, err)
	}
	other := o
	other.Amount = 100
	_, err := s.RecordOrder(other)
	wantStatus(t, err, ErrDuplicate)
	r := Refund{EventID: EventID("refund:1"), OrderID: 1, Time: t0.Add(time.Hour), Amount: 9900}
	if _, err := s.RecordRefund(r); err != nil {
		t.Fatal(err)
	}
	r2 := Refund{EventID: EventID("refund:2"), OrderID: 1, Time: t0.Add(2 * time.Hour), Amount: 20001}
	_, err = s.RecordRefund(r2)
	wantStatus(t, err, ErrConflict)
	_, err = s.RecordOrder(Order{EventID: 9, OrderID: 2, User: u, Time: t0, Amount: -1})
	wantStatus(t, err, ErrRange)
	_, err = s.RecordOrder(Order{EventID: 10, OrderID: 3, User: u, Time: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantStatus(t, err, ErrRange)
	info, err := s.User(u, t0.Add(24*time.Hour))
	if err != nil || info.Orders != 1 || info.Revenue != 20000 || info.Refunded != 9900 ||
		!info.FirstPurchase.Equal(t0) || !info.LastPurchase.Equal(t0) {
		t.Fatalf("user info %+v %v", info, err)
	}
	before, _ := s.User(u, t0.Add(-time.Hour))
	if before.Orders != 0 || !before.FirstPurchase.IsZero() {
		t.Fatalf("as_of ignores later events: %+v", before)
	}
}

func TestLinksUnlinksAndLinkState(t *testing.T) {
	s := newStore(t)
	u, _, _ := s.EnsureUser("wecom.external_userid", "wm1")
	src, err := s.EnsureLabel(LabelSource, "store_qr:shop42")
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := s.LabelName(LabelSource, src); name != "store_qr:shop42" {
		t.Fatalf("label name %q", name)
	}
	if _, err := s.RecordLink(Link{EventID: 1, User: u, Channel: ChannelWeCom, Source: src, Time: t0}); err != nil {
		t.Fatal(err)
	}
	ls, err := s.LinkState(u, ChannelWeCom, t0.Add(time.Hour))
	if err != nil || !ls.Linked || ls.Links != 1 || ls.Source != src || !ls.LinkedSince.Equal(t0) {
		t.Fatalf("linked %+v %v", ls, err)
	}
	if _, err := s.RecordUnlink(Unlink{EventID: 2, User: u, Channel: ChannelWeCom,
		Initiator: UnlinkUserDeleted, Time: t0.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Links(u, t0.Add(72*time.Hour))
	if err != nil || len(all) != 1 || all[0].Linked || all[0].LastInitiator != UnlinkUserDeleted ||
		!all[0].LastUnlinked.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("links %+v %v", all, err)
	}
	_, err = s.RecordUnlink(Unlink{EventID: 3, User: u, Channel: ChannelWeCom, Initiator: 99, Time: t0})
	wantStatus(t, err, ErrInvalid)
	_, err = s.RecordLink(Link{EventID: 4, User: 77, Channel: ChannelWeCom, Time: t0})
	wantStatus(t, err, ErrNotFound)
}

func TestChannelsAndLabels(t *testing.T) {
	s := newStore(t)
	if id, err := s.FindChannel("wecom"); err != nil || id != ChannelWeCom {
		t.Fatalf("wecom %v %v", id, err)
	}
	id, err := s.RegisterChannel("xiaohongshu", Private)
	if err != nil || id < 1024 {
		t.Fatalf("register %v %v", id, err)
	}
	if name, kind, err := s.ChannelInfo(id); err != nil || name != "xiaohongshu" || kind != Private {
		t.Fatalf("info %q %v %v", name, kind, err)
	}
	_, err = s.RegisterChannel("xiaohongshu", Public)
	wantStatus(t, err, ErrDuplicate)
	_, err = s.FindLabel(LabelCampaign, "618")
	wantStatus(t, err, ErrNotFound)
}

func TestEveryOtherRecordKind(t *testing.T) {
	s := newStore(t)
	a, _, _ := s.EnsureUser("pos.member", "A")
	b, _, _ := s.EnsureUser("pos.member", "B")
	camp, _ := s.EnsureLabel(LabelCampaign, "618-flash-group")
	if _, err := s.RecordTouchpoint(Touchpoint{EventID: 1, User: a, Kind: TouchBroadcast,
		Purpose: PurposePromotion, Channel: ChannelWeCom, Campaign: camp, Time: t0}); err != nil {
		t.Fatal(err)
	}
	_, err := s.RecordTouchpoint(Touchpoint{EventID: 2, User: a, Kind: TouchBroadcast, Time: t0})
	wantStatus(t, err, ErrInvalid) // a broadcast needs a purpose
	if _, err := s.RecordReferral(Referral{EventID: 3, Referrer: a, Referee: b, Campaign: camp, Time: t0}); err != nil {
		t.Fatal(err)
	}
	_, err = s.RecordReferral(Referral{EventID: 4, Referrer: b, Referee: a, Time: t0})
	wantStatus(t, err, ErrConflict) // a cycle
	if _, err := s.RecordReach(Reach{EventID: 5, Channel: ChannelWeCom, Start: t0,
		End: t0.Add(24 * time.Hour), Reached: 1000}); err != nil {
		t.Fatal(err)
	}
	_, err = s.RecordReach(Reach{EventID: 6, Channel: ChannelWeCom, Start: t0, End: t0, Reached: 1})
	wantStatus(t, err, ErrRange)
	if _, err := s.RecordCost(Cost{EventID: 7, Channel: ChannelWeCom, Start: t0,
		End: t0.Add(24 * time.Hour), Amount: 50000}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordConsent(Consent{EventID: 8, User: a, Purpose: ConsentMarketing, Time: t0}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.UserConsent(a, ConsentMarketing, t0); err != nil || g {
		t.Fatalf("withdrawn: %v %v", g, err)
	}
	if g, _ := s.UserConsent(b, ConsentMarketing, t0); !g {
		t.Fatal("granted by default")
	}
	st, _ := s.Stats()
	if st.Touchpoints != 1 || st.Referrals != 1 || st.ReachRecords != 1 || st.CostRecords != 1 {
		t.Fatalf("stats %+v", st)
	}
	if info, _ := s.User(b, t0); info.Referrer != a {
		t.Fatalf("referrer %v", info.Referrer)
	}
}

func TestGuidesBindHandOverAndDeactivate(t *testing.T) {
	s := newStore(t)
	shop, _ := s.EnsureLabel(LabelShop, "shop42")
	g1, err := s.EnsureGuide("S001", shop)
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := s.EnsureGuide("S002", shop)
	if f, _ := s.FindGuide("S002"); f != g2 {
		t.Fatal("find guide")
	}
	u, _, _ := s.EnsureUser("pos.member", "M1")
	if _, err := s.RecordGuideBind(GuideBind{EventID: 1, User: u, Guide: g1, Time: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordGuideHandover(GuideHandover{EventID: 2, From: g1, To: g2,
		Time: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordGuideDeactivate(GuideDeactivate{EventID: 3, Guide: g1,
		Time: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	info, _ := s.User(u, t0.Add(3*time.Hour))
	if info.Guide != g2 {
		t.Fatalf("handed over to %v", info.Guide)
	}
	gi, err := s.Guide(g1, t0.Add(3*time.Hour))
	if err != nil || gi.Active || gi.Code != "S001" || gi.UsersBound != 0 ||
		!gi.Deactivated.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("guide %+v %v", gi, err)
	}
	_, err = s.RecordGuideBind(GuideBind{EventID: 4, User: u, Guide: g1, Time: t0.Add(3 * time.Hour)})
	wantStatus(t, err, ErrConflict)
}

func TestEraseRemovesTheMemberAndRefusesLaterEvents(t *testing.T) {
	s := newStore(t)
	u, _, _ := s.EnsureUser("phone", "+8613900000000")
	s.RecordOrder(Order{EventID: 1, OrderID: 1, User: u, Time: t0, Amount: 100})
	if err := s.Erase(u); err != nil {
		t.Fatal(err)
	}
	_, err := s.FindUser("phone", "+8613900000000")
	wantStatus(t, err, ErrNotFound)
	_, err = s.RecordOrder(Order{EventID: 2, OrderID: 2, User: u, Time: t0, Amount: 100})
	wantStatus(t, err, ErrErased)
	if st, _ := s.Stats(); st.Orders != 0 || st.ErasedUsers != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestContactCheckAppliesTheCapsConsentAndLink(t *testing.T) {
	s := newStore(t)
	u, _, _ := s.EnsureUser("wecom.external_userid", "wm1")
	v, err := s.ContactCheck(u, ChannelWeCom, PurposePromotion, t0, nil)
	if err != nil || v.Allowed || v.Reason != ContactUnlinked || !v.Earliest.IsZero() {
		t.Fatalf("unlinked %+v %v", v, err)
	}
	s.RecordLink(Link{EventID: 1, User: u, Channel: ChannelWeCom, Time: t0})
	v, _ = s.ContactCheck(u, ChannelWeCom, PurposePromotion, t0.Add(time.Hour), nil)
	if !v.Allowed || v.Reason != ContactAllowed {
		t.Fatalf("allowed %+v", v)
	}
	push := t0.Add(2 * time.Hour)
	s.RecordTouchpoint(Touchpoint{EventID: 2, User: u, Kind: TouchOutbound1to1,
		Purpose: PurposePromotion, Channel: ChannelWeCom, Time: push})
	v, _ = s.ContactCheck(u, ChannelWeCom, PurposePromotion, push.Add(time.Hour), nil)
	if v.Allowed || v.Reason != ContactDailyCap || v.PushesDay != 1 ||
		!v.Earliest.Equal(push.Add(24*time.Hour)) {
		t.Fatalf("daily cap %+v (earliest %v)", v, v.Earliest)
	}
	// Service messages are not capped; a looser policy allows the push.
	if v, _ = s.ContactCheck(u, ChannelWeCom, PurposeService, push.Add(time.Hour), nil); !v.Allowed {
		t.Fatalf("service %+v", v)
	}
	if v, _ = s.ContactCheck(u, ChannelWeCom, PurposePromotion, push.Add(time.Hour),
		&ContactPolicy{PerDay: 2}); !v.Allowed {
		t.Fatalf("per_day 2 %+v", v)
	}
	s.RecordConsent(Consent{EventID: 3, User: u, Purpose: ConsentMarketing, Time: push})
	if v, _ = s.ContactCheck(u, ChannelWeCom, PurposePromotion, push.Add(48*time.Hour), nil); v.Reason != ContactOptedOut {
		t.Fatalf("opted out %+v", v)
	}
	_, err = s.ContactCheck(u, ChannelWeCom, PurposeNone, t0, nil)
	wantStatus(t, err, ErrInvalid)
	_, err = s.ContactCheck(99, ChannelWeCom, PurposeService, t0, nil)
	wantStatus(t, err, ErrNotFound)
	if ContactReasonName(ContactDailyCap) != "daily_cap" {
		t.Fatal("reason name")
	}
}

func TestAClosedStoreIsAnErrorNotACrash(t *testing.T) {
	s, _ := NewStore(nil)
	s.Close()
	s.Close()
	_, _, err := s.EnsureUser("phone", "1")
	wantStatus(t, err, ErrMisuse)
}

func TestConcurrentRecordingFromGoroutines(t *testing.T) {
	s := newStore(t)
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				u, _, e := s.EnsureUser("pos.member", string(rune('A'+g)))
				if e != nil {
					err = e
					break
				}
				_, err = s.RecordOrder(Order{EventID: uint64(g*1000 + i + 1),
					OrderID: uint64(g*1000 + i + 1), User: u, Time: t0, Amount: 1})
			}
			done <- err
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := s.Stats(); st.Orders != 800 || st.Users != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func BenchmarkRecordOrder(b *testing.B) {
	s, _ := NewStore(nil)
	defer s.Close()
	u, _, _ := s.EnsureUser("pos.member", "M1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.RecordOrder(Order{EventID: uint64(i + 1), OrderID: uint64(i + 1), User: u,
			Time: t0, Amount: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContactCheck(b *testing.B) {
	s, _ := NewStore(nil)
	defer s.Close()
	u, _, _ := s.EnsureUser("pos.member", "M1")
	s.RecordLink(Link{EventID: 1, User: u, Channel: ChannelWeCom, Time: t0})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.ContactCheck(u, ChannelWeCom, PurposePromotion, t0, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReserveMakesRoomAndChecksTheKind(t *testing.T) {
	s := newStore(t)
	if err := s.Reserve(EventTouchpoint, 1000); err != nil {
		t.Fatal(err)
	}
	if err := s.Reserve(ReserveUsers, 500); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.Reserve(99, 10), ErrInvalid)
	wantStatus(t, s.Reserve(ReserveUsers, 1<<32), ErrFull)
	if st, _ := s.Stats(); st.Users != 0 || st.Touchpoints != 0 {
		t.Fatalf("a reservation records nothing: %+v", st)
	}
}

func TestSpareLimitIsCheckedAndANewStoreKeepsNothing(t *testing.T) {
	s := newStore(t)
	for _, n := range []int64{0, SpareAuto, 1 << 40} {
		if err := s.SetSpareLimit(n); err != nil {
			t.Fatalf("set %d: %v", n, err)
		}
	}
	wantStatus(t, s.SetSpareLimit(-2), ErrInvalid)
	st, err := s.Stats()
	if err != nil || st.SpareBytes != 0 {
		t.Fatalf("spare %d, %v", st.SpareBytes, err)
	}
}

func TestThreadsAreSetAndReadBack(t *testing.T) {
	s := newStore(t)
	if s.Threads() != 1 {
		t.Fatalf("default %d", s.Threads())
	}
	for _, n := range []int32{2, AllThreads, 64, 1} {
		if err := s.SetThreads(n); err != nil || s.Threads() != n {
			t.Fatalf("set %d: got %d, %v", n, s.Threads(), err)
		}
	}
	wantStatus(t, s.SetThreads(65), ErrInvalid)
}
