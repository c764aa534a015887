package privdomain

/*
#include <stdint.h>
#include <privdomain/privdomain.h>

// The spec points at option structs, which cgo cannot pass from Go
// memory: they are built here on the C stack from the library's defaults.
// window 0 keeps the default conversion window, unit 0 and periods 0 the
// default cohort unit and periods.
static pd_status pdgo_aggregate_compute(pd_store *s, int32_t kind,
    const pd_metrics_filter *f, int32_t group_by, int64_t window,
    double model_clv, int32_t cohort_unit, uint32_t periods, int32_t channel,
    double accuracy, pd_aggregate **out) {
  pd_funnel_options fo = PD_FUNNEL_OPTIONS_INIT;
  pd_link_retention_options lo = PD_LINK_RETENTION_OPTIONS_INIT;
  pd_repurchase_options ro = PD_REPURCHASE_OPTIONS_INIT;
  pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
  fo.group_by = group_by;
  if (window != 0) fo.conversion_window = window;
  fo.model_clv = model_clv;
  if (cohort_unit != 0) lo.cohort_unit = cohort_unit;
  if (periods != 0) lo.periods = periods;
  lo.channel = channel;
  ro.group_by = group_by;
  spec.funnel = &fo;
  spec.link_retention = &lo;
  spec.repurchase = &ro;
  spec.accuracy = accuracy;
  return pd_aggregate_compute(s, kind, f, &spec, out);
}
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Kinds of store aggregate (aggregates.h).
const (
	AggregateFunnel      int32 = 1 // the funnel's counts per group key
	AggregateLinkCohorts int32 = 2 // the link-retention cohort table
	AggregateRFM         int32 = 3 // buyers' recency, frequency, monetary sketches
	AggregateRepurchase  int32 = 4 // repurchase counts per group key
)

// Dimensions of an RFM aggregate, for Aggregate.Quantile.
const (
	AggregateRecency   int32 = 1 // days from the last order to AsOf
	AggregateFrequency int32 = 2 // orders
	AggregateMonetary  int32 = 3 // net revenue, minor units
)

// AggregateOptions are the options of the figure behind an aggregate; the
// zero value means the library's defaults. Aggregates merge only when
// computed with equal filters and options.
type AggregateOptions struct {
	// GroupBy (By* constant) for AggregateFunnel and AggregateRepurchase.
	GroupBy int32
	// ConversionWindow for AggregateFunnel; 0 means 30 days.
	ConversionWindow time.Duration
	// ModelCLV for AggregateFunnel: a model-based CLV per linked user,
	// minor units; 0 means realised net revenue.
	ModelCLV float64
	// CohortUnit (Cohort* constant; 0 = CohortMonth), Periods (0 = 12)
	// and Channel (0 = every channel) for AggregateLinkCohorts.
	CohortUnit int32
	Periods    uint32
	Channel    int32
	// Accuracy is the relative error of the quantile sketches, 0.001–0.2;
	// 0 means 0.01.
	Accuracy float64
}

// Aggregate is the mergeable state behind one figure of one store or
// shard (pd_aggregate, aggregates.h): compute it on each shard (disjoint
// users), Save it, LoadAggregate and Merge the bytes at head office, and
// read the figure of one store holding every shard's users. Safe for
// concurrent use; the binding serialises calls.
type Aggregate struct {
	mu sync.Mutex
	p  *C.pd_aggregate
}

func newAggregate(p *C.pd_aggregate) *Aggregate {
	a := &Aggregate{p: p}
	runtime.SetFinalizer(a, func(a *Aggregate) { a.Close() })
	return a
}

// ComputeAggregate computes the aggregate of kind (Aggregate* constant)
// over the users passing f, as of f.AsOf; opts may be nil for the
// defaults. Errors (with the store's message): the filter errors of the
// metrics, ErrInvalid (unknown kind, bad options or accuracy),
// ErrNotFound (unknown channel), ErrNoMem. The aggregate owns its state:
// it stays valid after the store is closed.
func (s *Store) ComputeAggregate(kind int32, f Filter, opts *AggregateOptions) (*Aggregate, error) {
	var o AggregateOptions
	if opts != nil {
		o = *opts
	}
	cf := f.c()
	var p *C.pd_aggregate
	_, err := s.call("ComputeAggregate", func(sp *C.pd_store) C.pd_status {
		return C.pdgo_aggregate_compute(sp, C.int32_t(kind), &cf, C.int32_t(o.GroupBy),
			C.int64_t(o.ConversionWindow/time.Second), C.double(o.ModelCLV),
			C.int32_t(o.CohortUnit), C.uint32_t(o.Periods), C.int32_t(o.Channel),
			C.double(o.Accuracy), &p)
	})
	if err != nil {
		return nil, err
	}
	return newAggregate(p), nil
}

// LoadAggregate reads an aggregate from the bytes of Save (made on any
// machine). Errors: ErrCorrupt (not an aggregate, truncated, trailing
// bytes, checksum mismatch, broken contents; the message says which),
// ErrVersion (a newer format), ErrNoMem.
func LoadAggregate(data []byte) (*Aggregate, error) {
	var dp unsafe.Pointer
	if len(data) > 0 {
		dp = unsafe.Pointer(&data[0])
	}
	why := make([]byte, 256)
	var p *C.pd_aggregate
	st := C.pd_aggregate_load(dp, C.size_t(len(data)), nil, (*C.char)(unsafe.Pointer(&why[0])),
		C.size_t(len(why)), &p)
	if st < 0 {
		return nil, &Error{Op: "LoadAggregate", Status: Status(st),
			Message: C.GoString((*C.char)(unsafe.Pointer(&why[0])))}
	}
	return newAggregate(p), nil
}

// Close releases the aggregate; later calls fail with ErrMisuse. Closing
// twice is harmless.
func (a *Aggregate) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.p != nil {
		C.pd_aggregate_free(a.p)
		a.p = nil
	}
	runtime.SetFinalizer(a, nil)
	return nil
}

// call runs f on the live handle under the mutex. The library keeps a
// message only for Merge; other errors carry msg when the status is
// ErrMisuse (the aggregate is of another kind).
func (a *Aggregate) call(op, msg string, f func(p *C.pd_aggregate) C.pd_status) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.p == nil {
		return &Error{Op: op, Status: ErrMisuse, Message: "the aggregate is closed"}
	}
	if st := f(a.p); st < 0 {
		e := &Error{Op: op, Status: Status(st)}
		if Status(st) == ErrMisuse {
			e.Message = msg
		}
		return e
	}
	return nil
}

// Kind is the aggregate's kind (Aggregate* constant), 0 once closed.
func (a *Aggregate) Kind() int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int32(C.pd_aggregate_kind(a.p))
}

// Save is the serialised form (docs/FORMAT.md, "Serialised store
// aggregates"): stable little-endian bytes that depend only on the
// aggregate's contents. Errors: ErrNoMem.
func (a *Aggregate) Save() ([]byte, error) {
	var out []byte
	err := a.call("Save", "", func(p *C.pd_aggregate) C.pd_status {
		var b *C.pd_bytes
		if st := C.pd_aggregate_save(p, &b); st < 0 {
			return st
		}
		out = goBytes(b)
		return C.PD_OK
	})
	return out, err
}

// Merge adds other into a: afterwards a is the aggregate of the users of
// both, which must be disjoint. other is unchanged; on error a is too.
// The order of merges does not matter (the saved bytes are the same).
// Errors: ErrInvalid (other nil or a itself), ErrMisuse (closed),
// ErrConflict (different kinds, filters, AsOf, options or accuracy),
// ErrOverflow, ErrNoMem.
func (a *Aggregate) Merge(other *Aggregate) error {
	if other == nil || other == a {
		return &Error{Op: "Merge", Status: ErrInvalid, Message: "other must be another aggregate"}
	}
	defer lockBoth(&a.mu, &other.mu)()
	if a.p == nil || other.p == nil {
		return &Error{Op: "Merge", Status: ErrMisuse, Message: "the aggregate is closed"}
	}
	if st := C.pd_aggregate_merge(a.p, other.p); st < 0 {
		return &Error{Op: "Merge", Status: Status(st), Message: C.GoString(C.pd_aggregate_errmsg(a.p))}
	}
	return nil
}

// FunnelRows are the rows of an AggregateFunnel aggregate, exactly as
// Store.Funnel lays them out on one store holding every merged shard's
// users (counts, revenue, cost and rates exact; the mean days to first
// purchase up to the last bits, the median within the sketch's accuracy).
// Errors: ErrMisuse (another kind), ErrNoMem.
func (a *Aggregate) FunnelRows() ([]FunnelRow, error) {
	var out []FunnelRow
	err := a.call("FunnelRows", "not a funnel aggregate", func(p *C.pd_aggregate) C.pd_status {
		var rows *C.pd_rows
		if st := C.pd_aggregate_funnel_rows(p, &rows); st < 0 {
			return st
		}
		return funnelRows(rows, &out)
	})
	return out, err
}

// LinkRetentionRows is the cohort table of an AggregateLinkCohorts
// aggregate, exactly as Store.LinkRetention lays it out. Errors:
// ErrMisuse (another kind), ErrNoMem.
func (a *Aggregate) LinkRetentionRows() ([]RetentionCell, error) {
	var out []RetentionCell
	err := a.call("LinkRetentionRows", "not a link-cohort aggregate", func(p *C.pd_aggregate) C.pd_status {
		var rows *C.pd_rows
		if st := C.pd_aggregate_link_retention_rows(p, &rows); st < 0 {
			return st
		}
		return retentionCells(rows, &out)
	})
	return out, err
}

// RepurchaseRows are the rows of an AggregateRepurchase aggregate, laid
// out as Store.Repurchase lays them out (counts, revenues and rates
// exact; IntervalMeanDays up to the last bits, IntervalMedianDays within
// the sketch's accuracy). Errors: ErrMisuse (another kind), ErrNoMem.
func (a *Aggregate) RepurchaseRows() ([]RepurchaseRow, error) {
	var out []RepurchaseRow
	err := a.call("RepurchaseRows", "not a repurchase aggregate", func(p *C.pd_aggregate) C.pd_status {
		var rows *C.pd_rows
		if st := C.pd_aggregate_repurchase_rows(p, &rows); st < 0 {
			return st
		}
		return repurchaseRows(rows, &out)
	})
	return out, err
}

// Quantile is the q (0–1) quantile of dimension (AggregateRecency in
// days, AggregateFrequency in orders, AggregateMonetary in minor units)
// over the buyers of an AggregateRFM aggregate, within the relative
// accuracy of the value of rank floor(q·(n−1)). Errors: ErrInvalid (q NaN
// or outside 0–1, unknown dimension, no buyer), ErrMisuse (another kind).
func (a *Aggregate) Quantile(dimension int32, q float64) (float64, error) {
	var out C.double
	err := a.call("Quantile", "not an RFM aggregate", func(p *C.pd_aggregate) C.pd_status {
		return C.pd_aggregate_quantile(p, C.int32_t(dimension), C.double(q), &out)
	})
	return float64(out), err
}

// RFMThresholds are the chain-wide quintile thresholds (the 20, 40, 60
// and 80% quantiles) and totals of an RFM aggregate. A buyer scores F = 1
// + the frequency thresholds strictly below their frequency, M likewise,
// R = 1 + the recency thresholds strictly above their recency.
type RFMThresholds struct {
	Buyers    uint64 // users with an order at or before AsOf
	Orders    uint64 // their orders
	Revenue   int64  // their net revenue, minor units
	Recency   [4]float64
	Frequency [4]float64 // rounded to whole orders
	Monetary  [4]float64 // rounded to whole minor units
}

// RFMThresholds computes the thresholds of an AggregateRFM aggregate
// (usually merged from every shard). Errors: ErrInvalid (no buyer),
// ErrMisuse (another kind).
func (a *Aggregate) RFMThresholds() (RFMThresholds, error) {
	c := C.pd_rfm_thresholds{size: C.sizeof_pd_rfm_thresholds}
	err := a.call("RFMThresholds", "not an RFM aggregate", func(p *C.pd_aggregate) C.pd_status {
		return C.pd_aggregate_rfm_thresholds(p, &c)
	})
	if err != nil {
		return RFMThresholds{}, err
	}
	t := RFMThresholds{Buyers: uint64(c.buyers), Orders: uint64(c.orders), Revenue: int64(c.revenue)}
	for i := 0; i < 4; i++ {
		t.Recency[i] = float64(c.recency[i])
		t.Frequency[i] = float64(c.frequency[i])
		t.Monetary[i] = float64(c.monetary[i])
	}
	return t, nil
}
