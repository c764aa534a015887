package privdomain

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The published CDNOW fit (Fader, Hardie & Lee 2005; datasets/README.md).
var cdnowBGNBD = []float64{0.243, 4.414, 0.793, 2.426}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// loadCDNOW reads the CDNOW summary from $PD_DATASETS (default
// ../../../shared/datasets). Missing data fails in CI and skips elsewhere.
func loadCDNOW(t *testing.T, file string) [][]float64 {
	t.Helper()
	dir := os.Getenv("PD_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CDNOW data missing in CI: %v", err)
		}
		t.Skipf("CDNOW data not found (%v); set PD_DATASETS", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	for _, r := range recs[1:] {
		row := make([]float64, len(r)-1)
		for i := range row {
			row[i], _ = strconv.ParseFloat(r[i+1], 64)
		}
		rows = append(rows, row)
	}
	return rows
}

func columns(rows [][]float64) Customers {
	var d Customers
	for _, r := range rows {
		d.X, d.TX, d.T = append(d.X, r[0]), append(d.TX, r[1]), append(d.T, r[2])
		if len(r) > 3 {
			d.Monetary = append(d.Monetary, r[3])
		}
	}
	return d
}

func newFit(t *testing.T) *Fit {
	t.Helper()
	f, err := NewFit(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestModelNamesAndParameters(t *testing.T) {
	if BGNBD.String() != "bgnbd" || ModelFromName("paretonbd") != ParetoNBD || ModelFromName("x") != 0 {
		t.Fatal("names")
	}
	if p := GammaGamma.ParamNames(); len(p) != 3 || p[0] != "p" || p[2] != "gamma" {
		t.Fatalf("params %v", p)
	}
}

func TestBGNBDEstimateReproducesThePublishedCDNOWFit(t *testing.T) {
	d := columns(loadCDNOW(t, "cdnow_customers_summary.csv"))
	f := newFit(t)
	if err := f.Estimate(BGNBD, d); err != nil {
		t.Fatal(err)
	}
	info, err := f.Info()
	if err != nil || !info.Converged || !info.Estimated || len(info.StdErrors) != 4 {
		t.Fatalf("info %+v %v", info, err)
	}
	for i, want := range cdnowBGNBD {
		if !near(info.Params[i], want, 0.0015*math.Max(1, want)) {
			t.Errorf("%s = %g, published %g", BGNBD.ParamNames()[i], info.Params[i], want)
		}
	}
	if !near(info.LogLikelihood, -9582.4, 0.1) {
		t.Errorf("LL %g", info.LogLikelihood)
	}
}

// P(alive) and E[X(t)] checked against the closed forms of Fader, Hardie &
// Lee (2005), computed here independently of the library.
func TestBGNBDPredictionsMatchTheClosedForms(t *testing.T) {
	f := newFit(t)
	if err := f.SetParams(BGNBD, cdnowBGNBD); err != nil {
		t.Fatal(err)
	}
	r, alpha, a, b := cdnowBGNBD[0], cdnowBGNBD[1], cdnowBGNBD[2], cdnowBGNBD[3]
	d := Customers{X: []float64{0, 2, 7}, TX: []float64{0, 30.43, 35}, T: []float64{38.86, 38.86, 38.86}}
	pa, err := f.PAlive(d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.X {
		want := 1.0
		if d.X[i] > 0 {
			want = 1 / (1 + a/(b+d.X[i]-1)*math.Pow((alpha+d.T[i])/(alpha+d.TX[i]), r+d.X[i]))
		}
		if !near(pa[i], want, 1e-12) {
			t.Errorf("p_alive[%d] = %.15g, want %.15g", i, pa[i], want)
		}
	}
	// E[X(t) | x=0, T] for a customer with no repeat purchases is small and
	// grows with the horizon.
	e, err := f.ExpectedPurchases(d, 39)
	if err != nil || !(e[0] > 0 && e[0] < e[2]) {
		t.Fatalf("expected purchases %v %v", e, err)
	}
	u1, _ := f.UnconditionalPurchases(39)
	u2, _ := f.UnconditionalPurchases(78)
	if !(u1 > 0 && u2 > u1) {
		t.Fatalf("unconditional %g %g", u1, u2)
	}
	p0, err := f.PPurchases(0, 39)
	if err != nil || !(p0 > 0 && p0 < 1) {
		t.Fatalf("P(X=0) %g %v", p0, err)
	}
}

func TestGammaGammaSpendAndCLV(t *testing.T) {
	spend := newFit(t)
	p, q, g := 6.25, 3.74, 15.44
	if err := spend.SetParams(GammaGamma, []float64{p, q, g}); err != nil {
		t.Fatal(err)
	}
	d := Customers{X: []float64{0, 2, 6}, TX: []float64{0, 30.43, 35},
		T: []float64{38.86, 38.86, 38.86}, Monetary: []float64{0, 22.35, 35.0}}
	es, err := spend.ExpectedSpend(d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.X {
		want := p * (g + d.X[i]*d.Monetary[i]) / (p*d.X[i] + q - 1)
		if !near(es[i], want, 1e-9) {
			t.Errorf("spend[%d] = %g, want %g", i, es[i], want)
		}
	}
	tr := newFit(t)
	tr.SetParams(BGNBD, cdnowBGNBD)
	clv, err := tr.CLV(spend, d, 12, 0.01, 4.345)
	if err != nil || !(clv[2] > clv[1] && clv[1] > clv[0] && clv[0] > 0) {
		t.Fatalf("clv %v %v", clv, err)
	}
	// One month, no discount: E[X(u)] × spend.
	one, _ := tr.CLV(spend, d, 1, 0, 4.345)
	ex, _ := tr.ExpectedPurchases(d, 4.345)
	if !near(one[1], ex[1]*es[1], 1e-9) {
		t.Fatalf("one-month clv %g, want %g", one[1], ex[1]*es[1])
	}
	_, err = tr.CLV(tr, d, 12, 0.01, 4.345)
	wantStatus(t, err, ErrInvalid)
}

func TestSBGFromSurvivorCounts(t *testing.T) {
	// Fader & Hardie (2007), "regular" customers: α = 0.704, β = 1.182.
	f := newFit(t)
	if err := f.EstimateSBG([]float64{1000, 631, 468, 382, 326, 289, 262, 241}); err != nil {
		t.Fatal(err)
	}
	info, _ := f.Info()
	if info.Model != SBG || !near(info.Params[0], 0.704, 0.002) || !near(info.Params[1], 1.182, 0.004) {
		t.Fatalf("sbg %+v", info)
	}
}

func TestBadModelInputIsAnErrorWithTheLibrarysMessage(t *testing.T) {
	f := newFit(t)
	err := f.Estimate(BGNBD, Customers{X: []float64{1}, TX: []float64{math.NaN()}, T: []float64{3}})
	if pe := wantStatus(t, err, ErrRange); pe.Message == "" {
		t.Fatal("no message")
	}
	err = f.Estimate(BGNBD, Customers{X: []float64{1, 2}, TX: []float64{1}, T: []float64{3}})
	wantStatus(t, err, ErrInvalid)
	err = f.Estimate(BGNBD, Customers{})
	wantStatus(t, err, ErrInvalid)
	_, err = f.PAlive(Customers{X: []float64{1}, TX: []float64{1}, T: []float64{2}})
	wantStatus(t, err, ErrInvalid) // no parameters yet
	err = f.SetParams(BGNBD, []float64{1, 2, -3, 4})
	wantStatus(t, err, ErrRange)
	err = f.SetParams(BGNBD, nil)
	wantStatus(t, err, ErrInvalid)
	_, err = NewFit(&FitOptions{MaxIterations: -1})
	wantStatus(t, err, ErrInvalid)
	f.Close()
	if _, err := f.Info(); !errors.Is(err, ErrMisuse) {
		t.Fatalf("closed fit: %v", err)
	}
}
