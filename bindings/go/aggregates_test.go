package privdomain

import (
	"bytes"
	"math"
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	chainStart = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	chainAsOf  = chainStart.Add(120 * day)
)

const chainShards = 3

const (
	evLink = iota
	evUnlink
	evOrder
	evReferral
)

type chainEvent struct {
	u, kind int
	channel int32
	t       time.Time
	amount  int64
	referee int
}

// chainEvents is a small synthetic chain of n users: links on WeCom or
// WeChat, some unlinks, 0–4 orders, and referrals only between users of
// the same shard (index modulo chainShards).
func chainEvents(n int) []chainEvent {
	r := rand.New(rand.NewSource(5))
	var out []chainEvent
	for u := 0; u < n; u++ {
		lt := chainStart.Add(time.Duration(r.Int63n(int64(100 * day))))
		ch := ChannelWeCom
		if r.Intn(2) == 0 {
			ch = ChannelWeChat
		}
		out = append(out, chainEvent{u: u, kind: evLink, channel: ch, t: lt})
		if r.Float64() < 0.3 {
			out = append(out, chainEvent{u: u, kind: evUnlink, channel: ch,
				t: lt.Add(time.Second + time.Duration(r.Int63n(int64(40*day))))})
		}
		for k := r.Intn(5); k > 0; k-- {
			out = append(out, chainEvent{u: u, kind: evOrder,
				t: lt.Add(time.Duration(r.Int63n(int64(60 * day)))), amount: 100 + r.Int63n(20000)})
		}
		if r.Float64() < 0.1 && u+chainShards < n {
			out = append(out, chainEvent{u: u, kind: evReferral, referee: u + chainShards, t: lt.Add(day)})
		}
	}
	return out
}

