package privdomain

/*
#include <stdint.h>
#include <stdlib.h>
#include <privdomain/privdomain.h>

// Go callbacks (callbacks.go); the user pointer carries a cgo.Handle.
extern int pdgoIdentity(uintptr_t h, char *ns, size_t ns_len, char *key, size_t key_len);
extern int pdgoUser(uintptr_t h, uint64_t user);
extern int pdgoLink(uintptr_t h, pd_link_state *state);

static int pdgo_identity_tramp(void *u, const char *ns, size_t ns_len,
                               const char *key, size_t key_len) {
  return pdgoIdentity((uintptr_t)u, (char *)ns, ns_len, (char *)key, key_len);
}
static int pdgo_user_tramp(void *u, pd_user_id user) {
  return pdgoUser((uintptr_t)u, user);
}
static int pdgo_link_tramp(void *u, const pd_link_state *s) {
  return pdgoLink((uintptr_t)u, (pd_link_state *)s);
}
static pd_status pdgo_user_identities(pd_store *s, pd_user_id user, uintptr_t h) {
  return pd_user_identities(s, user, pdgo_identity_tramp, (void *)h);
}
static pd_status pdgo_foreach_user(pd_store *s, uintptr_t h) {
  return pd_store_foreach_user(s, pdgo_user_tramp, (void *)h);
}
static pd_status pdgo_user_links(pd_store *s, pd_user_id user, int64_t as_of,
                                 uintptr_t h) {
  return pd_user_links(s, user, as_of, pdgo_link_tramp, (void *)h);
}
// Built on the C side so that the key bytes never sit in Go-visible C
// structs longer than the call.
static pd_status pdgo_store_new(int32_t exponent, const uint8_t *key,
                                size_t key_len, pd_store **out) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.currency_exponent = exponent;
  o.identity_key = key;
  o.identity_key_len = key_len;
  return pd_store_new(&o, out);
}
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// UserID names a user; ids start at 1, 0 means "no user". After a merge
// the absorbed id keeps working as an alias of the survivor.
type UserID uint64

// StoreOptions configures NewStore. The zero value means currency exponent
// 2 (fen) and identity keys kept as given.
type StoreOptions struct {
	// CurrencyExponent is the decimal exponent of the minor unit, 0–4;
	// 0 means the default, 2 (fen), unless ExponentZero is set.
	CurrencyExponent int32
	// ExponentZero selects exponent 0 (a currency without minor units).
	ExponentZero bool
	// IdentityKey, when set (16–1024 bytes), makes the store keep
	// identity keys only as HMAC-SHA-256 pseudonyms (PIPL); see store.h.
	IdentityKey []byte
}

// Store is a brand's private domain in memory (pd_store). Safe for
// concurrent use; every call is serialised.
type Store struct {
	mu sync.Mutex
	p  *C.pd_store
}

// NewStore creates an empty store. opts may be nil for the defaults.
func NewStore(opts *StoreOptions) (*Store, error) {
	exp := int32(2)
	var key []byte
	if opts != nil {
		if opts.CurrencyExponent != 0 || opts.ExponentZero {
			exp = opts.CurrencyExponent
		}
		key = opts.IdentityKey
	}
	var keyPtr *C.uint8_t
	if len(key) > 0 {
		keyPtr = (*C.uint8_t)(C.CBytes(key))
		defer C.free(unsafe.Pointer(keyPtr))
	}
	var p *C.pd_store
	st := C.pdgo_store_new(C.int32_t(exp), keyPtr, C.size_t(len(key)), &p)
	if st < 0 {
		msg := "invalid store options (currency exponent 0–4, identity key 16–1024 bytes)"
		if Status(st) != ErrInvalid {
			msg = ""
		}
		return nil, &Error{Op: "NewStore", Status: Status(st), Message: msg}
	}
	s := &Store{p: p}
	runtime.SetFinalizer(s, func(s *Store) { s.Close() })
	return s, nil
}

// Close releases the store. Calls after Close return an error wrapping
// ErrMisuse. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		C.pd_store_free(s.p)
		s.p = nil
	}
	runtime.SetFinalizer(s, nil)
	return nil
}

// call runs f on the live handle under the store's mutex and turns a
// negative status into an *Error carrying the store's message. It reports
// whether the library said PD_REPLAYED.
func (s *Store) call(op string, f func(p *C.pd_store) C.pd_status) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return false, &Error{Op: op, Status: ErrMisuse, Message: "the store is closed"}
	}
	st := f(s.p)
	if st < 0 {
		return false, &Error{Op: op, Status: Status(st),
			Message: C.GoString(C.pd_store_errmsg(s.p))}
	}
	return st == C.PD_REPLAYED, nil
}

// CurrencyExponent is the store's currency exponent (2 for fen).
func (s *Store) CurrencyExponent() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int32(C.pd_store_currency_exponent(s.p))
}

// Event kinds, as Reserve takes them (PD_EVENT_*, events.h).
const (
	EventLink            int32 = 1
	EventUnlink          int32 = 2
	EventTouchpoint      int32 = 3
	EventOrder           int32 = 4
	EventRefund          int32 = 5
	EventReferral        int32 = 6
	EventGuideBind       int32 = 7
	EventGuideHandover   int32 = 8
	EventGuideDeactivate int32 = 9
	EventReach           int32 = 10
	EventCost            int32 = 11
	EventConsent         int32 = 12
)

// ReserveUsers is Reserve's kind for users (PD_RESERVE_USERS).
const ReserveUsers int32 = 100

// Reserve makes room for count more events of kind (an Event* kind; 0
// sizes the event-id index only), or count more users with one identity
// each (ReserveUsers), before a bulk load (pd_store_reserve). With
// SetThreads above 1, large reservations are made resident at once on
// those threads, so recording takes no page faults (the memory is
// committed: reserve only what is coming).
func (s *Store) Reserve(kind int32, count uint64) error {
	_, err := s.call("Reserve", func(p *C.pd_store) C.pd_status {
		return C.pd_store_reserve(p, C.int32_t(kind), C.uint64_t(count))
	})
	return err
}

// Cluster lays each user's links, unlinks, touchpoints, binds and
// consent records side by side in memory, after a bulk load
// (pd_store_cluster): per-user metrics (trust, pressure, guide figures …)
// then read memory in sequence. Every answer stays the same; a snapshot
// keeps the layout.
func (s *Store) Cluster() error {
	_, err := s.call("Cluster", func(p *C.pd_store) C.pd_status {
		return C.pd_store_cluster(p)
	})
	return err
}

// SetThreads sets how many threads the store's metrics use: 1 (the
// default; 0 means the same) = the calling thread only, AllThreads = one
// per processor, 2..64 that many (pd_store_set_threads). Results are the
// same for every count.
func (s *Store) SetThreads(n int32) error {
	if n == AllThreads {
		n = 0
	} else if n == 0 {
		n = 1
	}
	_, err := s.call("SetThreads", func(p *C.pd_store) C.pd_status {
		return C.pd_store_set_threads(p, C.int32_t(n))
	})
	return err
}

// Threads is the thread count last set (AllThreads for one per
// processor).
func (s *Store) Threads() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int32(C.pd_store_threads(s.p))
	if n == 0 {
		return AllThreads
	}
	return n
}

// SpareAuto is SetSpareLimit's automatic limit, the default.
const SpareAuto int64 = -1

// SetSpareLimit sets how much freed working memory (blocks of 1 MiB and
// more) the store keeps for its next computations, so that they take no
// page faults for it: SpareAuto (the default: a quarter of
// Stats().MemoryBytes), 0 (keep none, and give back what is kept) or a
// number of bytes (pd_store_set_spare_limit). Stats().SpareBytes is what
// is kept.
func (s *Store) SetSpareLimit(n int64) error {
	_, err := s.call("SetSpareLimit", func(p *C.pd_store) C.pd_status {
		return C.pd_store_set_spare_limit(p, C.int64_t(n))
	})
	return err
}

// StoreStats are store-wide counts (pd_store_stats).
type StoreStats struct {
	Users, MergedUsers, ErasedUsers, Identities, Channels, Guides uint64
	Links, Unlinks, Touchpoints, Orders, Refunds, Referrals       uint64
	GuideEvents, ReachRecords, CostRecords, Events, MemoryBytes   uint64
	SpareBytes                                                    uint64
}

// Stats returns store-wide counts.
func (s *Store) Stats() (StoreStats, error) {
	var c C.pd_store_stats
	c.size = C.sizeof_pd_store_stats
	_, err := s.call("Stats", func(p *C.pd_store) C.pd_status { return C.pd_store_get_stats(p, &c) })
	if err != nil {
		return StoreStats{}, err
	}
	return StoreStats{uint64(c.users), uint64(c.merged_users), uint64(c.erased_users),
		uint64(c.identities), uint64(c.channels), uint64(c.guides), uint64(c.links),
		uint64(c.unlinks), uint64(c.touchpoints), uint64(c.orders), uint64(c.refunds),
		uint64(c.referrals), uint64(c.guide_events), uint64(c.reach_records),
		uint64(c.cost_records), uint64(c.events), uint64(c.memory_bytes),
		uint64(c.spare_bytes)}, nil
}

// ---- users and identities ------------------------------------------------

// FindUser returns the user with identity (ns, key), e.g. ("phone",
// "+8613800000000"); ErrNotFound when there is none.
func (s *Store) FindUser(ns, key string) (UserID, error) {
	nsp, nsl, f1 := cText(ns)
	defer f1()
	kp, kl, f2 := cText(key)
	defer f2()
	var out C.pd_user_id
	_, err := s.call("FindUser", func(p *C.pd_store) C.pd_status {
		return C.pd_user_find(p, nsp, nsl, kp, kl, &out)
	})
	return UserID(out), err
}

// EnsureUser returns the user with identity (ns, key), creating it when
// there is none; created says which.
func (s *Store) EnsureUser(ns, key string) (id UserID, created bool, err error) {
	nsp, nsl, f1 := cText(ns)
	defer f1()
	kp, kl, f2 := cText(key)
	defer f2()
	var out C.pd_user_id
	replayed, err := s.call("EnsureUser", func(p *C.pd_store) C.pd_status {
		return C.pd_user_ensure(p, nsp, nsl, kp, kl, &out)
	})
	return UserID(out), err == nil && !replayed, err
}

// EnsuredUser is what EnsureUsers reports for one key: the user and
// whether it was created, or Err when that key failed (ID is then 0).
type EnsuredUser struct {
	ID      UserID
	Created bool
	Err     error
}

// EnsureUsers is EnsureUser for many keys of namespace ns in one call
// (pd_users_ensure, the fastest way to bring in members): keys are ensured
// independently, in order, and each gets its own result; the first key
// that failed carries the library's message. The error is non-nil only
// when no key was tried (a bad namespace, a closed store): results are
// then nil and nothing was created.
func (s *Store) EnsureUsers(ns string, keys []string) ([]EnsuredUser, error) {
	nsp, nsl, f1 := cText(ns)
	defer f1()
	n := len(keys)
	total := 1
	for _, k := range keys {
		total += len(k)
	}
	// The keys and the pointers to them live in C memory (cgo forbids
	// passing Go memory that holds pointers).
	blob := C.malloc(C.size_t(total))
	defer C.free(blob)
	ptrs := C.malloc(C.size_t(n+1) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(ptrs)
	bytes := unsafe.Slice((*byte)(blob), total)
	cKeys := unsafe.Slice((**C.char)(ptrs), n+1)
	lens := make([]C.size_t, n+1)
	ids := make([]C.pd_user_id, n+1)
	sts := make([]C.pd_status, n+1)
	const untouched = C.pd_status(0x7FFFFFFF) // no call writes it
	off := 0
	for i, k := range keys {
		copy(bytes[off:], k)
		cKeys[i] = (*C.char)(unsafe.Pointer(&bytes[off]))
		lens[i] = C.size_t(len(k))
		off += len(k)
	}
	sts[0] = untouched
	_, err := s.call("EnsureUsers", func(p *C.pd_store) C.pd_status {
		return C.pd_users_ensure(p, nsp, nsl, C.size_t(n), &cKeys[0], &lens[0],
			&ids[0], &sts[0])
	})
	if n == 0 || sts[0] == untouched {
		return nil, err
	}
	out := make([]EnsuredUser, n)
	reported := false
	for i := range out {
		st := sts[i]
		if st >= 0 {
			out[i] = EnsuredUser{ID: UserID(ids[i]), Created: st == C.PD_OK}
			continue
		}
		e := &Error{Op: "EnsureUsers", Status: Status(st)}
		if first, ok := err.(*Error); ok && !reported && first.Status == e.Status {
			e.Message = first.Message
			reported = true
		}
		out[i].Err = e
	}
	return out, nil
}

// Attach gives user the identity (ns, key). When the identity belongs to
// another user the two are merged; the surviving id is returned.
func (s *Store) Attach(user UserID, ns, key string) (UserID, error) {
	nsp, nsl, f1 := cText(ns)
	defer f1()
	kp, kl, f2 := cText(key)
	defer f2()
	var out C.pd_user_id
	_, err := s.call("Attach", func(p *C.pd_store) C.pd_status {
		return C.pd_user_attach(p, C.pd_user_id(user), nsp, nsl, kp, kl, &out)
	})
	return UserID(out), err
}

// Merge merges users a and b (the same person) and returns the survivor,
// the smaller id.
func (s *Store) Merge(a, b UserID) (UserID, error) {
	var out C.pd_user_id
	_, err := s.call("Merge", func(p *C.pd_store) C.pd_status {
		return C.pd_user_merge(p, C.pd_user_id(a), C.pd_user_id(b), &out)
	})
	return UserID(out), err
}

// Canonical returns the id user is known by now (the survivor of merges).
func (s *Store) Canonical(user UserID) (UserID, error) {
	var out C.pd_user_id
	_, err := s.call("Canonical", func(p *C.pd_store) C.pd_status {
		return C.pd_user_canonical(p, C.pd_user_id(user), &out)
	})
	return UserID(out), err
}

// Erase erases user and every user merged with it (PIPL right to
// deletion): identities and every event. Later events for it fail with
// ErrErased.
func (s *Store) Erase(user UserID) error {
	_, err := s.call("Erase", func(p *C.pd_store) C.pd_status {
		return C.pd_user_erase(p, C.pd_user_id(user))
	})
	return err
}

// Identity is one (namespace, key) pair of a user.
type Identity struct{ Namespace, Key string }

// Identities lists user's identities, ordered by namespace then key.
func (s *Store) Identities(user UserID) ([]Identity, error) {
	var ids []Identity
	h := cgo.NewHandle(func(ns, key string) { ids = append(ids, Identity{ns, key}) })
	defer h.Delete()
	_, err := s.call("Identities", func(p *C.pd_store) C.pd_status {
		return C.pdgo_user_identities(p, C.pd_user_id(user), C.uintptr_t(h))
	})
	return ids, err
}

// Users lists the live users (canonical ids) in increasing order.
func (s *Store) Users() ([]UserID, error) {
	var users []UserID
	h := cgo.NewHandle(func(u UserID) { users = append(users, u) })
	defer h.Delete()
	_, err := s.call("Users", func(p *C.pd_store) C.pd_status {
		return C.pdgo_foreach_user(p, C.uintptr_t(h))
	})
	return users, err
}

// UserInfo is what is known of a user as of a time (pd_user_info). Zero
// times mean "none".
type UserInfo struct {
	User           UserID
	Identities     uint32
	ChannelsLinked uint32
	Orders         uint64
	Revenue        int64 // minor units, net of refunds
	Refunded       int64 // minor units
	FirstPurchase  time.Time
	LastPurchase   time.Time
	Guide          uint32
	ReferralsMade  uint32
	Referrer       UserID
	FirstSeen      time.Time
}

// User reports what is known of user as of asOf (later events ignored).
func (s *Store) User(user UserID, asOf time.Time) (UserInfo, error) {
	c := C.pd_user_info{size: C.sizeof_pd_user_info}
	_, err := s.call("User", func(p *C.pd_store) C.pd_status {
		return C.pd_user_get(p, C.pd_user_id(user), cTime(asOf), &c)
	})
	if err != nil {
		return UserInfo{}, err
	}
	return UserInfo{UserID(c.user), uint32(c.identities), uint32(c.channels_linked),
		uint64(c.orders), int64(c.revenue), int64(c.refunded), goTime(c.first_purchase),
		goTime(c.last_purchase), uint32(c.guide), uint32(c.referrals_made),
		UserID(c.referrer), goTime(c.first_seen)}, nil
}

// ---- channels and labels ---------------------------------------------------

// Built-in channel ids (channels.h).
const (
	ChannelWeChat          int32 = 1
	ChannelWeCom           int32 = 2
	ChannelOfficialAccount int32 = 3
	ChannelMiniProgram     int32 = 4
	ChannelWeChatGroup     int32 = 5
	ChannelDouyin          int32 = 6
	ChannelApp             int32 = 7
	ChannelStore           int32 = 8
	ChannelSMS             int32 = 9
	ChannelPackageCard     int32 = 10
	ChannelTaobaoWangwang  int32 = 11
	ChannelLiveStream      int32 = 12
)

// Channel kinds.
const (
	Public  int32 = 0 // 公域
	Private int32 = 1 // 私域
)

// Label kinds.
const (
	LabelSource   int32 = 1
	LabelCampaign int32 = 2
	LabelShop     int32 = 3
)

// RegisterChannel registers a custom channel of kind Public or Private and
// returns its id (the same id again for the same name and kind).
func (s *Store) RegisterChannel(name string, kind int32) (int32, error) {
	np, nl, f := cText(name)
	defer f()
	var out C.int32_t
	_, err := s.call("RegisterChannel", func(p *C.pd_store) C.pd_status {
		return C.pd_channel_register(p, np, nl, C.int32_t(kind), &out)
	})
	return int32(out), err
}

// FindChannel returns the id of the channel named name ("wechat", "wecom",
// … or a registered one).
func (s *Store) FindChannel(name string) (int32, error) {
	np, nl, f := cText(name)
	defer f()
	var out C.int32_t
	_, err := s.call("FindChannel", func(p *C.pd_store) C.pd_status {
		return C.pd_channel_find(p, np, nl, &out)
	})
	return int32(out), err
}

// ChannelInfo returns a channel's name and kind.
func (s *Store) ChannelInfo(channel int32) (name string, kind int32, err error) {
	var cn *C.char
	var ck C.int32_t
	_, err = s.call("ChannelInfo", func(p *C.pd_store) C.pd_status {
		st := C.pd_channel_info(p, C.int32_t(channel), &cn, &ck)
		if st >= 0 {
			name = C.GoString(cn)
		}
		return st
	})
	return name, int32(ck), err
}

// EnsureLabel returns the id of label name of kind (LabelSource,
// LabelCampaign, LabelShop), created if new.
func (s *Store) EnsureLabel(kind int32, name string) (uint32, error) {
	np, nl, f := cText(name)
	defer f()
	var out C.uint32_t
	_, err := s.call("EnsureLabel", func(p *C.pd_store) C.pd_status {
		return C.pd_label_ensure(p, C.int32_t(kind), np, nl, &out)
	})
	return uint32(out), err
}

// FindLabel returns the id of an existing label.
func (s *Store) FindLabel(kind int32, name string) (uint32, error) {
	np, nl, f := cText(name)
	defer f()
	var out C.uint32_t
	_, err := s.call("FindLabel", func(p *C.pd_store) C.pd_status {
		return C.pd_label_find(p, C.int32_t(kind), np, nl, &out)
	})
	return uint32(out), err
}

// LabelName returns the name of label id of kind.
func (s *Store) LabelName(kind int32, id uint32) (string, error) {
	var name string
	_, err := s.call("LabelName", func(p *C.pd_store) C.pd_status {
		var cn *C.char
		var n C.size_t
		st := C.pd_label_name(p, C.int32_t(kind), C.uint32_t(id), &cn, &n)
		if st >= 0 {
			name = C.GoStringN(cn, C.int(n))
		}
		return st
	})
	return name, err
}

// ---- guides ------------------------------------------------------------------

// EnsureGuide returns the id of the guide with staff code code working at
// shop (a LabelShop id, 0 = none), created if new.
func (s *Store) EnsureGuide(code string, shop uint32) (uint32, error) {
	cp, cl, f := cText(code)
	defer f()
	var out C.uint32_t
	_, err := s.call("EnsureGuide", func(p *C.pd_store) C.pd_status {
		return C.pd_guide_ensure(p, cp, cl, C.uint32_t(shop), &out)
	})
	return uint32(out), err
}

// FindGuide returns the id of the guide with staff code code.
func (s *Store) FindGuide(code string) (uint32, error) {
	cp, cl, f := cText(code)
	defer f()
	var out C.uint32_t
	_, err := s.call("FindGuide", func(p *C.pd_store) C.pd_status {
		return C.pd_guide_find(p, cp, cl, &out)
	})
	return uint32(out), err
}

// GuideInfo is what is known of a guide as of a time.
type GuideInfo struct {
	Guide       uint32
	Shop        uint32
	Code        string
	Active      bool
	Deactivated time.Time // zero when never deactivated
	UsersBound  uint64
}

// Guide reports guide as of asOf. It visits every user (cost linear in the
// store's users).
func (s *Store) Guide(guide uint32, asOf time.Time) (GuideInfo, error) {
	var gi GuideInfo
	_, err := s.call("Guide", func(p *C.pd_store) C.pd_status {
		c := C.pd_guide_info{size: C.sizeof_pd_guide_info}
		st := C.pd_guide_get(p, C.uint32_t(guide), cTime(asOf), &c)
		if st >= 0 {
			gi = GuideInfo{uint32(c.guide), uint32(c.shop), C.GoString(c.code),
				c.active != 0, goTime(c.deactivated), uint64(c.users_bound)}
		}
		return st
	})
	return gi, err
}

// ---- link state ------------------------------------------------------------

// LinkState is a user's link on one channel as of a time (pd_link_state).
type LinkState struct {
	Channel       int32
	Linked        bool
	Links         uint32
	Unlinks       uint32
	FirstLinked   time.Time
	LinkedSince   time.Time
	LastUnlinked  time.Time
	LastInitiator int32
	Source        uint32
	Guide         uint32
}

func goLinkState(c *C.pd_link_state) LinkState {
	return LinkState{int32(c.channel), c.linked != 0, uint32(c.links), uint32(c.unlinks),
		goTime(c.first_linked), goTime(c.linked_since), goTime(c.last_unlinked),
		int32(c.last_initiator), uint32(c.source), uint32(c.guide)}
}

// LinkState reports user's link on channel as of asOf.
func (s *Store) LinkState(user UserID, channel int32, asOf time.Time) (LinkState, error) {
	c := C.pd_link_state{size: C.sizeof_pd_link_state}
	_, err := s.call("LinkState", func(p *C.pd_store) C.pd_status {
		return C.pd_user_link_state(p, C.pd_user_id(user), C.int32_t(channel), cTime(asOf), &c)
	})
	if err != nil {
		return LinkState{}, err
	}
	return goLinkState(&c), nil
}

// Links reports user's link state on every channel it has link events on
// at or before asOf, in increasing channel id.
func (s *Store) Links(user UserID, asOf time.Time) ([]LinkState, error) {
	var out []LinkState
	h := cgo.NewHandle(func(ls LinkState) { out = append(out, ls) })
	defer h.Delete()
	_, err := s.call("Links", func(p *C.pd_store) C.pd_status {
		return C.pdgo_user_links(p, C.pd_user_id(user), cTime(asOf), C.uintptr_t(h))
	})
	return out, err
}
