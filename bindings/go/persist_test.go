package privdomain

import (
	"os"
	"path/filepath"
	"testing"
)

func TestJournaledStoreSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	snap, jour := filepath.Join(dir, "brand.pds"), filepath.Join(dir, "brand.pdj")
	s, rep, err := OpenStore(snap, jour, nil)
	if err != nil || !rep.Created {
		t.Fatalf("open %+v %v", rep, err)
	}
	u, _, _ := s.EnsureUser("phone", "+8613800000000")
	if _, err := s.RecordOrder(Order{EventID: 1, OrderID: 1, User: u, Time: t0, Amount: 29900}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, rep, err = OpenStore(snap, jour, nil)
	if err != nil || rep.Created || rep.Replayed == 0 {
		t.Fatalf("reopen %+v %v", rep, err)
	}
	if info, _ := s.User(u, t0); info.Revenue != 29900 {
		t.Fatalf("after restart %+v", info)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, rep, _ = OpenStore(snap, jour, nil)
	if rep.Replayed != 0 || rep.Generation != 2 {
		t.Fatalf("after checkpoint %+v", rep)
	}
	s.Close()
}

func TestSnapshotLoadsAlikeOnEveryThreadCount(t *testing.T) {
	s := newStore(t)
	for i := 0; i < 50; i++ {
		u, _, _ := s.EnsureUser("pos.member", string(rune('A'+i%26))+string(rune('a'+i/26)))
		s.RecordOrder(Order{EventID: uint64(i + 1), OrderID: uint64(i + 1), User: u, Time: t0, Amount: 100})
	}
	path := filepath.Join(t.TempDir(), "s.pds")
	if err := s.SaveSnapshot(path); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int32{0, 1, 2, AllThreads} {
		l, err := LoadSnapshot(path, &PersistOptions{Threads: n})
		if err != nil {
			t.Fatalf("threads %d: %v", n, err)
		}
		if st, _ := l.Stats(); st.Users != 50 || st.Orders != 50 {
			t.Fatalf("threads %d: %+v", n, st)
		}
		l.Close()
	}
	_, err := LoadSnapshot(path, &PersistOptions{Threads: 65})
	wantStatus(t, err, ErrInvalid)
}

func TestSnapshotSaveAndLoad(t *testing.T) {
	s := newStore(t)
	u, _, _ := s.EnsureUser("pos.member", "M1")
	s.RecordOrder(Order{EventID: 1, OrderID: 1, User: u, Time: t0, Amount: 100})
	path := filepath.Join(t.TempDir(), "s.pds")
	if err := s.SaveSnapshot(path); err != nil {
		t.Fatal(err)
	}
	l, err := LoadSnapshot(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if id, err := l.FindUser("pos.member", "M1"); err != nil || id != u {
		t.Fatalf("loaded %v %v", id, err)
	}
	wantStatus(t, l.Checkpoint(), ErrMisuse) // no journal
}

func TestDamagedSnapshotIsAnErrorWithAMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.pds")
	os.WriteFile(path, []byte("not a snapshot at all"), 0o644)
	_, err := LoadSnapshot(path, nil)
	if pe := wantStatus(t, err, ErrCorrupt); pe.Message == "" {
		t.Fatal("no message")
	}
	_, err = LoadSnapshot(filepath.Join(t.TempDir(), "missing.pds"), nil)
	wantStatus(t, err, ErrIO)
}
