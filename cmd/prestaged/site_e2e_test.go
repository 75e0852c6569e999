package main_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHookSeesEndorsedFields: a vmcatcher-style handler run as a hook of an
// endorsed image reads the list's fields under vmcatcher's names.
func TestHookSeesEndorsedFields(t *testing.T) {
	s, vm, l, spec := publishedVM(t, 51, "")
	env := s.path("hook.env")
	handler := s.path("handler.sh")
	if err := os.WriteFile(handler, []byte("#!/bin/sh\nenv | grep ^VMCATCHER_EVENT_ | sort > "+env+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	editSpec(t, spec, func(text string) string {
		return text + fmt.Sprintf("\nhook \"register\" {\n  command = [%q]\n}\n", handler)
	})
	mustApply(t, spec, 2)
	b, err := os.ReadFile(env)
	if err != nil {
		t.Fatalf("the hook did not run: %v", err)
	}
	got := string(b)
	for _, want := range []string{
		"VMCATCHER_EVENT_TYPE=AvailablePostfix",
		"VMCATCHER_EVENT_DC_IDENTIFIER=vm",
		"VMCATCHER_EVENT_IL_DC_IDENTIFIER=" + e2eListID,
		"VMCATCHER_EVENT_SL_CHECKSUM_SHA512=" + l.Images[0].SHA512,
		"VMCATCHER_EVENT_HV_URI=" + l.Images[0].URI,
		"VMCATCHER_EVENT_FILENAME=" + s.path("images", "vm.img"),
		fmt.Sprintf("VMCATCHER_EVENT_HV_SIZE=%d", len(vm.content)),
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("the handler's environment lacks %s:\n%s", want, got)
		}
	}
}

// TestSubscribeToList: a trust that subscribes installs each image of a
// three-image list at install_dir/<id>, and removes the one a newer list
// drops.
func TestSubscribeToList(t *testing.T) {
	s := newSubscriber(t)
	var images []img
	for i, id := range []string{"alpha", "beta", "gamma"} {
		images = append(images, img{name: id, content: randomBytes(32<<10, uint64(60+i))})
	}
	l := s.newList(images...)
	s.publish(s.pki.valid(t, l, "1"))
	dir := s.path("datastore")
	spec := s.spec("")
	editSpec(t, spec, func(text string) string {
		return strings.Replace(text, "  endorser_ca", fmt.Sprintf("  subscribe   = true\n  install_dir = %q\n  endorser_ca", dir), 1)
	})
	mustApply(t, spec, 2)
	for _, im := range images {
		if got, _ := os.ReadFile(filepath.Join(dir, im.name)); !bytes.Equal(got, im.content) {
			t.Errorf("%s not installed at %s", im.name, filepath.Join(dir, im.name))
		}
	}
	l.Images = l.Images[:2] // the endorser drops gamma
	s.publish(s.pki.valid(t, l, "2"))
	mustApply(t, spec, 2)
	if _, err := os.Stat(filepath.Join(dir, "gamma")); err == nil {
		t.Errorf("gamma, dropped from the list, is still installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "alpha")); err != nil {
		t.Errorf("alpha, still listed, is gone: %v", err)
	}
}
