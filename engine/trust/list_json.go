package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"
)

// dateLayout is how HEPiX lists write dates: RFC 3339 in UTC with a Z.
const dateLayout = "2006-01-02T15:04:05Z"

// UnmarshalJSON reads {"hv:imagelist": {...}}, keeping unknown keys.
func (l *List) UnmarshalJSON(b []byte) error {
	outer, err := object(b, "the document")
	if err != nil {
		return err
	}
	inner, ok := outer["hv:imagelist"]
	if !ok {
		return errors.New(`no "hv:imagelist" object at the top level`)
	}
	delete(outer, "hv:imagelist")
	m, err := object(inner, "hv:imagelist")
	if err != nil {
		return err
	}
	*l = List{}
	err = errors.Join(
		takeTime(m, "dc:date:created", &l.Created),
		takeTime(m, "dc:date:expires", &l.Expires),
		takeStrings(m, l.strings()),
	)
	if err != nil {
		return err
	}
	if raw, ok := take(m, "hv:endorser"); ok {
		if err := json.Unmarshal(raw, &l.Endorser); err != nil {
			return fmt.Errorf("hv:endorser: %w", err)
		}
	}
	if raw, ok := take(m, "hv:images"); ok {
		if l.Images, err = unmarshalImages(raw); err != nil {
			return err
		}
	}
	l.extra, l.outerExtra = nilIfEmpty(m), nilIfEmpty(outer)
	return nil
}

// unmarshalImages decodes the array once and each hv:image once: nested
// json.Unmarshal calls would re-validate the same bytes at every level.
func unmarshalImages(raw json.RawMessage) ([]ListImage, error) {
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return nil, fmt.Errorf("hv:images is not an array of objects")
	}
	images := make([]ListImage, len(arr))
	for i, wrapper := range arr {
		inner, ok := take(wrapper, "hv:image")
		if !ok {
			return nil, fmt.Errorf("hv:images[%d] has no hv:image", i)
		}
		m, err := object(inner, fmt.Sprintf("hv:images[%d]/hv:image", i))
		if err != nil {
			return nil, err
		}
		if err := images[i].fromMap(m); err != nil {
			return nil, fmt.Errorf("hv:images[%d]: %w", i, err)
		}
		images[i].wrapper = nilIfEmpty(wrapper)
	}
	return images, nil
}

// MarshalJSON writes the list with the unknown keys it was read with.
func (l List) MarshalJSON() ([]byte, error) {
	m := clone(l.extra)
	putTime(m, "dc:date:created", l.Created)
	putTime(m, "dc:date:expires", l.Expires)
	putStrings(m, l.strings())
	m["hv:endorser"] = l.Endorser
	images := make([]any, len(l.Images))
	for i, im := range l.Images {
		images[i] = wrapIn(im.wrapper, "hv:image", im)
	}
	m["hv:images"] = images
	return json.Marshal(wrapIn(l.outerExtra, "hv:imagelist", m))
}

// UnmarshalJSON reads hv:endorser: {"hv:x509": {...}}.
func (e *Endorser) UnmarshalJSON(b []byte) error {
	outer, err := object(b, "hv:endorser")
	if err != nil {
		return err
	}
	*e = Endorser{}
	raw, ok := take(outer, "hv:x509")
	if !ok {
		e.outerKeys = nilIfEmpty(outer)
		return nil
	}
	m, err := object(raw, "hv:x509")
	if err != nil {
		return err
	}
	err = takeStrings(m, e.strings())
	e.extra, e.outerKeys = nilIfEmpty(m), nilIfEmpty(outer)
	return err
}

// MarshalJSON writes hv:endorser with its unknown keys.
func (e Endorser) MarshalJSON() ([]byte, error) {
	m := clone(e.extra)
	putStrings(m, e.strings())
	return json.Marshal(wrapIn(e.outerKeys, "hv:x509", m))
}

// UnmarshalJSON reads one hv:image object, keeping unknown keys.
func (im *ListImage) UnmarshalJSON(b []byte) error {
	m, err := object(b, "hv:image")
	if err != nil {
		return err
	}
	return im.fromMap(m)
}

func (im *ListImage) fromMap(m map[string]json.RawMessage) error {
	*im = ListImage{}
	err := errors.Join(takeInt(m, "hv:size", &im.Size), takeStrings(m, im.strings()))
	im.extra = nilIfEmpty(m)
	return err
}

