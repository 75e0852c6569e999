package main

import (
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
