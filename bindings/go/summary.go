package privdomain

/*
#include <stdint.h>
#include <stdlib.h>
#include <privdomain/privdomain.h>

// The ids arrive as one Go byte blob and their lengths; the array of
// pointers into the blob is built here, because cgo forbids passing Go
// memory that itself holds Go pointers. One batch stays one call, so the
// library's all-or-nothing rule holds for the whole Add.
static pd_status pdgo_summary_add(pd_summary *s, const char *blob,
    const size_t *lens, const int64_t *times, const double *amounts,
    size_t n) {
  if (n == 0) return pd_summary_add(s, NULL, NULL, NULL, NULL, 0);
  if (n > SIZE_MAX / sizeof(const char *)) return PD_E_NOMEM;
  const char **ids = malloc(n * sizeof *ids);
  if (ids == NULL) return PD_E_NOMEM;
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    ids[i] = blob + off;
    off += lens[i];
  }
  pd_status st = pd_summary_add(s, ids, lens, times, amounts, n);
  free(ids);
  return st;
}
*/
import "C"

import (
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Summary builds the per-customer rows the probability models are fitted
// on (pd_summary, summary.h): add transactions, Compute with a
// SummarySpec, read the columns (x, t_x, T, monetary, x_holdout) or
// Customers ready for Fit.Estimate. The convention is summary.h's: a
// period is a UTC calendar day (purchases on one day count once, their
// spends summed), x counts repeat days, t_x and T are in the spec's unit.
//
// Partial and LoadPartial serialise and merge the mergeable state of
// summaries computed on other machines (summary_partial.h,
// docs/DISTRIBUTED.md). A Summary may be used from several goroutines;
// the binding serialises calls.
type Summary struct {
	mu sync.Mutex
	p  *C.pd_summary
}

// SummarySpec says what Compute and Partial summarise.
type SummarySpec struct {
	// CalibrationEnd is the last instant of the calibration period
	// (inclusive). To end on a whole day, pass that day's last second.
	CalibrationEnd time.Time
	// ObservationEnd is the last instant of the holdout period
	// (inclusive, not before CalibrationEnd); the zero Time means no
	// holdout period (no XHoldout column).
	ObservationEnd time.Time
	// Unit of t_x and T: UnitDay or UnitWeek; 0 means UnitDay.
	Unit int32
}

func (sp SummarySpec) c() C.pd_summary_spec {
	c := C.pd_summary_spec{size: C.sizeof_pd_summary_spec, calibration_end: cTime(sp.CalibrationEnd),
		observation_end: C.PD_SUMMARY_NO_HOLDOUT, unit: C.int32_t(sp.Unit)}
	if !sp.ObservationEnd.IsZero() {
		c.observation_end = cTime(sp.ObservationEnd)
	}
	if sp.Unit == 0 {
		c.unit = C.PD_TIME_UNIT_DAY
	}
	return c
}

// Columns of a computed summary (pd_summary_column).
const (
	SummaryX        int32 = 1 // repeat periods
	SummaryTX       int32 = 2 // recency, in the unit
	SummaryT        int32 = 3 // age, in the unit
	SummaryMonetary int32 = 4 // mean spend of the repeat periods
	SummaryXHoldout int32 = 5 // holdout periods with a purchase
	SummaryWeight   int32 = 6 // customers per row (compressed only)
)

// NewSummary creates an empty summary builder.
func NewSummary() (*Summary, error) {
	var p *C.pd_summary
	if st := C.pd_summary_new(nil, &p); st < 0 {
		return nil, &Error{Op: "NewSummary", Status: Status(st)}
	}
	s := &Summary{p: p}
	runtime.SetFinalizer(s, func(s *Summary) { s.Close() })
	return s, nil
}

// Close releases the summary; later calls fail with ErrMisuse. Closing
// twice is harmless.
func (s *Summary) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		C.pd_summary_free(s.p)
		s.p = nil
	}
	runtime.SetFinalizer(s, nil)
	return nil
}

// call runs f on the live handle under the mutex and turns a negative
// status into an *Error carrying the summary's message.
func (s *Summary) call(op string, f func(p *C.pd_summary) C.pd_status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return &Error{Op: op, Status: ErrMisuse, Message: "the summary is closed"}
	}
	if st := f(s.p); st < 0 {
		return &Error{Op: op, Status: Status(st), Message: C.GoString(C.pd_summary_errmsg(s.p))}
	}
	return nil
}

// Add adds a batch of transactions, all or nothing: ids[i] bought at
// times[i] for amounts[i] (any currency unit, finite, >= 0). amounts may
// be nil for 0. Times are kept as whole seconds. Errors: ErrInvalid
// (slices of different lengths), ErrRange (a time outside
// TimeMin..TimeMax, an amount negative or not finite; the message gives
// the index), ErrFull, ErrNoMem.
func (s *Summary) Add(ids []string, times []time.Time, amounts []float64) error {
	secs := make([]int64, len(times))
	for i, t := range times {
		secs[i] = t.Unix()
	}
	return s.add("Add", ids, secs, amounts)
}

