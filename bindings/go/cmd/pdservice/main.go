// Command pdservice is a small example service over libprivdomain: it
// reads JSON lines on stdin, records orders and links, and answers
// contact-cap checks, writing one JSON line to stdout per input line.
//
// Input lines (fields not shown are ignored; "time" is RFC 3339 and, for a
// check, defaults to the latest time seen so far):
//
//	{"member":"M001","order_id":193,"time":"2026-11-01T10:00:00+08:00","amount_fen":29900}
//	    an order of member M001 (identity "pos.member"), amount in fen;
//	    submitting the same order again is answered "replayed":true.
//	{"member":"M001","link":"wecom","time":"..."}
//	    the member became reachable on a channel (加好友 / 关注).
//	{"member":"M001","push":"wecom","time":"..."}
//	    a promotion was sent to the member on a channel.
//	{"check":"M001","channel":"wecom","time":"..."}
//	    may a promotion be sent now? Policy: 1 a day, 2 a week.
//
// With -data DIR the store is kept in DIR/pdservice.pds and a journal,
// DIR/pdservice.pdj: every change is journaled before it is answered, and
// a restarted service carries on where it stopped. Without it the store
// lives in memory for the run.
//
// Output: {"ok":true,...} for recorded events, {"check":"M001",
// "allowed":false,"reason":"daily_cap","pushes_day":1,...,"earliest":
// "RFC 3339"} for checks, and {"ok":false,"line":N,"error":"...",
// "status":-2} when a line cannot be processed (the service goes on).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	privdomain "github.com/libprivdomain/privdomain-go"
)

type request struct {
	Member    string `json:"member"`
	OrderID   uint64 `json:"order_id"`
	Time      string `json:"time"`
	AmountFen *int64 `json:"amount_fen"`
	Link      string `json:"link"`
	Push      string `json:"push"`
	Check     string `json:"check"`
	Channel   string `json:"channel"`
}

type service struct {
	store  *privdomain.Store
	latest time.Time
}

// when parses the line's time, or takes the latest seen when none is given.
func (sv *service) when(s string) (time.Time, error) {
	if s == "" {
		if sv.latest.IsZero() {
			return time.Time{}, fmt.Errorf("no time given and none seen yet")
		}
		return sv.latest, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("time: %v", err)
	}
	if t.After(sv.latest) {
		sv.latest = t
	}
	return t, nil
}

func (sv *service) member(key string) (privdomain.UserID, error) {
	id, _, err := sv.store.EnsureUser("pos.member", key)
	return id, err
}

// handle answers one request line.
func (sv *service) handle(line []byte) (map[string]any, error) {
	var r request
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	t, err := sv.when(r.Time)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Check != "":
		ch, err := sv.store.FindChannel(r.Channel)
		if err != nil {
			return nil, err
		}
		u, err := sv.store.FindUser("pos.member", r.Check)
		if err != nil {
			return nil, err
		}
		v, err := sv.store.ContactCheck(u, ch, privdomain.PurposePromotion, t, nil)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"check": r.Check, "channel": r.Channel, "allowed": v.Allowed,
			"reason": privdomain.ContactReasonName(v.Reason), "pushes_day": v.PushesDay,
			"pushes_week": v.PushesWeek, "earliest": nil}
		if !v.Earliest.IsZero() {
			out["earliest"] = v.Earliest.Format(time.RFC3339)
		}
		return out, nil
	case r.Member == "":
		return nil, fmt.Errorf(`a line needs "member" or "check"`)
	case r.Link != "" || r.Push != "":
		name := r.Link
		if name == "" {
			name = r.Push
		}
		ch, err := sv.store.FindChannel(name)
		if err != nil {
			return nil, err
		}
		u, err := sv.member(r.Member)
		if err != nil {
			return nil, err
		}
		// The event id is derived from the line's content, so a resent line
		// is recognised as a replay.
		id := privdomain.EventID(fmt.Sprintf("%s|%s|%s|%s", r.Member, r.Link, r.Push, t.Format(time.RFC3339)))
		var replayed bool
		if r.Link != "" {
			replayed, err = sv.store.RecordLink(privdomain.Link{EventID: id, User: u, Channel: ch, Time: t})
		} else {
			replayed, err = sv.store.RecordTouchpoint(privdomain.Touchpoint{EventID: id, User: u,
				Kind: privdomain.TouchOutbound1to1, Purpose: privdomain.PurposePromotion, Channel: ch, Time: t})
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"ok": true, "member": r.Member, "replayed": replayed}, nil
	default:
		if r.AmountFen == nil || r.OrderID == 0 {
			return nil, fmt.Errorf(`an order needs "order_id" (non-zero) and "amount_fen"`)
		}
		u, err := sv.member(r.Member)
		if err != nil {
			return nil, err
		}
		replayed, err := sv.store.RecordOrder(privdomain.Order{
			EventID: privdomain.EventID(fmt.Sprintf("order:%d", r.OrderID)),
			OrderID: r.OrderID, User: u, Time: t, Amount: *r.AmountFen,
			Channel: privdomain.ChannelStore})
		if err != nil {
			return nil, err
		}
		return map[string]any{"ok": true, "member": r.Member, "order_id": r.OrderID,
			"replayed": replayed}, nil
	}
}

// run serves requests from in until end of input, with the store kept in
// dataDir ("" = in memory).
func run(in io.Reader, out io.Writer, dataDir string) error {
	var store *privdomain.Store
	var err error
	if dataDir == "" {
		store, err = privdomain.NewStore(nil)
	} else {
		store, _, err = privdomain.OpenStore(filepath.Join(dataDir, "pdservice.pds"),
			filepath.Join(dataDir, "pdservice.pdj"), nil)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	sv := &service{store: store}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	enc := json.NewEncoder(out)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		answer, err := sv.handle(sc.Bytes())
		if err != nil {
			answer = map[string]any{"ok": false, "line": n, "error": err.Error()}
			if pe, ok := err.(*privdomain.Error); ok {
				answer["status"] = pe.Status
			}
		}
		if err := enc.Encode(answer); err != nil {
			return err
		}
	}
	return sc.Err()
}

func main() {
	data := flag.String("data", "", "directory for the store's snapshot and journal (default: in memory)")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	err := run(os.Stdin, w, *data)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pdservice:", err)
		os.Exit(1)
	}
}
