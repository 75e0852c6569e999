package spec

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{in: "900Mbit", want: 900_000_000},
		{in: "1Gbit", want: 1_000_000_000},
		{in: "1.5Gbit", want: 1_500_000_000},
		{in: "100Mbps", want: 100_000_000},
		{in: "100Mbit/s", want: 100_000_000},
		{in: "100 Mb/s", want: 100_000_000},
		{in: "10kbit", want: 10_000},
		{in: "50MB/s", want: 400_000_000},
		{in: "50MBps", want: 400_000_000},
		{in: "50MiB/s", want: 50 * 8 << 20},
		{in: "2GiB/s", want: 2 * 8 << 30},
		{in: "0", want: 0},
		{in: "", want: 0},
		{in: "unlimited", want: 0},
		{in: "900", wantErr: true},
		{in: "900Mbits", wantErr: true},
		{in: "fast", wantErr: true},
		{in: "-1Mbit", wantErr: true},
		{in: "1.2.3Mbit", wantErr: true},
		{in: "0.1bit", wantErr: true},
		{in: "9999999TB/s", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRate(%q) error = %v, want error: %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, ErrRate) {
			t.Errorf("ParseRate(%q) error %v does not wrap ErrRate", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("ParseRate(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		in   Rate
		want string
	}{
		{0, "unlimited"},
		{900_000_000, "900Mbit"},
		{1_000_000_000, "1Gbit"},
		{1_500_000_000, "1500Mbit"},
		{50 * 8 << 20, "50MiB/s"},
		{12_345, "12345bit"},
	}
	for _, tt := range tests {
		got := tt.in.String()
		if got != tt.want {
			t.Errorf("Rate(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		back, err := ParseRate(got)
		if err != nil || back != tt.in {
			t.Errorf("ParseRate(%q) = %d, %v; want the Rate back, %d", got, back, err, int64(tt.in))
		}
	}
	if diff := cmp.Diff(int64(50_000_000), Rate(400_000_000).BytesPerSecond()); diff != "" {
		t.Errorf("BytesPerSecond (-want +got):\n%s", diff)
	}
}