// AddUnix is Add with times as seconds since the epoch, for large batches.
func (s *Summary) AddUnix(ids []string, times []int64, amounts []float64) error {
	return s.add("AddUnix", ids, times, amounts)
}

func (s *Summary) add(op string, ids []string, times []int64, amounts []float64) error {
	n := len(ids)
	if len(times) != n || (amounts != nil && len(amounts) != n) {
		return &Error{Op: op, Status: ErrInvalid,
			Message: "ids, times (and amounts when given) must have the same length"}
	}
	total := 1 // never an empty blob, so its address is always valid
	for _, id := range ids {
		total += len(id)
	}
	blob := make([]byte, 0, total)
	lens := make([]C.size_t, n+1)
	for i, id := range ids {
		blob = append(blob, id...)
		lens[i] = C.size_t(len(id))
	}
	blob = append(blob, 0)
	var tp *C.int64_t
	if n > 0 {
		tp = (*C.int64_t)(unsafe.Pointer(&times[0]))
	}
	var ap *C.double
	if n > 0 && amounts != nil {
		ap = (*C.double)(unsafe.Pointer(&amounts[0]))
	}
	return s.call(op, func(p *C.pd_summary) C.pd_status {
		return C.pdgo_summary_add(p, (*C.char)(unsafe.Pointer(&blob[0])), &lens[0], tp, ap,
			C.size_t(n))
	})
}

// ImportTransactions adds the transactions in data, all or nothing, in
// format "csv", "cdnow-sample" or "cdnow-master" (io.h). Amounts are
// taken as written. Errors: ErrInvalid (unknown format), ErrCorrupt
// (malformed input; the message gives the line), ErrFull, ErrNoMem.
func (s *Summary) ImportTransactions(format string, data []byte) error {
	fmtName, _, free := cText(format)
	defer free()
	f := C.pd_import_format_from_name(fmtName)
	if f == 0 || strings.IndexByte(format, 0) >= 0 {
		return &Error{Op: "ImportTransactions", Status: ErrInvalid,
			Message: "unknown format " + format + " (csv, cdnow-sample, cdnow-master)"}
	}
	var dp *C.char
	if len(data) > 0 {
		dp = (*C.char)(unsafe.Pointer(&data[0]))
	}
	return s.call("ImportTransactions", func(p *C.pd_summary) C.pd_status {
		return C.pd_import_transactions(p, f, dp, C.size_t(len(data)))
	})
}

// Transactions is the number of transactions added so far.
func (s *Summary) Transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(C.pd_summary_transactions(s.p)) // 0 for a closed summary
}

// Compute summarises the added transactions and every loaded partial per
// customer, replacing the previous result (kept on error). Errors:
// ErrInvalid (bad unit, ObservationEnd before CalibrationEnd), ErrRange
// (an end outside TimeMin..TimeMax), ErrConflict (partials were loaded for
// other ends, or a customer overlaps a partial beyond the merge rule; the
// message names the customer), ErrNoMem.
func (s *Summary) Compute(spec SummarySpec) error {
	c := spec.c()
	return s.call("Compute", func(p *C.pd_summary) C.pd_status { return C.pd_summary_compute(p, &c) })
}

// Rows is the number of rows of the current result (0 before Compute).
func (s *Summary) Rows() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(C.pd_summary_rows(s.p))
}

// Column is a copy of one column (Summary*) of the current result, in row
// order. Errors: ErrInvalid (unknown column), ErrNotFound (nothing
// computed, or the column is absent: XHoldout without an observation end,
// Weight unless compressed, Monetary and XHoldout once compressed).
func (s *Summary) Column(column int32) ([]float64, error) {
	var out []float64
	err := s.call("Column", func(p *C.pd_summary) C.pd_status {
		var col *C.double
		if st := C.pd_summary_column(p, C.int32_t(column), &col); st < 0 {
			return st
		}
		out = copyDoubles(col, int(C.pd_summary_rows(p)))
		return C.PD_OK
	})
	return out, err
}

// copyDoubles copies n doubles the library owns into Go memory.
func copyDoubles(p *C.double, n int) []float64 {
	out := make([]float64, n)
	if n > 0 {
		copy(out, unsafe.Slice((*float64)(unsafe.Pointer(p)), n))
	}
	return out
}

// Customers is a copy of the current result as model input: X, TX, T and
// Monetary of a per-customer result, or X, TX, T and Weight of a
// compressed one. Errors: ErrNotFound (nothing computed).
func (s *Summary) Customers() (Customers, error) {
	var d Customers
	err := s.call("Customers", func(p *C.pd_summary) C.pd_status {
		c := C.pd_customer_data{size: C.sizeof_pd_customer_data}
		if st := C.pd_summary_data(p, &c); st < 0 {
			return st
		}
		n := int(c.n)
		d = Customers{X: copyDoubles(c.x, n), TX: copyDoubles(c.t_x, n), T: copyDoubles(c.T, n)}
		if c.monetary != nil {
			d.Monetary = copyDoubles(c.monetary, n)
		}
		if c.weight != nil {
			d.Weight = copyDoubles(c.weight, n)
		}
		return C.PD_OK
	})
	return d, err
}

