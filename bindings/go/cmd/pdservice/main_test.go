package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func serve(t *testing.T, input string) []map[string]any {
	return serveIn(t, input, "")
}

func serveIn(t *testing.T, input, dir string) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := run(strings.NewReader(input), &out, dir); err != nil {
		t.Fatal(err)
	}
	var answers []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		answers = append(answers, m)
	}
	return answers
}

func TestServiceRecordsOrdersAndAnswersContactChecks(t *testing.T) {
	a := serve(t, `{"member":"M001","order_id":193,"time":"2026-11-01T10:00:00+08:00","amount_fen":29900}
{"member":"M001","order_id":193,"time":"2026-11-01T10:00:00+08:00","amount_fen":29900}
{"member":"M001","order_id":193,"time":"2026-11-01T10:00:00+08:00","amount_fen":100}
{"check":"M001","channel":"wecom"}
{"member":"M001","link":"wecom","time":"2026-11-01T11:00:00+08:00"}
{"check":"M001","channel":"wecom"}
{"member":"M001","push":"wecom","time":"2026-11-01T12:00:00+08:00"}
{"check":"M001","channel":"wecom","time":"2026-11-01T13:00:00+08:00"}
{"check":"nobody","channel":"wecom"}
{"check":"M001","channel":"carrier-pigeon"}
not json
{"member":"M002","order_id":5,"time":"2026-11-01T10:00:00Z","amount_fen":-1}
`)
	if len(a) != 12 {
		t.Fatalf("%d answers: %v", len(a), a)
	}
	if a[0]["ok"] != true || a[0]["replayed"] != false || a[1]["replayed"] != true {
		t.Fatalf("order and its retry: %v %v", a[0], a[1])
	}
	if a[2]["ok"] != false || a[2]["status"] != float64(-3) {
		t.Fatalf("same order id, other amount: %v", a[2])
	}
	if a[3]["allowed"] != false || a[3]["reason"] != "unlinked" {
		t.Fatalf("before the link: %v", a[3])
	}
	if a[5]["allowed"] != true || a[5]["reason"] != "allowed" {
		t.Fatalf("after the link: %v", a[5])
	}
	if a[7]["allowed"] != false || a[7]["reason"] != "daily_cap" || a[7]["pushes_day"] != float64(1) ||
		a[7]["earliest"] != "2026-11-02T04:00:00Z" {
		t.Fatalf("after a push: %v", a[7])
	}
	if a[8]["status"] != float64(-2) || a[9]["status"] != float64(-2) {
		t.Fatalf("unknown member or channel: %v %v", a[8], a[9])
	}
	if a[10]["ok"] != false || a[10]["line"] != float64(11) {
		t.Fatalf("bad line: %v", a[10])
	}
	if a[11]["status"] != float64(-10) || !strings.Contains(a[11]["error"].(string), "amount") {
		t.Fatalf("negative amount: %v", a[11])
	}
}

func TestARestartedServiceRemembersWithData(t *testing.T) {
	dir := t.TempDir()
	order := `{"member":"M1","order_id":7,"time":"2026-11-01T10:00:00Z","amount_fen":100}` + "\n"
	if a := serveIn(t, order, dir); a[0]["replayed"] != false {
		t.Fatalf("first run %v", a)
	}
	if a := serveIn(t, order, dir); a[0]["replayed"] != true {
		t.Fatalf("second run must find the order in the journal: %v", a)
	}
}