// MarshalJSON writes one hv:image with its unknown keys.
func (im ListImage) MarshalJSON() ([]byte, error) {
	m := clone(im.extra)
	m["hv:size"] = im.Size
	putStrings(m, im.strings())
	return json.Marshal(m)
}

func object(b []byte, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %w", what, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s is null, not a JSON object", what)
	}
	return m, nil
}

func take(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := m[key]
	delete(m, key)
	return raw, ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// takeString accepts a JSON string, or a number as its literal text: some
// lists write hv:version as 1.
func takeString(m map[string]json.RawMessage, key string, dst *string) error {
	raw, ok := take(m, key)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err == nil {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return fmt.Errorf("%s: want a string, got %.40s", key, raw)
	}
	*dst = n.String()
	return nil
}

// takeInt accepts a JSON integer, or a string holding one.
func takeInt(m map[string]json.RawMessage, key string, dst *int64) error {
	var s string
	if err := takeString(m, key, &s); err != nil || s == "" {
		return err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: want an integer, got %q", key, s)
	}
	*dst = n
	return nil
}

func takeTime(m map[string]json.RawMessage, key string, dst *time.Time) error {
	var s string
	if err := takeString(m, key, &s); err != nil || s == "" {
		return err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("%s: want an RFC 3339 date such as 2011-03-10T17:09:12Z, got %q", key, s)
	}
	*dst = t.UTC()
	return nil
}

// keyed ties a string field to its key, so that reading and writing a
// type share one table.
type keyed struct {
	key string
	v   *string
}

func (l *List) strings() []keyed {
	return []keyed{{"dc:identifier", &l.ID}, {"dc:title", &l.Title}, {"dc:description", &l.Description},
		{"dc:source", &l.Source}, {"hv:uri", &l.URI}, {"hv:version", &l.Version}}
}

func (e *Endorser) strings() []keyed {
	return []keyed{{"dc:creator", &e.Creator}, {"hv:ca", &e.CA}, {"hv:dn", &e.DN}, {"hv:email", &e.Email}}
}

func (im *ListImage) strings() []keyed {
	return []keyed{{"dc:identifier", &im.ID}, {"dc:title", &im.Title}, {"dc:description", &im.Description},
		{"hv:uri", &im.URI}, {"hv:version", &im.Version}, {"sl:checksum:sha512", &im.SHA512},
		{"sl:checksum:sha256", &im.SHA256}, {"sl:arch", &im.Arch}, {"sl:os", &im.OS},
		{"sl:osversion", &im.OSVersion}, {"sl:comments", &im.Comments}, {"hv:hypervisor", &im.Hypervisor},
		{"hv:format", &im.Format}}
}

func takeStrings(m map[string]json.RawMessage, fields []keyed) error {
	var errs []error
	for _, f := range fields {
		errs = append(errs, takeString(m, f.key, f.v))
	}
	return errors.Join(errs...)
}

func putStrings(m map[string]any, fields []keyed) {
	for _, f := range fields {
		if *f.v != "" {
			m[f.key] = *f.v
		}
	}
}

func putTime(m map[string]any, key string, t time.Time) {
	if !t.IsZero() {
		m[key] = t.UTC().Format(dateLayout)
	}
}

// wrapIn is the object that holds v under key beside the unknown keys it was
// read with, as HEPiX lists nest each record in a one-key wrapper.
func wrapIn(extra map[string]json.RawMessage, key string, v any) map[string]any {
	m := clone(extra)
	m[key] = v
	return m
}

func clone(extra map[string]json.RawMessage) map[string]any {
	m := make(map[string]any, len(extra)+16)
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func nilIfEmpty(m map[string]json.RawMessage) map[string]json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// Fields are every key of the hv:image as text (a string as it is, another
// JSON value as written), with listID as il:dc:identifier.
func (im *ListImage) Fields(listID string) map[string]string {
	m := map[string]string{"il:dc:identifier": listID}
	for k, raw := range im.extra {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			m[k] = s
		} else {
			m[k] = string(bytes.TrimSpace(raw))
		}
	}
	for _, f := range im.strings() {
		if *f.v != "" {
			m[f.key] = *f.v
		}
	}
	m["hv:size"] = strconv.FormatInt(im.Size, 10)
	return m
}