// IDs are the customer ids of the rows of a per-customer result, in row
// order (first appearance). Errors: ErrNotFound (the result is
// compressed).
func (s *Summary) IDs() ([]string, error) {
	var out []string
	err := s.call("IDs", func(p *C.pd_summary) C.pd_status {
		n := C.pd_summary_rows(p)
		out = make([]string, 0, int(n))
		for i := C.size_t(0); i < n; i++ {
			var id *C.char
			var l C.size_t
			if st := C.pd_summary_id(p, i, &id, &l); st < 0 {
				return st
			}
			out = append(out, C.GoStringN(id, C.int(l)))
		}
		return C.PD_OK
	})
	return out, err
}

// Compress replaces the current result by its distinct (x, t_x, T) rows
// with the number of customers of each in the Weight column (ids,
// monetary value and x_holdout are dropped). Errors: ErrNotFound.
func (s *Summary) Compress() error {
	return s.call("Compress", func(p *C.pd_summary) C.pd_status { return C.pd_summary_compress(p) })
}

// Merge adds the result of other, a summary of other customers computed
// with the same spec, to this one's result (summary.h). To merge the same
// customers summarised in several places use Partial and LoadPartial.
// Errors: ErrMisuse (other is this summary or closed), ErrNotFound (no
// result), ErrConflict (different specs), ErrDuplicate (a customer of
// other is known here), ErrNoMem.
func (s *Summary) Merge(other *Summary) error {
	if other == nil || other == s {
		return &Error{Op: "Merge", Status: ErrMisuse, Message: "other must be another summary"}
	}
	defer lockBoth(&s.mu, &other.mu)()
	if s.p == nil || other.p == nil {
		return &Error{Op: "Merge", Status: ErrMisuse, Message: "the summary is closed"}
	}
	if st := C.pd_summary_merge(s.p, other.p); st < 0 {
		return &Error{Op: "Merge", Status: Status(st), Message: C.GoString(C.pd_summary_errmsg(s.p))}
	}
	return nil
}

// Partial is the mergeable state of this summary (its transactions and
// every partial loaded into it) for spec's ends, serialised
// (summary_partial.h): stable bytes to ship to another machine and
// LoadPartial there. The unit does not matter. The current result is not
// changed. Errors: as Compute.
func (s *Summary) Partial(spec SummarySpec) ([]byte, error) {
	c := spec.c()
	var out []byte
	err := s.call("Partial", func(p *C.pd_summary) C.pd_status {
		var b *C.pd_bytes
		if st := C.pd_summary_partial_save(p, &c, &b); st < 0 {
			return st
		}
		out = goBytes(b)
		return C.PD_OK
	})
	return out, err
}

// goBytes copies a pd_bytes into Go memory and frees it.
func goBytes(b *C.pd_bytes) []byte {
	defer C.pd_bytes_free(b)
	return C.GoBytes(C.pd_bytes_data(b), C.int(C.pd_bytes_size(b)))
}

// LoadPartial merges a serialised partial (from Partial, on any machine)
// into this summary, all or nothing; Compute afterwards with the same
// ends gives the rows of one summary over all the transactions. Load each
// partition once. Errors: ErrCorrupt (not a partial, truncated or
// damaged; the message says which check failed), ErrVersion (a newer
// format), ErrConflict (a partial for other ends was loaded before, or a
// customer overlaps beyond the merge rule; the message names the
// customer), ErrFull, ErrNoMem.
func (s *Summary) LoadPartial(data []byte) error {
	var dp unsafe.Pointer
	if len(data) > 0 {
		dp = unsafe.Pointer(&data[0])
	}
	return s.call("LoadPartial", func(p *C.pd_summary) C.pd_status {
		return C.pd_summary_partial_load(p, dp, C.size_t(len(data)))
	})
}

// PartialInfo checks a serialised partial as LoadPartial does and returns
// its number of customers and its ends (observationEnd is the zero Time
// without a holdout period). Errors: ErrCorrupt, ErrVersion.
func PartialInfo(data []byte) (customers int, calibrationEnd, observationEnd time.Time, err error) {
	var dp unsafe.Pointer
	if len(data) > 0 {
		dp = unsafe.Pointer(&data[0])
	}
	var n C.size_t
	var ce, oe C.int64_t
	if st := C.pd_summary_partial_customers(dp, C.size_t(len(data)), &ce, &oe, &n); st < 0 {
		return 0, time.Time{}, time.Time{}, &Error{Op: "PartialInfo", Status: Status(st)}
	}
	if oe != C.PD_SUMMARY_NO_HOLDOUT {
		observationEnd = goTime(oe)
	}
	return int(n), goTime(ce), observationEnd, nil
}
