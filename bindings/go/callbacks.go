package privdomain

/*
#include <stdint.h>
#include <privdomain/privdomain.h>
*/
import "C"

import "runtime/cgo"

// The C library calls these through the trampolines in store.go; the user
// pointer is a cgo.Handle to a Go func that collects the values. They
// return 0 so the library goes on.

//export pdgoIdentity
func pdgoIdentity(h C.uintptr_t, ns *C.char, nsLen C.size_t, key *C.char, keyLen C.size_t) C.int {
	f := cgo.Handle(h).Value().(func(string, string))
	f(C.GoStringN(ns, C.int(nsLen)), C.GoStringN(key, C.int(keyLen)))
	return 0
}

//export pdgoUser
func pdgoUser(h C.uintptr_t, user C.uint64_t) C.int {
	cgo.Handle(h).Value().(func(UserID))(UserID(user))
	return 0
}

//export pdgoLink
func pdgoLink(h C.uintptr_t, state *C.pd_link_state) C.int {
	cgo.Handle(h).Value().(func(LinkState))(goLinkState(state))
	return 0
}

//export pdgoFollowup
func pdgoFollowup(h C.uintptr_t, it *C.pd_followup_item) C.int {
	cgo.Handle(h).Value().(func(FollowupItem))(FollowupItem{uint32(it.guide), uint32(it.rank),
		UserID(it.user), int32(it.reason), int32(it.channel), float64(it.value),
		float64(it.p_alive), float64(it.value_at_risk), goTime(it.last_purchase)})
	return 0
}
