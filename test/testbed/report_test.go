package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSummariseUsage(t *testing.T) {
	hosts := []HostResult{
		{Apply: &Usage{MaxRSS: 30 << 20, CPUSeconds: 2}},
		{Apply: &Usage{MaxRSS: 10 << 20, CPUSeconds: 4}},
		{}, // a host whose apply never ran counts for nothing
		{Apply: &Usage{MaxRSS: 20 << 20, CPUSeconds: 1}},
	}
	got := summariseUsage(hosts, func(h HostResult) *Usage { return h.Apply })
	want := &UsageSummary{RSSP50: 20 << 20, RSSMax: 30 << 20, CPUP50: 2, CPUMax: 4, Processes: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("apply usage (-want +got):\n%s", diff)
	}
	if got := summariseUsage(hosts, func(h HostResult) *Usage { return h.Serve }); got != nil {
		t.Errorf("serve usage of hosts without serve: %+v, want nil", got)
	}
	var table strings.Builder
	writeTable(&table, Report{Results: []*Result{{Strategy: Torrent, Hosts: 4, ApplyUsage: want}}})
	if !strings.Contains(table.String(), "| 0% | 20 / 30 MiB | 2.0 / 4.0 s | — | — |") {
		t.Errorf("table row lacks the usage columns:\n%s", table.String())
	}
}

func TestSwitchLost(t *testing.T) {
	// As `ip -j -s link show` prints them, trimmed: the bridge's own
	// interface does not count, only its ports.
	js := func(in, out int64) []byte {
		return fmt.Appendf(nil, `[{"ifname":"lo","stats64":{"rx":{"bytes":7},"tx":{"bytes":7}}},`+
			`{"ifname":"br0","stats64":{"rx":{"bytes":1000},"tx":{"bytes":5}}},`+
			`{"ifname":"v-m","stats64":{"rx":{"bytes":%d},"tx":{"bytes":10}}},`+
			`{"ifname":"v-h0","stats64":{"rx":{"bytes":100},"tx":{"bytes":%d}}}]`, in, out)
	}
	before, after := parsePorts(js(200, 100)), parsePorts(js(1200, 1000))
	if want := (portBytes{in: 300, out: 110, mirror: 200}); before != want {
		t.Errorf("ports before: %+v, want %+v", before, want)
	}
	// 1000 bytes came in since, 900 went out.
	if got := after.lostSince(before); got != 0.1 {
		t.Errorf("lost: %v, want 0.1", got)
	}
	if got := parsePorts([]byte("not json")).lostSince(before); got != 0 {
		t.Errorf("lost from unreadable counters: %v, want 0", got)
	}
	var table strings.Builder
	writeTable(&table, Report{Results: []*Result{{Strategy: Torrent, Hosts: 4, Size: 100, MirrorSent: 104, SwitchLost: 0.083}}})
	if !strings.Contains(table.String(), "| 1.04x image | 8.3% | 0% |") {
		t.Errorf("table row lacks the lost share:\n%s", table.String())
	}
}
