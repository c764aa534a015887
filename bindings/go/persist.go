package privdomain

/*
#include <stdint.h>
#include <stdlib.h>
#include <privdomain/privdomain.h>

// Options are built here so the error buffer and key live in C memory.
static pd_status pdgo_store_open(const char *snap, const char *journal,
    int32_t exponent, int32_t sync, uint32_t every_events, uint32_t every_ms,
    const uint8_t *key, size_t key_len, int32_t threads, char *errbuf,
    size_t errcap, pd_open_report *report, pd_store **out) {
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.threads = threads;
  o.currency_exponent = exponent;
  o.sync = sync;
  o.sync_every_events = every_events;
  o.sync_every_ms = every_ms;
  o.identity_key = key;
  o.identity_key_len = key_len;
  o.errmsg = errbuf;
  o.errmsg_cap = errcap;
  if (journal == NULL) return pd_snapshot_load(snap, &o, out);
  return pd_store_open(snap, journal, &o, report, out);
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Journal sync policies (persist.h).
const (
	SyncEveryEvent int32 = 1 // fdatasync each change: nothing acknowledged is lost (default)
	SyncEveryN     int32 = 2 // every SyncEveryEvents changes
	SyncInterval   int32 = 3 // every SyncEveryMs milliseconds, checked at each append
	SyncNever      int32 = 4 // leave it to the operating system
)

// PersistOptions configures OpenStore and LoadSnapshot; nil or zero
// fields take the library's defaults (exponent 2, SyncEveryEvent).
type PersistOptions struct {
	CurrencyExponent int32 // for a store OpenStore creates; 0 = 2
	ExponentZero     bool
	Sync             int32
	SyncEveryEvents  uint32
	SyncEveryMs      uint32
	IdentityKey      []byte // the same key the store was created with
	// Threads a snapshot load may use: 0 = the library's default (1, the
	// calling goroutine's thread only); AllThreads = one per processor.
	Threads int32
}

// AllThreads asks for one thread per online processor (PersistOptions,
// Store.SetThreads).
const AllThreads int32 = -1

// OpenReport says what OpenStore found and did (pd_open_report).
type OpenReport struct {
	Created             bool   // neither file existed: a new, empty store
	CheckpointCompleted bool   // a checkpoint interrupted by a crash was finished
	Generation          uint64 // journal generation in use
	SnapshotPosition    uint64 // changes the snapshot contained
	Replayed            uint64 // journal records applied on top of it
	CutBytes            uint64 // torn tail cut from the journal (a crash mid-append)
	CutRecords          uint64
}

func openStore(op, snapshot string, journal *string, o *PersistOptions) (*Store, OpenReport, error) {
	var po PersistOptions
	if o != nil {
		po = *o
	}
	exp := int32(2)
	if po.CurrencyExponent != 0 || po.ExponentZero {
		exp = po.CurrencyExponent
	}
	if po.Sync == 0 {
		po.Sync = SyncEveryEvent
	}
	threads := po.Threads
	switch threads {
	case 0:
		threads = 1
	case AllThreads:
		threads = 0
	}
	cs := C.CString(snapshot)
	defer C.free(unsafe.Pointer(cs))
	var cj *C.char
	if journal != nil {
		cj = C.CString(*journal)
		defer C.free(unsafe.Pointer(cj))
	}
	var key *C.uint8_t
	if len(po.IdentityKey) > 0 {
		key = (*C.uint8_t)(C.CBytes(po.IdentityKey))
		defer C.free(unsafe.Pointer(key))
	}
	const errcap = 512
	errbuf := (*C.char)(C.calloc(errcap, 1))
	defer C.free(unsafe.Pointer(errbuf))
	rep := C.pd_open_report{size: C.sizeof_pd_open_report}
	var p *C.pd_store
	st := C.pdgo_store_open(cs, cj, C.int32_t(exp), C.int32_t(po.Sync), C.uint32_t(po.SyncEveryEvents),
		C.uint32_t(po.SyncEveryMs), key, C.size_t(len(po.IdentityKey)), C.int32_t(threads),
		errbuf, errcap, &rep, &p)
	if st < 0 {
		return nil, OpenReport{}, &Error{Op: op, Status: Status(st), Message: C.GoString(errbuf)}
	}
	s := &Store{p: p}
	runtime.SetFinalizer(s, func(s *Store) { s.Close() })
	return s, OpenReport{rep.created != 0, rep.checkpoint_completed != 0, uint64(rep.generation),
		uint64(rep.snapshot_position), uint64(rep.replayed), uint64(rep.cut_bytes),
		uint64(rep.cut_records)}, nil
}

// OpenStore opens the store kept in a snapshot file and a journal file
// (created empty when neither exists), replays the journal and keeps
// journaling every change before it is applied (pd_store_open). Close
// syncs and closes the journal.
func OpenStore(snapshot, journal string, opts *PersistOptions) (*Store, OpenReport, error) {
	return openStore("OpenStore", snapshot, &journal, opts)
}

// LoadSnapshot loads a store saved with SaveSnapshot; it has no journal.
func LoadSnapshot(path string, opts *PersistOptions) (*Store, error) {
	s, _, err := openStore("LoadSnapshot", path, nil, opts)
	return s, err
}

// SaveSnapshot writes the whole store to path atomically.
func (s *Store) SaveSnapshot(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	_, err := s.call("SaveSnapshot", func(p *C.pd_store) C.pd_status { return C.pd_snapshot_save(p, cp) })
	return err
}

// Checkpoint writes a new snapshot and starts an empty journal (a store
// from OpenStore only; others give ErrMisuse).
func (s *Store) Checkpoint() error {
	_, err := s.call("Checkpoint", func(p *C.pd_store) C.pd_status { return C.pd_store_checkpoint(p) })
	return err
}

// Sync makes every journaled change durable now, whatever the policy.
func (s *Store) Sync() error {
	_, err := s.call("Sync", func(p *C.pd_store) C.pd_status { return C.pd_store_sync(p) })
	return err
}
