package privdomain

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var epochDay0 = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

// dayAt is midnight UTC of day d after epochDay0, plus sec seconds.
func dayAt(d int, sec int) time.Time {
	return epochDay0.Add(time.Duration(d)*day + time.Duration(sec)*time.Second)
}

func newSummary(t *testing.T) *Summary {
	t.Helper()
	s, err := NewSummary()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// summaryRows is every column of a per-customer result with holdout, and
// the ids, in row order.
type summaryRows struct {
	IDs  []string
	Cols [5][]float64
}

func readSummary(t *testing.T, s *Summary) summaryRows {
	t.Helper()
	var r summaryRows
	var err error
	if r.IDs, err = s.IDs(); err != nil {
		t.Fatal(err)
	}
	for i, c := range []int32{SummaryX, SummaryTX, SummaryT, SummaryMonetary, SummaryXHoldout} {
		if r.Cols[i], err = s.Column(c); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// datasetFile is the path of a file of $PD_DATASETS; missing data fails
// in CI and skips elsewhere (as loadCDNOW).
func datasetFile(t *testing.T, file string) string {
	t.Helper()
	dir := os.Getenv("PD_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	path := filepath.Join(dir, file)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CDNOW data missing in CI: %v", err)
		}
		t.Skipf("CDNOW data not found (%v); set PD_DATASETS", err)
	}
	return path
}

// Ann buys twice on day 0 (10 + 5), on days 7 and 14 (20, 30) and on day
// 30 in the holdout; Bob once on day 3, then on day 25 (holdout); Cy only
// after the calibration end and is left out. Calibration ends with day 20,
// observation with day 40.
func TestSummaryRowsFollowTheLifetimesConvention(t *testing.T) {
	s := newSummary(t)
	err := s.Add([]string{"bob", "ann", "ann", "ann", "ann", "cy", "ann", "bob"},
		[]time.Time{dayAt(3, 50), dayAt(0, 100), dayAt(0, 86000), dayAt(7, 0), dayAt(14, 0),
			dayAt(22, 0), dayAt(30, 0), dayAt(25, 0)},
		[]float64{8, 10, 5, 20, 30, 99, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Transactions() != 8 || s.Rows() != 0 {
		t.Fatalf("transactions %d rows %d", s.Transactions(), s.Rows())
	}
	spec := SummarySpec{CalibrationEnd: dayAt(20, 86399), ObservationEnd: dayAt(40, 86399)}
	if err := s.Compute(spec); err != nil {
		t.Fatal(err)
	}
	got := readSummary(t, s)
	want := summaryRows{IDs: []string{"bob", "ann"}, Cols: [5][]float64{
		{0, 2}, {0, 14}, {17, 20}, {0, 25}, {1, 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("days: got %+v want %+v", got, want)
	}
	spec.Unit = UnitWeek
	if err := s.Compute(spec); err != nil {
		t.Fatal(err)
	}
	d, err := s.Customers()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, Customers{X: []float64{0, 2}, TX: []float64{0, 2},
		T: []float64{17.0 / 7, 20.0 / 7}, Monetary: []float64{0, 25}}) {
		t.Fatalf("weeks: %+v", d)
	}
	// Without holdout there is no XHoldout column.
	if err := s.Compute(SummarySpec{CalibrationEnd: dayAt(20, 86399)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Column(SummaryXHoldout)
	wantStatus(t, err, ErrNotFound)
}

func TestSummaryRejectsBadInputWholeBatch(t *testing.T) {
	s := newSummary(t)
	err := s.AddUnix([]string{"a", "b"}, []int64{100}, nil)
	wantStatus(t, err, ErrInvalid)
	err = s.AddUnix([]string{"a", "b"}, []int64{100, 200}, []float64{1, math.NaN()})
	if e := wantStatus(t, err, ErrRange); !strings.Contains(e.Message, "1") {
		t.Fatalf("message should give the index: %q", e.Message)
	}
	wantStatus(t, s.AddUnix([]string{"a"}, []int64{100}, []float64{-1}), ErrRange)
	wantStatus(t, s.AddUnix([]string{"a"}, []int64{-5}, nil), ErrRange)
	if s.Transactions() != 0 {
		t.Fatalf("a refused batch added %d transactions", s.Transactions())
	}
	wantStatus(t, s.Compute(SummarySpec{CalibrationEnd: dayAt(5, 0), ObservationEnd: dayAt(4, 0)}),
		ErrInvalid)
	wantStatus(t, s.Compute(SummarySpec{CalibrationEnd: dayAt(5, 0), Unit: 9}), ErrInvalid)
	_, err = s.Column(SummaryX)
	wantStatus(t, err, ErrNotFound)
	wantStatus(t, s.ImportTransactions("xml", []byte("a")), ErrInvalid)
	wantStatus(t, s.ImportTransactions("csv\x00", []byte("a")), ErrInvalid)
	wantStatus(t, s.ImportTransactions("csv", []byte("customer_id,date,amount\nx,notadate,1\n")), ErrCorrupt)
	s.Close()
	wantStatus(t, s.AddUnix([]string{"a"}, []int64{100}, nil), ErrMisuse)
	s.Close()
}

// Ids are bytes with explicit lengths: ids that differ only after an
// embedded NUL, and empty ids, are distinct customers.
func TestSummaryIDsKeepEveryByte(t *testing.T) {
	s := newSummary(t)
	ids := []string{"a\x00x", "a\x00y", "", "客户"}
	if err := s.AddUnix(ids, []int64{10, 20, 30, 40}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Compute(SummarySpec{CalibrationEnd: time.Unix(86400, 0)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.IDs()
	if err != nil || !reflect.DeepEqual(got, ids) {
		t.Fatalf("ids %q %v", got, err)
	}
}

// synthTransactions is a deterministic set in time order: n customers,
// up to 12 purchases each over 300 days, some on the same day.
func synthTransactions(n int) (ids []string, times []int64, amounts []float64) {
	r := rand.New(rand.NewSource(7))
	type tx struct {
		id string
		t  int64
		a  float64
	}
	var all []tx
	for c := 0; c < n; c++ {
		first := r.Intn(200)
		k := 1 + r.Intn(12)
		for j := 0; j < k; j++ {
			d := first + r.Intn(300-first)
			if j == 0 {
				d = first
			}
			all = append(all, tx{fmt.Sprintf("c%04d", c), dayAt(d, r.Intn(86400)).Unix(),
				float64(r.Intn(100000)) / 100})
		}
	}
	// Stable time order: customers first appear in first-purchase order.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].t < all[j-1].t; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	for _, x := range all {
		ids, times, amounts = append(ids, x.id), append(times, x.t), append(amounts, x.a)
	}
	return
}

// partials summarises each part (a list of transaction indices) apart.
func partials(t *testing.T, parts [][]int, ids []string, times []int64, amounts []float64,
	spec SummarySpec) [][]byte {
	t.Helper()
	var out [][]byte
	for _, part := range parts {
		s := newSummary(t)
		var pi []string
		var pt []int64
		var pa []float64
		for _, i := range part {
			pi, pt, pa = append(pi, ids[i]), append(pt, times[i]), append(pa, amounts[i])
		}
		if err := s.AddUnix(pi, pt, pa); err != nil {
			t.Fatal(err)
		}
		b, err := s.Partial(spec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func mergedRows(t *testing.T, blobs [][]byte, spec SummarySpec) summaryRows {
	t.Helper()
	m := newSummary(t)
	for _, b := range blobs {
		if err := m.LoadPartial(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Compute(spec); err != nil {
		t.Fatal(err)
	}
	return readSummary(t, m)
}

// byID reorders rows by customer id, for partitions that change the order
// of first appearance.
func byID(r summaryRows) map[string][5]float64 {
	m := map[string][5]float64{}
	for i, id := range r.IDs {
		var v [5]float64
		for c := range v {
			v[c] = r.Cols[c][i]
		}
		m[id] = v
	}
	return m
}

// Partitions by time (cuts inside days too), by customer, and consecutive
// chunks sorted by customer merge to exactly the rows, bit for bit, of
// one summary over every transaction.
func TestSummaryPartialsMergeToTheSingleSummary(t *testing.T) {
	ids, times, amounts := synthTransactions(300)
	spec := SummarySpec{CalibrationEnd: dayAt(199, 86399), ObservationEnd: dayAt(299, 86399),
		Unit: UnitWeek}
	whole := newSummary(t)
	if err := whole.AddUnix(ids, times, amounts); err != nil {
		t.Fatal(err)
	}
	if err := whole.Compute(spec); err != nil {
		t.Fatal(err)
	}
	want := readSummary(t, whole)
	if len(want.IDs) < 250 {
		t.Fatalf("only %d customers", len(want.IDs))
	}

	n := len(ids)
	var byTime [][]int // four time ranges, cut wherever the index falls
	for k := 0; k < 4; k++ {
		var part []int
		for i := n * k / 4; i < n*(k+1)/4; i++ {
			part = append(part, i)
		}
		byTime = append(byTime, part)
	}
	blobs := partials(t, byTime, ids, times, amounts, spec)
	if got := mergedRows(t, blobs, spec); !reflect.DeepEqual(got, want) {
		t.Fatal("time partitions merged differ from the single summary")
	}
	// Any load order gives the same rows per customer.
	rev := [][]byte{blobs[3], blobs[1], blobs[2], blobs[0]}
	if got := mergedRows(t, rev, spec); !reflect.DeepEqual(byID(got), byID(want)) {
		t.Fatal("time partitions loaded out of order differ")
	}

	byCustomer := make([][]int, 3)
	for i, id := range ids {
		k := int(id[len(id)-1]) % 3
		byCustomer[k] = append(byCustomer[k], i)
	}
	got := mergedRows(t, partials(t, byCustomer, ids, times, amounts, spec), spec)
	if !reflect.DeepEqual(byID(got), byID(want)) {
		t.Fatal("customer partitions merged differ from the single summary")
	}

	// A tree: two partials merged and saved again, then with the others.
	mid := newSummary(t)
	for _, b := range blobs[:2] {
		if err := mid.LoadPartial(b); err != nil {
			t.Fatal(err)
		}
	}
	top, err := mid.Partial(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := mergedRows(t, [][]byte{top, blobs[2], blobs[3]}, spec); !reflect.DeepEqual(got, want) {
		t.Fatal("a tree reduction differs from the single summary")
	}
}

func TestSummaryPartialInfoGivesCustomersAndEnds(t *testing.T) {
	s := newSummary(t)
	// c bought only in the holdout: kept (another partition may hold its
	// calibration purchases); d after the observation end: left out.
	if err := s.Add([]string{"a", "b", "a", "c", "d"},
		[]time.Time{dayAt(1, 0), dayAt(2, 0), dayAt(3, 0), dayAt(12, 0), dayAt(30, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	spec := SummarySpec{CalibrationEnd: dayAt(10, 86399), ObservationEnd: dayAt(20, 86399)}
	b, err := s.Partial(spec)
	if err != nil {
		t.Fatal(err)
	}
	n, ce, oe, err := PartialInfo(b)
	if err != nil || n != 3 || !ce.Equal(spec.CalibrationEnd) || !oe.Equal(spec.ObservationEnd) {
		t.Fatalf("info %d %v %v %v", n, ce, oe, err)
	}
	b, err = s.Partial(SummarySpec{CalibrationEnd: dayAt(10, 86399)})
	if err != nil {
		t.Fatal(err)
	}
	if n, _, oe, err = PartialInfo(b); err != nil || n != 2 || !oe.IsZero() {
		t.Fatalf("no holdout: %d %v %v", n, oe, err)
	}
	_, _, _, err = PartialInfo(b[:len(b)-1])
	wantStatus(t, err, ErrCorrupt)
	_, _, _, err = PartialInfo(nil)
	wantStatus(t, err, ErrCorrupt)
}

// Ann's days 10 and 20 in one partial, 15 in another: day 15 falls inside
// the first range, so the merge is refused and names her.
func TestSummaryOverlappingPartialsConflictAndDamageIsCorrupt(t *testing.T) {
	partial := func(days ...int) []byte {
		s := newSummary(t)
		for _, d := range days {
			if err := s.Add([]string{"ann"}, []time.Time{dayAt(d, 0)}, []float64{1}); err != nil {
				t.Fatal(err)
			}
		}
		b, err := s.Partial(SummarySpec{CalibrationEnd: dayAt(100, 0)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := partial(10, 20), partial(15)
	s := newSummary(t)
	if err := s.LoadPartial(a); err != nil {
		t.Fatal(err)
	}
	err := s.LoadPartial(b)
	if e := wantStatus(t, err, ErrConflict); !strings.Contains(e.Message, "ann") {
		t.Fatalf("message should name the customer: %q", e.Message)
	}
	if !errors.Is(err, ErrConflict) {
		t.Fatal("errors.Is")
	}
	damaged := append([]byte(nil), a...)
	damaged[30] ^= 1
	wantStatus(t, s.LoadPartial(damaged), ErrCorrupt)
	wantStatus(t, s.Compute(SummarySpec{CalibrationEnd: dayAt(99, 0)}), ErrConflict)
	if err := s.Compute(SummarySpec{CalibrationEnd: dayAt(100, 0)}); err != nil {
		t.Fatal(err)
	}
	if x, err := s.Column(SummaryX); err != nil || !reflect.DeepEqual(x, []float64{1}) {
		t.Fatalf("x %v %v (the refused loads must leave the handle unchanged)", x, err)
	}
}

func TestSummaryCompressAndMerge(t *testing.T) {
	spec := SummarySpec{CalibrationEnd: dayAt(30, 0)}
	a, b := newSummary(t), newSummary(t)
	a.AddUnix([]string{"p", "q", "q"}, []int64{dayAt(1, 0).Unix(), dayAt(1, 0).Unix(), dayAt(2, 0).Unix()}, nil)
	b.AddUnix([]string{"r", "p"}, []int64{dayAt(1, 0).Unix(), dayAt(1, 0).Unix()}, nil)
	if err := a.Compute(spec); err != nil {
		t.Fatal(err)
	}
	if err := b.Compute(spec); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, a.Merge(b), ErrDuplicate) // p is in both
	wantStatus(t, a.Merge(a), ErrMisuse)
	if err := b.Compress(); err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(b); err != nil { // compressed: weights add up
		t.Fatal(err)
	}
	d, err := a.Customers()
	// rows (x, t_x, T): p and r (0, 0, 29), q (1, 1, 29): first purchases on day 1
	want := Customers{X: []float64{0, 1}, TX: []float64{0, 1}, T: []float64{29, 29},
		Weight: []float64{3, 1}}
	if err != nil || !reflect.DeepEqual(d, want) {
		t.Fatalf("merged %+v %v", d, err)
	}
	_, err = a.IDs()
	wantStatus(t, err, ErrNotFound)
}

// The CDNOW sample summarised by the library gives the published summary
// (weeks rounded to 0.01), and its file cut in five chunks, each
// summarised to a partial, merges to exactly the rows of the whole.
func TestSummaryCDNOWChunksMergeToThePublishedSummary(t *testing.T) {
	path := datasetFile(t, "CDNOW_sample.txt")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cal := time.Date(1997, 9, 30, 23, 59, 59, 0, time.UTC)
	obs := time.Date(1998, 6, 30, 23, 59, 59, 0, time.UTC)
	spec := SummarySpec{CalibrationEnd: cal, ObservationEnd: obs, Unit: UnitWeek}
	whole := newSummary(t)
	if err := whole.ImportTransactions("cdnow-sample", raw); err != nil {
		t.Fatal(err)
	}
	if err := whole.Compute(spec); err != nil {
		t.Fatal(err)
	}
	want := readSummary(t, whole)
	if len(want.IDs) != 2357 {
		t.Fatalf("%d customers, want 2357", len(want.IDs))
	}

	pub := readCSV(t, datasetFile(t, "cdnow_customers_summary.csv"))
	zbar := map[string]float64{}
	for _, r := range readCSV(t, datasetFile(t, "cdnow_customers_summary_with_transactions.csv")) {
		zbar[r[0]], _ = strconv.ParseFloat(r[4], 64)
	}
	row := map[string]int{}
	for i, id := range want.IDs {
		row[id] = i
	}
	for _, r := range pub {
		i, ok := row[r[0]]
		if !ok {
			t.Fatalf("customer %s missing", r[0])
		}
		for c := 0; c < 3; c++ {
			v, _ := strconv.ParseFloat(r[c+1], 64)
			if math.Abs(want.Cols[c][i]-v) > 0.005+1e-9 {
				t.Fatalf("customer %s column %d: %v, published %v", r[0], c, want.Cols[c][i], v)
			}
		}
		if z, ok := zbar[r[0]]; ok && want.Cols[0][i] > 0 && math.Abs(want.Cols[3][i]-z) > 0.005+1e-9 {
			t.Fatalf("customer %s monetary %v, published %v", r[0], want.Cols[3][i], z)
		}
	}

	lines := bytes.SplitAfter(raw, []byte("\n"))
	var blobs [][]byte
	total := 0
	for k := 0; k < 5; k++ {
		chunk := bytes.Join(lines[len(lines)*k/5:len(lines)*(k+1)/5], nil)
		s := newSummary(t)
		if err := s.ImportTransactions("cdnow-sample", chunk); err != nil {
			t.Fatal(err)
		}
		b, err := s.Partial(spec)
		if err != nil {
			t.Fatal(err)
		}
		n, ce, oe, err := PartialInfo(b)
		if err != nil || !ce.Equal(cal) || !oe.Equal(obs) {
			t.Fatalf("info %v %v %v", ce, oe, err)
		}
		total += n
		blobs = append(blobs, b)
	}
	if total <= 2357 { // the chunk boundaries split some customers
		t.Fatalf("partials hold %d customers", total)
	}
	if got := mergedRows(t, blobs, spec); !reflect.DeepEqual(got, want) {
		t.Fatal("CDNOW chunks merged differ from the single summary")
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}

// Summaries merging into each other from two goroutines at once do not
// deadlock: one merge wins, the other finds the customers known.
func TestSummaryCrossMergesDoNotDeadlock(t *testing.T) {
	spec := SummarySpec{CalibrationEnd: dayAt(30, 0)}
	a, b := newSummary(t), newSummary(t)
	a.AddUnix([]string{"p"}, []int64{dayAt(1, 0).Unix()}, nil)
	b.AddUnix([]string{"q"}, []int64{dayAt(2, 0).Unix()}, nil)
	if a.Compute(spec) != nil || b.Compute(spec) != nil {
		t.Fatal("compute")
	}
	done := make(chan error, 2)
	go func() { done <- a.Merge(b) }()
	go func() { done <- b.Merge(a) }()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			wantStatus(t, err, ErrDuplicate)
		}
	}
	if a.Rows()+b.Rows() != 3 {
		t.Fatalf("rows %d + %d, want one summary of 2 and one of 1", a.Rows(), b.Rows())
	}
}

// BenchmarkSummaryAddComputePartial: 1M transactions of 100k customers
// through AddUnix, Compute, Partial and LoadPartial (go test -bench .).
func BenchmarkSummaryAddComputePartial(b *testing.B) {
	const n, customers = 1000000, 100000
	ids := make([]string, n)
	times := make([]int64, n)
	amounts := make([]float64, n)
	r := rand.New(rand.NewSource(1))
	for i := range ids {
		ids[i] = "member-" + strconv.Itoa(r.Intn(customers))
		times[i] = dayAt(r.Intn(365), r.Intn(86400)).Unix()
		amounts[i] = float64(r.Intn(100000)) / 100
	}
	spec := SummarySpec{CalibrationEnd: dayAt(300, 0), ObservationEnd: dayAt(364, 86399)}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		s, _ := NewSummary()
		if err := s.AddUnix(ids, times, amounts); err != nil {
			b.Fatal(err)
		}
		if err := s.Compute(spec); err != nil {
			b.Fatal(err)
		}
		p, err := s.Partial(spec)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := NewSummary()
		if err := m.LoadPartial(p); err != nil {
			b.Fatal(err)
		}
		if err := m.Compute(spec); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(p))/customers, "partial_bytes/customer")
		s.Close()
		m.Close()
	}
}
