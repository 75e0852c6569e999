package trust

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sha512Hex = "8b4c269a60da1061b434b696c4a89293bea847b66bd8ba486a914d4209df651193ee8d454f8231840b7500fab6740620c7111d9a17d08b743133dc393ba2c0d4"

// appdbList carries keys prestaged does not model, at every level.
const appdbList = `{
  "hv:imagelist": {
    "dc:date:created": "2024-01-02T03:04:05Z",
    "dc:date:expires": "2024-02-02T03:04:05Z",
    "dc:identifier": "list-1",
    "hv:version": 7,
    "ad:vo": "fedcloud.egi.eu",
    "hv:endorser": {"hv:x509": {"hv:dn": "/CN=e", "hv:ca": "/CN=ca", "ad:extra": 1}, "ad:other": true},
    "hv:images": [
      {"hv:image": {"dc:identifier": "img", "hv:size": "2147483648", "sl:checksum:sha512": "` + sha512Hex + `",
                    "hv:format": "qcow2", "hv:ram_minimum": 2048, "ad:mpuri": "https://appdb/x"},
       "ad:wrapper": "kept"}
    ]
  },
  "ad:top": ["a"]
}`

func TestListRoundTripKeepsUnknownKeys(t *testing.T) {
	l, err := ParseList([]byte(appdbList))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	im := l.Image("img")
	got := []any{l.Version, l.Created, im.Size, l.Endorser.DN}
	want := []any{"7", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), int64(2147483648), "/CN=e"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("typed fields (-want +got):\n%s", diff)
	}
	out, err := l.MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	var before, after map[string]any
	if err := json.Unmarshal([]byte(appdbList), &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatal(err)
	}
	// Typed fields are written in their canonical JSON type.
	inner := before["hv:imagelist"].(map[string]any)
	inner["hv:version"] = "7"
	image := inner["hv:images"].([]any)[0].(map[string]any)["hv:image"].(map[string]any)
	image["hv:size"] = float64(2147483648)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("round trip (-before +after):\n%s", diff)
	}
}

func TestParseListMalformed(t *testing.T) {
	tests := []struct{ name, json string }{
		{"not JSON", `{"hv:imagelist": `},
		{"not an object", `[1, 2]`},
		{"no hv:imagelist", `{"imagelist": {}}`},
		{"hv:imagelist not an object", `{"hv:imagelist": "x"}`},
		{"bad date", `{"hv:imagelist": {"dc:date:created": "yesterday"}}`},
		{"size not a number", `{"hv:imagelist": {"hv:images": [{"hv:image": {"hv:size": "big"}}]}}`},
		{"images not an array", `{"hv:imagelist": {"hv:images": {}}}`},
		{"image without hv:image", `{"hv:imagelist": {"hv:images": [{"image": {}}]}}`},
		{"endorser not an object", `{"hv:imagelist": {"hv:endorser": 3}}`},
		{"title not a string", `{"hv:imagelist": {"dc:title": {"a": 1}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseList([]byte(tt.json)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseList = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := func() *List {
		return &List{ID: "l", Images: []ListImage{{ID: "a", SHA512: sha512Hex}, {ID: "b", SHA512: sha512Hex, Size: 1}}}
	}
	tests := []struct {
		name    string
		modify  func(*List)
		wantErr bool
	}{
		{"valid", func(*List) {}, false},
		{"no list id", func(l *List) { l.ID = "" }, true},
		{"image without id", func(l *List) { l.Images[0].ID = "" }, true},
		{"duplicate image id", func(l *List) { l.Images[1].ID = "a" }, true},
		{"negative size", func(l *List) { l.Images[0].Size = -1 }, true},
		{"short sha512", func(l *List) { l.Images[0].SHA512 = "abcd" }, true},
		{"bad sha256", func(l *List) { l.Images[0].SHA256 = "zz" }, true},
		{"valid sha256", func(l *List) { l.Images[0].SHA256 = sha512Hex[:64] }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := good()
			tt.modify(l)
			err := l.Validate()
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("Validate = %v, want error: %v (ErrMalformed)", err, tt.wantErr)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0}, {"2", "10", -1}, {"1.10", "1.9", 1}, {"2", "2.0", 0}, {"2.0.1", "2", 1},
		{"99999999999999999999999", "1", 1}, {"1.a", "1.b", -1}, {"b", "a", 1}, {"", "1", -1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestBumpVersion(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"", "1", ""}, {"1", "2", ""}, {"1.9", "1.10", ""}, {"20240101.3", "20240101.4", ""},
		{"v1", "", `hv:version "v1" is not a dotted number; set a numeric version to let sign bump it`},
	}
	for _, tt := range tests {
		got, err := BumpVersion(tt.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if diff := cmp.Diff([]string{tt.want, tt.wantErr}, []string{got, gotErr}); diff != "" {
			t.Errorf("BumpVersion(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
