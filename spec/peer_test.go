package spec

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var seven = []string{"h0", "h1", "h2", "h3", "h4", "h5", "h6"}

func TestTreeParents(t *testing.T) {
	tests := []struct {
		name    string
		fanout  int
		self    string
		want    []string
		wantErr error
	}{
		{name: "chain root", fanout: 1, self: "h0", want: nil},
		{name: "chain end", fanout: 1, self: "h3", want: []string{"h2", "h1", "h0"}},
		{name: "binary root", fanout: 2, self: "h0", want: nil},
		{name: "binary child", fanout: 2, self: "h2", want: []string{"h0"}},
		{name: "binary leaf", fanout: 2, self: "h6", want: []string{"h2", "h0"}},
		{name: "binary left leaf", fanout: 2, self: "h3", want: []string{"h1", "h0"}},
		{name: "wide", fanout: 3, self: "h6", want: []string{"h1", "h0"}},
		{name: "unknown self", fanout: 2, self: "h9", wantErr: ErrNotInTree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TreeParents(seven, tt.fanout, tt.self)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("TreeParents error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("TreeParents(%d, %s) (-want +got):\n%s", tt.fanout, tt.self, diff)
			}
		})
	}
	if _, err := TreeParents(seven, 0, "h1"); err == nil {
		t.Error("TreeParents with fanout 0: no error")
	}
}

func TestTreeChildren(t *testing.T) {
	tests := []struct {
		fanout int
		self   string
		want   []string
	}{
		{fanout: 1, self: "h0", want: []string{"h1"}},
		{fanout: 1, self: "h6", want: nil},
		{fanout: 2, self: "h0", want: []string{"h1", "h2"}},
		{fanout: 2, self: "h2", want: []string{"h5", "h6"}},
		{fanout: 2, self: "h3", want: nil},
		{fanout: 3, self: "h1", want: []string{"h4", "h5", "h6"}},
		{fanout: 1 << 62, self: "h1", want: nil},
		{fanout: 2, self: "h9", want: nil},
		{fanout: 0, self: "h0", want: nil},
	}
	for _, tt := range tests {
		got := TreeChildren(seven, tt.fanout, tt.self)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("TreeChildren(%d, %s) (-want +got):\n%s", tt.fanout, tt.self, diff)
		}
	}
}

// TestTreeConsistent checks that every host but the root is the child of
// exactly its nearest parent.
func TestTreeConsistent(t *testing.T) {
	for fanout := 1; fanout <= 4; fanout++ {
		for _, h := range seven[1:] {
			parents, err := TreeParents(seven, fanout, h)
			if err != nil {
				t.Fatal(err)
			}
			children := TreeChildren(seven, fanout, parents[0])
			if !slices.Contains(children, h) {
				t.Errorf("fanout %d: %s not among the children %v of its parent %s", fanout, h, children, parents[0])
			}
		}
	}
}

func TestHostPort(t *testing.T) {
	good := map[string]string{
		"lxb0012":    "lxb0012:7946",
		"lxb0012:80": "lxb0012:80",
		"10.1.2.3":   "10.1.2.3:7946",
		"::1":        "[::1]:7946",
		"[::1]":      "[::1]:7946",
		"[::1]:80":   "[::1]:80",
	}
	for in, want := range good {
		if got, err := hostPort(in, "7946"); err != nil || got != want {
			t.Errorf("hostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a b", ":80", "h:0", "h:x", "a:b:c"} {
		if got, err := hostPort(in, "7946"); err == nil || got != "" {
			t.Errorf("hostPort(%q) = %q, %v; want an error", in, got, err)
		}
	}
}
