package trust

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestCheckBER(t *testing.T) {
	deep := append(bytes.Repeat([]byte{0x30, 0x80}, 100), bytes.Repeat([]byte{0x04, 0x00, 0x00, 0x00}, 100)...)
	tests := []struct {
		name    string
		ber     []byte
		wantErr bool
	}{
		{"definite", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, false},
		{"indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, false},
		{"long length", append([]byte{0x04, 0x81, 0x80}, make([]byte, 128)...), false},
		{"child overruns parent", []byte{0x30, 0x02, 0x04, 0x03, 0x01, 0x02, 0x03}, true},
		{"length beyond data", []byte{0x30, 0x05, 0x02, 0x01}, true},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}, true},
		{"no end-of-contents", []byte{0x30, 0x80, 0x02, 0x01, 0x05}, true},
		{"leading zero length", []byte{0x04, 0x81, 0x00}, true},
		{"nested too deep", deep, true},
	}
	for _, tt := range tests {
		if err := checkBER(tt.ber); (err != nil) != tt.wantErr || err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: checkBER = %v, want error: %v", tt.name, err, tt.wantErr)
		}
	}
}

// TestBEROverrunRefused: the fuzzer's input that hung the pkcs7 parser is
// refused as malformed (before the fix, this test never returned).
func TestBEROverrunRefused(t *testing.T) {
	b, err := os.ReadFile("testdata/fuzz/FuzzParse/ber-overrun-exponential")
	if err != nil {
		t.Fatal(err)
	}
	_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "[]byte(")
	data, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSigned([]byte(data)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ParseSigned = %v, want ErrMalformed", err)
	}
}
