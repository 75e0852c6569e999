package digest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
)

const (
	abc256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	abc512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the result
		wantErr bool
	}{
		{in: abc256, want: "sha256:" + abc256},
		{in: strings.ToUpper(abc256), want: "sha256:" + abc256},
		{in: "sha256:" + abc256, want: "sha256:" + abc256},
		{in: abc512, want: "sha512:" + abc512},
		{in: "sha512:" + abc512, want: "sha512:" + abc512},
		{in: "", wantErr: true},
		{in: abc256[:62], wantErr: true},
		{in: "sha256:" + abc512, wantErr: true},
		{in: "md5:d41d8cd98f00b204e9800998ecf8427e", wantErr: true},
		{in: "sha256:" + strings.Repeat("g", 64), wantErr: true},
		{in: "SHA256:" + abc256, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := digest.Parse(tt.in)
			if tt.wantErr {
				if !errors.Is(err, digest.ErrInvalid) {
					t.Fatalf("Parse(%q) = %v, %v; want an error wrapping ErrInvalid", tt.in, d, err)
				}
				if !d.IsZero() {
					t.Errorf("Parse(%q) returned a non-zero digest with an error", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	d := digest.MustParse(abc256)
	got := []string{string(d.Algo()), d.Hex(), d.Short(), d.Path()}
	want := []string{"sha256", abc256, abc256[:12], "sha256/" + abc256}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accessors (-want +got):\n%s", diff)
	}
	if (digest.Digest{}).IsZero() != true || d.IsZero() {
		t.Error("IsZero: want true only for the zero Digest")
	}
	if got := digest.SHA512.HexLen(); got != 128 {
		t.Errorf("SHA512.HexLen() = %d", got)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad digest did not panic")
		}
	}()
	digest.MustParse("nope")
}

func TestJSONRoundTrip(t *testing.T) {
	type rec struct {
		D digest.Digest `json:"d"`
	}
	in := rec{D: digest.MustParse(abc512)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"d":"sha512:` + abc512 + `"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var out rec
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip: got %v, want %v", out.D, in.D)
	}
	if err := json.Unmarshal([]byte(`{"d":"sha256:xyz"}`), &out); !errors.Is(err, digest.ErrInvalid) {
		t.Errorf("Unmarshal of a bad digest: %v, want ErrInvalid", err)
	}
}

func TestOf(t *testing.T) {
	big := bytes.Repeat([]byte("prestaged "), 300_000) // several copy buffers
	tests := []struct {
		name  string
		algo  digest.Algo
		in    []byte
		want  string
		wantN int64
	}{
		{"sha256 abc", digest.SHA256, []byte("abc"), "sha256:" + abc256, 3},
		{"sha512 abc", digest.SHA512, []byte("abc"), "sha512:" + abc512, 3},
		{"sha256 empty", digest.SHA256, nil, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
		{"sha256 3 MB", digest.SHA256, big, "sha256:" + sumStd(big), int64(len(big))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, n, err := digest.Of(tt.algo, bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != tt.want || n != tt.wantN {
				t.Errorf("Of = %s, %d; want %s, %d", d, n, tt.want, tt.wantN)
			}
			h := digest.New(tt.algo)
			h.Write(tt.in)
			if got := digest.Sum(tt.algo, h); got != d {
				t.Errorf("New+Sum = %s, Of = %s", got, d)
			}
		})
	}
}
