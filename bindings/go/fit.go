package privdomain

/*
#include <stdint.h>
#include <stdlib.h>
#include <privdomain/privdomain.h>

// The customer columns are Go slices; the pd_customer_data struct that
// points at them is built here on the C stack, because cgo forbids passing
// Go memory that itself holds Go pointers.
#define PDGO_DATA(d) \
  pd_customer_data d = PD_CUSTOMER_DATA_INIT; \
  d.n = n; d.x = x; d.t_x = t_x; d.T = T; d.monetary = m; d.weight = w

static pd_status pdgo_fit_estimate(pd_fit *f, int32_t model, size_t n,
    const double *x, const double *t_x, const double *T, const double *m,
    const double *w) {
  PDGO_DATA(d);
  return pd_fit_estimate(f, model, &d);
}
static pd_status pdgo_expected_purchases(pd_fit *f, size_t n, const double *x,
    const double *t_x, const double *T, double horizon, double *out) {
  const double *m = NULL, *w = NULL;
  PDGO_DATA(d);
  return pd_predict_expected_purchases(f, &d, horizon, out);
}
static pd_status pdgo_p_alive(pd_fit *f, size_t n, const double *x,
    const double *t_x, const double *T, double *out) {
  const double *m = NULL, *w = NULL;
  PDGO_DATA(d);
  return pd_predict_p_alive(f, &d, out);
}
static pd_status pdgo_expected_spend(pd_fit *f, size_t n, const double *x,
    const double *t_x, const double *T, const double *m, double *out) {
  const double *w = NULL;
  PDGO_DATA(d);
  return pd_predict_expected_spend(f, &d, out);
}
static pd_status pdgo_clv(pd_fit *tr, pd_fit *sp, size_t n, const double *x,
    const double *t_x, const double *T, const double *m, uint32_t months,
    double rate, double upm, double *out) {
  const double *w = NULL;
  PDGO_DATA(d);
  return pd_predict_clv(tr, sp, &d, months, rate, upm, out);
}
static pd_status pdgo_dert(pd_fit *f, size_t n, const double *x,
    const double *t_x, const double *T, double rate, double *out) {
  const double *m = NULL, *w = NULL;
  PDGO_DATA(d);
  return pd_predict_dert(f, &d, rate, out);
}
static pd_status pdgo_fit_new(int32_t max_iter, double tol, pd_fit **out) {
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  if (max_iter > 0) o.max_iterations = max_iter;
  if (tol > 0) o.tolerance = tol;
  return pd_fit_new(&o, out);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
)

// Model is a customer-base model kind (fit.h).
type Model int32

// Model kinds.
const (
	BGNBD      Model = 1 // BG/NBD, Fader, Hardie & Lee (2005)
	MBGNBD     Model = 2 // MBG/NBD, Batislam et al. (2007)
	ParetoNBD  Model = 3 // Pareto/NBD, Schmittlein et al. (1987)
	GammaGamma Model = 4 // Gamma-Gamma spend
	BGBB       Model = 5 // BG/BB, discrete time
	SBG        Model = 6 // shifted-beta-geometric retention
)

// String is the library's short name ("bgnbd", "paretonbd" …).
func (m Model) String() string {
	p := C.pd_model_name(C.int32_t(m))
	if p == nil {
		return fmt.Sprintf("Model(%d)", int32(m))
	}
	return C.GoString(p)
}

// ModelFromName returns the model named name, or 0 when unknown.
func ModelFromName(name string) Model {
	p, _, free := cText(name)
	defer free()
	return Model(C.pd_model_from_name(p))
}

// ParamNames lists the parameter names of m in the order used everywhere
// (bgnbd: r alpha a b; gammagamma: p q gamma; sbg: alpha beta …).
func (m Model) ParamNames() []string {
	n := uint32(C.pd_model_param_count(C.int32_t(m)))
	names := make([]string, n)
	for i := range names {
		names[i] = C.GoString(C.pd_model_param_name(C.int32_t(m), C.uint32_t(i)))
	}
	return names
}

// Customers are customer summaries as parallel columns (lifetimes/BTYD
// convention): X frequency (repeat purchase periods), TX recency, T age,
// all in one time unit of the caller's choice. Monetary (mean repeat
// purchase value) is needed by Gamma-Gamma only; Weight (rows standing for
// several customers) is optional. The slices are read during the call only.
type Customers struct {
	X, TX, T, Monetary, Weight []float64
}

// FitOptions configures NewFit; zero fields take the library's defaults
// (500 iterations, tolerance 1e-8).
type FitOptions struct {
	MaxIterations int32
	Tolerance     float64
}

// Fit is one model and its parameters (pd_fit). Predictions may run from
// several goroutines at once; the binding serialises calls so that each
// error carries its own message.
type Fit struct {
	mu sync.Mutex
	p  *C.pd_fit
}

// FitInfo is what a fit holds (pd_fit_info).
type FitInfo struct {
	Model         Model
	Converged     bool
	Iterations    int32
	Params        []float64 // in the order of Model.ParamNames
	StdErrors     []float64 // nil when not available
	LogLikelihood float64
	NCustomers    float64
	Estimated     bool
}

// NewFit creates an empty fit; opts may be nil.
func NewFit(opts *FitOptions) (*Fit, error) {
	var o FitOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxIterations < 0 || o.Tolerance < 0 {
		return nil, &Error{Op: "NewFit", Status: ErrInvalid,
			Message: "MaxIterations and Tolerance must not be negative"}
	}
	var p *C.pd_fit
	if st := C.pdgo_fit_new(C.int32_t(o.MaxIterations), C.double(o.Tolerance), &p); st < 0 {
		return nil, &Error{Op: "NewFit", Status: Status(st)}
	}
	f := &Fit{p: p}
	runtime.SetFinalizer(f, func(f *Fit) { f.Close() })
	return f, nil
}

// Close releases the fit; later calls fail with ErrMisuse.
func (f *Fit) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.p != nil {
		C.pd_fit_free(f.p)
		f.p = nil
	}
	runtime.SetFinalizer(f, nil)
	return nil
}

func (f *Fit) call(op string, fn func(p *C.pd_fit) C.pd_status) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.p == nil {
		return &Error{Op: op, Status: ErrMisuse, Message: "the fit is closed"}
	}
	if st := fn(f.p); st < 0 {
		return &Error{Op: op, Status: Status(st), Message: C.GoString(C.pd_fit_errmsg(f.p))}
	}
	return nil
}

// ptr is the address of a column's first value, or nil for an empty one.
func ptr(v []float64) *C.double {
	if len(v) == 0 {
		return nil
	}
	return (*C.double)(&v[0])
}

// check makes sure the columns the call reads are as long as X, so the C
// side never reads past a Go slice.
func (d *Customers) check(op string, monetary, weight bool) error {
	n := len(d.X)
	bad := len(d.TX) != n || len(d.T) != n ||
		(monetary && d.Monetary != nil && len(d.Monetary) != n) ||
		(weight && d.Weight != nil && len(d.Weight) != n)
	if bad {
		return &Error{Op: op, Status: ErrInvalid,
			Message: "X, TX, T (and Monetary, Weight when given) must have the same length"}
	}
	return nil
}

// Estimate fits model to the customers by maximum likelihood (BG/NBD,
// MBG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB). ErrNoConvergence leaves the
// last iterate in the fit.
func (f *Fit) Estimate(model Model, d Customers) error {
	if err := d.check("Estimate", true, true); err != nil {
		return err
	}
	return f.call("Estimate", func(p *C.pd_fit) C.pd_status {
		return C.pdgo_fit_estimate(p, C.int32_t(model), C.size_t(len(d.X)), ptr(d.X),
			ptr(d.TX), ptr(d.T), ptr(d.Monetary), ptr(d.Weight))
	})
}

// EstimateSBG fits the sBG retention model to a cohort's survivor counts
// (survivors[0] = cohort size, survivors[t] = still members after t
// periods).
func (f *Fit) EstimateSBG(survivors []float64) error {
	return f.call("EstimateSBG", func(p *C.pd_fit) C.pd_status {
		return C.pd_fit_estimate_sbg(p, ptr(survivors), C.size_t(len(survivors)))
	})
}

// SetParams gives the fit known parameters of model, in ParamNames order.
func (f *Fit) SetParams(model Model, params []float64) error {
	return f.call("SetParams", func(p *C.pd_fit) C.pd_status {
		return C.pd_fit_set_params(p, C.int32_t(model), ptr(params), C.size_t(len(params)))
	})
}

// Info reports what the fit holds.
func (f *Fit) Info() (FitInfo, error) {
	c := C.pd_fit_info{size: C.sizeof_pd_fit_info}
	if err := f.call("Info", func(p *C.pd_fit) C.pd_status { return C.pd_fit_get(p, &c) }); err != nil {
		return FitInfo{}, err
	}
	fi := FitInfo{Model: Model(c.model), Converged: c.converged != 0,
		Iterations: int32(c.iterations), LogLikelihood: float64(c.log_likelihood),
		NCustomers: float64(c.n_customers), Estimated: c.estimated != 0}
	for i := 0; i < int(c.n_params); i++ {
		fi.Params = append(fi.Params, float64(c.params[i]))
		if c.has_std_errors != 0 {
			fi.StdErrors = append(fi.StdErrors, float64(c.std_errors[i]))
		}
	}
	return fi, nil
}

// ExpectedPurchases is each customer's expected repeat purchases in the
// next horizon time units.
func (f *Fit) ExpectedPurchases(d Customers, horizon float64) ([]float64, error) {
	if err := d.check("ExpectedPurchases", false, false); err != nil {
		return nil, err
	}
	out := make([]float64, len(d.X)+1) // +1: never a nil pointer for n = 0
	err := f.call("ExpectedPurchases", func(p *C.pd_fit) C.pd_status {
		return C.pdgo_expected_purchases(p, C.size_t(len(d.X)), ptr(d.X), ptr(d.TX), ptr(d.T),
			C.double(horizon), (*C.double)(&out[0]))
	})
	return out[:len(d.X)], err
}

// PAlive is each customer's probability of still being active at T.
func (f *Fit) PAlive(d Customers) ([]float64, error) {
	if err := d.check("PAlive", false, false); err != nil {
		return nil, err
	}
	out := make([]float64, len(d.X)+1)
	err := f.call("PAlive", func(p *C.pd_fit) C.pd_status {
		return C.pdgo_p_alive(p, C.size_t(len(d.X)), ptr(d.X), ptr(d.TX), ptr(d.T),
			(*C.double)(&out[0]))
	})
	return out[:len(d.X)], err
}

// UnconditionalPurchases is the expected repeat purchases in (0, t] of a
// customer just acquired.
func (f *Fit) UnconditionalPurchases(t float64) (float64, error) {
	var out C.double
	err := f.call("UnconditionalPurchases", func(p *C.pd_fit) C.pd_status {
		return C.pd_predict_unconditional_purchases(p, C.double(t), &out)
	})
	return float64(out), err
}

// PPurchases is P(X(t) = n) for a customer just acquired.
func (f *Fit) PPurchases(n uint32, t float64) (float64, error) {
	var out C.double
	err := f.call("PPurchases", func(p *C.pd_fit) C.pd_status {
		return C.pd_predict_p_purchases(p, C.uint32_t(n), C.double(t), &out)
	})
	return float64(out), err
}

// ExpectedSpend is each customer's expected mean transaction value from a
// Gamma-Gamma fit (needs X and Monetary; TX and T as for the fit).
func (f *Fit) ExpectedSpend(d Customers) ([]float64, error) {
	if err := d.check("ExpectedSpend", true, false); err != nil {
		return nil, err
	}
	out := make([]float64, len(d.X)+1)
	err := f.call("ExpectedSpend", func(p *C.pd_fit) C.pd_status {
		return C.pdgo_expected_spend(p, C.size_t(len(d.X)), ptr(d.X), ptr(d.TX), ptr(d.T),
			ptr(d.Monetary), (*C.double)(&out[0]))
	})
	return out[:len(d.X)], err
}

// CLV is each customer's discounted lifetime value over months months
// (pd_predict_clv): f is the transaction model, spend a Gamma-Gamma fit,
// discountRate per month, unitsPerMonth the data's time units per month.
func (f *Fit) CLV(spend *Fit, d Customers, months uint32, discountRate,
	unitsPerMonth float64) ([]float64, error) {
	if err := d.check("CLV", true, false); err != nil {
		return nil, err
	}
	if spend == nil || spend == f {
		return nil, &Error{Op: "CLV", Status: ErrInvalid,
			Message: "spend must be a separate Gamma-Gamma fit"}
	}
	spend.mu.Lock()
	sp := spend.p
	defer spend.mu.Unlock()
	if sp == nil {
		return nil, &Error{Op: "CLV", Status: ErrMisuse, Message: "the spend fit is closed"}
	}
	out := make([]float64, len(d.X)+1)
	err := f.call("CLV", func(p *C.pd_fit) C.pd_status {
		return C.pdgo_clv(p, sp, C.size_t(len(d.X)), ptr(d.X), ptr(d.TX), ptr(d.T),
			ptr(d.Monetary), C.uint32_t(months), C.double(discountRate),
			C.double(unitsPerMonth), (*C.double)(&out[0]))
	})
	return out[:len(d.X)], err
}

// DERT is the Pareto/NBD discounted expected residual transactions at a
// continuously compounded discountRate per time unit.
func (f *Fit) DERT(d Customers, discountRate float64) ([]float64, error) {
	if err := d.check("DERT", false, false); err != nil {
		return nil, err
	}
	out := make([]float64, len(d.X)+1)
	err := f.call("DERT", func(p *C.pd_fit) C.pd_status {
		return C.pdgo_dert(p, C.size_t(len(d.X)), ptr(d.X), ptr(d.TX), ptr(d.T),
			C.double(discountRate), (*C.double)(&out[0]))
	})
	return out[:len(d.X)], err
}
