// Package privdomain is the Go binding of libprivdomain, the C library that
// models a retail brand's private domain (私域流量): members and their
// identities, channels and links, orders and refunds, guides (导购),
// consent and contact caps, and the customer-base probability models
// (BG/NBD, Pareto/NBD, Gamma-Gamma, sBG …) that turn purchase histories
// into retention and lifetime value.
//
// The binding uses cgo over the installed library, found with pkg-config
// (package "privdomain"). Conventions:
//
//   - Handles (Store, Fit) are created with NewStore / NewFit and released
//     with Close. A finalizer frees a handle that was never closed, but only
//     as a safety net: close what you open.
//   - Every failure is an *Error carrying the library's Status and its
//     English message; errors.Is(err, privdomain.ErrNotFound) tests the
//     status. A bad argument is an error, never a panic.
//   - Times are time.Time (stored as whole seconds, UTC); money is int64 in
//     the currency's minor unit (fen for CNY).
//   - A Store and a Fit may be used from several goroutines at once.
package privdomain

/*
#cgo pkg-config: privdomain
#include <stdlib.h>
#include <privdomain/privdomain.h>
*/
import "C"

import (
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// Status is a libprivdomain status code (status.h). The negative codes are
// also the sentinel errors ErrInvalid … ErrFull, for errors.Is.
type Status int32

// Status codes, as numbered by status.h (never renumbered).
const (
	StatusOK       Status = 0
	StatusReplayed Status = 1
)

// Sentinel errors, one per error status. Every *Error returned by this
// package unwraps to one of them.
const (
	ErrInvalid       Status = -1
	ErrNotFound      Status = -2
	ErrDuplicate     Status = -3
	ErrNoMem         Status = -4
	ErrIO            Status = -5
	ErrCorrupt       Status = -6
	ErrVersion       Status = -7
	ErrNumeric       Status = -8
	ErrMisuse        Status = -9
	ErrRange         Status = -10
	ErrOverflow      Status = -11
	ErrErased        Status = -12
	ErrConflict      Status = -13
	ErrUTF8          Status = -14
	ErrNoConvergence Status = -15
	ErrFull          Status = -16
)

// Error returns the library's short description of the status
// (pd_status_str).
func (s Status) Error() string { return C.GoString(C.pd_status_str(C.pd_status(s))) }

// String is the same as Error.
func (s Status) String() string { return s.Error() }

// Error is a failed library call: Op names the call, Status is the code it
// returned and Message the library's explanation (pd_store_errmsg or
// pd_fit_errmsg, or a message of this binding for checks made in Go).
type Error struct {
	Op      string
	Status  Status
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("privdomain: %s: %s", e.Op, e.Status.Error())
	}
	return fmt.Sprintf("privdomain: %s: %s", e.Op, e.Message)
}

// Unwrap gives the Status, so that errors.Is(err, ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Status }

// Version is the loaded library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.pd_version_string()) }

// EventID is the library's stable 64-bit id for a text id (an order
// number, a message id): the same text always gives the same non-zero id
// (pd_event_id_from_string). Use it to make retried submissions idempotent.
func EventID(text string) uint64 {
	p, n, free := cText(text) // never NULL, so even "" gets a non-zero id
	defer free()
	return uint64(C.pd_event_id_from_string(p, n))
}

// cText copies s into C memory with an explicit length (embedded NULs are
// kept, so the library can reject them). free releases the copy.
func cText(s string) (*C.char, C.size_t, func()) {
	p := C.CString(s)
	return p, C.size_t(len(s)), func() { C.free(unsafe.Pointer(p)) }
}

// Earliest and latest times the library accepts (PD_TIME_MIN, PD_TIME_MAX).
var (
	TimeMin = time.Unix(0, 0).UTC()
	TimeMax = time.Unix(4102444800, 0).UTC()
)

// cTime turns a time into library seconds. Sub-second parts are dropped.
func cTime(t time.Time) C.int64_t { return C.int64_t(t.Unix()) }

// goTime turns library seconds into a time; -1 (none) becomes the zero Time.
func goTime(s C.int64_t) time.Time {
	if s < 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

// lockBoth locks two handles' mutexes in address order, so that a.Merge(b)
// and b.Merge(a) running at once cannot deadlock; it returns the unlock.
func lockBoth(a, b *sync.Mutex) func() {
	if uintptr(unsafe.Pointer(a)) > uintptr(unsafe.Pointer(b)) {
		a, b = b, a
	}
	a.Lock()
	b.Lock()
	return func() {
		b.Unlock()
		a.Unlock()
	}
}