// buildChainStore records the events of the users of shard (every user
// for shard < 0). Reach is recorded on shard 0 and cost on shard 1 (and
// both on the whole store), so that their sums are what the whole holds.
func buildChainStore(t *testing.T, evs []chainEvent, n, shard int) *Store {
	t.Helper()
	s := newStore(t)
	ids := map[int]UserID{}
	for u := 0; u < n; u++ {
		if shard < 0 || u%chainShards == shard {
			id, _, err := s.EnsureUser("member", strconv.Itoa(u))
			if err != nil {
				t.Fatal(err)
			}
			ids[u] = id
		}
	}
	must := func(_ bool, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if shard <= 0 {
		must(s.RecordReach(Reach{EventID: 1, Channel: ChannelWeCom, Start: chainStart,
			End: chainStart.Add(100 * day), Reached: 1000}))
	}
	if shard < 0 || shard == 1 {
		must(s.RecordCost(Cost{EventID: 2, Channel: ChannelWeCom, Start: chainStart,
			End: chainStart.Add(100 * day), Amount: 500000}))
	}
	for k, e := range evs {
		id, ok := ids[e.u]
		if !ok {
			continue
		}
		ev := uint64(100 + k)
		switch e.kind {
		case evLink:
			must(s.RecordLink(Link{EventID: ev, User: id, Channel: e.channel, Time: e.t}))
		case evUnlink:
			must(s.RecordUnlink(Unlink{EventID: ev, User: id, Channel: e.channel,
				Initiator: UnlinkUserDeleted, Time: e.t}))
		case evOrder:
			must(s.RecordOrder(Order{EventID: ev, OrderID: ev, User: id, Time: e.t, Amount: e.amount}))
		case evReferral:
			must(s.RecordReferral(Referral{EventID: ev, Referrer: id, Referee: ids[e.referee], Time: e.t}))
		}
	}
	return s
}

type chain struct {
	evs    []chainEvent
	whole  *Store
	shards []*Store
}

func newChain(t *testing.T) chain {
	const n = 400
	c := chain{evs: chainEvents(n)}
	c.whole = buildChainStore(t, c.evs, n, -1)
	for k := 0; k < chainShards; k++ {
		c.shards = append(c.shards, buildChainStore(t, c.evs, n, k))
	}
	return c
}

func saveAggregate(t *testing.T, a *Aggregate) []byte {
	t.Helper()
	b, err := a.Save()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func computeAggregate(t *testing.T, s *Store, kind int32, opts *AggregateOptions) *Aggregate {
	t.Helper()
	a, err := s.ComputeAggregate(kind, Filter{AsOf: chainAsOf}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// merged is every shard's aggregate shipped as bytes, loaded and merged
// in the given shard order; it also checks the result saves to the bytes
// of the aggregate of the whole store.
func (c chain) merged(t *testing.T, kind int32, opts *AggregateOptions, order ...int) *Aggregate {
	t.Helper()
	var blobs [][]byte
	for _, k := range order {
		blobs = append(blobs, saveAggregate(t, computeAggregate(t, c.shards[k], kind, opts)))
	}
	m, err := LoadAggregate(blobs[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, b := range blobs[1:] {
		o, err := LoadAggregate(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Merge(o); err != nil {
			t.Fatal(err)
		}
		o.Close()
	}
	if m.Kind() != kind {
		t.Fatalf("kind %d, want %d", m.Kind(), kind)
	}
	one := computeAggregate(t, c.whole, kind, opts)
	if !bytes.Equal(saveAggregate(t, m), saveAggregate(t, one)) {
		t.Fatalf("kind %d: merged shards do not save to the bytes of one store", kind)
	}
	return m
}

func relClose(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)+1e-12
}

func TestAggregateFunnelOfShardsIsTheFunnelOfOneStore(t *testing.T) {
	c := newChain(t)
	opts := &AggregateOptions{GroupBy: ByChannel}
	m := c.merged(t, AggregateFunnel, opts, 0, 1, 2)
	c.merged(t, AggregateFunnel, opts, 2, 0, 1) // any order, same bytes
	got, err := m.FunnelRows()
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.whole.Funnel(Filter{AsOf: chainAsOf}, ByChannel, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) < 2 {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !relClose(g.DaysToFirstPurchaseMedian, w.DaysToFirstPurchaseMedian, 0.01) ||
			!relClose(g.DaysToFirstPurchaseMean, w.DaysToFirstPurchaseMean, 1e-12) {
			t.Fatalf("days to first purchase %+v want %+v", g, w)
		}
		g.DaysToFirstPurchaseMedian, g.DaysToFirstPurchaseMean = 0, 0
		w.DaysToFirstPurchaseMedian, w.DaysToFirstPurchaseMean = 0, 0
		if g != w {
			t.Fatalf("row %d: %+v want %+v", i, g, w)
		}
	}
	var wecom FunnelRow
	for _, r := range got {
		if r.Key == int64(ChannelWeCom) {
			wecom = r
		}
	}
	if wecom.Reached != 1000 || wecom.Cost != 500000 || wecom.Referrers == 0 {
		t.Fatalf("reach, cost and referrers of every shard: %+v", wecom)
	}
}

func TestAggregateCohortTableOfShardsIsTheTableOfOneStore(t *testing.T) {
	c := newChain(t)
	opts := &AggregateOptions{CohortUnit: CohortWeek, Periods: 8}
	m := c.merged(t, AggregateLinkCohorts, opts, 0, 1, 2)
	got, err := m.LinkRetentionRows()
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.whole.LinkRetention(Filter{AsOf: chainAsOf}, 0, CohortWeek, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 20 || !reflect.DeepEqual(got, want) {
		t.Fatalf("cohort table of %d cells differs from one store's %d", len(got), len(want))
	}
}

func TestAggregateRepurchaseOfShardsIsTheFiguresOfOneStore(t *testing.T) {
	c := newChain(t)
	opts := &AggregateOptions{GroupBy: ByAll}
	m := c.merged(t, AggregateRepurchase, opts, 1, 2, 0)
	got, err := m.RepurchaseRows()
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.whole.Repurchase(Filter{AsOf: chainAsOf}, ByAll)
	if err != nil || len(got) != 1 || len(want) != 1 {
		t.Fatalf("%v %v %v", got, want, err)
	}
	g, w := got[0], want[0]
	if !relClose(g.IntervalMedianDays, w.IntervalMedianDays, 0.01) ||
		!relClose(g.IntervalMeanDays, w.IntervalMeanDays, 1e-12) {
		t.Fatalf("intervals %+v want %+v", g, w)
	}
	g.IntervalMedianDays, g.IntervalMeanDays = 0, 0
	w.IntervalMedianDays, w.IntervalMeanDays = 0, 0
	if g != w {
		t.Fatalf("%+v want %+v", g, w)
	}
	// Independently: buyers and orders of the event list, up to AsOf.
	orders := map[int]int{}
	var revenue int64
	for _, e := range c.evs {
		if e.kind == evOrder && !e.t.After(chainAsOf) {
			orders[e.u]++
			revenue += e.amount
		}
	}
	repeat := 0
	for _, n := range orders {
		if n > 1 {
			repeat++
		}
	}
	if g.Buyers != uint64(len(orders)) || g.RepeatBuyers != uint64(repeat) || g.Revenue != revenue {
		t.Fatalf("buyers %d repeat %d revenue %d; events say %d %d %d", g.Buyers, g.RepeatBuyers,
			g.Revenue, len(orders), repeat, revenue)
	}
}

// The RFM aggregate's totals and quantiles against the event list (orders
// up to AsOf; there are no refunds): the buyers, their orders and revenue
// exactly, quantiles within the sketch's
// 1%, and thresholds that are the quintile quantiles.
func TestAggregateRFMQuantilesAndThresholdsOfTheChain(t *testing.T) {
	c := newChain(t)
	m := c.merged(t, AggregateRFM, nil, 0, 1, 2)
	spend := map[int]int64{}
	count := map[int]int{}
	var orders, revenue int64
	for _, e := range c.evs {
		if e.kind == evOrder && !e.t.After(chainAsOf) {
			spend[e.u] += e.amount
			count[e.u]++
			orders++
			revenue += e.amount
		}
	}
	var monetary, frequency []float64
	for u, v := range spend {
		monetary = append(monetary, float64(v))
		frequency = append(frequency, float64(count[u]))
	}
	sort.Float64s(monetary)
	sort.Float64s(frequency)
	th, err := m.RFMThresholds()
	if err != nil {
		t.Fatal(err)
	}
	if th.Buyers != uint64(len(spend)) || th.Orders != uint64(orders) || th.Revenue != revenue {
		t.Fatalf("totals %+v; events say %d buyers %d orders %d revenue", th, len(spend), orders, revenue)
	}
	for _, q := range []float64{0, 0.2, 0.5, 0.9, 1} {
		rank := int(math.Floor(q * float64(len(monetary)-1)))
		got, err := m.Quantile(AggregateMonetary, q)
		if err != nil || !relClose(got, monetary[rank], 0.01) {
			t.Fatalf("monetary q%.1f: %v, exact %v (%v)", q, got, monetary[rank], err)
		}
		got, err = m.Quantile(AggregateFrequency, q)
		if err != nil || !relClose(got, frequency[rank], 0.01) {
			t.Fatalf("frequency q%.1f: %v, exact %v (%v)", q, got, frequency[rank], err)
		}
	}
	for k := 0; k < 4; k++ {
		q := float64(k+1) / 5
		r, _ := m.Quantile(AggregateRecency, q)
		f, _ := m.Quantile(AggregateFrequency, q)
		mo, _ := m.Quantile(AggregateMonetary, q)
		if th.Recency[k] != r || math.Abs(th.Frequency[k]-f) > 0.5 || th.Frequency[k] != math.Round(th.Frequency[k]) ||
			math.Abs(th.Monetary[k]-mo) > 0.5 || th.Monetary[k] != math.Round(th.Monetary[k]) {
			t.Fatalf("threshold %d: %+v vs quantiles %v %v %v", k, th, r, f, mo)
		}
	}
	_, err = m.Quantile(AggregateMonetary, 1.5)
	wantStatus(t, err, ErrInvalid)
	_, err = m.Quantile(9, 0.5)
	wantStatus(t, err, ErrInvalid)
}

func TestAggregateMismatchesConflictAndDamageIsCorrupt(t *testing.T) {
	c := newChain(t)
	rfm := computeAggregate(t, c.whole, AggregateRFM, nil)
	funnel := computeAggregate(t, c.whole, AggregateFunnel, nil)
	err := rfm.Merge(funnel)
	if e := wantStatus(t, err, ErrConflict); e.Message == "" {
		t.Fatal("a conflict carries the library's message")
	}
	later, err := c.shards[0].ComputeAggregate(AggregateRFM, Filter{AsOf: chainAsOf.Add(day)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	wantStatus(t, rfm.Merge(later), ErrConflict)
	coarse := computeAggregate(t, c.shards[0], AggregateRFM, &AggregateOptions{Accuracy: 0.05})
	wantStatus(t, rfm.Merge(coarse), ErrConflict)
	wantStatus(t, rfm.Merge(rfm), ErrInvalid)
	_, err = rfm.FunnelRows()
	wantStatus(t, err, ErrMisuse)
	_, err = funnel.Quantile(AggregateMonetary, 0.5)
	wantStatus(t, err, ErrMisuse)
	_, err = c.whole.ComputeAggregate(AggregateRFM, Filter{AsOf: chainAsOf}, &AggregateOptions{Accuracy: 0.9})
	wantStatus(t, err, ErrInvalid)
	_, err = c.whole.ComputeAggregate(99, Filter{AsOf: chainAsOf}, nil)
	wantStatus(t, err, ErrInvalid)

	b := saveAggregate(t, rfm)
	damaged := append([]byte(nil), b...)
	damaged[40] ^= 1
	_, err = LoadAggregate(damaged)
	if e := wantStatus(t, err, ErrCorrupt); !strings.Contains(e.Message, "checksum") &&
		!strings.Contains(strings.ToLower(e.Message), "crc") {
		t.Fatalf("reason %q", e.Message)
	}
	_, err = LoadAggregate(b[:len(b)-3])
	wantStatus(t, err, ErrCorrupt)
	_, err = LoadAggregate(nil)
	wantStatus(t, err, ErrCorrupt)

	rfm.Close()
	_, err = rfm.Save()
	wantStatus(t, err, ErrMisuse)
	wantStatus(t, funnel.Merge(rfm), ErrMisuse)
	if rfm.Kind() != 0 {
		t.Fatal("a closed aggregate has no kind")
	}
}

// Shards merging into one aggregate from several goroutines at once give
// the aggregate of one store (the binding serialises the merges; their
// order does not matter).
func TestAggregateConcurrentMergesGiveTheWholeChain(t *testing.T) {
	c := newChain(t)
	m := computeAggregate(t, c.shards[0], AggregateRepurchase, nil)
	done := make(chan error)
	for k := 1; k < chainShards; k++ {
		go func(s *Store) {
			a, err := s.ComputeAggregate(AggregateRepurchase, Filter{AsOf: chainAsOf}, nil)
			if err == nil {
				err = m.Merge(a)
				a.Close()
			}
			done <- err
		}(c.shards[k])
	}
	for k := 1; k < chainShards; k++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	one := computeAggregate(t, c.whole, AggregateRepurchase, nil)
	if !bytes.Equal(saveAggregate(t, m), saveAggregate(t, one)) {
		t.Fatal("concurrent merges differ from one store")
	}
}

// An aggregate owns its state: it can be saved and read after its store
// is closed (a shard may compute, close, then ship).
func TestAggregateOutlivesItsStore(t *testing.T) {
	s, _, _ := metricsStore(t)
	a, err := s.ComputeAggregate(AggregateRepurchase, Filter{AsOf: t0.Add(40 * day)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s.Close()
	rows, err := a.RepurchaseRows()
	if err != nil || len(rows) != 1 || rows[0].Buyers != 2 || rows[0].Purchases != 4 ||
		rows[0].Revenue != 1100 || rows[0].RepurchaseRate != 0.5 {
		t.Fatalf("%+v %v", rows, err)
	}
	if b, err := a.Save(); err != nil || len(b) == 0 {
		t.Fatalf("save %d %v", len(b), err)
	}
}
